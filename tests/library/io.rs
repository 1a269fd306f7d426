//! Integration tests for `floodseg::io`: reading every supported PNG/TIFF flavour from the real
//! and generated files in `data/`, refusing what is unsupported or broken without panicking, and
//! atomic round trips through every writer.
//!
//! Expected values for the real files were computed independently with Python (tifffile 2026.3.3
//! with imagecodecs, Pillow), never with floodseg's reader: shape, dtype, a few pixels, and two
//! checksums over the row-major, channel-interleaved samples — `sum(v)` and
//! `sum((i + 1) * v)` (mod 2^64, i = flat index) — with f32 samples taken as their bit patterns.
//! The generated files in `data/generated/` hold closed-form patterns (see
//! `data/generated/make_generated.py`) that are recomputed here.

use std::fs;
use std::path::{Path, PathBuf};

use floodseg::image::{RawImage, Samples};
use floodseg::io::{
    read_image, write_labels_tiff, write_png_gray8, write_png_rgb8, write_tiff_u32, write_tiff_u8,
};
use floodseg::Error;

// ----------------------------------------------------------------------------- helpers

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

/// A fresh, empty scratch directory for one test, under `target/tmp/` (kept for a look).
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("io-tests")
        .join(format!("{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn read(rel: &str) -> RawImage {
    let path = data(rel);
    match read_image(&path) {
        Ok(img) => img,
        Err(e) => panic!("reading {}: {e}", path.display()),
    }
}

/// Samples widened to u64 (f32 as bit patterns), for checksums and pixel checks.
fn as_u64(s: &Samples) -> Vec<u64> {
    match s {
        Samples::U8(v) => v.iter().map(|&x| u64::from(x)).collect(),
        Samples::U16(v) => v.iter().map(|&x| u64::from(x)).collect(),
        Samples::F32(v) => v.iter().map(|&x| u64::from(x.to_bits())).collect(),
    }
}

/// (sum v, sum (i+1) v), both mod 2^64 — the same checksums as the Python side.
fn checksums(img: &RawImage) -> (u64, u64) {
    as_u64(&img.samples)
        .iter()
        .enumerate()
        .fold((0u64, 0u64), |(s, w), (i, &v)| {
            (
                s.wrapping_add(v),
                w.wrapping_add((i as u64 + 1).wrapping_mul(v)),
            )
        })
}

/// The samples of pixel (x, y).
fn px(img: &RawImage, x: usize, y: usize) -> Vec<u64> {
    let all = as_u64(&img.samples);
    let start = (y * img.width + x) * img.channels;
    all[start..start + img.channels].to_vec()
}

fn assert_shape(img: &RawImage, width: usize, height: usize, channels: usize, ty: &str) {
    assert_eq!(
        (img.width, img.height, img.channels, img.samples.type_name()),
        (width, height, channels, ty),
        "width, height, channels, sample type"
    );
    assert_eq!(img.samples.len(), width * height * channels);
}

// Closed-form patterns of data/generated/ (13 × 7 pixels), as in make_generated.py.
const GW: usize = 13;
const GH: usize = 7;

fn pattern<T>(channels: usize, f: impl Fn(usize, usize, usize) -> T) -> Vec<T> {
    let mut v = Vec::with_capacity(GW * GH * channels);
    for y in 0..GH {
        for x in 0..GW {
            for c in 0..channels {
                v.push(f(x, y, c));
            }
        }
    }
    v
}
fn f8(x: usize, y: usize, c: usize) -> u8 {
    ((37 * x + 11 * y + 85 * c + 3) % 256) as u8
}
fn f16(x: usize, y: usize, c: usize) -> u16 {
    ((5003 * x + 977 * y + 21011 * c + 11) % 65536) as u16
}
fn ff(x: usize, y: usize) -> f32 {
    (x as f32 - 2.0 * y as f32) * 0.25 + 0.125
}

fn expect_u8(img: &RawImage, channels: usize) {
    assert_shape(img, GW, GH, channels, "u8");
    assert_eq!(img.samples, Samples::U8(pattern(channels, f8)));
}
fn expect_u16(img: &RawImage, channels: usize) {
    assert_shape(img, GW, GH, channels, "u16");
    assert_eq!(img.samples, Samples::U16(pattern(channels, f16)));
}
fn expect_f32(img: &RawImage) {
    assert_shape(img, GW, GH, 1, "f32");
    // Exact: every value is a multiple of 1/8 and representable.
    assert_eq!(img.samples, Samples::F32(pattern(1, |x, y, _| ff(x, y))));
}

/// Assert `read_image` fails with `Unsupported` and the reason mentions `needle`.
fn expect_unsupported(rel: &str, needle: &str) {
    match read_image(&data(rel)) {
        Err(Error::Unsupported { path, reason }) => {
            assert_eq!(path, data(rel));
            assert!(
                reason.to_lowercase().contains(&needle.to_lowercase()),
                "{rel}: reason {reason:?} does not mention {needle:?}"
            );
        }
        other => panic!("{rel}: expected Unsupported({needle}), got {other:?}"),
    }
}

fn expect_decode_error(path: &Path) {
    match read_image(path) {
        Err(Error::Decode { path: p, reason }) => {
            assert_eq!(p, path);
            assert!(!reason.is_empty());
        }
        other => panic!("{}: expected Decode error, got {other:?}", path.display()),
    }
}

// ----------------------------------------------------------------------------- real files

#[test]
fn read_png_rgb8_lecture_ecoli() {
    let img = read("ecoli.png");
    assert_shape(&img, 101, 84, 3, "u8");
    assert_eq!(checksums(&img), (5_477_574, 69_644_152_165));
    assert_eq!(px(&img, 0, 0), [206, 208, 208]);
    assert_eq!(px(&img, 33, 42), [190, 192, 208]);
    assert_eq!(px(&img, 100, 83), [218, 220, 220]);
}

#[test]
fn read_png_rgba8_omnipose_sample() {
    let img = read("omnipose/Sample000033.png");
    assert_shape(&img, 377, 287, 4, "u8");
    assert_eq!(checksums(&img), (30_208_830, 6_538_105_778_550));
    assert_eq!(px(&img, 0, 0), [8, 8, 8, 255]);
    assert_eq!(px(&img, 125, 143), [7, 7, 7, 255]);
    assert_eq!(px(&img, 376, 286), [8, 8, 8, 255]);
}

#[test]
fn read_png_gray8_omnipose_crop() {
    let img = read("omnipose/Sample000252_crop.png");
    assert_shape(&img, 211, 157, 1, "u8");
    assert_eq!(checksums(&img), (4_812_852, 78_739_839_595));
    assert_eq!(px(&img, 0, 0), [145]);
    assert_eq!(px(&img, 70, 78), [185]);
    assert_eq!(px(&img, 210, 156), [93]);
}

#[test]
fn read_tiff_lzw_rgb8_lecture_frame() {
    // LZW with horizontal predictor, 4 rows per strip.
    let img = read("ecoli/img_0000.tif");
    assert_shape(&img, 640, 480, 3, "u8");
    assert_eq!(checksums(&img), (200_912_772, 92_691_807_782_338));
    assert_eq!(px(&img, 0, 0), [242, 240, 239]);
    assert_eq!(px(&img, 213, 240), [218, 221, 219]);
    assert_eq!(px(&img, 639, 479), [255, 255, 255]);
}

#[test]
fn read_tiff_deflate_u16_lecture_mask() {
    // Same values as the upstream uncompressed mask_0000.tif (checked with tifffile).
    let img = read("ecoli/mask_0000_deflate.tif");
    assert_shape(&img, 640, 480, 1, "u16");
    assert_eq!(checksums(&img), (13_224, 1_433_339_267));
    assert_eq!(px(&img, 532, 3), [14]); // first labelled pixel in raster order
    let Samples::U16(labels) = &img.samples else {
        unreachable!()
    };
    let mut counts = [0usize; 18];
    for &l in labels {
        counts[usize::from(l)] += 1; // panics (fails) if a label exceeds 17
    }
    assert_eq!(
        counts[1..],
        [80, 98, 87, 87, 64, 86, 121, 84, 76, 116, 129, 67, 97, 75, 61, 97, 67]
    );
}

#[test]
fn read_tiff_packbits_u8_omnipose_phase() {
    let img = read("omnipose/ecoli_phase.tif");
    assert_shape(&img, 65, 65, 1, "u8");
    assert_eq!(checksums(&img), (461_265, 989_218_571));
    assert_eq!(px(&img, 0, 0), [137]);
    assert_eq!(px(&img, 21, 32), [39]);
    assert_eq!(px(&img, 64, 64), [151]);
}

#[test]
fn read_tiff_packbits_u16_supersegger() {
    let img = read("supersegger/2014_05_30_controlagaint001xy1c1.tif");
    assert_shape(&img, 362, 331, 1, "u16");
    assert_eq!(checksums(&img), (1_904_852_086, 114_184_129_855_332));
    assert_eq!(px(&img, 0, 0), [15163]);
    assert_eq!(px(&img, 120, 165), [4166]);
    assert_eq!(px(&img, 361, 330), [15873]);
}

#[test]
fn read_tiff_float32_colicoords_brightfield() {
    let img = read("colicoords/brightfield.tif");
    assert_shape(&img, 61, 57, 1, "f32");
    assert_eq!(checksums(&img), (3_704_024_724_671, 6_441_277_892_664_564));
    assert_eq!(px(&img, 0, 0), [0x3f7f_7968]);
    assert_eq!(px(&img, 20, 28), [0x3f84_16a2]);
    assert_eq!(px(&img, 60, 56), [0x3f7f_94ac]);
}

#[test]
fn read_tiff_uncompressed_u16_colicoords_binary() {
    let img = read("colicoords/binary.tif");
    assert_shape(&img, 61, 57, 1, "u16");
    assert_eq!(checksums(&img), (765, 1_359_884));
    assert_eq!(px(&img, 0, 0), [0]);
    assert_eq!(px(&img, 20, 28), [1]);
}

// ----------------------------------------------------------------------------- generated files

#[test]
fn read_png_16bit_and_alpha_layouts() {
    expect_u16(&read("generated/gray16.png"), 1);
    expect_u16(&read("generated/graya16.png"), 2);
    expect_u16(&read("generated/rgb16.png"), 3);
    expect_u16(&read("generated/rgba16.png"), 4);
    expect_u8(&read("generated/graya8.png"), 2);
}

#[test]
fn read_png_palette_is_expanded_to_rgb() {
    const PALETTE: [[u8; 3]; 4] = [[0, 0, 0], [255, 0, 0], [0, 128, 255], [250, 251, 252]];
    let img = read("generated/palette8.png");
    assert_shape(&img, GW, GH, 3, "u8");
    assert_eq!(
        img.samples,
        Samples::U8(pattern(3, |x, y, c| PALETTE[(x + y) % 4][c]))
    );
}

#[test]
fn read_png_1bit_gray_is_expanded_to_u8() {
    let img = read("generated/gray1.png");
    assert_shape(&img, GW, GH, 1, "u8");
    assert_eq!(
        img.samples,
        Samples::U8(pattern(1, |x, y, _| ((x + y) % 2 * 255) as u8))
    );
}

#[test]
fn read_tiff_generated_compressions_and_layouts() {
    expect_u16(&read("generated/gray16_deflate.tif"), 1); // Deflate + horizontal predictor
    expect_u8(&read("generated/gray8_lzw.tif"), 1);
    expect_u16(&read("generated/rgb16.tif"), 3);
    expect_u8(&read("generated/rgba8_packbits.tif"), 4);
    expect_u8(&read("generated/graya8.tif"), 2); // gray + ExtraSamples alpha
    expect_u16(&read("generated/gray16_bigendian.tif"), 1); // "MM"
    expect_f32(&read("generated/gray32f_bigtiff.tif"));
    expect_f32(&read("generated/gray32f_deflate_fppredictor.tif")); // predictor 3
}

#[test]
fn read_tiff_tiled_with_partial_tiles() {
    // 39 × 21 pixels in 16 × 16 tiles: the pattern repeated 3 × 3.
    let img = read("generated/gray16_tiled.tif");
    assert_shape(&img, 3 * GW, 3 * GH, 1, "u16");
    let mut expected = Vec::new();
    for y in 0..3 * GH {
        for x in 0..3 * GW {
            expected.push(f16(x % GW, y % GH, 0));
        }
    }
    assert_eq!(img.samples, Samples::U16(expected));
}

#[test]
fn read_tiff_multipage_reads_first_page() {
    expect_u8(&read("generated/gray8_3pages.tif"), 1);
}

#[test]
fn read_tiff_unsupported_sample_types_and_layouts() {
    expect_unsupported("generated/bilevel.tif", "1-bit");
    expect_unsupported("generated/int16.tif", "signed");
    expect_unsupported("generated/uint32.tif", "32-bit unsigned");
    expect_unsupported("generated/float64.tif", "64-bit floating");
    expect_unsupported("generated/complex64.tif", "complex");
    expect_unsupported("generated/rgb8_planar.tif", "planar");
    expect_unsupported("generated/cmyk8.tif", "CMYK");
    expect_unsupported("generated/gray8_5samples.tif", "5 samples");
    expect_unsupported("generated/rgb8_2extra.tif", "5 samples");
}

#[test]
fn read_zero_sized_images_are_unsupported() {
    expect_unsupported("generated/zero_width.tif", "zero-sized");
    expect_unsupported("generated/zero_height.png", "zero-sized");
}

#[test]
fn read_float_nan_and_inf_are_bad_data() {
    for (rel, at) in [
        ("generated/gray32f_nan.tif", "x=5, y=3"),
        ("generated/gray32f_inf.tif", "x=12, y=6"),
    ] {
        match read_image(&data(rel)) {
            Err(Error::BadData(msg)) => {
                assert!(msg.contains(rel.rsplit('/').next().unwrap()), "{msg}");
                assert!(msg.contains(at), "{msg}");
            }
            other => panic!("{rel}: expected BadData, got {other:?}"),
        }
    }
}

// ----------------------------------------------------------------------------- broken input

#[test]
fn read_missing_file_is_read_error() {
    let path = data("does-not-exist.png");
    match read_image(&path) {
        Err(Error::Read { path: p, source }) => {
            assert_eq!(p, path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Read, got {other:?}"),
    }
}

#[test]
fn read_directory_is_read_error() {
    assert!(matches!(
        read_image(&data("generated")),
        Err(Error::Read { .. })
    ));
}

#[test]
fn read_empty_and_text_files_are_decode_errors() {
    let dir = scratch("read_empty_and_text");
    let empty = dir.join("empty.tif");
    fs::write(&empty, b"").unwrap();
    expect_decode_error(&empty);
    let text = dir.join("notes.png");
    fs::write(&text, "this is not an image\n").unwrap();
    expect_decode_error(&text);
    let short = dir.join("short.png");
    fs::write(&short, b"\x89PN").unwrap();
    expect_decode_error(&short);
}

#[test]
fn read_other_image_formats_are_unsupported() {
    let dir = scratch("read_other_formats");
    let jpeg = dir.join("photo.png"); // extension lies; content decides
    fs::write(&jpeg, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00").unwrap();
    assert!(matches!(read_image(&jpeg), Err(Error::Unsupported { .. })));
}

#[test]
fn read_truncated_files_are_decode_errors() {
    let dir = scratch("read_truncated");
    for rel in [
        "ecoli.png",
        "ecoli/img_0000.tif",
        "supersegger/2014_05_30_controlagaint001xy1c1.tif",
        "colicoords/brightfield.tif",
        "ecoli/mask_0000_deflate.tif",
        "generated/gray16.png",
    ] {
        let bytes = fs::read(data(rel)).unwrap();
        for keep in [4, 8, 16, 100, bytes.len() / 2, bytes.len() - 1] {
            let path = dir.join(format!("cut{keep}-{}", rel.replace('/', "_")));
            fs::write(&path, &bytes[..keep]).unwrap();
            match read_image(&path) {
                Err(Error::Decode { .. }) => {}
                // Cutting only the last byte may drop just the PNG's IEND checksum or padding
                // after a TIFF's data: that may decode, but then to the complete image.
                Ok(img) if keep == bytes.len() - 1 => assert!(img == read(rel), "{rel}"),
                Ok(img) => panic!(
                    "{rel} cut to {keep} bytes: expected Decode, got a {}×{} image",
                    img.width, img.height
                ),
                Err(e) => panic!("{rel} cut to {keep} bytes: expected Decode, got {e:?}"),
            }
        }
    }
}

#[test]
fn read_extension_does_not_matter() {
    let dir = scratch("read_extension");
    let disguised = dir.join("really_a_tiff.png");
    fs::copy(data("omnipose/ecoli_phase.tif"), &disguised).unwrap();
    assert_eq!(
        read_image(&disguised).unwrap(),
        read("omnipose/ecoli_phase.tif")
    );
}

/// Tiny deterministic generator (SplitMix64), so corruptions are reproducible.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn read_corrupted_files_never_panic() {
    let dir = scratch("read_corrupted");
    let mut rng = SplitMix(0x5eed);
    for rel in [
        "ecoli.png",
        "omnipose/ecoli_phase.tif",
        "colicoords/binary.tif",
        "colicoords/brightfield.tif",
        "ecoli/mask_0000_deflate.tif",
        "generated/gray16_deflate.tif",
        "generated/gray8_lzw.tif",
        "generated/gray16_tiled.tif",
        "generated/gray32f_bigtiff.tif",
        "generated/palette8.png",
    ] {
        let original = fs::read(data(rel)).unwrap();
        for round in 0..60 {
            let mut bytes = original.clone();
            // Keep the signature so the decoders, not the sniffer, see the damage.
            let flips = 1 + rng.below(8);
            for _ in 0..flips {
                let at = 4 + rng.below(bytes.len() - 4);
                bytes[at] = match rng.below(4) {
                    0 => 0,
                    1 => 0xff,
                    _ => rng.next() as u8,
                };
            }
            let path = dir.join(format!("{round}-{}", rel.replace('/', "_")));
            fs::write(&path, &bytes).unwrap();
            // Any Ok must still satisfy the RawImage invariant.
            if let Ok(img) = read_image(&path) {
                assert!((1..=4).contains(&img.channels));
                assert_eq!(img.samples.len(), img.width * img.height * img.channels);
            }
        }
    }
}

// ----------------------------------------------------------------------------- writers

/// Labels with a given maximum, on a w × h grid with some structure.
fn labels(w: usize, h: usize, max: u32) -> Vec<u32> {
    let modulus = u64::from(max) + 1;
    let mut v: Vec<u32> = (0..w * h)
        .map(|i| (((i * 7919) % (w * h)) as u64 * 65_599 % modulus) as u32)
        .collect();
    if let Some(last) = v.last_mut() {
        *last = max;
    }
    v
}

/// Read a TIFF with the `tiff` crate directly (for u32 pages, which read_image refuses).
fn read_tiff_raw(path: &Path) -> (tiff::ColorType, (u32, u32), tiff::decoder::DecodingResult) {
    let file = fs::File::open(path).unwrap();
    let mut dec = tiff::decoder::Decoder::new(std::io::BufReader::new(file)).unwrap();
    let ct = dec.colortype().unwrap();
    let dims = dec.dimensions().unwrap();
    assert!(!dec.more_images(), "writers produce a single page");
    (ct, dims, dec.read_image().unwrap())
}

fn no_temp_files_left(dir: &Path) {
    let leftovers: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
}

const SIZES: [(usize, usize); 5] = [(1, 1), (1, 17), (17, 1), (13, 7), (257, 131)];

#[test]
fn write_labels_tiff_u16_when_labels_fit() {
    let dir = scratch("write_labels_u16");
    for (w, h) in SIZES {
        for max in [0, 1, 255, 65_535] {
            let l = labels(w, h, max);
            let path = dir.join(format!("labels_{w}x{h}_{max}.tif"));
            write_labels_tiff(&path, w, h, &l).unwrap();
            let img = read_image(&path).unwrap();
            assert_shape(&img, w, h, 1, "u16");
            let back: Vec<u32> = match &img.samples {
                Samples::U16(v) => v.iter().map(|&x| u32::from(x)).collect(),
                other => panic!("expected u16, got {}", other.type_name()),
            };
            assert_eq!(back, l);
            assert_eq!(read_tiff_raw(&path).0, tiff::ColorType::Gray(16));
        }
    }
    no_temp_files_left(&dir);
}

#[test]
fn write_labels_tiff_u32_when_a_label_exceeds_u16() {
    let dir = scratch("write_labels_u32");
    for (w, h) in SIZES {
        for max in [65_536, 1 << 20, u32::MAX] {
            let l = labels(w, h, max);
            let path = dir.join(format!("labels_{w}x{h}_{max}.tif"));
            write_labels_tiff(&path, w, h, &l).unwrap();
            let (ct, dims, data) = read_tiff_raw(&path);
            assert_eq!(ct, tiff::ColorType::Gray(32));
            assert_eq!(dims, (w as u32, h as u32));
            match data {
                tiff::decoder::DecodingResult::U32(v) => assert_eq!(v, l),
                other => panic!("expected u32 samples, got {other:?}"),
            }
            // floodseg's reader does not take 32-bit integer input, and says so.
            match read_image(&path) {
                Err(Error::Unsupported { reason, .. }) => assert!(reason.contains("32-bit")),
                other => panic!("expected Unsupported, got {other:?}"),
            }
        }
    }
    no_temp_files_left(&dir);
}

#[test]
fn write_tiff_u8_round_trip() {
    let dir = scratch("write_tiff_u8");
    for (w, h) in SIZES {
        let d: Vec<u8> = (0..w * h).map(|i| (i * 31 % 256) as u8).collect();
        let path = dir.join(format!("mask_{w}x{h}.tif"));
        write_tiff_u8(&path, w, h, &d).unwrap();
        let img = read_image(&path).unwrap();
        assert_shape(&img, w, h, 1, "u8");
        assert_eq!(img.samples, Samples::U8(d));
    }
    no_temp_files_left(&dir);
}

#[test]
fn write_tiff_u32_round_trip() {
    let dir = scratch("write_tiff_u32");
    for (w, h) in SIZES {
        // Even all-small values stay u32 here (unlike label TIFFs).
        for scale in [1u32, 65_537] {
            let d: Vec<u32> = (0..w * h)
                .map(|i| (i as u32 % 1000).wrapping_mul(scale))
                .collect();
            let path = dir.join(format!("dist_{w}x{h}_{scale}.tif"));
            write_tiff_u32(&path, w, h, &d).unwrap();
            let (ct, dims, data) = read_tiff_raw(&path);
            assert_eq!(
                (ct, dims),
                (tiff::ColorType::Gray(32), (w as u32, h as u32))
            );
            match data {
                tiff::decoder::DecodingResult::U32(v) => assert_eq!(v, d),
                other => panic!("expected u32 samples, got {other:?}"),
            }
        }
    }
    no_temp_files_left(&dir);
}

#[test]
fn write_png_gray8_round_trip() {
    let dir = scratch("write_png_gray8");
    for (w, h) in SIZES {
        let d: Vec<u8> = (0..w * h).map(|i| (i * 13 % 256) as u8).collect();
        let path = dir.join(format!("gray_{w}x{h}.png"));
        write_png_gray8(&path, w, h, &d).unwrap();
        let img = read_image(&path).unwrap();
        assert_shape(&img, w, h, 1, "u8");
        assert_eq!(img.samples, Samples::U8(d));
    }
    no_temp_files_left(&dir);
}

#[test]
fn write_png_rgb8_round_trip() {
    let dir = scratch("write_png_rgb8");
    for (w, h) in SIZES {
        let d: Vec<u8> = (0..w * h * 3).map(|i| (i * 29 % 256) as u8).collect();
        let path = dir.join(format!("rgb_{w}x{h}.png"));
        write_png_rgb8(&path, w, h, &d).unwrap();
        let img = read_image(&path).unwrap();
        assert_shape(&img, w, h, 3, "u8");
        assert_eq!(img.samples, Samples::U8(d));
    }
    no_temp_files_left(&dir);
}

#[test]
fn writers_reject_wrong_lengths_and_zero_sizes() {
    let dir = scratch("write_bad_lengths");
    let p = |n: &str| dir.join(n);
    let is_encode = |r: floodseg::Result<()>| matches!(r, Err(Error::Encode { .. }));
    assert!(is_encode(write_labels_tiff(&p("a.tif"), 3, 2, &[0; 5])));
    assert!(is_encode(write_labels_tiff(&p("b.tif"), 0, 2, &[])));
    assert!(is_encode(write_tiff_u8(&p("c.tif"), 3, 2, &[0; 7])));
    assert!(is_encode(write_tiff_u32(&p("d.tif"), 2, 2, &[0; 3])));
    assert!(is_encode(write_png_gray8(&p("e.png"), 4, 4, &[0; 15])));
    assert!(is_encode(write_png_rgb8(&p("f.png"), 2, 2, &[0; 4]))); // needs 12
    assert!(is_encode(write_png_rgb8(&p("g.png"), 2, 0, &[])));
    assert!(is_encode(write_tiff_u8(
        &p("h.tif"),
        usize::MAX,
        2,
        &[0; 2]
    ))); // overflow
    let names: Vec<_> = fs::read_dir(&dir).unwrap().collect();
    assert!(
        names.is_empty(),
        "failed writes must leave nothing behind: {names:?}"
    );
}

#[test]
fn writers_replace_existing_files_atomically() {
    let dir = scratch("write_replace");
    let path = dir.join("out.png");
    fs::write(&path, b"old contents").unwrap();
    write_png_gray8(&path, 2, 1, &[7, 9]).unwrap();
    assert_eq!(
        read_image(&path).unwrap(),
        RawImage::gray_u8(2, 1, vec![7, 9])
    );
    write_png_gray8(&path, 1, 1, &[42]).unwrap();
    assert_eq!(
        read_image(&path).unwrap(),
        RawImage::gray_u8(1, 1, vec![42])
    );
    let entries: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(entries, vec![std::ffi::OsString::from("out.png")]);
}

#[test]
fn writers_report_io_errors_and_clean_up() {
    let dir = scratch("write_io_errors");
    // Missing parent directory: nothing can be created.
    let missing = dir.join("no-such-dir").join("labels.tif");
    assert!(matches!(
        write_labels_tiff(&missing, 1, 1, &[1]),
        Err(Error::Io { .. })
    ));
    // Target is an existing directory: the rename fails and the temp file is removed.
    let target = dir.join("occupied");
    fs::create_dir(&target).unwrap();
    assert!(write_tiff_u8(&target, 1, 1, &[1]).is_err());
    assert!(target.is_dir());
    no_temp_files_left(&dir);
}
