//! The Cell Tracking Challenge's measures of a tracking result against ground truth, with the
//! definitions of py-ctcmetrics 1.3.3 (`ctc_evaluate`; `scripts/reference/ctc_metrics.py`
//! checks floodseg against it on the fixtures in `tests/data/ctc/`).
//!
//! **Matching.** In each frame a result object *matches* a reference object when it covers
//! more than half of the reference object's pixels (`2·|R∩C| > |R|`), so a reference object
//! has at most one match and a result object may match several (a merge). A matched pair's
//! IoU is `|R∩C| / |R∪C|`. The TRA markers (`GT/TRA/man_trackTTT.tif`) are matched for every
//! measure but SEG, which matches the segmentations `GT/SEG/man_segTTT.tif` of the frames
//! that have one.
//!
//! **AOGM** (Matula et al. 2015). The reference graph's vertices are the (frame, label)
//! objects of the TRA masks; its edges are *track links* (a label present in frames `t` and
//! `t+1`) and *parent links* (a parent's last object to its child's first, from the track
//! file). The result graph is built the same way. Counted corrections: `NS`, the splits a
//! merged result object needs (a result object matching `k > 1` references counts `k − 1`);
//! `FN`, reference objects with no match; `FP`, result objects that match none; then, on the
//! result objects that match exactly one reference object, mapped onto it: `ED`, result edges
//! that are no reference edge; `EA`, reference edges no result edge maps onto; `EC`, mapped
//! edges whose kind (track or parent link) differs. `AOGM = 5·NS + 10·FN + FP + ED + 1.5·EA
//! + EC`, and `AOGM_0 = 10·V + 1.5·E` builds the reference graph from nothing (`V`, `E` its
//! vertices and edges). **TRA** `= 1 − min(AOGM, AOGM_0)/AOGM_0`; **DET** the same with the
//! vertex terms only (`5·NS + 10·FN + FP` against `10·V`), **LNK** with the edge terms only
//! (`ED + 1.5·EA + EC` against `1.5·E`).
//!
//! **SEG**: the sum of the matched pairs' IoU over the SEG frames, divided by the number of
//! reference objects there (unmatched ones count 0).
//!
//! **Biological measures** (Ulman et al. 2017). In a frame, a reference object is *assigned*
//! its match when that result object matches no other reference object, else nothing.
//! **CT** `= 2·T_rc / (T_r + T_c)`: `T_r`, `T_c` the lines of the two track files, `T_rc` the
//! reference tracks assigned one and the same result label in every frame, whose result track
//! begins and ends in the same frames. **TF**: for each result label `c` and reference track
//! `k`, the longest run of consecutive frames of `k` assigned `c`, as a fraction of `k`'s
//! length; each reference track takes the largest fraction, result labels and then reference
//! labels visited in ascending order, a reference track at 1 left alone, and a result label's
//! remaining reference tracks skipped once it covers one wholly (py-ctcmetrics keeps this
//! order dependence of the CTC's code); TF is the mean over the reference tracks with a
//! fraction above 0 (0 when none). **BC(i)**: a *division* is a track with two or more
//! children; a result division matches a reference one when they have as many children, the
//! mothers end at most `i` frames apart, the reference mother is assigned the result mother in
//! the earlier of their last frames, and every reference daughter is assigned a distinct
//! result daughter (in the later of the two daughters' first frames, which are at most `i`
//! apart; each reference daughter takes the first such result daughter in track-file order).
//! With `tp` the matching (reference, result) pairs, `fp = result divisions − tp`, `fn =
//! reference divisions − tp`, BC(i) is the F1 score `2pr/max(p + r, 0.0001)` of precision
//! `p = tp/max(tp + fp, 1)` and recall `r = tp/max(tp + fn, 1)`; undefined without reference
//! divisions. **CCA**: over the tracks that begin and end with a division (a child of a
//! division that divides), `1 −` the largest difference between the cumulative histograms of
//! their lengths `E − B`, reference against result; undefined without such a reference track,
//! 0 without such a result track. **BIO(i)** is the mean of CT, TF, BC(i) and CCA over those
//! defined; **OP_CSB** `= (SEG + DET)/2`, **OP_CTB** `= (SEG + TRA)/2`, **OP_CLB(i)** `= (LNK +
//! BIO(i))/2`.
//!
//! A measure whose denominator is 0 is undefined (`None`, printed `N/A`): DET, TRA without
//! reference objects, LNK without reference edges, SEG without SEG frames, CT with two empty
//! track files (py-ctcmetrics divides by zero or raises on these; it also needs a SEG folder,
//! which floodseg does not).
//!
//! Pixels are read one frame at a time: the matching keeps per frame only the labels present
//! and the matched pairs, and the measures are computed from those and the track files.
//! Both folders are first checked by the CTC rules ([`super::validate`]); an invalid result
//! is refused, as `ctc_evaluate` scores it 0 and nothing else.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::{list_masks, read_tracks, validate, CtcTrack, Problems};
use crate::error::{Error, Result};

/// The largest temporal offset `i` of the BC(i) reported by [`evaluate_folders`] (0..=3, as
/// `ctc_evaluate` reports them).
pub const BC_MAX_OFFSET: usize = 3;

/// At most this many problems are listed by [`validate_folder`] and in an invalid-folder
/// error.
const PROBLEM_LIMIT: usize = 100;

/// A reference object matched by a result object (more than half of it covered).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pair {
    pub reference: u32,
    pub result: u32,
    /// `|R∩C| / |R∪C|`.
    pub iou: f64,
}

