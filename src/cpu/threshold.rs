//! Stage **threshold**: gray key → 0/1 mask. Class: *map*.
//!
//! The pass compares each key with one integer bound ([`ThresholdParams`]); everything about
//! units, fractional thresholds, float images and Otsu is resolved on the host, once per frame,
//! by [`threshold_params`] — the same function for both backends, so the GPU shader stays a
//! single comparison.
//!
//! Semantics (docs/design.md, stage 2):
//! - a fixed threshold `T` is in the input's own units: 0–255 for 8-bit, raw counts for 16-bit,
//!   `rgb2gray × 255` (or × 65535) for RGB, the float value for f32. Objects are `value > T`
//!   (bright, default) or `value < T` (`dark`). `T` is parsed as an exact decimal, so a
//!   fractional threshold such as `127.5` compares exactly with the integer gray keys;
//! - `otsu`: `skimage.filters.threshold_otsu(image)` (scikit-image 0.26), bit for bit — one
//!   histogram bin per integer value between min and max for integer gray images; 256 equal bins
//!   between min and max (as `numpy.histogram`) for RGB (on `rgb2gray × 255`, resp. `× 65535`, as
//!   the float64 `key / 10000`) and float images (float32); scikit-image's float32 weights and the
//!   first maximum of the between-class variance (see [`otsu_level`]). Bright objects are
//!   `value > level`; with `dark` the objects are the complement, `value <= level`
//!   (`~(image > threshold_otsu(image))`).

use super::gray::{f32_from_key, f32_key};
use super::Dims;
use crate::error::{Error, Result};

/// The pass's mode (WGSL `ThresholdParams.mode`, keep in sync with `shaders/threshold.wgsl`).
pub const MODE_NONE: u32 = 0;
pub const MODE_ALL: u32 = 1;
/// `key > bound`
pub const MODE_ABOVE: u32 = 2;
/// `key < bound`
pub const MODE_BELOW: u32 = 3;

/// Uniforms of the threshold pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThresholdParams {
    pub dims: Dims,
    pub mode: u32,
    pub bound: u32,
}

/// Entry point `threshold`: one invocation per pixel, `mask[i] ∈ {0, 1}`, and `count[0]` grows
/// by the pixels set (the shader's order-free reduction; [`threshold_count`]).
pub fn threshold(params: &ThresholdParams, keys: &[u32], mask: &mut [u32], count: &mut [u32]) {
    for i in 0..params.dims.len() {
        let k = keys[i];
        let on = match params.mode {
            MODE_ALL => true,
            MODE_ABOVE => k > params.bound,
            MODE_BELOW => k < params.bound,
            _ => false,
        };
        mask[i] = on as u32;
        count[0] += on as u32;
    }
}

/// The `threshold` pass's count of set pixels (the shader's `count[0]`, an order-free
/// reduction: one `atomicAdd` per workgroup): the sum of the 0/1 mask.
pub fn threshold_count(mask: &[u32]) -> u64 {
    mask.iter().map(|&m| u64::from(m)).sum()
}

/// The threshold whose mask is the intersection of `a`'s and `b`'s (same frame, same
/// polarity): `--core`'s mask, which must lie inside the threshold's so that its markers do.
/// Bounds of opposite directions cannot be intersected by one pass; `a` is returned then (the
/// pipeline never asks: both come from the same `--dark`/`--bright`).
pub fn stricter(a: &ThresholdParams, b: &ThresholdParams) -> ThresholdParams {
    let (mode, bound) = match (a.mode, b.mode) {
        (MODE_NONE, _) | (_, MODE_NONE) => (MODE_NONE, 0),
        (MODE_ALL, m) => (m, b.bound),
        (m, MODE_ALL) => (m, a.bound),
        (MODE_ABOVE, MODE_ABOVE) => (MODE_ABOVE, a.bound.max(b.bound)),
        (MODE_BELOW, MODE_BELOW) => (MODE_BELOW, a.bound.min(b.bound)),
        _ => (a.mode, a.bound),
    };
    ThresholdParams {
        dims: a.dims,
        mode,
        bound,
    }
}

