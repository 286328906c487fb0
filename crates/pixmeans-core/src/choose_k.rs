//! Choosing k for the user: the smallest k whose output meets a quality
//! target, or the knee of the elbow curve of inertia against k (Kneedle:
//! Satopää, Albrecht, Irwin and Raghavan, 2011, "Finding a 'kneedle' in a
//! haystack: detecting knee points in system behavior").

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use rayon::prelude::*;

use crate::histogram::ColorHistogram;
use crate::image::ImageRef;
use crate::metrics::{DeltaE, Sizes};
use crate::palette::PaletteSize;
use crate::quantize::{QuantizeError, Quantized, QuantizedColors, Quantizer};

/// A quality the output must reach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KTarget {
    /// PSNR of at least this many dB.
    MinPsnr(f64),
    /// Mean CIEDE2000 of at most this.
    MaxDeltaE(f64),
}

impl KTarget {
    fn met_by(self, t: &Trial) -> bool {
        match self {
            KTarget::MinPsnr(db) => t.psnr >= db,
            KTarget::MaxDeltaE(e) => t.delta_e.mean <= e,
        }
    }
}

/// The figures of one k tried: those of the image quantized with it (see
/// [`Quantized`]), known before its pixels are mapped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// The k tried.
    pub k: usize,
    /// Opaque palette entries: k, or fewer when the image has fewer colours.
    pub colors: usize,
    /// Inertia over the full image.
    pub inertia: f64,
    /// Mean squared error in 8-bit RGB.
    pub mse: f64,
    /// PSNR in dB (infinite when exact).
    pub psnr: f64,
    /// CIEDE2000: mean and 95th percentile.
    pub delta_e: DeltaE,
    /// Lloyd iterations of the fit.
    pub iterations: usize,
    /// Whether the fit converged within its iteration limit.
    pub converged: bool,
    /// The raw image's bytes and those of its indices packed with the
    /// palette (what [`Sizes::of`] gives for the indexed image).
    pub sizes: Sizes,
}

/// The k chosen, whether it met the target, and every k tried on the way.
/// [`smallest_k`] and [`knee_k`] return it beside the image quantized with
/// the chosen k.
#[derive(Debug, Clone, PartialEq)]
pub struct KChoice {
    /// The chosen k.
    pub k: usize,
    /// False when no k up to the limit met the target (k is then the limit).
    pub met: bool,
    /// Every k tried, by k.
    pub trials: Vec<Trial>,
}

/// The k tried so far, and the settings to try more.
struct Trials<'a> {
    quantizer: &'a Quantizer,
    image: &'a ImageRef<'a>,
    hist: &'a ColorHistogram,
    done: BTreeMap<usize, Trial>,
}

impl<'a> Trials<'a> {
    fn new(quantizer: &'a Quantizer, image: &'a ImageRef<'a>, hist: &'a ColorHistogram) -> Self {
        hist.keep_lab();
        Trials {
            quantizer,
            image,
            hist,
            done: BTreeMap::new(),
        }
    }

    /// Quantizes the colours with `k` clusters and records the figures. The
    /// pixels are not mapped: only the k chosen in the end needs them.
    fn run(&mut self, k: usize) -> Result<(Trial, QuantizedColors), QuantizeError> {
        let q = self.quantize(k)?;
        Ok((self.record(k, &q), q))
    }

    /// Records the figures of `q`, the colours quantized with `k` clusters.
    fn record(&mut self, k: usize, q: &QuantizedColors) -> Trial {
        let t = q.trial(k, self.image);
        self.done.insert(k, t);
        t
    }

    /// The colours quantized with `k` clusters, not recorded as a trial.
    fn quantize(&self, k: usize) -> Result<QuantizedColors, QuantizeError> {
        self.quantizer
            .clone()
            .with_k(k)
            .quantize_colors(self.image, self.hist)
    }

