//! Stage **peaks**: the GPU (`shaders/peaks.wgsl`, `floodseg::gpu::peaks`) equals its CPU twin
//! (`cpu::peaks::peaks_rounds`, itself equal to `cpu::peaks::peaks`) byte for byte: on every
//! fixture's stage inputs, on seeded random masks at sizes that break index arithmetic, and on
//! the stage's special cases (min_distance 0/1/2/5/10, footprints 1/2/3/4/7/10/default,
//! plateaus, thin lines — the "trivial image" branch —, border objects, one-pixel and empty
//! ROI, all-foreground). Single passes are held against the twin's functions too, including the
//! ROI opening (`peaks_roi_erode`/`peaks_roi_dilate` vs `cpu::opening::erode`/`dilate`).

use crate::common;
use crate::common::{random_mask, MaskKind, Rng, SIZES};

use floodseg::cpu::distance::DistanceMode;
use floodseg::cpu::opening::{MorphParams, Structure};
use floodseg::cpu::peaks::{self as cp, PeaksParams, BOUNDS_INIT};
use floodseg::cpu::{self, Dims, Rect};
use floodseg::gpu::{self, GpuContext};

fn params(w: usize, h: usize, m: u32, s: Option<u32>) -> PeaksParams {
    PeaksParams {
        dims: Dims::new(w, h),
        min_distance: m,
        footprint: s.unwrap_or(2 * m + 1),
        border: m,
    }
}

/// Twin (rounds) == twin (greedy) == GPU on one input; returns the number of batches.
fn check(ctx: &GpuContext, case: &str, p: &PeaksParams, mask: &[u32], d2: &[u32]) -> u32 {
    let w = p.dims.width as usize;
    let want = cp::peaks_rounds(p, mask, d2);
    common::assert_same(case, "peaks-greedy", w, &cp::peaks(p, mask, d2), &want);
    let (got, batches) = gpu::peaks::run_peaks_counted(ctx, p, mask, d2)
        .unwrap_or_else(|e| panic!("{case}: peaks: {e}"));
    common::assert_same(case, "peaks", w, &got, &want);
    batches
}

/// Check with the exact distance of `mask` (phantom point when all-foreground).
fn check_mask(ctx: &GpuContext, case: &str, p: &PeaksParams, mask: &[u32]) -> u32 {
    let d2 = cpu::distance::distance(p.dims, DistanceMode::Exact, mask);
    check(ctx, case, p, mask, &d2)
}

/// The twin's trivial-image flag (flag == 0 and not all candidates) for `mask`.
fn takes_trivial_branch(p: &PeaksParams, mask: &[u32], d2: &[u32]) -> bool {
    let n = p.dims.len();
    let mut b = BOUNDS_INIT;
    cp::peaks_bounds(p, mask, d2, &mut b);
    if cp::roi_of(&b).is_empty() {
        return false;
    }
    let (mut hmax, mut state) = (vec![0; n], vec![0; n]);
    cp::peaks_max_rows(p, mask, d2, &b, &mut hmax);
    let mut flag = 0;
    cp::peaks_candidates(p, mask, d2, &hmax, &b, &mut state, &mut flag);
    flag == 0 && !cp::all_are_candidates(p, &b)
}

#[test]
fn peaks_gpu_equals_cpu_on_fixtures() {
    let Some(ctx) = common::gpu() else { return };
    let cases = common::fixture_cases();
    assert!(!cases.is_empty(), "no fixtures found");
    let mut batches = Vec::new();
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let args = std::fs::read_to_string(case.join("args.txt")).unwrap();
        let prm = common::parse_args(&args);
        let img = floodseg::io::read_image(&common::fixture_input(&case))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let st = floodseg::pipeline::segment_cpu(&img, &prm).unwrap();
        let p = PeaksParams {
            dims: st.dims,
            min_distance: prm.min_distance,
            footprint: prm.footprint_size(),
            border: prm.min_distance,
        };
        batches.push(check(ctx, &name, &p, &st.opened, &st.distance2));
        // the stage's recorded output (scikit-image) too
        let (_, _, want) = common::read_tiff_u32(&case.join("peaks.tif"));
        let want: Vec<u32> = want.iter().map(|&v| (v != 0) as u32).collect();
        let got = gpu::peaks::run_peaks(ctx, &p, &st.opened, &st.distance2).unwrap();
        common::assert_same(&name, "peaks-fixture", st.dims.width as usize, &got, &want);
    }
    batches.sort();
    eprintln!("peaks fixtures: batches of spacing rounds per case (sorted): {batches:?}");
}

