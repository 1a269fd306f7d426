//! The whole CPU pipeline against scikit-image on the committed fixtures:
//!
//! - the lecture pipeline (`tests/fixtures/<case>/`, made by `scripts/reference/make_fixtures.py`):
//!   mask, opened, distance², peaks and markers identical; labels the same count, and every
//!   pixel labelled differently a *tie* (see [`check_ties`]), the identical/total counts pinned
//!   per case ([`PINNED_DISTANCE`]);
//! - `--flood intensity` (`tests/fixtures/flood_intensity/`, made by
//!   `scripts/reference/make_mode_fixtures.py`): scikit-image's `watershed(image, markers, mask)`
//!   on the gray keys, with the same tie check and pins ([`PINNED_INTENSITY`]).
//!
//! The single stages' agreement lives with the stage: `--smooth` in `smooth.rs`, the shape
//! filters and `--clear-border` in `filter.rs`, Otsu in `threshold.rs`, regionprops in
//! `measure.rs`, the maxima in `maxima.rs`.

use std::collections::{BinaryHeap, HashMap};

use crate::common::*;
use floodseg::pipeline::{segment_cpu, Flood, Params};

/// Pixels foreground in either labelling, and those among them with the same label.
fn identical_foreground(a: &[u32], b: &[u32]) -> (usize, usize) {
    let fg = a.iter().zip(b).filter(|(x, y)| **x != 0 || **y != 0);
    let total = fg.clone().count();
    let same = fg.filter(|(x, y)| x == y).count();
    (same, total)
}

/// The best level at which a flood from the pixels `source(i)` reaches each pixel: the largest,
/// over all 4-connected paths inside `mask` from a source pixel, of the smallest `flood` value
/// on the path (the watershed floods larger values first: `d²`, or `ws_altitude`'s key). 0 where
/// no path exists. A widest-path Dijkstra with a binary heap; nothing shared with `src/`.
fn reach_levels(
    w: usize,
    h: usize,
    mask: &[u32],
    flood: &[u32],
    source: impl Fn(usize) -> bool,
) -> Vec<u32> {
    let mut best = vec![0u32; w * h];
    let mut heap = BinaryHeap::new();
    for i in 0..w * h {
        if mask[i] != 0 && source(i) {
            best[i] = flood[i];
            heap.push((flood[i], i));
        }
    }
    while let Some((level, i)) = heap.pop() {
        if level < best[i] {
            continue;
        }
        let (y, x) = (i / w, i % w);
        let nbrs = [
            (y > 0).then(|| i - w),
            (x > 0).then(|| i - 1),
            (x + 1 < w).then(|| i + 1),
            (y + 1 < h).then(|| i + w),
        ];
        for q in nbrs.into_iter().flatten() {
            let l = level.min(flood[q]);
            if mask[q] != 0 && l > best[q] {
                best[q] = l;
                heap.push((l, q));
            }
        }
    }
    best
}

/// Every pixel where the two labellings differ must be a *tie*: both labels reach it at the
/// best level any marker reaches it with (a marker-based watershed gives each pixel a label
/// whose flood reaches it first, i.e. at that best level; which of several such labels wins is
/// the tie rule, floodseg's "(level, hops), then arrival" against scikit-image's heap order).
/// A pixel labelled in one and not the other is never a tie. `Err` names the first other pixel.
fn check_ties(
    w: usize,
    h: usize,
    mask: &[u32],
    flood: &[u32],
    markers: &[u32],
    ours: &[u32],
    theirs: &[u32],
) -> Result<usize, String> {
    let best = reach_levels(w, h, mask, flood, |i| markers[i] != 0);
    let mut by_label: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut ties = 0;
    for i in 0..w * h {
        let (a, b) = (ours[i], theirs[i]);
        if a == b {
            continue;
        }
        let (y, x) = (i / w, i % w);
        if a == 0 || b == 0 {
            return Err(format!(
                "pixel (y={y}, x={x}): floodseg label {a}, scikit-image label {b} (reached by one only)"
            ));
        }
        let mut level = |l: u32| {
            by_label
                .entry(l)
                .or_insert_with(|| reach_levels(w, h, mask, flood, |j| markers[j] == l))[i]
        };
        let (la, lb) = (level(a), level(b));
        if la != best[i] || lb != best[i] {
            return Err(format!(
                "pixel (y={y}, x={x}): floodseg label {a} reaches it at level {la}, scikit-image \
                 label {b} at level {lb}, the best level is {}: not a tie",
                best[i]
            ));
        }
        ties += 1;
    }
    Ok(ties)
}

