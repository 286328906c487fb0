//! How long the k-means fit alone takes, for docs/benchmarks.md:
//!
//! ```text
//! cargo run --release -p pixmeans-io --example fit_times -- PHOTO [K,K,...] [RUNS]
//! ```
//!
//! For each k (default 2,8,16,64,256) it draws k-means++ seeds (seed 0)
//! once, then times `KMeansParams::fit` from those seeds on the photo's
//! distinct sRGB colours RUNS times (default 5), and prints the best time,
//! the iterations, the inertia and a hash of the labels, so that two builds
//! can be checked for the same result as well as timed.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use pixmeans_core::{ColorHistogram, Init, KMeansParams, Point};
use pixmeans_io::{Limits, read_image};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = PathBuf::from(
        args.first()
            .context("usage: fit_times PHOTO [K,..] [RUNS]")?,
    );
    let ks: Vec<usize> = args
        .get(1)
        .map_or("2,8,16,64,256", String::as_str)
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let runs: usize = args.get(2).map_or(Ok(5), |s| s.parse())?;
    let decoded = read_image(&path, &Limits::default())?;
    let hist = ColorHistogram::from_image(&decoded.image.view());
    let points: Vec<Point> = hist.colors().iter().map(|c| c.map(f32::from)).collect();
    let weights: Vec<f64> = hist.counts().iter().map(|&n| n as f64).collect();
    println!(
        "{:>4} {:>9} {:>5} {:>16} {:>16}",
        "k", "fit ms", "iter", "inertia", "labels"
    );
    for k in ks {
        let params = KMeansParams::new(k).with_seed(0);
        let seeds = params.initial_centroids(&points, &weights)?;
        let params = params.with_init(Init::Centroids(seeds));
        let mut best = f64::INFINITY;
        let mut fit = None;
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            fit = Some(params.fit(&points, &weights)?);
            best = best.min(t.elapsed().as_secs_f64());
        }
        let fit = fit.context("no run")?;
        // FNV-1a over the labels.
        let hash = fit
            .labels()
            .iter()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, &l| {
                l.to_le_bytes()
                    .iter()
                    .fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
            });
        println!(
            "{k:>4} {:>9.1} {:>5} {:>16.10e} {hash:016x}",
            best * 1e3,
            fit.iterations(),
            fit.inertia()
        );
    }
    Ok(())
}
