//! Every shader parses and validates with naga (no GPU needed, `Capabilities::empty()` so
//! nothing depends on optional features), and matches the Rust side: entry points named like
//! the twin's functions, `@workgroup_size(64)` (16 × 16 for the watershed's tiles), bindings per entry point equal to the host's
//! `ENTRY_POINTS` table (binding `i` = twin parameter `i`), and each uniform struct's layout equal
//! to its `#[repr(C)]` Rust twin (and the pair histogram's table layout constants to the host's).

use std::mem::{offset_of, size_of};

use floodseg::gpu::{self, Access, EntryPoint};
use floodseg::shaders;

fn parse(stage: &str, src: &str) -> (naga::Module, naga::valid::ModuleInfo) {
    let module = naga::front::wgsl::parse_str(src)
        .unwrap_or_else(|e| panic!("shaders/{stage}.wgsl: {}", e.emit_to_string(src)));
    let info = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::empty(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("shaders/{stage}.wgsl: {}", e.emit_to_string(src)));
    (module, info)
}

/// Per stage: the host's entry-point table, the twin's function names (in `src/cpu/<stage>.rs`),
/// the uniform struct's WGSL name and its Rust layout `(member, offset)` + size.
struct Expect {
    stage: &'static str,
    table: &'static [EntryPoint],
    twin_functions: &'static [&'static str],
    uniform: &'static str,
    members: Vec<(&'static str, usize)>,
    size: usize,
}

