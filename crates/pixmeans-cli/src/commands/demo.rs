//! `pixmeans demo`: the bundled photo at k = 2, 4, 8, 16 and 32, written to a
//! folder, with a table of what each k costs and gives, the pictures that
//! explain it (elbow, grid, palette, scatter) and a page that shows them.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use pixmeans_core::{ColorHistogram, ColorSpace, KMeansParams, Quantized, Quantizer};
use pixmeans_io::plot::{ScatterData, scatter_chart, scatter_html};
use pixmeans_io::{
    ChartFormat, Decoded, OutputFormat, PngCompression, Swatch, encode_indexed_png, swatch_image,
};

use super::{Outcome, elbow, grid, human_bytes, print_json, quantize_one, scatter};
use crate::config::Common;
use crate::quantize_config::Sink;
use crate::report::{ImageReport, Timings, ratio_words};

/// The demo photo, compiled into the binary so the demo runs anywhere.
const PHOTO: &[u8] = include_bytes!("../../../../assets/coffee.png");
const PHOTO_NAME: &str = "coffee.png";
const CREDIT: &str = "a cup of coffee, CC0, by Rachel Michetti (shipped with scikit-image)";
const KS: [usize; 5] = [2, 4, 8, 16, 32];

pub fn run(dir: &Path, common: &Common) -> Result<Outcome> {
    claim(dir, common.force)?;
    let original = dir.join(PHOTO_NAME);
    pixmeans_io::write_atomic(&original, PHOTO, true)?;
    let start = Instant::now();
    let decoded = pixmeans_io::decode_bytes(PHOTO, Path::new(PHOTO_NAME), &common.limits)?;
    let decode = start.elapsed().as_secs_f64();
    crate::print_info(&format!(
        "pixmeans demo: {PHOTO_NAME} ({} x {}, {CREDIT})\nwriting the original, one indexed PNG per k and the pictures that explain them into {}/\n\n",
        decoded.image.view().width(),
        decoded.image.view().height(),
        dir.display()
    ));
    // The folder is the demo's now (see `claim`): running it again replaces
    // its files, so the README's first command can always be rerun.
    let common = Common {
        force: true,
        ..common.clone()
    };
    let mut reports = Vec::new();
    let mut quantized = Vec::new();
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
            |_| Ok(sink.clone()),
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
        quantized.push((k, q, report.sizes.output_bytes));
        reports.push(report);
    }
    if !common.json {
        crate::print_data(&table(&reports))?;
    }
    pictures(dir, &decoded, &quantized, common.compression)?;
    crate::print_info(&format!(
        "\nopen {}/index.html to see it all; inertia is in 8-bit sRGB units, MSE and PSNR over all pixels and channels\n",
        dir.display()
    ));
    Ok(Outcome::Success)
}

/// The k of the palette swatch and the scatter.
const SHOWN_K: usize = 8;

/// What marks an index page, and so its folder, as the demo's: its title,
/// which every demo since it first wrote the page has given it.
const MARK: &str = "<title>pixmeans demo</title>";

/// Makes `dir` the demo's folder. The demo replaces its own files, but
/// without `--force` it refuses a folder where one of its file names is
/// taken and no index page of its own says the folder is the demo's. That
/// page is written first (see [`unfinished_page`]), so a run that was
/// stopped part way can be rerun.
fn claim(dir: &Path, force: bool) -> Result<()> {
    crate::config::check_output_folder("demo", dir)?;
    if dir.exists() && !dir.is_dir() {
        bail!(
            "{} is a file, but demo writes a folder of files\nhint: name a folder with -o",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output folder {}", dir.display()))?;
    let index = dir.join("index.html");
    let ours = std::fs::read_to_string(&index).is_ok_and(|page| page.contains(MARK));
    if !force && !ours {
        let taken: Vec<String> = file_names()
            .into_iter()
            .filter(|name| dir.join(name).exists())
            .collect();
        if !taken.is_empty() {
            bail!(
                "{} already holds {}, and no index.html of the demo's marks the folder as the demo's\nhint: add --force to replace them, or name another folder with -o",
                dir.display(),
                taken.join(", ")
            );
        }
    }
    pixmeans_io::write_atomic(&index, unfinished_page().as_bytes(), true)?;
    Ok(())
}

/// The index page while the demo runs, replaced by [`index_page`] at the
/// end: it marks the folder as the demo's and, if the run is stopped, says
/// so instead of showing files that are not there.
fn unfinished_page() -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n{MARK}\n</head>\n\
         <body>\n<h1>pixmeans demo</h1>\n<p>The demo is writing its files into this folder. \
         If this page is still here, it was stopped before the end: run <code>pixmeans demo</code> \
         again.</p>\n</body>\n</html>\n"
    )
}

/// Every file the demo writes, the index page first.
fn file_names() -> Vec<String> {
    let mut names: Vec<String> = ["index.html", PHOTO_NAME, "elbow.png", "grid.png"]
        .map(str::to_owned)
        .into();
    names.push(format!("palette-k{SHOWN_K}.png"));
    names.extend(["scatter.png", "scatter.html"].map(str::to_owned));
    names.extend(KS.map(|k| format!("coffee-k{k}.png")));
    names
}

