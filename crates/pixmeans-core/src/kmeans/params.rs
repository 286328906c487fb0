//! [`KMeansParams`]: what to fit, validated once by [`KMeansParams::fit`].

use crate::color::Point;

use super::fit::Fit;
use super::kdtree::Tree;
use super::{init, lloyd, plusplus, wu};

/// Points and weights in their k-d tree, ready to fit at one k or several
/// (building the tree takes 5 ms for the 177k colours of a 12 MP photo).
#[derive(Debug)]
pub(crate) struct FitInput<const D: usize> {
    tree: Tree<D>,
    /// The points' weighted variance, which the tolerance is relative to.
    variance: f64,
}

impl<const D: usize> FitInput<D> {
    /// A histogram's colours as points (taken into the tree's order, no
    /// other copy kept), weighted by their pixel counts.
    pub(crate) fn new(points: Vec<[f32; D]>, counts: &[u64]) -> Self {
        debug_assert_eq!(points.len(), counts.len());
        debug_assert!(counts.iter().all(|&n| n > 0));
        let weight = |i: usize| counts[i] as f64;
        FitInput {
            variance: lloyd::mean_variance(&points, weight),
            tree: Tree::taking(points, weight),
        }
    }

    /// Points and weights, copied into the tree's order.
    fn copied(points: &[[f32; D]], weights: &[f64]) -> Self {
        FitInput {
            tree: Tree::new(points, weights),
            variance: lloyd::mean_variance(points, |i| weights[i]),
        }
    }
}

/// The points and weights in the caller's order, made from the tree for
/// the seedings that read them.
type Unsorted<const D: usize> = std::sync::OnceLock<(Vec<[f32; D]>, Vec<f64>)>;

/// How the first centroids are chosen.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Init {
    /// Greedy k-means++ (Arthur and Vassilvitskii, 2007), with 2 + ⌊ln k⌋
    /// candidates tried for each centroid as scikit-learn does. The default.
    #[default]
    KMeansPlusPlus,
    /// k distinct colours drawn at random, each as likely as the number of
    /// pixels that have it: what the tutorials do when they pick k random
    /// pixels, without picking the same colour twice.
    Random,
    /// Wu's variance split (1991): boxes of the colour space cut where they
    /// leave the least squared error, one centroid per box. Deterministic
    /// and, unlike k-means++, nearly free at any k.
    Wu,
    /// These centroids, in this order (for example a palette to refine).
    /// A fit of points of another number of coordinates takes as many of
    /// each centroid's as it has, and 0 for any further one (for colours
    /// with a fourth coordinate of transparency, the opaque colour).
    Centroids(Vec<Point>),
}

impl Init {
    /// The name used on the command line and in reports.
    pub fn name(&self) -> &'static str {
        match self {
            Init::KMeansPlusPlus => "kmeans++",
            Init::Random => "random",
            Init::Wu => "wu",
            Init::Centroids(_) => "centroids",
        }
    }
}

/// How each Lloyd iteration moves the centroids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LloydStep {
    /// Past the mean of its points, 1.75 times as far, kept when the next
    /// assignment's inertia is no higher than the plain step guarantees
    /// (else that step is redone plain). The run stops by scikit-learn's
    /// rule applied to the plain step; on the photos measured it took about
    /// a third fewer iterations, most often ending at a lower inertia, but
    /// it may end in a different local minimum. The default.
    #[default]
    Overrelaxed,
    /// To the mean of its points: textbook Lloyd, iteration for iteration
    /// as scikit-learn's `KMeans(algorithm="lloyd")`.
    Plain,
}

impl LloydStep {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            LloydStep::Overrelaxed => "overrelaxed",
            LloydStep::Plain => "plain",
        }
    }

    /// How far past the mean the step goes: 1 for a plain one.
    fn factor(self) -> f64 {
        match self {
            LloydStep::Overrelaxed => lloyd::OVERRELAXATION,
            LloydStep::Plain => 1.0,
        }
    }
}

