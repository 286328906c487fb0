//! `pixmeans quantize`: every input to k colours, written in the format its
//! output asks for.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use super::{Outcome, check_clobber, print_json, quantize_one, read};
use crate::config::{Job, QuantizeConfig};
use crate::report::ImageReport;

pub fn run(cfg: &QuantizeConfig) -> Result<Outcome> {
    let Some(dir) = &cfg.out_dir else {
        return run_jobs(cfg);
    };
    // The folders this run makes, innermost first; removed again (if still
    // empty) when no image gets written into them.
    let made: Vec<&Path> = dir
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty())
        .take_while(|a| !a.exists())
        .collect();
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output folder {}", dir.display()))?;
    let outcome = run_jobs(cfg);
    if !matches!(outcome, Ok(Outcome::Success | Outcome::PartialFailure)) {
        for folder in made {
            // Fails, and so keeps the folder, once anything is in it.
            if std::fs::remove_dir(folder).is_err() {
                break;
            }
        }
    }
    outcome
}

fn run_jobs(cfg: &QuantizeConfig) -> Result<Outcome> {
    if cfg.jobs.len() == 1 {
        let (trace, report) = one(&cfg.jobs[0], cfg)?;
        show(trace.as_deref(), &report, cfg)?;
        return Ok(Outcome::Success);
    }
    Ok(super::run_batch(
        &cfg.jobs,
        |job| job.source.display().display().to_string(),
        |job| one(job, cfg),
        |(trace, report)| show(trace.as_deref(), report, cfg),
    ))
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
