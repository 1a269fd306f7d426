//! Accuracy against ground truth (`floodseg eval`): object matching with the semantics of
//! StarDist's `stardist.matching.matching` (single images) and `matching_dataset(...,
//! by_image=False)` (stacks and folders: counts and matched IoU summed over frames).
//!
//! For each IoU threshold `τ`, ground-truth and predicted objects (label > 0 each; labels need
//! not be sequential) are paired one to one by the assignment StarDist computes with
//! `scipy.optimize.linear_sum_assignment` on the cost `-(IoU ≥ τ) - IoU / (2·min(n_true,
//! n_pred))`: first as many pairs with IoU ≥ τ as possible, then the largest sum of their IoU.
//! A pair counts as a true positive when its IoU ≥ τ. Then `fp = n_pred − tp`, `fn = n_true −
//! tp`, precision `tp/(tp+fp)`, recall `tp/(tp+fn)`, F1 `2tp/(2tp+fp+fn)`, mean matched IoU
//! `Σ IoU(tp pairs)/tp`, panoptic quality `Σ IoU(tp pairs)/(tp + fp/2 + fn/2)`; a ratio with a
//! zero denominator is 0 (StarDist's `_safe_divide`). IoUs are rounded to f32 as StarDist
//! stores them, so every threshold decision and count is identical; StarDist also sums them in
//! f32 where floodseg sums in f64, so mean IoU and PQ agree to about 1e-7.
//!
//! Pairs that do not overlap cost 0, so the assignment splits into the connected components of
//! the overlap graph; each is solved exactly with the Hungarian algorithm (objects touch few
//! others, so components are small).

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::labels::is_tiff;

/// A label image: `width × height` labels, 0 = background.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelImage {
    pub width: usize,
    pub height: usize,
    pub labels: Vec<u32>,
}

/// Matching statistics at one IoU threshold (one image, or summed over a stack).
#[derive(Clone, Debug, PartialEq)]
pub struct Matching {
    pub iou: f64,
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub n_true: usize,
    pub n_pred: usize,
    /// Σ IoU over the true-positive pairs.
    pub sum_matched_iou: f64,
}

fn safe_div(a: f64, b: f64) -> f64 {
    if b != 0.0 {
        a / b
    } else {
        0.0
    }
}

impl Matching {
    pub fn precision(&self) -> f64 {
        safe_div(self.tp as f64, (self.tp + self.fp) as f64)
    }
    pub fn recall(&self) -> f64 {
        safe_div(self.tp as f64, (self.tp + self.fn_) as f64)
    }
    pub fn f1(&self) -> f64 {
        safe_div(
            2.0 * self.tp as f64,
            (2 * self.tp + self.fp + self.fn_) as f64,
        )
    }
    pub fn mean_matched_iou(&self) -> f64 {
        safe_div(self.sum_matched_iou, self.tp as f64)
    }
    pub fn panoptic_quality(&self) -> f64 {
        safe_div(
            self.sum_matched_iou,
            self.tp as f64 + self.fp as f64 / 2.0 + self.fn_ as f64 / 2.0,
        )
    }

    /// Add another image's counts (StarDist's `matching_dataset(..., by_image=False)`).
    pub fn add(&mut self, other: &Matching) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
        self.n_true += other.n_true;
        self.n_pred += other.n_pred;
        self.sum_matched_iou += other.sum_matched_iou;
    }

    /// One JSON object with the keys `iou, tp, fp, fn, precision, recall, f1,
    /// mean_matched_iou, panoptic_quality` (plus `n_true, n_pred`).
    pub fn to_json(&self) -> String {
        format!(
            "{{\"iou\":{},\"tp\":{},\"fp\":{},\"fn\":{},\"precision\":{},\"recall\":{},\
             \"f1\":{},\"mean_matched_iou\":{},\"panoptic_quality\":{},\"n_true\":{},\
             \"n_pred\":{}}}",
            self.iou,
            self.tp,
            self.fp,
            self.fn_,
            self.precision(),
            self.recall(),
            self.f1(),
            self.mean_matched_iou(),
            self.panoptic_quality(),
            self.n_true,
            self.n_pred
        )
    }
}

/// Object areas and pairwise intersections of two label images of the same size.
struct Overlaps {
    true_area: Vec<u64>,
    pred_area: Vec<u64>,
    /// `(true index, pred index, intersection)`, indices into the areas.
    pairs: Vec<(usize, usize, u64)>,
}

fn overlaps(gt: &[u32], pred: &[u32]) -> Overlaps {
    let mut true_ix = HashMap::new();
    let mut pred_ix = HashMap::new();
    let mut true_area = Vec::new();
    let mut pred_area = Vec::new();
    let mut inter: HashMap<(usize, usize), u64> = HashMap::new();
    for (&t, &p) in gt.iter().zip(pred) {
        let ti = (t != 0).then(|| {
            *true_ix.entry(t).or_insert_with(|| {
                true_area.push(0);
                true_area.len() - 1
            })
        });
        let pi = (p != 0).then(|| {
            *pred_ix.entry(p).or_insert_with(|| {
                pred_area.push(0);
                pred_area.len() - 1
            })
        });
        if let Some(ti) = ti {
            true_area[ti] += 1;
        }
        if let Some(pi) = pi {
            pred_area[pi] += 1;
        }
        if let (Some(ti), Some(pi)) = (ti, pi) {
            *inter.entry((ti, pi)).or_insert(0) += 1;
        }
    }
    let mut pairs: Vec<(usize, usize, u64)> =
        inter.into_iter().map(|((t, p), n)| (t, p, n)).collect();
    pairs.sort_unstable();
    Overlaps {
        true_area,
        pred_area,
        pairs,
    }
}

/// Match `pred` against `gt` at every threshold in `thresholds`.
pub fn matching(gt: &LabelImage, pred: &LabelImage, thresholds: &[f64]) -> Result<Vec<Matching>> {
    if (gt.width, gt.height) != (pred.width, pred.height) {
        return Err(Error::BadData(format!(
            "ground truth is {}×{} but the prediction is {}×{}",
            gt.width, gt.height, pred.width, pred.height
        )));
    }
    let ov = overlaps(&gt.labels, &pred.labels);
    let (n_true, n_pred) = (ov.true_area.len(), ov.pred_area.len());
    let n_matched = n_true.min(n_pred);
    // IoU of each overlapping pair as StarDist stores it: the f64 quotient rounded to f32
    // (its `_safe_divide` writes into a float32 array), so thresholds decide identically.
    let ious: Vec<(usize, usize, f64)> = ov
        .pairs
        .iter()
        .map(|&(t, p, i)| {
            let union = ov.true_area[t] + ov.pred_area[p] - i;
            (t, p, f64::from((i as f64 / union as f64) as f32))
        })
        .collect();
    let components = components(n_true, &ious);
    Ok(thresholds
        .iter()
        .map(|&thr| {
            let mut m = Matching {
                iou: thr,
                tp: 0,
                fp: 0,
                fn_: 0,
                n_true,
                n_pred,
                sum_matched_iou: 0.0,
            };
            if n_matched > 0 {
                for comp in &components {
                    let (tp, sum) = assign_component(comp, &ious, thr, n_matched);
                    m.tp += tp;
                    m.sum_matched_iou += sum;
                }
            }
            m.fp = n_pred - m.tp;
            m.fn_ = n_true - m.tp;
            m
        })
        .collect())
}

/// Connected components of the overlap graph, as lists of indices into `ious`.
fn components(n_true: usize, ious: &[(usize, usize, f64)]) -> Vec<Vec<usize>> {
    // union-find over true objects; pred objects offset by n_true
    let n_pred = ious.iter().map(|&(_, p, _)| p + 1).max().unwrap_or(0);
    let mut parent: Vec<usize> = (0..n_true + n_pred).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(t, p, _) in ious {
        let (a, b) = (find(&mut parent, t), find(&mut parent, n_true + p));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut by_root: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, &(t, _, _)) in ious.iter().enumerate() {
        let r = find(&mut parent, t);
        by_root.entry(r).or_default().push(k);
    }
    let mut comps: Vec<Vec<usize>> = by_root.into_values().collect();
    comps.sort_unstable();
    comps
}

/// `IoU ≥ τ` as StarDist evaluates it: a float32 score against the threshold, which numpy ≥ 2
/// also casts to float32 (an IoU of exactly 0.9 is 0.899999976 in f32 and still reaches 0.9).
fn reaches(iou: f64, thr: f64) -> bool {
    iou as f32 >= thr as f32
}

