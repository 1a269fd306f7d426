//! The GPU backend: a [`FramePlan`] executed by the shaders (`crate::gpu`), one upload of the
//! samples, every stage on device buffers, one readback of what the plan keeps (plus the
//! convergence loops' one-`u32` flags and, for Otsu on integer gray images, the histogram).
//! The result equals the CPU backend's ([`super::cpu`]) byte for byte.

use std::time::Instant;

use crate::cpu::{threshold::GrayScale, Dims, Rect};
use crate::error::Result;
use crate::gpu::counters;
use crate::gpu::frame::Frame;
use crate::gpu::timing::SOURCE_WALL;
use crate::gpu::{
    background, batch, components, distance, filter, gray, maxima, measure, opening, pairs, peaks,
    smooth, sweeps, threshold, watershed, GpuContext,
};
use crate::image::{ImageView, RawImage};
use crate::params::Params;
use crate::plan::{FloodPlan, FramePlan, MarkerPlan, ThresholdPlan};
use crate::stages::{Keep, Stages, ThresholdReport};

/// A frame's buffers after the front stages (gray → smooth → background → threshold → opening →
/// distance), on the device.
pub struct FrontBuffers {
    pub dims: Dims,
    pub scale: GrayScale,
    pub keys: wgpu::Buffer,
    /// The smoothed keys (`--smooth`), when smoothing.
    pub smoothed: Option<wgpu::Buffer>,
    /// The flattened keys (`--background`), when flattening.
    pub flattened: Option<wgpu::Buffer>,
    pub mask: wgpu::Buffer,
    pub opened: wgpu::Buffer,
    pub d2: wgpu::Buffer,
    /// `--core`: the core's opened mask and squared distance (where the markers are found).
    pub core: Option<(wgpu::Buffer, wgpu::Buffer)>,
    /// The threshold's mask size (word 0, the `threshold` pass's count), and the core's. Words
    /// [`peaks::BOUNDS_AT`]`..` of `mask_count` are a bounds buffer for the frame plan's peaks
    /// (`--markers peaks`): one staged write ([`peaks::BOUNDS_BUFFER_INIT`]) prepares both
    /// accumulators, where a clear and a write did.
    pub mask_count: wgpu::Buffer,
    pub core_count: Option<wgpu::Buffer>,
    /// The level in the input's units and whether it is Otsu's (the mask size is
    /// `mask_count`'s, on the device).
    pub level: f64,
    pub otsu: bool,
}

impl FrontBuffers {
    /// The mask and squared distance the markers are found in: the core's with `--core`.
    pub fn marker_inputs(&self) -> (&wgpu::Buffer, &wgpu::Buffer) {
        match &self.core {
            Some((o, d)) => (o, d),
            None => (&self.opened, &self.d2),
        }
    }

    /// The keys the threshold saw (smoothed with `--smooth`, flattened with `--background`).
    pub fn threshold_keys(&self) -> &wgpu::Buffer {
        self.flattened
            .as_ref()
            .or(self.smoothed.as_ref())
            .unwrap_or(&self.keys)
    }
}

