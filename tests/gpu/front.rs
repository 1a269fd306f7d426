//! The front stages chained as the pipeline chains them (gray → threshold → opening → the four
//! distance modes), GPU against the CPU twin byte for byte: on every fixture input (with its
//! `args.txt`), and on a 2049×2049 frame, past 65 535 workgroups. Peaks to labels: `pipeline.rs`
//! (whole pipeline) and each stage's own module. GL backend: `context.rs`.

use crate::common::{self, Rng};
use crate::{ctx, mode_name, MODES};

use floodseg::cpu::distance::{DistanceMode, JfaVariant};
use floodseg::cpu::opening::Structure;
use floodseg::cpu::threshold::{self as cth, ThresholdParams};
use floodseg::cpu::{self, Dims, Rect};
use floodseg::gpu::{self, GpuContext};

/// The front stages (gray, threshold, opening and the four distance modes) of the twin vs the
/// GPU on every fixture, chained as the pipeline chains them. Peaks to labels are compared in
/// `pipeline.rs` (whole pipeline) and in each stage's own module.
#[test]
fn stages_gpu_equal_cpu_on_fixtures() {
    if let Some(ctx) = ctx() {
        check_stages_gpu_equal_cpu_on_fixtures(ctx);
    }
}

pub(crate) fn check_stages_gpu_equal_cpu_on_fixtures(ctx: &GpuContext) {
    let cases = common::fixture_cases();
    assert!(!cases.is_empty(), "no fixtures found");
    for case in cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let args = std::fs::read_to_string(case.join("args.txt")).unwrap();
        let params = common::parse_args(&args);
        let img = floodseg::io::read_image(&common::fixture_input(&case))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (gp, samples, scale) = floodseg::pipeline::gray_input(&img).unwrap();
        let dims = gp.dims;
        let w = dims.width as usize;

        let mut gray = vec![0u32; dims.len()];
        cpu::gray::gray(&gp, &samples, &mut gray);
        let got = gpu::gray::run_gray(ctx, &gp, &samples).unwrap();
        common::assert_same(&name, "gray", w, &got, &gray);

        let tp = cth::threshold_params(dims, scale, &params.level, params.dark, &gray);
        let mut mask = vec![0u32; dims.len()];
        let mut count = [0u32];
        cth::threshold(&tp, &gray, &mut mask, &mut count);
        let (got, got_count) = gpu::threshold::run_threshold_counted(ctx, &tp, &gray).unwrap();
        common::assert_same(&name, "threshold", w, &got, &mask);
        assert_eq!(got_count, count[0], "{name}: threshold count");
        assert_eq!(
            u64::from(count[0]),
            cth::threshold_count(&mask),
            "{name}: twin count"
        );

        let full = Rect::full(dims);
        let opened = cpu::opening::opening(dims, full, params.structure, params.open, &mask);
        let got = gpu::opening::run_opening(ctx, dims, full, params.structure, params.open, &mask)
            .unwrap();
        common::assert_same(&name, "opening", w, &got, &opened);

        for &mode in MODES {
            let want = cpu::distance::distance(dims, mode, &opened);
            let got = gpu::distance::run_distance(ctx, dims, mode, &opened).unwrap();
            common::assert_same(
                &name,
                &format!("distance-{}", mode_name(mode)),
                w,
                &got,
                &want,
            );
        }
    }
}

/// More than 65535 workgroups of 64: the dispatch folds into a 2-D grid, and the front shaders'
/// flat index `gid.y * num_workgroups.x * 64 + gid.x` must still cover each pixel once — gray,
/// threshold, opening and the plain JFA passes (`jfa_init`, `jfa_step`, `jfa_finish`) on a
/// 2049×2049 frame. The other per-pixel shaders are folded in `pipeline.rs`
/// (`pipeline_gpu_equals_cpu_past_65535_workgroups`), the scan in `components.rs`.
#[test]
fn stages_gpu_equal_cpu_past_65535_workgroups() {
    let Some(ctx) = ctx() else { return };
    let (w, h) = (2049usize, 2049usize); // 4 198 401 pixels > 65535 × 64
    let dims = Dims::new(w, h);
    let (gx, gy) = ctx.workgroups(dims.len() as u32);
    assert!(gy > 1, "{w}×{h} should fold: {gx}×{gy} workgroups");
    let mut rng = Rng::new(6);
    let samples: Vec<u32> = (0..dims.len()).map(|_| rng.below(256) as u32).collect();
    let gp = cpu::gray::GrayParams {
        dims,
        channels: 1,
        is_float: 0,
    };
    let mut gray = vec![0u32; dims.len()];
    cpu::gray::gray(&gp, &samples, &mut gray);
    let got = gpu::gray::run_gray(ctx, &gp, &samples).unwrap();
    common::assert_same("large_2049x2049", "gray", w, &got, &gray);

    let tp = ThresholdParams {
        dims,
        mode: cth::MODE_BELOW,
        bound: 200,
    };
    let mut mask = vec![0u32; dims.len()];
    cth::threshold(&tp, &gray, &mut mask, &mut [0]);
    let got = gpu::threshold::run_threshold(ctx, &tp, &gray).unwrap();
    common::assert_same("large_2049x2049", "threshold", w, &got, &mask);

    let full = Rect::full(dims);
    let opened = cpu::opening::opening(dims, full, Structure::Cross, 1, &mask);
    let got = gpu::opening::run_opening(ctx, dims, full, Structure::Cross, 1, &mask).unwrap();
    common::assert_same("large_2049x2049", "opening", w, &got, &opened);

    let mode = DistanceMode::Jfa(JfaVariant::Plain);
    let want = cpu::distance::distance(dims, mode, &opened);
    let got = gpu::distance::run_distance(ctx, dims, mode, &opened).unwrap();
    common::assert_same("large_2049x2049", "distance-jfa", w, &got, &want);
}
