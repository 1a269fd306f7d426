//! Stage **peaks**: `skimage.feature.peak_local_max(dist, labels=mask, min_distance=m,
//! footprint=np.ones((s, s)), exclude_border=B)` with its other defaults, restated as parallel
//! passes (docs/design.md, stage 5). The pipeline passes `B = m` (scikit-image's default
//! `exclude_border=True` means `B = min_distance`); `B` only sets the border, `m` only the
//! spacing. Input: the squared distance `d2` (order and equality of `d2` are those of
//! the Euclidean distance) and the mask. Output: 0/1 kept peaks.
//!
//! 1. `peaks_bounds` (*order-free reduction*): the **ROI**, the bounding box of the mask pixels
//!    at least `B` from every edge (rows `B..H-B`, columns `B..W-B`, empty when `2B >= H` or
//!    `2B >= W`; scikit-image's `_exclude_border`, then it crops to the bounding box),
//!    and `min(d2)` over the whole image — the strict threshold (`threshold_abs=None` means
//!    `image.min()`; 0 whenever any background exists).
//! 2. `peaks_max_rows` (*map*), then the column half inside `peaks_candidates`: the maximum of
//!    `d2` over the footprint window (offsets `-(s/2) ..= s - s/2 - 1` per axis, as
//!    `scipy.ndimage.maximum_filter` places even sizes), clipped to the ROI (`mode='nearest'` on
//!    the crop), non-mask pixels counting as −∞ (0 here, below every mask pixel's `d2 ≥ 1`).
//!    Separable because the footprint is a box: rows first into `hmax`, then each pixel's column
//!    of `hmax` ([`window_max_cols`]), which only the candidates' test needs.
//! 3. `peaks_candidates` (*map* + an `atomicOr` flag): a mask pixel in the ROI is a candidate if it
//!    equals its window maximum and `d2 > min(d2)`; the flag records whether some mask pixel in
//!    the ROI is *not* its window maximum. Special cases (scikit-image's `_get_peak_mask`):
//!    `s == 1` or a one-pixel ROI → every mask pixel in the ROI above the threshold; when the flag
//!    stays 0 (every mask pixel is its own window maximum — "trivial image"), the candidates are
//!    the mask pixels removed by a binary opening of the ROI's mask (cross, outside = background;
//!    `opening::erode`/`dilate` on the ROI), still above the threshold (`peaks_isolated`).
//! 4. `peaks_space` rounds (*Jacobi*): the greedy walk of `ensure_spacing` — candidates by `d2`
//!    descending, ties in raster order, keep one unless an already kept one is at Chebyshev
//!    distance `< m` — computed as the lexicographically-first independent set: in each round an
//!    undecided candidate is *kept* once every higher-priority candidate within distance `< m` is
//!    rejected, *rejected* once one of them is kept. Identical to the sequential walk, in any
//!    schedule. With `m <= 1` no two distinct pixels conflict and every candidate is kept.
//!    The states are numbered so that a finished walk *is* the output: kept 1, everything else
//!    (no candidate, rejected) 0, undecided 2.
//!
//! The CPU backend runs [`peaks`] = [`peaks_fast`]: the same rule with a CPU schedule (box
//! maximum over the ROI only, by in-cache doubling along rows and van Herk / Gil-Werman blocks
//! along columns; the spacing walk over a sorted candidate list with a grid of kept peaks).
//! [`peaks_passes`] (these passes, greedy spacing) and [`peaks_rounds`] (these passes, the
//! spacing rounds in the shader's tiled sweeps, [`peaks_space_tile`]) stay as its references;
//! `tests/stages/peaks.rs` holds all three equal.

use super::opening::{dilate, erode, MorphParams, Structure};
use super::{Dims, Rect, NONE};

/// Uniforms of the peaks passes (WGSL `PeaksParams`, keep in sync with `shaders/peaks.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeaksParams {
    pub dims: Dims,
    /// `min_distance` m: the spacing of kept peaks (Chebyshev distance at least m).
    pub min_distance: u32,
    /// Footprint size s (an s×s box).
    pub footprint: u32,
    /// `exclude_border` B: mask pixels closer than B to an edge are ignored (ROI = rows
    /// `B..H-B`, columns `B..W-B`). scikit-image's default (`exclude_border=True`) is `B = m`.
    pub border: u32,
}

