//! Synthetic time-lapses of a growing colony of rods with a known lineage, to test a tracker
//! against: [`Timelapse`] yields frames one at a time (memory does not grow with the number of
//! frames), rendered like [`rods`](super::rods) — dark capsules with bright halos on an unevenly
//! lit background, blur and noise — with the truth in Cell Tracking Challenge form
//! ([`Frame::labels`], [`Timelapse::ctc_tracks`]) and every track's simulated growth rate and
//! lengths ([`Track`], [`Timelapse::cells_csv`]). [`write`] puts it all on disk.
//!
//! # The model
//!
//! The cells live on a pad in *specimen* coordinates (pixels); the camera's field of view is a
//! `width × height` window that the stage drift moves over it.
//!
//! - **Growth.** A cell is a capsule of fixed width whose length (pole to pole, caps included)
//!   grows exponentially, `L(t) = L_birth · exp(r · (t − t_birth))`, by `exp(r)` from one frame
//!   to the next, with its own rate `r = ln 2 / T`, `T` drawn uniformly in
//!   `doubling · (1 ± doubling_spread)` frames. Growth is symmetric about the cell's centre.
//! - **Division (adder).** A cell born at length `L_b` divides when its length reaches
//!   `L_b + Δ`, where the added length `Δ` is drawn per cell around `birth_length` (normal,
//!   coefficient of variation `division_noise`); an adder makes birth lengths converge to
//!   `birth_length` whatever the founders' sizes (E. coli and B. subtilis behave so). In the
//!   frame where a cell's grown length first reaches its division length it is replaced by two
//!   daughters end to end along its axis that share that length (fractions `1/2 ± asymmetry`),
//!   each turned by half a small random kink about the septum; each daughter draws its own rate
//!   and added length, and its width from its mother's. The mother's track ends in the frame
//!   before; the daughters' tracks begin in this frame with her as parent.
//! - **Mechanics.** After growth, division and a slight random jitter (translation `jitter`
//!   px, rotation `rotation` rad per frame), overlaps are relaxed: every pair of capsules
//!   closer than `spacing` px outline to outline is pushed apart along the line joining their
//!   axes' closest points (shared in inverse proportion to their lengths, with the torque of the
//!   contact), in sweeps until no pair overlaps by more than 0.05 px (at most 64 sweeps). The
//!   colony spreads as it grows.
//! - **Founders.** `cells` founders per field of view, scattered without contact over the
//!   whole area the field sees during the movie (plus a margin, so cells enter at the edges),
//!   each at a random point of its cell cycle.
//! - **Stage drift.** The field moves `drift` px per frame in a direction that turns by a
//!   normal step of `drift_turn` rad per frame (0: constant velocity; large: a random walk).
//!
//! # The truth
//!
//! A pixel belongs to the capsule whose outline it lies deepest inside. A cell is present in a
//! frame when the largest 8-connected piece of its pixels in the image holds at least
//! `min_visible` px; its label there is that piece (the rest of a cell split by a neighbour or
//! an edge is background). A track is one cell's unbroken run of present frames: a cell that
//! leaves the field (or shrinks below `min_visible` at an edge) ends its track, and one that
//! comes back starts a new track with no parent; a daughter whose mother was present in the
//! frame before her birth has that mother as parent. A division is in the truth only when the
//! images show it, with both daughters present in their frame of birth: when only one of them
//! is (the other outside the field, the septum often too), that daughter goes on in her
//! mother's track — nothing in the images tells her from her mother, who just lost the part
//! beyond the edge — and the track's rate and lengths are hers from then on
//! ([`TimelapseOptions::hidden_divisions`] records such divisions instead, the simulation's
//! whole lineage). So every track is present in every frame
//! from its first to its last, and the truth passes [`ctc::validate`]. Labels are track ids
//! `1, 2, …` in order of appearance, at most 65 535 (u16 masks).
//!
//! The image shows every cell, also pieces too small to be in the truth. Out-of-focus frames
//! are rendered with a blur of `defocus_blur` px and contrast (and halo) scaled by
//! `defocus_contrast`; their truth is that of any frame.

use std::collections::{BTreeMap, BTreeSet};
use std::f64::consts::{LN_2, PI};
use std::path::{Path, PathBuf};

use super::{gauss, gaussian_blur, unit, Capsule, SplitMix64};
use crate::ctc::{self, CtcTrack};
use crate::error::{Error, Result};
use crate::image::RawImage;
use crate::io;

/// Most cells the simulation follows at once (in and around the field of view).
pub const MAX_CELLS: usize = 200_000;
/// Most tracks (the CTC masks are u16).
pub const MAX_TRACKS: usize = u16::MAX as usize;

/// Parameters of a [`Timelapse`]. The defaults are an agar-pad colony seen at 256×256 for 60
/// frames: a dozen founders of E. coli about 10 px wide and 24 px long at birth, doubling every
/// 25 frames (±20 %), touching as they grow, on a still stage, every frame in focus.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelapseOptions {
    pub frames: usize,
    pub width: usize,
    pub height: usize,
    pub seed: u64,
    /// Founders per field of view (crowding: more founders make a denser colony sooner).
    pub cells: usize,
    /// Rod width (diameter of the caps) in pixels, per cell uniform in `cell_width ±
    /// width_jitter`; a daughter's width is her mother's ± 0.2 px (normal σ).
    pub cell_width: f64,
    pub width_jitter: f64,
    /// Mean length at birth in pixels (pole to pole), which is also the mean added length of
    /// the adder.
    pub birth_length: f64,
    /// Coefficient of variation of the added length (normal, truncated at ±3σ and at 0.3 of
    /// the mean).
    pub division_noise: f64,
    /// Mean doubling time in frames; each cell's is uniform in `doubling · (1 ± doubling_spread)`.
    pub doubling: f64,
    pub doubling_spread: f64,
    /// σ of a daughter's length fraction around 1/2 (truncated to 0.35–0.65).
    pub asymmetry: f64,
    /// Largest kink between sister cells at division, in radians (uniform in ±kink).
    pub kink: f64,
    /// Random motion per frame: translation σ in px, rotation σ in radians.
    pub jitter: f64,
    pub rotation: f64,
    /// Free space kept between rod outlines by the relaxation, in px (0: touching).
    pub spacing: f64,
    /// Stage drift in px per frame, and the turn of its direction per frame (σ, radians).
    pub drift: f64,
    pub drift_turn: f64,
    /// Frames (0-based) rendered out of focus.
    pub out_of_focus: Vec<usize>,
    /// Point-spread σ (px) and contrast factor of the out-of-focus frames.
    pub defocus_blur: f64,
    pub defocus_contrast: f64,
    /// Smallest piece of a cell (px, one 8-connected component) that counts as present.
    pub min_visible: usize,
    /// Record every simulated division, also one whose second daughter is never present in
    /// its frame of birth (outside the field, or a piece under `min_visible`): the mother's
    /// track ends and the one daughter begins a track with her as parent. Off (the default),
    /// the truth shows what the images show: that daughter goes on in her mother's track.
    pub hidden_divisions: bool,
    /// Rendering, as in [`RodsOptions`](super::RodsOptions): background level, cell darkness,
    /// halo (fraction of contrast), uneven illumination, point-spread σ, noise σ (gray levels),
    /// debris specks per 10 000 px² of the pad; plus `flicker`, the σ of a per-frame relative
    /// change of brightness.
    pub background: f64,
    pub contrast: f64,
    pub halo: f64,
    pub illumination: f64,
    pub blur: f64,
    pub noise: f64,
    pub debris: f64,
    pub flicker: f64,
}

