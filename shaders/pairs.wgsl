// Stage **pairs**: the pair histogram of two label images (prev, cur) with prev moved by a
// shift — for every pair (a in prev, b in cur) of nonzero labels, the pixels they share.
// Class: *order-free reduction* into a hash table: which slot a key lands in depends on the
// order the invocations claim slots, but the set of (key, count) entries does not, and the host
// sorts the entries (so the bytes it returns are the twin's).
// CPU twin: src/track/overlap.rs (`pair_histogram`); host side: src/gpu/pairs.rs.
//
// The host hands over the overlap window of the shift: `rows × cols` pixels starting at
// (cur_y0, cur_x0) in cur and at (prev_y0, prev_x0) in prev (all unsigned, so no signed
// arithmetic here). Invocation t takes `chunk` consecutive pixels of one window row and merges
// runs of one pair as the twin does, inserting each run with one count: labels are blobs, so
// this cuts the atomics (and their contention on a few hot keys) by up to `chunk`×.
//
// `table` = HEADER words (word OVERFLOW: set to 1 when an insertion gave up), then
// `mask + 1` slots (a power of two) of SLOT_WORDS words: key a, key b, count. 0 means empty
// (labels 0 are never keys). A key is two write-once words claimed one after the other with
// compare-exchange: an invocation whose `a` differs from a slot's (nonzero) first word, or
// whose `b` differs from its (nonzero) second word, moves on — those words never change
// again, so a slot it skips can never become its key, and every invocation with key (a, b)
// stops at the same first slot along the probe sequence whose final key is (a, b). Hence each
// key has exactly one slot, and any number of invocations may race for it. Probing is linear
// from a hash of the key, at most `max_probes` slots; past that the insertion sets OVERFLOW, the
// insertions after it do nothing, and the host retries with a larger table.

// Keep in sync with `PairsUniforms` in src/gpu/pairs.rs.
struct PairsParams {
    width: u32,
    rows: u32,
    cols: u32,
    chunk: u32,
    cur_y0: u32,
    cur_x0: u32,
    prev_y0: u32,
    prev_x0: u32,
    chunks_per_row: u32,
    mask: u32,
    max_probes: u32,
    _pad: u32,
}

// Table layout (keep in sync with src/gpu/pairs.rs).
const HEADER: u32 = 4u;
const OVERFLOW: u32 = 0u;
const SLOT_WORDS: u32 = 3u;

@group(0) @binding(0) var<uniform> params: PairsParams;
@group(0) @binding(1) var<storage, read> prev: array<u32>;
@group(0) @binding(2) var<storage, read> cur: array<u32>;
@group(0) @binding(3) var<storage, read_write> table: array<atomic<u32>>;

// A 32-bit integer mix (lowbias32): a slot's place only, never its content.
fn mix32(h: u32) -> u32 {
    var x = h;
    x = x ^ (x >> 16u);
    x = x * 0x7feb352du;
    x = x ^ (x >> 15u);
    x = x * 0x846ca68bu;
    x = x ^ (x >> 16u);
    return x;
}

// Whether word `w` holds `v` (nonzero) after this call: it held it already, or it was 0 and
// this call (or a racing one with the same `v`) wrote it. A nonzero word never changes.
fn claim(w: u32, v: u32) -> bool {
    var old = atomicLoad(&table[w]);
    loop {
        if (old != 0u) {
            break;
        }
        let r = atomicCompareExchangeWeak(&table[w], 0u, v);
        if (r.exchanged) {
            old = v;
            break;
        }
        // another value, or 0 again after a spurious failure of the weak exchange (then retry)
        old = r.old_value;
    }
    return old == v;
}

// Add `n` to the count of key (a, b), both nonzero. Once the table has overflowed it is going
// to be thrown away, so nothing more is inserted (a failed try costs little).
fn insert(a: u32, b: u32, n: u32) {
    if (atomicLoad(&table[OVERFLOW]) != 0u) {
        return;
    }
    var s = mix32(a ^ mix32(b)) & params.mask;
    for (var probe = 0u; probe < params.max_probes; probe = probe + 1u) {
        let w = HEADER + SLOT_WORDS * s;
        if (claim(w, a)) {
            if (claim(w + 1u, b)) {
                atomicAdd(&table[w + 2u], n);
                return;
            }
        }
        s = (s + 1u) & params.mask;
    }
    atomicStore(&table[OVERFLOW], 1u);
}

// Entry point `pair_histogram`: window row t / chunks_per_row, columns
// [(t % chunks_per_row)·chunk, … + chunk) of invocation t.
@compute @workgroup_size(64)
fn pair_histogram(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.y * nwg.x * 64u + gid.x;
    if (params.chunks_per_row == 0u || t >= params.rows * params.chunks_per_row) {
        return;
    }
    let r = t / params.chunks_per_row;
    let c0 = (t % params.chunks_per_row) * params.chunk;
    let c1 = min(c0 + params.chunk, params.cols);
    let crow = (params.cur_y0 + r) * params.width + params.cur_x0;
    let prow = (params.prev_y0 + r) * params.width + params.prev_x0;

    // the open run: its key (0, 0 = none) and length
    var ka = 0u;
    var kb = 0u;
    var n = 0u;
    for (var c = c0; c < c1; c = c + 1u) {
        var b = cur[crow + c];
        var a = 0u;
        if (b != 0u) {
            a = prev[prow + c];
        }
        if (a == 0u) {
            b = 0u;
        }
        if (a != ka || b != kb) {
            if (ka != 0u) {
                insert(ka, kb, n);
            }
            ka = a;
            kb = b;
            n = 0u;
        }
        n = n + 1u;
    }
    if (ka != 0u) {
        insert(ka, kb, n);
    }
}
