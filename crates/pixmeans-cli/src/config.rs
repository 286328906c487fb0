//! Resolved settings: the typed arguments checked and turned into a
//! [`Quantizer`] and a list of jobs (input → output), before any pixel is read.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use pixmeans_core::{
    ColorSpace, Dither, Init, KMeansError, KMeansParams, KTarget, LloydStep, PaletteSize, Quantizer,
};
use pixmeans_io::{Limits, OutputFormat, PngCompression};

use crate::args::{
    CommonArgs, CompressionArg, FitArgs, FormatArg, InitArg, KArg, KMeansArgs, PngArgs,
    QuantizeArgs, SpaceArg, StepArg,
};

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

/// Where an image goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    Stdout,
    File(PathBuf),
}

impl Source {
    /// The name an output takes after this input: the file's name without
    /// its extension, as the file system gives it (not made into UTF-8),
    /// `stdin` for standard input, and `image` for a path with no file name.
    pub fn stem(&self) -> OsString {
        match self {
            Source::Stdin => "stdin".into(),
            Source::File(p) => p.file_stem().unwrap_or("image".as_ref()).to_owned(),
        }
    }

    pub fn display(&self) -> &Path {
        match self {
            Source::Stdin => Path::new("<stdin>"),
            Source::File(p) => p,
        }
    }
}

impl Sink {
    pub fn display(&self) -> &Path {
        match self {
            Sink::Stdout => Path::new("<stdout>"),
            Sink::File(p) => p,
        }
    }
}

/// One image to quantize.
#[derive(Debug, Clone)]
pub struct Job {
    pub source: Source,
    /// Where the image goes; for a name that waits for k, `<name>-k<K>`
    /// with the letters `<K>` in place of k.
    pub sink: Sink,
    pub format: OutputFormat,
    /// The file name is pixmeans' own, and its k is the one that `-k auto`
    /// chooses: [`Job::sink_for`] makes it.
    pub name_waits_for_k: bool,
}

impl Job {
    /// The sink once the image is quantized at `k`.
    pub fn sink_for(&self, k: usize) -> Sink {
        match &self.sink {
            Sink::File(p) if self.name_waits_for_k => {
                let ext = p.extension().unwrap_or_default();
                Sink::File(p.with_file_name(output_name(&self.source, &k.to_string(), ext)))
            }
            sink => sink.clone(),
        }
    }
}

/// The name pixmeans gives an output: `<name>-k<K>.<ext>`, the input's
/// name kept byte for byte.
fn output_name(source: &Source, k: &str, ext: &OsStr) -> OsString {
    let mut name = source.stem();
    name.push(format!("-k{k}."));
    name.push(ext);
    name
}

/// Settings every command shares, resolved.
#[derive(Debug, Clone)]
pub struct Common {
    pub json: bool,
    pub verbose: bool,
    pub force: bool,
    pub limits: Limits,
    pub compression: PngCompression,
}

/// `pixmeans quantize`, resolved.
#[derive(Debug)]
pub struct QuantizeConfig {
    pub quantizer: Quantizer,
    /// Set when `-k auto` chooses k per image.
    pub auto: Option<AutoK>,
    pub jobs: Vec<Job>,
    /// A folder to create before writing, when outputs go into one.
    pub out_dir: Option<PathBuf>,
    pub common: Common,
}

impl Common {
    pub fn resolve(a: &CommonArgs) -> Result<Self> {
        if a.pixel_limit == 0 {
            bail!("--pixel-limit must be at least 1");
        }
        Ok(Common {
            json: a.json,
            verbose: a.verbose,
            force: a.force,
            limits: Limits::new(a.pixel_limit),
            compression: PngCompression::Default,
        })
    }

    /// These settings with the PNG compression `--compression` names
    /// ([`PngCompression::Default`] if none).
    pub fn with_png(self, a: &PngArgs) -> Self {
        let compression = match a.compression {
            Some(CompressionArg::Fast) => PngCompression::Fast,
            None | Some(CompressionArg::Default) => PngCompression::Default,
            Some(CompressionArg::Best) => PngCompression::Best,
        };
        Common {
            compression,
            ..self
        }
    }
}

