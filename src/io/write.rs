//! Atomic writers for label TIFFs, stage TIFFs and PNG previews.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};
use tiff::encoder::colortype::{self, ColorType as TiffColorType};
use tiff::encoder::{Compression, DeflateLevel, TiffEncoder, TiffValue};

use super::Calibration;
use crate::error::{Error, Result};

/// Uncompressed sizes above this go to BigTIFF (classic TIFF offsets are 32-bit).
const BIGTIFF_ABOVE_BYTES: u64 = 3 << 30;

fn encode_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::Encode {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Check `width`, `height` and `len == width * height * channels`; return the sizes as `u32`.
fn check_dims(
    path: &Path,
    width: usize,
    height: usize,
    channels: usize,
    len: usize,
) -> Result<(u32, u32)> {
    if width == 0 || height == 0 {
        return Err(encode_err(
            path,
            format!("zero-sized image ({width}×{height})"),
        ));
    }
    let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
        return Err(encode_err(
            path,
            format!("image too large ({width}×{height})"),
        ));
    };
    let expected = width
        .checked_mul(height)
        .and_then(|p| p.checked_mul(channels));
    if expected != Some(len) {
        return Err(encode_err(
            path,
            format!(
                "{len} samples given for {width}×{height} pixels × {channels} channel(s) \
                 (expected {})",
                expected.map_or_else(|| "an overflowing count".to_string(), |e| e.to_string())
            ),
        ));
    }
    Ok((w, h))
}

/// The temporary file `.NAME.tmp-<pid>` beside `path`.
pub(super) fn temp_path(path: &Path) -> Result<PathBuf> {
    let Some(name) = path.file_name() else {
        return Err(encode_err(path, "the output path does not name a file"));
    };
    let mut temp = OsString::from(".");
    temp.push(name);
    temp.push(format!(".tmp-{}", std::process::id()));
    Ok(match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(temp),
        _ => PathBuf::from(temp),
    })
}

