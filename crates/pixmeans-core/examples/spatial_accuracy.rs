//! How close the sampled spatial fit comes to Lloyd on every pixel.
//!
//! `cargo run --release -p pixmeans-core --example spatial_accuracy -- photo.jpg [k] [W]`
//!
//! Both runs start from the same k-means++ centroids (drawn from the
//! sample); one iterates on the sample, as `pixmeans segment --spatial`
//! does, the other on every pixel. Both are then scored on every pixel.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::Instant;

use pixmeans_core::segment::spatial::{
    DEFAULT_SAMPLE, SpatialFeatures, assign, initial_centroids, lloyd, mean_variance,
    sample_opaque_pixels,
};
use pixmeans_core::{ColorSpace, ImageRef, KMeansParams, PixelFormat};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: spatial_accuracy IMAGE [K] [W]");
    let k: usize = args.next().map_or(5, |s| s.parse().unwrap());
    let w: f64 = args.next().map_or(1.0, |s| s.parse().unwrap());
    let rgb = image::open(&path).unwrap().to_rgb8();
    let (width, height) = rgb.dimensions();
    let img = ImageRef::new(width, height, PixelFormat::Rgb8, rgb.as_raw()).unwrap();
    let params = KMeansParams::new(k);
    let features = SpatialFeatures::new(ColorSpace::Srgb, w, width, height);

    let t = Instant::now();
    let sample = features
        .of_pixels(&img, &sample_opaque_pixels(&img, DEFAULT_SAMPLE, 0))
        .unwrap();
    let start = initial_centroids(&sample, &params);
    let tol = params.tol() * mean_variance(&sample);
    let (fit, _) = lloyd(&sample, start.clone(), params.max_iter(), tol);
    let (sampled, sampled_inertia) = assign(&img, &features, &fit.centroids, k as u32);
    let sampled_time = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let all: Vec<usize> = (0..img.pixel_count()).collect();
    let every = features.of_pixels(&img, &all).unwrap();
    let tol = params.tol() * mean_variance(&every);
    let (full_fit, _) = lloyd(&every, start, params.max_iter(), tol);
    let (full, full_inertia) = assign(&img, &features, &full_fit.centroids, k as u32);
    let full_time = t.elapsed().as_secs_f64();

    let same = sampled.iter().zip(&full).filter(|(a, b)| a == b).count();
    println!("{path}: {width} x {height}, k = {k}, W = {w}");
    println!(
        "sample of {DEFAULT_SAMPLE}: inertia {sampled_inertia:.6e}, {} iterations, {sampled_time:.2} s",
        fit.iterations
    );
    println!(
        "every pixel:      inertia {full_inertia:.6e}, {} iterations, {full_time:.2} s",
        full_fit.iterations
    );
    println!(
        "sample / full inertia: {:.5}; same label for {:.3} % of pixels",
        sampled_inertia / full_inertia,
        100.0 * same as f64 / full.len() as f64
    );
}
