//! The tracker: frames go in one at a time, each is linked to the one before, and frames come
//! out with their objects renumbered by track id once nothing can change them any more.
//!
//! # How a frame is linked (frame t to frame t − 1)
//!
//! 0. **Doubtful objects** ([`Tracker::push_doubtful`]; `track` from the images passes those
//!    its shape filters, `--min-eccentricity` and `--max-width`, would drop): one that cells of
//!    the previous frame, moved by the drift (step 1), cover by at least half stays, flagged
//!    `interpolated` (its outline is not a cell's; most often two or more cells merged into
//!    one round object, which step 7 splits); the others are erased before anything else
//!    (also in the first frame, where nothing is tracked yet).
//! 1. **Drift.** The stage's shift between the frames: every pair of objects (one in each
//!    frame, of similar area, at most `max_drift` px apart) votes for its displacement; the
//!    three most voted displacements (votes summed over their 3×3 neighbourhoods), the previous
//!    frame's shift and no shift are scored by how many pixels the two foregrounds share, and
//!    the best is refined among its 8 neighbours. Ties go to the smaller shift. With no vote the
//!    previous frame's shift is kept.
//! 2. **Overlaps.** The pair histogram ([`super::overlap`]) of the previous frame moved by the
//!    drift and the current one.
//! 3. **A blurred frame.** When, right after a link that matched at least 75 % of the cells
//!    (a mother that divided in it counts as matched; in a dense late colony normal links
//!    match only 82–89 %, and at 90 % its blurred frames went unreplaced),
//!    at least 30 % of the previous frame's cells (and at least 10) overlap no current object
//!    with IoU ≥ 0.5, or the number of objects jumps by 30 % or more either way (with at least
//!    20 cells: a colony grows by a few per cent a frame; cells entering at the edge, touching
//!    it and overlapping nothing of the frame before, not counted) — the frame is out of focus and its
//!    cells broke into pieces or merged — the frame's segmentation is replaced by the previous
//!    frame's, moved by the drift (every cell flagged `interpolated`); at most `max_gap`
//!    frames in a row, so a real change of the scene is accepted after that. Frame 1 has no
//!    link before it: it is held until frame 2 comes, and frame 0 linking to frame 2 with at
//!    most 20 % of its cells unmatched stands in for that link.
//! 4. **Continue (1→1).** A maximum-weight assignment ([`crate::assign`]) of previous to current
//!    objects on their IoU (pairs with IoU ≥ 0.1), in integer weights.
//! 5. **Gap closing.** A track lost in the last `max_gap` frames (it had no successor) is found
//!    again when its last mask, moved by the drift since, overlaps an unassigned object with
//!    IoU ≥ 0.25 (an assignment again). The frames in between are repaired: the lost cell's
//!    mask, moved by the drift (and its own motion, interpolated), takes the background pixels
//!    it covers and, when one object holds at least half of it (two cells merged in a blurred
//!    frame), that object's pixels too. Those objects are flagged `interpolated` and left out
//!    of growth fits.
//! 6. **Divide (1→2).** An unassigned object that lies mostly (≥ 45 %) inside a previous
//!    object whose successor also lies mostly inside it, both smaller than 85 % of it, and
//!    together covering at least half of the part of it that stays in the frame once moved, is
//!    the second daughter: the mother's track ends in frame t − 1 and both daughters begin new
//!    tracks whose parent is the mother (the CTC rule).
//!    A mother *cut by the edge* (touching it in this frame and the one before) shows only
//!    part of herself: when one candidate daughter is coming into view there (touching the
//!    edge, part of her outside the frame a frame ago) and the other is not, the first is
//!    judged by her part that was inside the frame a frame ago (at least 75 % of it inside
//!    the moved mother, that part smaller than 85 % of her) and the other may be up to 90 %
//!    of what the frame showed of the mother (a cell entering right behind another, which
//!    looks the same, is what the tighter 75 % and 90 % keep out; the cells touching the
//!    edge in one frame only that looked like mothers on the development movies were cells
//!    the segmentation had merged with a sliver coming in).
//!    A cell at the frame's edge whose other daughter is outside the frame (or too small a
//!    piece to be an object) goes on in her track: nothing in the images tells the daughter
//!    from her mother, who only lost her part beyond the edge (the synthetic truth records it
//!    so too, [`crate::synth::timelapse`]).
//!    When frame t − 1 was replaced (step 3), its own segmentation is asked whether the
//!    division happened there already: if it holds two objects, each with at least 70 % of its
//!    pixels under one daughter's mask moved back by the drift (and more under its own
//!    daughter than under the other), each at least half inside the mother's drawn mask — or
//!    if, inside the mother's drawn mask, it parts the daughters (each daughter's moved mask,
//!    at least half of it inside the mother, 80 % one object there, a different one for each;
//!    those objects may hold neighbours too, merged by the blur) — the division is dated a
//!    frame earlier: the mother's drawn pixels in frame t − 1 go to the
//!    daughters (each pixel under a daughter's moved mask is hers, the rest go to the nearest
//!    through the mother, as in step 7; flagged `interpolated`), her track ends in t − 2 and
//!    theirs begin in t − 1 (`divisions_dated_back` in the stats). A blurred frame also
//!    breaks whole cells in pieces, which look the same: on the development movies (seeds
//!    2000–2005, out of focus and everything together) 35 divisions followed a replaced frame,
//!    15 of them truly in it; the first rule alone moved 3, all right (at 50 % instead of 70 %:
//!    7, 3 of them wrongly), both together 9, 1 wrongly.
//! 7. **Split a merge.** A previous cell without successor that lies mostly (≥ 50 % of it)
//!    inside an object continuing another cell (≥ 50 % of that one inside too) was merged with
//!    her neighbour by the segmentation (cells pressed together, a blurred frame). When both
//!    are *established* (their tracks began at least two frames ago, or they are daughters of
//!    the last frame's division: one frame's over-segmentation is not carried on) and the
//!    object holds them (its area at least 70 % of theirs, at least half of it covered by
//!    them), the object is split: each pixel under a cell's mask moved by the drift is hers,
//!    the rest go to the nearest of them through the object (a breadth-first flood,
//!    4-connected). The pieces continue the cells' tracks, flagged `interpolated` (their
//!    outlines are drawn, not measured: left out of growth fits). Unlike gap closing this
//!    needs no later frame that shows the cells apart again, so a merge that lasts to the end
//!    of the movie or beyond `max_gap` frames is repaired too.
//! 8. **Enter and leave.** Any other unassigned object begins a new track (a cell entering the
//!    field, or one found for the first time). Previous objects without successor are *lost*;
//!    they may be found again for `max_gap` frames (step 5), then their tracks end.
//!    With [`TrackOptions::edge_area`] set (`track`: the smallest cut cell the segmentation
//!    keeps), a cell the drift carries across the frame's edge is followed while at least
//!    `edge_area` of her pixels are inside, even one pixel further along the drift (the
//!    estimate is whole pixels, the stage's motion is not): the last pixels of a cell are a
//!    thin sliver whose blurred outline the segmentation misses. A cell at the edge lost now,
//!    part of her moved out, goes on as her mask moved by the drift (on background only); a
//!    new track at the edge overlapping nothing of the frame before begins a frame earlier as
//!    her mask moved back, where part of it was outside then. Both flagged `interpolated`.
//!
//! New track ids are handed out in the raster order of the objects' first pixels
//! ([`features::compact`]), so
//! the result is a deterministic function of the label images — the same on every backend and
//! for any number of threads — and does not depend on how the labels were numbered.
//!
//! # The window
//!
//! Gap closing edits the frames of the gap, so a frame is held until no later frame can edit
//! it: `max(max_gap, 1)` frames are in memory (labels, no pixels of the image), whatever the
//! length of the stack, and frame 1 waits for frame 2 (step 3). [`Tracker::push`] returns the frames that left the window,
//! [`Tracker::finish`] the rest and the lineage.

use std::collections::{BTreeMap, VecDeque};

use super::features::{self, Features};
use super::overlap::PairCount;
use super::TrackSummary;
use crate::assign::max_weight_matching;
use crate::error::{Error, Result};

/// How frames are linked.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrackOptions {
    /// Frames a cell may be missed and found again (`--max-gap`).
    pub max_gap: usize,
    /// The largest stage drift between two frames searched for, in pixels (`--max-drift`).
    pub max_drift: usize,
    /// A cell the drift moves across the frame's edge is followed while at least this many
    /// of its pixels are inside (module doc, step 8); 0: not followed. `track` sets it to
    /// [`Params::edge_area`](crate::Params::edge_area), the smallest cut cell the
    /// segmentation keeps.
    pub edge_area: u64,
}

impl Default for TrackOptions {
    fn default() -> Self {
        TrackOptions {
            max_gap: 2,
            max_drift: 30,
            edge_area: 0,
        }
    }
}

impl TrackOptions {
    /// Refuse options that cannot work.
    pub fn validate(&self) -> Result<()> {
        if self.max_gap > 50 {
            return Err(Error::param(
                "--max-gap",
                format!(
                    "{} frames is more than the 50 the tracker holds",
                    self.max_gap
                ),
            ));
        }
        if self.max_drift > 1000 {
            return Err(Error::param(
                "--max-drift",
                format!("{} px is more than 1000", self.max_drift),
            ));
        }
        Ok(())
    }
}

/// One object of a finished frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrackedCell {
    /// The track id (the object's label in [`TrackedFrame::ids`]).
    pub id: u32,
    /// The track's mother (0: none).
    pub parent: u32,
    pub features: Features,
    /// Pixels drawn or re-drawn by gap closing (module doc, step 4): not a measurement.
    pub interpolated: bool,
}

/// A frame whose track ids are final.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackedFrame {
    pub t: usize,
    pub width: usize,
    pub height: usize,
    /// The frame's labels as track ids (row-major, 0 = background).
    pub ids: Vec<u32>,
    /// Its objects by id.
    pub cells: Vec<TrackedCell>,
    /// The stage drift from the previous frame (rows, columns) and since the first frame.
    pub shift: (i32, i32),
    pub drift: (i64, i64),
}

/// A frame in the window.
struct Frame {
    t: usize,
    /// Compact labels (may grow by gap closing).
    labels: Vec<u32>,
    /// Index → track id (index 0 unused).
    ids: Vec<u32>,
    /// Index → drawn by gap closing.
    interpolated: Vec<bool>,
    cells: Vec<Features>,
    /// The foreground of `labels`, one bit per pixel ([`run_bits`]; kept in step with
    /// `labels`), for the drift's overlap counts.
    fg: Vec<u64>,
    shift: (i32, i32),
    drift: (i64, i64),
    /// Consecutive frames replaced by the one before (this one included; 0: a real frame).
    repaired: usize,
    /// A replaced frame's own segmentation (compact labels), kept while the frame is in the
    /// window: the next link reads divisions in it (step 6).
    blurred: Option<Vec<u32>>,
}

impl Frame {
    /// Erase the objects `drop[k]` (their indices stay, with no pixels).
    fn drop_objects(&mut self, drop: &[bool], w: usize, h: usize) {
        for l in self.labels.iter_mut() {
            if drop[*l as usize] {
                *l = 0;
            }
        }
        let runs = features::runs(&self.labels, w);
        self.cells = features::measure_runs(&runs, w, h, self.ids.len() - 1);
        self.fg = run_bits(&runs, w, h);
    }
}

impl Frame {
    /// Give the (background) pixels `px` to the new object index `k`.
    fn draw(&mut self, px: &[usize], k: u32, w: usize) {
        let words = w.div_ceil(64);
        for &p in px {
            self.labels[p] = k;
            let (y, x) = (p / w, p % w);
            self.fg[y * words + x / 64] |= 1 << (x % 64);
        }
    }
}

/// Each object of `prev`'s best IoU with an object of `cur` (`hist`: their pair histogram).
fn best_iou(prev: &Frame, cur: &Frame, hist: &[PairCount]) -> Vec<f64> {
    let mut best = vec![0.0f64; prev.cells.len()];
    for p in hist {
        let o = f64::from(p.pixels);
        let a = f64::from(prev.cells[p.prev as usize].area);
        let b = f64::from(cur.cells[p.cur as usize].area);
        let v = &mut best[p.prev as usize];
        *v = v.max(o / (a + b - o));
    }
    best
}

