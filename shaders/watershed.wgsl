// Stage **watershed**: marker-based flooding of the altitude `a = -d²` within the mask,
// 4-connectivity, docs/design.md, stage 7 with floodseg's arrival refinement of the label tie rule.
// With `--flood intensity` the `d2` inputs hold `ws_altitude`'s gray-level keys instead
// (larger floods first, ≥ 1 on the mask, as d² is).
// CPU twin: src/cpu/watershed.rs (one function per entry point, same names and helper names);
// host side: src/gpu/watershed.rs. Class: *monotone relaxation*: costs by tiled sweeps
// (`ws_cost_tile`; `ws_cost` is the plain Jacobi sweep with the same fixed point), labels by
// Jacobi sweeps (double-buffered; identical iterates to `cpu::watershed::watershed_jacobi`).
//
// Entry points: `ws_altitude` (`--flood intensity`), `ws_start` (costs, label states and both
// loops' flags at their start), `ws_cost` (one cost sweep), `ws_cost_tile` (one sweep in
// tiles), `ws_label_tile`, `ws_label` (one best-predecessor sweep), `ws_output`.
//
// Packing (8 storage buffers per stage at most; the twin's `ws_label` takes 10): a cost is one
// `vec2<u32>` (x = m, y = hops; twin: `cost_m[i]`, `cost_h[i]`) and a pixel's label state is one
// `vec2<u32>` (x = label, y = pred; twin: `label[i]`, `pred[i]`). So the bindings follow the
// twin's parameters with each (m, hops) pair and each (label, pred) pair folded into one
// binding: `ws_start(params, markers, d2, cost, lp, cost_flags, label_flags)`, `ws_cost(params,
// mask, d2, c_in, c_out, changed)`, `ws_label(params, markers, mask, d2, cost, lp_in, lp_out,
// changed)`. `ws_output(params, lp, label)` unpacks the labels into a plain
// `u32` buffer (the twin rewrites `label` in place).
//
// Binding i of an entry point is parameter i of its twin (after the packing); variables sharing
// a binding number belong to different entry points.

// Unreached / no pixel / no label (twin: `cpu::NONE`).
const NONE: u32 = 0xffffffffu;
// Best predecessor not decided yet (twin: `cpu::watershed::PENDING`).
const PENDING: u32 = 0xfffffffeu;

