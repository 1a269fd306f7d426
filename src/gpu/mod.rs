//! The GPU backend: WGSL compute shaders (`shaders/<stage>.wgsl`, embedded by
//! [`crate::shaders`]) run through wgpu, one host module per stage (`src/gpu/<stage>.rs`) next
//! to the stage's CPU twin (`src/cpu/<stage>.rs`). Every stage equals its twin byte for byte.
//!
//! [`GpuContext`] owns the device, its queue and every stage's compiled pipelines (built once,
//! in [`GpuContext::new`]). Stage functions record passes into a caller's
//! `wgpu::CommandEncoder` on device buffers, so a frame is uploaded once and read back once;
//! each stage also has a `run_<stage>` convenience that uploads, runs and reads back (tests).
//!
//! Adapter selection (no panicking wgpu helper): every adapter of the backends allowed by
//! `WGPU_BACKEND` (comma list: `vulkan`, `metal`, `dx12`, `gl`) is enumerated; when
//! `WGPU_ADAPTER_NAME` is set only adapters whose name contains it (case-insensitive) count;
//! adapters without the limits floodseg needs are skipped; among the rest hardware wins over
//! software (CPU) adapters, then Vulkan/Metal/DX12 over GL, then discrete over integrated over
//! virtual devices. When none
//! fits, [`Error::Backend`] lists every adapter seen and why it was passed over.
//!
//! **Reuse across frames.** The GPU backend ([`crate::backend::gpu::run`]) runs each frame of
//! a plan in a [`frame::Frame`]:
//! its storage and readback buffers come from a pool in the context keyed by `(size, usage)`
//! and go back when the frame ends, reused buffers cleared before first use (so the pool cannot
//! change a result). Uniform buffers are immutable and cached by content; bind groups over pooled
//! buffers and cached uniforms are cached too, so a convergence loop binds two groups (ping and
//! pong) instead of making one per sweep, and the next same-size frame makes none. The context
//! stays `Send + Sync` (checked at compile time) and the caches are behind one mutex.
//!
//! **What a frame costs** (`backend::gpu::run`, profiling off): one upload of the samples
//! (`Queue::write_buffer`), then
//! - `gray`: 1 submission; with a fixed threshold on the gray keys themselves (no `--smooth`,
//!   no `--background`), nothing of its own: `gray_threshold` does gray and threshold in one
//!   pass of the front's main submission;
//! - `smooth` (`--smooth N`): 1 submission (2N passes);
//! - `background` (`--background R`): 1 submission (5 passes);
//! - `threshold`: with Otsu on an integer gray image, 1 submission + 1 readback of the
//!   histogram (256 or 65536 `u32`); with a fixed level, or Otsu on RGB/float (host histogram),
//!   nothing of its own;
//! - `threshold` pass (or `gray_threshold`) + `opening` + `distance`: 1 submission together;
//! - `peaks`: `B_p` submissions, each with a 16-byte readback of the loop's flag words (the
//!   setup passes ride in the first, the last of them setting the loop's flags; the tiled
//!   spacing sweeps' last state buffer is the output; the first batch is as long as the last
//!   frame's loop needed plus one, else 8, then doubling up to 256 sweeps);
//!   or, with `--markers regional|hmax`, `maxima`: its reconstruction (hmax) and plateau loops
//!   in the same batched way;
//! - `components`: 1 submission, nothing read back;
//! - `watershed`: `B_c + B_l` submissions, each with a 16-byte flag readback (batches as for
//!   the peaks, up to 64 sweeps; `ws_start` rides in the cost loop's first batch and sets both
//!   loops' flags, `ws_output` ends every label batch); when frames in flight on several
//!   threads reach it together, one of them runs all their watersheds as one stacked image (2
//!   more submissions: stacking and unstacking copies) and the others wait for it instead
//!   ([`batch`]);
//! - the object count: 1 submission + 1 readback of 4 bytes (it sizes the measure buffer);
//! - `measure`: 1 submission;
//! - `filter` (`--min-area` and the other object filters): 1 readback of the measure's sums
//!   (the host makes the renumbering table from them) + 1 submission (table upload, one pass);
//! - the result: 1 submission + 1 readback of what the caller keeps ([`crate::stages::Keep`]:
//!   the labels, the gray image too for overlays, every stage image for `--save-stages`) and the
//!   sums (one wait for all of them).
//!
//! Every pass is its own compute pass holding one direct dispatch (no indirect dispatch, so
//! wgpu adds no validation dispatches). A convergence sweep is one pass and nothing else: its
//! shader returns at once when the sweep before it changed nothing ([`sweeps`]).
//!
//! That is `5 + B_p + B_c + B_l` submissions with the fused gray and threshold, else one more
//! (and one more with Otsu on integer images); the readbacks gather their small parts (counts,
//! flags) into one copy ([`gather`]). Host waits:
//! `2 + B_p + B_c + B_l` on a context's first frame (3 with that Otsu, 1 more with a filter);
//! after it, each loop's first batch is predicted from the frame before and submitted without a
//! wait, its flags read with the object count ([`sweeps`], "Speculation"), so a frame in a
//! stack waits twice (the count, the result) and its loops take one batch each; a
//! misprediction doubles the short loop's batch and reruns the back stages, speculating again
//! (one more wait) up to [`sweeps::SPECULATIVE_RERUNS`] times, then with a wait per batch
//! (`reruns` in the counts).
//! Scratch buffers, whose first pass writes every element, are not cleared
//! ([`frame::Frame::scratch`]); the accumulators are prepared by staged writes (the mask
//! count and the peaks' bounds share one, the measure's sums get their initial records) or
//! zeroed by a pass. Without an object filter the measure pass copies the labels in front of
//! its sums, so the result's readback is one copy for both. The counts are measured, not only read off the code: [`counters`]
//! counts every submission, wait, pass, copy, clear and staged write of a frame
//! (`floodseg bench --json`, `gpu_counters`; held by `tests/gpu/counters.rs`). Every host wait
//! has a time limit ([`GpuContext::set_wait_timeout`], [`Error::DeviceTimeout`]). Profiling
//! ([`GpuContext::set_profiling`], see [`timing`]) adds, with timestamps, 2 submissions (the
//! threshold and opening get their own) and one readback of the resolved queries; without, a
//! device wait after every stage.
//!
//! Errors: validation and out-of-memory errors are captured with error scopes around pipeline
//! creation and around every submission and returned as [`Error::Backend`]; anything that
//! escapes a scope is recorded by the uncaptured-error handler (which never panics) and reported
//! by the next call. Sizes are checked against the device's limits before any allocation
//! ([`GpuContext::check_size`], [`Error::Limit`]).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use bytemuck::Pod;
use wgpu::util::DeviceExt;

