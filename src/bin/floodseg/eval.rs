//! `floodseg eval`: predicted labels against ground truth with StarDist's matching
//! ([`floodseg::eval`]; frames paired by name or `--frames`), or with `--ctc-gt/--ctc-res` a
//! Cell Tracking Challenge result folder against its ground truth ([`floodseg::ctc::metrics`]).

use std::path::PathBuf;

use floodseg::{checks, Error, Result};

use crate::report::Warner;

#[derive(clap::Args)]
pub(crate) struct EvalArgs {
    /// Ground-truth labels: a label TIFF (every page a frame), a 8/16-bit PNG, or a folder.
    #[arg(long, value_name = "GT", required_unless_present = "ctc_gt")]
    pub(crate) gt: Option<PathBuf>,
    /// Predicted labels, frame for frame like GT (e.g. `floodseg segment`'s output). Two
    /// folders are paired by file name: same stem, else the same frame number (the last digits
    /// of the name); PRED files without GT are not scored.
    #[arg(long, value_name = "PRED", required_unless_present = "ctc_gt")]
    pub(crate) pred: Option<PathBuf>,
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
    /// One JSON object per threshold, one per line (with --ctc-gt: one object, the measures
    /// by name).
    #[arg(long)]
    pub(crate) json: bool,
    /// Make every warning an error (exit 7): an empty ground-truth frame.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Cell Tracking Challenge ground truth: a folder with `TRA/man_track.txt`,
    /// `TRA/man_trackTTT.tif` and, for any frames, `SEG/man_segTTT.tif`. With --ctc-res, prints
    /// py-ctcmetrics' measures (DET, SEG, TRA, LNK, CT, TF, BC(i), CCA, BIO, OP_*, the AOGM
    /// counts), one per line; an invalid result folder is an error naming the problem.
    #[arg(
        long,
        value_name = "GT",
        requires = "ctc_res",
        conflicts_with_all = ["gt", "pred", "iou", "frames", "per_frame", "strict"]
    )]
    pub(crate) ctc_gt: Option<PathBuf>,
    /// The CTC result folder scored against --ctc-gt: `res_track.txt` and `maskTTT.tif`, one
    /// mask per ground-truth frame (what `floodseg track` writes).
    #[arg(long, value_name = "RES", requires = "ctc_gt")]
    pub(crate) ctc_res: Option<PathBuf>,
}

pub(crate) fn run(a: EvalArgs) -> Result<()> {
    if let (Some(gt), Some(res)) = (&a.ctc_gt, &a.ctc_res) {
        let scores = floodseg::ctc::evaluate_folders(gt, res)?;
        if a.json {
            print!("{}", scores.to_json());
        } else {
            print!("{}", scores.to_text());
        }
        return Ok(());
    }
    // (clap requires both unless --ctc-gt is given)
    let (Some(gt), Some(pred)) = (&a.gt, &a.pred) else {
        return Err(Error::param("--gt", "--gt and --pred are both needed"));
    };
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
    let ev = floodseg::eval::evaluate_paths(gt, pred, frames.as_deref(), &thresholds)?;
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
