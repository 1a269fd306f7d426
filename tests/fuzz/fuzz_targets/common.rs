//! Turning fuzz bytes into a small image and pipeline parameters.

use floodseg::cpu::distance::{DistanceMode, JfaVariant};
use floodseg::cpu::opening::Structure;
use floodseg::cpu::threshold::Level;
use floodseg::pipeline::{Flood, Markers, Params};
use floodseg::RawImage;

/// `(image, params)` from the bytes: 12 header bytes pick the size (1–32 per side), the sample
/// type and the parameters (the lecture's, then markers, smoothing, border, core, flood and
/// object filters); the rest fill the samples (repeated as needed).
pub fn case(data: &[u8]) -> Option<(RawImage, Params)> {
    if data.len() < 13 {
        return None;
    }
    let (h, body) = data.split_at(12);
    let width = 1 + (h[0] % 32) as usize;
    let height = 1 + (h[1] % 32) as usize;
    let n = width * height;
    let byte = |i: usize| body[i % body.len()];
    let img = match h[2] % 4 {
        0 => RawImage::gray_u8(width, height, (0..n).map(byte).collect()),
        1 => RawImage::gray_u16(
            width,
            height,
            (0..n)
                .map(|i| u16::from_le_bytes([byte(2 * i), byte(2 * i + 1)]))
                .collect(),
        ),
        2 => RawImage {
            width,
            height,
            channels: 3,
            samples: floodseg::Samples::U8((0..3 * n).map(byte).collect()),
        },
        _ => RawImage::gray_f32(
            width,
            height,
            (0..n).map(|i| byte(i) as f32 / 7.0 - 3.0).collect(),
        ),
    };
    let level = match h[3] % 3 {
        0 => Level::Otsu,
        _ => floodseg::cpu::threshold::parse_level(&format!("{}.{}", h[4] / 2, h[4] % 10)).ok()?,
    };
    let params = Params {
        level,
        dark: h[5] & 1 == 1,
        open: u32::from(h[5] >> 1) % 4,
        structure: if h[5] & 0x80 != 0 {
            Structure::Square
        } else {
            Structure::Cross
        },
        min_distance: u32::from(h[6] % 8),
        footprint: (h[7] & 1 == 1).then(|| 1 + u32::from(h[7] >> 1) % 12),
        distance: match h[8] % 4 {
            0 => DistanceMode::Exact,
            1 => DistanceMode::Jfa(JfaVariant::Plain),
            2 => DistanceMode::Jfa(JfaVariant::Plus2),
            _ => DistanceMode::Jfa(JfaVariant::Squared),
        },
        markers: match h[9] % 3 {
            0 => Markers::Peaks,
            1 => Markers::Regional,
            _ => Markers::Hmax {
                h_half: u32::from(h[10] % 8),
            },
        },
        smooth: u32::from(h[9] >> 2) % 3,
        exclude_border: match (h[10] >> 3) % 4 {
            3 => None,
            b => Some(u32::from(b)),
        },
        min_area: u64::from(h[11] % 16),
        min_edge_area: (h[8] & 0x04 != 0).then(|| u64::from(h[8] >> 3) % 24),
        max_area: (h[11] & 0x40 != 0).then_some(40),
        min_eccentricity: if h[11] & 0x10 != 0 { 0.7 } else { 0.0 },
        max_width: (h[11] & 0x20 != 0).then_some(3.5),
        clear_border: (h[11] & 0x80 != 0).then(|| u32::from(h[10] >> 5)),
        background: (h[6] & 0x08 != 0).then(|| 1 + u32::from(h[6] >> 4) % 12),
        // a core level a little beyond h[4]'s threshold (or anywhere, with Otsu)
        core: (h[3] & 0x40 != 0).then(|| {
            let t = f64::from(h[4] / 2);
            let c = if h[5] & 1 == 1 { t - f64::from(h[3] % 8) } else { t + f64::from(h[3] % 8) };
            floodseg::cpu::threshold::Decimal::parse(&format!("{c}")).expect("a decimal")
        }),
        flood: if h[3] & 0x80 != 0 { Flood::Intensity } else { Flood::Distance },
    };
    Some((img, params))
}
