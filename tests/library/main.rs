//! The library's API outside the stages (`cargo test --test library`):
//!
//! | module           | what it holds                                                           |
//! |------------------|-------------------------------------------------------------------------|
//! | `io`             | `floodseg::io`: every PNG/TIFF flavour read, refusals, atomic writers   |
//! | `io_calibration` | physical units: what inputs declare, what calibrated label TIFFs carry |
//! | `io_stack`       | stacks: `FrameSource` (TIFF pages, hyperstacks, folders), `StackWriter` |
//! | `ctc`            | `floodseg::ctc::metrics` against py-ctcmetrics on `tests/data/ctc/`     |
//! | `eval`           | `floodseg::eval` against StarDist's `matching()` / `matching_dataset()` |
//! | `flags`          | `floodseg::flags` (words → Params, as the CLI) and `ImageView`          |
//! | `example`        | the README's library example, kept compiling and true                  |

#[path = "../common/mod.rs"]
mod common;

mod ctc;
mod eval;
mod example;
mod flags;
mod io;
mod io_calibration;
mod io_stack;
