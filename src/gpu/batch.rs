//! Several frames' watersheds in one: the GPU backend's batching of small frames.
//!
//! The watershed is most of a small frame's device time, and its time is latency, not work:
//! each sweep is one dispatch whose duration hardly depends on the image's size (on an H100 a
//! 256² frame's watershed took 5.8 ms of GPU time, a 1024² frame's 10.7 ms; BENCHMARKS-GPU.md).
//! So when several frames are in flight (`stream::run` with several GPU workers), the workers
//! that reach the watershed together hand their inputs to one of them, which stacks the frames
//! into one image — one frame under the other, **a row of background between each two** — runs
//! one watershed on it (one convergence loop: every sweep a single dispatch over all frames)
//! and copies each frame's labels back into that frame's own buffer.
//!
//! **Exact by construction.** The watershed floods only inside the mask (`ws_cost` and
//! `ws_label` skip neighbours outside it, and the label chains follow mask pixels), so a
//! background row cuts the stacked image into independent pieces, each with exactly the
//! neighbours it has alone: every frame gets the labels it gets by itself (the fixed point is
//! unique, docs/design.md, stage 7). Which frames share a batch depends on timing; the output
//! does not.
//!
//! **How frames meet** (flat combining): a worker queues its job and, if no batch is running,
//! leads one: it takes every queued job of the same width (up to [`MAX_BATCH_PIXELS`] in all),
//! runs them, hands out the results and wakes the others; a worker whose job is done returns,
//! one whose job is still queued leads the next batch. While one batch runs on the device, the
//! other workers' frames gather for the next, so batches grow with the number of workers and no
//! worker ever waits for a timer. A frame alone runs its watershed directly, as before.
//!
//! Stage times (profiling): the leader's frame carries the batch's watershed time, the others
//! an empty span, so per-frame means over a stream stay right. Batching is off while profiling
//! without timestamp queries (that mode's wall clock would charge a worker's wait to it).

use std::sync::{Condvar, Mutex};

use super::frame::Frame;
use super::watershed;
use super::GpuContext;
use crate::cpu::Dims;
use crate::error::{Error, Result};

/// Most pixels in one stacked watershed (frames and background rows). A frame larger than half
/// of it is never batched.
pub const MAX_BATCH_PIXELS: usize = 1 << 22;

/// One frame's watershed inputs and the buffer its labels go to (all the frame's own buffers).
struct Job {
    id: u64,
    dims: Dims,
    mask: wgpu::Buffer,
    d2: wgpu::Buffer,
    markers: wgpu::Buffer,
    labels: wgpu::Buffer,
}

#[derive(Default)]
struct State {
    next_id: u64,
    queued: Vec<Job>,
    /// A batch is running (its leader holds its jobs).
    busy: bool,
    /// Finished jobs: `Ok` or the batch's error message.
    done: Vec<(u64, std::result::Result<(), String>)>,
    /// Batches run and frames in them (tests, benchmarks).
    batches: u64,
    batched_frames: u64,
}

/// The watershed batcher of a [`GpuContext`] (see the module doc).
#[derive(Default)]
pub(crate) struct Batcher {
    state: Mutex<State>,
    wake: Condvar,
}

/// Batches run so far and the frames they held (only batches of two or more frames count).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchStats {
    pub batches: u64,
    pub frames: u64,
}

impl Batcher {
    pub(crate) fn stats(&self) -> BatchStats {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        BatchStats {
            batches: s.batches,
            frames: s.batched_frames,
        }
    }
}

/// Keeps a context's batcher busy while it lives, so that every frame reaching the watershed
/// queues; dropping it lets the queued frames run as batches ([`GpuContext::hold_batches`]).
#[doc(hidden)]
pub struct BatchHold<'a> {
    batcher: &'a Batcher,
}

impl Batcher {
    /// Wait until no batch runs, then mark the batcher busy until the hold is dropped.
    pub(crate) fn hold(&self) -> BatchHold<'_> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while st.busy {
            st = self.wake.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        st.busy = true;
        BatchHold { batcher: self }
    }

    /// Frames queued for the next batch.
    pub(crate) fn queued(&self) -> usize {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.queued.len()
    }
}

impl Drop for BatchHold<'_> {
    fn drop(&mut self) {
        let mut st = self.batcher.state.lock().unwrap_or_else(|e| e.into_inner());
        st.busy = false;
        drop(st);
        self.batcher.wake.notify_all();
    }
}

/// Whether a frame of `dims` may share a stacked watershed on `ctx`.
fn batchable(ctx: &GpuContext, dims: Dims) -> bool {
    let n = dims.len();
    n > 0
        && 2 * n < MAX_BATCH_PIXELS
        && ctx.batching()
        && (!ctx.profiling() || ctx.timestamps_supported())
}

