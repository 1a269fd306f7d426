//! Host side of stage **peaks** (`shaders/peaks.wgsl`; twin [`crate::cpu::peaks`]).
//!
//! Passes, in the twin's order ([`crate::cpu::peaks::peaks_rounds`]):
//! `peaks_bounds` (*order-free reduction*: atomicMin/atomicMax into the twin's 5 bounds words of
//! a buffer initialised to [`BOUNDS_BUFFER_INIT`], from word [`BOUNDS_AT`]), `peaks_max_rows`, `peaks_candidates` (*map* + an atomicOr
//! flag; it takes the window's column half of the maximum itself), `peaks_isolated_open` (the
//! trivial image's opening and its isolated candidates in one pass), then `peaks_space` rounds
//! (*Jacobi*, ping-pong state buffers), whose last state buffer is the output (kept 1, else 0:
//! [`crate::cpu::peaks::STATE_KEPT`]).
//!
//! The ROI never comes back to the host: every pass after `peaks_bounds` reads it from the
//! `bounds` storage buffer, and the twin's host-side decisions are taken on the device:
//! - empty ROI (the twin returns zeros early): every pass then finds no pixel in the ROI, so
//!   `state` stays all `STATE_NONE` and the output all 0 — the same result;
//! - `all_are_candidates` is computed by `peaks_candidates` and `peaks_isolated_open` from
//!   `bounds`;
//! - the "trivial image" branch (`flag == 0 && !all_are_candidates`): `peaks_isolated_open`
//!   always runs but overwrites `state` only under that condition (it reads `flag` as an extra
//!   binding), and computes the twin's opening of the ROI (`cpu::opening::erode`/`dilate` with
//!   `MorphParams::new(dims, roi_of(&bounds), Structure::Cross)`) at each pixel it decides: the
//!   pixel is opened away when neither it nor a 4-neighbour survives the erosion.
//!
//! Spacing rounds: a convergence loop ([`super::sweeps`]) of `peaks_space_tile` sweeps (each
//! 16 × 16 tile runs rounds in workgroup memory until it settles, so a chain of decisions inside
//! a tile costs one sweep; the bench frame's walk takes 2 sweeps instead of 5 rounds), in
//! batches, one dispatch each, the loop's flag buffer read back after each. The loop ends in
//! the sweep after which no decision is waited for across tiles ([`super::sweeps`], "Tiled
//! sweeps"); later sweeps copy or return at once, so the buffer of the batch's last sweep holds
//! the result once the loop stops. Batches double up to [`ROUNDS_MAX_BATCH`].

use bytemuck::{Pod, Zeroable};

use super::frame::Frame;
use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::peaks::{PeaksParams, BOUNDS_INIT};
use crate::error::{Error, Result};

/// Uniforms of every peaks pass. Keep in sync with `struct PeaksParams` in `shaders/peaks.wgsl`
/// (twin: [`PeaksParams`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct PeaksUniforms {
    pub width: u32,
    pub height: u32,
    pub min_distance: u32,
    pub footprint: u32,
    /// `exclude_border` B (the ROI's border; `min_distance` is the spacing only).
    pub border: u32,
    /// The spacing round's phase in its loop ([`super::sweeps`]; 0 in the other passes).
    pub phase: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

impl From<&PeaksParams> for PeaksUniforms {
    fn from(p: &PeaksParams) -> Self {
        PeaksUniforms {
            width: p.dims.width,
            height: p.dims.height,
            min_distance: p.min_distance,
            footprint: p.footprint,
            border: p.border,
            phase: 0,
            _pad1: 0,
            _pad2: 0,
        }
    }
}

