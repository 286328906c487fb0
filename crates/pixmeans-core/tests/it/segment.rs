//! Segmentation: shapes found pixel for pixel, specks of known size merged,
//! figures that match the labels, and the same result on any thread count.

use std::collections::VecDeque;

use pixmeans_core::{
    ColorSpace, Connectivity, Dither, ImageRef, KMeansParams, PixelFormat, Quantizer, Segmentation,
    Segmenter,
};

use crate::{Lcg, coffee};

const BACKGROUND: [u8; 3] = [200, 200, 190];
const RED: [u8; 3] = [210, 40, 40];
const GREEN: [u8; 3] = [40, 170, 60];
const BLUE: [u8; 3] = [40, 60, 200];

/// Which shape covers (x, y) in the 120 x 80 test picture: a red rectangle,
/// a green disc and a blue rectangle on a light background.
fn shape(x: u32, y: u32) -> [u8; 3] {
    let (dx, dy) = (f64::from(x) - 85.0, f64::from(y) - 50.0);
    if (10..40).contains(&x) && (10..30).contains(&y) {
        RED
    } else if dx * dx + dy * dy <= 15.0 * 15.0 {
        GREEN
    } else if (50..70).contains(&x) && (5..20).contains(&y) {
        BLUE
    } else {
        BACKGROUND
    }
}

/// The picture, every pixel its shape's colour ± 8.
fn shapes() -> Vec<u8> {
    let mut rng = Lcg(3);
    (0..80)
        .flat_map(|y| (0..120).map(move |x| shape(x, y)))
        .flat_map(|c| c.map(|v| rng.around(v, 8)))
        .collect()
}

fn segment(img: &ImageRef<'_>, k: usize, f: impl Fn(Segmenter) -> Segmenter) -> Segmentation {
    f(Segmenter::new(Quantizer::new(KMeansParams::new(k))))
        .segment(img)
        .unwrap()
}

/// Each cluster's mask is exactly one shape; checks the figures too.
fn assert_shapes_found(seg: &Segmentation) {
    let labels = seg.labels().labels();
    assert_eq!(seg.clusters().len(), 4);
    for (i, cluster) in seg.clusters().iter().enumerate() {
        let truth = [BACKGROUND, RED, GREEN, BLUE]
            .into_iter()
            .min_by_key(|t| {
                (0..3)
                    .map(|c| t[c].abs_diff(cluster.color[c]) as u32)
                    .sum::<u32>()
            })
            .unwrap();
        let mut count = 0;
        for y in 0..80 {
            for x in 0..120 {
                let inside = labels[(y * 120 + x) as usize] == i as u32;
                assert_eq!(inside, shape(x, y) == truth, "cluster {i} at {x},{y}");
                count += u64::from(inside);
            }
        }
        assert_eq!(cluster.pixels, count);
        assert_eq!(cluster.regions, 1);
        assert_eq!(cluster.largest_region, count);
    }
    // Background first: the largest; then the disc (707 px), the red
    // rectangle (600) and the blue one (300).
    let order: Vec<u64> = seg.clusters().iter().map(|c| c.pixels).collect();
    assert!(order.windows(2).all(|w| w[0] >= w[1]), "{order:?}");
    let red = seg.clusters().iter().find(|c| c.pixels == 600).unwrap();
    assert_eq!(
        (red.bbox.x0, red.bbox.y0, red.bbox.x1, red.bbox.y1),
        (10, 10, 39, 29)
    );
}

#[test]
fn rectangles_and_a_disc_are_found_pixel_for_pixel() {
    let px = shapes();
    let img = ImageRef::new(120, 80, PixelFormat::Rgb8, &px).unwrap();
    for space in ColorSpace::ALL {
        let seg = Segmenter::new(Quantizer::new(KMeansParams::new(4)).with_color_space(space))
            .segment(&img)
            .unwrap();
        assert_shapes_found(&seg);
    }
    // A light spatial weight keeps the colours apart and the shapes whole.
    assert_shapes_found(&segment(&img, 4, |s| s.with_spatial(0.1)));
}

#[test]
fn colour_labels_are_the_quantized_indices() {
    let img = coffee();
    let q = Quantizer::new(KMeansParams::new(6).with_seed(4))
        .quantize(&img)
        .unwrap();
    let seg = Segmenter::new(Quantizer::new(KMeansParams::new(6).with_seed(4)))
        .segment(&img)
        .unwrap();
    let labels: Vec<u8> = seg.labels().labels().iter().map(|&l| l as u8).collect();
    assert_eq!(labels, q.image().indices());
    let colors: Vec<[u8; 3]> = seg.clusters().iter().map(|c| c.color).collect();
    assert_eq!(colors, q.image().palette().rgb());
}

