//! `pixmeans elbow`: k-means at several k on one colour histogram, a table
//! of what each k gives, and the plot of inertia against k with the knee.

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use pixmeans_core::{ColorHistogram, ColorSpace, ImageRef, PixelFormat, Quantizer, knee};
use pixmeans_io::ChartFormat;
use pixmeans_io::plot::{ElbowChart, ElbowPoint, elbow_chart};
use rayon::prelude::*;
use serde::Serialize;

use super::{Outcome, file_name, picture_output, progress, read_one, source_of};
use crate::args::ElbowArgs;
use crate::config::{self, Common};
use crate::report::counted;

/// The plot's size in pixels.
const SIZE: (u32, u32) = (1200, 700);

/// The `--json` report.
#[derive(Debug, Serialize)]
struct ElbowReport {
    input: String,
    output: String,
    width: u32,
    height: u32,
    distinct_colors: usize,
    color_space: &'static str,
    seed: u64,
    /// The knee of inertia against k (Kneedle); `null` with fewer than three
    /// k or a flat curve.
    suggested_k: Option<usize>,
    rows: Vec<ElbowRow>,
}

/// One k: the same figures `pixmeans quantize --json` reports for it.
#[derive(Debug, Serialize)]
pub struct ElbowRow {
    pub k: usize,
    colors: usize,
    pub inertia: f64,
    mse: f64,
    psnr: Option<f64>,
    delta_e_mean: f64,
    delta_e_p95: f64,
    iterations: usize,
    converged: bool,
    seconds: f64,
    /// Indices packed at ⌈log2 k⌉ bits plus the palette.
    indexed_bytes: u64,
}

/// The unit of inertia in each working space.
pub fn inertia_unit(space: ColorSpace) -> &'static str {
    match space {
        ColorSpace::Srgb => "8-bit sRGB levels²",
        ColorSpace::Oklab => "Oklab units²",
        ColorSpace::Lab => "CIELAB units²",
    }
}

pub fn run(a: &ElbowArgs) -> Result<Outcome> {
    let common = Common::resolve(&a.common)?;
    let ks = a.ks.ks();
    // Colour and opacity together, as quantize fits them.
    let quantizer = config::ks_quantizer(&a.fit, ks)?;
    let out = picture_output(a.output.as_deref(), &a.input, "elbow", "png", common.force)?;
    let format = ChartFormat::from_path(&out).ok_or_else(|| {
        anyhow!(
            "cannot tell what to write to {}: expected .png or .svg",
            out.display()
        )
    })?;
    let source = source_of(&a.input);
    let decoded = read_one(&source, &common, quantizer.alpha())?;
    let view = decoded.image.view();
    let name = source.display().display().to_string();
    let hist = ColorHistogram::from_image(&view);

    let rows = sweep(&view, &hist, &quantizer, ks, &name)?;
    let curve: Vec<(usize, f64)> = rows.iter().map(|r| (r.k, r.inertia)).collect();
    let suggested = knee(&curve);
    let space = quantizer.color_space();
    let bytes = draw(
        &rows,
        suggested,
        space,
        &file_name(source.display()),
        format,
    )
    .with_context(|| format!("cannot draw {}", out.display()))?;
    super::write_picture(&out, &bytes, common.force)?;

    let report = ElbowReport {
        input: name,
        output: out.display().to_string(),
        width: view.width(),
        height: view.height(),
        distinct_colors: quantizer.distinct_colors(&hist),
        color_space: space.name(),
        seed: quantizer.params().seed(),
        suggested_k: suggested,
        rows,
    };
    if common.json {
        super::print_json(&report)?;
    } else {
        crate::print_data(&table(&report))?;
    }
    let why = match suggested {
        Some(k) => format!(
            "suggested k = {k}, the knee of inertia over k = {}",
            a.ks.describe()
        ),
        None => "no knee (it takes three k or more, on a curve that falls)".to_owned(),
    };
    let alpha = if view.format() == PixelFormat::Rgba8 {
        ", with transparency"
    } else {
        ""
    };
    crate::print_info(&format!(
        "{}: {} x {}, {}{alpha}; {why}; wrote {}\n",
        report.input,
        report.width,
        report.height,
        counted(report.distinct_colors, "colour"),
        report.output
    ));
    Ok(Outcome::Success)
}

/// The figures of each k from one histogram, with a progress bar. Only the
/// figures are needed, so no pixel is mapped (`Quantizer::trial`).
///
/// The k are fitted side by side, each fit also parallel inside: a fit
/// alone keeps two cores only about two thirds busy. On the 12 MP
/// sunset.jpg, k = 2..16 took 1.07-1.17 s instead of 1.39-1.90, with the
/// same figures. Each row's seconds are its own fit's, while it shared the
/// cores with the others.
pub fn sweep(
    view: &ImageRef<'_>,
    hist: &ColorHistogram,
    quantizer: &Quantizer,
    ks: &[usize],
    name: &str,
) -> Result<Vec<ElbowRow>> {
    let bar = progress(ks.len());
    hist.keep_for_several_fits();
    let rows = ks
        .par_iter()
        .map(|&k| {
            let start = Instant::now();
            let t = quantizer
                .clone()
                .with_k(k)
                .trial(view, hist)
                .with_context(|| format!("cannot quantize {name} at k = {k}"))?;
            bar.inc(1);
            Ok(ElbowRow {
                k,
                colors: t.colors,
                inertia: t.inertia,
                mse: t.mse,
                psnr: crate::report::json_psnr(t.psnr),
                delta_e_mean: t.delta_e.mean,
                delta_e_p95: t.delta_e.p95,
                iterations: t.iterations,
                converged: t.converged,
                seconds: start.elapsed().as_secs_f64(),
                indexed_bytes: t.sizes.indexed_bytes(),
            })
        })
        .collect();
    bar.finish_and_clear();
    rows
}

/// The elbow plot of these rows, titled with the image's name.
pub fn draw(
    rows: &[ElbowRow],
    suggested: Option<usize>,
    space: ColorSpace,
    name: &str,
    format: ChartFormat,
) -> Result<Vec<u8>, pixmeans_io::PlotError> {
    let points: Vec<ElbowPoint> = rows
        .iter()
        .map(|r| ElbowPoint {
            k: r.k,
            inertia: r.inertia,
            psnr: r.psnr,
        })
        .collect();
    let title = format!("{name}: inertia and PSNR against k ({space})");
    let chart = ElbowChart {
        points: &points,
        knee: suggested,
        inertia_unit: inertia_unit(space),
        title: &title,
    };
    elbow_chart(&chart, format, SIZE.0, SIZE.1)
}

/// One row per k; the suggested k is marked.
fn table(r: &ElbowReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:>4} {:>10} {:>14} {:>9} {:>8} {:>8} {:>10} {:>8}",
        "k", "iterations", "inertia", "MSE", "PSNR dB", "mean ΔE", "packed B", "seconds"
    );
    for row in &r.rows {
        let psnr = crate::report::psnr_words(row.psnr);
        let mark = if r.suggested_k == Some(row.k) {
            "  <- knee"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "{:>4} {:>10} {:>14.6e} {:>9.2} {:>8} {:>8.2} {:>10} {:>8.3}{mark}",
            row.k,
            row.iterations,
            row.inertia,
            row.mse,
            psnr,
            row.delta_e_mean,
            row.indexed_bytes,
            row.seconds
        );
    }
    s
}
