//! The front GPU stages (gray, threshold and its Otsu histogram, opening, distance) equal their
//! CPU twins byte for byte: on every fixture input (with its `args.txt`) and on seeded random
//! images at sizes that break index arithmetic; also on wgpu's GL backend, and past 65 535
//! workgroups.
//!
//! GPU availability: one context per test binary. If none can be created and
//! `FLOODSEG_REQUIRE_GPU=1` (set by `scripts/test.sh`), the tests fail with the error (which
//! lists the adapters seen); otherwise each prints `skipped: no GPU adapter: …` and passes.
//! Images stay small: on lavapipe (Mesa's software Vulkan) a JFA pass over 1 MP takes ≈ 30 ms.

mod common;

use common::{random_mask, MaskKind, Rng, SIZES};

use floodseg::cpu::distance::{DistanceMode, JfaVariant};
use floodseg::cpu::opening::Structure;
use floodseg::cpu::threshold::{self as cth, ThresholdParams};
use floodseg::cpu::{self, Dims, Rect};
use floodseg::gpu::{self, wgpu, GpuContext};

fn ctx() -> Option<&'static GpuContext> {
    common::gpu()
}

const MODES: &[DistanceMode] = &[
    DistanceMode::Exact,
    DistanceMode::Jfa(JfaVariant::Plain),
    DistanceMode::Jfa(JfaVariant::Plus2),
    DistanceMode::Jfa(JfaVariant::Squared),
];

fn mode_name(m: DistanceMode) -> &'static str {
    match m {
        DistanceMode::Exact => "exact",
        DistanceMode::Jfa(JfaVariant::Plain) => "jfa",
        DistanceMode::Jfa(JfaVariant::Plus2) => "jfa+2",
        DistanceMode::Jfa(JfaVariant::Squared) => "jfa2",
    }
}

const KINDS: &[MaskKind] = &[
    MaskKind::Empty,
    MaskKind::Full,
    MaskKind::Noise(30),
    MaskKind::Noise(85),
    MaskKind::Blobs,
];

/// The front stages (gray, threshold, opening and the four distance modes) of the twin vs the
/// GPU on every fixture, chained as the pipeline chains them. Peaks to labels are compared in
/// `gpu_pipeline.rs` (whole pipeline) and in each stage's own `gpu_*.rs`.
#[test]
fn stages_gpu_equal_cpu_on_fixtures() {
    if let Some(ctx) = ctx() {
        check_stages_gpu_equal_cpu_on_fixtures(ctx);
    }
}

