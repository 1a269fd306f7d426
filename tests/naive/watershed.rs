//! Marker-based watershed of the altitude `a = -d²` inside the mask, 4-connectivity, with
//! SPEC.md stage 7's rule, computed by Dijkstra's algorithm with a priority queue.
//!
//! **Cost.** `(level, hops)`, compared lexicographically; a marker pixel starts at
//! `(a(marker), 0)`; a step onto `p` gives `(max(level, a(p)), a(p) > level ? 0 : hops + 1)`.
//! Dijkstra applies because a step never lowers a cost and never reorders two costs.
//!
//! **Label.** Marker pixels keep their label. Every other reached pixel takes the label of one
//! of its *predecessors*: the 4-neighbours `q` in the mask whose extended cost equals its own
//! cost. A predecessor has a strictly smaller cost, so visiting the pixels in increasing cost
//! order settles every predecessor first. Which predecessor:
//!
//! - [`watershed_spec`], SPEC.md's literal rule: the smallest `(cost(q), label(q))`;
//! - [`watershed`], the twin's documented refinement (`src/cpu/watershed.rs`, "ties by
//!   arrival"): each pixel has a *best predecessor*; its *chain* is the pixel, its best
//!   predecessor, that one's best predecessor, … down to a marker. The best predecessor is the
//!   `q` with the smallest `(costs along q's chain, label(q), index q)`, the cost lists compared
//!   lexicographically with a proper prefix first (the chain that reaches its marker sooner
//!   arrived first). Its label is the pixel's label.
//!
//! Unreached pixels and pixels outside the mask are 0.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// `(level, hops)`; `level = -d²` is an altitude, smaller is better.
pub type Cost = (i64, u64);

/// The cost of a path of cost `c` extended by one step onto a pixel of altitude `a`.
pub fn extend(c: Cost, a: i64) -> Cost {
    let (level, hops) = c;
    if a > level {
        (a, 0)
    } else {
        (level, hops + 1)
    }
}

fn neighbours(width: usize, height: usize, i: usize) -> Vec<usize> {
    let (y, x) = (i / width, i % width);
    let mut n = Vec::new();
    if y > 0 {
        n.push(i - width);
    }
    if x > 0 {
        n.push(i - 1);
    }
    if x + 1 < width {
        n.push(i + 1);
    }
    if y + 1 < height {
        n.push(i + width);
    }
    n
}

/// The costs of every pixel (`None`: unreached or outside the mask).
pub fn costs(
    width: usize,
    height: usize,
    mask: &[u32],
    d2: &[u32],
    markers: &[u32],
) -> Vec<Option<Cost>> {
    let n = width * height;
    let altitude = |i: usize| -(d2[i] as i64);
    let mut cost: Vec<Option<Cost>> = vec![None; n];
    let mut done = vec![false; n];
    let mut heap = BinaryHeap::new();
    for i in 0..n {
        if markers[i] != 0 && mask[i] != 0 {
            let c = (altitude(i), 0);
            cost[i] = Some(c);
            heap.push(Reverse((c, i)));
        }
    }
    while let Some(Reverse((c, i))) = heap.pop() {
        if done[i] {
            continue;
        }
        done[i] = true;
        for j in neighbours(width, height, i) {
            if mask[j] == 0 || done[j] {
                continue;
            }
            let cj = extend(c, altitude(j));
            if cost[j].is_none() || cj < cost[j].unwrap() {
                cost[j] = Some(cj);
                heap.push(Reverse((cj, j)));
            }
        }
    }
    cost
}

/// The predecessors of reached pixel `i`: mask 4-neighbours whose extended cost is `i`'s cost.
fn predecessors(
    width: usize,
    height: usize,
    mask: &[u32],
    d2: &[u32],
    cost: &[Option<Cost>],
    i: usize,
) -> Vec<usize> {
    let own = cost[i].unwrap();
    let mut out = Vec::new();
    for q in neighbours(width, height, i) {
        if mask[q] == 0 {
            continue;
        }
        let Some(cq) = cost[q] else { continue };
        if extend(cq, -(d2[i] as i64)) == own {
            assert!(cq < own, "a predecessor has a smaller cost");
            out.push(q);
        }
    }
    out
}

/// The reached pixels in increasing cost order.
fn by_cost(cost: &[Option<Cost>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..cost.len()).filter(|&i| cost[i].is_some()).collect();
    order.sort_by_key(|&i| cost[i].unwrap());
    order
}

/// SPEC.md's literal label rule: the predecessor with the smallest `(cost(q), label(q))`.
pub fn watershed_spec(
    width: usize,
    height: usize,
    mask: &[u32],
    d2: &[u32],
    markers: &[u32],
) -> Vec<u32> {
    let cost = costs(width, height, mask, d2, markers);
    let mut label = vec![0u32; width * height];
    for i in by_cost(&cost) {
        if markers[i] != 0 {
            label[i] = markers[i];
            continue;
        }
        let best = predecessors(width, height, mask, d2, &cost, i)
            .into_iter()
            .map(|q| (cost[q].unwrap(), label[q]))
            .min()
            .expect("a reached non-marker pixel has a predecessor");
        label[i] = best.1;
    }
    label
}

/// The twin's rule: ties between equal-cost predecessors go to the one that arrived first
/// (compared along the chains of best predecessors), then the smaller label, then the smaller
/// index.
pub fn watershed(
    width: usize,
    height: usize,
    mask: &[u32],
    d2: &[u32],
    markers: &[u32],
) -> Vec<u32> {
    let n = width * height;
    let cost = costs(width, height, mask, d2, markers);
    let mut label = vec![0u32; n];
    let mut best_pred: Vec<Option<usize>> = vec![None; n];
    // the costs along the chain that starts at pixel q
    let chain = |best_pred: &[Option<usize>], q: usize| -> Vec<Cost> {
        let mut out = vec![cost[q].unwrap()];
        let mut p = q;
        while let Some(next) = best_pred[p] {
            out.push(cost[next].unwrap());
            p = next;
        }
        out
    };
    for i in by_cost(&cost) {
        if markers[i] != 0 {
            label[i] = markers[i];
            continue;
        }
        let best = predecessors(width, height, mask, d2, &cost, i)
            .into_iter()
            .map(|q| (chain(&best_pred, q), label[q], q))
            .min()
            .expect("a reached non-marker pixel has a predecessor");
        best_pred[i] = Some(best.2);
        label[i] = best.1;
    }
    label
}