fn expectations() -> Vec<Expect> {
    use gpu::background::BackgroundUniforms as Bg;
    use gpu::components::CcUniforms as C;
    use gpu::distance::DistUniforms as D;
    use gpu::filter::FilterUniforms as F;
    use gpu::gather::GatherUniforms as Ga;
    use gpu::gray::GrayUniforms as G;
    use gpu::maxima::MaximaUniforms as Mx;
    use gpu::measure::MeasureUniforms as Me;
    use gpu::opening::MorphUniforms as M;
    use gpu::pairs::PairsUniforms as Pa;
    use gpu::peaks::PeaksUniforms as P;
    use gpu::scan::ScanUniforms as S;
    use gpu::smooth::SmoothUniforms as Sm;
    use gpu::threshold::ThresholdUniforms as T;
    use gpu::watershed::WsUniforms as W;
    vec![
        Expect {
            stage: "gray",
            table: gpu::gray::ENTRY_POINTS,
            twin_functions: &["gray", "gray_threshold"],
            uniform: "GrayParams",
            members: vec![
                ("width", offset_of!(G, width)),
                ("height", offset_of!(G, height)),
                ("channels", offset_of!(G, channels)),
                ("is_float", offset_of!(G, is_float)),
                ("mode", offset_of!(G, mode)),
                ("bound", offset_of!(G, bound)),
                ("_pad0", offset_of!(G, _pad0)),
                ("_pad1", offset_of!(G, _pad1)),
            ],
            size: size_of::<G>(),
        },
        Expect {
            stage: "threshold",
            table: gpu::threshold::ENTRY_POINTS,
            twin_functions: &["threshold", "threshold_histogram"],
            uniform: "ThresholdParams",
            members: vec![
                ("width", offset_of!(T, width)),
                ("height", offset_of!(T, height)),
                ("mode", offset_of!(T, mode)),
                ("bound", offset_of!(T, bound)),
            ],
            size: size_of::<T>(),
        },
        Expect {
            stage: "opening",
            table: gpu::opening::ENTRY_POINTS,
            twin_functions: &["erode", "dilate", "open1"],
            uniform: "MorphParams",
            members: vec![
                ("width", offset_of!(M, width)),
                ("height", offset_of!(M, height)),
                ("y0", offset_of!(M, y0)),
                ("x0", offset_of!(M, x0)),
                ("y1", offset_of!(M, y1)),
                ("x1", offset_of!(M, x1)),
                ("square", offset_of!(M, square)),
                ("_pad", offset_of!(M, _pad)),
            ],
            size: size_of::<M>(),
        },
        Expect {
            stage: "distance",
            table: gpu::distance::ENTRY_POINTS,
            twin_functions: &["edt_cols", "edt_rows", "jfa_init", "jfa_step", "jfa_finish"],
            uniform: "DistParams",
            members: vec![
                ("width", offset_of!(D, width)),
                ("height", offset_of!(D, height)),
                ("step", offset_of!(D, step)),
                ("_pad", offset_of!(D, _pad)),
            ],
            size: size_of::<D>(),
        },
        Expect {
            stage: "components",
            table: gpu::components::ENTRY_POINTS,
            twin_functions: &["cc_init", "cc_merge", "cc_renumber"],
            uniform: "CcParams",
            members: vec![
                ("width", offset_of!(C, width)),
                ("height", offset_of!(C, height)),
                ("diagonal", offset_of!(C, diagonal)),
                ("_pad", offset_of!(C, _pad)),
            ],
            size: size_of::<C>(),
        },
        Expect {
            // The passes of the twin's `cpu::components::scan_exclusive`.
            stage: "scan",
            table: gpu::scan::ENTRY_POINTS,
            twin_functions: &["scan_blocks", "scan_add"],
            uniform: "ScanParams",
            members: vec![
                ("len", offset_of!(S, len)),
                ("roots", offset_of!(S, roots)),
                ("_pad1", offset_of!(S, _pad1)),
                ("_pad2", offset_of!(S, _pad2)),
            ],
            size: size_of::<S>(),
        },
        Expect {
            stage: "watershed",
            table: gpu::watershed::ENTRY_POINTS,
            twin_functions: &[
                "ws_altitude",
                "ws_start",
                "ws_cost",
                "ws_cost_tile",
                "ws_label",
                "ws_label_tile",
                "ws_output",
            ],
            uniform: "WsParams",
            members: vec![
                ("width", offset_of!(W, width)),
                ("height", offset_of!(W, height)),
                ("alt_dark", offset_of!(W, alt_dark)),
                ("alt_key_max", offset_of!(W, alt_key_max)),
                ("phase", offset_of!(W, phase)),
                ("_pad0", offset_of!(W, _pad0)),
                ("_pad1", offset_of!(W, _pad1)),
                ("_pad2", offset_of!(W, _pad2)),
            ],
            size: size_of::<W>(),
        },
        Expect {
            stage: "peaks",
            table: gpu::peaks::ENTRY_POINTS,
            // peaks_roi_erode / peaks_roi_dilate: cpu::opening::erode / dilate with rect = ROI
            twin_functions: &[
                "peaks_bounds",
                "peaks_max_rows",
                "peaks_candidates",
                "peaks_isolated_open",
                "peaks_space",
                "peaks_space_tile",
            ],
            uniform: "PeaksParams",
            members: vec![
                ("width", offset_of!(P, width)),
                ("height", offset_of!(P, height)),
                ("min_distance", offset_of!(P, min_distance)),
                ("footprint", offset_of!(P, footprint)),
                ("border", offset_of!(P, border)),
                ("phase", offset_of!(P, phase)),
                ("_pad1", offset_of!(P, _pad1)),
                ("_pad2", offset_of!(P, _pad2)),
            ],
            size: size_of::<P>(),
        },
        Expect {
            stage: "maxima",
            table: gpu::maxima::ENTRY_POINTS,
            twin_functions: &[
                "maxima_height",
                "maxima_reconstruct",
                "maxima_flag_init",
                "maxima_flag_spread",
                "maxima_output",
            ],
            uniform: "MaximaParams",
            members: vec![
                ("width", offset_of!(Mx, width)),
                ("height", offset_of!(Mx, height)),
                ("h_half", offset_of!(Mx, h_half)),
                ("border", offset_of!(Mx, border)),
                ("phase", offset_of!(Mx, phase)),
                ("_pad0", offset_of!(Mx, _pad0)),
                ("_pad1", offset_of!(Mx, _pad1)),
                ("_pad2", offset_of!(Mx, _pad2)),
            ],
            size: size_of::<Mx>(),
        },
        Expect {
            stage: "measure",
            table: gpu::measure::ENTRY_POINTS,
            twin_functions: &["measure_sums"],
            uniform: "MeasureParams",
            members: vec![
                ("width", offset_of!(Me, width)),
                ("height", offset_of!(Me, height)),
                ("n_objects", offset_of!(Me, n_objects)),
                ("sums_at", offset_of!(Me, sums_at)),
            ],
            size: size_of::<Me>(),
        },
        Expect {
            stage: "smooth",
            table: gpu::smooth::ENTRY_POINTS,
            twin_functions: &["smooth_rows", "smooth_cols"],
            uniform: "SmoothParams",
            members: vec![
                ("width", offset_of!(Sm, width)),
                ("height", offset_of!(Sm, height)),
                ("passes", offset_of!(Sm, passes)),
                ("_pad", offset_of!(Sm, _pad)),
            ],
            size: size_of::<Sm>(),
        },
        Expect {
            stage: "background",
            table: gpu::background::ENTRY_POINTS,
            twin_functions: &["window_rows", "window_cols", "subtract"],
            uniform: "BackgroundParams",
            members: vec![
                ("width", offset_of!(Bg, width)),
                ("height", offset_of!(Bg, height)),
                ("radius", offset_of!(Bg, radius)),
                ("dark", offset_of!(Bg, dark)),
                ("key_max", offset_of!(Bg, key_max)),
                ("take_max", offset_of!(Bg, take_max)),
                ("_pad0", offset_of!(Bg, _pad0)),
                ("_pad1", offset_of!(Bg, _pad1)),
            ],
            size: size_of::<Bg>(),
        },
        Expect {
            stage: "filter",
            table: gpu::filter::ENTRY_POINTS,
            twin_functions: &["filter_relabel"],
            uniform: "FilterParams",
            members: vec![
                ("width", offset_of!(F, width)),
                ("height", offset_of!(F, height)),
                ("table_len", offset_of!(F, table_len)),
                ("_pad", offset_of!(F, _pad)),
            ],
            size: size_of::<F>(),
        },
        Expect {
            // readback plumbing (`cpu::gather`)
            stage: "gather",
            table: gpu::gather::ENTRY_POINTS,
            twin_functions: &["gather_words"],
            uniform: "GatherParams",
            members: vec![
                ("len0", offset_of!(Ga, len0)),
                ("len1", offset_of!(Ga, len1)),
                ("len2", offset_of!(Ga, len2)),
                ("len3", offset_of!(Ga, len3)),
                ("len4", offset_of!(Ga, len4)),
                ("len5", offset_of!(Ga, len5)),
                ("len6", offset_of!(Ga, len6)),
                ("_pad", offset_of!(Ga, _pad)),
            ],
            size: size_of::<Ga>(),
        },
        Expect {
            stage: "pairs",
            table: gpu::pairs::ENTRY_POINTS,
            twin_functions: &["pair_histogram"],
            uniform: "PairsParams",
            members: vec![
                ("width", offset_of!(Pa, width)),
                ("rows", offset_of!(Pa, rows)),
                ("cols", offset_of!(Pa, cols)),
                ("chunk", offset_of!(Pa, chunk)),
                ("cur_y0", offset_of!(Pa, cur_y0)),
                ("cur_x0", offset_of!(Pa, cur_x0)),
                ("prev_y0", offset_of!(Pa, prev_y0)),
                ("prev_x0", offset_of!(Pa, prev_x0)),
                ("chunks_per_row", offset_of!(Pa, chunks_per_row)),
                ("mask", offset_of!(Pa, mask)),
                ("max_probes", offset_of!(Pa, max_probes)),
                ("_pad", offset_of!(Pa, _pad)),
            ],
            size: size_of::<Pa>(),
        },
    ]
}

