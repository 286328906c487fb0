//! [`Quantizer`]: an image in, an [`IndexedImage`] of at most k colours and
//! its quality figures out.

use rayon::prelude::*;

use crate::color::{ColorSpace, Point};
use crate::histogram::ColorHistogram;
use crate::image::{ImageRef, IndexedImage};
use crate::kmeans::{Fit, KMeansError, KMeansParams};
use crate::metrics::{histogram_mse, psnr};
use crate::palette::{Palette, PaletteSize, PaletteSizeError};

/// Why an image could not be quantized.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QuantizeError {
    /// The k-means parameters are invalid.
    #[error(transparent)]
    Params(#[from] KMeansError),
    /// k does not fit an indexed image.
    #[error("k = {0} is too many colours for an indexed image, which holds 1 to 256")]
    TooManyColors(usize),
    /// The image has transparent pixels and k = 256, leaving no palette
    /// entry for them.
    #[error("k = 256 leaves no palette entry for the image's transparent pixels")]
    NoRoomForTransparency,
    /// `max_pixels` is 0.
    #[error("max_pixels must be at least 1")]
    ZeroMaxPixels,
}

/// Reduces an image to k colours by k-means on its colour histogram.
///
/// ```
/// use pixmeans_core::{ImageRef, KMeansParams, PixelFormat, Quantizer};
/// // A 4 x 1 image with two reds and two blues.
/// let pixels = [250, 0, 0, 240, 0, 0, 0, 0, 250, 0, 0, 240];
/// let image = ImageRef::new(4, 1, PixelFormat::Rgb8, &pixels)?;
/// let q = Quantizer::new(KMeansParams::new(2)).quantize(&image)?;
/// assert_eq!(q.image().palette().rgb(), [[245, 0, 0], [0, 0, 245]]);
/// assert_eq!(q.image().indices(), [0, 0, 1, 1]);
/// assert_eq!(q.mse(), 25.0 * 4.0 / 12.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct Quantizer {
    params: KMeansParams,
    space: ColorSpace,
    max_pixels: Option<usize>,
}

/// An image quantized: the indexed image, the fit behind it and its figures.
#[derive(Debug, Clone)]
pub struct Quantized {
    image: IndexedImage,
    fit: Fit,
    space: ColorSpace,
    inertia: f64,
    mse: f64,
    distinct_colors: usize,
    fitted_pixels: u64,
}

impl Quantizer {
    /// Quantizes with these k-means settings (k at most 256), in sRGB, fitting
    /// on every pixel.
    pub fn new(params: KMeansParams) -> Self {
        Quantizer {
            params,
            space: ColorSpace::Srgb,
            max_pixels: None,
        }
    }

    /// The space in which colours are clustered. Default [`ColorSpace::Srgb`].
    pub fn with_color_space(mut self, space: ColorSpace) -> Self {
        self.space = space;
        self
    }

    /// Fit on a copy shrunk to at most this many pixels (box filter) when the
    /// image is larger; every pixel of the full image is still mapped, and the
    /// reported figures are those of the full image. Default `None`: fit on
    /// every pixel.
    pub fn with_max_pixels(mut self, max_pixels: Option<usize>) -> Self {
        self.max_pixels = max_pixels;
        self
    }

    /// The k-means settings.
    pub fn params(&self) -> &KMeansParams {
        &self.params
    }

    /// The working colour space.
    pub fn color_space(&self) -> ColorSpace {
        self.space
    }

    /// The pixel budget of the fit, if any.
    pub fn max_pixels(&self) -> Option<usize> {
        self.max_pixels
    }

    /// Quantizes `image`.
    ///
    /// The palette has min(k, distinct colours) opaque entries, sorted by
    /// pixel count (most first, ties by lightness), plus one transparent
    /// entry when the image has fully transparent pixels.
    pub fn quantize(&self, image: &ImageRef<'_>) -> Result<Quantized, QuantizeError> {
        self.params.validate()?;
        let k = self.params.k();
        if PaletteSize::new(k).is_err() {
            return Err(QuantizeError::TooManyColors(k));
        }
        if self.max_pixels == Some(0) {
            return Err(QuantizeError::ZeroMaxPixels);
        }
        let hist = ColorHistogram::from_image(image);
        let transparent = hist.transparent() > 0;
        if transparent && k == PaletteSize::MAX.get() {
            return Err(QuantizeError::NoRoomForTransparency);
        }
        let points = to_points(&hist, self.space);
        let weights: Vec<f64> = hist.counts().iter().map(|&n| n as f64).collect();

        let small = self.max_pixels.and_then(|m| image.downscaled(m));
        let (mut fit, labels, inertia, fitted_pixels) = if let Some(small) = &small {
            let sample = ColorHistogram::from_image(&small.view());
            let fit = fit_or_empty(&self.params, &to_points(&sample, self.space), &sample)?;
            let (labels, inertia) = assign(&fit, &points, &weights);
            (fit, labels, inertia, sample.total_opaque())
        } else {
            let fit = fit_or_empty(&self.params, &points, &hist)?;
            let (labels, inertia) = (fit.labels().to_vec(), fit.inertia());
            (fit, labels, inertia, hist.total_opaque())
        };

        // Order clusters by their pixel count in the full image.
        let mut counts = vec![0u64; fit.centroids().len()];
        for (&l, &n) in labels.iter().zip(hist.counts()) {
            counts[l as usize] += n;
        }
        let lightness: Vec<f32> = fit
            .centroids()
            .iter()
            .map(|&c| ColorSpace::Oklab.from_srgb(self.space.to_srgb(c))[0])
            .collect();
        let mut order: Vec<usize> = (0..counts.len()).collect();
        order.sort_by(|&a, &b| {
            counts[b]
                .cmp(&counts[a])
                .then(lightness[b].total_cmp(&lightness[a]))
                .then(a.cmp(&b))
        });
        let mut rank = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old] = new as u32;
        }
        fit.reorder(&order);
        let labels: Vec<u32> = labels.iter().map(|&l| rank[l as usize]).collect();

        let colors: Vec<[u8; 3]> = fit
            .centroids()
            .iter()
            .map(|&c| self.space.to_srgb(c))
            .collect();
        let palette = Palette::new(&colors, transparent)
            .map_err(|PaletteSizeError(n)| QuantizeError::TooManyColors(n))?;
        let mse = histogram_mse(&hist, &labels, &colors);
        let indices = map_pixels(image, &hist, &labels, colors.len() as u8);
        let image = IndexedImage::new(image.width(), image.height(), palette, indices)
            .map_err(|_| QuantizeError::TooManyColors(k))?;
        Ok(Quantized {
            image,
            fit,
            space: self.space,
            inertia,
            mse,
            distinct_colors: hist.len(),
            fitted_pixels,
        })
    }
}

