//! Stage **background**: flatten uneven illumination before the threshold (`--background R`),
//! by a grey-level closing (dark objects) or opening (bright objects) with a `(2R+1)×(2R+1)`
//! square — the top-hat transform. Class: *Jacobi* (four window passes and one map, each from
//! one buffer into another; both backends run the same passes).
//!
//! The background `B` is the image with every object removed: for dark objects on a lighter
//! background the **closing** (a max filter, then a min filter), which fills every dark
//! feature narrower than the square; for bright objects the **opening** (min, then max). Each
//! filter is separable: along the rows ([`window_rows`]), then along the columns
//! ([`window_cols`]), every window clamped to the image — which is what `scipy.ndimage`'s
//! `grey_closing` / `grey_opening` with `size=(2R+1, 2R+1)` and its default `mode='reflect'`
//! compute (a reflected pixel lies inside the clamped window, so it changes no max or min).
//! [`subtract`] then maps each key `v` to
//!
//! ```text
//! dark:   key_max − (B − v)     (the black top-hat, turned back into dark-on-light: the
//!                                background at key_max, a cell key_max − its depth)
//! bright: v − B                 (the white top-hat: the background at 0)
//! ```
//!
//! so `--dark`/`--bright`, the threshold's direction and `--flood intensity` keep their meaning;
//! the threshold is then in flattened units (Fiji's *Subtract Background* with a light
//! background works the same way). The radius is at least 1 (`R = 0` would give `B = v`, a
//! flat image: without `--background` the stage does not run).
//!
//! **Integer keys, no overflow.** The stage is for integer images (`cpu::gray`; float keys are
//! bit patterns, refused as for `--smooth`). Every key is at most `key_max`, a max or min of
//! keys is one of them, and `B ≥ v` for the closing, `B ≤ v` for the opening (the closing is
//! extensive, the opening anti-extensive), so `B − v ∈ [0, key_max]` and `v − B ∈ [0, v]`.
//!
//! The twin's window passes use the van Herk / Gil-Werman scheme (prefix and suffix extremes in
//! blocks of `2R+1`, two lookups per pixel); the shader scans each window (`2R+1` reads). Both
//! compute the extreme of the same clamped window, which is a value, not a rounding: the bytes
//! agree (`tests/gpu_filters.rs` checks both against a naive scan and scikit-image's closing).

use super::Dims;

/// The largest `--background` radius (a window of 2001 pixels: far beyond any cell).
pub const MAX_RADIUS: u32 = 1000;

/// Uniforms of the background passes (WGSL `BackgroundParams`, keep in sync with
/// `shaders/background.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackgroundParams {
    pub dims: Dims,
    /// Half the square's side (`R ≥ 1`).
    pub radius: u32,
    /// Objects are dark: the background is the closing and the result `key_max − (B − v)`.
    pub dark: bool,
    /// The largest key of the image's scale (`GrayScale::key_max`).
    pub key_max: u32,
}

/// Which extreme a window pass takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extreme {
    Max,
    Min,
}

impl Extreme {
    #[inline]
    fn pick(self, a: u32, b: u32) -> u32 {
        match self {
            Extreme::Max => a.max(b),
            Extreme::Min => a.min(b),
        }
    }

    /// The value that changes no max (0) or min (`u32::MAX`).
    fn identity(self) -> u32 {
        match self {
            Extreme::Max => 0,
            Extreme::Min => u32::MAX,
        }
    }
}

