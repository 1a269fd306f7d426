//! Stages **smooth** and **filter**: the GPU (`shaders/smooth.wgsl`, `shaders/filter.wgsl`)
//! equals the CPU twin byte for byte, and the twin's schedules agree
//! (`cpu::smooth::smooth` == `smooth_passes`). Smooth: u8, u16 and RGB-scaled keys up to the
//! largest integer key (and arbitrary `u32`s), sizes 1×1, 1×N, N×1, 257×131 and the other
//! awkward sizes, 0–3 passes, single passes against `smooth_rows`/`smooth_cols`. Filter: random
//! label images with tables dropping none, some or all objects, unknown labels, pooled frames.
//! CPU checks of the rounding, the replicated edges and `keep_table`'s edge cases run without a
//! GPU.

mod common;

use common::{Rng, SIZES};

use floodseg::cpu::filter::{self as cf, FilterParams};
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
                if ((i % w) / 3 + (i / w) / 2) % 2 == 0 {
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

// ---------------------------------------------------------------------------------------------
// filter

#[test]
fn filter_keep_table_edge_cases() {
    use cf::keep_table;
    // min 0, max None: the identity
    assert_eq!(keep_table(&[5, 1, 9], 0, None), (vec![0, 1, 2, 3], 3));
    // bounds are inclusive
    assert_eq!(keep_table(&[5, 1, 9], 5, None), (vec![0, 1, 0, 2], 2));
    assert_eq!(keep_table(&[5, 1, 9], 0, Some(5)), (vec![0, 1, 2, 0], 2));
    assert_eq!(keep_table(&[5, 1, 9], 5, Some(5)), (vec![0, 1, 0, 0], 1));
    assert_eq!(
        keep_table(&[5, 1, 9, 3], 2, Some(5)),
        (vec![0, 1, 0, 0, 2], 2)
    );
    // everything dropped (by min, by max, by an empty range)
    assert_eq!(keep_table(&[5, 1, 9], 10, None), (vec![0; 4], 0));
    assert_eq!(keep_table(&[5, 1, 9], 0, Some(0)), (vec![0; 4], 0));
    assert_eq!(keep_table(&[5, 1, 9], 6, Some(5)), (vec![0; 4], 0));
    // no objects; zero areas; the largest areas
    assert_eq!(keep_table(&[], 3, Some(1)), (vec![0], 0));
    assert_eq!(keep_table(&[0, 2], 0, None), (vec![0, 1, 2], 2));
    assert_eq!(keep_table(&[0, 2], 1, None), (vec![0, 0, 1], 1));
    assert_eq!(keep_table(&[u64::MAX], 0, Some(u64::MAX)), (vec![0, 1], 1));
    assert_eq!(
        keep_table(&[u64::MAX], 0, Some(u64::MAX - 1)),
        (vec![0, 0], 0)
    );
    // rank preserving: kept labels increase with the old label
    let mut rng = Rng::new(5);
    let areas: Vec<u64> = (0..500).map(|_| rng.below(50)).collect();
    let (t, kept) = keep_table(&areas, 10, Some(40));
    let news: Vec<u32> = t.iter().copied().filter(|&v| v != 0).collect();
    assert_eq!(news, (1..=kept).collect::<Vec<_>>());
    for (l, &a) in areas.iter().enumerate() {
        assert_eq!(t[l + 1] != 0, (10..=40).contains(&a), "label {}", l + 1);
    }
}

#[test]
fn filter_labels_relabels_and_zeroes_unknown_labels() {
    let dims = Dims::new(3, 2);
    let labels = [0, 1, 2, 3, 2, 7];
    let areas = cf::label_areas(&labels, 3);
    assert_eq!(areas, vec![1, 2, 1]);
    assert_eq!(
        cf::filter_labels(dims, &labels, &areas, 2, None),
        (vec![0, 0, 1, 0, 1, 0], 1)
    );
    assert_eq!(
        cf::filter_labels(dims, &labels, &areas, 0, None),
        (vec![0, 1, 2, 3, 2, 0], 3)
    );
    assert_eq!(
        cf::filter_labels(dims, &labels, &areas, 3, None),
        (vec![0; 6], 0)
    );
    // a table_len beyond the table reads nothing out of bounds
    let mut l = labels.to_vec();
    cf::filter_relabel(&FilterParams { dims, table_len: 9 }, &[0, 5], &mut l);
    assert_eq!(l, vec![0, 5, 0, 0, 0, 0]);
}

/// A random labelling with `n` objects (labels 1..=n, some absent), background 0, and a few
/// labels without a table entry when `unknown`.
fn label_image(w: usize, h: usize, n: u32, unknown: bool, rng: &mut Rng) -> Vec<u32> {
    (0..w * h)
        .map(|_| match rng.below(10) {
            0..=2 => 0,
            3 if unknown => n + 1 + rng.below(5) as u32,
            _ => 1 + rng.below(n.max(1) as u64) as u32,
        })
        .map(|l| if n == 0 && l <= 1 { 0 } else { l })
        .collect()
}

#[test]
fn filter_gpu_equals_cpu_random() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(6);
    for &(w, h) in SIZES {
        for n in [0u32, 1, 7, 300] {
            for unknown in [false, true] {
                let labels = label_image(w, h, n, unknown, &mut rng);
                let dims = Dims::new(w, h);
                let areas = cf::label_areas(&labels, n);
                let max = areas.iter().copied().max().unwrap_or(0);
                let ranges = [
                    ("none", 0, None),
                    ("some", 2, Some(max.saturating_sub(1).max(2))),
                    ("min", max / 2, None),
                    ("all", max + 1, None),
                    ("empty-range", 5, Some(4)),
                ];
                for (tag, lo, hi) in ranges {
                    let (table, kept) = cf::keep_table(&areas, lo, hi);
                    let case = format!("filter_{w}x{h}_n{n}_u{unknown}_{tag}");
                    let (want, k2) = cf::filter_labels(dims, &labels, &areas, lo, hi);
                    assert_eq!(kept, k2, "{case}: kept");
                    if tag == "none" {
                        let ident: Vec<u32> =
                            labels.iter().map(|&l| if l <= n { l } else { 0 }).collect();
                        common::assert_same(&case, "filter-identity", w, &want, &ident);
                    }
                    if tag == "all" {
                        assert!(want.iter().all(|&v| v == 0), "{case}: all dropped");
                    }
                    assert!(want.iter().all(|&v| v <= kept), "{case}: labels ≤ kept");
                    let got = gpu::filter::relabel(ctx, dims, &labels, &table)
                        .unwrap_or_else(|e| panic!("{case}: {e}"));
                    common::assert_same(&case, "filter", w, &got, &want);
                }
            }
        }
    }
}

