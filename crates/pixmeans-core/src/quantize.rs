//! [`Quantizer`]: an image in, an [`IndexedImage`] of at most k colours and
//! its quality figures out.

use rayon::prelude::*;

use crate::choose_k::Trial;
use crate::color::{ColorSpace, Point};
use crate::dither::{Dither, Target, floyd_steinberg};
use crate::histogram::{ColorHistogram, slot};
use crate::image::{ImageRef, IndexedImage};
use crate::kmeans::{Fit, KMeansError, KMeansParams};
use crate::metrics::{
    DeltaE, Sizes, histogram_delta_e, histogram_mse, pixel_delta_e, pixel_mse, psnr,
};
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
    /// The image has transparent pixels and 256 colours to fit, leaving no
    /// palette entry for them.
    #[error("k = 256 leaves no palette entry for the image's transparent pixels; use 255 at most")]
    NoRoomForTransparency,
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

    /// Quantizes `image`.
    ///
    /// The palette has min(k, distinct colours) opaque entries, sorted by
    /// pixel count with each pixel at its nearest colour, dithered or not
    /// (most first, ties by lightness), plus one transparent
    /// entry when the image has fully transparent pixels.
    pub fn quantize(&self, image: &ImageRef<'_>) -> Result<Quantized, QuantizeError> {
        self.quantize_counted(image, &ColorHistogram::from_image(image))
    }

    /// [`quantize`](Self::quantize) with the image's colours already
    /// counted (`hist` must be the histogram of `image`), to try several
    /// settings on one image without counting it again.
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
        let transparent = hist.transparent() > 0;
        if transparent && k.min(hist.len()) == PaletteSize::MAX.get() {
            return Err(QuantizeError::NoRoomForTransparency);
        }
        let FitOutcome {
            mut fit,
            labels,
            inertia,
            sample_size,
            fitted_pixels,
        } = self.fit(image, hist)?;

        // Order clusters by their pixel count in the full image.
        let mut counts = vec![0u64; fit.centroids().len()];
        for (&l, &n) in labels.iter().zip(hist.counts()) {
            counts[l as usize] += n;
        }
        // Each centroid's palette colour, converted once (a search in Oklab
        // and CIELAB: see `ColorSpace::to_srgb`).
        let srgb: Vec<[u8; 3]> = fit
            .centroids()
            .iter()
            .map(|&c| self.space.to_srgb(c))
            .collect();
        let lightness: Vec<f32> = srgb
            .iter()
            .map(|&c| ColorSpace::Oklab.from_srgb(c)[0])
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

        let colors: Vec<[u8; 3]> = if hist.len() <= k {
            // Every colour is its own cluster: copy it, rather than trust a
            // round trip through the working space.
            order.iter().map(|&o| hist.colors()[o]).collect()
        } else {
            order.iter().map(|&o| srgb[o]).collect()
        };
        let palette = Palette::new(&colors, transparent)
            .map_err(|PaletteSizeError(n)| QuantizeError::TooManyColors(n))?;
        let mse = histogram_mse(hist, &labels, &colors);
        let delta_e = histogram_delta_e(hist, &labels, &colors);
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
                distinct_colors: hist.len(),
                fitted_pixels,
                sample_size,
                dither: self.dither,
            },
        })
    }

    /// Fits on the full histogram, or on a downscaled copy when asked and
    /// useful.
    fn fit(&self, image: &ImageRef<'_>, hist: &ColorHistogram) -> Result<FitOutcome, KMeansError> {
        let k = self.params.k();
        // A copy only helps when the image has more colours than k, and only
        // if the copy still has at least as many colours as the palette needs.
        let small = self
            .max_pixels
            .filter(|_| hist.len() > k)
            .and_then(|m| image.downscaled(m));
        if let Some(small) = &small {
            let sample = ColorHistogram::from_image(&small.view());
            if sample.len() >= k {
                let fit = self
                    .params
                    .fit_counted(sample.points_in(self.space), sample.counts())?;
                let (points, weights) = (hist.points_in(self.space), hist.weights());
                let (labels, inertia) = assign(&fit, &points, &weights);
                return Ok(FitOutcome {
                    fit,
                    labels,
                    inertia,
                    sample_size: Some((small.view().width(), small.view().height())),
                    fitted_pixels: sample.total_opaque(),
                });
            }
        }
        let fit = if hist.is_empty() {
            Fit::new(Vec::new(), Vec::new(), Vec::new(), 0.0, Vec::new(), true)
        } else if let Some(kept) = hist.fit_input(self.space) {
            self.params.fit_input(kept)?
        } else {
            self.params
                .fit_counted(hist.points_in(self.space), hist.counts())?
        };
        Ok(FitOutcome {
            labels: fit.labels().to_vec(),
            inertia: fit.inertia(),
            fit,
            sample_size: None,
            fitted_pixels: hist.total_opaque(),
        })
    }
}

