//! Per-object measurements as `skimage.measure.regionprops` defines them, derived on the host
//! from the integer sums of the measure stage ([`crate::cpu::measure`]).
//!
//! Central moments are computed exactly in integers (`n·Σy² − (Σy)²` …) before the single
//! division, so the values are at least as accurate as scikit-image's own float sums.

use crate::cpu::measure::ObjectSums;
use crate::cpu::threshold::GrayScale;

/// One row of the measurement table (columns of `--stats`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObjectProps {
    pub label: u32,
    pub area: u64,
    pub centroid_row: f64,
    pub centroid_col: f64,
    /// skimage's bbox: `min_row, min_col, max_row + 1, max_col + 1`.
    pub bbox: [u32; 4],
    pub major_axis_length: f64,
    pub minor_axis_length: f64,
    pub orientation: f64,
    pub eccentricity: f64,
    pub mean_intensity: f64,
}

/// The column names of the measurement CSV, in order.
pub const CSV_COLUMNS: &str = "label,area,centroid_row,centroid_col,bbox_min_row,bbox_min_col,bbox_max_row,bbox_max_col,major_axis_length,minor_axis_length,orientation,eccentricity,mean_intensity";

/// Derive the properties of every object from its sums. Objects with no pixel are skipped.
pub fn props(sums: &[ObjectSums], scale: GrayScale) -> Vec<ObjectProps> {
    let mut out = Vec::with_capacity(sums.len());
    for (k, s) in sums.iter().enumerate() {
        if s.count == 0 {
            continue;
        }
        let n = s.count as i128;
        let nf = s.count as f64;
        // n² · central second moments, exactly
        let mu_yy = n * s.sum_yy as i128 - (s.sum_y as i128) * (s.sum_y as i128);
        let mu_xx = n * s.sum_xx as i128 - (s.sum_x as i128) * (s.sum_x as i128);
        let mu_xy = n * s.sum_xy as i128 - (s.sum_x as i128) * (s.sum_y as i128);
        let n2 = nf * nf;
        // inertia tensor [[a, b], [b, c]] = [[mu_xx, -mu_xy], [-mu_xy, mu_yy]] / n
        let a = mu_xx as f64 / n2;
        let b = -(mu_xy as f64) / n2;
        let c = mu_yy as f64 / n2;
        // eigenvalues (skimage's closed form for 2-D), clipped at 0
        let mean = (a + c) / 2.0;
        let root = (((a - c) / 2.0).powi(2) + b * b).sqrt();
        let l1 = (mean + root).max(0.0);
        let l2 = (mean - root).max(0.0);
        let orientation = if a - c == 0.0 {
            if b < 0.0 {
                std::f64::consts::FRAC_PI_4
            } else {
                -std::f64::consts::FRAC_PI_4
            }
        } else {
            0.5 * (-2.0 * b).atan2(c - a)
        };
        let eccentricity = if l1 == 0.0 {
            0.0
        } else {
            (1.0 - l2 / l1).sqrt()
        };
        let mean_intensity = match scale {
            GrayScale::Int { scale, .. } => s.sum_key as f64 / scale as f64 / nf,
            GrayScale::Float => s.sum_value / nf,
        };
        out.push(ObjectProps {
            label: k as u32 + 1,
            area: s.count,
            centroid_row: s.sum_y as f64 / nf,
            centroid_col: s.sum_x as f64 / nf,
            bbox: [s.min_y, s.min_x, s.max_y + 1, s.max_x + 1],
            major_axis_length: 4.0 * l1.sqrt(),
            minor_axis_length: 4.0 * l2.sqrt(),
            orientation,
            eccentricity,
            mean_intensity,
        });
    }
    out
}

/// Format one CSV row (without a leading frame column) with round-trip precision.
pub fn csv_row(p: &ObjectProps) -> String {
    format!(
        "{},{},{:?},{:?},{},{},{},{},{:?},{:?},{:?},{:?},{:?}",
        p.label,
        p.area,
        p.centroid_row,
        p.centroid_col,
        p.bbox[0],
        p.bbox[1],
        p.bbox[2],
        p.bbox[3],
        p.major_axis_length,
        p.minor_axis_length,
        p.orientation,
        p.eccentricity,
        p.mean_intensity
    )
}
