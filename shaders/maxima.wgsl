// Stage **maxima**: marker images for `--markers regional` (regional maxima of d²) and
// `--markers hmax` (regional maxima of the reconstruction by dilation of f = isqrt(4·d²) under
// f + H), in the 8-connected graph of the fg pixels, border of width B cleared.
// CPU twin: src/cpu/maxima.rs (one function per entry point, same names, the rule in its module
// doc); host side: src/gpu/maxima.rs. Integers only.
//
// - `maxima_height` (*map*): f = fg ? isqrt(4·min(d2, D2_MAX)) : 0.
// - `maxima_reconstruct` (*Jacobi*, + atomicOr on `changed`): one geodesic dilation sweep,
//   r_out = min(f + H, max of r_in over the pixel and its fg 8-neighbours) on fg, 0 elsewhere.
// - `maxima_flag_init` (*map*): flag = 1 on fg pixels with a larger fg 8-neighbour.
// - `maxima_flag_spread` (*Jacobi*, + atomicOr on `changed`): the flag spreads to fg
//   8-neighbours of equal value.
// - `maxima_output` (*map*): markers = fg && flag == 0 && inside the border.
//
// Binding i of an entry point is parameter i of its twin; variables sharing a binding number
// belong to different entry points.

// Largest d2 the height distinguishes (twin: `D2_MAX`; 4·D2_MAX fits a u32).
const D2_MAX: u32 = 0x3fffffffu;
// Largest integer square root of a u32 (twin: `ISQRT_MAX`).
const ISQRT_MAX: u32 = 65535u;

// Keep in sync with `MaximaUniforms` in src/gpu/maxima.rs (twin: `cpu::maxima::MaximaParams`).
struct MaximaParams {
    width: u32,
    height: u32,
    // hmax height H in half-pixels.
    h_half: u32,
    // --exclude-border width B.
    border: u32,
    // The sweep's phase in its loop (0, 1, 2; GPU schedule only, see `sweep_runs`).
    phase: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: MaximaParams;

// every entry point
@group(0) @binding(1) var<storage, read> fg: array<u32>;

// maxima_height
@group(0) @binding(2) var<storage, read> d2: array<u32>;
// maxima_reconstruct
@group(0) @binding(2) var<storage, read> f_in: array<u32>;
// maxima_flag_init, maxima_flag_spread
@group(0) @binding(2) var<storage, read> v: array<u32>;
// maxima_output
@group(0) @binding(2) var<storage, read> flag_final: array<u32>;

// maxima_height
@group(0) @binding(3) var<storage, read_write> f_out: array<u32>;
// maxima_reconstruct
@group(0) @binding(3) var<storage, read> r_in: array<u32>;
// maxima_flag_init
@group(0) @binding(3) var<storage, read_write> flag: array<u32>;
// maxima_flag_spread
@group(0) @binding(3) var<storage, read> flag_in: array<u32>;
// maxima_output
@group(0) @binding(3) var<storage, read_write> markers: array<u32>;

// maxima_reconstruct
@group(0) @binding(4) var<storage, read_write> r_out: array<u32>;
// maxima_flag_spread
@group(0) @binding(4) var<storage, read_write> flag_out: array<u32>;

// maxima_reconstruct, maxima_flag_spread
@group(0) @binding(5) var<storage, read_write> changed: array<atomic<u32>, 4>;

// A loop's schedule (host: `src/gpu/sweeps.rs`; the same in every shader with a convergence
// loop). `changed` holds four words: three rotating "changed" flags and the count of sweeps
// that ran. A sweep of phase `ph` runs only when the sweep before it changed something (word
// `ph`), reports its own changes into word `(ph + 1) % 3` and clears word `(ph + 2) % 3` for
// the sweep after next; once a sweep changes nothing, every later one of the batch returns at
// once (both ping-pong buffers then hold the fixed point).
fn sweep_runs(first: bool) -> bool {
    let go = atomicLoad(&changed[params.phase]) != 0u;
    if (first) {
        atomicStore(&changed[(params.phase + 2u) % 3u], 0u);
        if (go) {
            atomicAdd(&changed[3], 1u);
        }
    }
    return go;
}

fn flat_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.y * nwg.x * 64u + gid.x;
}

// floor(sqrt(v)) exactly: a float estimate corrected by integer tests (twin: `isqrt`).
fn isqrt(v: u32) -> u32 {
    var s = min(u32(sqrt(f32(v))), ISQRT_MAX);
    while (s * s > v) {
        s -= 1u;
    }
    while (s < ISQRT_MAX && (s + 1u) * (s + 1u) <= v) {
        s += 1u;
    }
    return s;
}

