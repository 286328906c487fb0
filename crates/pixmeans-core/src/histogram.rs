//! [`ColorHistogram`]: every distinct colour of an image once, with the
//! number of pixels that have it.
//!
//! Clustering these weighted colours instead of the raw pixels gives exactly
//! the same k-means objective, iterates and labels (each pixel of a colour is
//! the same point), at a tenth to a hundredth of the cost on a photo.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use crate::color::{ColorSpace, Point, srgb_to_lab};
use crate::image::{ImageRef, PIXEL_CHUNK, PixelFormat};
use crate::kmeans::FitInput;
use crate::opacity::AlphaColors;

/// Below this many pixels the colours are counted by sorting their keys;
/// above it, in dense tables of all 2^24 colours, whose fixed cost (a page
/// fault for every brick of colours the image has) is then small next to
/// the pixel pass.
const DENSE_MIN_PIXELS: usize = 1 << 20;

/// A dense table's counter: 8 bits, wrapping (see [`Table`]).
type Counter = u8;

/// Pixels a counter holds before it wraps to 0.
const WRAP: u64 = 1 << Counter::BITS;

/// Counters per 4 KiB page of a dense table: one [`slot`] brick.
const PAGE: usize = 4096 / std::mem::size_of::<Counter>();

// The page flags and the read-back take a page to be exactly one brick.
const _: () = assert!(PAGE == 1 << 12);

/// Where colour `[r, g, b]` sits in a dense table of one byte per colour:
/// the cube cut into bricks of 16 × 16 × 16 colours, each brick one 4 KiB
/// page (the high nibbles of r, g and b pick the brick, the low ones the
/// place in it; a table of 16-bit cells takes two pages a brick). A
/// photo's colours gather in a small part of the cube, so they fill fewer
/// pages than in `0xRRGGBB` order, where a page is a slab of 1 × 16 × 256
/// colours: on two threads, the two counting tables of picture0b.jpg (one
/// per half of the rows) touch 1.4k pages instead of 4.4k, and sunset.jpg's
/// 1.1k instead of 2.8k.
#[inline]
pub(crate) fn slot([r, g, b]: [u8; 3]) -> usize {
    let (r, g, b) = (usize::from(r), usize::from(g), usize::from(b));
    ((r >> 4) << 20)
        | ((g >> 4) << 16)
        | ((b >> 4) << 12)
        | ((r & 15) << 8)
        | ((g & 15) << 4)
        | (b & 15)
}

/// One band's dense count: an 8-bit counter per colour (at its [`slot`]),
/// the colours whose counter wrapped (once per 256 pixels, by key), and
/// which pages were written.
struct Table {
    counts: Vec<Counter>,
    wrapped: Vec<u32>,
    touched: Vec<bool>,
}

/// The distinct colours of an image with their pixel counts, sorted by
/// colour (`0xRRGGBB` order), plus the number of fully transparent pixels.
///
/// Pixels with alpha 0 are counted apart and take no part in clustering.
/// Every other pixel counts as its RGB colour. Partly transparent pixels
/// (alpha 1 to 254) are also counted by colour and alpha together
/// ([`translucent`](Self::translucent)), for a quantization that clusters
/// colour and opacity (see [`crate::AlphaMode`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColorHistogram {
    colors: Vec<[u8; 3]>,
    counts: Vec<u64>,
    transparent: u64,
    /// The partly transparent pixels' distinct RGBA values, sorted
    /// (`0xRRGGBBAA` order), with their counts. They are among `colors` too.
    translucent: Vec<[u8; 4]>,
    translucent_counts: Vec<u64>,
    /// A dense counting table kept for mapping the pixels to reuse (see
    /// [`ColorHistogram::take_table`]).
    spare: Scratch<Mutex<Option<Vec<Counter>>>>,
    /// The CIELAB of each colour, kept for the ΔE figures of every k a
    /// search tries (see [`ColorHistogram::keep_for_several_fits`]).
    lab: Scratch<OnceLock<Vec<[f64; 3]>>>,
    /// Whether to keep `lab` and `fit_input` (see
    /// [`ColorHistogram::keep_for_several_fits`]).
    keep: Scratch<AtomicBool>,
    /// The colours in one working space with their k-d tree, kept for
    /// every k a search fits.
    fit_input: Scratch<OnceLock<(ColorSpace, FitInput<3>)>>,
    /// The colours with their opacity, and those in one working space with
    /// their k-d tree, kept likewise for an image with partly transparent
    /// pixels.
    alpha: Scratch<OnceLock<Arc<AlphaColors>>>,
    alpha_fit_input: Scratch<OnceLock<(ColorSpace, FitInput<4>)>>,
}

