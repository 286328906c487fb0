//! Reading and writing images for pixmeans.
//!
//! This crate turns files into the 8-bit [`Image`](pixmeans_core::Image)s
//! that `pixmeans-core` quantizes, and its
//! [`IndexedImage`](pixmeans_core::IndexedImage)s back into files.
//!
//! - Reading: [`read_image`] (or [`decode_bytes`] for stdin) finds the format
//!   from the content (PNG, JPEG, GIF, BMP, TIFF, WebP), checks the size
//!   against [`Limits`] from the header before decoding any pixel, rejects
//!   truncated files, and returns RGB8, or RGBA8 when some pixel is
//!   transparent; of an animation or a multi-page file, the first frame,
//!   with [`Decoded::more_frames`] set. A photo whose colour profile puts it
//!   in another RGB space (Adobe RGB, Display P3) is converted to sRGB
//!   ([`Decoded::profile`]). Errors are [`ReadError`]s naming the file.
//! - Encoding: [`encode()`] picks by [`OutputFormat`] (see
//!   [`OutputFormat::from_path`]); [`encode_indexed_png`] writes a palette PNG
//!   at 1, 2, 4 or 8 bits a pixel, which the `image` crate cannot, and
//!   [`encode_gif`] a GIF holding the palette and indices exactly.
//! - Segmentation pictures: [`labels_png`] (8- or 16-bit grey) and
//!   [`labels_npy`], [`mask_png`], [`cutout_png`], [`overlay_png`] and
//!   [`mean_png`].
//! - Writing: [`write_atomic`] puts the bytes in place through a temporary
//!   file and a rename, and never overwrites unless asked.
//! - Plots ([`plot`]): the elbow curve, a grid of quantized versions and a
//!   3-D scatter of the pixels (PNG, or a self-contained HTML page), with
//!   text in a font compiled into the crate.
//!
//! # Example
//!
//! ```
//! use pixmeans_core::{IndexedImage, Palette};
//! use pixmeans_io::{PngCompression, encode_indexed_png};
//!
//! // A 3 x 2 image in black and white: one bit a pixel.
//! let palette = Palette::new(&[[0, 0, 0], [255, 255, 255]], false)?;
//! let image = IndexedImage::new(3, 2, palette, vec![0, 1, 0, 1, 0, 1])?;
//! let png = encode_indexed_png(&image, PngCompression::default())?;
//! assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What `pixmeans quantize photo.png -k 8 -o photo-8.png` does, in a few lines:
//!
//! ```
//! use pixmeans_core::{KMeansParams, Quantizer};
//! use pixmeans_io::{Limits, OutputFormat, PngCompression, encode, read_image, write_atomic};
//! # let dir = tempfile::tempdir()?;
//! # let photo = dir.path().join("photo.png");
//! # let gradient: Vec<u8> = (0..32u8).flat_map(|y| (0..32u8).flat_map(move |x| [x * 8, y * 8, 90])).collect();
//! # let img = pixmeans_core::Image::new(32, 32, pixmeans_core::PixelFormat::Rgb8, gradient)?;
//! # let q = Quantizer::new(KMeansParams::new(256)).quantize(&img.view())?;
//! # write_atomic(&photo, &encode(q.image(), OutputFormat::Png, PngCompression::Default)?, false)?;
//! let decoded = read_image(&photo, &Limits::default())?;
//! let quantized = Quantizer::new(KMeansParams::new(8)).quantize(&decoded.image.view())?;
//! let out = dir.path().join("photo-8.png");
//! let png = encode(quantized.image(), OutputFormat::from_path(&out)?, PngCompression::Default)?;
//! let written = write_atomic(&out, &png, false)?;
//! println!("PSNR {:.1} dB, {written} bytes", quantized.psnr());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! And what `pixmeans segment photo.png -k 4 --only masks,npy -o parts/`
//! does: a label array (`.npy`) and one mask per cluster, largest first
//! (named here by index alone; segment adds the colour, zero-padded index
//! and all).
//!
//! ```
//! use pixmeans_core::{KMeansParams, Quantizer, Segmenter};
//! use pixmeans_io::{Limits, PngCompression, labels_npy, mask_png, read_image, write_atomic};
//! # let dir = tempfile::tempdir()?;
//! # let photo = dir.path().join("photo.png");
//! # let halves: Vec<u8> = (0..32u8).flat_map(|_| (0..32u8).flat_map(|x| if x < 20 { [200, 30, 30] } else { [20, 40, 180] })).collect();
//! # let img = pixmeans_core::Image::new(32, 32, pixmeans_core::PixelFormat::Rgb8, halves)?;
//! # let q = Quantizer::new(KMeansParams::new(2)).quantize(&img.view())?;
//! # let parts = dir.path().join("parts");
//! # std::fs::create_dir(&parts)?;
//! # write_atomic(&photo, &pixmeans_io::encode(q.image(), pixmeans_io::OutputFormat::Png, PngCompression::Default)?, false)?;
//! let decoded = read_image(&photo, &Limits::default())?;
//! let seg = Segmenter::new(Quantizer::new(KMeansParams::new(4))).segment(&decoded.image.view())?;
//! write_atomic(&parts.join("labels.npy"), &labels_npy(seg.labels()), false)?;
//! for (i, cluster) in seg.clusters().iter().enumerate() {
//!     let png = mask_png(seg.labels(), i as u32, PngCompression::Default)?;
//!     write_atomic(&parts.join(format!("mask-{i}.png")), &png, false)?;
//!     println!("{i}: {:?}, {} pixels in {} regions", cluster.color, cluster.pixels, cluster.regions);
//! }
//! # assert_eq!(seg.clusters().len(), 2);
//! # assert_eq!(seg.clusters()[0].pixels, 20 * 32);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod color_profile;
mod decoder_gaps;
mod deflated_tiff;
mod encode;
mod indexed_bmp;
mod indexed_gif;
mod indexed_png;
mod jpeg_structure;
mod multi_frame;
mod npy;
mod palette_file;
mod parallel_deflate;
mod photo_png;
pub mod plot;
mod read;
mod read_error;
mod row_filter;
mod segment_images;
#[cfg(test)]
mod test_noise;
mod write;

pub use color_profile::ProfileUse;
pub use encode::{EncodeError, JPEG_QUALITY, OutputFormat, encode};
pub use indexed_gif::encode_gif;
pub use indexed_png::{PngCompression, encode_indexed_png};
pub use npy::labels_npy;
pub use palette_file::{Swatch, gimp_palette, swatch_image};
pub use plot::{ChartFormat, PlotError};
pub use read::{DEFAULT_MAX_PIXELS, Decoded, Limits, decode_bytes, read_from, read_image};
pub use read_error::ReadError;
pub use segment_images::{
    OVERLAY_TINT, cutout_png, label_bits, labels_png, mask_png, mean_png, overlay_png,
};
pub use write::{
    Staged, WriteError, WritingStopped, check_folder, commit_together, file_in_the_way, stage,
    stop_writing, write_atomic,
};