/// The pixels of the objects `objs` (indices into `labels`, sorted) moved by `d` that land
/// inside the frame, and how many of them would still land inside moved one pixel further
/// along each axis `d` moves on (the drift is whole pixels, the stage's motion is not); by
/// object, in the order of `objs`. One pass over `labels`.
fn moved_masks(
    labels: &[u32],
    objs: &[usize],
    d: (i64, i64),
    (w, h): (usize, usize),
) -> Vec<(usize, Vec<usize>, usize)> {
    if objs.is_empty() {
        return Vec::new();
    }
    let further = (d.0 + d.0.signum(), d.1 + d.1.signum());
    let n = objs.iter().max().copied().unwrap_or(0);
    let mut slot = vec![usize::MAX; n + 1];
    for (k, &i) in objs.iter().enumerate() {
        slot[i] = k;
    }
    let mut out: Vec<(usize, Vec<usize>, usize)> =
        objs.iter().map(|&i| (i, Vec::new(), 0)).collect();
    for (q, &l) in labels.iter().enumerate() {
        let k = slot.get(l as usize).copied().unwrap_or(usize::MAX);
        if k != usize::MAX {
            if let Some(p) = moved(q, d, w, h) {
                out[k].1.push(p);
            }
            if moved(q, further, w, h).is_some() {
                out[k].2 += 1;
            }
        }
    }
    out
}

/// A track without successor, which may still be found again.
struct Lost {
    id: u32,
    t_last: usize,
    /// Its pixels (linear indices) in frame `t_last`.
    pixels: Vec<u32>,
    drift_last: (i64, i64),
    y: f64,
    x: f64,
}

/// A point of a track (a frame of it), kept until the track is done.
#[derive(Clone, Copy)]
struct Point {
    t: usize,
    length: f64,
    border: bool,
    interpolated: bool,
}

struct Track {
    parent: u32,
    generation: u32,
    start: usize,
    /// The last frame linked (may grow by gap closing).
    end: usize,
    children: Vec<u32>,
    points: Vec<Point>,
    /// The last frame in the window where the cell touched the frame's edge, and how many
    /// frames in a row up to it she did (step 6: a mother cut by the edge).
    at_edge: (usize, usize),
    /// Summarised (the points are gone).
    done: bool,
}

/// What a tracker counts as it goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrackStats {
    pub frames: usize,
    pub tracks: usize,
    pub divisions: usize,
    pub gaps_closed: usize,
    /// Frames whose segmentation was replaced by the frame before (blurred frames).
    pub frames_repaired: usize,
    /// Cells split again out of an object that merged them with a neighbour.
    pub merges_split: usize,
    /// Frames of cells followed across the frame's edge (drawn where the drift moved them).
    pub edge_frames: usize,
    /// Divisions moved back into the replaced frame before them (step 6).
    pub divisions_dated_back: usize,
}

/// A frame-by-frame tracker (module doc).
pub struct Tracker {
    opts: TrackOptions,
    width: usize,
    height: usize,
    window: VecDeque<Frame>,
    lost: Vec<Lost>,
    tracks: Vec<Track>,
    summaries: Vec<TrackSummary>,
    stats: TrackStats,
    /// The last finished frame.
    finished: Option<usize>,
    /// Whether the last real link matched almost every cell (the blurred-frame rule only
    /// fires after such a link: in a movie of swimming cells nothing matches, and that is
    /// the movie, not a blurred frame).
    last_link_good: bool,
    /// Frame 1 and its doubtful objects, held until frame 2 tells whether it is blurred: no
    /// link before it can.
    pending: Option<(Frame, Vec<bool>)>,
}

/// The pair histogram the tracker uses: the CPU twin, or a backend's.
pub type PairFn<'a> =
    dyn Fn(&[u32], &[u32], usize, usize, (i32, i32)) -> Result<Vec<PairCount>> + 'a;

impl Tracker {
    /// A tracker for frames of `width × height`.
    pub fn new(width: usize, height: usize, opts: TrackOptions) -> Result<Tracker> {
        opts.validate()?;
        if width == 0 || height == 0 {
            return Err(Error::BadData(format!(
                "frames of {width}×{height} pixels: nothing to track"
            )));
        }
        Ok(Tracker {
            opts,
            width,
            height,
            window: VecDeque::new(),
            lost: Vec::new(),
            tracks: Vec::new(),
            summaries: Vec::new(),
            stats: TrackStats::default(),
            finished: None,
            last_link_good: false,
            pending: None,
        })
    }

    /// What was counted so far.
    pub fn stats(&self) -> TrackStats {
        self.stats
    }

    /// Link the next frame's labels (any labels; 0 is background) and return the frames that
    /// are final now, oldest first. `pairs` computes the pair histogram.
    pub fn push(&mut self, labels: &[u32], pairs: &PairFn<'_>) -> Result<Vec<TrackedFrame>> {
        self.push_doubtful(labels, &[], pairs)
    }

