//! 8-bit previews of the stages and outline overlays, for people tuning parameters.
//! Display only: nothing here feeds a comparison.

/// 0/1 → 0/255.
pub fn binary_preview(v: &[u32]) -> Vec<u8> {
    v.iter().map(|&x| if x != 0 { 255 } else { 0 }).collect()
}

/// Values scaled linearly from [min, max] to [0, 255] (u32 keys or distances).
pub fn scaled_preview(v: &[u32], sqrt: bool) -> Vec<u8> {
    let f = |x: u32| if sqrt { (x as f64).sqrt() } else { x as f64 };
    let lo = v.iter().copied().map(f).fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().map(f).fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    v.iter()
        .map(|&x| (((f(x) - lo) / span) * 255.0).round() as u8)
        .collect()
}

/// A distinct, stable colour for label `l` (0 → black).
pub fn label_color(l: u32) -> [u8; 3] {
    if l == 0 {
        return [0, 0, 0];
    }
    // golden-ratio hue walk, full saturation, bright value
    let h = (l as f64 * 0.618_033_988_749_895).fract() * 6.0;
    let x = (1.0 - ((h % 2.0) - 1.0).abs()) * 255.0;
    let (r, g, b) = match h as u32 {
        0 => (255.0, x, 0.0),
        1 => (x, 255.0, 0.0),
        2 => (0.0, 255.0, x),
        3 => (0.0, x, 255.0),
        4 => (x, 0.0, 255.0),
        _ => (255.0, 0.0, x),
    };
    [r as u8, g as u8, b as u8]
}

/// Labels as an RGB image, one colour per label.
pub fn label_preview(labels: &[u32]) -> Vec<u8> {
    labels.iter().flat_map(|&l| label_color(l)).collect()
}

/// The gray image with each object's outline (pixels with a 4-neighbour of another label)
/// drawn in its label colour.
pub fn outline_overlay(width: usize, height: usize, gray8: &[u8], labels: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            let i = y * width + x;
            let l = labels[i];
            let edge = l != 0
                && ((x == 0 || labels[i - 1] != l)
                    || (x + 1 == width || labels[i + 1] != l)
                    || (y == 0 || labels[i - width] != l)
                    || (y + 1 == height || labels[i + width] != l));
            if edge {
                out.extend(label_color(l));
            } else {
                let g = gray8[i];
                out.extend([g, g, g]);
            }
        }
    }
    out
}

/// Gray keys of `scale` stretched to 0–255 for display (the overlay's background).
pub fn gray_preview(gray: &[u32], scale: crate::cpu::threshold::GrayScale) -> Vec<u8> {
    let v: Vec<f64> = gray.iter().map(|&k| scale.value(k)).collect();
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    v.iter()
        .map(|x| (((x - lo) / span) * 255.0).round() as u8)
        .collect()
}
