//! Checks that catch silent wrong answers: a run that "succeeds" with no object, with the
//! background taken for cells, with a threshold in the wrong units, with every marker dropped
//! by the border exclusion, or on an input that is already a label image.
//!
//! Every check reads only what both backends report identically (the [`Stages`]' object and
//! marker counts and [`ThresholdReport`], the frame's own samples), so a warning never depends
//! on the backend. The library returns warnings as data; the CLI prints them on stderr (exit 0)
//! or, with `--strict`, stops with [`crate::Error::Strict`].
//!
//! A run calls [`before_run`] on its first frame, [`frame`] on every frame, collects them in a
//! [`Tally`] (which says each kind once, naming the frames), and [`ThresholdSummary`] says what
//! the threshold did (the Otsu level of every frame, the mask's share of the frame).

use std::collections::BTreeMap;
use std::fmt;

use crate::cpu::threshold::{GrayScale, Level};
use crate::image::{RawImage, Samples};
use crate::params::{Markers, Params};
use crate::stages::{Stages, ThresholdReport};

/// Above this share of the frame, the mask the markers are found in (the threshold's, or the
/// core's with `--core`) is more likely the background than cells: measured on the bundled
/// fields, true cell coverage is 0.4–53 % and the cores of the calibrated `--core` settings
/// 6–34 %, while the wrong polarity gives 47–91 % (`--preset rods` on the lecture's frames:
/// 48.7 %). A dense field may legitimately pass it; the warning says so.
pub const LARGE_MASK_SHARE: f64 = 0.40;

/// What a warning is about (for grouping, and for callers that act on some kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    /// A frame has no object.
    NoObjects,
    /// The mask the markers are found in covers more than [`LARGE_MASK_SHARE`] of the frame.
    LargeMask,
    /// A fixed threshold (or `--core` level) selects no pixel or every pixel: it lies outside
    /// the frame's values, often because it is in other units.
    ThresholdRange,
    /// The mask has pixels, yet no marker was kept.
    NoMarkers,
    /// The border exclusion covers the whole frame.
    BorderExclusion,
    /// The input looks like a label image or a binary mask, not a micrograph.
    LabelImage,
    /// A ground-truth frame holds no object (scores on it are 0 or undefined).
    EmptyGroundTruth,
    /// `tune`'s best setting scores F1 = 0.
    ZeroScore,
    /// The GPU backend runs on a software rasterizer.
    SoftwareAdapter,
}

impl Check {
    /// A short name for messages (`no-objects`, `large-mask`, …).
    pub fn name(self) -> &'static str {
        match self {
            Check::NoObjects => "no-objects",
            Check::LargeMask => "large-mask",
            Check::ThresholdRange => "threshold-range",
            Check::NoMarkers => "no-markers",
            Check::BorderExclusion => "border-exclusion",
            Check::LabelImage => "label-image",
            Check::EmptyGroundTruth => "empty-ground-truth",
            Check::ZeroScore => "zero-score",
            Check::SoftwareAdapter => "software-adapter",
        }
    }
}

/// One warning: what, on which frame (when it is about one), and a message that says what was
/// seen and what to try.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    pub check: Check,
    pub frame: Option<usize>,
    pub message: String,
}

impl Warning {
    pub fn new(check: Check, frame: Option<usize>, message: impl Into<String>) -> Warning {
        Warning {
            check,
            frame,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The units a threshold is given in for `img` (for messages).
pub fn units(img: &RawImage) -> &'static str {
    match (&img.samples, img.channels >= 3) {
        (Samples::U8(_), false) => "8-bit values 0–255",
        (Samples::U16(_), false) => "16-bit counts 0–65535",
        (Samples::U8(_), true) => "rgb2gray × 255",
        (Samples::U16(_), true) => "rgb2gray × 65535",
        (Samples::F32(_), _) => "the float values themselves",
    }
}

/// A number as people write it: integers without decimals, others with up to 4 significant
/// decimals.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0');
        s.trim_end_matches('.').to_string()
    }
}

