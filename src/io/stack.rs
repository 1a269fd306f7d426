//! Time-lapse stacks, one frame at a time: [`FrameSource`] reads frames from a multi-page or
//! ImageJ hyperstack TIFF, a folder, a glob pattern or a single image; [`StackWriter`] writes
//! label frames (or 8-bit gray images) into one multi-page TIFF with ImageJ metadata.
//!
//! Memory does not grow with the number of frames: the reader holds at most one decoded frame
//! (the TIFF decoder moves from page to page without reading the others' pixels; a folder or
//! glob keeps only the list of file names), and the writer encodes each frame as it is given.

use std::cmp::Ordering;
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tiff::decoder::Decoder;
use tiff::encoder::colortype::{Gray16, Gray32, Gray8};
use tiff::encoder::{Compression, DeflateLevel, TiffEncoder, TiffKind, TiffKindBig};
use tiff::tags::Tag;

use super::read_tiff;
use super::{Calibration, DeclaredCalibration};
use crate::error::{Error, Result};
use crate::image::RawImage;

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// Frames of a time-lapse, decoded one at a time.
///
/// An iterator of `Result<RawImage>`: each call to `next` decodes one frame, and the previous
/// frame is the caller's to keep or drop, so at most one frame is held by the source. Every
/// frame has the width, height, channel count and sample type of the first; a frame that does
/// not is an error naming its file and index. After an error the source yields nothing more.
pub struct FrameSource {
    kind: SourceKind,
    len: Option<usize>,
    /// Index of the next frame to yield.
    next_frame: usize,
    /// Shape and sample type of frame 0, once read.
    first: Option<(usize, usize, usize, &'static str)>,
    done: bool,
    /// Where the frames come from (for output checks and names).
    origin: Origin,
    /// `--channel` of an RGB(A) or gray + alpha image: the sample kept of every pixel.
    pick: Option<usize>,
}

/// What a [`FrameSource`] was opened on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A folder's image files.
    Folder(PathBuf),
    /// The files of a folder matching a pattern: `(folder, pattern)`.
    Glob(PathBuf, String),
    /// Image files named one by one (several INPUT arguments; one file each).
    List,
    /// One file: a TIFF's pages, or one PNG.
    File(PathBuf),
    /// An OME-Zarr image (its root folder).
    Zarr(PathBuf),
}

enum SourceKind {
    /// Pages of one TIFF. Frame `t` is page `t * stride + offset`.
    Tiff {
        path: PathBuf,
        decoder: Box<Decoder<BufReader<File>>>,
        /// Index of the page the decoder points at.
        page: usize,
        stride: usize,
        offset: usize,
    },
    /// One image file per frame (a folder, a glob, or a single PNG).
    Files(Vec<PathBuf>),
    /// The frames of an OME-Zarr image.
    Zarr(Box<super::zarr::ZarrImage>),
}

/// The ImageJ hyperstack layout read from a TIFF's `ImageDescription`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ImageJLayout {
    images: Option<usize>,
    channels: usize,
    slices: usize,
    frames: Option<usize>,
}

/// Parse an ImageJ description (`ImageJ=...\nimages=N\nchannels=C\n...`); `None` if the
/// description is not ImageJ's.
fn parse_imagej(description: &str) -> Option<ImageJLayout> {
    if !description.starts_with("ImageJ=") {
        return None;
    }
    let mut layout = ImageJLayout {
        images: None,
        channels: 1,
        slices: 1,
        frames: None,
    };
    for line in description.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let Ok(n) = value.trim().parse::<usize>() else {
            continue;
        };
        match key.trim() {
            "images" => layout.images = Some(n),
            "channels" => layout.channels = n.max(1),
            "slices" => layout.slices = n.max(1),
            "frames" => layout.frames = Some(n),
            _ => {}
        }
    }
    Some(layout)
}

fn has_wildcard(s: &str) -> bool {
    s.contains('*') || s.contains('?')
}

impl FrameSource {
    /// Open `input`: a folder (its `.tif`/`.tiff`/`.png` files in natural name order), a glob
    /// pattern with `*`/`?` in the file name, a TIFF (every page a frame, or an ImageJ
    /// hyperstack's frames), or a PNG (one frame).
    ///
    /// `channel` picks one channel of each frame of an ImageJ multichannel hyperstack, or one
    /// sample of each pixel of an RGB(A) or gray + alpha image (0 red, 1 green, 2 blue, 3
    /// alpha); a multichannel hyperstack without it is a parameter error. Z-stacks are refused.
    pub fn open(input: &Path, channel: Option<usize>) -> Result<Self> {
        if super::zarr::is_zarr(input) {
            return Self::zarr(input, channel);
        }
        let source = if input.is_dir() {
            Self::folder(input)?
        } else if input
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(has_wildcard)
            && !input.exists()
        {
            Self::glob(input)?
        } else {
            return Self::file(input, channel);
        };
        Ok(source.picking(channel))
    }

