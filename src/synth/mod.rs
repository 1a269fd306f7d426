//! Synthetic test images: the lecture's canvas with three disks, the same with salt noise,
//! colonies of rods of any size (benchmarks), brightfield-like fields of rods with their
//! ground-truth labels ([`rods`], for F1 measurements), and time-lapses of a growing, dividing
//! colony of such rods with their lineage ([`timelapse`], for tracking).
//!
//! The lecture draws on a 100×100 canvas the disks (20, 20, r=10), (35, 35, r=15) and
//! (60, 60, r=8) with `skimage.draw.disk`; floodseg's canvas is an 8-bit image with a bright
//! background (255) and dark cells (0), so it runs through the lecture's own threshold
//! (`gray < 180`). Disk membership is computed with the same float expression as
//! `skimage.draw.disk` (`(dr/R)² + (dc/R)² < 1`), so the pixels are identical.

use crate::image::RawImage;

pub mod timelapse;

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

/// Parameters of [`rods`]. Lengths are in pixels; the defaults give a brightfield-like field of
/// E. coli about 10 px wide, some freshly divided pairs and a little debris.
#[derive(Clone, Debug, PartialEq)]
pub struct RodsOptions {
    /// Rod width (diameter of the round caps) in pixels; each rod draws its own width uniformly
    /// in `width ± width_jitter`.
    pub width: f64,
    pub width_jitter: f64,
    /// Rod length, caps included, as a multiple of its width: uniform in `[min_aspect, max_aspect]`.
    pub min_aspect: f64,
    pub max_aspect: f64,
    /// Target fraction of the image covered by rods (placement stops early when a rod cannot be
    /// placed without overlap after many tries).
    pub density: f64,
    /// Fraction of rods placed as touching pairs (half end-to-end daughters, half side by side).
    pub touching: f64,
    /// Dark debris specks (radius 1–3 px, not in the ground truth) per 10,000 px².
    pub debris: f64,
    /// Background level and cell darkness (gray levels before illumination and noise).
    pub background: f64,
    pub contrast: f64,
    /// Bright phase-contrast-like halo around each rod, as a fraction of `contrast` (0: none).
    pub halo: f64,
    /// Uneven illumination: relative amplitude of a linear gradient plus a vignette (0: flat).
    pub illumination: f64,
    /// Gaussian blur (point-spread) σ in pixels applied to the drawn scene (0: none).
    pub blur: f64,
    /// Additive Gaussian noise σ in gray levels (0: none).
    pub noise: f64,
}

impl Default for RodsOptions {
    fn default() -> Self {
        RodsOptions {
            width: 10.0,
            width_jitter: 1.5,
            min_aspect: 2.0,
            max_aspect: 5.0,
            density: 0.15,
            touching: 0.4,
            debris: 1.5,
            background: 190.0,
            contrast: 100.0,
            halo: 0.2,
            illumination: 0.15,
            blur: 1.0,
            noise: 6.0,
        }
    }
}

/// A capsule: the segment (y0, x0)–(y1, x1) thickened by `radius`.
#[derive(Clone, Copy, Debug)]
struct Capsule {
    cy: f64,
    cx: f64,
    /// unit axis
    uy: f64,
    ux: f64,
    /// half of the segment length (caps excluded)
    half_seg: f64,
    radius: f64,
}

