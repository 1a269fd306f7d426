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
use crate::params::{Flood, Markers, Params};
use crate::pipeline::object_table;

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
        let mut p = front_params.clone();
        p.markers = markers;
        p.flood = flood;
        if let Some(m) = md {
            p.min_distance = m;
        }
        p.min_area = 0;
        p.max_area = None;
        p.min_eccentricity = 0.0;
        p.max_width = None;
        p.clear_border = None;
        p
    };
    let settings: Vec<Params> = settings
        .iter()
        .map(|&(markers, md, flood)| with(markers, md, flood))
        .collect();
    segmenter.sweep(img, front_params, &settings)
}

/// The object filter of `p` on watershed labels with their measure sums (the CPU twin of the
/// filter stage, with the table [`object_table`] makes).
fn filter(dims: Dims, p: &Params, labels: &[u32], sums: &[cpu::measure::ObjectSums]) -> Vec<u32> {
    let mut out = labels.to_vec();
    if !p.filters_objects() {
        return out;
    }
    let (table, _) = object_table(p, dims, sums);
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
