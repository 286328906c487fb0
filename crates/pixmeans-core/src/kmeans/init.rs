//! Seeding: greedy k-means++ and weighted random distinct colours.
//!
//! Every reduction here runs over fixed chunks merged in order, so the seeds
//! are the same whatever the number of threads.

use rand_core::{Rng as _, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

use super::lloyd::{bounding_box, dist2};
use crate::color::Point;

/// Points per block: each block keeps its bounding box, the largest
/// distance from one of its points to its closest centroid, and the sum
/// behind the draws, so that a candidate out of its reach skips it. Fixed,
/// so that the seeds do not depend on the thread count.
const BLOCK: usize = 64;

/// Blocks per parallel task; a task whose box is out of reach skips all
/// its blocks at once. Blocks of 64 scan less than half the points that
/// blocks of 512 did at k = 256, and grouping them keeps the cost of
/// handing out the work what it was. Best of 10 seeds on picture0b.jpg's
/// colours, against blocks of 512 with no tasks: k = 16 9.8-9.9 ms instead
/// of 12.9-14.7, k = 64 24-26 instead of 37-44, k = 256 60-62 instead of
/// 107-116 (32 or 128 per block, or 16 blocks per task, were no faster).
/// The seeds are the same: only the grouping of the sums changed, and it
/// moves no draw at any of those seeds.
const TASK: usize = 8;

/// The portable, seeded random stream behind every random choice.
#[derive(Debug, Clone)]
pub(crate) struct Rng(Xoshiro256PlusPlus);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1), with 53 random bits.
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `n` points uniform in [0, scale)³, for tests.
    #[cfg(test)]
    pub(crate) fn points(&mut self, n: usize, scale: f64) -> Vec<Point> {
        (0..n)
            .map(|_| [0; 3].map(|_: i32| (self.uniform() * scale) as f32))
            .collect()
    }
}

/// Per-block sums of `value(i)`, in block order.
fn block_sums(n: usize, value: impl Fn(usize) -> f64 + Sync) -> Vec<f64> {
    (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| (b * BLOCK..((b + 1) * BLOCK).min(n)).map(&value).sum())
        .collect()
}

/// Draws an index with probability proportional to `value(i)`, given the
/// per-block sums of those values. Indices of value 0 are never drawn.
fn draw(sums: &[f64], n: usize, value: impl Fn(usize) -> f64, rng: &mut Rng) -> usize {
    let total: f64 = sums.iter().sum();
    let mut target = rng.uniform() * total;
    let mut last_positive = None;
    for (c, &s) in sums.iter().enumerate() {
        if target >= s {
            target -= s;
            continue;
        }
        for i in c * BLOCK..((c + 1) * BLOCK).min(n) {
            let v = value(i);
            if v > 0.0 {
                if target < v {
                    return i;
                }
                target -= v;
                last_positive = Some(i);
            }
        }
    }
    // Rounding left the target past the end: take the last candidate seen.
    last_positive.unwrap_or(0)
}

/// Greedy k-means++: each new centroid is the best, by resulting potential,
/// of 2 + ⌊ln k⌋ candidates drawn with probability proportional to weight
/// times squared distance to the nearest centroid so far. Needs more than k
/// distinct points.
pub(crate) fn kmeans_plusplus(
    points: &[Point],
    weights: &[f64],
    k: usize,
    rng: &mut Rng,
) -> Vec<Point> {
    let sums = block_sums(points.len(), |i| weights[i]);
    let first = draw(&sums, points.len(), |i| weights[i], rng);
    kmeans_plusplus_from(points, weights, vec![points[first]], k, rng)
}

/// How much farther than a block's largest closest distance a candidate's
/// distance to the block's bounding box must be for the block to be
/// skipped: far above the rounding error of f32 distances, so a skipped
/// block is one where every point would have kept its distance.
const SKIP_MARGIN: f32 = 1.0 + 1e-4;

/// The bounding box of a block of points.
struct Bounds {
    lo: Point,
    hi: Point,
}