impl Default for TimelapseOptions {
    fn default() -> Self {
        TimelapseOptions {
            frames: 60,
            width: 256,
            height: 256,
            seed: 1,
            cells: 12,
            cell_width: 10.0,
            width_jitter: 1.0,
            birth_length: 24.0,
            division_noise: 0.1,
            doubling: 25.0,
            doubling_spread: 0.2,
            asymmetry: 0.03,
            kink: 0.15,
            jitter: 0.2,
            rotation: 0.01,
            spacing: 1.0,
            drift: 0.0,
            drift_turn: 0.15,
            out_of_focus: Vec::new(),
            defocus_blur: 4.0,
            defocus_contrast: 0.5,
            min_visible: 30,
            hidden_divisions: false,
            background: 190.0,
            contrast: 100.0,
            halo: 0.2,
            illumination: 0.15,
            blur: 1.0,
            noise: 6.0,
            debris: 1.5,
            flicker: 0.02,
        }
    }
}

impl TimelapseOptions {
    /// Refuse values the model cannot use (each error names the field).
    pub fn check(&self) -> Result<()> {
        let positive = |name: &'static str, v: f64| -> Result<()> {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::param(
                    name,
                    format!("must be a positive number, not {v}"),
                ))
            }
        };
        let non_negative = |name: &'static str, v: f64| -> Result<()> {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(Error::param(name, format!("must be a number ≥ 0, not {v}")))
            }
        };
        if self.frames == 0 {
            return Err(Error::param("frames", "at least one frame"));
        }
        if self.width == 0 || self.height == 0 {
            return Err(Error::param("size", "the field must be at least 1×1"));
        }
        positive("cell_width", self.cell_width)?;
        non_negative("width_jitter", self.width_jitter)?;
        if self.width_jitter >= self.cell_width {
            return Err(Error::param(
                "width_jitter",
                "must be smaller than cell_width",
            ));
        }
        positive("birth_length", self.birth_length)?;
        if self.birth_length < self.cell_width {
            return Err(Error::param(
                "birth_length",
                format!(
                    "a rod at birth ({}) is at least as long as it is wide ({})",
                    self.birth_length, self.cell_width
                ),
            ));
        }
        positive("doubling", self.doubling)?;
        non_negative("doubling_spread", self.doubling_spread)?;
        if self.doubling_spread >= 1.0 {
            return Err(Error::param("doubling_spread", "must be below 1"));
        }
        for (name, v) in [
            ("division_noise", self.division_noise),
            ("asymmetry", self.asymmetry),
            ("kink", self.kink),
            ("jitter", self.jitter),
            ("rotation", self.rotation),
            ("spacing", self.spacing),
            ("drift", self.drift),
            ("drift_turn", self.drift_turn),
            ("defocus_blur", self.defocus_blur),
            ("defocus_contrast", self.defocus_contrast),
            ("background", self.background),
            ("contrast", self.contrast),
            ("halo", self.halo),
            ("illumination", self.illumination),
            ("blur", self.blur),
            ("noise", self.noise),
            ("debris", self.debris),
            ("flicker", self.flicker),
        ] {
            non_negative(name, v)?;
        }
        if let Some(&f) = self.out_of_focus.iter().find(|&&f| f >= self.frames) {
            return Err(Error::param(
                "out_of_focus",
                format!("frame {f} is past the last frame ({})", self.frames - 1),
            ));
        }
        Ok(())
    }
}

/// `count` distinct frames out of `1..frames` (frame 0 stays sharp), chosen by `seed`, in
/// order: the out-of-focus frames of `--out-of-focus K`.
pub fn pick_frames(frames: usize, count: usize, seed: u64) -> Result<Vec<usize>> {
    if count >= frames.max(1) {
        return Err(Error::param(
            "out_of_focus",
            format!(
                "{count} out-of-focus frames out of {frames}: at most {} (frame 0 stays sharp)",
                frames.saturating_sub(1)
            ),
        ));
    }
    let mut pool: Vec<usize> = (1..frames).collect();
    let mut rng = SplitMix64(seed ^ 0x00DE_F0C5);
    for k in 0..count {
        let j = k + (rng.next() % (pool.len() - k) as u64) as usize;
        pool.swap(k, j);
    }
    let mut out = pool[..count].to_vec();
    out.sort_unstable();
    Ok(out)
}

/// One track of the truth: a row of `man_track.txt` and of `cells.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    /// The track's label in the masks (1, 2, … in order of appearance).
    pub id: u32,
    /// The mother's track id, 0 for none (a founder, a cell that entered the field, a
    /// daughter whose mother was not present in the frame before her birth).
    pub parent: u32,
    /// First and last frame (0-based, inclusive).
    pub start_frame: usize,
    pub end_frame: usize,
    /// The cell divided right after `end_frame` (its daughters present in the next frame are
    /// the tracks whose parent this is).
    pub divides: bool,
    /// The cell's outline reached past the image edge in one of its frames.
    pub touches_border: bool,
    /// The cell's simulated growth rate `r` in 1/frame (its length grows by `exp(r)` a frame).
    pub growth_rate: f64,
    /// Its length pole to pole (caps included), px, in the track's first and last frame.
    pub length_birth: f64,
    pub length_division: f64,
}

impl Track {
    /// The track's line in a CTC track file.
    pub fn ctc(&self) -> CtcTrack {
        CtcTrack {
            label: self.id,
            begin: self.start_frame,
            end: self.end_frame,
            parent: self.parent,
        }
    }
}

/// The header of [`Timelapse::cells_csv`].
pub const CELLS_CSV_HEADER: &str = "track_id,parent_id,start_frame,end_frame,divides,\
touches_border,growth_rate,length_birth,length_division";

/// A cell present in a frame, as simulated (image coordinates).
#[derive(Clone, Debug, PartialEq)]
pub struct CellTruth {
    /// Its track id (its label in the frame).
    pub track: u32,
    /// Centre (row, column) in pixels, axis angle (radians; the axis is `(sin, cos)` in
    /// (row, column)), length pole to pole and width, in pixels.
    pub y: f64,
    pub x: f64,
    pub angle: f64,
    pub length: f64,
    pub width: f64,
    pub growth_rate: f64,
    /// Its outline reaches past the image edge.
    pub clipped: bool,
    /// Pixels of its label.
    pub area: usize,
}

/// One frame of a [`Timelapse`].
#[derive(Clone, Debug)]
pub struct Frame {
    /// 0-based frame number.
    pub index: usize,
    /// The rendered 8-bit image.
    pub image: RawImage,
    /// The truth: track ids, row-major, 0 = background (the CTC `man_track`/`man_seg` masks).
    pub labels: Vec<u32>,
    /// The cells present, by track id.
    pub cells: Vec<CellTruth>,
    /// Rendered out of focus.
    pub out_of_focus: bool,
    /// The stage position: specimen coordinates (row, column) of the image's pixel (0, 0).
    pub offset: (f64, f64),
}

