//! [`Quantizer`]: an image in, an [`IndexedImage`] of at most k colours and
//! its quality figures out.

use std::sync::Arc;

use rayon::prelude::*;

use crate::choose_k::Trial;
use crate::color::{ColorSpace, Point};
use crate::dither::{AlphaTarget, Dither, Target, floyd_steinberg, floyd_steinberg_with_alpha};
use crate::histogram::{ColorHistogram, slot};
use crate::image::{ImageRef, IndexedImage, PixelFormat};
use crate::kmeans::{Fit, FitInput, Init, KMeansError, KMeansParams};
use crate::metrics::{
    DeltaE, Sizes, delta_e_by_color, delta_e_by_pixel, mse_by_color, mse_by_pixel, psnr,
};
use crate::opacity::{AlphaColors, AlphaMode, color_of, pixel_figures, rgba_of};
use crate::palette::{Palette, PaletteSize, PaletteSizeError};

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

    /// The part of [`quantize_counted`](Self::quantize_counted) that works
    /// on the distinct colours: the fit, the palette, the figures and the
    /// palette index of each colour. Mapping the pixels
    /// ([`QuantizedColors::into_quantized`]) is left for later, so that a
    /// search over k maps only the k it keeps.
    ///
    /// # Errors
    ///
    /// - [`QuantizeError::Params`] when the k-means settings are invalid (see
    ///   [`KMeansParams::validate`]);
    /// - [`QuantizeError::TooManyColors`] when k is above 256;
    /// - [`QuantizeError::ZeroMaxPixels`] when `max_pixels` is `Some(0)`;
    /// - [`QuantizeError::DitherLevel`] when the dithering level is not above
    ///   0 and at most 1 (see [`Dither::check`]).
    ///
    /// ```
    /// use pixmeans_core::{ColorHistogram, ImageRef, KMeansParams, PixelFormat, Quantizer};
    /// let pixels = [250, 0, 0, 240, 0, 0, 0, 0, 250, 0, 0, 240];
    /// let image = ImageRef::new(4, 1, PixelFormat::Rgb8, &pixels)?;
    /// let hist = ColorHistogram::from_image(&image);
    /// let colors = Quantizer::new(KMeansParams::new(2)).quantize_colors(&image, &hist)?;
    /// assert_eq!(colors.palette().rgb(), [[245, 0, 0], [0, 0, 245]]);
    /// let q = colors.into_quantized(&image, &hist)?;
    /// assert_eq!(q.image().indices(), [0, 0, 1, 1]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn quantize_colors(
        &self,
        image: &ImageRef<'_>,
        hist: &ColorHistogram,
    ) -> Result<QuantizedColors, QuantizeError> {
        self.params.validate()?;
        let k = self.params.k();
        if PaletteSize::new(k).is_err() {
            return Err(QuantizeError::TooManyColors(k));
        }
        if self.max_pixels == Some(0) {
            return Err(QuantizeError::ZeroMaxPixels);
        }
        self.dither.check()?;
        let alpha = self.clusters_opacity(hist).then(|| hist.alpha_colors());
        let entries = alpha.as_ref().map_or(hist.len(), |a| a.len());
        let transparent = hist.transparent() > 0;
        if transparent && k.min(entries) == PaletteSize::MAX.get() {
            // 256 colours and the fully transparent entry overflow a
            // palette: as pngquant does, count that entry among the 256.
            return self.one_color_fewer().quantize_colors(image, hist);
        }
        let FittedColors {
            outcome,
            rgba,
            centroids,
        } = self.fit_colors(image, hist, alpha.as_deref())?;
        let FitOutcome {
            mut fit,
            labels,
            mut inertia,
            sample_size,
            fitted_pixels,
        } = outcome;
        let entry_counts = alpha.as_ref().map_or(hist.counts(), |a| a.counts());

        // Order clusters by their pixel count in the full image.
        let mut counts = vec![0u64; fit.centroids().len()];
        for (&l, &n) in labels.iter().zip(entry_counts) {
            counts[l as usize] += n;
        }
        let lightness: Vec<f32> = rgba
            .iter()
            .map(|&[r, g, b, _]| ColorSpace::Oklab.from_srgb([r, g, b])[0])
            .collect();
        let mut order: Vec<usize> = (0..counts.len()).collect();
        order.sort_by(|&a, &b| {
            counts[b]
                .cmp(&counts[a])
                .then(lightness[b].total_cmp(&lightness[a]))
                .then(a.cmp(&b))
        });
        let rank = fit.reorder(&order);
        let counts: Vec<u64> = order.iter().map(|&o| counts[o]).collect();
        let labels: Vec<u32> = labels.iter().map(|&l| rank[l as usize]).collect();

        // Where every colour is its own cluster, copy it, rather than trust
        // a round trip through the working space.
        let rgba: Vec<[u8; 4]> = match (&alpha, entries <= k) {
            (None, true) => order
                .iter()
                .map(|&o| {
                    let [r, g, b] = hist.colors()[o];
                    [r, g, b, 255]
                })
                .collect(),
            (Some(entries), true) => order.iter().map(|&o| entries.colors()[o]).collect(),
            (None, false) => order.iter().map(|&o| rgba[o]).collect(),
            (Some(entries), false) => {
                let (rgba, added) =
                    self.opaque_areas(entries, (&labels, &counts), &order, &rgba, &centroids);
                inertia += added;
                rgba
            }
        };
        let palette = Palette::with_alpha(&rgba, transparent)
            .map_err(|PaletteSizeError(n)| QuantizeError::TooManyColors(n))?;
        let (mse, delta_e) = match &alpha {
            None => {
                let colors: Vec<[u8; 3]> = rgba.iter().map(|&[r, g, b, _]| [r, g, b]).collect();
                let mse = mse_by_color(hist, &labels, &colors);
                (mse, delta_e_by_color(hist, &labels, &colors))
            }
            Some(entries) => (entries.mse(&labels, &rgba), entries.delta_e(&labels, &rgba)),
        };
        // Fitted on the histogram itself, the fit's labels are these labels
        // (`reorder` ranked both alike): keep one copy.
        let own_labels = sample_size
            .is_some()
            .then(|| labels.iter().map(|&l| l as u8).collect());
        Ok(QuantizedColors {
            own_labels,
            palette,
            summary: Summary {
                fit,
                space: self.space,
                inertia,
                mse,
                delta_e,
                counts,
                distinct_colors: entries,
                fitted_pixels,
                sample_size,
                dither: self.dither,
                opacity: alpha.is_some(),
            },
            alpha,
        })
    }

    /// Fits the colours of `hist`, or with their opacity the `alpha`
    /// colours made from it, and gives each centroid's palette colour
    /// (converted once: a search in Oklab and CIELAB, see
    /// `ColorSpace::to_srgb`), and with opacity also the centroids of four
    /// coordinates (see [`Quantizer::opaque_areas`]).
    fn fit_colors(
        &self,
        image: &ImageRef<'_>,
        hist: &ColorHistogram,
        alpha: Option<&AlphaColors>,
    ) -> Result<FittedColors, KMeansError> {
        let space = self.space;
        Ok(match alpha {
            None => {
                let outcome = self.fit(image, hist, || hist.fit_input(space), |h| h)?;
                let rgba = outcome.fit.centroids().iter().map(|&c| {
                    let [r, g, b] = space.to_srgb(c);
                    [r, g, b, 255]
                });
                let rgba: Vec<[u8; 4]> = rgba.collect();
                FittedColors {
                    outcome,
                    rgba,
                    centroids: Vec::new(),
                }
            }
            Some(colors) => {
                let kept = || hist.alpha_fit_input(space);
                let outcome = self.fit(image, colors, kept, |h| AlphaColors::new(&h))?;
                let centroids = outcome.fit.centroids().to_vec();
                let rgba = centroids.iter().map(|&c| rgba_of(space, c)).collect();
                let colors = |f: Fit<4>| f.map_centroids(|c| color_of(space, c));
                FittedColors {
                    outcome: outcome.map_fit(colors),
                    rgba,
                    centroids,
                }
            }
        })
    }

    /// The palette colours of clusters of colours with opacity, in `order`
    /// (`labels` and `counts` in it too): each centroid's `rgba`, or where
    /// [`AlphaColors::opaque_clusters`] says, so that opaque areas stay
    /// opaque, the colour of its first three coordinates, with no
    /// transparency; and what that adds to the inertia, the square of the
    /// centroid's fourth coordinate for each pixel of such a cluster.
    fn opaque_areas(
        &self,
        entries: &AlphaColors,
        (labels, counts): (&[u32], &[u64]),
        order: &[usize],
        rgba: &[[u8; 4]],
        centroids: &[[f32; 4]],
    ) -> (Vec<[u8; 4]>, f64) {
        let alpha: Vec<u8> = order.iter().map(|&o| rgba[o][3]).collect();
        let made_opaque = entries.opaque_clusters(labels, counts, &alpha);
        let mut added = 0.0;
        let colors = (made_opaque.iter().zip(order).zip(counts))
            .map(|((&made, &o), &n)| {
                if !made {
                    return rgba[o];
                }
                let [x, y, z, t] = centroids[o];
                added += n as f64 * f64::from(t).powi(2);
                let [r, g, b] = self.space.to_srgb([x, y, z]);
                [r, g, b, 255]
            })
            .collect();
        (colors, added)
    }

    /// Fits on `full`, the colours of the image (of its histogram, or
    /// with their opacity), or on those of a downscaled copy when asked and
    /// useful: `of_copy` makes them from the copy's histogram. `kept`
    /// gives `full` in the working space with its k-d tree, if kept.
    fn fit<'h, const D: usize, C: Clustered<D>>(
        &self,
        image: &ImageRef<'_>,
        full: &C,
        kept: impl FnOnce() -> Option<&'h FitInput<D>>,
        of_copy: impl FnOnce(ColorHistogram) -> C,
    ) -> Result<FitOutcome<D>, KMeansError> {
        let k = self.params.k();
        // A copy only helps when the image has more colours than k, and only
        // if the copy still has at least as many colours as the palette needs.
        let small = self
            .max_pixels
            .filter(|_| full.counts().len() > k)
            .and_then(|m| image.downscaled(m));
        if let Some(small) = &small {
            let sample = of_copy(ColorHistogram::from_image(&small.view()));
            if sample.counts().len() >= k {
                let fit = self
                    .params
                    .fit_counted(sample.points_in(self.space), sample.counts())?;
                let points = full.points_in(self.space);
                let weights: Vec<f64> = full.counts().iter().map(|&n| n as f64).collect();
                let (labels, inertia) = assign(&fit, &points, &weights);
                return Ok(FitOutcome {
                    fit,
                    labels,
                    inertia,
                    sample_size: Some((small.view().width(), small.view().height())),
                    fitted_pixels: sample.counts().iter().sum(),
                });
            }
        }
        let fit = if full.counts().is_empty() {
            Fit::new(Vec::new(), Vec::new(), Vec::new(), 0.0, Vec::new(), true)
        } else if let Some(kept) = kept() {
            self.params.fit_input(kept)?
        } else {
            self.params
                .fit_counted(full.points_in(self.space), full.counts())?
        };
        Ok(FitOutcome {
            labels: fit.labels().to_vec(),
            inertia: fit.inertia(),
            fit,
            sample_size: None,
            fitted_pixels: full.counts().iter().sum(),
        })
    }
}

