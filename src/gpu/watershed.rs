//! Host side of stage **watershed** (`shaders/watershed.wgsl`; twin [`crate::cpu::watershed`]).
//! Class: *monotone relaxation* — the same iterates as
//! [`crate::cpu::watershed::watershed_jacobi`]: [`ws_start`], then [`ws_cost_tile`] sweeps until
//! no cost changes (each 16 × 16 tile iterated in workgroup memory, so a flood crosses a tile per
//! sweep: on an H100 a sweep costs tens of µs whatever the image's size, so fewer sweeps is what
//! counts; the fixed point is the same unique smallest cost as [`ws_cost`]'s Jacobi sweeps,
//! docs/design.md, stage 7), then [`ws_label_tile`] sweeps (the same tiles for [`ws_label`]'s
//! rule) until no label or predecessor changes, then [`ws_output`]. [`ws_start`] sets the costs,
//! the label states and both loops' flag buffers in one pass (twin `ws_init`, `ws_label_init`).
//!
//! **Packing.** A stage may bind at most 8 storage buffers and the twin's `ws_label` takes 10,
//! so a cost `(m, hops)` is stored as one `vec2<u32>` per pixel (buffers of `2 × pixels` `u32`:
//! `[m0, h0, m1, h1, …]`; twin: `cost_m[i]`, `cost_h[i]`), and so is a pixel's label state
//! `(label, pred)` (twin: `label[i]`, `pred[i]`). Bindings follow the twin's parameters with each
//! pair folded into one; [`ws_output`] unpacks the labels into a plain `u32` buffer.
//!
//! **Convergence loops** ([`super::sweeps`]): each batch records `K` sweeps (ping-pong
//! buffers), one dispatch each, and reads the loop's flag buffer back. A tiled sweep ends its
//! loop when every tile settled and no edge pixel changed in a way another tile would take up
//! (so the loop ends in the sweep that reaches the fixed point, not one after it); the next
//! sweep copies that output into the other buffer and the rest return at once. `K` starts at
//! what the previous frame's loop needed (plus one) and doubles up to [`MAX_BATCH`].

use bytemuck::{Pod, Zeroable};

use super::counters::Loop;
use super::frame::Frame;
use super::sweeps::FLAG_WORDS;
use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
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
    /// The sweep's phase in its loop ([`super::sweeps`]; 0 in the other passes).
    pub phase: u32,
    pub _pad0: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

