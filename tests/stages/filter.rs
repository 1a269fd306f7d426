//! Stage **filter** against scikit-image: the shape filters (`--min-eccentricity`,
//! `--max-width`) keep exactly the objects regionprops keeps (`tests/fixtures/shape_filters/`),
//! and `--clear-border B` equals `clear_border` + `relabel_sequential`
//! (`tests/fixtures/clear_border/`); both made by `scripts/reference/make_mode_fixtures.py` and
//! `make_clear_border_fixtures.py`. `--min-edge-area` against a naive count of each object's
//! pixels and edge contact. The GPU and `keep_table`: `tests/gpu/filter.rs`.

use crate::common::{assert_same, read_tiff_u32, repo};

use floodseg::cpu::Dims;
use floodseg::pipeline::Params;

/// Thresholds that split a set of values everywhere it can be split: every midpoint between two
/// neighbouring values (further apart than 1e-9, so that rounding in either library cannot
/// matter), below the smallest and above the largest, and the values 0 and 1 themselves
/// (exact for degenerate objects: a pixel, a 1-pixel-wide line).
fn splitting_thresholds(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.dedup();
    let mut out = vec![0.0, 1.0];
    if let (Some(lo), Some(hi)) = (v.first(), v.last()) {
        out.push(lo - 0.5);
        out.push(hi + 0.5);
    }
    for p in v.windows(2) {
        if p[1] - p[0] > 1e-9 {
            out.push((p[0] + p[1]) / 2.0);
        }
    }
    out
}

/// `--min-eccentricity E` and `--max-width W` keep exactly the objects scikit-image's
/// regionprops keeps (`eccentricity >= E`, `axis_minor_length <= W`, both when both are given;
/// an object with a pixel on the frame's edge is kept whatever its shape),
/// on scikit-image's own labels (`tests/fixtures/shape_filters/`), at thresholds that split the
/// objects everywhere; the surviving labels are renumbered in label order, as
/// `relabel_sequential` would.
#[test]
fn shape_filters_match_regionprops() {
    use floodseg::cpu::{filter, measure};
    use floodseg::pipeline::object_table;
    let dir = repo().join("tests/fixtures/shape_filters");
    let (mut checked, mut decisions) = (0, 0usize);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let case = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        // label, eccentricity, minor_axis_length
        let rows: Vec<(u32, f64, f64)> = text
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (
                    f[0].parse().unwrap(),
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                )
            })
            .collect();
        let (w, h, labels) =
            read_tiff_u32(&repo().join("tests/fixtures").join(&case).join("labels.tif"));
        let dims = Dims::new(w, h);
        let n = labels.iter().copied().max().unwrap_or(0);
        assert_eq!(rows.len(), n as usize, "{case}: one row per label");
        let zeros = vec![0u32; labels.len()];
        let sums = measure::measure_sums(dims, &labels, &zeros, false, n);
        let eccs: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let widths: Vec<f64> = rows.iter().map(|r| r.2).collect();
        let es = splitting_thresholds(&eccs);
        let ws = splitting_thresholds(&widths);
        let mut pairs: Vec<(f64, Option<f64>)> = es.iter().map(|&e| (e, None)).collect();
        pairs.extend(ws.iter().map(|&w| (0.0, Some(w))));
        for &e in es.iter().step_by(3) {
            for &w in ws.iter().step_by(3) {
                pairs.push((e, Some(w)));
            }
        }
        for (e, wmax) in pairs {
            let p = Params {
                min_eccentricity: e,
                max_width: wmax,
                ..Params::default()
            };
            let (table, kept) = object_table(&p, dims, &sums);
            // objects touching the frame's edge are exempt from the shape filters
            let edge = |l: u32| {
                (0..h).any(|y| {
                    (0..w).any(|x| {
                        labels[y * w + x] == l && (x == 0 || y == 0 || x + 1 == w || y + 1 == h)
                    })
                })
            };
            let want: Vec<u32> = rows
                .iter()
                .filter(|&&(l, ecc, minor)| {
                    edge(l) || (ecc >= e && wmax.is_none_or(|m| minor <= m))
                })
                .map(|r| r.0)
                .collect();
            let got: Vec<u32> = (1..=n).filter(|&l| table[l as usize] != 0).collect();
            assert_eq!(
                got, want,
                "{case}: --min-eccentricity {e} --max-width {wmax:?}: kept labels (left \
                 floodseg, right regionprops)"
            );
            assert_eq!(kept as usize, want.len(), "{case}: kept count");
            // the filter pass renumbers the survivors 1, 2, … in label order
            let mut relabelled = labels.clone();
            filter::filter_relabel(
                &filter::FilterParams::new(dims, &table),
                &table,
                &mut relabelled,
            );
            let expect: Vec<u32> = labels
                .iter()
                .map(|&l| {
                    want.iter()
                        .position(|&k| k == l)
                        .map_or(0, |k| k as u32 + 1)
                })
                .collect();
            assert_same(&case, "shape_filter", w, &relabelled, &expect);
            decisions += rows.len();
        }
        checked += 1;
    }
    assert!(checked >= 14, "only {checked} shape_filters fixtures found");
    eprintln!("{decisions} keep/drop decisions checked on {checked} label images");
}

