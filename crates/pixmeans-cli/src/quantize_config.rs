//! `pixmeans quantize`'s settings resolved: the quantizer, and one job
//! (input, output, format) per image, checked before any pixel is read:
//! no two outputs alike, none over an input.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Component, Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use pixmeans_core::{Dither, Quantizer};
use pixmeans_io::OutputFormat;

use crate::args::{FormatArg, KArg, QuantizeArgs};
use crate::config::{
    AutoK, Claims, Common, Source, auto_k, ends_with_separator, input_overwritten, no_png_here,
    quantizer, sources,
};
use clap::ValueEnum as _;

/// Where an image goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    Stdout,
    File(PathBuf),
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
    /// The inputs left out as earlier runs' outputs, canonical: never
    /// written over, even under `--force`, since they were among the
    /// inputs.
    pub left_out: HashSet<PathBuf>,
}

impl QuantizeConfig {
    /// Refuses, for its job alone, an output that is an input left out as
    /// an earlier run's output (unless `--skip-existing` leaves it alone).
    pub fn refuse_left_out(&self, sink: &Sink) -> Result<()> {
        if let Sink::File(p) = sink
            && !self.common.skip_existing
            && p.canonicalize().is_ok_and(|c| self.left_out.contains(&c))
        {
            bail!(
                "{} is not replaced: it is among the inputs, left out as an earlier run's output\nhint: delete it to make it again, or write into another folder with -o",
                p.display()
            );
        }
        Ok(())
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
    format_of(f).extension()
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

/// How `quantize`'s options take their values, for [`sources`].
const QUANTIZE_VALUE_HINT: &str = "an option's value follows it after a space (-k 8), but --dither takes its level after = (--dither=0.5)";

/// Why an image goes to standard output.
#[derive(Debug, Clone, Copy)]
enum Piped {
    /// `-o -`.
    Asked,
    /// The input is standard input and no `-o` was given.
    ByDefault,
}

impl Piped {
    fn words(self) -> &'static str {
        match self {
            Piped::Asked => "-o -",
            Piped::ByDefault => "reading standard input without -o",
        }
    }
}

/// The job that writes `source`'s image to standard output, unless the JSON
/// report would share it or it is a terminal.
fn to_stdout(source: Source, format: OutputFormat, common: &Common, why: Piped) -> Result<Job> {
    if common.skip_if_larger {
        bail!(
            "{} writes the image to standard output, whose reader waits for an image, but --skip-if-larger may leave it unwritten\nhint: name the output, e.g. -o out.png, or drop --skip-if-larger",
            why.words()
        );
    }
    if common.json {
        bail!(
            "{} writes the image to standard output, where --json writes too\nhint: name the output, e.g. -o out.png, or drop --json",
            why.words()
        );
    }
    refuse_terminal(std::io::stdout().is_terminal(), why.words())?;
    Ok(Job {
        source,
        sink: Sink::Stdout,
        format,
        name_waits_for_k: false,
    })
}

/// Refuses to write an image to standard output (`what`: with `-o -`, or
/// read from standard input without `-o`) when it is a terminal: the
/// image's bytes would scroll past as garbage and may upset the terminal.
fn refuse_terminal(stdout_is_terminal: bool, what: &str) -> Result<()> {
    if stdout_is_terminal {
        bail!(
            "{what} writes the image's bytes to standard output, which is a terminal\nhint: redirect it to a file or a program (> out.png), or name the output with -o"
        );
    }
    Ok(())
}

/// Leaves out of a batch each input named as pixmeans names the outputs of
/// another input in the same folder (`a-k16.png` or `a-k4.webp` beside
/// `a.png`: at any k, in any format it writes), saying so: taken for an
/// earlier run's output, which a rerun over the same files or folder would
/// otherwise quantize again (`a-k16-k16.png`; runs at several k into one
/// folder made `a-k4-k8.png`, then `a-k4-k8-k16.png`). Returns the inputs
/// kept and the paths left out (canonical), which stay protected:
/// [`QuantizeConfig::refuse_left_out`] refuses to write over them.
fn without_earlier_outputs(sources: Vec<Source>) -> (Vec<Source>, HashSet<PathBuf>) {
    // Each input by its folder and stem, so that a name is checked by one
    // lookup (every input against every other took 61 s for 20,000).
    let mut by_stem: HashMap<(PathBuf, &[u8]), &Path> = HashMap::new();
    for s in &sources {
        if let Source::File(p) = s
            && let Some(stem) = p.file_stem()
        {
            by_stem
                .entry((folder(p), stem.as_encoded_bytes()))
                .or_insert(p);
        }
    }
    let origin = |x: &Path| -> Option<PathBuf> {
        let name = x.file_name()?.as_encoded_bytes();
        let stem = FormatArg::value_variants()
            .iter()
            .find_map(|&f| output_stem(name, "<K>", extension(f)))?;
        let y = by_stem.get(&(folder(x), stem))?;
        (*y != x).then(|| y.to_path_buf())
    };
    let origins: Vec<Option<PathBuf>> = sources
        .iter()
        .map(|s| match s {
            Source::File(x) => origin(x),
            Source::Stdin => None,
        })
        .collect();
    let mut pairs = Vec::new();
    let (mut kept, mut left_out) = (Vec::with_capacity(sources.len()), HashSet::new());
    for (source, origin) in sources.into_iter().zip(origins) {
        match (source, origin) {
            (Source::File(x), Some(y)) => {
                left_out.extend(x.canonicalize());
                pairs.push((x, y));
            }
            (source, _) => kept.push(source),
        }
    }
    crate::print_message(&left_out_warning(&pairs));
    (kept, left_out)
}

/// The warning for the inputs left out as earlier outputs (each paired with
/// the input it came from): a line each, or past `LISTED` a count and the
/// first one, as a folder shared by runs at several k holds many.
fn left_out_warning(pairs: &[(PathBuf, PathBuf)]) -> String {
    const LISTED: usize = 4;
    match pairs {
        [] => String::new(),
        [(x, y), ..] if pairs.len() > LISTED => format!(
            "warning: leaving out {} inputs taken for earlier runs' outputs, such as {} (from {})\n",
            pairs.len(),
            x.display(),
            y.display()
        ),
        _ => pairs.iter().fold(String::new(), |mut s, (x, y)| {
            let _ = writeln!(
                s,
                "warning: leaving out {}, taken for an earlier run's output from {}",
                x.display(),
                y.display()
            );
            s
        }),
    }
}

/// "there are 3 inputs", or "the input is a folder" (a batch of one).
fn inputs_given(given: usize, from_folder: bool) -> String {
    if given == 1 && from_folder {
        "the input is a folder".to_owned()
    } else {
        format!("there are {given} inputs")
    }
}

/// The folder of `p` as typed, without `.` parts: `./a.png` and `a.png`
/// are in the same one.
fn folder(p: &Path) -> PathBuf {
    p.parent()
        .unwrap_or(Path::new(""))
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect()
}

/// The stem of the input that a file `name` would be the output of, if it
/// is named `<stem>-k<K>.<ext>`: K being `k`, or any number when `k` is
/// `<K>` (`-k auto`).
fn output_stem<'a>(name: &'a [u8], k: &str, ext: &str) -> Option<&'a [u8]> {
    let rest = name.strip_suffix(format!(".{ext}").as_bytes())?;
    if k != "<K>" {
        return rest.strip_suffix(format!("-k{k}").as_bytes());
    }
    let at = rest.windows(2).rposition(|w| w == b"-k")?;
    let number = &rest[at + 2..];
    (!number.is_empty() && number.iter().all(u8::is_ascii_digit)).then_some(&rest[..at])
}

