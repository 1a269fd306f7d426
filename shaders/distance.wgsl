// Stage **distance**: squared Euclidean distance (u32) from each mask pixel to the nearest
// background pixel; equals `scipy.ndimage.distance_transform_edt(mask) ** 2`.
// CPU twin: src/cpu/distance.rs (one function per entry point, same names and argument order);
// host side: src/gpu/distance.rs.
//
// - exact separable transform: `edt_cols` (one invocation per column), `edt_rows` (one
//   invocation per row, integer lower envelope with `div_floor`). Class: *map* per pass.
// - jump flooding: `jfa_init`, `jfa_step` (ping-pong, 8 neighbours + self at step s, ties → the
//   smaller seed index), `jfa_finish`. Class: *Jacobi*.
// No background at all: distances to a phantom point at row -1, column 0 (as SciPy).
//
// Binding i of an entry point is parameter i of its twin; variables sharing a binding number
// belong to different entry points.

// "No seed" (twin: `cpu::NONE`).
const NONE: u32 = 0xffffffffu;
// Column without background in `edt_cols` (twin: `G_INF`).
const G_INF: u32 = 0xffffffffu;
const I32_MIN: i32 = -2147483648;

// Keep in sync with `DistUniforms` in src/gpu/distance.rs (twin: `cpu::distance::DistParams`).
struct DistParams {
    width: u32,
    height: u32,
    // JFA step of this pass (unused by the exact passes).
    step: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: DistParams;
// edt_cols, edt_rows, jfa_init, jfa_finish
@group(0) @binding(1) var<storage, read> mask: array<u32>;
// jfa_step
@group(0) @binding(1) var<storage, read> seed_in: array<u32>;
// edt_cols
@group(0) @binding(2) var<storage, read_write> g_out: array<u32>;
// edt_rows
@group(0) @binding(2) var<storage, read> g: array<u32>;
// jfa_init, jfa_step
@group(0) @binding(2) var<storage, read_write> seed_out: array<u32>;
// jfa_finish
@group(0) @binding(2) var<storage, read> seed: array<u32>;
// edt_rows, jfa_finish
@group(0) @binding(3) var<storage, read_write> d2: array<u32>;
// edt_rows: per-row scratch, `width` entries per row
@group(0) @binding(4) var<storage, read_write> v: array<u32>;
@group(0) @binding(5) var<storage, read_write> z: array<i32>;

fn flat_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.y * nwg.x * 64u + gid.x;
}

// Entry point `edt_cols`: one invocation per column x; g[y, x] = distance in rows to the
// nearest background pixel of column x, G_INF if the column has none.
@compute @workgroup_size(64)
fn edt_cols(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let x = flat_id(gid, nwg);
    let w = params.width;
    let h = params.height;
    if (x >= w) {
        return;
    }
    // downward: distance to the nearest background above (or at) y
    var run = G_INF;
    for (var y = 0u; y < h; y++) {
        let i = y * w + x;
        if (mask[i] == 0u) {
            run = 0u;
        } else if (run != G_INF) {
            run = run + 1u;
        }
        g_out[i] = run;
    }
    // upward: nearest background below
    run = G_INF;
    for (var y = h; y > 0u; y--) {
        let i = (y - 1u) * w + x;
        if (mask[i] == 0u) {
            run = 0u;
        } else if (run != G_INF) {
            run = run + 1u;
        }
        if (run < g_out[i]) {
            g_out[i] = run;
        }
    }
}

// floor(a / b) for b > 0 (twin: `div_floor`). The same value as the twin's
// `q = a / b; if a % b != 0 && a < 0 { q - 1 }`, computed with non-negative operands only:
// GLSL (wgpu's GL backend) leaves integer `%` with a negative operand undefined, and with the
// twin's form llvmpipe's GL driver got one pixel of a 257×131 exact transform wrong (WGSL,
// SPIR-V and Rust all truncate). For a < 0: floor(a / b) = -ceil(-a / b) = -((b - 1 - a) / b).
fn div_floor(a: i32, b: i32) -> i32 {
    if (a >= 0) {
        return a / b;
    }
    return -((b - 1 - a) / b);
}

