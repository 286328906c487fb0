//! The assignment step by the filtering algorithm (T. Kanungo et al., "An
//! efficient k-means clustering algorithm: analysis and implementation",
//! IEEE PAMI 2002): the points sit in a k-d tree whose every node knows
//! its box and the moments of its points, and each pass walks the tree with
//! the centres that could still be nearest to some point of the node. A
//! centre is dropped from a node once it is farther than another from every
//! point of the box; a node left with one centre joins that cluster whole,
//! through its moments, without its points being read. Greedy k-means++
//! (`plusplus.rs`) seeds on the same tree.
//!
//! The labels are exactly those of a full scan. A centre is dropped only
//! when it is farther by a margin of 2·10⁻⁴ of the squared distances
//! involved, thousands of times the rounding of the f32 distances a scan
//! compares, so neither a tie nor rounding can hide a nearer centre; the
//! points of a leaf that keeps several centres are compared with each, in
//! index order, as a scan compares them. With integer coordinates and
//! weights (sRGB colours and pixel counts) every moment is an integer below
//! 2^53, so the cluster totals equal a point-by-point sum bit for bit.
//!
//! It replaced Hamerly's bounds with the sort-means scan, which it beats
//! from k = 8 on: the same seeds gave the same labels, iterations and
//! inertia, and the fit took (ms, best of 5, two threads) 10-11 instead of
//! 20-30 at k = 16, 34-36 instead of 76-98 at k = 64 and 65-75 instead of
//! 134-136 at k = 256 on picture0b.jpg (176k colours), and 41-45 instead
//! of 90-96 at k = 256 on sunset.jpg. Building the tree costs about 5 ms,
//! so a fit of a few passes at k = 2 takes 1-2 ms longer.

use rayon::prelude::*;

use super::lloyd::{Pass, bounding_box, dist2};

/// The most points a leaf holds. Testing centres against a node's box costs
/// more than comparing a few points with the centres its leaf keeps: fits
/// got faster from leaves of 8 points up to 48, and stayed level to 128.
const LEAF: usize = 64;

/// Below this many points a node's subtree is walked on one thread.
const GRAIN: usize = 4096;

/// How much farther (relative to the largest squared distance from the
/// kept centre to the box) a centre must be from every point of a box to be
/// dropped, plus an absolute floor for boxes that shrink to a point.
const MARGIN: f64 = 2e-4;
const FLOOR: f64 = 1e-6;

/// Bits per axis of the Morton codes that order the points.
const BITS: u32 = 8;

/// Weighted first and second moments of a set of points, and how many
/// points there are (so that a cluster emptied by subtractions is known to
/// be empty whatever their rounding).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Moments<const D: usize> {
    sum: [f64; D],
    weight: f64,
    square: f64,
    count: i64,
}

impl<const D: usize> Default for Moments<D> {
    fn default() -> Self {
        Moments {
            sum: [0.0; D],
            weight: 0.0,
            square: 0.0,
            count: 0,
        }
    }
}

impl<const D: usize> Moments<D> {
    #[inline]
    fn add_point(&mut self, p: &[f32; D], w: f64) {
        self.add_weighted(p, w, 1);
    }

    /// Takes a point out: adding it with weight -w subtracts, bit for bit,
    /// what adding it with w added.
    #[inline]
    fn sub_point(&mut self, p: &[f32; D], w: f64) {
        self.add_weighted(p, -w, -1);
    }

    #[inline]
    fn add_weighted(&mut self, p: &[f32; D], w: f64, count: i64) {
        let mut square = 0.0;
        for c in 0..D {
            let v = f64::from(p[c]);
            self.sum[c] += w * v;
            square += v * v;
        }
        self.weight += w;
        self.square += w * square;
        self.count += count;
    }

    #[inline]
    fn add(&mut self, other: &Moments<D>) {
        for c in 0..D {
            self.sum[c] += other.sum[c];
        }
        self.weight += other.weight;
        self.square += other.square;
        self.count += other.count;
    }

    /// The sum of w·|x - c|² over the points: Σw|x|² - 2c·Σwx + |c|²Σw.
    fn inertia(&self, c: &[f32; D]) -> f64 {
        let c = c.map(f64::from);
        let cross: f64 = (0..D).map(|i| c[i] * self.sum[i]).sum();
        let norm: f64 = c.iter().map(|v| v * v).sum();
        (self.square - 2.0 * cross + norm * self.weight).max(0.0)
    }
}