/// Checks that need only the parameters and the first frame: a border exclusion that leaves no
/// pixel for a marker, and an input that looks like a label image.
pub fn before_run(params: &Params, first: &RawImage) -> Vec<Warning> {
    let mut out = Vec::new();
    let b = params.border() as usize;
    if border_covers(params, first.width, first.height) {
        let why = if params.exclude_border.is_none() && params.markers == Markers::Peaks {
            format!(" (--exclude-border defaults to --min-distance {b})")
        } else {
            String::new()
        };
        out.push(Warning::new(
            Check::BorderExclusion,
            None,
            format!(
                "markers within {b} px of the edge are dropped{why}, and the frame is only \
                 {}×{} px: no marker can be kept, so no object will be found; use a smaller \
                 --min-distance or --exclude-border 0",
                first.width, first.height
            ),
        ));
    }
    if let Some(what) = label_image_kind(first) {
        out.push(Warning::new(
            Check::LabelImage,
            None,
            format!(
                "the input looks like {what}, not a micrograph: segmenting it thresholds the \
                 label numbers; to score labels use `floodseg eval --gt … --pred …`"
            ),
        ));
    }
    out
}

/// Whether the border exclusion leaves no pixel of a `width × height` frame for a marker.
pub fn border_covers(params: &Params, width: usize, height: usize) -> bool {
    let b = params.border() as usize;
    b > 0 && (2 * b >= width || 2 * b >= height)
}

/// Whether `img` looks like a label image or a binary mask: one integer channel, background 0
/// as its most common value, at least 95 % of horizontally adjacent pixels equal (piecewise
/// constant, no noise), and either two values (a mask) or values dense in `0..=n` (labels).
/// Micrographs have noise, so fewer than half their neighbours are equal.
pub fn label_image_kind(img: &RawImage) -> Option<&'static str> {
    if img.channels != 1 || img.width < 2 || img.pixels() < 64 {
        return None;
    }
    let values: Vec<u32> = match &img.samples {
        Samples::U8(v) => v.iter().map(|&x| x as u32).collect(),
        Samples::U16(v) => v.iter().map(|&x| x as u32).collect(),
        Samples::F32(_) => return None,
    };
    let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
    for &v in &values {
        *counts.entry(v).or_default() += 1;
        if counts.len() > 65_536 {
            return None;
        }
    }
    let zeros = counts.get(&0).copied().unwrap_or(0);
    if zeros == 0 || counts.values().any(|&c| c > zeros) || counts.len() < 2 {
        return None;
    }
    let w = img.width;
    let (mut pairs, mut equal) = (0usize, 0usize);
    for row in values.chunks_exact(w) {
        for p in row.windows(2) {
            pairs += 1;
            equal += (p[0] == p[1]) as usize;
        }
    }
    if (equal as f64) < 0.95 * pairs as f64 {
        return None;
    }
    let distinct = counts.len();
    let max = *counts.keys().next_back().unwrap_or(&0) as usize;
    if distinct == 2 {
        Some("a binary mask (two values)")
    } else if max <= 4 * distinct {
        Some("a label image (values 0, 1, 2, … in flat regions)")
    } else {
        None
    }
}

