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
//! **Convergence loops** (as the peaks' spacing rounds and the watershed's sweeps): sweeps are
//! recorded [`FIRST_BATCH`] per submission, the batch size doubling up to [`MAX_BATCH`], and a
//! one-`u32` `changed` flag is read back once per batch; a zero flag means the batch's last
//! sweep changed nothing, i.e. the fixed point is reached (the twin's stopping rule; a sweep at
//! the fixed point rewrites its input unchanged, so extra sweeps are no-ops). Where the device
//! allows ([`GpuContext::flag_groups`]) each sweep is an indirect dispatch whose workgroup count
//! is the previous sweep's `changed` flag, so the sweeps after the first one that changes nothing
//! run no workgroup (both ping-pong buffers then hold the fixed point). Otherwise `changed` is
//! cleared before each batch's last sweep and every sweep runs. The first batch of each loop
//! shares its submission with the passes before it (and the first one with the clears of the
//! frame's reused buffers); every batch of the flag loop ends with `maxima_output`, so the marker
//! buffer is complete when the loop stops. Batches are timed as stage `maxima` (see
//! [`crate::gpu::timing::STAGES`]).

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
}

impl From<&MaximaParams> for MaximaUniforms {
    fn from(p: &MaximaParams) -> Self {
        MaximaUniforms {
            width: p.dims.width,
            height: p.dims.height,
            h_half: p.h_half,
            border: p.border,
        }
    }
}

/// Sweeps in the first batch of a convergence loop.
pub const FIRST_BATCH: u32 = 8;
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
    ctx.uniform("floodseg.maxima.params", &MaximaUniforms::from(p))
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

/// One sweep of a loop: `(encoder, input, output, changed flag, indirect arguments)`.
type Sweep<'s> = dyn Fn(
        &mut wgpu::CommandEncoder,
        &wgpu::Buffer,
        &wgpu::Buffer,
        &wgpu::Buffer,
        Option<&wgpu::Buffer>,
    ) + 's;
/// Recorded at the end of every batch, with the buffer holding the batch's last iterate.
type Finish<'s> = dyn Fn(&mut wgpu::CommandEncoder, &wgpu::Buffer) + 's;

/// Run one convergence loop from `cur` (see the module doc). `first` is the encoder of the
/// first batch (holding the passes before the loop). Returns the buffer holding the fixed point
/// and `(sweeps, batches)`.
#[allow(clippy::too_many_arguments)]
fn converge<'a>(
    ctx: &GpuContext,
    frame: &mut Frame,
    what: &str,
    n: usize,
    first: wgpu::CommandEncoder,
    mut cur: &'a wgpu::Buffer,
    mut next: &'a wgpu::Buffer,
    changed: &wgpu::Buffer,
    sweep: &Sweep,
    finish: Option<&Finish>,
) -> Result<(&'a wgpu::Buffer, u32, u32)> {
    let label = format!("floodseg.maxima.{what}");
    // Both loops settle within n sweeps (R values only grow along paths, flags only spread);
    // the cap only turns a broken device into an error instead of an endless loop.
    let cap = n as u64 + 2;
    let flags = ctx.flag_groups(n as u32).map(|groups| {
        (
            frame.flag_init(&format!("{label}.args_a"), &[1, groups, 1]),
            frame.flag_init(&format!("{label}.args_b"), &[0, groups, 1]),
            frame.storage_init(&format!("{label}.args_reset"), &[0, groups, 1]),
        )
    });
    let mut first = Some(first);
    let (mut sweeps, mut batches, mut k) = (0u64, 0u32, FIRST_BATCH);
    loop {
        let encoder = first.take().unwrap_or_else(|| ctx.encoder(&label));
        let c = ctx.run_and_read_in(frame, &label, 1, encoder, |enc, frame| {
            let span = frame.timer.begin(ctx, enc, "maxima");
            let mut flag = changed;
            for s in 0..k {
                match &flags {
                    Some((a, b, reset)) => {
                        let (args, out) = if (sweeps + s as u64).is_multiple_of(2) {
                            (a, b)
                        } else {
                            (b, a)
                        };
                        enc.copy_buffer_to_buffer(reset, 0, out, 0, 12);
                        sweep(enc, cur, next, out, Some(args));
                        flag = out;
                    }
                    None => {
                        if s + 1 == k {
                            enc.clear_buffer(changed, 0, None);
                        }
                        sweep(enc, cur, next, changed, None);
                    }
                }
                std::mem::swap(&mut cur, &mut next);
            }
            if let Some(f) = finish {
                f(enc, cur);
            }
            frame.timer.end(ctx, enc, span);
            Ok(flag.clone())
        })?;
        sweeps += k as u64;
        batches += 1;
        if c.first().copied().unwrap_or(1) == 0 {
            return Ok((cur, sweeps.min(u32::MAX as u64) as u32, batches));
        }
        if sweeps > cap {
            return Err(Error::Backend(format!(
                "{label}: the loop did not converge in {sweeps} sweeps"
            )));
        }
        k = (2 * k).min(MAX_BATCH);
    }
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
    let changed = frame.storage("floodseg.maxima.changed", 1, &mut enc);
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
            enc.copy_buffer_to_buffer(&f, 0, &r_a, 0, 4 * n as u64);
            frame.timer.end(ctx, &mut enc, span);
            let sweep = |e: &mut wgpu::CommandEncoder,
                         rin: &wgpu::Buffer,
                         rout: &wgpu::Buffer,
                         flag: &wgpu::Buffer,
                         args: Option<&wgpu::Buffer>| {
                let b = [&u, fg, &f, rin, rout, flag];
                match args {
                    None => ctx.dispatch(e, &ks.reconstruct, &b, n32),
                    Some(a) => ctx.dispatch_indirect(e, &ks.reconstruct, &b, a),
                }
            };
            let (r, s, b) = converge(
                ctx,
                frame,
                "reconstruct",
                n,
                enc,
                &r_a,
                &r_b,
                &changed,
                &sweep,
                None,
            )?;
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
                 flag: &wgpu::Buffer,
                 args: Option<&wgpu::Buffer>| {
        let b = [&u, fg, v, fin, fout, flag];
        match args {
            None => ctx.dispatch(e, &ks.flag_spread, &b, n32),
            Some(a) => ctx.dispatch_indirect(e, &ks.flag_spread, &b, a),
        }
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
        &changed,
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