/// A case's identical/total foreground pixels against its pinned counts; the message says how
/// to update the pin when the agreement improved.
fn check_pinned(
    table: &str,
    pinned: &[(&str, usize, usize)],
    name: &str,
    same: usize,
    total: usize,
) -> Option<String> {
    let Some(&(_, ps, pt)) = pinned.iter().find(|(n, _, _)| *n == name) else {
        return Some(format!(
            "{name}: no pinned counts; add (\"{name}\", {same}, {total}) to {table} in tests/stages/skimage_agreement.rs"
        ));
    };
    if (same, total) == (ps, pt) {
        return None;
    }
    let verdict = if same * pt > ps * total || (same * pt == ps * total && same > ps) {
        format!(
            "the agreement improved: if the change in floodseg is intended, update {table} in \
             tests/stages/skimage_agreement.rs to (\"{name}\", {same}, {total})"
        )
    } else {
        "the agreement got worse: a regression in floodseg's watershed (or its inputs)".to_string()
    };
    Some(format!(
        "{name}: {same}/{total} identical foreground pixels, pinned {ps}/{pt}; {verdict}"
    ))
}

/// `(case, identical, total)` foreground pixels of floodseg's labels against scikit-image's
/// `watershed(-dist, markers, mask)`, exactly as measured. Any change fails
/// `pipeline_matches_skimage_on_every_fixture`; the differences that remain are ties.
const PINNED_DISTANCE: &[(&str, usize, usize)] = &[
    ("all_foreground", 437, 437),
    ("all_foreground_fp4", 433, 433),
    ("blobs_1", 648, 648),
    ("blobs_2", 2153, 2153),
    ("blobs_3", 1622, 1622),
    ("blobs_4", 679, 679),
    ("blobs_5", 1057, 1057),
    ("blobs_6", 842, 842),
    ("blobs_7", 996, 996),
    ("blobs_8", 887, 887),
    ("blobs_9", 636, 636),
    ("border_objects", 961, 961),
    ("border_objects_fp10", 1151, 1151),
    ("col_Nx1", 0, 0),
    ("col_Nx1_open1", 0, 0),
    ("ecoli", 119, 119),
    ("empty", 0, 0),
    ("lecture_disks", 1164, 1164),
    ("lecture_noisy_k0", 1236, 1236),
    ("lecture_noisy_k5", 1135, 1135),
    ("one_by_one", 0, 0),
    ("plateau", 962, 962),
    ("plateau_fp4", 916, 962),
    ("plateau_touch", 1016, 1016),
    ("rgb_1", 1543, 1543),
    ("rgb_2", 1012, 1012),
    ("rods_u16_1", 674, 681),
    ("rods_u16_2", 878, 878),
    ("rods_u16_3", 763, 763),
    ("rods_u8_1", 913, 927),
    ("rods_u8_2", 843, 843),
    ("rods_u8_3", 681, 693),
    ("row_1xN", 0, 0),
    ("strip_5x61", 114, 116),
    ("thin_lines", 280, 290),
    ("thin_lines_fp3", 251, 251),
];

