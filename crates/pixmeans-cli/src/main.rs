//! The `pixmeans` command: thin glue from what the user typed to the
//! libraries. Messages go to standard error, data to standard output.

// Printing is this binary's job.
#![allow(clippy::print_stdout, clippy::print_stderr)]
// The arguments' doc comments are `--help` text, where `<name>` stands for
// a value the user types, not for an HTML tag.
#![allow(rustdoc::invalid_html_tags)]

mod args;
mod commands;
mod config;
mod k_list;
mod quantize_config;
mod report;
mod segment_config;
mod segment_files;
mod segment_report;

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::Parser;

use crate::args::{Cli, Command};
use crate::commands::Outcome;
use crate::config::Common;
use crate::quantize_config::QuantizeConfig;
use crate::segment_config::SegmentConfig;

fn main() -> ExitCode {
    on_stop_remove_unfinished_files();
    let cli = Cli::parse();
    match run(&cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::PartialFailure) => ExitCode::from(1),
        Ok(Outcome::Failure) => ExitCode::from(2),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            print_error(&e);
            ExitCode::from(2)
        }
    }
}

/// Ctrl-C (SIGINT) and requests to terminate (SIGTERM) leave whole files
/// only: a thread waits for them, removes the temporary files of those
/// being written (a set of files being put in place, segment's, goes in
/// whole first), and then ends the process as the signal would have, so a
/// shell loop stops and a parent sees the signal. A signal the process was
/// started ignoring (`nohup`, a script's `cmd &`) stays ignored; where the
/// wait cannot be set up, the system's default stops the process as before.
fn on_stop_remove_unfinished_files() {
    use signal_hook::consts::{SIGINT, SIGTERM, SIGXFSZ};
    // A write past the file size limit (`ulimit -f`) would end the process
    // by SIGXFSZ and leave its temporary file; with the signal caught, the
    // write fails instead, and the error path removes the file and says
    // "File too large".
    let _ = signal_hook::flag::register(
        SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    let watched: Vec<i32> = [SIGINT, SIGTERM]
        .into_iter()
        .filter(|&s| !ignored_at_start(s))
        .collect();
    let Ok(mut signals) = signal_hook::iterator::Signals::new(&watched) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let _stopped = pixmeans_io::stop_writing();
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                std::process::exit(128 + signal);
            }
        });
}

/// Whether the process was started with `signal` ignored, as Linux says in
/// `/proc/self/status` (elsewhere taken as not ignored).
fn ignored_at_start(signal: i32) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| (1..=64).contains(&signal) && mask & (1 << (signal - 1)) != 0)
}

fn run(cli: &Cli) -> Result<Outcome> {
    let common_args = match &cli.command {
        Command::Quantize(a) => &a.common,
        Command::Palette(a) => &a.common,
        Command::Segment(a) => &a.common,
        Command::Demo(a) => &a.common,
        Command::Elbow(a) => &a.common,
        Command::Grid(a) => &a.common,
        Command::Scatter(a) => &a.common,
    };
    QUIET.store(common_args.quiet, Ordering::Relaxed);
    if let Some(n) = common_args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global()
            .with_context(|| format!("cannot start {n} worker threads"))?;
    }
    match &cli.command {
        Command::Quantize(a) => {
            commands::quantize::run(&settings_of(&a.inputs, common_args.json, || {
                QuantizeConfig::resolve(a)
            })?)
        }
        Command::Palette(a) => {
            commands::one_input(&a.input, common_args.json, || commands::palette::run(a))
        }
        Command::Segment(a) => {
            commands::segment::run(&settings_of(&a.inputs, common_args.json, || {
                SegmentConfig::resolve(a)
            })?)
        }
        Command::Demo(a) => {
            commands::demo::run(&a.output, &Common::resolve(&a.common)?.with_png(&a.png))
        }
        Command::Elbow(a) => {
            commands::one_input(&a.input, common_args.json, || commands::elbow::run(a))
        }
        Command::Grid(a) => {
            commands::one_input(&a.input, common_args.json, || commands::grid::run(a))
        }
        Command::Scatter(a) => {
            commands::one_input(&a.input, common_args.json, || commands::scatter::run(a))
        }
    }
}

/// A command's settings, resolved; refused for a lone input under `--json`,
/// with that input's `{"input", "error"}` line, as every command's
/// failure for its input is.
fn settings_of<T>(
    inputs: &[std::path::PathBuf],
    json: bool,
    resolve: impl FnOnce() -> Result<T>,
) -> Result<T> {
    match inputs {
        [input] => commands::one_input(input, json, resolve),
        _ => resolve(),
    }
}

/// Prints `error: ` and the whole cause chain on one line, then any hints
/// (a message part after "\nhint: ") on lines of their own.
pub fn print_error(e: &anyhow::Error) {
    let (error, hints) = error_parts(e);
    let mut msg = format!("error: {error}\n");
    for h in hints {
        msg.push_str("hint: ");
        msg.push_str(&h);
        msg.push('\n');
    }
    print_message(&msg);
}

/// The whole cause chain of `e` on one line, and its hints apart.
pub fn error_parts(e: &anyhow::Error) -> (String, Vec<String>) {
    let mut causes = Vec::new();
    let mut hints = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        let mut parts = text.split("\nhint: ");
        if let Some(first) = parts.next() {
            causes.push(first.to_owned());
        }
        hints.extend(parts.map(str::to_owned));
    }
    causes.dedup();
    (causes.join(": "), hints)
}

/// Writes a message to standard error.
pub fn print_message(msg: &str) {
    let _ = std::io::stderr().lock().write_all(msg.as_bytes());
}

/// Whether `--quiet` was given: set once in [`run`], before any work.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Whether summaries, notes and progress bars are to be left out.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Writes a summary or a note to standard error, unless `--quiet`.
pub fn print_info(msg: &str) {
    if !quiet() {
        print_message(msg);
    }
}

/// Writes data to standard output.
///
/// # Errors
///
/// When writing or flushing standard output fails, for example once it is a
/// closed pipe (see [`is_broken_pipe`]), with the context "cannot write to
/// standard output".
pub fn print_data(data: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(data.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

/// Whether the error is a closed standard output (a broken pipe).
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<std::io::Error>())
        .any(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}
