//! Stage **watershed** on the GPU equals its CPU twin byte for byte: the labels equal both
//! `cpu::watershed::watershed` (priority flood) and `cpu::watershed::watershed_jacobi` (the
//! shader's schedule), and the final costs and label states (label, best predecessor) equal the
//! twin's Jacobi fixed point. Cases: every fixture (stage inputs from the CPU pipeline), seeded
//! random masks / distances / markers at sizes that break index arithmetic, plateaus (d² in
//! 1..=4, so ties and the arrival rule decide), mask components without markers (stay 0),
//! all-foreground with one marker, empty, 1×N, N×1. Sweep and batch counts of the 257×131
//! cases are printed (`--nocapture`).

use crate::common;
use crate::common::{Rng, SIZES};

use floodseg::cpu::distance::DistanceMode;
use floodseg::cpu::watershed::{self as cws, WsParams};
use floodseg::cpu::{self, Dims, NONE};
use floodseg::gpu::watershed::{self as gws, WsState};
use floodseg::gpu::{self, GpuContext};

/// The twin's Jacobi fixed point: final costs, label states before `ws_output`, and labels.
struct Twin {
    cost_m: Vec<u32>,
    cost_h: Vec<u32>,
    label: Vec<u32>,
    pred: Vec<u32>,
    labels: Vec<u32>,
    /// Sweeps of the tiled loops (`ws_cost_tile`, `ws_label_tile`: the GPU's schedule).
    cost_sweeps: u32,
    label_sweeps: u32,
}

fn twin_jacobi(dims: Dims, mask: &[u32], d2: &[u32], markers: &[u32]) -> Twin {
    let p = WsParams { dims };
    let n = dims.len();
    let (mut m0, mut h0, mut m1, mut h1) = (vec![0; n], vec![0; n], vec![0; n], vec![0; n]);
    cws::ws_init(&p, markers, d2, &mut m0, &mut h0);
    let (init_m, init_h) = (m0.clone(), h0.clone());
    loop {
        let mut changed = 0;
        cws::ws_cost(&p, mask, d2, &m0, &h0, &mut m1, &mut h1, &mut changed);
        std::mem::swap(&mut m0, &mut m1);
        std::mem::swap(&mut h0, &mut h1);
        if changed == 0 {
            break;
        }
    }
    // The tiled schedule (the GPU's) reaches the same fixed point, in fewer sweeps.
    let (tx, ty) = cws::tiles(dims);
    let all = vec![1u32; tx * ty];
    let (mut tm0, mut th0, mut tm1, mut th1) = (init_m, init_h, vec![0; n], vec![0; n]);
    let mut cost_sweeps = 0;
    let mut run = all.clone();
    loop {
        let (mut changed, mut next) = (0, vec![0; all.len()]);
        cws::ws_cost_tile(
            &p,
            mask,
            d2,
            &tm0,
            &th0,
            &mut tm1,
            &mut th1,
            &mut changed,
            &run,
            &mut next,
        );
        cost_sweeps += 1;
        run = next;
        std::mem::swap(&mut tm0, &mut tm1);
        std::mem::swap(&mut th0, &mut th1);
        if changed & cws::SWEEP_AGAIN == 0 {
            break;
        }
    }
    assert!(
        tm0 == m0 && th0 == h0,
        "tiled and Jacobi cost loops end apart"
    );
    let (mut l0, mut p0, mut l1, mut p1) = (vec![0; n], vec![0; n], vec![0; n], vec![0; n]);
    cws::ws_label_init(&p, markers, &mut l0, &mut p0);
    let (init_l, init_p) = (l0.clone(), p0.clone());
    loop {
        let mut changed = 0;
        cws::ws_label(
            &p,
            markers,
            mask,
            d2,
            &m0,
            &h0,
            &l0,
            &p0,
            &mut l1,
            &mut p1,
            &mut changed,
        );
        std::mem::swap(&mut l0, &mut l1);
        std::mem::swap(&mut p0, &mut p1);
        if changed == 0 {
            break;
        }
    }
    // The tiled schedule (the GPU's) reaches the same label states, in fewer sweeps.
    let (mut tl0, mut tp0, mut tl1, mut tp1) = (init_l, init_p, vec![0; n], vec![0; n]);
    let mut label_sweeps = 0;
    let mut run = all.clone();
    loop {
        let (mut changed, mut next) = (0, vec![0; all.len()]);
        cws::ws_label_tile(
            &p,
            markers,
            mask,
            d2,
            &m0,
            &h0,
            &tl0,
            &tp0,
            &mut tl1,
            &mut tp1,
            &mut changed,
            &run,
            &mut next,
        );
        label_sweeps += 1;
        run = next;
        std::mem::swap(&mut tl0, &mut tl1);
        std::mem::swap(&mut tp0, &mut tp1);
        if changed & cws::SWEEP_AGAIN == 0 {
            break;
        }
    }
    assert!(
        tl0 == l0 && tp0 == p0,
        "tiled and Jacobi label loops end apart"
    );
    let mut labels = l0.clone();
    cws::ws_output(&p, &mut labels);
    Twin {
        cost_m: m0,
        cost_h: h0,
        label: l0,
        pred: p0,
        labels,
        cost_sweeps,
        label_sweeps,
    }
}

