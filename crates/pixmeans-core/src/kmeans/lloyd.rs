//! Weighted Lloyd iterations (Lloyd, 1982), step for step as scikit-learn's
//! `lloyd` algorithm runs them, on weighted points.
//!
//! The assignment step walks a k-d tree ([`Tree`]) whose partial sums are
//! merged in the tree's order, so results do not depend on the thread count.

use rayon::prelude::*;

use super::fit::{Fit, Iteration};
use super::kdtree::{Assignment, Tree};
use crate::color::Point;

/// Squared Euclidean distance.
#[inline]
pub(crate) fn dist2(a: &Point, b: &Point) -> f32 {
    let (d0, d1, d2) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    d0 * d0 + d1 * d1 + d2 * d2
}

/// The smallest box holding every point, as its lowest and highest corners
/// (infinite corners, lowest above highest, when there are none).
pub(crate) fn bounding_box(points: &[Point]) -> (Point, Point) {
    let mut lo = [f32::INFINITY; 3];
    let mut hi = [f32::NEG_INFINITY; 3];
    for p in points {
        for c in 0..3 {
            lo[c] = lo[c].min(p[c]);
            hi[c] = hi[c].max(p[c]);
        }
    }
    (lo, hi)
}

/// The nearest centroid and the squared distance to it; the lowest index
/// wins a tie.
#[inline]
pub(crate) fn nearest(p: &Point, centers: &[Point]) -> (u32, f32) {
    let mut best = (0u32, f32::INFINITY);
    for (j, c) in centers.iter().enumerate() {
        let d = dist2(p, c);
        if d < best.1 {
            best = (j as u32, d);
        }
    }
    best
}

/// The weighted mean over channels of the per-channel variance: what
/// scikit-learn scales `tol` by.
pub(crate) fn mean_variance(points: &[Point], weights: &[f64]) -> f64 {
    let total: f64 = weights.iter().sum();
    let mut mean = [0.0f64; 3];
    for (p, &w) in points.iter().zip(weights) {
        for c in 0..3 {
            mean[c] += w * f64::from(p[c]);
        }
    }
    let mean = mean.map(|m| m / total);
    let mut var = 0.0;
    for (p, &w) in points.iter().zip(weights) {
        for c in 0..3 {
            let d = f64::from(p[c]) - mean[c];
            var += w * d * d;
        }
    }
    var / total / 3.0
}

/// What one assignment pass learns: per-cluster weighted sums and weights,
/// the inertia of the assignment and how many labels changed.
pub(crate) struct Pass {
    pub(crate) sums: Vec<[f64; 3]>,
    pub(crate) weights: Vec<f64>,
    pub(crate) inertia: f64,
    pub(crate) changed: usize,
}

/// Moves each empty cluster onto one of the points farthest from their
/// centres, taking that point's weight out of the cluster it was in (as
/// scikit-learn's `_relocate_empty_clusters` does). Points at equal
/// distances go in the caller's order.
fn relocate_empty(tree: &Tree, centers: &[Point], labels: &[u32], pass: &mut Pass) {
    let (points, weights) = (tree.points(), tree.weights());
    let empty: Vec<usize> = (0..centers.len())
        .filter(|&j| pass.weights[j] == 0.0)
        .collect();
    if empty.is_empty() {
        return;
    }
    let mut far: Vec<(f32, u32, usize)> = points
        .par_iter()
        .zip(labels)
        .zip(tree.order())
        .enumerate()
        .map(|(i, ((p, &l), &o))| (dist2(p, &centers[l as usize]), o, i))
        .collect();
    far.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    for (&j, &(_, _, i)) in empty.iter().zip(&far) {
        let (p, w, from) = (points[i], weights[i], labels[i] as usize);
        for c in 0..3 {
            pass.sums[from][c] -= w * f64::from(p[c]);
            pass.sums[j][c] = w * f64::from(p[c]);
        }
        pass.weights[from] -= w;
        pass.weights[j] = w;
    }
}

/// One k-means run from `centers` until convergence or `max_iter`.
///
/// Each iteration assigns every point, then moves every centre to the
/// weighted mean of its points. The run stops when no label changed, or
/// when the centres' summed squared shift is at most `tol_abs`. The returned
/// labels and inertia always belong to the returned centres.
pub(crate) fn run(tree: &Tree, mut centers: Vec<Point>, max_iter: usize, tol_abs: f64) -> Fit {
    let mut assignment = Assignment::new(tree.points().len(), centers.len());
    let mut history = Vec::new();
    let mut converged = false;
    for i in 0..max_iter {
        let mut pass = tree.assign(&centers, &mut assignment);
        relocate_empty(tree, &centers, assignment.labels(), &mut pass);
        let mut shift = 0.0;
        for (j, c) in centers.iter_mut().enumerate() {
            if pass.weights[j] > 0.0 {
                let new = pass.sums[j].map(|s| (s / pass.weights[j]) as f32);
                shift += f64::from(dist2(c, &new));
                *c = new;
            }
        }
        history.push(Iteration {
            inertia: pass.inertia,
            center_shift: shift,
        });
        if i > 0 && pass.changed == 0 {
            converged = true;
            break;
        }
        if shift <= tol_abs {
            converged = true;
            break;
        }
    }
    // The last update moved the centres after labelling: label once more so
    // that labels, inertia and centres agree.
    let final_pass = tree.assign(&centers, &mut assignment);
    Fit::new(
        centers,
        tree.unsort(assignment.labels()),
        final_pass.weights,
        final_pass.inertia,
        history,
        converged,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_breaks_ties_toward_the_lowest_index() {
        let centers = [[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [2.0, 0.0, 0.0]];
        assert_eq!(nearest(&[1.0, 0.0, 0.0], &centers), (0, 1.0));
        assert_eq!(nearest(&[2.0, 0.0, 0.0], &centers), (1, 0.0));
    }

    #[test]
    fn mean_variance_weights_each_point() {
        // Values 0 (weight 3) and 4 (weight 1) on every channel: mean 1, variance 3.
        let v = mean_variance(&[[0.0; 3], [4.0; 3]], &[3.0, 1.0]);
        assert!((v - 3.0).abs() < 1e-12);
    }

    #[test]
    fn an_emptied_cluster_is_reseeded_not_dropped() {
        // The third centre is far from every point, so it starts empty.
        let points: Vec<Point> = (0..20).map(|i| [i as f32, 0.0, 0.0]).collect();
        let weights = vec![1.0; 20];
        let centers = vec![[2.0, 0.0, 0.0], [3.0, 0.0, 0.0], [1000.0, 0.0, 0.0]];
        let fit = run(&Tree::new(&points, &weights), centers, 100, 0.0);
        assert_eq!(fit.centroids().len(), 3);
        assert!(
            fit.cluster_weights().iter().all(|&w| w > 0.0),
            "{:?}",
            fit.cluster_weights()
        );
        assert!(fit.centroids().iter().all(|c| c[0] < 20.0));
    }
}
