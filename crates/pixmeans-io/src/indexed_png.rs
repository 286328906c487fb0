//! Indexed (palette) PNG: the smallest lossless file for a quantized image,
//! which the `image` crate cannot write.
//!
//! Each pixel is stored as its palette index at 1, 2, 4 or 8 bits, whichever
//! is the fewest that hold the palette. The PLTE chunk holds exactly the
//! palette's entries; a tRNS chunk is added only when some entry is not
//! opaque, and only up to the last such entry (PNG treats the rest as
//! opaque).

use pixmeans_core::IndexedImage;

use crate::encode::{EncodeError, write_png};
use crate::parallel_deflate;

/// The most compressed bytes put in one IDAT chunk.
const IDAT_CHUNK_BYTES: usize = 1 << 20;

/// How hard the PNG encoder works to make the file small.
///
/// Every level writes rows unfiltered. PNG's filters predict a byte from its
/// neighbours, which suits photographs but not palette indices, whose
/// numeric differences mean nothing. Measured on `assets/coffee.png`
/// (600 x 400) quantized to 16 colours, at 4 bits a pixel, zlib level 6:
/// no filter 48 456 bytes; adaptive (the png crate's default) 58 522; up
/// 58 374; sub 58 776; paeth 60 165; average 70 117. No filter is also the
/// smallest at 4, 64 and 256 colours and at levels 1, 3 and 9.
///
/// The levels are zlib's, as zlib-rs implements them. Measured on sunset.jpg
/// (4272 x 2848) quantized to 16 colours (6.1 MB of rows at 4 bits a pixel),
/// one thread: level 2 gives 719 kB in 49 ms, level 5 630 kB in 117 ms,
/// level 6 619 kB in 225 ms, level 9 578 kB in 1.31 s. At 256 colours
/// (12.2 MB of rows): 3.25 MB in 137 ms, 2.84 MB in 327 ms, 2.79 MB in
/// 524 ms and 2.73 MB in 1.92 s. The rows are compressed in parallel
/// stripes (see `parallel_deflate`), which divides these times by the
/// number of cores for 0.02 % (level 6) to 0.2 % (level 9) more bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PngCompression {
    /// zlib level 2: about 2.4 times as fast as `Default`, 14 % larger.
    /// (Level 1 is zlib-rs's quick mode, 70 % larger.)
    Fast,
    /// zlib level 5: half the time of level 6 for 2 % more bytes. The
    /// default.
    #[default]
    Default,
    /// zlib level 9: about 4 to 6 times as slow as `Default`, 4 to 8 %
    /// smaller.
    Best,
}

impl PngCompression {
    pub(crate) fn zlib_level(self) -> u8 {
        match self {
            PngCompression::Fast => 2,
            PngCompression::Default => 5,
            PngCompression::Best => 9,
        }
    }
}

/// Encodes `img` as an indexed PNG (colour type 3).
///
/// The bit depth follows the palette length: up to 2 entries → 1 bit, up to
/// 4 → 2, up to 16 → 4, otherwise 8. Rows are packed most significant bits
/// first and padded to a whole byte. Fails only if the png crate rejects the
/// data, which a valid [`IndexedImage`] should never cause.
///
/// # Errors
///
/// [`EncodeError::Encoder`] when deflating the rows fails or the png crate
/// refuses the header or a chunk.
pub fn encode_indexed_png(
    img: &IndexedImage,
    compression: PngCompression,
) -> Result<Vec<u8>, EncodeError> {
    let palette = img.palette();
    let bits = bit_depth(palette.len());
    let depth = match bits {
        1 => png::BitDepth::One,
        2 => png::BitDepth::Two,
        4 => png::BitDepth::Four,
        _ => png::BitDepth::Eight,
    };
    let plte: Vec<u8> = palette.rgb().into_iter().flatten().collect();
    let alphas: Vec<u8> = palette.colors().iter().map(|c| c[3]).collect();
    let trns_len = alphas.iter().rposition(|&a| a < 255).map_or(0, |i| i + 1);
    let width = img.width() as usize;
    let row_bytes = (width * bits).div_ceil(8);
    let rows = img.height() as usize;
    // Each row: filter type 0 (none), then the packed indices.
    let pack = |first: usize, count: usize, out: &mut Vec<u8>| {
        let stripe = &img.indices()[first * width..(first + count) * width];
        for row in stripe.chunks(width.max(1)) {
            out.push(0);
            pack_row(row, bits, out);
        }
    };
    let idat = parallel_deflate::zlib_rows(rows, row_bytes + 1, compression.zlib_level(), pack)
        .map_err(EncodeError::png)?;

    let mut out = Vec::with_capacity(idat.len() + plte.len() + 128);
    let mut encoder = png::Encoder::new(&mut out, img.width(), img.height());
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(depth);
    encoder.set_palette(plte);
    if trns_len > 0 {
        encoder.set_trns(alphas[..trns_len].to_vec());
    }
    write_png(encoder, &idat, IDAT_CHUNK_BYTES)?;
    Ok(out)
}

