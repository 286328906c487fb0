//! Greedy k-means++ (Arthur and Vassilvitskii, 2007, with the greedy
//! choice among several candidates that scikit-learn makes) on the k-d tree
//! that Lloyd's iterations walk.
//!
//! Each point keeps its squared distance to the nearest centre so far, and
//! each node of the tree the largest such distance below it (its reach) and
//! the weighted sum of them (its potential). A draw walks down the tree by
//! the potentials; a candidate's potential, and the update once one is
//! chosen, skip every node whose box is farther from the candidate than its
//! reach, since none of its points can come nearer. Late in the seeding
//! most of the tree is skipped high up.
//!
//! It replaced blocks of 64 colours in a coarser Z order, each with its
//! box, reach and potential in flat arrays that every draw, candidate and
//! update went through from end to end. On picture0b.jpg's 176k colours,
//! best of 5 seeds, two threads, seeding took 40-46 ms instead of 57-62 at
//! k = 256 and 20-29 instead of 24 at k = 64, counting the 5 ms that
//! building the tree takes (a fit builds it once, for the seeding and
//! Lloyd's passes both), and 11-14 instead of 10-13 at k = 16. The draws
//! walk the colours in another order, so a seed picks other centres than
//! it did; over 10 seeds the mean potential of the seeds and inertia of the
//! fits stayed within 2.5 % of what they were, some higher, some lower.
//!
//! Every sum is taken the same way whether a node is skipped or read (a
//! leaf's by `weighted_sum`, an inner node's as left plus right), so skipping
//! changes no bit of any potential, and nothing depends on the number of
//! threads.

use rayon::prelude::*;

use super::init::Rng;
use super::kdtree::Tree;
use super::lloyd::{dist2, nearest};

/// How much farther than a node's reach a candidate must be from its box
/// for the node to be skipped: far above the rounding of f32 distances, so
/// a skipped node is one where every point would have kept its distance.
const SKIP_MARGIN: f32 = 1.0 + 1e-4;

/// Below this many points a node's scoring runs on one thread.
/// Scoring each candidate on one thread (the candidates shared among the
/// threads) left one thread waiting on the candidate reaching farthest:
/// splitting big nodes too took k-means++ at k = 256 from 33-37 ms to
/// 27-30 on picture0b.jpg in Oklab and from 32-33 to 26 on sunset.jpg in
/// sRGB (best of 10 seeds, two threads); 2048 to 16384 points did as well.
const GRAIN: usize = 8192;

/// Below this many points a node's update runs on one thread. The update
/// reads only the winner's neighbourhood, a few thousand points late in
/// the seeding, so it splits lower than scoring does: 2048 instead of
/// [`GRAIN`] took k-means++ at k = 256 on picture0b.jpg from 25.7-27.8 ms
/// to 25.0-26.0 in sRGB and from 29.0-30.3 to 27.8-28.9 in Oklab (best of
/// 10 seeds, two threads, four rounds). The updates alone (sRGB, five
/// seeds) took 3.8-4.0 ms at 2048, 4.6-5.9 at 8192 and 4.4-4.6 at 512.
const UPDATE_GRAIN: usize = 2048;

/// Greedy k-means++: the first centre drawn with probability proportional
/// to weight, each next one the best, by resulting potential, of
/// 2 + ⌊ln k⌋ candidates drawn with probability proportional to weight
/// times squared distance to the nearest centre so far. Needs more than k
/// distinct points.
pub(crate) fn kmeans_plusplus<const D: usize>(
    tree: &Tree<D>,
    k: usize,
    rng: &mut Rng,
) -> Vec<[f32; D]> {
    let (nodes, weights) = (tree.nodes(), tree.weights());
    let first = descend(tree, |n| nodes[n].weight(), |i| weights[i], rng);
    kmeans_plusplus_from(tree, vec![tree.points()[first]], k, rng)
}

/// Greedy k-means++ continued from `centers` (at least one) up to k.
pub(crate) fn kmeans_plusplus_from<const D: usize>(
    tree: &Tree<D>,
    centers: Vec<[f32; D]>,
    k: usize,
    rng: &mut Rng,
) -> Vec<[f32; D]> {
    Seeding::new(tree, &centers, true).run(centers, k, rng)
}

