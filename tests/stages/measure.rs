//! Stage **measure** on the CPU.
//!
//! Against scikit-image: `floodseg::measure::props` of the CPU twin's sums (and of the GPU's,
//! which must be the same sums) equals `skimage.measure.regionprops_table` on 16-bit gray, 8-bit
//! RGB, 16-bit RGB and float32 images with committed labels (`tests/fixtures/measure/`, written
//! by `scripts/reference/make_measure_fixtures.py`), every `--stats` column, `mean_intensity` in
//! the input's units (`rgb2gray × 255` / `× 65535` for RGB). The labels hold the formulas' corner
//! cases: zero mixed moments, equal variances, both diagonals, a single pixel, lines, an object
//! cut by the edge, a label in two pieces and a missing label.
//!
//! Schedules: the banded parallel `measure` equals `measure_sums` on images tall enough to be
//! split. GPU sums, field by field: `tests/gpu/measure.rs`.

use crate::common::{self, read_tiff_u32, repo};
use crate::inputs::config;

use floodseg::cpu::gray::gray;
use floodseg::cpu::measure::{measure, measure_sums, ObjectSums};
use floodseg::cpu::threshold::GrayScale;
use floodseg::cpu::Dims;
use floodseg::measure::{csv_row, props, CSV_COLUMNS};
use floodseg::pipeline::gray_input;
use proptest::prelude::*;

const CASES: [&str; 4] = ["u16", "rgb8", "rgb16", "f32"];

struct Case {
    name: &'static str,
    dims: Dims,
    labels: Vec<u32>,
    keys: Vec<u32>,
    scale: GrayScale,
    n_objects: u32,
    /// scikit-image's rows, parsed.
    want: Vec<Vec<f64>>,
}

