//! Resolved settings every command shares: the typed arguments checked and
//! turned into a [`Quantizer`], the limits, and the inputs, before any pixel
//! is read. Each command's own jobs are resolved in `quantize_config` and
//! `segment_config`.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use pixmeans_core::{
    ColorSpace, Init, KMeansError, KMeansParams, KTarget, LloydStep, PaletteSize, Quantizer,
};
use pixmeans_io::{Limits, PngCompression};

use crate::args::{
    CommonArgs, CompressionArg, FitArgs, InitArg, KArg, KMeansArgs, PngArgs, SpaceArg, StepArg,
};
use crate::report::counted;

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
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

    /// The file's canonical path; `None` for standard input, or a file
    /// that cannot be found.
    pub fn canonical(&self) -> Option<PathBuf> {
        match self {
            Source::Stdin => None,
            Source::File(p) => p.canonicalize().ok(),
        }
    }
}

/// Settings every command shares, resolved.
// Each bool is one flag as the user typed it; no two make a state machine.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone)]
pub struct Common {
    pub json: bool,
    pub verbose: bool,
    pub force: bool,
    pub limits: Limits,
    pub compression: PngCompression,
    /// `quantize --skip-if-larger`; false for every other command.
    pub skip_if_larger: bool,
    /// `quantize` and `segment` `--skip-existing`; false for every other
    /// command.
    pub skip_existing: bool,
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
            skip_if_larger: false,
            skip_existing: false,
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
            "-k {k} is out of range: k goes from 1 to 256, the most colours an indexed image holds\nhint: pick a k from 1 to 256, or -k auto"
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
        .map(str::to_ascii_lowercase)
        .is_some_and(|e| IMAGE_EXTS.contains(&e.as_str()) || OTHER_FILE_EXTS.contains(&e.as_str()));
    if file_like && !dir.exists() && !ends_with_separator(dir) {
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

/// The extensions of the images read from a folder.
const IMAGE_EXTS: [&str; 8] = ["png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp"];

/// With [`IMAGE_EXTS`], the extensions of the files pixmeans reads or
/// writes, none of which a folder of outputs is likely to be named with.
const OTHER_FILE_EXTS: [&str; 8] = ["json", "npy", "svg", "gpl", "txt", "html", "htm", "pdf"];

/// Image files in a folder (by extension), sorted by name. Hidden files
/// (named `.*`, such as the `._photo.jpg` a Mac leaves beside `photo.jpg`)
/// are not taken. What else it holds (folders, which are not entered,
/// hidden files, other files, and things named as images that are not
/// files, such as broken links) is counted in a note.
fn images_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let (mut folders, mut hidden, mut others, mut not_files) = (0, 0, 0, 0);
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
        if path.is_dir() {
            folders += 1;
        } else if path
            .file_name()
            .is_some_and(|n| n.as_encoded_bytes().starts_with(b"."))
        {
            hidden += 1;
        } else if !is_image {
            others += 1;
        } else if !path.is_file() {
            not_files += 1;
        } else {
            found.push(path);
        }
    }
    let words: Vec<String> = [
        (
            folders,
            format!("{} (not entered)", counted(folders, "folder")),
        ),
        (hidden, counted(hidden, "hidden file")),
        (
            others,
            format!("{} not named as images", counted(others, "file")),
        ),
        (
            not_files,
            format!(
                "{} named as images that are not files, such as broken links",
                counted(not_files, "path")
            ),
        ),
    ]
    .into_iter()
    .filter_map(|(n, words)| (n > 0).then_some(words))
    .collect();
    let list = match words.split_last() {
        None => None,
        Some((last, [])) => Some(last.clone()),
        Some((last, rest)) => Some(format!("{} and {last}", rest.join(", "))),
    };
    if found.is_empty() {
        let skipped = list.map(|l| format!("; skipped {l}")).unwrap_or_default();
        bail!(
            "{} holds no images (looked for {}){skipped}",
            dir.display(),
            IMAGE_EXTS.join(", ")
        );
    }
    if let Some(list) = list {
        crate::print_info(&format!(
            "note: {}: {}; skipped {list}\n",
            dir.display(),
            counted(found.len(), "image"),
        ));
    }
    found.sort();
    Ok(found)
}

/// Whether `s` is written like an option's number: digits, with at most
/// one decimal point (`8`, `0.5`, `.5`); not `nan` or `1e3`, which are
/// likelier names.
fn is_plain_number(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && s.bytes().filter(|&b| b == b'.').count() <= 1
}

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
    // A file given twice (or also through its folder) is done once.
    let mut seen = HashSet::new();
    sources.retain(|s| match s {
        Source::File(p) => seen.insert(p.canonicalize().unwrap_or_else(|_| p.clone())),
        Source::Stdin => true,
    });
    Ok((sources, from_folder))
}

/// The error for an input that an output would replace (`--force` is for
/// outputs only).
pub fn input_overwritten(input: &Path) -> anyhow::Error {
    anyhow!(
        "{} is an input, and would be overwritten by an output\nhint: write into another folder with -o",
        input.display()
    )
}

/// The outputs of a batch, each claimed by its input, to refuse inputs
/// that would write to one place.
#[derive(Default)]
pub struct Claims<'a> {
    by: HashMap<&'a Path, &'a Path>,
    clashes: Vec<String>,
}

impl<'a> Claims<'a> {
    /// Notes that `source` writes `output`.
    pub fn claim(&mut self, output: &'a Path, source: &'a Source) {
        if let Some(first) = self.by.insert(output, source.display()) {
            self.clashes.push(format!(
                "{} and {} would both be written to {}",
                first.display(),
                source.display().display(),
                output.display()
            ));
        }
    }

    /// Refuses the batch if two inputs claimed one output, naming every
    /// clash at once so that one run shows all the files to rename.
    pub fn refuse_clashes(self, verb: &str) -> Result<()> {
        match self.clashes.as_slice() {
            [] => Ok(()),
            [one] => bail!("{one}\nhint: give inputs different names, or {verb} them separately"),
            many => bail!(
                "{} clashes of output names:\n  {}\nhint: give inputs different names, or {verb} them separately",
                many.len(),
                many.join("\n  ")
            ),
        }
    }
}

/// Whether a path was typed with a trailing `/` (or, on Windows, `\\`),
/// naming a folder.
pub fn ends_with_separator(p: &Path) -> bool {
    p.as_os_str()
        .to_string_lossy()
        .chars()
        .next_back()
        .is_some_and(std::path::is_separator)
}

/// Refuses, before any work, an output path on whose way to `folder` (or at
/// it) stands a file: `photo.png/out.png` or `photo.png/sub/`. A folder that
/// is missing is no matter here: it is made, or reported, later.
pub fn refuse_file_as_folder(output: &Path, folder: &Path) -> Result<()> {
    match pixmeans_io::file_in_the_way(folder) {
        Some(file) => Err(pixmeans_io::WriteError::FileForFolder {
            path: output.to_path_buf(),
            file: file.to_path_buf(),
        }
        .into()),
        None => Ok(()),
    }
}