    /// The choice, and the image quantized with it: `chosen` (the colours
    /// quantized with `k`) with the pixels mapped.
    fn into_choice(
        self,
        k: usize,
        met: bool,
        chosen: QuantizedColors,
    ) -> Result<(KChoice, Quantized), QuantizeError> {
        let quantized = chosen.into_quantized(self.image, self.hist)?;
        let choice = KChoice {
            k,
            met,
            trials: self.done.into_values().collect(),
        };
        Ok((choice, quantized))
    }
}

/// The largest k worth trying: more than the image's colours changes nothing,
/// and a palette holds 256 (255 beside a transparent entry).
fn k_limit(hist: &ColorHistogram) -> usize {
    let max = PaletteSize::MAX.get() - usize::from(hist.transparent() > 0);
    hist.len().clamp(1, max)
}

/// The smallest k that meets `target`, searched by doubling and then
/// bisection. Quality rises with k but not strictly, so the promise is
/// this: the k returned meets the target and k - 1 does not (or k is 1).
/// `hist` must be the histogram of `image`.
///
/// Returns the choice and `image` quantized with the chosen k, exactly as
/// `quantizer.clone().with_k(k).quantize_counted(image, hist)` would, without
/// fitting it again. Each k tried is fitted on the colours alone (see
/// [`knee_k`] for what that holds); only the best k so far is kept beside
/// the one being tried, and the pixels are mapped once, for the k chosen.
pub fn smallest_k(
    quantizer: &Quantizer,
    image: &ImageRef<'_>,
    hist: &ColorHistogram,
    target: KTarget,
) -> Result<(KChoice, Quantized), QuantizeError> {
    let mut trials = Trials::new(quantizer, image, hist);
    let limit = k_limit(hist);
    // Double k until it meets the target; the last k that did not is lo.
    let (mut lo, mut k) = (0, 1);
    let (mut hi, mut best) = loop {
        let (t, q) = trials.run(k)?;
        if target.met_by(&t) {
            break (k, q);
        }
        if k == limit {
            return trials.into_choice(limit, false, q);
        }
        lo = k;
        k = (2 * k).min(limit);
    };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let (t, q) = trials.run(mid)?;
        if target.met_by(&t) {
            (hi, best) = (mid, q);
        } else {
            lo = mid;
        }
    }
    trials.into_choice(hi, true, best)
}

/// The knee of inertia against k over `ks`: the k where adding clusters
/// stops paying. `hist` must be the histogram of `image`.
///
/// Returns the choice and `image` quantized with the chosen k, exactly as
/// `quantizer.clone().with_k(k).quantize_counted(image, hist)` would, without
/// fitting it again. The knee is known only once every k is tried, so each
/// one's colours stay quantized until then, and the pixels are mapped once,
/// for the k chosen. Held per k: 4 bytes per distinct colour fitted (the
/// fit's label of each), plus 1 byte per distinct colour of the image when
/// the fit ran on a downscaled copy (see [`Quantizer::with_max_pixels`]),
/// plus O(k + iterations) for palette, centroids and history. For 16
/// values of k on a photo of 10^6 colours that is 64 MB, where keeping
/// every indexed image of 12 MP would take 192 MB.
pub fn knee_k(
    quantizer: &Quantizer,
    image: &ImageRef<'_>,
    hist: &ColorHistogram,
    ks: RangeInclusive<usize>,
) -> Result<(KChoice, Quantized), QuantizeError> {
    let mut trials = Trials::new(quantizer, image, hist);
    let (lo, hi) = ((*ks.start()).max(1), (*ks.end()).min(k_limit(hist)));
    // The k are fitted side by side (each fit also parallel inside, which
    // alone keeps two cores only about two thirds busy).
    let tried: Vec<QuantizedColors> = (lo..=hi)
        .into_par_iter()
        .map(|k| trials.quantize(k))
        .collect::<Result<_, _>>()?;
    let mut curve = Vec::new();
    for (k, q) in (lo..=hi).zip(&tried) {
        let t = trials.record(k, q);
        curve.push((k, t.inertia));
    }
    let k = knee(&curve).unwrap_or(hi);
    let chosen = match k.checked_sub(lo).and_then(|i| tried.into_iter().nth(i)) {
        Some(q) => q,
        // An empty range tried nothing, and k is hi, below it.
        None => trials.quantize(k)?,
    };
    trials.into_choice(k, true, chosen)
}