// Keep in sync with `WsUniforms` in src/gpu/watershed.rs (twin: `cpu::watershed::WsParams`).
struct WsParams {
    width: u32,
    height: u32,
    // ws_altitude only (twin: `AltitudeParams`): 1 for dark objects, and the scale's largest key.
    alt_dark: u32,
    alt_key_max: u32,
    // The sweep's phase in its loop (0, 1, 2; GPU schedule only, see `cost_tile_mode`).
    phase: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: WsParams;
// ws_start, ws_label
@group(0) @binding(1) var<storage, read> markers: array<u32>;
// ws_altitude
@group(0) @binding(1) var<storage, read> mask_a: array<u32>;
@group(0) @binding(2) var<storage, read> keys_a: array<u32>;
@group(0) @binding(3) var<storage, read_write> alt_out: array<u32>;
// ws_cost
@group(0) @binding(1) var<storage, read> mask_c: array<u32>;
// ws_output
@group(0) @binding(1) var<storage, read> lp_final: array<vec2<u32>>;
// ws_start
@group(0) @binding(2) var<storage, read> d2_i: array<u32>;
// ws_cost
@group(0) @binding(2) var<storage, read> d2_c: array<u32>;
// ws_label
@group(0) @binding(2) var<storage, read> mask: array<u32>;
// ws_output
@group(0) @binding(2) var<storage, read_write> label_out: array<u32>;
// ws_start
@group(0) @binding(3) var<storage, read_write> cost_init: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read_write> lp_start: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read_write> start_cost_flags: array<u32>;
@group(0) @binding(6) var<storage, read_write> start_label_flags: array<u32>;
// ws_cost
@group(0) @binding(3) var<storage, read> c_in: array<vec2<u32>>;
// ws_label
@group(0) @binding(3) var<storage, read> d2: array<u32>;
// ws_cost
@group(0) @binding(4) var<storage, read_write> c_out: array<vec2<u32>>;
// ws_label
@group(0) @binding(4) var<storage, read> cost: array<vec2<u32>>;
// ws_cost
@group(0) @binding(5) var<storage, read_write> changed_c: array<atomic<u32>>;
// ws_label
@group(0) @binding(5) var<storage, read> lp_in: array<vec2<u32>>;
@group(0) @binding(6) var<storage, read_write> lp_out: array<vec2<u32>>;
@group(0) @binding(7) var<storage, read_write> changed: array<atomic<u32>>;

// A loop's schedule (host: `src/gpu/sweeps.rs`). The sweeps' `changed` binding holds four
// words: three rotating "changed" flags and the count of sweeps that ran. A sweep of phase
// `ph` runs only when the sweep before it changed something (word `ph`), reports its own changes
// into word `(ph + 1) % 3`, and clears word `(ph + 2) % 3` for the sweep after next; once a
// sweep changes nothing every later one of the batch returns at once (both ping-pong buffers
// then hold the fixed point). Each sweep is one dispatch, with no copy or clear between them.
// Tiled sweeps may also copy (`tile_mode`, shaders/tile_sweep.wgsl); the plain sweeps report
// only SWEEP_AGAIN, so for them a sweep runs exactly when its mode is TILE_RUN. Only sweeps that
// run count. The tiled sweeps' flag buffers go on with a word per tile in each of three rotating
// arrays (`tile_word`): in a sweep that runs, only the tiles asked for iterate, the others copy
// (twin: `run` and `next` of `ws_cost_tile`, `ws_label_tile`).
fn cost_tile_mode(first: bool) -> u32 {
    let mode = tile_mode(atomicLoad(&changed_c[params.phase]));
    if (first) {
        atomicStore(&changed_c[(params.phase + 2u) % 3u], 0u);
        if (mode == TILE_RUN) {
            atomicAdd(&changed_c[3], 1u);
        }
    }
    return mode;
}

fn label_tile_mode(first: bool) -> u32 {
    let mode = tile_mode(atomicLoad(&changed[params.phase]));
    if (first) {
        atomicStore(&changed[(params.phase + 2u) % 3u], 0u);
        if (mode == TILE_RUN) {
            atomicAdd(&changed[3], 1u);
        }
    }
    return mode;
}

// Whether neighbour `k` (up, left, right, down) of the tile pixel at `lid` lies in another
// tile (twin: `tile_edge`, which also drops neighbours outside the image).
fn across_tile(k: u32, lid: vec3<u32>) -> bool {
    switch k {
        case 0u: { return lid.y == 0u; }
        case 1u: { return lid.x == 0u; }
        case 2u: { return lid.x == TILE - 1u; }
        default: { return lid.y == TILE - 1u; }
    }
}

// Words of a loop's flag buffer before its tile flags (`gpu::sweeps::FLAG_WORDS`).
const FLAG_WORDS: u32 = 4u;

// Tiles across and in all (the tiled sweeps' workgroups; host: `gpu::watershed::tile_groups`).
fn tiles_x() -> u32 {
    return (params.width + TILE - 1u) / TILE;
}

fn tile_count() -> u32 {
    return tiles_x() * ((params.height + TILE - 1u) / TILE);
}

// The word of tile `t`'s flag for the sweep of phase `ph` (taken mod 3) in a tiled loop's flag
// buffer: FLAG_WORDS words, then three rotating arrays of a word per tile (`tile_count`). A
// sweep of phase `ph` runs the tiles whose word of phase `ph` is set, sets the words of phase
// `ph + 1` of the tiles its changes reach (its own when it did not settle) and clears its
// tile's word of phase `ph + 2`.
fn tile_word(ph: u32, t: u32) -> u32 {
    return FLAG_WORDS + (ph % 3u) * tile_count() + t;
}

// The tile across side `k` (up, left, right, down) of tile `t` (the side lies inside the
// image); `k` = 4 is `t` itself.
fn tile_across(k: u32, t: u32) -> u32 {
    switch k {
        case 0u: { return t - tiles_x(); }
        case 1u: { return t - 1u; }
        case 2u: { return t + 1u; }
        case 3u: { return t + tiles_x(); }
        default: { return t; }
    }
}

// What a tiled sweep's invocations gather in workgroup memory after the tile's iterations (so
// the tile reports with one atomic per word, not one per changed pixel): SWEEP_AGAIN and
// SWEEP_CHANGED (REPORT_BITS), and the tiles the next sweep must run — across side k,
// `ASK_UP << k`, and `ASK_SELF` (= `ASK_UP << 4`) for the tile itself.
const REPORT_BITS: u32 = 3u;
const ASK_UP: u32 = 16u;
const ASK_SELF: u32 = 256u;

fn flat_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.y * nwg.x * 64u + gid.x;
}