#[test]
fn peaks_gpu_equals_cpu_random() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(5);
    let kinds = [
        MaskKind::Empty,
        MaskKind::Full,
        MaskKind::Noise(30),
        MaskKind::Noise(85),
        MaskKind::Blobs,
    ];
    for &(w, h) in SIZES {
        for kind in kinds {
            let mask = random_mask(kind, w, h, &mut rng);
            for (m, s) in [(0, None), (1, Some(3)), (2, Some(4)), (3, None)] {
                let p = params(w, h, m, s);
                let case = format!("random_{w}x{h}_{kind:?}_m{m}_s{}", p.footprint);
                check_mask(ctx, &case, &p, &mask);
            }
        }
    }
    // random d2 values (many ties, arbitrary order) rather than true distances
    for &(w, h) in SIZES {
        let mask = random_mask(MaskKind::Noise(70), w, h, &mut rng);
        let d2: Vec<u32> = (0..w * h)
            .map(|i| mask[i] * (1 + rng.below(4) as u32))
            .collect();
        for (m, s) in [(2, Some(1)), (2, Some(3)), (4, None)] {
            let p = params(w, h, m, s);
            check(ctx, &format!("randd2_{w}x{h}_m{m}"), &p, &mask, &d2);
        }
    }
}

#[test]
fn peaks_min_distance_and_footprints() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(7);
    let (w, h) = (61, 47);
    let mask = random_mask(MaskKind::Blobs, w, h, &mut rng);
    for m in [0u32, 1, 2, 5, 10] {
        for s in [Some(1), Some(2), Some(3), Some(4), Some(7), Some(10), None] {
            let p = params(w, h, m, s);
            check_mask(ctx, &format!("blobs_m{m}_s{}", p.footprint), &p, &mask);
        }
    }
}

/// Rectangles: plateaus of tied maxima and long chains of spacing decisions.
#[test]
fn peaks_plateaus() {
    let Some(ctx) = common::gpu() else { return };
    let (w, h) = (90, 40);
    let mut mask = vec![0u32; w * h];
    let mut put = |y0: usize, x0: usize, y1: usize, x1: usize| {
        for y in y0..=y1 {
            for x in x0..=x1 {
                mask[y * w + x] = 1;
            }
        }
    };
    put(3, 2, 9, 80); // 7 rows: a 1-row plateau of length ≈ 73
    put(14, 5, 17, 60); // 4 rows: a 2-row plateau
    put(22, 3, 36, 40); // square-ish
    put(22, 50, 38, 89); // touching the right border
    let mut max_batches = 0;
    for m in [1u32, 2, 3, 5] {
        for s in [Some(1), Some(3), Some(4), None] {
            let p = params(w, h, m, s);
            let b = check_mask(ctx, &format!("plateau_m{m}_s{}", p.footprint), &p, &mask);
            max_batches = max_batches.max(b);
        }
    }
    // a plateau of constant d2 (one long tie chain in raster order)
    let d2: Vec<u32> = mask.clone();
    for m in [2u32, 3] {
        let p = params(w, h, m, Some(1));
        let b = check(ctx, &format!("flat_m{m}"), &p, &mask, &d2);
        max_batches = max_batches.max(b);
    }
    eprintln!("peaks_plateaus: at most {max_batches} batch(es) of spacing rounds");
}

