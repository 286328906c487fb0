//! Exact weighted k-means on the colours of an image.
//!
//! `pixmeans-core` reduces an image to k colours: it counts the image's
//! distinct colours ([`ColorHistogram`]), runs k-means on them weighted by
//! their pixel counts ([`KMeansParams`] → [`Fit`]), and maps every pixel to
//! its nearest centroid ([`IndexedImage`]). The weighted fit has the same
//! objective, iterations and labels as k-means on every pixel, but costs in
//! distinct colours, which a photo has far fewer of than pixels.
//!
//! Start with [`Quantizer`]: an image in, an indexed image and its quality
//! figures (inertia, MSE, PSNR) out; [`Quantizer::with_dither`] maps the
//! pixels by error diffusion instead ([`Dither`]). To split an image into regions (label
//! map, connected regions, small ones merged, figures per cluster), use
//! [`Segmenter`] (see [`segment`]). The crate does no I/O; `pixmeans-io`
//! reads and writes files.
//!
//! ```
//! use pixmeans_core::{ColorSpace, ImageRef, KMeansParams, PixelFormat, Quantizer, Sizes};
//!
//! // A 64 x 64 gradient: 4096 distinct colours.
//! let pixels: Vec<u8> = (0..64u8).flat_map(|y| (0..64u8).flat_map(move |x| [x * 4, y * 4, 128])).collect();
//! let image = ImageRef::new(64, 64, PixelFormat::Rgb8, &pixels)?;
//!
//! let quantized = Quantizer::new(KMeansParams::new(16).with_seed(42))
//!     .with_color_space(ColorSpace::Oklab)
//!     .quantize(&image)?;
//!
//! let indexed = quantized.image();
//! assert_eq!(indexed.palette().len(), 16);
//! assert_eq!(indexed.indices().len(), 64 * 64);
//! // 22.3 dB: Oklab spends its 16 colours where eyes see differences, so
//! // its error in RGB is above that of a fit in sRGB (24.6 dB here).
//! assert!(quantized.psnr() > 22.0);
//! // 4 bits per pixel plus a 48-byte palette, against 3 bytes per pixel raw.
//! let sizes = Sizes::of(indexed, PixelFormat::Rgb8);
//! assert_eq!(sizes.indexed_bytes(), 64 * 64 / 2 + 48);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod choose_k;
pub mod color;
pub mod dither;
pub mod histogram;
pub mod image;
pub mod kmeans;
pub mod metrics;
pub mod opacity;
pub mod palette;
pub mod quantize;
pub mod sample;
pub mod segment;

pub use choose_k::{KChoice, KTarget, Trial, knee, knee_k, smallest_k};
pub use color::{ColorSpace, Point, UnknownColorSpace};
pub use dither::Dither;
pub use histogram::ColorHistogram;
pub use image::{Image, ImageError, ImageRef, IndexedImage, PixelFormat};
pub use kmeans::{Fit, Init, Iteration, KMeansError, KMeansParams, LloydStep};
pub use metrics::{DeltaE, Sizes};
pub use opacity::AlphaMode;
pub use palette::{Palette, PaletteOrder, PaletteSize, PaletteSizeError, palette_order};
pub use quantize::{QuantizeError, Quantized, QuantizedColors, Quantizer};
pub use sample::sample_positions;
pub use segment::{
    BoundingBox, Cluster, Connectivity, FitSummary, LabelMap, Regions, SegmentError, Segmentation,
    Segmenter,
};
