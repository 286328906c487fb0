//! Animations and multi-page files: the first frame is decoded and
//! `more_frames` says there is more (it used to be cut silently).

use std::io::Cursor;
use std::path::Path;

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::tiff::TiffEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, Frame, ImageEncoder, RgbaImage};
use pixmeans_io::{Decoded, Limits, decode_bytes};
use proptest::prelude::*;

fn decode(bytes: &[u8]) -> Decoded {
    decode_bytes(bytes, Path::new("in.img"), &Limits::default()).unwrap()
}

/// A `w` x `h` opaque RGB image, shaded by `seed`.
fn rgb(w: u32, h: u32, seed: u8) -> Vec<u8> {
    (0..w * h)
        .flat_map(|p| [(p * 7) as u8, seed, (p as u8).wrapping_mul(seed)])
        .collect()
}

fn gif(frames: u8) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        let frames = (0..frames).map(|i| {
            Frame::new(RgbaImage::from_fn(5, 4, |x, y| {
                image::Rgba([x as u8 * 50, y as u8 * 60, i * 100, 255])
            }))
        });
        encoder.encode_frames(frames).unwrap();
    }
    out
}

#[test]
fn a_two_frame_gif_has_more_frames_and_a_still_one_not() {
    let two = decode(&gif(2));
    assert_eq!(two.format, "gif");
    assert!(two.more_frames);
    let one = decode(&gif(1));
    assert!(!one.more_frames);
    assert_eq!(one.image, two.image, "the first frame is the one decoded");
}

/// A PNG of `frames` frames of 3 x 2 RGB; with `separate_default`, the
/// `IDAT` image is not one of them.
fn apng(frames: u32, separate_default: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, 3, 2);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_animated(frames, 0).unwrap();
    encoder.set_sep_def_img(separate_default).unwrap();
    let mut writer = encoder.write_header().unwrap();
    let images = frames + u32::from(separate_default);
    for i in 0..images {
        writer.write_image_data(&rgb(3, 2, i as u8 + 1)).unwrap();
    }
    writer.finish().unwrap();
    out
}

#[test]
fn an_animated_png_has_more_frames_unless_its_one_frame_is_the_image() {
    assert!(decode(&apng(2, false)).more_frames);
    assert!(!decode(&apng(1, false)).more_frames);
    // A default image outside the animation is a stand-in for it.
    assert!(decode(&apng(1, true)).more_frames);

    let mut still = Vec::new();
    image::codecs::png::PngEncoder::new(&mut still)
        .write_image(&rgb(3, 2, 1), 3, 2, ExtendedColorType::Rgb8)
        .unwrap();
    let still = decode(&still);
    assert!(!still.more_frames);
    assert_eq!(decode(&apng(2, false)).image, still.image);
}

fn tiff() -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    TiffEncoder::new(&mut out)
        .write_image(&rgb(4, 3, 9), 4, 3, ExtendedColorType::Rgb8)
        .unwrap();
    out.into_inner()
}

/// `single` with a copy of its first image file directory appended and
/// linked as the second page (its entries point at the same strips).
fn two_page_tiff(single: &[u8]) -> Vec<u8> {
    assert_eq!(&single[..4], b"II*\0", "the encoder writes little-endian");
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
    let first = u32_at(single, 4) as usize;
    let count = usize::from(u16::from_le_bytes([single[first], single[first + 1]]));
    let next_at = first + 2 + 12 * count;
    assert_eq!(u32_at(single, next_at), 0, "one page to start with");

    let mut bytes = single.to_vec();
    bytes.resize(bytes.len().next_multiple_of(2), 0);
    let second = u32::try_from(bytes.len()).unwrap();
    bytes.extend_from_slice(&single[first..next_at]);
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes[next_at..next_at + 4].copy_from_slice(&second.to_le_bytes());
    bytes
}

#[test]
fn a_two_page_tiff_has_more_frames_and_a_one_page_tiff_not() {
    let single = tiff();
    let one = decode(&single);
    assert_eq!(one.format, "tiff");
    assert!(!one.more_frames);
    let two = decode(&two_page_tiff(&single));
    assert!(two.more_frames);
    assert_eq!(two.image, one.image);
}

/// A lossless WebP of `w` x `h` RGBA, encoded by image-webp.
fn webp(w: u32, h: u32, rgba: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    WebPEncoder::new_lossless(&mut out)
        .write_image(rgba, w, h, ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// An animated WebP of `frames` copies of a 2 x 2 lossless image: a `VP8X`
/// header with the animation flag, an `ANIM` chunk, then one `ANMF` chunk
/// a frame, each holding the still image's `VP8L` chunk.
fn animated_webp(frames: usize) -> Vec<u8> {
    let rgba: Vec<u8> = (0..16)
        .map(|i| if i % 4 == 3 { 255 } else { i * 15 })
        .collect();
    let still = webp(2, 2, &rgba);
    assert_eq!(&still[12..16], b"VP8L");
    let vp8l = &still[12..];
    let mut v = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\x02\0\0\0\x01\0\0\x01\0\0".to_vec();
    v.extend_from_slice(b"ANIM\x06\0\0\0\0\0\0\0\0\0");
    for _ in 0..frames {
        let size = u32::try_from(16 + vp8l.len()).unwrap();
        v.extend_from_slice(b"ANMF");
        v.extend_from_slice(&size.to_le_bytes());
        // x / 2, y / 2, width − 1, height − 1, duration (3 bytes each), flags.
        v.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 100, 0, 0, 0]);
        v.extend_from_slice(vp8l);
        if vp8l.len() % 2 == 1 {
            v.push(0);
        }
    }
    let riff = u32::try_from(v.len() - 8).unwrap();
    v[4..8].copy_from_slice(&riff.to_le_bytes());
    v
}

#[test]
fn an_animated_webp_has_more_frames_and_one_frame_or_a_still_not() {
    let two = decode(&animated_webp(2));
    assert_eq!(two.format, "webp");
    assert!(two.more_frames);
    assert_eq!(
        (two.image.view().width(), two.image.view().height()),
        (2, 2)
    );
    assert!(!decode(&animated_webp(1)).more_frames);
    assert!(!decode(&webp(1, 1, &[1, 2, 3, 255])).more_frames);
}

#[test]
fn a_jpeg_has_no_more_frames() {
    let mut jpeg = Vec::new();
    JpegEncoder::new(&mut jpeg)
        .write_image(&rgb(8, 8, 3), 8, 8, ExtendedColorType::Rgb8)
        .unwrap();
    assert!(!decode(&jpeg).more_frames);
}

/// One small file of each multi-frame kind.
fn multi_frame_files() -> Vec<Vec<u8>> {
    vec![
        gif(2),
        apng(2, false),
        two_page_tiff(&tiff()),
        animated_webp(2),
    ]
}

#[test]
fn multi_frame_files_cut_anywhere_never_panic() {
    for bytes in multi_frame_files() {
        for cut in 0..bytes.len() {
            let _ = decode_bytes(&bytes[..cut], Path::new("cut"), &Limits::default());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn damaged_multi_frame_files_never_panic(
        which in 0usize..4,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
    ) {
        let mut bytes = multi_frame_files().swap_remove(which);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = decode_bytes(&bytes, Path::new("damaged"), &Limits::new(1 << 20));
    }
}
