//! Host side of stage **filter** (`shaders/filter.wgsl`; twin [`crate::cpu::filter`]).
//! Class: *map*: the table ([`crate::cpu::filter::keep_table`], built on the host from the
//! objects' areas) is uploaded once, the labels are copied into the output buffer and
//! `filter_relabel` rewrites each label in place there (`labels[i] = table[labels[i]]`), the
//! twin's in-place pass on a copy.

use bytemuck::{Pod, Zeroable};

use super::frame::Frame;
use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::filter::FilterParams;
use crate::cpu::Dims;
use crate::error::{Error, Result};

/// Uniforms of `filter_relabel`. Keep in sync with `struct FilterParams` in
/// `shaders/filter.wgsl` (twin: [`FilterParams`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct FilterUniforms {
    pub width: u32,
    pub height: u32,
    /// Entries of the table; larger labels become 0.
    pub table_len: u32,
    pub _pad: u32,
}

impl From<&FilterParams> for FilterUniforms {
    fn from(p: &FilterParams) -> Self {
        FilterUniforms {
            width: p.dims.width,
            height: p.dims.height,
            table_len: p.table_len,
            _pad: 0,
        }
    }
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[("filter_relabel", &[Uniform, Read, ReadWrite])];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub relabel: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "filter", crate::shaders::FILTER);
        Kernels {
            relabel: kernel(device, &m, "filter", ENTRY_POINTS, "filter_relabel"),
        }
    }
}

/// Entry point `filter_relabel` (twin [`crate::cpu::filter::filter_relabel`]): rewrites
/// `labels` in place through `table` (which holds at least `p.table_len` entries, or one when
/// `table_len` is 0). Records one pass.
pub fn filter_relabel(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    p: &FilterParams,
    table: &wgpu::Buffer,
    labels: &wgpu::Buffer,
) {
    let u = ctx.uniform("floodseg.filter.params", &FilterUniforms::from(p));
    let k = &ctx.kernels.filter.relabel;
    ctx.dispatch(encoder, k, &[&u, table, labels], p.dims.len() as u32);
}

/// Check a relabelling's sizes against the device (image, table).
fn check(ctx: &GpuContext, dims: Dims, table: &[u32]) -> Result<()> {
    ctx.check_size(dims.width as usize, dims.height as usize)?;
    if table.len() > u32::MAX as usize {
        return Err(Error::Limit(format!(
            "a relabelling table of {} entries (labels are u32)",
            table.len()
        )));
    }
    ctx.check_len("the filter's relabelling table", table.len() as u64)
}

/// Record the relabelling of `labels` (a `dims` image, left unchanged) through `table` into
/// `encoder`: the table is uploaded (`Queue::write_buffer`, before `encoder`'s submission), the
/// labels copied into a new buffer of `frame` and relabelled there. Returns that buffer; the
/// caller submits `encoder`.
pub fn relabel_record(
    ctx: &GpuContext,
    frame: &mut Frame,
    encoder: &mut wgpu::CommandEncoder,
    dims: Dims,
    labels: &wgpu::Buffer,
    table: &[u32],
) -> Result<wgpu::Buffer> {
    check(ctx, dims, table)?;
    let n = dims.len();
    let p = FilterParams::new(dims, table);
    let t = frame.storage_init("floodseg.filter.table", table);
    let out = frame.scratch("floodseg.filter.labels", n);
    ctx.copy(encoder, labels, 0, &out, 0, 4 * n as u64);
    filter_relabel(ctx, encoder, &p, &t, &out);
    Ok(out)
}

/// Relabel `labels` (a `dims` image on the device, left unchanged) through `table` in one
/// submission: the table uploaded, one *map* pass, the result in a new buffer from `frame`'s
/// pool (returned). Sizes are checked against the device's limits first.
pub fn relabel_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    dims: Dims,
    labels: &wgpu::Buffer,
    table: &[u32],
) -> Result<wgpu::Buffer> {
    let mut encoder = ctx.encoder("floodseg.filter");
    let out = relabel_record(ctx, frame, &mut encoder, dims, labels, table)?;
    ctx.submit("floodseg.filter", encoder)?;
    Ok(out)
}

/// Upload `labels`, relabel them through `table` and read the result back (tests).
pub fn relabel(ctx: &GpuContext, dims: Dims, labels: &[u32], table: &[u32]) -> Result<Vec<u32>> {
    let n = dims.len();
    check(ctx, dims, table)?;
    if labels.len() != n {
        return Err(Error::BadData(format!(
            "{} labels for {}×{}",
            labels.len(),
            dims.width,
            dims.height
        )));
    }
    let l = ctx.storage_init("floodseg.filter.input", labels);
    let mut frame = Frame::detached(ctx);
    let out = relabel_in(ctx, &mut frame, dims, &l, table)?;
    ctx.run_and_read("floodseg.filter.read", n, |_| Ok(out))
}