/// A cell being simulated (specimen coordinates).
#[derive(Clone, Debug)]
struct Cell {
    y: f64,
    x: f64,
    angle: f64,
    length: f64,
    width: f64,
    rate: f64,
    division_length: f64,
    /// Its open track: present in the previous frame under this id (0: not present).
    track: u32,
    /// The mother's track id, in the frame of birth only (0 otherwise).
    parent: u32,
}

impl Cell {
    fn capsule(&self, oy: f64, ox: f64) -> Capsule {
        Capsule::new(
            self.y - oy,
            self.x - ox,
            self.angle,
            self.length,
            self.width,
        )
    }
    /// Half the axis segment (caps excluded).
    fn half_seg(&self) -> f64 {
        ((self.length - self.width) / 2.0).max(0.0)
    }
    fn axis(&self) -> (f64, f64) {
        (self.angle.sin(), self.angle.cos())
    }
    /// Half-extents of the capsule along rows and columns.
    fn reach(&self) -> (f64, f64) {
        let (uy, ux) = self.axis();
        let h = self.half_seg();
        let r = self.width / 2.0;
        (h * uy.abs() + r, h * ux.abs() + r)
    }
}

/// The stage's path: a heading that turns by a normal step each frame, `drift` px a frame.
/// Replayable from its seed, so its extent is known before the movie is made.
struct Stage {
    rng: SplitMix64,
    heading: f64,
    y: f64,
    x: f64,
    drift: f64,
    turn: f64,
}

impl Stage {
    fn new(seed: u64, drift: f64, turn: f64) -> Self {
        let mut rng = SplitMix64(seed ^ 0x0057_A6ED_121F);
        let heading = unit(&mut rng) * 2.0 * PI;
        Stage {
            rng,
            heading,
            y: 0.0,
            x: 0.0,
            drift,
            turn,
        }
    }
    fn step(&mut self) {
        if self.drift <= 0.0 {
            return;
        }
        self.heading += self.turn * gauss(&mut self.rng);
        self.y += self.drift * self.heading.sin();
        self.x += self.drift * self.heading.cos();
    }
}

/// A synthetic time-lapse: an iterator of frames, each with its truth, and the track table
/// growing as it goes ([`tracks`](Self::tracks) is complete once the iterator has ended).
/// Deterministic in its options (the seed among them). See the [module docs](self).
pub struct Timelapse {
    opts: TimelapseOptions,
    cells: Vec<Cell>,
    tracks: Vec<Track>,
    stage: Stage,
    /// Simulation randomness (growth rates, divisions, jitter) and rendering randomness
    /// (noise, flicker), kept apart so that rendering never changes the colony.
    sim: SplitMix64,
    render: SplitMix64,
    /// Debris specks on the pad: (row, column, radius, darkness), specimen coordinates.
    debris: Vec<(f64, f64, f64, f64)>,
    /// Illumination gradient direction.
    gradient: (f64, f64),
    next: usize,
    failed: bool,
    // scratch buffers, reused frame after frame
    best: Vec<f64>,
    owner: Vec<u32>,
    seen: Vec<u32>,
    stamp: u32,
}

impl Timelapse {
    /// Check the options, scatter the founders and debris; no frame is made yet.
    pub fn new(opts: &TimelapseOptions) -> Result<Self> {
        opts.check()?;
        let opts = opts.clone();
        let (w, h) = (opts.width as f64, opts.height as f64);
        // the area the field sees during the movie
        let mut probe = Stage::new(opts.seed, opts.drift, opts.drift_turn);
        let (mut y0, mut y1, mut x0, mut x1) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for _ in 1..opts.frames {
            probe.step();
            y0 = y0.min(probe.y);
            y1 = y1.max(probe.y);
            x0 = x0.min(probe.x);
            x1 = x1.max(probe.x);
        }
        let margin = opts.birth_length + opts.cell_width;
        let (ry0, ry1) = (y0 - margin, y1 + h + margin);
        let (rx0, rx1) = (x0 - margin, x1 + w + margin);
        let area = (ry1 - ry0) * (rx1 - rx0);
        let founders = (opts.cells as f64 * area / (w * h)).round() as usize;
        if founders > MAX_CELLS {
            return Err(Error::Limit(format!(
                "{founders} founders in and around the field: at most {MAX_CELLS}"
            )));
        }

        let mut sim = SplitMix64(opts.seed ^ 0x0054_494D_454C);
        let mut cells: Vec<Cell> = Vec::with_capacity(founders);
        let mut misses = 0;
        while cells.len() < founders && misses < 2000 {
            let width = opts.cell_width + opts.width_jitter * (2.0 * unit(&mut sim) - 1.0);
            let rate = draw_rate(&opts, &mut sim);
            let birth =
                (opts.birth_length * (1.0 + 0.1 * gauss(&mut sim).clamp(-2.0, 2.0))).max(width);
            let division_length = birth + draw_added(&opts, &mut sim);
            // a random point of the cycle: uniform in age
            let length = birth * (division_length / birth).powf(unit(&mut sim));
            let c = Cell {
                y: ry0 + unit(&mut sim) * (ry1 - ry0),
                x: rx0 + unit(&mut sim) * (rx1 - rx0),
                angle: unit(&mut sim) * PI,
                length,
                width,
                rate,
                division_length,
                track: 0,
                parent: 0,
            };
            let free = cells.iter().all(|o| {
                let (dy, dx) = (o.y - c.y, o.x - c.x);
                let far = (o.length + c.length) / 2.0 + 3.0;
                dy * dy + dx * dx > far * far || contact(o, &c).0 > (o.width + c.width) / 2.0 + 3.0
            });
            if free {
                cells.push(c);
                misses = 0;
            } else {
                misses += 1;
            }
        }

        let mut render = SplitMix64(opts.seed ^ 0x0052_454E_4452);
        let specks = (opts.debris * area / 10_000.0).round() as usize;
        let debris = (0..specks)
            .map(|_| {
                (
                    ry0 + unit(&mut render) * (ry1 - ry0),
                    rx0 + unit(&mut render) * (rx1 - rx0),
                    1.0 + 2.0 * unit(&mut render),
                    0.5 + 0.6 * unit(&mut render),
                )
            })
            .collect();
        let g = unit(&mut render) * 2.0 * PI;
        let n = opts.width * opts.height;
        Ok(Timelapse {
            stage: Stage::new(opts.seed, opts.drift, opts.drift_turn),
            opts,
            cells,
            tracks: Vec::new(),
            sim,
            render,
            debris,
            gradient: (g.sin(), g.cos()),
            next: 0,
            failed: false,
            best: vec![0.0; n],
            owner: vec![0; n],
            seen: vec![0; n],
            stamp: 0,
        })
    }

    /// The options the movie is made with.
    pub fn options(&self) -> &TimelapseOptions {
        &self.opts
    }

