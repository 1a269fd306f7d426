//! Stage **maxima**: marker images for `--markers regional` and `--markers hmax`, an alternative
//! to the peaks stage (same inputs, same 0/1 output, which the pipeline then labels with the
//! components stage, 8-connected, before the watershed). Inputs: `fg` (the 0/1 opened mask) and
//! `d2` (squared Euclidean distance, ≥ 1 on `fg`, 0 elsewhere).
//!
//! **The graph.** Pixels are joined to their 8 neighbours, and only `fg` pixels take part: a
//! background pixel is never on a path, never in a plateau and never a neighbour that counts.
//! A *plateau* of values `v` is an 8-connected set of `fg` pixels with equal `v`; it is a
//! *regional maximum* when no `fg` pixel 8-adjacent to it has a larger `v`.
//!
//! - **regional** ([`regional`]): markers are the `fg` pixels whose plateau of `d2` is a regional
//!   maximum (`h_half` is ignored).
//! - **hmax** ([`hmax`], `h_half = H`, the height h = H/2 in pixels): the height is
//!   `f(p) = floor(2·sqrt(d2(p))) = isqrt(4·d2(p))` on `fg` ([`height`]; exact integer square
//!   root, `d2` clamped to [`D2_MAX`] so that `4·d2` fits a `u32` — never reached for images up to
//!   16384², where `d2 ≤ 2^29`). `R` is the reconstruction by dilation in the `fg` graph of the
//!   seed `g = f` under the mask `f' = f + H` (saturating; unsigned, so the usual `f − h` seed is
//!   shifted up by `H`): `R(p) = max over fg paths π from some q to p of min(g(q), min over r on
//!   π of f'(r))`, the unique fixed point of `R ← min(f', max of R over p and its fg
//!   8-neighbours)` started from `R = g`. Markers are the `fg` pixels whose plateau *of R* is a
//!   regional maximum. Maxima at most h above their saddle (a dynamic ≤ H half pixels) merge
//!   into their higher neighbour's dome (scikit-image's `h_maxima`, which keeps a dynamic ≥ h,
//!   keeps those exactly h above; the fixtures use `reconstruction` + `local_maxima`, this rule); a whole dome less than h tall keeps one marker plateau (its top), so small
//!   cells never vanish. `H = 0` gives the regional maxima of `f`.
//! - **border** (both modes, `border = B`, `--exclude-border`): marker pixels with `y < B`,
//!   `y ≥ height − B`, `x < B` or `x ≥ width − B` are cleared afterwards; `B = 0` clears nothing.
//!
//! scikit-image equivalents (`tests/fixtures/maxima/`, `scripts/reference/make_maxima_fixtures.py`):
//! regional = `local_maxima(where(fg, d2, 0), connectivity=2, allow_borders=True) & fg`; hmax =
//! `local_maxima(where(fg, R, 0), …) & fg` with `R = reconstruction(where(fg, f, 0),
//! where(fg, f + H, 0), method='dilation', footprint=ones((3, 3)))` — background pixels there
//! take part with value 0, below every `fg` value, so they change nothing.
//!
//! **Passes** (`shaders/maxima.wgsl`, host side `crate::gpu::maxima`):
//! 1. `maxima_height` (*map*, hmax only): `f = fg ? height(d2) : 0`; the host then copies `f`
//!    into the first `R` buffer (the seed).
//! 2. `maxima_reconstruct` sweeps (*Jacobi*, hmax only, + an atomicOr `changed` flag): one
//!    geodesic dilation step `R_out = min(f + H, max of R_in over p and its fg neighbours)`;
//!    `R` only grows (`R_0 = f ≤ f'`), and a sweep that changes nothing has reached the fixed
//!    point.
//! 3. `maxima_flag_init` (*map*) on `v` (`d2` for regional, the final `R` for hmax): `flag = 1`
//!    on `fg` pixels with a larger `fg` neighbour ("this plateau is not a maximum").
//! 4. `maxima_flag_spread` sweeps (*Jacobi*, + `changed`): the flag spreads to `fg` neighbours of
//!    equal `v`, so at the fixed point it is 1 exactly on plateaus that are not maxima.
//! 5. `maxima_output` (*map*): `markers = fg && flag == 0 && inside the border`.
//!
//! [`regional_passes`] / [`hmax_passes`] run these passes (Jacobi, to convergence) and are the
//! reference; [`regional`] / [`hmax`] are the fast CPU schedules of the same rule (one flood of
//! each plateau; the reconstruction by a bucket queue in descending value).
//! `tests/stages/maxima.rs` holds fast == passes == a naive definition (and scikit-image's
//! fixtures).

