//! Naive, obviously correct references for the CPU twins (one file per stage).
//!
//! Each reference is a direct transcription of the stage's definition in SPEC.md (and of the
//! scikit-image / SciPy code it restates), written for clarity, not speed: no clever algorithm,
//! no `unsafe`, no code shared with `src/cpu/`. Property tests (`tests/stages/<stage>.rs`) hold
//! the twins against them.
//!
//! Images are flat row-major buffers, `i = y * width + x`, as in the twins. The helpers here
//! print images for assertion messages.
#![allow(dead_code)]

pub mod components;
pub mod edt;
pub mod opening;
pub mod peaks;
pub mod threshold;
pub mod watershed;

/// An image as rows of digits (0/1 masks) or space-separated numbers (anything else), one row
/// per line, for assertion messages. Large images print only their size.
pub fn show(width: usize, height: usize, buf: &[u32]) -> String {
    if width * height > 48 * 48 {
        return format!("<{width}×{height} image, too large to print>");
    }
    let binary = buf.iter().all(|&v| v <= 1);
    let mut s = String::new();
    for y in 0..height {
        let row = &buf[y * width..(y + 1) * width];
        if binary {
            for &v in row {
                s.push(if v != 0 { '1' } else { '0' });
            }
        } else {
            let cells: Vec<String> = row.iter().map(|v| v.to_string()).collect();
            s.push_str(&cells.join(" "));
        }
        s.push('\n');
    }
    s
}

/// The first pixel where `a` and `b` differ, as `(y, x, a, b)`.
pub fn first_difference(width: usize, a: &[u32], b: &[u32]) -> Option<(usize, usize, u32, u32)> {
    a.iter()
        .zip(b)
        .position(|(p, q)| p != q)
        .map(|i| (i / width, i % width, a[i], b[i]))
}
