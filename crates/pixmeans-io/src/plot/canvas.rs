//! Where plots are drawn: an RGB buffer encoded as PNG, or an SVG string.

use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, IntoDrawingArea, SVGBackend};

use super::{PlotError, draw_error, font};

/// A bitmap drawing area over an RGB buffer.
pub(super) type Bitmap<'a> = DrawingArea<BitMapBackend<'a>, Shift>;
/// A drawing area that writes SVG into a string.
pub(super) type Svg<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Checks a picture's size: at least 1 x 1 and at most 16384 on a side.
pub(super) fn check_size(width: u32, height: u32) -> Result<(), PlotError> {
    if width == 0 || height == 0 {
        return Err(PlotError::Empty("the picture has no pixels"));
    }
    if width > 16_384 || height > 16_384 {
        return Err(PlotError::Encode(format!(
            "{width} x {height} is too large for a plot (16384 on a side at most)"
        )));
    }
    Ok(())
}

/// Draws on a white `width` x `height` bitmap and returns its RGB pixels.
pub(super) fn rgb(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Bitmap<'_>) -> Result<(), PlotError>,
) -> Result<Vec<u8>, PlotError> {
    check_size(width, height)?;
    font::ensure_registered()?;
    let mut buf = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(draw_error)?;
    }
    Ok(buf)
}

/// Draws on a white bitmap and returns it as PNG bytes.
pub(super) fn png(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Bitmap<'_>) -> Result<(), PlotError>,
) -> Result<Vec<u8>, PlotError> {
    let buf = rgb(width, height, draw)?;
    encode_png(width, height, &buf)
}

/// Draws into an SVG document and returns its bytes.
pub(super) fn svg(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Svg<'_>) -> Result<(), PlotError>,
) -> Result<Vec<u8>, PlotError> {
    check_size(width, height)?;
    font::ensure_registered()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&plotters::style::WHITE).map_err(draw_error)?;
        draw(&root)?;
        root.present().map_err(draw_error)?;
    }
    Ok(out.into_bytes())
}

/// Encodes 8-bit RGB pixels as a PNG.
pub(super) fn encode_png(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>, PlotError> {
    use image::ImageEncoder as _;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(rgb, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|e| PlotError::Encode(e.to_string()))?;
    Ok(out)
}