/// A parameter that [`KMeansParams::fit`] cannot work with, or input it
/// cannot cluster.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum KMeansError {
    /// k is 0.
    #[error("k must be at least 1")]
    ZeroK,
    /// `n_init` is 0.
    #[error("n_init must be at least 1")]
    ZeroNInit,
    /// `max_iter` is 0.
    #[error("max_iter must be at least 1")]
    ZeroMaxIter,
    /// `tol` is negative or not a number.
    #[error("tol must be a finite number >= 0, got {0}")]
    InvalidTol(f64),
    /// `Init::Centroids` holds a number of centroids other than k.
    #[error("{actual} initial centroids were given for k = {expected}")]
    CentroidCount {
        /// k.
        expected: usize,
        /// Centroids given.
        actual: usize,
    },
    /// A centroid of `Init::Centroids` has a coordinate that is not a
    /// number within ±10^18, as a point's must be.
    #[error("initial centroid {index} has a coordinate that is not a number within ±1e18")]
    InvalidCentroid {
        /// Position of the centroid.
        index: usize,
    },
    /// There is nothing to cluster.
    #[error("there are no points to cluster")]
    NoPoints,
    /// Points and weights differ in number.
    #[error("{points} points but {weights} weights")]
    LengthMismatch {
        /// Number of points.
        points: usize,
        /// Number of weights.
        weights: usize,
    },
    /// A weight is not a finite number above 0, or a coordinate is not a
    /// number within ±10^18 (whose squared distances a fit keeps as
    /// `f32`).
    #[error("point {index} has weight {weight}, or a coordinate that is not a number within ±1e18")]
    InvalidPoint {
        /// Position of the point.
        index: usize,
        /// Its weight.
        weight: f64,
    },
    /// The weighted sums of the points (their moments) overflow: the
    /// weights, or the points' distances from 0, are too large for the
    /// objective to be a finite number.
    #[error("the weights are too large: the points' weighted sums are not finite")]
    WeightsTooLarge,
}

/// The largest coordinate a point may have: squared distances between
/// points are kept as `f32`, which ends at 3.4·10^38.
const MAX_COORDINATE: f32 = 1e18;

/// Whether `x` is a number within ±[`MAX_COORDINATE`].
fn coordinate_ok(x: f32) -> bool {
    x.abs() <= MAX_COORDINATE
}

/// The settings of a weighted k-means fit. Every option has the default that
/// scikit-learn's `KMeans` has, except the seed, which is fixed so that runs
/// repeat, and the Lloyd step, over-relaxed unless set to
/// [`LloydStep::Plain`].
///
/// ```
/// use pixmeans_core::KMeansParams;
/// // Two well-separated groups on a line, the second twice as heavy.
/// let points = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [10.0, 0.0, 0.0], [11.0, 0.0, 0.0]];
/// let weights = [1.0, 1.0, 2.0, 2.0];
/// let fit = KMeansParams::new(2).with_seed(7).fit(&points, &weights)?;
/// let mut centroids: Vec<f32> = fit.centroids().iter().map(|c| c[0]).collect();
/// centroids.sort_by(f32::total_cmp);
/// assert_eq!(centroids, [0.5, 10.5]);
/// assert_eq!(fit.inertia(), 0.25 * 2.0 + 0.25 * 4.0);
/// # Ok::<(), pixmeans_core::KMeansError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct KMeansParams {
    k: usize,
    init: Init,
    n_init: Option<usize>,
    max_iter: usize,
    tol: f64,
    seed: u64,
    step: LloydStep,
}

impl KMeansParams {
    /// k clusters, every other option at its default.
    pub fn new(k: usize) -> Self {
        KMeansParams {
            k,
            init: Init::default(),
            n_init: None,
            max_iter: 300,
            tol: 1e-4,
            seed: 0,
            step: LloydStep::default(),
        }
    }