/// GPU vs both CPU schedules, labels and intermediate buffers. Returns the GPU state.
fn check(
    ctx: &GpuContext,
    case: &str,
    dims: Dims,
    mask: &[u32],
    d2: &[u32],
    markers: &[u32],
) -> WsState {
    let w = dims.width as usize;
    let twin = twin_jacobi(dims, mask, d2, markers);
    let flood = cws::watershed(dims, mask, d2, markers);
    common::assert_same(
        case,
        "watershed-twin-flood-vs-jacobi",
        w,
        &twin.labels,
        &flood,
    );
    let t0 = std::time::Instant::now();
    let got = gws::run_watershed_state(ctx, dims, mask, d2, markers)
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    common::assert_same(case, "watershed.cost_m", w, &got.cost_m, &twin.cost_m);
    common::assert_same(case, "watershed.cost_h", w, &got.cost_h, &twin.cost_h);
    common::assert_same(case, "watershed.label", w, &got.label, &twin.label);
    common::assert_same(case, "watershed.pred", w, &got.pred, &twin.pred);
    common::assert_same(case, "watershed", w, &got.labels, &flood);
    let plain =
        gws::run_watershed(ctx, dims, mask, d2, markers).unwrap_or_else(|e| panic!("{case}: {e}"));
    common::assert_same(case, "watershed-run", w, &plain, &flood);
    // The GPU's loops run the twin's (tiled) sweeps, no more and no fewer (it may record a
    // few extra that copy or return at once).
    assert_eq!(
        got.stats.cost_ran, twin.cost_sweeps,
        "{case}: {:?}",
        got.stats
    );
    assert_eq!(
        got.stats.label_ran, twin.label_sweeps,
        "{case}: {:?}",
        got.stats
    );
    assert!(
        got.stats.cost_sweeps >= twin.cost_sweeps && got.stats.label_sweeps >= twin.label_sweeps,
        "{case}: {:?}",
        got.stats
    );
    let t = t0.elapsed();
    if dims.width == 257 && dims.height == 131 || t.as_millis() > 500 {
        eprintln!(
            "watershed {case}: twin sweeps cost {} label {}; gpu {:?}, {t:.2?}",
            twin.cost_sweeps, twin.label_sweeps, got.stats
        );
    }
    got
}

