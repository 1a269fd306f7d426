//! The GPU backend against its exact CPU twin: one test binary (`cargo test --test gpu`), one
//! module per stage, named as everywhere else (`shaders/<stage>.wgsl`, `src/gpu/<stage>.rs`,
//! `src/cpu/<stage>.rs`), so `cargo test --test gpu <stage>::` runs one stage's tests.
//!
//! | module          | what it holds                                                           |
//! |-----------------|-------------------------------------------------------------------------|
//! | `gray`          | gray keys on random samples (integer and float)                         |
//! | `smooth`        | `--smooth`: GPU passes vs twin; the twin's rounding, edges, schedules    |
//! | `background`    | `--background`: GPU vs twin; the twin vs a naive window and SciPy         |
//! | `threshold`     | masks and counts on random keys; the Otsu histogram and uniforms        |
//! | `opening`       | random masks, both structures, sub-rectangles                           |
//! | `distance`      | the four modes on random masks, single seeds, pass by pass              |
//! | `peaks`         | fixtures, random masks, special cases, single passes; scikit-image's border |
//! | `maxima`        | `--markers regional/hmax`: random, plateaus, direct loops; scikit-image  |
//! | `components`    | labels on fixtures, random and adversarial masks; the scan (`gpu::scan`) |
//! | `watershed`     | labels, costs and states vs the Jacobi fixed point; tile sweeps; altitude |
//! | `measure`       | every field of the object sums, every key kind, 64-bit carries          |
//! | `filter`        | relabelling tables, pooled frames; the twin's `keep_table`               |
//! | `pairs`         | the tracker's pair histogram: random labels and shifts, table overflow   |
//! | `front`         | gray → threshold → opening → distance chained, on fixtures and 2049×2049 |
//! | `pipeline`      | the whole pipeline on fixtures, real images, random shapes, huge frames  |
//! | `modes`         | the accuracy modes and presets, GPU vs twin, and what each mode promises |
//! | `batch`         | watershed batching: stacked frames, held batcher, several threads       |
//! | `context`       | adapter and limits, validation errors; the front stages on the GL backend |
//! | `counters`      | the ratchet: a 1024² frame's GPU steps, submissions and host waits      |
//!
//! A few CPU-only checks live here because they share a module's input generators (the
//! background window vs a naive scan and vs SciPy, smooth's rounding and schedules, filter's
//! `keep_table`); they run without a GPU. `tests/README.md` maps every stage to all its tests.
//!
//! GPU availability: one context per test binary (`common::gpu`), shared by every module. If
//! none can be created and `FLOODSEG_REQUIRE_GPU=1` (set by `scripts/test.sh`), the tests fail
//! with the error (which lists the adapters seen); otherwise each prints
//! `skipped: no GPU adapter: …` and passes. Tests that change a context's settings make one of
//! their own.

#[path = "../common/mod.rs"]
mod common;

mod background;
mod batch;
mod components;
mod context;
mod counters;
mod distance;
mod filter;
mod front;
mod gray;
mod maxima;
mod measure;
mod modes;
mod opening;
mod pairs;
mod peaks;
mod pipeline;
mod smooth;
mod threshold;
mod watershed;

// ------------------------------------------------- shared by the front-stage modules

use floodseg::cpu::distance::{DistanceMode, JfaVariant};
use floodseg::gpu::GpuContext;

use common::MaskKind;

fn ctx() -> Option<&'static GpuContext> {
    common::gpu()
}

/// The four distance modes.
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

/// The random masks of the opening and distance checks.
const KINDS: &[MaskKind] = &[
    MaskKind::Empty,
    MaskKind::Full,
    MaskKind::Noise(30),
    MaskKind::Noise(85),
    MaskKind::Blobs,
];
