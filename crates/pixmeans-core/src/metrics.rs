//! Quality and size figures, computed the way the peers compute them.
//!
//! MSE is the mean over pixels and channels of the squared error in 8-bit
//! RGB and PSNR is 10·log10(255² / MSE), as scikit-image's
//! `mean_squared_error` and `peak_signal_noise_ratio` define them. Colour
//! difference is CIEDE2000 (CIE 142-2001) between CIELAB (D65) colours, as
//! Sharma, Wu and Dalal (2005, "The CIEDE2000 color-difference formula:
//! implementation notes ...") spell it out, with kL = kC = kH = 1.

use rayon::prelude::*;

use crate::color::srgb_to_lab;
use crate::histogram::{ColorHistogram, cache_slot, key};
use crate::image::{ImageRef, IndexedImage, PixelFormat};
use crate::opacity::over_white;
use crate::palette::Palette;

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
    let total = hist.total_opaque();
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

/// Pixels in each of the fixed chunks that the per-pixel figures split the
/// image into: partial sums are added in chunk order, so the figures do not
/// depend on the number of threads.
const PIXEL_CHUNK: usize = 1 << 16;

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
        let need = (pass.total * 95).div_ceil(100);
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

fn squared_error(a: [u8; 3], b: [u8; 3]) -> u64 {
    (0..3).map(|c| u64::from(a[c].abs_diff(b[c])).pow(2)).sum()
}