use super::Dims;

/// Parameters of the maxima passes (WGSL `MaximaParams`; the uniform is
/// `crate::gpu::maxima::MaximaUniforms`, keep in sync with `shaders/maxima.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaximaParams {
    pub dims: Dims,
    /// The hmax height `H` in half-pixels (h = H/2 pixels); ignored by [`regional`].
    pub h_half: u32,
    /// `--exclude-border` width B: markers closer than B to an edge are cleared.
    pub border: u32,
}

/// Largest `d2` [`height`] distinguishes (`4 · D2_MAX` fits a `u32`); larger values count as it.
pub const D2_MAX: u32 = 0x3fff_ffff;

/// Largest integer square root of a `u32`.
const ISQRT_MAX: u32 = 65535;

/// `floor(sqrt(v))`, exactly: a float estimate corrected with integer tests (the shader's
/// `isqrt`, which must not trust `sqrt`'s rounding on any device).
pub fn isqrt(v: u32) -> u32 {
    let mut s = ((v as f32).sqrt() as u32).min(ISQRT_MAX);
    while s * s > v {
        s -= 1;
    }
    while s < ISQRT_MAX && (s + 1) * (s + 1) <= v {
        s += 1;
    }
    s
}

/// The hmax height of a pixel: `floor(2·sqrt(d2)) = isqrt(4·d2)`, `d2` clamped to [`D2_MAX`].
pub fn height(d2: u32) -> u32 {
    isqrt(4 * d2.min(D2_MAX))
}

/// Whether pixel `(y, x)` lies inside the border of width `p.border` (markers outside are
/// cleared). Written without overflow: `y + B < height` as `B < height − y`.
#[inline]
pub fn inside_border(p: &MaximaParams, y: u32, x: u32) -> bool {
    let b = p.border;
    y >= b && b < p.dims.height - y && x >= b && b < p.dims.width - x
}

/// The 8 neighbour offsets `(dy, dx)`.
const NEIGHBOURS: [(i64, i64); 8] = [
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
];

/// The in-image 8 neighbours of pixel `i` (whatever their `fg`).
#[inline]
fn neighbours(d: Dims, i: usize) -> impl Iterator<Item = usize> {
    let (w, h) = (d.width as i64, d.height as i64);
    let (y, x) = (i as i64 / w, i as i64 % w);
    NEIGHBOURS.iter().filter_map(move |&(dy, dx)| {
        let (yy, xx) = (y + dy, x + dx);
        (yy >= 0 && yy < h && xx >= 0 && xx < w).then_some((yy * w + xx) as usize)
    })
}

/// Entry point `maxima_height`: `f = fg ? height(d2) : 0`.
pub fn maxima_height(p: &MaximaParams, fg: &[u32], d2: &[u32], f: &mut [u32]) {
    for i in 0..p.dims.len() {
        f[i] = if fg[i] != 0 { height(d2[i]) } else { 0 };
    }
}

/// Entry point `maxima_reconstruct`: one sweep of the reconstruction by dilation,
/// `r_out = min(f + H, max of r_in over p and its fg 8-neighbours)` on `fg` (0 elsewhere);
/// `changed |= 1` where `r_out != r_in`.
pub fn maxima_reconstruct(
    p: &MaximaParams,
    fg: &[u32],
    f: &[u32],
    r_in: &[u32],
    r_out: &mut [u32],
    changed: &mut u32,
) {
    for i in 0..p.dims.len() {
        if fg[i] == 0 {
            r_out[i] = 0;
            continue;
        }
        let mut m = r_in[i];
        for j in neighbours(p.dims, i) {
            if fg[j] != 0 {
                m = m.max(r_in[j]);
            }
        }
        let v = m.min(f[i].saturating_add(p.h_half));
        r_out[i] = v;
        if v != r_in[i] {
            *changed |= 1;
        }
    }
}

/// Entry point `maxima_flag_init`: `flag = 1` on `fg` pixels with an `fg` 8-neighbour of larger
/// `v`, else 0.
pub fn maxima_flag_init(p: &MaximaParams, fg: &[u32], v: &[u32], flag: &mut [u32]) {
    for i in 0..p.dims.len() {
        let mut s = 0u32;
        if fg[i] != 0 {
            for j in neighbours(p.dims, i) {
                if fg[j] != 0 && v[j] > v[i] {
                    s = 1;
                }
            }
        }
        flag[i] = s;
    }
}

