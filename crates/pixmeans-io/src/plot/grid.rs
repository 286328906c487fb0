//! Pictures side by side: the original and each quantized version, scaled to
//! one tile size, each captioned underneath.

use fast_image_resize as fir;
use image::{Rgb, RgbImage};
use pixmeans_core::{ImageRef, PixelFormat};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rayon::prelude::*;

use super::{PlotError, canvas, draw_error};

/// Widest a tile is drawn, in pixels.
pub const MAX_TILE_WIDTH: u32 = 480;
/// Widest the whole grid is, in pixels.
pub const MAX_GRID_WIDTH: u32 = 1920;

const GAP: u32 = 16;
const CAPTION: u32 = 34;
const TITLE: u32 = 48;

/// One picture of the grid and the line under it.
#[derive(Debug, Clone, Copy)]
pub struct GridTile<'a> {
    /// The picture (RGB, or RGBA shown over white).
    pub image: ImageRef<'a>,
    /// The caption, e.g. `k = 8 · 26.4 dB · 31.9 kB`.
    pub caption: &'a str,
}

/// Columns for `n` tiles: one row for up to three, else a near-square grid.
fn columns(n: usize) -> u32 {
    let n = n as u32;
    if n <= 3 {
        n
    } else {
        n.isqrt() + u32::from(n.isqrt().pow(2) < n)
    }
}

/// Draws the tiles left to right, top to bottom, under `title`, as a PNG.
///
/// Every tile gets the first tile's aspect ratio and the same width:
/// [`MAX_TILE_WIDTH`], or less so the grid stays within [`MAX_GRID_WIDTH`].
/// Larger pictures are shrunk by averaging; smaller ones are enlarged with
/// nearest-neighbour sampling, so their pixels stay crisp.
pub fn grid_image(tiles: &[GridTile<'_>], title: &str) -> Result<Vec<u8>, PlotError> {
    let first = tiles
        .first()
        .ok_or(PlotError::Empty("the grid needs at least one picture"))?
        .image;
    let cols = columns(tiles.len());
    let rows = (tiles.len() as u32).div_ceil(cols);
    let tile_w = MAX_TILE_WIDTH.min((MAX_GRID_WIDTH - GAP) / cols - GAP);
    let tile_h = ((u64::from(first.height()) * u64::from(tile_w)) / u64::from(first.width()))
        .clamp(1, u64::from(4 * tile_w)) as u32;
    let title_h = if title.is_empty() { 0 } else { TITLE };
    let width = GAP + cols * (tile_w + GAP);
    let height = title_h + GAP + rows * (tile_h + CAPTION + GAP);
    let origin = |i: usize| {
        let (c, r) = (i as u32 % cols, i as u32 / cols);
        (
            GAP + c * (tile_w + GAP),
            title_h + GAP + r * (tile_h + CAPTION + GAP),
        )
    };

    let mut buf = canvas::rgb(width, height, |root| {
        if !title.is_empty() {
            let style = ("sans-serif", 24)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new(
                title,
                (px(width / 2), px(title_h / 2 + GAP / 2)),
                style,
            ))
            .map_err(draw_error)?;
        }
        let style = ("sans-serif", 18)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for (i, t) in tiles.iter().enumerate() {
            let (x, y) = origin(i);
            root.draw(&Text::new(
                t.caption,
                (px(x + tile_w / 2), px(y + tile_h + 8)),
                style.clone(),
            ))
            .map_err(draw_error)?;
        }
        Ok(())
    })?;

    let scaled: Vec<RgbImage> = tiles
        .par_iter()
        .map(|t| scale(&t.image, tile_w, tile_h))
        .collect();
    for (i, scaled) in scaled.iter().enumerate() {
        let (x0, y0) = origin(i);
        for (y, row) in scaled.rows().enumerate() {
            let at = ((y0 as usize + y) * width as usize + x0 as usize) * 3;
            for (x, px) in row.enumerate() {
                buf[at + 3 * x..at + 3 * x + 3].copy_from_slice(&px.0);
            }
        }
    }
    canvas::encode_png(width, height, &buf)
}

