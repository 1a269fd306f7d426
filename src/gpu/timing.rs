//! Per-stage timings of a GPU frame, opt-in ([`GpuContext::set_profiling`]).
//!
//! A [`StageTimer`] is made per frame by [`StageTimer::new`]. It has three modes:
//! - **off** (profiling not asked for): records nothing and costs nothing; the frame reports
//!   its total wall-clock time only ([`SOURCE_WALL`]);
//! - **GPU timestamps** (profiling on and the device has `Features::TIMESTAMP_QUERY`): every
//!   command buffer that records part of a stage gets a timestamp before and after that part
//!   ([`StageTimer::begin`] / [`StageTimer::end`]); a stage's time is the sum of its spans, so
//!   the host round trips of the convergence loops (peaks, watershed) are not counted — it is
//!   device time. The timestamps are resolved and read back once, by [`StageTimer::finish`]
//!   (one extra submission and one small readback per profiled frame) ([`SOURCE_TIMESTAMPS`]);
//! - **synchronised wall clock** (profiling on, no timestamp queries): the host waits for the
//!   device at the end of every stage ([`StageTimer::lap`]) and times the stages on its clock
//!   ([`SOURCE_WALL_SYNCED`]).
//!
//! The stage names are the CPU twin's `timings` names ([`STAGES`]), in that order, so both
//! backends can be printed the same way.
//!
//! Timestamps are written with `CommandEncoder::write_timestamp` when the device has
//! `TIMESTAMP_QUERY_INSIDE_ENCODERS`, and otherwise as the beginning-of-pass timestamp of an
//! empty compute pass (which needs only `TIMESTAMP_QUERY`). Both write at the bottom of the
//! pipe (after every earlier command of the queue has finished) on Vulkan.

use std::time::{Duration, Instant};

use super::GpuContext;
use crate::error::{Error, Result};

/// The stages timed, in the CPU twin's order and with its names (a frame reports the ones it
/// ran: `smooth`, `background`, `core`, `peaks` or `maxima`, and `filter` depend on the
/// parameters).
pub const STAGES: [&str; 13] = [
    "gray",
    "smooth",
    "background",
    "threshold",
    "opening",
    "distance",
    "core",
    "peaks",
    "maxima",
    "components",
    "watershed",
    "measure",
    "filter",
];

/// `Stages::timing_source` of a frame timed with GPU timestamp queries.
pub const SOURCE_TIMESTAMPS: &str = "gpu-timestamps";
/// `Stages::timing_source` of a profiled frame on a device without timestamp queries: host
/// clock, the device waited for at the end of every stage.
pub const SOURCE_WALL_SYNCED: &str = "wall-clock-synced";
/// `Stages::timing_source` of an unprofiled GPU frame (one `"gpu pipeline"` total) and of the
/// CPU backend (per stage).
pub const SOURCE_WALL: &str = "wall-clock";

