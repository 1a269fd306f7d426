//! Stage **components** on the CPU: the twin's labelling (`cpu::components::components`)
//! against a BFS (`tests/naive/components.rs`), 4- and 8-connected, and the fast run-based
//! schedule against the shader-shaped passes (`components_passes`). GPU (and the scan):
//! `tests/gpu/components.rs`.

use crate::inputs::{config, diff_message, masks};
use crate::{naive, schedules};
use schedules::first_diff;

use floodseg::cpu::components::{components, components_passes};
use floodseg::cpu::Dims;
use proptest::prelude::*;

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn components_match_bfs(mask in masks(), diagonal in any::<bool>()) {
        let (got, n_got) = components(mask.dims(), diagonal, &mask.px);
        let (want, n_want) = naive::components::label(mask.width, mask.height, diagonal, &mask.px);
        prop_assert!(
            got == want && n_got == n_want,
            "count twin {n_got}, naive {n_want}; {}",
            diff_message(&format!("components diagonal={diagonal}"), &mask, &got, &want)
        );
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn components_runs_equal_passes((w, h, px) in schedules::masks(), diagonal in any::<bool>()) {
        let dims = Dims::new(w, h);
        let (got, n_got) = components(dims, diagonal, &px);
        let (want, n_want) = components_passes(dims, diagonal, &px);
        prop_assert!(got == want && n_got == n_want,
            "count {} vs {}: {}", n_got, n_want, first_diff(w, &got, &want));
    }
}
