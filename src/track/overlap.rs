//! The pair histogram of two consecutive label images: for every pair of objects (a in the
//! previous frame, b in the current one) the number of pixels they share once the previous
//! frame is moved by the stage drift. It is the whole overlap matrix in one pass over the
//! pixels; the linker ([`super::link`]) reads every score it needs from it.
//!
//! Convention: `shift = (dy, dx)` is how far the content moved from the previous frame to the
//! current one, so the current pixel (y, x) is compared with the previous pixel
//! (y − dy, x − dx); pixels whose partner falls outside the previous frame count for nothing.
//!
//! The result is a list sorted by (prev, cur) with no zero counts: an order-free integer
//! reduction, so any backend that counts the same pixels gives the same bytes. The twin
//! [`pair_histogram`] is `crate::cpu::pairs::pair_histogram` (stage **pairs**, next to its
//! shader; `Segmenter::pair_histogram` runs either); the naive definition is here.

// The type and the twin live with the stages, which both backends run (`crate::cpu::pairs`).
pub use crate::cpu::pairs::{pair_histogram, PairCount};

/// The naive definition, pixel by pixel into a map (tests hold [`pair_histogram`] to it).
pub fn pair_histogram_naive(
    prev: &[u32],
    cur: &[u32],
    width: usize,
    height: usize,
    shift: (i32, i32),
) -> Vec<PairCount> {
    let mut map = std::collections::BTreeMap::<(u32, u32), u32>::new();
    for y in 0..height as i64 {
        for x in 0..width as i64 {
            let (py, px) = (y - shift.0 as i64, x - shift.1 as i64);
            if py < 0 || px < 0 || py >= height as i64 || px >= width as i64 {
                continue;
            }
            let a = prev[py as usize * width + px as usize];
            let b = cur[y as usize * width + x as usize];
            if a != 0 && b != 0 {
                *map.entry((a, b)).or_default() += 1;
            }
        }
    }
    map.into_iter()
        .map(|((prev, cur), pixels)| PairCount { prev, cur, pixels })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::SplitMix64;

    #[test]
    fn equals_the_naive_count_on_random_labels_and_shifts() {
        let mut rng = SplitMix64(7);
        for case in 0..200 {
            let w = 1 + (rng.next() % 23) as usize;
            let h = 1 + (rng.next() % 19) as usize;
            let k = 1 + rng.next() % 5;
            // blocky labels so that runs form
            let gen = |rng: &mut SplitMix64| -> Vec<u32> {
                let mut v = vec![0u32; w * h];
                let mut cur = 0u32;
                for p in v.iter_mut() {
                    if rng.next().is_multiple_of(4) {
                        cur = (rng.next() % (k + 1)) as u32;
                    }
                    *p = cur;
                }
                v
            };
            let a = gen(&mut rng);
            let b = gen(&mut rng);
            let shift = ((rng.next() % 9) as i32 - 4, (rng.next() % 9) as i32 - 4);
            assert_eq!(
                pair_histogram(&a, &b, w, h, shift),
                pair_histogram_naive(&a, &b, w, h, shift),
                "case {case}: {w}×{h} shift {shift:?}"
            );
        }
    }

    #[test]
    fn a_shift_past_the_frame_counts_nothing() {
        let a = vec![1u32; 12];
        assert!(pair_histogram(&a, &a, 4, 3, (3, 0)).is_empty());
        assert!(pair_histogram(&a, &a, 4, 3, (0, -4)).is_empty());
        assert_eq!(
            pair_histogram(&a, &a, 4, 3, (1, -1)),
            vec![PairCount {
                prev: 1,
                cur: 1,
                pixels: 6
            }]
        );
    }
}
