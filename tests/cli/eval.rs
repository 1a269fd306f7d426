//! `floodseg eval` end to end on sparse annotations: folders paired by name, `--frames` of a
//! time-lapse against masks of a few frames, `--per-frame`, the empty-ground-truth warning,
//! unchanged summary output, and errors that print one line and nothing on stdout; and
//! `eval --ctc-gt/--ctc-res` on the CTC fixtures of `tests/data/ctc/` (py-ctcmetrics' numbers,
//! invalid results refused, the flags that exclude each other).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::bin;
use crate::common::repo;
use floodseg::eval::{read_label_frames, LabelImage};
use floodseg::io::{LabelType, StackWriter};

fn out_dir(name: &str) -> PathBuf {
    crate::out_dir_in("cli-tests", name)
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// `floodseg eval --gt GT --pred PRED ARGS`.
fn eval(gt: &Path, pred: &Path, args: &[&str]) -> Command {
    let mut c = bin();
    c.arg("eval")
        .arg("--gt")
        .arg(gt)
        .arg("--pred")
        .arg(pred)
        .args(args);
    c
}

fn ecoli(name: &str) -> PathBuf {
    repo().join("data/ecoli").join(name)
}

/// Segment `input` with the lecture's settings (CPU) into `output`.
fn segment(input: &Path, output: &Path) {
    run(bin().arg("segment").arg(input).arg("-o").arg(output).args([
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
        "-q",
    ]));
}

/// Labels of the lecture's frames 0 and 10, segmented once: `l0.tif`, `l10.tif`.
fn labels() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = out_dir("eval-labels");
        segment(&ecoli("img_0000.tif"), &d.join("l0.tif"));
        segment(&ecoli("img_0010.tif"), &d.join("l10.tif"));
        d
    })
}

fn label(name: &str) -> PathBuf {
    labels().join(name)
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
}

fn write_stack(path: &Path, files: &[PathBuf]) {
    let mut w = StackWriter::create(path, LabelType::U16).unwrap();
    for f in files {
        for LabelImage {
            width,
            height,
            labels,
        } in read_label_frames(f).unwrap()
        {
            w.write_frame(width, height, &labels).unwrap();
        }
    }
    w.finish().unwrap();
}

/// The value of `key` in a flat JSON object.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    let at = line.find(&format!("\"{key}\":")).unwrap() + key.len() + 3;
    let rest = &line[at..];
    &rest[..rest.find([',', '}']).unwrap()]
}

/// An error: the exit code, nothing on stdout, one `floodseg: error:` line on stderr.
fn one_line_error(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{cmd:?}: {err}");
    assert_eq!(stdout(&out), "", "{cmd:?}");
    assert_eq!(err.lines().count(), 1, "{cmd:?}: {err}");
    assert!(err.starts_with("floodseg: error: "), "{err}");
    err
}

#[test]
fn summary_output_of_files_is_unchanged() {
    // written by the binary before eval learnt pairing and --per-frame
    let dir = repo().join("tests/fixtures/eval");
    let one = eval(
        &dir.join("case0_gt.tif"),
        &dir.join("case0_pred.tif"),
        &["--json"],
    )
    .output()
    .unwrap();
    assert_eq!(
        stdout(&one),
        r#"{"iou":0.5,"tp":11,"fp":6,"fn":9,"precision":0.6470588235294118,"recall":0.55,"f1":0.5945945945945946,"mean_matched_iou":0.8634102127768777,"panoptic_quality":0.5133790454349002,"n_true":20,"n_pred":17}
{"iou":0.75,"tp":8,"fp":9,"fn":12,"precision":0.47058823529411764,"recall":0.4,"f1":0.43243243243243246,"mean_matched_iou":0.9821428582072258,"panoptic_quality":0.42471042517069224,"n_true":20,"n_pred":17}
{"iou":0.9,"tp":7,"fp":10,"fn":13,"precision":0.4117647058823529,"recall":0.35,"f1":0.3783783783783784,"mean_matched_iou":1,"panoptic_quality":0.3783783783783784,"n_true":20,"n_pred":17}
"#
    );
    assert_eq!(stderr(&one), "", "one image against one says nothing");
    let stack = run(&mut eval(
        &dir.join("case5_gt.tif"),
        &dir.join("case5_pred.tif"),
        &[],
    ));
    assert_eq!(
        stdout(&stack),
        "3 frames, 16 ground-truth and 16 predicted objects
  iou     tp     fp     fn  precision  recall     f1  mean_iou     pq
 0.50     12      4      4     0.7500  0.7500 0.7500    0.9241 0.6930
 0.75     10      6      6     0.6250  0.6250 0.6250    0.9862 0.6164
 0.90      9      7      7     0.5625  0.5625 0.5625    1.0000 0.5625
"
    );
    assert_eq!(
        stderr(&stack),
        "floodseg: paired 3 frames by position: case5_gt.tif:0 ↔ case5_pred.tif:0, \
         case5_gt.tif:1 ↔ case5_pred.tif:1, case5_gt.tif:2 ↔ case5_pred.tif:2\n"
    );
}