    /// The number of clusters.
    pub fn with_k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }

    /// How to seed the centroids. Default: [`Init::KMeansPlusPlus`].
    pub fn with_init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// How many seedings to run, keeping the fit with the lowest inertia.
    /// Default `None`: 1 for k-means++ and given centroids, 10 for random, as
    /// scikit-learn's `n_init="auto"`.
    pub fn with_n_init(mut self, n_init: Option<usize>) -> Self {
        self.n_init = n_init;
        self
    }

    /// The most Lloyd iterations a run may take. Default 300.
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Convergence tolerance, relative to the data: a run stops when the sum
    /// of squared centroid shifts that a plain step would make is at most
    /// `tol` times the mean per-channel variance of the data (scikit-learn's
    /// rule), or when no label changes. Default 1e-4.
    pub fn with_tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// The seed of every random choice. Default 0.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How each Lloyd iteration moves the centroids. Default:
    /// [`LloydStep::Overrelaxed`].
    pub fn with_step(mut self, step: LloydStep) -> Self {
        self.step = step;
        self
    }

    /// k.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The seeding method.
    pub fn init(&self) -> &Init {
        &self.init
    }

    /// The number of seedings this fit runs, `n_init="auto"` resolved.
    pub fn n_init(&self) -> usize {
        self.n_init.unwrap_or(match self.init {
            Init::Random => 10,
            Init::KMeansPlusPlus | Init::Wu | Init::Centroids(_) => 1,
        })
    }

    /// The iteration limit.
    pub fn max_iter(&self) -> usize {
        self.max_iter
    }

    /// The relative tolerance.
    pub fn tol(&self) -> f64 {
        self.tol
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The Lloyd step.
    pub fn step(&self) -> LloydStep {
        self.step
    }

    /// Checks the parameters alone (not the data).
    ///
    /// # Errors
    ///
    /// - [`KMeansError::ZeroK`], [`KMeansError::ZeroNInit`] or
    ///   [`KMeansError::ZeroMaxIter`] when k, `n_init` or `max_iter` is 0;
    /// - [`KMeansError::InvalidTol`] when `tol` is negative, infinite or NaN;
    /// - [`KMeansError::CentroidCount`] when [`Init::Centroids`] does not hold
    ///   k centroids, and [`KMeansError::InvalidCentroid`] when one of them
    ///   has a coordinate that is not a number within ±10^18.
    pub fn validate(&self) -> Result<(), KMeansError> {
        if self.k == 0 {
            return Err(KMeansError::ZeroK);
        }
        if self.n_init == Some(0) {
            return Err(KMeansError::ZeroNInit);
        }
        if self.max_iter == 0 {
            return Err(KMeansError::ZeroMaxIter);
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(KMeansError::InvalidTol(self.tol));
        }
        if let Init::Centroids(c) = &self.init {
            if c.len() != self.k {
                return Err(KMeansError::CentroidCount {
                    expected: self.k,
                    actual: c.len(),
                });
            }
            if let Some(index) = c.iter().position(|p| p.iter().any(|&x| !coordinate_ok(x))) {
                return Err(KMeansError::InvalidCentroid { index });
            }
        }
        Ok(())
    }

    /// The centroids the first seeding of [`fit`](Self::fit) starts from,
    /// for the same points, weights and seed. With at most k points, the
    /// points themselves.
    ///
    /// # Errors
    ///
    /// - any error of [`validate`](Self::validate);
    /// - [`KMeansError::LengthMismatch`] when `points` and `weights` differ in
    ///   length, and [`KMeansError::NoPoints`] when they are empty;
    /// - [`KMeansError::InvalidPoint`] for the first point whose weight is not
    ///   a finite number above 0 or whose coordinates are not numbers within
    ///   ±10^18;
    /// - [`KMeansError::WeightsTooLarge`] when the points' weighted sums
    ///   overflow to infinity.
    pub fn initial_centroids<const D: usize>(
        &self,
        points: &[[f32; D]],
        weights: &[f64],
    ) -> Result<Vec<[f32; D]>, KMeansError> {
        self.check(points, weights)?;
        if points.len() <= self.k {
            return Ok(points.to_vec());
        }
        let input = FitInput::copied(points, weights);
        let seed = init::Rng::new(self.seed).next_u64();
        Ok(in_pool(|| {
            self.seeding(&input.tree, &Unsorted::new(), seed)
        }))
    }

    /// The centroids one run starts from. k-means++ walks the tree; a
    /// random draw and Wu's split read the points in the caller's order,
    /// copied from the tree into `unsorted` by the first run that needs
    /// them.
    fn seeding<const D: usize>(
        &self,
        tree: &Tree<D>,
        unsorted: &Unsorted<D>,
        seed: u64,
    ) -> Vec<[f32; D]> {
        let mut rng = init::Rng::new(seed);
        let unsorted =
            || unsorted.get_or_init(|| (tree.unsort(tree.points()), tree.unsort(tree.weights())));
        match &self.init {
            Init::KMeansPlusPlus => plusplus::kmeans_plusplus(tree, self.k, &mut rng),
            Init::Random => {
                let (points, weights) = unsorted();
                init::random_distinct(points, weights, self.k, &mut rng)
            }
            Init::Wu => {
                let (points, weights) = unsorted();
                let boxes = wu::wu_centroids(points, weights, self.k);
                if boxes.len() < self.k {
                    plusplus::kmeans_plusplus_from(tree, boxes, self.k, &mut rng)
                } else {
                    boxes
                }
            }
            Init::Centroids(c) => c
                .iter()
                .map(|p| std::array::from_fn(|i| p.get(i).copied().unwrap_or(0.0)))
                .collect(),
        }
    }

    /// Checks the parameters and that there are as many weights as points,
    /// and some points.
    fn check_sizes(&self, points: usize, weights: usize) -> Result<(), KMeansError> {
        self.validate()?;
        if points != weights {
            return Err(KMeansError::LengthMismatch { points, weights });
        }
        if points == 0 {
            return Err(KMeansError::NoPoints);
        }
        Ok(())
    }

    /// Checks the parameters and the data.
    fn check<const D: usize>(
        &self,
        points: &[[f32; D]],
        weights: &[f64],
    ) -> Result<(), KMeansError> {
        self.check_sizes(points.len(), weights.len())?;
        let bad = |(i, (p, &w)): (usize, (&[f32; D], &f64))| {
            let fine = w.is_finite() && w > 0.0 && p.iter().all(|&c| coordinate_ok(c));
            (!fine).then_some(KMeansError::InvalidPoint {
                index: i,
                weight: w,
            })
        };
        if let Some(e) = points.iter().zip(weights).enumerate().find_map(bad) {
            return Err(e);
        }
        // The fit's sums (means, inertias) are at most a few times this.
        let moment: f64 = (points.iter().zip(weights))
            .map(|(p, &w)| w * (1.0 + p.iter().map(|&c| f64::from(c).powi(2)).sum::<f64>()))
            .sum();
        if !moment.is_finite() {
            return Err(KMeansError::WeightsTooLarge);
        }
        Ok(())
    }

    /// Runs weighted k-means on `points`, each counting `weights[i]` times.
    ///
    /// A point has D coordinates, 1 to 4 (a larger D does not compile):
    /// three for a colour ([`Point`]), four for a colour with a fourth
    /// coordinate such as its transparency.
    /// The points should be distinct, as a histogram's colours are: give a
    /// repeated point one entry with the summed weight. When there are at
    /// most k points, they are the centroids and the inertia is 0.
    /// Otherwise exactly k centroids come back: a cluster that empties is
    /// re-seeded at the point farthest from its centroid.
    ///
    /// # Errors
    ///
    /// - any error of [`validate`](Self::validate);
    /// - [`KMeansError::LengthMismatch`] when `points` and `weights` differ in
    ///   length, and [`KMeansError::NoPoints`] when they are empty;
    /// - [`KMeansError::InvalidPoint`] for the first point whose weight is not
    ///   a finite number above 0 or whose coordinates are not numbers within
    ///   ±10^18;
    /// - [`KMeansError::WeightsTooLarge`] when the points' weighted sums
    ///   overflow to infinity.
    ///
    /// ```
    /// use pixmeans_core::KMeansParams;
    /// // Two groups on a line, in one coordinate.
    /// let points = [[0.0], [1.0], [10.0], [11.0]];
    /// let fit = KMeansParams::new(2).fit(&points, &[1.0; 4])?;
    /// let mut centroids = fit.centroids().to_vec();
    /// centroids.sort_by(|a, b| a[0].total_cmp(&b[0]));
    /// assert_eq!(centroids, [[0.5], [10.5]]);
    /// # Ok::<(), pixmeans_core::KMeansError>(())
    /// ```
    pub fn fit<const D: usize>(
        &self,
        points: &[[f32; D]],
        weights: &[f64],
    ) -> Result<Fit<D>, KMeansError> {
        self.check(points, weights)?;
        if points.len() <= self.k {
            return Ok(Fit::every_point_its_own(points, weights));
        }
        self.fit_checked(&FitInput::copied(points, weights))
    }

    /// [`fit`](Self::fit) on a histogram's colours as points (taken: the
    /// k-d tree holds them, and no other copy is kept while the fit runs),
    /// weighted by their pixel counts (all above 0).
    pub(crate) fn fit_counted<const D: usize>(
        &self,
        points: Vec<[f32; D]>,
        counts: &[u64],
    ) -> Result<Fit<D>, KMeansError> {
        self.check_sizes(points.len(), counts.len())?;
        if points.len() <= self.k {
            let weights: Vec<f64> = counts.iter().map(|&n| n as f64).collect();
            return Ok(Fit::every_point_its_own(&points, &weights));
        }
        self.fit_checked(&FitInput::new(points, counts))
    }

    /// [`fit`](Self::fit) on a kept input: the same fit, without building
    /// its k-d tree again.
    pub(crate) fn fit_input<const D: usize>(
        &self,
        input: &FitInput<D>,
    ) -> Result<Fit<D>, KMeansError> {
        let tree = &input.tree;
        self.check_sizes(tree.points().len(), tree.weights().len())?;
        if tree.points().len() <= self.k {
            let (points, weights) = (tree.unsort(tree.points()), tree.unsort(tree.weights()));
            return Ok(Fit::every_point_its_own(&points, &weights));
        }
        self.fit_checked(input)
    }

    /// The best of the runs on a checked input of more than k points.
    fn fit_checked<const D: usize>(&self, input: &FitInput<D>) -> Result<Fit<D>, KMeansError> {
        let tol_abs = self.tol * input.variance;
        let unsorted = Unsorted::new();
        let mut seeds = init::Rng::new(self.seed);
        let mut best: Option<Fit<D>> = None;
        for _ in 0..self.n_init() {
            let seed = seeds.next_u64();
            let fit = in_pool(|| {
                let centers = self.seeding(&input.tree, &unsorted, seed);
                lloyd::run(
                    &input.tree,
                    centers,
                    self.max_iter,
                    tol_abs,
                    self.step.factor(),
                )
            });
            if best.as_ref().is_none_or(|b| fit.inertia() < b.inertia()) {
                best = Some(fit);
            }
        }
        best.ok_or(KMeansError::ZeroNInit)
    }
}

