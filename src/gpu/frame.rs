//! One frame's device resources and timer.
//!
//! [`crate::backend::gpu::segment`] runs every stage inside a [`Frame`]: its device
//! buffers come from the context's pool, keyed by `(size, usage)`, and go back when the frame
//! ends (after its last readback, so no submitted work still uses them), so a stack of
//! same-size frames allocates its buffers once. The frame also carries the per-stage
//! [`StageTimer`].
//!
//! Exactness does not depend on the pool: a reused storage buffer is cleared (zeroed) in the
//! command buffer before its first use, so every stage sees what a newly created buffer — which
//! wgpu zero-initialises — would hold; initialised buffers are written in full by
//! `Queue::write_buffer` before any command that uses them. A *scratch* buffer
//! ([`Frame::scratch`]) is not cleared: its first pass writes every element (a map pass, a
//! copy, a Jacobi sweep's output), so what a reused one held cannot reach a result. That saves
//! a clear, a barrier-separated GPU step, per buffer and frame; tests fill every scratch buffer
//! with [`POISON`] ([`GpuContext::set_poison_scratch`]) and still get the twin's bytes.
//!
//! A *detached* frame ([`Frame::detached`], used by the stages' public entry points) makes new
//! buffers and times nothing, since those entry points hand their buffers to the caller.
//!
//! Uniform buffers (immutable, cached by content) and bind groups over pooled buffers are
//! cached in the context as well (see [`GpuContext::uniform`]).

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::timing::StageTimer;
use super::{GpuContext, PoolKey};

const STORAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);
/// What [`GpuContext::set_poison_scratch`] fills scratch buffers with: no valid mask, key,
/// cost, label or state of any stage (and not a small number that could pass for one).
pub const POISON: u32 = 0xA5A5_5A5A;

const READBACK: wgpu::BufferUsages =
    wgpu::BufferUsages::MAP_READ.union(wgpu::BufferUsages::COPY_DST);

/// One frame's pooled buffers and stage timer (see the module doc).
pub struct Frame<'a> {
    ctx: &'a GpuContext,
    pub(crate) timer: StageTimer,
    pooled: bool,
    /// Pooled buffers this frame holds (given back when it ends).
    held: Vec<Arc<wgpu::Buffer>>,
    keys: HashSet<PoolKey>,
    /// Whether the convergence loops may submit their first batch without waiting
    /// ([`super::sweeps`], "Speculation").
    speculate: bool,
    /// The loops' batches submitted so, not yet checked.
    pub(crate) pending: Vec<super::sweeps::Pending>,
}

