//! The GPU context itself: it reports its adapter and limits, refuses sizes beyond them, folds
//! large dispatches into 2-D grids, turns a validation error into `Error::Backend` and stays
//! usable; and the front stages' checks (`gray.rs`, `threshold.rs`, `opening.rs`,
//! `distance.rs`, `front.rs`) rerun on wgpu's GL backend.

use crate::ctx;

use floodseg::cpu::distance::DistanceMode;
use floodseg::cpu::{self, Dims};
use floodseg::gpu::{self, wgpu, GpuContext};

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

/// Every front-stage check (`gray.rs`, `threshold.rs`, `opening.rs`, `distance.rs`, `front.rs`)
/// also on wgpu's GL backend. GLSL leaves integer `%` with a negative operand
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
    crate::front::check_stages_gpu_equal_cpu_on_fixtures(&ctx);
    crate::gray::check_gray_gpu_equals_cpu_random(&ctx);
    crate::threshold::check_threshold_gpu_equals_cpu_random(&ctx);
    crate::opening::check_opening_gpu_equals_cpu_random(&ctx);
    crate::opening::check_opening_gpu_equals_cpu_on_sub_rectangles(&ctx);
    crate::distance::check_distance_gpu_equals_cpu_random(&ctx);
    crate::distance::check_distance_gpu_equals_cpu_single_seed(&ctx);
    crate::distance::check_distance_passes_gpu_equal_cpu(&ctx);
    crate::threshold::check_threshold_histogram_gpu_equals_cpu(&ctx);
}

/// A device wait past the context's limit is `Error::DeviceTimeout` (exit code 5), not a hang:
/// with a limit of 1 ms, a 1024² frame's first loop batch on lavapipe is still running. The
/// default limit is generous (`DEFAULT_WAIT_TIMEOUT`) and can be lifted.
#[test]
fn a_device_wait_past_its_limit_is_a_typed_error() {
    use floodseg::pipeline::Params;
    if ctx().is_none() {
        return;
    }
    let own = GpuContext::new().expect("a second context");
    if std::env::var_os("FLOODSEG_GPU_TIMEOUT").is_none() {
        assert_eq!(own.wait_timeout(), Some(gpu::DEFAULT_WAIT_TIMEOUT));
    }
    own.set_wait_timeout(None);
    assert_eq!(own.wait_timeout(), None);
    own.set_wait_timeout(Some(std::time::Duration::from_millis(1)));
    let (w, h) = (1024, 1024);
    let px: Vec<u8> = (0..w * h)
        .map(|i| {
            if (i / w / 9 + i % w / 9) % 2 == 0 {
                40
            } else {
                220
            }
        })
        .collect();
    let img = floodseg::image::RawImage::gray_u8(w, h, px);
    // a fixed level: the first wait is the peak loop's, after the front stages and 8 rounds
    let p = Params {
        level: floodseg::cpu::threshold::parse_level("128").unwrap(),
        dark: true,
        ..Params::default()
    };
    match floodseg::backend::gpu::segment(&own, &img, &p) {
        Err(e @ floodseg::Error::DeviceTimeout { .. }) => {
            assert_eq!(e.exit_code(), 5);
            assert!(e.to_string().contains("FLOODSEG_GPU_TIMEOUT"), "{e}");
        }
        other => panic!(
            "expected a device timeout, got {:?}",
            other.map(|s| s.labels.len())
        ),
    }
}

/// A readback of several buffers gathers the small ones (counts, flags: 1 to
/// `gather::MAX_WORDS` words, at most `gather::MAX_PARTS`) into one buffer on the device first
/// (one pass and one copy instead of a copy each) and still returns every part, in order, as
/// the twin's concatenation says; larger, empty and surplus parts are copied on their own.
#[test]
fn a_readback_gathers_its_small_parts_and_keeps_their_order() {
    let Some(ctx) = ctx() else { return };
    let lens = [1usize, 4, 0, 64, 65, 3, 1000, 2, 1, 1, 1, 1, 7];
    let mut seed = 0x9e37_79b9u32;
    let data: Vec<Vec<u32>> = lens
        .iter()
        .map(|&n| {
            (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    seed
                })
                .collect()
        })
        .collect();
    let bufs: Vec<wgpu::Buffer> = data
        .iter()
        .map(|d| ctx.storage_init("test.gather", d))
        .collect();
    let parts: Vec<(&wgpu::Buffer, usize)> = bufs.iter().zip(&lens).map(|(b, &n)| (b, n)).collect();
    let before = gpu::counters::snapshot();
    let got = ctx.read_buffers("test.gather", &parts).unwrap();
    let c = gpu::counters::snapshot() - before;
    assert_eq!(got, data);
    // the first seven small parts (1, 4, 64, 3, 2, 1, 1 words) in one pass and one copy; then
    // 65, 1000, and the surplus 1, 1, 7 on their own (the empty part needs no copy)
    assert_eq!((c.passes, c.copies), (1, 6), "{}", c.to_json());
    let small: Vec<&[u32]> = [0, 1, 3, 5, 7, 8, 9]
        .iter()
        .map(|&k| &data[k][..])
        .collect();
    let twin = cpu::gather::gather_words(&small);
    assert_eq!(twin.len(), 1 + 4 + 64 + 3 + 2 + 1 + 1);
    assert_eq!(
        &twin[..5],
        &[data[0][0], data[1][0], data[1][1], data[1][2], data[1][3]]
    );
}
