//! Stage **maxima** on the CPU (no GPU needed): the fast schedules (`cpu::maxima::regional`,
//! `hmax`) equal the shader-shaped passes (`regional_passes`, `hmax_passes`) and a naive
//! definition written here from scratch (thresholded components for the regional maxima, a
//! brute-force max–min path search for the reconstruction), on random masks with true
//! distances and with arbitrary small `d2` values (many plateaus); and they agree with
//! scikit-image (`tests/fixtures/maxima/`, made by `scripts/reference/make_maxima_fixtures.py`).
#![allow(clippy::needless_range_loop)]

use crate::common;
use std::collections::VecDeque;

use floodseg::cpu::distance::{distance, DistanceMode};
use floodseg::cpu::maxima::{self as mx, MaximaParams};
use floodseg::cpu::Dims;
use proptest::prelude::*;
use proptest::test_runner::Config;

// ----------------------------------------------------------------------------- naive

/// In-image 8-neighbours of `i` that are fg.
fn fg_neighbours(w: usize, h: usize, fg: &[u32], i: usize) -> Vec<usize> {
    let (y, x) = ((i / w) as i64, (i % w) as i64);
    let mut v = Vec::new();
    for dy in -1..=1i64 {
        for dx in -1..=1i64 {
            let (yy, xx) = (y + dy, x + dx);
            if (dy, dx) != (0, 0) && yy >= 0 && xx >= 0 && yy < h as i64 && xx < w as i64 {
                let j = yy as usize * w + xx as usize;
                if fg[j] != 0 {
                    v.push(j);
                }
            }
        }
    }
    v
}

/// The fg pixels reachable from `s` through fg pixels satisfying `ok` (`s` itself included).
fn reach(w: usize, h: usize, fg: &[u32], s: usize, ok: impl Fn(usize) -> bool) -> Vec<bool> {
    let mut seen = vec![false; w * h];
    let mut q = VecDeque::from([s]);
    seen[s] = true;
    while let Some(i) = q.pop_front() {
        for j in fg_neighbours(w, h, fg, i) {
            if !seen[j] && ok(j) {
                seen[j] = true;
                q.push_back(j);
            }
        }
    }
    seen
}

/// p is a regional maximum of `v` iff the fg component of `{q : v(q) >= v(p)}` holding p has
/// no value above `v(p)` (its first step off p's plateau would be up).
fn naive_regional(p: &MaximaParams, fg: &[u32], v: &[u32]) -> Vec<u32> {
    let (w, h) = (p.dims.width as usize, p.dims.height as usize);
    let mut out = vec![0u32; w * h];
    for i in 0..w * h {
        if fg[i] == 0 {
            continue;
        }
        let comp = reach(w, h, fg, i, |j| v[j] >= v[i]);
        let is_max = (0..w * h).all(|j| !comp[j] || v[j] == v[i]);
        let (y, x) = (i / w, i % w);
        let b = p.border as usize;
        let inside = y >= b && y + b < h && x >= b && x + b < w;
        out[i] = (is_max && inside) as u32;
    }
    out
}

/// `R(p)` = the largest t such that some fg q with `f(q) >= t` is joined to p by fg pixels all
/// with `f + H >= t` (`R >= f(p)`: t = f(p) always works).
fn naive_reconstruct(p: &MaximaParams, fg: &[u32], d2: &[u32]) -> Vec<u32> {
    let (w, h) = (p.dims.width as usize, p.dims.height as usize);
    let f: Vec<u32> = (0..w * h)
        .map(|i| if fg[i] != 0 { mx::height(d2[i]) } else { 0 })
        .collect();
    let fp: Vec<u32> = f.iter().map(|&v| v.saturating_add(p.h_half)).collect();
    // R is min(g(q), bottleneck of f'): a value of g or of f'; try them from the top
    let mut levels: Vec<u32> = (0..w * h)
        .filter(|&i| fg[i] != 0)
        .flat_map(|i| [f[i], fp[i]])
        .collect();
    levels.sort_unstable();
    levels.dedup();
    let mut r = vec![0u32; w * h];
    for i in 0..w * h {
        if fg[i] == 0 {
            continue;
        }
        for &t in levels.iter().rev() {
            if t < f[i] || fp[i] < t {
                continue;
            }
            let comp = reach(w, h, fg, i, |j| fp[j] >= t);
            if (0..w * h).any(|j| comp[j] && f[j] >= t) {
                r[i] = t;
                break;
            }
        }
    }
    r
}

