//! Synthetic test images: the lecture's canvas with three disks, and the same with salt noise.
//!
//! The lecture draws on a 100×100 canvas the disks (20, 20, r=10), (35, 35, r=15) and
//! (60, 60, r=8) with `skimage.draw.disk`; floodseg's canvas is an 8-bit image with a bright
//! background (255) and dark cells (0), so it runs through the lecture's own threshold
//! (`gray < 180`). Disk membership is computed with the same float expression as
//! `skimage.draw.disk` (`(dr/R)² + (dc/R)² < 1`), so the pixels are identical.

use crate::image::RawImage;

/// The lecture's canvas size.
pub const CANVAS: usize = 100;
/// The lecture's disks: (row, col, radius).
pub const DISKS: [(f64, f64, f64); 3] = [(20.0, 20.0, 10.0), (35.0, 35.0, 15.0), (60.0, 60.0, 8.0)];
/// Background and cell intensities.
pub const BACKGROUND: u8 = 255;
pub const CELL: u8 = 0;

/// Whether pixel (r, c) lies in `skimage.draw.disk((r0, c0), radius)`.
pub fn in_disk(r: usize, c: usize, r0: f64, c0: f64, radius: f64) -> bool {
    let a = (r as f64 - r0) / radius;
    let b = (c as f64 - c0) / radius;
    a * a + b * b < 1.0
}

/// The lecture's three disks (dark on bright).
pub fn lecture_disks() -> RawImage {
    let mut data = vec![BACKGROUND; CANVAS * CANVAS];
    for r in 0..CANVAS {
        for c in 0..CANVAS {
            if DISKS
                .iter()
                .any(|&(r0, c0, rad)| in_disk(r, c, r0, c0, rad))
            {
                data[r * CANVAS + c] = CELL;
            }
        }
    }
    RawImage::gray_u8(CANVAS, CANVAS, data)
}

/// The lecture's disks plus salt noise: exactly 10 % of the pixels (1000 distinct ones, chosen
/// by a seeded SplitMix64 shuffle) set to the cell intensity, as dark specks.
pub fn lecture_noisy(seed: u64) -> RawImage {
    let mut img = lecture_disks();
    let n = CANVAS * CANVAS;
    let mut idx: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix64(seed);
    // partial Fisher–Yates: the first n/10 entries are a uniform sample
    for k in 0..n / 10 {
        let j = k + (rng.next() % (n - k) as u64) as usize;
        idx.swap(k, j);
    }
    if let crate::image::Samples::U8(d) = &mut img.samples {
        for &i in &idx[..n / 10] {
            d[i] = CELL;
        }
    }
    img
}

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, seedable, reproducible everywhere.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