    /// The tracks of the frames made so far, by id (row `id − 1`).
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// The CTC track file's lines (`man_track.txt`, [`ctc::format_tracks`]).
    pub fn ctc_tracks(&self) -> Vec<CtcTrack> {
        self.tracks.iter().map(Track::ctc).collect()
    }

    /// The `cells.csv` table: [`CELLS_CSV_HEADER`] and one row per track, by id.
    pub fn cells_csv(&self) -> String {
        let mut s = String::from(CELLS_CSV_HEADER);
        s.push('\n');
        for t in &self.tracks {
            s.push_str(&format!(
                "{},{},{},{},{},{},{:.6},{:.3},{:.3}\n",
                t.id,
                t.parent,
                t.start_frame,
                t.end_frame,
                t.divides,
                t.touches_border,
                t.growth_rate,
                t.length_birth,
                t.length_division
            ));
        }
        s
    }

    /// Cells simulated now (in and around the field).
    pub fn cells_simulated(&self) -> usize {
        self.cells.len()
    }

    /// Advance the colony and the stage by one frame.
    fn step(&mut self) -> Result<()> {
        let opts = &self.opts;
        let mut next_cells = Vec::with_capacity(self.cells.len() + 16);
        for mut c in std::mem::take(&mut self.cells) {
            c.parent = 0;
            c.length *= c.rate.exp();
            if c.length < c.division_length {
                next_cells.push(c);
                continue;
            }
            if c.track != 0 {
                self.tracks[c.track as usize - 1].divides = true;
            }
            let [a, b] = divide(&c, opts, &mut self.sim);
            next_cells.push(a);
            next_cells.push(b);
        }
        if next_cells.len() > MAX_CELLS {
            return Err(Error::Limit(format!(
                "frame {}: the colony holds {} cells in and around the field, at most \
                 {MAX_CELLS}: ask for fewer frames or cells, or a longer doubling time",
                self.next,
                next_cells.len()
            )));
        }
        for c in &mut next_cells {
            c.y += opts.jitter * gauss(&mut self.sim);
            c.x += opts.jitter * gauss(&mut self.sim);
            c.angle += opts.rotation * gauss(&mut self.sim);
        }
        relax(&mut next_cells, opts.spacing);
        self.cells = next_cells;
        self.stage.step();
        Ok(())
    }

    /// Rasterise the truth and render the image of the current state as frame `t`.
    fn frame(&mut self, t: usize) -> Result<Frame> {
        let (w, h) = (self.opts.width, self.opts.height);
        let (oy, ox) = (self.stage.y, self.stage.x);
        self.best.fill(f64::INFINITY);
        self.owner.fill(0);
        // every pixel to the capsule it lies deepest inside (the first such cell on a tie)
        let mut boxes: Vec<Option<(usize, usize, usize, usize)>> =
            Vec::with_capacity(self.cells.len());
        for (k, c) in self.cells.iter().enumerate() {
            let cap = c.capsule(oy, ox);
            let bb = cap.bbox(w, h, 1.0);
            if let Some((r0, r1, c0, c1)) = bb {
                for r in r0..=r1 {
                    for col in c0..=c1 {
                        let s = cap.sdf(r as f64, col as f64);
                        let i = r * w + col;
                        if s < 0.0 && s < self.best[i] {
                            self.best[i] = s;
                            self.owner[i] = k as u32 + 1;
                        }
                    }
                }
            }
            boxes.push(bb);
        }
        // the image's cell mask: every cell, whole
        let mut cell: Vec<f64> = self
            .owner
            .iter()
            .map(|&o| if o != 0 { 1.0 } else { 0.0 })
            .collect();

        // the truth: each cell's largest 8-connected piece, when big enough
        let mut labels = vec![0u32; w * h];
        let mut present = Vec::new();
        let pieces: Vec<Vec<usize>> = boxes
            .iter()
            .enumerate()
            .map(|(k, bb)| match bb {
                Some(bb) => self.largest_piece(k as u32 + 1, *bb),
                None => Vec::new(),
            })
            .collect();
        // daughters present in their frame of birth, per mother: a division seen with one
        // daughter only (the other outside the field) is that daughter going on as her mother
        let mut born: BTreeMap<u32, usize> = BTreeMap::new();
        for (c, piece) in self.cells.iter().zip(&pieces) {
            if c.track == 0 && c.parent != 0 && piece.len() >= self.opts.min_visible {
                *born.entry(c.parent).or_default() += 1;
            }
        }
        for (k, piece) in pieces.into_iter().enumerate() {
            let c = &mut self.cells[k];
            if piece.len() < self.opts.min_visible {
                c.track = 0;
                continue;
            }
            if c.track == 0
                && c.parent != 0
                && !self.opts.hidden_divisions
                && born.get(&c.parent) == Some(&1)
            {
                // the mother's track goes on: it did not divide as far as the images show,
                // and from here on its rate and lengths are this cell's
                let tr = &mut self.tracks[c.parent as usize - 1];
                tr.divides = false;
                tr.growth_rate = c.rate;
                c.track = c.parent;
                c.parent = 0;
            }
            let (ry, rx) = c.reach();
            let (cy, cx) = (c.y - oy, c.x - ox);
            let clipped = cy - ry < -0.5
                || cx - rx < -0.5
                || cy + ry > h as f64 - 0.5
                || cx + rx > w as f64 - 0.5;
            if c.track == 0 {
                if self.tracks.len() >= MAX_TRACKS {
                    return Err(Error::Limit(format!(
                        "frame {t}: more than {MAX_TRACKS} tracks (the CTC masks are u16): ask \
                         for fewer frames or cells, or a smaller field"
                    )));
                }
                let id = self.tracks.len() as u32 + 1;
                self.tracks.push(Track {
                    id,
                    parent: c.parent,
                    start_frame: t,
                    end_frame: t,
                    divides: false,
                    touches_border: false,
                    growth_rate: c.rate,
                    length_birth: c.length,
                    length_division: c.length,
                });
                c.track = id;
            }
            let tr = &mut self.tracks[c.track as usize - 1];
            tr.end_frame = t;
            tr.length_division = c.length;
            tr.touches_border |= clipped;
            for &i in &piece {
                labels[i] = c.track;
            }
            present.push(CellTruth {
                track: c.track,
                y: cy,
                x: cx,
                angle: c.angle,
                length: c.length,
                width: c.width,
                growth_rate: c.rate,
                clipped,
                area: piece.len(),
            });
        }
        present.sort_by_key(|c| c.track);

        let out_of_focus = self.opts.out_of_focus.contains(&t);
        let image = self.render_image(&mut cell, oy, ox, out_of_focus);
        Ok(Frame {
            index: t,
            image,
            labels,
            cells: present,
            out_of_focus,
            offset: (oy, ox),
        })
    }