/// One frame's objects and their matching.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrameMatch {
    /// The labels present in the reference frame, ascending.
    pub reference: Vec<u32>,
    /// The labels present in the result frame, ascending.
    pub result: Vec<u32>,
    /// The matched pairs, by reference label (a reference label appears at most once).
    pub pairs: Vec<Pair>,
}

/// Match a result frame to a reference frame (two label images of the same size, 0 the
/// background): a result object matches a reference object when it covers more than half of
/// its pixels.
pub fn match_frame(reference: &[u32], result: &[u32]) -> Result<FrameMatch> {
    if reference.len() != result.len() {
        return Err(Error::BadData(format!(
            "a reference frame of {} pixels against a result frame of {}",
            reference.len(),
            result.len()
        )));
    }
    let mut area_r: HashMap<u32, u64> = HashMap::new();
    let mut area_c: HashMap<u32, u64> = HashMap::new();
    let mut inter: HashMap<(u32, u32), u64> = HashMap::new();
    // runs of equal (reference, result) pairs, counted once per run
    let mut flush = |pair: (u32, u32), n: u64| {
        if pair.0 != 0 {
            *area_r.entry(pair.0).or_default() += n;
        }
        if pair.1 != 0 {
            *area_c.entry(pair.1).or_default() += n;
        }
        if pair.0 != 0 && pair.1 != 0 {
            *inter.entry(pair).or_default() += n;
        }
    };
    let mut run = (0u32, 0u32);
    let mut n = 0u64;
    for (&r, &c) in reference.iter().zip(result) {
        if (r, c) == run {
            n += 1;
        } else {
            flush(run, n);
            run = (r, c);
            n = 1;
        }
    }
    flush(run, n);
    let mut pairs: Vec<Pair> = inter
        .iter()
        .filter(|(&(r, _), &i)| 2 * i > area_r[&r])
        .map(|(&(r, c), &i)| Pair {
            reference: r,
            result: c,
            iou: i as f64 / (area_r[&r] + area_c[&c] - i) as f64,
        })
        .collect();
    pairs.sort_by_key(|p| p.reference);
    let mut reference: Vec<u32> = area_r.into_keys().collect();
    let mut result: Vec<u32> = area_c.into_keys().collect();
    reference.sort_unstable();
    result.sort_unstable();
    Ok(FrameMatch {
        reference,
        result,
        pairs,
    })
}

/// SEG's totals over the frames with a reference segmentation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SegTotals {
    /// Frames with a reference segmentation.
    pub frames: usize,
    /// Reference objects in them.
    pub objects: usize,
    /// Σ IoU of their matched pairs.
    pub sum_iou: f64,
}

impl SegTotals {
    /// Add one SEG frame's matching.
    pub fn add(&mut self, m: &FrameMatch) {
        self.frames += 1;
        self.objects += m.reference.len();
        self.sum_iou += m.pairs.iter().map(|p| p.iou).sum::<f64>();
    }

    /// SEG: Σ IoU / objects (0 without objects), `None` without frames.
    pub fn seg(&self) -> Option<f64> {
        (self.frames > 0).then(|| self.sum_iou / self.objects.max(1) as f64)
    }
}

/// The AOGM counts: the reference graph's size and the corrections that turn the result
/// graph into it (module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Aogm {
    /// Reference vertices (objects of the TRA masks) and edges.
    pub vertices: usize,
    pub edges: usize,
    /// Vertex splits, false negatives, false positives.
    pub ns: usize,
    pub fn_: usize,
    pub fp: usize,
    /// Edges to delete, to add, and to change the kind of.
    pub ed: usize,
    pub ea: usize,
    pub ec: usize,
}

/// `1 − min(cost, zero)/zero`, `None` when `zero` is 0.
fn one_minus(cost: f64, zero: f64) -> Option<f64> {
    (zero != 0.0).then(|| 1.0 - cost.min(zero) / zero)
}

impl Aogm {
    /// `5·NS + 10·FN + FP + ED + 1.5·EA + EC`.
    pub fn aogm(&self) -> f64 {
        (5 * self.ns + 10 * self.fn_ + self.fp + self.ed) as f64
            + 1.5 * self.ea as f64
            + self.ec as f64
    }
    /// `10·V + 1.5·E`: the reference graph built from nothing.
    pub fn aogm_0(&self) -> f64 {
        (10 * self.vertices) as f64 + 1.5 * self.edges as f64
    }
    pub fn tra(&self) -> Option<f64> {
        one_minus(self.aogm(), self.aogm_0())
    }
    pub fn det(&self) -> Option<f64> {
        let cost = 5 * self.ns + 10 * self.fn_ + self.fp;
        one_minus(cost as f64, (10 * self.vertices) as f64)
    }
    pub fn lnk(&self) -> Option<f64> {
        let cost = self.ed as f64 + 1.5 * self.ea as f64 + self.ec as f64;
        one_minus(cost, 1.5 * self.edges as f64)
    }
}

/// BC(i)'s counts for one temporal offset `i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Branching {
    pub offset: usize,
    /// Reference divisions (tracks with two or more children).
    pub reference: usize,
    /// Matching (reference, result) division pairs, and the result and reference divisions
    /// left over (`result − tp`, `reference − tp`; negative only if a result division
    /// matched two reference ones).
    pub tp: usize,
    pub fp: i64,
    pub fn_: i64,
}

impl Branching {
    /// The F1 score of the division matching, `None` without reference divisions.
    pub fn bc(&self) -> Option<f64> {
        if self.reference == 0 {
            return None;
        }
        let tp = self.tp as f64;
        let precision = tp / (self.tp as i64 + self.fp).max(1) as f64;
        let recall = tp / (self.tp as i64 + self.fn_).max(1) as f64;
        Some(2.0 * (precision * recall) / (precision + recall).max(0.0001))
    }
}

