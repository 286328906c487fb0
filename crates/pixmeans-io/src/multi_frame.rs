//! Whether a file holds more frames or pages than the one decoded.
//!
//! The `image` crate decodes the first frame of an animated GIF, PNG or WebP
//! and the first page of a TIFF, and says nothing of the rest. This module
//! finds out from the bytes already in memory, without decoding any frame
//! but the first: the GIF and PNG decoders read only headers (the first GIF
//! frame's compressed data is skipped, not decompressed), and WebP chunks
//! and TIFF directories are walked by their declared sizes. Damaged or
//! truncated data never panics here; what cannot be read counts as one frame.

use std::io::Cursor;

use image::ImageFormat;

/// Whether `bytes`, an image of `format` whose first frame decoded, holds
/// another frame or page. `false` for formats that have only one (JPEG,
/// BMP) and whenever the answer cannot be read from the data.
pub(crate) fn has_more_frames(format: ImageFormat, bytes: &[u8]) -> bool {
    match format {
        ImageFormat::Gif => gif_has_second_frame(bytes),
        ImageFormat::Png => png_has_more_frames(bytes),
        ImageFormat::WebP => webp_has_second_frame(bytes),
        ImageFormat::Tiff => tiff_has_second_page(bytes).unwrap_or(false),
        _ => false,
    }
}

/// A second image descriptor in a GIF. The gif crate's frame-skipping mode
/// walks past the first frame's sub-blocks without running LZW on them.
fn gif_has_second_frame(bytes: &[u8]) -> bool {
    let mut options = gif::DecodeOptions::new();
    options.skip_frame_decoding(true);
    let Ok(mut decoder) = options.read_info(bytes) else {
        return false;
    };
    matches!(decoder.next_frame_info(), Ok(Some(_)))
        && matches!(decoder.next_frame_info(), Ok(Some(_)))
}

/// An APNG animation beyond the default image: an `acTL` chunk counting
/// more than one frame, or one frame that is not the default image (no
/// `fcTL` before `IDAT`, which makes the default image a stand-in, often a
/// thumbnail, and the animation something else). Only the chunks before the
/// first `IDAT` are read.
fn png_has_more_frames(bytes: &[u8]) -> bool {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    let Ok(reader) = decoder.read_info() else {
        return false;
    };
    let info = reader.info();
    info.animation_control.is_some_and(|actl| {
        actl.num_frames > 1 || (actl.num_frames == 1 && info.frame_control.is_none())
    })
}

/// The animation flag of a `VP8X` header and a second `ANMF` (animation
/// frame) chunk.
fn webp_has_second_frame(bytes: &[u8]) -> bool {
    /// The animation bit of the `VP8X` flags byte.
    const ANIMATION: u8 = 0x02;
    if bytes.get(..4) != Some(b"RIFF".as_slice())
        || bytes.get(8..16) != Some(b"WEBPVP8X".as_slice())
        || bytes.get(20).is_none_or(|flags| flags & ANIMATION == 0)
    {
        return false;
    }
    let riff_end = bytes
        .get(4..8)
        .and_then(|size| usize::try_from(le_u32(size)).ok())
        .map_or(bytes.len(), |size| size.saturating_add(8).min(bytes.len()));
    let mut pos: usize = 12;
    let mut frames = 0;
    while let Some(header) = bytes[..riff_end].get(pos..pos.saturating_add(8)) {
        if &header[..4] == b"ANMF" {
            frames += 1;
            if frames > 1 {
                return true;
            }
        }
        // Chunks are padded to an even size.
        let Ok(size) = usize::try_from(le_u32(&header[4..])) else {
            break;
        };
        pos = pos
            .saturating_add(8)
            .saturating_add(size)
            .saturating_add(size & 1);
    }
    false
}

/// A non-zero offset to a next image file directory (IFD) after the first,
/// inside the file: a second page (which may be a reduced-size preview of
/// the first). Classic and big TIFF, either byte order. `None` when the
/// header or the first directory is cut short.
fn tiff_has_second_page(bytes: &[u8]) -> Option<bool> {
    let little = match bytes.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let int = |at: usize, len: usize| -> Option<u64> {
        let field = bytes.get(at..at.checked_add(len)?)?;
        let fold = |acc: u64, &b: &u8| acc << 8 | u64::from(b);
        Some(if little {
            field.iter().rev().fold(0, fold)
        } else {
            field.iter().fold(0, fold)
        })
    };
    let to_usize = |v: u64| usize::try_from(v).ok();
    let (first, next_field) = match int(2, 2)? {
        // Classic: a 4-byte offset to the first IFD, whose 2-byte entry
        // count is followed by 12-byte entries and a 4-byte next offset.
        42 => {
            let first = to_usize(int(4, 4)?)?;
            let count = to_usize(int(first, 2)?)?;
            let at = count.checked_mul(12)?.checked_add(first)?.checked_add(2)?;
            (first, int(at, 4)?)
        }
        // Big TIFF: 8-byte offsets and counts, 20-byte entries.
        43 => {
            let first = to_usize(int(8, 8)?)?;
            let count = to_usize(int(first, 8)?)?;
            let at = count.checked_mul(20)?.checked_add(first)?.checked_add(8)?;
            (first, int(at, 8)?)
        }
        _ => return None,
    };
    let next = to_usize(next_field)?;
    Some(next != 0 && next != first && next < bytes.len())
}

