//! `skimage.feature.peak_local_max(dist, labels=mask, min_distance=m, footprint=np.ones((s, s)))`
//! with its other defaults (scikit-image 0.26, `skimage/feature/peak.py`), transcribed step by
//! step. `dist` is given as its square `d2`: the square root preserves order and equality, so
//! every comparison below is the one scikit-image makes.
//!
//! 1. `_exclude_border(labels, (m, m))`: label pixels in the first and last `m` rows/columns
//!    become 0.
//! 2. `threshold = image.min()` over the whole image (`threshold_abs=None`).
//! 3. `ndi.find_objects` gives the bounding box (the ROI) of the remaining label-1 pixels; no
//!    such pixel, no peaks.
//! 4. In the ROI: `label_mask = labels[roi] == 1`, `img = image[roi]` with non-mask pixels set to
//!    the most negative value (here `None`, which is below every `Some`).
//! 5. `_get_peak_mask(img, footprint, threshold, label_mask)`:
//!    - `footprint.size == 1 or img.size == 1` → `img > threshold`;
//!    - else `img_max = maximum_filter(img, footprint, mode='nearest')` (window offsets
//!      `-(s/2) ..= s - s/2 - 1`, indices clamped to the ROI: 'nearest' repeats the edge pixel),
//!      `out = img == img_max`; if `out` holds at every mask pixel ("trivial image") then
//!      `out = label_mask XOR binary_opening(label_mask)` (cross, outside = 0);
//!      then `out &= img > threshold`.
//! 6. `_get_high_intensity_peaks`: the candidates in raster order, stably sorted by value
//!    descending; if `m > 1`, `ensure_spacing` with the Chebyshev norm: walk that order and keep
//!    a candidate unless an already kept one lies at Chebyshev distance `< m`.

use super::opening;

/// Returns the 0/1 image of kept peaks. `footprint` is the size `s` of the `s×s` box.
pub fn peak_local_max(
    width: usize,
    height: usize,
    mask: &[u32],
    d2: &[u32],
    min_distance: usize,
    footprint: usize,
) -> Vec<u32> {
    let m = min_distance;
    let s = footprint;
    let mut result = vec![0u32; width * height];

    // 1. border exclusion (on a copy of the labels)
    let mut labels_ex: Vec<u32> = mask.iter().map(|&v| (v != 0) as u32).collect();
    for y in 0..height {
        for x in 0..width {
            let in_border =
                y < m || x < m || y >= height.saturating_sub(m) || x >= width.saturating_sub(m);
            if in_border {
                labels_ex[y * width + x] = 0;
            }
        }
    }

    // 2. threshold: the image minimum
    let threshold = match d2.iter().min() {
        Some(&t) => t,
        None => return result,
    };

    // 3. bounding box of the remaining label pixels
    let mut bbox: Option<(usize, usize, usize, usize)> = None; // y0, x0, y1, x1
    for y in 0..height {
        for x in 0..width {
            if labels_ex[y * width + x] != 0 {
                bbox = Some(match bbox {
                    None => (y, x, y, x),
                    Some((y0, x0, y1, x1)) => (y0.min(y), x0.min(x), y1.max(y), x1.max(x)),
                });
            }
        }
    }
    let Some((y0, x0, y1, x1)) = bbox else {
        return result;
    };
    let ch = y1 - y0 + 1;
    let cw = x1 - x0 + 1;

    // 4. the crop: label mask (from the original labels) and the masked image
    let label_mask: Vec<bool> = opening::crop(width, mask, y0, x0, y1, x1)
        .iter()
        .map(|&v| v != 0)
        .collect();
    let d2_crop = opening::crop(width, d2, y0, x0, y1, x1);
    let img: Vec<Option<u32>> = (0..ch * cw)
        .map(|j| {
            if label_mask[j] {
                Some(d2_crop[j])
            } else {
                None
            }
        })
        .collect();
    let above = |v: Option<u32>| matches!(v, Some(x) if x > threshold);

    // 5. the peak mask
    let mut out = vec![false; ch * cw];
    if s == 1 || ch * cw == 1 {
        for j in 0..ch * cw {
            out[j] = above(img[j]);
        }
    } else {
        let lo = -((s / 2) as i64);
        let hi = (s - s / 2 - 1) as i64;
        let clamp = |v: i64, n: usize| v.max(0).min(n as i64 - 1) as usize;
        let mut img_max = vec![None; ch * cw];
        for cy in 0..ch {
            for cx in 0..cw {
                let mut best: Option<u32> = None;
                for dy in lo..=hi {
                    for dx in lo..=hi {
                        let yy = clamp(cy as i64 + dy, ch);
                        let xx = clamp(cx as i64 + dx, cw);
                        best = best.max(img[yy * cw + xx]);
                    }
                }
                img_max[cy * cw + cx] = best;
            }
        }
        for j in 0..ch * cw {
            out[j] = img[j] == img_max[j];
        }
        let trivial = (0..ch * cw).filter(|&j| label_mask[j]).all(|j| out[j]);
        if trivial {
            let lm: Vec<u32> = label_mask.iter().map(|&b| b as u32).collect();
            let opened = opening::opening(cw, ch, false, 1, &lm);
            for j in 0..ch * cw {
                out[j] = label_mask[j] != (opened[j] != 0);
            }
        }
        for j in 0..ch * cw {
            out[j] = out[j] && above(img[j]);
        }
    }

    // 6. highest first (stable, so ties stay in raster order), then the spacing walk
    let mut candidates: Vec<(usize, usize, u32)> = Vec::new();
    for cy in 0..ch {
        for cx in 0..cw {
            let j = cy * cw + cx;
            if out[j] {
                candidates.push((cy + y0, cx + x0, d2_crop[j]));
            }
        }
    }
    candidates.sort_by_key(|c| std::cmp::Reverse(c.2)); // stable: ties keep raster order
    let mut kept: Vec<(usize, usize)> = Vec::new();
    for &(y, x, _) in &candidates {
        let too_close = m > 1
            && kept
                .iter()
                .any(|&(ky, kx)| y.abs_diff(ky).max(x.abs_diff(kx)) < m);
        if !too_close {
            kept.push((y, x));
        }
    }
    for (y, x) in kept {
        result[y * width + x] = 1;
    }
    result
}
