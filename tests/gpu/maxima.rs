//! Stage **maxima**: the GPU (`shaders/maxima.wgsl`, `floodseg::gpu::maxima`) equals its CPU
//! twin (`cpu::maxima::regional_passes` / `hmax_passes`, themselves equal to the fast
//! `regional` / `hmax`, tests/stages/maxima.rs) byte for byte, for both modes: on seeded random and
//! blobby masks with their exact distance at sizes that break index arithmetic (1×1, 1×N, N×1,
//! 257×131, …), all-foreground and empty masks, arbitrary small `d2` values (many plateaus),
//! H = 0, 1, 2, 5 (and a huge H), border 0 and 3; whatever the loops' batch sizes; and
//! on the scikit-image fixtures.

use crate::common;
use crate::common::{random_mask, MaskKind, Rng, SIZES};

use floodseg::cpu::distance::{distance, DistanceMode};
use floodseg::cpu::maxima::{self as cm, MaximaParams};
use floodseg::cpu::Dims;
use floodseg::gpu::{self, GpuContext};

/// Twin (passes) == twin (fast) == GPU for both modes on one input; returns the GPU's loop
/// counts `(regional, hmax)`.
fn check(
    ctx: &GpuContext,
    case: &str,
    p: &MaximaParams,
    fg: &[u32],
    d2: &[u32],
) -> (gpu::maxima::MaximaStats, gpu::maxima::MaximaStats) {
    let w = p.dims.width as usize;
    let want = cm::regional_passes(p, fg, d2);
    common::assert_same(case, "regional-fast", w, &cm::regional(p, fg, d2), &want);
    let (got, rs) = gpu::maxima::regional_counted(ctx, p, fg, d2)
        .unwrap_or_else(|e| panic!("{case}: regional: {e}"));
    common::assert_same(case, "regional", w, &got, &want);
    let want = cm::hmax_passes(p, fg, d2);
    common::assert_same(case, "hmax-fast", w, &cm::hmax(p, fg, d2), &want);
    let (got, hs) =
        gpu::maxima::hmax_counted(ctx, p, fg, d2).unwrap_or_else(|e| panic!("{case}: hmax: {e}"));
    common::assert_same(case, "hmax", w, &got, &want);
    (rs, hs)
}

fn params(w: usize, h: usize, h_half: u32, border: u32) -> MaximaParams {
    MaximaParams {
        dims: Dims::new(w, h),
        h_half,
        border,
    }
}

#[test]
fn maxima_gpu_equals_cpu_random() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(11);
    let kinds = [
        MaskKind::Empty,
        MaskKind::Full,
        MaskKind::Noise(40),
        MaskKind::Noise(90),
        MaskKind::Blobs,
    ];
    for &(w, h) in SIZES {
        for kind in kinds {
            let fg = random_mask(kind, w, h, &mut rng);
            let d2 = distance(Dims::new(w, h), DistanceMode::Exact, &fg);
            for (h_half, border) in [(0, 0), (1, 3), (2, 0), (5, 3)] {
                let p = params(w, h, h_half, border);
                let case = format!("maxima_{w}x{h}_{kind:?}_H{h_half}_B{border}");
                check(ctx, &case, &p, &fg, &d2);
            }
        }
    }
}

/// Arbitrary small `d2` values on fg: plateaus of every shape, ties across saddles.
#[test]
fn maxima_gpu_equals_cpu_plateaus() {
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(12);
    for &(w, h) in SIZES {
        let fg = random_mask(MaskKind::Noise(80), w, h, &mut rng);
        let d2: Vec<u32> = (0..w * h)
            .map(|i| fg[i] * (1 + rng.below(3) as u32))
            .collect();
        for (h_half, border) in [(0, 0), (1, 0), (2, 3), (5, 0), (u32::MAX, 1)] {
            let p = params(w, h, h_half, border);
            check(
                ctx,
                &format!("plateaus_{w}x{h}_H{h_half}_B{border}"),
                &p,
                &fg,
                &d2,
            );
        }
    }
}

/// A long snake: the flag and the reconstruction travel far, so the loops take several batches
/// (the batch doubling and the sweeps' early exit across submissions).
#[test]
fn maxima_gpu_long_paths() {
    let Some(ctx) = common::gpu() else { return };
    let (w, h) = (61usize, 40usize);
    let mut fg = vec![0u32; w * h];
    for y in 0..h {
        for x in 0..w {
            let on = if y % 4 == 3 {
                // connectors at alternating ends
                (y / 4 % 2 == 0 && x == w - 1) || (y / 4 % 2 == 1 && x == 0)
            } else {
                y % 4 != 3
            };
            fg[y * w + x] = on as u32;
        }
    }
    // a ramp along the snake (increasing toward its far end): one marker at the very end
    let mut d2 = vec![0u32; w * h];
    for y in 0..h {
        for x in 0..w {
            if fg[y * w + x] != 0 {
                let along = if y / 4 % 2 == 0 { x } else { w - 1 - x };
                d2[y * w + x] = 1 + (y / 4 * w + along) as u32 / 7;
            }
        }
    }
    for h_half in [0u32, 2, 40] {
        let p = params(w, h, h_half, 0);
        let (rs, hs) = check(ctx, &format!("snake_H{h_half}"), &p, &fg, &d2);
        eprintln!("snake H{h_half}: regional {rs:?}, hmax {hs:?}");
        assert!(rs.flag_batches >= 1 && hs.flag_batches >= 1);
    }
    let fg = vec![1u32; w * h];
    let d2 = vec![1u32; w * h];
    let p = params(w, h, 0, 0);
    let (rs, _) = check(ctx, "flat", &p, &fg, &d2);
    assert_eq!(rs.flag_batches, 1, "a flat image has nothing to spread");
}