/// The distinct points a fit clusters, each with its pixel count: an
/// image's colours, or its colours with their opacity.
trait Clustered<const D: usize> {
    /// Each point in `space`.
    fn points_in(&self, space: ColorSpace) -> Vec<[f32; D]>;
    /// The pixel count of each.
    fn counts(&self) -> &[u64];
}

impl Clustered<3> for ColorHistogram {
    fn points_in(&self, space: ColorSpace) -> Vec<Point> {
        ColorHistogram::points_in(self, space)
    }
    fn counts(&self) -> &[u64] {
        ColorHistogram::counts(self)
    }
}

impl Clustered<4> for AlphaColors {
    fn points_in(&self, space: ColorSpace) -> Vec<[f32; 4]> {
        AlphaColors::points_in(self, space)
    }
    fn counts(&self) -> &[u64] {
        AlphaColors::counts(self)
    }
}

/// What [`Quantizer::fit_colors`] gives: the fit, each centroid's palette
/// colour, and with opacity the centroids of four coordinates (else
/// none).
struct FittedColors {
    outcome: FitOutcome,
    rgba: Vec<[u8; 4]>,
    centroids: Vec<[f32; 4]>,
}

/// What [`Quantizer::fit`] learns about the full image.
struct FitOutcome<const D: usize = 3> {
    fit: Fit<D>,
    /// The label of each colour clustered (of the histogram, or with its
    /// opacity).
    labels: Vec<u32>,
    /// The inertia over every pixel of the full image.
    inertia: f64,
    /// The downscaled copy's size, if the fit ran on one.
    sample_size: Option<(u32, u32)>,
    /// Pixels the fit ran on (none fully transparent).
    fitted_pixels: u64,
}

