//! Stage **threshold** (`shaders/threshold.wgsl`, `floodseg::gpu::threshold`) equals its CPU
//! twin (`cpu::threshold`) byte for byte: the mask and its count for every mode and bound on
//! seeded random keys at sizes that break index arithmetic, and the Otsu histogram pass with the
//! uniforms derived from it (8- and 16-bit images and every gray fixture). The Otsu mask against
//! scikit-image, also on the GPU: `tests/stages/threshold.rs`; GL backend: `context.rs`.

use crate::common::{self, Rng, SIZES};
use crate::ctx;

use floodseg::cpu::threshold::{self as cth, ThresholdParams};
use floodseg::cpu::{self, Dims};
use floodseg::gpu::{self, GpuContext};

#[test]
fn threshold_gpu_equals_cpu_random() {
    if let Some(ctx) = ctx() {
        check_threshold_gpu_equals_cpu_random(ctx);
    }
}

pub(crate) fn check_threshold_gpu_equals_cpu_random(ctx: &GpuContext) {
    let mut rng = Rng::new(2);
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        let keys: Vec<u32> = (0..w * h)
            .map(|_| match rng.below(4) {
                0 => rng.u32(),
                1 => [0, 1, u32::MAX, u32::MAX - 1][rng.below(4) as usize],
                _ => rng.below(256) as u32,
            })
            .collect();
        for mode in [
            cth::MODE_NONE,
            cth::MODE_ALL,
            cth::MODE_ABOVE,
            cth::MODE_BELOW,
            7,
        ] {
            for bound in [0u32, 1, 128, 255, u32::MAX, keys[0]] {
                let tp = ThresholdParams { dims, mode, bound };
                let mut want = vec![0u32; dims.len()];
                let mut count = [0u32];
                cth::threshold(&tp, &keys, &mut want, &mut count);
                let (got, got_count) =
                    gpu::threshold::run_threshold_counted(ctx, &tp, &keys).unwrap();
                let case = format!("random_{w}x{h}_mode{mode}_bound{bound}");
                common::assert_same(&case, "threshold", w, &got, &want);
                assert_eq!(got_count, count[0], "{case}: threshold count");
            }
        }
    }
}

/// The Otsu histogram pass and its uniforms, GPU against the twin.
#[test]
fn threshold_histogram_gpu_equals_cpu() {
    if let Some(ctx) = ctx() {
        check_threshold_histogram_gpu_equals_cpu(ctx);
    }
}

/// The Otsu histogram pass and the uniforms derived from it equal the CPU's, for 8- and 16-bit
/// gray images (random, constant, two-valued) and every gray fixture.
pub(crate) fn check_threshold_histogram_gpu_equals_cpu(ctx: &GpuContext) {
    let mut rng = Rng::new(0x4157);
    let mut cases: Vec<(String, Dims, Vec<u32>, u32)> = Vec::new();
    for (w, h) in [(1usize, 1usize), (29, 1), (257, 131)] {
        for full in [255u32, 65535] {
            let n = w * h;
            let spread = 1 + rng.below(full as u64 + 1) as u32;
            let base = rng.below((full - spread.min(full)) as u64 + 1) as u32;
            let keys: Vec<u32> = (0..n).map(|_| base + rng.u32() % spread).collect();
            cases.push((
                format!("random_{w}x{h}_{full}"),
                Dims::new(w, h),
                keys,
                full,
            ));
            cases.push((
                format!("constant_{w}x{h}_{full}"),
                Dims::new(w, h),
                vec![base; n],
                full,
            ));
            let two: Vec<u32> = (0..n).map(|i| if i % 3 == 0 { 0 } else { full }).collect();
            cases.push((format!("two_{w}x{h}_{full}"), Dims::new(w, h), two, full));
        }
    }
    for case in common::fixture_cases() {
        let img = floodseg::io::read_image(&common::fixture_input(&case)).unwrap();
        let (gp, samples, scale) = floodseg::pipeline::gray_input(&img).unwrap();
        if let cth::GrayScale::Int { scale: 1, full } = scale {
            let mut keys = vec![0u32; gp.dims.len()];
            cpu::gray::gray(&gp, &samples, &mut keys);
            cases.push((case.display().to_string(), gp.dims, keys, full));
        }
    }
    for (name, dims, keys, full) in cases {
        let p = ThresholdParams {
            dims,
            mode: 0,
            bound: 0,
        };
        let mut want = vec![0u32; full as usize + 1];
        cth::threshold_histogram(&p, &keys, &mut want);
        let got = ctx
            .run_and_read("test.histogram", want.len(), |enc| {
                let k = ctx.storage_init("test.keys", &keys);
                let h = ctx.storage("test.hist", want.len());
                gpu::threshold::threshold_histogram(ctx, enc, &p, &k, &h);
                Ok(h)
            })
            .unwrap();
        common::assert_same(&name, "threshold_histogram", want.len(), &got, &want);
        let scale = cth::GrayScale::Int { scale: 1, full };
        for dark in [false, true] {
            let want_p = cth::threshold_params(dims, scale, &cth::Level::Otsu, dark, &keys);
            let k = ctx.storage_init("test.keys", &keys);
            let got_p = gpu::threshold::otsu_params(ctx, dims, scale, dark, &k)
                .unwrap()
                .unwrap();
            assert_eq!(got_p, want_p, "{name}: Otsu uniforms (dark {dark})");
        }
    }
}