/// Refuses `--compression` where no PNG is written, saying `why` (a
/// setting that changed nothing would read as if it had).
pub fn no_png_here(a: &PngArgs, why: &str) -> Result<()> {
    if a.compression.is_some() {
        bail!("--compression sets how PNG is deflated, and {why}\nhint: leave --compression out");
    }
    Ok(())
}

/// How `-k auto` chooses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoK {
    /// The quality to reach; `None` for the knee of the elbow curve.
    pub target: Option<KTarget>,
}

/// The k range `-k auto` looks for a knee in.
pub const KNEE_RANGE: std::ops::RangeInclusive<usize> = 1..=16;

/// What `-k auto` was asked to do, or `None` for a fixed k.
pub fn auto_k(a: &KMeansArgs) -> Result<Option<AutoK>> {
    let target = match (a.target_psnr, a.max_delta_e) {
        (Some(db), _) if !(db.is_finite() && db > 0.0) => {
            bail!("--target-psnr must be a number of dB above 0, got {db}")
        }
        (_, Some(e)) if !(e.is_finite() && e >= 0.0) => {
            bail!("--max-delta-e must be a number >= 0, got {e}")
        }
        (Some(db), _) => Some(KTarget::MinPsnr(db)),
        (_, Some(e)) => Some(KTarget::MaxDeltaE(e)),
        _ => None,
    };
    match a.k {
        KArg::Auto => Ok(Some(AutoK { target })),
        KArg::Fixed(_) if target.is_some() => {
            bail!(
                "--target-psnr and --max-delta-e choose k, so they go with -k auto\nhint: add -k auto"
            )
        }
        KArg::Fixed(_) => Ok(None),
    }
}

/// Checks the clustering settings and builds the quantizer (with k = 16
/// standing in for `-k auto` until k is chosen).
pub fn quantizer(a: &KMeansArgs) -> Result<Quantizer> {
    let k = match a.k {
        KArg::Fixed(k) => k,
        KArg::Auto => 16,
    };
    if PaletteSize::new(k).is_err() {
        bail!(
            "-k {k} is out of range: an indexed image holds 1 to 256 colours\nhint: pick a k from 1 to 256, or -k auto"
        );
    }
    if let KArg::Fixed(k) = a.k {
        check_max_pixels(a.fit.max_pixels, k)?;
    }
    fit_quantizer(&a.fit, k)
}

/// Refuses a `--max-pixels` below k: so few pixels cannot hold k colours,
/// and the fit would quietly fall back to every pixel.
pub fn check_max_pixels(max_pixels: Option<usize>, k: usize) -> Result<()> {
    if let Some(n) = max_pixels
        && n < k
    {
        bail!(
            "--max-pixels {n} is below k = {k}: {n} pixels cannot hold {k} colours\nhint: raise --max-pixels to at least {k}, or leave it out to fit on every pixel"
        );
    }
    Ok(())
}

/// Checks the `-o` of a command that writes a folder of files: not `-`,
/// and not a new name with a file's extension (`-o parts.png`). An existing
/// folder of that name is used; an existing file is the caller's to refuse.
pub fn check_output_folder(command: &str, dir: &Path) -> Result<()> {
    if dir.as_os_str() == "-" {
        bail!(
            "{command} writes a folder of files, which standard output (-o -) cannot hold\nhint: name a folder with -o"
        );
    }
    let file_like = dir
        .extension()
        .and_then(OsStr::to_str)
        .is_some_and(|e| FILE_EXTS.contains(&e.to_ascii_lowercase().as_str()));
    if file_like && !dir.exists() {
        let folder = dir.with_extension("");
        bail!(
            "{command} writes a folder of files, but -o {} names a file\nhint: name a folder, e.g. -o {}/",
            dir.display(),
            folder.display()
        );
    }
    Ok(())
}

/// Checks the fit settings and builds the quantizer for the k of `ks` (the
/// first, until a command sets each with [`Quantizer::with_k`]), refusing
/// a `--max-pixels` below the largest.
pub fn ks_quantizer(a: &FitArgs, ks: &[usize]) -> Result<Quantizer> {
    let quantizer = fit_quantizer(a, ks[0])?;
    check_max_pixels(a.max_pixels, ks.iter().copied().max().unwrap_or(1))?;
    Ok(quantizer)
}