fn check_stages_gpu_equal_cpu_on_fixtures(ctx: &GpuContext) {
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

#[test]
fn gray_gpu_equals_cpu_random() {
    if let Some(ctx) = ctx() {
        check_gray_gpu_equals_cpu_random(ctx);
    }
}

fn check_gray_gpu_equals_cpu_random(ctx: &GpuContext) {
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

#[test]
fn threshold_gpu_equals_cpu_random() {
    if let Some(ctx) = ctx() {
        check_threshold_gpu_equals_cpu_random(ctx);
    }
}

fn check_threshold_gpu_equals_cpu_random(ctx: &GpuContext) {
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

#[test]
fn opening_gpu_equals_cpu_random() {
    if let Some(ctx) = ctx() {
        check_opening_gpu_equals_cpu_random(ctx);
    }
}

fn check_opening_gpu_equals_cpu_random(ctx: &GpuContext) {
    let mut rng = Rng::new(3);
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        for &kind in KINDS {
            let mask = random_mask(kind, w, h, &mut rng);
            for structure in [Structure::Cross, Structure::Square] {
                for k in 0..=3 {
                    let full = Rect::full(dims);
                    let want = cpu::opening::opening(dims, full, structure, k, &mask);
                    let got =
                        gpu::opening::run_opening(ctx, dims, full, structure, k, &mask).unwrap();
                    let case = format!("random_{w}x{h}_{kind:?}_{structure:?}_open{k}");
                    common::assert_same(&case, "opening", w, &got, &want);
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

fn check_opening_gpu_equals_cpu_on_sub_rectangles(ctx: &GpuContext) {
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

#[test]
fn distance_gpu_equals_cpu_random() {
    if let Some(ctx) = ctx() {
        check_distance_gpu_equals_cpu_random(ctx);
    }
}

fn check_distance_gpu_equals_cpu_random(ctx: &GpuContext) {
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

fn check_distance_gpu_equals_cpu_single_seed(ctx: &GpuContext) {
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

#[test]
fn gpu_context_reports_its_adapter_and_limits() {
    let Some(ctx) = ctx() else { return };
    let info = ctx.adapter_info();
    eprintln!(
        "adapter: {} (software: {})",
        ctx.adapter_description(),
        ctx.is_software()
    );
    assert!(!info.name.is_empty());
    assert!(ctx.limits().max_storage_buffers_per_shader_stage >= gpu::REQUIRED_STORAGE_BUFFERS);
    assert!(ctx.check_size(1, 1).is_ok());
    assert!(ctx.check_size(257, 131).is_ok());
    let err = ctx.check_size(1 << 20, 1 << 20).unwrap_err();
    assert!(
        matches!(err, floodseg::Error::Limit(_)),
        "expected a limit error, got {err}"
    );
    assert!(err.to_string().contains("max_"), "{err}");
    assert!(matches!(
        ctx.check_size(0, 5),
        Err(floodseg::Error::BadData(_))
    ));
    // workgroup grids past 65535 workgroups fold into 2-D
    let max = ctx.limits().max_compute_workgroups_per_dimension;
    let (x, y) = ctx.workgroups(max * 64 * 2 + 1);
    assert!(x <= max && (x as u64) * (y as u64) * 64 > max as u64 * 128);
    // a mismatched buffer is an error, not a panic
    let bad = gpu::distance::run_distance(ctx, Dims::new(4, 4), DistanceMode::Exact, &[0; 3]);
    assert!(bad.is_err());
}

/// More than 65535 workgroups of 64: the dispatch folds into a 2-D grid, and the front shaders'
/// flat index `gid.y * num_workgroups.x * 64 + gid.x` must still cover each pixel once — gray,
/// threshold, opening and the plain JFA passes (`jfa_init`, `jfa_step`, `jfa_finish`) on a
/// 2049×2049 frame. The other per-pixel shaders are folded in `gpu_pipeline.rs`
/// (`pipeline_gpu_equals_cpu_past_65535_workgroups`), the scan in `gpu_components.rs`.
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

/// The distance passes' intermediate buffers equal the twin's too: `g` after `edt_cols`, and
/// the seed buffer after `jfa_init` and after every `jfa_step`.
#[test]
fn distance_passes_gpu_equal_cpu() {
    if let Some(ctx) = ctx() {
        check_distance_passes_gpu_equal_cpu(ctx);
    }
}

fn check_distance_passes_gpu_equal_cpu(ctx: &GpuContext) {
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

/// A validation error inside a run comes back as `Error::Backend`, not as a panic, and the
/// context stays usable.
#[test]
fn gpu_validation_error_is_a_backend_error() {
    let Some(ctx) = ctx() else { return };
    let dims = Dims::new(8, 8);
    let p = cpu::gray::GrayParams {
        dims,
        channels: 1,
        is_float: 0,
    };
    let r = ctx.run_and_read("floodseg.gray", dims.len(), |enc| {
        // a buffer without STORAGE usage cannot be bound as `samples`
        let bad = ctx.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("floodseg.gray.bad"),
            size: 256,
            usage: wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let keys = ctx.storage("floodseg.gray.keys", dims.len());
        gpu::gray::gray(ctx, enc, &p, &bad, &keys);
        Ok(keys)
    });
    match r {
        Err(floodseg::Error::Backend(msg)) => eprintln!("caught: {msg}"),
        other => panic!("expected Error::Backend, got {other:?}"),
    }
    let samples = vec![7u32; dims.len()];
    assert_eq!(gpu::gray::run_gray(ctx, &p, &samples).unwrap(), samples);
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
fn check_threshold_histogram_gpu_equals_cpu(ctx: &GpuContext) {
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

/// Every check above also on wgpu's GL backend. GLSL leaves integer `%` with a negative operand
/// undefined; with the twin's `div_floor` written literally, llvmpipe's GL driver made the exact
/// transform differ, so every equality check runs on GL too.
///
/// GL adapter: with `FLOODSEG_REQUIRE_GL=1` (set by `scripts/test.sh` on Linux, which installs
/// Mesa's EGL and llvmpipe: `libegl1 libegl-mesa0 libgl1-mesa-dri`) the test fails when none
/// can be created; otherwise it prints `skipped: no GL adapter: …` and passes
/// (`FLOODSEG_REQUIRE_GPU` does not cover GL: macOS and Windows have no GL adapter in wgpu).
#[test]
fn stages_gpu_equal_cpu_on_gl_backend() {
    let sel = gpu::AdapterSelection {
        backends: wgpu::Backends::GL,
        name: std::env::var("WGPU_ADAPTER_NAME").ok(),
    };
    let ctx = match GpuContext::with_selection(&sel) {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("FLOODSEG_REQUIRE_GL").is_ok_and(|v| v == "1") {
                panic!(
                    "FLOODSEG_REQUIRE_GL=1 but no GL adapter: {e} (on Debian/Ubuntu: apt-get \
                     install libegl1 libegl-mesa0 libgl1-mesa-dri)"
                );
            }
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: no GL adapter: {e} (set FLOODSEG_REQUIRE_GL=1 to make this a failure)"
            );
            return;
        }
    };
    eprintln!("GL adapter: {}", ctx.adapter_description());
    check_stages_gpu_equal_cpu_on_fixtures(&ctx);
    check_gray_gpu_equals_cpu_random(&ctx);
    check_threshold_gpu_equals_cpu_random(&ctx);
    check_opening_gpu_equals_cpu_random(&ctx);
    check_opening_gpu_equals_cpu_on_sub_rectangles(&ctx);
    check_distance_gpu_equals_cpu_random(&ctx);
    check_distance_gpu_equals_cpu_single_seed(&ctx);
    check_distance_passes_gpu_equal_cpu(&ctx);
    check_threshold_histogram_gpu_equals_cpu(&ctx);
}
