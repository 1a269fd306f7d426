//! The CPU twin of every stage: one module per stage, one function per WGSL entry point, with
//! the same names, integer types and pass structure as `shaders/<stage>.wgsl`.
//!
//! These functions are written to be *compared* with the shaders, so they are deliberately
//! un-idiomatic in places: buffers are flat `u32` slices indexed `i = y * width + x`, each pass
//! reads its inputs and writes its own output, and loops that run to convergence are explicit.
//! A stage's doc comment names its exactness class (docs/design.md, "Exactness classes"):
//! *map*, *order-free reduction*, *monotone relaxation* or *Jacobi*. Naive, obviously correct
//! references live in the tests (`tests/naive/`) and check these twins with property tests.

pub mod background;
pub mod components;
pub mod distance;
pub mod filter;
pub mod gather;
pub mod gray;
pub mod maxima;
pub mod measure;
pub mod opening;
pub mod pairs;
pub mod peaks;
pub mod smooth;
pub mod threshold;
pub mod watershed;

/// Image dimensions as every pass receives them (WGSL: `struct Dims { width: u32, height: u32 }`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    pub width: u32,
    pub height: u32,
}

impl Dims {
    pub fn new(width: usize, height: usize) -> Self {
        Dims {
            width: width as u32,
            height: height as u32,
        }
    }
    pub fn len(&self) -> usize {
        self.width as usize * self.height as usize
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An axis-aligned rectangle of pixels, inclusive bounds `[y0, y1] × [x0, x1]`.
/// Empty when `y0 > y1` or `x0 > x1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    pub y0: u32,
    pub x0: u32,
    pub y1: u32,
    pub x1: u32,
}

impl Rect {
    pub fn full(d: Dims) -> Self {
        Rect {
            y0: 0,
            x0: 0,
            y1: d.height.wrapping_sub(1),
            x1: d.width.wrapping_sub(1),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.y0 > self.y1 || self.x0 > self.x1
    }
    pub fn contains(&self, y: u32, x: u32) -> bool {
        y >= self.y0 && y <= self.y1 && x >= self.x0 && x <= self.x1
    }
}

/// "No value" in index buffers (no seed, no label yet).
pub const NONE: u32 = u32::MAX;