/// Largest number of spacing sweeps per submission (the batch size doubles up to it).
pub const ROUNDS_MAX_BATCH: u32 = 256;

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[
    ("peaks_bounds", &[Uniform, Read, Read, ReadWrite, ReadWrite]),
    ("peaks_max_rows", &[Uniform, Read, Read, Read, ReadWrite]),
    (
        "peaks_candidates",
        &[Uniform, Read, Read, Read, Read, ReadWrite, ReadWrite],
    ),
    (
        "peaks_isolated_open",
        &[Uniform, Read, Read, Read, ReadWrite, Read, ReadWrite],
    ),
    ("peaks_space", &[Uniform, Read, Read, ReadWrite, ReadWrite]),
    (
        "peaks_space_tile",
        &[Uniform, Read, Read, ReadWrite, ReadWrite],
    ),
];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub bounds: Kernel,
    pub max_rows: Kernel,
    pub candidates: Kernel,
    pub isolated_open: Kernel,
    pub space: Kernel,
    pub space_tile: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "peaks", crate::shaders::PEAKS);
        let k = |entry: &str| kernel(device, &m, "peaks", ENTRY_POINTS, entry);
        Kernels {
            bounds: k("peaks_bounds"),
            max_rows: k("peaks_max_rows"),
            candidates: k("peaks_candidates"),
            isolated_open: k("peaks_isolated_open"),
            space: k("peaks_space"),
            space_tile: k("peaks_space_tile"),
        }
    }
}

/// The uniform buffer of the peaks passes.
pub fn params_buffer(ctx: &GpuContext, p: &PeaksParams) -> wgpu::Buffer {
    phase_buffer(ctx, p, 0)
}

/// The uniforms of a spacing round of phase `phase` ([`super::sweeps`]).
fn phase_buffer(ctx: &GpuContext, p: &PeaksParams, phase: u32) -> wgpu::Buffer {
    let u = PeaksUniforms {
        phase,
        ..PeaksUniforms::from(p)
    };
    ctx.uniform("floodseg.peaks.params", &u)
}

/// Where the twin's bounds ([`BOUNDS_INIT`], `[y0, x0, y1, x1, dmin]`) begin in a bounds buffer
/// (`BOUNDS_AT` in `shaders/peaks.wgsl`). The word before them is the caller's: the stage
/// neither reads nor writes it, and `backend::gpu` keeps the threshold's mask count there, so
/// one staged write prepares both accumulators of a frame.
pub const BOUNDS_AT: usize = 1;

/// What a bounds buffer holds before `peaks_bounds`: 0 in the caller's word, then
/// [`BOUNDS_INIT`].
pub const BOUNDS_BUFFER_INIT: [u32; BOUNDS_AT + 5] = {
    let mut w = [0u32; BOUNDS_AT + 5];
    let mut k = 0;
    while k < 5 {
        w[BOUNDS_AT + k] = BOUNDS_INIT[k];
        k += 1;
    }
    w
};

/// A bounds buffer holding [`BOUNDS_BUFFER_INIT`] (ready for `peaks_bounds`).
pub fn bounds_buffer(ctx: &GpuContext) -> wgpu::Buffer {
    ctx.storage_init("floodseg.peaks.bounds", &BOUNDS_BUFFER_INIT)
}

fn n_of(p: &PeaksParams) -> u32 {
    p.dims.len() as u32
}

/// Entry point `peaks_bounds` (twin [`crate::cpu::peaks::peaks_bounds`]): reduces into
/// `bounds` (words [`BOUNDS_AT`]`..+5`), which must hold [`BOUNDS_BUFFER_INIT`] beforehand
/// ([`bounds_buffer`]) or bounds this pass already reduced from the same inputs (the reduction
/// is idempotent); `flag` (one word, [`peaks_candidates`]'s) is set to 0.
pub fn peaks_bounds(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &PeaksParams,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    bounds: &wgpu::Buffer,
    flag: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.peaks.bounds;
    ctx.dispatch(encoder, k, &[&u, mask, d2, bounds, flag], n_of(p));
}

/// Entry point `peaks_max_rows` (twin [`crate::cpu::peaks::peaks_max_rows`]).
pub fn peaks_max_rows(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &PeaksParams,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    bounds: &wgpu::Buffer,
    hmax: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.peaks.max_rows;
    ctx.dispatch(encoder, k, &[&u, mask, d2, bounds, hmax], n_of(p));
}

/// Entry point `peaks_candidates` (twin [`crate::cpu::peaks::peaks_candidates`]) from the row
/// maxima `hmax`; `flag` (one `u32`) must be 0 beforehand.
#[allow(clippy::too_many_arguments)]
pub fn peaks_candidates(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &PeaksParams,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    hmax: &wgpu::Buffer,
    bounds: &wgpu::Buffer,
    state: &wgpu::Buffer,
    flag: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.peaks.candidates;
    ctx.dispatch(
        encoder,
        k,
        &[&u, mask, d2, hmax, bounds, state, flag],
        n_of(p),
    );
}