#[test]
fn folders_pair_by_frame_number_not_by_file_order() {
    let d = out_dir("eval-swapped");
    let (gt, pred) = (d.join("gt"), d.join("pred"));
    std::fs::create_dir_all(&gt).unwrap();
    std::fs::create_dir_all(&pred).unwrap();
    copy(
        &ecoli("mask_0000_deflate.tif"),
        &gt.join("mask_0000_deflate.tif"),
    );
    copy(
        &ecoli("mask_0010_deflate.tif"),
        &gt.join("mask_0010_deflate.tif"),
    );
    // in name order PRED's frame 10 comes first
    copy(&label("l0.tif"), &pred.join("b_0000.tif"));
    copy(&label("l10.tif"), &pred.join("a_0010.tif"));
    let by_name = run(&mut eval(&gt, &pred, &["--json"]));
    assert_eq!(
        stderr(&by_name),
        "floodseg: paired 2 frames by frame number: mask_0000_deflate.tif ↔ b_0000.tif, \
         mask_0010_deflate.tif ↔ a_0010.tif\n"
    );

    // the same frames paired by hand, as two stacks in the right order ...
    write_stack(
        &d.join("gt.tif"),
        &[
            ecoli("mask_0000_deflate.tif"),
            ecoli("mask_0010_deflate.tif"),
        ],
    );
    write_stack(&d.join("right.tif"), &[label("l0.tif"), label("l10.tif")]);
    let right = run(&mut eval(
        &d.join("gt.tif"),
        &d.join("right.tif"),
        &["--json"],
    ));
    assert_eq!(stdout(&by_name), stdout(&right));
    // ... and in file order, which scores differently
    write_stack(&d.join("wrong.tif"), &[label("l10.tif"), label("l0.tif")]);
    let wrong = run(&mut eval(
        &d.join("gt.tif"),
        &d.join("wrong.tif"),
        &["--json"],
    ));
    let f1 = |o: &Output| field(stdout(o).lines().next().unwrap(), "f1").to_string();
    assert_ne!(f1(&wrong), f1(&right));

    // identical stems, with PRED frames nobody annotated sorted in between: not scored
    let (gt2, pred2) = (d.join("gt2"), d.join("pred2"));
    std::fs::create_dir_all(&gt2).unwrap();
    std::fs::create_dir_all(&pred2).unwrap();
    copy(&ecoli("mask_0000_deflate.tif"), &gt2.join("f_b.tif"));
    copy(&ecoli("mask_0010_deflate.tif"), &gt2.join("f_d.tif"));
    copy(&label("l10.tif"), &pred2.join("f_a.tif"));
    copy(&label("l0.tif"), &pred2.join("f_b.tif"));
    copy(&label("l0.tif"), &pred2.join("f_c.tif"));
    copy(&label("l10.tif"), &pred2.join("f_d.tif"));
    let sparse = run(&mut eval(&gt2, &pred2, &["--json"]));
    assert_eq!(stdout(&sparse), stdout(&right));
    assert_eq!(
        stderr(&sparse),
        "floodseg: paired 2 frames by file name: f_b.tif ↔ f_b.tif, f_d.tif ↔ f_d.tif; 2 of 4 \
         predicted frames scored\n"
    );
    let text = stdout(&run(&mut eval(&gt2, &pred2, &[])));
    assert!(
        text.starts_with(
            "2 frames, 35 ground-truth and 90 predicted objects (2 of 4 predicted frames scored)\n"
        ),
        "{text}"
    );
}