/// One node: the points `start..end` of the tree's order, their bounding
/// box and moments. An inner node's left child follows it; `right` is the
/// index of its right child, 0 for a leaf.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node<const D: usize> {
    lo: [f32; D],
    hi: [f32; D],
    start: u32,
    end: u32,
    right: u32,
    moments: Moments<D>,
}

impl<const D: usize> Node<D> {
    /// The node's points, as a range of the tree's order.
    pub(crate) fn range(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The indices of the children of node `n` (this node), or `None` for
    /// a leaf.
    pub(crate) fn children(&self, n: usize) -> Option<(usize, usize)> {
        (self.right != 0).then_some((n + 1, self.right as usize))
    }

    /// The summed weight of the node's points.
    pub(crate) fn weight(&self) -> f64 {
        self.moments.weight
    }

    /// The squared distance from `x` to the nearest point of the box.
    pub(crate) fn box_dist2(&self, x: &[f32; D]) -> f32 {
        (0..D)
            .map(|c| {
                let d = (self.lo[c] - x[c]).max(x[c] - self.hi[c]).max(0.0);
                d * d
            })
            .sum()
    }
}

/// The points in Morton order, and the k-d tree over them.
#[derive(Debug)]
pub(crate) struct Tree<const D: usize> {
    nodes: Vec<Node<D>>,
    points: Vec<[f32; D]>,
    weights: Vec<f64>,
    /// `order[i]` is the caller's index of the tree's point i.
    order: Vec<u32>,
}

/// The labels of the tree's points (in its order; `u32::MAX` before the
/// first pass) and the moments of the clusters they make, kept from pass
/// to pass.
#[derive(Debug)]
pub(crate) struct Assignment<const D: usize> {
    labels: Vec<u32>,
    clusters: Vec<Moments<D>>,
}

impl<const D: usize> Assignment<D> {
    /// No point labelled yet, k empty clusters.
    pub(crate) fn new(n: usize, k: usize) -> Self {
        Assignment {
            labels: vec![u32::MAX; n],
            clusters: vec![Moments::default(); k],
        }
    }

    /// The labels, in the tree's order.
    pub(crate) fn labels(&self) -> &[u32] {
        &self.labels
    }
}

/// What a walk over part of the tree adds up: what the clusters gain and
/// lose, and the number of labels that changed.
struct Tally<const D: usize> {
    clusters: Vec<Moments<D>>,
    changed: usize,
}

impl<const D: usize> Tally<D> {
    fn new(k: usize) -> Self {
        Tally {
            clusters: vec![Moments::default(); k],
            changed: 0,
        }
    }

    /// Moves the point `p` of weight `w` from the cluster labelled `*label`
    /// to cluster `to`, if it is not there yet.
    #[inline]
    fn relabel(&mut self, label: &mut u32, to: u32, p: &[f32; D], w: f64) {
        if *label != to {
            self.moved(*label, to, p, w);
            *label = to;
        }
    }

    /// Moves the point `p` of weight `w` from cluster `from` (none if
    /// `u32::MAX`) to cluster `to`. Out of line: in Lloyd's later passes
    /// few points move.
    #[inline(never)]
    fn moved(&mut self, from: u32, to: u32, p: &[f32; D], w: f64) {
        if let Some(from) = self.clusters.get_mut(from as usize) {
            from.sub_point(p, w);
        }
        self.clusters[to as usize].add_point(p, w);
        self.changed += 1;
    }

