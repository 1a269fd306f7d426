//! `floodseg segment` on time-lapse stacks: a folder, a glob and a multi-page TIFF give the
//! same labels; a stack file, a per-frame folder and single-image runs agree frame by frame;
//! outputs are identical across worker counts and backends; memory does not grow with the
//! number of frames; a bad frame stops the run without leaving incomplete files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::bin;
use crate::common::*;
use floodseg::io::FrameSource;
use floodseg::Samples;

fn out_dir(name: &str) -> PathBuf {
    crate::out_dir_in("cli-stack-tests", name)
}

fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "floodseg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `n` colony frames of `w×h` as `img_0.png … img_{n-1}.png` in `dir` (natural order matters:
/// img_10 comes after img_9).
fn write_frames(dir: &Path, n: usize, w: usize, h: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for t in 0..n {
        let img = floodseg::synth::colony(w, h, t as u64 + 7);
        let Samples::U8(px) = &img.samples else {
            unreachable!()
        };
        floodseg::io::write_png_gray8(&dir.join(format!("img_{t}.png")), w, h, px).unwrap();
    }
}

const PARAMS: [&str; 6] = ["--open", "1", "--min-distance", "4", "--threshold", "100"];

fn segment(input: &Path, output: &Path, extra: &[&str]) -> Output {
    ok(bin()
        .arg("segment")
        .arg(input)
        .arg("-o")
        .arg(output)
        .args(PARAMS)
        .args(["--quiet"])
        .args(extra)
        .output()
        .unwrap())
}

