//! CIEDE2000 summarised over an image: the mean and 95th percentile over
//! its pixels, from its distinct colours or pixel by pixel.

use rayon::prelude::*;

use super::{Seen, ciede2000, ciede2000_many, labels_fit, opaque_pixels, same_size};
use crate::color::srgb_to_lab;
use crate::histogram::{ColorHistogram, cache_slot, key};
use crate::image::{ImageRef, IndexedImage, PixelFormat};

/// CIEDE2000 between each pixel and its palette colour, summarised over
/// the pixels that are not fully transparent in the original: what
/// [`histogram_delta_e`] gives when the pixels of one colour may have
/// different palette colours (as when dithered). Exact, like it: the mean
/// over every pixel, and the 95th percentile found among the values of a
/// window around it that a sample of the pixels brackets. `None` when the
/// sizes differ.
pub fn pixel_delta_e(original: &ImageRef<'_>, indexed: &IndexedImage) -> Option<DeltaE> {
    same_size(original, indexed).then(|| delta_e_by_pixel(original, indexed))
}

/// [`pixel_delta_e`] for images known to have the same size.
pub(crate) fn delta_e_by_pixel(original: &ImageRef<'_>, indexed: &IndexedImage) -> DeltaE {
    delta_e_seen(original, indexed, Seen::Rgb)
}

/// [`delta_e_by_pixel`] between the pixels and their palette entries as
/// both look over white: the ΔE of an image with partly transparent pixels.
pub(crate) fn pixel_delta_e_over_white(original: &ImageRef<'_>, indexed: &IndexedImage) -> DeltaE {
    delta_e_seen(original, indexed, Seen::OverWhite)
}

fn delta_e_seen(original: &ImageRef<'_>, indexed: &IndexedImage, seen: Seen) -> DeltaE {
    let pal = seen.palette_lab(indexed);
    let pixels = Pixels {
        original,
        indexed,
        pal: &pal,
        seen,
    };
    let window = pixels.sample_window();
    pixels.delta_e_around(window)
}

/// The pixels of an image beside their palette entries, for
/// [`pixel_delta_e`].
struct Pixels<'a> {
    original: &'a ImageRef<'a>,
    indexed: &'a IndexedImage,
    /// The CIELAB of each palette entry, as seen.
    pal: &'a [[f64; 3]],
    seen: Seen,
}

/// Pixels a sample for [`Pixels::sample_window`] takes at most.
const WINDOW_SAMPLE: usize = 100_000;

impl Pixels<'_> {
    /// [`pixel_delta_e`] with the 95th percentile looked for between the
    /// bounds of `window` first, and on the side of it where it lies if
    /// not there.
    fn delta_e_around(&self, window: (f64, f64)) -> DeltaE {
        let pass = self.window_pass(window);
        if pass.total == 0 {
            return DeltaE::default();
        }
        let mean = pass.sum / pass.total as f64;
        let need = p95_rank(pass.total);
        let Window {
            below, mut inside, ..
        } = if need <= pass.below {
            // The sample misled (never seen on photos): under the window.
            self.window_pass((0.0, window.0))
        } else if need > pass.below + pass.inside.len() as u64 {
            self.window_pass((window.1, f64::INFINITY))
        } else {
            pass
        };
        inside.sort_unstable_by(f64::total_cmp);
        // `need - below` of the window's values reach the quantile.
        let p95 = inside[(need - below) as usize - 1];
        DeltaE { mean, p95 }
    }

    /// Bounds that the 95th percentile of ΔE almost surely lies within:
    /// the 93rd and 97th percentiles of an even sample of the pixels (of
    /// every pixel in an image under [`WINDOW_SAMPLE`] pixels). With
    /// 100,000 pixels the sample's 95th percentile strays from the
    /// image's by about 0.07 points of percentage, a thirtieth of the
    /// margin.
    fn sample_window(&self) -> (f64, f64) {
        let original = self.original;
        let ch = original.format().channels();
        let rgba = original.format() == PixelFormat::Rgba8;
        let stride = original.pixel_count().div_ceil(WINDOW_SAMPLE).max(1);
        let mut cache = DeltaECache::new(delta_e_slots(original.pixel_count()));
        let mut sample: Vec<f64> = original
            .data()
            .chunks_exact(ch)
            .zip(self.indexed.indices())
            .step_by(stride)
            .filter(|(p, _)| !(rgba && p[3] == 0))
            .map(|(p, &i)| cache.get(self.seen.of(p), i, self.pal))
            .collect();
        if sample.is_empty() {
            return (0.0, f64::INFINITY);
        }
        sample.sort_unstable_by(f64::total_cmp);
        let at = |q: f64| sample[((sample.len() - 1) as f64 * q) as usize];
        (at(0.93), at(0.97))
    }

    /// One pass over the pixels, keeping the values from `lo` to `hi`
    /// (both included).
    fn window_pass(&self, (lo, hi): (f64, f64)) -> Window {
        let slots = delta_e_slots(self.original.pixel_count());
        let parts: Vec<Window> = opaque_pixels(self.original, self.indexed, self.seen)
            .map_init(
                || DeltaECache::new(slots),
                |cache, chunk| {
                    let mut part = Window::default();
                    for (p, i) in chunk {
                        let d = cache.get(p, i, self.pal);
                        part.sum += d;
                        part.total += 1;
                        if d < lo {
                            part.below += 1;
                        } else if d <= hi {
                            part.inside.push(d);
                        }
                    }
                    part
                },
            )
            .collect();
        // In chunk order: the sum does not depend on the threads.
        let mut all = Window::default();
        for part in parts {
            all.sum += part.sum;
            all.total += part.total;
            all.below += part.below;
            all.inside.extend(part.inside);
        }
        all
    }
}

