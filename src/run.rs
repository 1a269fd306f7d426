//! A whole `segment` run, as a library call: frames from an image, stack, folder, glob or list
//! streamed through a [`Segmenter`] into label files (one TIFF, a stack, or a folder), stage
//! images, tables and overlays — every output resolved and checked before any work
//! ([`crate::outputs`]), the run's checks ([`crate::checks`]) said as they happen, and, after
//! an error or an interrupt, what was finished kept under `NAME.partial.*` names. What the CLI
//! prints comes through [`Events`]; the CLI adds nothing but argument parsing and printing.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use crate::backend::Segmenter;
use crate::checks::{self, Tally, ThresholdSummary, Warning};
use crate::error::{Error, Result};
use crate::image::RawImage;
use crate::io::{self, Calibration, DeclaredCalibration, FrameSource, StackWriter, TextStream};
use crate::measure;
use crate::outputs::{self, LabelsOut, OutputPlan, Request};
use crate::params::Params;
use crate::render;
use crate::stages::{Keep, Stages, ThresholdReport};
use crate::stream;

/// What a run is asked to do.
#[derive(Clone, Debug)]
pub struct SegmentJob {
    /// The input: one path (an image, a stack, a folder or a glob) or several image files.
    pub inputs: Vec<PathBuf>,
    /// `--channel`: a hyperstack channel or a sample of RGB(A) pixels.
    pub channel: Option<usize>,
    pub params: Params,
    /// The outputs.
    pub outputs: Request,
    /// Physical units given by the user (they win over what the input declares).
    pub calibration: Calibration,
    /// Frames in flight (`None`: [`Segmenter::default_workers`] for the first frame's size,
    /// never more than the frames).
    pub workers: Option<usize>,
    /// Warnings are errors ([`Error::Strict`]).
    pub strict: bool,
}

/// What a run tells its caller as it goes (all methods optional).
pub trait Events {
    /// Before the first frame: the run's setup.
    fn started(&mut self, _run: &Started) {}
    /// A frame's outputs are written.
    fn frame(&mut self, _t: usize, _report: &FrameReport) {}
    /// A check's warning, the first of its kind (each kind is said once; the summary counts
    /// the frames). Not called with `strict`, where the warning ends the run.
    fn warning(&mut self, _w: &Warning) {}
    /// Something the user should know about what was kept (after an error).
    fn note(&mut self, _text: &str) {}
}

/// Events nobody listens to.
pub struct Quiet;
impl Events for Quiet {}

/// A run's setup, as [`Events::started`] reports it.
#[derive(Clone, Debug)]
pub struct Started {
    pub backend: String,
    pub workers: usize,
    /// The number of frames, when known.
    pub frames: Option<usize>,
    /// The resolved parameters as `segment` flags.
    pub params: String,
    /// The physical units used (empty when none).
    pub calibration: Calibration,
    /// What the input declares (the units' source when none was given).
    pub declared: DeclaredCalibration,
    /// Whether the units were given by the caller.
    pub calibration_given: bool,
}

/// One frame's report.
#[derive(Clone, Debug)]
pub struct FrameReport {
    pub objects: u32,
    pub pixels: u64,
    /// `None` for a frame read back by `--resume`.
    pub threshold: Option<ThresholdReport>,
    /// Read back by `--resume` (not segmented again).
    pub resumed: bool,
}

