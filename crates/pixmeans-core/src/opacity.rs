//! Colour with opacity: what a quantization clusters when an image has
//! partly transparent pixels, and the figures of the result.
//!
//! A pixel is seen over whatever lies behind it, so it is clustered by
//! how it looks over black and over white alike. Its colour c (a point of
//! the working space) at opacity α in 0..=1 shows as α·c over black and as
//! α·c + (1 − α)·W over white, W being white in the space. Half the sum of
//! the squared errors of the two is the squared distance between points
//! of four coordinates: the colour over mid-grey, α·c + (1 − α)·W/2, and
//! the transparency (1 − α)·|W|/2. An opaque colour is then its three
//! coordinates and a 0, and a centroid is the opacity-weighted mean colour
//! with the mean opacity. In sRGB the compositing is that of 8-bit RGB; in
//! Oklab and CIELAB it is the same mixture taken in the space, a stand-in.
//!
//! Against the earlier point of premultiplied colour and transparency
//! weighed √3 times (the error over black, with opacity apart), this took
//! the worse of the PSNRs over black and over white of the badge and the
//! three cut-out photos of `bench/compare/pngquant_files.py` up by 0.5-2.0
//! dB at k = 16, 64 and 256, from below pngquant's on the photos to above
//! it at every point (2026-11-24, sRGB).
//!
//! A cluster whose pixels are opaque at least a third of the time, and
//! whose centroid is at least 7/8 opaque, gets an opaque palette entry
//! rather than its centroid, whose opacity, the mean of its pixels', would
//! let the background show through an opaque area (see
//! `AlphaColors::opaque_clusters`); the inertia is measured to that entry.
//!
//! The figures follow the same idea. MSE is the mean of the image's MSE
//! in 8-bit RGB over black and over white: an opaque image's MSE is its
//! RGB MSE, a few partly transparent pixels change it only by their own
//! errors, and in sRGB the inertia is its sum. ΔE is CIEDE2000 between
//! the colours as seen over white, each composited onto it in 8-bit sRGB.

use rayon::prelude::*;

use crate::color::{ColorSpace, srgb_to_lab};
use crate::histogram::ColorHistogram;
use crate::image::{ImageRef, IndexedImage, PIXEL_CHUNK};
use crate::metrics::{DeltaE, delta_e_of_colors, pixel_delta_e_over_white};

/// What a quantization does with partly transparent pixels (alpha 1 to
/// 254). Fully transparent pixels are always one palette entry of their
/// own. Default [`AlphaMode::Fit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AlphaMode {
    /// Cluster colour and opacity together: the palette gets entries of
    /// any opacity (a PNG's tRNS), and soft edges and shadows keep their
    /// gradual transparency. The default.
    #[default]
    Fit,
    /// Cluster by colour alone and write every such pixel opaque, in its
    /// colour: what segmentation does, and what pixmeans did before
    /// 2026-11-24.
    Opaque,
}

/// White in `space`: what a transparent pixel shows over a white page
/// (black is the origin of every space).
fn white(space: ColorSpace) -> [f32; 3] {
    match space {
        ColorSpace::Srgb => [255.0; 3],
        ColorSpace::Oklab => [1.0, 0.0, 0.0],
        ColorSpace::Lab => [100.0, 0.0, 0.0],
    }
}

/// The point of colour `[r, g, b]` at opacity `a` (of 255) in `space`.
pub(crate) fn point_of(space: ColorSpace, [r, g, b, a]: [u8; 4]) -> [f32; 4] {
    let alpha = f32::from(a) / 255.0;
    let half_clear = 0.5 * (1.0 - alpha);
    let [x, y, z] = space.from_srgb([r, g, b]);
    let w = white(space);
    [
        x * alpha + half_clear * w[0],
        y * alpha + half_clear * w[1],
        z * alpha + half_clear * w[2],
        half_clear * norm(w),
    ]
}

fn norm([x, y, z]: [f32; 3]) -> f32 {
    (x * x + y * y + z * z).sqrt()
}

/// The opacity (0..=1) of a point, and its colour unpremultiplied, in
/// `space`.
fn unpremultiplied(space: ColorSpace, [x, y, z, t]: [f32; 4]) -> ([f32; 3], f32) {
    let w = white(space);
    let half_clear = t / norm(w);
    let alpha = (1.0 - 2.0 * half_clear).clamp(0.0, 1.0);
    // A cluster of next to no opacity keeps its colour finite.
    let over = alpha.max(1.0 / 1024.0);
    let [x, y, z] = [
        x - half_clear * w[0],
        y - half_clear * w[1],
        z - half_clear * w[2],
    ];
    ([x / over, y / over, z / over], alpha)
}

