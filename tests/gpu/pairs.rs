//! Stage **pairs** (the tracker's overlap matrix): the GPU (`shaders/pairs.wgsl`,
//! `floodseg::gpu::pairs`) equals the CPU twin (`cpu::pairs::pair_histogram`) exactly — the
//! same sorted (prev, cur, pixels) list — on seeded random label images at sizes that break
//! index arithmetic (compact, sparse and extreme labels up to `u32::MAX`, one label, no label,
//! noise with thousands of pairs, cells moved by the shift), on random shifts including shifts
//! past the frame and `i32::MIN`/`i32::MAX`, for every run length per invocation, through
//! retries of an overflowing table (tiny first tables, one probe) and the `Error::Limit` of a
//! table that may not grow, on a frame past 65 535 workgroups, and through
//! `Segmenter::pair_histogram` on both backends (bad sizes are `BadData`). CPU-only: the table
//! reader rejects overflowed, half-written and duplicated tables.

use crate::common::{self, Rng, SIZES};

use floodseg::backend::{Backend, Segmenter};
use floodseg::cpu::pairs::{pair_histogram, PairCount};
use floodseg::cpu::Dims;
use floodseg::gpu::pairs::{self, PairsOptions, PairsReport};
use floodseg::gpu::GpuContext;
use floodseg::Error;

/// Kinds of random label images.
#[derive(Clone, Copy, Debug)]
enum Labels {
    /// All 0.
    Empty,
    /// One label everywhere.
    One(u32),
    /// Runs along rows of labels 0..=k.
    Compact(u32),
    /// Runs of labels drawn from a palette of `n` random nonzero u32 (with u32::MAX − 1 and
    /// u32::MAX), 0 in between.
    Sparse(usize),
    /// Every pixel its own draw of 0..=k (few runs, many pairs).
    Noise(u32),
}

const KINDS: &[Labels] = &[
    Labels::Empty,
    Labels::One(1),
    Labels::One(u32::MAX - 1),
    Labels::Compact(1),
    Labels::Compact(5),
    Labels::Compact(300),
    Labels::Sparse(7),
    Labels::Noise(40),
];

fn labels(kind: Labels, w: usize, h: usize, rng: &mut Rng) -> Vec<u32> {
    let n = w * h;
    match kind {
        Labels::Empty => vec![0; n],
        Labels::One(l) => vec![l; n],
        Labels::Noise(k) => (0..n).map(|_| rng.below(k as u64 + 1) as u32).collect(),
        Labels::Compact(_) | Labels::Sparse(_) => {
            let palette: Vec<u32> = match kind {
                Labels::Sparse(m) => {
                    let mut p = vec![u32::MAX - 1, u32::MAX];
                    p.extend((0..m).map(|_| rng.u32().max(1)));
                    p
                }
                _ => Vec::new(),
            };
            let draw = |rng: &mut Rng| -> u32 {
                match kind {
                    Labels::Compact(k) => rng.below(k as u64 + 1) as u32,
                    _ if rng.below(3) == 0 => 0,
                    _ => palette[rng.below(palette.len() as u64) as usize],
                }
            };
            let mut v = vec![0u32; n];
            let mut cur = draw(rng);
            for p in v.iter_mut() {
                if rng.below(6) == 0 {
                    cur = draw(rng);
                }
                *p = cur;
            }
            v
        }
    }
}

