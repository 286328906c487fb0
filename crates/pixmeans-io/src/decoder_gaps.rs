//! Files that the `image` crate's decoders refuse, or misread, for a reason
//! their errors do not tell; found from the header before decoding, so that
//! the error says what is wrong, or the file is put in a form that decodes.
//!
//! - JPEG: zune-jpeg reads only 8-bit Huffman-coded frames and calls a
//!   12-bit one a format error (see [`jpeg_structure::unsupported_coding`]).
//! - BMP: the decoder refuses a width or (bottom-up) height over 65535 as
//!   "image too large", a soft limit of its own, not of the format.
//! - WebP: a lossless image may be 16384 pixels wide or tall, but
//!   image-webp 0.2.4 adds one to the 14-bit size field before masking it,
//!   so 16384 reads as 0. Wrapped in the extended (`VP8X`) layout, whose
//!   canvas size field is wider, the same image decodes. (Fixed upstream in
//!   image-rs/image-webp#179; this can go once a release has it.)

use std::borrow::Cow;

use image::ImageFormat;

use crate::jpeg_structure;

/// The largest width or height the `image` crate's BMP decoder accepts.
const BMP_DECODER_MAX_SIDE: i32 = 0xFFFF;

/// The bytes to hand the decoder for `bytes`, an image of `format`: the
/// same bytes, or a lossless WebP at 16384 pixels rewritten so that it
/// decodes. `Err` with a lowercase reason when the decoder cannot read the
/// file although it is not damaged.
pub(crate) fn prepare(format: ImageFormat, bytes: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    let unsupported = match format {
        ImageFormat::Jpeg => jpeg_structure::unsupported_coding(bytes),
        ImageFormat::Bmp => bmp_beyond_decoder(bytes),
        _ => None,
    };
    if let Some(reason) = unsupported {
        return Err(reason);
    }
    if format == ImageFormat::WebP
        && let Some(extended) = full_size_lossless_webp_as_extended(bytes)
    {
        return Ok(Cow::Owned(extended));
    }
    Ok(Cow::Borrowed(bytes))
}

