//! Pictures of tracks (display only): the overlay with track ids and tails, and the lineage
//! tree as SVG. To be written.