/// Rectangular cells labelled 1.., and the same cells moved by `shift` (some pixels relabelled,
/// as a segmentation of the next frame would): the tracker's case.
fn cells(w: usize, h: usize, shift: (i32, i32), rng: &mut Rng) -> (Vec<u32>, Vec<u32>) {
    let mut prev = vec![0u32; w * h];
    let n = 1 + (w * h / 200) as u32;
    for l in 1..=n {
        let (cy, cx) = (rng.below(h as u64) as usize, rng.below(w as u64) as usize);
        let (ry, rx) = (1 + rng.below(6) as usize, 1 + rng.below(12) as usize);
        for y in cy.saturating_sub(ry)..(cy + ry).min(h) {
            for x in cx.saturating_sub(rx)..(cx + rx).min(w) {
                prev[y * w + x] = l;
            }
        }
    }
    let mut cur = vec![0u32; w * h];
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            let (py, px) = (y - shift.0 as i64, x - shift.1 as i64);
            if py >= 0 && px >= 0 && py < h as i64 && px < w as i64 {
                let l = prev[py as usize * w + px as usize];
                cur[y as usize * w + x as usize] = if l != 0 && rng.below(50) == 0 {
                    l % n + 1
                } else {
                    l
                };
            }
        }
    }
    (prev, cur)
}

fn pc(prev: u32, cur: u32, pixels: u32) -> PairCount {
    PairCount { prev, cur, pixels }
}

/// The first difference between two pair lists, for a readable failure.
fn first_difference(got: &[PairCount], want: &[PairCount]) -> String {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if g != w {
            return format!("entry {i}: got {g:?}, want {w:?}");
        }
    }
    format!("{} entries, want {}", got.len(), want.len())
}

/// GPU == twin on one case with `opts`; returns what the run did.
#[allow(clippy::too_many_arguments)]
fn check_with(
    ctx: &GpuContext,
    case: &str,
    prev: &[u32],
    cur: &[u32],
    w: usize,
    h: usize,
    shift: (i32, i32),
    opts: &PairsOptions,
) -> PairsReport {
    let want = pair_histogram(prev, cur, w, h, shift);
    let (got, report) = pairs::run_pair_histogram_with(ctx, prev, cur, w, h, shift, opts)
        .unwrap_or_else(|e| panic!("{case}: stage pairs: {e}"));
    assert!(
        got == want,
        "{case} ({w}×{h}, shift {shift:?}, {opts:?}): stage pairs differs: {}",
        first_difference(&got, &want)
    );
    report
}

fn check(
    ctx: &GpuContext,
    case: &str,
    prev: &[u32],
    cur: &[u32],
    w: usize,
    h: usize,
    shift: (i32, i32),
) {
    check_with(ctx, case, prev, cur, w, h, shift, &PairsOptions::default());
}

/// A random shift: mostly small, sometimes up to and past the frame.
fn random_shift(w: usize, h: usize, rng: &mut Rng) -> (i32, i32) {
    let axis = |n: usize, rng: &mut Rng| -> i32 {
        match rng.below(4) {
            0 => 0,
            1 | 2 => rng.below(7) as i32 - 3,
            _ => rng.below(2 * n as u64 + 5) as i32 - n as i32 - 2,
        }
    };
    (axis(h, rng), axis(w, rng))
}

#[test]
fn pairs_gpu_equals_cpu_random() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(0x9a1e5);
    let mut nonempty = 0;
    for &(w, h) in SIZES.iter().chain(&[(2, 2), (3, 97), (131, 5)]) {
        for &kp in KINDS {
            let prev = labels(kp, w, h, &mut rng);
            let kc = KINDS[rng.below(KINDS.len() as u64) as usize];
            let cur = labels(kc, w, h, &mut rng);
            for _ in 0..3 {
                let shift = random_shift(w, h, &mut rng);
                check(
                    ctx,
                    &format!("{kp:?} over {kc:?}"),
                    &prev,
                    &cur,
                    w,
                    h,
                    shift,
                );
                nonempty += !pair_histogram(&prev, &cur, w, h, shift).is_empty() as usize;
            }
        }
    }
    assert!(nonempty > 50, "only {nonempty} cases have pairs");
}

#[test]
fn pairs_gpu_equals_cpu_on_moving_cells() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(0xce11);
    for &(w, h) in &[(64usize, 64usize), (257, 131), (100, 7)] {
        for shift in [(0, 0), (2, -3), (-5, 1), (0, 11)] {
            let (prev, cur) = cells(w, h, shift, &mut rng);
            check(ctx, "cells", &prev, &cur, w, h, shift);
            // the wrong shift too
            check(ctx, "cells, no shift", &prev, &cur, w, h, (0, 0));
        }
    }
}

