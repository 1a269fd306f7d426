//! Stage **distance** (`shaders/distance.wgsl`, `floodseg::gpu::distance`) equals its CPU twin
//! (`cpu::distance::distance`) byte for byte in all four modes (exact, JFA, JFA+2, JFA²): on
//! seeded random masks (empty, full, noise, blobs) at sizes that break index arithmetic, on a
//! single background pixel far from most of the image, and pass by pass (`g` after `edt_cols`,
//! the seeds after `jfa_init` and every `jfa_step`). The fixtures run through it in `front.rs`;
//! GL backend: `context.rs`. Images stay small: on lavapipe (Mesa's software Vulkan) a JFA pass
//! over 1 MP takes ≈ 30 ms.

use crate::common::{self, random_mask, Rng, SIZES};
use crate::{ctx, mode_name, KINDS, MODES};

use floodseg::cpu::distance::JfaVariant;
use floodseg::cpu::{self, Dims};
use floodseg::gpu::{self, GpuContext};

#[test]
fn distance_gpu_equals_cpu_random() {
    if let Some(ctx) = ctx() {
        check_distance_gpu_equals_cpu_random(ctx);
    }
}

pub(crate) fn check_distance_gpu_equals_cpu_random(ctx: &GpuContext) {
    let mut rng = Rng::new(5);
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        for &kind in KINDS {
            let mask = random_mask(kind, w, h, &mut rng);
            for &mode in MODES {
                let want = cpu::distance::distance(dims, mode, &mask);
                let got = gpu::distance::run_distance(ctx, dims, mode, &mask).unwrap();
                let case = format!("random_{w}x{h}_{kind:?}");
                common::assert_same(
                    &case,
                    &format!("distance-{}", mode_name(mode)),
                    w,
                    &got,
                    &want,
                );
            }
        }
    }
}

/// A single background pixel far from most of the image: long seeds, large distances.
#[test]
fn distance_gpu_equals_cpu_single_seed() {
    if let Some(ctx) = ctx() {
        check_distance_gpu_equals_cpu_single_seed(ctx);
    }
}

pub(crate) fn check_distance_gpu_equals_cpu_single_seed(ctx: &GpuContext) {
    for &(w, h) in &[(257usize, 131usize), (131, 257), (1, 300), (300, 1)] {
        let dims = Dims::new(w, h);
        for seed in [0, w * h - 1, (h / 2) * w + w / 3] {
            let mut mask = vec![1u32; w * h];
            mask[seed] = 0;
            for &mode in MODES {
                let want = cpu::distance::distance(dims, mode, &mask);
                let got = gpu::distance::run_distance(ctx, dims, mode, &mask).unwrap();
                let case = format!("single_seed_{w}x{h}_{seed}");
                common::assert_same(
                    &case,
                    &format!("distance-{}", mode_name(mode)),
                    w,
                    &got,
                    &want,
                );
            }
        }
    }
}

/// The distance passes' intermediate buffers equal the twin's too: `g` after `edt_cols`, and
/// the seed buffer after `jfa_init` and after every `jfa_step`.
#[test]
fn distance_passes_gpu_equal_cpu() {
    if let Some(ctx) = ctx() {
        check_distance_passes_gpu_equal_cpu(ctx);
    }
}

pub(crate) fn check_distance_passes_gpu_equal_cpu(ctx: &GpuContext) {
    use floodseg::cpu::distance::{self as cd, DistParams};
    let mut rng = Rng::new(7);
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        let n = dims.len();
        for &kind in KINDS {
            let mask = random_mask(kind, w, h, &mut rng);
            let case = format!("passes_{w}x{h}_{kind:?}");
            let p0 = DistParams { dims, step: 0 };

            let mut g = vec![0u32; n];
            cd::edt_cols(&p0, &mask, &mut g);
            let got = ctx
                .run_and_read("floodseg.distance", n, |enc| {
                    let m = ctx.storage_init("floodseg.distance.mask", &mask);
                    let g = ctx.storage("floodseg.distance.g", n);
                    gpu::distance::edt_cols(ctx, enc, &p0, &m, &g);
                    Ok(g)
                })
                .unwrap();
            common::assert_same(&case, "distance.edt_cols", w, &got, &g);

            let mut seeds = vec![0u32; n];
            cd::jfa_init(&p0, &mask, &mut seeds);
            let steps = JfaVariant::Squared.steps(dims);
            for upto in 0..=steps.len() {
                let mut a = seeds.clone();
                let mut b = vec![0u32; n];
                for &step in &steps[..upto] {
                    cd::jfa_step(&DistParams { dims, step }, &a, &mut b);
                    std::mem::swap(&mut a, &mut b);
                }
                let got = ctx
                    .run_and_read("floodseg.distance", n, |enc| {
                        let m = ctx.storage_init("floodseg.distance.mask", &mask);
                        let mut sa = ctx.storage("floodseg.distance.seed_a", n);
                        let mut sb = ctx.storage("floodseg.distance.seed_b", n);
                        gpu::distance::jfa_init(ctx, enc, &p0, &m, &sa);
                        for &step in &steps[..upto] {
                            let p = DistParams { dims, step };
                            gpu::distance::jfa_step(ctx, enc, &p, &sa, &sb);
                            std::mem::swap(&mut sa, &mut sb);
                        }
                        Ok(sa)
                    })
                    .unwrap();
                common::assert_same(&case, &format!("distance.jfa_step{upto}"), w, &got, &a);
            }
        }
    }
}