/// The watershed of one frame (`mask`, `d2`, `markers` of `dims`, the frame's own buffers),
/// batched with other workers' frames when they arrive together: returns the labels buffer
/// (the frame's). Equal to [`watershed::watershed_in`]'s labels, byte for byte.
pub(crate) fn watershed_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    dims: Dims,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    markers: &wgpu::Buffer,
) -> Result<wgpu::Buffer> {
    if !batchable(ctx, dims) {
        return Ok(watershed::watershed_in(ctx, frame, dims, mask, d2, markers)?.labels);
    }
    let b = &ctx.batcher;
    let mut st = b.state.lock().unwrap_or_else(|e| e.into_inner());
    if !st.busy && st.queued.is_empty() {
        // Alone: run directly, and let frames arriving meanwhile gather behind this one.
        st.busy = true;
        drop(st);
        let lead = Lead::new(b, Vec::new());
        let r = watershed::watershed_in(ctx, frame, dims, mask, d2, markers).map(|w| w.labels);
        lead.finish(Ok(()));
        return r;
    }
    // Others are about: queue a job whose labels land in this frame's own buffer.
    drop(st);
    let mut enc = ctx.encoder("floodseg.batch.labels");
    let labels = frame.storage("floodseg.watershed.labels", dims.len(), &mut enc);
    ctx.submit("floodseg.batch.labels", enc)?;
    let mut st = b.state.lock().unwrap_or_else(|e| e.into_inner());
    let id = st.next_id;
    st.next_id += 1;
    st.queued.push(Job {
        id,
        dims,
        mask: mask.clone(),
        d2: d2.clone(),
        markers: markers.clone(),
        labels: labels.clone(),
    });
    let mut led = false;
    loop {
        if let Some(k) = st.done.iter().position(|(j, _)| *j == id) {
            let (_, r) = st.done.swap_remove(k);
            drop(st);
            if !led {
                // The batch's time is in its leader's frame; this frame records an empty span.
                let mut enc = ctx.encoder("floodseg.batch.span");
                let span = frame.timer.begin(ctx, &mut enc, "watershed");
                frame.timer.end(ctx, &mut enc, span);
                ctx.submit("floodseg.batch.span", enc)?;
            }
            return r.map(|()| labels).map_err(Error::Backend);
        }
        if !st.busy && !st.queued.is_empty() {
            st.busy = true;
            led = true;
            let jobs = take_batch(ctx, &mut st.queued);
            if jobs.len() > 1 {
                st.batches += 1;
                st.batched_frames += jobs.len() as u64;
            }
            drop(st);
            let lead = Lead::new(b, jobs);
            // other frames' labels: every loop waits for its flags here (no speculation, which
            // only this frame's own readback could check)
            let speculating = frame.speculating();
            frame.set_speculate(false);
            let r = run_batch(ctx, frame, &lead.jobs).map_err(|e| e.to_string());
            frame.set_speculate(speculating);
            lead.finish(r);
            st = b.state.lock().unwrap_or_else(|e| e.into_inner());
            continue;
        }
        st = b.wake.wait(st).unwrap_or_else(|e| e.into_inner());
    }
}

/// A batch being led: ending it (also by a panic) publishes the jobs' result, frees the
/// batcher and wakes every waiting worker, so no worker waits forever.
struct Lead<'b> {
    batcher: &'b Batcher,
    jobs: Vec<Job>,
    result: Option<std::result::Result<(), String>>,
}

impl<'b> Lead<'b> {
    fn new(batcher: &'b Batcher, jobs: Vec<Job>) -> Self {
        Lead {
            batcher,
            jobs,
            result: None,
        }
    }

    fn finish(mut self, r: std::result::Result<(), String>) {
        self.result = Some(r);
    }
}

impl Drop for Lead<'_> {
    fn drop(&mut self) {
        let r = self
            .result
            .take()
            .unwrap_or_else(|| Err("a batched watershed's leader panicked".into()));
        let mut st = self.batcher.state.lock().unwrap_or_else(|e| e.into_inner());
        for j in self.jobs.drain(..) {
            st.done.push((j.id, r.clone()));
        }
        st.busy = false;
        drop(st);
        self.batcher.wake.notify_all();
    }
}

