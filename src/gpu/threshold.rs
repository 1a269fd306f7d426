//! Host side of stage **threshold** (`shaders/threshold.wgsl`; twin
//! [`crate::cpu::threshold`]). Class: *map*. The bound is resolved on the host by
//! [`crate::cpu::threshold::threshold_params`], shared by both backends.

use bytemuck::{Pod, Zeroable};

use super::frame::Frame;
use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::threshold::{otsu_level_from_histogram, GrayScale, ThresholdParams};
use crate::cpu::Dims;
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
pub const ENTRY_POINTS: &[EntryPoint] = &[
    ("threshold", &[Uniform, Read, ReadWrite]),
    ("threshold_histogram", &[Uniform, Read, ReadWrite]),
];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub threshold: Kernel,
    pub threshold_histogram: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "threshold", crate::shaders::THRESHOLD);
        Kernels {
            threshold: kernel(device, &m, "threshold", ENTRY_POINTS, "threshold"),
            threshold_histogram: kernel(
                device,
                &m,
                "threshold",
                ENTRY_POINTS,
                "threshold_histogram",
            ),
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

/// Entry point `threshold_histogram` (twin [`crate::cpu::threshold::threshold_histogram`]):
/// `hist[key] += 1`. Records one pass; `hist` must be zeroed.
pub fn threshold_histogram(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    params: &ThresholdParams,
    keys: &wgpu::Buffer,
    hist: &wgpu::Buffer,
) {
    let u = ctx.uniform(
        "floodseg.threshold.params",
        &ThresholdUniforms::from(params),
    );
    ctx.dispatch(
        encoder,
        &ctx.kernels.threshold.threshold_histogram,
        &[&u, keys, hist],
        params.dims.len() as u32,
    );
}

/// The threshold uniforms for Otsu on an integer gray image whose keys are on the device:
/// the histogram is taken by `threshold_histogram` and read back (256 or 65536 counts), and the
/// level is computed on the host by the function the CPU backend calls. `None` for RGB and float
/// images, whose 256-bin histograms are taken on the host in numpy's arithmetic (float64 bin
/// edges for RGB, float32 for float images; `cpu::threshold::otsu_level`).
pub fn otsu_params(
    ctx: &GpuContext,
    dims: Dims,
    scale: GrayScale,
    dark: bool,
    keys: &wgpu::Buffer,
) -> Result<Option<ThresholdParams>> {
    otsu_params_in(ctx, &mut Frame::detached(ctx), dims, scale, dark, keys)
}

/// As [`otsu_params`], in `frame` (its buffers; the histogram pass timed as `threshold`).
pub(crate) fn otsu_params_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    dims: Dims,
    scale: GrayScale,
    dark: bool,
    keys: &wgpu::Buffer,
) -> Result<Option<ThresholdParams>> {
    let GrayScale::Int { scale: 1, full } = scale else {
        return Ok(None);
    };
    let bins = full as usize + 1;
    let p = ThresholdParams {
        dims,
        mode: 0,
        bound: 0,
    };
    let label = "floodseg.threshold.histogram";
    let encoder = ctx.encoder(label);
    let hist = ctx.run_and_read_in(frame, label, bins, encoder, |enc, frame| {
        let h = frame.storage("floodseg.threshold.hist", bins, enc);
        let span = frame.timer.begin(ctx, enc, "threshold");
        threshold_histogram(ctx, enc, &p, keys, &h);
        frame.timer.end(ctx, enc, span);
        Ok(h)
    })?;
    let t = otsu_level_from_histogram(&hist);
    Ok(Some(crate::cpu::threshold::otsu_params(
        dims, scale, t, dark,
    )))
}
