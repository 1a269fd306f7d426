//! Reading input images (PNG, TIFF) and writing outputs (label TIFFs, stage TIFFs, PNG previews).
//!
//! All writers are atomic: they write `NAME.tmp-<pid>` beside the target and rename it into
//! place when complete, so an interrupted run never leaves a truncated file that looks finished.

use std::path::Path;

use crate::error::Result;
use crate::image::RawImage;

/// Decode a PNG or TIFF file (by content, not by extension).
pub fn read_image(path: &Path) -> Result<RawImage> {
    let _ = path;
    todo!("io helper")
}

/// Write an instance label image as a single-page TIFF: u16 when every label fits, else u32.
pub fn write_labels_tiff(path: &Path, width: usize, height: usize, labels: &[u32]) -> Result<()> {
    let _ = (path, width, height, labels);
    todo!("io helper")
}

/// Write a u8 gray TIFF (used for 0/1 masks).
pub fn write_tiff_u8(path: &Path, width: usize, height: usize, data: &[u8]) -> Result<()> {
    let _ = (path, width, height, data);
    todo!("io helper")
}

/// Write a u32 gray TIFF (squared distances, markers).
pub fn write_tiff_u32(path: &Path, width: usize, height: usize, data: &[u32]) -> Result<()> {
    let _ = (path, width, height, data);
    todo!("io helper")
}

/// Write an 8-bit gray PNG.
pub fn write_png_gray8(path: &Path, width: usize, height: usize, data: &[u8]) -> Result<()> {
    let _ = (path, width, height, data);
    todo!("io helper")
}

/// Write an 8-bit RGB PNG (interleaved).
pub fn write_png_rgb8(path: &Path, width: usize, height: usize, data: &[u8]) -> Result<()> {
    let _ = (path, width, height, data);
    todo!("io helper")
}
