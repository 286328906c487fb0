//! Error diffusion for an image whose opacity was clustered with its colour
//! (see [`crate::opacity`]): the same Floyd–Steinberg passes, bands and
//! level as for opaque images, in premultiplied RGBA.
//!
//! Each partly transparent pixel's colour multiplied by its opacity, and
//! its opacity, plus the error passed on to them, are clamped to what can
//! be shown (opacity 0 to 255, each colour channel 0 to the opacity), and
//! take the palette entry nearest to them as the fit measures (over black
//! and white alike); the error of what was written is passed on. A soft
//! shadow of one colour then dithers in opacity, as pngquant's does.
//! Opaque pixels take the colour error passed on to them but keep their
//! full opacity, and take the nearest entry but the fully transparent one,
//! found through cells as for opaque images: the clusters of a photo's
//! opaque middle often take in some of its nearly opaque pixels, so that
//! few of its entries are quite opaque (as in pngquant's palettes), and
//! these stand for it. An entry of little opacity is far from every opaque
//! colour, so dithering puts no see-through dots in an opaque area. Fully
//! transparent pixels stay so and pass nothing on.

use crate::color::{ColorSpace, Point};
use crate::histogram::cache_slot;
use crate::image::ImageRef;
use crate::opacity::point_of;

use super::cells::{Cells, Lookup};
use super::{CACHE_SLOTS, Errors, in_bands};

/// What error diffusion with opacity maps to.
pub(crate) struct AlphaTarget<'a> {
    /// The palette's entries, the fully transparent one included.
    pub(crate) colors: &'a [[u8; 4]],
    pub(crate) space: ColorSpace,
    /// The index fully transparent pixels get (present whenever the image
    /// has such pixels).
    pub(crate) transparent: Option<u8>,
}

/// The palette index of every pixel, by error diffusion passing on `level`
/// of each error. `image` is RGBA.
pub(crate) fn floyd_steinberg_with_alpha(
    image: &ImageRef<'_>,
    target: &AlphaTarget<'_>,
    level: f32,
) -> Vec<u8> {
    let w = image.width() as usize;
    // The entries that pixels can take, as points, with their index: the
    // fully transparent one too, for a partly transparent pixel that the
    // error passed on takes down to no opacity.
    let entries: Vec<([f32; 4], u8)> = target
        .colors
        .iter()
        .enumerate()
        .filter_map(|(i, &c)| Some((point_of(target.space, c), u8::try_from(i).ok()?)))
        .collect();
    // Opaque pixels choose among every entry but the fully transparent one,
    // through cells over the entries' first three coordinates, each adding
    // the square of its fourth (an opaque colour's is 0): the same nearest
    // entry as a scan, found as fast as for an opaque image.
    let visible: Vec<([f32; 4], u8)> = entries
        .iter()
        .filter(|e| target.colors[usize::from(e.1)][3] != 0)
        .copied()
        .collect();
    let visible_points: Vec<Point> = visible.iter().map(|(p, _)| [p[0], p[1], p[2]]).collect();
    let visible_extra: Vec<f32> = visible.iter().map(|(p, _)| p[3] * p[3]).collect();
    let visible_index: Vec<u8> = visible.iter().map(|e| e.1).collect();
    let cells = (!visible.is_empty())
        .then(|| Cells::with_extra(target.space, &visible_points, Some(&visible_extra)));
    let premultiplied: Vec<[f32; 4]> = target
        .colors
        .iter()
        .map(|&[r, g, b, a]| {
            let alpha = f32::from(a) / 255.0;
            [r, g, b, 255].map(|c| f32::from(c) * alpha)
        })
        .collect();
    in_bands(image, || {
        let mut band = Band {
            target,
            entries: &entries,
            opaque: cells
                .as_ref()
                .map(|cells| (cells, visible_index.as_slice())),
            premultiplied: &premultiplied,
            level,
            errors: Errors::new(w),
            cache: vec![None; CACHE_SLOTS],
        };
        move |y: usize, out: &mut [u8]| band.row(image, y, out)
    })
}

