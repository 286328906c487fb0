//! Decodes one image with the decoder `pixmeans quantize` uses, and nothing
//! else: the floor of the end-to-end target in docs/benchmarks.md.
//!
//! ```text
//! cargo run --release -p pixmeans-io --example decode -- PHOTO
//! ```
//!
//! It prints the decoded size, so the work cannot be optimised away.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use anyhow::{Context, Result};
use pixmeans_io::{Limits, read_image};

fn main() -> Result<()> {
    let path = PathBuf::from(std::env::args().nth(1).context("usage: decode PHOTO")?);
    let decoded = read_image(&path, &Limits::default())?;
    println!("{} pixels", decoded.image.view().pixel_count());
    Ok(())
}