    /// The frames of several inputs (what a shell makes of an unquoted glob): one file per
    /// frame, in natural order of their paths (`img_2` before `img_10`), each a single-frame
    /// image (a multi-page TIFF among them is refused when it is read). One input is
    /// [`FrameSource::open`]. The same file named twice is refused.
    pub fn open_all(inputs: &[PathBuf], channel: Option<usize>) -> Result<Self> {
        match inputs {
            [] => Err(Error::param("INPUT", "no input given")),
            [one] => Self::open(one, channel),
            many => {
                let mut files = Vec::with_capacity(many.len());
                for f in many {
                    if f.is_dir() {
                        return Err(Error::param(
                            "INPUT",
                            format!(
                                "{} is a folder: give one folder, or image files (one frame                                  each)",
                                f.display()
                            ),
                        ));
                    }
                    if !f.exists() {
                        return Err(Error::Read {
                            path: f.clone(),
                            source: std::io::Error::new(
                                std::io::ErrorKind::NotFound,
                                "no such file",
                            ),
                        });
                    }
                    files.push(f.clone());
                }
                files.sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
                let mut seen = std::collections::HashSet::new();
                for f in &files {
                    let key = fs::canonicalize(f).unwrap_or_else(|_| f.clone());
                    if !seen.insert(key) {
                        return Err(Error::param(
                            "INPUT",
                            format!("{} is given twice", f.display()),
                        ));
                    }
                }
                let mut source = Self::from_files(files);
                source.origin = Origin::List;
                Ok(source.picking(channel))
            }
        }
    }

    fn picking(mut self, channel: Option<usize>) -> Self {
        self.pick = channel;
        self
    }

    /// What the source was opened on.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Every input file the frames are read from (the one TIFF of a stack), for the checks that
    /// keep outputs off inputs.
    pub fn input_files(&self) -> Vec<PathBuf> {
        match &self.kind {
            SourceKind::Files(files) => files.clone(),
            SourceKind::Tiff { path, .. } => vec![path.clone()],
            // the array read: an output must never be written into it
            SourceKind::Zarr(z) => vec![z.array_dir()],
        }
    }

