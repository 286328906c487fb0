//! What a run reports: the JSON object for `--json` and the human summary
//! for standard error, built from one [`ImageReport`].

use std::fmt::Write as _;
use std::path::Path;

use pixmeans_core::{Iteration, KChoice, KMeansParams, KTarget, Quantized, Quantizer, Sizes};

use crate::config::AutoK;
use serde::Serialize;

/// Everything pixmeans says about one quantized image.
// The JSON report's yes/no fields, each its own question.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Serialize)]
pub struct ImageReport {
    pub input: String,
    pub output: String,
    /// False when `--skip-if-larger` or `--skip-existing` left the output
    /// unwritten.
    pub written: bool,
    /// Why the output was left unwritten ([`Skip::reason`]); `null` when it
    /// was written.
    pub skipped: Option<&'static str>,
    pub width: u32,
    pub height: u32,
    pub input_format: &'static str,
    /// The colour profile the input's colours were converted to sRGB from;
    /// `null` when they were used as they are.
    pub input_profile: Option<String>,
    pub distinct_colors: usize,
    pub k: usize,
    pub colors: usize,
    pub transparent: bool,
    pub color_space: &'static str,
    #[serde(flatten)]
    pub settings: FitSettingsReport,
    pub seed: u64,
    pub max_pixels: Option<usize>,
    /// The Floyd–Steinberg level; `null` when each pixel took its nearest
    /// colour.
    pub dither: Option<f32>,
    /// Whether colour and opacity were clustered together (the image has
    /// partly transparent pixels): inertia, MSE and ΔE then take opacity in.
    pub opacity: bool,
    /// Size of the downscaled copy the fit ran on; `null` for the full image.
    pub fitted_on: Option<[u32; 2]>,
    pub fitted_pixels: u64,
    pub iterations: usize,
    pub converged: bool,
    pub inertia: f64,
    pub mse: f64,
    /// `null` when the output is exact (infinite PSNR).
    pub psnr: Option<f64>,
    /// CIEDE2000 between each pixel and its palette colour.
    pub delta_e: DeltaEReport,
    pub sizes: SizeReport,
    pub palette: Vec<String>,
    pub seconds: Timings,
    /// How `-k auto` chose k; absent for a fixed k.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k_choice: Option<KChoiceReport>,
    /// The file's own figures when its format is lossy (JPEG), whose
    /// encoder moves the quantized colours; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lossy_file: Option<LossyFileReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<IterationReport>>,
}

/// The k-means settings a fit ran with, as the reports give them.
#[derive(Debug, Serialize)]
pub struct FitSettingsReport {
    pub init: &'static str,
    pub n_init: usize,
    pub max_iter: usize,
    pub step: &'static str,
    pub tol: f64,
}

impl FitSettingsReport {
    pub fn new(p: &KMeansParams) -> Self {
        FitSettingsReport {
            init: p.init().name(),
            n_init: p.n_init(),
            max_iter: p.max_iter(),
            step: p.step().name(),
            tol: p.tol(),
        }
    }
}

/// A lossy file decoded again, against the original.
#[derive(Debug, Serialize)]
pub struct LossyFileReport {
    pub mse: f64,
    /// `null` when the file is exact (infinite PSNR).
    pub psnr: Option<f64>,
    /// Distinct colours in the file.
    pub colors: usize,
}

/// How `-k auto` chose k, and every k it tried.
#[derive(Debug, Serialize)]
pub struct KChoiceReport {
    /// `psnr`, `delta_e` or `knee`.
    pub method: &'static str,
    pub target: Option<f64>,
    pub k: usize,
    /// False when no k up to the limit met the target.
    pub met: bool,
    pub trials: Vec<TrialReport>,
}

/// One k tried by `-k auto`.
#[derive(Debug, Serialize)]
pub struct TrialReport {
    pub k: usize,
    pub inertia: f64,
    pub psnr: Option<f64>,
    pub delta_e_mean: f64,
}