    fn absorb(mut self, other: &Tally<D>) -> Self {
        for (a, b) in self.clusters.iter_mut().zip(&other.clusters) {
            a.add(b);
        }
        self.changed += other.changed;
        self
    }
}

/// Spreads the low [`BITS`] bits of v to every D-th bit (for colours,
/// every third, by shifts and masks).
fn spread<const D: usize>(v: u32) -> u32 {
    let mut x = v & ((1 << BITS) - 1);
    if D != 3 {
        return (0..BITS).fold(0, |out, b| out | ((x >> b) & 1) << (b * D as u32));
    }
    x = (x | (x << 16)) & 0x0300_00ff;
    x = (x | (x << 8)) & 0x0300_f00f;
    x = (x | (x << 4)) & 0x030c_30c3;
    (x | (x << 2)) & 0x0924_9249
}

/// Each point's Morton code on a grid of 2^[`BITS`] cells a side over the
/// points' bounding box. D is at most 4, so that a code fits in 32 bits.
fn morton_codes<const D: usize>(points: &[[f32; D]]) -> Vec<u32> {
    const { assert!(D >= 1 && D * BITS as usize <= 32) };
    let (lo, hi) = bounding_box(points);
    let max = ((1u32 << BITS) - 1) as f32;
    let scale: [f32; D] = std::array::from_fn(|c| {
        if hi[c] > lo[c] {
            max / (hi[c] - lo[c])
        } else {
            0.0
        }
    });
    let cell = |p: &[f32; D], c: usize| (((p[c] - lo[c]) * scale[c]) as u32).min(max as u32);
    points
        .par_iter()
        .map(|p| (0..D).fold(0, |code, c| code | spread::<D>(cell(p, c)) << (D - 1 - c)))
        .collect()
}

/// The indices of `codes` (below 2^(D·BITS)) in increasing order of code,
/// equal codes in index order: a radix sort by the low half of the bits,
/// then the high half.
fn radix_order<const D: usize>(codes: &[u32]) -> Vec<u32> {
    let digit_bits = D as u32 * BITS / 2;
    let mut keys: Vec<u64> = codes
        .iter()
        .enumerate()
        .map(|(i, &c)| (u64::from(c) << 32) | i as u64)
        .collect();
    let mut next = vec![0u64; codes.len()];
    let mut start = vec![0u32; 1 << digit_bits];
    for shift in [32, 32 + digit_bits] {
        let digit = |key: u64| (key >> shift) as usize & ((1 << digit_bits) - 1);
        start.fill(0);
        for &key in &keys {
            start[digit(key)] += 1;
        }
        let mut at = 0;
        for s in &mut start {
            (*s, at) = (at, at + *s);
        }
        for &key in &keys {
            let d = digit(key);
            next[start[d] as usize] = key;
            start[d] += 1;
        }
        std::mem::swap(&mut keys, &mut next);
    }
    keys.iter().map(|&key| key as u32).collect()
}

/// The points' order along the Z curve of [`morton_codes`], and their
/// codes in that order.
fn z_order<const D: usize>(points: &[[f32; D]]) -> (Vec<u32>, Vec<u32>) {
    let codes = morton_codes(points);
    let order = radix_order::<D>(&codes);
    let sorted = in_order(&order, &codes);
    (order, sorted)
}

/// `values` in `order`: item i is `values[order[i]]`.
fn in_order<T: Copy + Send + Sync>(order: &[u32], values: &[T]) -> Vec<T> {
    order.par_iter().map(|&i| values[i as usize]).collect()
}

impl<const D: usize> Tree<D> {
    /// Sorts the points along a Z curve over a grid of 2^[`BITS`] cells a
    /// side over their bounding box and builds the tree by splitting each
    /// node where its codes' highest differing bit turns to 1 (in the
    /// middle, when all its codes are equal), so every node is a box of the
    /// grid halved along one axis at a time. The tree keeps a copy of the
    /// points and weights, in its order.
    pub(crate) fn new(points: &[[f32; D]], weights: &[f64]) -> Self {
        let (order, codes) = z_order(points);
        let (points, weights) = (in_order(&order, points), in_order(&order, weights));
        Self::grown(order, &codes, points, weights)
    }

