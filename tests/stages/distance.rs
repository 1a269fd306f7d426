//! Jump-flooding variants against the exact separable transform (the default mode): JFA+2 and
//! JFA² must equal it on every fixture; every variant's error is measured and printed (share of
//! pixels wrong, largest error in d²) — the numbers the README quotes.

use crate::common::*;
use floodseg::cpu::distance::{distance, DistanceMode, JfaVariant};
use floodseg::cpu::Dims;
use floodseg::pipeline::{segment_cpu, Params};

use floodseg::synth::SplitMix64;

/// Bacteria-like masks: random rods (capsules) and disks, touching, at odd sizes.
fn rod_mask(seed: u64, w: usize, h: usize) -> Vec<u32> {
    let mut rng = SplitMix64(seed);
    let mut m = vec![0u32; w * h];
    let n = 4 + (rng.next() % 40) as usize;
    for _ in 0..n {
        let cy = (rng.next() % h as u64) as f64;
        let cx = (rng.next() % w as u64) as f64;
        let len = 2.0 + (rng.next() % 30) as f64;
        let r = 1.5 + (rng.next() % 9) as f64;
        let ang = (rng.next() % 628) as f64 / 100.0;
        let (dy, dx) = (ang.sin() * len / 2.0, ang.cos() * len / 2.0);
        for y in 0..h {
            for x in 0..w {
                // distance from (y, x) to the segment
                let (py, px) = (y as f64 - (cy - dy), x as f64 - (cx - dx));
                let (sy, sx) = (2.0 * dy, 2.0 * dx);
                let t = ((py * sy + px * sx) / (sy * sy + sx * sx).max(1e-9)).clamp(0.0, 1.0);
                let (ey, ex) = (py - t * sy, px - t * sx);
                if ey * ey + ex * ex <= r * r {
                    m[y * w + x] = 1;
                }
            }
        }
    }
    m
}

fn masks() -> Vec<(String, Dims, Vec<u32>)> {
    let mut v = Vec::new();
    for case in fixture_cases() {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let (w, h, opened) = read_tiff_u32(&case.join("opened.tif"));
        v.push((name, Dims::new(w, h), opened));
    }
    for (k, (w, h)) in [(127usize, 131usize), (256, 256), (301, 97), (64, 509)]
        .iter()
        .enumerate()
    {
        for s in 0..3u64 {
            let seed = 1000 + k as u64 * 10 + s;
            v.push((
                format!("rods_{w}x{h}_{seed}"),
                Dims::new(*w, *h),
                rod_mask(seed, *w, *h),
            ));
        }
    }
    v
}

/// JFA+2 and JFA² are not exact by construction; this holds them to the exact transform on every
/// fixture and on the synthetic rod masks (the claim the README makes).
#[test]
fn distance_jfa2_and_jfa_plus2_equal_exact_on_every_fixture() {
    for (name, dims, mask) in masks() {
        let exact = distance(dims, DistanceMode::Exact, &mask);
        for v in [JfaVariant::Plus2, JfaVariant::Squared] {
            let got = distance(dims, DistanceMode::Jfa(v), &mask);
            assert_same(
                &format!("{name}-{v:?}"),
                "distance2",
                dims.width as usize,
                &got,
                &exact,
            );
        }
    }
}

#[test]
fn distance_jfa_variants_measured_against_exact() {
    let all = masks();
    let mut lines = Vec::new();
    for (label, variant) in [
        ("jfa", JfaVariant::Plain),
        ("jfa+2", JfaVariant::Plus2),
        ("jfa2", JfaVariant::Squared),
    ] {
        let (mut wrong, mut total, mut worst, mut cases_wrong) = (0usize, 0usize, 0u32, 0usize);
        for (_, dims, mask) in &all {
            let exact = distance(*dims, DistanceMode::Exact, mask);
            let got = distance(*dims, DistanceMode::Jfa(variant), mask);
            let mut case_wrong = false;
            for (g, e) in got.iter().zip(&exact) {
                // jump flooding may pick a farther seed but never a nearer one than exists
                assert!(g >= e, "{label}: underestimates a distance");
                if g != e {
                    wrong += 1;
                    worst = worst.max(g - e);
                    case_wrong = true;
                }
            }
            cases_wrong += case_wrong as usize;
            total += exact.len();
        }
        lines.push(format!(
            "{label:>6}: {wrong} of {total} pixels wrong ({:.4} %), largest d² error {worst}, {cases_wrong} of {} masks affected",
            100.0 * wrong as f64 / total as f64,
            all.len()
        ));
    }
    eprintln!("{}", lines.join("\n"));
}

#[test]
fn distance_modes_give_the_lecture_answer() {
    let img = floodseg::io::read_image(&repo().join("data/ecoli.png")).unwrap();
    for mode in [DistanceMode::Exact, DistanceMode::Jfa(JfaVariant::Squared)] {
        let p = Params {
            level: floodseg::cpu::threshold::parse_level("180").unwrap(),
            dark: true,
            open: 1,
            min_distance: 10,
            footprint: Some(10),
            distance: mode,
            ..Params::default()
        };
        assert_eq!(segment_cpu(&img, &p).unwrap().count(), 3, "{mode:?}");
    }
}
