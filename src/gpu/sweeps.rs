//! Convergence loops (the peaks' spacing walk, the maxima's reconstruction and plateau loops,
//! the watershed's cost and label relaxations): sweeps recorded in batches, one GPU step each.
//!
//! Every sweep shader takes a *flag buffer* of [`FLAG_WORDS`] words — three rotating
//! "changed" flags and the count of sweeps that ran — and a `phase` (0, 1, 2) in its uniforms.
//! A sweep of phase `ph` runs only when the sweep before it changed something (word `ph`),
//! reports its own changes into word `(ph + 1) % 3` and clears word `(ph + 2) % 3` for the sweep
//! after next (the shaders' `sweep_runs`, or `*_tile_mode` in the modules with tiled sweeps).
//! So a batch is a plain list of dispatches, with no
//! copy, clear or indirect-argument validation between them; once a sweep changes nothing,
//! every later sweep of the batch returns at once. Exact: a sweep that changed nothing wrote
//! its input into its output, so both ping-pong buffers hold the fixed point and the skipped
//! sweeps change neither; the sweeps that run are the twin's iterates.
//!
//! **Tiled sweeps end a loop one sweep sooner.** The tiled sweeps (the watershed's cost and
//! label sweeps, the peaks' spacing walk; `shaders/tile_sweep.wgsl`) report two bits
//! ([`AGAIN`], [`CHANGED`]; twin `cpu::watershed::SWEEP_AGAIN`, `SWEEP_CHANGED`): a sweep whose
//! tiles all settled, and whose edge pixels changed nothing another tile would take up, has
//! reached the fixed point in its output even though it changed pixels, so it reports only
//! `CHANGED` and the loop ends there instead of after one more sweep that changes nothing. The
//! sweep after it (if the batch has one) copies its input to its output, so both buffers hold
//! the fixed point again, and reports nothing; the rest return at once. A word without
//! [`AGAIN`] ends the loop; the other loops only ever report `AGAIN`.
//!
//! After each batch the host reads the flag buffer back (one submission, one wait): the word
//! of the next phase says whether the last sweep asks for another. The first batch is as long
//! as the larger of what the last two frames' loop needed, plus one (the context remembers the
//! sweeps that ran, per loop; the slack covers a stack's frames, which vary: on the benchmark
//! stack 30 frames went without a rerun this way, 2 with the last frame alone), else
//! [`FIRST_BATCH`]; later batches double up to the loop's largest.
//! Outputs never depend on the batch sizes.
//!
//! **Speculation.** In a stack, a loop's predicted first batch usually suffices, so waiting for
//! its flags only to learn that costs a host round trip per loop. A frame that speculates
//! ([`Frame::speculating`]: pooled frames, when every loop has a prediction) submits each loop's
//! first batch without waiting and leaves its flag buffer as [`Pending`]; the frame's next
//! readback (the object count's) brings all of them home with it, and [`settle`] checks that
//! every loop's last sweep changed nothing. When one did not, that loop's prediction doubles and
//! the frame's marker, components and watershed stages run again, speculating again (one more
//! wait, for the next count readback) up to [`SPECULATIVE_RERUNS`] times, then without
//! speculating (a wait per batch) (`backend::gpu::run`), so a misprediction costs time, never
//! a byte.

use std::sync::atomic::{AtomicU32, Ordering};

use super::counters::{self, Loop};
use super::frame::Frame;
use super::GpuContext;
use crate::error::{Error, Result};

/// Words of a loop's flag buffer: three rotating "changed" flags, then the sweeps that ran.
pub const FLAG_WORDS: usize = 4;

/// A flag word's bit: the sweep that wrote it asks for another (the loop goes on).
pub const AGAIN: u32 = 1;
/// A flag word's bit: the sweep that wrote it changed its output (tiled sweeps only; alone, the
/// loop ended in that sweep's output).
pub const CHANGED: u32 = 2;

/// The flag buffer's contents before a loop's first sweep (phase 0 runs).
pub const FLAGS_INIT: [u32; FLAG_WORDS] = [1, 0, 0, 0];

/// How many times a frame's back stages run again speculating after a misprediction (each
/// time with the short loop's batch doubled) before they run checking every batch.
pub const SPECULATIVE_RERUNS: u32 = 2;

/// Sweeps in a loop's first batch when the context has no earlier frame to go by.
pub const FIRST_BATCH: u32 = 8;

