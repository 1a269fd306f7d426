// Stage **gray**: input samples → one u32 gray key per pixel. Class: *map*.
// CPU twin: src/cpu/gray.rs (same entry-point name, same bindings in the twin's argument order).
// Host side: src/gpu/gray.rs.

// Keep in sync with `GrayUniforms` in src/gpu/gray.rs (the twin's `cpu::gray::GrayParams`).
struct GrayParams {
    width: u32,
    height: u32,
    // Samples per pixel: 1, 2 (gray+alpha), 3 (RGB) or 4 (RGBA).
    channels: u32,
    // 1 when the samples are f32 bits (gray only), else 0.
    is_float: u32,
}

@group(0) @binding(0) var<uniform> params: GrayParams;
@group(0) @binding(1) var<storage, read> samples: array<u32>;
@group(0) @binding(2) var<storage, read_write> keys: array<u32>;

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

// Entry point `gray`: one invocation per pixel.
@compute @workgroup_size(64)
fn gray(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    if (i >= params.width * params.height) {
        return;
    }
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
    keys[i] = key;
}