/// A 40 x 40 white picture with black specks of 1, 4, 9 and 25 pixels and a
/// diagonal pair of single black pixels.
fn specks() -> Vec<u8> {
    let black = |x: u32, y: u32| {
        (x, y) == (3, 3)
            || ((10..12).contains(&x) && (3..5).contains(&y))
            || ((20..23).contains(&x) && (3..6).contains(&y))
            || ((5..10).contains(&x) && (20..25).contains(&y))
            || (x, y) == (30, 30)
            || (x, y) == (31, 31)
    };
    (0..40)
        .flat_map(|y| (0..40).map(move |x| if black(x, y) { [0; 3] } else { [255; 3] }))
        .flatten()
        .collect()
}

#[test]
fn specks_below_the_minimum_are_merged() {
    let px = specks();
    let img = ImageRef::new(40, 40, PixelFormat::Rgb8, &px).unwrap();
    let black = |seg: &Segmentation| seg.clusters().iter().find(|c| c.color == [0; 3]).cloned();
    // Nothing merged: 1 + 4 + 9 + 25 + 2 black pixels.
    let seg = segment(&img, 2, |s| s);
    assert_eq!(black(&seg).unwrap().pixels, 41);
    assert_eq!(black(&seg).unwrap().regions, 5);
    // Under 8-connectivity the diagonal pair is one region of 2.
    let seg = segment(&img, 2, |s| s.with_min_region(10));
    let b = black(&seg).unwrap();
    assert_eq!((b.pixels, b.regions, b.largest_region), (25, 1, 25));
    assert_eq!(seg.merged_regions(), 4);
    let seg = segment(&img, 2, |s| s.with_min_region(2));
    assert_eq!(black(&seg).unwrap().pixels, 40);
    // Under 4-connectivity the pair is two specks of 1.
    let seg = segment(&img, 2, |s| {
        s.with_min_region(2).with_connectivity(Connectivity::Four)
    });
    assert_eq!(black(&seg).unwrap().pixels, 38);
    assert_eq!(seg.merged_regions(), 3);
    // Above every speck: black is gone, and white is all there is.
    let seg = segment(&img, 2, |s| s.with_min_region(26));
    assert_eq!(seg.clusters().len(), 1);
    assert_eq!(seg.clusters()[0].pixels, 1600);
    assert!(seg.labels().labels().iter().all(|&l| l == 0));
}

#[test]
fn merged_pixels_move_the_centroids() {
    let px = specks();
    let img = ImageRef::new(40, 40, PixelFormat::Rgb8, &px).unwrap();
    for (space, white, dark) in [
        (ColorSpace::Srgb, [252; 3], [0; 3]),
        (ColorSpace::Oklab, [251, 252, 252], [0; 3]),
    ] {
        let seg = Segmenter::new(Quantizer::new(KMeansParams::new(2)).with_color_space(space))
            .with_min_region(10)
            .segment(&img)
            .unwrap();
        // White took the 16 black pixels of the specks below 10: its
        // centroid is the mean of its 1575 pixels, in the working space.
        let w = &seg.clusters()[0];
        assert_eq!((w.pixels, w.color), (1575, white), "{space:?}");
        let mean = 1559.0 * space.from_srgb([255; 3])[0] / 1575.0;
        assert!(
            (w.centroid[0] - mean).abs() < 1e-4,
            "{space:?}: {:?}",
            w.centroid
        );
        // Black only lost pixels of its own colour: it stays where it was.
        let b = &seg.clusters()[1];
        assert_eq!((b.pixels, b.color), (25, dark), "{space:?}");
        assert!(b.centroid[0].abs() < 1e-6, "{space:?}: {:?}", b.centroid);
    }
}

