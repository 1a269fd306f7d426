//! floodseg: segmentation of bacteria and blob-like cells, the scikit-image lecture pipeline
//! (gray → threshold → opening → distance → peaks → markers → watershed) computed by stages
//! that have a CPU twin (`cpu`) and, with the GPU backend, a WGSL shader of the same name.
//!
//! Each stage's doc comment in [`cpu`] restates exactly what it computes (the project's
//! contract, `docs/design.md`; the layers are drawn in `ARCHITECTURE.md`).

pub mod assign;
pub mod backend;
pub mod bench;
pub mod checks;
pub mod cpu;
pub mod ctc;
pub mod error;
pub mod eval;
pub mod flags;
pub mod gpu;
pub mod image;
pub mod io;
pub mod measure;
pub mod outputs;
pub mod params;
pub mod pipeline;
pub mod plan;
pub mod render;
pub mod run;
pub mod shaders;
pub mod stages;
pub mod stream;
pub mod synth;
pub mod track;
pub mod tune;

pub use backend::{Backend, Segmenter};
pub use error::{Error, Result};
pub use image::{RawImage, Samples};
