//! `pixmeans quantize`: every input to k colours, written in the format its
//! output asks for.

use std::time::Instant;

use anyhow::Result;
use pixmeans_io::OutputFormat;

use super::{
    Kept, Outcome, check_clobber, input_warnings, make_folders, print_json, quantize_one, read,
    remove_empty_folders,
};
use crate::quantize_config::{Job, QuantizeConfig, Sink};
use crate::report::ImageReport;

/// What came of one job.
enum Done {
    /// Quantized: what to print before the report, and the report.
    Quantized(Option<String>, Box<ImageReport>),
    /// Not read: `--skip-existing`, and its output is there already.
    Kept(Kept),
}

pub fn run(cfg: &QuantizeConfig) -> Result<Outcome> {
    let Some(dir) = &cfg.out_dir else {
        return run_jobs(cfg);
    };
    let made = make_folders(dir)?;
    let outcome = run_jobs(cfg);
    // Folders this run made and left empty (every input failed, or was
    // skipped by --skip-if-larger) go again.
    remove_empty_folders(&made);
    outcome
}

fn run_jobs(cfg: &QuantizeConfig) -> Result<Outcome> {
    super::run_inputs(
        &cfg.jobs,
        cfg.common.json,
        |job| job.source.display(),
        |job| one(job, cfg),
        |done| show(done, cfg),
    )
}

/// Quantizes one job: what to print before the report (the warnings about
/// the input or about transparency a JPEG output loses, the `--verbose`
/// trace), and the report. Under `--skip-existing` a job whose output is
/// there already is not read.
fn one(job: &Job, cfg: &QuantizeConfig) -> Result<Done> {
    let common = &cfg.common;
    if !job.name_waits_for_k {
        if let Sink::File(p) = &job.sink
            && common.skip_existing
            && p.exists()
        {
            return Ok(Done::Kept(Kept::new(job.source.display(), p)));
        }
        cfg.refuse_left_out(&job.sink)?;
        check_clobber(&job.sink, common.force)?;
        if let Sink::File(p) = &job.sink
            && let Some(folder) = p.parent()
        {
            crate::config::refuse_file_as_folder(p, folder)?;
        }
    }
    let start = Instant::now();
    let decoded = read(&job.source, common)?;
    let warning = input_warnings(&job.source, &decoded, cfg.quantizer.alpha());
    let seconds = crate::report::Timings {
        decode: start.elapsed().as_secs_f64(),
        ..Default::default()
    };
    let (q, report) = quantize_one(
        &decoded,
        job.source.display(),
        &cfg.quantizer,
        cfg.auto,
        |k| {
            let sink = job.sink_for(k);
            // A fixed name was checked before any work.
            if job.name_waits_for_k {
                cfg.refuse_left_out(&sink)?;
            }
            Ok(sink)
        },
        job.format,
        common,
        seconds,
    )?;
    // JPEG stores no alpha: encode() puts transparent pixels on white.
    let on_white = (job.format == OutputFormat::Jpeg && (report.transparent || report.opacity))
        .then(|| {
            format!(
                "warning: {} has no transparency (JPEG), so the transparent pixels of {} are written white{}\n",
                report.output,
                report.input,
                if report.opacity { " (partly transparent ones blended onto white)" } else { "" }
            )
        });
    // GIF has one transparent index: encode() makes partly transparent
    // entries opaque or transparent.
    let partly = q
        .image()
        .palette()
        .colors()
        .iter()
        .any(|c| c[3] > 0 && c[3] < 255);
    let on_off = (job.format == OutputFormat::Gif && partly).then(|| {
        format!(
            "warning: {} has no partial transparency (GIF), so the partly transparent palette entries of {} are written opaque from half opacity up and transparent below; the reported figures are those of the palette\n",
            report.output, report.input
        )
    });
    let trace = common.verbose.then(|| ImageReport::trace(&q));
    let notes: String = [warning, on_white, on_off, trace]
        .into_iter()
        .flatten()
        .collect();
    Ok(Done::Quantized(
        (!notes.is_empty()).then_some(notes),
        Box::new(report),
    ))
}

/// Prints the trace and summary on standard error, and the JSON line.
fn show(done: &Done, cfg: &QuantizeConfig) -> Result<()> {
    match done {
        Done::Quantized(trace, report) => {
            if let Some(trace) = trace {
                crate::print_message(trace);
            }
            crate::print_info(&report.human());
            if cfg.common.json {
                print_json(report)?;
            }
        }
        Done::Kept(kept) => kept.show(cfg.common.json)?,
    }
    Ok(())
}
