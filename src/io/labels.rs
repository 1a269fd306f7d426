//! Label images read frame by frame, from any tool: a multi-page label TIFF (8/16/32-bit
//! unsigned, or 32-bit signed ≥ 0, one page per frame), a single label TIFF or PNG, a folder
//! (or glob) of such files in natural name order, or an OME-Zarr label image (any integer
//! type; `super::zarr`). Only one frame is decoded at a time, so a
//! long stack is tracked in constant memory.

use std::fs::File;
use std::io::BufReader;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::image::Samples;

/// One label frame: (width, height, labels).
pub type LabelFrame = (usize, usize, Vec<u32>);

/// Label frames, decoded one at a time.
pub type LabelFrames = Box<dyn Iterator<Item = Result<LabelFrame>> + Send>;

/// The files and folders `path`'s label frames are read from (what no output may replace).
pub fn label_inputs(path: &Path) -> Result<Vec<PathBuf>> {
    if super::zarr::is_zarr(path) {
        return Ok(vec![super::zarr::ZarrImage::open_labels(path)?.array_dir()]);
    }
    Ok(super::FrameSource::open(path, None)?.input_files())
}

/// The frames of `path`, one at a time, with their number when it is known without decoding
/// (the pages of a TIFF are counted by walking its directories).
pub fn label_frames(path: &Path) -> Result<(usize, LabelFrames)> {
    if super::zarr::is_zarr(path) {
        let z = super::zarr::ZarrImage::open_labels(path)?;
        let (n, w, h) = (z.frames, z.width, z.height);
        return Ok((
            n,
            Box::new((0..n).map(move |t| Ok((w, h, z.read_labels(t)?)))),
        ));
    }
    let source = super::FrameSource::open(path, None)?;
    if let Some(files) = source.files() {
        let files: Vec<PathBuf> = files.to_vec();
        let n = files.len();
        return Ok((n, Box::new(files.into_iter().map(|f| read_one(&f)))));
    }
    if !is_tiff(path)? {
        return Ok((1, Box::new(std::iter::once(read_one(path)))));
    }
    let n = count_pages(path)?;
    Ok((n, Box::new(TiffPages::open(path)?)))
}

fn read_one(path: &Path) -> Result<LabelFrame> {
    if is_tiff(path)? {
        let mut pages = TiffPages::open(path)?;
        return pages.next().unwrap_or_else(|| {
            Err(Error::Decode {
                path: path.to_path_buf(),
                reason: "no image in the file".into(),
            })
        });
    }
    let img = super::read_image(path)?;
    if img.channels != 1 {
        return Err(Error::Unsupported {
            path: path.to_path_buf(),
            reason: format!("a label image must be gray, not {} channels", img.channels),
        });
    }
    let labels = match img.samples {
        Samples::U8(v) => v.into_iter().map(u32::from).collect(),
        Samples::U16(v) => v.into_iter().map(u32::from).collect(),
        Samples::F32(_) => {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                reason: "a label image must hold integers, not floats".into(),
            })
        }
    };
    Ok((img.width, img.height, labels))
}

/// Whether `path` starts like a TIFF.
pub fn is_tiff(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 2];
    let mut f = File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let _ = f.read(&mut magic);
    Ok(&magic == b"II" || &magic == b"MM")
}

/// The pages of a TIFF, counted by walking its directories (nothing decoded).
pub fn count_pages(path: &Path) -> Result<usize> {
    let file = File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |page: usize, reason: String| Error::Decode {
        path: path.to_path_buf(),
        reason: format!("page {page}: {reason}"),
    };
    catch_unwind(AssertUnwindSafe(|| {
        let mut d = tiff::decoder::Decoder::new(BufReader::new(file))
            .map_err(|e| bad(0, format!("{e}")))?;
        let mut n = 1;
        while d.more_images() {
            d.next_image().map_err(|e| bad(n, format!("{e}")))?;
            n += 1;
        }
        Ok(n)
    }))
    .unwrap_or_else(|_| Err(bad(0, "malformed file (the decoder gave up)".into())))
}

/// The pages of a label TIFF, decoded one by one.
struct TiffPages {
    path: PathBuf,
    decoder: Option<tiff::decoder::Decoder<BufReader<File>>>,
    page: usize,
}

impl TiffPages {
    fn open(path: &Path) -> Result<TiffPages> {
        let file = File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let d = catch_unwind(AssertUnwindSafe(|| {
            tiff::decoder::Decoder::new(BufReader::new(file))
        }))
        .map_err(|_| "malformed file (the decoder gave up)".to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
        .map_err(|reason| Error::Decode {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(TiffPages {
            path: path.to_path_buf(),
            decoder: Some(d),
            page: 0,
        })
    }
}

impl Iterator for TiffPages {
    type Item = Result<LabelFrame>;

    fn next(&mut self) -> Option<Result<LabelFrame>> {
        use tiff::decoder::DecodingResult;
        let mut d = self.decoder.take()?;
        let page = self.page;
        let path = self.path.clone();
        let bad = |reason: String| Error::Decode {
            path: path.clone(),
            reason: format!("page {page}: {reason}"),
        };
        let result = catch_unwind(AssertUnwindSafe(|| -> Result<(LabelFrame, bool)> {
            if page > 0 {
                d.next_image().map_err(|e| bad(format!("{e}")))?;
            }
            let (w, h) = d.dimensions().map_err(|e| bad(format!("{e}")))?;
            let labels: Vec<u32> = match d.read_image().map_err(|e| bad(format!("{e}")))? {
                DecodingResult::U8(v) => v.into_iter().map(u32::from).collect(),
                DecodingResult::U16(v) => v.into_iter().map(u32::from).collect(),
                DecodingResult::U32(v) => v,
                DecodingResult::I32(v) if v.iter().all(|&x| x >= 0) => {
                    v.into_iter().map(|x| x as u32).collect()
                }
                _ => {
                    return Err(bad(
                        "a label image must hold non-negative integers (8/16/32-bit)".into(),
                    ))
                }
            };
            if labels.len() != w as usize * h as usize {
                return Err(bad("a label image must have one sample per pixel".into()));
            }
            let more = d.more_images();
            Ok(((w as usize, h as usize, labels), more))
        }))
        .unwrap_or_else(|_| Err(bad("malformed file (the decoder gave up)".into())));
        match result {
            Ok((frame, more)) => {
                if more {
                    self.decoder = Some(d);
                    self.page += 1;
                }
                Some(Ok(frame))
            }
            Err(e) => Some(Err(e)),
        }
    }
}