    /// [`push`](Self::push), where the objects whose labels `doubtful` lists (sorted) are kept
    /// only where they hold cells tracked in the frame before (module doc, step 0): the objects
    /// a shape filter would drop, one of them maybe two cells merged.
    pub fn push_doubtful(
        &mut self,
        labels: &[u32],
        doubtful: &[u32],
        pairs: &PairFn<'_>,
    ) -> Result<Vec<TrackedFrame>> {
        let (w, h) = (self.width, self.height);
        if labels.len() != w * h {
            return Err(Error::BadData(format!(
                "frame {}: {} pixels, but the first frame has {w}×{h} = {}",
                self.stats.frames,
                labels.len(),
                w * h
            )));
        }
        if !doubtful.windows(2).all(|p| p[0] < p[1]) {
            return Err(Error::BadData(
                "the doubtful labels are not sorted without repeats".into(),
            ));
        }
        let t = self.stats.frames;
        let (compact, original, runs) = features::compact_runs(labels, w);
        let n = original.len() - 1;
        let doubt: Vec<bool> = original
            .iter()
            .map(|&l| l != 0 && doubtful.binary_search(&l).is_ok())
            .collect();
        let cells = features::measure_runs(&runs, w, h, n);
        let fg = run_bits(&runs, w, h);
        let mut cur = Frame {
            t,
            labels: compact,
            ids: vec![0; n + 1],
            interpolated: vec![false; n + 1],
            cells,
            fg,
            shift: (0, 0),
            drift: (0, 0),
            repaired: 0,
            blurred: None,
        };
        self.stats.frames += 1;
        if self.window.is_empty() {
            // nothing tracked yet: no doubtful object is kept
            if doubt.contains(&true) {
                cur.drop_objects(&doubt, w, h);
            }
            self.new_tracks(&mut cur);
            return Ok(self.accept(cur));
        }
        if t == 1 {
            // no link before frame 1 can tell whether it is blurred: frame 2 will (step 3)
            self.pending = Some((cur, doubt));
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        if let Some((mut first, first_doubt)) = self.pending.take() {
            self.last_link_good = self.links_well_past(&cur, pairs)?;
            self.link(&mut first, &first_doubt, pairs)?;
            out.extend(self.accept(first));
        }
        self.link(&mut cur, &doubt, pairs)?;
        out.extend(self.accept(cur));
        Ok(out)
    }

    /// Put a linked frame into the window; the frames that leave it, finished.
    fn accept(&mut self, cur: Frame) -> Vec<TrackedFrame> {
        for (k, &id) in cur.ids.iter().enumerate().skip(1) {
            let c = &cur.cells[k];
            if c.area > 0 {
                let tr = &mut self.tracks[id as usize - 1];
                tr.end = cur.t;
                if c.touches_border {
                    let run = if tr.at_edge.1 > 0 && tr.at_edge.0 + 1 == cur.t {
                        tr.at_edge.1 + 1
                    } else {
                        1
                    };
                    tr.at_edge = (cur.t, run);
                }
            }
        }
        self.window.push_back(cur);
        let mut out = Vec::new();
        while self.window.len() > self.opts.max_gap.max(1) {
            let f = self.window.pop_front().expect("window is not empty");
            out.push(self.finish_frame(f));
        }
        out
    }

    /// Whether frame 0 links well to `cur` (frame 2), skipping frame 1: at most 20 % of its
    /// cells (two frames' divisions) overlap no object of `cur` with IoU ≥ 0.5. Stands in for
    /// the good link before frame 1 that step 3 asks for (in a movie of swimming cells it
    /// fails, and frame 1 is taken as it is).
    fn links_well_past(&self, cur: &Frame, pairs: &PairFn<'_>) -> Result<bool> {
        let (w, h) = (self.width, self.height);
        let first = self.window.back().expect("frame 0");
        let shift = estimate_drift(first, cur, w, h, 2 * self.opts.max_drift);
        let hist = pairs(&first.labels, &cur.labels, w, h, shift)?;
        let np = first.cells.len() - 1;
        let best_iou = best_iou(first, cur, &hist);
        let alive = (1..=np).filter(|&i| first.cells[i].area > 0).count();
        let poor = (1..=np)
            .filter(|&i| first.cells[i].area > 0 && best_iou[i] < 0.5)
            .count();
        Ok(alive >= 5 && 10 * poor <= 2 * alive)
    }

    /// The frames still in the window and the lineage (every track, by id).
    pub fn finish(mut self) -> (Vec<TrackedFrame>, Vec<TrackSummary>, TrackStats) {
        let mut out = Vec::new();
        if let Some((mut first, first_doubt)) = self.pending.take() {
            // a movie of two frames: frame 1 is linked as it is (the CPU twin's histogram,
            // which every backend's equals)
            let twin = |a: &[u32], b: &[u32], w: usize, h: usize, s: (i32, i32)| {
                Ok(super::overlap::pair_histogram(a, b, w, h, s))
            };
            self.link(&mut first, &first_doubt, &twin)
                .expect("linking with the CPU twin's histogram cannot fail");
            out.extend(self.accept(first));
        }
        while let Some(f) = self.window.pop_front() {
            out.push(self.finish_frame(f));
        }
        self.lost.clear();
        for id in 1..=self.tracks.len() as u32 {
            self.summarise(id);
        }
        let mut s = std::mem::take(&mut self.summaries);
        s.sort_by_key(|x| x.id);
        (out, s, self.stats)
    }

    fn new_id(&mut self, parent: u32, start: usize) -> u32 {
        let generation = if parent == 0 {
            0
        } else {
            self.tracks[parent as usize - 1].generation + 1
        };
        self.tracks.push(Track {
            parent,
            generation,
            start,
            end: start,
            children: Vec::new(),
            points: Vec::new(),
            at_edge: (0, 0),
            done: false,
        });
        self.stats.tracks += 1;
        self.tracks.len() as u32
    }

    /// New tracks (no parent) for every object of the first frame, in index order.
    fn new_tracks(&mut self, cur: &mut Frame) {
        for k in 1..cur.ids.len() {
            if cur.cells[k].area > 0 {
                cur.ids[k] = self.new_id(0, cur.t);
            }
        }
    }

    fn link(&mut self, cur: &mut Frame, doubt: &[bool], pairs: &PairFn<'_>) -> Result<()> {
        let (w, h) = (self.width, self.height);
        let t = cur.t;
        // lost tracks too old to be found again end here
        let oldest = t.saturating_sub(1 + self.opts.max_gap);
        let expired: Vec<u32> = self
            .lost
            .iter()
            .filter(|l| l.t_last < oldest)
            .map(|l| l.id)
            .collect();
        self.lost.retain(|l| l.t_last >= oldest);
        for id in expired {
            // its frames are all finished once the window has moved past them
            if self
                .finished
                .is_some_and(|f| f >= self.tracks[id as usize - 1].end)
            {
                self.summarise(id);
            }
        }
        let prev = self.window.back().expect("a previous frame");
        let shift = estimate_drift(prev, cur, w, h, self.opts.max_drift);
        cur.shift = shift;
        cur.drift = (
            prev.drift.0 + i64::from(shift.0),
            prev.drift.1 + i64::from(shift.1),
        );
        let mut hist = pairs(&prev.labels, &cur.labels, w, h, shift)?;
        let (np, nc) = (prev.cells.len() - 1, cur.cells.len() - 1);
        // 0. a doubtful object stays where cells of the frame before (moved by the drift)
        // cover at least half of it, flagged: its outline is not a cell's
        if doubt.contains(&true) {
            let mut held = vec![0u64; nc + 1];
            for p in &hist {
                held[p.cur as usize] += u64::from(p.pixels);
            }
            let drop: Vec<bool> = (0..=nc)
                .map(|j| doubt[j] && 2 * held[j] < u64::from(cur.cells[j].area))
                .collect();
            for j in 1..=nc {
                if doubt[j] && !drop[j] {
                    cur.interpolated[j] = true;
                }
            }
            if drop.contains(&true) {
                cur.drop_objects(&drop, w, h);
                hist.retain(|p| !drop[p.cur as usize]);
            }
        }
        let area_p = |i: u32| f64::from(prev.cells[i as usize].area);
        let area_c = |j: u32| f64::from(cur.cells[j as usize].area);
        // 3. continue: 1→1 on IoU
        // (and each previous cell's best IoU, for the blurred-frame rule below)
        let mut edges = Vec::new();
        for p in &hist {
            let o = f64::from(p.pixels);
            let iou = o / (area_p(p.prev) + area_c(p.cur) - o);
            if iou >= 0.1 {
                edges.push((p.prev as usize, p.cur as usize, (iou * 1e6).round() as i64));
            }
        }
        let best_iou = best_iou(prev, cur, &hist);
        // a frame where many cells lose their match at once (out of focus: cells break into
        // pieces or merge) is replaced by the frame before, moved by the drift
        let alive = (1..=np).filter(|&i| prev.cells[i].area > 0).count();
        let poor = (1..=np)
            .filter(|&i| prev.cells[i].area > 0 && best_iou[i] < 0.5)
            .count();
        // cells entering at the edge (touching it, overlapping nothing of the frame before)
        // are no pieces of a blurred frame: the count rule leaves them out
        let mut seen = vec![false; nc + 1];
        for p in &hist {
            seen[p.cur as usize] = true;
        }
        let now = (1..=nc)
            .filter(|&j| cur.cells[j].area > 0 && (seen[j] || !cur.cells[j].touches_border))
            .count();
        // a burst of divisions in a small colony must not look like a blurred frame: the
        // count rule needs 20 cells, the match rule 10
        let count_jump = alive >= 20 && (10 * now >= 13 * alive || 10 * now <= 7 * alive);
        let unmatched = alive >= 10 && 10 * poor >= 3 * alive;
        let good_before = self.last_link_good;
        if prev.repaired == 0 {
            self.last_link_good = alive >= 5 && 4 * poor <= alive;
        }
        if good_before && (count_jump || unmatched) && prev.repaired < self.opts.max_gap {
            let (w, h) = (self.width, self.height);
            let d = (i64::from(shift.0), i64::from(shift.1));
            let mut labels = vec![0u32; w * h];
            for (q, &l) in prev.labels.iter().enumerate() {
                if l != 0 {
                    if let Some(p) = moved(q, d, w, h) {
                        labels[p] = l;
                    }
                }
            }
            let n = prev.ids.len() - 1;
            let runs = features::runs(&labels, w);
            cur.cells = features::measure_runs(&runs, w, h, n);
            cur.fg = run_bits(&runs, w, h);
            cur.blurred = Some(std::mem::replace(&mut cur.labels, labels));
            cur.ids = prev.ids.clone();
            cur.interpolated = vec![true; n + 1];
            cur.repaired = prev.repaired + 1;
            self.stats.frames_repaired += 1;
            return Ok(());
        }
        let matched = max_weight_matching(np + 1, nc + 1, &edges);
        // the 1→1 successors, before divisions reuse some of them as daughters
        let continued = matched.clone();
        let mut succ: Vec<Option<usize>> = matched; // prev index → cur index
        let mut taken = vec![false; nc + 1];
        for (i, m) in succ.iter().enumerate() {
            if let Some(j) = *m {
                taken[j] = true;
                cur.ids[j] = prev.ids[i];
            }
        }
        // 4. gap closing: lost tracks against unassigned objects
        let mut gap_edges = Vec::new();
        for (li, l) in self.lost.iter().enumerate() {
            let d = (cur.drift.0 - l.drift_last.0, cur.drift.1 - l.drift_last.1);
            let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
            for &q in &l.pixels {
                if let Some(p) = moved(q as usize, d, w, h) {
                    let j = cur.labels[p];
                    if j != 0 && !taken[j as usize] {
                        *counts.entry(j).or_default() += 1;
                    }
                }
            }
            for (j, o) in counts {
                let o = f64::from(o);
                let iou = o / (l.pixels.len() as f64 + area_c(j) - o);
                if iou >= 0.25 {
                    gap_edges.push((li, j as usize, (iou * 1e6).round() as i64));
                }
            }
        }
        let mut closed: Vec<(usize, usize)> = Vec::new(); // (lost index, cur index)
        if !gap_edges.is_empty() {
            let m = max_weight_matching(self.lost.len(), nc + 1, &gap_edges);
            for (li, j) in m.into_iter().enumerate() {
                if let Some(j) = j {
                    closed.push((li, j));
                    taken[j] = true;
                    cur.ids[j] = self.lost[li].id;
                }
            }
        }
        // 5. divisions: an unassigned object mostly inside a previous one
        let mut overlap_of: BTreeMap<(u32, u32), f64> = BTreeMap::new();
        for p in &hist {
            overlap_of.insert((p.prev, p.cur), f64::from(p.pixels));
        }
        let ov = |i: usize, j: usize| -> f64 {
            overlap_of
                .get(&(i as u32, j as u32))
                .copied()
                .unwrap_or(0.0)
        };
        // each previous object's pixels that stay inside the frame once moved by the drift,
        // and each current object's pixels that were inside it a frame ago (moved back)
        let inside = inside_when_moved(&prev.labels, &prev.cells, shift, (w, h));
        let before = inside_when_moved(&cur.labels, &cur.cells, (-shift.0, -shift.1), (w, h));
        // an object coming into view at the edge: part of it was outside a frame ago
        let emerging = |j: usize| cur.cells[j].touches_border && before[j] < cur.cells[j].area;
        // a mother cut by the edge (touching it in this frame and the one before: not a cell
        // the segmentation merged with a sliver coming in) shows only part of herself
        let cut: Vec<bool> = (0..=np)
            .map(|i| {
                let c = &prev.cells[i];
                i > 0 && c.area > 0 && c.touches_border && {
                    let e = self.tracks[prev.ids[i] as usize - 1].at_edge;
                    e.0 == prev.t && e.1 >= 2
                }
            })
            .collect();
        // a daughter coming into view beside mother i cut by the edge, overlapping her by o:
        // at least 75 % of her part that was inside the frame a frame ago lies inside the mother
        let coming =
            |i: usize, j: usize, o: f64| cut[i] && emerging(j) && o >= 0.75 * f64::from(before[j]);
        // candidates per mother: (overlap, cur index) of unassigned objects mostly inside her
        let mut second: BTreeMap<usize, Vec<(u64, usize)>> = BTreeMap::new();
        for p in &hist {
            let (i, j) = (p.prev as usize, p.cur as usize);
            // a doubtful object is no daughter (a newborn rod passes the shape filters; a
            // round piece of a blurred frame does not)
            if taken[j] || doubt[j] {
                continue;
            }
            let o = f64::from(p.pixels);
            if coming(i, j, o)
                || (o >= 0.45 * area_c(p.cur) && area_c(p.cur) <= 0.85 * area_p(p.prev))
            {
                second.entry(i).or_default().push((u64::from(p.pixels), j));
            }
        }
        // an unassigned object may qualify for two mothers: the one it overlaps most wins
        let mut best_mother: BTreeMap<usize, (u64, usize)> = BTreeMap::new();
        for (&i, cands) in &second {
            for &(o, j) in cands {
                let e = best_mother.entry(j).or_insert((o, i));
                if o > e.0 || (o == e.0 && i < e.1) {
                    *e = (o, i);
                }
            }
        }
        let mut divisions: Vec<(usize, usize, usize)> = Vec::new(); // (mother, d1, d2)
        for (&i, cands) in &second {
            let mut cands: Vec<(u64, usize)> = cands
                .iter()
                .copied()
                .filter(|&(_, j)| best_mother.get(&j).map(|b| b.1) == Some(i))
                .collect();
            // largest overlap first, then the smaller index
            cands.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let a = area_p(i as u32);
            // the part of the moved mother still inside the frame (a mother cut by the edge)
            let a_in = f64::from(inside[i]);
            let ok = |j1: usize, j2: usize| {
                let (o1, o2) = (ov(i, j1), ov(i, j2));
                let both = o1 + o2 >= 0.5 * a_in;
                // a mother cut by the edge, one daughter coming into view there: that one is
                // judged by her part that was inside the frame a frame ago (75 % of it inside
                // the mother, smaller than her), the other may be up to 90 % of what the frame
                // showed of the mother
                if cut[i] && emerging(j1) != emerging(j2) {
                    let (d, e) = if emerging(j2) { (j1, j2) } else { (j2, j1) };
                    let known = f64::from(before[e]);
                    return both
                        && coming(i, e, ov(i, e))
                        && known <= 0.85 * a
                        && ov(i, d) >= 0.45 * area_c(d as u32)
                        && area_c(d as u32) <= 0.9 * a;
                }
                o1 >= 0.45 * area_c(j1 as u32)
                    && o2 >= 0.45 * area_c(j2 as u32)
                    && area_c(j1 as u32) <= 0.85 * a
                    && area_c(j2 as u32) <= 0.85 * a
                    && both
            };
            let pick = match succ[i] {
                Some(j1) => cands.iter().find(|c| ok(j1, c.1)).map(|c| (j1, c.1)),
                None => {
                    let mut found = None;
                    'outer: for x in 0..cands.len() {
                        for y in x + 1..cands.len() {
                            if ok(cands[x].1, cands[y].1) {
                                found = Some((cands[x].1, cands[y].1));
                                break 'outer;
                            }
                        }
                    }
                    found
                }
            };
            if let Some((j1, j2)) = pick {
                divisions.push((i, j1.min(j2), j1.max(j2)));
                taken[j1] = true;
                taken[j2] = true;
                succ[i] = Some(j1);
            }
        }
        // the link is judged again, a mother that divided being no lost match: a few
        // divisions must not keep the next blurred frame from being replaced (step 3)
        if prev.repaired == 0 {
            let mut divided = vec![false; np + 1];
            for d in &divisions {
                divided[d.0] = true;
            }
            let lost_match = (1..=np)
                .filter(|&i| prev.cells[i].area > 0 && best_iou[i] < 0.5 && !divided[i])
                .count();
            self.last_link_good = alive >= 5 && 4 * lost_match <= alive;
        }
        // 7. merges: previous cells without successor lying mostly inside an object that
        // continues another cell (the segmentation merged them): that object is split
        let splits = self.find_merges(prev, cur, &hist, &continued, &succ, &divisions);
        for (j, seeds) in &splits {
            let pieces = split_object(prev, cur, *j, seeds, (w, h));
            for (&i, k) in seeds.iter().skip(1).zip(pieces) {
                succ[i] = Some(k);
                self.stats.merges_split += 1;
            }
        }
        // 8a. a cell the drift moves out of the frame, lost now, goes on as her mask moved
        // by the drift while `edge_area` pixels of her are inside (a thin sliver at the edge,
        // whose blurred outline the segmentation misses)
        if self.opts.edge_area > 0 {
            let leaving: Vec<usize> = (1..=np)
                .filter(|&i| {
                    let c = &prev.cells[i];
                    succ[i].is_none()
                        && c.area > 0
                        && c.touches_border
                        && inside[i] < c.area
                        && u64::from(inside[i]) >= self.opts.edge_area
                })
                .collect();
            let d = (i64::from(shift.0), i64::from(shift.1));
            // the drift is a whole number of pixels, the stage's is not: the cell must keep
            // `edge_area` pixels inside even one pixel further out
            for (i, px, further) in moved_masks(&prev.labels, &leaving, d, (w, h)) {
                let free: Vec<usize> = px.into_iter().filter(|&p| cur.labels[p] == 0).collect();
                if (free.len().min(further) as u64) < self.opts.edge_area {
                    continue;
                }
                let k = cur.ids.len();
                cur.draw(&free, k as u32, w);
                cur.ids.push(prev.ids[i]);
                cur.interpolated.push(true);
                succ[i] = Some(k);
                self.stats.edge_frames += 1;
            }
            if cur.cells.len() < cur.ids.len() {
                cur.cells = features::measure(&cur.labels, w, h, cur.ids.len() - 1);
            }
        }
        // new ids in the order of the current frame's labels: daughters and entering cells
        let mut daughter_of: BTreeMap<usize, u32> = BTreeMap::new();
        for &(i, d1, d2) in &divisions {
            let mother = prev.ids[i];
            daughter_of.insert(d1, mother);
            daughter_of.insert(d2, mother);
        }
        let prev_ids = prev.ids.clone();
        let prev_drift = prev.drift;
        let prev_t = prev.t;
        // lost now: previous objects without successor
        let mut newly_lost: Vec<usize> = (1..=np)
            .filter(|&i| succ[i].is_none() && prev.cells[i].area > 0)
            .collect();
        newly_lost.sort_unstable();
        // the pixels of each newly lost object, in one pass
        let mut slot = vec![usize::MAX; np + 1];
        for (k, &i) in newly_lost.iter().enumerate() {
            slot[i] = k;
        }
        let mut lost_pixels: Vec<Vec<u32>> = newly_lost
            .iter()
            .map(|&i| Vec::with_capacity(prev.cells[i].area as usize))
            .collect();
        if !newly_lost.is_empty() {
            for (q, &l) in prev.labels.iter().enumerate() {
                let k = slot[l as usize];
                if k != usize::MAX {
                    lost_pixels[k].push(q as u32);
                }
            }
        }
        let lost_centroids: Vec<(f64, f64)> = newly_lost
            .iter()
            .map(|&i| (prev.cells[i].y, prev.cells[i].x))
            .collect();
        // repair the gaps of the tracks found again, then forget them as lost; a track whose
        // mask cannot be drawn into every frame of its gap (moved out of the frame) is not
        // continued: the object begins a new track instead
        closed.sort_unstable();
        for &(li, j) in closed.iter().rev() {
            let l = self.lost.swap_remove(li);
            if self.close_gap(&l, cur, j) {
                self.stats.gaps_closed += 1;
            } else {
                taken[j] = false;
                cur.ids[j] = 0;
                self.lost.push(l);
            }
        }
        // a doubtful object that continues no cell begins no track either: it goes
        let erase: Vec<bool> = (0..cur.ids.len())
            .map(|j| j <= nc && doubt[j] && !taken[j] && cur.cells[j].area > 0)
            .collect();
        if erase.contains(&true) {
            cur.drop_objects(&erase, w, h);
        }
        let mut entering = Vec::new();
        #[allow(clippy::needless_range_loop)] // j indexes cells, taken, ids and daughter_of
        for j in 1..=nc {
            if cur.cells[j].area == 0 {
                continue;
            }
            if let Some(&mother) = daughter_of.get(&j) {
                let id = self.new_id(mother, t);
                self.tracks[mother as usize - 1].children.push(id);
                cur.ids[j] = id;
            } else if !taken[j] {
                cur.ids[j] = self.new_id(0, t);
                let c = &cur.cells[j];
                if self.opts.edge_area > 0 && c.touches_border && !seen[j] {
                    entering.push(j);
                }
            }
        }
        // 6b. a division right after a replaced frame whose own segmentation shows both
        // daughters apart happened there already
        if !divisions.is_empty() {
            self.stats.divisions_dated_back += self.date_back(&divisions, cur);
        }
        // 8b. a cell entering at the edge, overlapping nothing of the frame before, begins
        // there already as her mask moved back by the drift where `edge_area` pixels of her
        // were inside (one pixel further back too) and part of her outside
        if !entering.is_empty() {
            let back = (-i64::from(shift.0), -i64::from(shift.1));
            let masks = moved_masks(&cur.labels, &entering, back, (w, h));
            let prev = self.window.back_mut().expect("a previous frame");
            let mut drawn = false;
            for (j, px, further) in masks {
                let inside_before = px.len();
                let free: Vec<usize> = px.into_iter().filter(|&p| prev.labels[p] == 0).collect();
                if inside_before >= cur.cells[j].area as usize
                    || (free.len().min(further) as u64) < self.opts.edge_area
                {
                    continue;
                }
                let k = prev.ids.len();
                prev.draw(&free, k as u32, w);
                prev.ids.push(cur.ids[j]);
                prev.interpolated.push(true);
                let tr = &mut self.tracks[cur.ids[j] as usize - 1];
                tr.start = prev.t;
                self.stats.edge_frames += 1;
                drawn = true;
            }
            if drawn {
                prev.cells = features::measure(&prev.labels, w, h, prev.ids.len() - 1);
            }
        }
        self.stats.divisions += divisions.len();
        for (k, &i) in newly_lost.iter().enumerate() {
            self.lost.push(Lost {
                id: prev_ids[i],
                t_last: prev_t,
                pixels: std::mem::take(&mut lost_pixels[k]),
                drift_last: prev_drift,
                y: lost_centroids[k].0,
                x: lost_centroids[k].1,
            });
        }
        Ok(())
    }