/// Draws a point (its index in the tree's order) with probability
/// proportional to `value(i)`, `mass(n)` being the sum of the values of
/// node n's points. Points of value 0 are never drawn (unless all are).
fn descend<const D: usize>(
    tree: &Tree<D>,
    mass: impl Fn(usize) -> f64,
    value: impl Fn(usize) -> f64,
    rng: &mut Rng,
) -> usize {
    let nodes = tree.nodes();
    let mut n = 0;
    let mut target = rng.uniform() * mass(0);
    while let Some((left, right)) = nodes[n].children(n) {
        let (l, r) = (mass(left), mass(right));
        // Rounding can leave the target past the left side's mass with
        // nothing on the right: stay left then.
        if r > 0.0 && (target >= l || l == 0.0) {
            target -= l;
            n = right;
        } else {
            n = left;
        }
    }
    let mut last_positive = None;
    for i in nodes[n].range() {
        let v = value(i);
        if v > 0.0 {
            if target < v {
                return i;
            }
            target -= v;
            last_positive = Some(i);
        }
    }
    // Rounding left the target past the end: take the last candidate seen.
    last_positive.unwrap_or(nodes[n].range().start)
}

/// A leaf's reach and potential: the largest of its points' distances and
/// their weighted sum.
fn leaf_sums(closest: &[f32], weights: &[f64]) -> (f32, f64) {
    let reach = closest.iter().copied().fold(0.0, f32::max);
    (reach, weighted_sum(weights, |i| closest[i]))
}

/// The sum of `weights[i] * d(i)`, always added in the same order: four
/// running sums over the points four at a time, then the rest, then the
/// four together. One running sum made each point wait on the last
/// addition: on picture0b.jpg's 176k colours in Oklab, best of 10 seeds,
/// k-means++ at k = 256 took 47 ms on one thread and 39-41 on two that
/// way, 43 and 36-37 this way.
fn weighted_sum(weights: &[f64], d: impl Fn(usize) -> f32) -> f64 {
    let mut sums = [0.0f64; 4];
    let whole = weights.len() / 4 * 4;
    for i in (0..whole).step_by(4) {
        for (lane, s) in sums.iter_mut().enumerate() {
            *s += weights[i + lane] * f64::from(d(i + lane));
        }
    }
    for i in whole..weights.len() {
        sums[i - whole] += weights[i] * f64::from(d(i));
    }
    (sums[0] + sums[1]) + (sums[2] + sums[3])
}

/// The seeding's state: each point's squared distance to its nearest
/// centre (in the tree's order), and each node's reach and potential.
struct Seeding<'a, const D: usize> {
    tree: &'a Tree<D>,
    closest: Vec<f32>,
    reach: Vec<f32>,
    potential: Vec<f64>,
    /// Skip out-of-reach nodes (the tests turn it off to compare).
    prune: bool,
}

impl<'a, const D: usize> Seeding<'a, D> {
    fn new(tree: &'a Tree<D>, centers: &[[f32; D]], prune: bool) -> Self {
        let closest: Vec<f32> = tree
            .points()
            .par_iter()
            .map(|p| nearest(p, centers).1)
            .collect();
        let nodes = tree.nodes();
        let mut reach = vec![0.0f32; nodes.len()];
        let mut potential = vec![0.0f64; nodes.len()];
        // Children follow their parent: fill the nodes from the last.
        for n in (0..nodes.len()).rev() {
            (reach[n], potential[n]) = if let Some((l, r)) = nodes[n].children(n) {
                (reach[l].max(reach[r]), potential[l] + potential[r])
            } else {
                let range = nodes[n].range();
                leaf_sums(&closest[range.clone()], &tree.weights()[range])
            };
        }
        Seeding {
            tree,
            closest,
            reach,
            potential,
            prune,
        }
    }