/// The colour of a point in `space`, without its opacity: what a
/// four-coordinate fit's centroids become in a [`crate::Fit`] of colours.
pub(crate) fn color_of(space: ColorSpace, p: [f32; 4]) -> [f32; 3] {
    unpremultiplied(space, p).0
}

/// The 8-bit RGBA palette entry of a point in `space`. Its alpha is at
/// least 1, so that it is never taken for the fully transparent entry.
pub(crate) fn rgba_of(space: ColorSpace, p: [f32; 4]) -> [u8; 4] {
    let (color, alpha) = unpremultiplied(space, p);
    let [r, g, b] = space.to_srgb(color);
    [r, g, b, (alpha * 255.0).round().clamp(1.0, 255.0) as u8]
}

/// The least share of a cluster's pixels that are opaque for its palette
/// entry to be opaque ([`AlphaColors::opaque_clusters`]). On the three
/// cut-out photos of `bench/compare/pngquant_files.py` at k = 16, 64 and
/// 256 (sRGB), a third kept 91-100 % of the opaque pixels opaque, where
/// the centroids kept 0-42 % (a half: 9-96 %; pngquant 0-72 %). It took
/// 0.05-0.20 dB off the worse of the PSNRs over black and over white,
/// still 0.24-1.13 dB above pngquant's (dithered, 0.10-0.46 dB off), with
/// files as large (2026-11-24).
const OPAQUE_SHARE: f64 = 1.0 / 3.0;

/// The least alpha of a centroid whose cluster may get an opaque entry
/// ([`AlphaColors::opaque_clusters`]): 7/8 opaque. Each of its pixels'
/// squared error rises by the square of the centroid's transparency, which
/// is small only for a nearly opaque centroid.
const OPAQUE_FLOOR: u8 = 224;

/// The distinct colours with their opacity that a quantization clusters:
/// first the histogram's colours that some opaque pixel has (alpha 255, in
/// the histogram's order, with the opaque pixels' count), then its partly
/// transparent RGBA values.
#[derive(Debug, Clone)]
pub(crate) struct AlphaColors {
    colors: Vec<[u8; 4]>,
    counts: Vec<u64>,
    /// For each histogram colour, its entry as an opaque colour, or
    /// `u32::MAX` where every pixel of that colour is partly transparent.
    opaque_entry: Vec<u32>,
    /// How many of the entries are opaque colours.
    opaque_len: usize,
}

impl AlphaColors {
    /// The entries of `hist`.
    pub(crate) fn new(hist: &ColorHistogram) -> Self {
        let mut colors = Vec::with_capacity(hist.len() + hist.translucent().len());
        let mut counts = Vec::with_capacity(colors.capacity());
        let mut opaque_entry = Vec::with_capacity(hist.len());
        for (&[r, g, b], n) in hist.colors().iter().zip(opaque_counts(hist)) {
            if n == 0 {
                opaque_entry.push(u32::MAX);
            } else {
                opaque_entry.push(colors.len() as u32);
                colors.push([r, g, b, 255]);
                counts.push(n);
            }
        }
        let opaque_len = colors.len();
        colors.extend_from_slice(hist.translucent());
        counts.extend_from_slice(hist.translucent_counts());
        AlphaColors {
            colors,
            counts,
            opaque_entry,
            opaque_len,
        }
    }

    /// The number of entries.
    pub(crate) fn len(&self) -> usize {
        self.colors.len()
    }

    /// The entries as RGBA.
    pub(crate) fn colors(&self) -> &[[u8; 4]] {
        &self.colors
    }

    /// The pixel count of each entry.
    pub(crate) fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Whether these could be the entries of `hist`: as many colours, and
    /// as many partly transparent values.
    pub(crate) fn are_of(&self, hist: &ColorHistogram) -> bool {
        self.opaque_entry.len() == hist.len()
            && self.colors.len() - self.opaque_len == hist.translucent().len()
    }

    /// Each entry as a point of `space`.
    pub(crate) fn points_in(&self, space: ColorSpace) -> Vec<[f32; 4]> {
        self.colors
            .par_iter()
            .map(|&c| point_of(space, c))
            .collect()
    }

