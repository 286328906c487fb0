//! Partly transparent pixels: clustered by colour and opacity together.

use pixmeans_core::{
    AlphaMode, ColorHistogram, ColorSpace, Dither, ImageRef, KMeansParams, KTarget, PixelFormat,
    QuantizeError, Quantized, Quantizer, knee_k, smallest_k,
};

use crate::COFFEE;

/// The coffee crop under a round vignette of opacity: opaque in the
/// middle, fading through every alpha to fully transparent at the corners.
fn vignette() -> Vec<u8> {
    let (w, h) = (80.0f64, 60.0f64);
    COFFEE
        .chunks_exact(3)
        .enumerate()
        .flat_map(|(i, p)| {
            let (x, y) = ((i % 80) as f64 - w / 2.0, (i / 80) as f64 - h / 2.0);
            let r = (x * x + y * y).sqrt() / 25.0;
            let alpha = (255.0 * (2.0 - r)).clamp(0.0, 255.0) as u8;
            [p[0], p[1], p[2], alpha]
        })
        .collect()
}

/// MSE in 8-bit RGB of the indexed image against `rgba`, pixel by pixel,
/// each composited over black and over white (the mean of the two), fully
/// transparent pixels left out.
fn composited_mse(rgba: &[u8], q: &Quantized) -> f64 {
    let pal = q.image().palette().colors();
    let (mut sse, mut n) = (0.0, 0u64);
    for (p, &i) in rgba.chunks_exact(4).zip(q.image().indices()) {
        if p[3] == 0 {
            continue;
        }
        let e = pal[usize::from(i)];
        let (pa, ea) = (f64::from(p[3]) / 255.0, f64::from(e[3]) / 255.0);
        for background in [0.0, 255.0] {
            for c in 0..3 {
                let shown = |v: u8, a: f64| f64::from(v) * a + background * (1.0 - a);
                sse += (shown(p[c], pa) - shown(e[c], ea)).powi(2) / 2.0;
            }
        }
        n += 1;
    }
    sse / (3.0 * n as f64)
}

#[test]
fn a_fading_image_is_fitted_in_colour_and_opacity() {
    let rgba = vignette();
    let image = ImageRef::new(80, 60, PixelFormat::Rgba8, &rgba).unwrap();
    for space in ColorSpace::ALL {
        let quantizer = Quantizer::new(KMeansParams::new(16)).with_color_space(space);
        let q = quantizer.quantize(&image).unwrap();
        assert!(q.clustered_opacity());
        let pal = q.image().palette();
        let t = pal.transparent_index().unwrap();
        assert_eq!(pal.len(), 17);
        assert!(
            pal.colors().iter().any(|c| c[3] > 0 && c[3] < 255),
            "{space}"
        );
        for (p, &i) in rgba.chunks_exact(4).zip(q.image().indices()) {
            assert_eq!(p[3] == 0, usize::from(i) == t, "{space}");
        }
        // The reported MSE is that of the pixels as written.
        let mse = composited_mse(&rgba, &q);
        assert!(
            (q.mse() - mse).abs() <= 1e-9 * mse,
            "{space}: {} {mse}",
            q.mse()
        );
        assert!(q.mse() > 0.0 && q.delta_e().mean > 0.0);
        // Deterministic, whatever the threads.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let again = pool.install(|| quantizer.quantize(&image).unwrap());
        assert_eq!(again.image(), q.image(), "{space}");
        assert_eq!(again.inertia().to_bits(), q.inertia().to_bits(), "{space}");
        assert_eq!(again.mse().to_bits(), q.mse().to_bits(), "{space}");
    }
}

