//! The whole pipeline on the GPU equals the CPU twin byte for byte, stage by stage: on every
//! fixture, on the real images in `data/`, and on seeded random touching disks, ellipses and
//! rods at sizes that break index arithmetic, with odd and even footprints, `--open` 0–3 and
//! both structures. A failing comparison names the case, the stage and the first differing
//! pixel. Needs a GPU adapter (lavapipe in CI; see `common::gpu`).

use crate::common::*;
use floodseg::backend::gpu::segment as segment_gpu;
use floodseg::cpu::distance::{DistanceMode, JfaVariant};
use floodseg::cpu::opening::Structure;
use floodseg::cpu::threshold::parse_level;
use floodseg::image::RawImage;
use floodseg::pipeline::{segment_cpu, Params};
use floodseg::synth::SplitMix64;

fn check(case: &str, img: &RawImage, p: &Params) {
    let Some(ctx) = gpu() else { return };
    let cpu = segment_cpu(img, p).unwrap_or_else(|e| panic!("{case}: cpu: {e}"));
    let gpu = segment_gpu(ctx, img, p).unwrap_or_else(|e| panic!("{case}: gpu: {e}"));
    assert_stages_equal(case, &gpu, &cpu);
}

#[test]
fn pipeline_gpu_equals_cpu_on_every_fixture() {
    for case in fixture_cases() {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let p = parse_args(&std::fs::read_to_string(case.join("args.txt")).unwrap());
        let img = floodseg::io::read_image(&fixture_input(&case)).unwrap();
        check(&name, &img, &p);
    }
}

#[test]
fn pipeline_gpu_equals_cpu_on_real_images() {
    type Case<'a> = (&'a str, &'a str, bool, u32, u32, Option<u32>);
    let cases: [Case; 5] = [
        ("data/ecoli.png", "180", true, 1, 10, Some(10)),
        ("data/omnipose/ecoli_phase.tif", "otsu", true, 1, 3, None),
        ("data/colicoords/brightfield.tif", "otsu", true, 1, 4, None),
        (
            "data/supersegger/2014_05_30_controlagaint001xy1c1.tif",
            "12000",
            true,
            1,
            5,
            None,
        ),
        (
            "data/omnipose/Sample000252_crop.png",
            "otsu",
            true,
            1,
            3,
            Some(4),
        ),
    ];
    for (file, t, dark, open, m, fp) in cases {
        let img = floodseg::io::read_image(&repo().join(file)).unwrap();
        let p = Params {
            level: parse_level(t).unwrap(),
            dark,
            open,
            min_distance: m,
            footprint: fp,
            ..Params::default()
        };
        check(file, &img, &p);
    }
}

/// Dark touching shapes on a bright, noisy background: disks, ellipses and rods.
fn shapes(seed: u64, w: usize, h: usize, sixteen_bit: bool) -> RawImage {
    let mut rng = SplitMix64(seed);
    let mut v = vec![200.0f64; w * h];
    let n = 1 + (w * h / 300).min(40);
    for _ in 0..n {
        let cy = (rng.next() % h as u64) as f64;
        let cx = (rng.next() % w as u64) as f64;
        let a = 2.0 + (rng.next() % 9) as f64; // half length
        let b = 1.5 + (rng.next() % 5) as f64; // radius
        let t = (rng.next() % 628) as f64 / 100.0;
        let kind = rng.next() % 3;
        for y in 0..h {
            for x in 0..w {
                let (dy, dx) = (y as f64 - cy, x as f64 - cx);
                let (u, q) = (dx * t.cos() + dy * t.sin(), -dx * t.sin() + dy * t.cos());
                let inside = match kind {
                    0 => u * u + q * q < b * b * 2.0,
                    1 => (u / a).powi(2) + (q / b).powi(2) < 1.0,
                    _ => {
                        let uc = u.clamp(-a, a);
                        (u - uc).powi(2) + q * q < b * b
                    }
                };
                if inside {
                    v[y * w + x] = 60.0;
                }
            }
        }
    }
    for p in v.iter_mut() {
        *p += (rng.next() % 41) as f64 - 20.0;
    }
    if sixteen_bit {
        RawImage::gray_u16(w, h, v.iter().map(|&x| (x * 200.0) as u16).collect())
    } else {
        RawImage::gray_u8(w, h, v.iter().map(|&x| x.clamp(0.0, 255.0) as u8).collect())
    }
}

