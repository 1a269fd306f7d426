//! Stage **gray** on the CPU: `f32_key` orders like the floats and `f32_from_key` inverts it;
//! the fast whole-image function (`gray_image`, and `gray_keys`) equals the shader-shaped pass
//! (`gray`). GPU: `tests/gpu/gray.rs`.

use crate::inputs::config;
use crate::schedules;
use crate::threshold::any_f32;
use schedules::first_diff;

use floodseg::cpu::gray::{f32_from_key, f32_key, gray, gray_image, gray_keys, GrayParams};
use floodseg::cpu::Dims;
use proptest::prelude::*;

proptest! {
    #![proptest_config(config(256))]

    /// `f32_key` orders like the floats (−0 = +0) and `f32_from_key` inverts it.
    #[test]
    fn f32_key_is_order_preserving(a in any_f32(), b in any_f32()) {
        let (ka, kb) = (f32_key(a.to_bits()), f32_key(b.to_bits()));
        prop_assert_eq!(a.partial_cmp(&b), Some(ka.cmp(&kb)), "a {:e} b {:e}", a, b);
        let back = f32_from_key(ka);
        prop_assert!(back == a && (back.to_bits() == a.to_bits() || a == 0.0),
            "round trip of {:e} gave {:e}", a, back);
        prop_assert_eq!(f32_key((-0.0f32).to_bits()), f32_key(0.0f32.to_bits()));
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn gray_image_equals_gray(
        (w, h) in schedules::sizes(),
        channels in 1u32..=4,
        float in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let float = float && channels == 1;
        let n = w * h * channels as usize;
        let mut rng = floodseg::synth::SplitMix64(seed);
        let samples: Vec<u32> = (0..n)
            .map(|_| {
                let r = rng.next();
                if float { (r as f32 / u64::MAX as f32 * 200.0 - 100.0).to_bits() } else { (r % 65536) as u32 }
            })
            .collect();
        let p = GrayParams { dims: Dims::new(w, h), channels, is_float: float as u32 };
        let mut got = vec![0u32; w * h];
        let mut want = vec![0u32; w * h];
        gray_image(&p, &samples, &mut got);
        gray(&p, &samples, &mut want);
        prop_assert!(got == want, "{}", first_diff(w, &got, &want));
        let keys = gray_keys(&p, samples);
        prop_assert!(keys == want, "gray_keys: {}", first_diff(w, &keys, &want));
    }
}
