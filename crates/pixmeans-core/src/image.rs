//! Images in memory: the 8-bit RGB or RGBA pixels that go in, and the
//! [`IndexedImage`] that comes out.

use crate::palette::Palette;

/// Pixels in each of the fixed chunks that a pass over an image splits it
/// into among threads: partial sums then add in chunk order, so what the
/// pass computes does not depend on the number of threads.
pub(crate) const PIXEL_CHUNK: usize = 1 << 16;

/// How the bytes of an image are laid out, one pixel after another, rows top
/// to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// Three bytes a pixel: red, green, blue.
    Rgb8,
    /// Four bytes a pixel: red, green, blue, alpha (not premultiplied).
    Rgba8,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn channels(self) -> usize {
        match self {
            PixelFormat::Rgb8 => 3,
            PixelFormat::Rgba8 => 4,
        }
    }
}

/// What is wrong with a pixel buffer handed to [`ImageRef::new`] or
/// [`IndexedImage::new`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The image has no pixels.
    #[error("the image is empty ({width} x {height} pixels)")]
    Empty {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The buffer length does not match the dimensions.
    #[error("a {width} x {height} image needs {expected} bytes, but the buffer holds {actual}")]
    BufferSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// Bytes the dimensions call for.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// An index points past the end of the palette.
    #[error("index {index} at pixel {position} is past the palette's {palette_len} entries")]
    IndexOutOfRange {
        /// The offending index.
        index: u8,
        /// Its position in the pixel buffer.
        position: usize,
        /// The palette length.
        palette_len: usize,
    },
}

fn check_len(width: u32, height: u32, per_pixel: usize, actual: usize) -> Result<(), ImageError> {
    if width == 0 || height == 0 {
        return Err(ImageError::Empty { width, height });
    }
    let expected = (width as usize)
        .checked_mul(height as usize)
        .and_then(|n| n.checked_mul(per_pixel))
        .unwrap_or(usize::MAX);
    if expected == actual {
        Ok(())
    } else {
        Err(ImageError::BufferSize {
            width,
            height,
            expected,
            actual,
        })
    }
}

/// A borrowed, validated view of an 8-bit RGB or RGBA image.
#[derive(Debug, Clone, Copy)]
pub struct ImageRef<'a> {
    width: u32,
    height: u32,
    format: PixelFormat,
    data: &'a [u8],
}

