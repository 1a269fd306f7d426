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
//! 3. `scan_blocks` + `scan` + `cc_renumber` (*map*): an exclusive prefix sum of the roots'
//!    flags ([`root_flags`]: `parent[i] == i`, which the GPU's `scan_blocks` reads from the
//!    parents itself) within each block of [`SCAN_BLOCK`] pixels, the blocks' totals scanned
//!    into their offsets, and `label[i] = rank(find(i)) + 1` with a root's rank its block's
//!    offset plus its place in the block (the GPU adds the offsets here instead of in a pass of
//!    its own, and walks each pixel's chain to its root here instead of flattening the trees
//!    in a pass before). The root is the smallest index, so this is raster order of first
//!    pixels — no atomic slot allocation.

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

/// What `scan_blocks` reads in its roots mode (`ScanParams::roots` in `shaders/scan.wgsl`):
/// `1` where `parent[i] == i` (a root: after `cc_merge` every other foreground pixel's parent is
/// a smaller index, and background is [`NONE`]), else `0`.
pub fn root_flags(parent: &[u32]) -> Vec<u32> {
    parent
        .iter()
        .enumerate()
        .map(|(i, &p)| (p == i as u32) as u32)
        .collect()
}

/// Elements per block of the GPU's exclusive scan (`BLOCK` in `shaders/scan.wgsl`): part of
/// [`cc_renumber`]'s contract, which adds each block's offset.
pub const SCAN_BLOCK: usize = 1024;

/// Stage `scan`'s twin: exclusive prefix sum; returns the total.
pub fn scan_exclusive(src: &[u32], dst: &mut [u32]) -> u32 {
    let mut acc = 0u32;
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = acc;
        acc += s;
    }
    acc
}

/// The scan's first pass (`scan_blocks`): the exclusive prefix sum of `src` within each block
/// of [`SCAN_BLOCK`] elements into `dst`; returns the blocks' totals.
pub fn scan_blocks(src: &[u32], dst: &mut [u32]) -> Vec<u32> {
    src.chunks(SCAN_BLOCK)
        .zip(dst.chunks_mut(SCAN_BLOCK))
        .map(|(s, d)| scan_exclusive(s, d))
        .collect()
}

/// Entry point `cc_renumber`: `label[i] = rank(find(i)) + 1`, 0 on background, where a root
/// `r`'s rank is `rank[r] + offsets[r / SCAN_BLOCK]` (its place in its block, [`scan_blocks`],
/// plus the block's offset, the exclusive scan of the blocks' totals). `parent` is the merged
/// forest as `cc_merge` left it; each pixel follows its chain to the root ([`find`]).
pub fn cc_renumber(p: &CcParams, parent: &[u32], rank: &[u32], offsets: &[u32], label: &mut [u32]) {
    for i in 0..p.dims.len() {
        label[i] = if parent[i] == NONE {
            0
        } else {
            let r = find(parent, i as u32) as usize;
            rank[r] + offsets[r / SCAN_BLOCK] + 1
        };
    }
}

/// The whole stage: labels and their count, by runs ([`components_runs`]). Equal to
/// [`components_passes`] (tests/stages/components.rs).
pub fn components(dims: Dims, diagonal: bool, fg: &[u32]) -> (Vec<u32>, u32) {
    components_runs(dims, diagonal, fg)
}

/// The whole stage with the shader's passes (`cc_init`, `cc_merge`, `scan_blocks` of the
/// roots' flags, the scan of the blocks' totals, `cc_renumber`): labels and their count.
pub fn components_passes(dims: Dims, diagonal: bool, fg: &[u32]) -> (Vec<u32>, u32) {
    let p = CcParams {
        dims,
        diagonal: diagonal as u32,
    };
    let n = dims.len();
    let mut parent = vec![0u32; n];
    cc_init(&p, fg, &mut parent);
    cc_merge(&p, fg, &mut parent);
    let mut rank = vec![0u32; n];
    let totals = scan_blocks(&root_flags(&parent), &mut rank);
    let mut offsets = vec![0u32; totals.len()];
    let count = scan_exclusive(&totals, &mut offsets);
    let mut label = vec![0u32; n];
    cc_renumber(&p, &parent, &rank, &offsets, &mut label);
    (label, count)
}

