//! Per-object measurements as `skimage.measure.regionprops` defines them, derived on the host
//! from the integer sums of the measure stage ([`crate::cpu::measure`]).
//!
//! Central moments are computed exactly in integers (`n·Σy² − (Σy)²` …) before the single
//! division, so the values are at least as accurate as scikit-image's own float sums.
//!
//! # Physical units and the file column
//!
//! [`CSV_COLUMNS`] and [`csv_row`] are the pixel-unit table. [`csv_header`] and
//! [`csv_row_with`] build the same table with, per [`CsvLayout`], a leading `file` column
//! (RFC 4180 quoted by [`csv_field`]) and, when the pixel size is known, the columns
//! [`CSV_COLUMNS_UM`] appended: `area_um2` (area × px × py), `centroid_row_um` (row × py),
//! `centroid_col_um` (column × px), `major_axis_length_um` and `minor_axis_length_um`. For
//! square pixels the lengths are the pixel lengths × the pixel size. For anisotropic pixels
//! (px ≠ py) scaling a length by one factor would be wrong, so the ellipse is recomputed in
//! µm: the covariance of the object's pixel coordinates is rebuilt from the pixel-unit axis
//! lengths and orientation, scaled to µm (row by py, column by px), and its eigenvalues give
//! the lengths — what `regionprops` would report on the image resampled to square pixels, up
//! to resampling. `orientation` and `eccentricity` stay as measured in pixel space.

use std::borrow::Cow;

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

/// The column names appended when the pixel size is known, in order.
pub const CSV_COLUMNS_UM: &str =
    "area_um2,centroid_row_um,centroid_col_um,major_axis_length_um,minor_axis_length_um";

/// Which optional columns a measurement table has (see the [module docs](self)).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CsvLayout {
    /// A leading `file` column (the frame's source file name).
    pub file: bool,
    /// µm per pixel `(x, y)`: appends the [`CSV_COLUMNS_UM`] columns (e.g. from
    /// [`Calibration::pixel_size`](crate::io::Calibration::pixel_size)).
    pub pixel_size: Option<(f64, f64)>,
}

/// An object's measurements in µm (see the [module docs](self) for anisotropic pixels).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PhysicalProps {
    pub area_um2: f64,
    pub centroid_row_um: f64,
    pub centroid_col_um: f64,
    pub major_axis_length_um: f64,
    pub minor_axis_length_um: f64,
}

/// Convert `p` to µm for pixels `px` µm wide and `py` µm high.
pub fn physical(p: &ObjectProps, (px, py): (f64, f64)) -> PhysicalProps {
    let (major, minor) = if px == py {
        (p.major_axis_length * px, p.minor_axis_length * px)
    } else {
        // Covariance of (row, col) from its eigenvalues l1 >= l2 and the major axis
        // direction (cos θ, sin θ) in (row, col), θ = skimage's orientation.
        let l1 = (p.major_axis_length / 4.0).powi(2);
        let l2 = (p.minor_axis_length / 4.0).powi(2);
        let (sin, cos) = p.orientation.sin_cos();
        let rr = (l1 * cos * cos + l2 * sin * sin) * py * py;
        let cc = (l1 * sin * sin + l2 * cos * cos) * px * px;
        let rc = (l1 - l2) * sin * cos * px * py;
        let mean = (rr + cc) / 2.0;
        let root = (((rr - cc) / 2.0).powi(2) + rc * rc).sqrt();
        (
            4.0 * (mean + root).max(0.0).sqrt(),
            4.0 * (mean - root).max(0.0).sqrt(),
        )
    };
    PhysicalProps {
        area_um2: p.area as f64 * px * py,
        centroid_row_um: p.centroid_row * py,
        centroid_col_um: p.centroid_col * px,
        major_axis_length_um: major,
        minor_axis_length_um: minor,
    }
}

/// One CSV field, RFC 4180: quoted (with `"` doubled) when it holds a comma, a double quote,
/// a carriage return or a line feed, or starts or ends with a space; else as is.
pub fn csv_field(text: &str) -> Cow<'_, str> {
    let needs =
        text.contains([',', '"', '\r', '\n']) || text.starts_with(' ') || text.ends_with(' ');
    if needs {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(text)
    }
}

/// The header for `layout` (without a leading frame column): [`CSV_COLUMNS`] with `file,`
/// before and `,`[`CSV_COLUMNS_UM`] after as the layout asks. The default layout gives
/// exactly [`CSV_COLUMNS`].
pub fn csv_header(layout: &CsvLayout) -> String {
    let mut s = String::new();
    if layout.file {
        s.push_str("file,");
    }
    s.push_str(CSV_COLUMNS);
    if layout.pixel_size.is_some() {
        s.push(',');
        s.push_str(CSV_COLUMNS_UM);
    }
    s
}