/// Every measure of a result against ground truth (module doc), with the counts behind them.
#[derive(Clone, Debug, PartialEq)]
pub struct CtcScores {
    pub aogm: Aogm,
    /// `None` when the ground truth has no SEG frame.
    pub seg: Option<SegTotals>,
    /// CT's counts: complete tracks `T_rc`, reference and result track lines.
    pub complete_tracks: usize,
    pub reference_tracks: usize,
    pub result_tracks: usize,
    /// TF.
    pub tf: f64,
    /// CCA (`None` without a reference track that begins and ends with a division).
    pub cca: Option<f64>,
    /// BC(i) for i = 0, 1, …
    pub branching: Vec<Branching>,
}

/// A value in [`CtcScores::entries`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Score(Option<f64>),
    Count(i64),
}

fn half_sum(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(0.5 * a? + 0.5 * b?)
}

impl CtcScores {
    pub fn det(&self) -> Option<f64> {
        self.aogm.det()
    }
    pub fn seg(&self) -> Option<f64> {
        self.seg.and_then(|s| s.seg())
    }
    pub fn tra(&self) -> Option<f64> {
        self.aogm.tra()
    }
    pub fn lnk(&self) -> Option<f64> {
        self.aogm.lnk()
    }
    /// CT `= 2·T_rc / (T_r + T_c)`.
    pub fn ct(&self) -> Option<f64> {
        let n = self.reference_tracks + self.result_tracks;
        (n > 0).then(|| (2 * self.complete_tracks) as f64 / n as f64)
    }
    pub fn tf(&self) -> f64 {
        self.tf
    }
    pub fn cca(&self) -> Option<f64> {
        self.cca
    }
    /// BC(i), `None` without reference divisions or beyond the offsets computed.
    pub fn bc(&self, i: usize) -> Option<f64> {
        self.branching.get(i).and_then(Branching::bc)
    }
    /// BIO(i): the mean of CT, TF, BC(i) and CCA over those defined.
    pub fn bio(&self, i: usize) -> Option<f64> {
        let parts = [self.ct(), Some(self.tf), self.bc(i), self.cca];
        let n = parts.iter().flatten().count();
        let sum = parts.iter().fold(0.0, |s, p| s + p.unwrap_or(0.0));
        (n > 0).then(|| sum / n as f64)
    }
    pub fn op_csb(&self) -> Option<f64> {
        half_sum(self.seg(), self.det())
    }
    pub fn op_ctb(&self) -> Option<f64> {
        half_sum(self.seg(), self.tra())
    }
    pub fn op_clb(&self, i: usize) -> Option<f64> {
        half_sum(self.lnk(), self.bio(i))
    }

    /// The measures and counts under py-ctcmetrics' names, in print order: DET, SEG, TRA, LNK,
    /// CT, TF, BC(i), CCA, BIO(i), OP_CSB, OP_CTB, OP_CLB(i), AOGM, AOGM_0, AOGM_NS … AOGM_EC,
    /// gt_divisions, tp_div(i), fp_div(i), fn_div(i).
    pub fn entries(&self) -> Vec<(String, Value)> {
        use Value::{Count, Score};
        let mut e: Vec<(String, Value)> = Vec::new();
        let mut put = |k: String, v: Value| e.push((k, v));
        put("DET".into(), Score(self.det()));
        put("SEG".into(), Score(self.seg()));
        put("TRA".into(), Score(self.tra()));
        put("LNK".into(), Score(self.lnk()));
        put("CT".into(), Score(self.ct()));
        put("TF".into(), Score(Some(self.tf)));
        for b in &self.branching {
            put(format!("BC({})", b.offset), Score(b.bc()));
        }
        put("CCA".into(), Score(self.cca));
        for b in &self.branching {
            put(format!("BIO({})", b.offset), Score(self.bio(b.offset)));
        }
        put("OP_CSB".into(), Score(self.op_csb()));
        put("OP_CTB".into(), Score(self.op_ctb()));
        for b in &self.branching {
            put(
                format!("OP_CLB({})", b.offset),
                Score(self.op_clb(b.offset)),
            );
        }
        let a = &self.aogm;
        put("AOGM".into(), Score(Some(a.aogm())));
        put("AOGM_0".into(), Score(Some(a.aogm_0())));
        for (k, v) in [
            ("NS", a.ns),
            ("FN", a.fn_),
            ("FP", a.fp),
            ("ED", a.ed),
            ("EA", a.ea),
            ("EC", a.ec),
        ] {
            put(format!("AOGM_{k}"), Count(v as i64));
        }
        let divisions = self.branching.first().map_or(0, |b| b.reference);
        put("gt_divisions".into(), Count(divisions as i64));
        for b in &self.branching {
            put(format!("tp_div({})", b.offset), Count(b.tp as i64));
            put(format!("fp_div({})", b.offset), Count(b.fp));
            put(format!("fn_div({})", b.offset), Count(b.fn_));
        }
        e
    }

    /// One `NAME value` line per entry (scores to 6 decimals, `N/A` when undefined).
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (k, v) in self.entries() {
            let v = match v {
                Value::Score(None) => "N/A".to_string(),
                Value::Score(Some(x)) if k.starts_with("AOGM") => format!("{x}"),
                Value::Score(Some(x)) => format!("{x:.6}"),
                Value::Count(n) => n.to_string(),
            };
            s.push_str(&format!("{k:<13}{v}\n"));
        }
        s
    }

    /// One JSON object on one line, the keys of [`CtcScores::entries`]; scores at full
    /// precision (they read back to the same `f64`), `null` when undefined.
    pub fn to_json(&self) -> String {
        let parts: Vec<String> = self
            .entries()
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::Score(None) => "null".to_string(),
                    Value::Score(Some(x)) => format!("{x:?}"),
                    Value::Count(n) => n.to_string(),
                };
                format!("\"{k}\":{v}")
            })
            .collect();
        format!("{{{}}}\n", parts.join(","))
    }
}

