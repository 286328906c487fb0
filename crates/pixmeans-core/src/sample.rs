//! A seeded sample of pixel positions, for pictures that cannot show them all.

use std::collections::BTreeSet;

use crate::kmeans::Rng;

/// `n` distinct positions drawn uniformly from `0..len` (all of them when
/// `n >= len`), in increasing order. The same seed gives the same sample on
/// every machine. Uses Floyd's algorithm (Bentley and Floyd, 1987, "A sample
/// of brilliance"), which costs O(n log n) whatever `len` is.
///
/// ```
/// let s = pixmeans_core::sample_positions(1_000_000, 5, 7);
/// assert_eq!(s.len(), 5);
/// assert!(s.windows(2).all(|w| w[0] < w[1]));
/// assert_eq!(s, pixmeans_core::sample_positions(1_000_000, 5, 7));
/// ```
pub fn sample_positions(len: usize, n: usize, seed: u64) -> Vec<usize> {
    if n >= len {
        return (0..len).collect();
    }
    let mut rng = Rng::new(seed);
    let mut chosen = BTreeSet::new();
    for j in len - n..len {
        // Uniform in 0..=j by the multiply-shift method (no modulo bias).
        let t = ((u128::from(rng.next_u64()) * (j as u128 + 1)) >> 64) as usize;
        if !chosen.insert(t) {
            chosen.insert(j);
        }
    }
    chosen.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_distinct_in_range_and_seeded() {
        let s = sample_positions(100, 30, 1);
        assert_eq!(s.len(), 30);
        assert!(s.windows(2).all(|w| w[0] < w[1]) && s[29] < 100);
        assert_ne!(s, sample_positions(100, 30, 2));
        assert_eq!(sample_positions(5, 10, 0), [0, 1, 2, 3, 4]);
        assert!(sample_positions(0, 3, 0).is_empty());
    }

    #[test]
    fn samples_cover_the_range_evenly() {
        // 20,000 of 1,000,000: each tenth of the range gets close to 2,000.
        let s = sample_positions(1_000_000, 20_000, 9);
        let mut tenths = [0usize; 10];
        for p in s {
            tenths[p / 100_000] += 1;
        }
        assert!(
            tenths.iter().all(|&t| (1800..2200).contains(&t)),
            "{tenths:?}"
        );
    }
}
