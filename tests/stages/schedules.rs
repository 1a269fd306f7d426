//! CPU schedule equality: the CPU backend's fast schedules against the shader-shaped passes
//! they replace. Each whole-stage function the CPU runs (`opening`, `distance`, `peaks`,
//! `components`, `gray_image`, `threshold_image`, `measure`, the watershed's priority flood)
//! must give the same bytes as the twin's passes (`opening_passes`, `distance_passes`,
//! `peaks_passes` / `peaks_rounds`, `components_passes`, `gray`, `threshold`, `measure_sums`,
//! `watershed_jacobi`, the shader's tiled sweeps). The per-stage properties live in their stage's
//! module (`*_equal_passes`, `*_equals_*` in `opening.rs`, `distance.rs`, `peaks.rs`,
//! `components.rs`, `gray.rs`, `threshold.rs`, `measure.rs`, `watershed.rs`) and draw their
//! random masks here, at sizes that break index arithmetic (1×1, 1×N, N×1, odd primes,
//! all-foreground, empty). This module also holds the check on large synthetic colonies, where
//! the parallel chunking actually splits the work, for every stage at once.
#![allow(clippy::needless_range_loop)]

use floodseg::cpu::components::{components, components_passes};
use floodseg::cpu::distance::{distance_passes, DistanceMode};
use floodseg::cpu::measure::{measure, measure_sums};
use floodseg::cpu::opening::{opening, opening_passes, Structure};
use floodseg::cpu::peaks::{peaks_passes, PeaksParams};
use floodseg::cpu::Rect;
use floodseg::pipeline::{segment_cpu, Params};
use proptest::prelude::*;

/// `(width, height)`: 1×1, 1×N, N×1, odd primes, anything up to 64×64.
pub(crate) fn sizes() -> BoxedStrategy<(usize, usize)> {
    prop_oneof![
        1 => Just((1usize, 1usize)),
        2 => (1..=64usize).prop_map(|n| (n, 1)),
        2 => (1..=64usize).prop_map(|n| (1, n)),
        2 => prop::sample::select(vec![(7usize, 13usize), (13, 7), (31, 5), (5, 31), (2, 3), (3, 2), (61, 59)]),
        5 => (1..=64usize, 1..=64usize),
    ]
    .boxed()
}

fn render_blobs(w: usize, h: usize, blobs: &[(i64, i64, i64, i64)]) -> Vec<u32> {
    let mut px = vec![0u32; w * h];
    for y in 0..h as i64 {
        for x in 0..w as i64 {
            let inside = blobs.iter().any(|&(cy, cx, ry, rx)| {
                let (dy, dx) = (y - cy, x - cx);
                dy * dy * rx * rx + dx * dx * ry * ry <= rx * rx * ry * ry
            });
            px[y as usize * w + x as usize] = inside as u32;
        }
    }
    px
}

/// A 0/1 mask: empty, full, random density, or unions of ellipses with optional flips.
pub(crate) fn masks() -> impl Strategy<Value = (usize, usize, Vec<u32>)> {
    sizes().prop_flat_map(|(w, h)| {
        let n = w * h;
        let (wi, hi) = (w as i64, h as i64);
        let blob = (
            -2..hi + 2,
            -2..wi + 2,
            1..=(hi / 2).clamp(2, 14),
            1..=(wi / 2).clamp(2, 14),
        );
        prop_oneof![
            1 => Just(vec![0u32; n]),
            1 => Just(vec![1u32; n]),
            3 => (0.0f64..=1.0).prop_flat_map(move |p| prop::collection::vec(prop::bool::weighted(p), n))
                .prop_map(|b| b.into_iter().map(|b| b as u32).collect()),
            4 => (prop::collection::vec(blob, 0..=10), prop::collection::vec(prop::bool::weighted(0.04), n))
                .prop_map(move |(bs, flips)| {
                    let mut px = render_blobs(w, h, &bs);
                    for (p, f) in px.iter_mut().zip(flips) {
                        *p ^= f as u32;
                    }
                    px
                }),
        ]
        .prop_map(move |px| (w, h, px))
    })
}

/// Index and a few neighbours of the first difference, for failure messages.
pub(crate) fn first_diff(w: usize, got: &[u32], want: &[u32]) -> String {
    match got.iter().zip(want).position(|(a, b)| a != b) {
        None if got.len() != want.len() => format!("lengths {} vs {}", got.len(), want.len()),
        None => "equal".into(),
        Some(i) => format!(
            "first difference at row {}, column {}: got {}, want {}",
            i / w.max(1),
            i % w.max(1),
            got[i],
            want[i]
        ),
    }
}

/// Large colonies (odd sizes, several parallel chunks per pass): the fast schedules of opening,
/// distance, peaks, components and measure equal the passes on the pipeline's own intermediate
/// images (the watershed: `watershed_fast_equals_jacobi_on_a_colony`).
#[test]
fn fast_paths_equal_passes_on_colonies() {
    for (i, &(w, h)) in [(517usize, 389usize), (1024, 768), (64, 1500)]
        .iter()
        .enumerate()
    {
        let img = floodseg::synth::colony(w, h, 7 + i as u64);
        for (open, m, fp) in [
            (1u32, 5u32, None),
            (1, 10, None),
            (2, 10, Some(10)),
            (0, 3, Some(4)),
        ] {
            let params = Params {
                level: floodseg::cpu::threshold::parse_level("100").unwrap(),
                dark: false,
                open,
                min_distance: m,
                footprint: fp,
                ..Params::default()
            };
            let st = segment_cpu(&img, &params).unwrap();
            let dims = st.dims;
            let case = format!("{w}x{h} open={open} m={m} fp={fp:?}");
            for s in [Structure::Cross, Structure::Square] {
                let want = opening_passes(dims, Rect::full(dims), s, open, &st.mask);
                let got = opening(dims, Rect::full(dims), s, open, &st.mask);
                assert!(
                    got == want,
                    "{case} opening {s:?}: {}",
                    first_diff(w, &got, &want)
                );
            }
            let d2 = distance_passes(dims, DistanceMode::Exact, &st.opened);
            assert!(
                st.distance2 == d2,
                "{case} distance: {}",
                first_diff(w, &st.distance2, &d2)
            );
            let pp = PeaksParams {
                dims,
                min_distance: m,
                footprint: params.footprint_size(),
                border: m,
            };
            let pk = peaks_passes(&pp, &st.opened, &d2);
            assert!(
                st.peaks == pk,
                "{case} peaks: {}",
                first_diff(w, &st.peaks, &pk)
            );
            let (mk, n) = components_passes(dims, false, &pk);
            assert!(st.markers == mk && st.n_markers == n, "{case} markers");
            let float = false;
            let ms = measure(dims, &st.labels, &st.gray, float, st.n_markers);
            let want = measure_sums(dims, &st.labels, &st.gray, float, st.n_markers);
            assert!(ms == want, "{case} measure");
            let (a, na) = components(dims, true, &st.opened);
            let (b, nb) = components_passes(dims, true, &st.opened);
            assert!(a == b && na == nb, "{case} components 8-connected");
        }
    }
}