#[test]
fn pairs_gpu_equals_cpu_at_extreme_labels_and_shifts() {
    let Some(ctx) = common::gpu() else { return };
    let (w, h) = (13, 9);
    let mut rng = Rng::new(0xe8);
    let top = [u32::MAX, u32::MAX - 1, 1, 0x8000_0000];
    let prev: Vec<u32> = (0..w * h).map(|_| top[rng.below(4) as usize]).collect();
    let cur: Vec<u32> = (0..w * h).map(|_| top[rng.below(4) as usize]).collect();
    for shift in [
        (0, 0),
        (1, 1),
        (-8, 12),
        (8, -12),
        (9, 0),
        (0, 13),
        (-9, 0),
        (0, -13),
        (i32::MIN, 0),
        (0, i32::MAX),
        (i32::MAX, i32::MIN),
    ] {
        check(ctx, "extreme", &prev, &cur, w, h, shift);
    }
    // 16 pairs of labels ≥ 2^31 cover the frame with no shift
    assert_eq!(pair_histogram(&prev, &cur, w, h, (0, 0)).len(), 16);
    // past the frame: nothing
    for shift in [(9, 0), (0, -13), (i32::MIN, i32::MIN)] {
        let got = pairs::run_pair_histogram(ctx, &prev, &cur, w, h, shift).unwrap();
        assert!(got.is_empty(), "{shift:?}: {got:?}");
    }
    // an empty frame has no pairs
    assert!(pairs::run_pair_histogram(ctx, &[], &[], 0, 7, (0, 0))
        .unwrap()
        .is_empty());
}

#[test]
fn pairs_chunk_lengths_agree() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(0xc4);
    let (w, h) = (257, 31);
    let prev = labels(Labels::Compact(9), w, h, &mut rng);
    let cur = labels(Labels::Sparse(5), w, h, &mut rng);
    for chunk in [1, 2, 7, 16, 64, 256, 257, 1000, u32::MAX] {
        let opts = PairsOptions {
            chunk,
            ..Default::default()
        };
        for shift in [(0, 0), (3, -17), (-2, 200)] {
            check_with(
                ctx,
                &format!("chunk {chunk}"),
                &prev,
                &cur,
                w,
                h,
                shift,
                &opts,
            );
        }
    }
}

#[test]
fn pairs_overflow_retries_with_a_larger_table() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(0x0f);
    let (w, h) = (97, 61);
    let prev = labels(Labels::Noise(60), w, h, &mut rng);
    let cur = labels(Labels::Noise(60), w, h, &mut rng);
    let distinct = pair_histogram(&prev, &cur, w, h, (1, -2)).len();
    assert!(distinct > 2000, "{distinct} pairs");
    // one slot, one probe: every table but the last overflows
    for (first_capacity, max_probes) in [(1, 1), (1, 64), (4, 2), (64, 1)] {
        let opts = PairsOptions {
            first_capacity,
            max_probes,
            ..Default::default()
        };
        let r = check_with(ctx, "tiny table", &prev, &cur, w, h, (1, -2), &opts);
        assert!(r.attempts > 1, "{opts:?}: {r:?}");
        assert!(r.capacity as usize >= distinct, "{opts:?}: {r:?}");
    }
    // a frame of cells needs one table
    let (cp, cc) = cells(w, h, (1, -2), &mut rng);
    let r = check_with(
        ctx,
        "cells",
        &cp,
        &cc,
        w,
        h,
        (1, -2),
        &PairsOptions::default(),
    );
    assert_eq!(
        r,
        PairsReport {
            attempts: 1,
            capacity: pairs::FIRST_CAPACITY
        },
        "{r:?}"
    );
    // a table that may not grow past the pairs: the last one probes without bound, and fits
    let opts = PairsOptions {
        first_capacity: 1,
        max_probes: 1,
        max_capacity: distinct.next_power_of_two() as u32,
        ..Default::default()
    };
    let r = check_with(ctx, "capped table", &prev, &cur, w, h, (1, -2), &opts);
    assert!(r.capacity < (2 * w * h) as u32, "{r:?}");
    // … and one smaller than the pairs: a limit error, not a truncated answer
    let opts = PairsOptions {
        max_capacity: 1024,
        ..Default::default()
    };
    let e = pairs::run_pair_histogram_with(ctx, &prev, &cur, w, h, (1, -2), &opts).unwrap_err();
    assert!(matches!(e, Error::Limit(_)), "{e}");
    // the context is still fine
    check(ctx, "after the limit", &prev, &cur, w, h, (0, 0));
}

