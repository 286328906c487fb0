//! Colour-only segmentation with more clusters than an indexed image holds
//! (257 to [`MAX_CLUSTERS`](super::MAX_CLUSTERS)).
//!
//! The same exact weighted k-means on the colour histogram as
//! [`Quantizer`](crate::Quantizer), with the same `max_pixels` rule, but the
//! labels go straight into a [`LabelMap`] instead of an 8-bit indexed image.

use rayon::prelude::*;

use super::labels::LabelMap;
use super::{FitSummary, SegmentError};
use crate::color::{ColorSpace, Point};
use crate::histogram::{ColorHistogram, slot};
use crate::image::{ImageRef, PIXEL_CHUNK};
use crate::kmeans::KMeansParams;
use crate::quantize::QuantizeError;

/// Labels, centroids, their sRGB colours and the fit.
pub(crate) type Labelled = (LabelMap, Vec<Point>, Vec<[u8; 3]>, FitSummary);

/// Clusters the colours of `image` into at most `params.k()` clusters.
pub(crate) fn segment(
    image: &ImageRef<'_>,
    params: &KMeansParams,
    space: ColorSpace,
    max_pixels: Option<usize>,
) -> Result<Labelled, SegmentError> {
    let hist = ColorHistogram::from_image(image);
    let points = hist.points_in(space);
    let weights = hist.weights();
    let k = params.k();
    let (fit, fitted_pixels) = if points.is_empty() {
        (None, 0)
    } else {
        // As the quantizer does: fit on a downscaled copy only when it still
        // holds at least k colours.
        let copy = max_pixels
            .filter(|_| hist.len() > k)
            .and_then(|m| image.downscaled(m))
            .map(|small| ColorHistogram::from_image(&small.view()))
            .filter(|h| h.len() >= k);
        let fit = match &copy {
            Some(h) => params.fit(&h.points_in(space), &h.weights()),
            None => params.fit(&points, &weights),
        }
        .map_err(QuantizeError::from)?;
        let fitted = copy
            .as_ref()
            .map_or(hist.visible(), ColorHistogram::visible);
        (Some(fit), fitted)
    };
    let centroids: Vec<Point> = fit
        .as_ref()
        .map_or_else(Vec::new, |f| f.centroids().to_vec());
    let nearest = fit.as_ref().map_or_else(Vec::new, |f| f.predict(&points));
    let inertia = nearest
        .iter()
        .zip(&weights)
        .map(|(&(_, d), &w)| w * f64::from(d))
        .sum();
    let colors: Vec<[u8; 3]> = if hist.len() <= k {
        // Every colour is its own cluster, in histogram order: copy it
        // rather than trust a round trip through the working space.
        let mut colors = vec![[0; 3]; centroids.len()];
        for (&(l, _), &c) in nearest.iter().zip(hist.colors()) {
            colors[l as usize] = c;
        }
        colors
    } else {
        centroids.par_iter().map(|&c| space.to_srgb(c)).collect()
    };
    let n = centroids.len() as u32;
    // A dense colour → label table: one load per pixel. Labels fit 16 bits.
    let mut table = vec![0u16; 1 << 24];
    for (&(l, _), &c) in nearest.iter().zip(hist.colors()) {
        table[slot(c)] = l as u16;
    }
    let ch = image.format().channels();
    let mut labels = vec![n; image.pixel_count()];
    labels
        .par_chunks_mut(PIXEL_CHUNK)
        .zip(image.data().par_chunks(PIXEL_CHUNK * ch))
        .for_each(|(out, px)| {
            for (o, p) in out.iter_mut().zip(px.chunks_exact(ch)) {
                if ch == 3 || p[3] != 0 {
                    *o = u32::from(table[slot([p[0], p[1], p[2]])]);
                }
            }
        });
    let map = LabelMap::new(image.width(), image.height(), n, labels)?;
    let summary = FitSummary {
        spatial: false,
        fitted_pixels,
        iterations: fit.as_ref().map_or(0, crate::Fit::iterations),
        converged: fit.as_ref().is_none_or(crate::Fit::converged),
        inertia,
    };
    Ok((map, centroids, colors, summary))
}
