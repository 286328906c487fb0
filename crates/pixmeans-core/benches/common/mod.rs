//! The photos the benchmarks run on: the bundled coffee photo always, and
//! the development photos in `../shared/images` (or `$PIXMEANS_BENCH_IMAGES`)
//! when they are there.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr
)]

use std::path::PathBuf;

use pixmeans_core::{ColorHistogram, ColorSpace, Image, PixelFormat, Point};

/// A decoded photo with its name for the report.
pub struct Photo {
    pub name: String,
    pub image: Image,
}

impl Photo {
    pub fn megapixels(&self) -> f64 {
        self.image.view().pixel_count() as f64 / 1e6
    }

    /// The distinct colours as sRGB points with their pixel counts.
    pub fn points(&self) -> (Vec<Point>, Vec<f64>) {
        let hist = ColorHistogram::from_image(&self.image.view());
        let points = hist
            .colors()
            .iter()
            .map(|&c| ColorSpace::Srgb.from_srgb(c))
            .collect();
        (points, hist.counts().iter().map(|&n| n as f64).collect())
    }
}

pub fn photos() -> Vec<Photo> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = std::env::var_os("PIXMEANS_BENCH_IMAGES")
        .map_or_else(|| root.join("../shared/images"), PathBuf::from);
    let mut paths = vec![root.join("assets/coffee.png")];
    paths.extend(
        ["picture0b.jpg", "sunset.jpg"]
            .iter()
            .map(|n| shared.join(n))
            .filter(|p| p.is_file()),
    );
    if paths.len() == 1 {
        eprintln!(
            "note: only the bundled photo; put picture0b.jpg and sunset.jpg in $PIXMEANS_BENCH_IMAGES for 4.5 and 12 MP"
        );
    }
    paths
        .iter()
        .map(|p| {
            let rgb = image::open(p).expect("a readable photo").to_rgb8();
            let (w, h) = rgb.dimensions();
            Photo {
                name: p.file_name().unwrap().to_string_lossy().into_owned(),
                image: Image::new(w, h, PixelFormat::Rgb8, rgb.into_raw()).unwrap(),
            }
        })
        .collect()
}

/// The palette sizes every clustering benchmark runs at.
pub const KS: [usize; 3] = [16, 64, 256];
