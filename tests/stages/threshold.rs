//! Stage **threshold** on the CPU.
//!
//! Otsu against scikit-image: the twin's level equals scikit-image 0.26's
//! `skimage.filters.threshold_otsu` bit for bit, and its mask is `value > level` (`--dark`:
//! `value <= level`) with exactly scikit-image's pixel count, on every fixture of
//! `tests/fixtures/otsu/` (written by `scripts/reference/make_otsu_fixtures.py`):
//! - `levels.txt`: committed small images (ties, near-ties, one and two values, every input kind)
//!   and the bundled real images in `data/`;
//! - `random.txt`: images made by the script's generators, which are ported here (SplitMix64),
//!   so only (generator, seed) → level is committed.
//!
//! And the GPU backend's Otsu mask equals the twin's on a few of each kind (lavapipe in CI).
//!
//! Against the naive references (`tests/naive/threshold.rs`): `Decimal::parse` reads texts
//! exactly; fixed thresholds on integer and float keys are the exact comparisons, also outside
//! `Decimal`'s range; Otsu takes the first maximum of the between-class variance; `stricter` is
//! the intersection of two masks. The fast whole-image function (`threshold_image`) equals the
//! shader-shaped pass. GPU (masks, the Otsu histogram): `tests/gpu/threshold.rs`.

use crate::common::{self, repo};
use crate::inputs::config;
use crate::{naive, schedules};
use schedules::first_diff;

use floodseg::cpu::gray::{f32_from_key, f32_key, gray};
use floodseg::cpu::threshold::{
    otsu_level, threshold, threshold_image, threshold_params, Decimal, GrayScale, Level,
    ThresholdParams, MODE_ABOVE, MODE_ALL, MODE_BELOW, MODE_NONE,
};
use floodseg::cpu::Dims;
use floodseg::image::{RawImage, Samples};
use floodseg::pipeline::{gray_input, Params};
use floodseg::synth::SplitMix64;
use proptest::prelude::*;

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

/// Decimal text `[+-]int[.frac][e±exp]` from its parts.
fn decimal_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "-", "+"]),
        "[0-9]{0,9}",
        prop::option::of("[0-9]{0,12}"),
        prop::option::of((prop::sample::select(vec!["e", "E"]), -8i32..=8)),
    )
        .prop_filter("needs a digit", |(_, i, f, _)| {
            !i.is_empty() || f.as_ref().is_some_and(|f| !f.is_empty())
        })
        .prop_map(|(sign, int, frac, exp)| {
            let mut s = format!("{sign}{int}");
            if let Some(f) = frac {
                s.push('.');
                s.push_str(&f);
            }
            if let Some((e, x)) = exp {
                s.push_str(&format!("{e}{x}"));
            }
            s
        })
}

/// Whether the exact value has no nonzero digit below 1e-18 (`Decimal` documents dropping
/// those; see `threshold_dark_keeps_digits_beyond_1e_18` for what that costs).
fn no_digit_below_1e_18(t: naive::threshold::Exact) -> bool {
    let (mut m, mut e) = (t.mantissa, t.exp10);
    while m != 0 && m % 10 == 0 {
        m /= 10;
        e += 1;
    }
    m == 0 || e >= -18
}

/// Whether `Decimal`'s documented range holds the exact value (|T| ≤ 1e15, no digit below
/// 1e-18) — where it must represent the value exactly.
fn in_decimal_domain(t: naive::threshold::Exact) -> bool {
    use naive::threshold::{cmp_key, Exact};
    if t.mantissa == 0 {
        return true;
    }
    // strip trailing zeros to find the lowest digit
    let (mut m, mut e) = (t.mantissa, t.exp10);
    while m % 10 == 0 {
        m /= 10;
        e += 1;
    }
    let small_enough = cmp_key(
        1_000_000_000,
        1,
        Exact {
            mantissa: m.abs(),
            exp10: e - 6,
        },
    ) != std::cmp::Ordering::Less; // |T| ≤ 1e15
    e >= -18 && small_enough
}

