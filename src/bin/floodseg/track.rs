//! `floodseg track`: arguments, then [`floodseg::track::run::track_to_files`] does the run;
//! this file prints what it reports.

use std::path::PathBuf;

use floodseg::io;
use floodseg::track::run::{self, TrackEvents, TrackJob, TrackOutputs};
use floodseg::track::TrackOptions;
use floodseg::{Error, Result, Segmenter};
use indicatif::ProgressBar;

use crate::args::{backend_of, params_of, PipelineArgs};
use crate::report::{self, INTERRUPTED};

#[derive(clap::Args)]
pub(crate) struct TrackArgs {
    /// Input images, as `segment` reads them (a stack, a folder, a glob or several files);
    /// segmented with the flags below, then tracked. With --labels they are only the overlay's
    /// background and may be omitted.
    #[arg(num_args = 0.., value_name = "INPUT")]
    pub(crate) input: Vec<PathBuf>,
    /// Track these label images as they are (from floodseg or any tool: Cellpose, Omnipose,
    /// ilastik …): a label stack (8/16-bit pages), a folder of label TIFFs (8/16/32-bit), or an
    /// OME-Zarr label image of any integer type (`segment -o X.zarr`, or an image's
    /// `X.zarr/labels/NAME`).
    #[arg(long, value_name = "STACK|DIR|X.zarr")]
    pub(crate) labels: Option<PathBuf>,
    /// Write the Cell Tracking Challenge result: DIR/maskTTT.tif (16-bit, labels = track ids)
    /// and DIR/res_track.txt (`L B E P` per track).
    #[arg(long, value_name = "DIR")]
    pub(crate) ctc: Option<PathBuf>,
    /// Write the label stack relabelled by track id: a .tif stack (32-bit labels), or an
    /// OME-Zarr label image (`X.zarr`, uint32, with an OME-Zarr input's axes and scale; `-o`
    /// naming the OME-Zarr input itself writes into its `labels/<--label-name>` group).
    #[arg(short, long, value_name = "LABELS.tif|X.zarr")]
    pub(crate) output: Option<PathBuf>,
    /// Name of the labels written into an OME-Zarr input's own `labels/` group (`-o` the
    /// input's path; default `tracks`).
    #[arg(long, value_name = "NAME")]
    pub(crate) label_name: Option<String>,
    /// Write napari's tracks table (.csv): track_id,t,y,x,parent_id,area,length,
    /// touches_border,interpolated — one row per cell per frame.
    #[arg(long, value_name = "CSV")]
    pub(crate) tracks: Option<PathBuf>,
    /// Write the lineage (.csv): one row per track (a cell cycle) with parent, generation,
    /// frames, division, border flag, lengths at birth and division, added length, cycle
    /// length and growth rate (d ln length/dt, 1/frame; per hour with --interval).
    #[arg(long, value_name = "CSV")]
    pub(crate) lineage: Option<PathBuf>,
    /// Write one PNG per frame into DIR: outlines in track colours, track ids and tails.
    #[arg(long, value_name = "DIR")]
    pub(crate) overlay: Option<PathBuf>,
    /// Write the lineage tree as SVG.
    #[arg(long, value_name = "SVG")]
    pub(crate) tree: Option<PathBuf>,
    /// Minutes between frames: adds cycle_minutes and growth_rate_per_hour to --lineage and
    /// puts time on the tree's axis.
    #[arg(long, value_name = "MINUTES")]
    pub(crate) interval: Option<f64>,
    /// Frames a cell may be missed (out of focus, merged with a neighbour) and found again;
    /// the frames in between are drawn from its mask.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub(crate) max_gap: usize,
    /// The largest stage drift between two frames searched for, in pixels.
    #[arg(long, value_name = "PX", default_value_t = 30)]
    pub(crate) max_drift: usize,
    #[command(flatten)]
    pub(crate) pipeline: PipelineArgs,
    /// No progress bar and no details on stderr.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

struct Printer {
    quiet: bool,
    bar: Option<ProgressBar>,
}

impl TrackEvents for Printer {
    fn started(&mut self, frames: Option<usize>, backend: &str) {
        self.bar = Some(report::progress_bar(frames, self.quiet, "frames"));
        if !self.quiet {
            report::say(self.bar.as_ref(), &format!("backend {backend}"));
        }
    }
    fn frame(&mut self, _t: usize) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }
    fn warning(&mut self, w: &floodseg::checks::Warning) {
        report::say(self.bar.as_ref(), &format!("warning: {w}"));
    }
    fn note(&mut self, text: &str) {
        report::say(self.bar.as_ref(), text);
    }
}

pub(crate) fn run(a: TrackArgs) -> Result<()> {
    report::install_interrupt_handler();
    let outputs = TrackOutputs {
        ctc: a.ctc.clone(),
        labels: a.output.clone(),
        label_name: a.label_name.clone(),
        tracks: a.tracks.clone(),
        lineage: a.lineage.clone(),
        overlay: a.overlay.clone(),
        tree: a.tree.clone(),
    };
    if outputs.ctc.is_none()
        && outputs.labels.is_none()
        && outputs.tracks.is_none()
        && outputs.lineage.is_none()
        && outputs.overlay.is_none()
        && outputs.tree.is_none()
    {
        return Err(Error::param(
            "--ctc",
            "name at least one output: --ctc DIR, -o LABELS.tif, --tracks CSV, --lineage CSV, \
             --overlay DIR or --tree SVG",
        ));
    }
    let params = params_of(&a.pipeline)?;
    let calibration = io::Calibration::new(None, a.interval)?;
    let job = TrackJob {
        inputs: a.input.clone(),
        labels: a.labels.clone(),
        channel: a.pipeline.channel,
        options: TrackOptions {
            max_gap: a.max_gap,
            max_drift: a.max_drift,
            edge_area: params.edge_area(),
        },
        params,
        outputs,
        calibration,
        workers: a.pipeline.threads,
    };
    let segmenter = Segmenter::new(backend_of(&a.pipeline))?;
    let mut printer = Printer {
        quiet: a.quiet,
        bar: None,
    };
    let outcome = run::track_to_files(&job, &segmenter, &INTERRUPTED, &mut printer);
    if let Some(b) = &printer.bar {
        b.finish_and_clear();
    }
    let r = outcome?;
    let s = r.stats;
    if !a.quiet {
        eprintln!(
            "floodseg: {} frames in {:.2} s, of which tracking {:.3} s ({:.1} ms/frame); {} gaps closed, {} merged cells split, {} cell frames drawn across the edge, {} blurred frames replaced by the frame before ({} divisions dated back into them)",
            s.frames,
            r.seconds,
            r.tracking_seconds,
            1e3 * r.tracking_seconds / s.frames.max(1) as f64,
            s.gaps_closed,
            s.merges_split,
            s.edge_frames,
            s.frames_repaired,
            s.divisions_dated_back
        );
        if let Some((g, n)) = r.median_growth_rate {
            let per_hour = a
                .interval
                .map_or_else(String::new, |m| format!(", {:.3}/h", g * 60.0 / m));
            eprintln!(
                "floodseg: median growth rate {g:.4}/frame{per_hour} (doubling {:.1} frames) over {n} complete cycles away from the edge",
                std::f64::consts::LN_2 / g
            );
        }
    }
    for line in &r.repeated_warnings {
        eprintln!("floodseg: warning: {line}");
    }
    println!(
        "{} tracks, {} divisions in {} frames",
        s.tracks, s.divisions, s.frames
    );
    Ok(())
}