// `a` is a strictly smaller (better) cost than `b` (twin: `better`).
fn better(a: vec2<u32>, b: vec2<u32>) -> bool {
    return a.x > b.x || (a.x == b.x && a.y < b.y);
}

// Extend the cost of a neighbour onto a pixel of squared distance `d2p` (twin: `extend`).
fn extend(c: vec2<u32>, d2p: u32) -> vec2<u32> {
    if (c.y == NONE) {
        return vec2<u32>(0u, NONE); // UNREACHED
    }
    if (d2p < c.x) {
        return vec2<u32>(d2p, 0u); // strictly higher altitude: new level, hops reset
    }
    return vec2<u32>(c.x, c.y + 1u);
}

// The 4-neighbours of pixel `i` (up, left, right, down; NONE outside the image)
// (twin: `neighbours`).
fn neighbours(i: u32) -> array<u32, 4> {
    let w = params.width;
    let y = i / w;
    let x = i % w;
    return array<u32, 4>(
        select(NONE, i - w, y > 0u),
        select(NONE, i - 1u, x > 0u),
        select(NONE, i + 1u, x + 1u < w),
        select(NONE, i + w, y + 1u < params.height),
    );
}

// The flood key of gray key `k` for `--flood intensity` (twin: `altitude`): key_max − k + 1
// for dark objects, k + 1 for bright ones, saturating, k clamped to key_max.
fn altitude(key: u32) -> u32 {
    let k = min(key, params.alt_key_max);
    var a = k;
    if (params.alt_dark != 0u) {
        a = params.alt_key_max - k;
    }
    return a + select(1u, 0u, a == 0xffffffffu);
}

// Entry point `ws_altitude`: alt = mask ? altitude(key) : 0 (what the watershed floods instead
// of d² with `--flood intensity`).
@compute @workgroup_size(64)
fn ws_altitude(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= params.width * params.height) {
        return;
    }
    var a = 0u;
    if (mask_a[i] != 0u) {
        a = altitude(keys_a[i]);
    }
    alt_out[i] = a;
}

// Entry point `ws_start` (twin `ws_start`): markers start at (d², 0), other pixels unreached
// (twin `ws_init`); markers keep their label, everything else starts at NONE with no best
// predecessor yet (twin `ws_label_init`); both loops' flag buffers start with their first
// sweep to run (`gpu::sweeps::FLAGS_INIT`).
@compute @workgroup_size(64)
fn ws_start(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i < FLAG_WORDS) {
        let f = select(0u, 1u, i == 0u);
        start_cost_flags[i] = f;
        start_label_flags[i] = f;
    }
    // every tile runs in the first sweep, no tile is asked for by the others yet
    let tiles = tile_count();
    if (i < 3u * tiles) {
        let f = select(0u, 1u, i < tiles);
        start_cost_flags[FLAG_WORDS + i] = f;
        start_label_flags[FLAG_WORDS + i] = f;
    }
    if (i >= params.width * params.height) {
        return;
    }
    if (markers[i] != 0u) {
        cost_init[i] = vec2<u32>(d2_i[i], 0u);
        lp_start[i] = vec2<u32>(markers[i], NONE);
    } else {
        cost_init[i] = vec2<u32>(0u, NONE);
        lp_start[i] = vec2<u32>(NONE, PENDING);
    }
}

