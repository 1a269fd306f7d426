//! The ratchet on what a frame asks of the GPU (`floodseg::gpu::counters`): submissions, host
//! waits and barrier-separated steps of one frame in a stack's steady state, on a frame like
//! the 1024² benchmark frame (`scripts/bench/make_data.py`: dark touching disks on a noisy bright
//! background, flags `--threshold 128 --dark --open 1 --min-distance 5`). The counts depend on
//! how the backend records a frame, not on the device, so lavapipe holds them for every GPU.
//!
//! When a change lowers a count, lower its bound here (and the table in `docs/gpu.md`); a change
//! that raises one has to say why in this file.

use crate::common::{self, Rng};

use floodseg::cpu::threshold::parse_level;
use floodseg::gpu::counters::Loop;
use floodseg::gpu::GpuContext;
use floodseg::image::RawImage;
use floodseg::pipeline::Params;
use floodseg::Segmenter;

/// Upper bounds, measured on this file's frame when they were last lowered.
const MAX_STEPS: u64 = 38;
const MAX_SUBMISSIONS: u64 = 8;
const MAX_HOST_WAITS: u64 = 2;

/// A `side`² frame with the benchmark frame's make-up: background 200 ± 12, one disk of radius
/// 6–15 per 600 px² at 60 ± 12 (so many touch), 0.05 % pepper pixels at 0.
fn bench_like_frame(side: usize, seed: u64) -> RawImage {
    // a sum of four uniforms, scaled to σ = 12: close enough to the benchmark's Gaussian noise
    fn noise(rng: &mut Rng, mean: f64) -> u8 {
        let s: f64 = (0..4)
            .map(|_| rng.below(1 << 20) as f64 / f64::from(1 << 20))
            .sum();
        (mean + (s - 2.0) * 12.0 * 3f64.sqrt())
            .round()
            .clamp(0.0, 255.0) as u8
    }
    let mut rng = Rng::new(seed);
    let mut px: Vec<u8> = (0..side * side).map(|_| noise(&mut rng, 200.0)).collect();
    let mut rng = Rng::new(seed ^ 0x5eed);
    for _ in 0..side * side / 600 {
        let (cy, cx) = (rng.below(side as u64) as i64, rng.below(side as u64) as i64);
        let r = 6 + rng.below(10) as i64;
        for y in (cy - r).max(0)..(cy + r + 1).min(side as i64) {
            for x in (cx - r).max(0)..(cx + r + 1).min(side as i64) {
                if (y - cy).pow(2) + (x - cx).pow(2) < r * r {
                    px[y as usize * side + x as usize] = 1; // painted below
                }
            }
        }
    }
    let mut rng = Rng::new(seed ^ 0xce11);
    for v in px.iter_mut() {
        if *v == 1 {
            *v = noise(&mut rng, 60.0).max(2);
        }
    }
    let mut rng = Rng::new(seed ^ 0xbebbe7);
    for v in px.iter_mut() {
        if rng.below(10_000) < 5 {
            *v = 0;
        }
    }
    RawImage::gray_u8(side, side, px)
}

fn bench_params() -> Params {
    Params {
        level: parse_level("128").unwrap(),
        dark: true,
        open: 1,
        min_distance: 5,
        ..Params::default()
    }
}

