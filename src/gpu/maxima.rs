//! Host side of stage **maxima** (`shaders/maxima.wgsl`; twin [`crate::cpu::maxima`], whose
//! module doc states the rule): marker images for `--markers regional` ([`regional_in`]) and
//! `--markers hmax` ([`hmax_in`]).
//!
//! Passes, in the twin's order ([`crate::cpu::maxima::regional_passes`],
//! [`crate::cpu::maxima::hmax_passes`]):
//! - hmax only: `maxima_height` (*map*) into `f`, a copy of `f` into the first `R` buffer (the
//!   seed), then `maxima_reconstruct` sweeps (*Jacobi*, ping-pong `R` buffers) to the fixed
//!   point;
//! - `maxima_flag_init` (*map*) on `v` = `d2` (regional) or the final `R` (hmax), then
//!   `maxima_flag_spread` sweeps (*Jacobi*, ping-pong flag buffers) to the fixed point, and
//!   `maxima_output` (*map*) into the marker buffer.
//!
//! **Convergence loops** ([`super::sweeps`], as the peaks' spacing rounds and the watershed's
//! sweeps): batches of sweeps, one dispatch each, the loop's flag buffer read back after each;
//! the sweeps after the first that changes nothing return at once (a sweep at the fixed point
//! rewrites its input unchanged: the twin's stopping rule). The first batch of each loop shares
//! its submission with the passes before it (and the first one with the clears of the frame's
//! reused buffers); every batch of the flag loop ends with `maxima_output`, so the marker buffer
//! is complete when the loop stops. Batches double up to [`MAX_BATCH`] and are timed as stage
//! `maxima` (see [`crate::gpu::timing::STAGES`]).

use bytemuck::{Pod, Zeroable};

use super::frame::Frame;
use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::maxima::MaximaParams;
use crate::error::{Error, Result};

/// Uniforms of every maxima pass. Keep in sync with `struct MaximaParams` in
/// `shaders/maxima.wgsl` (twin: [`MaximaParams`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct MaximaUniforms {
    pub width: u32,
    pub height: u32,
    pub h_half: u32,
    pub border: u32,
    /// The sweep's phase in its loop ([`super::sweeps`]; 0 in the other passes).
    pub phase: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

impl From<&MaximaParams> for MaximaUniforms {
    fn from(p: &MaximaParams) -> Self {
        MaximaUniforms {
            width: p.dims.width,
            height: p.dims.height,
            h_half: p.h_half,
            border: p.border,
            phase: 0,
            _pad0: 0,
            _pad1: 0,
            _pad2: 0,
        }
    }
}

/// Most sweeps in one batch (the batch size doubles up to this).
pub const MAX_BATCH: u32 = 256;

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[
    // params, fg, d2, f
    ("maxima_height", &[Uniform, Read, Read, ReadWrite]),
    // params, fg, f, r_in, r_out, changed
    (
        "maxima_reconstruct",
        &[Uniform, Read, Read, Read, ReadWrite, ReadWrite],
    ),
    // params, fg, v, flag
    ("maxima_flag_init", &[Uniform, Read, Read, ReadWrite]),
    // params, fg, v, flag_in, flag_out, changed
    (
        "maxima_flag_spread",
        &[Uniform, Read, Read, Read, ReadWrite, ReadWrite],
    ),
    // params, fg, flag, markers
    ("maxima_output", &[Uniform, Read, Read, ReadWrite]),
];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub height: Kernel,
    pub reconstruct: Kernel,
    pub flag_init: Kernel,
    pub flag_spread: Kernel,
    pub output: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "maxima", crate::shaders::MAXIMA);
        let k = |entry: &str| kernel(device, &m, "maxima", ENTRY_POINTS, entry);
        Kernels {
            height: k("maxima_height"),
            reconstruct: k("maxima_reconstruct"),
            flag_init: k("maxima_flag_init"),
            flag_spread: k("maxima_flag_spread"),
            output: k("maxima_output"),
        }
    }
}

/// The uniform buffer of the maxima passes.
pub fn params_buffer(ctx: &GpuContext, p: &MaximaParams) -> wgpu::Buffer {
    phase_buffer(ctx, p, 0)
}

/// The uniforms of a sweep of phase `phase` ([`super::sweeps`]).
fn phase_buffer(ctx: &GpuContext, p: &MaximaParams, phase: u32) -> wgpu::Buffer {
    let u = MaximaUniforms {
        phase,
        ..MaximaUniforms::from(p)
    };
    ctx.uniform("floodseg.maxima.params", &u)
}