#[test]
fn frames_of_a_31_frame_stack_against_the_masks_of_frames_0_and_10() {
    let d = out_dir("eval-frames");
    // a 31-frame time-lapse: frames 1 and 10 are the lecture's frame 10, the others its frame
    // 0, so picking a neighbour of 0 or 10 changes the scores
    let frames = d.join("frames");
    std::fs::create_dir_all(&frames).unwrap();
    for t in 0..31 {
        let src = ecoli(if t == 1 || t == 10 {
            "img_0010.tif"
        } else {
            "img_0000.tif"
        });
        let dst = frames.join(format!("img_{t:04}.tif"));
        if std::fs::hard_link(&src, &dst).is_err() {
            copy(&src, &dst);
        }
    }
    let stack = d.join("stack.tif");
    segment(&frames, &stack);
    assert_eq!(read_label_frames(&stack).unwrap().len(), 31);

    let masks = d.join("masks");
    std::fs::create_dir_all(&masks).unwrap();
    copy(
        &ecoli("mask_0000_deflate.tif"),
        &masks.join("mask_0000_deflate.tif"),
    );
    copy(
        &ecoli("mask_0010_deflate.tif"),
        &masks.join("mask_0010_deflate.tif"),
    );
    let singles = d.join("singles");
    std::fs::create_dir_all(&singles).unwrap();
    copy(&label("l0.tif"), &singles.join("img_0000.tif"));
    copy(&label("l10.tif"), &singles.join("img_0010.tif"));

    let picked = run(&mut eval(
        &masks,
        &stack,
        &["--frames", "0,10", "--json", "--per-frame"],
    ));
    assert_eq!(
        stderr(&picked),
        "floodseg: paired 2 frames by --frames 0,10 (GT by frame number, PRED by index): \
         mask_0000_deflate.tif ↔ stack.tif:0, mask_0010_deflate.tif ↔ stack.tif:10; 2 of 31 \
         predicted frames scored\n"
    );
    // the same numbers as the single-frame labels of img_0000.tif and img_0010.tif
    let singly = run(&mut eval(&masks, &singles, &["--json", "--per-frame"]));
    let (a, b) = (stdout(&picked), stdout(&singly));
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(a.len(), 3 + 6);
    assert_eq!(a[..3], b[..3], "summary");
    let stats = |line: &str| line[line.find("\"iou\"").unwrap()..].to_string();
    for (x, y) in a[3..].iter().zip(&b[3..]) {
        assert_eq!(stats(x), stats(y));
        assert_eq!(field(x, "frame"), field(y, "frame"));
        assert_eq!(field(x, "name"), field(y, "name"));
    }
    assert_eq!(field(a[3], "frame"), "0");
    assert_eq!(field(a[6], "frame"), "10");
    assert_eq!(field(a[6], "name"), "\"mask_0010_deflate.tif\"");
    assert_eq!(field(a[6], "pred_name"), "\"stack.tif:10\"");
    // each frame's object is what scoring that frame alone prints
    for (line, mask, single) in [
        (a[3], "mask_0000_deflate.tif", "l0.tif"),
        (a[6], "mask_0010_deflate.tif", "l10.tif"),
    ] {
        let alone = stdout(&run(&mut eval(&ecoli(mask), &label(single), &["--json"])));
        assert_eq!(stats(line), alone.lines().next().unwrap()[1..]);
    }
    // without --per-frame: exactly the summary lines
    let plain = run(&mut eval(&masks, &stack, &["--frames", "0,10", "--json"]));
    assert_eq!(stdout(&plain), a[..3].join("\n") + "\n");
    // a 2-page GT stack is those frames in order; a range gives the same list
    write_stack(
        &d.join("gt.tif"),
        &[
            ecoli("mask_0000_deflate.tif"),
            ecoli("mask_0010_deflate.tif"),
        ],
    );
    let from_stack = run(&mut eval(
        &d.join("gt.tif"),
        &stack,
        &["--frames", "0:10:10", "--json"],
    ));
    assert_eq!(stdout(&from_stack), stdout(&plain));
    // the neighbouring frames score differently (the test can tell a wrong pick)
    let off = run(&mut eval(
        &d.join("gt.tif"),
        &stack,
        &["--frames", "1,11", "--json"],
    ));
    assert_ne!(stdout(&off), stdout(&plain));

    // the text table: the summary, then per frame
    let text = stdout(&run(&mut eval(
        &masks,
        &stack,
        &["--frames", "0,10", "--per-frame", "--iou", "0.5"],
    )));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "2 frames, 35 ground-truth and 90 predicted objects (2 of 31 predicted frames scored)"
    );
    assert_eq!(lines[3..5], ["", "per frame:"]);
    assert!(lines[5].starts_with("frame  name                  n_true n_pred   iou"));
    assert!(lines[6].starts_with("    0  mask_0000_deflate.tif     17     46  0.50"));
    assert!(lines[7].starts_with("   10  mask_0010_deflate.tif     18     44  0.50"));

    // without --frames: an error that gives the list to use
    let err = one_line_error(&mut eval(&masks, &stack, &[]), 3);
    assert!(
        err.contains("GT (")
            && err.contains("has 2 frames but PRED (")
            && err.contains(
                "has 31 frames; GT's file names carry frame numbers: add --frames 0,10 to score \
             those frames of PRED"
            ),
        "{err}"
    );
    // out of range: names the count
    let err = one_line_error(
        &mut eval(&d.join("gt.tif"), &stack, &["--frames", "0,31"]),
        2,
    );
    assert!(
        err.ends_with("stack.tif) holds 31 frames (0 to 30)\n"),
        "{err}"
    );
    assert!(
        err.contains("invalid parameter --frames: 31 out of range"),
        "{err}"
    );
}

