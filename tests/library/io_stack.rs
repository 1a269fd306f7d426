//! Integration tests for time-lapse stack I/O: `floodseg::io::FrameSource` (multi-page TIFF,
//! ImageJ hyperstack, folder, glob, single file) and `floodseg::io::StackWriter` (multi-page
//! label TIFF with ImageJ metadata). Fixtures are built here with the `tiff` encoder, or are the
//! committed `data/generated/gray8_3pages.tif` (made by tifffile).

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use floodseg::image::{RawImage, Samples};
use floodseg::io::{
    read_image, write_labels_tiff, FrameSource, LabelType, StackFormat, StackWriter,
};
use floodseg::Error;
use tiff::decoder::{Decoder, DecodingResult};
use tiff::encoder::colortype::Gray8;
use tiff::encoder::{Compression, DeflateLevel, TiffEncoder};
use tiff::tags::Tag;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data").join(rel)
}

/// A fresh, empty scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("io-stack-tests")
        .join(format!("{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Label frame `t` of a `w × h` test stack: distinct per pixel and per frame.
fn labels(t: usize, w: usize, h: usize, scale: u32) -> Vec<u32> {
    (0..w * h)
        .map(|i| (i as u32 * 7 + t as u32 * 1000) % 65000 * scale)
        .collect()
}

fn u8_page(t: usize, c: usize, w: usize, h: usize) -> Vec<u8> {
    (0..w * h)
        .map(|i| ((i * 3 + t * 50 + c * 100) % 256) as u8)
        .collect()
}

/// Write u8 pages (given as (width, height, data)); the first page gets `description`.
/// Deflate-compressed: an uncompressed ImageJ file whose pages are not contiguous (directories
/// between them, as the `tiff` encoder writes) misleads tifffile, which then reads the whole
/// series as one block; compressed pages it reads page by page.
fn write_u8_pages(path: &Path, pages: &[(u32, u32, Vec<u8>)], description: Option<&str>) {
    let mut enc = TiffEncoder::new(BufWriter::new(File::create(path).unwrap()))
        .unwrap()
        .with_compression(Compression::Deflate(DeflateLevel::Fast));
    for (i, (w, h, d)) in pages.iter().enumerate() {
        let mut image = enc.new_image::<Gray8>(*w, *h).unwrap();
        if let (0, Some(desc)) = (i, description) {
            image
                .encoder()
                .write_tag(Tag::ImageDescription, desc)
                .unwrap();
        }
        image.write_data(d).unwrap();
    }
}

fn collect(src: FrameSource) -> Vec<RawImage> {
    src.map(|f| f.expect("frame")).collect()
}

fn u16_of(img: &RawImage) -> &[u16] {
    match &img.samples {
        Samples::U16(v) => v,
        other => panic!("expected u16, got {}", other.type_name()),
    }
}

fn u8_of(img: &RawImage) -> &[u8] {
    match &img.samples {
        Samples::U8(v) => v,
        other => panic!("expected u8, got {}", other.type_name()),
    }
}

#[test]
fn writer_u16_round_trip_through_frame_source() {
    let dir = scratch("u16");
    let path = dir.join("labels.tif");
    let (w, h, n) = (13, 7, 5);
    let mut writer = StackWriter::create(&path, LabelType::U16).unwrap();
    for t in 0..n {
        writer.write_frame(w, h, &labels(t, w, h, 1)).unwrap();
    }
    assert_eq!(writer.frames(), n);
    assert!(!path.exists(), "nothing at the target before finish");
    writer.finish().unwrap();
    // Only the stack is left: the temporary file was renamed.
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);

    let src = FrameSource::open(&path, None).unwrap();
    assert_eq!(src.len(), Some(n));
    let frames = collect(src);
    assert_eq!(frames.len(), n);
    for (t, f) in frames.iter().enumerate() {
        assert_eq!((f.width, f.height, f.channels), (w, h, 1));
        let want: Vec<u16> = labels(t, w, h, 1).iter().map(|&l| l as u16).collect();
        assert_eq!(u16_of(f), &want[..], "frame {t}");
    }
}

/// BigTIFF stacks (chosen for stacks that could pass 4 GiB): the same pages and the same
/// patched ImageJ description, read back by the decoder and by FrameSource.
#[test]
fn writer_bigtiff_round_trip() {
    let path = scratch("big").join("labels.tif");
    let (w, h, n) = (11, 5, 4);
    let mut writer = StackWriter::create_with(&path, LabelType::U16, StackFormat::BigTiff).unwrap();
    for t in 0..n {
        writer.write_frame(w, h, &labels(t, w, h, 1)).unwrap();
    }
    writer.finish().unwrap();
    let bytes = fs::read(&path).unwrap();
    assert_eq!(&bytes[..4], b"II+\0", "a BigTIFF header");
    let mut dec = Decoder::new(File::open(&path).unwrap()).unwrap();
    let desc = dec.get_tag_ascii_string(Tag::ImageDescription).unwrap();
    assert!(desc.contains("images=4\nframes=4\n"), "{desc}");
    let frames = collect(FrameSource::open(&path, None).unwrap());
    assert_eq!(frames.len(), n);
    for (t, f) in frames.iter().enumerate() {
        let want: Vec<u16> = labels(t, w, h, 1).iter().map(|&l| l as u16).collect();
        assert_eq!(u16_of(f), &want[..], "frame {t}");
    }
}

#[test]
fn writer_imagej_description_and_u32_pages() {
    let path = scratch("u32").join("labels.tif");
    let (w, h, n) = (9, 4, 3);
    let mut writer = StackWriter::create(&path, LabelType::U32).unwrap();
    for t in 0..n {
        writer.write_frame(w, h, &labels(t, w, h, 70_000)).unwrap();
    }
    writer.finish().unwrap();

    let mut dec = Decoder::new(File::open(&path).unwrap()).unwrap();
    let desc = dec.get_tag_ascii_string(Tag::ImageDescription).unwrap();
    let lines: Vec<&str> = desc.trim_end().lines().collect();
    assert_eq!(
        lines,
        ["ImageJ=1.11a", "images=3", "frames=3", "hyperstack=true"]
    );
    for t in 0..n {
        if t > 0 {
            assert!(dec.more_images());
            dec.next_image().unwrap();
        }
        assert_eq!(dec.dimensions().unwrap(), (w as u32, h as u32));
        match dec.read_image().unwrap() {
            DecodingResult::U32(v) => assert_eq!(v, labels(t, w, h, 70_000), "page {t}"),
            _ => panic!("expected u32 page"),
        }
    }
    assert!(!dec.more_images());
}

#[test]
fn writer_refuses_bad_frames_and_cleans_up() {
    let dir = scratch("writer-errors");
    let path = dir.join("labels.tif");
    let mut writer = StackWriter::create(&path, LabelType::U16).unwrap();
    writer.write_frame(4, 4, &[1; 16]).unwrap();
    // A different size, a wrong length, a label too large for u16.
    let e = writer.write_frame(5, 4, &[1; 20]).unwrap_err();
    assert!(e.to_string().contains("frame 1"), "{e}");
    assert!(writer.write_frame(4, 4, &[1; 15]).is_err());
    let e = writer.write_frame(4, 4, &[70_000; 16]).unwrap_err();
    assert!(matches!(e, Error::Limit(_)), "{e:?}");
    assert_eq!(writer.frames(), 1);
    // Dropped without finish: no target, no temporary file.
    drop(writer);
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);

    // Finishing an empty stack is an error and leaves nothing.
    let writer = StackWriter::create(&path, LabelType::U32).unwrap();
    assert!(writer.finish().is_err());
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn multipage_tiff_from_tifffile() {
    let path = data("generated/gray8_3pages.tif");
    let src = FrameSource::open(&path, None).unwrap();
    assert_eq!(src.len(), Some(3));
    let frames = collect(src);
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[0], read_image(&path).unwrap());
    let inverted: Vec<u8> = u8_of(&frames[0]).iter().map(|&v| 255 - v).collect();
    assert_eq!(u8_of(&frames[1]), &inverted[..]);
    assert!(u8_of(&frames[2]).iter().all(|&v| v == 0));
}