/// Something a histogram keeps beside its value to save work later: not
/// part of the value, so a clone starts without it and any two compare
/// equal.
#[derive(Default)]
struct Scratch<T>(T);

impl<T: Default> Clone for Scratch<T> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T> PartialEq for Scratch<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for Scratch<T> {}

impl<T> std::fmt::Debug for Scratch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scratch")
    }
}

/// A colour as the number `0xRRGGBB`.
pub(crate) fn key([r, g, b]: [u8; 3]) -> u32 {
    (u32::from(r) << 16) | (u32::from(g) << 8) | u32::from(b)
}

/// The slot of `key` in a direct-mapped cache of `slots` slots (a power of
/// two): the high bits of the key times 2^32 over the golden ratio, which
/// spreads neighbouring colours over the cache.
pub(crate) fn cache_slot(key: u32, slots: usize) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> (32 - slots.trailing_zeros())) as usize
}

fn unkey(k: u32) -> [u8; 3] {
    [(k >> 16) as u8, (k >> 8) as u8, k as u8]
}

/// Calls `f` with the colour key of every pixel that is not fully
/// transparent, in pixel order.
#[inline]
pub(crate) fn for_each_opaque_key(image: &ImageRef<'_>, mut f: impl FnMut(u32)) {
    let data = image.data();
    match image.format() {
        PixelFormat::Rgb8 => data
            .chunks_exact(3)
            .for_each(|p| f(key([p[0], p[1], p[2]]))),
        PixelFormat::Rgba8 => data
            .chunks_exact(4)
            .filter(|p| p[3] != 0)
            .for_each(|p| f(key([p[0], p[1], p[2]]))),
    }
}

/// The distinct RGBA values of the pixels with alpha 1 to 254, sorted, and
/// their counts: a pass of its own, since most images have none (an RGB
/// image is not even read) and the colour count's hot loop stays as it is.
fn count_translucent(image: &ImageRef<'_>) -> (Vec<[u8; 4]>, Vec<u64>) {
    if image.format() != PixelFormat::Rgba8 {
        return (Vec::new(), Vec::new());
    }
    let mut keys: Vec<u32> = image
        .data()
        .par_chunks(4 * PIXEL_CHUNK)
        .flat_map_iter(|chunk| {
            chunk
                .chunks_exact(4)
                .filter(|p| p[3] != 0 && p[3] != 255)
                .map(|p| u32::from_be_bytes([p[0], p[1], p[2], p[3]]))
        })
        .collect();
    keys.par_sort_unstable();
    keys.chunk_by(|a, b| a == b)
        .map(|run| (run[0].to_be_bytes(), run.len() as u64))
        .unzip()
}

fn opaque_keys(image: &ImageRef<'_>) -> Vec<u32> {
    let mut keys = Vec::with_capacity(image.pixel_count());
    for_each_opaque_key(image, |k| keys.push(k));
    keys
}

/// The colours with red `r` that the tables counted, with their counts
/// (wraps not included), in key order. `bricks[(r >> 4) << 4 | g >> 4]`
/// has bit `b >> 4` set where some table touched that brick.
fn colors_of_red(tables: &[Table], bricks: &[u16], r: usize) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    for g in 0..256usize {
        let mask = bricks[((r >> 4) << 4) | (g >> 4)];
        for bh in (0..16usize).filter(|&bh| mask & (1 << bh) != 0) {
            let start = slot([r as u8, g as u8, (bh << 4) as u8]);
            if tables
                .iter()
                .all(|t| t.counts[start..start + 16] == [0; 16])
            {
                continue;
            }
            for b in 0..16 {
                let n: u64 = tables.iter().map(|t| u64::from(t.counts[start + b])).sum();
                if n > 0 {
                    out.push((((r << 16) | (g << 8) | (bh << 4) | b) as u32, n));
                }
            }
        }
    }
    out
}

