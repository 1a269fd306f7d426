//! Stage **background** (`--background R`): the CPU twin's window passes (van Herk / Gil-Werman)
//! equal a naive scan of the clamped window; the whole stage equals SciPy's
//! `grey_closing`/`grey_opening` top-hat on the committed fixture
//! (`tests/fixtures/background/`, made by `scripts/reference/make_background_fixtures.py`); and
//! the GPU (`shaders/background.wgsl`) equals the twin byte for byte — u8, u16 and RGB-scaled
//! keys up to the largest integer key, sizes 1×1, 1×N, N×1 and awkward ones, radii from 1 to
//! beyond the frame, both polarities. CPU checks run without a GPU.

use crate::common::{gpu, read_tiff_u32, repo, Rng, SIZES};

use floodseg::cpu::background::{self as cb, BackgroundParams, Extreme};
use floodseg::cpu::smooth::MAX_INTEGER_KEY;
use floodseg::cpu::Dims;

/// The extreme of the clamped `(2r+1)`-window along rows (`rows`) or columns, by scanning it.
fn naive_window(dims: Dims, r: u32, e: Extreme, rows: bool, src: &[u32]) -> Vec<u32> {
    let (w, h) = (dims.width as i64, dims.height as i64);
    let r = r as i64;
    let mut out = vec![0u32; src.len()];
    for y in 0..h {
        for x in 0..w {
            let mut v: Option<u32> = None;
            for k in -r..=r {
                let (yy, xx) = if rows { (y, x + k) } else { (y + k, x) };
                if yy < 0 || yy >= h || xx < 0 || xx >= w {
                    continue;
                }
                let s = src[(yy * w + xx) as usize];
                v = Some(match (v, e) {
                    (None, _) => s,
                    (Some(a), Extreme::Max) => a.max(s),
                    (Some(a), Extreme::Min) => a.min(s),
                });
            }
            out[(y * w + x) as usize] = v.unwrap();
        }
    }
    out
}

/// The whole stage, naively: closing (dark) or opening (bright) by the 2-D clamped square,
/// then the top-hat map.
fn naive_flatten(p: &BackgroundParams, keys: &[u32]) -> Vec<u32> {
    let (w, h) = (p.dims.width as i64, p.dims.height as i64);
    let r = p.radius as i64;
    let square = |src: &[u32], e: Extreme| -> Vec<u32> {
        let mut out = vec![0u32; src.len()];
        for y in 0..h {
            for x in 0..w {
                let mut v = match e {
                    Extreme::Max => 0,
                    Extreme::Min => u32::MAX,
                };
                for yy in (y - r).max(0)..=(y + r).min(h - 1) {
                    for xx in (x - r).max(0)..=(x + r).min(w - 1) {
                        let s = src[(yy * w + xx) as usize];
                        v = if e == Extreme::Max {
                            v.max(s)
                        } else {
                            v.min(s)
                        };
                    }
                }
                out[(y * w + x) as usize] = v;
            }
        }
        out
    };
    let [e1, e2] = cb::extremes(p.dark);
    let back = square(&square(keys, e1), e2);
    keys.iter()
        .zip(&back)
        .map(|(&v, &b)| if p.dark { p.key_max - (b - v) } else { v - b })
        .collect()
}

fn random_keys(rng: &mut Rng, n: usize, key_max: u32, smooth: bool) -> Vec<u32> {
    if smooth {
        // a slope plus spots: what a background looks like
        let mut v = Vec::with_capacity(n);
        for i in 0..n {
            let base = (i as u64 * 7919 % (u64::from(key_max) + 1)) as u32;
            let spot = if rng.below(9) == 0 {
                rng.below(u64::from(key_max) + 1) as u32
            } else {
                base
            };
            v.push(spot);
        }
        v
    } else {
        (0..n)
            .map(|_| rng.below(u64::from(key_max) + 1) as u32)
            .collect()
    }
}

const KEY_MAXES: [u32; 3] = [255, 65535, MAX_INTEGER_KEY];

