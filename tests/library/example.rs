//! The README's library example, kept compiling and true: segment the lecture's image with the
//! best available backend and measure it.

use crate::common;
use floodseg::cpu::threshold::parse_level;
use floodseg::pipeline::{Backend, Params, Segmenter};

#[test]
fn readme_library_example_segments_the_lecture_image() -> floodseg::Result<()> {
    let seg = Segmenter::new(Backend::Auto)?; // hardware GPU if present, else the CPU
    eprintln!("{}", seg.description());
    let params = Params {
        level: parse_level("180")?,
        dark: true,
        open: 1,
        min_distance: 10,
        footprint: Some(10),
        ..Params::default()
    };
    let img = floodseg::io::read_image(&common::repo().join("data/ecoli.png"))?;
    let stages = seg.segment(&img, &params)?; // every stage image, labels, sums
    assert_eq!(stages.count(), 3);
    let areas: Vec<u64> = stages.measure().iter().map(|p| p.area).collect();
    assert_eq!(areas, [48, 22, 49]);
    let out = common::repo()
        .join("target")
        .join("library-example-labels.tif");
    floodseg::io::write_labels_tiff(&out, img.width, img.height, &stages.labels)?;
    Ok(())
}