/// What [`Quantizer::fit`] learns about the full image.
struct FitOutcome {
    fit: Fit,
    /// The label of each histogram colour.
    labels: Vec<u32>,
    /// The inertia over every pixel of the full image.
    inertia: f64,
    /// The downscaled copy's size, if the fit ran on one.
    sample_size: Option<(u32, u32)>,
    /// Opaque pixels the fit ran on.
    fitted_pixels: u64,
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

    /// The palette: the opaque colours, most pixels first (each pixel
    /// counted at its nearest colour), then the transparent entry if the
    /// image has fully transparent pixels.
    pub fn palette(&self) -> &Palette {
        &self.palette
    }

    /// Maps every pixel of `image` through the colour → index table: the
    /// one pass over the pixels. `image` and `hist` must be those the
    /// colours were quantized from; a histogram with another number of
    /// colours or pixels is refused with [`QuantizeError::NotTheSameImage`].
    pub fn into_quantized(
        self,
        image: &ImageRef<'_>,
        hist: &ColorHistogram,
    ) -> Result<Quantized, QuantizeError> {
        let pixels = hist.total_opaque() + hist.transparent();
        if hist.len() != self.summary.distinct_colors || pixels != image.pixel_count() as u64 {
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
        let indices = match (diffuse, &self.own_labels) {
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
            (_, Some(labels)) => map_pixels(image, hist, labels.iter().copied(), transparent_index),
            (_, None) => map_pixels(
                image,
                hist,
                summary.fit.labels().iter().map(|&l| l as u8),
                transparent_index,
            ),
        };
        let indexed = IndexedImage::new(image.width(), image.height(), self.palette, indices)?;
        if diffuse.is_some() {
            summary.mse = pixel_mse(image, &indexed);
            summary.delta_e = pixel_delta_e(image, &indexed);
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
fn assign(fit: &Fit, points: &[Point], weights: &[f64]) -> (Vec<u32>, f64) {
    let nearest = fit.predict(points);
    let inertia = nearest
        .iter()
        .zip(weights)
        .map(|(&(_, d), &w)| w * f64::from(d))
        .sum();
    (nearest.into_iter().map(|(l, _)| l).collect(), inertia)
}

/// Every pixel through a colour → label table (`labels`: one per histogram
/// colour); fully transparent pixels get `transparent_index` (present
/// whenever the image has such pixels).
fn map_pixels(
    image: &ImageRef<'_>,
    hist: &ColorHistogram,
    labels: impl Iterator<Item = u8>,
    transparent_index: Option<u8>,
) -> Vec<u8> {
    // A dense table over all 2^24 colours: one load per pixel, no hashing.
    // Only the pages holding the image's colours are ever touched.
    let mut table = hist.take_table();
    for (&c, l) in hist.colors().iter().zip(labels) {
        table[slot(c)] = l;
    }
    let ch = image.format().channels();
    let lookup = |p: &[u8]| {
        if ch == 4 && p[3] == 0 {
            transparent_index.unwrap_or(0)
        } else {
            table[slot([p[0], p[1], p[2]])]
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
        &self.summary.fit
    }

    /// The working colour space.
    pub fn color_space(&self) -> ColorSpace {
        self.summary.space
    }

    /// The k-means objective over every pixel of the full image: the sum of
    /// squared distances, in the working space, from each pixel to its
    /// centroid.
    pub fn inertia(&self) -> f64 {
        self.summary.inertia
    }

    /// Mean squared error in 8-bit RGB between the image and its palette
    /// colours, over pixels and channels (fully transparent pixels left out).
    pub fn mse(&self) -> f64 {
        self.summary.mse
    }

    /// CIEDE2000 between each pixel and its palette colour: mean and 95th
    /// percentile over pixels (fully transparent pixels left out).
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

    /// How many pixels of the full image each opaque palette entry holds, in
    /// palette order (most first; when dithered, the order is still that of
    /// the nearest-colour counts, so these can be out of order).
    pub fn counts(&self) -> &[u64] {
        &self.summary.counts
    }

    /// Distinct opaque colours in the input image.
    pub fn distinct_colors(&self) -> usize {
        self.summary.distinct_colors
    }

    /// Pixels the fit ran on: all opaque pixels, or those of the downscaled
    /// copy.
    pub fn fitted_pixels(&self) -> u64 {
        self.summary.fitted_pixels
    }

    /// Width and height of the downscaled copy the fit ran on, if it ran on
    /// one (see [`Quantizer::with_max_pixels`]).
    pub fn sample_size(&self) -> Option<(u32, u32)> {
        self.summary.sample_size
    }
}