impl ColorHistogram {
    /// Counts the colours of `image`.
    pub fn from_image(image: &ImageRef<'_>) -> Self {
        let total = image.pixel_count();
        let mut hist = if total >= DENSE_MIN_PIXELS {
            Self::count_dense(image)
        } else {
            Self::count_sorted(opaque_keys(image))
        };
        hist.transparent = total as u64 - hist.visible();
        (hist.translucent, hist.translucent_counts) = count_translucent(image);
        hist
    }

    /// Builds a histogram from colours and counts given in any order;
    /// repeated colours are added together and zero counts dropped.
    pub fn from_counts(pairs: impl IntoIterator<Item = ([u8; 3], u64)>, transparent: u64) -> Self {
        let mut pairs: Vec<(u32, u64)> = pairs
            .into_iter()
            .filter(|p| p.1 > 0)
            .map(|(c, n)| (key(c), n))
            .collect();
        pairs.sort_unstable_by_key(|p| p.0);
        let mut hist = ColorHistogram {
            transparent,
            ..Self::default()
        };
        for (k, n) in pairs {
            if hist.colors.last().is_some_and(|&c| key(c) == k) {
                if let Some(last) = hist.counts.last_mut() {
                    *last += n;
                }
            } else {
                hist.colors.push(unkey(k));
                hist.counts.push(n);
            }
        }
        hist
    }

    // Bands of rows are counted in parallel, each into a table of its own,
    // and the tables are summed while the colours are collected. On
    // sunset.jpg (12 MP, 2 cores) this takes 67-83 ms, against 90-106 ms for
    // one table and one pass, and 127-212 ms for one shared table split by
    // key (each part then reads every pixel).
    //
    // The counters are 8-bit: a counter that wraps to 0 notes its colour in
    // a list, each entry worth 256 pixels (at most one entry per 256 pixels,
    // so the list stays small). Only the table pages holding an image's
    // colours are ever touched, so narrower counters mean fewer pages: 8-bit
    // counters instead of 16-bit took picture0b.jpg's whole run from 58.6 to
    // 45-46 MB peak and 22.3k to 18.8k page faults, and counting from 41-51
    // to 26-40 ms (sunset.jpg 42-62 → 38-50 ms).
    //
    // Collecting the colours reads only the pages that some pixel wrote
    // (one flag per page, set beside each count): on picture0b.jpg, 4.5 MP
    // and 176k colours, counting then takes 37-53 ms instead of 72-100 ms,
    // and 50-64 ms instead of 80-90 ms on sunset.jpg (both loaded runs).
    //
    // The tables are laid out in bricks of 16³ colours (see [`slot`])
    // rather than in key order: `quantize -k 16` on picture0b.jpg then
    // takes 13.4-13.5k page faults instead of 16.7k and peaks at 37.9-38.2
    // MB instead of 43.9-44.1, and on sunset.jpg saved as PNG 19.1-19.3k
    // instead of 21.7-21.9k and 64.0-64.3 MB instead of 66.4-66.5. The time
    // stays within the noise: counting picture0b.jpg took 15-18 ms against
    // 18-22 in fresh processes, and 13-22 against 14-22 in a warm one.
    fn count_dense(image: &ImageRef<'_>) -> Self {
        let (w, h) = (image.width() as usize, image.height() as usize);
        let parts = rayon::current_num_threads().clamp(1, 4);
        let ch = image.format().channels();
        let band = w * ch * h.div_ceil(parts);
        let tables: Vec<Table> = image
            .data()
            .par_chunks(band)
            .map(|data| {
                let mut t = Table {
                    counts: vec![0; 1 << 24],
                    wrapped: Vec::new(),
                    touched: vec![false; (1 << 24) / PAGE],
                };
                if let Ok(rows) = ImageRef::new(
                    image.width(),
                    (data.len() / (w * ch)) as u32,
                    image.format(),
                    data,
                ) {
                    for_each_opaque_key(&rows, |k| {
                        let i = slot(unkey(k));
                        let n = &mut t.counts[i];
                        *n = n.wrapping_add(1);
                        if *n == 0 {
                            t.wrapped.push(k);
                        }
                        t.touched[i / PAGE] = true;
                    });
                }
                t
            })
            .collect();
        // The colours come out in key order, r by r: for each r the bricks
        // along g and b that some pixel touched are read, 16 counters (a
        // run of b) at a time, and empty runs are passed over at once.
        let bricks: Vec<u16> = (0..256)
            .map(|rg| {
                (0..16).fold(0, |mask, b| {
                    let page = (rg << 4) | b;
                    let hit = tables.iter().any(|t| t.touched[page]);
                    mask | (u16::from(hit) << b)
                })
            })
            .collect();
        let mut found: Vec<(u32, u64)> = (0..256usize)
            .into_par_iter()
            .flat_map_iter(|r| colors_of_red(&tables, &bricks, r))
            .collect();
        let mut wrapped: Vec<u32> = tables
            .iter()
            .flat_map(|t| t.wrapped.iter().copied())
            .collect();
        let spare = tables.into_iter().next().map(|t| t.counts);
        wrapped.sort_unstable();
        for run in wrapped.chunk_by(|a, b| a == b) {
            let extra = run.len() as u64 * WRAP;
            match found.binary_search_by_key(&run[0], |p| p.0) {
                Ok(i) => found[i].1 += extra,
                // Every counter of this colour wrapped to exactly 0.
                Err(i) => found.insert(i, (run[0], extra)),
            }
        }
        ColorHistogram {
            colors: found.iter().map(|p| unkey(p.0)).collect(),
            counts: found.iter().map(|p| p.1).collect(),
            transparent: 0,
            translucent: Vec::new(),
            translucent_counts: Vec::new(),
            spare: Scratch(Mutex::new(spare)),
            lab: Scratch::default(),
            keep: Scratch::default(),
            fit_input: Scratch::default(),
            alpha: Scratch::default(),
            alpha_fit_input: Scratch::default(),
        }
    }

