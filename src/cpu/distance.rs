//! Stage **distance**: squared Euclidean distance (`u32`) from each mask pixel to the nearest
//! background pixel; background pixels hold 0; the image border is *not* background.
//! Equals `scipy.ndimage.distance_transform_edt(mask) ** 2` exactly.
//!
//! Two algorithms, both exact-by-construction in their own class:
//!
//! - **exact** (separable, Meijster et al. 2000 / Felzenszwalb & Huttenlocher): `edt_cols`, one
//!   invocation per column, finds the vertical distance `g` to the nearest background pixel of
//!   the column; `edt_rows`, one invocation per row, takes the lower envelope of the parabolas
//!   `(x - u)² + g(u)²` with integer-only arithmetic (`i32`, floor division). Class: *map* per
//!   pass. This is the truth every JFA variant is held against.
//! - **jump flooding** (`jfa_init`, `jfa_step`, `jfa_finish`): every background pixel seeds
//!   itself; each pass at step `s` lets a pixel adopt the best seed among its own and those of
//!   the 8 pixels at `(±s | 0, ±s | 0)`, best = smallest squared distance, ties → smaller seed
//!   index. Class: *Jacobi* (ping-pong buffers). Variants differ only in the step sequence
//!   ([`JfaVariant`]).
//!
//! **No background at all.** SciPy then measures every distance to a phantom background point at
//! row −1, column 0 (`edt(ones((3,3)))[0] == [1, √2, √5]`), so `d²(y, x) = (y + 1)² + x²`;
//! both algorithms do the same (in `edt_rows` a row whose columns all lack background, which
//! happens only when the whole image has none; in `jfa_finish` a pixel left without seed).

use super::{Dims, NONE};

/// Which distance algorithm the pipeline runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DistanceMode {
    /// The exact separable transform.
    #[default]
    Exact,
    /// Jump flooding with the given step sequence.
    Jfa(JfaVariant),
}

/// Step sequences of jump flooding. `N` is the smallest power of two ≥ max(width, height).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JfaVariant {
    /// `N/2, N/4, …, 1` (plain JFA; not exact).
    Plain,
    /// `N/2, …, 1, 2, 1` (JFA+2).
    Plus2,
    /// `N/2, …, 1, N/2, …, 1` (JFA², the whole sequence twice).
    Squared,
}

impl JfaVariant {
    /// The passes' steps for an image of the given size.
    pub fn steps(&self, dims: Dims) -> Vec<u32> {
        let n = dims.width.max(dims.height).max(1).next_power_of_two();
        let mut base = Vec::new();
        let mut s = n / 2;
        while s >= 1 {
            base.push(s);
            s /= 2;
        }
        if base.is_empty() {
            base.push(1); // 1×1: one (no-op) pass keeps the pass structure uniform
        }
        match self {
            JfaVariant::Plain => base,
            JfaVariant::Plus2 => {
                let mut v = base.clone();
                v.extend([2, 1]);
                v
            }
            JfaVariant::Squared => {
                let mut v = base.clone();
                v.extend(base);
                v
            }
        }
    }
}

/// "Infinite" vertical distance in `edt_cols` (column without background).
pub const G_INF: u32 = u32::MAX;

/// Uniforms of the distance passes (WGSL `DistParams`, keep in sync with `shaders/distance.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DistParams {
    pub dims: Dims,
    /// JFA step of this pass (unused by the exact passes).
    pub step: u32,
}

/// Entry point `edt_cols`: one invocation per column `x`; `g[y, x]` = distance in rows to the
/// nearest background pixel of column `x`, [`G_INF`] if the column has none.
pub fn edt_cols(p: &DistParams, mask: &[u32], g: &mut [u32]) {
    let w = p.dims.width as usize;
    let h = p.dims.height as usize;
    for x in 0..w {
        // downward: distance to the nearest background above (or at) y
        let mut run = G_INF;
        for y in 0..h {
            let i = y * w + x;
            run = if mask[i] == 0 {
                0
            } else if run == G_INF {
                G_INF
            } else {
                run + 1
            };
            g[i] = run;
        }
        // upward: nearest background below
        let mut run = G_INF;
        for y in (0..h).rev() {
            let i = y * w + x;
            run = if mask[i] == 0 {
                0
            } else if run == G_INF {
                G_INF
            } else {
                run + 1
            };
            if run < g[i] {
                g[i] = run;
            }
        }
    }
}

/// `floor(a / b)` for `b > 0`, with non-negative operands only (WGSL's `/` truncates, and GLSL
/// leaves `%` of a negative operand undefined; the shader uses the same formula).
#[inline]
pub fn div_floor(a: i32, b: i32) -> i32 {
    if a >= 0 {
        a / b
    } else {
        -((b - 1 - a) / b)
    }
}