/// How much work a marker image took: sweeps recorded and batches submitted (one flag readback
/// each) by the reconstruction loop (hmax only) and by the flag loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MaximaStats {
    pub reconstruct_sweeps: u32,
    pub reconstruct_batches: u32,
    pub flag_sweeps: u32,
    pub flag_batches: u32,
}

/// Run one of the stage's loops (see the module doc); `first` is the first batch's encoder.
/// Returns the buffer holding the fixed point and `(sweeps, batches)`.
#[allow(clippy::too_many_arguments)]
fn converge<'a>(
    ctx: &GpuContext,
    frame: &mut Frame,
    what: &str,
    n: usize,
    first: wgpu::CommandEncoder,
    cur: &'a wgpu::Buffer,
    next: &'a wgpu::Buffer,
    sweep: &super::sweeps::Sweep,
    finish: Option<&super::sweeps::Finish>,
) -> Result<(&'a wgpu::Buffer, u32, u32)> {
    let label = format!("floodseg.maxima.{what}");
    // Both loops settle within n sweeps (R values only grow along paths, flags only spread);
    // the cap only turns a broken device into an error instead of an endless loop.
    let spec = super::sweeps::LoopSpec {
        counter: super::counters::Loop::Maxima,
        label: &label,
        stage: "maxima",
        max_batch: MAX_BATCH,
        cap: n as u64 + 2,
        flags: None,
    };
    let (fixed, run) = super::sweeps::converge(ctx, frame, &spec, first, cur, next, sweep, finish)?;
    Ok((fixed, run.recorded, run.batches))
}

/// Check the image fits the device (it must not be empty).
fn check_params(ctx: &GpuContext, p: &MaximaParams) -> Result<()> {
    ctx.check_size(p.dims.width as usize, p.dims.height as usize)
}

/// Which marker image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Regional,
    Hmax,
}

/// The whole stage in `frame` (its pooled buffers and timer): the marker buffer and the loop
/// counts.
fn markers_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    p: &MaximaParams,
    fg: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    mode: Mode,
) -> Result<(wgpu::Buffer, MaximaStats)> {
    check_params(ctx, p)?;
    let n = p.dims.len();
    let n32 = n as u32;
    let u = params_buffer(ctx, p);
    let ks = &ctx.kernels.maxima;
    let mut stats = MaximaStats::default();
    // The first encoder also clears the frame's reused buffers.
    let mut enc = ctx.encoder("floodseg.maxima");
    let flag_a = frame.storage("floodseg.maxima.flag_a", n, &mut enc);
    let flag_b = frame.storage("floodseg.maxima.flag_b", n, &mut enc);
    let out = frame.storage("floodseg.maxima.markers", n, &mut enc);
    let r_bufs;
    let v: &wgpu::Buffer = match mode {
        Mode::Regional => d2,
        Mode::Hmax => {
            let f = frame.storage("floodseg.maxima.f", n, &mut enc);
            let r_a = frame.storage("floodseg.maxima.r_a", n, &mut enc);
            let r_b = frame.storage("floodseg.maxima.r_b", n, &mut enc);
            let span = frame.timer.begin(ctx, &mut enc, "maxima");
            ctx.dispatch(&mut enc, &ks.height, &[&u, fg, d2, &f], n32);
            ctx.copy(&mut enc, &f, 0, &r_a, 0, 4 * n as u64);
            frame.timer.end(ctx, &mut enc, span);
            let sweep = |e: &mut wgpu::CommandEncoder,
                         rin: &wgpu::Buffer,
                         rout: &wgpu::Buffer,
                         flags: &wgpu::Buffer,
                         phase: u32| {
                let up = phase_buffer(ctx, p, phase);
                ctx.dispatch(e, &ks.reconstruct, &[&up, fg, &f, rin, rout, flags], n32);
            };
            let (r, s, b) = converge(ctx, frame, "reconstruct", n, enc, &r_a, &r_b, &sweep, None)?;
            stats.reconstruct_sweeps = s;
            stats.reconstruct_batches = b;
            enc = ctx.encoder("floodseg.maxima");
            let r_is_a = std::ptr::eq(r, &r_a);
            r_bufs = if r_is_a { r_a } else { r_b };
            &r_bufs
        }
    };
    let span = frame.timer.begin(ctx, &mut enc, "maxima");
    ctx.dispatch(&mut enc, &ks.flag_init, &[&u, fg, v, &flag_a], n32);
    frame.timer.end(ctx, &mut enc, span);
    let sweep = |e: &mut wgpu::CommandEncoder,
                 fin: &wgpu::Buffer,
                 fout: &wgpu::Buffer,
                 flags: &wgpu::Buffer,
                 phase: u32| {
        let up = phase_buffer(ctx, p, phase);
        ctx.dispatch(e, &ks.flag_spread, &[&up, fg, v, fin, fout, flags], n32);
    };
    let finish = |e: &mut wgpu::CommandEncoder, flag: &wgpu::Buffer| {
        ctx.dispatch(e, &ks.output, &[&u, fg, flag, &out], n32);
    };
    let (_, s, b) = converge(
        ctx,
        frame,
        "flags",
        n,
        enc,
        &flag_a,
        &flag_b,
        &sweep,
        Some(&finish),
    )?;
    stats.flag_sweeps = s;
    stats.flag_batches = b;
    Ok((out, stats))
}

