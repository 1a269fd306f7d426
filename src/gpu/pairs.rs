//! Host side of stage **pairs** (`shaders/pairs.wgsl`; twin [`crate::cpu::pairs`]): the pair histogram of two label images — for every
//! pair (a in `prev`, b in `cur`) of nonzero labels, the pixels they share once `prev` is moved by
//! `shift = (dy, dx)` (cur pixel (y, x) meets prev pixel (y − dy, x − dx); pixels whose partner is
//! outside count for nothing). Class: *order-free reduction* into a hash table, sorted on the host.
//!
//! Names: the WGSL entry point is `pair_histogram`, like the twin function. [`pair_histogram_pass`]
//! records it into a caller's encoder, [`pair_histogram`] is the whole stage on device buffers,
//! [`pairs_from_table`] turns a read-back table into the sorted list, [`run_pair_histogram`]
//! uploads, runs and reads back. The result is the twin's: [`PairCount`]s sorted by (prev, cur)
//! with no zero counts.
//!
//! **The pass.** One dispatch over the overlap window of the shift ([`Window`]): invocation t takes
//! [`CHUNK`] consecutive pixels of one window row, merges runs of one pair as the twin does and
//! adds each run to a hash table in one storage buffer with one `atomicAdd` (so a row of one cell
//! over one cell costs one atomic per 16 pixels, not per pixel). The table has a power-of-two
//! number of slots of [`SLOT_WORDS`] words — key a, key b, count — after a header of [`HEADER`]
//! words whose word [`OVERFLOW`] is a flag. A key is two 32-bit words, each claimed once with
//! `atomicCompareExchangeWeak` (0 = empty; labels 0 are never keys) and never changed again, so any
//! labels up to `u32::MAX` work, compact or not, and racing invocations with the same key always
//! meet in the same slot (the argument is in the shader's header). Linear probing from a hash of
//! the key.
//!
//! **Table size and overflow.** A pair needs a pixel, so the window's pixel count bounds the
//! distinct pairs. The first table has [`PairsOptions::first_capacity`] slots (by default one per
//! 64 window pixels, 4096 to 65 536: 16 384 for a 1024² frame, room for thousands of cells; a
//! caller that knows its object counts may pass 2 · n_prev · n_cur) and lets an insertion probe
//! [`MAX_PROBES`] slots; an insertion that finds no slot sets the overflow flag, the insertions
//! after it return at once, and the whole table is thrown away and the pass rerun with 8× the
//! slots. The last table has 2× the window's pixels (rounded up to a power of two) and
//! unbounded probing, so it cannot overflow; if the device cannot hold that table, the largest it
//! can hold is the last one, and should even that overflow (more distinct pairs than it has slots,
//! millions) the result is [`Error::Limit`] — never a truncated count. Each try is one pass and one
//! readback of its table (table and flag together).

use bytemuck::{Pod, Zeroable};

use super::{kernel, shader_module, Access::*, EntryPoint, GpuContext, Kernel};
use crate::cpu::pairs::PairCount;
use crate::cpu::Dims;
use crate::error::{Error, Result};

/// Uniforms of `pair_histogram`. Keep in sync with `struct PairsParams` in
/// `shaders/pairs.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct PairsUniforms {
    /// Row stride of both images.
    pub width: u32,
    /// The overlap window ([`Window`]): rows × cols, its corner in cur and in prev.
    pub rows: u32,
    pub cols: u32,
    /// Pixels per invocation along a row.
    pub chunk: u32,
    pub cur_y0: u32,
    pub cur_x0: u32,
    pub prev_y0: u32,
    pub prev_x0: u32,
    /// `ceil(cols / chunk)`.
    pub chunks_per_row: u32,
    /// Slots − 1 (slots a power of two).
    pub mask: u32,
    /// Slots an insertion may probe before it sets the overflow flag.
    pub max_probes: u32,
    pub _pad: u32,
}

