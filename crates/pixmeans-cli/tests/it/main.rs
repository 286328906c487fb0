//! End-to-end tests of the `pixmeans` command.

// Test code: a failed unwrap is a failed test, and helpers need no panic docs.
#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

mod bad_input;
mod batch_names;
mod color_profile;
mod demo;
mod elbow;
mod grid;
mod palette;
mod quantize;
mod quiet;
mod scatter;
mod segment;
mod segment_bad_input;
#[cfg(unix)]
mod stopped;

use std::path::Path;

use assert_cmd::Command;

pub fn pixmeans() -> Command {
    Command::cargo_bin("pixmeans").unwrap()
}

/// A 96 x 64 test picture with smooth gradients and four flat patches:
/// hundreds of distinct colours, like a small photo.
pub fn picture() -> image::RgbImage {
    image::RgbImage::from_fn(96, 64, |x, y| {
        let patch = match (x / 48, y / 32) {
            (0, 0) => [200, 40, 40],
            (1, 0) => [40, 160, 60],
            (0, 1) => [40, 60, 200],
            _ => [230, 210, 70],
        };
        let shade = ((x % 48) + (y % 32)) as u8;
        image::Rgb(patch.map(|c: u8| c.saturating_sub(shade)))
    })
}

pub fn save_picture(path: &Path) {
    picture().save(path).unwrap();
}

/// The test picture under a round vignette of opacity: opaque in the
/// middle, through every alpha to fully transparent at the corners.
pub fn save_soft_picture(path: &Path) {
    let rgb = picture();
    let (w, h) = (f64::from(rgb.width()), f64::from(rgb.height()));
    let img = image::RgbaImage::from_fn(rgb.width(), rgb.height(), |x, y| {
        let (dx, dy) = (f64::from(x) / w - 0.5, f64::from(y) / h - 0.5);
        let alpha = (255.0 * (2.5 - 5.0 * (dx * dx + dy * dy).sqrt())).clamp(0.0, 255.0);
        let [r, g, b] = rgb.get_pixel(x, y).0;
        image::Rgba([r, g, b, alpha as u8])
    });
    img.save(path).unwrap();
}

/// Decodes an indexed PNG with the `png` crate: (bit depth, palette, RGB pixels).
pub fn decode_indexed(path: &Path) -> (u8, Vec<[u8; 3]>, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert_eq!(
        info.color_type,
        png::ColorType::Indexed,
        "{} is not an indexed PNG",
        path.display()
    );
    let depth = info.bit_depth as u8;
    let palette: Vec<[u8; 3]> = info
        .palette
        .as_ref()
        .unwrap()
        .chunks_exact(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    let rgb = image::open(path).unwrap().to_rgb8().into_raw();
    (depth, palette, rgb)
}

/// Runs `pixmeans ARGS... --json` in `dir`, expects success, and returns the
/// first JSON line.
pub fn run_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let out = pixmeans()
        .current_dir(dir)
        .args(args)
        .arg("--json")
        .assert()
        .success();
    json_lines(&out.get_output().stdout).remove(0)
}

/// Runs `pixmeans ARGS...` in `dir`; expects exit `code`, an `error:` line
/// and no panic, and returns standard error.
pub fn fails_with(dir: &Path, args: &[&str], code: i32) -> String {
    let out = pixmeans().current_dir(dir).args(args).assert().code(code);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.lines().any(|l| l.starts_with("error: ")), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// Parses every JSON line of standard output.
pub fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    std::str::from_utf8(stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
