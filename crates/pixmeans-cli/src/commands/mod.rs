//! One module per subcommand, plus the steps they share: reading an
//! input (`input`), writing outputs (`output`), running over a batch
//! (`batch`), and here quantizing one image, at a k given or searched for.

pub mod demo;
pub mod elbow;
pub mod grid;
pub mod palette;
pub mod quantize;
pub mod scatter;
pub mod segment;

mod batch;
mod input;
mod output;

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use pixmeans_core::opacity::over_white;
use pixmeans_core::{
    ColorHistogram, ImageRef, KChoice, PixelFormat, Quantized, Quantizer, knee_k, smallest_k,
};
use pixmeans_io::{Decoded, OutputFormat, ProfileUse};

use crate::config::{AutoK, Common, KNEE_RANGE};
use crate::quantize_config::Sink;
use crate::report::{ImageReport, KChoiceReport, LossyFileReport, Provenance, Skip, Timings};

pub use batch::{Kept, one_input, print_json, progress, run_inputs};
pub use input::{file_name, input_warnings, read, read_one, source_of};
pub use output::{
    check_clobber, human_bytes, make_folders, picture_output, remove_empty_folders, write,
    write_picture,
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
        psnr: crate::report::json_psnr(psnr),
        colors: ColorHistogram::from_image(&file).len(),
    })
}