fn expect(stage: &str) -> Expect {
    expectations()
        .into_iter()
        .find(|e| e.stage == stage)
        .unwrap_or_else(|| panic!("shaders::ALL has {stage}, but this test does not know it"))
}

#[test]
fn every_shader_parses_and_validates() {
    assert!(!shaders::ALL.is_empty());
    for (stage, src) in shaders::ALL {
        parse(stage, src);
    }
}

#[test]
fn every_stage_is_listed_in_shaders_all() {
    let listed: Vec<&str> = shaders::ALL.iter().map(|(s, _)| *s).collect();
    for e in expectations() {
        assert!(
            listed.contains(&e.stage),
            "{} missing from shaders::ALL",
            e.stage
        );
    }
}

#[test]
fn shaders_entry_points_are_the_twin_functions() {
    for (stage, src) in shaders::ALL {
        let (module, _) = parse(stage, src);
        let e = expect(stage);
        let mut names: Vec<&str> = module
            .entry_points
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        names.sort();
        let mut twin: Vec<&str> = e.twin_functions.to_vec();
        twin.sort();
        assert_eq!(names, twin, "{stage}: entry points vs twin functions");
        let mut table: Vec<&str> = e.table.iter().map(|(n, _)| *n).collect();
        table.sort();
        assert_eq!(
            names, table,
            "{stage}: entry points vs the host's ENTRY_POINTS"
        );
        for p in &module.entry_points {
            assert_eq!(p.stage, naga::ShaderStage::Compute, "{stage}.{}", p.name);
            // The two-dimensional kernels: the watershed's and the spacing walk's tiles (their
            // hosts dispatch a grid of tiles, `gpu::watershed::tile_groups`); the scan's blocks (one workgroup of
            // 256 per block of `SCAN_BLOCK`, dispatched by `gpu::scan::scan_blocks`).
            let tile = floodseg::cpu::watershed::TILE as u32;
            let tiled = ["ws_cost_tile", "ws_label_tile"];
            let tiled_peaks = *stage == "peaks" && p.name == "peaks_space_tile";
            assert_eq!(floodseg::cpu::peaks::TILE as u32, tile, "one tile size");
            let want = if *stage == "watershed" && tiled.contains(&p.name.as_str()) || tiled_peaks {
                [tile, tile, 1]
            } else if *stage == "scan" && p.name == "scan_blocks" {
                [gpu::scan::SCAN_BLOCK / 4, 1, 1]
            } else {
                [gpu::WORKGROUP_SIZE, 1, 1]
            };
            assert_eq!(p.workgroup_size, want, "{stage}.{}: workgroup size", p.name);
        }
    }
}

