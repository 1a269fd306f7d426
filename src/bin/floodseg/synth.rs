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
    /// Size of a colony.
    #[arg(long, value_name = "WxH", default_value = "1024x1024")]
    pub(crate) size: String,
    /// Output file (.png or .tif).
    #[arg(short, long)]
    pub(crate) output: PathBuf,
    /// Ground-truth labels of `rods` (a label TIFF).
    #[arg(long, value_name = "LABELS.tif")]
    pub(crate) gt: Option<PathBuf>,
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
}

pub(crate) fn run(a: SynthArgs) -> Result<()> {
    let size = || -> Result<(usize, usize)> {
        let (w, h) = parse_size("--size", &a.size)?;
        if w > floodseg::params::MAX_SIDE || h > floodseg::params::MAX_SIDE {
            return Err(Error::param(
                "--size",
                format!("at most {} pixels per side", floodseg::params::MAX_SIDE),
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