impl From<&WsParams> for WsUniforms {
    fn from(p: &WsParams) -> Self {
        WsUniforms {
            width: p.dims.width,
            height: p.dims.height,
            alt_dark: 0,
            alt_key_max: 0,
            phase: 0,
            _pad0: 0,
            _pad1: 0,
            _pad2: 0,
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
            phase: 0,
            _pad0: 0,
            _pad1: 0,
            _pad2: 0,
        }
    }
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`). Binding `i` is twin parameter `i` with `(cost_m, cost_h)` and
/// `(label, pred)` each folded into one `vec2<u32>` binding (see the module doc).
pub const ENTRY_POINTS: &[EntryPoint] = &[
    // params, mask, keys, alt
    ("ws_altitude", &[Uniform, Read, Read, ReadWrite]),
    // params, markers, d2, cost, lp, cost_flags, label_flags
    (
        "ws_start",
        &[
            Uniform, Read, Read, ReadWrite, ReadWrite, ReadWrite, ReadWrite,
        ],
    ),
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

/// Most sweeps in one batch (the batch size doubles up to this).
pub const MAX_BATCH: u32 = 64;

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub ws_altitude: Kernel,
    pub ws_start: Kernel,
    pub ws_cost: Kernel,
    pub ws_cost_tile: Kernel,
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
            ws_start: k("ws_start"),
            ws_cost: k("ws_cost"),
            ws_cost_tile: k("ws_cost_tile"),
            ws_label: k("ws_label"),
            ws_label_tile: k("ws_label_tile"),
            ws_output: k("ws_output"),
        }
    }
}

fn params_buffer(ctx: &GpuContext, p: &WsParams) -> wgpu::Buffer {
    phase_buffer(ctx, p, 0)
}

/// The uniforms of a sweep of phase `phase` ([`super::sweeps`]).
fn phase_buffer(ctx: &GpuContext, p: &WsParams, phase: u32) -> wgpu::Buffer {
    let u = WsUniforms {
        phase,
        ..WsUniforms::from(p)
    };
    ctx.uniform("floodseg.watershed.params", &u)
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

/// Entry point `ws_start` (twin [`crate::cpu::watershed::ws_start`]); `cost` and `lp` hold
/// `2 × pixels` `u32` (packed `(m, hops)` and `(label, pred)`), the flag buffers
/// [`tile_flag_words`] each.
#[allow(clippy::too_many_arguments)]
pub fn ws_start(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &WsParams,
    markers: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    cost: &wgpu::Buffer,
    lp: &wgpu::Buffer,
    cost_flags: &wgpu::Buffer,
    label_flags: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.watershed.ws_start;
    let b = [&u, markers, d2, cost, lp, cost_flags, label_flags];
    ctx.dispatch(encoder, k, &b, start_invocations(p.dims));
}

/// Invocations of [`ws_start`]: one a pixel, and at least one a word of the flag buffers.
fn start_invocations(dims: Dims) -> u32 {
    dims.len().max(tile_flag_words(dims)) as u32
}

/// Entry point `ws_cost` (twin [`crate::cpu::watershed::ws_cost`]): one Jacobi sweep from `cost_in`
/// to `cost_out` (packed `(m, hops)`); `changed` is a standalone sweep's flag buffer
/// ([`super::sweeps::standalone_flags`]: the sweep runs, reporting a change into its word 1).
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
    let (x, y) = crate::cpu::watershed::tiles(dims);
    [1, x as u32, y as u32]
}

/// Words of a tiled loop's flag buffer over `dims`: the loop's [`FLAG_WORDS`], then three
/// rotating arrays of one word per tile (the tiles a sweep runs; `tile_word` in the shader).
pub fn tile_flag_words(dims: Dims) -> usize {
    let (x, y) = crate::cpu::watershed::tiles(dims);
    FLAG_WORDS + 3 * x * y
}

const _: () = assert!(FLAG_WORDS == crate::cpu::watershed::FLAG_WORDS);

/// Entry point `ws_cost_tile` (twin [`crate::cpu::watershed::ws_cost_tile`]): one sweep of the cost
/// relaxation in 16 × 16 tiles (each iterated in workgroup memory) from `cost_in` to `cost_out`;
/// `changed` is a tiled loop's flag buffer ([`tile_flag_words`]: at phase 0 the sweep runs the
/// tiles set in the first tile array, reports into word 1, asks for tiles in the second and
/// clears the third; the twin's `changed`, `run` and `next`).
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

/// Entry point `ws_label` (twin [`crate::cpu::watershed::ws_label`]): one Jacobi sweep of the
/// best-predecessor relaxation from `lp_in` to `lp_out` (packed `(label, pred)`) on the final costs
/// `cost`; `changed` is a standalone sweep's flag buffer ([`super::sweeps::standalone_flags`]: the
/// sweep runs, reporting a change into its word 1).
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

/// Entry point `ws_label_tile` (twin [`crate::cpu::watershed::ws_label_tile`]): one sweep of the
/// best-predecessor relaxation in 16 × 16 tiles (each iterated in workgroup memory) from `lp_in` to
/// `lp_out` on the final costs `cost`; `changed` is a tiled loop's flag buffer, as in
/// [`ws_cost_tile`].
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
    /// Sweeps that did work (up to and including the first that asked for no other; the
    /// twin's tiled sweeps, [`crate::cpu::watershed::watershed_jacobi`]).
    pub cost_ran: u32,
    pub label_ran: u32,
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
    // The cost loop's first encoder holds ws_start, which also sets both loops' flags.
    let mut enc = ctx.encoder("floodseg.watershed.init");
    let cost_a = frame.scratch("floodseg.watershed.cost_a", 2 * n);
    let cost_b = frame.scratch("floodseg.watershed.cost_b", 2 * n);
    let lp_a = frame.scratch("floodseg.watershed.lp_a", 2 * n);
    let lp_b = frame.scratch("floodseg.watershed.lp_b", 2 * n);
    let labels = frame.scratch("floodseg.watershed.labels", n);
    let cost_flags = frame.scratch("floodseg.watershed.cost.flags", tile_flag_words(dims));
    let label_flags = frame.scratch("floodseg.watershed.label.flags", tile_flag_words(dims));

    let span = frame.timer.begin(ctx, &mut enc, "watershed");
    let b = [&u, markers, d2, &cost_a, &lp_a, &cost_flags, &label_flags];
    ctx.dispatch(&mut enc, &kk.ws_start, &b, start_invocations(dims));
    frame.timer.end(ctx, &mut enc, span);
    // Both loops settle within n + 1 sweeps (costs and predecessor chains strictly decrease);
    // the cap only turns a broken device into an error instead of an endless loop.
    let cap = 2 * n as u64 + 2 * MAX_BATCH as u64;
    let groups = tile_groups(dims);
    let spec = |counter, label, flags| super::sweeps::LoopSpec {
        counter,
        label,
        stage: "watershed",
        max_batch: MAX_BATCH,
        cap,
        flags: Some(flags),
    };
    let cost_sweep = |enc: &mut wgpu::CommandEncoder,
                      cin: &wgpu::Buffer,
                      cout: &wgpu::Buffer,
                      flags: &wgpu::Buffer,
                      phase: u32| {
        let up = phase_buffer(ctx, &p, phase);
        let b = [&up, mask, d2, cin, cout, flags];
        ctx.dispatch_groups(enc, &kk.ws_cost_tile, &b, groups);
    };
    let (cost, cost_run) = super::sweeps::converge(
        ctx,
        frame,
        &spec(Loop::WsCost, "floodseg.watershed.cost", &cost_flags),
        enc,
        &cost_a,
        &cost_b,
        &cost_sweep,
        None,
    )?;

    let enc = ctx.encoder("floodseg.watershed.label");
    let label_sweep = |enc: &mut wgpu::CommandEncoder,
                       lin: &wgpu::Buffer,
                       lout: &wgpu::Buffer,
                       flags: &wgpu::Buffer,
                       phase: u32| {
        let up = phase_buffer(ctx, &p, phase);
        let b = [&up, markers, mask, d2, cost, lin, lout, flags];
        ctx.dispatch_groups(enc, &kk.ws_label_tile, &b, groups);
    };
    // Every batch ends with ws_output, so the labels hold the result once the loop stops.
    let output = |enc: &mut wgpu::CommandEncoder, lp: &wgpu::Buffer| {
        ctx.dispatch(enc, &kk.ws_output, &[&u, lp, &labels], n32);
    };
    let (lp, label_run) = super::sweeps::converge(
        ctx,
        frame,
        &spec(Loop::WsLabel, "floodseg.watershed.label", &label_flags),
        enc,
        &lp_a,
        &lp_b,
        &label_sweep,
        Some(&output),
    )?;

    let cost_is_a = std::ptr::eq(cost, &cost_a);
    let lp_is_a = std::ptr::eq(lp, &lp_a);
    let cost = if cost_is_a { cost_a } else { cost_b };
    let lp = if lp_is_a { lp_a } else { lp_b };
    Ok(WsBuffers {
        cost,
        lp,
        labels,
        stats: WsStats {
            cost_sweeps: cost_run.recorded,
            cost_batches: cost_run.batches,
            label_sweeps: label_run.recorded,
            label_batches: label_run.batches,
            cost_ran: cost_run.ran,
            label_ran: label_run.ran,
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
