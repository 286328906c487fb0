//! Quality and size figures, computed the way the peers compute them.
//!
//! MSE is the mean over pixels and channels of the squared error in 8-bit
//! RGB and PSNR is 10·log10(255² / MSE), as scikit-image's
//! `mean_squared_error` and `peak_signal_noise_ratio` define them.

use crate::histogram::ColorHistogram;
use crate::image::{ImageRef, IndexedImage, PixelFormat};

/// MSE of mapping each histogram colour to `palette[labels[i]]`: exact, and
/// computed per distinct colour instead of per pixel. Fully transparent
/// pixels are left out; an image without opaque pixels has MSE 0.
pub fn histogram_mse(hist: &ColorHistogram, labels: &[u32], palette: &[[u8; 3]]) -> f64 {
    let total = hist.total_opaque();
    if total == 0 {
        return 0.0;
    }
    let sse: u64 = hist
        .iter()
        .zip(labels)
        .map(|((c, n), &l)| n * squared_error(c, palette[l as usize]))
        .sum();
    sse as f64 / (3.0 * total as f64)
}

/// MSE between an image and its indexed version, pixel by pixel, over the
/// pixels that are not fully transparent in the original.
pub fn pixel_mse(original: &ImageRef<'_>, indexed: &IndexedImage) -> f64 {
    let pal = indexed.palette().colors();
    let ch = original.format().channels();
    let (mut sse, mut n) = (0u64, 0u64);
    for (p, &i) in original.data().chunks_exact(ch).zip(indexed.indices()) {
        if original.format() == PixelFormat::Rgba8 && p[3] == 0 {
            continue;
        }
        let [r, g, b, _] = pal[usize::from(i)];
        sse += squared_error([p[0], p[1], p[2]], [r, g, b]);
        n += 1;
    }
    if n == 0 {
        0.0
    } else {
        sse as f64 / (3.0 * n as f64)
    }
}

fn squared_error(a: [u8; 3], b: [u8; 3]) -> u64 {
    (0..3).map(|c| u64::from(a[c].abs_diff(b[c])).pow(2)).sum()
}

/// Peak signal-to-noise ratio in dB for 8-bit data; infinite when `mse` is 0.
pub fn psnr(mse: f64) -> f64 {
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

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
        let pixels = u64::from(indexed.width()) * u64::from(indexed.height());
        let pal = indexed.palette();
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
    use crate::palette::Palette;

    #[test]
    fn psnr_of_known_errors() {
        assert!(psnr(0.0).is_infinite());
        assert!((psnr(255.0 * 255.0) - 0.0).abs() < 1e-12);
        assert!((psnr(65.025) - 30.0).abs() < 1e-9);
    }

    #[test]
    fn histogram_and_pixel_mse_agree() {
        let px = [[10, 0, 0], [20, 0, 0], [20, 0, 0], [0, 0, 200]].concat();
        let img = ImageRef::new(2, 2, PixelFormat::Rgb8, &px).unwrap();
        let hist = ColorHistogram::from_image(&img);
        // colours sorted: [0,0,200], [10,0,0], [20,0,0] -> palette 1, 0, 0
        let palette = [[15, 0, 0], [0, 0, 190]];
        let h = histogram_mse(&hist, &[1, 0, 0], &palette);
        let pal = Palette::new(&palette, false).unwrap();
        let indexed = IndexedImage::new(2, 2, pal, vec![0, 0, 0, 1]).unwrap();
        let p = pixel_mse(&img, &indexed);
        assert!((h - p).abs() < 1e-12);
        assert!((h - (25.0 + 25.0 + 25.0 + 100.0) / 12.0).abs() < 1e-12);
    }

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
