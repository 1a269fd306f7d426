// Plumbing **gather**: up to seven small buffers (counts, convergence flags) concatenated into
// one, so that a readback of all of them costs one pass and one copy instead of one copy each
// (every copy is a barrier-separated GPU step). Class: *map* (each invocation writes only its
// own words). CPU twin: src/cpu/gather.rs (`gather_words`); host side: src/gpu/gather.rs.

// Keep in sync with `GatherUniforms` in src/gpu/gather.rs: the words taken from each input, in
// binding order (0 for unused bindings).
struct GatherParams {
    len0: u32,
    len1: u32,
    len2: u32,
    len3: u32,
    len4: u32,
    len5: u32,
    len6: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: GatherParams;
@group(0) @binding(1) var<storage, read> src0: array<u32>;
@group(0) @binding(2) var<storage, read> src1: array<u32>;
@group(0) @binding(3) var<storage, read> src2: array<u32>;
@group(0) @binding(4) var<storage, read> src3: array<u32>;
@group(0) @binding(5) var<storage, read> src4: array<u32>;
@group(0) @binding(6) var<storage, read> src5: array<u32>;
@group(0) @binding(7) var<storage, read> src6: array<u32>;
@group(0) @binding(8) var<storage, read_write> dst: array<u32>;

// Entry point `gather_words`: one workgroup; dst = src0[..len0] ++ src1[..len1] ++ … .
@compute @workgroup_size(64)
fn gather_words(@builtin(local_invocation_index) l: u32) {
    var off = 0u;
    for (var i = l; i < params.len0; i += 64u) {
        dst[off + i] = src0[i];
    }
    off += params.len0;
    for (var i = l; i < params.len1; i += 64u) {
        dst[off + i] = src1[i];
    }
    off += params.len1;
    for (var i = l; i < params.len2; i += 64u) {
        dst[off + i] = src2[i];
    }
    off += params.len2;
    for (var i = l; i < params.len3; i += 64u) {
        dst[off + i] = src3[i];
    }
    off += params.len3;
    for (var i = l; i < params.len4; i += 64u) {
        dst[off + i] = src4[i];
    }
    off += params.len4;
    for (var i = l; i < params.len5; i += 64u) {
        dst[off + i] = src5[i];
    }
    off += params.len5;
    for (var i = l; i < params.len6; i += 64u) {
        dst[off + i] = src6[i];
    }
}