/// The extreme of `line[x − r ..= x + r]` (clamped to the line) for every `x`, into `out`
/// (van Herk / Gil-Werman: `2r + 1`-blocks of prefix and suffix extremes; the line is padded
/// by `r` identities at both ends, which is the clamping).
fn window_line(
    line: &[u32],
    r: usize,
    e: Extreme,
    g: &mut Vec<u32>,
    h: &mut Vec<u32>,
    out: &mut [u32],
) {
    let n = line.len();
    let k = 2 * r + 1;
    let padded = n + 2 * r;
    let blocks = padded.div_ceil(k);
    let len = blocks * k;
    let at = |i: usize| -> u32 {
        if i < r || i >= r + n {
            e.identity()
        } else {
            line[i - r]
        }
    };
    g.clear();
    h.clear();
    g.resize(len, 0);
    h.resize(len, 0);
    for b in 0..blocks {
        let s = b * k;
        g[s] = at(s);
        for i in s + 1..s + k {
            g[i] = e.pick(g[i - 1], at(i));
        }
        h[s + k - 1] = at(s + k - 1);
        for i in (s..s + k - 1).rev() {
            h[i] = e.pick(h[i + 1], at(i));
        }
    }
    // the window of x is padded[x ..= x + 2r]: a block's suffix from x, the next's prefix to x + 2r
    for (x, o) in out.iter_mut().enumerate().take(n) {
        *o = e.pick(h[x], g[x + 2 * r]);
    }
}

/// Entry point `window_rows`: `dst[y, x]` = the extreme of `src[y, x − r ..= x + r]`, the window
/// clamped to the row.
pub fn window_rows(p: &BackgroundParams, e: Extreme, src: &[u32], dst: &mut [u32]) {
    let (w, h) = (p.dims.width as usize, p.dims.height as usize);
    let r = p.radius as usize;
    let (mut g, mut hh) = (Vec::new(), Vec::new());
    for y in 0..h {
        let row = y * w;
        window_line(
            &src[row..row + w],
            r,
            e,
            &mut g,
            &mut hh,
            &mut dst[row..row + w],
        );
    }
}

/// Entry point `window_cols`: `dst[y, x]` = the extreme of `src[y − r ..= y + r, x]`, the window
/// clamped to the column.
pub fn window_cols(p: &BackgroundParams, e: Extreme, src: &[u32], dst: &mut [u32]) {
    let (w, h) = (p.dims.width as usize, p.dims.height as usize);
    let r = p.radius as usize;
    let (mut g, mut hh) = (Vec::new(), Vec::new());
    let mut col = vec![0u32; h];
    let mut out = vec![0u32; h];
    for x in 0..w {
        for (y, c) in col.iter_mut().enumerate() {
            *c = src[y * w + x];
        }
        window_line(&col, r, e, &mut g, &mut hh, &mut out);
        for (y, &o) in out.iter().enumerate() {
            dst[y * w + x] = o;
        }
    }
}

/// Entry point `subtract`: `dst[i] = key_max − (back[i] − keys[i])` (dark) or
/// `keys[i] − back[i]` (bright).
pub fn subtract(p: &BackgroundParams, keys: &[u32], back: &[u32], dst: &mut [u32]) {
    for ((d, &v), &b) in dst[..p.dims.len()].iter_mut().zip(keys).zip(back) {
        *d = if p.dark { p.key_max - (b - v) } else { v - b };
    }
}

/// The passes in order: the two extremes of the filter (closing: max then min; opening: min
/// then max), each rows then columns.
pub fn extremes(dark: bool) -> [Extreme; 2] {
    if dark {
        [Extreme::Max, Extreme::Min]
    } else {
        [Extreme::Min, Extreme::Max]
    }
}

/// The background `B` of `keys` (the closing for dark objects, the opening for bright ones).
pub fn background_image(p: &BackgroundParams, keys: &[u32]) -> Vec<u32> {
    let n = p.dims.len();
    let mut a = keys[..n].to_vec();
    let mut b = vec![0u32; n];
    for e in extremes(p.dark) {
        window_rows(p, e, &a, &mut b);
        window_cols(p, e, &b, &mut a);
    }
    a
}

/// The whole stage: the flattened keys the threshold sees.
pub fn flatten(p: &BackgroundParams, keys: &[u32]) -> Vec<u32> {
    let back = background_image(p, keys);
    let mut out = vec![0u32; p.dims.len()];
    subtract(p, keys, &back, &mut out);
    out
}
