//! `floodseg` command line: a thin clap layer over the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use floodseg::cpu::distance::{DistanceMode, JfaVariant};
use floodseg::cpu::opening::Structure;
use floodseg::cpu::threshold::parse_level;
use floodseg::io::{FrameSource, StackWriter, TextStream};
use floodseg::outputs::{self, LabelsOut, OutputPlan};
use floodseg::pipeline::{Backend, Flood, Markers, Params, Preset, Segmenter, Stages};
use floodseg::{bench, checks, io, measure, render, stream, synth, Error, RawImage, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Parser)]
#[command(
    name = "floodseg",
    version,
    about = "Segment bacteria and blob-like cells: threshold → opening → distance → peaks → watershed (scikit-image's lecture pipeline) on the GPU or CPU"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Segment an image, a multi-page TIFF stack, a folder or a glob of frames into instance
    /// labels; print the object count.
    Segment(SegmentArgs),
    /// Measure throughput: per-stage times, MP/s, frames/s and peak memory.
    Bench(BenchArgs),
    /// Score predicted labels against ground truth (StarDist's matching: TP/FP/FN, precision,
    /// recall, F1, mean matched IoU, panoptic quality per IoU threshold).
    Eval(EvalArgs),
    /// Search threshold, smoothing, opening, markers and area filter for the best F1 against
    /// ground truth; print the best settings as `segment` flags.
    Tune(TuneArgs),
    /// Write a synthetic test image (the lecture's canvas, a colony of rods of any size, or
    /// rods with ground truth).
    Synth(SynthArgs),
}

#[derive(clap::Args)]
struct TuneArgs {
    /// Input frames (an image, stack, folder, glob or several files, as for `segment`).
    #[arg(required = true, num_args = 1.., value_name = "INPUT")]
    input: Vec<PathBuf>,
    /// Ground-truth labels, frame for frame (as for `eval`).
    #[arg(long, value_name = "GT")]
    gt: PathBuf,
    /// Calibrate a preset (`lecture` or `rods`, as for `segment`): every list below then
    /// defaults to the preset's own value, except the threshold (`otsu,scan:24`) and, for
    /// `rods`, the core (`none,scan:10`), so the search finds the preset's levels; lists
    /// given still vary.
    #[arg(long, value_enum, value_name = "NAME")]
    preset: Option<PresetArg>,
    /// Objects are darker than the background.
    #[arg(long, conflicts_with = "bright")]
    dark: bool,
    /// Objects are brighter than the background (overrides a preset's --dark).
    #[arg(long)]
    bright: bool,
    /// Thresholds to try: `otsu`, values, ranges (`otsu,100:200:10`) and `scan[:N]` (N levels,
    /// default 24, from the 1st to the 99th percentile of the first frame)
    /// [default: otsu; with a preset: otsu,scan:24].
    #[arg(long, value_name = "LIST")]
    threshold: Option<String>,
    /// Smoothing passes to try (`0,1,2`) [default: 0,1].
    #[arg(long, value_name = "LIST")]
    smooth: Option<String>,
    /// Openings to try (`0:3`) [default: 0:2].
    #[arg(long, value_name = "LIST")]
    open: Option<String>,
    /// Marker kinds to try (`peaks,regional,hmax`) [default: peaks,hmax].
    #[arg(long, value_name = "LIST")]
    markers: Option<String>,
    /// min_distance values for `peaks` [default: 2,3,5,7,10].
    #[arg(long, value_name = "LIST")]
    min_distance: Option<String>,
    /// Heights for `hmax`, in pixels (multiples of 0.5) [default: 0.5:3:0.5].
    #[arg(long, value_name = "LIST")]
    h: Option<String>,
    /// `--core` levels to try: `none`, values, ranges and `scan[:N]` as for --threshold
    /// (levels not stricter than a fixed threshold are skipped) [default: none; with
    /// `--preset rods`: none,scan:10].
    #[arg(long, value_name = "LIST")]
    core: Option<String>,
    /// `--flood` values to try (`distance,intensity`) [default: distance; with a preset, the
    /// preset's].
    #[arg(long, value_name = "LIST")]
    flood: Option<String>,
    /// Minimum areas to try [default: 0,10,20,40].
    #[arg(long, value_name = "LIST")]
    min_area: Option<String>,
    /// Minimum eccentricities to try [default: 0].
    #[arg(long, value_name = "LIST")]
    min_eccentricity: Option<String>,
    /// Maximum widths to try, in pixels, `none` for no limit [default: none].
    #[arg(long, value_name = "LIST")]
    max_width: Option<String>,
    /// `--clear-border` values to try: `off` (or `none`: keep objects at the edge) and border
    /// widths B (`off,0`) [default: off; with a preset, the preset's].
    #[arg(long, value_name = "LIST")]
    clear_border: Option<String>,
    /// `--background` radii to try: `off` (or `none`) and radii R (`off,5,10,20`); each
    /// radius gets its own `scan` levels for --threshold and --core, taken on the flattened
    /// first frame [default: off; with a preset, the preset's].
    #[arg(long, value_name = "LIST")]
    background: Option<String>,
    /// Structuring element of the opening.
    #[arg(long, value_enum, default_value_t = StructureArg::Cross)]
    structure: StructureArg,
    /// IoU threshold of a match.
    #[arg(long, default_value_t = 0.5)]
    iou: f64,
    /// Settings to print, best first.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// One JSON object per printed setting, one per line.
    #[arg(long)]
    json: bool,
    /// Backend: `cpu`, `gpu`, or `auto`.
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    /// Channel of a multichannel ImageJ hyperstack (0-based).
    #[arg(long, value_name = "C")]
    channel: Option<usize>,
    /// No progress or details on stderr.
    #[arg(short, long)]
    quiet: bool,
    /// Make every warning an error (exit 7): an empty ground-truth frame, a best F1 of 0.
    #[arg(long)]
    strict: bool,
}

