//! Stage **threshold**, Otsu: the CPU twin's level equals scikit-image 0.26's
//! `skimage.filters.threshold_otsu` bit for bit, and its mask is `value > level` (`--dark`:
//! `value <= level`) with exactly scikit-image's pixel count, on every fixture of
//! `tests/fixtures/otsu/` (written by `scripts/reference/make_otsu_fixtures.py`):
//! - `levels.txt`: committed small images (ties, near-ties, one and two values, every input kind)
//!   and the bundled real images in `data/`;
//! - `random.txt`: images made by the script's generators, which are ported here (SplitMix64),
//!   so only (generator, seed) → level is committed.
//!
//! And the GPU backend's Otsu mask equals the twin's on a few of each kind (lavapipe in CI).

use crate::common;
use crate::common::repo;
use floodseg::cpu::gray::gray;
use floodseg::cpu::threshold::{otsu_level, threshold, threshold_params, Level};
use floodseg::image::{RawImage, Samples};
use floodseg::pipeline::{gray_input, Params};
use floodseg::synth::SplitMix64;

/// One fixture line: what it is, scikit-image's level and bright-mask size.
struct Expected {
    case: String,
    level: f64,
    above: u64,
}

/// The non-comment lines of a fixture file, split on whitespace.
fn fixture_lines(name: &str) -> Vec<Vec<String>> {
    let path = repo().join("tests/fixtures/otsu").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

/// floodseg's Otsu level of an image, and the sizes of its bright and dark masks (the threshold
/// stage's own output, through `threshold_params` as the pipeline calls it).
fn twin(img: &RawImage) -> (f64, u64, u64) {
    let (gp, samples, scale) = gray_input(img).unwrap();
    let mut keys = vec![0u32; gp.dims.len()];
    gray(&gp, &samples, &mut keys);
    let level = otsu_level(scale, &keys);
    let count = |dark: bool| {
        let p = threshold_params(gp.dims, scale, &Level::Otsu, dark, &keys);
        let mut mask = vec![0u32; keys.len()];
        threshold(&p, &keys, &mut mask, &mut [0]);
        mask.iter().map(|&m| m as u64).sum::<u64>()
    };
    (level, count(false), count(true))
}

/// Compare with one fixture line; `Err` says what differs.
fn check(img: &RawImage, want: &Expected) -> Result<(), String> {
    let (level, above, dark) = twin(img);
    let n = img.pixels() as u64;
    // exact: same f64 (±0 are one level)
    if !(level == want.level && (level.to_bits() == want.level.to_bits() || level == 0.0)) {
        return Err(format!(
            "{}: level {level:?}, scikit-image {:?}",
            want.case, want.level
        ));
    }
    if above != want.above || dark != n - want.above {
        return Err(format!(
            "{}: level {level:?}: {above} pixels above and {dark} at or below, scikit-image {} \
             above of {n}",
            want.case, want.above
        ));
    }
    Ok(())
}

fn expected(case: String, level: &str, above: &str) -> Expected {
    Expected {
        case,
        level: level.parse().unwrap(),
        above: above.parse().unwrap(),
    }
}

/// The committed and bundled images of `levels.txt`: `(kind, image, expected)`.
fn level_cases() -> Vec<(String, RawImage, Expected)> {
    fixture_lines("levels.txt")
        .into_iter()
        .map(|f| {
            let img = floodseg::io::read_image(&repo().join(&f[2]))
                .unwrap_or_else(|e| panic!("{}: {e}", f[2]));
            (f[1].clone(), img, expected(f[0].clone(), &f[3], &f[4]))
        })
        .collect()
}

// ----------------------------------------------------------------- the script's generators

/// `make_otsu_fixtures.py`'s `F32_MAPS`: float image = f32(f64(v) · mul + add).
const F32_MAPS: [(f64, f64); 7] = [
    (1.0 / 65535.0, 0.0),
    (1.0, 0.0),
    (0.001, -30.0),
    (1.0e6, 0.0),
    (1.0e-30, 0.0),
    (1.0 / 8388608.0, 1.0), // 2^-23
    (-3.0e-3, 100.0),
];

/// `make_otsu_fixtures.py`'s `generate(gen, seed)` (its docstring states the rule).
fn generate(gen: &str, seed: u64) -> RawImage {
    let mut r = SplitMix64(seed);
    let mut below = |n: u64| r.next() % n;
    let full: i64 = if gen == "u8" || gen == "rgb8" {
        255
    } else {
        65535
    };
    let w = 4 + below(597) as usize;
    let h = 4 + below(597) as usize;
    let frac = below(1001);
    let (m0, m1) = (below(full as u64 + 1) as i64, below(full as u64 + 1) as i64);
    let (s0, s1) = (
        below(full as u64 / 4 + 1) as i64,
        below(full as u64 / 4 + 1) as i64,
    );
    let map = if gen == "f32" {
        F32_MAPS[below(F32_MAPS.len() as u64) as usize]
    } else {
        (1.0, 0.0)
    };
    let rgb = gen.starts_with("rgb");
    let (mut channels, mut tint, mut alpha) = (1, [0i64; 3], 0i64);
    if rgb {
        channels = 3 + below(2) as usize;
        for t in &mut tint {
            *t = below(full as u64 / 4 + 1) as i64 - full / 8;
        }
        alpha = below(full as u64 + 1) as i64;
    }
    let q = full / 16;
    let mut px: Vec<i64> = Vec::with_capacity(w * h * channels);
    for _ in 0..w * h {
        let (m, s) = if below(1000) < frac {
            (m1, s1)
        } else {
            (m0, s0)
        };
        let d1 = below(s as u64 + 1) as i64;
        let d2 = below(s as u64 + 1) as i64;
        let v = (m + d1 + d2 - s).clamp(0, full);
        if rgb {
            for t in tint {
                px.push((v + t + below(q as u64 + 1) as i64 - q / 2).clamp(0, full));
            }
            if channels == 4 {
                px.push(alpha);
            }
        } else {
            px.push(v);
        }
    }
    let samples = match gen {
        "f32" => {
            let (mul, add) = map;
            Samples::F32(px.iter().map(|&v| (v as f64 * mul + add) as f32).collect())
        }
        _ if full == 255 => Samples::U8(px.iter().map(|&v| v as u8).collect()),
        _ => Samples::U16(px.iter().map(|&v| v as u16).collect()),
    };
    RawImage {
        width: w,
        height: h,
        channels,
        samples,
    }
}

/// The generated cases of `random.txt`: `(gen, seed, expected)`.
fn random_cases() -> Vec<(String, u64, Expected)> {
    fixture_lines("random.txt")
        .into_iter()
        .map(|f| {
            let seed: u64 = f[1].parse().unwrap();
            let e = expected(format!("{} seed {seed}", f[0]), &f[2], &f[3]);
            (f[0].clone(), seed, e)
        })
        .collect()
}

/// Fail listing every mismatch, and how many of how many cases each group got wrong.
fn report(what: &str, results: Vec<(String, Result<(), String>)>) {
    let mut groups: Vec<(String, usize, usize)> = Vec::new();
    let mut errors = Vec::new();
    for (group, r) in results {
        if !groups.iter().any(|g| g.0 == group) {
            groups.push((group.clone(), 0, 0));
        }
        let g = groups.iter_mut().find(|g| g.0 == group).unwrap();
        g.2 += 1;
        if let Err(e) = r {
            g.1 += 1;
            errors.push(e);
        }
    }
    let summary: Vec<String> = groups
        .iter()
        .map(|(g, bad, n)| format!("{g}: {bad}/{n}"))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: {} cases differ from scikit-image ({}):\n{}",
        errors.len(),
        summary.join(", "),
        errors.join("\n")
    );
}