// The relaxed cost of mask pixel `i` given the neighbours' costs in `c_in` (twin: `relax_cost`).
fn relax_cost(i: u32) -> vec2<u32> {
    var best = c_in[i];
    var nb = neighbours(i);
    for (var k = 0u; k < 4u; k++) {
        let q = nb[k];
        if (q == NONE || mask_c[q] == 0u) {
            continue;
        }
        let c = extend(c_in[q], d2_c[i]);
        if (better(c, best)) {
            best = c;
        }
    }
    return best;
}

// Entry point `ws_cost`: one Jacobi sweep of the cost relaxation; `changed |= 1` on any change.
@compute @workgroup_size(64)
fn ws_cost(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (cost_tile_mode(i == 0u) != TILE_RUN || i >= params.width * params.height) {
        return;
    }
    let old = c_in[i];
    var c = old;
    if (mask_c[i] != 0u) {
        c = relax_cost(i);
    }
    if (any(c != old)) {
        atomicOr(&changed_c[(params.phase + 1u) % 3u], 1u);
    }
    c_out[i] = c;
}

// The halo'd side of a tile of `ws_cost_tile` (TILE, TILE_ITERS, the report bits and
// `tile_mode`: shaders/tile_sweep.wgsl, appended to this module).
const TH: u32 = 18u;

// ws_cost_tile: the tile and its halo, the tile's "changed in this iteration" flag, and that
// flag made uniform for the loop's exit.
var<workgroup> t_cost: array<vec2<u32>, 324>;
var<workgroup> t_flag: atomic<u32>;
var<workgroup> t_more: u32;
// What the sweep does (`cost_tile_mode`, `label_tile_mode`), made uniform.
var<workgroup> t_go: u32;