/// 1–2 px wide lines: every mask pixel is its own window maximum, the twin's "trivial image"
/// branch (opening of the ROI).
#[test]
fn peaks_thin_lines_trivial_branch() {
    let Some(ctx) = common::gpu() else { return };
    let (w, h) = (40, 30);
    let mut mask = vec![0u32; w * h];
    for x in 3..35 {
        mask[5 * w + x] = 1; // 1 px horizontal
        mask[20 * w + x] = 1; // 2 px horizontal
        mask[21 * w + x] = 1;
    }
    for y in 8..18 {
        mask[y * w + 10] = 1; // 1 px vertical
    }
    // a 3×3 square: removed by neither erosion nor the lines' rule
    for y in 10..13 {
        for x in 20..23 {
            mask[y * w + x] = 1;
        }
    }
    let d2 = cpu::distance::distance(Dims::new(w, h), DistanceMode::Exact, &mask);
    let mut trivial = 0;
    for m in [0u32, 1, 2, 3] {
        for s in [Some(2), Some(3), None] {
            let p = params(w, h, m, s);
            trivial += takes_trivial_branch(&p, &mask, &d2) as u32;
            check(ctx, &format!("lines_m{m}_s{}", p.footprint), &p, &mask, &d2);
        }
    }
    // lines only (without the square): the trivial branch for sure
    let lines: Vec<u32> = (0..w * h)
        .map(|i| mask[i] * !(10..13).contains(&(i / w)) as u32)
        .collect();
    let d2 = cpu::distance::distance(Dims::new(w, h), DistanceMode::Exact, &lines);
    for m in [1u32, 2] {
        for s in [Some(2), Some(3)] {
            let p = params(w, h, m, s);
            trivial += takes_trivial_branch(&p, &lines, &d2) as u32;
            check(
                ctx,
                &format!("lines_only_m{m}_s{}", p.footprint),
                &p,
                &lines,
                &d2,
            );
        }
    }
    assert!(trivial > 0, "no case took the trivial-image branch");
}

#[test]
fn peaks_border_roi_and_full() {
    let Some(ctx) = common::gpu() else { return };
    let (w, h) = (33, 27);
    // objects touching the border
    let mut mask = vec![0u32; w * h];
    for y in 0..h {
        for x in 0..w {
            let c1 = (y as i64).pow(2) + (x as i64).pow(2) <= 100;
            let c2 = (y as i64 - 26).pow(2) + (x as i64 - 20).pow(2) <= 49;
            let c3 = x >= 28 && (5..15).contains(&y);
            mask[y * w + x] = (c1 || c2 || c3) as u32;
        }
    }
    for m in [0u32, 1, 2, 5, 10] {
        for s in [Some(1), Some(4), None] {
            let p = params(w, h, m, s);
            check_mask(ctx, &format!("border_m{m}_s{}", p.footprint), &p, &mask);
        }
    }
    // one-pixel ROI: a single mask pixel at least m from every edge (plus some outside it)
    for m in [0u32, 1, 3] {
        let mut one = vec![0u32; w * h];
        one[13 * w + 16] = 1;
        if m > 0 {
            one[0] = 1; // outside the ROI (border)
            one[(h - 1) * w + w - 1] = 1;
        }
        for s in [Some(1), Some(3), None] {
            let p = params(w, h, m, s);
            check_mask(ctx, &format!("roi1_m{m}_s{}", p.footprint), &p, &one);
        }
    }
    // one-pixel ROI of a bigger object: only its centre row/col lies inside the border
    let p = params(9, 9, 4, None);
    check_mask(ctx, "roi1_full9x9_m4", &p, &[1; 81]);
    // empty ROI: mask only within the border, or the border eats the whole image
    let mut edge = vec![0u32; w * h];
    for x in 0..w {
        edge[x] = 1;
        edge[w + x] = 1;
    }
    for (m, s) in [(2u32, None), (2, Some(1)), (5, Some(3))] {
        let p = params(w, h, m, s);
        let b = check_mask(ctx, &format!("empty_roi_m{m}"), &p, &edge);
        assert_eq!(b, 1, "empty ROI: one batch");
        let got = gpu::peaks::run_peaks(ctx, &p, &edge, &edge).unwrap();
        assert!(got.iter().all(|&v| v == 0), "empty ROI must give no peaks");
    }
    let p = params(w, h, 20, None);
    check_mask(ctx, "empty_roi_m20", &p, &vec![1; w * h]);
    // all-foreground (phantom-point distances) and empty
    for (fw, fh) in [(1, 1), (19, 23), (64, 64)] {
        for m in [0u32, 1, 3] {
            for s in [Some(1), Some(4), None] {
                let p = params(fw, fh, m, s);
                let tag = format!("{fw}x{fh}_m{m}_s{}", p.footprint);
                check_mask(ctx, &format!("full_{tag}"), &p, &vec![1; fw * fh]);
                check_mask(ctx, &format!("empty_{tag}"), &p, &vec![0; fw * fh]);
            }
        }
    }
}