/// Checks the fit settings and builds the quantizer for one k (commands that
/// try several k change it with [`Quantizer::with_k`]).
pub fn fit_quantizer(a: &FitArgs, k: usize) -> Result<Quantizer> {
    if a.max_pixels == Some(0) {
        bail!("--max-pixels must be at least 1");
    }
    let params = KMeansParams::new(k)
        .with_init(match a.init {
            InitArg::KmeansPlusPlus => Init::KMeansPlusPlus,
            InitArg::Random => Init::Random,
            InitArg::Wu => Init::Wu,
        })
        .with_n_init(a.n_init.map(usize::from))
        .with_max_iter(a.max_iter)
        .with_step(match a.step {
            StepArg::Overrelaxed => LloydStep::Overrelaxed,
            StepArg::Plain => LloydStep::Plain,
        })
        .with_tol(a.tol)
        .with_seed(a.seed);
    params.validate().map_err(flag_error)?;
    Ok(Quantizer::new(params)
        .with_color_space(space_of(a.color_space))
        .with_max_pixels(a.max_pixels))
}

/// The colour space `--color-space` names.
pub fn space_of(a: SpaceArg) -> ColorSpace {
    match a {
        SpaceArg::Srgb => ColorSpace::Srgb,
        SpaceArg::Oklab => ColorSpace::Oklab,
        SpaceArg::Lab => ColorSpace::Lab,
    }
}

/// A parameter error in the words of the flag that set it.
fn flag_error(e: KMeansError) -> anyhow::Error {
    match e {
        KMeansError::ZeroNInit => anyhow!("--n-init must be at least 1"),
        KMeansError::ZeroMaxIter => anyhow!("--max-iter must be at least 1"),
        KMeansError::InvalidTol(t) => anyhow!("--tol must be a number >= 0, got {t}"),
        other => anyhow!(other),
    }
}

fn format_of(f: FormatArg) -> OutputFormat {
    match f {
        FormatArg::Png => OutputFormat::Png,
        FormatArg::Gif => OutputFormat::Gif,
        FormatArg::Webp => OutputFormat::WebP,
        FormatArg::Jpg => OutputFormat::Jpeg,
        FormatArg::Bmp => OutputFormat::Bmp,
        FormatArg::Tiff => OutputFormat::Tiff,
    }
}

/// The extension pixmeans gives files it names.
fn extension(f: FormatArg) -> &'static str {
    match f {
        FormatArg::Png => "png",
        FormatArg::Gif => "gif",
        FormatArg::Webp => "webp",
        FormatArg::Jpg => "jpg",
        FormatArg::Bmp => "bmp",
        FormatArg::Tiff => "tiff",
    }
}

/// The extensions of the images read from a folder.
const IMAGE_EXTS: [&str; 8] = ["png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp"];

/// The extensions of the files pixmeans reads or writes, none of which a
/// folder of outputs is likely to be named with.
const FILE_EXTS: [&str; 13] = [
    "png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp", "json", "npy", "svg", "gpl", "txt",
];

/// Image files in a folder (by extension), sorted by name.
fn images_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?
    {
        let path = entry
            .with_context(|| format!("cannot read folder {}", dir.display()))?
            .path();
        let is_image = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| IMAGE_EXTS.contains(&e.to_ascii_lowercase().as_str()));
        if is_image && path.is_file() {
            found.push(path);
        }
    }
    if found.is_empty() {
        bail!(
            "{} holds no images (looked for {})",
            dir.display(),
            IMAGE_EXTS.join(", ")
        );
    }
    found.sort();
    Ok(found)
}

/// The format of the one output file `o`, from its extension; `--format`,
/// if given, must agree.
fn file_format(o: &Path, named: Option<FormatArg>) -> Result<OutputFormat> {
    let format = OutputFormat::from_path(o).map_err(|e| {
        if o.extension().is_none() && !o.exists() {
            anyhow!(
                "{e}\nhint: to write into a folder, end it with a slash (-o {}/)",
                o.display()
            )
        } else {
            e.into()
        }
    })?;
    if let Some(f) = named
        && format_of(f) != format
    {
        bail!(
            "--format {} disagrees with -o {}, whose extension picks the format\nhint: drop --format, or give the file a .{} extension",
            extension(f),
            o.display(),
            extension(f)
        );
    }
    Ok(format)
}