/// Entry point `maxima_flag_spread`: one sweep spreading the flag over plateaus,
/// `flag_out = flag_in | (flag_in of an fg 8-neighbour with equal v)` on `fg` (0 elsewhere);
/// `changed |= 1` where `flag_out != flag_in`.
pub fn maxima_flag_spread(
    p: &MaximaParams,
    fg: &[u32],
    v: &[u32],
    flag_in: &[u32],
    flag_out: &mut [u32],
    changed: &mut u32,
) {
    for i in 0..p.dims.len() {
        if fg[i] == 0 {
            flag_out[i] = 0;
            continue;
        }
        let mut s = flag_in[i];
        for j in neighbours(p.dims, i) {
            if fg[j] != 0 && v[j] == v[i] && flag_in[j] != 0 {
                s = 1;
            }
        }
        flag_out[i] = s;
        if s != flag_in[i] {
            *changed |= 1;
        }
    }
}

/// Entry point `maxima_output`: `markers = 1` on `fg` pixels with `flag == 0` inside the border.
pub fn maxima_output(p: &MaximaParams, fg: &[u32], flag: &[u32], markers: &mut [u32]) {
    let w = p.dims.width.max(1);
    for i in 0..p.dims.len() {
        let (y, x) = (i as u32 / w, i as u32 % w);
        markers[i] = (fg[i] != 0 && flag[i] == 0 && inside_border(p, y, x)) as u32;
    }
}

/// Run a Jacobi sweep to its fixed point: `sweep(cur, next, changed)` until a sweep changes
/// nothing; returns the fixed point.
fn jacobi(mut cur: Vec<u32>, mut sweep: impl FnMut(&[u32], &mut [u32], &mut u32)) -> Vec<u32> {
    let mut next = vec![0u32; cur.len()];
    loop {
        let mut changed = 0u32;
        sweep(&cur, &mut next, &mut changed);
        std::mem::swap(&mut cur, &mut next);
        if changed == 0 {
            return cur;
        }
    }
}

/// Passes 3–5 on values `v`: the flag loop and the output.
fn plateau_passes(p: &MaximaParams, fg: &[u32], v: &[u32]) -> Vec<u32> {
    let n = p.dims.len();
    let mut flag = vec![0u32; n];
    maxima_flag_init(p, fg, v, &mut flag);
    let flag = jacobi(flag, |a, b, c| maxima_flag_spread(p, fg, v, a, b, c));
    let mut out = vec![0u32; n];
    maxima_output(p, fg, &flag, &mut out);
    out
}

/// The regional-maxima markers with the shader's passes (the reference of [`regional`]).
pub fn regional_passes(p: &MaximaParams, fg: &[u32], d2: &[u32]) -> Vec<u32> {
    plateau_passes(p, fg, d2)
}

/// The reconstruction `R` of the hmax mode with the shader's passes.
pub fn reconstruct_passes(p: &MaximaParams, fg: &[u32], d2: &[u32]) -> Vec<u32> {
    let mut f = vec![0u32; p.dims.len()];
    maxima_height(p, fg, d2, &mut f);
    let r = f.clone();
    jacobi(r, |a, b, c| maxima_reconstruct(p, fg, &f, a, b, c))
}

/// The h-maxima markers with the shader's passes (the reference of [`hmax`]).
pub fn hmax_passes(p: &MaximaParams, fg: &[u32], d2: &[u32]) -> Vec<u32> {
    let r = reconstruct_passes(p, fg, d2);
    plateau_passes(p, fg, &r)
}

/// Markers of the plateaus of `v` that are regional maxima, by one flood of each plateau (a
/// plateau is a maximum iff none of its pixels has a larger `fg` neighbour), border cleared.
fn plateau_maxima(p: &MaximaParams, fg: &[u32], v: &[u32]) -> Vec<u32> {
    let n = p.dims.len();
    let w = p.dims.width.max(1);
    let mut out = vec![0u32; n];
    let mut seen = vec![false; n];
    let mut stack = Vec::new();
    let mut plateau = Vec::new();
    for s in 0..n {
        if fg[s] == 0 || seen[s] {
            continue;
        }
        let val = v[s];
        let mut is_max = true;
        seen[s] = true;
        stack.push(s);
        plateau.clear();
        while let Some(i) = stack.pop() {
            plateau.push(i);
            for j in neighbours(p.dims, i) {
                if fg[j] == 0 {
                    continue;
                }
                if v[j] > val {
                    is_max = false;
                } else if v[j] == val && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            }
        }
        if is_max {
            for &i in &plateau {
                let (y, x) = (i as u32 / w, i as u32 % w);
                out[i] = inside_border(p, y, x) as u32;
            }
        }
    }
    out
}