/// Entry point `edt_rows`: one invocation per row `y`; `d2[y, x] = min_u (x - u)² + g(y, u)²`
/// over columns `u` with finite `g`. `v` and `z` are per-row scratch (the envelope's parabola
/// apexes and the left ends of their intervals), `width` entries per row.
pub fn edt_rows(
    p: &DistParams,
    mask: &[u32],
    g: &[u32],
    d2: &mut [u32],
    v: &mut [u32],
    z: &mut [i32],
) {
    let w = p.dims.width as usize;
    let h = p.dims.height as usize;
    for y in 0..h {
        let row = y * w;
        let f = |u: usize| -> i32 {
            let gu = g[row + u] as i32;
            gu * gu
        };
        // Build the lower envelope of the parabolas of columns with finite g.
        let mut k: i32 = -1;
        for u in 0..w {
            if g[row + u] == G_INF {
                continue;
            }
            loop {
                if k < 0 {
                    k = 0;
                    v[row] = u as u32;
                    z[row] = i32::MIN;
                    break;
                }
                let q = v[row + k as usize] as i32;
                let ui = u as i32;
                // intersection s of parabolas q and u: first x where u is at least as good
                let s = div_floor(ui * ui - q * q + f(u) - f(q as usize), 2 * (ui - q)) + 1;
                if s <= z[row + k as usize] {
                    k -= 1; // parabola q is hidden
                    continue;
                }
                k += 1;
                v[row + k as usize] = u as u32;
                z[row + k as usize] = s;
                break;
            }
        }
        if k < 0 {
            // No column has background: the whole image is foreground (SciPy's phantom point).
            for x in 0..w {
                let yy = y as u32 + 1;
                d2[row + x] = yy * yy + (x as u32) * (x as u32);
            }
            continue;
        }
        let mut j = 0usize;
        for x in 0..w {
            while j < k as usize && z[row + j + 1] <= x as i32 {
                j += 1;
            }
            let u = v[row + j] as i32;
            let dx = x as i32 - u;
            d2[row + x] = if mask[row + x] == 0 {
                0
            } else {
                (dx * dx + f(u as usize)) as u32
            };
        }
    }
}

/// Squared distance between pixel indices `a` and `b`.
#[inline]
pub fn dist2(width: u32, a: u32, b: u32) -> u32 {
    let (ay, ax) = ((a / width) as i32, (a % width) as i32);
    let (by, bx) = ((b / width) as i32, (b % width) as i32);
    let dy = ay - by;
    let dx = ax - bx;
    (dy * dy + dx * dx) as u32
}

/// Entry point `jfa_init`: background pixels seed themselves, mask pixels start without seed.
pub fn jfa_init(p: &DistParams, mask: &[u32], seed: &mut [u32]) {
    for i in 0..p.dims.len() {
        seed[i] = if mask[i] == 0 { i as u32 } else { NONE };
    }
}

/// Entry point `jfa_step`: one jump-flooding pass at step `p.step`.
pub fn jfa_step(p: &DistParams, seed_in: &[u32], seed_out: &mut [u32]) {
    let w = p.dims.width as i64;
    let h = p.dims.height as i64;
    let s = p.step as i64;
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) as u32;
            let mut best = seed_in[i as usize];
            let mut best_d = if best == NONE {
                u32::MAX
            } else {
                dist2(p.dims.width, i, best)
            };
            for dy in [-s, 0, s] {
                for dx in [-s, 0, s] {
                    let yy = y + dy;
                    let xx = x + dx;
                    if yy < 0 || yy >= h || xx < 0 || xx >= w {
                        continue;
                    }
                    let c = seed_in[(yy * w + xx) as usize];
                    if c == NONE {
                        continue;
                    }
                    let d = dist2(p.dims.width, i, c);
                    if d < best_d || (d == best_d && c < best) {
                        best = c;
                        best_d = d;
                    }
                }
            }
            seed_out[i as usize] = best;
        }
    }
}

/// Entry point `jfa_finish`: squared distance to the pixel's seed (0 on background; the phantom
/// point at row −1, column 0 when no seed exists).
pub fn jfa_finish(p: &DistParams, mask: &[u32], seed: &[u32], d2: &mut [u32]) {
    let w = p.dims.width;
    for i in 0..p.dims.len() {
        d2[i] = if mask[i] == 0 {
            0
        } else if seed[i] == NONE {
            let y = i as u32 / w + 1;
            let x = i as u32 % w;
            y * y + x * x
        } else {
            dist2(w, i as u32, seed[i])
        };
    }
}