/// The front stages of a frame planned by `plan` with its widened `samples`, in `frame`: one
/// upload, everything else on the device (plus the Otsu histogram's readback).
pub fn front_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    plan: &FramePlan,
    samples: Vec<u32>,
) -> Result<FrontBuffers> {
    let dims = plan.dims;
    let n = dims.len();
    let scale = plan.scale;
    ctx.check_size(dims.width as usize, dims.height as usize)?;
    ctx.check_len("the input samples", samples.len() as u64)?;
    // The largest buffers of the frame (the watershed's packed costs and labels), checked
    // before anything is allocated.
    ctx.check_len("the watershed's packed buffers", 2 * n as u64)?;

    frame.timer.restart();
    let samples_buf = frame.storage_init("floodseg.gray.samples", &samples);
    let keys = frame.scratch("floodseg.gray.keys", n);
    // A fixed threshold on the gray keys themselves (no --smooth, no --background): gray and
    // threshold are one pass (`gray_threshold`) in the front's main submission.
    let fused = plan.smooth.is_none()
        && plan.background.is_none()
        && matches!(plan.threshold, ThresholdPlan::Fixed { .. });
    if !fused {
        let mut enc = ctx.encoder("floodseg.pipeline.gray");
        let span = frame.timer.begin(ctx, &mut enc, "gray");
        gray::gray(ctx, &mut enc, &plan.gray, &samples_buf, &keys);
        frame.timer.end(ctx, &mut enc, span);
        ctx.submit("floodseg.pipeline.gray", enc)?;
        frame.timer.lap(ctx, "gray")?;
    }

    let smoothed = if let Some(sp) = &plan.smooth {
        let mut enc = ctx.encoder("floodseg.pipeline.smooth");
        let out = frame.scratch("floodseg.smooth.out", n);
        let scratch = frame.scratch("floodseg.smooth.scratch", n);
        let span = frame.timer.begin(ctx, &mut enc, "smooth");
        smooth::smooth(ctx, &mut enc, sp, &keys, &scratch, &out);
        frame.timer.end(ctx, &mut enc, span);
        ctx.submit("floodseg.pipeline.smooth", enc)?;
        frame.timer.lap(ctx, "smooth")?;
        frame.release(&[&scratch]);
        Some(out)
    } else {
        None
    };
    let flattened = match &plan.background {
        Some(bp) => {
            let mut enc = ctx.encoder("floodseg.pipeline.background");
            let out = frame.scratch("floodseg.background.out", n);
            let a = frame.scratch("floodseg.background.a", n);
            let b = frame.scratch("floodseg.background.b", n);
            let span = frame.timer.begin(ctx, &mut enc, "background");
            background::flatten(
                ctx,
                &mut enc,
                bp,
                smoothed.as_ref().unwrap_or(&keys),
                &a,
                &b,
                &out,
            );
            frame.timer.end(ctx, &mut enc, span);
            ctx.submit("floodseg.pipeline.background", enc)?;
            frame.timer.lap(ctx, "background")?;
            frame.release(&[&a, &b]);
            Some(out)
        }
        None => None,
    };
    let tkeys = flattened.as_ref().or(smoothed.as_ref()).unwrap_or(&keys);

    // The threshold's bound is resolved on the host by the function both backends share. Otsu
    // needs a histogram: for integer gray images the `threshold_histogram` pass takes it on the
    // device (one readback of 256/65536 counts); for RGB and float images numpy's 256 bins
    // (float64 and float32 edges) are applied on the host to the CPU twin's keys (a map,
    // identical to the shader's).
    let resolved = match plan.threshold {
        ThresholdPlan::Otsu {
            device_histogram: Some(bins),
        } => plan.resolve_otsu(threshold::otsu_level_in(ctx, frame, dims, bins, tkeys)?),
        ThresholdPlan::Otsu {
            device_histogram: None,
        } => plan.resolve(&super::cpu::keys_for_threshold(plan, samples.clone())),
        ThresholdPlan::Fixed { .. } => plan.resolve(&[]),
    };
    let tp = resolved.threshold;
    drop(samples);
    if !fused {
        // Submitted: the pool may hand it out again.
        frame.release(&[&samples_buf]);
    }

    let mut enc = ctx.encoder("floodseg.pipeline");
    let mask = frame.scratch("floodseg.threshold.mask", n);
    let opened = frame.scratch("floodseg.opening.opened", n);
    let scratch = frame.scratch("floodseg.opening.scratch", n);
    let d2 = frame.scratch("floodseg.distance.d2", n);
    let mask_count = frame.storage_init("floodseg.frame.words", &peaks::BOUNDS_BUFFER_INIT);
    let dscratch = distance::DistanceScratch::in_frame(frame, dims);
    let span = frame.timer.begin(ctx, &mut enc, "threshold");
    if fused {
        let (gp, sb) = (&plan.gray, &samples_buf);
        gray::gray_threshold(ctx, &mut enc, gp, &tp, sb, &keys, &mask, &mask_count);
    } else {
        threshold::threshold(ctx, &mut enc, &tp, tkeys, &mask, &mask_count);
    }
    frame.timer.end(ctx, &mut enc, span);
    if frame.timer.is_on() {
        // Synchronised wall clock: the threshold's own submission, so each stage's lap waits
        // for that stage only.
        ctx.submit("floodseg.pipeline.threshold", enc)?;
        frame.timer.lap(ctx, "threshold")?;
        enc = ctx.encoder("floodseg.pipeline");
    }
    // the opening in place and the distance transform, for the mask and for `--core`'s
    let open = |enc: &mut wgpu::CommandEncoder, buf: &wgpu::Buffer| {
        let (rect, s, k) = (Rect::full(dims), plan.structure, plan.open);
        opening::opening(ctx, enc, dims, rect, s, k, buf, &scratch);
    };
    let dist = |enc: &mut wgpu::CommandEncoder, src: &wgpu::Buffer, dst: &wgpu::Buffer| {
        distance::distance(ctx, enc, dims, plan.distance, src, &dscratch, dst);
    };
    let span = frame.timer.begin(ctx, &mut enc, "opening");
    let (rect, s, k) = (Rect::full(dims), plan.structure, plan.open);
    opening::opening_from(ctx, &mut enc, dims, rect, s, k, &mask, &opened, &scratch);
    frame.timer.end(ctx, &mut enc, span);
    if frame.timer.is_on() {
        ctx.submit("floodseg.pipeline.opening", enc)?;
        frame.timer.lap(ctx, "opening")?;
        enc = ctx.encoder("floodseg.pipeline");
    }
    let span = frame.timer.begin(ctx, &mut enc, "distance");
    dist(&mut enc, &opened, &d2);
    frame.timer.end(ctx, &mut enc, span);
    ctx.submit("floodseg.pipeline", enc)?;
    frame.timer.lap(ctx, "distance")?;
    // `--core`: the same threshold → opening → distance on the stricter level (the CPU
    // backend's `front`), for the markers.
    let core = match &resolved.core {
        Some(cp) => {
            let mut enc = ctx.encoder("floodseg.pipeline.core");
            let core_opened = frame.scratch("floodseg.core.opened", n);
            let core_d2 = frame.scratch("floodseg.core.d2", n);
            let core_count = frame.storage("floodseg.core.count", 1, &mut enc);
            let span = frame.timer.begin(ctx, &mut enc, "core");
            threshold::threshold(ctx, &mut enc, cp, tkeys, &core_opened, &core_count);
            open(&mut enc, &core_opened);
            dist(&mut enc, &core_opened, &core_d2);
            frame.timer.end(ctx, &mut enc, span);
            ctx.submit("floodseg.pipeline.core", enc)?;
            frame.timer.lap(ctx, "core")?;
            Some((core_opened, core_d2, core_count))
        }
        None => None,
    };
    let (core, core_count) = match core {
        Some((o, d, c)) => (Some((o, d)), Some(c)),
        None => (None, None),
    };
    frame.release(&[&dscratch.a, &dscratch.b, &dscratch.c, &scratch]);
    if fused {
        // the gray_threshold pass's input, submitted by now
        frame.release(&[&samples_buf]);
    }
    Ok(FrontBuffers {
        dims,
        scale,
        keys,
        smoothed,
        flattened,
        mask,
        opened,
        d2,
        core,
        mask_count,
        core_count,
        level: resolved.level,
        otsu: resolved.otsu,
    })
}

