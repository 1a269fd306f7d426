// Exclusive prefix sum of u32s: the passes of `cpu::components::scan_exclusive` (used by stage
// components to rank the roots; any stage may use it). Host side: src/gpu/scan.rs.
//
// - `scan_blocks`: each workgroup takes one block of 64 consecutive elements (block b =
//   elements 64b .. 64b+63), scans it in workgroup memory (Hillis–Steele, no subgroup ops) and
//   writes the block's exclusive prefix sums to `dst` and its total to `sums[b]`.
// - the host scans `sums` the same way (recursively, until one block is left: its single sum is
//   the grand total), giving each block's offset;
// - `scan_add`: dst[i] += offsets[i / 64].
// Class: *map* per pass (each invocation writes only its own elements; the workgroup scan
// synchronises with barriers only). Sums wrap like the twin's u32 additions would overflow:
// callers keep totals below 2^32 (ranks of pixels).
//
// Binding i of an entry point is parameter i of its pass; variables sharing a binding number
// belong to different entry points.

const BLOCK: u32 = 64u;

// Keep in sync with `ScanUniforms` in src/gpu/scan.rs.
struct ScanParams {
    // Number of elements to scan.
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: ScanParams;
// scan_blocks
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@group(0) @binding(3) var<storage, read_write> sums: array<u32>;
// scan_add
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst_add: array<u32>;

var<workgroup> tmp: array<u32, 64>;

// Entry point `scan_blocks` (pass 1 of `scan_exclusive` per level).
@compute @workgroup_size(64)
fn scan_blocks(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) l: u32,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    // Flat block index; the element index equals the stages' flat invocation index
    // `gid.y * num_workgroups.x * 64 + gid.x`.
    let b = wid.y * nwg.x + wid.x;
    let i = b * BLOCK + l;
    let n = params.len;
    // No early return: every invocation must reach the barriers.
    var v = 0u;
    if (i < n) {
        v = src[i];
    }
    tmp[l] = v;
    workgroupBarrier();
    // Inclusive Hillis–Steele scan of the 64 values.
    for (var off = 1u; off < BLOCK; off = off * 2u) {
        var t = 0u;
        if (l >= off) {
            t = tmp[l - off];
        }
        workgroupBarrier();
        tmp[l] = tmp[l] + t;
        workgroupBarrier();
    }
    if (i < n) {
        dst[i] = tmp[l] - v;
    }
    if (l == BLOCK - 1u && b * BLOCK < n) {
        sums[b] = tmp[l];
    }
}

// Entry point `scan_add` (pass 2 of `scan_exclusive` per level): add each block's offset.
@compute @workgroup_size(64)
fn scan_add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    if (i >= params.len) {
        return;
    }
    dst_add[i] = dst_add[i] + offsets[i / BLOCK];
}
