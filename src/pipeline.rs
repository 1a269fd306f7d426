//! The lecture pipeline, stage by stage: gray → threshold → opening → distance → peaks →
//! markers → watershed, plus per-object measurements.
//!
//! [`segment`] runs it on the chosen backend and returns every intermediate image, so the CLI's
//! `--save-stages` and the tests see exactly what each stage produced.

use crate::cpu::{
    self, distance::DistanceMode, opening::Structure, threshold::GrayScale, Dims, Rect,
};
use crate::error::{Error, Result};
use crate::image::{RawImage, Samples};
use crate::measure::{self, ObjectProps};
use std::time::Instant;

/// Largest accepted side: the exact distance transform's integer arithmetic (`i32`, squared
/// coordinates summed) is proven free of overflow up to this size.
pub const MAX_SIDE: usize = 16384;

/// Which implementation runs the stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// The CPU twin.
    Cpu,
    /// WGSL compute shaders through wgpu.
    Gpu,
    /// A hardware GPU when one exists, else the CPU.
    #[default]
    Auto,
}

/// How the watershed's markers are chosen (`--markers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Markers {
    /// `peak_local_max` with `min_distance` and the footprint, labelled with 4-connectivity
    /// (the lecture's pipeline).
    #[default]
    Peaks,
    /// Every regional-maximum plateau of the distance inside the mask, one marker each
    /// (`cpu::maxima::regional`).
    Regional,
    /// h-maxima: regional maxima of the half-pixel distance after a reconstruction that
    /// flattens every maximum at most `h_half / 2` pixels above its saddle
    /// (`cpu::maxima::hmax`; scikit-image's `h_maxima` keeps those exactly h above). One rod,
    /// one marker.
    Hmax {
        /// The height h in half pixels (h = `h_half / 2` pixels).
        h_half: u32,
    },
}

impl Markers {
    /// The CLI's spelling (`peaks`, `regional`, `hmax`).
    pub fn name(&self) -> &'static str {
        match self {
            Markers::Peaks => "peaks",
            Markers::Regional => "regional",
            Markers::Hmax { .. } => "hmax",
        }
    }
}

/// What the watershed floods (`--flood`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Flood {
    /// `−distance`, the lecture's: objects part where the mask is narrowest.
    #[default]
    Distance,
    /// The gray levels the threshold sees (after `--smooth` and `--background`), darkest first
    /// for `--dark` objects, brightest first for `--bright` (`cpu::watershed::ws_altitude`):
    /// touching cells part along the line of background-like pixels between them.
    Intensity,
}

impl Flood {
    /// The CLI's spelling.
    pub fn name(&self) -> &'static str {
        match self {
            Flood::Distance => "distance",
            Flood::Intensity => "intensity",
        }
    }
}

/// Parameters of the pipeline (the CLI's flags; defaults are the lecture's stages with Otsu and
/// no opening — see [`Preset`] for named sets).
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// Passes of integer binomial smoothing of the gray image before the threshold
    /// (`cpu::smooth`; 0: none). Integer images only.
    pub smooth: u32,
    /// `--background R`: flatten uneven illumination before the threshold by the top-hat with a
    /// `(2R+1)²` square (`cpu::background`; the closing for `--dark`, the opening for
    /// `--bright`); the threshold then reads the flattened keys. Integer images only. `None`: off.
    pub background: Option<u32>,
    pub level: cpu::threshold::Level,
    /// Objects are darker than the threshold.
    pub dark: bool,
    /// `k`: erosions then dilations (0: no opening).
    pub open: u32,
    pub structure: Structure,
    /// `min_distance` of `peak_local_max` (markers `peaks` only).
    pub min_distance: u32,
    /// Footprint size `s` (an `s×s` box); `None` means `2·min_distance + 1` (markers `peaks`).
    pub footprint: Option<u32>,
    pub distance: DistanceMode,
    pub markers: Markers,
    /// Markers closer than this to the image edge are dropped (`exclude_border` of
    /// `peak_local_max`). `None`: `min_distance` for `peaks` (scikit-image's default, which
    /// loses cells at the edge), 0 for `regional` and `hmax`.
    pub exclude_border: Option<u32>,
    /// `--core`: a stricter level (darker for `--dark`, brighter for `--bright`); markers are
    /// found in its opened mask (intersected with the threshold's) instead of the threshold's,
    /// so cells that touch in the mask but not in their cores get one marker each. The objects
    /// grow over the threshold's mask from those markers; a mask component without any core
    /// pixel gets no marker and no object. `None`: markers from the threshold's mask.
    pub core: Option<cpu::threshold::Decimal>,
    /// What the watershed floods.
    pub flood: Flood,
    /// Objects with fewer pixels are dropped after the watershed (0: keep all).
    pub min_area: u64,
    /// Objects with more pixels are dropped after the watershed.
    pub max_area: Option<u64>,
    /// Objects less elongated than this are dropped (regionprops `eccentricity`, 0 = a disk,
    /// → 1 for a long rod; 0: keep all). Round debris next to rods.
    pub min_eccentricity: f64,
    /// Objects wider than this are dropped (regionprops `minor_axis_length`, pixels).
    pub max_width: Option<f64>,
    /// `--clear-border B`: objects with a pixel less than `B + 1` pixels from the image edge
    /// are dropped (scikit-image's `clear_border(labels, buffer_size=B)`: cells cut by the
    /// frame, whose length and area would be wrong). `None`: kept.
    pub clear_border: Option<u32>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            smooth: 0,
            background: None,
            level: cpu::threshold::Level::Otsu,
            dark: false,
            open: 0,
            structure: Structure::Cross,
            min_distance: 10,
            footprint: None,
            distance: DistanceMode::default(),
            markers: Markers::Peaks,
            exclude_border: None,
            core: None,
            flood: Flood::Distance,
            min_area: 0,
            max_area: None,
            min_eccentricity: 0.0,
            max_width: None,
            clear_border: None,
        }
    }
}