#[test]
fn an_empty_ground_truth_frame_is_a_warning() {
    let d = out_dir("eval-empty");
    let (gt, pred) = (d.join("gt"), d.join("pred"));
    std::fs::create_dir_all(&gt).unwrap();
    std::fs::create_dir_all(&pred).unwrap();
    copy(&ecoli("mask_0000_deflate.tif"), &gt.join("mask_0000.tif"));
    floodseg::io::write_labels_tiff(&gt.join("mask_0003.tif"), 640, 480, &vec![0; 640 * 480])
        .unwrap();
    copy(&label("l0.tif"), &pred.join("img_0000.tif"));
    copy(&label("l0.tif"), &pred.join("img_0003.tif"));
    let out = run(&mut eval(&gt, &pred, &["--per-frame", "--iou", "0.5"]));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert_eq!(
        lines[1],
        "floodseg: warning: ground-truth frame 3 (mask_0003.tif) holds no object; its 46 \
         predicted objects count as false positives, and its own precision, recall and F1 are 0 \
         (is the frame annotated?)"
    );
    let text = stdout(&out);
    assert!(
        text.contains("\n    3  mask_0003.tif      0     46  0.50      0     46      0"),
        "{text}"
    );
}

#[test]
fn errors_print_one_line_and_nothing_else() {
    let d = out_dir("eval-errors");
    let (gt, pred) = (d.join("gt"), d.join("pred"));
    std::fs::create_dir_all(&gt).unwrap();
    std::fs::create_dir_all(&pred).unwrap();
    copy(&ecoli("mask_0000_deflate.tif"), &gt.join("mask_0000.tif"));
    copy(&ecoli("mask_0010_deflate.tif"), &gt.join("mask_0010.tif"));
    copy(&label("l0.tif"), &pred.join("img_0000.tif"));
    copy(&label("l0.tif"), &pred.join("img_0001.tif"));
    // a ground-truth frame without prediction is named
    let err = one_line_error(&mut eval(&gt, &pred, &[]), 3);
    assert!(
        err.contains("no predicted frame for ground-truth mask_0010.tif"),
        "{err}"
    );
    // ambiguous numbers
    copy(&label("l0.tif"), &pred.join("img_0010.tif"));
    copy(&label("l0.tif"), &pred.join("other_10.tif"));
    let err = one_line_error(&mut eval(&gt, &pred, &[]), 3);
    assert!(
        err.contains("PRED files img_0010.tif, other_10.tif all carry 10 (mask_0010.tif)"),
        "{err}"
    );
    // bad lists
    for (list, says) in [
        ("0,x", "\"x\" is not a frame index"),
        ("0,0", "frame 0 is listed twice"),
        ("9:1", "a range needs START <= END"),
    ] {
        let err = one_line_error(&mut eval(&gt, &pred, &["--frames", list]), 2);
        assert!(err.contains(says), "{list}: {err}");
    }
    // a numbered folder lacking a listed frame
    let err = one_line_error(&mut eval(&gt, &pred, &["--frames", "0,5"]), 2);
    assert!(err.contains("has no file numbered 5"), "{err}");
    // a list past PRED's end, or past a numbered GT folder's numbers
    let dir = repo().join("tests/fixtures/eval");
    let err = one_line_error(
        &mut eval(&gt, &dir.join("case5_pred.tif"), &["--frames", "0,10"]),
        2,
    );
    assert!(err.contains("10 out of range"), "{err}");
    let err = one_line_error(
        &mut eval(&gt, &dir.join("case5_pred.tif"), &["--frames", "0,1"]),
        2,
    );
    assert!(
        err.contains("GT (") && err.contains("has no file numbered 1"),
        "{err}"
    );
    // sizes that differ name the frame
    let err = one_line_error(
        &mut eval(
            &dir.join("case5_gt.tif"),
            &ecoli("mask_0000_deflate.tif"),
            &["--frames", "0"],
        ),
        3,
    );
    assert!(
        err.contains("frame 0 (case5_gt.tif:0 ↔ mask_0000_deflate.tif): ground truth is"),
        "{err}"
    );
    // a missing path
    one_line_error(&mut eval(&d.join("nothing"), &pred, &[]), 3);
}