impl KChoiceReport {
    pub fn new(c: &KChoice, auto: Option<AutoK>) -> Self {
        let (method, target) = match auto.and_then(|a| a.target) {
            Some(KTarget::MinPsnr(db)) => ("psnr", Some(db)),
            Some(KTarget::MaxDeltaE(e)) => ("delta_e", Some(e)),
            None => ("knee", None),
        };
        let trials = c
            .trials
            .iter()
            .map(|t| TrialReport {
                k: t.k,
                inertia: t.inertia,
                psnr: json_psnr(t.psnr),
                delta_e_mean: t.delta_e.mean,
            })
            .collect();
        KChoiceReport {
            method,
            target,
            k: c.k,
            met: c.met,
            trials,
        }
    }

    /// One line saying which k was chosen and why.
    pub fn human(&self) -> String {
        let below = self.trials.iter().find(|t| t.k + 1 == self.k);
        let why = match (self.method, self.target) {
            ("psnr", Some(db)) if self.met => format!(
                "the smallest k with PSNR >= {db} dB{}",
                below
                    .map(|t| format!(" (k = {}: {} dB)", t.k, psnr_words(t.psnr)))
                    .unwrap_or_default()
            ),
            ("delta_e", Some(e)) if self.met => format!(
                "the smallest k with mean ΔE00 <= {e}{}",
                below
                    .map(|t| format!(" (k = {}: {:.2})", t.k, t.delta_e_mean))
                    .unwrap_or_default()
            ),
            ("psnr", Some(db)) => {
                format!("no k reaches PSNR >= {db} dB; using the most colours that help")
            }
            ("delta_e", Some(e)) => {
                format!("no k reaches mean ΔE00 <= {e}; using the most colours that help")
            }
            _ => {
                let (lo, last) = (self.trials.first().map_or(1, |t| t.k), self.trials.last());
                let hi = last.map_or(1, |t| t.k);
                let end = *crate::config::KNEE_RANGE.end();
                if lo == hi {
                    // An image of one colour, or none (all transparent).
                    format!("the image has no more than {hi} colour to fit")
                } else if hi < end && last.is_some_and(|t| t.inertia == 0.0) {
                    // The search took the curve on flat to the range's end.
                    format!(
                        "the knee of inertia over k = {lo}..{end} (the image has {hi} colours, so from k = {hi} on it is 0)"
                    )
                } else {
                    format!("the knee of inertia over k = {lo}..{hi}")
                }
            }
        };
        format!("  k = auto -> {}: {why}\n", self.k)
    }
}

/// Mean and 95th percentile of CIEDE2000 over pixels.
#[derive(Debug, Serialize)]
pub struct DeltaEReport {
    pub mean: f64,
    pub p95: f64,
}

/// "How much smaller is the picture as indices + palette?"
#[derive(Debug, Serialize)]
pub struct SizeReport {
    pub raw_bytes: u64,
    pub index_bits: u32,
    pub packed_index_bytes: u64,
    pub palette_bytes: u64,
    pub indexed_bytes: u64,
    /// raw / indexed.
    pub indexed_ratio: f64,
    pub output_bytes: u64,
    pub input_bytes: u64,
    /// input / output: above 1 when the written file is smaller.
    pub output_ratio: f64,
}

/// Wall-clock seconds of each stage.
#[derive(Debug, Serialize, Default, Clone, Copy)]
pub struct Timings {
    pub decode: f64,
    pub quantize: f64,
    pub encode: f64,
    pub total: f64,
}

/// One Lloyd iteration, for `--verbose`.
#[derive(Debug, Serialize)]
pub struct IterationReport {
    pub inertia: f64,
    pub center_shift: f64,
    /// An over-relaxed step dropped for the plain one.
    pub turned_down: bool,
}

/// Where an image came from and went, for the report.
#[derive(Debug)]
pub struct Provenance<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub input_format: &'static str,
    /// See [`ImageReport::input_profile`].
    pub input_profile: Option<&'a str>,
    pub input_bytes: u64,
    pub output_bytes: u64,
    /// Why the output was left unwritten, if it was.
    pub skipped: Option<Skip>,
    pub source_has_alpha: bool,
}

/// Why an output was left unwritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// `--skip-if-larger`: it would not have been smaller than the input.
    Larger,
    /// `--skip-existing`: the output (a file, or segment's folder of files)
    /// is there already.
    Exists,
}

impl Skip {
    /// The reason, as the report gives it.
    pub fn reason(self) -> &'static str {
        match self {
            Skip::Larger => "not smaller than the input file (--skip-if-larger)",
            Skip::Exists => "the output is there already (--skip-existing)",
        }
    }
}

