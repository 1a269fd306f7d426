//! Stage **measure**: the GPU (`shaders/measure.wgsl`, `floodseg::gpu::measure`) equals its CPU
//! twin (`cpu::measure::measure_sums`) exactly — every field of every `ObjectSums` (the
//! properties are derived from the sums on the host by `floodseg::measure::props`, so equal sums
//! give equal properties; the properties themselves are held to regionprops in
//! `tests/cli/stack.rs` and `tests/stages/measure.rs`) — on every fixture's labels and
//! gray keys, on a float image (sums of float values taken on the host), on seeded random label
//! images at sizes that break index arithmetic with few and many objects and labels beyond
//! `n_objects`, with 8-bit, 16-bit, RGB, full-range and float keys, on objects large enough that
//! every 64-bit sum carries past 2^32, and on the empty cases (labels 0 only, `n_objects` 0).

use crate::common;
use crate::common::{Rng, SIZES};

use floodseg::cpu::gray::f32_key;
use floodseg::cpu::measure::{measure_sums, ObjectSums};
use floodseg::cpu::threshold::GrayScale;
use floodseg::cpu::Dims;
use floodseg::gpu::{self, GpuContext};

/// The first differing object and field, for a readable failure.
fn first_difference(got: &[ObjectSums], want: &[ObjectSums]) -> String {
    if got.len() != want.len() {
        return format!("{} objects, want {}", got.len(), want.len());
    }
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        if g != w {
            return format!("object {} (label {}):\n got {g:?}\nwant {w:?}", k, k + 1);
        }
    }
    String::new()
}

/// GPU == twin on one case (every sum). Returns the sums.
fn check(
    ctx: &GpuContext,
    case: &str,
    dims: Dims,
    labels: &[u32],
    keys: &[u32],
    scale: GrayScale,
    n_objects: u32,
) -> Vec<ObjectSums> {
    let float_keys = scale == GrayScale::Float;
    let want = measure_sums(dims, labels, keys, float_keys, n_objects);
    let got = gpu::measure::run_measure_sums(ctx, dims, labels, keys, float_keys, n_objects)
        .unwrap_or_else(|e| panic!("{case}: stage measure: {e}"));
    assert!(
        got == want,
        "{case}: stage measure differs: {}",
        first_difference(&got, &want)
    );
    got
}

fn segment_file(path: &std::path::Path, args: &str) -> floodseg::pipeline::Stages {
    let prm = common::parse_args(args);
    let img = floodseg::io::read_image(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    floodseg::pipeline::segment_cpu(&img, &prm).unwrap()
}

#[test]
fn measure_gpu_equals_cpu_on_fixtures() {
    let Some(ctx) = common::gpu() else { return };
    let cases = common::fixture_cases();
    assert!(!cases.is_empty(), "no fixtures found");
    let mut objects = 0;
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let args = std::fs::read_to_string(case.join("args.txt")).unwrap();
        let s = segment_file(&common::fixture_input(&case), &args);
        check(ctx, &name, s.dims, &s.labels, &s.gray, s.scale, s.n_markers);
        objects += s.n_markers;
    }
    assert!(objects > 0, "the fixtures have no object at all");
}

#[test]
fn measure_gpu_equals_cpu_on_a_float_image() {
    let Some(ctx) = common::gpu() else { return };
    let path = common::repo().join("data/colicoords/brightfield.tif");
    let s = segment_file(&path, "--threshold otsu --dark");
    assert_eq!(
        s.scale,
        GrayScale::Float,
        "brightfield.tif is a float image"
    );
    assert!(s.n_markers > 0, "brightfield.tif: no object");
    let sums = check(
        ctx,
        "brightfield",
        s.dims,
        &s.labels,
        &s.gray,
        s.scale,
        s.n_markers,
    );
    assert!(sums.iter().any(|o| o.sum_value != 0.0 && o.sum_key == 0));
}

