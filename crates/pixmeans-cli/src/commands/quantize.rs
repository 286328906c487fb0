//! `pixmeans quantize`: every input to k colours, written in the format its
//! output asks for.

use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use super::{Outcome, check_clobber, print_json, quantize_one, read};
use crate::config::{Job, QuantizeConfig};
use crate::report::ImageReport;

pub fn run(cfg: &QuantizeConfig) -> Result<Outcome> {
    if let Some(dir) = &cfg.out_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create output folder {}", dir.display()))?;
    }
    if cfg.jobs.len() == 1 {
        let (trace, report) = one(&cfg.jobs[0], cfg)?;
        show(trace.as_deref(), &report, cfg)?;
        return Ok(Outcome::Success);
    }
    // Progress goes to standard error and only to a terminal: indicatif hides
    // it when standard error is not one.
    let bar = ProgressBar::new(cfg.jobs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut failed = 0;
    for job in &cfg.jobs {
        bar.set_message(job.source.display().display().to_string());
        // Printing while the bar is hidden keeps stale bars out of the scrollback.
        let shown = one(job, cfg)
            .and_then(|(trace, report)| bar.suspend(|| show(trace.as_deref(), &report, cfg)));
        match shown {
            // Whoever read our output has gone (`... | head`): stop quietly.
            Err(e) if crate::is_broken_pipe(&e) => break,
            Err(e) => {
                bar.suspend(|| crate::print_error(&e));
                failed += 1;
            }
            Ok(()) => {}
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(match failed {
        0 => Outcome::Success,
        n if n == cfg.jobs.len() => Outcome::Failure,
        _ => Outcome::PartialFailure,
    })
}

/// Quantizes one job: the `--verbose` trace (if asked for) and the report.
fn one(job: &Job, cfg: &QuantizeConfig) -> Result<(Option<String>, ImageReport)> {
    let common = &cfg.common;
    check_clobber(&job.sink, common.force)?;
    let start = Instant::now();
    let decoded = read(&job.source, common)?;
    let seconds = crate::report::Timings {
        decode: start.elapsed().as_secs_f64(),
        ..Default::default()
    };
    let (q, report) = quantize_one(
        &decoded,
        job.source.display(),
        &cfg.quantizer,
        cfg.auto,
        &job.sink,
        job.format,
        common,
        seconds,
    )?;
    Ok((common.verbose.then(|| ImageReport::trace(&q)), report))
}

/// Prints the trace and summary on standard error, and the JSON line.
fn show(trace: Option<&str>, report: &ImageReport, cfg: &QuantizeConfig) -> Result<()> {
    if let Some(trace) = trace {
        crate::print_message(trace);
    }
    crate::print_message(&report.human());
    if cfg.common.json {
        print_json(report)?;
    }
    Ok(())
}
