//! TIFF decoding through the `tiff` crate (directly, not through `image`).
//!
//! [`decode`] reads the first page. The per-page work lives in [`decode_page`], which decodes
//! whatever page (IFD) the [`Decoder`] currently points at, so multi-page stacks can be added
//! by looping `while decoder.more_images() { decoder.next_image()?; decode_page(..)? }`.

use std::io::{Read, Seek};
use std::path::Path;

use tiff::decoder::{Decoder, DecodingResult, Limits};
use tiff::tags::Tag;
use tiff::{ColorType, TiffError, TiffFormatError};

use super::{check_decoded_size, MAX_DECODED_BYTES};
use crate::error::{Error, Result};
use crate::image::{RawImage, Samples};

/// The sample types floodseg accepts from a TIFF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SampleKind {
    U8,
    U16,
    F32,
}

impl SampleKind {
    fn bytes(self) -> u64 {
        match self {
            SampleKind::U8 => 1,
            SampleKind::U16 => 2,
            SampleKind::F32 => 4,
        }
    }
}

/// Decode the first page of a TIFF stream (positioned at its header).
///
/// `file_len` bounds the size of any one compressed strip or tile the decoder may buffer.
pub(super) fn decode<R: Read + Seek>(reader: R, path: &Path, file_len: u64) -> Result<RawImage> {
    let mut decoder = open(reader, path, file_len)?;
    decode_page(&mut decoder, path)
}

/// Open a TIFF stream (positioned at its header) with floodseg's decoder limits; the decoder
/// points at the first page.
pub(super) fn open<R: Read + Seek>(reader: R, path: &Path, file_len: u64) -> Result<Decoder<R>> {
    Ok(Decoder::new(reader)
        .map_err(|e| map_err(e, path))?
        .with_limits(limits(file_len)))
}

/// Decoder limits: decoded buffers up to [`MAX_DECODED_BYTES`]; a compressed chunk can never be
/// longer than the file that holds it.
fn limits(file_len: u64) -> Limits {
    let to_usize = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    let mut limits = Limits::default();
    limits.decoding_buffer_size = to_usize(MAX_DECODED_BYTES);
    limits.intermediate_buffer_size = to_usize(file_len.min(MAX_DECODED_BYTES));
    limits
}

