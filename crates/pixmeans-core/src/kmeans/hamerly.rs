//! The assignment step with Hamerly's bounds (G. Hamerly, "Making k-means
//! even faster", SDM 2010): each point keeps a lower bound on its distance to
//! every centre but its own, so that once centres settle most points skip
//! the scan over all k centres.
//!
//! The labels are exactly those of a full scan. A point is skipped only when
//! its own centre is nearer than the bound by a relative margin of 1e-4,
//! thousands of times the rounding error of the f32 distances, so neither a
//! tie nor rounding can hide a nearer centre; every other point is scanned
//! as plain Lloyd scans it. On sunset.jpg (177k distinct colours) at k = 256 it
//! cuts the time of an iteration from 62 to 20 ms (from 3.9 to 1.6 ms at
//! k = 16), with the same iterations and labels.
//!
//! Each point also keeps an upper bound on the distance to its own centre,
//! and the cluster totals are kept from one pass to the next and updated
//! only for the points that change cluster, so a point whose bounds hold
//! needs neither its coordinates nor its weight; the inertia comes from
//! each cluster's moments. With
//! integer coordinates and weights (sRGB colours and pixel counts) every
//! total is an integer below 2^53, so the kept totals equal a fresh sum bit
//! for bit; in Oklab and CIELAB each move adds a rounding of about 1e-16 of
//! the total, far below what the f32 centres resolve. (Weights that are not
//! whole numbers could leave an emptied cluster a residue of weight, so
//! with those the totals are summed afresh after each pass.) On picture0b.jpg at
//! k = 16 (23 passes) this cut the instructions of the assignment from
//! 433 M to 225 M (callgrind): three points in four now pass on their
//! bounds alone, and the scans are what is left.
//!
//! The bounds are stored relative to how far their centre has moved in all,
//! so that a point that passes has its bounds read but not written: on
//! sunset.jpg at k = 16 this cut the fit from 601 M to 567 M instructions.
//! Each chunk's points are first tested in a sweep without branches that
//! lists the ones whose bounds fail; only those are then read.

use rayon::prelude::*;

use super::lloyd::{CHUNK, Pass, dist2};
use super::neighbours::{Neighbours, nearest_two};
use crate::color::Point;

/// How much nearer a point's own centre must be than its bound to skip.
const MARGIN: f64 = 1.0 + 1e-4;

// A chunk's indices fit the u16 list of points whose bounds fail.
const _: () = assert!(CHUNK <= 1 << 16);

/// From this k on, the first pass scans each point from the centre of the
/// point before (see [`Bounds::label_all`]). On sunset.jpg that made the
/// fit slower at k = 8 and 16 (the scan then visits nearly every centre,
/// with less predictable branches than the plain scan), the same at 32,
/// and faster from 64.
const GUESS_MIN_K: usize = 32;

/// Per-point bounds and the centres they were measured against.
#[derive(Debug)]
pub(crate) struct Bounds {
    /// Lower bound on the distance from each point to any centre other than
    /// its own, plus its centre's `fallen` at the time it was set; 0 for a
    /// point never scanned.
    lower: Vec<f64>,
    /// Upper bound on the distance from each point to its own centre, less
    /// its centre's `drifted` at the time it was set.
    upper: Vec<f64>,
    /// How far each centre has moved in all, summed over the passes.
    drifted: Vec<f64>,
    /// How far the lower bounds of each centre's points have fallen in all.
    fallen: Vec<f64>,
    /// The centres of the previous assignment.
    previous: Option<Vec<Point>>,
    /// Their neighbour rows, to update for the next.
    near: Option<Neighbours>,
    /// The cluster totals of the current labels, kept from pass to pass.
    totals: Option<Totals>,
    /// Whether the totals are summed afresh after each pass instead of
    /// updated: when some weight is not a whole number, since then an
    /// emptied cluster could keep a rounding residue for its weight.
    refresh: bool,
}

/// Per-cluster weighted sums of the coordinates, weights, and weighted
/// squared norms: what the centres and the inertia are computed from.
#[derive(Debug, Clone)]
struct Totals {
    sums: Vec<[f64; 3]>,
    weights: Vec<f64>,
    squares: Vec<f64>,
}

