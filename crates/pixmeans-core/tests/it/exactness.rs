//! Weighted k-means on the colour histogram must be k-means on every pixel:
//! same centroids, labels, inertia and iterations from the same start, with
//! plain and with over-relaxed Lloyd steps.

use pixmeans_core::{
    ColorHistogram, ColorSpace, ImageRef, Init, KMeansParams, LloydStep, PixelFormat, Point,
};

use crate::{banded, coffee};

struct Naive<const D: usize> {
    centers: Vec<[f32; D]>,
    labels: Vec<u32>,
    inertia: f64,
    iterations: usize,
}

fn d2<const D: usize>(a: &[f32; D], b: &[f32; D]) -> f32 {
    (0..D).map(|c| (a[c] - b[c]) * (a[c] - b[c])).sum()
}

fn nearest<const D: usize>(p: &[f32; D], centers: &[[f32; D]]) -> (u32, f32) {
    let mut best = (0, f32::INFINITY);
    for (j, c) in centers.iter().enumerate() {
        if d2(p, c) < best.1 {
            best = (j as u32, d2(p, c));
        }
    }
    best
}

/// Lloyd over every pixel, with scikit-learn's stopping rule (no label
/// changed counts only in a pass from the last labels' means): textbook
/// for `beta` 1; else from the second iteration on each centre goes `beta`
/// times as far as its mean, unless the previous step was turned down, and
/// a step is turned down when the next assignment's inertia exceeds that
/// of the step's labels at their means.
fn naive_lloyd<const D: usize>(
    pixels: &[[f32; D]],
    mut centers: Vec<[f32; D]>,
    max_iter: usize,
    tol: f64,
    beta: f64,
) -> Naive<D> {
    let n = pixels.len() as f64;
    let mean: Vec<f64> = (0..D)
        .map(|c| pixels.iter().map(|p| f64::from(p[c])).sum::<f64>() / n)
        .collect();
    let var: f64 = (0..D)
        .map(|c| {
            pixels
                .iter()
                .map(|p| (f64::from(p[c]) - mean[c]).powi(2))
                .sum::<f64>()
                / n
        })
        .sum::<f64>()
        / D as f64;
    let mut labels = vec![u32::MAX; pixels.len()];
    let mut iterations = 0;
    // The plain step's centres and their labels' inertia at them.
    let mut on_trial: Option<(Vec<[f32; D]>, f64)> = None;
    let mut last_turned_down = false;
    for i in 0..max_iter {
        iterations = i + 1;
        let mut changed = 0;
        let mut inertia = 0.0;
        let mut sums = vec![[0.0f64; D]; centers.len()];
        let mut counts = vec![0.0f64; centers.len()];
        for (p, l) in pixels.iter().zip(&mut labels) {
            let (j, d) = nearest(p, &centers);
            changed += usize::from(*l != j);
            inertia += f64::from(d);
            *l = j;
            for c in 0..D {
                sums[j as usize][c] += f64::from(p[c]);
            }
            counts[j as usize] += 1.0;
        }
        assert!(
            counts.iter().all(|&c| c > 0.0),
            "the test start must not empty a cluster"
        );
        // Labels unchanged mean a fixed point only if this pass's centres
        // are the means of the last pass's labels.
        let from_last_means = on_trial.is_none() && !last_turned_down;
        if let Some((plain, bound)) = on_trial.take()
            && inertia > bound
        {
            centers = plain;
            last_turned_down = true;
            continue;
        }
        let mut shift = 0.0;
        let mut at_means = inertia;
        let means: Vec<[f32; D]> = (0..centers.len())
            .map(|j| sums[j].map(|s| (s / counts[j]) as f32))
            .collect();
        for (j, (c, m)) in centers.iter().zip(&means).enumerate() {
            shift += f64::from(d2(c, m));
            at_means -= counts[j] * f64::from(d2(c, m));
        }
        if (i > 0 && from_last_means && changed == 0) || shift <= tol * var {
            centers = means;
            break;
        }
        if beta > 1.0 && i > 0 && i + 1 < max_iter && !last_turned_down {
            for (c, m) in centers.iter_mut().zip(&means) {
                for d in 0..D {
                    let x = f64::from(c[d]);
                    c[d] = (x + beta * (f64::from(m[d]) - x)) as f32;
                }
            }
            on_trial = Some((means, at_means));
        } else {
            centers = means;
        }
        last_turned_down = false;
    }
    let mut inertia = 0.0;
    for (p, l) in pixels.iter().zip(&mut labels) {
        let (j, d) = nearest(p, &centers);
        *l = j;
        inertia += f64::from(d);
    }
    Naive {
        centers,
        labels,
        inertia,
        iterations,
    }
}

fn key(p: &[u8]) -> [u8; 3] {
    [p[0], p[1], p[2]]
}

/// Fits both ways from the same start and compares everything.
fn check(image: &ImageRef<'_>, k: usize, space: ColorSpace, exact_centers: bool) {
    for (step, beta) in [(LloydStep::Plain, 1.0), (LloydStep::Overrelaxed, 1.75)] {
        check_step(image, k, space, exact_centers, step, beta);
    }
}

