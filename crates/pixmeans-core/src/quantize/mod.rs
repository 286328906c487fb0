//! [`Quantizer`]: an image in, an [`IndexedImage`] of at most k colours and
//! its quality figures out.
//!
//! Here are the settings ([`Quantizer`]) and the result ([`Quantized`]);
//! `fit` holds the work on the distinct colours (the fit, the palette and
//! the figures), and `quantized_colors` what that gives
//! ([`QuantizedColors`]) and the one pass that maps every pixel through it.

mod fit;
mod quantized_colors;

pub use quantized_colors::QuantizedColors;

use crate::choose_k::Trial;
use crate::color::ColorSpace;
use crate::dither::Dither;
use crate::histogram::ColorHistogram;
use crate::image::{ImageRef, IndexedImage};
use crate::kmeans::{Fit, Init, KMeansError, KMeansParams};
use crate::metrics::{DeltaE, psnr};
use crate::opacity::AlphaMode;

/// Why an image could not be quantized.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QuantizeError {
    /// The k-means parameters are invalid.
    #[error(transparent)]
    Params(#[from] KMeansError),
    /// The indexed image could not be built (a bug, not bad input).
    #[error("internal error: {0}")]
    Image(#[from] crate::image::ImageError),
    /// k does not fit an indexed image.
    #[error("k = {0} is too many colours for an indexed image, which holds 1 to 256")]
    TooManyColors(usize),
    /// `max_pixels` is 0.
    #[error("max_pixels must be at least 1")]
    ZeroMaxPixels,
    /// A dithering level outside 0 < level ≤ 1.
    #[error("the dithering level must be above 0 and at most 1, not {0}")]
    DitherLevel(f32),
    /// Quantized colours were to be mapped onto an image, or with a
    /// histogram, other than the one they came from.
    #[error("the image or its colour histogram is not the one these colours were quantized from")]
    NotTheSameImage,
    /// A search for k was given a target that is not a finite number.
    #[error("the target of the search for k is not a finite number")]
    InvalidTarget,
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
    dither: Dither,
    alpha: AlphaMode,
}

/// An image quantized: the indexed image, the fit behind it and its figures.
#[derive(Debug, Clone)]
pub struct Quantized {
    image: IndexedImage,
    summary: Summary,
}

/// What a quantization learns about the colours, whether or not its pixels
/// have been mapped yet.
#[derive(Debug, Clone)]
struct Summary {
    fit: Fit,
    space: ColorSpace,
    inertia: f64,
    mse: f64,
    delta_e: DeltaE,
    counts: Vec<u64>,
    distinct_colors: usize,
    fitted_pixels: u64,
    sample_size: Option<(u32, u32)>,
    dither: Dither,
    /// Whether opacity was clustered with colour.
    opacity: bool,
}

impl Quantizer {
    /// Quantizes with these k-means settings (k at most 256), in sRGB, fitting
    /// on every pixel.
    pub fn new(params: KMeansParams) -> Self {
        Quantizer {
            params,
            space: ColorSpace::Srgb,
            max_pixels: None,
            dither: Dither::None,
            alpha: AlphaMode::Fit,
        }
    }

    /// The space in which colours are clustered. Default [`ColorSpace::Srgb`].
    pub fn with_color_space(mut self, space: ColorSpace) -> Self {
        self.space = space;
        self
    }

    /// Fit on a copy shrunk to at most this many pixels (keeping one real
    /// pixel per block, see [`ImageRef::downscaled`]) when the image is larger
    /// and has more than k colours; every pixel of the full image is still
    /// mapped, and the reported figures are those of the full image. If the
    /// copy has fewer than k colours the fit runs on the full image instead.
    /// Default `None`: fit on every pixel.
    pub fn with_max_pixels(mut self, max_pixels: Option<usize>) -> Self {
        self.max_pixels = max_pixels;
        self
    }

    /// How the pixels are mapped to the palette. Default [`Dither::None`]:
    /// each to its nearest colour. With error diffusion the inertia is
    /// still the fit's, while the MSE, ΔE and pixel counts are those of the
    /// dithered image (and the palette keeps the order of the undithered
    /// counts); an image with no more colours than k is copied exactly,
    /// undithered. [`trial`](Self::trial), and so [`crate::smallest_k`]
    /// and [`crate::knee_k`], report undithered figures: a search by them
    /// chooses k as if there were no dithering.
    pub fn with_dither(mut self, dither: Dither) -> Self {
        self.dither = dither;
        self
    }

    /// How the pixels are mapped to the palette.
    pub fn dither(&self) -> Dither {
        self.dither
    }

    /// What to do with partly transparent pixels. Default
    /// [`AlphaMode::Fit`]: cluster colour and opacity together.
    pub fn with_alpha(mut self, alpha: AlphaMode) -> Self {
        self.alpha = alpha;
        self
    }

    /// What is done with partly transparent pixels.
    pub fn alpha(&self) -> AlphaMode {
        self.alpha
    }

    /// Whether partly transparent pixels are clustered by colour and
    /// opacity together: [`AlphaMode::Fit`].
    pub fn fits_opacity(&self) -> bool {
        self.alpha == AlphaMode::Fit
    }

    /// Whether this quantization of an image with histogram `hist`
    /// clusters opacity with colour: it [fits opacity](Self::fits_opacity)
    /// and the image has partly transparent pixels.
    pub fn clusters_opacity(&self, hist: &ColorHistogram) -> bool {
        self.fits_opacity() && !hist.translucent().is_empty()
    }

    /// The number of distinct colours this quantization fits in an image
    /// with histogram `hist`: each colour at each of its opacities when it
    /// [clusters opacity](Self::clusters_opacity), as
    /// [`Quantized::distinct_colors`] counts them.
    pub fn distinct_colors(&self, hist: &ColorHistogram) -> usize {
        if self.clusters_opacity(hist) {
            crate::opacity::entry_count(hist)
        } else {
            hist.len()
        }
    }

    /// The k-means settings.
    pub fn params(&self) -> &KMeansParams {
        &self.params
    }

    /// The working colour space.
    pub fn color_space(&self) -> ColorSpace {
        self.space
    }

    /// The same settings with another k.
    pub fn with_k(mut self, k: usize) -> Self {
        self.params = self.params.with_k(k);
        self
    }

    /// The pixel budget of the fit, if any.
    pub fn max_pixels(&self) -> Option<usize> {
        self.max_pixels
    }

    /// This quantizer at k - 1, given centroids ([`Init::Centroids`]) but
    /// the last.
    fn one_color_fewer(&self) -> Self {
        let mut fewer = self.clone().with_k(self.params.k() - 1);
        if let Init::Centroids(c) = self.params.init() {
            let kept = c[..c.len().saturating_sub(1)].to_vec();
            fewer.params = fewer.params.with_init(Init::Centroids(kept));
        }
        fewer
    }

    /// Quantizes `image`.
    ///
    /// The palette has min(k, distinct colours) entries, sorted by pixel
    /// count with each pixel at its nearest colour, dithered or not (most
    /// first, ties by lightness), plus one fully transparent entry when the
    /// image has fully transparent pixels (at k = 256 that entry counts
    /// among the 256, leaving 255 colours; the fit then starts from all
    /// but the last of any centroids given with [`Init::Centroids`]). The
    /// entries are opaque unless the image has partly transparent pixels
    /// (see [`with_alpha`](Self::with_alpha)); a colour at two opacities
    /// then counts as two distinct colours.
    ///
    /// # Errors
    ///
    /// - [`QuantizeError::Params`] when the k-means settings are invalid (see
    ///   [`KMeansParams::validate`]);
    /// - [`QuantizeError::TooManyColors`] when k is above 256;
    /// - [`QuantizeError::ZeroMaxPixels`] when `max_pixels` is `Some(0)`;
    /// - [`QuantizeError::DitherLevel`] when the dithering level is not above
    ///   0 and at most 1 (see [`Dither::check`]);
    /// - [`QuantizeError::Image`] only through a bug (indices that do not
    ///   fit the palette).
    pub fn quantize(&self, image: &ImageRef<'_>) -> Result<Quantized, QuantizeError> {
        self.quantize_counted(image, &ColorHistogram::from_image(image))
    }

    /// [`quantize`](Self::quantize) with the image's colours already
    /// counted (`hist` must be the histogram of `image`), to try several
    /// settings on one image without counting it again.
    ///
    /// # Errors
    ///
    /// - any error of [`quantize`](Self::quantize);
    /// - [`QuantizeError::NotTheSameImage`] when `hist` has another number of
    ///   colours or pixels than `image`.
    pub fn quantize_counted(
        &self,
        image: &ImageRef<'_>,
        hist: &ColorHistogram,
    ) -> Result<Quantized, QuantizeError> {
        self.quantize_colors(image, hist)?
            .into_quantized(image, hist)
    }

    /// The figures [`quantize_counted`](Self::quantize_counted) gives, without
    /// mapping the pixels: what a sweep over k (an elbow curve) needs. The
    /// same fit and figures, without the pass over every pixel and the
    /// pixel-sized index buffer. What the next k can reuse is kept in `hist`
    /// (see [`ColorHistogram::keep_for_several_fits`]).
    ///
    /// # Errors
    ///
    /// The errors of [`quantize`](Self::quantize), for invalid settings.
    pub fn trial(
        &self,
        image: &ImageRef<'_>,
        hist: &ColorHistogram,
    ) -> Result<Trial, QuantizeError> {
        hist.keep_for_several_fits();
        Ok(self
            .quantize_colors(image, hist)?
            .trial(self.params.k(), image))
    }
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
    /// downscaled copy, its labels and inertia are those of the copy. When
    /// opacity was clustered ([`clustered_opacity`](Self::clustered_opacity)),
    /// its labels are those of the colours with their opacity, its
    /// centroids the clusters' colours without it (divided back out), and
    /// its inertia and history those of the four coordinates.
    pub fn fit(&self) -> &Fit {
        &self.summary.fit
    }

    /// The working colour space.
    pub fn color_space(&self) -> ColorSpace {
        self.summary.space
    }

    /// The k-means objective over every pixel of the full image: the sum of
    /// squared distances, in the working space, from each pixel to its
    /// centroid (with opacity as a fourth coordinate if it was clustered:
    /// see [`crate::opacity`]; a cluster given an opaque entry there is
    /// measured to that entry's point, its centroid with no transparency).
    pub fn inertia(&self) -> f64 {
        self.summary.inertia
    }

    /// Whether opacity was clustered with colour (see
    /// [`Quantizer::clusters_opacity`]): the palette may then have partly
    /// transparent entries, and the figures are those of
    /// [`crate::opacity`].
    pub fn clustered_opacity(&self) -> bool {
        self.summary.opacity
    }

    /// Mean squared error in 8-bit RGB between the image and its palette
    /// colours, over pixels and channels (fully transparent pixels left
    /// out); the mean of the image's over black and over white if opacity
    /// was clustered (see [`crate::opacity`]).
    pub fn mse(&self) -> f64 {
        self.summary.mse
    }

    /// CIEDE2000 between each pixel and its palette colour: mean and 95th
    /// percentile over pixels (fully transparent pixels left out; both
    /// composited over white if opacity was clustered).
    pub fn delta_e(&self) -> DeltaE {
        self.summary.delta_e
    }

    /// How the pixels were mapped to the palette.
    pub fn dither(&self) -> Dither {
        self.summary.dither
    }

    /// Peak signal-to-noise ratio in dB; infinite when the image is exact.
    pub fn psnr(&self) -> f64 {
        psnr(self.summary.mse)
    }

    /// How many pixels of the full image each colour entry holds (all but
    /// the fully transparent one), in
    /// palette order (most first; when dithered, the order is still that of
    /// the nearest-colour counts, so these can be out of order).
    pub fn counts(&self) -> &[u64] {
        &self.summary.counts
    }

    /// Distinct colours in the input image, fully transparent pixels left
    /// out; a colour at several opacities counts once for each if opacity
    /// was clustered.
    pub fn distinct_colors(&self) -> usize {
        self.summary.distinct_colors
    }

    /// Pixels the fit ran on: all but the fully transparent ones, or those
    /// of the downscaled copy.
    pub fn fitted_pixels(&self) -> u64 {
        self.summary.fitted_pixels
    }

    /// Width and height of the downscaled copy the fit ran on, if it ran on
    /// one (see [`Quantizer::with_max_pixels`]).
    pub fn sample_size(&self) -> Option<(u32, u32)> {
        self.summary.sample_size
    }
}