/// `Decimal`'s value equals the exact one.
fn decimal_equals(d: Decimal, t: naive::threshold::Exact) -> bool {
    // d.mantissa · 10^-d.scale == t.mantissa · 10^t.exp10
    let (a, ea) = (d.mantissa, -(d.scale as i64));
    let (b, eb) = (t.mantissa, t.exp10);
    let e = ea.min(eb);
    let scale_up =
        |v: i128, k: i64| -> Option<i128> { (0..k).try_fold(v, |acc, _| acc.checked_mul(10)) };
    match (scale_up(a, ea - e), scale_up(b, eb - e)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Keys around `T·scale`: random ones and the 5 integers nearest to it.
fn keys_near(t: naive::threshold::Exact, scale: u32, max: u32, random: &[u32]) -> Vec<u32> {
    let approx = t.mantissa as f64 * 10f64.powi(t.exp10 as i32) * scale as f64;
    let mut keys: Vec<u32> = random
        .iter()
        .map(|&k| k % (max as u64 + 1) as u32)
        .collect();
    keys.extend([0, 1, max - 1, max]);
    if approx.is_finite() && approx > -3.0 && approx < max as f64 + 3.0 {
        let c = approx.floor() as i64;
        for k in c - 2..=c + 2 {
            if (0..=max as i64).contains(&k) {
                keys.push(k as u32);
            }
        }
    }
    keys
}

fn run_threshold(scale: GrayScale, level: &Level, dark: bool, keys: &[u32]) -> Vec<u32> {
    let dims = Dims::new(keys.len(), 1);
    let params = threshold_params(dims, scale, level, dark, keys);
    let mut mask = vec![9u32; keys.len()];
    threshold(&params, keys, &mut mask, &mut [0]);
    mask
}

/// Finite f32s of every kind: any bit pattern, ±0, subnormals, huge, small integers.
pub(crate) fn any_f32() -> BoxedStrategy<f32> {
    prop_oneof![
        3 => any::<u32>().prop_map(f32::from_bits).prop_filter("finite", |v| v.is_finite()),
        1 => prop::sample::select(vec![
            0.0f32, -0.0, f32::MIN_POSITIVE, -f32::MIN_POSITIVE, f32::from_bits(1),
            -f32::from_bits(1), f32::MAX, f32::MIN, 1.0, -1.0, 0.1, 0.5, 255.0, 1e-20, 1e20,
        ]),
        2 => (-1000i32..=1000).prop_map(|v| v as f32 / 8.0),
        1 => (0u32..0x0080_0000).prop_map(f32::from_bits), // subnormals
    ]
    .boxed()
}

/// f64 thresholds: f32 values, their f64 neighbours, arbitrary f64s, ±0, huge, tiny.
fn any_threshold() -> BoxedStrategy<f64> {
    prop_oneof![
        3 => any_f32().prop_map(|v| v as f64),
        2 => (any_f32(), any::<bool>()).prop_map(|(v, up)| {
            let b = (v as f64).to_bits();
            // one f64 ulp away (towards ±inf by sign): between two f32s
            f64::from_bits(if up { b + 1 } else { b.saturating_sub(1) })
        }).prop_filter("finite", |t| t.is_finite()),
        2 => -1.0e6f64..1.0e6,
        1 => any::<u64>().prop_map(f64::from_bits).prop_filter("finite", |t| t.is_finite()),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config(256))]

    /// `Decimal::parse` agrees with an exact reading on which texts are numbers, and holds the
    /// exact value whenever it lies in its documented range.
    #[test]
    fn decimal_parse_is_exact(text in decimal_text()) {
        let exact = naive::threshold::parse_exact(&text);
        let d = Decimal::parse(&text);
        prop_assert_eq!(exact.is_some(), d.is_some(), "text {:?}", text);
        if let (Some(t), Some(d)) = (exact, d) {
            if in_decimal_domain(t) {
                prop_assert!(decimal_equals(d, t), "text {:?}: parsed {:?}, exact {:?}", text, d, t);
            }
        }
    }

    #[test]
    fn decimal_parse_rejects_like_the_grammar(text in "[ 0-9+.eE-]{0,8}") {
        let exact = naive::threshold::parse_exact(&text);
        prop_assert_eq!(exact.is_some(), Decimal::parse(&text).is_some(), "text {:?}", text);
    }

    /// Integer keys (8/16-bit gray, scale 1; RGB keys ×10 000) against a fixed decimal
    /// threshold: the mask is the exact `value > T` / `value < T`.
    #[test]
    fn threshold_matches_exact_compare(
        text in decimal_text(),
        rgb in any::<bool>(),
        wide in any::<bool>(),
        dark in any::<bool>(),
        random in prop::collection::vec(any::<u32>(), 0..24),
    ) {
        let t = naive::threshold::parse_exact(&text).unwrap();
        prop_assume!(no_digit_below_1e_18(t));
        let full = if wide { 65535u32 } else { 255 };
        let scale = if rgb { 10_000u32 } else { 1 };
        let max = full * scale;
        let keys = keys_near(t, scale, max, &random);
        let d = Decimal::parse(&text).unwrap();
        let got = run_threshold(GrayScale::Int { scale, full }, &Level::Fixed(d), dark, &keys);
        let want = naive::threshold::mask_int(&keys, scale, t, dark);
        for i in 0..keys.len() {
            prop_assert!(
                got[i] == want[i],
                "text {:?} (exact {:?}) scale {} dark {}: key {} → twin {}, exact {}",
                text, t, scale, dark, keys[i], got[i], want[i]
            );
        }
    }

    /// f32 images against an f64 threshold inside `Decimal`'s range (its shortest decimal text
    /// round-trips): the mask is `v > t` / `v < t` compared in f64.
    #[test]
    fn threshold_float_matches_f64_compare(
        t in any_threshold(),
        dark in any::<bool>(),
        mut values in prop::collection::vec(any_f32(), 0..24),
    ) {
        let text = format!("{t:e}");
        let exact = naive::threshold::parse_exact(&text).unwrap();
        prop_assume!(in_decimal_domain(exact));
        let d = Decimal::parse(&text).unwrap();
        prop_assert_eq!(d.to_f64(), t, "text {:?} does not round-trip", text);
        // values at and next to the threshold itself
        let tf = t as f32;
        if tf.is_finite() {
            values.extend([tf, f32_from_key(f32_key(tf.to_bits()).wrapping_add(1)),
                           f32_from_key(f32_key(tf.to_bits()).wrapping_sub(1))]);
        }
        values.retain(|v| v.is_finite());
        let keys: Vec<u32> = values.iter().map(|v| f32_key(v.to_bits())).collect();
        let got = run_threshold(GrayScale::Float, &Level::Fixed(d), dark, &keys);
        let want = naive::threshold::mask_float(&values, t, dark);
        for i in 0..values.len() {
            prop_assert!(
                got[i] == want[i],
                "t {:e} ({:?}) dark {}: value {:e} (bits {:#010x}) → twin {}, f64 compare {}",
                t, text, dark, values[i], values[i].to_bits(), got[i], want[i]
            );
        }
    }

    /// Otsu on integer gray images, against the exact between-class variances of the values:
    /// - tie rule: splits with the same partition (empty bins between two values) have
    ///   bit-identical variances and scikit-image takes the first maximum, so the level is a
    ///   value present in the image (the largest of the lower class) — the last maximum would
    ///   give the next value minus one;
    /// - the partition is the exact maximiser whenever that beats every other by more than 1e-6
    ///   relative (float32 weights round at 6e-8), and is within 1e-6 of it otherwise;
    /// - the mask is `value > level` (dark: `value <= level`).
    #[test]
    fn otsu_takes_the_first_maximum_of_the_between_class_variance(
        keys in prop_oneof![
            (prop::collection::vec(0u32..=40, 1..200), 0u32..=65000)
                .prop_map(|(k, o)| k.iter().map(|k| k + o).collect::<Vec<_>>()),
            prop::collection::vec(0u32..=65535, 1..60),
            prop::collection::vec(prop::sample::select(vec![0u32, 7, 8, 100, 255]), 1..80),
        ],
        dark in any::<bool>(),
    ) {
        let scale = GrayScale::Int { scale: 1, full: 65535 };
        let level = otsu_level(scale, &keys);
        let values: Vec<u64> = keys.iter().map(|&k| k as u64).collect();
        let mut present = values.clone();
        present.sort_unstable();
        present.dedup();
        if present.len() == 1 {
            prop_assert_eq!(level, present[0] as f64);
        } else {
            prop_assert!(present[..present.len() - 1].contains(&(level as u64))
                && level.fract() == 0.0,
                "level {} is not a value of the lower class {:?}", level, present);
            let splits = &present[..present.len() - 1];
            let var: Vec<_> = splits.iter()
                .map(|&t| naive::threshold::between_class_variance(&values, t).unwrap())
                .collect();
            let best = (0..var.len())
                .fold(0, |b, i| if var[i].gt(&var[b]) { i } else { b });
            let at = splits.iter().position(|&t| t == level as u64).unwrap();
            let unique = (0..var.len()).all(|i| i == best || var[best].exceeds_by(&var[i], 1_000_000));
            if unique {
                prop_assert_eq!(at, best, "level {} but the maximum is at {}", level, splits[best]);
            } else {
                prop_assert!(!var[best].exceeds_by(&var[at], 1_000_000),
                    "level {}: variance {:?} far below the maximum {:?} at {}",
                    level, var[at], var[best], splits[best]);
            }
        }
        let got = run_threshold(scale, &Level::Otsu, dark, &keys);
        for i in 0..keys.len() {
            let v = keys[i] as f64;
            let want = if dark { v <= level } else { v > level } as u32;
            prop_assert!(got[i] == want, "otsu level {} dark {}: key {} → twin {}", level, dark, keys[i], got[i]);
        }
    }

    /// Otsu on RGB and float images (256 equal bins between min and max): the tie rule — the
    /// level is the center of a bin that holds a value (the last bin of the lower class; the
    /// empty bins above it repeat its variance bit for bit, and scikit-image takes the first
    /// maximum), so some value lies within half a bin of it; and the mask is `value > level`
    /// (dark: `value <= level`) on the values scikit-image is given (`key / 10000` as float64;
    /// the float32 samples).
    #[test]
    fn otsu_on_256_bins_takes_the_first_maximum(
        rgb in any::<bool>(),
        palette in prop::collection::vec(any::<(u8, u8, u8)>(), 1..6),
        floats in prop::collection::vec(-(1i32 << 19)..(1i32 << 19), 1..6),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..150),
        dark in any::<bool>(),
    ) {
        let (scale, keys, values): (GrayScale, Vec<u32>, Vec<f64>) = if rgb {
            let keys: Vec<u32> = picks.iter().map(|p| {
                let (r, g, b) = *p.get(&palette);
                2125 * r as u32 + 7154 * g as u32 + 721 * b as u32
            }).collect();
            let values = keys.iter().map(|&k| k as f64 / 10000.0).collect();
            (GrayScale::Int { scale: 10_000, full: 255 }, keys, values)
        } else {
            // k / 8: exact float32 values, 1/8 apart at least
            let v: Vec<f32> = picks.iter().map(|p| *p.get(&floats) as f32 / 8.0).collect();
            let keys = v.iter().map(|x| f32_key(x.to_bits())).collect();
            (GrayScale::Float, keys, v.iter().map(|&x| x as f64).collect())
        };
        let level = otsu_level(scale, &keys);
        let lo = values.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if lo == hi {
            prop_assert_eq!(level, lo);
        } else {
            // half a bin, plus float32's rounding of the edges (of order 2^-24 of the range
            // for each of the step's 256 multiples and the additions)
            let half = (hi - lo) / 512.0;
            let slack = half * 1e-6 + 4e-6 * lo.abs().max(hi.abs());
            let nearest = values.iter().map(|&v| (v - level).abs()).fold(f64::INFINITY, f64::min);
            prop_assert!(level > lo && level < hi && nearest <= half + slack,
                "level {} is the center of an empty bin: nearest value {} away (bins {} wide, \
                 {}..{})", level, nearest, 2.0 * half, lo, hi);
        }
        let got = run_threshold(scale, &Level::Otsu, dark, &keys);
        for i in 0..keys.len() {
            let v = values[i];
            let want = if dark { v <= level } else { v > level } as u32;
            prop_assert!(got[i] == want, "otsu level {} dark {}: value {} → twin {}", level, dark, v, got[i]);
        }
    }
}

