//! Stage **filter** (`--min-area`/`--max-area`, `--clear-border`, the shape filters): the GPU
//! (`shaders/filter.wgsl`, `floodseg::gpu::filter`) equals the CPU twin (`cpu::filter`) byte
//! for byte on random label images with tables dropping none, some or all objects, unknown
//! labels and pooled frames; and CPU checks of `keep_table`'s edge cases and of the relabelling,
//! which run without a GPU. Against scikit-image: `tests/stages/filter.rs`.

use crate::common::{self, Rng, SIZES};

use floodseg::cpu::filter::{self as cf, FilterParams};
use floodseg::cpu::Dims;
use floodseg::gpu::{self, GpuContext};

fn read(ctx: &GpuContext, b: &gpu::wgpu::Buffer, len: usize) -> Vec<u32> {
    ctx.run_and_read("test.filters.read", len, |_| Ok(b.clone()))
        .unwrap()
}

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
