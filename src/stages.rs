//! What a frame's run gives: [`Stages`] (every stage image the caller keeps, the object
//! count and per-object sums, the threshold's report, timings), and [`Keep`], which stage
//! images a caller keeps. Below both backends: each fills a `Stages` from a
//! [`crate::plan::FramePlan`].

use crate::cpu::{self, threshold::GrayScale, Dims};
use crate::measure::{self, ObjectProps};

/// What the threshold did on one frame, for the run's report and its checks
/// ([`crate::checks`]): both backends give the same values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThresholdReport {
    /// The level the keys were compared with, in the input's units (the `--threshold` given,
    /// or this frame's Otsu level); with `--background` in the flattened image's units.
    pub level: f64,
    /// Whether the level is Otsu's.
    pub otsu: bool,
    /// Pixels in the threshold's mask (before the opening).
    pub mask_pixels: u64,
    /// With a `--core` stricter than the threshold: pixels of the core's mask (before its
    /// opening), where the markers are found.
    pub core_pixels: Option<u64>,
}

/// Every stage's output for one frame (flat, row-major, `width × height`).
#[derive(Clone, Debug, PartialEq)]
pub struct Stages {
    pub dims: Dims,
    pub scale: GrayScale,
    /// Gray keys (see `cpu::gray`).
    pub gray: Vec<u32>,
    /// The gray keys after `--smooth`; empty without smoothing.
    pub smoothed: Vec<u32>,
    /// The keys after `--background` (what the threshold then sees); empty without it.
    pub flattened: Vec<u32>,
    /// 0/1 after the threshold.
    pub mask: Vec<u32>,
    /// 0/1 after the opening.
    pub opened: Vec<u32>,
    /// Squared Euclidean distance.
    pub distance2: Vec<u32>,
    /// `--core`: the core's opened mask (0/1) and its squared distance, where the markers were
    /// found; empty without a core (or one not stricter than the threshold).
    pub core_opened: Vec<u32>,
    pub core_distance2: Vec<u32>,
    /// 0/1 marker pixels: the kept peaks (`--markers peaks`) or the maxima plateaus
    /// (`regional`, `hmax`), after the border exclusion.
    pub peaks: Vec<u32>,
    /// Marker labels `1..=n_markers`.
    pub markers: Vec<u32>,
    pub n_markers: u32,
    /// The threshold's level and mask size on this frame; `None` for labels read back from an
    /// earlier run (`--resume`).
    pub threshold: Option<ThresholdReport>,
    /// Object labels `1..=count()`: the watershed's, renumbered after the area filter.
    pub labels: Vec<u32>,
    /// Per-object integer sums of the measure stage (object `l` at index `l - 1`; one per
    /// object kept by the area filter).
    pub sums: Vec<cpu::measure::ObjectSums>,
    /// Time of each stage, in order (for `-v` and benchmarks; not compared): the CPU's
    /// stages `gray`, `threshold`, `opening`, `distance`, `peaks`, `components`, `watershed`,
    /// `measure`. A GPU frame has these only when profiling is on
    /// (`gpu::GpuContext::set_profiling`); otherwise one `"gpu pipeline"` total.
    pub timings: Vec<(&'static str, std::time::Duration)>,
    /// Where `timings` come from: `"wall-clock"` (the CPU backend; an unprofiled GPU frame),
    /// `"gpu-timestamps"` (GPU timestamp queries, device time) or `"wall-clock-synced"` (a
    /// profiled GPU frame on a device without timestamp queries). See `gpu::timing`.
    pub timing_source: &'static str,
}

impl Stages {
    /// Number of objects in `labels` (each marker grows one object — a marker cannot vanish —
    /// and the area filter may drop some).
    pub fn count(&self) -> u32 {
        self.sums.len() as u32
    }

    /// Per-object measurements (regionprops values) of the labels against the gray image, from
    /// the measure stage's sums.
    pub fn measure(&self) -> Vec<ObjectProps> {
        measure::props(&self.sums, self.scale)
    }
}

/// Which of a frame's stage images reach the sink. The workers drop the others as soon as a
/// frame is segmented, so frames waiting for the sink hold only what it uses (a frame's seven
/// stage images are 28 bytes per pixel; its labels 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Every stage image (`--save-stages`).
    All,
    /// The labels and the gray keys (outline overlays need the gray image).
    LabelsAndGray,
    /// The labels only (plus the object count and per-object sums, which are small).
    Labels,
}

impl Keep {
    /// Empty the stage images this does not keep.
    pub fn trim(self, s: &mut Stages) {
        if self == Keep::All {
            return;
        }
        for v in [
            &mut s.smoothed,
            &mut s.flattened,
            &mut s.mask,
            &mut s.opened,
            &mut s.distance2,
            &mut s.core_opened,
            &mut s.core_distance2,
            &mut s.peaks,
            &mut s.markers,
        ] {
            *v = Vec::new();
        }
        if self == Keep::Labels {
            s.gray = Vec::new();
        }
    }
}
