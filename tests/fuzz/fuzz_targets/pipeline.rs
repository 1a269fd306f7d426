//! The CPU pipeline on arbitrary small images and parameters: never panics, and its output
//! keeps the invariants every stage promises (labels only inside the opened mask, one object
//! per marker, markers numbered 1..=n, the shader schedules equal to the CPU's).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((img, params)) = common::case(data) else {
        return;
    };
    let Ok(s) = floodseg::pipeline::segment_cpu(&img, &params) else {
        return;
    };
    let n = s.dims.len();
    assert_eq!(s.labels.len(), n);
    let count = s.count();
    for i in 0..n {
        assert!(s.labels[i] <= count);
        assert!(s.labels[i] == 0 || s.opened[i] == 1, "label outside the mask");
        if !params.filters_objects() {
            assert!(s.markers[i] == 0 || s.labels[i] == s.markers[i], "a marker lost its label");
        }
    }
    let max_marker = s.markers.iter().copied().max().unwrap_or(0);
    assert_eq!(max_marker, s.n_markers);
    assert!(count <= s.n_markers);
    // the GPU's schedules, run on the CPU, reach the same answers
    let alt = floodseg::backend::cpu::flooded(&s, &params);
    let jacobi = floodseg::cpu::watershed::watershed_jacobi(s.dims, &s.opened, &alt, &s.markers);
    if !params.filters_objects() {
        assert_eq!(jacobi, s.labels, "Jacobi watershed differs");
    }
    // with --core the markers come from the core's mask and distance, which Stages does not keep
    let markers = if params.core.is_some() { None } else { Some(params.markers) };
    match markers {
        None => {}
        Some(markers) => match markers {
        floodseg::pipeline::Markers::Peaks => {
            let pp = floodseg::cpu::peaks::PeaksParams {
                dims: s.dims,
                min_distance: params.min_distance,
                footprint: params.footprint_size(),
                border: params.border(),
            };
            let rounds = floodseg::cpu::peaks::peaks_rounds(&pp, &s.opened, &s.distance2);
            assert_eq!(rounds, s.peaks, "peak spacing rounds differ");
        }
        floodseg::pipeline::Markers::Regional => {
            let mp = floodseg::cpu::maxima::MaximaParams { dims: s.dims, h_half: 0, border: params.border() };
            let passes = floodseg::cpu::maxima::regional_passes(&mp, &s.opened, &s.distance2);
            assert_eq!(passes, s.peaks, "regional maxima passes differ");
        }
        floodseg::pipeline::Markers::Hmax { h_half } => {
            let mp = floodseg::cpu::maxima::MaximaParams { dims: s.dims, h_half, border: params.border() };
            let passes = floodseg::cpu::maxima::hmax_passes(&mp, &s.opened, &s.distance2);
            assert_eq!(passes, s.peaks, "h-maxima passes differ");
        }
        },
    }
    if params.smooth > 0 {
        let sp = floodseg::cpu::smooth::SmoothParams { dims: s.dims, passes: params.smooth };
        assert_eq!(floodseg::cpu::smooth::smooth_passes(&sp, &s.gray), s.smoothed, "smoothing passes differ");
    }
    let _ = s.measure();
});