impl Totals {
    fn new(k: usize) -> Self {
        Totals {
            sums: vec![[0.0; 3]; k],
            weights: vec![0.0; k],
            squares: vec![0.0; k],
        }
    }

    /// The totals of the clusters `labels` gives, summed in fixed chunks
    /// (so independent of the thread count).
    fn of(points: &[Point], weights: &[f64], labels: &[u32], k: usize) -> Self {
        let parts: Vec<Totals> = points
            .par_chunks(CHUNK)
            .zip(weights.par_chunks(CHUNK))
            .zip(labels.par_chunks(CHUNK))
            .map(|((pts, ws), ls)| {
                let mut t = Totals::new(k);
                for ((p, &w), &l) in pts.iter().zip(ws).zip(ls) {
                    t.add(p, w, l as usize, 1.0);
                }
                t
            })
            .collect();
        parts.iter().fold(Totals::new(k), Totals::absorb)
    }

    /// Adds (`sign` 1) or removes (`sign` -1) point `p` of weight `w` in
    /// cluster `j`.
    #[inline]
    fn add(&mut self, p: &Point, w: f64, j: usize, sign: f64) {
        let w = sign * w;
        let mut square = 0.0;
        for c in 0..3 {
            let v = f64::from(p[c]);
            self.sums[j][c] += w * v;
            square += v * v;
        }
        self.weights[j] += w;
        self.squares[j] += w * square;
    }

    fn absorb(mut self, other: &Totals) -> Self {
        for j in 0..self.weights.len() {
            for c in 0..3 {
                self.sums[j][c] += other.sums[j][c];
            }
            self.weights[j] += other.weights[j];
            self.squares[j] += other.squares[j];
        }
        self
    }

    /// The sum of w·|x - c|² over every cluster, from its moments:
    /// Σw|x|² - 2c·Σwx + |c|²Σw.
    fn inertia(&self, centers: &[Point]) -> f64 {
        centers
            .iter()
            .enumerate()
            .map(|(j, c)| {
                let c = c.map(f64::from);
                let cross: f64 = (0..3).map(|i| c[i] * self.sums[j][i]).sum();
                let norm: f64 = c.iter().map(|v| v * v).sum();
                (self.squares[j] - 2.0 * cross + norm * self.weights[j]).max(0.0)
            })
            .sum()
    }
}