/// Runs `work` on a thread of rayon's pool (at once when already on one).
///
/// Every round of the seeding and every one of Lloyd's passes forks work
/// to the pool's threads. From a thread outside the pool, each fork is
/// handed over to the pool and waited for, two thread switches a round;
/// from a thread of the pool it is pushed onto that thread's own queue.
/// On picture0b.jpg's 176k colours, one thread, k-means++ at k = 256
/// takes 87-90 ms called from outside and 43 ms called through this.
fn in_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: [Point; 3] = [[0.0; 3], [1.0; 3], [2.0; 3]];
    const W: [f64; 3] = [1.0; 3];

    #[test]
    fn each_invalid_parameter_is_named() {
        assert_eq!(
            KMeansParams::new(0).fit(&P, &W).err(),
            Some(KMeansError::ZeroK)
        );
        assert_eq!(
            KMeansParams::new(2).with_n_init(Some(0)).fit(&P, &W).err(),
            Some(KMeansError::ZeroNInit)
        );
        assert_eq!(
            KMeansParams::new(2).with_max_iter(0).fit(&P, &W).err(),
            Some(KMeansError::ZeroMaxIter)
        );
        assert!(matches!(
            KMeansParams::new(2).with_tol(-1.0).fit(&P, &W),
            Err(KMeansError::InvalidTol(_))
        ));
        assert!(matches!(
            KMeansParams::new(2).with_tol(f64::NAN).fit(&P, &W),
            Err(KMeansError::InvalidTol(_))
        ));
        let init = Init::Centroids(vec![[0.0; 3]]);
        assert_eq!(
            KMeansParams::new(2).with_init(init).fit(&P, &W).err(),
            Some(KMeansError::CentroidCount {
                expected: 2,
                actual: 1
            })
        );
        for bad in [f32::NAN, f32::INFINITY, -2e18] {
            let init = Init::Centroids(vec![[0.0; 3], [1.0, bad, 0.0]]);
            assert_eq!(
                KMeansParams::new(2).with_init(init).fit(&P, &W).err(),
                Some(KMeansError::InvalidCentroid { index: 1 })
            );
        }
    }

    #[test]
    fn invalid_data_is_named() {
        assert_eq!(
            KMeansParams::new(2).fit::<3>(&[], &[]).err(),
            Some(KMeansError::NoPoints)
        );
        assert_eq!(
            KMeansParams::new(2).fit(&P, &W[..2]).err(),
            Some(KMeansError::LengthMismatch {
                points: 3,
                weights: 2
            })
        );
        assert!(matches!(
            KMeansParams::new(2).fit(&P, &[1.0, 0.0, 1.0]),
            Err(KMeansError::InvalidPoint { index: 1, .. })
        ));
        let nan = [[0.0; 3], [f32::NAN, 0.0, 0.0], [2.0; 3]];
        assert!(matches!(
            KMeansParams::new(2).fit(&nan, &W),
            Err(KMeansError::InvalidPoint { index: 1, .. })
        ));
        // Finite coordinates whose squared distances an f32 cannot hold.
        let far = [[0.0; 3], [1e20, 0.0, 0.0], [2e20, 0.0, 0.0]];
        assert!(matches!(
            KMeansParams::new(2).fit(&far, &W),
            Err(KMeansError::InvalidPoint { index: 1, .. })
        ));
        // Finite weights whose sums are not: once NaN centroids and a
        // "converged" fit of inertia 0.
        for w in [[f64::MAX; 3], [1e308, 1e308, 1.0]] {
            assert_eq!(
                KMeansParams::new(2).fit(&P, &w).err(),
                Some(KMeansError::WeightsTooLarge)
            );
        }
    }

    #[test]
    fn initial_centroids_are_where_fit_starts() {
        let points: Vec<Point> = (0..200)
            .map(|i| [(i % 13) as f32, (i % 7) as f32, (i / 13) as f32])
            .collect();
        let weights: Vec<f64> = (0..200).map(|i| 1.0 + f64::from(i % 4)).collect();
        let params = KMeansParams::new(6).with_seed(3);
        let start = params.initial_centroids(&points, &weights).unwrap();
        let from_start = params
            .clone()
            .with_init(Init::Centroids(start))
            .fit(&points, &weights)
            .unwrap();
        assert_eq!(params.fit(&points, &weights).unwrap(), from_start);
    }

    #[test]
    fn counted_kept_and_borrowed_inputs_fit_alike_with_every_init() {
        let points: Vec<Point> = (0..500)
            .map(|i| [(i % 17) as f32, (i * 7 % 23) as f32, (i / 17) as f32])
            .collect();
        let counts: Vec<u64> = (0..500).map(|i| 1 + i % 5).collect();
        let weights: Vec<f64> = counts.iter().map(|&n| n as f64).collect();
        let kept = FitInput::new(points.clone(), &counts);
        for init in [Init::KMeansPlusPlus, Init::Random, Init::Wu] {
            for k in [4, 40, 500, 600] {
                let params = KMeansParams::new(k).with_seed(5).with_init(init.clone());
                let borrowed = params.fit(&points, &weights).unwrap();
                let counted = params.fit_counted(points.clone(), &counts).unwrap();
                assert_eq!(counted, borrowed, "{init:?} k = {k}");
                assert_eq!(
                    params.fit_input(&kept).unwrap(),
                    borrowed,
                    "{init:?} k = {k}"
                );
            }
        }
    }

    #[test]
    fn auto_n_init_follows_scikit_learn() {
        assert_eq!(KMeansParams::new(3).n_init(), 1);
        assert_eq!(KMeansParams::new(3).with_init(Init::Random).n_init(), 10);
        assert_eq!(
            KMeansParams::new(3)
                .with_init(Init::Random)
                .with_n_init(Some(2))
                .n_init(),
            2
        );
    }

    #[test]
    fn wu_seeding_is_deterministic_and_fills_up_to_k() {
        // 600 points on a few lines: Wu alone may find fewer boxes than k,
        // k-means++ adds the rest.
        let points: Vec<Point> = (0..600)
            .map(|i| [(i % 3) as f32 * 50.0, (i % 200) as f32, 0.0])
            .collect();
        let weights: Vec<f64> = (0..600).map(|i| 1.0 + (i % 7) as f64).collect();
        for k in [2, 9, 40] {
            let params = KMeansParams::new(k).with_init(Init::Wu);
            let a = params.initial_centroids(&points, &weights).unwrap();
            assert_eq!(a.len(), k);
            assert_eq!(a, params.initial_centroids(&points, &weights).unwrap());
            let fit = params.fit(&points, &weights).unwrap();
            assert_eq!(fit.centroids().len(), k);
        }
    }
}