/// Per-stage times, in [`STAGES`] order (the type of `Stages::timings`).
pub type Timings = Vec<(&'static str, Duration)>;

/// Queries per query set (each span takes two; even).
const QUERIES_PER_SET: u32 = 256;

/// A span opened by [`StageTimer::begin`]: the query slot of its first timestamp.
#[derive(Clone, Copy, Debug)]
#[must_use = "close the span with StageTimer::end"]
pub struct Span(Option<u32>);

enum Mode {
    Off,
    Timestamps { inside_encoders: bool },
    WallSynced,
}

/// Per-stage timer of one frame (see the module doc).
pub struct StageTimer {
    mode: Mode,
    /// Timestamp mode: `(stage, first slot)` of every span; the second slot follows it.
    spans: Vec<(&'static str, u32)>,
    sets: Vec<wgpu::QuerySet>,
    next: u32,
    /// Synchronised wall-clock mode.
    laps: Vec<(&'static str, Duration)>,
    clock: Instant,
}

impl StageTimer {
    /// A timer that records nothing (public single-stage entry points use it).
    pub fn off() -> StageTimer {
        StageTimer {
            mode: Mode::Off,
            spans: Vec::new(),
            sets: Vec::new(),
            next: 0,
            laps: Vec::new(),
            clock: Instant::now(),
        }
    }

    /// The timer of one frame on `ctx`: off unless [`GpuContext::profiling`]; GPU timestamps
    /// when [`GpuContext::timestamps_supported`], else the synchronised wall clock.
    pub fn new(ctx: &GpuContext) -> StageTimer {
        let mut t = StageTimer::off();
        if ctx.profiling() {
            t.mode = if ctx.timestamps_supported() {
                Mode::Timestamps {
                    inside_encoders: ctx.timestamps_inside_encoders(),
                }
            } else {
                Mode::WallSynced
            };
        }
        t
    }

    /// Whether this timer records anything.
    pub fn is_on(&self) -> bool {
        !matches!(self.mode, Mode::Off)
    }

    /// Write one timestamp into the next free query slot; returns the slot.
    fn stamp(&mut self, ctx: &GpuContext, encoder: &mut wgpu::CommandEncoder) -> u32 {
        let inside = match self.mode {
            Mode::Timestamps { inside_encoders } => inside_encoders,
            _ => unreachable!("stamp without timestamps"),
        };
        let slot = self.next;
        let (set, index) = ((slot / QUERIES_PER_SET) as usize, slot % QUERIES_PER_SET);
        if set == self.sets.len() {
            self.sets
                .push(ctx.device().create_query_set(&wgpu::QuerySetDescriptor {
                    label: Some("floodseg.timing.queries"),
                    ty: wgpu::QueryType::Timestamp,
                    count: QUERIES_PER_SET,
                }));
        }
        let qs = &self.sets[set];
        if inside {
            encoder.write_timestamp(qs, index);
        } else {
            // An empty pass whose only effect is its beginning-of-pass timestamp.
            let _ = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("floodseg.timing.stamp"),
                timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                    query_set: qs,
                    beginning_of_pass_write_index: Some(index),
                    end_of_pass_write_index: None,
                }),
            });
        }
        self.next += 1;
        slot
    }

    /// Open a span of `stage` in `encoder` (a timestamp, in timestamp mode; else nothing).
    pub fn begin(
        &mut self,
        ctx: &GpuContext,
        encoder: &mut wgpu::CommandEncoder,
        stage: &'static str,
    ) -> Span {
        if !matches!(self.mode, Mode::Timestamps { .. }) {
            return Span(None);
        }
        // Spans never interleave, so a span starts at an even slot and both its slots lie in
        // one query set (`QUERIES_PER_SET` is even).
        debug_assert_eq!(self.next % 2, 0, "spans must not interleave");
        let slot = self.stamp(ctx, encoder);
        self.spans.push((stage, slot));
        Span(Some(slot))
    }

    /// Close `span` in `encoder` (the same encoder it was opened in).
    pub fn end(&mut self, ctx: &GpuContext, encoder: &mut wgpu::CommandEncoder, span: Span) {
        if let Some(first) = span.0 {
            let slot = self.stamp(ctx, encoder);
            debug_assert_eq!(slot, first + 1, "spans must not interleave");
        }
    }

    /// Synchronised wall-clock mode: wait for the device and charge the time since the last lap
    /// to `stage`. Does nothing in the other modes.
    pub fn lap(&mut self, ctx: &GpuContext, stage: &'static str) -> Result<()> {
        if !matches!(self.mode, Mode::WallSynced) {
            return Ok(());
        }
        ctx.device()
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Backend(format!("waiting for the device: {e}")))?;
        let now = Instant::now();
        self.laps.push((stage, now - self.clock));
        self.clock = now;
        Ok(())
    }

    /// Restart the wall clock of [`StageTimer::lap`] (after host work that belongs to no stage).
    pub fn restart(&mut self) {
        self.clock = Instant::now();
    }

    /// The frame's per-stage times, one entry per name of [`STAGES`] that ran, in that order, and their
    /// source; `None` when the timer was off. In timestamp mode this resolves the queries and
    /// reads them back (one submission).
    pub fn finish(self, ctx: &GpuContext) -> Result<Option<(Timings, &'static str)>> {
        let (per_stage, source): (Timings, _) = match self.mode {
            Mode::Off => return Ok(None),
            Mode::WallSynced => (self.laps, SOURCE_WALL_SYNCED),
            Mode::Timestamps { .. } => {
                let ticks = self.read_ticks(ctx)?;
                let period = ctx.queue().get_timestamp_period() as f64;
                let spans = self
                    .spans
                    .iter()
                    .map(|&(stage, slot)| {
                        let (a, b) = (ticks[slot as usize], ticks[slot as usize + 1]);
                        let ns = b.saturating_sub(a) as f64 * period;
                        (stage, Duration::from_nanos(ns.round() as u64))
                    })
                    .collect();
                (spans, SOURCE_TIMESTAMPS)
            }
        };
        let totals = STAGES
            .iter()
            .filter(|&&name| per_stage.iter().any(|(s, _)| *s == name))
            .map(|&name| {
                let t = per_stage
                    .iter()
                    .filter(|(s, _)| *s == name)
                    .map(|(_, d)| *d)
                    .sum();
                (name, t)
            })
            .collect();
        Ok(Some((totals, source)))
    }

    /// Resolve every query written and read the ticks back (slot `i` at index `i`).
    fn read_ticks(&self, ctx: &GpuContext) -> Result<Vec<u64>> {
        if self.next == 0 {
            return Ok(Vec::new());
        }
        let mut encoder = ctx.encoder("floodseg.timing.resolve");
        let mut readbacks = Vec::new();
        for (i, set) in self.sets.iter().enumerate() {
            let used = (self.next - i as u32 * QUERIES_PER_SET).min(QUERIES_PER_SET);
            let bytes = used as u64 * wgpu::QUERY_SIZE as u64;
            let resolve = ctx.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some("floodseg.timing.resolve"),
                size: bytes,
                usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            let readback = ctx.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some("floodseg.timing.readback"),
                size: bytes,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            encoder.resolve_query_set(set, 0..used, &resolve, 0);
            encoder.copy_buffer_to_buffer(&resolve, 0, &readback, 0, bytes);
            readbacks.push((readback, used));
        }
        ctx.submit("floodseg.timing.resolve", encoder)?;
        let mut ticks = Vec::with_capacity(self.next as usize);
        for (readback, used) in &readbacks {
            let words = ctx.read_u32(readback, 2 * *used as usize)?;
            ticks.extend(
                words
                    .chunks_exact(2)
                    .map(|w| w[0] as u64 | (w[1] as u64) << 32),
            );
        }
        Ok(ticks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{RawImage, Samples};
    use crate::pipeline::{segment_cpu, Params};

    /// A context, or `None` (skip) unless `FLOODSEG_REQUIRE_GPU=1` demands one.
    fn ctx() -> Option<GpuContext> {
        match GpuContext::new() {
            Ok(c) => Some(c),
            Err(e) if std::env::var("FLOODSEG_REQUIRE_GPU").is_ok_and(|v| v == "1") => {
                panic!("FLOODSEG_REQUIRE_GPU=1 but no GPU context: {e}")
            }
            Err(e) => {
                eprintln!("skipped: no GPU adapter: {e}");
                None
            }
        }
    }

    fn blobs() -> RawImage {
        let (w, h) = (37, 29);
        let mut v = vec![200u8; w * h];
        for (cy, cx, r) in [(8i64, 9i64, 6i64), (18, 24, 7), (12, 17, 4)] {
            for y in 0..h as i64 {
                for x in 0..w as i64 {
                    if (y - cy).pow(2) + (x - cx).pow(2) < r * r {
                        v[y as usize * w + x as usize] = 40;
                    }
                }
            }
        }
        RawImage {
            width: w,
            height: h,
            channels: 1,
            samples: Samples::U8(v),
        }
    }

    #[test]
    fn timing_profiled_frame_has_every_cpu_stage_and_same_result() {
        let Some(ctx) = ctx() else { return };
        let img = blobs();
        let p = Params {
            dark: true,
            min_distance: 3,
            ..Params::default()
        };
        let cpu = segment_cpu(&img, &p).unwrap();
        let plain = crate::backend::gpu::segment(&ctx, &img, &p).unwrap();
        assert_eq!(plain.timing_source, SOURCE_WALL);
        assert_eq!(plain.timings.len(), 1);
        assert!(!ctx.profiling());

        ctx.set_profiling(true);
        let timed = crate::backend::gpu::segment(&ctx, &img, &p).unwrap();
        let want = if ctx.timestamps_supported() {
            SOURCE_TIMESTAMPS
        } else {
            SOURCE_WALL_SYNCED
        };
        assert_eq!(timed.timing_source, want);
        let names: Vec<_> = timed.timings.iter().map(|(n, _)| *n).collect();
        let cpu_names: Vec<_> = cpu.timings.iter().map(|(n, _)| *n).collect();
        let lecture: Vec<_> = STAGES
            .into_iter()
            .filter(|s| !["smooth", "background", "core", "maxima", "filter"].contains(s))
            .collect();
        assert_eq!(names, lecture);
        assert_eq!(names, cpu_names);
        // the optional stages, when they run, in the same order as on the CPU
        let rods = crate::pipeline::Params {
            smooth: 1,
            background: Some(3),
            level: crate::cpu::threshold::Level::Fixed(
                crate::cpu::threshold::Decimal::parse("128").unwrap(),
            ),
            core: crate::cpu::threshold::Decimal::parse("100"),
            flood: crate::pipeline::Flood::Intensity,
            ..crate::pipeline::Preset::Rods.params()
        };
        let cpu_rods = segment_cpu(&img, &rods).unwrap();
        let timed_rods = crate::backend::gpu::segment(&ctx, &img, &rods).unwrap();
        let names: Vec<_> = timed_rods.timings.iter().map(|(n, _)| *n).collect();
        let cpu_names: Vec<_> = cpu_rods.timings.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, cpu_names);
        assert!(["smooth", "background", "core", "maxima", "filter"]
            .iter()
            .all(|s| names.contains(s)));
        assert_eq!(timed_rods.labels, cpu_rods.labels);
        assert!(timed.timings.iter().any(|(_, d)| !d.is_zero()));
        for s in [&plain, &timed] {
            assert_eq!(s.labels, cpu.labels);
            assert_eq!(s.sums, cpu.sums);
        }
    }
}
