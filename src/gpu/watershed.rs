//! Host side of stage **watershed** (`shaders/watershed.wgsl`; twin [`crate::cpu::watershed`]).
//! Class: *monotone relaxation* — the same iterates as
//! [`crate::cpu::watershed::watershed_jacobi`]: [`ws_init`], then [`ws_cost_tile`] sweeps until
//! no cost changes (each 16 × 16 tile iterated in workgroup memory, so a flood crosses a tile per
//! sweep: on an H100 a sweep costs tens of µs whatever the image's size, so fewer sweeps is what
//! counts; the fixed point is the same unique smallest cost as [`ws_cost`]'s Jacobi sweeps,
//! docs/design.md, stage 7), then [`ws_label_init`], [`ws_label_tile`] sweeps (the same tiles for
//! [`ws_label`]'s rule) until no label or predecessor changes, then [`ws_output`].
//!
//! **Packing.** A stage may bind at most 8 storage buffers and the twin's `ws_label` takes 10,
//! so a cost `(m, hops)` is stored as one `vec2<u32>` per pixel (buffers of `2 × pixels` `u32`:
//! `[m0, h0, m1, h1, …]`; twin: `cost_m[i]`, `cost_h[i]`), and so is a pixel's label state
//! `(label, pred)` (twin: `label[i]`, `pred[i]`). Bindings follow the twin's parameters with each
//! pair folded into one; [`ws_output`] unpacks the labels into a plain `u32` buffer.
//!
//! **Convergence loop.** Each batch records `K` sweeps (ping-pong buffers) into one command
//! buffer, copies the last sweep's "changed" flag to a readback buffer and submits; a zero flag
//! means the last sweep changed nothing, i.e. the fixed point is reached. `K` starts at
//! [`FIRST_BATCH`] and doubles up to [`MAX_BATCH`], so long floods cost few round trips. Where
//! the device allows, every sweep is an indirect dispatch whose workgroup count is the previous
//! sweep's flag, so the sweeps after convergence run no workgroup and overshooting the fixed
//! point costs (almost) nothing (see `converge`); otherwise the one-`u32` flag is cleared right
//! before the batch's last sweep and every sweep runs.

use bytemuck::{Pod, Zeroable};

use super::frame::Frame;
use super::{kernel, scoped, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::watershed::{AltitudeParams, WsParams};
use crate::cpu::Dims;
use crate::error::{Error, Result};

/// Uniforms of every watershed pass. Keep in sync with `struct WsParams` in
/// `shaders/watershed.wgsl` (twin: [`WsParams`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct WsUniforms {
    pub width: u32,
    pub height: u32,
    /// `ws_altitude` only ([`AltitudeParams`]): 1 for dark objects (0 in the other passes).
    pub alt_dark: u32,
    /// `ws_altitude` only: the scale's largest key.
    pub alt_key_max: u32,
}

impl From<&WsParams> for WsUniforms {
    fn from(p: &WsParams) -> Self {
        WsUniforms {
            width: p.dims.width,
            height: p.dims.height,
            alt_dark: 0,
            alt_key_max: 0,
        }
    }
}

