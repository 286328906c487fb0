//! [`Fit`]: the result of a k-means run.

use rayon::prelude::*;

use super::kdtree::{Assignment, Tree};
use super::lloyd::{dist2, nearest};

/// The figures of one Lloyd iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iteration {
    /// The inertia of the assignment made in this iteration, measured
    /// against the centroids it started from.
    pub inertia: f64,
    /// The sum over centroids of the squared distance from each one to the
    /// mean of its points: how far a plain Lloyd step moves them, and, but
    /// for a turned-down iteration, what the stopping rule compares with
    /// the tolerance.
    pub center_shift: f64,
    /// Whether this iteration's centroids were an over-relaxed step that
    /// found a higher inertia than the plain step guarantees, and were
    /// dropped for the plain step's. The inertia falls from each iteration
    /// to the next but for these.
    pub turned_down: bool,
}

/// How many centroids make [`Fit::predict`] label through a k-d tree
/// rather than compare every point with every centroid. On picture0b.jpg's
/// 176k colours (best of 5, two threads, the same labels and distances
/// either way) the scan took 4.3-5.4 ms at k = 32, 9.3-11.2 at 64, 42 at
/// 256 and 319-331 at 2000; the tree 6.0-6.3, 6.0-6.3, 6.6-7.0 and 8.9-10.1
/// (5.7 ms of it building the tree, whatever k).
const PREDICT_BY_TREE: usize = 48;

/// A fitted k-means model: centroids, the label of every input point, and
/// how the fit went. D is the number of coordinates of a point: 3 for
/// colours, 4 for colours with a fourth coordinate (their transparency).
#[derive(Debug, Clone, PartialEq)]
pub struct Fit<const D: usize = 3> {
    centroids: Vec<[f32; D]>,
    labels: Vec<u32>,
    cluster_weights: Vec<f64>,
    inertia: f64,
    history: Vec<Iteration>,
    converged: bool,
}

impl<const D: usize> Fit<D> {
    pub(crate) fn new(
        centroids: Vec<[f32; D]>,
        labels: Vec<u32>,
        cluster_weights: Vec<f64>,
        inertia: f64,
        history: Vec<Iteration>,
        converged: bool,
    ) -> Self {
        Fit {
            centroids,
            labels,
            cluster_weights,
            inertia,
            history,
            converged,
        }
    }

    /// The fit of at most k distinct points: each is its own centroid.
    pub(crate) fn every_point_its_own(points: &[[f32; D]], weights: &[f64]) -> Self {
        let labels = (0..points.len() as u32).collect();
        Fit::new(
            points.to_vec(),
            labels,
            weights.to_vec(),
            0.0,
            Vec::new(),
            true,
        )
    }

    /// The centroids, in the working space of the points.
    pub fn centroids(&self) -> &[[f32; D]] {
        &self.centroids
    }

    /// The cluster of each point the model was fitted on.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// The total weight (pixel count) of each cluster.
    pub fn cluster_weights(&self) -> &[f64] {
        &self.cluster_weights
    }

    /// The k-means objective: the weighted sum of squared distances from each
    /// point to its centroid.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// How many Lloyd iterations the kept run took (0 when every point is its
    /// own centroid).
    pub fn iterations(&self) -> usize {
        self.history.len()
    }

    /// Whether the kept run met the tolerance before the iteration limit.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// Inertia and centroid shift of each iteration of the kept run.
    pub fn history(&self) -> &[Iteration] {
        &self.history
    }

    /// The nearest centroid of each point, and the squared distance to it
    /// (the lowest index wins a tie).
    ///
    /// From 48 centroids on, the points are put in a k-d tree and labelled
    /// by one pass of the walk Lloyd's iterations use, which labels as a
    /// full scan does, in a fraction of the time at large k (points with a
    /// coordinate that is not finite are always scanned).
    pub fn predict(&self, points: &[[f32; D]]) -> Vec<(u32, f32)> {
        let centroids = &self.centroids;
        let finite = || points.par_iter().all(|p| p.iter().all(|c| c.is_finite()));
        if centroids.len() < PREDICT_BY_TREE || points.is_empty() || !finite() {
            return points.par_iter().map(|p| nearest(p, centroids)).collect();
        }
        let tree = Tree::new(points, &vec![1.0; points.len()]);
        let mut assignment = Assignment::new(points.len(), centroids.len());
        tree.assign(centroids, &mut assignment);
        tree.unsort(assignment.labels())
            .into_par_iter()
            .zip(points)
            .map(|(l, p)| (l, dist2(p, &centroids[l as usize])))
            .collect()
    }

    /// The same fit with each centroid turned into a point of `E`
    /// coordinates by `f` (a fit of colours with their transparency into
    /// one of colours).
    pub(crate) fn map_centroids<const E: usize>(self, f: impl Fn([f32; D]) -> [f32; E]) -> Fit<E> {
        Fit {
            centroids: self.centroids.into_iter().map(f).collect(),
            labels: self.labels,
            cluster_weights: self.cluster_weights,
            inertia: self.inertia,
            history: self.history,
            converged: self.converged,
        }
    }

    /// Puts the clusters in a new order: `order[i]` is the old index of the
    /// new cluster i. Labels follow. Returns each old cluster's new index.
    pub(crate) fn reorder(&mut self, order: &[usize]) -> Vec<u32> {
        let rank = ranks(order, order.len());
        self.centroids = order.iter().map(|&o| self.centroids[o]).collect();
        self.cluster_weights = order.iter().map(|&o| self.cluster_weights[o]).collect();
        for l in &mut self.labels {
            *l = rank[*l as usize];
        }
        rank
    }
}

/// Each of `n` old positions' place in `order` (`order[i]` being the old
/// position of new place i); 0 for a position that `order` leaves out.
pub(crate) fn ranks(order: &[usize], n: usize) -> Vec<u32> {
    let mut rank = vec![0u32; n];
    for (new, &old) in order.iter().enumerate() {
        rank[old] = new as u32;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmeans::init::Rng;

    #[test]
    fn predicting_through_the_tree_equals_a_full_scan() {
        let mut rng = Rng::new(21);
        for (n, k) in [(5000, PREDICT_BY_TREE), (3000, 300), (40, 100)] {
            let mut points = rng.points(n, 256.0);
            for p in points.iter_mut().step_by(3) {
                *p = p.map(f32::floor);
            }
            let mut centroids = rng.points(k, 256.0);
            // Two equal centroids, and one on a point.
            centroids[1] = centroids[0];
            centroids[2] = points[0];
            if n == 40 {
                points[7] = [f32::NAN, 0.0, 0.0];
            }
            let fit = Fit::new(
                centroids.clone(),
                Vec::new(),
                vec![1.0; k],
                0.0,
                Vec::new(),
                true,
            );
            for (p, &got) in points.iter().zip(&fit.predict(&points)) {
                assert_eq!(got, nearest(p, &centroids), "n = {n}, k = {k}");
            }
        }
    }
}
