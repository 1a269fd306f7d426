//! `floodseg tune`: a grid search over the pipeline's parameters against ground truth.
//!
//! Every combination of the [`Grid`]'s values is scored by F1 at one IoU threshold (StarDist's
//! matching, [`crate::eval`]), summed over the frames. The search is staged so that no stage
//! runs twice for the same inputs: for each *front* (smoothing, threshold, core, opening) the frame is
//! segmented up to the distance transform once; for each marker setting on that front the
//! markers and the watershed run once; the area filters are then applied to those labels.
//! On the GPU the front's buffers (keys, mask, opened mask, distance) stay on the device while
//! the marker settings are tried; only each watershed's labels come back.
//!
//! Every trial's labels are exactly what `floodseg segment` gives with the same flags (same
//! stage functions; the area filter on the host is the CPU twin of the filter pass, which the
//! tests hold equal to the GPU's).

use rayon::prelude::*;

use crate::backend::Segmenter;
use crate::cpu::threshold::Level;
use crate::cpu::{self, Dims};
use crate::error::{Error, Result};
use crate::eval::{matching, LabelImage, Matching};
use crate::image::RawImage;
use crate::params::{parse_h, Flood, Markers, Params, Preset};
use crate::plan::ObjectFilter;

/// The values to try (each list non-empty; the base parameters give the rest).
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub smooth: Vec<u32>,
    pub levels: Vec<Level>,
    /// `--core` levels (`None`: markers from the mask).
    pub cores: Vec<Option<cpu::threshold::Decimal>>,
    /// `--flood` values.
    pub floods: Vec<Flood>,
    pub open: Vec<u32>,
    /// Marker settings: `Peaks` is tried with every `min_distance`, `Hmax` with every `h_half`.
    pub markers: Vec<MarkerKind>,
    pub min_distance: Vec<u32>,
    pub h_half: Vec<u32>,
    pub min_area: Vec<u64>,
    /// `--min-eccentricity` values (0: off).
    pub min_eccentricity: Vec<f64>,
    /// `--max-width` values (`None`: off).
    pub max_width: Vec<Option<f64>>,
    /// `--clear-border` values (`None`: off).
    pub clear_border: Vec<Option<u32>>,
}

/// An object filter of the grid: the values of `--min-area`, `--min-eccentricity`,
/// `--max-width` and `--clear-border` one trial uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Filter {
    pub min_area: u64,
    pub min_eccentricity: f64,
    pub max_width: Option<f64>,
    pub clear_border: Option<u32>,
}

impl Filter {
    /// Set these values in `p`.
    pub fn apply(&self, p: &mut Params) {
        p.min_area = self.min_area;
        p.min_eccentricity = self.min_eccentricity;
        p.max_width = self.max_width;
        p.clear_border = self.clear_border;
    }
}

/// A marker setting of the grid: markers, `min_distance` (for peaks) and flood.
pub type Setting = (Markers, Option<u32>, Flood);

/// A marker kind of the grid (its parameter comes from the grid's lists).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    Peaks,
    Regional,
    Hmax,
}

impl Grid {
    /// The marker settings the grid expands to, in order: (markers, min_distance, flood).
    pub fn marker_settings(&self) -> Vec<Setting> {
        let mut v = Vec::new();
        for &flood in &self.floods {
            for k in &self.markers {
                match k {
                    MarkerKind::Peaks => {
                        for &m in &self.min_distance {
                            v.push((Markers::Peaks, Some(m), flood));
                        }
                    }
                    MarkerKind::Regional => v.push((Markers::Regional, None, flood)),
                    MarkerKind::Hmax => {
                        for &h in &self.h_half {
                            v.push((Markers::Hmax { h_half: h }, None, flood));
                        }
                    }
                }
            }
        }
        v
    }

