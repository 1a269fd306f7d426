//! Stage **opening**: `k` erosions then `k` dilations of a 0/1 mask. Class: *Jacobi* (each pass
//! reads one buffer and writes the other; both backends run the same sequence of passes).
//!
//! Equals `scipy.ndimage.binary_dilation(binary_erosion(mask, structure, iterations=k),
//! structure, iterations=k)` with SciPy's defaults: the structuring element is the 4-neighbour
//! cross (`Structure::Cross`, `generate_binary_structure(2, 1)`) or the 3×3 square, and pixels
//! outside the image count as background for both operations (`border_value=0`), so objects
//! touching the edge erode from it.
//!
//! Each pass works inside a rectangle `rect` (inclusive bounds) and treats everything outside it
//! as background; pixels outside `rect` are written 0. The opening uses the whole image; the
//! peaks stage reuses the same passes on its region of interest (scikit-image opens the crop).

use super::{Dims, Rect};

/// Structuring element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Structure {
    /// 4-neighbour cross (SciPy's default).
    #[default]
    Cross,
    /// 3×3 square (8 neighbours).
    Square,
}

/// Uniforms of an erosion or dilation pass (WGSL `MorphParams`, keep in sync with
/// `shaders/opening.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MorphParams {
    pub dims: Dims,
    pub rect: Rect,
    /// 0 = cross, 1 = square.
    pub square: u32,
}

impl MorphParams {
    pub fn new(dims: Dims, rect: Rect, structure: Structure) -> Self {
        MorphParams {
            dims,
            rect,
            square: (structure == Structure::Square) as u32,
        }
    }
}

/// Value of the mask at `(y + dy, x + dx)`, 0 outside `rect`.
#[inline]
fn tap(p: &MorphParams, src: &[u32], y: u32, x: u32, dy: i32, dx: i32) -> u32 {
    let yy = y as i64 + dy as i64;
    let xx = x as i64 + dx as i64;
    let r = &p.rect;
    if yy < r.y0 as i64 || yy > r.y1 as i64 || xx < r.x0 as i64 || xx > r.x1 as i64 {
        return 0;
    }
    src[yy as usize * p.dims.width as usize + xx as usize]
}

/// Whether the structuring element includes offset `(dy, dx)`, for `dy, dx ∈ {-1, 0, 1}`.
#[inline]
fn in_structure(p: &MorphParams, dy: i32, dx: i32) -> bool {
    p.square != 0 || dy == 0 || dx == 0
}

/// Entry point `erode`: `dst = 1` where every pixel of the structuring element is 1.
pub fn erode(p: &MorphParams, src: &[u32], dst: &mut [u32]) {
    for y in 0..p.dims.height {
        for x in 0..p.dims.width {
            let i = (y * p.dims.width + x) as usize;
            let mut v = 0u32;
            if p.rect.contains(y, x) {
                v = 1;
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        if in_structure(p, dy, dx) && tap(p, src, y, x, dy, dx) == 0 {
                            v = 0;
                        }
                    }
                }
            }
            dst[i] = v;
        }
    }
}

/// Entry point `dilate`: `dst = 1` where any pixel of the structuring element is 1.
pub fn dilate(p: &MorphParams, src: &[u32], dst: &mut [u32]) {
    for y in 0..p.dims.height {
        for x in 0..p.dims.width {
            let i = (y * p.dims.width + x) as usize;
            let mut v = 0u32;
            if p.rect.contains(y, x) {
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        if in_structure(p, dy, dx) && tap(p, src, y, x, dy, dx) != 0 {
                            v = 1;
                        }
                    }
                }
            }
            dst[i] = v;
        }
    }
}

/// Entry point `open1` (the GPU's opening for `k = 1` in one pass): [`dilate`] of [`erode`].
pub fn open1(p: &MorphParams, src: &[u32], dst: &mut [u32]) {
    let mut eroded = vec![0u32; p.dims.len()];
    erode(p, src, &mut eroded);
    dilate(p, &eroded, dst);
}

/// The whole opening: `k` erosions then `k` dilations over `rect`, as [`opening_passes`], with
/// each pass done row by row on whole-row slices ([`erode_rows`], [`dilate_rows`]): the same
/// taps, vectorisable, rows in parallel. Returns the opened mask. Equal to [`opening_passes`]
/// (tests/stages/opening.rs).
pub fn opening(dims: Dims, rect: Rect, structure: Structure, k: u32, mask: &[u32]) -> Vec<u32> {
    if k == 0 {
        return mask.to_vec();
    }
    let p = MorphParams::new(dims, rect, structure);
    // The row passes need 0/1 values (the twin only asks "is the tap non-zero"): a 0/1 mask,
    // the pipeline's case, is read as it is, anything else is normalised first.
    let normalised: Vec<u32>;
    let src = if mask.iter().all(|&v| v <= 1) {
        mask
    } else {
        normalised = mask.iter().map(|&v| (v != 0) as u32).collect();
        &normalised
    };
    let mut a = vec![0u32; mask.len()];
    erode_rows(&p, src, &mut a);
    let mut b = vec![0u32; mask.len()];
    for _ in 1..k {
        erode_rows(&p, &a, &mut b);
        std::mem::swap(&mut a, &mut b);
    }
    for _ in 0..k {
        dilate_rows(&p, &a, &mut b);
        std::mem::swap(&mut a, &mut b);
    }
    a
}

