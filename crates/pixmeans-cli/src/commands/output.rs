//! Writing outputs: where a picture goes, folders made on the way, and
//! files that are never clobbered nor left half-written.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::quantize_config::Sink;

use super::source_of;

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

/// Bytes as people read them: `812 B`, `31.9 kB`, `1.25 MB` (powers of 1000).
pub fn human_bytes(n: u64) -> String {
    match n {
        0..1000 => format!("{n} B"),
        1000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        _ => format!("{:.2} MB", n as f64 / 1e6),
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