use crate::error::{Error, Result};

/// How long a host wait for the device may take by default before it becomes
/// [`Error::DeviceTimeout`]: far beyond any frame's work (a 4096² frame takes seconds on
/// lavapipe), so only a hung device or driver reaches it.
pub const DEFAULT_WAIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

/// [`DEFAULT_WAIT_TIMEOUT`], or `FLOODSEG_GPU_TIMEOUT` seconds (0: no limit) when set.
fn default_wait_timeout() -> std::time::Duration {
    std::env::var("FLOODSEG_GPU_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(DEFAULT_WAIT_TIMEOUT, std::time::Duration::from_secs_f64)
}

pub mod background;
pub mod batch;
pub mod components;
pub mod counters;
pub mod distance;
pub mod filter;
pub mod frame;
pub mod gather;
pub mod gray;
pub mod maxima;
pub mod measure;
pub mod opening;
pub mod pairs;
pub mod peaks;
pub mod scan;
pub mod smooth;
pub mod sweeps;
pub mod threshold;
pub mod timing;
pub mod watershed;

/// The wgpu this backend is built with (for callers that record their own passes).
pub use wgpu;

/// Invocations per workgroup of every 1-D entry point (`@workgroup_size(64)` in the shaders).
pub const WORKGROUP_SIZE: u32 = 64;

/// Storage buffers per shader stage the stages need (the watershed's passes need 8;
/// `Limits::downlevel_defaults()` allows only 4).
pub const REQUIRED_STORAGE_BUFFERS: u32 = 8;

/// How an entry point's binding is declared (binding `i` is parameter `i` of the twin).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// `var<uniform>` (the twin's `&Params`).
    Uniform,
    /// `var<storage, read>` (the twin's `&[u32]`).
    Read,
    /// `var<storage, read_write>` (the twin's `&mut [u32]`).
    ReadWrite,
}

/// One compiled entry point with its explicit bind group layout.
pub struct Kernel {
    /// `"<stage>.<entry point>"`.
    pub name: String,
    /// `"floodseg.<stage>.<entry point>"` (bind groups, passes).
    label: String,
    pub bindings: Vec<Access>,
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

impl Kernel {
    /// Compile entry point `entry` of `module` (stage `stage`) with the given bindings.
    pub(crate) fn new(
        device: &wgpu::Device,
        module: &wgpu::ShaderModule,
        stage: &str,
        entry: &str,
        bindings: &[Access],
    ) -> Kernel {
        let name = format!("{stage}.{entry}");
        let entries: Vec<wgpu::BindGroupLayoutEntry> = bindings
            .iter()
            .enumerate()
            .map(|(i, a)| wgpu::BindGroupLayoutEntry {
                binding: i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: match a {
                        Access::Uniform => wgpu::BufferBindingType::Uniform,
                        Access::Read => wgpu::BufferBindingType::Storage { read_only: true },
                        Access::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                    },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            })
            .collect();
        let label = format!("floodseg.{name}");
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(&label),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(&label),
            bind_group_layouts: &[Some(&layout)],
            ..Default::default()
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&label),
            layout: Some(&pipeline_layout),
            module,
            entry_point: Some(entry),
            compilation_options: Default::default(),
            cache: None,
        });
        Kernel {
            name,
            label,
            bindings: bindings.to_vec(),
            pipeline,
            layout,
        }
    }
}

/// An entry point's name and its bindings (binding `i` is parameter `i` of the twin function).
pub type EntryPoint = (&'static str, &'static [Access]);

/// Compile entry point `entry` of a stage, its bindings taken from the stage's `ENTRY_POINTS`.
pub(crate) fn kernel(
    device: &wgpu::Device,
    module: &wgpu::ShaderModule,
    stage: &str,
    table: &[EntryPoint],
    entry: &str,
) -> Kernel {
    let bindings = table
        .iter()
        .find(|(name, _)| *name == entry)
        .map(|(_, b)| *b)
        .unwrap_or_else(|| panic!("{stage}: no entry point {entry} in ENTRY_POINTS"));
    Kernel::new(device, module, stage, entry, bindings)
}

/// Compile `shaders/<stage>.wgsl`.
pub(crate) fn shader_module(
    device: &wgpu::Device,
    stage: &str,
    source: &str,
) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(&format!("floodseg.{stage}")),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    })
}

/// Every stage's compiled kernels.
pub(crate) struct Kernels {
    pub gray: gray::Kernels,
    pub threshold: threshold::Kernels,
    pub opening: opening::Kernels,
    pub distance: distance::Kernels,
    pub components: components::Kernels,
    pub scan: scan::Kernels,
    pub watershed: watershed::Kernels,
    pub peaks: peaks::Kernels,
    pub maxima: maxima::Kernels,
    pub measure: measure::Kernels,
    pub smooth: smooth::Kernels,
    pub background: background::Kernels,
    pub filter: filter::Kernels,
    pub pairs: pairs::Kernels,
    pub gather: gather::Kernels,
}

