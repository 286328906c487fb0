//! `peers`: runs one Rust colour quantizer that pixmeans is compared with.
//!
//! ```text
//! peers --tool quantette|libimagequant|kmeans_colors|decode --k K --seed S IN OUT.png
//! ```
//!
//! `quantette-dither` and `libimagequant-dither` run the same with each
//! library's default Floyd–Steinberg dithering instead (quantette passes on
//! 7/8 of the error, libimagequant its dithering level 1.0).
//!
//! Decodes IN with the `image` crate (the same decoders pixmeans uses), runs
//! the peer with settings as close to "k-means, k colours, no dithering" as it
//! allows, writes the quantized image as an RGB PNG with the `image` crate and
//! prints one JSON line on standard output:
//! `{"tool", "version", "algo_seconds", "decode_seconds", "encode_seconds", ...}`.
//! `algo_seconds` runs from the decoded pixels to a palette plus one palette
//! index per pixel (what pixmeans' `seconds.quantize` covers too), including
//! any colour-space conversion the peer needs; it excludes decoding, repacking
//! the decoded pixels into the peer's input type, expanding indices back to
//! RGB, and encoding.
//!
//! `--tool decode` writes the decoded input unchanged: the harness uses it to
//! check that the `image` crate and Pillow decode the input identically.
//!
//! This binary is part of bench/compare only and is never shipped: it links
//! libimagequant, which is GPL-3.0-or-later.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use image::RgbImage;

const QUANTETTE_VERSION: &str = "0.6.0";
const IMAGEQUANT_VERSION: &str = "4.4.1";
const KMEANS_COLORS_VERSION: &str = "0.7.1";

/// kmeans_colors' own binary defaults for its (default) Lab mode: at most 20
/// iterations, convergence factor 5.0 (see its `src/bin/kmeans_colors/app.rs`).
const KMEANS_COLORS_MAX_ITER: usize = 20;
const KMEANS_COLORS_CONVERGE_LAB: f32 = 5.0;

struct Args {
    tool: String,
    k: u16,
    seed: u64,
    input: PathBuf,
    output: PathBuf,
}

/// What one peer produced, besides the image.
struct Outcome {
    image: RgbImage,
    algo_seconds: f64,
    /// Extra JSON members, already formatted (`"name":value,...`), or empty.
    extra: String,
    version: &'static str,
}

fn usage() -> String {
    "usage: peers --tool quantette[-dither]|libimagequant[-dither]|kmeans_colors|decode --k K --seed S IN OUT.png"
        .to_owned()
}

fn parse_args() -> Result<Args, String> {
    let mut tool = None;
    let mut k = None;
    let mut seed = 0u64;
    let mut paths = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--tool" => tool = it.next(),
            "--k" | "-k" => {
                let v = it.next().ok_or_else(usage)?;
                k = Some(v.parse::<u16>().map_err(|e| format!("bad --k {v}: {e}"))?);
            }
            "--seed" => {
                let v = it.next().ok_or_else(usage)?;
                seed = v.parse().map_err(|e| format!("bad --seed {v}: {e}"))?;
            }
            "-h" | "--help" => return Err(usage()),
            _ => paths.push(PathBuf::from(a)),
        }
    }
    let (Some(tool), [input, output]) = (tool, paths.as_slice()) else {
        return Err(usage());
    };
    let k = k.unwrap_or(16);
    if !(1..=256).contains(&k) {
        return Err(format!("k must be 1..=256, got {k}"));
    }
    Ok(Args {
        tool,
        k,
        seed,
        input: input.clone(),
        output: output.clone(),
    })
}