impl From<&AltitudeParams> for WsUniforms {
    fn from(p: &AltitudeParams) -> Self {
        WsUniforms {
            width: p.dims.width,
            height: p.dims.height,
            alt_dark: p.dark as u32,
            alt_key_max: p.key_max,
        }
    }
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`). Binding `i` is twin parameter `i` with `(cost_m, cost_h)` and
/// `(label, pred)` each folded into one `vec2<u32>` binding (see the module doc).
pub const ENTRY_POINTS: &[EntryPoint] = &[
    // params, mask, keys, alt
    ("ws_altitude", &[Uniform, Read, Read, ReadWrite]),
    // params, markers, d2, cost
    ("ws_init", &[Uniform, Read, Read, ReadWrite]),
    // params, mask, d2, cost_in, cost_out, changed
    (
        "ws_cost",
        &[Uniform, Read, Read, Read, ReadWrite, ReadWrite],
    ),
    // params, mask, d2, cost_in, cost_out, changed (tiles of 16 × 16, see `ws_cost_tile`)
    (
        "ws_cost_tile",
        &[Uniform, Read, Read, Read, ReadWrite, ReadWrite],
    ),
    // params, markers, lp
    ("ws_label_init", &[Uniform, Read, ReadWrite]),
    // params, markers, mask, d2, cost, lp_in, lp_out, changed
    (
        "ws_label",
        &[Uniform, Read, Read, Read, Read, Read, ReadWrite, ReadWrite],
    ),
    // params, markers, mask, d2, cost, lp_in, lp_out, changed (tiles, as `ws_cost_tile`)
    (
        "ws_label_tile",
        &[Uniform, Read, Read, Read, Read, Read, ReadWrite, ReadWrite],
    ),
    // params, lp, label
    ("ws_output", &[Uniform, Read, ReadWrite]),
];

/// Sweeps in the first batch of a convergence loop.
pub const FIRST_BATCH: u32 = 8;
/// Most sweeps in one batch (the batch size doubles up to this).
pub const MAX_BATCH: u32 = 64;

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub ws_altitude: Kernel,
    pub ws_init: Kernel,
    pub ws_cost: Kernel,
    pub ws_cost_tile: Kernel,
    pub ws_label_init: Kernel,
    pub ws_label: Kernel,
    pub ws_label_tile: Kernel,
    pub ws_output: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "watershed", crate::shaders::WATERSHED);
        let k = |entry: &str| kernel(device, &m, "watershed", ENTRY_POINTS, entry);
        Kernels {
            ws_altitude: k("ws_altitude"),
            ws_init: k("ws_init"),
            ws_cost: k("ws_cost"),
            ws_cost_tile: k("ws_cost_tile"),
            ws_label_init: k("ws_label_init"),
            ws_label: k("ws_label"),
            ws_label_tile: k("ws_label_tile"),
            ws_output: k("ws_output"),
        }
    }
}

fn params_buffer(ctx: &GpuContext, p: &WsParams) -> wgpu::Buffer {
    ctx.uniform("floodseg.watershed.params", &WsUniforms::from(p))
}

/// Entry point `ws_altitude` (twin [`crate::cpu::watershed::ws_altitude`]): the flood keys of
/// `--flood intensity` into `alt`.
pub fn ws_altitude(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &AltitudeParams,
    mask: &wgpu::Buffer,
    keys: &wgpu::Buffer,
    alt: &wgpu::Buffer,
) {
    let u = ctx.uniform("floodseg.watershed.altitude", &WsUniforms::from(p));
    let k = &ctx.kernels.watershed.ws_altitude;
    ctx.dispatch(encoder, k, &[&u, mask, keys, alt], p.dims.len() as u32);
}

/// Entry point `ws_init` (twin [`crate::cpu::watershed::ws_init`]); `cost` holds `2 × pixels`
/// `u32` (packed `(m, hops)`).
pub fn ws_init(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &WsParams,
    markers: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    cost: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.watershed.ws_init;
    ctx.dispatch(encoder, k, &[&u, markers, d2, cost], p.dims.len() as u32);
}

/// Entry point `ws_cost` (twin [`crate::cpu::watershed::ws_cost`]): one Jacobi sweep from
/// `cost_in` to `cost_out` (packed `(m, hops)`); sets `changed[0] |= 1` on any change.
#[allow(clippy::too_many_arguments)]
pub fn ws_cost(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &WsParams,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    cost_in: &wgpu::Buffer,
    cost_out: &wgpu::Buffer,
    changed: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.watershed.ws_cost;
    let b = [&u, mask, d2, cost_in, cost_out, changed];
    ctx.dispatch(encoder, k, &b, p.dims.len() as u32);
}

/// Workgroups of a [`ws_cost_tile`] sweep over `dims`: `(1, tiles across, tiles down)`.
pub fn tile_groups(dims: Dims) -> [u32; 3] {
    let t = crate::cpu::watershed::TILE as u32;
    [1, dims.width.div_ceil(t), dims.height.div_ceil(t)]
}

/// Entry point `ws_cost_tile` (twin [`crate::cpu::watershed::ws_cost_tile`]): one sweep of the
/// cost relaxation in 16 × 16 tiles (each iterated in workgroup memory) from `cost_in` to
/// `cost_out`; sets `changed[0] |= 1` on any change.
#[allow(clippy::too_many_arguments)]
pub fn ws_cost_tile(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &WsParams,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    cost_in: &wgpu::Buffer,
    cost_out: &wgpu::Buffer,
    changed: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.watershed.ws_cost_tile;
    let b = [&u, mask, d2, cost_in, cost_out, changed];
    ctx.dispatch_groups(encoder, k, &b, tile_groups(p.dims));
}

/// Entry point `ws_label_init` (twin [`crate::cpu::watershed::ws_label_init`]); `lp` holds
/// `2 × pixels` `u32` (packed `(label, pred)`).
pub fn ws_label_init(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &WsParams,
    markers: &wgpu::Buffer,
    lp: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.watershed.ws_label_init;
    ctx.dispatch(encoder, k, &[&u, markers, lp], p.dims.len() as u32);
}

/// Entry point `ws_label` (twin [`crate::cpu::watershed::ws_label`]): one Jacobi sweep of the
/// best-predecessor relaxation from `lp_in` to `lp_out` (packed `(label, pred)`) on the final
/// costs `cost`; sets `changed[0] |= 1` on any change.
#[allow(clippy::too_many_arguments)]
pub fn ws_label(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &WsParams,
    markers: &wgpu::Buffer,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    cost: &wgpu::Buffer,
    lp_in: &wgpu::Buffer,
    lp_out: &wgpu::Buffer,
    changed: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.watershed.ws_label;
    let b = [&u, markers, mask, d2, cost, lp_in, lp_out, changed];
    ctx.dispatch(encoder, k, &b, p.dims.len() as u32);
}

/// Entry point `ws_label_tile` (twin [`crate::cpu::watershed::ws_label_tile`]): one sweep of
/// the best-predecessor relaxation in 16 × 16 tiles (each iterated in workgroup memory) from
/// `lp_in` to `lp_out` on the final costs `cost`; sets `changed[0] |= 1` on any change.
#[allow(clippy::too_many_arguments)]
pub fn ws_label_tile(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &WsParams,
    markers: &wgpu::Buffer,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    cost: &wgpu::Buffer,
    lp_in: &wgpu::Buffer,
    lp_out: &wgpu::Buffer,
    changed: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.watershed.ws_label_tile;
    let b = [&u, markers, mask, d2, cost, lp_in, lp_out, changed];
    ctx.dispatch_groups(encoder, k, &b, tile_groups(p.dims));
}

/// Entry point `ws_output` (twin [`crate::cpu::watershed::ws_output`]): the labels of `lp`
/// into `label`, `NONE` → 0.
pub fn ws_output(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &WsParams,
    lp: &wgpu::Buffer,
    label: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.watershed.ws_output;
    ctx.dispatch(encoder, k, &[&u, lp, label], p.dims.len() as u32);
}

/// How much work a watershed took: sweeps recorded and batches submitted (one flag readback
/// each) by the cost loop and by the label loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WsStats {
    pub cost_sweeps: u32,
    pub cost_batches: u32,
    pub label_sweeps: u32,
    pub label_batches: u32,
}

/// The device buffers a watershed ends with.
pub struct WsBuffers {
    /// Final costs, packed `(m, hops)` (`2 × pixels` `u32`).
    pub cost: wgpu::Buffer,
    /// Final label states, packed `(label, pred)` (`2 × pixels` `u32`; label `NONE` unreached).
    pub lp: wgpu::Buffer,
    /// The output labels (`pixels` `u32`, 0 = none).
    pub labels: wgpu::Buffer,
    pub stats: WsStats,
}

/// Submit `encoder` inside error scopes; device errors come back as [`Error::Backend`].
fn submit(ctx: &GpuContext, encoder: wgpu::CommandEncoder) -> Result<()> {
    scoped(ctx.device(), || {
        ctx.queue_submit(encoder.finish());
    })
    .map_err(|e| Error::Backend(format!("floodseg.watershed: {e}")))?;
    ctx.take_uncaptured()
}

/// How a sweep is dispatched: directly with the one-`u32` `changed` flag, or indirectly with
/// the arguments (and `changed` flag, in its first word) of the sweep before it.
pub(crate) enum SweepDispatch<'b> {
    Direct,
    Indirect { args: &'b wgpu::Buffer },
}

/// Run one convergence loop: batches of sweeps (`sweep(encoder, input, output, changed,
/// dispatch)`), the changed flag read back after each batch. Returns the buffer holding the
/// fixed point and `(sweeps, batches)` (sweeps recorded).
///
/// Where the device allows ([`GpuContext::flag_groups`]), each sweep is an indirect dispatch
/// whose arguments are `(changed by the sweep before, groups, 1)`: the sweep writes its
/// `changed` flag into the first word of the *next* sweep's arguments (two alternating
/// 3-word buffers, reset from a template before each sweep). So once a sweep changes nothing,
/// every later sweep of the batch dispatches no workgroup, and a batch costs the sweeps the
/// relaxation needs plus one, not the whole batch. Exact: a sweep that changed nothing wrote
/// its input into its output, so both ping-pong buffers hold the fixed point and skipping the
/// rest changes neither; the executed sweeps are the twin's iterates. Otherwise the
/// flag is cleared before each batch's last sweep, which is dispatched directly like the rest.
#[allow(clippy::too_many_arguments)]
fn converge<'a>(
    ctx: &GpuContext,
    what: &str,
    n: usize,
    mut cur: &'a wgpu::Buffer,
    mut next: &'a wgpu::Buffer,
    changed: &wgpu::Buffer,
    readback: &wgpu::Buffer,
    frame: &mut Frame,
    grid: Option<[u32; 3]>,
    sweep: impl Fn(
        &mut wgpu::CommandEncoder,
        &wgpu::Buffer,
        &wgpu::Buffer,
        &wgpu::Buffer,
        SweepDispatch,
    ),
) -> Result<(&'a wgpu::Buffer, u32, u32)> {
    // Both loops settle within n + 1 sweeps (costs and predecessor chains strictly decrease);
    // the cap only turns a broken device into an error instead of an endless loop.
    let cap = 2 * n as u64 + 2 * MAX_BATCH as u64;
    // The sweep's workgroups after the flag word: `(groups, 1)` for one-dimensional sweeps, the
    // tile grid for tiled ones (`flag_groups` also says whether indirect loops are on and the
    // counts fit the device's per-dimension limit).
    let yz = match grid {
        None => ctx.flag_groups(n as u32).map(|g| [g, 1]),
        Some([_, gy, gz]) => ctx
            .flag_groups(gy.max(gz).saturating_mul(super::WORKGROUP_SIZE))
            .map(|_| [gy, gz]),
    };
    let flags = yz.map(|[y, z]| {
        let label = format!("floodseg.watershed.{what}");
        (
            frame.flag_init(&format!("{label}.args_a"), &[1, y, z]),
            frame.flag_init(&format!("{label}.args_b"), &[0, y, z]),
            frame.storage_init(&format!("{label}.args_reset"), &[0, y, z]),
        )
    });
    let (mut sweeps, mut batches, mut k) = (0u32, 0u32, FIRST_BATCH);
    loop {
        let mut enc = ctx.encoder(&format!("floodseg.watershed.{what}"));
        let span = frame.timer.begin(ctx, &mut enc, "watershed");
        let mut flag = changed;
        for s in 0..k {
            match &flags {
                Some((a, b, reset)) => {
                    let (args, out) = if (sweeps + s) % 2 == 0 {
                        (a, b)
                    } else {
                        (b, a)
                    };
                    enc.copy_buffer_to_buffer(reset, 0, out, 0, 12);
                    sweep(&mut enc, cur, next, out, SweepDispatch::Indirect { args });
                    flag = out;
                }
                None => {
                    if s + 1 == k {
                        enc.clear_buffer(changed, 0, None);
                    }
                    sweep(&mut enc, cur, next, changed, SweepDispatch::Direct);
                }
            }
            std::mem::swap(&mut cur, &mut next);
        }
        enc.copy_buffer_to_buffer(flag, 0, readback, 0, 4);
        frame.timer.end(ctx, &mut enc, span);
        submit(ctx, enc)?;
        sweeps += k;
        batches += 1;
        let flag = ctx.read_u32(readback, 1)?;
        if flag.first().copied().unwrap_or(0) == 0 {
            return Ok((cur, sweeps, batches));
        }
        if sweeps as u64 > cap {
            return Err(Error::Backend(format!(
                "floodseg.watershed: the {what} loop did not converge in {sweeps} sweeps"
            )));
        }
        k = (2 * k).min(MAX_BATCH);
    }
}

/// The whole stage, keeping the final cost and label-state buffers and the loop counts (for
/// tests and benchmarks; [`watershed`] returns only the labels).
pub fn watershed_buffers(
    ctx: &GpuContext,
    dims: Dims,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    markers: &wgpu::Buffer,
) -> Result<WsBuffers> {
    watershed_in(ctx, &mut Frame::detached(ctx), dims, mask, d2, markers)
}

/// As [`watershed_buffers`], in `frame` (its buffers; every submission timed as stage
/// `watershed`).
pub(crate) fn watershed_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    dims: Dims,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    markers: &wgpu::Buffer,
) -> Result<WsBuffers> {
    let n = dims.len();
    ctx.check_len("the watershed's packed costs", 2 * n as u64)?;
    let p = WsParams { dims };
    let u = params_buffer(ctx, &p);
    let kk = &ctx.kernels.watershed;
    let n32 = n as u32;
    // The init encoder also clears the frame's reused buffers.
    let mut enc = ctx.encoder("floodseg.watershed.init");
    let cost_a = frame.storage("floodseg.watershed.cost_a", 2 * n, &mut enc);
    let cost_b = frame.storage("floodseg.watershed.cost_b", 2 * n, &mut enc);
    let lp_a = frame.storage("floodseg.watershed.lp_a", 2 * n, &mut enc);
    let lp_b = frame.storage("floodseg.watershed.lp_b", 2 * n, &mut enc);
    let labels = frame.storage("floodseg.watershed.labels", n, &mut enc);
    let changed = frame.storage("floodseg.watershed.changed", 1, &mut enc);
    let readback = frame.readback("floodseg.watershed.changed.readback", 4);

    let span = frame.timer.begin(ctx, &mut enc, "watershed");
    ctx.dispatch(&mut enc, &kk.ws_init, &[&u, markers, d2, &cost_a], n32);
    frame.timer.end(ctx, &mut enc, span);
    submit(ctx, enc)?;
    let (cost, cost_sweeps, cost_batches) = converge(
        ctx,
        "cost",
        n,
        &cost_a,
        &cost_b,
        &changed,
        &readback,
        frame,
        Some(tile_groups(dims)),
        |enc, cin, cout, flag, how| {
            let b = [&u, mask, d2, cin, cout, flag];
            match how {
                SweepDispatch::Direct => {
                    ctx.dispatch_groups(enc, &kk.ws_cost_tile, &b, tile_groups(dims))
                }
                SweepDispatch::Indirect { args } => {
                    ctx.dispatch_indirect(enc, &kk.ws_cost_tile, &b, args)
                }
            }
        },
    )?;

    let mut enc = ctx.encoder("floodseg.watershed.label_init");
    let span = frame.timer.begin(ctx, &mut enc, "watershed");
    ctx.dispatch(&mut enc, &kk.ws_label_init, &[&u, markers, &lp_a], n32);
    frame.timer.end(ctx, &mut enc, span);
    submit(ctx, enc)?;
    let (lp, label_sweeps, label_batches) = converge(
        ctx,
        "label",
        n,
        &lp_a,
        &lp_b,
        &changed,
        &readback,
        frame,
        Some(tile_groups(dims)),
        |enc, lin, lout, flag, how| {
            let b = [&u, markers, mask, d2, cost, lin, lout, flag];
            match how {
                SweepDispatch::Direct => {
                    ctx.dispatch_groups(enc, &kk.ws_label_tile, &b, tile_groups(dims))
                }
                SweepDispatch::Indirect { args } => {
                    ctx.dispatch_indirect(enc, &kk.ws_label_tile, &b, args)
                }
            }
        },
    )?;

    let mut enc = ctx.encoder("floodseg.watershed.output");
    let span = frame.timer.begin(ctx, &mut enc, "watershed");
    ctx.dispatch(&mut enc, &kk.ws_output, &[&u, lp, &labels], n32);
    frame.timer.end(ctx, &mut enc, span);
    submit(ctx, enc)?;

    let cost_is_a = std::ptr::eq(cost, &cost_a);
    let lp_is_a = std::ptr::eq(lp, &lp_a);
    let cost = if cost_is_a { cost_a } else { cost_b };
    let lp = if lp_is_a { lp_a } else { lp_b };
    Ok(WsBuffers {
        cost,
        lp,
        labels,
        stats: WsStats {
            cost_sweeps,
            cost_batches,
            label_sweeps,
            label_batches,
        },
    })
}