    /// [`Tree::new`] on points it takes, with the weight of point i given
    /// by `weight(i)`: the points are put in the tree's order in place,
    /// cycle by cycle, so a k-means++ fit keeps no second copy of them, nor
    /// of the weights in the caller's order (a random or Wu seeding reads a
    /// copy in that order, made once a fit). Fed a histogram's colours and pixel
    /// counts this way, `quantize -k 16` peaks at 107.7-107.9 MB instead
    /// of 124.1-124.9 on a 12 MP photo of 853k colours, at 80.2-81.0
    /// instead of 90.9-91.0 with 493k, and at 35.5-36.0 instead of
    /// 39.1-39.4 on picture0b.png (3 runs each; sunset.jpg, its PNG and
    /// picture0b.jpg within 0.3). The walk costs about 10 ns a point out
    /// of cache: `quantize_counted` on the 853k colours took 0.139-0.141 s
    /// instead of 0.131-0.137, and on 177k no longer than before.
    pub(crate) fn taking(mut points: Vec<[f32; D]>, weight: impl Fn(usize) -> f64 + Sync) -> Self {
        let (order, codes) = z_order(&points);
        let weights = order.par_iter().map(|&i| weight(i as usize)).collect();
        let mut placed = vec![0u64; points.len().div_ceil(64)];
        for first in 0..points.len() {
            if placed[first / 64] & (1 << (first % 64)) != 0 {
                continue;
            }
            let held = points[first];
            let mut to = first;
            loop {
                placed[to / 64] |= 1 << (to % 64);
                let from = order[to] as usize;
                if from == first {
                    points[to] = held;
                    break;
                }
                points[to] = points[from];
                to = from;
            }
        }
        Self::grown(order, &codes, points, weights)
    }

    /// The tree over points already in `order`, with their sorted codes.
    fn grown(order: Vec<u32>, codes: &[u32], points: Vec<[f32; D]>, weights: Vec<f64>) -> Self {
        let n = points.len();
        let mut tree = Tree {
            nodes: Vec::with_capacity(2 * n / LEAF + 1),
            points,
            weights,
            order,
        };
        tree.grow(codes, 0, n);
        tree
    }

    /// Adds the node of points `start..end` and its subtree; returns its index.
    fn grow(&mut self, codes: &[u32], start: usize, end: usize) -> usize {
        let me = self.nodes.len();
        let mut node = Node {
            lo: [f32::INFINITY; D],
            hi: [f32::NEG_INFINITY; D],
            start: start as u32,
            end: end as u32,
            right: 0,
            moments: Moments::default(),
        };
        self.nodes.push(node);
        if end - start <= LEAF {
            let points = &self.points[start..end];
            (node.lo, node.hi) = bounding_box(points);
            for (p, &w) in points.iter().zip(&self.weights[start..end]) {
                node.moments.add_point(p, w);
            }
        } else {
            let differ = codes[start] ^ codes[end - 1];
            let split = if differ == 0 {
                start + (end - start) / 2
            } else {
                let bit = 1 << differ.ilog2();
                start + codes[start..end].partition_point(|&c| c & bit == 0)
            };
            self.grow(codes, start, split);
            let right = self.grow(codes, split, end);
            let (a, b) = (self.nodes[me + 1], self.nodes[right]);
            for c in 0..D {
                node.lo[c] = a.lo[c].min(b.lo[c]);
                node.hi[c] = a.hi[c].max(b.hi[c]);
            }
            node.moments = a.moments;
            node.moments.add(&b.moments);
            node.right = right as u32;
        }
        self.nodes[me] = node;
        me
    }

    /// The nodes, each followed by its left subtree and then its right
    /// one; the root first.
    pub(crate) fn nodes(&self) -> &[Node<D>] {
        &self.nodes
    }

    /// The points in the tree's order.
    pub(crate) fn points(&self) -> &[[f32; D]] {
        &self.points
    }

    /// The weights in the tree's order.
    pub(crate) fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// The caller's index of each of the tree's points.
    pub(crate) fn order(&self) -> &[u32] {
        &self.order
    }

    /// Values in the tree's order (labels, or the points themselves), put
    /// back in the caller's.
    pub(crate) fn unsort<T: Copy>(&self, values: &[T]) -> Vec<T> {
        // Every item is overwritten: the order is a permutation.
        debug_assert_eq!(values.len(), self.order.len());
        let mut out = values.to_vec();
        for (&i, &v) in self.order.iter().zip(values) {
            out[i as usize] = v;
        }
        out
    }