#[test]
fn shaders_bindings_match_the_host_tables() {
    for (stage, src) in shaders::ALL {
        let (module, info) = parse(stage, src);
        let e = expect(stage);
        for (index, ep) in module.entry_points.iter().enumerate() {
            let fi = info.get_entry_point(index);
            let mut used: Vec<(u32, Access)> = Vec::new();
            for (handle, var) in module.global_variables.iter() {
                if fi[handle].is_empty() {
                    continue;
                }
                let Some(b) = &var.binding else { continue };
                assert_eq!(b.group, 0, "{stage}.{}: group", ep.name);
                let access = match var.space {
                    naga::AddressSpace::Uniform => Access::Uniform,
                    naga::AddressSpace::Storage { access } => {
                        if access.contains(naga::StorageAccess::STORE) {
                            Access::ReadWrite
                        } else {
                            Access::Read
                        }
                    }
                    other => panic!("{stage}.{}: unexpected address space {other:?}", ep.name),
                };
                used.push((b.binding, access));
            }
            used.sort_by_key(|(b, _)| *b);
            let (_, want) = e
                .table
                .iter()
                .find(|(n, _)| *n == ep.name)
                .unwrap_or_else(|| panic!("{stage}.{} not in ENTRY_POINTS", ep.name));
            let want: Vec<(u32, Access)> = want
                .iter()
                .enumerate()
                .map(|(i, a)| (i as u32, *a))
                .collect();
            assert_eq!(
                used, want,
                "{stage}.{}: bindings used by the shader",
                ep.name
            );
            assert!(
                want.iter().filter(|(_, a)| *a != Access::Uniform).count()
                    <= gpu::REQUIRED_STORAGE_BUFFERS as usize,
                "{stage}.{}: too many storage buffers",
                ep.name
            );
        }
    }
}