    /// Every `.tif`, `.tiff` and `.png` file of `dir` (case-insensitive extension; hidden files
    /// skipped), in natural order (`img_2` before `img_10`).
    pub fn folder(dir: &Path) -> Result<Self> {
        let files = list_dir(dir, |name| {
            let lower = name.to_ascii_lowercase();
            !name.starts_with('.')
                && (lower.ends_with(".tif") || lower.ends_with(".tiff") || lower.ends_with(".png"))
        })?;
        if files.is_empty() {
            return Err(Error::Read {
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "empty folder: no .tif, .tiff or .png files in it",
                ),
            });
        }
        let mut source = Self::from_files(files);
        source.origin = Origin::Folder(dir.to_path_buf());
        Ok(source)
    }

    /// The files matching `pattern`, whose file name may hold `*` (any run of characters) and
    /// `?` (one character); the folder part is taken literally. Natural name order.
    pub fn glob(pattern: &Path) -> Result<Self> {
        let Some(name) = pattern.file_name().and_then(|n| n.to_str()) else {
            return Err(Error::param(
                "input",
                format!("{}: the pattern has no file name part", pattern.display()),
            ));
        };
        let dir = match pattern.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if dir.to_str().is_some_and(has_wildcard) {
            return Err(Error::param(
                "input",
                format!(
                    "{}: wildcards are allowed only in the file name",
                    pattern.display()
                ),
            ));
        }
        let pat: Vec<char> = name.chars().collect();
        let files = list_dir(&dir, |n| glob_match(&pat, &n.chars().collect::<Vec<_>>()))?;
        if files.is_empty() {
            return Err(Error::Read {
                path: pattern.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no file matches the pattern",
                ),
            });
        }
        let mut source = Self::from_files(files);
        source.origin = Origin::Glob(dir, name.to_string());
        Ok(source)
    }

    fn from_files(files: Vec<PathBuf>) -> Self {
        let origin = match files.as_slice() {
            [one] => Origin::File(one.clone()),
            _ => Origin::List,
        };
        FrameSource {
            len: Some(files.len()),
            kind: SourceKind::Files(files),
            next_frame: 0,
            first: None,
            done: false,
            origin,
            pick: None,
        }
    }

    /// One file: a TIFF gives its pages (or its ImageJ hyperstack frames), a PNG one frame.
    pub fn file(path: &Path, channel: Option<usize>) -> Result<Self> {
        let io_err = |source| Error::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io_err)?;
        let file_len = file.metadata().map_err(io_err)?.len();
        let mut magic = [0u8; 4];
        let n = super::read_prefix(&mut file, &mut magic).map_err(io_err)?;
        let is_tiff = n == 4
            && (magic == *b"II*\0"
                || magic == *b"MM\0*"
                || magic == *b"II+\0"
                || magic == *b"MM\0+");
        if !is_tiff {
            // PNG, or an error `read_image` words best, delivered as frame 0; `--channel` picks
            // a sample of an RGB(A) PNG
            return Ok(Self::from_files(vec![path.to_path_buf()]).picking(channel));
        }
        file.seek(SeekFrom::Start(0)).map_err(io_err)?;
        let opened = catch_unwind(AssertUnwindSafe(|| {
            let mut decoder = read_tiff::open(BufReader::new(file), path, file_len)?;
            let description = decoder
                .find_tag(Tag::ImageDescription)
                .ok()
                .flatten()
                .and_then(|v| v.into_string().ok());
            Ok::<_, Error>((decoder, description))
        }));
        let (decoder, description) = match opened {
            Ok(r) => r?,
            Err(_) => return Err(gave_up(path)),
        };
        let layout = description.as_deref().and_then(parse_imagej);
        // `--channel` picks hyperstack channels (pages) when there are several, else a sample
        // of each pixel (an RGB(A) TIFF)
        let mut pick = None;
        let (stride, offset, len) = match layout {
            Some(l) if l.channels <= 1 => {
                if l.slices > 1 {
                    return Err(Error::Unsupported {
                        path: path.to_path_buf(),
                        reason: format!(
                            "z-stacks are not supported (ImageJ hyperstack with {} slices)",
                            l.slices
                        ),
                    });
                }
                pick = channel;
                let frames = l.frames.or(l.images).filter(|&f| f > 0);
                (1, 0, frames)
            }
            Some(l) => {
                if l.slices > 1 {
                    return Err(Error::Unsupported {
                        path: path.to_path_buf(),
                        reason: format!(
                            "z-stacks are not supported (ImageJ hyperstack with {} slices)",
                            l.slices
                        ),
                    });
                }
                let c = match channel {
                    Some(c) if c >= l.channels => return Err(channel_error(path, c, l.channels)),
                    Some(c) => c,
                    None if l.channels > 1 => {
                        return Err(Error::param(
                            "channel",
                            format!(
                                "{} is an ImageJ hyperstack with {} channels per frame; choose \
                                 one (0 to {})",
                                path.display(),
                                l.channels,
                                l.channels - 1
                            ),
                        ))
                    }
                    None => 0,
                };
                let frames = l
                    .frames
                    .or_else(|| l.images.map(|i| i / l.channels))
                    .filter(|&f| f > 0);
                (l.channels, c, frames)
            }
            None => {
                pick = channel;
                (1, 0, count_pages(path, file_len))
            }
        };
        Ok(FrameSource {
            kind: SourceKind::Tiff {
                path: path.to_path_buf(),
                decoder: Box::new(decoder),
                page: 0,
                stride,
                offset,
            },
            len,
            next_frame: 0,
            first: None,
            done: false,
            origin: Origin::File(path.to_path_buf()),
            pick,
        })
    }

    /// The frames of the OME-Zarr image at `path` (`channel`: of its `c` axis).
    pub fn zarr(path: &Path, channel: Option<usize>) -> Result<Self> {
        let img = super::zarr::ZarrImage::open(path, channel)?;
        Ok(FrameSource {
            len: Some(img.frames),
            kind: SourceKind::Zarr(Box::new(img)),
            next_frame: 0,
            first: None,
            done: false,
            origin: Origin::Zarr(path.to_path_buf()),
            pick: None,
        })
    }

    /// The OME-Zarr image read, if the input is one.
    pub fn zarr_image(&self) -> Option<&super::zarr::ZarrImage> {
        match &self.kind {
            SourceKind::Zarr(z) => Some(z),
            _ => None,
        }
    }

    /// The number of frames, when known without decoding them (folders, globs, single files,
    /// ImageJ stacks, plain multi-page TIFFs whose page list reads cleanly).
    pub fn len(&self) -> Option<usize> {
        self.len
    }

    /// `Some(true)` when the source is known to hold no frame (never, since an empty folder
    /// or glob is refused at open).
    pub fn is_empty(&self) -> Option<bool> {
        self.len.map(|n| n == 0)
    }

    /// The files of a folder or glob source, one per frame in frame order (`None` for the pages
    /// of a TIFF); used to name per-frame outputs after their inputs.
    pub fn files(&self) -> Option<&[PathBuf]> {
        match &self.kind {
            SourceKind::Files(files) => Some(files),
            SourceKind::Tiff { .. } | SourceKind::Zarr(_) => None,
        }
    }

    /// The pixel size and frame interval the input declares: the first page of a TIFF, the
    /// first file of a folder or glob (see [`read_calibration`](super::read_calibration)).
    pub fn calibration(&self) -> Result<Calibration> {
        Ok(self.declared_calibration()?.calibration)
    }

    /// Like [`calibration`](Self::calibration), with where each value came from and what was
    /// present but not used.
    pub fn declared_calibration(&self) -> Result<DeclaredCalibration> {
        let path = match &self.kind {
            SourceKind::Tiff { path, .. } => path,
            SourceKind::Files(files) => match files.first() {
                Some(p) => p,
                None => return Ok(DeclaredCalibration::default()),
            },
            SourceKind::Zarr(_) => return Ok(DeclaredCalibration::default()),
        };
        super::read_calibration(path)
    }

    /// Index of the frame the next call to `next` yields.
    pub fn position(&self) -> usize {
        self.next_frame
    }

    fn read_next(&mut self) -> Option<Result<RawImage>> {
        let frame = self.next_frame;
        let (result, path) = match &mut self.kind {
            SourceKind::Zarr(z) => {
                if frame >= z.frames {
                    return None;
                }
                (z.read(frame), z.path().to_path_buf())
            }
            SourceKind::Files(files) => {
                let path = files.get(frame)?.clone();
                let several = files.len() > 1;
                let result = super::read_image(&path).and_then(|img| {
                    // a stack among single frames would lose all but its first page
                    match (several, tiff_pages(&path)) {
                        (true, Some(pages)) if pages > 1 => Err(Error::Unsupported {
                            path: path.clone(),
                            reason: format!(
                                "it has {pages} pages, but when the input is several files                                  (a folder, a glob or a list) each file is one frame; give                                  the stack by itself as INPUT"
                            ),
                        }),
                        _ => Ok(img),
                    }
                });
                (result, path)
            }
            SourceKind::Tiff {
                path,
                decoder,
                page,
                stride,
                offset,
            } => {
                if self.len.is_some_and(|n| frame >= n) {
                    return None;
                }
                let target = frame * *stride + *offset;
                let path = path.clone();
                let moved = catch_unwind(AssertUnwindSafe(|| -> Result<bool> {
                    while *page < target {
                        if !decoder.more_images() {
                            return Ok(false);
                        }
                        decoder
                            .next_image()
                            .map_err(|e| read_tiff::map_err(e, &path))?;
                        *page += 1;
                    }
                    Ok(true)
                }));
                let result = match moved {
                    Ok(Ok(false)) if self.len.is_none() => return None,
                    Ok(Ok(false)) => Err(Error::Decode {
                        path: path.clone(),
                        reason: format!(
                            "the file ends at page {} but its ImageJ description promises {} \
                             frame(s)",
                            *page,
                            self.len.unwrap_or(0)
                        ),
                    }),
                    Ok(Ok(true)) => {
                        match catch_unwind(AssertUnwindSafe(|| {
                            read_tiff::decode_page(decoder, &path)
                        })) {
                            Ok(r) => r.and_then(|img| {
                                super::check_image(&img, &path)?;
                                Ok(img)
                            }),
                            Err(_) => Err(gave_up(&path)),
                        }
                    }
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(gave_up(&path)),
                };
                (result, path)
            }
        };
        let page = match &self.kind {
            SourceKind::Tiff { page, .. } => Some(*page),
            SourceKind::Files(_) | SourceKind::Zarr(_) => None,
        };
        let pick = self.pick;
        let result = result
            .and_then(|img| match pick {
                Some(c) => pick_channel(img, c, &path),
                None => Ok(img),
            })
            .map_err(|e| name_frame(e, frame, page))
            .and_then(|img| {
                let shape = (img.width, img.height, img.channels, img.samples.type_name());
                match self.first {
                    None => self.first = Some(shape),
                    Some(first) if first != shape => {
                        let what = |s: (usize, usize, usize, &str)| {
                            format!("{}×{} pixels, {} channel(s) of {}", s.0, s.1, s.2, s.3)
                        };
                        return Err(Error::Unsupported {
                            path: path.clone(),
                            reason: format!(
                                "frame {frame}{} is {} but frame 0 is {}; every frame must match \
                             the first",
                                page.map_or_else(String::new, |p| format!(" (page {p})")),
                                what(shape),
                                what(first)
                            ),
                        });
                    }
                    Some(_) => {}
                }
                Ok(img)
            });
        Some(result)
    }
}

