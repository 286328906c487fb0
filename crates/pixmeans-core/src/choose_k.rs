//! Choosing k for the user: the smallest k whose output meets a quality
//! target, or the knee of the elbow curve of inertia against k (Kneedle:
//! Satopää, Albrecht, Irwin and Raghavan, 2011, "Finding a 'kneedle' in a
//! haystack: detecting knee points in system behavior").

use std::collections::BTreeMap;
use std::ops::RangeInclusive;

use crate::histogram::ColorHistogram;
use crate::image::ImageRef;
use crate::palette::PaletteSize;
use crate::quantize::{QuantizeError, Quantizer};

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
            KTarget::MaxDeltaE(e) => t.delta_e_mean <= e,
        }
    }
}

/// The figures of one k tried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    /// The k tried.
    pub k: usize,
    /// Inertia over the full image.
    pub inertia: f64,
    /// PSNR in dB (infinite when exact).
    pub psnr: f64,
    /// Mean CIEDE2000.
    pub delta_e_mean: f64,
}

/// The k chosen, whether it met the target, and every k tried on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct KChoice {
    /// The chosen k.
    pub k: usize,
    /// False when no k up to the limit met the target (k is then the limit).
    pub met: bool,
    /// Every k tried, by k.
    pub trials: Vec<Trial>,
}

struct Trials<'a> {
    quantizer: &'a Quantizer,
    image: &'a ImageRef<'a>,
    hist: &'a ColorHistogram,
    done: BTreeMap<usize, Trial>,
}

impl<'a> Trials<'a> {
    fn new(quantizer: &'a Quantizer, image: &'a ImageRef<'a>, hist: &'a ColorHistogram) -> Self {
        Trials {
            quantizer,
            image,
            hist,
            done: BTreeMap::new(),
        }
    }

    fn get(&mut self, k: usize) -> Result<Trial, QuantizeError> {
        if let Some(t) = self.done.get(&k) {
            return Ok(*t);
        }
        let q = self
            .quantizer
            .clone()
            .with_k(k)
            .quantize_counted(self.image, self.hist)?;
        let t = Trial {
            k,
            inertia: q.inertia(),
            psnr: q.psnr(),
            delta_e_mean: q.delta_e().mean,
        };
        self.done.insert(k, t);
        Ok(t)
    }

    fn into_choice(self, k: usize, met: bool) -> KChoice {
        KChoice {
            k,
            met,
            trials: self.done.into_values().collect(),
        }
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
pub fn smallest_k(
    quantizer: &Quantizer,
    image: &ImageRef<'_>,
    hist: &ColorHistogram,
    target: KTarget,
) -> Result<KChoice, QuantizeError> {
    let mut trials = Trials::new(quantizer, image, hist);
    let limit = k_limit(hist);
    // Double k until it meets the target; the last k that did not is lo.
    let (mut lo, mut k) = (0, 1);
    let mut hi = loop {
        if target.met_by(&trials.get(k)?) {
            break k;
        }
        if k == limit {
            return Ok(trials.into_choice(limit, false));
        }
        lo = k;
        k = (2 * k).min(limit);
    };
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if target.met_by(&trials.get(mid)?) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(trials.into_choice(hi, true))
}

/// The knee of inertia against k over `ks`: the k where adding clusters
/// stops paying. `hist` must be the histogram of `image`.
pub fn knee_k(
    quantizer: &Quantizer,
    image: &ImageRef<'_>,
    hist: &ColorHistogram,
    ks: RangeInclusive<usize>,
) -> Result<KChoice, QuantizeError> {
    let mut trials = Trials::new(quantizer, image, hist);
    let (lo, hi) = ((*ks.start()).max(1), (*ks.end()).min(k_limit(hist)));
    let mut curve = Vec::new();
    for k in lo..=hi {
        curve.push((k, trials.get(k)?.inertia));
    }
    let k = knee(&curve).unwrap_or(hi);
    Ok(trials.into_choice(k, true))
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

    #[test]
    fn the_knee_is_the_number_of_blobs() {
        for n in [3, 5, 8] {
            let px = blobs(n);
            let img = ImageRef::new(120, 40, PixelFormat::Rgb8, &px).unwrap();
            let hist = ColorHistogram::from_image(&img);
            let q = Quantizer::new(KMeansParams::new(1));
            assert_eq!(knee_k(&q, &img, &hist, 1..=16).unwrap().k, n, "{n} blobs");
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
            let c = smallest_k(&q, &img, &hist, target).unwrap();
            assert!(c.met);
            let at = |k: usize| q.clone().with_k(k).quantize(&img).unwrap();
            let t = |k: usize| Trial {
                k,
                inertia: 0.0,
                psnr: at(k).psnr(),
                delta_e_mean: at(k).delta_e().mean,
            };
            assert!(target.met_by(&t(c.k)), "{target:?}: k = {}", c.k);
            assert!(
                c.k == 1 || !target.met_by(&t(c.k - 1)),
                "{target:?}: k - 1 = {} also meets it",
                c.k - 1
            );
        }
        let never = smallest_k(&q, &img, &hist, KTarget::MinPsnr(1000.0)).unwrap();
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