#[test]
fn opacity_clustered_beats_colour_alone_by_far() {
    let rgba = vignette();
    let image = ImageRef::new(80, 60, PixelFormat::Rgba8, &rgba).unwrap();
    let fitted = Quantizer::new(KMeansParams::new(16))
        .quantize(&image)
        .unwrap();
    let opaque = Quantizer::new(KMeansParams::new(16))
        .with_alpha(AlphaMode::Opaque)
        .quantize(&image)
        .unwrap();
    assert!(!opaque.clustered_opacity());
    assert!(
        opaque
            .image()
            .palette()
            .colors()
            .iter()
            .all(|c| c[3] == 0 || c[3] == 255)
    );
    // Measured alike, writing the vignette opaque is far worse.
    let (good, bad) = (
        composited_mse(&rgba, &fitted),
        composited_mse(&rgba, &opaque),
    );
    assert!(bad > 20.0 * good, "{good} {bad}");
}

#[test]
fn dithering_diffuses_colour_and_opacity_but_keeps_opaque_pixels_opaque() {
    let rgba = vignette();
    let image = ImageRef::new(80, 60, PixelFormat::Rgba8, &rgba).unwrap();
    let quantizer = Quantizer::new(KMeansParams::new(8)).with_dither(Dither::FLOYD_STEINBERG);
    let q = quantizer.quantize(&image).unwrap();
    assert!(q.clustered_opacity());
    let pal = q.image().palette().colors();
    let t = q.image().palette().transparent_index().unwrap();
    // The opacity of the partly transparent pixels, and as written.
    let (mut before, mut after) = (0u64, 0u64);
    for (p, &i) in rgba.chunks_exact(4).zip(q.image().indices()) {
        match p[3] {
            0 => assert_eq!(usize::from(i), t),
            255 => assert_ne!(usize::from(i), t),
            a => {
                before += u64::from(a);
                after += u64::from(pal[usize::from(i)][3]);
            }
        }
    }
    // The opacity passed on keeps their total opacity within 1 %.
    let drift = (after as f64 - before as f64).abs() / before as f64;
    assert!(drift < 0.01, "{drift}");
    // The figures are those of the dithered pixels.
    let mse = composited_mse(&rgba, &q);
    assert!((q.mse() - mse).abs() <= 1e-9 * mse, "{} {mse}", q.mse());
    assert!(q.counts().iter().sum::<u64>() <= q.fitted_pixels());
    // The same whatever the threads.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let again = pool.install(|| quantizer.quantize(&image).unwrap());
    assert_eq!(again.image(), q.image());
}

/// The least opacity that an opaque pixel of `rgba` is written with.
fn least_opacity_of_opaque(rgba: &[u8], q: &Quantized) -> Option<u8> {
    let pal = q.image().palette().colors();
    rgba.chunks_exact(4)
        .zip(q.image().indices())
        .filter(|(p, _)| p[3] == 255)
        .map(|(_, &i)| pal[usize::from(i)][3])
        .min()
}

/// The share of `rgba`'s opaque pixels that are written opaque.
fn opaque_kept(rgba: &[u8], q: &Quantized) -> f64 {
    let pal = q.image().palette().colors();
    let (mut opaque, mut kept) = (0u32, 0u32);
    for (p, &i) in rgba.chunks_exact(4).zip(q.image().indices()) {
        if p[3] == 255 {
            opaque += 1;
            kept += u32::from(pal[usize::from(i)][3] == 255);
        }
    }
    f64::from(kept) / f64::from(opaque)
}

#[test]
fn the_opaque_middle_of_a_soft_edged_photo_stays_opaque() {
    // The fit's centroids of the middle take in nearly opaque edge pixels,
    // and would let the background show through most opaque pixels.
    let rgba = vignette();
    let image = ImageRef::new(80, 60, PixelFormat::Rgba8, &rgba).unwrap();
    for space in ColorSpace::ALL {
        for k in [4, 8, 16, 64] {
            for dither in [Dither::None, Dither::FLOYD_STEINBERG] {
                let quantizer = Quantizer::new(KMeansParams::new(k))
                    .with_color_space(space)
                    .with_dither(dither);
                let q = quantizer.quantize(&image).unwrap();
                let kept = opaque_kept(&rgba, &q);
                // 0.80 to 1 (0 in sRGB at k = 4 with the centroids).
                assert!(kept >= 0.75, "{space} k = {k} {dither:?}: {kept}");
            }
        }
    }
}