impl PeaksParams {
    /// Window offsets `[lo, hi]` per axis, `lo = -(s/2)`, `hi = s - s/2 - 1`.
    pub fn window(&self) -> (i32, i32) {
        let s = self.footprint as i32;
        (-(s / 2), s - s / 2 - 1)
    }
}

/// Output of `peaks_bounds`: `[y0, x0, y1, x1, dmin]` (ROI empty when `y0 > y1`).
/// Initial value before the reduction: [`BOUNDS_INIT`].
pub const BOUNDS_INIT: [u32; 5] = [NONE, NONE, 0, 0, NONE];

/// Candidate states in `peaks_space` (WGSL constants of the same names). A rejected candidate
/// is no peak, like a pixel that never was a candidate, and the two never need telling apart,
/// so they share 0 and a finished walk (nothing undecided) is the 0/1 peaks image itself.
pub const STATE_NONE: u32 = 0;
pub const STATE_KEPT: u32 = 1;
pub const STATE_UNDECIDED: u32 = 2;
pub const STATE_REJECTED: u32 = STATE_NONE;

/// The ROI as a [`Rect`] from the bounds buffer.
pub fn roi_of(bounds: &[u32; 5]) -> Rect {
    Rect {
        y0: bounds[0],
        x0: bounds[1],
        y1: bounds[2],
        x1: bounds[3],
    }
}

/// Entry point `peaks_bounds`: atomicMin/atomicMax into `bounds` (see [`BOUNDS_INIT`]).
pub fn peaks_bounds(p: &PeaksParams, mask: &[u32], d2: &[u32], bounds: &mut [u32; 5]) {
    let (w, h, b) = (p.dims.width, p.dims.height, p.border);
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) as usize;
            bounds[4] = bounds[4].min(d2[i]);
            // y + b < h without overflow (b may exceed the image): b < h - y, as the shader
            let inside = y >= b && b < h - y && x >= b && b < w - x;
            if mask[i] != 0 && inside {
                bounds[0] = bounds[0].min(y);
                bounds[1] = bounds[1].min(x);
                bounds[2] = bounds[2].max(y);
                bounds[3] = bounds[3].max(x);
            }
        }
    }
}

/// Entry point `peaks_max_rows`: `hmax[y, x]` = max over the window's columns (clipped to the
/// ROI) of the masked `d2`; 0 outside the ROI.
pub fn peaks_max_rows(
    p: &PeaksParams,
    mask: &[u32],
    d2: &[u32],
    bounds: &[u32; 5],
    hmax: &mut [u32],
) {
    let roi = roi_of(bounds);
    let (lo, hi) = p.window();
    let w = p.dims.width;
    for y in 0..p.dims.height {
        for x in 0..w {
            let i = (y * w + x) as usize;
            let mut v = 0u32;
            if roi.contains(y, x) {
                let a = (x as i64 + lo as i64).max(roi.x0 as i64) as u32;
                let b = (x as i64 + hi as i64).min(roi.x1 as i64) as u32;
                for xx in a..=b {
                    let j = (y * w + xx) as usize;
                    if mask[j] != 0 {
                        v = v.max(d2[j]);
                    }
                }
            }
            hmax[i] = v;
        }
    }
}

/// The window maximum at `(y, x)` inside the ROI: the max over the window's rows (clipped to
/// the ROI) of `hmax` ([`peaks_max_rows`]' output). `peaks_candidates` takes it per pixel (the
/// window's second, column half; no image of its own).
pub fn window_max_cols(p: &PeaksParams, hmax: &[u32], roi: &Rect, y: u32, x: u32) -> u32 {
    let (lo, hi) = p.window();
    let w = p.dims.width;
    let a = (y as i64 + lo as i64).max(roi.y0 as i64) as u32;
    let b = (y as i64 + hi as i64).min(roi.y1 as i64) as u32;
    (a..=b).fold(0, |v, yy| v.max(hmax[(yy * w + x) as usize]))
}

