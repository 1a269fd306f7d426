//! Host side of stage **threshold** (`shaders/threshold.wgsl`; twin
//! [`crate::cpu::threshold`]). Class: *map*. The bound is resolved on the host by
//! [`crate::cpu::threshold::threshold_params`], shared by both backends.

use bytemuck::{Pod, Zeroable};

use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::threshold::ThresholdParams;
use crate::error::{Error, Result};

/// Uniforms of the threshold pass. Keep in sync with `struct ThresholdParams` in
/// `shaders/threshold.wgsl` (twin: [`ThresholdParams`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct ThresholdUniforms {
    pub width: u32,
    pub height: u32,
    pub mode: u32,
    pub bound: u32,
}

impl From<&ThresholdParams> for ThresholdUniforms {
    fn from(p: &ThresholdParams) -> Self {
        ThresholdUniforms {
            width: p.dims.width,
            height: p.dims.height,
            mode: p.mode,
            bound: p.bound,
        }
    }
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[("threshold", &[Uniform, Read, ReadWrite])];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub threshold: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "threshold", crate::shaders::THRESHOLD);
        Kernels {
            threshold: kernel(device, &m, "threshold", ENTRY_POINTS, "threshold"),
        }
    }
}

/// Entry point `threshold` (twin [`crate::cpu::threshold::threshold`]). Records one pass.
pub fn threshold(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    params: &ThresholdParams,
    keys: &wgpu::Buffer,
    mask: &wgpu::Buffer,
) {
    let u = ctx.uniform(
        "floodseg.threshold.params",
        &ThresholdUniforms::from(params),
    );
    ctx.dispatch(
        encoder,
        &ctx.kernels.threshold.threshold,
        &[&u, keys, mask],
        params.dims.len() as u32,
    );
}

/// Upload `keys`, run the threshold pass and read the mask back.
pub fn run_threshold(ctx: &GpuContext, params: &ThresholdParams, keys: &[u32]) -> Result<Vec<u32>> {
    let n = params.dims.len();
    ctx.check_size(params.dims.width as usize, params.dims.height as usize)?;
    if keys.len() != n {
        return Err(Error::BadData(format!(
            "{} keys for {}×{} pixels",
            keys.len(),
            params.dims.width,
            params.dims.height
        )));
    }
    ctx.run_and_read("floodseg.threshold", n, |enc| {
        let k = ctx.storage_init("floodseg.threshold.keys", keys);
        let mask = ctx.storage("floodseg.threshold.mask", n);
        threshold(ctx, enc, params, &k, &mask);
        Ok(mask)
    })
}