/// Named parameter sets (`--preset`); explicit flags override their values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// The lecture's pipeline with the lecture's values: threshold 180 on dark cells, one
    /// erosion and dilation, `peak_local_max(min_distance=10, footprint=ones((10, 10)))`.
    Lecture,
    /// Rod-shaped bacteria in brightfield or phase contrast (dark cells on a brighter
    /// background): Otsu, one opening, h-maxima markers (h = 1 px), no border exclusion, the
    /// watershed flooding the gray levels (touching cells part along the lighter line between
    /// them), objects under 50 px or rounder than eccentricity 0.8 dropped (debris). Chosen by
    /// searches over 10 real fields and synthetic rods (README, "Real data"); its levels — the
    /// threshold and a `--core` level — are what needs calibrating per acquisition
    /// (`floodseg tune --preset rods`).
    Rods,
}

impl Preset {
    pub fn params(self) -> Params {
        match self {
            Preset::Lecture => Params {
                level: cpu::threshold::Level::Fixed(
                    cpu::threshold::Decimal::parse("180").expect("a decimal"),
                ),
                dark: true,
                open: 1,
                min_distance: 10,
                footprint: Some(10),
                ..Params::default()
            },
            Preset::Rods => Params {
                level: cpu::threshold::Level::Otsu,
                dark: true,
                open: 1,
                markers: Markers::Hmax { h_half: 2 },
                flood: Flood::Intensity,
                min_area: 50,
                min_eccentricity: 0.8,
                ..Params::default()
            },
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Preset::Lecture => "lecture",
            Preset::Rods => "rods",
        }
    }
}

impl Params {
    pub fn footprint_size(&self) -> u32 {
        self.footprint
            .unwrap_or(self.min_distance.saturating_mul(2).saturating_add(1))
    }

    /// The border width markers are dropped in (see [`Params::exclude_border`]).
    pub fn border(&self) -> u32 {
        self.exclude_border.unwrap_or(match self.markers {
            Markers::Peaks => self.min_distance,
            _ => 0,
        })
    }

