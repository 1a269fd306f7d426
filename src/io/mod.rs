//! Reading input images (PNG, TIFF) and writing outputs (label TIFFs, stage TIFFs, PNG previews).
//!
//! # Reading
//!
//! [`read_image`] picks the decoder by the file's first bytes (its signature), never by its
//! extension, and returns a [`RawImage`] with 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA)
//! channels of `u8`, `u16` or `f32` samples:
//!
//! * PNG (through the `image` crate): 8- and 16-bit gray, gray + alpha, RGB and RGBA; palette
//!   images are expanded to RGB (RGBA with a `tRNS` chunk), 1/2/4-bit gray to 8 bits.
//! * TIFF (through the `tiff` crate): chunky (interleaved) 8- and 16-bit unsigned gray,
//!   gray + alpha, RGB and RGBA, and 32-bit float of the same layouts; strips or tiles;
//!   compression none, LZW, PackBits or Deflate, with or without a predictor; classic or
//!   BigTIFF, either byte order. Only the first page (IFD) is read. `WhiteIsZero` gray is
//!   inverted by the `tiff` crate (so 0 is always black).
//!
//! Everything else is refused with [`Error::Unsupported`] naming what was found (1-bit,
//! signed or 32/64-bit integers, `f64`, complex, separate planes, CMYK, YCbCr, palette TIFF,
//! more than 4 samples per pixel, a zero-sized image, an image whose decoded samples would
//! exceed 4 GiB). A corrupt or truncated file gives [`Error::Decode`], a file that cannot be
//! opened [`Error::Read`], and a float image holding NaN or ±inf [`Error::BadData`]. No input
//! makes the reader panic: as a last line of defence a panic inside a third-party decoder is
//! caught and reported as [`Error::Decode`].
//!
//! # Time-lapse stacks
//!
//! [`FrameSource`] yields the frames of a multi-page TIFF, an ImageJ hyperstack (one channel
//! picked, no Z), a folder, a glob pattern or a single image one decoded frame at a time;
//! [`StackWriter`] writes label frames (or 8-bit gray images, [`StackWriter::create_gray8`]) one
//! at a time into one multi-page TIFF with ImageJ metadata (a time series in Fiji, shape
//! `(frames, height, width)` in tifffile). Memory does not grow with the number of frames.
//!
//! # Physical units
//!
//! [`read_calibration`] (and [`FrameSource::calibration`]) report the pixel size and frame
//! interval an input declares (OME-XML, TIFF resolution with an ImageJ unit, ImageJ
//! `finterval`, PNG `pHYs`); [`write_labels_tiff_with`] and [`StackWriter::create_calibrated`]
//! write them so that ImageJ/Fiji shows µm and minutes. See [`Calibration`] and, for the rules
//! of what is read and written, the [`calibration`] module.
//!
//! # Writing
//!
//! All writers are atomic: they write `.NAME.tmp-<pid>` beside the target, flush and sync it,
//! and rename it into place when complete, so an interrupted run never leaves a truncated file
//! that looks finished. On any error the temporary file is removed. TIFF outputs are
//! single-page, gray, Deflate-compressed (readable by tifffile, ImageJ/Fiji, libtiff).

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use crate::error::{Error, Result};
use crate::image::{RawImage, Samples};

pub mod calibration;
pub mod labels;
mod read_png;
mod read_tiff;
mod stack;
mod write;
pub mod zarr;

pub use calibration::{
    parse_pixel_size, read_calibration, Calibration, DeclaredCalibration, MAX_PIXEL_SIZE_UM,
    MIN_PIXEL_SIZE_UM,
};
pub use stack::{
    glob_match_str, natural_cmp, FrameSource, LabelType, Origin, StackFormat, StackWriter,
};
pub use write::TextStream;

/// Largest decoded sample buffer [`read_image`] will allocate, in bytes (4 GiB).
const MAX_DECODED_BYTES: u64 = 4 << 30;

/// The file formats [`read_image`] recognises by signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Png,
    Tiff,
}