impl Capsule {
    fn new(cy: f64, cx: f64, angle: f64, length: f64, width: f64) -> Self {
        let radius = width / 2.0;
        Capsule {
            cy,
            cx,
            uy: angle.sin(),
            ux: angle.cos(),
            half_seg: ((length - width) / 2.0).max(0.0),
            radius,
        }
    }
    /// Signed distance from the pixel centre (r, c) to the capsule's outline (negative inside).
    fn sdf(&self, r: f64, c: f64) -> f64 {
        let (py, px) = (r - self.cy, c - self.cx);
        let t = (py * self.uy + px * self.ux).clamp(-self.half_seg, self.half_seg);
        let (ey, ex) = (py - t * self.uy, px - t * self.ux);
        (ey * ey + ex * ex).sqrt() - self.radius
    }
    /// Pixel bounding box (r0, r1, c0, c1), inclusive, clipped to the image; None if outside.
    fn bbox(&self, width: usize, height: usize, pad: f64) -> Option<(usize, usize, usize, usize)> {
        let ry = self.half_seg * self.uy.abs() + self.radius + pad;
        let rx = self.half_seg * self.ux.abs() + self.radius + pad;
        let (r0, r1) = ((self.cy - ry).floor(), (self.cy + ry).ceil());
        let (c0, c1) = ((self.cx - rx).floor(), (self.cx + rx).ceil());
        if r1 < 0.0 || c1 < 0.0 || r0 > (height - 1) as f64 || c0 > (width - 1) as f64 {
            return None;
        }
        Some((
            r0.max(0.0) as usize,
            (r1 as usize).min(height - 1),
            c0.max(0.0) as usize,
            (c1 as usize).min(width - 1),
        ))
    }
    /// Linear indices of the pixels whose centres lie inside (sdf < 0).
    fn pixels(&self, width: usize, height: usize) -> Vec<usize> {
        let mut out = Vec::new();
        if let Some((r0, r1, c0, c1)) = self.bbox(width, height, 1.0) {
            for r in r0..=r1 {
                for c in c0..=c1 {
                    if self.sdf(r as f64, c as f64) < 0.0 {
                        out.push(r * width + c);
                    }
                }
            }
        }
        out
    }
    /// Whether any pixel within `gap` of the capsule (outline included) carries a label.
    fn near_labels(&self, labels: &[u32], width: usize, height: usize, gap: f64) -> bool {
        if let Some((r0, r1, c0, c1)) = self.bbox(width, height, gap + 1.0) {
            for r in r0..=r1 {
                for c in c0..=c1 {
                    if labels[r * width + c] != 0 && self.sdf(r as f64, c as f64) < gap {
                        return true;
                    }
                }
            }
        }
        false
    }
}

/// Uniform f64 in [0, 1) from SplitMix64.
fn unit(rng: &mut SplitMix64) -> f64 {
    (rng.next() >> 11) as f64 / (1u64 << 53) as f64
}

