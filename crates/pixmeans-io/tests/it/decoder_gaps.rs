//! Sound files the decoders cannot read are unsupported, not "truncated or
//! corrupt" or "no pixels"; a lossless WebP 16384 pixels wide decodes.

use std::path::Path;

use image::codecs::bmp::BmpEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder};
use pixmeans_io::{Decoded, Limits, ReadError, decode_bytes};

fn decode(bytes: &[u8], name: &str) -> Result<Decoded, ReadError> {
    decode_bytes(bytes, Path::new(name), &Limits::default())
}

/// An 8 x 8 baseline JPEG and the position of its SOF0 marker's second byte.
fn jpeg() -> (Vec<u8>, usize) {
    let pixels: Vec<u8> = (0..8 * 8 * 3).map(|i| (i * 5) as u8).collect();
    let mut bytes = Vec::new();
    JpegEncoder::new(&mut bytes)
        .write_image(&pixels, 8, 8, ExtendedColorType::Rgb8)
        .unwrap();
    let sof = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap() + 1;
    (bytes, sof)
}

#[test]
fn a_12_bit_jpeg_is_unsupported_not_corrupt() {
    let (mut bytes, sof) = jpeg();
    assert!(decode(&bytes, "photo.jpg").is_ok());
    // The frame header: marker, 2 length bytes, then the sample precision.
    bytes[sof] = 0xC1;
    bytes[sof + 3] = 12;
    let err = decode(&bytes, "photo.jpg").unwrap_err();
    assert!(matches!(err, ReadError::Unsupported { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "photo.jpg is not supported: it is jpeg with 12-bit samples, which the jpeg decoder \
         cannot read; expected 8-bit baseline or progressive jpeg"
    );
}

#[test]
fn lossless_and_arithmetic_jpegs_are_unsupported_and_named() {
    for (marker, what) in [
        (0xC3, "lossless jpeg (sof3)"),
        (0xC9, "arithmetic-coded jpeg (sof9)"),
        (0xC6, "hierarchical jpeg (sof6)"),
    ] {
        let (mut bytes, sof) = jpeg();
        bytes[sof] = marker;
        let err = decode(&bytes, "x.jpg").unwrap_err();
        assert!(matches!(err, ReadError::Unsupported { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with(&format!("x.jpg is not supported: it is {what}, ")),
            "{err}"
        );
    }
}

#[test]
fn a_bmp_wider_than_65535_is_unsupported_not_corrupt() {
    let mut bytes = Vec::new();
    BmpEncoder::new(&mut bytes)
        .write_image(&[9; 2 * 2 * 3], 2, 2, ExtendedColorType::Rgb8)
        .unwrap();
    assert!(decode(&bytes, "wide.bmp").is_ok());
    bytes[18..22].copy_from_slice(&70_000i32.to_le_bytes());
    let err = decode(&bytes, "wide.bmp").unwrap_err();
    assert!(matches!(err, ReadError::Unsupported { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "wide.bmp is not supported: it is bmp of 70000 x 2 pixels, which the bmp decoder cannot \
         read; expected at most 65535 pixels wide and tall"
    );
}

/// A lossless WebP, which may be up to 16384 pixels wide, was said to have
/// "no pixels (0 x 16384)": image-webp 0.2.4 reads 16384 as 0.
#[test]
fn a_lossless_webp_16384_pixels_wide_or_tall_decodes() {
    for (w, h, alpha) in [(16_384, 2, true), (3, 16_384, false)] {
        let rgba: Vec<u8> = (0..w * h * 4)
            .map(|i| match i % 4 {
                3 if alpha => (i / 4 % 200) as u8,
                3 => 255,
                c => ((i / 4 / w) as u8).wrapping_mul(c as u8 + 1),
            })
            .collect();
        let mut bytes = Vec::new();
        WebPEncoder::new_lossless(&mut bytes)
            .write_image(&rgba, w, h, ExtendedColorType::Rgba8)
            .unwrap();
        let decoded = decode(&bytes, "big.webp").unwrap();
        let view = decoded.image.view();
        assert_eq!((view.width(), view.height()), (w, h));
        assert_eq!(decoded.file_bytes, bytes.len() as u64);
        if alpha {
            assert_eq!(view.data(), rgba.as_slice());
        } else {
            let rgb: Vec<u8> = rgba.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
            assert_eq!(view.data(), rgb.as_slice());
        }
    }
}

#[test]
fn a_full_size_lossless_webp_is_still_held_to_the_pixel_limit() {
    let mut bytes = Vec::new();
    WebPEncoder::new_lossless(&mut bytes)
        .write_image(
            &vec![0; 16_384 * 4 * 4],
            16_384,
            4,
            ExtendedColorType::Rgba8,
        )
        .unwrap();
    let err = decode_bytes(&bytes, Path::new("big.webp"), &Limits::new(60_000)).unwrap_err();
    assert!(
        matches!(
            err,
            ReadError::TooLarge {
                width: 16_384,
                height: 4,
                ..
            }
        ),
        "{err:?}"
    );
}