/// Entry point `peaks_isolated_open` (twin [`crate::cpu::peaks::peaks_isolated_open`]): the
/// ROI's opening (the cross, once, inside the ROI in `bounds`) computed around each pixel and
/// [`crate::cpu::peaks::peaks_isolated`] in one pass, with the twin's condition (`flag == 0 &&
/// !all_are_candidates`) checked on the device: otherwise `state` is left unchanged.
/// `loop_flags` ([`super::sweeps::FLAG_WORDS`] words) is set to the spacing loop's start.
#[allow(clippy::too_many_arguments)]
pub fn peaks_isolated_open(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &PeaksParams,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    bounds: &wgpu::Buffer,
    state: &wgpu::Buffer,
    flag: &wgpu::Buffer,
    loop_flags: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.peaks.isolated_open;
    let b = [&u, mask, d2, bounds, state, flag, loop_flags];
    ctx.dispatch(encoder, k, &b, n_of(p));
}

/// Entry point `peaks_space` (twin [`crate::cpu::peaks::peaks_space`]): one round. `changed`
/// is a standalone sweep's flag buffer ([`super::sweeps::standalone_flags`]): the round runs
/// and ORs 1 into its word 1 when it decides some candidate.
pub fn peaks_space(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &PeaksParams,
    d2: &wgpu::Buffer,
    state_in: &wgpu::Buffer,
    state_out: &wgpu::Buffer,
    changed: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.peaks.space;
    ctx.dispatch(encoder, k, &[&u, d2, state_in, state_out, changed], n_of(p));
}

/// Entry point `peaks_space_tile` (twin [`crate::cpu::peaks::peaks_space_tile`]): one sweep of
/// rounds in 16 × 16 tiles (each iterated in workgroup memory). `changed` is a standalone sweep's
/// flag buffer ([`super::sweeps::standalone_flags`]): the sweep runs and reports its
/// [`super::sweeps::AGAIN`] / [`super::sweeps::CHANGED`] bits into word 1.
pub fn peaks_space_tile(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &PeaksParams,
    d2: &wgpu::Buffer,
    state_in: &wgpu::Buffer,
    state_out: &wgpu::Buffer,
    changed: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.peaks.space_tile;
    let b = [&u, d2, state_in, state_out, changed];
    ctx.dispatch_groups(encoder, k, &b, super::watershed::tile_groups(p.dims));
}

/// Check the parameters the passes rely on (`footprint >= 1`, the image fits the device).
fn check_params(ctx: &GpuContext, p: &PeaksParams) -> Result<()> {
    if p.footprint == 0 {
        return Err(Error::param("--footprint", "must be at least 1"));
    }
    ctx.check_size(p.dims.width as usize, p.dims.height as usize)
}

/// The whole peaks stage (twin [`crate::cpu::peaks::peaks_rounds`], equal to
/// [`crate::cpu::peaks::peaks`]): the 0/1 peaks of `d2` on `mask`, in a new buffer of one `u32`
/// per pixel. Submits one batch of spacing sweeps at a time and reads back only the `changed`
/// flag (see the module doc).
pub fn peaks(
    ctx: &GpuContext,
    p: &PeaksParams,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
) -> Result<wgpu::Buffer> {
    peaks_counted(ctx, p, mask, d2).map(|(out, _)| out)
}

/// As [`peaks`], also returning the number of submissions (batches of spacing sweeps) it took.
pub fn peaks_counted(
    ctx: &GpuContext,
    p: &PeaksParams,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
) -> Result<(wgpu::Buffer, u32)> {
    peaks_in(ctx, &mut Frame::detached(ctx), p, mask, d2, None)
}

