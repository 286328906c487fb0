//! Weighted Lloyd iterations (Lloyd, 1982) on weighted points, plain (step
//! for step as scikit-learn's `lloyd` algorithm runs them) or over-relaxed.
//!
//! An over-relaxed step moves each centre past the mean of its points, to
//! c + β(m - c) with β = [`OVERRELAXATION`], instead of to m: k-means creeps
//! along shallow valleys of its objective, and the longer step follows them
//! in fewer passes. The step is kept only if the inertia it finds is no
//! more than the plain step guarantees, `E(c) - Σ_j W_j |m_j - c_j|²` (the
//! inertia of the same labels at the means); otherwise the next pass starts
//! from the plain step's centres (as Salakhutdinov and Roweis, 2003,
//! "Adaptive overrelaxed bound optimization methods", over-relax EM's steps
//! and fall back). The first step, the last, and the steps after one
//! turned down or after a cluster is reseeded are plain.
//!
//! With either step a run stops by scikit-learn's rule applied to the plain
//! step: the plain step's shift is within the tolerance, or no label
//! changed in a pass that started from the means of the last pass's labels
//! (only such a pass proves a fixed point). It ends on the plain step's
//! centres, the means of the labels of the last pass kept.
//!
//! The assignment step walks a k-d tree ([`Tree`]) whose partial sums are
//! merged in the tree's order, so results do not depend on the thread count.

use rayon::prelude::*;

use super::fit::{Fit, Iteration};
use super::kdtree::{Assignment, Tree};

/// Squared Euclidean distance.
#[inline]
pub(crate) fn dist2<const D: usize>(a: &[f32; D], b: &[f32; D]) -> f32 {
    let mut sum = 0.0;
    for c in 0..D {
        let d = a[c] - b[c];
        sum += d * d;
    }
    sum
}

/// The smallest box holding every point, as its lowest and highest corners
/// (infinite corners, lowest above highest, when there are none).
pub(crate) fn bounding_box<const D: usize>(points: &[[f32; D]]) -> ([f32; D], [f32; D]) {
    let mut lo = [f32::INFINITY; D];
    let mut hi = [f32::NEG_INFINITY; D];
    for p in points {
        for c in 0..D {
            lo[c] = lo[c].min(p[c]);
            hi[c] = hi[c].max(p[c]);
        }
    }
    (lo, hi)
}

