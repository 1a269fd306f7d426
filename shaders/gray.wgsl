// Stage **gray**: input samples → one u32 gray key per pixel. Class: *map*.
// CPU twin: src/cpu/gray.rs (same entry-point names, same bindings in the twin's argument order).
// Host side: src/gpu/gray.rs.
// `gray_threshold` is `gray` and stage threshold's `threshold` in one pass (a fixed threshold on
// the gray keys themselves, the common case: one GPU step less than two passes).

// Keep in sync with `GrayUniforms` in src/gpu/gray.rs (the twin's `cpu::gray::GrayParams`).
struct GrayParams {
    width: u32,
    height: u32,
    // Samples per pixel: 1, 2 (gray+alpha), 3 (RGB) or 4 (RGBA).
    channels: u32,
    // 1 when the samples are f32 bits (gray only), else 0.
    is_float: u32,
    // gray_threshold only (twin: `cpu::threshold::ThresholdParams`; 0 in `gray`).
    mode: u32,
    bound: u32,
    _pad0: u32,
    _pad1: u32,
}

// The threshold's modes and comparison (`threshold_on`) are in shaders/threshold_mode.wgsl,
// appended (src/shaders.rs).

@group(0) @binding(0) var<uniform> params: GrayParams;
@group(0) @binding(1) var<storage, read> samples: array<u32>;
@group(0) @binding(2) var<storage, read_write> keys: array<u32>;
// gray_threshold: the mask and its pixel count (the caller zeroes it)
@group(0) @binding(3) var<storage, read_write> mask: array<u32>;
@group(0) @binding(4) var<storage, read_write> count: array<atomic<u32>>;

var<workgroup> wg_on: atomic<u32>;

// Order-preserving key of a float's bits (twin: `cpu::gray::f32_key`).
fn f32_key(bits_in: u32) -> u32 {
    var bits = bits_in;
    if (bits == 0x80000000u) {
        bits = 0u; // -0.0 → +0.0
    }
    if ((bits & 0x80000000u) != 0u) {
        return ~bits;
    }
    return bits | 0x80000000u;
}

// The key of pixel i (twin: the body of `cpu::gray::gray`).
fn key_of(i: u32) -> u32 {
    let c = params.channels;
    let s = i * c;
    var key: u32;
    if (c >= 3u) {
        key = 2125u * samples[s] + 7154u * samples[s + 1u] + 721u * samples[s + 2u];
    } else if (params.is_float != 0u) {
        key = f32_key(samples[s]);
    } else {
        key = samples[s];
    }
    return key;
}

// Entry point `gray`: one invocation per pixel.
@compute @workgroup_size(64)
fn gray(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    if (i >= params.width * params.height) {
        return;
    }
    keys[i] = key_of(i);
}

// Entry point `gray_threshold`: `gray`, then the key's mask bit as shader threshold's
// `threshold` sets it, and count[0] += the pixels set (one atomicAdd per workgroup).
@compute @workgroup_size(64)
fn gray_threshold(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = gid.y * nwg.x * 64u + gid.x;
    var on = false;
    if (i < params.width * params.height) {
        let k = key_of(i);
        keys[i] = k;
        on = threshold_on(params.mode, params.bound, k);
        mask[i] = select(0u, 1u, on);
    }
    // no early return above: every invocation reaches the barrier (uniform control flow)
    count_mask(on, lid);
}
