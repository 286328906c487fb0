//! The whole quantization of a decoded photo: count, seed, iterate, map
//! every pixel through the colour table, and the quality figures. Mapping
//! alone is this minus the parts above.

// Benchmark code: a failed unwrap is a broken benchmark.
#![allow(clippy::unwrap_used)]

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use pixmeans_core::{KMeansParams, Quantizer};

fn quantize(c: &mut Criterion) {
    let mut group = c.benchmark_group("quantize");
    group.sample_size(10);
    for photo in common::photos() {
        let view = photo.image.view();
        for k in common::KS {
            let q = Quantizer::new(KMeansParams::new(k));
            group.bench_function(format!("{} k={k}", photo.name), |b| {
                b.iter(|| q.quantize(&view).unwrap());
            });
        }
    }
    group.finish();
}

criterion_group!(benches, quantize);
criterion_main!(benches);