/// A pixel coordinate for the drawing backend (pictures are far smaller
/// than `i32::MAX`).
pub(super) fn px(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// The picture as RGB over white, scaled to `w` x `h`. An RGB picture is
/// scaled where it lies, not copied first.
fn scale(image: &ImageRef<'_>, w: u32, h: u32) -> RgbImage {
    match image.format() {
        PixelFormat::Rgb8 => resize(image.width(), image.height(), image.data(), w, h),
        PixelFormat::Rgba8 => {
            let over_white: Vec<u8> = image
                .data()
                .chunks_exact(4)
                .flat_map(|p| {
                    let a = u16::from(p[3]);
                    [0, 1, 2].map(|c| ((u16::from(p[c]) * a + 255 * (255 - a) + 127) / 255) as u8)
                })
                .collect();
            resize(image.width(), image.height(), &over_white, w, h)
        }
    }
}

/// RGB pixels `rgb` of a `width` x `height` picture shrunk to `w` x `h` by
/// averaging each tile pixel's area (a box filter), or enlarged with
/// nearest-neighbour sampling. `fast_image_resize`'s SIMD box filter shrinks
/// the 12 MP sunset.jpg to a 472-pixel tile in 6 ms, where `image`'s
/// `thumbnail` took 72 (one thread).
fn resize(width: u32, height: u32, rgb: &[u8], w: u32, h: u32) -> RgbImage {
    let white = || RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let Ok(src) = fir::images::ImageRef::new(width, height, rgb, fir::PixelType::U8x3) else {
        return white();
    };
    let mut dst = fir::images::Image::new(w, h, fir::PixelType::U8x3);
    let alg = if width >= w {
        fir::ResizeAlg::Convolution(fir::FilterType::Box)
    } else {
        fir::ResizeAlg::Nearest
    };
    let options = fir::ResizeOptions::new().resize_alg(alg);
    match fir::Resizer::new().resize(&src, &mut dst, &options) {
        Ok(()) => RgbImage::from_raw(w, h, dst.into_vec()).unwrap_or_else(white),
        Err(_) => white(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_square_layout() {
        let cols: Vec<u32> = (1..=10).map(columns).collect();
        assert_eq!(cols, [1, 2, 3, 2, 3, 3, 3, 3, 3, 4]);
    }

    #[test]
    fn tiles_land_in_the_grid_with_their_colours() {
        let red = vec![[200u8, 20, 20]; 60 * 40].concat();
        let blue = vec![[20u8, 20, 200]; 60 * 40].concat();
        let tiles = [
            GridTile {
                image: ImageRef::new(60, 40, PixelFormat::Rgb8, &red).unwrap(),
                caption: "original",
            },
            GridTile {
                image: ImageRef::new(60, 40, PixelFormat::Rgb8, &blue).unwrap(),
                caption: "k = 1 · 10.0 dB · 1.0 kB",
            },
        ];
        let png = grid_image(&tiles, "two tiles").unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        let (tw, th) = (MAX_TILE_WIDTH, MAX_TILE_WIDTH * 40 / 60);
        assert_eq!(
            img.dimensions(),
            (GAP + 2 * (tw + GAP), TITLE + GAP + th + CAPTION + GAP)
        );
        let centre = |i: u32| {
            img.get_pixel(GAP + i * (tw + GAP) + tw / 2, TITLE + GAP + th / 2)
                .0
        };
        assert_eq!((centre(0), centre(1)), ([200, 20, 20], [20, 20, 200]));
        // The captions put dark text on the white band under each tile.
        let band = TITLE + GAP + th..TITLE + GAP + th + CAPTION;
        let dark = band
            .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 100))
            .count();
        assert!(dark > 200, "{dark} dark pixels in the captions");
    }
}