/// Whether every mask pixel of the ROI above the threshold is a candidate (`s == 1` or a
/// one-pixel ROI: scikit-image's `footprint.size == 1 or image.size == 1`).
pub fn all_are_candidates(p: &PeaksParams, bounds: &[u32; 5]) -> bool {
    let roi = roi_of(bounds);
    p.footprint == 1 || (!roi.is_empty() && roi.y0 == roi.y1 && roi.x0 == roi.x1)
}

/// Entry point `peaks_candidates`: `state[i] = STATE_UNDECIDED` for candidates, else
/// `STATE_NONE`; `flag |= 1` when a mask pixel in the ROI differs from its window maximum
/// ([`window_max_cols`] of `hmax`).
pub fn peaks_candidates(
    p: &PeaksParams,
    mask: &[u32],
    d2: &[u32],
    hmax: &[u32],
    bounds: &[u32; 5],
    state: &mut [u32],
    flag: &mut u32,
) {
    let roi = roi_of(bounds);
    let all = all_are_candidates(p, bounds);
    let w = p.dims.width;
    for y in 0..p.dims.height {
        for x in 0..w {
            let i = (y * w + x) as usize;
            let mut s = STATE_NONE;
            if roi.contains(y, x) && mask[i] != 0 {
                let wmax = window_max_cols(p, hmax, &roi, y, x);
                if d2[i] != wmax {
                    *flag |= 1;
                }
                if d2[i] > bounds[4] && (all || d2[i] == wmax) {
                    s = STATE_UNDECIDED;
                }
            }
            state[i] = s;
        }
    }
}

/// Entry point `peaks_isolated_open` (the GPU's ROI opening and [`peaks_isolated`] in one pass,
/// under the same condition, decided on the device: only when `flag` is 0 and not
/// [`all_are_candidates`], otherwise `state` is left as it is): the ROI mask opened by
/// `opening::erode` + `opening::dilate` with the cross and `rect = ROI`, then
/// [`peaks_isolated`].
pub fn peaks_isolated_open(
    p: &PeaksParams,
    mask: &[u32],
    d2: &[u32],
    bounds: &[u32; 5],
    state: &mut [u32],
    flag: u32,
) {
    if flag != 0 || all_are_candidates(p, bounds) {
        return;
    }
    let mp = MorphParams::new(p.dims, roi_of(bounds), Structure::Cross);
    let (mut eroded, mut opened) = (vec![0u32; p.dims.len()], vec![0u32; p.dims.len()]);
    erode(&mp, mask, &mut eroded);
    dilate(&mp, &eroded, &mut opened);
    peaks_isolated(p, mask, d2, &opened, bounds, state);
}

/// The CPU schedule's `peaks_isolated` (only when the flag is 0 and not [`all_are_candidates`]): the
/// candidates are the ROI's mask pixels that its opening removed, above the threshold.
/// `opened` is the ROI mask opened by `opening::erode` + `opening::dilate` with `rect = ROI`.
pub fn peaks_isolated(
    p: &PeaksParams,
    mask: &[u32],
    d2: &[u32],
    opened: &[u32],
    bounds: &[u32; 5],
    state: &mut [u32],
) {
    let roi = roi_of(bounds);
    let w = p.dims.width;
    for y in 0..p.dims.height {
        for x in 0..w {
            let i = (y * w + x) as usize;
            let on = roi.contains(y, x) && mask[i] != 0 && opened[i] == 0 && d2[i] > bounds[4];
            state[i] = if on { STATE_UNDECIDED } else { STATE_NONE };
        }
    }
}

/// Whether candidate `j` (value `dj`) has priority over candidate `i` (value `di`).
#[inline]
pub fn before(dj: u32, j: u32, di: u32, i: u32) -> bool {
    dj > di || (dj == di && j < i)
}