/// Table words before the first slot (keep in sync with `HEADER` in `shaders/pairs.wgsl`).
pub const HEADER: usize = 4;
/// The header word set to 1 when an insertion found no slot (`OVERFLOW` in the shader).
pub const OVERFLOW: usize = 0;
/// Words per slot: key a (prev label), key b (cur label), count (`SLOT_WORDS` in the shader).
pub const SLOT_WORDS: usize = 3;
/// Pixels per invocation by default.
pub const CHUNK: u32 = 16;
/// Slots of the first table by default: one per [`PIXELS_PER_SLOT`] pixels of the window, at
/// least this …
pub const FIRST_CAPACITY: u32 = 4096;
/// … and at most this (768 KiB), rounded up to a power of two.
pub const FIRST_CAPACITY_MAX: u32 = 1 << 16;
/// Window pixels per slot of the first table by default (a 1024² frame: 16 384 slots, room for
/// 8 000 pairs at a load of one half — a dense field of several thousand cells).
pub const PIXELS_PER_SLOT: u64 = 64;
/// Probes per insertion in every table but the last (which probes without bound).
pub const MAX_PROBES: u32 = 64;
/// How much larger each retry's table is.
pub const GROWTH: u64 = 8;

/// The shader's entry points and their bindings (checked against the WGSL by
/// `tests/source/shaders_naga.rs`).
pub const ENTRY_POINTS: &[EntryPoint] = &[("pair_histogram", &[Uniform, Read, Read, ReadWrite])];

/// The stage's compiled entry points.
pub(crate) struct Kernels {
    pub pair_histogram: Kernel,
}

impl Kernels {
    pub(crate) fn new(device: &wgpu::Device) -> Self {
        let m = shader_module(device, "pairs", crate::shaders::PAIRS);
        Kernels {
            pair_histogram: kernel(device, &m, "pairs", ENTRY_POINTS, "pair_histogram"),
        }
    }
}

/// The pixels a shift compares: `rows × cols` of them, from `(cur_y0, cur_x0)` in cur and
/// `(prev_y0, prev_x0)` in prev (prev = cur − shift).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub rows: u32,
    pub cols: u32,
    pub cur_y0: u32,
    pub cur_x0: u32,
    pub prev_y0: u32,
    pub prev_x0: u32,
}

impl Window {
    /// The window of `shift = (dy, dx)` on `dims`; `None` when it is empty (a shift at least
    /// the frame's size, or an empty frame).
    pub fn of(dims: Dims, shift: (i32, i32)) -> Option<Window> {
        // one axis: cur coordinates [max(d, 0), min(n + d, n)), prev = cur − d
        let axis = |n: u32, d: i32| -> Option<(u32, u32, u32)> {
            let (n, d) = (n as i64, d as i64);
            let c0 = d.max(0);
            let c1 = (n + d).min(n);
            (c1 > c0).then(|| ((c1 - c0) as u32, c0 as u32, (c0 - d) as u32))
        };
        let (rows, cur_y0, prev_y0) = axis(dims.height, shift.0)?;
        let (cols, cur_x0, prev_x0) = axis(dims.width, shift.1)?;
        Some(Window {
            rows,
            cols,
            cur_y0,
            cur_x0,
            prev_y0,
            prev_x0,
        })
    }

    /// Pixels in the window (a bound on the distinct pairs).
    pub fn pixels(&self) -> u64 {
        self.rows as u64 * self.cols as u64
    }
}

/// Knobs of the table (tests force the overflow path with them; the defaults suit frames of
/// cells).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairsOptions {
    /// Pixels per invocation along a row (at least 1).
    pub chunk: u32,
    /// Slots of the first table (rounded up to a power of two); 0: from the window's size
    /// ([`PIXELS_PER_SLOT`], [`FIRST_CAPACITY`] to [`FIRST_CAPACITY_MAX`]).
    pub first_capacity: u32,
    /// Probes per insertion in every table but the last (at least 1).
    pub max_probes: u32,
    /// The most slots a table may have (rounded down to a power of two; the device's limits
    /// cap it too). Tests set it low to see the [`Error::Limit`] of a table that cannot grow.
    pub max_capacity: u32,
}

impl Default for PairsOptions {
    fn default() -> Self {
        PairsOptions {
            chunk: CHUNK,
            first_capacity: 0,
            max_probes: MAX_PROBES,
            max_capacity: u32::MAX,
        }
    }
}

/// What a run did: passes run (tables tried) and the last table's slots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PairsReport {
    pub attempts: u32,
    pub capacity: u32,
}

