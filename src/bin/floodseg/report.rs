//! What the command line prints around the library's work: progress bars (on a terminal
//! only), lines on stderr that do not break a bar, warnings (each kind once; `--strict` makes
//! them errors), and the Ctrl-C / SIGTERM handler.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use floodseg::checks::{Tally, Warning};
use floodseg::{Error, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar counting `unit`s on stderr; hidden with `-q` or when stderr is not a
/// terminal (pipes, CI).
pub(crate) fn progress_bar(len: Option<usize>, quiet: bool, unit: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => ProgressBar::new(n as u64).with_style(
            ProgressStyle::with_template(&format!(
                "{{bar:40}} {{pos}}/{{len}} {unit}  {{per_sec}}  ETA {{eta}}  {{elapsed}}"
            ))
            .expect("a valid template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {{pos}} {unit}  {{per_sec}}  {{elapsed}}"
            ))
            .expect("a valid template"),
        ),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar
}

/// `floodseg: TEXT` on stderr, above the bar when there is one.
pub(crate) fn say(bar: Option<&ProgressBar>, text: &str) {
    match bar {
        Some(b) => b.suspend(|| eprintln!("floodseg: {text}")),
        None => eprintln!("floodseg: {text}"),
    }
}

/// Warnings of a run: each kind said once on stderr as it first happens (even with `-q`), a
/// summary of the frames each kind hit at the end; with `--strict` the first is an error.
pub(crate) struct Warner {
    strict: bool,
    tally: Tally,
}

impl Warner {
    pub(crate) fn new(strict: bool) -> Warner {
        Warner {
            strict,
            tally: Tally::new(),
        }
    }

    pub(crate) fn say(&mut self, w: Warning) -> Result<()> {
        if self.strict {
            return Err(Error::Strict(w.message));
        }
        if let Some(w) = self.tally.add(w) {
            eprintln!("floodseg: warning: {w}");
        }
        Ok(())
    }

    pub(crate) fn summary(&self, frames: usize) {
        for line in self.tally.summary(frames) {
            eprintln!("floodseg: warning: {line}");
        }
    }
}

/// Set by Ctrl-C / SIGTERM: stop reading frames, finish and write the ones in flight.
pub(crate) static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Install the handler: the first signal sets [`INTERRUPTED`], a second stops at once
/// (temporary files are hidden `.NAME.tmp-PID` names, so nothing looks complete).
pub(crate) fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            eprintln!("floodseg: interrupted again; stopping now");
            std::process::exit(130);
        }
        eprintln!(
            "floodseg: interrupted; finishing the frames in flight (interrupt again to stop now)"
        );
    });
}