fn read(ctx: &GpuContext, b: &gpu::wgpu::Buffer, len: usize) -> Vec<u32> {
    ctx.run_and_read("test.peaks.read", len, |_| Ok(b.clone()))
        .unwrap()
}

/// Each pass alone vs its twin function (bounds, row maxima, candidates + flag, the ROI opening
/// with its isolated candidates, one spacing round + changed), and the 0/1 output the states
/// are once the walk ends.
#[test]
fn peaks_passes_equal_twin_functions() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(11);
    for &(w, h) in SIZES {
        for kind in [MaskKind::Blobs, MaskKind::Noise(85), MaskKind::Full] {
            let mask = random_mask(kind, w, h, &mut rng);
            let dims = Dims::new(w, h);
            let n = dims.len();
            let d2 = cpu::distance::distance(dims, DistanceMode::Exact, &mask);
            for (m, s) in [(0u32, 1u32), (1, 3), (2, 4), (3, 7)] {
                let p = PeaksParams {
                    dims,
                    min_distance: m,
                    footprint: s,
                    border: m,
                };
                let case = format!("pass_{w}x{h}_{kind:?}_m{m}_s{s}");
                // twin
                let mut tb = BOUNDS_INIT;
                cp::peaks_bounds(&p, &mask, &d2, &mut tb);
                let (mut th, mut ts) = (vec![0; n], vec![0; n]);
                cp::peaks_max_rows(&p, &mask, &d2, &tb, &mut th);
                let mut tflag = 0;
                cp::peaks_candidates(&p, &mask, &d2, &th, &tb, &mut ts, &mut tflag);
                let mp = MorphParams::new(dims, cp::roi_of(&tb), Structure::Cross);
                let (mut te, mut td) = (vec![0; n], vec![0; n]);
                cpu::opening::erode(&mp, &mask, &mut te);
                cpu::opening::dilate(&mp, &te, &mut td);
                let mut tiso = ts.clone();
                if tflag == 0 && !cp::all_are_candidates(&p, &tb) {
                    cp::peaks_isolated(&p, &mask, &d2, &td, &tb, &mut tiso);
                }
                // the GPU's one-pass entry point's twin is that composition
                let mut tio = ts.clone();
                cp::peaks_isolated_open(&p, &mask, &d2, &tb, &mut tio, tflag);
                common::assert_same(&case, "peaks_isolated_open twin", w, &tio, &tiso);
                let (mut tnext, mut tchanged) = (vec![0; n], 0);
                cp::peaks_space(&p, &d2, &tiso, &mut tnext, &mut tchanged);

                // GPU, pass by pass
                let gm = ctx.storage_init("test.mask", &mask);
                let gd = ctx.storage_init("test.d2", &d2);
                // the caller's word before the bounds holds something the stage must keep
                let mut binit = gpu::peaks::BOUNDS_BUFFER_INIT;
                binit[0] = 0x1234_5678;
                let gb = ctx.storage_init("test.bounds", &binit);
                let gh = ctx.storage("test.hmax", n);
                let gs = ctx.storage("test.state", n);
                // a flag left set: peaks_bounds zeroes it
                let gf = ctx.storage_init("test.flag", &[7]);
                let gn = ctx.storage("test.next", n);
                let gc = gpu::sweeps::standalone_flags(ctx);
                let mut enc = ctx.encoder("test.peaks");
                use gpu::peaks as g;
                g::peaks_bounds(ctx, &mut enc, &p, &gm, &gd, &gb, &gf);
                g::peaks_max_rows(ctx, &mut enc, &p, &gm, &gd, &gb, &gh);
                g::peaks_candidates(ctx, &mut enc, &p, &gm, &gd, &gh, &gb, &gs, &gf);
                ctx.queue().submit([enc.finish()]);
                let b = read(ctx, &gb, gpu::peaks::BOUNDS_AT + 5);
                assert_eq!(b[0], 0x1234_5678, "{case}: the caller's word is left alone");
                assert_eq!(b[gpu::peaks::BOUNDS_AT..], tb, "{case}: peaks_bounds");
                common::assert_same(&case, "peaks_max_rows", w, &read(ctx, &gh, n), &th);
                common::assert_same(&case, "peaks_candidates", w, &read(ctx, &gs, n), &ts);
                assert_eq!(read(ctx, &gf, 1), vec![tflag], "{case}: candidates flag");
                let mut enc = ctx.encoder("test.peaks");
                g::peaks_isolated_open(ctx, &mut enc, &p, &gm, &gd, &gb, &gs, &gf, &gc);
                g::peaks_space(ctx, &mut enc, &p, &gd, &gs, &gn, &gc);
                ctx.queue().submit([enc.finish()]);
                common::assert_same(&case, "peaks_isolated_open", w, &read(ctx, &gs, n), &tiso);
                common::assert_same(&case, "peaks_space", w, &read(ctx, &gn, n), &tnext);
                let flags = read(ctx, &gc, gpu::sweeps::FLAG_WORDS);
                assert_eq!(flags[1], tchanged, "{case}: space changed");
                // a finished walk's states are the 0/1 peaks (no output pass)
                let mut tdone = tiso.clone();
                cp::space_greedy(&p, &d2, &mut tdone);
                let mut tout = vec![0; n];
                cp::peaks_output(&p, &tdone, &mut tout);
                assert_eq!(tdone, tout, "{case}: final states are the output");
            }
        }
    }
}

