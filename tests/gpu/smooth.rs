//! Stage **smooth**: the GPU (`shaders/smooth.wgsl`, `floodseg::gpu::smooth`) equals the CPU
//! twin byte for byte, and the twin's schedules agree (`cpu::smooth::smooth` ==
//! `smooth_passes`): u8, u16 and RGB-scaled keys up to the largest integer key (and arbitrary
//! `u32`s), sizes 1×1, 1×N, N×1, 257×131 and the other awkward sizes, 0–3 passes, single passes
//! against `smooth_rows`/`smooth_cols`. CPU checks of the rounding and the replicated edges run
//! without a GPU. Against SciPy: `tests/stages/smooth.rs`.

use crate::common;
use crate::common::{Rng, SIZES};

use floodseg::cpu::smooth::{self as cs, SmoothParams, MAX_INTEGER_KEY};
use floodseg::cpu::Dims;
use floodseg::gpu::{self, GpuContext};

// ---------------------------------------------------------------------------------------------
// smooth: CPU rule

fn exact(a: u32, b: u32, c: u32) -> u32 {
    ((a as u64 + 2 * b as u64 + c as u64 + 2) >> 2) as u32
}

#[test]
fn smooth_blur3_is_the_rounded_quotient_for_any_u32() {
    let edge = [
        0u32,
        1,
        2,
        3,
        4,
        5,
        7,
        MAX_INTEGER_KEY,
        u32::MAX - 3,
        u32::MAX,
    ];
    for &a in &edge {
        for &b in &edge {
            for &c in &edge {
                assert_eq!(cs::blur3(a, b, c), exact(a, b, c), "blur3({a}, {b}, {c})");
            }
        }
    }
    let mut rng = Rng::new(1);
    for _ in 0..200_000 {
        let (a, b, c) = (rng.u32(), rng.u32(), rng.u32());
        assert_eq!(cs::blur3(a, b, c), exact(a, b, c), "blur3({a}, {b}, {c})");
        let (a, b, c) = (a % 4096, b % 4096, c % 4096);
        assert_eq!(cs::blur3(a, b, c), (a + 2 * b + c + 2) >> 2);
    }
    // the module doc's bound: the integer keys' plain sum fits a u32
    assert_eq!(MAX_INTEGER_KEY, 2125 * 65535 + 7154 * 65535 + 721 * 65535);
    assert!(4 * MAX_INTEGER_KEY as u64 + 2 < 1 << 32);
}

#[test]
fn smooth_rounds_half_up() {
    assert_eq!(cs::blur3(0, 0, 2), 1); // 2/4 = 0.5 → 1
    assert_eq!(cs::blur3(0, 0, 1), 0); // 0.25 → 0
    assert_eq!(cs::blur3(0, 1, 1), 1); // 0.75 → 1
    assert_eq!(cs::blur3(1, 0, 1), 1); // 0.5 → 1
    assert_eq!(cs::blur3(3, 4, 4), 4); // 15/4 = 3.75 → 4
    assert_eq!(cs::blur3(2, 4, 4), 4); // 14/4 = 3.5 → 4
    assert_eq!(cs::blur3(1, 4, 4), 3); // 13/4 = 3.25 → 3
    assert_eq!(cs::blur3(9, 9, 9), 9);
}

fn sp(w: usize, h: usize, passes: u32) -> SmoothParams {
    SmoothParams {
        dims: Dims::new(w, h),
        passes,
    }
}