/// The regional-maxima markers (twin [`crate::cpu::maxima::regional_passes`], equal to
/// [`crate::cpu::maxima::regional`]) of `d2` on `fg` (device buffers of one `u32` per pixel), in
/// a new buffer of `frame` (0/1, one `u32` per pixel). Submits one batch of flag sweeps at a
/// time and reads back only the `changed` flag (see the module doc).
pub fn regional_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    p: &MaximaParams,
    fg: &wgpu::Buffer,
    d2: &wgpu::Buffer,
) -> Result<wgpu::Buffer> {
    markers_in(ctx, frame, p, fg, d2, Mode::Regional).map(|(b, _)| b)
}

/// The h-maxima markers (twin [`crate::cpu::maxima::hmax_passes`], equal to
/// [`crate::cpu::maxima::hmax`]), as [`regional_in`]: the reconstruction loop, then the flag
/// loop.
pub fn hmax_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    p: &MaximaParams,
    fg: &wgpu::Buffer,
    d2: &wgpu::Buffer,
) -> Result<wgpu::Buffer> {
    markers_in(ctx, frame, p, fg, d2, Mode::Hmax).map(|(b, _)| b)
}

fn check_len(what: &str, got: usize, p: &MaximaParams) -> Result<()> {
    if got != p.dims.len() {
        return Err(Error::BadData(format!(
            "{got} {what} pixels for {}×{}",
            p.dims.width, p.dims.height
        )));
    }
    Ok(())
}

/// Upload, run, read back: the marker image and the loop counts.
fn run(
    ctx: &GpuContext,
    p: &MaximaParams,
    fg: &[u32],
    d2: &[u32],
    mode: Mode,
) -> Result<(Vec<u32>, MaximaStats)> {
    check_params(ctx, p)?;
    check_len("fg", fg.len(), p)?;
    check_len("d2", d2.len(), p)?;
    let f = ctx.storage_init("floodseg.maxima.fg", fg);
    let d = ctx.storage_init("floodseg.maxima.d2", d2);
    let mut frame = Frame::detached(ctx);
    let (out, stats) = markers_in(ctx, &mut frame, p, &f, &d, mode)?;
    let v = ctx.run_and_read("floodseg.maxima.read", p.dims.len(), |_| Ok(out))?;
    Ok((v, stats))
}

/// Upload `fg` and `d2`, compute the regional-maxima markers and read them back.
pub fn regional(ctx: &GpuContext, p: &MaximaParams, fg: &[u32], d2: &[u32]) -> Result<Vec<u32>> {
    run(ctx, p, fg, d2, Mode::Regional).map(|(v, _)| v)
}

/// Upload `fg` and `d2`, compute the h-maxima markers and read them back.
pub fn hmax(ctx: &GpuContext, p: &MaximaParams, fg: &[u32], d2: &[u32]) -> Result<Vec<u32>> {
    run(ctx, p, fg, d2, Mode::Hmax).map(|(v, _)| v)
}

/// As [`regional`], also returning the loop counts.
pub fn regional_counted(
    ctx: &GpuContext,
    p: &MaximaParams,
    fg: &[u32],
    d2: &[u32],
) -> Result<(Vec<u32>, MaximaStats)> {
    run(ctx, p, fg, d2, Mode::Regional)
}

/// As [`hmax`], also returning the loop counts.
pub fn hmax_counted(
    ctx: &GpuContext,
    p: &MaximaParams,
    fg: &[u32],
    d2: &[u32],
) -> Result<(Vec<u32>, MaximaStats)> {
    run(ctx, p, fg, d2, Mode::Hmax)
}
