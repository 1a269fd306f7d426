//! Stage **watershed** on the CPU: the twin's priority flood (`cpu::watershed::watershed`)
//! against a priority-queue Dijkstra (`tests/naive/watershed.rs`) with the pipeline's markers,
//! random markers, plateaus and heights across the whole `u32` range (`--flood intensity`); the
//! shader's schedule (tiled Jacobi sweeps, `watershed_jacobi`) and both bucket layouts
//! (`watershed_levels`) against it, also on a 517×389 colony; and how often SPEC.md's literal
//! label rule differs from the twin (printed, not asserted). GPU: `tests/gpu/watershed.rs`;
//! scikit-image's `watershed` on the gray keys: `skimage_agreement.rs`.

use crate::inputs::{config, diff_message, masks, masks_with_heights, rods_mask, Mask, Rng};
use crate::{naive, schedules};
use schedules::first_diff;

use crate::naive::show;
use floodseg::cpu::components::components;
use floodseg::cpu::distance::{distance, DistanceMode};
use floodseg::cpu::peaks::{peaks, PeaksParams};
use floodseg::cpu::watershed::watershed;
use floodseg::cpu::Dims;
use floodseg::pipeline::{segment_cpu, Params};
use proptest::prelude::*;

fn watershed_message(
    mask: &Mask,
    d2: &[u32],
    markers: &[u32],
    got: &[u32],
    want: &[u32],
) -> String {
    format!(
        "{}\nd2:\n{}markers:\n{}",
        diff_message("watershed", mask, got, want),
        show(mask.width, mask.height, d2),
        show(mask.width, mask.height, markers)
    )
}

/// Markers at random mask pixels with random labels 1..=5 (a label may mark several pixels).
fn random_markers(mask: &Mask, picks: &[(prop::sample::Index, u32)]) -> Vec<u32> {
    let on: Vec<usize> = (0..mask.px.len()).filter(|&i| mask.px[i] != 0).collect();
    let mut markers = vec![0u32; mask.px.len()];
    if !on.is_empty() {
        for (index, label) in picks {
            markers[on[index.index(on.len())]] = *label;
        }
    }
    markers
}

proptest! {
    #![proptest_config(config(128))]

    /// The pipeline's markers: components of the kept peaks of the exact distance.
    #[test]
    fn watershed_matches_priority_queue(
        mask in masks(),
        m in 0u32..=6,
        footprint in prop::option::of(1u32..=8),
    ) {
        let dims = mask.dims();
        let s = footprint.unwrap_or(2 * m + 1);
        let d2 = distance(dims, DistanceMode::Exact, &mask.px);
        let pk = peaks(&PeaksParams { dims, min_distance: m, footprint: s, border: m }, &mask.px, &d2);
        let (markers, _) = components(dims, false, &pk);
        let got = watershed(dims, &mask.px, &d2, &markers);
        let want = naive::watershed::watershed(mask.width, mask.height, &mask.px, &d2, &markers);
        prop_assert!(got == want, "m={m} s={s}: {}", watershed_message(&mask, &d2, &markers, &got, &want));
    }

    /// Random markers inside the mask, on the exact distance.
    #[test]
    fn watershed_matches_priority_queue_random_markers(
        mask in masks(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), 1u32..=5), 0..=8),
    ) {
        let dims = mask.dims();
        let d2 = distance(dims, DistanceMode::Exact, &mask.px);
        let markers = random_markers(&mask, &picks);
        let got = watershed(dims, &mask.px, &d2, &markers);
        let want = naive::watershed::watershed(mask.width, mask.height, &mask.px, &d2, &markers);
        prop_assert!(got == want, "{}", watershed_message(&mask, &d2, &markers, &got, &want));
    }

    /// Random markers on arbitrary heights 1..=4 (plateaus: the hop counts and the label
    /// tie-break decide).
    #[test]
    fn watershed_matches_priority_queue_on_plateaus(
        (mask, heights) in masks_with_heights(4),
        picks in prop::collection::vec((any::<prop::sample::Index>(), 1u32..=5), 0..=8),
    ) {
        let dims = mask.dims();
        let d2: Vec<u32> = mask.px.iter().zip(&heights).map(|(&b, &v)| if b != 0 { v } else { 0 }).collect();
        let markers = random_markers(&mask, &picks);
        let got = watershed(dims, &mask.px, &d2, &markers);
        let want = naive::watershed::watershed(mask.width, mask.height, &mask.px, &d2, &markers);
        prop_assert!(got == want, "{}", watershed_message(&mask, &d2, &markers, &got, &want));
    }

    /// The shader's schedule (tiled Jacobi sweeps of `ws_cost_tile` then `ws_label_tile`)
    /// reaches the same labels as the CPU's priority flood, on plateaus where ties decide; so do
    /// the priority flood's two bucket layouts.
    #[test]
    fn watershed_jacobi_schedule_equals_priority_flood(
        (mask, heights) in masks_with_heights(4),
        picks in prop::collection::vec((any::<prop::sample::Index>(), 1u32..=5), 0..=8),
    ) {
        let dims = mask.dims();
        let d2: Vec<u32> = mask.px.iter().zip(&heights).map(|(&b, &v)| if b != 0 { v } else { 0 }).collect();
        let markers = random_markers(&mask, &picks);
        let got = floodseg::cpu::watershed::watershed_jacobi(dims, &mask.px, &d2, &markers);
        let want = watershed(dims, &mask.px, &d2, &markers);
        prop_assert!(got == want, "{}", watershed_message(&mask, &d2, &markers, &got, &want));
        // the priority flood's other bucket layout (an ordered map of levels)
        let sparse = floodseg::cpu::watershed::watershed_levels(dims, &mask.px, &d2, &markers, 0);
        prop_assert!(sparse == want, "{}", watershed_message(&mask, &d2, &markers, &sparse, &want));
        let dense = floodseg::cpu::watershed::watershed_levels(dims, &mask.px, &d2, &markers, 4);
        prop_assert!(dense == want, "{}", watershed_message(&mask, &d2, &markers, &dense, &want));
    }
}