#[test]
fn smooth_replicates_edges() {
    // one row [0, 0, 8]: [ (0+0+0+2)>>2, (0+0+8+2)>>2, (0+16+8+2)>>2 ] = [0, 2, 6]
    let mut d = vec![0; 3];
    cs::smooth_rows(&sp(3, 1, 1), &[0, 0, 8], &mut d);
    assert_eq!(d, vec![0, 2, 6]);
    // the same along a column
    cs::smooth_cols(&sp(1, 3, 1), &[0, 0, 8], &mut d);
    assert_eq!(d, vec![0, 2, 6]);
    // a single row's column step (and a single column's row step) is the identity
    cs::smooth_cols(&sp(3, 1, 1), &[0, 0, 8], &mut d);
    assert_eq!(d, vec![0, 0, 8]);
    cs::smooth_rows(&sp(1, 3, 1), &[0, 0, 8], &mut d);
    assert_eq!(d, vec![0, 0, 8]);
    for p in [sp(3, 1, 1), sp(1, 3, 1)] {
        assert_eq!(cs::smooth(&p, &[0, 0, 8]), vec![0, 2, 6], "{p:?}");
        assert_eq!(cs::smooth_passes(&p, &[0, 0, 8]), vec![0, 2, 6], "{p:?}");
    }
    // an impulse: rows then columns give the binomial [1 2 1] ⊗ [1 2 1]
    let mut img = vec![0u32; 9];
    img[4] = 16;
    assert_eq!(
        cs::smooth_passes(&sp(3, 3, 1), &img),
        vec![1, 2, 1, 2, 4, 2, 1, 2, 1]
    );
    // a corner impulse: the replicated edge keeps the mass near the corner
    let mut img = vec![0u32; 9];
    img[0] = 16;
    assert_eq!(
        cs::smooth_passes(&sp(3, 3, 1), &img),
        vec![9, 3, 0, 3, 1, 0, 0, 0, 0]
    );
    // constants stay, 1×1 is the identity, 0 passes and empty images are copies
    assert_eq!(cs::smooth(&sp(4, 3, 3), &[7; 12]), vec![7; 12]);
    assert_eq!(
        cs::smooth(&sp(2, 2, 3), &[MAX_INTEGER_KEY; 4]),
        vec![MAX_INTEGER_KEY; 4]
    );
    assert_eq!(cs::smooth(&sp(1, 1, 2), &[u32::MAX]), vec![u32::MAX]);
    assert_eq!(cs::smooth(&sp(2, 2, 0), &[1, 2, 3, 4]), vec![1, 2, 3, 4]);
    assert!(cs::smooth(&sp(0, 5, 2), &[]).is_empty());
    assert!(cs::smooth_passes(&sp(5, 0, 2), &[]).is_empty());
}

// ---------------------------------------------------------------------------------------------
// smooth: key images, schedules, GPU

#[derive(Clone, Copy, Debug)]
enum Keys {
    U8,
    U16,
    Rgb8,
    Rgb16,
    /// 0 and the largest integer key, alternating in blocks (largest steps).
    Extremes,
    /// Arbitrary u32 (float order keys are in this range).
    Any,
}

fn keys(kind: Keys, w: usize, h: usize, rng: &mut Rng) -> Vec<u32> {
    let rgb = |r: u32, g: u32, b: u32| 2125 * r + 7154 * g + 721 * b;
    (0..w * h)
        .map(|i| match kind {
            Keys::U8 => rng.below(256) as u32,
            Keys::U16 => rng.below(65536) as u32,
            Keys::Rgb8 => rgb(
                rng.below(256) as u32,
                rng.below(256) as u32,
                rng.below(256) as u32,
            ),
            Keys::Rgb16 => {
                // a quarter of the pixels white (the largest key)
                if rng.below(4) == 0 {
                    MAX_INTEGER_KEY
                } else {
                    rgb(
                        rng.below(65536) as u32,
                        rng.below(65536) as u32,
                        rng.below(65536) as u32,
                    )
                }
            }
            Keys::Extremes => {
                if ((i % w) / 3 + (i / w) / 2).is_multiple_of(2) {
                    MAX_INTEGER_KEY
                } else {
                    0
                }
            }
            Keys::Any => rng.u32(),
        })
        .collect()
}

const KINDS: [Keys; 6] = [
    Keys::U8,
    Keys::U16,
    Keys::Rgb8,
    Keys::Rgb16,
    Keys::Extremes,
    Keys::Any,
];

