//! Counting the distinct colours of a photo (one pass over every pixel).

// Benchmark code: a failed unwrap is a broken benchmark.
#![allow(clippy::unwrap_used)]

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pixmeans_core::ColorHistogram;

fn count(c: &mut Criterion) {
    let mut group = c.benchmark_group("count");
    group.sample_size(20);
    for photo in common::photos() {
        let view = photo.image.view();
        group.throughput(Throughput::Elements(view.pixel_count() as u64));
        group.bench_function(
            format!("{} ({:.1} MP)", photo.name, photo.megapixels()),
            |b| {
                b.iter(|| ColorHistogram::from_image(&view));
            },
        );
    }
    group.finish();
}

criterion_group!(benches, count);
criterion_main!(benches);
