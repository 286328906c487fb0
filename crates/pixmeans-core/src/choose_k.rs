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
        self.margin(t) >= 0.0
    }

    /// How far `t` is past the target: not negative when it meets it.
    fn margin(self, t: &Trial) -> f64 {
        match self {
            KTarget::MinPsnr(db) => t.psnr - db,
            KTarget::MaxDeltaE(e) => e - t.delta_e.mean,
        }
    }

    /// The smallest k strictly between `lo` (which misses the target) and
    /// `hi` (which meets it, more than one above) where the margin crosses
    /// zero on the straight line through both in ln k; the midpoint when
    /// hi's margin is infinite (an exact PSNR; lo's, a miss, never is).
    fn crossing(self, lo: &Trial, hi: &Trial) -> usize {
        let (m_lo, m_hi) = (self.margin(lo), self.margin(hi));
        if !m_hi.is_finite() {
            return lo.k + (hi.k - lo.k) / 2;
        }
        let (x_lo, x_hi) = ((lo.k as f64).ln(), (hi.k as f64).ln());
        // m_lo < 0 <= m_hi: the crossing is past lo, at most at hi.
        let x = x_lo + (x_hi - x_lo) * (-m_lo / (m_hi - m_lo));
        (x.exp().ceil() as usize).clamp(lo.k + 1, hi.k - 1)
    }
}

