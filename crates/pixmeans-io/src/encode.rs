//! Encoding a quantized image in the format its output path asks for.

use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder};
use pixmeans_core::IndexedImage;
use pixmeans_core::opacity::over_white;

use crate::deflated_tiff::encode_tiff;
use crate::indexed_bmp::encode_bmp;
use crate::indexed_gif::encode_gif;
use crate::indexed_png::{PngCompression, encode_indexed_png};
use crate::write::WriteError;

/// JPEG quality for [`OutputFormat::Jpeg`], on the usual 1 to 100 scale.
pub const JPEG_QUALITY: u8 = 90;

/// The extensions [`OutputFormat::from_path`] accepts, as listed in messages.
pub(crate) const WRITABLE_EXTENSIONS: &str = ".png, .jpg, .jpeg, .webp, .bmp, .tif, .tiff or .gif";

/// A file format an [`IndexedImage`] can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    /// Indexed PNG at 1 to 8 bits a pixel: lossless and the smallest.
    Png,
    /// JPEG at quality [`JPEG_QUALITY`]; lossy, so it adds colours back.
    Jpeg,
    /// Lossless WebP (the only kind the `image` crate writes).
    WebP,
    /// BMP, uncompressed: 8-bit indices under the palette (RGBA with
    /// transparency).
    Bmp,
    /// TIFF: RGB (RGBA with transparency), deflated.
    Tiff,
    /// Single-frame GIF holding the palette and indices exactly.
    Gif,
}

impl OutputFormat {
    /// The format named by the extension of `path`, ignoring case: `png`,
    /// `jpg`, `jpeg`, `webp`, `bmp`, `tif`, `tiff` or `gif`. Any other
    /// extension, or none, is [`WriteError::UnknownExtension`].
    ///
    /// # Errors
    ///
    /// [`WriteError::UnknownExtension`] when `path` has no extension, or one
    /// not listed above.
    pub fn from_path(path: &Path) -> Result<OutputFormat, WriteError> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        Ok(match extension.as_deref() {
            Some("png") => OutputFormat::Png,
            Some("jpg" | "jpeg") => OutputFormat::Jpeg,
            Some("webp") => OutputFormat::WebP,
            Some("bmp") => OutputFormat::Bmp,
            Some("tif" | "tiff") => OutputFormat::Tiff,
            Some("gif") => OutputFormat::Gif,
            _ => {
                return Err(WriteError::UnknownExtension {
                    path: path.to_path_buf(),
                });
            }
        })
    }

    /// The format's name in lowercase: `"png"`, `"jpeg"`, `"webp"`, `"bmp"`,
    /// `"tiff"` or `"gif"`.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Png => "png",
            OutputFormat::Jpeg => "jpeg",
            OutputFormat::WebP => "webp",
            OutputFormat::Bmp => "bmp",
            OutputFormat::Tiff => "tiff",
            OutputFormat::Gif => "gif",
        }
    }

    /// The extension pixmeans gives the files it names in this format: the
    /// [`name`](Self::name), but `"jpg"` for JPEG.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            other => other.name(),
        }
    }

    /// The largest width or height the format stores, if below `u32::MAX`.
    fn max_side(self) -> Option<u32> {
        match self {
            OutputFormat::Jpeg | OutputFormat::Gif => Some(u32::from(u16::MAX)),
            OutputFormat::WebP => Some(16_384),
            OutputFormat::Bmp => Some(i32::MAX as u32),
            OutputFormat::Png | OutputFormat::Tiff => None,
        }
    }
}

/// Why an image could not be encoded. Encoding happens in memory, so no
/// file is involved yet: callers add the output path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The image is wider or taller than the format can store.
    #[error(
        "a {width} x {height} image is too large for {format}, which stores at most {max} pixels a side"
    )]
    TooLargeForFormat {
        /// The format's name.
        format: &'static str,
        /// The image width.
        width: u32,
        /// The image height.
        height: u32,
        /// The largest side the format stores.
        max: u32,
    },
    /// The encoder reported an error.
    #[error("cannot encode the image as {format}: {detail}")]
    Encoder {
        /// The format's name.
        format: &'static str,
        /// What the encoder reported.
        detail: String,
    },
    /// A segmentation picture was asked for an image and a label map of
    /// different sizes.
    #[error(
        "the label map is {labels_width} x {labels_height} but the image is {width} x {height}"
    )]
    LabelsDoNotFit {
        /// The label map's width.
        labels_width: u32,
        /// The label map's height.
        labels_height: u32,
        /// The image's width.
        width: u32,
        /// The image's height.
        height: u32,
    },
}

