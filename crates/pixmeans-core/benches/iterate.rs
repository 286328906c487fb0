//! Lloyd iterations: 20 of them from fixed k-means++ seeds (tol 0, so every
//! run does the same work), building the k-d tree included.

// Benchmark code: a failed unwrap is a broken benchmark.
#![allow(clippy::unwrap_used)]

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use pixmeans_core::{Init, KMeansParams};

fn iterate(c: &mut Criterion) {
    let mut group = c.benchmark_group("iterate x20");
    group.sample_size(10);
    for photo in common::photos() {
        let (points, weights) = photo.points();
        for k in common::KS {
            let start = KMeansParams::new(k)
                .initial_centroids(&points, &weights)
                .unwrap();
            let params = KMeansParams::new(k)
                .with_init(Init::Centroids(start))
                .with_max_iter(20)
                .with_tol(0.0);
            group.bench_function(format!("{} k={k}", photo.name), |b| {
                b.iter(|| params.fit(&points, &weights).unwrap());
            });
        }
    }
    group.finish();
}

criterion_group!(benches, iterate);
criterion_main!(benches);
