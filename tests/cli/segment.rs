//! The `floodseg` binary end to end: the README's main command, `--save-stages` files and their
//! types, stats/overlay outputs, and clear errors with non-zero exit codes.

use std::path::PathBuf;

use crate::bin;
use crate::common::*;

fn out_dir(name: &str) -> PathBuf {
    crate::out_dir_in("cli-tests", name)
}

const LECTURE: [&str; 8] = [
    "--threshold",
    "180",
    "--dark",
    "--open",
    "1",
    "--min-distance",
    "10",
    "--footprint",
];

#[test]
fn segment_ecoli_prints_three_objects_and_writes_every_stage() {
    let d = out_dir("ecoli");
    let out = bin()
        .arg("segment")
        .arg(repo().join("data/ecoli.png"))
        .arg("-o")
        .arg(d.join("labels.tif"))
        .args(LECTURE)
        .args(["10", "--backend", "cpu", "--save-stages"])
        .arg(d.join("stages"))
        .arg("--stats")
        .arg(d.join("objects.csv"))
        .arg("--overlay")
        .arg(d.join("overlay.png"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3 objects\n");

    let (w, h, labels) = read_tiff_u32(&d.join("labels.tif"));
    assert_eq!((w, h), (101, 84));
    let mut sizes = [0usize; 4];
    for &l in &labels {
        sizes[l as usize] += 1;
    }
    // the lecture's reference run (scikit-image 0.26.0): three cells of 48, 22 and 49 pixels
    assert_eq!(&sizes[1..], &[48, 22, 49]);

    // stage files: names and sample types as the reference script writes them
    for (stage, bits) in [
        ("mask", 8),
        ("opened", 8),
        ("distance2", 32),
        ("peaks", 8),
        ("markers", 32),
        ("labels", 16),
    ] {
        let f = std::fs::File::open(d.join("stages").join(format!("{stage}.tif"))).unwrap();
        let mut dec = tiff::decoder::Decoder::new(std::io::BufReader::new(f)).unwrap();
        let ct = dec.colortype().unwrap();
        assert_eq!(ct, tiff::ColorType::Gray(bits), "{stage}.tif");
        assert!(
            d.join("stages").join(format!("{stage}.png")).exists(),
            "{stage}.png"
        );
    }
    let csv = std::fs::read_to_string(d.join("objects.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "frame,file,label,area,centroid_row,centroid_col,bbox_min_row,bbox_min_col,bbox_max_row,bbox_max_col,major_axis_length,minor_axis_length,orientation,eccentricity,mean_intensity"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 3);
    let source = repo().join("data/ecoli.png").display().to_string();
    assert!(
        rows.iter().all(|r| r.starts_with(&format!("0,{source},"))),
        "{rows:?}"
    );
    let overlay = floodseg::io::read_image(&d.join("overlay.png")).unwrap();
    assert_eq!(
        (overlay.width, overlay.height, overlay.channels),
        (101, 84, 3)
    );
}

#[test]
fn lecture_canvas_known_answers() {
    let d = out_dir("canvas");
    let run = |input: &str, k: &str| {
        let out = bin()
            .arg("segment")
            .arg(repo().join(input))
            .arg("-o")
            .arg(d.join("l.tif"))
            .args([
                "--threshold",
                "180",
                "--dark",
                "--open",
                k,
                "--min-distance",
                "10",
                "--footprint",
                "10",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(run("data/lecture-disks.png", "0"), "3 objects");
    let noisy_k0: u32 = run("data/lecture-noisy.png", "0")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        noisy_k0 > 10,
        "salt noise without opening should give many spurious cells, got {noisy_k0}"
    );
    assert_eq!(run("data/lecture-noisy.png", "5"), "3 objects");
}

#[test]
fn synth_writes_the_committed_canvases() {
    let d = out_dir("synth");
    for (kind, file) in [
        ("lecture-disks", "lecture-disks.png"),
        ("lecture-noisy", "lecture-noisy.png"),
    ] {
        let st = bin()
            .args(["synth", kind, "--seed", "1", "-o"])
            .arg(d.join(file))
            .status()
            .unwrap();
        assert!(st.success());
        let a = floodseg::io::read_image(&d.join(file)).unwrap();
        let b = floodseg::io::read_image(&repo().join("data").join(file)).unwrap();
        assert_eq!(a, b, "{kind} differs from data/{file}");
    }
}

/// Each bad invocation: non-zero exit, one line on stderr naming the problem, nothing on stdout,
/// no output file.
#[test]
fn bad_input_gives_one_clear_line_and_no_output() {
    let d = out_dir("bad");
    let text = d.join("notes.txt");
    std::fs::write(&text, "not an image").unwrap();
    let empty = d.join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let ecoli = repo().join("data/ecoli.png");
    let e = ecoli.display().to_string();
    let gen = |f: &str| repo().join("data/generated").join(f).display().to_string();
    let arg = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    // (arguments, what stderr must name, exit code: 2 parameter, 3 input)
    let cases: Vec<(Vec<String>, &str, i32)> = vec![
        (
            vec![d.join("missing.png").display().to_string()],
            "missing.png",
            3,
        ),
        (vec![text.display().to_string()], "notes.txt", 3),
        (vec![empty.display().to_string()], "empty.png", 3),
        (arg(&[&e, "--threshold", "abc"]), "--threshold", 2),
        (arg(&[&e, "--footprint", "0"]), "--footprint", 2),
        (
            arg(&[&e, "--min-distance", "3", "--footprint", "30000"]),
            "--footprint",
            2,
        ),
        (arg(&[&e, "--open", "-1"]), "--open", 2),
        (arg(&[&e, "--min-distance", "-3"]), "--min-distance", 2),
        (arg(&[&e, "--backend", "tpu"]), "--backend", 2),
        (arg(&[&e, "--structure", "star"]), "--structure", 2),
        (vec![gen("complex64.tif")], "complex64.tif", 3),
        (vec![gen("gray32f_nan.tif")], "gray32f_nan.tif", 3),
    ];
    for (args, needle, code) in cases {
        let target = d.join("labels.tif");
        let out = bin()
            .arg("segment")
            .args(&args)
            .arg("-o")
            .arg(&target)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} should fail");
        assert_ne!(out.status.code(), Some(101), "{args:?} panicked: {err}");
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: exit code; stderr: {err}"
        );
        assert!(
            err.contains(needle),
            "{args:?}: stderr should name {needle}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: stdout should be empty");
        assert!(!target.exists(), "{args:?}: left an output file");
    }
}

/// An output folder that cannot be made (its parent is a file) fails before any work, exit 6,
/// naming it; missing folders are created (and removed again when the run fails).
#[test]
fn unwritable_output_is_an_error() {
    let d = std::env::temp_dir().join(format!("floodseg-unwritable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("a-file"), b"not a folder").unwrap();
    let target = d.join("a-file/sub/labels.tif");
    let out = bin()
        .arg("segment")
        .arg(repo().join("data/ecoli.png"))
        .arg("-o")
        .arg(&target)
        .args(["--threshold", "180", "--dark"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a-file"), "{err}");
    assert!(out.stdout.is_empty());
    // a missing folder is made
    let made = d.join("new/deeper/labels.tif");
    let out = bin()
        .arg("segment")
        .arg(repo().join("data/ecoli.png"))
        .arg("-o")
        .arg(&made)
        .args(["--threshold", "180", "--dark"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(made.is_file());
    // and removed again when the run fails before writing anything (an unsupported sample
    // type is found when the first frame is decoded, after the folders were made)
    let out = bin()
        .arg("segment")
        .arg(repo().join("data/generated/int16.tif"))
        .arg("-o")
        .arg(d.join("never/labels.tif"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(!d.join("never").exists());
    let _ = std::fs::remove_dir_all(&d);
}

/// `--backend gpu --save-stages A` and `--backend cpu --save-stages B` write identical files,
/// every stage and the outputs.
#[test]
fn gpu_and_cpu_backends_write_identical_files() {
    if gpu().is_none() {
        return;
    }
    let d = out_dir("backends");
    for (input, flags) in [
        (
            "data/ecoli.png",
            vec![
                "--threshold",
                "180",
                "--dark",
                "--open",
                "1",
                "--min-distance",
                "10",
                "--footprint",
                "10",
            ],
        ),
        (
            "data/lecture-noisy.png",
            vec![
                "--threshold",
                "180",
                "--dark",
                "--open",
                "5",
                "--min-distance",
                "10",
                "--footprint",
                "10",
            ],
        ),
        (
            "data/omnipose/ecoli_phase.tif",
            vec![
                "--threshold",
                "otsu",
                "--dark",
                "--open",
                "1",
                "--min-distance",
                "3",
            ],
        ),
        (
            "data/ecoli.png",
            vec!["--preset", "rods", "--threshold", "180", "--core", "120"],
        ),
    ] {
        let mut outputs = Vec::new();
        for backend in ["cpu", "gpu"] {
            let dir = d.join(format!("{}-{backend}", input.replace('/', "_")));
            std::fs::create_dir_all(&dir).unwrap();
            let out = bin()
                .arg("segment")
                .arg(repo().join(input))
                .arg("-o")
                .arg(dir.join("labels.tif"))
                .args(&flags)
                .args(["--backend", backend, "--save-stages"])
                .arg(dir.join("stages"))
                .arg("--stats")
                .arg(dir.join("objects.csv"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{input} {backend}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(&format!("backend {backend}")),
                "{input}: stderr should name the backend: {err}"
            );
            outputs.push((dir, String::from_utf8_lossy(&out.stdout).to_string()));
        }
        assert_eq!(outputs[0].1, outputs[1].1, "{input}: object counts");
        let mut files = vec!["labels.tif".to_string(), "objects.csv".to_string()];
        let mut stages = vec!["mask", "opened", "distance2", "peaks", "markers", "labels"];
        let core = flags.contains(&"--core");
        if core {
            stages.extend(["core", "core_distance2"]);
        }
        for (dir, _) in &outputs {
            // the core's images exactly when there is a core
            assert_eq!(
                dir.join("stages/core.tif").exists(),
                core,
                "{input}: core.tif"
            );
        }
        for stage in stages {
            files.push(format!("stages/{stage}.tif"));
            files.push(format!("stages/{stage}.png"));
        }
        for f in files {
            let a = std::fs::read(outputs[0].0.join(&f)).unwrap();
            let b = std::fs::read(outputs[1].0.join(&f)).unwrap();
            assert!(
                a == b,
                "{input}: {f} differs between --backend cpu and --backend gpu"
            );
        }
    }
}

/// The modes `gpu_and_cpu_backends_write_identical_files` leaves out, at the CLI: `--smooth`
/// and `--background` (their `smoothed.tif` and `flattened.tif` stage files), `--overlay`,
/// `--flood intensity`, the shape filters, `--markers hmax` and `--clear-border`. Every file
/// either backend writes is compared byte for byte, and both write the same set of files.
#[test]
fn gpu_and_cpu_backends_write_identical_files_with_smooth_background_overlay() {
    if gpu().is_none() {
        return;
    }
    let d = out_dir("backends-modes");
    let cases: [(&str, &[&str]); 2] = [
        (
            "intensity",
            &[
                "--threshold",
                "230",
                "--dark",
                "--open",
                "1",
                "--smooth",
                "2",
                "--background",
                "12",
                "--min-distance",
                "5",
                "--flood",
                "intensity",
                "--min-eccentricity",
                "0.85",
                "--max-width",
                "6.5",
            ],
        ),
        (
            "hmax",
            &[
                "--threshold",
                "230",
                "--dark",
                "--open",
                "1",
                "--smooth",
                "1",
                "--background",
                "20",
                "--markers",
                "hmax",
                "--h",
                "2",
                "--clear-border",
                "0",
            ],
        ),
    ];
    // every file under `dir`, relative to it, sorted
    fn files(dir: &std::path::Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(p) = todo.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let e = e.unwrap().path();
                if e.is_dir() {
                    todo.push(e);
                } else {
                    out.push(e.strip_prefix(dir).unwrap().to_path_buf());
                }
            }
        }
        out.sort();
        out
    }
    for (name, flags) in cases {
        let mut outputs = Vec::new();
        for backend in ["cpu", "gpu"] {
            let dir = d.join(format!("{name}-{backend}"));
            std::fs::create_dir_all(&dir).unwrap();
            let out = bin()
                .arg("segment")
                .arg(repo().join("data/ecoli.png"))
                .arg("-o")
                .arg(dir.join("labels.tif"))
                .args(flags)
                .args(["--backend", backend, "--save-stages"])
                .arg(dir.join("stages"))
                .arg("--stats")
                .arg(dir.join("objects.csv"))
                .arg("--overlay")
                .arg(dir.join("overlay.png"))
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{name} {backend}: {err}");
            assert!(
                err.contains(&format!("backend {backend}")),
                "{name}: stderr should name the backend: {err}"
            );
            outputs.push((dir, String::from_utf8_lossy(&out.stdout).to_string()));
        }
        assert_eq!(outputs[0].1, outputs[1].1, "{name}: object counts");
        assert_ne!(outputs[0].1, "0 objects\n", "{name}: a case with objects");
        let (a, b) = (files(&outputs[0].0), files(&outputs[1].0));
        assert_eq!(a, b, "{name}: the backends wrote different sets of files");
        for must in [
            "overlay.png",
            "stages/smoothed.tif",
            "stages/flattened.tif",
            "labels.tif",
        ] {
            assert!(
                a.contains(&PathBuf::from(must)),
                "{name}: {must} not written: {a:?}"
            );
        }
        for f in &a {
            let x = std::fs::read(outputs[0].0.join(f)).unwrap();
            let y = std::fs::read(outputs[1].0.join(f)).unwrap();
            assert!(
                x == y,
                "{name}: {} differs between --backend cpu and --backend gpu",
                f.display()
            );
        }
    }
}

/// `WGPU_ADAPTER_NAME` that matches nothing: `--backend gpu` stops with exit code 5 and lists
/// the adapters it saw; `--backend auto` falls back to the CPU and says why on stderr.
#[test]
fn adapter_selection_errors_list_the_adapters_and_auto_falls_back() {
    let Some(ctx) = gpu() else { return };
    let d = out_dir("adapter");
    let run = |backend: &str| {
        bin()
            .env("WGPU_ADAPTER_NAME", "no-such-adapter-anywhere")
            .arg("segment")
            .arg(repo().join("data/ecoli.png"))
            .arg("-o")
            .arg(d.join(format!("{backend}.tif")))
            .args([
                "--threshold",
                "180",
                "--dark",
                "--open",
                "1",
                "--backend",
                backend,
            ])
            .output()
            .unwrap()
    };
    let out = run("gpu");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("no-such-adapter-anywhere"), "{err}");
    let name = &ctx.adapter_info().name;
    assert!(
        err.contains(name.as_str()),
        "the error should list the adapter {name}: {err}"
    );
    assert!(!d.join("gpu.tif").exists());

    let out = run("auto");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("backend cpu"), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "3 objects\n");
}