/// The checks of one segmented frame `t` (`img` its input, `stages` its result with `params`).
/// Frames whose labels were read back (`--resume`) have no threshold report and get only the
/// object count check.
pub fn frame(params: &Params, t: usize, img: &RawImage, stages: &Stages) -> Vec<Warning> {
    let mut out = Vec::new();
    let n = (stages.dims.width as u64) * (stages.dims.height as u64);
    let Some(th) = stages.threshold else {
        if stages.count() == 0 {
            out.push(Warning::new(
                Check::NoObjects,
                Some(t),
                format!("frame {t}: no object"),
            ));
        }
        return out;
    };
    let fixed = matches!(params.level, Level::Fixed(_));
    let range_note = || value_range_note(params, img, th.level);
    // the threshold outside the frame's values
    if fixed && (th.mask_pixels == 0 || th.mask_pixels == n) {
        let what = if th.mask_pixels == 0 {
            "selects no pixel"
        } else {
            "selects every pixel"
        };
        out.push(Warning::new(
            Check::ThresholdRange,
            Some(t),
            format!(
                "frame {t}: --threshold {} {what}{}",
                number(th.level),
                range_note()
            ),
        ));
    }
    if let (Some(0), Some(c)) = (th.core_pixels, params.core) {
        if th.mask_pixels > 0 {
            out.push(Warning::new(
                Check::ThresholdRange,
                Some(t),
                format!(
                    "frame {t}: --core {} selects no pixel of the mask, so no cell gets a \
                     marker{}",
                    number(c.to_f64()),
                    value_range_note(params, img, c.to_f64())
                ),
            ));
        }
    }
    // the marker source covers too much: the background taken for cells?
    let (source, source_pixels) = match th.core_pixels {
        Some(c) => ("core (--core)", c),
        None => ("mask", th.mask_pixels),
    };
    let share = source_pixels as f64 / n.max(1) as f64;
    if share > LARGE_MASK_SHARE && source_pixels < n {
        let polarity = if params.dark {
            "--bright (objects brighter than the background)"
        } else {
            "--dark (objects darker than the background)"
        };
        out.push(Warning::new(
            Check::LargeMask,
            Some(t),
            format!(
                "frame {t}: the {source} covers {:.1} % of the frame (threshold {}{}); cells \
                 rarely cover that much: if the objects found are pieces of background, try \
                 {polarity} or a fixed --threshold (`floodseg tune` calibrates one on an \
                 annotated frame); a dense colony can pass this",
                share * 100.0,
                if th.otsu { "otsu = " } else { "" },
                number(th.level),
            ),
        ));
    }
    // markers (a border covering the frame is said once by `before_run`)
    let (w, h) = (stages.dims.width as usize, stages.dims.height as usize);
    if source_pixels > 0 && stages.n_markers == 0 && !border_covers(params, w, h) {
        let b = params.border();
        let mut causes = Vec::new();
        if b > 0 {
            causes.push(format!(
                "markers within {b} px of the edge are dropped (--exclude-border; for \
                 --markers peaks it defaults to --min-distance): try --exclude-border 0"
            ));
        }
        if params.open > 0 {
            causes.push(format!(
                "the opening (--open {}) removes objects narrower than about {} px",
                params.open,
                2 * params.open + 1
            ));
        }
        out.push(Warning::new(
            Check::NoMarkers,
            Some(t),
            format!(
                "frame {t}: the {source} has {source_pixels} pixels but no marker was kept{}",
                if causes.is_empty() {
                    String::new()
                } else {
                    format!("; {}", causes.join("; "))
                }
            ),
        ));
    }
    if stages.count() == 0 {
        let why = if th.mask_pixels == 0 {
            "the threshold selects no pixel".to_string()
        } else if stages.n_markers == 0 {
            "no marker was found".to_string()
        } else {
            format!(
                "the object filters removed all {} objects (--min-area, --max-area, \
                 --min-eccentricity, --max-width, --clear-border)",
                stages.n_markers
            )
        };
        out.push(Warning::new(
            Check::NoObjects,
            Some(t),
            format!("frame {t}: no object: {why}"),
        ));
    }
    out
}