impl ImageReport {
    pub fn new(
        q: &Quantized,
        quantizer: &Quantizer,
        io: &Provenance<'_>,
        seconds: Timings,
        verbose: bool,
    ) -> Self {
        let img = q.image();
        let format = if io.source_has_alpha {
            pixmeans_core::PixelFormat::Rgba8
        } else {
            pixmeans_core::PixelFormat::Rgb8
        };
        let sizes = Sizes::of(img, format);
        let p = quantizer.params();
        let psnr = q.psnr();
        let pal = img.palette();
        let history = |h: &[Iteration]| {
            h.iter()
                .map(|i| IterationReport {
                    inertia: i.inertia,
                    center_shift: i.center_shift,
                    turned_down: i.turned_down,
                })
                .collect()
        };
        ImageReport {
            input: io.input.display().to_string(),
            output: io.output.display().to_string(),
            written: io.skipped.is_none(),
            skipped: io.skipped.map(Skip::reason),
            width: img.width(),
            height: img.height(),
            input_format: io.input_format,
            input_profile: io.input_profile.map(str::to_owned),
            distinct_colors: q.distinct_colors(),
            k: p.k(),
            colors: pal.color_count(),
            transparent: pal.transparent_index().is_some(),
            color_space: q.color_space().name(),
            settings: FitSettingsReport::new(p),
            seed: p.seed(),
            max_pixels: quantizer.max_pixels(),
            dither: q.dither().level(),
            opacity: q.clustered_opacity(),
            fitted_on: q.sample_size().map(|(w, h)| [w, h]),
            fitted_pixels: q.fitted_pixels(),
            iterations: q.fit().iterations(),
            converged: q.fit().converged(),
            inertia: q.inertia(),
            mse: q.mse(),
            psnr: json_psnr(psnr),
            delta_e: DeltaEReport {
                mean: q.delta_e().mean,
                p95: q.delta_e().p95,
            },
            sizes: SizeReport {
                raw_bytes: sizes.raw_bytes,
                index_bits: sizes.index_bits,
                packed_index_bytes: sizes.packed_index_bytes,
                palette_bytes: sizes.palette_bytes,
                indexed_bytes: sizes.indexed_bytes(),
                indexed_ratio: sizes.ratio(),
                output_bytes: io.output_bytes,
                input_bytes: io.input_bytes,
                output_ratio: io.input_bytes as f64 / io.output_bytes.max(1) as f64,
            },
            palette: pal.colors().iter().map(|&c| hex_rgba(c)).collect(),
            seconds,
            k_choice: None,
            lossy_file: None,
            history: verbose.then(|| history(q.fit().history())),
        }
    }

    /// The summary for standard error: a few lines a person reads at a glance.
    pub fn human(&self) -> String {
        let mut s = String::new();
        let space = format!("{}, {}", self.color_space, self.settings.init);
        let conv = if self.converged {
            "converged"
        } else {
            "stopped at --max-iter"
        };
        let _ = writeln!(
            s,
            "{} -> {} ({:.2} s){}",
            self.input,
            self.output,
            self.seconds.total,
            self.skipped
                .map_or_else(String::new, |why| format!(", not written: {why}"))
        );
        // The palette's entries: the colours, and the transparent one.
        let entries = if self.transparent {
            format!("{} + transparent", self.colors)
        } else {
            self.colors.to_string()
        };
        let _ = writeln!(
            s,
            "  {} x {}, {} -> {entries}; {space}, {}, {conv}",
            self.width,
            self.height,
            counted(self.distinct_colors, "colour"),
            counted(self.iterations, "iteration")
        );
        if self.k == 256 && self.transparent && self.colors == 255 && self.distinct_colors > 255 {
            let _ = writeln!(
                s,
                "  the transparent entry counts among the 256 (as in pngquant): 255 colours"
            );
        }
        if let Some(c) = &self.k_choice {
            s.push_str(&c.human());
        }
        if let Some([w, h]) = self.fitted_on {
            let _ = writeln!(
                s,
                "  fitted on a {w} x {h} copy (--max-pixels); every pixel of the image mapped"
            );
        }
        if let Some(level) = self.dither {
            let _ = writeln!(
                s,
                "  dithered (Floyd–Steinberg, level {level}): MSE, ΔE00 and file size are those of the dithered image"
            );
        }
        if self.opacity {
            let _ = writeln!(
                s,
                "  colour and opacity clustered together: MSE is the mean of the image over black and over white, ΔE00 is over white"
            );
        }
        let psnr = psnr_words(self.psnr);
        let _ = writeln!(
            s,
            "  inertia {:.6e} ({})  MSE {:.3}  PSNR {psnr} dB  ΔE00 mean {:.2}, p95 {:.2}",
            self.inertia, self.color_space, self.mse, self.delta_e.mean, self.delta_e.p95
        );
        if let Some(f) = &self.lossy_file {
            let psnr = psnr_words(f.psnr);
            let _ = writeln!(
                s,
                "  the JPEG file itself: MSE {:.3}  PSNR {psnr} dB, {} (JPEG's own loss on top)",
                f.mse,
                counted(f.colors, "colour")
            );
        }
        let z = &self.sizes;
        let _ = writeln!(
            s,
            "  raw {} B -> indices at {} + palette = {} + {} = {} B ({})",
            z.raw_bytes,
            counted(z.index_bits, "bit"),
            z.packed_index_bytes,
            z.palette_bytes,
            z.indexed_bytes,
            ratio_words(z.indexed_ratio)
        );
        let _ = writeln!(
            s,
            "  file {} {} B; input file {} B ({})",
            if self.written { "written" } else { "would be" },
            z.output_bytes,
            z.input_bytes,
            ratio_words(z.output_ratio)
        );
        s
    }

