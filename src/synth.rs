//! Synthetic test images: the lecture's canvas with three disks, the same with salt noise, and
//! colonies of rods of any size (benchmarks).
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

/// A `width × height` 8-bit colony of rod-shaped cells for benchmarks and demos: bright
/// capsules (half-width 3–6 px, length 6–30 px, any orientation, about one per 600 px², so many
/// touch) on a dark background, plus uniform noise. Fluorescence-like, so the default Otsu
/// threshold (objects brighter) segments it. Deterministic in (`width`, `height`, `seed`).
pub fn colony(width: usize, height: usize, seed: u64) -> RawImage {
    let mut rng = SplitMix64(seed ^ 0xC0_10_4E);
    let mut px = vec![0u8; width * height];
    let cells = (width * height).div_ceil(600);
    for _ in 0..cells {
        let cy = (rng.next() % height as u64) as f64;
        let cx = (rng.next() % width as u64) as f64;
        let half_width = 3.0 + (rng.next() % 4) as f64;
        let half_len = 3.0 + (rng.next() % 13) as f64;
        let angle = (rng.next() % 3600) as f64 * std::f64::consts::PI / 1800.0;
        let (dy, dx) = (angle.sin() * half_len, angle.cos() * half_len);
        let reach = half_len + half_width + 1.0;
        let r0 = (cy - reach).max(0.0) as usize;
        let r1 = ((cy + reach) as usize).min(height - 1);
        let c0 = (cx - reach).max(0.0) as usize;
        let c1 = ((cx + reach) as usize).min(width - 1);
        for r in r0..=r1 {
            for c in c0..=c1 {
                // distance from (r, c) to the segment (cy ± dy, cx ± dx)
                let (py, pxx) = (r as f64 - cy, c as f64 - cx);
                let t = ((py * dy + pxx * dx) / (half_len * half_len)).clamp(-1.0, 1.0);
                let (ey, ex) = (py - t * dy, pxx - t * dx);
                if ey * ey + ex * ex <= half_width * half_width {
                    px[r * width + c] = 1;
                }
            }
        }
    }
    for p in px.iter_mut() {
        let noise = (rng.next() % 41) as u8;
        *p = if *p == 1 { 170 + noise } else { 20 + noise };
    }
    RawImage::gray_u8(width, height, px)
}