impl EncodeError {
    /// What a PNG encoder reported.
    pub(crate) fn png(detail: impl std::fmt::Display) -> Self {
        EncodeError::Encoder {
            format: "png",
            detail: detail.to_string(),
        }
    }
}

/// Writes the PNG that `encoder` (its header set up) describes, with the
/// zlib stream of its filtered rows already made, in IDAT chunks of at most
/// `chunk_bytes`.
pub(crate) fn write_png(
    encoder: png::Encoder<'_, &mut Vec<u8>>,
    zlib: &[u8],
    chunk_bytes: usize,
) -> Result<(), EncodeError> {
    let mut writer = encoder.write_header().map_err(EncodeError::png)?;
    for part in zlib.chunks(chunk_bytes) {
        writer
            .write_chunk(png::chunk::IDAT, part)
            .map_err(EncodeError::png)?;
    }
    writer.finish().map_err(EncodeError::png)
}

/// Encodes `img` as `format`. `compression` applies to PNG only.
///
/// - PNG: [`encode_indexed_png`].
/// - GIF: [`encode_gif`].
/// - JPEG: RGB at quality [`JPEG_QUALITY`]. JPEG has no transparency, so
///   palette entries that are not opaque are composited onto white (a
///   fully transparent pixel becomes pure white).
/// - BMP: 8-bit indices under the palette, or RGBA with transparency.
/// - TIFF: RGB, or RGBA with transparency, deflated.
/// - WebP (lossless): RGB, or RGBA when some palette entry is not
///   opaque; the `image` crate's encoder has no palette mode, so it is
///   larger than the PNG.
///
/// # Errors
///
/// - [`EncodeError::TooLargeForFormat`] when a side is above what `format`
///   stores: 65 535 pixels for JPEG and GIF, 16 384 for WebP, 2 147 483 647
///   for BMP;
/// - [`EncodeError::Encoder`] when the format's encoder reports an error.
pub fn encode(
    img: &IndexedImage,
    format: OutputFormat,
    compression: PngCompression,
) -> Result<Vec<u8>, EncodeError> {
    let (width, height) = (img.width(), img.height());
    match format.max_side() {
        Some(max) if width > max || height > max => {
            return Err(EncodeError::TooLargeForFormat {
                format: format.name(),
                width,
                height,
                max,
            });
        }
        _ => {}
    }
    let mut out = Vec::new();
    let result =
        match format {
            OutputFormat::Png => return encode_indexed_png(img, compression),
            OutputFormat::Gif => return encode_gif(img),
            OutputFormat::Bmp => return encode_bmp(img),
            OutputFormat::Tiff => return encode_tiff(img),
            OutputFormat::Jpeg => JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
                .write_image(&rgb_on_white(img), width, height, ExtendedColorType::Rgb8),
            OutputFormat::WebP if img.palette().has_alpha() => WebPEncoder::new_lossless(&mut out)
                .write_image(&img.to_rgba(), width, height, ExtendedColorType::Rgba8),
            OutputFormat::WebP => WebPEncoder::new_lossless(&mut out).write_image(
                &img.to_rgb(),
                width,
                height,
                ExtendedColorType::Rgb8,
            ),
        };
    result.map_err(|e| EncodeError::Encoder {
        format: format.name(),
        detail: e.to_string(),
    })?;
    Ok(out)
}

