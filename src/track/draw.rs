//! Pictures of tracks, for people to look at instead of reading tables (display only: nothing
//! here feeds a comparison).
//!
//! - [`track_overlay`]: one frame in gray with each cell's outline, its track's tail (the
//!   centroid's path over the last frames) and its track id, all in the track's colour
//!   ([`label_color`], the same colour the outline previews use for that label).
//! - [`lineage_svg`]: the lineage tree of the colony as a standalone SVG, time on the x axis,
//!   one row per cell cycle, daughters joined to their mother.
//!
//! Both are pure and deterministic: the same input gives the same bytes, whatever order the
//! tails or tracks come in.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::TrackSummary;
use crate::render::{label_color, outline_overlay};

/// The recent path of one track, for [`track_overlay`].
///
/// A daughter's tail may begin at her mother's last centroid: the two daughters' tails then
/// fork from one point, which is how the overlay shows a division (nothing else marks it).
#[derive(Clone, Debug, PartialEq)]
pub struct Tail {
    /// The track id (the cell's label in the relabelled masks; picks the colour).
    pub id: u32,
    /// The centroid as (row, col) in pixels, oldest first, newest last. Points that are not
    /// finite, or farther than 10¹⁵ px from the origin, break the line there.
    pub points: Vec<(f64, f64)>,
}

/// Colour of the 1-px halo around digits and markers, so they read on any background.
const HALO: [u8; 3] = [0, 0, 0];
/// The halo of the few track colours too dark to stand out from black (deep blues).
const HALO_LIGHT: [u8; 3] = [230, 230, 230];

/// The halo for colour `c`: dark, or light when `c` itself is dark (luma < 64 of 255).
fn halo_for(c: [u8; 3]) -> [u8; 3] {
    let luma = 299 * u32::from(c[0]) + 587 * u32::from(c[1]) + 114 * u32::from(c[2]);
    if luma < 64 * 1000 {
        HALO_LIGHT
    } else {
        HALO
    }
}

/// Coordinates beyond this are treated like non-finite ones (their differences would lose
/// every digit, or overflow).
const FAR: f64 = 1e15;

/// Digits 0–9 in a 3×5 bitmap font, one row per entry, bit 2 = leftmost column.
const DIGITS: [[u8; 5]; 10] = [
    [0b111, 0b101, 0b101, 0b101, 0b111],
    [0b010, 0b110, 0b010, 0b010, 0b111],
    [0b111, 0b001, 0b111, 0b100, 0b111],
    [0b111, 0b001, 0b111, 0b001, 0b111],
    [0b101, 0b101, 0b111, 0b001, 0b001],
    [0b111, 0b100, 0b111, 0b001, 0b111],
    [0b111, 0b100, 0b111, 0b101, 0b111],
    [0b111, 0b001, 0b001, 0b001, 0b001],
    [0b111, 0b101, 0b111, 0b101, 0b111],
    [0b111, 0b101, 0b111, 0b001, 0b111],
];

/// The frame `gray8` (row-major, `width × height`) as RGB (interleaved, `3 · width · height`
/// bytes) with the tracks drawn on it:
///
/// - each object's outline in the colour of its label, which is its track id
///   ([`outline_overlay`]); background pixels and object interiors keep their gray;
/// - each tail as a 1-px polyline through its points (pixel centres at integer coordinates,
///   each segment clipped to the frame, so points outside it are fine);
/// - a small square marker on the newest point (3×3 px, 5×5 from 512 px) and the track id in
///   digits next to it, to its right, or to its left when it would not fit, kept inside the
///   frame. The font is 3×5 px, scaled ×(1 + longer side / 512) up to ×4: ×1 below 512 px,
///   ×2 up to 1023, … Markers and digits get a 1-px halo, dark (light for the few deep-blue
///   track colours). A tail whose newest point lies outside the frame gets neither.
///
/// Everything is drawn in order of track id (tails first, then markers, then digits), so the
/// order of `tails` does not matter. Labels without a tail still get their outline.
///
/// # Panics
/// When `gray8` or `labels` is not `width · height` long (a caller's bug).
pub fn track_overlay(
    width: usize,
    height: usize,
    gray8: &[u8],
    labels: &[u32],
    tails: &[Tail],
) -> Vec<u8> {
    assert_eq!(gray8.len(), width * height, "gray8 is not width × height");
    assert_eq!(labels.len(), width * height, "labels is not width × height");
    let mut canvas = Canvas {
        width,
        height,
        rgb: outline_overlay(width, height, gray8, labels),
    };
    if width == 0 || height == 0 {
        return canvas.rgb;
    }
    let scale = (1 + width.max(height) / 512).min(4);
    let s = scale.min(2) as i64; // the marker's radius
    let mut order: Vec<&Tail> = tails.iter().collect();
    // by id, then by points, so even tails sharing an id are drawn in one order
    order.sort_by(|a, b| {
        a.id.cmp(&b.id).then_with(|| {
            let key = |t: &Tail| t.points.iter().flat_map(|p| [p.0, p.1]).collect::<Vec<_>>();
            let (ka, kb) = (key(a), key(b));
            ka.iter()
                .zip(&kb)
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(ka.len().cmp(&kb.len()))
        })
    });
    for t in &order {
        let color = label_color(t.id);
        let pts: Vec<Option<(f64, f64)>> = t.points.iter().map(|&p| usable(p)).collect();
        for pair in pts.windows(2) {
            if let (Some(a), Some(b)) = (pair[0], pair[1]) {
                canvas.segment(a, b, color);
            }
        }
        // a tail of one point draws only its marker
    }
    let newest: Vec<(u32, i64, i64)> = order
        .iter()
        .filter_map(|t| {
            let (r, c) = usable(*t.points.last()?)?;
            let (r, c) = (r.round(), c.round());
            let inside = r >= 0.0 && c >= 0.0 && r < height as f64 && c < width as f64;
            inside.then_some((t.id, r as i64, c as i64))
        })
        .collect();
    for &(id, r, c) in &newest {
        let mask = Mask {
            width: 2 * s as usize + 1,
            height: 2 * s as usize + 1,
            on: vec![true; (2 * s as usize + 1).pow(2)],
        };
        canvas.stamp(&mask, r - s, c - s, label_color(id));
    }
    for &(id, r, c) in &newest {
        let mask = digits_mask(id, scale);
        let (tw, th) = (mask.width as i64, mask.height as i64);
        let (w, h) = (width as i64, height as i64);
        // right of the marker and its halo, else left of it; vertically centred on the point
        let mut x0 = c + s + 3;
        if x0 + tw + 1 > w {
            x0 = c - s - 2 - tw;
        }
        x0 = x0.min(w - 1 - tw).max(1);
        let y0 = (r - th / 2).min(h - 1 - th).max(1);
        canvas.stamp(&mask, y0, x0, label_color(id));
    }
    canvas.rgb
}