    /// Step 6, divisions after a replaced frame: the division `(mother, d1, d2)` (indices of
    /// the previous frame and of `cur`) is moved back into the previous frame when that frame
    /// was replaced (step 3) and its own segmentation holds two objects, one with at least
    /// 70 % of its pixels under each daughter's mask moved back by the drift, each at least
    /// half inside the mother's drawn mask and
    /// under its own daughter more than under the other, or parts the daughters inside the
    /// mother's drawn mask (the module doc, step 6): the mother's drawn pixels go to the
    /// daughters (each pixel under a daughter's moved mask is hers, the rest go to the nearest
    /// through the mother, as in step 7), the mother's track ends a frame earlier and the
    /// daughters' begin there. A mother whose track begins in the replaced frame keeps it.
    /// Returns how many divisions moved.
    fn date_back(&mut self, divisions: &[(usize, usize, usize)], cur: &Frame) -> usize {
        let (w, h) = (self.width, self.height);
        let Some(prev) = self.window.back() else {
            return 0;
        };
        let Some(blurred) = prev.blurred.as_ref() else {
            return 0;
        };
        let back = (-i64::from(cur.shift.0), -i64::from(cur.shift.1));
        let mut daughters: Vec<usize> = divisions.iter().flat_map(|d| [d.1, d.2]).collect();
        daughters.sort_unstable();
        daughters.dedup();
        let masks: BTreeMap<usize, Vec<usize>> = moved_masks(&cur.labels, &daughters, back, (w, h))
            .into_iter()
            .map(|(j, px, _)| (j, px))
            .collect();
        let nb = blurred.iter().copied().max().unwrap_or(0) as usize;
        let mut area_b = vec![0u64; nb + 1];
        for &l in blurred {
            area_b[l as usize] += 1;
        }
        // the blurred objects under a mask: (label, pixels), most pixels first
        let under = |px: &[usize]| -> Vec<(u32, u64)> {
            let mut c: BTreeMap<u32, u64> = BTreeMap::new();
            for &p in px {
                if blurred[p] != 0 {
                    *c.entry(blurred[p]).or_default() += 1;
                }
            }
            let mut v: Vec<(u32, u64)> = c.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v
        };
        let mut moves: Vec<(usize, usize, usize)> = Vec::new();
        for &(i, d1, d2) in divisions {
            let mother = prev.ids[i];
            if self.tracks[mother as usize - 1].start >= prev.t {
                continue;
            }
            let (m1, m2) = (&masks[&d1], &masks[&d2]);
            // inside the mother's drawn mask the blurred segmentation parts the daughters:
            // each daughter at least half inside the mother, her part there at least 80 % one
            // object, a different one for each (whatever else those objects hold)
            let part = |m: &[usize]| -> Option<(u32, u64, u64)> {
                let inside: Vec<usize> = m
                    .iter()
                    .copied()
                    .filter(|&p| prev.labels[p] as usize == i)
                    .collect();
                let n = inside.len() as u64;
                let (b, k) = under(&inside).first().copied()?;
                (10 * k >= 8 * n && 2 * n >= m.len() as u64).then_some((b, k, n))
            };
            let parted = matches!((part(m1), part(m2)), (Some(a), Some(b)) if a.0 != b.0);
            if parted {
                moves.push((i, d1, d2));
                continue;
            }
            // or it holds two objects, each mostly under one daughter (more than under the
            // other) and at least half inside the mother
            let (u1, u2) = (under(m1), under(m2));
            let (Some(&(b1, o1)), Some(&(b2, o2))) = (u1.first(), u2.first()) else {
                continue;
            };
            if b1 == b2 {
                continue;
            }
            let of = |u: &[(u32, u64)], b: u32| u.iter().find(|x| x.0 == b).map_or(0, |x| x.1);
            let mut in_mother = [0u64; 2];
            for (p, &l) in prev.labels.iter().enumerate() {
                if l as usize == i {
                    if blurred[p] == b1 {
                        in_mother[0] += 1;
                    } else if blurred[p] == b2 {
                        in_mother[1] += 1;
                    }
                }
            }
            let ok = |b: u32, o: u64, other: u64, inside: u64| {
                let a = area_b[b as usize];
                10 * o >= 7 * a && 2 * inside >= a && o > other
            };
            if ok(b1, o1, of(&u2, b1), in_mother[0]) && ok(b2, o2, of(&u1, b2), in_mother[1]) {
                moves.push((i, d1, d2));
            }
        }
        if moves.is_empty() {
            return 0;
        }
        let prev_t = prev.t;
        let prev = self.window.back_mut().expect("a previous frame");
        for &(i, d1, d2) in &moves {
            let k1 = prev.ids.len();
            let pixels: Vec<usize> = (0..w * h)
                .filter(|&p| prev.labels[p] as usize == i)
                .collect();
            let mut own: BTreeMap<usize, usize> = BTreeMap::new();
            let mut queue: VecDeque<usize> = VecDeque::new();
            for (k, m) in [(k1, &masks[&d1]), (k1 + 1, &masks[&d2])] {
                for &p in m.iter() {
                    if prev.labels[p] as usize == i && !own.contains_key(&p) {
                        own.insert(p, k);
                        queue.push_back(p);
                    }
                }
            }
            grow_through(&prev.labels, i as u32, &mut own, queue, (w, h));
            // pixels no daughter reaches go
            for &p in &pixels {
                prev.labels[p] = own.get(&p).map_or(0, |&k| k as u32);
            }
            for j in [d1, d2] {
                prev.ids.push(cur.ids[j]);
                prev.interpolated.push(true);
                self.tracks[cur.ids[j] as usize - 1].start = prev_t;
            }
            let mother = prev.ids[i];
            self.tracks[mother as usize - 1].end = prev_t - 1;
        }
        let runs = features::runs(&prev.labels, w);
        prev.cells = features::measure_runs(&runs, w, h, prev.ids.len() - 1);
        prev.fg = run_bits(&runs, w, h);
        moves.len()
    }

    /// The objects of `cur` that merged previous cells (module doc, step 7): `(cur index,
    /// previous cells)`, the cell the object continues first, then the cells without
    /// successor lying mostly inside it, by index; objects by index.
    fn find_merges(
        &self,
        prev: &Frame,
        cur: &Frame,
        hist: &[PairCount],
        continued: &[Option<usize>],
        succ: &[Option<usize>],
        divisions: &[(usize, usize, usize)],
    ) -> Vec<(usize, Vec<usize>)> {
        let nc = cur.cells.len() - 1;
        let mut owner: Vec<Option<usize>> = vec![None; nc + 1];
        for (i, m) in continued.iter().enumerate() {
            if let Some(j) = *m {
                owner[j] = Some(i);
            }
        }
        for &(_, d1, d2) in divisions {
            owner[d1] = None;
            owner[d2] = None;
        }
        let t = cur.t;
        // a cell the segmentation has shown apart from its neighbours for two frames, or a
        // daughter of the last division: one frame's over-segmentation is not carried on
        let established = |i: usize| {
            let tr = &self.tracks[prev.ids[i] as usize - 1];
            tr.start + 2 <= t || (tr.parent != 0 && tr.start + 1 == t)
        };
        let area_p = |i: usize| f64::from(prev.cells[i].area);
        let mut ov_owner: Vec<f64> = vec![0.0; nc + 1];
        let mut inside: BTreeMap<usize, Vec<(usize, f64)>> = BTreeMap::new();
        for p in hist {
            let (i, j) = (p.prev as usize, p.cur as usize);
            let o = f64::from(p.pixels);
            if owner[j] == Some(i) {
                ov_owner[j] = o;
            } else if owner[j].is_some()
                && succ[i].is_none()
                && prev.cells[i].area > 0
                && o >= 0.5 * area_p(i)
                && established(i)
            {
                inside.entry(j).or_default().push((i, o));
            }
        }
        let mut out = Vec::new();
        for (j, lost) in inside {
            let b = owner[j].expect("only continued objects");
            if ov_owner[j] < 0.5 * area_p(b) || !established(b) {
                continue;
            }
            let cells: f64 = area_p(b) + lost.iter().map(|&(i, _)| area_p(i)).sum::<f64>();
            let covered: f64 = ov_owner[j] + lost.iter().map(|&(_, o)| o).sum::<f64>();
            let a = f64::from(cur.cells[j].area);
            // the object holds the cells (not one of them and a scrap of another) and they
            // make most of it
            if a >= 0.7 * cells && covered >= 0.5 * a {
                let mut seeds = vec![b];
                seeds.extend(lost.iter().map(|&(i, _)| i));
                seeds[1..].sort_unstable();
                out.push((j, seeds));
            }
        }
        out
    }

