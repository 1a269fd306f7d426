//! The pipeline's accuracy modes (`--smooth`, `--markers regional|hmax`, `--exclude-border`,
//! `--min-area/--max-area`, the presets) give the same bytes on the GPU as on the CPU twin,
//! stage by stage, on real images and synthetic rods; and the CPU twin's filters do what they
//! say. Needs a GPU adapter for the comparisons (lavapipe in CI; see `common::gpu`).

mod common;

use common::*;
use floodseg::cpu::threshold::parse_level;
use floodseg::gpu::pipeline::segment_gpu;
use floodseg::image::RawImage;
use floodseg::pipeline::{segment_cpu, Markers, Params, Preset, Stages};

fn check(case: &str, img: &RawImage, p: &Params) {
    let cpu = segment_cpu(img, p).unwrap_or_else(|e| panic!("{case}: cpu: {e}"));
    check_cpu_invariants(case, &cpu, p);
    let Some(ctx) = gpu() else { return };
    let gpu = segment_gpu(ctx, img, p).unwrap_or_else(|e| panic!("{case}: gpu: {e}"));
    assert_stages_equal(case, &gpu, &cpu);
}

/// What the modes promise, on the CPU result.
fn check_cpu_invariants(case: &str, s: &Stages, p: &Params) {
    let (w, h) = (s.dims.width as usize, s.dims.height as usize);
    // labels are 1..=count, every one present, areas within the filter's bounds
    let n = s.count() as usize;
    let mut area = vec![0u64; n + 1];
    for &l in &s.labels {
        assert!((l as usize) <= n, "{case}: label {l} > count {n}");
        area[l as usize] += 1;
    }
    for (l, &a) in area.iter().enumerate().skip(1) {
        assert!(a > 0, "{case}: label {l} has no pixel");
        assert!(a >= p.min_area, "{case}: label {l} has {a} < min area");
        assert!(
            p.max_area.is_none_or(|m| a <= m),
            "{case}: label {l} too big"
        );
        assert_eq!(s.sums[l - 1].count, a, "{case}: sums of label {l}");
    }
    for o in s.measure() {
        assert!(
            o.eccentricity >= p.min_eccentricity,
            "{case}: label {} eccentricity {}",
            o.label,
            o.eccentricity
        );
        assert!(
            p.max_width.is_none_or(|w| o.minor_axis_length <= w),
            "{case}: label {} width {}",
            o.label,
            o.minor_axis_length
        );
    }
    // no marker pixel within the border
    let b = p.border() as usize;
    for (i, &m) in s.peaks.iter().enumerate() {
        if m != 0 {
            let (y, x) = (i / w, i % w);
            assert!(
                y >= b && x >= b && y + b < h && x + b < w,
                "{case}: marker pixel ({y}, {x}) inside the border {b}"
            );
            assert_eq!(s.opened[i], 1, "{case}: marker pixel off the mask");
        }
    }
    if p.smooth == 0 {
        assert!(s.smoothed.is_empty(), "{case}: smoothed without --smooth");
    } else {
        assert_eq!(s.smoothed.len(), w * h, "{case}: smoothed image");
    }
}

fn modes() -> Vec<(&'static str, Params)> {
    let rods = Preset::Rods.params();
    vec![
        ("rods preset", rods.clone()),
        ("lecture preset", Preset::Lecture.params()),
        (
            "regional",
            Params {
                markers: Markers::Regional,
                ..rods.clone()
            },
        ),
        (
            "hmax 0",
            Params {
                markers: Markers::Hmax { h_half: 0 },
                smooth: 0,
                ..rods.clone()
            },
        ),
        (
            "hmax 2.5 border 4 smooth 2",
            Params {
                markers: Markers::Hmax { h_half: 5 },
                smooth: 2,
                exclude_border: Some(4),
                ..rods.clone()
            },
        ),
        (
            "peaks border 0 area 15..400",
            Params {
                markers: Markers::Peaks,
                min_distance: 4,
                exclude_border: Some(0),
                min_area: 15,
                max_area: Some(400),
                ..rods.clone()
            },
        ),
        (
            "rods + shape filter",
            Params {
                min_eccentricity: 0.8,
                max_width: Some(9.0),
                ..rods.clone()
            },
        ),
        (
            "peaks max area only",
            Params {
                markers: Markers::Peaks,
                min_distance: 3,
                min_area: 0,
                max_area: Some(60),
                smooth: 0,
                ..rods
            },
        ),
    ]
}