fn run_quantette(img: &RgbImage, k: u16, seed: u64, dither: bool) -> Result<Outcome, String> {
    use quantette::dither::FloydSteinberg;
    use quantette::kmeans::KmeansOptions;
    use quantette::{ImageRef, PaletteSize, Pipeline};

    let size = PaletteSize::try_from_u16(k).ok_or_else(|| format!("quantette: bad k {k}"))?;
    let options = KmeansOptions::new().seed(seed);
    let start = Instant::now();
    let input = ImageRef::try_from(img).map_err(|e| format!("quantette: {e}"))?;
    // Pipeline: Oklab, Wu's quantizer for the initial centroids, then
    // quantette's k-means (minibatch when parallel), no dithering (or its
    // default), dedup chosen automatically, all cores (like pixmeans).
    let out = Pipeline::new()
        .palette_size(size)
        .ditherer(dither.then(FloydSteinberg::new))
        .quantize_method(options)
        .parallel(true)
        .input_image(input)
        .output_srgb8_indexed_image();
    let algo_seconds = start.elapsed().as_secs_f64();
    let (w, h) = out.dimensions();
    let palette: Vec<[u8; 3]> = out
        .palette()
        .iter()
        .map(|c| [c.red, c.green, c.blue])
        .collect();
    let image = expand(w, h, &palette, out.indices())?;
    let extra = format!(
        "\"settings\":{{\"color_space\":\"oklab\",\"init\":\"wu\",\"dither\":{dither},\"parallel\":true,\
         \"sampling_factor\":{},\"max_samples\":{},\"batch_size\":{},\"seed\":{}}}",
        options.get_sampling_factor(),
        options.get_max_samples(),
        options.get_batch_size(),
        options.get_seed()
    );
    Ok(Outcome {
        image,
        algo_seconds,
        extra,
        version: QUANTETTE_VERSION,
    })
}

fn run_libimagequant(img: &RgbImage, k: u16, dithering_level: f32) -> Result<Outcome, String> {
    let (w, h) = img.dimensions();
    let (w, h) = (w as usize, h as usize);
    // Repacking into the RGBA the library takes is not timed (like decoding).
    let rgba: Vec<imagequant::RGBA> = img
        .pixels()
        .map(|p| imagequant::RGBA::new(p[0], p[1], p[2], 255))
        .collect();
    let err = |e: imagequant::Error| format!("libimagequant: {e}");

    let start = Instant::now();
    let mut attr = imagequant::new();
    attr.set_max_colors(u32::from(k)).map_err(err)?;
    attr.set_quality(0, 100).map_err(err)?; // best effort, never fewer colours on purpose
    // speed: library default (4)
    let mut image = attr.new_image_borrowed(&rgba, w, h, 0.0).map_err(err)?;
    let mut res = attr.quantize(&mut image).map_err(err)?;
    res.set_dithering_level(dithering_level).map_err(err)?;
    let (palette, indices) = res.remapped(&mut image).map_err(err)?;
    let algo_seconds = start.elapsed().as_secs_f64();

    let rgb: Vec<[u8; 3]> = palette.iter().map(|c| [c.r, c.g, c.b]).collect();
    let image = expand(w as u32, h as u32, &rgb, &indices)?;
    let mut extra = format!(
        "\"settings\":{{\"max_colors\":{},\"quality\":[0,100],\"speed\":{},\"dithering_level\":{dithering_level:?}}},\
         \"palette_len\":{}",
        attr.max_colors(),
        attr.speed(),
        palette.len()
    );
    if let Some(q) = res.quantization_error() {
        let _ = write!(extra, ",\"quantization_error\":{q}");
    }
    if let Some(q) = res.remapping_error() {
        let _ = write!(extra, ",\"remapping_error\":{q}");
    }
    Ok(Outcome {
        image,
        algo_seconds,
        extra,
        version: IMAGEQUANT_VERSION,
    })
}