    /// Draw the lost track `l` into the frames between its last one and `cur`, where it is
    /// found again as object `j`; `false` (nothing changed) when some frame of the gap would
    /// get no pixel of it.
    fn close_gap(&mut self, l: &Lost, cur: &Frame, j: usize) -> bool {
        for dry in [true, false] {
            if !self.draw_gap(l, cur, j, dry) {
                return false;
            }
        }
        true
    }

    fn draw_gap(&mut self, l: &Lost, cur: &Frame, j: usize, dry: bool) -> bool {
        let (w, h) = (self.width, self.height);
        let span = (cur.t - l.t_last) as f64;
        // the cell's own motion beyond the drift, shared out over the gap
        let own = (
            cur.cells[j].y - (l.y + (cur.drift.0 - l.drift_last.0) as f64),
            cur.cells[j].x - (l.x + (cur.drift.1 - l.drift_last.1) as f64),
        );
        for f in self.window.iter_mut() {
            if f.t <= l.t_last || f.t >= cur.t {
                continue;
            }
            let s = (f.t - l.t_last) as f64 / span;
            let d = (
                f.drift.0 - l.drift_last.0 + (own.0 * s).round() as i64,
                f.drift.1 - l.drift_last.1 + (own.1 * s).round() as i64,
            );
            let targets: Vec<usize> = l
                .pixels
                .iter()
                .filter_map(|&q| moved(q as usize, d, w, h))
                .collect();
            if targets.is_empty() {
                return false;
            }
            // the object holding most of the moved mask, if it holds at least half of it
            let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
            for &p in &targets {
                *counts.entry(f.labels[p]).or_default() += 1;
            }
            let host = counts
                .iter()
                .filter(|(&k, _)| k != 0)
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .filter(|(_, &c)| 2 * c >= targets.len())
                .map(|(&k, _)| k);
            let k_new = f.ids.len() as u32;
            let drawable = targets
                .iter()
                .filter(|&&p| f.labels[p] == 0 || Some(f.labels[p]) == host)
                .count();
            if drawable == 0 {
                return false;
            }
            if dry {
                continue;
            }
            let words = w.div_ceil(64);
            for &p in &targets {
                let v = f.labels[p];
                if v == 0 || Some(v) == host {
                    f.labels[p] = k_new;
                    let (y, x) = (p / w, p % w);
                    f.fg[y * words + x / 64] |= 1 << (x % 64);
                }
            }
            f.ids.push(l.id);
            f.interpolated.push(true);
            if let Some(hk) = host {
                f.interpolated[hk as usize] = true;
            }
            let n = f.ids.len() - 1;
            f.cells = features::measure(&f.labels, w, h, n);
        }
        true
    }

    /// Turn a frame that left the window into its output and record its points.
    fn finish_frame(&mut self, f: Frame) -> TrackedFrame {
        let w = self.width;
        let mut ids = vec![0u32; f.labels.len()];
        for (y, k, x0, x1) in features::runs(&f.labels, w) {
            ids[y * w + x0..y * w + x1].fill(f.ids[k as usize]);
        }
        // one object per id (a split host keeps its index, a drawn cell gets its own)
        let mut cells: Vec<TrackedCell> = Vec::new();
        for k in 1..f.ids.len() {
            let c = f.cells[k];
            if c.area == 0 {
                continue;
            }
            let id = f.ids[k];
            let tr = &mut self.tracks[id as usize - 1];
            tr.points.push(Point {
                t: f.t,
                length: c.length,
                border: c.touches_border,
                interpolated: f.interpolated[k],
            });
            cells.push(TrackedCell {
                id,
                parent: tr.parent,
                features: c,
                interpolated: f.interpolated[k],
            });
        }
        cells.sort_by_key(|c| c.id);
        self.finished = Some(f.t);
        // tracks that can no longer change are summarised and their points dropped
        let lost_ids: std::collections::BTreeSet<u32> = self.lost.iter().map(|l| l.id).collect();
        let live: std::collections::BTreeSet<u32> = self
            .window
            .iter()
            .flat_map(|w| w.ids.iter().copied())
            .collect();
        let candidates: Vec<u32> = cells
            .iter()
            .map(|c| c.id)
            .filter(|id| !live.contains(id) && !lost_ids.contains(id))
            .collect();
        for id in candidates {
            self.summarise(id);
        }
        TrackedFrame {
            t: f.t,
            width: self.width,
            height: self.height,
            ids,
            cells,
            shift: f.shift,
            drift: f.drift,
        }
    }

    fn summarise(&mut self, id: u32) {
        let tr = &mut self.tracks[id as usize - 1];
        if tr.done || tr.points.is_empty() {
            return;
        }
        tr.points.sort_by_key(|p| p.t);
        let first = tr.points[0];
        let last = *tr.points.last().expect("not empty");
        let fit: Vec<(f64, f64)> = tr
            .points
            .iter()
            .filter(|p| !p.interpolated && !p.border && p.length > 0.0)
            .map(|p| (p.t as f64, p.length.ln()))
            .collect();
        let growth_rate = slope(&fit);
        let s = TrackSummary {
            id,
            parent: tr.parent,
            generation: tr.generation,
            start: tr.start,
            end: tr.end,
            children: tr.children.clone(),
            touches_border: tr.points.iter().any(|p| p.border),
            length_birth: first.length,
            length_end: last.length,
            growth_rate,
        };
        tr.points = Vec::new();
        tr.done = true;
        self.summaries.push(s);
    }
}

/// The least-squares slope of y on x (`None` with fewer than 3 points or no spread in x).
pub fn slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 3 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Split object `j` of `cur` among the previous cells `seeds` (the first keeps index `j`):
/// each pixel under a seed's mask moved back by the drift is that seed's, the rest go to the
/// nearest seed through the object (4-connected, first come in raster order of the seeded
/// pixels); pixels no seed reaches stay with the first. The other seeds' pieces are new
/// objects; every piece is flagged `interpolated` (its outline is drawn, not measured).
/// Returns the new pieces' indices, in the order of `seeds[1..]`.
fn split_object(
    prev: &Frame,
    cur: &mut Frame,
    j: usize,
    seeds: &[usize],
    (w, h): (usize, usize),
) -> Vec<usize> {
    let j = j as u32;
    let back = (-i64::from(cur.shift.0), -i64::from(cur.shift.1));
    let pixels: Vec<usize> = (0..w * h).filter(|&p| cur.labels[p] == j).collect();
    // seed slot of each previous index (1-based; 0: not a seed)
    let mut slot_of_prev: BTreeMap<u32, u32> = BTreeMap::new();
    for (s, &i) in seeds.iter().enumerate() {
        slot_of_prev.insert(i as u32, s as u32 + 1);
    }
    let mut own: BTreeMap<usize, u32> = BTreeMap::new();
    let mut queue: VecDeque<usize> = VecDeque::new();
    for &p in &pixels {
        if let Some(q) = moved(p, back, w, h) {
            if let Some(&s) = slot_of_prev.get(&prev.labels[q]) {
                own.insert(p, s);
                queue.push_back(p);
            }
        }
    }
    grow_through(&cur.labels, j, &mut own, queue, (w, h));
    let first_new = cur.ids.len();
    for &p in &pixels {
        let s = own.get(&p).copied().unwrap_or(1);
        if s > 1 {
            cur.labels[p] = (first_new + s as usize - 2) as u32;
        }
    }
    cur.interpolated[j as usize] = true;
    let mut out = Vec::new();
    for &i in &seeds[1..] {
        out.push(cur.ids.len());
        cur.ids.push(prev.ids[i]);
        cur.interpolated.push(true);
    }
    let n = cur.ids.len() - 1;
    cur.cells = features::measure(&cur.labels, w, h, n);
    out
}

/// Every pixel of object `j` in `labels` reached from the seeds in `queue` (owners in `own`)
/// takes the owner of the seed it is reached from first: a breadth-first flood through the
/// object, 4-connected (the nearest seed through it, ties to the seed queued first).
fn grow_through<T: Copy>(
    labels: &[u32],
    j: u32,
    own: &mut BTreeMap<usize, T>,
    mut queue: VecDeque<usize>,
    (w, h): (usize, usize),
) {
    while let Some(p) = queue.pop_front() {
        let s = own[&p];
        let (y, x) = (p / w, p % w);
        let next = [
            (y > 0).then(|| p - w),
            (x > 0).then(|| p - 1),
            (x + 1 < w).then(|| p + 1),
            (y + 1 < h).then(|| p + w),
        ];
        for n in next.into_iter().flatten() {
            if labels[n] == j && !own.contains_key(&n) {
                own.insert(n, s);
                queue.push_back(n);
            }
        }
    }
}

/// Each object's pixels that stay inside the frame once moved by `d` (rows, columns): its
/// area less its pixels in the rows and columns the move takes out.
fn inside_when_moved(
    labels: &[u32],
    cells: &[Features],
    d: (i32, i32),
    (w, h): (usize, usize),
) -> Vec<u32> {
    let mut inside: Vec<u32> = cells.iter().map(|c| c.area).collect();
    let (dy, dx) = (i64::from(d.0), i64::from(d.1));
    let (wi, hi) = (w as i64, h as i64);
    // columns x with x + dx outside 0..w
    let (cut_lo, cut_hi) = ((-dx).clamp(0, wi) as usize, (wi - dx).clamp(0, wi) as usize);
    for (y, row) in labels.chunks_exact(w).enumerate() {
        let out_row = !(0..hi).contains(&(y as i64 + dy));
        let ranges = if out_row {
            [0..w, 0..0]
        } else {
            [0..cut_lo, cut_hi..w]
        };
        for r in ranges {
            for &l in &row[r] {
                if l != 0 {
                    inside[l as usize] -= 1;
                }
            }
        }
    }
    inside
}

/// Pixel `q` moved by `d` = (rows, columns), if it stays inside.
fn moved(q: usize, d: (i64, i64), w: usize, h: usize) -> Option<usize> {
    let y = (q / w) as i64 + d.0;
    let x = (q % w) as i64 + d.1;
    (y >= 0 && x >= 0 && y < h as i64 && x < w as i64).then(|| y as usize * w + x as usize)
}

/// Step 1 of the module doc: the shift of `cur` against `prev`.
fn estimate_drift(prev: &Frame, cur: &Frame, w: usize, h: usize, max_drift: usize) -> (i32, i32) {
    let r = max_drift as i64;
    let side = (2 * r + 1) as usize;
    let mut votes = vec![0u32; side * side];
    let mut any = false;
    // bucket the current objects on a grid of max_drift-sized cells
    let cell = (max_drift.max(1)) as f64;
    let mut grid: BTreeMap<(i64, i64), Vec<usize>> = BTreeMap::new();
    for (j, c) in cur.cells.iter().enumerate().skip(1) {
        if c.area > 0 {
            grid.entry(((c.y / cell).floor() as i64, (c.x / cell).floor() as i64))
                .or_default()
                .push(j);
        }
    }
    for a in prev.cells.iter().skip(1) {
        if a.area == 0 {
            continue;
        }
        let (gy, gx) = ((a.y / cell).floor() as i64, (a.x / cell).floor() as i64);
        for by in gy - 1..=gy + 1 {
            for bx in gx - 1..=gx + 1 {
                let Some(js) = grid.get(&(by, bx)) else {
                    continue;
                };
                for &j in js {
                    let b = &cur.cells[j];
                    let ratio = f64::from(b.area) / f64::from(a.area);
                    if !(0.5..=2.0).contains(&ratio) {
                        continue;
                    }
                    let (dy, dx) = ((b.y - a.y).round() as i64, (b.x - a.x).round() as i64);
                    if dy.abs() > r || dx.abs() > r {
                        continue;
                    }
                    votes[((dy + r) as usize) * side + (dx + r) as usize] += 1;
                    any = true;
                }
            }
        }
    }
    if !any {
        return prev.shift;
    }
    // the 3×3 sums of the votes; the three best peaks, the previous shift and no shift are
    // the candidates (a division or a neighbour can out-vote the drift in a sparse field; the
    // overlap of the foregrounds decides)
    let mut sums: Vec<(u32, i64, (i64, i64))> = Vec::new();
    for dy in -r..=r {
        for dx in -r..=r {
            let mut s = 0u32;
            for ey in -1..=1 {
                for ex in -1..=1 {
                    let (yy, xx) = (dy + ey, dx + ex);
                    if yy.abs() <= r && xx.abs() <= r {
                        s += votes[((yy + r) as usize) * side + (xx + r) as usize];
                    }
                }
            }
            if s > 0 {
                sums.push((s, -(dy * dy + dx * dx), (-dy, -dx)));
            }
        }
    }
    sums.sort_unstable_by(|a, b| b.cmp(a));
    let mut cands: Vec<(i64, i64)> = sums.iter().take(3).map(|k| (-k.2 .0, -k.2 .1)).collect();
    cands.push((i64::from(prev.shift.0), i64::from(prev.shift.1)));
    cands.push((0, 0));
    let mut seen = std::collections::BTreeSet::new();
    cands.retain(|c| seen.insert(*c));
    let key = |d: (i64, i64)| {
        (
            foreground_overlap(&prev.fg, &cur.fg, w, h, d),
            -(d.0 * d.0 + d.1 * d.1),
            (-d.0, -d.1),
        )
    };
    let mut best = cands[0];
    let mut best_key = key(best);
    for &c in &cands[1..] {
        let k = key(c);
        if k > best_key {
            best_key = k;
            best = c;
        }
    }
    // refine among the 8 neighbours
    let centre = best;
    for ey in -1..=1 {
        for ex in -1..=1 {
            let d = (centre.0 + ey, centre.1 + ex);
            if (ey, ex) == (0, 0) || d.0.abs() > r + 1 || d.1.abs() > r + 1 {
                continue;
            }
            let k = key(d);
            if k > best_key {
                best_key = k;
                best = d;
            }
        }
    }
    (best.0 as i32, best.1 as i32)
}

