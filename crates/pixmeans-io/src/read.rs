//! Reading images: the format from the content, a pixel limit checked from
//! the header before any pixel is decoded, and conversion to 8-bit RGB or
//! RGBA in sRGB.

use std::io::{self, Cursor, Read};
use std::path::Path;

use image::metadata::Orientation;
use image::{ColorType, DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use pixmeans_core::{Image, PixelFormat};

use crate::color_profile::{self, ProfileUse};
use crate::read_error::{READABLE, ReadError, from_image_error};
use crate::{decoder_gaps, jpeg_structure, multi_frame};

/// The pixel limit of [`Limits::default`]: 200 million pixels, for example
/// 16 000 x 12 500, which is 600 MB as RGB.
pub const DEFAULT_MAX_PIXELS: u64 = 200_000_000;

/// What the decoder may allocate per pixel allowed by the limit: 16 bytes,
/// the widest layout a supported decoder produces (32-bit float RGBA TIFF).
const MAX_DECODER_BYTES_PER_PIXEL: u64 = 16;

/// The least the decoder may allocate whatever the pixel limit, so that the
/// metadata of a small image (an ICC profile, PNG text chunks) still fits.
const MIN_DECODER_ALLOC: u64 = 64 << 20;

/// How large an image [`read_image`] and [`decode_bytes`] accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Limits {
    /// The most pixels (width × height) an image may have. Checked from the
    /// header, before any pixel is decoded. Default: [`DEFAULT_MAX_PIXELS`].
    pub max_pixels: u64,
}

impl Limits {
    /// Limits allowing at most `max_pixels` pixels. `u64::MAX` turns the
    /// check off.
    pub fn new(max_pixels: u64) -> Self {
        Limits { max_pixels }
    }

    /// The `image` crate's limits matching ours: a decoder may allocate
    /// [`MAX_DECODER_BYTES_PER_PIXEL`] bytes for every pixel we allow, and
    /// at least [`MIN_DECODER_ALLOC`].
    fn for_decoder(self) -> image::Limits {
        let mut limits = image::Limits::default();
        limits.max_alloc = Some(
            self.max_pixels
                .saturating_mul(MAX_DECODER_BYTES_PER_PIXEL)
                .max(MIN_DECODER_ALLOC),
        );
        limits
    }
}

impl Default for Limits {
    /// At most [`DEFAULT_MAX_PIXELS`] (200 000 000) pixels.
    fn default() -> Self {
        Limits::new(DEFAULT_MAX_PIXELS)
    }
}

/// A decoded image and what was learnt on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Decoded {
    /// The pixels: RGB8, or RGBA8 when the file has an alpha channel and at
    /// least one pixel is not fully opaque. Turned upright when the file
    /// carries an EXIF orientation.
    pub image: Image,
    /// The format found in the content: `"png"`, `"jpeg"`, `"gif"`, `"bmp"`,
    /// `"tiff"` or `"webp"`.
    pub format: &'static str,
    /// The size of the encoded file (or byte slice) in bytes.
    pub file_bytes: u64,
    /// Whether the file holds more than the one frame or page in
    /// [`image`](Self::image), which is its first: an animated GIF (a second
    /// image), an animated PNG (an `acTL` chunk with more than one frame, or
    /// whose one frame is not the default image), an animated WebP (two or
    /// more `ANMF` frames) or a multi-page TIFF (a second image directory,
    /// which may be a reduced-size preview). Found from headers and chunk
    /// sizes; the other frames are not decoded. `false` for a still image,
    /// for JPEG and BMP, and when the rest of the file cannot be read.
    pub more_frames: bool,
    /// What was done with the file's colour profile: pixels in another RGB
    /// space (Adobe RGB, Display P3) are converted to sRGB.
    pub profile: ProfileUse,
}