// Entry point `ws_cost_tile` (twin: `ws_cost_tile`): one sweep in tiles. A TILE × TILE
// workgroup loads its tile and one-pixel halo from `c_in` into workgroup memory, runs Jacobi
// iterations on the tile (halo fixed) until one changes nothing or TILE_ITERS have run, writes
// the tile to `c_out`; reports SWEEP_CHANGED when any output differs from the input and
// SWEEP_AGAIN when a tile did not settle or an edge pixel's new cost improves a mask neighbour
// in another tile (twin: `ws_cost_tile`), asking the next sweep to run that tile (its own when
// it did not settle). Dispatched as (1, tiles across, tiles down): the tile is (wid.y, wid.z);
// every workgroup returns at once when the sweep does not run, and copies its tile when the
// sweep only copies or nothing asked for the tile (`t_go`, `cost_tile_mode`, `tile_word`).
@compute @workgroup_size(16, 16)
fn ws_cost_tile(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let tile = wid.z * tiles_x() + wid.y;
    if (li == 0u) {
        var m = cost_tile_mode(wid.y == 0u && wid.z == 0u);
        if (m == TILE_RUN) {
            // a tile nothing asked for holds a fixed point of its iterations: it copies
            if (atomicLoad(&changed_c[tile_word(params.phase, tile)]) == 0u) {
                m = TILE_COPY;
            }
            atomicStore(&changed_c[tile_word(params.phase + 2u, tile)], 0u);
        }
        t_go = m;
    }
    let mode = workgroupUniformLoad(&t_go);
    if (mode == TILE_SKIP) {
        return;
    }
    let w = params.width;
    let h = params.height;
    let x0 = wid.y * TILE;
    let y0 = wid.z * TILE;
    if (mode == TILE_COPY) {
        let cx = x0 + lid.x;
        let cy = y0 + lid.y;
        if (cx < w && cy < h) {
            c_out[cy * w + cx] = c_in[cy * w + cx];
        }
        return;
    }
    for (var k = li; k < TH * TH; k += TILE * TILE) {
        let gx = i32(x0 + k % TH) - 1;
        let gy = i32(y0 + k / TH) - 1;
        var c = vec2<u32>(0u, NONE);
        if (gx >= 0 && gy >= 0 && u32(gx) < w && u32(gy) < h) {
            c = c_in[u32(gy) * w + u32(gx)];
        }
        t_cost[k] = c;
    }
    if (li == 0u) {
        atomicStore(&t_flag, 0u);
    }
    let x = x0 + lid.x;
    let y = y0 + lid.y;
    let inside = x < w && y < h;
    let i = y * w + x;
    let own = (lid.y + 1u) * TH + lid.x + 1u;
    var m = false;
    var d2p = 0u;
    var nm = array<bool, 4>(false, false, false, false);
    if (inside) {
        m = mask_c[i] != 0u;
        d2p = d2_c[i];
        nm[0] = y > 0u && mask_c[i - w] != 0u;
        nm[1] = x > 0u && mask_c[i - 1u] != 0u;
        nm[2] = x + 1u < w && mask_c[i + 1u] != 0u;
        nm[3] = y + 1u < h && mask_c[i + w] != 0u;
    }
    let offs = array<u32, 4>(own - TH, own - 1u, own + 1u, own + TH);
    workgroupBarrier();
    let start = t_cost[own];
    var it = 0u;
    var more = 0u;
    loop {
        var c = t_cost[own];
        if (m) {
            for (var k = 0u; k < 4u; k++) {
                if (nm[k]) {
                    let e = extend(t_cost[offs[k]], d2p);
                    if (better(e, c)) {
                        c = e;
                    }
                }
            }
        }
        workgroupBarrier();
        if (any(c != t_cost[own])) {
            t_cost[own] = c;
            atomicStore(&t_flag, 1u);
        }
        workgroupBarrier();
        if (li == 0u) {
            t_more = atomicExchange(&t_flag, 0u);
        }
        it += 1u;
        more = workgroupUniformLoad(&t_more);
        if (more == 0u || it >= TILE_ITERS) {
            break;
        }
    }
    if (inside) {
        let c = t_cost[own];
        if (any(c != start)) {
            var f = SWEEP_CHANGED;
            let js = array<u32, 4>(i - w, i - 1u, i + 1u, i + w);
            for (var k = 0u; k < 4u; k++) {
                // the halo holds the neighbour's input cost
                if (nm[k] && across_tile(k, lid) && better(extend(c, d2_c[js[k]]), t_cost[offs[k]])) {
                    f |= SWEEP_AGAIN | (ASK_UP << k);
                }
            }
            atomicOr(&t_flag, f); // 0 since the loop's last exchange
        }
        c_out[i] = c;
    }
    workgroupBarrier();
    if (li == 0u) {
        // stopped by TILE_ITERS before settling: again, this tile
        let f = atomicLoad(&t_flag) | select(0u, SWEEP_AGAIN | ASK_SELF, more != 0u);
        let report = (params.phase + 1u) % 3u;
        if ((f & REPORT_BITS) != 0u) {
            atomicOr(&changed_c[report], f & REPORT_BITS);
        }
        for (var k = 0u; k < 5u; k++) {
            if ((f & (ASK_UP << k)) != 0u) {
                atomicStore(&changed_c[tile_word(report, tile_across(k, tile))], 1u);
            }
        }
    }
}

// ws_label_tile: the tile's label states, its "changed in this iteration" flag and that flag
// made uniform; the tile's origin (NONE in `ws_label`: no tile).
var<workgroup> t_lp: array<vec2<u32>, 256>;
var<workgroup> t_lflag: atomic<u32>;
var<workgroup> t_lmore: u32;
var<private> tile_x0: u32;
var<private> tile_y0: u32;

