//! What the user typed: the clap definitions and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod explore;
mod segment;

pub use explore::{ElbowArgs, GridArgs, PaletteArgs, ScatterArgs, SortArg};
pub use segment::{ConnectivityArg, OutputKind, SegmentArgs};

/// k-means colour quantization of images: fewer colours, smaller files,
/// honest figures.
#[derive(Debug, Parser)]
#[command(
    name = "pixmeans",
    version,
    about,
    max_term_width = 100,
    after_help = "Exit status: 0 when every input was done; 1 when some inputs of a batch failed (the others \
                  are written); 2 for a usage error, or when nothing could be done."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reduce images to k colours and write them (indexed PNG by default).
    Quantize(QuantizeArgs),
    /// List an image's k main colours with their share of the pixels.
    Palette(PaletteArgs),
    /// Split images into k regions by colour (and position): label map,
    /// masks, cutouts, overlay, mean colours and figures, in a folder.
    Segment(SegmentArgs),
    /// Quantize the bundled photo at k = 2, 4, 8, 16 and 32, print a table and
    /// draw the elbow, grid, palette and scatter pictures, with a page to view them.
    Demo(DemoArgs),
    /// Fit several k to one image: a table of what each k gives, and a plot
    /// of inertia against k with the knee marked.
    Elbow(ElbowArgs),
    /// The original and its quantized versions side by side in one picture.
    Grid(GridArgs),
    /// A sample of the pixels as dots in 3-D colour space, by own colour and
    /// by cluster (a picture, or a page to turn with the mouse).
    Scatter(ScatterArgs),
}

/// The k-means settings shared by every command that clusters.
#[derive(Debug, Args, Clone)]
pub struct KMeansArgs {
    /// Number of colours (clusters), 1 to 256; or `auto`: the smallest k
    /// that meets --target-psnr or --max-delta-e, else the knee of inertia
    /// over k = 1..16.
    #[arg(short = 'k', long = "colors", visible_alias = "k", default_value = "16", value_name = "K", value_parser = parse_k)]
    pub k: KArg,

    /// With -k auto: the smallest k whose PSNR reaches this many dB.
    /// [default: none]
    #[arg(
        long,
        value_name = "DB",
        conflicts_with = "max_delta_e",
        allow_negative_numbers = true
    )]
    pub target_psnr: Option<f64>,

    /// With -k auto: the smallest k whose mean CIEDE2000 is at most E.
    /// [default: none]
    #[arg(long, value_name = "E", allow_negative_numbers = true)]
    pub max_delta_e: Option<f64>,

    /// How each k is fitted.
    #[command(flatten)]
    pub fit: FitArgs,
}

/// How k-means runs for a given k: shared by every command that clusters,
/// including those that try several k (elbow, grid).
#[derive(Debug, Args, Clone)]
pub struct FitArgs {
    /// How to choose the first centroids: k-means++, k random distinct
    /// colours, or Wu's variance split of the colour cube.
    #[arg(long, value_enum, default_value_t = InitArg::KmeansPlusPlus)]
    pub init: InitArg,

    /// Number of seedings, 1 to 1000; the one with the lowest inertia is
    /// kept. [default: 1 for kmeans++ and wu, 10 for random]
    // Capped: each seeding is a whole fit, so a mistyped count ran for days.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub n_init: Option<u16>,

    /// Most Lloyd iterations per seeding.
    #[arg(long, default_value_t = 300, value_name = "N")]
    pub max_iter: usize,

    /// How each Lloyd iteration moves the centroids: past the mean of their
    /// points while that pays (fewer iterations), or to it, as scikit-learn.
    #[arg(long, value_enum, default_value_t = StepArg::Overrelaxed)]
    pub step: StepArg,

    /// Stop when the summed squared shift a plain step would give the
    /// centroids falls below TOL times the mean colour variance
    /// (scikit-learn's rule).
    #[arg(long, default_value_t = 1e-4, allow_negative_numbers = true)]
    pub tol: f64,

    /// Seed of every random choice; the same seed gives the same output.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Colour space in which distances are measured and centroids averaged;
    /// each palette colour is the 8-bit colour nearest its centroid there.
    #[arg(long, value_enum, default_value_t = SpaceArg::Srgb)]
    pub color_space: SpaceArg,