    fn count_sorted(mut keys: Vec<u32>) -> Self {
        keys.par_sort_unstable();
        let mut hist = ColorHistogram::default();
        for chunk in keys.chunk_by(|a, b| a == b) {
            hist.colors.push(unkey(chunk[0]));
            hist.counts.push(chunk.len() as u64);
        }
        hist
    }

    /// Adds another histogram's counts to this one (tiles of one image, or
    /// several images that are to share a palette).
    pub fn merge(&mut self, other: &ColorHistogram) {
        let pairs = self.iter().chain(other.iter()).collect::<Vec<_>>();
        let mut translucent: Vec<(u32, u64)> = self
            .translucent_iter()
            .chain(other.translucent_iter())
            .map(|(c, n)| (u32::from_be_bytes(c), n))
            .collect();
        translucent.sort_unstable_by_key(|p| p.0);
        *self = Self::from_counts(pairs, self.transparent + other.transparent);
        for run in translucent.chunk_by(|a, b| a.0 == b.0) {
            self.translucent.push(run[0].0.to_be_bytes());
            self.translucent_counts.push(run.iter().map(|p| p.1).sum());
        }
    }

    /// The number of distinct colours (of every pixel that is not fully
    /// transparent).
    pub fn len(&self) -> usize {
        self.colors.len()
    }

    /// Whether every pixel of the image is fully transparent.
    pub fn is_empty(&self) -> bool {
        self.colors.is_empty()
    }

    /// The distinct colours, sorted.
    pub fn colors(&self) -> &[[u8; 3]] {
        &self.colors
    }

    /// From now on, keeps what each quantization of this histogram would
    /// otherwise make afresh: the colours in CIELAB (made now), for the ΔE
    /// figures, and the colours in the working space with the k-d tree the
    /// fit walks (made by the first fit on every colour, in its space; a
    /// fit in another space makes its own). Worth it before several
    /// quantizations at different k: a search over k does it itself, and
    /// the results are the same either way. On the 177k colours of
    /// sunset.jpg (one thread) it saves 15 ms of a fit's 45 ms of figures
    /// and 5 ms of building the tree, and keeps 13 MB (the peak rises by
    /// less, since a fit makes its own copy otherwise). A single
    /// quantization keeps nothing, which keeps its peak memory low.
    ///
    /// Never blocks: a value two threads make at once is made twice and
    /// kept once (waiting instead could deadlock a rayon thread that
    /// picks up another quantization of this histogram while it waits).
    pub fn keep_for_several_fits(&self) {
        self.keep.0.store(true, Ordering::Relaxed);
        if self.lab.0.get().is_none() {
            let lab = self.colors.par_iter().map(|&c| srgb_to_lab(c)).collect();
            let _ = self.lab.0.set(lab);
        }
    }

