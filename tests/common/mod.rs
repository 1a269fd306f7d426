//! Helpers shared by the integration tests: reading stage TIFFs, exact image comparison with a
//! useful failure message, and parsing a fixture's `args.txt`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use floodseg::cpu::distance::{DistanceMode, JfaVariant};
use floodseg::cpu::opening::Structure;
use floodseg::cpu::threshold::parse_level;
use floodseg::pipeline::{Params, Stages};

/// Root of the repository.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Read a single-page gray TIFF of u8/u16/u32 samples into `u32`s (stage files).
pub fn read_tiff_u32(path: &Path) -> (usize, usize, Vec<u32>) {
    use tiff::decoder::{Decoder, DecodingResult};
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut d = Decoder::new(std::io::BufReader::new(f))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (w, h) = d.dimensions().unwrap();
    let v: Vec<u32> = match d
        .read_image()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    {
        DecodingResult::U8(v) => v.into_iter().map(u32::from).collect(),
        DecodingResult::U16(v) => v.into_iter().map(u32::from).collect(),
        DecodingResult::U32(v) => v,
        DecodingResult::I32(v) => v.into_iter().map(|x| x as u32).collect(),
        other => panic!(
            "{}: unexpected sample type {:?}",
            path.display(),
            std::mem::discriminant(&other)
        ),
    };
    (w as usize, h as usize, v)
}

/// Assert two images are identical. On failure, name the stage and case, print the first
/// differing pixel with a 7×7 window of both images, and write both to `target/mismatch/`.
pub fn assert_same(case: &str, stage: &str, width: usize, got: &[u32], want: &[u32]) {
    assert_eq!(got.len(), want.len(), "{case}: stage {stage}: sizes differ");
    let Some(i) = got.iter().zip(want).position(|(a, b)| a != b) else {
        return;
    };
    let (y, x) = (i / width.max(1), i % width.max(1));
    let height = got.len() / width.max(1);
    let window = |v: &[u32]| {
        let mut s = String::new();
        for yy in y.saturating_sub(3)..(y + 4).min(height) {
            for xx in x.saturating_sub(3)..(x + 4).min(width) {
                s.push_str(&format!("{:>7}", v[yy * width + xx]));
            }
            s.push('\n');
        }
        s
    };
    let n_diff = got.iter().zip(want).filter(|(a, b)| a != b).count();
    let dir = repo().join("target").join("mismatch").join(case);
    let _ = std::fs::create_dir_all(&dir);
    let _ = floodseg::io::write_tiff_u32(&dir.join(format!("{stage}.got.tif")), width, height, got);
    let _ =
        floodseg::io::write_tiff_u32(&dir.join(format!("{stage}.want.tif")), width, height, want);
    panic!(
        "{case}: stage {stage} differs at {n_diff} pixel(s); first at row {y}, col {x}: got {}, want {}\n\
         got (rows {}.., cols {}..):\n{}want:\n{}(both written to {})",
        got[i],
        want[i],
        y.saturating_sub(3),
        x.saturating_sub(3),
        window(got),
        window(want),
        dir.display()
    );
}