/// `p` when it can be drawn (finite and not absurdly far away).
fn usable(p: (f64, f64)) -> Option<(f64, f64)> {
    (p.0.abs() <= FAR && p.1.abs() <= FAR).then_some(p)
}

/// A bitmap to stamp with a halo.
struct Mask {
    width: usize,
    height: usize,
    on: Vec<bool>,
}

/// The decimal digits of `id` in the 3×5 font scaled by `scale`, one column between digits.
fn digits_mask(id: u32, scale: usize) -> Mask {
    let text = id.to_string();
    let n = text.len();
    let width = (4 * n - 1) * scale;
    let height = 5 * scale;
    let mut on = vec![false; width * height];
    for (k, ch) in text.bytes().enumerate() {
        let glyph = DIGITS[(ch - b'0') as usize];
        for (gy, bits) in glyph.iter().enumerate() {
            for gx in 0..3 {
                if bits & (0b100 >> gx) == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let y = gy * scale + dy;
                        let x = (4 * k + gx) * scale + dx;
                        on[y * width + x] = true;
                    }
                }
            }
        }
    }
    Mask { width, height, on }
}

/// An RGB image being drawn on; every write is bounds-checked (clipped).
struct Canvas {
    width: usize,
    height: usize,
    rgb: Vec<u8>,
}

impl Canvas {
    fn put(&mut self, y: i64, x: i64, c: [u8; 3]) {
        if y < 0 || x < 0 || y >= self.height as i64 || x >= self.width as i64 {
            return;
        }
        let i = 3 * (y as usize * self.width + x as usize);
        self.rgb[i..i + 3].copy_from_slice(&c);
    }

    /// `mask` with its top-left corner at (y0, x0): a 1-px halo (8-neighbourhood, colour
    /// [`halo_for`] `c`) around its set pixels, then the set pixels in `c`.
    fn stamp(&mut self, mask: &Mask, y0: i64, x0: i64, c: [u8; 3]) {
        let halo = halo_for(c);
        let set = |y: i64, x: i64| {
            y >= 0
                && x >= 0
                && (y as usize) < mask.height
                && (x as usize) < mask.width
                && mask.on[y as usize * mask.width + x as usize]
        };
        for y in -1..=mask.height as i64 {
            for x in -1..=mask.width as i64 {
                if !set(y, x) && (-1..=1).any(|dy| (-1..=1).any(|dx| set(y + dy, x + dx))) {
                    self.put(y0 + y, x0 + x, halo);
                }
            }
        }
        for y in 0..mask.height as i64 {
            for x in 0..mask.width as i64 {
                if set(y, x) {
                    self.put(y0 + y, x0 + x, c);
                }
            }
        }
    }

    /// A 1-px DDA line from `a` to `b` ((row, col), pixel centres at integers), clipped to
    /// the frame first so the number of steps never exceeds the frame's size.
    fn segment(&mut self, a: (f64, f64), b: (f64, f64), c: [u8; 3]) {
        let rmax = (self.height - 1) as f64;
        let cmax = (self.width - 1) as f64;
        let Some((a, b)) = clip(a, b, rmax, cmax) else {
            return;
        };
        let (dr, dc) = (b.0 - a.0, b.1 - a.1);
        let n = dr.abs().max(dc.abs()).ceil() as usize;
        for i in 0..=n {
            let t = if n == 0 { 0.0 } else { i as f64 / n as f64 };
            let r = (a.0 + t * dr).round().clamp(0.0, rmax);
            let col = (a.1 + t * dc).round().clamp(0.0, cmax);
            self.put(r as i64, col as i64, c);
        }
    }
}

/// Liang–Barsky: the part of segment `a`–`b` inside [0, rmax] × [0, cmax], if any.
fn clip(a: (f64, f64), b: (f64, f64), rmax: f64, cmax: f64) -> Option<((f64, f64), (f64, f64))> {
    let (dr, dc) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dr, a.0), (dr, rmax - a.0), (-dc, a.1), (dc, cmax - a.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    (t0 <= t1).then_some((
        (a.0 + t0 * dr, a.1 + t0 * dc),
        (a.0 + t1 * dr, a.1 + t1 * dc),
    ))
}

/// Rows between two root trees, in rows.
const ROOT_GAP: f64 = 0.5;

/// Where each track sits in the lineage tree.
struct Layout {
    /// Each track's row (index as in the input), from 0 at the top; leaves on whole rows
    /// plus the gaps between trees, a mother halfway between her first and last daughter.
    row: Vec<f64>,
    /// The daughters laid out under each track, in drawing order.
    kids: Vec<Vec<usize>>,
    /// The tracks in depth-first order (roots in order, each followed by its descendants).
    order: Vec<usize>,
    /// Tree roots, in order.
    roots: Vec<usize>,
    /// Rows in all.
    rows: f64,
}

/// The lineage layout: roots (no parent, a parent that is not in the list, or the track
/// itself) ordered by (start, id), each tree walked depth first with sisters ordered by
/// (start, id), leaves given consecutive rows in the order they are reached. Each subtree thus
/// owns a contiguous band of rows and no lines cross. A track appearing twice uses its first
/// entry as the mother of its daughters. Tracks only reachable through a cycle of parents
/// (bad input) are walked afterwards, each cycle cut at its first track by (start, id); each
/// track is visited once, so the walk always ends.
fn layout(tracks: &[TrackSummary]) -> Layout {
    let n = tracks.len();
    let mut index: HashMap<u32, usize> = HashMap::with_capacity(n);
    for (i, t) in tracks.iter().enumerate() {
        index.entry(t.id).or_insert(i);
    }
    let key = |i: usize| (tracks[i].start, tracks[i].id, i);
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, t) in tracks.iter().enumerate() {
        let parent = match t.parent {
            0 => None,
            p if p == t.id => None,
            p => index.get(&p).copied(),
        };
        match parent {
            Some(p) => children[p].push(i),
            None => roots.push(i),
        }
    }
    for c in &mut children {
        c.sort_by_key(|&i| key(i));
    }
    roots.sort_by_key(|&i| key(i));
    let mut rest: Vec<usize> = (0..n).collect();
    rest.sort_by_key(|&i| key(i));

    let mut row = vec![0.0; n];
    let mut kids: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut order = Vec::with_capacity(n);
    let mut visited = vec![false; n];
    let mut tree_roots = Vec::new();
    let mut next = 0.0f64;
    for r in roots.into_iter().chain(rest) {
        if visited[r] {
            continue;
        }
        if !tree_roots.is_empty() {
            next += ROOT_GAP;
        }
        tree_roots.push(r);
        visited[r] = true;
        order.push(r);
        // iterative post-order walk: (track, next child to look at)
        let mut stack = vec![(r, 0usize)];
        while let Some(top) = stack.last_mut() {
            let (v, k) = *top;
            if k < children[v].len() {
                top.1 += 1;
                let c = children[v][k];
                if !visited[c] {
                    visited[c] = true;
                    kids[v].push(c);
                    order.push(c);
                    stack.push((c, 0));
                }
            } else {
                stack.pop();
                row[v] = match (kids[v].first(), kids[v].last()) {
                    (Some(&a), Some(&b)) => (row[a] + row[b]) / 2.0,
                    _ => {
                        next += 1.0;
                        next - 1.0
                    }
                };
            }
        }
    }
    Layout {
        row,
        kids,
        order,
        roots: tree_roots,
        rows: next,
    }
}