/// The next state of undecided candidate `i` at `(y, x)` given the states `state` (the rule of
/// one spacing round, shared by [`peaks_space`] and [`peaks_space_tile`]): rejected when a
/// conflicting candidate (Chebyshev distance `< m`) with priority over it is kept, still
/// undecided while one of them is undecided, else kept.
fn space_rule(p: &PeaksParams, d2: &[u32], state: &[u32], i: usize) -> u32 {
    let w = p.dims.width as i64;
    let h = p.dims.height as i64;
    let (y, x) = (i as i64 / w, i as i64 % w);
    let r = p.min_distance as i64 - 1; // conflicts: Chebyshev distance <= m - 1
    let mut blocked = false; // a higher-priority conflicting candidate is still undecided
    if r >= 1 {
        for yy in (y - r).max(0)..=(y + r).min(h - 1) {
            for xx in (x - r).max(0)..=(x + r).min(w - 1) {
                let j = (yy * w + xx) as usize;
                let sj = state[j];
                if j == i || sj == STATE_NONE {
                    continue; // (rejected candidates are STATE_NONE too)
                }
                if before(d2[j], j as u32, d2[i], i as u32) {
                    if sj == STATE_KEPT {
                        return STATE_REJECTED;
                    }
                    blocked = true;
                }
            }
        }
    }
    if blocked {
        STATE_UNDECIDED
    } else {
        STATE_KEPT
    }
}

/// Entry point `peaks_space`: one round of the spacing walk; `changed |= 1` when some candidate
/// is decided in this round.
pub fn peaks_space(
    p: &PeaksParams,
    d2: &[u32],
    state_in: &[u32],
    state_out: &mut [u32],
    changed: &mut u32,
) {
    for i in 0..p.dims.len() {
        let s = state_in[i];
        state_out[i] = if s == STATE_UNDECIDED {
            space_rule(p, d2, state_in, i)
        } else {
            s
        };
        if s == STATE_UNDECIDED && state_out[i] != STATE_UNDECIDED {
            *changed |= 1;
        }
    }
}

/// Side of a tile of [`peaks_space_tile`] (WGSL `TILE`; the workgroup is `TILE × TILE`).
pub const TILE: usize = 16;
/// Most local rounds of one tile in one [`peaks_space_tile`] sweep (WGSL `TILE_ITERS`).
pub const TILE_ITERS: usize = 32;

/// Entry point `peaks_space_tile`: one sweep of spacing rounds scheduled in tiles, as the
/// watershed's tiled sweeps (`cpu::watershed::ws_label_tile`): each `TILE × TILE` tile runs
/// [`peaks_space`]'s rule as Jacobi rounds on its own pixels (everything outside the tile read
/// from the input, the tile's own pixels from its latest round) until a round decides nothing
/// or [`TILE_ITERS`] have run. A candidate is still decided only on final states (a kept or
/// rejected candidate never changes again), so the walk ends in the same states in any
/// schedule (the lexicographically first independent set), in fewer sweeps: a chain of
/// decisions inside a tile takes one sweep instead of one round each.
///
/// `changed` as the watershed's tiled sweeps report (`cpu::watershed::SWEEP_AGAIN`,
/// `SWEEP_CHANGED`): `SWEEP_CHANGED` when any output differs from the input, `SWEEP_AGAIN` when
/// a tile did not settle within [`TILE_ITERS`] or a candidate decided this sweep conflicts with
/// an undecided one (in the input) in another tile over which it has priority — the only
/// candidates whose rule reads it.
pub fn peaks_space_tile(
    p: &PeaksParams,
    d2: &[u32],
    state_in: &[u32],
    state_out: &mut [u32],
    changed: &mut u32,
) {
    use super::watershed::{SWEEP_AGAIN, SWEEP_CHANGED};
    let (w, h) = (p.dims.width as usize, p.dims.height as usize);
    let r = p.min_distance.saturating_sub(1) as usize;
    // Working copy: the input everywhere, except the tile being iterated (restored after it).
    let mut ws = state_in.to_vec();
    let mut next: Vec<(usize, u32)> = Vec::with_capacity(TILE * TILE);
    for y0 in (0..h).step_by(TILE) {
        for x0 in (0..w).step_by(TILE) {
            let (xs, ys) = ((w - x0).min(TILE), (h - y0).min(TILE));
            let tile =
                || (0..ys).flat_map(move |ly| (0..xs).map(move |lx| (y0 + ly) * w + x0 + lx));
            let mut settled = false;
            for _ in 0..TILE_ITERS {
                next.clear();
                for i in tile() {
                    if ws[i] == STATE_UNDECIDED {
                        let s = space_rule(p, d2, &ws, i);
                        if s != STATE_UNDECIDED {
                            next.push((i, s));
                        }
                    }
                }
                for &(i, s) in &next {
                    ws[i] = s;
                }
                if next.is_empty() {
                    settled = true;
                    break;
                }
            }
            if !settled {
                *changed |= SWEEP_AGAIN;
            }
            for i in tile() {
                if ws[i] != state_in[i] {
                    *changed |= SWEEP_CHANGED;
                    if waits_across_tiles(p, d2, state_in, i, r) {
                        *changed |= SWEEP_AGAIN;
                    }
                }
                state_out[i] = ws[i];
                ws[i] = state_in[i];
            }
        }
    }
}