#[test]
fn mismatched_page_size_names_the_page() {
    let path = scratch("mismatch").join("bad.tif");
    let pages = vec![
        (8, 6, u8_page(0, 0, 8, 6)),
        (8, 6, u8_page(1, 0, 8, 6)),
        (6, 8, u8_page(2, 0, 6, 8)),
    ];
    write_u8_pages(&path, &pages, None);
    let mut src = FrameSource::open(&path, None).unwrap();
    assert!(src.next().unwrap().is_ok());
    assert!(src.next().unwrap().is_ok());
    match src.next().unwrap() {
        Err(Error::Unsupported { path: p, reason }) => {
            assert_eq!(p, path);
            assert!(reason.contains("page 2"), "{reason}");
        }
        other => panic!("expected a size mismatch, got {other:?}"),
    }
    assert!(src.next().is_none(), "nothing after an error");
}

#[test]
fn imagej_hyperstack_channel_pick() {
    let dir = scratch("hyperstack");
    let path = dir.join("hs.tif");
    let (w, h, frames, channels) = (5usize, 3usize, 3usize, 2usize);
    // ImageJ order: channel fastest, then slice, then frame.
    let mut pages = Vec::new();
    for t in 0..frames {
        for c in 0..channels {
            pages.push((w as u32, h as u32, u8_page(t, c, w, h)));
        }
    }
    let desc = "ImageJ=1.53t\nimages=6\nchannels=2\nframes=3\nhyperstack=true\nmode=composite\n";
    write_u8_pages(&path, &pages, Some(desc));

    for c in 0..channels {
        let src = FrameSource::open(&path, Some(c)).unwrap();
        assert_eq!(src.len(), Some(frames));
        let got = collect(src);
        assert_eq!(got.len(), frames);
        for (t, f) in got.iter().enumerate() {
            assert_eq!(u8_of(f), &u8_page(t, c, w, h)[..], "t={t} c={c}");
        }
    }
    // No channel chosen: a parameter error naming the channel count.
    match FrameSource::open(&path, None) {
        Err(e @ Error::Parameter { .. }) => assert!(e.to_string().contains("2 channels"), "{e}"),
        Err(e) => panic!("wrong error {e:?}"),
        Ok(_) => panic!("expected an error"),
    }
    // Out of range.
    let Err(e) = FrameSource::open(&path, Some(2)) else {
        panic!("channel 2 accepted")
    };
    assert!(e.to_string().contains("out of range"), "{e}");

    // Z-stacks are refused.
    let zpath = dir.join("z.tif");
    let zdesc = "ImageJ=1.53t\nimages=6\nslices=2\nframes=3\nhyperstack=true\n";
    write_u8_pages(&zpath, &pages, Some(zdesc));
    let Err(e) = FrameSource::open(&zpath, None) else {
        panic!("z-stack accepted")
    };
    assert!(e.to_string().contains("z-stacks are not supported"), "{e}");
}