/// The loops give the same markers whatever their batch sizes: one sweep per batch (each loop
/// continues across many submissions, its phase carried over) and three.
#[test]
fn maxima_gpu_whatever_the_batch_sizes() {
    if common::gpu().is_none() {
        return;
    }
    // A context of its own: the switch would affect the other tests' shared context.
    let own = GpuContext::new().expect("a second context");
    let mut rng = Rng::new(13);
    for k in [1, 3] {
        own.set_loop_batch(Some(k));
        for &(w, h) in &[(1usize, 1usize), (1, 29), (45, 37)] {
            let fg = random_mask(MaskKind::Blobs, w, h, &mut rng);
            let d2 = distance(Dims::new(w, h), DistanceMode::Exact, &fg);
            for (h_half, border) in [(0, 0), (5, 3)] {
                let p = params(w, h, h_half, border);
                check(&own, &format!("batch{k}_{w}x{h}_H{h_half}"), &p, &fg, &d2);
            }
        }
    }
}

#[test]
fn maxima_gpu_rejects_bad_sizes() {
    let Some(ctx) = common::gpu() else { return };
    let p = params(0, 0, 0, 0);
    assert!(gpu::maxima::regional(ctx, &p, &[], &[]).is_err());
    assert!(gpu::maxima::hmax(ctx, &p, &[], &[]).is_err());
    let p = params(3, 2, 0, 0);
    assert!(gpu::maxima::regional(ctx, &p, &[1; 5], &[1; 6]).is_err());
    assert!(gpu::maxima::hmax(ctx, &p, &[1; 6], &[1; 7]).is_err());
}

#[test]
fn maxima_gpu_agrees_with_skimage_fixtures() {
    let Some(ctx) = common::gpu() else { return };
    let root = common::repo().join("tests").join("fixtures").join("maxima");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("fg.tif").exists())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let (w, h, fg) = common::read_tiff_u32(&dir.join("fg.tif"));
        let (_, _, d2) = common::read_tiff_u32(&dir.join("d2.tif"));
        let (_, _, want) = common::read_tiff_u32(&dir.join("regional.tif"));
        let got = gpu::maxima::regional(ctx, &params(w, h, 0, 0), &fg, &d2).unwrap();
        common::assert_same(&name, "regional", w, &got, &want);
        for h_half in [0u32, 1, 2, 5] {
            let path = dir.join(format!("hmax_{h_half}.tif"));
            let (_, _, want) = common::read_tiff_u32(&path);
            let got = gpu::maxima::hmax(ctx, &params(w, h, h_half, 0), &fg, &d2).unwrap();
            common::assert_same(&name, &format!("hmax_{h_half}"), w, &got, &want);
        }
    }
}

/// In pooled frames (as the pipeline runs them): same-size frames reuse the stage's buffers,
/// which are cleared or overwritten before use, so every frame equals the twin; the marker
/// buffer of `regional_in` / `hmax_in` is complete when they return.
#[test]
fn maxima_gpu_pooled_frames_stay_exact() {
    use floodseg::gpu::frame::Frame;
    let Some(ctx) = common::gpu() else { return };
    let mut rng = Rng::new(14);
    for (i, (w, h)) in [(53usize, 31usize), (53, 31), (53, 31), (20, 9), (53, 31)]
        .into_iter()
        .enumerate()
    {
        let kind = if i % 2 == 0 {
            MaskKind::Blobs
        } else {
            MaskKind::Noise(75)
        };
        let fg = random_mask(kind, w, h, &mut rng);
        let d2 = distance(Dims::new(w, h), DistanceMode::Exact, &fg);
        let p = params(w, h, (i as u32) % 4, (i as u32) % 2 * 3);
        let mut frame = Frame::new(ctx);
        let fb = ctx.storage_init("test.fg", &fg);
        let db = ctx.storage_init("test.d2", &d2);
        let reg = gpu::maxima::regional_in(ctx, &mut frame, &p, &fb, &db).unwrap();
        let hm = gpu::maxima::hmax_in(ctx, &mut frame, &p, &fb, &db).unwrap();
        let got = ctx
            .read_buffers("test.read", &[(&reg, w * h), (&hm, w * h)])
            .unwrap();
        let case = format!("pooled_{i}_{w}x{h}");
        common::assert_same(&case, "regional", w, &got[0], &cm::regional(&p, &fg, &d2));
        common::assert_same(&case, "hmax", w, &got[1], &cm::hmax(&p, &fg, &d2));
    }
}
