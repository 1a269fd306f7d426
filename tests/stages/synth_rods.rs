//! `synth::rods`: deterministic synthetic rods with ground truth.

use floodseg::synth::{rods, RodsOptions};
use floodseg::Samples;
use std::collections::{BTreeSet, HashMap};

fn pixels(img: &floodseg::RawImage) -> &[u8] {
    match &img.samples {
        Samples::U8(d) => d,
        _ => panic!("rods are 8-bit"),
    }
}

/// Number of 8-connected components of each label (index = label).
fn components_per_label(labels: &[u32], w: usize, h: usize, n: usize) -> Vec<usize> {
    let mut seen = vec![false; labels.len()];
    let mut count = vec![0usize; n + 1];
    for start in 0..labels.len() {
        let l = labels[start];
        if l == 0 || seen[start] {
            continue;
        }
        count[l as usize] += 1;
        seen[start] = true;
        let mut stack = vec![start];
        while let Some(i) = stack.pop() {
            let (r, c) = ((i / w) as isize, (i % w) as isize);
            for dr in -1..=1 {
                for dc in -1..=1 {
                    let (rr, cc) = (r + dr, c + dc);
                    if rr < 0 || cc < 0 || rr >= h as isize || cc >= w as isize {
                        continue;
                    }
                    let j = rr as usize * w + cc as usize;
                    if !seen[j] && labels[j] == l {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
    }
    count
}

/// Unordered pairs of distinct labels that are 8-adjacent somewhere.
fn touching_pairs(labels: &[u32], w: usize, h: usize) -> BTreeSet<(u32, u32)> {
    let mut out = BTreeSet::new();
    for r in 0..h {
        for c in 0..w {
            let a = labels[r * w + c];
            if a == 0 {
                continue;
            }
            for (dr, dc) in [(0, 1), (1, -1), (1, 0), (1, 1)] {
                let (rr, cc) = (r as isize + dr, c as isize + dc);
                if rr >= h as isize || cc < 0 || cc >= w as isize {
                    continue;
                }
                let b = labels[rr as usize * w + cc as usize];
                if b != 0 && b != a {
                    out.insert((a.min(b), a.max(b)));
                }
            }
        }
    }
    out
}

#[test]
fn deterministic_for_a_seed() {
    let o = RodsOptions::default();
    let (a, la) = rods(200, 150, 7, &o);
    let (b, lb) = rods(200, 150, 7, &o);
    assert_eq!(pixels(&a), pixels(&b));
    assert_eq!(la, lb);
    let (c, lc) = rods(200, 150, 8, &o);
    assert_ne!(pixels(&a), pixels(&c));
    assert_ne!(la, lc);
    assert_eq!((a.width, a.height, a.channels), (200, 150, 1));
    assert_eq!(la.len(), 200 * 150);
}

#[test]
fn labels_consecutive_and_each_one_component() {
    for seed in 0..6 {
        let (w, h) = (256, 192);
        let (_, lab) = rods(w, h, seed, &RodsOptions::default());
        let present: BTreeSet<u32> = lab.iter().copied().filter(|&l| l != 0).collect();
        let n = present.len();
        assert!(n >= 5, "seed {seed}: only {n} rods");
        assert_eq!(
            present,
            (1..=n as u32).collect::<BTreeSet<_>>(),
            "seed {seed}"
        );
        let comps = components_per_label(&lab, w, h, n);
        for (l, &k) in comps.iter().enumerate().skip(1) {
            assert_eq!(k, 1, "seed {seed}: label {l} has {k} components");
        }
        let mut area: HashMap<u32, usize> = HashMap::new();
        for &l in &lab {
            *area.entry(l).or_default() += 1;
        }
        assert!(area.iter().all(|(&l, &a)| l == 0 || a >= 30), "seed {seed}");
    }
}

#[test]
fn dark_rods_on_brighter_background_in_range() {
    let (w, h) = (256, 256);
    let (img, lab) = rods(w, h, 3, &RodsOptions::default());
    let px = pixels(&img);
    let (mut fg, mut nf, mut bg, mut nb) = (0.0, 0.0, 0.0, 0.0);
    for (&v, &l) in px.iter().zip(&lab) {
        if l != 0 {
            fg += v as f64;
            nf += 1.0;
        } else {
            bg += v as f64;
            nb += 1.0;
        }
    }
    let (fg, bg) = (fg / nf, bg / nb);
    assert!(bg - fg > 50.0, "cells {fg:.1} vs background {bg:.1}");
    // noisy but not saturated: few pixels at the extremes
    let extremes = px.iter().filter(|&&v| v == 0 || v == 255).count();
    assert!(extremes < px.len() / 100, "{extremes} saturated pixels");
    let (min, max) = (px.iter().min().unwrap(), px.iter().max().unwrap());
    assert!(max - min > 80, "range {min}..{max}");
}

#[test]
fn touching_pairs_present_when_asked_and_absent_otherwise() {
    let (w, h) = (320, 240);
    let mut with = RodsOptions {
        touching: 0.8,
        ..RodsOptions::default()
    };
    let mut total = 0;
    for seed in 0..3 {
        let (_, lab) = rods(w, h, seed, &with);
        total += touching_pairs(&lab, w, h).len();
    }
    assert!(total >= 6, "only {total} touching pairs in 3 fields");
    with.touching = 0.0;
    for seed in 0..3 {
        let (_, lab) = rods(w, h, seed, &with);
        assert!(touching_pairs(&lab, w, h).is_empty(), "seed {seed}");
    }
}

#[test]
fn rods_have_the_requested_width_and_length() {
    // no jitter, a single rod size: each unclipped object is about width × length
    let o = RodsOptions {
        width: 10.0,
        width_jitter: 0.0,
        min_aspect: 3.0,
        max_aspect: 3.0,
        touching: 0.0,
        ..RodsOptions::default()
    };
    let (w, h) = (300, 300);
    let (_, lab) = rods(w, h, 11, &o);
    let n = *lab.iter().max().unwrap() as usize;
    let mut area = vec![0usize; n + 1];
    for &l in &lab {
        area[l as usize] += 1;
    }
    // capsule of width 10, length 30: 20×10 rectangle + disk of radius 5 ≈ 278.5 px
    let full = area[1..]
        .iter()
        .filter(|&&a| (250..=310).contains(&a))
        .count();
    assert!(
        full * 2 > n,
        "{full} of {n} rods have the expected area: {area:?}"
    );
    assert!(area[1..].iter().all(|&a| a <= 310), "{area:?}");
}

#[test]
fn flat_clean_options_give_two_levels() {
    let o = RodsOptions {
        noise: 0.0,
        blur: 0.0,
        illumination: 0.0,
        halo: 0.0,
        debris: 0.0,
        ..RodsOptions::default()
    };
    let (img, lab) = rods(128, 128, 5, &o);
    for (&v, &l) in pixels(&img).iter().zip(&lab) {
        let want = if l != 0 { 90 } else { 190 };
        assert_eq!(v, want);
    }
}

/// Writes synthetic rods fields for the Python prototype (`scripts/eval/`):
/// `FLOODSEG_SYNTH_RODS_DIR=dir cargo test --test stages -- --ignored synth_rods::write_fields`
/// writes `rods_<variant>_<seed>.tif` (u8 image) and `..._gt.tif` (labels) into `dir`.
#[test]
#[ignore]
fn write_fields() {
    let Ok(dir) = std::env::var("FLOODSEG_SYNTH_RODS_DIR") else {
        eprintln!("FLOODSEG_SYNTH_RODS_DIR not set; nothing written");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let variants = [
        ("default", RodsOptions::default()),
        (
            "dense",
            RodsOptions {
                density: 0.3,
                touching: 0.7,
                ..RodsOptions::default()
            },
        ),
    ];
    for (name, o) in &variants {
        for seed in 1..=2u64 {
            let (img, lab) = rods(384, 384, seed, o);
            let stem = format!("rods_{name}_{seed}");
            floodseg::io::write_tiff_u8(&dir.join(format!("{stem}.tif")), 384, 384, pixels(&img))
                .unwrap();
            floodseg::io::write_labels_tiff(&dir.join(format!("{stem}_gt.tif")), 384, 384, &lab)
                .unwrap();
        }
    }
}

#[test]
fn thin_rods_and_tiny_images() {
    let thin = RodsOptions {
        width: 3.0,
        width_jitter: 0.5,
        ..RodsOptions::default()
    };
    let (w, h) = (128, 96);
    let (_, lab) = rods(w, h, 1, &thin);
    let n = *lab.iter().max().unwrap() as usize;
    assert!(n >= 10, "only {n} thin rods");
    assert!(components_per_label(&lab, w, h, n)[1..]
        .iter()
        .all(|&k| k == 1));
    for (w, h) in [(1, 1), (1, 40), (40, 1), (7, 5)] {
        let (img, lab) = rods(w, h, 2, &RodsOptions::default());
        assert_eq!((img.width, img.height, lab.len()), (w, h, w * h));
    }
}
