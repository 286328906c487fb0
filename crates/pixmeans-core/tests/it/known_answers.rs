//! Synthetic images whose answer is known, and the promises the quantizer
//! makes about palettes, transparency, downscaled fits and threads.

use pixmeans_core::{
    AlphaMode, ColorHistogram, ColorSpace, ImageRef, Init, KMeansParams, PixelFormat, Quantizer,
    metrics,
};

use crate::{Lcg, banded, coffee};

const FIVE: [[u8; 3]; 5] = [
    [220, 40, 40],
    [40, 180, 60],
    [50, 60, 210],
    [240, 230, 60],
    [30, 30, 30],
];

#[test]
fn finds_five_noisy_colour_bands() {
    let px = banded(100, 30, &FIVE, 6, 1);
    let img = ImageRef::new(100, 30, PixelFormat::Rgb8, &px).unwrap();
    for space in ColorSpace::ALL {
        // Random seeding can put two seeds in one band and stay there: that is
        // why it restarts 10 times by default, and why k-means++ is the default.
        for init in [Init::KMeansPlusPlus, Init::Random] {
            let n_init = if init == Init::Random { 50 } else { 1 };
            let params = KMeansParams::new(5)
                .with_init(init.clone())
                .with_n_init(Some(n_init));
            let q = Quantizer::new(params)
                .with_color_space(space)
                .quantize(&img)
                .unwrap();
            let pal = q.image().palette().rgb();
            for truth in FIVE {
                let near = pal
                    .iter()
                    .any(|p| (0..3).all(|c| p[c].abs_diff(truth[c]) <= 2));
                assert!(
                    near,
                    "{space} {}: {truth:?} not found in {pal:?}",
                    init.name()
                );
            }
            // Every pixel of a band carries the same index, and bands differ.
            let idx = q.image().indices();
            let band_index: Vec<u8> = (0..5).map(|b| idx[b * 20]).collect();
            for (i, &l) in idx.iter().enumerate() {
                assert_eq!(l, band_index[(i % 100) / 20]);
            }
            let mut distinct = band_index.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), 5);
        }
    }
}

#[test]
fn an_image_with_at_most_k_colours_comes_back_unchanged() {
    let px = banded(30, 4, &FIVE, 0, 1);
    let img = ImageRef::new(30, 4, PixelFormat::Rgb8, &px).unwrap();
    for k in [5, 8, 256] {
        let q = Quantizer::new(KMeansParams::new(k)).quantize(&img).unwrap();
        assert_eq!(q.image().palette().len(), 5);
        assert_eq!(q.image().to_rgb(), px);
        assert_eq!((q.inertia(), q.mse()), (0.0, 0.0));
        assert!(q.psnr().is_infinite());
    }
}

#[test]
fn palette_is_sorted_by_pixel_count() {
    // 3 columns of red, 2 of blue, 1 of green.
    let px = banded(
        6,
        2,
        &[
            [255, 0, 0],
            [255, 0, 0],
            [255, 0, 0],
            [0, 0, 255],
            [0, 0, 255],
            [0, 255, 0],
        ],
        0,
        1,
    );
    let img = ImageRef::new(6, 2, PixelFormat::Rgb8, &px).unwrap();
    let q = Quantizer::new(KMeansParams::new(3)).quantize(&img).unwrap();
    assert_eq!(
        q.image().palette().rgb(),
        [[255, 0, 0], [0, 0, 255], [0, 255, 0]]
    );
}

