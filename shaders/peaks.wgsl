// Stage **peaks**: `skimage.feature.peak_local_max(dist, labels=mask, min_distance=m,
// footprint=np.ones((s, s)), exclude_border=B)` as parallel passes (docs/design.md, stage 5):
// B sets the ROI's border (`peaks_bounds`), m the spacing (`peaks_space`).
// CPU twin: src/cpu/peaks.rs (one function per entry point, same names, bindings in the order of
// the twin's parameters); host side: src/gpu/peaks.rs.
//
// - `peaks_bounds` (*order-free reduction*, atomicMin/atomicMax): ROI + min(d2) into `bounds`
//   = [y0, x0, y1, x1, dmin], initialised by the host to BOUNDS_INIT. The ROI never leaves the
//   device: every later pass reads it from the `bounds` storage buffer.
// - `peaks_max_rows` (*map*): the window's row maxima.
// - `peaks_candidates` (*map* + atomicOr on `flag`): takes each pixel's window maximum over the
//   row maxima of its column (twin `window_max_cols`; no image of its own) and decides
//   `all_are_candidates` itself from `bounds`.
// - `peaks_isolated_open` (*map*; twin `peaks_isolated_open`: the twin's "trivial image"
//   opening, `cpu::opening::erode` / `dilate` with the cross and `rect` = the ROI read from
//   `bounds`, then `peaks_isolated`): always dispatched; it overwrites `state` only when
//   `flag == 0` and not `all_are_candidates` (the twin's host-side condition, decided here on
//   the device), computing the opening around each pixel it looks at instead of in passes of
//   its own. Its extra bindings are `flag` and the spacing loop's flag buffer, which its first
//   invocation sets to the loop's start (`gpu::sweeps::FLAGS_INIT`), so the loop needs no
//   staged write.
// - `peaks_space_tile` (*Jacobi* in tiles, + atomicOr on `changed`): one sweep of the spacing
//   walk, each 16 × 16 tile running rounds in workgroup memory until it settles, as the
//   watershed's tiled sweeps do (`peaks_space` is one plain round with the same fixed point). The
//   states are numbered so that the finished walk is the stage's 0/1 output (kept 1, no
//   candidate or rejected 0), so there is no output pass.
//
// Binding i of an entry point is parameter i of its twin; variables sharing a binding number
// belong to different entry points.

// "No value" (twin: `cpu::NONE`).
const NONE: u32 = 0xffffffffu;
// Candidate states (twin: `STATE_*`).
const STATE_NONE: u32 = 0u;
const STATE_KEPT: u32 = 1u;
const STATE_UNDECIDED: u32 = 2u;
const STATE_REJECTED: u32 = STATE_NONE;