/// Whether `s` is written like an option's number: digits, with at most
/// one decimal point (`8`, `0.5`, `.5`); not `nan` or `1e3`, which are
/// likelier names.
fn is_plain_number(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|&b| b == b'.').count() <= 1
}

/// How `quantize`'s options take their values, for [`sources`].
const QUANTIZE_VALUE_HINT: &str = "an option's value follows it after a space (-k 8), but --dither takes its level after = (--dither=0.5)";

/// The inputs as sources, folders expanded; and whether any was a folder.
/// An input that is no file and reads as a number is refused before any
/// work, with `hint`: it is an option's value that went astray (`quantize
/// a.png 8` for `-k 8`), not an image that went missing.
pub fn sources(inputs: &[PathBuf], hint: &str) -> Result<(Vec<Source>, bool)> {
    if let Some(number) = inputs
        .iter()
        .find(|i| i.to_str().is_some_and(is_plain_number) && std::fs::symlink_metadata(i).is_err())
    {
        bail!(
            "{} is not a file, and looks like a number meant for an option\nhint: {hint}",
            number.display()
        );
    }
    let mut sources = Vec::new();
    let mut from_folder = false;
    for input in inputs {
        if input.as_os_str() == "-" {
            if sources.contains(&Source::Stdin) {
                bail!("standard input (-) can be read only once");
            }
            sources.push(Source::Stdin);
        } else if input.is_dir() {
            from_folder = true;
            sources.extend(images_in(input)?.into_iter().map(Source::File));
        } else {
            sources.push(Source::File(input.clone()));
        }
    }
    Ok((sources, from_folder))
}

/// Refuses `-o -` when standard output is a terminal: the image's bytes
/// would scroll past as garbage and may upset the terminal.
fn refuse_terminal(stdout_is_terminal: bool) -> Result<()> {
    if stdout_is_terminal {
        bail!(
            "-o - writes the image's bytes to standard output, which is a terminal\nhint: redirect it to a file or a program, e.g. -o - > out.png"
        );
    }
    Ok(())
}

/// Whether a path was typed with a trailing `/`, naming a folder.
fn ends_with_separator(p: &Path) -> bool {
    p.as_os_str()
        .to_string_lossy()
        .ends_with(std::path::MAIN_SEPARATOR)
}

/// Whether `input` (a canonical path) is a file that the output named
/// `pattern` (`<name>-k<K>.<ext>`, K to be chosen) in the folder `dir`
/// (canonical) could turn out to be.
fn may_take_the_name(input: &Path, dir: &Path, pattern: &OsStr) -> bool {
    let Some(name) = input.file_name() else {
        return false;
    };
    let (name, wanted) = (name.as_encoded_bytes(), pattern.as_encoded_bytes());
    // The last `<K>`: the input's own name may hold those letters too.
    let Some(at) = wanted.windows(3).rposition(|w| w == b"<K>") else {
        return false;
    };
    let (prefix, suffix) = (&wanted[..at], &wanted[at + 3..]);
    input.parent() == Some(dir)
        && name.len() > prefix.len() + suffix.len()
        && name.starts_with(prefix)
        && name.ends_with(suffix)
        && name[prefix.len()..name.len() - suffix.len()]
            .iter()
            .all(u8::is_ascii_digit)
}

/// Refuses two jobs that would write the same file, and any job that would
/// write over an input (`--force` is for outputs, never for sources).
fn check_distinct(jobs: &[Job]) -> Result<()> {
    let inputs: HashSet<PathBuf> = jobs
        .iter()
        .filter_map(|j| {
            if let Source::File(p) = &j.source {
                p.canonicalize().ok()
            } else {
                None
            }
        })
        .collect();
    let mut seen = HashSet::new();
    for job in jobs {
        if let Sink::File(p) = &job.sink
            && p.canonicalize().is_ok_and(|c| inputs.contains(&c))
        {
            bail!(
                "{} is an input, and would be overwritten by an output\nhint: write into another folder with -o",
                p.display()
            );
        }
        if let Sink::File(p) = &job.sink
            && job.name_waits_for_k
            && let (Some(dir), Some(pattern)) = (p.parent(), p.file_name())
            // "./" + "" is the current folder; an absolute folder stays.
            && let Ok(dir) = Path::new(".").join(dir).canonicalize()
            && let Some(input) = inputs.iter().find(|i| may_take_the_name(i, &dir, pattern))
        {
            bail!(
                "{} is an input, and -k auto could name the output of {} after it\nhint: write into another folder with -o",
                input.display(),
                job.source.display().display()
            );
        }
        if let Sink::File(p) = &job.sink
            && !seen.insert(p.clone())
        {
            bail!(
                "two inputs would both be written to {}\nhint: give inputs different names, or quantize them separately",
                p.display()
            );
        }
    }
    Ok(())
}