/// Per frame: which result label each matched reference label has, and how many reference
/// objects each result label matches.
struct FrameIndex {
    ref_to_res: HashMap<u32, u32>,
    /// (for a result label that matches one reference label: that label)
    res_to_ref: HashMap<u32, u32>,
    res_matches: HashMap<u32, usize>,
}

impl FrameIndex {
    fn new(m: &FrameMatch) -> Self {
        let mut res_matches: HashMap<u32, usize> = HashMap::new();
        for p in &m.pairs {
            *res_matches.entry(p.result).or_default() += 1;
        }
        FrameIndex {
            ref_to_res: m.pairs.iter().map(|p| (p.reference, p.result)).collect(),
            res_to_ref: m.pairs.iter().map(|p| (p.result, p.reference)).collect(),
            res_matches,
        }
    }
    fn matches(&self, result: u32) -> usize {
        self.res_matches.get(&result).copied().unwrap_or(0)
    }
    /// The result label `reference` is assigned: its match when that matches nothing else.
    fn assigned(&self, reference: u32) -> Option<u32> {
        let c = *self.ref_to_res.get(&reference)?;
        (self.matches(c) == 1).then_some(c)
    }
}

/// A graph vertex: (frame, label).
type Vertex = (usize, u32);

/// The graph's edges, each with its kind (false: track link, true: parent link).
fn edges(frames: &[&[u32]], tracks: &[CtcTrack]) -> Vec<(Vertex, Vertex, bool)> {
    let mut out = Vec::new();
    for (t, w) in frames.windows(2).enumerate() {
        let next: BTreeSet<u32> = w[1].iter().copied().collect();
        for &l in w[0] {
            if next.contains(&l) {
                out.push(((t, l), (t + 1, l), false));
            }
        }
    }
    let first = first_lines(tracks);
    for t in tracks.iter().filter(|t| t.parent != 0) {
        if let Some(p) = first.get(&t.parent) {
            out.push(((p.end, p.label), (t.begin, t.label), true));
        }
    }
    out
}

/// Each label's first line.
fn first_lines(tracks: &[CtcTrack]) -> HashMap<u32, CtcTrack> {
    let mut m = HashMap::new();
    for t in tracks {
        m.entry(t.label).or_insert(*t);
    }
    m
}

fn count_aogm(
    frames: &[FrameMatch],
    index: &[FrameIndex],
    gt: &[CtcTrack],
    res: &[CtcTrack],
) -> Aogm {
    let mut a = Aogm::default();
    for (m, ix) in frames.iter().zip(index) {
        a.vertices += m.reference.len();
        a.fn_ += m.reference.len().saturating_sub(m.pairs.len());
        for &c in &m.result {
            match ix.matches(c) {
                0 => a.fp += 1,
                k => a.ns += k - 1,
            }
        }
    }
    let ref_frames: Vec<&[u32]> = frames.iter().map(|m| m.reference.as_slice()).collect();
    let res_frames: Vec<&[u32]> = frames.iter().map(|m| m.result.as_slice()).collect();
    let ref_edges: HashMap<(Vertex, Vertex), bool> = edges(&ref_frames, gt)
        .into_iter()
        .map(|(u, v, kind)| ((u, v), kind))
        .collect();
    a.edges = ref_edges.len();
    // the result vertex's unique reference match
    let to_ref = |(t, c): Vertex| -> Option<Vertex> {
        let ix = index.get(t)?;
        (ix.matches(c) == 1).then(|| (t, ix.res_to_ref[&c]))
    };
    let mut found: BTreeSet<(Vertex, Vertex)> = BTreeSet::new();
    for (u, v, kind) in edges(&res_frames, res) {
        let (Some(ru), Some(rv)) = (to_ref(u), to_ref(v)) else {
            continue;
        };
        match ref_edges.get(&(ru, rv)) {
            Some(&k) => {
                found.insert((ru, rv));
                if k != kind {
                    a.ec += 1;
                }
            }
            None => a.ed += 1,
        }
    }
    a.ea = a.edges - found.len();
    a
}

/// Each reference label present in the masks, with the label assigned to it in each frame
/// (`None` where the reference label is absent, `Some(0)` where it is assigned nothing).
fn assignments(frames: &[FrameMatch], index: &[FrameIndex]) -> BTreeMap<u32, Vec<Option<u32>>> {
    let mut out: BTreeMap<u32, Vec<Option<u32>>> = BTreeMap::new();
    for (t, (m, ix)) in frames.iter().zip(index).enumerate() {
        for &r in &m.reference {
            out.entry(r).or_insert_with(|| vec![None; frames.len()])[t] =
                Some(ix.assigned(r).unwrap_or(0));
        }
    }
    out
}

fn complete_tracks(
    assigned: &BTreeMap<u32, Vec<Option<u32>>>,
    gt: &[CtcTrack],
    res: &[CtcTrack],
) -> usize {
    let (gt, res) = (first_lines(gt), first_lines(res));
    let mut n = 0;
    for (k, v) in assigned {
        let labels: BTreeSet<u32> = v.iter().flatten().copied().collect();
        let [c] = labels.into_iter().collect::<Vec<_>>()[..] else {
            continue;
        };
        if c == 0 {
            continue;
        }
        if let (Some(r), Some(c)) = (gt.get(k), res.get(&c)) {
            if (r.begin, r.end) == (c.begin, c.end) {
                n += 1;
            }
        }
    }
    n
}

