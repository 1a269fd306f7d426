//! What a frame asks of the GPU, counted where the commands are recorded: submissions, host
//! waits, compute passes, copies, clears, staged writes and the sweeps of each convergence loop.
//!
//! These are the fixed costs that bound a frame on real hardware (every Vulkan barrier orders
//! all earlier work in the queue, so each barrier-separated operation is a serial step whatever
//! its size; `../docs/gpu.md`, "What a frame costs"). They depend on how the backend records a
//! frame, not on the device, so lavapipe counts what an H200 would pay and a test can keep them
//! from growing (`tests/gpu/counters.rs`). `floodseg bench --json` reports them as
//! `gpu_counters`.
//!
//! Counted per thread (a frame's stages run on its worker thread; a shared watershed is charged
//! to the frame that ran it). Profiling's own timestamp queries, resolves and waits are not
//! counted: a counted frame runs with profiling off.

use std::cell::Cell;
use std::ops::Sub;

/// The convergence loops (each counts its recorded sweeps and its batches).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loop {
    /// The peaks' spacing walk (`peaks_space_tile` sweeps).
    Peaks,
    /// The maxima's reconstruction and plateau loops (`--markers regional|hmax`).
    Maxima,
    /// The watershed's cost relaxation.
    WsCost,
    /// The watershed's label (best predecessor) relaxation.
    WsLabel,
}

impl Loop {
    pub const ALL: [Loop; 4] = [Loop::Peaks, Loop::Maxima, Loop::WsCost, Loop::WsLabel];

    /// The loop's key in `gpu_counters.sweeps`.
    pub fn name(self) -> &'static str {
        match self {
            Loop::Peaks => "peaks",
            Loop::Maxima => "maxima",
            Loop::WsCost => "ws_cost",
            Loop::WsLabel => "ws_label",
        }
    }
}

/// The sweeps one loop recorded (each one GPU step) and the batches they came in (each one
/// submission and one host wait for the convergence flag).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoopCount {
    pub sweeps: u64,
    pub batches: u64,
}

/// Counts of GPU operations (see the module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GpuCounters {
    /// `Queue::submit` calls.
    pub submissions: u64,
    /// Blocking waits of the host for the device (one per readback round trip).
    pub host_waits: u64,
    /// Compute passes (each holds one dispatch).
    pub passes: u64,
    /// Dispatches recorded (there are no indirect ones, so wgpu adds no validation
    /// dispatches of its own).
    pub dispatches: u64,
    /// Buffer-to-buffer copies (readback copies included).
    pub copies: u64,
    /// Buffer clears.
    pub clears: u64,
    /// Staged writes: `Queue::write_buffer` and buffers created with contents.
    pub writes: u64,
    /// Per loop, in [`Loop::ALL`] order.
    pub loops: [LoopCount; 4],
    /// Back stages run again because a speculated loop needed more sweeps than predicted
    /// ([`super::sweeps`], "Speculation").
    pub reruns: u64,
}

impl GpuCounters {
    /// Every barrier-separated GPU operation: passes, copies, clears and staged writes.
    pub fn steps(&self) -> u64 {
        self.passes + self.copies + self.clears + self.writes
    }

    /// The count of `l`.
    pub fn of(&self, l: Loop) -> LoopCount {
        self.loops[l as usize]
    }

    /// One JSON object (the value of `gpu_counters` in `floodseg bench --json`).
    pub fn to_json(&self) -> String {
        let loops: Vec<String> = Loop::ALL
            .iter()
            .map(|&l| {
                let c = self.of(l);
                format!(
                    "\"{}\":{{\"sweeps\":{},\"batches\":{}}}",
                    l.name(),
                    c.sweeps,
                    c.batches
                )
            })
            .collect();
        format!(
            "{{\"submissions\":{},\"host_waits\":{},\"passes\":{},\"dispatches\":{},\
             \"copies\":{},\"clears\":{},\"writes\":{},\"steps\":{},\"reruns\":{},\
             \"sweeps\":{{{}}}}}",
            self.submissions,
            self.host_waits,
            self.passes,
            self.dispatches,
            self.copies,
            self.clears,
            self.writes,
            self.steps(),
            self.reruns,
            loops.join(",")
        )
    }
}

impl std::ops::Add for GpuCounters {
    type Output = GpuCounters;
    fn add(self, o: GpuCounters) -> GpuCounters {
        let mut loops = self.loops;
        for (a, b) in loops.iter_mut().zip(o.loops) {
            a.sweeps += b.sweeps;
            a.batches += b.batches;
        }
        GpuCounters {
            submissions: self.submissions + o.submissions,
            host_waits: self.host_waits + o.host_waits,
            passes: self.passes + o.passes,
            dispatches: self.dispatches + o.dispatches,
            copies: self.copies + o.copies,
            clears: self.clears + o.clears,
            writes: self.writes + o.writes,
            loops,
            reruns: self.reruns + o.reruns,
        }
    }
}

impl Sub for GpuCounters {
    type Output = GpuCounters;
    fn sub(self, o: GpuCounters) -> GpuCounters {
        let mut loops = self.loops;
        for (a, b) in loops.iter_mut().zip(o.loops) {
            a.sweeps -= b.sweeps;
            a.batches -= b.batches;
        }
        GpuCounters {
            submissions: self.submissions - o.submissions,
            host_waits: self.host_waits - o.host_waits,
            passes: self.passes - o.passes,
            dispatches: self.dispatches - o.dispatches,
            copies: self.copies - o.copies,
            clears: self.clears - o.clears,
            writes: self.writes - o.writes,
            loops,
            reruns: self.reruns - o.reruns,
        }
    }
}

thread_local! {
    static COUNTERS: Cell<GpuCounters> = const {
        Cell::new(GpuCounters {
            submissions: 0,
            host_waits: 0,
            passes: 0,
            dispatches: 0,
            copies: 0,
            clears: 0,
            writes: 0,
            loops: [LoopCount { sweeps: 0, batches: 0 }; 4],
            reruns: 0,
        })
    };
}

/// This thread's counts so far (a frame's are the difference of two snapshots).
pub fn snapshot() -> GpuCounters {
    COUNTERS.with(|c| c.get())
}

/// Add to this thread's counts.
pub(crate) fn count(f: impl FnOnce(&mut GpuCounters)) {
    COUNTERS.with(|c| {
        let mut v = c.get();
        f(&mut v);
        c.set(v);
    });
}

/// Count one batch of `sweeps` sweeps of loop `l`.
pub(crate) fn count_batch(l: Loop, sweeps: u32) {
    count(|c| {
        let e = &mut c.loops[l as usize];
        e.sweeps += u64::from(sweeps);
        e.batches += 1;
    });
}