/// Refuses two jobs that would write the same file, and any job that would
/// write over an input (`--force` is for outputs, never for sources). An
/// input left out as an earlier run's output is refused job by job
/// ([`QuantizeConfig::refuse_left_out`]), so that a rerun in place still
/// does the new inputs. `auto_ext` is the extension of the names that wait
/// for `-k auto`'s k, if any.
fn check_distinct(jobs: &[Job], auto_ext: Option<&str>) -> Result<()> {
    let inputs: HashSet<PathBuf> = jobs.iter().filter_map(|j| j.source.canonical()).collect();
    // Under -k auto, each input named `<stem>-k<K>.<ext>` by its folder and
    // that stem: the output of that stem in that folder could take its name.
    let auto_names: HashMap<(&Path, &[u8]), &Path> = auto_ext.map_or_else(HashMap::new, |ext| {
        inputs
            .iter()
            .filter_map(|i| {
                let stem = output_stem(i.file_name()?.as_encoded_bytes(), "<K>", ext)?;
                Some(((i.parent()?, stem), i.as_path()))
            })
            .collect()
    });
    let mut claims = Claims::default();
    for job in jobs {
        let Sink::File(p) = &job.sink else {
            continue;
        };
        if p.canonicalize().is_ok_and(|c| inputs.contains(&c)) {
            return Err(input_overwritten(p));
        }
        let stem = job.source.stem();
        if job.name_waits_for_k
            && let Some(dir) = p.parent()
            // "./" + "" is the current folder; an absolute folder stays.
            && let Ok(dir) = Path::new(".").join(dir).canonicalize()
            && let Some(input) = auto_names.get(&(dir.as_path(), stem.as_encoded_bytes()))
        {
            bail!(
                "{} is an input, and -k auto could name the output of {} after it\nhint: write into another folder with -o",
                input.display(),
                job.source.display().display()
            );
        }
        claims.claim(p, &job.source);
    }
    claims.refuse_clashes("quantize")
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
        let common = Common {
            skip_if_larger: a.skip_if_larger,
            skip_existing: a.skip_existing,
            ..Common::resolve(&a.common)?.with_png(&a.png)
        };
        let (mut sources, from_folder) = sources(&a.inputs, QUANTIZE_VALUE_HINT)?;
        let batch = sources.len() > 1 || from_folder;
        let named = a.format.unwrap_or(FormatArg::Png);
        let fixed = format_of(named);
        let k_in_name = match a.kmeans.k {
            KArg::Fixed(k) => k.to_string(),
            KArg::Auto => "<K>".to_owned(),
        };
        let given = sources.len();
        let left_out = if batch {
            let (kept, left_out) = without_earlier_outputs(sources);
            sources = kept;
            left_out
        } else {
            HashSet::new()
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
        // As in pngquant, an image read from standard input goes to standard
        // output unless -o says otherwise (not to a file named stdin-k16.png).
        let piped = a.output.is_none() && !batch && sources == [Source::Stdin];
        let (jobs, out_dir) = match &a.output {
            Some(o) if o.as_os_str() == "-" && batch => {
                bail!(
                    "-o - writes one image to standard output, but {}\nhint: give a folder for several outputs, e.g. -o out/",
                    inputs_given(given, from_folder)
                );
            }
            Some(o) if o.as_os_str() == "-" => {
                let job = to_stdout(sources.remove(0), fixed, &common, Piped::Asked)?;
                (vec![job], None)
            }
            None if piped => {
                let job = to_stdout(sources.remove(0), fixed, &common, Piped::ByDefault)?;
                (vec![job], None)
            }
            Some(o) if batch && !o.is_dir() && OutputFormat::from_path(o).is_ok() => {
                bail!(
                    "-o {} names one file, but {}\nhint: give a folder for several outputs, e.g. -o out/",
                    o.display(),
                    inputs_given(given, from_folder)
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
        check_distinct(&jobs, auto.is_some().then(|| extension(named)))?;
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
            left_out,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_bytes_are_not_written_to_a_terminal() {
        let message = format!("{:#}", refuse_terminal(true, "-o -").unwrap_err());
        assert!(
            message.starts_with(
                "-o - writes the image's bytes to standard output, which is a terminal"
            ),
            "{message}"
        );
        assert!(message.contains("hint: redirect it"), "{message}");
        assert!(refuse_terminal(false, "-o -").is_ok());
    }
}
