//! `pixmeans palette`: an image's k main colours, each with its share of the
//! pixels, as a list, JSON, a GIMP palette or a swatch image.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use pixmeans_core::{AlphaMode, PaletteOrder, palette_order};
use pixmeans_io::{Swatch, encode_indexed_png, gimp_palette, swatch_image, write_atomic};
use serde::Serialize;

use super::{Outcome, picture_output, read_one, source_of};
use crate::args::{PaletteArgs, SortArg};
use crate::config::{self, Common};
use crate::report::{counted, hex, json_psnr};

/// The `--json` report and the `.json` file.
#[derive(Debug, Serialize)]
struct PaletteReport {
    input: String,
    k: usize,
    distinct_colors: usize,
    color_space: &'static str,
    sort: &'static str,
    psnr: Option<f64>,
    delta_e_mean: f64,
    colors: Vec<ColorEntry>,
    /// How `-k auto` chose k, as in quantize's report.
    #[serde(skip_serializing_if = "Option::is_none")]
    k_choice: Option<crate::report::KChoiceReport>,
}

#[derive(Debug, Serialize)]
struct ColorEntry {
    hex: String,
    rgb: [u8; 3],
    pixels: u64,
    share: f64,
}

/// What `-o` asks for, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Gpl,
    Swatch,
    Json,
}