/// A little-endian `u32` from the first four bytes of `b` (zero-padded
/// when shorter).
fn le_u32(b: &[u8]) -> u32 {
    let mut word = [0; 4];
    for (w, &v) in word.iter_mut().zip(b) {
        *w = v;
    }
    u32::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A RIFF WebP header with a `VP8X` chunk of `flags`, then `chunks`.
    fn webp(flags: u8, chunks: &[(&[u8; 4], usize)]) -> Vec<u8> {
        let mut v = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0".to_vec();
        v.extend_from_slice(&[flags, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for (name, size) in chunks {
            v.extend_from_slice(*name);
            v.extend_from_slice(&u32::try_from(*size).unwrap().to_le_bytes());
            v.resize(v.len() + size + size % 2, 0);
        }
        let riff = u32::try_from(v.len() - 8).unwrap();
        v[4..8].copy_from_slice(&riff.to_le_bytes());
        v
    }

    #[test]
    fn webp_needs_the_animation_flag_and_two_frames() {
        let two = [(b"ANIM", 6), (b"ANMF", 17), (b"ANMF", 16)];
        assert!(webp_has_second_frame(&webp(0x02, &two)));
        assert!(!webp_has_second_frame(&webp(0x00, &two)));
        assert!(!webp_has_second_frame(&webp(0x02, &two[..2])));
    }

    #[test]
    fn webp_chunks_past_the_riff_size_or_the_data_do_not_count() {
        let mut bytes = webp(0x02, &[(b"ANIM", 6), (b"ANMF", 16)]);
        bytes.extend_from_slice(b"ANMF\x10\0\0\0");
        bytes.resize(bytes.len() + 16, 0);
        assert!(!webp_has_second_frame(&bytes), "a frame after the riff end");
        let riff = u32::try_from(bytes.len() - 8).unwrap();
        bytes[4..8].copy_from_slice(&riff.to_le_bytes());
        assert!(webp_has_second_frame(&bytes));
        // A chunk size that runs past the end stops the walk.
        let mut huge = webp(0x02, &[]);
        huge.extend_from_slice(b"ANMF\xff\xff\xff\xffANMF\x10\0\0\0");
        huge.resize(huge.len() + 16, 0);
        let riff = u32::try_from(huge.len() - 8).unwrap();
        huge[4..8].copy_from_slice(&riff.to_le_bytes());
        for cut in 0..=huge.len() {
            assert!(!webp_has_second_frame(&huge[..cut]));
        }
    }

    /// A classic little-endian TIFF header and one IFD of `entries` empty
    /// entries whose next-IFD offset is `next`.
    fn tiff(entries: u16, next: u32) -> Vec<u8> {
        let mut v = b"II*\0\x08\0\0\0".to_vec();
        v.extend_from_slice(&entries.to_le_bytes());
        v.resize(v.len() + 12 * usize::from(entries), 0);
        v.extend_from_slice(&next.to_le_bytes());
        v.resize(64, 0);
        v
    }

    #[test]
    fn tiff_next_ifd_offsets_are_read_in_both_byte_orders_and_bigtiff() {
        assert_eq!(tiff_has_second_page(&tiff(2, 0)), Some(false));
        assert_eq!(tiff_has_second_page(&tiff(2, 40)), Some(true));
        // Pointing back at the first IFD or past the end is no second page.
        assert_eq!(tiff_has_second_page(&tiff(2, 8)), Some(false));
        assert_eq!(tiff_has_second_page(&tiff(2, 64)), Some(false));

        let mut big_endian = b"MM\0*\0\0\0\x08\0\x01".to_vec();
        big_endian.resize(big_endian.len() + 12, 0);
        big_endian.extend_from_slice(&[0, 0, 0, 30]);
        big_endian.resize(40, 0);
        assert_eq!(tiff_has_second_page(&big_endian), Some(true));

        let mut big_tiff = b"II+\0\x08\0\0\0\x10\0\0\0\0\0\0\0".to_vec();
        big_tiff.extend_from_slice(&1u64.to_le_bytes());
        big_tiff.resize(big_tiff.len() + 20, 0);
        big_tiff.extend_from_slice(&60u64.to_le_bytes());
        big_tiff.resize(72, 0);
        assert_eq!(tiff_has_second_page(&big_tiff), Some(true));
    }

    #[test]
    fn cut_or_absurd_tiff_headers_are_no_answer_and_no_panic() {
        let full = tiff(3, 40);
        for cut in 0..full.len() {
            let _ = tiff_has_second_page(&full[..cut]);
        }
        assert_eq!(tiff_has_second_page(&full[..30]), None);
        let mut far = tiff(0, 0);
        far[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(tiff_has_second_page(&far), None);
        let mut many = tiff(0, 0);
        many[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(tiff_has_second_page(&many), None);
        let mut big = b"II+\0\x08\0\0\0".to_vec();
        big.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(tiff_has_second_page(&big), None);
    }

    #[test]
    fn garbage_of_every_format_is_one_frame() {
        for format in [
            ImageFormat::Gif,
            ImageFormat::Png,
            ImageFormat::WebP,
            ImageFormat::Tiff,
            ImageFormat::Jpeg,
        ] {
            for len in [0, 1, 7, 100] {
                let noise = crate::test_noise::bytes(len, 7);
                assert!(!has_more_frames(format, &noise), "{format:?} {len}");
            }
        }
    }
}
