//! The pipeline's parameters: [`Params`] (the CLI's flags, resolved once by the CLI or a
//! library caller), the named sets of [`Preset`], and the user-facing parameter types of the
//! stages, re-exported here so a caller needs one import. Below every backend: the per-frame
//! [`crate::plan`] turns these into each stage's uniforms.

pub use crate::cpu::distance::{DistanceMode, JfaVariant};
pub use crate::cpu::opening::Structure;
pub use crate::cpu::threshold::{parse_core, parse_level, Decimal, Level};

use crate::cpu::{self, Dims};
use crate::error::{Error, Result};

/// Largest accepted side: the exact distance transform's integer arithmetic (`i32`, squared
/// coordinates summed) is proven free of overflow up to this size.
pub const MAX_SIDE: usize = 16384;

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
    /// `--min-edge-area A`: objects touching the image edge are dropped below `A` pixels
    /// instead of `min_area` when `A` is the lower (a cell cut by the edge is smaller than a
    /// whole one). `None`: `min_area` for every object.
    pub min_edge_area: Option<u64>,
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
            min_edge_area: None,
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
    /// searches over 10 real fields and synthetic rods (docs/accuracy.md, "F1 on real data");
    /// its levels — the threshold and a `--core` level — are what needs calibrating per
    /// acquisition (`floodseg tune --preset rods`).
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
                min_edge_area: Some(30),
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
        if let Some(m) = self.min_edge_area {
            v.push(format!("--min-edge-area {m}"));
        }
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

    /// The same parameters without any object filter (what the watershed gives, before the
    /// filter stage): `tune` filters the labels of one watershed in many ways.
    pub fn without_object_filter(&self) -> Params {
        Params {
            min_area: 0,
            min_edge_area: None,
            max_area: None,
            min_eccentricity: 0.0,
            max_width: None,
            clear_border: None,
            ..self.clone()
        }
    }

    /// The same parameters without the shape filters (`--min-eccentricity`, `--max-width`):
    /// `track` hands the objects they would drop to the tracker.
    pub fn without_shape_filter(&self) -> Params {
        Params {
            min_eccentricity: 0.0,
            max_width: None,
            ..self.clone()
        }
    }

    /// The fewest pixels of a cell cut by the image edge that still make an object: the
    /// lower of `--min-edge-area` and `--min-area` (the tracker follows a cell the stage
    /// moves across the edge while this much of it is inside; 0: never).
    pub fn edge_area(&self) -> u64 {
        self.min_edge_area
            .map_or(self.min_area, |e| e.min(self.min_area))
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

/// `--h` in half pixels: a multiple of 0.5, at least 0.
pub fn parse_h(text: &str) -> Result<u32> {
    let bad = || {
        Error::param(
            "--h",
            format!(
                "{text:?} is not a height in pixels that is a multiple of 0.5 (0, 0.5, 1, 1.5, …)"
            ),
        )
    };
    let v: f64 = text.trim().parse().map_err(|_| bad())?;
    if v > 50_000.0 {
        return Err(Error::param(
            "--h",
            format!("{text:?} is absurd (at most 50000 pixels)"),
        ));
    }
    let half = v * 2.0;
    if !(0.0..=100_000.0).contains(&half) || half.fract() != 0.0 {
        return Err(bad());
    }
    Ok(half as u32)
}
