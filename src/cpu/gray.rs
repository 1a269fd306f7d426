//! Stage **gray**: input samples → one `u32` gray *key* per pixel. Class: *map*.
//!
//! - gray u8/u16 (1 or 2 channels; alpha ignored): key = the sample value;
//! - RGB/RGBA u8/u16: key = `2125 R + 7154 G + 721 B`, i.e. scikit-image's
//!   `rgb2gray` (0.2125, 0.7154, 0.0721) scaled by 10 000, exact in integers (alpha ignored);
//! - gray f32: key = the float's *order key* ([`f32_key`]): a bijection from non-NaN floats onto
//!   `u32` that preserves order (−0.0 is first made +0.0). Thresholds and the Otsu level are
//!   mapped through the same function, so `key(v) < key(t)` ⇔ `v < t` exactly: this is the
//!   documented, explicit conversion docs/design.md asks for — nothing is rounded or truncated.
//!   NaN is rejected before this stage.
//!
//! The input buffer holds one `u32` per *sample* (u8/u16 widened, f32 as raw bits).

use super::Dims;

/// Uniforms of the gray pass (WGSL `GrayParams`, keep in sync with `shaders/gray.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrayParams {
    pub dims: Dims,
    /// Samples per pixel: 1, 2 (gray+alpha), 3 (RGB) or 4 (RGBA).
    pub channels: u32,
    /// 1 when the samples are f32 bits (gray only), else 0.
    pub is_float: u32,
}

/// Order-preserving key of a float: `a < b` ⇔ `f32_key(a) < f32_key(b)` for non-NaN floats.
pub fn f32_key(bits: u32) -> u32 {
    let bits = if bits == 0x8000_0000 { 0 } else { bits }; // -0.0 → +0.0
    if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

/// Inverse of [`f32_key`].
pub fn f32_from_key(key: u32) -> f32 {
    let bits = if key & 0x8000_0000 != 0 {
        key & 0x7fff_ffff
    } else {
        !key
    };
    f32::from_bits(bits)
}

/// Entry point `gray`: one invocation per pixel.
pub fn gray(params: &GrayParams, samples: &[u32], keys: &mut [u32]) {
    let c = params.channels as usize;
    for i in 0..params.dims.len() {
        let s = &samples[i * c..i * c + c];
        keys[i] = if c >= 3 {
            2125 * s[0] + 7154 * s[1] + 721 * s[2]
        } else if params.is_float != 0 {
            f32_key(s[0])
        } else {
            s[0]
        };
    }
}

/// Entry point `gray_threshold` (the GPU's gray and threshold passes in one): [`gray`]'s keys,
/// then [`crate::cpu::threshold::threshold`]'s mask and count of them.
pub fn gray_threshold(
    params: &GrayParams,
    threshold: &crate::cpu::threshold::ThresholdParams,
    samples: &[u32],
    keys: &mut [u32],
    mask: &mut [u32],
    count: &mut [u32],
) {
    gray(params, samples, keys);
    crate::cpu::threshold::threshold(threshold, keys, mask, count);
}

/// The whole gray stage on the CPU: the keys of [`gray`], computed per channel layout in
/// parallel chunks of pixels (a *map*: each key depends on its own samples only).
pub fn gray_image(params: &GrayParams, samples: &[u32], keys: &mut [u32]) {
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 14;
    let c = params.channels as usize;
    let n = params.dims.len();
    let keys = &mut keys[..n];
    let samples = &samples[..n * c];
    keys.par_chunks_mut(CHUNK)
        .zip(samples.par_chunks(CHUNK * c))
        .for_each(|(k, s)| {
            if c >= 3 {
                for (k, s) in k.iter_mut().zip(s.chunks_exact(c)) {
                    *k = 2125 * s[0] + 7154 * s[1] + 721 * s[2];
                }
            } else if params.is_float != 0 {
                for (k, s) in k.iter_mut().zip(s.iter().step_by(c)) {
                    *k = f32_key(*s);
                }
            } else if c == 1 {
                k.copy_from_slice(s);
            } else {
                for (k, s) in k.iter_mut().zip(s.iter().step_by(c)) {
                    *k = *s;
                }
            }
        });
}

/// The whole gray stage taking the samples by value: one-channel images become their keys in
/// place (integers are their own keys, floats are mapped by [`f32_key`]), so no second image is
/// allocated; other layouts go through [`gray_image`]. Same keys as [`gray`].
pub fn gray_keys(params: &GrayParams, mut samples: Vec<u32>) -> Vec<u32> {
    use rayon::prelude::*;
    let n = params.dims.len();
    if params.channels == 1 {
        samples.truncate(n);
        if params.is_float != 0 {
            samples
                .par_chunks_mut(1 << 14)
                .for_each(|c| c.iter_mut().for_each(|s| *s = f32_key(*s)));
        }
        return samples;
    }
    let mut keys = vec![0u32; n];
    gray_image(params, &samples, &mut keys);
    keys
}