/// One band's running state, as for opaque images: the error in
/// premultiplied RGBA passed on to this row and the next, and a cache of
/// nearest entries.
struct Band<'a> {
    target: &'a AlphaTarget<'a>,
    entries: &'a [([f32; 4], u8)],
    /// The cells in which opaque colours find their entry (any but the
    /// fully transparent one), and each cell centroid's palette index, if
    /// there are any such entries.
    opaque: Option<(&'a Cells<'a>, &'a [u8])>,
    premultiplied: &'a [[f32; 4]],
    level: f32,
    errors: Errors<4>,
    /// Direct-mapped: an `0xRRGGBBAA` key and its nearest entry.
    cache: Vec<Option<(u32, u8)>>,
}

impl Band<'_> {
    /// Dithers row y into `out`.
    fn row(&mut self, image: &ImageRef<'_>, y: usize, out: &mut [u8]) {
        let w = out.len();
        let pixels = &image.data()[y * w * 4..(y + 1) * w * 4];
        self.errors.next_row();
        let right_to_left = y % 2 == 1;
        for step in 0..w {
            let x = if right_to_left { w - 1 - step } else { step };
            let p = &pixels[x * 4..x * 4 + 4];
            if p[3] == 0 {
                out[x] = self.target.transparent.unwrap_or(0);
                continue;
            }
            let carried = self.errors.carried(x);
            let a = match p[3] {
                255 => 255.0,
                a => (f32::from(a) + carried[3]).clamp(0.0, 255.0),
            };
            let alpha = f32::from(p[3]) / 255.0;
            let mut wanted = [0.0, 0.0, 0.0, a];
            for c in 0..3 {
                wanted[c] = (f32::from(p[c]) * alpha + carried[c]).clamp(0.0, a);
            }
            // Back to a straight colour, rounded (black at no opacity).
            let straight = |v: f32| (v * 255.0 / a.max(0.5) + 0.5).min(255.0) as u8;
            let rgba = [
                straight(wanted[0]),
                straight(wanted[1]),
                straight(wanted[2]),
                (a + 0.5) as u8,
            ];
            let index = self.nearest(rgba);
            out[x] = index;
            let written = self.premultiplied[usize::from(index)];
            let error = std::array::from_fn(|c| (wanted[c] - written[c]) * self.level);
            self.errors.pass_on(x, right_to_left, error);
        }
    }

    /// The index of the entry nearest `rgba` in the working space (the
    /// first of equals) among those it may take, through the cache. An
    /// opaque colour is looked up in the cells; for the others a miss
    /// scans every entry (256 at most).
    fn nearest(&mut self, rgba: [u8; 4]) -> u8 {
        let [r, g, b, a] = rgba;
        if a == 255
            && let Some((cells, index)) = self.opaque
            && let Lookup::Nearest(j) = cells.lookup([r, g, b])
        {
            return index[usize::from(j)];
        }
        let key = u32::from_be_bytes(rgba);
        let slot = cache_slot(key, CACHE_SLOTS);
        if let Some((cached, index)) = self.cache[slot]
            && cached == key
        {
            return index;
        }
        let index = match (a, self.opaque) {
            (255, Some((cells, index))) => match cells.lookup([r, g, b]) {
                Lookup::Nearest(j) => index[usize::from(j)],
                Lookup::Search(list) => index[usize::from(cells.search(list, [r, g, b]))],
            },
            _ => scan(self.target.space, self.entries, rgba),
        };
        self.cache[slot] = Some((key, index));
        index
    }
}

/// The entry of `entries` nearest `rgba`'s point in `space`, the first of
/// equals.
fn scan(space: ColorSpace, entries: &[([f32; 4], u8)], rgba: [u8; 4]) -> u8 {
    let p = point_of(space, rgba);
    let mut best = (f32::INFINITY, 0);
    for &(q, i) in entries {
        let d: f32 = p.iter().zip(q).map(|(a, b)| (a - b) * (a - b)).sum();
        if d < best.0 {
            best = (d, i);
        }
    }
    best.1
}
