//! Brute-force squared Euclidean distance transform (`scipy.ndimage.distance_transform_edt(mask)
//! ** 2`): for every mask pixel, the smallest `dy² + dx²` over all background pixels of the image;
//! background pixels hold 0. With no background pixel anywhere SciPy measures to a phantom point
//! at row −1, column 0, so the distance is `(y + 1)² + x²`.

pub fn edt2(width: usize, height: usize, mask: &[u32]) -> Vec<u32> {
    let mut background = Vec::new();
    for y in 0..height {
        for x in 0..width {
            if mask[y * width + x] == 0 {
                background.push((y as i64, x as i64));
            }
        }
    }
    let mut out = vec![0u32; width * height];
    for y in 0..height {
        for x in 0..width {
            if mask[y * width + x] == 0 {
                continue;
            }
            let (yy, xx) = (y as i64, x as i64);
            let best = if background.is_empty() {
                (yy + 1) * (yy + 1) + xx * xx
            } else {
                background
                    .iter()
                    .map(|&(by, bx)| (yy - by) * (yy - by) + (xx - bx) * (xx - bx))
                    .min()
                    .unwrap()
            };
            out[y * width + x] = best as u32;
        }
    }
    out
}