/// The whole watershed stage (twin [`crate::cpu::watershed::watershed`], schedule of
/// [`crate::cpu::watershed::watershed_jacobi`]) on device buffers of `dims.len()` `u32` each:
/// returns the labels buffer. Submits internally (one submission and one 4-byte readback per
/// batch of sweeps).
pub fn watershed(
    ctx: &GpuContext,
    dims: Dims,
    mask: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    markers: &wgpu::Buffer,
) -> Result<wgpu::Buffer> {
    Ok(watershed_buffers(ctx, dims, mask, d2, markers)?.labels)
}

/// Everything [`run_watershed_state`] reads back, unpacked as the twin stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsState {
    pub cost_m: Vec<u32>,
    pub cost_h: Vec<u32>,
    /// Label states before [`ws_output`] (`NONE` unreached).
    pub label: Vec<u32>,
    pub pred: Vec<u32>,
    /// The output labels.
    pub labels: Vec<u32>,
    pub stats: WsStats,
}

pub(crate) fn check_inputs(ctx: &GpuContext, dims: Dims, inputs: &[(&str, &[u32])]) -> Result<()> {
    ctx.check_size(dims.width as usize, dims.height as usize)?;
    ctx.check_len("the watershed's packed costs", 2 * dims.len() as u64)?;
    for (what, v) in inputs {
        if v.len() != dims.len() {
            return Err(Error::BadData(format!(
                "{} {what} pixels for {}×{}",
                v.len(),
                dims.width,
                dims.height
            )));
        }
    }
    Ok(())
}

