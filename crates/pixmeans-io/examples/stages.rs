//! Where the time of `pixmeans quantize` goes, stage by stage, for
//! docs/benchmarks.md:
//!
//! ```text
//! cargo run --release -p pixmeans-io --example stages -- PHOTO [K,K,...] [RUNS] [SPACE]
//! ```
//!
//! For each k (default 16) and run (default 3) it prints the seconds of:
//! decode, count (the colour histogram), seed (k-means++), iterate (Lloyd
//! from those seeds) and figures (MSE and ΔE over the distinct colours),
//! each timed on its own; quantize, the whole of `quantize_counted` (seed,
//! iterate, figures, ordering the palette and mapping every pixel); encode
//! (the indexed PNG at the default level); and total: decode + count +
//! quantize + encode, what `pixmeans quantize` does.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use pixmeans_core::{ColorHistogram, ColorSpace, Init, KMeansParams, Point, Quantizer, metrics};
use pixmeans_io::{Limits, OutputFormat, PngCompression, encode, read_image};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = PathBuf::from(
        args.first()
            .context("usage: stages PHOTO [K,..] [RUNS] [SPACE]")?,
    );
    let ks: Vec<usize> = args
        .get(1)
        .map_or("16", String::as_str)
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let runs: usize = args.get(2).map_or(Ok(3), |s| s.parse())?;
    let space: ColorSpace = args.get(3).map_or("srgb", String::as_str).parse()?;
    println!(
        "{:>4} {:>4} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>5} {:>8}",
        "k",
        "run",
        "decode",
        "count",
        "seed",
        "iterate",
        "figures",
        "quantize",
        "encode",
        "total",
        "iter",
        "colours"
    );
    for &k in &ks {
        for run in 0..runs {
            let t = Instant::now();
            let decoded = read_image(&path, &Limits::default())?;
            let decode = t.elapsed().as_secs_f64();
            let view = decoded.image.view();

            let t = Instant::now();
            let hist = ColorHistogram::from_image(&view);
            let count = t.elapsed().as_secs_f64();

            let points: Vec<Point> = hist.colors().iter().map(|&c| space.from_srgb(c)).collect();
            let weights: Vec<f64> = hist.counts().iter().map(|&n| n as f64).collect();
            let params = KMeansParams::new(k);
            let t = Instant::now();
            let seeds = params.initial_centroids(&points, &weights)?;
            let seed = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let fit = params
                .clone()
                .with_init(Init::Centroids(seeds))
                .fit(&points, &weights)?;
            let iterate = t.elapsed().as_secs_f64();

            let palette: Vec<[u8; 3]> = fit.centroids().iter().map(|&c| space.to_srgb(c)).collect();
            let t = Instant::now();
            let _ = metrics::histogram_mse(&hist, fit.labels(), &palette);
            let _ = metrics::histogram_delta_e(&hist, fit.labels(), &palette);
            let figures = t.elapsed().as_secs_f64();

            let t = Instant::now();
            let q = Quantizer::new(params)
                .with_color_space(space)
                .quantize_counted(&view, &hist)?;
            let quantize = t.elapsed().as_secs_f64();

            let t = Instant::now();
            let png = encode(q.image(), OutputFormat::Png, PngCompression::default())?;
            let encode = t.elapsed().as_secs_f64();
            std::hint::black_box(png);

            let total = decode + count + quantize + encode;
            println!(
                "{k:>4} {run:>4} {decode:>8.3} {count:>8.3} {seed:>8.3} {iterate:>8.3} {figures:>8.3} {quantize:>8.3} {encode:>8.3} {total:>8.3} {:>5} {:>8}",
                fit.iterations(),
                hist.len()
            );
        }
    }
    Ok(())
}
