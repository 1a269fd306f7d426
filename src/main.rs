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
use floodseg::io::{FrameSource, LabelType, StackFormat, StackWriter, TextStream};
use floodseg::pipeline::{Backend, Params, Segmenter, Stages};
use floodseg::{bench, io, measure, render, stream, synth, Error, RawImage, Result};
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
    /// Write a synthetic test image (the lecture's canvas, or a colony of rods of any size).
    Synth(SynthArgs),
}

/// The pipeline's parameters (shared by `segment` and `bench`).
#[derive(clap::Args)]
struct PipelineArgs {
    /// Threshold in the input's own units (0–255 for 8-bit, counts for 16-bit, rgb2gray×255
    /// for 8-bit RGB), or `otsu`.
    #[arg(
        long,
        default_value = "otsu",
        value_name = "T|otsu",
        allow_hyphen_values = true
    )]
    threshold: String,
    /// Objects are darker than the threshold (value < T); default: brighter (value > T).
    #[arg(long)]
    dark: bool,
    /// Opening: K erosions then K dilations (0: none).
    #[arg(
        long = "open",
        default_value_t = 0,
        value_name = "K",
        allow_hyphen_values = true
    )]
    open: u32,
    /// Structuring element of the opening.
    #[arg(long, value_enum, default_value_t = StructureArg::Cross)]
    structure: StructureArg,
    /// `min_distance` of peak_local_max: border exclusion and peak spacing, in pixels.
    #[arg(
        long,
        default_value_t = 10,
        value_name = "M",
        allow_hyphen_values = true
    )]
    min_distance: u32,
    /// Footprint: an S×S box placed as scipy.ndimage places it (even S allowed);
    /// default (2M+1)×(2M+1).
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    footprint: Option<u32>,
    /// Distance transform: `exact` (separable) or a jump-flooding variant.
    #[arg(long, value_enum, default_value_t = DistanceArg::Exact)]
    distance: DistanceArg,
    /// Backend: `cpu`, `gpu`, or `auto` (a hardware GPU if present, else the CPU).
    #[arg(long, value_enum, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    /// Frames segmented at once (CPU: default one per core; GPU: default 2, double buffering).
    /// Outputs do not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Channel of a multichannel ImageJ hyperstack to segment (0-based).
    #[arg(long, value_name = "C")]
    channel: Option<usize>,
}

#[derive(clap::Args)]
struct SegmentArgs {
    /// Input: PNG or TIFF image (8/16-bit gray, RGB(A), 32-bit float gray), a multi-page or
    /// ImageJ TIFF stack (every page / every frame), a folder of frames (natural name order),
    /// or a quoted glob such as 'frames/img_*.tif'.
    input: PathBuf,
    /// Output labels: `X.tif` writes one TIFF (a multi-page ImageJ stack for several frames);
    /// a folder (existing, or a path without .tif) gets one label TIFF per frame.
    #[arg(short, long, value_name = "LABELS.tif|DIR")]
    output: PathBuf,
    #[command(flatten)]
    pipeline: PipelineArgs,
    /// Write every stage (mask, opened, distance2, peaks, markers, labels) as TIFF + PNG
    /// preview (for several frames: one subfolder per frame).
    #[arg(long, value_name = "DIR")]
    save_stages: Option<PathBuf>,
    /// Write per-object measurements as CSV, one row per object per frame.
    #[arg(long, value_name = "CSV")]
    stats: Option<PathBuf>,
    /// Write the object count of each frame as CSV (frame,objects).
    #[arg(long, value_name = "CSV")]
    counts: Option<PathBuf>,
    /// Write the input with coloured object outlines as PNG (for several frames: a folder
    /// with one PNG per frame).
    #[arg(long, value_name = "PNG|DIR")]
    overlay: Option<PathBuf>,
    /// Print each stage's time on stderr (mean per frame).
    #[arg(short, long)]
    verbose: bool,
    /// No progress bar and no details on stderr (errors are still printed).
    #[arg(short, long)]
    quiet: bool,
    /// Continue an interrupted per-frame run (`-o DIR`): frames whose label file exists are
    /// not segmented again; their labels are read back for --stats/--counts/--overlay.
    #[arg(long)]
    resume: bool,
}