// Keep in sync with `PeaksUniforms` in src/gpu/peaks.rs (twin: `cpu::peaks::PeaksParams`).
struct PeaksParams {
    width: u32,
    height: u32,
    // min_distance m: the spacing of kept peaks.
    min_distance: u32,
    // Footprint size s (an s×s box), at least 1.
    footprint: u32,
    // exclude_border B: the ROI is rows B..H-B, columns B..W-B.
    border: u32,
    // The spacing round's phase in its loop (0, 1, 2; GPU schedule only, see `space_tile_mode`).
    phase: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: PeaksParams;

// peaks_bounds, peaks_max_rows, peaks_candidates, peaks_isolated
@group(0) @binding(1) var<storage, read> mask: array<u32>;
// peaks_space
@group(0) @binding(1) var<storage, read> d2_space: array<u32>;

// peaks_bounds, peaks_max_rows, peaks_candidates, peaks_isolated
@group(0) @binding(2) var<storage, read> d2: array<u32>;
// peaks_space
@group(0) @binding(2) var<storage, read> state_in: array<u32>;

// The bounds buffer of every pass that binds one: a word the stage leaves alone (the GPU
// backend keeps the threshold's mask count there, so that one staged write prepares both), then
// [y0, x0, y1, x1, dmin] from word BOUNDS_AT on (host: `gpu::peaks::BOUNDS_BUFFER_INIT`).
const BOUNDS_AT: u32 = 1u;
// peaks_bounds
@group(0) @binding(3) var<storage, read_write> bounds_acc: array<atomic<u32>, 6>;
// peaks_max_rows
@group(0) @binding(3) var<storage, read> bounds_rows: array<u32>;
// peaks_candidates
@group(0) @binding(3) var<storage, read> hmax_in: array<u32>;
// peaks_isolated_open
@group(0) @binding(3) var<storage, read> bounds_io: array<u32>;
// peaks_space
@group(0) @binding(3) var<storage, read_write> state_out: array<u32>;

// peaks_max_rows
@group(0) @binding(4) var<storage, read_write> hmax_out: array<u32>;
// peaks_bounds: the candidates' flag, zeroed here for `peaks_candidates`
@group(0) @binding(4) var<storage, read_write> flag_zero: u32;
// peaks_candidates
@group(0) @binding(4) var<storage, read> bounds: array<u32>;
// peaks_space
@group(0) @binding(4) var<storage, read_write> changed: array<atomic<u32>, 4>;

// A loop's schedule (host: `src/gpu/sweeps.rs`; the same in every shader with a convergence
// loop). `changed` holds four words: three rotating "changed" flags and the count of sweeps
// that ran. A sweep of phase `ph` runs only when the sweep before it changed something (word
// `ph`), reports its own changes into word `(ph + 1) % 3` and clears word `(ph + 2) % 3` for
// the sweep after next; once a sweep changes nothing, every later one of the batch returns at
// once (both ping-pong buffers then hold the fixed point).
// Tiled sweeps may also copy (`tile_mode`, shaders/tile_sweep.wgsl); the plain round reports
// only SWEEP_AGAIN, so it runs exactly when its mode is TILE_RUN (`space_tile_mode`).

// peaks_candidates
@group(0) @binding(5) var<storage, read_write> state: array<u32>;

// peaks_candidates
@group(0) @binding(6) var<storage, read_write> flag: atomic<u32>;
// peaks_isolated_open: the state, the candidates' flag (read only: the host-side condition of
// the twin) and the spacing loop's flags, set to their start
@group(0) @binding(4) var<storage, read_write> state_io: array<u32>;
@group(0) @binding(5) var<storage, read> flag_io: u32;
@group(0) @binding(6) var<storage, read_write> loop_flags: array<u32, 4>;

// Partial bounds of one workgroup (peaks_bounds).
var<workgroup> wg_bounds: array<atomic<u32>, 5>;

fn flat_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.y * nwg.x * 64u + gid.x;
}

fn roi_contains(b0: u32, b1: u32, b2: u32, b3: u32, y: u32, x: u32) -> bool {
    return y >= b0 && y <= b2 && x >= b1 && x <= b3;
}

// Window offsets per axis: lo = s / 2 pixels before, hi = s - s/2 - 1 after (twin: `window`).
fn window_lo() -> u32 {
    return params.footprint / 2u;
}
fn window_hi() -> u32 {
    return params.footprint - params.footprint / 2u - 1u;
}

// Entry point `peaks_bounds`: atomicMin/atomicMax into `bounds` (initialised to BOUNDS_INIT),
// first within the workgroup, then one global atomic per slot and workgroup. Its first
// invocation zeroes the candidates' flag (GPU plumbing: a clear the stage needs no step for).
@compute @workgroup_size(64)
fn peaks_bounds(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    if (li < 5u) {
        atomicStore(&wg_bounds[li], select(NONE, 0u, li == 2u || li == 3u));
    }
    workgroupBarrier();
    let i = flat_id(gid, nwg);
    if (i == 0u) {
        flag_zero = 0u;
    }
    let w = params.width;
    let h = params.height;
    let b = params.border;
    if (i < w * h) {
        let y = i / w;
        let x = i % w;
        atomicMin(&wg_bounds[4], d2[i]);
        // y + b < h without overflow: b < h - y (y < h)
        let inside = y >= b && b < h - y && x >= b && b < w - x;
        if (mask[i] != 0u && inside) {
            atomicMin(&wg_bounds[0], y);
            atomicMin(&wg_bounds[1], x);
            atomicMax(&wg_bounds[2], y);
            atomicMax(&wg_bounds[3], x);
        }
    }
    workgroupBarrier();
    if (li < 5u) {
        let v = atomicLoad(&wg_bounds[li]);
        if (li == 2u || li == 3u) {
            atomicMax(&bounds_acc[BOUNDS_AT + li], v);
        } else {
            atomicMin(&bounds_acc[BOUNDS_AT + li], v);
        }
    }
}