impl<'a> Frame<'a> {
    /// A frame with pooled buffers, timed as [`GpuContext::set_profiling`] says.
    pub fn new(ctx: &'a GpuContext) -> Frame<'a> {
        Frame {
            ctx,
            timer: StageTimer::new(ctx),
            pooled: true,
            held: Vec::new(),
            keys: HashSet::new(),
            speculate: false,
            pending: Vec::new(),
        }
    }

    /// A frame that makes new buffers and times nothing.
    pub fn detached(ctx: &'a GpuContext) -> Frame<'a> {
        Frame {
            ctx,
            timer: StageTimer::off(),
            pooled: false,
            held: Vec::new(),
            keys: HashSet::new(),
            speculate: false,
            pending: Vec::new(),
        }
    }

    fn take(&mut self, label: &str, key: PoolKey) -> (wgpu::Buffer, bool) {
        let (b, reused) = self.ctx.pool_take(label, key);
        let buffer = (*b).clone();
        self.held.push(b);
        self.keys.insert(key);
        (buffer, reused)
    }

    /// A zeroed storage buffer of `len` `u32`s (at least one), as [`GpuContext::storage`]. A
    /// reused pooled buffer is cleared in `encoder`, which must be submitted before (or be)
    /// the command buffer that first uses it.
    pub fn storage(
        &mut self,
        label: &str,
        len: usize,
        encoder: &mut wgpu::CommandEncoder,
    ) -> wgpu::Buffer {
        if !self.pooled {
            return self.ctx.storage(label, len);
        }
        let (b, reused) = self.take(label, (4 * len.max(1) as u64, STORAGE));
        if reused {
            self.ctx.clear(encoder, &b);
        }
        b
    }

    /// A storage buffer of `len` `u32`s (at least one) whose contents are undefined: only for
    /// buffers whose first pass writes every element before anything reads one (see the
    /// module doc). A reused pooled buffer keeps an earlier frame's data; nothing is recorded.
    pub fn scratch(&mut self, label: &str, len: usize) -> wgpu::Buffer {
        let b = if self.pooled {
            self.take(label, (4 * len.max(1) as u64, STORAGE)).0
        } else {
            self.ctx.storage(label, len)
        };
        if self.ctx.poison_scratch.load(Ordering::Relaxed) {
            self.ctx.write(&b, &vec![POISON; len.max(1)]);
        }
        b
    }

    /// A storage buffer holding `data` (one zero when empty), as [`GpuContext::storage_init`].
    pub fn storage_init(&mut self, label: &str, data: &[u32]) -> wgpu::Buffer {
        if !self.pooled {
            return self.ctx.storage_init(label, data);
        }
        let data = if data.is_empty() { &[0u32][..] } else { data };
        let (b, _) = self.take(label, (4 * data.len() as u64, STORAGE));
        self.ctx.write(&b, data);
        b
    }

    /// A storage buffer of `len` `u32`s whose words `at .. at + data.len()` hold `data` (one
    /// staged write) and whose other words are undefined, as in [`Frame::scratch`]: for a
    /// buffer of which a pass writes every other word it reads.
    pub fn scratch_init(
        &mut self,
        label: &str,
        len: usize,
        at: usize,
        data: &[u32],
    ) -> wgpu::Buffer {
        debug_assert!(at + data.len() <= len.max(1), "{label}");
        let b = self.scratch(label, len);
        if !data.is_empty() {
            self.ctx.write_at(&b, at, data);
        }
        b
    }

    /// A `MAP_READ | COPY_DST` buffer of at least `bytes` bytes (at least 4), for readbacks.
    pub fn readback(&mut self, label: &str, bytes: u64) -> wgpu::Buffer {
        let key = (bytes.max(4), READBACK);
        if !self.pooled {
            return self.ctx.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: key.0,
                usage: key.1,
                mapped_at_creation: false,
            });
        }
        self.take(label, key).0
    }

    /// Give `buffers` back to the pool before the frame ends (they may be handed out again,
    /// even within this frame). Only once every command buffer using them has been submitted.
    pub fn release(&mut self, buffers: &[&wgpu::Buffer]) {
        self.held.retain(|b| !buffers.contains(&&**b));
    }

    /// Whether the convergence loops may submit a predicted first batch without waiting for
    /// its flags (off unless [`Frame::set_speculate`] turned it on, for a pooled frame): the
    /// caller then checks [`Frame::take_pending`] with its next readback
    /// ([`super::sweeps::settle`]).
    pub fn speculating(&self) -> bool {
        self.speculate
    }

    /// Let the loops speculate (`backend::gpu::run`, which checks them) or not (its rerun after
    /// a misprediction; a stacked watershed run for other frames).
    pub fn set_speculate(&mut self, on: bool) {
        self.speculate = on && self.pooled;
    }

    /// The speculated loops not yet checked (see [`Frame::speculating`]).
    pub(crate) fn take_pending(&mut self) -> Vec<super::sweeps::Pending> {
        std::mem::take(&mut self.pending)
    }

    /// The frame's timer, replaced by one that is off (to finish it).
    pub fn take_timer(&mut self) -> StageTimer {
        std::mem::replace(&mut self.timer, StageTimer::off())
    }
}

