//! The label map as a `NumPy` `.npy` file (format version 1.0): a short text
//! header naming the element type and shape, then the labels row by row.
//! The format is a few lines to write, so it is written here rather than
//! through a dependency.

use pixmeans_core::LabelMap;

use crate::segment_images::label_bits;

/// The label map as a `(height, width)` array of `uint8` when every label
/// present fits a byte, else little-endian `uint16` (as `labels.png`).
pub fn labels_npy(map: &LabelMap) -> Vec<u8> {
    let wide = label_bits(map) == 16;
    let descr = if wide { "<u2" } else { "|u1" };
    let mut header = format!(
        "{{'descr': '{descr}', 'fortran_order': False, 'shape': ({}, {}), }}",
        map.height(),
        map.width()
    );
    // Magic (6), version (2) and length (2), then the header padded with
    // spaces and ended by a newline so the data starts on a 64-byte boundary.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let per_label = if wide { 2 } else { 1 };
    let mut out = Vec::with_capacity(10 + header.len() + map.labels().len() * per_label);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    if wide {
        out.extend(map.labels().iter().flat_map(|&l| (l as u16).to_le_bytes()));
    } else {
        out.extend(map.labels().iter().map(|&l| l as u8));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_data_as_numpy_lays_them_out() {
        let map = LabelMap::new(3, 2, 2, vec![0, 1, 1, 2, 0, 0]).unwrap();
        let npy = labels_npy(&map);
        assert_eq!(&npy[..8], b"\x93NUMPY\x01\x00");
        let len = usize::from(u16::from_le_bytes([npy[8], npy[9]]));
        assert_eq!((10 + len) % 64, 0);
        let header = std::str::from_utf8(&npy[10..10 + len]).unwrap();
        assert!(header.starts_with("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }"));
        assert!(header.ends_with('\n'));
        assert_eq!(&npy[10 + len..], [0, 1, 1, 2, 0, 0]);
    }

    #[test]
    fn labels_past_255_take_two_bytes() {
        let map = LabelMap::new(2, 1, 300, vec![299, 1]).unwrap();
        let npy = labels_npy(&map);
        let len = usize::from(u16::from_le_bytes([npy[8], npy[9]]));
        assert!(
            std::str::from_utf8(&npy[10..10 + len])
                .unwrap()
                .contains("'<u2'")
        );
        assert_eq!(&npy[10 + len..], [43, 1, 1, 0]);
    }
}
