//! `floodseg::ctc::metrics` against py-ctcmetrics 1.3.3 on the committed Cell Tracking
//! Challenge folders of `tests/data/ctc/` (random lineages and results perturbed from them,
//! written with py-ctcmetrics' numbers by `scripts/reference/ctc_metrics.py`): every measure
//! and count equal, the result folders that break a CTC rule refused with that rule named, and
//! the errors for missing files, missing frames and size mismatches.
//!
//! Tolerance: counts and every measure computed from counts (DET, TRA, LNK, AOGM, CT, BC(i),
//! CCA) are the same `f64` operations as py-ctcmetrics' and compared exactly; SEG and TF add
//! floating-point values, which numpy does pairwise and floodseg in order, so they (and BIO,
//! OP_*) are compared to 1e-9 (they differ by 1e-16 or nothing).

use std::path::{Path, PathBuf};

use crate::common::repo;
use floodseg::ctc::metrics::{evaluate_folders, validate_folder, Value};

fn data() -> PathBuf {
    repo().join("tests/data/ctc")
}

// --- a small JSON reader for expected.json (objects, arrays, strings, numbers, null) -----

#[derive(Clone, Debug, PartialEq)]
enum Json {
    Null,
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

struct Reader<'a> {
    s: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn ws(&mut self) {
        while self.at < self.s.len() && self.s[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }
    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(self.s[self.at] as char, c as char, "at byte {}", self.at);
        self.at += 1;
    }
    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = String::new();
        loop {
            let c = self.s[self.at];
            self.at += 1;
            match c {
                b'"' => return out,
                b'\\' => {
                    let e = self.s[self.at];
                    self.at += 1;
                    match e {
                        b'n' => out.push('\n'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hex = std::str::from_utf8(&self.s[self.at..self.at + 4]).unwrap();
                            self.at += 4;
                            out.push(
                                char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap(),
                            );
                        }
                        other => out.push(other as char),
                    }
                }
                _ => {
                    // copy a whole UTF-8 sequence
                    let start = self.at - 1;
                    let len = match c {
                        0..=0x7f => 1,
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        _ => 4,
                    };
                    self.at = start + len;
                    out.push_str(std::str::from_utf8(&self.s[start..self.at]).unwrap());
                }
            }
        }
    }
    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.at] {
            b'{' => {
                self.at += 1;
                let mut kv = Vec::new();
                self.ws();
                if self.s[self.at] == b'}' {
                    self.at += 1;
                    return Json::Obj(kv);
                }
                loop {
                    let k = self.string();
                    self.eat(b':');
                    kv.push((k, self.value()));
                    self.ws();
                    self.at += 1;
                    if self.s[self.at - 1] == b'}' {
                        return Json::Obj(kv);
                    }
                }
            }
            b'[' => {
                self.at += 1;
                let mut v = Vec::new();
                self.ws();
                if self.s[self.at] == b']' {
                    self.at += 1;
                    return Json::Arr(v);
                }
                loop {
                    v.push(self.value());
                    self.ws();
                    self.at += 1;
                    if self.s[self.at - 1] == b']' {
                        return Json::Arr(v);
                    }
                }
            }
            b'"' => Json::Str(self.string()),
            b'n' => {
                self.at += 4;
                Json::Null
            }
            _ => {
                let start = self.at;
                while self.at < self.s.len() && b"+-.eE0123456789".contains(&self.s[self.at]) {
                    self.at += 1;
                }
                let text = std::str::from_utf8(&self.s[start..self.at]).unwrap();
                Json::Num(text.parse().unwrap_or_else(|_| panic!("number {text:?}")))
            }
        }
    }
}

fn expected() -> Vec<(String, Json)> {
    let text = std::fs::read_to_string(data().join("expected.json")).unwrap();
    match (Reader {
        s: text.as_bytes(),
        at: 0,
    })
    .value()
    {
        Json::Obj(kv) => kv,
        other => panic!("expected.json is not an object: {other:?}"),
    }
}

