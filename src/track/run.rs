//! A whole `track` run as a library call: frames are segmented (or label images read, from
//! any tool), linked by the [`Tracker`], and written as they leave its window — CTC masks, the
//! relabelled stack, napari's tracks table, overlays — then the track file, the lineage table
//! and the lineage tree. Memory holds the tracker's window and a few frames in flight,
//! whatever the stack's length. Every output is checked before any work
//! ([`crate::outputs::refuse_clashes`]).
//!
//! # Tables
//!
//! `--tracks` (napari's Tracks layer, `pandas.read_csv` then `viewer.add_tracks(df[["track_id",
//! "t", "y", "x"]], graph=…)`): one row per cell per frame,
//! `track_id,t,y,x,parent_id,area,length,touches_border,interpolated`; `y, x` the centroid in
//! pixels, `interpolated` 1 where gap closing drew the cell.
//!
//! `--lineage`: one row per track (a cell cycle, or the part of one in the movie):
//! `track_id,parent_id,generation,start_frame,end_frame,divides,touches_border,length_birth,
//! length_division,added_length,cycle_frames,growth_rate`, with `--interval` also
//! `cycle_minutes,growth_rate_per_hour`. Lengths are pole to pole in pixels
//! ([`super::features`]); `length_division` and `added_length` only for a cell that divides;
//! `cycle_frames` (`end − start + 1`: birth frame to the frame before the daughters) only for a
//! complete cycle (born by division in the movie and dividing in it); `growth_rate` is
//! d ln(length)/dt in 1/frame, the least-squares slope over the track's frames that neither
//! touch the frame's edge nor were drawn by gap closing (empty with fewer than 3 such frames);
//! `growth_rate_per_hour` = `growth_rate · 60 / interval`.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::link::{TrackOptions, TrackStats, TrackedFrame, Tracker};
use super::TrackSummary;
use crate::backend::Segmenter;
use crate::cpu::{self, Dims};
use crate::ctc::{self, CtcTrack};
use crate::error::{Error, Result};
use crate::image::{RawImage, Samples};
use crate::io::{self, Calibration, FrameSource, LabelType, StackFormat, StackWriter, TextStream};
use crate::params::Params;
use crate::plan::ObjectFilter;
use crate::render;
use crate::stages::Keep;
use crate::stream;

/// What a `track` run writes (all optional; a run with none is refused by the CLI).
#[derive(Clone, Debug, Default)]
pub struct TrackOutputs {
    /// `--ctc DIR`: `maskTTT.tif` + `res_track.txt`.
    pub ctc: Option<PathBuf>,
    /// `-o`: the label stack relabelled by track id (`.tif`, or an OME-Zarr label image
    /// `X.zarr`: into the image's own `labels/` group when X is the OME-Zarr input).
    pub labels: Option<PathBuf>,
    /// `--label-name`: the name of the labels written into an OME-Zarr input's own `labels/`
    /// group (default `tracks`).
    pub label_name: Option<String>,
    /// `--tracks`: napari's tracks table (`.csv`).
    pub tracks: Option<PathBuf>,
    /// `--lineage`: one row per track (`.csv`).
    pub lineage: Option<PathBuf>,
    /// `--overlay DIR`: one PNG per frame with outlines, ids and tails.
    pub overlay: Option<PathBuf>,
    /// `--tree`: the lineage tree (`.svg`).
    pub tree: Option<PathBuf>,
}

/// What a run is asked to do.
#[derive(Clone, Debug)]
pub struct TrackJob {
    /// Images: segmented with `params`, or (with `labels`) only the overlay's background.
    pub inputs: Vec<PathBuf>,
    /// `--labels`: label images to track as they are (a stack, or a folder of label TIFFs).
    pub labels: Option<PathBuf>,
    pub channel: Option<usize>,
    pub params: Params,
    pub options: TrackOptions,
    pub outputs: TrackOutputs,
    /// `--interval` (minutes) for the lineage's per-hour columns; pixel size is not used yet.
    pub calibration: Calibration,
    /// Frames segmented in flight (`None`: the segmenter's default).
    pub workers: Option<usize>,
}

