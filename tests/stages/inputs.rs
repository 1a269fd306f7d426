//! Inputs of the twin-vs-naive property tests (each in its stage's module: `opening.rs`,
//! `distance.rs`, `peaks.rs`, `components.rs`, `watershed.rs`, `threshold.rs`, `gray.rs`), which
//! hold every CPU twin against its naive, obviously correct reference in `tests/naive/`
//! (opening, brute-force EDT, scikit-image's peak walk, BFS labelling, a priority-queue
//! watershed, exact threshold comparisons).
//!
//! Inputs are random masks — random density (all-empty and all-full included) or unions of
//! random ellipses that touch and overlap, optionally with salt-and-pepper flips — at sizes
//! that break index arithmetic: 1×1, 1×N, N×1, odd primes (7×13, 17×23, 31×5, …) and anything
//! up to 48×48. A failing case prints its mask as rows of 0/1 (proptest shrinks it first) and
//! the first differing pixel. The fixed measurement sets use bacteria-like rod masks
//! ([`rods_mask`]).
//!
//! Cases run from a fixed seed, printed with a failure; `FLOODSEG_PROPTEST_SEED` and
//! `FLOODSEG_PROPTEST_SCALE` choose another seed and more cases (`common::proptest_config`).
//! Failure persistence is off (the tests must not write next to the sources); a failure prints
//! the seed and the minimal input, which is enough to rerun it or turn it into a regression
//! test.

use std::fmt;

use crate::common;
use crate::naive::{first_difference, show};
use floodseg::cpu::Dims;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// A 0/1 mask, `width × height`, row-major. Debug prints it as rows of 0/1.
#[derive(Clone)]
pub(crate) struct Mask {
    pub(crate) width: usize,
    pub(crate) height: usize,
    pub(crate) px: Vec<u32>,
}

impl Mask {
    pub(crate) fn dims(&self) -> Dims {
        Dims::new(self.width, self.height)
    }
    fn show(&self) -> String {
        show(self.width, self.height, &self.px)
    }
}

impl fmt::Debug for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Mask {}×{} (width×height):\n{}",
            self.width,
            self.height,
            self.show()
        )
    }
}

/// Cases, seed and knobs as every property test in the suite (`common::proptest_config`).
pub(crate) fn config(cases: u32) -> Config {
    common::proptest_config(cases)
}

/// Sizes `(width, height)`: 1×1, 1×N, N×1, odd primes, anything up to 48×48.
fn sizes() -> BoxedStrategy<(usize, usize)> {
    prop_oneof![
        1 => Just((1usize, 1usize)),
        2 => (1..=48usize).prop_map(|n| (n, 1)),
        2 => (1..=48usize).prop_map(|n| (1, n)),
        3 => prop::sample::select(vec![
            (7usize, 13usize),
            (13, 7),
            (17, 23),
            (23, 17),
            (31, 5),
            (5, 31),
            (2, 3),
            (3, 2),
            (48, 48),
        ]),
        4 => (1..=48usize, 1..=48usize),
    ]
    .boxed()
}

/// An ellipse `(cy, cx, ry, rx)`; centres may lie just outside the image.
fn blob(width: usize, height: usize) -> impl Strategy<Value = (i64, i64, i64, i64)> {
    let (w, h) = (width as i64, height as i64);
    (
        -2..h + 2,
        -2..w + 2,
        1..=(h / 2).clamp(2, 12),
        1..=(w / 2).clamp(2, 12),
    )
}

fn render_blobs(width: usize, height: usize, blobs: &[(i64, i64, i64, i64)]) -> Vec<u32> {
    let mut px = vec![0u32; width * height];
    for y in 0..height as i64 {
        for x in 0..width as i64 {
            let inside = blobs.iter().any(|&(cy, cx, ry, rx)| {
                let (dy, dx) = (y - cy, x - cx);
                dy * dy * rx * rx + dx * dx * ry * ry <= rx * rx * ry * ry
            });
            px[y as usize * width + x as usize] = inside as u32;
        }
    }
    px
}

