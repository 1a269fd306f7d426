
// ---- shaders/threshold_mode.wgsl, appended to shaders/threshold.wgsl and shaders/gray.wgsl
// (src/shaders.rs): the threshold's comparison and the mask's pixel count, one copy for both
// modules (each declares `wg_on: atomic<u32>` in workgroup memory and its `count` binding).

// Modes (keep in sync with `cpu::threshold::MODE_*`).
const MODE_NONE: u32 = 0u;
const MODE_ALL: u32 = 1u;
const MODE_ABOVE: u32 = 2u; // key > bound
const MODE_BELOW: u32 = 3u; // key < bound

// Whether key `k` is in the mask (twin: the body of `cpu::threshold::threshold`).
fn threshold_on(mode: u32, bound: u32, k: u32) -> bool {
    if (mode == MODE_ALL) {
        return true;
    } else if (mode == MODE_ABOVE) {
        return k > bound;
    } else if (mode == MODE_BELOW) {
        return k < bound;
    }
    return false;
}

// count[0] += the workgroup's pixels with `on` (an order-free reduction: one atomicAdd per
// workgroup; twin: `cpu::threshold::threshold_count`). Every invocation of the workgroup must
// call it (it holds a barrier).
fn count_mask(on: bool, lid: u32) {
    if (on) {
        atomicAdd(&wg_on, 1u);
    }
    workgroupBarrier();
    if (lid == 0u) {
        let c = atomicLoad(&wg_on);
        if (c > 0u) {
            atomicAdd(&count[0], c);
        }
    }
}