/// A loop's first batch, submitted without a wait (see the module doc): its flag buffer, the
/// phase of the sweep after its last and the loop.
pub(crate) struct Pending {
    pub flags: wgpu::Buffer,
    pub phase: u32,
    pub counter: Loop,
}

/// Check the speculated loops from their flag words (`words[i]` read from `pending[i].flags`):
/// true when each converged within its batch (its last sweep asked for no other). Then the
/// sweeps that ran are remembered for the next frames' predictions; otherwise each loop that
/// did not converge has its next batch doubled (for the frame's speculating rerun,
/// `backend::gpu::run`) and nothing is remembered until the rerun settles.
pub(crate) fn settle(ctx: &GpuContext, pending: &[Pending], words: &[Vec<u32>]) -> bool {
    let ran = |w: &Vec<u32>| w.get(3).copied().unwrap_or(0);
    let converged: Vec<bool> = pending
        .iter()
        .zip(words)
        .map(|(p, w)| w.get(p.phase as usize).is_some_and(|&f| f & AGAIN == 0))
        .collect();
    let all = converged.iter().all(|&c| c);
    for ((p, w), c) in pending.iter().zip(words).zip(converged) {
        if all {
            ctx.predictions.remember(p.counter, ran(w));
        } else if !c {
            ctx.predictions.grow(p.counter);
        }
    }
    all
}

/// One sweep: `(encoder, input, output, flag buffer, phase)`.
pub(crate) type Sweep<'s> =
    dyn Fn(&mut wgpu::CommandEncoder, &wgpu::Buffer, &wgpu::Buffer, &wgpu::Buffer, u32) + 's;

/// Passes recorded at the end of every batch, given the buffer holding the batch's last iterate.
pub(crate) type Finish<'s> = dyn Fn(&mut wgpu::CommandEncoder, &wgpu::Buffer) + 's;

/// How a loop ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoopRun {
    /// Sweeps recorded (each one GPU step).
    pub recorded: u32,
    /// Sweeps that did work: up to and including the first that asked for no other (a tiled
    /// loop's closing copy not counted).
    pub ran: u32,
    /// Batches submitted (each one host wait).
    pub batches: u32,
}

/// What a loop is, for [`converge`].
pub(crate) struct LoopSpec<'s> {
    pub counter: Loop,
    /// Label of its encoders and readbacks (`floodseg.<stage>.<loop>`).
    pub label: &'s str,
    /// The timer's stage name.
    pub stage: &'static str,
    pub max_batch: u32,
    /// Most sweeps before the loop is called broken (it converges long before).
    pub cap: u64,
    /// A flag buffer that the loop's setup pass sets to [`FLAGS_INIT`] before the first sweep
    /// (saving the loop's own staged write); `None`: the loop writes one.
    pub flags: Option<&'s wgpu::Buffer>,
}

/// The sweeps the last two frames' loops needed, per [`Loop`] (0: none yet), a doubled batch
/// for a loop that fell short in the current frame (0: none), and a fixed batch size set by
/// tests (0: none); kept by the context. A loop's first batch covers the larger of the last two
/// frames' needs, plus one: the sweeps a stack's frames need vary (the benchmark stack's label
/// loop 6–8 from frame to frame), and a batch that falls short costs its frame a rerun of the
/// back stages.
#[derive(Debug, Default)]
pub(crate) struct Predictions {
    ran: [AtomicU32; 4],
    before: [AtomicU32; 4],
    grown: [AtomicU32; 4],
    fixed: AtomicU32,
}

impl Predictions {
    fn first_batch(&self, l: Loop, max_batch: u32) -> u32 {
        let fixed = self.fixed.load(Ordering::Relaxed);
        if fixed > 0 {
            return fixed;
        }
        let i = l as usize;
        let grown = self.grown[i].load(Ordering::Relaxed);
        if grown > 0 {
            return grown.clamp(2, max_batch);
        }
        match self.ran[i].load(Ordering::Relaxed) {
            0 => FIRST_BATCH.min(max_batch),
            ran => (ran.max(self.before[i].load(Ordering::Relaxed)) + 1).clamp(2, max_batch),
        }
    }

    /// Tests: every batch of every loop `k` sweeps long (`None`: as predicted).
    pub(crate) fn set_fixed(&self, k: Option<u32>) {
        self.fixed.store(k.unwrap_or(0), Ordering::Relaxed);
    }

    /// Whether loop `l` has a prediction from an earlier frame (and no fixed batch size is set).
    fn predicted(&self, l: Loop) -> bool {
        self.fixed.load(Ordering::Relaxed) == 0 && self.ran[l as usize].load(Ordering::Relaxed) > 0
    }