/// The whole opening with the shader's passes ([`erode`], [`dilate`]), ping-ponging between
/// `mask` and a scratch buffer.
pub fn opening_passes(
    dims: Dims,
    rect: Rect,
    structure: Structure,
    k: u32,
    mask: &[u32],
) -> Vec<u32> {
    let p = MorphParams::new(dims, rect, structure);
    let mut a = mask.to_vec();
    let mut b = vec![0u32; mask.len()];
    for _ in 0..k {
        erode(&p, &a, &mut b);
        std::mem::swap(&mut a, &mut b);
    }
    for _ in 0..k {
        dilate(&p, &a, &mut b);
        std::mem::swap(&mut a, &mut b);
    }
    a
}

/// `d[i] = op(d[i], s[i])` over equal-length slices (vectorisable).
#[inline]
fn combine(d: &mut [u32], s: &[u32], and: bool) {
    if and {
        d.iter_mut().zip(s).for_each(|(d, &s)| *d &= s);
    } else {
        d.iter_mut().zip(s).for_each(|(d, &s)| *d |= s);
    }
}

/// Fold row segment `s` (same length as `d`) into `d` at horizontal offsets 0 and, when
/// `sides`, −1 and +1 (taps beyond the segment are not folded: for a dilation they are 0).
#[inline]
fn fold_row(d: &mut [u32], s: &[u32], sides: bool, and: bool) {
    let l = d.len();
    combine(d, s, and);
    if sides && l > 1 {
        combine(&mut d[1..], &s[..l - 1], and); // left neighbour
        combine(&mut d[..l - 1], &s[1..], and); // right neighbour
    }
}

/// One erosion or dilation pass on row slices, rows in parallel. `src` holds 0/1 values.
/// Erosion: a tap outside `rect` is 0, so the rect's first and last rows and columns erode
/// to 0; dilation: taps outside `rect` add nothing.
fn morph_rows(p: &MorphParams, src: &[u32], dst: &mut [u32], and: bool) {
    use rayon::prelude::*;
    let w = p.dims.width as usize;
    let r = p.rect;
    let square = p.square != 0;
    if w == 0 {
        return;
    }
    dst.par_chunks_mut(w)
        .enumerate()
        .with_min_len(16)
        .for_each(|(y, drow)| {
            let y = y as u32;
            if r.is_empty() || y < r.y0 || y > r.y1 || r.x0 >= p.dims.width {
                drow.fill(0);
                return;
            }
            let (x0, x1) = (r.x0 as usize, (r.x1 as usize).min(w - 1));
            drow[..x0].fill(0);
            drow[x1 + 1..].fill(0);
            let d = &mut drow[x0..=x1];
            let seg = |yy: u32| &src[yy as usize * w + x0..=yy as usize * w + x1];
            let has_up = y > r.y0;
            let has_down = y < r.y1;
            if and && (!has_up || !has_down) {
                d.fill(0);
                return;
            }
            let l = d.len();
            if and && !square && l >= 3 {
                // the common erosion in one fused pass over the interior columns
                let (c, u, n) = (seg(y), seg(y - 1), seg(y + 1));
                let m = l - 2;
                for ((((o, &a), &b), &e), (&uu, &nn)) in d[1..=m]
                    .iter_mut()
                    .zip(&c[..m])
                    .zip(&c[1..=m])
                    .zip(&c[2..])
                    .zip(u[1..=m].iter().zip(&n[1..=m]))
                {
                    *o = a & b & e & uu & nn;
                }
                d[0] = 0;
                d[l - 1] = 0;
                return;
            }
            d.copy_from_slice(seg(y));
            fold_row(d, seg(y), true, and);
            if has_up {
                fold_row(d, seg(y - 1), square, and);
            }
            if has_down {
                fold_row(d, seg(y + 1), square, and);
            }
            if and {
                // the left and right neighbours of the segment's ends are outside the rect
                d[0] = 0;
                d[l - 1] = 0;
            }
        });
}

/// [`erode`] on row slices (rows in parallel); `src` must hold 0/1 values.
pub fn erode_rows(p: &MorphParams, src: &[u32], dst: &mut [u32]) {
    morph_rows(p, src, dst, true);
}

/// [`dilate`] on row slices (rows in parallel); `src` must hold 0/1 values.
pub fn dilate_rows(p: &MorphParams, src: &[u32], dst: &mut [u32]) {
    morph_rows(p, src, dst, false);
}
