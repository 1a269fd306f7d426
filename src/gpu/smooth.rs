//! Host side of stage **smooth** (`shaders/smooth.wgsl`; twin [`crate::cpu::smooth`]).
//! Class: *Jacobi*: `passes` × (`smooth_rows`, `smooth_cols`), each pass a *map* from one
//! device buffer into another, the same sequence of passes as the twin's
//! [`crate::cpu::smooth::smooth_passes`] (equal to [`crate::cpu::smooth::smooth`]).

use bytemuck::{Pod, Zeroable};

use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::smooth::SmoothParams;
use crate::error::{Error, Result};

/// Uniforms of the smoothing passes. Keep in sync with `struct SmoothParams` in
/// `shaders/smooth.wgsl` (twin: [`SmoothParams`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct SmoothUniforms {
    pub width: u32,
    pub height: u32,
    /// Number of passes (the host's loop; the passes do not read it).
    pub passes: u32,
    pub _pad: u32,
}

impl From<&SmoothParams> for SmoothUniforms {
    fn from(p: &SmoothParams) -> Self {
        SmoothUniforms {
            width: p.dims.width,
            height: p.dims.height,
            passes: p.passes,
            _pad: 0,
        }
    }
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[
    ("smooth_rows", &[Uniform, Read, ReadWrite]),
    ("smooth_cols", &[Uniform, Read, ReadWrite]),
];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub rows: Kernel,
    pub cols: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "smooth", crate::shaders::SMOOTH);
        Kernels {
            rows: kernel(device, &m, "smooth", ENTRY_POINTS, "smooth_rows"),
            cols: kernel(device, &m, "smooth", ENTRY_POINTS, "smooth_cols"),
        }
    }
}

/// Entry point `smooth_rows` (twin [`crate::cpu::smooth::smooth_rows`]). Records one pass.
pub fn smooth_rows(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &SmoothParams,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) {
    let u = ctx.uniform("floodseg.smooth.params", &SmoothUniforms::from(p));
    let k = &ctx.kernels.smooth.rows;
    ctx.dispatch(encoder, k, &[&u, src, dst], p.dims.len() as u32);
}

/// Entry point `smooth_cols` (twin [`crate::cpu::smooth::smooth_cols`]). Records one pass.
pub fn smooth_cols(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &SmoothParams,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) {
    let u = ctx.uniform("floodseg.smooth.params", &SmoothUniforms::from(p));
    let k = &ctx.kernels.smooth.cols;
    ctx.dispatch(encoder, k, &[&u, src, dst], p.dims.len() as u32);
}

/// The whole stage (twin [`crate::cpu::smooth::smooth_passes`]): records `p.passes` passes,
/// the first reading `src` (`src` → `scratch` → `dst`), the others `dst` (`dst` → `scratch` →
/// `dst`); with `passes == 0`, a copy of `src` into `dst`. Afterwards `dst` holds the smoothed
/// keys, `src` is unchanged and `scratch` holds garbage. The three buffers hold at least
/// `dims.len()` `u32`s each and are distinct.
pub fn smooth(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &SmoothParams,
    src: &wgpu::Buffer,
    scratch: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) {
    let n = p.dims.len() as u64;
    if p.passes == 0 {
        if n > 0 {
            ctx.copy(encoder, src, 0, dst, 0, 4 * n);
        }
        return;
    }
    let mut from = src;
    for _ in 0..p.passes {
        smooth_rows(ctx, encoder, p, from, scratch);
        smooth_cols(ctx, encoder, p, scratch, dst);
        from = dst;
    }
}

/// Upload `keys`, smooth them and read the result back (tests).
pub fn smooth_image(ctx: &GpuContext, p: &SmoothParams, keys: &[u32]) -> Result<Vec<u32>> {
    let n = p.dims.len();
    ctx.check_size(p.dims.width as usize, p.dims.height as usize)?;
    if keys.len() != n {
        return Err(Error::BadData(format!(
            "{} keys for {}×{}",
            keys.len(),
            p.dims.width,
            p.dims.height
        )));
    }
    ctx.run_and_read("floodseg.smooth", n, |enc| {
        let src = ctx.storage_init("floodseg.smooth.keys", keys);
        let scratch = ctx.storage("floodseg.smooth.scratch", n);
        let dst = ctx.storage("floodseg.smooth.smoothed", n);
        smooth(ctx, enc, p, &src, &scratch, &dst);
        Ok(dst)
    })
}
