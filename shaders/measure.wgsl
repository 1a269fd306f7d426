// Stage **measure**: per-object integer sums (count, Σy, Σx, Σy², Σx², Σxy, Σkey, min/max of y
// and x) from which `crate::measure::props` derives regionprops. Class: *order-free reduction*
// (`atomicAdd` with carries, `atomicMin`, `atomicMax` — the final words are the same in any
// order).
// CPU twin: src/cpu/measure.rs (`measure_sums`); host side: src/gpu/measure.rs.
//
// `sums` holds one record of `WORDS` u32s per object (label l at record l − 1, from word
// `sums_at` on; before it, with `sums_at` = width × height, the labels), laid out as in
// `gpu::measure::{COUNT, SUM_Y, …}`: each 64-bit sum is a (lo, hi) pair of words, then min_y,
// min_x, max_y, max_x. The host initialises the record (sums 0, minima 0xffffffff, maxima 0).
// Σkey is always summed; for float images the host drops it and sums the float values itself
// (in f64, raster order, as the twin does) — floats cannot be summed exactly here.
//
// Each invocation takes `CHUNK` consecutive pixels in raster order and accumulates runs of one
// label locally in 64-bit (vec2<u32>) sums, flushing a run with one atomic per word: objects are
// few and pixels many, so this cuts the contention on the global atomics by up to CHUNK×.
// Products are full 32×32→64-bit, so any image size is exact.

// Keep in sync with `MeasureUniforms` in src/gpu/measure.rs.
struct MeasureParams {
    width: u32,
    height: u32,
    n_objects: u32,
    // Where the records begin in `sums`: 0, or width × height when the pass also copies every
    // label into sums[i] (one buffer, one copy home for both).
    sums_at: u32,
}

// Record layout (keep in sync with src/gpu/measure.rs).
const WORDS: u32 = 18u;
const COUNT: u32 = 0u;
const SUM_Y: u32 = 2u;
const SUM_X: u32 = 4u;
const SUM_YY: u32 = 6u;
const SUM_XX: u32 = 8u;
const SUM_XY: u32 = 10u;
const SUM_KEY: u32 = 12u;
const MIN_Y: u32 = 14u;
const MIN_X: u32 = 15u;
const MAX_Y: u32 = 16u;
const MAX_X: u32 = 17u;

// Pixels per invocation (keep in sync with `CHUNK` in src/gpu/measure.rs).
const CHUNK: u32 = 16u;

@group(0) @binding(0) var<uniform> params: MeasureParams;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> keys: array<u32>;
@group(0) @binding(3) var<storage, read_write> sums: array<atomic<u32>>;

// a + b in 64 bits, (lo, hi) pairs.
fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// a · b as a 64-bit (lo, hi) pair, from 16-bit halves.
fn mul64(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xffffu;
    let a1 = a >> 16u;
    let b0 = b & 0xffffu;
    let b1 = b >> 16u;
    var r = vec2<u32>(a0 * b0, a1 * b1);
    let m0 = a0 * b1;
    let m1 = a1 * b0;
    r = add64(r, vec2<u32>(m0 << 16u, m0 >> 16u));
    r = add64(r, vec2<u32>(m1 << 16u, m1 >> 16u));
    return r;
}

// sums[w..w+2] += v (64 bits): the low word with atomicAdd, and its carry with the high word.
// Exact in any order: the high word receives every wrap of the low word.
fn flush64(w: u32, v: vec2<u32>) {
    var hi = v.y;
    if (v.x != 0u) {
        let old = atomicAdd(&sums[w], v.x);
        if (old + v.x < old) {
            hi = hi + 1u;
        }
    }
    if (hi != 0u) {
        atomicAdd(&sums[w + 1u], hi);
    }
}

// Entry point `measure_sums`: pixels [t·CHUNK, t·CHUNK + CHUNK) of invocation t. Labels 0 and
// labels > n_objects are skipped, as in the twin.
@compute @workgroup_size(64)
fn measure_sums(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.y * nwg.x * 64u + gid.x;
    let n = params.width * params.height;
    if (t >= (n + CHUNK - 1u) / CHUNK) {
        return;
    }
    let start = t * CHUNK;
    let end = min(start + CHUNK, n);
    let w = params.width;

    var cur = 0u; // label of the open run, 0 = none
    var count = 0u;
    var sy = vec2<u32>(0u, 0u);
    var sx = vec2<u32>(0u, 0u);
    var syy = vec2<u32>(0u, 0u);
    var sxx = vec2<u32>(0u, 0u);
    var sxy = vec2<u32>(0u, 0u);
    var skey = vec2<u32>(0u, 0u);
    var min_y = 0xffffffffu;
    var min_x = 0xffffffffu;
    var max_y = 0u;
    var max_x = 0u;

    for (var i = start; i <= end; i = i + 1u) {
        var l = 0u;
        if (i < end) {
            l = labels[i];
            if (params.sums_at != 0u) {
                atomicStore(&sums[i], l);
            }
            if (l > params.n_objects) {
                l = 0u;
            }
        }
        if (l != cur || i == end) {
            if (cur != 0u) {
                let r = params.sums_at + (cur - 1u) * WORDS;
                atomicAdd(&sums[r + COUNT], count);
                flush64(r + SUM_Y, sy);
                flush64(r + SUM_X, sx);
                flush64(r + SUM_YY, syy);
                flush64(r + SUM_XX, sxx);
                flush64(r + SUM_XY, sxy);
                flush64(r + SUM_KEY, skey);
                atomicMin(&sums[r + MIN_Y], min_y);
                atomicMin(&sums[r + MIN_X], min_x);
                atomicMax(&sums[r + MAX_Y], max_y);
                atomicMax(&sums[r + MAX_X], max_x);
            }
            cur = l;
            count = 0u;
            sy = vec2<u32>(0u, 0u);
            sx = vec2<u32>(0u, 0u);
            syy = vec2<u32>(0u, 0u);
            sxx = vec2<u32>(0u, 0u);
            sxy = vec2<u32>(0u, 0u);
            skey = vec2<u32>(0u, 0u);
            min_y = 0xffffffffu;
            min_x = 0xffffffffu;
            max_y = 0u;
            max_x = 0u;
        }
        if (cur == 0u) {
            continue;
        }
        let y = i / w;
        let x = i % w;
        count = count + 1u;
        sy = add64(sy, vec2<u32>(y, 0u));
        sx = add64(sx, vec2<u32>(x, 0u));
        syy = add64(syy, mul64(y, y));
        sxx = add64(sxx, mul64(x, x));
        sxy = add64(sxy, mul64(x, y));
        skey = add64(skey, vec2<u32>(keys[i], 0u));
        min_y = min(min_y, y);
        min_x = min(min_x, x);
        max_y = max(max_y, y);
        max_x = max(max_x, x);
    }
}