    /// The colours in `space` with their k-d tree, made now if
    /// [`keep_for_several_fits`](Self::keep_for_several_fits) has run and
    /// nothing is kept yet; `None` if not asked to keep, or kept for
    /// another space, or there are no colours.
    pub(crate) fn fit_input(&self, space: ColorSpace) -> Option<&FitInput<3>> {
        if !self.keep.0.load(Ordering::Relaxed) || self.colors.is_empty() {
            return None;
        }
        if self.fit_input.0.get().is_none() {
            let input = FitInput::new(self.points_in(space), &self.counts);
            let _ = self.fit_input.0.set((space, input));
        }
        self.fit_input
            .0
            .get()
            .filter(|(kept, _)| *kept == space)
            .map(|(_, input)| input)
    }

    /// The colours with their opacity that a fit clusters when it clusters
    /// opacity: kept if [`keep_for_several_fits`](Self::keep_for_several_fits)
    /// has run, else made afresh.
    pub(crate) fn alpha_colors(&self) -> Arc<AlphaColors> {
        if !self.keep.0.load(Ordering::Relaxed) {
            return Arc::new(AlphaColors::new(self));
        }
        if let Some(kept) = self.alpha.0.get() {
            return Arc::clone(kept);
        }
        let made = Arc::new(AlphaColors::new(self));
        let _ = self.alpha.0.set(Arc::clone(&made));
        made
    }

    /// [`fit_input`](Self::fit_input) for the colours with their opacity.
    pub(crate) fn alpha_fit_input(&self, space: ColorSpace) -> Option<&FitInput<4>> {
        if !self.keep.0.load(Ordering::Relaxed) || self.translucent.is_empty() {
            return None;
        }
        if self.alpha_fit_input.0.get().is_none() {
            let colors = self.alpha_colors();
            let input = FitInput::new(colors.points_in(space), colors.counts());
            let _ = self.alpha_fit_input.0.set((space, input));
        }
        self.alpha_fit_input
            .0
            .get()
            .filter(|(kept, _)| *kept == space)
            .map(|(_, input)| input)
    }

    /// Each colour in `space`, the points a fit clusters.
    pub(crate) fn points_in(&self, space: ColorSpace) -> Vec<Point> {
        self.colors
            .par_iter()
            .map(|&c| space.from_srgb(c))
            .collect()
    }

    /// Each colour's pixel count as a fit's weight.
    pub(crate) fn weights(&self) -> Vec<f64> {
        self.counts.iter().map(|&n| n as f64).collect()
    }

    /// The CIELAB of each colour, in the order of [`colors`](Self::colors),
    /// if [`keep_for_several_fits`](Self::keep_for_several_fits) has run.
    pub(crate) fn kept_lab(&self) -> Option<&[[f64; 3]]> {
        self.lab.0.get().map(Vec::as_slice)
    }

    /// The pixel count of each colour, in the order of [`colors`](Self::colors).
    pub fn counts(&self) -> &[u64] {
        &self.counts
    }