    /// The `floodseg segment` flags that give these parameters (every value that a preset sets
    /// spelled out, so the line gives the same result with or without `--preset`; `--core`,
    /// `--max-area` and `--max-width` appear when set: no preset sets them).
    pub fn to_args(&self) -> String {
        let mut v = Vec::new();
        if self.smooth > 0 {
            v.push(format!("--smooth {}", self.smooth));
        }
        if let Some(r) = self.background {
            v.push(format!("--background {r}"));
        }
        v.push(match self.level {
            cpu::threshold::Level::Otsu => "--threshold otsu".to_string(),
            cpu::threshold::Level::Fixed(d) => format!("--threshold {}", decimal_text(&d)),
        });
        v.push(if self.dark { "--dark" } else { "--bright" }.to_string());
        v.push(format!("--open {}", self.open));
        if self.structure == Structure::Square {
            v.push("--structure square".into());
        }
        match self.markers {
            Markers::Peaks => {
                v.push(format!(
                    "--markers peaks --min-distance {}",
                    self.min_distance
                ));
                if let Some(s) = self.footprint {
                    v.push(format!("--footprint {s}"));
                }
            }
            Markers::Regional => v.push("--markers regional".into()),
            Markers::Hmax { h_half } => {
                v.push(format!("--markers hmax --h {}", h_half as f64 / 2.0))
            }
        }
        v.push(format!("--exclude-border {}", self.border()));
        if let Some(c) = &self.core {
            v.push(format!("--core {}", decimal_text(c)));
        }
        v.push(format!("--flood {}", self.flood.name()));
        v.push(format!("--min-area {}", self.min_area));
        if let Some(m) = self.max_area {
            v.push(format!("--max-area {m}"));
        }
        v.push(format!("--min-eccentricity {}", self.min_eccentricity));
        if let Some(m) = self.max_width {
            v.push(format!("--max-width {m}"));
        }
        if let Some(b) = self.clear_border {
            v.push(format!("--clear-border {b}"));
        }
        if self.distance != DistanceMode::default() {
            v.push(format!(
                "--distance {}",
                match self.distance {
                    DistanceMode::Exact => "exact",
                    DistanceMode::Jfa(cpu::distance::JfaVariant::Plain) => "jfa",
                    DistanceMode::Jfa(cpu::distance::JfaVariant::Plus2) => "jfa+2",
                    DistanceMode::Jfa(cpu::distance::JfaVariant::Squared) => "jfa2",
                }
            ));
        }
        v.join(" ")
    }

    /// The peaks stage's parameters for a `dims` frame (`--markers peaks`).
    pub fn peaks_params(&self, dims: Dims) -> cpu::peaks::PeaksParams {
        cpu::peaks::PeaksParams {
            dims,
            min_distance: self.min_distance,
            footprint: self.footprint_size(),
            border: self.border(),
        }
    }

    /// The maxima stage's parameters for a `dims` frame (`--markers regional|hmax`; `h_half`
    /// is 0 for `regional`, which ignores it).
    pub fn maxima_params(&self, dims: Dims) -> cpu::maxima::MaximaParams {
        cpu::maxima::MaximaParams {
            dims,
            h_half: match self.markers {
                Markers::Hmax { h_half } => h_half,
                _ => 0,
            },
            border: self.border(),
        }
    }

    /// Whether objects are filtered (by area, shape or contact with the edge) after the
    /// watershed.
    pub fn filters_objects(&self) -> bool {
        self.min_area > 0
            || self.max_area.is_some()
            || self.min_eccentricity > 0.0
            || self.max_width.is_some()
            || self.clear_border.is_some()
    }

    /// Reject values that no stage can use.
    pub fn validate(&self) -> Result<()> {
        if self.footprint == Some(0) {
            return Err(Error::param("--footprint", "must be at least 1"));
        }
        if self.open > 10_000 {
            return Err(Error::param(
                "--open",
                format!("{} erosions is absurd (at most 10000)", self.open),
            ));
        }
        if self.smooth > 1_000 {
            return Err(Error::param(
                "--smooth",
                format!("{} passes is absurd (at most 1000)", self.smooth),
            ));
        }
        if let Some(r) = self.background {
            if !(1..=cpu::background::MAX_RADIUS).contains(&r) {
                return Err(Error::param(
                    "--background",
                    format!(
                        "the radius is {r}; it must be 1 to {} pixels",
                        cpu::background::MAX_RADIUS
                    ),
                ));
            }
        }
        if self.min_distance > 10_000 {
            return Err(Error::param(
                "--min-distance",
                format!("{} is absurd (at most 10000)", self.min_distance),
            ));
        }
        if self.footprint_size() > 20_001 {
            return Err(Error::param(
                "--footprint",
                format!("{} is absurd (at most 20001)", self.footprint_size()),
            ));
        }
        if let Markers::Hmax { h_half } = self.markers {
            // heights are at most 2·√(2·16384²) < 46 341 half pixels
            if h_half > 100_000 {
                return Err(Error::param(
                    "--h",
                    format!("{} pixels is absurd (at most 50000)", h_half as f64 / 2.0),
                ));
            }
        }
        if self.exclude_border.is_some_and(|b| b > MAX_SIDE as u32) {
            return Err(Error::param(
                "--exclude-border",
                format!("at most {MAX_SIDE} pixels"),
            ));
        }
        if self.clear_border.is_some_and(|b| b > MAX_SIDE as u32) {
            return Err(Error::param(
                "--clear-border",
                format!("at most {MAX_SIDE} pixels"),
            ));
        }
        if !(0.0..=1.0).contains(&self.min_eccentricity) {
            return Err(Error::param(
                "--min-eccentricity",
                format!("{} is not in [0, 1]", self.min_eccentricity),
            ));
        }
        if let Some(w) = self.max_width {
            if !(w.is_finite() && w >= 0.0) {
                return Err(Error::param(
                    "--max-width",
                    format!("{w} is not a width in pixels"),
                ));
            }
        }
        if let Some(max) = self.max_area {
            if max < self.min_area {
                return Err(Error::param(
                    "--max-area",
                    format!("{max} is below --min-area {}", self.min_area),
                ));
            }
        }
        Ok(())
    }
}

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
    /// What the watershed flooded with `params` (made with them): the squared distance, or with
    /// `--flood intensity` the gray levels' altitude ([`altitude_cpu`]). Needs the stage images
    /// a full run keeps (`segment_cpu`, `Keep::All`); trimmed stages give an empty image.
    pub fn flooded(&self, params: &Params) -> Vec<u32> {
        match params.flood {
            Flood::Distance => self.distance2.clone(),
            Flood::Intensity if self.opened.len() != self.dims.len() => Vec::new(),
            Flood::Intensity => {
                let keys = threshold_keys(&self.gray, &self.smoothed, &self.flattened);
                altitude_cpu(params, self.dims, self.scale, &self.opened, keys)
            }
        }
    }

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