impl<const D: usize> FitOutcome<D> {
    /// The same outcome with `f` applied to the fit.
    fn map_fit<const E: usize>(self, f: impl FnOnce(Fit<D>) -> Fit<E>) -> FitOutcome<E> {
        FitOutcome {
            fit: f(self.fit),
            labels: self.labels,
            inertia: self.inertia,
            sample_size: self.sample_size,
            fitted_pixels: self.fitted_pixels,
        }
    }
}

/// An image's colours quantized: everything a [`Quantized`] holds but the
/// pixel indices, with the palette index of each distinct colour to map
/// them later.
///
/// Size: 4 bytes per colour the fit ran on (the fit's labels: the image's
/// distinct colours, or the downscaled copy's), plus 1 byte per distinct
/// colour of the image when the fit ran on a copy, plus O(k + iterations)
/// for centroids, palette, counts and history.
#[derive(Debug, Clone)]
pub struct QuantizedColors {
    /// The palette index of each histogram colour when the fit ran on a
    /// downscaled copy; `None` when it ran on the histogram, whose colours'
    /// indices are then the fit's labels.
    own_labels: Option<Vec<u8>>,
    palette: Palette,
    /// The colours with their opacity that were clustered, if the image's
    /// opacity was (see [`Quantizer::clusters_opacity`]); the labels are
    /// then theirs.
    alpha: Option<Arc<AlphaColors>>,
    summary: Summary,
}