fn check_step(
    image: &ImageRef<'_>,
    k: usize,
    space: ColorSpace,
    exact_centers: bool,
    step: LloydStep,
    beta: f64,
) {
    let pixels: Vec<Point> = image
        .data()
        .chunks_exact(3)
        .map(|p| space.from_srgb(key(p)))
        .collect();
    let hist = ColorHistogram::from_image(image);
    let points: Vec<Point> = hist.colors().iter().map(|&c| space.from_srgb(c)).collect();
    let weights: Vec<f64> = hist.counts().iter().map(|&n| n as f64).collect();
    // Start from k distinct colours spread through the histogram.
    let start: Vec<Point> = (0..k).map(|i| points[i * points.len() / k]).collect();

    let naive = naive_lloyd(&pixels, start.clone(), 300, 1e-4, beta);
    let fit = KMeansParams::new(k)
        .with_step(step)
        .with_init(Init::Centroids(start))
        .fit(&points, &weights)
        .unwrap();

    assert_eq!(
        fit.iterations(),
        naive.iterations,
        "{space} {step:?} k={k}: iterations"
    );
    for (a, b) in fit.centroids().iter().zip(&naive.centers) {
        if exact_centers {
            assert_eq!(a, b, "{space} {step:?} k={k}: centroids");
        } else {
            assert!(d2(a, b) < 1e-10, "{space} {step:?} k={k}: {a:?} vs {b:?}");
        }
    }
    // The per-pixel reference adds up f32 distances, each rounded to a
    // relative 6e-8; in sRGB the fit takes its inertia exactly from the
    // clusters' moments. They agree to far better than the digits reported.
    let rel = (fit.inertia() - naive.inertia).abs() / naive.inertia.max(1e-30);
    assert!(
        rel < 1e-8,
        "{space} {step:?} k={k}: inertia {} vs {}",
        fit.inertia(),
        naive.inertia
    );
    for (p, &naive_label) in image.data().chunks_exact(3).zip(&naive.labels) {
        let i = hist.colors().binary_search(&key(p)).unwrap();
        assert_eq!(
            fit.labels()[i],
            naive_label,
            "{space} {step:?} k={k}: label of {p:?}"
        );
    }
}

#[test]
fn histogram_kmeans_equals_per_pixel_lloyd_on_a_real_photo() {
    for k in [2, 5, 16] {
        check(&coffee(), k, ColorSpace::Srgb, true);
    }
}

#[test]
fn histogram_kmeans_equals_per_pixel_lloyd_in_perceptual_spaces() {
    for space in [ColorSpace::Oklab, ColorSpace::Lab] {
        check(&coffee(), 6, space, false);
    }
}

#[test]
fn histogram_kmeans_equals_per_pixel_lloyd_on_synthetic_blobs() {
    let colors = [[200, 30, 30], [30, 200, 30], [30, 30, 200], [220, 220, 40]];
    let px = banded(64, 40, &colors, 25, 11);
    let img = ImageRef::new(64, 40, PixelFormat::Rgb8, &px).unwrap();
    for k in [3, 4, 7] {
        check(&img, k, ColorSpace::Srgb, true);
    }
}

/// Points of `D` integer coordinates taken from a photo's pixels (its
/// colour, and for a fourth a transparency that varies across the image),
/// counted as a histogram counts colours: the fit on the distinct points
/// must be the per-point fit, in any number of coordinates.
fn check_coordinates<const D: usize>(k: usize, seed: u64, init: &Init) {
    let image = coffee();
    let width = image.width() as usize;
    let pixels: Vec<[f32; D]> = image
        .data()
        .chunks_exact(3)
        .enumerate()
        .map(|(i, p)| {
            let transparency = ((i % width) * 7 / 5 + (i / width) * 3) % 256;
            let all = [p[0], p[1], p[2]].map(f32::from);
            std::array::from_fn(|c| all.get(c).copied().unwrap_or(transparency as f32))
        })
        .collect();
    let mut sorted = pixels.clone();
    sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let mut points: Vec<[f32; D]> = Vec::new();
    let mut weights: Vec<f64> = Vec::new();
    for p in sorted {
        if points.last() == Some(&p) {
            *weights.last_mut().unwrap() += 1.0;
        } else {
            points.push(p);
            weights.push(1.0);
        }
    }
    let params = KMeansParams::new(k)
        .with_seed(seed)
        .with_init(init.clone())
        .with_n_init(Some(1));
    let start = params.initial_centroids(&points, &weights).unwrap();
    let naive = naive_lloyd(&pixels, start, 300, 1e-4, 1.75);
    let fit = params.fit(&points, &weights).unwrap();
    assert_eq!(fit.iterations(), naive.iterations, "D = {D}, k = {k}");
    assert_eq!(fit.centroids(), naive.centers, "D = {D}, k = {k}");
    // The reference's inertia in f64, not summed from f32 distances.
    let exact: f64 = pixels
        .iter()
        .zip(&naive.labels)
        .map(|(p, &l)| {
            let c = naive.centers[l as usize];
            (0..D)
                .map(|i| (f64::from(p[i]) - f64::from(c[i])).powi(2))
                .sum::<f64>()
        })
        .sum();
    let rel = (fit.inertia() - exact).abs() / exact;
    assert!(rel < 1e-9, "D = {D}, k = {k}: {} vs {exact}", fit.inertia());
    for (p, &naive_label) in pixels.iter().zip(&naive.labels) {
        let i = points
            .binary_search_by(|q| q.partial_cmp(p).unwrap())
            .unwrap();
        assert_eq!(
            fit.labels()[i],
            naive_label,
            "D = {D}, k = {k}: label of {p:?}"
        );
    }
}

#[test]
fn weighted_kmeans_equals_per_point_lloyd_in_one_two_and_four_coordinates() {
    for init in [Init::KMeansPlusPlus, Init::Random, Init::Wu] {
        for (k, seed) in [(3, 1), (9, 2)] {
            check_coordinates::<1>(k, seed, &init);
            check_coordinates::<2>(k, seed, &init);
            check_coordinates::<4>(k, seed, &init);
        }
    }
    check_coordinates::<4>(40, 3, &Init::KMeansPlusPlus);
}