/// Two backends' stages of one frame are identical, stage by stage (timings aside); a failure
/// names the case, the stage and the first differing pixel.
pub fn assert_stages_equal(case: &str, gpu: &Stages, cpu: &Stages) {
    let w = cpu.dims.width as usize;
    for (stage, g, c) in [
        ("gray", &gpu.gray, &cpu.gray),
        ("smoothed", &gpu.smoothed, &cpu.smoothed),
        ("flattened", &gpu.flattened, &cpu.flattened),
        ("mask", &gpu.mask, &cpu.mask),
        ("opened", &gpu.opened, &cpu.opened),
        ("distance2", &gpu.distance2, &cpu.distance2),
        ("core", &gpu.core_opened, &cpu.core_opened),
        ("core_distance2", &gpu.core_distance2, &cpu.core_distance2),
        ("peaks", &gpu.peaks, &cpu.peaks),
        ("markers", &gpu.markers, &cpu.markers),
        ("labels", &gpu.labels, &cpu.labels),
    ] {
        assert_eq!(g.len(), c.len(), "{case}: {stage}: lengths");
        assert_same(case, stage, w, g, c);
    }
    assert_eq!(gpu.n_markers, cpu.n_markers, "{case}: marker count");
    assert_eq!(gpu.count(), cpu.count(), "{case}: object count");
    assert_eq!(gpu.sums, cpu.sums, "{case}: measure sums");
    // the level and the mask size the run reports (the GPU counts the mask on the device)
    assert_eq!(gpu.threshold, cpu.threshold, "{case}: threshold report");
    if let (Some(t), false) = (cpu.threshold, cpu.mask.is_empty()) {
        let set = cpu.mask.iter().filter(|&&m| m != 0).count() as u64;
        assert_eq!(t.mask_pixels, set, "{case}: mask size");
    }
}

/// Parse a fixture's flags (`--threshold 180 --dark --open 1 --min-distance 10 --footprint 10`).
pub fn parse_args(text: &str) -> Params {
    let mut p = Params::default();
    let mut it = text.split_whitespace();
    while let Some(flag) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag {
            "--threshold" => p.level = parse_level(val()).unwrap(),
            "--dark" => p.dark = true,
            "--open" => p.open = val().parse().unwrap(),
            "--min-distance" => p.min_distance = val().parse().unwrap(),
            "--footprint" => p.footprint = Some(val().parse().unwrap()),
            "--structure" => {
                p.structure = match val() {
                    "square" => Structure::Square,
                    _ => Structure::Cross,
                }
            }
            "--distance" => {
                p.distance = match val() {
                    "jfa" => DistanceMode::Jfa(JfaVariant::Plain),
                    "jfa+2" => DistanceMode::Jfa(JfaVariant::Plus2),
                    "jfa2" => DistanceMode::Jfa(JfaVariant::Squared),
                    _ => DistanceMode::Exact,
                }
            }
            other => panic!("unknown flag {other} in args.txt"),
        }
    }
    p
}

/// Every fixture case folder under `tests/fixtures/`, sorted.
pub fn fixture_cases() -> Vec<PathBuf> {
    let root = repo().join("tests").join("fixtures");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("args.txt").exists())
        .collect();
    v.sort();
    v
}

/// The input image of a fixture case.
pub fn fixture_input(case: &Path) -> PathBuf {
    std::fs::read_dir(case)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_stem().is_some_and(|s| s == "input"))
        .unwrap_or_else(|| panic!("{}: no input.*", case.display()))
}

/// The GPU context shared by a test binary. If none can be created and
/// `FLOODSEG_REQUIRE_GPU=1` (set by `scripts/test.sh`), this panics with the error (which lists
/// the adapters seen); otherwise it prints `skipped: no GPU adapter: …` and returns `None`.
pub fn gpu() -> Option<&'static floodseg::gpu::GpuContext> {
    static CTX: OnceLock<Result<floodseg::gpu::GpuContext, String>> = OnceLock::new();
    match CTX.get_or_init(|| floodseg::gpu::GpuContext::new().map_err(|e| e.to_string())) {
        Ok(c) => Some(c),
        Err(e) => {
            if std::env::var("FLOODSEG_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("FLOODSEG_REQUIRE_GPU=1 but no GPU context: {e}");
            }
            // Written past libtest's capture so the skip shows in the summary.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "skipped: no GPU adapter: {e}");
            None
        }
    }
}

/// A small seeded generator (xorshift64*), so GPU test cases are reproducible without extra
/// crates.
pub struct Rng(pub u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }
}

/// Sizes that break index arithmetic (not multiples of the workgroup, single rows/columns).
pub const SIZES: &[(usize, usize)] = &[(1, 1), (1, 29), (29, 1), (17, 23), (64, 64), (257, 131)];

