//! `floodseg eval`: predicted labels against ground truth with StarDist's matching
//! ([`floodseg::eval`]; frames paired by name or `--frames`).

use std::path::PathBuf;

use floodseg::{checks, Error, Result};

use crate::report::Warner;

#[derive(clap::Args)]
pub(crate) struct EvalArgs {
    /// Ground-truth labels: a label TIFF (every page a frame), a 8/16-bit PNG, or a folder.
    #[arg(long, value_name = "GT")]
    pub(crate) gt: PathBuf,
    /// Predicted labels, frame for frame like GT (e.g. `floodseg segment`'s output). Two
    /// folders are paired by file name: same stem, else the same frame number (the last digits
    /// of the name); PRED files without GT are not scored.
    #[arg(long, value_name = "PRED")]
    pub(crate) pred: PathBuf,
    /// IoU thresholds, comma-separated, each in (0, 1].
    #[arg(long, value_name = "T,T,…", default_value = "0.5,0.75,0.9")]
    pub(crate) iou: String,
    /// The time-lapse frames to score (`0,10`, ranges `0:30:10`): a side holding as many
    /// frames is taken in order, a side holding more by index (stack page, or position in a
    /// folder), a folder whose names carry frame numbers by those numbers.
    #[arg(long, value_name = "LIST")]
    pub(crate) frames: Option<String>,
    /// Also print every frame's scores (with --json: one object per frame per threshold, with
    /// `frame` and `name`, after the summary objects).
    #[arg(long)]
    pub(crate) per_frame: bool,
    /// One JSON object per threshold, one per line.
    #[arg(long)]
    pub(crate) json: bool,
    /// Make every warning an error (exit 7): an empty ground-truth frame.
    #[arg(long)]
    pub(crate) strict: bool,
}

pub(crate) fn run(a: EvalArgs) -> Result<()> {
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
