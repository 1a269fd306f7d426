//! `floodseg` command line: a thin clap layer over the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use floodseg::cpu::distance::{DistanceMode, JfaVariant};
use floodseg::cpu::opening::Structure;
use floodseg::cpu::threshold::parse_level;
use floodseg::pipeline::{Backend, Params, Segmenter, Stages};
use floodseg::{io, measure, render, synth, Error, Result};

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
    /// Segment one image into an instance label TIFF and print the object count.
    Segment(SegmentArgs),
    /// Write a synthetic test image (the lecture's canvas).
    Synth(SynthArgs),
}

#[derive(clap::Args)]
struct SegmentArgs {
    /// Input image: PNG or TIFF; 8/16-bit gray, RGB(A), or 32-bit float gray.
    input: PathBuf,
    /// Output label TIFF (u16 when the labels fit, else u32).
    #[arg(short, long, value_name = "LABELS.tif")]
    output: PathBuf,
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
    /// Write every stage (mask, opened, distance2, peaks, markers, labels) as TIFF + PNG preview.
    #[arg(long, value_name = "DIR")]
    save_stages: Option<PathBuf>,
    /// Write per-object measurements as CSV.
    #[arg(long, value_name = "CSV")]
    stats: Option<PathBuf>,
    /// Write the input with coloured object outlines as PNG.
    #[arg(long, value_name = "PNG")]
    overlay: Option<PathBuf>,
    /// Print each stage's time on stderr (on the GPU: the whole pipeline's).
    #[arg(short, long)]
    verbose: bool,
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
    /// Output file (.png or .tif).
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum SynthKind {
    LectureDisks,
    LectureNoisy,
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

fn params_of(a: &SegmentArgs) -> Result<Params> {
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
    Ok(p)
}

fn run_segment(a: SegmentArgs) -> Result<()> {
    let params = params_of(&a)?;
    let backend = match a.backend {
        BackendArg::Cpu => Backend::Cpu,
        BackendArg::Gpu => Backend::Gpu,
        BackendArg::Auto => Backend::Auto,
    };
    let img = io::read_image(&a.input)?;
    let segmenter = Segmenter::new(backend)?;
    eprintln!("floodseg: backend {}", segmenter.description());
    let t0 = Instant::now();
    // Errors about the pixel data name the input file.
    let stages = segmenter.segment(&img, &params).map_err(|e| match e {
        Error::BadData(m) => Error::BadData(format!("{}: {m}", a.input.display())),
        other => other,
    })?;
    let elapsed = t0.elapsed();
    let (w, h) = (img.width, img.height);

    io::write_labels_tiff(&a.output, w, h, &stages.labels)?;
    if let Some(dir) = &a.save_stages {
        save_stages(dir, &stages)?;
    }
    if let Some(csv) = &a.stats {
        write_stats(csv, &stages)?;
    }
    if let Some(png) = &a.overlay {
        let gray8 = gray_preview(&stages);
        io::write_png_rgb8(
            png,
            w,
            h,
            &render::outline_overlay(w, h, &gray8, &stages.labels),
        )?;
    }
    eprintln!(
        "floodseg: {}: {}×{} {}×{}, {:.1} ms",
        a.input.display(),
        w,
        h,
        img.channels,
        img.samples.type_name(),
        elapsed.as_secs_f64() * 1e3
    );
    if a.verbose {
        for (name, t) in &stages.timings {
            eprintln!("floodseg:   {name:<10} {:>9.3} ms", t.as_secs_f64() * 1e3);
        }
    }
    println!("{} objects", stages.count());
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

fn write_stats(path: &Path, s: &Stages) -> Result<()> {
    let mut text = format!("frame,{}\n", measure::CSV_COLUMNS);
    for p in s.measure() {
        text.push_str("0,");
        text.push_str(&measure::csv_row(&p));
        text.push('\n');
    }
    io::write_text(path, &text)
}

fn run_synth(a: SynthArgs) -> Result<()> {
    let img = match a.kind {
        SynthKind::LectureDisks => synth::lecture_disks(),
        SynthKind::LectureNoisy => synth::lecture_noisy(a.seed),
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