    /// Fit on a copy shrunk by a whole factor to at most N pixels, then map
    /// every pixel of the full image; a copy with fewer colours than k is
    /// not used (a fixed -k above N is refused). [default: every pixel]
    #[arg(long, value_name = "N")]
    pub max_pixels: Option<usize>,
}

/// `--dither=LEVEL`: a share above 0 and at most 1, refused in the words
/// typed (1e-300 would read as 0 in f32). Levels below f32's least normal
/// number are refused too: subnormal arithmetic made a run two to four
/// times slower.
fn parse_dither_level(s: &str) -> Result<f32, String> {
    let out_of_range = || format!("{s} is out of range: the level is above 0 and at most 1");
    let level: f64 = match s.parse() {
        Ok(level) if !f64::is_nan(level) => level,
        _ => return Err(format!("{s} is not a number above 0 and at most 1")),
    };
    if !(level > 0.0 && level <= 1.0) {
        return Err(out_of_range());
    }
    #[allow(clippy::cast_possible_truncation)] // checked to be in (0, 1]
    let narrow = level as f32;
    if narrow < f32::MIN_POSITIVE {
        return Err(format!(
            "{s} is too small a level: the least is {:e}",
            f32::MIN_POSITIVE
        ));
    }
    Ok(narrow)
}

/// `-k`: a number, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KArg {
    /// This many colours.
    Fixed(usize),
    /// pixmeans chooses.
    Auto,
}

fn parse_k(s: &str) -> Result<KArg, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(KArg::Auto);
    }
    s.parse()
        .map(KArg::Fixed)
        .map_err(|_| format!("expected a number of colours or `auto`, got {s:?}"))
}

/// `pixmeans quantize`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  pixmeans quantize photo.jpg -k 16 -o photo-16.png\n  \
    pixmeans quantize photos/ -k 8 -o small/ --format webp\n  \
    pixmeans quantize photo.jpg -k 32 --color-space oklab --json > report.json\n  \
    pixmeans quantize sky.jpg -k 16 --dither -o sky-16.png"
)]
pub struct QuantizeArgs {
    /// Images to read (JPEG, PNG, GIF, BMP, TIFF, WebP), folders of them, or
    /// `-` for standard input.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Output file for one input (its extension picks the format; `-` for
    /// standard output), or a folder (for one input, one that exists or a
    /// name ending in `/`). In a folder, and by default, files are named
    /// <name>-k<K>.<format>, K being the k that `-k auto` chose.
    /// [default: <name>-k<K>.<format> in the current folder; standard
    /// output for `-` alone]
    // The text is --help's, where brackets mark the default, not a link.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Format of outputs named by pixmeans (in a folder, or by default); a
    /// file named with -o takes the format of its extension. [default: png]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,

    /// Dither (Floyd–Steinberg error diffusion): gradients come out smooth
    /// instead of in bands of flat colour, at the cost of grain, a higher
    /// MSE and a larger file. `--dither=LEVEL` passes on that share of each
    /// pixel's error (above 0, at most 1; 1 lets error pile up into stray
    /// dots). [default: off; level 0.875 when given alone]
    #[arg(
        long,
        value_name = "LEVEL",
        num_args = 0..=1,
        require_equals = true,
        // `Dither::DEFAULT_LEVEL`, which a test holds it to.
        default_missing_value = "0.875",
        value_parser = parse_dither_level
    )]
    pub dither: Option<f32>,

    /// Leave an output unwritten when it would not be smaller than its input
    /// file (an output of that name already there is left as it is). Not
    /// with `-o -` (refused). [default: off]
    #[arg(long)]
    pub skip_if_larger: bool,

    /// Leave alone an output file that is there already: its input is not
    /// read, and a line says so, so that a batch run again over a folder
    /// that gained images does only the new ones (under `-k auto`, whose
    /// names wait for k, the image is quantized first). Not with --force.
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

/// `pixmeans demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder to write into; files pixmeans wrote there before are replaced,
    /// other files of the same names only with --force.
    #[arg(short, long, default_value = "pixmeans-demo", value_name = "DIR")]
    pub output: PathBuf,

    /// PNG compression.
    #[command(flatten)]
    pub png: PngArgs,

    /// Shared settings.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Settings every command takes.