/// SVG colours: the dark background the bright track colours read well on, the text and the
/// faint grid.
const BG: &str = "#181818";
const FG: &str = "#dddddd";
const GRID: &str = "#383838";
/// Tracks with more than this many entries get no id labels (they would not be readable).
const MAX_LABELS: usize = 150;

/// The lineage tree of `tracks` as a standalone SVG document (dark background).
///
/// Time runs along the x axis: in frames, or — when `interval_minutes` is given, finite and
/// positive — in minutes (hours when the axis spans ≥ 3 h), with tick labels, a faint grid
/// and an axis title; it covers `frames` frames, or more when a track ends later. Frame `k`
/// occupies [k, k + 1), so a track is a horizontal line from its `start` to `end + 1` (one
/// frame long at least) and its daughters start where it ends.
///
/// Each track is one horizontal line in its colour ([`label_color`] of its id, as in
/// [`track_overlay`]); a vertical connector at the mother's end joins her daughters, and a
/// dotted gray stub bridges a gap when a daughter starts later. Rows come from a depth-first
/// walk (roots without a parent ordered by start, then id; sisters by start, then id), so
/// sisters and their descendants sit together, each mother halfway between her first and last
/// daughter, and no lines cross (as long as daughters start after their mother ends). The daughters are read off the `parent` fields (not `children`); a parent
/// that is not in the list makes a root, and cycles of parents (bad input) are cut, so any
/// input gives a finite picture. Tracks touching the frame's edge are dashed and faded
/// (legend at the top); with at most 150 tracks each line carries its id (deep blues
/// lightened to stay readable). A tall tree repeats the tick labels on top. Every line has a
/// `data-track` attribute and a `<title>` (id, parent, frames) that viewers show on hover.
///
/// Rows are 18 px high for small trees and shrink to 3 px for thousands of tracks (the
/// picture then grows in height; line width shrinks with the row). An empty list gives a
/// small valid SVG saying "no tracks".
pub fn lineage_svg(
    tracks: &[TrackSummary],
    frames: usize,
    interval_minutes: Option<f64>,
) -> String {
    let mut s = String::new();
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    if tracks.is_empty() {
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"320\" height=\"80\" \
             viewBox=\"0 0 320 80\" font-family=\"sans-serif\">\n\
             <rect width=\"320\" height=\"80\" fill=\"{BG}\"/>\n\
             <text x=\"160\" y=\"46\" font-size=\"16\" fill=\"{FG}\" \
             text-anchor=\"middle\">no tracks</text>\n</svg>\n"
        );
        return s;
    }
    let lay = layout(tracks);
    let t_max = tracks
        .iter()
        .map(|t| t.end.max(t.start).saturating_add(1))
        .max()
        .unwrap_or(1)
        .max(frames)
        .max(1) as f64;

    let rows = lay.rows.max(1.0);
    let row_h = (1400.0 / rows).clamp(3.0, 18.0);
    let lw = (row_h * 0.3).clamp(0.75, 3.0);
    let labels = tracks.len() <= MAX_LABELS;
    let font = (row_h * 0.6).clamp(6.5, 10.0);
    let (left, right, top, bottom) = (28.0, 28.0, 56.0, 56.0);
    let plot_w = 960.0;
    let plot_h = rows * row_h;
    let width = left + plot_w + right;
    let height = top + plot_h + bottom;
    let x_of = |t: f64| left + t / t_max * plot_w;
    let y_of = |r: f64| top + (r + 0.5) * row_h;

    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\">",
        w = num(width),
        h = num(height)
    );
    let _ = writeln!(
        s,
        "<rect width=\"{}\" height=\"{}\" fill=\"{BG}\"/>",
        num(width),
        num(height)
    );

    // title and legend
    let divisions = lay.kids.iter().filter(|k| !k.is_empty()).count();
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"22\" font-size=\"14\" fill=\"{FG}\">lineage: {} tracks, {} \
         dividing, {} trees</text>",
        num(left),
        tracks.len(),
        divisions,
        lay.roots.len()
    );
    let lx = left + plot_w - 330.0;
    let _ = writeln!(
        s,
        "<g font-size=\"11\" fill=\"{FG}\" stroke-width=\"3\">\n\
         <line x1=\"{a}\" y1=\"18\" x2=\"{b}\" y2=\"18\" stroke=\"{FG}\"/>\
         <text x=\"{c}\" y=\"22\">inside the frame</text>\n\
         <line x1=\"{d}\" y1=\"18\" x2=\"{e}\" y2=\"18\" stroke=\"{FG}\" \
         stroke-dasharray=\"6 3\" stroke-opacity=\"0.5\"/>\
         <text x=\"{f}\" y=\"22\">touches the frame's edge</text>\n</g>",
        a = num(lx),
        b = num(lx + 24.0),
        c = num(lx + 30.0),
        d = num(lx + 130.0),
        e = num(lx + 154.0),
        f = num(lx + 160.0),
    );

    // time axis: grid, ticks, labels, title
    let interval =
        interval_minutes.filter(|v| v.is_finite() && *v > 0.0 && (t_max * v).is_finite());
    let (per_frame, title) = match interval {
        None => (1.0, "time (frames)"),
        Some(iv) if t_max * iv >= 180.0 => (iv / 60.0, "time (h)"),
        Some(iv) => (iv, "time (min)"),
    };
    let span = t_max * per_frame;
    let mut step = nice_step(span / 8.0);
    if interval.is_none() {
        step = step.max(1.0);
    }
    let decimals = if step >= 1.0 {
        0
    } else {
        ((-step.log10()).ceil() as usize).min(9)
    };
    let axis_y = top + plot_h + 6.0;
    let _ = writeln!(
        s,
        "<g stroke=\"{GRID}\" stroke-width=\"1\" fill=\"{FG}\" font-size=\"11\" \
         text-anchor=\"middle\">"
    );
    for k in 0..=50u32 {
        let v = f64::from(k) * step;
        if v > span * (1.0 + 1e-9) {
            break;
        }
        let x = x_of(v / per_frame);
        let _ = writeln!(
            s,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\"/>\
             <text x=\"{x}\" y=\"{}\" stroke=\"none\">{:.*}</text>",
            num(top),
            num(axis_y + 4.0),
            num(axis_y + 17.0),
            decimals,
            v,
            x = num(x)
        );
        if plot_h > 900.0 {
            // a tall tree gets the tick labels on top as well
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" stroke=\"none\">{:.*}</text>",
                num(x),
                num(top - 6.0),
                decimals,
                v
            );
        }
    }
    let _ = writeln!(
        s,
        "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{FG}\"/>",
        num(left),
        num(left + plot_w),
        y = num(axis_y)
    );
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" stroke=\"none\" font-size=\"12\">{title}</text>\n</g>",
        num(left + plot_w / 2.0),
        num(axis_y + 38.0)
    );

    // connectors: the mother's colour at her end, dotted stubs over gaps
    let _ = writeln!(s, "<g stroke-width=\"{}\">", num(lw));
    for &i in &lay.order {
        let kids = &lay.kids[i];
        let (Some(&first), Some(&last)) = (kids.first(), kids.last()) else {
            continue;
        };
        let t = &tracks[i];
        let end1 = t.end.max(t.start).saturating_add(1);
        let xe = x_of(end1 as f64);
        let _ = writeln!(
            s,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"{}\"/>",
            num(y_of(lay.row[first]) - lw / 2.0),
            num(y_of(lay.row[last]) + lw / 2.0),
            hex(label_color(t.id)),
            x = num(xe)
        );
        for &k in kids {
            if tracks[k].start > end1 {
                let xs = x_of(tracks[k].start as f64);
                let _ = writeln!(
                    s,
                    "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#888888\" \
                     stroke-dasharray=\"{d} {d}\"/>",
                    num(xe),
                    num(xs),
                    y = num(y_of(lay.row[k])),
                    d = num(lw)
                );
            }
        }
    }
    s.push_str("</g>\n");

    // the tracks: inside the frame solid, touching the edge dashed and faded
    for border in [false, true] {
        if border {
            let _ = writeln!(
                s,
                "<g stroke-width=\"{}\" stroke-dasharray=\"{} {}\" stroke-opacity=\"0.5\">",
                num(lw),
                num(2.0 * lw.max(1.5)),
                num(lw.max(1.5))
            );
        } else {
            let _ = writeln!(s, "<g stroke-width=\"{}\">", num(lw));
        }
        for &i in &lay.order {
            let t = &tracks[i];
            if t.touches_border != border {
                continue;
            }
            let end = t.end.max(t.start);
            let y = num(y_of(lay.row[i]));
            let _ = write!(
                s,
                "<line data-track=\"{id}\" x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" \
                 stroke=\"{}\"><title>track {id}",
                num(x_of(t.start as f64)),
                num(x_of(end.saturating_add(1) as f64)),
                hex(label_color(t.id)),
                id = t.id
            );
            if t.parent != 0 {
                let _ = write!(s, ", parent {}", t.parent);
            }
            let _ = write!(s, ", frames {}–{}", t.start, t.end);
            if t.touches_border {
                s.push_str(", touches the edge");
            }
            s.push_str("</title></line>\n");
        }
        s.push_str("</g>\n");
    }

    // ids above the start of each line
    if labels {
        let _ = writeln!(s, "<g font-size=\"{}\">", num(font));
        for &i in &lay.order {
            let t = &tracks[i];
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>",
                num(x_of(t.start as f64) + 2.0),
                num(y_of(lay.row[i]) - lw / 2.0 - 1.5),
                hex(text_color(label_color(t.id))),
                t.id
            );
        }
        s.push_str("</g>\n");
    }
    s.push_str("</svg>\n");
    s
}

