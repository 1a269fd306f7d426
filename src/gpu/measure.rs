//! Host side of stage **measure** (`shaders/measure.wgsl`; twin [`crate::cpu::measure`]):
//! per-object integer sums. Class: *order-free reduction* (`atomicAdd` on (lo, hi) word pairs
//! with carries, `atomicMin`, `atomicMax`).
//!
//! Names: the WGSL entry point is `measure_sums`, like the twin function. On the Rust side
//! [`measure_sums_pass`] records that entry point into a caller's encoder, [`measure_sums`] is
//! the whole stage on device buffers (the name the twin's function has), [`sums_from_words`]
//! turns the read-back words into the twin's [`ObjectSums`] and [`run_measure_sums`] uploads,
//! runs and reads back (tests).
//!
//! The sums buffer holds one record of [`WORDS`] `u32`s per object (label `l` at record
//! `l - 1`): each 64-bit sum as a (lo, hi) pair at [`COUNT`], [`SUM_Y`], …, [`SUM_KEY`], then
//! [`MIN_Y`], [`MIN_X`], [`MAX_Y`], [`MAX_X`]. It is created initialised (sums 0, minima
//! `u32::MAX`, maxima 0), so the pass needs no init pass. A frame's pipeline measures into a
//! buffer that holds the labels in front of the sums ([`measure_in`] with `copy_labels`: the pass
//! copies each label it reads), so that one copy, one barrier-separated GPU step, reads both
//! back.
//!
//! **Float images.** The twin sums float values in `f64` in raster order; a sum of floats
//! depends on its order, so it cannot be reproduced by atomics. The GPU computes every integer
//! sum (it also sums the keys, which the host drops for float images), and
//! [`sums_from_words`] computes `sum_value` on the host from the read-back labels and keys in
//! raster order, exactly as the twin does.

use bytemuck::{Pod, Zeroable};

use super::frame::Frame;
use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::gray::f32_from_key;
use crate::cpu::measure::ObjectSums;
use crate::cpu::Dims;
use crate::error::{Error, Result};

/// Uniforms of the measure pass. Keep in sync with `struct MeasureParams` in
/// `shaders/measure.wgsl` (the twin takes `dims` and `n_objects` as arguments).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct MeasureUniforms {
    pub width: u32,
    pub height: u32,
    pub n_objects: u32,
    /// Where the sums begin in the sums buffer: 0, or `width × height` when the pass also
    /// copies the labels in front of them ([`measure_in`] with `copy_labels`).
    pub sums_at: u32,
}

/// `u32` words per object record (keep in sync with `WORDS` in `shaders/measure.wgsl`).
pub const WORDS: usize = 18;
/// Word offsets in a record; 64-bit sums are (lo, hi) pairs starting there.
pub const COUNT: usize = 0;
pub const SUM_Y: usize = 2;
pub const SUM_X: usize = 4;
pub const SUM_YY: usize = 6;
pub const SUM_XX: usize = 8;
pub const SUM_XY: usize = 10;
pub const SUM_KEY: usize = 12;
pub const MIN_Y: usize = 14;
pub const MIN_X: usize = 15;
pub const MAX_Y: usize = 16;
pub const MAX_X: usize = 17;

/// Pixels per invocation (keep in sync with `CHUNK` in `shaders/measure.wgsl`).
pub const CHUNK: u32 = 16;

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[("measure_sums", &[Uniform, Read, Read, ReadWrite])];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub measure_sums: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "measure", crate::shaders::MEASURE);
        Kernels {
            measure_sums: kernel(device, &m, "measure", ENTRY_POINTS, "measure_sums"),
        }
    }
}

/// The initial record words of `n_objects` objects (sums 0, minima `u32::MAX`, maxima 0).
pub fn initial_words(n_objects: u32) -> Vec<u32> {
    let mut w = vec![0u32; n_objects as usize * WORDS];
    for r in w.chunks_exact_mut(WORDS) {
        r[MIN_Y] = u32::MAX;
        r[MIN_X] = u32::MAX;
    }
    w
}