/// The whole distance stage on the CPU: the exact transform by [`distance_exact_rows`]
/// (row-oriented, rows in parallel), jump flooding by its passes.
pub fn distance(dims: Dims, mode: DistanceMode, mask: &[u32]) -> Vec<u32> {
    match mode {
        DistanceMode::Exact => distance_exact_rows(dims, mask),
        DistanceMode::Jfa(_) => distance_passes(dims, mode, mask),
    }
}

/// The whole distance stage with the shader's schedule: [`edt_cols`] + [`edt_rows`] (exact), or
/// the jump-flooding passes. [`distance`] must equal it (tests/stages/distance.rs).
pub fn distance_passes(dims: Dims, mode: DistanceMode, mask: &[u32]) -> Vec<u32> {
    let n = dims.len();
    let mut d2 = vec![0u32; n];
    match mode {
        DistanceMode::Exact => {
            let p = DistParams { dims, step: 0 };
            let mut g = vec![0u32; n];
            let mut v = vec![0u32; n];
            let mut z = vec![0i32; n];
            edt_cols(&p, mask, &mut g);
            edt_rows(&p, mask, &g, &mut d2, &mut v, &mut z);
        }
        DistanceMode::Jfa(variant) => {
            let mut a = vec![0u32; n];
            let mut b = vec![0u32; n];
            jfa_init(&DistParams { dims, step: 0 }, mask, &mut a);
            for step in variant.steps(dims) {
                jfa_step(&DistParams { dims, step }, &a, &mut b);
                std::mem::swap(&mut a, &mut b);
            }
            jfa_finish(&DistParams { dims, step: 0 }, mask, &a, &mut d2);
        }
    }
    d2
}

/// The exact transform of [`edt_cols`] + [`edt_rows`], scheduled for a CPU: the column pass runs
/// as two sweeps over whole rows (down, then up; contiguous and vectorisable instead of one
/// strided walk per column), and the row pass runs rows in parallel with per-thread scratch,
/// one lower envelope per run of foreground pixels ([`envelope_row`]). Same integer minimum
/// per pixel; each row's result depends only on its own `g` row, so the output does not depend
/// on the thread count. Class: *map* per pass.
pub fn distance_exact_rows(dims: Dims, mask: &[u32]) -> Vec<u32> {
    let w = dims.width as usize;
    let n = dims.len();
    // Column pass, into the output buffer: g[y, x] = rows to the nearest background of column
    // x (G_INF if none); g is 0 exactly on background, where d2 is 0 too. Finite runs stay far
    // below G_INF (MAX_SIDE), so `saturating_add` keeps G_INF sticky exactly as `edt_cols`'
    // explicit test does.
    let mut d2 = vec![0u32; n];
    if n == 0 {
        return d2;
    }
    let mut run = vec![G_INF; w];
    for (grow, mrow) in d2.chunks_exact_mut(w).zip(mask.chunks_exact(w)) {
        for ((gv, &mv), r) in grow.iter_mut().zip(mrow).zip(run.iter_mut()) {
            *r = if mv == 0 { 0 } else { r.saturating_add(1) };
            *gv = *r;
        }
    }
    run.fill(G_INF);
    for (grow, mrow) in d2.chunks_exact_mut(w).rev().zip(mask.chunks_exact(w).rev()) {
        for ((gv, &mv), r) in grow.iter_mut().zip(mrow).zip(run.iter_mut()) {
            *r = if mv == 0 { 0 } else { r.saturating_add(1) };
            *gv = (*gv).min(*r);
        }
    }
    // Row pass, in place: each row's g is copied to scratch first.
    use rayon::prelude::*;
    d2.par_chunks_mut(w)
        .zip(mask.par_chunks(w))
        .enumerate()
        .with_min_len(8)
        .for_each_init(
            || EnvelopeScratch::new(w),
            |s, (y, (drow, mrow))| {
                if mrow.iter().any(|&m| m != 0) {
                    s.g.copy_from_slice(drow);
                    envelope_row(y as u32, mrow, drow, s);
                }
            },
        );
    d2
}