    /// Labels every point with its nearest centre, as a full scan would,
    /// and sums up the clusters.
    ///
    /// The first pass sums every cluster; later ones only move the points
    /// whose label changed from one cluster's moments to another's. In
    /// Lloyd's later passes a few hundred of picture0b.jpg's 176k colours
    /// change label, so the walk need not add up the three quarters of them
    /// that its leaves compare with centres one by one. The fit (best of 3,
    /// 6 rounds interleaved, two threads) took 60-63 ms instead of 75-81 at
    /// k = 256 and 29-32 instead of 34-38 at k = 64 on picture0b.jpg, and
    /// 46 instead of 56 at k = 256 on sunset.jpg; the same at k = 2 and 16.
    /// With integer coordinates and weights the moments stay exact
    /// integers, so they equal a fresh sum bit for bit.
    pub(crate) fn assign(&self, centers: &[[f32; D]], assignment: &mut Assignment<D>) -> Pass<D> {
        let k = centers.len();
        let wide: Vec<[f64; D]> = centers.iter().map(|c| c.map(f64::from)).collect();
        let all: Vec<u32> = (0..k as u32).collect();
        let walk = Walk {
            tree: self,
            centers,
            wide: &wide,
            fresh: assignment.labels.first() == Some(&u32::MAX),
        };
        let tally = walk.node(0, &all, &mut assignment.labels);
        for (m, d) in assignment.clusters.iter_mut().zip(&tally.clusters) {
            m.add(d);
            if m.count == 0 {
                *m = Moments::default();
            }
        }
        let clusters = &assignment.clusters;
        let inertia = clusters
            .iter()
            .zip(centers)
            .map(|(m, c)| m.inertia(c))
            .sum();
        Pass {
            sums: clusters.iter().map(|m| m.sum).collect(),
            weights: clusters.iter().map(|m| m.weight).collect(),
            inertia,
            changed: tally.changed,
        }
    }
}

/// One pass's walk: the tree and the centres, in f32 as scans compare
/// them and in f64 for the box tests.
struct Walk<'a, const D: usize> {
    tree: &'a Tree<D>,
    centers: &'a [[f32; D]],
    wide: &'a [[f64; D]],
    /// No point has a label yet: whole nodes add their moments.
    fresh: bool,
}

