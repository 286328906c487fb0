//! Segmentation: every pixel labelled with a cluster, the connected regions
//! those labels form, small regions merged into their neighbours, and
//! figures per cluster.
//!
//! Start with [`Segmenter`]. With a spatial weight of 0 (the default) it
//! clusters colours only, with the exact histogram k-means of
//! [`Quantizer`], so its labels are the quantized image's indices (for k
//! above 256, which no indexed image holds, the same fit labels pixels
//! directly). With a positive weight it clusters colour plus position (see
//! [`spatial`]).
//! Then, when asked, regions below a minimum size are merged into their
//! neighbours (see [`Segmenter::with_min_region`]), and the clusters are put
//! in their final order: most pixels first, ties by lightness (Oklab L,
//! lightest first). The order, and every figure (the centroids too),
//! describe the merged result.
//!
//! ```
//! use pixmeans_core::{ImageRef, KMeansParams, PixelFormat, Quantizer, Segmenter};
//! // A 6 x 2 image: four red pixels on the left, eight blue ones.
//! let mut px = Vec::new();
//! for _ in 0..2 {
//!     px.extend([[250, 0, 0], [250, 0, 0], [0, 0, 250], [0, 0, 250], [0, 0, 250], [0, 0, 250]].concat());
//! }
//! let image = ImageRef::new(6, 2, PixelFormat::Rgb8, &px)?;
//! let seg = Segmenter::new(Quantizer::new(KMeansParams::new(2))).segment(&image)?;
//! assert_eq!(seg.labels().labels()[..6], [1, 1, 0, 0, 0, 0]);
//! let blue = &seg.clusters()[0];
//! assert_eq!((blue.color, blue.pixels, blue.regions), ([0, 0, 250], 8, 1));
//! assert_eq!((blue.bbox.x0, blue.bbox.x1), (2, 5));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod labels;
mod many_colors;
mod merge;
mod regions;
pub mod spatial;
mod stats;

pub use labels::LabelMap;
pub use regions::{Connectivity, Regions};
pub use stats::{BoundingBox, Cluster, region_means};

use crate::color::{ColorSpace, Point};
use crate::image::ImageRef;
use crate::kmeans::ranks;
use crate::palette::{PaletteSize, cluster_order};
use crate::quantize::{QuantizeError, Quantized, Quantizer};

/// The most clusters a segmentation may have: its labels, and the void
/// label after them (see [`LabelMap`]), must fit 16 bits.
pub const MAX_CLUSTERS: usize = (1 << 16) - 1;

/// Why an image could not be segmented.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// Clustering colours failed.
    #[error(transparent)]
    Quantize(#[from] QuantizeError),
    /// The spatial weight is not a number from 0 to [`spatial::MAX_WEIGHT`].
    #[error("the spatial weight must be a number from 0 to {max}, got {0}", max = spatial::MAX_WEIGHT)]
    SpatialWeight(f64),
    /// The minimum region size is larger than the image.
    #[error("the minimum region size {min_region} is larger than the image ({pixels} pixels)")]
    MinRegion {
        /// The minimum asked for.
        min_region: u64,
        /// Pixels in the image.
        pixels: u64,
    },
    /// k is above [`MAX_CLUSTERS`].
    #[error("k = {0} is too many clusters: labels hold 1 to {MAX_CLUSTERS}")]
    TooManyClusters(usize),
    /// A label map does not hold one label per pixel.
    #[error("a {width} x {height} label map needs one label per pixel, got {labels}")]
    LabelCount {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Labels given.
        labels: usize,
    },
    /// A label is above the void label.
    #[error("label {label} at pixel {position} is past the {clusters} clusters and the void label")]
    LabelOutOfRange {
        /// The label.
        label: u32,
        /// Its position.
        position: usize,
        /// The number of clusters.
        clusters: u32,
    },
}

/// Segments images: clustering settings, spatial weight, minimum region
/// size and connectivity.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Segmenter {
    quantizer: Quantizer,
    spatial: f64,
    min_region: u64,
    connectivity: Connectivity,
}

/// How the clusters were fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitSummary {
    /// Whether position took part ([`Segmenter::with_spatial`] above 0).
    pub spatial: bool,
    /// Pixels the fit ran on: every opaque pixel, those of a downscaled
    /// copy, or those of the spatial sample.
    pub fitted_pixels: u64,
    /// Lloyd iterations of the kept run.
    pub iterations: usize,
    /// Whether it met the tolerance.
    pub converged: bool,
    /// The k-means objective over every opaque pixel before any merging, in
    /// the working space (with position for a spatial fit).
    pub inertia: f64,
}