/// The queued jobs of the first one's width, in queue order, while the stack stays within
/// [`MAX_BATCH_PIXELS`] and the device's buffer limits.
fn take_batch(ctx: &GpuContext, queued: &mut Vec<Job>) -> Vec<Job> {
    let width = queued[0].dims.width as usize;
    let mut rows = 0usize;
    let mut take = Vec::new();
    for (k, j) in queued.iter().enumerate() {
        if j.dims.width as usize != width {
            continue;
        }
        let more = rows + usize::from(rows > 0) + j.dims.height as usize;
        let fits = more * width <= MAX_BATCH_PIXELS
            && ctx
                .check_len("a stacked watershed", 2 * (more * width) as u64)
                .is_ok();
        if !take.is_empty() && !fits {
            break;
        }
        rows = more;
        take.push(k);
    }
    let mut jobs = Vec::with_capacity(take.len());
    for k in take.into_iter().rev() {
        jobs.push(queued.remove(k));
    }
    jobs.reverse();
    jobs
}

/// Stack `jobs` (same width) with a background row between frames, run one watershed, copy each
/// frame's labels into its buffer. Submits; the copies are ordered before any later use.
fn run_batch(ctx: &GpuContext, frame: &mut Frame, jobs: &[Job]) -> Result<()> {
    let width = jobs[0].dims.width as usize;
    let mut offsets = Vec::with_capacity(jobs.len());
    let mut rows = 0usize;
    for j in jobs {
        if rows > 0 {
            rows += 1; // the background row
        }
        offsets.push(4 * (rows * width) as u64);
        rows += j.dims.height as usize;
    }
    let dims = Dims::new(width, rows);
    let n = dims.len();
    let mut enc = ctx.encoder("floodseg.batch.stack");
    let mask = frame.storage("floodseg.batch.mask", n, &mut enc);
    let d2 = frame.storage("floodseg.batch.d2", n, &mut enc);
    let markers = frame.storage("floodseg.batch.markers", n, &mut enc);
    for (j, &off) in jobs.iter().zip(&offsets) {
        let bytes = 4 * j.dims.len() as u64;
        ctx.copy(&mut enc, &j.mask, 0, &mask, off, bytes);
        ctx.copy(&mut enc, &j.d2, 0, &d2, off, bytes);
        ctx.copy(&mut enc, &j.markers, 0, &markers, off, bytes);
    }
    ctx.submit("floodseg.batch.stack", enc)?;
    let ws = watershed::watershed_in(ctx, frame, dims, &mask, &d2, &markers)?;
    let mut enc = ctx.encoder("floodseg.batch.unstack");
    for (j, &off) in jobs.iter().zip(&offsets) {
        ctx.copy(
            &mut enc,
            &ws.labels,
            off,
            &j.labels,
            0,
            4 * j.dims.len() as u64,
        );
    }
    ctx.submit("floodseg.batch.unstack", enc)?;
    frame.release(&[&mask, &d2, &markers, &ws.cost, &ws.lp, &ws.labels]);
    Ok(())
}

/// One frame's watershed inputs for [`run_watersheds_stacked`]: dims, mask, d2, markers.
pub type WatershedInputs<'a> = (Dims, &'a [u32], &'a [u32], &'a [u32]);

/// Upload several frames' watershed inputs `(dims, mask, d2, markers)` and run them as stacked
/// batches (one per width, in order), whatever the timing; returns each frame's labels. The
/// path workers take when their frames meet, made deterministic for tests.
pub fn run_watersheds_stacked(
    ctx: &GpuContext,
    frames: &[WatershedInputs],
) -> Result<Vec<Vec<u32>>> {
    let mut f = Frame::new(ctx);
    let mut jobs = Vec::new();
    for (id, &(dims, mask, d2, markers)) in frames.iter().enumerate() {
        watershed::check_inputs(
            ctx,
            dims,
            &[("mask", mask), ("d2", d2), ("markers", markers)],
        )?;
        jobs.push(Job {
            id: id as u64,
            dims,
            mask: ctx.storage_init("floodseg.batch.test.mask", mask),
            d2: ctx.storage_init("floodseg.batch.test.d2", d2),
            markers: ctx.storage_init("floodseg.batch.test.markers", markers),
            labels: ctx.storage("floodseg.batch.test.labels", dims.len()),
        });
    }
    let all: Vec<(Dims, wgpu::Buffer)> = jobs.iter().map(|j| (j.dims, j.labels.clone())).collect();
    while !jobs.is_empty() {
        let batch = take_batch(ctx, &mut jobs);
        run_batch(ctx, &mut f, &batch)?;
    }
    let mut out = Vec::new();
    for (dims, labels) in all {
        out.push(ctx.run_and_read("floodseg.batch.test.read", dims.len(), |_| Ok(labels))?);
    }
    Ok(out)
}
