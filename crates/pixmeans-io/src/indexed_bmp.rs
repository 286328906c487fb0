//! BMP output: 8-bit indices under the palette, or 32-bit RGBA with
//! transparency (a BMP colour table has no alpha that readers honour).
//!
//! The `image` crate's plain `write_image` takes RGB, three bytes a pixel;
//! its palette path stores one, a third of the file.

use image::codecs::bmp::BmpEncoder;
use image::{ExtendedColorType, ImageEncoder};
use pixmeans_core::IndexedImage;

use crate::encode::EncodeError;

/// Encodes `img` as an uncompressed BMP: 8-bit indices and a colour table
/// of the palette's entries when it is opaque, RGBA otherwise.
pub fn encode_bmp(img: &IndexedImage) -> Result<Vec<u8>, EncodeError> {
    let (width, height) = (img.width(), img.height());
    let mut out = Vec::new();
    let mut encoder = BmpEncoder::new(&mut out);
    let result = if img.palette().has_alpha() {
        encoder.write_image(&img.to_rgba(), width, height, ExtendedColorType::Rgba8)
    } else {
        let palette = img.palette().rgb();
        encoder.encode_with_palette(
            img.indices(),
            width,
            height,
            ExtendedColorType::L8,
            Some(&palette),
        )
    };
    result.map_err(|e| EncodeError::Encoder {
        format: "bmp",
        detail: e.to_string(),
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Limits, decode_bytes};
    use pixmeans_core::{Palette, PixelFormat};
    use std::path::Path;

    fn image(n: usize, transparent: bool, w: u32, h: u32) -> IndexedImage {
        let colors: Vec<[u8; 3]> = (0..n)
            .map(|i| [(i * 7) as u8, (255 - i) as u8, (i * 13) as u8])
            .collect();
        let palette = Palette::new(&colors, transparent).unwrap();
        let len = palette.len();
        let indices = (0..w * h)
            .map(|p| ((p * 3 + p / w) as usize % len) as u8)
            .collect();
        IndexedImage::new(w, h, palette, indices).unwrap()
    }

    #[test]
    fn an_opaque_image_is_one_byte_a_pixel_under_its_palette() {
        // Odd widths, so rows need padding to a multiple of 4 bytes.
        for (n, w, h) in [(1, 1, 1), (2, 5, 3), (16, 13, 7), (256, 30, 11)] {
            let img = image(n, false, w, h);
            let bytes = encode_bmp(&img).unwrap();
            let bits = u16::from_le_bytes([bytes[28], bytes[29]]);
            assert_eq!(bits, 8, "{n} colours");
            let table = 4 * n;
            let rows = w.next_multiple_of(4) * h;
            assert_eq!(bytes.len(), 14 + 40 + table + rows as usize, "{n} colours");

            let decoded = decode_bytes(&bytes, Path::new("t.bmp"), &Limits::default()).unwrap();
            assert_eq!(decoded.image.view().format(), PixelFormat::Rgb8);
            assert_eq!(decoded.image.view().data(), img.to_rgb().as_slice());
        }
    }

    #[test]
    fn transparency_is_kept_as_rgba() {
        let img = image(3, true, 9, 4);
        let bytes = encode_bmp(&img).unwrap();
        let decoded = decode_bytes(&bytes, Path::new("t.bmp"), &Limits::default()).unwrap();
        assert_eq!(decoded.image.view().format(), PixelFormat::Rgba8);
        assert_eq!(decoded.image.view().data(), img.to_rgba().as_slice());
    }
}