// The label state of pixel `j`: the tile's latest in `ws_label_tile` when `j` lies in the
// tile, else the sweep's input (twin: the working copy `ws_label_tile` reads).
fn lp_get(j: u32) -> vec2<u32> {
    let jx = j % params.width;
    let jy = j / params.width;
    if (jx >= tile_x0 && jx - tile_x0 < TILE && jy >= tile_y0 && jy - tile_y0 < TILE) {
        return t_lp[(jy - tile_y0) * TILE + (jx - tile_x0)];
    }
    return lp_in[j];
}

// Compare the arrival of two equal-cost predecessors `a0` and `b0` by walking their chains of
// best predecessors (`lp_in[·].y`) in lockstep: the first pair of different costs decides, a
// chain that reaches its marker first arrived first, chains that meet are equal. Returns -1
// (a first), 0 (equal), 1 (b first) (twin: `arrival_order`). Costs strictly decrease along a
// chain, so the walk ends; the pixel count caps it anyway (never reached).
fn arrival_order(a0: u32, b0: u32) -> i32 {
    var a = a0;
    var b = b0;
    let n = params.width * params.height;
    for (var step = 0u; step < n; step++) {
        if (a == b) {
            return 0;
        }
        let ca = cost[a];
        let cb = cost[b];
        if (better(ca, cb)) {
            return -1;
        }
        if (better(cb, ca)) {
            return 1;
        }
        let na = lp_get(a).y;
        let nb = lp_get(b).y;
        if (na == NONE && nb == NONE) {
            return 0;
        }
        if (na == NONE) {
            return -1;
        }
        if (nb == NONE) {
            return 1;
        }
        a = na;
        b = nb;
    }
    return 0;
}

// Which of the 4-neighbours `nb` of reached mask pixel `i` are its predecessors — those whose
// extended cost equals the pixel's cost: bit k for `nb[k]` (GPU only: the test the twin's
// `preds_decided` and `relax_pred` make on every call, made once per sweep, as the costs are
// final in the label loop; a label iteration then reads only the predecessors' states).
fn pred_bits(i: u32, nb: array<u32, 4>) -> u32 {
    let own = cost[i];
    var bits = 0u;
    for (var k = 0u; k < 4u; k++) {
        let q = nb[k];
        if (q == NONE || mask[q] == 0u) {
            continue;
        }
        let cq = cost[q];
        if (cq.y != NONE && all(extend(cq, d2[i]) == own)) {
            bits |= 1u << k;
        }
    }
    return bits;
}

// Whether every predecessor of a mask pixel has decided its own (twin: `preds_decided`):
// `nb` its 4-neighbours, `bits` its predecessors among them (`pred_bits`), read from the
// sweep's input (`ws_label_tile` asks this of the predecessors outside its tile only, once a
// sweep, and `tile_preds_decided` of the others).
fn preds_decided(nb: array<u32, 4>, bits: u32) -> bool {
    for (var k = 0u; k < 4u; k++) {
        if ((bits & (1u << k)) != 0u && lp_in[nb[k]].y == PENDING) {
            return false;
        }
    }
    return true;
}

// Whether the predecessors `near_bits` (in the tile; see `preds_decided`) of the tile pixel at
// tile index `li` have decided, from the tile's latest states (a loop over the set bits).
fn tile_preds_decided(near_bits: u32, li: u32) -> bool {
    let offs = array<u32, 4>(li - TILE, li - 1u, li + 1u, li + TILE);
    var rest = near_bits;
    loop {
        if (rest == 0u) {
            break;
        }
        let k = firstTrailingBit(rest);
        rest &= rest - 1u;
        if (t_lp[offs[k]].y == PENDING) {
            return false;
        }
    }
    return true;
}