#[test]
fn watershed_gpu_equals_cpu_on_fixtures() {
    let Some(ctx) = common::gpu() else { return };
    let cases = common::fixture_cases();
    assert!(!cases.is_empty(), "no fixtures found");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let args = std::fs::read_to_string(case.join("args.txt")).unwrap();
        let params = common::parse_args(&args);
        let img = floodseg::io::read_image(&common::fixture_input(&case))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let st = floodseg::pipeline::segment_cpu(&img, &params)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let got = check(ctx, &name, st.dims, &st.opened, &st.distance2, &st.markers);
        let w = st.dims.width as usize;
        common::assert_same(&name, "watershed-vs-pipeline", w, &got.labels, &st.labels);
    }
}

/// Kinds of random 0/1 masks.
#[derive(Clone, Copy, Debug)]
enum MaskKind {
    Empty,
    Full,
    Noise(u64),
    Blobs,
}

fn random_mask(kind: MaskKind, w: usize, h: usize, rng: &mut Rng) -> Vec<u32> {
    match kind {
        MaskKind::Empty => vec![0; w * h],
        MaskKind::Full => vec![1; w * h],
        MaskKind::Noise(p) => (0..w * h).map(|_| (rng.below(100) < p) as u32).collect(),
        MaskKind::Blobs => {
            let mut m = vec![0u32; w * h];
            let n = 1 + (w * h / 300) as u64;
            for _ in 0..n {
                let cy = rng.below(h as u64) as i64;
                let cx = rng.below(w as u64) as i64;
                let r = 1 + rng.below(12) as i64;
                for y in 0..h as i64 {
                    for x in 0..w as i64 {
                        let (dy, dx) = (y - cy, x - cx);
                        if dy * dy + dx * dx <= r * r {
                            m[y as usize * w + x as usize] = 1;
                        }
                    }
                }
            }
            m
        }
    }
}

/// Random markers: each pixel with probability `per_mille`/1000 (mostly mask pixels, some
/// background), labels from 1..=`labels` (so labels repeat across separate markers).
fn random_markers(mask: &[u32], per_mille: u64, labels: u64, rng: &mut Rng) -> Vec<u32> {
    mask.iter()
        .map(|&m| {
            let p = if m != 0 { per_mille } else { per_mille / 4 };
            if rng.below(1000) < p {
                1 + rng.below(labels) as u32
            } else {
                0
            }
        })
        .collect()
}

/// Plateau distances: d² in 1..=4 on mask pixels (ties everywhere), 0 elsewhere.
fn plateau_d2(mask: &[u32], rng: &mut Rng) -> Vec<u32> {
    mask.iter()
        .map(|&m| if m != 0 { 1 + rng.below(4) as u32 } else { 0 })
        .collect()
}

#[test]
fn watershed_gpu_equals_cpu_random() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(7);
    let kinds = [
        MaskKind::Empty,
        MaskKind::Full,
        MaskKind::Noise(70),
        MaskKind::Blobs,
    ];
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        for kind in kinds {
            let mask = random_mask(kind, w, h, &mut rng);
            let exact = cpu::distance::distance(dims, DistanceMode::Exact, &mask);
            let plateau = plateau_d2(&mask, &mut rng);
            for (dname, d2) in [("edt", &exact), ("plateau", &plateau)] {
                let markers = random_markers(&mask, 8, 6, &mut rng);
                let large = w * h > 64 * 64;
                if large && dname == "plateau" && !matches!(kind, MaskKind::Blobs) {
                    // long mazes with ties everywhere: slow on lavapipe; plateaus at this
                    // size are covered by `watershed_gpu_equals_cpu_plateaus`
                    continue;
                }
                let case = format!("random_{w}x{h}_{kind:?}_{dname}");
                check(ctx, &case, dims, &mask, d2, &markers);
            }
        }
    }
}