/// `relabel_in` with a pooled frame, twice per size (the second reuses the buffers), and the
/// input buffer left unchanged; empty and one-entry tables drop everything.
#[test]
fn filter_relabel_in_pooled_frames() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(8);
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        for round in 0..2 {
            let n = 1 + rng.below(20) as u32;
            let labels = label_image(w, h, n, round == 1, &mut rng);
            let areas = cf::label_areas(&labels, n);
            let mut tables = vec![cf::keep_table(&areas, 2, None).0, vec![0], vec![]];
            tables.push((0..=n).rev().collect()); // any table, not only keep_table's
            for (ti, table) in tables.iter().enumerate() {
                let case = format!("relabel_in_{w}x{h}_r{round}_t{ti}");
                let mut want = labels.clone();
                cf::filter_relabel(&FilterParams::new(dims, table), table, &mut want);
                let mut frame = gpu::frame::Frame::new(ctx);
                let input = frame.storage_init("test.filter.labels", &labels);
                let out = gpu::filter::relabel_in(ctx, &mut frame, dims, &input, table)
                    .unwrap_or_else(|e| panic!("{case}: {e}"));
                let got = read(ctx, &out, w * h);
                common::assert_same(&case, "filter_relabel", w, &got, &want);
                common::assert_same(&case, "filter-input", w, &read(ctx, &input, w * h), &labels);
                if (1..=2).contains(&ti) {
                    assert!(got.iter().all(|&v| v == 0), "{case}: no table entries");
                }
            }
        }
    }
}

#[test]
fn filter_rejects_bad_input() {
    let Some(ctx) = common::gpu() else { return };
    let dims = Dims::new(4, 3);
    assert!(gpu::filter::relabel(ctx, dims, &[0; 11], &[0, 1]).is_err());
    assert!(gpu::filter::relabel(ctx, Dims::new(0, 3), &[], &[0]).is_err());
    // a table larger than a storage binding
    let too_long = ctx.limits().max_storage_buffer_binding_size / 4 + 1;
    if too_long <= 1 << 28 {
        let table = vec![0u32; too_long as usize];
        let e = gpu::filter::relabel(ctx, dims, &[0; 12], &table).unwrap_err();
        assert!(e.to_string().contains("table"), "{e}");
    }
}
