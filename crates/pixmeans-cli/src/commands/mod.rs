//! One module per subcommand, plus the steps they share.

pub mod demo;
pub mod elbow;
pub mod grid;
pub mod palette;
pub mod quantize;
pub mod scatter;
pub mod segment;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};

use pixmeans_core::opacity::over_white;
use pixmeans_core::{
    AlphaMode, ColorHistogram, ImageRef, KChoice, PixelFormat, Quantized, Quantizer, knee_k,
    smallest_k,
};
use pixmeans_io::{Decoded, OutputFormat, ProfileUse};
use rayon::prelude::*;

use crate::config::{AutoK, Common, KNEE_RANGE, Source};
use crate::quantize_config::Sink;
use crate::report::{
    ImageReport, KChoiceReport, LossyFileReport, Provenance, Skip, Timings, counted,
};

/// How a command ended, as the process exit code says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked: exit 0.
    Success,
    /// Some inputs of a batch failed, others worked: exit 1.
    PartialFailure,
    /// Nothing worked: exit 2.
    Failure,
}

/// The source an input path names (`-` for standard input).
pub fn source_of(input: &Path) -> Source {
    if input.as_os_str() == "-" {
        Source::Stdin
    } else {
        Source::File(input.to_path_buf())
    }
}

/// Where a picture about `input` goes: `-o`, or `<name>-<what>.<ext>` in the
/// current folder, or in the folder `-o` names (an existing one, or any
/// path ending in `/`, which [`write_picture`] makes). Refuses, before any
/// work, `-o -` (standard output), a file in a folder that is missing, to
/// replace an existing file without `--force`, and ever to replace the
/// input.
pub fn picture_output(
    output: Option<&Path>,
    input: &Path,
    what: &str,
    ext: &str,
    force: bool,
) -> Result<PathBuf> {
    let default = || {
        let mut name = source_of(input).stem();
        name.push(format!("-{what}.{ext}"));
        PathBuf::from(name)
    };
    if output.is_some_and(|o| o.as_os_str() == "-") {
        anyhow::bail!(
            "{what} writes its picture to a file, not to standard output (-o -)\nhint: name the file, e.g. -o {}",
            default().display()
        );
    }
    let out = match output {
        None => default(),
        Some(dir) if dir.is_dir() || crate::config::ends_with_separator(dir) => {
            let out = dir.join(default());
            crate::config::refuse_file_as_folder(&out, dir)?;
            out
        }
        Some(file) => {
            pixmeans_io::check_folder(file)?;
            file.to_path_buf()
        }
    };
    if let (Ok(a), Ok(b)) = (out.canonicalize(), input.canonicalize())
        && a == b
    {
        anyhow::bail!(
            "{} is the input, and would be overwritten by the output\nhint: name another file with -o",
            out.display()
        );
    }
    check_clobber(&Sink::File(out.clone()), force)?;
    Ok(out)
}

/// Writes the file of a picture command to `out` (from [`picture_output`]),
/// making its folder first if `-o` named one that is missing; a folder made
/// goes again if the file cannot be written.
pub fn write_picture(out: &Path, bytes: &[u8], force: bool) -> Result<()> {
    let made = match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => make_folders(dir)?,
        _ => Vec::new(),
    };
    pixmeans_io::write_atomic(out, bytes, force).inspect_err(|_| remove_empty_folders(&made))?;
    Ok(())
}

