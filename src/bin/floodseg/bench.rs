//! `floodseg bench`: frames (a synthetic colony or an input) streamed through the same
//! workers as `segment`, without writing outputs ([`floodseg::bench::run`]).

use std::path::PathBuf;

use floodseg::io::FrameSource;
use floodseg::{bench, synth, Error, RawImage, Result, Segmenter};

use crate::args::{backend_of, params_of, parse_size, PipelineArgs};

#[derive(clap::Args)]
pub(crate) struct BenchArgs {
    /// Frames to run: an image, stack, folder, glob or several files as for `segment`;
    /// default: a synthetic colony of rods (`synth colony`), a new one per frame.
    #[arg(num_args = 0.., value_name = "INPUT")]
    pub(crate) input: Vec<PathBuf>,
    /// Size of the synthetic frames.
    #[arg(long, value_name = "WxH", default_value = "1024x1024")]
    pub(crate) size: String,
    /// Frames to run (default: 20 synthetic frames, or every frame of INPUT; a single image is
    /// repeated).
    #[arg(long, value_name = "N")]
    pub(crate) frames: Option<usize>,
    #[command(flatten)]
    pub(crate) pipeline: PipelineArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// GPU: run every frame's watershed by itself, never stacked with those of the frames in
    /// flight beside it (to measure what that batching gives; outputs are the same).
    #[arg(long)]
    pub(crate) no_batch: bool,
    /// GPU: after the timed run, count what every frame of it asks of the device, one frame
    /// after another (`gpu_counters_stack`: means per frame, mispredicted loops' reruns
    /// included); `gpu_counters` counts the first frame repeated. Runs every frame again.
    #[arg(long)]
    pub(crate) count_stack: bool,
}

pub(crate) fn run(a: BenchArgs) -> Result<()> {
    let params = params_of(&a.pipeline)?;
    let segmenter = Segmenter::new(backend_of(&a.pipeline))?;
    segmenter.set_profiling(true);
    segmenter.set_batching(!a.no_batch);
    let workers = a.pipeline.threads.unwrap_or_else(|| {
        let pixels = if a.input.is_empty() {
            parse_size("--size", &a.size).ok().map(|(w, h)| w * h)
        } else {
            floodseg::run::first_frame_pixels(&a.input, a.pipeline.channel)
        };
        segmenter.default_workers(pixels)
    });
    let report = bench::run(frames_of(&a)?, &segmenter, &params, workers)?;
    let report = if a.count_stack {
        let stack = bench::count_stack(frames_of(&a)?, &segmenter, &params)?;
        bench::BenchReport {
            gpu_counters_stack: stack,
            ..report
        }
    } else {
        report
    };
    if a.json {
        println!("{}", report.to_json());
    } else {
        print!("{report}");
    }
    Ok(())
}

/// The frames `a` asks for (see [`BenchArgs::input`] and [`BenchArgs::frames`]).
fn frames_of(a: &BenchArgs) -> Result<Box<dyn Iterator<Item = Result<RawImage>> + Send>> {
    Ok(if a.input.is_empty() {
        let (w, h) = parse_size("--size", &a.size)?;
        let n = a.frames.unwrap_or(20);
        Box::new((0..n).map(move |t| Ok(synth::colony(w, h, t as u64 + 1))))
    } else {
        let mut source = FrameSource::open_all(&a.input, a.pipeline.channel)?;
        if source.len() == Some(1) && a.frames.is_some_and(|n| n > 1) {
            let img = source
                .next()
                .unwrap_or_else(|| Err(Error::BadData("no frame".into())))?;
            let n = a.frames.unwrap_or(1);
            Box::new((0..n).map(move |_| Ok(img.clone())))
        } else {
            match a.frames {
                Some(n) => Box::new(source.take(n)),
                None => Box::new(source),
            }
        }
    })
}
