//! The whole lecture pipeline on the GPU: one upload of the samples, every stage on device
//! buffers, one readback of all stage images (plus the convergence loops' one-`u32` flags and,
//! for Otsu, the histogram).
//! The result equals [`crate::pipeline::segment_cpu`] byte for byte.

use std::time::Instant;

use super::frame::Frame;
use super::timing::SOURCE_WALL;
use super::{
    components, distance, gray, measure, opening, peaks, threshold, watershed, GpuContext,
};
use crate::cpu::{self, threshold::Level, Rect};
use crate::error::Result;
use crate::image::RawImage;
use crate::pipeline::{gray_input, Params, Stages};

/// Run the pipeline on the GPU context `ctx`. With [`GpuContext::set_profiling`] on,
/// `Stages::timings` holds each stage's time (see [`super::timing`]); otherwise one
/// `"gpu pipeline"` wall-clock total, at no extra cost.
pub fn segment_gpu(ctx: &GpuContext, img: &RawImage, params: &Params) -> Result<Stages> {
    params.validate()?;
    let t0 = Instant::now();
    let mut frame = Frame::new(ctx);
    let (gp, samples, scale) = gray_input(img)?;
    let dims = gp.dims;
    let n = dims.len();
    ctx.check_size(dims.width as usize, dims.height as usize)?;
    ctx.check_len("the input samples", samples.len() as u64)?;
    // The largest buffers of the frame (the watershed's packed costs and labels), checked
    // before anything is allocated.
    ctx.check_len("the watershed's packed buffers", 2 * n as u64)?;

    frame.timer.restart();
    let samples_buf = frame.storage_init("floodseg.gray.samples", &samples);
    let mut enc = ctx.encoder("floodseg.pipeline.gray");
    let keys = frame.storage("floodseg.gray.keys", n, &mut enc);
    let span = frame.timer.begin(ctx, &mut enc, "gray");
    gray::gray(ctx, &mut enc, &gp, &samples_buf, &keys);
    frame.timer.end(ctx, &mut enc, span);
    ctx.submit("floodseg.pipeline.gray", enc)?;
    frame.timer.lap(ctx, "gray")?;

    // The threshold's bound is resolved on the host by the function both backends share. Otsu
    // needs a histogram: for integer gray images the `threshold_histogram` pass takes it on the
    // device (one readback of 256/65536 counts); for RGB and float images numpy's 256 f64 bin
    // edges are applied on the host to the CPU twin's keys (a map, identical to the shader's).
    let tp = match params.level {
        Level::Fixed(_) => {
            cpu::threshold::threshold_params(dims, scale, &params.level, params.dark, &[])
        }
        Level::Otsu => {
            match threshold::otsu_params_in(ctx, &mut frame, dims, scale, params.dark, &keys)? {
                Some(tp) => tp,
                None => {
                    let mut host_keys = vec![0u32; n];
                    cpu::gray::gray(&gp, &samples, &mut host_keys);
                    cpu::threshold::threshold_params(
                        dims,
                        scale,
                        &params.level,
                        params.dark,
                        &host_keys,
                    )
                }
            }
        }
    };
    drop(samples);
    // Submitted: the pool may hand it out again.
    frame.release(&[&samples_buf]);

    let mut enc = ctx.encoder("floodseg.pipeline");
    let mask = frame.storage("floodseg.threshold.mask", n, &mut enc);
    let opened = frame.storage("floodseg.opening.opened", n, &mut enc);
    let scratch = frame.storage("floodseg.opening.scratch", n, &mut enc);
    let d2 = frame.storage("floodseg.distance.d2", n, &mut enc);
    let dscratch = distance::DistanceScratch::in_frame(&mut frame, dims, &mut enc);
    let span = frame.timer.begin(ctx, &mut enc, "threshold");
    threshold::threshold(ctx, &mut enc, &tp, &keys, &mask);
    frame.timer.end(ctx, &mut enc, span);
    if frame.timer.is_on() {
        // Synchronised wall clock: the threshold's own submission, so each stage's lap waits
        // for that stage only.
        ctx.submit("floodseg.pipeline.threshold", enc)?;
        frame.timer.lap(ctx, "threshold")?;
        enc = ctx.encoder("floodseg.pipeline");
    }
    let span = frame.timer.begin(ctx, &mut enc, "opening");
    enc.copy_buffer_to_buffer(&mask, 0, &opened, 0, 4 * n as u64);
    opening::opening(
        ctx,
        &mut enc,
        dims,
        Rect::full(dims),
        params.structure,
        params.open,
        &opened,
        &scratch,
    );
    frame.timer.end(ctx, &mut enc, span);
    if frame.timer.is_on() {
        ctx.submit("floodseg.pipeline.opening", enc)?;
        frame.timer.lap(ctx, "opening")?;
        enc = ctx.encoder("floodseg.pipeline");
    }
    let span = frame.timer.begin(ctx, &mut enc, "distance");
    distance::distance(
        ctx,
        &mut enc,
        dims,
        params.distance,
        &opened,
        &dscratch,
        &d2,
    );
    frame.timer.end(ctx, &mut enc, span);
    ctx.submit("floodseg.pipeline", enc)?;
    frame.timer.lap(ctx, "distance")?;
    frame.release(&[&dscratch.a, &dscratch.b, &dscratch.c, &scratch]);

    let pp = cpu::peaks::PeaksParams {
        dims,
        min_distance: params.min_distance,
        footprint: params.footprint_size(),
        border: params.min_distance,
    };
    let (peaks_buf, _) = peaks::peaks_in(ctx, &mut frame, &pp, &opened, &d2)?;
    frame.timer.lap(ctx, "peaks")?;
    let (markers, count) = components::components_in(ctx, &mut frame, dims, false, &peaks_buf)?;
    frame.timer.lap(ctx, "components")?;
    let labels = watershed::watershed_in(ctx, &mut frame, dims, &opened, &d2, &markers)?.labels;
    frame.timer.lap(ctx, "watershed")?;
    // The measure stage sizes its sums by the object count: one 4-byte readback.
    let n_markers =
        ctx.read_buffers_in(&mut frame, "floodseg.pipeline.count", &[(&count, 1)])?[0][0];
    frame.timer.restart();
    let sums_buf = measure::measure_sums_in(ctx, &mut frame, dims, &labels, &keys, n_markers)?;
    frame.timer.lap(ctx, "measure")?;
    let words = n_markers as usize * measure::WORDS;

    let mut out = ctx.read_buffers_in(
        &mut frame,
        "floodseg.pipeline.readback",
        &[
            (&keys, n),
            (&mask, n),
            (&opened, n),
            (&d2, n),
            (&peaks_buf, n),
            (&markers, n),
            (&labels, n),
            (&sums_buf, words),
        ],
    )?;
    let mut take = || out.remove(0);
    let (gray_keys, mask, opened, distance2, peaks, markers, labels, words) = (
        take(),
        take(),
        take(),
        take(),
        take(),
        take(),
        take(),
        take(),
    );
    let float_keys = scale == cpu::threshold::GrayScale::Float;
    let sums = measure::sums_from_words(&words, n_markers, float_keys, &labels, &gray_keys)?;
    let (timings, timing_source) = match frame.take_timer().finish(ctx)? {
        Some(t) => t,
        None => (vec![("gpu pipeline", t0.elapsed())], SOURCE_WALL),
    };
    Ok(Stages {
        dims,
        scale,
        gray: gray_keys,
        mask,
        opened,
        distance2,
        peaks,
        markers,
        n_markers,
        labels,
        sums,
        timings,
        timing_source,
    })
}
