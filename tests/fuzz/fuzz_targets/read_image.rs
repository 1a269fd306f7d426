//! Any bytes given to the PNG/TIFF reader end in an image or an error, never a panic or an
//! allocation beyond the limits; a decoded image satisfies its shape invariant.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = floodseg::io::decode_image_bytes(data, "fuzz-input".as_ref()) {
        assert!((1..=4).contains(&img.channels));
        assert_eq!(img.samples.len(), img.width * img.height * img.channels);
        // and the pipeline's input check takes it or refuses it cleanly
        let _ = floodseg::pipeline::gray_input(&img);
    }
});
