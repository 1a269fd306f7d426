//! `floodseg track` end to end on a small synthetic time-lapse (`synth timelapse`, drifting
//! stage, one frame out of focus): a valid CTC result and consistent tables from raw frames,
//! the same bytes on both backends and through `--labels`, the ground truth's own masks
//! tracked almost perfectly, and outputs that would overwrite inputs refused.

use std::path::{Path, PathBuf};
use std::process::Output;

use floodseg::ctc;

use crate::bin;

fn out_dir(name: &str) -> PathBuf {
    crate::out_dir_in("cli-track-tests", name)
}

fn ok(o: Output) -> (String, String) {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    (String::from_utf8_lossy(&o.stdout).into_owned(), err)
}

/// A 14-frame 112×96 movie with drift and one blurred frame, and its truth.
fn movie(d: &Path) -> (PathBuf, PathBuf) {
    let (stack, gt) = (d.join("movie.tif"), d.join("gt"));
    ok(bin()
        .args(["synth", "timelapse", "-o"])
        .arg(&stack)
        .arg("--gt")
        .arg(&gt)
        .args([
            "--frames", "14", "--size", "112x96", "--seed", "21", "--cells", "6",
        ])
        .args(["--drift", "2", "--blur-frames", "7"])
        .output()
        .unwrap());
    (stack, gt)
}

fn eval_ctc(gt: &Path, res: &Path) -> serde_like::Map {
    let o = bin()
        .args(["eval", "--json", "--ctc-gt"])
        .arg(gt)
        .arg("--ctc-res")
        .arg(res)
        .output()
        .unwrap();
    let (out, _) = ok(o);
    serde_like::parse(&out)
}

/// Just enough JSON for `eval --json`'s flat object of numbers.
mod serde_like {
    pub type Map = std::collections::BTreeMap<String, Option<f64>>;
    pub fn parse(text: &str) -> Map {
        let body = text.trim().trim_start_matches('{').trim_end_matches('}');
        body.split(',')
            .filter(|kv| !kv.trim().is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once(':').expect("key: value");
                let k = k.trim().trim_matches('"').to_string();
                (k, v.trim().parse::<f64>().ok())
            })
            .collect()
    }
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn track(args: &[&str], inputs: &[&Path], d: &Path, tag: &str) -> (String, PathBuf) {
    let mut c = bin();
    c.arg("track");
    for i in inputs {
        c.arg(i);
    }
    c.args(args)
        .arg("--ctc")
        .arg(d.join(format!("{tag}_ctc")))
        .arg("--lineage")
        .arg(d.join(format!("{tag}_lineage.csv")))
        .arg("--tracks")
        .arg(d.join(format!("{tag}_tracks.csv")));
    let (out, _) = ok(c.output().unwrap());
    (out, d.join(format!("{tag}_ctc")))
}

#[test]
fn track_writes_a_valid_ctc_result_and_consistent_tables_from_raw_frames() {
    let d = out_dir("raw");
    let (stack, gt) = movie(&d);
    let (out, res) = track(
        &["--preset", "rods", "--backend", "cpu", "--interval", "5"],
        &[&stack],
        &d,
        "cpu",
    );
    // the relabelled stack and the pictures ride along
    let o = bin()
        .args(["track", "--preset", "rods", "--backend", "cpu"])
        .arg(&stack)
        .arg("-o")
        .arg(d.join("relabelled.tif"))
        .arg("--overlay")
        .arg(d.join("overlay"))
        .arg("--tree")
        .arg(d.join("tree.svg"))
        .output()
        .unwrap();
    ok(o);
    assert!(
        out.contains("tracks,") && out.contains("in 14 frames"),
        "{out}"
    );
    // a valid CTC result
    let problems = ctc::validate_folder(&res, "mask", "res_track.txt").unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(ctc::list_masks(&res, "mask").unwrap().len(), 14);
    // good enough against the truth (the movie has a blurred frame and drift)
    let m = eval_ctc(&gt, &res);
    let tra = m["TRA"].unwrap();
    assert!(tra >= 0.9, "TRA {tra}: {m:?}");
    // the lineage: one row per track line, the per-hour columns with --interval
    let lineage = std::fs::read_to_string(d.join("cpu_lineage.csv")).unwrap();
    let mut lines = lineage.lines();
    assert_eq!(
        lines.next().unwrap(),
        "track_id,parent_id,generation,start_frame,end_frame,divides,touches_border,\
         length_birth,length_division,added_length,cycle_frames,growth_rate,cycle_minutes,\
         growth_rate_per_hour"
    );
    let tracks = ctc::read_tracks(&res.join("res_track.txt")).unwrap();
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), tracks.len());
    for (r, t) in rows.iter().zip(&tracks) {
        assert_eq!(r[0], t.label.to_string());
        assert_eq!(r[1], t.parent.to_string());
        assert_eq!(
            (
                r[3].parse::<usize>().unwrap(),
                r[4].parse::<usize>().unwrap()
            ),
            (t.begin, t.end)
        );
    }
    // napari's table: one row per cell per frame, as many as the CTC masks hold objects
    let table = std::fs::read_to_string(d.join("cpu_tracks.csv")).unwrap();
    assert!(table.starts_with("track_id,t,y,x,parent_id,"));
    let mut objects = 0usize;
    for (_, path) in ctc::list_masks(&res, "mask").unwrap() {
        let (_, _, l) = floodseg::io::read_labels_tiff(&path).unwrap();
        let mut ids: Vec<u32> = l.into_iter().filter(|&x| x != 0).collect();
        ids.sort_unstable();
        ids.dedup();
        objects += ids.len();
    }
    assert_eq!(table.lines().count() - 1, objects);
    // the relabelled stack holds the CTC masks, page for page
    let pages = floodseg::eval::read_label_frames(&d.join("relabelled.tif")).unwrap();
    assert_eq!(pages.len(), 14);
    for (t, path) in ctc::list_masks(&res, "mask").unwrap() {
        let (_, _, l) = floodseg::io::read_labels_tiff(&path).unwrap();
        assert_eq!(pages[t].labels, l, "frame {t}");
    }
    let svg = std::fs::read_to_string(d.join("tree.svg")).unwrap();
    assert!(
        svg.starts_with("<svg") || svg.starts_with("<?xml"),
        "{}",
        &svg[..40.min(svg.len())]
    );
    assert_eq!(std::fs::read_dir(d.join("overlay")).unwrap().count(), 14);
}

