//! `floodseg eval` agrees with StarDist's `matching()` / `matching_dataset()`: committed label
//! pairs (single images and 3-frame stacks, with splits, merges, shifts, misses, invented
//! objects and non-sequential labels) and StarDist's answers at IoU 0.05 … 1.0, written by
//! `scripts/reference/check_eval.py --write-fixture tests/fixtures/eval`.

use std::process::Command;

use crate::common::repo;
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

/// A fresh folder under `target/cli-tests/`.
fn out_dir(name: &str) -> std::path::PathBuf {
    let d = repo().join("target").join("cli-tests").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_stack(path: &std::path::Path, frames: &[floodseg::eval::LabelImage]) {
    use floodseg::io::{LabelType, StackWriter};
    let mut w = StackWriter::create(path, LabelType::U32).unwrap();
    for f in frames {
        w.write_frame(f.width, f.height, &f.labels).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn label_source_counts_pages_and_reads_only_those_asked_for() {
    use floodseg::eval::{FrameRef, LabelSource};
    let d = out_dir("eval-source");
    // a 5-page stack: the fixture's 3 pages and 2 more
    let mut frames = read_label_frames(&repo().join("tests/fixtures/eval/case5_gt.tif")).unwrap();
    frames.extend(read_label_frames(&repo().join("tests/fixtures/eval/case5_pred.tif")).unwrap());
    frames.truncate(5);
    write_stack(&d.join("stack.tif"), &frames);
    let s = LabelSource::open(&d.join("stack.tif")).unwrap();
    assert!(!s.folder);
    assert_eq!((s.files.len(), s.len()), (1, 5));
    let want = [FrameRef { file: 0, page: 3 }, FrameRef { file: 0, page: 1 }];
    let got = s.read(&want).unwrap();
    assert_eq!(got, [frames[3].clone(), frames[1].clone()]);
    assert_eq!(s.name(want[0]), "stack.tif:3");
    let e = s.read(&[FrameRef { file: 0, page: 5 }]).unwrap_err();
    assert_eq!(e.exit_code(), 3, "{e}");

    // a folder: natural order, one-page files carry frame numbers
    let f = d.join("folder");
    std::fs::create_dir_all(&f).unwrap();
    for (name, frame) in [("m_10.tif", &frames[0]), ("m_9.tif", &frames[1])] {
        floodseg::io::write_labels_tiff(&f.join(name), frame.width, frame.height, &frame.labels)
            .unwrap();
    }
    let s = LabelSource::open(&f).unwrap();
    assert!(s.folder);
    let names: Vec<&str> = s.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["m_9.tif", "m_10.tif"]);
    assert_eq!(s.frame_numbers(), Some(vec![9, 10]));
    assert_eq!(s.read(&s.frames()).unwrap(), read_label_frames(&f).unwrap());
}

#[test]
fn evaluate_paths_with_frames_scores_exactly_those_frames() {
    use floodseg::eval::{evaluate_paths, matching};
    let dir = repo().join("tests/fixtures/eval");
    let (gt_path, pred_path) = (dir.join("case5_gt.tif"), dir.join("case5_pred.tif"));
    let gt = read_label_frames(&gt_path).unwrap();
    let pred = read_label_frames(&pred_path).unwrap();
    let ev = evaluate_paths(&gt_path, &pred_path, Some(&[2, 0]), &THRESHOLDS).unwrap();
    let picked = evaluate(
        &[gt[2].clone(), gt[0].clone()],
        &[pred[2].clone(), pred[0].clone()],
        &THRESHOLDS,
    )
    .unwrap();
    assert_eq!(ev.summary, picked);
    let frames: Vec<u64> = ev.frames.iter().map(|f| f.frame).collect();
    assert_eq!(frames, [2, 0]);
    assert_eq!(
        ev.frames[0].matching,
        matching(&gt[2], &pred[2], &THRESHOLDS).unwrap()
    );
    assert_eq!(ev.pairing.pred_frames, 3);
    // without a list: every frame, as `evaluate` scores them
    let all = evaluate_paths(&gt_path, &pred_path, None, &THRESHOLDS).unwrap();
    assert_eq!(all.summary, evaluate(&gt, &pred, &THRESHOLDS).unwrap());
    assert_eq!(all.frames.len(), 3);
}