/// Classify a file by its first (up to 8) bytes.
fn sniff(magic: &[u8], path: &Path) -> Result<Format> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    let starts = |sig: &[u8]| magic.len() >= sig.len() && &magic[..sig.len()] == sig;
    if starts(PNG) {
        return Ok(Format::Png);
    }
    // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
    if starts(b"II*\0") || starts(b"MM\0*") || starts(b"II+\0") || starts(b"MM\0+") {
        return Ok(Format::Tiff);
    }
    let unsupported = |what: &str| Error::Unsupported {
        path: path.to_path_buf(),
        reason: format!("{what} files are not supported (only PNG and TIFF)"),
    };
    if starts(b"\xff\xd8\xff") {
        return Err(unsupported("JPEG"));
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Err(unsupported("GIF"));
    }
    if starts(b"BM") {
        return Err(unsupported("BMP"));
    }
    if starts(b"RIFF") {
        return Err(unsupported("RIFF (WebP?)"));
    }
    if starts(b"\0\0\0\x0cjP  ") || starts(b"\xff\x4f\xff\x51") {
        return Err(unsupported("JPEG 2000"));
    }
    if PNG.starts_with(magic) || b"II*\0".starts_with(magic) || b"MM\0*".starts_with(magic) {
        return Err(Error::Decode {
            path: path.to_path_buf(),
            reason: format!("file is truncated: only {} bytes", magic.len()),
        });
    }
    Err(Error::Decode {
        path: path.to_path_buf(),
        reason: format!(
            "not a PNG or TIFF file (it starts with bytes {})",
            magic
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    })
}

/// Read as many bytes as fit in `buf` (fewer only at end of file).
fn read_prefix(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Read a label TIFF that floodseg wrote (first page; u8, u16 or u32 gray): `(width, height,
/// labels)`. Used to resume a per-frame run.
pub fn read_labels_tiff(path: &Path) -> Result<(usize, usize, Vec<u32>)> {
    use tiff::decoder::{Decoder, DecodingResult};
    let file = File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |reason: String| Error::Decode {
        path: path.to_path_buf(),
        reason,
    };
    let decoded = catch_unwind(AssertUnwindSafe(|| -> Result<(usize, usize, Vec<u32>)> {
        let mut d = Decoder::new(BufReader::new(file)).map_err(|e| bad(format!("TIFF: {e}")))?;
        let (w, h) = d.dimensions().map_err(|e| bad(format!("TIFF: {e}")))?;
        let ct = d.colortype().map_err(|e| bad(format!("TIFF: {e}")))?;
        if !matches!(
            ct,
            tiff::ColorType::Gray(8) | tiff::ColorType::Gray(16) | tiff::ColorType::Gray(32)
        ) {
            return Err(bad(format!("not a label image ({ct:?})")));
        }
        let labels = match d.read_image().map_err(|e| bad(format!("TIFF: {e}")))? {
            DecodingResult::U8(v) => v.into_iter().map(u32::from).collect(),
            DecodingResult::U16(v) => v.into_iter().map(u32::from).collect(),
            DecodingResult::U32(v) => v,
            _ => return Err(bad("not an unsigned integer label image".into())),
        };
        Ok((w as usize, h as usize, labels))
    }));
    decoded.unwrap_or_else(|_| Err(bad("malformed file (the decoder gave up)".into())))
}

/// Decode a PNG or TIFF file (by content, not by extension).
pub fn read_image(path: &Path) -> Result<RawImage> {
    let io_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let file_len = file.metadata().map_err(io_err)?.len();
    decode_from(BufReader::new(file), file_len, path)
}

/// Decode a PNG or TIFF held in memory; `name` only labels errors. (The fuzz targets use it.)
pub fn decode_image_bytes(bytes: &[u8], name: &Path) -> Result<RawImage> {
    decode_from(std::io::Cursor::new(bytes), bytes.len() as u64, name)
}

fn decode_from<R: std::io::BufRead + Seek>(
    mut reader: R,
    file_len: u64,
    path: &Path,
) -> Result<RawImage> {
    let io_err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut magic = [0u8; 8];
    let n = read_prefix(&mut reader, &mut magic).map_err(io_err)?;
    if n == 0 {
        return Err(Error::Decode {
            path: path.to_path_buf(),
            reason: "file is empty".into(),
        });
    }
    let format = sniff(&magic[..n], path)?;
    reader.seek(SeekFrom::Start(0)).map_err(io_err)?;

    let decoded = catch_unwind(AssertUnwindSafe(|| match format {
        Format::Png => read_png::decode(reader, path),
        Format::Tiff => read_tiff::decode(reader, path, file_len),
    }));
    let image = match decoded {
        Ok(result) => result?,
        Err(_) => {
            return Err(Error::Decode {
                path: path.to_path_buf(),
                reason: "malformed file (the decoder gave up)".into(),
            })
        }
    };
    check_image(&image, path)?;
    Ok(image)
}

/// Refuse sizes whose decoded samples would not fit in [`MAX_DECODED_BYTES`].
fn check_decoded_size(
    width: u64,
    height: u64,
    channels: u64,
    bytes_per_sample: u64,
    path: &Path,
) -> Result<()> {
    let unsupported = |reason: String| Error::Unsupported {
        path: path.to_path_buf(),
        reason,
    };
    if width == 0 || height == 0 {
        return Err(unsupported(format!(
            "zero-sized image ({width}×{height} pixels)"
        )));
    }
    let bytes = width
        .checked_mul(height)
        .and_then(|p| p.checked_mul(channels))
        .and_then(|s| s.checked_mul(bytes_per_sample));
    match bytes {
        Some(b) if b <= MAX_DECODED_BYTES && usize::try_from(b).is_ok() => Ok(()),
        _ => Err(unsupported(format!(
            "{width}×{height} pixels × {channels} channel(s) × {bytes_per_sample} byte(s) is \
             more than the {} GiB limit on decoded images",
            MAX_DECODED_BYTES >> 30
        ))),
    }
}

/// Final checks on a decoded image: shape invariant, finite floats.
fn check_image(image: &RawImage, path: &Path) -> Result<()> {
    let expected = image
        .width
        .checked_mul(image.height)
        .and_then(|p| p.checked_mul(image.channels));
    if !(1..=4).contains(&image.channels) || expected != Some(image.samples.len()) {
        return Err(Error::Decode {
            path: path.to_path_buf(),
            reason: format!(
                "decoder returned {} samples for {}×{} pixels × {} channels",
                image.samples.len(),
                image.width,
                image.height,
                image.channels
            ),
        });
    }
    if let Samples::F32(values) = &image.samples {
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            let pixel = i / image.channels;
            let (x, y) = (pixel % image.width, pixel / image.width);
            return Err(Error::BadData(format!(
                "{}: float image holds a non-finite value ({}) at pixel x={x}, y={y}{}",
                path.display(),
                values[i],
                if image.channels > 1 {
                    format!(", channel {}", i % image.channels)
                } else {
                    String::new()
                }
            )));
        }
    }
    Ok(())
}

