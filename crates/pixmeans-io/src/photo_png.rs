//! Photographic PNGs (8-bit RGB or RGBA) made a row at a time.
//!
//! The png crate wants the whole image in one buffer. Here a row is asked
//! for only when it is due, so a segmentation's cutouts, overlay and region
//! means never exist whole (eight cutouts of a 12 MP photo would be 390 MB
//! of RGBA). Each row is filtered by the png crate's adaptive choice, made
//! in one pass ([`crate::row_filter`]), and compressed by fdeflate, the png
//! crate's fast encoder: on the 12 MP `sunset.jpg` as RGB, 0.28 s and
//! 10.6 MB against 6.7 s and 8.6 MB at zlib level 6, and faster and smaller
//! than level 1 (0.63 s, 11.2 MB). `PngCompression::Best` uses zlib at
//! level 9 instead. The files are byte for byte what the png crate writes
//! for the same pixels with its adaptive filter and fdeflate (or zlib at
//! level 9): a test checks it. On `sunset.jpg` at k = 8, one
//! thread, fastest runs: the eight cutouts took 0.67 s through the png
//! crate and take 0.38 s here, the overlay 0.27 and 0.20 s, the means 0.13
//! and 0.11 s.

use std::io::Write;

use crate::encode::{EncodeError, write_png};
use crate::indexed_png::PngCompression;
use crate::row_filter::{apply, choose};

/// Encodes a `width` x `height` photo as an 8-bit RGB (or, with `alpha`,
/// RGBA) PNG, calling `row(y, out)` to fill row `y` into `out`, top to
/// bottom. `out` is reused from row to row, so `row` must write every one of
/// its bytes. It may be called a second time for every row, in the rare
/// case where the file is written uncompressed.
///
/// Rows are compressed by fdeflate, or at `Best` by zlib at level 9.
pub(crate) fn photo_png(
    width: u32,
    height: u32,
    alpha: bool,
    compression: PngCompression,
    mut row: impl FnMut(usize, &mut [u8]),
) -> Result<Vec<u8>, EncodeError> {
    let bpp = if alpha { 4 } else { 3 };
    let len = width as usize * bpp;
    let zlib =
        zlib_rows(len, height as usize, bpp, compression, &mut row).map_err(EncodeError::png)?;
    let mut out = Vec::with_capacity(zlib.len() + 64);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(color_type(alpha));
    encoder.set_depth(png::BitDepth::Eight);
    // One IDAT chunk, as the png crate writes up to 2 GiB.
    write_png(encoder, &zlib, u32::MAX as usize >> 1)?;
    Ok(out)
}

/// RGBA with `alpha`, else RGB.
fn color_type(alpha: bool) -> png::ColorType {
    if alpha {
        png::ColorType::Rgba
    } else {
        png::ColorType::Rgb
    }
}

/// The zlib stream of `rows` rows of `len` bytes, each filtered.
fn zlib_rows(
    len: usize,
    rows: usize,
    bpp: usize,
    compression: PngCompression,
    row: &mut impl FnMut(usize, &mut [u8]),
) -> std::io::Result<Vec<u8>> {
    let mut prev = vec![0u8; len];
    let mut cur = vec![0u8; len];
    // The filter type, then the filtered row.
    let mut line = vec![0u8; len + 1];
    let mut deflater = Deflater::new(compression)?;
    for y in 0..rows {
        row(y, &mut cur);
        let filter = choose(bpp, &prev, &cur);
        line[0] = filter as u8;
        apply(filter, bpp, &prev, &cur, &mut line[1..]);
        deflater.write(&line)?;
        std::mem::swap(&mut prev, &mut cur);
    }
    let zlib = deflater.finish()?;
    // As the png crate does: stored blocks when fdeflate would make more.
    let raw = (len + 1) * rows;
    if compression == PngCompression::Best
        || zlib.len() <= fdeflate::StoredOnlyCompressor::<()>::compressed_size(raw)
    {
        return Ok(zlib);
    }
    let mut stored = fdeflate::StoredOnlyCompressor::new(std::io::Cursor::new(Vec::new()))?;
    for y in 0..rows {
        row(y, &mut cur);
        stored.write_data(&[0])?;
        stored.write_data(&cur)?;
    }
    Ok(stored.finish()?.into_inner())
}

