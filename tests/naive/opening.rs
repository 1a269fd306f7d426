//! Binary erosion, dilation and opening by their definitions, as SciPy computes them with
//! `border_value=0`: a pixel outside the image counts as background.
//!
//! - erosion: `out(p) = 1` ⇔ every pixel `p + o` (o in the structuring element) is inside the
//!   image and 1;
//! - dilation: `out(p) = 1` ⇔ some pixel `p + o` is inside the image and 1 (the structuring
//!   elements here are symmetric, so reflecting them changes nothing);
//! - opening with `k`: `k` erosions, then `k` dilations, each applied to the previous result.

/// The offsets of the structuring element: the 4-neighbour cross (SciPy's default,
/// `generate_binary_structure(2, 1)`) or the 3×3 square.
pub fn structure(square: bool) -> Vec<(i64, i64)> {
    let mut offsets = Vec::new();
    for dy in -1i64..=1 {
        for dx in -1i64..=1 {
            let in_cross = dy == 0 || dx == 0;
            if square || in_cross {
                offsets.push((dy, dx));
            }
        }
    }
    offsets
}

/// Value at `(y, x)`, with pixels outside the image equal to 0.
fn at(width: usize, height: usize, img: &[u32], y: i64, x: i64) -> u32 {
    if y < 0 || x < 0 || y >= height as i64 || x >= width as i64 {
        0
    } else if img[y as usize * width + x as usize] != 0 {
        1
    } else {
        0
    }
}

pub fn erode(width: usize, height: usize, square: bool, img: &[u32]) -> Vec<u32> {
    let se = structure(square);
    let mut out = vec![0u32; width * height];
    for y in 0..height {
        for x in 0..width {
            let all_set = se
                .iter()
                .all(|&(dy, dx)| at(width, height, img, y as i64 + dy, x as i64 + dx) == 1);
            out[y * width + x] = all_set as u32;
        }
    }
    out
}

pub fn dilate(width: usize, height: usize, square: bool, img: &[u32]) -> Vec<u32> {
    let se = structure(square);
    let mut out = vec![0u32; width * height];
    for y in 0..height {
        for x in 0..width {
            let any_set = se
                .iter()
                .any(|&(dy, dx)| at(width, height, img, y as i64 + dy, x as i64 + dx) == 1);
            out[y * width + x] = any_set as u32;
        }
    }
    out
}

pub fn opening(width: usize, height: usize, square: bool, k: u32, img: &[u32]) -> Vec<u32> {
    let mut cur: Vec<u32> = img.iter().map(|&v| (v != 0) as u32).collect();
    for _ in 0..k {
        cur = erode(width, height, square, &cur);
    }
    for _ in 0..k {
        cur = dilate(width, height, square, &cur);
    }
    cur
}

/// Cut the rectangle `[y0, y1] × [x0, x1]` (inclusive) out of an image.
pub fn crop(width: usize, img: &[u32], y0: usize, x0: usize, y1: usize, x1: usize) -> Vec<u32> {
    let mut out = Vec::new();
    for y in y0..=y1 {
        for x in x0..=x1 {
            out.push(img[y * width + x]);
        }
    }
    out
}

/// Put a cropped image back at `(y0, x0)` into a zero image of the full size.
pub fn uncrop(
    width: usize,
    height: usize,
    part: &[u32],
    y0: usize,
    x0: usize,
    part_width: usize,
) -> Vec<u32> {
    let mut out = vec![0u32; width * height];
    if part_width == 0 {
        return out;
    }
    for (j, &v) in part.iter().enumerate() {
        let (py, px) = (j / part_width, j % part_width);
        out[(y0 + py) * width + (x0 + px)] = v;
    }
    out
}
