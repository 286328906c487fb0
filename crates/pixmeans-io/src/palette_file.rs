//! A palette as files: a GIMP palette (`.gpl`) and a swatch image whose bands
//! are as wide as each colour's share of the pixels.

use std::fmt::Write as _;

use pixmeans_core::{IndexedImage, Palette};

/// One palette colour and the number of pixels that have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Swatch {
    /// The colour.
    pub rgb: [u8; 3],
    /// Pixels of the image mapped to it.
    pub pixels: u64,
}

/// A GIMP palette (the `.gpl` text format GIMP, Inkscape and Krita read):
/// one line per colour, in the order given, each named by its hex code and
/// its share of the pixels. Line breaks and other control characters in
/// `name` become spaces, as the name must stay on its line.
pub fn gimp_palette(name: &str, colors: &[Swatch]) -> String {
    let total: u64 = colors.iter().map(|c| c.pixels).sum::<u64>().max(1);
    let name: String = name
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut out = format!(
        "GIMP Palette\nName: {name}\nColumns: {}\n#\n",
        colors.len().min(16)
    );
    for c in colors {
        let [r, g, b] = c.rgb;
        let share = 100.0 * c.pixels as f64 / total as f64;
        let _ = writeln!(out, "{r:3} {g:3} {b:3}\t#{r:02x}{g:02x}{b:02x} {share:.1}%");
    }
    out
}

/// A `width` x `height` swatch: one vertical band per colour, left to right
/// in the order given, each as wide as its share of the pixels (largest
/// remainders rounded up, so the bands fill the width exactly). Returns
/// `None` for no colours or an empty size.
pub fn swatch_image(colors: &[Swatch], width: u32, height: u32) -> Option<IndexedImage> {
    if colors.is_empty() || colors.len() > 256 || width == 0 || height == 0 {
        return None;
    }
    let total: u64 = colors.iter().map(|c| c.pixels).sum::<u64>().max(1);
    let exact: Vec<f64> = colors
        .iter()
        .map(|c| c.pixels as f64 * f64::from(width) / total as f64)
        .collect();
    let mut widths: Vec<u32> = exact.iter().map(|w| w.floor() as u32).collect();
    let mut by_remainder: Vec<usize> = (0..colors.len()).collect();
    by_remainder.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let short = width.saturating_sub(widths.iter().sum());
    for &i in by_remainder.iter().cycle().take(short as usize) {
        widths[i] += 1;
    }
    let row: Vec<u8> = widths
        .iter()
        .enumerate()
        .flat_map(|(i, &w)| std::iter::repeat_n(i as u8, w as usize))
        .collect();
    let rgb: Vec<[u8; 3]> = colors.iter().map(|c| c.rgb).collect();
    let palette = Palette::new(&rgb, false).ok()?;
    IndexedImage::new(width, height, palette, row.repeat(height as usize)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE: [Swatch; 3] = [
        Swatch {
            rgb: [255, 0, 0],
            pixels: 50,
        },
        Swatch {
            rgb: [0, 255, 0],
            pixels: 30,
        },
        Swatch {
            rgb: [0, 0, 255],
            pixels: 20,
        },
    ];

    #[test]
    fn bands_are_as_wide_as_the_shares() {
        let img = swatch_image(&THREE, 100, 3).unwrap();
        let row = &img.indices()[..100];
        let mut widths = [0; 3];
        for &i in row {
            widths[usize::from(i)] += 1;
        }
        assert_eq!(widths, [50, 30, 20]);
        assert!(row.windows(2).all(|w| w[0] <= w[1]), "bands are contiguous");
        // Shares that do not divide the width still fill it exactly.
        let odd = swatch_image(&THREE, 7, 1).unwrap();
        assert_eq!(odd.indices(), [0, 0, 0, 0, 1, 1, 2]);
        assert!(swatch_image(&[], 10, 10).is_none());
    }

    #[test]
    fn gimp_palette_lists_every_colour() {
        let gpl = gimp_palette("photo", &THREE);
        assert!(gpl.starts_with("GIMP Palette\nName: photo\nColumns: 3\n#\n"));
        assert!(gpl.contains("255   0   0\t#ff0000 50.0%\n"));
        assert!(gpl.ends_with("  0   0 255\t#0000ff 20.0%\n"));
        // A name cannot break the header.
        let gpl = gimp_palette("two\nlines\r", &THREE);
        assert!(gpl.starts_with("GIMP Palette\nName: two lines \nColumns: 3\n"));
    }
}