// g(u)² of column u in row `row` (twin: the closure `f`).
fn f(row: u32, u: u32) -> i32 {
    let gu = i32(g[row + u]);
    return gu * gu;
}

// Entry point `edt_rows`: one invocation per row y; d2[y, x] = min_u (x - u)² + g(y, u)² over
// columns u with finite g. v (parabola apexes) and z (left ends of their intervals) are
// per-row scratch.
@compute @workgroup_size(64)
fn edt_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let y = flat_id(gid, nwg);
    let w = params.width;
    if (y >= params.height) {
        return;
    }
    let row = y * w;
    // Build the lower envelope of the parabolas of columns with finite g.
    var k: i32 = -1;
    for (var u = 0u; u < w; u++) {
        if (g[row + u] == G_INF) {
            continue;
        }
        loop {
            if (k < 0) {
                k = 0;
                v[row] = u;
                z[row] = I32_MIN;
                break;
            }
            let q = i32(v[row + u32(k)]);
            let ui = i32(u);
            // intersection s of parabolas q and u: first x where u is at least as good
            let s = div_floor(ui * ui - q * q + f(row, u) - f(row, u32(q)), 2 * (ui - q)) + 1;
            if (s <= z[row + u32(k)]) {
                k -= 1; // parabola q is hidden
                continue;
            }
            k += 1;
            v[row + u32(k)] = u;
            z[row + u32(k)] = s;
            break;
        }
    }
    if (k < 0) {
        // No column has background: the whole image is foreground (SciPy's phantom point).
        for (var x = 0u; x < w; x++) {
            let yy = y + 1u;
            d2[row + x] = yy * yy + x * x;
        }
        return;
    }
    var j = 0u;
    for (var x = 0u; x < w; x++) {
        while (j < u32(k) && z[row + j + 1u] <= i32(x)) {
            j += 1u;
        }
        let u = i32(v[row + j]);
        let dx = i32(x) - u;
        if (mask[row + x] == 0u) {
            d2[row + x] = 0u;
        } else {
            d2[row + x] = u32(dx * dx + f(row, u32(u)));
        }
    }
}

// Squared distance between pixel indices a and b (twin: `dist2`).
fn dist2(width: u32, a: u32, b: u32) -> u32 {
    let ay = i32(a / width);
    let ax = i32(a % width);
    let by = i32(b / width);
    let bx = i32(b % width);
    let dy = ay - by;
    let dx = ax - bx;
    return u32(dy * dy + dx * dx);
}

// Entry point `jfa_init`: background pixels seed themselves, mask pixels start without seed.
@compute @workgroup_size(64)
fn jfa_init(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= params.width * params.height) {
        return;
    }
    seed_out[i] = select(NONE, i, mask[i] == 0u);
}

// Entry point `jfa_step`: one jump-flooding pass at step `params.step`.
@compute @workgroup_size(64)
fn jfa_step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= params.width * params.height) {
        return;
    }
    let w = i32(params.width);
    let h = i32(params.height);
    let s = i32(params.step);
    let y = i32(i / params.width);
    let x = i32(i % params.width);
    var best = seed_in[i];
    var best_d = 0xffffffffu;
    if (best != NONE) {
        best_d = dist2(params.width, i, best);
    }
    for (var a = -1; a <= 1; a++) {
        for (var b = -1; b <= 1; b++) {
            let yy = y + a * s;
            let xx = x + b * s;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w) {
                continue;
            }
            let c = seed_in[u32(yy * w + xx)];
            if (c == NONE) {
                continue;
            }
            let d = dist2(params.width, i, c);
            if (d < best_d || (d == best_d && c < best)) {
                best = c;
                best_d = d;
            }
        }
    }
    seed_out[i] = best;
}

// Entry point `jfa_finish`: squared distance to the pixel's seed (0 on background; the phantom
// point at row -1, column 0 when no seed exists).
@compute @workgroup_size(64)
fn jfa_finish(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    let w = params.width;
    if (i >= w * params.height) {
        return;
    }
    if (mask[i] == 0u) {
        d2[i] = 0u;
    } else if (seed[i] == NONE) {
        let y = i / w + 1u;
        let x = i % w;
        d2[i] = y * y + x * x;
    } else {
        d2[i] = dist2(w, i, seed[i]);
    }
}