/// The optimal assignment inside one component: `(tp, Σ IoU of the tp pairs)`.
fn assign_component(
    comp: &[usize],
    ious: &[(usize, usize, f64)],
    thr: f64,
    n_matched: usize,
) -> (usize, f64) {
    let mut rows: Vec<usize> = comp.iter().map(|&k| ious[k].0).collect();
    let mut cols: Vec<usize> = comp.iter().map(|&k| ious[k].1).collect();
    rows.sort_unstable();
    rows.dedup();
    cols.sort_unstable();
    cols.dedup();
    let transpose = rows.len() > cols.len();
    let (nr, nc) = if transpose {
        (cols.len(), rows.len())
    } else {
        (rows.len(), cols.len())
    };
    // cost matrix nr × nc (nr ≤ nc), StarDist's cost; non-overlapping pairs cost 0
    let mut cost = vec![0.0f64; nr * nc];
    let mut score = vec![0.0f64; nr * nc];
    for &k in comp {
        let (t, p, s) = ious[k];
        let r = rows.binary_search(&t).expect("row of the component");
        let c = cols.binary_search(&p).expect("column of the component");
        let (r, c) = if transpose { (c, r) } else { (r, c) };
        cost[r * nc + c] = -f64::from(u8::from(reaches(s, thr))) - s / (2.0 * n_matched as f64);
        score[r * nc + c] = s;
    }
    let assignment = crate::assign::hungarian(nr, nc, &cost);
    let mut tp = 0;
    let mut sum = 0.0;
    for (r, &c) in assignment.iter().enumerate() {
        let s = score[r * nc + c];
        if reaches(s, thr) && s > 0.0 {
            tp += 1;
            sum += s;
        }
    }
    (tp, sum)
}

// ---------------------------------------------------------------------------------------------
// Reading label images and stacks
// ---------------------------------------------------------------------------------------------

/// Every label frame of `path`: a label TIFF (every page; u8/u16/u32, or i32 ≥ 0), a PNG (8/16-bit
/// gray), or a folder of such files in natural name order.
pub fn read_label_frames(path: &Path) -> Result<Vec<LabelImage>> {
    if path.is_dir() {
        let mut out = Vec::new();
        for f in list_label_files(path)? {
            out.extend(read_label_file(&f, None)?);
        }
        return Ok(out);
    }
    read_label_file(path, None)
}

/// The `.tif`, `.tiff` and `.png` files of the folder `dir` (hidden ones left out) in natural
/// name order; an error when there is none.
fn list_label_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let lower = name.to_ascii_lowercase();
            !name.starts_with('.')
                && (lower.ends_with(".tif") || lower.ends_with(".tiff") || lower.ends_with(".png"))
        })
        .collect();
    files.sort_by(|a, b| crate::io::natural_cmp(&file_name(a), &file_name(b)));
    if files.is_empty() {
        return Err(Error::Read {
            path: dir.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "empty folder: no .tif, .tiff or .png files in it",
            ),
        });
    }
    Ok(files)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned()
}

/// The frames of a label file: every page (`pages` = `None`) or the listed pages (ascending,
/// each once), in ascending order.
fn read_label_file(path: &Path, pages: Option<&[usize]>) -> Result<Vec<LabelImage>> {
    if is_tiff(path)? {
        return read_label_tiff_pages(path, pages);
    }
    if let Some(&page) = pages.and_then(|p| p.iter().find(|&&p| p != 0)) {
        return Err(Error::Decode {
            path: path.to_path_buf(),
            reason: format!("page {page}: the file holds one image"),
        });
    }
    let img = crate::io::read_image(path)?;
    if img.channels != 1 {
        return Err(Error::Unsupported {
            path: path.to_path_buf(),
            reason: format!("a label image must be gray, not {} channels", img.channels),
        });
    }
    let labels = match img.samples {
        crate::Samples::U8(v) => v.into_iter().map(u32::from).collect(),
        crate::Samples::U16(v) => v.into_iter().map(u32::from).collect(),
        crate::Samples::F32(_) => {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                reason: "a label image must hold integers, not floats".into(),
            })
        }
    };
    Ok(vec![LabelImage {
        width: img.width,
        height: img.height,
        labels,
    }])
}

/// The pages of a label TIFF (all, or the listed ones, ascending); pages not listed are
/// skipped without decoding.
fn read_label_tiff_pages(path: &Path, want: Option<&[usize]>) -> Result<Vec<LabelImage>> {
    use tiff::decoder::{Decoder, DecodingResult};
    let file = File::open(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |page: usize, reason: String| Error::Decode {
        path: path.to_path_buf(),
        reason: format!("page {page}: {reason}"),
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut d = Decoder::new(BufReader::new(file)).map_err(|e| bad(0, format!("{e}")))?;
        let mut out = Vec::new();
        let mut page = 0;
        loop {
            if want.is_none_or(|w| w.binary_search(&page).is_ok()) {
                let (w, h) = d.dimensions().map_err(|e| bad(page, format!("{e}")))?;
                let labels: Vec<u32> =
                    match d.read_image().map_err(|e| bad(page, format!("{e}")))? {
                        DecodingResult::U8(v) => v.into_iter().map(u32::from).collect(),
                        DecodingResult::U16(v) => v.into_iter().map(u32::from).collect(),
                        DecodingResult::U32(v) => v,
                        DecodingResult::I32(v) if v.iter().all(|&x| x >= 0) => {
                            v.into_iter().map(|x| x as u32).collect()
                        }
                        _ => {
                            return Err(Error::Unsupported {
                                path: path.to_path_buf(),
                                reason: format!(
                                    "page {page}: a label image must hold non-negative integers"
                                ),
                            })
                        }
                    };
                if labels.len() != w as usize * h as usize {
                    return Err(Error::Unsupported {
                        path: path.to_path_buf(),
                        reason: format!(
                            "page {page}: a label image must have one sample per pixel"
                        ),
                    });
                }
                out.push(LabelImage {
                    width: w as usize,
                    height: h as usize,
                    labels,
                });
            }
            if want.is_some_and(|w| out.len() == w.len()) || !d.more_images() {
                break;
            }
            page += 1;
            d.next_image().map_err(|e| bad(page, format!("{e}")))?;
        }
        if let Some(&missing) = want.and_then(|w| w.get(out.len())) {
            return Err(bad(
                missing,
                format!("the file holds only {}", count(page + 1, "page")),
            ));
        }
        Ok(out)
    }))
    .unwrap_or_else(|_| Err(bad(0, "malformed file (the decoder gave up)".into())))
}

/// How many frames a label file holds: its pages for a TIFF, 1 otherwise.
fn count_pages(path: &Path) -> Result<usize> {
    if !is_tiff(path)? {
        return Ok(1);
    }
    crate::io::labels::count_pages(path)
}

/// Match every frame of `pred` against the same frame of `gt` and sum the statistics over
/// frames (one entry per threshold). (To pair frames by name or pick some frames of a
/// time-lapse, and for per-frame results, see [`evaluate_paths`].)
pub fn evaluate(
    gt: &[LabelImage],
    pred: &[LabelImage],
    thresholds: &[f64],
) -> Result<Vec<Matching>> {
    if gt.len() != pred.len() {
        return Err(Error::BadData(format!(
            "{} ground-truth frames but {} predicted frames",
            gt.len(),
            pred.len()
        )));
    }
    let mut total: Option<Vec<Matching>> = None;
    for (t, (g, p)) in gt.iter().zip(pred).enumerate() {
        let m = matching(g, p, thresholds).map_err(|e| match e {
            Error::BadData(msg) if gt.len() > 1 => Error::BadData(format!("frame {t}: {msg}")),
            other => other,
        })?;
        match &mut total {
            None => total = Some(m),
            Some(acc) => acc.iter_mut().zip(&m).for_each(|(a, b)| a.add(b)),
        }
    }
    total.ok_or_else(|| Error::BadData("no frames to evaluate".into()))
}

// ---------------------------------------------------------------------------------------------
// Sources and pairing: which ground-truth frame is scored against which predicted frame
// ---------------------------------------------------------------------------------------------

/// One file of a [`LabelSource`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelFile {
    pub path: PathBuf,
    /// The file name, as messages and per-frame results show it.
    pub name: String,
    /// The frames it holds: the pages of a TIFF, 1 for a PNG.
    pub pages: usize,
}

impl LabelFile {
    /// The file at `path` holding `pages` frames (named by the last component of `path`;
    /// nothing is read).
    pub fn new(path: impl Into<PathBuf>, pages: usize) -> Self {
        let path = path.into();
        LabelFile {
            name: file_name(&path),
            path,
            pages,
        }
    }

    /// The name without its extension (`mask_0010_deflate.tif` → `mask_0010_deflate`).
    pub fn stem(&self) -> &str {
        match self.name.rsplit_once('.') {
            Some((stem, _)) if !stem.is_empty() => stem,
            _ => &self.name,
        }
    }