/// Widen the samples to one `u32` per sample and describe the keys the gray stage makes.
/// Rejects what the gray stage cannot take (RGB floats, NaN/inf, empty or oversized images).
pub fn gray_input(img: &RawImage) -> Result<(cpu::gray::GrayParams, Vec<u32>, GrayScale)> {
    if img.width == 0 || img.height == 0 {
        return Err(Error::BadData(format!(
            "image is empty ({}×{})",
            img.width, img.height
        )));
    }
    if img.width > MAX_SIDE || img.height > MAX_SIDE {
        return Err(Error::Limit(format!(
            "image is {}×{} pixels; at most {MAX_SIDE} pixels per side are supported",
            img.width, img.height
        )));
    }
    if !(1..=4).contains(&img.channels) || img.samples.len() != img.pixels() * img.channels {
        return Err(Error::BadData(format!(
            "{} channels with {} samples for {}×{} pixels",
            img.channels,
            img.samples.len(),
            img.width,
            img.height
        )));
    }
    let color = img.channels >= 3;
    let (samples, scale, is_float) = match &img.samples {
        Samples::U8(v) => (
            v.iter().map(|&s| s as u32).collect::<Vec<_>>(),
            GrayScale::Int {
                scale: if color { 10_000 } else { 1 },
                full: 255,
            },
            false,
        ),
        Samples::U16(v) => (
            v.iter().map(|&s| s as u32).collect(),
            GrayScale::Int {
                scale: if color { 10_000 } else { 1 },
                full: 65535,
            },
            false,
        ),
        Samples::F32(v) => {
            if color {
                return Err(Error::BadData(
                    "RGB images with float samples are not supported; convert to gray first".into(),
                ));
            }
            if let Some(p) = v.iter().step_by(img.channels).position(|s| !s.is_finite()) {
                return Err(Error::BadData(format!(
                    "float image has a non-finite value (NaN or inf) at row {}, column {}",
                    p / img.width,
                    p % img.width
                )));
            }
            (
                v.iter().map(|s| s.to_bits()).collect(),
                GrayScale::Float,
                true,
            )
        }
    };
    let params = cpu::gray::GrayParams {
        dims: Dims::new(img.width, img.height),
        channels: img.channels as u32,
        is_float: is_float as u32,
    };
    Ok((params, samples, scale))
}

/// A threshold's decimal as text (`mantissa × 10^-scale`).
pub fn decimal_text(d: &cpu::threshold::Decimal) -> String {
    if d.scale == 0 {
        return d.mantissa.to_string();
    }
    let neg = d.mantissa < 0;
    let digits = d.mantissa.unsigned_abs().to_string();
    let scale = d.scale as usize;
    let digits = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = digits.split_at(digits.len() - scale);
    format!("{}{int}.{frac}", if neg { "-" } else { "" })
}

/// The stages up to the distance transform (what `tune` keeps while it tries markers).
#[derive(Clone, Debug)]
pub struct Front {
    pub dims: Dims,
    pub scale: GrayScale,
    pub gray: Vec<u32>,
    pub smoothed: Vec<u32>,
    pub flattened: Vec<u32>,
    pub mask: Vec<u32>,
    pub opened: Vec<u32>,
    pub distance2: Vec<u32>,
    /// `--core`: the core's opened mask and its squared distance, where the markers are found
    /// (empty without `--core`).
    pub core_opened: Vec<u32>,
    pub core_distance2: Vec<u32>,
    /// The threshold's level and mask size.
    pub threshold: ThresholdReport,
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

impl Front {
    /// The mask and squared distance the markers are found in: the core's with `--core`.
    pub fn marker_inputs(&self) -> (&[u32], &[u32]) {
        if self.core_opened.is_empty() {
            (&self.opened, &self.distance2)
        } else {
            (&self.core_opened, &self.core_distance2)
        }
    }

