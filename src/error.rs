//! The library's error type. Every failure a user can cause is a variant here, never a panic.
//!
//! The variants separate *bad input* (a malformed or unsupported file, wrong dimensions),
//! *bad parameters*, *limits* (an image larger than the device allows), *device* problems
//! and plain *I/O*, so that the CLI can print one clear line and pick an exit code.

use std::path::PathBuf;

/// Result alias used throughout floodseg.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file exists but cannot be decoded (truncated, corrupt, not an image).
    #[error("{path}: cannot decode image: {reason}")]
    Decode { path: PathBuf, reason: String },

    /// The file decodes but holds something floodseg does not process.
    #[error("{path}: unsupported image: {reason}")]
    Unsupported { path: PathBuf, reason: String },

    /// The pixel data are unusable (e.g. NaN in a float image, zero-sized image).
    #[error("bad image data: {0}")]
    BadData(String),

    /// A parameter is out of range or inconsistent with the input.
    #[error("invalid parameter {name}: {reason}")]
    Parameter { name: &'static str, reason: String },

    /// Flags (or the Python package's keywords) that do not parse: an unknown name, a value
    /// not among a flag's choices. The message is the command-line parser's.
    #[error("{0}")]
    Usage(String),

    /// The image exceeds a limit (of the device, of the label type, of memory).
    #[error("limit exceeded: {0}")]
    Limit(String),

    /// A backend was asked for that cannot run here.
    #[error("backend unavailable: {0}")]
    Backend(String),

    /// The device did not finish a frame's work within the wait's time limit (a hung or
    /// overloaded GPU, a driver watchdog); the context should not be used again.
    #[error("the GPU did not finish within {seconds} s (waiting for {what}); set FLOODSEG_GPU_TIMEOUT=SECONDS to wait longer")]
    DeviceTimeout { what: String, seconds: f64 },

    /// An input file cannot be read (missing, a directory, no permission).
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Writing an output file (or creating its folder) failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Encoding an output file failed.
    #[error("{path}: cannot write: {reason}")]
    Encode { path: PathBuf, reason: String },

    /// The run was stopped (Ctrl-C, SIGTERM) before every frame was done; says what was kept.
    #[error("interrupted: {0}")]
    Interrupted(String),

    /// A check found a likely wrong answer and `--strict` makes warnings errors
    /// ([`crate::checks`]).
    #[error("{0} (--strict makes this warning an error)")]
    Strict(String),
}

impl Error {
    pub fn param(name: &'static str, reason: impl Into<String>) -> Self {
        Error::Parameter {
            name,
            reason: reason.into(),
        }
    }

    /// Exit code for the CLI: 2 bad parameter, 3 unreadable, bad or unsupported input, 4 limit,
    /// 5 backend/device, 6 writing an output, 7 a warning under `--strict`, 130 interrupted (as
    /// shells report Ctrl-C).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Parameter { .. } | Error::Usage(_) => 2,
            Error::Read { .. }
            | Error::Decode { .. }
            | Error::Unsupported { .. }
            | Error::BadData(_) => 3,
            Error::Limit(_) => 4,
            Error::Backend(_) | Error::DeviceTimeout { .. } => 5,
            Error::Io { .. } | Error::Encode { .. } => 6,
            Error::Strict(_) => 7,
            Error::Interrupted(_) => 130,
        }
    }
}