    /// Which clusters get an opaque palette entry, from each entry's label,
    /// each cluster's pixel count and its centroid's alpha: those whose
    /// pixels are opaque at least [`OPAQUE_SHARE`] of the time and whose
    /// centroid is at least [`OPAQUE_FLOOR`] opaque. The rest get their
    /// centroid.
    ///
    /// A centroid's opacity is the mean of its pixels', so a cluster of
    /// a cut-out's opaque middle that takes in a few of its nearly opaque
    /// edge pixels comes out a little see-through, and so does every
    /// opaque pixel in it: whatever lies behind shows through the middle
    /// of the picture (a checkerboard, in an editor). Such a cluster's
    /// entry is made opaque instead, in the colour its pixels have over
    /// mid-grey (the centroid's first three coordinates): the best opaque
    /// colour for them by the fit's measure, which rises by the squared
    /// transparency of the centroid for each of its pixels. A cluster of
    /// centroid less opaque than the floor (a soft shadow, or a whole
    /// feathered image at k = 1) keeps it: made opaque, its edge or
    /// shadow would turn solid.
    pub(crate) fn opaque_clusters(
        &self,
        labels: &[u32],
        counts: &[u64],
        alpha: &[u8],
    ) -> Vec<bool> {
        let mut opaque = vec![0u64; counts.len()];
        for (&l, &n) in labels[..self.opaque_len].iter().zip(&self.counts) {
            opaque[l as usize] += n;
        }
        (opaque.iter().zip(counts).zip(alpha))
            .map(|((&o, &n), &a)| a >= OPAQUE_FLOOR && o as f64 >= OPAQUE_SHARE * n as f64)
            .collect()
    }

    /// The labels of the entries that are opaque colours, from each
    /// entry's.
    pub(crate) fn opaque_labels<'a>(&self, labels: &'a [u8]) -> &'a [u8] {
        &labels[..self.opaque_len]
    }

    /// The label of each histogram colour's opaque pixels (0 where it has
    /// none), and of each partly transparent value, from each entry's.
    pub(crate) fn split_labels(&self, labels: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let opaque = self
            .opaque_entry
            .iter()
            .map(|&e| labels.get(e as usize).copied().unwrap_or(0))
            .collect();
        (opaque, labels[self.opaque_len..].to_vec())
    }

    /// MSE (as the module's docs define it) of mapping each entry to
    /// `palette[labels[i]]`.
    pub(crate) fn mse(&self, labels: &[u32], palette: &[[u8; 4]]) -> f64 {
        let total: u64 = self.counts.iter().sum();
        let sse = (self.colors.par_iter(), self.counts.par_iter(), labels)
            .into_par_iter()
            .map(|(&c, &n, &l)| u128::from(n) * u128::from(composite_error(c, palette[l as usize])))
            .sum();
        composite_mse(sse, total)
    }

    /// CIEDE2000 between each entry and `palette[labels[i]]`, both
    /// composited over white, summarised over pixels.
    pub(crate) fn delta_e(&self, labels: &[u32], palette: &[[u8; 4]]) -> DeltaE {
        let total: u64 = self.counts.iter().sum();
        if total == 0 {
            return DeltaE::default();
        }
        let pal: Vec<[f64; 3]> = palette
            .iter()
            .map(|&c| srgb_to_lab(over_white(c)))
            .collect();
        let de = delta_e_of_colors(&self.colors, &self.counts, labels, &pal, |&c| {
            srgb_to_lab(over_white(c))
        });
        DeltaE::of_weighted(&de, total)
    }
}