/// Entry point `measure_sums` (twin [`crate::cpu::measure::measure_sums`], which also takes
/// `float_keys`: the pass always sums the keys, see the module doc). Records one pass;
/// `sums` must hold [`initial_words`] (or sums to add to).
pub fn measure_sums_pass(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    dims: Dims,
    labels: &wgpu::Buffer,
    keys: &wgpu::Buffer,
    n_objects: u32,
    sums: &wgpu::Buffer,
) {
    record_pass(ctx, encoder, dims, labels, keys, n_objects, sums, false);
}

/// The pass; with `copy_labels`, `sums` holds the labels (`width × height` words, copied by the
/// pass) and the sums from word `width × height` on.
#[allow(clippy::too_many_arguments)]
fn record_pass(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    dims: Dims,
    labels: &wgpu::Buffer,
    keys: &wgpu::Buffer,
    n_objects: u32,
    sums: &wgpu::Buffer,
    copy_labels: bool,
) {
    let u = ctx.uniform(
        "floodseg.measure.params",
        &MeasureUniforms {
            width: dims.width,
            height: dims.height,
            n_objects,
            sums_at: if copy_labels { dims.len() as u32 } else { 0 },
        },
    );
    ctx.dispatch(
        encoder,
        &ctx.kernels.measure.measure_sums,
        &[&u, labels, keys, sums],
        (dims.len() as u32).div_ceil(CHUNK),
    );
}

/// Check the sizes of a measure run before anything is allocated.
fn check(ctx: &GpuContext, dims: Dims, n_objects: u32) -> Result<()> {
    ctx.check_size(dims.width as usize, dims.height as usize)?;
    if dims.len() as u64 + CHUNK as u64 > u32::MAX as u64 {
        return Err(Error::Limit(format!(
            "measure: a {}×{} image has too many pixels for u32 indices",
            dims.width, dims.height
        )));
    }
    ctx.check_len(
        &format!("the sums of {n_objects} objects"),
        n_objects as u64 * WORDS as u64,
    )
}

/// The whole measure stage on device buffers: creates the sums buffer ([`WORDS`] `u32`s per
/// object, initialised), records the pass, submits and returns the buffer without reading it
/// back. `labels` and `keys` hold `width × height` `u32`s. Turn the words into
/// [`ObjectSums`] with [`sums_from_words`].
pub fn measure_sums(
    ctx: &GpuContext,
    dims: Dims,
    labels: &wgpu::Buffer,
    keys: &wgpu::Buffer,
    n_objects: u32,
) -> Result<wgpu::Buffer> {
    measure_sums_in(
        ctx,
        &mut Frame::detached(ctx),
        dims,
        labels,
        keys,
        n_objects,
    )
}

/// As [`measure_sums`], in `frame` (its buffers; timed as stage `measure`).
pub(crate) fn measure_sums_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    dims: Dims,
    labels: &wgpu::Buffer,
    keys: &wgpu::Buffer,
    n_objects: u32,
) -> Result<wgpu::Buffer> {
    measure_in(ctx, frame, dims, labels, keys, n_objects, false)
}

/// Words of [`measure_in`]'s buffer with `copy_labels`: the labels, then room for a power of
/// two of records (at least `n_objects`), so that frames whose object counts differ a little
/// share a pooled buffer.
fn with_labels_len(dims: Dims, n_objects: u32) -> usize {
    dims.len() + (n_objects as usize).next_power_of_two() * WORDS
}

/// Whether [`measure_in`]'s buffer with `copy_labels` fits the device's buffer limits; if not,
/// measure without and read the labels back on their own.
pub(crate) fn labels_fit(ctx: &GpuContext, dims: Dims, n_objects: u32) -> bool {
    ctx.check_len("", with_labels_len(dims, n_objects) as u64)
        .is_ok()
}