/// Standard normal deviate (Box–Muller, one of the pair).
fn gauss(rng: &mut SplitMix64) -> f64 {
    let u1 = unit(rng).max(1e-300);
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Whether the pixels `px` (linear indices, any order) form one 8-connected component.
fn one_component(px: &[usize], width: usize) -> bool {
    if px.is_empty() {
        return false;
    }
    let set: std::collections::HashSet<usize> = px.iter().copied().collect();
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![px[0]];
    seen.insert(px[0]);
    while let Some(i) = stack.pop() {
        let (r, c) = ((i / width) as isize, (i % width) as isize);
        for dr in -1..=1isize {
            for dc in -1..=1isize {
                let (rr, cc) = (r + dr, c + dc);
                if rr < 0 || cc < 0 || cc >= width as isize {
                    continue;
                }
                let j = rr as usize * width + cc as usize;
                if set.contains(&j) && seen.insert(j) {
                    stack.push(j);
                }
            }
        }
    }
    seen.len() == set.len()
}

/// Separable Gaussian blur of a float image (edges replicated); σ ≤ 0 leaves it unchanged.
fn gaussian_blur(img: &mut [f64], width: usize, height: usize, sigma: f64) {
    if sigma <= 0.0 {
        return;
    }
    let rad = (3.0 * sigma).ceil() as isize;
    let k: Vec<f64> = (-rad..=rad)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let ksum: f64 = k.iter().sum();
    let mut tmp = vec![0.0; img.len()];
    for r in 0..height {
        for c in 0..width {
            let mut s = 0.0;
            for (j, w) in k.iter().enumerate() {
                let cc = (c as isize + j as isize - rad).clamp(0, width as isize - 1) as usize;
                s += w * img[r * width + cc];
            }
            tmp[r * width + c] = s / ksum;
        }
    }
    for r in 0..height {
        for c in 0..width {
            let mut s = 0.0;
            for (j, w) in k.iter().enumerate() {
                let rr = (r as isize + j as isize - rad).clamp(0, height as isize - 1) as usize;
                s += w * tmp[rr * width + c];
            }
            img[r * width + c] = s / ksum;
        }
    }
}

/// A `width × height` 8-bit brightfield/phase-like field of rod-shaped bacteria — dark capsules
/// (a segment with round caps, any angle) on a brighter, unevenly lit background with halos,
/// debris, blur and noise — and its ground-truth instance labels (row-major, 0 = background,
/// 1..N in placement order). Rods never overlap; a fraction of them are placed as touching
/// pairs (end-to-end daughters or side-by-side neighbours), whose shared boundary is where
/// their pixel sets meet. Each label is one 8-connected component (rods clipped by the image
/// border are kept when at least 30 px, or 30 % of the smallest rod's area if that is less,
/// remain). Debris specks are drawn but not labelled.
/// Deterministic in (`width`, `height`, `seed`, `opts`).
pub fn rods(width: usize, height: usize, seed: u64, opts: &RodsOptions) -> (RawImage, Vec<u32>) {
    assert!(width > 0 && height > 0, "empty image");
    let mut rng = SplitMix64(seed ^ 0x0052_4F44_5321);
    let n = width * height;
    let mut labels = vec![0u32; n];
    let mut next: u32 = 1;
    let mut covered = 0usize;
    let target = (opts.density.clamp(0.0, 0.9) * n as f64) as usize;
    // smallest object kept (rods cut by the border): 30 px, or 30 % of the smallest rod's area
    // when rods are tiny
    let w_min = (opts.width - opts.width_jitter.abs()).max(2.0);
    let a_min = w_min * w_min * (opts.min_aspect.max(1.0) - 1.0 + std::f64::consts::FRAC_PI_4);
    let min_px = ((0.3 * a_min).round() as usize).clamp(4, 30);
    let gap = 2.5; // free margin around rods that are not meant to touch
    let (lo, hi) = (
        opts.min_aspect.max(1.0),
        opts.max_aspect.max(opts.min_aspect.max(1.0)),
    );
    let mut failures = 0;
    while covered < target && failures < 500 {
        let w = (opts.width + opts.width_jitter * (2.0 * unit(&mut rng) - 1.0)).max(2.0);
        let len = w * (lo + (hi - lo) * unit(&mut rng));
        let angle = unit(&mut rng) * std::f64::consts::PI;
        let cy = unit(&mut rng) * height as f64;
        let cx = unit(&mut rng) * width as f64;
        let a = Capsule::new(cy, cx, angle, len, w);
        let pair = unit(&mut rng) < opts.touching;
        let mut caps = vec![a];
        if pair {
            let w2 = (opts.width + opts.width_jitter * (2.0 * unit(&mut rng) - 1.0)).max(2.0);
            let len2 = w2 * (lo + (hi - lo) * unit(&mut rng));
            let b = if unit(&mut rng) < 0.5 {
                // freshly divided daughters, end to end, slightly kinked; overlap the caps a
                // little so that the contact is a few pixels wide
                let ang2 = angle + 0.25 * (2.0 * unit(&mut rng) - 1.0);
                let (mid_y, mid_x) = (cy + a.uy * (len / 2.0), cx + a.ux * (len / 2.0));
                let reach = len2 / 2.0 - 0.35 * w.min(w2);
                Capsule::new(
                    mid_y + ang2.sin() * reach,
                    mid_x + ang2.cos() * reach,
                    ang2,
                    len2,
                    w2,
                )
            } else {
                // side-by-side neighbours, nearly parallel, shifted along the axis
                let ang2 = angle + 0.15 * (2.0 * unit(&mut rng) - 1.0);
                let side = if unit(&mut rng) < 0.5 { -1.0 } else { 1.0 };
                let off = (w + w2) / 2.0 - 1.0;
                let shift = (len.min(len2) / 2.0) * (2.0 * unit(&mut rng) - 1.0) * 0.8;
                Capsule::new(
                    cy + side * a.ux * off + a.uy * shift,
                    cx - side * a.uy * off + a.ux * shift,
                    ang2,
                    len2,
                    w2,
                )
            };
            caps.push(b);
        }
        if caps
            .iter()
            .any(|c| c.near_labels(&labels, width, height, gap))
        {
            failures += 1;
            continue;
        }
        // rasterise: the first capsule takes its pixels, the second the rest of its own
        let pa = caps[0].pixels(width, height);
        let mut sets = vec![pa];
        if caps.len() == 2 {
            let taken: std::collections::HashSet<usize> = sets[0].iter().copied().collect();
            let pb: Vec<usize> = caps[1]
                .pixels(width, height)
                .into_iter()
                .filter(|i| !taken.contains(i))
                .collect();
            sets.push(pb);
        }
        if sets
            .iter()
            .any(|s| s.len() < min_px || !one_component(s, width))
        {
            failures += 1;
            continue;
        }
        for s in &sets {
            for &i in s {
                labels[i] = next;
            }
            covered += s.len();
            next += 1;
        }
        failures = 0;
    }

    // scene: 1 inside rods, 0 outside; halo from a wider blur of the same mask
    let mut cell: Vec<f64> = labels
        .iter()
        .map(|&l| if l != 0 { 1.0 } else { 0.0 })
        .collect();
    let mut halo = cell.clone();
    if opts.halo > 0.0 {
        gaussian_blur(&mut halo, width, height, 1.5 + opts.width / 6.0);
        for (h, c) in halo.iter_mut().zip(&cell) {
            *h = (*h - c).max(0.0);
        }
    }
    // debris: small dark specks away from the rods
    let specks = (opts.debris.max(0.0) * n as f64 / 10_000.0).round() as usize;
    for _ in 0..specks {
        let r0 = unit(&mut rng) * height as f64;
        let c0 = unit(&mut rng) * width as f64;
        let rad = 1.0 + 2.0 * unit(&mut rng);
        let dark = 0.5 + 0.6 * unit(&mut rng);
        let spot = Capsule::new(r0, c0, 0.0, 2.0 * rad, 2.0 * rad);
        if spot.near_labels(&labels, width, height, 3.0) {
            continue;
        }
        for i in spot.pixels(width, height) {
            cell[i] = cell[i].max(dark);
        }
    }
    gaussian_blur(&mut cell, width, height, opts.blur);
    if opts.halo > 0.0 {
        gaussian_blur(&mut halo, width, height, opts.blur);
    }
    // uneven illumination: linear gradient in a random direction plus a radial vignette
    let g_ang = unit(&mut rng) * 2.0 * std::f64::consts::PI;
    let (gy, gx) = (g_ang.sin(), g_ang.cos());
    let (my, mx) = (height as f64 / 2.0, width as f64 / 2.0);
    let rmax2 = my * my + mx * mx;
    let diag = rmax2.sqrt().max(1.0);
    let mut px = vec![0u8; n];
    for r in 0..height {
        for c in 0..width {
            let i = r * width + c;
            let (dy, dx) = (r as f64 - my, c as f64 - mx);
            let illum = 1.0 + opts.illumination * 0.5 * (dy * gy + dx * gx) / diag
                - opts.illumination * 0.5 * (dy * dy + dx * dx) / rmax2;
            let v = illum
                * (opts.background - opts.contrast * cell[i] + opts.halo * opts.contrast * halo[i])
                + opts.noise * gauss(&mut rng);
            px[i] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    (RawImage::gray_u8(width, height, px), labels)
}