/// The device, its queue and every stage's pipelines. Create once, reuse for every frame.
pub struct GpuContext {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    limits: wgpu::Limits,
    /// Errors that escaped the error scopes (uncaptured handler, device loss).
    uncaptured: Arc<Mutex<Vec<String>>>,
    pub(crate) kernels: Kernels,
    /// The device has `TIMESTAMP_QUERY` (requested when the adapter offers it).
    timestamps: bool,
    /// The device has `TIMESTAMP_QUERY_INSIDE_ENCODERS` too.
    timestamps_inside_encoders: bool,
    /// Per-stage timings asked for ([`GpuContext::set_profiling`]).
    profiling: AtomicBool,
    /// Objects reused across frames (see [`frame`]).
    caches: Mutex<Caches>,
    /// The convergence loops' batch sizes ([`sweeps`]).
    pub(crate) predictions: sweeps::Predictions,
    /// Tests: fill every scratch buffer ([`frame::Frame::scratch`]) with [`frame::POISON`]
    /// before use, so a pass that does not write every element shows in its output.
    pub(crate) poison_scratch: AtomicBool,
    /// The longest a host wait for the device may take, in milliseconds (0: no limit); see
    /// [`GpuContext::set_wait_timeout`].
    wait_timeout_ms: AtomicU64,
    /// Frames in flight together may share one watershed ([`batch`]); on by default.
    batching: AtomicBool,
    /// The watershed batcher ([`batch`]).
    pub(crate) batcher: batch::Batcher,
    /// This context's number (keys [`LAST_SUBMISSION`]).
    id: u64,
}

/// Contexts made so far (each gets the next number).
static CONTEXTS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// The last submission this thread made on each context (by [`GpuContext`] number). A
    /// readback waits for it, not for the queue's latest submission: with several frames in
    /// flight on several threads, waiting for the latest would make every worker's readback
    /// wait for every other worker's device work (submissions complete in order, so this
    /// thread's last one covers everything it depends on, a batch leader's copies included).
    static LAST_SUBMISSION: RefCell<Vec<(u64, wgpu::SubmissionIndex)>> = const { RefCell::new(Vec::new()) };
}

/// A pooled buffer's key: size in bytes and usages.
pub(crate) type PoolKey = (u64, wgpu::BufferUsages);

/// Most content-keyed uniform buffers kept ([`GpuContext::uniform`]).
const MAX_UNIFORMS: usize = 1024;
/// Most bind groups kept ([`GpuContext::dispatch`]).
const MAX_BIND_GROUPS: usize = 4096;

/// Device objects reused across frames.
#[derive(Default)]
struct Caches {
    /// Buffers of [`frame::Frame`]s, by key. One whose `Arc` only the pool holds is free (no
    /// frame holds it); a frame holds its buffers until it ends, after its last readback.
    pool: HashMap<PoolKey, Vec<Arc<wgpu::Buffer>>>,
    /// Uniform buffers by content (immutable: `UNIFORM` usage only, never written again).
    uniforms: HashMap<Vec<u8>, wgpu::Buffer>,
    /// Pooled buffers and cached uniforms: a bind group over these only is cached.
    lasting: HashSet<wgpu::Buffer>,
    /// Bind groups by kernel (its address in the context) and buffers.
    bind_groups: HashMap<(usize, Vec<wgpu::Buffer>), wgpu::BindGroup>,
}

impl Caches {
    /// Drop cached bind groups and uniforms (bind groups first: they keep their buffers alive).
    fn clear_uniforms(&mut self) {
        self.bind_groups.clear();
        for u in std::mem::take(&mut self.uniforms).into_values() {
            self.lasting.remove(&u);
        }
    }
}

// One context serves every frame, from any thread.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<GpuContext>();
};

/// One line per adapter: `name (backend, device type)`.
fn describe(info: &wgpu::AdapterInfo) -> String {
    format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type)
}

/// Preference rank of an adapter (smaller is better): hardware before software (a CPU
/// rasterizer such as lavapipe comes last whatever its API), then Vulkan/Metal/DX12 before GL,
/// then discrete before integrated before virtual GPUs.
fn rank(info: &wgpu::AdapterInfo) -> (u8, u8, u8) {
    let software = (info.device_type == wgpu::DeviceType::Cpu) as u8;
    let backend = match info.backend {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        wgpu::Backend::Gl => 1,
        _ => 2,
    };
    let kind = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    };
    (software, backend, kind)
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.trim().is_empty())
}

/// Which adapters [`GpuContext::with_selection`] may pick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterSelection {
    /// Backends to enumerate.
    pub backends: wgpu::Backends,
    /// Only adapters whose name contains this (case-insensitive).
    pub name: Option<String>,
}

impl AdapterSelection {
    /// From `WGPU_BACKEND` (comma list; default: all) and `WGPU_ADAPTER_NAME` (default: any).
    pub fn from_env() -> Self {
        AdapterSelection {
            backends: wgpu::Backends::from_env().unwrap_or_else(wgpu::Backends::all),
            name: env_nonempty("WGPU_ADAPTER_NAME"),
        }
    }

    fn describe(&self) -> String {
        if *self == AdapterSelection::from_env() {
            format!(
                "WGPU_BACKEND={}, WGPU_ADAPTER_NAME={}",
                env_nonempty("WGPU_BACKEND").unwrap_or_else(|| "(unset)".into()),
                env_nonempty("WGPU_ADAPTER_NAME").unwrap_or_else(|| "(unset)".into())
            )
        } else {
            format!("backends {:?}, name {:?}", self.backends, self.name)
        }
    }
}

impl GpuContext {
    /// Pick an adapter as `WGPU_BACKEND` / `WGPU_ADAPTER_NAME` say (see the module doc), create
    /// the device with the limits floodseg needs and compile every stage's pipelines.
    pub fn new() -> Result<GpuContext> {
        Self::with_selection(&AdapterSelection::from_env())
    }

