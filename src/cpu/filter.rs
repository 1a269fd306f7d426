//! Stage **filter**: drop objects by area (and, in `plan::ObjectFilter::table`, by shape or
//! contact with the edge) and renumber the rest. Class: *map* (one pass; each pixel reads its
//! own label and the table, and writes its own label).
//!
//! 1. On the host, [`keep_table`] turns the objects' areas (pixel counts, `areas[l - 1]` for
//!    label `l`) into a relabelling table: `table[0] = 0`; object `l` is *dropped*
//!    (`table[l] = 0`) when `area < min_area` or `area > max_area`, else it gets the next new
//!    label in label order (`1, 2, 3, …`: the kept objects keep their relative order, so a
//!    labelling numbered in raster order of first pixels stays so). `--clear-border B` drops
//!    the objects [`touches_border`] finds (their bounding box from the measure sums).
//! 2. `filter_relabel` (*map*): `labels[i] = table[labels[i]]`; a label with no table entry
//!    (`labels[i] >= table_len`, never produced by the pipeline) becomes 0, as a label with no
//!    area is no kept object.
//!
//! `min_area = 0` and `max_area = None` keep every object (the table is the identity).

use super::Dims;

/// Uniforms of `filter_relabel` (WGSL `FilterParams`, keep in sync with `shaders/filter.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterParams {
    pub dims: Dims,
    /// Entries of the table (labels `0 .. table_len`); larger labels become 0.
    pub table_len: u32,
}

impl FilterParams {
    /// The parameters for relabelling a `dims` image with `table` (its length saturated to
    /// `u32::MAX`: labels are `u32`).
    pub fn new(dims: Dims, table: &[u32]) -> Self {
        FilterParams {
            dims,
            table_len: u32::try_from(table.len()).unwrap_or(u32::MAX),
        }
    }
}

/// The relabelling table and the number of kept objects: `table[0] = 0`, `table[l]` = the new
/// label of object `l` (kept objects numbered `1, 2, …` in label order) or 0 when its area
/// `areas[l - 1]` is below `min_area` or above `max_area`. `table.len() = areas.len() + 1`
/// (areas beyond label `u32::MAX - 1` are ignored: no `u32` label can name them).
pub fn keep_table(areas: &[u64], min_area: u64, max_area: Option<u64>) -> (Vec<u32>, u32) {
    let areas = &areas[..areas.len().min(u32::MAX as usize - 1)];
    let mut table = Vec::with_capacity(areas.len() + 1);
    table.push(0);
    let mut kept = 0u32;
    for &a in areas {
        if a < min_area || max_area.is_some_and(|m| a > m) {
            table.push(0);
        } else {
            kept += 1;
            table.push(kept);
        }
    }
    (table, kept)
}

/// Whether an object (its measure sums) has a pixel within `border` pixels of the edge of a
/// `dims` frame — in the first or last `border + 1` rows or columns, as scikit-image's
/// `clear_border(labels, buffer_size=border)` marks the border — read from its bounding box
/// (exact: the pixel that sets the box's extreme lies in the band). `clear_border` relabels
/// 8-connected pieces and removes only the pieces that touch; the pipeline's objects are
/// connected, so it removes the same objects. An object without pixels touches nothing; a
/// border as wide as the frame touches every object.
pub fn touches_border(dims: Dims, border: u32, s: &super::measure::ObjectSums) -> bool {
    if s.count == 0 {
        return false;
    }
    let b = u64::from(border);
    let (w, h) = (dims.width as u64, dims.height as u64);
    u64::from(s.min_y) <= b
        || u64::from(s.min_x) <= b
        || u64::from(s.max_y) + b + 1 >= h
        || u64::from(s.max_x) + b + 1 >= w
}

/// Entry point `filter_relabel`: `labels[i] = table[labels[i]]` (0 for labels without an
/// entry).
pub fn filter_relabel(p: &FilterParams, table: &[u32], labels: &mut [u32]) {
    for label in labels[..p.dims.len()].iter_mut() {
        let l = *label;
        let mut v = 0u32;
        if l < p.table_len {
            v = table.get(l as usize).copied().unwrap_or(0);
        }
        *label = v;
    }
}

/// Pixel count of each object `1 ..= n_objects` of a labelling (`areas[l - 1]`; other labels
/// are not counted).
pub fn label_areas(labels: &[u32], n_objects: u32) -> Vec<u64> {
    let mut areas = vec![0u64; n_objects as usize];
    for &l in labels {
        if l != 0 && l <= n_objects {
            areas[l as usize - 1] += 1;
        }
    }
    areas
}

/// The whole stage on the CPU: the labels of the objects of `labels` whose area
/// (`areas[l - 1]`) lies in `[min_area, max_area]`, renumbered `1, 2, …` in label order, and
/// their number. `labels` holds at least `dims.len()` labels.
pub fn filter_labels(
    dims: Dims,
    labels: &[u32],
    areas: &[u64],
    min_area: u64,
    max_area: Option<u64>,
) -> (Vec<u32>, u32) {
    let (table, kept) = keep_table(areas, min_area, max_area);
    let mut out = labels[..dims.len()].to_vec();
    filter_relabel(&FilterParams::new(dims, &table), &table, &mut out);
    (out, kept)
}
