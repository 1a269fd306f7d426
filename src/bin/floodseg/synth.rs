//! `floodseg synth`: the synthetic test images ([`floodseg::synth`]).

use std::path::PathBuf;

use clap::ValueEnum;
use floodseg::{io, outputs, synth, Error, Result};

use crate::args::parse_size;

#[derive(clap::Args)]
pub(crate) struct SynthArgs {
    /// Which image.
    #[arg(value_enum)]
    pub(crate) kind: SynthKind,
    /// Seed of the noise.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Size of a colony, of `rods` or of a `timelapse` [default: 1024x1024; 256x256 for
    /// `timelapse`].
    #[arg(long, value_name = "WxH", conflicts_with_all = ["width", "height"])]
    pub(crate) size: Option<String>,
    /// Width of a `timelapse` (instead of `--size`).
    #[arg(long, value_name = "PX")]
    pub(crate) width: Option<usize>,
    /// Height of a `timelapse` (instead of `--size`).
    #[arg(long, value_name = "PX")]
    pub(crate) height: Option<usize>,
    /// Output file (.png or .tif; a multi-page .tif for `timelapse`).
    #[arg(short, long)]
    pub(crate) output: PathBuf,
    /// Ground truth: the label TIFF of `rods`; the folder of a `timelapse` (Cell Tracking
    /// Challenge layout: TRA/man_track.txt, TRA/man_trackTTT.tif, SEG/man_segTTT.tif, and
    /// cells.csv), required for `timelapse`.
    #[arg(long, value_name = "LABELS.tif|DIR")]
    pub(crate) gt: Option<PathBuf>,
    /// `timelapse`: number of frames [default: 60].
    #[arg(long, value_name = "N")]
    pub(crate) frames: Option<usize>,
    /// `timelapse`: founder cells per field of view [default: 12].
    #[arg(long, value_name = "N")]
    pub(crate) cells: Option<usize>,
    /// `timelapse`: stage drift in pixels per frame, in a slowly turning direction [default:
    /// 0].
    #[arg(long, value_name = "PX_PER_FRAME")]
    pub(crate) drift: Option<f64>,
    /// `timelapse`: this many frames (chosen by the seed, never frame 0) out of focus.
    #[arg(long, value_name = "K", conflicts_with = "blur_frames")]
    pub(crate) out_of_focus: Option<usize>,
    /// `timelapse`: these frames (0-based) out of focus, e.g. 5,17.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub(crate) blur_frames: Option<Vec<usize>>,
    /// `timelapse`: Gaussian noise σ in gray levels [default: 6].
    #[arg(long, value_name = "SIGMA")]
    pub(crate) noise: Option<f64>,
    /// `timelapse`: mean doubling time in frames (each cell's within ±20 %) [default: 25].
    #[arg(long, value_name = "FRAMES")]
    pub(crate) doubling: Option<f64>,
    /// `timelapse`: put every simulated division in the truth, also one whose second
    /// daughter is never in the field (by default the one daughter seen goes on in her
    /// mother's track, as the images show it).
    #[arg(long)]
    pub(crate) hidden_divisions: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum SynthKind {
    /// The lecture's 100×100 canvas with three dark disks.
    LectureDisks,
    /// The same with 10 % salt noise.
    LectureNoisy,
    /// Bright touching rods on a dark noisy background, any `--size`.
    Colony,
    /// Dark rods on a brighter, unevenly lit, noisy background with touching pairs and
    /// debris, any `--size`, with ground truth (`--gt`).
    Rods,
    /// A time-lapse of such rods growing and dividing on a pad (a multi-page TIFF), with its
    /// lineage and growth rates as Cell Tracking Challenge ground truth (`--gt DIR`).
    Timelapse,
}

pub(crate) fn run(a: SynthArgs) -> Result<()> {
    if matches!(a.kind, SynthKind::Timelapse) {
        return timelapse(a);
    }
    let only_timelapse = [
        ("--width", a.width.is_some()),
        ("--height", a.height.is_some()),
        ("--frames", a.frames.is_some()),
        ("--cells", a.cells.is_some()),
        ("--drift", a.drift.is_some()),
        ("--out-of-focus", a.out_of_focus.is_some()),
        ("--blur-frames", a.blur_frames.is_some()),
        ("--noise", a.noise.is_some()),
        ("--doubling", a.doubling.is_some()),
        ("--hidden-divisions", a.hidden_divisions),
    ];
    if let Some((flag, _)) = only_timelapse.iter().find(|(_, given)| *given) {
        return Err(Error::param(flag, "only `timelapse` takes it"));
    }
    let size = || -> Result<(usize, usize)> {
        let (w, h) = parse_size("--size", a.size.as_deref().unwrap_or("1024x1024"))?;
        if w > floodseg::params::MAX_SIDE || h > floodseg::params::MAX_SIDE {
            return Err(Error::param(
                "--size",
                format!("at most {} pixels per side", floodseg::params::MAX_SIDE),
            ));
        }
        Ok((w, h))
    };
    if a.gt.is_some() && !matches!(a.kind, SynthKind::Rods) {
        return Err(Error::param(
            "--gt",
            "only `rods` and `timelapse` come with ground truth",
        ));
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
        SynthKind::Timelapse => unreachable!("handled above"),
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

/// `synth timelapse`: the options from the flags, the outputs checked, the movie written.
fn timelapse(a: SynthArgs) -> Result<()> {
    use synth::timelapse::{self, TimelapseOptions};
    let d = TimelapseOptions::default();
    let (width, height) = match (&a.size, a.width, a.height) {
        (Some(s), _, _) => parse_size("--size", s)?,
        (None, w, h) => (w.unwrap_or(d.width), h.unwrap_or(d.height)),
    };
    for (flag, v) in [("--width", width), ("--height", height)] {
        if v == 0 || v > floodseg::params::MAX_SIDE {
            return Err(Error::param(
                flag,
                format!("1 to {} pixels per side", floodseg::params::MAX_SIDE),
            ));
        }
    }
    let Some(gt) = a.gt.clone() else {
        return Err(Error::param(
            "--gt",
            "`timelapse` writes its ground truth to a folder: name one with --gt DIR",
        ));
    };
    let ext = a
        .output
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !matches!(ext.as_str(), "tif" | "tiff") {
        return Err(Error::param(
            "--output",
            "a time-lapse is written as one multi-page TIFF: name a .tif file",
        ));
    }
    let frames = a.frames.unwrap_or(d.frames);
    let seed = a.seed;
    let out_of_focus = match (&a.blur_frames, a.out_of_focus) {
        (Some(list), _) => list.clone(),
        (None, Some(k)) => timelapse::pick_frames(frames, k, seed)
            .map_err(|e| rename(e, "out_of_focus", "--out-of-focus"))?,
        (None, None) => Vec::new(),
    };
    let opts = TimelapseOptions {
        frames,
        width,
        height,
        seed,
        cells: a.cells.unwrap_or(d.cells),
        drift: a.drift.unwrap_or(d.drift),
        out_of_focus,
        noise: a.noise.unwrap_or(d.noise),
        doubling: a.doubling.unwrap_or(d.doubling),
        hidden_divisions: a.hidden_divisions,
        ..d
    };
    opts.check().map_err(|e| {
        [
            ("frames", "--frames"),
            ("drift", "--drift"),
            ("out_of_focus", "--blur-frames"),
            ("noise", "--noise"),
            ("doubling", "--doubling"),
        ]
        .iter()
        .fold(e, |e, (field, flag)| rename(e, field, flag))
    })?;
    timelapse::check_outputs(&a.output, &gt, frames)?;
    let s = timelapse::write(&opts, &a.output, &gt)?;
    eprintln!(
        "floodseg: wrote {} ({} frames, {width}×{height} u8) and its ground truth in {}: {} \
         tracks, {} divisions, {} cells in the last frame",
        a.output.display(),
        s.frames,
        gt.display(),
        s.tracks,
        s.divisions,
        s.cells_last
    );
    Ok(())
}

/// A library option's error under the flag that set it.
fn rename(e: Error, field: &str, flag: &'static str) -> Error {
    match e {
        Error::Parameter { name, reason } if name == field => Error::param(flag, reason),
        other => other,
    }
}
