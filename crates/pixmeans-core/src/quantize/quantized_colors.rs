//! An image's colours quantized, and the one pass that maps every pixel
//! through them.

use std::sync::Arc;

use rayon::prelude::*;

use crate::choose_k::Trial;
use crate::dither::{AlphaTarget, Target, floyd_steinberg, floyd_steinberg_with_alpha};
use crate::histogram::{ColorHistogram, slot};
use crate::image::{ImageRef, IndexedImage, PIXEL_CHUNK, PixelFormat};
use crate::metrics::{Sizes, delta_e_by_pixel, mse_by_pixel, psnr};
use crate::opacity::{AlphaColors, pixel_figures};
use crate::palette::Palette;

use super::{QuantizeError, Quantized, Summary};

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
    pub(super) own_labels: Option<Vec<u8>>,
    pub(super) palette: Palette,
    /// The colours with their opacity that were clustered, if the image's
    /// opacity was (see
    /// [`Quantizer::clusters_opacity`](super::Quantizer::clusters_opacity));
    /// the labels are then theirs.
    pub(super) alpha: Option<Arc<AlphaColors>>,
    pub(super) summary: Summary,
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
        let pixels = hist.visible() + hist.transparent();
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
        .par_chunks(PIXEL_CHUNK)
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
