//! Pictures side by side: the original and each quantized version, scaled to
//! one tile size, each captioned underneath.

use std::borrow::Cow;

use image::{ImageBuffer, Rgb, RgbImage, imageops};
use pixmeans_core::opacity::over_white;
use pixmeans_core::{ImageRef, IndexedImage, PixelFormat};
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
    /// The picture.
    pub picture: TilePicture<'a>,
    /// The caption, e.g. `k = 8 · 26.4 dB · 31.9 kB`.
    pub caption: &'a str,
}

/// What a tile shows. Transparent pixels are shown over white.
#[derive(Debug, Clone, Copy)]
pub enum TilePicture<'a> {
    /// Pixels, RGB or RGBA.
    Pixels(ImageRef<'a>),
    /// A quantized image, its colours looked up a row at a time as the tile
    /// is shrunk: no full-size RGB copy (36 MB for a 12 MP photo).
    Indexed(&'a IndexedImage),
    /// A picture already scaled by [`tile`] to the grid's [`tile_size`],
    /// drawn as it is (one of another size is scaled like pixels).
    Tile(&'a RgbImage),
}

impl TilePicture<'_> {
    fn size(&self) -> (u32, u32) {
        match self {
            TilePicture::Pixels(image) => (image.width(), image.height()),
            TilePicture::Indexed(image) => (image.width(), image.height()),
            TilePicture::Tile(image) => image.dimensions(),
        }
    }
}

/// The size, width by height, at which [`grid_image`] draws each of
/// `tiles` pictures when the first is `width` x `height`: the first one's
/// aspect ratio at [`MAX_TILE_WIDTH`], or narrower so the grid stays within
/// [`MAX_GRID_WIDTH`].
pub fn tile_size(tiles: usize, width: u32, height: u32) -> (u32, u32) {
    let cols = columns(tiles.max(1));
    let tile_w = MAX_TILE_WIDTH
        .min(((MAX_GRID_WIDTH - GAP) / cols).saturating_sub(GAP))
        .max(1);
    let tile_h = ((u64::from(height) * u64::from(tile_w)) / u64::from(width.max(1)))
        .clamp(1, u64::from(4 * tile_w)) as u32;
    (tile_w, tile_h)
}

/// `picture` scaled to a tile of `size` (see [`tile_size`]) as
/// [`grid_image`] would scale it, so that a large picture can be dropped
/// once its tile is made: a grid of fifteen quantized 12 MP photos then
/// holds fifteen tiles instead of 180 MB of indices. A side of 0 is taken
/// as 1.
pub fn tile(picture: &TilePicture<'_>, size: (u32, u32)) -> RgbImage {
    let (width, height) = picture.size();
    resize(
        &Rows::of(picture),
        width,
        height,
        size.0.max(1),
        size.1.max(1),
    )
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
///
/// # Errors
///
/// - [`PlotError::Empty`] when `tiles` is empty;
/// - [`PlotError::Encode`] when the grid would be over 16 384 pixels on a
///   side (only with tens of thousands of tiles), or the PNG cannot be
///   encoded;
/// - [`PlotError::Draw`] when drawing the title or a caption fails;
/// - [`PlotError::Font`] if the embedded font cannot be loaded (a bug).
pub fn grid_image(tiles: &[GridTile<'_>], title: &str) -> Result<Vec<u8>, PlotError> {
    let (first_w, first_h) = tiles
        .first()
        .ok_or(PlotError::Empty("the grid needs at least one picture"))?
        .picture
        .size();
    let cols = columns(tiles.len());
    let rows = (tiles.len() as u32).div_ceil(cols);
    let (tile_w, tile_h) = tile_size(tiles.len(), first_w, first_h);
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
            let size = fitting_size(root, title, (24, 12), width - 2 * GAP)?.unwrap_or(12);
            let style = ("sans-serif", size)
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
        for (i, t) in tiles.iter().enumerate() {
            let (x, y) = origin(i);
            draw_caption(root, t.caption, x + tile_w / 2, y + tile_h, tile_w)?;
        }
        Ok(())
    })?;

    let scaled: Vec<Cow<'_, RgbImage>> = tiles
        .par_iter()
        .map(|t| match t.picture {
            TilePicture::Tile(done) if done.dimensions() == (tile_w, tile_h) => Cow::Borrowed(done),
            ref picture => Cow::Owned(tile(picture, (tile_w, tile_h))),
        })
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

/// Draws `caption` centred at `x` under a tile `width` wide whose bottom is
/// at `y`: on one line in the largest font from 18 down to 12 pixels that
/// fits, or else broken after its first part (`k = 64` over `35.3 dB ·
/// 1.51 MB`) in two lines of 13 down to 8 pixels, as a grid of many k has
/// narrow tiles.
fn draw_caption(
    root: &canvas::Bitmap<'_>,
    caption: &str,
    x: u32,
    y: u32,
    width: u32,
) -> Result<(), PlotError> {
    let (lines, size) = match fitting_size(root, caption, (18, 12), width)? {
        Some(size) => (vec![caption], size),
        None => match caption.split_once(" · ") {
            Some((first, rest)) => {
                let size = fitting_size(root, rest, (13, 8), width)?.unwrap_or(8);
                (vec![first, rest], size)
            }
            None => (vec![caption], 12),
        },
    };
    let style = ("sans-serif", size)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (i, line) in lines.iter().enumerate() {
        let top = y + 8 - 4 * (lines.len() as u32 - 1) + i as u32 * (size + 2);
        root.draw(&Text::new(*line, (px(x), px(top)), style.clone()))
            .map_err(draw_error)?;
    }
    Ok(())
}

/// The largest font size from `sizes.0` down to `sizes.1` at which `text`
/// is at most `width` pixels wide, if any.
fn fitting_size(
    root: &canvas::Bitmap<'_>,
    text: &str,
    (largest, smallest): (u32, u32),
    width: u32,
) -> Result<Option<u32>, PlotError> {
    for size in (smallest..=largest).rev() {
        let font = TextStyle::from(("sans-serif", size).into_font());
        let (w, _) = root.estimate_text_size(text, &font).map_err(draw_error)?;
        if w <= width {
            return Ok(Some(size));
        }
    }
    Ok(None)
}

/// A pixel coordinate for the drawing backend (pictures are far smaller
/// than `i32::MAX`).
pub(super) fn px(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// A picture's rows as RGB over white: borrowed where the picture is RGB,
/// else made a row at a time.
enum Rows<'a> {
    Rgb(&'a [u8]),
    Rgba(&'a [u8]),
    /// Indices, and the palette's colours over white.
    Indexed(&'a [u8], Vec<[u8; 3]>),
}

impl<'a> Rows<'a> {
    fn of(picture: &TilePicture<'a>) -> Self {
        match picture {
            TilePicture::Pixels(image) => match image.format() {
                PixelFormat::Rgb8 => Rows::Rgb(image.data()),
                PixelFormat::Rgba8 => Rows::Rgba(image.data()),
            },
            TilePicture::Tile(image) => Rows::Rgb(image.as_raw()),
            TilePicture::Indexed(image) => Rows::Indexed(
                image.indices(),
                image
                    .palette()
                    .colors()
                    .iter()
                    .map(|&c| over_white(c))
                    .collect(),
            ),
        }
    }

    /// Rows `first..first + count` of a picture `width` wide, as RGB, in
    /// `buf` unless they can be borrowed.
    fn rgb<'b>(
        &'b self,
        first: usize,
        count: usize,
        width: usize,
        buf: &'b mut Vec<u8>,
    ) -> &'b [u8] {
        let pixels = first * width..(first + count) * width;
        buf.clear();
        match self {
            Rows::Rgb(rgb) => return &rgb[pixels.start * 3..pixels.end * 3],
            Rows::Rgba(rgba) => buf.extend(
                rgba[pixels.start * 4..pixels.end * 4]
                    .chunks_exact(4)
                    .flat_map(|p| over_white([p[0], p[1], p[2], p[3]])),
            ),
            Rows::Indexed(indices, colors) => buf.extend(
                indices[pixels]
                    .iter()
                    .flat_map(|&i| colors.get(usize::from(i)).copied().unwrap_or([255; 3])),
            ),
        }
        buf
    }
}

/// A `width` x `height` picture scaled to `w` x `h`: shrunk by
/// averaging the source pixels that fall in each tile pixel (a box filter,
/// rows of tiles in parallel), or enlarged with nearest-neighbour sampling.
/// The same pixels as `image`'s `thumbnail` of the RGB picture, summed a
/// tile column at a time: a grid of the 12 MP sunset.jpg alone took 25-29
/// ms on one thread instead of 70-83. (`fast_image_resize` was faster
/// still, but its generic code added 22 s to compiling this crate.) An
/// indexed picture is looked up a tile row's source rows at a time.
fn resize(rows: &Rows<'_>, width: u32, height: u32, w: u32, h: u32) -> RgbImage {
    let white = || RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let (sw, sh) = (width as usize, height as usize);
    if width < w || height < h {
        let mut buf = Vec::new();
        let rgb = rows.rgb(0, sh, sw, &mut buf);
        return ImageBuffer::<Rgb<u8>, &[u8]>::from_raw(width, height, rgb)
            .map_or_else(white, |full| {
                imageops::resize(&full, w, h, imageops::FilterType::Nearest)
            });
    }
    let (w, h) = (w as usize, h as usize);
    // Source column x falls in tile column c when x·w/sw rounds down to c,
    // that is from starts[c] to starts[c + 1]; rows likewise.
    let starts: Vec<usize> = (0..=w).map(|c| (c * sw).div_ceil(w)).collect();
    let mut out = vec![0u8; w * h * 3];
    out.par_chunks_mut(w * 3).enumerate().for_each(|(y, row)| {
        let span = (y * sh).div_ceil(h)..((y + 1) * sh).div_ceil(h);
        let mut sums = vec![[0u64; 3]; w];
        let mut buf = Vec::new();
        let rgb = rows.rgb(span.start, span.len(), sw, &mut buf);
        for src in rgb.chunks_exact(sw * 3) {
            for (sum, cols) in sums.iter_mut().zip(starts.windows(2)) {
                let mut s = [0u32; 3];
                for p in src[cols[0] * 3..cols[1] * 3].chunks_exact(3) {
                    for k in 0..3 {
                        s[k] += u32::from(p[k]);
                    }
                }
                for k in 0..3 {
                    sum[k] += u64::from(s[k]);
                }
            }
        }
        for ((o, sum), cols) in row.chunks_exact_mut(3).zip(&sums).zip(starts.windows(2)) {
            let n = ((cols[1] - cols[0]) * span.len()) as u64;
            for k in 0..3 {
                o[k] = ((sum[k] + n / 2) / n) as u8;
            }
        }
    });
    RgbImage::from_raw(w as u32, h as u32, out).unwrap_or_else(white)
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
    fn shrinking_gives_thumbnails_pixels() {
        for (sw, sh, w, h) in [(101, 67, 40, 23), (480, 320, 480, 320), (9, 1000, 3, 7)] {
            let rgb = crate::test_noise::bytes((sw * sh * 3) as usize, 5);
            let full = RgbImage::from_raw(sw, sh, rgb.clone()).unwrap();
            let ours = resize(&Rows::Rgb(&rgb), sw, sh, w, h);
            assert_eq!(
                ours,
                imageops::thumbnail(&full, w, h),
                "{sw} x {sh} to {w} x {h}"
            );
        }
    }

    #[test]
    fn an_indexed_picture_scales_as_its_pixels_do() {
        use pixmeans_core::Palette;
        let mut noise = crate::test_noise::noise(9);
        for (sw, sh, w, h) in [(101, 67, 40, 23), (30, 20, 90, 60)] {
            for transparent in [false, true] {
                let palette =
                    Palette::new(&[[250, 10, 10], [10, 250, 10], [90, 90, 200]], transparent)
                        .unwrap();
                let indices: Vec<u8> = (0..sw * sh)
                    .map(|_| noise() % palette.len() as u8)
                    .collect();
                let image = IndexedImage::new(sw, sh, palette, indices).unwrap();
                let rgba = image.to_rgba();
                let pixels = ImageRef::new(sw, sh, PixelFormat::Rgba8, &rgba).unwrap();
                let scaled = |p: TilePicture<'_>| resize(&Rows::of(&p), sw, sh, w, h);
                assert_eq!(
                    scaled(TilePicture::Indexed(&image)),
                    scaled(TilePicture::Pixels(pixels)),
                    "{sw} x {sh} to {w} x {h}, transparent: {transparent}"
                );
                if transparent {
                    // Transparent pixels are white.
                    let white = IndexedImage::new(
                        sw,
                        sh,
                        image.palette().clone(),
                        vec![3; (sw * sh) as usize],
                    )
                    .unwrap();
                    let tile = scaled(TilePicture::Indexed(&white));
                    assert!(tile.pixels().all(|p| p.0 == [255; 3]));
                }
            }
        }
    }

    #[test]
    fn degenerate_tile_sizes_give_a_pixel_at_least() {
        // So many tiles that a column would be narrower than the gap.
        assert_eq!(tile_size(20_000, 300, 200).0, 1);
        let rgb = [200u8; 5 * 3 * 3];
        let pixels = ImageRef::new(5, 3, PixelFormat::Rgb8, &rgb).unwrap();
        let made = tile(&TilePicture::Pixels(pixels), (0, 0));
        assert_eq!(made.dimensions(), (1, 1));
        assert_eq!(made.get_pixel(0, 0).0, [200; 3]);
    }

    #[test]
    fn a_tile_made_ahead_draws_as_its_picture_does() {
        let rgb = crate::test_noise::bytes(301 * 199 * 3, 4);
        let pixels = ImageRef::new(301, 199, PixelFormat::Rgb8, &rgb).unwrap();
        let picture = TilePicture::Pixels(pixels);
        let size = tile_size(5, 301, 199);
        assert_eq!(size, (MAX_TILE_WIDTH, MAX_TILE_WIDTH * 199 / 301));
        let made = tile(&picture, size);
        let grid = |second: TilePicture<'_>| {
            let tiles: Vec<GridTile<'_>> = [picture, second, picture, picture, picture]
                .into_iter()
                .map(|picture| GridTile {
                    picture,
                    caption: "k",
                })
                .collect();
            grid_image(&tiles, "five").unwrap()
        };
        assert_eq!(grid(TilePicture::Tile(&made)), grid(picture));
        // A tile of another size is scaled like pixels.
        let small = tile(&picture, (40, 30));
        let small_pixels = ImageRef::new(40, 30, PixelFormat::Rgb8, small.as_raw()).unwrap();
        assert_eq!(
            grid(TilePicture::Tile(&small)),
            grid(TilePicture::Pixels(small_pixels))
        );
    }

    #[test]
    fn tiles_land_in_the_grid_with_their_colours() {
        let red = vec![[200u8, 20, 20]; 60 * 40].concat();
        let blue = vec![[20u8, 20, 200]; 60 * 40].concat();
        let tiles = [
            GridTile {
                picture: TilePicture::Pixels(
                    ImageRef::new(60, 40, PixelFormat::Rgb8, &red).unwrap(),
                ),
                caption: "original",
            },
            GridTile {
                picture: TilePicture::Pixels(
                    ImageRef::new(60, 40, PixelFormat::Rgb8, &blue).unwrap(),
                ),
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

    #[test]
    fn captions_of_narrow_tiles_stay_within_their_tiles() {
        // 257 tiles (k = 1..256 and the original) are 96 pixels wide: too
        // narrow for a caption like this one in one line at 12 pixels.
        let rgb = vec![90u8; 300 * 200 * 3];
        let pixels = ImageRef::new(300, 200, PixelFormat::Rgb8, &rgb).unwrap();
        let caption = "k = 256 · 35.3 dB · 1.51 MB";
        let tiles = vec![
            GridTile {
                picture: TilePicture::Pixels(pixels),
                caption,
            };
            257
        ];
        let png = grid_image(&tiles, "k = 1..256").unwrap();
        let grid = image::load_from_memory(&png).unwrap().to_rgb8();
        let (tile_w, tile_h) = tile_size(257, 300, 200);
        assert_eq!(tile_w, 96);
        // Between the first two tiles, in the first row's caption band:
        // white only, so no caption runs into its neighbour.
        let band = TITLE + GAP + tile_h..TITLE + GAP + tile_h + CAPTION;
        let gap = GAP + tile_w..2 * GAP + tile_w;
        for y in band.clone() {
            for x in gap.clone() {
                assert_eq!(grid.get_pixel(x, y).0, [255; 3], "({x}, {y})");
            }
        }
        // And the caption is there, under the tile.
        let inked = band
            .flat_map(|y| (GAP..GAP + tile_w).map(move |x| (x, y)))
            .filter(|&(x, y)| grid.get_pixel(x, y).0 != [255; 3])
            .count();
        assert!(inked > 50, "{inked} inked pixels under the first tile");
    }
}