/// The figures of one k tried: those of the image quantized with it (see
/// [`Quantized`]), known before its pixels are mapped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// The k tried.
    pub k: usize,
    /// Palette entries besides the fully transparent one: k, or fewer when
    /// the image has fewer colours.
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
        hist.keep_for_several_fits();
        Trials {
            quantizer,
            image,
            hist,
            done: BTreeMap::new(),
        }
    }

    /// Quantizes the colours with each of `ks` (ascending, at most a few),
    /// side by side, and records the figures. The pixels are not mapped:
    /// only the k chosen in the end needs them.
    fn run_side_by_side(
        &mut self,
        ks: &[usize],
    ) -> Result<Vec<(Trial, QuantizedColors)>, QuantizeError> {
        let fits: Vec<QuantizedColors> = ks
            .par_iter()
            .map(|&k| self.quantize(k))
            .collect::<Result<_, _>>()?;
        Ok(ks
            .iter()
            .copied()
            .zip(fits)
            .map(|(k, q)| (self.record(k, &q), q))
            .collect())
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

/// The largest k worth trying: more than the image's colours (with their
/// opacity, if `quantizer` clusters it) changes nothing, and a palette
/// holds 256 (255 beside a transparent entry).
fn k_limit(quantizer: &Quantizer, hist: &ColorHistogram) -> usize {
    let max = PaletteSize::MAX.get() - usize::from(hist.transparent() > 0);
    quantizer.distinct_colors(hist).clamp(1, max)
}

/// The smallest k that meets `target`, searched by doubling and then by
/// narrowing the bracket between the largest k known to miss and the
/// smallest known to meet, two k at a time side by side. Quality rises with
/// k but not strictly, so the promise is this: the k returned meets the
/// target and k - 1 does not (or k is 1). `hist` must be the histogram of
/// `image`.
///
/// Doubling tries k = 1, 2, 4, ... one at a time: a k tried beside the next
/// would be wasted whenever the first meets the target, and the larger k
/// cost the most. Each narrowing round predicts the k where the figure
/// crosses the target, on the straight line through the bracket's ends in
/// ln k (PSNR and mean ΔE are close to linear in ln k), and tries it with
/// its neighbour below: near the answer, where the figures wobble from one k
/// to the next by the luck of each fit, that pair often settles it. After
/// three rounds in a row that moved the same end, a round tries the points
/// a third and two thirds across instead, so the search cannot creep. On
/// sunset.jpg with `MaxDeltaE(2.0)`, narrowing from 128 and 256 took 2
/// rounds (211 and 212, then 205 and 206) where bisection fitted 7 k one
/// after another.
///
/// Returns the choice and `image` quantized with the chosen k, exactly as
/// `quantizer.clone().with_k(k).quantize_counted(image, hist)` would, without
/// fitting it again. Each k tried is fitted on the colours alone (see
/// [`knee_k`] for what that holds); only the best k so far is kept beside
/// the two being tried, and the pixels are mapped once, for the k chosen.
///
/// # Errors
///
/// - [`QuantizeError::InvalidTarget`] when the target's value is not finite;
/// - [`QuantizeError::Params`] when the k-means settings are invalid at a k
///   tried (see [`KMeansParams::validate`](crate::KMeansParams::validate));
/// - [`QuantizeError::ZeroMaxPixels`] or [`QuantizeError::DitherLevel`]
///   when `quantizer` has a pixel budget of 0 or a dithering level outside
///   0 < level ≤ 1;
/// - [`QuantizeError::NotTheSameImage`] when `hist` has another number of
///   colours or pixels than `image`.
pub fn smallest_k(
    quantizer: &Quantizer,
    image: &ImageRef<'_>,
    hist: &ColorHistogram,
    target: KTarget,
) -> Result<(KChoice, Quantized), QuantizeError> {
    if let KTarget::MinPsnr(v) | KTarget::MaxDeltaE(v) = target
        && !v.is_finite()
    {
        return Err(QuantizeError::InvalidTarget);
    }
    let mut trials = Trials::new(quantizer, image, hist);
    let limit = k_limit(quantizer, hist);
    // lo misses the target and hi (with its colours) meets it; each round
    // tries k between them (above lo while there is no hi).
    let mut lo: Option<Trial> = None;
    let mut hi: Option<(Trial, QuantizedColors)> = None;
    // The end that the last narrowing rounds moved alone, and how many.
    let mut one_sided: (Option<End>, usize) = (None, 0);
    loop {
        let ks = match (lo, hi.take()) {
            (_, None) => vec![lo.map_or(1, |l| (2 * l.k).min(limit))],
            (Some(l), Some(h)) if h.0.k - l.k > 1 => {
                let ks = narrowing_pair(target, &l, &h.0, one_sided.1 >= 3);
                hi = Some(h);
                ks
            }
            // hi meets the target and hi - 1 (or nothing, at k = 1) misses.
            (_, Some((t, q))) => return trials.into_choice(t.k, true, q),
        };
        let narrowing = hi.is_some();
        let tried = trials.run_side_by_side(&ks)?;
        // The smallest k that met is the new hi, the k below it the new lo.
        let first_met = tried.iter().position(|(t, _)| target.met_by(t));
        let below = first_met.unwrap_or(tried.len());
        let moved_lo = below > 0;
        if moved_lo {
            lo = Some(tried[below - 1].0);
        }
        let mut tried = tried.into_iter();
        match first_met.and_then(|i| tried.nth(i)) {
            Some(met) => hi = Some(met),
            None if lo.is_some_and(|l| l.k == limit) => {
                if let Some((_, q)) = tried.last() {
                    return trials.into_choice(limit, false, q);
                }
            }
            None => {}
        }
        let moved = match (moved_lo, first_met.is_some()) {
            (true, false) => Some(End::Lo),
            (false, true) => Some(End::Hi),
            _ => None,
        };
        one_sided = match moved {
            Some(end) if narrowing && one_sided.0 == Some(end) => (moved, one_sided.1 + 1),
            Some(_) if narrowing => (moved, 1),
            _ => (None, 0),
        };
    }
}

/// An end of the bracket a narrowing round moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Lo,
    Hi,
}