/// The last part of a path, for titles and captions.
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// A progress bar over `n` steps on standard error, shown only on a
/// terminal, and not with `--quiet`.
pub fn progress(n: usize) -> ProgressBar {
    if crate::quiet() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(n as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// The most inputs of a batch in progress at once, whatever the cores:
/// each holds its decoded pixels and working buffers (up to about 250 MB
/// for a 12 MP photo being segmented).
const MAX_LANES: usize = 4;

/// Runs `each` over a batch of `jobs` under a progress bar (shown only on
/// a terminal: indicatif hides it otherwise), printing each failure (and
/// passing it to `failed`, which may print more) and going on. A closed
/// standard output (`... --json | head -1`) drops the rest of what would
/// be printed there, quietly, but every job is still done: its files are
/// what the user asked for. `each` does the work and
/// returns what to print, which is printed with the bar hidden so that no
/// stale bar is left in the scrollback.
///
/// Up to [`MAX_LANES`] jobs run at a time, one per worker thread (`-j`),
/// since one image alone keeps the cores only partly busy: on two cores,
/// 48 small photos (0.1-0.3 MP) took 1.5-1.7 s instead of 2.5-2.7, six of
/// 4.5 MP 1.1 s instead of 1.4-1.7, two of 12 MP 0.7-0.8 s instead of
/// 1.0-1.1. The results are printed in the order of the jobs, each as soon
/// as those before it are; the results themselves never depend on the
/// threads.
pub fn run_batch<J: Sync, R: Send>(
    jobs: &[J],
    name: impl Fn(&J) -> String + Sync,
    each: impl Fn(&J) -> Result<R> + Sync,
    print: impl Fn(&R) -> Result<()>,
    failed: impl Fn(&J, &anyhow::Error) -> Result<()>,
) -> Outcome {
    let bar = progress(jobs.len());
    let next = AtomicUsize::new(0);
    let (done, results) = mpsc::channel();
    let threads = rayon::current_num_threads();
    let lanes = threads.min(jobs.len()).min(MAX_LANES);
    let (printed, failures) = std::thread::scope(|scope| {
        for lane in 0..lanes {
            // Each lane runs its jobs on threads of its own: jobs sharing
            // one pool wait on each other's parallel steps (48 small
            // photos took 2.0 s that way, against 1.5-1.7 s).
            let threads = threads / lanes + usize::from(lane < threads % lanes);
            let (done, next, bar, name, each) = (done.clone(), &next, &bar, &name, &each);
            let work = move || -> Result<()> {
                // The main thread's stack size, where a single image runs.
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .stack_size(8 << 20)
                    .build()?;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    bar.set_message(name(job));
                    if done.send((i, run_caught(&pool, || each(job)))).is_err() {
                        break;
                    }
                }
                Ok(())
            };
            let started = std::thread::Builder::new().spawn_scoped(scope, move || {
                if let Err(e) = work() {
                    let e = e.context("cannot start a worker thread");
                    bar.suspend(|| crate::print_error(&e));
                }
            });
            if let Err(e) = started {
                let e = anyhow::Error::new(e).context("cannot start a worker thread");
                bar.suspend(|| crate::print_error(&e));
            }
        }
        drop(done);
        print_in_order(results, &bar, print, |i, e| failed(&jobs[i], e))
    });
    bar.finish_and_clear();
    // Jobs never run for want of a worker thread failed too.
    let failures = failures + jobs.len() - printed;
    match failures {
        0 => Outcome::Success,
        n if n == jobs.len() => Outcome::Failure,
        _ => Outcome::PartialFailure,
    }
}

/// Runs the inputs of `quantize` or `segment`: one alone, whose failure is
/// the command's (exit status 2), or a batch ([`run_batch`]). With
/// `--json`, a failed input has its `{"input", "error"}` line either way.
pub fn run_inputs<J: Sync, R: Send>(
    jobs: &[J],
    json: bool,
    input: impl Fn(&J) -> &Path + Sync,
    each: impl Fn(&J) -> Result<R> + Sync,
    print: impl Fn(&R) -> Result<()>,
) -> Result<Outcome> {
    if let [job] = jobs {
        print(&one_input(input(job), json, || each(job))?)?;
        return Ok(Outcome::Success);
    }
    Ok(run_batch(
        jobs,
        |job| input(job).display().to_string(),
        each,
        print,
        |job, e| print_json_failure(json, input(job), e),
    ))
}

/// Runs the work of one `input`, and when it fails under `--json` prints the
/// input's `{"input": ..., "error": ...}` line (standard input, `-`, named
/// `<stdin>` as in a report), so that every command, of one input or many,
/// reports a failure to a script the same way.
pub fn one_input<R>(input: &Path, json: bool, run: impl FnOnce() -> Result<R>) -> Result<R> {
    let source = source_of(input);
    run().inspect_err(|e| drop(print_json_failure(json, source.display(), e)))
}

/// `work` on `pool`, a panic in it turned into an error (so that a batch
/// goes on, and the jobs after it are still printed).
fn run_caught<R>(pool: &rayon::ThreadPool, work: impl FnOnce() -> Result<R> + Send) -> Result<R>
where
    R: Send,
{
    pool.install(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)))
        .unwrap_or_else(|_| {
            Err(anyhow::anyhow!(
                "internal error: the work on this input panicked"
            ))
        })
}

