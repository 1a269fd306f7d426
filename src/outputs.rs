//! Where a run writes, resolved and checked **before any work**: a run never overwrites one of
//! its inputs, never writes two outputs to one file, never fails after the work for an output
//! location it could have checked, and never leaves an output that looks complete but is not.
//!
//! [`OutputPlan::new`] takes what the user asked for ([`Request`]) and the [`FrameSource`], and
//! decides the form of every output from its name (a `.tif` label file or stack, a folder of
//! per-frame files, a `.png` overlay or a folder of them, `.csv` tables), refusing names whose
//! extension says another format. It then lists every file the run could write — per-frame
//! files, every `--save-stages` image and the `NAME.partial.*` files an interrupted run keeps
//! included — and refuses the run ([`Error::Parameter`], exit 2, nothing written) when one of
//! them is an input file (the same path after resolving `..` and symbolic links, or the same
//! file through a hard link), when two of them are the same file, when a folder output is the
//! folder the input frames are read from (its files would become frames of the next run), or
//! when a file output is an existing folder. [`OutputPlan::prepare`] then creates the output
//! folders and proves each writable; [`OutputPlan::discard`] removes the folders it created if
//! the run ends before writing anything.
//!
//! Partial results: a stack that could not be finished is kept as `NAME.partial.tif` and the
//! tables of the same frames as `NAME.partial.csv` ([`partial_name`]), never under the final
//! names.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::{FrameSource, LabelType, Origin, StackFormat};
use crate::params::{Markers, Params};

/// What a `segment` run was asked to write.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// `-o`: a `.tif` file (one frame; a stack for several) or a folder (one file per frame).
    pub labels: PathBuf,
    /// `--stats`: the per-object table (`.csv`).
    pub stats: Option<PathBuf>,
    /// `--counts`: the per-frame count table (`.csv`).
    pub counts: Option<PathBuf>,
    /// `--overlay`: a `.png` (one frame) or a folder of PNGs.
    pub overlay: Option<PathBuf>,
    /// `--save-stages`: a folder (one subfolder per frame for several frames).
    pub save_stages: Option<PathBuf>,
    /// `--resume`: label files already in the `-o` folder are the run's own, not inputs.
    pub resume: bool,
    /// `--label-name`: the name of the labels written into an OME-Zarr input's own
    /// `labels/` group (`-o` the input's path); `None`: `cells`.
    pub label_name: Option<String>,
}

/// Where the label images go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelsOut {
    /// One single-page TIFF (one frame).
    File(PathBuf),
    /// One multi-page ImageJ stack.
    Stack(PathBuf),
    /// One TIFF per frame in a folder.
    Folder(PathBuf),
    /// An OME-Zarr label image: into the input image's `labels/<name>`, or standalone.
    Zarr(crate::io::zarr::LabelsTarget),
}

impl LabelsOut {
    /// The path `-o` named.
    pub fn path(&self) -> &Path {
        match self {
            LabelsOut::File(p) | LabelsOut::Stack(p) | LabelsOut::Folder(p) => p,
            LabelsOut::Zarr(crate::io::zarr::LabelsTarget::IntoImage { image, .. }) => image,
            LabelsOut::Zarr(crate::io::zarr::LabelsTarget::Standalone(p)) => p,
        }
    }
}

/// A per-frame output that is one file for a single frame or a folder of files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PerFrame {
    /// One frame: this file (an overlay) or this folder (stage images).
    One(PathBuf),
    /// Several frames: this folder, one entry per frame named after the frame.
    Folder(PathBuf),
}

/// The file names `--save-stages` may write into a frame's folder.
pub const STAGE_FILES: &[&str] = &[
    "smoothed.tif",
    "flattened.tif",
    "mask.tif",
    "mask.png",
    "opened.tif",
    "opened.png",
    "distance2.tif",
    "distance2.png",
    "core.tif",
    "core.png",
    "core_distance2.tif",
    "core_distance2.png",
    "peaks.tif",
    "peaks.png",
    "markers.tif",
    "markers.png",
    "labels.tif",
    "labels.png",
];

/// Per-frame output names: the input files' stems for a folder, glob or list (when unique),
/// else `frame_00000`, `frame_00001`, ….
#[derive(Clone, Debug)]
pub struct FrameNames {
    stems: Option<Vec<String>>,
    len: Option<usize>,
}