// Entry point `peaks_max_rows`: hmax[y, x] = max over the window's columns (clipped to the ROI)
// of the masked d2; 0 outside the ROI.
@compute @workgroup_size(64)
fn peaks_max_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    let w = params.width;
    if (i >= w * params.height) {
        return;
    }
    let y = i / w;
    let x = i % w;
    let y0 = bounds_rows[BOUNDS_AT];
    let x0 = bounds_rows[BOUNDS_AT + 1u];
    let y1 = bounds_rows[BOUNDS_AT + 2u];
    let x1 = bounds_rows[BOUNDS_AT + 3u];
    var v = 0u;
    if (roi_contains(y0, x0, y1, x1, y, x)) {
        // x0 <= x <= x1: no under- or overflow
        let a = x - min(x - x0, window_lo());
        let b = x + min(x1 - x, window_hi());
        for (var xx = a; xx <= b; xx++) {
            let j = y * w + xx;
            if (mask[j] != 0u) {
                v = max(v, d2[j]);
            }
        }
    }
    hmax_out[i] = v;
}

// The window maximum at (y, x) in the ROI `b`: the max over the window's rows (clipped to the
// ROI) of the row maxima `hmax_in` (twin: `window_max_cols`).
fn window_max_cols(b: vec4<u32>, y: u32, x: u32) -> u32 {
    let w = params.width;
    let a = y - min(y - b.x, window_lo());
    let e = y + min(b.z - y, window_hi());
    var v = 0u;
    for (var yy = a; yy <= e; yy++) {
        v = max(v, hmax_in[yy * w + x]);
    }
    return v;
}

// Twin `all_are_candidates`: s == 1 or a one-pixel ROI (bounds of peaks_candidates and
// peaks_isolated).
fn all_are_candidates() -> bool {
    let at = BOUNDS_AT;
    return all_candidates_of(vec4<u32>(bounds[at], bounds[at + 1u], bounds[at + 2u], bounds[at + 3u]));
}

fn all_candidates_of(b: vec4<u32>) -> bool {
    let empty = b.x > b.z || b.y > b.w;
    return params.footprint == 1u || (!empty && b.x == b.z && b.y == b.w);
}

// Entry point `peaks_candidates`: state = STATE_UNDECIDED for candidates, else STATE_NONE;
// flag |= 1 when a mask pixel in the ROI differs from its window maximum.
@compute @workgroup_size(64)
fn peaks_candidates(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    let w = params.width;
    if (i >= w * params.height) {
        return;
    }
    let y = i / w;
    let x = i % w;
    let all = all_are_candidates();
    let at = BOUNDS_AT;
    let b = vec4<u32>(bounds[at], bounds[at + 1u], bounds[at + 2u], bounds[at + 3u]);
    var s = STATE_NONE;
    if (roi_contains(b.x, b.y, b.z, b.w, y, x) && mask[i] != 0u) {
        let wmax = window_max_cols(b, y, x);
        if (d2[i] != wmax) {
            atomicOr(&flag, 1u);
        }
        if (d2[i] > bounds[BOUNDS_AT + 4u] && (all || d2[i] == wmax)) {
            s = STATE_UNDECIDED;
        }
    }
    state[i] = s;
}

// The mask at (y + dy, x + dx), 0 outside the ROI `b` (twin: `cpu::opening::tap`, rect = ROI).
fn roi_tap(b: vec4<u32>, y: u32, x: u32, dy: i32, dx: i32) -> bool {
    let yy = i32(y) + dy;
    let xx = i32(x) + dx;
    if (yy < 0 || xx < 0 || !roi_contains(b.x, b.y, b.z, b.w, u32(yy), u32(xx))) {
        return false;
    }
    return mask[u32(yy) * params.width + u32(xx)] != 0u;
}

// The erosion of the mask by the cross inside the ROI at (y + dy, x + dx) (twin:
// `cpu::opening::erode`, rect = ROI).
fn roi_eroded(b: vec4<u32>, y: u32, x: u32, dy: i32, dx: i32) -> bool {
    let yy = i32(y) + dy;
    let xx = i32(x) + dx;
    if (yy < 0 || xx < 0 || !roi_contains(b.x, b.y, b.z, b.w, u32(yy), u32(xx))) {
        return false;
    }
    let py = u32(yy);
    let px = u32(xx);
    return roi_tap(b, py, px, 0, 0) && roi_tap(b, py, px, -1, 0) && roi_tap(b, py, px, 1, 0)
        && roi_tap(b, py, px, 0, -1) && roi_tap(b, py, px, 0, 1);
}