/// The whole threshold stage on the CPU: the mask of [`threshold`], with the mode resolved once
/// and the pixels compared in parallel chunks (a *map*).
pub fn threshold_image(params: &ThresholdParams, keys: &[u32], mask: &mut [u32]) {
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 14;
    let n = params.dims.len();
    let b = params.bound;
    let mode = params.mode;
    mask[..n]
        .par_chunks_mut(CHUNK)
        .zip(keys[..n].par_chunks(CHUNK))
        .for_each(|(m, k)| {
            let it = m.iter_mut().zip(k);
            match mode {
                MODE_ALL => it.for_each(|(m, _)| *m = 1),
                MODE_ABOVE => it.for_each(|(m, &k)| *m = (k > b) as u32),
                MODE_BELOW => it.for_each(|(m, &k)| *m = (k < b) as u32),
                _ => it.for_each(|(m, _)| *m = 0),
            }
        });
}

/// Entry point `threshold_histogram` (*order-free reduction*, `atomicAdd`): `hist[key] += 1`
/// for every pixel. Used for Otsu on integer gray images, whose keys are the sample values
/// (`hist` has `full + 1` bins: 256 or 65536); keys beyond the last bin are not counted.
pub fn threshold_histogram(params: &ThresholdParams, keys: &[u32], hist: &mut [u32]) {
    for &k in keys.iter().take(params.dims.len()) {
        if (k as usize) < hist.len() {
            hist[k as usize] += 1;
        }
    }
}

/// What the keys of a gray image mean (set by the gray stage's host side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrayScale {
    /// Integer keys equal to `value × scale` (scale 1 for gray, 10 000 for RGB).
    /// `full` is the full-scale value of the input type (255 or 65535), used for RGB Otsu.
    Int { scale: u32, full: u32 },
    /// Keys are [`f32_key`]s of float values.
    Float,
}

impl GrayScale {
    /// The key as a value in the input's units.
    pub fn value(&self, key: u32) -> f64 {
        match *self {
            GrayScale::Int { scale, .. } => key as f64 / scale as f64,
            GrayScale::Float => f32_from_key(key) as f64,
        }
    }

    /// The largest key of the scale: `full × scale` for integer images, `u32::MAX` for floats.
    pub fn key_max(&self) -> u32 {
        match *self {
            GrayScale::Int { scale, full } => full.saturating_mul(scale),
            GrayScale::Float => u32::MAX,
        }
    }
}

/// How the threshold is chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum Level {
    /// A fixed value in the input's units, kept as the user's decimal text for exactness.
    Fixed(Decimal),
    /// Otsu's method on the frame.
    Otsu,
}

/// A threshold parsed from text such as `180`, `-3`, `127.5`, `1e3`: an exact decimal
/// `mantissa × 10^-scale` for integer keys, and the correctly rounded `f64` of the text for float
/// images.
///
/// The decimal keeps at most 30 significant digits and 18 decimals; when non-zero digits are
/// dropped it stands for a value strictly between its neighbours (`…5` appended one place
/// further), which gives the same `floor`/`ceil` against integer keys at scales 1 and 10 000 as
/// the full text. Magnitudes beyond 1e15 saturate there (no integer key times its scale comes
/// near); `value` keeps the full range for float images.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decimal {
    pub mantissa: i128,
    pub scale: u32,
    /// The text's value as the nearest `f64`.
    pub value: f64,
}