fn case_dirs(name: &str) -> (PathBuf, PathBuf) {
    (data().join(name).join("gt"), data().join(name).join("res"))
}

/// Measures floodseg adds floating-point values for (module doc), compared to 1e-9.
fn summed(key: &str) -> bool {
    ["SEG", "TF", "BIO", "OP_"]
        .iter()
        .any(|p| key.starts_with(p))
}

#[test]
fn ctc_metrics_equal_py_ctcmetrics_on_every_fixture() {
    let mut cases = 0;
    let mut compared = 0;
    let mut max_diff = 0.0f64;
    // the fixtures must exercise what they are for
    let mut seen = std::collections::BTreeSet::new();
    for (name, want) in expected().iter().filter(|(k, _)| k.starts_with("case_")) {
        let (gt, res) = case_dirs(name);
        let got = evaluate_folders(&gt, &res).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(want.get("Valid"), Some(&Json::Num(1.0)), "{name}");
        for (key, value) in got.entries() {
            let w = want
                .get(&key)
                .unwrap_or_else(|| panic!("{name}: py-ctcmetrics reports no {key}"));
            match (value, w) {
                (Value::Score(None), Json::Null) => {}
                (Value::Score(Some(x)), Json::Num(y)) => {
                    let d = (x - y).abs();
                    max_diff = max_diff.max(d);
                    let tol = if summed(&key) { 1e-9 } else { 0.0 };
                    assert!(d <= tol, "{name} {key}: floodseg {x}, py-ctcmetrics {y}");
                }
                (Value::Count(n), Json::Num(y)) => {
                    assert_eq!(n as f64, *y, "{name} {key}");
                    if n > 0 {
                        seen.insert(key.clone());
                    }
                }
                (v, w) => panic!("{name} {key}: floodseg {v:?}, py-ctcmetrics {w:?}"),
            }
            if value == Value::Score(None) {
                seen.insert(format!("{key}=None"));
            }
            compared += 1;
        }
        cases += 1;
    }
    println!("{cases} cases, {compared} values, max |floodseg − py-ctcmetrics| = {max_diff:e}");
    assert!(cases >= 16, "{cases} cases");
    for k in [
        "AOGM_NS",
        "AOGM_FN",
        "AOGM_FP",
        "AOGM_ED",
        "AOGM_EA",
        "AOGM_EC",
        "fp_div(0)",
        "fn_div(0)",
        "CCA=None",
    ] {
        assert!(seen.contains(k), "no fixture has {k}: {seen:?}");
    }
}

#[test]
fn ctc_fixture_folders_are_valid_ctc() {
    for (name, _) in expected().iter().filter(|(k, _)| k.starts_with("case_")) {
        let (gt, res) = case_dirs(name);
        let p = validate_folder(&res, "mask", "res_track.txt").unwrap();
        assert!(p.is_empty(), "{name}: {p:?}");
        let p = validate_folder(&gt.join("TRA"), "man_track", "man_track.txt").unwrap();
        assert!(p.is_empty(), "{name} gt: {p:?}");
    }
}

#[test]
fn ctc_invalid_results_are_refused_naming_the_rule() {
    let mut n = 0;
    for (name, want) in expected().iter().filter(|(k, _)| k.starts_with("invalid_")) {
        let Some(Json::Str(problem)) = want.get("problem") else {
            panic!("{name}: no problem")
        };
        let Some(Json::Arr(warnings)) = want.get("warnings") else {
            panic!("{name}: no warnings")
        };
        assert!(!warnings.is_empty(), "{name}: ctc_validate said nothing");
        let (gt, res) = case_dirs(name);
        let problems = validate_folder(&res, "mask", "res_track.txt").unwrap();
        assert!(
            problems.iter().any(|p| p.contains(problem.as_str())),
            "{name}: want {problem:?} in {problems:?} (ctc_validate: {warnings:?})"
        );
        let e = evaluate_folders(&gt, &res).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("is not a valid CTC result") && msg.contains(problem.as_str()),
            "{name}: {msg}"
        );
        assert_eq!(e.exit_code(), 3);
        n += 1;
    }
    assert!(n >= 4, "{n} invalid folders");
}

