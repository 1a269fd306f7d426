//! Host side of stage **gray** (`shaders/gray.wgsl`; twin [`crate::cpu::gray`]). Class: *map*.

use bytemuck::{Pod, Zeroable};

use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::gray::GrayParams;
use crate::error::{Error, Result};

/// Uniforms of the gray pass. Keep in sync with `struct GrayParams` in `shaders/gray.wgsl`
/// (twin: [`GrayParams`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct GrayUniforms {
    pub width: u32,
    pub height: u32,
    pub channels: u32,
    pub is_float: u32,
}

impl From<&GrayParams> for GrayUniforms {
    fn from(p: &GrayParams) -> Self {
        GrayUniforms {
            width: p.dims.width,
            height: p.dims.height,
            channels: p.channels,
            is_float: p.is_float,
        }
    }
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[("gray", &[Uniform, Read, ReadWrite])];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub gray: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "gray", crate::shaders::GRAY);
        Kernels {
            gray: kernel(device, &m, "gray", ENTRY_POINTS, "gray"),
        }
    }
}

/// Entry point `gray` (twin [`crate::cpu::gray::gray`]): `keys[i]` from the `channels`
/// samples of pixel `i`. Records one pass.
pub fn gray(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    params: &GrayParams,
    samples: &wgpu::Buffer,
    keys: &wgpu::Buffer,
) {
    let u = ctx.uniform("floodseg.gray.params", &GrayUniforms::from(params));
    ctx.dispatch(
        encoder,
        &ctx.kernels.gray.gray,
        &[&u, samples, keys],
        params.dims.len() as u32,
    );
}

/// Upload `samples`, run the gray pass and read the keys back.
pub fn run_gray(ctx: &GpuContext, params: &GrayParams, samples: &[u32]) -> Result<Vec<u32>> {
    let n = params.dims.len();
    ctx.check_size(params.dims.width as usize, params.dims.height as usize)?;
    if !(1..=4).contains(&params.channels) || samples.len() != n * params.channels as usize {
        return Err(Error::BadData(format!(
            "{} channels with {} samples for {}×{} pixels",
            params.channels,
            samples.len(),
            params.dims.width,
            params.dims.height
        )));
    }
    ctx.check_len("the gray stage's samples", samples.len() as u64)?;
    ctx.run_and_read("floodseg.gray", n, |enc| {
        let s = ctx.storage_init("floodseg.gray.samples", samples);
        let keys = ctx.storage("floodseg.gray.keys", n);
        gray(ctx, enc, params, &s, &keys);
        Ok(keys)
    })
}