/// A frame in a stack's steady state (a context that has segmented this size before) stays
/// within the bounds above, and counting is deterministic: the same frame counts the same twice.
#[test]
fn a_frame_asks_no_more_of_the_gpu_than_before() {
    if common::gpu().is_none() {
        return;
    }
    // a context of its own: no other test's frame shares a watershed with these, and the loops'
    // batch predictions are these frames'
    let seg = Segmenter::on_gpu(GpuContext::new().unwrap());
    let (img, p) = (bench_like_frame(1024, 7), bench_params());
    let first = seg
        .count_frame(&img, &p)
        .unwrap()
        .expect("a GPU segmenter counts");
    // the second frame is the first to speculate: its count readback gathers more parts than
    // the first's, whose gather uniform it creates (a staged write of its own); from the third
    // on every frame records the same
    seg.count_frame(&img, &p).unwrap();
    let c = seg.count_frame(&img, &p).unwrap().unwrap();
    let again = seg.count_frame(&img, &p).unwrap().unwrap();
    assert_eq!(c, again, "the same frame twice, counted differently");
    // `bench --count-stack` sums frames counted one after another
    let frames = [img.clone(), img.clone()].into_iter().map(Ok);
    let stack = floodseg::bench::count_stack(frames, &seg, &p)
        .unwrap()
        .expect("a GPU segmenter counts");
    assert_eq!((stack.frames, stack.total), (2, c + c), "count_stack");
    let report = c.to_json();
    eprintln!("first frame: {}\nsteady state: {report}", first.to_json());

    assert!(
        c.steps() <= MAX_STEPS,
        "steps {} > {MAX_STEPS}: {report}",
        c.steps()
    );
    assert!(
        c.submissions <= MAX_SUBMISSIONS,
        "submissions {} > {MAX_SUBMISSIONS}: {report}",
        c.submissions
    );
    assert!(
        c.host_waits <= MAX_HOST_WAITS,
        "host waits {} > {MAX_HOST_WAITS}: {report}",
        c.host_waits
    );
    // what the counts mean: one dispatch per pass, one batch per convergence loop once the
    // batch sizes are predicted from the frame before, submitted without a wait of its own
    // (speculation, checked with the object count's readback) and right
    assert_eq!(c.dispatches, c.passes, "{report}");
    assert_eq!(c.reruns, 0, "the same frame again mispredicted: {report}");
    assert_eq!(c.steps(), c.passes + c.copies + c.clears + c.writes);
    for l in [Loop::Peaks, Loop::WsCost, Loop::WsLabel] {
        let lc = c.of(l);
        assert_eq!(lc.batches, 1, "{}: one predicted batch: {report}", l.name());
        assert!(lc.sweeps >= 2, "{}: {report}", l.name());
    }
    assert_eq!(
        c.of(Loop::Maxima).batches,
        0,
        "no maxima loop with --markers peaks"
    );
    let batches: u64 = Loop::ALL.iter().map(|&l| c.of(l).batches).sum();
    assert!(c.submissions >= batches, "{report}");
    // the object count's and the result's
    assert_eq!(c.host_waits, 2, "{report}");
}

/// A frame whose loops need more sweeps than the frame before predicts (an empty frame, then
/// dense cells) reruns its back stages without speculating and still equals the twin; the same
/// frame again is predicted right (no rerun, two host waits).
#[test]
fn a_mispredicted_loop_reruns_and_stays_exact() {
    use floodseg::backend::gpu::segment;
    use floodseg::gpu::counters::snapshot;
    use floodseg::pipeline::segment_cpu;
    if common::gpu().is_none() {
        return;
    }
    let ctx = GpuContext::new().unwrap();
    let p = bench_params();
    let empty = RawImage::gray_u8(256, 256, vec![200; 256 * 256]);
    let cells = bench_like_frame(256, 11);
    let want = segment_cpu(&cells, &p).unwrap();
    segment(&ctx, &empty, &p).unwrap();
    segment(&ctx, &empty, &p).unwrap(); // predicted from an empty frame now
    let before = snapshot();
    let got = segment(&ctx, &cells, &p).unwrap();
    let missed = snapshot() - before;
    common::assert_stages_equal("after an empty frame", &got, &want);
    // the short loops' batches double and the back stages rerun speculating (one more wait a
    // rerun), at most SPECULATIVE_RERUNS times before every batch is checked
    let most = u64::from(floodseg::gpu::sweeps::SPECULATIVE_RERUNS) + 1;
    assert!((1..=most).contains(&missed.reruns), "{}", missed.to_json());
    assert!(missed.host_waits > 2, "{}", missed.to_json());
    eprintln!("after an empty frame: {}", missed.to_json());
    let before = snapshot();
    let again = segment(&ctx, &cells, &p).unwrap();
    let hit = snapshot() - before;
    common::assert_stages_equal("the same frame again", &again, &want);
    assert_eq!(hit.reruns, 0, "{}", hit.to_json());
    assert_eq!(hit.host_waits, 2, "{}", hit.to_json());
}

/// A CPU segmenter counts nothing (`count_frame` is `None`), so `bench --json` has
/// `"gpu_counters":null` on the CPU backend.
#[test]
fn a_cpu_segmenter_counts_nothing() {
    let seg = Segmenter::new(floodseg::Backend::Cpu).unwrap();
    let c = seg
        .count_frame(&bench_like_frame(64, 1), &bench_params())
        .unwrap();
    assert!(c.is_none());
}
