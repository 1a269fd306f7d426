//! Stage **smooth**: integer binomial smoothing of the gray keys, before the threshold.
//! Class: *Jacobi* (each pass is a *map* from one buffer into another; both backends run the
//! same sequence of passes).
//!
//! One smoothing pass is the `[1 2 1] / 4` kernel along each row ([`smooth_rows`]), then along
//! each column ([`smooth_cols`]). Each 1-D step computes, for the pixel `b` and its two
//! neighbours `a` and `c` on that axis,
//!
//! ```text
//! out = (a + 2b + c + 2) >> 2        (the exact quotient ⌊(a + 2b + c + 2) / 4⌋: round half up)
//! ```
//!
//! with edge pixels replicated (`scipy.ndimage`'s `mode='nearest'`: the neighbour beyond the
//! first/last pixel of a row or column is that pixel itself). [`SmoothParams::passes`] repeats
//! the pass: `passes` passes approximate a Gaussian of variance `σ² ≈ passes / 2` per axis
//! (each `[1 2 1] / 4` has variance 1/2; rounding adds at most 1/2 per step). `passes == 0`
//! leaves the keys unchanged. The rounding makes the passes non-linear, so the order (rows then
//! columns, pass after pass) is part of the rule.
//!
//! **Integer keys.** The stage is meant for the keys of integer images (`cpu::gray`): a u8/u16
//! sample itself (≤ 65 535) or, for RGB, `2125 R + 7154 G + 721 B ≤ 10 000 · 65 535 =
//! 655 350 000` ([`MAX_INTEGER_KEY`]). *No overflow*: for keys `a, b, c ≤ 655 350 000` the
//! plain sum is `a + 2b + c + 2 ≤ 4 · 655 350 000 + 2 = 2 621 400 002 < 2³² = 4 294 967 296`,
//! so `(a + 2b + c + 2) >> 2` computed in `u32` is exact. [`blur3`] nevertheless computes the
//! same quotient without forming the sum (split into quotient and remainder parts, see there),
//! so it cannot wrap for *any* `u32` inputs — the order keys of float images (up to
//! `0xff80_0000`) included, whose smoothed values are then averages of keys, not of floats. A
//! smoothed key never exceeds the largest of its three inputs, so later passes stay in range.

use super::Dims;

/// The largest key the gray stage gives an integer image: RGB u16 white, `10 000 · 65 535`.
pub const MAX_INTEGER_KEY: u32 = 10_000 * 65_535;

/// Uniforms of the smoothing passes (WGSL `SmoothParams`, keep in sync with
/// `shaders/smooth.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmoothParams {
    pub dims: Dims,
    /// Number of passes (each rows then columns); 0 = no smoothing.
    pub passes: u32,
}

/// `(a + 2b + c + 2) >> 2`, exactly, for any `u32` inputs (WGSL twin of the same name).
///
/// With `a = 4a₁ + a₀`, `b = 2b₁ + b₀`, `c = 4c₁ + c₀` (`a₀, c₀ < 4`, `b₀ < 2`):
/// `a + 2b + c + 2 = 4(a₁ + b₁ + c₁) + (a₀ + 2b₀ + c₀ + 2)`, so the quotient by 4 is
/// `a₁ + b₁ + c₁ + ((a₀ + 2b₀ + c₀ + 2) >> 2)`. No intermediate overflows: the remainder part is
/// at most `3 + 2 + 3 + 2 = 10`, and the total is the exact quotient, which is at most
/// `max(a, b, c) ≤ u32::MAX` (`(4·max + 2) >> 2 = max`).
#[inline]
pub fn blur3(a: u32, b: u32, c: u32) -> u32 {
    (a >> 2) + (b >> 1) + (c >> 2) + (((a & 3) + 2 * (b & 1) + (c & 3) + 2) >> 2)
}

/// Entry point `smooth_rows`: `dst[y, x] = blur3(src[y, x-1], src[y, x], src[y, x+1])`, the
/// neighbours clamped to the row (edge replicated).
pub fn smooth_rows(p: &SmoothParams, src: &[u32], dst: &mut [u32]) {
    let (w, h) = (p.dims.width, p.dims.height);
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) as usize;
            let row = (y * w) as usize;
            let l = x - x.min(1);
            let r = x + (w - 1 - x).min(1);
            dst[i] = blur3(src[row + l as usize], src[i], src[row + r as usize]);
        }
    }
}

/// Entry point `smooth_cols`: `dst[y, x] = blur3(src[y-1, x], src[y, x], src[y+1, x])`, the
/// neighbours clamped to the column (edge replicated).
pub fn smooth_cols(p: &SmoothParams, src: &[u32], dst: &mut [u32]) {
    let (w, h) = (p.dims.width, p.dims.height);
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) as usize;
            let u = y - y.min(1);
            let d = y + (h - 1 - y).min(1);
            dst[i] = blur3(src[(u * w + x) as usize], src[i], src[(d * w + x) as usize]);
        }
    }
}

/// The whole stage with the shader's passes: `passes` × ([`smooth_rows`] then
/// [`smooth_cols`]), ping-ponging between two buffers. `keys` holds at least `dims.len()` keys.
pub fn smooth_passes(p: &SmoothParams, keys: &[u32]) -> Vec<u32> {
    let n = p.dims.len();
    let mut a = keys[..n].to_vec();
    let mut b = vec![0u32; n];
    for _ in 0..p.passes {
        smooth_rows(p, &a, &mut b);
        smooth_cols(p, &b, &mut a);
    }
    a
}

/// One row of [`smooth_rows`] on slices (`d.len() == s.len() >= 1`; vectorisable).
fn blur_row(s: &[u32], d: &mut [u32]) {
    let l = s.len();
    if l == 1 {
        d[0] = s[0]; // blur3(s, s, s) = s
        return;
    }
    d[0] = blur3(s[0], s[0], s[1]);
    for (o, ((&a, &b), &c)) in d[1..l - 1]
        .iter_mut()
        .zip(s[..l - 2].iter().zip(&s[1..l - 1]).zip(&s[2..]))
    {
        *o = blur3(a, b, c);
    }
    d[l - 1] = blur3(s[l - 2], s[l - 1], s[l - 1]);
}

/// The whole stage scheduled for a CPU, same rule and pass order as [`smooth_passes`]: each
/// row step on whole-row slices, each column step combining three whole rows (the row above,
/// the row, the row below, clamped), rows in parallel. Returns the smoothed keys. Equal to
/// [`smooth_passes`] (tests/gpu/smooth.rs).
pub fn smooth(p: &SmoothParams, keys: &[u32]) -> Vec<u32> {
    use rayon::prelude::*;
    let n = p.dims.len();
    let (w, h) = (p.dims.width as usize, p.dims.height as usize);
    let mut a = keys[..n].to_vec();
    if p.passes == 0 || n == 0 {
        return a;
    }
    let mut b = vec![0u32; n];
    for _ in 0..p.passes {
        b.par_chunks_mut(w)
            .zip(a.par_chunks(w))
            .with_min_len(16)
            .for_each(|(d, s)| blur_row(s, d));
        let src = &b;
        a.par_chunks_mut(w)
            .enumerate()
            .with_min_len(16)
            .for_each(|(y, d)| {
                let row = |yy: usize| &src[yy * w..(yy + 1) * w];
                let (up, mid, down) = (row(y.saturating_sub(1)), row(y), row((y + 1).min(h - 1)));
                for (o, ((&u, &m), &dn)) in d.iter_mut().zip(up.iter().zip(mid).zip(down)) {
                    *o = blur3(u, m, dn);
                }
            });
    }
    a
}