impl QuantizedColors {
    /// The figures of these colours as the trial of `k` on `image`.
    pub(crate) fn trial(&self, k: usize, image: &ImageRef<'_>) -> Trial {
        let s = &self.summary;
        Trial {
            k,
            colors: s.counts.len(),
            inertia: s.inertia,
            mse: s.mse,
            psnr: psnr(s.mse),
            delta_e: s.delta_e,
            iterations: s.fit.iterations(),
            converged: s.fit.converged(),
            sizes: Sizes::of_palette(image.width(), image.height(), &self.palette, image.format()),
        }
    }

    /// The palette: the colours, most pixels first (each pixel counted at
    /// its nearest colour), then the fully transparent entry if the image
    /// has fully transparent pixels.
    pub fn palette(&self) -> &Palette {
        &self.palette
    }

    /// Maps every pixel of `image` through the colour → index table: the
    /// one pass over the pixels. `image` and `hist` must be those the
    /// colours were quantized from; a histogram with another number of
    /// colours or pixels is refused with [`QuantizeError::NotTheSameImage`].
    ///
    /// # Errors
    ///
    /// - [`QuantizeError::NotTheSameImage`] when `hist` has another number of
    ///   colours than these were quantized from, or its pixels do not number
    ///   those of `image`;
    /// - [`QuantizeError::Image`] only if the indices built are inconsistent
    ///   with the palette (a bug, not bad input).
    pub fn into_quantized(
        self,
        image: &ImageRef<'_>,
        hist: &ColorHistogram,
    ) -> Result<Quantized, QuantizeError> {
        let pixels = hist.total_opaque() + hist.transparent();
        let same_colors = match &self.alpha {
            None => hist.len() == self.summary.distinct_colors,
            Some(colors) => colors.are_of(hist),
        };
        if !same_colors || pixels != image.pixel_count() as u64 {
            return Err(QuantizeError::NotTheSameImage);
        }
        let transparent_index = self
            .palette
            .transparent_index()
            .and_then(|i| u8::try_from(i).ok());
        let mut summary = self.summary;
        // An image with no more colours than k is copied exactly.
        let diffuse = (summary.distinct_colors > summary.counts.len())
            .then(|| summary.dither.level())
            .flatten();
        let labels = || -> Vec<u8> {
            match &self.own_labels {
                Some(labels) => labels.clone(),
                None => summary.fit.labels().iter().map(|&l| l as u8).collect(),
            }
        };
        let indices = match (diffuse, &self.alpha) {
            (Some(level), Some(entries)) => {
                let colors = self.palette.colors();
                let target = AlphaTarget {
                    colors,
                    space: summary.space,
                    transparent: transparent_index,
                    opaque_floor: entries
                        .opaque_labels(&labels())
                        .iter()
                        .map(|&l| colors[usize::from(l)][3])
                        .min()
                        .unwrap_or(255),
                };
                floyd_steinberg_with_alpha(image, &target, level)
            }
            (Some(level), _) => {
                let colors = self.palette.rgb();
                let target = Target {
                    colors: &colors,
                    centroids: summary.fit.centroids(),
                    space: summary.space,
                    transparent: transparent_index,
                };
                floyd_steinberg(image, &target, level)
            }
            (None, _) => {
                let labels = labels();
                let indices = Indices {
                    transparent: transparent_index,
                    ..Indices::default()
                };
                let indices = match &self.alpha {
                    None => Indices {
                        opaque: labels,
                        ..indices
                    },
                    Some(entries) => {
                        let (opaque, partly) = entries.split_labels(&labels);
                        let keys = hist.translucent().iter().map(|&c| u32::from_be_bytes(c));
                        Indices {
                            opaque,
                            partly: keys.zip(partly).collect(),
                            ..indices
                        }
                    }
                };
                map_pixels(image, hist, &indices)
            }
        };
        let indexed = IndexedImage::new(image.width(), image.height(), self.palette, indices)?;
        if diffuse.is_some() {
            (summary.mse, summary.delta_e) = match self.alpha {
                Some(_) => pixel_figures(image, &indexed),
                None => (
                    mse_by_pixel(image, &indexed),
                    delta_e_by_pixel(image, &indexed),
                ),
            };
            summary.counts = pixel_counts(&indexed, summary.counts.len());
        }
        Ok(Quantized {
            image: indexed,
            summary,
        })
    }
}

