//! Pictures of tracks (display only): the overlay with track ids and tails, and the lineage
//! tree as SVG. (Placeholder until the drawing lands: outlines only, a bare SVG.)

use super::TrackSummary;

/// A track's recent centroids (row, column), oldest first.
pub struct Tail {
    pub id: u32,
    pub points: Vec<(f64, f64)>,
}

/// The gray frame with each cell's outline in its track's colour.
pub fn track_overlay(
    width: usize,
    height: usize,
    gray8: &[u8],
    labels: &[u32],
    _tails: &[Tail],
) -> Vec<u8> {
    crate::render::outline_overlay(width, height, gray8, labels)
}

/// The lineage tree as SVG.
pub fn lineage_svg(
    tracks: &[TrackSummary],
    frames: usize,
    _interval_minutes: Option<f64>,
) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><!-- {} tracks, {frames} frames --></svg>\n",
        tracks.len()
    )
}
