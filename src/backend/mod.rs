//! The one backend boundary: a [`Segmenter`] runs frames on the CPU twin ([`cpu`]) or the GPU
//! ([`gpu`]); the choice is made here, in [`Segmenter::new`], and every operation a caller
//! needs — segmenting a frame, the staged search `tune` runs (one front, many marker
//! settings), the GPU's batching switch and counters for `bench`, the default worker count —
//! is a method, so no caller matches on the device. Both backends execute the same
//! [`crate::plan::FramePlan`] and give the same bytes.

pub mod cpu;
pub mod gpu;

use crate::cpu::pairs::PairCount;
use crate::error::Result;
use crate::gpu::GpuContext;
use crate::image::{ImageView, RawImage};
use crate::params::Params;
use crate::stages::{Keep, Stages};

/// Which implementation runs the stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// The CPU twin.
    Cpu,
    /// WGSL compute shaders through wgpu.
    Gpu,
    /// A hardware GPU when one exists, else the CPU.
    #[default]
    Auto,
}

enum Engine {
    Cpu,
    Gpu(Box<GpuContext>),
}

/// A backend ready to segment frames: the CPU twin, or a GPU context (device, compiled
/// pipelines) created once and reused for every frame. `Send + Sync`: frames may be
/// segmented from several threads at once.
pub struct Segmenter {
    engine: Engine,
    description: String,
}

/// What a GPU's watershed batching did ([`Segmenter::batch_stats`]).
pub use crate::gpu::batch::BatchStats;
/// What a frame asks of the GPU ([`Segmenter::count_frame`]).
pub use crate::gpu::counters::GpuCounters;

impl Segmenter {
    /// Prepare `backend`. `Gpu` fails with [`crate::Error::Backend`] (listing the adapters
    /// seen) when no adapter fits; `Auto` takes a hardware GPU when one exists and otherwise
    /// the CPU twin, and [`Segmenter::description`] says which and why.
    pub fn new(backend: Backend) -> Result<Segmenter> {
        let cpu = |description: String| Segmenter {
            engine: Engine::Cpu,
            description,
        };
        match backend {
            Backend::Cpu => Ok(cpu("cpu".into())),
            Backend::Gpu => Ok(Segmenter::on_gpu(GpuContext::new()?)),
            Backend::Auto => match crate::gpu::hardware_adapter() {
                Some(name) => match GpuContext::new() {
                    Ok(ctx) => Ok(Segmenter::on_gpu(ctx)),
                    Err(e) => Ok(cpu(format!("cpu (GPU {name} unusable: {e})"))),
                },
                None => Ok(cpu("cpu (no hardware GPU found)".into())),
            },
        }
    }

    /// A segmenter on a GPU context made elsewhere (a chosen adapter).
    pub fn on_gpu(ctx: GpuContext) -> Segmenter {
        let description = format!("gpu: {}", ctx.adapter_description());
        Segmenter {
            engine: Engine::Gpu(Box::new(ctx)),
            description,
        }
    }

