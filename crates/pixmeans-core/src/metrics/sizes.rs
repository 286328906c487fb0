//! What an indexed image takes in bytes, against its raw pixels.

use crate::image::{IndexedImage, PixelFormat};
use crate::palette::Palette;

/// How many bytes an image takes raw, and as packed indices plus a palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    /// Width × height × channels of the original (3 for RGB, 4 for RGBA).
    pub raw_bytes: u64,
    /// Bits per index: ⌈log2 palette length⌉ (0 for a single colour).
    pub index_bits: u32,
    /// Every index packed at `index_bits` bits, rounded up to whole bytes.
    pub packed_index_bytes: u64,
    /// 3 bytes per palette entry, 4 when the palette has transparency.
    pub palette_bytes: u64,
}

impl Sizes {
    /// The sizes of `indexed`, an indexed version of an image of `format`.
    pub fn of(indexed: &IndexedImage, format: PixelFormat) -> Self {
        Self::of_palette(indexed.width(), indexed.height(), indexed.palette(), format)
    }

    /// The sizes of a `width` × `height` image of `format` indexed with
    /// `pal`: what [`of`](Self::of) gives, known before any pixel is mapped.
    pub fn of_palette(width: u32, height: u32, pal: &Palette, format: PixelFormat) -> Self {
        let pixels = u64::from(width) * u64::from(height);
        let index_bits = pal.index_bits();
        Sizes {
            raw_bytes: pixels * format.channels() as u64,
            index_bits,
            packed_index_bytes: (pixels * u64::from(index_bits)).div_ceil(8),
            palette_bytes: pal.len() as u64 * if pal.has_alpha() { 4 } else { 3 },
        }
    }

    /// Packed indices plus palette.
    pub fn indexed_bytes(&self) -> u64 {
        self.packed_index_bytes + self.palette_bytes
    }

    /// How many times smaller the indexed form is than the raw one.
    pub fn ratio(&self) -> f64 {
        self.raw_bytes as f64 / self.indexed_bytes().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_pack_indices_at_ceil_log2_bits() {
        let pal = Palette::new(&[[0, 0, 0]; 5], false).unwrap();
        let img = IndexedImage::new(3, 3, pal, vec![0; 9]).unwrap();
        let s = Sizes::of(&img, PixelFormat::Rgb8);
        assert_eq!(
            (
                s.raw_bytes,
                s.index_bits,
                s.packed_index_bytes,
                s.palette_bytes
            ),
            (27, 3, 4, 15)
        );
        assert_eq!(s.indexed_bytes(), 19);
    }
}