/// One row for `layout` (without a leading frame column), matching [`csv_header`]: `file`
/// (quoted as needed; empty when `None`) if the layout has the column, the [`csv_row`]
/// fields, then the µm fields if the layout has a pixel size. The default layout gives
/// exactly [`csv_row`].
pub fn csv_row_with(layout: &CsvLayout, file: Option<&str>, p: &ObjectProps) -> String {
    let mut s = String::new();
    if layout.file {
        s.push_str(&csv_field(file.unwrap_or("")));
        s.push(',');
    }
    s.push_str(&csv_row(p));
    if let Some(size) = layout.pixel_size {
        let u = physical(p, size);
        s.push_str(&format!(
            ",{:?},{:?},{:?},{:?},{:?}",
            u.area_um2,
            u.centroid_row_um,
            u.centroid_col_um,
            u.major_axis_length_um,
            u.minor_axis_length_um
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sums of one object made of `pixels` (row, col).
    fn sums_of(pixels: &[(u32, u32)]) -> ObjectSums {
        let mut s = ObjectSums {
            min_y: u32::MAX,
            min_x: u32::MAX,
            ..Default::default()
        };
        for &(y, x) in pixels {
            let (yy, xx) = (u64::from(y), u64::from(x));
            s.count += 1;
            s.sum_y += yy;
            s.sum_x += xx;
            s.sum_yy += yy * yy;
            s.sum_xx += xx * xx;
            s.sum_xy += xx * yy;
            s.min_y = s.min_y.min(y);
            s.min_x = s.min_x.min(x);
            s.max_y = s.max_y.max(y);
            s.max_x = s.max_x.max(x);
            s.sum_key += 10;
        }
        s
    }

    /// A tilted rod: rows y, columns around 2y (+ a few extra pixels off-axis).
    fn rod() -> Vec<(u32, u32)> {
        let mut v = Vec::new();
        for y in 0..12u32 {
            for dx in 0..3 {
                v.push((y, 2 * y + dx));
            }
        }
        v.push((3, 0));
        v
    }

    fn props_of(pixels: &[(u32, u32)]) -> ObjectProps {
        let scale = GrayScale::Int {
            scale: 1,
            full: 255,
        };
        props(&[sums_of(pixels)], scale)[0]
    }

    /// Axis lengths computed directly from µm coordinates (4·sqrt of covariance eigenvalues).
    fn direct_lengths(pixels: &[(u32, u32)], px: f64, py: f64) -> (f64, f64) {
        let n = pixels.len() as f64;
        let pts: Vec<(f64, f64)> = pixels
            .iter()
            .map(|&(y, x)| (f64::from(y) * py, f64::from(x) * px))
            .collect();
        let (my, mx) = pts
            .iter()
            .fold((0.0, 0.0), |(a, b), &(y, x)| (a + y / n, b + x / n));
        let (mut rr, mut cc, mut rc) = (0.0, 0.0, 0.0);
        for &(y, x) in &pts {
            rr += (y - my) * (y - my) / n;
            cc += (x - mx) * (x - mx) / n;
            rc += (y - my) * (x - mx) / n;
        }
        let mean = (rr + cc) / 2.0;
        let root = (((rr - cc) / 2.0).powi(2) + rc * rc).sqrt();
        (4.0 * (mean + root).sqrt(), 4.0 * (mean - root).sqrt())
    }

    #[test]
    fn default_layout_is_the_pixel_table() {
        let p = props_of(&rod());
        let layout = CsvLayout::default();
        assert_eq!(csv_header(&layout), CSV_COLUMNS);
        assert_eq!(csv_row_with(&layout, Some("ignored.tif"), &p), csv_row(&p));
    }

    #[test]
    fn file_and_um_columns() {
        let p = props_of(&rod());
        let layout = CsvLayout {
            file: true,
            pixel_size: Some((0.5, 0.5)),
        };
        let header = csv_header(&layout);
        assert_eq!(
            header,
            format!("file,{CSV_COLUMNS},{CSV_COLUMNS_UM}"),
            "header"
        );
        let row = csv_row_with(&layout, Some("img,1.tif"), &p);
        let rest = row
            .strip_prefix("\"img,1.tif\",")
            .expect("quoted file name");
        let fields: Vec<&str> = rest.split(',').collect();
        assert_eq!(fields.len() + 1, header.split(',').count());
        assert_eq!(
            rest.split(',').take(13).collect::<Vec<_>>().join(","),
            csv_row(&p)
        );
        let um: Vec<f64> = fields[13..].iter().map(|f| f.parse().unwrap()).collect();
        assert_eq!(um[0], p.area as f64 * 0.25);
        assert_eq!(um[1], p.centroid_row * 0.5);
        assert_eq!(um[2], p.centroid_col * 0.5);
        assert_eq!(um[3], p.major_axis_length * 0.5);
        assert_eq!(um[4], p.minor_axis_length * 0.5);
        // No file given: an empty field.
        assert!(csv_row_with(&layout, None, &p).starts_with(",1,"));
    }

    #[test]
    fn anisotropic_lengths_match_a_direct_computation() {
        for pixels in [
            rod(),
            vec![(0, 0), (0, 1), (0, 2), (1, 0)],
            rod().split_off(20),
        ] {
            let p = props_of(&pixels);
            for (px, py) in [(0.065, 0.13), (2.0, 0.5), (0.1, 0.1)] {
                let u = physical(&p, (px, py));
                let (major, minor) = direct_lengths(&pixels, px, py);
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.max(1e-12);
                assert!(
                    close(u.major_axis_length_um, major),
                    "{px}×{py}: major {} vs {major}",
                    u.major_axis_length_um
                );
                assert!(
                    close(u.minor_axis_length_um, minor),
                    "{px}×{py}: minor {} vs {minor}",
                    u.minor_axis_length_um
                );
                assert_eq!(u.area_um2, p.area as f64 * px * py);
                assert_eq!(u.centroid_row_um, p.centroid_row * py);
                assert_eq!(u.centroid_col_um, p.centroid_col * px);
            }
        }
    }

    #[test]
    fn rfc4180_quoting() {
        assert_eq!(csv_field("img_0001.tif"), "img_0001.tif");
        assert_eq!(csv_field("a,b.tif"), "\"a,b.tif\"");
        assert_eq!(csv_field("say \"hi\".tif"), "\"say \"\"hi\"\".tif\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("cr\r"), "\"cr\r\"");
        assert_eq!(csv_field(" lead"), "\" lead\"");
        assert_eq!(csv_field(""), "");
        assert_eq!(csv_field("µm ünïcode.tif"), "µm ünïcode.tif");
    }
}