/// The PNG bit depth for a palette of `len` entries.
fn bit_depth(len: usize) -> usize {
    match len {
        0..=2 => 1,
        3..=4 => 2,
        5..=16 => 4,
        _ => 8,
    }
}

/// Appends one row of indices packed as `bits`-bit samples, leftmost pixel
/// in the most significant bits, padded to a whole byte.
fn pack_row(row: &[u8], bits: usize, out: &mut Vec<u8>) {
    match bits {
        1 => pack::<8>(row, out),
        2 => pack::<4>(row, out),
        4 => pack::<2>(row, out),
        _ => out.extend_from_slice(row),
    }
}

/// [`pack_row`] with `PER` indices a byte. Whole bytes go through
/// fixed-size groups, whose shifts the compiler knows: on sunset.jpg (12
/// MP), one thread, the whole encoding at k = 16 (4 bits) took 0.12 s with
/// groups of run-time length and takes 0.08-0.09 s so; at k = 4 (2 bits)
/// 0.055 s and 0.027-0.033.
fn pack<const PER: usize>(row: &[u8], out: &mut Vec<u8>) {
    let bits = 8 / PER;
    let byte = |group: &[u8]| {
        group
            .iter()
            .enumerate()
            .fold(0u8, |acc, (i, &index)| acc | index << (8 - bits * (i + 1)))
    };
    let (groups, tail) = row.as_chunks::<PER>();
    out.extend(groups.iter().map(|g| byte(g)));
    if !tail.is_empty() {
        out.push(byte(tail));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Limits, decode_bytes, read_image};
    use pixmeans_core::{Palette, PixelFormat};
    use std::path::Path;

    /// A palette of `n` distinct opaque colours and a `w` x `h` image using
    /// every one of them in a scrambled order.
    fn test_image(n: usize, w: u32, h: u32, transparent: bool) -> IndexedImage {
        let opaque = n - usize::from(transparent);
        let colors: Vec<[u8; 3]> = (0..opaque)
            .map(|i| [i as u8, (i * 7 % 256) as u8, 255 - i as u8])
            .collect();
        let palette = Palette::new(&colors, transparent).unwrap();
        let indices = (0..w * h)
            .map(|p| ((p * 37 + p / 5) as usize % n) as u8)
            .collect();
        IndexedImage::new(w, h, palette, indices).unwrap()
    }

    /// Decodes with the png crate without expanding the palette: the header,
    /// PLTE, tRNS and the unpacked indices.
    fn decode_raw(bytes: &[u8]) -> (png::BitDepth, Vec<u8>, Option<Vec<u8>>, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        let info = reader.info();
        let depth = info.bit_depth;
        let plte = info.palette.as_ref().unwrap().to_vec();
        let trns = info.trns.as_ref().map(|t| t.to_vec());
        let (w, h) = (info.width as usize, info.height as usize);
        assert_eq!(info.color_type, png::ColorType::Indexed);
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut buf).unwrap();
        let bits = depth as usize;
        let mut indices = Vec::with_capacity(w * h);
        for y in 0..h {
            let row = &buf[y * frame.line_size..];
            for x in 0..w {
                let bit = x * bits;
                let shift = 8 - bits - bit % 8;
                indices.push((row[bit / 8] >> shift) & ((1u16 << bits) - 1) as u8);
            }
        }
        (depth, plte, trns, indices)
    }

    #[test]
    fn round_trip_at_every_bit_depth_with_odd_widths() {
        let cases = [
            (1, 1),
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (16, 4),
            (17, 8),
            (256, 8),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (n, bits) in cases {
            for (w, h) in [(7, 3), (13, 5)] {
                let img = test_image(n, w, h, false);
                for compression in [PngCompression::Fast, PngCompression::Default] {
                    let bytes = encode_indexed_png(&img, compression).unwrap();
                    let (depth, plte, trns, indices) = decode_raw(&bytes);
                    assert_eq!(depth as usize, bits, "{n} colours");
                    assert_eq!(plte.len(), 3 * n, "PLTE holds exactly the palette");
                    assert!(trns.is_none());
                    assert_eq!(indices, img.indices(), "{n} colours, {w} x {h}");
                    let expanded: Vec<u8> = indices
                        .iter()
                        .flat_map(|&i| plte[3 * usize::from(i)..][..3].to_vec())
                        .collect();
                    assert_eq!(expanded, img.to_rgb());

                    let path = dir.path().join(format!("{n}-{w}.png"));
                    std::fs::write(&path, &bytes).unwrap();
                    let decoded = read_image(&path, &Limits::default()).unwrap();
                    assert_eq!(decoded.format, "png");
                    let view = decoded.image.view();
                    assert_eq!((view.width(), view.height()), (w, h));
                    assert_eq!(view.format(), PixelFormat::Rgb8);
                    assert_eq!(view.data(), img.to_rgb().as_slice());
                }
            }
        }
    }

    #[test]
    fn an_image_of_several_deflate_stripes_round_trips() {
        // 8 bits a pixel, 1601 x 1400: 2.2 MB of rows, three stripes.
        for compression in [PngCompression::Fast, PngCompression::Best] {
            let img = test_image(200, 1601, 1400, false);
            let bytes = encode_indexed_png(&img, compression).unwrap();
            let (depth, _, _, indices) = decode_raw(&bytes);
            assert_eq!(depth, png::BitDepth::Eight);
            assert!(indices == img.indices(), "{compression:?}");
        }
    }

    #[test]
    fn a_transparent_last_entry_round_trips_as_alpha_zero_exactly_there() {
        let img = test_image(5, 7, 3, true);
        let bytes = encode_indexed_png(&img, PngCompression::Best).unwrap();
        let (depth, _, trns, _) = decode_raw(&bytes);
        assert_eq!(depth, png::BitDepth::Four);
        assert_eq!(trns, Some(vec![255, 255, 255, 255, 0]));

        let decoded = decode_bytes(&bytes, Path::new("t.png"), &Limits::default()).unwrap();
        assert_eq!(decoded.image.view().format(), PixelFormat::Rgba8);
        let data = decoded.image.view().data().to_vec();
        for (pixel, &index) in data.chunks_exact(4).zip(img.indices()) {
            assert_eq!(pixel[3] == 0, index == 4);
            if index != 4 {
                assert_eq!(pixel, img.palette().colors()[usize::from(index)]);
            }
        }
    }

    #[test]
    fn partly_transparent_entries_round_trip_through_trns() {
        let colors = [
            [9, 8, 7, 12],
            [200, 100, 50, 255],
            [1, 2, 3, 128],
            [4, 5, 6, 255],
        ];
        let palette = pixmeans_core::Palette::with_alpha(&colors, true).unwrap();
        let indices = (0..7 * 3).map(|p| (p % 5) as u8).collect();
        let img = IndexedImage::new(7, 3, palette, indices).unwrap();
        let bytes = encode_indexed_png(&img, PngCompression::Fast).unwrap();
        let (_, _, trns, _) = decode_raw(&bytes);
        assert_eq!(trns, Some(vec![12, 255, 128, 255, 0]));
        let decoded = decode_bytes(&bytes, Path::new("t.png"), &Limits::default()).unwrap();
        let data = decoded.image.view().data();
        for (pixel, &index) in data.chunks_exact(4).zip(img.indices()) {
            if index != 4 {
                assert_eq!(pixel, img.palette().colors()[usize::from(index)]);
            }
        }
    }

    #[test]
    fn pack_rows_puts_the_leftmost_pixel_in_the_high_bits_and_pads_rows() {
        let pack_rows = |indices: &[u8], width: usize, bits: usize| {
            let mut out = Vec::new();
            for row in indices.chunks(width) {
                pack_row(row, bits, &mut out);
            }
            out
        };
        assert_eq!(pack_rows(&[1, 0, 1, 1, 0], 5, 1), vec![0b1011_0000]);
        assert_eq!(
            pack_rows(&[3, 1, 2, 0, 1, 2], 3, 2),
            vec![0b1101_1000, 0b0001_1000]
        );
        assert_eq!(pack_rows(&[0xA, 0x5, 0xF], 3, 4), vec![0xA5, 0xF0]);
        // Whole bytes, then a padded one, in each row.
        assert_eq!(
            pack_rows(&[1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1], 11, 1),
            vec![0b1100_1011, 0b0110_0000]
        );
        assert_eq!(
            pack_rows(&[0, 1, 2, 3, 3, 2, 0, 1, 2, 3, 1, 0], 6, 2),
            vec![0b0001_1011, 0b1110_0000, 0b0001_1011, 0b0100_0000]
        );
    }
}