/// Write one small u16 label file per name, frame value = its index in `order`.
fn write_frames(dir: &Path, names: &[&str]) {
    for (i, name) in names.iter().enumerate() {
        write_labels_tiff(&dir.join(name), 3, 2, &[i as u32 + 1; 6]).unwrap();
    }
}

#[test]
fn folder_natural_order_and_glob() {
    let dir = scratch("folder");
    // Written in natural order, so frame value i + 1 must come back in this order.
    let names = [
        "img_1.tif",
        "img_2.tif",
        "img_9.tif",
        "img_10.tif",
        "img_100.TIFF",
    ];
    write_frames(&dir, &names);
    fs::write(dir.join("notes.txt"), "not an image").unwrap();
    fs::write(dir.join(".hidden.tif"), "not an image").unwrap();

    let src = FrameSource::open(&dir, None).unwrap();
    assert_eq!(src.len(), Some(5));
    let values: Vec<u16> = collect(src).iter().map(|f| u16_of(f)[0]).collect();
    assert_eq!(values, [1, 2, 3, 4, 5]);

    // Glob: `img_?.tif` takes the one-digit frames, `img_1*` those starting with 1.
    let src = FrameSource::open(&dir.join("img_?.tif"), None).unwrap();
    let values: Vec<u16> = collect(src).iter().map(|f| u16_of(f)[0]).collect();
    assert_eq!(values, [1, 2, 3]);
    let src = FrameSource::open(&dir.join("img_1*"), None).unwrap();
    let values: Vec<u16> = collect(src).iter().map(|f| u16_of(f)[0]).collect();
    assert_eq!(values, [1, 4, 5]);

    // A glob matching nothing names the pattern.
    let pattern = dir.join("nothing_*.png");
    let Err(e) = FrameSource::open(&pattern, None) else {
        panic!("empty glob accepted")
    };
    assert!(e.to_string().contains("nothing_*.png"), "{e}");
}