fn to_points(hist: &ColorHistogram, space: ColorSpace) -> Vec<Point> {
    hist.colors()
        .par_iter()
        .map(|&c| space.from_srgb(c))
        .collect()
}

/// Fits the histogram's colours, or returns an empty fit for an image with
/// no opaque pixel.
fn fit_or_empty(
    params: &KMeansParams,
    points: &[Point],
    hist: &ColorHistogram,
) -> Result<Fit, KMeansError> {
    let weights: Vec<f64> = hist.counts().iter().map(|&n| n as f64).collect();
    if points.is_empty() {
        return Ok(Fit::new(
            Vec::new(),
            Vec::new(),
            Vec::new(),
            0.0,
            Vec::new(),
            true,
        ));
    }
    params.fit(points, &weights)
}

/// Labels and inertia of points under a fit made on other points.
fn assign(fit: &Fit, points: &[Point], weights: &[f64]) -> (Vec<u32>, f64) {
    let nearest = fit.predict(points);
    let inertia = nearest
        .iter()
        .zip(weights)
        .map(|(&(_, d), &w)| w * f64::from(d))
        .sum();
    (nearest.into_iter().map(|(l, _)| l).collect(), inertia)
}

/// Every pixel through a colour → label table; fully transparent pixels get
/// `transparent_index`.
fn map_pixels(
    image: &ImageRef<'_>,
    hist: &ColorHistogram,
    labels: &[u32],
    transparent_index: u8,
) -> Vec<u8> {
    // A dense table over all 2^24 colours: one load per pixel, no hashing.
    // Only the pages holding the image's colours are ever touched.
    let mut table = vec![0u8; 1 << 24];
    for (&[r, g, b], &l) in hist.colors().iter().zip(labels) {
        table[(usize::from(r) << 16) | (usize::from(g) << 8) | usize::from(b)] = l as u8;
    }
    let ch = image.format().channels();
    let lookup = |p: &[u8]| {
        if ch == 4 && p[3] == 0 {
            transparent_index
        } else {
            table[(usize::from(p[0]) << 16) | (usize::from(p[1]) << 8) | usize::from(p[2])]
        }
    };
    let mut indices = vec![0u8; image.pixel_count()];
    let rows = 64 * image.width() as usize;
    indices
        .par_chunks_mut(rows)
        .zip(image.data().par_chunks(rows * ch))
        .for_each(|(out, px)| {
            for (o, p) in out.iter_mut().zip(px.chunks_exact(ch)) {
                *o = lookup(p);
            }
        });
    indices
}

impl Quantized {
    /// The indexed image.
    pub fn image(&self) -> &IndexedImage {
        &self.image
    }

    /// Takes the indexed image out.
    pub fn into_image(self) -> IndexedImage {
        self.image
    }

    /// The k-means fit, clusters in palette order. When fitted on a
    /// downscaled copy, its labels and inertia are those of the copy.
    pub fn fit(&self) -> &Fit {
        &self.fit
    }

    /// The working colour space.
    pub fn color_space(&self) -> ColorSpace {
        self.space
    }

    /// The k-means objective over every pixel of the full image: the sum of
    /// squared distances, in the working space, from each pixel to its
    /// centroid.
    pub fn inertia(&self) -> f64 {
        self.inertia
    }

    /// Mean squared error in 8-bit RGB between the image and its palette
    /// colours, over pixels and channels (fully transparent pixels left out).
    pub fn mse(&self) -> f64 {
        self.mse
    }

    /// Peak signal-to-noise ratio in dB; infinite when the image is exact.
    pub fn psnr(&self) -> f64 {
        psnr(self.mse)
    }

    /// Distinct opaque colours in the input image.
    pub fn distinct_colors(&self) -> usize {
        self.distinct_colors
    }

    /// Pixels the fit ran on: all opaque pixels, or those of the downscaled
    /// copy.
    pub fn fitted_pixels(&self) -> u64 {
        self.fitted_pixels
    }
}