/// One `peaks_space_tile` sweep on the GPU equals the twin's from the same states, sweep after
/// sweep (states and reported bits), on random candidates with tied distances at sizes that cut
/// tiles, for spacings that reach one, several and no neighbouring tiles; and the tiled loop
/// ends in the plain rounds' fixed point.
#[test]
fn space_tile_sweeps_gpu_equal_cpu() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(91);
    for &(w, h) in &[(1, 1), (17, 3), (40, 33), (67, 45), (16, 16)] {
        for m in [0u32, 1, 2, 5, 9, 20] {
            let p = params(w, h, m, None);
            let n = w * h;
            let d2: Vec<u32> = (0..n).map(|_| 1 + rng.below(4) as u32).collect();
            let mut state: Vec<u32> = (0..n)
                .map(|_| match rng.below(10) {
                    0..=5 => cp::STATE_UNDECIDED,
                    6 => cp::STATE_KEPT,
                    _ => cp::STATE_NONE,
                })
                .collect();
            let gd = ctx.storage_init("test.d2", &d2);
            let mut plain = state.clone();
            loop {
                let (mut next, mut c) = (vec![0; n], 0);
                cp::peaks_space(&p, &d2, &plain, &mut next, &mut c);
                plain = next;
                if c == 0 {
                    break;
                }
            }
            for sweep in 0..64 {
                let case = format!("{w}x{h} m{m} sweep {sweep}");
                let (mut next, mut changed) = (vec![0; n], 0);
                cp::peaks_space_tile(&p, &d2, &state, &mut next, &mut changed);
                let gin = ctx.storage_init("test.state_in", &state);
                let gout = ctx.storage("test.state_out", n);
                let gc = gpu::sweeps::standalone_flags(ctx);
                let mut enc = ctx.encoder("test.space_tile");
                gpu::peaks::peaks_space_tile(ctx, &mut enc, &p, &gd, &gin, &gout, &gc);
                ctx.queue().submit([enc.finish()]);
                common::assert_same(&case, "peaks_space_tile", w, &read(ctx, &gout, n), &next);
                let flags = read(ctx, &gc, gpu::sweeps::FLAG_WORDS);
                assert_eq!(
                    gpu::sweeps::standalone_report(&flags),
                    changed,
                    "{case}: reported bits"
                );
                state = next;
                if changed & cpu::watershed::SWEEP_AGAIN == 0 {
                    break;
                }
            }
            assert_eq!(
                state, plain,
                "{w}x{h} m{m}: tiled and plain walks end apart"
            );
        }
    }
}