#[test]
fn pairs_gpu_folds_wide_frames_into_2d() {
    let Some(ctx) = common::gpu() else { return };
    // one pixel per invocation: the 1024 × 4096 pixels that a 4099 × 1025 frame compares at
    // shift (−1, 3) need 65 536 workgroups of 64, one more than a dimension may have
    let (w, h, shift) = (4099, 1025, (-1, 3));
    let max = ctx.limits().max_compute_workgroups_per_dimension;
    let window = (h - 1) * (w - 3);
    assert!(
        ctx.workgroups(window as u32).1 > 1,
        "{window} invocations do not fold (max {max} workgroups per dimension)"
    );
    let mut rng = Rng::new(0xf01d);
    let prev = labels(Labels::Compact(200), w, h, &mut rng);
    let cur = labels(Labels::Compact(200), w, h, &mut rng);
    let one = PairsOptions {
        chunk: 1,
        ..Default::default()
    };
    check_with(ctx, "2-D fold", &prev, &cur, w, h, shift, &one);
    check(ctx, "wide, default chunk", &prev, &cur, w, h, (2, -1));
}

#[test]
fn pairs_segmenter_on_both_backends() {
    if common::gpu().is_none() {
        return;
    }
    let gpu = Segmenter::new(Backend::Gpu).unwrap();
    let cpu = Segmenter::new(Backend::Cpu).unwrap();
    let mut rng = Rng::new(0x5e9);
    let (w, h) = (57, 33);
    let (prev, cur) = cells(w, h, (1, 2), &mut rng);
    for shift in [(1, 2), (0, 0), (-40, 3)] {
        let want = pair_histogram(&prev, &cur, w, h, shift);
        assert_eq!(cpu.pair_histogram(&prev, &cur, w, h, shift).unwrap(), want);
        assert_eq!(gpu.pair_histogram(&prev, &cur, w, h, shift).unwrap(), want);
    }
    for s in [&gpu, &cpu] {
        let bad = [
            s.pair_histogram(&prev[1..], &cur, w, h, (0, 0)),
            s.pair_histogram(&prev, &cur[1..], w, h, (0, 0)),
            s.pair_histogram(&prev, &cur, w + 1, h, (0, 0)),
            s.pair_histogram(&[], &[], usize::MAX, 2, (0, 0)),
        ];
        for r in bad {
            assert!(matches!(r, Err(Error::BadData(_))), "{}: {r:?}", s.kind());
        }
        assert_eq!(s.pair_histogram(&[], &[], 0, 0, (0, 0)).unwrap(), vec![]);
        assert_eq!(s.pair_histogram(&[], &[], 5, 0, (1, 1)).unwrap(), vec![]);
    }
}