/// An image segmented.
#[derive(Debug, Clone)]
pub struct Segmentation {
    labels: LabelMap,
    regions: Regions,
    clusters: Vec<Cluster>,
    space: ColorSpace,
    fit: FitSummary,
    fitted_clusters: usize,
    found_regions: usize,
    merged: usize,
    inertia: f64,
}

impl Segmenter {
    /// Segments with these clustering settings (k, seed, colour space and
    /// `max_pixels`), by colour alone, merging nothing, 8-connected.
    /// Partly transparent pixels count as their colour
    /// ([`AlphaMode::Opaque`](crate::AlphaMode::Opaque) is set).
    pub fn new(quantizer: Quantizer) -> Self {
        Segmenter {
            quantizer: quantizer.with_alpha(crate::AlphaMode::Opaque),
            spatial: 0.0,
            min_region: 0,
            connectivity: Connectivity::Eight,
        }
    }

    /// Weight W of position against colour, 0 to [`spatial::MAX_WEIGHT`]
    /// (see [`spatial`] for the exact features). Above 0 the fit runs on a
    /// sample of `max_pixels` pixels ([`spatial::DEFAULT_SAMPLE`] when not
    /// set). Default 0: colour only. Either way k may go up to
    /// [`MAX_CLUSTERS`].
    pub fn with_spatial(mut self, weight: f64) -> Self {
        self.spatial = weight;
        self
    }

    /// Merge connected regions of fewer than this many pixels into their
    /// neighbours: the smallest region first (ties: first in raster order)
    /// goes to the neighbouring region it shares the most pixel edges with
    /// (ties: the larger, then the first in raster order), taking its
    /// label; regions of that label it touched are joined to it; sizes are
    /// recomputed and the next smallest goes, until none is below the
    /// minimum or none can move. Transparent pixels never merge nor absorb.
    /// A cluster that gains or loses pixels has its centroid moved by
    /// exactly those pixels (one k-means update), so a centroid that was
    /// the mean of its pixels still is.
    /// At most the image's pixel count. Default 0: merge nothing (as does 1).
    pub fn with_min_region(mut self, min_region: u64) -> Self {
        self.min_region = min_region;
        self
    }

    /// Which neighbours join pixels into regions, for merging and for the
    /// region figures. Default [`Connectivity::Eight`].
    pub fn with_connectivity(mut self, connectivity: Connectivity) -> Self {
        self.connectivity = connectivity;
        self
    }

    /// The clustering settings.
    pub fn quantizer(&self) -> &Quantizer {
        &self.quantizer
    }

    /// The spatial weight.
    pub fn spatial(&self) -> f64 {
        self.spatial
    }

    /// The minimum region size.
    pub fn min_region(&self) -> u64 {
        self.min_region
    }

    /// The connectivity.
    pub fn connectivity(&self) -> Connectivity {
        self.connectivity
    }

    /// Checks the settings against an image of `pixels` pixels.
    ///
    /// # Errors
    ///
    /// - [`SegmentError::SpatialWeight`] when the spatial weight is not a
    ///   number from 0 to [`spatial::MAX_WEIGHT`];
    /// - [`SegmentError::MinRegion`] when the minimum region is above `pixels`;
    /// - [`SegmentError::TooManyClusters`] when k is above [`MAX_CLUSTERS`].
    pub fn validate(&self, pixels: u64) -> Result<(), SegmentError> {
        if !(self.spatial.is_finite() && (0.0..=spatial::MAX_WEIGHT).contains(&self.spatial)) {
            return Err(SegmentError::SpatialWeight(self.spatial));
        }
        if self.min_region > pixels {
            return Err(SegmentError::MinRegion {
                min_region: self.min_region,
                pixels,
            });
        }
        let k = self.quantizer.params().k();
        if k > MAX_CLUSTERS {
            return Err(SegmentError::TooManyClusters(k));
        }
        Ok(())
    }