/// Whether some candidate in another tile than `j`'s, within Chebyshev distance `r` of `j`, is
/// undecided in `state_in` and has `j` before it (so its next round reads `j`'s decision).
fn waits_across_tiles(p: &PeaksParams, d2: &[u32], state_in: &[u32], j: usize, r: usize) -> bool {
    let (w, h) = (p.dims.width as usize, p.dims.height as usize);
    let (y, x) = (j / w, j % w);
    let (ty, tx) = (y / TILE, x / TILE);
    for yy in y.saturating_sub(r)..=(y + r).min(h - 1) {
        for xx in x.saturating_sub(r)..=(x + r).min(w - 1) {
            if yy / TILE == ty && xx / TILE == tx {
                continue;
            }
            let i = yy * w + xx;
            if state_in[i] == STATE_UNDECIDED && before(d2[j], j as u32, d2[i], i as u32) {
                return true;
            }
        }
    }
    false
}

/// The 0/1 peaks of a finished walk: its states as they are (kept 1, others 0; see
/// [`STATE_KEPT`]). The GPU has no pass for it: the spacing loop's last state buffer is the
/// stage's output.
pub fn peaks_output(p: &PeaksParams, state: &[u32], peaks: &mut [u32]) {
    for i in 0..p.dims.len() {
        debug_assert_ne!(state[i], STATE_UNDECIDED);
        peaks[i] = (state[i] == STATE_KEPT) as u32;
    }
}

/// The spacing walk done sequentially, as `ensure_spacing` does it: candidates in priority order,
/// each kept unless a kept one lies within Chebyshev distance `< m`. The lexicographically-first
/// independent set is unique, so this equals the parallel rounds of [`peaks_space`] (a property
/// test holds the two equal). [`peaks_passes`] uses it; the CPU backend runs the same walk
/// over a candidate list with a grid of kept peaks ([`space_grid`]).
pub fn space_greedy(p: &PeaksParams, d2: &[u32], state: &mut [u32]) {
    let w = p.dims.width as i64;
    let h = p.dims.height as i64;
    let r = p.min_distance as i64 - 1;
    let mut cands: Vec<u32> = (0..state.len() as u32)
        .filter(|&i| state[i as usize] == STATE_UNDECIDED)
        .collect();
    cands.sort_by_key(|&i| (std::cmp::Reverse(d2[i as usize]), i));
    for &i in &cands {
        let (y, x) = (i as i64 / w, i as i64 % w);
        let mut blocked = false;
        if r >= 1 {
            'scan: for yy in (y - r).max(0)..=(y + r).min(h - 1) {
                for xx in (x - r).max(0)..=(x + r).min(w - 1) {
                    if state[(yy * w + xx) as usize] == STATE_KEPT {
                        blocked = true;
                        break 'scan;
                    }
                }
            }
        }
        state[i as usize] = if blocked { STATE_REJECTED } else { STATE_KEPT };
    }
}

/// The whole peaks stage on the CPU: the same rule as the passes, scheduled for a CPU
/// ([`peaks_fast`]). Returns the 0/1 peak image. Equal to [`peaks_passes`] and
/// [`peaks_rounds`] (tests/stages/peaks.rs).
pub fn peaks(p: &PeaksParams, mask: &[u32], d2: &[u32]) -> Vec<u32> {
    peaks_fast(p, mask, d2)
}

/// The whole peaks stage with the shader's passes, spacing by [`space_greedy`] (the CPU's
/// schedule before [`peaks_fast`]; kept as the reference it is tested against).
pub fn peaks_passes(p: &PeaksParams, mask: &[u32], d2: &[u32]) -> Vec<u32> {
    peaks_scheduled(p, mask, d2, false)
}