/// Write an instance label image as a single-page TIFF: u16 when every label fits, else u32.
pub fn write_labels_tiff(path: &Path, width: usize, height: usize, labels: &[u32]) -> Result<()> {
    write::labels_tiff(path, width, height, labels)
}

/// [`write_labels_tiff`] with a physical calibration: when `calibration` holds a pixel size the
/// file also carries `XResolution`/`YResolution` (pixels per µm, `ResolutionUnit` none) and the
/// ImageJ description `ImageJ=1.11a`, `unit=um`, so ImageJ/Fiji shows µm (a frame interval is
/// not written on a single page). An empty calibration writes exactly what
/// [`write_labels_tiff`] writes.
pub fn write_labels_tiff_with(
    path: &Path,
    width: usize,
    height: usize,
    labels: &[u32],
    calibration: &Calibration,
) -> Result<()> {
    write::labels_tiff_with(path, width, height, labels, calibration)
}

/// Write a u8 gray TIFF (used for 0/1 masks).
pub fn write_tiff_u8(path: &Path, width: usize, height: usize, data: &[u8]) -> Result<()> {
    write::tiff_u8(path, width, height, data)
}

/// Write a u32 gray TIFF (squared distances, markers).
pub fn write_tiff_u32(path: &Path, width: usize, height: usize, data: &[u32]) -> Result<()> {
    write::tiff_u32(path, width, height, data)
}

/// Write an 8-bit gray PNG.
pub fn write_png_gray8(path: &Path, width: usize, height: usize, data: &[u8]) -> Result<()> {
    write::png(path, width, height, data, write::PngKind::Gray8)
}

/// Write an 8-bit RGB PNG (interleaved).
pub fn write_png_rgb8(path: &Path, width: usize, height: usize, data: &[u8]) -> Result<()> {
    write::png(path, width, height, data, write::PngKind::Rgb8)
}

/// Write a text file (e.g. a CSV table) atomically.
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    write::text(path, text)
}
