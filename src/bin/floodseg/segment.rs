//! `floodseg segment`: arguments, then [`floodseg::run::segment_to_files`] does the run; this
//! file prints what it reports.

use std::path::PathBuf;

use floodseg::checks::{ThresholdSummary, Warning};
use floodseg::outputs::Request;
use floodseg::run::{self, Events, FrameReport, SegmentJob, Started};
use floodseg::{bench, io, Result, Segmenter};
use indicatif::ProgressBar;

use crate::args::{backend_of, params_of, preset_of, PipelineArgs};
use crate::report::{self, INTERRUPTED};

#[derive(clap::Args)]
pub(crate) struct SegmentArgs {
    /// Input: PNG or TIFF image (8/16-bit gray, RGB(A), 32-bit float gray), a multi-page or
    /// ImageJ TIFF stack (every page / every frame), a folder of frames (natural name order),
    /// a quoted glob such as 'frames/img_*.tif', or several image files (an unquoted glob:
    /// one frame each, in natural name order).
    #[arg(required = true, num_args = 1.., value_name = "INPUT")]
    pub(crate) input: Vec<PathBuf>,
    /// Output labels: `X.tif` writes one TIFF (a multi-page ImageJ stack for several frames);
    /// a folder (existing, or a path without .tif) gets one label TIFF per frame; `X.zarr` an
    /// OME-Zarr label image (NGFF 0.5), written frame by frame. With an OME-Zarr INPUT, `-o`
    /// naming the input itself writes into its `labels/<--label-name>` group (the image's
    /// arrays are never touched).
    #[arg(short, long, value_name = "LABELS.tif|DIR|X.zarr")]
    pub(crate) output: PathBuf,
    /// Name of the labels written into an OME-Zarr input's own `labels/` group (`-o` the
    /// input's path) [default: cells].
    #[arg(long, value_name = "NAME")]
    pub(crate) label_name: Option<String>,
    #[command(flatten)]
    pub(crate) pipeline: PipelineArgs,
    /// Write every stage (smoothed with --smooth, flattened with --background, mask, opened,
    /// distance2, core and core_distance2 with --core, peaks, markers, labels) as TIFF, the
    /// binary and distance images with a PNG preview (for several frames: one subfolder per
    /// frame).
    #[arg(long, value_name = "DIR")]
    pub(crate) save_stages: Option<PathBuf>,
    /// Write per-object measurements as CSV (a .csv file), one row per object per frame.
    #[arg(long, value_name = "CSV")]
    pub(crate) stats: Option<PathBuf>,
    /// Write the object count of each frame as CSV (a .csv file: frame,file,objects).
    #[arg(long, value_name = "CSV")]
    pub(crate) counts: Option<PathBuf>,
    /// Write the input with coloured object outlines as PNG (a .png file for one frame; a
    /// folder with one PNG per frame).
    #[arg(long, value_name = "PNG|DIR")]
    pub(crate) overlay: Option<PathBuf>,
    /// Print each frame's threshold level (Otsu's), mask share and object count, each
    /// stage's time (mean per frame) and the peak memory on stderr.
    #[arg(short, long)]
    pub(crate) verbose: bool,
    /// No progress bar and no details on stderr (errors and warnings are still printed).
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Continue an interrupted per-frame run (`-o DIR`, or an OME-Zarr `-o`): frames whose
    /// labels exist are not segmented again; their labels are read back for
    /// --stats/--counts/--overlay.
    #[arg(long)]
    pub(crate) resume: bool,
    /// Make every warning an error (exit 7): no objects, a mask that covers most of the
    /// frame, a threshold outside the image's values, every marker dropped, a label image as
    /// input, a software GPU adapter. What was finished is kept as NAME.partial.*.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Pixel size in µm (`0.065`, or `X,Y` for rectangular pixels), written into the label
    /// TIFFs (Fiji shows µm) and adding µm columns to --stats [default: what the input
    /// declares, if anything].
    #[arg(long, value_name = "UM")]
    pub(crate) pixel_size: Option<String>,
    /// Minutes between frames, written into a label stack (Fiji's frame interval) [default:
    /// what the input declares, if anything].
    #[arg(long, value_name = "MINUTES", allow_hyphen_values = true)]
    pub(crate) interval: Option<f64>,
}

/// Prints what the run reports: the setup, a progress bar, `-v`'s per-frame lines, warnings
/// (even with `-q`) and notes.
struct Printer<'a> {
    args: &'a SegmentArgs,
    bar: Option<ProgressBar>,
}