/// `" (this frame's values range 0.00–1.00, …)"`: the range of the keys the threshold sees,
/// in the input's units, with a hint when `level` looks like it is in other units.
fn value_range_note(params: &Params, img: &RawImage, level: f64) -> String {
    let Ok((keys, scale)) = crate::backend::cpu::threshold_keys(img, params) else {
        return String::new();
    };
    let (Some(&lo), Some(&hi)) = (keys.iter().min(), keys.iter().max()) else {
        return String::new();
    };
    let (lo, hi) = (scale.value(lo), scale.value(hi));
    let flattened = if params.background.is_some() {
        ", after --background"
    } else {
        ""
    };
    let mut note = format!(
        ": this frame's values range {}–{} ({}{flattened})",
        number(lo),
        number(hi),
        units(img)
    );
    match (scale, &img.samples) {
        (GrayScale::Int { full: 65535, .. }, _) if level <= 255.0 && hi > 255.0 => {
            note.push_str(&format!(
                "; an 8-bit level? in this image's units that is about {}",
                number((level * 257.0).round())
            ));
        }
        (GrayScale::Float, _) if hi <= 1.0 && level > 1.0 => {
            note.push_str(&format!(
                "; the threshold is in the image's own values{}",
                if level <= 255.0 {
                    format!(
                        " (an 8-bit level {} is about {})",
                        number(level),
                        number(level / 255.0)
                    )
                } else {
                    String::new()
                }
            ));
        }
        _ => note.push_str("; or try --threshold otsu"),
    }
    note
}

/// A warning for a GPU backend that is a software rasterizer (`description` as the CLI
/// prints it).
pub fn software_adapter(description: &str) -> Warning {
    Warning::new(
        Check::SoftwareAdapter,
        None,
        format!(
            "the GPU adapter is a software rasterizer ({description}): it runs the shaders on \
             the CPU, far slower (about 100×) than --backend cpu; use --backend cpu or auto \
             unless you are testing the GPU path"
        ),
    )
}

/// Warnings of a run, each kind said once: the first occurrence as it happens (so a long run
/// warns early), and at the end the frames each kind hit.
#[derive(Default)]
pub struct Tally {
    seen: BTreeMap<Check, (Warning, Vec<usize>)>,
}

impl Tally {
    pub fn new() -> Tally {
        Tally::default()
    }