/// `peaks_bounds` on row slices: the ROI and `min(d2)` (same [`BOUNDS_INIT`] convention).
pub fn bounds_rows(p: &PeaksParams, mask: &[u32], d2: &[u32]) -> [u32; 5] {
    let mut b = BOUNDS_INIT;
    let (w, h) = (p.dims.width as usize, p.dims.height as usize);
    let bw = p.border as usize; // the border B (not the spacing m)
    b[4] = d2[..p.dims.len()].iter().copied().min().unwrap_or(NONE);
    if h <= bw.saturating_mul(2) || w <= bw.saturating_mul(2) {
        return b;
    }
    for y in bw..h - bw {
        let row = &mask[y * w + bw..y * w + w - bw];
        let Some(first) = row.iter().position(|&v| v != 0) else {
            continue;
        };
        let last = row.iter().rposition(|&v| v != 0).unwrap_or(first);
        let y = y as u32;
        b[0] = b[0].min(y);
        b[1] = b[1].min((first + bw) as u32);
        b[2] = b[2].max(y);
        b[3] = b[3].max((last + bw) as u32);
    }
    b
}

/// The window `[lo, hi]` clipped to what can reach inside a range of `len` pixels (offsets
/// beyond `len - 1` only ever fall outside it, so clipping them changes no clipped window).
fn window_within(lo: i32, hi: i32, len: usize) -> (usize, usize) {
    let l = len as i64 - 1;
    let lo = (-(lo as i64)).min(l) as usize; // pixels before
    let hi = (hi as i64).min(l) as usize; // pixels after
    (lo, hi)
}

/// The spacing walk of [`space_greedy`] over a list of candidate indices, with the kept peaks in
/// a grid of `m × m` cells instead of scanning each candidate's window: two kept peaks are at
/// least `m` apart (Chebyshev), so a cell holds at most one, and every kept peak within
/// distance `< m` of a pixel lies in the 3×3 cells around the pixel's cell. Returns the kept
/// indices.
fn space_grid(p: &PeaksParams, d2: &[u32], cands: &[u32]) -> Vec<u32> {
    let m = p.min_distance as usize;
    let mut keys: Vec<u64> = cands
        .iter()
        .map(|&i| ((!d2[i as usize] as u64) << 32) | i as u64)
        .collect();
    keys.sort_unstable(); // d2 descending, then index ascending (all keys distinct)
    let order = keys.into_iter().map(|k| k as u32);
    if m <= 1 {
        return order.collect(); // nothing conflicts
    }
    let w = p.dims.width as usize;
    let h = p.dims.height as usize;
    let (cw, ch) = (w.div_ceil(m), h.div_ceil(m));
    let mut cell = vec![NONE; cw * ch];
    let mut kept = Vec::new();
    for i in order {
        let (y, x) = (i as usize / w, i as usize % w);
        let (cy, cx) = (y / m, x / m);
        let mut blocked = false;
        'scan: for ny in cy.saturating_sub(1)..=(cy + 1).min(ch - 1) {
            for nx in cx.saturating_sub(1)..=(cx + 1).min(cw - 1) {
                let k = cell[ny * cw + nx];
                if k != NONE {
                    let (ky, kx) = (k as usize / w, k as usize % w);
                    if ky.abs_diff(y) < m && kx.abs_diff(x) < m {
                        blocked = true;
                        break 'scan;
                    }
                }
            }
        }
        if !blocked {
            cell[cy * cw + cx] = i;
            kept.push(i);
        }
    }
    kept
}

/// `d[i] = max(d[i], s[i])` over equal-length slices (vectorisable).
#[inline]
fn max_into(d: &mut [u32], s: &[u32]) {
    for (d, &s) in d.iter_mut().zip(s) {
        *d = (*d).max(s);
    }
}