impl<const D: usize> Walk<'_, D> {
    /// The tally of node `n`, whose points could be nearest to `candidates`
    /// only (in increasing order); `labels` are its points' labels. Nodes
    /// of more than [`GRAIN`] points split their children between threads.
    fn node(&self, n: usize, candidates: &[u32], labels: &mut [u32]) -> Tally<D> {
        let node = &self.tree.nodes[n];
        let kept = self.filter(node, candidates);
        if kept.len() == 1 || node.right == 0 || (node.end - node.start) as usize <= GRAIN {
            let mut tally = Tally::new(self.centers.len());
            let mut scratch = Vec::new();
            self.finish(n, &kept, labels, &mut tally, &mut scratch);
            return tally;
        }
        let split = (self.tree.nodes[n + 1].end - node.start) as usize;
        let (left, right) = labels.split_at_mut(split);
        let (a, b) = rayon::join(
            || self.node(n + 1, &kept, left),
            || self.node(node.right as usize, &kept, right),
        );
        a.absorb(&b)
    }

    /// Walks the subtree of node `n` on this thread, given its `kept`
    /// centres; `scratch` holds each depth's kept centres below it.
    fn finish(
        &self,
        n: usize,
        kept: &[u32],
        labels: &mut [u32],
        tally: &mut Tally<D>,
        scratch: &mut Vec<Vec<u32>>,
    ) {
        let node = &self.tree.nodes[n];
        if let [j] = *kept {
            if self.fresh {
                tally.clusters[j as usize].add(&node.moments);
                tally.changed += labels.len();
                labels.fill(j);
            } else {
                let range = node.start as usize..node.end as usize;
                let points = &self.tree.points[range.clone()];
                let weights = &self.tree.weights[range];
                for ((p, &w), l) in points.iter().zip(weights).zip(labels) {
                    tally.relabel(l, j, p, w);
                }
            }
        } else if node.right == 0 {
            self.leaf(node, kept, labels, tally);
        } else {
            let mut below = scratch.pop().unwrap_or_default();
            let split = (self.tree.nodes[n + 1].end - node.start) as usize;
            let (left, right) = labels.split_at_mut(split);
            self.filter_into(&self.tree.nodes[n + 1], kept, &mut below);
            self.finish(n + 1, &below, left, tally, scratch);
            let r = node.right as usize;
            self.filter_into(&self.tree.nodes[r], kept, &mut below);
            self.finish(r, &below, right, tally, scratch);
            scratch.push(below);
        }
    }

    /// Compares each point of a leaf with every kept centre.
    fn leaf(&self, node: &Node<D>, kept: &[u32], labels: &mut [u32], tally: &mut Tally<D>) {
        let range = node.start as usize..node.end as usize;
        let points = &self.tree.points[range.clone()];
        let weights = &self.tree.weights[range];
        for ((p, &w), l) in points.iter().zip(weights).zip(labels) {
            let mut best = kept[0];
            let mut least = dist2(p, &self.centers[best as usize]);
            for &j in &kept[1..] {
                let d = dist2(p, &self.centers[j as usize]);
                if d < least {
                    (best, least) = (j, d);
                }
            }
            tally.relabel(l, best, p, w);
        }
    }

    fn filter(&self, node: &Node<D>, candidates: &[u32]) -> Vec<u32> {
        let mut kept = Vec::new();
        self.filter_into(node, candidates, &mut kept);
        kept
    }

    /// The candidates that could be nearest to some point of `node`'s box,
    /// in their order: the one nearest the box's middle, and those not
    /// farther than it from every corner of the box by the margin.
    fn filter_into(&self, node: &Node<D>, candidates: &[u32], kept: &mut Vec<u32>) {
        let lo = node.lo.map(f64::from);
        let hi = node.hi.map(f64::from);
        let mid: [f64; D] = std::array::from_fn(|c| 0.5 * (lo[c] + hi[c]));
        let to_mid =
            |z: &[f64; D]| -> f64 { (0..D).map(|c| (z[c] - mid[c]) * (z[c] - mid[c])).sum() };
        let mut best = candidates[0];
        let mut least = to_mid(&self.wide[best as usize]);
        for &j in &candidates[1..] {
            let d = to_mid(&self.wide[j as usize]);
            if d < least {
                (best, least) = (j, d);
            }
        }
        let b = self.wide[best as usize];
        let far: f64 = (0..D)
            .map(|c| {
                let a = (b[c] - lo[c]).abs().max((b[c] - hi[c]).abs());
                a * a
            })
            .sum();
        let margin = MARGIN * far + FLOOR;
        kept.clear();
        kept.resize(candidates.len(), 0);
        let mut len = 0;
        for &j in candidates {
            let z = self.wide[j as usize];
            // The corner of the box farthest in z's direction from b is where
            // z comes nearest to beating b: |z - v|² - |b - v|², linear in v.
            let mut lead = 0.0;
            for c in 0..D {
                let v = if z[c] > b[c] { hi[c] } else { lo[c] };
                lead += (z[c] - b[c]) * (z[c] + b[c] - 2.0 * v);
            }
            kept[len] = j;
            len += usize::from(j == best || lead <= margin);
        }
        kept.truncate(len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::Point;
    use crate::kmeans::init::Rng;
    use crate::kmeans::lloyd::nearest;

    /// Points of four kinds: integer (as sRGB colours are), fractional,
    /// a tight clump with one far outlier (so that many points share a
    /// Morton code and nodes split in the middle), and fewer than a leaf.
    fn points(rng: &mut Rng, trial: usize) -> (Vec<Point>, Vec<f64>) {
        let n = match trial % 4 {
            3 => 1 + trial,
            _ => 3000 + trial * 97,
        };
        let mut points = rng.points(n, 256.0);
        let integer = trial.is_multiple_of(4);
        match trial % 4 {
            0 => {
                for p in &mut points {
                    *p = p.map(f32::floor);
                }
            }
            2 => {
                for p in &mut points {
                    *p = p.map(|v| v / 1e3);
                }
                points[0] = [1000.0; 3];
            }
            _ => {}
        }
        let weights = (0..n)
            .map(|_| {
                let w = 1.0 + rng.uniform() * 50.0;
                if integer { w.floor() } else { w }
            })
            .collect();
        (points, weights)
    }

    #[test]
    fn the_walk_labels_as_a_full_scan_does_as_centres_move() {
        let mut rng = Rng::new(11);
        for trial in 0..24 {
            let (points, weights) = points(&mut rng, trial);
            let tree = Tree::new(&points, &weights);
            let k = 2 + trial * 11;
            let mut centers = rng.points(k, 256.0);
            let mut assignment = Assignment::new(points.len(), k);
            for step in 0..12 {
                let pass = tree.assign(&centers, &mut assignment);
                let labels = assignment.labels();
                let mut sums = vec![[0.0f64; 3]; k];
                let mut totals = vec![0.0f64; k];
                let mut inertia = 0.0;
                for ((p, &w), &l) in tree.points().iter().zip(tree.weights()).zip(labels) {
                    let (j, d) = nearest(p, &centers);
                    assert_eq!(l, j, "trial {trial} step {step}");
                    for c in 0..3 {
                        sums[j as usize][c] += w * f64::from(p[c]);
                    }
                    totals[j as usize] += w;
                    inertia += w * f64::from(d);
                }
                assert!((pass.inertia - inertia).abs() <= 1e-6 * inertia.max(1.0));
                if trial.is_multiple_of(4) {
                    // Whole-number moments are exact: however many points
                    // moved between clusters, equal to a sum point by point,
                    // bit for bit.
                    assert_eq!(pass.sums, sums, "trial {trial} step {step}");
                    assert_eq!(pass.weights, totals, "trial {trial} step {step}");
                } else {
                    for (a, b) in pass.weights.iter().zip(&totals) {
                        assert!((a - b).abs() <= 1e-12 * b.max(1.0), "trial {trial}");
                        assert_eq!(*a == 0.0, *b == 0.0, "an empty cluster is empty");
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

    #[test]
    fn every_node_bounds_and_sums_its_points_and_its_children_split_them() {
        let mut rng = Rng::new(5);
        for trial in 0..8 {
            let (points, weights) = points(&mut rng, trial);
            let tree = Tree::new(&points, &weights);
            let mut seen: Vec<u32> = tree.order().to_vec();
            seen.sort_unstable();
            assert!(seen.iter().enumerate().all(|(i, &o)| o as usize == i));
            for (i, o) in tree.order().iter().enumerate() {
                assert_eq!(tree.points()[i], points[*o as usize]);
            }
            for (n, node) in tree.nodes.iter().enumerate() {
                let range = node.start as usize..node.end as usize;
                let mut moments = Moments::default();
                for (p, &w) in tree.points[range.clone()].iter().zip(&tree.weights[range]) {
                    assert!((0..3).all(|c| node.lo[c] <= p[c] && p[c] <= node.hi[c]));
                    moments.add_point(p, w);
                }
                assert!((moments.weight - node.moments.weight).abs() <= 1e-9 * moments.weight);
                if node.right == 0 {
                    assert!((node.end - node.start) as usize <= LEAF);
                } else {
                    let (a, b) = (&tree.nodes[n + 1], &tree.nodes[node.right as usize]);
                    assert_eq!((a.start, a.end, b.end), (node.start, b.start, node.end));
                    assert!(a.start < a.end && b.start < b.end);
                }
            }
        }
    }

    #[test]
    fn labels_go_back_to_the_callers_order() {
        let points = [[9.0, 0.0, 0.0], [0.0, 0.0, 0.0], [5.0, 5.0, 5.0]];
        let tree = Tree::new(&points, &[1.0; 3]);
        let mut assignment = Assignment::new(3, 3);
        let centers = [[0.0; 3], [9.0, 0.0, 0.0], [5.0; 3]];
        tree.assign(&centers, &mut assignment);
        assert_eq!(tree.unsort(assignment.labels()), vec![1, 0, 2]);
    }

    #[test]
    fn a_tree_that_takes_its_points_equals_one_that_copies_them() {
        let mut rng = Rng::new(7);
        for trial in 0..8 {
            let (points, weights) = points(&mut rng, trial);
            let copied = Tree::new(&points, &weights);
            let taken = Tree::taking(points.clone(), |i| weights[i]);
            assert_eq!(taken.order(), copied.order(), "trial {trial}");
            assert_eq!(taken.points(), copied.points(), "trial {trial}");
            assert_eq!(taken.weights(), copied.weights(), "trial {trial}");
            assert_eq!(taken.nodes().len(), copied.nodes().len(), "trial {trial}");
            for (a, b) in taken.nodes().iter().zip(copied.nodes()) {
                assert_eq!(
                    (a.range(), a.lo, a.hi, a.right),
                    (b.range(), b.lo, b.hi, b.right)
                );
                assert_eq!(a.moments, b.moments);
            }
            assert_eq!(taken.unsort(taken.points()), points, "trial {trial}");
            assert_eq!(taken.unsort(taken.weights()), weights, "trial {trial}");
        }
    }
}
