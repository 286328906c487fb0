//! What was typed for `pixmeans segment`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{CommonArgs, KMeansArgs, PngArgs};

/// `pixmeans segment`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pixmeans segment photo.jpg -k 5 -o photo-parts/\n  \
    pixmeans segment photo.jpg -k 6 --spatial 1 --min-region 500 -o parts/\n  \
    pixmeans segment photos/ -k 4 --only labels,masks,json -o parts/\n\n\
    Files written: labels.png (8-bit grey, 16-bit past 255 labels), labels.npy, \
    mask-<i>-<hex>.png, cutout-<i>-<hex>.png, overlay.png, mean.png, segments.json. \
    Cluster 0 is the largest after merging. Fully transparent pixels get the label \
    one past the last cluster.",
    mut_arg("k", |a| a.help(
        "Number of clusters, 1 to 65535; or `auto`: the smallest k that meets --target-psnr or \
         --max-delta-e, else the knee of inertia over k = 1..16"
    )),
    mut_arg("max_pixels", |a| a.help(
        "Fit on a copy shrunk by a whole factor to at most N pixels, then label every pixel of \
         the full image; a copy with fewer colours than k is not used (a fixed -k above N is \
         refused). --spatial fits on a random sample of N pixels instead. [default: every \
         pixel; a sample of 262144 for --spatial]"
    ))
)]
pub struct SegmentArgs {
    /// Images to read (JPEG, PNG, GIF, BMP, TIFF, WebP), folders of them, or
    /// `-` for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Folder to write into, created if missing; with several inputs, one
    /// subfolder per input, named after it. [default: <name>-segments]
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Weight W of position against colour, 0 to 100: each pixel is its
    /// colour plus (x, y) scaled so that at W = 1 the image's longer side
    /// spans the colour space's black-to-white range. 0 clusters colour
    /// alone, exactly. Above 0 the fit runs on a random sample of
    /// --max-pixels pixels (default 262144).
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "W",
        allow_negative_numbers = true
    )]
    pub spatial: f64,

    /// Merge connected regions of fewer than N pixels into the neighbour
    /// they share the longest border with, smallest first. 0 merges nothing.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub min_region: u64,

    /// Pixels that touch along an edge (4) or also at a corner (8) belong to
    /// one region.
    #[arg(long, value_enum, default_value_t = ConnectivityArg::Eight)]
    pub connectivity: ConnectivityArg,

    /// Write only these outputs (comma-separated). [default: all]
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "KINDS",
        conflicts_with = "skip"
    )]
    pub only: Vec<OutputKind>,

    /// Write all outputs but these (comma-separated). [default: none]
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KINDS")]
    pub skip: Vec<OutputKind>,

    /// Leave alone an input whose folder holds segment files already: it is
    /// not read, and a line says so, so that a batch run again over a
    /// folder that gained images does only the new ones. Not with --force.
    /// [default: off]
    #[arg(long, conflicts_with = "force")]
    pub skip_existing: bool,

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

/// `--connectivity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConnectivityArg {
    /// Edge neighbours only.
    #[value(name = "4")]
    Four,
    /// Edge and corner neighbours.
    #[value(name = "8")]
    Eight,
}

/// What `pixmeans segment` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum OutputKind {
    /// labels.png: the label map.
    Labels,
    /// labels.npy: the label map as a .npy array, for Python.
    Npy,
    /// mask-<i>-<hex>.png: one white-on-black mask per cluster.
    Masks,
    /// cutout-<i>-<hex>.png: the photo's pixels of each cluster.
    Cutouts,
    /// overlay.png: regions tinted, boundaries drawn.
    Overlay,
    /// mean.png: each region in its mean colour.
    Mean,
    /// segments.json: the figures.
    Json,
}