fn file_kind(path: &Path) -> Result<FileKind> {
    if path.is_dir() || crate::config::ends_with_separator(path) {
        bail!(
            "{} is a folder, but palette -o names a file\nhint: name it, e.g. -o {}",
            path.display(),
            path.join("palette.gpl").display()
        );
    }
    if path.as_os_str() == "-" {
        bail!(
            "palette writes -o to a file, not to standard output (-o -)\nhint: without -o it prints the colours to standard output (with --json, as JSON)"
        );
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    Ok(match ext.as_deref() {
        Some("gpl") => FileKind::Gpl,
        Some("png") => FileKind::Swatch,
        Some("json") => FileKind::Json,
        _ => bail!(
            "cannot tell what to write to {}: expected .gpl, .png or .json",
            path.display()
        ),
    })
}

pub fn run(a: &PaletteArgs) -> Result<Outcome> {
    // By colour alone, as the warning on reading says.
    let quantizer = config::quantizer(&a.kmeans)?.with_alpha(AlphaMode::Opaque);
    let common = Common::resolve(&a.common)?.with_png(&a.png);
    let kind = a.output.as_deref().map(file_kind).transpose()?;
    if kind == Some(FileKind::Swatch) {
        check_swatch_size(a.swatch_width, a.swatch_height, common.limits.max_pixels)?;
    } else {
        let why = match &a.output {
            Some(o) => format!("{} is not a PNG swatch", o.display()),
            None => "without -o swatch.png palette writes no PNG".to_owned(),
        };
        config::no_png_here(&a.png, &why)?;
    }
    if let Some(out) = &a.output {
        picture_output(Some(out), &a.input, "palette", "png", common.force)?;
    }
    let source = source_of(&a.input);
    let decoded = read_one(&source, &common, AlphaMode::Opaque)?;
    let auto = config::auto_k(&a.kmeans)?;
    let (q, quantizer, choice) =
        super::quantize_auto(&decoded.image.view(), &a.input, &quantizer, auto)?;
    let k_choice = choice
        .as_ref()
        .map(|c| crate::report::KChoiceReport::new(c, auto));
    if let Some(c) = &k_choice {
        crate::print_info(&c.human());
    }
    if common.verbose {
        crate::print_message(&crate::report::ImageReport::trace(&q));
    }

    let entries: Vec<([u8; 3], u64)> = q
        .image()
        .palette()
        .rgb()
        .into_iter()
        .zip(q.counts().iter().copied())
        .collect();
    let by = match a.sort {
        SortArg::Share => PaletteOrder::Share,
        SortArg::Lightness => PaletteOrder::Lightness,
        SortArg::Hue => PaletteOrder::Hue,
    };
    let swatches: Vec<Swatch> = palette_order(&entries, by)
        .into_iter()
        .map(|i| Swatch {
            rgb: entries[i].0,
            pixels: entries[i].1,
        })
        .collect();
    let total = swatches.iter().map(|s| s.pixels).sum::<u64>().max(1) as f64;
    let psnr = q.psnr();
    let report = PaletteReport {
        input: source.display().display().to_string(),
        k: quantizer.params().k(),
        distinct_colors: q.distinct_colors(),
        color_space: q.color_space().name(),
        sort: match by {
            PaletteOrder::Share => "share",
            PaletteOrder::Lightness => "lightness",
            PaletteOrder::Hue => "hue",
        },
        psnr: json_psnr(psnr),
        delta_e_mean: q.delta_e().mean,
        colors: swatches
            .iter()
            .map(|s| ColorEntry {
                hex: hex(s.rgb),
                rgb: s.rgb,
                pixels: s.pixels,
                share: s.pixels as f64 / total,
            })
            .collect(),
        k_choice,
    };

    if let (Some(out), Some(kind)) = (&a.output, kind) {
        write_file(out, kind, &report, &swatches, a, &common)?;
    }
    if common.json {
        super::print_json(&report)?;
    } else {
        crate::print_data(&table(&report))?;
    }
    let psnr = crate::report::psnr_words(report.psnr);
    let wrote = a
        .output
        .as_ref()
        .map(|o| format!("; wrote {}", o.display()))
        .unwrap_or_default();
    crate::print_info(&format!(
        "{}: {} from {} ({}), PSNR {psnr} dB, mean ΔE00 {:.2}{wrote}\n",
        report.input,
        counted(report.colors.len(), "colour"),
        report.distinct_colors,
        report.color_space,
        report.delta_e_mean
    ));
    Ok(Outcome::Success)
}

/// Refuses an empty swatch, and one larger than the pixel limit.
fn check_swatch_size(w: u32, h: u32, limit: u64) -> Result<()> {
    if w == 0 || h == 0 {
        bail!("the swatch needs a width and height of at least 1 pixel");
    }
    if u64::from(w) * u64::from(h) > limit {
        bail!(
            "a swatch of {w} x {h} pixels is over the pixel limit of {limit}\nhint: --pixel-limit raises it"
        );
    }
    Ok(())
}

/// Writes the palette as the file `-o` names.
fn write_file(
    out: &Path,
    kind: FileKind,
    report: &PaletteReport,
    swatches: &[Swatch],
    a: &PaletteArgs,
    common: &Common,
) -> Result<()> {
    let bytes = match kind {
        FileKind::Gpl => {
            let name = a
                .input
                .file_stem()
                .map_or_else(|| "palette".into(), |s| s.to_string_lossy());
            gimp_palette(&format!("{name} (pixmeans, k = {})", report.k), swatches).into_bytes()
        }
        FileKind::Json => serde_json::to_vec_pretty(report)?,
        FileKind::Swatch => {
            // The size was checked up front: no swatch means no colours.
            let img =
                swatch_image(swatches, a.swatch_width, a.swatch_height).with_context(|| {
                    format!(
                        "cannot draw a swatch of {}: it has no opaque pixels",
                        a.input.display()
                    )
                })?;
            encode_indexed_png(&img, common.compression)
                .with_context(|| format!("cannot encode {}", out.display()))?
        }
    };
    write_atomic(out, &bytes, common.force)?;
    Ok(())
}

/// One line per colour: hex, share, RGB, pixels.
fn table(report: &PaletteReport) -> String {
    let mut s = String::new();
    for c in &report.colors {
        let [r, g, b] = c.rgb;
        let _ = writeln!(
            s,
            "{}  {:5.1}%  rgb({r:3}, {g:3}, {b:3})  {} px",
            c.hex,
            100.0 * c.share,
            c.pixels
        );
    }
    s
}
