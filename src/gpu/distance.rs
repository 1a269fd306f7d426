//! Host side of stage **distance** (`shaders/distance.wgsl`; twin [`crate::cpu::distance`]):
//! the exact separable transform (`edt_cols`, `edt_rows`; class *map* per pass) and jump
//! flooding (`jfa_init`, `jfa_step`, `jfa_finish`; class *Jacobi*, ping-pong buffers, the
//! twin's step sequence [`JfaVariant::steps`]).

use bytemuck::{Pod, Zeroable};

use super::frame::Frame;
use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::distance::{DistParams, DistanceMode};
use crate::cpu::Dims;
use crate::error::{Error, Result};

#[allow(unused_imports)] // doc link
use crate::cpu::distance::JfaVariant;

/// Uniforms of the distance passes. Keep in sync with `struct DistParams` in
/// `shaders/distance.wgsl` (twin: [`DistParams`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct DistUniforms {
    pub width: u32,
    pub height: u32,
    /// JFA step of this pass (unused by the exact passes).
    pub step: u32,
    pub _pad: u32,
}

impl From<&DistParams> for DistUniforms {
    fn from(p: &DistParams) -> Self {
        DistUniforms {
            width: p.dims.width,
            height: p.dims.height,
            step: p.step,
            _pad: 0,
        }
    }
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[
    ("edt_cols", &[Uniform, Read, ReadWrite]),
    (
        "edt_rows",
        &[Uniform, Read, Read, ReadWrite, ReadWrite, ReadWrite],
    ),
    ("jfa_init", &[Uniform, Read, ReadWrite]),
    ("jfa_step", &[Uniform, Read, ReadWrite]),
    ("jfa_finish", &[Uniform, Read, Read, ReadWrite]),
];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub edt_cols: Kernel,
    pub edt_rows: Kernel,
    pub jfa_init: Kernel,
    pub jfa_step: Kernel,
    pub jfa_finish: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "distance", crate::shaders::DISTANCE);
        let k = |entry: &str| kernel(device, &m, "distance", ENTRY_POINTS, entry);
        Kernels {
            edt_cols: k("edt_cols"),
            edt_rows: k("edt_rows"),
            jfa_init: k("jfa_init"),
            jfa_step: k("jfa_step"),
            jfa_finish: k("jfa_finish"),
        }
    }
}

fn params_buffer(ctx: &GpuContext, p: &DistParams) -> wgpu::Buffer {
    ctx.uniform("floodseg.distance.params", &DistUniforms::from(p))
}

/// Entry point `edt_cols` (twin [`crate::cpu::distance::edt_cols`]): one invocation per column.
pub fn edt_cols(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &DistParams,
    mask: &wgpu::Buffer,
    g: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.distance.edt_cols;
    ctx.dispatch(encoder, k, &[&u, mask, g], p.dims.width);
}

/// Entry point `edt_rows` (twin [`crate::cpu::distance::edt_rows`]): one invocation per row;
/// `v` and `z` are per-row scratch of `width × height` entries each (`z` holds `i32`).
#[allow(clippy::too_many_arguments)]
pub fn edt_rows(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &DistParams,
    mask: &wgpu::Buffer,
    g: &wgpu::Buffer,
    d2: &wgpu::Buffer,
    v: &wgpu::Buffer,
    z: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.distance.edt_rows;
    ctx.dispatch(encoder, k, &[&u, mask, g, d2, v, z], p.dims.height);
}

/// Entry point `jfa_init` (twin [`crate::cpu::distance::jfa_init`]).
pub fn jfa_init(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &DistParams,
    mask: &wgpu::Buffer,
    seed: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.distance.jfa_init;
    ctx.dispatch(encoder, k, &[&u, mask, seed], p.dims.len() as u32);
}

/// Entry point `jfa_step` (twin [`crate::cpu::distance::jfa_step`]): one pass at `p.step`.
pub fn jfa_step(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &DistParams,
    seed_in: &wgpu::Buffer,
    seed_out: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.distance.jfa_step;
    ctx.dispatch(encoder, k, &[&u, seed_in, seed_out], p.dims.len() as u32);
}

/// Entry point `jfa_finish` (twin [`crate::cpu::distance::jfa_finish`]).
pub fn jfa_finish(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &DistParams,
    mask: &wgpu::Buffer,
    seed: &wgpu::Buffer,
    d2: &wgpu::Buffer,
) {
    let u = params_buffer(ctx, p);
    let k = &ctx.kernels.distance.jfa_finish;
    ctx.dispatch(encoder, k, &[&u, mask, seed, d2], p.dims.len() as u32);
}

/// Scratch buffers of the distance stage: three `width × height` buffers (exact: `g`, `v`, `z`;
/// jump flooding: the two seed buffers).
pub struct DistanceScratch {
    pub a: wgpu::Buffer,
    pub b: wgpu::Buffer,
    pub c: wgpu::Buffer,
}

impl DistanceScratch {
    pub fn new(ctx: &GpuContext, dims: Dims) -> Self {
        let n = dims.len();
        DistanceScratch {
            a: ctx.storage("floodseg.distance.scratch_a", n),
            b: ctx.storage("floodseg.distance.scratch_b", n),
            c: ctx.storage("floodseg.distance.scratch_c", n),
        }
    }

    /// As [`DistanceScratch::new`], with `frame`'s scratch buffers (not cleared: both modes
    /// write every element of `a` (and of `b` for JFA) before reading it, and the exact mode's
    /// envelope arrays `b`, `c` are read only where written).
    pub(crate) fn in_frame(frame: &mut Frame, dims: Dims) -> Self {
        let n = dims.len();
        DistanceScratch {
            a: frame.scratch("floodseg.distance.scratch_a", n),
            b: frame.scratch("floodseg.distance.scratch_b", n),
            c: frame.scratch("floodseg.distance.scratch_c", n),
        }
    }
}

/// The whole distance stage (twin [`crate::cpu::distance::distance`]): squared distances of
/// `mask` into `d2`.
pub fn distance(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    dims: Dims,
    mode: DistanceMode,
    mask: &wgpu::Buffer,
    scratch: &DistanceScratch,
    d2: &wgpu::Buffer,
) {
    let p0 = DistParams { dims, step: 0 };
    match mode {
        DistanceMode::Exact => {
            let (g, v, z) = (&scratch.a, &scratch.b, &scratch.c);
            edt_cols(ctx, encoder, &p0, mask, g);
            edt_rows(ctx, encoder, &p0, mask, g, d2, v, z);
        }
        DistanceMode::Jfa(variant) => {
            let (mut a, mut b) = (&scratch.a, &scratch.b);
            jfa_init(ctx, encoder, &p0, mask, a);
            for step in variant.steps(dims) {
                jfa_step(ctx, encoder, &DistParams { dims, step }, a, b);
                std::mem::swap(&mut a, &mut b);
            }
            jfa_finish(ctx, encoder, &p0, mask, a, d2);
        }
    }
}

/// Upload `mask`, run the distance stage and read the squared distances back.
pub fn run_distance(
    ctx: &GpuContext,
    dims: Dims,
    mode: DistanceMode,
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
    ctx.run_and_read("floodseg.distance", n, |enc| {
        let m = ctx.storage_init("floodseg.distance.mask", mask);
        let scratch = DistanceScratch::new(ctx, dims);
        let d2 = ctx.storage("floodseg.distance.d2", n);
        distance(ctx, enc, dims, mode, &m, &scratch, &d2);
        Ok(d2)
    })
}
