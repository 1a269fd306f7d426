//! Stage **measure**: per-object integer sums from which [`crate::measure`] derives
//! `regionprops`' area, centroid, bounding box, axis lengths, orientation, eccentricity and mean
//! intensity. Class: *order-free reduction* (integer sums, minima and maxima; the shader
//! accumulates 64-bit sums as pairs of `u32` with `atomicAdd` and carries).
//!
//! Intensity sums use the gray keys of integer images (exact); for float images the float values
//! are summed in `f64` in raster order.

use super::gray::f32_from_key;
use super::Dims;

/// Sums of one object (label `l` is at index `l - 1`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ObjectSums {
    pub count: u64,
    pub sum_y: u64,
    pub sum_x: u64,
    pub sum_yy: u64,
    pub sum_xx: u64,
    pub sum_xy: u64,
    pub min_y: u32,
    pub min_x: u32,
    pub max_y: u32,
    pub max_x: u32,
    /// Σ gray key (integer images).
    pub sum_key: u64,
    /// Σ value (float images).
    pub sum_value: f64,
}

/// Entry point `measure_sums`: accumulate every labelled pixel into its object's sums.
pub fn measure_sums(
    dims: Dims,
    labels: &[u32],
    keys: &[u32],
    float_keys: bool,
    n_objects: u32,
) -> Vec<ObjectSums> {
    let init = ObjectSums {
        min_y: u32::MAX,
        min_x: u32::MAX,
        ..Default::default()
    };
    let mut out = vec![init; n_objects as usize];
    let w = dims.width as usize;
    if w == 0 {
        return out;
    }
    // raster order, one row at a time (no division per pixel; float sums keep raster order)
    for (y, (lrow, krow)) in labels[..dims.len()]
        .chunks_exact(w)
        .zip(keys[..dims.len()].chunks_exact(w))
        .enumerate()
    {
        let y = y as u64;
        for (x, (&l, &key)) in lrow.iter().zip(krow).enumerate() {
            if l == 0 || l > n_objects {
                continue;
            }
            let x = x as u64;
            let s = &mut out[l as usize - 1];
            s.count += 1;
            s.sum_y += y;
            s.sum_x += x;
            s.sum_yy += y * y;
            s.sum_xx += x * x;
            s.sum_xy += x * y;
            s.min_y = s.min_y.min(y as u32);
            s.min_x = s.min_x.min(x as u32);
            s.max_y = s.max_y.max(y as u32);
            s.max_x = s.max_x.max(x as u32);
            if float_keys {
                s.sum_value += f32_from_key(key) as f64;
            } else {
                s.sum_key += key as u64;
            }
        }
    }
    out
}

/// Add one object's sums into another (integer fields only; the float sum is not touched).
fn merge_int(into: &mut ObjectSums, s: &ObjectSums) {
    into.count += s.count;
    into.sum_y += s.sum_y;
    into.sum_x += s.sum_x;
    into.sum_yy += s.sum_yy;
    into.sum_xx += s.sum_xx;
    into.sum_xy += s.sum_xy;
    into.min_y = into.min_y.min(s.min_y);
    into.min_x = into.min_x.min(s.min_x);
    into.max_y = into.max_y.max(s.max_y);
    into.max_x = into.max_x.max(s.max_x);
    into.sum_key += s.sum_key;
}

/// The whole measure stage on the CPU: [`measure_sums`], with integer images split into bands
/// of rows measured in parallel and merged. Integer sums, minima and maxima do not depend on
/// the order they are taken in (*order-free reduction*), so the result equals
/// [`measure_sums`] for any split; float images keep the single raster-order pass, since their
/// `f64` sum does depend on the order.
pub fn measure(
    dims: Dims,
    labels: &[u32],
    keys: &[u32],
    float_keys: bool,
    n_objects: u32,
) -> Vec<ObjectSums> {
    use rayon::prelude::*;
    let w = dims.width as usize;
    let h = dims.height as usize;
    const BAND_PIXELS: usize = 1 << 18;
    let band = BAND_PIXELS.div_ceil(w.max(1)).max(1); // rows per band
    if float_keys || w == 0 || h <= band {
        return measure_sums(dims, labels, keys, float_keys, n_objects);
    }
    let parts: Vec<Vec<ObjectSums>> = (0..h.div_ceil(band))
        .into_par_iter()
        .map(|b| {
            let (r0, r1) = (b * band, ((b + 1) * band).min(h));
            let mut part = measure_sums(
                Dims::new(w, r1 - r0),
                &labels[r0 * w..r1 * w],
                &keys[r0 * w..r1 * w],
                false,
                n_objects,
            );
            for s in part.iter_mut().filter(|s| s.count > 0) {
                // the band's rows start at r0
                let dy = r0 as u64;
                s.sum_yy += 2 * dy * s.sum_y + dy * dy * s.count;
                s.sum_xy += dy * s.sum_x;
                s.sum_y += dy * s.count;
                s.min_y += r0 as u32;
                s.max_y += r0 as u32;
            }
            part
        })
        .collect();
    let mut parts = parts.into_iter();
    let mut out = parts.next().unwrap_or_default();
    for part in parts {
        for (o, s) in out.iter_mut().zip(&part) {
            merge_int(o, s);
        }
    }
    out
}