/// Prints the results of jobs 0, 1, 2, ... as they arrive (in any order,
/// tagged with their job's number), each as soon as those before it are;
/// a failure is printed as an error and passed to `failed` with its job's
/// number. A closed standard output fails nothing. Returns how many were
/// printed and how many failed.
fn print_in_order<R>(
    results: mpsc::Receiver<(usize, Result<R>)>,
    bar: &ProgressBar,
    print: impl Fn(&R) -> Result<()>,
    failed: impl Fn(usize, &anyhow::Error) -> Result<()>,
) -> (usize, usize) {
    let (mut printed, mut failures) = (0, 0);
    let mut waiting = BTreeMap::new();
    for (i, result) in results {
        waiting.insert(i, result);
        while let Some(result) = waiting.remove(&printed) {
            let said = match result {
                Ok(r) => bar.suspend(|| print(&r)),
                Err(e) => {
                    failures += 1;
                    bar.suspend(|| {
                        crate::print_error(&e);
                        failed(printed, &e)
                    })
                }
            };
            if let Err(e) = said
                && !crate::is_broken_pipe(&e)
            {
                bar.suspend(|| crate::print_error(&e));
            }
            bar.inc(1);
            printed += 1;
        }
    }
    (printed, failures)
}

/// Bytes as people read them: `812 B`, `31.9 kB`, `1.25 MB` (powers of 1000).
pub fn human_bytes(n: u64) -> String {
    match n {
        0..1000 => format!("{n} B"),
        1000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        _ => format!("{:.2} MB", n as f64 / 1e6),
    }
}

/// Reads and decodes one input.
pub fn read(source: &Source, common: &Common) -> Result<Decoded> {
    Ok(match source {
        Source::File(p) => pixmeans_io::read_image(p, &common.limits).map_err(with_limit_hint)?,
        Source::Stdin => {
            let stdin = std::io::stdin();
            refuse_terminal_input(stdin.is_terminal())?;
            pixmeans_io::read_from(stdin.lock(), source.display(), &common.limits)
                .map_err(with_limit_hint)?
        }
    })
}

/// Refuses to read an image from standard input (`-`) when it is a
/// terminal: nobody types an image, and the command would wait in silence.
fn refuse_terminal_input(stdin_is_terminal: bool) -> Result<()> {
    if stdin_is_terminal {
        anyhow::bail!(
            "the input - reads the image from standard input, which is a terminal\nhint: pipe or redirect an image into it (< photo.jpg), or name the file"
        );
    }
    Ok(())
}