/// What a finished run did.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Frames done, objects over all frames.
    pub frames: usize,
    pub objects: u64,
    /// The frames' width, height, channels and sample type.
    pub shape: Option<(usize, usize, usize, &'static str)>,
    pub seconds: f64,
    /// Each stage's mean time per frame, in ms (`Stages::timings`).
    pub stage_ms: Vec<(&'static str, f64)>,
    /// `threshold otsu = 150–158 over 31 frames …, mask 12.1–14.0 % of the frame`.
    pub threshold: Option<String>,
    /// Frames read back by `--resume`.
    pub resumed: usize,
    /// Warning kinds that hit several frames: `no-objects in 3 of 31 frames: 0, 5, 9`.
    pub repeated_warnings: Vec<String>,
    /// The input had one frame (stdout says `N objects`, else `N objects in F frames`).
    pub single: bool,
}

/// How the input is named in messages (one path, or the first of several).
pub fn input_name(inputs: &[PathBuf]) -> String {
    match inputs {
        [one] => one.display().to_string(),
        [first, ..] => format!("{} (and {} more)", first.display(), inputs.len() - 1),
        [] => String::new(),
    }
}

/// Run `job` on `segmenter`, stopping early (and keeping what is finished, as partial files)
/// when `cancel` is set.
pub fn segment_to_files(
    job: &SegmentJob,
    segmenter: &Segmenter,
    cancel: &AtomicBool,
    events: &mut dyn Events,
) -> Result<Summary> {
    let params = &job.params;
    let source = FrameSource::open_all(&job.inputs, job.channel)?;
    let input_name = input_name(&job.inputs);
    let frames = source.len();
    let single = frames == Some(1);
    // every output resolved and checked before any work: never over an input, never two in
    // one file, folders created and proved writable
    let mut plan = OutputPlan::new(&source, &job.outputs)?;
    let resume = job.outputs.resume;
    // an OME-Zarr output: its shape (the frames, the first frame's size) and metadata before
    // any work, so that workers can find the frames an interrupted run already wrote
    let zarr = match &plan.labels {
        LabelsOut::Zarr(target) => {
            let layout = match source.zarr_image() {
                Some(z) => z.labels_layout(),
                None => {
                    let n = frames.ok_or_else(|| {
                        Error::param(
                            "--output",
                            "an OME-Zarr output needs an input whose frame count is known",
                        )
                    })?;
                    let first = FrameSource::open_all(&job.inputs, job.channel)?
                        .next()
                        .ok_or_else(|| Error::BadData("the input has no frame".into()))??;
                    crate::io::zarr::LabelsLayout::plain(
                        (n > 1).then_some(n),
                        first.width,
                        first.height,
                    )
                }
            };
            Some(crate::io::zarr::ZarrLabels::create(
                target.clone(),
                layout,
                resume,
            )?)
        }
        _ => None,
    };
    // physical units: given, else what the input declares
    let declared = source.declared_calibration()?;
    let calibration = job.calibration.or(declared.calibration);
    let files: Vec<String> = match source.files() {
        Some(f) => f.iter().map(|p| p.display().to_string()).collect(),
        None => Vec::new(),
    };
    let file_of = |t: usize| -> &str {
        match files.get(t) {
            Some(f) => f,
            None => input_name.as_str(),
        }
    };
    let layout = measure::CsvLayout {
        file: true,
        pixel_size: calibration.pixel_size(),
    };
    let mut warn = Warner {
        strict: job.strict,
        tally: Tally::new(),
    };
    if segmenter.is_software() {
        warn.say(checks::software_adapter(segmenter.description()), events)?;
    }
    let workers = job.workers.unwrap_or_else(|| {
        // The GPU's default depends on the frame size: the first frame, decoded once more (an
        // error there is the stream's to report).
        let pixels = segmenter
            .workers_depend_on_size()
            .then(|| first_frame_pixels(&job.inputs, job.channel))
            .flatten();
        let w = segmenter.default_workers(pixels);
        frames.map_or(w, |n| w.min(n.max(1)))
    });
    plan.prepare()?;
    let mut stats = match &plan.stats {
        Some(p) => {
            let mut t = TextStream::create(p)?;
            t.write_str(&format!("frame,{}\n", measure::csv_header(&layout)))?;
            Some(t)
        }
        None => None,
    };
    let mut counts = match &plan.counts {
        Some(p) => {
            let mut t = TextStream::create(p)?;
            t.write_str("frame,file,objects\n")?;
            Some(t)
        }
        None => None,
    };
    events.started(&Started {
        backend: segmenter.description().to_string(),
        workers,
        frames,
        params: params.to_args(),
        calibration,
        declared: declared.clone(),
        calibration_given: !job.calibration.is_empty(),
    });
    let t0 = Instant::now();
    let mut total_objects = 0u64;
    let mut stage_totals: Vec<(&'static str, f64)> = Vec::new();
    let mut shape = None;
    let mut units = "";
    let mut summary = ThresholdSummary::new();
    let keep = if job.outputs.save_stages.is_some() {
        Keep::All
    } else if job.outputs.overlay.is_some() {
        Keep::LabelsAndGray
    } else {
        Keep::Labels
    };
    let resumed = AtomicUsize::new(0);
    let mut stack: Option<StackWriter> = None;
    // frames whose every output is written (the tables hold exactly their rows)
    let mut written = 0usize;
    let work = |t: usize, img: &RawImage| {
        if let (true, Some(z)) = (resume, &zarr) {
            if let Some(labels) = z.written(t)? {
                resumed.fetch_add(1, Ordering::Relaxed);
                return crate::backend::cpu::stages_from_labels(img, labels);
            }
        }
        if let Some(done) = resume.then(|| plan.labels_file(t)).flatten() {
            if done.exists() {
                resumed.fetch_add(1, Ordering::Relaxed);
                return outputs::resumed_stages(img, &done);
            }
        }
        segmenter.segment_keep(img, params, keep)
    };
    let sink = |t: usize, img: RawImage, stages: Stages| {
        let (w, h) = (img.width, img.height);
        if t == 0 {
            units = checks::units(&img);
            for x in checks::before_run(params, &img) {
                warn.say(x, events)?;
            }
        }
        for x in checks::frame(params, t, &img, &stages) {
            warn.say(x, events)?;
        }
        shape.get_or_insert((w, h, img.channels, img.samples.type_name()));
        let pixels = (w * h) as u64;
        if let Some(th) = &stages.threshold {
            summary.add(th, pixels);
        }
        // per-frame files first, the stack's page next, the table rows last: a frame is in
        // the tables only when everything else of it is written
        match &plan.labels {
            LabelsOut::File(path) => {
                io::write_labels_tiff_with(path, w, h, &stages.labels, &calibration)?
            }
            LabelsOut::Folder(_) => {
                let path = plan.labels_file(t).expect("a folder output");
                // a resumed frame's labels were read from this very file
                if !(resume && path.exists()) {
                    io::write_labels_tiff_with(&path, w, h, &stages.labels, &calibration)?
                }
            }
            LabelsOut::Stack(_) => {}
            LabelsOut::Zarr(_) => {
                // a resumed frame's labels were read from this very chunk
                if stages.threshold.is_some() || !resume {
                    zarr.as_ref()
                        .expect("made with the plan")
                        .write(t, &stages.labels)?;
                }
            }
        }
        if let Some(dir) = plan.stages_dir(t) {
            outputs::write_stages(&dir, &stages)?;
        }
        if let Some(png) = plan.overlay_file(t) {
            let gray8 = render::gray_preview(&stages.gray, stages.scale);
            io::write_png_rgb8(
                &png,
                w,
                h,
                &render::outline_overlay(w, h, &gray8, &stages.labels),
            )?;
        }
        if let LabelsOut::Stack(path) = &plan.labels {
            if stack.is_none() {
                let (kind, format) = outputs::stack_layout(w, h, frames, params);
                stack = Some(StackWriter::create_calibrated(
                    path,
                    kind,
                    format,
                    &calibration,
                )?);
            }
            stack
                .as_mut()
                .expect("created above")
                .write_frame(w, h, &stages.labels)?;
        }
        if let Some(csv) = &mut stats {
            let mut text = String::new();
            for p in stages.measure() {
                let row = measure::csv_row_with(&layout, Some(file_of(t)), &p);
                text.push_str(&format!("{t},{row}\n"));
            }
            csv.write_str(&text)?;
        }
        if let Some(csv) = &mut counts {
            let file = measure::csv_field(file_of(t));
            csv.write_str(&format!("{t},{file},{}\n", stages.count()))?;
        }
        written = t + 1;
        total_objects += u64::from(stages.count());
        for (k, (name, d)) in stages.timings.iter().enumerate() {
            match stage_totals.get_mut(k) {
                Some(e) if e.0 == *name => e.1 += d.as_secs_f64(),
                _ => stage_totals.push((name, d.as_secs_f64())),
            }
        }
        events.frame(
            t,
            &FrameReport {
                objects: stages.count(),
                pixels,
                threshold: stages.threshold,
                resumed: stages.threshold.is_none(),
            },
        );
        Ok(())
    };
    let outcome = stream::run_with(source, workers, keep, cancel, work, sink);
    // Errors about the pixel data name the input.
    let outcome = outcome.map_err(|e| match e {
        Error::BadData(m) => Error::BadData(format!("{input_name}: {m}")),
        other => other,
    });
    let interrupted =
        cancel.load(Ordering::Relaxed) && outcome.as_ref().is_ok_and(|&done| frames != Some(done));
    if outcome.is_err() || interrupted {
        // Keep what is finished under names that say it is partial: the stack's pages and
        // the table rows of the same frames; never the final names.
        let kept = keep_partial(&plan, stack, stats, counts, written);
        if written == 0 && resumed.load(Ordering::Relaxed) == 0 {
            plan.discard();
        }
        let done = written;
        let s = if done == 1 { "" } else { "s" };
        return Err(match outcome {
            Err(e) => {
                let mut kept = kept;
                if let (LabelsOut::Folder(dir), true) = (&plan.labels, done > 0) {
                    kept.insert(0, format!("{} (label files)", dir.display()));
                }
                if !kept.is_empty() {
                    events.note(&format!(
                        "the {done} frame{s} finished before the error are in {}",
                        kept.join(", ")
                    ));
                }
                e
            }
            Ok(_) => {
                let what = match &plan.labels {
                    LabelsOut::Folder(dir) if done > 0 => format!(
                        "the label files of frames 0–{} are complete in {}{}; rerun with \
                         --resume to go on",
                        done - 1,
                        dir.display(),
                        if kept.is_empty() {
                            String::new()
                        } else {
                            format!(", the tables of those frames in {}", kept.join(", "))
                        }
                    ),
                    LabelsOut::Folder(_) => "no frame was finished".to_string(),
                    LabelsOut::Zarr(t) if done > 0 => format!(
                        "the labels of frames 0–{} are in {} (not yet listed as an OME-Zarr \
                         label image); rerun with --resume to go on",
                        done - 1,
                        t.group_dir().display()
                    ),
                    LabelsOut::Stack(_) if done > 0 => {
                        format!("they are in {} (the stack is not written)", kept.join(", "))
                    }
                    _ => "nothing was written (a stack file is only written complete; use -o \
                          DIR and --resume for resumable runs)"
                        .to_string(),
                };
                Error::Interrupted(format!(
                    "{input_name}: stopped after {done} frame{s}; {what}"
                ))
            }
        });
    }
    let done = outcome.expect("checked above");
    let seconds = t0.elapsed().as_secs_f64();
    if let Some(writer) = stack {
        writer.finish()?;
    }
    if let Some(z) = zarr {
        z.finish()?;
    }
    for t in [stats, counts].into_iter().flatten() {
        t.finish()?;
    }
    // a complete run supersedes what an earlier interrupted one kept
    let finals = [
        match &plan.labels {
            LabelsOut::Stack(p) => Some(p.clone()),
            _ => None,
        },
        plan.stats.clone(),
        plan.counts.clone(),
    ];
    for p in finals.into_iter().flatten() {
        let _ = std::fs::remove_file(outputs::partial_name(&p));
    }
    Ok(Summary {
        frames: done,
        objects: total_objects,
        shape,
        seconds,
        stage_ms: stage_totals
            .into_iter()
            .map(|(n, total)| (n, total / done.max(1) as f64 * 1e3))
            .collect(),
        threshold: summary.line(units),
        resumed: resumed.load(Ordering::Relaxed),
        repeated_warnings: warn.tally.summary(done),
        single,
    })
}

/// The pixel count of `inputs`' first frame, if it can be read (sizes the GPU's default
/// workers).
pub fn first_frame_pixels(inputs: &[PathBuf], channel: Option<usize>) -> Option<usize> {
    let first = FrameSource::open_all(inputs, channel).ok()?.next()?.ok()?;
    Some(first.width * first.height)
}

/// Warnings: each kind said once, the frames counted; with `strict` the first is an error.
struct Warner {
    strict: bool,
    tally: Tally,
}

impl Warner {
    fn say(&mut self, w: Warning, events: &mut dyn Events) -> Result<()> {
        if self.strict {
            return Err(Error::Strict(w.message));
        }
        if let Some(w) = self.tally.add(w) {
            events.warning(&w);
        }
        Ok(())
    }
}

/// After an error or an interrupt: the stack's finished pages as `NAME.partial.tif` and the
/// tables' rows of the same `written` frames as `NAME.partial.csv`. Returns the files kept.
fn keep_partial(
    plan: &OutputPlan,
    stack: Option<StackWriter>,
    stats: Option<TextStream>,
    counts: Option<TextStream>,
    written: usize,
) -> Vec<String> {
    let mut kept = Vec::new();
    if let (LabelsOut::Stack(path), Some(writer)) = (&plan.labels, stack) {
        let partial = outputs::partial_name(path);
        // a writer broken by an encoding error refuses to finish
        if writer.frames() > 0 && writer.finish_as(&partial).is_ok() {
            kept.push(partial.display().to_string());
        }
    }
    let stack_kept = !matches!(plan.labels, LabelsOut::Stack(_)) || !kept.is_empty();
    for (stream, path) in [(stats, &plan.stats), (counts, &plan.counts)] {
        if let (Some(t), Some(path)) = (stream, path) {
            if written > 0 && stack_kept {
                let partial = outputs::partial_name(path);
                if t.finish_as(&partial).is_ok() {
                    kept.push(partial.display().to_string());
                }
            }
        }
    }
    kept
}
