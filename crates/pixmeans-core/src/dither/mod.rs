//! [`Dither`]: how the pixels are mapped to the palette, each to its
//! nearest colour or by error diffusion.
//!
//! Error diffusion is Floyd and Steinberg's (1976, "An adaptive algorithm
//! for spatial greyscale"): each pixel takes the palette colour nearest to
//! it plus the error passed on to it, and passes its own error on, 7/16 to
//! the next pixel in its row and 3/16, 5/16 and 1/16 to the three below.
//! Rows run in serpentine order (every other one right to left), which
//! keeps the patterns from drifting along a diagonal. The error is that of
//! the 8-bit sRGB colour written, and each colour sum is clamped to 0..=255
//! before its nearest palette colour is looked up, so an edge cannot pile
//! up error that smears into the next region. "Nearest" is measured in the
//! fit's working space, as for the undithered mapping.
//!
//! Passing on all of each error (level 1) lets error pile up wherever the
//! wanted colour lies outside the palette's hull: it comes out as stray
//! dots of far colours and as worms. Passing on 7/8 of it, the default
//! ([`Dither::DEFAULT_LEVEL`]), damps that. On the six photos of the
//! benchmarks at k = 16, 64 and 256 it gave 14 % to 51 % less MSE than
//! level 1, and an error once both images are blurred (a Gaussian of 1
//! pixel in linear light: what the eye sees from a little way off) within
//! 2.6 % of the least among levels 0.75 to 1, where level 1 was 8 % to
//! 53 % above it (`bench/compare/dither_levels.py`). The price: an area
//! of one colour within 1/16 of the way from a palette colour to the next
//! comes out as that palette colour, undithered (the error it carries
//! settles at 8 times its distance, short of the half-way point where the
//! next colour would be chosen), and areas somewhat farther out are pulled
//! towards it, by up to about 1/16 of the step.
//!
//! The rows are cut into bands (128 rows, or more in a narrow image) that
//! run in parallel, each starting 8 rows above its first row so that this
//! row gets the error a single pass would have passed down to it, near
//! enough to leave no seam; the bands do not depend on the number of
//! threads, so the result does not either.
//!
//! The sums are new colours (2.5 to 3.6 million on a 12 MP photo), so
//! their nearest palette colours are found through `cells::Cells`, and
//! through a small cache in each band for the colours whose cell leaves
//! more than one candidate.

use rayon::prelude::*;

use crate::color::{ColorSpace, Point};
use crate::histogram::{cache_slot, key};
use crate::image::ImageRef;

mod cells;
mod with_alpha;

use cells::{Cells, Lookup};
pub(crate) use with_alpha::{AlphaTarget, floyd_steinberg_with_alpha};

/// How each pixel is mapped to a palette colour. Default [`Dither::None`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub enum Dither {
    /// Every pixel to the palette colour nearest it: exactly the k-means
    /// labels, and the figures of the fit.
    #[default]
    None,
    /// Floyd–Steinberg error diffusion: smooth gradients without bands of
    /// flat colour, at the cost of grain, a higher MSE, and a larger PNG
    /// (noise compresses worse than flat areas).
    FloydSteinberg {
        /// The share of each pixel's error that is passed on, above 0 and
        /// at most 1 (all of it, as Floyd and Steinberg did). Lower levels
        /// give less grain and more banding. [`Dither::FLOYD_STEINBERG`]
        /// has [`Dither::DEFAULT_LEVEL`].
        level: f32,
    },
}

impl Dither {
    /// The share of each error passed on by default: 7/8, which blurred
    /// comparisons find better than all of it (see the module's docs).
    pub const DEFAULT_LEVEL: f32 = 0.875;

    /// The share of each error passed on, if the pixels are diffused.
    pub fn level(self) -> Option<f32> {
        match self {
            Dither::FloydSteinberg { level } => Some(level),
            Dither::None => None,
        }
    }

    /// Refuses a level outside 0 < level ≤ 1 with
    /// [`QuantizeError::DitherLevel`](crate::QuantizeError::DitherLevel).
    ///
    /// # Errors
    ///
    /// [`QuantizeError::DitherLevel`](crate::QuantizeError::DitherLevel) when
    /// the level of [`Dither::FloydSteinberg`] is not above 0 and at most 1
    /// (NaN included); [`Dither::None`] always passes.
    pub fn check(self) -> Result<Self, crate::QuantizeError> {
        match self.level() {
            Some(level) if !(level > 0.0 && level <= 1.0) => {
                Err(crate::QuantizeError::DitherLevel(level))
            }
            _ => Ok(self),
        }
    }