    /// The largest 8-connected piece of the pixels owned by `who` within the box.
    fn largest_piece(&mut self, who: u32, bb: (usize, usize, usize, usize)) -> Vec<usize> {
        let w = self.opts.width;
        let (r0, r1, c0, c1) = bb;
        let mut best: Vec<usize> = Vec::new();
        let mut stack = Vec::new();
        for r in r0..=r1 {
            for c in c0..=c1 {
                let i = r * w + c;
                if self.owner[i] != who || self.seen[i] == self.stamp + 1 {
                    continue;
                }
                // a fresh stamp for this piece's search
                let mark = self.stamp + 1;
                let mut piece = vec![i];
                self.seen[i] = mark;
                stack.push(i);
                while let Some(j) = stack.pop() {
                    let (jr, jc) = (j / w, j % w);
                    for nr in jr.saturating_sub(1)..=(jr + 1).min(r1) {
                        for nc in jc.saturating_sub(1)..=(jc + 1).min(c1) {
                            if nr < r0 || nc < c0 {
                                continue;
                            }
                            let n = nr * w + nc;
                            if self.owner[n] == who && self.seen[n] != mark {
                                self.seen[n] = mark;
                                piece.push(n);
                                stack.push(n);
                            }
                        }
                    }
                }
                if piece.len() > best.len() {
                    best = piece;
                }
            }
        }
        // every pixel of `who` is now marked; the next search gets a new stamp
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == u32::MAX {
            self.seen.fill(0);
            self.stamp = 0;
        }
        best
    }