    /// Segments `image`.
    ///
    /// # Errors
    ///
    /// - any error of [`validate`](Self::validate) for the image's pixel count;
    /// - [`SegmentError::Quantize`] with [`QuantizeError::Params`] or
    ///   [`QuantizeError::ZeroMaxPixels`] when the k-means settings are invalid
    ///   or `max_pixels` is `Some(0)`, or with [`QuantizeError::DitherLevel`]
    ///   when [`Quantizer::quantize`] clusters the colours and the dithering
    ///   level is outside 0 < level ≤ 1.
    pub fn segment(&self, image: &ImageRef<'_>) -> Result<Segmentation, SegmentError> {
        self.validate(image.pixel_count() as u64)?;
        let params = self.quantizer.params();
        // 256 clusters and a transparent entry overflow an indexed image
        // (where quantize would fit 255): label the pixels as for a larger k.
        let fits = params.k() < PaletteSize::MAX.get()
            || (params.k() == PaletteSize::MAX.get() && !has_transparent_pixels(image));
        if self.spatial == 0.0 && fits {
            let q = self.quantizer.quantize(image)?;
            return self.segment_quantized(image, &q);
        }
        params.validate().map_err(QuantizeError::from)?;
        if self.quantizer.max_pixels() == Some(0) {
            return Err(QuantizeError::ZeroMaxPixels.into());
        }
        let space = self.quantizer.color_space();
        if self.spatial == 0.0 {
            let (map, centroids, colors, summary) =
                many_colors::segment(image, params, space, self.quantizer.max_pixels())?;
            return Ok(self.finish(image, map, &centroids, &colors, summary));
        }
        let sample = self
            .quantizer
            .max_pixels()
            .unwrap_or(spatial::DEFAULT_SAMPLE);
        let features =
            spatial::SpatialFeatures::new(space, self.spatial, image.width(), image.height());
        let positions = spatial::sample_opaque_pixels(image, sample, params.seed());
        let fit = spatial::fit(&features.of_pixels_within(image, &positions), params);
        let n = fit.centroids.len() as u32;
        let (labels, inertia) = spatial::assign(image, &features, &fit.centroids, n);
        let centroids: Vec<Point> = fit.centroids.iter().map(|c| [c[0], c[1], c[2]]).collect();
        let colors: Vec<[u8; 3]> = centroids.iter().map(|&c| space.to_srgb(c)).collect();
        let map = LabelMap::new(image.width(), image.height(), n, labels)?;
        let summary = FitSummary {
            spatial: true,
            fitted_pixels: fit.fitted_pixels,
            iterations: fit.iterations,
            converged: fit.converged,
            inertia,
        };
        Ok(self.finish(image, map, &centroids, &colors, summary))
    }

    /// Segments `image` by colour alone from its quantization `q` (made with
    /// this segmenter's settings, or with another k, such as one that
    /// [`choose_k`](crate::choose_k) chose).
    /// Fails with [`QuantizeError::NotTheSameImage`] when `q` is of an
    /// image of another size.
    ///
    /// # Errors
    ///
    /// - any error of [`validate`](Self::validate) for the image's pixel count;
    /// - [`SegmentError::Quantize`] with [`QuantizeError::NotTheSameImage`]
    ///   when `q` is not the size of `image`.
    pub fn segment_quantized(
        &self,
        image: &ImageRef<'_>,
        q: &Quantized,
    ) -> Result<Segmentation, SegmentError> {
        self.validate(image.pixel_count() as u64)?;
        let indexed = q.image();
        if (indexed.width(), indexed.height()) != (image.width(), image.height()) {
            return Err(QuantizeError::NotTheSameImage.into());
        }
        let palette = indexed.palette();
        let n = palette.color_count();
        let labels = indexed.indices().iter().map(|&i| u32::from(i)).collect();
        let map = LabelMap::new(indexed.width(), indexed.height(), n as u32, labels)?;
        let summary = FitSummary {
            spatial: false,
            fitted_pixels: q.fitted_pixels(),
            iterations: q.fit().iterations(),
            converged: q.fit().converged(),
            inertia: q.inertia(),
        };
        Ok(self.finish(
            image,
            map,
            q.fit().centroids(),
            &palette.rgb()[..n],
            summary,
        ))
    }