/// What a run tells its caller as it goes.
pub trait TrackEvents {
    /// Before the first frame: the number of frames when known.
    fn started(&mut self, _frames: Option<usize>, _backend: &str) {}
    /// A frame is linked (it may stay in the window a little longer before it is written).
    fn frame(&mut self, _t: usize) {}
    /// A check's warning on the segmentation (`segment`'s checks), the first of its kind.
    fn warning(&mut self, _w: &crate::checks::Warning) {}
    fn note(&mut self, _text: &str) {}
}

/// Events nobody listens to.
pub struct Quiet;
impl TrackEvents for Quiet {}

/// What a finished run did.
#[derive(Clone, Debug)]
pub struct TrackReport {
    pub stats: TrackStats,
    pub seconds: f64,
    /// Seconds spent in the tracker (linking, not segmenting or writing).
    pub tracking_seconds: f64,
    /// The lineage (every track).
    pub lineage: Vec<TrackSummary>,
    /// Median growth rate (1/frame) over complete cycles away from the edge, and their number.
    pub median_growth_rate: Option<(f64, usize)>,
    /// Warning kinds that hit several frames (`no-objects in 3 of 31 frames: 0, 5, 9`).
    pub repeated_warnings: Vec<String>,
}

/// A lineage row of a complete cycle away from the edge (what growth statistics use).
pub fn complete_cycle(s: &TrackSummary) -> bool {
    s.parent != 0 && s.divides() && !s.touches_border
}

/// The `--lineage` header for a run with (or without) a frame interval.
pub fn lineage_header(interval: Option<f64>) -> String {
    let mut h = String::from(
        "track_id,parent_id,generation,start_frame,end_frame,divides,touches_border,\
         length_birth,length_division,added_length,cycle_frames,growth_rate",
    );
    if interval.is_some() {
        h.push_str(",cycle_minutes,growth_rate_per_hour");
    }
    h
}

/// One `--lineage` row (module doc).
pub fn lineage_row(s: &TrackSummary, interval: Option<f64>) -> String {
    let f = |x: f64| format!("{x:.3}");
    let divides = s.divides();
    let complete = s.parent != 0 && divides;
    let cycle = complete.then(|| s.end - s.start + 1);
    let mut row = format!(
        "{},{},{},{},{},{},{},{},{},{},{},{}",
        s.id,
        s.parent,
        s.generation,
        s.start,
        s.end,
        u8::from(divides),
        u8::from(s.touches_border),
        f(s.length_birth),
        if divides {
            f(s.length_end)
        } else {
            String::new()
        },
        if divides {
            f(s.length_end - s.length_birth)
        } else {
            String::new()
        },
        cycle.map_or_else(String::new, |c| c.to_string()),
        s.growth_rate
            .map_or_else(String::new, |g| format!("{g:.6}")),
    );
    if let Some(minutes) = interval {
        row.push_str(&format!(
            ",{},{}",
            cycle.map_or_else(String::new, |c| format!("{:.3}", c as f64 * minutes)),
            s.growth_rate
                .map_or_else(String::new, |g| format!("{:.6}", g * 60.0 / minutes)),
        ));
    }
    row
}

