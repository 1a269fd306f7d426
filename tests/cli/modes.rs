//! The command line of the accuracy modes: presets and their overrides, flags that do not fit
//! the chosen markers, `synth rods` with ground truth, `--clear-border`, and `tune`, whose best
//! line reproduces its score through `segment` + `eval`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::bin;
use crate::common::*;

fn out_dir(name: &str) -> PathBuf {
    crate::out_dir_in("cli-modes-tests", name)
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}\n{}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The value of `key` in one line of `--json` output (numbers and strings).
fn field(line: &str, key: &str) -> String {
    let at = line.find(&format!("\"{key}\":")).unwrap() + key.len() + 3;
    let rest = line[at..].trim_start_matches('"');
    rest.split(['"', ',', '}']).next().unwrap().to_string()
}

/// `synth rods` of `size` and `seed` into `out_dir(name)` (rods.png, gt.tif), then `tune` on
/// it with `args`: the folder and tune's stdout.
fn synth_and_tune(name: &str, size: &str, seed: &str, args: &[&str]) -> (PathBuf, String) {
    let d = out_dir(name);
    run(bin()
        .args(["synth", "rods", "--size", size, "--seed", seed, "-o"])
        .arg(d.join("rods.png"))
        .arg("--gt")
        .arg(d.join("gt.tif")));
    let out = run(bin()
        .arg("tune")
        .arg(d.join("rods.png"))
        .arg("--gt")
        .arg(d.join("gt.tif"))
        .args(args));
    (d, stdout(&out))
}

/// F1 at IoU 0.5 of `segment d/rods.png ARGS` (CPU) against `d/gt.tif`, via `eval`.
fn f1_of_args(d: &Path, args: &str, pred: &str) -> f64 {
    let pred = d.join(pred);
    run(bin()
        .arg("segment")
        .arg(d.join("rods.png"))
        .arg("-o")
        .arg(&pred)
        .args(args.split_whitespace())
        .args(["--backend", "cpu", "-q"]));
    let ev = run(bin()
        .arg("eval")
        .arg("--gt")
        .arg(d.join("gt.tif"))
        .arg("--pred")
        .arg(&pred)
        .args(["--iou", "0.5", "--json"]));
    field(stdout(&ev).trim(), "f1").parse().unwrap()
}

#[test]
fn preset_lecture_is_the_lecture_pipeline() {
    let d = out_dir("preset-lecture");
    let a = run(bin()
        .arg("segment")
        .arg(repo().join("data/ecoli.png"))
        .arg("-o")
        .arg(d.join("a.tif"))
        .args(["--preset", "lecture", "--backend", "cpu"]));
    let b = run(bin()
        .arg("segment")
        .arg(repo().join("data/ecoli.png"))
        .arg("-o")
        .arg(d.join("b.tif"))
        .args([
            "--threshold",
            "180",
            "--dark",
            "--open",
            "1",
            "--min-distance",
            "10",
            "--footprint",
            "10",
            "--backend",
            "cpu",
        ]));
    assert_eq!(stdout(&a), "3 objects\n");
    assert_eq!(stdout(&a), stdout(&b));
    assert_eq!(
        std::fs::read(d.join("a.tif")).unwrap(),
        std::fs::read(d.join("b.tif")).unwrap()
    );
}

#[test]
fn flags_override_a_preset() {
    let d = out_dir("override");
    // rods with its markers, border, flood and filters overridden equals the plain flags
    let a = run(bin()
        .arg("segment")
        .arg(repo().join("data/omnipose/Sample000252_crop.png"))
        .arg("-o")
        .arg(d.join("a.tif"))
        .args([
            "--preset",
            "rods",
            "--markers",
            "peaks",
            "--min-distance",
            "4",
            "--exclude-border",
            "4",
            "--min-area",
            "0",
            "--min-eccentricity",
            "0",
            "--flood",
            "distance",
            "--backend",
            "cpu",
        ]));
    let b = run(bin()
        .arg("segment")
        .arg(repo().join("data/omnipose/Sample000252_crop.png"))
        .arg("-o")
        .arg(d.join("b.tif"))
        .args([
            "--dark",
            "--open",
            "1",
            "--min-distance",
            "4",
            "--backend",
            "cpu",
        ]));
    assert_eq!(stdout(&a), stdout(&b));
    assert_eq!(
        std::fs::read(d.join("a.tif")).unwrap(),
        std::fs::read(d.join("b.tif")).unwrap()
    );
}