/// The warnings about what of an input is not used as it is, if any: only
/// the first frame or page of several, colours converted to sRGB from the
/// file's colour profile (a note), a profile that could not be used, and
/// partly transparent pixels where `alpha` clusters them by colour alone.
/// Batches print them with the image's report, in order and clear of the
/// progress bar.
pub fn input_warnings(source: &Source, decoded: &Decoded, alpha: AlphaMode) -> Option<String> {
    let name = source.display().display();
    let mut warnings = String::new();
    if decoded.more_frames {
        let _ = writeln!(
            warnings,
            "warning: {name} holds more than one frame or page; only the first is used"
        );
    }
    match &decoded.profile {
        ProfileUse::Converted { name: profile } if !crate::quiet() => {
            let _ = writeln!(
                warnings,
                "note: {name}'s colour profile is {profile}; its colours were converted to sRGB"
            );
        }
        ProfileUse::Ignored { reason } => {
            let _ = writeln!(
                warnings,
                "warning: {name}: {reason}; its colours are taken as sRGB"
            );
        }
        _ => {}
    }
    let view = decoded.image.view();
    if view.format() == PixelFormat::Rgba8 && alpha == AlphaMode::Opaque {
        let partly = view
            .data()
            .par_chunks(4 * 4096)
            .map(|c| {
                c.chunks_exact(4)
                    .filter(|p| p[3] != 0 && p[3] != 255)
                    .count()
            })
            .sum::<usize>();
        if partly > 0 {
            let _ = writeln!(
                warnings,
                "warning: {name} has {} that are partly transparent; this command clusters them by their colour as if opaque (only full transparency is kept)",
                counted(partly, "pixel"),
            );
        }
    }
    (!warnings.is_empty()).then_some(warnings)
}

/// Reads one input for a command that takes one, and prints its
/// [`input_warnings`] for a fit that treats partly transparent pixels as
/// `alpha` says, at once.
pub fn read_one(source: &Source, common: &Common, alpha: AlphaMode) -> Result<Decoded> {
    if let Source::File(p) = source
        && p.is_dir()
    {
        anyhow::bail!(
            "{} is a folder, but this command reads one image\nhint: name one image in it; quantize and segment take whole folders",
            p.display()
        );
    }
    let decoded = read(source, common)?;
    if let Some(warning) = input_warnings(source, &decoded, alpha) {
        crate::print_message(&warning);
    }
    Ok(decoded)
}

fn with_limit_hint(e: pixmeans_io::ReadError) -> anyhow::Error {
    let hint = matches!(e, pixmeans_io::ReadError::TooLarge { .. });
    let e = anyhow::Error::new(e);
    if hint {
        e.context("the image is too large\nhint: raise the limit with --pixel-limit N, if you have the memory")
    } else {
        e
    }
}

/// Creates the folder `dir` and those of its parents that are missing, one
/// at a time, and returns the folders it made, innermost first: exactly
/// the ones to take away again when nothing is written into them (a path
/// through `..` or a link cannot pass a folder that was there for one this
/// call made).
pub fn make_folders(dir: &Path) -> Result<Vec<PathBuf>> {
    let levels: Vec<&Path> = dir
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .collect();
    let mut made = Vec::new();
    for folder in levels.into_iter().rev() {
        match std::fs::create_dir(folder) {
            Ok(()) => made.push(folder.to_path_buf()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && folder.is_dir() => {}
            Err(e) => {
                made.reverse();
                remove_empty_folders(&made);
                let context = format!("cannot create output folder {}", dir.display());
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    anyhow::bail!("{context}: {} is not a folder", folder.display());
                }
                return Err(e).context(context);
            }
        }
    }
    made.reverse();
    Ok(made)
}

/// Removes `folders`, innermost first, as long as each is empty.
pub fn remove_empty_folders(folders: &[PathBuf]) {
    for folder in folders {
        if std::fs::remove_dir(folder).is_err() {
            break;
        }
    }
}

/// Refuses, before any work, to replace a file without `--force`.
pub fn check_clobber(sink: &Sink, force: bool) -> Result<()> {
    if let Sink::File(p) = sink
        && !force
        && p.exists()
    {
        return Err(exists(p));
    }
    Ok(())
}

/// The error for an output file that is there already, without `--force`.
fn exists(p: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "{} already exists\nhint: add --force to replace it",
        p.display()
    )
}

