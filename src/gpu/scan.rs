//! Host side of the exclusive prefix sum (`shaders/scan.wgsl`; twin
//! [`crate::cpu::components::scan_exclusive`]), used by stage components to rank the roots.
//!
//! The twin's one sequential loop becomes, per level, two passes:
//! [`scan_blocks`] (each workgroup scans a block of [`SCAN_BLOCK`] elements in workgroup memory
//! and writes the block's total) and, once the block totals are scanned the same way
//! (recursively, until a single block remains — its one total is the grand total),
//! [`scan_add`] (each element adds its block's offset). Any length from 1 up: 1024 elements
//! need one level, 1 048 576 two (a 1024² frame: three passes), 2^30 three. Class: *map* per pass; no subgroup
//! operations, no atomics.

use bytemuck::{Pod, Zeroable};

use super::frame::Frame;
use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::error::{Error, Result};

/// Elements per block of [`scan_blocks`] (`BLOCK` in `shaders/scan.wgsl`; a workgroup of 256
/// invocations, four elements each; twin [`crate::cpu::components::SCAN_BLOCK`]).
pub const SCAN_BLOCK: u32 = crate::cpu::components::SCAN_BLOCK as u32;

/// Uniforms of the scan passes. Keep in sync with `struct ScanParams` in `shaders/scan.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct ScanUniforms {
    /// Number of elements scanned by this pass.
    pub len: u32,
    /// 1: `scan_blocks` scans `src[i] == i` (the roots of a forest of parent indices, stage
    /// components; twin [`crate::cpu::components::root_flags`]) instead of `src[i]`.
    pub roots: u32,
    pub _pad1: u32,
    pub _pad2: u32,
}

impl ScanUniforms {
    pub fn new(len: u32) -> Self {
        ScanUniforms {
            len,
            roots: 0,
            _pad1: 0,
            _pad2: 0,
        }
    }
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`). Both are passes of the twin's `scan_exclusive`.
pub const ENTRY_POINTS: &[EntryPoint] = &[
    ("scan_blocks", &[Uniform, Read, ReadWrite, ReadWrite]),
    ("scan_add", &[Uniform, Read, ReadWrite]),
];

/// The scan's compiled entry points.
pub(crate) struct Kernels {
    pub scan_blocks: Kernel,
    pub scan_add: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "scan", crate::shaders::SCAN);
        let k = |entry: &str| kernel(device, &m, "scan", ENTRY_POINTS, entry);
        Kernels {
            scan_blocks: k("scan_blocks"),
            scan_add: k("scan_add"),
        }
    }
}

/// Number of blocks covering `len` elements.
pub fn blocks(len: u32) -> u32 {
    len.div_ceil(SCAN_BLOCK)
}

/// Entry point `scan_blocks`: `dst[i]` = exclusive prefix sum of `src` within `i`'s block,
/// `sums[b]` = total of block `b` (`sums` holds at least [`blocks`]`(len)` elements). With
/// `roots`, the elements scanned are `src[i] == i` ([`crate::cpu::components::root_flags`]).
pub fn scan_blocks(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    len: u32,
    roots: bool,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
    sums: &wgpu::Buffer,
) {
    let params = ScanUniforms {
        roots: roots as u32,
        ..ScanUniforms::new(len)
    };
    let u = ctx.uniform("floodseg.scan.params", &params);
    let k = &ctx.kernels.scan.scan_blocks;
    // One workgroup per block.
    let (x, y) = ctx.fold_groups(blocks(len));
    ctx.dispatch_groups(encoder, k, &[&u, src, dst, sums], [x, y, 1]);
}

/// Entry point `scan_add`: `dst[i] += offsets[i / SCAN_BLOCK]`.
pub fn scan_add(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    len: u32,
    offsets: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) {
    let u = ctx.uniform("floodseg.scan.params", &ScanUniforms::new(len));
    let k = &ctx.kernels.scan.scan_add;
    ctx.dispatch(encoder, k, &[&u, offsets, dst], len);
}

/// The whole exclusive scan (twin [`crate::cpu::components::scan_exclusive`]): records every
/// level's passes into `encoder`, writing `dst[i] = src[0] + … + src[i-1]` for `i < len`, and
/// returns a new one-`u32` buffer that will hold the total (the twin's return value). Nothing
/// is read back. `len` must be at least 1.
pub fn scan_exclusive(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    len: u32,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) -> wgpu::Buffer {
    scan_exclusive_in(ctx, &mut Frame::detached(ctx), encoder, len, src, dst)
}

/// As [`scan_exclusive`], with `frame`'s buffers.
pub(crate) fn scan_exclusive_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    encoder: &mut wgpu::CommandEncoder,
    len: u32,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) -> wgpu::Buffer {
    let (offsets, total) = scan_blocks_in(ctx, frame, encoder, len, false, src, dst);
    if let Some(offsets) = offsets {
        scan_add(ctx, encoder, len, &offsets, dst);
    }
    total
}

/// The scan without its last [`scan_add`] (twin [`crate::cpu::components::scan_blocks`] and
/// the scan of its totals): `dst` gets the exclusive prefix sums within each block of
/// [`SCAN_BLOCK`] elements; returns the blocks' offsets (the exclusive scan of their totals;
/// `None` when there is one block, whose offset is 0) and a one-`u32` buffer that will hold
/// the grand total. For a consumer that adds `offsets[i / SCAN_BLOCK]` itself, one pass less.
/// With `roots`, the first level scans `src[i] == i` (see [`scan_blocks`]).
pub(crate) fn scan_blocks_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    encoder: &mut wgpu::CommandEncoder,
    len: u32,
    roots: bool,
    src: &wgpu::Buffer,
    dst: &wgpu::Buffer,
) -> (Option<wgpu::Buffer>, wgpu::Buffer) {
    let nb = blocks(len.max(1));
    let sums = frame.scratch("floodseg.scan.sums", nb as usize);
    scan_blocks(ctx, encoder, len, roots, src, dst, &sums);
    if nb == 1 {
        // One block: its total is the grand total.
        return (None, sums);
    }
    let offsets = frame.scratch("floodseg.scan.offsets", nb as usize);
    let total = scan_exclusive_in(ctx, frame, encoder, nb, &sums, &offsets);
    (Some(offsets), total)
}

/// Upload `src`, scan it on the device and read back the exclusive prefix sums and the total.
pub fn run_scan(ctx: &GpuContext, src: &[u32]) -> Result<(Vec<u32>, u32)> {
    let n = src.len();
    if n == 0 {
        return Err(Error::BadData("nothing to scan".into()));
    }
    ctx.check_len(&format!("a scan of {n} elements"), n as u64 + 1)?;
    let mut out = ctx.run_and_read("floodseg.scan", n + 1, |enc| {
        let s = ctx.storage_init("floodseg.scan.src", src);
        let d = ctx.storage("floodseg.scan.dst", n);
        let total = scan_exclusive(ctx, enc, n as u32, &s, &d);
        // Prefix sums and total in one buffer, so one readback brings both home.
        let both = ctx.storage("floodseg.scan.result", n + 1);
        ctx.copy(enc, &d, 0, &both, 0, 4 * n as u64);
        ctx.copy(enc, &total, 0, &both, 4 * n as u64, 4);
        Ok(both)
    })?;
    let total = out.pop().unwrap_or(0);
    Ok((out, total))
}