#[test]
fn pairs_rejects_bad_device_buffers() {
    let Some(ctx) = common::gpu() else { return };
    let small = ctx.storage_init("test.pairs.small", &[1; 15]);
    let full = ctx.storage_init("test.pairs.full", &[1; 16]);
    let dims = Dims::new(4, 4);
    for (p, c) in [(&small, &full), (&full, &small)] {
        let r = pairs::pair_histogram(ctx, dims, p, c, (0, 0));
        assert!(matches!(r, Err(Error::BadData(_))), "{r:?}");
    }
    assert_eq!(
        pairs::pair_histogram(ctx, dims, &full, &full, (1, 0)).unwrap(),
        vec![pc(1, 1, 12)]
    );
}

#[test]
fn pairs_table_reader_rejects_broken_tables() {
    let h = pairs::HEADER;
    let table = |slots: &[[u32; 3]], flag: u32| -> Vec<u32> {
        let mut v = vec![0u32; h];
        v[pairs::OVERFLOW] = flag;
        v.extend(slots.iter().flatten());
        v
    };
    let ok = table(&[[0, 0, 0], [3, 1, 2], [1, 9, 1], [0, 0, 0]], 0);
    assert_eq!(
        pairs::pairs_from_table(&ok).unwrap(),
        vec![pc(1, 9, 1), pc(3, 1, 2)]
    );
    for bad in [
        table(&[[3, 1, 2]], 1),
        table(&[[3, 0, 0]], 0),
        table(&[[3, 1, 0]], 0),
        table(&[[0, 0, 5]], 0),
        table(&[[3, 1, 2], [3, 1, 4]], 0),
        vec![0; h + 2],
        vec![0; h - 1],
    ] {
        let r = pairs::pairs_from_table(&bad);
        assert!(matches!(r, Err(Error::Backend(_))), "{bad:?}: {r:?}");
    }
}

/// Time of one 1024² pair histogram on this adapter and on the CPU twin (prints only):
/// `cargo test --release --test gpu pairs_time -- --ignored --nocapture`.
#[test]
#[ignore]
fn pairs_time_1024() {
    let Some(ctx) = common::gpu() else { return };
    let (w, h) = (1024, 1024);
    let mut rng = Rng::new(0x71);
    let shift = (2, -3);
    let dense = cells(w, h, shift, &mut rng);
    let noise = (
        labels(Labels::Noise(40), w, h, &mut rng),
        labels(Labels::Noise(40), w, h, &mut rng),
    );
    let time = |f: &dyn Fn()| -> f64 {
        f();
        let t = std::time::Instant::now();
        for _ in 0..10 {
            f();
        }
        t.elapsed().as_secs_f64() * 100.0
    };
    for (name, (prev, cur)) in [("cells", dense), ("noise", noise)] {
        let want = pair_histogram(&prev, &cur, w, h, shift);
        let cpu = time(&|| {
            std::hint::black_box(pair_histogram(&prev, &cur, w, h, shift));
        });
        let p = ctx.storage_init("test.pairs.prev", &prev);
        let c = ctx.storage_init("test.pairs.cur", &cur);
        let dims = Dims::new(w, h);
        for chunk in [16, 64] {
            for first_capacity in [0, pairs::FIRST_CAPACITY, 1 << 16] {
                let opts = PairsOptions {
                    chunk,
                    first_capacity,
                    ..Default::default()
                };
                let report = std::cell::Cell::new(PairsReport::default());
                let gpu = time(&|| {
                    let (got, r) =
                        pairs::pair_histogram_with(ctx, dims, &p, &c, shift, &opts).unwrap();
                    assert_eq!(got.len(), want.len());
                    report.set(r);
                });
                eprintln!(
                    "pairs 1024² {name} ({} pairs) on {}: chunk {chunk}, first table \
                     {first_capacity}: {gpu:.2} ms on device buffers ({:?}); CPU twin {cpu:.2} ms",
                    want.len(),
                    ctx.adapter_description(),
                    report.get()
                );
            }
        }
        let upload = time(&|| {
            pairs::run_pair_histogram(ctx, &prev, &cur, w, h, shift).unwrap();
        });
        eprintln!("pairs 1024² {name}: with the upload {upload:.2} ms");
    }
}