    /// The frame number the name carries: the last run of ASCII digits in the stem, leading
    /// zeros ignored (`mask_0010_deflate.tif` → 10, `img_3.png` → 3); `None` when the stem has
    /// no digit (or the number exceeds `u64`).
    pub fn frame_number(&self) -> Option<u64> {
        let stem = self.stem().as_bytes();
        let end = stem.iter().rposition(u8::is_ascii_digit)? + 1;
        let start = stem[..end]
            .iter()
            .rposition(|b| !b.is_ascii_digit())
            .map_or(0, |i| i + 1);
        std::str::from_utf8(&stem[start..end]).ok()?.parse().ok()
    }
}

/// One frame of a [`LabelSource`]: page `page` of file `file` (an index into
/// [`LabelSource::files`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameRef {
    pub file: usize,
    pub page: usize,
}

/// One side of an evaluation (GT or PRED): a label file, every page a frame, or a folder of
/// label files (`.tif`, `.tiff`, `.png`), their frames file after file in natural name order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSource {
    /// The path as given.
    pub path: PathBuf,
    /// Whether `path` is a folder.
    pub folder: bool,
    /// Its files (one for a file; in natural name order for a folder).
    pub files: Vec<LabelFile>,
}

impl LabelSource {
    /// List `path` (a label file or a folder of them) and count each file's pages; nothing is
    /// decoded until [`read`](Self::read).
    pub fn open(path: &Path) -> Result<LabelSource> {
        let folder = path.is_dir();
        let paths = if folder {
            list_label_files(path)?
        } else {
            vec![path.to_path_buf()]
        };
        let files = paths
            .into_iter()
            .map(|p| Ok(LabelFile::new(&p, count_pages(&p)?)))
            .collect::<Result<_>>()?;
        Ok(LabelSource {
            path: path.to_path_buf(),
            folder,
            files,
        })
    }

    /// How many frames it holds (all pages of all files).
    pub fn len(&self) -> usize {
        self.files.iter().map(|f| f.pages).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every frame in order: the pages of each file, file after file.
    pub fn frames(&self) -> Vec<FrameRef> {
        (self.files.iter().enumerate())
            .flat_map(|(file, f)| (0..f.pages).map(move |page| FrameRef { file, page }))
            .collect()
    }

    /// A frame's name in messages and results: the file name, with `:PAGE` for a page of a
    /// multi-page file (`labels.tif:10`).
    pub fn name(&self, frame: FrameRef) -> String {
        let f = &self.files[frame.file];
        if f.pages == 1 {
            f.name.clone()
        } else {
            format!("{}:{}", f.name, frame.page)
        }
    }

    /// The frame numbers of a folder's files ([`LabelFile::frame_number`]), file by file, when
    /// it is a folder whose every file holds one frame and carries a number, no two the same;
    /// `None` otherwise.
    pub fn frame_numbers(&self) -> Option<Vec<u64>> {
        if !self.folder || self.files.iter().any(|f| f.pages != 1) {
            return None;
        }
        let numbers: Vec<u64> = self
            .files
            .iter()
            .map(LabelFile::frame_number)
            .collect::<Option<_>>()?;
        let mut sorted = numbers.clone();
        sorted.sort_unstable();
        sorted.dedup();
        (sorted.len() == numbers.len()).then_some(numbers)
    }

    /// Decode the given frames (in the order given); each file is opened once, and pages not
    /// asked for are not decoded.
    pub fn read(&self, frames: &[FrameRef]) -> Result<Vec<LabelImage>> {
        let mut by_file: Vec<Vec<usize>> = vec![Vec::new(); self.files.len()];
        for r in frames {
            by_file
                .get_mut(r.file)
                .filter(|_| r.page < self.files[r.file].pages)
                .ok_or_else(|| {
                    Error::BadData(format!(
                        "{}: no frame {r:?} (it holds {} files)",
                        self.path.display(),
                        self.files.len()
                    ))
                })?
                .push(r.page);
        }
        let mut decoded: HashMap<FrameRef, LabelImage> = HashMap::new();
        for (file, pages) in by_file.iter_mut().enumerate() {
            if pages.is_empty() {
                continue;
            }
            pages.sort_unstable();
            pages.dedup();
            let images = read_label_file(&self.files[file].path, Some(pages))?;
            for (&page, image) in pages.iter().zip(images) {
                decoded.insert(FrameRef { file, page }, image);
            }
        }
        // move each image out at its last use, clone it for earlier ones
        let mut out = Vec::with_capacity(frames.len());
        for (i, r) in frames.iter().enumerate() {
            if frames[i + 1..].contains(r) {
                out.push(decoded[r].clone());
            } else {
                out.push(decoded.remove(r).expect("decoded above"));
            }
        }
        Ok(out)
    }
}

/// How the frames of GT and PRED were paired ([`pair_frames`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PairingRule {
    /// Frame for frame in order: files or stacks of as many frames (not two folders).
    Position,
    /// Two folders: files of identical stems (the name without extension).
    FileName,
    /// Two folders: files whose names carry the same frame number
    /// ([`LabelFile::frame_number`]).
    FrameNumber,
    /// A list of time-lapse frames (`--frames`), and how each side's frames were picked.
    Frames {
        list: Vec<u64>,
        gt: Pick,
        pred: Pick,
    },
}

/// How [`pair_frames`] picked one side's frames for a list of frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// The side holds as many frames as the list: they are the listed frames, in order.
    InOrder,
    /// The side holds more: frame `i` is its page `i` (a stack), or its `i`-th frame in natural
    /// name order counted from 0 (a folder whose names carry no unique frame numbers).
    ByIndex,
    /// A folder whose file names carry frame numbers: frame `i` is the file numbered `i`.
    ByNumber,
}

impl std::fmt::Display for Pick {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Pick::InOrder => "in order",
            Pick::ByIndex => "by index",
            Pick::ByNumber => "by frame number",
        })
    }
}

/// One ground-truth frame and the predicted frame it is scored against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramePair {
    /// The frame's index in the time-lapse: the `--frames` entry; otherwise the frame number in
    /// GT's file name when GT is a folder of one-frame files whose names all carry distinct
    /// numbers; otherwise the GT frame's position, counted from 0.
    pub frame: u64,
    pub gt: FrameRef,
    pub pred: FrameRef,
    /// [`LabelSource::name`] of each.
    pub gt_name: String,
    pub pred_name: String,
}

/// Which frames are scored against which ([`pair_frames`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pairing {
    pub rule: PairingRule,
    /// In GT order (or the order of the `--frames` list).
    pub pairs: Vec<FramePair>,
    /// How many frames PRED holds; those in no pair are not scored.
    pub pred_frames: usize,
}

impl Pairing {
    /// One line saying which rule paired which frames (at most four pairs shown) and, when
    /// some PRED frames are not scored, how many are:
    /// `paired 2 frames by frame number: mask_0000.tif ↔ img_0000.tif, mask_0010.tif ↔
    /// img_0010.tif; 2 of 31 predicted frames scored`. `None` for one frame against one.
    pub fn note(&self) -> Option<String> {
        let n = self.pairs.len();
        if self.rule == PairingRule::Position && n == 1 && self.pred_frames == 1 {
            return None;
        }
        let how = match &self.rule {
            PairingRule::Position => "by position".to_string(),
            PairingRule::FileName => "by file name".to_string(),
            PairingRule::FrameNumber => "by frame number".to_string(),
            PairingRule::Frames { list, gt, pred } => {
                format!("by --frames {} (GT {gt}, PRED {pred})", compact_list(list))
            }
        };
        let shown: Vec<String> = (self.pairs.iter())
            .map(|p| format!("{} ↔ {}", p.gt_name, p.pred_name))
            .collect();
        let list = if n > 4 {
            format!(
                "{}, … {} more …, {}",
                shown[..3].join(", "),
                n - 4,
                shown[n - 1]
            )
        } else {
            shown.join(", ")
        };
        let mut s = format!("paired {} {how}: {list}", count(n, "frame"));
        if n < self.pred_frames {
            s += &format!("; {n} of {} predicted frames scored", self.pred_frames);
        }
        Some(s)
    }
}

/// `1 frame`, `31 frames`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// `GT (path)` / `PRED (path)` in messages.
fn side(label: &str, s: &LabelSource) -> String {
    format!("{label} ({})", s.path.display())
}

/// Names joined by commas, the first five and how many more.
fn list_names<S: AsRef<str>>(names: &[S]) -> String {
    let shown: Vec<&str> = names.iter().take(5).map(AsRef::as_ref).collect();
    let mut s = shown.join(", ");
    if names.len() > 5 {
        s += &format!(" and {} more", names.len() - 5);
    }
    s
}

