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
//! blocks of `2R+1`, two lookups per pixel; rows in parallel, the column pass as whole-row
//! operations); the shader scans each window (`2R+1` reads, hence the cap [`MAX_RADIUS`]). Both
//! compute the extreme of the same clamped window, which is a value, not a rounding: the bytes
//! agree (`tests/gpu/background.rs` checks the twin against a naive scan and SciPy's
//! `grey_closing`/`grey_opening`, and the shader against the twin).

use super::Dims;

/// The largest `--background` radius: a 201-pixel square, far wider than any cell (R only
/// needs to exceed a cell's half width); the shader reads `2R + 1` pixels per pixel and pass.
pub const MAX_RADIUS: u32 = 100;

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
/// (van Herk / Gil-Werman: `2r + 1`-blocks of prefix and suffix extremes over the line padded
/// by `r` identities at both ends, which is the clamping; `scratch` holds the padded line and
/// the two extremes).
fn window_line(
    line: &[u32],
    r: usize,
    e: Extreme,
    scratch: &mut (Vec<u32>, Vec<u32>, Vec<u32>),
    out: &mut [u32],
) {
    let (pad, g, h) = scratch;
    let n = line.len();
    let k = 2 * r + 1;
    let len = (n + 2 * r).div_ceil(k) * k;
    pad.clear();
    pad.resize(len, e.identity());
    pad[r..r + n].copy_from_slice(line);
    g.resize(len, 0);
    h.resize(len, 0);
    for s in (0..len).step_by(k) {
        let (pb, gb, hb) = (&pad[s..s + k], &mut g[s..s + k], &mut h[s..s + k]);
        gb[0] = pb[0];
        for i in 1..k {
            gb[i] = e.pick(gb[i - 1], pb[i]);
        }
        hb[k - 1] = pb[k - 1];
        for i in (0..k - 1).rev() {
            hb[i] = e.pick(hb[i + 1], pb[i]);
        }
    }
    // the window of x is pad[x ..= x + 2r]: a block's suffix from x, the next's prefix to x + 2r
    for (x, o) in out.iter_mut().enumerate().take(n) {
        *o = e.pick(h[x], g[x + 2 * r]);
    }
}

/// The window pass along the rows of a `w`-wide image (rows in parallel).
fn rows_of(w: usize, r: usize, e: Extreme, src: &[u32], dst: &mut [u32]) {
    use rayon::prelude::*;
    if w == 0 {
        return;
    }
    dst.par_chunks_mut(w).zip(src.par_chunks(w)).for_each_init(
        || (Vec::new(), Vec::new(), Vec::new()),
        |scratch, (out, line)| window_line(line, r, e, scratch, out),
    );
}

/// The window pass along the columns of a `w × hgt` image, as whole-row operations: the same
/// blocks as [`window_line`], every column at once (cache-friendly and vectorisable; blocks in
/// parallel).
fn cols_of(w: usize, hgt: usize, r: usize, e: Extreme, src: &[u32], dst: &mut [u32]) {
    use rayon::prelude::*;
    if w == 0 || hgt == 0 {
        return;
    }
    let k = 2 * r + 1;
    let rows = (hgt + 2 * r).div_ceil(k) * k;
    // padded row i is source row i − r, or identities outside the image
    let row = |i: usize| -> Option<&[u32]> {
        (i >= r && i < r + hgt).then(|| &src[(i - r) * w..(i - r + 1) * w])
    };
    let mut g = vec![0u32; rows * w];
    let mut h = vec![0u32; rows * w];
    g.par_chunks_mut(k * w)
        .zip(h.par_chunks_mut(k * w))
        .enumerate()
        .for_each(|(b, (gb, hb))| {
            let s = b * k;
            // prefix extremes, top down
            for i in 0..k {
                let (done, cur) = gb.split_at_mut(i * w);
                let cur = &mut cur[..w];
                match (i, row(s + i)) {
                    (0, Some(v)) => cur.copy_from_slice(v),
                    (0, None) => cur.fill(e.identity()),
                    (_, Some(v)) => {
                        let prev = &done[(i - 1) * w..];
                        for ((c, &p), &x) in cur.iter_mut().zip(prev).zip(v) {
                            *c = e.pick(p, x);
                        }
                    }
                    (_, None) => cur.copy_from_slice(&done[(i - 1) * w..]),
                }
            }
            // suffix extremes, bottom up
            for i in (0..k).rev() {
                let (cur, after) = hb.split_at_mut((i + 1) * w);
                let cur = &mut cur[i * w..];
                match (i == k - 1, row(s + i)) {
                    (true, Some(v)) => cur.copy_from_slice(v),
                    (true, None) => cur.fill(e.identity()),
                    (false, Some(v)) => {
                        for ((c, &p), &x) in cur.iter_mut().zip(&after[..w]).zip(v) {
                            *c = e.pick(p, x);
                        }
                    }
                    (false, None) => cur.copy_from_slice(&after[..w]),
                }
            }
        });
    // the window of row y is padded rows y ..= y + 2r
    dst[..hgt * w]
        .par_chunks_mut(w)
        .enumerate()
        .for_each(|(y, out)| {
            let hr = &h[y * w..(y + 1) * w];
            let gr = &g[(y + 2 * r) * w..(y + 2 * r + 1) * w];
            for ((o, &a), &b) in out.iter_mut().zip(hr).zip(gr) {
                *o = e.pick(a, b);
            }
        });
}

/// Entry point `window_rows`: `dst[y, x]` = the extreme of `src[y, x − r ..= x + r]`, the window
/// clamped to the row.
pub fn window_rows(p: &BackgroundParams, e: Extreme, src: &[u32], dst: &mut [u32]) {
    let n = p.dims.len();
    let (w, r) = (p.dims.width as usize, p.radius as usize);
    rows_of(w, r, e, &src[..n], &mut dst[..n]);
}

/// Entry point `window_cols`: `dst[y, x]` = the extreme of `src[y − r ..= y + r, x]`, the window
/// clamped to the column.
pub fn window_cols(p: &BackgroundParams, e: Extreme, src: &[u32], dst: &mut [u32]) {
    let (w, h) = (p.dims.width as usize, p.dims.height as usize);
    cols_of(w, h, p.radius as usize, e, &src[..w * h], dst);
}

/// Entry point `subtract`: `dst[i] = key_max − (back[i] − keys[i])` (dark) or
/// `keys[i] − back[i]` (bright). (Parameters in the shader's binding order.)
pub fn subtract(p: &BackgroundParams, keys: &[u32], dst: &mut [u32], back: &[u32]) {
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
    subtract(p, keys, &mut out, &back);
    out
}