/// The back stages' buffers: marker pixels, marker labels, their count (one `u32`) and the
/// watershed's labels (before the area filter).
pub struct BackBuffers {
    pub peaks: wgpu::Buffer,
    pub markers: wgpu::Buffer,
    pub count: wgpu::Buffer,
    pub labels: wgpu::Buffer,
}

/// markers (peaks or maxima) → components → watershed of `plan` on the front's buffers, in
/// `frame`. `front_plan`: `plan` is the plan the front was made for, so the peaks reduce their
/// bounds into the front's prepared words ([`FrontBuffers::mask_count`]); a rerun of the same
/// plan reduces the same bounds again, which changes nothing.
pub fn back_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    front: &FrontBuffers,
    plan: &FramePlan,
    front_plan: bool,
) -> Result<BackBuffers> {
    let dims = front.dims;
    let (m_mask, m_d2) = front.marker_inputs();
    let bounds = front_plan.then_some(&front.mask_count);
    let peaks_buf = match &plan.markers {
        MarkerPlan::Peaks(pp) => peaks::peaks_in(ctx, frame, pp, m_mask, m_d2, bounds)?.0,
        MarkerPlan::Regional(mp) => maxima::regional_in(ctx, frame, mp, m_mask, m_d2)?,
        MarkerPlan::Hmax(mp) => maxima::hmax_in(ctx, frame, mp, m_mask, m_d2)?,
    };
    let stage = plan.markers.stage();
    frame.timer.lap(ctx, stage)?;
    let (markers, count) =
        components::components_in(ctx, frame, dims, plan.markers.diagonal(), &peaks_buf)?;
    frame.timer.lap(ctx, "components")?;
    let labels = match &plan.flood {
        FloodPlan::Distance => {
            batch::watershed_in(ctx, frame, dims, &front.opened, &front.d2, &markers)?
        }
        FloodPlan::Intensity(ap) => {
            let mut enc = ctx.encoder("floodseg.pipeline.altitude");
            let alt = frame.scratch("floodseg.watershed.altitude", dims.len());
            watershed::ws_altitude(
                ctx,
                &mut enc,
                ap,
                &front.opened,
                front.threshold_keys(),
                &alt,
            );
            ctx.submit("floodseg.pipeline.altitude", enc)?;
            let labels = batch::watershed_in(ctx, frame, dims, &front.opened, &alt, &markers)?;
            frame.release(&[&alt]);
            labels
        }
    };
    frame.timer.lap(ctx, "watershed")?;
    Ok(BackBuffers {
        peaks: peaks_buf,
        markers,
        count,
        labels,
    })
}

