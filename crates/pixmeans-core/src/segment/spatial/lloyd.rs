//! The fit behind [`super`]: k-means++ or random seeding and Lloyd
//! iterations on 5-D points, every sum over fixed chunks merged in order.

use rayon::prelude::*;

use super::{CHUNK, Feature, SpatialFit};
use crate::kmeans::{Init, KMeansParams, Rng};

/// Fits k centroids to `points` as the module describes; `params` gives k,
/// the seeding, runs, iteration limit, tolerance and seed (given centroids
/// are not used: they have no position).
pub fn fit(points: &[Feature], params: &KMeansParams) -> SpatialFit {
    let tol = params.tol() * mean_variance(points);
    let mut seeds = Rng::new(params.seed());
    let mut best: Option<(f64, SpatialFit)> = None;
    for _ in 0..params.n_init() {
        let mut rng = Rng::new(seeds.next_u64());
        let centroids = start(points, params, &mut rng);
        let (fit, inertia) = lloyd(points, centroids, params.max_iter(), tol);
        if best.as_ref().is_none_or(|(b, _)| inertia < *b) {
            best = Some((inertia, fit));
        }
    }
    best.map_or_else(
        || SpatialFit {
            centroids: Vec::new(),
            iterations: 0,
            converged: true,
            fitted_pixels: 0,
        },
        |(_, fit)| fit,
    )
}

/// Lloyd iterations from `centroids` until no label changes, the summed
/// squared shift is at most `tol`, or `max_iter` runs; returns the fit and
/// the inertia of its last assignment.
pub fn lloyd(
    points: &[Feature],
    mut centroids: Vec<Feature>,
    max_iter: usize,
    tol: f64,
) -> (SpatialFit, f64) {
    let mut labels = vec![u32::MAX; points.len()];
    let mut iterations = 0;
    let mut converged = false;
    let mut inertia = f64::INFINITY;
    while iterations < max_iter && !centroids.is_empty() {
        iterations += 1;
        let k = centroids.len();
        // Per chunk: sums and counts per cluster, inertia, labels changed.
        let parts: Vec<(Vec<[f64; 6]>, f64, usize)> = points
            .par_chunks(CHUNK)
            .zip(labels.par_chunks_mut(CHUNK))
            .map(|(pts, lab)| {
                let mut sums = vec![[0.0f64; 6]; k];
                let (mut inertia, mut changed) = (0.0, 0);
                for (p, l) in pts.iter().zip(lab) {
                    let (j, d) = nearest(p, &centroids);
                    changed += usize::from(*l != j);
                    *l = j;
                    inertia += f64::from(d);
                    let s = &mut sums[j as usize];
                    for c in 0..5 {
                        s[c] += f64::from(p[c]);
                    }
                    s[5] += 1.0;
                }
                (sums, inertia, changed)
            })
            .collect();
        let mut sums = vec![[0.0f64; 6]; k];
        let mut changed = 0;
        inertia = 0.0;
        for (part, i, c) in parts {
            inertia += i;
            changed += c;
            for (s, p) in sums.iter_mut().zip(part) {
                for c in 0..6 {
                    s[c] += p[c];
                }
            }
        }
        let mut shift = 0.0;
        for (centre, s) in centroids.iter_mut().zip(&sums) {
            // An empty cluster keeps its centroid.
            if s[5] > 0.0 {
                for c in 0..5 {
                    let new = (s[c] / s[5]) as f32;
                    shift += f64::from(new - centre[c]).powi(2);
                    centre[c] = new;
                }
            }
        }
        if changed == 0 || shift <= tol {
            converged = true;
            break;
        }
    }
    let fit = SpatialFit {
        centroids,
        iterations,
        converged,
        fitted_pixels: points.len() as u64,
    };
    (fit, inertia)
}

#[inline]
fn dist2(a: &Feature, b: &Feature) -> f32 {
    let mut d = 0.0;
    for c in 0..5 {
        d += (a[c] - b[c]) * (a[c] - b[c]);
    }
    d
}

/// The nearest centroid and the squared distance; the lowest index wins a tie.
#[inline]
pub(super) fn nearest(p: &Feature, centroids: &[Feature]) -> (u32, f32) {
    let mut best = (0u32, f32::INFINITY);
    for (j, c) in centroids.iter().enumerate() {
        let d = dist2(p, c);
        if d < best.1 {
            best = (j as u32, d);
        }
    }
    best
}

/// The mean over the five axes of the per-axis variance.
pub fn mean_variance(points: &[Feature]) -> f64 {
    let n = points.len().max(1) as f64;
    let mut mean = [0.0f64; 5];
    for p in points {
        for c in 0..5 {
            mean[c] += f64::from(p[c]);
        }
    }
    let mean = mean.map(|m| m / n);
    let var: f64 = points
        .iter()
        .map(|p| {
            (0..5)
                .map(|c| (f64::from(p[c]) - mean[c]).powi(2))
                .sum::<f64>()
        })
        .sum();
    var / n / 5.0
}

/// The centroids the first run of [`fit`] starts from, for the same points
/// and parameters.
pub fn initial_centroids(points: &[Feature], params: &KMeansParams) -> Vec<Feature> {
    let mut rng = Rng::new(Rng::new(params.seed()).next_u64());
    start(points, params, &mut rng)
}

fn start(points: &[Feature], params: &KMeansParams, rng: &mut Rng) -> Vec<Feature> {
    match params.init() {
        Init::Random => random_points(points, params.k(), rng),
        // Wu's split cuts a 3-D grid of colours and given centroids have no
        // position: with five features both start from k-means++.
        _ => kmeans_plusplus(points, params.k(), rng),
    }
}

/// k-means++ seeding with one candidate per centroid; stops early when every
/// point already sits on a centroid.
fn kmeans_plusplus(points: &[Feature], k: usize, rng: &mut Rng) -> Vec<Feature> {
    if points.is_empty() {
        return Vec::new();
    }
    let first = (rng.uniform() * points.len() as f64) as usize % points.len();
    let mut centroids = vec![points[first]];
    let mut d2: Vec<f32> = points
        .par_iter()
        .map(|p| dist2(p, &points[first]))
        .collect();
    while centroids.len() < k {
        let sums: Vec<f64> = d2
            .par_chunks(CHUNK)
            .map(|c| c.iter().map(|&d| f64::from(d)).sum())
            .collect();
        let total: f64 = sums.iter().sum();
        if total <= 0.0 {
            break;
        }
        let mut target = rng.uniform() * total;
        let mut pick = None;
        'chunks: for (c, &s) in sums.iter().enumerate() {
            if target >= s {
                target -= s;
                continue;
            }
            for (i, &d) in d2[c * CHUNK..].iter().take(CHUNK).enumerate() {
                if d > 0.0 {
                    pick = Some(c * CHUNK + i);
                    if target < f64::from(d) {
                        break 'chunks;
                    }
                    target -= f64::from(d);
                }
            }
        }
        let Some(pick) = pick else { break };
        let new = points[pick];
        centroids.push(new);
        d2.par_iter_mut()
            .zip(points.par_iter())
            .for_each(|(d, p)| *d = d.min(dist2(p, &new)));
    }
    centroids
}

/// k of the points, chosen uniformly without repeating a position.
fn random_points(points: &[Feature], k: usize, rng: &mut Rng) -> Vec<Feature> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    let k = k.min(points.len());
    for i in 0..k {
        let j = i + (rng.uniform() * (points.len() - i) as f64) as usize % (points.len() - i);
        order.swap(i, j);
    }
    order[..k].iter().map(|&i| points[i]).collect()
}
