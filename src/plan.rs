//! The per-frame plan: every stage's resolved parameters for one frame, computed **once**, below
//! both backends, from [`Params`] and the frame's header ([`ImageHeader`]). The CPU and GPU
//! backends ([`crate::backend`]) execute a plan; they never resolve a parameter themselves, and
//! no stage parameter is resolved anywhere else.
//!
//! Two values depend on the frame's data and are a named second step, [`FramePlan::resolve`]:
//! the threshold (Otsu's level needs the keys, or their histogram on the device) and, from it,
//! the `--core` threshold (a core level that is not stricter than the frame's threshold is no
//! core). Everything else is known from the header: the gray stage's parameters, smoothing,
//! background flattening, a fixed threshold, the opening, the distance mode, the markers and
//! their labelling, what the watershed floods and the object filter.
//!
//! Which image feeds which stage is said here once: [`FramePlan::threshold_input`] (the keys
//! the threshold sees) and [`Resolved::markers_in_core`] (where the markers are found).
//!
//! Adding a flag: a field in [`Params`] (with `validate` and `to_args`), a field or variant
//! here that resolves it, the stage code that reads it, and the CLI's argument
//! (`ARCHITECTURE.md` walks through one).

use crate::cpu::{self, threshold::GrayScale, threshold::Level, Dims};
use crate::error::{Error, Result};
use crate::image::{ImageView, SampleSlice};
use crate::measure;
use crate::params::{DistanceMode, Flood, Markers, Params, Structure, MAX_SIDE};
use crate::stages::Keep;

/// What the plan needs to know of a frame before its pixels: size, samples per pixel and the
/// sample type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageHeader {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub sample: SampleKind,
}

/// The sample type of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleKind {
    U8,
    U16,
    F32,
}

impl ImageHeader {
    /// The header of a decoded image.
    pub fn of<'a>(img: impl Into<ImageView<'a>>) -> ImageHeader {
        let img = img.into();
        ImageHeader {
            width: img.width,
            height: img.height,
            channels: img.channels,
            sample: match img.samples {
                SampleSlice::U8(_) => SampleKind::U8,
                SampleSlice::U16(_) => SampleKind::U16,
                SampleSlice::F32(_) => SampleKind::F32,
            },
        }
    }
}

/// Which keys a stage reads: the gray stage's, or those after `--smooth` / `--background`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keys {
    Gray,
    Smoothed,
    Flattened,
}

/// The threshold as far as it is known before the frame's data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ThresholdPlan {
    /// A fixed level: the pass's uniforms and the level in the input's units.
    Fixed {
        params: cpu::threshold::ThresholdParams,
        level: f64,
    },
    /// Otsu's level of the frame's threshold keys; with `device_histogram` (integer gray
    /// images: 256 or 65 536 bins, the keys being the sample values) the GPU takes the
    /// histogram on the device, else the level is computed from the keys on the host.
    Otsu { device_histogram: Option<usize> },
}

/// The markers of a frame, with their stage's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerPlan {
    /// `peak_local_max` (stage `peaks`), labelled with 4-connectivity.
    Peaks(cpu::peaks::PeaksParams),
    /// Every regional-maximum plateau (stage `maxima`), labelled with 8-connectivity.
    Regional(cpu::maxima::MaximaParams),
    /// h-maxima (stage `maxima`), labelled with 8-connectivity.
    Hmax(cpu::maxima::MaximaParams),
}

impl MarkerPlan {
    /// The timing name of the stage that finds them (`peaks` or `maxima`).
    pub fn stage(&self) -> &'static str {
        match self {
            MarkerPlan::Peaks(_) => "peaks",
            _ => "maxima",
        }
    }

    /// Connectivity of the marker labelling: 4 for the lecture's peaks (`scipy.ndimage.label`),
    /// 8 for maxima plateaus (they are 8-connected).
    pub fn diagonal(&self) -> bool {
        !matches!(self, MarkerPlan::Peaks(_))
    }
}

/// What the watershed floods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloodPlan {
    /// The squared distance (`−distance`, the lecture's).
    Distance,
    /// The threshold keys mapped to an altitude (`ws_altitude`).
    Intensity(cpu::watershed::AltitudeParams),
}