/// Markers anywhere (outside the mask too) with labels 1..=5 or `u32::MAX` (which the packed
/// flood hands to its plain path, as it would look undecided there).
fn markers_anywhere(n: usize, picks: &[(prop::sample::Index, bool, u32)]) -> Vec<u32> {
    let mut markers = vec![0u32; n];
    if n > 0 {
        for (index, top, label) in picks {
            markers[index.index(n)] = if *top { u32::MAX } else { *label };
        }
    }
    markers
}

proptest! {
    #![proptest_config(config(128))]

    /// The packed flood (`watershed`) equals the shader's schedule and the plain bucket flood
    /// with markers outside the mask and markers labelled `u32::MAX`, on plateaus.
    #[test]
    fn watershed_fast_equals_jacobi_with_odd_markers(
        (mask, heights) in masks_with_heights(4),
        picks in prop::collection::vec((any::<prop::sample::Index>(), prop::bool::weighted(0.2), 1u32..=5), 0..=8),
    ) {
        let dims = mask.dims();
        let d2: Vec<u32> = mask.px.iter().zip(&heights).map(|(&b, &v)| if b != 0 { v } else { 0 }).collect();
        let markers = markers_anywhere(mask.px.len(), &picks);
        let got = watershed(dims, &mask.px, &d2, &markers);
        let jacobi = floodseg::cpu::watershed::watershed_jacobi(dims, &mask.px, &d2, &markers);
        prop_assert!(got == jacobi, "{}", watershed_message(&mask, &d2, &markers, &got, &jacobi));
        let levels = floodseg::cpu::watershed::watershed_levels(dims, &mask.px, &d2, &markers, 4);
        prop_assert!(got == levels, "{}", watershed_message(&mask, &d2, &markers, &got, &levels));
    }
}

