//! Exact weighted k-means on the colours of an image.
#![deny(missing_docs)]

pub mod color;
pub mod image;
pub mod palette;

pub use color::{ColorSpace, Point, UnknownColorSpace};
pub use image::{Image, ImageError, ImageRef, IndexedImage, PixelFormat};
pub use palette::{Palette, PaletteSize, PaletteSizeError};