#[test]
fn pipeline_gpu_equals_cpu_on_random_shapes() {
    let sizes = [
        (1usize, 1usize),
        (1, 37),
        (41, 1),
        (17, 23),
        (64, 64),
        (257, 131),
    ];
    let mut k = 0u64;
    for (w, h) in sizes {
        for (open, structure, m, fp) in [
            (0, Structure::Cross, 3, None),
            (1, Structure::Square, 2, Some(4)),
            (2, Structure::Cross, 5, Some(7)),
            (3, Structure::Square, 1, Some(2)),
        ] {
            k += 1;
            let sixteen = k.is_multiple_of(2);
            let img = shapes(k, w, h, sixteen);
            let t = if sixteen { "26000" } else { "130" };
            let p = Params {
                level: parse_level(t).unwrap(),
                dark: true,
                open,
                structure,
                min_distance: m,
                footprint: fp,
                ..Params::default()
            };
            check(&format!("shapes_{w}x{h}_{k}"), &img, &p);
        }
    }
}

#[test]
fn pipeline_gpu_equals_cpu_on_degenerate_images() {
    let full = RawImage::gray_u8(23, 19, vec![0; 23 * 19]);
    let empty = RawImage::gray_u8(23, 19, vec![255; 23 * 19]);
    let p = Params {
        level: parse_level("128").unwrap(),
        dark: true,
        min_distance: 2,
        ..Params::default()
    };
    check("all_foreground", &full, &p);
    check("empty", &empty, &p);
    check(
        "all_foreground_otsu",
        &full,
        &Params {
            level: parse_level("otsu").unwrap(),
            ..p.clone()
        },
    );
    for mode in [
        DistanceMode::Jfa(JfaVariant::Plus2),
        DistanceMode::Jfa(JfaVariant::Squared),
    ] {
        let img = shapes(99, 64, 64, false);
        check(
            &format!("jfa_{mode:?}"),
            &img,
            &Params {
                distance: mode,
                ..p.clone()
            },
        );
    }
}

/// `segment_gpu_keep` reads back only the stage images a stream keeps; what it returns equals
/// the CPU twin's stages trimmed the same way, for 8-bit and float images (whose per-object
/// sums need the gray keys even when only the labels are kept).
#[test]
fn pipeline_gpu_keep_equals_cpu_trimmed() {
    use floodseg::backend::gpu::segment_keep as segment_gpu_keep;
    use floodseg::image::Samples;
    use floodseg::stream::Keep;
    let Some(ctx) = gpu() else { return };
    let colony = floodseg::synth::colony(61, 47, 3);
    let float = RawImage {
        width: 61,
        height: 47,
        channels: 1,
        samples: match &colony.samples {
            Samples::U8(v) => Samples::F32(v.iter().map(|&x| x as f32 / 255.0).collect()),
            _ => unreachable!("colony is 8-bit"),
        },
    };
    let p8 = Params {
        level: parse_level("128").unwrap(),
        open: 1,
        min_distance: 3,
        min_area: 5,
        ..Params::default()
    };
    let pf = Params {
        level: parse_level("0.5").unwrap(),
        ..p8.clone()
    };
    for (case, img, p) in [("8-bit", &colony, &p8), ("float", &float, &pf)] {
        for keep in [Keep::All, Keep::LabelsAndGray, Keep::Labels] {
            let mut cpu = segment_cpu(img, p).unwrap();
            keep.trim(&mut cpu);
            let gpu = segment_gpu_keep(ctx, img, p, keep).unwrap();
            assert_stages_equal(&format!("{case} {keep:?}"), &gpu, &cpu);
            assert!(!gpu.labels.is_empty() && gpu.count() > 0, "{case} {keep:?}");
        }
    }
}