/// Heights across the whole `u32` range, as `--flood intensity` feeds the watershed
/// (`ws_altitude` of 16-bit, RGB and float keys reaches `u32::MAX`): per pixel a mix of uniform
/// values in `1..=u32::MAX`, the top and bottom few values and values around 2^31 (neighbours
/// one apart, where a step starts a new level), or a palette of a few wide values (plateaus at
/// large levels, ties between distant levels), or `ws_altitude` of random keys for each kind of
/// key range, dark and bright.
fn wide_heights(n: usize) -> BoxedStrategy<Vec<u32>> {
    let extreme = prop::sample::select(vec![
        1u32,
        2,
        3,
        (1 << 31) - 1,
        1 << 31,
        (1 << 31) + 1,
        u32::MAX - 2,
        u32::MAX - 1,
        u32::MAX,
    ]);
    let mixed = prop::collection::vec(prop_oneof![3 => 1u32..=u32::MAX, 2 => extreme], n);
    let palette = (
        prop::collection::vec(1u32..=u32::MAX, 1..=4),
        prop::collection::vec(any::<prop::sample::Index>(), n),
    )
        .prop_map(|(values, picks)| {
            picks
                .iter()
                .map(|i| values[i.index(values.len())])
                .collect()
        });
    let altitudes = (
        prop::sample::select(vec![255u32, 65_535, 655_350_000, u32::MAX]),
        any::<bool>(),
        prop::collection::vec(any::<u32>(), n),
    )
        .prop_map(move |(key_max, dark, keys)| {
            use floodseg::cpu::watershed::{ws_altitude, AltitudeParams};
            let keys: Vec<u32> = keys
                .iter()
                .map(|&k| {
                    if key_max == u32::MAX {
                        k
                    } else {
                        k % (key_max + 1)
                    }
                })
                .collect();
            let p = AltitudeParams {
                dims: Dims::new(n, 1),
                dark,
                key_max,
            };
            let mut alt = vec![0u32; n];
            ws_altitude(&p, &vec![1; n], &keys, &mut alt);
            alt
        });
    prop_oneof![mixed, palette, altitudes].boxed()
}

/// A mask and wide heights for its pixels ([`wide_heights`]).
fn masks_with_wide_heights() -> impl Strategy<Value = (Mask, Vec<u32>)> {
    masks().prop_flat_map(|mask| {
        let n = mask.px.len();
        (Just(mask), wide_heights(n))
    })
}

proptest! {
    #![proptest_config(config(128))]

    /// Random markers on heights across the whole `u32` range (`--flood intensity`): the twin
    /// equals the priority-queue Dijkstra, which compares levels as `i64`. Wide levels take the
    /// twin's ordered map of levels instead of its buckets.
    #[test]
    fn watershed_matches_priority_queue_on_wide_heights(
        (mask, heights) in masks_with_wide_heights(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), 1u32..=5), 0..=8),
    ) {
        let dims = mask.dims();
        let d2: Vec<u32> = mask.px.iter().zip(&heights).map(|(&b, &v)| if b != 0 { v } else { 0 }).collect();
        let markers = random_markers(&mask, &picks);
        let got = watershed(dims, &mask.px, &d2, &markers);
        let want = naive::watershed::watershed(mask.width, mask.height, &mask.px, &d2, &markers);
        prop_assert!(got == want, "{}", watershed_message(&mask, &d2, &markers, &got, &want));
    }

    /// The shader's tiled Jacobi schedule and both bucket layouts on the same wide heights.
    #[test]
    fn watershed_jacobi_schedule_equals_priority_flood_on_wide_heights(
        (mask, heights) in masks_with_wide_heights(),
        picks in prop::collection::vec((any::<prop::sample::Index>(), 1u32..=5), 0..=8),
    ) {
        let dims = mask.dims();
        let d2: Vec<u32> = mask.px.iter().zip(&heights).map(|(&b, &v)| if b != 0 { v } else { 0 }).collect();
        let markers = random_markers(&mask, &picks);
        let want = watershed(dims, &mask.px, &d2, &markers);
        let got = floodseg::cpu::watershed::watershed_jacobi(dims, &mask.px, &d2, &markers);
        prop_assert!(got == want, "{}", watershed_message(&mask, &d2, &markers, &got, &want));
        for dense in [0, 4] {
            let got = floodseg::cpu::watershed::watershed_levels(dims, &mask.px, &d2, &markers, dense);
            prop_assert!(got == want, "levels({dense}): {}", watershed_message(&mask, &d2, &markers, &got, &want));
        }
    }
}