impl Decimal {
    /// Parse `[+-]digits[.digits][e[+-]digits]`; `None` for anything else (NaN, inf, junk).
    pub fn parse(text: &str) -> Option<Decimal> {
        let t = text.trim();
        let (neg, body) = match t.as_bytes().first()? {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let (num, exp) = match body.find(['e', 'E']) {
            Some(p) => {
                let e = &body[p + 1..];
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                // saturate absurd exponents instead of failing to parse them
                let e: i64 = e.parse().unwrap_or(if e.starts_with('-') {
                    -100_000
                } else {
                    100_000
                });
                (&body[..p], e.clamp(-100_000, 100_000))
            }
            None => (body, 0),
        };
        let (int, frac) = match num.find('.') {
            Some(p) => (&num[..p], &num[p + 1..]),
            None => (num, ""),
        };
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let value: f64 = format!("{}{int}.{frac}e{exp}", if neg { "-" } else { "" })
            .replace(".e", ".0e")
            .parse()
            .ok()?;
        // value = 0.digits × 10^point, digits without leading zeros
        let all: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
        let first = all.iter().position(|&d| d != 0);
        let Some(first) = first else {
            return Some(Decimal {
                mantissa: 0,
                scale: 0,
                value,
            });
        };
        let digits = &all[first..];
        let point = int.len() as i64 - first as i64 + exp; // digits before the decimal point
        if point > 16 {
            // |T| ≥ 1e16: saturate at 1e15
            let m = 10i128.pow(15);
            return Some(Decimal {
                mantissa: if neg { -m } else { m },
                scale: 0,
                value,
            });
        }
        if point + 18 <= 0 {
            // 0 < |T| < 1e-18: strictly between 0 and the smallest kept decimal
            return Some(Decimal {
                mantissa: if neg { -5 } else { 5 },
                scale: 19,
                value,
            });
        }
        // keep digits down to 10^-18 and at most 30 of them; remember whether any non-zero was cut
        let keep = ((point + 18).max(0) as usize).min(30).min(digits.len());
        let mut mantissa: i128 = 0;
        for &d in &digits[..keep] {
            mantissa = mantissa * 10 + d as i128;
        }
        let mut scale = keep as i64 - point; // value ≈ mantissa × 10^-scale
        let sticky = digits[keep..].iter().any(|&d| d != 0);
        while scale < 0 {
            mantissa *= 10;
            scale += 1;
        }
        if sticky {
            mantissa = mantissa * 10 + 5;
            scale += 1;
        }
        Some(Decimal {
            mantissa: if neg { -mantissa } else { mantissa },
            scale: scale as u32,
            value,
        })
    }

    /// The text's value as the nearest `f64`.
    pub fn to_f64(&self) -> f64 {
        self.value
    }

    /// `floor(self × k)` and `ceil(self × k)` exactly.
    fn floor_ceil_times(&self, k: u32) -> (i128, i128) {
        let num = self.mantissa * k as i128;
        let den = 10i128.pow(self.scale);
        let fl = num.div_euclid(den);
        let ce = if num.rem_euclid(den) == 0 { fl } else { fl + 1 };
        (fl, ce)
    }
}

/// The threshold pass's uniforms for a frame: resolves units, fractional values, float keys and
/// Otsu into one integer comparison. Called by both backends.
pub fn threshold_params(
    dims: Dims,
    scale: GrayScale,
    level: &Level,
    dark: bool,
    keys: &[u32],
) -> ThresholdParams {
    let (mode, bound) = match (level, scale) {
        (Level::Fixed(t), GrayScale::Int { scale, .. }) => {
            let (fl, ce) = t.floor_ceil_times(scale);
            if dark {
                // key < T·s  ⇔  key < ceil(T·s)
                below_bound(ce)
            } else {
                // key > T·s  ⇔  key > floor(T·s)
                above_bound(fl)
            }
        }
        (Level::Fixed(t), GrayScale::Float) => float_bounds(t.value, dark, false),
        (Level::Otsu, _) => return otsu_params(dims, scale, otsu_level(scale, keys), dark),
    };
    ThresholdParams { dims, mode, bound }
}

/// The threshold pass's uniforms for an Otsu level `t` (in the input's units): bright objects
/// are `value > t`, dark ones `value <= t` — `image > threshold_otsu(image)` on the image
/// [`otsu_level`] gives scikit-image, whose values are `key / scale` as float64 (RGB: `key /
/// 10000.0`; gray: the key itself).
pub fn otsu_params(dims: Dims, scale: GrayScale, t: f64, dark: bool) -> ThresholdParams {
    let (mode, bound) = match scale {
        GrayScale::Int { scale, .. } => {
            // bright: key > fl, dark: key <= fl, with fl the largest key whose float64 value
            // `key / scale` is <= t (-1: none). `floor(t·s)` is within one key of it (the
            // product is rounded, and so is `key / scale`: 3 / 10000.0 · 10000.0 < 3); the keys'
            // values increase with the key, so stepping to the boundary finds it.
            let s = scale as f64;
            const TOP: f64 = 8_589_934_592.0; // 2^33: beyond every key, and exact steps
            let mut fl = (t * s).floor().clamp(-1.0, TOP);
            while fl < TOP && (fl + 1.0) / s <= t {
                fl += 1.0;
            }
            while fl >= 0.0 && fl / s > t {
                fl -= 1.0;
            }
            let fl = fl as i128;
            if dark {
                below_bound(fl + 1)
            } else {
                above_bound(fl)
            }
        }
        GrayScale::Float => float_bounds(t, dark, true),
    };
    ThresholdParams { dims, mode, bound }
}

fn above_bound(fl: i128) -> (u32, u32) {
    if fl < 0 {
        (MODE_ALL, 0)
    } else if fl >= u32::MAX as i128 {
        (MODE_NONE, 0)
    } else {
        (MODE_ABOVE, fl as u32)
    }
}

fn below_bound(ce: i128) -> (u32, u32) {
    if ce <= 0 {
        (MODE_NONE, 0)
    } else if ce > u32::MAX as i128 {
        (MODE_ALL, 0)
    } else {
        (MODE_BELOW, ce as u32)
    }
}

/// Bounds for f32 keys against an f64 threshold `t`: `v > t` (bright), `v < t` (dark) or, for
/// Otsu's dark class, `v <= t`; exact for every f32 `v`.
fn float_bounds(t: f64, dark: bool, inclusive_dark: bool) -> (u32, u32) {
    if t.is_nan() {
        return (MODE_NONE, 0);
    }
    // f = largest f32 with f <= t; g = smallest f32 with g >= t.
    let largest_le = |t: f64| -> Option<f32> {
        let mut f = t as f32; // nearest
        if (f as f64) > t {
            f = next_down(f);
        }
        if f.is_infinite() && f < 0.0 {
            None
        } else {
            Some(if f.is_infinite() { f32::MAX } else { f })
        }
    };
    let smallest_ge = |t: f64| -> Option<f32> {
        let mut g = t as f32;
        if (g as f64) < t {
            g = next_up(g);
        }
        if g.is_infinite() && g > 0.0 {
            None
        } else {
            Some(if g.is_infinite() { f32::MIN } else { g })
        }
    };
    if dark && inclusive_dark {
        // v <= t ⇔ v <= f ⇔ key(v) < key(f) + 1
        match largest_le(t) {
            None => (MODE_NONE, 0),
            Some(f) => (MODE_BELOW, f32_key(f.to_bits()) + 1),
        }
    } else if dark {
        match smallest_ge(t) {
            None => (MODE_ALL, 0),
            Some(g) => (MODE_BELOW, f32_key(g.to_bits())),
        }
    } else {
        match largest_le(t) {
            None => (MODE_ALL, 0),
            Some(f) => (MODE_ABOVE, f32_key(f.to_bits())),
        }
    }
}

fn next_up(f: f32) -> f32 {
    f32_from_key(f32_key(f.to_bits()).wrapping_add(1))
}
fn next_down(f: f32) -> f32 {
    f32_from_key(f32_key(f.to_bits()).wrapping_sub(1))
}

// ------------------------------------------------------------------------------------ Otsu
//
// `skimage.filters.threshold_otsu` (scikit-image 0.26, `filters/thresholding.py`) in numpy's
// own arithmetic, operation by operation, because its between-class variances often agree to
// eight digits and the rounding decides the level (`data/omnipose/e1t1_crop.tif`: float64 sums
// give 22403, scikit-image 22404). The dtypes numpy uses:
//
// - `_validate_image_histogram` returns `counts.astype('float32')`, so `weight1 =
//   np.cumsum(counts)` and `weight2` are sequential float32 sums and `weight1[:-1] *
//   weight2[1:]` is a float32 product;
// - integer images: `bin_centers = np.arange(min, max + 1)` (int64), so `counts * bin_centers`,
//   its cumsums and the means are float64 (float32 × int64 → float64), and the variance is
//   float32 product × float64;
// - float64 values (RGB: `rgb2gray × 255` as `key / 10000`): `numpy.histogram`'s edges, the
//   centers and everything but the weights are float64;
// - float32 images: `numpy.histogram` picks float32 edges (`np.result_type` of the float32 min,
//   max and image), so the centers, products, cumsums, means and variances are all float32.
//
// `np.cumsum` is a sequential loop (not pairwise), `** 2` is `np.square`, and `np.argmax` takes
// the first maximum (a NaN, should one appear, counts as the maximum). No `np.sum` is involved.

/// Otsu's level from a full-range histogram of integer gray values (`hist[v]` = pixels of
/// value `v`), as `skimage.filters.threshold_otsu(image)`: one bin per integer value between the
/// smallest and largest value present (its bincount histogram); a single value present is its
/// own level. Host-side; both backends call it on the histogram of the `threshold_histogram`
/// pass.
pub fn otsu_level_from_histogram(hist: &[u32]) -> f64 {
    let Some(lo) = hist.iter().position(|&c| c != 0) else {
        return 0.0;
    };
    let hi = hist.iter().rposition(|&c| c != 0).unwrap_or(lo);
    if lo == hi {
        return lo as f64;
    }
    // counts.astype('float32'); bin_centers = np.arange(lo, hi + 1)
    let counts: Vec<f32> = hist[lo..=hi].iter().map(|&c| c as f32).collect();
    let centers: Vec<f64> = (lo..=hi).map(|v| v as f64).collect();
    centers[otsu_index(&counts, &centers)]
}

/// `skimage.filters.threshold_otsu` of the frame, as a value in the input's units. Host-side,
/// shared by both backends. The image scikit-image is given:
/// - integer gray (`Int { scale: 1 }`): the sample values, an integer array (bincount
///   histogram, [`otsu_level_from_histogram`]);
/// - RGB (`Int { scale: 10 000 }`): the float64 values `key / 10000` — `rgb2gray × 255`
///   (× 65535) computed exactly in integers and divided once; `numpy.histogram`, 256 bins;
/// - float (`Float`): the float32 samples; `numpy.histogram`, 256 bins in float32. Where numpy
///   cannot make 256 increasing float32 edges (a range of a few hundred float32 steps; it raises
///   "Too many bins for data range") the level is that of the values as float64,
///   `threshold_otsu(image.astype(np.float64))`.
///
/// A single value is its own level (scikit-image returns the first pixel).
pub fn otsu_level(scale: GrayScale, keys: &[u32]) -> f64 {
    if let GrayScale::Int { scale: 1, full } = scale {
        // One bin per integer value between min and max (skimage's bincount histogram), from
        // the same histogram pass the GPU runs.
        let mut hist = vec![0u32; full as usize + 1];
        let p = ThresholdParams {
            dims: Dims {
                width: keys.len() as u32,
                height: 1,
            },
            mode: 0,
            bound: 0,
        };
        threshold_histogram(&p, keys, &mut hist);
        return otsu_level_from_histogram(&hist);
    }
    let (Some(&kmin), Some(&kmax)) = (keys.iter().min(), keys.iter().max()) else {
        return 0.0;
    };
    if kmin == kmax {
        return scale.value(kmin);
    }
    match scale {
        GrayScale::Int { scale, .. } => {
            let s = scale as f64;
            let value = move |k: u32| k as f64 / s;
            otsu_on_values(keys, value(kmin), value(kmax), value)
                .expect("distinct multiples of 1/scale make 256 increasing float64 edges")
        }
        GrayScale::Float => {
            let (lo, hi) = (f32_from_key(kmin), f32_from_key(kmax));
            otsu_on_values(keys, lo, hi, f32_from_key).unwrap_or_else(|| {
                let value = |k: u32| f32_from_key(k) as f64;
                otsu_on_values(keys, lo as f64, hi as f64, value)
                    .expect("distinct float32 values make 256 increasing float64 edges")
            })
        }
    }
}

/// `threshold_otsu(hist=(counts, centers))`: Otsu's level from a histogram given as float64
/// counts and bin centers. As scikit-image, empty bins at either end are trimmed first and the
/// counts are taken as float32; a single bin is its own level (scikit-image raises), and an
/// empty histogram gives NaN.
pub fn otsu_from_histogram(counts: &[f64], centers: &[f64]) -> f64 {
    let n = counts.len().min(centers.len());
    let (mut counts, mut centers) = (&counts[..n], &centers[..n]);
    if n == 0 {
        return f64::NAN;
    }
    if counts[0] == 0.0 || counts[n - 1] == 0.0 {
        // cond = counts > 0; start = argmax(cond); end = size - argmax(cond[::-1])
        let start = counts.iter().position(|&c| c > 0.0).unwrap_or(0);
        let end = n - counts.iter().rev().position(|&c| c > 0.0).unwrap_or(0);
        (counts, centers) = (&counts[start..end], &centers[start..end]);
    }
    let counts: Vec<f32> = counts.iter().map(|&c| c as f32).collect();
    centers[otsu_index(&counts, centers)]
}

/// Floating-point types numpy may compute a histogram in (f64, f32).
trait Real:
    Copy
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + Send
    + Sync
{
    const ZERO: Self;
    const TWO: Self;
    /// `i` exactly (`i <= 256`).
    fn small(i: usize) -> Self;
    /// `astype(np.intp)`: truncation toward zero.
    fn trunc_index(self) -> i64;
    /// numpy's `counts * bin_centers`, its cumulative sums and the class means are in this
    /// type; the weights are float32.
    fn otsu_index(counts: &[f32], centers: &[Self]) -> usize;
    fn to_f64(self) -> f64;
}

impl Real for f64 {
    const ZERO: f64 = 0.0;
    const TWO: f64 = 2.0;
    fn small(i: usize) -> f64 {
        i as f64
    }
    fn trunc_index(self) -> i64 {
        self as i64
    }
    fn otsu_index(counts: &[f32], centers: &[f64]) -> usize {
        otsu_index(counts, centers)
    }
    fn to_f64(self) -> f64 {
        self
    }
}

impl Real for f32 {
    const ZERO: f32 = 0.0;
    const TWO: f32 = 2.0;
    fn small(i: usize) -> f32 {
        i as f32
    }
    fn trunc_index(self) -> i64 {
        self as i64
    }
    fn otsu_index(counts: &[f32], centers: &[f32]) -> usize {
        otsu_index_f32(counts, centers)
    }
    fn to_f64(self) -> f64 {
        self as f64
    }
}

/// `numpy.histogram(values, bins=256)` (range: the values' min `lo` and max `hi`, `lo < hi`) in
/// the values' own float type `T`, then Otsu on it; `None` where numpy raises "Too many bins for
/// data range" (edges not strictly increasing).
fn otsu_on_values<T: Real>(
    keys: &[u32],
    lo: T,
    hi: T,
    value: impl Fn(u32) -> T + Sync,
) -> Option<f64> {
    use rayon::prelude::*;
    const BINS: usize = 256;
    // np.linspace(lo, hi, 257, endpoint=True, dtype=T) (numpy/_core/function_base.py):
    // delta = stop - start; step = delta / div; y = arange(num) * step (or, when step == 0,
    // arange(num) / div * delta); y += start; y[-1] = stop.
    let delta = hi - lo;
    let div = T::small(BINS);
    let step = delta / div;
    let mut edges: Vec<T> = (0..=BINS)
        .map(|i| {
            let y = T::small(i);
            if step == T::ZERO {
                y / div * delta + lo
            } else {
                y * step + lo
            }
        })
        .collect();
    edges[BINS] = hi;
    if edges.windows(2).any(|e| e[0] >= e[1]) {
        return None;
    }
    // numpy/lib/_histograms_impl.py, the uniform-bins branch: f_indices = ((a - first_edge) /
    // norm_denom) * norm_numerator; indices = f_indices.astype(intp); indices[indices == n] -= 1;
    // decrement = a < bin_edges[indices]; indices[decrement] -= 1; increment = (a >=
    // bin_edges[indices + 1]) & (indices != n - 1); indices[increment] += 1; then bincount.
    let norm_denom = hi - lo;
    let bin_of = |v: T| -> usize {
        let mut i = ((v - lo) / norm_denom * div)
            .trunc_index()
            .clamp(0, BINS as i64) as usize;
        if i == BINS {
            i -= 1;
        }
        if v < edges[i] {
            i = i.saturating_sub(1);
        }
        if i != BINS - 1 && v >= edges[i + 1] {
            i += 1;
        }
        i
    };
    // integer counts: the same in any order
    let counts = keys
        .par_chunks(1 << 14)
        .map(|chunk| {
            let mut c = vec![0u64; BINS];
            for &k in chunk {
                c[bin_of(value(k))] += 1;
            }
            c
        })
        .reduce(
            || vec![0u64; BINS],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        );
    // bin_centers = (bin_edges[:-1] + bin_edges[1:]) / 2.0; counts.astype('float32')
    let centers: Vec<T> = edges.windows(2).map(|e| (e[0] + e[1]) / T::TWO).collect();
    let counts: Vec<f32> = counts.iter().map(|&c| c as f32).collect();
    Some(centers[T::otsu_index(&counts, &centers)].to_f64())
}

/// `np.cumsum` of float32 values: a sequential float32 sum.
fn cumsum_f32(v: impl Iterator<Item = f32>) -> Vec<f32> {
    let mut s = 0.0f32;
    v.map(|x| {
        s += x;
        s
    })
    .collect()
}

/// `np.cumsum` of float64 values: a sequential float64 sum.
fn cumsum_f64(v: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut s = 0.0f64;
    v.map(|x| {
        s += x;
        s
    })
    .collect()
}

/// `np.argmax`: the index of the first maximum; a NaN counts as larger than everything.
/// 0 for no values (numpy raises).
fn argmax<T: PartialOrd + Copy>(v: impl Iterator<Item = T>) -> usize {
    let mut best: Option<(usize, T)> = None;
    for (i, x) in v.enumerate() {
        #[allow(clippy::eq_op)]
        if x != x {
            return i; // NaN
        }
        if best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map_or(0, |(i, _)| i)
}

/// The index `threshold_otsu` takes, for float32 counts and float64 (or int64) bin centers:
/// float32 weights, float64 products, cumsums and means, float32 × float64 variances.
fn otsu_index(counts: &[f32], centers: &[f64]) -> usize {
    // weight1 = np.cumsum(counts); weight2 = np.cumsum(counts[::-1])[::-1]   (float32)
    let weight1 = cumsum_f32(counts.iter().copied());
    let mut weight2 = cumsum_f32(counts.iter().rev().copied());
    weight2.reverse();
    // counts * bin_centers: float32 × float64 (or int64) → float64
    let products: Vec<f64> = counts
        .iter()
        .zip(centers)
        .map(|(&c, &x)| c as f64 * x)
        .collect();
    // mean1 = np.cumsum(counts * bin_centers) / weight1
    let mean1: Vec<f64> = cumsum_f64(products.iter().copied())
        .iter()
        .zip(&weight1)
        .map(|(&s, &w)| s / w as f64)
        .collect();
    // mean2 = (np.cumsum((counts * bin_centers)[::-1]) / weight2[::-1])[::-1]
    let mut mean2: Vec<f64> = cumsum_f64(products.iter().rev().copied())
        .iter()
        .zip(weight2.iter().rev())
        .map(|(&s, &w)| s / w as f64)
        .collect();
    mean2.reverse();
    // variance12 = weight1[:-1] * weight2[1:] * (mean1[:-1] - mean2[1:]) ** 2
    argmax((0..counts.len().saturating_sub(1)).map(|i| {
        let d = mean1[i] - mean2[i + 1];
        (weight1[i] * weight2[i + 1]) as f64 * (d * d)
    }))
}

/// As [`otsu_index`] for float32 bin centers (float32 images): everything in float32.
fn otsu_index_f32(counts: &[f32], centers: &[f32]) -> usize {
    let weight1 = cumsum_f32(counts.iter().copied());
    let mut weight2 = cumsum_f32(counts.iter().rev().copied());
    weight2.reverse();
    let products: Vec<f32> = counts.iter().zip(centers).map(|(&c, &x)| c * x).collect();
    let mean1: Vec<f32> = cumsum_f32(products.iter().copied())
        .iter()
        .zip(&weight1)
        .map(|(&s, &w)| s / w)
        .collect();
    let mut mean2: Vec<f32> = cumsum_f32(products.iter().rev().copied())
        .iter()
        .zip(weight2.iter().rev())
        .map(|(&s, &w)| s / w)
        .collect();
    mean2.reverse();
    argmax((0..counts.len().saturating_sub(1)).map(|i| {
        let d = mean1[i] - mean2[i + 1];
        weight1[i] * weight2[i + 1] * (d * d)
    }))
}

/// Validate a user's threshold text.
pub fn parse_level(text: &str) -> Result<Level> {
    if text.eq_ignore_ascii_case("otsu") {
        return Ok(Level::Otsu);
    }
    let level = Decimal::parse(text).ok_or_else(|| {
        Error::param(
            "--threshold",
            format!("expected a number in the image's units or 'otsu', got {text:?}"),
        )
    })?;
    // No image holds values beyond f32's range (the widest sample type): such a threshold
    // can only be a typo.
    let v = level.to_f64();
    if !v.is_finite() || v.abs() > f64::from(f32::MAX) {
        return Err(Error::param(
            "--threshold",
            format!("{text} is beyond every image's range (at most ±3.4e38)"),
        ));
    }
    Ok(Level::Fixed(level))
}

/// Parse `--core`'s level: a number in the image's units, as `--threshold` (not `otsu`).
pub fn parse_core(text: &str) -> Result<Decimal> {
    let bad = || {
        Error::param(
            "--core",
            format!("expected a number in the image's units, got {text:?}"),
        )
    };
    if text.eq_ignore_ascii_case("otsu") {
        return Err(bad());
    }
    match parse_level(text) {
        Ok(Level::Fixed(d)) => Ok(d),
        Ok(Level::Otsu) => Err(bad()),
        Err(_) if Decimal::parse(text).is_none() => Err(bad()),
        Err(_) => Err(Error::param(
            "--core",
            format!("{text} is beyond every image's range (at most ±3.4e38)"),
        )),
    }
}