/// Pair the frames of `gt` with frames of `pred`.
///
/// - With `frames` (`--frames`: time-lapse frame indices, distinct): GT and PRED are each
///   taken as those frames ([`Pick`]): a folder whose files all hold one frame and carry
///   distinct frame numbers in their names by those numbers (every listed frame must be
///   there); otherwise a side with as many frames as the list in order; otherwise a side with
///   more frames by index (page of a stack, position in a folder); a side with fewer frames,
///   or an index past its end, is an error (`Error::Parameter`).
/// - Without, two folders are paired by name: every GT file with the PRED file of the same
///   stem; failing that, every GT file with the PRED file whose name carries the same frame
///   number (the last run of digits), GT's numbers being distinct and the PRED file of each
///   unique. Paired files hold as many pages, paired page for page. PRED files without GT are
///   not scored (sparse annotation); a GT file without PRED, or names that cannot be paired, is
///   an error that names them (`Error::BadData`).
/// - Otherwise (a file on either side) frames are paired in order, and GT and PRED must hold
///   as many; if not, the error suggests `--frames` (with the exact list when GT's file names
///   carry frame numbers).
pub fn pair_frames(
    gt: &LabelSource,
    pred: &LabelSource,
    frames: Option<&[u64]>,
) -> Result<Pairing> {
    let (rule, pairs) = match frames {
        Some(list) => pair_by_list(gt, pred, list)?,
        None if gt.folder && pred.folder => pair_by_name(gt, pred)?,
        None => pair_by_position(gt, pred)?,
    };
    Ok(Pairing {
        rule,
        pairs,
        pred_frames: pred.len(),
    })
}

fn make_pair(
    gt: &LabelSource,
    pred: &LabelSource,
    frame: u64,
    g: FrameRef,
    p: FrameRef,
) -> FramePair {
    FramePair {
        frame,
        gt: g,
        pred: p,
        gt_name: gt.name(g),
        pred_name: pred.name(p),
    }
}

/// The frame index of each GT frame when no list gives it ([`FramePair::frame`]).
fn gt_frame_indices(gt: &LabelSource) -> Vec<u64> {
    gt.frame_numbers()
        .unwrap_or_else(|| (0..gt.len() as u64).collect())
}

fn pair_by_position(gt: &LabelSource, pred: &LabelSource) -> Result<(PairingRule, Vec<FramePair>)> {
    let (g, p) = (gt.frames(), pred.frames());
    if g.len() != p.len() {
        let numbers = gt.frame_numbers().or_else(|| {
            // one file of one frame whose name carries a number
            (gt.files.len() == 1 && gt.files[0].pages == 1)
                .then(|| gt.files[0].frame_number().map(|n| vec![n]))
                .flatten()
        });
        let hint = match numbers {
            Some(mut numbers) if g.len() < p.len() => {
                numbers.sort_unstable();
                format!(
                    "GT's file names carry frame numbers: add --frames {} to score those frames \
                     of PRED",
                    compact_list(&numbers)
                )
            }
            _ if g.len() < p.len() => "to score only the frames GT annotates, list them with \
                                       --frames (e.g. --frames 0,10 or 0:30:10)"
                .to_string(),
            _ => "to score some frames only, list them with --frames (e.g. --frames 0,10 or \
                  0:30:10)"
                .to_string(),
        };
        return Err(Error::BadData(format!(
            "{} has {} but {} has {}; {hint}",
            side("GT", gt),
            count(g.len(), "frame"),
            side("PRED", pred),
            count(p.len(), "frame"),
        )));
    }
    let pairs = (gt_frame_indices(gt).into_iter().zip(g).zip(p))
        .map(|((frame, g), p)| make_pair(gt, pred, frame, g, p))
        .collect();
    Ok((PairingRule::Position, pairs))
}

fn pair_by_name(gt: &LabelSource, pred: &LabelSource) -> Result<(PairingRule, Vec<FramePair>)> {
    let (rule, files) = match match_by_stem(gt, pred) {
        Ok(files) => (PairingRule::FileName, files),
        Err(stem_problems) => match match_by_number(gt, pred) {
            Ok(files) => (PairingRule::FrameNumber, files),
            Err(NumberProblem::OnlyMissing(missing)) if stem_problems.only_missing => {
                let mut numbers: Vec<u64> = (pred.files.iter())
                    .filter_map(LabelFile::frame_number)
                    .collect();
                numbers.sort_unstable();
                numbers.dedup();
                let carry = if numbers.is_empty() {
                    "none carries a frame number".to_string()
                } else {
                    format!("the frame numbers there: {}", compact_list(&numbers))
                };
                return Err(Error::BadData(format!(
                    "no predicted frame for ground-truth {}: {} has no file of the same stem or \
                     frame number ({carry})",
                    list_names(&missing),
                    side("PRED", pred)
                )));
            }
            Err(number_problem) => {
                return Err(Error::BadData(format!(
                    "cannot pair the files of {} with those of {} by name: by file stem, {}; by \
                     frame number (the last digits of the name), {}",
                    side("GT", gt),
                    side("PRED", pred),
                    stem_problems.problems.join(", "),
                    number_problem.describe(),
                )))
            }
        },
    };
    let numbers = gt.frame_numbers();
    let mut pairs = Vec::new();
    for (g, p) in files {
        let (gf, pf) = (&gt.files[g], &pred.files[p]);
        if gf.pages != pf.pages {
            return Err(Error::BadData(format!(
                "ground-truth {} holds {} but its prediction {} holds {}",
                gf.name,
                count(gf.pages, "page"),
                pf.name,
                count(pf.pages, "page")
            )));
        }
        for page in 0..gf.pages {
            let frame = match &numbers {
                Some(n) => n[g],
                None => pairs.len() as u64,
            };
            let (g, p) = (FrameRef { file: g, page }, FrameRef { file: p, page });
            pairs.push(make_pair(gt, pred, frame, g, p));
        }
    }
    Ok((rule, pairs))
}

/// Why files could not be paired by stem.
struct StemProblems {
    /// Each described.
    problems: Vec<String>,
    /// Whether the only problem is GT files without a PRED file of their stem.
    only_missing: bool,
}

/// Every GT file with the PRED file of the same stem (`(gt file, pred file)`), or why not.
fn match_by_stem(
    gt: &LabelSource,
    pred: &LabelSource,
) -> std::result::Result<Vec<(usize, usize)>, StemProblems> {
    let mut pred_by_stem: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in pred.files.iter().enumerate() {
        pred_by_stem.entry(f.stem()).or_default().push(i);
    }
    let mut gt_by_stem: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in gt.files.iter().enumerate() {
        gt_by_stem.entry(f.stem()).or_default().push(i);
    }
    let mut problems = Vec::new();
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for (g, f) in gt.files.iter().enumerate() {
        let same_gt = &gt_by_stem[f.stem()];
        if same_gt.len() > 1 {
            if same_gt[0] == g {
                let names: Vec<&str> = (same_gt.iter())
                    .map(|&i| gt.files[i].name.as_str())
                    .collect();
                problems.push(format!("GT files {} share a stem", list_names(&names)));
            }
            continue;
        }
        match pred_by_stem.get(f.stem()).map(Vec::as_slice) {
            Some(&[p]) => out.push((g, p)),
            Some(many) => {
                let names: Vec<&str> = (many.iter())
                    .map(|&i| pred.files[i].name.as_str())
                    .collect();
                problems.push(format!(
                    "PRED files {} share the stem of {}",
                    list_names(&names),
                    f.name
                ));
            }
            None => missing.push(f.name.as_str()),
        }
    }
    if problems.is_empty() && missing.is_empty() {
        return Ok(out);
    }
    let only_missing = problems.is_empty();
    if !missing.is_empty() {
        problems.push(format!(
            "no PRED file has the stem of {}",
            list_names(&missing)
        ));
    }
    Err(StemProblems {
        problems,
        only_missing,
    })
}

enum NumberProblem {
    /// Only these GT files (named) have no PRED file of their number.
    OnlyMissing(Vec<String>),
    /// Anything else, described.
    Other(Vec<String>),
}

impl NumberProblem {
    fn describe(self) -> String {
        match self {
            NumberProblem::OnlyMissing(missing) => {
                format!(
                    "no PRED file carries the number of {}",
                    list_names(&missing)
                )
            }
            NumberProblem::Other(problems) => problems.join(", "),
        }
    }
}