    /// The keys the threshold saw (smoothed with `--smooth`, flattened with `--background`).
    pub fn threshold_keys(&self) -> &[u32] {
        threshold_keys(&self.gray, &self.smoothed, &self.flattened)
    }
}

/// The keys the threshold sees: the last of gray → smoothed → flattened that was made.
fn threshold_keys<'a>(gray: &'a [u32], smoothed: &'a [u32], flattened: &'a [u32]) -> &'a [u32] {
    if !flattened.is_empty() {
        flattened
    } else if !smoothed.is_empty() {
        smoothed
    } else {
        gray
    }
}

/// The parameters of `--background` for a frame (`None` without it).
pub fn background_params(
    params: &Params,
    dims: Dims,
    scale: GrayScale,
) -> Option<cpu::background::BackgroundParams> {
    params
        .background
        .map(|radius| cpu::background::BackgroundParams {
            dims,
            radius,
            dark: params.dark,
            key_max: scale.key_max(),
        })
}

/// The threshold of `--core` for a frame whose threshold is `tp`: the core level's bound
/// intersected with the threshold's, so the core lies inside the mask. `None` without `--core`
/// and when the core level is not stricter than the frame's threshold (the core would be the
/// mask itself: the mask's own markers, without running the core's passes).
pub fn core_params(
    params: &Params,
    dims: Dims,
    scale: GrayScale,
    tp: &cpu::threshold::ThresholdParams,
) -> Option<cpu::threshold::ThresholdParams> {
    params
        .core
        .map(|c| {
            let cp = cpu::threshold::threshold_params(
                dims,
                scale,
                &cpu::threshold::Level::Fixed(c),
                params.dark,
                &[],
            );
            cpu::threshold::stricter(tp, &cp)
        })
        .filter(|cp| cp != tp)
}

/// The watershed's input of `--flood intensity` on the CPU twin: [`cpu::watershed::ws_altitude`]
/// of the keys the threshold saw, on the opened mask.
pub fn altitude_cpu(
    params: &Params,
    dims: Dims,
    scale: GrayScale,
    opened: &[u32],
    keys: &[u32],
) -> Vec<u32> {
    let mut alt = vec![0u32; dims.len()];
    cpu::watershed::ws_altitude(
        &altitude_params(params, dims, scale),
        opened,
        keys,
        &mut alt,
    );
    alt
}

/// The watershed's altitude parameters of `--flood intensity`.
pub fn altitude_params(
    params: &Params,
    dims: Dims,
    scale: GrayScale,
) -> cpu::watershed::AltitudeParams {
    cpu::watershed::AltitudeParams {
        dims,
        dark: params.dark,
        key_max: scale.key_max(),
    }
}