// Entry point `peaks_isolated_open`: when flag == 0 and not all_are_candidates (the twin's
// host-side condition), the candidates are the ROI's mask pixels that its opening (the cross,
// once; computed here around each pixel) removed, above the threshold; otherwise state is left
// as peaks_candidates wrote it. Its first invocation sets the spacing loop's flags.
@compute @workgroup_size(64)
fn peaks_isolated_open(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    let w = params.width;
    if (i == 0u) {
        loop_flags = array<u32, 4>(1u, 0u, 0u, 0u);
    }
    if (i >= w * params.height) {
        return;
    }
    let at = BOUNDS_AT;
    let b = vec4<u32>(bounds_io[at], bounds_io[at + 1u], bounds_io[at + 2u], bounds_io[at + 3u]);
    if (flag_io != 0u || all_candidates_of(b)) {
        return;
    }
    let y = i / w;
    let x = i % w;
    var on = roi_contains(b.x, b.y, b.z, b.w, y, x) && mask[i] != 0u && d2[i] > bounds_io[BOUNDS_AT + 4u];
    if (on) {
        // kept by the opening: the pixel or a 4-neighbour survives the erosion
        let opened = roi_eroded(b, y, x, 0, 0) || roi_eroded(b, y, x, -1, 0)
            || roi_eroded(b, y, x, 1, 0) || roi_eroded(b, y, x, 0, -1) || roi_eroded(b, y, x, 0, 1);
        on = !opened;
    }
    state_io[i] = select(STATE_NONE, STATE_UNDECIDED, on);
}

// Whether candidate j (value dj) has priority over candidate i (value di) (twin: `before`).
fn before(dj: u32, j: u32, di: u32, i: u32) -> bool {
    return dj > di || (dj == di && j < i);
}

// The state of pixel `j` as the round sees it: the tile's latest in `peaks_space_tile` when
// `j` lies in the tile, else the round's input (twin: the working copy of `peaks_space_tile`).
fn state_get(j: u32) -> u32 {
    let jx = j % params.width;
    let jy = j / params.width;
    if (jx >= tile_x0 && jx - tile_x0 < TILE && jy >= tile_y0 && jy - tile_y0 < TILE) {
        return t_state[(jy - tile_y0) * TILE + (jx - tile_x0)];
    }
    return state_in[j];
}

// The next state of undecided candidate `i` (twin: `space_rule`): rejected when a conflicting
// candidate (Chebyshev distance <= m - 1) with priority over it is kept, undecided while one of
// them is undecided, else kept.
fn space_rule(i: u32) -> u32 {
    let w = params.width;
    let h = params.height;
    let y = i / w;
    let x = i % w;
    let di = d2_space[i];
    var blocked = false;
    if (params.min_distance >= 2u) {
        let r = params.min_distance - 1u;
        let ya = y - min(y, r);
        let yb = y + min(h - 1u - y, r);
        let xa = x - min(x, r);
        let xb = x + min(w - 1u - x, r);
        for (var yy = ya; yy <= yb; yy++) {
            for (var xx = xa; xx <= xb; xx++) {
                let j = yy * w + xx;
                let sj = state_get(j);
                if (j == i || sj == STATE_NONE) {
                    continue; // (rejected candidates are STATE_NONE too)
                }
                if (before(d2_space[j], j, di, i)) {
                    if (sj == STATE_KEPT) {
                        return STATE_REJECTED;
                    }
                    blocked = true;
                }
            }
        }
    }
    return select(STATE_KEPT, STATE_UNDECIDED, blocked);
}

// Entry point `peaks_space`: one round of the spacing walk; changed |= 1 when some candidate is
// decided in this round.
@compute @workgroup_size(64)
fn peaks_space(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat_id(gid, nwg);
    if (space_tile_mode(i == 0u) != TILE_RUN || i >= params.width * params.height) {
        return;
    }
    tile_x0 = NONE;
    tile_y0 = NONE;
    let s = state_in[i];
    var out = s;
    if (s == STATE_UNDECIDED) {
        out = space_rule(i);
        if (out != STATE_UNDECIDED) {
            atomicOr(&changed[(params.phase + 1u) % 3u], 1u);
        }
    }
    state_out[i] = out;
}