#[test]
fn shaders_uniform_structs_match_repr_c() {
    for (stage, src) in shaders::ALL {
        let (module, _) = parse(stage, src);
        let e = expect(stage);
        let ty = module
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some(e.uniform))
            .map(|(_, t)| t)
            .unwrap_or_else(|| panic!("{stage}: no struct {}", e.uniform));
        let naga::TypeInner::Struct { members, span } = &ty.inner else {
            panic!("{stage}: {} is not a struct", e.uniform)
        };
        let got: Vec<(&str, usize)> = members
            .iter()
            .map(|m| (m.name.as_deref().unwrap_or(""), m.offset as usize))
            .collect();
        assert_eq!(got, e.members, "{stage}: {} member offsets", e.uniform);
        assert_eq!(*span as usize, e.size, "{stage}: {} size", e.uniform);
        // Every member is a u32 (exact stages: integers only).
        for m in members {
            assert!(
                matches!(
                    module.types[m.ty].inner,
                    naga::TypeInner::Scalar(naga::Scalar {
                        kind: naga::ScalarKind::Uint,
                        width: 4
                    })
                ),
                "{stage}: {}.{:?} is not u32",
                e.uniform,
                m.name
            );
        }
    }
}

/// A WGSL `const` of `module` (a `u32` literal).
fn const_u32(module: &naga::Module, name: &str) -> Option<u32> {
    let (_, c) = module
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some(name))?;
    match module.global_expressions[c.init] {
        naga::Expression::Literal(naga::Literal::U32(v)) => Some(v),
        _ => None,
    }
}

/// The pair histogram's table layout: the shader's constants are the host's.
#[test]
fn pairs_table_layout_matches_the_host() {
    let (module, _) = parse("pairs", shaders::PAIRS);
    for (name, host) in [
        ("HEADER", gpu::pairs::HEADER),
        ("OVERFLOW", gpu::pairs::OVERFLOW),
        ("SLOT_WORDS", gpu::pairs::SLOT_WORDS),
    ] {
        assert_eq!(
            const_u32(&module, name),
            Some(host as u32),
            "shaders/pairs.wgsl: const {name} vs gpu::pairs::{name}"
        );
    }
}

/// The tiled sweeps' constants (shaders/tile_sweep.wgsl, appended to the watershed and peaks
/// modules) are their twins'.
#[test]
fn tiled_sweeps_match_their_twins() {
    use floodseg::cpu::{peaks, watershed};
    for (stage, src) in [("watershed", shaders::WATERSHED), ("peaks", shaders::PEAKS)] {
        let (module, _) = parse(stage, src);
        for (name, twin) in [
            ("TILE", watershed::TILE as u32),
            ("TILE_ITERS", watershed::TILE_ITERS as u32),
            ("SWEEP_AGAIN", watershed::SWEEP_AGAIN),
            ("SWEEP_CHANGED", watershed::SWEEP_CHANGED),
        ] {
            assert_eq!(
                const_u32(&module, name),
                Some(twin),
                "{stage}: const {name}"
            );
        }
    }
    assert_eq!(
        (peaks::TILE, peaks::TILE_ITERS),
        (watershed::TILE, watershed::TILE_ITERS)
    );
    assert_eq!(
        (gpu::sweeps::AGAIN, gpu::sweeps::CHANGED),
        (watershed::SWEEP_AGAIN, watershed::SWEEP_CHANGED)
    );
}