/// Kneedle on a decreasing, convex curve: scale k and the values to 0..1 and
/// take the point farthest below the straight line from the first point to
/// the last. `None` with fewer than three points or a flat curve.
pub fn knee(curve: &[(usize, f64)]) -> Option<usize> {
    let (first, last) = (curve.first()?, curve.last()?);
    let (dx, dy) = ((last.0 - first.0) as f64, first.1 - last.1);
    if curve.len() < 3 || dx <= 0.0 || dy <= 0.0 {
        return None;
    }
    curve
        .iter()
        .map(|&(k, v)| (k, 1.0 - (k - first.0) as f64 / dx - (v - last.1) / dy))
        .fold(None, |best: Option<(usize, f64)>, (k, d)| match best {
            Some((_, bd)) if bd >= d => best,
            _ => Some((k, d)),
        })
        .map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::PixelFormat;
    use crate::kmeans::KMeansParams;

    /// `n` well-separated colours in equal bands, with a little noise.
    fn blobs(n: usize) -> Vec<u8> {
        let mut state = 7u32;
        let mut noise = move || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 28) as u8
        };
        // Corners of the RGB cube, inset: every pair at least 170 levels apart.
        let colors: Vec<[u8; 3]> = (0..n)
            .map(|i| [0, 1, 2].map(|bit| if i >> bit & 1 == 1 { 210 } else { 40 }))
            .collect();
        (0..120 * 40)
            .flat_map(|i| colors[(i % 120) * n / 120].map(|c| c.saturating_add(noise())))
            .collect()
    }

    /// `q` is exactly what quantizing afresh with `k` gives.
    fn assert_fresh(
        q: &Quantized,
        quantizer: &Quantizer,
        k: usize,
        img: &ImageRef<'_>,
        what: &str,
    ) {
        let hist = ColorHistogram::from_image(img);
        let r = quantizer
            .clone()
            .with_k(k)
            .quantize_counted(img, &hist)
            .unwrap();
        assert_eq!(q.image().palette(), r.image().palette(), "{what}: palette");
        assert_eq!(q.image(), r.image(), "{what}: indices");
        assert_eq!(q.fit(), r.fit(), "{what}: fit");
        assert_eq!(q.fit().iterations(), r.fit().iterations(), "{what}");
        assert_eq!(q.inertia(), r.inertia(), "{what}: inertia");
        assert_eq!(q.mse(), r.mse(), "{what}: mse");
        assert_eq!(q.psnr(), r.psnr(), "{what}: psnr");
        assert_eq!(q.delta_e(), r.delta_e(), "{what}: delta_e");
        assert_eq!(q.counts(), r.counts(), "{what}: counts");
        assert_eq!(q.distinct_colors(), r.distinct_colors(), "{what}");
        assert_eq!(q.fitted_pixels(), r.fitted_pixels(), "{what}");
        assert_eq!(q.sample_size(), r.sample_size(), "{what}");
        assert_eq!(q.color_space(), r.color_space(), "{what}");
    }

    #[test]
    fn the_chosen_k_comes_quantized_exactly_as_a_fresh_fit_would() {
        let rgb = blobs(5);
        // Every seventh pixel fully transparent: the palette gains an entry.
        let rgba: Vec<u8> = rgb
            .chunks_exact(3)
            .enumerate()
            .flat_map(|(i, p)| [p[0], p[1], p[2], if i % 7 == 0 { 0 } else { 255 }])
            .collect();
        let images = [
            (
                "rgb",
                ImageRef::new(120, 40, PixelFormat::Rgb8, &rgb).unwrap(),
            ),
            (
                "rgba",
                ImageRef::new(120, 40, PixelFormat::Rgba8, &rgba).unwrap(),
            ),
        ];
        let full = Quantizer::new(KMeansParams::new(1));
        // Fitted on a copy: each colour's index is no longer the fit's label.
        let copy = full.clone().with_max_pixels(Some(1200));
        for (name, img) in &images {
            let hist = ColorHistogram::from_image(img);
            for (how, quantizer) in [("full", &full), ("copy", &copy)] {
                let what = |search: &str| format!("{name}, {how}, {search}");
                let (c, q) = smallest_k(quantizer, img, &hist, KTarget::MinPsnr(30.0)).unwrap();
                assert!(c.met && c.k > 1, "{}: k = {}", what("psnr"), c.k);
                assert_eq!(q.sample_size().is_some(), how == "copy", "{}", what("psnr"));
                assert_fresh(&q, quantizer, c.k, img, &what("psnr"));
                let (c, q) = smallest_k(quantizer, img, &hist, KTarget::MinPsnr(1e3)).unwrap();
                assert!(!c.met);
                assert_fresh(&q, quantizer, c.k, img, &what("never met"));
                let (c, q) = knee_k(quantizer, img, &hist, 1..=16).unwrap();
                assert_eq!(c.k, 5, "{}", what("knee"));
                assert_fresh(&q, quantizer, c.k, img, &what("knee"));
                let (c, q) = knee_k(quantizer, img, &hist, 300..=400).unwrap();
                assert!(c.trials.is_empty());
                assert_fresh(&q, quantizer, c.k, img, &what("empty knee range"));
            }
        }
    }

    #[test]
    fn the_knee_is_the_number_of_blobs() {
        for n in [3, 5, 8] {
            let px = blobs(n);
            let img = ImageRef::new(120, 40, PixelFormat::Rgb8, &px).unwrap();
            let hist = ColorHistogram::from_image(&img);
            let q = Quantizer::new(KMeansParams::new(1));
            assert_eq!(knee_k(&q, &img, &hist, 1..=16).unwrap().0.k, n, "{n} blobs");
        }
    }

    #[test]
    fn the_smallest_k_meets_the_target_and_k_minus_one_does_not() {
        let px = blobs(8);
        let img = ImageRef::new(120, 40, PixelFormat::Rgb8, &px).unwrap();
        let hist = ColorHistogram::from_image(&img);
        let q = Quantizer::new(KMeansParams::new(1));
        for target in [
            KTarget::MinPsnr(20.0),
            KTarget::MinPsnr(35.0),
            KTarget::MaxDeltaE(3.0),
        ] {
            let (c, _) = smallest_k(&q, &img, &hist, target).unwrap();
            assert!(c.met);
            let t = |k: usize| q.clone().with_k(k).trial(&img, &hist).unwrap();
            assert!(target.met_by(&t(c.k)), "{target:?}: k = {}", c.k);
            assert!(
                c.k == 1 || !target.met_by(&t(c.k - 1)),
                "{target:?}: k - 1 = {} also meets it",
                c.k - 1
            );
        }
        let (never, _) = smallest_k(&q, &img, &hist, KTarget::MinPsnr(1000.0)).unwrap();
        assert!(!never.met);
    }

    #[test]
    fn knee_of_a_known_curve() {
        let curve: Vec<(usize, f64)> = [100.0, 40.0, 12.0, 10.0, 9.0, 8.5]
            .iter()
            .enumerate()
            .map(|(i, &v)| (i + 1, v))
            .collect();
        assert_eq!(knee(&curve), Some(3));
        assert_eq!(knee(&curve[..2]), None);
        assert_eq!(knee(&[(1, 5.0), (2, 5.0), (3, 5.0)]), None);
    }
}
