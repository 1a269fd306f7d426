//! Throughput measurement (`floodseg bench`): frames streamed through [`crate::stream::run`]
//! exactly as `segment` streams them (decode and segmentation overlapping, the same workers),
//! without writing outputs; reports per-stage times, end-to-end MP/s and frames/s, and the
//! process's peak resident memory.

use std::fmt;
use std::time::Instant;

use crate::backend::{GpuCounters, Segmenter};
use crate::error::{Error, Result};
use crate::image::RawImage;
use crate::params::Params;

/// What one benchmark run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    /// `cpu` or `gpu`.
    pub backend: String,
    /// The backend's description (adapter name, driver).
    pub adapter: String,
    pub width: usize,
    pub height: usize,
    pub frames: usize,
    /// Frames segmented at once.
    pub threads: usize,
    /// Wall-clock seconds from the first frame requested to the last frame finished.
    pub total_s: f64,
    /// Objects over all frames (so runs can be checked to have done comparable work).
    pub objects: u64,
    /// Peak resident set size of the process, in MiB (`None` where the OS does not say).
    pub peak_rss_mib: Option<f64>,
    /// `gpu-timestamps` when the stage times come from GPU timestamp queries, else
    /// `wall-clock`.
    pub timing_source: String,
    /// Mean time per frame of each stage, in ms, in pipeline order. Measured on the frame's
    /// own worker: with several workers frames overlap, so these add up to more than
    /// [`BenchReport::ms_per_frame`].
    pub stages_ms: Vec<(String, f64)>,
    /// GPU: watershed batches of two or more frames run (frames in flight together sharing one
    /// stacked watershed, `gpu::batch`) and the frames in them; 0 on the CPU.
    pub batches: u64,
    pub batched_frames: u64,
    /// GPU: what one frame asks of the device, counted on one more run of the first frame
    /// after the measured ones (warm context, profiling off; [`Segmenter::count_frame`]; with
    /// one measured frame, after one more uncounted run, so the count is a stack's steady
    /// state); `None` on the CPU.
    pub gpu_counters: Option<GpuCounters>,
    /// GPU, with `floodseg bench --count-stack`: every frame of the run counted again, one
    /// after another on one thread ([`count_stack`]): what a stack's frames ask on average,
    /// mispredicted loops' reruns included (`gpu_counters` counts one frame repeated, whose
    /// predictions always hold).
    pub gpu_counters_stack: Option<StackCounts>,
}

/// The counts of a run of frames ([`count_stack`]): their sum and how many frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StackCounts {
    pub frames: u64,
    pub total: GpuCounters,
}

impl StackCounts {
    /// `{"frames":N,"steps_per_frame":…,"host_waits_per_frame":…,"submissions_per_frame":…,
    /// "reruns":…,"total":{…}}` (means over the frames; `total` as `gpu_counters`).
    pub fn to_json(&self) -> String {
        let n = self.frames.max(1) as f64;
        let t = &self.total;
        format!(
            "{{\"frames\":{},\"steps_per_frame\":{},\"host_waits_per_frame\":{},\
             \"submissions_per_frame\":{},\"reruns\":{},\"total\":{}}}",
            self.frames,
            json_num(t.steps() as f64 / n),
            json_num(t.host_waits as f64 / n),
            json_num(t.submissions as f64 / n),
            t.reruns,
            t.to_json()
        )
    }
}

/// Count every frame of `frames` one after another on this thread ([`Segmenter::count_frame`]:
/// profiling off, the context warm from whatever ran before): `None` on the CPU backend.
pub fn count_stack<I>(
    frames: I,
    segmenter: &Segmenter,
    params: &Params,
) -> Result<Option<StackCounts>>
where
    I: Iterator<Item = Result<RawImage>>,
{
    let mut sum: Option<StackCounts> = None;
    for img in frames {
        let Some(c) = segmenter.count_frame(&img?, params)? else {
            return Ok(None);
        };
        let s = sum.get_or_insert(StackCounts {
            frames: 0,
            total: GpuCounters::default(),
        });
        s.frames += 1;
        s.total = s.total + c;
    }
    Ok(sum)
}

impl BenchReport {
    /// Wall-clock milliseconds per frame (total time / frames).
    pub fn ms_per_frame(&self) -> f64 {
        self.total_s * 1e3 / self.frames.max(1) as f64
    }

    /// Megapixels segmented per second.
    pub fn mp_per_s(&self) -> f64 {
        (self.width * self.height * self.frames) as f64 / self.total_s / 1e6
    }

    /// Frames per second.
    pub fn frames_per_s(&self) -> f64 {
        self.frames as f64 / self.total_s
    }