/// Run the pipeline on the GPU context `ctx`, every stage image kept. With
/// [`GpuContext::set_profiling`] on, `Stages::timings` holds each stage's time (see
/// [`crate::gpu::timing`]); otherwise one `"gpu pipeline"` wall-clock total, at no extra cost.
pub fn segment(ctx: &GpuContext, img: &RawImage, params: &Params) -> Result<Stages> {
    segment_keep(ctx, img, params, Keep::All)
}

/// As [`segment`], reading back only the stage images `keep` names (the others come back
/// empty, as [`Keep`] trims them): streams that write labels skip most of the readback.
pub fn segment_keep<'a>(
    ctx: &GpuContext,
    img: impl Into<ImageView<'a>>,
    params: &Params,
    keep: Keep,
) -> Result<Stages> {
    let (plan, samples) = FramePlan::of_image(params, img, keep)?;
    run(ctx, &plan, samples)
}

/// Execute `plan` on a frame's widened `samples`.
pub fn run(ctx: &GpuContext, plan: &FramePlan, samples: Vec<u32>) -> Result<Stages> {
    let keep = plan.keep;
    let t0 = Instant::now();
    let mut frame = Frame::new(ctx);
    let front = front_in(ctx, &mut frame, plan, samples)?;
    let dims = front.dims;
    let n = dims.len();
    let scale = front.scale;
    // The loops' predicted first batches are submitted without waiting (`gpu::sweeps`,
    // "Speculation") and checked with the object count's readback below.
    frame.set_speculate(true);
    let mut back = back_in(ctx, &mut frame, &front, plan, true)?;
    // The measure stage sizes its sums by the object count: one readback of 4-byte counts
    // (with the threshold's mask size, for the report, and the speculated loops' flags).
    let mut reruns = 0;
    let counts = loop {
        let pending = frame.take_pending();
        let mut parts = vec![(&back.count, 1), (&front.mask_count, 1)];
        if let Some(c) = &front.core_count {
            parts.push((c, 1));
        }
        let n_counts = parts.len();
        parts.extend(pending.iter().map(|p| (&p.flags, sweeps::FLAG_WORDS)));
        let mut counts = ctx.read_buffers_in(&mut frame, "floodseg.pipeline.count", &parts)?;
        let flags = counts.split_off(n_counts);
        if sweeps::settle(ctx, &pending, &flags) {
            break counts;
        }
        // A loop needed more sweeps than predicted: the back stages again, its batch doubled
        // (`sweeps::settle`), speculating again a few times, then each batch checked.
        counters::count(|c| c.reruns += 1);
        reruns += 1;
        frame.set_speculate(reruns <= sweeps::SPECULATIVE_RERUNS);
        back = back_in(ctx, &mut frame, &front, plan, true)?;
    };
    let n_markers = counts[0][0];
    let threshold = ThresholdReport {
        level: front.level,
        otsu: front.otsu,
        mask_pixels: u64::from(counts[1][0]),
        core_pixels: counts.get(2).map(|c| u64::from(c[0])),
    };
    frame.timer.restart();
    // Without a filter the labels are final: the measure pass copies them in front of its sums,
    // so one copy (one GPU step) reads both back.
    let (labels, keys) = (&back.labels, &front.keys);
    let with_labels = plan.filter.is_none() && measure::labels_fit(ctx, dims, n_markers);
    let sums_buf =
        measure::measure_in(ctx, &mut frame, dims, labels, keys, n_markers, with_labels)?;
    frame.timer.lap(ctx, "measure")?;
    let words_len = n_markers as usize * measure::WORDS;

    // The area filter: the objects' pixel counts come back (the measure's words, which are
    // needed anyway), the host makes the renumbering table, one map pass applies it.
    let (labels_buf, words, n_objects) = if let Some(object_filter) = &plan.filter {
        let words = ctx.read_buffers_in(
            &mut frame,
            "floodseg.pipeline.objects",
            &[(&sums_buf, words_len)],
        )?;
        let words = words.into_iter().next().unwrap_or_default();
        // the geometric sums (the float images' value sums are not needed for the table)
        let geometry = measure::sums_from_words(&words, n_markers, false, &[], &[])?;
        let (table, kept) = object_filter.table(&geometry);
        frame.timer.restart();
        let mut enc = ctx.encoder("floodseg.pipeline.filter");
        let span = frame.timer.begin(ctx, &mut enc, "filter");
        let relabelled =
            filter::relabel_record(ctx, &mut frame, &mut enc, dims, &back.labels, &table)?;
        frame.timer.end(ctx, &mut enc, span);
        ctx.submit("floodseg.pipeline.filter", enc)?;
        frame.timer.lap(ctx, "filter")?;
        let words: Vec<u32> =
            super::cpu::keep_sums(words.chunks_exact(measure::WORDS).collect(), &table).concat();
        (relabelled, Some(words), kept)
    } else if with_labels {
        // the labels, then the sums (`measure_in` with `copy_labels`)
        (sums_buf.clone(), None, n_markers)
    } else {
        (back.labels.clone(), None, n_markers)
    };

    // Read back only what the caller keeps: at 4096² every stage image is 64 MB, and on an H100
    // reading all seven back took 537 ms of a 1 s frame (BENCHMARKS-GPU.md's machine).
    let float_keys = scale == GrayScale::Float;
    let all = keep == Keep::All;
    let want_gray = keep != Keep::Labels || float_keys; // float sums need the gray keys
                                                        // the sums ride behind the labels (`with_labels`), come on their own, or were read already
    let with_sums = words.is_none() && with_labels;
    let first_len = if with_sums { n + words_len } else { n };
    let mut wanted: Vec<(&wgpu::Buffer, usize)> = vec![(&labels_buf, first_len)];
    if want_gray {
        wanted.push((&front.keys, n));
    }
    if all {
        for b in [
            &front.mask,
            &front.opened,
            &front.d2,
            &back.peaks,
            &back.markers,
        ] {
            wanted.push((b, n));
        }
        if let Some(sm) = &front.smoothed {
            wanted.push((sm, n));
        }
        if let Some(fl) = &front.flattened {
            wanted.push((fl, n));
        }
        if let Some((co, cd)) = &front.core {
            wanted.push((co, n));
            wanted.push((cd, n));
        }
    }
    let sums_alone = words.is_none() && !with_labels;
    if sums_alone {
        wanted.push((&sums_buf, words_len));
    }
    let mut out = ctx
        .read_buffers_in(&mut frame, "floodseg.pipeline.readback", &wanted)?
        .into_iter();
    let mut take = || out.next().unwrap_or_default();
    let mut labels = take();
    let read_words = if with_sums && labels.len() >= n {
        labels.split_off(n)
    } else {
        Vec::new()
    };
    let gray_keys = if want_gray { take() } else { Vec::new() };
    let (mask, opened, distance2, peaks, markers) = if all {
        (take(), take(), take(), take(), take())
    } else {
        Default::default()
    };
    let smoothed = if all && front.smoothed.is_some() {
        take()
    } else {
        Vec::new()
    };
    let flattened = if all && front.flattened.is_some() {
        take()
    } else {
        Vec::new()
    };
    let (core_opened, core_distance2) = if all && front.core.is_some() {
        (take(), take())
    } else {
        Default::default()
    };
    let words = match words {
        Some(w) => w,
        None if sums_alone => take(),
        None => read_words,
    };
    let sums = measure::sums_from_words(&words, n_objects, float_keys, &labels, &gray_keys)?;
    let gray_keys = if keep == Keep::Labels {
        Vec::new()
    } else {
        gray_keys
    };
    let (timings, timing_source) = match frame.take_timer().finish(ctx)? {
        Some(t) => t,
        None => (vec![("gpu pipeline", t0.elapsed())], SOURCE_WALL),
    };
    Ok(Stages {
        dims,
        scale,
        gray: gray_keys,
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
        timings,
        timing_source,
    })
}