    /// The (threshold, core) pairs the grid expands to, in order: a fixed core level that is
    /// not stricter than a fixed threshold (not darker with `dark`, not brighter without)
    /// gives the mask's own markers, so it is tried as no core (`None`), once per threshold.
    pub fn level_pairs(&self, dark: bool) -> Vec<(Level, Option<cpu::threshold::Decimal>)> {
        let mut v: Vec<(Level, Option<cpu::threshold::Decimal>)> = Vec::new();
        for level in &self.levels {
            for core in &self.cores {
                let useless = match (level, core) {
                    (Level::Fixed(t), Some(c)) => {
                        let (t, c) = (t.to_f64(), c.to_f64());
                        if dark {
                            c >= t
                        } else {
                            c <= t
                        }
                    }
                    _ => false,
                };
                let pair = (level.clone(), if useless { None } else { *core });
                if !v.contains(&pair) {
                    v.push(pair);
                }
            }
        }
        v
    }

    /// Number of trials (`dark`: the polarity, see [`Grid::level_pairs`]).
    pub fn trials(&self, dark: bool) -> usize {
        self.smooth.len()
            * self.level_pairs(dark).len()
            * self.open.len()
            * self.marker_settings().len()
            * self.filters().len()
    }

    /// The object filters the grid expands to, in order (min area, then min eccentricity, max
    /// width and clear border, the last varying fastest).
    pub fn filters(&self) -> Vec<Filter> {
        let mut v = Vec::new();
        for &min_area in &self.min_area {
            for &min_eccentricity in &self.min_eccentricity {
                for &max_width in &self.max_width {
                    for &clear_border in &self.clear_border {
                        v.push(Filter {
                            min_area,
                            min_eccentricity,
                            max_width,
                            clear_border,
                        });
                    }
                }
            }
        }
        v
    }

    fn check(&self) -> Result<()> {
        for (empty, flag) in [
            (self.smooth.is_empty(), "--smooth"),
            (self.levels.is_empty(), "--threshold"),
            (self.cores.is_empty(), "--core"),
            (self.floods.is_empty(), "--flood"),
            (self.open.is_empty(), "--open"),
            (self.markers.is_empty(), "--markers"),
            (self.min_area.is_empty(), "--min-area"),
            (self.min_eccentricity.is_empty(), "--min-eccentricity"),
            (self.max_width.is_empty(), "--max-width"),
            (self.clear_border.is_empty(), "--clear-border"),
        ] {
            if empty {
                return Err(Error::param(flag, "needs at least one value"));
            }
        }
        if self.markers.contains(&MarkerKind::Peaks) && self.min_distance.is_empty() {
            return Err(Error::param("--min-distance", "needs at least one value"));
        }
        if self.markers.contains(&MarkerKind::Hmax) && self.h_half.is_empty() {
            return Err(Error::param("--h", "needs at least one value"));
        }
        Ok(())
    }
}

/// One scored combination.
#[derive(Clone, Debug)]
pub struct Trial {
    pub params: Params,
    /// Summed over the frames, at the search's IoU threshold.
    pub matching: Matching,
}