/// `--clear-border B` on scikit-image's own labels equals `relabel_sequential(clear_border(
/// labels, buffer_size=B))` (`tests/fixtures/clear_border/`, made by
/// `scripts/reference/make_clear_border_fixtures.py`; a B as wide as the frame, which
/// clear_border refuses, drops every object): the filter's table from the measure sums (the
/// objects' bounding boxes), applied as the pipeline applies it.
#[test]
fn clear_border_matches_skimage() {
    use floodseg::cpu::{filter, measure};
    use floodseg::pipeline::object_table;
    let dir = repo().join("tests/fixtures/clear_border");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let Some((case, b)) = name.rsplit_once("_b") else {
            continue;
        };
        let b: u32 = b.parse().unwrap();
        let (w, h, labels) =
            read_tiff_u32(&repo().join("tests/fixtures").join(case).join("labels.tif"));
        let (ww, hh, want) = read_tiff_u32(&path);
        assert_eq!((ww, hh), (w, h), "{name}: sizes");
        let dims = Dims::new(w, h);
        let n = labels.iter().copied().max().unwrap_or(0);
        let zeros = vec![0u32; labels.len()];
        let sums = measure::measure_sums(dims, &labels, &zeros, false, n);
        let p = Params {
            clear_border: Some(b),
            ..Params::default()
        };
        let (table, kept) = object_table(&p, dims, &sums);
        let mut got = labels.clone();
        filter::filter_relabel(&filter::FilterParams::new(dims, &table), &table, &mut got);
        assert_same(&name, "clear_border", w, &got, &want);
        assert_eq!(
            kept,
            want.iter().copied().max().unwrap_or(0),
            "{name}: count"
        );
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} clear_border fixtures found");
}

/// `--min-edge-area A`: an object with a pixel on the frame's edge is kept from `A` pixels (up
/// to `--max-area`) when `A` is below `--min-area`, every other object from `--min-area`; the survivors are renumbered in
/// label order. Rectangles of every area from 1 to 40, in the interior and at each edge and
/// corner, against a naive count of each label's pixels and edge contact.
#[test]
fn min_edge_area_gives_objects_at_the_edge_their_own_bound() {
    use floodseg::cpu::measure;
    use floodseg::pipeline::object_table;
    let (w, h) = (64usize, 48usize);
    let dims = Dims::new(w, h);
    let mut labels = vec![0u32; w * h];
    let mut n = 0u32;
    // (x, y, width, height): a rectangle of each size at a place picked by its number
    let mut rng = 7u64;
    let mut next = || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (rng >> 33) as usize
    };
    for _ in 0..200 {
        let (rw, rh) = (1 + next() % 7, 1 + next() % 6);
        let (x, y) = match next() % 5 {
            0 => (0, next() % (h - rh)),
            1 => (w - rw, next() % (h - rh)),
            2 => (next() % (w - rw), 0),
            3 => (next() % (w - rw), h - rh),
            _ => (next() % (w - rw), next() % (h - rh)),
        };
        let free = (y..y + rh).all(|yy| (x..x + rw).all(|xx| labels[yy * w + xx] == 0));
        if free {
            n += 1;
            for yy in y..y + rh {
                for xx in x..x + rw {
                    labels[yy * w + xx] = n;
                }
            }
        }
    }
    assert!(n > 40, "{n} rectangles");
    let area = |l: u32| labels.iter().filter(|&&v| v == l).count() as u64;
    let edge = |l: u32| {
        (0..h).any(|y| {
            (0..w).any(|x| labels[y * w + x] == l && (x == 0 || y == 0 || x + 1 == w || y + 1 == h))
        })
    };
    assert!((1..=n).any(edge) && (1..=n).any(|l| !edge(l)));
    let zeros = vec![0u32; labels.len()];
    let sums = measure::measure_sums(dims, &labels, &zeros, false, n);
    let mut decisions = 0;
    for (min_area, min_edge_area, max_area) in [
        (10, Some(3), None),
        (10, Some(20), None),
        (0, Some(8), Some(30)),
        (25, Some(0), Some(30)),
        (12, None, None),
        (12, Some(12), None),
    ] {
        let p = Params {
            min_area,
            min_edge_area,
            max_area,
            ..Params::default()
        };
        let (table, kept) = object_table(&p, dims, &sums);
        let want: Vec<u32> = (1..=n)
            .filter(|&l| {
                // the edge's own bound only when it is the lower
                let lo = match min_edge_area {
                    Some(e) if edge(l) => e.min(min_area),
                    _ => min_area,
                };
                area(l) >= lo && max_area.is_none_or(|m| area(l) <= m)
            })
            .collect();
        let got: Vec<u32> = (1..=n).filter(|&l| table[l as usize] != 0).collect();
        assert_eq!(
            got, want,
            "--min-area {min_area} --min-edge-area {min_edge_area:?}"
        );
        assert_eq!(kept as usize, want.len());
        for (k, &l) in want.iter().enumerate() {
            assert_eq!(table[l as usize], k as u32 + 1, "renumbered in label order");
        }
        decisions += (n as usize - want.len()).min(want.len());
    }
    assert!(decisions > 20, "the bounds both keep and drop");
}
