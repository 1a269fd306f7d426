//! `floodseg synth timelapse`: an 8-bit multi-page movie of growing, dividing rods and its
//! Cell Tracking Challenge truth (TRA/SEG masks, `man_track.txt`, `cells.csv`) that passes the
//! CTC rules, made the same way twice, refused outputs, and a movie `segment --preset rods`
//! segments well (checked with `eval` against the SEG masks).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use floodseg::ctc;
use floodseg::io::{read_labels_tiff, FrameSource};

use crate::bin;

fn out_dir(name: &str) -> PathBuf {
    crate::out_dir_in("cli-synth-tests", name)
}

fn synth(args: &[&str], stack: &Path, gt: &Path) -> Output {
    bin()
        .args(["synth", "timelapse", "-o"])
        .arg(stack)
        .arg("--gt")
        .arg(gt)
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    err
}

#[test]
fn synth_timelapse_writes_a_movie_and_valid_ctc_truth() {
    let d = out_dir("timelapse");
    let (stack, gt) = (d.join("movie.tif"), d.join("gt"));
    let args = [
        "--size",
        "120x90",
        "--frames",
        "14",
        "--seed",
        "4",
        "--cells",
        "8",
        "--drift",
        "2",
        "--blur-frames",
        "3,9",
        "--doubling",
        "8",
    ];
    let err = ok(synth(&args, &stack, &gt));
    assert!(err.contains("14 frames") && err.contains("tracks") && err.contains("divisions"));

    // the movie: 14 frames of 120×90 u8, as `segment` reads it
    let src = FrameSource::open(&stack, None).unwrap();
    assert_eq!(src.len(), Some(14));
    for f in src {
        let f = f.unwrap();
        assert_eq!((f.width, f.height, f.channels), (120, 90, 1));
        assert!(matches!(f.samples, floodseg::Samples::U8(_)));
    }

    // the truth: both mask folders, every frame, the same labels; the track file's rules hold
    let tracks = ctc::read_tracks(&gt.join("TRA/man_track.txt")).unwrap();
    let tra = ctc::list_masks(&gt.join("TRA"), "man_track").unwrap();
    let seg = ctc::list_masks(&gt.join("SEG"), "man_seg").unwrap();
    assert_eq!(tra.len(), 14);
    assert_eq!(seg.len(), 14);
    assert!(tra[13].1.ends_with("TRA/man_track013.tif"));
    let mut present = Vec::new();
    for ((_, a), (_, b)) in tra.iter().zip(&seg) {
        let (w, h, la) = read_labels_tiff(a).unwrap();
        assert_eq!((w, h), (120, 90));
        assert_eq!(la, read_labels_tiff(b).unwrap().2);
        present.push(
            la.into_iter()
                .filter(|&l| l != 0)
                .collect::<BTreeSet<u32>>(),
        );
    }
    let problems = ctc::validate(&tracks, &present, 10);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(
        tracks.iter().any(|t| t.parent != 0),
        "no division in the truth"
    );

    // cells.csv: one row per track, the same lineage
    let csv = std::fs::read_to_string(gt.join("cells.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "track_id,parent_id,start_frame,end_frame,divides,touches_border,growth_rate,\
         length_birth,length_division"
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), tracks.len());
    // a division is in the truth with both daughters seen
    for t in tracks.iter().filter(|t| t.parent != 0) {
        let sisters = tracks.iter().filter(|s| s.parent == t.parent).count();
        assert_eq!(sisters, 2, "track {} has {sisters} daughters", t.parent);
    }
    let mut shrunk = 0; // tracks that go on through a division with one daughter seen
    for (row, t) in rows.iter().zip(&tracks) {
        let n = |k: usize| row[k].parse::<usize>().unwrap();
        assert_eq!(
            (n(0), n(1), n(2), n(3)),
            (t.label as usize, t.parent as usize, t.begin, t.end)
        );
        let r: f64 = row[6].parse().unwrap();
        // doubling 8 frames ± 20 %
        assert!((0.69 / 9.7..=0.70 / 6.3).contains(&r), "rate {r}");
        let (lb, ld): (f64, f64) = (row[7].parse().unwrap(), row[8].parse().unwrap());
        assert!(lb >= 8.0 && ld >= 8.0, "lengths {lb} {ld}");
        shrunk += usize::from(ld < lb);
    }

    // the same command makes the same files (over the first run's, which it may replace)
    let again = d.join("again.tif");
    ok(synth(&args, &again, &gt));
    assert_eq!(
        std::fs::read(&stack).unwrap(),
        std::fs::read(&again).unwrap()
    );
    assert_eq!(
        ctc::read_tracks(&gt.join("TRA/man_track.txt")).unwrap(),
        tracks
    );
    assert_eq!(std::fs::read_to_string(gt.join("cells.csv")).unwrap(), csv);

    // --hidden-divisions: the same movie, every simulated division in the truth (one-child
    // parents too), so every track is one cell's life and grows from its first frame to its last
    let (hidden_stack, hidden_gt) = (d.join("hidden.tif"), d.join("gt-hidden"));
    let mut hidden_args = args.to_vec();
    hidden_args.push("--hidden-divisions");
    ok(synth(&hidden_args, &hidden_stack, &hidden_gt));
    assert_eq!(
        std::fs::read(&stack).unwrap(),
        std::fs::read(&hidden_stack).unwrap()
    );
    let all = ctc::read_tracks(&hidden_gt.join("TRA/man_track.txt")).unwrap();
    let hidden = all.len() - tracks.len();
    assert!(
        hidden > 0,
        "no division with one daughter seen in this movie"
    );
    assert!(
        shrunk <= hidden,
        "{shrunk} tracks shrink, {hidden} hidden divisions"
    );
    let csv = std::fs::read_to_string(hidden_gt.join("cells.csv")).unwrap();
    for row in csv.lines().skip(1) {
        let v: Vec<&str> = row.split(',').collect();
        let (lb, ld): (f64, f64) = (v[7].parse().unwrap(), v[8].parse().unwrap());
        assert!(ld >= lb, "lengths {lb} {ld}");
    }
}