/// The k to try next between `lo` (misses the target) and `hi` (meets it),
/// more than one apart: the predicted crossing and its neighbour below (or
/// above, when lo is just below it), or, when `stalled`, the points a third
/// and two thirds across. One k when they are two apart.
fn narrowing_pair(target: KTarget, lo: &Trial, hi: &Trial, stalled: bool) -> Vec<usize> {
    let width = hi.k - lo.k;
    if width == 2 {
        return vec![lo.k + 1];
    }
    if stalled {
        return vec![lo.k + width / 3, lo.k + 2 * width / 3];
    }
    let c = target.crossing(lo, hi);
    if c - 1 > lo.k {
        vec![c - 1, c]
    } else {
        vec![c, c + 1]
    }
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
/// plus O(k + iterations) for palette, centroids and history (the colours
/// with their opacity, when opacity is clustered, are kept once for every
/// k in the histogram, 16 bytes each, with their k-d tree). For 16
/// values of k on a photo of 10^6 colours that is 64 MB, where keeping
/// every indexed image of 12 MP would take 192 MB.
///
/// # Errors
///
/// - [`QuantizeError::Params`] when the k-means settings are invalid at a k
///   tried (see [`KMeansParams::validate`](crate::KMeansParams::validate)),
///   among them [`KMeansError::ZeroK`](crate::KMeansError::ZeroK) when `ks`
///   ends at 0;
/// - [`QuantizeError::ZeroMaxPixels`] or [`QuantizeError::DitherLevel`]
///   when `quantizer` has a pixel budget of 0 or a dithering level outside
///   0 < level ≤ 1;
/// - [`QuantizeError::NotTheSameImage`] when `hist` has another number of
///   colours or pixels than `image`.
pub fn knee_k(
    quantizer: &Quantizer,
    image: &ImageRef<'_>,
    hist: &ColorHistogram,
    ks: RangeInclusive<usize>,
) -> Result<(KChoice, Quantized), QuantizeError> {
    let mut trials = Trials::new(quantizer, image, hist);
    let (lo, hi) = (
        (*ks.start()).max(1),
        (*ks.end()).min(k_limit(quantizer, hist)),
    );
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
    // An image of fewer colours than `ks` reaches no inertia at all by
    // its last k, and more k would keep it there: the curve goes on flat
    // to the end of `ks`, as a plot of it would, so that a knee is found
    // where the colours run out and not on the short curve alone (whose
    // three points for three colours far apart make no knee but k = 1).
    if curve.last().is_some_and(|&(_, inertia)| inertia == 0.0) {
        curve.extend((hi + 1..=*ks.end()).map(|k| (k, 0.0)));
    }
    let k = knee(&curve).unwrap_or(hi).min(hi);
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
    fn an_image_of_few_colours_has_the_knee_a_plot_of_every_k_shows() {
        // Flat bands of n colours, no noise: inertia 0 from k = n on.
        for n in [3, 6, 10] {
            let colors: Vec<[u8; 3]> = (0..n)
                .map(|i| {
                    [
                        (i * 97 % 256) as u8,
                        (i * 53 % 256) as u8,
                        (255 - i * 25) as u8,
                    ]
                })
                .collect();
            let px: Vec<u8> = (0..60 * 20)
                .flat_map(|i| colors[(i % 60) * n / 60])
                .collect();
            let img = ImageRef::new(60, 20, PixelFormat::Rgb8, &px).unwrap();
            let hist = ColorHistogram::from_image(&img);
            let q = Quantizer::new(KMeansParams::new(1));
            let curve: Vec<(usize, f64)> = (1..=16)
                .map(|k| {
                    let fit = q.clone().with_k(k).quantize_counted(&img, &hist).unwrap();
                    (k, fit.inertia())
                })
                .collect();
            let (choice, _) = knee_k(&q, &img, &hist, 1..=16).unwrap();
            assert_eq!(Some(choice.k), knee(&curve), "{n} colours");
            assert!(choice.k > 1 && choice.k <= n, "{n} colours: {}", choice.k);
        }
    }

    #[test]
    fn a_target_that_is_not_a_finite_number_is_refused() {
        let px = blobs(3);
        let img = ImageRef::new(120, 40, PixelFormat::Rgb8, &px).unwrap();
        let hist = ColorHistogram::from_image(&img);
        let q = Quantizer::new(KMeansParams::new(1));
        for target in [
            KTarget::MinPsnr(f64::NAN),
            KTarget::MinPsnr(f64::INFINITY),
            KTarget::MaxDeltaE(f64::NAN),
        ] {
            assert!(matches!(
                smallest_k(&q, &img, &hist, target),
                Err(QuantizeError::InvalidTarget)
            ));
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

    /// A smooth, noisy gradient: thousands of colours, so the search for
    /// a target narrows wide brackets.
    fn gradient() -> Vec<u8> {
        let mut state = 11u32;
        let mut noise = move || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 30) as u8
        };
        (0..120 * 90)
            .flat_map(|i| {
                let (x, y) = (i % 120, i / 120);
                [x * 2, y * 2 + 40, (x + y) + 20].map(|c| (c as u8).saturating_add(noise()))
            })
            .collect()
    }

    #[test]
    fn the_smallest_k_of_many_colours_meets_the_target_and_k_minus_one_does_not() {
        let px = gradient();
        let img = ImageRef::new(120, 90, PixelFormat::Rgb8, &px).unwrap();
        let hist = ColorHistogram::from_image(&img);
        assert!(hist.len() > 5000, "{} colours", hist.len());
        let q = Quantizer::new(KMeansParams::new(1));
        let t = |k: usize| q.clone().with_k(k).trial(&img, &hist).unwrap();
        for target in [
            KTarget::MinPsnr(27.0),
            KTarget::MinPsnr(33.3),
            KTarget::MinPsnr(36.0),
            KTarget::MaxDeltaE(4.0),
            KTarget::MaxDeltaE(2.0),
        ] {
            let (c, quantized) = smallest_k(&q, &img, &hist, target).unwrap();
            assert!(c.met && c.k > 8, "{target:?}: k = {}", c.k);
            assert!(target.met_by(&t(c.k)), "{target:?}: k = {}", c.k);
            assert!(
                !target.met_by(&t(c.k - 1)),
                "{target:?}: k - 1 = {} meets it",
                c.k - 1
            );
            assert_fresh(&quantized, &q, c.k, &img, &format!("{target:?}"));
            // Every k tried is recorded with the figures a fresh trial gives.
            for tried in &c.trials {
                assert_eq!(*tried, t(tried.k), "{target:?}: k = {}", tried.k);
            }
        }
    }

    /// A trial with only k and the figures the search reads.
    fn figures(k: usize, psnr: f64, delta_e: f64) -> Trial {
        Trial {
            k,
            colors: k,
            inertia: 0.0,
            mse: 0.0,
            psnr,
            delta_e: DeltaE {
                mean: delta_e,
                p95: delta_e,
            },
            iterations: 1,
            converged: true,
            sizes: Sizes {
                raw_bytes: 0,
                index_bits: 0,
                packed_index_bytes: 0,
                palette_bytes: 0,
            },
        }
    }

    #[test]
    fn narrowing_tries_the_predicted_crossing_and_the_k_below_it() {
        // PSNR 20 + 3 log2 k: 41 dB at 128, 44 at 256, 42.5 at 128 √2 = 181.02.
        let psnr = |k: usize| 20.0 + 3.0 * (k as f64).log2();
        let (lo, hi) = (figures(128, psnr(128), 9.0), figures(256, psnr(256), 9.0));
        let target = KTarget::MinPsnr(42.5);
        assert_eq!(target.crossing(&lo, &hi), 182);
        assert_eq!(narrowing_pair(target, &lo, &hi, false), [181, 182]);
        // Stalled: a third and two thirds across.
        assert_eq!(narrowing_pair(target, &lo, &hi, true), [170, 213]);
        // Mean ΔE falling with k, the same way.
        let de = |k: usize| 10.0 - (k as f64).log2();
        let (lo, hi) = (figures(16, 99.0, de(16)), figures(64, 99.0, de(64)));
        assert_eq!(
            narrowing_pair(KTarget::MaxDeltaE(5.0), &lo, &hi, false),
            [31, 32]
        );
        // A crossing just above lo: the pair goes up from there.
        let hi = figures(200, psnr(200), 9.0);
        assert_eq!(
            narrowing_pair(
                KTarget::MinPsnr(41.001),
                &figures(128, psnr(128), 9.0),
                &hi,
                false
            ),
            [129, 130]
        );
        // Two apart: the one k between.
        assert_eq!(
            narrowing_pair(target, &figures(7, 1.0, 9.0), &figures(9, 50.0, 9.0), false),
            [8]
        );
        // An exact (infinite) PSNR at hi: the midpoint.
        let exact = figures(100, f64::INFINITY, 0.0);
        assert_eq!(target.crossing(&figures(50, 30.0, 9.0), &exact), 75);
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
