//! Every WGSL shader, embedded. One file per stage (`shaders/<stage>.wgsl`); its entry points
//! carry the names of the stage's CPU twin functions in `crate::cpu::<stage>`.
//!
//! `tests/source/shaders_naga.rs` parses and validates each of them with naga (no GPU needed)
//! and holds their entry points, workgroup sizes, bindings and uniform layouts against the Rust
//! side.

/// `shaders/gray.wgsl` (twin: `cpu::gray`), with `shaders/threshold_mode.wgsl` appended (its
/// `gray_threshold` compares as stage threshold does).
pub const GRAY: &str = concat!(
    include_str!("../shaders/gray.wgsl"),
    include_str!("../shaders/threshold_mode.wgsl")
);
/// `shaders/threshold.wgsl` (twin: `cpu::threshold`), with `shaders/threshold_mode.wgsl`
/// appended.
pub const THRESHOLD: &str = concat!(
    include_str!("../shaders/threshold.wgsl"),
    include_str!("../shaders/threshold_mode.wgsl")
);
/// `shaders/opening.wgsl` (twin: `cpu::opening`).
pub const OPENING: &str = include_str!("../shaders/opening.wgsl");
/// `shaders/distance.wgsl` (twin: `cpu::distance`).
pub const DISTANCE: &str = include_str!("../shaders/distance.wgsl");
/// `shaders/components.wgsl` (twin: `cpu::components`).
pub const COMPONENTS: &str = include_str!("../shaders/components.wgsl");
/// `shaders/scan.wgsl` (twin: `cpu::components::scan_exclusive`, as passes `scan_blocks` +
/// `scan_add`).
pub const SCAN: &str = include_str!("../shaders/scan.wgsl");
/// `shaders/watershed.wgsl` (twin: `cpu::watershed`), with `shaders/tile_sweep.wgsl` appended
/// (the tiled sweeps' tile size, report bits and modes).
pub const WATERSHED: &str = concat!(
    include_str!("../shaders/watershed.wgsl"),
    include_str!("../shaders/tile_sweep.wgsl")
);
/// `shaders/peaks.wgsl` (twin: `cpu::peaks`), with `shaders/tile_sweep.wgsl` appended.
pub const PEAKS: &str = concat!(
    include_str!("../shaders/peaks.wgsl"),
    include_str!("../shaders/tile_sweep.wgsl")
);
/// `shaders/maxima.wgsl` (twin: `cpu::maxima`).
pub const MAXIMA: &str = include_str!("../shaders/maxima.wgsl");
/// `shaders/measure.wgsl` (twin: `cpu::measure`).
pub const MEASURE: &str = include_str!("../shaders/measure.wgsl");
/// `shaders/smooth.wgsl` (twin: `cpu::smooth`).
pub const SMOOTH: &str = include_str!("../shaders/smooth.wgsl");
/// `shaders/background.wgsl` (twin: `cpu::background`).
pub const BACKGROUND: &str = include_str!("../shaders/background.wgsl");
/// `shaders/filter.wgsl` (twin: `cpu::filter`).
pub const FILTER: &str = include_str!("../shaders/filter.wgsl");
/// `shaders/pairs.wgsl` (twin: `cpu::pairs`).
pub const PAIRS: &str = include_str!("../shaders/pairs.wgsl");
/// `shaders/gather.wgsl` (twin: `cpu::gather`; readback plumbing, not a stage).
pub const GATHER: &str = include_str!("../shaders/gather.wgsl");

/// `(stage, source)` for every shader.
pub const ALL: &[(&str, &str)] = &[
    ("gray", GRAY),
    ("threshold", THRESHOLD),
    ("opening", OPENING),
    ("distance", DISTANCE),
    ("components", COMPONENTS),
    ("scan", SCAN),
    ("watershed", WATERSHED),
    ("peaks", PEAKS),
    ("maxima", MAXIMA),
    ("measure", MEASURE),
    ("smooth", SMOOTH),
    ("background", BACKGROUND),
    ("filter", FILTER),
    ("pairs", PAIRS),
    ("gather", GATHER),
];