/// The nearest centroid and the squared distance to it; the lowest index
/// wins a tie.
#[inline]
pub(crate) fn nearest<const D: usize>(p: &[f32; D], centers: &[[f32; D]]) -> (u32, f32) {
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
pub(crate) fn mean_variance<const D: usize>(
    points: &[[f32; D]],
    weight: impl Fn(usize) -> f64,
) -> f64 {
    let total: f64 = (0..points.len()).map(&weight).sum();
    let mut mean = [0.0f64; D];
    for (i, p) in points.iter().enumerate() {
        let w = weight(i);
        for c in 0..D {
            mean[c] += w * f64::from(p[c]);
        }
    }
    let mean = mean.map(|m| m / total);
    let mut var = 0.0;
    for (i, p) in points.iter().enumerate() {
        let w = weight(i);
        for c in 0..D {
            let d = f64::from(p[c]) - mean[c];
            var += w * d * d;
        }
    }
    var / total / D as f64
}

/// What one assignment pass learns: per-cluster weighted sums and weights,
/// the inertia of the assignment and how many labels changed.
pub(crate) struct Pass<const D: usize> {
    pub(crate) sums: Vec<[f64; D]>,
    pub(crate) weights: Vec<f64>,
    pub(crate) inertia: f64,
    pub(crate) changed: usize,
}

/// Moves each empty cluster onto one of the points farthest from their
/// centres, taking that point's weight out of the cluster it was in (as
/// scikit-learn's `_relocate_empty_clusters` does). Points at equal
/// distances go in the caller's order. Returns whether any cluster was
/// empty.
fn relocate_empty<const D: usize>(
    tree: &Tree<D>,
    centers: &[[f32; D]],
    labels: &[u32],
    pass: &mut Pass<D>,
) -> bool {
    let (points, weights) = (tree.points(), tree.weights());
    let empty: Vec<usize> = (0..centers.len())
        .filter(|&j| pass.weights[j] == 0.0)
        .collect();
    if empty.is_empty() {
        return false;
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
        for c in 0..D {
            pass.sums[from][c] -= w * f64::from(p[c]);
            pass.sums[j][c] = w * f64::from(p[c]);
        }
        pass.weights[from] -= w;
        pass.weights[j] = w;
    }
    true
}

/// Each centre's weighted mean (the centre itself for an empty cluster),
/// the summed squared distance from the centres to their means, and that
/// sum weighted by the clusters' weights: how much moving to the means
/// lowers the inertia of this pass's labels (when no cluster was reseeded).
fn means<const D: usize>(centers: &[[f32; D]], pass: &Pass<D>) -> (Vec<[f32; D]>, f64, f64) {
    let (mut shift, mut gain) = (0.0, 0.0);
    let means = centers
        .iter()
        .zip(&pass.sums)
        .zip(&pass.weights)
        .map(|((c, s), &w)| {
            if w == 0.0 {
                return *c;
            }
            let m = s.map(|s| (s / w) as f32);
            let d = f64::from(dist2(c, &m));
            shift += d;
            gain += w * d;
            m
        })
        .collect();
    (means, shift, gain)
}

/// c + β(m - c), one coordinate.
fn overrelax(c: f32, m: f32, beta: f64) -> f32 {
    let c = f64::from(c);
    (c + beta * (f64::from(m) - c)) as f32
}

/// How far past the mean an over-relaxed step moves a centre. Over seeds 0-4
/// at k = 16, 64 and 256 on picture0b.jpg and sunset.jpg, 1.75 took 31-41 %
/// fewer passes than plain steps and ended on a lower mean inertia at all 12
/// points in sRGB and in Oklab; 1.5 saved less, and 2 and more had their
/// steps turned down more often.
pub(crate) const OVERRELAXATION: f64 = 1.75;

/// One k-means run from `centers` until convergence or `max_iter`.
///
/// Each iteration assigns every point, then moves every centre to the
/// weighted mean of its points, or with `beta` above 1 `beta` times as far
/// (except for the plain steps the module's doc names). The run stops when
/// the summed squared distance from the centres to their means is at most
/// `tol_abs`, or when no label changed in a pass from the last labels'
/// means. The returned labels and inertia always belong to the returned
/// centres.
pub(crate) fn run<const D: usize>(
    tree: &Tree<D>,
    mut centers: Vec<[f32; D]>,
    max_iter: usize,
    tol_abs: f64,
    beta: f64,
) -> Fit<D> {
    let mut assignment = Assignment::new(tree.points().len(), centers.len());
    let mut history = Vec::new();
    let mut converged = false;
    // While an over-relaxed step is on trial: the plain step's centres, to
    // fall back on, and the inertia they guarantee.
    let mut on_trial: Option<(Vec<[f32; D]>, f64)> = None;
    for i in 0..max_iter {
        let mut pass = tree.assign(&centers, &mut assignment);
        let after_turned_down = history.last().is_some_and(|h: &Iteration| h.turned_down);
        let fallback = on_trial.take();
        let turned_down = fallback
            .as_ref()
            .is_some_and(|&(_, bound)| pass.inertia > bound);
        let relocated =
            !turned_down && relocate_empty(tree, &centers, assignment.labels(), &mut pass);
        let (means, shift, gain) = means(&centers, &pass);
        history.push(Iteration {
            inertia: pass.inertia,
            center_shift: shift,
            turned_down,
        });
        // No label changing proves a fixed point only when this pass's
        // centres are the means of the last pass's labels. After a step
        // turned down the labels kept are those of the step refused. (A
        // kept over-relaxed step always changes a label, but for rounding:
        // with the same labels its inertia would exceed the bound.)
        let from_last_means = fallback.is_none() && !after_turned_down;
        if let Some((plain, _)) = fallback
            && turned_down
        {
            centers = plain;
            continue;
        }
        if (i > 0 && from_last_means && pass.changed == 0) || shift <= tol_abs {
            centers = means;
            converged = true;
            break;
        }
        if beta > 1.0 && i > 0 && i + 1 < max_iter && !relocated && !after_turned_down {
            let over = centers
                .iter()
                .zip(&means)
                .map(|(c, m)| std::array::from_fn(|d| overrelax(c[d], m[d], beta)))
                .collect();
            on_trial = Some((means, pass.inertia - gain));
            centers = over;
        } else {
            centers = means;
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
    use crate::color::Point;

    #[test]
    fn nearest_breaks_ties_toward_the_lowest_index() {
        let centers = [[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [2.0, 0.0, 0.0]];
        assert_eq!(nearest(&[1.0, 0.0, 0.0], &centers), (0, 1.0));
        assert_eq!(nearest(&[2.0, 0.0, 0.0], &centers), (1, 0.0));
    }

    #[test]
    fn mean_variance_weights_each_point() {
        // Values 0 (weight 3) and 4 (weight 1) on every channel: mean 1, variance 3.
        let v = mean_variance(&[[0.0; 3], [4.0; 3]], |i| [3.0, 1.0][i]);
        assert!((v - 3.0).abs() < 1e-12);
    }

    #[test]
    fn an_emptied_cluster_is_reseeded_not_dropped() {
        // The third centre is far from every point, so it starts empty.
        let points: Vec<Point> = (0..20).map(|i| [i as f32, 0.0, 0.0]).collect();
        let weights = vec![1.0; 20];
        let centers = vec![[2.0, 0.0, 0.0], [3.0, 0.0, 0.0], [1000.0, 0.0, 0.0]];
        let fit = run(
            &Tree::new(&points, &weights),
            centers,
            100,
            0.0,
            OVERRELAXATION,
        );
        assert_eq!(fit.centroids().len(), 3);
        assert!(
            fit.cluster_weights().iter().all(|&w| w > 0.0),
            "{:?}",
            fit.cluster_weights()
        );
        assert!(fit.centroids().iter().all(|c| c[0] < 20.0));
    }

    /// 4000 points uniform in a 100-wide cube, weighted 1 to 3 (no
    /// clusters to find, so Lloyd creeps), and the first eight as a start.
    fn cube() -> (Vec<Point>, Vec<f64>, Vec<Point>) {
        let points = crate::kmeans::Rng::new(11).points(4000, 100.0);
        let weights = (0..points.len()).map(|i| (1 + i % 3) as f64).collect();
        let start = points[..8].to_vec();
        (points, weights, start)
    }

    #[test]
    fn over_relaxed_steps_stop_by_the_plain_rule_in_fewer_passes() {
        let (points, weights, start) = cube();
        let tree = Tree::new(&points, &weights);
        let tol = 1e-4 * mean_variance(&points, |i| weights[i]);
        let plain = run(&tree, start.clone(), 300, tol, 1.0);
        let over = run(&tree, start, 300, tol, OVERRELAXATION);
        assert!(plain.converged() && over.converged());
        assert!(
            over.iterations() < plain.iterations(),
            "{} vs {}",
            over.iterations(),
            plain.iterations()
        );
        // The stop is the plain rule's, and the centres end inside the
        // points' box (the last step is plain, to the means).
        let last = over.history().last().unwrap();
        assert!(last.center_shift <= tol && !last.turned_down, "{last:?}");
        let (lo, hi) = bounding_box(&points);
        for c in over.centroids() {
            assert!((0..3).all(|d| lo[d] <= c[d] && c[d] <= hi[d]), "{c:?}");
        }
    }

    #[test]
    fn with_no_tolerance_a_run_stops_only_at_a_fixed_point() {
        // With tol 0 a converged run must end where a plain step moves no
        // centre. Before "no label changed" was limited to passes from the
        // last labels' means, 49 of these 400 runs (3000 points on an
        // integer grid, k = 4 to 32) stopped short of that, each after a
        // step turned down, with shifts up to 0.5.
        for seed in 0..400 {
            let points: Vec<Point> = crate::kmeans::Rng::new(seed)
                .points(3000, 100.0)
                .iter()
                .map(|p| p.map(f32::round))
                .collect();
            let weights: Vec<f64> = (0..points.len()).map(|i| (1 + i % 5) as f64).collect();
            let k = 4 + seed as usize % 29;
            let fit = run(
                &Tree::new(&points, &weights),
                points[..k].to_vec(),
                1000,
                0.0,
                OVERRELAXATION,
            );
            let last = fit.history().last().unwrap();
            assert!(fit.converged(), "seed {seed}");
            assert_eq!(last.center_shift, 0.0, "seed {seed}: {last:?}");
        }
    }

    #[test]
    fn a_step_that_raises_the_inertia_is_turned_down() {
        // Steps ten times as long overshoot: many are turned down, and the
        // plain steps after them still bring the run home.
        let (points, weights, start) = cube();
        let tree = Tree::new(&points, &weights);
        let tol = 1e-4 * mean_variance(&points, |i| weights[i]);
        let fit = run(&tree, start, 300, tol, 10.0);
        let history = fit.history();
        assert!(fit.converged());
        assert!(history.iter().any(|h| h.turned_down), "{history:?}");
        let kept: Vec<f64> = history
            .iter()
            .filter(|h| !h.turned_down)
            .map(|h| h.inertia)
            .collect();
        assert!(
            kept.windows(2).all(|w| w[1] <= w[0] * (1.0 + 1e-9)),
            "{history:?}"
        );
        assert!(!history.last().unwrap().turned_down);
        // The two steps after one turned down are plain, so neither of the
        // next two passes can be turned down.
        assert!(
            history
                .windows(3)
                .all(|w| !(w[0].turned_down && (w[1].turned_down || w[2].turned_down))),
            "{history:?}"
        );
        let (lo, hi) = bounding_box(&points);
        for c in fit.centroids() {
            assert!((0..3).all(|d| lo[d] <= c[d] && c[d] <= hi[d]), "{c:?}");
        }
    }
}