    /// Each colour with its count.
    pub fn iter(&self) -> impl Iterator<Item = ([u8; 3], u64)> + '_ {
        self.colors.iter().copied().zip(self.counts.iter().copied())
    }

    /// The partly transparent pixels' distinct RGBA values (alpha 1 to
    /// 254), sorted; their colours are among [`colors`](Self::colors) too.
    pub fn translucent(&self) -> &[[u8; 4]] {
        &self.translucent
    }

    /// The pixel count of each of [`translucent`](Self::translucent).
    pub fn translucent_counts(&self) -> &[u64] {
        &self.translucent_counts
    }

    /// Each partly transparent RGBA value with its count.
    pub fn translucent_iter(&self) -> impl Iterator<Item = ([u8; 4], u64)> + '_ {
        let counts = self.translucent_counts.iter().copied();
        self.translucent.iter().copied().zip(counts)
    }

    /// The number of fully transparent pixels.
    pub fn transparent(&self) -> u64 {
        self.transparent
    }

    /// The number of pixels that are not fully transparent (opaque or
    /// partly transparent): the sum of [`counts`](Self::counts). With
    /// [`transparent`](Self::transparent), every pixel of the image.
    pub fn visible(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// A table of one byte per 2^24 colours, indexed by [`slot`], that is 0
    /// everywhere except at this histogram's colours, where it holds
    /// anything: the first band's counting table the first time (once),
    /// else a new one. Mapping the pixels writes a label at every colour of
    /// the histogram, so the two are then the same table; but the kept one
    /// has its pages in memory already, and a new 16 MB table would come
    /// from the heap (glibc raises its mmap threshold when the other
    /// counting table is freed), where its pages stay resident through
    /// encoding. This took `quantize`'s peak from 75.4-76.0 to 67.5-67.7
    /// MB on a baseline sunset.jpg (12 MP), and from 45-46 to 42.2 MB on
    /// picture0b.jpg.
    pub(crate) fn take_table(&self) -> Vec<u8> {
        let kept = self.spare.0.lock().ok().and_then(|mut t| t.take());
        kept.unwrap_or_else(|| vec![0; 1 << 24])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(px: &[[u8; 3]], w: u32) -> Vec<u8> {
        assert_eq!(px.len() % w as usize, 0);
        px.concat()
    }

    #[test]
    fn counts_each_colour_once_in_sorted_order() {
        let px = rgb(&[[9, 9, 9], [1, 2, 3], [9, 9, 9], [0, 0, 255]], 2);
        let img = ImageRef::new(2, 2, PixelFormat::Rgb8, &px).unwrap();
        let h = ColorHistogram::from_image(&img);
        assert_eq!(h.colors(), &[[0, 0, 255], [1, 2, 3], [9, 9, 9]]);
        assert_eq!(h.counts(), &[1, 1, 2]);
        assert_eq!(h.transparent(), 0);
    }

    #[test]
    fn slots_are_one_to_one_and_a_brick_fills_one_page() {
        let mut seen = vec![false; 1 << 24];
        for k in 0..1u32 << 24 {
            let c = unkey(k);
            let i = slot(c);
            assert!(!seen[i], "{c:?}");
            seen[i] = true;
            // A brick is one page, and a run of 16 b values 16 neighbours.
            assert_eq!(i / PAGE, slot(c.map(|v| v & 0xf0)) / PAGE, "{c:?}");
            assert_eq!(i, slot([c[0], c[1], c[2] & 0xf0]) + usize::from(c[2] & 15));
        }
    }

    #[test]
    fn fully_transparent_pixels_are_counted_apart() {
        let px = [[5, 5, 5, 255], [5, 5, 5, 0], [7, 7, 7, 0], [5, 5, 5, 128]].concat();
        let img = ImageRef::new(4, 1, PixelFormat::Rgba8, &px).unwrap();
        let h = ColorHistogram::from_image(&img);
        assert_eq!(h.colors(), &[[5, 5, 5]]);
        assert_eq!(h.counts(), &[2]);
        assert_eq!(h.transparent(), 2);
    }

    #[test]
    fn partly_transparent_pixels_are_also_counted_with_their_alpha() {
        let px = [
            [5, 5, 5, 128],
            [5, 5, 5, 255],
            [9, 0, 0, 1],
            [5, 5, 5, 128],
            [5, 5, 5, 254],
            [9, 0, 0, 0],
        ]
        .concat();
        let img = ImageRef::new(6, 1, PixelFormat::Rgba8, &px).unwrap();
        let mut h = ColorHistogram::from_image(&img);
        assert_eq!(h.colors(), &[[5, 5, 5], [9, 0, 0]]);
        assert_eq!(h.counts(), &[4, 1]);
        assert_eq!(
            h.translucent(),
            &[[5, 5, 5, 128], [5, 5, 5, 254], [9, 0, 0, 1]]
        );
        assert_eq!(h.translucent_counts(), &[2, 1, 1]);
        h.merge(&h.clone());
        assert_eq!(h.counts(), &[8, 2]);
        assert_eq!(h.translucent_counts(), &[4, 2, 2]);
        assert_eq!(h.transparent(), 2);
        let rgb = ImageRef::new(2, 1, PixelFormat::Rgb8, &px[..6]).unwrap();
        assert!(ColorHistogram::from_image(&rgb).translucent().is_empty());
    }

    #[test]
    fn dense_and_sorted_counting_agree() {
        // Large enough to take the dense path: a few colours in many pixels,
        // and colours scattered over the whole cube (sparse pages and runs,
        // and the first and last keys).
        let (w, h) = (1024u32, 1024u32);
        let few = |i: u32| {
            let v = i.wrapping_mul(2_654_435_761) >> 13;
            [(v % 7) as u8 * 30, (v % 11) as u8 * 20, (i % 3) as u8]
        };
        let scattered = |i: u32| match i % 1000 {
            0 => [0, 0, 0],
            1 => [255, 255, 255],
            _ => unkey(i.wrapping_mul(2_654_435_761) >> 8 & 0x00ff_f0ff),
        };
        for colour in [&few as &dyn Fn(u32) -> [u8; 3], &scattered] {
            let px: Vec<u8> = (0..w * h).flat_map(colour).collect();
            let img = ImageRef::new(w, h, PixelFormat::Rgb8, &px).unwrap();
            let dense = ColorHistogram::from_image(&img);
            let sorted = ColorHistogram::count_sorted(opaque_keys(&img));
            assert_eq!(dense, sorted);
            assert_eq!(dense.visible(), u64::from(w * h));
        }
    }

    #[test]
    fn counts_past_the_narrow_counters_are_exact() {
        // Colour A fills exactly 2 x 65 536 pixels at the top, so its counter
        // wraps back to 0 (a multiple of 256); colour B 70 000 pixels (many
        // wraps and some).
        let (w, h) = (1024u32, 1024u32);
        let (a, b) = (2 << 16, 70_000);
        let px: Vec<u8> = (0..w * h)
            .flat_map(|i| match i {
                i if i < a => [1, 2, 3],
                i if i < a + b => [200, 100, 50],
                i => [(i % 5) as u8, 0, (i % 3) as u8],
            })
            .collect();
        let img = ImageRef::new(w, h, PixelFormat::Rgb8, &px).unwrap();
        let sorted = ColorHistogram::count_sorted(opaque_keys(&img));
        assert_eq!(
            sorted.iter().find(|p| p.0 == [1, 2, 3]),
            Some(([1, 2, 3], u64::from(a)))
        );
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let dense = pool.install(|| ColorHistogram::from_image(&img));
            assert_eq!(dense, sorted, "{threads} threads");
        }
    }

    #[test]
    fn the_kept_table_is_zero_off_the_colours_and_given_once() {
        let (w, h) = (1024u32, 1024u32);
        let px: Vec<u8> = (0..w * h)
            .flat_map(|i| unkey(i.wrapping_mul(2_654_435_761) >> 9))
            .collect();
        let img = ImageRef::new(w, h, PixelFormat::Rgb8, &px).unwrap();
        let hist = ColorHistogram::from_image(&img);
        assert_eq!(hist.clone(), hist);
        let mut kept = hist.take_table();
        assert!(kept.iter().any(|&n| n != 0), "the counting table is kept");
        for &c in hist.colors() {
            kept[slot(c)] = 0;
        }
        assert!(kept.iter().all(|&n| n == 0));
        assert!(hist.take_table().iter().all(|&n| n == 0));
        assert!(hist.clone().take_table().iter().all(|&n| n == 0));
    }

    #[test]
    fn merging_adds_counts() {
        let mut a = ColorHistogram::from_counts([([1, 1, 1], 2), ([3, 3, 3], 1)], 1);
        let b = ColorHistogram::from_counts([([3, 3, 3], 4), ([2, 2, 2], 1)], 0);
        a.merge(&b);
        assert_eq!(a.colors(), &[[1, 1, 1], [2, 2, 2], [3, 3, 3]]);
        assert_eq!(a.counts(), &[2, 1, 5]);
        assert_eq!(a.transparent(), 1);
    }
}