/// What one pass over the pixels finds: the sum and number of the ΔE
/// values, how many fall under the window and those within it.
#[derive(Default)]
struct Window {
    sum: f64,
    total: u64,
    below: u64,
    inside: Vec<f64>,
}

/// Slots of each table of a [`DeltaECache`] for an image of `pixels`
/// pixels: the power of two at or above the pixels, from 2^10 up to 2^16
/// (3 MB a cache, one per thread at a time). sunset.jpg dithered at k = 256
/// has 471k distinct pairs of colour and index, and its ΔE took 0.11-0.14 s
/// with 2^16 slots against 0.19-0.21 s with 2^12.
fn delta_e_slots(pixels: usize) -> usize {
    pixels.next_power_of_two().clamp(1 << 10, 1 << 16)
}

/// Direct-mapped caches of the CIEDE2000 of a colour and a palette index,
/// and of a colour's CIELAB: the pixels of a region repeat a few colours,
/// and a dithered colour a few palette indices.
struct DeltaECache {
    delta_e: Vec<(u32, f64)>,
    lab: Vec<(u32, [f64; 3])>,
}

impl DeltaECache {
    /// Empty tables of `slots` slots each (a power of two).
    fn new(slots: usize) -> Self {
        // Key `u32::MAX` (white with index 255; no colour's key) is taken
        // for empty: such a pair is computed again each time it is met.
        DeltaECache {
            delta_e: vec![(u32::MAX, 0.0); slots],
            lab: vec![(u32::MAX, [0.0; 3]); slots],
        }
    }

    fn get(&mut self, rgb: [u8; 3], index: u8, pal: &[[f64; 3]]) -> f64 {
        let color = key(rgb);
        let key = (color << 8) | u32::from(index);
        let slots = self.delta_e.len();
        let slot = |key: u32| cache_slot(key, slots);
        let (k, d) = self.delta_e[slot(key)];
        if k == key && k != u32::MAX {
            return d;
        }
        let (c, lab) = self.lab[slot(color)];
        let lab = if c == color {
            lab
        } else {
            let lab = srgb_to_lab(rgb);
            self.lab[slot(color)] = (color, lab);
            lab
        };
        let d = ciede2000(lab, pal[usize::from(index)]);
        self.delta_e[slot(key)] = (key, d);
        d
    }
}

/// Mean and 95th percentile of CIEDE2000 over the pixels of an image.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DeltaE {
    /// Mean over pixels.
    pub mean: f64,
    /// The smallest difference that at least 95 % of pixels stay within.
    pub p95: f64,
}

impl DeltaE {
    /// The summary of `(ΔE, pixels)` pairs whose pixels add up to `total`
    /// (above 0).
    pub(crate) fn of_weighted(values: &[(f64, u64)], total: u64) -> Self {
        let mean = values.iter().map(|&(d, n)| d * n as f64).sum::<f64>() / total as f64;
        let p95 = weighted_quantile(values, p95_rank(total));
        DeltaE { mean, p95 }
    }
}

/// How many of `total` pixels the 95th percentile must cover.
fn p95_rank(total: u64) -> u64 {
    (total * 95).div_ceil(100)
}

/// CIEDE2000 between each histogram colour and `palette[labels[i]]`,
/// summarised over pixels (each colour weighted by its count; fully
/// transparent pixels left out). `None` unless there is one label per
/// histogram colour, each a position in `palette`.
pub fn histogram_delta_e(
    hist: &ColorHistogram,
    labels: &[u32],
    palette: &[[u8; 3]],
) -> Option<DeltaE> {
    labels_fit(hist, labels, palette.len()).then(|| delta_e_by_color(hist, labels, palette))
}