/// Every page of a label stack, as u32.
fn stack_pages(path: &Path) -> Vec<Vec<u32>> {
    FrameSource::open(path, None)
        .unwrap()
        .map(|f| match f.unwrap().samples {
            Samples::U16(v) => v.into_iter().map(u32::from).collect(),
            Samples::U8(v) => v.into_iter().map(u32::from).collect(),
            _ => panic!("unexpected label type"),
        })
        .collect()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn stack_outputs_agree_across_inputs_outputs_and_thread_counts() {
    let d = out_dir("agree");
    let frames = d.join("frames");
    let n = 11;
    write_frames(&frames, n, 97, 64);

    let run = |name: &str, input: &Path, extra: &[&str]| {
        let sub = d.join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let mut args = vec!["--backend", "cpu"];
        args.extend_from_slice(extra);
        let out = segment(
            input,
            &sub.join("labels.tif"),
            &[
                &args[..],
                &[
                    "--counts",
                    sub.join("counts.csv").to_str().unwrap(),
                    "--stats",
                    sub.join("objects.csv").to_str().unwrap(),
                ],
            ]
            .concat(),
        );
        (sub, String::from_utf8(out.stdout).unwrap())
    };
    let (one, stdout) = run("threads1", &frames, &["--threads", "1"]);
    let (three, stdout3) = run("threads3", &frames, &["--threads", "3"]);
    let (globbed, _) = run("glob", &frames.join("img_*.png"), &["--threads", "2"]);
    assert_eq!(stdout, stdout3);
    for f in ["labels.tif", "counts.csv", "objects.csv"] {
        assert!(
            read(&one.join(f)) == read(&three.join(f)),
            "{f} differs between 1 and 3 workers"
        );
        assert!(
            read(&one.join(f)) == read(&globbed.join(f)),
            "{f} differs between folder and glob input"
        );
    }

    // counts.csv: one row per frame, in order, summing to stdout's total
    let counts = String::from_utf8(read(&one.join("counts.csv"))).unwrap();
    let mut lines = counts.lines();
    assert_eq!(lines.next(), Some("frame,file,objects"));
    let per_frame: Vec<u64> = lines
        .enumerate()
        .map(|(t, l)| {
            let (f, rest) = l.split_once(',').unwrap();
            assert_eq!(f.parse::<usize>().unwrap(), t);
            // the frame's source file, then the count
            let (file, c) = rest.rsplit_once(',').unwrap();
            assert!(file.ends_with(&format!("img_{t}.png")), "{file}");
            c.parse().unwrap()
        })
        .collect();
    assert_eq!(per_frame.len(), n);
    assert_eq!(
        stdout,
        format!("{} objects in {n} frames\n", per_frame.iter().sum::<u64>())
    );

    // The stack's pages, a per-frame folder, and single-image runs agree frame by frame, and so
    // do the measurement rows.
    let pages = stack_pages(&one.join("labels.tif"));
    assert_eq!(pages.len(), n);
    let folder = d.join("folder");
    segment(&frames, &folder, &["--backend", "cpu"]);
    let stats = String::from_utf8(read(&one.join("objects.csv"))).unwrap();
    for (t, page) in pages.iter().enumerate() {
        let (w, h, per_frame_file) = read_tiff_u32(&folder.join(format!("img_{t}.tif")));
        assert_eq!((w, h), (97, 64));
        assert_eq!(&per_frame_file, page, "frame {t}: folder output differs");
        assert_eq!(
            page.iter().copied().max().unwrap_or(0) as u64,
            per_frame[t],
            "frame {t}: count"
        );
        if t % 5 == 0 {
            let single = d.join(format!("single{t}"));
            std::fs::create_dir_all(&single).unwrap();
            let out = segment(
                &frames.join(format!("img_{t}.png")),
                &single.join("labels.tif"),
                &[
                    "--backend",
                    "cpu",
                    "--stats",
                    single.join("objects.csv").to_str().unwrap(),
                ],
            );
            assert_eq!(
                String::from_utf8(out.stdout).unwrap(),
                format!("{} objects\n", per_frame[t])
            );
            assert_eq!(&read_tiff_u32(&single.join("labels.tif")).2, page);
            let single_rows: Vec<String> = String::from_utf8(read(&single.join("objects.csv")))
                .unwrap()
                .lines()
                .skip(1)
                .map(|l| l.split_once(',').unwrap().1.to_string())
                .collect();
            let stack_rows: Vec<String> = stats
                .lines()
                .skip(1)
                .filter(|l| l.split_once(',').unwrap().0 == t.to_string())
                .map(|l| l.split_once(',').unwrap().1.to_string())
                .collect();
            assert_eq!(single_rows, stack_rows, "frame {t}: stats rows");
        }
    }
}

#[test]
fn gpu_and_cpu_write_identical_stacks() {
    if gpu().is_none() {
        return; // gpu() fails the test instead when FLOODSEG_REQUIRE_GPU=1
    }
    let d = out_dir("backends");
    let frames = d.join("frames");
    write_frames(&frames, 3, 61, 47);
    let mut files = Vec::new();
    for backend in ["cpu", "gpu"] {
        let sub = d.join(backend);
        std::fs::create_dir_all(&sub).unwrap();
        segment(
            &frames,
            &sub.join("labels.tif"),
            &[
                "--backend",
                backend,
                "--stats",
                sub.join("objects.csv").to_str().unwrap(),
                "--counts",
                sub.join("counts.csv").to_str().unwrap(),
            ],
        );
        files.push(sub);
    }
    for f in ["labels.tif", "objects.csv", "counts.csv"] {
        assert!(
            read(&files[0].join(f)) == read(&files[1].join(f)),
            "{f} differs between the CPU and GPU backends"
        );
    }
}

/// Peak RSS in MiB, from `-v`'s "peak RSS" line.
fn peak_rss(stderr: &[u8]) -> Option<f64> {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().find(|l| l.contains("peak RSS"))?;
    line.split_whitespace()
        .rev()
        .nth(1)
        .and_then(|v| v.parse().ok())
}

#[test]
fn peak_memory_does_not_grow_with_the_number_of_frames() {
    let d = out_dir("memory");
    let many = d.join("many");
    write_frames(&many, 200, 384, 384);
    let few = d.join("few");
    std::fs::create_dir_all(&few).unwrap();
    for t in 0..20 {
        let name = format!("img_{t}.png");
        std::fs::copy(many.join(&name), few.join(&name)).unwrap();
    }
    let mut rss = Vec::new();
    for (input, name) in [(&few, "few"), (&many, "many")] {
        let out = ok(bin()
            .arg("segment")
            .arg(input)
            .arg("-o")
            .arg(d.join(format!("{name}.tif")))
            .args(PARAMS)
            .args(["--backend", "cpu", "--threads", "2", "-v", "--stats"])
            .arg(d.join(format!("{name}.csv")))
            .output()
            .unwrap());
        match peak_rss(&out.stderr) {
            Some(m) => rss.push(m),
            // Linux reports it (VmHWM): a missing line there is a regression, not a skip
            None if cfg!(target_os = "linux") => panic!(
                "no peak RSS line in -v output: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            None => return, // the OS does not report peak RSS
        }
    }
    eprintln!(
        "peak RSS: {:.1} MiB for 20 frames, {:.1} MiB for 200",
        rss[0], rss[1]
    );
    // The CLI's heap is marked for transparent huge pages (src/bin/floodseg/memory.rs), so
    // peak RSS moves in 2 MiB steps and two runs of the same stack differ by a step or two
    // (24–27 MiB for the 20 frames here): 4 MiB of slack on top of the 20 %. A leak of a
    // frame's labels (590 KB at 384²) over the 180 frames more would still be 100 MB.
    assert!(
        rss[1] <= rss[0] * 1.2 + 4.0,
        "peak RSS grew with the stack: {:.1} MiB for 20 frames, {:.1} MiB for 200",
        rss[0],
        rss[1]
    );
    assert_eq!(stack_pages(&d.join("many.tif")).len(), 200);
}

#[test]
fn a_bad_frame_stops_the_run_and_leaves_only_complete_files() {
    let d = out_dir("bad-frame");
    let frames = d.join("frames");
    write_frames(&frames, 6, 40, 30);
    // frame 3 is truncated halfway
    let bad = frames.join("img_3.png");
    let bytes = read(&bad);
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();

    let stack = d.join("labels.tif");
    let counts = d.join("counts.csv");
    let out = bin()
        .arg("segment")
        .arg(&frames)
        .arg("-o")
        .arg(&stack)
        .args(PARAMS)
        .args(["--backend", "cpu", "--quiet", "--counts"])
        .arg(&counts)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("img_3.png"), "error names the file: {err}");
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("floodseg: error"))
        .collect();
    assert_eq!(errors.len(), 1, "one error line: {err}");
    // A stack missing frames must not look complete: the frames before the bad one are kept
    // under partial names, the stack's pages and the table's rows of the same frames.
    let mut left: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "frames")
        .collect();
    left.sort();
    assert_eq!(left, ["counts.partial.csv", "labels.partial.tif"], "{err}");
    assert!(
        err.contains("labels.partial.tif") && err.contains("counts.partial.csv"),
        "{err}"
    );
    assert_eq!(stack_pages(&d.join("labels.partial.tif")).len(), 3);
    let rows = std::fs::read_to_string(d.join("counts.partial.csv")).unwrap();
    let frames_in_table: Vec<&str> = rows
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(frames_in_table, ["0", "1", "2"], "{rows}");

    // Per-frame outputs of the frames before the bad one are complete files and are kept.
    let folder = d.join("folder");
    let out = bin()
        .arg("segment")
        .arg(&frames)
        .arg("-o")
        .arg(&folder)
        .args(PARAMS)
        .args(["--backend", "cpu", "--quiet", "--threads", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let mut kept: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    kept.sort();
    assert_eq!(kept, ["img_0.tif", "img_1.tif", "img_2.tif"]);
}

/// `--stats` values equal `skimage.measure.regionprops_table` on the same labels and frames
/// (a committed stack: `scripts/reference/check_stats.py --write-reference` wrote the table),
/// to 1e-9 relative; orientation is an axis, so ±π/2 are equal.
#[test]
fn stats_equal_regionprops_table_on_a_committed_stack() {
    let dir = repo().join("tests/fixtures/stack_stats");
    let want = std::fs::read_to_string(dir.join("objects_skimage.csv")).unwrap();
    let mut want_rows = want.lines();
    assert_eq!(
        want_rows.next().unwrap(),
        format!("frame,{}", floodseg::measure::CSV_COLUMNS)
    );
    let labels = stack_pages(&dir.join("labels.tif"));
    assert_eq!(labels.len(), 3);
    let mut compared = 0;
    for (t, labels) in labels.iter().enumerate() {
        let img = floodseg::io::read_image(&dir.join(format!("frames/img_{t}.png"))).unwrap();
        let (gp, samples, scale) = floodseg::pipeline::gray_input(&img).unwrap();
        let mut keys = vec![0u32; gp.dims.len()];
        floodseg::cpu::gray::gray(&gp, &samples, &mut keys);
        let n = labels.iter().copied().max().unwrap_or(0);
        let sums = floodseg::cpu::measure::measure_sums(gp.dims, labels, &keys, false, n);
        for p in floodseg::measure::props(&sums, scale) {
            let got: Vec<f64> = std::iter::once(t as f64)
                .chain(
                    floodseg::measure::csv_row(&p)
                        .split(',')
                        .map(|v| v.parse().unwrap()),
                )
                .collect();
            let want: Vec<f64> = want_rows
                .next()
                .unwrap_or_else(|| panic!("frame {t}: more objects than scikit-image"))
                .split(',')
                .map(|v| v.parse().unwrap())
                .collect();
            let columns: Vec<&str> = std::iter::once("frame")
                .chain(floodseg::measure::CSV_COLUMNS.split(','))
                .collect();
            for ((c, g), w) in columns.iter().zip(&got).zip(&want) {
                let mut diff = (g - w).abs();
                if *c == "orientation" {
                    diff = diff.min((diff - std::f64::consts::PI).abs());
                }
                assert!(
                    diff <= 1e-9 * w.abs().max(1.0),
                    "frame {t}, label {}: {c} = {g}, scikit-image {w}",
                    got[1]
                );
            }
            compared += 1;
        }
    }
    assert!(
        want_rows.next().is_none(),
        "scikit-image found more objects"
    );
    assert_eq!(compared, 68);
}

/// Ctrl-C (SIGINT) in the middle of a stack: the run stops with exit code 130 saying where;
/// per-frame label files are complete, nothing else is left; `--resume` finishes the run with
/// outputs identical to an uninterrupted one. A stack file is never left incomplete.
#[test]
#[cfg(unix)]
fn interrupt_keeps_complete_frames_and_resume_finishes_identically() {
    use std::time::{Duration, Instant};
    let d = out_dir("interrupt");
    let frames = d.join("frames");
    let n = 40;
    write_frames(&frames, n, 256, 256);
    let common = |cmd: &mut Command| {
        cmd.args(PARAMS)
            .args(["--backend", "cpu", "--threads", "1", "--quiet"]);
    };

    // the reference: one uninterrupted run
    let full = d.join("full");
    let mut cmd = bin();
    cmd.arg("segment").arg(&frames).arg("-o").arg(&full);
    common(&mut cmd);
    cmd.arg("--counts").arg(d.join("full_counts.csv"));
    ok(cmd.output().unwrap());

    let interrupted_run = |out: &Path, extra: &[&std::ffi::OsStr]| {
        let mut cmd = bin();
        cmd.arg("segment").arg(&frames).arg("-o").arg(out);
        common(&mut cmd);
        cmd.args(extra);
        let child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // interrupt once a few frames are done (or after a while for a stack file)
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            let done = std::fs::read_dir(out)
                .map(|r| {
                    r.filter(|e| {
                        e.as_ref()
                            .unwrap()
                            .file_name()
                            .to_string_lossy()
                            .starts_with("img_")
                    })
                    .count()
                })
                .unwrap_or(0);
            // a stack: once its temporary file exists the run is writing frames (the signal
            // handler is installed long before), so the signal cannot come too early
            // (the stack's own temporary file: the tables' are made before the first frame)
            let stack_tmp = format!(
                ".{}.tmp-{}",
                out.file_name().unwrap_or_default().to_string_lossy(),
                child.id()
            );
            let stack_started = !out.is_dir()
                && out
                    .parent()
                    .is_some_and(|dir| dir.join(&stack_tmp).exists());
            if done >= 3 || stack_started {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        child.wait_with_output().unwrap()
    };

    let part = d.join("part");
    std::fs::create_dir_all(&part).unwrap();
    let part_table = d.join("interrupted_counts.csv");
    let out = interrupted_run(&part, &["--counts".as_ref(), part_table.as_os_str()]);
    let err = String::from_utf8_lossy(&out.stderr);
    // 40 frames on one thread: the signal comes after the third frame, long before the end
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("stopped after"), "{err}");
    assert!(err.contains("--resume"), "{err}");
    let mut kept: Vec<String> = std::fs::read_dir(&part)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    kept.sort_by(|a, b| floodseg::io::natural_cmp(a, b));
    assert!(kept.len() < n, "interrupted, yet all {n} frames are there");
    for name in &kept {
        assert!(!name.starts_with('.'), "temporary file left: {name}");
        read_tiff_u32(&part.join(name)); // complete and readable
    }
    // the table of the same frames, under a partial name
    assert!(
        !part_table.exists(),
        "the complete table's name was written"
    );
    let partial = d.join("interrupted_counts.partial.csv");
    let rows = std::fs::read_to_string(&partial).unwrap();
    assert_eq!(rows.lines().count(), 1 + kept.len(), "{rows} vs {kept:?}");
    let mut cmd = bin();
    cmd.arg("segment")
        .arg(&frames)
        .arg("-o")
        .arg(&part)
        .arg("--resume");
    common(&mut cmd);
    cmd.arg("--counts").arg(&part_table);
    ok(cmd.output().unwrap());
    for t in 0..n {
        let name = format!("img_{t}.tif");
        assert!(
            read(&full.join(&name)) == read(&part.join(&name)),
            "{name} differs after resuming"
        );
    }
    assert!(read(&d.join("full_counts.csv")) == read(&part_table));
    assert!(
        !partial.exists(),
        "the complete run leaves the partial table behind"
    );

    // a stack file: interrupted → never `labels.tif`; the finished frames are kept, complete,
    // in `labels.partial.tif`, and the table's rows of the same frames in counts.partial.csv
    let stack_dir = d.join("stack");
    std::fs::create_dir_all(&stack_dir).unwrap();
    let stack = stack_dir.join("labels.tif");
    let table = stack_dir.join("counts.csv");
    let out = interrupted_run(&stack, &["--counts".as_ref(), table.as_os_str()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    let mut left: Vec<String> = std::fs::read_dir(&stack_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert!(
        !stack.exists() && !table.exists(),
        "an interrupted run wrote a complete output's name"
    );
    assert_eq!(left, ["counts.partial.csv", "labels.partial.tif"], "{err}");
    let pages = stack_pages(&stack_dir.join("labels.partial.tif"));
    assert!(
        !pages.is_empty() && pages.len() < n,
        "{} pages",
        pages.len()
    );
    for (t, page) in pages.iter().enumerate() {
        let (_, _, want) = read_tiff_u32(&full.join(format!("img_{t}.tif")));
        assert_eq!(page, &want, "partial stack page {t}");
    }
    let rows = std::fs::read_to_string(stack_dir.join("counts.partial.csv")).unwrap();
    let full_rows = std::fs::read_to_string(d.join("full_counts.csv")).unwrap();
    let want_rows: Vec<&str> = full_rows.lines().take(1 + pages.len()).collect();
    assert_eq!(rows.lines().collect::<Vec<_>>(), want_rows, "{err}");
    assert!(err.contains("labels.partial.tif"), "{err}");
}

/// A classic little-endian TIFF header whose one page claims `width × height` 8-bit gray pixels
/// (strip offset/size pointing at 4 bytes of data).
fn tiff_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut b = b"II*\0".to_vec();
    b.extend_from_slice(&8u32.to_le_bytes());
    let entries: [(u16, u16, u32); 8] = [
        (256, 4, width),              // ImageWidth
        (257, 4, height),             // ImageLength
        (258, 3, 8),                  // BitsPerSample
        (259, 3, 1),                  // Compression: none
        (262, 3, 1),                  // Photometric: black is zero
        (273, 4, 8 + 2 + 8 * 12 + 4), // StripOffsets
        (278, 4, height),             // RowsPerStrip
        (279, 4, 4),                  // StripByteCounts
    ];
    b.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, ty, value) in entries {
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&ty.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        if ty == 3 {
            b.extend_from_slice(&(value as u16).to_le_bytes());
            b.extend_from_slice(&[0, 0]);
        } else {
            b.extend_from_slice(&value.to_le_bytes());
        }
    }
    b.extend_from_slice(&0u32.to_le_bytes()); // no next page
    b.extend_from_slice(&[1, 2, 3, 4]);
    b
}

/// A two-page TIFF whose pages differ in size (`8×6` then `5×6`).
fn tiff_pages_differ(path: &Path) {
    use tiff::encoder::{colortype::Gray8, TiffEncoder};
    let mut enc = TiffEncoder::new(std::fs::File::create(path).unwrap()).unwrap();
    enc.write_image::<Gray8>(8, 6, &[200u8; 48]).unwrap();
    enc.write_image::<Gray8>(5, 6, &[200u8; 30]).unwrap();
}

/// The bad-input corpus: every case ends with one line naming the file, frame or parameter, a
/// non-zero exit code (2 parameter, 3 input), no panic, and no output file of any kind left
/// behind (labels, stack, --stats, --counts, --overlay).
#[test]
fn bad_input_corpus_fails_cleanly_and_leaves_nothing() {
    let d = out_dir("corpus");
    let gen = |f: &str| repo().join("data/generated").join(f);
    let inputs = d.join("inputs");
    std::fs::create_dir_all(&inputs).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = inputs.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let tiff = read(&gen("gray8_lzw.tif"));
    let png = read(&repo().join("data/ecoli.png"));
    let truncated_tiff = write("truncated.tif", &tiff[..tiff.len() * 2 / 3]);
    let truncated_png = write("truncated.png", &png[..png.len() / 2]);
    let corrupt_png = {
        let mut b = png.clone();
        let mid = b.len() / 2;
        b[mid..mid + 64].iter_mut().for_each(|x| *x ^= 0x5a);
        write("corrupt.png", &b)
    };
    let empty = write("empty.tif", b"");
    let huge = write("huge.tif", &tiff_claiming(100_000, 100_000));
    let differ = inputs.join("pages_differ.tif");
    tiff_pages_differ(&differ);
    let no_images = d.join("no_images");
    std::fs::create_dir_all(&no_images).unwrap();
    std::fs::write(no_images.join("readme.txt"), "no frames here").unwrap();
    let mixed = d.join("mixed_sizes");
    write_frames(&mixed, 2, 20, 16);
    let img = floodseg::synth::colony(21, 16, 9);
    let Samples::U8(px) = &img.samples else {
        unreachable!()
    };
    floodseg::io::write_png_gray8(&mixed.join("img_2.png"), 21, 16, px).unwrap();

    let p = |x: &Path| x.display().to_string();
    let good = p(&repo().join("data/ecoli.png"));
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // (arguments after `segment`, text stderr must contain, exit code)
    let cases: Vec<(Vec<String>, String, i32)> = vec![
        (vec![p(&truncated_tiff)], "truncated.tif".into(), 3),
        (vec![p(&truncated_png)], "truncated.png".into(), 3),
        (vec![p(&corrupt_png)], "corrupt.png".into(), 3),
        (vec![p(&empty)], "empty.tif".into(), 3),
        (vec![p(&huge)], "huge.tif".into(), 3),
        (vec![p(&differ)], "frame 1".into(), 3),
        (vec![p(&no_images)], "no_images".into(), 3),
        (vec![p(&mixed)], "img_2.png".into(), 3),
        (vec![p(&d.join("missing.tif"))], "missing.tif".into(), 3),
        (vec![p(&d.join("nothing_*.png"))], "nothing_*.png".into(), 3),
        (vec![p(&gen("bilevel.tif"))], "bilevel.tif".into(), 3),
        (vec![p(&gen("int16.tif"))], "int16.tif".into(), 3),
        (vec![p(&gen("uint32.tif"))], "uint32.tif".into(), 3),
        (vec![p(&gen("float64.tif"))], "float64.tif".into(), 3),
        (vec![p(&gen("complex64.tif"))], "complex64.tif".into(), 3),
        (
            vec![p(&gen("rgb8_planar.tif"))],
            "rgb8_planar.tif".into(),
            3,
        ),
        (
            vec![p(&gen("gray8_5samples.tif"))],
            "gray8_5samples.tif".into(),
            3,
        ),
        (
            vec![p(&gen("gray32f_nan.tif"))],
            "gray32f_nan.tif".into(),
            3,
        ),
        (
            vec![p(&gen("gray32f_inf.tif"))],
            "gray32f_inf.tif".into(),
            3,
        ),
        (vec![p(&gen("zero_width.tif"))], "zero_width.tif".into(), 3),
        (s(&[&good, "--open", "-1"]), "--open".into(), 2),
        (s(&[&good, "--footprint", "0"]), "--footprint".into(), 2),
        (
            s(&[&good, "--min-distance", "-4"]),
            "--min-distance".into(),
            2,
        ),
        (s(&[&good, "--threshold", "abc"]), "--threshold".into(), 2),
        (s(&[&good, "--threshold", "nan"]), "--threshold".into(), 2),
        (s(&[&good, "--threshold", "1e999"]), "--threshold".into(), 2),
        (s(&[&good, "--open", "99999999"]), "--open".into(), 2),
        (s(&[&good, "--backend", "tpu"]), "--backend".into(), 2),
        (s(&[&good, "--structure", "star"]), "--structure".into(), 2),
        (s(&[&good, "--threads", "0"]), "--threads".into(), 2),
        (s(&[&good, "--channel", "3"]), "channel".into(), 2),
    ];
    for (args, needle, code) in cases {
        let outs = d.join("outs");
        let _ = std::fs::remove_dir_all(&outs);
        std::fs::create_dir_all(&outs).unwrap();
        let out = bin()
            .arg("segment")
            .args(&args)
            .arg("-o")
            .arg(outs.join("labels.tif"))
            .arg("--stats")
            .arg(outs.join("objects.csv"))
            .arg("--counts")
            .arg(outs.join("counts.csv"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let err_lines: Vec<&str> = err
            .lines()
            .filter(|l| l.starts_with("floodseg: error") || l.starts_with("error"))
            .collect();
        assert_ne!(out.status.code(), Some(101), "{args:?} panicked: {err}");
        assert_eq!(out.status.code(), Some(code), "{args:?}: exit code; {err}");
        assert_eq!(err_lines.len(), 1, "{args:?}: one error line: {err}");
        assert!(
            err.contains(&needle),
            "{args:?}: should name {needle}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: stdout: {:?}", out.stdout);
        // nothing that looks complete: a failure after some frames keeps those frames under
        // partial names only (the stack's pages and the tables' rows of the same frames)
        let mut left: Vec<String> = std::fs::read_dir(&outs)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        // (the mixed folder fails at its third file, the two-page TIFF at its second page)
        let finished = if args[0].contains("mixed_sizes") {
            2
        } else if args[0].contains("pages_differ") {
            1
        } else {
            0
        };
        if finished > 0 {
            assert_eq!(
                left,
                [
                    "counts.partial.csv",
                    "labels.partial.tif",
                    "objects.partial.csv"
                ],
                "{args:?}"
            );
            assert_eq!(
                stack_pages(&outs.join("labels.partial.tif")).len(),
                finished
            );
            let counts = std::fs::read_to_string(outs.join("counts.partial.csv")).unwrap();
            assert_eq!(counts.lines().count(), 1 + finished, "{counts}");
        } else {
            assert!(left.is_empty(), "{args:?}: left {left:?}");
        }
    }
}

/// `-o` naming a PNG is refused (labels are TIFF) instead of becoming a folder called x.png.
#[test]
fn output_named_like_an_image_is_refused() {
    let d = out_dir("png-output");
    let out = bin()
        .arg("segment")
        .arg(repo().join("data/ecoli.png"))
        .arg("-o")
        .arg(d.join("labels.png"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--output"));
    assert!(!d.join("labels.png").exists());
}

/// `--pixel-size` and `--interval` go into the label stack as ImageJ reads them (`unit=um`,
/// `finterval` in `tunit=min`, XResolution in pixels per µm) and add µm columns to `--stats`.
#[test]
fn pixel_size_and_interval_reach_the_stack_and_the_table() {
    use tiff::decoder::Decoder;
    use tiff::tags::Tag;
    let d = out_dir("calibrated");
    let frames = d.join("frames");
    write_frames(&frames, 3, 40, 30);
    let stack = d.join("labels.tif");
    ok(bin()
        .arg("segment")
        .arg(&frames)
        .arg("-o")
        .arg(&stack)
        .args(PARAMS)
        .args([
            "--backend",
            "cpu",
            "--pixel-size",
            "0.065",
            "--interval",
            "1.5",
            "--stats",
        ])
        .arg(d.join("objects.csv"))
        .output()
        .unwrap());
    let mut dec = Decoder::new(std::fs::File::open(&stack).unwrap()).unwrap();
    let desc = dec.get_tag_ascii_string(Tag::ImageDescription).unwrap();
    assert!(desc.contains("unit=um"), "{desc}");
    assert!(
        desc.contains("finterval=1.5") && desc.contains("tunit=min"),
        "{desc}"
    );
    assert!(desc.contains("frames=3"), "{desc}");
    let xres = dec.get_tag(Tag::XResolution).unwrap();
    let tiff::decoder::ifd::Value::Rational(num, den) = xres else {
        panic!("XResolution {xres:?}")
    };
    assert!(
        (num as f64 / den as f64 - 1.0 / 0.065).abs() < 1e-3,
        "{num}/{den}"
    );
    let csv = std::fs::read_to_string(d.join("objects.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let area = header.iter().position(|&c| c == "area").unwrap();
    let um2 = header.iter().position(|&c| c == "area_um2").unwrap();
    for row in csv.lines().skip(1) {
        let v: Vec<&str> = row.split(',').collect();
        let (a, b): (f64, f64) = (v[area].parse().unwrap(), v[um2].parse().unwrap());
        assert!((b - a * 0.065 * 0.065).abs() <= 1e-12 * b.max(1.0), "{row}");
    }
    // a bad value is refused before any work
    let out = bin()
        .arg("segment")
        .arg(&frames)
        .arg("-o")
        .arg(d.join("bad.tif"))
        .args(["--pixel-size", "-1"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!d.join("bad.tif").exists());
}
