//! Segmentation after the colour fit: connected regions, merging regions
//! below 500 pixels, and the spatial fit, at k = 5 on each photo. The colour
//! fit itself is the `quantize` benchmark.

// Benchmark code: a failed unwrap is a broken benchmark.
#![allow(clippy::unwrap_used)]

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use pixmeans_core::{Connectivity, KMeansParams, Quantizer, Regions, Segmenter};

fn segment(c: &mut Criterion) {
    let mut group = c.benchmark_group("segment");
    group.sample_size(10);
    for photo in common::photos() {
        let view = photo.image.view();
        let quantizer = Quantizer::new(KMeansParams::new(5));
        let q = quantizer.quantize(&view).unwrap();
        let plain = Segmenter::new(quantizer.clone());
        let labels = plain.segment_quantized(&view, &q).unwrap().labels().clone();
        let name = &photo.name;
        group.bench_function(format!("{name} regions"), |b| {
            b.iter(|| Regions::find(&labels, Connectivity::Eight));
        });
        group.bench_function(format!("{name} regions and figures"), |b| {
            b.iter(|| plain.segment_quantized(&view, &q).unwrap());
        });
        let merging = plain.clone().with_min_region(500);
        group.bench_function(format!("{name} min-region 500"), |b| {
            b.iter(|| merging.segment_quantized(&view, &q).unwrap());
        });
        let spatial = plain.clone().with_spatial(1.0);
        group.bench_function(format!("{name} spatial 1"), |b| {
            b.iter(|| spatial.segment(&view).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, segment);
criterion_main!(benches);
