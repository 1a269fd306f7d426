//! floodseg: segmentation of bacteria and blob-like cells, the scikit-image lecture pipeline
//! (gray → threshold → opening → distance → peaks → markers → watershed) computed by stages
//! that have a CPU twin (`cpu`) and, with the GPU backend, a WGSL shader of the same name.
//!
//! See `SPEC.md`-derived doc comments on each stage in [`cpu`] for exactly what is computed.

pub mod cpu;
pub mod error;
pub mod gpu;
pub mod image;
pub mod io;
pub mod measure;
pub mod pipeline;
pub mod render;
pub mod shaders;
pub mod synth;

pub use error::{Error, Result};
pub use image::{RawImage, Samples};
