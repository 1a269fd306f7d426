// Stage **threshold**: gray key → 0/1 mask. Class: *map*.
// CPU twin: src/cpu/threshold.rs (`threshold`); host side: src/gpu/threshold.rs. Units, Otsu and
// fractional thresholds are resolved on the host (`cpu::threshold::threshold_params`) into one
// integer comparison.

// The modes and the comparison (`threshold_on`) are in shaders/threshold_mode.wgsl, appended.

// Keep in sync with `ThresholdUniforms` in src/gpu/threshold.rs (twin: `ThresholdParams`).
struct ThresholdParams {
    width: u32,
    height: u32,
    mode: u32,
    bound: u32,
}

@group(0) @binding(0) var<uniform> params: ThresholdParams;
@group(0) @binding(1) var<storage, read> keys: array<u32>;
@group(0) @binding(2) var<storage, read_write> mask: array<u32>;

// Masked pixels of the frame, accumulated (order-free reduction: one `atomicAdd` per
// workgroup of its own count); twin: the sum of the mask (`cpu::threshold::threshold_count`).
@group(0) @binding(3) var<storage, read_write> count: array<atomic<u32>>;

var<workgroup> wg_on: atomic<u32>;

// Entry point `threshold`: one invocation per pixel, mask[i] ∈ {0, 1} (a map), and
// count[0] += the pixels set (an order-free reduction; the caller zeroes it).
@compute @workgroup_size(64)
fn threshold(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    let i = gid.y * nwg.x * 64u + gid.x;
    var on = false;
    if (i < params.width * params.height) {
        on = threshold_on(params.mode, params.bound, keys[i]);
        mask[i] = select(0u, 1u, on);
    }
    // no early return above: every invocation reaches the barrier (uniform control flow)
    count_mask(on, lid);
}

// Entry point `threshold_histogram` (order-free reduction): hist[key] += 1 for every pixel, for
// Otsu on integer gray images (keys are the sample values; `hist` has 256 or 65536 bins). The
// level is computed on the host from this histogram (`cpu::threshold::otsu_level_from_histogram`).
@group(0) @binding(2) var<storage, read_write> hist: array<atomic<u32>>;

@compute @workgroup_size(64)
fn threshold_histogram(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    if (i >= params.width * params.height) {
        return;
    }
    let k = keys[i];
    if (k < arrayLength(&hist)) {
        atomicAdd(&hist[k], 1u);
    }
}
