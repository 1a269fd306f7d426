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
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[
    ("threshold", &[Uniform, Read, ReadWrite, ReadWrite]),
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

/// Entry point `threshold` (twin [`crate::cpu::threshold::threshold`]). Records one pass:
/// the mask, and `count[0] +=` its set pixels (`count` holds one `u32`, zeroed by the caller;
/// twin [`crate::cpu::threshold::threshold_count`]).
pub fn threshold(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    params: &ThresholdParams,
    keys: &wgpu::Buffer,
    mask: &wgpu::Buffer,
    count: &wgpu::Buffer,
) {
    let u = ctx.uniform(
        "floodseg.threshold.params",
        &ThresholdUniforms::from(params),
    );
    ctx.dispatch(
        encoder,
        &ctx.kernels.threshold.threshold,
        &[&u, keys, mask, count],
        params.dims.len() as u32,
    );
}

/// Upload `keys`, run the threshold pass and read the mask back.
pub fn run_threshold(ctx: &GpuContext, params: &ThresholdParams, keys: &[u32]) -> Result<Vec<u32>> {
    Ok(run_threshold_counted(ctx, params, keys)?.0)
}

/// As [`run_threshold`], with the pass's count of set pixels.
pub fn run_threshold_counted(
    ctx: &GpuContext,
    params: &ThresholdParams,
    keys: &[u32],
) -> Result<(Vec<u32>, u32)> {
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
    let k = ctx.storage_init("floodseg.threshold.keys", keys);
    let mask = ctx.storage("floodseg.threshold.mask", n);
    let count = ctx.storage("floodseg.threshold.count", 1);
    let mut enc = ctx.encoder("floodseg.threshold");
    threshold(ctx, &mut enc, params, &k, &mask, &count);
    ctx.submit("floodseg.threshold", enc)?;
    let mut out = ctx.read_buffers("floodseg.threshold", &[(&mask, n), (&count, 1)])?;
    let c = out.pop().unwrap_or_default().first().copied().unwrap_or(0);
    Ok((out.pop().unwrap_or_default(), c))
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
    Ok(otsu_params_in(ctx, &mut Frame::detached(ctx), dims, scale, dark, keys)?.map(|(p, _)| p))
}

/// As [`otsu_params`], in `frame` (its buffers; the histogram pass timed as `threshold`),
/// with Otsu's level in the input's units.
pub(crate) fn otsu_params_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    dims: Dims,
    scale: GrayScale,
    dark: bool,
    keys: &wgpu::Buffer,
) -> Result<Option<(ThresholdParams, f64)>> {
    let GrayScale::Int { scale: 1, full } = scale else {
        return Ok(None);
    };
    let t = otsu_level_in(ctx, frame, dims, full as usize + 1, keys)?;
    Ok(Some((
        crate::cpu::threshold::otsu_params(dims, scale, t, dark),
        t,
    )))
}

/// Otsu's level of integer gray keys on the device: the `threshold_histogram` pass over `bins`
/// bins (256 or 65 536), one readback, and the level computed on the host by the function the
/// CPU backend calls ([`otsu_level_from_histogram`]). Timed as `threshold`.
pub(crate) fn otsu_level_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    dims: Dims,
    bins: usize,
    keys: &wgpu::Buffer,
) -> Result<f64> {
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
    Ok(otsu_level_from_histogram(&hist))
}