/// Bright objects on a dark noisy background, `w × h`, placed where a folded dispatch could go
/// wrong: at the start, in the middle, across the first pixel past 65 535 workgroups of 64
/// (`fold`), wholly past it, on the bottom edge and in the bottom-right corner. Each site has a
/// touching pair of disks, a rod and a wide blob, so the shape filters keep some and drop some.
fn fold_frame(w: usize, h: usize, fold: usize) -> RawImage {
    let mut rng = Rng::new(9);
    let mut px: Vec<u8> = (0..w * h).map(|_| 20 + rng.below(30) as u8).collect();
    let mut ellipse = |cy: i64, cx: i64, ry: i64, rx: i64| {
        for y in (cy - ry).max(0)..=(cy + ry).min(h as i64 - 1) {
            for x in (cx - rx).max(0)..=(cx + rx).min(w as i64 - 1) {
                let (dy, dx) = (y - cy, x - cx);
                if dy * dy * rx * rx + dx * dx * ry * ry <= rx * rx * ry * ry {
                    px[y as usize * w + x as usize] = 200 - ((dy.abs() + dx.abs()) as u8).min(60);
                }
            }
        }
    };
    let fold_row = (fold / w) as i64;
    let (hh, ww) = (h as i64, w as i64);
    for (cy, cx) in [
        (10, 10),
        (hh / 2, ww / 2),
        (fold_row, (fold % w) as i64 - 6),
        (fold_row - 5, 600),
        (hh - 20, 100),
        (hh - 4, 400),
        (hh - 8, ww - 60),
    ] {
        ellipse(cy, cx, 7, 7);
        ellipse(cy, cx + 13, 7, 7); // touching the first disk
        ellipse(cy, cx + 36, 3, 11); // a rod
        ellipse(cy, cx + 56, 9, 8); // wide
    }
    RawImage::gray_u8(w, h, px)
}

/// A frame of more than 65 535 × 64 pixels, so every per-pixel dispatch folds into a 2-D grid
/// (`GpuContext::workgroups`) and the shaders' flat index `gid.y * num_workgroups.x * 64 +
/// gid.x` must cover each pixel once (the convergence loops' sweeps included: their early exit
/// is the flag word their shaders read, whatever the grid). One pipeline run through every per-pixel shader the
/// pipeline has — gray, smooth, background, threshold, opening, the h-maxima markers,
/// components and the scan, the intensity altitude, the watershed's init, label-init and
/// output, the filter (eccentricity, width, clear-border) — equal to the CPU twin stage by
/// stage, then the peaks stage on its mask and distance. The JFA passes are folded in
/// `front.rs` (`stages_gpu_equal_cpu_past_65535_workgroups`, 2049×2049); `--core`
/// runs the same threshold, opening and distance kernels again.
///
/// Not folded at any legal size, so not covered: `edt_cols`/`edt_rows` (one invocation per
/// column / row, at most 16 384), the watershed tiles (a 2-D grid of 16×16 tiles) and
/// `measure_sums` (16 pixels per invocation: it folds only past 67 M pixels).
#[test]
fn pipeline_gpu_equals_cpu_past_65535_workgroups() {
    use floodseg::pipeline::{Flood, Markers};
    let Some(ctx) = gpu() else { return };
    let (w, h) = (1024usize, 4136usize); // 4 235 264 pixels: the last 40 rows lie past the fold
    let fold = 65_535 * 64;
    // WebGPU's default limit, which `GpuContext::new` requests on every device
    assert_eq!(ctx.limits().max_compute_workgroups_per_dimension, 65_535);
    let (gx, gy) = ctx.workgroups((w * h) as u32);
    assert!(gy > 1, "{w}×{h} should fold: {gx}×{gy} workgroups");
    let img = fold_frame(w, h, fold);
    let p = Params {
        smooth: 1,
        background: Some(12),
        level: parse_level("100").unwrap(),
        open: 1,
        markers: Markers::Hmax { h_half: 2 },
        flood: Flood::Intensity,
        min_eccentricity: 0.5,
        max_width: Some(14.0),
        clear_border: Some(0),
        ..Params::default()
    };
    let t = std::time::Instant::now();
    let cpu = segment_cpu(&img, &p).unwrap();
    let t_cpu = t.elapsed();
    // objects on both sides of the fold, and the filters both keep and drop
    let past: std::collections::BTreeSet<u32> = cpu.labels[fold..]
        .iter()
        .copied()
        .filter(|&l| l != 0)
        .collect();
    assert!(past.len() >= 3, "objects past the fold: {past:?}");
    assert!(cpu.labels[..fold].iter().any(|&l| l != 0));
    assert!(
        cpu.count() > 5 && cpu.count() < cpu.n_markers,
        "{} objects kept of {} markers",
        cpu.count(),
        cpu.n_markers
    );
    let t = std::time::Instant::now();
    let gpu = segment_gpu(ctx, &img, &p).unwrap();
    let t_gpu = t.elapsed();
    assert_stages_equal("fold_1024x4136", &gpu, &cpu);

    let pp = floodseg::cpu::peaks::PeaksParams {
        dims: cpu.dims,
        min_distance: 4,
        footprint: 9,
        border: 4,
    };
    let want = floodseg::cpu::peaks::peaks(&pp, &cpu.opened, &cpu.distance2);
    assert!(want[fold..].iter().any(|&v| v != 0), "peaks past the fold");
    let t = std::time::Instant::now();
    let got = floodseg::gpu::peaks::run_peaks(ctx, &pp, &cpu.opened, &cpu.distance2).unwrap();
    let t_peaks = t.elapsed();
    assert_same("fold_1024x4136", "peaks", w, &got, &want);
    eprintln!(
        "{w}×{h} ({gx}×{gy} workgroups): CPU twin {t_cpu:?}, GPU pipeline {t_gpu:?}, GPU peaks \
         {t_peaks:?}; {} objects",
        cpu.count()
    );
}

