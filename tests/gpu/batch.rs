//! The GPU backend's watershed batching (`src/gpu/batch.rs`): frames stacked into one watershed
//! with a background row between them get exactly the labels they get alone; frames queued
//! behind a held batcher run as one stacked watershed (deterministically) and equal the CPU
//! twin; and frames segmented on several threads at once (sharing watersheds as timing allows)
//! equal the CPU twin stage by stage. Needs a GPU adapter (lavapipe in CI; see `common::gpu`).

use crate::common::*;
use floodseg::backend::gpu::segment as segment_gpu;
use floodseg::cpu::threshold::parse_level;
use floodseg::gpu::batch::{run_watersheds_stacked, BatchStats, WatershedInputs};
use floodseg::image::RawImage;
use floodseg::pipeline::{segment_cpu, Markers, Params, Preset, Stages};

fn colony_params() -> Params {
    Params {
        level: parse_level("128").unwrap(),
        open: 1,
        min_distance: 3,
        ..Params::default()
    }
}

fn frames() -> Vec<(String, RawImage, Params)> {
    let mut out = Vec::new();
    // same widths (stacked together), odd heights, a 1-pixel-wide and a 1-pixel-high frame
    for (k, (w, h)) in [
        (61, 47),
        (61, 1),
        (61, 33),
        (1, 40),
        (1, 7),
        (64, 64),
        (64, 9),
        (17, 23),
    ]
    .into_iter()
    .enumerate()
    {
        let img = floodseg::synth::colony(w, h, 100 + k as u64);
        out.push((format!("colony {w}×{h}"), img, colony_params()));
    }
    for (k, (w, h)) in [(96, 80), (96, 50)].into_iter().enumerate() {
        let (img, _) = floodseg::synth::rods(w, h, 7 + k as u64, &Default::default());
        let mut p = Preset::Rods.params();
        p.level = parse_level("128").unwrap();
        let mut q = p.clone();
        q.markers = Markers::Regional;
        out.push((format!("rods {w}×{h} regional"), img.clone(), q));
        out.push((format!("rods {w}×{h}"), img, p));
    }
    out
}

fn mask_of(s: &Stages) -> &[u32] {
    &s.opened
}

#[test]
fn stacked_watersheds_equal_each_frame_alone() {
    let Some(ctx) = gpu() else { return };
    let mut cpu = Vec::new();
    for (case, img, p) in frames() {
        let mut p = p;
        // the watershed's own labels (no object filter after it)
        p.min_area = 0;
        p.min_eccentricity = 0.0;
        p.max_area = None;
        p.max_width = None;
        p.clear_border = None;
        let s = segment_cpu(&img, &p).unwrap();
        // what the watershed flooded: d², or the gray levels' altitude (`--flood intensity`)
        let alt = floodseg::backend::cpu::flooded(&s, &p);
        cpu.push((case, s, alt));
    }
    let inputs: Vec<WatershedInputs> = cpu
        .iter()
        .map(|(_, s, alt)| (s.dims, mask_of(s), &alt[..], &s.markers[..]))
        .collect();
    let got = run_watersheds_stacked(ctx, &inputs).unwrap();
    for ((case, s, _), labels) in cpu.iter().zip(&got) {
        assert_same(
            case,
            "labels (stacked)",
            s.dims.width as usize,
            labels,
            &s.labels,
        );
    }
    // Reversed order: other neighbours in the stack, the same labels.
    let rev: Vec<_> = inputs.iter().rev().copied().collect();
    let got = run_watersheds_stacked(ctx, &rev).unwrap();
    for ((case, s, _), labels) in cpu.iter().rev().zip(&got) {
        assert_same(
            case,
            "labels (stacked, reversed)",
            s.dims.width as usize,
            labels,
            &s.labels,
        );
    }
}

/// Frames segmented on several threads at once equal the CPU twin stage by stage, whichever
/// frames happen to share a watershed (that depends on timing; the counts are printed).
/// `held_batcher_stacks_waiting_frames_into_one_watershed` makes frames meet deterministically.
#[test]
fn frames_on_several_threads_equal_the_cpu() {
    if gpu().is_none() {
        return;
    }
    // A context of its own, so its batch counts are this test's.
    let ctx = floodseg::gpu::GpuContext::new().unwrap();
    let cases = frames();
    let cpu: Vec<Stages> = cases
        .iter()
        .map(|(_, img, p)| segment_cpu(img, p).unwrap())
        .collect();
    let same: Vec<usize> = (0..cases.len()).collect();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (ctx, cases, cpu, same) = (&ctx, &cases, &cpu, &same);
            s.spawn(move || {
                for round in 0..3 {
                    for &k in same.iter().skip((t + round) % 3) {
                        let (case, img, p) = &cases[k];
                        let g = segment_gpu(ctx, img, p).unwrap_or_else(|e| panic!("{case}: {e}"));
                        assert_stages_equal(&format!("{case} (thread {t})"), &g, &cpu[k]);
                    }
                }
            });
        }
    });
    eprintln!("watershed batches: {:?}", ctx.batch_stats());
}

/// With the batcher held, frames segmented on three threads all queue at the watershed; released,
/// they run as exactly one stacked watershed of three frames (the same width), and each frame
/// equals the CPU twin stage by stage. Deterministic: no timing decides whether frames meet.
#[test]
fn held_batcher_stacks_waiting_frames_into_one_watershed() {
    if gpu().is_none() {
        return;
    }
    let ctx = floodseg::gpu::GpuContext::new().unwrap();
    let cases: Vec<_> = frames()
        .into_iter()
        .filter(|(_, img, _)| img.width == 61)
        .collect();
    assert_eq!(cases.len(), 3, "three frames of width 61");
    let cpu: Vec<Stages> = cases
        .iter()
        .map(|(_, img, p)| segment_cpu(img, p).unwrap())
        .collect();
    let hold = ctx.hold_batches();
    std::thread::scope(|s| {
        let workers: Vec<_> = cases
            .iter()
            .map(|(case, img, p)| {
                let ctx = &ctx;
                s.spawn(move || segment_gpu(ctx, img, p).unwrap_or_else(|e| panic!("{case}: {e}")))
            })
            .collect();
        let t = std::time::Instant::now();
        while ctx.queued_frames() < cases.len() {
            assert!(
                workers.iter().all(|w| !w.is_finished()),
                "a frame finished while the batcher was held: it did not queue"
            );
            assert!(
                t.elapsed() < std::time::Duration::from_secs(300),
                "only {} of {} frames reached the held watershed in 300 s",
                ctx.queued_frames(),
                cases.len()
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert_eq!(
            ctx.batch_stats(),
            BatchStats::default(),
            "nothing ran while held"
        );
        drop(hold);
        for ((w, (case, _, _)), want) in workers.into_iter().zip(&cases).zip(&cpu) {
            let got = w.join().unwrap();
            assert_stages_equal(&format!("{case} (held batch)"), &got, want);
        }
    });
    assert_eq!(
        ctx.batch_stats(),
        BatchStats {
            batches: 1,
            frames: 3
        },
        "the three queued frames should have run as one batch"
    );
}