impl FrameNames {
    /// The names of `source`'s frames.
    pub fn of(source: &FrameSource) -> FrameNames {
        let stems: Option<Vec<String>> = source.files().filter(|f| f.len() > 1).map(|files| {
            files
                .iter()
                .map(|f| {
                    f.file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
                .collect()
        });
        let unique = stems.as_ref().is_some_and(|v| {
            let set: std::collections::HashSet<&String> = v.iter().collect();
            set.len() == v.len() && v.iter().all(|s| !s.is_empty())
        });
        FrameNames {
            stems: if unique { stems } else { None },
            len: source.len(),
        }
    }

    /// The name of frame `t` (no extension).
    pub fn name(&self, t: usize) -> String {
        match &self.stems {
            Some(v) if t < v.len() => v[t].clone(),
            _ => format!("frame_{t:05}"),
        }
    }

    /// Whether `stem` is the name of some frame (also for a stack of unknown length).
    fn names_some_frame(&self, stem: &str) -> bool {
        match (&self.stems, self.len) {
            (Some(v), _) => v.iter().any(|s| s == stem),
            (None, len) => stem
                .strip_prefix("frame_")
                .filter(|d| d.len() >= 5 && d.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|d| d.parse::<usize>().ok())
                .is_some_and(|t| len.is_none_or(|n| t < n) && self.name(t) == stem),
        }
    }

    /// Every frame's name, when the number of frames is known.
    fn all(&self) -> Option<Vec<String>> {
        self.len.map(|n| (0..n).map(|t| self.name(t)).collect())
    }
}

/// The stack's label type: u16 when no frame can hold more than 65535 objects. Kept peaks are
/// at least `s = max(min_distance, 1)` apart (Chebyshev), so each `s × s` block of the frame
/// holds at most one, and a frame at most ⌈W/s⌉·⌈H/s⌉ markers, hence objects. Maxima plateaus
/// (`regional`, `hmax`) are never 8-adjacent to each other (the lower of two adjacent ones would
/// not be a maximum; equal ones are one plateau), so there `s = 2`.
pub fn stack_label_type(width: usize, height: usize, spacing: u32) -> LabelType {
    let s = (spacing as usize).max(1);
    let bound = width.div_ceil(s) * height.div_ceil(s);
    if bound <= u16::MAX as usize {
        LabelType::U16
    } else {
        LabelType::U32
    }
}

/// The label type and TIFF flavour of a stack of `frames` frames of `width × height` segmented
/// with `params`: u16 labels when no frame can hold more (see [`stack_label_type`]); BigTIFF
/// when the labels, uncompressed, could pass classic TIFF's 4 GiB (above 3.5 GiB, with the
/// frame count known).
pub fn stack_layout(
    width: usize,
    height: usize,
    frames: Option<usize>,
    params: &Params,
) -> (LabelType, StackFormat) {
    let spacing = match params.markers {
        Markers::Peaks => params.min_distance,
        _ => 2,
    };
    let kind = stack_label_type(width, height, spacing);
    let bytes = if kind == LabelType::U16 { 2 } else { 4 };
    let raw = frames.map_or(0, |n| (n * width * height) as u64 * bytes);
    let format = if raw > (7u64 << 29) {
        StackFormat::BigTiff
    } else {
        StackFormat::Classic
    };
    (kind, format)
}

/// A frame's stages from the label file an earlier run wrote (`--resume`): the labels, the
/// gray keys and the measure sums, exactly what segmenting it again gives the outputs.
pub fn resumed_stages(img: &crate::RawImage, path: &Path) -> Result<crate::stages::Stages> {
    let (w, h, labels) = crate::io::read_labels_tiff(path)?;
    if (w, h) != (img.width, img.height) {
        return Err(Error::BadData(format!(
            "{}: {w}×{h} labels for a {}×{} frame (not from this input?)",
            path.display(),
            img.width,
            img.height
        )));
    }
    crate::backend::cpu::stages_from_labels(img, labels)
}

/// `labels.tif` → `labels.partial.tif`, `objects.csv` → `objects.partial.csv`: where an
/// interrupted or failed run keeps what it finished (never under the complete output's name).
pub fn partial_name(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "output".into(), |s| s.to_string_lossy().into_owned());
    match path.extension() {
        Some(ext) => path.with_file_name(format!("{stem}.partial.{}", ext.to_string_lossy())),
        None => path.with_file_name(format!("{stem}.partial")),
    }
}

/// Extensions that name image or table formats other than the output's.
const IMAGE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "bmp", "gif", "webp", "jp2", "tif", "tiff",
];
const TABLE_EXTENSIONS: &[&str] = &["csv", "tsv", "txt", "json", "xlsx", "npy", "zarr"];