    /// The image of a cell mask (1 inside a cell): halos, debris, blur, illumination, noise.
    fn render_image(&mut self, cell: &mut [f64], oy: f64, ox: f64, defocus: bool) -> RawImage {
        let o = &self.opts;
        let (w, h) = (o.width, o.height);
        let mut halo = cell.to_vec();
        if o.halo > 0.0 {
            gaussian_blur(&mut halo, w, h, 1.5 + o.cell_width / 6.0);
            for (hv, c) in halo.iter_mut().zip(cell.iter()) {
                *hv = (*hv - c).max(0.0);
            }
        }
        for &(sy, sx, rad, dark) in &self.debris {
            let spot = Capsule::new(sy - oy, sx - ox, 0.0, 2.0 * rad, 2.0 * rad);
            let Some((r0, r1, c0, c1)) = spot.bbox(w, h, 4.0) else {
                continue;
            };
            // hidden under or beside a cell
            let near = (r0..=r1).any(|r| {
                (c0..=c1).any(|c| self.owner[r * w + c] != 0 && spot.sdf(r as f64, c as f64) < 3.0)
            });
            if near {
                continue;
            }
            for r in r0..=r1 {
                for c in c0..=c1 {
                    if spot.sdf(r as f64, c as f64) < 0.0 {
                        let i = r * w + c;
                        cell[i] = cell[i].max(dark);
                    }
                }
            }
        }
        let (sigma, contrast) = if defocus {
            (o.defocus_blur, o.contrast * o.defocus_contrast)
        } else {
            (o.blur, o.contrast)
        };
        gaussian_blur(cell, w, h, sigma);
        if o.halo > 0.0 {
            gaussian_blur(&mut halo, w, h, sigma);
        }
        let flicker = 1.0 + o.flicker * gauss(&mut self.render);
        let (gy, gx) = self.gradient;
        let (my, mx) = (h as f64 / 2.0, w as f64 / 2.0);
        let rmax2 = my * my + mx * mx;
        let diag = rmax2.sqrt().max(1.0);
        let mut px = vec![0u8; w * h];
        for r in 0..h {
            for c in 0..w {
                let i = r * w + c;
                let (dy, dx) = (r as f64 - my, c as f64 - mx);
                let illum = flicker
                    * (1.0 + o.illumination * 0.5 * (dy * gy + dx * gx) / diag
                        - o.illumination * 0.5 * (dy * dy + dx * dx) / rmax2);
                let v = illum * (o.background - contrast * cell[i] + o.halo * contrast * halo[i])
                    + o.noise * gauss(&mut self.render);
                px[i] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
        RawImage::gray_u8(w, h, px)
    }
}

impl Iterator for Timelapse {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Result<Frame>> {
        if self.failed || self.next >= self.opts.frames {
            return None;
        }
        let t = self.next;
        let result = (|| {
            if t > 0 {
                self.step()?;
            }
            self.frame(t)
        })();
        self.next += 1;
        if result.is_err() {
            self.failed = true;
        }
        Some(result)
    }
}

/// A growth rate: `ln 2 / T`, `T` uniform in `doubling · (1 ± doubling_spread)`.
fn draw_rate(o: &TimelapseOptions, rng: &mut SplitMix64) -> f64 {
    let t = o.doubling * (1.0 + o.doubling_spread * (2.0 * unit(rng) - 1.0));
    LN_2 / t
}

/// The adder's added length: normal around `birth_length`, truncated.
fn draw_added(o: &TimelapseOptions, rng: &mut SplitMix64) -> f64 {
    let z = gauss(rng).clamp(-3.0, 3.0);
    (o.birth_length * (1.0 + o.division_noise * z)).max(0.3 * o.birth_length)
}

/// The two daughters of `m`, whose length is its grown length: end to end along its axis,
/// sharing its length, each turned by half the kink about the septum.
fn divide(m: &Cell, o: &TimelapseOptions, rng: &mut SplitMix64) -> [Cell; 2] {
    let l = m.length;
    let lo = (m.width / l).min(0.5);
    let f = (0.5 + o.asymmetry * gauss(rng))
        .clamp(0.35, 0.65)
        .clamp(lo, 1.0 - lo);
    let (l1, l2) = (f * l, (1.0 - f) * l);
    let (uy, ux) = m.axis();
    // the septum, at distance l1 from the rear pole
    let (sy, sx) = (m.y + uy * (l1 - l / 2.0), m.x + ux * (l1 - l / 2.0));
    let k = o.kink * (2.0 * unit(rng) - 1.0);
    let (a1, a2) = (m.angle + k / 2.0, m.angle - k / 2.0);
    let mut daughter = |angle: f64, length: f64, side: f64| {
        let (vy, vx) = (angle.sin(), angle.cos());
        let width = (m.width + 0.2 * gauss(rng).clamp(-2.0, 2.0)).max(1.0);
        Cell {
            y: sy + side * vy * length / 2.0,
            x: sx + side * vx * length / 2.0,
            angle,
            length,
            width: width.min(length),
            rate: draw_rate(o, rng),
            division_length: length + draw_added(o, rng),
            track: 0,
            parent: m.track,
        }
    };
    let rear = daughter(a1, l1, -1.0);
    let front = daughter(a2, l2, 1.0);
    [rear, front]
}

/// Distance between the axes (segments) of two cells and the closest points on them:
/// `(distance, (ay, ax), (by, bx))` (Ericson, *Real-Time Collision Detection*, 5.1.9).
fn contact(a: &Cell, b: &Cell) -> (f64, (f64, f64), (f64, f64)) {
    let (ay, ax) = a.axis();
    let (by, bx) = b.axis();
    let (ha, hb) = (a.half_seg(), b.half_seg());
    // segments p1 + s d1 and p2 + t d2, s, t in [0, 1]
    let p1 = (a.y - ay * ha, a.x - ax * ha);
    let d1 = (2.0 * ay * ha, 2.0 * ax * ha);
    let p2 = (b.y - by * hb, b.x - bx * hb);
    let d2 = (2.0 * by * hb, 2.0 * bx * hb);
    let dot = |u: (f64, f64), v: (f64, f64)| u.0 * v.0 + u.1 * v.1;
    let r = (p1.0 - p2.0, p1.1 - p2.1);
    let (aa, ee, f) = (dot(d1, d1), dot(d2, d2), dot(d2, r));
    let eps = 1e-12;
    let (s, t) = if aa <= eps && ee <= eps {
        (0.0, 0.0)
    } else if aa <= eps {
        (0.0, (f / ee).clamp(0.0, 1.0))
    } else {
        let c = dot(d1, r);
        if ee <= eps {
            ((-c / aa).clamp(0.0, 1.0), 0.0)
        } else {
            let bb = dot(d1, d2);
            let denom = aa * ee - bb * bb;
            let mut s = if denom > eps {
                ((bb * f - c * ee) / denom).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let mut t = (bb * s + f) / ee;
            if t < 0.0 {
                t = 0.0;
                s = (-c / aa).clamp(0.0, 1.0);
            } else if t > 1.0 {
                t = 1.0;
                s = ((bb - c) / aa).clamp(0.0, 1.0);
            }
            (s, t)
        }
    };
    let c1 = (p1.0 + d1.0 * s, p1.1 + d1.1 * s);
    let c2 = (p2.0 + d2.0 * t, p2.1 + d2.1 * t);
    let (dy, dx) = (c1.0 - c2.0, c1.1 - c2.1);
    ((dy * dy + dx * dx).sqrt(), c1, c2)
}

/// Push overlapping cells apart until no two outlines are closer than `spacing` (within
/// 0.05 px) or 64 sweeps have passed. Pairs are found by sweeping the cells sorted by their
/// left edge; each overlap is resolved at once (Gauss–Seidel, in a fixed order, so the result
/// is deterministic), shared in inverse proportion to the cells' lengths, with a rotation from
/// the contact's torque (at most 0.05 rad a contact).
fn relax(cells: &mut [Cell], spacing: f64) {
    let n = cells.len();
    let mut order: Vec<usize> = (0..n).collect();
    let mut pairs = Vec::new();
    // candidate pairs come from the boxes at a sweep's start, widened by this much so that
    // cells moved during the sweep are still paired
    let slack = spacing + 2.0;
    for _ in 0..64 {
        let boxes: Vec<(f64, f64, f64, f64)> = cells
            .iter()
            .map(|c| {
                let (ry, rx) = c.reach();
                (c.x - rx, c.x + rx + slack, c.y - ry, c.y + ry + slack)
            })
            .collect();
        order.sort_by(|&i, &j| boxes[i].0.total_cmp(&boxes[j].0).then(i.cmp(&j)));
        pairs.clear();
        for (a, &i) in order.iter().enumerate() {
            for &j in &order[a + 1..] {
                if boxes[j].0 > boxes[i].1 {
                    break;
                }
                if boxes[j].2 <= boxes[i].3 && boxes[i].2 <= boxes[j].3 {
                    pairs.push((i, j));
                }
            }
        }
        let mut worst = 0.0f64;
        for &(i, j) in &pairs {
            let (d, pi, pj) = contact(&cells[i], &cells[j]);
            let need = (cells[i].width + cells[j].width) / 2.0 + spacing;
            if d >= need {
                continue;
            }
            let depth = need - d;
            worst = worst.max(depth);
            let (ny, nx) = if d > 1e-9 {
                ((pi.0 - pj.0) / d, (pi.1 - pj.1) / d)
            } else {
                // axes crossing: push across the first one's axis
                let (uy, ux) = cells[i].axis();
                (ux, -uy)
            };
            let (li, lj) = (cells[i].length, cells[j].length);
            let (si, sj) = (lj / (li + lj), li / (li + lj));
            push(&mut cells[i], pi, (ny * depth * si, nx * depth * si));
            push(&mut cells[j], pj, (-ny * depth * sj, -nx * depth * sj));
        }
        if worst < 0.05 {
            break;
        }
    }
}

/// Move a cell by `f` (row, column), and turn it by the torque of `f` applied at `at`.
fn push(c: &mut Cell, at: (f64, f64), f: (f64, f64)) {
    let (ay, ax) = (at.0 - c.y, at.1 - c.x);
    let h = c.half_seg();
    let r = c.width / 2.0;
    // angle grows from +x towards +y: a turn dθ moves `at` by dθ · (ax, −ay) in (row, col)
    let torque = ax * f.0 - ay * f.1;
    let turn = (0.5 * torque / (h * h + r * r)).clamp(-0.05, 0.05);
    c.y += f.0;
    c.x += f.1;
    c.angle += turn;
}

/// What [`write`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub frames: usize,
    pub tracks: usize,
    /// Division events in the truth: tracks with at least one daughter track.
    pub divisions: usize,
    /// Cells present in the last frame.
    pub cells_last: usize,
}

/// The files [`write`] puts under `gt` for `frames` frames, relative to it.
pub fn truth_files(frames: usize) -> Vec<PathBuf> {
    let d = ctc::digits(frames);
    let mut out = vec![
        PathBuf::from("TRA").join("man_track.txt"),
        PathBuf::from("cells.csv"),
    ];
    for t in 0..frames {
        out.push(PathBuf::from("TRA").join(ctc::mask_name("man_track", t, d)));
        out.push(PathBuf::from("SEG").join(ctc::mask_name("man_seg", t, d)));
    }
    out
}

/// Refuse outputs [`write`] should not write, before any work: the image stack inside the
/// truth folder, a truth folder that is a file or that holds anything this run would not
/// write (a file of another movie would sit among this one's and look like it), a stack that
/// is a folder.
pub fn check_outputs(stack: &Path, gt: &Path, frames: usize) -> Result<()> {
    use crate::outputs::normalize;
    let (ns, ng) = (normalize(stack), normalize(gt));
    if ns.starts_with(&ng) {
        return Err(Error::param(
            "--gt",
            format!(
                "the image stack {} would lie in the ground-truth folder {}: name another place",
                stack.display(),
                gt.display()
            ),
        ));
    }
    if stack.is_dir() {
        return Err(Error::param(
            "--output",
            format!("{} is a folder: name a .tif file", stack.display()),
        ));
    }
    if gt.exists() && !gt.is_dir() {
        return Err(Error::param(
            "--gt",
            format!(
                "{} is a file: name a folder for the ground truth",
                gt.display()
            ),
        ));
    }
    let ours: BTreeSet<PathBuf> = truth_files(frames).into_iter().collect();
    let foreign = |rel: PathBuf| {
        Error::param(
            "--gt",
            format!(
                "{} holds {}, which this run would not write (another movie's truth?): name a \
                 new or empty folder",
                gt.display(),
                rel.display()
            ),
        )
    };
    let list = |dir: &Path| -> Result<Vec<(String, bool)>> {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return Ok(Vec::new());
        };
        let mut names = Vec::new();
        for e in rd {
            let e = e.map_err(|source| Error::Read {
                path: dir.to_path_buf(),
                source,
            })?;
            names.push((
                e.file_name().to_string_lossy().into_owned(),
                e.path().is_dir(),
            ));
        }
        names.sort();
        Ok(names)
    };
    for (name, is_dir) in list(gt)? {
        match (name.as_str(), is_dir) {
            ("TRA" | "SEG", true) => {
                for (inner, inner_dir) in list(&gt.join(&name))? {
                    let rel = PathBuf::from(&name).join(&inner);
                    if inner_dir || !ours.contains(&rel) {
                        return Err(foreign(rel));
                    }
                }
            }
            ("cells.csv", false) => {}
            _ => return Err(foreign(PathBuf::from(name))),
        }
    }
    Ok(())
}

/// Make the movie of `opts` and write it: the 8-bit image stack `stack` (a multi-page TIFF,
/// [`io::StackWriter::create_gray8`]) and, under `gt`, the CTC truth
/// `TRA/man_trackTTT.tif`, `SEG/man_segTTT.tif` (u16 track ids, every frame, the same
/// labels), `TRA/man_track.txt` and `cells.csv` ([`Timelapse::cells_csv`]). Checks the
/// outputs first ([`check_outputs`]); the track file, the table and the stack are written
/// last, so an interrupted run leaves no complete-looking truth (a previous run's track file
/// and table are removed before the first frame).
pub fn write(opts: &TimelapseOptions, stack: &Path, gt: &Path) -> Result<Summary> {
    let mut movie = Timelapse::new(opts)?;
    check_outputs(stack, gt, opts.frames)?;
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let (tra, seg) = (gt.join("TRA"), gt.join("SEG"));
    for d in [&tra, &seg] {
        std::fs::create_dir_all(d).map_err(io_err(d))?;
    }
    let (track_file, table) = (tra.join("man_track.txt"), gt.join("cells.csv"));
    for f in [&track_file, &table] {
        if f.exists() {
            std::fs::remove_file(f).map_err(io_err(f))?;
        }
    }
    let digits = ctc::digits(opts.frames);
    let mut writer = io::StackWriter::create_gray8(stack)?;
    let mut cells_last = 0;
    for frame in movie.by_ref() {
        let f = frame?;
        let pixels = match &f.image.samples {
            crate::image::Samples::U8(d) => d,
            _ => unreachable!("the renderer makes 8-bit images"),
        };
        writer.write_gray8(opts.width, opts.height, pixels)?;
        let t = f.index;
        io::write_labels_tiff(
            &tra.join(ctc::mask_name("man_track", t, digits)),
            opts.width,
            opts.height,
            &f.labels,
        )?;
        io::write_labels_tiff(
            &seg.join(ctc::mask_name("man_seg", t, digits)),
            opts.width,
            opts.height,
            &f.labels,
        )?;
        cells_last = f.cells.len();
    }
    let tracks = movie.ctc_tracks();
    io::write_text(&track_file, &ctc::format_tracks(&tracks))?;
    io::write_text(&table, &movie.cells_csv())?;
    writer.finish()?;
    let parents: BTreeSet<u32> = tracks
        .iter()
        .map(|t| t.parent)
        .filter(|&p| p != 0)
        .collect();
    Ok(Summary {
        frames: opts.frames,
        tracks: tracks.len(),
        divisions: parents.len(),
        cells_last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn small() -> TimelapseOptions {
        TimelapseOptions {
            frames: 30,
            width: 128,
            height: 96,
            seed: 5,
            cells: 6,
            ..Default::default()
        }
    }

    fn run(opts: &TimelapseOptions) -> (Vec<Frame>, Vec<Track>) {
        let mut m = Timelapse::new(opts).unwrap();
        let frames: Vec<Frame> = m.by_ref().map(|f| f.unwrap()).collect();
        (frames, m.tracks().to_vec())
    }

    #[test]
    fn synth_timelapse_is_deterministic() {
        let opts = TimelapseOptions {
            drift: 2.0,
            out_of_focus: vec![3, 7],
            ..small()
        };
        let (a, ta) = run(&opts);
        let (b, tb) = run(&opts);
        assert_eq!(ta, tb);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.image, y.image);
            assert_eq!(x.labels, y.labels);
            assert_eq!(x.cells, y.cells);
        }
        let (c, _) = run(&TimelapseOptions { seed: 6, ..opts });
        assert_ne!(a[0].image, c[0].image);
    }

    /// The truth passes the CTC rules, and each frame's labels are exactly the tracks alive
    /// in it (by the table), each of them with its pixels as one 8-connected piece of at least
    /// `min_visible` px.
    #[test]
    fn synth_timelapse_truth_is_valid_ctc() {
        for opts in [
            small(),
            TimelapseOptions {
                drift: 3.0,
                cells: 20,
                seed: 11,
                ..small()
            },
        ] {
            let (frames, tracks) = run(&opts);
            let ctc: Vec<CtcTrack> = tracks.iter().map(Track::ctc).collect();
            let present: Vec<BTreeSet<u32>> = frames
                .iter()
                .map(|f| f.labels.iter().copied().filter(|&l| l != 0).collect())
                .collect();
            let problems = ctc::validate(&ctc, &present, 10);
            assert!(problems.is_empty(), "{problems:?}");
            for (t, f) in frames.iter().enumerate() {
                let alive: BTreeSet<u32> = tracks
                    .iter()
                    .filter(|tr| tr.start_frame <= t && t <= tr.end_frame)
                    .map(|tr| tr.id)
                    .collect();
                assert_eq!(present[t], alive, "frame {t}");
                let listed: BTreeSet<u32> = f.cells.iter().map(|c| c.track).collect();
                assert_eq!(listed, alive, "frame {t}");
                let mut px: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
                for (i, &l) in f.labels.iter().enumerate() {
                    if l != 0 {
                        px.entry(l).or_default().push(i);
                    }
                }
                for (l, p) in &px {
                    assert!(p.len() >= opts.min_visible, "frame {t} label {l}");
                    assert!(
                        super::super::one_component(p, opts.width),
                        "frame {t} label {l}"
                    );
                    let c = f.cells.iter().find(|c| c.track == *l).unwrap();
                    assert_eq!(c.area, p.len());
                }
            }
            // some divisions are seen, and a divided track's daughters begin right after it
            let divided = tracks.iter().filter(|t| t.divides).count();
            assert!(divided >= 2, "only {divided} divisions");
            for t in tracks.iter().filter(|t| t.parent != 0) {
                let m = &tracks[t.parent as usize - 1];
                assert!(m.divides);
                assert_eq!(m.end_frame + 1, t.start_frame);
            }
            // and drift makes cells enter and leave
            if opts.drift > 0.0 {
                assert!(tracks
                    .iter()
                    .any(|t| t.touches_border && t.parent == 0 && t.start_frame > 0));
            }
        }
    }

    /// A division is in the truth only with both daughters seen: by default every mother has
    /// two daughter tracks; with `hidden_divisions` the same movie (same images, same cells)
    /// also has mothers with one, and each of those is one track of the default truth, the
    /// mother's, going on through the division.
    #[test]
    fn synth_timelapse_records_a_division_only_when_both_daughters_are_seen() {
        let opts = TimelapseOptions {
            drift: 3.0,
            cells: 20,
            seed: 11,
            frames: 40,
            ..small()
        };
        let kids = |tracks: &[Track]| {
            let mut n: BTreeMap<u32, usize> = BTreeMap::new();
            for t in tracks.iter().filter(|t| t.parent != 0) {
                *n.entry(t.parent).or_default() += 1;
            }
            n
        };
        let (seen, seen_tracks) = run(&opts);
        assert!(kids(&seen_tracks).values().all(|&n| n == 2));
        let hidden_opts = TimelapseOptions {
            hidden_divisions: true,
            ..opts
        };
        let (all, all_tracks) = run(&hidden_opts);
        let one_child: Vec<u32> = kids(&all_tracks)
            .into_iter()
            .filter(|&(_, n)| n == 1)
            .map(|(m, _)| m)
            .collect();
        assert!(!one_child.is_empty(), "no division with one daughter seen");
        assert_eq!(all_tracks.len(), seen_tracks.len() + one_child.len());
        for (a, b) in all.iter().zip(&seen) {
            assert_eq!(a.image, b.image);
            // the same objects, only named differently
            let fg = |f: &Frame| f.labels.iter().map(|&l| l != 0).collect::<Vec<_>>();
            assert_eq!(fg(a), fg(b));
        }
        // the mother's pixels and her one daughter's are one track in the default truth
        for &m in &one_child {
            let d = all_tracks.iter().find(|t| t.parent == m).unwrap();
            let (tm, td) = (all_tracks[m as usize - 1].end_frame, d.start_frame);
            let label_in = |frames: &[Frame], t: usize, id: u32| {
                let i = frames[t].labels.iter().position(|&l| l == id).unwrap();
                seen[t].labels[i]
            };
            assert_eq!(label_in(&all, tm, m), label_in(&all, td, d.id));
        }
    }

    /// A cell's length grows by exactly `exp(r)` a frame, and the drawn label matches it within
    /// rasterisation: its extent along the axis is the length within 2 px for cells inside the
    /// field.
    #[test]
    fn synth_timelapse_lengths_grow_exponentially() {
        let (frames, tracks) = run(&small());
        let mut checked = 0;
        for pair in frames.windows(2) {
            for c in &pair[1].cells {
                if let Some(p) = pair[0].cells.iter().find(|p| p.track == c.track) {
                    if c.length < 0.7 * p.length {
                        // a daughter going on in her mother's track (her sister unseen)
                        continue;
                    }
                    let want = p.length * c.growth_rate.exp();
                    assert!((c.length - want).abs() < 1e-9 * want, "track {}", c.track);
                    checked += 1;
                }
            }
        }
        assert!(checked > 100);
        let mut measured = 0;
        for f in &frames {
            for c in f.cells.iter().filter(|c| !c.clipped) {
                let (uy, ux) = (c.angle.sin(), c.angle.cos());
                let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
                for (i, &l) in f.labels.iter().enumerate() {
                    if l == c.track {
                        let (r, col) = ((i / 128) as f64 - c.y, (i % 128) as f64 - c.x);
                        let s = r * uy + col * ux;
                        lo = lo.min(s);
                        hi = hi.max(s);
                    }
                }
                let extent = hi - lo + 1.0;
                assert!(
                    (extent - c.length).abs() <= 2.0,
                    "frame {} track {}: extent {extent:.2}, length {:.2}",
                    f.index,
                    c.track,
                    c.length
                );
                measured += 1;
            }
        }
        assert!(measured > 100);
        // rates as drawn: ln 2 / (25 ± 20 %)
        for t in &tracks {
            assert!(t.growth_rate >= LN_2 / 30.0 - 1e-12 && t.growth_rate <= LN_2 / 20.0 + 1e-12);
        }
    }

    /// Daughters share their mother's grown length: their first lengths sum to her last
    /// length × exp(r), and each is about half of it.
    #[test]
    fn synth_timelapse_daughters_share_the_mothers_length() {
        let (_, tracks) = run(&TimelapseOptions {
            frames: 50,
            ..small()
        });
        let mut pairs = 0;
        for m in tracks.iter().filter(|t| t.divides) {
            let kids: Vec<&Track> = tracks.iter().filter(|t| t.parent == m.id).collect();
            for k in &kids {
                let share = k.length_birth / (m.length_division * m.growth_rate.exp());
                assert!(
                    (0.34..=0.66).contains(&share),
                    "track {}: share {share}",
                    k.id
                );
            }
            if kids.len() == 2 {
                let sum = kids[0].length_birth + kids[1].length_birth;
                let grown = m.length_division * m.growth_rate.exp();
                assert!((sum - grown).abs() < 1e-9 * grown, "mother {}", m.id);
                assert!((sum / m.length_division - 1.0).abs() < 0.05);
                pairs += 1;
            }
        }
        assert!(
            pairs >= 3,
            "only {pairs} divisions with both daughters seen"
        );
    }

    /// Rods never overlap: after relaxation every pair of capsules keeps (nearly) the spacing.
    #[test]
    fn synth_timelapse_rods_do_not_overlap() {
        let opts = TimelapseOptions {
            cells: 30,
            frames: 40,
            ..small()
        };
        let mut m = Timelapse::new(&opts).unwrap();
        for f in m.by_ref() {
            f.unwrap();
        }
        let cells = &m.cells;
        let mut worst = 0.0f64;
        for i in 0..cells.len() {
            for j in i + 1..cells.len() {
                let (d, _, _) = contact(&cells[i], &cells[j]);
                let need = (cells[i].width + cells[j].width) / 2.0;
                worst = worst.max(need - d);
            }
        }
        assert!(worst < 0.5, "capsules overlap by {worst:.2} px");
    }

    #[test]
    fn synth_timelapse_out_of_focus_frames_are_blurred() {
        let opts = TimelapseOptions {
            out_of_focus: vec![4],
            noise: 0.0,
            flicker: 0.0,
            ..small()
        };
        let (frames, _) = run(&opts);
        let spread = |f: &Frame| {
            let crate::image::Samples::U8(d) = &f.image.samples else {
                unreachable!()
            };
            let (lo, hi) = (d.iter().min().unwrap(), d.iter().max().unwrap());
            hi - lo
        };
        assert!(frames[4].out_of_focus && !frames[3].out_of_focus);
        assert!(spread(&frames[4]) * 3 < spread(&frames[3]) * 2);
        assert_eq!(pick_frames(40, 2, 1).unwrap().len(), 2);
        assert!(pick_frames(40, 2, 1)
            .unwrap()
            .iter()
            .all(|&f| f > 0 && f < 40));
        assert!(pick_frames(3, 3, 1).is_err());
    }

    #[test]
    fn synth_timelapse_refuses_bad_options() {
        for bad in [
            TimelapseOptions {
                frames: 0,
                ..small()
            },
            TimelapseOptions {
                doubling: 0.0,
                ..small()
            },
            TimelapseOptions {
                drift: f64::NAN,
                ..small()
            },
            TimelapseOptions {
                out_of_focus: vec![30],
                ..small()
            },
        ] {
            assert!(Timelapse::new(&bad).is_err(), "{bad:?}");
        }
    }
}
