// Stage **background**: flatten uneven illumination (`--background R`): the closing (dark
// objects: max then min) or opening (bright objects: min then max) with a (2R+1)² square, each
// filter rows then columns, then the top-hat map. Class: *Jacobi* (each pass reads `src` and
// writes `dst`; the host records window_rows, window_cols, window_rows, window_cols, subtract).
// CPU twin: src/cpu/background.rs (`window_rows`, `window_cols`, `subtract`); host side:
// src/gpu/background.rs. Every window is clamped to the image (scipy's mode='reflect' gives the
// same extremes).

// Keep in sync with `BackgroundUniforms` in src/gpu/background.rs (twin:
// `cpu::background::BackgroundParams`, plus the pass's extreme).
struct BackgroundParams {
    width: u32,
    height: u32,
    radius: u32,
    // 1: objects are dark (the closing; key_max − (B − v)); 0: bright (the opening; v − B).
    dark: u32,
    key_max: u32,
    // 1: this window pass takes the max; 0: the min.
    take_max: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: BackgroundParams;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

fn pick(a: u32, b: u32) -> u32 {
    if (params.take_max == 1u) {
        return max(a, b);
    }
    return min(a, b);
}

// Entry point `window_rows`: dst[y, x] = the extreme of src[y, x − r ..= x + r], clamped to the row.
@compute @workgroup_size(64)
fn window_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    let w = params.width;
    if (i >= w * params.height) {
        return;
    }
    let x = i % w;
    let row = i - x;
    let lo = x - min(x, params.radius);
    let hi = x + min(w - 1u - x, params.radius);
    var v = src[row + lo];
    for (var k = lo + 1u; k <= hi; k = k + 1u) {
        v = pick(v, src[row + k]);
    }
    dst[i] = v;
}

// Entry point `window_cols`: dst[y, x] = the extreme of src[y − r ..= y + r, x], clamped to the
// column.
@compute @workgroup_size(64)
fn window_cols(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    let w = params.width;
    let h = params.height;
    if (i >= w * h) {
        return;
    }
    let y = i / w;
    let x = i % w;
    let lo = y - min(y, params.radius);
    let hi = y + min(h - 1u - y, params.radius);
    var v = src[lo * w + x];
    for (var k = lo + 1u; k <= hi; k = k + 1u) {
        v = pick(v, src[k * w + x]);
    }
    dst[i] = v;
}

// Entry point `subtract`: dst[i] = key_max − (B[i] − keys[i]) (dark) or keys[i] − B[i]
// (bright); `src` holds the keys, `back` the background B.
@group(0) @binding(3) var<storage, read> back: array<u32>;

@compute @workgroup_size(64)
fn subtract(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    if (i >= params.width * params.height) {
        return;
    }
    let v = src[i];
    let b = back[i];
    if (params.dark == 1u) {
        dst[i] = params.key_max - (b - v);
    } else {
        dst[i] = v - b;
    }
}
