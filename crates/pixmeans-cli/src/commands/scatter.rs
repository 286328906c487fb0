//! `pixmeans scatter`: a seeded sample of the pixels as dots in 3-D colour
//! space, in their own colours and in their clusters' colours.

use anyhow::{Context, Result, bail};
use pixmeans_core::{ImageRef, Quantized, sample_positions};
use pixmeans_io::plot::{ScatterData, ScatterPoint, scatter_chart, scatter_html};
use serde::Serialize;

use super::{Outcome, file_name, picture_output, read_one, source_of};
use crate::args::ScatterArgs;
use crate::config::{self, Common};
use crate::report::counted;

/// The PNG's size in pixels.
const SIZE: (u32, u32) = (1600, 800);

/// The `--json` report.
#[derive(Debug, Serialize)]
struct ScatterReport {
    input: String,
    output: String,
    k: usize,
    color_space: &'static str,
    seed: u64,
    /// Pixels drawn (transparent pixels of the sample are left out).
    samples: usize,
    palette: Vec<String>,
    shares: Vec<f64>,
}

/// What `-o` asks for, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Png,
    Html,
}

/// `n` pixels drawn at random by `seed`, transparent ones left out, each with
/// its cluster in `q`.
pub fn sample(view: &ImageRef<'_>, q: &Quantized, n: usize, seed: u64) -> Vec<ScatterPoint> {
    let channels = view.format().channels();
    let indices = q.image().indices();
    sample_positions(view.pixel_count(), n, seed)
        .into_iter()
        .filter_map(|i| {
            let px = &view.data()[i * channels..(i + 1) * channels];
            let opaque = channels == 3 || px[3] > 0;
            opaque.then(|| ScatterPoint {
                rgb: [px[0], px[1], px[2]],
                cluster: indices[i],
            })
        })
        .collect()
}

/// The opaque palette colours and each one's share of the pixels.
pub fn palette_shares(q: &Quantized) -> (Vec<[u8; 3]>, Vec<f64>) {
    let colors = q.counts().len();
    let palette = q.image().palette().rgb().into_iter().take(colors).collect();
    let total = q.counts().iter().sum::<u64>().max(1) as f64;
    let shares = q.counts().iter().map(|&n| n as f64 / total).collect();
    (palette, shares)
}

pub fn run(a: &ScatterArgs) -> Result<Outcome> {
    let common = Common::resolve(&a.common)?;
    let quantizer = config::quantizer(&a.kmeans)?;
    let auto = config::auto_k(&a.kmeans)?;
    if a.samples == 0 {
        bail!("--samples must be at least 1");
    }
    let out = picture_output(
        a.output.as_deref(),
        &a.input,
        "scatter",
        "png",
        common.force,
    )?;
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let kind = match ext.as_deref() {
        Some("png") => Kind::Png,
        Some("html" | "htm") => Kind::Html,
        _ => bail!(
            "cannot tell what to write to {}: expected .png or .html",
            out.display()
        ),
    };
    let source = source_of(&a.input);
    let decoded = read_one(&source, &common)?;
    let view = decoded.image.view();
    let name = source.display().display().to_string();
    let (q, quantizer, choice) = super::quantize_auto(&view, &a.input, &quantizer, auto)?;
    if let Some(c) = &choice {
        crate::print_info(&crate::report::KChoiceReport::new(c, auto).human());
    }
    if common.verbose {
        crate::print_message(&crate::report::ImageReport::trace(&q));
    }

    let seed = quantizer.params().seed();
    let points = sample(&view, &q, a.samples, seed);
    if points.is_empty() {
        bail!("{name} has no opaque pixels to draw");
    }
    let (palette, shares) = palette_shares(&q);
    let space = quantizer.color_space();
    let title = format!(
        "{}: {} of {} in {space} space, k = {}",
        file_name(source.display()),
        points.len(),
        counted(view.pixel_count(), "pixel"),
        quantizer.params().k()
    );
    let data = ScatterData {
        points: &points,
        palette: &palette,
        shares: &shares,
        space,
        title: &title,
    };
    let bytes = match kind {
        Kind::Png => scatter_chart(&data, SIZE.0, SIZE.1)
            .with_context(|| format!("cannot draw {}", out.display()))?,
        Kind::Html => scatter_html(&data).into_bytes(),
    };
    pixmeans_io::write_atomic(&out, &bytes, common.force)?;

    let report = ScatterReport {
        input: name,
        output: out.display().to_string(),
        k: quantizer.params().k(),
        color_space: space.name(),
        seed,
        samples: points.len(),
        palette: palette
            .iter()
            .map(|[r, g, b]| format!("#{r:02x}{g:02x}{b:02x}"))
            .collect(),
        shares,
    };
    if common.json {
        crate::print_data(&format!("{}\n", serde_json::to_string(&report)?))?;
    }
    crate::print_info(&format!(
        "{}: {} sampled, {} ({}); wrote {}\n",
        report.input,
        counted(report.samples, "pixel"),
        counted(palette.len(), "cluster"),
        report.color_space,
        report.output
    ));
    Ok(Outcome::Success)
}
