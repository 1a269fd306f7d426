//! The linear assignment problem: [`hungarian`] on a dense cost matrix (`eval`'s matching), and
//! [`max_weight_matching`] on a sparse set of candidate links (the tracker), exact and deterministic: the candidate graph is cut into its connected
//! components and each is solved by the Hungarian method (shortest augmenting paths with
//! potentials, O(n²·m) per component) in integer weights, so no float rounding decides a tie.
//! A row or column may stay unmatched (it costs nothing), so only links that add weight are
//! taken.

/// The best matching of `rows` × `cols` on `edges` = (row, col, weight > 0): for each row the
/// matched column, if any. Among matchings of equal weight the result is a deterministic
/// function of the input (edges in any order give the same answer).
pub fn max_weight_matching(
    rows: usize,
    cols: usize,
    edges: &[(usize, usize, i64)],
) -> Vec<Option<usize>> {
    let mut out = vec![None; rows];
    let mut edges: Vec<(usize, usize, i64)> = edges.iter().copied().filter(|e| e.2 > 0).collect();
    edges.sort_unstable();
    edges.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    if edges.is_empty() {
        return out;
    }
    // union-find over rows (0..rows) and columns (rows..rows+cols)
    let mut parent: Vec<usize> = (0..rows + cols).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    for &(r, c, _) in &edges {
        let (a, b) = (find(&mut parent, r), find(&mut parent, rows + c));
        if a != b {
            let (lo, hi) = (a.min(b), a.max(b));
            parent[hi] = lo;
        }
    }
    let mut comps: std::collections::BTreeMap<usize, Vec<(usize, usize, i64)>> =
        std::collections::BTreeMap::new();
    for &e in &edges {
        let root = find(&mut parent, e.0);
        comps.entry(root).or_default().push(e);
    }
    for (_, comp) in comps {
        let mut rs: Vec<usize> = comp.iter().map(|e| e.0).collect();
        let mut cs: Vec<usize> = comp.iter().map(|e| e.1).collect();
        rs.sort_unstable();
        rs.dedup();
        cs.sort_unstable();
        cs.dedup();
        if comp.len() == 1 {
            out[comp[0].0] = Some(comp[0].1);
            continue;
        }
        let ri = |r: usize| rs.binary_search(&r).expect("row of the component");
        let ci = |c: usize| cs.binary_search(&c).expect("column of the component");
        // the Hungarian method wants rows ≤ columns: transpose when needed
        let transpose = rs.len() > cs.len();
        let (n, m) = if transpose {
            (cs.len(), rs.len())
        } else {
            (rs.len(), cs.len())
        };
        let mut cost = vec![0i64; n * m];
        for &(r, c, w) in &comp {
            let (i, j) = if transpose {
                (ci(c), ri(r))
            } else {
                (ri(r), ci(c))
            };
            cost[i * m + j] = -w;
        }
        let assign = hungarian(n, m, &cost);
        for (i, j) in assign.into_iter().enumerate() {
            let (r, c) = if transpose {
                (rs[j], cs[i])
            } else {
                (rs[i], cs[j])
            };
            // a pair without an edge costs 0, the same as leaving both unmatched
            if cost[i * m + j] < 0 {
                out[r] = Some(c);
            }
        }
    }
    out
}

/// A cost the Hungarian method can add, subtract and compare: `i64` (the tracker's integer
/// weights) or `f64` (`eval`'s StarDist costs).
pub trait Cost:
    Copy + PartialOrd + std::ops::Sub<Output = Self> + std::ops::AddAssign + std::ops::SubAssign
{
    const ZERO: Self;
    /// Larger than any reduced cost.
    const INF: Self;
}

impl Cost for i64 {
    const ZERO: i64 = 0;
    const INF: i64 = i64::MAX / 4;
}

impl Cost for f64 {
    const ZERO: f64 = 0.0;
    const INF: f64 = f64::INFINITY;
}

/// Minimum-cost assignment of every row of an `n × m` matrix (`n ≤ m`, row-major) to a
/// distinct column (the Hungarian method with potentials, O(n²m)): the column of each row.
pub fn hungarian<C: Cost>(n: usize, m: usize, cost: &[C]) -> Vec<usize> {
    debug_assert!(n <= m);
    // 1-based potentials and matching, column 0 is the virtual start
    let mut u = vec![C::ZERO; n + 1];
    let mut v = vec![C::ZERO; m + 1];
    let mut p = vec![0usize; m + 1]; // p[j]: row matched to column j
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![C::INF; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = C::INF;
            let mut j1 = 0usize;
            for j in 1..=m {
                if !used[j] {
                    let cur = cost[(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut out = vec![0usize; n];
    for j in 1..=m {
        if p[j] != 0 {
            out[p[j] - 1] = j - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::SplitMix64;

    /// Exhaustive search over all matchings (tiny cases).
    fn brute(rows: usize, cols: usize, edges: &[(usize, usize, i64)]) -> i64 {
        let mut w = vec![vec![0i64; cols]; rows];
        for &(r, c, x) in edges {
            w[r][c] = w[r][c].max(x);
        }
        fn go(r: usize, used: &mut Vec<bool>, w: &[Vec<i64>]) -> i64 {
            if r == w.len() {
                return 0;
            }
            let mut best = go(r + 1, used, w);
            for c in 0..used.len() {
                if !used[c] && w[r][c] > 0 {
                    used[c] = true;
                    best = best.max(w[r][c] + go(r + 1, used, w));
                    used[c] = false;
                }
            }
            best
        }
        go(0, &mut vec![false; cols], &w)
    }

    #[test]
    fn equals_exhaustive_search_on_random_graphs() {
        let mut rng = SplitMix64(11);
        for case in 0..300 {
            let rows = (rng.next() % 7) as usize;
            let cols = (rng.next() % 7) as usize;
            let mut edges = Vec::new();
            if rows > 0 && cols > 0 {
                for _ in 0..(rng.next() % 14) {
                    edges.push((
                        (rng.next() % rows as u64) as usize,
                        (rng.next() % cols as u64) as usize,
                        (rng.next() % 20) as i64,
                    ));
                }
            }
            // duplicates keep the first after sorting: make them agree for the brute force
            edges.sort_unstable();
            edges.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
            let m = max_weight_matching(rows, cols, &edges);
            let mut used = std::collections::HashSet::new();
            let mut total = 0;
            for (r, c) in m.iter().enumerate() {
                if let Some(c) = c {
                    assert!(used.insert(*c), "case {case}: column {c} used twice");
                    total += edges.iter().find(|e| e.0 == r && e.1 == *c).unwrap().2;
                }
            }
            assert_eq!(total, brute(rows, cols, &edges), "case {case}: {edges:?}");
            // any edge order gives the same matching
            let mut shuffled = edges.clone();
            shuffled.reverse();
            assert_eq!(m, max_weight_matching(rows, cols, &shuffled), "case {case}");
        }
    }
}