/// Peak signal-to-noise ratio in dB for 8-bit data; infinite when `mse` is 0.
pub fn psnr(mse: f64) -> f64 {
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

/// The CIEDE2000 colour difference between two CIELAB colours.
///
/// Written for speed as well as to the letter, since every distinct colour
/// of an image goes through it. The hue terms come from the two (a', b)
/// vectors instead of their angles: ΔH' = ±√(2(C1'C2' - z1·z2)), the sign
/// that of z1 × z2 (z = (a', b)), and the mean hue is the direction of z1/C1' + z2/C2',
/// whose cosine and sine give T by the multiple-angle formulas. That takes
/// one `atan2` (for the Δθ term, and none below a mean hue of 125°, where
/// Δθ vanishes) where the textbook form takes two, plus three sines and
/// cosines; the two agree to within 1e-10 (a test checks this on a million
/// pairs), and the published test data pass.
pub fn ciede2000(lab1: [f64; 3], lab2: [f64; 3]) -> f64 {
    let ([l1, a1, b1], [l2, a2, b2]) = (lab1, lab2);
    let norm = |x: f64, y: f64| (x * x + y * y).sqrt();
    // c^7 / (c^7 + 25^7), under a square root in both G and R_C.
    let chroma_weight = |c: f64| {
        let c7 = c.powi(7);
        (c7 / (c7 + 6_103_515_625.0)).sqrt()
    };
    let g = 0.5 * (1.0 - chroma_weight(f64::midpoint(norm(a1, b1), norm(a2, b2))));
    let (a1, a2) = ((1.0 + g) * a1, (1.0 + g) * a2);
    let (c1, c2) = (norm(a1, b1), norm(a2, b2));
    let (dot, cross) = (a1 * a2 + b1 * b2, a1 * b2 - b1 * a2);
    // The mean hue's direction: the sum of the two unit vectors. Where a
    // chroma is 0, or the hues are opposite to within 0.06° (where the sum
    // is too short to give a direction), the textbook's rules apply.
    let (ux, uy) = (a1 / c1 + a2 / c2, b1 / c1 + b2 / c2);
    let u = norm(ux, uy);
    let (dh_big, cos_h, sin_h, d_theta) = if c1 * c2 != 0.0 && u > 1e-3 {
        // C1'C2' - z1·z2 = cross² / (C1'C2' + z1·z2): no cancellation
        // where the hues are near, as most pairs here are.
        let dh_big = if dot > 0.0 {
            cross * (2.0 / (c1 * c2 + dot)).sqrt()
        } else {
            (2.0 * (c1 * c2 - dot)).sqrt().copysign(cross)
        };
        // A mean hue in [0°, 125°), where Δθ is 0, needs no angle: there
        // uy ≥ 0 and ux > u·cos 125°.
        let d_theta = if uy >= 0.0 && ux > COS_125 * u {
            0.0
        } else {
            let h = uy.atan2(ux).to_degrees();
            rotation(if h < 0.0 { h + 360.0 } else { h })
        };
        (dh_big, ux / u, uy / u, d_theta)
    } else {
        let (dh_big, h_bar) = hue_terms_by_angle(a1, b1, c1, a2, b2, c2);
        let (s, c) = h_bar.to_radians().sin_cos();
        (dh_big, c, s, rotation(h_bar))
    };
    let (dl, dc) = (l2 - l1, c2 - c1);
    let l_bar = f64::midpoint(l1, l2);
    let c_bar = f64::midpoint(c1, c2);
    let t = hue_weight(cos_h, sin_h);
    let r_c = 2.0 * chroma_weight(c_bar);
    let l50 = (l_bar - 50.0).powi(2);
    let s_l = 1.0 + 0.015 * l50 / (20.0 + l50).sqrt();
    let s_c = 1.0 + 0.045 * c_bar;
    let s_h = 1.0 + 0.015 * c_bar * t;
    let r_t = if d_theta == 0.0 {
        0.0
    } else {
        -(2.0 * d_theta).to_radians().sin() * r_c
    };
    let (x, y, z) = (dl / s_l, dc / s_c, dh_big / s_h);
    (x * x + y * y + z * z + r_t * y * z).max(0.0).sqrt()
}

/// cos 125°.
const COS_125: f64 = -0.573_576_436_351_046;

/// CIEDE2000's Δθ = 30° exp(-((h̄' - 275°) / 25°)²) for a mean hue h̄' in
/// degrees, taken as 0 below 125°: the exponent is then under -36, and Δθ
/// below 1e-14 degrees would move ΔE by a unit in its last place at most.
/// Skipping it there (with the angle and the sine it needs) took the ΔE
/// figures of picture0b.jpg and sunset.jpg at k = 256 from 12.7-14.1 ms
/// to 11.0-12.9 (two threads, best of 20, six rounds).
fn rotation(h_bar: f64) -> f64 {
    if h_bar < 125.0 {
        0.0
    } else {
        30.0 * (-((h_bar - 275.0) / 25.0).powi(2)).exp()
    }
}

/// ΔH' and the mean hue h̄' in degrees, from the hue angles as Sharma, Wu
/// and Dalal spell them out: for a zero chroma, and for opposite hues, where
/// the mean's direction is not defined by the vectors.
fn hue_terms_by_angle(a1: f64, b1: f64, c1: f64, a2: f64, b2: f64, c2: f64) -> (f64, f64) {
    let hue = |b: f64, a: f64| {
        if a == 0.0 && b == 0.0 {
            0.0
        } else {
            // atan2 lies in [-180°, 180°], so one addition does what
            // `rem_euclid(360.0)` (an `fmod` call) did, bit for bit.
            let h = b.atan2(a).to_degrees();
            if h < 0.0 { h + 360.0 } else { h }
        }
    };
    let (h1, h2) = (hue(b1, a1), hue(b2, a2));
    let chroma_zero = c1 * c2 == 0.0;
    let dh = if chroma_zero {
        0.0
    } else if (h2 - h1).abs() <= 180.0 {
        h2 - h1
    } else if h2 - h1 > 180.0 {
        h2 - h1 - 360.0
    } else {
        h2 - h1 + 360.0
    };
    let dh_big = 2.0 * (c1 * c2).sqrt() * (dh / 2.0).to_radians().sin();
    let h_bar = if chroma_zero {
        h1 + h2
    } else if (h1 - h2).abs() <= 180.0 {
        f64::midpoint(h1, h2)
    } else if h1 + h2 < 360.0 {
        (h1 + h2 + 360.0) / 2.0
    } else {
        (h1 + h2 - 360.0) / 2.0
    };
    (dh_big, h_bar)
}

/// CIEDE2000's T = 1 - 0.17 cos(h - 30°) + 0.24 cos 2h + 0.32 cos(3h + 6°)
/// - 0.20 cos(4h - 63°), from cos h and sin h.
fn hue_weight(c1: f64, s1: f64) -> f64 {
    let (s2, c2) = (2.0 * s1 * c1, 2.0 * c1 * c1 - 1.0);
    let (s3, c3) = (s1 * c2 + c1 * s2, c1 * c2 - s1 * s2);
    let (s4, c4) = (2.0 * s2 * c2, 2.0 * c2 * c2 - 1.0);
    // cos and sin of 30°, 6° and 63°.
    let (cos30, sin30) = (0.866_025_403_784_438_7, 0.5);
    let (cos6, sin6) = (0.994_521_895_368_273_3, 0.104_528_463_267_653_47);
    let (cos63, sin63) = (0.453_990_499_739_546_8, 0.891_006_524_188_367_8);
    1.0 - 0.17 * (c1 * cos30 + s1 * sin30) + 0.24 * c2 + 0.32 * (c3 * cos6 - s3 * sin6)
        - 0.20 * (c4 * cos63 + s4 * sin63)
}

/// Mean and 95th percentile of CIEDE2000 over the pixels of an image.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DeltaE {
    /// Mean over pixels.
    pub mean: f64,
    /// The smallest difference that at least 95 % of pixels stay within.
    pub p95: f64,
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
    let total = hist.total_opaque();
    if total == 0 {
        return DeltaE::default();
    }
    let pal: Vec<[f64; 3]> = palette.iter().map(|&c| srgb_to_lab(c)).collect();
    let counts = hist.counts().par_iter().zip(labels);
    let de: Vec<(f64, u64)> = match hist.kept_lab() {
        Some(lab) => lab
            .par_iter()
            .zip(counts)
            .map(|(&lab, (&n, &l))| (ciede2000(lab, pal[l as usize]), n))
            .collect(),
        None => hist
            .colors()
            .par_iter()
            .zip(counts)
            .map(|(&c, (&n, &l))| (ciede2000(srgb_to_lab(c), pal[l as usize]), n))
            .collect(),
    };
    let mean = de.iter().map(|&(d, n)| d * n as f64).sum::<f64>() / total as f64;
    let p95 = weighted_quantile(&de, (total * 95).div_ceil(100));
    DeltaE { mean, p95 }
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

/// How many bytes an image takes raw, and as packed indices plus a palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Width × height × channels of the original (3 for RGB, 4 for RGBA).
    pub raw_bytes: u64,
    /// Bits per index: ⌈log2 palette length⌉ (0 for a single colour).
    pub index_bits: u32,
    /// Every index packed at `index_bits` bits, rounded up to whole bytes.
    pub packed_index_bytes: u64,
    /// 3 bytes per palette entry, 4 when the palette has transparency.
    pub palette_bytes: u64,
}

