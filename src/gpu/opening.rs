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
    ("open1", &[Uniform, Read, ReadWrite]),
];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub erode: Kernel,
    pub dilate: Kernel,
    pub open1: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "opening", crate::shaders::OPENING);
        Kernels {
            erode: kernel(device, &m, "opening", ENTRY_POINTS, "erode"),
            dilate: kernel(device, &m, "opening", ENTRY_POINTS, "dilate"),
            open1: kernel(device, &m, "opening", ENTRY_POINTS, "open1"),
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

/// Entry point `open1` (twin [`crate::cpu::opening::open1`]): the opening with `k = 1` in one
/// pass; `src` and `dst` must be different buffers. Records one pass.
pub fn open1(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    params: &MorphParams,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) {
    let u = ctx.uniform("floodseg.opening.params", &MorphUniforms::from(params));
    let k = &ctx.kernels.opening.open1;
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
        passes(ctx, encoder, dims, rect, structure, k, mask, mask, scratch);
    }
}

/// The opening of `src` into `dst` (twin [`crate::cpu::opening::opening`]), `src` left as it
/// is: for `k = 1` one [`open1`] pass; else the `2k` passes alternate between `scratch` and
/// `dst` so that the first reads `src` and the last writes `dst` (no copy of `src` first);
/// `k = 0` is one copy. `src` and `dst` must be different buffers.
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
    if k == 1 {
        open1(
            ctx,
            encoder,
            &MorphParams::new(dims, rect, structure),
            src,
            dst,
        );
        return;
    }
    passes(ctx, encoder, dims, rect, structure, k, src, dst, scratch);
}

/// `k` erosions then `k` dilations from `src` into `dst` (which may be `src`), ping-ponging
/// with `scratch`: pass `j` (1-based) writes `scratch` when `j` is odd, `dst` when even.
#[allow(clippy::too_many_arguments)]
fn passes(
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

/// Upload `mask`, open it into a new buffer ([`opening_from`], the front's path) and read the
/// result back.
pub fn run_opening(
    ctx: &GpuContext,
    dims: Dims,
    rect: Rect,
    structure: Structure,
    k: u32,
    mask: &[u32],
) -> Result<Vec<u32>> {
    run_opening_in(ctx, dims, rect, structure, k, mask, false)
}

/// As [`run_opening`], in place ([`opening`], `--core`'s path) when `in_place`.
pub fn run_opening_in(
    ctx: &GpuContext,
    dims: Dims,
    rect: Rect,
    structure: Structure,
    k: u32,
    mask: &[u32],
    in_place: bool,
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
        if in_place {
            opening(ctx, enc, dims, rect, structure, k, &a, &b);
            return Ok(a);
        }
        let out = ctx.storage("floodseg.opening.out", n);
        opening_from(ctx, enc, dims, rect, structure, k, &a, &out, &b);
        Ok(out)
    })
}