/// The object filter after the watershed (`--min-area`, `--max-area`, `--min-eccentricity`,
/// `--max-width`, `--clear-border`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObjectFilter {
    pub dims: Dims,
    pub min_area: u64,
    pub min_edge_area: Option<u64>,
    pub max_area: Option<u64>,
    pub min_eccentricity: f64,
    pub max_width: Option<f64>,
    pub clear_border: Option<u32>,
}

impl ObjectFilter {
    /// The filter of `params` on a `dims` frame; `None` when it keeps every object.
    pub fn of(params: &Params, dims: Dims) -> Option<ObjectFilter> {
        params
            .filters_objects()
            .then(|| ObjectFilter::from_params(params, dims))
    }

    /// The filter of `params` on a `dims` frame, also when it keeps every object (its
    /// [`table`](Self::table) is then the identity).
    pub fn from_params(params: &Params, dims: Dims) -> ObjectFilter {
        ObjectFilter {
            dims,
            min_area: params.min_area,
            min_edge_area: params.min_edge_area,
            max_area: params.max_area,
            min_eccentricity: params.min_eccentricity,
            max_width: params.max_width,
            clear_border: params.clear_border,
        }
    }

    /// The filter stage's renumbering table (`cpu::filter`'s: `table[l]` = the new label of
    /// object `l` or 0) and the number of objects kept, from the measure sums: objects outside
    /// the area range (from `min_edge_area` instead of `min_area` for an object touching the
    /// frame's edge, when it is the lower), less elongated than `min_eccentricity` or wider
    /// than `max_width` (unless they touch the frame's edge: a cut object's shape is not its
    /// own) or (with
    /// `clear_border` B) with a pixel within B of the edge go. The shape values are
    /// regionprops' (from the integer sums by [`measure::props`], the same `f64` operations on
    /// either backend, since the sums are identical), the edge test reads the integer bounding
    /// box, so the table is the same on both backends.
    pub fn table(&self, sums: &[cpu::measure::ObjectSums]) -> (Vec<u32>, u32) {
        let areas: Vec<u64> = sums.iter().map(|s| s.count).collect();
        let (mut table, mut kept) = cpu::filter::keep_table(&areas, self.min_area, self.max_area);
        // an edge bound stricter than the interior's is no bound (`--clear-border` drops cut
        // objects)
        let edge_area = self.min_edge_area.filter(|&e| e < self.min_area);
        if let Some(e) = edge_area {
            // a cut object's area is not its own either: its own lower bound
            for (l, s) in sums.iter().enumerate() {
                if cpu::filter::touches_border(self.dims, 0, s) {
                    let inside = s.count >= e && self.max_area.is_none_or(|m| s.count <= m);
                    table[l + 1] = u32::from(inside);
                }
            }
        }
        let shape = self.min_eccentricity > 0.0 || self.max_width.is_some();
        if shape {
            // the shape does not depend on the intensity scale
            // an object cut by the frame's edge is not its own shape (half a rod is round):
            // the shape filters leave it alone (--clear-border drops cut objects)
            for p in measure::props(sums, GrayScale::Float) {
                let l = p.label as usize;
                if cpu::filter::touches_border(self.dims, 0, &sums[l - 1]) {
                    continue;
                }
                let narrow = self.max_width.is_none_or(|w| p.minor_axis_length <= w);
                if table[l] != 0 && !(p.eccentricity >= self.min_eccentricity && narrow) {
                    table[l] = 0;
                }
            }
        }
        if let Some(b) = self.clear_border {
            for (t, s) in table.iter_mut().skip(1).zip(sums) {
                if cpu::filter::touches_border(self.dims, b, s) {
                    *t = 0;
                }
            }
        }
        if edge_area.is_some() || shape || self.clear_border.is_some() {
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
}

/// Every stage's parameters for one frame.
#[derive(Clone, Debug, PartialEq)]
pub struct FramePlan {
    pub dims: Dims,
    /// What the gray keys mean.
    pub scale: GrayScale,
    pub gray: cpu::gray::GrayParams,
    /// `--smooth N` (N > 0).
    pub smooth: Option<cpu::smooth::SmoothParams>,
    /// `--background R`.
    pub background: Option<cpu::background::BackgroundParams>,
    pub threshold: ThresholdPlan,
    /// Objects darker than the threshold (`--dark`).
    pub dark: bool,
    /// `--core T2` (resolved against the frame's threshold by [`FramePlan::resolve`]).
    pub core: Option<cpu::threshold::Decimal>,
    pub structure: Structure,
    /// Erosions then dilations of the opening (`--open K`).
    pub open: u32,
    pub distance: DistanceMode,
    pub markers: MarkerPlan,
    pub flood: FloodPlan,
    pub filter: Option<ObjectFilter>,
    /// The stage images the caller keeps (the GPU reads back only those).
    pub keep: Keep,
}

/// The data-dependent part of a plan: the frame's threshold and core.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resolved {
    pub threshold: cpu::threshold::ThresholdParams,
    /// The level in the input's units (the given one, or the frame's Otsu level).
    pub level: f64,
    pub otsu: bool,
    /// The `--core` threshold: the core level's bound intersected with the threshold's (so
    /// the core lies inside the mask); `None` without `--core` or when it is not stricter than
    /// the frame's threshold (the markers are then the mask's own, and no core pass runs).
    pub core: Option<cpu::threshold::ThresholdParams>,
}

impl Resolved {
    /// Whether the markers are found in the core (else in the opened mask).
    pub fn markers_in_core(&self) -> bool {
        self.core.is_some()
    }
}

impl FramePlan {
    /// The plan of a frame with `header` under `params`, keeping `keep`. Refuses parameters no
    /// stage can use ([`Params::validate`]), frames the gray stage cannot take (empty, larger
    /// than [`MAX_SIDE`], RGB floats) and smoothing or flattening of float images.
    pub fn new(params: &Params, header: &ImageHeader, keep: Keep) -> Result<FramePlan> {
        params.validate()?;
        let (w, h, c) = (header.width, header.height, header.channels);
        if w == 0 || h == 0 {
            return Err(Error::BadData(format!("image is empty ({w}×{h})")));
        }
        if w > MAX_SIDE || h > MAX_SIDE {
            return Err(Error::Limit(format!(
                "image is {w}×{h} pixels; at most {MAX_SIDE} pixels per side are supported"
            )));
        }
        if !(1..=4).contains(&c) {
            return Err(Error::BadData(format!("{c} channels for {w}×{h} pixels")));
        }
        let color = c >= 3;
        let scale = match header.sample {
            SampleKind::U8 => GrayScale::Int {
                scale: if color { 10_000 } else { 1 },
                full: 255,
            },
            SampleKind::U16 => GrayScale::Int {
                scale: if color { 10_000 } else { 1 },
                full: 65535,
            },
            SampleKind::F32 if color => {
                return Err(Error::BadData(
                    "RGB images with float samples are not supported; convert to gray first".into(),
                ))
            }
            SampleKind::F32 => GrayScale::Float,
        };
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
        let dims = Dims::new(w, h);
        let gray = cpu::gray::GrayParams {
            dims,
            channels: c as u32,
            is_float: (scale == GrayScale::Float) as u32,
        };
        let threshold = match &params.level {
            Level::Fixed(d) => ThresholdPlan::Fixed {
                params: cpu::threshold::threshold_params(
                    dims,
                    scale,
                    &params.level,
                    params.dark,
                    &[],
                ),
                level: d.to_f64(),
            },
            Level::Otsu => ThresholdPlan::Otsu {
                device_histogram: match scale {
                    GrayScale::Int { scale: 1, full } => Some(full as usize + 1),
                    _ => None,
                },
            },
        };
        let markers = match params.markers {
            Markers::Peaks => MarkerPlan::Peaks(params.peaks_params(dims)),
            Markers::Regional => MarkerPlan::Regional(params.maxima_params(dims)),
            Markers::Hmax { .. } => MarkerPlan::Hmax(params.maxima_params(dims)),
        };
        let flood = match params.flood {
            Flood::Distance => FloodPlan::Distance,
            Flood::Intensity => FloodPlan::Intensity(cpu::watershed::AltitudeParams {
                dims,
                dark: params.dark,
                key_max: scale.key_max(),
            }),
        };
        Ok(FramePlan {
            dims,
            scale,
            gray,
            smooth: (params.smooth > 0).then_some(cpu::smooth::SmoothParams {
                dims,
                passes: params.smooth,
            }),
            background: params
                .background
                .map(|radius| cpu::background::BackgroundParams {
                    dims,
                    radius,
                    dark: params.dark,
                    key_max: scale.key_max(),
                }),
            threshold,
            dark: params.dark,
            core: params.core,
            structure: params.structure,
            open: params.open,
            distance: params.distance,
            markers,
            flood,
            filter: ObjectFilter::of(params, dims),
            keep,
        })
    }