    /// As [`GpuContext::new`], with the backends and name filter given explicitly.
    pub fn with_selection(selection: &AdapterSelection) -> Result<GpuContext> {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        desc.backends = selection.backends;
        let backends = desc.backends;
        let instance = wgpu::Instance::new(desc);
        let adapters = pollster::block_on(instance.enumerate_adapters(backends));
        let want_name = selection.name.as_ref().map(|s| s.to_lowercase());

        let mut seen = Vec::new();
        let mut candidates = Vec::new();
        for adapter in adapters {
            let info = adapter.get_info();
            let limits = adapter.limits();
            let line = describe(&info);
            if let Some(n) = &want_name {
                if !info.name.to_lowercase().contains(n.as_str()) {
                    seen.push(format!("{line}: name does not match {n:?}"));
                    continue;
                }
            }
            if limits.max_storage_buffers_per_shader_stage < REQUIRED_STORAGE_BUFFERS {
                seen.push(format!(
                    "{line}: allows {} storage buffers per shader stage, floodseg needs {}",
                    limits.max_storage_buffers_per_shader_stage, REQUIRED_STORAGE_BUFFERS
                ));
                continue;
            }
            seen.push(line);
            candidates.push(adapter);
        }
        candidates.sort_by_key(|a| rank(&a.get_info()));
        let Some(adapter) = candidates.into_iter().next() else {
            let filter = selection.describe();
            let list = if seen.is_empty() {
                "none (is a Vulkan, Metal or DX12 driver installed? on Linux without a GPU: \
                 Mesa's lavapipe, package mesa-vulkan-drivers)"
                    .to_string()
            } else {
                seen.join("; ")
            };
            return Err(Error::Backend(format!(
                "no usable GPU adapter ({filter}); adapters seen: {list}"
            )));
        };
        let info = adapter.get_info();
        let adapter_limits = adapter.limits();

        // WebGPU's default limits (8 storage buffers per stage), with buffers as large as the
        // adapter allows, clamped to what the adapter supports.
        let wanted = wgpu::Limits {
            max_storage_buffer_binding_size: adapter_limits.max_storage_buffer_binding_size,
            max_buffer_size: adapter_limits.max_buffer_size,
            ..wgpu::Limits::default()
        };
        let required_limits = wanted.or_worse_values_from(&adapter_limits);
        // Timestamp queries only for the opt-in per-stage timings, and only when offered.
        let offered = adapter.features();
        let required_features = offered
            & (wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS);
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("floodseg"),
            required_features,
            required_limits,
            ..Default::default()
        }))
        .map_err(|e| Error::Backend(format!("{}: cannot create device: {e}", describe(&info))))?;

        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        {
            let sink = uncaptured.clone();
            device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
                if let Ok(mut v) = sink.lock() {
                    v.push(chain(&e));
                }
            }));
            let sink = uncaptured.clone();
            device.set_device_lost_callback(move |reason, message| {
                if let Ok(mut v) = sink.lock() {
                    v.push(format!("device lost ({reason:?}): {message}"));
                }
            });
        }
        let limits = device.limits();

        let kernels = scoped(&device, || Kernels {
            gray: gray::Kernels::new(&device),
            threshold: threshold::Kernels::new(&device),
            opening: opening::Kernels::new(&device),
            distance: distance::Kernels::new(&device),
            components: components::Kernels::new(&device),
            scan: scan::Kernels::new(&device),
            watershed: watershed::Kernels::new(&device),
            peaks: peaks::Kernels::new(&device),
            maxima: maxima::Kernels::new(&device),
            measure: measure::Kernels::new(&device),
            smooth: smooth::Kernels::new(&device),
            background: background::Kernels::new(&device),
            filter: filter::Kernels::new(&device),
            pairs: pairs::Kernels::new(&device),
            gather: gather::Kernels::new(&device),
        })
        .map_err(|e| Error::Backend(format!("{}: compiling the shaders: {e}", describe(&info))))?;

        let ctx = GpuContext {
            device,
            queue,
            info,
            limits,
            uncaptured,
            kernels,
            timestamps: required_features.contains(wgpu::Features::TIMESTAMP_QUERY),
            timestamps_inside_encoders: required_features.contains(
                wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS,
            ),
            profiling: AtomicBool::new(false),
            caches: Mutex::new(Caches::default()),
            predictions: sweeps::Predictions::default(),
            poison_scratch: AtomicBool::new(false),
            wait_timeout_ms: AtomicU64::new(default_wait_timeout().as_millis() as u64),
            batching: AtomicBool::new(true),
            batcher: batch::Batcher::default(),
            id: CONTEXTS.fetch_add(1, Ordering::Relaxed),
        };
        ctx.take_uncaptured()?;
        Ok(ctx)
    }

    /// The adapter in use (name, backend, device type, driver).
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// `name (backend, device type)` of the adapter in use.
    pub fn adapter_description(&self) -> String {
        describe(&self.info)
    }

    /// Whether the adapter is a software rasterizer on the CPU (lavapipe, WARP, SwiftShader).
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// Whether the device can time stages with GPU timestamp queries
    /// (`wgpu::Features::TIMESTAMP_QUERY`, requested when the adapter offers it). Without it,
    /// profiled frames are timed on the host clock (see [`timing`]).
    pub fn timestamps_supported(&self) -> bool {
        self.timestamps
    }

    /// Whether timestamps can be written between passes with `CommandEncoder::write_timestamp`
    /// (`TIMESTAMP_QUERY_INSIDE_ENCODERS`); otherwise empty timed passes are used.
    pub fn timestamps_inside_encoders(&self) -> bool {
        self.timestamps_inside_encoders
    }

    /// Ask for per-stage timings in `Stages::timings` (default off): GPU timestamps when
    /// [`GpuContext::timestamps_supported`], else the host clock with the device waited for
    /// after every stage. Off, a frame records no timestamps and reads nothing extra back.
    pub fn set_profiling(&self, on: bool) {
        self.profiling.store(on, Ordering::Relaxed);
    }

    /// Whether per-stage timings are on ([`GpuContext::set_profiling`]).
    pub fn profiling(&self) -> bool {
        self.profiling.load(Ordering::Relaxed)
    }

    /// The device's limits.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.limits
    }

    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    pub fn queue(&self) -> &wgpu::Queue {
        &self.queue
    }

    /// Check that a `width × height` frame fits the device (one `u32` per pixel per buffer;
    /// enough workgroups), before anything is allocated. [`Error::Limit`] names the limit.
    /// The gray stage's input holds one `u32` per *sample*: check it with
    /// [`GpuContext::check_len`] (`pixels × channels`), as [`gray::run_gray`] does.
    pub fn check_size(&self, width: usize, height: usize) -> Result<()> {
        if width == 0 || height == 0 {
            return Err(Error::BadData(format!("image is empty ({width}×{height})")));
        }
        let pixels = (width as u64).saturating_mul(height as u64);
        self.check_len(&format!("a {width}×{height} image"), pixels)
    }

    /// Check that a buffer of `len` `u32`s fits the device. `what` names it in the error.
    pub fn check_len(&self, what: &str, len: u64) -> Result<()> {
        let bytes = len.saturating_mul(4);
        let binding = self.limits.max_storage_buffer_binding_size;
        if bytes > binding {
            return Err(Error::Limit(format!(
                "{what} needs {bytes} bytes per buffer; the device's max_storage_buffer_binding_size \
                 is {binding} bytes ({})",
                describe(&self.info)
            )));
        }
        if bytes > self.limits.max_buffer_size {
            return Err(Error::Limit(format!(
                "{what} needs {bytes} bytes per buffer; the device's max_buffer_size is {} bytes ({})",
                self.limits.max_buffer_size,
                describe(&self.info)
            )));
        }
        let groups = len.div_ceil(WORKGROUP_SIZE as u64);
        let max = self.limits.max_compute_workgroups_per_dimension as u64;
        if groups > max * max {
            return Err(Error::Limit(format!(
                "{what} needs {groups} workgroups; the device's max_compute_workgroups_per_dimension \
                 is {max} ({})",
                describe(&self.info)
            )));
        }
        if len > u32::MAX as u64 {
            return Err(Error::Limit(format!(
                "{what} has {len} elements; indices are u32"
            )));
        }
        Ok(())
    }

    /// The 2-D workgroup grid covering `n` invocations (`ceil(n / 64)` workgroups, folded into
    /// rows of at most `max_compute_workgroups_per_dimension`; shaders take the flat index
    /// `gid.y * num_workgroups.x * 64 + gid.x` and skip indices ≥ n).
    pub fn workgroups(&self, n: u32) -> (u32, u32) {
        self.fold_groups(n.div_ceil(WORKGROUP_SIZE))
    }

    /// `groups` workgroups (at least one) folded into rows of at most
    /// `max_compute_workgroups_per_dimension`: shaders take the flat workgroup index
    /// `workgroup_id.y * num_workgroups.x + workgroup_id.x` and skip those past the last.
    pub fn fold_groups(&self, groups: u32) -> (u32, u32) {
        let groups = groups.max(1);
        let max = self.limits.max_compute_workgroups_per_dimension.max(1);
        let x = groups.min(max);
        (x, groups.div_ceil(x))
    }

    /// Record one dispatch of `kernel` over `n` invocations, binding `buffers[i]` at binding `i`
    /// (the twin's parameter order). Records nothing when `n == 0`.
    pub fn dispatch(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kernel: &Kernel,
        buffers: &[&wgpu::Buffer],
        n: u32,
    ) {
        debug_assert_eq!(buffers.len(), kernel.bindings.len(), "{}", kernel.name);
        if n == 0 {
            return;
        }
        let (x, y) = self.workgroups(n);
        self.pass(encoder, kernel, buffers, |p| p.dispatch_workgroups(x, y, 1));
    }

    /// One compute pass of `kernel` over `buffers` (its bind group cached where it may be),
    /// the dispatch recorded by `dispatch`.
    fn pass(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kernel: &Kernel,
        buffers: &[&wgpu::Buffer],
        dispatch: impl FnOnce(&mut wgpu::ComputePass),
    ) {
        let bind_group = self.bind_group(kernel, buffers);
        counters::count(|c| {
            c.passes += 1;
            c.dispatches += 1;
        });
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(&kernel.label),
            timestamp_writes: None,
        });
        pass.set_pipeline(&kernel.pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        dispatch(&mut pass);
    }

    /// Record one dispatch of `kernel` with explicit workgroup counts `(x, y, z)` (kernels
    /// with two-dimensional workgroups, e.g. the watershed's tiles).
    pub fn dispatch_groups(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kernel: &Kernel,
        buffers: &[&wgpu::Buffer],
        groups: [u32; 3],
    ) {
        debug_assert_eq!(buffers.len(), kernel.bindings.len(), "{}", kernel.name);
        if groups.contains(&0) {
            return;
        }
        self.pass(encoder, kernel, buffers, |p| {
            p.dispatch_workgroups(groups[0], groups[1], groups[2])
        });
    }

    /// The bind group of `kernel` over `buffers`. Bind groups over pooled buffers and cached
    /// uniforms only (a frame's, see [`frame`]) are cached, so a convergence loop's ping-pong
    /// sweeps and the next frame of the same size reuse them; others are made each time.
    fn bind_group(&self, kernel: &Kernel, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let make = || {
            let entries: Vec<wgpu::BindGroupEntry> = buffers
                .iter()
                .enumerate()
                .map(|(i, b)| wgpu::BindGroupEntry {
                    binding: i as u32,
                    resource: b.as_entire_binding(),
                })
                .collect();
            self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(&kernel.label),
                layout: &kernel.layout,
                entries: &entries,
            })
        };
        let mut c = self.caches();
        if !buffers.iter().all(|b| c.lasting.contains(*b)) {
            return make();
        }
        let key = (
            kernel as *const Kernel as usize,
            buffers.iter().map(|b| (*b).clone()).collect::<Vec<_>>(),
        );
        if let Some(bg) = c.bind_groups.get(&key) {
            return bg.clone();
        }
        if c.bind_groups.len() >= MAX_BIND_GROUPS {
            c.bind_groups.clear();
        }
        let bg = make();
        c.bind_groups.insert(key, bg.clone());
        bg
    }

    fn caches(&self) -> std::sync::MutexGuard<'_, Caches> {
        match self.caches.lock() {
            Ok(c) => c,
            Err(p) => p.into_inner(),
        }
    }

    /// Let frames segmented at the same time on several threads share one watershed (the
    /// default; see [`batch`]) or not. Outputs do not depend on it.
    pub fn set_batching(&self, on: bool) {
        self.batching.store(on, Ordering::Relaxed);
    }

    /// Whether frames may share a watershed ([`GpuContext::set_batching`]).
    pub fn batching(&self) -> bool {
        self.batching.load(Ordering::Relaxed)
    }

    /// Watershed batches of two or more frames run so far on this context, and their frames.
    pub fn batch_stats(&self) -> batch::BatchStats {
        self.batcher.stats()
    }

    /// Tests: hold the watershed batcher as if a batch were running (waiting for one that is),
    /// so that frames reaching the watershed on other threads queue instead of running alone;
    /// dropping the hold lets them run as stacked batches. With [`GpuContext::queued_frames`]
    /// this makes frames meet deterministically, whatever the device's speed.
    #[doc(hidden)]
    pub fn hold_batches(&self) -> batch::BatchHold<'_> {
        self.batcher.hold()
    }

    /// Tests: record every batch of every convergence loop `k` sweeps long (`None`, the
    /// default: the first batch as long as the last frame's loop needed, then doubling). Outputs
    /// do not depend on it.
    #[doc(hidden)]
    pub fn set_loop_batch(&self, k: Option<u32>) {
        self.predictions.set_fixed(k.map(|k| k.max(1)));
    }

    /// The longest a host wait for the device may take before it fails with
    /// [`Error::DeviceTimeout`] (`None`: no limit). The default is
    /// [`DEFAULT_WAIT_TIMEOUT`], or `FLOODSEG_GPU_TIMEOUT` seconds when that is set (0: none).
    pub fn set_wait_timeout(&self, limit: Option<std::time::Duration>) {
        let ms = limit.map_or(0, |d| (d.as_millis() as u64).max(1));
        self.wait_timeout_ms.store(ms, Ordering::Relaxed);
    }

    /// The wait limit ([`GpuContext::set_wait_timeout`]).
    pub fn wait_timeout(&self) -> Option<std::time::Duration> {
        match self.wait_timeout_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(std::time::Duration::from_millis(ms)),
        }
    }

    /// Tests: fill every frame's scratch buffers (new or reused) with a poison value before
    /// their first pass, which must then overwrite every element; outputs must not change.
    #[doc(hidden)]
    pub fn set_poison_scratch(&self, on: bool) {
        self.poison_scratch.store(on, Ordering::Relaxed);
    }

    /// Tests: frames queued for the next watershed batch ([`GpuContext::hold_batches`]).
    #[doc(hidden)]
    pub fn queued_frames(&self) -> usize {
        self.batcher.queued()
    }

    /// A uniform buffer holding `value` (label `floodseg.<stage>.<buffer>`). Uniform buffers
    /// are immutable, so they are cached by content and shared (by every frame and pass that
    /// needs the same value).
    pub fn uniform<T: Pod>(&self, label: &str, value: &T) -> wgpu::Buffer {
        let bytes = bytemuck::bytes_of(value);
        let mut c = self.caches();
        if let Some(u) = c.uniforms.get(bytes) {
            return u.clone();
        }
        if c.uniforms.len() >= MAX_UNIFORMS {
            c.clear_uniforms();
        }
        counters::count(|c| c.writes += 1);
        let u = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytes,
                usage: wgpu::BufferUsages::UNIFORM,
            });
        c.uniforms.insert(bytes.to_vec(), u.clone());
        c.lasting.insert(u.clone());
        u
    }

    /// A free pooled buffer of `key`, or a new one; `true` when it was used before (its
    /// contents are then a previous frame's). The caller keeps the `Arc` until its frame ends.
    pub(crate) fn pool_take(&self, label: &str, key: PoolKey) -> (Arc<wgpu::Buffer>, bool) {
        let mut c = self.caches();
        let list = c.pool.entry(key).or_default();
        if let Some(b) = list.iter().find(|b| Arc::strong_count(b) == 1) {
            return (b.clone(), true);
        }
        let b = Arc::new(self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: key.0,
            usage: key.1,
            mapped_at_creation: false,
        }));
        list.push(b.clone());
        c.lasting.insert((*b).clone());
        (b, false)
    }

    /// Free the pooled buffers no frame holds whose key is not in `keep` (after a frame of
    /// another size, the old size's buffers go).
    pub(crate) fn pool_trim(&self, keep: &HashSet<PoolKey>) {
        let mut c = self.caches();
        let mut dropped = Vec::new();
        for (key, list) in c.pool.iter_mut() {
            if keep.contains(key) {
                continue;
            }
            list.retain(|b| {
                let free = Arc::strong_count(b) == 1;
                if free {
                    dropped.push((**b).clone());
                }
                !free
            });
        }
        if dropped.is_empty() {
            return;
        }
        c.pool.retain(|_, l| !l.is_empty());
        c.lasting.retain(|b| !dropped.contains(b));
        // Cached bind groups keep their buffers alive: drop those over a dropped buffer (a
        // measure buffer sized by the last frame's object count, say) and keep the rest.
        c.bind_groups
            .retain(|(_, buffers), _| !buffers.iter().any(|b| dropped.contains(b)));
    }

    /// Free every cached object no frame is using: pooled buffers, uniforms, bind groups.
    pub fn release_cached(&self) {
        self.pool_trim(&HashSet::new());
        self.caches().clear_uniforms();
    }

    /// Number of cached bind groups (tests: a same-size frame adds none).
    #[doc(hidden)]
    pub fn cached_bind_groups(&self) -> usize {
        self.caches().bind_groups.len()
    }

    /// Bytes of device memory held by the buffer pool (in use or free).
    pub fn pooled_bytes(&self) -> u64 {
        self.caches()
            .pool
            .iter()
            .map(|(k, l)| k.0 * l.len() as u64)
            .sum()
    }

    /// A zeroed storage buffer of `len` `u32`s (at least one, so it can be bound).
    pub fn storage(&self, label: &str, len: usize) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: 4 * len.max(1) as u64,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// A storage buffer holding `data` (one upload).
    pub fn storage_init(&self, label: &str, data: &[u32]) -> wgpu::Buffer {
        if data.is_empty() {
            return self.storage(label, 1);
        }
        counters::count(|c| c.writes += 1);
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(data),
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
            })
    }

    pub fn encoder(&self, label: &str) -> wgpu::CommandEncoder {
        self.device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) })
    }

    /// Record a copy of `bytes` bytes from `src` (at `src_offset`) to `dst` (at `dst_offset`).
    /// Every copy of the stages goes through here, so that it is counted ([`counters`]).
    pub fn copy(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        src: &wgpu::Buffer,
        src_offset: u64,
        dst: &wgpu::Buffer,
        dst_offset: u64,
        bytes: u64,
    ) {
        counters::count(|c| c.copies += 1);
        encoder.copy_buffer_to_buffer(src, src_offset, dst, dst_offset, bytes);
    }

    /// Record zeroing all of `buffer` (counted, [`counters`]).
    pub fn clear(&self, encoder: &mut wgpu::CommandEncoder, buffer: &wgpu::Buffer) {
        counters::count(|c| c.clears += 1);
        encoder.clear_buffer(buffer, 0, None);
    }

    /// Write `data` into `buffer` at the start of the next submission (a staged write,
    /// counted, [`counters`]).
    pub fn write(&self, buffer: &wgpu::Buffer, data: &[u32]) {
        self.write_at(buffer, 0, data);
    }

    /// As [`GpuContext::write`], from word `at` of `buffer` on.
    pub fn write_at(&self, buffer: &wgpu::Buffer, at: usize, data: &[u32]) {
        counters::count(|c| c.writes += 1);
        self.queue
            .write_buffer(buffer, 4 * at as u64, bytemuck::cast_slice(data));
    }

    /// Record the passes with `record`, copy `len` `u32`s of `buffer(…)` into a readback
    /// buffer, submit once and read back, with every device error returned as
    /// [`Error::Backend`]. `record` returns the buffer holding the result.
    pub fn run_and_read<F>(&self, label: &str, len: usize, record: F) -> Result<Vec<u32>>
    where
        F: FnOnce(&mut wgpu::CommandEncoder) -> Result<wgpu::Buffer>,
    {
        let mut frame = frame::Frame::detached(self);
        let encoder = self.encoder(label);
        self.run_and_read_in(&mut frame, label, len, encoder, |enc, _| record(enc))
    }

    /// As [`GpuContext::run_and_read`], in `frame` (its buffers, its timer), continuing
    /// `encoder` (which may already hold commands, such as a frame buffer's clear).
    pub(crate) fn run_and_read_in<F>(
        &self,
        frame: &mut frame::Frame,
        label: &str,
        len: usize,
        mut encoder: wgpu::CommandEncoder,
        record: F,
    ) -> Result<Vec<u32>>
    where
        F: FnOnce(&mut wgpu::CommandEncoder, &mut frame::Frame) -> Result<wgpu::Buffer>,
    {
        let readback = scoped(&self.device, || -> Result<wgpu::Buffer> {
            let result = record(&mut encoder, frame)?;
            let bytes = 4 * len as u64;
            let readback = frame.readback(&format!("{label}.readback"), bytes);
            if bytes > 0 {
                self.copy(&mut encoder, &result, 0, &readback, 0, bytes);
            }
            self.queue_submit(encoder.finish());
            Ok(readback)
        })
        .map_err(|e| Error::Backend(format!("{label}: {e}")))??;
        self.take_uncaptured()?;
        let out = self.read_u32(&readback, len)?;
        self.take_uncaptured()?;
        Ok(out)
    }

    /// Submit one command buffer, remembering its index as this thread's last submission on
    /// this context (see [`LAST_SUBMISSION`]). Every submission goes through here.
    pub(crate) fn queue_submit(&self, commands: wgpu::CommandBuffer) {
        let index = self.queue.submit([commands]);
        counters::count(|c| c.submissions += 1);
        LAST_SUBMISSION.with(|l| {
            let mut l = l.borrow_mut();
            match l.iter_mut().find(|(c, _)| *c == self.id) {
                Some(e) => e.1 = index,
                None => l.push((self.id, index)),
            }
        });
    }

    /// Wait until this thread's last submission on this context has completed (and the map
    /// callbacks it allows have run); the queue's latest when this thread made none.
    fn wait_own_submissions(&self) -> Result<()> {
        let own = LAST_SUBMISSION.with(|l| {
            l.borrow()
                .iter()
                .find(|(c, _)| *c == self.id)
                .map(|(_, i)| i.clone())
        });
        counters::count(|c| c.host_waits += 1);
        let timeout = self.wait_timeout();
        let poll = wgpu::PollType::Wait {
            submission_index: own,
            timeout,
        };
        match self.device.poll(poll) {
            Ok(_) => Ok(()),
            Err(wgpu::PollError::Timeout) => Err(Error::DeviceTimeout {
                what: "a frame's submissions".into(),
                seconds: timeout.map_or(0.0, |d| d.as_secs_f64()),
            }),
            Err(e) => Err(Error::Backend(format!("waiting for the device: {e}"))),
        }
    }

    /// Map a `MAP_READ` buffer and copy its first `len` `u32`s out (one host wait).
    pub fn read_u32(&self, buffer: &wgpu::Buffer, len: usize) -> Result<Vec<u32>> {
        Ok(self.read_many(&[(buffer, len)])?.pop().unwrap_or_default())
    }

    /// Map several `MAP_READ` buffers and copy each one's first `len` `u32`s out, with one host
    /// wait for all of them.
    fn read_many(&self, parts: &[(&wgpu::Buffer, usize)]) -> Result<Vec<Vec<u32>>> {
        let mut pending = Vec::new();
        for (i, (buffer, len)) in parts.iter().enumerate() {
            if *len == 0 {
                continue;
            }
            let slice = buffer.slice(..4 * *len as u64);
            let (tx, rx) = mpsc::channel();
            slice.map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send(r);
            });
            pending.push((i, slice, rx));
        }
        let mut out = vec![Vec::new(); parts.len()];
        if pending.is_empty() {
            return Ok(out);
        }
        self.wait_own_submissions()?;
        for (i, slice, rx) in pending {
            match rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    return Err(Error::Backend(format!("mapping the readback buffer: {e}")))
                }
                Err(_) => return Err(Error::Backend("the readback was never mapped".into())),
            }
            out[i] = {
                let view = slice
                    .get_mapped_range()
                    .map_err(|e| Error::Backend(format!("reading the readback buffer: {e}")))?;
                bytemuck::cast_slice::<u8, u32>(&view).to_vec()
            };
            parts[i].0.unmap();
        }
        Ok(out)
    }

    /// Return (and clear) errors that escaped the error scopes.
    fn take_uncaptured(&self) -> Result<()> {
        let mut v = match self.uncaptured.lock() {
            Ok(v) => v,
            Err(p) => p.into_inner(),
        };
        if v.is_empty() {
            return Ok(());
        }
        let msg = v.join("; ");
        v.clear();
        Err(Error::Backend(format!("{}: {msg}", describe(&self.info))))
    }
}