/// Writes encoded bytes to their sink; returns the byte count.
pub fn write(sink: &Sink, bytes: &[u8], force: bool) -> Result<u64> {
    match sink {
        Sink::File(p) => pixmeans_io::write_atomic(p, bytes, force).map_err(|e| match e {
            // Met here when the name waited for k (-k auto): say it as
            // `check_clobber` does.
            pixmeans_io::WriteError::Exists { .. } => exists(p),
            e => e.into(),
        }),
        Sink::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .context("cannot write to standard output")?;
            Ok(bytes.len() as u64)
        }
    }
}

/// Counts the image's colours, chooses k when asked to, and quantizes.
/// Under `-k auto` the quantization is the one the search made for the k it
/// chose, not a second fit.
pub fn quantize_auto(
    view: &ImageRef<'_>,
    input: &Path,
    quantizer: &Quantizer,
    auto: Option<AutoK>,
) -> Result<(Quantized, Quantizer, Option<KChoice>)> {
    let hist = ColorHistogram::from_image(view);
    let cannot = || format!("cannot quantize {}", input.display());
    let Some(auto) = auto else {
        let q = quantizer
            .quantize_counted(view, &hist)
            .with_context(cannot)?;
        return Ok((q, quantizer.clone(), None));
    };
    let (choice, q) = match auto.target {
        Some(t) => smallest_k(quantizer, view, &hist, t),
        None => knee_k(quantizer, view, &hist, KNEE_RANGE),
    }
    .with_context(cannot)?;
    Ok((q, quantizer.clone().with_k(choice.k), Some(choice)))
}

/// Quantizes one decoded image, encodes and writes it to `sink_for(k)`
/// for the k used, and reports.
#[allow(clippy::too_many_arguments)]
pub fn quantize_one(
    decoded: &Decoded,
    input: &Path,
    quantizer: &Quantizer,
    auto: Option<AutoK>,
    sink_for: impl Fn(usize) -> Result<Sink>,
    format: OutputFormat,
    common: &Common,
    mut seconds: Timings,
) -> Result<(Quantized, ImageReport)> {
    let start = Instant::now();
    let view: ImageRef<'_> = decoded.image.view();
    let (q, quantizer, choice) = quantize_auto(&view, input, quantizer, auto)?;
    seconds.quantize = start.elapsed().as_secs_f64();
    let sink = &sink_for(quantizer.params().k())?;
    let start = Instant::now();
    let bytes = pixmeans_io::encode(q.image(), format, common.compression)
        .with_context(|| format!("cannot encode {}", sink.display().display()))?;
    // Standard output cannot be left unwritten: the reader expects an image.
    let skipped = match sink {
        Sink::File(p) if common.skip_existing && p.exists() => Some(Skip::Exists),
        Sink::File(_) if common.skip_if_larger && bytes.len() as u64 >= decoded.file_bytes => {
            Some(Skip::Larger)
        }
        _ => None,
    };
    let written = skipped.is_none();
    let output_bytes = if written {
        write(sink, &bytes, common.force)?
    } else {
        bytes.len() as u64
    };
    seconds.encode = start.elapsed().as_secs_f64();
    seconds.total = seconds.decode + seconds.quantize + seconds.encode;
    let io = Provenance {
        input,
        output: sink.display(),
        input_format: decoded.format,
        input_profile: match &decoded.profile {
            ProfileUse::Converted { name } => Some(name),
            _ => None,
        },
        input_bytes: decoded.file_bytes,
        output_bytes,
        skipped,
        source_has_alpha: view.format() == pixmeans_core::PixelFormat::Rgba8,
    };
    let mut report = ImageReport::new(&q, &quantizer, &io, seconds, common.verbose);
    report.k_choice = choice.map(|c| KChoiceReport::new(&c, auto));
    // The file is written by now: a measurement that fails is a warning.
    if format == OutputFormat::Jpeg && written {
        let start = Instant::now();
        match lossy_file(&view, &bytes, sink.display()) {
            Ok(figures) => report.lossy_file = Some(figures),
            Err(e) => crate::print_message(&format!("warning: {}\n", crate::error_parts(&e).0)),
        }
        report.seconds.encode += start.elapsed().as_secs_f64();
        report.seconds.total += start.elapsed().as_secs_f64();
    }
    Ok((q, report))
}