fn match_by_number(
    gt: &LabelSource,
    pred: &LabelSource,
) -> std::result::Result<Vec<(usize, usize)>, NumberProblem> {
    let mut pred_by_number: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, f) in pred.files.iter().enumerate() {
        if let Some(n) = f.frame_number() {
            pred_by_number.entry(n).or_default().push(i);
        }
    }
    let mut gt_by_number: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut no_number = Vec::new();
    for (i, f) in gt.files.iter().enumerate() {
        match f.frame_number() {
            Some(n) => gt_by_number.entry(n).or_default().push(i),
            None => no_number.push(f.name.as_str()),
        }
    }
    let mut problems = Vec::new();
    if !no_number.is_empty() {
        problems.push(format!(
            "GT files {} carry no number",
            list_names(&no_number)
        ));
    }
    let mut missing = Vec::new();
    let mut out = Vec::new();
    for (g, f) in gt.files.iter().enumerate() {
        let Some(n) = f.frame_number() else { continue };
        let same_gt = &gt_by_number[&n];
        if same_gt.len() > 1 {
            if same_gt[0] == g {
                let names: Vec<&str> = same_gt.iter().map(|&i| gt.files[i].name.as_str()).collect();
                problems.push(format!("GT files {} all carry {n}", list_names(&names)));
            }
            continue;
        }
        match pred_by_number.get(&n).map(Vec::as_slice) {
            Some(&[p]) => out.push((g, p)),
            Some(many) => {
                let names: Vec<&str> = many.iter().map(|&i| pred.files[i].name.as_str()).collect();
                problems.push(format!(
                    "PRED files {} all carry {n} ({})",
                    list_names(&names),
                    f.name
                ));
            }
            None => missing.push(f.name.clone()),
        }
    }
    match (problems.is_empty(), missing.is_empty()) {
        (true, true) => Ok(out),
        (true, false) => Err(NumberProblem::OnlyMissing(missing)),
        (false, _) => {
            if !missing.is_empty() {
                problems.push(format!(
                    "no PRED file carries the number of {}",
                    list_names(&missing)
                ));
            }
            Err(NumberProblem::Other(problems))
        }
    }
}

fn pair_by_list(
    gt: &LabelSource,
    pred: &LabelSource,
    list: &[u64],
) -> Result<(PairingRule, Vec<FramePair>)> {
    check_frame_list(list)?;
    let (gt_pick, g) = pick_frames("GT", gt, list)?;
    let (pred_pick, p) = pick_frames("PRED", pred, list)?;
    let pairs = (list.iter().zip(g).zip(p))
        .map(|((&frame, g), p)| make_pair(gt, pred, frame, g, p))
        .collect();
    let rule = PairingRule::Frames {
        list: list.to_vec(),
        gt: gt_pick,
        pred: pred_pick,
    };
    Ok((rule, pairs))
}

fn check_frame_list(list: &[u64]) -> Result<()> {
    if list.is_empty() {
        return Err(Error::param("--frames", "the list of frames is empty"));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(f) = list.iter().find(|&&f| !seen.insert(f)) {
        return Err(Error::param(
            "--frames",
            format!("frame {f} is listed twice"),
        ));
    }
    Ok(())
}

/// The frames of one side that stand for the listed time-lapse frames ([`Pick`]).
fn pick_frames(label: &str, s: &LabelSource, list: &[u64]) -> Result<(Pick, Vec<FrameRef>)> {
    if let Some(numbers) = s.frame_numbers() {
        let by_number: HashMap<u64, usize> =
            numbers.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        let missing: Vec<u64> = (list.iter().copied())
            .filter(|f| !by_number.contains_key(f))
            .collect();
        if !missing.is_empty() {
            let mut numbers = numbers;
            numbers.sort_unstable();
            return Err(Error::param(
                "--frames",
                format!(
                    "{} has no file{} numbered {} (its file names carry the frame numbers {}, \
                     and a folder of numbered files is picked by those numbers)",
                    side(label, s),
                    if missing.len() == 1 { "" } else { "s" },
                    compact_list(&missing),
                    compact_list(&numbers)
                ),
            ));
        }
        let refs = (list.iter())
            .map(|f| FrameRef {
                file: by_number[f],
                page: 0,
            })
            .collect();
        return Ok((Pick::ByNumber, refs));
    }
    let all = s.frames();
    if all.len() == list.len() {
        return Ok((Pick::InOrder, all));
    }
    if all.len() < list.len() {
        return Err(Error::param(
            "--frames",
            format!(
                "it lists {} but {} holds only {}",
                count(list.len(), "frame"),
                side(label, s),
                count(all.len(), "frame")
            ),
        ));
    }
    let outside: Vec<u64> = (list.iter().copied())
        .filter(|&f| f >= all.len() as u64)
        .collect();
    if !outside.is_empty() {
        return Err(Error::param(
            "--frames",
            format!(
                "{} out of range: {} holds {} (0 to {})",
                compact_list(&outside),
                side(label, s),
                count(all.len(), "frame"),
                all.len() - 1
            ),
        ));
    }
    Ok((
        Pick::ByIndex,
        list.iter().map(|&f| all[f as usize]).collect(),
    ))
}

/// Parse a `--frames` list: frame indices and inclusive ranges `START:END[:STEP]`,
/// comma-separated (`0,10`, `0:30:10` = 0, 10, 20, 30), in the order written, each frame at
/// most once.
pub fn parse_frame_list(text: &str) -> Result<Vec<u64>> {
    let bad = |part: &str| {
        Error::param(
            "--frames",
            format!("{part:?} is not a frame index (0, 1, …) or a range START:END[:STEP]"),
        )
    };
    let mut out = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let nums = (part.split(':'))
            .map(|s| s.trim().parse::<u64>().map_err(|_| bad(part)))
            .collect::<Result<Vec<u64>>>()?;
        match nums[..] {
            [f] => out.push(f),
            [a, b] | [a, b, _] => {
                let step = nums.get(2).copied().unwrap_or(1);
                if step == 0 || b < a {
                    return Err(Error::param(
                        "--frames",
                        format!("{part:?}: a range needs START <= END and a STEP of at least 1"),
                    ));
                }
                let n = (b - a) / step + 1;
                if out.len() as u64 + n > 1_000_000 {
                    return Err(Error::param("--frames", "lists more than 1000000 frames"));
                }
                out.extend((0..n).map(|i| a + i * step));
            }
            _ => return Err(bad(part)),
        }
    }
    check_frame_list(&out)?;
    Ok(out)
}

/// Write frame indices as [`parse_frame_list`] reads them, runs of three or more ascending by
/// the same step as ranges: `[0, 10]` → `0,10`, `[0, 10, 20, 30]` → `0:30:10`,
/// `[0, 1, 2, 5]` → `0:2,5`.
pub fn compact_list(frames: &[u64]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        let a = frames[i];
        let mut j = i;
        if i + 2 < frames.len() && frames[i + 1] > a {
            let step = frames[i + 1] - a;
            while j + 1 < frames.len()
                && frames[j + 1] > frames[j]
                && frames[j + 1] - frames[j] == step
            {
                j += 1;
            }
            if j >= i + 2 {
                let b = frames[j];
                parts.push(if step == 1 {
                    format!("{a}:{b}")
                } else {
                    format!("{a}:{b}:{step}")
                });
                i = j + 1;
                continue;
            }
        }
        parts.push(a.to_string());
        i += 1;
    }
    parts.join(",")
}

// ---------------------------------------------------------------------------------------------
// Per-frame results
// ---------------------------------------------------------------------------------------------

/// Something worth a remark that does not stop the evaluation (the CLI prints each as
/// `floodseg: warning: …`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A ground-truth frame holds no object: every predicted object in it counts as a false
    /// positive, and its own precision, recall and F1 are 0 (StarDist's 0/0 = 0).
    EmptyGroundTruth {
        frame: u64,
        name: String,
        n_pred: usize,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::EmptyGroundTruth {
                frame,
                name,
                n_pred,
            } => {
                write!(f, "ground-truth frame {frame} ({name}) holds no object; ")?;
                if *n_pred == 0 {
                    write!(
                        f,
                        "nor does its prediction, so it adds nothing to the totals"
                    )?;
                } else {
                    write!(
                        f,
                        "its {} count as false positives",
                        count(*n_pred, "predicted object")
                    )?;
                }
                write!(
                    f,
                    ", and its own precision, recall and F1 are 0 (is the frame annotated?)"
                )
            }
        }
    }
}

/// The scores of one frame pair.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameScore {
    /// [`FramePair::frame`].
    pub frame: u64,
    /// The ground-truth frame's name ([`LabelSource::name`]).
    pub name: String,
    /// The predicted frame's name.
    pub pred_name: String,
    /// One entry per IoU threshold.
    pub matching: Vec<Matching>,
}

