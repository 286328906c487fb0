//! Quality and size figures, computed the way the peers compute them.
//!
//! MSE is the mean over pixels and channels of the squared error in 8-bit
//! RGB and PSNR is 10·log10(255² / MSE), as scikit-image's
//! `mean_squared_error` and `peak_signal_noise_ratio` define them. Colour
//! difference is CIEDE2000 (CIE 142-2001) between CIELAB (D65) colours, as
//! Sharma, Wu and Dalal (2005, "The CIEDE2000 color-difference formula:
//! implementation notes ...") spell it out, with kL = kC = kH = 1.
//!
//! MSE and PSNR are here; [`ciede2000()`] is the formula, `delta_e` its
//! summaries over an image ([`DeltaE`]), and [`Sizes`] what the indexed
//! form takes in bytes.

mod ciede2000;
mod delta_e;
mod sizes;

use rayon::prelude::*;

use crate::color::srgb_to_lab;
use crate::histogram::ColorHistogram;
use crate::image::{ImageRef, IndexedImage, PIXEL_CHUNK, PixelFormat};
use crate::opacity::over_white;

pub use ciede2000::{ciede2000, ciede2000_many};
pub use delta_e::{DeltaE, histogram_delta_e, pixel_delta_e};
pub(crate) use delta_e::{
    delta_e_by_color, delta_e_by_pixel, delta_e_of_colors, pixel_delta_e_over_white,
};
pub use sizes::Sizes;

/// MSE of mapping each histogram colour to `palette[labels[i]]`: exact, and
/// computed per distinct colour instead of per pixel. Fully transparent
/// pixels are left out; an image without opaque pixels has MSE 0. `None`
/// unless there is one label per histogram colour, each a position in
/// `palette`.
///
/// ```
/// use pixmeans_core::{ColorHistogram, ImageRef, PixelFormat, metrics::histogram_mse};
/// let img = ImageRef::new(3, 1, PixelFormat::Rgb8, &[0, 0, 0, 0, 0, 0, 6, 6, 6])?;
/// let hist = ColorHistogram::from_image(&img);
/// // Both colours become black: 3 × 6² over 3 pixels × 3 channels.
/// assert_eq!(histogram_mse(&hist, &[0, 0], &[[0, 0, 0]]), Some(12.0));
/// assert_eq!(histogram_mse(&hist, &[0, 1], &[[0, 0, 0]]), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn histogram_mse(hist: &ColorHistogram, labels: &[u32], palette: &[[u8; 3]]) -> Option<f64> {
    labels_fit(hist, labels, palette.len()).then(|| mse_by_color(hist, labels, palette))
}

/// Whether `labels` holds one position in a palette of `palette_len`
/// entries for each colour of `hist`.
fn labels_fit(hist: &ColorHistogram, labels: &[u32], palette_len: usize) -> bool {
    labels.len() == hist.len() && labels.iter().all(|&l| (l as usize) < palette_len)
}

/// [`histogram_mse`] for labels known to fit.
pub(crate) fn mse_by_color(hist: &ColorHistogram, labels: &[u32], palette: &[[u8; 3]]) -> f64 {
    let total = hist.visible();
    if total == 0 {
        return 0.0;
    }
    let sse: u64 = hist
        .iter()
        .zip(labels)
        .map(|((c, n), &l)| n * squared_error(c, palette[l as usize]))
        .sum();
    sse as f64 / (3.0 * total as f64)
}

/// How the per-pixel ΔE sees a pixel and a palette entry.
#[derive(Clone, Copy)]
enum Seen {
    /// By its RGB, whatever its alpha.
    Rgb,
    /// Composited over white ([`over_white`]).
    OverWhite,
}

impl Seen {
    /// Pixel `p` (3 or 4 channels) as seen.
    fn of(self, p: &[u8]) -> [u8; 3] {
        match (self, p) {
            (Seen::OverWhite, &[r, g, b, a]) => over_white([r, g, b, a]),
            _ => [p[0], p[1], p[2]],
        }
    }

    /// The CIELAB of each entry of `indexed`'s palette, as seen.
    fn palette_lab(self, indexed: &IndexedImage) -> Vec<[f64; 3]> {
        let colors = indexed.palette().colors();
        colors.iter().map(|c| srgb_to_lab(self.of(c))).collect()
    }
}

/// The pixels that are not fully transparent, each as `seen` and with
/// its palette index, one chunk of [`PIXEL_CHUNK`] at a time.
fn opaque_pixels<'a>(
    original: &ImageRef<'a>,
    indexed: &'a IndexedImage,
    seen: Seen,
) -> impl IndexedParallelIterator<Item = impl Iterator<Item = ([u8; 3], u8)> + 'a> {
    let ch = original.format().channels();
    let rgba = original.format() == PixelFormat::Rgba8;
    original
        .data()
        .par_chunks(PIXEL_CHUNK * ch)
        .zip(indexed.indices().par_chunks(PIXEL_CHUNK))
        .map(move |(px, ix)| {
            px.chunks_exact(ch)
                .zip(ix)
                .filter(move |(p, _)| !(rgba && p[3] == 0))
                .map(move |(p, &i)| (seen.of(p), i))
        })
}

/// MSE between an image and its indexed version, pixel by pixel, over the
/// pixels that are not fully transparent in the original. `None` when the
/// sizes differ.
pub fn pixel_mse(original: &ImageRef<'_>, indexed: &IndexedImage) -> Option<f64> {
    same_size(original, indexed).then(|| mse_by_pixel(original, indexed))
}

