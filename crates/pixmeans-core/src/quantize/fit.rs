//! The work of a quantization on an image's distinct colours: the fit
//! (on the histogram, a downscaled copy, or the colours with their
//! opacity), the palette and the figures.

use crate::color::{ColorSpace, Point};
use crate::histogram::ColorHistogram;
use crate::image::ImageRef;
use crate::kmeans::{Fit, FitInput, KMeansError};
use crate::metrics::{delta_e_by_color, mse_by_color};
use crate::opacity::{AlphaColors, color_of, rgba_of};
use crate::palette::{Palette, PaletteSize, PaletteSizeError, cluster_order};

use super::{QuantizeError, QuantizedColors, Quantizer, Summary};

impl Quantizer {
    /// The part of [`quantize_counted`](Self::quantize_counted) that works
    /// on the distinct colours: the fit, the palette, the figures and the
    /// palette index of each colour. Mapping the pixels
    /// ([`QuantizedColors::into_quantized`]) is left for later, so that a
    /// search over k maps only the k it keeps.
    ///
    /// # Errors
    ///
    /// - [`QuantizeError::Params`] when the k-means settings are invalid (see
    ///   [`KMeansParams::validate`](crate::KMeansParams::validate));
    /// - [`QuantizeError::TooManyColors`] when k is above 256;
    /// - [`QuantizeError::ZeroMaxPixels`] when `max_pixels` is `Some(0)`;
    /// - [`QuantizeError::DitherLevel`] when the dithering level is not above
    ///   0 and at most 1 (see [`Dither::check`](crate::Dither::check)).
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
        let order = cluster_order(&counts, |i| {
            let [r, g, b, _] = rgba[i];
            [r, g, b]
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
            Fit::every_point_its_own(&[], &[])
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
