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
    let assignment = hungarian(nr, nc, &cost);
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

/// Minimum-cost assignment of every row of an `n × m` cost matrix (`n ≤ m`) to a distinct
/// column (the Hungarian algorithm with potentials, O(n²m)). Returns each row's column.
fn hungarian(n: usize, m: usize, cost: &[f64]) -> Vec<usize> {
    debug_assert!(n <= m);
    let inf = f64::INFINITY;
    // 1-based arrays as in the classic formulation; p[j] = row matched to column j
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; m + 1];
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0;
        let mut minv = vec![inf; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = inf;
            let mut j1 = 0;
            for j in 1..=m {
                if !used[j] {
                    let cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut row_col = vec![0usize; n];
    for j in 1..=m {
        if p[j] != 0 {
            row_col[p[j] - 1] = j - 1;
        }
    }
    row_col
}

// ---------------------------------------------------------------------------------------------
// Reading label images and stacks
// ---------------------------------------------------------------------------------------------

/// Every label frame of `path`: a label TIFF (every page; u8/u16/u32, or i32 ≥ 0), a PNG (8/16-bit
/// gray), or a folder of such files in natural name order.
pub fn read_label_frames(path: &Path) -> Result<Vec<LabelImage>> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|source| Error::Read {
                path: path.to_path_buf(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let lower = name.to_ascii_lowercase();
                !name.starts_with('.')
                    && (lower.ends_with(".tif")
                        || lower.ends_with(".tiff")
                        || lower.ends_with(".png"))
            })
            .collect();
        files.sort_by(|a, b| {
            crate::io::natural_cmp(
                &a.file_name().unwrap_or_default().to_string_lossy(),
                &b.file_name().unwrap_or_default().to_string_lossy(),
            )
        });
        if files.is_empty() {
            return Err(Error::Read {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "empty folder: no .tif, .tiff or .png files in it",
                ),
            });
        }
        let mut out = Vec::new();
        for f in files {
            out.extend(read_label_file(&f)?);
        }
        return Ok(out);
    }
    read_label_file(path)
}

fn read_label_file(path: &Path) -> Result<Vec<LabelImage>> {
    let mut magic = [0u8; 4];
    {
        use std::io::Read;
        let mut f = File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let _ = f.read(&mut magic);
    }
    if &magic[..2] == b"II" || &magic[..2] == b"MM" {
        return read_label_tiff_pages(path);
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

fn read_label_tiff_pages(path: &Path) -> Result<Vec<LabelImage>> {
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
        loop {
            let page = out.len();
            let (w, h) = d.dimensions().map_err(|e| bad(page, format!("{e}")))?;
            let labels: Vec<u32> = match d.read_image().map_err(|e| bad(page, format!("{e}")))? {
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
                    reason: format!("page {page}: a label image must have one sample per pixel"),
                });
            }
            out.push(LabelImage {
                width: w as usize,
                height: h as usize,
                labels,
            });
            if !d.more_images() {
                break;
            }
            d.next_image().map_err(|e| bad(page + 1, format!("{e}")))?;
        }
        Ok(out)
    }))
    .unwrap_or_else(|_| Err(bad(0, "malformed file (the decoder gave up)".into())))
}

/// Match every frame of `pred` against the same frame of `gt` and sum the statistics over
/// frames (one entry per threshold).
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

    #[test]
    fn hungarian_beats_greedy() {
        // rows prefer column 0; the optimum gives row 0 column 1
        let cost = [-0.9, -0.8, -0.85, 0.0];
        assert_eq!(hungarian(2, 2, &cost), vec![1, 0]);
    }
}