#[test]
fn transparent_pixels_are_left_out_and_stay_transparent() {
    // Left half transparent (with colours that must not matter), right half two colours.
    let mut px = Vec::new();
    for y in 0..4u8 {
        for x in 0..8u8 {
            px.extend_from_slice(&match (x < 4, y < 2) {
                (true, _) => [x * 60, 255, y * 80, 0],
                (false, true) => [250, 250, 250, 255],
                (false, false) => [10, 10, 10, 200],
            });
        }
    }
    let img = ImageRef::new(8, 4, PixelFormat::Rgba8, &px).unwrap();
    let q = Quantizer::new(KMeansParams::new(2)).quantize(&img).unwrap();
    let pal = q.image().palette();
    assert_eq!(
        pal.colors(),
        [[250, 250, 250, 255], [10, 10, 10, 200], [0, 0, 0, 0]]
    );
    // By colour alone, the partly transparent pixels are written opaque.
    let opaque = Quantizer::new(KMeansParams::new(2))
        .with_alpha(AlphaMode::Opaque)
        .quantize(&img)
        .unwrap();
    assert_eq!(
        opaque.image().palette().colors(),
        [[250, 250, 250, 255], [10, 10, 10, 255], [0, 0, 0, 0]]
    );
    assert_eq!(opaque.image().indices(), q.image().indices());
    let t = pal.transparent_index().unwrap() as u8;
    for (p, &i) in px.chunks_exact(4).zip(q.image().indices()) {
        assert_eq!(p[3] == 0, i == t);
    }
    assert_eq!(q.mse(), 0.0);
    // k = 256 is fine while the image has fewer colours than that...
    let few = Quantizer::new(KMeansParams::new(256))
        .quantize(&img)
        .unwrap();
    assert_eq!(few.image().palette().len(), 3);
    // ...but 256 opaque colours and a transparent one do not fit a palette:
    // the transparent entry counts among the 256, as in pngquant.
    let many: Vec<u8> = (0..=256u32)
        .flat_map(|i| {
            if i == 256 {
                [0, 0, 0, 0]
            } else {
                [i as u8, 7, 7, 255]
            }
        })
        .collect();
    let img = ImageRef::new(257, 1, PixelFormat::Rgba8, &many).unwrap();
    let full = Quantizer::new(KMeansParams::new(256))
        .quantize(&img)
        .unwrap();
    let fewer = Quantizer::new(KMeansParams::new(255))
        .quantize(&img)
        .unwrap();
    assert_eq!(full.image(), fewer.image());
    assert_eq!(full.image().palette().len(), 256);
    // So do 256 centroids given to start from: the last one makes way.
    let given: Vec<[f32; 3]> = (0..256).map(|i| [i as f32, 7.0, 7.0]).collect();
    let start = |c: &[[f32; 3]]| KMeansParams::new(c.len()).with_init(Init::Centroids(c.to_vec()));
    let full = Quantizer::new(start(&given)).quantize(&img).unwrap();
    let fewer = Quantizer::new(start(&given[..255])).quantize(&img).unwrap();
    assert_eq!(full.image(), fewer.image());
}

#[test]
fn fitting_on_a_downscaled_copy_still_maps_every_pixel_to_its_nearest_colour() {
    let img = coffee();
    let q = Quantizer::new(KMeansParams::new(8))
        .with_max_pixels(Some(600))
        .quantize(&img)
        .unwrap();
    assert!(q.fitted_pixels() <= 600);
    assert_eq!(q.image().indices().len(), 80 * 60);
    let cents = q.fit().centroids();
    for (p, &i) in img.data().chunks_exact(3).zip(q.image().indices()) {
        let x = ColorSpace::Srgb.from_srgb([p[0], p[1], p[2]]);
        let d = |c: &[f32; 3]| (0..3).map(|j| (x[j] - c[j]).powi(2)).sum::<f32>();
        let own = d(&cents[usize::from(i)]);
        assert!(cents.iter().all(|c| own <= d(c)));
    }
    // The figures describe the full image.
    let exact = metrics::pixel_mse(&img, q.image()).unwrap();
    assert!((q.mse() - exact).abs() < 1e-9);
    let inertia: f64 = img
        .data()
        .chunks_exact(3)
        .zip(q.image().indices())
        .map(|(p, &i)| {
            let x = ColorSpace::Srgb.from_srgb([p[0], p[1], p[2]]);
            (0..3)
                .map(|j| f64::from((x[j] - cents[usize::from(i)][j]).powi(2)))
                .sum::<f64>()
        })
        .sum();
    // Per-pixel f32 distances summed in another order: equal to f32 precision.
    assert!(
        (q.inertia() - inertia).abs() <= 1e-6 * inertia,
        "{} vs {inertia}",
        q.inertia()
    );
}