/// Plateaus with dense markers (many equal-cost predecessors: the arrival rule, then the
/// smaller label, then the smaller index decide).
#[test]
fn watershed_gpu_equals_cpu_plateaus() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(11);
    for &(w, h) in &[(17usize, 23usize), (64, 64), (257, 131)] {
        let dims = Dims::new(w, h);
        for (kind, per_mille) in [(MaskKind::Full, 30), (MaskKind::Noise(80), 60)] {
            let mask = random_mask(kind, w, h, &mut rng);
            let d2 = plateau_d2(&mask, &mut rng);
            let markers = random_markers(&mask, per_mille, 50, &mut rng);
            let case = format!("plateau_{w}x{h}_{kind:?}_{per_mille}");
            check(ctx, &case, dims, &mask, &d2, &markers);
        }
        // a flat plateau (every d² equal): hops alone order the costs
        let mask = vec![1u32; w * h];
        let d2 = vec![2u32; w * h];
        let markers = random_markers(&mask, 10, 3, &mut rng);
        check(ctx, &format!("flat_{w}x{h}"), dims, &mask, &d2, &markers);
    }
}

/// Mask components without markers stay 0; all-foreground with one marker takes one label
/// everywhere; empty mask and no markers give all zeros; 1×N and N×1 strips.
#[test]
fn watershed_gpu_special_cases() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(13);
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        let n = w * h;
        // all-foreground, one marker (label 3) at a random pixel. The exact transform of a
        // full mask (SciPy's phantom background point) rises strictly towards the bottom right:
        // nearly every pixel has two equal-cost predecessors whose chains run side by side to
        // the single marker — the arrival walks' worst case (≈ 30 s on lavapipe at 257×131, see
        // `watershed_gpu_equals_cpu_random` for the full size with several markers).
        let mask = vec![1u32; n];
        let d2 = cpu::distance::distance(dims, DistanceMode::Exact, &mask);
        let mut markers = vec![0u32; n];
        markers[rng.below(n as u64) as usize] = 3;
        if n <= 64 * 64 {
            let case = format!("full_one_{w}x{h}");
            let got = check(ctx, &case, dims, &mask, &d2, &markers);
            assert!(got.labels.iter().all(|&l| l == 3), "{case}");
        }
        // empty mask, no markers; full mask, no markers
        let zero = vec![0u32; n];
        let got = check(ctx, &format!("empty_{w}x{h}"), dims, &zero, &zero, &zero);
        assert!(got.labels.iter().all(|&l| l == 0));
        let got = check(ctx, &format!("nomarker_{w}x{h}"), dims, &mask, &d2, &zero);
        assert!(got.labels.iter().all(|&l| l == 0));
        assert!(got.cost_h.iter().all(|&c| c == NONE));
        // unreached regions: vertical stripes of mask separated by background columns,
        // markers only in every other stripe
        let mask: Vec<u32> = (0..n).map(|i| ((i % w) % 6 != 5) as u32).collect();
        let d2 = cpu::distance::distance(dims, DistanceMode::Exact, &mask);
        let markers: Vec<u32> = (0..n)
            .map(|i| {
                let stripe = (i % w) / 6;
                if mask[i] != 0 && stripe % 2 == 0 && rng.below(50) == 0 {
                    1 + stripe as u32
                } else {
                    0
                }
            })
            .collect();
        let got = check(
            ctx,
            &format!("unreached_{w}x{h}"),
            dims,
            &mask,
            &d2,
            &markers,
        );
        for (i, (&l, &m)) in got.labels.iter().zip(&mask).enumerate() {
            if (i % w / 6) % 2 == 1 || m == 0 {
                assert_eq!(l, 0, "unreached_{w}x{h}: pixel {i}");
            }
        }
    }
}

/// Random floods with plateaus on sizes that cut 16 × 16 tiles (and 1-pixel-wide ones):
/// `(w, h, mask, d2, markers)`.
type TileCase = (usize, usize, Vec<u32>, Vec<u32>, Vec<u32>);

