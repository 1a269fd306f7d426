// Stage **smooth**: integer binomial smoothing of the gray keys. Class: *Jacobi* (each pass reads
// `src` and writes `dst`; the host records `passes` × (smooth_rows, smooth_cols)).
// CPU twin: src/cpu/smooth.rs (`smooth_rows`, `smooth_cols`, helper `blur3`); host side:
// src/gpu/smooth.rs. Each step: out = (a + 2b + c + 2) >> 2 over a pixel and its two neighbours
// along one axis, the edge pixel replicated (mode='nearest').

// Keep in sync with `SmoothUniforms` in src/gpu/smooth.rs (twin: `cpu::smooth::SmoothParams`).
struct SmoothParams {
    width: u32,
    height: u32,
    // Number of passes (the host's loop; unused by the passes themselves).
    passes: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: SmoothParams;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

// (a + 2b + c + 2) >> 2 exactly, without forming the sum (no wrap for any u32; twin: `blur3`).
fn blur3(a: u32, b: u32, c: u32) -> u32 {
    return (a >> 2u) + (b >> 1u) + (c >> 2u) + (((a & 3u) + 2u * (b & 1u) + (c & 3u) + 2u) >> 2u);
}

// Entry point `smooth_rows`: dst[y, x] = blur3(src[y, x-1], src[y, x], src[y, x+1]), the
// neighbours clamped to the row.
@compute @workgroup_size(64)
fn smooth_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    let w = params.width;
    if (i >= w * params.height) {
        return;
    }
    let x = i % w;
    let row = i - x;
    let l = x - min(x, 1u);
    let r = x + min(w - 1u - x, 1u);
    dst[i] = blur3(src[row + l], src[i], src[row + r]);
}

// Entry point `smooth_cols`: dst[y, x] = blur3(src[y-1, x], src[y, x], src[y+1, x]), the
// neighbours clamped to the column.
@compute @workgroup_size(64)
fn smooth_cols(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    let w = params.width;
    let h = params.height;
    if (i >= w * h) {
        return;
    }
    let y = i / w;
    let x = i % w;
    let u = y - min(y, 1u);
    let d = y + min(h - 1u - y, 1u);
    dst[i] = blur3(src[u * w + x], src[i], src[d * w + x]);
}
