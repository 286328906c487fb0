//! Palettes and their size.

use std::fmt;

/// How many colours a palette may hold: 1 to 256, the range an indexed PNG or
/// GIF can store. A value outside that range cannot be constructed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PaletteSize(u16);

impl PaletteSize {
    /// The largest palette an 8-bit indexed image can hold.
    pub const MAX: PaletteSize = PaletteSize(256);

    /// Returns the size, or an error naming `n` when it is 0 or above 256.
    ///
    /// # Errors
    ///
    /// [`PaletteSizeError`] when `n` is 0 or above 256.
    pub fn new(n: usize) -> Result<Self, PaletteSizeError> {
        match u16::try_from(n) {
            Ok(v @ 1..=256) => Ok(PaletteSize(v)),
            _ => Err(PaletteSizeError(n)),
        }
    }

    /// The number of colours.
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

impl TryFrom<usize> for PaletteSize {
    type Error = PaletteSizeError;

    fn try_from(n: usize) -> Result<Self, Self::Error> {
        PaletteSize::new(n)
    }
}

impl fmt::Display for PaletteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The error for a palette size outside 1..=256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("palette size {0} is out of range: an indexed image holds 1 to 256 colours")]
pub struct PaletteSizeError(pub usize);

/// The colours of an indexed image, as RGBA. Opaque colours have alpha 255
/// and partly transparent ones 1 to 254; at most one entry, the last, is
/// fully transparent (alpha 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette {
    colors: Vec<[u8; 4]>,
}

impl Palette {
    /// A palette of opaque colours, optionally followed by one fully
    /// transparent entry. Fails when that makes more than 256 entries, or none.
    ///
    /// # Errors
    ///
    /// [`PaletteSizeError`] when `opaque` is empty and `with_transparent` is
    /// false, or when the entries, transparent one included, number above 256.
    pub fn new(opaque: &[[u8; 3]], with_transparent: bool) -> Result<Self, PaletteSizeError> {
        let colors: Vec<[u8; 4]> = opaque.iter().map(|&[r, g, b]| [r, g, b, 255]).collect();
        Self::with_alpha(&colors, with_transparent)
    }

    /// A palette of colours with their alpha, optionally followed by one
    /// fully transparent entry. An alpha of 0 among `colors` is raised to
    /// 1, so that the fully transparent entry stays the only one. Fails
    /// when that makes more than 256 entries, or none.
    ///
    /// # Errors
    ///
    /// [`PaletteSizeError`] when `colors` is empty and `with_transparent` is
    /// false, or when the entries, transparent one included, number above 256.
    pub fn with_alpha(
        colors: &[[u8; 4]],
        with_transparent: bool,
    ) -> Result<Self, PaletteSizeError> {
        let len = colors.len() + usize::from(with_transparent);
        PaletteSize::new(len)?;
        let mut colors: Vec<[u8; 4]> = colors
            .iter()
            .map(|&[r, g, b, a]| [r, g, b, a.max(1)])
            .collect();
        if with_transparent {
            colors.push([0, 0, 0, 0]);
        }
        Ok(Palette { colors })
    }

    /// The number of entries, transparent one included.
    pub fn len(&self) -> usize {
        self.colors.len()
    }

    /// Always false: a palette has at least one entry. (Present for the
    /// `len`/`is_empty` convention.)
    pub fn is_empty(&self) -> bool {
        self.colors.is_empty()
    }

    /// Every entry as RGBA.
    pub fn colors(&self) -> &[[u8; 4]] {
        &self.colors
    }

    /// The entries as RGB (alpha dropped).
    pub fn rgb(&self) -> Vec<[u8; 3]> {
        self.colors.iter().map(|&[r, g, b, _]| [r, g, b]).collect()
    }

    /// The index of the fully transparent entry, if the palette has one.
    pub fn transparent_index(&self) -> Option<usize> {
        self.colors.iter().position(|c| c[3] == 0)
    }

    /// Whether any entry is not fully opaque.
    pub fn has_alpha(&self) -> bool {
        self.colors.iter().any(|c| c[3] < 255)
    }

    /// The number of entries that are colours: all but the fully
    /// transparent one.
    pub fn color_count(&self) -> usize {
        self.colors.len() - usize::from(self.transparent_index().is_some())
    }

    /// The fewest bits an index into this palette needs: ⌈log2 len⌉, and 0 for
    /// a one-colour palette.
    pub fn index_bits(&self) -> u32 {
        let n = self.colors.len();
        if n <= 1 {
            0
        } else {
            usize::BITS - (n - 1).leading_zeros()
        }
    }
}

/// The order in which to list palette colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PaletteOrder {
    /// Most pixels first (the order [`crate::Quantizer`] gives). The default.
    #[default]
    Share,
    /// Lightest first, by Oklab L.
    Lightness,
    /// Round the colour wheel by Oklab hue from red; near-greys (Oklab chroma
    /// below 0.03) first, lightest first.
    Hue,
}