fn ext_of(p: &Path) -> Option<String> {
    p.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
}

fn is_tiff_name(p: &Path) -> bool {
    matches!(ext_of(p).as_deref(), Some("tif" | "tiff"))
}

/// Where labels named `out` (a `.zarr` path) go (`segment -o`, `track -o`): into the OME-Zarr
/// input `zarr_in`'s own `labels/<label_name>` group (default `default_name`) when `out` is that
/// input, else a label image of its own, never elsewhere inside the input image. `--label-name`
/// names only labels written into the input.
pub fn zarr_labels_target(
    out: &Path,
    zarr_in: Option<&Path>,
    label_name: Option<&str>,
    default_name: &str,
) -> Result<crate::io::zarr::LabelsTarget> {
    use crate::io::zarr::LabelsTarget;
    let Some(z) = zarr_in else {
        if label_name.is_some() {
            return Err(Error::param(
                "--label-name",
                "names the labels written into an OME-Zarr input (-o the input's own path)",
            ));
        }
        return Ok(LabelsTarget::Standalone(out.to_path_buf()));
    };
    if normalize(z) == normalize(out) {
        let name = label_name.unwrap_or(default_name).to_string();
        crate::io::zarr::check_label_name(&name)?;
        return Ok(LabelsTarget::IntoImage {
            image: out.to_path_buf(),
            name,
        });
    }
    if label_name.is_some() {
        return Err(Error::param(
            "--label-name",
            "names labels written into the input's own labels/ group: give -o the input's path, \
             or leave --label-name out for a standalone label image",
        ));
    }
    if normalize(out).starts_with(normalize(z)) {
        return Err(Error::param(
            "--output",
            format!(
                "{} is inside the input image {}: give -o the input's own path (labels go into \
                 its labels/ group) or a path outside it",
                out.display(),
                z.display()
            ),
        ));
    }
    Ok(LabelsTarget::Standalone(out.to_path_buf()))
}

/// The checked outputs of one run.
#[derive(Debug)]
pub struct OutputPlan {
    pub labels: LabelsOut,
    pub stats: Option<PathBuf>,
    pub counts: Option<PathBuf>,
    pub overlay: Option<PerFrame>,
    pub save_stages: Option<PerFrame>,
    names: FrameNames,
    /// Folders [`OutputPlan::prepare`] created (parents first).
    created: Vec<PathBuf>,
}

impl OutputPlan {
    /// Decide every output's form from its name and check them all against the inputs of
    /// `source` and against each other (see the module doc). Nothing is created.
    pub fn new(source: &FrameSource, req: &Request) -> Result<OutputPlan> {
        let frames = source.len();
        let single = frames == Some(1);
        let names = FrameNames::of(source);

        // -o
        let out = &req.labels;
        let zarr_in = source.zarr_image().map(|z| z.path().to_path_buf());
        if req.label_name.is_some() && zarr_in.is_none() {
            return Err(Error::param(
                "--label-name",
                "names the labels written into an OME-Zarr input (-o the input's own path)",
            ));
        }
        let labels = if crate::io::zarr::is_zarr_name(out) {
            LabelsOut::Zarr(zarr_labels_target(
                out,
                zarr_in.as_deref(),
                req.label_name.as_deref(),
                "cells",
            )?)
        } else if out.is_dir() {
            LabelsOut::Folder(out.clone())
        } else if is_tiff_name(out) {
            if single {
                LabelsOut::File(out.clone())
            } else {
                LabelsOut::Stack(out.clone())
            }
        } else if let Some(ext) = ext_of(out).filter(|e| {
            IMAGE_EXTENSIONS.contains(&e.as_str()) || TABLE_EXTENSIONS.contains(&e.as_str())
        }) {
            return Err(Error::param(
                "--output",
                format!(
                    "labels are written as TIFF: name a .tif file or a folder, not a .{ext} file"
                ),
            ));
        } else if out.exists() {
            return Err(Error::param(
                "--output",
                format!(
                    "{} exists and is not a folder: name a .tif file or a folder",
                    out.display()
                ),
            ));
        } else {
            LabelsOut::Folder(out.clone())
        };
        if req.resume && !matches!(labels, LabelsOut::Folder(_) | LabelsOut::Zarr(_)) {
            return Err(Error::param(
                "--resume",
                "needs per-frame outputs (-o DIR or an OME-Zarr -o); a stack file is only \
                 written complete",
            ));
        }

        // tables
        let table = |flag: &'static str, p: &Option<PathBuf>| -> Result<Option<PathBuf>> {
            let Some(p) = p else { return Ok(None) };
            if p.is_dir() {
                return Err(Error::param(
                    flag,
                    format!("{} is a folder; name a .csv file", p.display()),
                ));
            }
            match ext_of(p).as_deref() {
                Some("csv") => Ok(Some(p.clone())),
                other => Err(Error::param(
                    flag,
                    format!(
                        "the table is written as CSV: name a .csv file{}",
                        other.map_or_else(String::new, |e| format!(", not a .{e} file"))
                    ),
                )),
            }
        };
        let stats = table("--stats", &req.stats)?;
        let counts = table("--counts", &req.counts)?;