fn naive_hmax(p: &MaximaParams, fg: &[u32], d2: &[u32]) -> Vec<u32> {
    naive_regional(p, fg, &naive_reconstruct(p, fg, d2))
}

// ----------------------------------------------------------------------------- inputs

/// A mask with d2 (true EDT, or small random values on fg: many plateaus).
#[derive(Clone, Debug)]
struct Case {
    width: usize,
    height: usize,
    fg: Vec<u32>,
    d2: Vec<u32>,
}

fn case(max: usize, random_d2: bool) -> impl Strategy<Value = Case> {
    (1..=max, 1..=max, 0u32..=100).prop_flat_map(move |(w, h, density)| {
        let n = w * h;
        (
            proptest::collection::vec(0u32..100, n),
            proptest::collection::vec(1u32..5, n),
        )
            .prop_map(move |(r, vals)| {
                let fg: Vec<u32> = r.iter().map(|&x| (x < density) as u32).collect();
                let d2 = if random_d2 {
                    fg.iter().zip(&vals).map(|(&m, &v)| m * v).collect()
                } else {
                    distance(Dims::new(w, h), DistanceMode::Exact, &fg)
                };
                Case {
                    width: w,
                    height: h,
                    fg,
                    d2,
                }
            })
    })
}

fn params(c: &Case, h_half: u32, border: u32) -> MaximaParams {
    MaximaParams {
        dims: Dims::new(c.width, c.height),
        h_half,
        border,
    }
}

fn same(what: &str, c: &Case, got: &[u32], want: &[u32]) -> Result<(), TestCaseError> {
    if got != want {
        let i = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0);
        return Err(TestCaseError::fail(format!(
            "{what}: first difference at row {}, col {}: got {}, want {}\n\
             got {got:?}\nwant {want:?}",
            i / c.width,
            i % c.width,
            got[i],
            want[i]
        )));
    }
    Ok(())
}

/// Cases, seed and knobs as every property test in the suite (`common::proptest_config`).
fn config(cases: u32) -> Config {
    common::proptest_config(cases)
}

proptest! {
    #![proptest_config(config(512))]

    /// Fast == passes on masks up to 24×24 (true distances and arbitrary small d2).
    #[test]
    fn maxima_fast_equals_passes(
        c in prop_oneof![case(24, false), case(24, true)],
        h_half in prop_oneof![Just(0u32), Just(1), Just(2), 0u32..12, Just(u32::MAX)],
        border in 0u32..4,
    ) {
        let p = params(&c, h_half, border);
        same("regional", &c, &mx::regional(&p, &c.fg, &c.d2), &mx::regional_passes(&p, &c.fg, &c.d2))?;
        same("reconstruct", &c, &mx::reconstruct(&p, &c.fg, &c.d2), &mx::reconstruct_passes(&p, &c.fg, &c.d2))?;
        same("hmax", &c, &mx::hmax(&p, &c.fg, &c.d2), &mx::hmax_passes(&p, &c.fg, &c.d2))?;
    }

    /// Fast == the naive definition on tiny images.
    #[test]
    fn maxima_fast_equals_naive(
        c in prop_oneof![case(9, false), case(9, true)],
        h_half in prop_oneof![Just(0u32), 0u32..8, Just(u32::MAX - 1)],
        border in 0u32..3,
    ) {
        let p = params(&c, h_half, border);
        same("regional", &c, &mx::regional(&p, &c.fg, &c.d2), &naive_regional(&p, &c.fg, &c.d2))?;
        same("reconstruct", &c, &mx::reconstruct(&p, &c.fg, &c.d2), &naive_reconstruct(&p, &c.fg, &c.d2))?;
        same("hmax", &c, &mx::hmax(&p, &c.fg, &c.d2), &naive_hmax(&p, &c.fg, &c.d2))?;
    }
}

// ----------------------------------------------------------------------------- examples