impl Iterator for FrameSource {
    type Item = Result<RawImage>;

    fn next(&mut self) -> Option<Result<RawImage>> {
        if self.done {
            return None;
        }
        let item = self.read_next();
        match &item {
            Some(Ok(_)) => self.next_frame += 1,
            Some(Err(_)) | None => self.done = true,
        }
        item
    }
}

/// Sample `c` of every pixel of `img` (`--channel` of an RGB(A) or gray + alpha image), as a
/// one-channel image; a one-channel image is kept as it is for `c = 0`.
fn pick_channel(img: RawImage, c: usize, path: &Path) -> Result<RawImage> {
    if c >= img.channels {
        return Err(channel_error(path, c, img.channels));
    }
    if img.channels == 1 {
        return Ok(img);
    }
    let k = img.channels;
    let take = |n: usize| (0..n).map(move |i| i * k + c);
    let n = img.pixels();
    let samples = match &img.samples {
        crate::image::Samples::U8(v) => crate::image::Samples::U8(take(n).map(|i| v[i]).collect()),
        crate::image::Samples::U16(v) => {
            crate::image::Samples::U16(take(n).map(|i| v[i]).collect())
        }
        crate::image::Samples::F32(v) => {
            crate::image::Samples::F32(take(n).map(|i| v[i]).collect())
        }
    };
    Ok(RawImage {
        width: img.width,
        height: img.height,
        channels: 1,
        samples,
    })
}

/// The page count of a TIFF file (`None` for other files or an unreadable page list).
fn tiff_pages(path: &Path) -> Option<usize> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut magic = [0u8; 4];
    let n = super::read_prefix(&mut file, &mut magic).ok()?;
    let tiff = n == 4 && matches!(&magic, b"II*\0" | b"MM\0*" | b"II+\0" | b"MM\0+");
    if !tiff {
        return None;
    }
    count_pages(path, len)
}

fn gave_up(path: &Path) -> Error {
    Error::Decode {
        path: path.to_path_buf(),
        reason: "malformed file (the decoder gave up)".into(),
    }
}

fn channel_error(path: &Path, channel: usize, channels: usize) -> Error {
    Error::param(
        "channel",
        format!(
            "channel {channel} is out of range: {} has {channels} channel(s) per frame (0 to {})",
            path.display(),
            channels.saturating_sub(1)
        ),
    )
}

/// Add "frame N (page P)" to an error's reason.
fn name_frame(err: Error, frame: usize, page: Option<usize>) -> Error {
    let at = match page {
        Some(p) => format!("frame {frame} (page {p})"),
        None => format!("frame {frame}"),
    };
    match err {
        Error::Decode { path, reason } => Error::Decode {
            path,
            reason: format!("{at}: {reason}"),
        },
        Error::Unsupported { path, reason } => Error::Unsupported {
            path,
            reason: format!("{at}: {reason}"),
        },
        Error::BadData(reason) => Error::BadData(format!("{at}: {reason}")),
        other => other,
    }
}

/// Count the pages of a TIFF by walking its directory chain (no pixels read); `None` if the
/// chain does not read cleanly (the error then surfaces at the frame that hits it).
fn count_pages(path: &Path, file_len: u64) -> Option<usize> {
    let file = File::open(path).ok()?;
    catch_unwind(AssertUnwindSafe(|| {
        let mut decoder = read_tiff::open(BufReader::new(file), path, file_len).ok()?;
        let mut pages = 1usize;
        while decoder.more_images() {
            decoder.next_image().ok()?;
            pages += 1;
        }
        Some(pages)
    }))
    .ok()
    .flatten()
}