#[derive(clap::Args)]
struct BenchArgs {
    /// Frames to run: an image, stack, folder or glob as for `segment`; default: a synthetic
    /// colony of rods (`synth colony`), a new one per frame.
    input: Option<PathBuf>,
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
}

#[derive(clap::Args)]
struct EvalArgs {
    /// Ground-truth labels: a label TIFF (every page a frame), a 8/16-bit PNG, or a folder.
    #[arg(long, value_name = "GT")]
    gt: PathBuf,
    /// Predicted labels, frame for frame like GT (e.g. `floodseg segment`'s output).
    #[arg(long, value_name = "PRED")]
    pred: PathBuf,
    /// IoU thresholds, comma-separated, each in (0, 1].
    #[arg(long, value_name = "T,T,…", default_value = "0.5,0.75,0.9")]
    iou: String,
    /// One JSON object per threshold, one per line.
    #[arg(long)]
    json: bool,
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
}

#[derive(Clone, Copy, ValueEnum)]
enum SynthKind {
    /// The lecture's 100×100 canvas with three dark disks.
    LectureDisks,
    /// The same with 10 % salt noise.
    LectureNoisy,
    /// Bright touching rods on a dark noisy background, any `--size`.
    Colony,
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

fn params_of(a: &PipelineArgs) -> Result<Params> {
    let p = Params {
        level: parse_level(&a.threshold)?,
        dark: a.dark,
        open: a.open,
        structure: match a.structure {
            StructureArg::Cross => Structure::Cross,
            StructureArg::Square => Structure::Square,
        },
        min_distance: a.min_distance,
        footprint: a.footprint,
        distance: match a.distance {
            DistanceArg::Exact => DistanceMode::Exact,
            DistanceArg::Jfa => DistanceMode::Jfa(JfaVariant::Plain),
            DistanceArg::JfaPlus2 => DistanceMode::Jfa(JfaVariant::Plus2),
            DistanceArg::Jfa2 => DistanceMode::Jfa(JfaVariant::Squared),
        },
    };
    p.validate()?;
    if a.threads == Some(0) {
        return Err(Error::param("--threads", "must be at least 1"));
    }
    Ok(p)
}

fn backend_of(a: &PipelineArgs) -> Backend {
    match a.backend {
        BackendArg::Cpu => Backend::Cpu,
        BackendArg::Gpu => Backend::Gpu,
        BackendArg::Auto => Backend::Auto,
    }
}

/// Where the label images go.
enum LabelsOut {
    /// One single-page TIFF (one frame).
    File(PathBuf),
    /// One multi-page ImageJ stack, created at the first frame (its label type depends on it).
    Stack(PathBuf, Option<StackWriter>),
    /// One TIFF per frame in a folder.
    Folder(PathBuf),
}

fn is_tiff_name(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("tif") || e.eq_ignore_ascii_case("tiff"))
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io {
        path: dir.to_path_buf(),
        source: e,
    })
}

