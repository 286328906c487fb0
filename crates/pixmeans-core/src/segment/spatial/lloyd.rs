//! The fit behind [`super`]: k-means++ or random seeding and Lloyd
//! iterations on 5-D points, every sum over fixed chunks merged in order.

use rayon::prelude::*;

use super::{CHUNK, Feature, SpatialFit};
use crate::kmeans::{self, Init, KMeansParams, Rng, dist2, nearest};

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

/// Relative slack on the distance bounds of [`lloyd`]: far above the
/// rounding of an `f32` squared distance (about 6·10^-7 of it), so a point
/// is only left where it is when its centroid is nearer than any other by
/// more than rounding could undo.
const SLACK: f64 = 1e-5;

/// Lloyd iterations from `centroids` until no label changes, the summed
/// squared shift is at most `tol`, or `max_iter` runs; returns the fit and
/// the inertia of its last assignment.
///
/// The labels are those of a search of every centroid for every point, but
/// most points skip the search (Hamerly, 2010): each keeps a lower bound on
/// its distance to every centroid but its own, lowered by the most any of
/// those moves, and keeps its label while its own centroid is nearer than
/// the bound. The search itself walks out from the point's column
/// (`ByColumn`). Together they took `segment coffee.png -k 256 --spatial
/// 1` (240k pixels, 112 iterations) from 12.1-12.2 s to 2.4-2.5 s, with the
/// same bytes out; sunset.jpg at k = 48 from 3.0-3.4 s to 2.0-2.4 s, and
/// at k = 5 within noise.
pub fn lloyd(
    points: &[Feature],
    mut centroids: Vec<Feature>,
    max_iter: usize,
    tol: f64,
) -> (SpatialFit, f64) {
    let mut labels = vec![u32::MAX; points.len()];
    let mut lower = vec![0.0f64; points.len()];
    // How far each centroid moved in the last update: the most, where, and
    // the most of the others.
    let mut moved = Moved::default();
    let mut iterations = 0;
    let mut converged = false;
    let mut inertia = f64::INFINITY;
    while iterations < max_iter && !centroids.is_empty() {
        iterations += 1;
        let k = centroids.len();
        let by_column = ByColumn::new(&centroids);
        // Per chunk: sums and counts per cluster, inertia, labels changed.
        let parts: Vec<(Vec<[f64; 6]>, f64, usize)> = points
            .par_chunks(CHUNK)
            .zip(labels.par_chunks_mut(CHUNK))
            .zip(lower.par_chunks_mut(CHUNK))
            .map(|((pts, lab), low)| {
                let mut sums = vec![[0.0f64; 6]; k];
                let (mut inertia, mut changed) = (0.0, 0);
                for ((p, l), low) in pts.iter().zip(lab).zip(low) {
                    let (j, d) = if *l == u32::MAX {
                        by_column.search(p, low)
                    } else {
                        *low -= moved.by_others(*l);
                        let d = dist2(p, &centroids[*l as usize]);
                        if f64::from(d).sqrt() * (1.0 + SLACK) < *low {
                            (*l, d)
                        } else {
                            by_column.search(p, low)
                        }
                    };
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
        moved = Moved::default();
        for (j, (centre, s)) in centroids.iter_mut().zip(&sums).enumerate() {
            // An empty cluster keeps its centroid.
            if s[5] > 0.0 {
                let mut step = 0.0;
                for c in 0..5 {
                    let new = (s[c] / s[5]) as f32;
                    step += (f64::from(new) - f64::from(centre[c])).powi(2);
                    centre[c] = new;
                }
                shift += step;
                moved.add(j as u32, step.sqrt() * (1.0 + SLACK));
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

/// The two longest moves of the centroids in one update.
#[derive(Default)]
struct Moved {
    /// The longest, and the centroid that made it.
    most: (f64, u32),
    /// The longest of the others.
    second: f64,
}

impl Moved {
    fn add(&mut self, j: u32, by: f64) {
        if by > self.most.0 {
            self.second = self.most.0;
            self.most = (by, j);
        } else if by > self.second {
            self.second = by;
        }
    }

    /// The longest move of a centroid other than `j`.
    fn by_others(&self, j: u32) -> f64 {
        if self.most.1 == j {
            self.second
        } else {
            self.most.0
        }
    }
}

/// The fewest centroids for which [`ByColumn`] walks out from a point's
/// column; below, trying them all is faster.
const WALK_FROM: usize = 32;

/// The centroids in order of their column (the fourth feature), to search
/// outward from a point's column: a centroid whose column alone is farther
/// than the second nearest found so far cannot be nearer, so the walk in
/// that direction stops.
pub(super) struct ByColumn<'a> {
    centroids: &'a [Feature],
    /// Centroid indices, by column.
    order: Vec<u32>,
    /// Their columns, in that order.
    columns: Vec<f32>,
}

impl<'a> ByColumn<'a> {
    pub(super) fn new(centroids: &'a [Feature]) -> Self {
        let mut order: Vec<u32> = (0..centroids.len() as u32).collect();
        order.sort_by(|&a, &b| centroids[a as usize][3].total_cmp(&centroids[b as usize][3]));
        let columns = order.iter().map(|&j| centroids[j as usize][3]).collect();
        ByColumn {
            centroids,
            order,
            columns,
        }
    }

    /// What [`ByColumn::nearest`] finds (the lowest index wins a tie), and
    /// the squared distance to the second nearest.
    pub(super) fn nearest_two(&self, p: &Feature) -> (u32, f32, f32) {
        let (mut best, mut second) = ((0u32, f32::INFINITY), f32::INFINITY);
        let visit = |i: usize, best: &mut (u32, f32), second: &mut f32| {
            let j = self.order[i];
            let d = dist2(p, &self.centroids[j as usize]);
            if d < best.1 || (d == best.1 && j < best.0) {
                *second = best.1;
                *best = (j, d);
            } else if d < *second {
                *second = d;
            }
        };
        if self.order.len() < WALK_FROM {
            for i in 0..self.order.len() {
                visit(i, &mut best, &mut second);
            }
            return (best.0, best.1, second);
        }
        // The same rounding as the column's term in `dist2`, which the sum
        // of non-negative terms never rounds below.
        let apart = |i: usize| (p[3] - self.columns[i]) * (p[3] - self.columns[i]);
        let split = self.columns.partition_point(|&x| x < p[3]);
        let (mut left, mut right) = (split, split);
        loop {
            let go_left = left > 0 && apart(left - 1) <= second;
            let go_right = right < self.order.len() && apart(right) <= second;
            if !(go_left || go_right) {
                break;
            }
            if go_left {
                left -= 1;
                visit(left, &mut best, &mut second);
            }
            if go_right {
                visit(right, &mut best, &mut second);
                right += 1;
            }
        }
        (best.0, best.1, second)
    }

    /// The nearest centroid and the squared distance; the lowest index wins
    /// a tie.
    pub(super) fn nearest(&self, p: &Feature) -> (u32, f32) {
        if self.order.len() >= WALK_FROM {
            let (j, d, _) = self.nearest_two(p);
            return (j, d);
        }
        nearest(p, self.centroids)
    }

    /// [`ByColumn::nearest_two`], leaving in `lower` the bound for
    /// [`lloyd`]: the distance to the second nearest, less the slack.
    fn search(&self, p: &Feature, lower: &mut f64) -> (u32, f32) {
        let (j, d, second) = self.nearest_two(p);
        *lower = f64::from(second).sqrt() * (1.0 - SLACK);
        (j, d)
    }
}

/// The mean over the five axes of the per-axis variance (0 for no points).
pub fn mean_variance(points: &[Feature]) -> f64 {
    if points.is_empty() {
        return 0.0;
    }
    kmeans::mean_variance(points, |_| 1.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_by_column_finds_what_trying_every_centroid_finds() {
        let mut rng = Rng::new(8);
        let mut coord = || (rng.uniform() * 8.0).floor() as f32;
        // Coarse coordinates, so that distances tie, and repeated centroids.
        let mut centroids: Vec<Feature> =
            (0..60).map(|_| std::array::from_fn(|_| coord())).collect();
        centroids.extend_from_within(..10);
        let by_column = ByColumn::new(&centroids);
        for _ in 0..3000 {
            let p: Feature = std::array::from_fn(|_| coord());
            let (j, d, second) = by_column.nearest_two(&p);
            assert_eq!((j, d), nearest(&p, &centroids), "{p:?}");
            let mut all: Vec<f32> = centroids.iter().map(|c| dist2(&p, c)).collect();
            all.sort_by(f32::total_cmp);
            assert_eq!(second, all[1], "{p:?}");
        }
    }

    /// Lloyd as the textbook has it: every point searches every centroid.
    fn every_centroid(
        points: &[Feature],
        mut centroids: Vec<Feature>,
        max_iter: usize,
    ) -> (Vec<Feature>, f64, usize) {
        let mut inertia = 0.0;
        for iteration in 1..=max_iter {
            let mut sums = vec![[0.0f64; 6]; centroids.len()];
            inertia = 0.0;
            for p in points {
                let (j, d) = nearest(p, &centroids);
                inertia += f64::from(d);
                for c in 0..5 {
                    sums[j as usize][c] += f64::from(p[c]);
                }
                sums[j as usize][5] += 1.0;
            }
            let before = centroids.clone();
            for (centre, s) in centroids.iter_mut().zip(&sums) {
                if s[5] > 0.0 {
                    *centre = std::array::from_fn(|c| (s[c] / s[5]) as f32);
                }
            }
            if centroids == before {
                return (centroids, inertia, iteration);
            }
        }
        (centroids, inertia, max_iter)
    }

    #[test]
    fn skipping_searches_changes_nothing() {
        // Clumps of points (so that labels settle and searches are
        // skipped), fewer than a chunk so that the sums run in one order.
        let mut rng = Rng::new(5);
        let centres: Vec<Feature> = (0..30)
            .map(|_| std::array::from_fn(|_| (rng.uniform() * 100.0) as f32))
            .collect();
        let points: Vec<Feature> = (0..4000)
            .map(|i| {
                let c = centres[i % centres.len()];
                std::array::from_fn(|a| c[a] + (rng.uniform() * 30.0) as f32)
            })
            .collect();
        for k in [1, 2, 7, 40, 120] {
            let start = kmeans_plusplus(&points, k, &mut Rng::new(k as u64));
            let (fit, inertia) = lloyd(&points, start.clone(), 300, 0.0);
            let (centroids, expected, iterations) = every_centroid(&points, start, 300);
            assert_eq!(fit.centroids, centroids, "k = {k}");
            assert_eq!(inertia, expected, "k = {k}");
            assert_eq!(fit.iterations, iterations, "k = {k}");
        }
    }
}