fn tile_cases(seed: u64) -> Vec<TileCase> {
    let mut rng = Rng::new(seed);
    let sizes = [
        (1, 1),
        (1, 40),
        (37, 1),
        (16, 16),
        (17, 33),
        (64, 48),
        (129, 70),
    ];
    sizes
        .into_iter()
        .enumerate()
        .map(|(k, (w, h))| {
            let kind = [MaskKind::Blobs, MaskKind::Noise(75), MaskKind::Full][k % 3];
            let mask = random_mask(kind, w, h, &mut rng);
            let d2 = plateau_d2(&mask, &mut rng);
            let markers = random_markers(&mask, 8, 5, &mut rng);
            (w, h, mask, d2, markers)
        })
        .collect()
}

/// A tiled sweep's flag buffer at phase 0 with the tiles `run` to run (the twin's `run`).
fn tile_flags(ctx: &GpuContext, run: &[u32]) -> wgpu::Buffer {
    let mut words = gpu::sweeps::FLAGS_INIT.to_vec();
    words.extend(run);
    words.extend(std::iter::repeat_n(0, run.len())); // phase 1: what the sweep asks for
    words.extend((0..run.len()).map(|t| 7 + t as u32)); // phase 2: the sweep clears these
    ctx.storage_init("test.tile_flags", &words)
}

/// The tiles a phase-0 sweep asked the next sweep to run (the twin's `next`), from its flag
/// buffer; checks that it cleared the array of the phase after.
fn asked(flags: &[u32], tiles: usize) -> Vec<u32> {
    let w = gpu::sweeps::FLAG_WORDS;
    assert!(
        flags[w + 2 * tiles..].iter().all(|&f| f == 0),
        "phase 2's tile words not cleared"
    );
    flags[w + tiles..w + 2 * tiles]
        .iter()
        .map(|&f| u32::from(f != 0))
        .collect()
}

/// One `ws_cost_tile` sweep on the GPU equals the twin's from the same state, sweep after sweep
/// (intermediate states included, not only the fixed point), on sizes that cut tiles.
#[test]
fn cost_tile_sweeps_gpu_equal_cpu() {
    let Some(ctx) = common::gpu() else { return };
    let mut skipped = 0; // tile visits that copied (the test is not vacuous)
    for (w, h, mask, d2, markers) in tile_cases(77) {
        let dims = Dims::new(w, h);
        let p = WsParams { dims };
        let n = dims.len();
        let (mut m, mut hp) = (vec![0; n], vec![0; n]);
        cws::ws_init(&p, &markers, &d2, &mut m, &mut hp);
        let (tx, ty) = cws::tiles(dims);
        let mut run = vec![1u32; tx * ty];
        for sweep in 0..4 {
            skipped += run.iter().filter(|&&r| r == 0).count();
            let case = format!("{w}×{h} sweep {sweep}");
            let twin = |run: &[u32]| {
                let (mut m1, mut h1, mut changed) = (vec![0; n], vec![0; n], 0);
                let mut next = vec![0; run.len()];
                cws::ws_cost_tile(
                    &p,
                    &mask,
                    &d2,
                    &m,
                    &hp,
                    &mut m1,
                    &mut h1,
                    &mut changed,
                    run,
                    &mut next,
                );
                (m1, h1, changed, next)
            };
            let (m1, h1, changed, next) = twin(&run);
            // skipping the tiles nothing asked for changes nothing
            let (am, ah, ac, _) = twin(&vec![1; run.len()]);
            assert!(
                am == m1 && ah == h1 && ac == changed,
                "{case}: skipped tiles differ"
            );
            let packed: Vec<u32> = m.iter().zip(&hp).flat_map(|(a, b)| [*a, *b]).collect();
            let bm = ctx.storage_init("test.mask", &mask);
            let bd = ctx.storage_init("test.d2", &d2);
            let bin = ctx.storage_init("test.cost_in", &packed);
            let bout = ctx.storage("test.cost_out", 2 * n);
            let bch = tile_flags(ctx, &run);
            let out = ctx
                .run_and_read("test.cost_tile", 2 * n, |enc| {
                    gws::ws_cost_tile(ctx, enc, &p, &bm, &bd, &bin, &bout, &bch);
                    Ok(bout.clone())
                })
                .unwrap();
            let flags = ctx
                .run_and_read("test.changed", gws::tile_flag_words(dims), |_| {
                    Ok(bch.clone())
                })
                .unwrap();
            let gm: Vec<u32> = out.iter().step_by(2).copied().collect();
            let gh: Vec<u32> = out.iter().skip(1).step_by(2).copied().collect();
            common::assert_same(&case, "ws_cost_tile.m", w, &gm, &m1);
            common::assert_same(&case, "ws_cost_tile.hops", w, &gh, &h1);
            assert_eq!(
                gpu::sweeps::standalone_report(&flags),
                changed,
                "{case}: reported bits"
            );
            assert_eq!(asked(&flags, run.len()), next, "{case}: tiles asked for");
            (m, hp, run) = (m1, h1, next);
        }
    }
    assert!(skipped > 0, "no sweep skipped a tile");
}

