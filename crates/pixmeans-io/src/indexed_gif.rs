//! GIF output: a single frame holding the indices as they are, under a
//! global colour table holding the palette.

use std::borrow::Cow;

use pixmeans_core::IndexedImage;

use crate::encode::EncodeError;

/// The largest width or height a GIF can store (16-bit fields).
const GIF_MAX_SIDE: u32 = u16::MAX as u32;

/// Encodes `img` as a single-frame GIF.
///
/// The global colour table is the palette, padded with black to the next
/// power of two of at least 2 entries, since GIF stores only those sizes;
/// the padding is never referenced. The palette's fully transparent entry,
/// if any, becomes the frame's transparent index. GIF has no partial
/// transparency: a partly transparent entry is written opaque from half
/// opacity up (alpha 128), and below that its pixels become transparent
/// (taking the index of the fully transparent entry, or else of the first
/// such entry); all other indices are written unchanged. Fails when a side
/// exceeds 65 535 pixels.
///
/// # Errors
///
/// - [`EncodeError::TooLargeForFormat`] when the width or height is above
///   65 535;
/// - [`EncodeError::Encoder`] when the gif crate reports an error.
pub fn encode_gif(img: &IndexedImage) -> Result<Vec<u8>, EncodeError> {
    let too_large = || EncodeError::TooLargeForFormat {
        format: "gif",
        width: img.width(),
        height: img.height(),
        max: GIF_MAX_SIDE,
    };
    let width = u16::try_from(img.width()).map_err(|_| too_large())?;
    let height = u16::try_from(img.height()).map_err(|_| too_large())?;

    let palette = img.palette();
    let table_len = palette.len().max(2).next_power_of_two();
    let mut table: Vec<u8> = palette.rgb().into_iter().flatten().collect();
    table.resize(table_len * 3, 0);

    let clear = |c: &[u8; 4]| c[3] < 128;
    let transparent = palette
        .transparent_index()
        .or_else(|| palette.colors().iter().position(clear))
        .and_then(|i| u8::try_from(i).ok());
    let buffer = match transparent {
        Some(t) if palette.colors().iter().filter(|c| clear(c)).count() > 1 => {
            let to: Vec<u8> = (0..=255u8)
                .map(|i| match palette.colors().get(usize::from(i)) {
                    Some(c) if clear(c) => t,
                    _ => i,
                })
                .collect();
            Cow::Owned(img.indices().iter().map(|&i| to[usize::from(i)]).collect())
        }
        _ => Cow::Borrowed(img.indices()),
    };
    let frame = gif::Frame {
        width,
        height,
        buffer,
        transparent,
        ..gif::Frame::default()
    };

    let mut encoder =
        gif::Encoder::new(Vec::new(), width, height, &table).map_err(|e| gif_error(&e))?;
    encoder.write_frame(&frame).map_err(|e| gif_error(&e))?;
    encoder.into_inner().map_err(|e| gif_error(&e))
}

fn gif_error(error: &gif::EncodingError) -> EncodeError {
    EncodeError::Encoder {
        format: "gif",
        detail: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Limits, decode_bytes};
    use pixmeans_core::{Palette, PixelFormat};
    use std::path::Path;

    fn image(n_opaque: usize, transparent: bool, w: u32, h: u32) -> IndexedImage {
        let colors: Vec<[u8; 3]> = (0..n_opaque)
            .map(|i| [(i * 40) as u8, (200 + i * 10) as u8, (i * 3) as u8])
            .collect();
        let palette = Palette::new(&colors, transparent).unwrap();
        let n = palette.len();
        let indices = (0..w * h)
            .map(|p| ((p * 5 + p / 3) as usize % n) as u8)
            .collect();
        IndexedImage::new(w, h, palette, indices).unwrap()
    }

    /// The indices, global palette and transparent index as the gif crate
    /// reads them back.
    fn decode_raw(bytes: &[u8]) -> (Vec<u8>, Vec<u8>, Option<u8>) {
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::Indexed);
        let mut decoder = options.read_info(std::io::Cursor::new(bytes)).unwrap();
        let palette = decoder.global_palette().unwrap().to_vec();
        let frame = decoder.read_next_frame().unwrap().unwrap();
        (frame.buffer.to_vec(), palette, frame.transparent)
    }

    #[test]
    fn indices_and_palette_round_trip_exactly() {
        for (n, table_len) in [(1, 2), (3, 4), (5, 8), (16, 16), (17, 32), (256, 256)] {
            let img = image(n, false, 13, 5);
            let bytes = encode_gif(&img).unwrap();
            let (indices, table, transparent) = decode_raw(&bytes);
            assert_eq!(indices, img.indices(), "{n} colours");
            assert_eq!(table.len(), table_len * 3, "{n} colours");
            let rgb: Vec<u8> = img.palette().rgb().into_iter().flatten().collect();
            assert_eq!(&table[..rgb.len()], rgb.as_slice());
            assert_eq!(transparent, None);

            let decoded = decode_bytes(&bytes, Path::new("t.gif"), &Limits::default()).unwrap();
            assert_eq!(decoded.format, "gif");
            assert_eq!(decoded.image.view().format(), PixelFormat::Rgb8);
            assert_eq!(decoded.image.view().data(), img.to_rgb().as_slice());
        }
    }

    #[test]
    fn the_transparent_entry_becomes_the_transparent_index() {
        let img = image(4, true, 7, 3);
        let bytes = encode_gif(&img).unwrap();
        let (indices, _, transparent) = decode_raw(&bytes);
        assert_eq!(indices, img.indices());
        assert_eq!(transparent, Some(4));

        let decoded = decode_bytes(&bytes, Path::new("t.gif"), &Limits::default()).unwrap();
        assert_eq!(decoded.image.view().format(), PixelFormat::Rgba8);
        let alpha: Vec<bool> = decoded
            .image
            .view()
            .data()
            .chunks(4)
            .map(|p| p[3] == 0)
            .collect();
        let expected: Vec<bool> = img.indices().iter().map(|&i| i == 4).collect();
        assert_eq!(alpha, expected);
    }

    #[test]
    fn partly_transparent_entries_become_opaque_or_transparent_at_half() {
        let colors = [
            [9, 9, 9, 255],
            [1, 2, 3, 127],
            [4, 5, 6, 128],
            [7, 8, 9, 10],
        ];
        for with_transparent in [false, true] {
            let palette = Palette::with_alpha(&colors, with_transparent).unwrap();
            let n = palette.len() as u8;
            let indices: Vec<u8> = (0..40).map(|p| p % n).collect();
            let img = IndexedImage::new(8, 5, palette, indices).unwrap();
            let (got, _, transparent) = decode_raw(&encode_gif(&img).unwrap());
            let t = if with_transparent { 4 } else { 1 };
            assert_eq!(transparent, Some(t));
            let want: Vec<u8> = img
                .indices()
                .iter()
                .map(|&i| if [1, 3, 4].contains(&i) { t } else { i })
                .collect();
            assert_eq!(got, want, "{with_transparent}");
        }
    }
}
