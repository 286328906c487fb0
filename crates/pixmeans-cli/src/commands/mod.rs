//! One module per subcommand, plus the steps they share.

pub mod demo;
pub mod palette;
pub mod quantize;

use std::io::{Read, Write};
use std::time::Instant;

use anyhow::{Context, Result};
use pixmeans_core::{ImageRef, Quantized, Quantizer};
use pixmeans_io::{Decoded, OutputFormat};

use crate::config::{Common, Sink, Source};
use crate::report::{ImageReport, Provenance, Timings};

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

/// Reads and decodes one input.
pub fn read(source: &Source, common: &Common) -> Result<Decoded> {
    Ok(match source {
        Source::File(p) => pixmeans_io::read_image(p, &common.limits).map_err(with_limit_hint)?,
        Source::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .read_to_end(&mut bytes)
                .context("cannot read standard input")?;
            pixmeans_io::decode_bytes(&bytes, source.display(), &common.limits)
                .map_err(with_limit_hint)?
        }
    })
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

/// Refuses, before any work, to replace a file without `--force`.
pub fn check_clobber(sink: &Sink, force: bool) -> Result<()> {
    if let Sink::File(p) = sink
        && !force
        && p.exists()
    {
        anyhow::bail!(
            "{} already exists\nhint: add --force to replace it",
            p.display()
        );
    }
    Ok(())
}

/// Writes encoded bytes to their sink; returns the byte count.
pub fn write(sink: &Sink, bytes: &[u8], force: bool) -> Result<u64> {
    match sink {
        Sink::File(p) => Ok(pixmeans_io::write_atomic(p, bytes, force)?),
        Sink::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)
                .and_then(|()| out.flush())
                .context("cannot write to standard output")?;
            Ok(bytes.len() as u64)
        }
    }
}

/// Quantizes one decoded image, encodes and writes it, and reports.
pub fn quantize_one(
    decoded: &Decoded,
    input: &std::path::Path,
    quantizer: &Quantizer,
    sink: &Sink,
    format: OutputFormat,
    common: &Common,
    mut seconds: Timings,
) -> Result<(Quantized, ImageReport)> {
    let start = Instant::now();
    let view: ImageRef<'_> = decoded.image.view();
    let q = quantizer
        .quantize(&view)
        .with_context(|| format!("cannot quantize {}", input.display()))?;
    seconds.quantize = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let bytes = pixmeans_io::encode(q.image(), format, common.compression)
        .with_context(|| format!("cannot encode {}", sink.display().display()))?;
    let output_bytes = write(sink, &bytes, common.force)?;
    seconds.encode = start.elapsed().as_secs_f64();
    seconds.total = seconds.decode + seconds.quantize + seconds.encode;
    let io = Provenance {
        input,
        output: sink.display(),
        input_format: decoded.format,
        input_bytes: decoded.file_bytes,
        output_bytes,
        source_has_alpha: view.format() == pixmeans_core::PixelFormat::Rgba8,
    };
    let report = ImageReport::new(&q, quantizer, &io, seconds, common.verbose);
    Ok((q, report))
}

/// Prints one JSON report line on standard output.
pub fn print_json(report: &ImageReport) -> Result<()> {
    let line = serde_json::to_string(report).context("cannot format the JSON report")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").context("cannot write to standard output")?;
    Ok(())
}
