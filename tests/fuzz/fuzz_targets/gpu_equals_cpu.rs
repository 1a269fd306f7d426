//! The GPU pipeline equals the CPU pipeline byte for byte on arbitrary small images and
//! parameters (where a GPU adapter exists; lavapipe works, slowly).
//!
//! Without an adapter every input would pass unchecked: with `FLOODSEG_REQUIRE_GPU=1` (as
//! `scripts/test.sh` sets it) the first input then crashes with the context's error; otherwise
//! the target says once on stderr that it compares nothing.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fn gpu() -> Option<&'static floodseg::gpu::GpuContext> {
    static CTX: OnceLock<Option<floodseg::gpu::GpuContext>> = OnceLock::new();
    CTX.get_or_init(|| match floodseg::gpu::GpuContext::new() {
        Ok(c) => Some(c),
        Err(e) => {
            if std::env::var("FLOODSEG_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("FLOODSEG_REQUIRE_GPU=1 but no GPU context: {e}");
            }
            eprintln!(
                "gpu_equals_cpu: no GPU adapter ({e}): inputs are NOT compared; set \
                 FLOODSEG_REQUIRE_GPU=1 to make this a crash"
            );
            None
        }
    })
    .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Some(ctx) = gpu() else { return };
    let Some((img, params)) = common::case(data) else {
        return;
    };
    let cpu = floodseg::pipeline::segment_cpu(&img, &params);
    let gpu = floodseg::backend::gpu::segment(ctx, &img, &params);
    match (cpu, gpu) {
        (Ok(c), Ok(g)) => {
            assert_eq!(c.smoothed, g.smoothed, "smoothed");
            assert_eq!(c.flattened, g.flattened, "flattened");
            assert_eq!(c.mask, g.mask, "mask");
            assert_eq!(c.opened, g.opened, "opened");
            assert_eq!(c.distance2, g.distance2, "distance2");
            assert_eq!(c.core_opened, g.core_opened, "core");
            assert_eq!(c.core_distance2, g.core_distance2, "core_distance2");
            assert_eq!(c.peaks, g.peaks, "peaks");
            assert_eq!(c.markers, g.markers, "markers");
            assert_eq!(c.labels, g.labels, "labels");
            assert_eq!(c.sums, g.sums, "sums");
        }
        (Err(_), Err(_)) => {}
        (c, g) => panic!("one backend failed: cpu {:?}, gpu {:?}", c.err(), g.err()),
    }
});