/// Random labels in `0..=n_objects + 2` (so some exceed `n_objects` and are skipped), in runs
/// (as real objects come) or as noise.
fn random_labels(w: usize, h: usize, n_objects: u32, runs: bool, rng: &mut Rng) -> Vec<u32> {
    let mut v = Vec::with_capacity(w * h);
    let mut cur = 0;
    for _ in 0..w * h {
        if !runs || rng.below(8) == 0 {
            cur = rng.below(n_objects as u64 + 3) as u32;
            if rng.below(3) == 0 {
                cur = 0;
            }
        }
        v.push(cur);
    }
    v
}

#[derive(Clone, Copy, Debug)]
enum Keys {
    U8,
    U16,
    /// RGB keys: value × 10 000 of a 16-bit RGB image (up to 655 350 000).
    Rgb16,
    Full,
    Float,
}

fn random_keys(kind: Keys, n: usize, rng: &mut Rng) -> (Vec<u32>, GrayScale) {
    let mut f = |m: u64| (0..n).map(|_| rng.below(m) as u32).collect::<Vec<u32>>();
    match kind {
        Keys::U8 => (
            f(256),
            GrayScale::Int {
                scale: 1,
                full: 255,
            },
        ),
        Keys::U16 => (
            f(65536),
            GrayScale::Int {
                scale: 1,
                full: 65535,
            },
        ),
        Keys::Rgb16 => (
            f(655_350_001),
            GrayScale::Int {
                scale: 10_000,
                full: 65535,
            },
        ),
        Keys::Full => (f(1 << 32), GrayScale::Int { scale: 1, full: 0 }),
        Keys::Float => {
            let v = (0..n)
                .map(|_| {
                    let x = (rng.below(2_000_001) as f32 - 1_000_000.0) / 997.0;
                    f32_key(x.to_bits())
                })
                .collect();
            (v, GrayScale::Float)
        }
    }
}

#[test]
fn measure_gpu_equals_cpu_random() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(0x3ea5);
    let kinds = [Keys::U8, Keys::U16, Keys::Rgb16, Keys::Full, Keys::Float];
    for &(w, h) in SIZES {
        let n = w * h;
        for (i, n_objects) in [1u32, 3, (n as u32 / 4).max(1), n as u32 + 1]
            .into_iter()
            .enumerate()
        {
            for runs in [false, true] {
                let labels = random_labels(w, h, n_objects, runs, &mut rng);
                let (keys, scale) = random_keys(kinds[(i + runs as usize) % 5], n, &mut rng);
                let case = format!("random {w}×{h}, {n_objects} objects, runs {runs}, {scale:?}");
                check(
                    ctx,
                    &case,
                    Dims::new(w, h),
                    &labels,
                    &keys,
                    scale,
                    n_objects,
                );
            }
        }
        // all foreground: one object, and every pixel its own object
        let (keys, scale) = random_keys(Keys::U16, n, &mut rng);
        let d = Dims::new(w, h);
        check(
            ctx,
            &format!("full {w}×{h}"),
            d,
            &vec![1; n],
            &keys,
            scale,
            1,
        );
        let own: Vec<u32> = (1..=n as u32).collect();
        check(
            ctx,
            &format!("own {w}×{h}"),
            d,
            &own,
            &keys,
            scale,
            n as u32,
        );
    }
}

#[test]
fn measure_gpu_equals_cpu_every_key_kind() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(0xbeef);
    let (w, h) = (257, 131);
    for kind in [Keys::U8, Keys::U16, Keys::Rgb16, Keys::Full, Keys::Float] {
        let labels = random_labels(w, h, 7, true, &mut rng);
        let (keys, scale) = random_keys(kind, w * h, &mut rng);
        check(
            ctx,
            &format!("{kind:?}"),
            Dims::new(w, h),
            &labels,
            &keys,
            scale,
            7,
        );
    }
}