/// The compressor behind a photo: fdeflate, or zlib at `Best`.
enum Deflater {
    Fast(fdeflate::Compressor<Vec<u8>>),
    Zlib(flate2::write::ZlibEncoder<Vec<u8>>),
}

impl Deflater {
    fn new(compression: PngCompression) -> std::io::Result<Self> {
        Ok(if compression == PngCompression::Best {
            let level = flate2::Compression::new(compression.zlib_level().into());
            Deflater::Zlib(flate2::write::ZlibEncoder::new(Vec::new(), level))
        } else {
            Deflater::Fast(fdeflate::Compressor::new(Vec::new())?)
        })
    }

    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        match self {
            Deflater::Fast(c) => c.write_data(line),
            Deflater::Zlib(z) => z.write_all(line),
        }
    }

    fn finish(self) -> std::io::Result<Vec<u8>> {
        match self {
            Deflater::Fast(c) => c.finish(),
            Deflater::Zlib(z) => z.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The png crate's own encoding of the same pixels, adaptive filter.
    fn png_crate(w: u32, h: u32, alpha: bool, data: &[u8], compression: PngCompression) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(color_type(alpha));
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_filter(png::Filter::Adaptive);
        encoder.set_deflate_compression(if compression == PngCompression::Best {
            png::DeflateCompression::Level(compression.zlib_level())
        } else {
            png::DeflateCompression::FdeflateUltraFast
        });
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(data).unwrap();
        writer.finish().unwrap();
        out
    }

    fn ours(w: u32, h: u32, alpha: bool, data: &[u8], compression: PngCompression) -> Vec<u8> {
        let len = w as usize * if alpha { 4 } else { 3 };
        photo_png(w, h, alpha, compression, |y, out| {
            out.copy_from_slice(&data[y * len..(y + 1) * len]);
        })
        .unwrap()
    }

    /// A smooth photo-like picture with a noisy patch and transparent
    /// stretches (blocks of zeros to skip).
    fn picture(w: u32, h: u32, alpha: bool) -> Vec<u8> {
        let mut noise = crate::test_noise::noise(0x2545_f491);
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let hole = (x / 40 + y / 7) % 3 == 0;
                let px = if hole {
                    [0, 0, 0, 0]
                } else if x > w / 2 && y > h / 2 {
                    [noise(), noise(), noise(), 255]
                } else {
                    [
                        (x * 3 + y) as u8,
                        (x * y / 50) as u8,
                        (200 - y / 2) as u8,
                        (x + 128) as u8,
                    ]
                };
                data.extend_from_slice(&px[..if alpha { 4 } else { 3 }]);
            }
        }
        data
    }

    #[test]
    fn bytes_are_the_png_crates_for_every_compression() {
        // Rows that end in a part block (98, 34, 11), a single column or
        // row, and rows of over 256 blocks (1500), whose cost sums are
        // carried out of their 16-bit lanes mid-row.
        for (w, h) in [(98, 61), (1, 5), (34, 1), (11, 3), (1500, 4)] {
            for alpha in [false, true] {
                let data = picture(w, h, alpha);
                for compression in [
                    PngCompression::Fast,
                    PngCompression::Default,
                    PngCompression::Best,
                ] {
                    assert_eq!(
                        ours(w, h, alpha, &data, compression),
                        png_crate(w, h, alpha, &data, compression),
                        "{w} x {h}, alpha {alpha}, {compression:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn noise_that_fdeflate_would_grow_is_stored_as_the_png_crate_stores_it() {
        let (w, h) = (64, 64);
        let data = crate::test_noise::bytes(w as usize * h as usize * 3, 7);
        let ours = ours(w, h, false, &data, PngCompression::Default);
        assert_eq!(ours, png_crate(w, h, false, &data, PngCompression::Default));
        // Stored: every row plus its filter byte, and the chunks around them.
        assert!(ours.len() > data.len() + h as usize, "{} bytes", ours.len());
        let decoded = image::load_from_memory(&ours).unwrap().to_rgb8();
        assert_eq!(decoded.into_raw(), data);
    }
}
