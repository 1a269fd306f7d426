//! The CPU backend's fast schedules against the shader-shaped passes they replace: each
//! whole-stage function the CPU runs (`opening`, `distance`, `peaks`, `components`,
//! `gray_image`, `threshold_image`) must give the same bytes as the twin's passes
//! (`opening_passes`, `distance_passes`, `peaks_passes` / `peaks_rounds`, `components_passes`,
//! `gray`, `threshold`; the watershed's priority flood against `watershed_jacobi`, the
//! shader's tiled sweeps) — on random masks at sizes that break index arithmetic (1×1, 1×N, N×1,
//! odd primes, all-foreground, empty) and on large synthetic colonies, where the parallel
//! chunking actually splits the work.
#![allow(clippy::needless_range_loop)]

use crate::common;
use floodseg::cpu::components::{components, components_passes};
use floodseg::cpu::distance::{distance, distance_passes, DistanceMode};
use floodseg::cpu::gray::{gray, gray_image, gray_keys, GrayParams};
use floodseg::cpu::measure::{measure, measure_sums};
use floodseg::cpu::opening::{opening, opening_passes, Structure};
use floodseg::cpu::peaks::{peaks, peaks_passes, peaks_rounds, PeaksParams};
use floodseg::cpu::threshold::{
    threshold, threshold_image, ThresholdParams, MODE_ABOVE, MODE_ALL, MODE_BELOW, MODE_NONE,
};
use floodseg::cpu::{Dims, Rect};
use floodseg::pipeline::{segment_cpu, Params};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Cases, seed and knobs as every property test in the suite (`common::proptest_config`).
fn config(cases: u32) -> Config {
    common::proptest_config(cases)
}