impl Sizes {
    /// The sizes of `indexed`, an indexed version of an image of `format`.
    pub fn of(indexed: &IndexedImage, format: PixelFormat) -> Self {
        Self::of_palette(indexed.width(), indexed.height(), indexed.palette(), format)
    }

    /// The sizes of a `width` × `height` image of `format` indexed with
    /// `pal`: what [`of`](Self::of) gives, known before any pixel is mapped.
    pub fn of_palette(width: u32, height: u32, pal: &Palette, format: PixelFormat) -> Self {
        let pixels = u64::from(width) * u64::from(height);
        let index_bits = pal.index_bits();
        Sizes {
            raw_bytes: pixels * format.channels() as u64,
            index_bits,
            packed_index_bytes: (pixels * u64::from(index_bits)).div_ceil(8),
            palette_bytes: pal.len() as u64 * if pal.has_alpha() { 4 } else { 3 },
        }
    }

    /// Packed indices plus palette.
    pub fn indexed_bytes(&self) -> u64 {
        self.packed_index_bytes + self.palette_bytes
    }

    /// How many times smaller the indexed form is than the raw one.
    pub fn ratio(&self) -> f64 {
        self.raw_bytes as f64 / self.indexed_bytes().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// Pairs from Sharma, Wu and Dalal (2005), table 1, chosen to cover the
    /// hue wrap-around and zero-chroma branches.
    const SHARMA: [[f64; 7]; 14] = [
        [50.0, 2.6772, -79.7751, 50.0, 0.0, -82.7485, 2.0425],
        [50.0, -1.3802, -84.2814, 50.0, 0.0, -82.7485, 1.0000],
        [50.0, 0.0, 0.0, 50.0, -1.0, 2.0, 2.3669],
        [50.0, 2.49, -0.001, 50.0, -2.49, 0.0009, 7.1792],
        [50.0, 2.49, -0.001, 50.0, -2.49, 0.0011, 7.2195],
        [50.0, -0.001, 2.49, 50.0, 0.0009, -2.49, 4.8045],
        [50.0, -0.001, 2.49, 50.0, 0.0011, -2.49, 4.7461],
        [50.0, 2.5, 0.0, 50.0, 0.0, -2.5, 4.3065],
        [50.0, 2.5, 0.0, 73.0, 25.0, -18.0, 27.1492],
        [50.0, 2.5, 0.0, 56.0, -27.0, -3.0, 31.9030],
        [50.0, 2.5, 0.0, 50.0, 3.2972, 0.0, 1.0000],
        [
            60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644,
        ],
        [90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441],
        [2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082],
    ];

    #[test]
    fn ciede2000_matches_the_published_test_data() {
        for r in SHARMA {
            let (a, b) = ([r[0], r[1], r[2]], [r[3], r[4], r[5]]);
            assert!(
                (ciede2000(a, b) - r[6]).abs() < 5e-5,
                "{r:?}: {}",
                ciede2000(a, b)
            );
            assert!((ciede2000(b, a) - r[6]).abs() < 5e-5, "{r:?} reversed");
        }
        assert_eq!(ciede2000([40.0, 10.0, -5.0], [40.0, 10.0, -5.0]), 0.0);
    }

    /// CIEDE2000 exactly as Sharma, Wu and Dalal (2005) write it, angles
    /// and all: the reference for the faster form.
    fn textbook(lab1: [f64; 3], lab2: [f64; 3]) -> f64 {
        let ([l1, a1, b1], [l2, a2, b2]) = (lab1, lab2);
        let c7 = |c: f64| (c.powi(7) / (c.powi(7) + 25f64.powi(7))).sqrt();
        let g = 0.5 * (1.0 - c7(f64::midpoint(a1.hypot(b1), a2.hypot(b2))));
        let (a1, a2) = ((1.0 + g) * a1, (1.0 + g) * a2);
        let (c1, c2) = (a1.hypot(b1), a2.hypot(b2));
        let (dh_big, h_bar) = hue_terms_by_angle(a1, b1, c1, a2, b2, c2);
        let (l_bar, c_bar) = (f64::midpoint(l1, l2), f64::midpoint(c1, c2));
        let cos = |deg: f64| deg.to_radians().cos();
        let t = 1.0 - 0.17 * cos(h_bar - 30.0)
            + 0.24 * cos(2.0 * h_bar)
            + 0.32 * cos(3.0 * h_bar + 6.0)
            - 0.20 * cos(4.0 * h_bar - 63.0);
        let d_theta = 30.0 * (-((h_bar - 275.0) / 25.0).powi(2)).exp();
        let s_l = 1.0 + 0.015 * (l_bar - 50.0).powi(2) / (20.0 + (l_bar - 50.0).powi(2)).sqrt();
        let (s_c, s_h) = (1.0 + 0.045 * c_bar, 1.0 + 0.015 * c_bar * t);
        let r_t = -(2.0 * d_theta).to_radians().sin() * 2.0 * c7(c_bar);
        let (x, y, z) = ((l2 - l1) / s_l, (c2 - c1) / s_c, dh_big / s_h);
        (x * x + y * y + z * z + r_t * y * z).sqrt()
    }

    #[test]
    fn the_fast_form_equals_the_textbook_form() {
        let mut rng = crate::kmeans::Rng::new(3);
        let mut lab = |grey: bool| {
            let l = rng.uniform() * 100.0;
            if grey {
                [l, 0.0, 0.0]
            } else {
                [
                    l,
                    rng.uniform() * 256.0 - 128.0,
                    rng.uniform() * 256.0 - 128.0,
                ]
            }
        };
        for i in 0..1_000_000 {
            let x = lab(i % 97 == 0);
            // Near pairs as well as far ones: a quantized colour is near
            // its palette entry.
            let y = if i % 2 == 0 {
                lab(i % 89 == 0)
            } else {
                let d = lab(false);
                [x[0] + d[0] / 50.0, x[1] + d[1] / 50.0, x[2] + d[2] / 50.0]
            };
            let (fast, slow) = (ciede2000(x, y), textbook(x, y));
            assert!((fast - slow).abs() < 1e-10, "{x:?} {y:?}: {fast} {slow}");
        }
        // Opposite hues and equal colours.
        for (x, y) in [
            ([50.0, 10.0, 0.0], [50.0, -10.0, 0.0]),
            ([50.0, 0.0, 7.0], [60.0, 0.0, -3.0]),
            ([50.0, 3.0, 4.0], [50.0, 3.0, 4.0]),
        ] {
            assert!(
                (ciede2000(x, y) - textbook(x, y)).abs() < 1e-10,
                "{x:?} {y:?}"
            );
        }
    }

    #[test]
    fn the_hue_weight_equals_its_four_cosines() {
        let cos = |deg: f64| deg.to_radians().cos();
        for i in 0..=36_000 {
            let h = f64::from(i) / 100.0;
            let t = 1.0 - 0.17 * cos(h - 30.0) + 0.24 * cos(2.0 * h) + 0.32 * cos(3.0 * h + 6.0)
                - 0.20 * cos(4.0 * h - 63.0);
            let (sin, cos) = h.to_radians().sin_cos();
            assert!((hue_weight(cos, sin) - t).abs() < 1e-13, "h = {h}");
        }
    }

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

    #[test]
    fn sizes_pack_indices_at_ceil_log2_bits() {
        let pal = Palette::new(&[[0, 0, 0]; 5], false).unwrap();
        let img = IndexedImage::new(3, 3, pal, vec![0; 9]).unwrap();
        let s = Sizes::of(&img, PixelFormat::Rgb8);
        assert_eq!(
            (
                s.raw_bytes,
                s.index_bits,
                s.packed_index_bytes,
                s.palette_bytes
            ),
            (27, 3, 4, 15)
        );
        assert_eq!(s.indexed_bytes(), 19);
    }
}
