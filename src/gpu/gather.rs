//! Host side of the readback gather (`shaders/gather.wgsl`; twin [`crate::cpu::gather`]): up
//! to [`MAX_PARTS`] small buffers (counts, convergence flags) concatenated on the device by one
//! pass, so [`GpuContext::read_buffers`] copies them into its readback with one copy instead
//! of one each.

use bytemuck::{Pod, Zeroable};

use super::frame::Frame;
use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};

/// Inputs of one gather pass (the shader's `src0` … `src6`; 8 storage bindings per stage).
pub const MAX_PARTS: usize = 7;
/// Largest part the readbacks gather (words); larger ones are copied on their own.
pub const MAX_WORDS: usize = 64;

/// Uniforms of `gather_words`. Keep in sync with `struct GatherParams` in
/// `shaders/gather.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct GatherUniforms {
    pub len0: u32,
    pub len1: u32,
    pub len2: u32,
    pub len3: u32,
    pub len4: u32,
    pub len5: u32,
    pub len6: u32,
    pub _pad: u32,
}

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[(
    "gather_words",
    &[Uniform, Read, Read, Read, Read, Read, Read, Read, ReadWrite],
)];

/// The gather's compiled entry point.
pub(crate) struct Kernels {
    pub gather_words: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "gather", crate::shaders::GATHER);
        Kernels {
            gather_words: kernel(device, &m, "gather", ENTRY_POINTS, "gather_words"),
        }
    }
}

/// Record `gather_words` (twin [`crate::cpu::gather::gather_words`]) of `parts` — `(buffer,
/// words)`, 1 to [`MAX_PARTS`] of them — into a buffer of their total length, returned. Unused
/// bindings repeat the first part with no words taken (read-only bindings may share a buffer).
pub(crate) fn gather_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    encoder: &mut wgpu::CommandEncoder,
    parts: &[(&wgpu::Buffer, usize)],
) -> wgpu::Buffer {
    assert!(
        (1..=MAX_PARTS).contains(&parts.len()),
        "gather: {} parts",
        parts.len()
    );
    let total: usize = parts.iter().map(|(_, n)| n).sum();
    let mut lens = [0u32; MAX_PARTS];
    let mut srcs = [parts[0].0; MAX_PARTS];
    for (k, (b, n)) in parts.iter().enumerate() {
        lens[k] = *n as u32;
        srcs[k] = b;
    }
    let u = ctx.uniform(
        "floodseg.gather.params",
        &GatherUniforms {
            len0: lens[0],
            len1: lens[1],
            len2: lens[2],
            len3: lens[3],
            len4: lens[4],
            len5: lens[5],
            len6: lens[6],
            _pad: 0,
        },
    );
    let dst = frame.scratch("floodseg.gather.words", total);
    let b = [
        &u, srcs[0], srcs[1], srcs[2], srcs[3], srcs[4], srcs[5], srcs[6], &dst,
    ];
    ctx.dispatch_groups(encoder, &ctx.kernels.gather.gather_words, &b, [1, 1, 1]);
    dst
}
