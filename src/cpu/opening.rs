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

/// The whole opening: `k` erosions then `k` dilations over `rect`, ping-ponging between
/// `mask` and a scratch buffer. Returns the opened mask.
pub fn opening(dims: Dims, rect: Rect, structure: Structure, k: u32, mask: &[u32]) -> Vec<u32> {
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