/// [`histogram_delta_e`] for labels known to fit.
pub(crate) fn delta_e_by_color(
    hist: &ColorHistogram,
    labels: &[u32],
    palette: &[[u8; 3]],
) -> DeltaE {
    let total = hist.visible();
    if total == 0 {
        return DeltaE::default();
    }
    let pal: Vec<[f64; 3]> = palette.iter().map(|&c| srgb_to_lab(c)).collect();
    let counts = hist.counts();
    let de = match hist.kept_lab() {
        Some(lab) => delta_e_of_colors(lab, counts, labels, &pal, |&lab| lab),
        None => delta_e_of_colors(hist.colors(), counts, labels, &pal, |&c| srgb_to_lab(c)),
    };
    DeltaE::of_weighted(&de, total)
}

/// Colours [`delta_e_of_colors`] hands [`ciede2000_many`] at a time.
const BATCH: usize = 1024;

/// `(ΔE, count)` for each colour in order: CIEDE2000 between the CIELAB
/// `lab` gives for `colors[i]` and `pal[labels[i]]`, with `counts[i]`.
/// Through [`ciede2000_many`], [`BATCH`] colours at a time: `pixmeans
/// elbow` (k = 1 to 16) then took 0.37 s on sunset.jpg where one pair at
/// a time took 0.43-0.47, and 1.38-1.39 s where it took 1.91-2.01 on
/// sunset.jpg with Gaussian noise (σ = 6, 1.25 million colours), at the
/// same peak memory (three runs each, alternating).
pub(crate) fn delta_e_of_colors<T: Sync>(
    colors: &[T],
    counts: &[u64],
    labels: &[u32],
    pal: &[[f64; 3]],
    lab: impl Fn(&T) -> [f64; 3] + Sync,
) -> Vec<(f64, u64)> {
    // Written in place rather than collected from the chunks, which would
    // hold every chunk's values and then a copy of them all.
    let mut out = vec![(0.0, 0); colors.len()];
    out.par_chunks_mut(BATCH)
        .zip(colors.par_chunks(BATCH))
        .zip(counts.par_chunks(BATCH))
        .zip(labels.par_chunks(BATCH))
        .for_each(|(((out, colors), counts), labels)| {
            let x: Vec<[f64; 3]> = colors.iter().map(&lab).collect();
            let y: Vec<[f64; 3]> = labels.iter().map(|&l| pal[l as usize]).collect();
            let mut d = vec![0.0; x.len()];
            ciede2000_many(&x, &y, &mut d);
            for ((o, d), &n) in out.iter_mut().zip(d).zip(counts) {
                *o = (d, n);
            }
        });
    out
}

/// Buckets for [`weighted_quantile`]; a bucket of 177k photo colours then
/// holds about a hundred.
const QUANTILE_BUCKETS: usize = 4096;