/// Why the BMP decoder will refuse `bytes`' size, or `None`. Only the
/// `BITMAPINFOHEADER` family has 32-bit sizes; the older core header's are
/// 16-bit and always fit. A negative height means rows stored top down, and
/// the decoder does not limit those.
fn bmp_beyond_decoder(bytes: &[u8]) -> Option<String> {
    let le_i32 = |at: usize| -> Option<i32> {
        Some(i32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    if !matches!(le_i32(14)?, 40 | 52 | 56 | 108 | 124) {
        return None;
    }
    let (width, height) = (le_i32(18)?, le_i32(22)?);
    (width > BMP_DECODER_MAX_SIDE || height > BMP_DECODER_MAX_SIDE).then(|| {
        format!(
            "it is bmp of {width} x {height} pixels, which the bmp decoder cannot read; \
             expected at most {BMP_DECODER_MAX_SIDE} pixels wide and tall"
        )
    })
}

/// `bytes` as an extended WebP when it is a simple lossless WebP 16384
/// pixels wide or tall (which the decoder reads as 0); `None` otherwise.
/// The `VP8L` chunk is kept as it is, after a `VP8X` chunk giving the
/// canvas size and the alpha flag of the `VP8L` header.
fn full_size_lossless_webp_as_extended(bytes: &[u8]) -> Option<Vec<u8>> {
    /// A 14-bit size field holding its largest value, size − 1 = 16383.
    const FULL: u32 = 0x3FFF;
    /// The alpha bit of the `VP8X` flags byte.
    const VP8X_ALPHA: u8 = 0x10;
    /// The bytes a `VP8X` chunk adds: its header and its 10-byte payload.
    const VP8X_CHUNK: u32 = 8 + 10;
    // RIFF, its size, WEBP, VP8L, the chunk size, the 0x2F signature, then
    // 14 bits of width − 1, 14 of height − 1, the alpha bit and 3 of version.
    if bytes.get(..4)? != b"RIFF" || bytes.get(8..16)? != b"WEBPVP8L" || *bytes.get(20)? != 0x2F {
        return None;
    }
    let riff_size = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
    let header = u32::from_le_bytes(bytes.get(21..25)?.try_into().ok()?);
    let (width_less_1, height_less_1) = (header & FULL, header >> 14 & FULL);
    if width_less_1 != FULL && height_less_1 != FULL {
        return None;
    }
    let alpha = if header >> 28 & 1 == 1 { VP8X_ALPHA } else { 0 };
    let mut out = Vec::with_capacity(bytes.len() + 18);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.checked_add(VP8X_CHUNK)?.to_le_bytes());
    out.extend_from_slice(b"WEBPVP8X\x0a\0\0\0");
    out.extend_from_slice(&[alpha, 0, 0, 0]);
    out.extend_from_slice(&width_less_1.to_le_bytes()[..3]);
    out.extend_from_slice(&height_less_1.to_le_bytes()[..3]);
    out.extend_from_slice(bytes.get(12..)?);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_formats_and_ordinary_files_pass_through_borrowed() {
        let bytes = b"RIFF\x10\0\0\0WEBPVP8L\x04\0\0\0\x2f\0\0\0\0";
        assert!(matches!(
            prepare(ImageFormat::WebP, bytes),
            Ok(Cow::Borrowed(_))
        ));
        for format in [ImageFormat::Png, ImageFormat::Bmp, ImageFormat::Jpeg] {
            assert!(matches!(prepare(format, b"x"), Ok(Cow::Borrowed(_))));
        }
    }

    #[test]
    fn a_full_size_lossless_header_gets_a_vp8x_chunk_and_cut_ones_nothing() {
        // 16384 x 2 with alpha: width − 1 = 0x3FFF, height − 1 = 1.
        let header: u32 = 0x3FFF | 1 << 14 | 1 << 28;
        let mut bytes = b"RIFF\x12\0\0\0WEBPVP8L\x06\0\0\0\x2f".to_vec();
        bytes.extend_from_slice(&header.to_le_bytes());
        bytes.push(0xAB);
        let out = full_size_lossless_webp_as_extended(&bytes).unwrap();
        assert_eq!(&out[..4], b"RIFF");
        assert_eq!(out[4..8], (0x12u32 + 18).to_le_bytes());
        assert_eq!(
            &out[8..30],
            b"WEBPVP8X\x0a\0\0\0\x10\0\0\0\xff\x3f\0\x01\0\0".as_slice()
        );
        assert_eq!(&out[30..], &bytes[12..]);
        for cut in 0..25 {
            assert_eq!(full_size_lossless_webp_as_extended(&bytes[..cut]), None);
        }
    }

    #[test]
    fn bmp_sizes_beyond_the_decoder_are_named() {
        // The size fields of a BMP whose DIB header is `header_size` long.
        let bmp = |header_size: i32, width: i32, height: i32| {
            let mut b = vec![0; 26];
            b[14..18].copy_from_slice(&header_size.to_le_bytes());
            b[18..22].copy_from_slice(&width.to_le_bytes());
            b[22..26].copy_from_slice(&height.to_le_bytes());
            b
        };
        assert_eq!(bmp_beyond_decoder(&bmp(40, 65535, 65535)), None);
        assert_eq!(bmp_beyond_decoder(&bmp(124, 2, -70000)), None);
        assert_eq!(
            bmp_beyond_decoder(&bmp(40, 70000, 3)).unwrap(),
            "it is bmp of 70000 x 3 pixels, which the bmp decoder cannot read; \
             expected at most 65535 pixels wide and tall"
        );
        assert!(bmp_beyond_decoder(&bmp(108, 3, 65536)).is_some());
        // The core header's sizes are 16-bit: nothing to check.
        assert_eq!(bmp_beyond_decoder(&bmp(12, 70000, 3)), None);
        let wide = bmp(40, 70000, 3);
        for cut in 0..wide.len() {
            assert_eq!(bmp_beyond_decoder(&wide[..cut]), None);
        }
    }
}
