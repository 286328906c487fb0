//! [`Cells`]: the nearest centroid of any 8-bit colour, for error
//! diffusion, whose colour sums are new colours that the fit never saw.
//!
//! It is Heckbert's locally sorted search (1982, "Color image quantization
//! for frame buffer display"): the colour cube is cut into cells, and each
//! cell keeps only the centroids that can be nearest to a point of it.

use std::sync::OnceLock;

use crate::color::{ColorSpace, Point};
use crate::kmeans::dist2;

/// Levels of each channel that a block of [`Cells`] spans.
const BLOCK: usize = 16;

/// Blocks a side of the cube.
const BLOCKS: usize = 256 / BLOCK;

/// Levels of each channel that a cell spans: 4³ cells a block.
const CELL: usize = 4;

/// Cells a side of a block.
const SIDE: usize = BLOCK / CELL;

/// A cell of a [`Block`] whose nearest centroid depends on the colour has
/// this bit set, and where its candidates start in the block's `lists`.
const DEFER: u16 = 1 << 15;

// Each cell's list takes at most 257 bytes: the offsets fit under DEFER.
const _: () = assert!(SIDE * SIDE * SIDE * 257 < DEFER as usize);

/// The nearest centroid of every 8-bit colour, found through cells of the
/// sRGB cube: a cell whose colours all have one nearest centroid answers
/// without converting or measuring anything, and another has a short list
/// of the centroids that can be nearest to one of its colours.
///
/// The list follows from the box in the working space that holds the
/// cell's colours (see [`ColorSpace::bounds`]): it keeps every centroid
/// whose distance from the box is at most the least farthest distance of
/// any centroid from it; no other can be nearest. The cells are
/// worked out a block at a time, the first time a colour of the block is
/// looked up, by halving it (and the candidates) down to the cells where
/// more than one is left.
///
/// On sunset.jpg (12 MP), dithered at k = 16, a third (sRGB) to a
/// quarter (Oklab) of the pixels land in a cell with one candidate; at
/// k = 256 few do, but the others search 9.5 (sRGB) to 15 (CIELAB)
/// candidates. Against a 16³ grid over the working space, dithering
/// sunset.jpg took 0.03 to 0.06 s less at k = 16 and 0.17 to 0.22 s less
/// at k = 256.
pub(super) struct Cells<'a> {
    space: ColorSpace,
    centroids: &'a [Point],
    /// What each centroid adds to its squared distance, if anything: the
    /// square of a fourth coordinate in which every colour looked up is 0.
    extra: Option<&'a [f32]>,
    blocks: Vec<OnceLock<Block>>,
}

/// What a cell knows of the nearest centroid of a colour in it.
pub(super) enum Lookup<'a> {
    /// This one, for every colour of the cell.
    Nearest(u8),
    /// One of these (two or more, in index order).
    Search(&'a [u8]),
}

/// One block's cells: each cell's nearest centroid, or [`DEFER`] and where
/// its list starts in `lists` (its length, then the indices).
struct Block {
    cells: [u16; SIDE * SIDE * SIDE],
    lists: Box<[u8]>,
}

/// The centroids among `among` that can be nearest to some point of the
/// box from `lo` to `hi`, in the order given, each at its squared distance
/// plus its `extra`.
fn can_be_nearest(
    centroids: &[Point],
    extra: Option<&[f32]>,
    among: &[u8],
    lo: &Point,
    hi: &Point,
) -> Vec<u8> {
    let gap = |j: u8| -> (f32, f32) {
        let q = &centroids[usize::from(j)];
        let added = extra.map_or(0.0, |e| e[usize::from(j)]);
        let (mut near, mut far) = (added, added);
        for c in 0..3 {
            let gap = (lo[c] - q[c]).max(0.0) + (q[c] - hi[c]).max(0.0);
            near += gap * gap;
            let most = (q[c] - lo[c]).abs().max((hi[c] - q[c]).abs());
            far += most * most;
        }
        (near, far)
    };
    // Every point of the box is within `reach` of some centroid; the
    // margin covers the rounding of these sums.
    let reach = among
        .iter()
        .map(|&j| gap(j).1)
        .fold(f32::INFINITY, f32::min)
        * 1.001
        + 1e-6;
    among
        .iter()
        .copied()
        .filter(|&j| gap(j).0 <= reach)
        .collect()
}

