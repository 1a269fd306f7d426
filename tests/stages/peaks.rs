//! Stage **peaks** on the CPU: the twin (`cpu::peaks::peaks`) against scikit-image's
//! `peak_local_max` walk written naively (`tests/naive/peaks.rs`) on exact distances and on
//! plateaus; and its schedules against each other — the shader's spacing rounds
//! (`peaks_rounds`) and the shader-shaped passes (`peaks_passes`) against the fast sequential
//! walk. GPU and scikit-image's border fixture: `tests/gpu/peaks.rs`.

use crate::inputs::{config, diff_message, masks, masks_with_heights, Mask};
use crate::{naive, schedules};
use schedules::first_diff;

use crate::naive::show;
use floodseg::cpu::distance::{distance_passes, DistanceMode};
use floodseg::cpu::peaks::{peaks, peaks_passes, peaks_rounds, PeaksParams};
use floodseg::cpu::Dims;
use proptest::prelude::*;

fn peaks_message(mask: &Mask, d2: &[u32], m: u32, s: u32, got: &[u32], want: &[u32]) -> String {
    format!(
        "{}\nd2:\n{}",
        diff_message(
            &format!("peaks min_distance={m} footprint={s}"),
            mask,
            got,
            want
        ),
        show(mask.width, mask.height, d2)
    )
}

proptest! {
    #![proptest_config(config(128))]

    /// `peak_local_max(dist, labels=mask, min_distance=m, footprint=ones((s, s)))` on the exact
    /// distance of a random mask.
    #[test]
    fn peaks_match_greedy_walk(
        mask in masks(),
        m in 0u32..=6,
        footprint in prop::option::of(1u32..=8),
    ) {
        let s = footprint.unwrap_or(2 * m + 1);
        let d2 = naive::edt::edt2(mask.width, mask.height, &mask.px);
        let p = PeaksParams { dims: mask.dims(), min_distance: m, footprint: s, border: m };
        let got = peaks(&p, &mask.px, &d2);
        let want = naive::peaks::peak_local_max(
            mask.width, mask.height, &mask.px, &d2, m as usize, s as usize);
        prop_assert!(got == want, "{}", peaks_message(&mask, &d2, m, s, &got, &want));
    }

    /// The same on arbitrary heights 1..=3 inside the mask (0 outside): plateaus and ties
    /// everywhere, the "trivial image" case and the raster-order tie-break get exercised.
    #[test]
    fn peaks_match_greedy_walk_on_plateaus(
        (mask, heights) in masks_with_heights(3),
        m in 0u32..=6,
        footprint in prop::option::of(1u32..=8),
    ) {
        let s = footprint.unwrap_or(2 * m + 1);
        let d2: Vec<u32> = mask.px.iter().zip(&heights).map(|(&b, &v)| if b != 0 { v } else { 0 }).collect();
        let p = PeaksParams { dims: mask.dims(), min_distance: m, footprint: s, border: m };
        let got = peaks(&p, &mask.px, &d2);
        let want = naive::peaks::peak_local_max(
            mask.width, mask.height, &mask.px, &d2, m as usize, s as usize);
        prop_assert!(got == want, "{}", peaks_message(&mask, &d2, m, s, &got, &want));
    }

    /// The shader's spacing rounds and the CPU's sequential walk keep the same peaks, on
    /// plateaus where many candidates tie.
    #[test]
    fn peaks_rounds_equal_sequential_walk(
        (mask, heights) in masks_with_heights(3),
        m in 0u32..7,
        fp in prop::option::of(1u32..9),
    ) {
        let dims = mask.dims();
        let d2: Vec<u32> = mask.px.iter().zip(&heights).map(|(&b, &v)| if b != 0 { v } else { 0 }).collect();
        let p = floodseg::cpu::peaks::PeaksParams { dims, min_distance: m, footprint: fp.unwrap_or(2 * m + 1), border: m };
        let a = floodseg::cpu::peaks::peaks_rounds(&p, &mask.px, &d2);
        let b = floodseg::cpu::peaks::peaks(&p, &mask.px, &d2);
        prop_assert!(a == b, "m={} footprint={:?}", m, fp);
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn peaks_fast_equal_passes_on_distance(
        (w, h, px) in schedules::masks(),
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
        (w, h, px) in schedules::masks(),
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
}