/// One row of [`edt_rows`] on row slices: `d2[x] = min_u (x - u)² + g(u)²` over columns with
/// finite `g` (`s.g`), for the row's foreground pixels (`d2` already holds 0 on background);
/// SciPy's phantom point when no column has background.
///
/// Each run of foreground pixels `[a, e)` only needs the columns `a - 1 ..= e`: a background
/// pixel (`g = 0`) at `a - 1` or `e` is closer than every column beyond it. Short runs (the
/// usual case: cells are narrow) search outwards from each pixel ([`search_run`]); long ones,
/// or runs next to a column without background, build the lower envelope. The lower envelope
/// of a run's parabolas is kept without divisions: the left end of a parabola's interval is the
/// exact rational `zn / zd` (`zd > 0`) and every comparison is a cross-multiplication in `i64`.
/// Only the minimum's *value* is output, and it does not depend on how ties between equally
/// good parabolas are broken, so the bytes equal `edt_rows`' floor-division envelope.
fn envelope_row(y: u32, mask: &[u32], d2: &mut [u32], s: &mut EnvelopeScratch) {
    let w = mask.len();
    let mut x = 0usize;
    while x < w {
        if mask[x] == 0 {
            x += 1;
            continue;
        }
        let a = x;
        while x < w && mask[x] != 0 {
            x += 1;
        }
        let lo = a.saturating_sub(1);
        let hi = x.min(w - 1);
        if x - a <= SEARCH_RUN && s.g[lo..=hi].iter().all(|&g| g != G_INF) {
            search_run(lo, hi, a, &mut d2[a..x], &s.g);
        } else {
            envelope_run(y, lo, hi, a, &mut d2[a..x], s);
        }
    }
}

/// Runs up to this length take [`search_run`] instead of [`envelope_run`].
const SEARCH_RUN: usize = 48;

/// `d2[x - a] = min_u (x - u)² + g(u)²` over `u ∈ lo..=hi` (all `g` finite) by searching
/// outwards from `x` until `dx²` reaches the best value found: the exact minimum, cheap when
/// distances are small (short runs).
fn search_run(lo: usize, hi: usize, a: usize, d2: &mut [u32], g: &[u32]) {
    for (i, d) in d2.iter_mut().enumerate() {
        let x = a + i;
        let mut best = g[x] * g[x];
        let mut dx = 1usize;
        while dx * dx < best as usize {
            let left = x >= lo + dx;
            let right = x + dx <= hi;
            if !left && !right {
                break;
            }
            let dd = (dx * dx) as u32;
            if left {
                let gu = g[x - dx];
                best = best.min(dd + gu * gu);
            }
            if right {
                let gu = g[x + dx];
                best = best.min(dd + gu * gu);
            }
            dx += 1;
        }
        *d = best;
    }
}

/// The envelope of the parabolas of columns `lo..=hi` (finite `g` only), evaluated at the
/// columns `a .. a + d2.len()`.
fn envelope_run(y: u32, lo: usize, hi: usize, a: usize, d2: &mut [u32], s: &mut EnvelopeScratch) {
    let EnvelopeScratch { g, v, f, zn, zd } = s;
    let mut k: usize = 0; // number of parabolas in the envelope
    for (u, &gu) in g[lo..=hi].iter().enumerate() {
        if gu == G_INF {
            continue;
        }
        let fu = gu as i64 * gu as i64;
        let ui = (lo + u) as i64;
        while k > 0 {
            let q = v[k - 1] as i64;
            // u is at least as good as q from x = n / d on
            let n = ui * ui - q * q + fu - f[k - 1];
            let d = 2 * (ui - q);
            // parabola q is hidden when that is not after its own left end (the first
            // parabola's left end is −∞)
            if k > 1 && n * zd[k - 1] <= zn[k - 1] * d {
                k -= 1;
                continue;
            }
            zn[k] = n;
            zd[k] = d;
            break;
        }
        v[k] = ui as u32;
        f[k] = fu;
        k += 1;
    }
    if k == 0 {
        // No column has background: the whole image is foreground (SciPy's phantom point).
        let yy = y + 1;
        for (x, d) in d2.iter_mut().enumerate() {
            let x = (a + x) as u32;
            *d = yy * yy + x * x;
        }
        return;
    }
    let mut j = 0usize;
    for (x, d) in d2.iter_mut().enumerate() {
        let xi = (a + x) as i64;
        while j + 1 < k && zn[j + 1] <= xi * zd[j + 1] {
            j += 1;
        }
        let dx = xi - v[j] as i64;
        *d = (dx * dx + f[j]) as u32;
    }
}

/// Per-thread scratch of [`envelope_row`]: the row's `g`, the envelope's parabolas (apex
/// column `v`, height `f`) and the left ends `zn / zd` of their intervals.
struct EnvelopeScratch {
    g: Vec<u32>,
    v: Vec<u32>,
    f: Vec<i64>,
    zn: Vec<i64>,
    zd: Vec<i64>,
}

impl EnvelopeScratch {
    fn new(w: usize) -> Self {
        EnvelopeScratch {
            g: vec![0; w],
            v: vec![0; w],
            f: vec![0; w],
            zn: vec![0; w],
            zd: vec![0; w],
        }
    }
}
