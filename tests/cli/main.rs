//! The `floodseg` binary end to end (`cargo test --test cli`; the binary is Cargo's
//! `CARGO_BIN_EXE_floodseg`), one module per part of the command line:
//!
//! | module    | what it runs                                                                  |
//! |-----------|-------------------------------------------------------------------------------|
//! | `segment` | the README's main command, `--save-stages` files, stats/overlay, backends, errors |
//! | `modes`   | the accuracy modes: presets, flags that do not fit, `synth rods`, `tune`       |
//! | `stack`   | time-lapse stacks: folders, globs, multi-page TIFFs, workers, memory, bad frames |
//! | `eval`    | `floodseg eval` on sparse annotations, `--frames`, `--per-frame`, warnings, CTC |
//! | `safety`  | outputs that would overwrite inputs or collide, unwritable places, the checks  |
//! | `track`   | `floodseg track`: CTC result and tables, both backends, `--labels`, refusals   |
//! | `synth_timelapse` | `synth timelapse`: the movie, its CTC truth, refusals, segmentability |
//!
//! Each module writes under its own folder of `target/` (`cli-tests`, `cli-modes-tests`,
//! `cli-stack-tests`, `cli-safety-tests`, `cli-synth-tests`; `segment` and `eval` share
//! `cli-tests` with distinct subfolder names), so the modules run in parallel without meeting.

#[path = "../common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::Command;

/// The `floodseg` binary under test.
fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_floodseg"))
}

/// A fresh, empty folder `target/<group>/<name>` (each module writes under its own group).
fn out_dir_in(group: &str, name: &str) -> PathBuf {
    let d = common::repo().join("target").join(group).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

mod eval;
mod modes;
mod safety;
mod segment;
mod stack;
mod synth_timelapse;
mod track;