fn track_fractions(assigned: &BTreeMap<u32, Vec<Option<u32>>>, gt: &[CtcTrack]) -> f64 {
    let lines = first_lines(gt);
    // result label → reference label → the longest run's fraction of the reference track
    let mut fractions: BTreeMap<u32, BTreeMap<u32, f64>> = BTreeMap::new();
    for (k, v) in assigned {
        let Some(r) = lines.get(k) else { continue };
        let length = r.end - r.begin + 1;
        let mut run = 0usize;
        let mut last = Some(0u32);
        for &a in v.iter().take(r.end + 1).skip(r.begin) {
            // (an absent frame, NaN in py-ctcmetrics, equals nothing)
            if a.is_none() || last.is_none() || a != last || a == Some(0) {
                run = 0;
            }
            if let Some(c) = a.filter(|&c| c > 0) {
                run += 1;
                let f = fractions.entry(c).or_default().entry(*k).or_insert(0.0);
                *f = f.max(run as f64 / length as f64);
            }
            last = a;
        }
    }
    let mut best: BTreeMap<u32, f64> = gt.iter().map(|t| (t.label, 0.0)).collect();
    for per_ref in fractions.values() {
        for (k, &f) in per_ref {
            let Some(b) = best.get_mut(k) else { continue };
            if *b == 1.0 {
                continue;
            }
            if f > *b {
                *b = f;
            }
            if f == 1.0 {
                break;
            }
        }
    }
    let found: Vec<f64> = best.into_values().filter(|&f| f > 0.0).collect();
    if found.is_empty() {
        0.0
    } else {
        found.iter().sum::<f64>() / found.len() as f64
    }
}

/// The labels of tracks with two or more children, ascending.
fn dividing(tracks: &[CtcTrack]) -> Vec<u32> {
    let mut children: BTreeMap<u32, usize> = BTreeMap::new();
    for t in tracks.iter().filter(|t| t.parent != 0) {
        *children.entry(t.parent).or_default() += 1;
    }
    children
        .into_iter()
        .filter(|&(_, n)| n > 1)
        .map(|(p, _)| p)
        .collect()
}

/// A division: the mother's last frame and the daughters (label, first frame) in track-file
/// order.
struct Division {
    label: u32,
    end: usize,
    children: Vec<(u32, usize)>,
}

fn divisions(tracks: &[CtcTrack]) -> Vec<Division> {
    let lines = first_lines(tracks);
    dividing(tracks)
        .into_iter()
        .filter_map(|p| {
            let end = lines.get(&p)?.end;
            let children = tracks
                .iter()
                .filter(|t| t.parent == p)
                .map(|t| (t.label, lines[&t.label].begin))
                .collect();
            Some(Division {
                label: p,
                end,
                children,
            })
        })
        .collect()
}

fn divisions_match(r: &Division, c: &Division, index: &[FrameIndex], i: usize) -> bool {
    if r.children.len() != c.children.len() || r.end.abs_diff(c.end) > i {
        return false;
    }
    let Some(ix) = index.get(r.end.min(c.end)) else {
        return false;
    };
    if ix.assigned(r.label) != Some(c.label) {
        return false;
    }
    let mut matched: Vec<u32> = Vec::new();
    for &(rd, rt) in &r.children {
        for &(cd, ct) in &c.children {
            if rt.abs_diff(ct) > i {
                continue;
            }
            let Some(ix) = index.get(rt.max(ct)) else {
                continue;
            };
            if ix.assigned(rd) == Some(cd) {
                if !matched.contains(&cd) {
                    matched.push(cd);
                }
                break;
            }
        }
    }
    matched.len() == r.children.len()
}

fn branching(index: &[FrameIndex], gt: &[CtcTrack], res: &[CtcTrack], i: usize) -> Branching {
    let (rd, cd) = (divisions(gt), divisions(res));
    let mut tp = 0;
    if !rd.is_empty() {
        for c in &cd {
            tp += rd
                .iter()
                .filter(|r| divisions_match(r, c, index, i))
                .count();
        }
    }
    Branching {
        offset: i,
        reference: rd.len(),
        tp,
        fp: cd.len() as i64 - tp as i64,
        fn_: rd.len() as i64 - tp as i64,
    }
}

fn cell_cycle_accuracy(gt: &[CtcTrack], res: &[CtcTrack]) -> Option<f64> {
    let lengths = |tracks: &[CtcTrack]| -> Vec<usize> {
        let div: BTreeSet<u32> = dividing(tracks).into_iter().collect();
        tracks
            .iter()
            .filter(|t| div.contains(&t.label) && div.contains(&t.parent))
            .map(|t| t.end.saturating_sub(t.begin))
            .collect()
    };
    let (lr, lc) = (lengths(gt), lengths(res));
    if lr.is_empty() {
        return None;
    }
    if lc.is_empty() {
        return Some(0.0);
    }
    let max = lr.iter().chain(&lc).copied().max().unwrap_or(0);
    let cumulative = |ls: &[usize]| -> Vec<f64> {
        let mut h = vec![0.0f64; max + 1];
        for &l in ls {
            h[l] += 1.0;
        }
        let total = ls.len() as f64;
        let mut acc = 0.0;
        h.iter()
            .map(|&x| {
                acc += x / total;
                acc
            })
            .collect()
    };
    let (cr, cc) = (cumulative(&lr), cumulative(&lc));
    let worst = cr
        .iter()
        .zip(&cc)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    Some(1.0 - worst)
}