    /// The plan of `img` and its samples widened to one `u32` each (the gray stage's input);
    /// refuses float images holding NaN or ±inf.
    pub fn of_image<'a>(
        params: &Params,
        img: impl Into<ImageView<'a>>,
        keep: Keep,
    ) -> Result<(FramePlan, Vec<u32>)> {
        let img = img.into();
        let plan = FramePlan::new(params, &ImageHeader::of(img), keep)?;
        Ok((plan, widen_samples(img)?))
    }

    /// Pixels of the frame.
    pub fn pixels(&self) -> usize {
        self.dims.len()
    }

    /// The keys the threshold sees (and `--flood intensity` floods): the last of gray →
    /// smoothed → flattened that is made.
    pub fn threshold_input(&self) -> Keys {
        if self.background.is_some() {
            Keys::Flattened
        } else if self.smooth.is_some() {
            Keys::Smoothed
        } else {
            Keys::Gray
        }
    }

    /// The second step: the frame's threshold from its threshold keys (Otsu's level, when
    /// asked for, computed on the host), and the core from it.
    pub fn resolve(&self, keys: &[u32]) -> Resolved {
        match self.threshold {
            ThresholdPlan::Fixed { params, level } => self.with_core(params, level, false),
            ThresholdPlan::Otsu { .. } => {
                let t = cpu::threshold::otsu_level(self.scale, keys);
                self.resolve_otsu(t)
            }
        }
    }