// The relaxed best predecessor of a reached non-marker mask pixel (twin: `relax_pred`): among
// its predecessors (`bits` of its 4-neighbours `nb`, see `pred_bits`) the smallest cost(q),
// then the earliest arrival (both decided by `arrival_order`), then the smallest label, then
// the smallest index. NONE when it has none.
fn relax_pred(nb: array<u32, 4>, bits: u32) -> u32 {
    if (bits == 0u) {
        return NONE;
    }
    var best = nb[firstTrailingBit(bits)];
    // The other predecessors in the same order, as a loop over the set bits: one chain walk in
    // the compiled code instead of three unrolled ones (a software rasterizer runs every copy),
    // and no trip for a neighbour that is not a predecessor.
    var rest = bits & (bits - 1u);
    loop {
        if (rest == 0u) {
            break;
        }
        let q = nb[firstTrailingBit(rest)];
        rest &= rest - 1u;
        let order = arrival_order(q, best);
        let lq = lp_get(q).x;
        let lb = lp_get(best).x;
        if (order < 0 || (order == 0 && (lq < lb || (lq == lb && q < best)))) {
            best = q;
        }
    }
    return best;
}

// Entry point `ws_label` (twin: `ws_label`): one Jacobi sweep of the best-predecessor
// relaxation. An undecided (`PENDING`) non-marker mask pixel decides once all its predecessors
// have, so the chains it compares are final and each pixel walks them once; unreached pixels
// decide on (NONE, NONE). `changed |= 1` when a pixel decides.
@compute @workgroup_size(64)
fn ws_label(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (label_tile_mode(i == 0u) != TILE_RUN || i >= params.width * params.height) {
        return;
    }
    tile_x0 = NONE;
    tile_y0 = NONE;
    let old = lp_in[i];
    var lp = old;
    if (markers[i] == 0u && mask[i] != 0u && old.y == PENDING) {
        let nb = neighbours(i);
        let bits = pred_bits(i, nb);
        if (cost[i].y == NONE) {
            lp = vec2<u32>(NONE, NONE);
        } else if (preds_decided(nb, bits)) {
            let q = relax_pred(nb, bits);
            var l = NONE;
            if (q != NONE) {
                l = lp_in[q].x;
            }
            lp = vec2<u32>(l, q);
        }
    }
    if (any(lp != old)) {
        atomicOr(&changed[(params.phase + 1u) % 3u], 1u);
    }
    lp_out[i] = lp;
}