/// The labels present in each frame (reference side, result side).
fn presence(frames: &[FrameMatch]) -> (Vec<BTreeSet<u32>>, Vec<BTreeSet<u32>>) {
    let set = |v: &[u32]| v.iter().copied().collect::<BTreeSet<u32>>();
    (
        frames.iter().map(|m| set(&m.reference)).collect(),
        frames.iter().map(|m| set(&m.result)).collect(),
    )
}

/// `"N problems: a; b; …"`, at most 5 listed.
fn summarize(problems: &Problems) -> String {
    let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
    let more = if problems.len() > 5 { "; …" } else { "" };
    let n = problems.len();
    let s = if n == 1 { "" } else { "s" };
    format!(
        "{n}{} problem{s}: {}{more}",
        if n >= PROBLEM_LIMIT { "+" } else { "" },
        shown.join("; ")
    )
}

/// Every measure (module doc) from the matched TRA frames (`frames[t]`: reference markers of
/// frame `t` against the result's mask `t`), the SEG totals, the two track tables, and BC(i)
/// for `i` in `0..=bc_max_offset`. Both sides must be valid CTC ([`super::validate`]) against
/// the labels present in `frames`; else the error lists the problems.
pub fn scores(
    frames: &[FrameMatch],
    seg: Option<SegTotals>,
    gt: &[CtcTrack],
    res: &[CtcTrack],
    bc_max_offset: usize,
) -> Result<CtcScores> {
    let (present_gt, present_res) = presence(frames);
    for (side, tracks, present) in [
        ("ground truth", gt, &present_gt),
        ("result", res, &present_res),
    ] {
        let problems = validate(tracks, present, PROBLEM_LIMIT);
        if !problems.is_empty() {
            return Err(Error::BadData(format!(
                "the {side} is not valid CTC ({})",
                summarize(&problems)
            )));
        }
    }
    let index: Vec<FrameIndex> = frames.iter().map(FrameIndex::new).collect();
    let assigned = assignments(frames, &index);
    Ok(CtcScores {
        aogm: count_aogm(frames, &index, gt, res),
        seg,
        complete_tracks: complete_tracks(&assigned, gt, res),
        reference_tracks: gt.len(),
        result_tracks: res.len(),
        tf: track_fractions(&assigned, gt),
        cca: cell_cycle_accuracy(gt, res),
        branching: (0..=bc_max_offset)
            .map(|i| branching(&index, gt, res, i))
            .collect(),
    })
}

/// The masks `{prefix}T.tif` of `dir` as a list indexed by frame, which must run 0, 1, … with
/// no gap (`Err` names the first missing frame). An empty folder gives an empty list.
fn frame_list(dir: &Path, prefix: &str) -> Result<Vec<PathBuf>> {
    let masks = list_masks(dir, prefix)?;
    let mut out = Vec::with_capacity(masks.len());
    for (t, path) in masks {
        if t != out.len() {
            let digits = path.file_stem().map_or(3, |s| s.len() - prefix.len());
            return Err(Error::BadData(format!(
                "{}: {} is missing (the masks must be numbered 0, 1, … without a gap)",
                dir.display(),
                super::mask_name(prefix, out.len(), digits)
            )));
        }
        out.push(path);
    }
    Ok(out)
}

fn read_labels(path: &Path) -> Result<(usize, usize, Vec<u32>)> {
    crate::io::read_labels_tiff(path)
}

fn check_size(a: (&Path, usize, usize), b: (&Path, usize, usize)) -> Result<()> {
    if (a.1, a.2) != (b.1, b.2) {
        return Err(Error::BadData(format!(
            "{} is {}×{} but {} is {}×{}",
            a.0.display(),
            a.1,
            a.2,
            b.0.display(),
            b.1,
            b.2
        )));
    }
    Ok(())
}

