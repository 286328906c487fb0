//! The seeded random stream, and seeding by weighted random distinct
//! colours (k-means++ is in `plusplus.rs`).

use rand_core::{Rng as _, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

#[cfg(test)]
use crate::color::Point;

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

/// `n` points on a small integer grid, for tests.
#[cfg(test)]
pub(crate) fn grid(n: usize) -> Vec<Point> {
    (0..n)
        .map(|i| [(i % 17) as f32, (i / 17) as f32, (i % 5) as f32])
        .collect()
}

/// k distinct points drawn without replacement, each with probability
/// proportional to its weight (Efraimidis and Spirakis, 2006: the k largest
/// of ln(u) / w).
pub(crate) fn random_distinct<const D: usize>(
    points: &[[f32; D]],
    weights: &[f64],
    k: usize,
    rng: &mut Rng,
) -> Vec<[f32; D]> {
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
}