#[test]
fn the_same_seed_gives_the_same_bytes_on_one_thread_or_two() {
    // Over 2^20 pixels, so the dense colour count is used too.
    let (w, h) = (1100u32, 1000u32);
    let mut rng = Lcg(5);
    let px: Vec<u8> = (0..w * h * 3).map(|_| rng.around(128, 100)).collect();
    let img = ImageRef::new(w, h, PixelFormat::Rgb8, &px).unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            Quantizer::new(KMeansParams::new(12).with_seed(3).with_max_iter(20))
                .with_color_space(ColorSpace::Oklab)
                .quantize(&img)
                .unwrap()
        })
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.image(), b.image());
    assert_eq!(a.inertia().to_bits(), b.inertia().to_bits());
    assert_eq!(a.fit().centroids(), b.fit().centroids());
    let c = Quantizer::new(KMeansParams::new(12).with_seed(4).with_max_iter(20))
        .with_color_space(ColorSpace::Oklab)
        .quantize(&img)
        .unwrap();
    assert_ne!(
        a.fit().centroids(),
        c.fit().centroids(),
        "another seed should start elsewhere"
    );
}

#[test]
fn more_restarts_never_do_worse() {
    let img = coffee();
    let one = Quantizer::new(
        KMeansParams::new(6)
            .with_init(Init::Random)
            .with_n_init(Some(1)),
    )
    .quantize(&img)
    .unwrap();
    let ten = Quantizer::new(
        KMeansParams::new(6)
            .with_init(Init::Random)
            .with_n_init(Some(10)),
    )
    .quantize(&img)
    .unwrap();
    assert!(ten.inertia() <= one.inertia());
}

#[test]
fn a_sample_never_invents_colours_nor_changes_a_small_palette() {
    // A black and white checkerboard: a box filter would fit on grey.
    let px: Vec<u8> = (0..100 * 100)
        .flat_map(|i| {
            if (i % 100 + i / 100) % 2 == 0 {
                [0; 3]
            } else {
                [255; 3]
            }
        })
        .collect();
    let img = ImageRef::new(100, 100, PixelFormat::Rgb8, &px).unwrap();
    for (k, max) in [(2, 100), (2, 2500), (1, 100)] {
        let q = Quantizer::new(KMeansParams::new(k))
            .with_max_pixels(Some(max))
            .quantize(&img)
            .unwrap();
        assert_eq!(q.image().palette().len(), k);
        if k == 2 {
            assert_eq!(q.image().to_rgb(), px, "max_pixels {max}");
            assert_eq!(q.sample_size(), None, "2 colours need no sample");
        }
    }
    // Three colours, k = 3: a sample that misses one falls back to the full image.
    let mut px3 = px.clone();
    px3[..3].copy_from_slice(&[255, 0, 0]);
    let img3 = ImageRef::new(100, 100, PixelFormat::Rgb8, &px3).unwrap();
    let q = Quantizer::new(KMeansParams::new(3))
        .with_max_pixels(Some(100))
        .quantize(&img3)
        .unwrap();
    assert_eq!(q.image().to_rgb(), px3);
}

#[test]
fn a_trial_has_the_figures_of_the_image_quantized_with_its_k() {
    // Half transparent, so the palette gains an entry that the sizes count.
    let img = coffee();
    let mut rgba = Vec::new();
    for (i, p) in img.data().chunks_exact(3).enumerate() {
        rgba.extend_from_slice(&[p[0], p[1], p[2], if i % 80 < 40 { 255 } else { 0 }]);
    }
    let half = ImageRef::new(80, 60, PixelFormat::Rgba8, &rgba).unwrap();
    for (image, max_pixels) in [(img, None), (img, Some(900)), (half, None)] {
        let hist = pixmeans_core::ColorHistogram::from_image(&image);
        for k in [1, 5, 16] {
            let quantizer = Quantizer::new(KMeansParams::new(k).with_seed(3))
                .with_color_space(ColorSpace::Oklab)
                .with_max_pixels(max_pixels);
            let t = quantizer.trial(&image, &hist).unwrap();
            let q = quantizer.quantize_counted(&image, &hist).unwrap();
            assert_eq!(t.k, k);
            assert_eq!(t.colors, q.counts().len());
            assert_eq!(t.inertia, q.inertia());
            assert_eq!(t.mse, q.mse());
            assert_eq!(t.psnr.to_bits(), q.psnr().to_bits());
            assert_eq!(t.delta_e, q.delta_e());
            assert_eq!(t.iterations, q.fit().iterations());
            assert_eq!(t.converged, q.fit().converged());
            assert_eq!(t.sizes, metrics::Sizes::of(q.image(), image.format()));
        }
    }
}