        // --overlay
        let overlay = match &req.overlay {
            None => None,
            Some(p) => {
                let ext = ext_of(p);
                if p.is_dir() {
                    Some(PerFrame::Folder(p.clone()))
                } else if ext.as_deref() == Some("png") {
                    if !single {
                        return Err(Error::param(
                            "--overlay",
                            format!(
                                "the input has {} frames, one PNG each: name a folder for \
                                 --overlay, not {}",
                                frames.map_or_else(|| "several".to_string(), |n| n.to_string()),
                                p.display()
                            ),
                        ));
                    }
                    Some(PerFrame::One(p.clone()))
                } else if let Some(ext) = ext {
                    return Err(Error::param(
                        "--overlay",
                        format!(
                            "overlays are PNG: name a .png file or a folder, not a .{ext} file"
                        ),
                    ));
                } else if p.exists() {
                    return Err(Error::param(
                        "--overlay",
                        format!("{} exists and is not a folder", p.display()),
                    ));
                } else {
                    Some(PerFrame::Folder(p.clone()))
                }
            }
        };

        // --save-stages
        let save_stages = match &req.save_stages {
            None => None,
            Some(p) => {
                if p.exists() && !p.is_dir() {
                    return Err(Error::param(
                        "--save-stages",
                        format!("{} exists and is not a folder", p.display()),
                    ));
                }
                if let Some(ext) = ext_of(p).filter(|e| {
                    IMAGE_EXTENSIONS.contains(&e.as_str()) || TABLE_EXTENSIONS.contains(&e.as_str())
                }) {
                    return Err(Error::param(
                        "--save-stages",
                        format!("names a folder of stage images, not a .{ext} file"),
                    ));
                }
                Some(if single {
                    PerFrame::One(p.clone())
                } else {
                    PerFrame::Folder(p.clone())
                })
            }
        };