/// Per-frame output names: the input files' stems for a folder or glob (when unique), else
/// `frame_00000`, `frame_00001`, ….
fn frame_namer(source: &FrameSource) -> impl Fn(usize) -> String {
    let stems: Option<Vec<String>> = source.files().map(|files| {
        files
            .iter()
            .map(|f| {
                f.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect()
    });
    let unique = stems.as_ref().is_some_and(|v| {
        let set: std::collections::HashSet<&String> = v.iter().collect();
        set.len() == v.len() && v.iter().all(|s| !s.is_empty())
    });
    let stems = if unique { stems } else { None };
    move |t| match &stems {
        Some(v) if t < v.len() => v[t].clone(),
        _ => format!("frame_{t:05}"),
    }
}

/// The stack's label type: u16 when no frame can hold more than 65535 objects. Kept peaks are
/// at least `s = max(min_distance, 1)` apart (Chebyshev), so each `s × s` block of the frame
/// holds at most one, and a frame at most ⌈W/s⌉·⌈H/s⌉ markers, hence objects.
fn stack_label_type(width: usize, height: usize, min_distance: u32) -> LabelType {
    let s = (min_distance as usize).max(1);
    let bound = width.div_ceil(s) * height.div_ceil(s);
    if bound <= u16::MAX as usize {
        LabelType::U16
    } else {
        LabelType::U32
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
    let params = params_of(&a.pipeline)?;
    let source = FrameSource::open(&a.input, a.pipeline.channel)?;
    let frames = source.len();
    let single = frames == Some(1);
    let image_ext = a
        .output
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .filter(|e| ["png", "jpg", "jpeg", "bmp", "gif", "webp"].contains(&e.as_str()));
    if let (Some(ext), false) = (image_ext, a.output.is_dir()) {
        return Err(Error::param(
            "--output",
            format!("labels are written as TIFF: name a .tif file or a folder, not a .{ext} file"),
        ));
    }
    let folder_out = a.output.is_dir() || !is_tiff_name(&a.output);
    let mut labels_out = if folder_out {
        create_dir(&a.output)?;
        LabelsOut::Folder(a.output.clone())
    } else if single {
        LabelsOut::File(a.output.clone())
    } else {
        LabelsOut::Stack(a.output.clone(), None)
    };
    // For one frame, --overlay and --save-stages name a file and a folder as they always did;
    // for several, folders with one entry per frame.
    let overlay_dir = a
        .overlay
        .as_ref()
        .filter(|p| !single || p.is_dir())
        .cloned();
    if let Some(dir) = &overlay_dir {
        create_dir(dir)?;
    }
    let mut stats = match &a.stats {
        Some(p) => {
            let mut t = TextStream::create(p)?;
            t.write_str(&format!("frame,{}\n", measure::CSV_COLUMNS))?;
            Some(t)
        }
        None => None,
    };
    let mut counts = match &a.counts {
        Some(p) => {
            let mut t = TextStream::create(p)?;
            t.write_str("frame,objects\n")?;
            Some(t)
        }
        None => None,
    };

    if a.resume && !folder_out {
        return Err(Error::param(
            "--resume",
            "needs per-frame outputs (-o DIR); a stack file is only written complete",
        ));
    }
    let segmenter = Segmenter::new(backend_of(&a.pipeline))?;
    let workers = a
        .pipeline
        .threads
        .unwrap_or_else(|| stream::default_workers(&segmenter));
    install_interrupt_handler();
    // -v prints per-stage times: on the GPU they need profiling (timestamps when supported).
    segmenter.set_profiling(a.verbose);
    if !a.quiet {
        eprintln!(
            "floodseg: backend {}, {} worker{}",
            segmenter.description(),
            workers,
            if workers == 1 { "" } else { "s" }
        );
    }
    let name_of = frame_namer(&source);
    let bar = progress_bar(frames, a.quiet);
    let t0 = Instant::now();
    let mut total_objects = 0u64;
    let mut stage_totals: Vec<(&'static str, f64)> = Vec::new();
    let mut shape = None;
    let keep = if a.save_stages.is_some() {
        stream::Keep::All
    } else if a.overlay.is_some() {
        stream::Keep::LabelsAndGray
    } else {
        stream::Keep::Labels
    };
    let resumed = std::sync::atomic::AtomicUsize::new(0);
    let work = |t: usize, img: &RawImage| {
        if a.resume {
            let done = a.output.join(format!("{}.tif", name_of(t)));
            if done.exists() {
                resumed.fetch_add(1, Ordering::Relaxed);
                return stages_from_labels(img, &done);
            }
        }
        segmenter.segment(img, &params)
    };
    let sink = |t: usize, img: RawImage, stages: Stages| {
        let (w, h) = (img.width, img.height);
        shape.get_or_insert((w, h, img.channels, img.samples.type_name()));
        let name = name_of(t);
        match &mut labels_out {
            LabelsOut::File(path) => io::write_labels_tiff(path, w, h, &stages.labels)?,
            LabelsOut::Folder(dir) => {
                let path = dir.join(format!("{name}.tif"));
                // a resumed frame's labels were read from this very file
                if !(a.resume && path.exists()) {
                    io::write_labels_tiff(&path, w, h, &stages.labels)?
                }
            }
            LabelsOut::Stack(path, writer) => {
                if writer.is_none() {
                    let kind = stack_label_type(w, h, params.min_distance);
                    // BigTIFF when the labels, uncompressed, could pass classic TIFF's 4 GiB
                    let bytes = if kind == LabelType::U16 { 2 } else { 4 };
                    let raw = frames.map_or(0, |n| (n * w * h) as u64 * bytes);
                    let format = if raw > (7u64 << 29) {
                        StackFormat::BigTiff
                    } else {
                        StackFormat::Classic
                    };
                    *writer = Some(StackWriter::create_with(path, kind, format)?);
                }
                let writer = writer.as_mut().expect("created above");
                writer.write_frame(w, h, &stages.labels)?;
            }
        }
        if let Some(dir) = &a.save_stages {
            let dir = if single { dir.clone() } else { dir.join(&name) };
            save_stages(&dir, &stages)?;
        }
        if let Some(csv) = &mut stats {
            let mut text = String::new();
            for p in stages.measure() {
                text.push_str(&format!("{t},{}\n", measure::csv_row(&p)));
            }
            csv.write_str(&text)?;
        }
        if let Some(csv) = &mut counts {
            csv.write_str(&format!("{t},{}\n", stages.count()))?;
        }
        if let Some(overlay) = &a.overlay {
            let png = match &overlay_dir {
                Some(dir) => dir.join(format!("{name}.png")),
                None => overlay.clone(),
            };
            let gray8 = gray_preview(&stages);
            io::write_png_rgb8(
                &png,
                w,
                h,
                &render::outline_overlay(w, h, &gray8, &stages.labels),
            )?;
        }
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
        Error::BadData(m) => Error::BadData(format!("{}: {m}", a.input.display())),
        other => other,
    });
    let done = match outcome {
        Ok(done) => done,
        Err(e) => {
            // A device fault (lost device, out of memory) keeps the frames finished before it,
            // in a stack named as partial; after bad input nothing is left behind.
            if let (LabelsOut::Stack(path, Some(writer)), Error::Backend(_)) = (labels_out, &e) {
                let frames_kept = writer.frames();
                let partial = partial_name(path.as_path());
                if frames_kept > 0 && writer.finish_as(&partial).is_ok() {
                    eprintln!(
                        "floodseg: the {frames_kept} frame(s) finished before the error are in {}",
                        partial.display()
                    );
                }
            }
            return Err(e);
        }
    };
    let elapsed = t0.elapsed().as_secs_f64();
    if INTERRUPTED.load(Ordering::Relaxed) && frames != Some(done) {
        // Dropping the unfinished CSV streams removes their temporary files; the frames of an
        // unfinished stack are kept under a name that says it is partial.
        if let LabelsOut::Stack(path, Some(writer)) = labels_out {
            let partial = partial_name(path.as_path());
            writer.finish_as(&partial)?;
            return Err(Error::Interrupted(format!(
                "{}: stopped after {done} frame{}; they are in {} (the stack is not written)",
                a.input.display(),
                if done == 1 { "" } else { "s" },
                partial.display()
            )));
        }
        let kept = match &labels_out {
            LabelsOut::Folder(dir) if done > 0 => format!(
                "the label files of frames 0–{} are complete in {}; rerun with --resume to go on",
                done - 1,
                dir.display()
            ),
            LabelsOut::Folder(_) => "no frame was finished".to_string(),
            _ => "nothing was written (a stack file is only written complete; use -o DIR \
                  and --resume for resumable runs)"
                .to_string(),
        };
        return Err(Error::Interrupted(format!(
            "{}: stopped after {done} frame{}; {kept}",
            a.input.display(),
            if done == 1 { "" } else { "s" }
        )));
    }
    if let LabelsOut::Stack(_, Some(writer)) = labels_out {
        writer.finish()?;
    }
    if let Some(t) = stats {
        t.finish()?;
    }
    if let Some(t) = counts {
        t.finish()?;
    }
    if !a.quiet {
        if let Some((w, h, c, ty)) = shape {
            eprintln!(
                "floodseg: {}: {done} frame{} of {w}×{h} {c}×{ty}, {:.1} ms ({:.2} frames/s, {:.1} MP/s)",
                a.input.display(),
                if done == 1 { "" } else { "s" },
                elapsed * 1e3,
                done as f64 / elapsed,
                (w * h * done) as f64 / elapsed / 1e6,
            );
        }
    }
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

/// `labels.tif` → `labels.partial.tif`: where an interrupted or failed run keeps the frames of
/// a stack it finished (never under the name of the complete stack).
fn partial_name(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "labels".into(), |s| s.to_string_lossy().into_owned());
    let ext = path
        .extension()
        .map_or_else(|| "tif".into(), |e| e.to_string_lossy().into_owned());
    path.with_file_name(format!("{stem}.partial.{ext}"))
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

/// A frame's stages from the labels an earlier run wrote (`--resume`): the labels, the gray
/// keys and the measure sums, exactly what segmenting it again would give the outputs.
fn stages_from_labels(img: &RawImage, path: &Path) -> Result<Stages> {
    let (gp, samples, scale) = floodseg::pipeline::gray_input(img)?;
    let (w, h, labels) = io::read_labels_tiff(path)?;
    if (w, h) != (img.width, img.height) {
        return Err(Error::BadData(format!(
            "{}: {w}×{h} labels for a {}×{} frame (not from this input?)",
            path.display(),
            img.width,
            img.height
        )));
    }
    let dims = gp.dims;
    let mut gray = vec![0u32; dims.len()];
    floodseg::cpu::gray::gray(&gp, &samples, &mut gray);
    let n = labels.iter().copied().max().unwrap_or(0);
    let float_keys = scale == floodseg::cpu::threshold::GrayScale::Float;
    let sums = floodseg::cpu::measure::measure_sums(dims, &labels, &gray, float_keys, n);
    Ok(Stages {
        dims,
        scale,
        gray,
        mask: Vec::new(),
        opened: Vec::new(),
        distance2: Vec::new(),
        peaks: Vec::new(),
        markers: Vec::new(),
        n_markers: n,
        labels,
        sums,
        timings: Vec::new(),
        timing_source: "wall-clock",
    })
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

fn run_bench(a: BenchArgs) -> Result<()> {
    let params = params_of(&a.pipeline)?;
    let segmenter = Segmenter::new(backend_of(&a.pipeline))?;
    segmenter.set_profiling(true);
    let workers = a
        .pipeline
        .threads
        .unwrap_or_else(|| stream::default_workers(&segmenter));
    let frames: Box<dyn Iterator<Item = Result<RawImage>> + Send> = match &a.input {
        None => {
            let (w, h) = parse_size("--size", &a.size)?;
            let n = a.frames.unwrap_or(20);
            Box::new((0..n).map(move |t| Ok(synth::colony(w, h, t as u64 + 1))))
        }
        Some(input) => {
            let source = FrameSource::open(input, a.pipeline.channel)?;
            if source.len() == Some(1) && a.frames.is_some_and(|n| n > 1) {
                let img = io::read_image(input)?;
                let n = a.frames.unwrap_or(1);
                Box::new((0..n).map(move |_| Ok(img.clone())))
            } else {
                match a.frames {
                    Some(n) => Box::new(source.take(n)),
                    None => Box::new(source),
                }
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
    let gt = floodseg::eval::read_label_frames(&a.gt)?;
    let pred = floodseg::eval::read_label_frames(&a.pred)?;
    let results = floodseg::eval::evaluate(&gt, &pred, &thresholds)?;
    if a.json {
        for m in &results {
            println!("{}", m.to_json());
        }
    } else {
        println!(
            "{} frame{}, {} ground-truth and {} predicted objects",
            gt.len(),
            if gt.len() == 1 { "" } else { "s" },
            results[0].n_true,
            results[0].n_pred
        );
        println!("  iou     tp     fp     fn  precision  recall     f1  mean_iou     pq");
        for m in &results {
            println!(
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
    let u8s = |v: &[u32]| v.iter().map(|&x| x as u8).collect::<Vec<u8>>();
    io::write_tiff_u8(&dir.join("mask.tif"), w, h, &u8s(&s.mask))?;
    io::write_png_gray8(
        &dir.join("mask.png"),
        w,
        h,
        &render::binary_preview(&s.mask),
    )?;
    io::write_tiff_u8(&dir.join("opened.tif"), w, h, &u8s(&s.opened))?;
    io::write_png_gray8(
        &dir.join("opened.png"),
        w,
        h,
        &render::binary_preview(&s.opened),
    )?;
    io::write_tiff_u32(&dir.join("distance2.tif"), w, h, &s.distance2)?;
    io::write_png_gray8(
        &dir.join("distance2.png"),
        w,
        h,
        &render::scaled_preview(&s.distance2, true),
    )?;
    io::write_tiff_u8(&dir.join("peaks.tif"), w, h, &u8s(&s.peaks))?;
    io::write_png_gray8(
        &dir.join("peaks.png"),
        w,
        h,
        &render::binary_preview(&s.peaks),
    )?;
    io::write_tiff_u32(&dir.join("markers.tif"), w, h, &s.markers)?;
    io::write_png_rgb8(
        &dir.join("markers.png"),
        w,
        h,
        &render::label_preview(&s.markers),
    )?;
    io::write_labels_tiff(&dir.join("labels.tif"), w, h, &s.labels)?;
    io::write_png_rgb8(
        &dir.join("labels.png"),
        w,
        h,
        &render::label_preview(&s.labels),
    )?;
    Ok(())
}

fn run_synth(a: SynthArgs) -> Result<()> {
    let img = match a.kind {
        SynthKind::LectureDisks => synth::lecture_disks(),
        SynthKind::LectureNoisy => synth::lecture_noisy(a.seed),
        SynthKind::Colony => {
            let (w, h) = parse_size("--size", &a.size)?;
            if w > floodseg::pipeline::MAX_SIDE || h > floodseg::pipeline::MAX_SIDE {
                return Err(Error::param(
                    "--size",
                    format!("at most {} pixels per side", floodseg::pipeline::MAX_SIDE),
                ));
            }
            synth::colony(w, h, a.seed)
        }
    };
    let data = match &img.samples {
        floodseg::Samples::U8(d) => d.clone(),
        _ => unreachable!("synthetic images are 8-bit"),
    };
    let ext = a
        .output
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
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

    #[test]
    fn stack_label_type_follows_the_peak_spacing_bound() {
        // 1024² at min_distance 5: at most 205² = 42 025 objects
        assert!(stack_label_type(1024, 1024, 5) == LabelType::U16);
        // min_distance 0 or 1: every pixel may be a peak
        assert!(stack_label_type(256, 256, 1) == LabelType::U32);
        assert!(stack_label_type(255, 257, 0) == LabelType::U16);
        assert!(stack_label_type(4096, 4096, 17) == LabelType::U16); // 241² = 58 081
        assert!(stack_label_type(4096, 4096, 16) == LabelType::U32); // 256² = 65 536
        assert!(stack_label_type(4096, 4096, 10) == LabelType::U32);
    }
}
