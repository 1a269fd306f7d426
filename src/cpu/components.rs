//! Stage **components**: connected-component labelling of a 0/1 image, 4- or 8-connectivity,
//! numbered `1..=n` in raster order of each component's first pixel (as
//! `scipy.ndimage.label`). Used for the markers (4-connectivity of the kept peaks, `ndi.label`'s
//! default) and for plain blob counting.
//!
//! Passes:
//! 1. `cc_init` (*map*): `parent[i] = i` for foreground, [`NONE`] for background.
//! 2. `cc_merge` (*monotone relaxation*): for every foreground pixel and each earlier neighbour
//!    (left, up, and with 8-connectivity up-left, up-right), union the two trees, always hooking
//!    the larger root under the smaller one (the shader uses `atomicMin`). Whatever the order,
//!    every component ends as one tree whose root is its smallest pixel index.
//! 3. `cc_flatten` (*map*): `parent[i] = find(i)`, the root.
//! 4. `cc_roots` (*map*) + `scan` + `cc_renumber` (*map*): roots are flagged, an exclusive prefix
//!    sum gives each root its rank, and `label[i] = rank(root(i)) + 1`. The root is the smallest
//!    index, so this is raster order of first pixels — no atomic slot allocation.

use super::{Dims, NONE};

/// Uniforms of the components passes (WGSL `CcParams`, keep in sync with
/// `shaders/components.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CcParams {
    pub dims: Dims,
    /// 0 = 4-connectivity, 1 = 8-connectivity.
    pub diagonal: u32,
}

/// Entry point `cc_init`.
pub fn cc_init(p: &CcParams, fg: &[u32], parent: &mut [u32]) {
    for i in 0..p.dims.len() {
        parent[i] = if fg[i] != 0 { i as u32 } else { NONE };
    }
}

/// Root of `i` (following parents until a fixed point).
#[inline]
pub fn find(parent: &[u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        i = parent[i as usize];
    }
    i
}

/// Union of the trees of `a` and `b`, the larger root hooked under the smaller.
/// (WGSL: a loop of `atomicMin(&parent[hi], lo)` retried while another thread moved `hi`.)
#[inline]
pub fn union(parent: &mut [u32], a: u32, b: u32) {
    let mut a = find(parent, a);
    let mut b = find(parent, b);
    while a != b {
        let (lo, hi) = if a < b { (a, b) } else { (b, a) };
        let old = parent[hi as usize];
        parent[hi as usize] = old.min(lo); // atomicMin
        if old == hi {
            return;
        }
        a = find(parent, old);
        b = find(parent, lo);
    }
}

/// Entry point `cc_merge`: one invocation per pixel.
pub fn cc_merge(p: &CcParams, fg: &[u32], parent: &mut [u32]) {
    let w = p.dims.width as usize;
    for i in 0..p.dims.len() {
        if fg[i] == 0 {
            continue;
        }
        let (y, x) = (i / w, i % w);
        if x > 0 && fg[i - 1] != 0 {
            union(parent, i as u32, (i - 1) as u32);
        }
        if y > 0 {
            if fg[i - w] != 0 {
                union(parent, i as u32, (i - w) as u32);
            }
            if p.diagonal != 0 {
                if x > 0 && fg[i - w - 1] != 0 {
                    union(parent, i as u32, (i - w - 1) as u32);
                }
                if x + 1 < w && fg[i - w + 1] != 0 {
                    union(parent, i as u32, (i - w + 1) as u32);
                }
            }
        }
    }
}

/// Entry point `cc_flatten`: every pixel points at its root.
pub fn cc_flatten(p: &CcParams, parent: &mut [u32]) {
    for i in 0..p.dims.len() {
        if parent[i] != NONE {
            parent[i] = find(parent, i as u32);
        }
    }
}

/// Entry point `cc_roots`: `flag[i] = 1` for roots.
pub fn cc_roots(p: &CcParams, parent: &[u32], flag: &mut [u32]) {
    for i in 0..p.dims.len() {
        flag[i] = (parent[i] == i as u32) as u32;
    }
}

/// Stage `scan`'s twin: exclusive prefix sum; returns the total.
pub fn scan_exclusive(src: &[u32], dst: &mut [u32]) -> u32 {
    let mut acc = 0u32;
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = acc;
        acc += s;
    }
    acc
}

/// Entry point `cc_renumber`: `label[i] = rank[root(i)] + 1`, 0 on background.
pub fn cc_renumber(p: &CcParams, parent: &[u32], rank: &[u32], label: &mut [u32]) {
    for i in 0..p.dims.len() {
        label[i] = if parent[i] == NONE {
            0
        } else {
            rank[parent[i] as usize] + 1
        };
    }
}

/// The whole stage: labels and their count.
pub fn components(dims: Dims, diagonal: bool, fg: &[u32]) -> (Vec<u32>, u32) {
    let p = CcParams {
        dims,
        diagonal: diagonal as u32,
    };
    let n = dims.len();
    let mut parent = vec![0u32; n];
    cc_init(&p, fg, &mut parent);
    cc_merge(&p, fg, &mut parent);
    cc_flatten(&p, &mut parent);
    let mut flag = vec![0u32; n];
    cc_roots(&p, &parent, &mut flag);
    let mut rank = vec![0u32; n];
    let count = scan_exclusive(&flag, &mut rank);
    let mut label = vec![0u32; n];
    cc_renumber(&p, &parent, &rank, &mut label);
    (label, count)
}
