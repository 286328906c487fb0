//! Pictures that explain a clustering: the elbow curve, a grid of quantized
//! versions side by side, and the pixels as a 3-D scatter (a PNG, or a
//! self-contained HTML page to turn with the mouse).
//!
//! Text is drawn with the `DejaVu Sans` font, embedded in this crate (see `fonts/`), so
//! pictures look the same on every machine and no system font is read.

mod canvas;
mod elbow;
mod font;
mod grid;
mod html;
mod scatter;

use std::path::Path;

pub use elbow::{ElbowChart, ElbowPoint, elbow_chart};
pub use grid::{
    GridTile, MAX_GRID_WIDTH, MAX_TILE_WIDTH, TilePicture, grid_image, tile, tile_size,
};
pub use html::scatter_html;
/// An 8-bit RGB picture, as [`tile`] makes one (the `image` crate's).
pub use image::RgbImage;
pub use scatter::{ScatterAxes, ScatterData, ScatterPoint, scatter_chart};

/// Why a picture could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// The embedded font could not be loaded (a bug, not bad input).
    #[error("internal error: the embedded font cannot be loaded")]
    Font,
    /// Drawing failed (the backend's message).
    #[error("cannot draw the plot: {0}")]
    Draw(String),
    /// The picture could not be encoded.
    #[error("cannot encode the plot: {0}")]
    Encode(String),
    /// Nothing to draw: no points, no tiles, or a size of 0.
    #[error("nothing to draw: {0}")]
    Empty(&'static str),
}

/// The file format of a chart, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartFormat {
    /// A PNG picture.
    Png,
    /// An SVG drawing (text in the viewer's sans-serif font).
    Svg,
}

impl ChartFormat {
    /// `.png` or `.svg` (any case); `None` for anything else.
    pub fn from_path(path: &Path) -> Option<ChartFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "png" => Some(ChartFormat::Png),
            "svg" => Some(ChartFormat::Svg),
            _ => None,
        }
    }
}

/// A drawing error in our own words; the backend's type stays inside.
fn draw_error(e: impl std::fmt::Display) -> PlotError {
    PlotError::Draw(e.to_string())
}