/// Reads and decodes the image file at `path`; the format comes from the
/// content, not the extension. See [`decode_bytes`] for what comes out.
///
/// # Errors
///
/// - [`ReadError::NotFound`] when there is no file at `path`;
/// - [`ReadError::Io`] when it cannot be opened or read;
/// - any error of [`read_from`] (and so of [`decode_bytes`]) for its content.
pub fn read_image(path: &Path, limits: &Limits) -> Result<Decoded, ReadError> {
    let file = std::fs::File::open(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => ReadError::NotFound {
            path: path.to_path_buf(),
        },
        _ => ReadError::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    read_from(file, path, limits)
}

/// Reads an encoded image from `reader` (a file, standard input) and
/// decodes it; `name` is only used in error messages. The first bytes are
/// checked for an image format's signature before the rest is read, so
/// that a stream that is no image (`/dev/zero`, a huge file of anything
/// else) is refused at once instead of read into memory to its end.
///
/// # Errors
///
/// - [`ReadError::Io`] when reading from `reader` fails;
/// - [`ReadError::EmptyFile`] when it yields no bytes, and
///   [`ReadError::NotAnImage`] when its first bytes are no image signature;
/// - any error of [`decode_bytes`] for the bytes read.
pub fn read_from(
    mut reader: impl Read,
    name: &Path,
    limits: &Limits,
) -> Result<Decoded, ReadError> {
    let io_error = |source| ReadError::Io {
        path: name.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    (&mut reader)
        .take(SIGNATURE_BYTES)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.is_empty() {
        return Err(ReadError::EmptyFile {
            path: name.to_path_buf(),
        });
    }
    if image::guess_format(&bytes).is_err() {
        return Err(ReadError::NotAnImage {
            path: name.to_path_buf(),
        });
    }
    reader.read_to_end(&mut bytes).map_err(io_error)?;
    decode_bytes(&bytes, name, limits)
}

/// How many bytes [`read_from`] reads before it knows whether an image
/// format's signature is there: the image crate guesses from the first 16
/// (its longest signatures, WebP's and AVIF's, take 12).
const SIGNATURE_BYTES: u64 = 64;

/// Decodes an encoded image held in memory. `name` is only used in error
/// messages (for example `<stdin>`).
///
/// The format is found from the content: PNG, JPEG, GIF, BMP, TIFF or WebP;
/// of an animation or a multi-page file, the first frame or page is
/// decoded and [`Decoded::more_frames`] says there is more. The dimensions
/// are checked against `limits` from the header, before any pixel is
/// decoded. The result is RGB8, or RGBA8 when the image has an alpha
/// channel and at least one pixel's alpha is below 255; grey and 16-bit
/// images are converted, and so are colours in another RGB space than sRGB
/// when the file's colour profile says so (see [`ProfileUse`]). A JPEG that
/// ends before its
/// end-of-image marker is an error, not an image padded with grey. A file
/// the decoder cannot read although it is sound (a 12-bit or lossless JPEG,
/// a BMP over 65535 pixels wide) is [`ReadError::Unsupported`], not
/// [`ReadError::Malformed`].
///
/// # Errors
///
/// - [`ReadError::EmptyFile`] when `bytes` is empty, and
///   [`ReadError::NotAnImage`] when it starts with no known image signature;
/// - [`ReadError::Unsupported`] for another format than the six above, or a
///   feature of one of them that the decoder lacks;
/// - [`ReadError::Malformed`] for truncated or corrupt data, including a JPEG
///   that ends before its end-of-image marker;
/// - [`ReadError::Empty`] or [`ReadError::TooLarge`] when the header declares
///   a width or height of 0, or more pixels than `limits.max_pixels`;
/// - [`ReadError::OverMemoryLimit`] when the decoder would need more memory
///   than the limit allows, and [`ReadError::OutOfMemory`] when this machine
///   cannot give the memory that decoding takes.
pub fn decode_bytes(bytes: &[u8], name: &Path, limits: &Limits) -> Result<Decoded, ReadError> {
    let path = || name.to_path_buf();
    if bytes.is_empty() {
        return Err(ReadError::EmptyFile { path: path() });
    }
    let format = image::guess_format(bytes).map_err(|_| ReadError::NotAnImage { path: path() })?;
    let format_name = readable_format_name(format).ok_or_else(|| ReadError::Unsupported {
        path: path(),
        detail: format!(
            "{} images cannot be read, expected {READABLE}",
            format!("{format:?}").to_lowercase()
        ),
    })?;
    let encoded =
        decoder_gaps::prepare(format, bytes).map_err(|detail| ReadError::Unsupported {
            path: path(),
            detail,
        })?;
    let mut reader = ImageReader::with_format(Cursor::new(&*encoded), format);
    reader.limits(limits.for_decoder());
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| from_image_error(e, name))?;

    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(ReadError::Empty {
            path: path(),
            width,
            height,
        });
    }
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(ReadError::TooLarge {
            path: path(),
            width,
            height,
            limit: limits.max_pixels,
        });
    }
    if format == ImageFormat::Jpeg {
        jpeg_structure::check_complete(bytes).map_err(|detail| ReadError::Malformed {
            path: path(),
            detail,
        })?;
    }
    // Broken metadata should not cost the pixels: read the image unrotated.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    // A failed allocation aborts the process: ask for the decoder's buffer,
    // and for the RGBA copy that another layout or a rotation makes, up
    // front, so that an image too large for this machine is an error
    // instead. (Several images decoded at once can still run out.)
    let pixels = u64::from(width) * u64::from(height);
    let copied = !matches!(decoder.color_type(), ColorType::Rgb8 | ColorType::Rgba8)
        || orientation != Orientation::NoTransforms;
    let needed =
        decoder
            .total_bytes()
            .saturating_add(if copied { pixels.saturating_mul(4) } else { 0 });
    if !can_allocate(needed) {
        return Err(ReadError::OutOfMemory {
            path: path(),
            bytes: needed,
        });
    }
    let icc = decoder.icc_profile();
    let grey = matches!(
        decoder.color_type(),
        ColorType::L8 | ColorType::La8 | ColorType::L16 | ColorType::La16
    );
    let mut decoded = DynamicImage::from_decoder(decoder).map_err(|e| from_image_error(e, name))?;
    decoded.apply_orientation(orientation);
    let (width, height) = (decoded.width(), decoded.height());
    let (pixel_format, mut data) = into_rgb_or_rgba(decoded);
    let has_alpha = pixel_format == PixelFormat::Rgba8;
    let profile = match icc {
        Ok(icc) => color_profile::to_srgb(icc.as_deref(), &mut data, has_alpha, grey),
        Err(e) => ProfileUse::Ignored {
            reason: format!("its colour profile cannot be read ({e})"),
        },
    };
    let image =
        Image::new(width, height, pixel_format, data).map_err(|e| ReadError::Malformed {
            path: path(),
            detail: e.to_string(),
        })?;
    Ok(Decoded {
        image,
        format: format_name,
        file_bytes: bytes.len() as u64,
        more_frames: multi_frame::has_more_frames(format, bytes),
        profile,
    })
}