/// Upload `mask`, `d2` and `markers`, run the watershed and read the labels back.
pub fn run_watershed(
    ctx: &GpuContext,
    dims: Dims,
    mask: &[u32],
    d2: &[u32],
    markers: &[u32],
) -> Result<Vec<u32>> {
    check_inputs(
        ctx,
        dims,
        &[("mask", mask), ("d2", d2), ("markers", markers)],
    )?;
    let m = ctx.storage_init("floodseg.watershed.mask", mask);
    let d = ctx.storage_init("floodseg.watershed.d2", d2);
    let k = ctx.storage_init("floodseg.watershed.markers", markers);
    let labels = watershed(ctx, dims, &m, &d, &k)?;
    ctx.run_and_read("floodseg.watershed.read", dims.len(), |_| Ok(labels))
}

/// As [`run_watershed`], also reading back the final costs and label states and the loop
/// counts (tests compare them with the twin's).
pub fn run_watershed_state(
    ctx: &GpuContext,
    dims: Dims,
    mask: &[u32],
    d2: &[u32],
    markers: &[u32],
) -> Result<WsState> {
    check_inputs(
        ctx,
        dims,
        &[("mask", mask), ("d2", d2), ("markers", markers)],
    )?;
    let n = dims.len();
    let m = ctx.storage_init("floodseg.watershed.mask", mask);
    let d = ctx.storage_init("floodseg.watershed.d2", d2);
    let k = ctx.storage_init("floodseg.watershed.markers", markers);
    let out = watershed_buffers(ctx, dims, &m, &d, &k)?;
    let cost = ctx.run_and_read("floodseg.watershed.read_cost", 2 * n, |_| {
        Ok(out.cost.clone())
    })?;
    let lp = ctx.run_and_read("floodseg.watershed.read_lp", 2 * n, |_| Ok(out.lp.clone()))?;
    let labels = ctx.run_and_read("floodseg.watershed.read_labels", n, |_| {
        Ok(out.labels.clone())
    })?;
    let even = |v: &[u32]| v.iter().step_by(2).copied().collect::<Vec<u32>>();
    let odd = |v: &[u32]| v.iter().skip(1).step_by(2).copied().collect::<Vec<u32>>();
    Ok(WsState {
        cost_m: even(&cost),
        cost_h: odd(&cost),
        label: even(&lp),
        pred: odd(&lp),
        labels,
        stats: out.stats,
    })
}