#[test]
fn folder_size_mismatch_names_file_and_frame() {
    let dir = scratch("folder-mismatch");
    write_labels_tiff(&dir.join("a_1.tif"), 3, 2, &[1; 6]).unwrap();
    write_labels_tiff(&dir.join("a_2.tif"), 2, 3, &[1; 6]).unwrap();
    let mut src = FrameSource::open(&dir, None).unwrap();
    assert!(src.next().unwrap().is_ok());
    let e = src.next().unwrap().unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("a_2.tif") && msg.contains("frame 1"), "{msg}");
}

#[test]
fn empty_folder_is_an_error_naming_it() {
    let dir = scratch("empty");
    fs::write(dir.join("readme.txt"), "no images").unwrap();
    let Err(e) = FrameSource::open(&dir, None) else {
        panic!("empty folder accepted")
    };
    assert!(matches!(e, Error::Read { .. }), "{e:?}");
    assert!(e.to_string().contains("empty"), "{e}");
}

#[test]
fn single_png_is_one_frame() {
    let path = data("ecoli.png");
    let src = FrameSource::open(&path, None).unwrap();
    assert_eq!(src.len(), Some(1));
    let frames = collect(src);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0], read_image(&path).unwrap());
}

/// Heap bytes allocated and not yet freed by the current thread, and the most it has held since
/// the last [`heap::reset_peak`]: a counting wrapper around the system allocator (per thread, so
/// tests running in parallel do not disturb each other's counts).
mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static LIVE: Cell<i64> = const { Cell::new(0) };
        static PEAK: Cell<i64> = const { Cell::new(0) };
    }

    fn add(delta: i64) {
        let _ = LIVE.try_with(|l| {
            let v = l.get() + delta;
            l.set(v);
            let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
        });
    }

    pub struct Counting;

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { System.alloc(layout) };
            if !p.is_null() {
                add(layout.size() as i64);
            }
            p
        }
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let p = unsafe { System.alloc_zeroed(layout) };
            if !p.is_null() {
                add(layout.size() as i64);
            }
            p
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) };
            add(-(layout.size() as i64));
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let p = unsafe { System.realloc(ptr, layout, new_size) };
            if !p.is_null() {
                add(new_size as i64 - layout.size() as i64);
            }
            p
        }
    }

    /// Bytes this thread holds now.
    pub fn live() -> i64 {
        LIVE.with(|l| l.get())
    }

    /// The most this thread has held since the last reset.
    pub fn peak() -> i64 {
        PEAK.with(|p| p.get())
    }

    /// Start a new peak from what the thread holds now.
    pub fn reset_peak() {
        let v = live();
        PEAK.with(|p| p.set(v));
    }
}

