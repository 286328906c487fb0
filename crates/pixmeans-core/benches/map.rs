//! Mapping: every pixel of a photo to its palette index through the colour
//! table, from colours already quantized. Each run starts from a fresh
//! count, so it reuses the counting table's pages as `quantize` does; the
//! count and the copy of the quantized colours are not timed.

// Benchmark code: a failed unwrap is a broken benchmark.
#![allow(clippy::unwrap_used)]

mod common;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use pixmeans_core::{ColorHistogram, KMeansParams, Quantizer};

fn map(c: &mut Criterion) {
    let mut group = c.benchmark_group("map");
    group.sample_size(10);
    for photo in common::photos() {
        let view = photo.image.view();
        let hist = ColorHistogram::from_image(&view);
        for k in common::KS {
            let colors = Quantizer::new(KMeansParams::new(k))
                .quantize_colors(&view, &hist)
                .unwrap();
            group.bench_function(format!("{} k={k}", photo.name), |b| {
                b.iter_batched(
                    || (ColorHistogram::from_image(&view), colors.clone()),
                    |(hist, colors)| colors.into_quantized(&view, &hist).unwrap(),
                    BatchSize::PerIteration,
                );
            });
        }
    }
    group.finish();
}

criterion_group!(benches, map);
criterion_main!(benches);