/// The elbow plot, the grid, the swatch, the scatter (PNG and page) and the
/// index page that shows them, from the quantized versions already made.
fn pictures(
    dir: &Path,
    decoded: &Decoded,
    quantized: &[(usize, Quantized, u64)],
    compression: PngCompression,
) -> Result<()> {
    let view = decoded.image.view();
    let write = |name: &str, bytes: &[u8]| -> Result<()> {
        pixmeans_io::write_atomic(&dir.join(name), bytes, true)?;
        Ok(())
    };
    let hist = ColorHistogram::from_image(&view);
    // The range whose knee `quantize -k auto` takes.
    let ks: Vec<usize> = crate::config::KNEE_RANGE.collect();
    let rows = elbow::sweep(
        &view,
        &hist,
        &Quantizer::new(KMeansParams::new(2)),
        &ks,
        PHOTO_NAME,
    )?;
    let curve: Vec<(usize, f64)> = rows.iter().map(|r| (r.k, r.inertia)).collect();
    let knee = pixmeans_core::knee(&curve);
    let space = ColorSpace::Srgb;
    write(
        "elbow.png",
        &elbow::draw(&rows, knee, space, PHOTO_NAME, ChartFormat::Png)?,
    )?;

    let shown: Vec<&(usize, Quantized, u64)> =
        quantized.iter().filter(|(k, _, _)| *k <= 16).collect();
    let size = grid::tile_sizes(&view, shown.len());
    let versions: Vec<grid::Version> = shown
        .iter()
        .map(|(k, q, bytes)| grid::Version::new(q, *k, *bytes, size))
        .collect();
    let grid_ks: Vec<usize> = shown.iter().map(|(k, _, _)| *k).collect();
    let original = format!("original · {}", human_bytes(decoded.file_bytes));
    let title = grid::title(PHOTO_NAME, &grid_ks, space);
    write(
        "grid.png",
        &grid::draw(&view, &original, &versions, &title)?,
    )?;

    let Some((_, q, _)) = quantized.iter().find(|(k, _, _)| *k == SHOWN_K) else {
        bail!("internal error: the demo made no k = {SHOWN_K}");
    };
    let (palette, shares) = scatter::palette_shares(q);
    let swatches: Vec<Swatch> = palette
        .iter()
        .zip(q.counts())
        .map(|(&rgb, &pixels)| Swatch { rgb, pixels })
        .collect();
    let swatch = swatch_image(&swatches, 800, 100).context("cannot draw the swatch")?;
    write(
        &format!("palette-k{SHOWN_K}.png"),
        &encode_indexed_png(&swatch, compression)?,
    )?;
    let (points, _) = scatter::sample(&view, q, 5000, 0);
    let title = format!(
        "{PHOTO_NAME}: {} pixels in srgb space, k = {SHOWN_K}",
        points.len()
    );
    let data = ScatterData {
        points: &points,
        palette: &palette,
        shares: &shares,
        space,
        title: &title,
    };
    write("scatter.png", &scatter_chart(&data, 1600, 800)?)?;
    write("scatter.html", scatter_html(&data).as_bytes())?;
    write("index.html", index_page(knee).as_bytes())
}

/// The page that shows every file the demo wrote, one line on each.
fn index_page(knee: Option<usize>) -> String {
    let knee = knee.map_or_else(String::new, |k| format!(" (here k = {k})"));
    let mut items = vec![
        (PHOTO_NAME.to_owned(), format!("The original photo: {CREDIT}.")),
        (
            "elbow.png".to_owned(),
            format!("Inertia (and PSNR) against k = 1..16; the marked knee is where more colours stop paying, and the k that quantize -k auto takes{knee}."),
        ),
        (
            "grid.png".to_owned(),
            "The original and k = 2, 4, 8, 16 side by side, each with its PSNR and the size of its indexed PNG.".to_owned(),
        ),
        (
            format!("palette-k{SHOWN_K}.png"),
            format!("The {SHOWN_K} colours of k = {SHOWN_K}, each band as wide as its share of the pixels."),
        ),
        (
            "scatter.png".to_owned(),
            format!("5000 pixels in RGB space: left in their own colours, right in their cluster's colour (k = {SHOWN_K}) with the centroids ringed."),
        ),
        (
            "scatter.html".to_owned(),
            "The same scatter as a page: drag to turn it, scroll to zoom (works offline).".to_owned(),
        ),
    ];
    for k in KS {
        items.push((
            format!("coffee-k{k}.png"),
            format!("The photo quantized to {k} colours, as the indexed PNG `pixmeans quantize -k {k}` writes."),
        ));
    }
    let mut body = String::new();
    for (file, line) in &items {
        let preview = if Path::new(file).extension().is_some_and(|e| e == "png") {
            format!("<br><img src=\"{file}\" alt=\"{file}\">")
        } else {
            String::new()
        };
        let _ = writeln!(
            body,
            "<li><a href=\"{file}\">{file}</a>: {line}{preview}</li>"
        );
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n{MARK}\n\
         <style>body {{ font-family: sans-serif; margin: 24px; max-width: 1000px; }} \
         li {{ margin-bottom: 24px; }} img {{ max-width: 100%; margin-top: 6px; }}</style>\n\
         </head>\n<body>\n<h1>pixmeans demo</h1>\n\
         <p>What k-means on the pixels of one photo gives, for several numbers of colours k. \
         Every file below is in this folder.</p>\n<ul>\n{body}</ul>\n</body>\n</html>\n"
    )
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
        let psnr = crate::report::psnr_words(r.psnr);
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