/// One `ws_label_tile` sweep on the GPU equals the twin's from the same state, sweep after
/// sweep, on the final costs of random floods with plateaus (ties walk predecessor chains that
/// leave and re-enter tiles), on sizes that cut tiles.
#[test]
fn label_tile_sweeps_gpu_equal_cpu() {
    let Some(ctx) = common::gpu() else { return };
    let mut skipped = 0; // tile visits that copied (the test is not vacuous)
    for (w, h, mask, d2, markers) in tile_cases(78) {
        let dims = Dims::new(w, h);
        let p = WsParams { dims };
        let n = dims.len();
        let twin = twin_jacobi(dims, &mask, &d2, &markers);
        let (cm, ch) = (&twin.cost_m, &twin.cost_h);
        let (mut l, mut pr) = (vec![0; n], vec![0; n]);
        cws::ws_label_init(&p, &markers, &mut l, &mut pr);
        let pack = |a: &[u32], b: &[u32]| -> Vec<u32> {
            a.iter().zip(b).flat_map(|(x, y)| [*x, *y]).collect()
        };
        let bk = ctx.storage_init("test.markers", &markers);
        let bm = ctx.storage_init("test.mask", &mask);
        let bd = ctx.storage_init("test.d2", &d2);
        let bc = ctx.storage_init("test.cost", &pack(cm, ch));
        let (tx, ty) = cws::tiles(dims);
        let mut run = vec![1u32; tx * ty];
        for sweep in 0..3 {
            skipped += run.iter().filter(|&&r| r == 0).count();
            let case = format!("{w}×{h} label sweep {sweep}");
            let twin = |run: &[u32]| {
                let (mut l1, mut p1, mut changed) = (vec![0; n], vec![0; n], 0);
                let mut next = vec![0; run.len()];
                cws::ws_label_tile(
                    &p,
                    &markers,
                    &mask,
                    &d2,
                    cm,
                    ch,
                    &l,
                    &pr,
                    &mut l1,
                    &mut p1,
                    &mut changed,
                    run,
                    &mut next,
                );
                (l1, p1, changed, next)
            };
            let (l1, p1, changed, next) = twin(&run);
            // skipping the tiles nothing asked for changes nothing
            let (al, ap, ac, _) = twin(&vec![1; run.len()]);
            assert!(
                al == l1 && ap == p1 && ac == changed,
                "{case}: skipped tiles differ"
            );
            let bin = ctx.storage_init("test.lp_in", &pack(&l, &pr));
            let bout = ctx.storage("test.lp_out", 2 * n);
            let bch = tile_flags(ctx, &run);
            let out = ctx
                .run_and_read("test.label_tile", 2 * n, |enc| {
                    gws::ws_label_tile(ctx, enc, &p, &bk, &bm, &bd, &bc, &bin, &bout, &bch);
                    Ok(bout.clone())
                })
                .unwrap();
            let flags = ctx
                .run_and_read("test.changed", gws::tile_flag_words(dims), |_| {
                    Ok(bch.clone())
                })
                .unwrap();
            let gl: Vec<u32> = out.iter().step_by(2).copied().collect();
            let gp: Vec<u32> = out.iter().skip(1).step_by(2).copied().collect();
            common::assert_same(&case, "ws_label_tile.label", w, &gl, &l1);
            common::assert_same(&case, "ws_label_tile.pred", w, &gp, &p1);
            assert_eq!(
                gpu::sweeps::standalone_report(&flags),
                changed,
                "{case}: reported bits"
            );
            assert_eq!(asked(&flags, run.len()), next, "{case}: tiles asked for");
            (l, pr, run) = (l1, p1, next);
        }
    }
    assert!(skipped > 0, "no sweep skipped a tile");
}

