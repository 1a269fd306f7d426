//! Stage **opening** (`shaders/opening.wgsl`, `floodseg::gpu::opening`) equals its CPU twin
//! (`cpu::opening::opening`) byte for byte on seeded random masks (empty, full, noise, blobs) at
//! sizes that break index arithmetic, both structures, 0–3 iterations (1: the one-pass `open1`,
//! and the passes in place), and inside
//! sub-rectangles (possibly empty), as the peaks stage uses it. GL backend: `context.rs`.

use crate::common::{self, random_mask, MaskKind, Rng, SIZES};
use crate::{ctx, KINDS};

use floodseg::cpu::opening::Structure;
use floodseg::cpu::{self, Dims, Rect};
use floodseg::gpu::{self, GpuContext};

#[test]
fn opening_gpu_equals_cpu_random() {
    if let Some(ctx) = ctx() {
        check_opening_gpu_equals_cpu_random(ctx);
    }
}

pub(crate) fn check_opening_gpu_equals_cpu_random(ctx: &GpuContext) {
    let mut rng = Rng::new(3);
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        for &kind in KINDS {
            let mask = random_mask(kind, w, h, &mut rng);
            for structure in [Structure::Cross, Structure::Square] {
                for k in 0..=3 {
                    let full = Rect::full(dims);
                    let want = cpu::opening::opening(dims, full, structure, k, &mask);
                    // into a new buffer (k = 1: the one-pass `open1`) and in place (the passes)
                    for in_place in [false, true] {
                        let got = gpu::opening::run_opening_in(
                            ctx, dims, full, structure, k, &mask, in_place,
                        )
                        .unwrap();
                        let case =
                            format!("random_{w}x{h}_{kind:?}_{structure:?}_open{k}_{in_place}");
                        common::assert_same(&case, "opening", w, &got, &want);
                    }
                    if k == 1 {
                        // the twin of the one-pass entry point is the two passes' composition
                        let p = cpu::opening::MorphParams::new(dims, full, structure);
                        let mut one = vec![0u32; dims.len()];
                        cpu::opening::open1(&p, &mask, &mut one);
                        common::assert_same("open1 twin", "opening", w, &one, &want);
                    }
                }
            }
        }
    }
}

/// The peaks stage reuses erode/dilate on a sub-rectangle: pixels outside it are background.
#[test]
fn opening_gpu_equals_cpu_on_sub_rectangles() {
    if let Some(ctx) = ctx() {
        check_opening_gpu_equals_cpu_on_sub_rectangles(ctx);
    }
}

pub(crate) fn check_opening_gpu_equals_cpu_on_sub_rectangles(ctx: &GpuContext) {
    let mut rng = Rng::new(4);
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        for trial in 0..4 {
            let mask = random_mask(MaskKind::Noise(70), w, h, &mut rng);
            let (ya, yb) = (rng.below(h as u64) as u32, rng.below(h as u64) as u32);
            let (xa, xb) = (rng.below(w as u64) as u32, rng.below(w as u64) as u32);
            // trial 3: a possibly empty (crossed) rectangle
            let rect = if trial == 3 {
                Rect {
                    y0: ya,
                    x0: xa,
                    y1: yb,
                    x1: xb,
                }
            } else {
                Rect {
                    y0: ya.min(yb),
                    x0: xa.min(xb),
                    y1: ya.max(yb),
                    x1: xa.max(xb),
                }
            };
            for structure in [Structure::Cross, Structure::Square] {
                let k = 1 + trial % 2;
                let want = cpu::opening::opening(dims, rect, structure, k, &mask);
                let got = gpu::opening::run_opening(ctx, dims, rect, structure, k, &mask).unwrap();
                let case = format!("random_{w}x{h}_rect{trial}_{structure:?}");
                common::assert_same(&case, "opening", w, &got, &want);
            }
        }
    }
}