    /// Floyd–Steinberg error diffusion at [`Dither::DEFAULT_LEVEL`] (level
    /// 1 before 2026-11-24; `FloydSteinberg { level: 1.0 }` gives that
    /// output).
    pub const FLOYD_STEINBERG: Dither = Dither::FloydSteinberg {
        level: Dither::DEFAULT_LEVEL,
    };
}

/// Rows a band of the image dithers in one task, at least.
const BAND_ROWS: usize = 128;

/// Pixels a band holds at least, so that a narrow image does not fill a
/// band's cache for a few pixels.
const BAND_PIXELS: usize = 1 << 16;

/// The rows of each band of an image `width` pixels wide: a function of
/// the width alone, so that the output does not depend on the threads.
fn band_rows(width: usize) -> usize {
    BAND_ROWS.max(BAND_PIXELS.div_ceil(width))
}

/// Rows above its first that a band runs through, its output thrown away,
/// to carry the error down into its first row.
const WARM_UP_ROWS: usize = 8;

/// Slots of each band's cache of nearest palette entries (a power of two):
/// 2^18 or 2^20 were no faster on sunset.jpg.
const CACHE_SLOTS: usize = 1 << 16;

/// What error diffusion maps to: the palette's colours and, in the same
/// order, the centroids they were made from in the working space.
pub(crate) struct Target<'a> {
    pub(crate) colors: &'a [[u8; 3]],
    pub(crate) centroids: &'a [Point],
    pub(crate) space: ColorSpace,
    /// The index fully transparent pixels get (present whenever the image
    /// has such pixels).
    pub(crate) transparent: Option<u8>,
}

/// The palette index of every pixel, by Floyd–Steinberg error diffusion
/// passing on `level` of each error.
pub(crate) fn floyd_steinberg(image: &ImageRef<'_>, target: &Target<'_>, level: f32) -> Vec<u8> {
    let w = image.width() as usize;
    let cells = Cells::new(target.space, target.centroids);
    in_bands(image, || {
        let mut state = Band::new(w, target, &cells, level);
        move |y: usize, out: &mut [u8]| state.row(image, y, out)
    })
}

/// The palette index of every pixel, from rows dithered in parallel bands:
/// `band()` makes each band's state, a function that dithers row y into
/// its output, and is first run through the rows above the band.
fn in_bands<F>(image: &ImageRef<'_>, band: impl Fn() -> F + Sync) -> Vec<u8>
where
    F: FnMut(usize, &mut [u8]),
{
    let w = image.width() as usize;
    let mut indices = vec![0u8; image.pixel_count()];
    if w == 0 {
        return indices;
    }
    let rows = band_rows(w);
    indices
        .par_chunks_mut(rows * w)
        .enumerate()
        .for_each(|(i, out)| {
            let first = i * rows;
            let mut row = band();
            let mut thrown = vec![0u8; w];
            for y in first.saturating_sub(WARM_UP_ROWS)..first {
                row(y, &mut thrown);
            }
            for (i, out) in out.chunks_exact_mut(w).enumerate() {
                row(first + i, out);
            }
        });
    indices
}

/// The error passed on to this row and the next, N channels a pixel, with
/// one cell of margin at each end: cell x + 1 holds pixel x, and the
/// margins take what falls off.
struct Errors<const N: usize> {
    this_row: Vec<[f32; N]>,
    next_row: Vec<[f32; N]>,
}

impl<const N: usize> Errors<N> {
    fn new(width: usize) -> Self {
        Errors {
            this_row: vec![[0.0; N]; width + 2],
            next_row: vec![[0.0; N]; width + 2],
        }
    }

    /// Moves on a row: what was passed down is now this row's.
    fn next_row(&mut self) {
        std::mem::swap(&mut self.this_row, &mut self.next_row);
        self.next_row.fill([0.0; N]);
    }

    /// The error passed on to pixel x of this row.
    fn carried(&self, x: usize) -> [f32; N] {
        self.this_row[x + 1]
    }

    /// Passes pixel x's error on: 7/16 to the next pixel along the row,
    /// 3/16, 5/16 and 1/16 to the three below.
    fn pass_on(&mut self, x: usize, right_to_left: bool, error: [f32; N]) {
        let (ahead, behind) = if right_to_left {
            (x, x + 2)
        } else {
            (x + 2, x)
        };
        for c in 0..N {
            let e = error[c] / 16.0;
            self.this_row[ahead][c] += 7.0 * e;
            self.next_row[behind][c] += 3.0 * e;
            self.next_row[x + 1][c] += 5.0 * e;
            self.next_row[ahead][c] += e;
        }
    }
}

/// One band's running state: the error passed on to this row and the next,
/// and a cache of nearest entries.
struct Band<'a> {
    target: &'a Target<'a>,
    cells: &'a Cells<'a>,
    level: f32,
    errors: Errors<3>,
    /// Direct-mapped: `rgb << 8 | index`, or `u32::MAX` for none.
    cache: Vec<u32>,
}