/// Wall-clock laps of the CPU stages (`Stages::timings`).
pub struct Laps {
    clock: Instant,
    timings: Vec<(&'static str, std::time::Duration)>,
}

impl Laps {
    fn new(timings: Vec<(&'static str, std::time::Duration)>) -> Laps {
        Laps {
            clock: Instant::now(),
            timings,
        }
    }

    /// Charge the time since the last lap to `stage`.
    fn lap(&mut self, stage: &'static str) {
        let now = Instant::now();
        self.timings.push((stage, now - self.clock));
        self.clock = now;
    }
}

/// Refuse smoothing and background flattening of float images (their keys are bit patterns,
/// not values to average or subtract).
pub fn check_smooth(params: &Params, scale: GrayScale) -> Result<()> {
    if scale == GrayScale::Float {
        for (on, flag) in [
            (params.smooth > 0, "--smooth"),
            (params.background.is_some(), "--background"),
        ] {
            if on {
                return Err(Error::param(
                    flag,
                    "needs an integer image (8- or 16-bit); this one has float samples",
                ));
            }
        }
    }
    Ok(())
}

/// gray → smooth → background → threshold → opening → distance on the CPU twin.
pub fn front_cpu(img: &RawImage, params: &Params) -> Result<Front> {
    params.validate()?;
    let (gp, samples, scale) = gray_input(img)?;
    check_smooth(params, scale)?;
    let dims = gp.dims;
    let n = dims.len();
    let mut laps = Laps::new(Vec::new());
    let gray = cpu::gray::gray_keys(&gp, samples);
    laps.lap("gray");
    let smoothed = if params.smooth > 0 {
        let sp = cpu::smooth::SmoothParams {
            dims,
            passes: params.smooth,
        };
        let v = cpu::smooth::smooth(&sp, &gray);
        laps.lap("smooth");
        v
    } else {
        Vec::new()
    };
    let flattened = match background_params(params, dims, scale) {
        Some(bp) => {
            let v = cpu::background::flatten(
                &bp,
                if smoothed.is_empty() {
                    &gray
                } else {
                    &smoothed
                },
            );
            laps.lap("background");
            v
        }
        None => Vec::new(),
    };
    let keys = threshold_keys(&gray, &smoothed, &flattened);

    let (tp, level) = resolve_threshold(params, dims, scale, keys);
    let mut mask = vec![0u32; n];
    cpu::threshold::threshold_image(&tp, keys, &mut mask);
    let mut threshold = ThresholdReport {
        level,
        otsu: params.level == cpu::threshold::Level::Otsu,
        mask_pixels: cpu::threshold::threshold_count(&mask),
        core_pixels: None,
    };
    laps.lap("threshold");

    let opened =
        cpu::opening::opening(dims, Rect::full(dims), params.structure, params.open, &mask);
    laps.lap("opening");
    let distance2 = cpu::distance::distance(dims, params.distance, &opened);
    laps.lap("distance");
    let (core_opened, core_distance2) = match core_params(params, dims, scale, &tp) {
        Some(cp) => {
            let mut core = vec![0u32; n];
            cpu::threshold::threshold_image(&cp, keys, &mut core);
            threshold.core_pixels = Some(cpu::threshold::threshold_count(&core));
            let core =
                cpu::opening::opening(dims, Rect::full(dims), params.structure, params.open, &core);
            let d2 = cpu::distance::distance(dims, params.distance, &core);
            laps.lap("core");
            (core, d2)
        }
        None => (Vec::new(), Vec::new()),
    };
    Ok(Front {
        dims,
        scale,
        gray,
        smoothed,
        flattened,
        mask,
        opened,
        distance2,
        core_opened,
        core_distance2,
        threshold,
        timings: laps.timings,
    })
}

/// The keys the threshold sees for `img` (gray → `--smooth` → `--background`) on the CPU twin,
/// with their scale: what Otsu reads, and what the run's checks quote as the frame's range.
pub fn threshold_keys_cpu(img: &RawImage, params: &Params) -> Result<(Vec<u32>, GrayScale)> {
    let (gp, samples, scale) = gray_input(img)?;
    check_smooth(params, scale)?;
    let mut keys = cpu::gray::gray_keys(&gp, samples);
    if params.smooth > 0 {
        let sp = cpu::smooth::SmoothParams {
            dims: gp.dims,
            passes: params.smooth,
        };
        keys = cpu::smooth::smooth(&sp, &keys);
    }
    if let Some(bp) = background_params(params, gp.dims, scale) {
        keys = cpu::background::flatten(&bp, &keys);
    }
    Ok((keys, scale))
}

/// The threshold pass's parameters for a frame whose threshold keys are `keys`, and the level
/// in the input's units (the given level, or the frame's Otsu level), on the host:
/// [`cpu::threshold::threshold_params`] with Otsu's level kept for the report.
pub fn resolve_threshold(
    params: &Params,
    dims: Dims,
    scale: GrayScale,
    keys: &[u32],
) -> (cpu::threshold::ThresholdParams, f64) {
    match &params.level {
        cpu::threshold::Level::Fixed(d) => (
            cpu::threshold::threshold_params(dims, scale, &params.level, params.dark, keys),
            d.to_f64(),
        ),
        cpu::threshold::Level::Otsu => {
            let t = cpu::threshold::otsu_level(scale, keys);
            (cpu::threshold::otsu_params(dims, scale, t, params.dark), t)
        }
    }
}

/// The marker image (0/1) of `params.markers` on the CPU twin.
pub fn markers_cpu(dims: Dims, params: &Params, opened: &[u32], distance2: &[u32]) -> Vec<u32> {
    match params.markers {
        Markers::Peaks => cpu::peaks::peaks(&params.peaks_params(dims), opened, distance2),
        Markers::Regional => cpu::maxima::regional(&params.maxima_params(dims), opened, distance2),
        Markers::Hmax { .. } => cpu::maxima::hmax(&params.maxima_params(dims), opened, distance2),
    }
}

/// Connectivity of the marker labelling: 4 for the lecture's peaks (`scipy.ndimage.label`),
/// 8 for maxima plateaus (they are 8-connected).
pub fn marker_connectivity_diagonal(markers: Markers) -> bool {
    markers != Markers::Peaks
}

/// The object filter's renumbering table (`cpu::filter`'s: `table[l]` = the new label of object
/// `l` or 0) from the measure sums of a `dims` frame: objects outside
/// `--min-area/--max-area`, less elongated than `--min-eccentricity`, wider than `--max-width`
/// or (with `--clear-border B`) with a pixel within `B` of the edge go. The shape values are
/// regionprops' (from the integer sums by [`measure::props`], the same `f64` operations on
/// either backend, since the sums are identical), the edge test reads the integer bounding box,
/// so the table is the same on both backends.
pub fn object_table(
    params: &Params,
    dims: Dims,
    sums: &[cpu::measure::ObjectSums],
) -> (Vec<u32>, u32) {
    let areas: Vec<u64> = sums.iter().map(|s| s.count).collect();
    let (mut table, mut kept) = cpu::filter::keep_table(&areas, params.min_area, params.max_area);
    let shape = params.min_eccentricity > 0.0 || params.max_width.is_some();
    if shape {
        // the shape does not depend on the intensity scale
        for p in measure::props(sums, GrayScale::Float) {
            let l = p.label as usize;
            let narrow = params.max_width.is_none_or(|w| p.minor_axis_length <= w);
            if table[l] != 0 && !(p.eccentricity >= params.min_eccentricity && narrow) {
                table[l] = 0;
            }
        }
    }
    if let Some(b) = params.clear_border {
        for (t, s) in table.iter_mut().skip(1).zip(sums) {
            if cpu::filter::touches_border(dims, b, s) {
                *t = 0;
            }
        }
    }
    if shape || params.clear_border.is_some() {
        // renumber what is left, in label order
        kept = 0;
        for t in table.iter_mut().skip(1) {
            if *t != 0 {
                kept += 1;
                *t = kept;
            }
        }
    }
    (table, kept)
}

/// The marker pixels, marker labels and watershed labels of one front (before the filter).
pub struct Watershed {
    pub peaks: Vec<u32>,
    pub markers: Vec<u32>,
    pub n_markers: u32,
    pub labels: Vec<u32>,
}

/// markers → components → watershed on the CPU twin (laps timed when given): markers in
/// [`Front::marker_inputs`], the flood on the front's opened mask.
pub fn watershed_cpu(front: &Front, params: &Params, mut laps: Option<&mut Laps>) -> Watershed {
    let dims = front.dims;
    let mut lap = |stage| {
        if let Some(l) = laps.as_deref_mut() {
            l.lap(stage)
        }
    };
    let (m_mask, m_d2) = front.marker_inputs();
    let peaks = markers_cpu(dims, params, m_mask, m_d2);
    lap(if params.markers == Markers::Peaks {
        "peaks"
    } else {
        "maxima"
    });
    let (markers, n_markers) =
        cpu::components::components(dims, marker_connectivity_diagonal(params.markers), &peaks);
    lap("components");
    let labels = match params.flood {
        Flood::Distance => {
            cpu::watershed::watershed(dims, &front.opened, &front.distance2, &markers)
        }
        Flood::Intensity => {
            let alt = altitude_cpu(
                params,
                dims,
                front.scale,
                &front.opened,
                front.threshold_keys(),
            );
            cpu::watershed::watershed(dims, &front.opened, &alt, &markers)
        }
    };
    lap("watershed");
    Watershed {
        peaks,
        markers,
        n_markers,
        labels,
    }
}

/// markers → components → watershed → measure → area filter on the CPU twin.
pub fn back_cpu(front: Front, params: &Params) -> Result<Stages> {
    let mut laps = Laps::new(front.timings.clone());
    let Watershed {
        peaks,
        markers,
        n_markers,
        mut labels,
    } = watershed_cpu(&front, params, Some(&mut laps));
    let Front {
        dims,
        scale,
        gray,
        smoothed,
        flattened,
        mask,
        opened,
        distance2,
        core_opened,
        core_distance2,
        threshold,
        ..
    } = front;
    let mut sums =
        cpu::measure::measure(dims, &labels, &gray, scale == GrayScale::Float, n_markers);
    laps.lap("measure");
    if params.filters_objects() {
        let (table, _) = object_table(params, dims, &sums);
        cpu::filter::filter_relabel(
            &cpu::filter::FilterParams::new(dims, &table),
            &table,
            &mut labels,
        );
        sums = keep_sums(sums, &table);
        laps.lap("filter");
    }
    Ok(Stages {
        dims,
        scale,
        gray,
        smoothed,
        flattened,
        mask,
        opened,
        distance2,
        core_opened,
        core_distance2,
        peaks,
        markers,
        n_markers,
        threshold: Some(threshold),
        labels,
        sums,
        timings: laps.timings,
        timing_source: "wall-clock",
    })
}

/// The sums of the objects the area filter keeps, in their new order (relabelling preserves
/// each object's pixels and their raster order, so these equal a measure of the new labels).
pub fn keep_sums<T>(sums: Vec<T>, table: &[u32]) -> Vec<T> {
    sums.into_iter()
        .enumerate()
        .filter(|(i, _)| table.get(i + 1).is_some_and(|&t| t != 0))
        .map(|(_, s)| s)
        .collect()
}

/// Run the whole pipeline on the CPU twin.
pub fn segment_cpu(img: &RawImage, params: &Params) -> Result<Stages> {
    let front = front_cpu(img, params)?;
    back_cpu(front, params)
}

/// A backend ready to segment frames: the CPU twin, or a GPU context (device, compiled
/// pipelines) created once and reused for every frame.
pub struct Segmenter {
    gpu: Option<crate::gpu::GpuContext>,
    description: String,
}

impl Segmenter {
    /// Prepare `backend`. `Gpu` fails with [`Error::Backend`] (listing the adapters seen) when
    /// no adapter fits; `Auto` takes a hardware GPU when one exists and otherwise the CPU twin,
    /// and [`Segmenter::description`] says which and why.
    pub fn new(backend: Backend) -> Result<Segmenter> {
        match backend {
            Backend::Cpu => Ok(Segmenter {
                gpu: None,
                description: "cpu".into(),
            }),
            Backend::Gpu => {
                let ctx = crate::gpu::GpuContext::new()?;
                let description = format!("gpu: {}", ctx.adapter_description());
                Ok(Segmenter {
                    gpu: Some(ctx),
                    description,
                })
            }
            Backend::Auto => match crate::gpu::hardware_adapter() {
                Some(name) => match crate::gpu::GpuContext::new() {
                    Ok(ctx) => {
                        let description = format!("gpu: {}", ctx.adapter_description());
                        Ok(Segmenter {
                            gpu: Some(ctx),
                            description,
                        })
                    }
                    Err(e) => Ok(Segmenter {
                        gpu: None,
                        description: format!("cpu (GPU {name} unusable: {e})"),
                    }),
                },
                None => Ok(Segmenter {
                    gpu: None,
                    description: "cpu (no hardware GPU found)".into(),
                }),
            },
        }
    }