/// Kinds of random 0/1 masks.
#[derive(Clone, Copy, Debug)]
pub enum MaskKind {
    Empty,
    Full,
    /// Independent pixels, foreground with probability p/100.
    Noise(u64),
    /// Random disks and rectangles on background (bacteria-like blobs).
    Blobs,
}

pub fn random_mask(kind: MaskKind, w: usize, h: usize, rng: &mut Rng) -> Vec<u32> {
    match kind {
        MaskKind::Empty => vec![0; w * h],
        MaskKind::Full => vec![1; w * h],
        MaskKind::Noise(p) => (0..w * h).map(|_| (rng.below(100) < p) as u32).collect(),
        MaskKind::Blobs => {
            let mut m = vec![0u32; w * h];
            let n = 1 + (w * h / 300) as u64;
            for _ in 0..n {
                let cy = rng.below(h as u64) as i64;
                let cx = rng.below(w as u64) as i64;
                let r = 1 + rng.below(12) as i64;
                let rect = rng.below(3) == 0;
                for y in 0..h as i64 {
                    for x in 0..w as i64 {
                        let (dy, dx) = (y - cy, x - cx);
                        let inside = if rect {
                            dy.abs() <= r && dx.abs() <= r / 2
                        } else {
                            dy * dy + dx * dx <= r * r
                        };
                        if inside {
                            m[y as usize * w + x as usize] = 1;
                        }
                    }
                }
            }
            m
        }
    }
}

/// The seed the property tests run with unless `FLOODSEG_PROPTEST_SEED` says otherwise.
pub const PROPTEST_SEED: u64 = 0xF100_D5E6;

/// The configuration of every property test (the `proptest!` blocks of `tests/stages/`: the
/// twin-vs-naive and schedule properties of each stage's module, through `inputs::config`, and
/// `maxima.rs`).
///
/// - **Cases:** `cases` × `FLOODSEG_PROPTEST_SCALE` (a positive integer, default 1), so a
///   nightly run can multiply every property's count at once. proptest's own `PROPTEST_CASES`
///   is not used: each property has an explicit count sized to its cost.
/// - **Seed:** fixed ([`PROPTEST_SEED`]), so a run is reproducible and a failure found in CI
///   fails again locally. `FLOODSEG_PROPTEST_SEED=<u64>` picks another seed, and
///   `FLOODSEG_PROPTEST_SEED=random` draws a fresh one. The seed is printed for every property
///   (libtest shows it with a failure), with the command line that reruns it.
/// - **Persistence:** none. The tests must not write next to the sources; the printed seed and
///   the minimal input that proptest prints are what reproduce a failure.
///
/// A bad value of either variable panics, so a typo cannot silently run the defaults.
pub fn proptest_config(cases: u32) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, RngSeed};
    let scale = match std::env::var("FLOODSEG_PROPTEST_SCALE") {
        Ok(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|&s| s > 0)
            .unwrap_or_else(|| panic!("FLOODSEG_PROPTEST_SCALE={v:?}: want a positive integer")),
        Err(_) => 1,
    };
    let seed = match std::env::var("FLOODSEG_PROPTEST_SEED") {
        Ok(v) if v.trim() == "random" => {
            use std::hash::{BuildHasher, Hasher};
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        }
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .unwrap_or_else(|_| panic!("FLOODSEG_PROPTEST_SEED={v:?}: want a u64 or `random`")),
        Err(_) => PROPTEST_SEED,
    };
    let cases = cases.saturating_mul(scale);
    // Captured by libtest: shown only when the property fails.
    println!(
        "proptest: {cases} cases, seed {seed}; rerun with FLOODSEG_PROPTEST_SEED={seed} \
         FLOODSEG_PROPTEST_SCALE={scale}"
    );
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_global_rejects: 1 << 20,
        max_shrink_iters: 8192,
        ..Config::default()
    }
}