impl<'a> Band<'a> {
    fn new(width: usize, target: &'a Target<'a>, cells: &'a Cells<'a>, level: f32) -> Self {
        Band {
            target,
            cells,
            level,
            errors: Errors::new(width),
            cache: vec![u32::MAX; CACHE_SLOTS],
        }
    }

    /// Dithers row y into `out`.
    fn row(&mut self, image: &ImageRef<'_>, y: usize, out: &mut [u8]) {
        let w = out.len();
        let ch = image.format().channels();
        let pixels = &image.data()[y * w * ch..(y + 1) * w * ch];
        self.errors.next_row();
        let right_to_left = y % 2 == 1;
        for step in 0..w {
            let x = if right_to_left { w - 1 - step } else { step };
            let p = &pixels[x * ch..x * ch + ch];
            if ch == 4 && p[3] == 0 {
                out[x] = self.target.transparent.unwrap_or(0);
                continue;
            }
            let carried = self.errors.carried(x);
            let wanted: [f32; 3] =
                std::array::from_fn(|c| (f32::from(p[c]) + carried[c]).clamp(0.0, 255.0));
            // In 0..=255, so adding a half and truncating rounds.
            let rgb = wanted.map(|v| (v + 0.5) as u8);
            let index = self.nearest(rgb);
            out[x] = index;
            let written = self.target.colors[usize::from(index)];
            let error = std::array::from_fn(|c| (wanted[c] - f32::from(written[c])) * self.level);
            self.errors.pass_on(x, right_to_left, error);
        }
    }

    /// The palette index whose centroid is nearest `rgb` in the working
    /// space: from its cell, or through the cache.
    fn nearest(&mut self, rgb: [u8; 3]) -> u8 {
        let list = match self.cells.lookup(rgb) {
            Lookup::Nearest(index) => return index,
            Lookup::Search(list) => list,
        };
        let key = key(rgb);
        let slot = cache_slot(key, CACHE_SLOTS);
        let cached = self.cache[slot];
        if cached >> 8 == key && cached != u32::MAX {
            return cached as u8;
        }
        let index = self.cells.search(list, rgb);
        self.cache[slot] = (key << 8) | u32::from(index);
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::PixelFormat;
    use crate::kmeans::Rng;
    use crate::{KMeansParams, Quantizer, metrics};

    /// A grey ramp from black to white, `w` wide and `h` high.
    fn ramp(w: u32, h: u32) -> Vec<u8> {
        (0..h)
            .flat_map(|_| (0..w).flat_map(move |x| [(x * 255 / (w - 1)) as u8; 3]))
            .collect()
    }

    #[test]
    fn error_diffusion_keeps_the_mean_of_a_ramp_where_nearest_colours_band() {
        let (w, h) = (256, 64);
        let pixels = ramp(w, h);
        let image = ImageRef::new(w, h, PixelFormat::Rgb8, &pixels).unwrap();
        let quantizer = Quantizer::new(KMeansParams::new(2));
        let plain = quantizer.quantize(&image).unwrap();
        let dithered = quantizer
            .clone()
            .with_dither(Dither::FLOYD_STEINBERG)
            .quantize(&image)
            .unwrap();
        // Mean grey of each 32-column stripe: the input's, and each output's.
        let stripe_means = |rgb: &[u8]| -> Vec<f64> {
            (0..w / 32)
                .map(|s| {
                    let sum: u64 = (0..h * w)
                        .filter(|i| (i % w) / 32 == s)
                        .map(|i| u64::from(rgb[i as usize * 3]))
                        .sum();
                    sum as f64 / f64::from(32 * h)
                })
                .collect()
        };
        let want = stripe_means(&pixels);
        // Stripes between the two palette greys: the others are out of
        // reach of any mix of them.
        let greys = plain.image().palette().rgb();
        let (dark, light) = (
            f64::from(greys[0][0].min(greys[1][0])),
            f64::from(greys[0][0].max(greys[1][0])),
        );
        let worst = |rgb: Vec<u8>| {
            stripe_means(&rgb)
                .iter()
                .zip(&want)
                .filter(|&(_, &m)| m > dark + 8.0 && m < light - 8.0)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max)
        };
        // Two greys 128 levels apart: undithered, such a stripe is off by
        // up to a quarter of the ramp. Passing on all of the error keeps
        // each stripe's mean within a level; the default level keeps it
        // within a few, a stripe 16 levels from a palette grey drifting 4
        // levels towards it.
        assert!(worst(plain.image().to_rgb()) > 30.0);
        let full = quantizer
            .clone()
            .with_dither(Dither::FloydSteinberg { level: 1.0 })
            .quantize(&image)
            .unwrap();
        assert!(worst(full.image().to_rgb()) < 1.0);
        assert!(worst(dithered.image().to_rgb()) < 5.0);
        // The fit is the same; the figures are those of each image.
        assert_eq!(plain.inertia(), dithered.inertia());
        assert_eq!(
            Some(dithered.mse()),
            metrics::pixel_mse(&image, dithered.image())
        );
        assert_eq!(dithered.counts().iter().sum::<u64>(), u64::from(w * h));
        assert!(dithered.counts()[1] > 0);
    }

