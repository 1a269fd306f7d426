// Stage **components**: connected-component labelling of a 0/1 image, 4- or 8-connectivity,
// numbered 1..=n in raster order of each component's first pixel (as `scipy.ndimage.label`).
// CPU twin: src/cpu/components.rs (one function per entry point, same names and argument order);
// host side: src/gpu/components.rs. The exclusive prefix sum between `cc_merge` and
// `cc_renumber` (twin `root_flags`, `scan_blocks` + `scan_exclusive`) lives in shaders/scan.wgsl.
//
// - `cc_init` (*map*): parent[i] = i on foreground, NONE on background.
// - `cc_merge` (*monotone relaxation*): union-find over earlier neighbours, the larger root
//   hooked under the smaller with `atomicMin`, retried while another invocation moved it.
//   Parents only decrease and always point at a smaller index, so whatever the order every
//   component ends as one tree rooted at its smallest pixel index.
// - `scan_blocks` in its roots mode (shaders/scan.wgsl) ranks the roots, parent[i] == i,
//   within blocks of SCAN_BLOCK pixels, reading the parents directly (twin `root_flags`).
// - `cc_renumber` (*map*): label[i] = rank[r] + offsets[r / SCAN_BLOCK] + 1 for the root r of
//   i (its place in its scan block plus the block's offset), 0 on background. Each pixel walks
//   its chain of parents to the root (read only: nothing changes the forest after `cc_merge`,
//   so the walks need no flattening pass before them).
//
// Binding i of an entry point is parameter i of its twin; variables sharing a binding number
// belong to different entry points.

// Background / no parent (twin: `cpu::NONE`).
const NONE: u32 = 0xffffffffu;

// Keep in sync with `CcUniforms` in src/gpu/components.rs (twin: `cpu::components::CcParams`).
struct CcParams {
    width: u32,
    height: u32,
    // 0 = 4-connectivity, 1 = 8-connectivity.
    diagonal: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: CcParams;
// cc_init, cc_merge
@group(0) @binding(1) var<storage, read> fg: array<u32>;
// cc_init
@group(0) @binding(2) var<storage, read_write> parent_init: array<u32>;
// cc_merge
@group(0) @binding(2) var<storage, read_write> parent_merge: array<atomic<u32>>;
// cc_renumber
@group(0) @binding(1) var<storage, read> parent: array<u32>;
@group(0) @binding(2) var<storage, read> rank: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> label: array<u32>;

// Elements per block of the scan (shaders/scan.wgsl `BLOCK`; twin `cpu::components::SCAN_BLOCK`).
const SCAN_BLOCK: u32 = 1024u;

fn flat_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.y * nwg.x * 64u + gid.x;
}

// Entry point `cc_init`.
@compute @workgroup_size(64)
fn cc_init(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= params.width * params.height) {
        return;
    }
    parent_init[i] = select(NONE, i, fg[i] != 0u);
}

// Root of i in `cc_merge` (twin: `find`). Parents point at strictly smaller indices except at
// roots, so this terminates.
fn find_merge(start: u32) -> u32 {
    var i = start;
    var p = atomicLoad(&parent_merge[i]);
    while (p != i) {
        i = p;
        p = atomicLoad(&parent_merge[i]);
    }
    return i;
}

// Twin: `union`. The larger root is hooked under the smaller with atomicMin; if it was no
// longer a root (another invocation hooked it meanwhile), retry from its new parent.
fn union_merge(a0: u32, b0: u32) {
    var a = find_merge(a0);
    var b = find_merge(b0);
    while (a != b) {
        let lo = min(a, b);
        let hi = max(a, b);
        let old = atomicMin(&parent_merge[hi], lo);
        if (old == hi) {
            return;
        }
        a = find_merge(old);
        b = find_merge(lo);
    }
}

// Entry point `cc_merge`: one invocation per pixel, union with each earlier foreground
// neighbour (left, up; with 8-connectivity also up-left and up-right).
@compute @workgroup_size(64)
fn cc_merge(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    let w = params.width;
    if (i >= w * params.height || fg[i] == 0u) {
        return;
    }
    let y = i / w;
    let x = i % w;
    if (x > 0u && fg[i - 1u] != 0u) {
        union_merge(i, i - 1u);
    }
    if (y > 0u) {
        if (fg[i - w] != 0u) {
            union_merge(i, i - w);
        }
        if (params.diagonal != 0u) {
            if (x > 0u && fg[i - w - 1u] != 0u) {
                union_merge(i, i - w - 1u);
            }
            if (x + 1u < w && fg[i - w + 1u] != 0u) {
                union_merge(i, i - w + 1u);
            }
        }
    }
}

// Entry point `cc_renumber`: label[i] = rank of root(i) + 1, 0 on background.
@compute @workgroup_size(64)
fn cc_renumber(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= params.width * params.height) {
        return;
    }
    var r = parent[i];
    if (r == NONE) {
        label[i] = 0u;
        return;
    }
    // Parents point at strictly smaller indices except at roots, so this terminates.
    var p = parent[r];
    while (p != r) {
        r = p;
        p = parent[r];
    }
    label[i] = rank[r] + offsets[r / SCAN_BLOCK] + 1u;
}