fn ctc_case(name: &str) -> (PathBuf, PathBuf) {
    let d = repo().join("tests/data/ctc").join(name);
    (d.join("gt"), d.join("res"))
}

/// `floodseg eval --ctc-gt GT --ctc-res RES ARGS`.
fn eval_ctc(case: &str, args: &[&str]) -> Command {
    let (gt, res) = ctc_case(case);
    let mut c = bin();
    c.arg("eval")
        .arg("--ctc-gt")
        .arg(gt)
        .arg("--ctc-res")
        .arg(res)
        .args(args);
    c
}

/// The number `key` has in `case`'s object of tests/data/ctc/expected.json (`None`: null).
fn py_ctcmetrics(case: &str, key: &str) -> Option<f64> {
    let text = std::fs::read_to_string(repo().join("tests/data/ctc/expected.json")).unwrap();
    let at = text.find(&format!("\"{case}\": {{")).unwrap();
    let obj = &text[at..at + text[at..].find('}').unwrap() + 1];
    let v = field(&obj.replace("\": ", "\":"), key).trim().to_string();
    (v != "null").then(|| v.parse().unwrap())
}

#[test]
fn ctc_eval_prints_py_ctcmetrics_measures_as_text_and_json() {
    let case = "case_13"; // a mix of every perturbation
    let json = stdout(&run(&mut eval_ctc(case, &["--json"])));
    assert_eq!(json.lines().count(), 1, "{json}");
    let text = stdout(&run(&mut eval_ctc(case, &[])));
    let keys: Vec<&str> = text
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    for key in [
        "DET",
        "SEG",
        "TRA",
        "LNK",
        "CT",
        "TF",
        "BC(0)",
        "BC(3)",
        "CCA",
        "BIO(0)",
        "OP_CSB",
        "OP_CTB",
        "OP_CLB(0)",
        "AOGM",
        "AOGM_0",
        "AOGM_NS",
        "gt_divisions",
        "tp_div(1)",
    ] {
        assert!(keys.contains(&key), "{key} not printed: {text}");
    }
    // the same keys in the same order, each number py-ctcmetrics' (text to 6 decimals)
    let json_keys: Vec<String> = json
        .trim()
        .trim_matches(['{', '}'])
        .split(',')
        .map(|kv| kv.split_once(':').unwrap().0.trim_matches('"').to_string())
        .collect();
    assert_eq!(keys, json_keys);
    for (line, key) in text.lines().zip(&keys) {
        let want = py_ctcmetrics(case, key);
        let got = field(&json, key);
        let shown = line.split_whitespace().nth(1).unwrap();
        match want {
            None => assert_eq!((got, shown), ("null", "N/A"), "{key}"),
            Some(w) => {
                assert_eq!(got.parse::<f64>().unwrap(), w, "{key}");
                assert!(
                    (shown.parse::<f64>().unwrap() - w).abs() <= 5e-7,
                    "{key}: {line}"
                );
            }
        }
    }
}

#[test]
fn ctc_eval_refuses_an_invalid_result_and_mixed_modes() {
    let err = one_line_error(&mut eval_ctc("invalid_00", &[]), 3);
    assert!(
        err.contains("is not a valid CTC result") && err.contains("has no track line"),
        "{err}"
    );
    let err = one_line_error(&mut eval_ctc("invalid_01", &["--json"]), 3);
    assert!(err.contains("ends in frame"), "{err}");
    // --ctc-gt needs --ctc-res and excludes the label-matching flags (clap: exit 2)
    let (gt, _) = ctc_case("case_00");
    let out = bin().arg("eval").arg("--ctc-gt").arg(&gt).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    for extra in [&["--gt", "x.tif"][..], &["--iou", "0.5"], &["--per-frame"]] {
        let out = eval_ctc("case_00", extra).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("cannot be used with"),
            "{}",
            stderr(&out)
        );
    }
    // the label-matching mode still needs both of its inputs
    let out = bin().arg("eval").arg("--gt").arg(&gt).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