/// As [`measure_sums_in`]; with `copy_labels`, into one buffer that holds the labels
/// (`width × height` words, copied by the pass as it reads them) and then the sums, from word
/// `width × height` on, so that one copy reads both back ([`with_labels_len`] words).
pub(crate) fn measure_in(
    ctx: &GpuContext,
    frame: &mut Frame,
    dims: Dims,
    labels: &wgpu::Buffer,
    keys: &wgpu::Buffer,
    n_objects: u32,
    copy_labels: bool,
) -> Result<wgpu::Buffer> {
    check(ctx, dims, n_objects)?;
    let n = dims.len();
    let need = 4 * n as u64;
    for (what, b) in [("labels", labels), ("keys", keys)] {
        if b.size() < need {
            return Err(Error::BadData(format!(
                "measure: a {}-byte {what} buffer for {}×{} pixels",
                b.size(),
                dims.width,
                dims.height
            )));
        }
    }
    let len = with_labels_len(dims, n_objects);
    if copy_labels {
        let what = format!("the labels and sums of {n_objects} objects");
        ctx.check_len(&what, len as u64)?;
    }
    let out = super::scoped(ctx.device(), || {
        let init = initial_words(n_objects);
        let out = if copy_labels {
            frame.scratch_init("floodseg.measure.result", len, n, &init)
        } else {
            frame.storage_init("floodseg.measure.sums", &init)
        };
        let mut encoder = ctx.encoder("floodseg.measure");
        let span = frame.timer.begin(ctx, &mut encoder, "measure");
        record_pass(
            ctx,
            &mut encoder,
            dims,
            labels,
            keys,
            n_objects,
            &out,
            copy_labels,
        );
        frame.timer.end(ctx, &mut encoder, span);
        ctx.queue_submit(encoder.finish());
        out
    })
    .map_err(|e| Error::Backend(format!("floodseg.measure: {e}")))?;
    ctx.take_uncaptured()?;
    Ok(out)
}

/// The twin's [`ObjectSums`] from the read-back words of [`measure_sums`]. For float images
/// (`float_keys`) the GPU's key sums are dropped and `sum_value` is summed here from `labels`
/// and `keys` (the frame's, `width × height` each) in raster order, in `f64`, as the twin does;
/// otherwise `labels` and `keys` are not read.
pub fn sums_from_words(
    words: &[u32],
    n_objects: u32,
    float_keys: bool,
    labels: &[u32],
    keys: &[u32],
) -> Result<Vec<ObjectSums>> {
    let n = n_objects as usize;
    if words.len() < n * WORDS {
        return Err(Error::BadData(format!(
            "measure: {} words for {n} objects ({WORDS} each)",
            words.len()
        )));
    }
    let pair = |r: &[u32], at: usize| r[at] as u64 | (r[at + 1] as u64) << 32;
    let mut out: Vec<ObjectSums> = words[..n * WORDS]
        .chunks_exact(WORDS)
        .map(|r| ObjectSums {
            count: pair(r, COUNT),
            sum_y: pair(r, SUM_Y),
            sum_x: pair(r, SUM_X),
            sum_yy: pair(r, SUM_YY),
            sum_xx: pair(r, SUM_XX),
            sum_xy: pair(r, SUM_XY),
            min_y: r[MIN_Y],
            min_x: r[MIN_X],
            max_y: r[MAX_Y],
            max_x: r[MAX_X],
            sum_key: if float_keys { 0 } else { pair(r, SUM_KEY) },
            sum_value: 0.0,
        })
        .collect();
    if float_keys {
        if keys.len() < labels.len() {
            return Err(Error::BadData(format!(
                "measure: {} keys for {} labels",
                keys.len(),
                labels.len()
            )));
        }
        for (&l, &k) in labels.iter().zip(keys) {
            if l == 0 || l > n_objects {
                continue;
            }
            out[l as usize - 1].sum_value += f32_from_key(k) as f64;
        }
    }
    Ok(out)
}

/// Upload `labels` and `keys`, run the measure stage and read the sums back.
pub fn run_measure_sums(
    ctx: &GpuContext,
    dims: Dims,
    labels: &[u32],
    keys: &[u32],
    float_keys: bool,
    n_objects: u32,
) -> Result<Vec<ObjectSums>> {
    let n = dims.len();
    check(ctx, dims, n_objects)?;
    if labels.len() != n || keys.len() != n {
        return Err(Error::BadData(format!(
            "measure: {} labels and {} keys for {}×{} pixels",
            labels.len(),
            keys.len(),
            dims.width,
            dims.height
        )));
    }
    let l = ctx.storage_init("floodseg.measure.labels", labels);
    let k = ctx.storage_init("floodseg.measure.keys", keys);
    let sums = measure_sums(ctx, dims, &l, &k, n_objects)?;
    let len = n_objects as usize * WORDS;
    let words = ctx
        .read_buffers("floodseg.measure.read", &[(&sums, len)])?
        .pop()
        .unwrap_or_default();
    sums_from_words(&words, n_objects, float_keys, labels, keys)
}
