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

/// `gray_threshold` (gray and threshold in one pass, the front's path for a fixed threshold on
/// the gray keys) equals its twin — keys, mask and count — for every mode, on 8- and 16-bit,
/// RGB and float samples at sizes that break index arithmetic.
#[test]
fn gray_threshold_gpu_equals_cpu_random() {
    let Some(ctx) = ctx() else { return };
    use cpu::threshold::{ThresholdParams, MODE_ABOVE, MODE_ALL, MODE_BELOW, MODE_NONE};
    let mut rng = Rng::new(3);
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        let n = dims.len();
        for (channels, is_float, max) in
            [(1u32, 0u32, 255u64), (1, 0, 65535), (3, 0, 255), (1, 1, 0)]
        {
            let samples: Vec<u32> = (0..n * channels as usize)
                .map(|_| {
                    if is_float != 0 {
                        ((rng.u32() as f32 / 1e6) - 2000.0).to_bits()
                    } else {
                        rng.below(max + 1) as u32
                    }
                })
                .collect();
            let gp = cpu::gray::GrayParams {
                dims,
                channels,
                is_float,
            };
            let mut keys = vec![0u32; n];
            cpu::gray::gray(&gp, &samples, &mut keys);
            let mid = keys[rng.below(n as u64) as usize];
            for mode in [MODE_NONE, MODE_ALL, MODE_ABOVE, MODE_BELOW] {
                let tp = ThresholdParams {
                    dims,
                    mode,
                    bound: mid,
                };
                let (mut wk, mut wm, mut wc) = (vec![0u32; n], vec![0u32; n], vec![0u32; 1]);
                cpu::gray::gray_threshold(&gp, &tp, &samples, &mut wk, &mut wm, &mut wc);
                let s = ctx.storage_init("test.gray.samples", &samples);
                let (k, m, c) = (
                    ctx.storage("test.gray.keys", n),
                    ctx.storage("test.gray.mask", n),
                    ctx.storage("test.gray.count", 1),
                );
                let mut enc = ctx.encoder("test.gray_threshold");
                gpu::gray::gray_threshold(ctx, &mut enc, &gp, &tp, &s, &k, &m, &c);
                ctx.submit("test.gray_threshold", enc).unwrap();
                let got = ctx
                    .read_buffers("test.gray", &[(&k, n), (&m, n), (&c, 1)])
                    .unwrap();
                let case = format!("{w}x{h}_c{channels}_f{is_float}_mode{mode}");
                common::assert_same(&case, "gray_threshold keys", w, &got[0], &wk);
                common::assert_same(&case, "gray_threshold mask", w, &got[1], &wm);
                assert_eq!(got[2], wc, "{case}: gray_threshold count");
            }
        }
    }
}
