//! Write calibrated label TIFFs for checking them in other readers (tifffile, ImageJ/Fiji):
//! `cargo run --example calibrated_labels -- OUTDIR`. Used by `scripts/check_calibration.sh`.
//! Prints what each file should declare, and what floodseg reads back from it.

use std::path::PathBuf;

use floodseg::io::{
    read_calibration, write_labels_tiff, write_labels_tiff_with, Calibration, LabelType,
    StackFormat, StackWriter,
};

fn labels(t: u32, w: usize, h: usize, big: bool) -> Vec<u32> {
    (0..w * h)
        .map(|i| {
            let v = (i as u32 / 3 + t) % 6;
            if big && v == 5 {
                70_000
            } else {
                v
            }
        })
        .collect()
}

fn main() -> floodseg::Result<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "calibrated".into()),
    );
    std::fs::create_dir_all(&out).map_err(|source| floodseg::Error::Io {
        path: out.clone(),
        source,
    })?;
    let (w, h) = (24, 16);
    let aniso = Calibration::new(Some((0.065, 0.07)), Some(0.5))?;
    let square = Calibration::new(Some((0.065, 0.065)), Some(1.5))?;
    let stacks = [
        (
            "stack_u16_aniso_0.5min.tif",
            LabelType::U16,
            StackFormat::Classic,
            aniso,
        ),
        (
            "stack_u16_0.065um_1.5min.tif",
            LabelType::U16,
            StackFormat::Classic,
            square,
        ),
        (
            "stack_u32_bigtiff.tif",
            LabelType::U32,
            StackFormat::BigTiff,
            square,
        ),
        (
            "stack_uncalibrated.tif",
            LabelType::U16,
            StackFormat::Classic,
            Calibration::default(),
        ),
    ];
    for (name, ty, format, cal) in stacks {
        let path = out.join(name);
        let mut s = StackWriter::create_calibrated(&path, ty, format, &cal)?;
        for t in 0..3 {
            s.write_frame(w, h, &labels(t, w, h, ty == LabelType::U32))?;
        }
        s.finish()?;
        println!(
            "{name}: wrote {cal}; reads back {}",
            read_calibration(&path)?
        );
    }
    let single = Calibration::new(Some((0.1, 0.1)), None)?;
    for (name, big) in [
        ("labels_u16_0.1um.tif", false),
        ("labels_u32_0.1um.tif", true),
    ] {
        let path = out.join(name);
        write_labels_tiff_with(&path, w, h, &labels(0, w, h, big), &single)?;
        println!(
            "{name}: wrote {single}; reads back {}",
            read_calibration(&path)?
        );
    }
    let path = out.join("labels_uncalibrated.tif");
    write_labels_tiff(&path, w, h, &labels(0, w, h, false))?;
    println!(
        "labels_uncalibrated.tif: wrote no calibration; reads back {}",
        read_calibration(&path)?
    );
    Ok(())
}
