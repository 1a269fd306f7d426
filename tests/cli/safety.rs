//! Output safety and silent wrong answers, end to end: a misuse corpus (outputs naming inputs,
//! colliding outputs, names whose extension says another format, unwritable places) where
//! every case is refused up front with one clear line and exit 2 (6 for an unwritable place),
//! with every file of the workspace byte-identical afterwards and nothing new in it; inputs as
//! users type them (several files, `--channel` of an RGB image); and the checks: each warning
//! fires on the case it exists for (exit 0; `--strict`: exit 7 and no complete output) and stays
//! quiet on the bundled samples run with their documented flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::bin;
use crate::common::*;

fn out_dir(name: &str) -> PathBuf {
    crate::out_dir_in("cli-safety-tests", name)
}

const LECTURE: [&str; 10] = [
    "--threshold",
    "180",
    "--dark",
    "--open",
    "1",
    "--min-distance",
    "10",
    "--footprint",
    "10",
    "--quiet",
];

/// Every file under `dir` (relative path → bytes), symbolic links as their targets' names.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            let ty = e.file_type().unwrap();
            if ty.is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                out.insert(rel, target.to_string_lossy().as_bytes().to_vec());
            } else if ty.is_dir() {
                out.insert(rel.join(""), Vec::new());
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// A workspace of inputs: three small frames `in/img_{1,2,10}.png`, the lecture's image as
/// `keep.png`, a frame as `keep.tif`, its hard link `hard.tif`, a link `link` to the workspace,
/// a frame named like a stage image in `st/labels.tif`, and two single-frame TIFFs one of which
/// is named like a partial stack.
fn workspace(name: &str) -> PathBuf {
    let d = out_dir(name);
    let input = d.join("in");
    std::fs::create_dir_all(&input).unwrap();
    for (i, seed) in [(1, 3), (2, 4), (10, 5)] {
        let img = floodseg::synth::colony(48, 40, seed);
        let floodseg::Samples::U8(px) = &img.samples else {
            unreachable!()
        };
        floodseg::io::write_png_gray8(&input.join(format!("img_{i}.png")), 48, 40, px).unwrap();
    }
    std::fs::copy(repo().join("data/ecoli.png"), d.join("keep.png")).unwrap();
    let img = floodseg::synth::colony(40, 32, 9);
    let floodseg::Samples::U8(px) = &img.samples else {
        unreachable!()
    };
    floodseg::io::write_tiff_u8(&d.join("keep.tif"), 40, 32, px).unwrap();
    std::fs::hard_link(d.join("keep.tif"), d.join("hard.tif")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&d, d.join("link")).unwrap();
    std::fs::create_dir_all(d.join("st")).unwrap();
    std::fs::copy(d.join("keep.tif"), d.join("st/labels.tif")).unwrap();
    std::fs::create_dir_all(d.join("pair")).unwrap();
    std::fs::copy(d.join("keep.tif"), d.join("pair/labels.partial.tif")).unwrap();
    std::fs::copy(d.join("keep.tif"), d.join("pair/other.tif")).unwrap();
    std::fs::write(d.join("notes"), b"a file without an extension").unwrap();
    d
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The misuse corpus: each case is refused before any work, exit 2 (6: a place that cannot
/// be written), one error line naming the flag or file, nothing on stdout, and the workspace
/// exactly as it was (every input byte-identical, no new file or folder).
#[test]
fn misuse_corpus_is_refused_up_front_and_touches_nothing() {
    let ws = workspace("corpus");
    let before = snapshot(&ws);
    let seg = |extra: &[&'static str]| {
        let mut v = vec!["segment"];
        v.extend_from_slice(extra);
        v
    };
    // (name, arguments, exit code, text the error names)
    let cases: Vec<(&str, Vec<&str>, i32, &str)> = vec![
        (
            "labels over the input",
            seg(&["keep.tif", "-o", "keep.tif"]),
            2,
            "overwrite the input",
        ),
        (
            "labels over the input through ..",
            seg(&["keep.tif", "-o", "in/../keep.tif"]),
            2,
            "overwrite the input",
        ),
        (
            "labels over the input through ./",
            seg(&["./keep.tif", "-o", "keep.tif"]),
            2,
            "overwrite the input",
        ),
        #[cfg(unix)]
        (
            "labels over the input through a symbolic link",
            seg(&["keep.tif", "-o", "link/keep.tif"]),
            2,
            "overwrite the input",
        ),
        (
            "labels over a hard link of the input",
            seg(&["keep.tif", "-o", "hard.tif"]),
            2,
            "overwrite the input",
        ),
        (
            "labels named like a PNG",
            seg(&["keep.png", "-o", "keep.png"]),
            2,
            "not a .png",
        ),
        (
            "labels named like a JPEG",
            seg(&["keep.png", "-o", "x.jpg"]),
            2,
            "not a .jpg",
        ),
        (
            "labels named like a table",
            seg(&["keep.png", "-o", "x.csv"]),
            2,
            "not a .csv",
        ),
        (
            "labels folder is the input folder",
            seg(&["in", "-o", "in"]),
            2,
            "in",
        ),
        (
            "labels folder is the glob's folder and names match",
            seg(&["in/img_*", "-o", "in"]),
            2,
            "read from",
        ),
        (
            "labels folder over a listed input",
            seg(&["in/img_1.png", "in/img_2.png", "-o", "in"]),
            2,
            "--output",
        ),
        (
            "labels folder is an existing file",
            seg(&["keep.png", "-o", "notes"]),
            2,
            "not a folder",
        ),
        (
            "overlay into the input folder",
            seg(&["in", "-o", "out", "--overlay", "in"]),
            2,
            "--overlay",
        ),
        (
            "overlay over the labels",
            seg(&["keep.png", "-o", "y.tif", "--overlay", "y.tif"]),
            2,
            "--overlay",
        ),
        (
            "overlay over the input PNG",
            seg(&["keep.png", "-o", "y.tif", "--overlay", "keep.png"]),
            2,
            "overwrite the input",
        ),
        (
            "overlay PNG for a stack",
            seg(&["in", "-o", "out.tif", "--overlay", "single.png"]),
            2,
            "name a folder",
        ),
        (
            "stats over the labels",
            seg(&["keep.png", "-o", "x.tif", "--stats", "x.tif"]),
            2,
            "--stats",
        ),
        (
            "stats and counts in one file",
            seg(&[
                "keep.png", "-o", "x.tif", "--stats", "t.csv", "--counts", "t.csv",
            ]),
            2,
            "two outputs",
        ),
        (
            "stats named like text",
            seg(&["keep.png", "-o", "x.tif", "--stats", "t.txt"]),
            2,
            "not a .txt",
        ),
        (
            "counts in a folder",
            seg(&["keep.png", "-o", "x.tif", "--counts", "in"]),
            2,
            "folder",
        ),
        (
            "stage images over the input",
            seg(&["st/labels.tif", "-o", "x.tif", "--save-stages", "st"]),
            2,
            "overwrite the input",
        ),
        (
            "stage folder is a file",
            seg(&["keep.png", "-o", "x.tif", "--save-stages", "notes"]),
            2,
            "not a folder",
        ),
        (
            "partial stack over an input",
            seg(&[
                "pair/labels.partial.tif",
                "pair/other.tif",
                "-o",
                "pair/labels.tif",
            ]),
            2,
            "overwrite the input",
        ),
        (
            "resume into a stack",
            seg(&["in", "-o", "out.tif", "--resume"]),
            2,
            "--resume",
        ),
        (
            "the same input twice",
            seg(&["in/img_1.png", "./in/img_1.png", "-o", "out"]),
            2,
            "twice",
        ),
        (
            "a folder among several inputs",
            seg(&["in", "keep.png", "-o", "out"]),
            2,
            "folder",
        ),
        (
            "an unwritable place",
            seg(&["keep.png", "-o", "notes/sub/x.tif"]),
            6,
            "notes",
        ),
        (
            "synth over its ground truth",
            vec![
                "synth", "rods", "--size", "64x64", "-o", "r.tif", "--gt", "r.tif",
            ],
            2,
            "--gt",
        ),
        (
            "synth named like a JPEG",
            vec!["synth", "colony", "--size", "64x64", "-o", "x.jpg"],
            2,
            "not a .jpg",
        ),
    ];
    for (name, args, code, needle) in cases {
        let mut args = args;
        args.extend_from_slice(&LECTURE[..LECTURE.len() * (args[0] == "segment") as usize]);
        let out = run_in(&ws, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{name}: {args:?}: {err}");
        let errors: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("floodseg: error"))
            .collect();
        assert_eq!(errors.len(), 1, "{name}: one error line: {err}");
        assert!(err.contains(needle), "{name}: should say {needle:?}: {err}");
        assert!(
            !err.contains("frames of"),
            "{name}: it worked before refusing: {err}"
        );
        assert!(out.stdout.is_empty(), "{name}: stdout");
        let after = snapshot(&ws);
        for (path, bytes) in &before {
            assert!(
                after.get(path) == Some(bytes),
                "{name}: {} changed or vanished",
                path.display()
            );
        }
        let new: Vec<&PathBuf> = after.keys().filter(|p| !before.contains_key(*p)).collect();
        assert!(new.is_empty(), "{name}: left {new:?}");
    }
}

/// Inputs as users type them: an unquoted glob (several files, in natural order) gives what
/// the folder gives; a missing output folder is made before the work.
#[test]
fn several_input_files_are_frames_in_natural_order() {
    let ws = workspace("list");
    let folder = run_in(
        &ws,
        &[
            &[
                "segment",
                "in",
                "-o",
                "from_folder",
                "--counts",
                "folder.csv",
            ][..],
            &LECTURE,
        ]
        .concat(),
    );
    assert!(folder.status.success(), "{}", stderr(&folder));
    // the shell's order (lexical: img_1, img_10, img_2) is not the frames' order
    let list = run_in(
        &ws,
        &[
            &[
                "segment",
                "in/img_1.png",
                "in/img_10.png",
                "in/img_2.png",
                "-o",
                "new/deeper/from_list",
                "--counts",
                "list.csv",
            ][..],
            &LECTURE,
        ]
        .concat(),
    );
    assert!(list.status.success(), "{}", stderr(&list));
    assert_eq!(list.stdout, folder.stdout);
    assert_eq!(
        std::fs::read(ws.join("folder.csv")).unwrap(),
        std::fs::read(ws.join("list.csv")).unwrap()
    );
    for name in ["img_1.tif", "img_2.tif", "img_10.tif"] {
        assert_eq!(
            std::fs::read(ws.join("from_folder").join(name)).unwrap(),
            std::fs::read(ws.join("new/deeper/from_list").join(name)).unwrap(),
            "{name}"
        );
    }
    // a multi-page TIFF among several files would lose pages: refused
    let stack = repo().join("data/ecoli/timelapse_crop.tif");
    let out = bin()
        .current_dir(&ws)
        .args(["segment", "keep.tif"])
        .arg(&stack)
        .args(["-o", "mixed"])
        .args(LECTURE)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("pages"), "{}", stderr(&out));
}

/// `--channel C` of an RGB image segments its sample C as a gray image would be.
#[test]
fn channel_picks_a_sample_of_an_rgb_image() {
    let d = out_dir("channel");
    let img = floodseg::io::read_image(&repo().join("data/ecoli.png")).unwrap();
    let floodseg::Samples::U8(px) = &img.samples else {
        unreachable!()
    };
    let green: Vec<u8> = px.chunks_exact(img.channels).map(|p| p[1]).collect();
    floodseg::io::write_png_gray8(&d.join("green.png"), img.width, img.height, &green).unwrap();
    let picked = run_in(
        &d,
        &[
            &["segment"][..],
            &[repo().join("data/ecoli.png").to_str().unwrap()],
            &["-o", "picked.tif", "--channel", "1"],
            &LECTURE,
        ]
        .concat(),
    );
    assert!(picked.status.success(), "{}", stderr(&picked));
    let gray = run_in(
        &d,
        &[&["segment", "green.png", "-o", "gray.tif"][..], &LECTURE].concat(),
    );
    assert!(gray.status.success());
    assert_eq!(picked.stdout, gray.stdout);
    assert_eq!(
        std::fs::read(d.join("picked.tif")).unwrap(),
        std::fs::read(d.join("gray.tif")).unwrap()
    );
    // out of range: says how many there are
    let out = run_in(
        &d,
        &[
            &["segment"][..],
            &[repo().join("data/ecoli.png").to_str().unwrap()],
            &["-o", "x.tif", "--channel", "3"],
            &LECTURE,
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("3 channel(s)"), "{}", stderr(&out));
    assert!(!d.join("x.tif").exists());
}

fn write_rgb16(path: &Path) {
    use tiff::encoder::{colortype::RGB16, TiffEncoder};
    let img = floodseg::io::read_image(&repo().join("data/ecoli.png")).unwrap();
    let floodseg::Samples::U8(px) = &img.samples else {
        unreachable!()
    };
    let wide: Vec<u16> = px.iter().map(|&v| v as u16 * 257).collect();
    let mut enc = TiffEncoder::new(std::fs::File::create(path).unwrap()).unwrap();
    enc.write_image::<RGB16>(img.width as u32, img.height as u32, &wide)
        .unwrap();
}

fn write_float01(path: &Path) {
    use tiff::encoder::{colortype::Gray32Float, TiffEncoder};
    let img = floodseg::io::read_image(&repo().join("data/ecoli.png")).unwrap();
    let floodseg::Samples::U8(px) = &img.samples else {
        unreachable!()
    };
    let v: Vec<f32> = px
        .chunks_exact(3)
        .map(|p| (0.2125 * p[0] as f32 + 0.7154 * p[1] as f32 + 0.0721 * p[2] as f32) / 255.0)
        .collect();
    let mut enc = TiffEncoder::new(std::fs::File::create(path).unwrap()).unwrap();
    enc.write_image::<Gray32Float>(img.width as u32, img.height as u32, &v)
        .unwrap();
}

/// Each check fires on the silent wrong answer it exists for: exit 0 with a warning that says
/// what was seen and what to try; with `--strict` exit 7, one error line, and nothing complete
/// written (only `NAME.partial.*` of finished frames).
#[test]
fn warnings_fire_on_silent_wrong_answers_and_strict_makes_them_errors() {
    let d = out_dir("warnings");
    write_rgb16(&d.join("rgb16.tif"));
    write_float01(&d.join("float01.tif"));
    floodseg::io::write_png_gray8(&d.join("white.png"), 30, 20, &[255u8; 600]).unwrap();
    let data = |p: &str| repo().join(p).display().to_string();
    let lecture: Vec<String> = LECTURE[..9].iter().map(|s| s.to_string()).collect();
    let with = |input: String, extra: &[&str]| -> Vec<String> {
        let mut v = vec![input];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let lecture_on = |input: String| -> Vec<String> {
        let mut v = vec![input];
        v.extend(lecture.iter().cloned());
        v
    };
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "a 16-bit RGB image with an 8-bit threshold",
            lecture_on("rgb16.tif".into()),
            "an 8-bit level? in this image's units that is about 46260",
        ),
        (
            "a float 0–1 image with an 8-bit threshold",
            lecture_on("float01.tif".into()),
            "selects every pixel",
        ),
        (
            "the rods preset on the lecture's frame (Otsu takes the background)",
            with(data("data/ecoli/img_0000.tif"), &["--preset", "rods"]),
            "covers 48.7 % of the frame",
        ),
        (
            "a border exclusion wider than the frame",
            with(
                data("data/ecoli.png"),
                &["--threshold", "180", "--dark", "--min-distance", "5000"],
            ),
            "no marker can be kept",
        ),
        (
            "a label image as input",
            with(data("data/ecoli/mask_0000_deflate.tif"), &[]),
            "looks like a label image",
        ),
        (
            "nothing to find",
            lecture_on("white.png".into()),
            "no object",
        ),
    ];
    for (name, args, needle) in cases {
        let out = bin()
            .current_dir(&d)
            .arg("segment")
            .args(&args)
            .args([
                "-o",
                "labels.tif",
                "--stats",
                "objects.csv",
                "--backend",
                "cpu",
            ])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert!(out.status.success(), "{name}: {err}");
        assert!(
            err.lines()
                .any(|l| l.starts_with("floodseg: warning:") && l.contains(needle)),
            "{name}: no warning saying {needle:?}: {err}"
        );
        for f in ["labels.tif", "objects.csv"] {
            std::fs::remove_file(d.join(f)).unwrap();
        }
        let out = bin()
            .current_dir(&d)
            .arg("segment")
            .args(&args)
            .args([
                "-o",
                "labels.tif",
                "--stats",
                "objects.csv",
                "--strict",
                "-q",
            ])
            .args(["--backend", "cpu"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(7), "{name} --strict: {err}");
        assert!(
            err.contains(needle) && err.contains("--strict"),
            "{name}: {err}"
        );
        assert!(out.stdout.is_empty());
        assert!(!d.join("labels.tif").exists() && !d.join("objects.csv").exists());
    }
}

/// A GPU adapter that is a software rasterizer is named as such (it is about 100× slower).
#[test]
fn a_software_gpu_adapter_is_named() {
    let Some(ctx) = gpu() else { return };
    if !ctx.is_software() {
        return; // a hardware GPU: nothing to warn about
    }
    let d = out_dir("software");
    let out = bin()
        .current_dir(&d)
        .arg("segment")
        .arg(repo().join("data/ecoli.png"))
        .args(["-o", "l.tif", "--backend", "gpu"])
        .args(LECTURE)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("software rasterizer"),
        "{}",
        stderr(&out)
    );
}

/// `tune` warns when its best setting scores F1 = 0 (here: dark cells searched as bright) and
/// when a ground-truth frame is empty.
#[test]
fn tune_warns_on_a_zero_score_and_an_empty_ground_truth() {
    let d = out_dir("tune");
    let out = bin()
        .current_dir(&d)
        .arg("tune")
        .arg(repo().join("data/ecoli.png"))
        .arg("--gt")
        .arg(repo().join("tests/fixtures/ecoli/labels.tif"))
        .args(["--open", "1", "--markers", "peaks", "--min-distance", "10"])
        .args(["--smooth", "0", "--min-area", "0", "-q", "--backend", "cpu"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("F1 = 0") && err.contains("--dark"), "{err}");
    floodseg::io::write_labels_tiff(&d.join("empty.tif"), 101, 84, &vec![0; 101 * 84]).unwrap();
    let out = bin()
        .current_dir(&d)
        .arg("tune")
        .arg(repo().join("data/ecoli.png"))
        .args([
            "--gt",
            "empty.tif",
            "--dark",
            "--open",
            "1",
            "--markers",
            "peaks",
        ])
        .args([
            "--min-distance",
            "10",
            "--smooth",
            "0",
            "--min-area",
            "0",
            "-q",
        ])
        .args(["--backend", "cpu", "--strict"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert!(stderr(&out).contains("holds no object"), "{}", stderr(&out));
    // eval too: a warning, or with --strict an error
    let labels = repo().join("tests/fixtures/ecoli/labels.tif");
    for (strict, code) in [(false, 0), (true, 7)] {
        let mut cmd = bin();
        cmd.current_dir(&d)
            .args(["eval", "--gt", "empty.tif", "--pred"])
            .arg(&labels);
        if strict {
            cmd.arg("--strict");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        assert!(stderr(&out).contains("holds no object"), "{}", stderr(&out));
    }
}

/// The bundled samples with their documented flags (the README's commands, the presets, and
/// the calibrated settings of every real field in `scripts/eval/F1_TABLE.md`) give no warning.
#[test]
fn warnings_stay_quiet_on_the_bundled_samples() {
    let lecture = "--threshold 180 --dark --open 1 --min-distance 10 --footprint 10";
    let mut runs: Vec<(String, String)> = vec![
        ("data/ecoli.png".into(), lecture.into()),
        ("data/ecoli.png".into(), "--preset lecture".into()),
        ("data/ecoli/timelapse_crop.tif".into(), lecture.into()),
        (
            "data/ecoli/timelapse_crop.tif".into(),
            "--preset lecture".into(),
        ),
        ("data/lecture-disks.png".into(), "--preset lecture".into()),
        ("data/lecture-noisy.png".into(), "--preset lecture".into()),
    ];
    let sets: BTreeMap<String, String> =
        std::fs::read_to_string(repo().join("scripts/eval/sets.txt"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f[0].to_string(), f[1].to_string())
            })
            .collect();
    let table = std::fs::read_to_string(repo().join("scripts/eval/F1_TABLE.md")).unwrap();
    for line in table.lines() {
        let Some(rest) = line.strip_prefix("- ") else {
            continue;
        };
        let Some((name, rest)) = rest.split_once(": lecture `") else {
            continue;
        };
        let Some(image) = sets.get(name) else {
            continue;
        };
        // the calibrated preset, with and without the background column
        for key in ["rods calibrated `", "with background `"] {
            let args = rest
                .split(key)
                .nth(1)
                .and_then(|r| r.split('`').next())
                .unwrap();
            runs.push((image.clone(), args.to_string()));
        }
    }
    assert!(
        runs.len() >= 6 + 2 * 10,
        "{} runs: the table's format changed?",
        runs.len()
    );
    let d = out_dir("quiet");
    for (image, args) in runs {
        let out = bin()
            .current_dir(&d)
            .arg("segment")
            .arg(repo().join(&image))
            .args(args.split_whitespace())
            .args(["-o", "labels.tif", "--backend", "cpu"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert!(out.status.success(), "{image} {args}: {err}");
        assert!(!err.contains("warning"), "{image} {args}: {err}");
    }
}

/// The README's commands on bundled data, run in order in one folder as a newcomer would
/// (`cargo run --release --` and `floodseg` both mean the binary): each succeeds without a
/// warning, and the main command prints what the README says it prints. Commands on the
/// reader's own files (`frame.tif`, `stack.tif`) are skipped.
#[test]
fn the_readme_commands_run_quietly_on_the_bundled_data() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut commands: Vec<Vec<String>> = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for line in readme.lines() {
        if line.trim_start().starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        let code = line.split(" #").next().unwrap().trim();
        if code.starts_with('#') || code.is_empty() {
            continue;
        }
        if let Some(head) = code.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(code);
        let words: Vec<String> = pending.split_whitespace().map(String::from).collect();
        pending.clear();
        let words = match words.iter().position(|w| w == "--") {
            Some(i) if words.starts_with(&["cargo".into(), "run".into()]) => {
                words[i + 1..].to_vec()
            }
            _ if words.first().is_some_and(|w| w == "floodseg") => words[1..].to_vec(),
            _ => continue,
        };
        commands.push(words);
    }
    let d = out_dir("readme");
    let mut ran = Vec::new();
    for words in &commands {
        let input = words
            .get(1)
            .filter(|_| words[0] != "eval" && words[0] != "synth");
        if input.is_some_and(|i| !i.starts_with("data/") && !d.join(i).exists()) {
            continue; // the reader's own data (files an earlier command made do run)
        }
        let args: Vec<String> = words
            .iter()
            .map(|w| {
                if w.starts_with("data/") {
                    repo().join(w).to_string_lossy().into_owned()
                } else {
                    w.clone()
                }
            })
            .collect();
        let out = bin().current_dir(&d).args(&args).output().unwrap();
        let err = stderr(&out);
        let line = words.join(" ");
        assert!(out.status.success(), "{line}: {err}");
        assert!(!err.contains("warning"), "{line}: {err}");
        ran.push((line, String::from_utf8_lossy(&out.stdout).into_owned()));
    }
    let subcommands: Vec<&str> = ran
        .iter()
        .map(|(l, _)| l.split(' ').next().unwrap())
        .collect();
    for s in ["segment", "tune", "eval", "synth", "track"] {
        assert!(subcommands.contains(&s), "no README `{s}` ran: {ran:?}");
    }
    assert_eq!(ran[0].1.trim(), "3 objects", "{}", ran[0].0);
    // the quick start's tune prints the settings the next commands use
    let tune = ran.iter().find(|(l, _)| l.starts_with("tune")).unwrap();
    assert!(
        tune.1
            .lines()
            .next()
            .unwrap()
            .contains("--background 5 --threshold 221.5"),
        "{}",
        tune.1
    );
}