/// The pipeline's parameters (shared by `segment`, `bench` and `tune`). Without `--preset`
/// the defaults are the lecture's stages with Otsu and no opening; a preset sets named values
/// and any flag given overrides them.
#[derive(clap::Args)]
struct PipelineArgs {
    /// Named parameter set: `lecture` (the lecture's pipeline and values: --threshold 180
    /// --dark --open 1 --markers peaks --min-distance 10 --footprint 10 --exclude-border 10
    /// --flood distance --min-area 0 --min-eccentricity 0) or
    /// `rods` (rod-shaped bacteria, dark on a brighter background: --threshold otsu --dark
    /// --open 1 --markers hmax --h 1 --exclude-border 0 --flood intensity --min-area 50
    /// --min-eccentricity 0.8; calibrate its levels with `tune --preset rods`).
    /// Flags given override its values.
    #[arg(long, value_enum, value_name = "NAME")]
    preset: Option<PresetArg>,
    /// Threshold in the input's own units (0–255 for 8-bit, counts for 16-bit, rgb2gray×255
    /// for 8-bit RGB), or `otsu` [default: otsu].
    #[arg(long, value_name = "T|otsu", allow_hyphen_values = true)]
    threshold: Option<String>,
    /// Objects are darker than the threshold (value < T); default: brighter (value > T).
    #[arg(long, conflicts_with = "bright")]
    dark: bool,
    /// Objects are brighter than the threshold (overrides a preset's --dark).
    #[arg(long)]
    bright: bool,
    /// Smoothing before the threshold: N passes of the integer binomial filter [1 2 1]/4 along
    /// rows and columns (σ ≈ √(N/2) px; 8- and 16-bit images) [default: 0].
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    smooth: Option<u32>,
    /// Flatten uneven illumination before the threshold: subtract the background, a grey
    /// closing (--dark) or opening (--bright) with a (2R+1)×(2R+1) square, R larger than a
    /// cell's half width (the top-hat; the threshold then reads the flattened image, whose
    /// background is white with --dark, black with --bright). 8- and 16-bit images
    /// [default: off].
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    background: Option<u32>,
    /// Opening: K erosions then K dilations (0: none) [default: 0].
    #[arg(long = "open", value_name = "K", allow_hyphen_values = true)]
    open: Option<u32>,
    /// Structuring element of the opening.
    #[arg(long, value_enum, default_value_t = StructureArg::Cross)]
    structure: StructureArg,
    /// Markers: `peaks` (the lecture's peak_local_max), `regional` (every regional-maximum
    /// plateau of the distance) or `hmax` (maxima at least --h above their saddle: one rod,
    /// one marker) [default: peaks].
    #[arg(long, value_enum, value_name = "KIND")]
    markers: Option<MarkersArg>,
    /// Height of `--markers hmax`, in pixels of distance, a multiple of 0.5 [default: 1].
    #[arg(long, value_name = "H", allow_hyphen_values = true)]
    h: Option<String>,
    /// `min_distance` of peak_local_max (markers `peaks`): peak spacing, in pixels
    /// [default: 10].
    #[arg(long, value_name = "M", allow_hyphen_values = true)]
    min_distance: Option<u32>,
    /// Footprint of peak_local_max: an S×S box placed as scipy.ndimage places it (even S
    /// allowed) [default: 2M+1].
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    footprint: Option<u32>,
    /// Drop markers closer than B pixels to the image edge (peak_local_max's exclude_border)
    /// [default: M for `peaks`, as scikit-image; 0 for `regional` and `hmax`].
    #[arg(long, value_name = "B", allow_hyphen_values = true)]
    exclude_border: Option<u32>,
    /// Find the markers in the cores: pixels beyond this stricter level (darker than it with
    /// --dark, brighter with --bright; same units as --threshold), opened like the mask.
    /// Cells that touch in the mask but not in their cores get a marker each; the objects
    /// grow over the threshold's mask from them; a cell with no pixel beyond T2 gets no
    /// marker and is lost [default: none, markers from the mask].
    #[arg(long, value_name = "T2", allow_hyphen_values = true)]
    core: Option<String>,
    /// What the watershed floods: `distance` (−distance, the lecture's: cells part where the
    /// mask is narrowest) or `intensity` (the gray levels the threshold sees, darkest first
    /// with --dark: touching cells part along the brighter line between them)
    /// [default: distance; with --preset rods: intensity].
    #[arg(long, value_enum, value_name = "WHAT")]
    flood: Option<FloodArg>,
    /// Drop objects of fewer than A pixels after the watershed (debris) [default: 0].
    #[arg(long, value_name = "A", allow_hyphen_values = true)]
    min_area: Option<u64>,
    /// Drop objects of more than A pixels after the watershed (clumps, lens rings).
    #[arg(long, value_name = "A", allow_hyphen_values = true)]
    max_area: Option<u64>,
    /// Drop objects less elongated than E (regionprops eccentricity: 0 a disk, near 1 a long
    /// rod): round debris among rods [default: 0].
    #[arg(long, value_name = "E", allow_hyphen_values = true)]
    min_eccentricity: Option<f64>,
    /// Drop objects wider than W pixels (regionprops minor_axis_length): clumps, rings.
    #[arg(long, value_name = "W", allow_hyphen_values = true)]
    max_width: Option<f64>,
    /// Drop objects that touch the image edge (B = 0) or come within B pixels of it: cells
    /// cut by the frame, whose length and area would be wrong (scikit-image's
    /// clear_border(labels, buffer_size=B)) [default: off].
    #[arg(long, value_name = "B", allow_hyphen_values = true)]
    clear_border: Option<u32>,
    /// Distance transform: `exact` (separable) or a jump-flooding variant.
    #[arg(long, value_enum, default_value_t = DistanceArg::Exact)]
    distance: DistanceArg,
    /// Backend: `cpu`, `gpu`, or `auto` (a hardware GPU if present, else the CPU).
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    /// Frames segmented at once (CPU: default one per core; GPU: default 8 for frames up to
    /// 1 MP, 4 up to 4 MP, else 2). Outputs do not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Channel of a multichannel ImageJ hyperstack to segment (0-based).
    #[arg(long, value_name = "C")]
    channel: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
enum PresetArg {
    Lecture,
    Rods,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FloodArg {
    Distance,
    Intensity,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MarkersArg {
    Peaks,
    Regional,
    Hmax,
}

#[derive(clap::Args)]
struct SegmentArgs {
    /// Input: PNG or TIFF image (8/16-bit gray, RGB(A), 32-bit float gray), a multi-page or
    /// ImageJ TIFF stack (every page / every frame), a folder of frames (natural name order),
    /// a quoted glob such as 'frames/img_*.tif', or several image files (an unquoted glob:
    /// one frame each, in natural name order).
    #[arg(required = true, num_args = 1.., value_name = "INPUT")]
    input: Vec<PathBuf>,
    /// Output labels: `X.tif` writes one TIFF (a multi-page ImageJ stack for several frames);
    /// a folder (existing, or a path without .tif) gets one label TIFF per frame.
    #[arg(short, long, value_name = "LABELS.tif|DIR")]
    output: PathBuf,
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// Write every stage (smoothed with --smooth, flattened with --background, mask, opened,
    /// distance2, core and core_distance2 with --core, peaks, markers, labels) as TIFF, the
    /// binary and distance images with a PNG preview (for several frames: one subfolder per
    /// frame).
    #[arg(long, value_name = "DIR")]
    save_stages: Option<PathBuf>,
    /// Write per-object measurements as CSV (a .csv file), one row per object per frame.
    #[arg(long, value_name = "CSV")]
    stats: Option<PathBuf>,
    /// Write the object count of each frame as CSV (a .csv file: frame,objects).
    #[arg(long, value_name = "CSV")]
    counts: Option<PathBuf>,
    /// Write the input with coloured object outlines as PNG (a .png file for one frame; a
    /// folder with one PNG per frame).
    #[arg(long, value_name = "PNG|DIR")]
    overlay: Option<PathBuf>,
    /// Print each frame's threshold level (Otsu's), mask share and object count, each
    /// stage's time (mean per frame) and the peak memory on stderr.
    #[arg(short, long)]
    verbose: bool,
    /// No progress bar and no details on stderr (errors and warnings are still printed).
    #[arg(short, long)]
    quiet: bool,
    /// Continue an interrupted per-frame run (`-o DIR`): frames whose label file exists are
    /// not segmented again; their labels are read back for --stats/--counts/--overlay.
    #[arg(long)]
    resume: bool,
    /// Make every warning an error (exit 7): no objects, a mask that covers most of the
    /// frame, a threshold outside the image's values, every marker dropped, a label image as
    /// input, a software GPU adapter. What was finished is kept as NAME.partial.*.
    #[arg(long)]
    strict: bool,
    /// Pixel size in µm (`0.065`, or `X,Y` for rectangular pixels), written into the label
    /// TIFFs (Fiji shows µm) and adding µm columns to --stats [default: what the input
    /// declares, if anything].
    #[arg(long, value_name = "UM")]
    pixel_size: Option<String>,
    /// Minutes between frames, written into a label stack (Fiji's frame interval) [default:
    /// what the input declares, if anything].
    #[arg(long, value_name = "MINUTES", allow_hyphen_values = true)]
    interval: Option<f64>,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Frames to run: an image, stack, folder, glob or several files as for `segment`;
    /// default: a synthetic colony of rods (`synth colony`), a new one per frame.
    #[arg(num_args = 0.., value_name = "INPUT")]
    input: Vec<PathBuf>,
    /// Size of the synthetic frames.
    #[arg(long, value_name = "WxH", default_value = "1024x1024")]
    size: String,
    /// Frames to run (default: 20 synthetic frames, or every frame of INPUT; a single image is
    /// repeated).
    #[arg(long, value_name = "N")]
    frames: Option<usize>,
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// GPU: run every frame's watershed by itself, never stacked with those of the frames in
    /// flight beside it (to measure what that batching gives; outputs are the same).
    #[arg(long)]
    no_batch: bool,
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Ground-truth labels: a label TIFF (every page a frame), a 8/16-bit PNG, or a folder.
    #[arg(long, value_name = "GT")]
    gt: PathBuf,
    /// Predicted labels, frame for frame like GT (e.g. `floodseg segment`'s output). Two
    /// folders are paired by file name: same stem, else the same frame number (the last digits
    /// of the name); PRED files without GT are not scored.
    #[arg(long, value_name = "PRED")]
    pred: PathBuf,
    /// IoU thresholds, comma-separated, each in (0, 1].
    #[arg(long, value_name = "T,T,…", default_value = "0.5,0.75,0.9")]
    iou: String,
    /// The time-lapse frames to score (`0,10`, ranges `0:30:10`): a side holding as many
    /// frames is taken in order, a side holding more by index (stack page, or position in a
    /// folder), a folder whose names carry frame numbers by those numbers.
    #[arg(long, value_name = "LIST")]
    frames: Option<String>,
    /// Also print every frame's scores (with --json: one object per frame per threshold, with
    /// `frame` and `name`, after the summary objects).
    #[arg(long)]
    per_frame: bool,
    /// One JSON object per threshold, one per line.
    #[arg(long)]
    json: bool,
    /// Make every warning an error (exit 7): an empty ground-truth frame.
    #[arg(long)]
    strict: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum StructureArg {
    Cross,
    Square,
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Cpu,
    Gpu,
    Auto,
}

#[derive(Clone, Copy, ValueEnum)]
enum DistanceArg {
    Exact,
    Jfa,
    #[value(name = "jfa+2")]
    JfaPlus2,
    Jfa2,
}

#[derive(clap::Args)]
struct SynthArgs {
    /// Which image.
    #[arg(value_enum)]
    kind: SynthKind,
    /// Seed of the noise.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Size of a colony.
    #[arg(long, value_name = "WxH", default_value = "1024x1024")]
    size: String,
    /// Output file (.png or .tif).
    #[arg(short, long)]
    output: PathBuf,
    /// Ground-truth labels of `rods` (a label TIFF).
    #[arg(long, value_name = "LABELS.tif")]
    gt: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SynthKind {
    /// The lecture's 100×100 canvas with three dark disks.
    LectureDisks,
    /// The same with 10 % salt noise.
    LectureNoisy,
    /// Bright touching rods on a dark noisy background, any `--size`.
    Colony,
    /// Dark rods on a brighter, unevenly lit, noisy background with touching pairs and
    /// debris, any `--size`, with ground truth (`--gt`).
    Rods,
}

fn main() -> ExitCode {
    // Mesa's Vulkan drivers print "XDG_RUNTIME_DIR is invalid or not set" on every start when a
    // headless server has no login session; they use it for nothing floodseg needs.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Segment(a) => run_segment(a),
        Cmd::Bench(a) => run_bench(a),
        Cmd::Eval(a) => run_eval(a),
        Cmd::Tune(a) => run_tune(a),
        Cmd::Synth(a) => run_synth(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floodseg: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// `--h` in half pixels: a multiple of 0.5, at least 0.
fn parse_h(text: &str) -> Result<u32> {
    let bad = || {
        Error::param(
            "--h",
            format!(
                "{text:?} is not a height in pixels that is a multiple of 0.5 (0, 0.5, 1, 1.5, …)"
            ),
        )
    };
    let v: f64 = text.trim().parse().map_err(|_| bad())?;
    if v > 50_000.0 {
        return Err(Error::param(
            "--h",
            format!("{text:?} is absurd (at most 50000 pixels)"),
        ));
    }
    let half = v * 2.0;
    if !(0.0..=100_000.0).contains(&half) || half.fract() != 0.0 {
        return Err(bad());
    }
    Ok(half as u32)
}

fn preset_of(p: PresetArg) -> Preset {
    match p {
        PresetArg::Lecture => Preset::Lecture,
        PresetArg::Rods => Preset::Rods,
    }
}

fn params_of(a: &PipelineArgs) -> Result<Params> {
    let mut p = a
        .preset
        .map_or_else(Params::default, |p| preset_of(p).params());
    if let Some(t) = &a.threshold {
        p.level = parse_level(t)?;
    }
    if a.dark {
        p.dark = true;
    }
    if a.bright {
        p.dark = false;
    }
    if let Some(n) = a.smooth {
        p.smooth = n;
    }
    if let Some(r) = a.background {
        p.background = Some(r);
    }
    if let Some(k) = a.open {
        p.open = k;
    }
    p.structure = match a.structure {
        StructureArg::Cross => Structure::Cross,
        StructureArg::Square => Structure::Square,
    };
    let preset_h = match p.markers {
        Markers::Hmax { h_half } => h_half,
        _ => 2,
    };
    let h_half = a.h.as_deref().map(parse_h).transpose()?;
    p.markers = match (a.markers, p.markers) {
        (Some(MarkersArg::Peaks), _) => Markers::Peaks,
        (Some(MarkersArg::Regional), _) => Markers::Regional,
        (Some(MarkersArg::Hmax), _) | (None, Markers::Hmax { .. }) => Markers::Hmax {
            h_half: h_half.unwrap_or(preset_h),
        },
        (None, m) => m,
    };
    if h_half.is_some() && !matches!(p.markers, Markers::Hmax { .. }) {
        return Err(Error::param(
            "--h",
            format!(
                "is the height of --markers hmax; the markers are {}",
                p.markers.name()
            ),
        ));
    }
    if let Some(m) = a.min_distance {
        p.min_distance = m;
    }
    if let Some(s) = a.footprint {
        p.footprint = Some(s);
    }
    if p.markers != Markers::Peaks {
        for (given, flag) in [
            (a.min_distance.is_some(), "--min-distance"),
            (a.footprint.is_some(), "--footprint"),
        ] {
            if given {
                return Err(Error::param(
                    flag,
                    format!(
                        "applies to --markers peaks; the markers are {}",
                        p.markers.name()
                    ),
                ));
            }
        }
    }
    if let Some(b) = a.exclude_border {
        p.exclude_border = Some(b);
    }
    if let Some(c) = &a.core {
        p.core = if c.eq_ignore_ascii_case("none") {
            None
        } else {
            Some(floodseg::cpu::threshold::parse_core(c)?)
        };
    }
    match a.flood {
        Some(FloodArg::Distance) => p.flood = Flood::Distance,
        Some(FloodArg::Intensity) => p.flood = Flood::Intensity,
        None => {}
    }
    if let Some(m) = a.min_area {
        p.min_area = m;
    }
    if let Some(m) = a.max_area {
        p.max_area = Some(m);
    }
    if let Some(e) = a.min_eccentricity {
        p.min_eccentricity = e;
    }
    if let Some(w) = a.max_width {
        p.max_width = Some(w);
    }
    if let Some(b) = a.clear_border {
        p.clear_border = Some(b);
    }
    p.distance = match a.distance {
        DistanceArg::Exact => DistanceMode::Exact,
        DistanceArg::Jfa => DistanceMode::Jfa(JfaVariant::Plain),
        DistanceArg::JfaPlus2 => DistanceMode::Jfa(JfaVariant::Plus2),
        DistanceArg::Jfa2 => DistanceMode::Jfa(JfaVariant::Squared),
    };
    p.validate()?;
    if a.threads == Some(0) {
        return Err(Error::param("--threads", "must be at least 1"));
    }
    Ok(p)
}

fn backend_of(a: &PipelineArgs) -> Backend {
    backend_of_arg(a.backend)
}

fn backend_of_arg(b: BackendArg) -> Backend {
    match b {
        BackendArg::Cpu => Backend::Cpu,
        BackendArg::Gpu => Backend::Gpu,
        BackendArg::Auto => Backend::Auto,
    }
}

fn progress_bar(len: Option<usize>, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => ProgressBar::new(n as u64).with_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} frames  {per_sec}  ETA {eta}  {elapsed}",
            )
            .expect("a valid template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {pos} frames  {per_sec}  {elapsed}")
                .expect("a valid template"),
        ),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar
}

fn run_segment(a: SegmentArgs) -> Result<()> {
    // first, so a signal during setup stops the run cleanly too
    install_interrupt_handler();
    let params = params_of(&a.pipeline)?;
    let source = FrameSource::open_all(&a.input, a.pipeline.channel)?;
    let input_name = input_display(&a.input);
    let frames = source.len();
    let single = frames == Some(1);
    // every output resolved and checked before any work: never over an input, never two in
    // one file, folders created and proved writable
    let mut plan = OutputPlan::new(
        &source,
        &outputs::Request {
            labels: a.output.clone(),
            stats: a.stats.clone(),
            counts: a.counts.clone(),
            overlay: a.overlay.clone(),
            save_stages: a.save_stages.clone(),
            resume: a.resume,
        },
    )?;
    // physical units: given, else what the input declares
    let given = io::Calibration::new(
        a.pixel_size
            .as_deref()
            .map(io::parse_pixel_size)
            .transpose()?,
        a.interval,
    )?;
    let declared = source.declared_calibration()?;
    let calibration = given.or(declared.calibration);
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
    let segmenter = Segmenter::new(backend_of(&a.pipeline))?;
    let mut warn = Warner::new(a.strict);
    if segmenter.is_software() {
        warn.say(checks::software_adapter(segmenter.description()))?;
    }
    let workers = a.pipeline.threads.unwrap_or_else(|| {
        // The GPU's default depends on the frame size: the first frame, decoded once more (an
        // error there is the stream's to report).
        let pixels = segmenter
            .workers_depend_on_size()
            .then(|| first_frame_pixels(&a.input, a.pipeline.channel));
        let w = stream::default_workers_for(&segmenter, pixels.flatten());
        // never more workers than frames
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
    // -v prints per-stage times: on the GPU they need profiling (timestamps when supported).
    segmenter.set_profiling(a.verbose);
    if !a.quiet {
        eprintln!(
            "floodseg: backend {}, {} worker{}",
            segmenter.description(),
            workers,
            if workers == 1 { "" } else { "s" }
        );
        eprintln!(
            "floodseg: parameters{}: {}",
            a.pipeline.preset.map_or_else(String::new, |p| format!(
                " (preset {})",
                preset_of(p).name()
            )),
            params.to_args()
        );
        if !calibration.is_empty() {
            let from = if given.is_empty() {
                format!(" (declared by the input: {declared})")
            } else {
                String::new()
            };
            eprintln!("floodseg: calibration: {calibration}{from}");
        }
    }
    let bar = progress_bar(frames, a.quiet);
    let t0 = Instant::now();
    let mut total_objects = 0u64;
    let mut stage_totals: Vec<(&'static str, f64)> = Vec::new();
    let mut shape = None;
    let mut units = "";
    let mut summary = checks::ThresholdSummary::new();
    let keep = if a.save_stages.is_some() {
        stream::Keep::All
    } else if a.overlay.is_some() {
        stream::Keep::LabelsAndGray
    } else {
        stream::Keep::Labels
    };
    let resumed = std::sync::atomic::AtomicUsize::new(0);
    let mut stack: Option<StackWriter> = None;
    // frames whose every output is written (the tables hold exactly their rows)
    let mut written = 0usize;
    let work = |t: usize, img: &RawImage| {
        if let Some(done) = a.resume.then(|| plan.labels_file(t)).flatten() {
            if done.exists() {
                resumed.fetch_add(1, Ordering::Relaxed);
                return outputs::resumed_stages(img, &done);
            }
        }
        segmenter.segment_keep(img, &params, keep)
    };
    let sink = |t: usize, img: RawImage, stages: Stages| {
        let (w, h) = (img.width, img.height);
        if t == 0 {
            units = checks::units(&img);
            for w in checks::before_run(&params, &img) {
                warn.say(w)?;
            }
        }
        for w in checks::frame(&params, t, &img, &stages) {
            warn.say(w)?;
        }
        shape.get_or_insert((w, h, img.channels, img.samples.type_name()));
        let pixels = (w * h) as u64;
        if let Some(th) = &stages.threshold {
            summary.add(th, pixels);
            if a.verbose {
                bar.suspend(|| {
                    eprintln!(
                        "floodseg:   frame {t}: {}, {} objects",
                        checks::ThresholdSummary::frame_line(th, pixels),
                        stages.count()
                    )
                });
            }
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
                if !(a.resume && path.exists()) {
                    io::write_labels_tiff_with(&path, w, h, &stages.labels, &calibration)?
                }
            }
            LabelsOut::Stack(_) => {}
        }
        if let Some(dir) = plan.stages_dir(t) {
            save_stages(&dir, &stages)?;
        }
        if let Some(png) = plan.overlay_file(t) {
            let gray8 = gray_preview(&stages);
            io::write_png_rgb8(
                &png,
                w,
                h,
                &render::outline_overlay(w, h, &gray8, &stages.labels),
            )?;
        }
        if let LabelsOut::Stack(path) = &plan.labels {
            if stack.is_none() {
                let (kind, format) = outputs::stack_layout(w, h, frames, &params);
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
        bar.inc(1);
        Ok(())
    };
    let outcome = stream::run_with(source, workers, keep, &INTERRUPTED, work, sink);
    bar.finish_and_clear();
    // Errors about the pixel data name the input.
    let outcome = outcome.map_err(|e| match e {
        Error::BadData(m) => Error::BadData(format!("{input_name}: {m}")),
        other => other,
    });
    let interrupted = INTERRUPTED.load(Ordering::Relaxed)
        && outcome.as_ref().is_ok_and(|&done| frames != Some(done));
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
                    eprintln!(
                        "floodseg: the {done} frame{s} finished before the error are in {}",
                        kept.join(", ")
                    );
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
                        tables_note(&kept)
                    ),
                    LabelsOut::Folder(_) => "no frame was finished".to_string(),
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
    let elapsed = t0.elapsed().as_secs_f64();
    if let Some(writer) = stack {
        writer.finish()?;
    }
    for t in [stats, counts].into_iter().flatten() {
        t.finish()?;
    }
    // a complete run supersedes what an earlier interrupted one kept
    for p in [
        match &plan.labels {
            LabelsOut::Stack(p) => Some(p.clone()),
            _ => None,
        },
        plan.stats.clone(),
        plan.counts.clone(),
    ]
    .into_iter()
    .flatten()
    {
        let _ = std::fs::remove_file(outputs::partial_name(&p));
    }
    if !a.quiet {
        if let Some((w, h, c, ty)) = shape {
            eprintln!(
                "floodseg: {input_name}: {done} frame{} of {w}×{h} {c}×{ty}, {:.1} ms ({:.2} frames/s, {:.1} MP/s)",
                if done == 1 { "" } else { "s" },
                elapsed * 1e3,
                done as f64 / elapsed,
                (w * h * done) as f64 / elapsed / 1e6,
            );
        }
        if let Some(line) = summary.line(units) {
            eprintln!("floodseg: {line}");
        }
    }
    warn.summary(done);
    if a.verbose {
        if let Some(rss) = bench::peak_rss_bytes() {
            eprintln!(
                "floodseg:   peak RSS {:.1} MiB",
                rss as f64 / (1024.0 * 1024.0)
            );
        }
        for (name, total) in &stage_totals {
            eprintln!(
                "floodseg:   {name:<12} {:>9.3} ms/frame",
                total / done.max(1) as f64 * 1e3
            );
        }
    }
    let resumed = resumed.load(Ordering::Relaxed);
    if resumed > 0 && !a.quiet {
        eprintln!("floodseg: resumed: {resumed} frame(s) read back from earlier outputs");
    }
    if single {
        println!("{total_objects} objects");
    } else {
        println!("{total_objects} objects in {done} frames");
    }
    Ok(())
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

/// `", the tables of those frames in a.partial.csv"` for an interrupted folder run.
fn tables_note(kept: &[String]) -> String {
    if kept.is_empty() {
        String::new()
    } else {
        format!(", the tables of those frames in {}", kept.join(", "))
    }
}

/// How the input is named in messages (one path, or the first of several).
fn input_display(inputs: &[PathBuf]) -> String {
    match inputs {
        [one] => one.display().to_string(),
        [first, ..] => format!("{} (and {} more)", first.display(), inputs.len() - 1),
        [] => String::new(),
    }
}

/// Warnings of a run: each kind said once on stderr as it first happens (even with `-q`), a
/// summary of the frames each kind hit at the end; with `--strict` the first is an error.
struct Warner {
    strict: bool,
    tally: checks::Tally,
}

impl Warner {
    fn new(strict: bool) -> Warner {
        Warner {
            strict,
            tally: checks::Tally::new(),
        }
    }

    fn say(&mut self, w: checks::Warning) -> Result<()> {
        if self.strict {
            return Err(Error::Strict(w.message));
        }
        if let Some(w) = self.tally.add(w) {
            eprintln!("floodseg: warning: {w}");
        }
        Ok(())
    }

    fn summary(&self, frames: usize) {
        for line in self.tally.summary(frames) {
            eprintln!("floodseg: warning: {line}");
        }
    }
}

/// Set by Ctrl-C / SIGTERM: stop reading frames, finish and write the ones in flight.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn install_interrupt_handler() {
    // A second signal stops at once (temporary files are hidden `.NAME.tmp-PID` names).
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            eprintln!("floodseg: interrupted again; stopping now");
            std::process::exit(130);
        }
        eprintln!(
            "floodseg: interrupted; finishing the frames in flight (interrupt again to stop now)"
        );
    });
}

/// Parse `WxH`.
fn parse_size(flag: &'static str, s: &str) -> Result<(usize, usize)> {
    let parsed = s
        .split_once(['x', 'X', '×'])
        .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)));
    match parsed {
        Some((w, h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => Err(Error::param(
            flag,
            format!("{s:?} is not a size WxH such as 1024x1024"),
        )),
    }
}

/// The pixel count of `input`'s first frame, if it can be read (sizes the GPU's default workers).
fn first_frame_pixels(input: &[PathBuf], channel: Option<usize>) -> Option<usize> {
    let first = FrameSource::open_all(input, channel).ok()?.next()?.ok()?;
    Some(first.width * first.height)
}

fn run_bench(a: BenchArgs) -> Result<()> {
    let params = params_of(&a.pipeline)?;
    let segmenter = Segmenter::new(backend_of(&a.pipeline))?;
    segmenter.set_profiling(true);
    segmenter.set_batching(!a.no_batch);
    let workers = a.pipeline.threads.unwrap_or_else(|| {
        let pixels = if a.input.is_empty() {
            parse_size("--size", &a.size).ok().map(|(w, h)| w * h)
        } else {
            first_frame_pixels(&a.input, a.pipeline.channel)
        };
        stream::default_workers_for(&segmenter, pixels)
    });
    let frames: Box<dyn Iterator<Item = Result<RawImage>> + Send> = if a.input.is_empty() {
        let (w, h) = parse_size("--size", &a.size)?;
        let n = a.frames.unwrap_or(20);
        Box::new((0..n).map(move |t| Ok(synth::colony(w, h, t as u64 + 1))))
    } else {
        let mut source = FrameSource::open_all(&a.input, a.pipeline.channel)?;
        if source.len() == Some(1) && a.frames.is_some_and(|n| n > 1) {
            let img = source
                .next()
                .unwrap_or_else(|| Err(Error::BadData("no frame".into())))?;
            let n = a.frames.unwrap_or(1);
            Box::new((0..n).map(move |_| Ok(img.clone())))
        } else {
            match a.frames {
                Some(n) => Box::new(source.take(n)),
                None => Box::new(source),
            }
        }
    };
    let report = bench::run(frames, &segmenter, &params, workers)?;
    if a.json {
        println!("{}", report.to_json());
    } else {
        print!("{report}");
    }
    Ok(())
}

fn run_eval(a: EvalArgs) -> Result<()> {
    let mut thresholds = Vec::new();
    for part in a.iou.split(',') {
        match part.trim().parse::<f64>() {
            Ok(t) if t > 0.0 && t <= 1.0 => thresholds.push(t),
            _ => {
                return Err(Error::param(
                    "--iou",
                    format!("{part:?} is not an IoU threshold in (0, 1]"),
                ))
            }
        }
    }
    let frames = (a.frames.as_deref())
        .map(floodseg::eval::parse_frame_list)
        .transpose()?;
    let ev = floodseg::eval::evaluate_paths(&a.gt, &a.pred, frames.as_deref(), &thresholds)?;
    if let Some(note) = ev.pairing.note() {
        eprintln!("floodseg: {note}");
    }
    let mut warn = Warner::new(a.strict);
    for w in &ev.warnings {
        let (check, frame) = match w {
            floodseg::eval::Warning::EmptyGroundTruth { frame, .. } => {
                (checks::Check::EmptyGroundTruth, Some(*frame as usize))
            }
            _ => (checks::Check::EmptyGroundTruth, None),
        };
        warn.say(checks::Warning::new(check, frame, w.to_string()))?;
    }
    warn.summary(ev.frames.len());
    if a.json {
        print!("{}", ev.to_json_lines(a.per_frame));
    } else {
        print!("{}", ev.to_text(a.per_frame));
    }
    Ok(())
}

/// A list of levels for `tune` (`--threshold`, `--core`): `otsu`, values, ranges
/// (`100:200:10`, as many decimals as written) and `scan[:N]` (N levels, default 24, from the
/// 1st to the 99th percentile of the first frame).
fn parse_levels(
    flag: &'static str,
    text: &str,
    frames: &[RawImage],
    base: &Params,
) -> Result<Vec<floodseg::cpu::threshold::Level>> {
    use floodseg::tune;
    let mut levels = Vec::new();
    for part in text.split(',') {
        let part_l = part.trim().to_ascii_lowercase();
        if let Some(rest) = part_l.strip_prefix("scan") {
            let n = match rest.strip_prefix(':') {
                Some(k) => k.parse::<usize>().ok().filter(|&k| (1..=1000).contains(&k)),
                None if rest.is_empty() => Some(24),
                None => None,
            }
            .ok_or_else(|| {
                Error::param(
                    flag,
                    format!("{part:?}: scan takes a count of 1 to 1000 (scan:24)"),
                )
            })?;
            let first = frames
                .first()
                .ok_or_else(|| Error::BadData("the input has no frame".into()))?;
            levels.extend(tune::scan_levels(first, n, base)?);
        } else if part.trim().eq_ignore_ascii_case("otsu") {
            levels.push(floodseg::cpu::threshold::Level::Otsu);
        } else if part.contains(':') {
            // as many decimals as the range is written with (0.1:0.3:0.1 → 0.1, 0.2, 0.3)
            let decimals = part
                .split(':')
                .map(|x| x.trim().split_once('.').map_or(0, |(_, f)| f.len()))
                .max()
                .unwrap_or(0);
            for v in tune::parse_list(flag, part)? {
                levels.push(parse_level_for(flag, &format!("{v:.decimals$}"))?);
            }
        } else {
            levels.push(parse_level_for(flag, part.trim())?);
        }
    }
    Ok(levels)
}

/// [`parse_level`] with the error naming `flag`.
fn parse_level_for(flag: &'static str, text: &str) -> Result<floodseg::cpu::threshold::Level> {
    parse_level(text).map_err(|e| match e {
        Error::Parameter { reason, .. } => Error::param(flag, reason),
        other => other,
    })
}

fn run_tune(a: TuneArgs) -> Result<()> {
    use floodseg::tune::{self, Grid, MarkerKind};
    if !(a.iou > 0.0 && a.iou <= 1.0) {
        return Err(Error::param("--iou", format!("{} is not in (0, 1]", a.iou)));
    }
    let mut base = match a.preset {
        Some(PresetArg::Lecture) => Preset::Lecture.params(),
        Some(PresetArg::Rods) => Preset::Rods.params(),
        None => Params::default(),
    };
    if a.dark {
        base.dark = true;
    }
    if a.bright {
        base.dark = false;
    }
    base.structure = match a.structure {
        StructureArg::Cross => Structure::Cross,
        StructureArg::Square => Structure::Square,
    };
    let mut backgrounds = Vec::new();
    match &a.background {
        Some(t) => {
            for part in t.split(',') {
                let p = part.trim();
                if p.eq_ignore_ascii_case("off") || p.eq_ignore_ascii_case("none") {
                    backgrounds.push(None);
                } else {
                    for r in tune::parse_list("--background", p)? {
                        if !(r >= 1.0 && r.fract() == 0.0 && r <= u32::MAX as f64) {
                            return Err(Error::param(
                                "--background",
                                format!("{r} is not a radius in whole pixels"),
                            ));
                        }
                        backgrounds.push(Some(r as u32));
                    }
                }
            }
        }
        None => backgrounds.push(base.background),
    }
    for &bg in &backgrounds {
        Params {
            background: bg,
            ..base.clone()
        }
        .validate()?;
    }
    let ints = |flag: &'static str, text: &str| -> Result<Vec<u64>> {
        tune::parse_list(flag, text)?
            .into_iter()
            .map(|v| {
                if v >= 0.0 && v.fract() == 0.0 && v <= 1e9 {
                    Ok(v as u64)
                } else {
                    Err(Error::param(flag, format!("{v} is not a whole number ≥ 0")))
                }
            })
            .collect()
    };
    let u32s = |flag: &'static str, text: &str| -> Result<Vec<u32>> {
        Ok(ints(flag, text)?.into_iter().map(|v| v as u32).collect())
    };
    let frames: Vec<RawImage> =
        FrameSource::open_all(&a.input, a.channel)?.collect::<Result<_>>()?;
    // The lists' defaults: a broad grid, or with a preset the preset's own values.
    let preset = a.preset.is_some();
    let pick = |given: &Option<String>, broad: &str, own: String| -> String {
        match given {
            Some(t) => t.clone(),
            None if preset => own,
            None => broad.to_string(),
        }
    };
    let threshold_text = a.threshold.clone().unwrap_or_else(|| {
        if preset {
            "otsu,scan:24".into()
        } else {
            "otsu".into()
        }
    });
    // smoothing is for integer images: a float input's broad grid leaves it out
    let float_input = frames
        .first()
        .is_some_and(|f| matches!(f.samples, floodseg::Samples::F32(_)));
    let smooth_text = pick(
        &a.smooth,
        if float_input { "0" } else { "0,1" },
        base.smooth.to_string(),
    );
    let open_text = pick(&a.open, "0:2", base.open.to_string());
    let markers_text = pick(&a.markers, "peaks,hmax", base.markers.name().to_string());
    for (given, flag, kind) in [
        (a.h.is_some(), "--h", "hmax"),
        (a.min_distance.is_some(), "--min-distance", "peaks"),
    ] {
        if given && !markers_text.split(',').any(|m| m.trim() == kind) {
            return Err(Error::param(
                flag,
                format!("applies to --markers {kind}; the markers tried are {markers_text}"),
            ));
        }
    }
    let min_distance_text = pick(&a.min_distance, "2,3,5,7,10", base.min_distance.to_string());
    let h_text = pick(
        &a.h,
        "0.5:3:0.5",
        match base.markers {
            Markers::Hmax { h_half } => format!("{}", h_half as f64 / 2.0),
            _ => "1".into(),
        },
    );
    let min_area_text = pick(&a.min_area, "0,10,20,40", base.min_area.to_string());
    // `rods` separates touching cells by their cores: its calibration looks for that level too
    let core_text = pick(
        &a.core,
        "none",
        match a.preset {
            Some(PresetArg::Rods) => "none,scan:10".into(),
            _ => base
                .core
                .as_ref()
                .map_or("none".into(), floodseg::pipeline::decimal_text),
        },
    );
    // the threshold's and core's levels for one --background (scan levels are taken on the
    // flattened first frame)
    let levels_for = |b: &Params| -> Result<(Vec<floodseg::cpu::threshold::Level>, Vec<_>)> {
        let levels = parse_levels("--threshold", &threshold_text, &frames, b)?;
        let mut cores = Vec::new();
        for part in core_text.split(',') {
            if part.trim().eq_ignore_ascii_case("none") {
                cores.push(None);
                continue;
            }
            for level in parse_levels("--core", part, &frames, b)? {
                match level {
                    floodseg::cpu::threshold::Level::Fixed(d) => cores.push(Some(d)),
                    floodseg::cpu::threshold::Level::Otsu => {
                        return Err(Error::param(
                            "--core",
                            "takes levels, ranges, scan:N and none, not otsu",
                        ))
                    }
                }
            }
        }
        Ok((levels, cores))
    };
    let flood_text = pick(&a.flood, "distance", base.flood.name().to_string());
    let mut floods = Vec::new();
    for f in flood_text.split(',') {
        floods.push(match f.trim().to_ascii_lowercase().as_str() {
            "distance" => Flood::Distance,
            "intensity" => Flood::Intensity,
            other => {
                return Err(Error::param(
                    "--flood",
                    format!("{other:?} is not distance or intensity"),
                ))
            }
        });
    }
    let mut markers = Vec::new();
    for m in markers_text.split(',') {
        markers.push(match m.trim() {
            "peaks" => MarkerKind::Peaks,
            "regional" => MarkerKind::Regional,
            "hmax" => MarkerKind::Hmax,
            other => {
                return Err(Error::param(
                    "--markers",
                    format!("{other:?} is not peaks, regional or hmax"),
                ))
            }
        });
    }
    let h_half = h_text
        .split(',')
        .map(|part| {
            if part.contains(':') {
                tune::parse_list("--h", part)
                    .map(|v| v.into_iter().map(|x| format!("{x}")).collect::<Vec<_>>())
            } else {
                Ok(vec![part.to_string()])
            }
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .map(|t| parse_h(&t))
        .collect::<Result<Vec<u32>>>()?;
    let min_eccentricity = match &a.min_eccentricity {
        Some(t) => tune::parse_list("--min-eccentricity", t)?,
        None => vec![base.min_eccentricity],
    };
    let max_width = match &a.max_width {
        Some(t) => {
            let mut v = Vec::new();
            for part in t.split(',') {
                if part.trim() == "none" {
                    v.push(None);
                } else {
                    v.extend(tune::parse_list("--max-width", part)?.into_iter().map(Some));
                }
            }
            v
        }
        None => vec![base.max_width],
    };
    let clear_border = match &a.clear_border {
        Some(t) => {
            let mut v = Vec::new();
            for part in t.split(',') {
                let t = part.trim();
                if t.eq_ignore_ascii_case("off") || t.eq_ignore_ascii_case("none") {
                    v.push(None);
                } else {
                    v.extend(u32s("--clear-border", part)?.into_iter().map(Some));
                }
            }
            v
        }
        None => vec![base.clear_border],
    };
    let smooth = u32s("--smooth", &smooth_text)?;
    let open = u32s("--open", &open_text)?;
    let min_distance = u32s("--min-distance", &min_distance_text)?;
    let min_area = ints("--min-area", &min_area_text)?;
    // one search per --background radius, each with its own levels
    let mut searches = Vec::new();
    for &bg in &backgrounds {
        let b = Params {
            background: bg,
            ..base.clone()
        };
        let (levels, cores) = levels_for(&b)?;
        let grid = Grid {
            min_eccentricity: min_eccentricity.clone(),
            max_width: max_width.clone(),
            clear_border: clear_border.clone(),
            smooth: smooth.clone(),
            levels,
            cores,
            floods: floods.clone(),
            open: open.clone(),
            markers: markers.clone(),
            min_distance: min_distance.clone(),
            h_half: h_half.clone(),
            min_area: min_area.clone(),
        };
        searches.push((b, grid));
    }
    let gt = floodseg::eval::read_label_frames(&a.gt)?;
    let mut warn = Warner::new(a.strict);
    for (t, g) in gt.iter().enumerate() {
        if g.labels.iter().all(|&l| l == 0) {
            warn.say(checks::Warning::new(
                checks::Check::EmptyGroundTruth,
                Some(t),
                format!(
                    "ground-truth frame {t} of {} holds no object: every object found there \
                     counts as a false positive",
                    a.gt.display()
                ),
            ))?;
        }
    }
    let segmenter = Segmenter::new(backend_of_arg(a.backend))?;
    if segmenter.is_software() {
        warn.say(checks::software_adapter(segmenter.description()))?;
    }
    let total: usize = searches.iter().map(|(b, g)| g.trials(b.dark)).sum();
    if !a.quiet {
        eprintln!(
            "floodseg: backend {}; {total} settings on {} frame{}",
            segmenter.description(),
            frames.len(),
            if frames.len() == 1 { "" } else { "s" }
        );
    }
    let bar = progress_bar(Some(total), a.quiet);
    let t0 = Instant::now();
    let mut trials = Vec::with_capacity(total);
    let mut before = 0u64;
    for (b, grid) in &searches {
        trials.extend(tune::tune(
            &segmenter,
            &frames,
            &gt,
            b,
            grid,
            a.iou,
            |done, _| bar.set_position(before + done as u64),
        )?);
        before += grid.trials(b.dark) as u64;
    }
    bar.finish_and_clear();
    let mut order: Vec<usize> = (0..trials.len()).collect();
    // best F1 first; equal F1: grid order (stable sort)
    order.sort_by(|&x, &y| {
        trials[y]
            .matching
            .f1()
            .partial_cmp(&trials[x].matching.f1())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if !a.quiet {
        eprintln!(
            "floodseg: {} settings in {:.1} s",
            trials.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    if order
        .first()
        .is_some_and(|&i| trials[i].matching.f1() == 0.0)
    {
        let polarity = if base.dark {
            "--bright if the cells are brighter than the background"
        } else {
            "--dark if the cells are darker than the background"
        };
        warn.say(checks::Warning::new(
            checks::Check::ZeroScore,
            None,
            format!(
                "the best of {} settings scores F1 = 0 at IoU {}: no setting finds the \
                 annotated objects; try {polarity}, and check that GT matches INPUT frame for \
                 frame",
                trials.len(),
                a.iou
            ),
        ))?;
    }
    warn.summary(frames.len());
    for (rank, &i) in order.iter().take(a.top.max(1)).enumerate() {
        let t = &trials[i];
        let m = &t.matching;
        if a.json {
            println!(
                "{{\"rank\":{},\"iou\":{},\"f1\":{},\"precision\":{},\"recall\":{},\"tp\":{},\"fp\":{},\"fn\":{},\"args\":\"{}\"}}",
                rank + 1,
                m.iou,
                m.f1(),
                m.precision(),
                m.recall(),
                m.tp,
                m.fp,
                m.fn_,
                t.params.to_args()
            );
        } else {
            println!(
                "{:>2}. F1 {:.4}  precision {:.4}  recall {:.4}  (tp {} fp {} fn {})  {}",
                rank + 1,
                m.f1(),
                m.precision(),
                m.recall(),
                m.tp,
                m.fp,
                m.fn_,
                t.params.to_args()
            );
        }
    }
    Ok(())
}

/// Gray image scaled to 0–255 for display.
fn gray_preview(s: &Stages) -> Vec<u8> {
    let v: Vec<f64> = s.gray.iter().map(|&k| s.scale.value(k)).collect();
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    v.iter()
        .map(|x| (((x - lo) / span) * 255.0).round() as u8)
        .collect()
}

fn save_stages(dir: &Path, s: &Stages) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let (w, h) = (s.dims.width as usize, s.dims.height as usize);
    // a 0/1 image as u8 TIFF + black/white PNG; a distance as u32 TIFF + scaled PNG
    let binary = |name: &str, v: &[u32]| -> Result<()> {
        let u8s: Vec<u8> = v.iter().map(|&x| x as u8).collect();
        io::write_tiff_u8(&dir.join(format!("{name}.tif")), w, h, &u8s)?;
        let png = render::binary_preview(v);
        io::write_png_gray8(&dir.join(format!("{name}.png")), w, h, &png)
    };
    let distance = |name: &str, v: &[u32]| -> Result<()> {
        io::write_tiff_u32(&dir.join(format!("{name}.tif")), w, h, v)?;
        let png = render::scaled_preview(v, true);
        io::write_png_gray8(&dir.join(format!("{name}.png")), w, h, &png)
    };
    if !s.smoothed.is_empty() {
        // gray keys after --smooth (the input's units; RGB: rgb2gray × 255 × 10 000)
        io::write_tiff_u32(&dir.join("smoothed.tif"), w, h, &s.smoothed)?;
    }
    if !s.flattened.is_empty() {
        // keys after --background (what the threshold saw; same units, background flattened)
        io::write_tiff_u32(&dir.join("flattened.tif"), w, h, &s.flattened)?;
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
    io::write_tiff_u32(&dir.join("markers.tif"), w, h, &s.markers)?;
    let png = render::label_preview(&s.markers);
    io::write_png_rgb8(&dir.join("markers.png"), w, h, &png)?;
    io::write_labels_tiff(&dir.join("labels.tif"), w, h, &s.labels)?;
    let png = render::label_preview(&s.labels);
    io::write_png_rgb8(&dir.join("labels.png"), w, h, &png)?;
    Ok(())
}

fn run_synth(a: SynthArgs) -> Result<()> {
    let size = || -> Result<(usize, usize)> {
        let (w, h) = parse_size("--size", &a.size)?;
        if w > floodseg::pipeline::MAX_SIDE || h > floodseg::pipeline::MAX_SIDE {
            return Err(Error::param(
                "--size",
                format!("at most {} pixels per side", floodseg::pipeline::MAX_SIDE),
            ));
        }
        Ok((w, h))
    };
    if a.gt.is_some() && !matches!(a.kind, SynthKind::Rods) {
        return Err(Error::param("--gt", "only `rods` comes with ground truth"));
    }
    // the extension decides the format; nothing is written over the other output
    let ext = a
        .output
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !matches!(ext.as_str(), "png" | "tif" | "tiff") {
        return Err(Error::param(
            "--output",
            format!(
                "the image is written as PNG or TIFF: name a .png or .tif file{}",
                if ext.is_empty() {
                    String::new()
                } else {
                    format!(", not a .{ext} file")
                }
            ),
        ));
    }
    if let Some(gt) = &a.gt {
        if !matches!(
            gt.extension()
                .and_then(|e| e.to_str())
                .map(|e| e.to_ascii_lowercase())
                .as_deref(),
            Some("tif" | "tiff")
        ) {
            return Err(Error::param(
                "--gt",
                "ground truth is a label TIFF: name a .tif file",
            ));
        }
        if outputs::normalize(gt) == outputs::normalize(&a.output) {
            return Err(Error::param(
                "--gt",
                format!("{} is also the image (-o): name another file", gt.display()),
            ));
        }
    }
    let img = match a.kind {
        SynthKind::LectureDisks => synth::lecture_disks(),
        SynthKind::LectureNoisy => synth::lecture_noisy(a.seed),
        SynthKind::Colony => {
            let (w, h) = size()?;
            synth::colony(w, h, a.seed)
        }
        SynthKind::Rods => {
            let (w, h) = size()?;
            let (img, gt) = synth::rods(w, h, a.seed, &synth::RodsOptions::default());
            if let Some(path) = &a.gt {
                io::write_labels_tiff(path, w, h, &gt)?;
            }
            img
        }
    };
    let data = match &img.samples {
        floodseg::Samples::U8(d) => d.clone(),
        _ => unreachable!("synthetic images are 8-bit"),
    };
    match ext.as_str() {
        "tif" | "tiff" => io::write_tiff_u8(&a.output, img.width, img.height, &data)?,
        _ => io::write_png_gray8(&a.output, img.width, img.height, &data)?,
    }
    eprintln!(
        "floodseg: wrote {} ({}×{} u8)",
        a.output.display(),
        img.width,
        img.height
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--preset`'s help spells out each preset exactly as `Params::to_args` does.
    #[test]
    fn preset_help_names_the_presets_values() {
        use clap::CommandFactory;
        let cmd = Cli::command();
        for sub in ["segment", "bench"] {
            let help = cmd
                .find_subcommand(sub)
                .and_then(|c| c.get_arguments().find(|a| a.get_id() == "preset"))
                .and_then(|a| a.get_help())
                .map(|h| h.to_string())
                .expect("--preset has help");
            let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
            for preset in [Preset::Lecture, Preset::Rods] {
                let args = preset.params().to_args();
                assert!(
                    help.contains(&args),
                    "{sub} --preset help lacks {args:?}: {help}"
                );
            }
        }
    }
}