/// Score a CTC result folder against a ground-truth folder: `GT/TRA/man_track.txt` and
/// `GT/TRA/man_trackTTT.tif` (one per frame), optionally `GT/SEG/man_segTTT.tif` (for any
/// frames), `RES/res_track.txt` and `RES/maskTTT.tif` (one per ground-truth frame). Frames
/// are read one at a time. Errors: a missing or unreadable file, masks not numbered 0, 1, …,
/// as many result masks as ground-truth frames, a size mismatch, and a result (or ground
/// truth) that breaks the CTC rules (the error lists the problems, as [`validate_folder`]).
pub fn evaluate_folders(gt: &Path, res: &Path) -> Result<CtcScores> {
    let tra_dir = gt.join("TRA");
    let gt_tracks = read_tracks(&tra_dir.join("man_track.txt"))?;
    let res_tracks = read_tracks(&res.join("res_track.txt"))?;
    let tra = frame_list(&tra_dir, "man_track")?;
    if tra.is_empty() {
        return Err(Error::BadData(format!(
            "{}: no man_trackTTT.tif masks",
            tra_dir.display()
        )));
    }
    let masks = frame_list(res, "mask")?;
    if masks.len() != tra.len() {
        return Err(Error::BadData(format!(
            "{} holds {} masks (maskTTT.tif) but the ground truth {} frames",
            res.display(),
            masks.len(),
            tra.len()
        )));
    }
    let seg_dir = gt.join("SEG");
    let seg_masks: BTreeMap<usize, PathBuf> = if seg_dir.is_dir() {
        list_masks(&seg_dir, "man_seg")?.into_iter().collect()
    } else {
        BTreeMap::new()
    };
    if let Some((&t, p)) = seg_masks
        .iter()
        .next_back()
        .filter(|(&t, _)| t >= tra.len())
    {
        return Err(Error::BadData(format!(
            "{}: frame {t}, but the ground truth has {} frames",
            p.display(),
            tra.len()
        )));
    }
    let mut frames = Vec::with_capacity(tra.len());
    let mut seg = SegTotals::default();
    for (t, (tra_path, res_path)) in tra.iter().zip(&masks).enumerate() {
        let (w, h, reference) = read_labels(tra_path)?;
        let (rw, rh, result) = read_labels(res_path)?;
        check_size((res_path, rw, rh), (tra_path, w, h))?;
        frames.push(match_frame(&reference, &result)?);
        if let Some(seg_path) = seg_masks.get(&t) {
            let (sw, sh, segmented) = read_labels(seg_path)?;
            check_size((res_path, rw, rh), (seg_path, sw, sh))?;
            seg.add(&match_frame(&segmented, &result)?);
        }
    }
    let (present_gt, present_res) = presence(&frames);
    let mut problems = validate(&res_tracks, &present_res, PROBLEM_LIMIT);
    if res_tracks.is_empty() {
        problems.insert(0, "res_track.txt lists no track".into());
    }
    if !problems.is_empty() {
        return Err(Error::BadData(format!(
            "{} is not a valid CTC result ({})",
            res.display(),
            summarize(&problems)
        )));
    }
    let problems = validate(&gt_tracks, &present_gt, PROBLEM_LIMIT);
    if !problems.is_empty() {
        return Err(Error::BadData(format!(
            "{} is not valid CTC ground truth ({})",
            gt.display(),
            summarize(&problems)
        )));
    }
    let seg = (!seg_masks.is_empty()).then_some(seg);
    scores(&frames, seg, &gt_tracks, &res_tracks, BC_MAX_OFFSET)
}