// Entry point `ws_label_tile` (twin: `ws_label_tile`): one sweep of the best-predecessor
// relaxation in tiles, as `ws_cost_tile` does the costs: a TILE × TILE workgroup keeps its
// tile's label states in workgroup memory and runs `ws_label`'s rule as Jacobi iterations
// (everything outside the tile read from `lp_in`, see `lp_get`) until one changes nothing or
// TILE_ITERS have run; reports SWEEP_CHANGED when any output differs from the input and
// SWEEP_AGAIN when a tile did not settle or an edge pixel decided while a neighbour in another
// tile that has it as a predecessor is undecided (twin: `ws_label_tile`), asking the next
// sweep to run that tile as `ws_cost_tile` does. Dispatched like `ws_cost_tile`: the tile is
// (wid.y, wid.z); copies or returns like it (`label_tile_mode`, `tile_word`).
@compute @workgroup_size(16, 16)
fn ws_label_tile(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    let tile = wid.z * tiles_x() + wid.y;
    if (li == 0u) {
        var m = label_tile_mode(wid.y == 0u && wid.z == 0u);
        if (m == TILE_RUN) {
            // a tile nothing asked for holds a fixed point of its iterations: it copies
            if (atomicLoad(&changed[tile_word(params.phase, tile)]) == 0u) {
                m = TILE_COPY;
            }
            atomicStore(&changed[tile_word(params.phase + 2u, tile)], 0u);
        }
        t_go = m;
    }
    let mode = workgroupUniformLoad(&t_go);
    if (mode == TILE_SKIP) {
        return;
    }
    tile_x0 = wid.y * TILE;
    tile_y0 = wid.z * TILE;
    let x = tile_x0 + lid.x;
    let y = tile_y0 + lid.y;
    let inside = x < params.width && y < params.height;
    let i = y * params.width + x;
    if (mode == TILE_COPY) {
        if (inside) {
            lp_out[i] = lp_in[i];
        }
        return;
    }
    var start = vec2<u32>(NONE, NONE);
    var candidate = false;
    // What the iterations read and never change: the pixel's neighbours, which of them are its
    // predecessors and lie in the tile, and whether it was reached.
    var nb = array<u32, 4>(NONE, NONE, NONE, NONE);
    var bits = 0u;
    var near = 0u;
    var unreached = false;
    if (inside) {
        start = lp_in[i];
        candidate = markers[i] == 0u && mask[i] != 0u && start.y == PENDING;
        if (candidate) {
            nb = neighbours(i);
            unreached = cost[i].y == NONE;
            if (!unreached) {
                bits = pred_bits(i, nb);
            }
            for (var k = 0u; k < 4u; k++) {
                if (!across_tile(k, lid)) {
                    near |= 1u << k;
                }
            }
            // A predecessor in another tile is read from the sweep's input, which the
            // iterations do not change: one still undecided there keeps this pixel undecided
            // for the whole sweep (so it is no candidate now), and the iterations only look at
            // the predecessors in the tile.
            if (!preds_decided(nb, bits & ~near)) {
                candidate = false;
            }
        }
    }
    let near_bits = bits & near;
    t_lp[li] = start;
    if (li == 0u) {
        atomicStore(&t_lflag, 0u);
    }
    workgroupBarrier();
    var it = 0u;
    var more = 0u;
    loop {
        let old = t_lp[li];
        var lp = old;
        if (candidate && old.y == PENDING) {
            if (unreached) {
                lp = vec2<u32>(NONE, NONE);
            } else if (tile_preds_decided(near_bits, li)) {
                let q = relax_pred(nb, bits);
                var l = NONE;
                if (q != NONE) {
                    l = lp_get(q).x;
                }
                lp = vec2<u32>(l, q);
            }
        }
        workgroupBarrier();
        if (any(lp != old)) {
            t_lp[li] = lp;
            atomicStore(&t_lflag, 1u);
        }
        workgroupBarrier();
        if (li == 0u) {
            t_lmore = atomicExchange(&t_lflag, 0u);
        }
        it += 1u;
        more = workgroupUniformLoad(&t_lmore);
        if (more == 0u || it >= TILE_ITERS) {
            break;
        }
    }
    if (inside) {
        let lp = t_lp[li];
        if (any(lp != start)) {
            var f = SWEEP_CHANGED;
            let ci = cost[i];
            var nb = neighbours(i);
            for (var k = 0u; k < 4u; k++) {
                let j = nb[k];
                if (j == NONE || !across_tile(k, lid)) {
                    continue;
                }
                // j waits for i: undecided (its input state), and i is one of its predecessors
                let waits = markers[j] == 0u && mask[j] != 0u && lp_in[j].y == PENDING;
                if (waits && ci.y != NONE && all(extend(ci, d2[j]) == cost[j])) {
                    f |= SWEEP_AGAIN | (ASK_UP << k);
                }
            }
            atomicOr(&t_lflag, f); // 0 since the loop's last exchange
        }
        lp_out[i] = lp;
    }
    workgroupBarrier();
    if (li == 0u) {
        // stopped by TILE_ITERS before settling: again, this tile
        let f = atomicLoad(&t_lflag) | select(0u, SWEEP_AGAIN | ASK_SELF, more != 0u);
        let report = (params.phase + 1u) % 3u;
        if ((f & REPORT_BITS) != 0u) {
            atomicOr(&changed[report], f & REPORT_BITS);
        }
        for (var k = 0u; k < 5u; k++) {
            if ((f & (ASK_UP << k)) != 0u) {
                atomicStore(&changed[tile_word(report, tile_across(k, tile))], 1u);
            }
        }
    }
}

// Entry point `ws_output`: NONE (unreached or outside the mask) → 0; unpacks the labels of
// `lp` into `label` (the twin rewrites `label` in place).
@compute @workgroup_size(64)
fn ws_output(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (i >= params.width * params.height) {
        return;
    }
    let l = lp_final[i].x;
    label_out[i] = select(l, 0u, l == NONE);
}
