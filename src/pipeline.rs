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

/// Parameters of the pipeline (the CLI's flags; defaults are the lecture's).
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub level: cpu::threshold::Level,
    /// Objects are darker than the threshold.
    pub dark: bool,
    /// `k`: erosions then dilations (0: no opening).
    pub open: u32,
    pub structure: Structure,
    /// `min_distance` of `peak_local_max`.
    pub min_distance: u32,
    /// Footprint size `s` (an `s×s` box); `None` means `2·min_distance + 1`.
    pub footprint: Option<u32>,
    pub distance: DistanceMode,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            level: cpu::threshold::Level::Otsu,
            dark: false,
            open: 0,
            structure: Structure::Cross,
            min_distance: 10,
            footprint: None,
            distance: DistanceMode::default(),
        }
    }
}

impl Params {
    pub fn footprint_size(&self) -> u32 {
        self.footprint
            .unwrap_or(self.min_distance.saturating_mul(2).saturating_add(1))
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
        Ok(())
    }
}

/// Every stage's output for one frame (flat, row-major, `width × height`).
#[derive(Clone, Debug, PartialEq)]
pub struct Stages {
    pub dims: Dims,
    pub scale: GrayScale,
    /// Gray keys (see `cpu::gray`).
    pub gray: Vec<u32>,
    /// 0/1 after the threshold.
    pub mask: Vec<u32>,
    /// 0/1 after the opening.
    pub opened: Vec<u32>,
    /// Squared Euclidean distance.
    pub distance2: Vec<u32>,
    /// 0/1 kept peaks.
    pub peaks: Vec<u32>,
    /// Marker labels `1..=n_markers`.
    pub markers: Vec<u32>,
    pub n_markers: u32,
    /// Watershed labels.
    pub labels: Vec<u32>,
    /// Per-object integer sums of the measure stage (object `l` at index `l - 1`).
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
    /// Number of objects in `labels` (the markers each grow one object; a marker cannot vanish).
    pub fn count(&self) -> u32 {
        self.n_markers
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

/// Run the whole pipeline on the CPU twin.
pub fn segment_cpu(img: &RawImage, params: &Params) -> Result<Stages> {
    params.validate()?;
    let (gp, samples, scale) = gray_input(img)?;
    let dims = gp.dims;
    let n = dims.len();
    let mut timings = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str| {
        let now = Instant::now();
        timings.push((name, now - clock));
        clock = now;
    };
    let gray = cpu::gray::gray_keys(&gp, samples);
    lap("gray");

    let tp = cpu::threshold::threshold_params(dims, scale, &params.level, params.dark, &gray);
    let mut mask = vec![0u32; n];
    cpu::threshold::threshold_image(&tp, &gray, &mut mask);
    lap("threshold");

    let opened =
        cpu::opening::opening(dims, Rect::full(dims), params.structure, params.open, &mask);
    lap("opening");
    let distance2 = cpu::distance::distance(dims, params.distance, &opened);
    lap("distance");
    let pp = cpu::peaks::PeaksParams {
        dims,
        min_distance: params.min_distance,
        footprint: params.footprint_size(),
        border: params.min_distance,
    };
    let peaks = cpu::peaks::peaks(&pp, &opened, &distance2);
    lap("peaks");
    let (markers, n_markers) = cpu::components::components(dims, false, &peaks);
    lap("components");
    let labels = cpu::watershed::watershed(dims, &opened, &distance2, &markers);
    lap("watershed");
    let sums = cpu::measure::measure(dims, &labels, &gray, scale == GrayScale::Float, n_markers);
    lap("measure");
    Ok(Stages {
        dims,
        scale,
        gray,
        mask,
        opened,
        distance2,
        peaks,
        markers,
        n_markers,
        labels,
        sums,
        timings,
        timing_source: "wall-clock",
    })
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
        match &self.gpu {
            Some(ctx) => crate::gpu::pipeline::segment_gpu(ctx, img, params),
            None => segment_cpu(img, params),
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