/// The watershed labels (before the object filter) of every setting on one front, in order
/// (see [`super::cpu::sweep`]): the front's buffers stay on the device while the settings run
/// one after another; only each watershed's labels come back.
pub fn sweep(
    ctx: &GpuContext,
    img: &RawImage,
    front_params: &Params,
    settings: &[Params],
) -> Result<(Vec<Vec<u32>>, bool)> {
    let (plan, samples) = FramePlan::of_image(front_params, img, Keep::Labels)?;
    let header = crate::plan::ImageHeader::of(img);
    let plans = settings
        .iter()
        .map(|p| FramePlan::new(p, &header, Keep::Labels))
        .collect::<Result<Vec<_>>>()?;
    let mut front_frame = Frame::new(ctx);
    let front = front_in(ctx, &mut front_frame, &plan, samples)?;
    let n = front.dims.len();
    let mut out = Vec::with_capacity(plans.len());
    for p in &plans {
        let mut frame = Frame::new(ctx);
        // another plan's peaks (their own bounds: the border may differ)
        let back = back_in(ctx, &mut frame, &front, p, false)?;
        let labels = ctx
            .read_buffers_in(&mut frame, "floodseg.tune.labels", &[(&back.labels, n)])?
            .pop()
            .unwrap_or_default();
        out.push(labels);
    }
    Ok((out, front.core.is_some()))
}

/// The pair histogram ([`crate::backend::Segmenter::pair_histogram`]) by one pass of
/// `shaders/pairs.wgsl` ([`pairs::run_pair_histogram`]).
pub fn pair_histogram(
    ctx: &GpuContext,
    prev: &[u32],
    cur: &[u32],
    width: usize,
    height: usize,
    shift: (i32, i32),
) -> Result<Vec<crate::cpu::pairs::PairCount>> {
    pairs::run_pair_histogram(ctx, prev, cur, width, height, shift)
}