/// Regions by breadth-first flood fill: (count, largest) per label.
fn flood(labels: &[u32], w: usize, eight: bool, k: usize) -> Vec<(usize, u64)> {
    let h = labels.len() / w;
    let mut seen = vec![false; labels.len()];
    let mut out = vec![(0usize, 0u64); k];
    for start in 0..labels.len() {
        if seen[start] {
            continue;
        }
        let l = labels[start];
        let mut size = 0;
        let mut queue = VecDeque::from([start]);
        seen[start] = true;
        while let Some(i) = queue.pop_front() {
            size += 1;
            let (x, y) = ((i % w) as i64, (i / w) as i64);
            for (dx, dy) in [
                (-1, -1),
                (0, -1),
                (1, -1),
                (-1, 0),
                (1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
            ] {
                if !eight && dx != 0 && dy != 0 {
                    continue;
                }
                let (nx, ny) = (x + dx, y + dy);
                if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
                    continue;
                }
                let j = (ny as usize) * w + nx as usize;
                if !seen[j] && labels[j] == l {
                    seen[j] = true;
                    queue.push_back(j);
                }
            }
        }
        let entry = &mut out[l as usize];
        entry.0 += 1;
        entry.1 = entry.1.max(size);
    }
    out
}

#[test]
fn figures_match_the_labels_after_merging() {
    let img = coffee();
    for (connectivity, eight) in [(Connectivity::Four, false), (Connectivity::Eight, true)] {
        for spatial in [0.0, 0.5] {
            let seg = segment(&img, 5, |s| {
                s.with_min_region(20)
                    .with_connectivity(connectivity)
                    .with_spatial(spatial)
            });
            let labels = seg.labels().labels();
            let k = seg.clusters().len();
            let regions = flood(labels, 80, eight, k);
            let mut total = 0;
            for (i, c) in seg.clusters().iter().enumerate() {
                let mine: Vec<usize> = (0..labels.len())
                    .filter(|&p| labels[p] == i as u32)
                    .collect();
                total += mine.len();
                assert_eq!(c.pixels, mine.len() as u64);
                assert_eq!((c.regions, c.largest_region), regions[i]);
                assert!(
                    c.largest_region >= 20,
                    "a region below the minimum survived"
                );
                let xs = mine.iter().map(|&p| (p % 80) as u32);
                let ys = mine.iter().map(|&p| (p / 80) as u32);
                assert_eq!(c.bbox.x0, xs.clone().min().unwrap());
                assert_eq!(c.bbox.x1, xs.max().unwrap());
                assert_eq!(c.bbox.y0, ys.clone().min().unwrap());
                assert_eq!(c.bbox.y1, ys.max().unwrap());
                assert!((c.share - c.pixels as f64 / 4800.0).abs() < 1e-12);
            }
            // Every pixel in exactly one cluster.
            assert_eq!(total, 4800);
            // The inertia is that of these labels and centroids, in colour.
            let inertia: f64 = img
                .data()
                .chunks_exact(3)
                .zip(labels)
                .map(|(p, &l)| {
                    let c = seg.clusters()[l as usize].centroid;
                    (0..3)
                        .map(|i| (f64::from(p[i]) - f64::from(c[i])).powi(2))
                        .sum::<f64>()
                })
                .sum();
            assert!(seg.merged_regions() > 0);
            assert!(
                (seg.inertia() - inertia).abs() < 1e-9 * inertia,
                "{} against {inertia}",
                seg.inertia()
            );
            assert!(spatial > 0.0 || seg.inertia() > seg.fit().inertia);
            let sizes: Vec<u64> = seg.clusters().iter().map(|c| c.pixels).collect();
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "{sizes:?}");
        }
    }
}

#[test]
fn the_inertia_is_of_the_labels_written() {
    // Dithered labels are not the fit's: the inertia is theirs.
    let img = coffee();
    let dithered = Segmenter::new(
        Quantizer::new(KMeansParams::new(4)).with_dither(Dither::FloydSteinberg { level: 1.0 }),
    )
    .segment(&img)
    .unwrap();
    let plain = segment(&img, 4, |s| s);
    assert_eq!(plain.inertia(), plain.fit().inertia);
    assert!(dithered.inertia() > 1.05 * dithered.fit().inertia);
    // Nothing to cluster: +0, not the -0 of an empty float sum.
    let clear = ImageRef::new(2, 2, PixelFormat::Rgba8, &[0; 16]).unwrap();
    for spatial in [0.0, 1.0] {
        let seg = segment(&clear, 2, |s| s.with_spatial(spatial));
        assert!(seg.inertia() == 0.0 && seg.inertia().is_sign_positive());
    }
}

#[test]
fn spatial_results_do_not_depend_on_threads() {
    let img = coffee();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                let seg = Segmenter::new(
                    Quantizer::new(KMeansParams::new(7).with_seed(9))
                        .with_color_space(ColorSpace::Oklab)
                        .with_max_pixels(Some(3000)),
                )
                .with_spatial(1.0)
                .with_min_region(15)
                .segment(&img)
                .unwrap();
                (
                    seg.labels().clone(),
                    seg.clusters().to_vec(),
                    seg.fit().inertia,
                    seg.inertia(),
                )
            })
    };
    assert_eq!(run(1), run(2));
    assert_eq!(run(1), run(3));
}