/// `(width, height)`: 1×1, 1×N, N×1, odd primes, anything up to 64×64.
fn sizes() -> BoxedStrategy<(usize, usize)> {
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
fn masks() -> impl Strategy<Value = (usize, usize, Vec<u32>)> {
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
fn first_diff(w: usize, got: &[u32], want: &[u32]) -> String {
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

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn opening_rows_equal_passes(
        (w, h, px) in masks(),
        square in any::<bool>(),
        k in 0u32..=3,
        sub in any::<bool>(),
        r in (0u32..64, 0u32..64, 0u32..64, 0u32..64),
        values in 1u32..=3,
    ) {
        let dims = Dims::new(w, h);
        // a sub-rectangle inside the image (possibly empty) or the whole image
        let rect = if sub {
            Rect {
                y0: r.0 % h as u32,
                x0: r.1 % w as u32,
                y1: r.2 % h as u32,
                x1: r.3 % w as u32,
            }
        } else {
            Rect::full(dims)
        };
        // non-0/1 foreground values too: the passes only ask "non-zero"
        let px: Vec<u32> = px.iter().map(|&v| v * values).collect();
        let s = if square { Structure::Square } else { Structure::Cross };
        let got = opening(dims, rect, s, k, &px);
        let want = opening_passes(dims, rect, s, k, &px);
        prop_assert!(got == want, "{:?} k={} {:?}: {}", rect, k, s, first_diff(w, &got, &want));
    }

    #[test]
    fn distance_rows_equal_passes((w, h, px) in masks()) {
        let dims = Dims::new(w, h);
        let got = distance(dims, DistanceMode::Exact, &px);
        let want = distance_passes(dims, DistanceMode::Exact, &px);
        prop_assert!(got == want, "{}", first_diff(w, &got, &want));
    }

    #[test]
    fn peaks_fast_equal_passes_on_distance(
        (w, h, px) in masks(),
        m in 0u32..=8,
        fp in prop::option::of(1u32..=12),
    ) {
        let dims = Dims::new(w, h);
        let d2 = distance_passes(dims, DistanceMode::Exact, &px);
        let p = PeaksParams { dims, min_distance: m, footprint: fp.unwrap_or(2 * m + 1), border: m };
        let got = peaks(&p, &px, &d2);
        let want = peaks_passes(&p, &px, &d2);
        prop_assert!(got == want, "m={} {:?}: {}", m, fp, first_diff(w, &got, &want));
    }

    /// Heights 1..=3 inside the mask: plateaus and ties everywhere, the "trivial image" case
    /// and the raster-order tie-break; also against the shader's rounds.
    #[test]
    fn peaks_fast_equal_passes_on_plateaus(
        (w, h, px) in masks(),
        heights in prop::collection::vec(1u32..=3, 64 * 64),
        m in 0u32..=8,
        fp in prop::option::of(1u32..=12),
    ) {
        let dims = Dims::new(w, h);
        let d2: Vec<u32> = px.iter().zip(&heights).map(|(&b, &v)| if b != 0 { v } else { 0 }).collect();
        let p = PeaksParams { dims, min_distance: m, footprint: fp.unwrap_or(2 * m + 1), border: m };
        let got = peaks(&p, &px, &d2);
        let want = peaks_passes(&p, &px, &d2);
        prop_assert!(got == want, "m={} {:?}: {}", m, fp, first_diff(w, &got, &want));
        let rounds = peaks_rounds(&p, &px, &d2);
        prop_assert!(got == rounds, "rounds m={} {:?}: {}", m, fp, first_diff(w, &got, &rounds));
    }

    #[test]
    fn components_runs_equal_passes((w, h, px) in masks(), diagonal in any::<bool>()) {
        let dims = Dims::new(w, h);
        let (got, n_got) = components(dims, diagonal, &px);
        let (want, n_want) = components_passes(dims, diagonal, &px);
        prop_assert!(got == want && n_got == n_want,
            "count {} vs {}: {}", n_got, n_want, first_diff(w, &got, &want));
    }

    #[test]
    fn gray_image_equals_gray(
        (w, h) in sizes(),
        channels in 1u32..=4,
        float in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let float = float && channels == 1;
        let n = w * h * channels as usize;
        let mut rng = floodseg::synth::SplitMix64(seed);
        let samples: Vec<u32> = (0..n)
            .map(|_| {
                let r = rng.next();
                if float { (r as f32 / u64::MAX as f32 * 200.0 - 100.0).to_bits() } else { (r % 65536) as u32 }
            })
            .collect();
        let p = GrayParams { dims: Dims::new(w, h), channels, is_float: float as u32 };
        let mut got = vec![0u32; w * h];
        let mut want = vec![0u32; w * h];
        gray_image(&p, &samples, &mut got);
        gray(&p, &samples, &mut want);
        prop_assert!(got == want, "{}", first_diff(w, &got, &want));
        let keys = gray_keys(&p, samples);
        prop_assert!(keys == want, "gray_keys: {}", first_diff(w, &keys, &want));
    }

    #[test]
    fn threshold_image_equals_threshold(
        (w, h) in sizes(),
        mode in prop::sample::select(vec![MODE_NONE, MODE_ALL, MODE_ABOVE, MODE_BELOW, 7]),
        bound in 0u32..300,
        keys in prop::collection::vec(0u32..300, 64 * 64),
    ) {
        let p = ThresholdParams { dims: Dims::new(w, h), mode, bound };
        let mut got = vec![9u32; w * h];
        let mut want = vec![9u32; w * h];
        threshold_image(&p, &keys[..w * h], &mut got);
        threshold(&p, &keys[..w * h], &mut want, &mut [0]);
        prop_assert!(got == want, "{}", first_diff(w, &got, &want));
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// Random labels (0 and labels beyond `n` included) on images tall enough to be split into
    /// several bands.
    #[test]
    fn measure_bands_equal_measure_sums(
        w in 1usize..=300,
        h in 1usize..=3000,
        n in 0u32..=50,
        seed in any::<u64>(),
    ) {
        let mut rng = floodseg::synth::SplitMix64(seed);
        let labels: Vec<u32> = (0..w * h).map(|_| (rng.next() % (n as u64 + 3)) as u32).collect();
        let keys: Vec<u32> = (0..w * h).map(|_| (rng.next() % 65536) as u32).collect();
        let dims = Dims::new(w, h);
        prop_assert!(measure(dims, &labels, &keys, false, n) == measure_sums(dims, &labels, &keys, false, n));
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

/// The watershed's CPU schedule (the packed priority flood) equals the shader's (tiled Jacobi
/// sweeps, `watershed_jacobi`) at colony scale, where floods cross many tiles: on the distance
/// and on `--flood intensity`'s altitude of the same frame (levels across the key range).
/// The property tests only go up to 48×48; the Jacobi schedule is slow on a CPU, so this runs on
/// one 517×389 colony.
#[test]
fn watershed_fast_equals_jacobi_on_a_colony() {
    use floodseg::cpu::watershed::{watershed, watershed_jacobi, watershed_levels};
    use floodseg::pipeline::Flood;
    let (w, h) = (517usize, 389usize);
    let img = floodseg::synth::colony(w, h, 7);
    for flood in [Flood::Distance, Flood::Intensity] {
        let params = Params {
            level: floodseg::cpu::threshold::parse_level("100").unwrap(),
            open: 1,
            min_distance: 5,
            flood,
            ..Params::default()
        };
        let st = segment_cpu(&img, &params).unwrap();
        let dims = st.dims;
        let alt = floodseg::backend::cpu::flooded(&st, &params);
        let case = format!("{w}x{h} {flood:?}");
        assert!(st.n_markers > 20, "{case}: {} markers", st.n_markers);
        let fast = watershed(dims, &st.opened, &alt, &st.markers);
        assert!(
            fast == st.labels,
            "{case}: pipeline labels: {}",
            first_diff(w, &fast, &st.labels)
        );
        let jacobi = watershed_jacobi(dims, &st.opened, &alt, &st.markers);
        assert!(
            fast == jacobi,
            "{case}: jacobi: {}",
            first_diff(w, &fast, &jacobi)
        );
        let sparse = watershed_levels(dims, &st.opened, &alt, &st.markers, 0);
        assert!(
            fast == sparse,
            "{case}: ordered levels: {}",
            first_diff(w, &fast, &sparse)
        );
    }
}