    /// Which backend runs, for people: `cpu`, `gpu: <adapter>`, or `cpu (why not the GPU)`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// `"gpu"` or `"cpu"`, for reports.
    pub fn kind(&self) -> &'static str {
        match self.engine {
            Engine::Cpu => "cpu",
            Engine::Gpu(_) => "gpu",
        }
    }

    /// Whether frames run on a software rasterizer (a GPU adapter that is the CPU, such as
    /// lavapipe: far slower than the CPU backend).
    pub fn is_software(&self) -> bool {
        match &self.engine {
            Engine::Gpu(ctx) => ctx.is_software(),
            Engine::Cpu => false,
        }
    }

    /// Per-stage times for every frame: on the GPU, profiling (timestamp queries where the
    /// adapter has them, else a wait after each stage); the CPU always times its stages.
    pub fn set_profiling(&self, on: bool) {
        if let Engine::Gpu(ctx) = &self.engine {
            ctx.set_profiling(on);
        }
    }

    /// On the GPU: whether the watersheds of frames in flight together run as one stacked
    /// image ([`crate::gpu::batch`]; on by default). Outputs are the same either way.
    pub fn set_batching(&self, on: bool) {
        if let Engine::Gpu(ctx) = &self.engine {
            ctx.set_batching(on);
        }
    }

    /// What the GPU's watershed batching did so far (zeros on the CPU).
    pub fn batch_stats(&self) -> BatchStats {
        match &self.engine {
            Engine::Gpu(ctx) => ctx.batch_stats(),
            Engine::Cpu => BatchStats::default(),
        }
    }

    /// The workers a stream uses by default on frames of `pixels` pixels (when known): every
    /// core on the CPU; on a GPU 8 for frames up to 1 MP, 4 up to 4 MP, else 2. Small frames
    /// are bound by latency (dispatches, readbacks), so more frames in flight — which also
    /// share watersheds — raise throughput; large ones by memory. On an H100 the 1024² stack
    /// ran at 124 frames/s with 8 workers and 79 with 2 (BENCHMARKS-GPU.md).
    pub fn default_workers(&self, pixels: Option<usize>) -> usize {
        match self.engine {
            Engine::Gpu(_) => match pixels {
                Some(p) if p <= 1 << 20 => 8,
                Some(p) if p <= 1 << 22 => 4,
                _ => 2,
            },
            Engine::Cpu => std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// Whether the default worker count depends on the frame size (it does on a GPU).
    pub fn workers_depend_on_size(&self) -> bool {
        matches!(self.engine, Engine::Gpu(_))
    }

    /// Segment one image; both backends give identical [`Stages`].
    pub fn segment(&self, img: &RawImage, params: &Params) -> Result<Stages> {
        self.segment_keep(img, params, Keep::All)
    }

    /// As [`Segmenter::segment`] with only the stage images `keep` names (the others empty, as
    /// [`Keep::trim`] leaves them); the GPU then reads back only those.
    pub fn segment_keep(&self, img: &RawImage, params: &Params, keep: Keep) -> Result<Stages> {
        match &self.engine {
            Engine::Gpu(ctx) => gpu::segment_keep(ctx, img, params, keep),
            Engine::Cpu => cpu::segment_keep(img, params, keep),
        }
    }

    /// As [`Segmenter::segment_keep`] on borrowed samples (a caller's own buffer, not copied
    /// first): the same bytes as the [`RawImage`] holding those samples.
    pub fn segment_view(&self, img: ImageView<'_>, params: &Params, keep: Keep) -> Result<Stages> {
        match &self.engine {
            Engine::Gpu(ctx) => gpu::segment_keep(ctx, img, params, keep),
            Engine::Cpu => cpu::segment_keep(img, params, keep),
        }
    }

    /// What one frame of `img` asks of the GPU ([`GpuCounters`]: submissions, host waits,
    /// passes, copies, clears, writes, steps, sweeps per loop), counted on one run of it with
    /// profiling off and only the labels read back, as a stack streams it; `None` on the CPU.
    /// On a context that has segmented a frame of this size before, this is a stack's
    /// steady state; the first frame also creates the context's uniforms and buffers. The
    /// labels are not returned; frames segmented on other threads meanwhile are not counted.
    pub fn count_frame(&self, img: &RawImage, params: &Params) -> Result<Option<GpuCounters>> {
        let Engine::Gpu(ctx) = &self.engine else {
            return Ok(None);
        };
        let profiling = ctx.profiling();
        ctx.set_profiling(false);
        let before = crate::gpu::counters::snapshot();
        let run = gpu::segment_keep(ctx, img, params, Keep::Labels);
        let counted = crate::gpu::counters::snapshot() - before;
        ctx.set_profiling(profiling);
        run.map(|_| Some(counted))
    }

    /// The pair histogram of two consecutive label images (`width × height` each, row-major,
    /// 0 = background) with `prev` moved by `shift = (dy, dx)`: every (prev label, cur label,
    /// pixels shared), sorted, no zero counts (the tracker's overlap matrix,
    /// [`crate::track::overlap`]). Both backends give the same list: the CPU runs the twin
    /// [`crate::cpu::pairs::pair_histogram`], the GPU one pass
    /// of `shaders/pairs.wgsl` ([`crate::gpu::pairs`]). A slice that is not `width · height`
    /// long is [`crate::Error::BadData`]; an empty frame has no pairs.
    pub fn pair_histogram(
        &self,
        prev: &[u32],
        cur: &[u32],
        width: usize,
        height: usize,
        shift: (i32, i32),
    ) -> Result<Vec<PairCount>> {
        match &self.engine {
            Engine::Gpu(ctx) => gpu::pair_histogram(ctx, prev, cur, width, height, shift),
            Engine::Cpu => cpu::pair_histogram(prev, cur, width, height, shift),
        }
    }

    /// The staged search of `tune`: the front of `front_params` (gray to distance, and the
    /// core) once, then the markers and watershed of every setting on it (each setting
    /// differing from `front_params` only in its markers and flood). Returns each setting's
    /// watershed labels (before the object filter), in order, and whether the core was
    /// stricter than the frame's threshold (else the markers were the mask's own).
    pub fn sweep(
        &self,
        img: &RawImage,
        front_params: &Params,
        settings: &[Params],
    ) -> Result<(Vec<Vec<u32>>, bool)> {
        match &self.engine {
            Engine::Gpu(ctx) => gpu::sweep(ctx, img, front_params, settings),
            Engine::Cpu => cpu::sweep(img, front_params, settings),
        }
    }
}