fn smooth_sizes() -> Vec<(usize, usize)> {
    let mut v = SIZES.to_vec();
    v.extend([(1, 300), (300, 1), (2, 2), (257, 131)]);
    v.sort();
    v.dedup();
    v
}

#[test]
fn smooth_fast_equals_passes() {
    let mut rng = Rng::new(2);
    for (w, h) in smooth_sizes() {
        for kind in KINDS {
            let k = keys(kind, w, h, &mut rng);
            for passes in 0..=3 {
                let p = sp(w, h, passes);
                let case = format!("smooth_{w}x{h}_{kind:?}_p{passes}");
                let want = cs::smooth_passes(&p, &k);
                common::assert_same(&case, "smooth-fast", w, &cs::smooth(&p, &k), &want);
                // never above the largest key, never below the smallest
                let (lo, hi) = (k.iter().min().unwrap(), k.iter().max().unwrap());
                assert!(want.iter().all(|v| v >= lo && v <= hi), "{case}: range");
            }
        }
    }
}

#[test]
fn smooth_gpu_equals_cpu() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(3);
    for (w, h) in smooth_sizes() {
        for kind in KINDS {
            let k = keys(kind, w, h, &mut rng);
            for passes in 0..=3 {
                let p = sp(w, h, passes);
                let case = format!("smooth_{w}x{h}_{kind:?}_p{passes}");
                let want = cs::smooth_passes(&p, &k);
                let got = gpu::smooth::smooth_image(ctx, &p, &k)
                    .unwrap_or_else(|e| panic!("{case}: {e}"));
                common::assert_same(&case, "smooth", w, &got, &want);
            }
        }
    }
}

fn read(ctx: &GpuContext, b: &gpu::wgpu::Buffer, len: usize) -> Vec<u32> {
    ctx.run_and_read("test.filters.read", len, |_| Ok(b.clone()))
        .unwrap()
}

/// Each pass alone vs its twin function; the recording function leaves `src` unchanged.
#[test]
fn smooth_passes_equal_twin_functions() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(4);
    for (w, h) in smooth_sizes() {
        let k = keys(Keys::Rgb16, w, h, &mut rng);
        let p = sp(w, h, 2);
        let n = w * h;
        let (mut tr, mut tc) = (vec![0; n], vec![0; n]);
        cs::smooth_rows(&p, &k, &mut tr);
        cs::smooth_cols(&p, &k, &mut tc);
        let src = ctx.storage_init("test.smooth.src", &k);
        let (gr, gc) = (ctx.storage("test.rows", n), ctx.storage("test.cols", n));
        let (scratch, dst) = (ctx.storage("test.scratch", n), ctx.storage("test.dst", n));
        let mut enc = ctx.encoder("test.smooth");
        gpu::smooth::smooth_rows(ctx, &mut enc, &p, &src, &gr);
        gpu::smooth::smooth_cols(ctx, &mut enc, &p, &src, &gc);
        gpu::smooth::smooth(ctx, &mut enc, &p, &src, &scratch, &dst);
        ctx.queue().submit([enc.finish()]);
        let case = format!("smooth_pass_{w}x{h}");
        common::assert_same(&case, "smooth_rows", w, &read(ctx, &gr, n), &tr);
        common::assert_same(&case, "smooth_cols", w, &read(ctx, &gc, n), &tc);
        let want = cs::smooth_passes(&p, &k);
        common::assert_same(&case, "smooth", w, &read(ctx, &dst, n), &want);
        common::assert_same(&case, "smooth-src", w, &read(ctx, &src, n), &k);
    }
}

#[test]
fn smooth_rejects_bad_input() {
    let Some(ctx) = common::gpu() else { return };
    assert!(gpu::smooth::smooth_image(ctx, &sp(4, 3, 1), &[0; 11]).is_err());
    assert!(gpu::smooth::smooth_image(ctx, &sp(0, 3, 1), &[]).is_err());
}