/// Decode the page the decoder currently points at.
pub(super) fn decode_page<R: Read + Seek>(
    decoder: &mut Decoder<R>,
    path: &Path,
) -> Result<RawImage> {
    let unsupported = |reason: String| Error::Unsupported {
        path: path.to_path_buf(),
        reason,
    };
    let tiff_err = |e: TiffError| map_err(e, path);

    let (width, height) = decoder.dimensions().map_err(tiff_err)?;
    if width == 0 || height == 0 {
        return Err(unsupported(format!(
            "zero-sized image ({width}×{height} pixels)"
        )));
    }

    let planar = decoder
        .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
        .map_err(tiff_err)?
        .unwrap_or(1);
    if planar != 1 {
        return Err(unsupported(format!(
            "planar configuration {planar} (samples stored in separate planes); only chunky \
             (interleaved, 1) is supported"
        )));
    }

    let color = decoder.colortype().map_err(tiff_err)?;
    let channels: usize = match color {
        ColorType::Gray(_) => 1,
        ColorType::GrayA(_) => 2,
        // Gray with one extra sample (tifffile writes gray + alpha like this).
        ColorType::Multiband { num_samples: 2, .. } => 2,
        ColorType::RGB(_) => 3,
        ColorType::RGBA(_) => 4,
        ColorType::Multiband { num_samples, .. } => {
            return Err(unsupported(format!(
                "{num_samples} samples per pixel with gray photometric interpretation (at most \
                 gray + alpha)"
            )))
        }
        ColorType::CMYK(_) | ColorType::CMYKA(_) => {
            return Err(unsupported(
                "CMYK colour (photometric interpretation 5)".into(),
            ))
        }
        ColorType::YCbCr(_) => {
            return Err(unsupported(
                "YCbCr colour (photometric interpretation 6)".into(),
            ))
        }
        ColorType::Palette(_) => return Err(unsupported("palette-colour TIFF".into())),
        ColorType::Lab(_) => return Err(unsupported("CIE L*a*b* colour".into())),
        other => return Err(unsupported(format!("colour type {other:?}"))),
    };

    // The colour type counts only the samples it understands; extra samples beyond an alpha
    // channel (e.g. RGB + 2 unspecified) would otherwise be interleaved unnoticed.
    let samples_per_pixel = decoder
        .find_tag_unsigned::<u16>(Tag::SamplesPerPixel)
        .map_err(tiff_err)?
        .unwrap_or(1);
    if usize::from(samples_per_pixel) != channels {
        return Err(unsupported(format!(
            "{samples_per_pixel} samples per pixel for colour type {color:?} (extra samples \
             other than one alpha channel)"
        )));
    }

    let bits = color.bit_depth();
    let sample_format = decoder
        .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)
        .map_err(tiff_err)?
        .and_then(|v| v.first().copied())
        .unwrap_or(1);
    let kind = sample_kind(sample_format, bits).map_err(unsupported)?;
    check_decoded_size(
        width.into(),
        height.into(),
        channels as u64,
        kind.bytes(),
        path,
    )?;

    let decoded = decoder.read_image().map_err(tiff_err)?;
    let samples = match (kind, decoded) {
        (SampleKind::U8, DecodingResult::U8(v)) => Samples::U8(v),
        (SampleKind::U16, DecodingResult::U16(v)) => Samples::U16(v),
        (SampleKind::F32, DecodingResult::F32(v)) => Samples::F32(v),
        (kind, other) => {
            return Err(Error::Decode {
                path: path.to_path_buf(),
                reason: format!(
                    "TIFF decoder returned {} samples where the tags promise {kind:?}",
                    result_type_name(&other)
                ),
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

/// Map (SampleFormat tag, bits per sample) to a supported sample type, or say what it is.
fn sample_kind(sample_format: u16, bits: u8) -> std::result::Result<SampleKind, String> {
    match (sample_format, bits) {
        // 1 = unsigned integer, 4 = "void" (undefined, read as unsigned like libtiff does).
        (1 | 4, 8) => Ok(SampleKind::U8),
        (1 | 4, 16) => Ok(SampleKind::U16),
        (3, 32) => Ok(SampleKind::F32),
        (1 | 4, 1) => Err("1-bit (bilevel) samples".into()),
        (1 | 4, b) => Err(format!(
            "{b}-bit unsigned integer samples (only 8 and 16 bits)"
        )),
        (2, b) => Err(format!("{b}-bit signed integer samples")),
        (3, b) => Err(format!(
            "{b}-bit floating-point samples (only 32-bit float)"
        )),
        (5, b) => Err(format!("{b}-bit complex integer samples")),
        (6, b) => Err(format!("{b}-bit complex floating-point samples")),
        (f, b) => Err(format!("sample format {f} with {b} bits per sample")),
    }
}

fn result_type_name(result: &DecodingResult) -> &'static str {
    match result {
        DecodingResult::U8(_) => "u8",
        DecodingResult::U16(_) => "u16",
        DecodingResult::U32(_) => "u32",
        DecodingResult::U64(_) => "u64",
        DecodingResult::F16(_) => "f16",
        DecodingResult::F32(_) => "f32",
        DecodingResult::F64(_) => "f64",
        DecodingResult::I8(_) => "i8",
        DecodingResult::I16(_) => "i16",
        DecodingResult::I32(_) => "i32",
        DecodingResult::I64(_) => "i64",
    }
}

/// Sort the `tiff` crate's errors into ours.
pub(super) fn map_err(err: TiffError, path: &Path) -> Error {
    let path = path.to_path_buf();
    match err {
        TiffError::UnsupportedError(e) => Error::Unsupported {
            path,
            reason: format!("TIFF: {e}"),
        },
        // Image sizes were checked before decoding, so this is a strip, tile or tag that
        // claims to be longer than the file (or than 4 GiB): a corrupt file.
        TiffError::LimitsExceeded => Error::Decode {
            path,
            reason: "TIFF: a strip, tile or tag is larger than the file or the decoder limits"
                .into(),
        },
        TiffError::IntSizeError => Error::Unsupported {
            path,
            reason: format!(
                "TIFF: {err} (limit {} GiB per image)",
                MAX_DECODED_BYTES >> 30
            ),
        },
        // The decoder refuses a zero-sized page while opening it; we call that unsupported.
        TiffError::FormatError(TiffFormatError::InvalidDimensions(w, h)) if w == 0 || h == 0 => {
            Error::Unsupported {
                path,
                reason: format!("zero-sized image ({w}×{h} pixels)"),
            }
        }
        // A short read in the middle of a file is a truncated file, not an I/O failure.
        TiffError::IoError(e) => Error::Decode {
            path,
            reason: format!("TIFF: {e}"),
        },
        other => Error::Decode {
            path,
            reason: format!("TIFF: {other}"),
        },
    }
}