fn load(name: &'static str) -> Case {
    let dir = repo().join("tests/fixtures/measure").join(name);
    let image = ["image.tif", "image.png"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{name}: no image"));
    let img = floodseg::io::read_image(&image).unwrap();
    let (gp, samples, scale) = gray_input(&img).unwrap();
    let mut keys = vec![0u32; gp.dims.len()];
    gray(&gp, &samples, &mut keys);
    let (w, h, labels) = read_tiff_u32(&dir.join("labels.tif"));
    assert_eq!((w, h), (img.width, img.height), "{name}");
    let text = std::fs::read_to_string(dir.join("objects_skimage.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), CSV_COLUMNS, "{name}: header");
    let want = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    Case {
        name,
        dims: gp.dims,
        n_objects: labels.iter().copied().max().unwrap_or(0),
        labels,
        keys,
        scale,
        want,
    }
}

/// Per column: exact where floodseg and scikit-image both count (label, area, bbox), else the
/// largest relative difference allowed. scikit-image sums float moments over the object's
/// bounding box, floodseg derives them from exact integer sums (centroid and mean intensity are
/// one division from exact sums on both sides; the axis lengths go through a square root of a
/// difference).
fn tolerance(column: &str) -> f64 {
    match column {
        "label" | "area" | "bbox_min_row" | "bbox_min_col" | "bbox_max_row" | "bbox_max_col" => 0.0,
        "centroid_row" | "centroid_col" | "mean_intensity" => 1e-14,
        _ => 1e-12,
    }
}

/// Compare props with scikit-image's rows; returns the largest relative difference per column.
fn compare(case: &Case, sums: &[ObjectSums]) -> Vec<f64> {
    let columns: Vec<&str> = CSV_COLUMNS.split(',').collect();
    let got: Vec<Vec<f64>> = props(sums, case.scale)
        .iter()
        .map(|p| csv_row(p).split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(
        got.len(),
        case.want.len(),
        "{}: {} objects, scikit-image {}",
        case.name,
        got.len(),
        case.want.len()
    );
    let mut worst = vec![0.0f64; columns.len()];
    for (g, w) in got.iter().zip(&case.want) {
        for (j, c) in columns.iter().enumerate() {
            let mut diff = (g[j] - w[j]).abs();
            if *c == "orientation" {
                // an axis: +π/2 and -π/2 are one (an object with mixed moment 0: floodseg's
                // exact moments give exactly 0, scikit-image's float moments a residue of either
                // sign)
                diff = diff.min((diff - std::f64::consts::PI).abs());
            }
            let rel = diff / w[j].abs().max(1.0);
            worst[j] = worst[j].max(rel);
            assert!(
                rel <= tolerance(c),
                "{}: label {}: {c} = {:?}, scikit-image {:?} (relative {rel:e})",
                case.name,
                w[0],
                g[j],
                w[j]
            );
        }
    }
    worst
}

#[test]
fn props_equal_regionprops_table_on_16_bit_rgb_and_float_images() {
    for name in CASES {
        let case = load(name);
        let float_keys = case.scale == GrayScale::Float;
        let sums = measure_sums(
            case.dims,
            &case.labels,
            &case.keys,
            float_keys,
            case.n_objects,
        );
        // the stage's parallel schedule gives the same sums
        assert!(
            measure(
                case.dims,
                &case.labels,
                &case.keys,
                float_keys,
                case.n_objects
            ) == sums,
            "{name}: measure != measure_sums"
        );
        let worst = compare(&case, &sums);
        let worst: Vec<String> = worst.iter().map(|w| format!("{w:.1e}")).collect();
        eprintln!("{name}: largest relative differences {}", worst.join(" "));
    }
}

/// The fixtures hold what they promise: the corner-case objects and every input kind.
#[test]
fn measure_fixtures_cover_the_corner_cases() {
    for name in CASES {
        let case = load(name);
        let labels: Vec<f64> = case.want.iter().map(|r| r[0]).collect();
        assert!(!labels.contains(&11.0), "{name}: label 11 has no pixel");
        assert_eq!(labels.len(), 13, "{name}");
        let row = |l: f64| case.want.iter().find(|r| r[0] == l).unwrap();
        assert_eq!(row(8.0)[1], 1.0, "{name}: one pixel");
        assert_eq!(row(5.0)[8], row(5.0)[9], "{name}: the square's axes");
        let scale_ok = match name {
            "f32" => case.scale == GrayScale::Float,
            "u16" => matches!(case.scale, GrayScale::Int { scale: 1, .. }),
            _ => matches!(case.scale, GrayScale::Int { scale: 10_000, .. }),
        };
        assert!(scale_ok, "{name}: {:?}", case.scale);
    }
}

#[test]
fn props_of_gpu_sums_equal_regionprops_table() {
    let Some(ctx) = common::gpu() else { return };
    for name in CASES {
        let case = load(name);
        let float_keys = case.scale == GrayScale::Float;
        let got = floodseg::gpu::measure::run_measure_sums(
            ctx,
            case.dims,
            &case.labels,
            &case.keys,
            float_keys,
            case.n_objects,
        )
        .unwrap();
        let want = measure_sums(
            case.dims,
            &case.labels,
            &case.keys,
            float_keys,
            case.n_objects,
        );
        assert!(got == want, "{name}: GPU sums differ from the twin's");
        compare(&case, &got);
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// Random labels (0 and labels beyond `n` included) on images tall enough to be split into
    /// several bands.
    #[test]
    fn measure_bands_equal_measure_sums(
        w in 1usize..=300,
        h in 1usize..=3000,
        n in 0u32..=50,
        seed in any::<u64>(),
    ) {
        let mut rng = floodseg::synth::SplitMix64(seed);
        let labels: Vec<u32> = (0..w * h).map(|_| (rng.next() % (n as u64 + 3)) as u32).collect();
        let keys: Vec<u32> = (0..w * h).map(|_| (rng.next() % 65536) as u32).collect();
        let dims = Dims::new(w, h);
        prop_assert!(measure(dims, &labels, &keys, false, n) == measure_sums(dims, &labels, &keys, false, n));
    }
}