/// The plain files of `dir` whose names pass `keep`, in natural order.
fn list_dir(dir: &Path, keep: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>> {
    let io_err = |source| Error::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if keep(&name) && entry.path().is_file() {
            names.push(name);
        }
    }
    names.sort_by(|a, b| natural_cmp(a, b));
    Ok(names.into_iter().map(|n| dir.join(n)).collect())
}

/// Natural order: runs of ASCII digits compare by numeric value (`img_2` < `img_10`), the rest
/// character by character; ties (`img_02` vs `img_2`) fall back to plain string order.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < ab.len() && j < bb.len() {
        if ab[i].is_ascii_digit() && bb[j].is_ascii_digit() {
            let si = i;
            while i < ab.len() && ab[i].is_ascii_digit() {
                i += 1;
            }
            let sj = j;
            while j < bb.len() && bb[j].is_ascii_digit() {
                j += 1;
            }
            let na = trim_zeros(&ab[si..i]);
            let nb = trim_zeros(&bb[sj..j]);
            let ord = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
            if ord != Ordering::Equal {
                return ord;
            }
        } else {
            // Compare one (possibly multi-byte) character: bytes compare like chars in UTF-8.
            let ord = ab[i].cmp(&bb[j]);
            if ord != Ordering::Equal {
                return ord;
            }
            i += 1;
            j += 1;
        }
    }
    (ab.len() - i).cmp(&(bb.len() - j)).then_with(|| a.cmp(b))
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits
        .iter()
        .position(|&d| d != b'0')
        .unwrap_or(digits.len());
    &digits[start..]
}

/// Match a file name against a pattern of literal characters, `*` (any run, possibly empty)
/// and `?` (exactly one character).
pub fn glob_match_str(pattern: &str, name: &str) -> bool {
    glob_match(
        &pattern.chars().collect::<Vec<_>>(),
        &name.chars().collect::<Vec<_>>(),
    )
}

fn glob_match(pat: &[char], name: &[char]) -> bool {
    // Iterative matcher with single-star backtracking: linear-ish, no recursion.
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pat.len() && (pat[p] == '?' || pat[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pat.len() && pat[p] == '*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&c| c == '*')
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// The sample type of a label stack, fixed when the writer is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelType {
    /// 16-bit labels; a frame with a label above 65535 is refused.
    U16,
    /// 32-bit labels (ImageJ shows them as 32-bit images).
    U32,
}

/// Width reserved for the ImageJ description of an uncalibrated stack, patched in place by
/// [`StackWriter::finish`]; a calibrated stack reserves this plus its calibration lines.
const DESCRIPTION_WIDTH: usize = 96;

#[cfg(test)]
fn imagej_description(frames: usize) -> String {
    imagej_description_with(frames, "", DESCRIPTION_WIDTH)
}

/// The ImageJ description of a stack of `frames` frames followed by `extra` lines (the
/// calibration), padded with spaces to `width` bytes. With `extra` empty and `width`
/// [`DESCRIPTION_WIDTH`] it is the uncalibrated description, unchanged.
fn imagej_description_with(frames: usize, extra: &str, width: usize) -> String {
    let mut s = format!("ImageJ=1.11a\nimages={frames}\nframes={frames}\nhyperstack=true\n{extra}");
    while s.len() < width {
        s.push(' ');
    }
    s
}

/// Write a calibrated page's tags: `description` as its `ImageDescription` when given, and
/// with a pixel size `XResolution`/`YResolution` in pixels per µm and `ResolutionUnit` none
/// (replacing the encoder's default 1/1).
pub(super) fn calibration_tags<W: Write + Seek, K: TiffKind>(
    directory: &mut tiff::encoder::DirectoryEncoder<'_, W, K>,
    description: Option<&str>,
    calibration: &Calibration,
) -> tiff::TiffResult<()> {
    use tiff::encoder::Rational;
    if let Some(d) = description {
        directory.write_tag(Tag::ImageDescription, d)?;
    }
    if let Some(((xn, xd), (yn, yd))) = calibration.resolution() {
        directory.write_tag(Tag::XResolution, Rational { n: xn, d: xd })?;
        directory.write_tag(Tag::YResolution, Rational { n: yn, d: yd })?;
        directory.write_tag(Tag::ResolutionUnit, 1u16)?;
    }
    Ok(())
}

/// A `Write + Seek` handle the encoder and the writer share, so the writer can patch the file
/// after the encoder is done.
#[derive(Clone)]
struct Shared(Arc<Mutex<BufWriter<File>>>);

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, BufWriter<File>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.lock().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.lock().flush()
    }
}

impl Seek for Shared {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.lock().seek(pos)
    }
}

/// Writes label frames, one at a time, into one multi-page TIFF that ImageJ/Fiji opens as a
/// time series (`ImageJ=1.11a`, `images=N`, `frames=N`, `hyperstack=true` in the first page's
/// `ImageDescription`) and tifffile reads as an array of shape `(N, height, width)`.
///
/// Pages are Deflate-compressed, classic TIFF (so the file must stay under 4 GiB) or BigTIFF
/// ([`StackWriter::create_with`]). A stack made by [`StackWriter::create_calibrated`] also
/// carries a pixel size (every page's `XResolution`/`YResolution` in pixels per µm, and
/// `unit=um` in the description) and a frame interval (`finterval=` minutes, `tunit=min`),
/// which ImageJ/Fiji shows as µm and min. The file
/// is written to `.NAME.tmp-<pid>` beside the target and renamed in [`finish`](Self::finish);
/// dropping the writer without finishing removes the temporary file.
pub struct StackWriter {
    path: PathBuf,
    temp: PathBuf,
    /// The file, shared with the encoder; `None` once closed.
    file: Option<Shared>,
    encoder: Option<Encoder>,
    label_type: LabelType,
    /// An 8-bit image stack ([`create_gray8`](Self::create_gray8)): frames come through
    /// [`write_gray8`](Self::write_gray8) and `label_type` is unused.
    gray8: bool,
    size: Option<(usize, usize)>,
    frames: usize,
    /// A scratch buffer for the u16 conversion, reused frame after frame.
    narrow: Vec<u16>,
    /// Boxed to keep the writer small (callers hold it in enums beside small variants).
    cal: Box<StackCalibration>,
}

