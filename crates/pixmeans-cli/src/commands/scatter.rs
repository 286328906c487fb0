//! `pixmeans scatter`: a seeded sample of the pixels as dots in 3-D colour
//! space, in their own colours and in their clusters' colours.

use anyhow::{Context, Result, bail};
use pixmeans_core::{AlphaMode, ImageRef, Quantized, sample_positions};
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
    /// Pixels drawn, none of them fully transparent.
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

/// `n` of the opaque pixels (those not fully transparent) drawn at random
/// by `seed` (all of them when there are no more), each with its cluster in
/// `q`; and how many opaque pixels there are.
pub fn sample(
    view: &ImageRef<'_>,
    q: &Quantized,
    n: usize,
    seed: u64,
) -> (Vec<ScatterPoint>, usize) {
    let channels = view.format().channels();
    let data = view.data();
    let opaque = |i: usize| channels == 3 || data[i * channels + 3] > 0;
    let total = if channels == 3 {
        view.pixel_count()
    } else {
        (0..view.pixel_count()).filter(|&i| opaque(i)).count()
    };
    let indices = q.image().indices();
    let point = |i: usize| ScatterPoint {
        rgb: [
            data[i * channels],
            data[i * channels + 1],
            data[i * channels + 2],
        ],
        cluster: indices[i],
    };
    let ranks = sample_positions(total, n, seed);
    let points = if channels == 3 {
        ranks.into_iter().map(point).collect()
    } else {
        // The ranks are increasing: one walk finds the pixel of each.
        let mut wanted = ranks.into_iter().peekable();
        (0..view.pixel_count())
            .filter(|&i| opaque(i))
            .enumerate()
            .filter_map(|(rank, i)| wanted.next_if_eq(&rank).map(|_| point(i)))
            .collect()
    };
    (points, total)
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
    // By colour alone, as the warning on reading says.
    let quantizer = config::quantizer(&a.kmeans)?.with_alpha(AlphaMode::Opaque);
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
    let decoded = read_one(&source, &common, AlphaMode::Opaque)?;
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
    let (points, opaque) = sample(&view, &q, a.samples, seed);
    if points.is_empty() {
        bail!("{name} has no opaque pixels to draw");
    }
    let (palette, shares) = palette_shares(&q);
    let space = quantizer.color_space();
    let title = format!(
        "{}: {} of {} in {space} space, k = {}",
        file_name(source.display()),
        points.len(),
        if opaque < view.pixel_count() {
            counted(opaque, "opaque pixel")
        } else {
            counted(opaque, "pixel")
        },
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
    super::write_picture(&out, &bytes, common.force)?;

    let report = ScatterReport {
        input: name,
        output: out.display().to_string(),
        k: quantizer.params().k(),
        color_space: space.name(),
        seed,
        samples: points.len(),
        palette: palette.iter().map(|&c| crate::report::hex(c)).collect(),
        shares,
    };
    if common.json {
        super::print_json(&report)?;
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
