//! Host side of stage **components** (`shaders/components.wgsl`; twin
//! [`crate::cpu::components`]): connected components of a 0/1 image, 4- or 8-connectivity,
//! numbered `1..=n` in raster order of each component's first pixel.
//!
//! Passes, all recorded into one encoder (no convergence loop, nothing read back):
//! `cc_init` (*map*), `cc_merge` (*monotone relaxation*: `atomicMin` union-find, every
//! component ends as one tree rooted at its smallest index whatever the order), the exclusive
//! scan of the roots (`parent[i] == i`, read by the scan's first pass itself: twin
//! [`crate::cpu::components::root_flags`]) without its last pass ([`super::scan`], twin
//! `scan_blocks` and the scan of the blocks' totals, whose total is the count) and
//! `cc_renumber` (*map*; each pixel walks its chain to the root and adds the blocks' offsets).
//! A 1024² frame: 5 passes.

use bytemuck::{Pod, Zeroable};

use super::frame::Frame;
use super::{kernel, scan, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::components::CcParams;
use crate::cpu::Dims;
use crate::error::{Error, Result};

/// Uniforms of the components passes. Keep in sync with `struct CcParams` in
/// `shaders/components.wgsl` (twin: [`CcParams`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct CcUniforms {
    pub width: u32,
    pub height: u32,
    /// 0 = 4-connectivity, 1 = 8-connectivity.
    pub diagonal: u32,
    pub _pad: u32,
}

impl From<&CcParams> for CcUniforms {
    fn from(p: &CcParams) -> Self {
        CcUniforms {
            width: p.dims.width,
            height: p.dims.height,
            diagonal: p.diagonal,
            _pad: 0,
        }
    }
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[
    ("cc_init", &[Uniform, Read, ReadWrite]),
    ("cc_merge", &[Uniform, Read, ReadWrite]),
    ("cc_renumber", &[Uniform, Read, Read, Read, ReadWrite]),
];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub cc_init: Kernel,
    pub cc_merge: Kernel,
    pub cc_renumber: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "components", crate::shaders::COMPONENTS);
        let k = |entry: &str| kernel(device, &m, "components", ENTRY_POINTS, entry);
        Kernels {
            cc_init: k("cc_init"),
            cc_merge: k("cc_merge"),
            cc_renumber: k("cc_renumber"),
        }
    }
}

fn params_buffer(ctx: &GpuContext, p: &CcParams) -> wgpu::Buffer {
    ctx.uniform("floodseg.components.params", &CcUniforms::from(p))
}

/// Entry point `cc_init` (twin [`crate::cpu::components::cc_init`]).
pub fn cc_init(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &CcParams,
    fg: &wgpu::Buffer,
    parent: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.components.cc_init;
    ctx.dispatch(encoder, k, &[&u, fg, parent], p.dims.len() as u32);
}

/// Entry point `cc_merge` (twin [`crate::cpu::components::cc_merge`]): one invocation per
/// pixel, `atomicMin` union-find.
pub fn cc_merge(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &CcParams,
    fg: &wgpu::Buffer,
    parent: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.components.cc_merge;
    ctx.dispatch(encoder, k, &[&u, fg, parent], p.dims.len() as u32);
}

/// Entry point `cc_renumber` (twin [`crate::cpu::components::cc_renumber`]).
pub fn cc_renumber(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &CcParams,
    parent: &wgpu::Buffer,
    rank: &wgpu::Buffer,
    offsets: &wgpu::Buffer,
    label: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.components.cc_renumber;
    ctx.dispatch(
        encoder,
        k,
        &[&u, parent, rank, offsets, label],
        p.dims.len() as u32,
    );
}

/// Record every pass of the stage into `encoder` (twin
/// [`crate::cpu::components::components`]); returns `(labels, count)`: the labels buffer
/// (`width × height`) and a one-`u32` buffer that will hold the number of components. The
/// size must have been checked ([`GpuContext::check_size`]).
pub fn record_components(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    dims: Dims,
    diagonal: bool,
    fg: &wgpu::Buffer,
) -> (wgpu::Buffer, wgpu::Buffer) {
    record_components_in(ctx, &mut Frame::detached(ctx), encoder, dims, diagonal, fg)
}

