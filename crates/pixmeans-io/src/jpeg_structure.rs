//! A walk over the marker segments of a JPEG file, to tell a complete file
//! from a truncated one, and a JPEG the decoder can read from one it cannot.
//!
//! The `image` crate decodes JPEG with zune-jpeg in its lenient mode: when the
//! data stops in the middle of the scan it returns the image anyway, the
//! missing part filled with grey, and no error. A truncated photo would then
//! be quantized as if grey were part of it. This module finds out, without
//! decoding anything, whether the file reaches its end-of-image marker.
//!
//! zune-jpeg reads only 8-bit Huffman-coded sequential and progressive JPEG
//! (SOF0 to SOF2) and calls a 12-bit one a format error, as if the file
//! were damaged. [`unsupported_coding`] reads the start-of-frame marker so
//! that such a file is reported as what it is.

/// The second byte of the markers this walk cares about (each follows `0xFF`).
const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const TEM: u8 = 0x01;
const RST0: u8 = 0xD0;
const RST7: u8 = 0xD7;
/// The start-of-frame markers run from SOF0 to SOF15, less the three codes
/// in that range that mean something else.
const SOF0: u8 = 0xC0;
const SOF15: u8 = 0xCF;
const DHT: u8 = 0xC4;
const JPG: u8 = 0xC8;
const DAC: u8 = 0xCC;

/// Returns `Err` with a lowercase reason when `data`, which starts with a
/// JPEG start-of-image marker, ends before its end-of-image marker.
///
/// Segments are skipped by their declared length, so an end-of-image marker
/// inside an embedded EXIF thumbnail does not count, and bytes after the
/// real end (some phones append a video or a trailer) are ignored. Stray
/// bytes between segments are skipped the way libjpeg skips them.
pub(crate) fn check_complete(data: &[u8]) -> Result<(), String> {
    if data.len() < 2 || data[0] != 0xFF || data[1] != SOI {
        return Err("the data does not start with a jpeg start-of-image marker".into());
    }
    let ends_early = || Err("the data ends before the jpeg end-of-image marker".to_owned());
    let mut pos = 2;
    loop {
        let Some((marker, after)) = next_marker(data, pos) else {
            return ends_early();
        };
        pos = after;
        match marker {
            EOI => return Ok(()),
            // A zero byte after 0xFF is stuffing, not a marker; reaching one
            // here means we are resynchronising past stray bytes.
            0x00 | TEM | RST0..=RST7 | SOI => {}
            _ => {
                let Some(len) = segment_length(data, pos) else {
                    return ends_early();
                };
                if len < 2 {
                    return Err(format!(
                        "a jpeg segment declares length {len}, less than its own 2 length bytes"
                    ));
                }
                pos += len;
                if pos > data.len() {
                    return ends_early();
                }
                if marker == SOS {
                    pos = skip_entropy_coded(data, pos);
                }
            }
        }
    }
}

/// Returns a lowercase reason when `data`, a JPEG, is coded in a way the
/// JPEG decoder cannot read: lossless, hierarchical or arithmetic-coded
/// (SOF3, SOF5 to SOF7, SOF9 to SOF15), or with 12- or 16-bit samples.
/// `None` when the decoder can read it, or when no start-of-frame marker is
/// found before the scan (the decoder then says what is wrong).
pub(crate) fn unsupported_coding(data: &[u8]) -> Option<String> {
    if !data.starts_with(&[0xFF, SOI]) {
        return None;
    }
    let mut pos = 2;
    loop {
        let (marker, after) = next_marker(data, pos)?;
        pos = after;
        match marker {
            SOS | EOI => return None,
            0x00 | TEM | RST0..=RST7 | SOI => {}
            DHT | JPG | DAC => pos = pos.checked_add(segment_length(data, pos)?)?,
            SOF0..=SOF15 => {
                // The frame header: length (2 bytes), then sample precision.
                let precision = data.get(pos.checked_add(2)?).copied();
                return describe_unsupported(marker - SOF0, precision);
            }
            _ => pos = pos.checked_add(segment_length(data, pos)?)?,
        }
    }
}

/// Why the decoder cannot read a frame of start-of-frame type `n`
/// (SOF`n`) and sample `precision`, or `None` if it can.
fn describe_unsupported(n: u8, precision: Option<u8>) -> Option<String> {
    // In the SOF numbering, bit 2 marks a hierarchical (differential)
    // frame, bit 3 arithmetic coding, and low bits 3 a lossless one.
    let kinds: Vec<&str> = [
        (n & 4 != 0, "hierarchical"),
        (n & 3 == 3, "lossless"),
        (n & 8 != 0, "arithmetic-coded"),
    ]
    .into_iter()
    .filter_map(|(is, kind)| is.then_some(kind))
    .collect();
    let what = if !kinds.is_empty() {
        format!("it is {} jpeg (sof{n})", kinds.join(" "))
    } else if let Some(bits @ (12 | 16)) = precision {
        format!("it is jpeg with {bits}-bit samples")
    } else {
        return None;
    };
    Some(format!(
        "{what}, which the jpeg decoder cannot read; expected 8-bit baseline or progressive jpeg"
    ))
}

/// The marker after the first 0xFF at or after `from` (fill bytes skipped),
/// and the position just past it; `None` when the data ends first.
fn next_marker(data: &[u8], from: usize) -> Option<(u8, usize)> {
    let mut pos = from + data.get(from..)?.iter().position(|&b| b == 0xFF)?;
    while data.get(pos) == Some(&0xFF) {
        pos += 1;
    }
    Some((*data.get(pos)?, pos + 1))
}