/// Two touching disks of different sizes: regional maxima keep both centres; hmax with h above
/// the small disk's rise over the saddle merges it into the big one; any h keeps one marker
/// per object (a lone small disk never vanishes).
#[test]
fn maxima_hmax_merges_shallow_maxima_and_keeps_small_objects() {
    let (w, h) = (40usize, 21usize);
    let mut fg = vec![0u32; w * h];
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            let big = (y - 10).pow(2) + (x - 12).pow(2) <= 81;
            let small = (y - 10).pow(2) + (x - 25).pow(2) <= 25;
            let lone = (y - 10).pow(2) + (x - 36).pow(2) <= 4;
            if big || small || lone {
                fg[y as usize * w + x as usize] = 1;
            }
        }
    }
    let dims = Dims::new(w, h);
    let d2 = distance(dims, DistanceMode::Exact, &fg);
    let count = |m: &[u32]| floodseg::cpu::components::components(dims, true, m).1;
    let p = |h_half| MaximaParams {
        dims,
        h_half,
        border: 0,
    };
    assert_eq!(count(&mx::regional(&p(0), &fg, &d2)), 3);
    assert_eq!(count(&mx::hmax(&p(0), &fg, &d2)), 3);
    assert_eq!(count(&mx::hmax(&p(20), &fg, &d2)), 2, "small disk merged");
    assert_eq!(count(&mx::hmax(&p(1000), &fg, &d2)), 2, "lone disk kept");
}

#[test]
fn maxima_border_clears_the_frame() {
    let dims = Dims::new(7, 5);
    let fg = vec![1u32; 35];
    let d2 = vec![1u32; 35]; // one plateau: every pixel is a marker
    for b in 0..5u32 {
        let p = MaximaParams {
            dims,
            h_half: 0,
            border: b,
        };
        let m = mx::regional(&p, &fg, &d2);
        for y in 0..5u32 {
            for x in 0..7u32 {
                let inside = y >= b && y + b < 5 && x >= b && x + b < 7;
                assert_eq!(m[(y * 7 + x) as usize], inside as u32, "b {b} ({y}, {x})");
            }
        }
        assert_eq!(m, mx::regional_passes(&p, &fg, &d2));
        assert_eq!(mx::hmax(&p, &fg, &d2), m);
    }
}

// ----------------------------------------------------------------------------- scikit-image

fn fixture_dirs() -> Vec<std::path::PathBuf> {
    let root = common::repo().join("tests").join("fixtures").join("maxima");
    let mut v: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("fg.tif").exists())
        .collect();
    v.sort();
    v
}

#[test]
fn maxima_agrees_with_skimage_fixtures() {
    let dirs = fixture_dirs();
    assert!(dirs.len() >= 3, "fixtures missing: {dirs:?}");
    let mut checked = 0;
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let (w, h, fg) = common::read_tiff_u32(&dir.join("fg.tif"));
        let (_, _, d2) = common::read_tiff_u32(&dir.join("d2.tif"));
        let dims = Dims::new(w, h);
        // scikit-image's d2 is floodseg's exact EDT
        common::assert_same(
            &name,
            "d2",
            w,
            &distance(dims, DistanceMode::Exact, &fg),
            &d2,
        );
        let p = |h_half| MaximaParams {
            dims,
            h_half,
            border: 0,
        };
        let (_, _, want) = common::read_tiff_u32(&dir.join("regional.tif"));
        common::assert_same(&name, "regional", w, &mx::regional(&p(0), &fg, &d2), &want);
        common::assert_same(
            &name,
            "regional-passes",
            w,
            &mx::regional_passes(&p(0), &fg, &d2),
            &want,
        );
        checked += 1;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            let Some(hs) = stem.strip_prefix("hmax_") else {
                continue;
            };
            let h_half: u32 = hs.parse().unwrap();
            let (_, _, want) = common::read_tiff_u32(&path);
            let stage = format!("hmax_{h_half}");
            common::assert_same(&name, &stage, w, &mx::hmax(&p(h_half), &fg, &d2), &want);
            let stage = format!("hmax_{h_half}-passes");
            common::assert_same(
                &name,
                &stage,
                w,
                &mx::hmax_passes(&p(h_half), &fg, &d2),
                &want,
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} fixture images checked");
}