#[test]
fn pipeline_matches_skimage_on_every_fixture() {
    let cases = fixture_cases();
    assert!(
        cases.len() >= 20,
        "expected the committed fixtures, found {}",
        cases.len()
    );
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let args = std::fs::read_to_string(case.join("args.txt")).unwrap();
        let params = parse_args(&args);
        let img = floodseg::io::read_image(&fixture_input(case)).unwrap();
        let s = segment_cpu(&img, &params).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (w, h) = (s.dims.width as usize, s.dims.height as usize);
        for (stage, got) in [
            ("mask", &s.mask),
            ("opened", &s.opened),
            ("distance2", &s.distance2),
            ("peaks", &s.peaks),
            ("markers", &s.markers),
        ] {
            let (ww, hh, want) = read_tiff_u32(&case.join(format!("{stage}.tif")));
            assert_eq!((ww, hh), (w, h), "{name}: {stage} size");
            assert_same(&name, stage, w, got, &want);
        }
        let (_, _, want) = read_tiff_u32(&case.join("labels.tif"));
        let count: u32 = std::fs::read_to_string(case.join("count.txt"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(s.count(), count, "{name}: object count");
        let want_max = want.iter().copied().max().unwrap_or(0);
        let got_max = s.labels.iter().copied().max().unwrap_or(0);
        assert_eq!(got_max, want_max, "{name}: largest label");
        let (same, total) = identical_foreground(&s.labels, &want);
        report.push(format!(
            "{name:<24} {count:>4} objects  {:>7.3} % identical foreground ({same}/{total})",
            100.0 * same as f64 / total.max(1) as f64
        ));
        match check_ties(w, h, &s.opened, &s.distance2, &s.markers, &s.labels, &want) {
            Ok(ties) => assert_eq!(ties, total - same, "{name}: every difference is a tie"),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
        failures.extend(check_pinned(
            "PINNED_DISTANCE",
            PINNED_DISTANCE,
            &name,
            same,
            total,
        ));
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `(case, identical, total)` foreground pixels of floodseg's `--flood intensity` labels against
/// scikit-image's `watershed(keys or -keys, markers, mask)`, exactly as measured.
const PINNED_INTENSITY: &[(&str, usize, usize)] = &[
    ("all_foreground", 437, 437),
    ("all_foreground_fp4", 433, 433),
    ("blobs_1", 626, 648),
    ("blobs_2", 2153, 2153),
    ("blobs_3", 1622, 1622),
    ("blobs_4", 679, 679),
    ("blobs_5", 1057, 1057),
    ("blobs_6", 842, 842),
    ("blobs_7", 996, 996),
    ("blobs_8", 887, 887),
    ("blobs_9", 636, 636),
    ("border_objects", 961, 961),
    ("border_objects_fp10", 1151, 1151),
    ("ecoli", 119, 119),
    ("lecture_disks", 1164, 1164),
    ("lecture_noisy_k0", 1236, 1236),
    ("lecture_noisy_k5", 1135, 1135),
    ("plateau", 962, 962),
    ("plateau_fp4", 901, 962),
    ("plateau_touch", 1016, 1016),
    ("rgb_1", 1543, 1543),
    ("rgb_2", 1012, 1012),
    ("rods_u16_1", 681, 681),
    ("rods_u16_2", 878, 878),
    ("rods_u16_3", 763, 763),
    ("rods_u8_1", 927, 927),
    ("rods_u8_2", 843, 843),
    ("rods_u8_3", 693, 693),
    ("strip_5x61", 114, 116),
    ("thin_lines", 280, 290),
    ("thin_lines_fp3", 251, 251),
];

/// `--flood intensity` against scikit-image's watershed on the gray keys (dark objects: the
/// keys, darkest first; bright: the negated keys), from the same markers and mask: the same
/// pixels labelled, every differing pixel a tie in flood level, the counts pinned.
#[test]
fn intensity_flood_matches_skimage_watershed_on_keys() {
    let dir = repo().join("tests/fixtures/flood_intensity");
    let mut report = Vec::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in fixture_cases() {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let path = dir.join(format!("{name}.tif"));
        let (_, _, markers) = read_tiff_u32(&case.join("markers.tif"));
        if markers.iter().all(|&m| m == 0) {
            assert!(
                !path.exists(),
                "{name}: no markers, yet a flood_intensity file"
            );
            continue; // nothing to flood (the script writes no file)
        }
        assert!(
            path.exists(),
            "{name}: no {}; run scripts/reference/make_mode_fixtures.py",
            path.display()
        );
        let args = std::fs::read_to_string(case.join("args.txt")).unwrap();
        let params = Params {
            flood: Flood::Intensity,
            ..parse_args(&args)
        };
        let img = floodseg::io::read_image(&fixture_input(&case)).unwrap();
        let s = segment_cpu(&img, &params).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (w, h) = (s.dims.width as usize, s.dims.height as usize);
        let (ww, hh, want) = read_tiff_u32(&path);
        assert_eq!((ww, hh), (w, h), "{name}: size");
        assert_same(&name, "markers", w, &s.markers, &markers);
        let (same, total) = identical_foreground(&s.labels, &want);
        report.push(format!(
            "{name:<24} {:>7.3} % identical foreground ({same}/{total})",
            100.0 * same as f64 / total.max(1) as f64
        ));
        let alt = floodseg::backend::cpu::flooded(&s, &params);
        match check_ties(w, h, &s.opened, &alt, &s.markers, &s.labels, &want) {
            Ok(ties) => assert_eq!(ties, total - same, "{name}: every difference is a tie"),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
        failures.extend(check_pinned(
            "PINNED_INTENSITY",
            PINNED_INTENSITY,
            &name,
            same,
            total,
        ));
        checked += 1;
    }
    eprintln!("{}", report.join("\n"));
    assert!(
        checked >= 25,
        "only {checked} flood_intensity fixtures found"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