/// The smallest value such that the weights of all values up to it reach
/// `need`: what sorting the values and walking their weights finds, in
/// linear time. The values are first counted into buckets spaced evenly up
/// to the largest, and only the bucket holding the quantile is sorted. On
/// picture0b.jpg's 176k colours this replaced a parallel sort that took a
/// sixth of the time of the ΔE figures.
pub(crate) fn weighted_quantile(values: &[(f64, u64)], need: u64) -> f64 {
    let top = values.iter().fold(0.0f64, |m, v| m.max(v.0));
    if top <= 0.0 {
        return 0.0;
    }
    // Nondecreasing in the value, so every value in an earlier bucket is
    // below every value in a later one, and equal values share a bucket.
    let bucket = |v: f64| ((v / top * QUANTILE_BUCKETS as f64) as usize).min(QUANTILE_BUCKETS - 1);
    let mut weight = vec![0u64; QUANTILE_BUCKETS];
    for &(v, n) in values {
        weight[bucket(v)] += n;
    }
    let mut seen = 0;
    let Some(b) = weight.iter().position(|&w| {
        seen += w;
        seen >= need
    }) else {
        return top;
    };
    seen -= weight[b];
    let mut inside: Vec<(f64, u64)> = values
        .iter()
        .copied()
        .filter(|&(v, _)| bucket(v) == b)
        .collect();
    inside.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
    inside
        .iter()
        .find(|&&(_, n)| {
            seen += n;
            seen >= need
        })
        .map_or(top, |p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::palette::Palette;

    #[test]
    fn the_weighted_quantile_equals_a_sort_and_walk() {
        let mut rng = crate::kmeans::Rng::new(9);
        for n in [1usize, 2, 10, 1000, 50_000] {
            // Values with many ties and a long tail, weights up to 1000.
            let values: Vec<(f64, u64)> = (0..n)
                .map(|_| {
                    let u = rng.uniform();
                    (
                        (u * u * 40.0).round() / 4.0,
                        1 + (rng.uniform() * 1000.0) as u64,
                    )
                })
                .collect();
            let total: u64 = values.iter().map(|v| v.1).sum();
            let mut sorted = values.clone();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            for need in [1, total / 2, (total * 95).div_ceil(100), total] {
                let mut seen = 0;
                let want = sorted
                    .iter()
                    .find(|&&(_, w)| {
                        seen += w;
                        seen >= need
                    })
                    .map_or(0.0, |p| p.0);
                assert_eq!(weighted_quantile(&values, need), want, "n {n} need {need}");
            }
        }
        assert_eq!(weighted_quantile(&[(0.0, 5)], 5), 0.0);
    }

    #[test]
    fn pixel_delta_e_is_the_mean_and_quantile_of_every_pixel() {
        // 300 x 200 noisy pixels over a 7-colour palette, some transparent.
        let mut rng = crate::kmeans::Rng::new(12345);
        let mut next = move || (rng.next_u64() >> 56) as u8;
        let (w, h) = (300u32, 200u32);
        let pixels: Vec<u8> = (0..w * h)
            .flat_map(|i| [next(), next() / 2, 90, if i % 11 == 0 { 0 } else { 255 }])
            .collect();
        let indices: Vec<u8> = (0..w * h)
            .map(|i| if i % 11 == 0 { 7 } else { next() % 7 })
            .collect();
        let colors: Vec<[u8; 3]> = (0..7u8).map(|j| [j * 36, 255 - j * 30, j * 20]).collect();
        let palette = Palette::new(&colors, true).unwrap();
        let image = ImageRef::new(w, h, PixelFormat::Rgba8, &pixels).unwrap();
        let indexed = IndexedImage::new(w, h, palette, indices.clone()).unwrap();
        let mut all: Vec<f64> = pixels
            .chunks_exact(4)
            .zip(&indices)
            .filter(|(p, _)| p[3] != 0)
            .map(|(p, &i)| {
                ciede2000(
                    srgb_to_lab([p[0], p[1], p[2]]),
                    srgb_to_lab(colors[usize::from(i)]),
                )
            })
            .collect();
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        all.sort_unstable_by(f64::total_cmp);
        let p95 = all[(all.len() * 95).div_ceil(100) - 1];
        let got = pixel_delta_e(&image, &indexed).unwrap();
        assert!((got.mean - mean).abs() < 1e-9 * mean);
        assert_eq!(got.p95, p95);
        // A window that misses the quantile, on either side, finds it all
        // the same.
        let pal = Seen::Rgb.palette_lab(&indexed);
        let pixels = Pixels {
            original: &image,
            indexed: &indexed,
            pal: &pal,
            seen: Seen::Rgb,
        };
        for window in [
            (0.0, 1.0),
            (p95 * 1.01, p95 * 2.0),
            (0.0, f64::INFINITY),
            (p95, p95),
        ] {
            assert_eq!(pixels.delta_e_around(window).p95, p95, "{window:?}");
        }
    }

    #[test]
    fn delta_e_is_weighted_by_pixels() {
        // 19 pixels exact and 1 pixel far off: the mean is a twentieth of
        // the far pixel's difference, and the 95th percentile is 0.
        let hist = ColorHistogram::from_counts([([10, 20, 30], 19), ([200, 20, 30], 1)], 0);
        let de = histogram_delta_e(&hist, &[0, 1], &[[10, 20, 30], [10, 20, 30]]).unwrap();
        let far = ciede2000(srgb_to_lab([200, 20, 30]), srgb_to_lab([10, 20, 30]));
        assert!((de.mean - far / 20.0).abs() < 1e-12);
        assert_eq!(de.p95, 0.0);
        let de = histogram_delta_e(&hist, &[0, 1], &[[10, 20, 30], [190, 20, 30]]).unwrap();
        assert!(de.p95 == 0.0 && de.mean > 0.0);
    }

    #[test]
    fn kept_lab_gives_the_same_delta_e_bit_for_bit() {
        let mut rng = crate::kmeans::Rng::new(4);
        let mut byte = || (rng.next_u64() >> 56) as u8;
        let pairs: Vec<([u8; 3], u64)> = (0..5000)
            .map(|i| ([byte(), byte(), byte()], 1 + i % 7))
            .collect();
        let hist = ColorHistogram::from_counts(pairs, 0);
        let palette: Vec<[u8; 3]> = (0..16).map(|_| [byte(), byte(), byte()]).collect();
        let labels: Vec<u32> = (0..hist.len() as u32).map(|i| i % 16).collect();
        let fresh = histogram_delta_e(&hist, &labels, &palette);
        hist.keep_for_several_fits();
        assert!(hist.kept_lab().is_some());
        assert_eq!(histogram_delta_e(&hist, &labels, &palette), fresh);
        // A clone starts without the kept colours and compares equal.
        let copy = hist.clone();
        assert!(copy.kept_lab().is_none());
        assert_eq!(copy, hist);
    }
}
