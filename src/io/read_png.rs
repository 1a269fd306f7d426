//! PNG decoding through the `image` crate.

use std::io::{BufRead, Read, Seek, SeekFrom};
use std::path::Path;

use image::codecs::png::PngDecoder;
use image::error::ImageError;
use image::{DynamicImage, ImageDecoder};

use super::{check_decoded_size, MAX_DECODED_BYTES};
use crate::error::{Error, Result};
use crate::image::{RawImage, Samples};

/// Decode a whole PNG stream (positioned at its signature).
pub(super) fn decode<R: BufRead + Seek>(mut reader: R, path: &Path) -> Result<RawImage> {
    refuse_zero_size(&mut reader, path)?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    let decoder = PngDecoder::with_limits(reader, limits).map_err(|e| map_err(e, path))?;

    let (width, height) = decoder.dimensions();
    let color = decoder.color_type();
    let channels = u64::from(color.channel_count());
    let bytes_per_sample = u64::from(color.bytes_per_pixel()) / channels.max(1);
    check_decoded_size(
        width.into(),
        height.into(),
        channels,
        bytes_per_sample,
        path,
    )?;

    let image = DynamicImage::from_decoder(decoder).map_err(|e| map_err(e, path))?;
    let (channels, samples) = match image {
        DynamicImage::ImageLuma8(b) => (1, Samples::U8(b.into_raw())),
        DynamicImage::ImageLumaA8(b) => (2, Samples::U8(b.into_raw())),
        DynamicImage::ImageRgb8(b) => (3, Samples::U8(b.into_raw())),
        DynamicImage::ImageRgba8(b) => (4, Samples::U8(b.into_raw())),
        DynamicImage::ImageLuma16(b) => (1, Samples::U16(b.into_raw())),
        DynamicImage::ImageLumaA16(b) => (2, Samples::U16(b.into_raw())),
        DynamicImage::ImageRgb16(b) => (3, Samples::U16(b.into_raw())),
        DynamicImage::ImageRgba16(b) => (4, Samples::U16(b.into_raw())),
        other => {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                reason: format!("PNG decoded to unexpected pixel type {:?}", other.color()),
            })
        }
    };
    Ok(RawImage {
        width: width as usize,
        height: height as usize,
        channels,
        samples,
    })
}

/// A PNG whose header says width or height 0 is refused as unsupported (the `png` crate would
/// call it a format error). The header is the first chunk: signature (8 bytes), chunk length
/// (4), `IHDR` (4), width (4, big-endian), height (4). Leaves the reader where it found it.
fn refuse_zero_size<R: Read + Seek>(reader: &mut R, path: &Path) -> Result<()> {
    let start = reader
        .stream_position()
        .map_err(|e| io_decode_err(e, path))?;
    let mut head = [0u8; 24];
    let n = super::read_prefix(reader, &mut head).map_err(|e| io_decode_err(e, path))?;
    reader
        .seek(SeekFrom::Start(start))
        .map_err(|e| io_decode_err(e, path))?;
    if n == head.len() && &head[12..16] == b"IHDR" {
        let width = u32::from_be_bytes([head[16], head[17], head[18], head[19]]);
        let height = u32::from_be_bytes([head[20], head[21], head[22], head[23]]);
        if width == 0 || height == 0 {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                reason: format!("zero-sized image ({width}×{height} pixels)"),
            });
        }
    }
    Ok(())
}

fn io_decode_err(err: std::io::Error, path: &Path) -> Error {
    Error::Decode {
        path: path.to_path_buf(),
        reason: format!("PNG: {err}"),
    }
}

/// Sort the `image` crate's errors into ours.
fn map_err(err: ImageError, path: &Path) -> Error {
    let path = path.to_path_buf();
    match err {
        ImageError::Unsupported(e) => Error::Unsupported {
            path,
            reason: format!("PNG: {e}"),
        },
        ImageError::Limits(e) => Error::Unsupported {
            path,
            reason: format!("PNG too large: {e} (limit {} GiB)", MAX_DECODED_BYTES >> 30),
        },
        // A short read in the middle of a file is a truncated file, not an I/O failure.
        ImageError::IoError(e) => Error::Decode {
            path,
            reason: format!("PNG: {e}"),
        },
        other => Error::Decode {
            path,
            reason: format!("PNG: {other}"),
        },
    }
}
