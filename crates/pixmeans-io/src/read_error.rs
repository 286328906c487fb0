//! Why an image could not be read, sorted by who is at fault.

use std::io;
use std::path::{Path, PathBuf};

use image::ImageError;

/// The formats this crate reads, as named in messages.
pub(crate) const READABLE: &str = "png, jpeg, gif, bmp, tiff or webp";

/// Why an image could not be read. Every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file does not exist.
    #[error("cannot read {}: no such file", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// The file holds no bytes at all.
    #[error("{} is empty: expected {READABLE} data", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// The content is not a known image format.
    #[error("{} is not an image: expected {READABLE} data", path.display())]
    NotAnImage {
        /// The file.
        path: PathBuf,
    },
    /// The content is an image this crate cannot read: another format, or a
    /// feature of a supported one that the decoder lacks.
    #[error("{} is not supported: {detail}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What is not supported.
        detail: String,
    },
    /// The data is truncated or corrupt.
    #[error("{} is truncated or corrupt: {detail}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What the decoder found wrong.
        detail: String,
    },
    /// The header declares a zero width or height.
    #[error("{} has no pixels ({width} x {height}): expected a non-empty image", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// The header declares more pixels than [`Limits::max_pixels`](crate::Limits::max_pixels).
    #[error(
        "{} is {width} x {height} = {} pixels, over the limit of {limit}",
        path.display(),
        u64::from(*width) * u64::from(*height)
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// The limit in pixels.
        limit: u64,
    },
    /// Within the pixel limit, but the decoder would need more memory than
    /// the limit allows for (see [`Limits`](crate::Limits)).
    #[error("decoding {} needs more memory than the pixel limit allows: {detail}", path.display())]
    OverMemoryLimit {
        /// The file.
        path: PathBuf,
        /// What the decoder reported.
        detail: String,
    },
    /// Within the limits, but this machine cannot give the memory that
    /// decoding the image takes.
    #[error(
        "{} needs {} MB of memory to decode, more than this machine can give",
        path.display(),
        bytes.div_ceil(1_000_000)
    )]
    OutOfMemory {
        /// The file.
        path: PathBuf,
        /// The bytes asked for: the decoder's buffer and the RGBA copy.
        bytes: u64,
    },
}

/// Sorts the `image` crate's errors by who is at fault. The data is already
/// in memory, so an I/O error from the decoder means it ended early.
pub(crate) fn from_image_error(error: ImageError, name: &Path) -> ReadError {
    let path = name.to_path_buf();
    match error {
        ImageError::Unsupported(e) => ReadError::Unsupported {
            path,
            detail: e.to_string(),
        },
        ImageError::Limits(e) => ReadError::OverMemoryLimit {
            path,
            detail: e.to_string(),
        },
        ImageError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            ReadError::Malformed {
                path,
                detail: "the data ends early".to_owned(),
            }
        }
        other => ReadError::Malformed {
            path,
            detail: plain_chunk_names(&other.to_string()),
        },
    }
}

/// `detail` with the PNG decoder's debug dump of a chunk type (`ChunkType {
/// type: IDAT, critical: true, ... }`) cut to its name (`IDAT`).
fn plain_chunk_names(detail: &str) -> String {
    const DUMP: &str = "ChunkType { type: ";
    const FLAGS: &str = ", critical: ";
    let mut out = String::with_capacity(detail.len());
    let mut rest = detail;
    while let Some(at) = rest.find(DUMP) {
        let after = &rest[at + DUMP.len()..];
        let Some(name_end) = after.find(FLAGS) else {
            break;
        };
        let Some(close) = after[name_end..].find(" }") else {
            break;
        };
        out.push_str(&rest[..at]);
        out.push_str(&after[..name_end]);
        rest = &after[name_end + close + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn a_corrupt_png_names_its_chunk_plainly() {
        let img = image::RgbImage::from_fn(16, 16, |x, y| image::Rgb([x as u8 * 9, y as u8, 7]));
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        // One byte of the IDAT chunk's checksum flipped.
        let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
        let len = u32::from_be_bytes(png[idat - 4..idat].try_into().unwrap()) as usize;
        png[idat + 4 + len] ^= 0xff;
        let limits = crate::Limits::new(1 << 20);
        let message = crate::decode_bytes(&png, Path::new("bad.png"), &limits)
            .unwrap_err()
            .to_string();
        assert!(message.contains("bad.png"), "{message}");
        assert!(message.contains("IDAT"), "{message}");
        assert!(!message.contains("ChunkType"), "{message}");
        assert!(!message.contains("critical"), "{message}");
    }
}
