//! `floodseg::flags`: the pipeline's flags parsed from words (the Python package's path to
//! `Params`) give what the command line gives, and borrowed samples (`ImageView`, how the
//! package hands NumPy buffers over) segment like the image that owns them.

use floodseg::flags::{flag_names, params_of, parse_words};
use floodseg::image::RawImage;
use floodseg::params::Preset;
use floodseg::stages::Keep;
use floodseg::{Backend, Error, Segmenter};

fn params(words: &[&str]) -> floodseg::Result<floodseg::params::Params> {
    params_of(&parse_words(words)?)
}

#[test]
fn words_parse_as_the_command_line_parses_them() {
    // a preset's values, then each flag given over it
    let p = params(&["--preset", "rods", "--min-area", "30", "--bright"]).unwrap();
    let mut want = Preset::Rods.params();
    want.min_area = 30;
    want.dark = false;
    assert_eq!(p, want);
    assert_eq!(params(&[]).unwrap(), floodseg::params::Params::default());
    // the library's own checks: a named parameter error
    match params(&["--min-eccentricity", "2"]) {
        Err(Error::Parameter { name, .. }) => assert_eq!(name, "--min-eccentricity"),
        other => panic!("{other:?}"),
    }
    // clap's refusals: a usage error with clap's first paragraph, no usage lines
    for (words, needle) in [
        (
            &["--markres", "hmax"][..],
            "unexpected argument '--markres'",
        ),
        (
            &["--markers", "foo"][..],
            "possible values: peaks, regional, hmax",
        ),
        (&["--open", "x"][..], "invalid value 'x'"),
        (&["--dark", "--bright"][..], "cannot be used with"),
    ] {
        match parse_words(words) {
            Err(Error::Usage(m)) => {
                assert!(m.contains(needle), "{words:?}: {m}");
                assert!(!m.contains("Usage:") && !m.starts_with("error:"), "{m}");
            }
            Err(e) => panic!("{words:?}: {e:?}"),
            Ok(_) => panic!("{words:?} parsed"),
        }
    }
    assert_eq!(Error::Usage("x".into()).exit_code(), 2);
}

#[test]
fn flag_names_list_every_pipeline_flag_and_which_take_values() {
    let names = flag_names();
    let get = |n: &str| names.iter().find(|(f, _)| f == n).map(|(_, v)| *v);
    assert_eq!(get("dark"), Some(false));
    assert_eq!(get("bright"), Some(false));
    for f in [
        "preset",
        "threshold",
        "open",
        "min-distance",
        "footprint",
        "markers",
        "h",
        "core",
        "background",
        "smooth",
        "min-area",
        "clear-border",
        "distance",
        "backend",
        "threads",
    ] {
        assert_eq!(get(f), Some(true), "{f}");
    }
    // every name parses (with a value where it takes one)
    assert!(names.len() >= 20);
}

#[test]
fn a_borrowed_image_segments_like_the_owned_one() {
    let (w, h) = (61, 47);
    let data: Vec<u16> = (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as f64, (i / w) as f64);
            let d = ((x - 20.0).powi(2) + (y - 20.0).powi(2))
                .sqrt()
                .min(((x - 42.0).powi(2) + (y - 28.0).powi(2)).sqrt());
            if d < 11.0 {
                9000
            } else {
                1000 + ((i * 37) % 300) as u16
            }
        })
        .collect();
    let img = RawImage::gray_u16(w, h, data);
    let p = params(&["--threshold", "5000", "--min-distance", "3"]).unwrap();
    let seg = Segmenter::new(Backend::Cpu).unwrap();
    let owned = seg.segment_keep(&img, &p, Keep::All).unwrap();
    let borrowed = seg.segment_view(img.view(), &p, Keep::All).unwrap();
    assert!(owned.count() >= 2);
    assert_eq!(owned.labels, borrowed.labels);
    assert_eq!(owned.distance2, borrowed.distance2);
    // a view whose samples do not fill the frame is refused, not read past
    let mut short = img.view();
    short.height += 1;
    assert!(matches!(
        seg.segment_view(short, &p, Keep::Labels),
        Err(Error::BadData(_))
    ));
}