#[test]
fn otsu_equals_threshold_otsu_on_committed_and_bundled_images() {
    let cases = level_cases();
    // every input kind is there, and the real images
    for kind in [
        "u8", "u16", "ga8", "rgb8", "rgba8", "rgb16", "rgba16", "f32",
    ] {
        assert!(cases.iter().any(|c| c.0 == kind), "no {kind} case");
    }
    assert!(cases.iter().any(|c| c.2.case == "e1t1_crop"));
    assert!(cases.len() >= 50, "{} cases", cases.len());
    let results = cases
        .iter()
        .map(|(kind, img, want)| (kind.clone(), check(img, want)))
        .collect();
    report("levels.txt", results);
}

/// The case that showed the float32 accumulation matters: float64 sums give 22403.
#[test]
fn otsu_of_e1t1_crop_is_scikit_images_22404() {
    let img = floodseg::io::read_image(&repo().join("data/omnipose/e1t1_crop.tif")).unwrap();
    assert_eq!(twin(&img).0, 22404.0);
}

#[test]
fn otsu_equals_threshold_otsu_on_generated_images() {
    use rayon::prelude::*;
    let cases = random_cases();
    for (gen, n) in [
        ("u16", 300),
        ("u8", 100),
        ("rgb8", 40),
        ("rgb16", 40),
        ("f32", 100),
    ] {
        let have = cases.iter().filter(|c| c.0 == gen).count();
        assert!(have >= n, "{gen}: {have} cases");
    }
    let results = cases
        .par_iter()
        .map(|(gen, seed, want)| (gen.clone(), check(&generate(gen, *seed), want)))
        .collect();
    report("random.txt", results);
}