/// A horizontal run of foreground pixels `[x0, x1)` in row `y`.
#[derive(Clone, Copy)]
struct Run {
    y: u32,
    x0: u32,
    x1: u32,
}

/// The same labelling as [`components_passes`] with the union-find over *runs* instead of
/// pixels (cheap on sparse images such as the kept peaks): runs are numbered in raster order of
/// their first pixel, each run is united with the overlapping runs of the row above (touching
/// diagonally too with 8-connectivity), the smaller run index always becomes the root — so each
/// component's root is its first run, whose first pixel is the component's first pixel — and
/// roots are ranked in run order: raster order of first pixels, as `scipy.ndimage.label`.
pub fn components_runs(dims: Dims, diagonal: bool, fg: &[u32]) -> (Vec<u32>, u32) {
    let w = dims.width as usize;
    let n = dims.len();
    let mut label = vec![0u32; n];
    if n == 0 {
        return (label, 0);
    }
    let mut runs: Vec<Run> = Vec::new();
    let mut parent: Vec<u32> = Vec::new();
    let mut prev = 0..0; // runs of the previous row
    let reach = diagonal as u32; // runs touch if they overlap after widening by `reach`
    for (y, row) in fg.chunks_exact(w).enumerate() {
        let start = runs.len();
        let mut x = 0usize;
        while x < w {
            // skip background quickly, 32 pixels at a time
            if x.is_multiple_of(32)
                && x + 32 <= w
                && row[x..x + 32].iter().fold(0, |a, &v| a | v) == 0
            {
                x += 32;
                continue;
            }
            if row[x] == 0 {
                x += 1;
                continue;
            }
            let x0 = x;
            while x < w && row[x] != 0 {
                x += 1;
            }
            runs.push(Run {
                y: y as u32,
                x0: x0 as u32,
                x1: x as u32,
            });
            parent.push(parent.len() as u32);
        }
        let cur = start..runs.len();
        // unite with overlapping runs of the previous row (two pointers, both sorted by x)
        let mut j = prev.start;
        for i in cur.clone() {
            let a = runs[i];
            while j < prev.end && runs[j].x1 + reach <= a.x0 {
                j += 1;
            }
            let mut k = j;
            while k < prev.end && runs[k].x0 < a.x1 + reach {
                union_runs(&mut parent, i as u32, k as u32);
                k += 1;
            }
        }
        prev = cur;
    }
    // rank roots in run order
    let mut rank = vec![0u32; runs.len()];
    let mut count = 0u32;
    for r in 0..runs.len() {
        let root = find(&parent, r as u32) as usize;
        if root == r {
            count += 1;
            rank[r] = count;
        } else {
            rank[r] = rank[root];
        }
        let run = runs[r];
        let i = run.y as usize * w;
        label[i + run.x0 as usize..i + run.x1 as usize].fill(rank[r]);
    }
    (label, count)
}

/// Union of the trees of runs `a` and `b` with path halving, the larger root hooked under the
/// smaller.
fn union_runs(parent: &mut [u32], a: u32, b: u32) {
    let mut a = find_halving(parent, a);
    let mut b = find_halving(parent, b);
    if a > b {
        std::mem::swap(&mut a, &mut b);
    }
    if a != b {
        parent[b as usize] = a;
    }
}

fn find_halving(parent: &mut [u32], mut i: u32) -> u32 {
    while parent[i as usize] != i {
        let gp = parent[parent[i as usize] as usize];
        parent[i as usize] = gp;
        i = gp;
    }
    i
}