#[test]
fn a_cluster_with_a_see_through_centroid_keeps_it() {
    // 40 % opaque black over 60 % black at half opacity: one cluster at
    // k = 1, opaque 40 % of the time, of centroid alpha 179. Made opaque,
    // the shadow would turn solid.
    let rgba: Vec<u8> = (0..200)
        .flat_map(|i| [0, 0, 0, if i < 80 { 255 } else { 128 }])
        .collect();
    let image = ImageRef::new(20, 10, PixelFormat::Rgba8, &rgba).unwrap();
    let q = Quantizer::new(KMeansParams::new(1))
        .quantize(&image)
        .unwrap();
    let alpha = q.image().palette().colors()[0][3];
    assert!((170..190).contains(&alpha), "{alpha}");
}

#[test]
fn the_inertia_is_that_of_the_entries_written() {
    // Some clusters of the vignette get an opaque entry: in sRGB the
    // inertia is still the MSE's sum (to the palette's rounding).
    let rgba = vignette();
    let image = ImageRef::new(80, 60, PixelFormat::Rgba8, &rgba).unwrap();
    for k in [4, 16] {
        let q = Quantizer::new(KMeansParams::new(k))
            .quantize(&image)
            .unwrap();
        let pal = q.image().palette().colors();
        assert!(pal.iter().any(|c| c[3] == 255), "k = {k}: {pal:?}");
        let sum = 3.0 * q.fitted_pixels() as f64 * q.mse();
        assert!(
            (sum / q.inertia() - 1.0).abs() < 2e-3,
            "k = {k}: {sum} {}",
            q.inertia()
        );
    }
}

#[test]
fn dithering_a_soft_edged_photo_stays_near_its_plain_mapping() {
    // The clusters of the vignette's opaque middle take in a few of its
    // nearly opaque pixels, so that few entries or none are quite opaque:
    // opaque pixels must still find their nearest entry.
    let rgba = vignette();
    let image = ImageRef::new(80, 60, PixelFormat::Rgba8, &rgba).unwrap();
    for space in ColorSpace::ALL {
        for k in [8, 32, 128] {
            let plain = Quantizer::new(KMeansParams::new(k)).with_color_space(space);
            let dithered = plain.clone().with_dither(Dither::FLOYD_STEINBERG);
            let (plain, dithered) = (
                plain.quantize(&image).unwrap(),
                dithered.quantize(&image).unwrap(),
            );
            let (p, d) = (
                composited_mse(&rgba, &plain),
                composited_mse(&rgba, &dithered),
            );
            assert!(d < 2.0 * p, "{space} k = {k}: {p} {d}");
            // No see-through dots in the opaque middle: no opaque pixel
            // is more transparent than without dithering.
            let least = least_opacity_of_opaque(&rgba, &dithered);
            let floor = least_opacity_of_opaque(&rgba, &plain);
            assert!(least >= floor, "{space} k = {k}: {least:?} {floor:?}");
        }
    }
}

#[test]
fn as_many_colours_with_opacity_as_k_are_copied_exactly() {
    // Two colours, each opaque and at two opacities, and a transparent
    // corner: six entries and the transparent one.
    let values = [
        [200, 10, 10, 255],
        [200, 10, 10, 7],
        [200, 10, 10, 140],
        [0, 90, 255, 255],
        [0, 90, 255, 60],
        [0, 90, 255, 254],
    ];
    let mut rgba: Vec<u8> = (0..36).flat_map(|i| values[i % 6]).collect();
    rgba[..4].copy_from_slice(&[1, 2, 3, 0]);
    let image = ImageRef::new(6, 6, PixelFormat::Rgba8, &rgba).unwrap();
    for k in [6, 7, 255] {
        let q = Quantizer::new(KMeansParams::new(k))
            .quantize(&image)
            .unwrap();
        assert_eq!(q.distinct_colors(), 6);
        assert_eq!((q.mse(), q.inertia()), (0.0, 0.0), "k = {k}");
        let back = q.image().to_rgba();
        assert_eq!(back[..4], [0, 0, 0, 0]);
        assert_eq!(back[4..], rgba[4..], "k = {k}");
    }
    // One fewer: the nearest two merge, and the result is no longer exact.
    let q = Quantizer::new(KMeansParams::new(5))
        .quantize(&image)
        .unwrap();
    assert_eq!(q.image().palette().len(), 6);
    assert!(q.mse() > 0.0);
}