    /// One JSON object on one line (the keys of `floodseg bench --json`).
    pub fn to_json(&self) -> String {
        let stages: Vec<String> = self
            .stages_ms
            .iter()
            .map(|(k, v)| format!("{}:{}", json_str(k), json_num(*v)))
            .collect();
        format!(
            "{{\"backend\":{},\"adapter\":{},\"width\":{},\"height\":{},\"frames\":{},\
             \"threads\":{},\"total_s\":{},\"ms_per_frame\":{},\"mp_per_s\":{},\
             \"frames_per_s\":{},\"objects\":{},\"peak_rss_mib\":{},\"timing_source\":{},\
             \"stages_ms\":{{{}}},\"batches\":{},\"batched_frames\":{},\"gpu_counters\":{},\
             \"gpu_counters_stack\":{}}}",
            json_str(&self.backend),
            json_str(&self.adapter),
            self.width,
            self.height,
            self.frames,
            self.threads,
            json_num(self.total_s),
            json_num(self.ms_per_frame()),
            json_num(self.mp_per_s()),
            json_num(self.frames_per_s()),
            self.objects,
            self.peak_rss_mib.map_or("null".into(), json_num),
            json_str(&self.timing_source),
            stages.join(","),
            self.batches,
            self.batched_frames,
            self.gpu_counters.map_or("null".into(), |c| c.to_json()),
            self.gpu_counters_stack
                .map_or("null".into(), |c| c.to_json())
        )
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "backend      {}", self.adapter)?;
        writeln!(
            f,
            "frames       {} × {}×{} ({} at once)",
            self.frames, self.width, self.height, self.threads
        )?;
        writeln!(f, "objects      {}", self.objects)?;
        writeln!(
            f,
            "throughput   {:.2} ms/frame, {:.2} frames/s, {:.2} MP/s",
            self.ms_per_frame(),
            self.frames_per_s(),
            self.mp_per_s()
        )?;
        match self.peak_rss_mib {
            Some(m) => writeln!(f, "peak RSS     {m:.1} MiB")?,
            None => writeln!(f, "peak RSS     unknown on this OS")?,
        }
        if self.batches > 0 {
            writeln!(
                f,
                "batching     {} frames shared {} watersheds",
                self.batched_frames, self.batches
            )?;
        }
        if let Some(c) = &self.gpu_counters {
            writeln!(
                f,
                "gpu steps    {} per frame ({} passes, {} copies, {} clears, {} writes); {} \
                 submissions, {} host waits",
                c.steps(),
                c.passes,
                c.copies,
                c.clears,
                c.writes,
                c.submissions,
                c.host_waits
            )?;
        }
        if let Some(c) = &self.gpu_counters_stack {
            let n = c.frames.max(1) as f64;
            writeln!(
                f,
                "stack steps  {:.2} per frame over {} frames; {:.2} host waits per frame, {} \
                 reruns",
                c.total.steps() as f64 / n,
                c.frames,
                c.total.host_waits as f64 / n,
                c.total.reruns
            )?;
        }
        writeln!(f, "stages ({}, mean per frame):", self.timing_source)?;
        for (name, ms) in &self.stages_ms {
            writeln!(f, "  {name:<12} {ms:>10.3} ms")?;
        }
        Ok(())
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "null".into()
    }
}

/// Peak resident set size of this process in bytes (`VmHWM` of `/proc/self/status`; `None`
/// off Linux).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Stream `frames` through `segmenter` with `workers` workers and measure.
pub fn run<I>(
    frames: I,
    segmenter: &Segmenter,
    params: &Params,
    workers: usize,
) -> Result<BenchReport>
where
    I: Iterator<Item = Result<RawImage>> + Send,
{
    let mut shape = None;
    let mut objects = 0u64;
    let mut stages: Vec<(String, f64)> = Vec::new();
    let mut timing_source = String::from("wall-clock");
    let mut first: Option<RawImage> = None;
    let batch0 = segmenter.batch_stats();
    let t0 = Instant::now();
    let keep = crate::stream::Keep::Labels;
    let n = crate::stream::run(frames, segmenter, params, workers, keep, |_, img, s| {
        match shape {
            None => shape = Some((img.width, img.height)),
            Some(wh) if wh != (img.width, img.height) => {
                return Err(Error::BadData(format!(
                    "frames differ in size ({}×{} after {}×{})",
                    img.width, img.height, wh.0, wh.1
                )))
            }
            Some(_) => {}
        }
        if first.is_none() {
            first = Some(img.clone());
        }
        objects += u64::from(s.count());
        timing_source = s.timing_source.to_string();
        for (k, (name, d)) in s.timings.iter().enumerate() {
            let ms = d.as_secs_f64() * 1e3;
            match stages.get_mut(k) {
                Some(e) if e.0 == *name => e.1 += ms,
                _ => stages.push((name.to_string(), ms)),
            }
        }
        Ok(())
    })?;
    let total_s = t0.elapsed().as_secs_f64();
    let Some((width, height)) = shape else {
        return Err(Error::param("--frames", "no frame to run"));
    };
    for e in &mut stages {
        e.1 /= n as f64;
    }
    let batch1 = segmenter.batch_stats();
    let gpu_counters = match &first {
        Some(img) => {
            if n < 2 {
                // a stack's steady state starts at its third frame: the second is the first
                // whose loops speculate (its readback gathers their flags too)
                segmenter.count_frame(img, params)?;
            }
            segmenter.count_frame(img, params)?
        }
        None => None,
    };
    Ok(BenchReport {
        backend: segmenter.kind().into(),
        adapter: segmenter.description().to_string(),
        width,
        height,
        frames: n,
        threads: workers,
        total_s,
        objects,
        peak_rss_mib: peak_rss_bytes().map(|b| b as f64 / (1024.0 * 1024.0)),
        timing_source,
        stages_ms: stages,
        batches: batch1.batches - batch0.batches,
        batched_frames: batch1.frames - batch0.frames,
        gpu_counters,
        gpu_counters_stack: None,
    })
}
