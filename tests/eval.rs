//! `floodseg eval` agrees with StarDist's `matching()` / `matching_dataset()`: committed label
//! pairs (single images and 3-frame stacks, with splits, merges, shifts, misses, invented
//! objects and non-sequential labels) and StarDist's answers at IoU 0.05 … 1.0, written by
//! `scripts/reference/check_eval.py --write-fixture tests/fixtures/eval`.

mod common;

use std::process::Command;

use common::repo;
use floodseg::eval::{evaluate, read_label_frames};

/// The numbers of one flat JSON object `{"k": v, ...}`.
fn parse_json(line: &str) -> Vec<(String, f64)> {
    line.trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split(',')
        .map(|kv| {
            let (k, v) = kv.split_once(':').unwrap();
            (
                k.trim().trim_matches('"').to_string(),
                v.trim().parse().unwrap(),
            )
        })
        .collect()
}

fn get(row: &[(String, f64)], key: &str) -> f64 {
    row.iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no key {key}"))
        .1
}

const THRESHOLDS: [f64; 9] = [0.05, 0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 0.9, 1.0];

#[test]
fn eval_agrees_with_stardist_matching() {
    let dir = repo().join("tests/fixtures/eval");
    for case in 0..8 {
        let gt = read_label_frames(&dir.join(format!("case{case}_gt.tif"))).unwrap();
        let pred = read_label_frames(&dir.join(format!("case{case}_pred.tif"))).unwrap();
        let got = evaluate(&gt, &pred, &THRESHOLDS).unwrap();
        let want = std::fs::read_to_string(dir.join(format!("case{case}_stardist.json"))).unwrap();
        let want: Vec<_> = want.lines().map(parse_json).collect();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            let at = format!("case {case}, IoU {}", g.iou);
            assert_eq!(g.iou, get(w, "iou"), "{at}");
            assert_eq!(g.tp as f64, get(w, "tp"), "{at}: tp");
            assert_eq!(g.fp as f64, get(w, "fp"), "{at}: fp");
            assert_eq!(g.fn_ as f64, get(w, "fn"), "{at}: fn");
            for (key, value) in [
                ("precision", g.precision()),
                ("recall", g.recall()),
                ("f1", g.f1()),
                ("mean_matched_iou", g.mean_matched_iou()),
                ("panoptic_quality", g.panoptic_quality()),
            ] {
                // StarDist sums IoUs in float32
                assert!(
                    (value - get(w, key)).abs() <= 1e-6,
                    "{at}: {key} {value} vs {}",
                    get(w, key)
                );
            }
        }
    }
}

#[test]
fn eval_cli_prints_one_json_object_per_threshold() {
    let dir = repo().join("tests/fixtures/eval");
    let out = Command::new(env!("CARGO_BIN_EXE_floodseg"))
        .args(["eval", "--json", "--iou", "0.5,0.75", "--gt"])
        .arg(dir.join("case0_gt.tif"))
        .arg("--pred")
        .arg(dir.join("case0_pred.tif"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<_> = text.lines().map(parse_json).collect();
    assert_eq!(rows.len(), 2);
    for (row, iou) in rows.iter().zip([0.5, 0.75]) {
        let keys: Vec<&str> = row.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            &keys[..9],
            [
                "iou",
                "tp",
                "fp",
                "fn",
                "precision",
                "recall",
                "f1",
                "mean_matched_iou",
                "panoptic_quality"
            ]
        );
        assert_eq!(get(row, "iou"), iou);
    }

    // bad thresholds and mismatched sizes are clear errors
    let bad = Command::new(env!("CARGO_BIN_EXE_floodseg"))
        .args(["eval", "--iou", "0,1.5", "--gt"])
        .arg(dir.join("case0_gt.tif"))
        .arg("--pred")
        .arg(dir.join("case0_pred.tif"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let other = Command::new(env!("CARGO_BIN_EXE_floodseg"))
        .args(["eval", "--gt"])
        .arg(dir.join("case0_gt.tif"))
        .arg("--pred")
        .arg(repo().join("data/ecoli/mask_0000_deflate.tif"))
        .output()
        .unwrap();
    assert_eq!(
        other.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
}