        let plan = OutputPlan {
            labels,
            stats,
            counts,
            overlay,
            save_stages,
            names,
            created: Vec::new(),
        };
        plan.check(source)?;
        Ok(plan)
    }

    /// The name of frame `t` in per-frame outputs.
    pub fn frame_name(&self, t: usize) -> String {
        self.names.name(t)
    }

    /// Frame `t`'s label file in a folder output (`None` for a file or stack).
    pub fn labels_file(&self, t: usize) -> Option<PathBuf> {
        match &self.labels {
            LabelsOut::Folder(d) => Some(d.join(format!("{}.tif", self.names.name(t)))),
            _ => None,
        }
    }

    /// Frame `t`'s overlay PNG.
    pub fn overlay_file(&self, t: usize) -> Option<PathBuf> {
        match &self.overlay {
            None => None,
            Some(PerFrame::One(p)) if p.is_dir() => {
                Some(p.join(format!("{}.png", self.names.name(t))))
            }
            Some(PerFrame::One(p)) => Some(p.clone()),
            Some(PerFrame::Folder(d)) => Some(d.join(format!("{}.png", self.names.name(t)))),
        }
    }

    /// Frame `t`'s folder of stage images.
    pub fn stages_dir(&self, t: usize) -> Option<PathBuf> {
        match &self.save_stages {
            None => None,
            Some(PerFrame::One(d)) => Some(d.clone()),
            Some(PerFrame::Folder(d)) => Some(d.join(self.names.name(t))),
        }
    }

    /// Every output file with the flag that asks for it, for the checks; `frame_files` says
    /// whether per-frame files can be listed (the frame count is known).
    fn files(&self) -> (Vec<(&'static str, PathBuf)>, bool) {
        let mut v: Vec<(&'static str, PathBuf)> = Vec::new();
        let all = self.names.all();
        let listed = all.is_some();
        let names = all.unwrap_or_default();
        match &self.labels {
            LabelsOut::File(p) => v.push(("--output", p.clone())),
            LabelsOut::Stack(p) => {
                v.push(("--output", p.clone()));
                v.push(("--output", partial_name(p)));
            }
            LabelsOut::Folder(d) => {
                for n in &names {
                    v.push(("--output", d.join(format!("{n}.tif"))));
                }
            }
            LabelsOut::Zarr(t) => {
                let g = t.group_dir();
                v.push(("--output", g.join("zarr.json")));
                v.push(("--output", g.join("0").join("zarr.json")));
            }
        }
        for (flag, t) in [("--stats", &self.stats), ("--counts", &self.counts)] {
            if let Some(p) = t {
                v.push((flag, p.clone()));
                v.push((flag, partial_name(p)));
            }
        }
        match &self.overlay {
            Some(PerFrame::One(p)) if !p.is_dir() => v.push(("--overlay", p.clone())),
            Some(PerFrame::One(d)) | Some(PerFrame::Folder(d)) => {
                for n in &names {
                    v.push(("--overlay", d.join(format!("{n}.png"))));
                }
            }
            None => {}
        }
        match &self.save_stages {
            Some(PerFrame::One(d)) => {
                for f in STAGE_FILES {
                    v.push(("--save-stages", d.join(f)));
                }
            }
            Some(PerFrame::Folder(d)) => {
                for n in &names {
                    for f in STAGE_FILES {
                        v.push(("--save-stages", d.join(n).join(f)));
                    }
                }
            }
            None => {}
        }
        (v, listed)
    }

    /// The folders per-frame outputs go into.
    fn folders(&self) -> Vec<(&'static str, PathBuf)> {
        let mut v = Vec::new();
        match &self.labels {
            LabelsOut::Folder(d) => v.push(("--output", d.clone())),
            LabelsOut::Zarr(t) => v.push(("--output", t.group_dir().join("0"))),
            _ => {}
        }
        match &self.overlay {
            Some(PerFrame::Folder(d)) => v.push(("--overlay", d.clone())),
            Some(PerFrame::One(d)) if d.is_dir() => v.push(("--overlay", d.clone())),
            _ => {}
        }
        if let Some(PerFrame::One(d) | PerFrame::Folder(d)) = &self.save_stages {
            v.push(("--save-stages", d.clone()));
        }
        v
    }

    fn check(&self, source: &FrameSource) -> Result<()> {
        let inputs: Vec<(PathBuf, PathBuf, Option<FileId>)> = source
            .input_files()
            .into_iter()
            .map(|p| {
                let id = file_id(&p);
                (normalize(&p), p, id)
            })
            .collect();
        let refuse = |flag: &'static str, reason: String| Err(Error::param(flag, reason));
        let (files, listed) = self.files();
        // an output is an input
        for (flag, out) in &files {
            let norm = normalize(out);
            let id = file_id(out);
            if let Some((_, input, _)) = inputs
                .iter()
                .find(|(n, _, iid)| *n == norm || (id.is_some() && *iid == id))
            {
                return refuse(
                    flag,
                    format!(
                        "{} would overwrite the input file {}: floodseg never writes over an \
                         input; name another output",
                        out.display(),
                        input.display()
                    ),
                );
            }
        }
        // per-frame names of a stack of unknown length, matched against the inputs by name
        if !listed {
            for (flag, dir) in self.folders() {
                let dir_n = normalize(&dir);
                for (n, input, _) in &inputs {
                    let same_dir = n.parent() == Some(dir_n.as_path())
                        || n.parent().and_then(|p| p.parent()) == Some(dir_n.as_path());
                    let stem = n
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let parent_stem = n
                        .parent()
                        .and_then(|p| p.file_name())
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if same_dir
                        && (self.names.names_some_frame(&stem)
                            || self.names.names_some_frame(&parent_stem))
                    {
                        return refuse(
                            flag,
                            format!(
                                "{} may write over the input file {}: name another folder",
                                dir.display(),
                                input.display()
                            ),
                        );
                    }
                }
            }
        }
        // a folder output is the folder the frames are read from
        // (a list of files: the folders holding them, as a shell glob would have matched there)
        let input_dirs: Vec<(PathBuf, Option<String>)> = match source.origin() {
            Origin::Folder(d) => vec![(normalize(d), None)],
            Origin::Glob(d, pattern) => vec![(normalize(d), Some(pattern.clone()))],
            Origin::List => {
                let mut v: Vec<(PathBuf, Option<String>)> = Vec::new();
                for (n, _, _) in &inputs {
                    if let Some(p) = n.parent() {
                        if !v.iter().any(|(d, _)| d == p) {
                            v.push((p.to_path_buf(), None));
                        }
                    }
                }
                v
            }
            // an OME-Zarr input: where its labels may go is checked in `new`
            Origin::File(_) | Origin::Zarr(_) => Vec::new(),
        };
        for (in_dir, pattern) in &input_dirs {
            for (flag, dir) in self.folders() {
                if normalize(&dir) == *in_dir {
                    let clash = match pattern {
                        None => true,
                        // only names the glob would pick up next time
                        Some(pat) => files.iter().any(|(f, p)| {
                            f == &flag
                                && normalize(p).parent() == Some(in_dir.as_path())
                                && p.file_name()
                                    .and_then(|n| n.to_str())
                                    .is_some_and(|n| crate::io::glob_match_str(pat, n))
                        }),
                    };
                    if clash {
                        return refuse(
                            flag,
                            format!(
                                "{} is the folder the input frames are read from: its new \
                                 files would be read as frames by the next run (and could \
                                 replace inputs); name another folder",
                                dir.display()
                            ),
                        );
                    }
                }
            }
        }
        // two outputs in one file
        let mut seen: HashMap<PathBuf, &'static str> = HashMap::new();
        let mut ids: HashMap<FileId, &'static str> = HashMap::new();
        for (flag, out) in &files {
            let norm = normalize(out);
            if let Some(other) = seen.insert(norm, flag) {
                if other != *flag {
                    return refuse(
                        flag,
                        format!(
                            "{} is also written by {other}: two outputs cannot share a file",
                            out.display()
                        ),
                    );
                }
                return refuse(flag, format!("{} would be written twice", out.display()));
            }
            if let Some(id) = file_id(out) {
                if let Some(other) = ids.insert(id, flag) {
                    return refuse(
                        flag,
                        format!(
                            "{} is the same file as an output of {other} (a link): two outputs \
                             cannot share a file",
                            out.display()
                        ),
                    );
                }
            }
        }
        // a file output where a folder output goes, or an existing folder
        let folders: Vec<(&'static str, PathBuf)> = self
            .folders()
            .into_iter()
            .map(|(f, d)| (f, normalize(&d)))
            .collect();
        for (flag, out) in &files {
            let norm = normalize(out);
            if let Some((other, _)) = folders.iter().find(|(_, d)| *d == norm) {
                return refuse(
                    flag,
                    format!("{} is the folder {other} writes into", out.display()),
                );
            }
            if out.is_dir() {
                return refuse(flag, format!("{} is a folder", out.display()));
            }
        }
        Ok(())
    }

    /// Create the output folders (and the folders file outputs go into), then prove that each
    /// can be written into by creating and removing a probe file. Folders created are
    /// remembered for [`OutputPlan::discard`].
    pub fn prepare(&mut self) -> Result<()> {
        let mut dirs: Vec<PathBuf> = self.folders().into_iter().map(|(_, d)| d).collect();
        // the folders file outputs go into (a per-frame stage folder is made by its writer,
        // inside the --save-stages folder proved here)
        let (files, _) = self.files();
        for (flag, f) in &files {
            if *flag == "--save-stages" {
                continue;
            }
            let parent = match f.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !dirs.contains(&parent) {
                dirs.push(parent);
            }
        }
        let result = (|| {
            for d in &dirs {
                self.create_dir(d)?;
            }
            for d in &dirs {
                probe(d)?;
            }
            Ok(())
        })();
        if result.is_err() {
            self.discard();
        }
        result
    }

    fn create_dir(&mut self, dir: &Path) -> Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            self.create_dir(parent)?;
        }
        match std::fs::create_dir(dir) {
            Ok(()) => {
                self.created.push(dir.to_path_buf());
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
            Err(source) => Err(Error::Io {
                path: dir.to_path_buf(),
                source,
            }),
        }
    }

    /// Remove the folders [`OutputPlan::prepare`] created that are still empty (a run that
    /// ends before writing anything leaves nothing behind).
    pub fn discard(&self) {
        for d in self.created.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// Write every stage image of a frame into `dir` (`--save-stages`): the names of
/// [`STAGE_FILES`], as `scripts/reference/lecture_pipeline.py` writes them — 0/1 images as u8
/// TIFF with a black/white PNG, distances as u32 TIFF with a scaled PNG, markers and labels
/// with a colour PNG; `smoothed`, `flattened` and the core only when made.
pub fn write_stages(dir: &Path, s: &crate::stages::Stages) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let (w, h) = (s.dims.width as usize, s.dims.height as usize);
    // a 0/1 image as u8 TIFF + black/white PNG; a distance as u32 TIFF + scaled PNG
    let binary = |name: &str, v: &[u32]| -> Result<()> {
        let u8s: Vec<u8> = v.iter().map(|&x| x as u8).collect();
        crate::io::write_tiff_u8(&dir.join(format!("{name}.tif")), w, h, &u8s)?;
        let png = crate::render::binary_preview(v);
        crate::io::write_png_gray8(&dir.join(format!("{name}.png")), w, h, &png)
    };
    let distance = |name: &str, v: &[u32]| -> Result<()> {
        crate::io::write_tiff_u32(&dir.join(format!("{name}.tif")), w, h, v)?;
        let png = crate::render::scaled_preview(v, true);
        crate::io::write_png_gray8(&dir.join(format!("{name}.png")), w, h, &png)
    };
    if !s.smoothed.is_empty() {
        // gray keys after --smooth (the input's units; RGB: rgb2gray × 255 × 10 000)
        crate::io::write_tiff_u32(&dir.join("smoothed.tif"), w, h, &s.smoothed)?;
    }
    if !s.flattened.is_empty() {
        // keys after --background (what the threshold saw; same units, background flattened)
        crate::io::write_tiff_u32(&dir.join("flattened.tif"), w, h, &s.flattened)?;
    }
    binary("mask", &s.mask)?;
    binary("opened", &s.opened)?;
    distance("distance2", &s.distance2)?;
    if !s.core_opened.is_empty() {
        // --core: where the markers were found
        binary("core", &s.core_opened)?;
        distance("core_distance2", &s.core_distance2)?;
    }
    binary("peaks", &s.peaks)?;
    crate::io::write_tiff_u32(&dir.join("markers.tif"), w, h, &s.markers)?;
    let png = crate::render::label_preview(&s.markers);
    crate::io::write_png_rgb8(&dir.join("markers.png"), w, h, &png)?;
    crate::io::write_labels_tiff(&dir.join("labels.tif"), w, h, &s.labels)?;
    let png = crate::render::label_preview(&s.labels);
    crate::io::write_png_rgb8(&dir.join("labels.png"), w, h, &png)?;
    Ok(())
}

/// Prove that `dir` takes new files.
fn probe(dir: &Path) -> Result<()> {
    let p = dir.join(format!(".floodseg-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&p)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&p);
            Ok(())
        }
        Err(source) => Err(Error::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(
                source.kind(),
                format!("cannot write into this folder: {source}"),
            ),
        }),
    }
}

/// A file's identity on disk (device and inode on Unix), to see hard links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct FileId(u64, u64);

#[cfg(unix)]
fn file_id(p: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).ok()?;
    m.is_file().then(|| FileId(m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &Path) -> Option<FileId> {
    None
}

/// `p` as an absolute path with `.` and `..` resolved and the longest existing prefix
/// canonicalized (so symbolic links resolve), whether or not `p` itself exists.
pub fn normalize(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|c| c.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    // lexical clean-up first
    let mut clean = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other.as_os_str()),
        }
    }
    // canonicalize the longest existing prefix
    let mut rest = Vec::new();
    let mut head = clean.clone();
    loop {
        if let Ok(canon) = std::fs::canonicalize(&head) {
            let mut out = canon;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return out;
        }
        match (head.file_name().map(|n| n.to_os_string()), head.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                head = parent.to_path_buf();
            }
            _ => return clean,
        }
    }
}