impl<'a> ImageRef<'a> {
    /// Wraps `data`, checking that it holds exactly `width * height` pixels of
    /// `format` and that the image is not empty.
    ///
    /// # Errors
    ///
    /// - [`ImageError::Empty`] when `width` or `height` is 0;
    /// - [`ImageError::BufferSize`] when `data` is not exactly
    ///   `width * height * format.channels()` bytes long.
    pub fn new(
        width: u32,
        height: u32,
        format: PixelFormat,
        data: &'a [u8],
    ) -> Result<Self, ImageError> {
        check_len(width, height, format.channels(), data.len())?;
        Ok(ImageRef {
            width,
            height,
            format,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Number of pixels.
    pub fn pixel_count(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// The pixel layout.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// The raw bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// A copy shrunk by the smallest whole factor f that leaves at most
    /// `max_pixels` pixels, keeping the centre pixel of each f x f block
    /// (nearest-neighbour). Every pixel of the copy is a real pixel of the
    /// image, as in the tutorials that fit on a sample of the pixels; a box
    /// filter would invent blended colours (a black and white checkerboard
    /// would become grey). Returns `None` when the image is small enough.
    pub fn downscaled(&self, max_pixels: usize) -> Option<Image> {
        let max_pixels = max_pixels.max(1);
        if self.pixel_count() <= max_pixels {
            return None;
        }
        let (w, h) = (self.width as usize, self.height as usize);
        let mut f = ((self.pixel_count() as f64 / max_pixels as f64)
            .sqrt()
            .ceil() as usize)
            .max(2);
        while w.div_ceil(f) * h.div_ceil(f) > max_pixels {
            f += 1;
        }
        let (ow, oh) = (w.div_ceil(f), h.div_ceil(f));
        let ch = self.format.channels();
        let mut out = Vec::with_capacity(ow * oh * ch);
        for by in 0..oh {
            let y = (by * f + f / 2).min(h - 1);
            for bx in 0..ow {
                let x = (bx * f + f / 2).min(w - 1);
                out.extend_from_slice(&self.data[(y * w + x) * ch..][..ch]);
            }
        }
        Some(Image {
            width: ow as u32,
            height: oh as u32,
            format: self.format,
            data: out,
        })
    }
}

/// An owned 8-bit RGB or RGBA image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    width: u32,
    height: u32,
    format: PixelFormat,
    data: Vec<u8>,
}

impl Image {
    /// Takes ownership of `data` after the same checks as [`ImageRef::new`].
    ///
    /// # Errors
    ///
    /// - [`ImageError::Empty`] when `width` or `height` is 0;
    /// - [`ImageError::BufferSize`] when `data` is not exactly
    ///   `width * height * format.channels()` bytes long.
    pub fn new(
        width: u32,
        height: u32,
        format: PixelFormat,
        data: Vec<u8>,
    ) -> Result<Self, ImageError> {
        check_len(width, height, format.channels(), data.len())?;
        Ok(Image {
            width,
            height,
            format,
            data,
        })
    }

    /// A borrowed view.
    pub fn view(&self) -> ImageRef<'_> {
        ImageRef {
            width: self.width,
            height: self.height,
            format: self.format,
            data: &self.data,
        }
    }

    /// The raw bytes.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }
}

/// An image as palette indices: every pixel is exactly one palette colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedImage {
    width: u32,
    height: u32,
    palette: Palette,
    indices: Vec<u8>,
}

impl IndexedImage {
    /// Checks that there is one index per pixel and every index is inside the
    /// palette.
    ///
    /// # Errors
    ///
    /// - [`ImageError::Empty`] when `width` or `height` is 0;
    /// - [`ImageError::BufferSize`] when `indices` does not hold exactly
    ///   `width * height` entries;
    /// - [`ImageError::IndexOutOfRange`] for the first index not below
    ///   `palette.len()`.
    pub fn new(
        width: u32,
        height: u32,
        palette: Palette,
        indices: Vec<u8>,
    ) -> Result<Self, ImageError> {
        check_len(width, height, 1, indices.len())?;
        if let Some(position) = indices
            .iter()
            .position(|&i| usize::from(i) >= palette.len())
        {
            let index = indices[position];
            return Err(ImageError::IndexOutOfRange {
                index,
                position,
                palette_len: palette.len(),
            });
        }
        Ok(IndexedImage {
            width,
            height,
            palette,
            indices,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The palette.
    pub fn palette(&self) -> &Palette {
        &self.palette
    }

    /// One palette index per pixel, rows top to bottom.
    pub fn indices(&self) -> &[u8] {
        &self.indices
    }

    /// Every pixel as its palette colour, RGB.
    pub fn to_rgb(&self) -> Vec<u8> {
        let pal = self.palette.colors();
        self.indices
            .iter()
            .flat_map(|&i| {
                let [r, g, b, _] = pal[usize::from(i)];
                [r, g, b]
            })
            .collect()
    }

    /// Every pixel as its palette colour, RGBA.
    pub fn to_rgba(&self) -> Vec<u8> {
        let pal = self.palette.colors();
        self.indices
            .iter()
            .flat_map(|&i| pal[usize::from(i)])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_mis_sized_buffers() {
        assert_eq!(
            ImageRef::new(0, 5, PixelFormat::Rgb8, &[]).err(),
            Some(ImageError::Empty {
                width: 0,
                height: 5
            })
        );
        assert!(matches!(
            ImageRef::new(2, 2, PixelFormat::Rgba8, &[0; 12]),
            Err(ImageError::BufferSize { expected: 16, .. })
        ));
        assert!(ImageRef::new(2, 2, PixelFormat::Rgb8, &[0; 12]).is_ok());
    }

    #[test]
    fn indexed_image_rejects_indices_past_the_palette() {
        let pal = Palette::new(&[[0, 0, 0], [9, 9, 9]], false).unwrap();
        assert!(IndexedImage::new(2, 1, pal.clone(), vec![0, 1]).is_ok());
        assert!(matches!(
            IndexedImage::new(2, 1, pal, vec![0, 2]),
            Err(ImageError::IndexOutOfRange { position: 1, .. })
        ));
    }

    #[test]
    fn downscale_keeps_real_pixels() {
        // A 6 x 4 black and white checkerboard: a box filter would give grey.
        let px: Vec<u8> = (0..24)
            .flat_map(|i| {
                if (i % 6 + i / 6) % 2 == 0 {
                    [0; 3]
                } else {
                    [255; 3]
                }
            })
            .collect();
        let img = ImageRef::new(6, 4, PixelFormat::Rgb8, &px).unwrap();
        let small = img.downscaled(6).unwrap();
        let view = small.view();
        assert_eq!((view.width(), view.height()), (3, 2));
        assert!(view.data().iter().all(|&c| c == 0 || c == 255));
        assert!(img.downscaled(24).is_none());
    }
}