impl FrameScore {
    /// One JSON object per threshold: `frame`, `name` (GT) and `pred_name`, then the keys of
    /// [`Matching::to_json`].
    pub fn to_json(&self) -> Vec<String> {
        (self.matching.iter())
            .map(|m| {
                format!(
                    "{{\"frame\":{},\"name\":{},\"pred_name\":{},{}",
                    self.frame,
                    json_string(&self.name),
                    json_string(&self.pred_name),
                    &m.to_json()[1..]
                )
            })
            .collect()
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The result of [`evaluate_paths`] / [`evaluate_sources`] / [`evaluate_pairs`]: the pairing,
/// the statistics summed over the scored frames (as [`evaluate`] gives them), each frame's, and
/// the warnings.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub pairing: Pairing,
    /// One entry per threshold, summed over frames (StarDist's `matching_dataset(...,
    /// by_image=False)`).
    pub summary: Vec<Matching>,
    /// One entry per scored frame, in the order of `pairing.pairs`; their counts sum to
    /// `summary`.
    pub frames: Vec<FrameScore>,
    pub warnings: Vec<Warning>,
}

impl Evaluation {
    /// The table `floodseg eval` prints: a line of counts, one row per threshold, and with
    /// `per_frame` a table of every frame's scores after it.
    pub fn to_text(&self, per_frame: bool) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let n = self.frames.len();
        let first = &self.summary[0];
        let _ = write!(
            s,
            "{}, {} ground-truth and {} predicted objects",
            count(n, "frame"),
            first.n_true,
            first.n_pred
        );
        if n < self.pairing.pred_frames {
            let _ = write!(
                s,
                " ({n} of {} predicted frames scored)",
                self.pairing.pred_frames
            );
        }
        s.push('\n');
        s.push_str("  iou     tp     fp     fn  precision  recall     f1  mean_iou     pq\n");
        for m in &self.summary {
            let _ = writeln!(
                s,
                "{:>5.2} {:>6} {:>6} {:>6} {:>10.4} {:>7.4} {:>6.4} {:>9.4} {:>6.4}",
                m.iou,
                m.tp,
                m.fp,
                m.fn_,
                m.precision(),
                m.recall(),
                m.f1(),
                m.mean_matched_iou(),
                m.panoptic_quality()
            );
        }
        if per_frame {
            let w = (self.frames.iter())
                .map(|f| f.name.chars().count())
                .max()
                .unwrap_or(0)
                .max(4);
            let _ = writeln!(
                s,
                "\nper frame:\n{:>5}  {:<w$} {:>6} {:>6} {:>5} {:>6} {:>6} {:>6} {:>10} {:>7} \
                 {:>6} {:>9} {:>6}",
                "frame",
                "name",
                "n_true",
                "n_pred",
                "iou",
                "tp",
                "fp",
                "fn",
                "precision",
                "recall",
                "f1",
                "mean_iou",
                "pq"
            );
            for f in &self.frames {
                for (k, m) in f.matching.iter().enumerate() {
                    let (frame, name, n_true, n_pred) = if k == 0 {
                        (
                            f.frame.to_string(),
                            f.name.as_str(),
                            m.n_true.to_string(),
                            m.n_pred.to_string(),
                        )
                    } else {
                        Default::default()
                    };
                    let _ = writeln!(
                        s,
                        "{frame:>5}  {name:<w$} {n_true:>6} {n_pred:>6} {:>5.2} {:>6} {:>6} \
                         {:>6} {:>10.4} {:>7.4} {:>6.4} {:>9.4} {:>6.4}",
                        m.iou,
                        m.tp,
                        m.fp,
                        m.fn_,
                        m.precision(),
                        m.recall(),
                        m.f1(),
                        m.mean_matched_iou(),
                        m.panoptic_quality()
                    );
                }
            }
        }
        s
    }

    /// `floodseg eval --json`: one [`Matching::to_json`] object per threshold per line (the
    /// summary), and with `per_frame` then one [`FrameScore::to_json`] object per frame per
    /// threshold.
    pub fn to_json_lines(&self, per_frame: bool) -> String {
        let mut s = String::new();
        for m in &self.summary {
            s += &m.to_json();
            s.push('\n');
        }
        if per_frame {
            for line in self.frames.iter().flat_map(FrameScore::to_json) {
                s += &line;
                s.push('\n');
            }
        }
        s
    }
}

/// Score paired frames held in memory: `gt[i]` and `pred[i]` are the frames of
/// `pairing.pairs[i]` (at least one pair, at least one threshold).
pub fn evaluate_pairs(
    pairing: Pairing,
    gt: &[LabelImage],
    pred: &[LabelImage],
    thresholds: &[f64],
) -> Result<Evaluation> {
    if thresholds.is_empty() {
        return Err(Error::param("--iou", "no IoU threshold"));
    }
    if pairing.pairs.is_empty() {
        return Err(Error::BadData("no frames to evaluate".into()));
    }
    if gt.len() != pairing.pairs.len() || pred.len() != pairing.pairs.len() {
        return Err(Error::BadData(format!(
            "{} frame pairs but {} ground-truth and {} predicted frames",
            pairing.pairs.len(),
            gt.len(),
            pred.len()
        )));
    }
    let named = pairing.note().is_some();
    let mut summary: Option<Vec<Matching>> = None;
    let mut frames = Vec::with_capacity(gt.len());
    let mut warnings = Vec::new();
    for ((pair, g), p) in pairing.pairs.iter().zip(gt).zip(pred) {
        let m = matching(g, p, thresholds).map_err(|e| match e {
            Error::BadData(msg) if named => Error::BadData(format!(
                "frame {} ({} ↔ {}): {msg}",
                pair.frame, pair.gt_name, pair.pred_name
            )),
            other => other,
        })?;
        if m[0].n_true == 0 {
            warnings.push(Warning::EmptyGroundTruth {
                frame: pair.frame,
                name: pair.gt_name.clone(),
                n_pred: m[0].n_pred,
            });
        }
        match &mut summary {
            None => summary = Some(m.clone()),
            Some(acc) => acc.iter_mut().zip(&m).for_each(|(a, b)| a.add(b)),
        }
        frames.push(FrameScore {
            frame: pair.frame,
            name: pair.gt_name.clone(),
            pred_name: pair.pred_name.clone(),
            matching: m,
        });
    }
    Ok(Evaluation {
        pairing,
        summary: summary.expect("at least one pair"),
        frames,
        warnings,
    })
}

/// Read the paired frames of `gt` and `pred` (only those) and score them ([`evaluate_pairs`]).
pub fn evaluate_sources(
    gt: &LabelSource,
    pred: &LabelSource,
    pairing: Pairing,
    thresholds: &[f64],
) -> Result<Evaluation> {
    let g: Vec<FrameRef> = pairing.pairs.iter().map(|p| p.gt).collect();
    let p: Vec<FrameRef> = pairing.pairs.iter().map(|p| p.pred).collect();
    let g = gt.read(&g)?;
    let p = pred.read(&p)?;
    evaluate_pairs(pairing, &g, &p, thresholds)
}