/// The checks of [`OutputPlan`] for a run whose outputs are listed by the caller (`track`):
/// refuse ([`Error::Parameter`], nothing written) a file output that is an input (the same
/// path after resolving `..` and links, or a hard link), two outputs in one file, a file
/// output that is an existing folder or a folder output, and a folder output that holds an
/// input file (its new files could replace inputs or be read as frames next time).
pub fn refuse_clashes(
    inputs: &[PathBuf],
    files: &[(&'static str, PathBuf)],
    folders: &[(&'static str, PathBuf)],
) -> Result<()> {
    let refuse = |flag: &'static str, reason: String| Err(Error::param(flag, reason));
    let ins: Vec<(PathBuf, &PathBuf, Option<FileId>)> = inputs
        .iter()
        .map(|p| (normalize(p), p, file_id(p)))
        .collect();
    let mut seen: HashMap<PathBuf, &'static str> = HashMap::new();
    let mut ids: HashMap<FileId, &'static str> = HashMap::new();
    let dirs: Vec<(&'static str, PathBuf)> =
        folders.iter().map(|(f, d)| (*f, normalize(d))).collect();
    for (flag, out) in files {
        let norm = normalize(out);
        let id = file_id(out);
        if let Some((_, input, _)) = ins
            .iter()
            .find(|(n, _, iid)| *n == norm || (id.is_some() && *iid == id))
        {
            return refuse(
                flag,
                format!(
                    "{} would overwrite the input file {}: floodseg never writes over an input; \
                     name another output",
                    out.display(),
                    input.display()
                ),
            );
        }
        if out.is_dir() {
            return refuse(flag, format!("{} is a folder", out.display()));
        }
        if let Some((other, _)) = dirs.iter().find(|(_, d)| *d == norm) {
            return refuse(
                flag,
                format!("{} is the folder {other} writes into", out.display()),
            );
        }
        if let Some(other) = seen.insert(norm, flag) {
            return refuse(
                flag,
                format!(
                    "{} is also written by {other}: two outputs cannot share a file",
                    out.display()
                ),
            );
        }
        if let Some(id) = id {
            if let Some(other) = ids.insert(id, flag) {
                return refuse(
                    flag,
                    format!(
                        "{} is the same file as an output of {other} (a link): two outputs \
                         cannot share a file",
                        out.display()
                    ),
                );
            }
        }
    }
    for (flag, dir) in &dirs {
        if let Some((_, input, _)) = ins
            .iter()
            .find(|(n, _, _)| n.parent() == Some(dir.as_path()) || n == dir)
        {
            return refuse(
                flag,
                format!(
                    "{} holds the input {}: its new files could replace inputs or be read as \
                     frames by the next run; name another folder",
                    dir.display(),
                    input.display()
                ),
            );
        }
        if dir.exists() && !dir.is_dir() {
            return refuse(
                flag,
                format!("{} exists and is not a folder", dir.display()),
            );
        }
    }
    for (i, (f1, d1)) in dirs.iter().enumerate() {
        if let Some((f2, _)) = dirs[i + 1..].iter().find(|(_, d2)| d2 == d1) {
            return refuse(
                f2,
                format!(
                    "{} is also the folder of {f1}: name another folder",
                    d1.display()
                ),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_label_type_follows_the_peak_spacing_bound() {
        // 1024² at min_distance 5: at most 205² = 42 025 objects
        assert!(stack_label_type(1024, 1024, 5) == LabelType::U16);
        // min_distance 0 or 1: every pixel may be a peak
        assert!(stack_label_type(256, 256, 1) == LabelType::U32);
        assert!(stack_label_type(255, 257, 0) == LabelType::U16);
        assert!(stack_label_type(4096, 4096, 17) == LabelType::U16); // 241² = 58 081
        assert!(stack_label_type(4096, 4096, 16) == LabelType::U32); // 256² = 65 536
        assert!(stack_label_type(4096, 4096, 10) == LabelType::U32);
        // maxima markers: spacing 2 (plateaus are never 8-adjacent)
        assert!(stack_label_type(510, 512, 2) == LabelType::U16); // 255·256 = 65 280
        assert!(stack_label_type(512, 512, 2) == LabelType::U32); // 256² = 65 536
    }

    #[test]
    fn partial_names_keep_the_extension() {
        assert_eq!(
            partial_name(Path::new("a/labels.tif")),
            Path::new("a/labels.partial.tif")
        );
        assert_eq!(
            partial_name(Path::new("objects.csv")),
            Path::new("objects.partial.csv")
        );
    }

    #[test]
    fn normalize_resolves_dots_of_missing_paths() {
        let here = std::env::current_dir().unwrap();
        let a = normalize(Path::new("x/../y/./z.tif"));
        assert_eq!(a, normalize(&here.join("y/z.tif")));
        assert!(a.is_absolute());
    }
}