impl<'a> Cells<'a> {
    pub(super) fn new(space: ColorSpace, centroids: &'a [Point]) -> Self {
        Self::with_extra(space, centroids, None)
    }

    /// Cells for centroids that each add `extra[j]` to their squared
    /// distance (when given): the nearest of points (x, y, z, √extra) to
    /// colours (x, y, z, 0), as an opaque colour's nearest palette entry
    /// when the entries have opacity (see [`crate::opacity`]).
    pub(super) fn with_extra(
        space: ColorSpace,
        centroids: &'a [Point],
        extra: Option<&'a [f32]>,
    ) -> Self {
        Cells {
            space,
            centroids,
            extra,
            blocks: (0..BLOCKS * BLOCKS * BLOCKS)
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    /// The block holding `rgb`, worked out if it is the first looked up.
    fn block(&self, rgb: [u8; 3]) -> &Block {
        let corner = rgb.map(|c| usize::from(c) / BLOCK);
        let at = (corner[0] * BLOCKS + corner[1]) * BLOCKS + corner[2];
        self.blocks[at].get_or_init(|| self.work_out(corner))
    }

    /// The cells of the block whose lowest colour is `corner` times 16.
    fn work_out(&self, corner: [usize; 3]) -> Block {
        // At most 256 centroids: an index fits a byte.
        let all: Vec<u8> = (0..self.centroids.len()).map(|j| j as u8).collect();
        let mut block = Block {
            cells: [0; SIDE * SIDE * SIDE],
            lists: Box::default(),
        };
        let mut lists = Vec::new();
        let first = corner.map(|c| (c * BLOCK) as u8);
        self.split(first, BLOCK, &all, &mut block.cells, &mut lists);
        block.lists = lists.into_boxed_slice();
        block
    }

    /// Fills the cells of the cube of `size` levels from colour `first`
    /// with what `among` leaves for it, halving the cube (and the list)
    /// down to the cells unless one centroid is left.
    fn split(
        &self,
        first: [u8; 3],
        size: usize,
        among: &[u8],
        cells: &mut [u16],
        lists: &mut Vec<u8>,
    ) {
        let (lo, hi) = self
            .space
            .bounds(first, first.map(|v| v + (size - 1) as u8));
        let list = can_be_nearest(self.centroids, self.extra, among, &lo, &hi);
        if size > CELL && list.len() > 1 {
            let half = size / 2;
            for octant in 0..8 {
                let at: [u8; 3] =
                    std::array::from_fn(|c| first[c] + ((octant >> c & 1) * half) as u8);
                self.split(at, half, &list, cells, lists);
            }
            return;
        }
        // Never empty: the centroid with the least farthest distance stays.
        debug_assert!(!list.is_empty());
        let cell = if let [only] = list[..] {
            u16::from(only)
        } else {
            let start = DEFER | lists.len() as u16;
            // A deferred list has 2 to 256 entries.
            lists.push((list.len() - 1) as u8);
            lists.extend_from_slice(&list);
            start
        };
        let at = first.map(|c| usize::from(c) % BLOCK / CELL);
        let span = size / CELL;
        for i in 0..span * span * span {
            let (x, y, z) = (
                at[0] + i / (span * span),
                at[1] + i / span % span,
                at[2] + i % span,
            );
            cells[(x * SIDE + y) * SIDE + z] = cell;
        }
    }

    /// What the cell of `rgb` knows of its nearest centroid.
    pub(super) fn lookup(&self, rgb: [u8; 3]) -> Lookup<'_> {
        let block = self.block(rgb);
        let at = rgb.map(|c| usize::from(c) % BLOCK / CELL);
        let cell = block.cells[(at[0] * SIDE + at[1]) * SIDE + at[2]];
        if cell & DEFER == 0 {
            return Lookup::Nearest(cell as u8);
        }
        let start = usize::from(cell & !DEFER);
        let len = usize::from(block.lists[start]) + 1;
        Lookup::Search(&block.lists[start + 1..start + 1 + len])
    }

    /// The centroid in `list` nearest `rgb`'s point, the lowest index among
    /// equals.
    pub(super) fn search(&self, list: &[u8], rgb: [u8; 3]) -> u8 {
        let p = self.space.from_srgb(rgb);
        let mut best = (list[0], f32::INFINITY);
        let mut consider = |j: u8, d: f32| {
            if d < best.1 {
                best = (j, d);
            }
        };
        // Apart, so that opaque images' dithering adds nothing.
        match self.extra {
            None => list
                .iter()
                .for_each(|&j| consider(j, dist2(&p, &self.centroids[usize::from(j)]))),
            Some(e) => list.iter().for_each(|&j| {
                let i = usize::from(j);
                consider(j, dist2(&p, &self.centroids[i]) + e[i]);
            }),
        }
        best.0
    }

    /// The centroid nearest `rgb`, the lowest index among equals.
    #[cfg(test)]
    fn nearest(&self, rgb: [u8; 3]) -> u8 {
        match self.lookup(rgb) {
            Lookup::Nearest(index) => index,
            Lookup::Search(list) => self.search(list, rgb),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmeans::{Rng, nearest};

    /// Every colour of the block that holds `rgb`.
    fn block_of(rgb: [u8; 3]) -> impl Iterator<Item = [u8; 3]> {
        (0..BLOCK * BLOCK * BLOCK).map(move |i| {
            let at = [i / (BLOCK * BLOCK), i / BLOCK % BLOCK, i % BLOCK];
            std::array::from_fn(|c| (usize::from(rgb[c]) / BLOCK * BLOCK + at[c]) as u8)
        })
    }

    #[test]
    fn the_cells_find_the_nearest_centroid_as_a_scan_does() {
        let mut rng = Rng::new(7);
        let mut byte = |below: u8| (rng.next_u64() % u64::from(below)) as u8;
        for space in ColorSpace::ALL {
            // Means of two colours from all over, as centroids are, and 256
            // packed into a corner of the cube and into its middle, so that
            // most cells keep lists. A copy of one centroid tests that ties
            // go to the lowest index.
            let sets = [
                (1, 0, 255),
                (2, 0, 255),
                (17, 0, 255),
                (256, 0, 255),
                (256, 0, 40),
                (256, 96, 40),
            ];
            for (k, from, span) in sets {
                let mut colour = || [0; 3].map(|_: u8| from + byte(span));
                let mut centroids: Vec<Point> = (0..k)
                    .map(|_| {
                        let (p, q) = (space.from_srgb(colour()), space.from_srgb(colour()));
                        std::array::from_fn(|c| f32::midpoint(p[c], q[c]))
                    })
                    .collect();
                if k > 2 {
                    centroids[k - 1] = centroids[1];
                }
                // Every colour of the blocks of black, white, and two
                // colours of the set, and colours from everywhere.
                let blocks = [[0; 3], [255; 3], colour(), colour()];
                let colours: Vec<[u8; 3]> = blocks
                    .into_iter()
                    .flat_map(block_of)
                    .chain((0..3000).map(|_| [0; 3].map(|_: u8| byte(255))))
                    .collect();
                let cells = Cells::new(space, &centroids);
                for &rgb in &colours {
                    let want = nearest(&space.from_srgb(rgb), &centroids).0 as u8;
                    assert_eq!(cells.nearest(rgb), want, "{space:?} k = {k} {rgb:?}");
                }
                // With a fourth coordinate, up to a fifth of the space's
                // lightness range, in which the colours are 0.
                let range = space.from_srgb([255; 3])[0];
                let extra: Vec<f32> = (0..k)
                    .map(|_| (f32::from(byte(51)) / 255.0 * range).powi(2))
                    .collect();
                let cells = Cells::with_extra(space, &centroids, Some(&extra));
                for &rgb in &colours {
                    let p = space.from_srgb(rgb);
                    let d = |j: usize| dist2(&p, &centroids[j]) + extra[j];
                    let want = (0..k).fold(0, |b, j| if d(j) < d(b) { j } else { b }) as u8;
                    assert_eq!(cells.nearest(rgb), want, "{space:?} k = {k} {rgb:?} extra");
                }
            }
        }
    }
}