impl Events for Printer<'_> {
    fn started(&mut self, s: &Started) {
        let a = self.args;
        self.bar = Some(report::progress_bar(s.frames, a.quiet, "frames"));
        if a.quiet {
            return;
        }
        report::say(
            self.bar.as_ref(),
            &format!(
                "backend {}, {} worker{}",
                s.backend,
                s.workers,
                if s.workers == 1 { "" } else { "s" }
            ),
        );
        let preset = a.pipeline.preset.map_or_else(String::new, |p| {
            format!(" (preset {})", preset_of(p).name())
        });
        report::say(
            self.bar.as_ref(),
            &format!("parameters{preset}: {}", s.params),
        );
        if !s.calibration.is_empty() {
            let from = if s.calibration_given {
                String::new()
            } else {
                format!(" (declared by the input: {})", s.declared)
            };
            report::say(
                self.bar.as_ref(),
                &format!("calibration: {}{from}", s.calibration),
            );
        }
    }

    fn frame(&mut self, t: usize, r: &FrameReport) {
        if let (true, Some(th)) = (self.args.verbose, &r.threshold) {
            report::say(
                self.bar.as_ref(),
                &format!(
                    "  frame {t}: {}, {} objects",
                    ThresholdSummary::frame_line(th, r.pixels),
                    r.objects
                ),
            );
        }
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    fn warning(&mut self, w: &Warning) {
        report::say(self.bar.as_ref(), &format!("warning: {w}"));
    }

    fn note(&mut self, text: &str) {
        report::say(self.bar.as_ref(), text);
    }
}

pub(crate) fn run(a: SegmentArgs) -> Result<()> {
    // first, so a signal during setup stops the run cleanly too
    report::install_interrupt_handler();
    let params = params_of(&a.pipeline)?;
    let calibration = io::Calibration::new(
        a.pixel_size
            .as_deref()
            .map(io::parse_pixel_size)
            .transpose()?,
        a.interval,
    )?;
    let job = SegmentJob {
        inputs: a.input.clone(),
        channel: a.pipeline.channel,
        params,
        outputs: Request {
            labels: a.output.clone(),
            stats: a.stats.clone(),
            counts: a.counts.clone(),
            overlay: a.overlay.clone(),
            save_stages: a.save_stages.clone(),
            resume: a.resume,
            label_name: a.label_name.clone(),
        },
        calibration,
        workers: a.pipeline.threads,
        strict: a.strict,
    };
    let segmenter = Segmenter::new(backend_of(&a.pipeline))?;
    // -v prints per-stage times: on the GPU they need profiling (timestamps when supported).
    segmenter.set_profiling(a.verbose);
    let mut printer = Printer {
        args: &a,
        bar: None,
    };
    let outcome = run::segment_to_files(&job, &segmenter, &INTERRUPTED, &mut printer);
    if let Some(b) = &printer.bar {
        b.finish_and_clear();
    }
    let s = outcome?;
    let name = run::input_name(&a.input);
    if !a.quiet {
        if let Some((w, h, c, ty)) = s.shape {
            eprintln!(
                "floodseg: {name}: {} frame{} of {w}×{h} {c}×{ty}, {:.1} ms ({:.2} frames/s, {:.1} MP/s)",
                s.frames,
                if s.frames == 1 { "" } else { "s" },
                s.seconds * 1e3,
                s.frames as f64 / s.seconds,
                (w * h * s.frames) as f64 / s.seconds / 1e6,
            );
        }
        if let Some(line) = &s.threshold {
            eprintln!("floodseg: {line}");
        }
    }
    for line in &s.repeated_warnings {
        eprintln!("floodseg: warning: {line}");
    }
    if a.verbose {
        if let Some(rss) = bench::peak_rss_bytes() {
            eprintln!(
                "floodseg:   peak RSS {:.1} MiB",
                rss as f64 / (1024.0 * 1024.0)
            );
        }
        for (stage, ms) in &s.stage_ms {
            eprintln!("floodseg:   {stage:<12} {ms:>9.3} ms/frame");
        }
    }
    if s.resumed > 0 && !a.quiet {
        eprintln!(
            "floodseg: resumed: {} frame(s) read back from earlier outputs",
            s.resumed
        );
    }
    if s.single {
        println!("{} objects", s.objects);
    } else {
        println!("{} objects in {} frames", s.objects, s.frames);
    }
    Ok(())
}