/// Score every combination of `grid` on `frames` against `gt` (frame for frame), with `base`
/// giving every parameter the grid does not vary. `progress(done, total)` is called after each
/// trial. Trials come back in grid order; those of a `--core` level that was not stricter than
/// an Otsu threshold on any frame are left out when the grid also tries no core (they would
/// repeat those results).
pub fn tune(
    segmenter: &Segmenter,
    frames: &[RawImage],
    gt: &[LabelImage],
    base: &Params,
    grid: &Grid,
    iou: f64,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<Trial>> {
    grid.check()?;
    if frames.len() != gt.len() {
        return Err(Error::BadData(format!(
            "{} input frames but {} ground-truth frames",
            frames.len(),
            gt.len()
        )));
    }
    for (t, (f, g)) in frames.iter().zip(gt).enumerate() {
        if (f.width, f.height) != (g.width, g.height) {
            return Err(Error::BadData(format!(
                "frame {t}: the image is {}×{} but its ground truth is {}×{}",
                f.width, f.height, g.width, g.height
            )));
        }
    }
    let settings = grid.marker_settings();
    let filters = grid.filters();
    let total = grid.trials(base.dark);
    // Every value is checked before any frame is segmented (a bad one would otherwise stop
    // the search when its turn comes, after minutes of work).
    let float_input = frames
        .iter()
        .any(|f| matches!(f.samples, crate::image::Samples::F32(_)));
    if float_input && grid.smooth.iter().any(|&s| s > 0) {
        return Err(Error::param(
            "--smooth",
            "needs an integer image (8- or 16-bit); this input has float samples",
        ));
    }
    for &smooth in &grid.smooth {
        for &open in &grid.open {
            for (markers, md, flood) in &settings {
                for f in &filters {
                    let mut p = Params {
                        smooth,
                        open,
                        markers: *markers,
                        flood: *flood,
                        min_distance: md.unwrap_or(base.min_distance),
                        ..base.clone()
                    };
                    f.apply(&mut p);
                    p.validate()?;
                }
            }
        }
    }
    let mut done = 0;
    let mut trials: Vec<Trial> = Vec::with_capacity(total);
    for &smooth in &grid.smooth {
        for (level, core) in grid.level_pairs(base.dark) {
            for &open in &grid.open {
                let mut fp = base.clone();
                fp.smooth = smooth;
                fp.level = level.clone();
                fp.core = core;
                fp.open = open;
                // trials of this front, in grid order: (setting, filter)
                let first = trials.len();
                for (markers, md, flood) in &settings {
                    for f in &filters {
                        let mut p = fp.clone();
                        p.markers = *markers;
                        p.flood = *flood;
                        if let Some(m) = md {
                            p.min_distance = *m;
                        }
                        f.apply(&mut p);
                        p.validate()?;
                        trials.push(Trial {
                            params: p,
                            matching: Matching {
                                iou,
                                tp: 0,
                                fp: 0,
                                fn_: 0,
                                n_true: 0,
                                n_pred: 0,
                                sum_matched_iou: 0.0,
                            },
                        });
                    }
                }
                let mut core_used = false;
                for (img, g) in frames.iter().zip(gt) {
                    let dims = Dims::new(img.width, img.height);
                    let (backs, used) = backs(segmenter, img, &fp, &settings)?;
                    core_used |= used;
                    // every (setting, filter) of this front, scored in parallel
                    let scored: Vec<Result<Vec<Matching>>> = backs
                        .par_iter()
                        .map(|labels| {
                            let n = labels.iter().copied().max().unwrap_or(0);
                            let zeros = vec![0u32; labels.len()];
                            let sums = cpu::measure::measure_sums(dims, labels, &zeros, false, n);
                            filters
                                .iter()
                                .map(|f| {
                                    let mut p = fp.clone();
                                    f.apply(&mut p);
                                    let pred = LabelImage {
                                        width: img.width,
                                        height: img.height,
                                        labels: filter(dims, &p, labels, &sums),
                                    };
                                    Ok(matching(g, &pred, &[iou])?.remove(0))
                                })
                                .collect()
                        })
                        .collect();
                    let mut k = first;
                    for per_setting in scored {
                        for m in per_setting? {
                            trials[k].matching.add(&m);
                            k += 1;
                        }
                    }
                }
                done += trials.len() - first;
                if fp.core.is_some() && !core_used {
                    // the core level was not stricter than the (Otsu) threshold on any frame:
                    // these trials repeat the ones without a core, which the grid also holds
                    // when it lists `none` (otherwise they stand, as the mask's own markers)
                    if grid.cores.contains(&None) {
                        trials.truncate(first);
                    }
                }
                progress(done, total);
            }
        }
    }
    Ok(trials)
}

/// The watershed's labels (before the object filter) of every marker setting on one front, in
/// order, and whether the front's `--core` was stricter than its threshold on this frame (else
/// the markers were the mask's own): [`Segmenter::sweep`] (the CPU runs the settings in
/// parallel; the GPU one after another on the front's buffers, which stay on the device).
fn backs(
    segmenter: &Segmenter,
    img: &RawImage,
    front_params: &Params,
    settings: &[Setting],
) -> Result<(Vec<Vec<u32>>, bool)> {
    let with = |markers: Markers, md: Option<u32>, flood: Flood| {
        let mut p = front_params.without_object_filter();
        p.markers = markers;
        p.flood = flood;
        if let Some(m) = md {
            p.min_distance = m;
        }
        p
    };
    let settings: Vec<Params> = settings
        .iter()
        .map(|&(markers, md, flood)| with(markers, md, flood))
        .collect();
    segmenter.sweep(img, front_params, &settings)
}

/// The object filter of `p` on watershed labels with their measure sums (the CPU twin of the
/// filter stage, with the table of the plan's [`ObjectFilter`]).
fn filter(dims: Dims, p: &Params, labels: &[u32], sums: &[cpu::measure::ObjectSums]) -> Vec<u32> {
    let mut out = labels.to_vec();
    let Some(object_filter) = ObjectFilter::of(p, dims) else {
        return out;
    };
    let (table, _) = object_filter.table(sums);
    cpu::filter::filter_relabel(
        &cpu::filter::FilterParams::new(dims, &table),
        &table,
        &mut out,
    );
    out
}

/// `n` thresholds spread evenly from the 1st to the 99th percentile of `img`'s gray values
/// (in the input's units, rounded to a decimal one digit finer than the step, duplicates
/// dropped): the `--threshold scan[:N]` list of `floodseg tune`. With `--background` in
/// `base`, the percentiles are those of the flattened image the threshold will see.
pub fn scan_levels(img: &RawImage, n: usize, base: &Params) -> Result<Vec<Level>> {
    // the gray keys, flattened with --background (not smoothed: the levels are taken before
    // any --smooth of the grid)
    let plain = Params {
        smooth: 0,
        ..base.clone()
    };
    let (keys, scale) = crate::backend::cpu::threshold_keys(img, &plain)?;
    let mut v: Vec<f64> = keys.iter().map(|&k| scale.value(k)).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    let (lo, hi) = (at(0.01), at(0.99));
    let n = n.max(1);
    let step = if n > 1 {
        (hi - lo) / (n - 1) as f64
    } else {
        0.0
    };
    let decimals = if step > 0.0 {
        (-(step.log10()).floor() as i32 + 1).clamp(0, 12) as usize
    } else {
        3
    };
    let mut out: Vec<Level> = Vec::new();
    for i in 0..n {
        let text = format!("{:.*}", decimals, lo + step * i as f64);
        let level = cpu::threshold::parse_level(&text)?;
        if !out.contains(&level) {
            out.push(level);
        }
    }
    Ok(out)
}

/// The best trial: highest F1, then the earliest in grid order (the grid lists simpler
/// settings first).
pub fn best(trials: &[Trial]) -> Option<&Trial> {
    let mut best: Option<&Trial> = None;
    for t in trials {
        if best.is_none_or(|b| t.matching.f1() > b.matching.f1()) {
            best = Some(t);
        }
    }
    best
}

/// Parse a list of values and inclusive ranges: `0,1,2`, `3:15:3` (start:end:step),
/// `0.5:3:0.5`. Values are returned in the order written; ranges ascend.
pub fn parse_list(flag: &'static str, text: &str) -> Result<Vec<f64>> {
    let bad = |part: &str| {
        Error::param(
            flag,
            format!("{part:?} is not a number or a range START:END[:STEP]"),
        )
    };
    let mut out = Vec::new();
    for part in text.split(',') {
        let part = part.trim();
        let nums: Vec<&str> = part.split(':').collect();
        let num = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite());
        match nums.as_slice() {
            [v] => out.push(num(v).ok_or_else(|| bad(part))?),
            [a, b] | [a, b, _] => {
                let (a, b) = (
                    num(a).ok_or_else(|| bad(part))?,
                    num(b).ok_or_else(|| bad(part))?,
                );
                let step = match nums.get(2) {
                    Some(s) => num(s).ok_or_else(|| bad(part))?,
                    None => 1.0,
                };
                if step <= 0.0 || b < a {
                    return Err(Error::param(
                        flag,
                        format!("{part:?}: a range needs START <= END and a positive STEP"),
                    ));
                }
                let count = ((b - a) / step + 1e-9).floor() as usize + 1;
                if count > 10_000 {
                    return Err(Error::param(flag, format!("{part:?} has {count} values")));
                }
                for i in 0..count {
                    out.push(a + step * i as f64);
                }
            }
            _ => return Err(bad(part)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges() {
        assert_eq!(parse_list("--open", "0,2").unwrap(), [0.0, 2.0]);
        assert_eq!(parse_list("--open", "1:3").unwrap(), [1.0, 2.0, 3.0]);
        assert_eq!(
            parse_list("--h", "0.5:2:0.5").unwrap(),
            [0.5, 1.0, 1.5, 2.0]
        );
        assert!(parse_list("--open", "3:1").is_err());
        assert!(parse_list("--open", "1:3:0").is_err());
        assert!(parse_list("--open", "x").is_err());
        assert!(parse_list("--open", "").is_err());
    }

    #[test]
    fn scan_levels_span_the_percentiles_in_input_units() {
        // a ramp 0..=199: 1st percentile 2, 99th 197
        let img = RawImage::gray_u8(200, 1, (0..200).map(|v| v as u8).collect());
        let levels = scan_levels(&img, 6, &Params::default()).unwrap();
        let text: Vec<String> = levels
            .iter()
            .map(|l| match l {
                Level::Fixed(d) => format!("{}", d.value),
                Level::Otsu => "otsu".into(),
            })
            .collect();
        assert_eq!(text, ["2", "41", "80", "119", "158", "197"]);
        // a flat image gives one level
        let flat = RawImage::gray_u8(5, 5, vec![7; 25]);
        assert_eq!(scan_levels(&flat, 10, &Params::default()).unwrap().len(), 1);
    }

    #[test]
    fn grid_expands_markers_and_filters_in_order() {
        let g = Grid {
            smooth: vec![0],
            levels: vec![Level::Otsu],
            cores: vec![None],
            floods: vec![Flood::Distance, Flood::Intensity],
            open: vec![0, 1],
            markers: vec![MarkerKind::Peaks, MarkerKind::Regional, MarkerKind::Hmax],
            min_distance: vec![3, 5],
            h_half: vec![2],
            min_area: vec![0, 20],
            min_eccentricity: vec![0.0],
            max_width: vec![None, Some(9.0)],
            clear_border: vec![None, Some(0)],
        };
        let (d, i) = (Flood::Distance, Flood::Intensity);
        assert_eq!(
            g.marker_settings(),
            [
                (Markers::Peaks, Some(3), d),
                (Markers::Peaks, Some(5), d),
                (Markers::Regional, None, d),
                (Markers::Hmax { h_half: 2 }, None, d),
                (Markers::Peaks, Some(3), i),
                (Markers::Peaks, Some(5), i),
                (Markers::Regional, None, i),
                (Markers::Hmax { h_half: 2 }, None, i),
            ]
        );
        let f = g.filters();
        assert_eq!(f.len(), 8);
        // the clear border varies fastest, then the width, then the area
        assert_eq!(
            (f[0].clear_border, f[1].clear_border, f[1].max_width),
            (None, Some(0), None)
        );
        assert_eq!((f[2].max_width, f[2].min_area), (Some(9.0), 0));
        assert_eq!((f[4].min_area, f[4].max_width), (20, None));
        assert_eq!(g.trials(true), 2 * 8 * 8);
    }

    #[test]
    fn core_levels_that_are_not_stricter_are_skipped() {
        let dec = |t: &str| cpu::threshold::Decimal::parse(t).unwrap();
        let g = Grid {
            smooth: vec![0],
            levels: vec![Level::Fixed(dec("100")), Level::Otsu],
            cores: vec![None, Some(dec("80")), Some(dec("120"))],
            floods: vec![Flood::Distance],
            open: vec![1],
            markers: vec![MarkerKind::Regional],
            min_distance: vec![],
            h_half: vec![],
            min_area: vec![0],
            min_eccentricity: vec![0.0],
            max_width: vec![None],
            clear_border: vec![None],
        };
        // dark: a core must be darker than 100; Otsu's level is unknown, so every core is tried
        let dark: Vec<_> = g.level_pairs(true).into_iter().map(|(_, c)| c).collect();
        assert_eq!(
            dark,
            [
                None,
                Some(dec("80")),
                None,
                Some(dec("80")),
                Some(dec("120"))
            ]
        );
        let bright: Vec<_> = g.level_pairs(false).into_iter().map(|(_, c)| c).collect();
        assert_eq!(
            bright,
            [
                None,
                Some(dec("120")),
                None,
                Some(dec("80")),
                Some(dec("120"))
            ]
        );
        assert_eq!(g.trials(true), 5);
        // without `none` in the list, a threshold with no stricter core is tried without one
        let only = Grid {
            cores: vec![Some(dec("120")), Some(dec("130"))],
            ..g
        };
        assert_eq!(
            only.level_pairs(true),
            [
                (Level::Fixed(dec("100")), None),
                (Level::Otsu, Some(dec("120"))),
                (Level::Otsu, Some(dec("130")))
            ]
        );
    }
}

/// The lists of a search as text, as the CLI takes them (`--threshold otsu,150:210:5,scan:24`,
/// `--open 0:2`, …); `None`: the default — a broad list, or with a preset the preset's own
/// value (the threshold then `otsu,scan:24`, and for `rods` the core `none,scan:10`, so the
/// search calibrates the preset's levels).
#[derive(Clone, Debug, Default)]
pub struct Spec {
    pub preset: Option<Preset>,
    pub threshold: Option<String>,
    pub smooth: Option<String>,
    pub open: Option<String>,
    pub markers: Option<String>,
    pub min_distance: Option<String>,
    pub h: Option<String>,
    pub core: Option<String>,
    pub flood: Option<String>,
    pub min_area: Option<String>,
    pub min_eccentricity: Option<String>,
    pub max_width: Option<String>,
    pub clear_border: Option<String>,
    pub background: Option<String>,
}

impl Spec {
    /// The searches the lists expand to: one per `--background` radius, each with its base
    /// parameters (`base` with that radius) and its grid, the `scan` levels of the threshold
    /// and the core taken on the first of `frames` as that search's threshold sees it.
    /// Every value is checked here, before any frame is segmented.
    pub fn searches(&self, base: &Params, frames: &[RawImage]) -> Result<Vec<(Params, Grid)>> {
        let mut backgrounds = Vec::new();
        match &self.background {
            Some(t) => {
                for part in t.split(',') {
                    let p = part.trim();
                    if p.eq_ignore_ascii_case("off") || p.eq_ignore_ascii_case("none") {
                        backgrounds.push(None);
                    } else {
                        for r in parse_list("--background", p)? {
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
            parse_list(flag, text)?
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
        // The lists' defaults: a broad grid, or with a preset the preset's own values.
        let preset = self.preset.is_some();
        let pick = |given: &Option<String>, broad: &str, own: String| -> String {
            match given {
                Some(t) => t.clone(),
                None if preset => own,
                None => broad.to_string(),
            }
        };
        let threshold_text = self.threshold.clone().unwrap_or_else(|| {
            if preset {
                "otsu,scan:24".into()
            } else {
                "otsu".into()
            }
        });
        // smoothing is for integer images: a float input's broad grid leaves it out
        let float_input = frames
            .first()
            .is_some_and(|f| matches!(f.samples, crate::Samples::F32(_)));
        let smooth_text = pick(
            &self.smooth,
            if float_input { "0" } else { "0,1" },
            base.smooth.to_string(),
        );
        let open_text = pick(&self.open, "0:2", base.open.to_string());
        let markers_text = pick(&self.markers, "peaks,hmax", base.markers.name().to_string());
        for (given, flag, kind) in [
            (self.h.is_some(), "--h", "hmax"),
            (self.min_distance.is_some(), "--min-distance", "peaks"),
        ] {
            if given && !markers_text.split(',').any(|m| m.trim() == kind) {
                return Err(Error::param(
                    flag,
                    format!("applies to --markers {kind}; the markers tried are {markers_text}"),
                ));
            }
        }
        let min_distance_text = pick(
            &self.min_distance,
            "2,3,5,7,10",
            base.min_distance.to_string(),
        );
        let h_text = pick(
            &self.h,
            "0.5:3:0.5",
            match base.markers {
                Markers::Hmax { h_half } => format!("{}", h_half as f64 / 2.0),
                _ => "1".into(),
            },
        );
        let min_area_text = pick(&self.min_area, "0,10,20,40", base.min_area.to_string());
        // `rods` separates touching cells by their cores: its calibration looks for that level too
        let core_text = pick(
            &self.core,
            "none",
            match self.preset {
                Some(Preset::Rods) => "none,scan:10".into(),
                _ => base
                    .core
                    .as_ref()
                    .map_or("none".into(), crate::params::decimal_text),
            },
        );
        // the threshold's and core's levels for one --background (scan levels are taken on the
        // flattened first frame)
        let levels_for = |b: &Params| -> Result<(Vec<crate::cpu::threshold::Level>, Vec<_>)> {
            let levels = parse_levels("--threshold", &threshold_text, frames, b)?;
            let mut cores = Vec::new();
            for part in core_text.split(',') {
                if part.trim().eq_ignore_ascii_case("none") {
                    cores.push(None);
                    continue;
                }
                for level in parse_levels("--core", part, frames, b)? {
                    match level {
                        crate::cpu::threshold::Level::Fixed(d) => cores.push(Some(d)),
                        crate::cpu::threshold::Level::Otsu => {
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
        let flood_text = pick(&self.flood, "distance", base.flood.name().to_string());
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
                    parse_list("--h", part)
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
        let min_eccentricity = match &self.min_eccentricity {
            Some(t) => parse_list("--min-eccentricity", t)?,
            None => vec![base.min_eccentricity],
        };
        let max_width = match &self.max_width {
            Some(t) => {
                let mut v = Vec::new();
                for part in t.split(',') {
                    if part.trim() == "none" {
                        v.push(None);
                    } else {
                        v.extend(parse_list("--max-width", part)?.into_iter().map(Some));
                    }
                }
                v
            }
            None => vec![base.max_width],
        };
        let clear_border = match &self.clear_border {
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
        Ok(searches)
    }
}

/// A list of levels for `tune` (`--threshold`, `--core`): `otsu`, values, ranges
/// (`100:200:10`, as many decimals as written) and `scan[:N]` (N levels, default 24, from the
/// 1st to the 99th percentile of the first frame).
pub fn parse_levels(
    flag: &'static str,
    text: &str,
    frames: &[RawImage],
    base: &Params,
) -> Result<Vec<crate::cpu::threshold::Level>> {
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
            levels.extend(scan_levels(first, n, base)?);
        } else if part.trim().eq_ignore_ascii_case("otsu") {
            levels.push(crate::cpu::threshold::Level::Otsu);
        } else if part.contains(':') {
            // as many decimals as the range is written with (0.1:0.3:0.1 → 0.1, 0.2, 0.3)
            let decimals = part
                .split(':')
                .map(|x| x.trim().split_once('.').map_or(0, |(_, f)| f.len()))
                .max()
                .unwrap_or(0);
            for v in parse_list(flag, part)? {
                levels.push(parse_level_for(flag, &format!("{v:.decimals$}"))?);
            }
        } else {
            levels.push(parse_level_for(flag, part.trim())?);
        }
    }
    Ok(levels)
}

/// [`parse_level`](crate::cpu::threshold::parse_level) with the error naming `flag`.
pub fn parse_level_for(flag: &'static str, text: &str) -> Result<crate::cpu::threshold::Level> {
    crate::cpu::threshold::parse_level(text).map_err(|e| match e {
        Error::Parameter { reason, .. } => Error::param(flag, reason),
        other => other,
    })
}

/// Run every search of [`Spec::searches`] on `frames` against `gt`, trials in order;
/// `progress(done, total)` counts the trials of all searches together.
pub fn run_searches(
    segmenter: &Segmenter,
    frames: &[RawImage],
    gt: &[LabelImage],
    searches: &[(Params, Grid)],
    iou: f64,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<Trial>> {
    let total: usize = searches.iter().map(|(b, g)| g.trials(b.dark)).sum();
    let mut trials = Vec::with_capacity(total);
    let mut before = 0;
    for (b, grid) in searches {
        trials.extend(tune(segmenter, frames, gt, b, grid, iou, |done, _| {
            progress(before + done, total)
        })?);
        before += grid.trials(b.dark);
    }
    Ok(trials)
}

/// The trials' indices, best F1 first (equal F1: grid order, which lists simpler settings
/// first).
pub fn ranked(trials: &[Trial]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..trials.len()).collect();
    order.sort_by(|&x, &y| {
        trials[y]
            .matching
            .f1()
            .partial_cmp(&trials[x].matching.f1())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    order
}

/// The checks of a search: empty ground-truth frames (before the search) and a best F1 of 0
/// (after it; `dark` is the polarity searched, `trials` may be empty before).
pub fn warnings(
    gt: &[LabelImage],
    gt_name: &str,
    trials: Option<(&[Trial], bool, f64)>,
) -> Vec<crate::checks::Warning> {
    use crate::checks::{Check, Warning};
    let mut out = Vec::new();
    match trials {
        None => {
            for (t, g) in gt.iter().enumerate() {
                if g.labels.iter().all(|&l| l == 0) {
                    out.push(Warning::new(
                        Check::EmptyGroundTruth,
                        Some(t),
                        format!(
                            "ground-truth frame {t} of {gt_name} holds no object: every \
                             object found there counts as a false positive"
                        ),
                    ));
                }
            }
        }
        Some((trials, dark, iou)) => {
            if best(trials).is_some_and(|b| b.matching.f1() == 0.0) {
                let polarity = if dark {
                    "--bright if the cells are brighter than the background"
                } else {
                    "--dark if the cells are darker than the background"
                };
                out.push(Warning::new(
                    Check::ZeroScore,
                    None,
                    format!(
                        "the best of {} settings scores F1 = 0 at IoU {iou}: no setting finds \
                         the annotated objects; try {polarity}, and check that GT matches INPUT \
                         frame for frame",
                        trials.len()
                    ),
                ));
            }
        }
    }
    out
}

impl Trial {
    /// One JSON object: `rank, iou, f1, precision, recall, tp, fp, fn, args`.
    pub fn to_json(&self, rank: usize) -> String {
        let m = &self.matching;
        format!(
            "{{\"rank\":{},\"iou\":{},\"f1\":{},\"precision\":{},\"recall\":{},\"tp\":{},\"fp\":{},\"fn\":{},\"args\":\"{}\"}}",
            rank,
            m.iou,
            m.f1(),
            m.precision(),
            m.recall(),
            m.tp,
            m.fp,
            m.fn_,
            self.params.to_args()
        )
    }

    /// One line for people: `1. F1 0.8571  precision … (tp 6 fp 1 fn 1)  --threshold …`.
    pub fn to_line(&self, rank: usize) -> String {
        let m = &self.matching;
        format!(
            "{:>2}. F1 {:.4}  precision {:.4}  recall {:.4}  (tp {} fp {} fn {})  {}",
            rank,
            m.f1(),
            m.precision(),
            m.recall(),
            m.tp,
            m.fp,
            m.fn_,
            self.params.to_args()
        )
    }
}
