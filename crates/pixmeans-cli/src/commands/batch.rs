//! Running a command over its inputs: a few at a time on the thread pool,
//! reported in order, with a progress bar and a JSON line for each.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use crate::report::Skip;

use super::{Outcome, source_of};

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
