//! Checks of the source itself, no GPU needed (`cargo test --test source`):
//!
//! | module         | what it holds                                                          |
//! |----------------|------------------------------------------------------------------------|
//! | `shaders_naga` | every WGSL shader validates with naga and matches the Rust side       |
//! | `architecture` | the crate's layers: no module cycle, lower layers never use upper ones |

mod architecture;
mod shaders_naga;
