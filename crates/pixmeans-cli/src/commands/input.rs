//! Reading an input: the source a path names, decoding with the limits
//! asked for, and the warnings an image calls for.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::Path;

use anyhow::Result;

use pixmeans_core::{AlphaMode, PixelFormat};
use pixmeans_io::{Decoded, ProfileUse};
use rayon::prelude::*;

use crate::config::{Common, Source};
use crate::report::counted;

/// The source an input path names (`-` for standard input).
pub fn source_of(input: &Path) -> Source {
    if input.as_os_str() == "-" {
        Source::Stdin
    } else {
        Source::File(input.to_path_buf())
    }
}

/// The last part of a path, for titles and captions.
pub fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
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