/// The big-endian segment length at `pos` (it counts its own two bytes).
fn segment_length(data: &[u8], pos: usize) -> Option<usize> {
    let len = data.get(pos..pos.checked_add(2)?)?;
    Some(usize::from(u16::from_be_bytes([len[0], len[1]])))
}

/// The position of the first marker after the entropy-coded data starting
/// at `pos` (or the end of `data`): a 0xFF followed by anything other than a
/// stuffed zero or a restart marker.
fn skip_entropy_coded(data: &[u8], mut pos: usize) -> usize {
    while let Some(ff) = data[pos..].iter().position(|&b| b == 0xFF) {
        pos += ff;
        match data.get(pos + 1) {
            Some(0x00 | RST0..=RST7) => pos += 2,
            // Fill bytes: look again from the next one.
            Some(0xFF) => pos += 1,
            _ => return pos,
        }
    }
    data.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built skeleton: SOI, an APP1 segment holding a fake thumbnail
    /// with its own EOI, SOS with entropy data containing stuffing and a
    /// restart marker, then EOI and a trailer.
    fn skeleton() -> Vec<u8> {
        let mut v = vec![0xFF, SOI];
        v.extend_from_slice(&[0xFF, 0xE1, 0x00, 0x08, 0xFF, SOI, 0xFF, EOI, 0x00, 0x00]);
        v.extend_from_slice(&[0xFF, SOS, 0x00, 0x04, 0x01, 0x02]);
        v.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56]);
        v.extend_from_slice(&[0xFF, EOI]);
        v.extend_from_slice(b"trailer");
        v
    }

    #[test]
    fn a_complete_skeleton_passes_and_every_cut_before_eoi_fails() {
        let full = skeleton();
        assert_eq!(check_complete(&full), Ok(()));
        let eoi = full.len() - b"trailer".len();
        for cut in 0..eoi {
            assert!(check_complete(&full[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn a_zero_segment_length_is_an_error() {
        assert!(check_complete(&[0xFF, SOI, 0xFF, 0xE0, 0x00, 0x00, 0xFF, EOI]).is_err());
    }

    /// SOI, an APP0 segment, a DHT segment (whose marker lies in the SOF
    /// range), then a frame header of type `sof` and `precision` bits.
    fn frame_header(sof: u8, precision: u8) -> Vec<u8> {
        let mut v = vec![0xFF, SOI, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB];
        v.extend_from_slice(&[0xFF, DHT, 0x00, 0x03, 0x00]);
        v.extend_from_slice(&[0xFF, sof, 0x00, 0x0B, precision, 0x00, 0x10, 0x00, 0x10]);
        v.extend_from_slice(&[0x01, 0x01, 0x11, 0x00]);
        v
    }

    #[test]
    fn eight_bit_huffman_frames_are_readable() {
        for sof in [0xC0, 0xC1, 0xC2] {
            assert_eq!(unsupported_coding(&frame_header(sof, 8)), None, "{sof:x}");
        }
    }

    #[test]
    fn twelve_and_sixteen_bit_samples_are_named() {
        for (sof, bits) in [(0xC1, 12), (0xC2, 12), (0xC0, 16)] {
            let reason = unsupported_coding(&frame_header(sof, bits)).unwrap();
            assert_eq!(
                reason,
                format!(
                    "it is jpeg with {bits}-bit samples, which the jpeg decoder cannot read; \
                     expected 8-bit baseline or progressive jpeg"
                )
            );
        }
    }

    #[test]
    fn lossless_hierarchical_and_arithmetic_frames_are_named() {
        let named = |sof| unsupported_coding(&frame_header(sof, 8)).unwrap();
        assert!(named(0xC3).starts_with("it is lossless jpeg (sof3), "));
        assert!(named(0xC5).starts_with("it is hierarchical jpeg (sof5), "));
        assert!(named(0xC7).starts_with("it is hierarchical lossless jpeg (sof7), "));
        assert!(named(0xC9).starts_with("it is arithmetic-coded jpeg (sof9), "));
        assert!(named(0xCA).starts_with("it is arithmetic-coded jpeg (sof10), "));
        assert!(named(0xCB).starts_with("it is lossless arithmetic-coded jpeg (sof11), "));
        assert!(
            named(0xCF).starts_with("it is hierarchical lossless arithmetic-coded jpeg (sof15), ")
        );
        // The process is named before the precision.
        let lossless_16 = unsupported_coding(&frame_header(0xC3, 16)).unwrap();
        assert!(lossless_16.starts_with("it is lossless jpeg (sof3)"));
    }

    #[test]
    fn cut_headers_and_headers_without_a_frame_are_left_to_the_decoder() {
        let full = frame_header(0xC1, 12);
        let precision_at = full.len() - 9;
        for cut in 0..=precision_at {
            assert_eq!(unsupported_coding(&full[..cut]), None, "cut at {cut}");
        }
        assert!(unsupported_coding(&full[..=precision_at]).is_some());
        assert_eq!(unsupported_coding(&skeleton()), None);
        // A segment length running past the end of the data.
        assert_eq!(
            unsupported_coding(&[0xFF, SOI, 0xFF, 0xE0, 0xFF, 0xFF, 0xFF, 0xC1]),
            None
        );
    }
}
