//! `pixmeans demo`: the bundled photo at k = 2, 4, 8, 16 and 32, written to a
//! folder, with a table of what each k costs and gives.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use pixmeans_core::{KMeansParams, Quantizer};
use pixmeans_io::OutputFormat;

use super::{Outcome, print_json, quantize_one};
use crate::config::{Common, Sink};
use crate::report::{ImageReport, Timings, ratio_words};

/// The demo photo, compiled into the binary so the demo runs anywhere.
const PHOTO: &[u8] = include_bytes!("../../../../assets/coffee.png");
const PHOTO_NAME: &str = "coffee.png";
const CREDIT: &str = "a cup of coffee, CC0, by Rachel Michetti (shipped with scikit-image)";
const KS: [usize; 5] = [2, 4, 8, 16, 32];

pub fn run(dir: &Path, common: &Common) -> Result<Outcome> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output folder {}", dir.display()))?;
    let original = dir.join(PHOTO_NAME);
    pixmeans_io::write_atomic(&original, PHOTO, true)?;
    let start = Instant::now();
    let decoded = pixmeans_io::decode_bytes(PHOTO, Path::new(PHOTO_NAME), &common.limits)?;
    let decode = start.elapsed().as_secs_f64();
    crate::print_message(&format!(
        "pixmeans demo: {PHOTO_NAME} ({} x {}, {CREDIT})\nwriting the original and one indexed PNG per k into {}/\n\n",
        decoded.image.view().width(),
        decoded.image.view().height(),
        dir.display()
    ));
    // The demo owns the files it names in its folder: running it again
    // replaces them, so the README's first command can always be rerun.
    let common = Common {
        force: true,
        ..common.clone()
    };
    let mut reports = Vec::new();
    for k in KS {
        let quantizer = Quantizer::new(KMeansParams::new(k));
        let sink = Sink::File(dir.join(format!("coffee-k{k}.png")));
        let seconds = Timings {
            decode,
            ..Timings::default()
        };
        let (q, report) = quantize_one(
            &decoded,
            Path::new(PHOTO_NAME),
            &quantizer,
            None,
            &sink,
            OutputFormat::Png,
            &common,
            seconds,
        )?;
        if common.verbose {
            crate::print_message(&format!("k = {k}\n{}", ImageReport::trace(&q)));
        }
        if common.json {
            print_json(&report)?;
        }
        reports.push(report);
    }
    if !common.json {
        crate::print_data(&table(&reports))?;
    }
    crate::print_message(&format!(
        "\nopen {}/ to compare; inertia is in 8-bit sRGB units, MSE and PSNR over all pixels and channels\n",
        dir.display()
    ));
    Ok(Outcome::Success)
}

/// The table the demo prints: one row per k.
fn table(reports: &[ImageReport]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>4} {:>10} {:>14} {:>9} {:>8} {:>8} {:>10} {:>10}  vs input",
        "k", "iterations", "inertia", "MSE", "PSNR dB", "mean ΔE", "packed B", "PNG B"
    );
    for r in reports {
        let psnr = r
            .psnr
            .map_or_else(|| "inf".to_owned(), |p| format!("{p:.2}"));
        let _ = writeln!(
            s,
            "{:>4} {:>10} {:>14.6e} {:>9.2} {:>8} {:>8.2} {:>10} {:>10}  {} ({} B)",
            r.k,
            r.iterations,
            r.inertia,
            r.mse,
            psnr,
            r.delta_e.mean,
            r.sizes.indexed_bytes,
            r.sizes.output_bytes,
            ratio_words(r.sizes.output_ratio),
            r.sizes.input_bytes
        );
    }
    s
}