impl Drop for Frame<'_> {
    fn drop(&mut self) {
        if !self.pooled {
            return;
        }
        self.held.clear();
        // Buffers of sizes this frame did not use (an earlier frame of another size) go.
        self.ctx.pool_trim(&self.keys);
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::gpu::segment as segment_gpu;
    use crate::gpu::GpuContext;
    use crate::image::{RawImage, Samples};
    use crate::pipeline::{segment_cpu, Params};

    fn ctx() -> Option<GpuContext> {
        match GpuContext::new() {
            Ok(c) => Some(c),
            Err(e) if std::env::var("FLOODSEG_REQUIRE_GPU").is_ok_and(|v| v == "1") => {
                panic!("FLOODSEG_REQUIRE_GPU=1 but no GPU context: {e}")
            }
            Err(e) => {
                eprintln!("skipped: no GPU adapter: {e}");
                None
            }
        }
    }

    /// Dark disks on a bright, seeded-noise background.
    fn frame(seed: u64, w: usize, h: usize) -> RawImage {
        let mut rng = crate::synth::SplitMix64(seed);
        let mut v = vec![200u8; w * h];
        for _ in 0..6 {
            let cy = (rng.next() % h as u64) as i64;
            let cx = (rng.next() % w as u64) as i64;
            let r = 2 + (rng.next() % 6) as i64;
            for y in 0..h as i64 {
                for x in 0..w as i64 {
                    if (y - cy).pow(2) + (x - cx).pow(2) < r * r {
                        v[y as usize * w + x as usize] = 50;
                    }
                }
            }
        }
        for p in v.iter_mut() {
            *p = p.wrapping_add((rng.next() % 8) as u8);
        }
        RawImage {
            width: w,
            height: h,
            channels: 1,
            samples: Samples::U8(v),
        }
    }

    #[test]
    fn frame_pool_reuses_buffers_and_stays_exact_over_a_stack() {
        let Some(ctx) = ctx() else { return };
        let p = Params {
            dark: true,
            min_distance: 2,
            open: 1,
            ..Params::default()
        };
        let mut after_first = None;
        let mut groups_first = 0;
        // Same size (reuse: pooled memory must not grow), then another size (trim), then back.
        for (i, (w, h)) in [(41, 23), (41, 23), (41, 23), (17, 30), (41, 23)]
            .into_iter()
            .enumerate()
        {
            let img = frame(i as u64 + 7, w, h);
            let cpu = segment_cpu(&img, &p).unwrap();
            let gpu = segment_gpu(&ctx, &img, &p).unwrap();
            for (stage, g, c) in [
                ("gray", &gpu.gray, &cpu.gray),
                ("mask", &gpu.mask, &cpu.mask),
                ("opened", &gpu.opened, &cpu.opened),
                ("distance2", &gpu.distance2, &cpu.distance2),
                ("peaks", &gpu.peaks, &cpu.peaks),
                ("markers", &gpu.markers, &cpu.markers),
                ("labels", &gpu.labels, &cpu.labels),
            ] {
                assert_eq!(g, c, "frame {i} ({w}×{h}): {stage}");
            }
            assert_eq!(gpu.sums, cpu.sums, "frame {i}: sums");
            let bytes = ctx.pooled_bytes();
            assert!(bytes > 0);
            let groups = ctx.cached_bind_groups();
            eprintln!("frame {i} ({w}×{h}): {bytes} pooled bytes, {groups} bind groups");
            if i == 0 {
                after_first = Some(bytes);
                groups_first = groups;
                assert!(groups > 0, "no bind group cached");
            } else if (w, h) == (41, 23) && i < 3 {
                // The measure sums are sized by the object count; all else is reused.
                let first = after_first.unwrap();
                assert!(bytes <= first + 4 * 18 * 64, "frame {i}: {bytes} > {first}");
                // Bind groups are reused too (a loop's parity may add one or two).
                assert!(
                    groups <= groups_first + 4,
                    "frame {i}: {groups} bind groups after {groups_first}"
                );
            }
        }
        ctx.release_cached();
        assert_eq!(ctx.pooled_bytes(), 0);
    }

    /// The convergence loops give the same frames whatever their batch sizes: one sweep per
    /// batch (every loop continues across many submissions, its phase carried over) and two.
    #[test]
    fn frame_loops_stay_exact_whatever_the_batch_sizes() {
        let Some(ctx) = ctx() else { return };
        let p = Params {
            dark: true,
            min_distance: 2,
            ..Params::default()
        };
        for k in [1, 2] {
            ctx.set_loop_batch(Some(k));
            for (i, (w, h)) in [(41, 23), (1, 9), (30, 17)].into_iter().enumerate() {
                let img = frame(i as u64 + 3, w, h);
                let cpu = segment_cpu(&img, &p).unwrap();
                let gpu = segment_gpu(&ctx, &img, &p).unwrap();
                assert_eq!(gpu.peaks, cpu.peaks, "batches of {k}, frame {i}: peaks");
                assert_eq!(gpu.labels, cpu.labels, "batches of {k}, frame {i}: labels");
                assert_eq!(gpu.sums, cpu.sums, "batches of {k}, frame {i}: sums");
            }
        }
        ctx.set_loop_batch(None);
    }
}