/// A copy of fixture `case` in a fresh folder `target/ctc-tests/<name>`.
fn copy_case(case: &str, name: &str) -> PathBuf {
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if p.is_dir() {
                copy_dir(&p, &to.join(e.file_name()));
            } else {
                std::fs::copy(&p, to.join(e.file_name())).unwrap();
            }
        }
    }
    let d = repo().join("target/ctc-tests").join(name);
    let _ = std::fs::remove_dir_all(&d);
    copy_dir(&data().join(case), &d);
    d
}

#[test]
fn ctc_errors_name_the_file() {
    let err = |d: &Path| evaluate_folders(&d.join("gt"), &d.join("res")).unwrap_err();
    // a missing track file
    let d = copy_case("case_00", "no-track-file");
    std::fs::remove_file(d.join("res/res_track.txt")).unwrap();
    let e = err(&d);
    assert!(e.to_string().contains("res_track.txt: cannot read"), "{e}");
    assert_eq!(e.exit_code(), 3);
    // a result frame missing in the middle, then one missing at the end
    let d = copy_case("case_00", "missing-mask");
    std::fs::remove_file(d.join("res/mask002.tif")).unwrap();
    let e = err(&d).to_string();
    assert!(e.contains("mask002.tif is missing"), "{e}");
    let p = validate_folder(&d.join("res"), "mask", "res_track.txt").unwrap();
    assert!(
        p.contains(&"frame 2: mask002.tif is missing".to_string()),
        "{p:?}"
    );
    let n = std::fs::read_dir(d.join("gt/TRA")).unwrap().count() - 1;
    std::fs::rename(
        d.join(format!("res/mask{:03}.tif", n - 1)),
        d.join("res/mask002.tif"),
    )
    .unwrap();
    let e = err(&d).to_string();
    assert!(
        e.contains(&format!(
            "holds {} masks (maskTTT.tif) but the ground truth {n} frames",
            n - 1
        )),
        "{e}"
    );
    // a mask of another size
    let d = copy_case("case_00", "size-mismatch");
    floodseg::io::write_labels_tiff(&d.join("res/mask001.tif"), 40, 48, &vec![0; 40 * 48]).unwrap();
    let e = err(&d).to_string();
    assert!(
        e.contains("mask001.tif is 40×48 but") && e.contains("man_track001.tif is 48×48"),
        "{e}"
    );
    // a malformed track file
    let d = copy_case("case_00", "bad-track-file");
    std::fs::write(d.join("res/res_track.txt"), "1 0 x 0\n").unwrap();
    let e = err(&d).to_string();
    assert!(e.contains("res_track.txt") && e.contains("line 1"), "{e}");
    // an empty result (no tracks, empty masks) is not valid CTC
    let d = copy_case("case_00", "empty-result");
    std::fs::write(d.join("res/res_track.txt"), "").unwrap();
    for e in std::fs::read_dir(d.join("res")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "tif") {
            floodseg::io::write_labels_tiff(&p, 48, 48, &vec![0; 48 * 48]).unwrap();
        }
    }
    let e = err(&d).to_string();
    assert!(e.contains("res_track.txt lists no track"), "{e}");
    // without SEG frames, SEG is undefined and the rest still scored
    let d = copy_case("case_00", "no-seg");
    std::fs::remove_dir_all(d.join("gt/SEG")).unwrap();
    let s = evaluate_folders(&d.join("gt"), &d.join("res")).unwrap();
    assert_eq!((s.seg(), s.tra()), (None, Some(1.0)));
}
