//! `floodseg` command line: clap types in [`args`] and one file per subcommand; every file
//! parses arguments, calls the library and prints what it reports — the work is the library's.

mod args;
mod bench;
mod eval;
mod memory;
mod report;
mod segment;
mod synth;
mod track;
mod tune;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "floodseg",
    version,
    about = "Segment bacteria and blob-like cells: threshold → opening → distance → peaks → watershed (scikit-image's lecture pipeline) on the GPU or CPU"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Segment an image, a multi-page TIFF stack, a folder, a glob or a list of frames into
    /// instance labels; print the object count.
    Segment(segment::SegmentArgs),
    /// Measure throughput: per-stage times, MP/s, frames/s and peak memory.
    Bench(bench::BenchArgs),
    /// Score predicted labels against ground truth (StarDist's matching: TP/FP/FN, precision,
    /// recall, F1, mean matched IoU, panoptic quality per IoU threshold).
    Eval(eval::EvalArgs),
    /// Search threshold, smoothing, opening, markers and area filter for the best F1 against
    /// ground truth; print the best settings as `segment` flags.
    Tune(tune::TuneArgs),
    /// Follow cells through a time-lapse: segment (or read labels), link frames, detect
    /// divisions, close gaps; write CTC results, relabelled masks, napari tracks, the lineage
    /// with growth rates, overlays and a lineage tree.
    Track(track::TrackArgs),
    /// Write a synthetic test image (the lecture's canvas, a colony of rods of any size, rods
    /// with ground truth) or a time-lapse of growing, dividing rods with its lineage.
    Synth(synth::SynthArgs),
}

fn main() -> ExitCode {
    // Mesa's Vulkan drivers print "XDG_RUNTIME_DIR is invalid or not set" on every start when a
    // headless server has no login session; they use it for nothing floodseg needs.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    memory::keep_freed_buffers();
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Segment(a) => segment::run(a),
        Cmd::Bench(a) => bench::run(a),
        Cmd::Eval(a) => eval::run(a),
        Cmd::Tune(a) => tune::run(a),
        Cmd::Synth(a) => synth::run(a),
        Cmd::Track(a) => track::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floodseg: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use floodseg::params::Preset;

    /// `--preset`'s help spells out each preset exactly as `Params::to_args` does.
    #[test]
    fn preset_help_names_the_presets_values() {
        use clap::CommandFactory;
        let cmd = Cli::command();
        for sub in ["segment", "bench"] {
            let help = cmd
                .find_subcommand(sub)
                .and_then(|c| c.get_arguments().find(|a| a.get_id() == "preset"))
                .and_then(|a| a.get_help())
                .map(|h| h.to_string())
                .expect("--preset has help");
            let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
            for preset in [Preset::Lecture, Preset::Rods] {
                let args = preset.params().to_args();
                assert!(
                    help.contains(&args),
                    "{sub} --preset help lacks {args:?}: {help}"
                );
            }
        }
    }
}