// The schedule of a sweep (plain or tiled; only sweeps that run count). TILE,
// TILE_ITERS, the report bits and `tile_mode`: shaders/tile_sweep.wgsl, appended to this module.
fn space_tile_mode(first: bool) -> u32 {
    let mode = tile_mode(atomicLoad(&changed[params.phase]));
    if (first) {
        atomicStore(&changed[(params.phase + 2u) % 3u], 0u);
        if (mode == TILE_RUN) {
            atomicAdd(&changed[3], 1u);
        }
    }
    return mode;
}

// peaks_space_tile: the tile's states, its "changed in this round" flag, that flag and the
// sweep's mode made uniform; the tile's origin (NONE in `peaks_space`: no tile).
var<workgroup> t_state: array<u32, 256>;
var<workgroup> t_flag: atomic<u32>;
var<workgroup> t_more: u32;
var<workgroup> t_go: u32;
var<private> tile_x0: u32;
var<private> tile_y0: u32;

// Whether some candidate outside the current tile, within Chebyshev distance m - 1 of `j`, is
// undecided in the input and has `j` before it, so that its next round reads `j`'s decision
// (twin: `waits_across_tiles`).
fn waits_across_tiles(j: u32) -> bool {
    if (params.min_distance < 2u) {
        return false;
    }
    let w = params.width;
    let h = params.height;
    let r = params.min_distance - 1u;
    let y = j / w;
    let x = j % w;
    let dj = d2_space[j];
    for (var yy = y - min(y, r); yy <= y + min(h - 1u - y, r); yy++) {
        for (var xx = x - min(x, r); xx <= x + min(w - 1u - x, r); xx++) {
            let inside = xx >= tile_x0 && xx - tile_x0 < TILE && yy >= tile_y0 && yy - tile_y0 < TILE;
            let i = yy * w + xx;
            if (!inside && state_in[i] == STATE_UNDECIDED && before(dj, j, d2_space[i], i)) {
                return true;
            }
        }
    }
    return false;
}

// Entry point `peaks_space_tile` (twin: `peaks_space_tile`): one sweep of the spacing walk in
// tiles. A TILE × TILE workgroup keeps its tile's states in workgroup memory and runs
// `peaks_space`'s rule as Jacobi rounds (everything outside the tile read from `state_in`, see
// `state_get`) until a round decides nothing or TILE_ITERS have run; reports SWEEP_CHANGED when
// any output differs from the input and SWEEP_AGAIN when a tile did not settle or a decided
// candidate is waited for across tiles (`waits_across_tiles`). Dispatched as (1, tiles across,
// tiles down): the tile is (wid.y, wid.z); returns at once or copies its tile as `tile_mode`
// says.
@compute @workgroup_size(16, 16)
fn peaks_space_tile(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
) {
    if (li == 0u) {
        t_go = space_tile_mode(wid.y == 0u && wid.z == 0u);
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
            state_out[i] = state_in[i];
        }
        return;
    }
    var start = STATE_NONE;
    if (inside) {
        start = state_in[i];
    }
    t_state[li] = start;
    if (li == 0u) {
        atomicStore(&t_flag, 0u);
    }
    workgroupBarrier();
    var it = 0u;
    var more = 0u;
    loop {
        let old = t_state[li];
        var s = old;
        if (inside && old == STATE_UNDECIDED) {
            s = space_rule(i);
        }
        workgroupBarrier();
        if (s != old) {
            t_state[li] = s;
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
        let s = t_state[li];
        if (s != start) {
            var f = SWEEP_CHANGED;
            if (waits_across_tiles(i)) {
                f |= SWEEP_AGAIN;
            }
            atomicOr(&t_flag, f); // 0 since the loop's last exchange
        }
        state_out[i] = s;
    }
    // the tile's bits, gathered in workgroup memory, in one atomic (not one per changed pixel)
    workgroupBarrier();
    if (li == 0u) {
        // stopped by TILE_ITERS before settling: again
        let f = atomicLoad(&t_flag) | select(0u, SWEEP_AGAIN, more != 0u);
        if (f != 0u) {
            atomicOr(&changed[(params.phase + 1u) % 3u], f);
        }
    }
}