#[global_allocator]
static ALLOC: heap::Counting = heap::Counting;

/// 200 pages of 256×256: the source hands out one owned frame per `next` and holds no list of
/// frames. Measured with a counting allocator on this thread: the most heap held while reading
/// all 200 frames is no more than while reading the first 10 (plus a quarter frame of slack), and
/// under 6 frames in all; a source that kept its frames would hold 200 (25 MiB).
/// (`tests/cli_stack.rs` checks the whole binary's peak RSS over a long stack.)
#[test]
fn long_stack_streams_one_frame_at_a_time() {
    let path = scratch("long").join("long.tif");
    let (w, h, n) = (256usize, 256usize, 200usize);
    let mut writer = StackWriter::create(&path, LabelType::U16).unwrap();
    let mut frame = vec![0u32; w * h];
    for t in 0..n {
        frame
            .iter_mut()
            .enumerate()
            .for_each(|(i, v)| *v = ((i + t) % 60_000) as u32);
        writer.write_frame(w, h, &frame).unwrap();
    }
    writer.finish().unwrap();
    drop(frame);

    let frame_bytes = (w * h * 2) as i64;
    let start = heap::live();
    heap::reset_peak();
    let mut src = FrameSource::open(&path, None).unwrap();
    assert_eq!(src.len(), Some(n));
    let mut count = 0;
    let mut peak_first = 0;
    // `next` returns an owned RawImage: dropping it must free it.
    while let Some(f) = src.next() {
        let f: RawImage = f.unwrap();
        let v = u16_of(&f);
        assert_eq!(v.len(), w * h);
        assert_eq!(v[0] as usize, count % 60_000);
        assert_eq!(src.position(), count + 1);
        count += 1;
        drop(f);
        if count == 10 {
            peak_first = heap::peak() - start;
        }
    }
    assert_eq!(count, n);
    let peak_all = heap::peak() - start;
    let held = heap::live() - start;
    drop(src);
    eprintln!(
        "heap held while streaming {n} frames of {frame_bytes} bytes: peak {peak_first} bytes \
         over the first 10, {peak_all} over all; {held} held by the source at the end"
    );
    assert!(
        peak_all <= peak_first + frame_bytes / 4,
        "the heap grew with the stack: peak {peak_first} bytes over 10 frames, {peak_all} over {n}"
    );
    assert!(
        peak_all < 6 * frame_bytes,
        "the source held {peak_all} bytes at its peak, more than 6 frames of {frame_bytes}"
    );
}

/// A truncated stack: the frames before the cut decode, the first broken one is an error that
/// names the file and the frame, and nothing follows it.
#[test]
fn truncated_stack_names_file_and_frame() {
    let path = scratch("truncated").join("cut.tif");
    let (w, h, n) = (32, 32, 6);
    let mut writer = StackWriter::create(&path, LabelType::U16).unwrap();
    for t in 0..n {
        writer.write_frame(w, h, &labels(t, w, h, 1)).unwrap();
    }
    writer.finish().unwrap();
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();

    let src = FrameSource::open(&path, None).unwrap();
    assert_eq!(src.len(), Some(n), "the ImageJ description still says {n}");
    let results: Vec<_> = src.collect();
    let good = results.iter().take_while(|r| r.is_ok()).count();
    assert!(good >= 1 && good < n, "{good} frames decoded");
    assert_eq!(results.len(), good + 1, "nothing after the error");
    let msg = results[good].as_ref().unwrap_err().to_string();
    assert!(
        msg.contains("cut.tif") && msg.contains(&format!("frame {good}")),
        "{msg}"
    );
}