// isqrt(4·d2), d2 clamped to D2_MAX (twin: `height`).
fn height(x: u32) -> u32 {
    return isqrt(4u * min(x, D2_MAX));
}

// Whether (y, x) lies inside the border (twin: `inside_border`).
fn inside_border(y: u32, x: u32) -> bool {
    let b = params.border;
    return y >= b && b < params.height - y && x >= b && b < params.width - x;
}

// Index of the neighbour (y + dy, x + dx), or NONE (0xffffffff) outside the image.
fn neighbour(y: u32, x: u32, dy: i32, dx: i32) -> u32 {
    let yy = i32(y) + dy;
    let xx = i32(x) + dx;
    if (yy < 0 || xx < 0 || u32(yy) >= params.height || u32(xx) >= params.width) {
        return 0xffffffffu;
    }
    return u32(yy) * params.width + u32(xx);
}

// Entry point `maxima_height`: f = fg ? height(d2) : 0.
@compute @workgroup_size(64)
fn maxima_height(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= params.width * params.height) {
        return;
    }
    var s = 0u;
    if (fg[i] != 0u) {
        s = height(d2[i]);
    }
    f_out[i] = s;
}

// Entry point `maxima_reconstruct`: r_out = min(f + H (saturating), max of r_in over the pixel
// and its fg 8-neighbours) on fg, 0 elsewhere; changed |= 1 where r_out != r_in.
@compute @workgroup_size(64)
fn maxima_reconstruct(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    let w = params.width;
    if (!sweep_runs(i == 0u) || i >= w * params.height) {
        return;
    }
    if (fg[i] == 0u) {
        r_out[i] = 0u;
        return;
    }
    let y = i / w;
    let x = i % w;
    var m = r_in[i];
    for (var dy = -1; dy <= 1; dy++) {
        for (var dx = -1; dx <= 1; dx++) {
            if (dy == 0 && dx == 0) {
                continue;
            }
            let j = neighbour(y, x, dy, dx);
            if (j != 0xffffffffu && fg[j] != 0u) {
                m = max(m, r_in[j]);
            }
        }
    }
    let fi = f_in[i];
    let cap = fi + min(params.h_half, 0xffffffffu - fi);
    let r = min(m, cap);
    r_out[i] = r;
    if (r != r_in[i]) {
        atomicOr(&changed[(params.phase + 1u) % 3u], 1u);
    }
}

// Entry point `maxima_flag_init`: flag = 1 on fg pixels with an fg 8-neighbour of larger v.
@compute @workgroup_size(64)
fn maxima_flag_init(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    let w = params.width;
    if (i >= w * params.height) {
        return;
    }
    var s = 0u;
    if (fg[i] != 0u) {
        let y = i / w;
        let x = i % w;
        let vi = v[i];
        for (var dy = -1; dy <= 1; dy++) {
            for (var dx = -1; dx <= 1; dx++) {
                if (dy == 0 && dx == 0) {
                    continue;
                }
                let j = neighbour(y, x, dy, dx);
                if (j != 0xffffffffu && fg[j] != 0u && v[j] > vi) {
                    s = 1u;
                }
            }
        }
    }
    flag[i] = s;
}

// Entry point `maxima_flag_spread`: flag_out = flag_in | flag_in of an fg 8-neighbour with equal
// v, on fg (0 elsewhere); changed |= 1 where flag_out != flag_in.
@compute @workgroup_size(64)
fn maxima_flag_spread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    let w = params.width;
    if (!sweep_runs(i == 0u) || i >= w * params.height) {
        return;
    }
    if (fg[i] == 0u) {
        flag_out[i] = 0u;
        return;
    }
    let y = i / w;
    let x = i % w;
    let vi = v[i];
    var s = flag_in[i];
    for (var dy = -1; dy <= 1; dy++) {
        for (var dx = -1; dx <= 1; dx++) {
            if (dy == 0 && dx == 0) {
                continue;
            }
            let j = neighbour(y, x, dy, dx);
            if (j != 0xffffffffu && fg[j] != 0u && v[j] == vi && flag_in[j] != 0u) {
                s = 1u;
            }
        }
    }
    flag_out[i] = s;
    if (s != flag_in[i]) {
        atomicOr(&changed[(params.phase + 1u) % 3u], 1u);
    }
}

// Entry point `maxima_output`: markers = 1 on fg pixels with flag == 0 inside the border.
@compute @workgroup_size(64)
fn maxima_output(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    let w = params.width;
    if (i >= w * params.height) {
        return;
    }
    let y = i / w;
    let x = i % w;
    markers[i] = select(0u, 1u, fg[i] != 0u && flag_final[i] == 0u && inside_border(y, x));
}