fn run_kmeans_colors(img: &RgbImage, k: u16, seed: u64) -> Result<Outcome, String> {
    use kmeans_colors::{Kmeans, MapColor as _, get_kmeans, get_kmeans_hamerly};
    use palette::cast::{AsComponents as _, ComponentsAs as _};
    use palette::white_point::D65;
    use palette::{IntoColor as _, Lab, Srgb};

    let (w, h) = img.dimensions();
    let pixels: &[Srgb<u8>] = img.as_raw().components_as();
    let k = usize::from(k);

    let start = Instant::now();
    // As kmeans_colors' own binary does it (its default, Lab mode): each
    // distinct sRGB colour converted to Lab once through a cache, then
    // Hamerly's k-means (plain Lloyd for k = 1) with k-means++ seeding.
    let mut cache: HashMap<[u8; 3], Lab<D65, f32>> = HashMap::new();
    let lab: Vec<Lab<D65, f32>> = pixels
        .iter()
        .map(|c| {
            *cache
                .entry([c.red, c.green, c.blue])
                .or_insert_with(|| c.into_linear::<f32>().into_color())
        })
        .collect();
    let result: Kmeans<Lab<D65, f32>> = if k > 1 {
        get_kmeans_hamerly(
            k,
            KMEANS_COLORS_MAX_ITER,
            KMEANS_COLORS_CONVERGE_LAB,
            false,
            &lab,
            seed,
        )
    } else {
        get_kmeans(
            k,
            KMEANS_COLORS_MAX_ITER,
            KMEANS_COLORS_CONVERGE_LAB,
            false,
            &lab,
            seed,
        )
    };
    let centroids: Vec<Srgb<u8>> = result
        .centroids
        .iter()
        .map(|&x| Srgb::from_linear(x.into_color()))
        .collect();
    let algo_seconds = start.elapsed().as_secs_f64();

    // The crate's own way to build the output (its binary does this).
    let out: Vec<Srgb<u8>> = Srgb::map_indices_to_centroids(&centroids, &result.indices);
    let raw: Vec<u8> = out.as_components().to_vec();
    let image = RgbImage::from_raw(w, h, raw).ok_or("kmeans_colors: bad buffer")?;
    let extra = format!(
        "\"settings\":{{\"color_space\":\"lab\",\"init\":\"kmeans++\",\"algorithm\":\"{}\",\
         \"max_iter\":{},\"converge\":{},\"seed\":{}}},\"score\":{},\"distinct_inputs\":{}",
        if k > 1 { "hamerly" } else { "lloyd" },
        KMEANS_COLORS_MAX_ITER,
        KMEANS_COLORS_CONVERGE_LAB,
        seed,
        result.score,
        cache.len()
    );
    Ok(Outcome {
        image,
        algo_seconds,
        extra,
        version: KMEANS_COLORS_VERSION,
    })
}

/// Builds the RGB image from a palette and one index per pixel (untimed: it
/// is part of writing the output, like encoding).
fn expand<I: Copy + Into<usize>>(
    w: u32,
    h: u32,
    palette: &[[u8; 3]],
    indices: &[I],
) -> Result<RgbImage, String> {
    let mut raw = Vec::with_capacity(indices.len() * 3);
    for &i in indices {
        let c = palette.get(i.into()).ok_or("index outside the palette")?;
        raw.extend_from_slice(c);
    }
    RgbImage::from_raw(w, h, raw).ok_or_else(|| "buffer size does not match".to_owned())
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let t0 = Instant::now();
    let decoded = image::open(&args.input)
        .map_err(|e| format!("cannot decode {}: {e}", args.input.display()))?;
    let had_alpha = decoded.color().has_alpha();
    let img = decoded.into_rgb8();
    let decode_seconds = t0.elapsed().as_secs_f64();

    let outcome = match args.tool.as_str() {
        "quantette" => run_quantette(&img, args.k, args.seed, false)?,
        "quantette-dither" => run_quantette(&img, args.k, args.seed, true)?,
        "libimagequant" => run_libimagequant(&img, args.k, 0.0)?,
        "libimagequant-dither" => run_libimagequant(&img, args.k, 1.0)?,
        "kmeans_colors" => run_kmeans_colors(&img, args.k, args.seed)?,
        "decode" => Outcome {
            image: img,
            algo_seconds: 0.0,
            extra: String::new(),
            version: "",
        },
        other => return Err(format!("unknown tool {other}\n{}", usage())),
    };

    let t1 = Instant::now();
    outcome
        .image
        .save_with_format(&args.output, image::ImageFormat::Png)
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    let encode_seconds = t1.elapsed().as_secs_f64();

    let mut line = format!(
        "{{\"tool\":\"{}\",\"version\":\"{}\",\"k\":{},\"algo_seconds\":{},\"decode_seconds\":{},\
         \"encode_seconds\":{},\"input_had_alpha\":{}",
        args.tool,
        outcome.version,
        args.k,
        outcome.algo_seconds,
        decode_seconds,
        encode_seconds,
        had_alpha
    );
    if !outcome.extra.is_empty() {
        line.push(',');
        line.push_str(&outcome.extra);
    }
    line.push('}');
    println!("{line}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("peers: {e}");
            ExitCode::FAILURE
        }
    }
}
