//! `pixmeans grid`: the original and its quantized versions side by side,
//! each captioned with k, PSNR and the size of its indexed PNG.

use anyhow::{Context, Result, bail};
use pixmeans_core::{ColorHistogram, ColorSpace, ImageRef, Quantized};
use pixmeans_io::OutputFormat;
use pixmeans_io::plot::{GridTile, RgbImage, TilePicture, grid_image, tile, tile_size};
use rayon::prelude::*;
use serde::Serialize;

use super::{Outcome, file_name, human_bytes, picture_output, progress, read_one, source_of};
use crate::args::GridArgs;
use crate::config::{self, Common};
use crate::report::ImageReport;

/// The `--json` report.
#[derive(Debug, Serialize)]
struct GridReport {
    input: String,
    output: String,
    input_bytes: u64,
    color_space: &'static str,
    seed: u64,
    tiles: Vec<TileReport>,
}

/// One quantized version.
#[derive(Debug, Serialize)]
struct TileReport {
    k: usize,
    psnr: Option<f64>,
    delta_e_mean: f64,
    /// Bytes of the indexed PNG `pixmeans quantize` would write.
    png_bytes: u64,
}

/// A quantized version, as its tile of the grid, with its caption.
#[derive(Debug)]
pub struct Version {
    tile: RgbImage,
    caption: String,
}

impl Version {
    /// The image quantized at `k`, shrunk to a tile of `size` (see
    /// [`tile_sizes`]), and its caption: k, PSNR and `png_bytes`.
    pub fn new(q: &Quantized, k: usize, png_bytes: u64, size: (u32, u32)) -> Self {
        let psnr = q.psnr();
        let db = if psnr.is_finite() {
            format!("{psnr:.1} dB")
        } else {
            "exact".to_owned()
        };
        Version {
            tile: tile(&TilePicture::Indexed(q.image()), size),
            caption: format!("k = {k} · {db} · {}", human_bytes(png_bytes)),
        }
    }
}

/// The grid's title.
pub fn title(name: &str, ks: &[usize], space: ColorSpace) -> String {
    let ks = crate::k_list::describe(ks);
    format!("{name}: the original and k = {ks} ({space})")
}

/// The size of each tile of a grid of `view` and `versions` quantized
/// versions of it.
pub fn tile_sizes(view: &ImageRef<'_>, versions: usize) -> (u32, u32) {
    tile_size(versions + 1, view.width(), view.height())
}

/// The original and the versions side by side, as a PNG.
pub fn draw(
    view: &ImageRef<'_>,
    original: &str,
    versions: &[Version],
    title: &str,
) -> Result<Vec<u8>> {
    let mut grid = vec![GridTile {
        picture: TilePicture::Pixels(*view),
        caption: original,
    }];
    for v in versions {
        grid.push(GridTile {
            picture: TilePicture::Tile(&v.tile),
            caption: &v.caption,
        });
    }
    Ok(grid_image(&grid, title)?)
}

pub fn run(a: &GridArgs) -> Result<Outcome> {
    let common = Common::resolve(&a.common)?.with_png(&a.png);
    let ks = a.ks.ks();
    // Colour and opacity together, as quantize fits them.
    let quantizer = config::ks_quantizer(&a.fit, ks)?;
    let out = picture_output(a.output.as_deref(), &a.input, "grid", "png", common.force)?;
    if !out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
    {
        bail!("cannot write a grid to {}: expected .png", out.display());
    }
    let source = source_of(&a.input);
    let decoded = read_one(&source, &common, quantizer.alpha())?;
    let view = decoded.image.view();
    let name = source.display().display().to_string();
    let hist = ColorHistogram::from_image(&view);
    hist.keep_for_several_fits();

    // The k are quantized side by side (each also parallel inside, which
    // alone keeps two cores only about two thirds busy), and each kept as
    // its tile only.
    let size = tile_sizes(&view, ks.len());
    let bar = progress(ks.len());
    let made: Vec<(Version, TileReport, Option<String>)> = ks
        .par_iter()
        .map(|&k| -> Result<(Version, TileReport, Option<String>)> {
            let q = quantizer
                .clone()
                .with_k(k)
                .quantize_counted(&view, &hist)
                .with_context(|| format!("cannot quantize {name} at k = {k}"))?;
            let png = pixmeans_io::encode(q.image(), OutputFormat::Png, common.compression)
                .with_context(|| format!("cannot encode {name} at k = {k}"))?;
            let psnr = q.psnr();
            bar.inc(1);
            let report = TileReport {
                k,
                psnr: crate::report::json_psnr(psnr),
                delta_e_mean: q.delta_e().mean,
                png_bytes: png.len() as u64,
            };
            let trace = common
                .verbose
                .then(|| format!("k = {k}\n{}", ImageReport::trace(&q)));
            Ok((Version::new(&q, k, png.len() as u64, size), report, trace))
        })
        .collect::<Result<_>>()?;
    bar.finish_and_clear();
    let mut versions = Vec::with_capacity(made.len());
    let mut tiles = Vec::with_capacity(made.len());
    for (version, tile, trace) in made {
        if let Some(trace) = trace {
            crate::print_message(&trace);
        }
        versions.push(version);
        tiles.push(tile);
    }

    let original = format!("original · {}", human_bytes(decoded.file_bytes));
    let space = quantizer.color_space();
    let title = title(&file_name(source.display()), ks, space);
    let bytes = draw(&view, &original, &versions, &title)
        .with_context(|| format!("cannot draw {}", out.display()))?;
    super::write_picture(&out, &bytes, common.force)?;

    let report = GridReport {
        input: name,
        output: out.display().to_string(),
        input_bytes: decoded.file_bytes,
        color_space: space.name(),
        seed: quantizer.params().seed(),
        tiles,
    };
    if common.json {
        super::print_json(&report)?;
    }
    let captions: Vec<&str> = versions.iter().map(|v| v.caption.as_str()).collect();
    crate::print_info(&format!(
        "{}: {original}; {}\nwrote {}\n",
        report.input,
        captions.join("; "),
        report.output
    ));
    Ok(Outcome::Success)
}