// ------------------------------------------------------- threshold outside Decimal's range

/// A dark threshold a hair above a key (more than 18 decimals) must still include that key:
/// `5 < 5.0000000000000000001`. `Decimal` documents dropping digits below 1e-18 as harmless
/// ("far below any key's resolution"), but `ceil(T·s)` then drops by one when the dropped digits
/// were all that lay above an integer.
#[test]
fn threshold_dark_keeps_digits_beyond_1e_18() {
    let cases: [(&str, u32, u32); 4] = [
        ("5.0000000000000000001", 1, 5),
        ("5.00000000000000000000000001", 1, 5),
        ("0.01800000000000000001", 10_000, 180),
        ("1e-19", 1, 0),
    ];
    let mut failures = Vec::new();
    for (text, scale, key) in cases {
        let t = naive::threshold::parse_exact(text).unwrap();
        let keys = [key.saturating_sub(1), key, key + 1];
        let level = Level::Fixed(Decimal::parse(text).unwrap());
        let got = run_threshold(GrayScale::Int { scale, full: 255 }, &level, true, &keys);
        let want = naive::threshold::mask_int(&keys, scale, t, true);
        if got != want {
            failures.push(format!(
                "keys {keys:?} (scale {scale}) < {text}: twin {got:?}, exact {want:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Float images with values beyond 1e15 or below 1e-18: the threshold text must keep its value.
/// `Decimal` saturates at ±1e15 and drops digits below 1e-18, claiming "every key compares the
/// same way against them" — true for integer keys (≤ 65535 × 10 000), not for f32 keys, which
/// reach 3.4e38 and 1.4e-45.
#[test]
fn threshold_float_tiny_and_huge_thresholds() {
    let cases: [(&str, f32, bool); 6] = [
        ("1e30", 1e20, false),
        ("1e16", 2e15, false),
        ("-1e30", -1e20, true),
        ("1e-20", 1e-30, false),
        ("1e-40", 1e-42, false),
        ("-1e-20", -1e-30, true),
    ];
    let mut failures = Vec::new();
    for (text, v, dark) in cases {
        let t: f64 = text.parse().unwrap();
        let keys = [f32_key(v.to_bits())];
        let level = Level::Fixed(Decimal::parse(text).unwrap());
        let got = run_threshold(GrayScale::Float, &level, dark, &keys);
        let want = naive::threshold::mask_float(&[v], t, dark);
        if got != want {
            failures.push(format!(
                "value {v:e} {} {text}: twin {got:?}, f64 compare {want:?}",
                if dark { "<" } else { ">" }
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `threshold::stricter` (the `--core` threshold) gives exactly the intersection of the two
/// masks, for both polarities, integer and float scales, and levels outside the keys' range
/// (modes ALL and NONE).
#[test]
fn stricter_threshold_is_the_intersection_of_the_masks() {
    use floodseg::cpu::threshold::{
        stricter, threshold, threshold_params, Decimal, GrayScale, Level,
    };
    use floodseg::cpu::Dims;
    let dims = Dims::new(64, 4);
    let n = dims.len();
    let int = GrayScale::Int {
        scale: 1,
        full: 255,
    };
    let keys_int: Vec<u32> = (0..n as u32).map(|i| i % 256).collect();
    let keys_float: Vec<u32> = (0..n)
        .map(|i| floodseg::cpu::gray::f32_key((i as f32 - 100.0).to_bits()))
        .collect();
    let levels = ["-5", "0", "17.5", "100", "128", "254.9", "255", "300"];
    for (scale, keys) in [(int, &keys_int), (GrayScale::Float, &keys_float)] {
        for dark in [true, false] {
            for a in levels {
                for b in levels {
                    let lv = |t: &str| Level::Fixed(Decimal::parse(t).unwrap());
                    let pa = threshold_params(dims, scale, &lv(a), dark, &[]);
                    let pb = threshold_params(dims, scale, &lv(b), dark, &[]);
                    let (mut ma, mut mb, mut mc) = (vec![0; n], vec![0; n], vec![0; n]);
                    threshold(&pa, keys, &mut ma, &mut [0]);
                    threshold(&pb, keys, &mut mb, &mut [0]);
                    threshold(&stricter(&pa, &pb), keys, &mut mc, &mut [0]);
                    for i in 0..n {
                        assert_eq!(
                            mc[i],
                            ma[i] & mb[i],
                            "{scale:?} dark {dark} {a} ∩ {b} at {i}"
                        );
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn threshold_image_equals_threshold(
        (w, h) in schedules::sizes(),
        mode in prop::sample::select(vec![MODE_NONE, MODE_ALL, MODE_ABOVE, MODE_BELOW, 7]),
        bound in 0u32..300,
        keys in prop::collection::vec(0u32..300, 64 * 64),
    ) {
        let p = ThresholdParams { dims: Dims::new(w, h), mode, bound };
        let mut got = vec![9u32; w * h];
        let mut want = vec![9u32; w * h];
        threshold_image(&p, &keys[..w * h], &mut got);
        threshold(&p, &keys[..w * h], &mut want, &mut [0]);
        prop_assert!(got == want, "{}", first_diff(w, &got, &want));
    }
}
