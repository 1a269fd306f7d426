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
    /// `gray_threshold` only: the threshold's mode and bound (0 in `gray`).
    pub mode: u32,
    pub bound: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

impl From<&GrayParams> for GrayUniforms {
    fn from(p: &GrayParams) -> Self {
        GrayUniforms {
            width: p.dims.width,
            height: p.dims.height,
            channels: p.channels,
            is_float: p.is_float,
            mode: 0,
            bound: 0,
            _pad0: 0,
            _pad1: 0,
        }
    }
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[
    ("gray", &[Uniform, Read, ReadWrite]),
    (
        "gray_threshold",
        &[Uniform, Read, ReadWrite, ReadWrite, ReadWrite],
    ),
];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub gray: Kernel,
    pub gray_threshold: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "gray", crate::shaders::GRAY);
        Kernels {
            gray: kernel(device, &m, "gray", ENTRY_POINTS, "gray"),
            gray_threshold: kernel(device, &m, "gray", ENTRY_POINTS, "gray_threshold"),
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

/// Entry point `gray_threshold` (twin [`crate::cpu::gray::gray_threshold`]): the keys of
/// [`gray`] and the mask of stage threshold's `threshold` on them in one pass; `count[0]` grows
/// by the mask's pixels (the caller zeroes it). Records one pass.
#[allow(clippy::too_many_arguments)]
pub fn gray_threshold(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    params: &GrayParams,
    threshold: &crate::cpu::threshold::ThresholdParams,
    samples: &wgpu::Buffer,
    keys: &wgpu::Buffer,
    mask: &wgpu::Buffer,
    count: &wgpu::Buffer,
) {
    let u = GrayUniforms {
        mode: threshold.mode,
        bound: threshold.bound,
        ..GrayUniforms::from(params)
    };
    let u = ctx.uniform("floodseg.gray.params", &u);
    ctx.dispatch(
        encoder,
        &ctx.kernels.gray.gray_threshold,
        &[&u, samples, keys, mask, count],
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