#[test]
fn track_gives_the_same_bytes_on_both_backends_and_through_labels() {
    let d = out_dir("backends");
    let (stack, _) = movie(&d);
    let flags = ["--preset", "rods"];
    let (_, cpu) = track(
        &[&flags[..], &["--backend", "cpu"]].concat(),
        &[&stack],
        &d,
        "cpu",
    );
    let (_, gpu) = track(
        &[&flags[..], &["--backend", "gpu"]].concat(),
        &[&stack],
        &d,
        "gpu",
    );
    assert!(
        files_of(&cpu) == files_of(&gpu),
        "CTC folders differ between cpu and gpu"
    );
    for t in ["lineage.csv", "tracks.csv"] {
        assert!(
            std::fs::read(d.join(format!("cpu_{t}"))).unwrap()
                == std::fs::read(d.join(format!("gpu_{t}"))).unwrap(),
            "{t} differs between cpu and gpu"
        );
    }
    // segment, then track the labels: the same result as tracking the raw frames, without
    // shape filters (with them the raw route also sees the objects they drop, and keeps those
    // that hold tracked cells: docs/tracking.md)
    let plain = [
        "--preset",
        "rods",
        "--min-eccentricity",
        "0",
        "--backend",
        "cpu",
    ];
    let seg = d.join("seg.tif");
    ok(bin()
        .arg("segment")
        .arg(&stack)
        .args(plain)
        .args(["-q", "-o"])
        .arg(&seg)
        .output()
        .unwrap());
    let (_, raw) = track(&plain, &[&stack], &d, "plain");
    let labels = seg.to_string_lossy().into_owned();
    let (_, via) = track(&["--labels", &labels], &[], &d, "labels");
    assert!(
        files_of(&raw) == files_of(&via),
        "--labels differs from the raw route"
    );
}

