//! Stage **opening** on the CPU: the twin (`cpu::opening`) against the naive reference
//! (`tests/naive/opening.rs`) — the whole opening and the single erode/dilate passes inside a
//! rectangle — and the fast schedule (`opening`) against the shader-shaped passes
//! (`opening_passes`), non-0/1 foreground and sub-rectangles included. GPU: `tests/gpu/opening.rs`.

use crate::inputs::{config, diff_message, masks};
use crate::{naive, schedules};
use schedules::first_diff;

use floodseg::cpu::opening::{dilate, erode, opening, opening_passes, MorphParams, Structure};
use floodseg::cpu::{Dims, Rect};
use proptest::prelude::*;

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn opening_matches_naive(mask in masks(), square in any::<bool>(), k in 0u32..=4) {
        let structure = if square { Structure::Square } else { Structure::Cross };
        let dims = mask.dims();
        let got = opening(dims, Rect::full(dims), structure, k, &mask.px);
        let want = naive::opening::opening(mask.width, mask.height, square, k, &mask.px);
        prop_assert!(
            got == want,
            "{}",
            diff_message(&format!("opening square={square} k={k}"), &mask, &got, &want)
        );
    }

    /// The single passes inside a rectangle: everything outside it is background and written 0.
    #[test]
    fn erode_dilate_in_rect_match_naive(
        mask in masks(),
        square in any::<bool>(),
        corners in (any::<prop::sample::Index>(), any::<prop::sample::Index>(),
                    any::<prop::sample::Index>(), any::<prop::sample::Index>()),
    ) {
        let (w, h) = (mask.width, mask.height);
        let (a, b) = (corners.0.index(h), corners.1.index(h));
        let (c, d) = (corners.2.index(w), corners.3.index(w));
        let (y0, y1, x0, x1) = (a.min(b), a.max(b), c.min(d), c.max(d));
        let rect = Rect { y0: y0 as u32, x0: x0 as u32, y1: y1 as u32, x1: x1 as u32 };
        let structure = if square { Structure::Square } else { Structure::Cross };
        let p = MorphParams::new(mask.dims(), rect, structure);
        let part = naive::opening::crop(w, &mask.px, y0, x0, y1, x1);
        let pw = x1 - x0 + 1;
        let ph = y1 - y0 + 1;

        let mut got = vec![7u32; w * h];
        erode(&p, &mask.px, &mut got);
        let want = naive::opening::uncrop(
            w, h, &naive::opening::erode(pw, ph, square, &part), y0, x0, pw);
        prop_assert!(got == want, "{}",
            diff_message(&format!("erode in {rect:?} square={square}"), &mask, &got, &want));

        let mut got = vec![7u32; w * h];
        dilate(&p, &mask.px, &mut got);
        let want = naive::opening::uncrop(
            w, h, &naive::opening::dilate(pw, ph, square, &part), y0, x0, pw);
        prop_assert!(got == want, "{}",
            diff_message(&format!("dilate in {rect:?} square={square}"), &mask, &got, &want));
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn opening_rows_equal_passes(
        (w, h, px) in schedules::masks(),
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
}