/// `peaks_isolated_open` equals its twin (the ROI opening by `cpu::opening::erode` / `dilate`
/// with the ROI of the bounds buffer as `rect`, then `peaks_isolated`) for given bounds (full,
/// inner, one pixel, one row, empty), with the candidates' flag clear (it decides) and set (it
/// leaves the state alone), and sets the spacing loop's flags either way.
#[test]
fn peaks_roi_opening_equals_opening_passes() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(13);
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        let n = dims.len();
        let src = random_mask(MaskKind::Noise(75), w, h, &mut rng);
        let (wm, hm) = (w as u32 - 1, h as u32 - 1);
        let rects = [
            Rect::full(dims),
            Rect {
                y0: hm / 3,
                x0: wm / 4,
                y1: hm - hm / 3,
                x1: wm,
            },
            Rect {
                y0: hm / 2,
                x0: wm / 2,
                y1: hm / 2,
                x1: wm / 2,
            },
            Rect {
                y0: 0,
                x0: 0,
                y1: 0,
                x1: wm,
            },
            cp::roi_of(&BOUNDS_INIT),
        ];
        for r in rects {
            let p = PeaksParams {
                dims,
                min_distance: 0,
                footprint: 3,
                border: 0,
            };
            let bounds = [r.y0, r.x0, r.y1, r.x1, 1];
            let d2: Vec<u32> = (0..n).map(|_| rng.below(4) as u32).collect();
            // a state the pass must leave alone when its condition fails, overwrite otherwise
            let before: Vec<u32> = (0..n).map(|_| rng.below(4) as u32).collect();
            for flag in [0u32, 1] {
                let mut want = before.clone();
                cp::peaks_isolated_open(&p, &src, &d2, &bounds, &mut want, flag);
                let mut gbounds = vec![0; gpu::peaks::BOUNDS_AT];
                gbounds.extend(bounds);
                let gb = ctx.storage_init("test.bounds", &gbounds);
                let gsrc = ctx.storage_init("test.src", &src);
                let gd = ctx.storage_init("test.d2", &d2);
                let gs = ctx.storage_init("test.state", &before);
                let gf = ctx.storage_init("test.flag", &[flag]);
                let gc = ctx.storage("test.loop_flags", gpu::sweeps::FLAG_WORDS);
                let mut enc = ctx.encoder("test.roi");
                gpu::peaks::peaks_isolated_open(ctx, &mut enc, &p, &gsrc, &gd, &gb, &gs, &gf, &gc);
                ctx.queue().submit([enc.finish()]);
                let case = format!("roi_{w}x{h}_{r:?}_flag{flag}");
                common::assert_same(&case, "peaks_isolated_open", w, &read(ctx, &gs, n), &want);
                let lf = read(ctx, &gc, gpu::sweeps::FLAG_WORDS);
                assert_eq!(lf, gpu::sweeps::FLAGS_INIT.to_vec(), "{case}: loop flags");
            }
        }
    }
}