/// The order that clusters are numbered in, in a quantized image and in a
/// segmentation alike: most pixels first, ties lightest first (by Oklab L),
/// then by position. `pixels[i]` is cluster i's pixel count and `colors(i)`
/// its colour.
pub(crate) fn cluster_order(pixels: &[u64], colors: impl Fn(usize) -> [u8; 3]) -> Vec<usize> {
    let lightness: Vec<f32> = (0..pixels.len())
        .map(|i| crate::ColorSpace::Oklab.from_srgb(colors(i))[0])
        .collect();
    let mut order: Vec<usize> = (0..pixels.len()).collect();
    order.sort_by(|&a, &b| {
        pixels[b]
            .cmp(&pixels[a])
            .then(lightness[b].total_cmp(&lightness[a]))
            .then(a.cmp(&b))
    });
    order
}

/// The positions of `swatches`, each a colour and its number of pixels, in
/// the given order; the pixel counts break ties and order by share.
///
/// ```
/// use pixmeans_core::{PaletteOrder, palette_order};
/// let swatches = [([250, 250, 250], 10), ([200, 0, 0], 30), ([0, 0, 90], 20)];
/// assert_eq!(palette_order(&swatches, PaletteOrder::Share), [1, 2, 0]);
/// assert_eq!(palette_order(&swatches, PaletteOrder::Lightness), [0, 1, 2]);
/// ```
pub fn palette_order(swatches: &[([u8; 3], u64)], by: PaletteOrder) -> Vec<usize> {
    let lab: Vec<[f32; 3]> = swatches
        .iter()
        .map(|&(c, _)| crate::ColorSpace::Oklab.from_srgb(c))
        .collect();
    let mut order: Vec<usize> = (0..swatches.len()).collect();
    let share = |a: usize, b: usize| swatches[b].1.cmp(&swatches[a].1).then(a.cmp(&b));
    let lightness = |a: usize, b: usize| lab[b][0].total_cmp(&lab[a][0]);
    match by {
        PaletteOrder::Share => order.sort_by(|&a, &b| share(a, b)),
        PaletteOrder::Lightness => order.sort_by(|&a, &b| lightness(a, b).then(share(a, b))),
        PaletteOrder::Hue => {
            let grey = |i: usize| lab[i][1].hypot(lab[i][2]) < 0.03;
            let hue = |i: usize| {
                let h = lab[i][2].atan2(lab[i][1]).to_degrees();
                if h < 0.0 { h + 360.0 } else { h }
            };
            order.sort_by(|&a, &b| {
                grey(b)
                    .cmp(&grey(a))
                    .then_with(|| {
                        if grey(a) {
                            lightness(a, b)
                        } else {
                            hue(a).total_cmp(&hue(b))
                        }
                    })
                    .then(share(a, b))
            });
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_size_accepts_exactly_one_to_256() {
        assert!(PaletteSize::new(0).is_err());
        assert_eq!(PaletteSize::new(1).map(PaletteSize::get), Ok(1));
        assert_eq!(PaletteSize::new(256).map(PaletteSize::get), Ok(256));
        assert_eq!(PaletteSize::new(257), Err(PaletteSizeError(257)));
    }

    #[test]
    fn index_bits_is_the_ceiling_of_log2() {
        let bits = |n: usize| Palette::new(&vec![[0, 0, 0]; n], false).map(|p| p.index_bits());
        assert_eq!(bits(1), Ok(0));
        assert_eq!(bits(2), Ok(1));
        assert_eq!(bits(3), Ok(2));
        assert_eq!(bits(16), Ok(4));
        assert_eq!(bits(17), Ok(5));
        assert_eq!(bits(256), Ok(8));
    }

    #[test]
    fn palette_orders() {
        let swatches = [
            ([200, 200, 200], 5),
            ([0, 0, 255], 40),
            ([255, 0, 0], 10),
            ([0, 160, 0], 30),
            ([20, 20, 20], 15),
        ];
        assert_eq!(
            palette_order(&swatches, PaletteOrder::Share),
            [1, 3, 4, 2, 0]
        );
        assert_eq!(
            palette_order(&swatches, PaletteOrder::Lightness),
            [0, 2, 3, 1, 4]
        );
        // Greys first (light to dark), then red, green, blue round the wheel.
        assert_eq!(palette_order(&swatches, PaletteOrder::Hue), [0, 4, 2, 3, 1]);
    }

    #[test]
    fn a_transparent_entry_counts_toward_the_limit() {
        assert!(Palette::new(&vec![[0, 0, 0]; 255], true).is_ok());
        assert_eq!(
            Palette::new(&vec![[0, 0, 0]; 256], true),
            Err(PaletteSizeError(257))
        );
        let p = Palette::new(&[[1, 2, 3]], true).map(|p| p.transparent_index());
        assert_eq!(p, Ok(Some(1)));
    }

    #[test]
    fn partly_transparent_entries_are_colours_with_alpha() {
        let p = Palette::with_alpha(&[[1, 2, 3, 255], [4, 5, 6, 0], [7, 8, 9, 128]], true).unwrap();
        assert_eq!(p.colors()[1], [4, 5, 6, 1]);
        assert_eq!((p.transparent_index(), p.color_count()), (Some(3), 3));
        assert!(p.has_alpha());
        let opaque = Palette::with_alpha(&[[1, 2, 3, 255]], false).unwrap();
        assert!(!opaque.has_alpha());
        assert_eq!(opaque.color_count(), 1);
    }
}