/// As [`peaks_counted`], in `frame` (its buffers; every batch timed as stage `peaks`).
/// `bounds`: a bounds buffer the caller prepared (see [`peaks_bounds`]: holding
/// [`BOUNDS_BUFFER_INIT`], or reduced before by a run with the same `p`, `mask` and `d2`);
/// `None`: one of the frame's, written here.
pub(crate) fn peaks_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    p: &PeaksParams,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    bounds: Option<&wgpu::Buffer>,
) -> Result<(wgpu::Buffer, u32)> {
    check_params(ctx, p)?;
    let n = p.dims.len();
    let u = params_buffer(ctx, p);
    let mut enc = ctx.encoder("floodseg.peaks");
    let bounds = match bounds {
        Some(b) => b.clone(),
        None => frame.storage_init("floodseg.peaks.bounds", &BOUNDS_BUFFER_INIT),
    };
    let hmax = frame.scratch("floodseg.peaks.hmax", n);
    let state_a = frame.scratch("floodseg.peaks.state_a", n);
    let state_b = frame.scratch("floodseg.peaks.state_b", n);
    // zeroed by peaks_bounds
    let flag = frame.scratch("floodseg.peaks.flag", 1);
    let loop_flags = frame.scratch("floodseg.peaks.flags", super::sweeps::FLAG_WORDS);

    // The rounds' cap: each round decides at least the highest-priority undecided candidate.
    let max_rounds = n as u64 + 2;
    let ks = &ctx.kernels.peaks;
    let np = n_of(p);
    let (cur, next) = (&state_a, &state_b);
    let span = frame.timer.begin(ctx, &mut enc, "peaks");
    ctx.dispatch(&mut enc, &ks.bounds, &[&u, mask, d2, &bounds, &flag], np);
    ctx.dispatch(&mut enc, &ks.max_rows, &[&u, mask, d2, &bounds, &hmax], np);
    let cand = [&u, mask, d2, &hmax, &bounds, cur, &flag];
    ctx.dispatch(&mut enc, &ks.candidates, &cand, np);
    // the trivial image: its ROI opening, computed in the same pass
    let iso = [&u, mask, d2, &bounds, cur, &flag, &loop_flags];
    ctx.dispatch(&mut enc, &ks.isolated_open, &iso, np);
    frame.timer.end(ctx, &mut enc, span);
    let round = |enc: &mut wgpu::CommandEncoder,
                 sin: &wgpu::Buffer,
                 sout: &wgpu::Buffer,
                 flags: &wgpu::Buffer,
                 phase: u32| {
        let up = phase_buffer(ctx, p, phase);
        let b = [&up, d2, sin, sout, flags];
        ctx.dispatch_groups(
            enc,
            &ks.space_tile,
            &b,
            super::watershed::tile_groups(p.dims),
        );
    };
    let spec = super::sweeps::LoopSpec {
        counter: super::counters::Loop::Peaks,
        label: "floodseg.peaks",
        stage: "peaks",
        max_batch: ROUNDS_MAX_BATCH,
        cap: max_rounds,
        flags: Some(&loop_flags),
    };
    // the last round's states are the 0/1 peaks
    let (out, run) = super::sweeps::converge(ctx, frame, &spec, enc, cur, next, &round, None)?;
    Ok((out.clone(), run.batches))
}

fn check_len(what: &str, got: usize, p: &PeaksParams) -> Result<()> {
    if got != p.dims.len() {
        return Err(Error::BadData(format!(
            "{got} {what} pixels for {}×{}",
            p.dims.width, p.dims.height
        )));
    }
    Ok(())
}

/// Upload `mask` and `d2`, run the peaks stage and read the 0/1 peaks back.
pub fn run_peaks(ctx: &GpuContext, p: &PeaksParams, mask: &[u32], d2: &[u32]) -> Result<Vec<u32>> {
    run_peaks_counted(ctx, p, mask, d2).map(|(v, _)| v)
}

/// As [`run_peaks`], also returning the number of batches of spacing sweeps.
pub fn run_peaks_counted(
    ctx: &GpuContext,
    p: &PeaksParams,
    mask: &[u32],
    d2: &[u32],
) -> Result<(Vec<u32>, u32)> {
    check_params(ctx, p)?;
    check_len("mask", mask.len(), p)?;
    check_len("d2", d2.len(), p)?;
    let m = ctx.storage_init("floodseg.peaks.mask", mask);
    let d = ctx.storage_init("floodseg.peaks.d2", d2);
    let (out, batches) = peaks_counted(ctx, p, &m, &d)?;
    let v = ctx.run_and_read("floodseg.peaks.read", p.dims.len(), |_| Ok(out))?;
    Ok((v, batches))
}