#[test]
fn modes_gpu_equal_cpu_on_real_images() {
    let files = [
        "data/ecoli.png",
        "data/omnipose/ecoli_phase.tif",
        "data/omnipose/Sample000252_crop.png",
        "data/supersegger/2014_05_30_controlagaint001xy1c1.tif",
    ];
    for file in files {
        let img = floodseg::io::read_image(&repo().join(file)).unwrap();
        for (name, p) in modes() {
            check(&format!("{file} / {name}"), &img, &p);
        }
    }
}

#[test]
fn modes_gpu_equal_cpu_on_synthetic_rods() {
    for seed in 1..=3 {
        let (img, _) = floodseg::synth::rods(
            97 + 13 * seed as usize,
            83,
            seed,
            &floodseg::synth::RodsOptions::default(),
        );
        for (name, p) in modes() {
            check(&format!("rods seed {seed} / {name}"), &img, &p);
        }
    }
}

#[test]
fn modes_gpu_equal_cpu_on_rgb_and_tiny_images() {
    // RGB keys (scaled by 10 000) through the smoothing; 1×1, 1×N, N×1 frames
    let img = floodseg::io::read_image(&repo().join("data/ecoli/img_0000.tif")).unwrap();
    let crop = crop_rgb(&img, 200, 150, 120, 90);
    let mut p = Preset::Rods.params();
    check("img_0000 crop / rods", &crop, &p);
    p.level = parse_level("150").unwrap();
    p.smooth = 3;
    check("img_0000 crop / rods smooth 3 at 150", &crop, &p);
    for (w, h) in [(1, 1), (1, 9), (9, 1), (2, 2)] {
        let v: Vec<u8> = (0..w * h).map(|i| (i * 37 % 251) as u8).collect();
        let img = RawImage::gray_u8(w, h, v);
        for (name, p) in modes() {
            check(&format!("{w}×{h} / {name}"), &img, &p);
        }
    }
}

fn crop_rgb(img: &RawImage, x0: usize, y0: usize, w: usize, h: usize) -> RawImage {
    let c = img.channels;
    let floodseg::Samples::U8(v) = &img.samples else {
        panic!("8-bit RGB expected")
    };
    let mut out = Vec::with_capacity(w * h * c);
    for y in y0..y0 + h {
        let row = (y * img.width + x0) * c;
        out.extend_from_slice(&v[row..row + w * c]);
    }
    RawImage {
        width: w,
        height: h,
        channels: c,
        samples: floodseg::Samples::U8(out),
    }
}

#[test]
fn smoothing_a_float_image_is_refused() {
    let img = floodseg::io::read_image(&repo().join("data/colicoords/brightfield.tif")).unwrap();
    let p = Params {
        smooth: 1,
        dark: true,
        ..Params::default()
    };
    let e = segment_cpu(&img, &p).unwrap_err().to_string();
    assert!(e.contains("--smooth"), "{e}");
}

#[test]
fn hmax_keeps_one_marker_per_rod_where_peaks_split_it() {
    // one long horizontal rod (a capsule 9 px wide, 60 px long), dark on bright
    let (w, h) = (90, 31);
    let mut v = vec![200u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let (cx, cy) = (x as f64, y as f64);
            let dx = if cx < 15.0 {
                15.0 - cx
            } else if cx > 75.0 {
                cx - 75.0
            } else {
                0.0
            };
            let dy = cy - 15.0;
            if dx * dx + dy * dy <= 4.5 * 4.5 {
                v[y * w + x] = 40;
            }
        }
    }
    let img = RawImage::gray_u8(w, h, v);
    let rods = Preset::Rods.params();
    let s = segment_cpu(&img, &rods).unwrap();
    assert_eq!(s.count(), 1, "hmax: one rod, one object");
    let lecture_like = Params {
        markers: Markers::Peaks,
        min_distance: 5,
        exclude_border: Some(0),
        min_area: 0,
        min_eccentricity: 0.0,
        ..rods
    };
    let s = segment_cpu(&img, &lecture_like).unwrap();
    assert!(s.count() > 1, "peaks along the ridge split the rod");
}