/// Objects of millions of pixels at large coordinates: Σy², Σx², Σxy and Σkey all pass 2^32
/// (the (lo, hi) carries), Σkey of RGB keys passes 2^40.
#[test]
fn measure_gpu_equals_cpu_carries_past_2_pow_32() {
    let Some(ctx) = common::gpu() else { return };
    let (w, h) = (4096, 1100);
    let n = w * h;
    let d = Dims::new(w, h);
    // one object everywhere, RGB keys near the top of their range
    let labels = vec![1u32; n];
    let keys: Vec<u32> = (0..n).map(|i| 655_350_000 - (i % 1000) as u32).collect();
    let scale = GrayScale::Int {
        scale: 10_000,
        full: 65535,
    };
    let sums = check(ctx, "4096×1100 one object", d, &labels, &keys, scale, 1);
    let s = sums[0];
    assert!(s.sum_yy > 1 << 40 && s.sum_xx > 1 << 40 && s.sum_xy > 1 << 40);
    assert!(s.sum_key > 1 << 50 && s.sum_x > 1 << 32);
    // two interleaved objects with a background frame, 16-bit keys
    let labels: Vec<u32> = (0..n)
        .map(|i| {
            let (y, x) = (i / w, i % w);
            if y == 0 || x == 0 || y == h - 1 || x == w - 1 {
                0
            } else {
                1 + ((x / 37 + y / 53) % 2) as u32
            }
        })
        .collect();
    let keys: Vec<u32> = (0..n).map(|i| 65535 - (i % 7) as u32).collect();
    let scale = GrayScale::Int {
        scale: 1,
        full: 65535,
    };
    check(ctx, "4096×1100 two objects", d, &labels, &keys, scale, 2);
    // one row / one column of 200 001 pixels: x², y² of single pixels pass 2^32 (mul64's
    // high word)
    for (w, h) in [(200_001, 1), (1, 200_001)] {
        let labels: Vec<u32> = (0..200_001u32).map(|i| 1 + (i / 5000) % 3).collect();
        let keys: Vec<u32> = (0..200_001u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        let full = GrayScale::Int { scale: 1, full: 0 };
        let d = Dims::new(w, h);
        let sums = check(ctx, &format!("{w}×{h}"), d, &labels, &keys, full, 3);
        assert!(sums.iter().all(|s| s.sum_xx.max(s.sum_yy) > 1 << 40));
    }
}

#[test]
fn measure_gpu_equals_cpu_empty_cases() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(7);
    let u8s = GrayScale::Int {
        scale: 1,
        full: 255,
    };
    for &(w, h) in SIZES {
        let n = w * h;
        let d = Dims::new(w, h);
        let (keys, _) = random_keys(Keys::U8, n, &mut rng);
        let zero = vec![0u32; n];
        // labels 0 only: objects that exist but have no pixel
        let sums = check(ctx, &format!("zeros {w}×{h}"), d, &zero, &keys, u8s, 3);
        assert!(sums.iter().all(|s| s.count == 0 && s.min_y == u32::MAX));
        // n_objects 0: no record, every label skipped
        let labels = random_labels(w, h, 4, true, &mut rng);
        let sums = check(ctx, &format!("none {w}×{h}"), d, &labels, &keys, u8s, 0);
        assert!(sums.is_empty());
        check(ctx, &format!("both {w}×{h}"), d, &zero, &keys, u8s, 0);
    }
}

#[test]
fn measure_rejects_mismatched_sizes() {
    let Some(ctx) = common::gpu() else { return };
    let d = Dims::new(3, 2);
    assert!(gpu::measure::run_measure_sums(ctx, d, &[0; 5], &[0; 6], false, 1).is_err());
    assert!(gpu::measure::run_measure_sums(ctx, d, &[0; 6], &[0; 7], false, 1).is_err());
    assert!(gpu::measure::sums_from_words(&[0; 17], 1, false, &[], &[]).is_err());
}