/// Every pixel as RGB, each palette colour first blended onto white by its
/// alpha (the fully transparent entry becomes white).
fn rgb_on_white(img: &IndexedImage) -> Vec<u8> {
    let blended: Vec<[u8; 3]> = img
        .palette()
        .colors()
        .iter()
        .map(|&c| over_white(c))
        .collect();
    img.indices()
        .iter()
        .flat_map(|&i| blended[usize::from(i)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{Limits, read_image};
    use crate::write::write_atomic;
    use pixmeans_core::{Palette, PixelFormat};

    fn image(transparent: bool, w: u32, h: u32) -> IndexedImage {
        let colors = [[200, 30, 30], [30, 160, 40], [20, 40, 220], [240, 240, 60]];
        let palette = Palette::new(&colors, transparent).unwrap();
        let n = palette.len() as u32;
        // Large blocks of one colour, so JPEG's error stays small.
        let indices = (0..w * h)
            .map(|p| ((p % w / 8 + p / w / 8) % n) as u8)
            .collect();
        IndexedImage::new(w, h, palette, indices).unwrap()
    }

    #[test]
    fn from_path_reads_the_extension_ignoring_case() {
        let cases = [
            ("a.png", OutputFormat::Png),
            ("dir.d/a.PNG", OutputFormat::Png),
            ("a.jpg", OutputFormat::Jpeg),
            ("a.JPEG", OutputFormat::Jpeg),
            ("a.webp", OutputFormat::WebP),
            ("a.Bmp", OutputFormat::Bmp),
            ("a.tif", OutputFormat::Tiff),
            ("a.tiff", OutputFormat::Tiff),
            ("a.gif", OutputFormat::Gif),
        ];
        for (path, format) in cases {
            assert_eq!(
                OutputFormat::from_path(Path::new(path)).unwrap(),
                format,
                "{path}"
            );
        }
    }

    #[test]
    fn an_unknown_or_missing_extension_lists_the_accepted_ones() {
        for path in ["out.jxl", "out", "png"] {
            let err = OutputFormat::from_path(Path::new(path)).unwrap_err();
            assert!(
                matches!(&err, WriteError::UnknownExtension { path: p } if p == Path::new(path))
            );
            let message = err.to_string();
            assert!(message.contains(path), "{message}");
            assert!(message.contains(".png, .jpg, .jpeg, .webp, .bmp, .tif, .tiff or .gif"));
        }
    }

    #[test]
    fn every_format_writes_a_file_that_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        for transparent in [false, true] {
            let img = image(transparent, 37, 21);
            for ext in ["png", "jpg", "webp", "bmp", "tiff", "gif"] {
                let path = dir.path().join(format!("out-{transparent}.{ext}"));
                let format = OutputFormat::from_path(&path).unwrap();
                assert_eq!(format.extension(), ext);
                let bytes = encode(&img, format, PngCompression::Fast).unwrap();
                assert_eq!(
                    write_atomic(&path, &bytes, false).unwrap(),
                    bytes.len() as u64
                );
                let decoded = read_image(&path, &Limits::default()).unwrap();
                assert_eq!(decoded.format, format.name());
                let view = decoded.image.view();
                assert_eq!((view.width(), view.height()), (37, 21), "{ext}");
                if format == OutputFormat::Jpeg {
                    assert_eq!(view.format(), PixelFormat::Rgb8);
                    let expected = rgb_on_white(&img);
                    let error: u64 = view
                        .data()
                        .iter()
                        .zip(&expected)
                        .map(|(&a, &b)| u64::from(a.abs_diff(b)))
                        .sum();
                    let mean = error as f64 / expected.len() as f64;
                    assert!(mean < 6.0, "jpeg mean error {mean}");
                } else if transparent {
                    assert_eq!(view.format(), PixelFormat::Rgba8, "{ext}");
                    assert_eq!(view.data(), img.to_rgba().as_slice(), "{ext}");
                } else {
                    assert_eq!(view.format(), PixelFormat::Rgb8, "{ext}");
                    assert_eq!(view.data(), img.to_rgb().as_slice(), "{ext}");
                }
            }
        }
    }

    #[test]
    fn jpeg_puts_transparent_pixels_on_white() {
        let img = image(true, 3, 1);
        let palette = img.palette().clone();
        let img = IndexedImage::new(3, 1, palette, vec![4, 0, 4]).unwrap();
        assert_eq!(
            rgb_on_white(&img),
            [255, 255, 255, 200, 30, 30, 255, 255, 255]
        );
    }

    #[test]
    fn sides_over_a_format_limit_are_refused_with_the_numbers() {
        let palette = Palette::new(&[[0, 0, 0]], false).unwrap();
        let wide = IndexedImage::new(70_000, 1, palette.clone(), vec![0; 70_000]).unwrap();
        for format in [OutputFormat::Gif, OutputFormat::Jpeg] {
            let err = encode(&wide, format, PngCompression::Fast).unwrap_err();
            assert!(matches!(
                err,
                EncodeError::TooLargeForFormat { max: 65_535, .. }
            ));
            assert!(err.to_string().contains("70000 x 1"), "{err}");
        }
        let webp = IndexedImage::new(1, 16_385, palette, vec![0; 16_385]).unwrap();
        assert!(matches!(
            encode(&webp, OutputFormat::WebP, PngCompression::Fast),
            Err(EncodeError::TooLargeForFormat { max: 16_384, .. })
        ));
        assert!(encode(&wide, OutputFormat::Png, PngCompression::Fast).is_ok());
    }
}