/// `out[c] = max(pa[c .. c + s])` for `c < out.len()` (`pa.len() == out.len() + s - 1`), by
/// doubling widths 1, 2, 4, … and one final overlapping step: `O(log s)` vectorisable passes
/// over a row in cache. `pa` and `pb` are scratch and left overwritten.
fn window_max_row(pa: &mut Vec<u32>, pb: &mut Vec<u32>, s: usize, out: &mut [u32]) {
    let l = out.len();
    let mut len = pa.len();
    let mut k = 1usize;
    pb.resize(len, 0);
    // invariant: pa[j] = max of the original pa[j .. j + k], for j < len
    while 2 * k <= s {
        for ((d, &x), &y) in pb[..len - k]
            .iter_mut()
            .zip(&pa[..len - k])
            .zip(&pa[k..len])
        {
            *d = x.max(y);
        }
        std::mem::swap(pa, pb);
        len -= k;
        k *= 2;
    }
    out.copy_from_slice(&pa[..l]);
    if k < s {
        max_into(out, &pa[s - k..s - k + l]); // windows [c, c + k) and [c + s - k, c + s)
    }
}

/// The whole peaks stage scheduled for a CPU, same rule as [`peaks_passes`]: bounds by rows;
/// the box maximum only over the ROI, where the clipped window equals the full window over the
/// ROI padded with zeros (every value is ≥ 0 and the window holds its own pixel), so each axis
/// is a plain sliding maximum — along rows by doubling in cache ([`window_max_row`]), along
/// columns by van Herk / Gil-Werman over blocks of `s` rows (a suffix and a prefix maximum,
/// three row operations per row whatever `s`), fused with the candidate test; blocks run in
/// parallel and are collected in row order. Then the spacing walk with a grid of kept peaks
/// ([`space_grid`]).
pub fn peaks_fast(p: &PeaksParams, mask: &[u32], d2: &[u32]) -> Vec<u32> {
    use rayon::prelude::*;
    let n = p.dims.len();
    let w = p.dims.width as usize;
    let mut out = vec![0u32; n];
    let bounds = bounds_rows(p, mask, d2);
    let roi = roi_of(&bounds);
    if roi.is_empty() {
        return out;
    }
    let (y0, x0) = (roi.y0 as usize, roi.x0 as usize);
    let rh = (roi.y1 - roi.y0) as usize + 1;
    let rw = (roi.x1 - roi.x0) as usize + 1;
    let (lo, hi) = p.window();
    let (before, after) = window_within(lo, hi, rw);
    let sh = before + after + 1;
    let (above, below) = window_within(lo, hi, rh);
    let sv = above + below + 1;
    // Row maxima of the masked d2 for the ROI rows, between `above` and `below` zero rows.
    let total = rh + sv - 1;
    let mut hm = vec![0u32; total * rw];
    hm[above * rw..(above + rh) * rw]
        .par_chunks_mut(rw)
        .enumerate()
        .with_min_len(4)
        .for_each_init(
            || (vec![0u32; rw + sh - 1], Vec::new()),
            |(pa, pb), (r, hrow)| {
                let i = (y0 + r) * w + x0;
                pa.resize(rw + sh - 1, 0);
                pa[..before].fill(0);
                pa[before + rw..].fill(0);
                for ((o, &m), &d) in pa[before..before + rw]
                    .iter_mut()
                    .zip(&mask[i..i + rw])
                    .zip(&d2[i..i + rw])
                {
                    *o = if m != 0 { d } else { 0 };
                }
                window_max_row(pa, pb, sh, hrow);
            },
        );
    let hrow = |r: usize| &hm[r * rw..(r + 1) * rw];
    // Column maxima over blocks of `sv` output rows, fused with the candidate test.
    let all = all_are_candidates(p, &bounds);
    let dmin = bounds[4];
    let blocks: Vec<(bool, Vec<u32>)> = (0..rh.div_ceil(sv))
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new(), vec![0u32; rw]),
            |(suf, pre, run), b| {
                let (r0, r1) = (b * sv, ((b + 1) * sv).min(rh)); // output rows
                                                                 // suf row r - r0 = max of rows r ..= min(r0 + sv, total) - 1
                let bend = (r0 + sv).min(total);
                suf.resize((r1 - r0) * rw, 0);
                run.copy_from_slice(hrow(bend - 1));
                for r in (r0..bend).rev() {
                    if r < bend - 1 {
                        max_into(run, hrow(r));
                    }
                    if r < r1 {
                        suf[(r - r0) * rw..(r - r0 + 1) * rw].copy_from_slice(run);
                    }
                }
                // pre row t = max of rows r0 + sv ..= r0 + sv + t (the next block's prefix)
                let np = r1 - r0 - 1;
                pre.resize(np * rw, 0);
                for t in 0..np {
                    if t == 0 {
                        run.copy_from_slice(hrow(r0 + sv));
                    } else {
                        max_into(run, hrow(r0 + sv + t));
                    }
                    pre[t * rw..(t + 1) * rw].copy_from_slice(run);
                }
                let mut flag = false;
                let mut cands = Vec::new();
                for r in r0..r1 {
                    // window rows r ..= r + sv - 1 = [r, block end) ∪ [next block start, r + sv)
                    let wm = &mut suf[(r - r0) * rw..(r - r0 + 1) * rw];
                    if r > r0 {
                        max_into(wm, &pre[(r - r0 - 1) * rw..(r - r0) * rw]);
                    }
                    let i0 = (y0 + r) * w + x0;
                    let (mrow, drow) = (&mask[i0..i0 + rw], &d2[i0..i0 + rw]);
                    for (c, ((&m, &d), &wmax)) in mrow.iter().zip(drow).zip(wm.iter()).enumerate() {
                        if m != 0 {
                            flag |= d != wmax;
                            if d > dmin && (all || d == wmax) {
                                cands.push((i0 + c) as u32);
                            }
                        }
                    }
                }
                (flag, cands)
            },
        )
        .collect();
    drop(hm);
    let flag = blocks.iter().any(|r| r.0);
    let mut cands: Vec<u32> = blocks.into_iter().flat_map(|r| r.1).collect();
    if !flag && !all {
        // every mask pixel is its own window maximum: the pixels the ROI's opening removes
        let opened = super::opening::opening(p.dims, roi, Structure::Cross, 1, mask);
        cands.clear();
        for r in 0..rh {
            let i0 = (y0 + r) * w + x0;
            for i in i0..i0 + rw {
                if mask[i] != 0 && opened[i] == 0 && d2[i] > dmin {
                    cands.push(i as u32);
                }
            }
        }
    }
    for i in space_grid(p, d2, &cands) {
        out[i as usize] = 1;
    }
    out
}

