//! Exact weighted k-means on the colours of an image.
#![deny(missing_docs)]

pub mod color;
pub mod histogram;
pub mod image;
pub mod kmeans;
pub mod metrics;
pub mod palette;
pub mod quantize;

pub use color::{ColorSpace, Point, UnknownColorSpace};
pub use histogram::ColorHistogram;
pub use image::{Image, ImageError, ImageRef, IndexedImage, PixelFormat};
pub use kmeans::{Fit, Init, Iteration, KMeansError, KMeansParams};
pub use metrics::Sizes;
pub use palette::{Palette, PaletteSize, PaletteSizeError};
pub use quantize::{QuantizeError, Quantized, Quantizer};