impl Bounds {
    fn of(points: &[Point]) -> Self {
        let (lo, hi) = bounding_box(points);
        Bounds { lo, hi }
    }

    /// The smallest box holding all of `boxes`.
    fn union(boxes: &[Bounds]) -> Self {
        let mut u = Bounds::of(&[]);
        for b in boxes {
            for c in 0..3 {
                u.lo[c] = u.lo[c].min(b.lo[c]);
                u.hi[c] = u.hi[c].max(b.hi[c]);
            }
        }
        u
    }

    /// Squared distance from `x` to the nearest point of the box.
    fn dist2(&self, x: &Point) -> f32 {
        (0..3)
            .map(|c| {
                let d = (self.lo[c] - x[c]).max(x[c] - self.hi[c]).max(0.0);
                d * d
            })
            .sum()
    }

    /// Whether no point of the block can be nearer to `x` than its closest
    /// centroid so far, the largest such squared distance being `max_closest`.
    fn out_of_reach(&self, x: &Point, max_closest: f32) -> bool {
        self.dist2(x) > max_closest * SKIP_MARGIN
    }
}

/// Greedy k-means++ continued from `centers` (at least one) up to k.
///
/// The points are visited in Morton (Z-curve) order, so that each block of
/// them fills a small, compact box of the colour space. A block whose box is
/// farther from a candidate than any of its points is from its closest
/// centroid cannot change: its potential is taken as it stands, bit for bit
/// what scanning it would give. Late in the seeding most blocks are skipped
/// this way. (In the histogram's own order a block spans a slab across the
/// whole cube; Z order and chunks of 512 cut seeding at k = 256 on
/// sunset.jpg from 0.36–0.53 s to 0.21–0.24 s, and at k = 64 from 0.10–0.15 s
/// to 0.07–0.09 s.)
pub(crate) fn kmeans_plusplus_from(
    points: &[Point],
    weights: &[f64],
    centers: Vec<Point>,
    k: usize,
    rng: &mut Rng,
) -> Vec<Point> {
    let order = morton_order(points);
    let points: Vec<Point> = order.iter().map(|&i| points[i as usize]).collect();
    let weights: Vec<f64> = order.iter().map(|&i| weights[i as usize]).collect();
    seed_from(&points, &weights, centers, k, rng, true)
}

/// The indices of `points` in Z-curve order over a 32³ grid of their
/// bounding box (a counting sort: points in one cell keep their order).
fn morton_order(points: &[Point]) -> Vec<u32> {
    const BITS: u32 = 5;
    let b = Bounds::of(points);
    // Spreads the low 5 bits of v to every third bit.
    let spread = |v: u32| (0..BITS).fold(0u32, |x, i| x | (((v >> i) & 1) << (3 * i)));
    let cell = |p: &Point| {
        let q = |c: usize| {
            let span = b.hi[c] - b.lo[c];
            let max = ((1 << BITS) - 1) as f32;
            if span > 0.0 {
                ((p[c] - b.lo[c]) / span * max) as u32
            } else {
                0
            }
        };
        ((spread(q(0)) << 2) | (spread(q(1)) << 1) | spread(q(2))) as usize
    };
    let cells: Vec<usize> = points.par_iter().map(cell).collect();
    let mut start = vec![0u32; 1 << (3 * BITS)];
    for &c in &cells {
        start[c] += 1;
    }
    let mut next = 0;
    for s in &mut start {
        (*s, next) = (next, next + *s);
    }
    let mut order = vec![0u32; points.len()];
    for (i, &c) in cells.iter().enumerate() {
        order[start[c] as usize] = i as u32;
        start[c] += 1;
    }
    order
}