/// Everything `floodseg eval --gt GT --pred PRED [--frames LIST]` does: open both
/// ([`LabelSource::open`]), pair their frames ([`pair_frames`]), read the paired frames and
/// score them at each threshold, frame by frame and summed.
pub fn evaluate_paths(
    gt: &Path,
    pred: &Path,
    frames: Option<&[u64]>,
    thresholds: &[f64],
) -> Result<Evaluation> {
    let gt = LabelSource::open(gt)?;
    let pred = LabelSource::open(pred)?;
    let pairing = pair_frames(&gt, &pred, frames)?;
    evaluate_sources(&gt, &pred, pairing, thresholds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(w: usize, h: usize, labels: &[u32]) -> LabelImage {
        LabelImage {
            width: w,
            height: h,
            labels: labels.to_vec(),
        }
    }

    #[test]
    fn identical_images_match_perfectly() {
        let a = img(4, 2, &[1, 1, 0, 2, 1, 0, 0, 2]);
        let m = &matching(&a, &a, &[0.5]).unwrap()[0];
        assert_eq!((m.tp, m.fp, m.fn_), (2, 0, 0));
        assert_eq!(m.f1(), 1.0);
        assert_eq!(m.mean_matched_iou(), 1.0);
        assert_eq!(m.panoptic_quality(), 1.0);
    }

    #[test]
    fn empty_sides_give_zeros_not_nan() {
        let a = img(2, 1, &[0, 0]);
        let b = img(2, 1, &[3, 0]);
        let m = &matching(&a, &b, &[0.5]).unwrap()[0];
        assert_eq!((m.tp, m.fp, m.fn_), (0, 1, 0));
        assert_eq!((m.precision(), m.recall(), m.f1()), (0.0, 0.0, 0.0));
        assert_eq!(m.mean_matched_iou(), 0.0);
    }

    /// A source of one-frame files (or `name:pages`) without files on disk.
    fn source(folder: bool, names: &[&str]) -> LabelSource {
        let files = (names.iter())
            .map(|n| match n.split_once(':') {
                Some((n, pages)) => LabelFile::new(n, pages.parse().unwrap()),
                None => LabelFile::new(n, 1),
            })
            .collect();
        LabelSource {
            path: PathBuf::from(if folder {
                "dir"
            } else {
                names[0].split(':').next().unwrap()
            }),
            folder,
            files,
        }
    }

    /// `(frame, gt name, pred name)` of every pair.
    fn pairs(p: &Pairing) -> Vec<(u64, &str, &str)> {
        (p.pairs.iter())
            .map(|p| (p.frame, p.gt_name.as_str(), p.pred_name.as_str()))
            .collect()
    }

    fn message(e: Error) -> (i32, String) {
        (e.exit_code(), e.to_string())
    }

    #[test]
    fn frame_numbers_are_the_last_digits_of_the_stem() {
        let n = |name: &str| LabelFile::new(name, 1).frame_number();
        assert_eq!(n("mask_0010_deflate.tif"), Some(10));
        assert_eq!(n("t2_img_007.png"), Some(7));
        assert_eq!(n("img_0000.tif"), Some(0));
        assert_eq!(n("cells.tif"), None);
        assert_eq!(n("99999999999999999999999.tif"), None);
        assert_eq!(LabelFile::new("a.b.tif", 1).stem(), "a.b");
    }

    #[test]
    fn same_stems_pair_by_file_name_whatever_the_order_and_extension() {
        let gt = source(true, &["b.png", "d.tif"]);
        let pred = source(true, &["a.tif", "b.tif", "c.tif", "d.tif"]);
        let p = pair_frames(&gt, &pred, None).unwrap();
        assert_eq!(p.rule, PairingRule::FileName);
        assert_eq!(pairs(&p), [(0, "b.png", "b.tif"), (1, "d.tif", "d.tif")]);
        assert_eq!(p.pred_frames, 4);
        assert_eq!(
            p.note().unwrap(),
            "paired 2 frames by file name: b.png ↔ b.tif, d.tif ↔ d.tif; 2 of 4 predicted \
             frames scored"
        );
    }

    #[test]
    fn numbered_stems_pair_by_frame_number() {
        // natural order would pair mask_0000 with b_0010
        let gt = source(true, &["mask_0000_deflate.tif", "mask_0010_deflate.tif"]);
        let pred = source(true, &["a_0010.tif", "b_0000.tif", "c_0005.tif"]);
        let p = pair_frames(&gt, &pred, None).unwrap();
        assert_eq!(p.rule, PairingRule::FrameNumber);
        assert_eq!(
            pairs(&p),
            [
                (0, "mask_0000_deflate.tif", "b_0000.tif"),
                (10, "mask_0010_deflate.tif", "a_0010.tif")
            ]
        );
        assert_eq!(
            p.note().unwrap(),
            "paired 2 frames by frame number: mask_0000_deflate.tif ↔ b_0000.tif, \
             mask_0010_deflate.tif ↔ a_0010.tif; 2 of 3 predicted frames scored"
        );
        // identical stems win over numbers, and frame indices come from GT's numbers
        let gt = source(true, &["x_3.tif", "y_4.tif"]);
        let pred = source(true, &["x_3.tif", "y_4.tif", "z_3.tif"]);
        let p = pair_frames(&gt, &pred, None).unwrap();
        assert_eq!(p.rule, PairingRule::FileName);
        assert_eq!(
            pairs(&p),
            [(3, "x_3.tif", "x_3.tif"), (4, "y_4.tif", "y_4.tif")]
        );
    }

    #[test]
    fn ambiguous_numbers_are_an_error_naming_the_files() {
        let gt = source(true, &["a_1.tif", "b_1.tif"]);
        let pred = source(true, &["img_1.tif", "img_2.tif"]);
        let (code, msg) = message(pair_frames(&gt, &pred, None).unwrap_err());
        assert_eq!(code, 3);
        assert!(
            msg.contains("GT files a_1.tif, b_1.tif all carry 1"),
            "{msg}"
        );
        assert!(
            msg.contains("no PRED file has the stem of a_1.tif, b_1.tif"),
            "{msg}"
        );

        let gt = source(true, &["mask_1.tif", "mask_2.tif"]);
        let pred = source(true, &["img_1.tif", "img_01.tif", "img_2.tif"]);
        let (code, msg) = message(pair_frames(&gt, &pred, None).unwrap_err());
        assert_eq!(code, 3);
        assert!(
            msg.contains("PRED files img_1.tif, img_01.tif all carry 1 (mask_1.tif)"),
            "{msg}"
        );
        // a duplicate number no GT file needs is harmless
        let pred = source(true, &["img_1.tif", "img_2.tif", "img_3.tif", "img_03.tif"]);
        let p = pair_frames(&gt, &pred, None).unwrap();
        assert_eq!(
            pairs(&p),
            [
                (1, "mask_1.tif", "img_1.tif"),
                (2, "mask_2.tif", "img_2.tif")
            ]
        );
        // names without numbers that do not match
        let gt = source(true, &["cells.tif"]);
        let pred = source(true, &["labels.tif"]);
        let (_, msg) = message(pair_frames(&gt, &pred, None).unwrap_err());
        assert!(msg.contains("GT files cells.tif carry no number"), "{msg}");
    }

    #[test]
    fn ground_truth_without_prediction_is_an_error_naming_it() {
        let gt = source(true, &["mask_0000.tif", "mask_0003.tif", "mask_0004.tif"]);
        let pred = source(true, &["img_0000.tif", "img_0001.tif", "img_0002.tif"]);
        let (code, msg) = message(pair_frames(&gt, &pred, None).unwrap_err());
        assert_eq!(code, 3);
        assert_eq!(
            msg,
            "bad image data: no predicted frame for ground-truth mask_0003.tif, mask_0004.tif: \
             PRED (dir) has no file of the same stem or frame number (the frame numbers there: \
             0:2)"
        );
        // paired files must hold as many pages
        let gt = source(true, &["a.tif:2"]);
        let pred = source(true, &["a.tif:3"]);
        let (_, msg) = message(pair_frames(&gt, &pred, None).unwrap_err());
        assert!(
            msg.contains("a.tif holds 2 pages but its prediction a.tif holds 3"),
            "{msg}"
        );
        // multi-page files pair page for page; frames are positions
        let pred = source(true, &["a.tif:2"]);
        let p = pair_frames(&gt, &pred, None).unwrap();
        assert_eq!(
            pairs(&p),
            [(0, "a.tif:0", "a.tif:0"), (1, "a.tif:1", "a.tif:1")]
        );
    }

    #[test]
    fn stacks_pair_by_position_and_lengths_must_agree() {
        let gt = source(false, &["gt.tif:3"]);
        let pred = source(false, &["pred.tif:3"]);
        let p = pair_frames(&gt, &pred, None).unwrap();
        assert_eq!(p.rule, PairingRule::Position);
        assert_eq!(pairs(&p)[2], (2, "gt.tif:2", "pred.tif:2"));
        // a single image against a single image says nothing
        let one = source(false, &["a.tif"]);
        assert_eq!(pair_frames(&one, &one, None).unwrap().note(), None);

        // a numbered GT folder against a longer stack: the exact --frames to use
        let gt = source(true, &["mask_0000_deflate.tif", "mask_0010_deflate.tif"]);
        let pred = source(false, &["labels.tif:31"]);
        let (code, msg) = message(pair_frames(&gt, &pred, None).unwrap_err());
        assert_eq!(code, 3);
        assert_eq!(
            msg,
            "bad image data: GT (dir) has 2 frames but PRED (labels.tif) has 31 frames; GT's \
             file names carry frame numbers: add --frames 0,10 to score those frames of PRED"
        );
        let gt = source(true, &["m_0.tif", "m_10.tif", "m_20.tif", "m_30.tif"]);
        let (_, msg) = message(pair_frames(&gt, &pred, None).unwrap_err());
        assert!(
            msg.ends_with("add --frames 0:30:10 to score those frames of PRED"),
            "{msg}"
        );
        // without numbers, a general hint
        let gt = source(false, &["gt.tif:2"]);
        let (_, msg) = message(pair_frames(&gt, &pred, None).unwrap_err());
        assert!(msg.contains("list them with --frames (e.g."), "{msg}");
    }

    #[test]
    fn frames_pick_in_order_by_index_or_by_number() {
        let list = [0, 10];
        // a 2-page GT stack is those frames in order; a 31-page stack is picked by page
        let gt = source(false, &["gt.tif:2"]);
        let pred = source(false, &["labels.tif:31"]);
        let p = pair_frames(&gt, &pred, Some(&list)).unwrap();
        assert_eq!(
            p.rule,
            PairingRule::Frames {
                list: list.to_vec(),
                gt: Pick::InOrder,
                pred: Pick::ByIndex
            }
        );
        assert_eq!(
            pairs(&p),
            [
                (0, "gt.tif:0", "labels.tif:0"),
                (10, "gt.tif:1", "labels.tif:10")
            ]
        );
        assert_eq!(p.pairs[1].pred, FrameRef { file: 0, page: 10 });
        // a numbered folder by its numbers, whatever their order on disk or in the list
        let gt = source(true, &["mask_0000.tif", "mask_0010.tif"]);
        let pred = source(true, &["img_0010.tif", "img_0011.tif", "img_0000.tif"]);
        let p = pair_frames(&gt, &pred, Some(&[10, 0])).unwrap();
        assert_eq!(
            pairs(&p),
            [
                (10, "mask_0010.tif", "img_0010.tif"),
                (0, "mask_0000.tif", "img_0000.tif")
            ]
        );
        assert!(matches!(
            p.rule,
            PairingRule::Frames {
                gt: Pick::ByNumber,
                pred: Pick::ByNumber,
                ..
            }
        ));
        // an unnumbered folder with more frames: by position in natural order
        let pred = source(true, &["a.tif", "b.tif", "c.tif", "d.tif"]);
        let p = pair_frames(&gt, &pred, Some(&[0, 3])).unwrap_err();
        assert!(
            p.to_string().contains("GT (dir) has no file numbered 3"),
            "{p}"
        );
        let gt = source(false, &["gt.tif:2"]);
        let p = pair_frames(&gt, &pred, Some(&[0, 3])).unwrap();
        assert_eq!(
            pairs(&p),
            [(0, "gt.tif:0", "a.tif"), (3, "gt.tif:1", "d.tif")]
        );
    }

    #[test]
    fn frames_out_of_range_or_too_many_are_usage_errors() {
        let gt = source(false, &["gt.tif:2"]);
        let pred = source(false, &["labels.tif:31"]);
        let (code, msg) = message(pair_frames(&gt, &pred, Some(&[0, 31])).unwrap_err());
        assert_eq!(code, 2);
        assert_eq!(
            msg,
            "invalid parameter --frames: 31 out of range: PRED (labels.tif) holds 31 frames (0 \
             to 30)"
        );
        let (code, msg) = message(pair_frames(&gt, &pred, Some(&[0, 1, 2])).unwrap_err());
        assert_eq!(code, 2);
        assert!(
            msg.contains("lists 3 frames but GT (gt.tif) holds only 2 frames"),
            "{msg}"
        );
        let (code, msg) = message(pair_frames(&gt, &pred, Some(&[4, 4])).unwrap_err());
        assert_eq!(code, 2);
        assert!(msg.contains("frame 4 is listed twice"), "{msg}");
        // a numbered folder whose numbers are not the list
        let gt = source(true, &["mask_0000.tif", "mask_0010.tif"]);
        let (code, msg) = message(pair_frames(&gt, &pred, Some(&[0, 9])).unwrap_err());
        assert_eq!(code, 2);
        assert!(
            msg.contains(
                "GT (dir) has no file numbered 9 (its file names carry the frame \
                          numbers 0,10"
            ),
            "{msg}"
        );
    }

    #[test]
    fn frame_lists_parse_and_print_back() {
        assert_eq!(parse_frame_list("0,10").unwrap(), [0, 10]);
        assert_eq!(parse_frame_list("0:30:10").unwrap(), [0, 10, 20, 30]);
        assert_eq!(parse_frame_list(" 5:7 , 1").unwrap(), [5, 6, 7, 1]);
        assert_eq!(parse_frame_list("3:3").unwrap(), [3]);
        for bad in [
            "", "a", "-1", "1.5", "3:1", "0:10:0", "1:2:3:4", "0,,1", "1,0:3",
        ] {
            let e = parse_frame_list(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}: {e}");
        }
        for list in [
            vec![0, 10],
            vec![0, 10, 20, 30],
            vec![0, 1, 2, 5],
            vec![7],
            vec![5, 3, 1],
            vec![0, 1, 2, 4, 6, 8, 9],
        ] {
            let text = compact_list(&list);
            assert_eq!(parse_frame_list(&text).unwrap(), list, "{text}");
        }
        assert_eq!(compact_list(&[0, 10, 20, 30]), "0:30:10");
        assert_eq!(compact_list(&[0, 1, 2, 5]), "0:2,5");
    }

    #[test]
    fn per_frame_scores_sum_to_the_summary() {
        let gt = source(false, &["gt.tif:3"]);
        let pred = source(false, &["pred.tif:3"]);
        let pairing = pair_frames(&gt, &pred, None).unwrap();
        let g = [
            img(4, 1, &[1, 1, 2, 2]),
            img(4, 1, &[0, 5, 5, 0]),
            img(4, 1, &[1, 2, 3, 4]),
        ];
        let p = [
            img(4, 1, &[1, 1, 1, 2]),
            img(4, 1, &[7, 7, 7, 0]),
            img(4, 1, &[1, 2, 0, 9]),
        ];
        let thresholds = [0.3, 0.5, 0.9];
        let ev = evaluate_pairs(pairing, &g, &p, &thresholds).unwrap();
        assert_eq!(ev.summary, evaluate(&g, &p, &thresholds).unwrap());
        assert_eq!(ev.frames.len(), 3);
        for (k, total) in ev.summary.iter().enumerate() {
            let mut sum = Matching {
                iou: total.iou,
                tp: 0,
                fp: 0,
                fn_: 0,
                n_true: 0,
                n_pred: 0,
                sum_matched_iou: 0.0,
            };
            for f in &ev.frames {
                sum.add(&f.matching[k]);
            }
            assert_eq!(&sum, total);
        }
        assert_eq!(
            ev.frames[1].matching,
            matching(&g[1], &p[1], &thresholds).unwrap()
        );
        assert!(ev.warnings.is_empty());
        // JSON: the summary lines as Matching::to_json writes them, then one per frame
        let json = ev.to_json_lines(true);
        let lines: Vec<&str> = json.lines().collect();
        assert_eq!(lines.len(), 3 + 9);
        assert_eq!(lines[0], ev.summary[0].to_json());
        assert_eq!(ev.to_json_lines(false), lines[..3].join("\n") + "\n");
        assert!(
            lines[3 + 4].starts_with(
                "{\"frame\":1,\"name\":\"gt.tif:1\",\"pred_name\":\"pred.tif:1\",\"iou\":0.5,"
            ),
            "{}",
            lines[3 + 4]
        );
        // per-frame rows in the text after the summary
        let text = ev.to_text(true);
        assert!(
            text.contains("\nper frame:\nframe  name     n_true"),
            "{text}"
        );
        assert!(
            text.contains("\n    2  gt.tif:2      4      3  0.30"),
            "{text}"
        );
        assert!(!ev.to_text(false).contains("per frame"));
    }

    #[test]
    fn an_empty_ground_truth_frame_is_a_warning() {
        let gt = source(true, &["mask_0000.tif", "mask_0003.tif"]);
        let pred = source(true, &["img_0000.tif", "img_0003.tif"]);
        let pairing = pair_frames(&gt, &pred, None).unwrap();
        let g = [img(2, 1, &[1, 0]), img(2, 1, &[0, 0])];
        let p = [img(2, 1, &[1, 0]), img(2, 1, &[4, 6])];
        let ev = evaluate_pairs(pairing.clone(), &g, &p, &[0.5]).unwrap();
        assert_eq!(
            ev.warnings,
            [Warning::EmptyGroundTruth {
                frame: 3,
                name: "mask_0003.tif".into(),
                n_pred: 2
            }]
        );
        assert_eq!(
            ev.warnings[0].to_string(),
            "ground-truth frame 3 (mask_0003.tif) holds no object; its 2 predicted objects \
             count as false positives, and its own precision, recall and F1 are 0 (is the frame \
             annotated?)"
        );
        assert_eq!(ev.frames[1].matching[0].f1(), 0.0);
        assert_eq!((ev.summary[0].tp, ev.summary[0].fp), (1, 2));
        let p = [img(2, 1, &[1, 0]), img(2, 1, &[0, 0])];
        let ev = evaluate_pairs(pairing, &g, &p, &[0.5]).unwrap();
        assert!(ev.warnings[0]
            .to_string()
            .contains("nor does its prediction"));
    }

    #[test]
    fn size_mismatch_names_the_frame() {
        let gt = source(false, &["gt.tif:2"]);
        let pred = source(false, &["pred.tif:2"]);
        let pairing = pair_frames(&gt, &pred, None).unwrap();
        let g = [img(2, 1, &[1, 0]), img(2, 1, &[1, 0])];
        let p = [img(2, 1, &[1, 0]), img(1, 2, &[1, 0])];
        let e = evaluate_pairs(pairing, &g, &p, &[0.5]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad image data: frame 1 (gt.tif:1 ↔ pred.tif:1): ground truth is 2×1 but the \
             prediction is 1×2"
        );
    }

    #[test]
    fn hungarian_beats_greedy() {
        // rows prefer column 0; the optimum gives row 0 column 1
        let cost = [-0.9, -0.8, -0.85, 0.0];
        assert_eq!(crate::assign::hungarian(2, 2, &cost), vec![1, 0]);
    }
}
