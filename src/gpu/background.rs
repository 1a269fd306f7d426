//! Host side of stage **background** (`shaders/background.wgsl`; twin
//! [`crate::cpu::background`]). Class: *Jacobi*: `window_rows`, `window_cols` (the first extreme),
//! `window_rows`, `window_cols` (the second), `subtract`, each a pass from one device buffer into
//! another, the same sequence as the twin's [`crate::cpu::background::flatten`].

use bytemuck::{Pod, Zeroable};

use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::background::{extremes, BackgroundParams, Extreme};
use crate::error::{Error, Result};

/// Uniforms of the background passes. Keep in sync with `struct BackgroundParams` in
/// `shaders/background.wgsl` (twin: [`BackgroundParams`], plus the pass's extreme).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct BackgroundUniforms {
    pub width: u32,
    pub height: u32,
    pub radius: u32,
    /// 1: dark objects (closing, `key_max − (B − v)`); 0: bright (opening, `v − B`).
    pub dark: u32,
    pub key_max: u32,
    /// 1: the window pass takes the max; 0: the min.
    pub take_max: u32,
    pub _pad0: u32,
    pub _pad1: u32,
}

impl BackgroundUniforms {
    pub fn new(p: &BackgroundParams, e: Extreme) -> Self {
        BackgroundUniforms {
            width: p.dims.width,
            height: p.dims.height,
            radius: p.radius,
            dark: u32::from(p.dark),
            key_max: p.key_max,
            take_max: u32::from(e == Extreme::Max),
            _pad0: 0,
            _pad1: 0,
        }
    }
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[
    ("window_rows", &[Uniform, Read, ReadWrite]),
    ("window_cols", &[Uniform, Read, ReadWrite]),
    ("subtract", &[Uniform, Read, ReadWrite, Read]),
];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub rows: Kernel,
    pub cols: Kernel,
    pub subtract: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "background", crate::shaders::BACKGROUND);
        Kernels {
            rows: kernel(device, &m, "background", ENTRY_POINTS, "window_rows"),
            cols: kernel(device, &m, "background", ENTRY_POINTS, "window_cols"),
            subtract: kernel(device, &m, "background", ENTRY_POINTS, "subtract"),
        }
    }
}

/// One window pass of `kernel` (`window_rows` or `window_cols`) taking the extreme `e`.
fn window(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    kernel: &Kernel,
    p: &BackgroundParams,
    e: Extreme,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) {
    let u = ctx.uniform("floodseg.background.params", &BackgroundUniforms::new(p, e));
    ctx.dispatch(encoder, kernel, &[&u, src, dst], p.dims.len() as u32);
}

/// Entry point `window_rows` (twin [`crate::cpu::background::window_rows`]). Records one pass.
pub fn window_rows(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &BackgroundParams,
    e: Extreme,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) {
    window(ctx, encoder, &ctx.kernels.background.rows, p, e, src, dst);
}

/// Entry point `window_cols` (twin [`crate::cpu::background::window_cols`]). Records one pass.
pub fn window_cols(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &BackgroundParams,
    e: Extreme,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) {
    window(ctx, encoder, &ctx.kernels.background.cols, p, e, src, dst);
}

/// Entry point `subtract` (twin [`crate::cpu::background::subtract`]). Records one pass.
pub fn subtract(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &BackgroundParams,
    keys: &wgpu::Buffer,
    back: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) {
    let u = ctx.uniform(
        "floodseg.background.params",
        &BackgroundUniforms::new(p, Extreme::Max),
    );
    let k = &ctx.kernels.background.subtract;
    ctx.dispatch(encoder, k, &[&u, keys, dst, back], p.dims.len() as u32);
}

/// The whole stage (twin [`crate::cpu::background::flatten`]): the background of `keys` in
/// `a` (`keys` → `b` → `a` → `b` → `a`), then the flattened keys in `dst`. `keys` is unchanged;
/// `a` holds the background `B` afterwards, `b` garbage. The four buffers hold at least
/// `dims.len()` `u32`s each and are distinct.
pub fn flatten(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &BackgroundParams,
    keys: &wgpu::Buffer,
    a: &wgpu::Buffer,
    b: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) {
    let mut from = keys;
    for e in extremes(p.dark) {
        window_rows(ctx, encoder, p, e, from, b);
        window_cols(ctx, encoder, p, e, b, a);
        from = a;
    }
    subtract(ctx, encoder, p, keys, a, dst);
}

/// Upload `keys`, flatten them and read back the background and the flattened keys (tests).
pub fn flatten_image(
    ctx: &GpuContext,
    p: &BackgroundParams,
    keys: &[u32],
) -> Result<(Vec<u32>, Vec<u32>)> {
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
    // the whole stage, reading back the background (`a`) or the flattened keys (`dst`)
    let run = |want_background: bool| {
        ctx.run_and_read("floodseg.background", n, |enc| {
            let src = ctx.storage_init("floodseg.background.keys", keys);
            let a = ctx.storage("floodseg.background.a", n);
            let b = ctx.storage("floodseg.background.b", n);
            let dst = ctx.storage("floodseg.background.out", n);
            flatten(ctx, enc, p, &src, &a, &b, &dst);
            Ok(if want_background { a } else { dst })
        })
    };
    Ok((run(true)?, run(false)?))
}