/// A stack's calibration, the ImageJ description lines it adds and the description's reserved
/// width.
struct StackCalibration {
    calibration: Calibration,
    description_extra: String,
    description_width: usize,
}

/// The TIFF flavour of a stack: classic (offsets below 4 GiB; every TIFF reader, ImageJ
/// included) or BigTIFF (64-bit offsets; tifffile, napari, Fiji through Bio-Formats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StackFormat {
    Classic,
    BigTiff,
}

enum Encoder {
    Classic(TiffEncoder<Shared>),
    Big(TiffEncoder<Shared, TiffKindBig>),
}

impl StackWriter {
    /// Start a classic-TIFF stack at `path` with labels stored as `label_type`.
    pub fn create(path: &Path, label_type: LabelType) -> Result<Self> {
        Self::create_with(path, label_type, StackFormat::Classic)
    }

    /// Start a stack at `path` in the given TIFF flavour.
    pub fn create_with(path: &Path, label_type: LabelType, format: StackFormat) -> Result<Self> {
        Self::create_calibrated(path, label_type, format, &Calibration::default())
    }

    /// Start a stack at `path` in the given TIFF flavour that carries `calibration` (see the
    /// type's docs). An empty calibration writes exactly what [`create_with`](Self::create_with)
    /// writes.
    pub fn create_calibrated(
        path: &Path,
        label_type: LabelType,
        format: StackFormat,
        calibration: &Calibration,
    ) -> Result<Self> {
        let temp = super::write::temp_path(path)?;
        // Read as well as write: `finish` reads the first directory back to patch it.
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        let shared = Shared(Arc::new(Mutex::new(BufWriter::new(file))));
        let mut writer = StackWriter {
            path: path.to_path_buf(),
            temp,
            file: Some(shared.clone()),
            encoder: None,
            label_type,
            gray8: false,
            size: None,
            frames: 0,
            narrow: Vec::new(),
            cal: Box::new(StackCalibration {
                calibration: *calibration,
                description_extra: calibration.imagej_lines(true),
                description_width: DESCRIPTION_WIDTH + calibration.imagej_lines(true).len(),
            }),
        };
        let compression = Compression::Deflate(DeflateLevel::Fast);
        let encoder = match format {
            StackFormat::Classic => Encoder::Classic(
                TiffEncoder::new(shared)
                    .map_err(|e| writer.tiff_err(e))?
                    .with_compression(compression),
            ),
            StackFormat::BigTiff => Encoder::Big(
                TiffEncoder::new_big(shared)
                    .map_err(|e| writer.tiff_err(e))?
                    .with_compression(compression),
            ),
        };
        writer.encoder = Some(encoder);
        Ok(writer)
    }

    fn tiff_err(&self, e: tiff::TiffError) -> Error {
        Error::Encode {
            path: self.path.clone(),
            reason: format!("TIFF: {e}"),
        }
    }

    fn encode_err(&self, frame: usize, reason: String) -> Error {
        Error::Encode {
            path: self.path.clone(),
            reason: format!("frame {frame}: {reason}"),
        }
    }

    /// The calibration the stack carries (empty for [`create`](Self::create)).
    pub fn calibration(&self) -> &Calibration {
        &self.cal.calibration
    }

    /// Frames written so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Start a classic-TIFF stack of 8-bit gray *images* (not labels) at `path`, for inputs
    /// such as synthetic time-lapses; frames are appended with [`write_gray8`](Self::write_gray8).
    /// The file is laid out like a label stack (same ImageJ description, Deflate pages), so
    /// [`FrameSource`] and ImageJ read it as a time series.
    pub fn create_gray8(path: &Path) -> Result<Self> {
        let mut writer = Self::create(path, LabelType::U16)?;
        writer.gray8 = true;
        Ok(writer)
    }

    /// Append one `width × height` 8-bit gray frame (row-major) to a stack made by
    /// [`create_gray8`](Self::create_gray8). Every frame must have the size of the first.
    pub fn write_gray8(&mut self, width: usize, height: usize, pixels: &[u8]) -> Result<()> {
        let frame = self.frames;
        if !self.gray8 {
            return Err(self.encode_err(frame, "an image frame given to a label stack".into()));
        }
        let (w, h) = self.check_frame(width, height, pixels.len())?;
        let Some(encoder) = self.encoder.as_mut() else {
            return Err(self.encode_err(frame, "the writer failed earlier".into()));
        };
        let description = (frame == 0).then(|| {
            imagej_description_with(0, &self.cal.description_extra, self.cal.description_width)
        });
        let cal = &self.cal.calibration;
        let result = match encoder {
            Encoder::Classic(e) => encode_page::<Gray8, _>(e, w, h, description, cal, pixels),
            Encoder::Big(e) => encode_page::<Gray8, _>(e, w, h, description, cal, pixels),
        };
        self.page_written(width, height, result)
    }