    fn remember(&self, l: Loop, ran: u32) {
        let i = l as usize;
        let last = self.ran[i].swap(ran, Ordering::Relaxed);
        self.before[i].store(last, Ordering::Relaxed);
        self.grown[i].store(0, Ordering::Relaxed);
    }

    /// Loop `l`'s batch fell short: its next one (the frame's rerun) is twice as long.
    fn grow(&self, l: Loop) {
        let batch = 2 * self.first_batch(l, u32::MAX);
        self.grown[l as usize].store(batch, Ordering::Relaxed);
    }

    fn next_batch(&self, k: u32, max_batch: u32) -> u32 {
        if self.fixed.load(Ordering::Relaxed) > 0 {
            k
        } else {
            (2 * k).min(max_batch)
        }
    }
}

/// A standalone sweep's flag buffer (for the single-sweep entry points and their tests): the
/// sweep runs at phase 0 and reports into word 1.
pub fn standalone_flags(ctx: &GpuContext) -> wgpu::Buffer {
    ctx.storage_init("floodseg.sweeps.flags", &FLAGS_INIT)
}

/// What a standalone sweep (phase 0) reported, from its flag buffer's words: [`AGAIN`] and
/// (tiled sweeps) [`CHANGED`] bits, 0 when it changed nothing.
pub fn standalone_report(words: &[u32]) -> u32 {
    words.get(1).copied().unwrap_or(0)
}

/// Run one loop from `cur` (see the module doc): `first` is the first batch's encoder (it may
/// already hold passes, such as the loop's setup and the frame buffers' clears). Returns the
/// buffer holding the fixed point and how the loop ran.
#[allow(clippy::too_many_arguments)]
pub(crate) fn converge<'a>(
    ctx: &GpuContext,
    frame: &mut Frame,
    spec: &LoopSpec,
    first: wgpu::CommandEncoder,
    mut cur: &'a wgpu::Buffer,
    mut next: &'a wgpu::Buffer,
    sweep: &Sweep,
    finish: Option<&Finish>,
) -> Result<(&'a wgpu::Buffer, LoopRun)> {
    let flags = match spec.flags {
        Some(f) => f.clone(),
        None => frame.storage_init(&format!("{}.flags", spec.label), &FLAGS_INIT),
    };
    let mut k = ctx.predictions.first_batch(spec.counter, spec.max_batch);
    let mut run = LoopRun::default();
    let mut phase = 0u32;
    if frame.speculating() && ctx.predictions.predicted(spec.counter) {
        let mut enc = first;
        let span = frame.timer.begin(ctx, &mut enc, spec.stage);
        for _ in 0..k {
            sweep(&mut enc, cur, next, &flags, phase);
            phase = (phase + 1) % 3;
            std::mem::swap(&mut cur, &mut next);
        }
        if let Some(f) = finish {
            f(&mut enc, cur);
        }
        frame.timer.end(ctx, &mut enc, span);
        ctx.submit(spec.label, enc)?;
        counters::count_batch(spec.counter, k);
        frame.pending.push(Pending {
            flags,
            phase,
            counter: spec.counter,
        });
        // `ran` is known once the frame's readback has settled the loop
        run.recorded = k;
        run.batches = 1;
        return Ok((cur, run));
    }
    let mut first = Some(first);
    loop {
        let encoder = first.take().unwrap_or_else(|| ctx.encoder(spec.label));
        let words = ctx.run_and_read_in(frame, spec.label, FLAG_WORDS, encoder, |enc, frame| {
            let span = frame.timer.begin(ctx, enc, spec.stage);
            for _ in 0..k {
                sweep(enc, cur, next, &flags, phase);
                phase = (phase + 1) % 3;
                std::mem::swap(&mut cur, &mut next);
            }
            if let Some(f) = finish {
                f(enc, cur);
            }
            frame.timer.end(ctx, enc, span);
            Ok(flags.clone())
        })?;
        counters::count_batch(spec.counter, k);
        run.recorded += k;
        run.batches += 1;
        run.ran = words[3];
        if words[phase as usize] & AGAIN == 0 {
            ctx.predictions.remember(spec.counter, run.ran);
            return Ok((cur, run));
        }
        if u64::from(run.recorded) > spec.cap {
            return Err(Error::Backend(format!(
                "{}: the loop did not converge in {} sweeps",
                spec.label, run.recorded
            )));
        }
        k = ctx.predictions.next_batch(k, spec.max_batch);
    }
}