#[test]
fn peaks_rejects_bad_input() {
    let Some(ctx) = common::gpu() else { return };
    let p = params(4, 3, 1, Some(0));
    assert!(gpu::peaks::run_peaks(ctx, &p, &[0; 12], &[0; 12]).is_err());
    let p = params(4, 3, 1, None);
    assert!(gpu::peaks::run_peaks(ctx, &p, &[0; 11], &[0; 12]).is_err());
    assert!(gpu::peaks::run_peaks(ctx, &p, &[0; 12], &[0; 13]).is_err());
}

/// The three CPU schedules (`peaks` = fast, `peaks_passes`, `peaks_rounds`) agree; returns the
/// result.
fn cpu_schedules_agree(case: &str, p: &PeaksParams, mask: &[u32], d2: &[u32]) -> Vec<u32> {
    let w = p.dims.width as usize;
    let rounds = cp::peaks_rounds(p, mask, d2);
    common::assert_same(case, "peaks-fast", w, &cp::peaks(p, mask, d2), &rounds);
    common::assert_same(
        case,
        "peaks-passes",
        w,
        &cp::peaks_passes(p, mask, d2),
        &rounds,
    );
    rounds
}

/// The border `B` apart from the spacing `m`: every schedule and the GPU agree for borders 0,
/// 1, 3, just under and over half the image and far beyond it (no overflow), on random masks
/// and random d2 at the awkward sizes; the ROI is the one `B` asks for.
#[test]
fn peaks_border_differs_from_min_distance_gpu_equals_cpu() {
    let ctx = common::gpu();
    let mut rng = Rng::new(17);
    for &(w, h) in SIZES {
        let half = (w.min(h) / 2) as u32;
        for kind in [MaskKind::Blobs, MaskKind::Noise(80), MaskKind::Full] {
            let mask = random_mask(kind, w, h, &mut rng);
            let dims = Dims::new(w, h);
            let exact = cpu::distance::distance(dims, DistanceMode::Exact, &mask);
            let noisy: Vec<u32> = mask
                .iter()
                .map(|&v| v * (1 + rng.below(3) as u32))
                .collect();
            for (dname, d2) in [("exact", &exact), ("ties", &noisy)] {
                for (m, s) in [(0u32, 3u32), (1, 3), (2, 5), (4, 3)] {
                    let borders = [0, 1, 3, half.saturating_sub(1), half, 1000, u32::MAX];
                    for b in borders {
                        let p = PeaksParams {
                            dims,
                            min_distance: m,
                            footprint: s,
                            border: b,
                        };
                        let case = format!("border_{w}x{h}_{kind:?}_{dname}_m{m}_s{s}_b{b}");
                        let want = cpu_schedules_agree(&case, &p, &mask, d2);
                        // the ROI: mask pixels at least b from every edge
                        let mut bounds = BOUNDS_INIT;
                        cp::peaks_bounds(&p, &mask, d2, &mut bounds);
                        assert_eq!(bounds, cp::bounds_rows(&p, &mask, d2), "{case}: bounds");
                        let roi = cp::roi_of(&bounds);
                        let b64 = b as u64;
                        for (i, &v) in want.iter().enumerate() {
                            let (y, x) = ((i / w) as u64, (i % w) as u64);
                            let inside =
                                y >= b64 && y + b64 < h as u64 && x >= b64 && x + b64 < w as u64;
                            assert!(v == 0 || (inside && mask[i] != 0), "{case}: peak at {i}");
                            if !roi.is_empty() && roi.contains(y as u32, x as u32) {
                                assert!(inside, "{case}: ROI pixel {i} inside the border");
                            }
                        }
                        if let Some(ctx) = ctx {
                            let got = gpu::peaks::run_peaks(ctx, &p, &mask, d2)
                                .unwrap_or_else(|e| panic!("{case}: {e}"));
                            common::assert_same(&case, "peaks-gpu", w, &got, &want);
                        }
                    }
                }
            }
        }
    }
}