    /// The checks every frame passes: nonzero size, `len` samples, the first frame's size.
    fn check_frame(&self, width: usize, height: usize, len: usize) -> Result<(u32, u32)> {
        let frame = self.frames;
        if width == 0 || height == 0 {
            return Err(self.encode_err(frame, format!("zero-sized frame ({width}×{height})")));
        }
        if width.checked_mul(height) != Some(len) {
            return Err(self.encode_err(
                frame,
                format!("{len} values given for {width}×{height} pixels"),
            ));
        }
        match self.size {
            Some((w, h)) if (w, h) != (width, height) => {
                return Err(self.encode_err(
                    frame,
                    format!("{width}×{height} pixels but frame 0 is {w}×{h}"),
                ))
            }
            _ => {}
        }
        let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
            return Err(self.encode_err(frame, format!("frame too large ({width}×{height})")));
        };
        Ok((w, h))
    }

    /// After a page was encoded: count it, or refuse any further frame after a failure.
    fn page_written(
        &mut self,
        width: usize,
        height: usize,
        result: tiff::TiffResult<()>,
    ) -> Result<()> {
        if let Err(e) = result {
            // A half-written page: refuse any further frame.
            self.encoder = None;
            return Err(self.tiff_err(e));
        }
        self.size = Some((width, height));
        self.frames += 1;
        Ok(())
    }

    /// Append one frame of `width × height` labels (row-major). Every frame must have the size
    /// of the first.
    pub fn write_frame(&mut self, width: usize, height: usize, labels: &[u32]) -> Result<()> {
        let frame = self.frames;
        if self.gray8 {
            return Err(self.encode_err(frame, "labels given to an 8-bit image stack".into()));
        }
        let (w, h) = self.check_frame(width, height, labels.len())?;
        if self.label_type == LabelType::U16 {
            if let Some(&big) = labels.iter().find(|&&l| l > u32::from(u16::MAX)) {
                return Err(Error::Limit(format!(
                    "{}: frame {frame} holds label {big}, which does not fit the stack's u16 \
                     labels",
                    self.path.display()
                )));
            }
            self.narrow.clear();
            // Every label fits (checked above), so `as` cannot truncate.
            self.narrow.extend(labels.iter().map(|&l| l as u16));
        }
        let Some(encoder) = self.encoder.as_mut() else {
            return Err(self.encode_err(frame, "the writer failed earlier".into()));
        };
        let description = (frame == 0).then(|| {
            imagej_description_with(0, &self.cal.description_extra, self.cal.description_width)
        });
        let cal = &self.cal.calibration;
        let result = match (self.label_type, encoder) {
            (LabelType::U16, Encoder::Classic(e)) => {
                encode_page::<Gray16, _>(e, w, h, description, cal, &self.narrow)
            }
            (LabelType::U32, Encoder::Classic(e)) => {
                encode_page::<Gray32, _>(e, w, h, description, cal, labels)
            }
            (LabelType::U16, Encoder::Big(e)) => {
                encode_page::<Gray16, _>(e, w, h, description, cal, &self.narrow)
            }
            (LabelType::U32, Encoder::Big(e)) => {
                encode_page::<Gray32, _>(e, w, h, description, cal, labels)
            }
        };
        self.page_written(width, height, result)
    }

    /// Patch the frame count into the description, flush, sync and rename into place.
    /// A stack with no frame is an error (and nothing is written).
    pub fn finish(self) -> Result<()> {
        let target = self.path.clone();
        self.finish_as(&target)
    }

    /// Like [`finish`](Self::finish), but the complete file goes to `target` instead (an
    /// interrupted run keeps the frames it finished under a name that says so).
    pub fn finish_as(mut self, target: &Path) -> Result<()> {
        self.path = target.to_path_buf();
        if self.frames == 0 {
            return Err(Error::Encode {
                path: self.path.clone(),
                reason: "no frame was written to the stack".into(),
            });
        }
        if self.encoder.take().is_none() {
            return Err(Error::Encode {
                path: self.path.clone(),
                reason: "the writer failed earlier".into(),
            });
        }
        let io_err = |source| Error::Io {
            path: self.path.clone(),
            source,
        };
        let Some(shared) = self.file.take() else {
            return Err(Error::Encode {
                path: self.path.clone(),
                reason: "the writer failed earlier".into(),
            });
        };
        {
            let mut writer = shared.lock();
            writer.flush().map_err(io_err)?;
            let file = writer.get_mut();
            let (offset, count) = find_description(file).map_err(io_err)?;
            let width = self.cal.description_width;
            let text = imagej_description_with(self.frames, &self.cal.description_extra, width);
            if count != width as u64 + 1 || text.len() != width {
                return Err(Error::Encode {
                    path: self.path.clone(),
                    reason: format!(
                        "the ImageJ description has {count} bytes, not the {} reserved",
                        width + 1
                    ),
                });
            }
            file.seek(SeekFrom::Start(offset)).map_err(io_err)?;
            file.write_all(text.as_bytes()).map_err(io_err)?;
            file.sync_all().map_err(io_err)?;
        }
        // Close the file before renaming it (required on Windows).
        drop(shared);
        fs::rename(&self.temp, &self.path).map_err(io_err)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        // Renamed: nothing left for `drop` to remove.
        self.temp = PathBuf::new();
        Ok(())
    }
}

/// Encode one page, with `description` as its `ImageDescription` when given, and the
/// calibration's resolution tags when it has a pixel size.
fn encode_page<C, K: TiffKind>(
    encoder: &mut TiffEncoder<Shared, K>,
    width: u32,
    height: u32,
    description: Option<String>,
    calibration: &Calibration,
    data: &[C::Inner],
) -> tiff::TiffResult<()>
where
    C: tiff::encoder::colortype::ColorType,
    [C::Inner]: tiff::encoder::TiffValue,
{
    let mut image = encoder.new_image::<C>(width, height)?;
    if calibration.is_empty() {
        // The uncalibrated page, exactly as before calibrations existed.
        if let Some(d) = description {
            image
                .encoder()
                .write_tag(Tag::ImageDescription, d.as_str())?;
        }
    } else {
        calibration_tags(image.encoder(), description.as_deref(), calibration)?;
    }
    image.write_data(data)
}

