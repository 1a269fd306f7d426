//! Cells over time: link the objects of consecutive frames into tracks, detect divisions, close
//! gaps, and read lineages and single-cell growth rates off the tracks.
//!
//! - [`overlap`]: the pair histogram of two label images (the whole overlap matrix in one
//!   pass), the linker's only view of the pixels besides each object's own features.
//! - [`features`]: what the linker and the tables need of each object (area, centroid,
//!   pole-to-pole length, whether it touches the frame's edge).
//! - [`link`]: the tracker itself: drift, 1→1 assignment, gap closing, divisions, the window
//!   of frames it holds.
//! - [`crate::assign`]: the exact maximum-weight assignment it links with.
//! - [`draw`]: pictures: the overlay with track ids and tails, the lineage tree as SVG.
//!
//! [`TrackSummary`] is one row of the lineage table: one track, one cell cycle.

pub mod draw;
pub mod features;
pub mod link;
pub mod overlap;
pub mod run;

pub use link::{TrackOptions, TrackStats, TrackedCell, TrackedFrame, Tracker};
pub use overlap::{pair_histogram, PairCount};
pub use run::shape_doubtful;

/// One track (a cell cycle, or the part of one inside the movie): a row of `--lineage`.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackSummary {
    /// The track's id: its label in the relabelled masks and in CTC's `res_track.txt`.
    pub id: u32,
    /// The mother's track id (0: none — present in the first frame, or entered later).
    pub parent: u32,
    /// 0 for a track without a parent, the mother's generation + 1 otherwise.
    pub generation: u32,
    /// First and last frame (0-based, inclusive).
    pub start: usize,
    pub end: usize,
    /// The daughters' ids: two when the cell divides, else none (a cell at the frame's edge
    /// whose other daughter is outside goes on in her track: the images show no division).
    pub children: Vec<u32>,
    /// Whether the cell touches the frame's edge in any of its frames.
    pub touches_border: bool,
    /// Pole-to-pole length in pixels in the first and the last frame.
    pub length_birth: f64,
    pub length_end: f64,
    /// d ln(length)/dt in 1/frame: the least-squares slope of ln(length) over the track's
    /// frames (`None` with fewer than 3 frames).
    pub growth_rate: Option<f64>,
}

impl TrackSummary {
    /// Whether the cell divides in the movie.
    pub fn divides(&self) -> bool {
        !self.children.is_empty()
    }
}