/// As [`record_components`], with `frame`'s buffers.
pub(crate) fn record_components_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    encoder: &mut wgpu::CommandEncoder,
    dims: Dims,
    diagonal: bool,
    fg: &wgpu::Buffer,
) -> (wgpu::Buffer, wgpu::Buffer) {
    let p = CcParams {
        dims,
        diagonal: diagonal as u32,
    };
    let n = dims.len();
    let parent = frame.scratch("floodseg.components.parent", n);
    cc_init(ctx, encoder, &p, fg, &parent);
    cc_merge(ctx, encoder, &p, fg, &parent);
    let rank = frame.scratch("floodseg.components.rank", n);
    // the roots ranked straight from the parents (no flag image, no flattening pass)
    let (offsets, count) =
        scan::scan_blocks_in(ctx, frame, encoder, n as u32, true, &parent, &rank);
    // one block: its offset is 0
    let offsets =
        offsets.unwrap_or_else(|| frame.storage("floodseg.components.offsets", 1, encoder));
    let label = frame.scratch("floodseg.components.label", n);
    cc_renumber(ctx, encoder, &p, &parent, &rank, &offsets, &label);
    (label, count)
}

/// The whole components stage on device buffers (twin
/// [`crate::cpu::components::components`]): records every pass, submits once and returns
/// `(labels, count)` — the labels buffer and a one-`u32` buffer holding the number of
/// components — without reading anything back. `fg` holds `width × height` 0/1 `u32`s.
pub fn components(
    ctx: &GpuContext,
    dims: Dims,
    diagonal: bool,
    fg: &wgpu::Buffer,
) -> Result<(wgpu::Buffer, wgpu::Buffer)> {
    components_in(ctx, &mut Frame::detached(ctx), dims, diagonal, fg)
}

/// As [`components`], in `frame` (its buffers; timed as stage `components`).
pub(crate) fn components_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    dims: Dims,
    diagonal: bool,
    fg: &wgpu::Buffer,
) -> Result<(wgpu::Buffer, wgpu::Buffer)> {
    ctx.check_size(dims.width as usize, dims.height as usize)?;
    let n = dims.len();
    if fg.size() < 4 * n as u64 {
        return Err(Error::BadData(format!(
            "components: a {}-byte foreground buffer for {}×{} pixels",
            fg.size(),
            dims.width,
            dims.height
        )));
    }
    let out = super::scoped(ctx.device(), || {
        let mut encoder = ctx.encoder("floodseg.components");
        let span = frame.timer.begin(ctx, &mut encoder, "components");
        let out = record_components_in(ctx, frame, &mut encoder, dims, diagonal, fg);
        frame.timer.end(ctx, &mut encoder, span);
        ctx.queue_submit(encoder.finish());
        out
    })
    .map_err(|e| Error::Backend(format!("floodseg.components: {e}")))?;
    ctx.take_uncaptured()?;
    Ok(out)
}

/// Upload `fg`, run the components stage and read back the labels and their count.
pub fn run_components(
    ctx: &GpuContext,
    dims: Dims,
    diagonal: bool,
    fg: &[u32],
) -> Result<(Vec<u32>, u32)> {
    let n = dims.len();
    ctx.check_size(dims.width as usize, dims.height as usize)?;
    ctx.check_len(
        &format!("a {}×{} image", dims.width, dims.height),
        n as u64 + 1,
    )?;
    if fg.len() != n {
        return Err(Error::BadData(format!(
            "{} foreground pixels for {}×{}",
            fg.len(),
            dims.width,
            dims.height
        )));
    }
    let mut out = ctx.run_and_read("floodseg.components", n + 1, |enc| {
        let f = ctx.storage_init("floodseg.components.fg", fg);
        let (label, count) = record_components(ctx, enc, dims, diagonal, &f);
        // Labels and count in one buffer, so one readback brings both home.
        let both = ctx.storage("floodseg.components.result", n + 1);
        ctx.copy(enc, &label, 0, &both, 0, 4 * n as u64);
        ctx.copy(enc, &count, 0, &both, 4 * n as u64, 4);
        Ok(both)
    })?;
    let count = out.pop().unwrap_or(0);
    Ok((out, count))
}