#[test]
fn background_window_passes_equal_a_naive_scan() {
    let mut rng = Rng::new(7);
    for &(w, h) in SIZES.iter().filter(|&&(w, h)| w * h <= 64 * 64) {
        let dims = Dims::new(w, h);
        for r in [1u32, 2, 3, 7, 40] {
            for (k, &key_max) in KEY_MAXES.iter().enumerate() {
                let keys = random_keys(&mut rng, w * h, key_max, k == 1);
                for dark in [true, false] {
                    let p = BackgroundParams {
                        dims,
                        radius: r,
                        dark,
                        key_max,
                    };
                    for e in [Extreme::Max, Extreme::Min] {
                        let mut got = vec![0u32; w * h];
                        cb::window_rows(&p, e, &keys, &mut got);
                        assert_eq!(
                            got,
                            naive_window(dims, r, e, true, &keys),
                            "{w}×{h} r {r} rows {e:?}"
                        );
                        cb::window_cols(&p, e, &keys, &mut got);
                        assert_eq!(
                            got,
                            naive_window(dims, r, e, false, &keys),
                            "{w}×{h} r {r} cols {e:?}"
                        );
                    }
                    let flat = cb::flatten(&p, &keys);
                    assert_eq!(flat, naive_flatten(&p, &keys), "{w}×{h} r {r} dark {dark}");
                    assert!(flat.iter().all(|&v| v <= key_max));
                }
            }
        }
    }
}

#[test]
fn background_flattens_a_slope_and_keeps_the_cells() {
    // dark disks (depth 60) on a background rising 0.5 per column: the closing with a square
    // wider than the disks is the ramp itself (for a monotone ramp, max then min over the same
    // window gives it back, away from the left edge), so the background turns white and every
    // disk's pixel is 60 below white, whatever the slope
    let (w, h) = (120usize, 40usize);
    let mut keys = vec![0u32; w * h];
    for y in 0..h {
        for x in 0..w {
            let bg = 120 + x as u32 / 2;
            let in_disk = [20usize, 60, 100]
                .iter()
                .any(|&cx| (x as i64 - cx as i64).pow(2) + (y as i64 - 20).pow(2) <= 16);
            keys[y * w + x] = if in_disk { bg - 60 } else { bg };
        }
    }
    let p = BackgroundParams {
        dims: Dims::new(w, h),
        radius: 6,
        dark: true,
        key_max: 255,
    };
    let flat = cb::flatten(&p, &keys);
    for y in 0..h {
        for x in 6..w {
            let want = if keys[y * w + x] < 120 + x as u32 / 2 {
                195
            } else {
                255
            };
            assert_eq!(flat[y * w + x], want, "({y}, {x})");
        }
    }
}

#[test]
fn background_matches_scipy() {
    let dir = repo().join("tests/fixtures/background");
    let (w, h, keys) = read_tiff_u32(&dir.join("input.tif"));
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        // dark_r3.tif, bright_r5.tif, …
        let Some((pol, r)) = name.split_once("_r") else {
            continue;
        };
        let p = BackgroundParams {
            dims: Dims::new(w, h),
            radius: r.parse().unwrap(),
            dark: pol == "dark",
            key_max: 65535,
        };
        let (_, _, want) = read_tiff_u32(&path);
        assert_eq!(cb::flatten(&p, &keys), want, "{name}");
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} fixtures");
}

#[test]
fn background_gpu_equals_cpu() {
    let Some(ctx) = gpu() else { return };
    let mut rng = Rng::new(11);
    for &(w, h) in SIZES {
        let dims = Dims::new(w, h);
        for r in [1u32, 4, 15, 300] {
            for (k, &key_max) in KEY_MAXES.iter().enumerate() {
                let keys = random_keys(&mut rng, w * h, key_max, k != 0);
                for dark in [true, false] {
                    let p = BackgroundParams {
                        dims,
                        radius: r,
                        dark,
                        key_max,
                    };
                    let (back, flat) =
                        floodseg::gpu::background::flatten_image(ctx, &p, &keys).unwrap();
                    assert_eq!(back, cb::background_image(&p, &keys), "{w}×{h} r {r} back");
                    assert_eq!(flat, cb::flatten(&p, &keys), "{w}×{h} r {r} dark {dark}");
                }
            }
        }
    }
}
