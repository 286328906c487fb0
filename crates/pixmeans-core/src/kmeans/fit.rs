//! [`Fit`]: the result of a k-means run.

use rayon::prelude::*;

use super::lloyd::nearest;
use crate::color::Point;

/// The figures of one Lloyd iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iteration {
    /// The inertia of the assignment made in this iteration, measured
    /// against the centroids it started from.
    pub inertia: f64,
    /// The sum over centroids of the squared distance each one moved.
    pub center_shift: f64,
}

/// A fitted k-means model: centroids, the label of every input point, and
/// how the fit went.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    centroids: Vec<Point>,
    labels: Vec<u32>,
    cluster_weights: Vec<f64>,
    inertia: f64,
    history: Vec<Iteration>,
    converged: bool,
}

impl Fit {
    pub(crate) fn new(
        centroids: Vec<Point>,
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
    pub(crate) fn every_point_its_own(points: &[Point], weights: &[f64]) -> Self {
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
    pub fn centroids(&self) -> &[Point] {
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

    /// The nearest centroid of each point, and the squared distance to it.
    pub fn predict(&self, points: &[Point]) -> Vec<(u32, f32)> {
        points
            .par_iter()
            .map(|p| nearest(p, &self.centroids))
            .collect()
    }

    /// Puts the clusters in a new order: `order[i]` is the old index of the
    /// new cluster i. Labels follow. Returns each old cluster's new index.
    pub(crate) fn reorder(&mut self, order: &[usize]) -> Vec<u32> {
        let mut rank = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old] = new as u32;
        }
        self.centroids = order.iter().map(|&o| self.centroids[o]).collect();
        self.cluster_weights = order.iter().map(|&o| self.cluster_weights[o]).collect();
        for l in &mut self.labels {
            *l = rank[*l as usize];
        }
        rank
    }
}
