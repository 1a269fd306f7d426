//! The pipeline in one import: gray → threshold → opening → distance → markers → watershed →
//! measure → filter. This module only gathers what a library caller needs from the layers
//! that hold it: [`crate::params`] (what to compute), [`crate::stages`] (what a frame gives),
//! [`crate::backend`] (where it runs); the per-frame resolution is [`crate::plan`].

pub use crate::backend::cpu::{keep_sums, segment as segment_cpu};
pub use crate::backend::{Backend, Segmenter};
pub use crate::params::*;
pub use crate::stages::{Keep, Stages, ThresholdReport};

use crate::cpu::{self, threshold::GrayScale, Dims};
use crate::error::Result;
use crate::image::RawImage;
use crate::plan::{FramePlan, ImageHeader, ObjectFilter};

/// The gray stage's parameters, the widened samples and the keys' scale of `img`: what the
/// plan gives the gray stage. Refuses what the gray stage cannot take (RGB floats, NaN/inf,
/// empty or oversized images).
pub fn gray_input(img: &RawImage) -> Result<(cpu::gray::GrayParams, Vec<u32>, GrayScale)> {
    let (plan, samples) = FramePlan::of_image(&Params::default(), img, Keep::All)?;
    Ok((plan.gray, samples, plan.scale))
}

/// The object filter's renumbering table of `params` for the measure sums of a `dims` frame
/// and the number of objects kept ([`ObjectFilter::table`]; every object kept when `params`
/// filters none).
pub fn object_table(
    params: &Params,
    dims: Dims,
    sums: &[cpu::measure::ObjectSums],
) -> (Vec<u32>, u32) {
    ObjectFilter::from_params(params, dims).table(sums)
}

/// Run the pipeline once on the requested backend (a [`Segmenter`] for one frame). Returns the
/// stages and the backend's description.
pub fn segment(img: &RawImage, params: &Params, backend: Backend) -> Result<(Stages, String)> {
    let s = Segmenter::new(backend)?;
    let stages = s.segment(img, params)?;
    Ok((stages, s.description().to_string()))
}

/// The frame's plan (re-exported for callers that inspect what a frame will run).
pub fn plan(params: &Params, img: &RawImage, keep: Keep) -> Result<FramePlan> {
    FramePlan::new(params, &ImageHeader::of(img), keep)
}