#[test]
fn a_fit_on_a_copy_maps_every_pixel_with_its_opacity() {
    let rgba = vignette();
    let image = ImageRef::new(80, 60, PixelFormat::Rgba8, &rgba).unwrap();
    let q = Quantizer::new(KMeansParams::new(8))
        .with_max_pixels(Some(1200))
        .quantize(&image)
        .unwrap();
    assert!(q.sample_size().is_some());
    assert!(q.clustered_opacity());
    assert!(q.fitted_pixels() <= 1200);
    let mse = composited_mse(&rgba, &q);
    assert!((q.mse() - mse).abs() <= 1e-9 * mse, "{} {mse}", q.mse());
}

#[test]
fn a_search_over_k_counts_each_colour_at_each_opacity() {
    // One colour at every opacity: 255 colours to cluster, one by RGB.
    let rgba: Vec<u8> = (0..=255u8).flat_map(|a| [10, 20, 30, a]).collect();
    let image = ImageRef::new(16, 16, PixelFormat::Rgba8, &rgba).unwrap();
    let hist = ColorHistogram::from_image(&image);
    let quantizer = Quantizer::new(KMeansParams::new(1));
    let (choice, q) = smallest_k(&quantizer, &image, &hist, KTarget::MinPsnr(40.0)).unwrap();
    assert!(choice.met && choice.k > 1, "{choice:?}");
    assert!(q.psnr() >= 40.0);
    let (choice, _) = knee_k(&quantizer, &image, &hist, 1..=16).unwrap();
    assert_eq!(choice.trials.len(), 16);
}

#[test]
fn colours_quantized_from_another_histogram_are_refused() {
    let rgba = [
        [200, 0, 0, 255],
        [0, 0, 200, 30],
        [0, 0, 200, 30],
        [0, 0, 200, 255],
    ]
    .concat();
    let image = ImageRef::new(4, 1, PixelFormat::Rgba8, &rgba).unwrap();
    let hist = ColorHistogram::from_image(&image);
    let colors = Quantizer::new(KMeansParams::new(3))
        .quantize_colors(&image, &hist)
        .unwrap();
    // The same colours and counts, without the partly transparent ones.
    let other = ColorHistogram::from_counts(hist.iter(), hist.transparent());
    assert!(matches!(
        colors.into_quantized(&image, &other),
        Err(QuantizeError::NotTheSameImage)
    ));
}

#[test]
fn dithering_never_gives_opaque_pixels_the_transparent_entry() {
    // Opaque white with four black pixels, white at alpha 200, and a
    // transparent third: black is nearer the transparent entry's point
    // than the white entries'.
    let rgba: Vec<u8> = (0..20 * 30)
        .flat_map(|i| {
            let (x, y) = (i % 30, i / 30);
            match x {
                4 | 5 if y == 9 || y == 10 => [0, 0, 0, 255],
                0..10 => [255, 255, 255, 255],
                10..20 => [255, 255, 255, 200],
                _ => [0, 0, 0, 0],
            }
        })
        .collect();
    let image = ImageRef::new(30, 20, PixelFormat::Rgba8, &rgba).unwrap();
    let q = Quantizer::new(KMeansParams::new(2))
        .with_dither(Dither::FLOYD_STEINBERG)
        .quantize(&image)
        .unwrap();
    let pal = q.image().palette().colors();
    for (p, &i) in rgba.chunks_exact(4).zip(q.image().indices()) {
        if p[3] == 255 {
            assert!(pal[usize::from(i)][3] >= 200, "{p:?}");
        }
    }
}