    /// Adds centres up to k, one per round of candidates.
    fn run(mut self, mut centers: Vec<[f32; D]>, k: usize, rng: &mut Rng) -> Vec<[f32; D]> {
        let trials = 2 + (k as f64).ln().floor() as usize;
        let (points, weights) = (self.tree.points(), self.tree.weights());
        while centers.len() < k {
            let candidates: Vec<[f32; D]> = (0..trials)
                .map(|_| {
                    let mass = |n: usize| self.potential[n];
                    let value = |i: usize| weights[i] * f64::from(self.closest[i]);
                    points[descend(self.tree, mass, value, rng)]
                })
                .collect();
            let scores: Vec<f64> = candidates
                .par_iter()
                .map(|c| self.potential_with(0, c))
                .collect();
            let mut best = 0;
            for (t, &s) in scores.iter().enumerate() {
                if s < scores[best] {
                    best = t;
                }
            }
            let cand = candidates[best];
            self.add(&cand);
            centers.push(cand);
        }
        centers
    }

    /// Adds `c` to the centres: moves the distances it shortens and the
    /// figures of the nodes they are in.
    fn add(&mut self, c: &[f32; D]) {
        let Seeding {
            tree,
            closest,
            reach,
            potential,
            prune,
        } = self;
        update(tree, *prune, 0, c, closest, reach, potential);
    }

    /// The potential of node n's points were `c` added to the centres. Big
    /// subtrees split between threads.
    fn potential_with(&self, n: usize, c: &[f32; D]) -> f64 {
        let node = &self.tree.nodes()[n];
        if self.prune && node.box_dist2(c) > self.reach[n] * SKIP_MARGIN {
            return self.potential[n];
        }
        if let Some((l, r)) = node.children(n) {
            let (a, b) = if node.range().len() > GRAIN {
                rayon::join(|| self.potential_with(l, c), || self.potential_with(r, c))
            } else {
                (self.potential_with(l, c), self.potential_with(r, c))
            };
            return a + b;
        }
        let range = node.range();
        let points = &self.tree.points()[range.clone()];
        let weights = &self.tree.weights()[range.clone()];
        let closest = &self.closest[range];
        // In the order `leaf_sums` adds: bit for bit the leaf's potential
        // when no point comes nearer.
        weighted_sum(weights, |i| closest[i].min(dist2(&points[i], c)))
    }
}

