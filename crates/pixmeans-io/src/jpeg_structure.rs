//! A walk over the marker segments of a JPEG file, to tell a complete file
//! from a truncated one.
//!
//! The `image` crate decodes JPEG with zune-jpeg in its lenient mode: when the
//! data stops in the middle of the scan it returns the image anyway, the
//! missing part filled with grey, and no error. A truncated photo would then
//! be quantized as if grey were part of it. This module finds out, without
//! decoding anything, whether the file reaches its end-of-image marker.

/// The second byte of the markers this walk cares about (each follows `0xFF`).
const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const TEM: u8 = 0x01;
const RST0: u8 = 0xD0;
const RST7: u8 = 0xD7;

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
        // Find the next 0xFF and skip any fill bytes after it.
        let Some(ff) = data[pos..].iter().position(|&b| b == 0xFF) else {
            return ends_early();
        };
        pos += ff;
        while data.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let Some(&marker) = data.get(pos) else {
            return ends_early();
        };
        pos += 1;
        match marker {
            EOI => return Ok(()),
            // A zero byte after 0xFF is stuffing, not a marker; reaching one
            // here means we are resynchronising past stray bytes.
            0x00 | TEM | RST0..=RST7 | SOI => {}
            _ => {
                let Some(len) = data.get(pos..pos + 2) else {
                    return ends_early();
                };
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
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
}