/// The foreground (label ≠ 0) of a `w`×`h` frame from its runs ([`features::runs`]), one bit
/// per pixel: row `y` is the `w.div_ceil(64)` words from `y · w.div_ceil(64)`, pixel `x` bit
/// `x % 64` of word `x / 64`; the bits past a row's end are 0.
fn run_bits(runs: &[features::Run], w: usize, h: usize) -> Vec<u64> {
    let words = w.div_ceil(64);
    let mut out = vec![0u64; words * h];
    for &(y, _, x0, x1) in runs {
        let row = &mut out[y * words..(y + 1) * words];
        let (mut x, end) = (x0, x1);
        while x < end {
            let (k, b) = (x / 64, x % 64);
            let take = (64 - b).min(end - x);
            let mask = if take == 64 {
                u64::MAX
            } else {
                ((1u64 << take) - 1) << b
            };
            row[k] |= mask;
            x += take;
        }
    }
    out
}

/// Bits `start .. start + 64` of a row of [`run_bits`] (0 outside the row).
fn row_bits(row: &[u64], start: i64) -> u64 {
    let word = |i: i64| {
        if i >= 0 && (i as usize) < row.len() {
            row[i as usize]
        } else {
            0
        }
    };
    let (q, r) = (start.div_euclid(64), start.rem_euclid(64) as u32);
    if r == 0 {
        word(q)
    } else {
        (word(q) >> r) | (word(q + 1) << (64 - r))
    }
}