    /// The `--verbose` convergence trace, one line per iteration.
    pub fn trace(q: &Quantized) -> String {
        let mut s = String::new();
        for (i, it) in q.fit().history().iter().enumerate() {
            let _ = writeln!(
                s,
                "  iteration {:>3}: inertia {:.6e}, centroid shift {:.6e}{}",
                i + 1,
                it.inertia,
                it.center_shift,
                if it.turned_down {
                    " (over-relaxed step turned down)"
                } else {
                    ""
                }
            );
        }
        s
    }
}

/// A PSNR as the JSON reports give it: `null` for an exact result, whose
/// PSNR is infinite (JSON has no infinity).
pub fn json_psnr(psnr: f64) -> Option<f64> {
    psnr.is_finite().then_some(psnr)
}

/// A PSNR as the summaries print it: `29.74`, or `inf` for an exact
/// result (`null` in the JSON).
pub fn psnr_words(psnr: Option<f64>) -> String {
    psnr.map_or_else(|| "inf".to_owned(), |p| format!("{p:.2}"))
}

/// "3.2x smaller", "1.5x larger", or "about the same size" when the
/// ratio rounds to 1.0 either way.
pub fn ratio_words(input_over_output: f64) -> String {
    if (0.95..1.05).contains(&input_over_output) {
        "about the same size".to_owned()
    } else if input_over_output >= 1.0 {
        format!("{input_over_output:.1}x smaller")
    } else {
        format!("{:.1}x larger", 1.0 / input_over_output)
    }
}

/// `#rrggbb`.
pub fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// `#rrggbb`, or `#rrggbbaa` for a colour not fully opaque.
fn hex_rgba([r, g, b, a]: [u8; 4]) -> String {
    if a == 255 {
        hex([r, g, b])
    } else {
        format!("{}{a:02x}", hex([r, g, b]))
    }
}

/// "1 colour", "2 colours": a count and its noun.
pub(crate) fn counted<N: std::fmt::Display + PartialEq + From<u8> + Copy>(
    n: N,
    noun: &str,
) -> String {
    if n == N::from(1) {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::{counted, ratio_words};

    #[test]
    fn ratios_near_one_are_about_the_same_size() {
        assert_eq!(ratio_words(3.21), "3.2x smaller");
        assert_eq!(ratio_words(1.01), "about the same size");
        assert_eq!(ratio_words(1.0 / 1.04), "about the same size");
        assert_eq!(ratio_words(0.5), "2.0x larger");
    }

    #[test]
    fn one_of_a_thing_is_singular() {
        assert_eq!(counted(1usize, "iteration"), "1 iteration");
        assert_eq!(counted(0u64, "colour"), "0 colours");
        assert_eq!(counted(176_767u32, "colour"), "176767 colours");
    }
}