fn masks_of_size(width: usize, height: usize) -> BoxedStrategy<Mask> {
    let n = width * height;
    let density = prop_oneof![1 => Just(0.0f64), 1 => Just(1.0f64), 6 => 0.0f64..=1.0];
    prop_oneof![
        // random density
        3 => density
            .prop_flat_map(move |p| prop::collection::vec(prop::bool::weighted(p), n))
            .prop_map(move |bits| Mask {
                width,
                height,
                px: bits.into_iter().map(|b| b as u32).collect(),
            }),
        // unions of ellipses (objects touch and overlap)
        3 => prop::collection::vec(blob(width, height), 0..=8).prop_map(move |bs| Mask {
            width,
            height,
            px: render_blobs(width, height, &bs),
        }),
        // ellipses with salt-and-pepper flips
        2 => (
            prop::collection::vec(blob(width, height), 1..=6),
            prop::collection::vec(prop::bool::weighted(0.06), n),
        )
            .prop_map(move |(bs, flips)| {
                let mut px = render_blobs(width, height, &bs);
                for (p, f) in px.iter_mut().zip(flips) {
                    *p ^= f as u32;
                }
                Mask { width, height, px }
            }),
    ]
    .boxed()
}

pub(crate) fn masks() -> impl Strategy<Value = Mask> {
    sizes().prop_flat_map(|(w, h)| masks_of_size(w, h))
}

/// A mask and arbitrary heights `1..=max` for its pixels (a stand-in for `d²` with plateaus).
pub(crate) fn masks_with_heights(max: u32) -> impl Strategy<Value = (Mask, Vec<u32>)> {
    masks().prop_flat_map(move |mask| {
        let n = mask.px.len();
        (Just(mask), prop::collection::vec(1u32..=max, n))
    })
}

/// A message naming the first differing pixel, both images and the mask.
pub(crate) fn diff_message(what: &str, mask: &Mask, got: &[u32], want: &[u32]) -> String {
    let (w, h) = (mask.width, mask.height);
    let first = first_difference(w, got, want)
        .map(|(y, x, g, e)| format!("first difference at (y={y}, x={x}): twin {g}, naive {e}"))
        .unwrap_or_default();
    format!(
        "{what}: {first}\nmask {w}×{h}:\n{}twin:\n{}naive:\n{}",
        mask.show(),
        show(w, h, got),
        show(w, h, want)
    )
}

/// A small deterministic generator for the fixed measurement sets (SplitMix64).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A bacteria-like mask: rotated rods (capsules) that touch and cross, a few holes of noise.
pub(crate) fn rods_mask(rng: &mut Rng, width: usize, height: usize) -> Vec<u32> {
    let mut px = vec![0u32; width * height];
    let rods = (3 + rng.below(10) as usize) * (width * height / (128 * 96)).max(1);
    let mut shapes = Vec::new();
    for _ in 0..rods {
        let cy = rng.unit() * height as f64;
        let cx = rng.unit() * width as f64;
        let half = 3.0 + rng.unit() * 14.0;
        let radius = 2.0 + rng.unit() * 5.0;
        let angle = rng.unit() * std::f64::consts::PI;
        shapes.push((cy, cx, half, radius, angle));
    }
    for y in 0..height {
        for x in 0..width {
            let on = shapes.iter().any(|&(cy, cx, half, radius, angle)| {
                let (dy, dx) = (y as f64 - cy, x as f64 - cx);
                let along = dx * angle.cos() + dy * angle.sin();
                let across = -dx * angle.sin() + dy * angle.cos();
                let t = along.clamp(-half, half);
                let (py, px) = (along - t, across);
                py * py + px * px <= radius * radius
            });
            px[y * width + x] = on as u32;
        }
    }
    for p in px.iter_mut() {
        if rng.unit() < 0.01 {
            *p ^= 1;
        }
    }
    px
}