/// Pixels that are foreground in `cur` and in `prev` moved by `d` = (rows, columns):
/// `cur(y, x)` against `prev(y − d.0, x − d.1)`, on [`run_bits`] masks, 64 pixels a word.
fn foreground_overlap(prev: &[u64], cur: &[u64], w: usize, h: usize, d: (i64, i64)) -> u64 {
    let (dy, dx) = d;
    let words = w.div_ceil(64);
    let mut n = 0u64;
    for y in 0..h as i64 {
        let py = y - dy;
        if py < 0 || py >= h as i64 {
            continue;
        }
        let row = &cur[y as usize * words..(y as usize + 1) * words];
        let prow = &prev[py as usize * words..(py as usize + 1) * words];
        for (k, &c) in row.iter().enumerate() {
            if c != 0 {
                n += u64::from((c & row_bits(prow, 64 * k as i64 - dx)).count_ones());
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: usize = 96;
    const H: usize = 64;

    /// The tracks of `out` and `lineage` obey the CTC rules over `frames` frames.
    fn assert_ctc_valid(out: &[TrackedFrame], lineage: &[TrackSummary], frames: usize) {
        let present: Vec<std::collections::BTreeSet<u32>> = out
            .iter()
            .map(|f| f.cells.iter().map(|c| c.id).collect())
            .collect();
        let rows: Vec<crate::ctc::CtcTrack> = lineage
            .iter()
            .map(|s| crate::ctc::CtcTrack {
                label: s.id,
                begin: s.start,
                end: s.end,
                parent: s.parent,
            })
            .collect();
        assert!(crate::ctc::validate(&rows, &present, frames).is_empty());
    }

    /// Draw capsules (cy, cx, angle, length, width) as labels 1, 2, … in a W×H frame.
    fn frame(rods: &[(f64, f64, f64, f64, f64)]) -> Vec<u32> {
        let mut out = vec![0u32; W * H];
        for (k, &(cy, cx, angle, length, width)) in rods.iter().enumerate() {
            let (uy, ux) = (angle.sin(), angle.cos());
            let half = ((length - width) / 2.0).max(0.0);
            for y in 0..H {
                for x in 0..W {
                    let (py, px) = (y as f64 - cy, x as f64 - cx);
                    let t = (py * uy + px * ux).clamp(-half, half);
                    let (ey, ex) = (py - t * uy, px - t * ux);
                    if (ey * ey + ex * ex).sqrt() < width / 2.0 && out[y * W + x] == 0 {
                        out[y * W + x] = k as u32 + 1;
                    }
                }
            }
        }
        out
    }

    fn cpu_pairs(
        a: &[u32],
        b: &[u32],
        w: usize,
        h: usize,
        s: (i32, i32),
    ) -> Result<Vec<PairCount>> {
        Ok(super::super::overlap::pair_histogram(a, b, w, h, s))
    }

    fn run(
        frames: &[Vec<u32>],
        opts: TrackOptions,
    ) -> (Vec<TrackedFrame>, Vec<TrackSummary>, TrackStats) {
        let mut t = Tracker::new(W, H, opts).unwrap();
        let mut out = Vec::new();
        for f in frames {
            out.extend(t.push(f, &cpu_pairs).unwrap());
        }
        let (rest, lineage, stats) = t.finish();
        out.extend(rest);
        (out, lineage, stats)
    }

    /// [`run`] with each frame's doubtful labels.
    fn run_doubtful(
        frames: &[(Vec<u32>, Vec<u32>)],
    ) -> (Vec<TrackedFrame>, Vec<TrackSummary>, TrackStats) {
        let mut t = Tracker::new(W, H, TrackOptions::default()).unwrap();
        let mut out = Vec::new();
        for (f, d) in frames {
            out.extend(t.push_doubtful(f, d, &cpu_pairs).unwrap());
        }
        let (rest, lineage, stats) = t.finish();
        out.extend(rest);
        (out, lineage, stats)
    }

    /// Ids per frame, sorted.
    fn ids(frames: &[TrackedFrame]) -> Vec<Vec<u32>> {
        frames
            .iter()
            .map(|f| f.cells.iter().map(|c| c.id).collect())
            .collect()
    }

    #[test]
    fn a_drifting_cell_that_divides_gives_a_mother_and_two_daughters() {
        let mut frames = Vec::new();
        for t in 0..10 {
            // the stage drifts by (1, −2) px per frame
            let (cy, cx) = (30.0 + t as f64, 60.0 - 2.0 * t as f64);
            if t < 5 {
                let len = 20.0 * (0.1 * t as f64).exp();
                frames.push(frame(&[(cy, cx, 0.2, len, 8.0)]));
            } else {
                let len = 20.0 * (0.1 * t as f64).exp() / 2.0;
                let (uy, ux) = (0.2f64.sin(), 0.2f64.cos());
                let off = len / 2.0 + 0.5;
                frames.push(frame(&[
                    (cy - uy * off, cx - ux * off, 0.2, len, 8.0),
                    (cy + uy * off, cx + ux * off, 0.2, len, 8.0),
                ]));
            }
        }
        let (out, lineage, stats) = run(&frames, TrackOptions::default());
        assert_eq!(stats.divisions, 1, "{:?}", ids(&out));
        assert_eq!(lineage.len(), 3);
        let mother = &lineage[0];
        assert_eq!(
            (mother.start, mother.end, mother.children.clone()),
            (0, 4, vec![2, 3])
        );
        for d in &lineage[1..] {
            assert_eq!((d.parent, d.generation, d.start, d.end), (1, 1, 5, 9));
        }
        // the mother grows at 0.1/frame; the estimate from 5 frames of pixels is close
        let g = mother.growth_rate.unwrap();
        assert!((g - 0.1).abs() < 0.015, "growth {g}");
        assert_ctc_valid(&out, &lineage, 10);
        // the drift was found
        assert!(
            out[1..].iter().all(|f| f.shift == (1, -2)),
            "{:?}",
            out.iter().map(|f| f.shift).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_cell_missed_in_two_frames_keeps_its_id_and_is_drawn_there() {
        let mut frames = Vec::new();
        for t in 0..8 {
            let x = 20.0 + t as f64;
            let mut rods = vec![(20.0, x, 0.0, 22.0, 8.0)];
            if !(3..=4).contains(&t) {
                rods.push((45.0, 70.0 - t as f64, 0.3, 18.0, 8.0));
            } else {
                rods.push((45.0, 5.0, 0.0, 0.0, 0.0)); // nothing
            }
            frames.push(frame(&rods));
        }
        let (out, lineage, stats) = run(&frames, TrackOptions::default());
        assert_eq!(stats.gaps_closed, 1);
        assert_eq!(lineage.len(), 2, "{:?}", ids(&out));
        for f in &out {
            assert_eq!(f.cells.len(), 2, "frame {}", f.t);
        }
        let drawn: Vec<(usize, bool)> = out
            .iter()
            .map(|f| (f.t, f.cells.iter().any(|c| c.interpolated)))
            .collect();
        assert!(
            drawn.iter().all(|&(t, i)| i == (3..=4).contains(&t)),
            "{drawn:?}"
        );
        // without gap closing the cell comes back as a new track
        let (_, lineage0, _) = run(
            &frames,
            TrackOptions {
                max_gap: 0,
                ..Default::default()
            },
        );
        assert_eq!(lineage0.len(), 3);
    }

    #[test]
    fn two_cells_merged_in_a_blurred_frame_are_split_again() {
        let mut frames = Vec::new();
        for t in 0..7 {
            let a = (30.0, 30.0 + t as f64, 0.0, 24.0, 8.0);
            let b = (30.0, 54.5 + t as f64, 0.0, 24.0, 8.0);
            let mut f = frame(&[a, b]);
            if t == 3 {
                // one object where the two touch
                for v in f.iter_mut() {
                    if *v == 2 {
                        *v = 1;
                    }
                }
            }
            frames.push(f);
        }
        let (out, lineage, stats) = run(&frames, TrackOptions::default());
        assert_eq!(stats.divisions, 0, "{:?}", ids(&out));
        assert_eq!(lineage.len(), 2, "{:?}", ids(&out));
        assert_eq!(out[3].cells.len(), 2);
        assert!(out[3].cells.iter().all(|c| c.interpolated));
        // the split halves have about the sizes of the cells around them
        let a2 = out[2].cells[0].features.area as f64;
        for c in &out[3].cells {
            let r = c.features.area as f64 / a2;
            assert!((0.8..1.25).contains(&r), "area ratio {r}");
        }
    }

    /// Two touching rods side by side drifting right; `merged(t)`: shown as one object.
    fn pair_movie(frames: usize, merged: impl Fn(usize) -> bool) -> Vec<Vec<u32>> {
        (0..frames)
            .map(|t| {
                let a = (30.0, 30.0 + t as f64, 0.0, 24.0, 8.0);
                let b = (30.0, 54.5 + t as f64, 0.0, 24.0, 8.0);
                let mut f = frame(&[a, b]);
                if merged(t) {
                    f.iter_mut().filter(|v| **v == 2).for_each(|v| *v = 1);
                }
                f
            })
            .collect()
    }

    #[test]
    fn cells_merged_until_the_last_frame_are_split_in_every_frame() {
        // merged from frame 3 on: no later frame separates them, so gap closing cannot
        let frames = pair_movie(8, |t| t >= 3);
        let (out, lineage, stats) = run(&frames, TrackOptions::default());
        assert_eq!((stats.divisions, stats.gaps_closed), (0, 0));
        assert_eq!(stats.merges_split, 5);
        assert_eq!(lineage.len(), 2, "{:?}", ids(&out));
        assert!(lineage.iter().all(|s| (s.start, s.end) == (0, 7)));
        let a2 = out[2].cells[0].features.area as f64;
        for f in &out[3..] {
            assert_eq!(f.cells.len(), 2, "frame {}", f.t);
            for c in &f.cells {
                assert!(c.interpolated);
                let r = c.features.area as f64 / a2;
                assert!((0.8..1.25).contains(&r), "frame {}: area ratio {r}", f.t);
            }
        }
        // only measured frames enter the growth fit: 3 of them remain
        assert!(lineage.iter().all(|s| s.growth_rate.is_some()));
        assert_ctc_valid(&out, &lineage, 8);
    }

    #[test]
    fn doubtful_objects_stay_only_where_they_hold_tracked_cells() {
        // the two rods merge into one doubtful object from frame 3 on; a round blob (label
        // 9) lies apart in every frame, doubtful too: it is never tracked
        let frames: Vec<(Vec<u32>, Vec<u32>)> = pair_movie(8, |t| t >= 3)
            .into_iter()
            .enumerate()
            .map(|(t, mut f)| {
                for (p, v) in f.iter_mut().enumerate() {
                    let (y, x) = ((p / W) as i64, (p % W) as i64);
                    if (y - 50).pow(2) + (x - 10).pow(2) < 16 {
                        *v = 9;
                    }
                }
                (f, if t >= 3 { vec![1, 9] } else { vec![9] })
            })
            .collect();
        let (out, lineage, stats) = run_doubtful(&frames);
        assert_eq!(lineage.len(), 2, "{:?}", ids(&out));
        assert!(lineage
            .iter()
            .all(|s| (s.start, s.end, s.parent) == (0, 7, 0)));
        assert_eq!((stats.merges_split, stats.divisions), (5, 0));
        for f in &out {
            assert_eq!(f.cells.len(), 2, "frame {}", f.t);
            assert!(
                (46..55).all(|y| (6..15).all(|x| f.ids[y * W + x] == 0)),
                "frame {}: the blob was tracked",
                f.t
            );
            // the merged object's pieces are flagged (drawn, not measured)
            assert!(f.cells.iter().all(|c| c.interpolated == (f.t >= 3)));
        }
        // without the flags the blob is a cell of its own and the merge is split all the same
        let plain: Vec<Vec<u32>> = frames.iter().map(|(f, _)| f.clone()).collect();
        let (_, lineage, _) = run(&plain, TrackOptions::default());
        assert_eq!(lineage.len(), 3);
    }

    #[test]
    fn a_doubtful_object_is_no_daughter() {
        // a rod 40 px long cut in two halves from frame 4 on: a division, unless the second
        // half is doubtful (then it is erased and the rod goes on)
        let frames: Vec<Vec<u32>> = (0..7)
            .map(|t| {
                let mut f = frame(&[(30.0, 40.0 + t as f64, 0.0, 40.0, 8.0)]);
                if t >= 4 {
                    for (p, v) in f.iter_mut().enumerate() {
                        if *v == 1 && p % W >= 40 + t {
                            *v = if p % W == 40 + t { 0 } else { 2 };
                        }
                    }
                }
                f
            })
            .collect();
        let (_, _, stats) = run(&frames, TrackOptions::default());
        assert_eq!(stats.divisions, 1);
        let doubtful: Vec<(Vec<u32>, Vec<u32>)> = frames
            .iter()
            .enumerate()
            .map(|(t, f)| (f.clone(), if t >= 4 { vec![2] } else { vec![] }))
            .collect();
        let (out, lineage, stats) = run_doubtful(&doubtful);
        assert_eq!(stats.divisions, 0);
        assert_eq!(lineage.len(), 1, "{:?}", ids(&out));
        for f in &out[4..] {
            assert!(f
                .ids
                .iter()
                .enumerate()
                .all(|(p, &id)| id == 0 || p % W < 40 + f.t));
        }
        assert_ctc_valid(&out, &lineage, 7);
    }

    #[test]
    fn cells_the_drift_carries_across_the_edge_are_followed_while_edge_area_is_inside() {
        // the stage drifts 3 px left a frame; six rods stay inside, one leaves at the left
        // edge and one enters at the right; the segmentation misses each in the frame where
        // only a sliver of 3 columns of her is inside (about 50 px; 2 columns ≥ 30 px)
        let vertical = std::f64::consts::FRAC_PI_2;
        let frames: Vec<Vec<u32>> = (0..8)
            .map(|t| {
                let dx = -3.0 * t as f64;
                let mut rods = Vec::new();
                for cy in [10.0, 54.0] {
                    for cx in [40.0, 60.0, 80.0] {
                        rods.push((cy, cx + dx, 0.0, 14.0, 6.0));
                    }
                }
                if t != 3 {
                    rods.push((32.0, 8.0 + dx, vertical, 20.0, 8.0)); // leaving
                }
                if t != 1 {
                    rods.push((32.0, 99.0 + dx, vertical, 20.0, 8.0)); // entering
                }
                frame(&rods)
            })
            .collect();
        let track_at = |out: &[TrackedFrame], t: usize, left: bool| {
            out[t]
                .cells
                .iter()
                .find(|c| {
                    if left {
                        c.features.x < 10.0
                    } else {
                        c.features.x > 86.0
                    }
                })
                .map(|c| (c.id, c.interpolated))
        };
        for edge_area in [0, 30] {
            let opts = TrackOptions {
                edge_area,
                ..TrackOptions::default()
            };
            let (out, lineage, stats) = run(&frames, opts);
            assert_ctc_valid(&out, &lineage, frames.len());
            let (leaving, _) = track_at(&out, 2, true).expect("the leaving rod in frame 2");
            let (entering, _) = track_at(&out, 2, false).expect("the entering rod in frame 2");
            let span = |id: u32| {
                let s = &lineage[id as usize - 1];
                (s.start, s.end)
            };
            if edge_area == 0 {
                assert_eq!(stats.edge_frames, 0);
                assert_eq!(span(leaving), (0, 2));
                assert_eq!(span(entering), (2, 7));
            } else {
                assert_eq!(stats.edge_frames, 2);
                assert_eq!(span(leaving), (0, 3));
                assert_eq!(track_at(&out, 3, true), Some((leaving, true)));
                assert_eq!(span(entering), (1, 7));
                assert_eq!(track_at(&out, 1, false), Some((entering, true)));
                // nothing drawn where less than 30 px would be inside
                assert!(out[4].cells.iter().all(|c| c.id != leaving));
                assert!(out[0].cells.iter().all(|c| c.id != entering));
            }
        }
    }

    #[test]
    fn a_blurred_frame_right_after_divisions_is_replaced() {
        // 12 still rods; 2 divide in frame 3 (a sixth of the cells without an IoU ≥ 0.5
        // match), and frame 4 is blurred: every cell broke into three pieces
        let rods = grid_rods();
        let frames: Vec<Vec<u32>> = (0..8)
            .map(|t| {
                let now = divided(&rods, |k| t >= 3 && k < 2);
                let mut f = frame(&now);
                if t == 4 {
                    break_in_three(&mut f, &now);
                }
                f
            })
            .collect();
        let (out, lineage, stats) = run(&frames, TrackOptions::default());
        assert_eq!(stats.frames_repaired, 1, "{:?}", ids(&out));
        assert_eq!(stats.divisions, 2);
        assert_eq!(lineage.len(), 16, "{:?}", ids(&out));
        assert!(out[4].cells.iter().all(|c| c.interpolated));
        assert_ctc_valid(&out, &lineage, frames.len());
    }

    #[test]
    fn a_division_the_blurred_frame_shows_is_dated_into_it() {
        // 12 still rods; frame 4 is blurred (10 cells in three pieces, so it is replaced) and
        // the last two cells divide: in frame 4 already, their daughters apart there (and,
        // `merged`, the first daughter one object with the pieces of her neighbour, rod 10:
        // the blurred objects need not be the daughters' alone), or in frame 5, frame 4
        // showing each mother whole
        for (in_blur, merged) in [(true, false), (true, true), (false, false)] {
            let rods = grid_rods();
            let divided_from = if in_blur { 4 } else { 5 };
            let frames: Vec<Vec<u32>> = (0..8)
                .map(|t| {
                    let now = divided(&rods, |k| t >= divided_from && k >= 10);
                    let mut f = frame(&now);
                    if t == 4 {
                        // the first 10 rods (labels 1..=10) in three pieces
                        let n = now.len() as u32;
                        for (q, v) in f.iter_mut().enumerate() {
                            if *v != 0 && *v <= 10 {
                                let (x, cx) = ((q % W) as f64, now[*v as usize - 1].1);
                                if merged && *v == 10 {
                                    *v = 11; // rod 10's pieces, the first daughter's label
                                } else if x > cx + 1.5 {
                                    *v += n;
                                } else if x < cx - 1.5 {
                                    *v += 2 * n;
                                }
                            }
                        }
                    }
                    f
                })
                .collect();
            let (out, lineage, stats) = run(&frames, TrackOptions::default());
            assert_eq!(stats.frames_repaired, 1, "{:?}", ids(&out));
            assert_eq!(stats.divisions, 2);
            assert_eq!(stats.divisions_dated_back, if in_blur { 2 } else { 0 });
            let mothers: Vec<&TrackSummary> =
                lineage.iter().filter(|s| !s.children.is_empty()).collect();
            assert_eq!(mothers.len(), 2);
            for m in mothers {
                assert_eq!(m.end, divided_from - 1, "in_blur {in_blur}: {m:?}");
                for &c in &m.children {
                    assert_eq!(
                        lineage[c as usize - 1].start,
                        divided_from,
                        "in_blur {in_blur}"
                    );
                }
            }
            // frame 4 holds the daughters (drawn) instead of their mothers
            assert_eq!(out[4].cells.len(), if in_blur { 14 } else { 12 });
            assert!(out[4].cells.iter().all(|c| c.interpolated));
            assert_ctc_valid(&out, &lineage, frames.len());
        }
    }

    /// 12 horizontal rods of length 14 and width 6 in a grid of 3 rows and 4 columns.
    fn grid_rods() -> Vec<(f64, f64, f64, f64, f64)> {
        let mut rods = Vec::new();
        for cy in [10.0, 30.0, 50.0] {
            for cx in [14.0, 36.0, 58.0, 80.0] {
                rods.push((cy, cx, 0.0, 14.0, 6.0));
            }
        }
        rods
    }

    /// `rods` with each rod `k` for which `split(k)` holds replaced by its two daughters
    /// (length 6.5 each, side by side along x).
    fn divided(
        rods: &[(f64, f64, f64, f64, f64)],
        split: impl Fn(usize) -> bool,
    ) -> Vec<(f64, f64, f64, f64, f64)> {
        let mut now = Vec::new();
        for (k, &(cy, cx, a, l, w)) in rods.iter().enumerate() {
            if split(k) {
                now.push((cy, cx - 3.75, a, 6.5, w));
                now.push((cy, cx + 3.75, a, 6.5, w));
            } else {
                now.push((cy, cx, a, l, w));
            }
        }
        now
    }

    /// A blurred frame: every rod of `frame(rods)` in three pieces along x.
    fn break_in_three(f: &mut [u32], rods: &[(f64, f64, f64, f64, f64)]) {
        let n = rods.len() as u32;
        for (q, v) in f.iter_mut().enumerate() {
            if *v != 0 {
                let x = (q % W) as f64;
                let cx = rods[*v as usize - 1].1;
                if x > cx + 1.5 {
                    *v += n;
                } else if x < cx - 1.5 {
                    *v += 2 * n;
                }
            }
        }
    }

    /// 12 rods in a grid of 3 rows, row `r` shifted by `moved(t, r)` in frame `t`; in the
    /// frames `broken` every cell is in three pieces (a blurred frame).
    fn grid_movie(
        frames: usize,
        broken: &[usize],
        moved: impl Fn(usize, usize) -> (f64, f64),
    ) -> Vec<Vec<u32>> {
        (0..frames)
            .map(|t| {
                let mut now = Vec::new();
                for (row, cy) in [10.0, 30.0, 50.0].into_iter().enumerate() {
                    let (dy, dx) = moved(t, row);
                    for cx in [14.0, 36.0, 58.0, 80.0] {
                        now.push((cy + dy, cx + dx, 0.0, 14.0, 6.0));
                    }
                }
                let mut f = frame(&now);
                if broken.contains(&t) {
                    break_in_three(&mut f, &now);
                }
                f
            })
            .collect()
    }

    #[test]
    fn a_blurred_frame_1_is_judged_by_frame_2() {
        // no link before frame 1 says whether the movie's cells match from frame to frame:
        // frame 0 against frame 2 does
        let frames = grid_movie(6, &[1], |_, _| (0.0, 0.0));
        let (out, lineage, stats) = run(&frames, TrackOptions::default());
        assert_eq!(stats.frames_repaired, 1, "{:?}", ids(&out));
        assert_eq!(lineage.len(), 12, "{:?}", ids(&out));
        assert!(out[1].cells.iter().all(|c| c.interpolated));
        assert_eq!(
            out.iter().map(|f| f.t).collect::<Vec<_>>(),
            (0..6).collect::<Vec<_>>()
        );
        // cells that swim about (the rows each their own way): frame 0 and frame 2 do not
        // match, and frame 1 stays as it is
        let frames = grid_movie(6, &[1], |t, row| {
            (
                0.0,
                [8.0, -8.0, 0.0][row] * t as f64 + [0.0, 0.0, 11.0][row] * (t % 2) as f64,
            )
        });
        let (_, _, stats) = run(&frames, TrackOptions::default());
        assert_eq!(stats.frames_repaired, 0);
        // a movie of two frames: frame 1, held for frame 2, comes out of finish
        let (out, lineage, stats) = run(&frames[..2], TrackOptions::default());
        assert_eq!(out.len(), 2);
        assert_eq!(stats.frames_repaired, 0);
        assert_ctc_valid(&out, &lineage, 2);
    }

    #[test]
    fn cells_entering_at_the_edge_do_not_make_a_blurred_frame() {
        // 20 still cells, and from frame 3 on 7 more cut by the left edge: the count jumps by
        // 35 %, but nothing of the frame before broke into pieces
        let mut grid = Vec::new();
        for cy in [10.0, 24.0, 38.0, 52.0] {
            for cx in [14.0, 32.0, 50.0, 68.0, 86.0] {
                grid.push((cy, cx, 0.0, 10.0, 6.0));
            }
        }
        let frames: Vec<Vec<u32>> = (0..6)
            .map(|t| {
                let mut rods = grid.clone();
                if t >= 3 {
                    rods.extend((0..7).map(|k| (4.0 + 9.0 * k as f64, 0.0, 0.0, 10.0, 6.0)));
                }
                frame(&rods)
            })
            .collect();
        let (out, lineage, stats) = run(&frames, TrackOptions::default());
        assert_eq!(stats.frames_repaired, 0);
        assert_eq!(lineage.len(), 27, "{:?}", ids(&out));
        assert_eq!(out[3].cells.len(), 27);
    }

    #[test]
    fn one_frame_of_over_segmentation_is_not_carried_on() {
        // one rod 40 px long, its last 6 px a separate object in frame 3 only (a piece too
        // large to be a mother's sole successor: no division)
        let frames: Vec<Vec<u32>> = (0..7)
            .map(|t| {
                let mut f = frame(&[(30.0, 40.0 + t as f64, 0.0, 40.0, 8.0)]);
                if t == 3 {
                    for (p, v) in f.iter_mut().enumerate() {
                        if *v == 1 && p % W >= 54 + t {
                            *v = 2;
                        }
                    }
                }
                f
            })
            .collect();
        let (out, _, stats) = run(&frames, TrackOptions::default());
        assert_eq!((stats.merges_split, stats.divisions), (0, 0));
        for f in &out[4..] {
            assert_eq!(f.cells.len(), 1, "frame {}: {:?}", f.t, ids(&out));
        }
    }

    #[test]
    fn daughters_merged_right_after_their_division_stay_two() {
        // frames 0–3 the mother, 4 her two daughters apart, 5–7 the daughters as one object
        let frames: Vec<Vec<u32>> = (0..8)
            .map(|t| {
                let x = 40.0 + t as f64;
                if t < 4 {
                    frame(&[(30.0, x, 0.0, 40.0 + t as f64, 8.0)])
                } else {
                    let len = 20.0 + 0.5 * t as f64;
                    let mut f = frame(&[
                        (30.0, x - len / 2.0 - 0.5, 0.0, len, 8.0),
                        (30.0, x + len / 2.0 + 0.5, 0.0, len, 8.0),
                    ]);
                    if t >= 5 {
                        f.iter_mut().filter(|v| **v == 2).for_each(|v| *v = 1);
                    }
                    f
                }
            })
            .collect();
        let (out, lineage, stats) = run(&frames, TrackOptions::default());
        assert_eq!(stats.divisions, 1, "{:?}", ids(&out));
        assert_eq!(lineage.len(), 3, "{:?}", ids(&out));
        for d in &lineage[1..] {
            assert_eq!((d.parent, d.start, d.end), (1, 4, 7));
        }
        assert_ctc_valid(&out, &lineage, 8);
    }

    /// A horizontal rod cut by the right edge: it grows until frame 4; in frame 5 it divides
    /// and only the inner daughter is drawn (the other is outside the frame).
    fn edge_division_movie() -> Vec<Vec<u32>> {
        let other = (20.0, 20.0, 0.3, 22.0, 8.0);
        (0..9)
            .map(|t| {
                let grow = (0.04 * t as f64).exp();
                let mother = (30.0, 86.0, 0.0, 28.0 * grow, 9.0);
                if t < 5 {
                    frame(&[other, mother])
                } else {
                    // the inner daughter: the mother's left half, her pole at the septum
                    let len = 28.0 * grow / 2.0;
                    let left = 86.0 - 14.0 * grow;
                    frame(&[other, (30.0, left + len / 2.0 - 0.5, 0.0, len, 9.0)])
                }
            })
            .collect()
    }

    /// What the images show: the daughter seen alone goes on in her mother's track (the
    /// synthetic truth's rule, `synth::timelapse`), no division and no new track.
    #[test]
    fn a_cell_dividing_at_the_edge_with_the_other_daughter_outside_goes_on() {
        let (out, lineage, stats) = run(&edge_division_movie(), TrackOptions::default());
        assert_eq!((stats.divisions, stats.tracks), (0, 2), "{:?}", ids(&out));
        assert!(lineage
            .iter()
            .all(|s| s.children.is_empty() && s.parent == 0));
        assert!(lineage.iter().all(|s| (s.start, s.end) == (0, 8)));
        assert_ctc_valid(&out, &lineage, 9);
    }

    /// The stage drifts 5 px a frame to the left; a long rod comes into view through the
    /// right edge (cut by it in every frame) and divides in frame 5 with her septum just
    /// inside the edge: the outer daughter is mostly what the frame had not shown before (too
    /// little of her inside the moved mother for the 45 % rule), the inner one nearly as long
    /// as what the frame showed of the mother.
    fn entering_division_movie() -> Vec<Vec<u32>> {
        (0..9)
            .map(|t| {
                let s = 5.0 * t as f64;
                let a = (12.0, 70.0 - s, 0.0, 20.0, 8.0);
                let b = (52.0, 74.0 - s, 0.0, 22.0, 8.0);
                // a rod from x0 to x1 (poles), 9 px wide, on row 30
                let rod = |x0: f64, x1: f64| (30.0, (x0 + x1) / 2.0, 0.0, x1 - x0, 9.0);
                if t < 5 {
                    frame(&[a, b, rod(80.0 - s, 140.0 - s)])
                } else {
                    let septum = 86.0 - (s - 25.0);
                    frame(&[a, b, rod(80.0 - s, septum), rod(septum + 1.0, 140.0 - s)])
                }
            })
            .collect()
    }

    #[test]
    fn a_cell_coming_into_view_that_divides_at_the_edge_has_two_daughters() {
        let (out, lineage, stats) = run(&entering_division_movie(), TrackOptions::default());
        assert_eq!(stats.divisions, 1, "{:?}", ids(&out));
        let mother = lineage
            .iter()
            .find(|s| s.children.len() == 2)
            .expect("a mother");
        assert_eq!((mother.start, mother.end), (0, 4), "{:?}", ids(&out));
        for &d in &mother.children {
            let d = &lineage[d as usize - 1];
            assert_eq!((d.parent, d.start, d.end), (mother.id, 5, 8));
        }
        assert_ctc_valid(&out, &lineage, 9);
    }

    #[test]
    fn a_cell_leaving_the_field_or_growing_at_the_edge_does_not_divide() {
        // one rod slides out through the right edge, another grows cut by the bottom edge
        let frames: Vec<Vec<u32>> = (0..12)
            .map(|t| {
                let grow = (0.03 * t as f64).exp();
                frame(&[
                    (20.0, 80.0 + 2.0 * t as f64, 0.1, 26.0, 9.0),
                    (58.0, 30.0, 1.4, 24.0 * grow, 9.0),
                    (30.0, 20.0, 0.0, 20.0, 8.0),
                ])
            })
            .collect();
        let (out, _, stats) = run(&frames, TrackOptions::default());
        assert_eq!(stats.divisions, 0, "{:?}", ids(&out));
        assert_eq!(stats.tracks, 3, "{:?}", ids(&out));
    }

    #[test]
    fn ids_do_not_depend_on_how_labels_were_numbered() {
        let rods = [
            (20.0, 20.0, 0.0, 20.0, 8.0),
            (40.0, 60.0, 1.0, 22.0, 8.0),
            (15.0, 75.0, 0.5, 16.0, 7.0),
        ];
        let frames: Vec<Vec<u32>> = (0..4)
            .map(|t| {
                let moved: Vec<_> = rods
                    .iter()
                    .map(|r| (r.0 + t as f64, r.1 - t as f64, r.2, r.3, r.4))
                    .collect();
                frame(&moved)
            })
            .collect();
        let renumbered: Vec<Vec<u32>> = frames
            .iter()
            .map(|f| {
                f.iter()
                    .map(|&l| if l == 0 { 0 } else { 1000 - 7 * l })
                    .collect()
            })
            .collect();
        assert_eq!(
            run(&frames, TrackOptions::default()).0,
            run(&renumbered, TrackOptions::default()).0
        );
    }

    /// [`run_bits`] pixel by pixel: the reference the tests hold it to.
    fn foreground_bits(labels: &[u32], w: usize, h: usize) -> Vec<u64> {
        let words = w.div_ceil(64);
        let mut out = vec![0u64; words * h];
        for (row, bits) in labels.chunks_exact(w).zip(out.chunks_exact_mut(words)) {
            for (chunk, word) in row.chunks(64).zip(bits.iter_mut()) {
                if chunk.iter().all(|&l| l == 0) {
                    continue;
                }
                *word = chunk
                    .iter()
                    .enumerate()
                    .fold(0u64, |acc, (i, &l)| acc | (u64::from(l != 0) << i));
            }
        }
        out
    }

    /// The bit-packed overlap equals a pixel-by-pixel count on random masks, for widths on
    /// and off a word's boundary and shifts inside, across and beyond the frame.
    #[test]
    fn foreground_overlap_counts_what_a_pixel_loop_counts() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for (w, h) in [(1usize, 1usize), (64, 3), (65, 7), (130, 5), (200, 9)] {
            let mut masks = Vec::new();
            for _ in 0..2 {
                let labels: Vec<u32> = (0..w * h).map(|_| (next() % 3 == 0) as u32 * 7).collect();
                masks.push(labels);
            }
            let (a, b) = (&masks[0], &masks[1]);
            let (fa, fb) = (foreground_bits(a, w, h), foreground_bits(b, w, h));
            assert_eq!(run_bits(&features::runs(a, w), w, h), fa);
            for dy in [-(h as i64) - 1, -2, -1, 0, 1, 3, h as i64] {
                for dx in [
                    -(w as i64) - 3,
                    -65,
                    -64,
                    -63,
                    -1,
                    0,
                    1,
                    5,
                    63,
                    64,
                    70,
                    w as i64,
                ] {
                    let mut want = 0u64;
                    for y in 0..h as i64 {
                        for x in 0..w as i64 {
                            let (py, px) = (y - dy, x - dx);
                            if (0..h as i64).contains(&py) && (0..w as i64).contains(&px) {
                                let on = b[(y * w as i64 + x) as usize] != 0
                                    && a[(py * w as i64 + px) as usize] != 0;
                                want += u64::from(on);
                            }
                        }
                    }
                    assert_eq!(
                        foreground_overlap(&fa, &fb, w, h, (dy, dx)),
                        want,
                        "{w}×{h} shift ({dy}, {dx})"
                    );
                }
            }
        }
    }

    #[test]
    fn a_frame_of_another_size_is_an_error() {
        let mut t = Tracker::new(W, H, TrackOptions::default()).unwrap();
        t.push(&vec![0; W * H], &cpu_pairs).unwrap();
        assert!(matches!(
            t.push(&[0; 10], &cpu_pairs),
            Err(Error::BadData(_))
        ));
        assert!(Tracker::new(
            4,
            4,
            TrackOptions {
                max_gap: 99,
                ..Default::default()
            }
        )
        .is_err());
    }
}
