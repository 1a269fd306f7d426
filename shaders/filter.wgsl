// Stage **filter**: relabel the objects through a table that drops objects by area and numbers
// the kept ones 1, 2, … in label order. Class: *map* (each invocation reads and writes only its
// own label; the table is read only).
// CPU twin: src/cpu/filter.rs (`filter_relabel`; the table comes from `keep_table` on the host);
// host side: src/gpu/filter.rs.

// Keep in sync with `FilterUniforms` in src/gpu/filter.rs (twin: `cpu::filter::FilterParams`).
struct FilterParams {
    width: u32,
    height: u32,
    // Entries of the table; labels >= table_len become 0.
    table_len: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: FilterParams;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read_write> labels: array<u32>;

// Entry point `filter_relabel`: labels[i] = table[labels[i]] (0 for labels without an entry).
@compute @workgroup_size(64)
fn filter_relabel(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    if (i >= params.width * params.height) {
        return;
    }
    let l = labels[i];
    var v = 0u;
    if (l < params.table_len) {
        v = table[l];
    }
    labels[i] = v;
}