/// Check a CTC folder (`dir/{prefix}TTT.tif` and `dir/{track_file}`) by the rules
/// `ctc_validate` applies: the problems of [`super::validate`] on the labels present in each
/// mask, plus a track file with no track, no mask at all, or a frame number missing between 0
/// and the last mask. `Err` only when the track file or a mask cannot be read or decoded.
pub fn validate_folder(dir: &Path, prefix: &str, track_file: &str) -> Result<Problems> {
    let tracks = read_tracks(&dir.join(track_file))?;
    let masks = list_masks(dir, prefix)?;
    let mut problems = Vec::new();
    if tracks.is_empty() {
        problems.push(format!("{track_file} lists no track"));
    }
    let Some(&(last, _)) = masks.last() else {
        problems.push(format!("no {prefix}TTT.tif mask in {}", dir.display()));
        return Ok(problems);
    };
    if last >= 2 * masks.len() + 1000 {
        // (not a frame list with a few holes: say so rather than list them)
        problems.push(format!(
            "the mask numbers run to {last} for {} masks (they must be 0, 1, …)",
            masks.len()
        ));
        return Ok(problems);
    }
    let mut present = vec![BTreeSet::new(); last + 1];
    let mut have = vec![false; last + 1];
    for (t, path) in &masks {
        let (_, _, labels) = read_labels(path)?;
        present[*t] = labels.into_iter().filter(|&l| l != 0).collect();
        have[*t] = true;
    }
    let digits = masks[0].1.file_stem().map_or(3, |s| s.len() - prefix.len());
    for (t, _) in have.iter().enumerate().filter(|(_, &h)| !h) {
        problems.push(format!(
            "frame {t}: {} is missing",
            super::mask_name(prefix, t, digits)
        ));
    }
    problems.extend(validate(&tracks, &present, PROBLEM_LIMIT));
    problems.truncate(PROBLEM_LIMIT);
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(label: u32, begin: usize, end: usize, parent: u32) -> CtcTrack {
        CtcTrack {
            label,
            begin,
            end,
            parent,
        }
    }

    /// A 4×4 frame from a 16-character picture: `.` background, digits labels.
    fn frame(s: &str) -> Vec<u32> {
        let v: Vec<u32> = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_digit(10).unwrap_or(0))
            .collect();
        assert_eq!(v.len(), 16);
        v
    }

    /// A small lineage: track 1 in frames 0–1 divides into 2 and 3 (frames 2–3).
    fn lineage() -> (Vec<Vec<u32>>, Vec<CtcTrack>) {
        let frames = vec![
            frame("11.. 11.. .... ...."),
            frame(".11. .11. .... ...."),
            frame("2... 2... ..33 ..33"),
            frame("22.. .... ..33 ..3."),
        ];
        let tracks = vec![track(1, 0, 1, 0), track(2, 2, 3, 1), track(3, 2, 3, 1)];
        (frames, tracks)
    }

    fn score(gt: &[Vec<u32>], res: &[Vec<u32>], gtt: &[CtcTrack], rest: &[CtcTrack]) -> CtcScores {
        let frames: Vec<FrameMatch> = gt
            .iter()
            .zip(res)
            .map(|(g, r)| match_frame(g, r).unwrap())
            .collect();
        let mut seg = SegTotals::default();
        for (g, r) in gt.iter().zip(res) {
            seg.add(&match_frame(g, r).unwrap());
        }
        scores(&frames, Some(seg), gtt, rest, 3).unwrap()
    }

    #[test]
    fn matching_needs_more_than_half_of_the_reference() {
        // 4-pixel reference object 1; result 7 covers 2 (half: no match), 8 covers 3
        let m = match_frame(&frame("11.. 11.. .... ...."), &frame("77.. .... .... ....")).unwrap();
        assert!(m.pairs.is_empty());
        assert_eq!((m.reference.clone(), m.result.clone()), (vec![1], vec![7]));
        let m = match_frame(&frame("11.. 11.. .... ...."), &frame("888. 8... .... ....")).unwrap();
        assert_eq!(m.pairs.len(), 1);
        assert_eq!((m.pairs[0].reference, m.pairs[0].result), (1, 8));
        assert_eq!(m.pairs[0].iou, 3.0 / 5.0);
        assert!(match_frame(&[0, 1], &[1]).is_err());
    }

    #[test]
    fn a_perfect_result_scores_one_everywhere() {
        let (f, t) = lineage();
        // the same objects under other labels are just as perfect
        let relabel = |v: &Vec<u32>| v.iter().map(|&l| if l == 0 { 0 } else { l + 40 }).collect();
        let res: Vec<Vec<u32>> = f.iter().map(relabel).collect();
        let rt: Vec<CtcTrack> = t
            .iter()
            .map(|x| {
                track(
                    x.label + 40,
                    x.begin,
                    x.end,
                    if x.parent == 0 { 0 } else { x.parent + 40 },
                )
            })
            .collect();
        let s = score(&f, &res, &t, &rt);
        assert_eq!(s.aogm.vertices, 6);
        assert_eq!(s.aogm.edges, 5); // 1→1, 2→2, 3→3, and two parent links
        for (k, v) in s.entries() {
            match (k.as_str(), v) {
                ("CCA", Value::Score(x)) => assert_eq!(x, None, "no full cell cycle"),
                ("AOGM_0", _) | ("gt_divisions", _) => {}
                (k, Value::Score(x)) if k.starts_with("AOGM") => assert_eq!(x, Some(0.0)),
                (k, Value::Score(x)) => assert_eq!(x, Some(1.0), "{k}"),
                (k, Value::Count(n)) if k.starts_with("tp_div") => assert_eq!(n, 1),
                (k, Value::Count(n)) => assert_eq!(n, i64::from(k == "gt_divisions"), "{k}"),
            }
        }
    }

    #[test]
    fn an_empty_result_scores_zero() {
        let (f, t) = lineage();
        let res = vec![vec![0u32; 16]; 4];
        let s = score(&f, &res, &t, &[]);
        assert_eq!(s.aogm.fn_, 6);
        assert_eq!(s.aogm.ea, 5);
        for v in [
            s.det(),
            s.seg(),
            s.tra(),
            s.lnk(),
            s.ct(),
            Some(s.tf()),
            s.bc(0),
        ] {
            assert_eq!(v, Some(0.0));
        }
        assert_eq!(s.bio(0), Some(0.0));
    }

    #[test]
    fn a_missed_division_and_a_merge_are_counted() {
        let (f, t) = lineage();
        // the result keeps label 1 through frame 2 (the division missed: 2 is 1's pixels),
        // and merges 2 and 3 into one object in frame 3
        let res = vec![
            frame("11.. 11.. .... ...."),
            frame(".11. .11. .... ...."),
            frame("1... 1... ..55 ..55"),
            frame("11.. .... ..11 ..1."),
        ];
        let rt = vec![track(1, 0, 3, 0), track(5, 2, 2, 0)];
        let s = score(&f, &res, &t, &rt);
        // frame 3: result 1 covers both 2 (2 px of 2) and 3 (3 of 3): one split needed
        assert_eq!(s.aogm.ns, 1);
        assert_eq!((s.aogm.fn_, s.aogm.fp), (0, 0));
        // result edges between uniquely matched objects: 1→1 (frames 0→1), 1(f1)→1(f2) maps
        // onto the parent link 1→2 (kind differs), 5 has no edge; frame 3's merged object is
        // no unique match, so the reference edges 2→2, 3→3 and the parent link 1→3 are missing
        assert_eq!((s.aogm.ed, s.aogm.ec, s.aogm.ea), (0, 1, 3));
        assert_eq!(s.branching[0].tp, 0);
        assert_eq!(s.bc(0), Some(0.0));
        // CT: track 1 is complete in the reference only if result 1 also ends in frame 1
        assert_eq!(s.complete_tracks, 0);
    }

    #[test]
    fn invalid_sides_are_refused() {
        let (f, t) = lineage();
        let frames: Vec<FrameMatch> = f.iter().map(|g| match_frame(g, g).unwrap()).collect();
        let bad = vec![track(1, 0, 1, 0), track(2, 2, 3, 1)]; // 3 has no line
        let e = scores(&frames, None, &t, &bad, 0).unwrap_err().to_string();
        assert!(
            e.contains("result is not valid") && e.contains("label 3 has no track line"),
            "{e}"
        );
        let e = scores(&frames, None, &bad, &t, 0).unwrap_err().to_string();
        assert!(e.contains("ground truth is not valid"), "{e}");
    }

    #[test]
    fn undefined_measures_are_none() {
        // one frame, no object on either side, no SEG frame
        let frames = vec![match_frame(&[0; 4], &[0; 4]).unwrap()];
        let s = scores(&frames, None, &[], &[], 1).unwrap();
        assert_eq!(
            (s.det(), s.tra(), s.lnk(), s.seg(), s.ct()),
            (None, None, None, None, None)
        );
        assert_eq!((s.bc(0), s.cca()), (None, None));
        assert_eq!(s.bio(0), Some(0.0)); // TF alone (0: nothing detected)
        assert!(s.to_json().contains("\"DET\":null"));
        assert!(s.to_text().contains(&format!("{:<13}N/A\n", "DET")));
    }
}