/// The regional-maxima markers (`--markers regional`): fast CPU schedule, equal to
/// [`regional_passes`].
pub fn regional(p: &MaximaParams, fg: &[u32], d2: &[u32]) -> Vec<u32> {
    plateau_maxima(p, fg, d2)
}

/// The reconstruction `R` of the hmax mode, by a bucket queue in descending value (Dijkstra
/// for max–min paths): every `fg` pixel starts at `R = f` in the bucket of its value; the
/// highest pending value is final when popped and offers `min(value, f' of the neighbour)` to
/// its `fg` neighbours, never more than the value itself. So no value exceeds `max f` (at most
/// 65535), whatever `H`, and `max f + 1` buckets suffice. Equal to [`reconstruct_passes`].
pub fn reconstruct(p: &MaximaParams, fg: &[u32], d2: &[u32]) -> Vec<u32> {
    let n = p.dims.len();
    let mut r = vec![0u32; n];
    maxima_height(p, fg, d2, &mut r);
    let h = p.h_half;
    if h == 0 {
        return r; // R = f' = f
    }
    let f = r.clone();
    let top = (0..n)
        .filter(|&i| fg[i] != 0)
        .map(|i| f[i])
        .max()
        .unwrap_or(0) as usize;
    let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); top + 1];
    for i in 0..n {
        if fg[i] != 0 {
            buckets[f[i] as usize].push(i as u32);
        }
    }
    for level in (0..=top).rev() {
        let val = level as u32;
        while let Some(i) = buckets[level].pop() {
            let i = i as usize;
            if r[i] != val {
                continue; // raised since: handled at its higher level
            }
            for j in neighbours(p.dims, i) {
                if fg[j] == 0 {
                    continue;
                }
                let c = val.min(f[j].saturating_add(h));
                if c > r[j] {
                    r[j] = c;
                    buckets[c as usize].push(j as u32);
                }
            }
        }
    }
    r
}

/// The h-maxima markers (`--markers hmax`): fast CPU schedule, equal to [`hmax_passes`].
pub fn hmax(p: &MaximaParams, fg: &[u32], d2: &[u32]) -> Vec<u32> {
    let r = reconstruct(p, fg, d2);
    plateau_maxima(p, fg, &r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isqrt_is_exact() {
        for s in (0u32..=65535).step_by(7).chain([65534, 65535]) {
            let sq = s * s;
            assert_eq!(isqrt(sq), s);
            if s > 0 {
                assert_eq!(isqrt(sq - 1), s - 1);
            }
            if s < 65535 {
                assert_eq!(isqrt(sq + 2 * s), s); // (s + 1)² − 1
            }
        }
        for v in [u32::MAX, u32::MAX - 1, 4 * D2_MAX, 1 << 31, 3, 2, 1, 0] {
            assert_eq!(isqrt(v), v.isqrt(), "{v}");
        }
        let mut x = 0x1234_5678_9abc_def1u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x >> 32) as u32;
            assert_eq!(isqrt(v), v.isqrt(), "{v}");
        }
    }

    #[test]
    fn height_clamps() {
        assert_eq!(height(0), 0);
        assert_eq!(height(1), 2);
        assert_eq!(height(2), 2); // 2·1.414
        assert_eq!(height(3), 3);
        assert_eq!(height(u32::MAX), height(D2_MAX));
        assert_eq!(height(D2_MAX), (4 * D2_MAX).isqrt());
    }

    #[test]
    fn maxima_handles_empty_and_thin_images() {
        for (w, h) in [(0, 0), (0, 3), (1, 1), (1, 5), (5, 1)] {
            let p = MaximaParams {
                dims: Dims::new(w, h),
                h_half: 3,
                border: 1,
            };
            let n = w * h;
            let fg = vec![1u32; n];
            let d2 = vec![1u32; n];
            assert_eq!(regional(&p, &fg, &d2), regional_passes(&p, &fg, &d2));
            assert_eq!(hmax(&p, &fg, &d2), hmax_passes(&p, &fg, &d2));
        }
    }
}