impl Bounds {
    pub(crate) fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        Bounds {
            lower: vec![0.0; n],
            upper: vec![0.0; n],
            drifted: Vec::new(),
            fallen: Vec::new(),
            previous: None,
            near: None,
            totals: None,
            refresh: weights.iter().any(|w| w.fract() != 0.0),
        }
    }

    /// Labels every point with its nearest centre and sums up the clusters,
    /// as a full scan would.
    pub(crate) fn assign(
        &mut self,
        points: &[Point],
        weights: &[f64],
        centers: &[Point],
        labels: &mut [u32],
    ) -> Pass {
        let mut near = self.near.take().unwrap_or_else(|| Neighbours::of(centers));
        if self.previous.is_some() {
            near.update(centers);
        }
        self.add_moves(centers);
        let pass = if self.previous.is_none() {
            self.label_all(points, weights, centers, labels, &near)
        } else {
            let half_gap: Vec<f64> = (0..centers.len()).map(|j| near.half_gap(j)).collect();
            self.assign_each(points, weights, centers, labels, &near, &half_gap)
        };
        self.previous = Some(centers.to_vec());
        self.near = Some(near);
        pass
    }

    /// Adds to `drifted` how far each centre moved since the previous
    /// assignment, and to `fallen` how far the lower bound of a point of
    /// each centre falls: the largest move of any other centre. Kept per
    /// centre, so that a point looks its fall up rather than derives it
    /// (callgrind: 13 fewer instructions a point).
    fn add_moves(&mut self, centers: &[Point]) {
        let k = centers.len();
        self.drifted.resize(k, 0.0);
        self.fallen.resize(k, 0.0);
        let Some(previous) = &self.previous else {
            return;
        };
        let drift: Vec<f64> = previous
            .iter()
            .zip(centers)
            .map(|(a, b)| f64::from(dist2(a, b)).sqrt())
            .collect();
        let (mut first, mut second, mut argmax) = (0.0f64, 0.0f64, usize::MAX);
        for (j, &d) in drift.iter().enumerate() {
            if d > first {
                (second, first, argmax) = (first, d, j);
            } else if d > second {
                second = d;
            }
        }
        for (j, d) in drift.into_iter().enumerate() {
            self.drifted[j] += d;
            self.fallen[j] += if j == argmax { second } else { first };
        }
    }

    /// The first pass: every point scanned, from the centre of the point
    /// before when k is large. The points come sorted by colour, so that
    /// centre is near, and the scan finds the same centres as a full scan
    /// wherever it starts: on picture0b.jpg at k = 256 the fit took 2272 M
    /// instructions instead of 2975 M. Below `GUESS_MIN_K` the plain scan
    /// is cheaper.
    fn label_all(
        &mut self,
        points: &[Point],
        weights: &[f64],
        centers: &[Point],
        labels: &mut [u32],
        near: &Neighbours,
    ) -> Pass {
        let k = centers.len();
        points
            .par_chunks(CHUNK)
            .zip(labels.par_chunks_mut(CHUNK))
            .zip(self.lower.par_chunks_mut(CHUNK))
            .zip(self.upper.par_chunks_mut(CHUNK))
            .for_each(|(((pts, ls), lows), ups)| {
                let mut guess = None;
                for (((p, l), low), up) in pts.iter().zip(ls).zip(lows).zip(ups) {
                    let (j, d1, d2) = match guess.filter(|_| k >= GUESS_MIN_K) {
                        Some(g) => near.nearest_two_from(p, centers, g, dist2(p, &centers[g])),
                        None => nearest_two(p, centers),
                    };
                    guess = Some(j as usize);
                    *l = j;
                    // The centres have not moved yet: the bounds are plain.
                    *up = f64::from(d1).sqrt();
                    *low = f64::from(d2).sqrt();
                }
            });
        let totals = Totals::of(points, weights, labels, k);
        self.keep(totals, centers, points.len())
    }

    /// Every pass after the first, when every point has a label: a point
    /// whose upper bound is below its lower bound is not scanned, and only
    /// the points that change cluster update the totals. `half_gap[j]` is
    /// half the distance from centre j to its nearest other centre: a
    /// point nearer than that to its own centre stays.
    fn assign_each(
        &mut self,
        points: &[Point],
        weights: &[f64],
        centers: &[Point],
        labels: &mut [u32],
        near: &Neighbours,
        half_gap: &[f64],
    ) -> Pass {
        let k = centers.len();
        let (drifted, fallen) = (&self.drifted, &self.fallen);
        let parts: Vec<(Option<Totals>, usize)> = points
            .par_chunks(CHUNK)
            .zip(weights.par_chunks(CHUNK))
            .zip(labels.par_chunks_mut(CHUNK))
            .zip(self.lower.par_chunks_mut(CHUNK))
            .zip(self.upper.par_chunks_mut(CHUNK))
            .map(|((((pts, ws), ls), lows), ups)| {
                // Made only once a point of the chunk moves.
                let mut delta: Option<Totals> = None;
                let mut changed = 0;
                // First the test alone, without a branch: every index is
                // written at the end of the list, and the end only moves on
                // past a point whose bounds fail. Branching on the test
                // instead mispredicted often enough that this sweep plus a
                // second loop over the failures is faster: iterating took
                // 50-58 ms instead of 70-76 ms on sunset.jpg at k = 16,
                // 10-14 % less at k = 64 and 6-9 % less at k = 256.
                let mut fail = [0u16; CHUNK];
                let mut n = 0;
                for (i, ((l, low), up)) in ls.iter().zip(lows.iter()).zip(ups.iter()).enumerate() {
                    let own = *l as usize;
                    let bound = (*low - fallen[own]).max(half_gap[own]);
                    fail[n] = i as u16;
                    n += usize::from((*up + drifted[own]) * MARGIN >= bound);
                }
                for &i in &fail[..n] {
                    let i = usize::from(i);
                    let (p, w) = (&pts[i], ws[i]);
                    let own = ls[i] as usize;
                    // Scanned at once, without first testing the tightened
                    // upper bound alone (Hamerly's step): that test went
                    // either way about equally often, and a scan also
                    // renews the lower bound. Iterating picture0b.jpg at
                    // k = 16 took 27-32 ms instead of 32-40 ms (best of 5,
                    // five rounds interleaved), 3 % less at k = 64, the
                    // same at k = 256.
                    let d = dist2(p, &centers[own]);
                    let (j, d1, d2) = near.nearest_two_from(p, centers, own, d);
                    ups[i] = f64::from(d1).sqrt() - drifted[j as usize];
                    lows[i] = f64::from(d2).sqrt() + fallen[j as usize];
                    if j as usize != own {
                        let delta = delta.get_or_insert_with(|| Totals::new(k));
                        delta.add(p, w, own, -1.0);
                        delta.add(p, w, j as usize, 1.0);
                        ls[i] = j;
                        changed += 1;
                    }
                }
                (delta, changed)
            })
            .collect();
        let changed = parts.iter().map(|p| p.1).sum();
        let totals = if self.refresh {
            Totals::of(points, weights, labels, k)
        } else {
            let kept = self.totals.take().unwrap_or_else(|| Totals::new(k));
            parts
                .iter()
                .filter_map(|p| p.0.as_ref())
                .fold(kept, Totals::absorb)
        };
        self.keep(totals, centers, changed)
    }

    /// Keeps the totals of a pass for the next, and reports the pass.
    fn keep(&mut self, totals: Totals, centers: &[Point], changed: usize) -> Pass {
        let pass = Pass {
            sums: totals.sums.clone(),
            weights: totals.weights.clone(),
            inertia: totals.inertia(centers),
            changed,
        };
        self.totals = Some(totals);
        pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmeans::init::Rng;
    use crate::kmeans::lloyd::nearest;

    #[test]
    fn bounded_assignment_equals_a_full_scan_as_centres_move() {
        let mut rng = Rng::new(11);
        for trial in 0..20 {
            let n = 3000 + trial * 97;
            // Even trials: integer points and weights, as sRGB colours with
            // pixel counts are (totals kept, ties happen); odd trials:
            // fractional points and weights (totals summed afresh).
            let exact = trial % 2 == 0;
            let points: Vec<Point> = rng
                .points(n, 256.0)
                .iter()
                .map(|p| if exact { p.map(f32::floor) } else { *p })
                .collect();
            let weights: Vec<f64> = (0..n)
                .map(|_| {
                    let w = 1.0 + rng.uniform() * 50.0;
                    if exact { w.floor() } else { w }
                })
                .collect();
            let k = 2 + trial * 13;
            let mut centers = rng.points(k, 256.0);
            let mut labels = vec![u32::MAX; n];
            let mut bounds = Bounds::new(&weights);
            for step in 0..12 {
                let pass = bounds.assign(&points, &weights, &centers, &mut labels);
                let mut sums = vec![[0.0f64; 3]; k];
                let mut totals = vec![0.0f64; k];
                let mut inertia = 0.0;
                for ((p, &w), &l) in points.iter().zip(&weights).zip(&labels) {
                    let (j, d) = nearest(p, &centers);
                    assert_eq!(l, j, "trial {trial} step {step}");
                    for c in 0..3 {
                        sums[j as usize][c] += w * f64::from(p[c]);
                    }
                    totals[j as usize] += w;
                    inertia += w * f64::from(d);
                }
                assert!((pass.inertia - inertia).abs() <= 1e-6 * inertia.max(1.0));
                if exact {
                    // Whole-number totals are exact: equal to a fresh sum,
                    // bit for bit.
                    assert_eq!(pass.sums, sums, "trial {trial} step {step}");
                    assert_eq!(pass.weights, totals, "trial {trial} step {step}");
                } else {
                    for (a, b) in pass.weights.iter().zip(&totals) {
                        assert!((a - b).abs() <= 1e-12 * b.max(1.0), "trial {trial}");
                        assert_eq!(*a == 0.0, *b == 0.0, "an emptied cluster stays empty");
                    }
                }
                // Small drifts, and now and then one centre jumps far or
                // lands exactly on another.
                for c in &mut centers {
                    for v in c.iter_mut() {
                        *v += ((rng.uniform() - 0.5) * 2.0) as f32;
                    }
                }
                if step % 3 == 2 {
                    let j = (rng.next_u64() % k as u64) as usize;
                    centers[j] = if step % 2 == 0 {
                        centers[(j + 1) % k]
                    } else {
                        [255.0, 0.0, 128.0]
                    };
                }
            }
        }
    }
}