    /// Which backend runs, for people: `cpu`, `gpu: <adapter>`, or `cpu (why not the GPU)`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Whether frames run on the GPU.
    pub fn is_gpu(&self) -> bool {
        self.gpu.is_some()
    }

    /// The GPU context, when frames run on the GPU.
    pub fn gpu(&self) -> Option<&crate::gpu::GpuContext> {
        self.gpu.as_ref()
    }

    /// Per-stage times for every frame: on the GPU, profiling (timestamp queries where the
    /// adapter has them, else a wait after each stage); the CPU always times its stages.
    pub fn set_profiling(&self, on: bool) {
        if let Some(ctx) = &self.gpu {
            ctx.set_profiling(on);
        }
    }

    /// Segment one image; both backends give identical [`Stages`].
    pub fn segment(&self, img: &RawImage, params: &Params) -> Result<Stages> {
        self.segment_keep(img, params, crate::stream::Keep::All)
    }

    /// As [`Segmenter::segment`] with only the stage images `keep` names (the others empty, as
    /// [`crate::stream::Keep::trim`] leaves them); the GPU then reads back only those.
    pub fn segment_keep(
        &self,
        img: &RawImage,
        params: &Params,
        keep: crate::stream::Keep,
    ) -> Result<Stages> {
        match &self.gpu {
            Some(ctx) => crate::gpu::pipeline::segment_gpu_keep(ctx, img, params, keep),
            None => {
                let mut s = segment_cpu(img, params)?;
                keep.trim(&mut s);
                Ok(s)
            }
        }
    }
}

/// Run the pipeline once on the requested backend (a [`Segmenter`] for one frame). Returns the
/// stages and the backend's description.
pub fn segment(img: &RawImage, params: &Params, backend: Backend) -> Result<(Stages, String)> {
    let s = Segmenter::new(backend)?;
    let stages = s.segment(img, params)?;
    Ok((stages, s.description().to_string()))
}
