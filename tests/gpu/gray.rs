//! Stage **gray** (`shaders/gray.wgsl`, `floodseg::gpu::gray`) equals its CPU twin
//! (`cpu::gray::gray`) byte for byte on seeded random samples at sizes that break index
//! arithmetic: 1–4 channels of 8- and 16-bit values, and 1–2 channels of float bits (±0 and the
//! extremes mixed in). The fixtures run through it in `front.rs`; GL backend: `context.rs`.

use crate::common::{self, Rng, SIZES};
use crate::ctx;

use floodseg::cpu::{self, Dims};
use floodseg::gpu::{self, GpuContext};

#[test]
fn gray_gpu_equals_cpu_random() {
    if let Some(ctx) = ctx() {
        check_gray_gpu_equals_cpu_random(ctx);
    }
}

pub(crate) fn check_gray_gpu_equals_cpu_random(ctx: &GpuContext) {
    let mut rng = Rng::new(1);
    for &(w, h) in SIZES {
        for channels in 1..=4u32 {
            for max in [255u64, 65535] {
                let dims = Dims::new(w, h);
                let samples: Vec<u32> = (0..w * h * channels as usize)
                    .map(|_| rng.below(max + 1) as u32)
                    .collect();
                let p = cpu::gray::GrayParams {
                    dims,
                    channels,
                    is_float: 0,
                };
                let mut want = vec![0u32; dims.len()];
                cpu::gray::gray(&p, &samples, &mut want);
                let got = gpu::gray::run_gray(ctx, &p, &samples).unwrap();
                let case = format!("random_{w}x{h}_c{channels}_max{max}");
                common::assert_same(&case, "gray", w, &got, &want);
            }
        }
        // float gray (1 or 2 channels): random finite bits, with ±0.0 and extremes mixed in
        for channels in 1..=2u32 {
            let dims = Dims::new(w, h);
            let specials = [0u32, 0x8000_0000, 0x7f7f_ffff, 0xff7f_ffff, 1, 0x8000_0001];
            let samples: Vec<u32> = (0..w * h * channels as usize)
                .map(|_| {
                    if rng.below(4) == 0 {
                        specials[rng.below(specials.len() as u64) as usize]
                    } else {
                        let f = (rng.u32() as f32 / 1e5) - 20000.0;
                        f.to_bits()
                    }
                })
                .collect();
            let p = cpu::gray::GrayParams {
                dims,
                channels,
                is_float: 1,
            };
            let mut want = vec![0u32; dims.len()];
            cpu::gray::gray(&p, &samples, &mut want);
            let got = gpu::gray::run_gray(ctx, &p, &samples).unwrap();
            let case = format!("random_{w}x{h}_c{channels}_f32");
            common::assert_same(&case, "gray", w, &got, &want);
        }
    }
}