/// SPEC.md stage 7 states the label rule as "the predecessor with the smallest
/// `(cost(q), label(q))`"; the twin refines the tie between equal-cost predecessors by arrival
/// (see `naive::watershed`). This measures how often the literal SPEC rule gives another label
/// than the twin on a fixed set of random masks (pipeline markers on the exact distance, and
/// random markers on plateaus) and prints it; nothing is asserted about the difference.
#[test]
fn watershed_spec_rule_vs_twin_report() {
    let mut rng = Rng(0xa11_0ca7e);
    let (mut differ, mut reached, mut cases_differ, mut cases) = (0usize, 0usize, 0usize, 0usize);
    let (mut p_differ, mut p_reached, mut p_cases_differ) = (0usize, 0usize, 0usize);
    for round in 0..160 {
        let (w, h) = (17 + rng.below(32) as usize, 17 + rng.below(32) as usize);
        let px = rods_mask(&mut rng, w, h);
        let dims = Dims::new(w, h);
        let plateau = round % 2 == 1;
        let (d2, markers) = if plateau {
            let d2: Vec<u32> = px
                .iter()
                .map(|&b| if b != 0 { 1 + rng.below(3) as u32 } else { 0 })
                .collect();
            let mut markers = vec![0u32; w * h];
            for _ in 0..1 + rng.below(8) {
                let i = rng.below((w * h) as u64) as usize;
                if px[i] != 0 {
                    markers[i] = 1 + rng.below(5) as u32;
                }
            }
            (d2, markers)
        } else {
            let d2 = distance(dims, DistanceMode::Exact, &px);
            let m = 1 + rng.below(5) as u32;
            let pk = peaks(
                &PeaksParams {
                    dims,
                    min_distance: m,
                    footprint: 2 * m + 1,
                    border: m,
                },
                &px,
                &d2,
            );
            (d2, components(dims, false, &pk).0)
        };
        let twin = watershed(dims, &px, &d2, &markers);
        assert_eq!(twin, naive::watershed::watershed(w, h, &px, &d2, &markers));
        let spec = naive::watershed::watershed_spec(w, h, &px, &d2, &markers);
        let d = twin.iter().zip(&spec).filter(|(a, b)| a != b).count();
        let r = spec.iter().filter(|&&l| l != 0).count();
        if plateau {
            p_differ += d;
            p_reached += r;
            p_cases_differ += (d > 0) as usize;
        } else {
            differ += d;
            reached += r;
            cases_differ += (d > 0) as usize;
        }
        cases += 1;
    }
    println!(
        "watershed, SPEC's literal label rule vs the twin (ties by arrival): pipeline markers on \
         the exact distance: {differ} of {reached} labelled pixels differ ({:.3} %) in \
         {cases_differ} of {} cases; random markers on plateaus: {p_differ} of {p_reached} \
         ({:.3} %) in {p_cases_differ} of {} cases",
        100.0 * differ as f64 / reached.max(1) as f64,
        cases / 2,
        100.0 * p_differ as f64 / p_reached.max(1) as f64,
        cases / 2
    );
}

/// The watershed's CPU schedule (the packed priority flood) equals the shader's (tiled Jacobi
/// sweeps, `watershed_jacobi`) at colony scale, where floods cross many tiles: on the distance
/// and on `--flood intensity`'s altitude of the same frame (levels across the key range).
/// The property tests only go up to 48×48; the Jacobi schedule is slow on a CPU, so this runs on
/// one 517×389 colony.
#[test]
fn watershed_fast_equals_jacobi_on_a_colony() {
    use floodseg::cpu::watershed::{watershed, watershed_levels, watershed_tiled};
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
        let (jacobi, runs) = watershed_tiled(dims, &st.opened, &alt, &st.markers, true);
        assert!(
            fast == jacobi,
            "{case}: jacobi: {}",
            first_diff(w, &fast, &jacobi)
        );
        // Skipping the tiles nothing asked for changes no label and no sweep count, and
        // leaves out most tile runs after the first sweep (the counts are printed).
        let (every, all_runs) = watershed_tiled(dims, &st.opened, &alt, &st.markers, false);
        assert!(every == jacobi, "{case}: every tile run: labels differ");
        assert_eq!(
            (runs.cost_sweeps, runs.label_sweeps),
            (all_runs.cost_sweeps, all_runs.label_sweeps),
            "{case}: sweeps"
        );
        assert_eq!(all_runs.cost_tile_runs, all_runs.cost_sweeps * runs.tiles);
        println!("{case}: {runs:?}");
        let (ran, visits) = (
            runs.cost_tile_runs + runs.label_tile_runs,
            all_runs.cost_tile_runs + all_runs.label_tile_runs,
        );
        assert!(
            ran * 10 <= visits * 6,
            "{case}: {ran} tile runs of {visits} visits"
        );
        let sparse = watershed_levels(dims, &st.opened, &alt, &st.markers, 0);
        assert!(
            fast == sparse,
            "{case}: ordered levels: {}",
            first_diff(w, &fast, &sparse)
        );
    }
}