/// The MSE and ΔE of [`AlphaColors::mse`] and [`AlphaColors::delta_e`],
/// of an image and its indexed version pixel by pixel (a dithered one),
/// over the pixels that are not fully transparent in the image.
pub(crate) fn pixel_figures(image: &ImageRef<'_>, indexed: &IndexedImage) -> (f64, DeltaE) {
    let palette = indexed.palette().colors();
    let (sse, n) = image
        .data()
        .par_chunks(4 * PIXEL_CHUNK)
        .zip(indexed.indices().par_chunks(PIXEL_CHUNK))
        .map(|(px, ix)| {
            px.chunks_exact(4).zip(ix).filter(|(p, _)| p[3] != 0).fold(
                (0u128, 0u64),
                |(sse, n), (p, &i)| {
                    let e = composite_error([p[0], p[1], p[2], p[3]], palette[usize::from(i)]);
                    (sse + u128::from(e), n + 1)
                },
            )
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    (
        composite_mse(sse, n),
        pixel_delta_e_over_white(image, indexed),
    )
}

/// How many pixels of each histogram colour are opaque. Both lists of the
/// histogram are sorted by colour: they are walked together, each colour's
/// partly transparent pixels taken from its count.
fn opaque_counts(hist: &ColorHistogram) -> impl Iterator<Item = u64> + '_ {
    let mut partly = hist.translucent_iter().peekable();
    hist.iter().map(move |(c, mut n)| {
        while let Some((_, m)) = partly.next_if(|(p, _)| p[..3] == c) {
            n -= m;
        }
        n
    })
}

/// The number of entries [`AlphaColors::new`] makes of `hist`, without
/// making them.
pub(crate) fn entry_count(hist: &ColorHistogram) -> usize {
    opaque_counts(hist).filter(|&n| n > 0).count() + hist.translucent().len()
}

/// The squared error of `a` against `b` over the three channels of 8-bit
/// RGB composited over black plus that over white, times 255²: a whole
/// number, so that sums of it are exact whatever their order.
fn composite_error(a: [u8; 4], b: [u8; 4]) -> u64 {
    let (aa, ba) = (i64::from(a[3]), i64::from(b[3]));
    let mut sum = 0;
    for i in 0..3 {
        // Each composite times 255.
        let over_black = i64::from(a[i]) * aa - i64::from(b[i]) * ba;
        let over_white = over_black + 255 * (ba - aa);
        sum += over_black * over_black + over_white * over_white;
    }
    sum.unsigned_abs()
}

/// The MSE of `pixels` pixels whose [`composite_error`]s sum to `sse`:
/// the mean of their MSE over black and over white. 0 without pixels.
fn composite_mse(sse: u128, pixels: u64) -> f64 {
    if pixels == 0 {
        return 0.0;
    }
    sse as f64 / (2.0 * 255.0 * 255.0 * 3.0 * pixels as f64)
}

/// An RGBA colour composited over white in 8-bit sRGB, rounded to the
/// nearest level (no sum of 255ths falls half-way between two).
pub fn over_white([r, g, b, a]: [u8; 4]) -> [u8; 3] {
    let a = u32::from(a);
    [r, g, b].map(|c| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::ciede2000;

    #[test]
    fn pixel_figures_are_those_of_every_pixel_over_black_white() {
        // Pixels of every kind of opacity, mapped to entries of several.
        let (w, h) = (61, 37);
        let px: Vec<u8> = (0..w * h)
            .flat_map(|i: usize| {
                let a = [0, 255, 255, (i * 7 % 256) as u8][i % 4];
                [
                    (i * 37 % 256) as u8,
                    (i * 11 % 256) as u8,
                    (i % 256) as u8,
                    a,
                ]
            })
            .collect();
        let image = ImageRef::new(w as u32, h as u32, crate::PixelFormat::Rgba8, &px).unwrap();
        let entries = [
            [200, 10, 90, 255],
            [30, 60, 90, 120],
            [250, 250, 5, 7],
            [1, 2, 3, 255],
        ];
        let palette = crate::Palette::with_alpha(&entries, true).unwrap();
        let indices: Vec<u8> = (0..w * h).map(|i| ((i * 5 / 3) % 5) as u8).collect();
        let indexed = IndexedImage::new(w as u32, h as u32, palette, indices).unwrap();
        let (mse, de) = pixel_figures(&image, &indexed);
        // Every pixel but the fully transparent ones, one at a time.
        let pal = indexed.palette().colors();
        let (mut sse, mut all) = (0.0, Vec::new());
        for (p, &i) in px.chunks_exact(4).zip(indexed.indices()) {
            if p[3] == 0 {
                continue;
            }
            let (p, e) = ([p[0], p[1], p[2], p[3]], pal[usize::from(i)]);
            let (pa, ea) = (f64::from(p[3]) / 255.0, f64::from(e[3]) / 255.0);
            for bg in [0.0, 255.0] {
                for c in 0..3 {
                    let shown = |v: u8, a: f64| f64::from(v) * a + bg * (1.0 - a);
                    sse += (shown(p[c], pa) - shown(e[c], ea)).powi(2) / 2.0;
                }
            }
            all.push(ciede2000(
                srgb_to_lab(over_white(p)),
                srgb_to_lab(over_white(e)),
            ));
        }
        let want = sse / (3.0 * all.len() as f64);
        assert!((mse - want).abs() < 1e-12 * want, "{mse} {want}");
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        assert!((de.mean - mean).abs() < 1e-12 * mean, "{} {mean}", de.mean);
        all.sort_unstable_by(f64::total_cmp);
        assert_eq!(de.p95, all[(all.len() * 95).div_ceil(100) - 1]);
    }

    #[test]
    fn an_opaque_colour_is_its_colour_and_a_zero() {
        for space in ColorSpace::ALL {
            for c in [[0, 0, 0], [255, 255, 255], [12, 200, 77]] {
                let [x, y, z] = space.from_srgb(c);
                assert_eq!(point_of(space, [c[0], c[1], c[2], 255]), [x, y, z, 0.0]);
            }
        }
    }

    #[test]
    fn a_point_turns_back_into_its_colour_and_opacity() {
        for space in ColorSpace::ALL {
            for c in [
                [0, 0, 0, 1],
                [255, 255, 255, 128],
                [12, 200, 77, 254],
                [90, 30, 9, 40],
            ] {
                assert_eq!(rgba_of(space, point_of(space, c)), c, "{space}");
            }
            // Next to no opacity still gives an entry that is not the
            // transparent one.
            assert_eq!(rgba_of(space, point_of(space, [9, 9, 9, 0]))[3], 1);
        }
    }

    #[test]
    fn in_srgb_distance_is_the_error_over_black_and_white() {
        let (a, b) = ([200, 10, 90, 100], [30, 60, 90, 230]);
        let (p, q) = (point_of(ColorSpace::Srgb, a), point_of(ColorSpace::Srgb, b));
        let d2: f64 = p.iter().zip(q).map(|(x, y)| f64::from(x - y).powi(2)).sum();
        let want = composite_error(a, b) as f64 / (2.0 * 255.0 * 255.0);
        assert!((d2 - want).abs() < 1e-5 * want, "{d2} {want}");
        // Which is half the sum of the two composites' squared errors.
        let over = |c: [u8; 4], bg: f64| {
            let a = f64::from(c[3]) / 255.0;
            [0, 1, 2].map(|i| f64::from(c[i]) * a + bg * (1.0 - a))
        };
        let sum: f64 = [0.0, 255.0]
            .iter()
            .flat_map(|&bg| (0..3).map(move |i| (over(a, bg)[i] - over(b, bg)[i]).powi(2)))
            .sum();
        assert!((2.0 * want - sum).abs() < 1e-9 * sum);
    }

    #[test]
    fn the_entries_split_each_colour_into_opaque_and_partly_transparent() {
        // Three opaque pixels of [1, 1, 1] and two partly transparent
        // ones; every pixel of [2, 2, 2] is partly transparent.
        let px = [
            [1, 1, 1, 255],
            [1, 1, 1, 9],
            [2, 2, 2, 60],
            [1, 1, 1, 255],
            [1, 1, 1, 9],
            [2, 2, 2, 50],
            [1, 1, 1, 255],
        ]
        .concat();
        let image = crate::ImageRef::new(7, 1, crate::PixelFormat::Rgba8, &px).unwrap();
        let hist = ColorHistogram::from_image(&image);
        let a = AlphaColors::new(&hist);
        assert_eq!(
            a.colors(),
            &[[1, 1, 1, 255], [1, 1, 1, 9], [2, 2, 2, 50], [2, 2, 2, 60]]
        );
        assert_eq!(a.counts(), &[3, 2, 1, 1]);
        assert_eq!(a.split_labels(&[7, 8, 9, 10]), (vec![7, 0], vec![8, 9, 10]));
    }

    #[test]
    fn figures_weigh_opacity() {
        let hist = ColorHistogram::from_counts([([10, 10, 10], 2)], 0);
        let a = AlphaColors::new(&hist);
        // Opaque, 10 off in each colour channel: as in RGB.
        assert_eq!(a.mse(&[0], &[[20, 20, 20, 255]]), 100.0);
        let e = a.delta_e(&[0], &[[10, 10, 10, 255]]);
        assert_eq!(e, DeltaE::default());
        assert_eq!(over_white([0, 0, 0, 0]), [255, 255, 255]);
        assert_eq!(over_white([0, 0, 0, 255]), [0, 0, 0]);
        assert_eq!(over_white([0, 0, 0, 128]), [127, 127, 127]);
    }
}
