//! Damaged files of every format give an error or an image, never a panic.

use std::path::Path;

use pixmeans_core::{IndexedImage, Palette};
use pixmeans_io::{Limits, OutputFormat, PngCompression, ReadError, decode_bytes, encode};
use proptest::prelude::*;

/// A 12 x 7 image of 6 colours and a transparent index.
fn small_image() -> IndexedImage {
    let colors: Vec<[u8; 3]> = (0..6u8).map(|i| [i * 40, 255 - i * 30, i * 17]).collect();
    let palette = Palette::new(&colors, true).unwrap();
    let indices = (0..12 * 7).map(|i| (i % 7) as u8).collect();
    IndexedImage::new(12, 7, palette, indices).unwrap()
}

/// One small valid file of each format we read.
fn valid_files() -> Vec<Vec<u8>> {
    let img = small_image();
    [
        OutputFormat::Png,
        OutputFormat::Gif,
        OutputFormat::Jpeg,
        OutputFormat::Bmp,
        OutputFormat::Tiff,
        OutputFormat::WebP,
    ]
    .into_iter()
    .map(|f| encode(&img, f, PngCompression::Default).unwrap())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn damaged_files_never_panic(
        which in 0usize..6,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = valid_files().swap_remove(which);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        let limits = Limits::new(1 << 20);
        if let Ok(decoded) = decode_bytes(&bytes, Path::new("damaged"), &limits) {
            let view = decoded.image.view();
            prop_assert!(u64::from(view.width()) * u64::from(view.height()) <= 1 << 20);
        }
    }
}

/// A TIFF whose `SampleFormat` entry lists no values: tiff 0.10 indexed the
/// empty list and panicked (found by the property above in CI).
#[test]
fn tiff_with_an_empty_sample_format_is_an_error() {
    let mut bytes = encode(&small_image(), OutputFormat::Tiff, PngCompression::Default).unwrap();
    assert_eq!(
        &bytes[..4],
        b"II*\0",
        "the encoder writes little-endian TIFF"
    );
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let ifd = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let entry = (0..usize::from(u16_at(&bytes, ifd)))
        .map(|n| ifd + 2 + 12 * n)
        .find(|&at| u16_at(&bytes, at) == 339)
        .expect("the encoder writes a SampleFormat entry");
    bytes[entry + 4..entry + 8].copy_from_slice(&0u32.to_le_bytes());

    let err = decode_bytes(&bytes, Path::new("empty.tif"), &Limits::new(1 << 20)).unwrap_err();
    assert!(matches!(err, ReadError::Malformed { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("empty.tif is truncated or corrupt"),
        "{err}"
    );
}