    /// Merges small regions, orders the clusters and takes their figures.
    fn finish(
        &self,
        image: &ImageRef<'_>,
        mut map: LabelMap,
        centroids: &[Point],
        colors: &[[u8; 3]],
        fit: FitSummary,
    ) -> Segmentation {
        let mut regions = Regions::find(&map, self.connectivity);
        let found_regions = clustered(&regions, map.void());
        let fitted_clusters = centroids.len();
        let mut merged = 0;
        let (mut centroids, mut colors) = (centroids.to_vec(), colors.to_vec());
        let space = self.quantizer.color_space();
        if self.min_region > 1 {
            merged = merge::merge_small(&mut map, &regions, self.connectivity, self.min_region);
            if merged > 0 {
                merge::recentre(image, &regions, &map, space, &mut centroids, &mut colors);
                regions = Regions::find(&map, self.connectivity);
            }
        }
        let dithered = self.quantizer.dither() != crate::Dither::None;
        let inertia = if merged > 0 || fit.spatial || dithered {
            stats::inertia(image, &map, space, &centroids)
        } else {
            fit.inertia
        };
        // Most pixels first, ties by lightness; clusters left empty go.
        let mut pixels = vec![0u64; map.clusters() as usize];
        for (&l, &size) in regions.labels().iter().zip(regions.sizes()) {
            if let Some(p) = pixels.get_mut(l as usize) {
                *p += size;
            }
        }
        let mut order = cluster_order(&pixels, |i| colors[i]);
        order.retain(|&c| pixels[c] > 0);
        let rank = ranks(&order, pixels.len());
        let old_void = map.void();
        map.relabel(&rank, order.len() as u32);
        regions.relabel(&rank, old_void, map.void());
        let centroids: Vec<Point> = order.iter().map(|&o| centroids[o]).collect();
        let colors: Vec<[u8; 3]> = order.iter().map(|&o| colors[o]).collect();
        let clusters = stats::clusters(&map, &regions, &centroids, &colors);
        Segmentation {
            labels: map,
            regions,
            clusters,
            space,
            fit,
            fitted_clusters,
            found_regions,
            merged,
            inertia,
        }
    }
}

/// Whether some pixel of `image` is fully transparent.
fn has_transparent_pixels(image: &ImageRef<'_>) -> bool {
    image.format() == crate::PixelFormat::Rgba8 && image.data().chunks_exact(4).any(|p| p[3] == 0)
}

/// The regions of `regions` whose label is not `void`.
fn clustered(regions: &Regions, void: u32) -> usize {
    regions.labels().iter().filter(|&&l| l != void).count()
}

impl Segmentation {
    /// The label of every pixel, clusters in their final order.
    pub fn labels(&self) -> &LabelMap {
        &self.labels
    }

    /// The connected regions of the labels.
    pub fn regions(&self) -> &Regions {
        &self.regions
    }

    /// The clusters, most pixels first (ties: lightest first).
    pub fn clusters(&self) -> &[Cluster] {
        &self.clusters
    }

    /// The working colour space of the centroids.
    pub fn color_space(&self) -> ColorSpace {
        self.space
    }

    /// How the clusters were fitted.
    pub fn fit(&self) -> &FitSummary {
        &self.fit
    }

    /// The clusters the fit gave: min(k, the distinct colours fitted, or
    /// the distinct points of a spatial sample). Merging can empty some,
    /// which [`clusters`](Self::clusters) leaves out.
    pub fn fitted_clusters(&self) -> usize {
        self.fitted_clusters
    }

    /// The connected regions of the fit's labels, before merging.
    pub fn found_regions(&self) -> usize {
        self.found_regions
    }

    /// The connected regions with a cluster (not of transparent pixels),
    /// after merging.
    pub fn clustered_regions(&self) -> usize {
        clustered(&self.regions, self.labels.void())
    }

    /// How many small regions were merged into neighbours: one per merge,
    /// so regions it joins together through a merged one are not counted
    /// (see [`Segmenter::with_min_region`]).
    pub fn merged_regions(&self) -> usize {
        self.merged
    }

    /// The k-means objective of the result, in colour alone: over every
    /// pixel with a cluster, the squared distance in the working space from
    /// its colour to its cluster's centroid, after any merging. Without
    /// merging, position or dithering it is the fit's
    /// ([`FitSummary::inertia`]).
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Fully transparent pixels, which belong to no cluster.
    pub fn transparent_pixels(&self) -> u64 {
        let void = self.labels.void();
        self.regions
            .labels()
            .iter()
            .zip(self.regions.sizes())
            .filter(|&(&l, _)| l == void)
            .map(|(_, &s)| s)
            .sum()
    }
}