/// Whether `bytes` can be allocated now. The memory is given back at once;
/// untouched, it costs no more than the asking.
fn can_allocate(bytes: u64) -> bool {
    usize::try_from(bytes).is_ok_and(|n| Vec::<u8>::new().try_reserve_exact(n).is_ok())
}

/// Our name for a format we read, or `None` for one we do not.
fn readable_format_name(format: ImageFormat) -> Option<&'static str> {
    Some(match format {
        ImageFormat::Png => "png",
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::Gif => "gif",
        ImageFormat::Bmp => "bmp",
        ImageFormat::Tiff => "tiff",
        ImageFormat::WebP => "webp",
        _ => return None,
    })
}

/// The pixels as RGB8, or as RGBA8 when some pixel is not fully opaque.
fn into_rgb_or_rgba(decoded: DynamicImage) -> (PixelFormat, Vec<u8>) {
    if !decoded.color().has_alpha() {
        return (PixelFormat::Rgb8, decoded.into_rgb8().into_raw());
    }
    let mut data = decoded.into_rgba8().into_raw();
    if data.chunks_exact(4).any(|p| p[3] < 255) {
        return (PixelFormat::Rgba8, data);
    }
    // Drop the alpha channel in place: the write position never passes the
    // read position, so no second buffer is needed.
    let pixels = data.len() / 4;
    for i in 0..pixels {
        data.copy_within(i * 4..i * 4 + 3, i * 3);
    }
    data.truncate(pixels * 3);
    (PixelFormat::Rgb8, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::jpeg::JpegEncoder;
    use image::codecs::png::PngEncoder;
    use image::{ExtendedColorType, ImageEncoder};

    /// A `w` x `h` RGB image with smooth gradients and some texture, so
    /// compressed data spans most of the file.
    fn rgb_pixels(w: u32, h: u32) -> Vec<u8> {
        (0..w * h)
            .flat_map(|p| {
                let (x, y) = (p % w, p / w);
                [(x * 4) as u8, (y * 4) as u8, ((x * y) % 251) as u8]
            })
            .collect()
    }

    fn png_bytes(data: &[u8], w: u32, h: u32, color: ExtendedColorType) -> Vec<u8> {
        let mut out = Vec::new();
        PngEncoder::new(&mut out)
            .write_image(data, w, h, color)
            .unwrap();
        out
    }

    fn jpeg_bytes(w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90)
            .write_image(&rgb_pixels(w, h), w, h, ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    fn decode(bytes: &[u8]) -> Result<Decoded, ReadError> {
        decode_bytes(bytes, Path::new("in.img"), &Limits::default())
    }

    #[test]
    fn the_default_limit_is_200_million_pixels() {
        assert_eq!(Limits::default().max_pixels, 200_000_000);
    }

    #[test]
    fn truncated_png_is_malformed() {
        let bytes = png_bytes(&rgb_pixels(64, 64), 64, 64, ExtendedColorType::Rgb8);
        assert!(decode(&bytes).is_ok());
        let err = decode(&bytes[..bytes.len() / 2]).unwrap_err();
        assert!(matches!(err, ReadError::Malformed { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("in.img is truncated or corrupt"),
            "{err}"
        );
    }

    #[test]
    fn truncated_jpeg_is_malformed_not_grey() {
        let bytes = jpeg_bytes(64, 64);
        let full = decode(&bytes).unwrap();
        assert_eq!(full.format, "jpeg");
        assert_eq!(full.image.view().format(), PixelFormat::Rgb8);
        for cut in [bytes.len() / 2, bytes.len() - 2] {
            let err = decode(&bytes[..cut]).unwrap_err();
            assert!(
                matches!(err, ReadError::Malformed { .. }),
                "cut {cut}: {err:?}"
            );
        }
    }

    #[test]
    fn bytes_after_the_end_of_a_jpeg_are_ignored() {
        let mut bytes = jpeg_bytes(16, 8);
        bytes.extend_from_slice(b"\0\0some trailer a phone appended");
        assert!(decode(&bytes).is_ok());
    }

    #[test]
    fn random_bytes_are_not_an_image_and_an_empty_file_says_so() {
        let random = crate::test_noise::bytes(4096, 0x4f6c_dd1d);
        assert!(matches!(decode(&random), Err(ReadError::NotAnImage { .. })));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.png");
        std::fs::write(&path, b"").unwrap();
        let err = read_image(&path, &Limits::default()).unwrap_err();
        assert!(matches!(&err, ReadError::EmptyFile { path: p } if p == &path));
        assert!(err.to_string().contains("empty.png is empty"), "{err}");
    }

    #[test]
    fn an_endless_stream_that_is_no_image_is_refused_without_reading_it() {
        for byte in [0u8, 0xAB] {
            let err =
                read_from(io::repeat(byte), Path::new("<stdin>"), &Limits::default()).unwrap_err();
            assert!(matches!(err, ReadError::NotAnImage { .. }), "{err}");
        }
        let err = read_from(io::empty(), Path::new("<stdin>"), &Limits::default()).unwrap_err();
        assert!(matches!(err, ReadError::EmptyFile { .. }), "{err}");
    }

    #[test]
    fn an_image_read_from_a_stream_is_the_image_read_from_bytes() {
        let png = png_bytes(&rgb_pixels(40, 30), 40, 30, ExtendedColorType::Rgb8);
        let streamed = read_from(&png[..], Path::new("<stdin>"), &Limits::default()).unwrap();
        assert_eq!(streamed, decode(&png).unwrap());
    }

    #[test]
    fn a_missing_file_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.jpg");
        let err = read_image(&path, &Limits::default()).unwrap_err();
        assert!(matches!(&err, ReadError::NotFound { path: p } if p == &path));
        assert!(err.to_string().contains("nope.jpg"), "{err}");
    }

    #[test]
    fn a_known_format_we_do_not_read_is_unsupported() {
        let err = decode(b"qoif\0\0\0\x10\0\0\0\x10\x03\0").unwrap_err();
        assert!(matches!(err, ReadError::Unsupported { .. }), "{err:?}");
        assert!(
            err.to_string().contains("qoi images cannot be read"),
            "{err}"
        );
    }

    /// A PNG header of `side` x `side` RGB pixels with a token IDAT.
    fn huge_png(side: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, side, side);
        encoder.set_color(png::ColorType::Rgb);
        let mut writer = encoder.write_header().unwrap();
        writer
            .write_chunk(
                png::chunk::IDAT,
                &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
            )
            .unwrap();
        writer.finish().unwrap();
        bytes
    }

    #[test]
    fn a_huge_declared_size_is_too_large_before_any_pixel_is_decoded() {
        // Decoding pixels would need 30 GB.
        let err = decode(&huge_png(100_000)).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::TooLarge {
                    width: 100_000,
                    height: 100_000,
                    limit: 200_000_000,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "in.img is 100000 x 100000 = 10000000000 pixels, over the limit of 200000000"
        );
    }

    #[test]
    fn memory_the_machine_cannot_give_is_an_error_not_an_abort() {
        // With the limit off, 10^12 pixels ask for 3 TB: where the
        // system refuses that, the error says so; where it promises any
        // amount, the token pixel data ends early. Never an abort.
        let bytes = huge_png(1_000_000);
        let err = decode_bytes(&bytes, Path::new("in.png"), &Limits::new(u64::MAX)).unwrap_err();
        match err {
            ReadError::OutOfMemory { bytes, .. } => {
                assert_eq!(bytes, 3 * 1_000_000u64.pow(2));
                assert!(
                    err.to_string()
                        .starts_with("in.png needs 3000000 MB of memory"),
                    "{err}"
                );
            }
            ReadError::Malformed { .. } => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_limit_is_inclusive() {
        let bytes = png_bytes(&rgb_pixels(5, 4), 5, 4, ExtendedColorType::Rgb8);
        let name = Path::new("x");
        assert!(decode_bytes(&bytes, name, &Limits::new(20)).is_ok());
        assert!(matches!(
            decode_bytes(&bytes, name, &Limits::new(19)),
            Err(ReadError::TooLarge { limit: 19, .. })
        ));
    }

    #[test]
    fn alpha_is_kept_only_when_some_pixel_uses_it() {
        let mut rgba: Vec<u8> = rgb_pixels(6, 3)
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect();
        let opaque = decode(&png_bytes(&rgba, 6, 3, ExtendedColorType::Rgba8)).unwrap();
        assert_eq!(opaque.image.view().format(), PixelFormat::Rgb8);
        assert_eq!(opaque.image.view().data(), rgb_pixels(6, 3).as_slice());

        rgba[4 * 7 + 3] = 254;
        let translucent = decode(&png_bytes(&rgba, 6, 3, ExtendedColorType::Rgba8)).unwrap();
        assert_eq!(translucent.image.view().format(), PixelFormat::Rgba8);
        assert_eq!(translucent.image.view().data(), rgba.as_slice());
    }

    #[test]
    fn sixteen_bit_grey_becomes_eight_bit_rgb() {
        let samples: [u16; 4] = [0, 257 * 18, 257 * 200, 65535];
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_ne_bytes()).collect();
        let decoded = decode(&png_bytes(&bytes, 2, 2, ExtendedColorType::L16)).unwrap();
        assert_eq!(decoded.image.view().format(), PixelFormat::Rgb8);
        let expected: Vec<u8> = [0u8, 18, 200, 255].iter().flat_map(|&v| [v; 3]).collect();
        assert_eq!(decoded.image.view().data(), expected.as_slice());
    }

    #[test]
    fn exif_orientation_is_applied() {
        // 2 x 1, red then blue, tagged "rotate 90° clockwise" (orientation 6).
        let exif: &[u8] = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, 2, 1);
        encoder.set_color(png::ColorType::Rgb);
        let mut writer = encoder.write_header().unwrap();
        writer.write_chunk(png::chunk::eXIf, exif).unwrap();
        writer.write_image_data(&[255, 0, 0, 0, 0, 255]).unwrap();
        writer.finish().unwrap();

        let view = decode(&bytes).unwrap().image;
        let view = view.view();
        assert_eq!((view.width(), view.height()), (1, 2));
        assert_eq!(view.data(), &[255, 0, 0, 0, 0, 255]);
    }

    #[test]
    fn file_bytes_and_format_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photo.dat");
        let bytes = jpeg_bytes(9, 7);
        std::fs::write(&path, &bytes).unwrap();
        let decoded = read_image(&path, &Limits::default()).unwrap();
        assert_eq!(decoded.format, "jpeg");
        assert_eq!(decoded.file_bytes, bytes.len() as u64);
        assert_eq!(
            (decoded.image.view().width(), decoded.image.view().height()),
            (9, 7)
        );
    }

    #[test]
    fn a_jpeg_in_adobe_rgb_is_read_as_srgb() {
        let mut adobe = moxcms::ColorProfile::new_adobe_rgb();
        adobe.description = Some(moxcms::ProfileText::PlainString(
            "Adobe RGB (1998)".to_owned(),
        ));
        // Flat green, so JPEG's error stays far below the conversion's.
        let green = [60u8, 170, 70].repeat(16 * 16);
        let mut bytes = Vec::new();
        let mut encoder = JpegEncoder::new_with_quality(&mut bytes, 95);
        encoder.set_icc_profile(adobe.encode().unwrap()).unwrap();
        encoder
            .write_image(&green, 16, 16, ExtendedColorType::Rgb8)
            .unwrap();
        let decoded = decode(&bytes).unwrap();
        assert_eq!(
            decoded.profile,
            ProfileUse::Converted {
                name: "Adobe RGB (1998)".to_owned()
            }
        );
        // LittleCMS (through Pillow) makes this green [0, 172, 59] in sRGB.
        let pixel = &decoded.image.view().data()[..3];
        assert!(
            pixel[0] < 10 && pixel[1].abs_diff(172) <= 3 && pixel[2].abs_diff(59) <= 3,
            "{pixel:?}"
        );

        let plain = decode(&jpeg_bytes(9, 7)).unwrap();
        assert_eq!(plain.profile, ProfileUse::Absent);
    }
}
