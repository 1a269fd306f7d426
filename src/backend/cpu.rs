//! The CPU backend: a [`FramePlan`] executed by the stages' CPU twins (`crate::cpu`), stage
//! after stage on host buffers. The GPU backend ([`super::gpu`]) executes the same plan with
//! the shaders and gives the same bytes.

use std::time::{Duration, Instant};

use crate::cpu::{self, threshold::GrayScale, Dims, Rect};
use crate::error::{Error, Result};
use crate::image::{ImageView, RawImage};
use crate::params::Params;
use crate::plan::{FloodPlan, FramePlan, Keys, MarkerPlan};
use crate::stages::{Keep, Stages, ThresholdReport};

/// Wall-clock laps of the CPU stages (`Stages::timings`).
pub struct Laps {
    clock: Instant,
    timings: Vec<(&'static str, Duration)>,
}

impl Laps {
    fn new(timings: Vec<(&'static str, Duration)>) -> Laps {
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
    pub timings: Vec<(&'static str, Duration)>,
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
        keys_of(&self.gray, &self.smoothed, &self.flattened)
    }
}

/// The keys the threshold sees: the last of gray → smoothed → flattened that was made.
fn keys_of<'a>(gray: &'a [u32], smoothed: &'a [u32], flattened: &'a [u32]) -> &'a [u32] {
    if !flattened.is_empty() {
        flattened
    } else if !smoothed.is_empty() {
        smoothed
    } else {
        gray
    }
}

/// gray → smooth → background: the gray keys and the keys the threshold sees.
fn keys(plan: &FramePlan, samples: Vec<u32>, laps: &mut Laps) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let gray = cpu::gray::gray_keys(&plan.gray, samples);
    laps.lap("gray");
    let smoothed = match &plan.smooth {
        Some(sp) => {
            let v = cpu::smooth::smooth(sp, &gray);
            laps.lap("smooth");
            v
        }
        None => Vec::new(),
    };
    let flattened = match &plan.background {
        Some(bp) => {
            let v = cpu::background::flatten(
                bp,
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
    (gray, smoothed, flattened)
}

/// The keys the threshold sees, from a frame's widened samples (the host keys the GPU backend
/// takes Otsu's level of for RGB and float images).
pub fn keys_for_threshold(plan: &FramePlan, samples: Vec<u32>) -> Vec<u32> {
    let (gray, smoothed, flattened) = keys(plan, samples, &mut Laps::new(Vec::new()));
    match plan.threshold_input() {
        Keys::Gray => gray,
        Keys::Smoothed => smoothed,
        Keys::Flattened => flattened,
    }
}

/// The keys the threshold sees for `img` under `params` (gray → `--smooth` → `--background`),
/// with their scale: what Otsu reads, and what the run's checks quote as the frame's range.
pub fn threshold_keys(img: &RawImage, params: &Params) -> Result<(Vec<u32>, GrayScale)> {
    let (plan, samples) = FramePlan::of_image(params, img, Keep::Labels)?;
    Ok((keys_for_threshold(&plan, samples), plan.scale))
}

/// gray → smooth → background → threshold → opening → distance (and the core's).
pub fn front(plan: &FramePlan, samples: Vec<u32>) -> Front {
    let dims = plan.dims;
    let n = dims.len();
    let mut laps = Laps::new(Vec::new());
    let (gray, smoothed, flattened) = keys(plan, samples, &mut laps);
    let keys = keys_of(&gray, &smoothed, &flattened);

    let resolved = plan.resolve(keys);
    let mut mask = vec![0u32; n];
    cpu::threshold::threshold_image(&resolved.threshold, keys, &mut mask);
    let mut threshold = ThresholdReport {
        level: resolved.level,
        otsu: resolved.otsu,
        mask_pixels: cpu::threshold::threshold_count(&mask),
        core_pixels: None,
    };
    laps.lap("threshold");

    let opened = cpu::opening::opening(dims, Rect::full(dims), plan.structure, plan.open, &mask);
    laps.lap("opening");
    let distance2 = cpu::distance::distance(dims, plan.distance, &opened);
    laps.lap("distance");
    let (core_opened, core_distance2) = match &resolved.core {
        Some(cp) => {
            let mut core = vec![0u32; n];
            cpu::threshold::threshold_image(cp, keys, &mut core);
            threshold.core_pixels = Some(cpu::threshold::threshold_count(&core));
            let core =
                cpu::opening::opening(dims, Rect::full(dims), plan.structure, plan.open, &core);
            let d2 = cpu::distance::distance(dims, plan.distance, &core);
            laps.lap("core");
            (core, d2)
        }
        None => (Vec::new(), Vec::new()),
    };
    Front {
        dims,
        scale: plan.scale,
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
    }
}

/// The marker image (0/1) of `markers` on a mask and its squared distance.
pub fn markers(markers: &MarkerPlan, opened: &[u32], distance2: &[u32]) -> Vec<u32> {
    match markers {
        MarkerPlan::Peaks(pp) => cpu::peaks::peaks(pp, opened, distance2),
        MarkerPlan::Regional(mp) => cpu::maxima::regional(mp, opened, distance2),
        MarkerPlan::Hmax(mp) => cpu::maxima::hmax(mp, opened, distance2),
    }
}

/// The watershed's input of `--flood intensity`: [`cpu::watershed::ws_altitude`] of the keys
/// the threshold saw, on the opened mask.
pub fn altitude(ap: &cpu::watershed::AltitudeParams, opened: &[u32], keys: &[u32]) -> Vec<u32> {
    let mut alt = vec![0u32; ap.dims.len()];
    cpu::watershed::ws_altitude(ap, opened, keys, &mut alt);
    alt
}

/// What the watershed flooded for `params` in stages made with them: the squared distance,
/// or with `--flood intensity` the gray levels' altitude. Needs the stage images a full run
/// keeps ([`Keep::All`]); trimmed stages give an empty image.
pub fn flooded(stages: &Stages, params: &Params) -> Vec<u32> {
    let dims = stages.dims;
    match crate::params::Flood::Intensity == params.flood {
        false => stages.distance2.clone(),
        true if stages.opened.len() != dims.len() => Vec::new(),
        true => {
            let ap = cpu::watershed::AltitudeParams {
                dims,
                dark: params.dark,
                key_max: stages.scale.key_max(),
            };
            let keys = keys_of(&stages.gray, &stages.smoothed, &stages.flattened);
            altitude(&ap, &stages.opened, keys)
        }
    }
}

/// The marker pixels, marker labels and watershed labels of one front (before the filter).
pub struct Watershed {
    pub peaks: Vec<u32>,
    pub markers: Vec<u32>,
    pub n_markers: u32,
    pub labels: Vec<u32>,
}

/// markers → components → watershed (laps timed when given): the markers of `plan` in
/// [`Front::marker_inputs`], the flood of `plan` on the front's opened mask.
pub fn watershed(plan: &FramePlan, front: &Front, mut laps: Option<&mut Laps>) -> Watershed {
    let dims = front.dims;
    let mut lap = |stage| {
        if let Some(l) = laps.as_deref_mut() {
            l.lap(stage)
        }
    };
    let (m_mask, m_d2) = front.marker_inputs();
    let peaks = markers(&plan.markers, m_mask, m_d2);
    lap(plan.markers.stage());
    let (markers, n_markers) = cpu::components::components(dims, plan.markers.diagonal(), &peaks);
    lap("components");
    let labels = match &plan.flood {
        FloodPlan::Distance => {
            cpu::watershed::watershed(dims, &front.opened, &front.distance2, &markers)
        }
        FloodPlan::Intensity(ap) => {
            let alt = altitude(ap, &front.opened, front.threshold_keys());
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

/// markers → components → watershed → measure → object filter.
pub fn back(plan: &FramePlan, front: Front) -> Stages {
    let mut laps = Laps::new(front.timings.clone());
    let Watershed {
        peaks,
        markers,
        n_markers,
        mut labels,
    } = watershed(plan, &front, Some(&mut laps));
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
    if let Some(filter) = &plan.filter {
        let (table, _) = filter.table(&sums);
        cpu::filter::filter_relabel(
            &cpu::filter::FilterParams::new(dims, &table),
            &table,
            &mut labels,
        );
        sums = keep_sums(sums, &table);
        laps.lap("filter");
    }
    let mut s = Stages {
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
    };
    plan.keep.trim(&mut s);
    s
}

/// The sums of the objects the filter keeps, in their new order (relabelling preserves each
/// object's pixels and their raster order, so these equal a measure of the new labels).
pub fn keep_sums<T>(sums: Vec<T>, table: &[u32]) -> Vec<T> {
    sums.into_iter()
        .enumerate()
        .filter(|(i, _)| table.get(i + 1).is_some_and(|&t| t != 0))
        .map(|(_, s)| s)
        .collect()
}

/// Run the whole pipeline on the CPU twin (every stage image kept).
pub fn segment(img: &RawImage, params: &Params) -> Result<Stages> {
    segment_keep(img, params, Keep::All)
}

/// As [`segment`], keeping the stage images `keep` names.
pub fn segment_keep<'a>(
    img: impl Into<ImageView<'a>>,
    params: &Params,
    keep: Keep,
) -> Result<Stages> {
    let (plan, samples) = FramePlan::of_image(params, img, keep)?;
    Ok(back(&plan, front(&plan, samples)))
}

/// The watershed labels (before the object filter) of every setting on one front — each
/// setting differing from `front_params` in its markers and flood only — and whether the
/// front's core was stricter than its threshold (else the markers were the mask's own). The
/// settings run in parallel.
pub fn sweep(
    img: &RawImage,
    front_params: &Params,
    settings: &[Params],
) -> Result<(Vec<Vec<u32>>, bool)> {
    use rayon::prelude::*;
    let (plan, samples) = FramePlan::of_image(front_params, img, Keep::Labels)?;
    let plans = settings
        .iter()
        .map(|p| FramePlan::new(p, &crate::plan::ImageHeader::of(img), Keep::Labels))
        .collect::<Result<Vec<_>>>()?;
    let front = front(&plan, samples);
    let out = plans
        .par_iter()
        .map(|p| watershed(p, &front, None).labels)
        .collect();
    Ok((out, !front.core_opened.is_empty()))
}

/// A frame's stages from labels an earlier run wrote (`--resume`): the labels, the gray keys
/// and the measure sums, exactly what segmenting it again gives the outputs (no threshold
/// report: nothing was thresholded).
pub fn stages_from_labels<'a>(img: impl Into<ImageView<'a>>, labels: Vec<u32>) -> Result<Stages> {
    let img = img.into();
    let (plan, samples) = FramePlan::of_image(&Params::default(), img, Keep::LabelsAndGray)?;
    if labels.len() != plan.pixels() {
        return Err(Error::BadData(format!(
            "{} labels for a {}×{} frame",
            labels.len(),
            img.width,
            img.height
        )));
    }
    let dims = plan.dims;
    let gray = cpu::gray::gray_keys(&plan.gray, samples);
    let n = labels.iter().copied().max().unwrap_or(0);
    let float_keys = plan.scale == GrayScale::Float;
    let sums = cpu::measure::measure_sums(dims, &labels, &gray, float_keys, n);
    Ok(Stages {
        dims,
        scale: plan.scale,
        gray,
        smoothed: Vec::new(),
        flattened: Vec::new(),
        mask: Vec::new(),
        opened: Vec::new(),
        distance2: Vec::new(),
        core_opened: Vec::new(),
        core_distance2: Vec::new(),
        peaks: Vec::new(),
        markers: Vec::new(),
        n_markers: n,
        threshold: None,
        labels,
        sums,
        timings: Vec::new(),
        timing_source: "wall-clock",
    })
}

/// The pair histogram ([`crate::backend::Segmenter::pair_histogram`]): the twin
/// [`cpu::pairs::pair_histogram`], after checking the slices' lengths (the twin panics on a
/// wrong one; here it is [`Error::BadData`], as on the GPU).
pub fn pair_histogram(
    prev: &[u32],
    cur: &[u32],
    width: usize,
    height: usize,
    shift: (i32, i32),
) -> Result<Vec<cpu::pairs::PairCount>> {
    let n = width.checked_mul(height);
    if n != Some(prev.len()) || n != Some(cur.len()) {
        return Err(Error::BadData(format!(
            "pairs: {} prev and {} cur labels for a {width}×{height} frame",
            prev.len(),
            cur.len()
        )));
    }
    Ok(cpu::pairs::pair_histogram(prev, cur, width, height, shift))
}
