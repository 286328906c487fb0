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
//! Opaque pixels do not take the opacity passed on to them: they take the
//! error as one of colour over mid-grey, and the nearest entry of at least
//! the least opacity that an opaque colour takes without dithering, with
//! its transparency counted four times as much as in the fit
//! ([`OPAQUE_TRANSPARENCY`]), so that dithering puts no see-through dots
//! in an opaque area. They look among entries of less than full opacity
//! too, because a cluster keeps its centroid's opacity unless its pixels
//! are opaque a third of the time and the centroid nearly so, and some
//! opaque colours fall in such clusters (see
//! `AlphaColors::opaque_clusters`). A partly transparent pixel whose
//! opacity with the error passed on rounds to 255 is looked up as an
//! opaque one.
//! The error of the entry taken, opacity included, is passed on. Fully
//! transparent pixels stay so and pass nothing on.
//!
//! The floor is one for the image: a single opaque colour that the fit
//! puts in a cluster of little opacity lowers it for every opaque pixel,
//! which then keep only the weight.

use crate::color::{ColorSpace, Point};
use crate::histogram::cache_slot;
use crate::image::ImageRef;
use crate::opacity::point_of;

use super::cells::{Cells, Lookup};
use super::{CACHE_SLOTS, Errors, in_bands};

/// How much more the transparency of an entry counts for an opaque pixel
/// than in the fit. The fit weighs it as the mean of the errors over black
/// and over white, so a dark entry at alpha 160-190 could stand for an
/// opaque grey; an opaque pixel given it lets whatever lies behind show
/// through, on any background. Counting it 4 times (as from black to
/// white in full) kept every opaque pixel of the cut-outs of
/// `bench/compare/pngquant_files.py` at alpha 230 or more when dithered at
/// k = 16, 64, 256 (159 at least with weight 1), and the worse of their
/// PSNRs over black and over white within -0.03 to +0.4 dB of weight 1's.
const OPAQUE_TRANSPARENCY: f32 = 4.0;

/// What error diffusion with opacity maps to.
pub(crate) struct AlphaTarget<'a> {
    /// The palette's entries, the fully transparent one included.
    pub(crate) colors: &'a [[u8; 4]],
    pub(crate) space: ColorSpace,
    /// The index fully transparent pixels get (present whenever the image
    /// has such pixels).
    pub(crate) transparent: Option<u8>,
    /// The least opacity of an entry that an opaque colour takes without
    /// dithering: opaque pixels take no entry of less.
    pub(crate) opaque_floor: u8,
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
    // Opaque pixels choose among the entries of at least the floor's
    // opacity, through cells over the entries' first three coordinates,
    // each adding its fourth coordinate's square (an opaque colour's is 0)
    // times OPAQUE_TRANSPARENCY: a scan's nearest entry, found as fast as
    // for an opaque image.
    let floor = target.opaque_floor.max(1);
    let for_opaque: Vec<([f32; 4], u8)> = entries
        .iter()
        .filter(|e| target.colors[usize::from(e.1)][3] >= floor)
        .copied()
        .collect();
    let for_opaque_points: Vec<Point> =
        for_opaque.iter().map(|(p, _)| [p[0], p[1], p[2]]).collect();
    let for_opaque_extra: Vec<f32> = for_opaque
        .iter()
        .map(|(p, _)| OPAQUE_TRANSPARENCY * p[3] * p[3])
        .collect();
    let for_opaque_index: Vec<u8> = for_opaque.iter().map(|e| e.1).collect();
    let cells = (!for_opaque.is_empty())
        .then(|| Cells::with_extra(target.space, &for_opaque_points, Some(&for_opaque_extra)));
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
                .map(|cells| (cells, for_opaque_index.as_slice())),
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
    /// The cells in which opaque colours find their entry (those of at
    /// least the floor's opacity), and each cell centroid's palette index,
    /// if there are any such entries.
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
            // An opaque pixel cannot take the opacity passed on to it: it
            // takes the error of the colour over mid-grey instead (less
            // opacity shows half of it, over black and white alike).
            let grey = if p[3] == 255 { 0.5 * carried[3] } else { 0.0 };
            let mut wanted = [0.0, 0.0, 0.0, a];
            for c in 0..3 {
                wanted[c] = (f32::from(p[c]) * alpha + carried[c] - grey).clamp(0.0, a);
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
        // An opaque colour's cell, looked up once.
        let cell = match self.opaque {
            Some((cells, index)) if a == 255 => match cells.lookup([r, g, b]) {
                Lookup::Nearest(j) => return index[usize::from(j)],
                Lookup::Search(list) => Some((cells, index, list)),
            },
            _ => None,
        };
        let key = u32::from_be_bytes(rgba);
        let slot = cache_slot(key, CACHE_SLOTS);
        if let Some((cached, index)) = self.cache[slot]
            && cached == key
        {
            return index;
        }
        let index = match cell {
            Some((cells, index, list)) => index[usize::from(cells.search(list, [r, g, b]))],
            None => scan(self.target.space, self.entries, rgba),
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