/// One case of `tests/fixtures/peaks_border.txt` (made by
/// `scripts/reference/check_peaks_border.py` with scikit-image).
struct BorderCase {
    name: String,
    p: PeaksParams,
    mask: Vec<u32>,
    d2: Vec<u32>,
    peaks: Vec<u32>,
}

fn border_fixture() -> Vec<BorderCase> {
    let path = common::repo().join("tests/fixtures/peaks_border.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let mut out = Vec::new();
    let num = |s: &str| -> u32 { s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}")) };
    while let Some(head) = lines.next() {
        let f: Vec<&str> = head.split_whitespace().collect();
        assert_eq!((f.len(), f[0]), (7, "case"), "bad case line {head:?}");
        let (w, h) = (num(f[2]) as usize, num(f[3]) as usize);
        let p = PeaksParams {
            dims: Dims::new(w, h),
            min_distance: num(f[4]),
            footprint: num(f[5]),
            border: num(f[6]),
        };
        assert_eq!(lines.next(), Some("mask"));
        let mut mask = Vec::with_capacity(w * h);
        for _ in 0..h {
            let row = lines.next().expect("mask row");
            assert_eq!(row.len(), w, "{}: mask row", f[1]);
            mask.extend(row.bytes().map(|c| (c == b'1') as u32));
        }
        assert_eq!(lines.next(), Some("d2"));
        let mut d2 = Vec::with_capacity(w * h);
        for _ in 0..h {
            let row = lines.next().expect("d2 row");
            d2.extend(row.split_whitespace().map(num));
        }
        assert_eq!(d2.len(), w * h, "{}: d2", f[1]);
        assert_eq!(lines.next(), Some("peaks"));
        let mut peaks = vec![0u32; w * h];
        loop {
            let l = lines.next().expect("peaks or end");
            if l == "end" {
                break;
            }
            let yx: Vec<usize> = l.split_whitespace().map(|v| num(v) as usize).collect();
            peaks[yx[0] * w + yx[1]] = 1;
        }
        out.push(BorderCase {
            name: f[1].to_string(),
            p,
            mask,
            d2,
            peaks,
        });
    }
    out
}

/// scikit-image's `peak_local_max(..., exclude_border=B)` with B ≠ min_distance (0, 1, larger
/// than half the image, larger than the image): every CPU schedule, and the GPU where there is
/// one, gives its peaks. The fixture is committed; regenerating it needs Python, this test not.
#[test]
fn peaks_border_matches_skimage_fixture() {
    let cases = border_fixture();
    assert!(cases.len() >= 8, "only {} border cases", cases.len());
    assert!(cases.iter().any(|c| c.p.border == 0));
    assert!(cases
        .iter()
        .any(|c| c.p.border > c.p.dims.width.max(c.p.dims.height)));
    let ctx = common::gpu();
    for c in &cases {
        assert_ne!(c.p.border, c.p.min_distance, "{}: B = m", c.name);
        let w = c.p.dims.width as usize;
        let got = cpu_schedules_agree(&c.name, &c.p, &c.mask, &c.d2);
        common::assert_same(&c.name, "peaks-skimage", w, &got, &c.peaks);
        // the distance scikit-image saw is the one floodseg computes
        let d2 = cpu::distance::distance(c.p.dims, DistanceMode::Exact, &c.mask);
        common::assert_same(&c.name, "distance2", w, &d2, &c.d2);
        if let Some(ctx) = ctx {
            let g = gpu::peaks::run_peaks(ctx, &c.p, &c.mask, &c.d2).unwrap();
            common::assert_same(&c.name, "peaks-gpu-skimage", w, &g, &c.peaks);
        }
    }
}