#[derive(Debug, Args, Clone)]
// Each bool is one flag as the user typed it; no two make a state machine.
#[allow(clippy::struct_excessive_bools)]
pub struct CommonArgs {
    /// Print a machine-readable report on standard output (one JSON object
    /// per line, one line per image; in a batch, an input that failed has
    /// {"input": ..., "error": ...} in its place). [default: off]
    #[arg(long)]
    pub json: bool,

    /// Print each iteration's inertia and centroid shift (segment: a line on
    /// its fit; elbow's table already gives each k's iterations). [default:
    /// off]
    #[arg(short, long)]
    pub verbose: bool,

    /// Print nothing on standard error but warnings and errors: no summary,
    /// no notes, no progress bar. [default: off]
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Replace output files that already exist. Never an input, nor an
    /// earlier run's output among the inputs (as in a rerun over a folder
    /// that holds them): delete those to make them again. [default: off]
    #[arg(short, long)]
    pub force: bool,

    /// Refuse images with more pixels than this.
    #[arg(long, default_value_t = pixmeans_io::DEFAULT_MAX_PIXELS, value_name = "N")]
    pub pixel_limit: u64,

    /// Worker threads, 1 to 256. [default: one per core]
    // Capped: starting thousands of threads took minutes before any work.
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

/// How hard the indexed PNGs a command writes (or measures) are deflated:
/// taken by the commands that write them, and not by `elbow` or `scatter`,
/// whose charts it would not change.
#[derive(Debug, Args, Clone)]
pub struct PngArgs {
    /// Compression of the PNGs this command writes (grid: of the tiles whose
    /// sizes it reports): fast, default, or best (smallest, slowest). Other
    /// output formats have no such setting. [default: default]
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub compression: Option<CompressionArg>,
}

/// `--init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitArg {
    /// Greedy k-means++.
    #[value(name = "kmeans++", alias = "k-means++")]
    KmeansPlusPlus,
    /// k distinct colours drawn at random, weighted by pixel count.
    Random,
    /// Wu's variance split: deterministic, nearly free at any k.
    Wu,
}

/// `--step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StepArg {
    /// 1.75 times as far as the mean, redone as a plain step whenever it
    /// ends higher than a plain step guarantees.
    Overrelaxed,
    /// To the mean: textbook Lloyd.
    Plain,
}

/// `--color-space`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SpaceArg {
    /// Raw 8-bit sRGB values, as the tutorials and scikit-learn use them.
    Srgb,
    /// Oklab, a perceptual space.
    Oklab,
    /// CIELAB (D65).
    Lab,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Indexed PNG (1, 2, 4 or 8 bits per pixel).
    Png,
    /// GIF with the exact palette.
    Gif,
    /// Lossless WebP (RGB, or RGBA with transparency; larger than the PNG).
    Webp,
    /// JPEG (quality 90; re-adds colours).
    #[value(alias = "jpeg")]
    Jpg,
    /// BMP (8-bit indexed, or RGBA with transparency; uncompressed).
    Bmp,
    /// TIFF (RGB, or RGBA with transparency; deflated).
    #[value(alias = "tif")]
    Tiff,
}

/// `--compression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompressionArg {
    /// Fastest encoding.
    Fast,
    /// A balance of size and speed.
    Default,
    /// Smallest files.
    Best,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    /// The help writes out limits and defaults that the libraries define:
    /// it must follow them when they change.
    #[test]
    fn the_help_states_the_libraries_limits_and_defaults() {
        use pixmeans_core::segment::{MAX_CLUSTERS, spatial::DEFAULT_SAMPLE};
        let mut cli = Cli::command();
        // Wrapped lines joined again.
        let mut help = |command: &str| {
            let text = cli
                .find_subcommand_mut(command)
                .unwrap()
                .render_long_help()
                .to_string();
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        let segment = help("segment");
        let knee = crate::config::KNEE_RANGE;
        for expected in [
            format!("1 to {MAX_CLUSTERS}"),
            format!("sample of {DEFAULT_SAMPLE}"),
            format!("(default {DEFAULT_SAMPLE})"),
            format!("k = {}..{}", knee.start(), knee.end()),
        ] {
            assert!(segment.contains(&expected), "{expected} in {segment}");
        }
        let quantize = help("quantize");
        let knee = format!("k = {}..{}", knee.start(), knee.end());
        assert!(quantize.contains(&knee), "{knee} in {quantize}");
    }
}