/// `--dither`, checked.
fn dither(level: Option<f32>, auto: Option<AutoK>) -> Result<Dither> {
    let Some(level) = level else {
        return Ok(Dither::None);
    };
    let dither = Dither::FloydSteinberg { level }.check().map_err(|_| {
        anyhow!("--dither={level} is out of range: the level is above 0 and at most 1")
    })?;
    if auto.is_some_and(|a| a.target.is_some()) {
        bail!(
            "--dither with --target-psnr or --max-delta-e: k would be chosen by the figures of the undithered image, which dithering changes\nhint: find k without --dither (-k auto with the same target), then dither at that k"
        );
    }
    Ok(dither)
}

impl QuantizeConfig {
    pub fn resolve(a: &QuantizeArgs) -> Result<Self> {
        let auto = auto_k(&a.kmeans)?;
        let quantizer = quantizer(&a.kmeans)?.with_dither(dither(a.dither, auto)?);
        let common = Common::resolve(&a.common)?.with_png(&a.png);
        let (mut sources, from_folder) = sources(&a.inputs, QUANTIZE_VALUE_HINT)?;
        let batch = sources.len() > 1 || from_folder;
        let named = a.format.unwrap_or(FormatArg::Png);
        let fixed = format_of(named);
        let k_in_name = match a.kmeans.k {
            KArg::Fixed(k) => k.to_string(),
            KArg::Auto => "<K>".to_owned(),
        };
        let default_name = |s: &Source| output_name(s, &k_in_name, extension(named).as_ref());
        let into = |dir: &Path| -> Vec<Job> {
            sources
                .iter()
                .map(|s| Job {
                    sink: Sink::File(dir.join(default_name(s))),
                    source: s.clone(),
                    format: fixed,
                    name_waits_for_k: auto.is_some(),
                })
                .collect()
        };
        let (jobs, out_dir) = match &a.output {
            Some(o) if o.as_os_str() == "-" => {
                if batch {
                    bail!(
                        "-o - writes one image to standard output, but there are {} inputs",
                        sources.len()
                    );
                }
                if common.json {
                    bail!(
                        "-o - and --json would both write to standard output\nhint: write the image to a file, or drop --json"
                    );
                }
                refuse_terminal(std::io::stdout().is_terminal())?;
                (
                    vec![Job {
                        source: sources.remove(0),
                        sink: Sink::Stdout,
                        format: fixed,
                        name_waits_for_k: false,
                    }],
                    None,
                )
            }
            Some(o) if batch && !o.is_dir() && OutputFormat::from_path(o).is_ok() => {
                bail!(
                    "-o {} names one file, but there are {} inputs\nhint: give a folder for several outputs, e.g. -o out/",
                    o.display(),
                    sources.len()
                );
            }
            Some(o) if batch || o.is_dir() || ends_with_separator(o) => (into(o), Some(o.clone())),
            Some(o) => (
                vec![Job {
                    source: sources.remove(0),
                    sink: Sink::File(o.clone()),
                    format: file_format(o, a.format)?,
                    name_waits_for_k: false,
                }],
                None,
            ),
            None => (into(Path::new("")), None),
        };
        check_distinct(&jobs)?;
        if let Some(job) = jobs.iter().find(|j| j.format != OutputFormat::Png) {
            let why = format!(
                "{} is written as {}",
                job.sink.display().display(),
                job.format.name()
            );
            no_png_here(&a.png, &why)?;
        }
        Ok(QuantizeConfig {
            quantizer,
            auto,
            jobs,
            out_dir,
            common,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_bytes_are_not_written_to_a_terminal() {
        let message = format!("{:#}", refuse_terminal(true).unwrap_err());
        assert!(message.contains("which is a terminal"), "{message}");
        assert!(message.contains("hint: redirect it"), "{message}");
        assert!(refuse_terminal(false).is_ok());
    }
}
