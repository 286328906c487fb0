//! Figures per cluster and of the whole segmentation (its inertia), and the
//! mean colour of every region.

use rayon::prelude::*;

use super::labels::LabelMap;
use super::regions::Regions;
use crate::color::{ColorSpace, Point};
use crate::image::ImageRef;

/// The k-means objective of `map` in colour alone: over every pixel with a
/// cluster, the squared distance in `space` from its colour to its
/// cluster's centroid. Partial sums are added in a fixed order of chunks,
/// so the figure does not depend on the number of threads.
pub(crate) fn inertia(
    image: &ImageRef<'_>,
    map: &LabelMap,
    space: ColorSpace,
    centroids: &[Point],
) -> f64 {
    const CHUNK: usize = 4096;
    let ch = image.format().channels();
    let partial: Vec<f64> = image
        .data()
        .par_chunks(CHUNK * ch)
        .zip(map.labels().par_chunks(CHUNK))
        .map(|(px, labels)| {
            px.chunks_exact(ch)
                .zip(labels)
                .filter_map(|(p, &l)| {
                    let c = centroids.get(l as usize)?;
                    let x = space.from_srgb([p[0], p[1], p[2]]);
                    Some(
                        (0..3)
                            .map(|i| (f64::from(x[i]) - f64::from(c[i])).powi(2))
                            .sum::<f64>(),
                    )
                })
                .sum()
        })
        .collect();
    // From +0.0: `Sum` starts at -0.0, the sum of nothing.
    partial.iter().fold(0.0, |a, b| a + b)
}

/// Rows per parallel work item.
const ROWS: usize = 64;

/// The smallest rectangle holding every pixel of a cluster; both corners are
/// inclusive, so a one-pixel cluster at (3, 4) has `x0 = x1 = 3`,
/// `y0 = y1 = 4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BoundingBox {
    /// Leftmost column.
    pub x0: u32,
    /// Top row.
    pub y0: u32,
    /// Rightmost column (inclusive).
    pub x1: u32,
    /// Bottom row (inclusive).
    pub y1: u32,
}

/// What a segmentation says about one cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// The centroid's colour in the working space.
    pub centroid: Point,
    /// The centroid as 8-bit sRGB.
    pub color: [u8; 3],
    /// Pixels in the cluster.
    pub pixels: u64,
    /// `pixels` over all opaque pixels of the image.
    pub share: f64,
    /// Where the cluster lies.
    pub bbox: BoundingBox,
    /// Connected regions in the cluster.
    pub regions: usize,
    /// Pixels in its largest connected region.
    pub largest_region: u64,
}

/// Per-cluster figures of a label map and its regions; `centroids` and
/// `colors` are indexed by cluster, and every cluster has pixels.
pub(crate) fn clusters(
    map: &LabelMap,
    regions: &Regions,
    centroids: &[Point],
    colors: &[[u8; 3]],
) -> Vec<Cluster> {
    let k = map.clusters() as usize;
    let mut pixels = vec![0u64; k];
    let mut count = vec![0usize; k];
    let mut largest = vec![0u64; k];
    for (&l, &size) in regions.labels().iter().zip(regions.sizes()) {
        if let Some(p) = pixels.get_mut(l as usize) {
            *p += size;
            count[l as usize] += 1;
            largest[l as usize] = largest[l as usize].max(size);
        }
    }
    let opaque: u64 = pixels.iter().sum();
    let boxes = bounding_boxes(map);
    (0..k)
        .map(|c| Cluster {
            centroid: centroids[c],
            color: colors[c],
            pixels: pixels[c],
            share: pixels[c] as f64 / opaque.max(1) as f64,
            bbox: boxes[c],
            regions: count[c],
            largest_region: largest[c],
        })
        .collect()
}

/// The bounding box of every cluster (a cluster without pixels gets an
/// empty box with `x0 > x1`).
fn bounding_boxes(map: &LabelMap) -> Vec<BoundingBox> {
    let (w, k) = (map.width() as usize, map.clusters() as usize);
    let empty = BoundingBox {
        x0: u32::MAX,
        y0: u32::MAX,
        x1: 0,
        y1: 0,
    };
    let grow = |b: &mut BoundingBox, o: &BoundingBox| {
        b.x0 = b.x0.min(o.x0);
        b.y0 = b.y0.min(o.y0);
        b.x1 = b.x1.max(o.x1);
        b.y1 = b.y1.max(o.y1);
    };
    let parts: Vec<Vec<BoundingBox>> = map
        .labels()
        .par_chunks(ROWS * w)
        .enumerate()
        .map(|(strip, labels)| {
            let mut boxes = vec![empty; k];
            for (i, &l) in labels.iter().enumerate() {
                if let Some(b) = boxes.get_mut(l as usize) {
                    let (x, y) = ((i % w) as u32, (strip * ROWS + i / w) as u32);
                    grow(
                        b,
                        &BoundingBox {
                            x0: x,
                            y0: y,
                            x1: x,
                            y1: y,
                        },
                    );
                }
            }
            boxes
        })
        .collect();
    let mut boxes = vec![empty; k];
    for part in &parts {
        for (b, p) in boxes.iter_mut().zip(part) {
            grow(b, p);
        }
    }
    boxes
}

/// The mean 8-bit sRGB colour of the pixels of every region (rounded;
/// fully transparent pixels, which form regions of their own, average to
/// their stored colour).
pub fn region_means(image: &ImageRef<'_>, regions: &Regions) -> Vec<[u8; 3]> {
    let ch = image.format().channels();
    // Integer sums: exact, so the order of addition does not matter.
    let mut sums = vec![[0u64; 3]; regions.len()];
    for (&id, p) in regions.ids().iter().zip(image.data().chunks_exact(ch)) {
        let s = &mut sums[id as usize];
        for c in 0..3 {
            s[c] += u64::from(p[c]);
        }
    }
    sums.iter()
        .zip(regions.sizes())
        .map(|(s, &n)| s.map(|v| ((v + n / 2) / n.max(1)) as u8))
        .collect()
}