#[test]
fn synth_timelapse_refuses_bad_flags_and_outputs() {
    let d = out_dir("timelapse-refused");
    let refused = |o: Output, what: &str| {
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains("error"), "{what}: {err}");
    };
    let (stack, gt) = (d.join("movie.tif"), d.join("gt"));
    let small = ["--size", "40x30", "--frames", "4"];
    // no truth folder, a PNG movie, the movie inside the truth folder, a file as the folder
    refused(
        bin()
            .args(["synth", "timelapse", "-o"])
            .arg(&stack)
            .args(small)
            .output()
            .unwrap(),
        "no --gt",
    );
    refused(synth(&small, &d.join("movie.png"), &gt), "png");
    refused(synth(&small, &gt.join("movie.tif"), &gt), "inside gt");
    std::fs::write(d.join("file"), "x").unwrap();
    refused(synth(&small, &stack, &d.join("file")), "gt is a file");
    // a folder holding something this run would not write
    let other = d.join("other");
    std::fs::create_dir_all(other.join("TRA")).unwrap();
    std::fs::write(other.join("TRA/man_track007.tif"), "x").unwrap();
    refused(synth(&small, &stack, &other), "stale mask");
    // bad values
    for bad in [
        &["--frames", "0"][..],
        &["--frames", "4", "--out-of-focus", "4"],
        &["--frames", "4", "--blur-frames", "4"],
        &["--frames", "4", "--doubling", "0"],
        &["--frames", "4", "--drift", "-1"],
        &["--frames", "4", "--size", "40x30", "--width", "50"],
        &["--frames", "4", "--out-of-focus", "1", "--blur-frames", "2"],
    ] {
        refused(synth(bad, &stack, &gt), &format!("{bad:?}"));
    }
    assert!(
        !stack.exists() && !gt.exists(),
        "a refused run wrote something"
    );
    // flags of `timelapse` with another kind
    refused(
        bin()
            .args(["synth", "rods", "--frames", "3", "-o"])
            .arg(d.join("rods.png"))
            .output()
            .unwrap(),
        "rods --frames",
    );
}

/// The movie is segmentable: `segment --preset rods` on an in-focus movie with drift scores
/// F1 ≥ 0.85 at IoU 0.5 against the SEG masks.
#[test]
fn synth_timelapse_is_segmented_by_the_rods_preset() {
    let d = out_dir("timelapse-segment");
    let (stack, gt) = (d.join("movie.tif"), d.join("gt"));
    ok(synth(
        &[
            "--size", "128x128", "--frames", "8", "--drift", "3", "--seed", "2",
        ],
        &stack,
        &gt,
    ));
    let seg = d.join("seg.tif");
    let out = bin()
        .arg("segment")
        .arg(&stack)
        .args(["--preset", "rods", "--backend", "cpu", "-q", "-o"])
        .arg(&seg)
        .output()
        .unwrap();
    ok(out);
    let out = bin()
        .arg("eval")
        .arg("--gt")
        .arg(gt.join("SEG"))
        .arg("--pred")
        .arg(&seg)
        .args(["--iou", "0.5", "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    ok(out);
    let line = text.lines().next().unwrap();
    let at = line.find("\"f1\":").unwrap() + 5;
    let f1: f64 = line[at..]
        .split([',', '}'])
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(f1 >= 0.85, "F1 {f1}: {line}");
}
