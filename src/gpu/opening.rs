//! Host side of stage **opening** (`shaders/opening.wgsl`; twin [`crate::cpu::opening`]).
//! Class: *Jacobi*: `k` erosions then `k` dilations, ping-ponging between two device buffers,
//! the same sequence of passes as the twin.

use bytemuck::{Pod, Zeroable};

use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::opening::{MorphParams, Structure};
use crate::cpu::{Dims, Rect};
use crate::error::{Error, Result};

/// Uniforms of an erosion or dilation pass. Keep in sync with `struct MorphParams` in
/// `shaders/opening.wgsl` (twin: [`MorphParams`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct MorphUniforms {
    pub width: u32,
    pub height: u32,
    pub y0: u32,
    pub x0: u32,
    pub y1: u32,
    pub x1: u32,
    /// 0 = cross, 1 = square.
    pub square: u32,
    pub _pad: u32,
}

impl From<&MorphParams> for MorphUniforms {
    fn from(p: &MorphParams) -> Self {
        MorphUniforms {
            width: p.dims.width,
            height: p.dims.height,
            y0: p.rect.y0,
            x0: p.rect.x0,
            y1: p.rect.y1,
            x1: p.rect.x1,
            square: p.square,
            _pad: 0,
        }
    }
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[
    ("erode", &[Uniform, Read, ReadWrite]),
    ("dilate", &[Uniform, Read, ReadWrite]),
];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub erode: Kernel,
    pub dilate: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "opening", crate::shaders::OPENING);
        Kernels {
            erode: kernel(device, &m, "opening", ENTRY_POINTS, "erode"),
            dilate: kernel(device, &m, "opening", ENTRY_POINTS, "dilate"),
        }
    }
}

/// Entry point `erode` (twin [`crate::cpu::opening::erode`]). Records one pass.
pub fn erode(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    params: &MorphParams,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) {
    let u = ctx.uniform("floodseg.opening.params", &MorphUniforms::from(params));
    let k = &ctx.kernels.opening.erode;
    ctx.dispatch(encoder, k, &[&u, src, dst], params.dims.len() as u32);
}

/// Entry point `dilate` (twin [`crate::cpu::opening::dilate`]). Records one pass.
pub fn dilate(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    params: &MorphParams,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) {
    let u = ctx.uniform("floodseg.opening.params", &MorphUniforms::from(params));
    let k = &ctx.kernels.opening.dilate;
    ctx.dispatch(encoder, k, &[&u, src, dst], params.dims.len() as u32);
}

/// The whole opening (twin [`crate::cpu::opening::opening`]): `k` erosions then `k` dilations
/// over `rect`, ping-ponging between `mask` and `scratch`. After the `2k` passes the result is
/// back in `mask`; `scratch` holds garbage.
#[allow(clippy::too_many_arguments)]
pub fn opening(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    dims: Dims,
    rect: Rect,
    structure: Structure,
    k: u32,
    mask: &wgpu::Buffer,
    scratch: &wgpu::Buffer,
) {
    // in place: the same ping-pong, `mask` read by the first pass and written by the last
    if k > 0 {
        opening_from(ctx, encoder, dims, rect, structure, k, mask, mask, scratch);
    }
}

/// The opening of `src` into `dst` (twin [`crate::cpu::opening::opening`]), `src` left as it
/// is: the `2k` passes alternate between `scratch` and `dst` so that the first reads `src` and
/// the last writes `dst` (no copy of `src` first); `k = 0` is one copy.
#[allow(clippy::too_many_arguments)]
pub fn opening_from(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    dims: Dims,
    rect: Rect,
    structure: Structure,
    k: u32,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
    scratch: &wgpu::Buffer,
) {
    if k == 0 {
        ctx.copy(encoder, src, 0, dst, 0, 4 * dims.len() as u64);
        return;
    }
    let p = MorphParams::new(dims, rect, structure);
    // pass j (1-based) writes scratch when j is odd, dst when even: pass 2k lands in dst
    let mut from = src;
    for j in 1..=2 * k {
        let to = if j % 2 == 1 { scratch } else { dst };
        if j <= k {
            erode(ctx, encoder, &p, from, to);
        } else {
            dilate(ctx, encoder, &p, from, to);
        }
        from = to;
    }
}

/// Upload `mask`, open it and read the result back.
pub fn run_opening(
    ctx: &GpuContext,
    dims: Dims,
    rect: Rect,
    structure: Structure,
    k: u32,
    mask: &[u32],
) -> Result<Vec<u32>> {
    let n = dims.len();
    ctx.check_size(dims.width as usize, dims.height as usize)?;
    if mask.len() != n {
        return Err(Error::BadData(format!(
            "{} mask pixels for {}×{}",
            mask.len(),
            dims.width,
            dims.height
        )));
    }
    ctx.run_and_read("floodseg.opening", n, |enc| {
        let a = ctx.storage_init("floodseg.opening.mask", mask);
        let b = ctx.storage("floodseg.opening.scratch", n);
        opening(ctx, enc, dims, rect, structure, k, &a, &b);
        Ok(a)
    })
}