/// [`kmeans_plusplus_from`], skipping out-of-reach blocks only if `prune`
/// (the tests compare both ways).
fn seed_from(
    points: &[Point],
    weights: &[f64],
    mut centers: Vec<Point>,
    k: usize,
    rng: &mut Rng,
    prune: bool,
) -> Vec<Point> {
    let n = points.len();
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut closest: Vec<f32> = points
        .par_iter()
        .map(|p| {
            centers
                .iter()
                .map(|c| dist2(p, c))
                .fold(f32::INFINITY, f32::min)
        })
        .collect();
    let boxes: Vec<Bounds> = points.par_chunks(BLOCK).map(Bounds::of).collect();
    let task_boxes: Vec<Bounds> = boxes.chunks(TASK).map(Bounds::union).collect();
    let mut reach: Vec<f32> = closest
        .par_chunks(BLOCK)
        .map(|cl| cl.iter().copied().fold(0.0, f32::max))
        .collect();
    let mut sums = block_sums(n, |i| weights[i] * f64::from(closest[i]));
    // Each task's potential for each candidate, reused from draw to draw.
    let mut scores = vec![0.0f64; task_boxes.len() * trials];
    // Two passes over the points per centroid: one scores every candidate,
    // one moves the closest distances and sums them for the next draw.
    // (Nine separate passes took twice as long at k = 256.)
    while centers.len() < k {
        let pot = |i: usize| weights[i] * f64::from(closest[i]);
        let candidates: Vec<Point> = (0..trials)
            .map(|_| points[draw(&sums, n, pot, rng)])
            .collect();
        scores
            .par_chunks_mut(trials)
            .zip(points.par_chunks(TASK * BLOCK))
            .zip(weights.par_chunks(TASK * BLOCK))
            .zip(closest.par_chunks(TASK * BLOCK))
            .enumerate()
            .for_each(|(task, (((score, pts), ws), cl))| {
                let blocks = task * TASK..(task * TASK + TASK).min(sums.len());
                let (sums, reach, boxes) = (
                    &sums[blocks.clone()],
                    &reach[blocks.clone()],
                    &boxes[blocks],
                );
                let task_reach = reach.iter().copied().fold(0.0, f32::max);
                for (t, cand) in candidates.iter().enumerate() {
                    score[t] = if task_boxes[task].out_of_reach(cand, task_reach) {
                        sums.iter().sum()
                    } else {
                        (0..sums.len())
                            .map(|b| {
                                if boxes[b].out_of_reach(cand, reach[b]) {
                                    return sums[b];
                                }
                                let span = b * BLOCK..((b + 1) * BLOCK).min(pts.len());
                                let (pts, ws, cl) =
                                    (&pts[span.clone()], &ws[span.clone()], &cl[span]);
                                // One sum per candidate and block, in point
                                // order: bit for bit the block's sum when no
                                // point comes nearer.
                                pts.iter().zip(ws).zip(cl).fold(0.0, |a, ((p, &w), &d)| {
                                    a + w * f64::from(d.min(dist2(p, cand)))
                                })
                            })
                            .sum()
                    };
                }
            });
        let potential = |t: usize| -> f64 { scores.iter().skip(t).step_by(trials).sum() };
        let mut best = (0, f64::INFINITY);
        for t in 0..trials {
            let p = potential(t);
            if p < best.1 {
                best = (t, p);
            }
        }
        let cand = candidates[best.0];
        sums.par_chunks_mut(TASK)
            .zip(reach.par_chunks_mut(TASK))
            .zip(closest.par_chunks_mut(TASK * BLOCK))
            .zip(points.par_chunks(TASK * BLOCK))
            .zip(weights.par_chunks(TASK * BLOCK))
            .enumerate()
            .for_each(|(task, ((((sums, reach), cl), pts), ws))| {
                let blocks = cl
                    .chunks_mut(BLOCK)
                    .zip(pts.chunks(BLOCK))
                    .zip(ws.chunks(BLOCK))
                    .enumerate();
                for (b, ((cl, pts), ws)) in blocks {
                    if prune && boxes[task * TASK + b].out_of_reach(&cand, reach[b]) {
                        continue;
                    }
                    let (mut sum, mut max) = (0.0, 0.0f32);
                    for ((d, p), &w) in cl.iter_mut().zip(pts).zip(ws) {
                        *d = d.min(dist2(p, &cand));
                        sum += w * f64::from(*d);
                        max = max.max(*d);
                    }
                    (sums[b], reach[b]) = (sum, max);
                }
            });
        centers.push(cand);
    }
    centers
}