    /// The second step from an Otsu level taken elsewhere (the GPU's device histogram,
    /// [`cpu::threshold::otsu_level_from_histogram`]).
    pub fn resolve_otsu(&self, level: f64) -> Resolved {
        let tp = cpu::threshold::otsu_params(self.dims, self.scale, level, self.dark);
        self.with_core(tp, level, true)
    }

    fn with_core(&self, tp: cpu::threshold::ThresholdParams, level: f64, otsu: bool) -> Resolved {
        let core = self
            .core
            .map(|c| {
                let cp = cpu::threshold::threshold_params(
                    self.dims,
                    self.scale,
                    &Level::Fixed(c),
                    self.dark,
                    &[],
                );
                cpu::threshold::stricter(&tp, &cp)
            })
            .filter(|cp| *cp != tp);
        Resolved {
            threshold: tp,
            level,
            otsu,
            core,
        }
    }
}

/// The samples of `img` widened to one `u32` per sample (float bits for `f32`), the gray
/// stage's input; a float image holding NaN or ±inf is refused.
pub fn widen_samples<'a>(img: impl Into<ImageView<'a>>) -> Result<Vec<u32>> {
    let img = img.into();
    if img.samples.len() != img.pixels() * img.channels {
        return Err(Error::BadData(format!(
            "{} channels with {} samples for {}×{} pixels",
            img.channels,
            img.samples.len(),
            img.width,
            img.height
        )));
    }
    Ok(match img.samples {
        SampleSlice::U8(v) => v.iter().map(|&s| s as u32).collect(),
        SampleSlice::U16(v) => v.iter().map(|&s| s as u32).collect(),
        SampleSlice::F32(v) => {
            if let Some(p) = v.iter().step_by(img.channels).position(|s| !s.is_finite()) {
                return Err(Error::BadData(format!(
                    "float image has a non-finite value (NaN or inf) at row {}, column {}",
                    p / img.width,
                    p % img.width
                )));
            }
            v.iter().map(|s| s.to_bits()).collect()
        }
    })
}