/// Whether `original` and `indexed` have the same width and height.
fn same_size(original: &ImageRef<'_>, indexed: &IndexedImage) -> bool {
    (original.width(), original.height()) == (indexed.width(), indexed.height())
}

/// [`pixel_mse`] for images known to have the same size.
pub(crate) fn mse_by_pixel(original: &ImageRef<'_>, indexed: &IndexedImage) -> f64 {
    let pal = indexed.palette().rgb();
    let (sse, n) = opaque_pixels(original, indexed, Seen::Rgb)
        .map(|pixels| {
            pixels.fold((0u64, 0u64), |(sse, n), (p, i)| {
                (sse + squared_error(p, pal[usize::from(i)]), n + 1)
            })
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    if n == 0 {
        0.0
    } else {
        sse as f64 / (3.0 * n as f64)
    }
}

/// MSE between an image and another of the same size (say, a quantized
/// image as a lossy file decoded again), pixel by pixel, over the pixels
/// that are not fully transparent in the original; `other`'s alpha is not
/// compared. `None` when the sizes differ. An image without opaque pixels
/// has MSE 0.
///
/// ```
/// use pixmeans_core::{ImageRef, PixelFormat, metrics::image_mse};
/// let a = ImageRef::new(2, 1, PixelFormat::Rgb8, &[10, 20, 30, 0, 0, 0])?;
/// let b = ImageRef::new(2, 1, PixelFormat::Rgb8, &[13, 20, 30, 0, 0, 0])?;
/// assert_eq!(image_mse(&a, &b), Some(9.0 / 6.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn image_mse(original: &ImageRef<'_>, other: &ImageRef<'_>) -> Option<f64> {
    if (original.width(), original.height()) != (other.width(), other.height()) {
        return None;
    }
    let (ca, cb) = (original.format().channels(), other.format().channels());
    let (sse, n) = original
        .data()
        .par_chunks(PIXEL_CHUNK * ca)
        .zip(other.data().par_chunks(PIXEL_CHUNK * cb))
        .map(|(a, b)| {
            a.chunks_exact(ca)
                .zip(b.chunks_exact(cb))
                .filter(|(p, _)| ca == 3 || p[3] > 0)
                .fold((0u64, 0u64), |(sse, n), (p, q)| {
                    (
                        sse + squared_error([p[0], p[1], p[2]], [q[0], q[1], q[2]]),
                        n + 1,
                    )
                })
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    Some(if n == 0 {
        0.0
    } else {
        sse as f64 / (3.0 * n as f64)
    })
}

fn squared_error(a: [u8; 3], b: [u8; 3]) -> u64 {
    (0..3).map(|c| u64::from(a[c].abs_diff(b[c])).pow(2)).sum()
}

/// Peak signal-to-noise ratio in dB for 8-bit data; infinite when `mse` is 0.
pub fn psnr(mse: f64) -> f64 {
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::palette::Palette;

    #[test]
    fn psnr_of_known_errors() {
        assert!(psnr(0.0).is_infinite());
        assert!((psnr(255.0 * 255.0) - 0.0).abs() < 1e-12);
        assert!((psnr(65.025) - 30.0).abs() < 1e-9);
    }

    #[test]
    fn histogram_and_pixel_mse_agree() {
        let px = [[10, 0, 0], [20, 0, 0], [20, 0, 0], [0, 0, 200]].concat();
        let img = ImageRef::new(2, 2, PixelFormat::Rgb8, &px).unwrap();
        let hist = ColorHistogram::from_image(&img);
        // colours sorted: [0,0,200], [10,0,0], [20,0,0] -> palette 1, 0, 0
        let palette = [[15, 0, 0], [0, 0, 190]];
        let h = histogram_mse(&hist, &[1, 0, 0], &palette).unwrap();
        let pal = Palette::new(&palette, false).unwrap();
        let indexed = IndexedImage::new(2, 2, pal, vec![0, 0, 0, 1]).unwrap();
        let p = pixel_mse(&img, &indexed).unwrap();
        assert!((h - p).abs() < 1e-12);
        assert!((h - (25.0 + 25.0 + 25.0 + 100.0) / 12.0).abs() < 1e-12);
    }

    #[test]
    fn figures_of_labels_or_images_that_do_not_match_are_none() {
        let px = [[10, 0, 0], [20, 0, 0], [20, 0, 0], [0, 0, 200]].concat();
        let img = ImageRef::new(2, 2, PixelFormat::Rgb8, &px).unwrap();
        let hist = ColorHistogram::from_image(&img);
        let palette = [[15, 0, 0], [0, 0, 190]];
        // A label short, one too many, and one beyond the palette.
        for labels in [&[1, 0][..], &[1, 0, 0, 0], &[1, 0, 2]] {
            assert_eq!(histogram_mse(&hist, labels, &palette), None);
            assert_eq!(histogram_delta_e(&hist, labels, &palette), None);
        }
        // The same pixels, laid out 4 x 1 instead of 2 x 2.
        let pal = Palette::new(&palette, false).unwrap();
        let indexed = IndexedImage::new(4, 1, pal, vec![0, 0, 0, 1]).unwrap();
        assert_eq!(pixel_mse(&img, &indexed), None);
        assert_eq!(pixel_delta_e(&img, &indexed), None);
    }
}
