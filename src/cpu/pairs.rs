//! The CPU twin of stage **pairs** (`shaders/pairs.wgsl`, host side `crate::gpu::pairs`): the
//! pair histogram of two consecutive label images, the tracker's overlap matrix
//! (`crate::track::overlap` says what it means and holds it to the naive definition). Class:
//! *order-free reduction* — the result is sorted by (prev, cur) with no zero counts, so any
//! backend that counts the same pixels gives the same bytes. It lives with the stages (not in
//! `crate::track`) because both backends run it: `Segmenter::pair_histogram` dispatches here or
//! to the shader, and the tracker sits above the backends.
//!
//! Convention: `shift = (dy, dx)` is how far the content moved from the previous frame to the
//! current one, so the current pixel (y, x) is compared with the previous pixel
//! (y − dy, x − dx); pixels whose partner falls outside the previous frame count for nothing.
//! The shader merges the same runs along a row (in chunks of a row, one invocation each).

/// One entry of the pair histogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PairCount {
    /// The object's label in the previous frame (nonzero).
    pub prev: u32,
    /// The object's label in the current frame (nonzero).
    pub cur: u32,
    /// Pixels the two share.
    pub pixels: u32,
}

/// The pair histogram of `prev` and `cur` (both `width × height`, row-major, 0 = background)
/// with the previous frame moved by `shift` (module doc), sorted by (prev, cur).
///
/// # Panics
/// When a slice's length is not `width · height` (a caller's bug; the tracker checks frame
/// sizes and says so as an error first).
pub fn pair_histogram(
    prev: &[u32],
    cur: &[u32],
    width: usize,
    height: usize,
    shift: (i32, i32),
) -> Vec<PairCount> {
    assert_eq!(prev.len(), width * height, "prev is not width × height");
    assert_eq!(cur.len(), width * height, "cur is not width × height");
    let (dy, dx) = (shift.0 as i64, shift.1 as i64);
    // runs of one pair along a row are counted at once, then merged
    let mut runs: Vec<(u64, u32)> = Vec::new();
    for y in 0..height as i64 {
        let py = y - dy;
        if py < 0 || py >= height as i64 {
            continue;
        }
        let x0 = dx.max(0);
        let x1 = (width as i64 + dx).min(width as i64);
        if x0 >= x1 {
            continue;
        }
        let row = (y as usize) * width;
        let prow = (py as usize) * width;
        let c_row = &cur[row + x0 as usize..row + x1 as usize];
        let p_row = &prev[prow + (x0 - dx) as usize..prow + (x1 - dx) as usize];
        // runs of one label in `cur`, and within each the runs of one label in `prev`,
        // skipping background 16 pixels at a time
        row_runs(c_row, |b, start, end| {
            let seg = &p_row[start..end];
            let mut i = 0;
            while i < seg.len() {
                let a = seg[i];
                let i0 = i;
                while i < seg.len() && seg[i] == a {
                    i += 1;
                }
                if a != 0 {
                    runs.push(((u64::from(a) << 32) | u64::from(b), (i - i0) as u32));
                }
            }
        });
    }
    runs.sort_unstable_by_key(|r| r.0);
    let mut out: Vec<PairCount> = Vec::new();
    for (key, n) in runs {
        let (a, b) = ((key >> 32) as u32, key as u32);
        match out.last_mut() {
            Some(last) if last.prev == a && last.cur == b => last.pixels += n,
            _ => out.push(PairCount {
                prev: a,
                cur: b,
                pixels: n,
            }),
        }
    }
    out
}

/// Calls `f(label, first, one past the last)` for each run of one nonzero label along `row`, in
/// order, skipping background 16 pixels at a time (the tracker's features use it too).
pub fn row_runs(row: &[u32], mut f: impl FnMut(u32, usize, usize)) {
    let n = row.len();
    let mut x = 0;
    while x < n {
        let l = row[x];
        if l == 0 {
            while x + 16 <= n && row[x..x + 16].iter().fold(0, |a, &v| a | v) == 0 {
                x += 16;
            }
            while x < n && row[x] == 0 {
                x += 1;
            }
            continue;
        }
        let x0 = x;
        while x < n && row[x] == l {
            x += 1;
        }
        f(l, x0, x);
    }
}