/// Write a file atomically: `body` fills a temporary file beside `path`, which is flushed,
/// synced and renamed onto `path`. On any failure the temporary file is removed and `path`
/// is left as it was.
fn write_atomic<F>(path: &Path, body: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> Result<()>,
{
    let temp = temp_path(path)?;
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::create(&temp).map_err(io_err)?;
    let outcome = (|| {
        let mut writer = BufWriter::new(file);
        body(&mut writer)?;
        let file = writer.into_inner().map_err(|e| io_err(e.into_error()))?;
        file.sync_all().map_err(io_err)?;
        drop(file);
        fs::rename(&temp, path).map_err(io_err)
    })();
    match outcome {
        Ok(()) => {
            // Make the rename itself durable where the platform allows; failure is harmless.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                if let Ok(dir) = File::open(dir) {
                    let _ = dir.sync_all();
                }
            }
            Ok(())
        }
        Err(e) => {
            let _ = fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Encode one gray page of colour type `C`, Deflate-compressed.
fn encode_tiff<C, W>(
    path: &Path,
    writer: W,
    width: u32,
    height: u32,
    data: &[C::Inner],
) -> Result<()>
where
    C: TiffColorType,
    [C::Inner]: TiffValue,
    W: Write + Seek,
{
    let tiff_err = |e: tiff::TiffError| encode_err(path, format!("TIFF: {e}"));
    let compression = Compression::Deflate(DeflateLevel::Fast);
    let bytes = std::mem::size_of_val(data) as u64;
    if bytes > BIGTIFF_ABOVE_BYTES {
        TiffEncoder::new_big(writer)
            .map_err(tiff_err)?
            .with_compression(compression)
            .write_image::<C>(width, height, data)
            .map_err(tiff_err)
    } else {
        TiffEncoder::new(writer)
            .map_err(tiff_err)?
            .with_compression(compression)
            .write_image::<C>(width, height, data)
            .map_err(tiff_err)
    }
}

/// Encode one gray page like [`encode_tiff`], with the calibration's resolution tags and
/// ImageJ description (`calibration` not empty).
fn encode_tiff_calibrated<C, W>(
    path: &Path,
    writer: W,
    width: u32,
    height: u32,
    data: &[C::Inner],
    calibration: &Calibration,
) -> Result<()>
where
    C: TiffColorType,
    [C::Inner]: TiffValue,
    W: Write + Seek,
{
    let tiff_err = |e: tiff::TiffError| encode_err(path, format!("TIFF: {e}"));
    let compression = Compression::Deflate(DeflateLevel::Fast);
    let bytes = std::mem::size_of_val(data) as u64;
    let description = format!("ImageJ=1.11a\n{}", calibration.imagej_lines(false));
    fn page<C, W, K>(
        encoder: &mut TiffEncoder<W, K>,
        width: u32,
        height: u32,
        data: &[C::Inner],
        description: &str,
        calibration: &Calibration,
    ) -> tiff::TiffResult<()>
    where
        C: TiffColorType,
        [C::Inner]: TiffValue,
        W: Write + Seek,
        K: tiff::encoder::TiffKind,
    {
        let mut image = encoder.new_image::<C>(width, height)?;
        super::stack::calibration_tags(image.encoder(), Some(description), calibration)?;
        image.write_data(data)
    }
    if bytes > BIGTIFF_ABOVE_BYTES {
        let mut e = TiffEncoder::new_big(writer)
            .map_err(tiff_err)?
            .with_compression(compression);
        page::<C, _, _>(&mut e, width, height, data, &description, calibration).map_err(tiff_err)
    } else {
        let mut e = TiffEncoder::new(writer)
            .map_err(tiff_err)?
            .with_compression(compression);
        page::<C, _, _>(&mut e, width, height, data, &description, calibration).map_err(tiff_err)
    }
}

pub(super) fn labels_tiff_with(
    path: &Path,
    width: usize,
    height: usize,
    labels: &[u32],
    calibration: &Calibration,
) -> Result<()> {
    if calibration.pixel_size().is_none() {
        // Nothing a single page carries: the uncalibrated bytes.
        return labels_tiff(path, width, height, labels);
    }
    let (w, h) = check_dims(path, width, height, 1, labels.len())?;
    let max = labels.iter().copied().max().unwrap_or(0);
    if max <= u32::from(u16::MAX) {
        let narrow: Vec<u16> = labels.iter().map(|&l| l as u16).collect();
        write_atomic(path, |wr| {
            encode_tiff_calibrated::<colortype::Gray16, _>(path, wr, w, h, &narrow, calibration)
        })
    } else {
        write_atomic(path, |wr| {
            encode_tiff_calibrated::<colortype::Gray32, _>(path, wr, w, h, labels, calibration)
        })
    }
}

pub(super) fn labels_tiff(path: &Path, width: usize, height: usize, labels: &[u32]) -> Result<()> {
    let (w, h) = check_dims(path, width, height, 1, labels.len())?;
    let max = labels.iter().copied().max().unwrap_or(0);
    if max <= u32::from(u16::MAX) {
        // Every label fits: store u16 (`as` cannot truncate here).
        let narrow: Vec<u16> = labels.iter().map(|&l| l as u16).collect();
        write_atomic(path, |wr| {
            encode_tiff::<colortype::Gray16, _>(path, wr, w, h, &narrow)
        })
    } else {
        write_atomic(path, |wr| {
            encode_tiff::<colortype::Gray32, _>(path, wr, w, h, labels)
        })
    }
}

pub(super) fn tiff_u8(path: &Path, width: usize, height: usize, data: &[u8]) -> Result<()> {
    let (w, h) = check_dims(path, width, height, 1, data.len())?;
    write_atomic(path, |wr| {
        encode_tiff::<colortype::Gray8, _>(path, wr, w, h, data)
    })
}

pub(super) fn tiff_u32(path: &Path, width: usize, height: usize, data: &[u32]) -> Result<()> {
    let (w, h) = check_dims(path, width, height, 1, data.len())?;
    write_atomic(path, |wr| {
        encode_tiff::<colortype::Gray32, _>(path, wr, w, h, data)
    })
}

/// PNG layouts the writers produce.
#[derive(Clone, Copy, Debug)]
pub(super) enum PngKind {
    Gray8,
    Rgb8,
}

pub(super) fn png(
    path: &Path,
    width: usize,
    height: usize,
    data: &[u8],
    kind: PngKind,
) -> Result<()> {
    let (channels, color) = match kind {
        PngKind::Gray8 => (1, ExtendedColorType::L8),
        PngKind::Rgb8 => (3, ExtendedColorType::Rgb8),
    };
    let (w, h) = check_dims(path, width, height, channels, data.len())?;
    write_atomic(path, |wr| {
        PngEncoder::new(wr)
            .write_image(data, w, h, color)
            .map_err(|e| encode_err(path, format!("PNG: {e}")))
    })
}

/// Write a text file (CSV tables) atomically.
pub(super) fn text(path: &Path, text: &str) -> Result<()> {
    write_atomic(path, |w| {
        w.write_all(text.as_bytes()).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// A text file written piece by piece (a CSV that grows frame by frame) under a temporary name
/// beside its target, and renamed onto the target by [`TextStream::finish`]. Dropped without
/// finishing (an error, an interrupted run), it removes the temporary file, so a file at the
/// target path is always complete.
pub struct TextStream {
    path: PathBuf,
    temp: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl TextStream {
    /// Start the file `path` (nothing appears at `path` before [`finish`](Self::finish)).
    pub fn create(path: &Path) -> Result<TextStream> {
        let temp = temp_path(path)?;
        let file = File::create(&temp).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(TextStream {
            path: path.to_path_buf(),
            temp,
            writer: Some(BufWriter::new(file)),
        })
    }

    /// Append `text`.
    pub fn write_str(&mut self, text: &str) -> Result<()> {
        let writer = self
            .writer
            .as_mut()
            .expect("a TextStream is open until finish");
        writer
            .write_all(text.as_bytes())
            .map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// Flush, sync and rename the file onto its target.
    pub fn finish(self) -> Result<()> {
        let target = self.path.clone();
        self.finish_as(&target)
    }

    /// Like [`finish`](Self::finish), but the file goes to `target` (an interrupted or failed
    /// run keeps the rows it wrote under a name that says they are partial).
    pub fn finish_as(mut self, target: &Path) -> Result<()> {
        self.path = target.to_path_buf();
        let io_err = |source| Error::Io {
            path: self.path.clone(),
            source,
        };
        let writer = self
            .writer
            .take()
            .expect("a TextStream is open until finish");
        let outcome = (|| {
            let file = writer.into_inner().map_err(|e| io_err(e.into_error()))?;
            file.sync_all().map_err(io_err)?;
            drop(file);
            fs::rename(&self.temp, &self.path).map_err(io_err)
        })();
        if outcome.is_err() {
            let _ = fs::remove_file(&self.temp);
        }
        outcome
    }
}

impl Drop for TextStream {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}
