// Stage **opening**: erosion and dilation passes of a 0/1 mask. Class: *Jacobi* (each pass reads
// `src` and writes `dst`; the host ping-pongs k erosions then k dilations; for k = 1, `open1`
// does both in one pass, each pixel eroding its own neighbourhood).
// CPU twin: src/cpu/opening.rs (`erode`, `dilate`, `open1`); host side: src/gpu/opening.rs.
// Pixels outside `rect` (inclusive bounds) count as background and are written 0.

// Keep in sync with `MorphUniforms` in src/gpu/opening.rs (twin: `cpu::opening::MorphParams`).
struct MorphParams {
    width: u32,
    height: u32,
    y0: u32,
    x0: u32,
    y1: u32,
    x1: u32,
    // 0 = cross, 1 = square.
    square: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: MorphParams;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;

fn rect_contains(y: u32, x: u32) -> bool {
    return y >= params.y0 && y <= params.y1 && x >= params.x0 && x <= params.x1;
}

// Value of the mask at (y + dy, x + dx), 0 outside `rect`.
fn tap(y: u32, x: u32, dy: i32, dx: i32) -> u32 {
    let yy = i32(y) + dy;
    let xx = i32(x) + dx;
    if (yy < 0 || xx < 0) {
        return 0u;
    }
    if (!rect_contains(u32(yy), u32(xx))) {
        return 0u;
    }
    return src[u32(yy) * params.width + u32(xx)];
}

// Whether the structuring element includes offset (dy, dx), for dy, dx ∈ {-1, 0, 1}.
fn in_structure(dy: i32, dx: i32) -> bool {
    return params.square != 0u || dy == 0 || dx == 0;
}

// Entry point `erode`: dst = 1 where every pixel of the structuring element is 1.
@compute @workgroup_size(64)
fn erode(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    if (i >= params.width * params.height) {
        return;
    }
    let y = i / params.width;
    let x = i % params.width;
    var v = 0u;
    if (rect_contains(y, x)) {
        v = 1u;
        for (var dy = -1; dy <= 1; dy++) {
            for (var dx = -1; dx <= 1; dx++) {
                if (in_structure(dy, dx) && tap(y, x, dy, dx) == 0u) {
                    v = 0u;
                }
            }
        }
    }
    dst[i] = v;
}

// Entry point `dilate`: dst = 1 where any pixel of the structuring element is 1.
@compute @workgroup_size(64)
fn dilate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    if (i >= params.width * params.height) {
        return;
    }
    let y = i / params.width;
    let x = i % params.width;
    var v = 0u;
    if (rect_contains(y, x)) {
        for (var dy = -1; dy <= 1; dy++) {
            for (var dx = -1; dx <= 1; dx++) {
                if (in_structure(dy, dx) && tap(y, x, dy, dx) != 0u) {
                    v = 1u;
                }
            }
        }
    }
    dst[i] = v;
}

// The erosion of `src` at (y + dy, x + dx) (`erode`'s value there; 0 outside `rect`).
fn eroded_at(y: u32, x: u32, dy: i32, dx: i32) -> u32 {
    let yy = i32(y) + dy;
    let xx = i32(x) + dx;
    if (yy < 0 || xx < 0 || !rect_contains(u32(yy), u32(xx))) {
        return 0u;
    }
    for (var ey = -1; ey <= 1; ey++) {
        for (var ex = -1; ex <= 1; ex++) {
            if (in_structure(ey, ex) && tap(u32(yy), u32(xx), ey, ex) == 0u) {
                return 0u;
            }
        }
    }
    return 1u;
}

// Entry point `open1`: the opening with k = 1, `dilate(erode(src))`, in one pass (the erosion
// recomputed around each pixel instead of written out and read back by a second pass).
@compute @workgroup_size(64)
fn open1(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    if (i >= params.width * params.height) {
        return;
    }
    let y = i / params.width;
    let x = i % params.width;
    var v = 0u;
    if (rect_contains(y, x) && src[i] != 0u) {
        for (var dy = -1; dy <= 1; dy++) {
            for (var dx = -1; dx <= 1; dx++) {
                if (v == 0u && in_structure(dy, dx) && eroded_at(y, x, dy, dx) != 0u) {
                    v = 1u;
                }
            }
        }
    }
    dst[i] = v;
}