/// The whole peaks stage with the shader's schedule: spacing by [`peaks_space_tile`] sweeps.
pub fn peaks_rounds(p: &PeaksParams, mask: &[u32], d2: &[u32]) -> Vec<u32> {
    peaks_scheduled(p, mask, d2, true)
}

fn peaks_scheduled(p: &PeaksParams, mask: &[u32], d2: &[u32], rounds: bool) -> Vec<u32> {
    let n = p.dims.len();
    let mut bounds = BOUNDS_INIT;
    peaks_bounds(p, mask, d2, &mut bounds);
    let mut out = vec![0u32; n];
    if roi_of(&bounds).is_empty() {
        return out;
    }
    let mut hmax = vec![0u32; n];
    let mut wmax = vec![0u32; n];
    peaks_max_rows(p, mask, d2, &bounds, &mut hmax);
    let mut state = vec![0u32; n];
    let mut flag = 0u32;
    peaks_candidates(p, mask, d2, &hmax, &bounds, &mut state, &mut flag);
    if flag == 0 && !all_are_candidates(p, &bounds) {
        let mp = MorphParams::new(p.dims, roi_of(&bounds), Structure::Cross);
        // erode then dilate inside the ROI (hmax/wmax are free scratch by now)
        erode(&mp, mask, &mut hmax);
        dilate(&mp, &hmax, &mut wmax);
        peaks_isolated(p, mask, d2, &wmax, &bounds, &mut state);
    }
    if rounds {
        let mut next = vec![0u32; n];
        // the shader's schedule: tiled sweeps until none asks for another
        loop {
            let mut changed = 0u32;
            peaks_space_tile(p, d2, &state, &mut next, &mut changed);
            std::mem::swap(&mut state, &mut next);
            if changed & super::watershed::SWEEP_AGAIN == 0 {
                break;
            }
        }
    } else {
        space_greedy(p, d2, &mut state);
    }
    peaks_output(p, &state, &mut out);
    out
}