/// How many pixels each of the first `opaque` palette entries holds.
fn pixel_counts(image: &IndexedImage, opaque: usize) -> Vec<u64> {
    let mut counts = image
        .indices()
        .par_chunks(1 << 16)
        .map(|chunk| {
            let mut counts = [0u64; 256];
            for &i in chunk {
                counts[usize::from(i)] += 1;
            }
            counts
        })
        .reduce(
            || [0u64; 256],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        )
        .to_vec();
    counts.truncate(opaque);
    counts
}

/// Labels and inertia of points under a fit made on other points.
fn assign<const D: usize>(fit: &Fit<D>, points: &[[f32; D]], weights: &[f64]) -> (Vec<u32>, f64) {
    let nearest = fit.predict(points);
    let inertia = nearest
        .iter()
        .zip(weights)
        .map(|(&(_, d), &w)| w * f64::from(d))
        .sum();
    (nearest.into_iter().map(|(l, _)| l).collect(), inertia)
}

/// The palette index of every kind of pixel.
#[derive(Default)]
struct Indices {
    /// The index of each histogram colour's opaque pixels (of all its
    /// pixels, if opacity is not clustered).
    opaque: Vec<u8>,
    /// The index of each partly transparent RGBA value (as a
    /// `0xRRGGBBAA` key), sorted; empty if opacity is not clustered.
    partly: Vec<(u32, u8)>,
    /// The index of fully transparent pixels (present whenever the image
    /// has such pixels).
    transparent: Option<u8>,
}

/// Every pixel through a colour → index table.
fn map_pixels(image: &ImageRef<'_>, hist: &ColorHistogram, indices: &Indices) -> Vec<u8> {
    // A dense table over all 2^24 colours: one load per pixel, no hashing.
    // Only the pages holding the image's colours are ever touched.
    let mut table = hist.take_table();
    for (&c, &i) in hist.colors().iter().zip(&indices.opaque) {
        table[slot(c)] = i;
    }
    let partly = |p: &[u8]| {
        let key = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
        indices
            .partly
            .binary_search_by_key(&key, |e| e.0)
            .map_or(0, |i| indices.partly[i].1)
    };
    let transparent = indices.transparent.unwrap_or(0);
    let opaque = |p: &[u8]| table[slot([p[0], p[1], p[2]])];
    // One loop for each kind of image, each with only the tests it needs.
    match (image.format(), indices.partly.is_empty()) {
        (PixelFormat::Rgb8, _) => each_pixel(image, opaque),
        (PixelFormat::Rgba8, true) => each_pixel(image, |p| match p[3] {
            0 => transparent,
            _ => opaque(p),
        }),
        (PixelFormat::Rgba8, false) => each_pixel(image, |p| match p[3] {
            0 => transparent,
            255 => opaque(p),
            _ => partly(p),
        }),
    }
}

/// `index` of every pixel of `image`, in parallel bands of rows.
fn each_pixel(image: &ImageRef<'_>, index: impl Fn(&[u8]) -> u8 + Sync) -> Vec<u8> {
    let ch = image.format().channels();
    let mut out = vec![0u8; image.pixel_count()];
    let rows = 64 * image.width() as usize;
    out.par_chunks_mut(rows)
        .zip(image.data().par_chunks(rows * ch))
        .for_each(|(out, px)| {
            for (o, p) in out.iter_mut().zip(px.chunks_exact(ch)) {
                *o = index(p);
            }
        });
    out
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
