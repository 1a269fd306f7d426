//! The pipeline's accuracy modes (`--smooth`, `--markers regional|hmax`, `--exclude-border`,
//! `--min-area/--max-area`, `--clear-border`, `--background`, the presets) give the same bytes on the GPU as on the CPU twin,
//! stage by stage, on real images and synthetic rods; and the CPU twin's filters do what they
//! say. Needs a GPU adapter for the comparisons (lavapipe in CI; see `common::gpu`).

use crate::common::*;
use floodseg::backend::gpu::segment as segment_gpu;
use floodseg::cpu::threshold::parse_level;
use floodseg::image::RawImage;
use floodseg::pipeline::{segment_cpu, Flood, Markers, Params, Preset, Stages};

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
    let mut at_edge = vec![false; n + 1];
    for (i, &l) in s.labels.iter().enumerate() {
        assert!((l as usize) <= n, "{case}: label {l} > count {n}");
        area[l as usize] += 1;
        let (y, x) = (i / w, i % w);
        at_edge[l as usize] |= y == 0 || x == 0 || y + 1 == h || x + 1 == w;
    }
    for (l, &a) in area.iter().enumerate().skip(1) {
        assert!(a > 0, "{case}: label {l} has no pixel");
        // an object cut by the frame's edge has its own lower bound (--min-edge-area)
        let min = match p.min_edge_area {
            Some(e) if at_edge[l] => e.min(p.min_area),
            _ => p.min_area,
        };
        assert!(a >= min, "{case}: label {l} has {a} < min area {min}");
        assert!(
            p.max_area.is_none_or(|m| a <= m),
            "{case}: label {l} too big"
        );
        assert_eq!(s.sums[l - 1].count, a, "{case}: sums of label {l}");
    }
    for o in s.measure() {
        // the shape filters leave objects touching the frame's edge alone
        let [r0, c0, r1, c1] = o.bbox;
        if r0 == 0 || c0 == 0 || r1 as usize == h || c1 as usize == w {
            continue;
        }
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
    // with --clear-border B, no object pixel within B of the edge
    if let Some(cb) = p.clear_border {
        let cb = cb as usize;
        for (i, &l) in s.labels.iter().enumerate() {
            let (y, x) = (i / w, i % w);
            assert!(
                l == 0 || (y > cb && x > cb && y + cb + 1 < h && x + cb + 1 < w),
                "{case}: label {l} at ({y}, {x}) within the clear border {cb}"
            );
        }
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
    assert_eq!(
        s.flattened.len(),
        if p.background.is_some() { w * h } else { 0 },
        "{case}: flattened image"
    );
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
            "rods, intensity flood",
            Params {
                flood: Flood::Intensity,
                ..rods.clone()
            },
        ),
        (
            "bright, intensity flood, smooth 1",
            Params {
                dark: false,
                smooth: 1,
                flood: Flood::Intensity,
                ..rods.clone()
            },
        ),
        (
            "rods, background 6",
            Params {
                background: Some(6),
                ..rods.clone()
            },
        ),
        (
            "bright, background 3, smooth 1, intensity flood",
            Params {
                dark: false,
                smooth: 1,
                background: Some(3),
                flood: Flood::Intensity,
                ..rods.clone()
            },
        ),
        (
            "rods, clear border 0",
            Params {
                clear_border: Some(0),
                ..rods.clone()
            },
        ),
        (
            "peaks, clear border 5 only",
            Params {
                markers: Markers::Peaks,
                min_distance: 3,
                min_area: 0,
                min_eccentricity: 0.0,
                clear_border: Some(5),
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

/// A gray level below which a fraction `q` of the pixels lie (the first channel of 8/16-bit
/// images, the mean of RGB), as `--threshold`/`--core` text.
fn level_at(img: &RawImage, q: f64) -> String {
    let c = img.channels;
    let mut v: Vec<f64> = match &img.samples {
        floodseg::Samples::U8(s) => s
            .chunks(c)
            .map(|p| p.iter().take(3).map(|&x| x as f64).sum::<f64>() / c.min(3) as f64)
            .collect(),
        floodseg::Samples::U16(s) => s.iter().step_by(c).map(|&x| x as f64).collect(),
        floodseg::Samples::F32(s) => s.iter().step_by(c).map(|&x| x as f64).collect(),
    };
    v.sort_by(f64::total_cmp);
    format!("{:.2}", v[((v.len() - 1) as f64 * q) as usize])
}

/// `--core` (and `--flood intensity`) modes for an image: threshold at its 40 % level, cores
/// at its 15 % level (dark objects), and the mirror for bright ones.
fn core_modes(img: &RawImage) -> Vec<(String, Params)> {
    let rods = Preset::Rods.params();
    let (t, c) = (level_at(img, 0.4), level_at(img, 0.15));
    let (tb, cb) = (level_at(img, 0.6), level_at(img, 0.85));
    let dec = |s: &str| floodseg::cpu::threshold::Decimal::parse(s);
    vec![
        (
            format!("core {c} < {t}, intensity flood"),
            Params {
                level: parse_level(&t).unwrap(),
                core: dec(&c),
                flood: Flood::Intensity,
                ..rods.clone()
            },
        ),
        (
            format!("core {c} < {t}, peaks, distance flood"),
            Params {
                level: parse_level(&t).unwrap(),
                core: dec(&c),
                markers: Markers::Peaks,
                min_distance: 3,
                ..rods.clone()
            },
        ),
        (
            format!("core {c} with Otsu, regional"),
            Params {
                core: dec(&c),
                markers: Markers::Regional,
                smooth: u32::from(!matches!(img.samples, floodseg::Samples::F32(_))),
                ..rods.clone()
            },
        ),
        (
            format!("bright: core {cb} > {tb}, intensity flood"),
            Params {
                level: parse_level(&tb).unwrap(),
                dark: false,
                core: dec(&cb),
                flood: Flood::Intensity,
                ..rods.clone()
            },
        ),
        (
            format!("core {c} < {t}, jfa+2 distance, intensity flood"),
            Params {
                level: parse_level(&t).unwrap(),
                core: dec(&c),
                flood: Flood::Intensity,
                distance: floodseg::cpu::distance::DistanceMode::Jfa(
                    floodseg::cpu::distance::JfaVariant::Plus2,
                ),
                ..rods.clone()
            },
        ),
        (
            format!("core {t} not stricter than {c}"),
            Params {
                level: parse_level(&c).unwrap(),
                core: dec(&t),
                ..rods
            },
        ),
    ]
}

#[test]
fn core_and_intensity_flood_gpu_equal_cpu() {
    let files = [
        "data/ecoli.png",
        "data/omnipose/Sample000193_gray.png",
        "data/omnipose/ec_5I_t141xy5c1.tif",
        "data/generated/gray32f_deflate_fppredictor.tif",
    ];
    let mut images: Vec<(String, RawImage)> = files
        .iter()
        .map(|f| {
            let img = floodseg::io::read_image(&repo().join(f)).unwrap();
            (f.to_string(), img)
        })
        .collect();
    let (rods, _) = floodseg::synth::rods(120, 90, 7, &floodseg::synth::RodsOptions::default());
    images.push(("synthetic rods".into(), rods));
    let rgb = floodseg::io::read_image(&repo().join("data/ecoli/img_0000.tif")).unwrap();
    images.push((
        "img_0000 RGB crop".into(),
        crop_rgb(&rgb, 200, 150, 120, 90),
    ));
    for (file, img) in &images {
        for (name, p) in core_modes(img) {
            check(&format!("{file} / {name}"), img, &p);
        }
    }
}

/// The cores' markers lie in the cores and split cells that touch only in the mask: two dark
/// disks joined by a lighter bridge are one object from the mask's markers and two from the
/// cores', and the intensity flood parts them at the bridge.
#[test]
fn core_markers_split_cells_joined_by_a_lighter_bridge() {
    let (w, h) = (60, 30);
    let mut v = vec![200u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let d1 = ((y as f64 - 15.0).powi(2) + (x as f64 - 18.0).powi(2)).sqrt();
            let d2 = ((y as f64 - 15.0).powi(2) + (x as f64 - 42.0).powi(2)).sqrt();
            if d1 < 10.0 || d2 < 10.0 {
                v[y * w + x] = 60;
            } else if (15..=45).contains(&x) && (8..=22).contains(&y) {
                v[y * w + x] = 120; // the bridge: below the threshold, above the core level
            }
        }
    }
    let img = RawImage::gray_u8(w, h, v);
    let base = Params {
        level: parse_level("150").unwrap(),
        dark: true,
        open: 1,
        // high enough to keep the joined mask's two domes as one (its waist is 15 px wide)
        markers: Markers::Hmax { h_half: 8 },
        ..Params::default()
    };
    let plain = segment_cpu(&img, &base).unwrap();
    assert_eq!(plain.count(), 1, "one marker in the joined mask");
    for flood in [Flood::Distance, Flood::Intensity] {
        let p = Params {
            core: floodseg::cpu::threshold::Decimal::parse("100"),
            flood,
            ..base.clone()
        };
        let s = segment_cpu(&img, &p).unwrap();
        assert_eq!(s.count(), 2, "{flood:?}: one marker per core");
        // every mask pixel is labelled, the disks' centres apart
        assert!(s
            .opened
            .iter()
            .zip(&s.labels)
            .all(|(&m, &l)| (m != 0) == (l != 0)));
        assert_ne!(s.labels[15 * w + 18], s.labels[15 * w + 42]);
        if flood == Flood::Intensity {
            // the bridge's light pixels are flooded last: the cut lies on the bridge, and each
            // disk is whole
            for y in 0..h {
                for x in 0..w {
                    let i = y * w + x;
                    let d1 = ((y as f64 - 15.0).powi(2) + (x as f64 - 18.0).powi(2)).sqrt();
                    let d2 = ((y as f64 - 15.0).powi(2) + (x as f64 - 42.0).powi(2)).sqrt();
                    if d1 < 8.0 {
                        assert_eq!(s.labels[i], s.labels[15 * w + 18], "({y}, {x})");
                    }
                    if d2 < 8.0 {
                        assert_eq!(s.labels[i], s.labels[15 * w + 42], "({y}, {x})");
                    }
                }
            }
        }
        check(&format!("bridge / {flood:?}"), &img, &p);
    }
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
        for (name, p) in core_modes(&img) {
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