#[test]
fn quantizing_the_colours_then_mapping_equals_quantizing_at_once() {
    let img = coffee();
    let mut rgba = Vec::new();
    for (i, p) in img.data().chunks_exact(3).enumerate() {
        rgba.extend_from_slice(&[p[0], p[1], p[2], if i % 7 == 0 { 0 } else { 255 }]);
    }
    let holed = ImageRef::new(80, 60, PixelFormat::Rgba8, &rgba).unwrap();
    for (image, max_pixels) in [(img, None), (img, Some(900)), (holed, None)] {
        let hist = pixmeans_core::ColorHistogram::from_image(&image);
        let quantizer = Quantizer::new(KMeansParams::new(12)).with_max_pixels(max_pixels);
        let colors = quantizer.quantize_colors(&image, &hist).unwrap();
        let q = quantizer.quantize_counted(&image, &hist).unwrap();
        assert_eq!(colors.palette(), q.image().palette());
        // Mapping twice from one value (the second takes a fresh table).
        for mapped in [
            colors.clone().into_quantized(&image, &hist).unwrap(),
            colors.clone().into_quantized(&image, &hist).unwrap(),
        ] {
            assert_eq!(mapped.image(), q.image());
            assert_eq!(mapped.inertia(), q.inertia());
            assert_eq!(mapped.delta_e(), q.delta_e());
        }
    }
}

#[test]
fn quantized_colours_refuse_another_image() {
    let img = coffee();
    let hist = pixmeans_core::ColorHistogram::from_image(&img);
    let colors = Quantizer::new(KMeansParams::new(4))
        .quantize_colors(&img, &hist)
        .unwrap();
    let other = banded(80, 60, &FIVE, 9, 1);
    let other = ImageRef::new(80, 60, PixelFormat::Rgb8, &other).unwrap();
    let other_hist = pixmeans_core::ColorHistogram::from_image(&other);
    let top = ImageRef::new(80, 30, PixelFormat::Rgb8, &img.data()[..80 * 30 * 3]).unwrap();
    for (image, hist) in [(&img, &other_hist), (&other, &other_hist), (&top, &hist)] {
        assert_eq!(
            colors.clone().into_quantized(image, hist).unwrap_err(),
            pixmeans_core::QuantizeError::NotTheSameImage
        );
    }
}

#[test]
fn what_a_histogram_keeps_for_several_fits_changes_no_result() {
    let img = coffee();
    let fresh = ColorHistogram::from_image(&img);
    for space in ColorSpace::ALL {
        // Kept by a first fit in this space, and in another one (then unused).
        let kept = ColorHistogram::from_image(&img);
        kept.keep_for_several_fits();
        let other = ColorHistogram::from_image(&img);
        other.keep_for_several_fits();
        let elsewhere = ColorSpace::ALL.into_iter().find(|&s| s != space).unwrap();
        Quantizer::new(KMeansParams::new(3))
            .with_color_space(elsewhere)
            .quantize_counted(&img, &other)
            .unwrap();
        for k in [1, 6, 40, 256] {
            for init in [Init::KMeansPlusPlus, Init::Wu] {
                let q = Quantizer::new(KMeansParams::new(k).with_init(init.clone()))
                    .with_color_space(space);
                let expected = q.quantize_counted(&img, &fresh).unwrap();
                for hist in [&kept, &other] {
                    let got = q.quantize_counted(&img, hist).unwrap();
                    let what = format!("{space}, k = {k}, {}", init.name());
                    assert_eq!(got.image(), expected.image(), "{what}");
                    assert_eq!(got.fit(), expected.fit(), "{what}");
                    assert_eq!(got.inertia(), expected.inertia(), "{what}");
                    assert_eq!(got.mse(), expected.mse(), "{what}");
                    assert_eq!(got.delta_e(), expected.delta_e(), "{what}");
                }
            }
        }
    }
}