/// Adds `c` to the centres in node n's subtree: `closest` holds the
/// distances of its points, `reach` and `potential` the figures of its
/// nodes (n first). Big subtrees split between threads.
fn update<const D: usize>(
    tree: &Tree<D>,
    prune: bool,
    n: usize,
    c: &[f32; D],
    closest: &mut [f32],
    reach: &mut [f32],
    potential: &mut [f64],
) {
    let node = &tree.nodes()[n];
    if prune && node.box_dist2(c) > reach[0] * SKIP_MARGIN {
        return;
    }
    let Some((l, r)) = node.children(n) else {
        let range = node.range();
        for (d, p) in closest.iter_mut().zip(&tree.points()[range.clone()]) {
            *d = d.min(dist2(p, c));
        }
        (reach[0], potential[0]) = leaf_sums(closest, &tree.weights()[range]);
        return;
    };
    let (closest_l, closest_r) = closest.split_at_mut(tree.nodes()[l].range().len());
    let (reach_n, reach) = reach.split_at_mut(1);
    let (reach_l, reach_r) = reach.split_at_mut(r - l);
    let (potential_n, potential) = potential.split_at_mut(1);
    let (potential_l, potential_r) = potential.split_at_mut(r - l);
    let mut left = || update(tree, prune, l, c, closest_l, reach_l, potential_l);
    let mut right = || update(tree, prune, r, c, closest_r, reach_r, potential_r);
    if node.range().len() > UPDATE_GRAIN {
        rayon::join(&mut left, &mut right);
    } else {
        left();
        right();
    }
    reach_n[0] = reach_l[0].max(reach_r[0]);
    potential_n[0] = potential_l[0] + potential_r[0];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::Point;
    use crate::kmeans::init::grid;

    #[test]
    fn kmeans_plusplus_picks_k_distinct_points() {
        let pts = grid(500);
        let tree = Tree::new(&pts, &vec![1.0; pts.len()]);
        let c = kmeans_plusplus(&tree, 40, &mut Rng::new(3));
        assert_eq!(c.len(), 40);
        for (i, a) in c.iter().enumerate() {
            assert!(pts.contains(a));
            assert!(c[..i].iter().all(|b| b != a), "centroid {i} repeats");
        }
    }

    #[test]
    fn skipping_out_of_reach_nodes_changes_nothing() {
        // Clustered points over many leaves: most nodes go out of reach as
        // centroids are added.
        let pts: Vec<Point> = (0..40_000u32)
            .map(|i| {
                let blob = (i % 9) as f32 * 28.0;
                let j = (i.wrapping_mul(2_654_435_761) >> 20) as f32 / 4096.0;
                [blob + 5.0 * j, (i % 7) as f32 * 30.0 + j, 255.0 - blob - j]
            })
            .collect();
        let w: Vec<f64> = (0..pts.len()).map(|i| 1.0 + (i % 5) as f64).collect();
        let tree = Tree::new(&pts, &w);
        for k in [16, 100] {
            let start = vec![pts[0]];
            let pruned = Seeding::new(&tree, &start, true);
            let full = Seeding::new(&tree, &start, false);
            let (pruned, full) = (
                pruned.run(start.clone(), k, &mut Rng::new(4)),
                full.run(start, k, &mut Rng::new(4)),
            );
            assert_eq!(pruned, full, "k = {k}");
        }
    }

    #[test]
    fn every_node_keeps_its_reach_and_potential() {
        let pts = grid(3000);
        let w: Vec<f64> = (0..pts.len()).map(|i| 1.0 + (i % 3) as f64).collect();
        let tree = Tree::new(&pts, &w);
        let mut seeding = Seeding::new(&tree, &[pts[7]], true);
        let mut rng = Rng::new(8);
        for _ in 0..30 {
            seeding.add(&tree.points()[(rng.next_u64() % 3000) as usize]);
        }
        for (n, node) in tree.nodes().iter().enumerate() {
            let range = node.range();
            let closest = &seeding.closest[range.clone()];
            let most = closest.iter().copied().fold(0.0, f32::max);
            let sum: f64 = closest
                .iter()
                .zip(&tree.weights()[range])
                .map(|(&d, &w)| w * f64::from(d))
                .sum();
            assert_eq!(seeding.reach[n], most);
            // Whole numbers: exact whatever the order of the sums.
            assert_eq!(seeding.potential[n], sum);
        }
    }

    #[test]
    fn a_candidates_score_is_the_potential_once_it_is_added() {
        // Fractional coordinates and weights, as in Oklab: the sums round,
        // so this holds only if scoring and updating add in one order.
        let mut rng = Rng::new(5);
        let pts = rng.points(20_000, 0.9);
        let w: Vec<f64> = (0..pts.len()).map(|_| 0.5 + rng.uniform()).collect();
        let tree = Tree::new(&pts, &w);
        let mut seeding = Seeding::new(&tree, &[pts[3]], true);
        let nodes = tree.nodes().len();
        for _ in 0..40 {
            let c = tree.points()[(rng.next_u64() % 20_000) as usize];
            let scores: Vec<f64> = (0..nodes).map(|n| seeding.potential_with(n, &c)).collect();
            seeding.add(&c);
            for (n, score) in scores.iter().enumerate() {
                assert_eq!(score.to_bits(), seeding.potential[n].to_bits(), "node {n}");
            }
        }
    }

    #[test]
    fn seeding_depends_only_on_the_seed() {
        let pts = grid(9000);
        let w: Vec<f64> = (0..pts.len()).map(|i| 1.0 + (i % 3) as f64).collect();
        let tree = Tree::new(&pts, &w);
        let a = kmeans_plusplus(&tree, 16, &mut Rng::new(1));
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = one_thread.install(|| kmeans_plusplus(&tree, 16, &mut Rng::new(1)));
        assert_eq!(a, b);
        assert_ne!(a, kmeans_plusplus(&tree, 16, &mut Rng::new(2)));
    }

    #[test]
    fn a_draw_never_returns_a_point_of_value_zero() {
        let pts = grid(5000);
        let tree = Tree::new(&pts, &vec![1.0; pts.len()]);
        // Every 1000th point of the caller's order has value 1, the rest 0.
        let order = tree.order();
        let value = |i: usize| if order[i] % 1000 == 999 { 1.0 } else { 0.0 };
        let nodes = tree.nodes();
        let mass = |n: usize| nodes[n].range().map(value).sum::<f64>();
        let mut rng = Rng::new(9);
        for _ in 0..1000 {
            assert_eq!(order[descend(&tree, mass, value, &mut rng)] % 1000, 999);
        }
    }
}