/// The smallest of 1, 2, 5 × 10ᵏ that is ≥ `raw` (1 for anything not positive and finite).
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * mag
}

/// A coordinate with at most two decimals, trailing zeros dropped.
fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// The colour of a track's id label: its track colour, lightened halfway to white when too
/// dark to read on the dark background (the deep blues, as for the overlay's halo).
fn text_color(c: [u8; 3]) -> [u8; 3] {
    if halo_for(c) == HALO_LIGHT {
        c.map(|v| ((u16::from(v) + 255) / 2) as u8)
    } else {
        c
    }
}

/// `#rrggbb`.
fn hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(rgb: &[u8], width: usize, y: usize, x: usize) -> [u8; 3] {
        let i = 3 * (y * width + x);
        [rgb[i], rgb[i + 1], rgb[i + 2]]
    }

    fn track(id: u32, parent: u32, start: usize, end: usize) -> TrackSummary {
        TrackSummary {
            id,
            parent,
            generation: 0,
            start,
            end,
            children: Vec::new(),
            touches_border: false,
            length_birth: 10.0,
            length_end: 20.0,
            growth_rate: None,
        }
    }

    /// A minimal well-formedness check: tags balanced and properly nested, attributes quoted,
    /// `&` only in entities, exactly one root element `svg`. Returns the element count.
    fn check_xml(s: &str) -> Result<usize, String> {
        let b = s.as_bytes();
        let mut stack: Vec<&str> = Vec::new();
        let mut elements = 0;
        let mut roots = 0;
        let mut i = 0;
        let entity_ok = |j: usize| {
            let rest = &s[j + 1..];
            let end = rest.find(';').unwrap_or(usize::MAX);
            end > 0
                && end <= 8
                && rest[..end]
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'#')
        };
        while i < b.len() {
            match b[i] {
                b'<' => {
                    if s[i..].starts_with("<?") {
                        i += s[i..].find("?>").ok_or("unclosed <?")? + 2;
                        continue;
                    }
                    if s[i..].starts_with("<!--") {
                        i += s[i..].find("-->").ok_or("unclosed comment")? + 3;
                        continue;
                    }
                    let close = b.get(i + 1) == Some(&b'/');
                    let name_start = i + 1 + close as usize;
                    let mut j = name_start;
                    while j < b.len() && !b" \n\t/>".contains(&b[j]) {
                        j += 1;
                    }
                    let name = &s[name_start..j];
                    if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric()) {
                        return Err(format!("bad tag name {name:?} at {i}"));
                    }
                    // to the end of the tag, outside quotes
                    let mut quote = false;
                    while j < b.len() && (quote || b[j] != b'>') {
                        match b[j] {
                            b'"' => quote = !quote,
                            b'<' => return Err(format!("'<' inside a tag at {j}")),
                            b'&' if !entity_ok(j) => return Err(format!("bare & at {j}")),
                            _ => {}
                        }
                        j += 1;
                    }
                    if j == b.len() {
                        return Err(format!("unclosed tag at {i}"));
                    }
                    let self_closing = b[j - 1] == b'/';
                    if close {
                        match stack.pop() {
                            Some(open) if open == name => {}
                            other => return Err(format!("</{name}> closes {other:?} at {i}")),
                        }
                    } else {
                        elements += 1;
                        if stack.is_empty() {
                            roots += 1;
                            if name != "svg" {
                                return Err(format!("root element {name}"));
                            }
                        }
                        if !self_closing {
                            stack.push(name);
                        }
                    }
                    i = j + 1;
                }
                b'&' if !entity_ok(i) => return Err(format!("bare & at {i}")),
                b'>' => return Err(format!("stray > at {i}")),
                c if stack.is_empty() && !c.is_ascii_whitespace() => {
                    return Err(format!("text outside the root at {i}"))
                }
                _ => i += 1,
            }
        }
        if !stack.is_empty() {
            return Err(format!("unclosed {stack:?}"));
        }
        if roots != 1 {
            return Err(format!("{roots} root elements"));
        }
        Ok(elements)
    }

    /// The y of each track's line in the SVG, by id (first line of each id).
    fn track_rows(svg: &str) -> HashMap<u32, f64> {
        let mut rows = HashMap::new();
        for line in svg.lines() {
            let Some(rest) = line.split("data-track=\"").nth(1) else {
                continue;
            };
            let id: u32 = rest[..rest.find('"').unwrap()].parse().unwrap();
            let y = line.split(" y1=\"").nth(1).unwrap();
            let y: f64 = y[..y.find('"').unwrap()].parse().unwrap();
            rows.entry(id).or_insert(y);
        }
        rows
    }

    /// 1: root 0–9 → 2, 3 (10–19); 2 → 5, 6 (20–29); 4: root 0–29 listed before 1's
    /// daughters; 7: a late root (start 15) that sorts between 1 and 4 by start but not by id.
    fn small_lineage() -> Vec<TrackSummary> {
        let mut v = vec![
            track(4, 0, 0, 29),
            track(1, 0, 0, 9),
            track(3, 1, 10, 19),
            track(2, 1, 10, 19),
            track(6, 2, 20, 29),
            track(5, 2, 20, 29),
            track(7, 0, 15, 29),
        ];
        v[0].touches_border = true;
        v
    }

    // ---- the overlay ----

    #[test]
    fn overlay_has_the_size_and_keeps_the_gray() {
        let (w, h) = (13, 7);
        let gray: Vec<u8> = (0..w * h).map(|i| (i * 3) as u8).collect();
        let labels = vec![0u32; w * h];
        let out = track_overlay(w, h, &gray, &labels, &[]);
        assert_eq!(out.len(), 3 * w * h);
        for (i, g) in gray.iter().enumerate() {
            assert_eq!(&out[3 * i..3 * i + 3], &[*g; 3], "pixel {i}");
        }
        // a degenerate frame draws nothing and does not panic
        let t = Tail {
            id: 3,
            points: vec![(0.0, 0.0), (5.0, 5.0)],
        };
        assert!(track_overlay(0, 0, &[], &[], std::slice::from_ref(&t)).is_empty());
        assert_eq!(track_overlay(1, 1, &[9], &[0], &[t]).len(), 3);
    }

    #[test]
    fn overlay_draws_outline_tail_marker_and_digits_in_the_track_colour() {
        let (w, h) = (40, 20);
        let gray = vec![100u8; w * h];
        let mut labels = vec![0u32; w * h];
        // a 3×4 cell of track 7 at rows 2..5, cols 30..34 (outline: its border pixels)
        for y in 2..5 {
            for x in 30..34 {
                labels[y * w + x] = 7;
            }
        }
        let tail = Tail {
            id: 7,
            points: vec![(10.0, 2.0), (10.0, 6.0), (10.0, 10.0)],
        };
        let out = track_overlay(w, h, &gray, &labels, &[tail]);
        let c = label_color(7);
        assert_ne!(c, [100; 3]);
        // outline in colour, the cell's interior keeps its gray
        assert_eq!(px(&out, w, 2, 30), c);
        assert_eq!(px(&out, w, 4, 33), c);
        assert_eq!(px(&out, w, 3, 31), [100; 3]);
        // the tail: every pixel from (10, 2) to the marker's halo
        for x in 2..=7 {
            assert_eq!(px(&out, w, 10, x), c, "tail at col {x}");
        }
        assert_eq!(px(&out, w, 9, 4), [100; 3]);
        assert_eq!(px(&out, w, 11, 4), [100; 3]);
        // marker: 3×3 around (10, 10) with a dark halo
        for y in 9..=11 {
            for x in 9..=11 {
                assert_eq!(px(&out, w, y, x), c, "marker at {y},{x}");
            }
        }
        assert_eq!(px(&out, w, 8, 10), HALO);
        assert_eq!(px(&out, w, 12, 12), HALO);
        // "7" at x0 = 10 + 1 + 3 = 14, y0 = 10 − 2 = 8: top row 111, then 001 down the right
        for x in 14..=16 {
            assert_eq!(px(&out, w, 8, x), c, "7's top bar at col {x}");
        }
        for y in 9..=12 {
            assert_eq!(px(&out, w, y, 16), c, "7's stem at row {y}");
            assert_eq!(px(&out, w, y, 15), HALO, "left of the stem at row {y}");
        }
        assert_eq!(px(&out, w, 9, 14), HALO); // under the bar
        assert_eq!(px(&out, w, 11, 14), [100; 3]); // two columns off the stem
        assert_eq!(px(&out, w, 7, 15), HALO);
        assert_eq!(px(&out, w, 13, 17), HALO);
        assert_eq!(px(&out, w, 13, 18), [100; 3]);
        assert_eq!(px(&out, w, 10, 18), [100; 3]);
    }

    #[test]
    fn overlay_digits_of_a_multi_digit_id_and_scale_two() {
        // 1000 wide: scale 2; id 10 → "1" then "0", 6×10 px each with a 2-px gap
        let (w, h) = (1000, 64);
        let gray = vec![50u8; w * h];
        let labels = vec![0u32; w * h];
        let tail = Tail {
            id: 10,
            points: vec![(30.0, 100.0)],
        };
        let out = track_overlay(w, h, &gray, &labels, &[tail]);
        let c = label_color(10);
        // marker 5×5 around (30, 100)
        assert_eq!(px(&out, w, 28, 98), c);
        assert_eq!(px(&out, w, 32, 102), c);
        assert_eq!(px(&out, w, 33, 100), HALO);
        // text at x0 = 100 + 2 + 3 = 105, y0 = 30 − 5 = 25
        let m = digits_mask(10, 2);
        assert_eq!((m.width, m.height), (14, 10));
        for y in 0..10 {
            for x in 0..14 {
                let got = px(&out, w, 25 + y, 105 + x);
                if m.on[y * 14 + x] {
                    assert_eq!(got, c, "digit px {y},{x}");
                } else {
                    assert!(got == HALO || got == [50; 3], "off px {y},{x}: {got:?}");
                }
            }
        }
        // "1" has its stem in columns 1 (×2 → 2, 3); "0" its left side at 8, 9
        assert_eq!(px(&out, w, 25 + 5, 105 + 2), c);
        assert_eq!(px(&out, w, 25 + 5, 105 + 8), c);
        assert_eq!(px(&out, w, 25 + 5, 105 + 10), HALO); // the 0's hole
    }

    #[test]
    fn overlay_clips_lines_that_leave_the_frame() {
        let (w, h) = (20, 10);
        let gray = vec![0u8; w * h];
        let labels = vec![0u32; w * h];
        let c = label_color(5);
        // from far left of the frame across row 4 to far right, then far away diagonally
        let tail = Tail {
            id: 5,
            points: vec![(4.0, -1e9), (4.0, 1e12), (-3e14, 2e14)],
        };
        let out = track_overlay(w, h, &gray, &labels, &[tail]);
        for x in 0..w {
            assert_eq!(px(&out, w, 4, x), c, "row 4 col {x}");
        }
        // nothing else drawn (the newest point is outside: no marker, no digits)
        let colored = (0..w * h)
            .filter(|&i| out[3 * i..3 * i + 3] != [0, 0, 0])
            .count();
        assert_eq!(colored, w);
        // a segment wholly outside draws nothing; non-finite points break the line
        let tails = [
            Tail {
                id: 5,
                points: vec![(-5.0, -5.0), (-1.0, 30.0)],
            },
            Tail {
                id: 6,
                points: vec![(f64::NAN, 3.0), (2.0, 3.0), (f64::INFINITY, 3.0)],
            },
        ];
        let out = track_overlay(w, h, &gray, &labels, &tails);
        assert_eq!(px(&out, w, 0, 0), [0, 0, 0]);
        // a lone finite point between two bad ones draws no line; the newest is bad: nothing
        assert!(out.iter().all(|&v| v == 0));
        // a line from inside to far outside stops at the edge, in a straight line
        let tail = Tail {
            id: 5,
            points: vec![(5.0, 5.0), (5.0 + 1e9, 5.0 + 1e9)],
        };
        let out = track_overlay(w, h, &gray, &labels, &[tail]);
        for k in 0..5 {
            assert_eq!(px(&out, w, 5 + k, 5 + k), c);
        }
    }

    #[test]
    fn overlay_halo_is_light_for_dark_colours_and_font_grows_with_the_frame() {
        let dark = (1..100u32).find(|&id| halo_for(label_color(id)) == HALO_LIGHT);
        let id = dark.expect("some track colour is deep blue");
        let (w, h) = (20, 10);
        let tail = Tail {
            id,
            points: vec![(5.0, 5.0)],
        };
        let out = track_overlay(w, h, &[0; 200], &[0; 200], &[tail]);
        assert_eq!(px(&out, w, 5, 5), label_color(id));
        assert_eq!(px(&out, w, 5, 7), HALO_LIGHT); // right of the 3×3 marker
        assert_eq!(halo_for([255, 255, 0]), HALO);
        // 2048 px: font ×4 (20 px high digits), marker still 5×5
        let (w, h) = (2048, 40);
        let tail = Tail {
            id: 1,
            points: vec![(20.0, 20.0)],
        };
        let out = track_overlay(w, h, &vec![0; w * h], &vec![0; w * h], &[tail]);
        let c = label_color(1);
        assert_eq!(px(&out, w, 22, 22), c);
        assert_eq!(px(&out, w, 23, 20), halo_for(c));
        // "1" (010 110 010 010 111 at ×4) from x0 = 20 + 2 + 3 = 25, y0 = 20 − 10 = 10
        assert_eq!(px(&out, w, 10, 25 + 4), c);
        assert_eq!(px(&out, w, 29, 25), c); // the bottom bar's left end
        assert_eq!(px(&out, w, 10, 25 + 3), halo_for(c));
    }

    #[test]
    fn overlay_label_stays_inside_and_order_of_tails_does_not_matter() {
        let (w, h) = (30, 12);
        let gray = vec![80u8; w * h];
        let labels = vec![0u32; w * h];
        let a = Tail {
            id: 123,
            points: vec![(0.0, 0.0), (11.0, 29.0)],
        };
        let b = Tail {
            id: 4,
            points: vec![(11.0, 0.0), (0.0, 29.0)],
        };
        // the same id twice, with overlapping digits: still one picture
        let a2 = Tail {
            id: 123,
            points: vec![(11.0, 27.0)],
        };
        let one = track_overlay(w, h, &gray, &labels, &[a.clone(), b.clone(), a2.clone()]);
        let two = track_overlay(w, h, &gray, &labels, &[a2, b.clone(), a.clone()]);
        assert_eq!(one, two);
        let one = track_overlay(w, h, &gray, &labels, &[a.clone(), b.clone()]);
        assert_eq!(one, track_overlay(w, h, &gray, &labels, &[b, a]));
        // "123" near the bottom-right corner: drawn to the left of the point, inside
        let c = label_color(123);
        let m = digits_mask(123, 1);
        let (x0, y0) = (29 - 1 - 2 - m.width, h - 1 - m.height);
        for y in 0..m.height {
            for x in 0..m.width {
                if m.on[y * m.width + x] {
                    assert_eq!(px(&one, w, y0 + y, x0 + x), c, "digit px {y},{x}");
                }
            }
        }
    }

    // ---- the lineage ----

    #[test]
    fn lineage_layout_puts_sisters_together_and_mothers_between() {
        let tracks = small_lineage();
        let lay = layout(&tracks);
        let row = |id: u32| lay.row[tracks.iter().position(|t| t.id == id).unwrap()];
        // roots by (start, id): 1, 4, 7; 1's tree: 5, 6 (2's), 3
        assert_eq!(row(5), 0.0);
        assert_eq!(row(6), 1.0);
        assert_eq!(row(2), 0.5);
        assert_eq!(row(3), 2.0);
        assert_eq!(row(1), 1.25);
        assert_eq!(row(4), 3.5);
        assert_eq!(row(7), 5.0);
        assert_eq!(lay.rows, 6.0);
    }

    #[test]
    fn lineage_svg_is_well_formed_deterministic_and_orders_sisters() {
        let tracks = small_lineage();
        let svg = lineage_svg(&tracks, 30, None);
        check_xml(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        let mut shuffled = tracks.clone();
        shuffled.reverse();
        assert_eq!(svg, lineage_svg(&shuffled, 30, None));
        let rows = track_rows(&svg);
        assert_eq!(rows.len(), tracks.len());
        // sisters 2, 3 sit on either side of their mother, nobody else between 5 and 3
        let (y1, y2, y3) = (rows[&1], rows[&2], rows[&3]);
        assert!(y2 < y1 && y1 < y3, "{y2} {y1} {y3}");
        let (y5, y6) = (rows[&5], rows[&6]);
        assert!(y5 < y2 && y2 < y6);
        for id in [4, 7] {
            assert!(rows[&id] > y3, "track {id} between sisters");
        }
        // labels for few tracks, the border track dashed, the axis in frames
        assert!(svg.contains(">7</text>"));
        assert!(svg.contains("time (frames)"));
        let border = svg
            .lines()
            .find(|l| l.contains("data-track=\"4\""))
            .unwrap();
        let dashed_group = svg[..svg.find(border).unwrap()].rfind("stroke-dasharray");
        assert!(dashed_group.is_some());
        // the connector of 1 at x of frame 10, in 1's colour
        assert!(svg.contains(&hex(label_color(1))));
    }

    #[test]
    fn lineage_svg_time_units() {
        let tracks = small_lineage();
        let min = lineage_svg(&tracks, 30, Some(5.0)); // 150 min
        assert!(min.contains("time (min)"));
        assert!(min.contains("stroke=\"none\">100</text>"));
        let h = lineage_svg(&tracks, 30, Some(10.0)); // 300 min = 5 h
        assert!(h.contains("time (h)"));
        assert!(h.contains("stroke=\"none\">5</text>"));
        let sub = lineage_svg(&tracks, 30, Some(0.01)); // 0.3 min
        assert!(sub.contains("time (min)"));
        assert!(sub.contains("stroke=\"none\">0.30</text>"));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e308] {
            let s = lineage_svg(&tracks, 30, Some(bad));
            assert!(s.contains("time (frames)"), "{bad}");
            check_xml(&s).unwrap();
        }
        for s in [min, h, sub] {
            check_xml(&s).unwrap();
        }
    }

    #[test]
    fn lineage_svg_survives_bad_input() {
        let empty = lineage_svg(&[], 0, None);
        check_xml(&empty).unwrap();
        assert!(empty.contains("no tracks"));
        let mut v = vec![
            track(1, 2, 0, 5),          // 1 ↔ 2: a cycle
            track(2, 1, 6, 9),          //
            track(3, 3, 0, 9),          // its own parent
            track(4, 99, 3, 8),         // parent not in the list: a root
            track(5, 4, 9, 9),          // daughter of 4
            track(5, 0, 2, 4),          // duplicate id
            track(6, 5, 12, 14),        // daughter of the first 5, after a gap
            track(7, 0, 9, 3),          // ends before it starts
            track(8, 0, 0, usize::MAX), // never ends
            track(9, 10, 0, 1),         // 9 → 10 → 11 → 9
            track(10, 11, 0, 1),        //
            track(11, 9, 0, 1),         //
            track(12, 11, 2, 3),        // hangs off the cycle
            track(u32::MAX, 0, 0, 0),
        ];
        v[3].touches_border = true;
        let lay = layout(&v);
        assert_eq!(lay.order.len(), v.len());
        let mut seen = lay.order.clone();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), v.len(), "each track laid out once");
        let svg = lineage_svg(&v, 10, Some(3.0));
        check_xml(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
        assert_eq!(svg.matches("data-track=").count(), v.len());
        assert!(svg.contains("stroke=\"#888888\"")); // the gap stub of 6
                                                     // 4 is a root; its daughter 5 is on 4's row (a single daughter continues the line)
        let row = |i: usize| lay.row[i];
        assert_eq!(row(3), row(4));
        assert!(lay.roots.contains(&3));
        check_xml(&lineage_svg(&v, 0, None)).unwrap();
    }

    /// `founders` roots starting one frame apart, each dividing every 10 frames for
    /// `generations` generations (2ᵍ − 1 tracks each); every 7th id touches the edge.
    fn colony(founders: usize, generations: usize) -> Vec<TrackSummary> {
        let mut v = Vec::new();
        let mut next = 1u32;
        for f in 0..founders {
            let mut level = vec![(next, 0u32)];
            next += 1;
            for g in 0..generations {
                let mut below = Vec::new();
                for &(id, parent) in &level {
                    let mut t = track(id, parent, f + g * 10, f + g * 10 + 9);
                    t.touches_border = id % 7 == 0;
                    v.push(t);
                    if g + 1 < generations {
                        below.push((next, id));
                        below.push((next + 1, id));
                        next += 2;
                    }
                }
                level = below;
            }
        }
        v
    }

    #[test]
    fn lineage_svg_scales_to_thousands() {
        // 12 founders, each dividing down 7 generations: 12 · 255 = 3060 tracks
        let v = colony(12, 8);
        assert_eq!(v.len(), 3060);
        let svg = lineage_svg(&v, 100, Some(6.0));
        let elements = check_xml(&svg).unwrap();
        assert!(elements > 3060);
        assert!(
            svg.matches("<text").count() < 30,
            "no id labels for thousands"
        );
        let height: f64 = svg
            .split("height=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(height > 1536.0 * 3.0, "height {height}");
        assert!(svg.len() < 2_000_000, "{} bytes", svg.len());
        // 90 frames of 6 min: hours, tick labels at the bottom and on top
        assert!(svg.contains("time (h)"));
        assert_eq!(svg.matches("stroke=\"none\">0</text>").count(), 2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]

        /// Each subtree owns a contiguous band of rows: no track outside it, other than its
        /// ancestors (who sit halfway between their first and last daughter), has a row between
        /// the subtree's first and last leaf.
        #[test]
        fn lineage_subtrees_are_contiguous(parents in proptest::collection::vec(0u32..40, 1..40)) {
            let tracks: Vec<TrackSummary> = parents
                .iter()
                .enumerate()
                .map(|(i, &p)| track(i as u32 + 1, p, i % 5, i % 5 + 3))
                .collect();
            let lay = layout(&tracks);
            let n = tracks.len();
            proptest::prop_assert_eq!(lay.order.len(), n);
            let mut mother = vec![usize::MAX; n];
            for (m, kids) in lay.kids.iter().enumerate() {
                for &k in kids {
                    mother[k] = m;
                }
            }
            for v in 0..n {
                let mut ancestors = Vec::new();
                let mut a = mother[v];
                while a != usize::MAX {
                    ancestors.push(a);
                    a = mother[a];
                }
                // descendants of v through the layout
                let mut sub = vec![v];
                let mut k = 0;
                while k < sub.len() {
                    sub.extend(lay.kids[sub[k]].iter().copied());
                    k += 1;
                }
                let leaves = || sub.iter().filter(|&&i| lay.kids[i].is_empty()).map(|&i| lay.row[i]);
                let lo = leaves().fold(f64::INFINITY, f64::min);
                let hi = leaves().fold(f64::NEG_INFINITY, f64::max);
                proptest::prop_assert!(hi - lo + 1.0 == leaves().count() as f64);
                for i in 0..n {
                    if !sub.contains(&i) && !ancestors.contains(&i) {
                        let r = lay.row[i];
                        proptest::prop_assert!(r < lo || r > hi, "{} inside {}'s band", i, v);
                    }
                }
            }
            let svg = lineage_svg(&tracks, 10, None);
            proptest::prop_assert!(check_xml(&svg).is_ok());
        }
    }

    /// Writes `lineage_example.svg` and `overlay_example.png` under the target folder
    /// (`target/debug/draw-examples/`) for a look, when `FLOODSEG_WRITE_EXAMPLES=1`.
    #[test]
    fn draw_write_examples() {
        if std::env::var("FLOODSEG_WRITE_EXAMPLES").as_deref() != Ok("1") {
            return;
        }
        let exe = std::env::current_exe().unwrap();
        let dir = exe
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("draw-examples");
        std::fs::create_dir_all(&dir).unwrap();
        // a lineage: two founders, three generations, one cell lost at the edge, a late root
        let mut v = vec![
            track(1, 0, 0, 11),
            track(2, 1, 12, 25),
            track(3, 1, 12, 23),
            track(4, 2, 26, 39),
            track(5, 2, 26, 39),
            track(6, 3, 24, 37),
            track(7, 3, 24, 31),
            track(8, 6, 38, 39),
            track(9, 6, 38, 39),
            track(10, 0, 0, 17),
            track(11, 10, 18, 33),
            track(12, 10, 20, 39),
            track(13, 11, 34, 39),
            track(14, 11, 34, 39),
            track(15, 0, 21, 39),
        ];
        v[6].touches_border = true;
        v[14].touches_border = true;
        let svg = lineage_svg(&v, 40, Some(5.0));
        check_xml(&svg).unwrap();
        crate::io::write_text(&dir.join("lineage_example.svg"), &svg).unwrap();
        for (name, founders, generations) in [("medium", 4, 5), ("many", 12, 8)] {
            let svg = lineage_svg(&colony(founders, generations), 10 * generations, Some(6.0));
            crate::io::write_text(&dir.join(format!("lineage_{name}_example.svg")), &svg).unwrap();
        }

        // overlays: the small frame (font ×1; also enlarged ×4 for a look) and the same scene
        // at 640×400 (font ×2)
        let (w, h, rgb) = example_overlay(1);
        crate::io::write_png_rgb8(&dir.join("overlay_example.png"), w, h, &rgb).unwrap();
        let k = 4;
        let big: Vec<u8> = (0..h * k)
            .flat_map(|y| (0..w * k).map(move |x| (y / k) * w + x / k))
            .flat_map(|i| [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]])
            .collect();
        crate::io::write_png_rgb8(&dir.join("overlay_example_x4.png"), w * k, h * k, &big).unwrap();
        let (w, h, rgb) = example_overlay(4);
        crate::io::write_png_rgb8(&dir.join("overlay_example_640.png"), w, h, &rgb).unwrap();
    }

    /// Rod-shaped cells on a gradient, 160×100 times `k`: two daughters (8, 9) whose tails
    /// fork from their mother's last centroid, a cell near the bottom-right edge, a 3-digit id.
    fn example_overlay(k: usize) -> (usize, usize, Vec<u8>) {
        let (w, h) = (160 * k, 100 * k);
        let mut gray: Vec<u8> = (0..w * h).map(|i| (30 + (i % w) / (4 * k)) as u8).collect();
        let mut labels = vec![0u32; w * h];
        let mut cell = |id: u32, r0: usize, c0: usize, len: usize, vertical: bool| {
            for a in 0..len * k {
                for b in 0..6 * k {
                    let (y, x) = if vertical {
                        (r0 * k + a, c0 * k + b)
                    } else {
                        (r0 * k + b, c0 * k + a)
                    };
                    labels[y * w + x] = id;
                    gray[y * w + x] = 170;
                }
            }
        };
        cell(8, 20, 20, 22, false);
        cell(9, 35, 30, 22, false);
        cell(12, 60, 100, 24, true);
        cell(137, 10, 120, 20, false);
        cell(15, 88, 150, 6, false);
        let kf = k as f64;
        let tail = |id: u32, pts: &[(f64, f64)]| Tail {
            id,
            points: pts.iter().map(|&(r, c)| (r * kf, c * kf)).collect(),
        };
        let tails = vec![
            tail(8, &[(30.0, 45.0), (27.0, 38.0), (24.0, 33.0), (22.5, 31.0)]),
            tail(9, &[(30.0, 45.0), (33.0, 43.0), (36.0, 42.0), (37.5, 41.0)]),
            tail(
                12,
                &[(90.0, 70.0), (85.0, 85.0), (78.0, 95.0), (72.0, 102.5)],
            ),
            tail(137, &[(20.0, 150.0), (16.0, 140.0), (12.5, 130.0)]),
            tail(15, &[(95.0, 130.0), (92.0, 145.0), (90.5, 152.5)]),
        ];
        (w, h, track_overlay(w, h, &gray, &labels, &tails))
    }
}
