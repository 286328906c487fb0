//! What was typed for the commands that look at k: `palette`, `elbow`,
//! `grid` and `scatter`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{CommonArgs, FitArgs, KMeansArgs, PngArgs};
use crate::k_list::{KList, parse_k_list};

/// `pixmeans palette`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  pixmeans palette photo.jpg -k 8\n  \
    pixmeans palette photo.jpg -k 8 --sort hue -o photo.gpl\n  \
    pixmeans palette photo.jpg -k 12 -o swatch.png")]
pub struct PaletteArgs {
    /// The image to read, or `-` for standard input.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,

    /// Also write the palette to this file: `.gpl` (GIMP palette), `.png`
    /// (a swatch whose bands are as wide as each colour's share) or `.json`.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Order of the colours.
    #[arg(long, value_enum, default_value_t = SortArg::Share)]
    pub sort: SortArg,

    /// Width of the swatch image in pixels; each colour's band is as wide
    /// as its share of the pixels, so a colour with less than one pixel's
    /// share of the width does not show.
    #[arg(long, default_value_t = 800, value_name = "PX")]
    pub swatch_width: u32,

    /// Height of the swatch image in pixels.
    #[arg(long, default_value_t = 100, value_name = "PX")]
    pub swatch_height: u32,

    /// Clustering settings.
    #[command(flatten)]
    pub kmeans: KMeansArgs,

    /// PNG compression.
    #[command(flatten)]
    pub png: PngArgs,

    /// Shared settings.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `--sort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    /// Most pixels first.
    Share,
    /// Lightest first.
    Lightness,
    /// Round the colour wheel from red, greys first.
    Hue,
}

/// `pixmeans elbow`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  pixmeans elbow photo.jpg\n  \
    pixmeans elbow photo.jpg --k 2,4,8,16,32 -o elbow.svg\n  \
    pixmeans elbow photo.jpg --k 1..24 --color-space oklab --json > elbow.json")]
pub struct ElbowArgs {
    /// The image to read, or `-` for standard input.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,

    /// The k to try: a range A..B (both included) or a list like 2,4,8,16;
    /// each from 1 to 256. The default is the range whose knee `quantize
    /// -k auto` takes.
    #[arg(short = 'k', long = "colors", visible_alias = "k", default_value = "1..16", value_name = "KS", value_parser = parse_k_list)]
    pub ks: KList,

    /// The plot: `.png` (1200 x 700) or `.svg`.
    /// A folder (one that exists, or any path ending in `/`) gets that
    /// name inside it. [default: <name>-elbow.png in the current folder]
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// How each k is fitted.
    #[command(flatten)]
    pub fit: FitArgs,

    /// Shared settings.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `pixmeans grid`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pixmeans grid photo.jpg --k 2,4,8,16 -o grid.png\n  \
    pixmeans grid photo.jpg --k 2..7 --color-space oklab"
)]
pub struct GridArgs {
    /// The image to read, or `-` for standard input.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,

    /// The k to show: a range A..B (both included) or a list like 2,4,8,16.
    #[arg(short = 'k', long = "colors", visible_alias = "k", default_value = "2,4,8,16", value_name = "KS", value_parser = parse_k_list)]
    pub ks: KList,

    /// The picture (`.png`): tiles at most 480 pixels wide, at most 1920 in
    /// all, each captioned with k, PSNR and the size of the indexed PNG
    /// `pixmeans quantize` would write (encoded in memory, at --compression).
    /// A folder (one that exists, or any path ending in `/`) gets that
    /// name inside it. [default: <name>-grid.png in the current folder]
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// How each k is fitted.
    #[command(flatten)]
    pub fit: FitArgs,

    /// PNG compression.
    #[command(flatten)]
    pub png: PngArgs,

    /// Shared settings.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// `pixmeans scatter`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pixmeans scatter photo.jpg -k 8 -o scatter.png\n  \
    pixmeans scatter photo.jpg -k 8 --color-space oklab -o scatter.html"
)]
pub struct ScatterArgs {
    /// The image to read, or `-` for standard input.
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,

    /// `.png` (two 3-D views, 1600 x 800) or `.html` (a self-contained page
    /// whose views turn with the mouse). The axes are those of
    /// --color-space: R, G, B for srgb; a, L, b for oklab and lab.
    /// A folder (one that exists, or any path ending in `/`) gets that
    /// name inside it. [default: <name>-scatter.png in the current folder]
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Pixels to draw, picked at random (by --seed) from the whole image.
    #[arg(long, default_value_t = 5000, value_name = "N")]
    pub samples: usize,

    /// Clustering settings.
    #[command(flatten)]
    pub kmeans: KMeansArgs,

    /// Shared settings.
    #[command(flatten)]
    pub common: CommonArgs,
}