/// `ws_altitude` (`--flood intensity`) on the GPU equals its twin on random keys, including the
/// extremes: keys above `key_max` count as it, dark objects flood their darkest keys first
/// (largest altitude), bright ones their brightest, every mask pixel gets an altitude ≥ 1 and
/// only the two extreme keys of a float image share one (saturation).
#[test]
fn altitude_gpu_equals_cpu_and_orders_the_keys() {
    use cws::{altitude, AltitudeParams};
    let dims = Dims::new(3, 1);
    for (dark, key_max) in [
        (true, 255),
        (false, 255),
        (true, u32::MAX),
        (false, u32::MAX),
    ] {
        let p = AltitudeParams {
            dims,
            dark,
            key_max,
        };
        assert!(altitude(&p, 0) >= 1 && altitude(&p, key_max) >= 1);
        assert_eq!(
            altitude(&p, key_max.saturating_add(1)),
            altitude(&p, key_max)
        );
        let (lo, hi) = (altitude(&p, 10), altitude(&p, 11));
        assert_eq!(lo > hi, dark, "dark {dark}: darker keys flood first");
    }
    let f = AltitudeParams {
        dims,
        dark: true,
        key_max: u32::MAX,
    };
    assert_eq!(altitude(&f, 0), u32::MAX);
    assert_eq!(altitude(&f, 1), u32::MAX);
    assert_eq!(altitude(&f, 2), u32::MAX - 1);

    let mut rng = Rng::new(0xa1);
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        let n = dims.len();
        let mask: Vec<u32> = (0..n).map(|_| (rng.below(3) != 0) as u32).collect();
        for (dark, key_max) in [(true, 255u32), (false, 655_350_000), (true, u32::MAX)] {
            let keys: Vec<u32> = (0..n)
                .map(|i| match i % 7 {
                    0 => 0,
                    1 => key_max,
                    2 => u32::MAX,
                    _ => rng.u32() % key_max.saturating_add(1).max(1),
                })
                .collect();
            let p = AltitudeParams {
                dims,
                dark,
                key_max,
            };
            let mut want = vec![0u32; n];
            cws::ws_altitude(&p, &mask, &keys, &mut want);
            for i in 0..n {
                assert_eq!(
                    want[i] == 0,
                    mask[i] == 0,
                    "altitude 0 exactly off the mask"
                );
            }
            let Some(ctx) = common::gpu() else { continue };
            let bm = ctx.storage_init("test.mask", &mask);
            let bk = ctx.storage_init("test.keys", &keys);
            let ba = ctx.storage("test.alt", n);
            let got = ctx
                .run_and_read("test.altitude", n, |enc| {
                    gws::ws_altitude(ctx, enc, &p, &bm, &bk, &ba);
                    Ok(ba.clone())
                })
                .unwrap();
            let case = format!("{w}×{h} dark {dark} key_max {key_max}");
            common::assert_same(&case, "ws_altitude", w, &got, &want);
        }
    }
}