#[test]
fn flags_that_do_not_fit_the_markers_are_refused() {
    let d = out_dir("refused");
    let cases: [(&[&str], &str); 13] = [
        (&["--h", "1"], "--h"),
        (&["--background", "0"], "--background"),
        (&["--background", "101"], "--background"),
        (&["--clear-border", "-1"], "--clear-border"),
        (&["--clear-border", "20000"], "--clear-border"),
        (&["--core", "otsu"], "--core"),
        (&["--core", "dark"], "--core"),
        (&["--core", "1e40"], "--core"),
        (&["--markers", "hmax", "--h", "0.3"], "--h"),
        (&["--markers", "hmax", "--h", "-1"], "--h"),
        (
            &["--preset", "rods", "--min-distance", "3"],
            "--min-distance",
        ),
        (&["--min-area", "50", "--max-area", "10"], "--max-area"),
        (
            &["--smooth", "1", "--markers", "regional", "--footprint", "3"],
            "--footprint",
        ),
    ];
    for (args, flag) in cases {
        let out = bin()
            .arg("segment")
            .arg(repo().join("data/ecoli.png"))
            .arg("-o")
            .arg(d.join("x.tif"))
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?}: {err}");
        assert!(!d.join("x.tif").exists(), "{args:?} left a file");
    }
    // float image + smoothing: a parameter error naming --smooth, nothing written
    let out = bin()
        .arg("segment")
        .arg(repo().join("data/colicoords/brightfield.tif"))
        .arg("-o")
        .arg(d.join("x.tif"))
        .args(["--preset", "rods", "--smooth", "1", "--backend", "cpu"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("--smooth"), "{err}");
    assert!(!d.join("x.tif").exists());
    // … and with --background, on either backend
    for backend in ["cpu", "gpu"] {
        if backend == "gpu" && gpu().is_none() {
            continue;
        }
        let out = bin()
            .arg("segment")
            .arg(repo().join("data/colicoords/brightfield.tif"))
            .arg("-o")
            .arg(d.join("x.tif"))
            .args([
                "--preset",
                "rods",
                "--background",
                "5",
                "--backend",
                backend,
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{backend}: {err}");
        assert!(err.contains("--background"), "{backend}: {err}");
        assert!(!d.join("x.tif").exists());
    }
}

/// `tune`'s own checks: a float input's default grid leaves smoothing out (and an explicit
/// `--smooth 1` is refused before any work), lists for marker kinds not tried are refused, and
/// decimal ranges print as written.
#[test]
fn tune_checks_its_lists_first() {
    let d = out_dir("tune-checks");
    let float = repo().join("data/colicoords/brightfield.tif");
    let gt = repo().join("data/colicoords/binary.tif");
    let base = |extra: &[&str]| {
        bin()
            .arg("tune")
            .arg(&float)
            .arg("--gt")
            .arg(&gt)
            .args(["--dark", "--backend", "cpu", "-q", "--open", "1"])
            .args(extra)
            .output()
            .unwrap()
    };
    let ok = base(&["--markers", "hmax", "--h", "1", "--min-area", "0"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    for (extra, flag) in [
        (&["--smooth", "1"][..], "--smooth"),
        (&["--markers", "peaks", "--h", "1"][..], "--h"),
        (
            &["--markers", "hmax", "--min-distance", "3"][..],
            "--min-distance",
        ),
        (&["--markers", "hmax", "--h", "1e9"][..], "at most 50000"),
        (&["--markers", "hmax", "--core", "otsu"][..], "--core"),
        (&["--markers", "hmax", "--core", "0.5,x"][..], "--core"),
        (&["--markers", "hmax", "--flood", "height"][..], "--flood"),
    ] {
        let out = base(extra);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(flag), "{extra:?}: {err}");
    }
    // a decimal range on a float image: levels 0.95, 0.97, 0.99 exactly as written
    let out = base(&[
        "--markers",
        "hmax",
        "--h",
        "1",
        "--min-area",
        "0",
        "--threshold",
        "0.95:0.99:0.02",
        "--top",
        "3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    for t in [
        "--threshold 0.95 ",
        "--threshold 0.97 ",
        "--threshold 0.99 ",
    ] {
        assert!(text.contains(t), "{t:?} missing in {text}");
    }
    let _ = d;
}

/// `synth rods` writes an image and its ground truth; `tune` finds settings; its best line,
/// run through `segment` and `eval`, gives the F1 it printed.
#[test]
fn tune_best_line_reproduces_its_f1() {
    let (d, text) = synth_and_tune(
        "tune",
        "160x120",
        "7",
        &[
            "--dark",
            "--backend",
            "cpu",
            "--smooth",
            "0,1",
            "--open",
            "0,1",
            "--markers",
            "peaks,hmax",
            "--min-distance",
            "3,6",
            "--h",
            "0.5,1.5",
            "--min-area",
            "0,20",
            "--top",
            "3",
            "--json",
            "-q",
        ],
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let best_f1: f64 = field(lines[0], "f1").parse().unwrap();
    let second_f1: f64 = field(lines[1], "f1").parse().unwrap();
    assert!(best_f1 >= second_f1);
    assert!(best_f1 > 0.5, "{text}");
    let args = field(lines[0], "args");
    let f1 = f1_of_args(&d, &args, "best.tif");
    assert!((f1 - best_f1).abs() < 1e-12, "tune {best_f1} vs eval {f1}");
}

#[test]
fn tune_on_the_gpu_scores_like_the_cpu() {
    if gpu().is_none() {
        return;
    }
    let d = out_dir("tune-gpu");
    run(bin()
        .args(["synth", "rods", "--size", "96x80", "--seed", "3", "-o"])
        .arg(d.join("rods.png"))
        .arg("--gt")
        .arg(d.join("gt.tif")));
    let args = [
        "--dark",
        "--smooth",
        "0,1",
        "--open",
        "1",
        "--markers",
        "peaks,regional,hmax",
        "--min-distance",
        "3",
        "--h",
        "1",
        "--min-area",
        "0,15",
        "--core",
        "none,scan:2",
        "--flood",
        "distance,intensity",
        "--top",
        "1000",
        "--json",
        "-q",
    ];
    let tune = |backend: &str| {
        stdout(&run(bin()
            .arg("tune")
            .arg(d.join("rods.png"))
            .arg("--gt")
            .arg(d.join("gt.tif"))
            .args(args)
            .args(["--backend", backend])))
    };
    assert_eq!(tune("gpu"), tune("cpu"));
}

/// With `--core` levels and `--flood intensity` forced, every printed line (a threshold with
/// no stricter core level is tried without one; the others name their core) run through
/// `segment` and `eval` gives the F1 `tune` printed.
#[test]
fn tune_lines_with_core_and_intensity_flood_reproduce_their_f1() {
    let (d, text) = synth_and_tune(
        "tune-core",
        "150x110",
        "11",
        &[
            "--preset",
            "rods",
            "--threshold",
            "scan:4",
            "--core",
            "scan:4",
            "--flood",
            "intensity",
            "--top",
            "6",
            "--json",
            "-q",
            "--backend",
            "cpu",
        ],
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    let with_core = lines
        .iter()
        .filter(|l| field(l, "args").contains("--core "))
        .count();
    assert!(with_core >= 3, "{text}");
    for (k, line) in lines.iter().enumerate() {
        let args = field(line, "args");
        assert!(args.contains("--flood intensity"), "{args}");
        let want: f64 = field(line, "f1").parse().unwrap();
        let f1 = f1_of_args(&d, &args, &format!("line{k}.tif"));
        assert!(
            (f1 - want).abs() < 1e-12,
            "{args}: tune {want} vs eval {f1}"
        );
    }
}

/// `--clear-border B` leaves no object within B of the edge and keeps the others whole;
/// `tune --clear-border off,0,4` scores all three (and nothing else varies, so they are its
/// three lines) and its lines reproduce their F1 through `segment` + `eval`.
#[test]
fn clear_border_drops_objects_at_the_edge_and_tune_tries_it() {
    let (d, text) = synth_and_tune(
        "clear-border",
        "160x120",
        "5",
        &[
            "--preset",
            "rods",
            "--threshold",
            "otsu",
            "--core",
            "none",
            "--clear-border",
            "off,0,4",
            "--top",
            "3",
            "--json",
            "-q",
            "--backend",
            "cpu",
        ],
    );
    let count = |args: &[&str], name: &str| -> (usize, Vec<u32>, usize) {
        let out = run(bin()
            .arg("segment")
            .arg(d.join("rods.png"))
            .arg("-o")
            .arg(d.join(name))
            .args(["--preset", "rods", "--backend", "cpu"])
            .args(args));
        let n: usize = stdout(&out)
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let (w, _, labels) = read_tiff_u32(&d.join(name));
        (w, labels, n)
    };
    let (w, all, n_all) = count(&[], "all.tif");
    let h = all.len() / w;
    let mut last = n_all;
    for (args, b) in [
        (&["--clear-border", "0"][..], 0usize),
        (&["--clear-border", "4"][..], 4),
    ] {
        let (_, cleared, n) = count(args, &format!("b{b}.tif"));
        assert!(n < last, "{args:?}: {n} objects, {last} before");
        last = n;
        let mut kept = std::collections::BTreeSet::new();
        for (i, &l) in cleared.iter().enumerate() {
            if l == 0 {
                continue;
            }
            let (y, x) = (i / w, i % w);
            assert!(
                y > b && x > b && y + b + 1 < h && x + b + 1 < w,
                "{args:?}: label {l} at ({y}, {x})"
            );
            kept.insert(all[i]);
        }
        // every kept object is an object of the unfiltered labels, whole
        assert_eq!(kept.len(), n, "{args:?}");
        for &old in &kept {
            let a = all.iter().filter(|&&l| l == old).count();
            let pixel = all.iter().position(|&l| l == old).unwrap();
            let new = cleared[pixel];
            let c = cleared.iter().filter(|&&l| l == new).count();
            assert_eq!(a, c, "{args:?}: object {old} changed");
        }
    }
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let mut borders = Vec::new();
    for (k, line) in lines.iter().enumerate() {
        let args = field(line, "args");
        let want: f64 = field(line, "f1").parse().unwrap();
        let f1 = f1_of_args(&d, &args, &format!("line{k}.tif"));
        assert!(
            (f1 - want).abs() < 1e-12,
            "{args}: tune {want} vs eval {f1}"
        );
        borders.push(
            args.split("--clear-border ")
                .nth(1)
                .map(|r| r.split_whitespace().next().unwrap().to_string()),
        );
    }
    borders.sort();
    assert_eq!(
        borders,
        [None, Some("0".into()), Some("4".into())],
        "{text}"
    );
}

/// `tune --background off,3` searches both, each radius with its own `scan` levels: the
/// printed lines include settings with and without `--background 3`, and each reproduces its
/// F1 through `segment` + `eval`; a float image is refused with `--background`.
#[test]
fn tune_tries_background_radii_with_their_own_levels() {
    let (d, text) = synth_and_tune(
        "tune-background",
        "140x100",
        "8",
        &[
            "--preset",
            "rods",
            "--threshold",
            "scan:4",
            "--core",
            "none",
            "--background",
            "off,3",
            "--top",
            "100",
            "--json",
            "-q",
            "--backend",
            "cpu",
        ],
    );
    let lines: Vec<&str> = text.lines().collect();
    let with: Vec<&&str> = lines
        .iter()
        .filter(|l| field(l, "args").contains("--background 3"))
        .collect();
    assert!(!with.is_empty() && with.len() < lines.len(), "{text}");
    // the radius's levels are the flattened image's (near white for dark cells), not the raw
    // image's: no threshold is shared between the two searches
    let threshold = |l: &str| {
        let args = field(l, "args");
        args.split("--threshold ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_string()
    };
    let raw: std::collections::BTreeSet<String> = lines
        .iter()
        .filter(|l| !field(l, "args").contains("--background"))
        .map(|l| threshold(l))
        .collect();
    assert!(with.iter().all(|l| !raw.contains(&threshold(l))), "{text}");
    for (k, line) in lines
        .iter()
        .take(2)
        .chain(with.iter().take(2).copied())
        .enumerate()
    {
        let args = field(line, "args");
        let want: f64 = field(line, "f1").parse().unwrap();
        let f1 = f1_of_args(&d, &args, &format!("line{k}.tif"));
        assert!(
            (f1 - want).abs() < 1e-12,
            "{args}: tune {want} vs eval {f1}"
        );
    }
    let out = bin()
        .arg("tune")
        .arg(repo().join("data/colicoords/brightfield.tif"))
        .arg("--gt")
        .arg(repo().join("data/colicoords/binary.tif"))
        .args(["--preset", "rods", "--background", "off,5", "-q"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--background"), "{err}");
}