/// Paths a run writes, each with the flag that names it.
type Listed = Vec<(&'static str, PathBuf)>;

/// Where `-o X.zarr` writes, as `segment -o` ([`crate::outputs::zarr_labels_target`]; labels
/// into the OME-Zarr input are named `tracks` by default); `None` without a `.zarr` `-o`.
fn zarr_target(
    job: &TrackJob,
    images: Option<&FrameSource>,
) -> Result<Option<io::zarr::LabelsTarget>> {
    let o = &job.outputs;
    let zarr_in = images.and_then(|s| s.zarr_image()).map(|z| z.path());
    match o.labels.as_ref().filter(|p| io::zarr::is_zarr_name(p)) {
        Some(p) => {
            crate::outputs::zarr_labels_target(p, zarr_in, o.label_name.as_deref(), "tracks")
                .map(Some)
        }
        None if o.label_name.is_some() => Err(Error::param(
            "--label-name",
            "names the labels written into an OME-Zarr input (-o the input's own path)",
        )),
        None => Ok(None),
    }
}

/// The files and folders `job` writes, for the clash checks (`zarr`: where `-o X.zarr` goes).
fn listed_outputs(job: &TrackJob, zarr: Option<&io::zarr::LabelsTarget>) -> (Listed, Listed) {
    let o = &job.outputs;
    let mut files: Vec<(&'static str, PathBuf)> = Vec::new();
    let mut folders: Vec<(&'static str, PathBuf)> = Vec::new();
    if let Some(d) = &o.ctc {
        folders.push(("--ctc", d.clone()));
        files.push(("--ctc", d.join("res_track.txt")));
    }
    if let Some(t) = zarr {
        folders.push(("--output", t.group_dir()));
    }
    let stack = o.labels.as_ref().filter(|p| !io::zarr::is_zarr_name(p));
    for (flag, p) in [
        ("--output", &stack.cloned()),
        ("--tracks", &o.tracks),
        ("--lineage", &o.lineage),
        ("--tree", &o.tree),
    ] {
        if let Some(p) = p {
            files.push((flag, p.clone()));
        }
    }
    if let Some(d) = &o.overlay {
        folders.push(("--overlay", d.clone()));
    }
    (files, folders)
}

/// Refuse output names whose extension says another format.
fn check_extensions(o: &TrackOutputs) -> Result<()> {
    let ext = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
    };
    let want = |flag: &'static str, p: &Option<PathBuf>, exts: &[&str], what: &str| -> Result<()> {
        if let Some(p) = p {
            match ext(p) {
                Some(e) if exts.contains(&e.as_str()) => Ok(()),
                other => Err(Error::param(
                    flag,
                    format!(
                        "{what}: name a .{} file{}",
                        exts[0],
                        other.map_or_else(String::new, |e| format!(", not a .{e} file"))
                    ),
                )),
            }
        } else {
            Ok(())
        }
    };
    want(
        "--output",
        &o.labels.clone().filter(|p| !io::zarr::is_zarr_name(p)),
        &["tif", "tiff"],
        "the relabelled stack is a TIFF or an OME-Zarr label image (.zarr)",
    )?;
    want("--tracks", &o.tracks, &["csv"], "the tracks table is CSV")?;
    want(
        "--lineage",
        &o.lineage,
        &["csv"],
        "the lineage table is CSV",
    )?;
    want("--tree", &o.tree, &["svg"], "the lineage tree is SVG")?;
    for (flag, d) in [("--ctc", &o.ctc), ("--overlay", &o.overlay)] {
        if let Some(d) = d {
            if let Some(e) =
                ext(d).filter(|e| ["tif", "tiff", "png", "csv", "txt", "svg"].contains(&e.as_str()))
            {
                return Err(Error::param(
                    flag,
                    format!("names a folder, not a .{e} file"),
                ));
            }
        }
    }
    Ok(())
}

/// Writes each finished frame's outputs.
struct Writers {
    ctc: Option<PathBuf>,
    digits: usize,
    digits_known: bool,
    /// The number of frames, when known before the run.
    frames: Option<usize>,
    stack: Option<StackWriter>,
    stack_path: Option<PathBuf>,
    /// `-o X.zarr`: where the label image goes and how it is laid out, and its writer once the
    /// first frame came.
    zarr: Option<io::zarr::ZarrLabels>,
    zarr_plan: Option<(io::zarr::LabelsTarget, Option<io::zarr::LabelsLayout>)>,
    tracks: Option<TextStream>,
    overlay: Option<PathBuf>,
    /// Recent centroids per track (the overlay's tails).
    tails: BTreeMap<u32, VecDeque<(usize, f64, f64)>>,
    /// Gray previews of frames not yet written (overlay).
    grays: BTreeMap<usize, Vec<u8>>,
}

const TAIL: usize = 12;

impl Writers {
    fn write(&mut self, f: &TrackedFrame) -> Result<()> {
        let (w, h) = (f.width, f.height);
        if let Some(dir) = &self.ctc {
            if let Some(big) = f.cells.iter().find(|c| c.id > 65535) {
                return Err(Error::Limit(format!(
                    "frame {}: track id {} does not fit the CTC's 16-bit masks (at most 65535 \
                     tracks); track fewer frames at a time",
                    f.t, big.id
                )));
            }
            let path = dir.join(ctc::mask_name("mask", f.t, self.digits));
            io::write_labels_tiff(&path, w, h, &f.ids)?;
        }
        if let Some((target, layout)) = &self.zarr_plan {
            if self.zarr.is_none() {
                let layout = match layout {
                    Some(l) => l.clone(),
                    None => io::zarr::LabelsLayout::plain(self.frames.filter(|&n| n > 1), w, h),
                };
                self.zarr = Some(io::zarr::ZarrLabels::create(target.clone(), layout, false)?);
            }
            self.zarr.as_ref().expect("created").write(f.t, &f.ids)?;
        }
        if let Some(p) = &self.stack_path {
            if self.stack.is_none() {
                self.stack = Some(StackWriter::create_with(
                    p,
                    LabelType::U32,
                    StackFormat::Classic,
                )?);
            }
            self.stack
                .as_mut()
                .expect("created")
                .write_frame(w, h, &f.ids)?;
        }
        if let Some(t) = &mut self.tracks {
            let mut s = String::new();
            for c in &f.cells {
                let ft = &c.features;
                s.push_str(&format!(
                    "{},{},{:.3},{:.3},{},{},{:.3},{},{}\n",
                    c.id,
                    f.t,
                    ft.y,
                    ft.x,
                    c.parent,
                    ft.area,
                    ft.length,
                    u8::from(ft.touches_border),
                    u8::from(c.interpolated)
                ));
            }
            t.write_str(&s)?;
        }
        if let Some(dir) = &self.overlay {
            // tails: the last positions of each track, a daughter starting from her mother's
            for c in &f.cells {
                if !self.tails.contains_key(&c.id) && c.parent != 0 {
                    if let Some(last) = self.tails.get(&c.parent).and_then(|m| m.back()).copied() {
                        self.tails.insert(c.id, VecDeque::from([last]));
                    }
                }
                let e = self.tails.entry(c.id).or_default();
                e.push_back((f.t, c.features.y, c.features.x));
                while e.len() > TAIL {
                    e.pop_front();
                }
            }
            self.tails
                .retain(|_, v| v.back().is_some_and(|p| p.0 + TAIL > f.t));
            let gray = self.grays.remove(&f.t).unwrap_or_else(|| vec![0u8; w * h]);
            let tails: Vec<super::draw::Tail> = f
                .cells
                .iter()
                .filter_map(|c| {
                    self.tails.get(&c.id).map(|v| super::draw::Tail {
                        id: c.id,
                        points: v.iter().map(|p| (p.1, p.2)).collect(),
                    })
                })
                .collect();
            let rgb = super::draw::track_overlay(w, h, &gray, &f.ids, &tails);
            let name = format!(
                "{}.png",
                ctc::mask_name("frame", f.t, self.digits).trim_end_matches(".tif")
            );
            io::write_png_rgb8(&dir.join(name), w, h, &rgb)?;
        }
        Ok(())
    }
}

/// Run `job`: segment (or read labels), track and write; stops early when `cancel` is set
/// (what is written stays; the track file and tables are only written for a complete run).
pub fn track_to_files(
    job: &TrackJob,
    segmenter: &Segmenter,
    cancel: &AtomicBool,
    events: &mut dyn TrackEvents,
) -> Result<TrackReport> {
    job.options.validate()?;
    check_extensions(&job.outputs)?;
    if job.labels.is_none() && job.inputs.is_empty() {
        return Err(Error::param(
            "INPUT",
            "give the images to segment, or --labels",
        ));
    }
    // inputs: images and/or labels
    let images = if job.inputs.is_empty() {
        None
    } else {
        Some(FrameSource::open_all(&job.inputs, job.channel)?)
    };
    let mut all_inputs: Vec<PathBuf> = images.as_ref().map(|s| s.input_files()).unwrap_or_default();
    let labels = match &job.labels {
        Some(p) => {
            all_inputs.extend(io::labels::label_inputs(p)?);
            let (n, it) = io::labels::label_frames(p)?;
            Some((Some(n), it))
        }
        None => None,
    };
    let frames = match (&labels, &images) {
        (Some((n, _)), _) => *n,
        (None, Some(s)) => s.len(),
        _ => None,
    };
    if let (Some((Some(nl), _)), Some(Some(ni))) = (&labels, images.as_ref().map(|s| s.len())) {
        if *nl != ni {
            return Err(Error::param(
                "--labels",
                format!("{nl} label frames but {ni} image frames: they must pair frame by frame"),
            ));
        }
    }
    let target = zarr_target(job, images.as_ref())?;
    let (files, folders) = listed_outputs(job, target.as_ref());
    crate::outputs::refuse_clashes(&all_inputs, &files, &folders)?;
    // -o X.zarr: into the OME-Zarr input's labels/ group (its layout), or a label image of its
    // own (with the image's axes and scale when the images are OME-Zarr too); its shape needs
    // the number of frames first
    let zarr_plan = match target {
        Some(target) => {
            if frames.is_none() {
                return Err(Error::param(
                    "--output",
                    "an OME-Zarr output needs an input whose frame count is known",
                ));
            }
            let layout = images
                .as_ref()
                .and_then(|s| s.zarr_image())
                .map(|z| z.labels_layout());
            io::zarr::ZarrLabels::check_target(&target, false)?;
            Some((target, layout))
        }
        None => None,
    };
    // (the OME-Zarr output's folders are made when its first frame is written)
    for (_, d) in folders.iter().filter(|(flag, _)| *flag != "--output") {
        std::fs::create_dir_all(d).map_err(|source| Error::Io {
            path: d.clone(),
            source,
        })?;
    }
    let o = &job.outputs;
    let digits = ctc::digits(frames.unwrap_or(1000));
    let mut writers = Writers {
        ctc: o.ctc.clone(),
        digits,
        digits_known: frames.is_some(),
        frames,
        stack: None,
        stack_path: o.labels.clone().filter(|p| !io::zarr::is_zarr_name(p)),
        zarr: None,
        zarr_plan,
        tracks: match &o.tracks {
            Some(p) => {
                let mut t = TextStream::create(p)?;
                t.write_str("track_id,t,y,x,parent_id,area,length,touches_border,interpolated\n")?;
                Some(t)
            }
            None => None,
        },
        overlay: o.overlay.clone(),
        tails: BTreeMap::new(),
        grays: BTreeMap::new(),
    };
    events.started(frames, segmenter.description());
    // segment's checks on the segmentation: each kind said once, counted over the frames
    let mut tally = crate::checks::Tally::new();
    if job.labels.is_none() && segmenter.is_software() {
        if let Some(w) = tally.add(crate::checks::software_adapter(segmenter.description())) {
            events.warning(&w);
        }
    }
    let t0 = Instant::now();
    let mut tracker: Option<Tracker> = None;
    let mut tracking = 0.0f64;
    // the overlap matrix on the segmenter's backend (the GPU's pass equals the twin)
    let pairs = |a: &[u32], b: &[u32], w: usize, h: usize, s: (i32, i32)| {
        segmenter.pair_histogram(a, b, w, h, s)
    };
    let want_gray = o.overlay.is_some();
    let mut step = |t: usize,
                    w: usize,
                    h: usize,
                    lab: &[u32],
                    doubtful: &[u32],
                    gray: Option<Vec<u8>>,
                    found: Vec<crate::checks::Warning>,
                    writers: &mut Writers|
     -> Result<()> {
        for w in found {
            if let Some(w) = tally.add(w) {
                events.warning(&w);
            }
        }
        if tracker.is_none() {
            tracker = Some(Tracker::new(w, h, job.options)?);
        }
        if let Some(g) = gray {
            writers.grays.insert(t, g);
        }
        let t1 = Instant::now();
        let done = tracker
            .as_mut()
            .expect("made above")
            .push_doubtful(lab, doubtful, &pairs)
            .map_err(|e| match e {
                Error::BadData(m) => Error::BadData(format!("frame {t}: {m}")),
                other => other,
            })?;
        tracking += t1.elapsed().as_secs_f64();
        for f in &done {
            writers.write(f)?;
        }
        events.frame(t);
        Ok(())
    };
    let outcome: Result<()> = match labels {
        Some((_, label_iter)) => {
            // labels as given; images (if any) only for the overlay
            let mut imgs = images;
            let mut res = Ok(());
            for (t, item) in label_iter.enumerate() {
                if cancel.load(Ordering::Relaxed) {
                    break;
                }
                let r = (|| -> Result<()> {
                    let (w, h, lab) = item?;
                    let gray = match (&mut imgs, want_gray) {
                        (Some(src), true) => match src.next() {
                            Some(img) => {
                                let img = img?;
                                if (img.width, img.height) != (w, h) {
                                    return Err(Error::BadData(format!(
                                        "frame {t}: the image is {}×{}, its labels {w}×{h}",
                                        img.width, img.height
                                    )));
                                }
                                Some(gray8_of(&img))
                            }
                            None => None,
                        },
                        _ => None,
                    };
                    step(t, w, h, &lab, &[], gray, Vec::new(), &mut writers)
                })();
                if r.is_err() {
                    res = r;
                    break;
                }
            }
            res
        }
        None => {
            let source = images.expect("images without labels");
            let workers = job
                .workers
                .unwrap_or_else(|| segmenter.default_workers(None))
                .max(1);
            let keep = if want_gray {
                Keep::LabelsAndGray
            } else {
                Keep::Labels
            };
            let params = &job.params;
            // the shape filters' objects go to the tracker, which keeps those that hold
            // tracked cells (two cells merged into one round object; module doc)
            let shape_free = params.without_shape_filter();
            stream::run_with(
                source,
                workers,
                keep,
                cancel,
                |_, img| segmenter.segment_keep(img, &shape_free, keep),
                |t, img, stages| {
                    let mut found = Vec::new();
                    if t == 0 {
                        found.extend(crate::checks::before_run(params, &img));
                    }
                    found.extend(crate::checks::frame(params, t, &img, &stages));
                    let gray = want_gray.then(|| render::gray_preview(&stages.gray, stages.scale));
                    let doubtful = shape_doubtful(params, img.width, img.height, &stages.labels);
                    step(
                        t,
                        img.width,
                        img.height,
                        &stages.labels,
                        &doubtful,
                        gray,
                        found,
                        &mut writers,
                    )
                },
            )
            .map(|_| ())
        }
    };
    outcome?;
    let Some(tracker) = tracker else {
        return Err(Error::BadData("no frames to track".into()));
    };
    if cancel.load(Ordering::Relaxed) && frames.is_some_and(|n| tracker.stats().frames < n) {
        return Err(Error::Interrupted(format!(
            "{} frames tracked; the outputs are incomplete (no track file, no lineage)",
            tracker.stats().frames
        )));
    }
    let t1 = Instant::now();
    let (rest, lineage, stats) = tracker.finish();
    tracking += t1.elapsed().as_secs_f64();
    for f in &rest {
        writers.write(f)?;
    }
    // a stack of unknown length past 1,000 frames: CTC's 4-digit names
    if let (Some(dir), false) = (&writers.ctc, writers.digits_known) {
        let want = ctc::digits(stats.frames);
        if want != writers.digits {
            for t in 0..stats.frames {
                let from = dir.join(ctc::mask_name("mask", t, writers.digits));
                let to = dir.join(ctc::mask_name("mask", t, want));
                std::fs::rename(&from, &to).map_err(|source| Error::Io { path: to, source })?;
            }
        }
    }
    if let Some(dir) = &o.ctc {
        let rows: Vec<CtcTrack> = lineage
            .iter()
            .map(|s| CtcTrack {
                label: s.id,
                begin: s.start,
                end: s.end,
                parent: s.parent,
            })
            .collect();
        io::write_text(&dir.join("res_track.txt"), &ctc::format_tracks(&rows))?;
    }
    if let Some(s) = writers.stack.take() {
        s.finish()?;
    }
    if let Some(z) = writers.zarr.take() {
        z.finish()?;
    }
    if let Some(t) = writers.tracks.take() {
        t.finish()?;
    }
    let interval = job.calibration.interval();
    if let Some(p) = &o.lineage {
        let mut text = lineage_header(interval);
        text.push('\n');
        for s in &lineage {
            text.push_str(&lineage_row(s, interval));
            text.push('\n');
        }
        io::write_text(p, &text)?;
    }
    if let Some(p) = &o.tree {
        io::write_text(
            p,
            &super::draw::lineage_svg(&lineage, stats.frames, interval),
        )?;
    }
    let mut rates: Vec<f64> = lineage
        .iter()
        .filter(|s| complete_cycle(s))
        .filter_map(|s| s.growth_rate)
        .collect();
    rates.sort_by(|a, b| a.total_cmp(b));
    let median = (!rates.is_empty()).then(|| {
        let m = rates.len() / 2;
        let v = if rates.len() % 2 == 1 {
            rates[m]
        } else {
            0.5 * (rates[m - 1] + rates[m])
        };
        (v, rates.len())
    });
    Ok(TrackReport {
        stats,
        seconds: t0.elapsed().as_secs_f64(),
        tracking_seconds: tracking,
        repeated_warnings: tally.summary(stats.frames),
        lineage,
        median_growth_rate: median,
    })
}

/// An 8-bit preview of any image (the overlay's background when labels are given).
/// The labels (sorted) of the objects that `params`' shape filters (`--min-eccentricity`,
/// `--max-width`) drop from `labels`, segmented with
/// [`Params::without_shape_filter`]: the table of the filter stage ([`ObjectFilter::table`])
/// on the same sums, so `segment` drops exactly these. What `track` hands
/// [`Tracker::push_doubtful`].
pub fn shape_doubtful(params: &Params, width: usize, height: usize, labels: &[u32]) -> Vec<u32> {
    if params.min_eccentricity <= 0.0 && params.max_width.is_none() {
        return Vec::new();
    }
    let dims = Dims::new(width, height);
    let shape_only = Params {
        min_eccentricity: params.min_eccentricity,
        max_width: params.max_width,
        ..params.without_object_filter()
    };
    let n = labels.iter().copied().max().unwrap_or(0);
    let zeros = vec![0u32; labels.len()];
    let sums = cpu::measure::measure_sums(dims, labels, &zeros, false, n);
    let (table, _) = ObjectFilter::from_params(&shape_only, dims).table(&sums);
    (1..=n).filter(|&l| table[l as usize] == 0).collect()
}

fn gray8_of(img: &RawImage) -> Vec<u8> {
    let c = img.channels.max(1);
    let vals: Vec<f64> = match &img.samples {
        Samples::U8(v) => v.iter().step_by(c).map(|&x| f64::from(x)).collect(),
        Samples::U16(v) => v.iter().step_by(c).map(|&x| f64::from(x)).collect(),
        Samples::F32(v) => v.iter().step_by(c).map(|&x| f64::from(x)).collect(),
    };
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    vals.iter()
        .map(|x| (((x - lo) / span) * 255.0).round() as u8)
        .collect()
}