/// The port of the generator is the script's: a size drawn from the stream, and the kinds it
/// promises (an `f32` image from every map, RGB with and without alpha).
#[test]
fn generator_port_draws_what_the_script_documents() {
    let img = generate("u16", 1);
    let mut r = SplitMix64(1);
    assert_eq!(img.width as u64, 4 + r.next() % 597);
    assert_eq!(img.height as u64, 4 + r.next() % 597);
    let channels: Vec<usize> = (2001..2061).map(|s| generate("rgb8", s).channels).collect();
    assert!(channels.contains(&3) && channels.contains(&4));
}

/// GPU backend: the Otsu mask of the whole pipeline (device histogram for 8/16-bit gray, host
/// histogram of the twin's keys for RGB and float) equals the twin's, and has scikit-image's
/// size, on small fixtures of every kind and on small generated images.
#[test]
fn otsu_mask_gpu_equals_cpu() {
    let Some(ctx) = common::gpu() else { return };
    let mut cases: Vec<(String, RawImage, Expected)> = level_cases()
        .into_iter()
        .filter(|c| c.2.case.contains("_random") || c.2.case.contains("tie") || c.0 == "f32")
        .filter(|c| c.1.pixels() <= 20_000 && !c.2.case.contains("near_tie"))
        .collect();
    for (gen, seed, want) in random_cases() {
        // the first two draws are the size
        let mut r = SplitMix64(seed);
        let (w, h) = (4 + r.next() % 597, 4 + r.next() % 597);
        let per_gen = cases.iter().filter(|c| c.0 == gen).count();
        if w * h <= 6_000 && per_gen < 3 {
            cases.push((gen.clone(), generate(&gen, seed), want));
        }
    }
    for kind in ["u8", "u16", "rgb8", "rgba8", "rgb16", "f32"] {
        assert!(cases.iter().any(|c| c.0 == kind), "no small {kind} case");
    }
    for (_, img, want) in &cases {
        for dark in [false, true] {
            let p = Params {
                level: Level::Otsu,
                dark,
                min_distance: 1,
                ..Params::default()
            };
            let cpu = floodseg::pipeline::segment_cpu(img, &p).unwrap();
            let gpu = floodseg::backend::gpu::segment(ctx, img, &p).unwrap();
            let name = format!("{} dark {dark}", want.case);
            common::assert_same(&name, "mask", img.width, &gpu.mask, &cpu.mask);
            let on = cpu.mask.iter().filter(|&&m| m == 1).count() as u64;
            let n = img.pixels() as u64;
            assert_eq!(on, if dark { n - want.above } else { want.above }, "{name}");
        }
    }
}

/// The Otsu mask of an RGB image is `value > level` on the float64 values `key / 10000.0`
/// scikit-image is given, also where `level · 10000` rounds across an integer: for the level
/// `3 / 10000.0`, `floor(level · 10000)` is 2, but key 3's value equals the level, so it is not
/// above it (and is in the dark class).
#[test]
fn otsu_mask_compares_the_float64_values_of_rgb_keys() {
    use floodseg::cpu::threshold::{otsu_params, GrayScale};
    use floodseg::cpu::Dims;
    let scale = GrayScale::Int {
        scale: 10_000,
        full: 65535,
    };
    let mut crossing = 0;
    for k in 0u32..300_000 {
        let t = k as f64 / 10000.0;
        if (t * 10000.0).floor() != k as f64 {
            crossing += 1;
        }
        let keys = [k.saturating_sub(1), k, k + 1];
        for dark in [false, true] {
            let p = otsu_params(Dims::new(3, 1), scale, t, dark);
            let mut mask = [9u32; 3];
            threshold(&p, &keys, &mut mask, &mut [0]);
            let want: Vec<u32> = keys
                .iter()
                .map(|&x| ((x as f64 / 10000.0 > t) != dark) as u32)
                .collect();
            assert_eq!(mask.to_vec(), want, "key {k} level {t:?} dark {dark}");
        }
    }
    assert!(crossing > 1000, "{crossing}");
}
