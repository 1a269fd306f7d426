//! Physical units in `floodseg::io`: what inputs declare ([`read_calibration`],
//! `FrameSource::calibration`) and what calibrated label TIFFs carry
//! (`write_labels_tiff_with`, `StackWriter::create_calibrated`).
//!
//! The reading fixtures in `tests/fixtures/calibration/` were written by real writers:
//! tifffile and Pillow (`make_calibration_fixtures.py`) and ImageJ 1.53t itself
//! (`make_imagej_fixtures.ijm`); the values they declare are stated in those scripts. Written
//! files are read back with the `tiff` crate (raw tags) and with floodseg's own reader. The
//! `uncalibrated_*.tif` fixtures are the outputs of the writers before calibration support.

use std::fs;
use std::path::{Path, PathBuf};

use floodseg::io::{
    read_calibration, read_labels_tiff, write_labels_tiff, write_labels_tiff_with, Calibration,
    FrameSource, LabelType, StackFormat, StackWriter,
};
use floodseg::Samples;
use tiff::decoder::ifd::Value;
use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::Tag;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/calibration")
        .join(name)
}

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("io-calibration-tests")
        .join(format!("{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs()
}

/// Assert the calibration `path` declares, within `rel` (relative).
fn expect(name: &str, pixel: Option<(f64, f64)>, interval: Option<f64>, rel: f64) {
    let d = read_calibration(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let c = d.calibration;
    match (c.pixel_size(), pixel) {
        (Some((x, y)), Some((wx, wy))) => assert!(
            close(x, wx, rel) && close(y, wy, rel),
            "{name}: pixel size {x} × {y}, want {wx} × {wy} ({d})"
        ),
        (got, want) => assert_eq!(got, want, "{name}: pixel size ({d})"),
    }
    match (c.interval(), interval) {
        (Some(m), Some(w)) => assert!(close(m, w, rel), "{name}: interval {m}, want {w} ({d})"),
        (got, want) => assert_eq!(got, want, "{name}: interval ({d})"),
    }
}

// ------------------------------------------------------------------------------ reading

#[test]
fn reads_tifffile_imagej_stacks() {
    // unit=um, XResolution 200/13, finterval=30 (seconds, no tunit)
    expect(
        "tifffile_imagej_um_30s.tif",
        Some((0.065, 0.065)),
        Some(0.5),
        0.0,
    );
    // unit=micron, 0.065 × 0.07, finterval=2 tunit=min
    expect(
        "tifffile_imagej_micron_min.tif",
        Some((0.065, 0.07)),
        Some(2.0),
        1e-15,
    );
}

#[test]
fn reads_ome_xml() {
    let d = read_calibration(&fixture("tifffile_ome.ome.tif")).unwrap();
    assert_eq!(
        d.pixel_size_from,
        Some("OME-XML PhysicalSizeX/PhysicalSizeY")
    );
    assert_eq!(d.interval_from, Some("OME-XML TimeIncrement"));
    expect(
        "tifffile_ome.ome.tif",
        Some((0.065, 0.065)),
        Some(0.75),
        0.0,
    );
}

#[test]
fn reads_physical_resolution_units_and_ignores_defaults() {
    expect("tifffile_cm.tif", Some((0.1, 0.1)), None, 0.0);
    expect("tifffile_72dpi.tif", None, None, 0.0);
    expect("tifffile_96dpi.tif", None, None, 0.0);
    // The TIFF unit (inch) wins over the ImageJ description's unit=um.
    expect("tifffile_inch_imagej_um.tif", Some((0.1, 0.1)), None, 0.0);
    // A resolution without ResolutionUnit is no calibration (as in ImageJ).
    expect("no_resolution_unit_300.tif", None, None, 0.0);
    let d = read_calibration(&fixture("no_resolution_unit_300.tif")).unwrap();
    assert!(d.ignored[0].contains("absent"), "{:?}", d.ignored);
    let d = read_calibration(&fixture("tifffile_72dpi.tif")).unwrap();
    assert!(
        d.ignored.iter().any(|s| s.contains("72 dpi")),
        "{:?}",
        d.ignored
    );
}

#[test]
fn reads_png_phys() {
    expect("pil_0.5um.png", Some((0.5, 0.5)), None, 0.0);
    expect("pil_72dpi.png", None, None, 0.0);
    let d = read_calibration(&fixture("pil_72dpi.png")).unwrap();
    assert_eq!(d.ignored.len(), 1, "{:?}", d.ignored);
}

#[test]
fn reads_files_imagej_wrote() {
    // ImageJ writes XResolution as round(1e6 / size) / 1e6, so compare to 1e-6.
    expect(
        "imagej_stack_micron_min.tif",
        Some((0.065, 0.07)),
        Some(0.5),
        1e-6,
    );
    // unit=\u00B5m (escaped by ImageJ)
    expect("imagej_single_um.tif", Some((0.1, 0.1)), None, 0.0);
    // unit=nm, finterval=0.25 without tunit (seconds); ImageJ stores 15384/1e6 px per nm.
    expect(
        "imagej_stack_nm_sec.tif",
        Some((0.065, 0.065)),
        Some(0.25 / 60.0),
        1e-4,
    );
}

#[test]
fn frame_source_reports_its_first_file() {
    let dir = scratch("frame_source");
    fs::copy(fixture("pil_0.5um.png"), dir.join("a_1.png")).unwrap();
    fs::copy(fixture("pil_72dpi.png"), dir.join("a_2.png")).unwrap();
    let want = Calibration::default().with_pixel_size(0.5).unwrap();
    assert_eq!(
        FrameSource::open(&dir, None)
            .unwrap()
            .calibration()
            .unwrap(),
        want
    );
    assert_eq!(
        FrameSource::open(&dir.join("a_*.png"), None)
            .unwrap()
            .calibration()
            .unwrap(),
        want
    );
    let src = FrameSource::open(&fixture("tifffile_imagej_um_30s.tif"), None).unwrap();
    assert_eq!(
        src.calibration().unwrap(),
        Calibration::new(Some((0.065, 0.065)), Some(0.5)).unwrap()
    );
    // Frames still read after asking.
    assert_eq!(src.count(), 3);
    let d = FrameSource::open(&fixture("imagej_single_um.tif"), None)
        .unwrap()
        .declared_calibration()
        .unwrap();
    assert_eq!(
        d.pixel_size_from,
        Some("TIFF XResolution/YResolution, ImageJ unit")
    );
}

#[test]
fn read_errors() {
    let missing = fixture("no such file.tif");
    assert!(matches!(
        read_calibration(&missing),
        Err(floodseg::Error::Read { .. })
    ));
    let dir = scratch("read_errors");
    let text = dir.join("x.tif");
    fs::write(&text, "not an image").unwrap();
    assert!(matches!(
        read_calibration(&text),
        Err(floodseg::Error::Decode { .. })
    ));
}

/// What each bundled input in `data/` declares (checked against tifffile and Pillow): none of
/// them a calibration; two say 72 dpi, the default of image editors.
#[test]
fn bundled_inputs_declare_no_calibration() {
    let mut files = Vec::new();
    let mut stack = vec![data("")];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("tif" | "tiff" | "png")
            ) {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 40, "{} files", files.len());
    let mut dpi72 = Vec::new();
    for f in &files {
        let name = f.strip_prefix(data("")).unwrap().display().to_string();
        match read_calibration(f) {
            Ok(d) => {
                assert_eq!(d.calibration, Calibration::default(), "{name}: {d}");
                if d.ignored.iter().any(|s| s.contains("72 dpi")) {
                    dpi72.push(name);
                }
            }
            // Files that read_image refuses too (zero-sized PNG).
            Err(e) => assert!(name.starts_with("generated/zero"), "{name}: {e}"),
        }
    }
    assert_eq!(
        dpi72,
        [
            "omnipose/ecoli_phase.tif",
            "supersegger/2014_05_30_controlagaint001xy1c1.tif"
        ]
    );
    // The time-lapse has an ImageJ description but no finterval.
    let d = read_calibration(&data("ecoli/timelapse_crop.tif")).unwrap();
    assert_eq!(d.calibration.interval(), None, "{d}");
}

// ------------------------------------------------------------------------------ writing

fn lab(t: u32, w: usize, h: usize, big: bool) -> Vec<u32> {
    (0..w * h)
        .map(|i| {
            let v = (i as u32 * 7 + t * 13) % 50;
            if big && v == 3 {
                70000 + t
            } else {
                v
            }
        })
        .collect()
}

/// The raw calibration tags of page `page`: XResolution, YResolution, ResolutionUnit,
/// ImageDescription (trailing padding trimmed).
type RawTags = (Value, Value, u16, Option<String>);

fn raw_tags(path: &Path, page: usize) -> RawTags {
    let mut d = Decoder::new(fs::File::open(path).unwrap()).unwrap();
    for _ in 0..page {
        d.next_image().unwrap();
    }
    let desc = d
        .find_tag(Tag::ImageDescription)
        .unwrap()
        .map(|v| v.into_string().unwrap().trim_end().to_string());
    (
        d.get_tag(Tag::XResolution).unwrap(),
        d.get_tag(Tag::YResolution).unwrap(),
        d.find_tag_unsigned(Tag::ResolutionUnit).unwrap().unwrap(),
        desc,
    )
}

fn u32_pixels(path: &Path, page: usize) -> Vec<u32> {
    let mut d = Decoder::new(fs::File::open(path).unwrap()).unwrap();
    for _ in 0..page {
        d.next_image().unwrap();
    }
    match d.read_image().unwrap() {
        DecodingResult::U16(v) => v.into_iter().map(u32::from).collect(),
        DecodingResult::U32(v) => v,
        _ => panic!("not a label page"),
    }
}

#[test]
fn uncalibrated_outputs_are_byte_identical_to_the_old_writers() {
    let dir = scratch("golden");
    let (w, h) = (9, 7);
    let none = Calibration::default();
    // An interval alone changes nothing on a single page either.
    let interval_only = Calibration::new(None, Some(0.5)).unwrap();
    for (name, big) in [
        ("uncalibrated_labels_u16.tif", false),
        ("uncalibrated_labels_u32.tif", true),
    ] {
        let want = fs::read(fixture(name)).unwrap();
        let a = dir.join(format!("plain-{name}"));
        write_labels_tiff(&a, w, h, &lab(0, w, h, big)).unwrap();
        assert_eq!(fs::read(&a).unwrap(), want, "{name}: write_labels_tiff");
        for (what, cal) in [("none", &none), ("interval only", &interval_only)] {
            let b = dir.join(format!("with-{name}"));
            write_labels_tiff_with(&b, w, h, &lab(0, w, h, big), cal).unwrap();
            assert_eq!(fs::read(&b).unwrap(), want, "{name}: with {what}");
        }
    }
    for (name, ty, format, big) in [
        (
            "uncalibrated_stack_u16.tif",
            LabelType::U16,
            StackFormat::Classic,
            false,
        ),
        (
            "uncalibrated_stack_u32_bigtiff.tif",
            LabelType::U32,
            StackFormat::BigTiff,
            true,
        ),
    ] {
        let want = fs::read(fixture(name)).unwrap();
        for calibrated in [false, true] {
            let path = dir.join(format!("{calibrated}-{name}"));
            let mut s = if calibrated {
                StackWriter::create_calibrated(&path, ty, format, &none).unwrap()
            } else {
                StackWriter::create_with(&path, ty, format).unwrap()
            };
            for t in 0..3 {
                s.write_frame(w, h, &lab(t, w, h, big)).unwrap();
            }
            s.finish().unwrap();
            assert_eq!(fs::read(&path).unwrap(), want, "{name} ({calibrated})");
        }
    }
}

#[test]
fn single_page_carries_the_pixel_size() {
    let dir = scratch("single");
    let (w, h) = (9, 7);
    let cal = Calibration::new(Some((0.065, 0.07)), Some(0.5)).unwrap();
    for big in [false, true] {
        let path = dir.join(format!("labels-{big}.tif"));
        let labels = lab(0, w, h, big);
        write_labels_tiff_with(&path, w, h, &labels, &cal).unwrap();
        let (x, y, unit, desc) = raw_tags(&path, 0);
        assert_eq!(x, Value::Rational(200, 13));
        assert_eq!(y, Value::Rational(100, 7));
        assert_eq!(unit, 1);
        assert_eq!(desc.as_deref(), Some("ImageJ=1.11a\nunit=um"));
        assert_eq!(read_labels_tiff(&path).unwrap(), (w, h, labels));
        // Read back: the pixel size exactly; a single page has no interval.
        let back = read_calibration(&path).unwrap().calibration;
        assert_eq!(back.pixel_size(), Some((0.065, 0.07)));
        assert_eq!(back.interval(), None);
    }
}

#[test]
fn stacks_carry_pixel_size_and_interval() {
    let dir = scratch("stack");
    let (w, h) = (9, 7);
    let cal = Calibration::new(Some((0.065, 0.065)), Some(1.5)).unwrap();
    for (ty, format, big) in [
        (LabelType::U16, StackFormat::Classic, false),
        (LabelType::U32, StackFormat::BigTiff, true),
    ] {
        let path = dir.join(format!("stack-{ty:?}.tif"));
        let mut s = StackWriter::create_calibrated(&path, ty, format, &cal).unwrap();
        assert_eq!(s.calibration(), &cal);
        for t in 0..12 {
            s.write_frame(w, h, &lab(t, w, h, big)).unwrap();
        }
        s.finish().unwrap();
        for page in [0, 11] {
            let (x, y, unit, desc) = raw_tags(&path, page);
            assert_eq!(
                (x, y, unit),
                (Value::Rational(200, 13), Value::Rational(200, 13), 1)
            );
            assert_eq!(
                desc.as_deref(),
                (page == 0).then_some(
                    "ImageJ=1.11a\nimages=12\nframes=12\nhyperstack=true\nunit=um\n\
                     finterval=1.5\ntunit=min"
                ),
                "page {page}"
            );
            assert_eq!(u32_pixels(&path, page), lab(page as u32, w, h, big));
        }
        let src = FrameSource::open(&path, None).unwrap();
        assert_eq!(src.len(), Some(12));
        assert_eq!(src.calibration().unwrap(), cal);
        if !big {
            // (u32 pages are labels, not inputs: FrameSource refuses 32-bit integers.)
            for (t, f) in src.enumerate() {
                let Samples::U16(v) = f.unwrap().samples else {
                    panic!("u16 frames")
                };
                let want: Vec<u16> = lab(t as u32, w, h, false)
                    .iter()
                    .map(|&l| l as u16)
                    .collect();
                assert_eq!(v, want, "frame {t}");
            }
        }
    }
}

#[test]
fn interval_only_and_anisotropic_stacks() {
    let dir = scratch("stack_variants");
    let (w, h) = (5, 4);
    let only_t = Calibration::new(None, Some(0.25)).unwrap();
    let path = dir.join("t.tif");
    let mut s = StackWriter::create(&path, LabelType::U16).unwrap();
    s.write_frame(w, h, &lab(0, w, h, false)).unwrap();
    s.finish().unwrap();
    let plain_len = fs::read(&path).unwrap().len();
    let mut s =
        StackWriter::create_calibrated(&path, LabelType::U16, StackFormat::Classic, &only_t)
            .unwrap();
    s.write_frame(w, h, &lab(0, w, h, false)).unwrap();
    s.write_frame(w, h, &lab(1, w, h, false)).unwrap();
    s.finish().unwrap();
    let (x, _, unit, desc) = raw_tags(&path, 0);
    assert_eq!(
        (x, unit),
        (Value::Rational(1, 1), 1),
        "the encoder's default"
    );
    assert_eq!(
        desc.as_deref(),
        Some("ImageJ=1.11a\nimages=2\nframes=2\nhyperstack=true\nfinterval=0.25\ntunit=min")
    );
    assert!(fs::read(&path).unwrap().len() > plain_len);
    assert_eq!(read_calibration(&path).unwrap().calibration, only_t);

    // Anisotropic pixels, an interval that is not a short decimal, many frames (the patched
    // description must keep its reserved width).
    let cal = Calibration::new(Some((0.108_333, 0.2)), Some(1.0 / 3.0)).unwrap();
    let mut s =
        StackWriter::create_calibrated(&path, LabelType::U16, StackFormat::Classic, &cal).unwrap();
    for t in 0..1000 {
        s.write_frame(w, h, &lab(t, w, h, false)).unwrap();
    }
    s.finish().unwrap();
    let back = read_calibration(&path).unwrap();
    assert_eq!(back.calibration, cal, "{back}");
    let (_, _, _, desc) = raw_tags(&path, 0);
    assert!(
        desc.unwrap()
            .contains("frames=1000\nhyperstack=true\nunit=um\n"),
        "frame count patched"
    );
}
