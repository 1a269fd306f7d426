// Exclusive prefix sum of u32s: the passes of `cpu::components::scan_exclusive` (used by stage
// components to rank the roots; any stage may use it). Host side: src/gpu/scan.rs.
//
// - `scan_blocks`: each workgroup of 256 invocations takes one block of 1024 consecutive
//   elements (block b = elements 1024b .. 1024b+1023, four consecutive ones per invocation),
//   scans it (each invocation its four, then Hillis–Steele over the 256 totals in workgroup
//   memory, no subgroup ops) and writes the block's exclusive prefix sums to `dst` and its
//   total to `sums[b]` (twin `scan_blocks`). In the roots mode (`params.roots` = 1) element i
//   is 1 where src[i] == i and 0 elsewhere: stage components ranks the roots of its forest
//   without a flag image (twin `root_flags`).
// - the host scans `sums` the same way (recursively, until one block is left: its single sum is
//   the grand total), giving each block's offset;
// - `scan_add`: dst[i] += offsets[i / 1024] (stage components adds the offsets in its own
//   `cc_renumber` instead).
// Class: *map* per pass (each invocation writes only its own elements; the workgroup scan
// synchronises with barriers only). Sums wrap like the twin's u32 additions would overflow:
// callers keep totals below 2^32 (ranks of pixels).
//
// Binding i of an entry point is parameter i of its pass; variables sharing a binding number
// belong to different entry points.

const BLOCK: u32 = 1024u;
// Invocations per workgroup of `scan_blocks`, each scanning BLOCK / GROUP consecutive elements.
const GROUP: u32 = 256u;
const PER: u32 = 4u;

// Keep in sync with `ScanUniforms` in src/gpu/scan.rs.
struct ScanParams {
    // Number of elements to scan.
    len: u32,
    // 1: element i is (src[i] == i), the roots of a forest of parent indices; 0: src[i].
    roots: u32,
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

var<workgroup> tmp: array<u32, 256>;

// Entry point `scan_blocks` (pass 1 of `scan_exclusive` per level; one workgroup per block,
// the block index folded as `workgroup_id.y * num_workgroups.x + workgroup_id.x`).
@compute @workgroup_size(256)
fn scan_blocks(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) l: u32,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let b = wid.y * nwg.x + wid.x;
    let base = b * BLOCK + l * PER;
    let n = params.len;
    // No early return: every invocation must reach the barriers.
    var own = array<u32, 4>(0u, 0u, 0u, 0u);
    var total = 0u;
    for (var k = 0u; k < PER; k = k + 1u) {
        own[k] = total;
        if (base + k < n) {
            let v = src[base + k];
            if (params.roots != 0u) {
                total = total + select(0u, 1u, v == base + k);
            } else {
                total = total + v;
            }
        }
    }
    tmp[l] = total;
    workgroupBarrier();
    // Inclusive Hillis–Steele scan of the 256 invocations' totals.
    for (var off = 1u; off < GROUP; off = off * 2u) {
        var t = 0u;
        if (l >= off) {
            t = tmp[l - off];
        }
        workgroupBarrier();
        tmp[l] = tmp[l] + t;
        workgroupBarrier();
    }
    let before = tmp[l] - total;
    for (var k = 0u; k < PER; k = k + 1u) {
        if (base + k < n) {
            dst[base + k] = before + own[k];
        }
    }
    if (l == GROUP - 1u && b * BLOCK < n) {
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