/// Scratch buffers (`Frame::scratch`: pooled, not cleared, since their first pass writes every
/// element) hold no earlier data that could reach a result: with every scratch buffer filled
/// with a poison value before use (`GpuContext::set_poison_scratch`), each stage still equals
/// the twin, frame after frame on one context (so buffers are reused across stages' roles),
/// through every optional stage: smoothing, background, both distance modes, the core level,
/// the intensity flood, h-maxima markers, the object filters, and an opening of 0–2.
#[test]
fn pipeline_gpu_overwrites_every_scratch_buffer() {
    use floodseg::pipeline::{Flood, Markers};
    if gpu().is_none() {
        return;
    }
    // a context of its own: the poison setting is this test's
    let ctx = floodseg::gpu::GpuContext::new().unwrap();
    ctx.set_poison_scratch(true);
    let dec = |s: &str| floodseg::cpu::threshold::Decimal::parse(s);
    let base = Params {
        level: parse_level("130").unwrap(),
        dark: true,
        open: 1,
        min_distance: 3,
        ..Params::default()
    };
    let cases = [
        ("plain", base.clone()),
        (
            "open 0, jfa",
            Params {
                open: 0,
                distance: DistanceMode::Jfa(JfaVariant::Plus2),
                ..base.clone()
            },
        ),
        (
            "open 2, smooth, background",
            Params {
                open: 2,
                smooth: 2,
                background: Some(6),
                ..base.clone()
            },
        ),
        (
            "core, intensity flood",
            Params {
                core: dec("100"),
                flood: Flood::Intensity,
                ..base.clone()
            },
        ),
        (
            "hmax markers, filters",
            Params {
                markers: Markers::Hmax { h_half: 2 },
                min_area: 6,
                min_eccentricity: 0.3,
                clear_border: Some(0),
                ..base.clone()
            },
        ),
        (
            "area filter with its own bound at the edge",
            Params {
                min_area: 12,
                min_edge_area: Some(3),
                ..base.clone()
            },
        ),
        (
            "exclude border, footprint",
            Params {
                exclude_border: Some(2),
                footprint: Some(4),
                ..base.clone()
            },
        ),
    ];
    let mut k = 900u64;
    for round in 0..2 {
        for (name, p) in &cases {
            for (w, h) in [(57usize, 41usize), (23, 64)] {
                k += 1;
                let img = shapes(k, w, h, false);
                let case = format!("poisoned scratch, round {round}, {name}, {w}×{h}");
                let cpu = segment_cpu(&img, p).unwrap_or_else(|e| panic!("{case}: cpu: {e}"));
                let gpu = segment_gpu(&ctx, &img, p).unwrap_or_else(|e| panic!("{case}: gpu: {e}"));
                assert_stages_equal(&case, &gpu, &cpu);
            }
        }
    }
}