/// k distinct points drawn without replacement, each with probability
/// proportional to its weight (Efraimidis and Spirakis, 2006: the k largest
/// of ln(u) / w).
pub(crate) fn random_distinct(
    points: &[Point],
    weights: &[f64],
    k: usize,
    rng: &mut Rng,
) -> Vec<Point> {
    let mut keys: Vec<(f64, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, &w)| ((1.0 - rng.uniform()).ln() / w, i))
        .collect();
    keys.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keys.iter().take(k).map(|&(_, i)| points[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize) -> Vec<Point> {
        (0..n)
            .map(|i| [(i % 17) as f32, (i / 17) as f32, (i % 5) as f32])
            .collect()
    }

    #[test]
    fn kmeans_plusplus_picks_k_distinct_points() {
        let pts = grid(500);
        let w = vec![1.0; pts.len()];
        let c = kmeans_plusplus(&pts, &w, 40, &mut Rng::new(3));
        assert_eq!(c.len(), 40);
        for (i, a) in c.iter().enumerate() {
            assert!(pts.contains(a));
            assert!(c[..i].iter().all(|b| b != a), "centroid {i} repeats");
        }
    }

    #[test]
    fn skipping_out_of_reach_blocks_changes_nothing() {
        // Sorted, clustered points over many blocks: most blocks go out of
        // reach as centroids are added.
        let mut pts: Vec<Point> = (0..40_000u32)
            .map(|i| {
                let blob = (i % 9) as f32 * 28.0;
                let j = (i.wrapping_mul(2_654_435_761) >> 20) as f32 / 4096.0;
                [blob + 5.0 * j, (i % 7) as f32 * 30.0 + j, 255.0 - blob - j]
            })
            .collect();
        pts.sort_by(|a, b| a.partial_cmp(b).unwrap());
        pts.dedup();
        let w: Vec<f64> = (0..pts.len()).map(|i| 1.0 + (i % 5) as f64).collect();
        for k in [16, 100] {
            let start = vec![pts[0]];
            let pruned = seed_from(&pts, &w, start.clone(), k, &mut Rng::new(4), true);
            let full = seed_from(&pts, &w, start, k, &mut Rng::new(4), false);
            assert_eq!(pruned, full, "k = {k}");
        }
    }

    #[test]
    fn seeding_depends_only_on_the_seed() {
        let pts = grid(9000);
        let w: Vec<f64> = (0..pts.len()).map(|i| 1.0 + (i % 3) as f64).collect();
        let a = kmeans_plusplus(&pts, &w, 16, &mut Rng::new(1));
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = one_thread.install(|| kmeans_plusplus(&pts, &w, 16, &mut Rng::new(1)));
        assert_eq!(a, b);
        assert_ne!(a, kmeans_plusplus(&pts, &w, 16, &mut Rng::new(2)));
    }

    #[test]
    fn random_distinct_never_repeats_and_favours_heavy_points() {
        let pts = grid(100);
        let mut w = vec![1.0; 100];
        w[42] = 1e9;
        let mut hits = 0;
        for seed in 0..50 {
            let c = random_distinct(&pts, &w, 10, &mut Rng::new(seed));
            assert_eq!(c.len(), 10);
            for (i, a) in c.iter().enumerate() {
                assert!(c[..i].iter().all(|b| b != a));
            }
            hits += usize::from(c.contains(&pts[42]));
        }
        assert_eq!(hits, 50);
    }

    #[test]
    fn draw_never_returns_a_zero_weight_index() {
        let n = 3 * TASK * BLOCK + 5;
        let value = |i: usize| if i % 1000 == 999 { 1.0 } else { 0.0 };
        let sums = block_sums(n, value);
        let mut rng = Rng::new(9);
        for _ in 0..1000 {
            assert_eq!(draw(&sums, n, value, &mut rng) % 1000, 999);
        }
    }
}
