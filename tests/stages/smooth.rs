//! Stage **smooth** (`--smooth N`) against SciPy: `correlate1d([1, 2, 1], mode='nearest')`
//! rounded half up, on the committed fixtures (`tests/fixtures/smooth/`). The GPU, the rounding
//! rule and the schedules: `tests/gpu/smooth.rs`.

use crate::common::{assert_same, fixture_input, parse_args, read_tiff_u32, repo};

use floodseg::cpu::Dims;
use floodseg::pipeline::{segment_cpu, Params};

/// The gray keys floodseg's threshold and smoothing read (u8/u16 samples; RGB `2125 R +
/// 7154 G + 721 B`).
fn gray_keys(img: &floodseg::image::RawImage) -> (Dims, Vec<u32>) {
    let (gp, samples, _) = floodseg::pipeline::gray_input(img).unwrap();
    let mut keys = vec![0u32; gp.dims.len()];
    floodseg::cpu::gray::gray(&gp, &samples, &mut keys);
    (gp.dims, keys)
}

/// `--smooth N` equals SciPy's `correlate1d(keys, [1, 2, 1], axis, mode='nearest')` rounded
/// half up (`(s + 2) >> 2`), rows then columns, N times: the CPU's fast schedule, the shader's
/// passes and the pipeline's `smoothed` stage, on u8, u16, RGB and RGBA keys and 1×1, 1×N,
/// N×1 and 5×61 images.
#[test]
fn smooth_matches_scipy_binomial() {
    use floodseg::cpu::smooth::{smooth, smooth_passes, SmoothParams};
    let dir = repo().join("tests/fixtures/smooth");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let (case, n) = stem.rsplit_once("_p").unwrap();
        let passes: u32 = n.parse().unwrap();
        let case_dir = repo().join("tests/fixtures").join(case);
        let img = floodseg::io::read_image(&fixture_input(&case_dir)).unwrap();
        let (dims, keys) = gray_keys(&img);
        let (w, h, want) = read_tiff_u32(&path);
        assert_eq!(
            (w, h),
            (dims.width as usize, dims.height as usize),
            "{stem}: size"
        );
        let sp = SmoothParams { dims, passes };
        assert_same(&stem, "smooth", w, &smooth(&sp, &keys), &want);
        assert_same(&stem, "smooth_passes", w, &smooth_passes(&sp, &keys), &want);
        let params = Params {
            smooth: passes,
            ..parse_args(&std::fs::read_to_string(case_dir.join("args.txt")).unwrap())
        };
        let s = segment_cpu(&img, &params).unwrap();
        assert_same(&stem, "smoothed", w, &s.smoothed, &want);
        checked += 1;
    }
    assert!(checked >= 24, "only {checked} smooth fixtures found");
}