#[test]
fn transparent_pixels_belong_to_no_cluster() {
    // Left half transparent, right half two colours.
    let px: Vec<u8> = (0..20 * 10)
        .flat_map(|i| match i % 20 {
            0..10 => [0, 0, 0, 0],
            10..15 => [250, 0, 0, 255],
            _ => [0, 0, 250, 255],
        })
        .collect();
    let img = ImageRef::new(20, 10, PixelFormat::Rgba8, &px).unwrap();
    for spatial in [0.0, 1.0] {
        let seg = segment(&img, 2, |s| s.with_spatial(spatial).with_min_region(40));
        assert_eq!(seg.transparent_pixels(), 100);
        assert_eq!(seg.labels().void(), 2);
        let labels = seg.labels().labels();
        assert!((0..200).all(|i| (labels[i] == 2) == (i % 20 < 10)));
        // Merging the two halves (50 pixels each) leaves one cluster, and
        // the void label follows it down.
        let seg = segment(&img, 2, |s| s.with_spatial(spatial).with_min_region(60));
        assert_eq!(seg.labels().void(), 1);
        assert_eq!(seg.clusters()[0].pixels, 100);
        let shares: f64 = seg.clusters().iter().map(|c| c.share).sum();
        assert!((shares - 1.0).abs() < 1e-12);
    }
}

#[test]
fn more_clusters_than_an_indexed_image_holds() {
    // 1000 distinct colours, one per pixel.
    let px: Vec<u8> = (0..1000u32)
        .flat_map(|i| {
            [
                (i % 10 * 25) as u8,
                (i / 10 % 10 * 25) as u8,
                (i / 100 * 25) as u8,
            ]
        })
        .collect();
    let img = ImageRef::new(40, 25, PixelFormat::Rgb8, &px).unwrap();
    let seg = segment(&img, 400, |s| s);
    assert_eq!(seg.clusters().len(), 400);
    assert_eq!(seg.clusters().iter().map(|c| c.pixels).sum::<u64>(), 1000);
    // More clusters than colours: each colour is its own, exactly.
    let seg = segment(&img, 2000, |s| s);
    assert_eq!(seg.clusters().len(), 1000);
    for (i, &l) in seg.labels().labels().iter().enumerate() {
        assert_eq!(seg.clusters()[l as usize].color, px[i * 3..i * 3 + 3]);
    }
}

#[test]
fn k_256_with_transparent_pixels() {
    // 1000 opaque colours and 200 transparent pixels: 256 clusters and a
    // void label are one more than an indexed image holds, not a label map.
    let px: Vec<u8> = (0..1200u32)
        .flat_map(|i| {
            let c = i.min(999);
            let alpha = if i < 1000 { 255 } else { 0 };
            [
                (c % 10 * 25) as u8,
                (c / 10 % 10 * 25) as u8,
                (c / 100 * 25) as u8,
                alpha,
            ]
        })
        .collect();
    let img = ImageRef::new(40, 30, PixelFormat::Rgba8, &px).unwrap();
    for k in [255, 256, 257] {
        let seg = segment(&img, k, |s| s);
        assert_eq!(seg.clusters().len(), k);
        assert_eq!(seg.transparent_pixels(), 200);
        assert_eq!(seg.labels().void(), k as u32);
        let labels = seg.labels().labels();
        assert!((1000..1200).all(|i| labels[i] == k as u32));
        assert!((0..1000).all(|i| labels[i] < k as u32));
    }
}

#[test]
fn a_quantization_of_another_size_is_refused() {
    let px = shapes();
    let img = ImageRef::new(120, 80, PixelFormat::Rgb8, &px).unwrap();
    let small = ImageRef::new(40, 10, PixelFormat::Rgb8, &px[..40 * 10 * 3]).unwrap();
    let segmenter = Segmenter::new(Quantizer::new(KMeansParams::new(4)));
    let q = Quantizer::new(KMeansParams::new(4))
        .quantize(&small)
        .unwrap();
    assert!(matches!(
        segmenter.segment_quantized(&img, &q),
        Err(pixmeans_core::SegmentError::Quantize(
            pixmeans_core::QuantizeError::NotTheSameImage
        ))
    ));
}