/// Entry point `pair_histogram` (twin [`crate::cpu::pairs::pair_histogram`]). Records one
/// pass over `u`'s window; `table` holds `HEADER + SLOT_WORDS · (u.mask + 1)` zeroed words.
pub fn pair_histogram_pass(
    ctx: &GpuContext,
    encoder: &mut wgpu::CommandEncoder,
    u: &PairsUniforms,
    prev: &wgpu::Buffer,
    cur: &wgpu::Buffer,
    table: &wgpu::Buffer,
) {
    let params = ctx.uniform("floodseg.pairs.params", u);
    ctx.dispatch(
        encoder,
        &ctx.kernels.pairs.pair_histogram,
        &[&params, prev, cur, table],
        u.rows * u.chunks_per_row,
    );
}

/// The sorted list from a read-back table (header and slots); an
/// overflowed table, a half-written slot or a key in two slots is an [`Error::Backend`] (none
/// can come from a table the pass finished without overflow).
pub fn pairs_from_table(words: &[u32]) -> Result<Vec<PairCount>> {
    if words.len() < HEADER || !(words.len() - HEADER).is_multiple_of(SLOT_WORDS) {
        return Err(Error::Backend(format!(
            "pairs: a table of {} words",
            words.len()
        )));
    }
    if words[OVERFLOW] != 0 {
        return Err(Error::Backend("pairs: the table overflowed".into()));
    }
    let mut out = Vec::new();
    for s in words[HEADER..].chunks_exact(SLOT_WORDS) {
        match (s[0], s[1], s[2]) {
            (0, 0, 0) => {}
            (a, b, n) if a != 0 && b != 0 && n != 0 => out.push(PairCount {
                prev: a,
                cur: b,
                pixels: n,
            }),
            (a, b, n) => {
                return Err(Error::Backend(format!(
                    "pairs: a half-written slot (a {a}, b {b}, count {n})"
                )))
            }
        }
    }
    out.sort_unstable();
    if let Some(w) = out
        .windows(2)
        .find(|w| (w[0].prev, w[0].cur) == (w[1].prev, w[1].cur))
    {
        return Err(Error::Backend(format!(
            "pairs: key ({}, {}) in two slots",
            w[0].prev, w[0].cur
        )));
    }
    Ok(out)
}

/// The most slots a table may have on this device: the largest power of two whose table fits
/// one storage binding and one buffer, and `cap`.
fn device_capacity(ctx: &GpuContext, cap: u32) -> u64 {
    let limits = ctx.limits();
    let bytes = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size);
    let words = (bytes / 4).saturating_sub(HEADER as u64);
    let slots = (words / SLOT_WORDS as u64).min(cap as u64).min(1 << 31);
    if slots == 0 {
        0
    } else {
        1u64 << slots.ilog2()
    }
}

/// Check a frame against the device before anything is allocated: its buffers, and that the
/// flat invocation index of the folded dispatch fits a `u32`.
fn check(ctx: &GpuContext, width: usize, height: usize) -> Result<()> {
    ctx.check_size(width, height)?;
    let (x, y) = ctx.workgroups(
        u32::try_from(width * height).map_err(|_| Error::Limit("pairs: too many pixels".into()))?,
    );
    if x as u64 * y as u64 * super::WORKGROUP_SIZE as u64 > u32::MAX as u64 + 1 {
        return Err(Error::Limit(format!(
            "pairs: a {width}×{height} frame has too many pixels for u32 invocation indices"
        )));
    }
    Ok(())
}

/// The whole stage on device buffers `prev` and `cur` (`dims.len()` `u32`s each, row-major):
/// tries tables as the module doc says and returns the sorted [`PairCount`]s.
pub fn pair_histogram(
    ctx: &GpuContext,
    dims: Dims,
    prev: &wgpu::Buffer,
    cur: &wgpu::Buffer,
    shift: (i32, i32),
) -> Result<Vec<PairCount>> {
    pair_histogram_with(ctx, dims, prev, cur, shift, &PairsOptions::default()).map(|r| r.0)
}