/// OME-Zarr both ways: `segment -o seg.zarr` tracked with `--labels seg.zarr` gives the same
/// result as the TIFF of the same labels, `-o tracked.zarr` holds the CTC masks' track ids, an
/// existing label image is refused before any output is written, and an image that holds label
/// images is not taken for labels.
#[test]
fn track_reads_and_writes_ome_zarr_label_images() {
    let d = out_dir("zarr");
    let (stack, _) = movie(&d);
    let seg = |out: &Path| {
        ok(bin()
            .arg("segment")
            .arg(&stack)
            .args(["--preset", "rods", "--backend", "cpu", "-q", "-o"])
            .arg(out)
            .output()
            .unwrap())
    };
    let (tif, zarr) = (d.join("seg.tif"), d.join("seg.zarr"));
    seg(&tif);
    seg(&zarr);
    let name = |p: &Path| p.to_string_lossy().into_owned();
    let (_, from_tif) = track(&["--labels", &name(&tif)], &[], &d, "tif");
    let out = d.join("tracked.zarr");
    let (_, from_zarr) = track(
        &["--labels", &name(&zarr), "-o", &name(&out)],
        &[],
        &d,
        "zarr",
    );
    assert!(
        files_of(&from_tif) == files_of(&from_zarr),
        "--labels seg.zarr differs from --labels seg.tif"
    );
    let z = floodseg::io::zarr::ZarrImage::open_labels(&out).unwrap();
    assert_eq!((z.frames, z.width, z.height), (14, 112, 96));
    for t in 0..14 {
        let (_, _, mask) =
            floodseg::io::read_labels_tiff(&from_zarr.join(format!("mask{t:03}.tif"))).unwrap();
        assert_eq!(z.read_labels(t).unwrap(), mask, "frame {t}");
    }
    // `track ARGS` refused as a bad parameter: its message
    let refused = |args: &[String]| {
        let o = bin().arg("track").args(args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{err}");
        err
    };
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    // an existing label image is never replaced, and nothing else is written first
    let again_ctc = name(&d.join("again_ctc"));
    let err = refused(&s(&[
        "--labels",
        &name(&zarr),
        "-o",
        &name(&out),
        "--ctc",
        &again_ctc,
    ]));
    assert!(err.contains("already holds a label image"), "{err}");
    assert!(
        !d.join("again_ctc").exists(),
        "an output written before the refusal"
    );
    // --label-name names labels written into an OME-Zarr input only
    let named = name(&d.join("named.zarr"));
    let err = refused(&s(&[
        "--labels",
        &name(&zarr),
        "-o",
        &named,
        "--label-name",
        "t2",
    ]));
    assert!(err.contains("--label-name"), "{err}");
    assert!(
        !d.join("named.zarr").exists(),
        "an output folder made before the refusal"
    );
    // the labels of an image go into its labels/ group: naming the image asks for one
    let image = d.join("image.zarr");
    std::fs::create_dir_all(image.join("labels/cells")).unwrap();
    std::fs::write(
        image.join("zarr.json"),
        r#"{"zarr_format":3,"node_type":"group","attributes":{"ome":{"version":"0.5","multiscales":[{"axes":[{"name":"y","type":"space"},{"name":"x","type":"space"}],"datasets":[{"path":"0"}]}]}}}"#,
    )
    .unwrap();
    std::fs::write(
        image.join("labels/zarr.json"),
        r#"{"zarr_format":3,"node_type":"group","attributes":{"ome":{"version":"0.5","labels":["cells"]}}}"#,
    )
    .unwrap();
    let err = refused(&s(&[
        "--labels",
        &name(&image),
        "--ctc",
        &name(&d.join("wrong_ctc")),
    ]));
    assert!(err.contains("labels/cells"), "{err}");
}

#[test]
fn track_of_the_truths_own_masks_is_nearly_perfect() {
    let d = out_dir("truth");
    let (_, gt) = movie(&d);
    let tra = gt.join("TRA").to_string_lossy().into_owned();
    let (_, res) = track(&["--labels", &tra], &[], &d, "gt");
    let m = eval_ctc(&gt, &res);
    let (t, det) = (m["TRA"].unwrap(), m["DET"].unwrap());
    assert_eq!(det, 1.0, "{m:?}");
    assert!(t >= 0.99, "TRA {t}: {m:?}");
}

#[test]
fn track_refuses_outputs_over_inputs_bad_names_and_no_outputs() {
    let d = out_dir("refuse");
    let (stack, gt) = movie(&d);
    let before = std::fs::read(&stack).unwrap();
    let run = |args: &[&str]| -> Output { bin().arg("track").args(args).output().unwrap() };
    let s = stack.to_string_lossy().into_owned();
    let code = |o: &Output| o.status.code();
    // -o names the input
    let o = run(&[&s, "--preset", "rods", "--backend", "cpu", "-o", &s]);
    assert_eq!(code(&o), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("input"));
    assert_eq!(
        std::fs::read(&stack).unwrap(),
        before,
        "the input was changed"
    );
    // the CTC folder is the folder the --labels masks are read from
    let tra = gt.join("TRA").to_string_lossy().into_owned();
    let o = run(&["--labels", &tra, "--ctc", &tra]);
    assert_eq!(code(&o), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    // no output at all, a table that is not CSV, two outputs in one file
    assert_eq!(code(&run(&[&s, "--backend", "cpu"])), Some(2));
    let txt = d.join("x.txt").to_string_lossy().into_owned();
    assert_eq!(
        code(&run(&[&s, "--backend", "cpu", "--lineage", &txt])),
        Some(2)
    );
    let csv = d.join("x.csv").to_string_lossy().into_owned();
    let o = run(&[&s, "--backend", "cpu", "--lineage", &csv, "--tracks", &csv]);
    assert_eq!(code(&o), Some(2));
    assert!(!d.join("x.csv").exists() && !d.join("x.txt").exists());
    // neither images nor labels
    assert_eq!(
        code(&run(&["--ctc", &d.join("c").to_string_lossy()])),
        Some(2)
    );
}