/// Run `f` inside validation and out-of-memory error scopes; an error caught there is returned
/// as its message.
fn scoped<T>(device: &wgpu::Device, f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let value = f();
    let v = pollster::block_on(validation.pop());
    let o = pollster::block_on(oom.pop());
    match (v, o) {
        (None, None) => Ok(value),
        (Some(e), _) => Err(format!("validation error: {}", chain(&e))),
        (None, Some(e)) => Err(format!("out of memory: {}", chain(&e))),
    }
}

/// An error with its chain of sources (wgpu's own message is often just "Validation Error").
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

impl GpuContext {
    /// Read several `u32` buffers back after one submission: each `(buffer, len)` is copied into
    /// a readback buffer of its own (so no readback is larger than the largest part, which the
    /// stages have checked against the device's limits), then all are mapped.
    pub fn read_buffers(
        &self,
        label: &str,
        parts: &[(&wgpu::Buffer, usize)],
    ) -> Result<Vec<Vec<u32>>> {
        self.read_buffers_in(&mut frame::Frame::detached(self), label, parts)
    }

    /// As [`GpuContext::read_buffers`], with `frame`'s readback buffers.
    pub(crate) fn read_buffers_in(
        &self,
        frame: &mut frame::Frame,
        label: &str,
        parts: &[(&wgpu::Buffer, usize)],
    ) -> Result<Vec<Vec<u32>>> {
        // Two or more small parts (counts, convergence flags) are gathered into one buffer
        // first: one pass and one copy instead of a copy each (`gather`).
        let mut small: Vec<usize> = (0..parts.len())
            .filter(|&k| (1..=gather::MAX_WORDS).contains(&parts[k].1))
            .take(gather::MAX_PARTS)
            .collect();
        if small.len() < 2 {
            small.clear(); // one small part: a copy of its own is as cheap
        }
        let gathered = !small.is_empty();
        let readbacks = scoped(&self.device, || {
            let mut encoder = self.encoder(label);
            let mut readbacks: Vec<(wgpu::Buffer, usize)> = Vec::new();
            let read = |frame: &mut frame::Frame,
                        encoder: &mut wgpu::CommandEncoder,
                        buffer: &wgpu::Buffer,
                        n: usize| {
                let bytes = 4 * n as u64;
                let readback = frame.readback(&format!("{label}.readback"), bytes);
                if bytes > 0 {
                    self.copy(encoder, buffer, 0, &readback, 0, bytes);
                }
                (readback, n)
            };
            if gathered {
                let sel: Vec<(&wgpu::Buffer, usize)> = small.iter().map(|&k| parts[k]).collect();
                let words = gather::gather_in(self, frame, &mut encoder, &sel);
                let total = sel.iter().map(|(_, n)| n).sum();
                readbacks.push(read(frame, &mut encoder, &words, total));
            }
            for (k, (buffer, n)) in parts.iter().enumerate() {
                if !small.contains(&k) {
                    readbacks.push(read(frame, &mut encoder, buffer, *n));
                }
            }
            self.queue_submit(encoder.finish());
            readbacks
        })
        .map_err(|e| Error::Backend(format!("{label}: {e}")))?;
        self.take_uncaptured()?;
        let maps: Vec<(&wgpu::Buffer, usize)> = readbacks.iter().map(|(r, n)| (r, *n)).collect();
        let mut read = self.read_many(&maps)?.into_iter();
        self.take_uncaptured()?;
        // back into the parts' order
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); parts.len()];
        if gathered {
            let words = read.next().unwrap_or_default();
            let mut at = 0;
            for &k in &small {
                let n = parts[k].1;
                out[k] = words.get(at..at + n).unwrap_or_default().to_vec();
                at += n;
            }
        }
        for (k, o) in out.iter_mut().enumerate() {
            if !small.contains(&k) {
                *o = read.next().unwrap_or_default();
            }
        }
        Ok(out)
    }

    /// Submit recorded passes, with device errors returned as [`Error::Backend`].
    pub fn submit(&self, label: &str, encoder: wgpu::CommandEncoder) -> Result<()> {
        scoped(&self.device, || {
            self.queue_submit(encoder.finish());
        })
        .map_err(|e| Error::Backend(format!("{label}: {e}")))?;
        self.take_uncaptured()
    }
}

/// The adapter `GpuContext::new()` would pick if it is a hardware GPU (not a software
/// rasterizer): its description, without creating a device. `None` when only software
/// adapters (or none) are available. Used by `--backend auto`.
pub fn hardware_adapter() -> Option<String> {
    let selection = AdapterSelection::from_env();
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = selection.backends;
    let backends = desc.backends;
    let instance = wgpu::Instance::new(desc);
    let want = selection.name.as_ref().map(|s| s.to_lowercase());
    let mut infos: Vec<wgpu::AdapterInfo> =
        pollster::block_on(instance.enumerate_adapters(backends))
            .into_iter()
            .filter(|a| a.limits().max_storage_buffers_per_shader_stage >= REQUIRED_STORAGE_BUFFERS)
            .map(|a| a.get_info())
            .filter(|i| {
                want.as_ref()
                    .is_none_or(|n| i.name.to_lowercase().contains(n.as_str()))
            })
            .collect();
    infos.sort_by_key(rank);
    infos
        .first()
        .filter(|i| i.device_type != wgpu::DeviceType::Cpu)
        .map(describe)
}