    #[test]
    fn dithering_depends_on_nothing_but_its_input() {
        // Tall enough for several bands, with noise so that errors differ.
        let (w, h) = (97, 3 * band_rows(97) as u32 + 5);
        let mut rng = Rng::new(3);
        let pixels: Vec<u8> = ramp(w, h)
            .into_iter()
            .map(|v| v.saturating_add((rng.next_u64() % 40) as u8))
            .collect();
        let image = ImageRef::new(w, h, PixelFormat::Rgb8, &pixels).unwrap();
        let quantizer = Quantizer::new(KMeansParams::new(6))
            .with_color_space(ColorSpace::Oklab)
            .with_dither(Dither::FloydSteinberg { level: 0.8 });
        let a = quantizer.quantize(&image).unwrap();
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let b = one_thread.install(|| quantizer.quantize(&image).unwrap());
        assert_eq!(a.image().indices(), b.image().indices());
        assert_eq!(a.delta_e(), b.delta_e());
        assert_eq!(a.mse().to_bits(), b.mse().to_bits());
    }

    #[test]
    fn transparent_pixels_stay_transparent_and_pass_no_error() {
        let (w, h) = (64u32, 16u32);
        let pixels: Vec<u8> = ramp(w, h)
            .chunks_exact(3)
            .enumerate()
            .flat_map(|(i, p)| [p[0], p[1], p[2], if i % 3 == 0 { 0 } else { 255 }])
            .collect();
        let image = ImageRef::new(w, h, PixelFormat::Rgba8, &pixels).unwrap();
        let q = Quantizer::new(KMeansParams::new(3))
            .with_dither(Dither::FLOYD_STEINBERG)
            .quantize(&image)
            .unwrap();
        let t = q.image().palette().transparent_index().unwrap() as u8;
        for (i, &index) in q.image().indices().iter().enumerate() {
            assert_eq!(index == t, i % 3 == 0, "pixel {i}");
        }
        assert_eq!(q.counts().iter().sum::<u64>(), u64::from(w * h) - 342);
    }

    #[test]
    fn an_image_with_no_more_colours_than_k_is_copied_exactly() {
        let pixels = [9, 9, 9, 200, 10, 10, 9, 9, 9, 10, 10, 200];
        let image = ImageRef::new(2, 2, PixelFormat::Rgb8, &pixels).unwrap();
        let q = Quantizer::new(KMeansParams::new(4))
            .with_dither(Dither::FLOYD_STEINBERG)
            .quantize(&image)
            .unwrap();
        assert_eq!(q.image().to_rgb(), pixels);
        assert_eq!(q.mse(), 0.0);
    }

    #[test]
    fn a_level_outside_0_to_1_is_refused() {
        let pixels = ramp(8, 1);
        let image = ImageRef::new(8, 1, PixelFormat::Rgb8, &pixels).unwrap();
        for level in [0.0, -0.5, 1.01, f32::NAN, f32::INFINITY] {
            let q = Quantizer::new(KMeansParams::new(2))
                .with_dither(Dither::FloydSteinberg { level })
                .quantize(&image);
            assert!(
                matches!(q, Err(crate::QuantizeError::DitherLevel(_))),
                "{level}"
            );
        }
    }
}