/// The figures of an encoded lossy file against the original `view`: the
/// file decoded again, as whoever opens it sees it. An original with partly
/// transparent pixels is measured as the file shows it, over white.
fn lossy_file(view: &ImageRef<'_>, bytes: &[u8], name: &Path) -> Result<LossyFileReport> {
    // The file has the image's size, which was decoded within the limit.
    let limits = pixmeans_io::Limits::new(view.pixel_count() as u64);
    let decoded = pixmeans_io::decode_bytes(bytes, name, &limits)
        .with_context(|| format!("cannot decode {} again to measure it", name.display()))?;
    let file = decoded.image.view();
    let partly = view.format() == PixelFormat::Rgba8
        && view
            .data()
            .chunks_exact(4)
            .any(|p| p[3] != 0 && p[3] != 255);
    let on_white = partly.then(|| {
        // Fully transparent pixels stay so, and are left out as elsewhere.
        let rgba = view
            .data()
            .chunks_exact(4)
            .flat_map(|p| {
                let [r, g, b] = over_white([p[0], p[1], p[2], p[3]]);
                [r, g, b, if p[3] == 0 { 0 } else { 255 }]
            })
            .collect();
        pixmeans_core::Image::new(view.width(), view.height(), PixelFormat::Rgba8, rgba)
    });
    let original = match &on_white {
        Some(Ok(image)) => image.view(),
        _ => *view,
    };
    let mse = pixmeans_core::metrics::image_mse(&original, &file)
        .with_context(|| format!("{} decodes to another size", name.display()))?;
    let psnr = pixmeans_core::metrics::psnr(mse);
    Ok(LossyFileReport {
        mse,
        psnr: psnr.is_finite().then_some(psnr),
        colors: ColorHistogram::from_image(&file).len(),
    })
}

/// With `--json`, prints the line that stands for an input of a batch that
/// failed: `{"input": ..., "error": ...}`, the error as on standard error.
pub fn print_json_failure(json: bool, input: &Path, e: &anyhow::Error) -> Result<()> {
    #[derive(serde::Serialize)]
    struct Failure {
        input: String,
        error: String,
    }
    if !json {
        return Ok(());
    }
    let failure = Failure {
        input: input.display().to_string(),
        error: crate::error_parts(e).0,
    };
    print_json(&failure)
}

/// An input left alone by `--skip-existing`, its output being there
/// already; its `--json` line.
#[derive(Debug, serde::Serialize)]
pub struct Kept {
    input: String,
    output: String,
    written: bool,
    skipped: &'static str,
}

impl Kept {
    pub fn new(input: &Path, output: &Path) -> Self {
        Kept {
            input: input.display().to_string(),
            output: output.display().to_string(),
            written: false,
            skipped: Skip::Exists.reason(),
        }
    }

    /// Says so on standard error, and with `json` on standard output.
    pub fn show(&self, json: bool) -> Result<()> {
        crate::print_info(&format!(
            "{} -> {}, not written: {}\n",
            self.input, self.output, self.skipped
        ));
        if json {
            print_json(self)?;
        }
        Ok(())
    }
}

/// Prints one JSON report line on standard output.
pub fn print_json(report: &impl serde::Serialize) -> Result<()> {
    let line = serde_json::to_string(report).context("cannot format the JSON report")?;
    crate::print_data(&format!("{line}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_is_refused_as_the_image_to_read() {
        let message = format!("{:#}", refuse_terminal_input(true).unwrap_err());
        assert!(
            message.contains("standard input, which is a terminal") && message.contains("hint:"),
            "{message}"
        );
        assert!(refuse_terminal_input(false).is_ok());
    }
}