impl Drop for StackWriter {
    fn drop(&mut self) {
        self.encoder = None;
        self.file = None;
        if !self.temp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Find the first page's `ImageDescription` value in a classic TIFF: (file offset, count).
fn find_description(file: &mut File) -> std::io::Result<(u64, u64)> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    file.seek(SeekFrom::Start(0))?;
    let mut header = [0u8; 8];
    file.read_exact(&mut header)?;
    let le = match &header[..2] {
        b"II" => true,
        b"MM" => false,
        _ => return Err(bad("not a TIFF header")),
    };
    let u16_at = |b: &[u8]| {
        let a = [b[0], b[1]];
        if le {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        }
    };
    let u32_at = |b: &[u8]| {
        let a = [b[0], b[1], b[2], b[3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let u64_at = |b: &[u8]| {
        let a: [u8; 8] = b[..8].try_into().expect("8 bytes");
        if le {
            u64::from_le_bytes(a)
        } else {
            u64::from_be_bytes(a)
        }
    };
    match u16_at(&header[2..4]) {
        42 => {}
        43 => {
            // BigTIFF: 8-byte first-IFD offset, 8-byte entry counts, 20-byte entries
            let mut offset = [0u8; 8];
            file.read_exact(&mut offset)?;
            file.seek(SeekFrom::Start(u64_at(&offset)))?;
            let mut n = [0u8; 8];
            file.read_exact(&mut n)?;
            let mut entry = [0u8; 20];
            for _ in 0..u64_at(&n) {
                file.read_exact(&mut entry)?;
                if u16_at(&entry[0..2]) == 270 {
                    let count = u64_at(&entry[4..12]);
                    if count <= 8 {
                        return Err(bad("ImageDescription stored inline"));
                    }
                    return Ok((u64_at(&entry[12..20]), count));
                }
            }
            return Err(bad("no ImageDescription on the first page"));
        }
        _ => return Err(bad("not a TIFF")),
    }
    let ifd = u64::from(u32_at(&header[4..8]));
    file.seek(SeekFrom::Start(ifd))?;
    let mut n = [0u8; 2];
    file.read_exact(&mut n)?;
    let entries = u16_at(&n);
    let mut entry = [0u8; 12];
    for _ in 0..entries {
        file.read_exact(&mut entry)?;
        if u16_at(&entry[0..2]) == 270 {
            let count = u64::from(u32_at(&entry[4..8]));
            if count <= 4 {
                return Err(bad("ImageDescription stored inline"));
            }
            return Ok((u64::from(u32_at(&entry[8..12])), count));
        }
    }
    Err(bad("no ImageDescription on the first page"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec![
            "img_10.tif",
            "img_2.tif",
            "img_1.tif",
            "img_02.tif",
            "a.tif",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "a.tif",
                "img_1.tif",
                "img_02.tif",
                "img_2.tif",
                "img_10.tif"
            ]
        );
    }

    #[test]
    fn glob() {
        assert!(glob_match_str("img_*.tif", "img_10.tif"));
        assert!(glob_match_str("img_?.tif", "img_1.tif"));
        assert!(!glob_match_str("img_?.tif", "img_10.tif"));
        assert!(glob_match_str("*", "x"));
        assert!(glob_match_str("*a*b", "xaxxab"));
        assert!(!glob_match_str("*.png", "x.tif"));
    }

    #[test]
    fn imagej_parse() {
        let l = parse_imagej("ImageJ=1.53t\nimages=6\nchannels=2\nframes=3\nhyperstack=true\n")
            .unwrap();
        assert_eq!(
            l,
            ImageJLayout {
                images: Some(6),
                channels: 2,
                slices: 1,
                frames: Some(3)
            }
        );
        assert_eq!(parse_imagej("hello"), None);
        assert_eq!(imagej_description(123).len(), DESCRIPTION_WIDTH);
    }

    /// An 8-bit image stack reads back frame by frame as u8 gray images, and refuses labels
    /// (a label stack refuses images).
    #[test]
    fn stack_gray8_round_trip() {
        let dir = std::env::temp_dir().join(format!("floodseg-gray8-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("images.tif");
        let frames: Vec<Vec<u8>> = (0..3u8)
            .map(|t| {
                (0..35u8)
                    .map(|i| i.wrapping_mul(7).wrapping_add(t))
                    .collect()
            })
            .collect();
        let mut w = StackWriter::create_gray8(&path).unwrap();
        assert!(w.write_frame(7, 5, &[0; 35]).is_err());
        for f in &frames {
            w.write_gray8(7, 5, f).unwrap();
        }
        assert!(w.write_gray8(5, 7, &frames[0]).is_err());
        w.finish().unwrap();
        let src = FrameSource::open(&path, None).unwrap();
        assert_eq!(src.len(), Some(3));
        for (img, want) in src.zip(&frames) {
            let img = img.unwrap();
            assert_eq!((img.width, img.height, img.channels), (7, 5, 1));
            assert_eq!(img.samples, crate::image::Samples::U8(want.clone()));
        }
        let mut labels = StackWriter::create(&dir.join("labels.tif"), LabelType::U16).unwrap();
        assert!(labels.write_gray8(7, 5, &frames[0]).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