    /// Record `w`; returns it when it is the first of its kind (to be said now).
    pub fn add(&mut self, w: Warning) -> Option<Warning> {
        match self.seen.get_mut(&w.check) {
            Some((_, frames)) => {
                frames.extend(w.frame);
                None
            }
            None => {
                let frames = w.frame.into_iter().collect();
                self.seen.insert(w.check, (w.clone(), frames));
                Some(w)
            }
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// The first warning of each kind, in [`Check`] order.
    pub fn warnings(&self) -> impl Iterator<Item = &Warning> {
        self.seen.values().map(|(w, _)| w)
    }

    /// For the kinds that hit more than one frame: `"no-objects in 3 of 31 frames: 0, 5, 9"`.
    pub fn summary(&self, frames: usize) -> Vec<String> {
        self.seen
            .iter()
            .filter(|(_, (_, f))| f.len() > 1)
            .map(|(check, (_, f))| {
                format!(
                    "{} in {} of {frames} frames: {}",
                    check.name(),
                    f.len(),
                    frame_list(f)
                )
            })
            .collect()
    }
}

/// `0, 5, 9` (at most 12 shown, then `…`).
pub fn frame_list(frames: &[usize]) -> String {
    let mut s: Vec<String> = frames.iter().take(12).map(|t| t.to_string()).collect();
    if frames.len() > 12 {
        s.push("…".into());
    }
    s.join(", ")
}

/// What the threshold did over a run: its level (Otsu's per frame) and the mask's share of the
/// frame, for the run's report line.
#[derive(Default)]
pub struct ThresholdSummary {
    levels: Vec<f64>,
    shares: Vec<f64>,
    otsu: bool,
}

impl ThresholdSummary {
    pub fn new() -> ThresholdSummary {
        ThresholdSummary::default()
    }

    /// Add one frame's report (frames read back by `--resume` have none).
    pub fn add(&mut self, report: &ThresholdReport, pixels: u64) {
        self.otsu = report.otsu;
        self.levels.push(report.level);
        self.shares
            .push(report.mask_pixels as f64 / pixels.max(1) as f64);
    }

    /// One frame's line for `-v`: `threshold otsu = 153, mask 12.3 %`.
    pub fn frame_line(report: &ThresholdReport, pixels: u64) -> String {
        format!(
            "threshold {}{}, mask {:.1} % of the frame{}",
            if report.otsu { "otsu = " } else { "" },
            number(report.level),
            report.mask_pixels as f64 / pixels.max(1) as f64 * 100.0,
            report
                .core_pixels
                .map(|c| format!(", core {:.1} %", c as f64 / pixels.max(1) as f64 * 100.0))
                .unwrap_or_default()
        )
    }

    /// The run's line: `threshold otsu = 150–158 over 31 frames (median 153) in 8-bit values
    /// 0–255, mask 12.1–14.0 % of the frame`; `None` when no frame was segmented.
    pub fn line(&self, units: &str) -> Option<String> {
        if self.levels.is_empty() {
            return None;
        }
        let range = |v: &[f64], fmt: &dyn Fn(f64) -> String| -> String {
            let lo = fmt(v.iter().copied().fold(f64::INFINITY, f64::min));
            let hi = fmt(v.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            if lo == hi {
                lo
            } else {
                format!("{lo}–{hi}")
            }
        };
        let mut sorted = self.levels.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let median = sorted[sorted.len() / 2];
        let frames = self.levels.len();
        let level = range(&self.levels, &number);
        let over = if frames > 1 && self.otsu {
            format!(" over {frames} frames (median {})", number(median))
        } else {
            String::new()
        };
        Some(format!(
            "threshold {}{level}{over} in {units}, mask {} % of the frame",
            if self.otsu { "otsu = " } else { "" },
            range(&self.shares, &|s| format!("{:.1}", s * 100.0)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_input() {
        assert_eq!(number(180.0), "180");
        assert_eq!(number(22403.0), "22403");
        assert_eq!(number(0.70588), "0.7059");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(127.25), "127.2");
    }

    #[test]
    fn label_images_are_told_from_micrographs() {
        // labels: flat regions numbered 0..3
        let mut v = vec![0u16; 40 * 40];
        for (i, x) in v.iter_mut().enumerate() {
            let (r, c) = (i / 40, i % 40);
            if (5..15).contains(&r) && (5..15).contains(&c) {
                *x = 1;
            } else if (20..30).contains(&r) && (5..30).contains(&c) {
                *x = 2;
            } else if (5..12).contains(&r) && (20..35).contains(&c) {
                *x = 3;
            }
        }
        let labels = RawImage::gray_u16(40, 40, v.clone());
        assert!(label_image_kind(&labels).is_some());
        // a binary mask 0/255
        let mask: Vec<u8> = v.iter().map(|&x| if x > 0 { 255 } else { 0 }).collect();
        assert_eq!(
            label_image_kind(&RawImage::gray_u8(40, 40, mask.clone())),
            Some("a binary mask (two values)")
        );
        // the same with noise is a micrograph
        let mut s = 7u32;
        let noisy: Vec<u8> = mask
            .iter()
            .map(|&x| {
                s = s.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let n = (s >> 16) % 21;
                (x as u32).saturating_sub(n).min(255) as u8 + (n as u8 % 3)
            })
            .collect();
        assert_eq!(label_image_kind(&RawImage::gray_u8(40, 40, noisy)), None);
        // white background, dark flat disks (the lecture's canvas): not labels
        let canvas: Vec<u8> = mask.iter().map(|&x| 255 - x).collect();
        assert_eq!(label_image_kind(&RawImage::gray_u8(40, 40, canvas)), None);
    }

    #[test]
    fn tally_says_each_kind_once_and_counts_frames() {
        let mut t = Tally::new();
        assert!(t
            .add(Warning::new(
                Check::NoObjects,
                Some(2),
                "frame 2: no object"
            ))
            .is_some());
        assert!(t
            .add(Warning::new(
                Check::NoObjects,
                Some(5),
                "frame 5: no object"
            ))
            .is_none());
        assert!(t
            .add(Warning::new(Check::LargeMask, Some(5), "frame 5: large"))
            .is_some());
        assert_eq!(t.summary(9), ["no-objects in 2 of 9 frames: 2, 5"]);
    }
}
