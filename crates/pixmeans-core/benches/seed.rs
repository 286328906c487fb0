//! Seeding: greedy k-means++ on a photo's distinct colours, building the
//! k-d tree it walks included (a fit builds the tree once, for the seeding
//! and the iterations).

// Benchmark code: a failed unwrap is a broken benchmark.
#![allow(clippy::unwrap_used)]

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use pixmeans_core::KMeansParams;

fn seed(c: &mut Criterion) {
    let mut group = c.benchmark_group("seed");
    group.sample_size(10);
    for photo in common::photos() {
        let (points, weights) = photo.points();
        for k in common::KS {
            let params = KMeansParams::new(k);
            group.bench_function(format!("{} k={k}", photo.name), |b| {
                b.iter(|| params.initial_centroids(&points, &weights).unwrap());
            });
        }
    }
    group.finish();
}

criterion_group!(benches, seed);
criterion_main!(benches);