/// As [`pair_histogram`] with explicit [`PairsOptions`], and what the run did.
pub fn pair_histogram_with(
    ctx: &GpuContext,
    dims: Dims,
    prev: &wgpu::Buffer,
    cur: &wgpu::Buffer,
    shift: (i32, i32),
    opts: &PairsOptions,
) -> Result<(Vec<PairCount>, PairsReport)> {
    check(ctx, dims.width as usize, dims.height as usize)?;
    let need = 4 * dims.len() as u64;
    for (what, b) in [("prev", prev), ("cur", cur)] {
        if b.size() < need {
            return Err(Error::BadData(format!(
                "pairs: a {}-byte {what} buffer for {}×{} pixels",
                b.size(),
                dims.width,
                dims.height
            )));
        }
    }
    let mut report = PairsReport::default();
    let Some(win) = Window::of(dims, shift) else {
        return Ok((Vec::new(), report));
    };
    let chunk = opts.chunk.clamp(1, win.cols);
    let chunks_per_row = win.cols.div_ceil(chunk);
    // the table that cannot overflow (2× the pairs possible), or the largest the device holds
    let safe = (2 * win.pixels()).next_power_of_two();
    let most = device_capacity(ctx, opts.max_capacity);
    if most == 0 {
        return Err(Error::Limit(
            "pairs: the device cannot hold a table of one slot".into(),
        ));
    }
    let last = safe.min(most);
    let first = match opts.first_capacity {
        0 => {
            (win.pixels() / PIXELS_PER_SLOT).clamp(FIRST_CAPACITY as u64, FIRST_CAPACITY_MAX as u64)
        }
        n => n as u64,
    };
    let mut slots = first.next_power_of_two().min(last);
    loop {
        let full = slots == last;
        let probes = if full {
            slots
        } else {
            (opts.max_probes.max(1) as u64).min(slots)
        };
        let u = PairsUniforms {
            width: dims.width,
            rows: win.rows,
            cols: win.cols,
            chunk,
            cur_y0: win.cur_y0,
            cur_x0: win.cur_x0,
            prev_y0: win.prev_y0,
            prev_x0: win.prev_x0,
            chunks_per_row,
            mask: (slots - 1) as u32,
            max_probes: probes as u32,
            _pad: 0,
        };
        let len = HEADER + SLOT_WORDS * slots as usize;
        ctx.check_len("the pair histogram's table", len as u64)?;
        report.attempts += 1;
        report.capacity = slots as u32;
        let words = ctx.run_and_read("floodseg.pairs", len, |encoder| {
            let table = ctx.storage("floodseg.pairs.table", len);
            pair_histogram_pass(ctx, encoder, &u, prev, cur, &table);
            Ok(table)
        })?;
        if words.get(OVERFLOW) == Some(&0) {
            return Ok((pairs_from_table(&words)?, report));
        }
        if full {
            return Err(if last < safe {
                Error::Limit(format!(
                    "pairs: more distinct (prev, cur) pairs than the {slots} slots of the largest \
                     table the device holds ({})",
                    ctx.adapter_description()
                ))
            } else {
                Error::Backend(format!(
                    "pairs: a table of {slots} slots for at most {} pairs overflowed",
                    win.pixels()
                ))
            });
        }
        slots = (slots * GROWTH).min(last);
    }
}

/// Upload `prev` and `cur` (`width × height` each), run the stage and read the sorted
/// [`PairCount`]s back. Wrong lengths are [`Error::BadData`]; an empty frame has
/// no pairs.
pub fn run_pair_histogram(
    ctx: &GpuContext,
    prev: &[u32],
    cur: &[u32],
    width: usize,
    height: usize,
    shift: (i32, i32),
) -> Result<Vec<PairCount>> {
    run_pair_histogram_with(
        ctx,
        prev,
        cur,
        width,
        height,
        shift,
        &PairsOptions::default(),
    )
    .map(|r| r.0)
}

/// As [`run_pair_histogram`] with explicit [`PairsOptions`], and what the run did.
pub fn run_pair_histogram_with(
    ctx: &GpuContext,
    prev: &[u32],
    cur: &[u32],
    width: usize,
    height: usize,
    shift: (i32, i32),
    opts: &PairsOptions,
) -> Result<(Vec<PairCount>, PairsReport)> {
    let n = width.checked_mul(height);
    if n != Some(prev.len()) || n != Some(cur.len()) {
        return Err(Error::BadData(format!(
            "pairs: {} prev and {} cur labels for a {width}×{height} frame",
            prev.len(),
            cur.len()
        )));
    }
    if prev.is_empty() {
        return Ok((Vec::new(), PairsReport::default()));
    }
    check(ctx, width, height)?;
    let dims = Dims::new(width, height);
    if Window::of(dims, shift).is_none() {
        return Ok((Vec::new(), PairsReport::default()));
    }
    let p = ctx.storage_init("floodseg.pairs.prev", prev);
    let c = ctx.storage_init("floodseg.pairs.cur", cur);
    pair_histogram_with(ctx, dims, &p, &c, shift, opts)
}
