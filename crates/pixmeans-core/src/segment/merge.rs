//! Merging regions smaller than a minimum size into their neighbours.
//!
//! The rule, applied until no region is small or no small region can move:
//!
//! 1. Take the smallest region below the minimum (ties: the one whose first
//!    pixel comes first in raster order). Transparent pixels are never
//!    merged and never absorb a region.
//! 2. Give it to the neighbouring region it shares the longest border with,
//!    counted in pixel edges (ties: the larger neighbour, then the first in
//!    raster order). Its pixels take that region's label. Under 8-connectivity
//!    a neighbour touching only at a corner has a border of 0 and is chosen
//!    only when nothing else touches.
//! 3. Regions of the receiving label that touched the merged one are now
//!    joined to the receiver through it, and become one region with it.
//! 4. The grown region goes back in line if it is still below the minimum.
//!
//! Because the smallest region always goes first and sizes are recomputed
//! after every merge, a speck surrounded by other specks waits until they
//! have grown or gone, and the result is a function of the label map alone.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use rayon::prelude::*;

use super::labels::LabelMap;
use super::regions::{Connectivity, Regions, find};
use crate::color::{ColorSpace, Point};
use crate::image::{ImageRef, PIXEL_CHUNK};

/// Rows per parallel work item when collecting borders.
const ROWS: usize = 64;

/// Merges every region of fewer than `min_region` pixels as the module
/// describes, rewriting the labels of `map`. Returns how many regions were
/// merged away (not counting regions joined in step 3).
pub(crate) fn merge_small(
    map: &mut LabelMap,
    regions: &Regions,
    connectivity: Connectivity,
    min_region: u64,
) -> usize {
    let void = map.void();
    let small = |r: u32| regions.sizes()[r as usize] < min_region;
    let mut adjacency = borders(regions, connectivity, &small);
    let mut size = regions.sizes().to_vec();
    let label = regions.labels();
    let mut parent: Vec<u32> = (0..regions.len() as u32).collect();
    let mut line = Line::new(
        (0..regions.len() as u32)
            .filter(|&r| small(r) && label[r as usize] != void)
            .map(|r| (size[r as usize], r))
            .collect(),
    );
    let mut merged = 0;
    while let Some((s, a)) = line.pop() {
        if parent[a as usize] != a || size[a as usize] != s {
            continue; // merged away, or grown since it was queued
        }
        let neighbours = compact(&mut adjacency, &mut parent, a);
        let best = neighbours
            .iter()
            .filter(|&&(n, _)| label[n as usize] != void)
            .max_by_key(|&&(n, border)| (border, size[n as usize], Reverse(n)));
        let Some(&(b, _)) = best else { continue };
        let b_label = label[b as usize];
        absorb(&mut adjacency, &mut parent, &mut size, b, a);
        for &(c, _) in &neighbours {
            if c != b && label[c as usize] == b_label {
                absorb(&mut adjacency, &mut parent, &mut size, b, c);
            }
        }
        merged += 1;
        if size[b as usize] < min_region {
            line.push(size[b as usize], b);
        } else {
            // A region of the minimum size never merges again, so its
            // neighbours are never looked at.
            adjacency[b as usize] = Vec::new();
        }
    }
    // Every region takes the label of the region it ended up in.
    let final_label: Vec<u32> = (0..regions.len() as u32)
        .map(|r| label[find(&mut parent, r) as usize])
        .collect();
    map.labels_mut()
        .par_chunks_mut(PIXEL_CHUNK)
        .zip(regions.ids().par_chunks(PIXEL_CHUNK))
        .for_each(|(labels, ids)| {
            for (l, &id) in labels.iter_mut().zip(ids) {
                *l = final_label[id as usize];
            }
        });
    merged
}

/// Moves the centroid of every cluster that merging gave pixels to or took
/// pixels from by exactly those pixels: with n pixels before and m after,
/// the new centroid is (n · old − the pixels that left + the pixels that
/// came) / m, in the working space, and its colour is the sRGB colour
/// nearest it. This is one incremental k-means update, so a centroid that
/// was the mean of its pixels is the mean of its pixels after merging.
/// `before` holds the regions of the labels before merging, `after` the
/// labels after; clusters merging emptied keep their centroid.
pub(crate) fn recentre(
    image: &ImageRef<'_>,
    before: &Regions,
    after: &LabelMap,
    space: ColorSpace,
    centroids: &mut [Point],
    colors: &mut [[u8; 3]],
) {
    let k = centroids.len();
    let mut pixels_before = vec![0u64; k];
    for (&l, &size) in before.labels().iter().zip(before.sizes()) {
        if let Some(n) = pixels_before.get_mut(l as usize) {
            *n += size;
        }
    }
    // Merging moves whole regions, and few pixels: sum the moved pixels'
    // coordinates once, in raster order, so the sums are deterministic.
    let mut change = vec![[0f64; 3]; k];
    let mut pixels_after = pixels_before.clone();
    let mut touched = vec![false; k];
    let ch = image.format().channels();
    let labels_before = before.labels();
    for ((&id, &new), px) in before
        .ids()
        .iter()
        .zip(after.labels())
        .zip(image.data().chunks_exact(ch))
    {
        let old = labels_before[id as usize];
        if old == new {
            continue;
        }
        let p = space.from_srgb([px[0], px[1], px[2]]);
        for c in 0..3 {
            change[old as usize][c] -= f64::from(p[c]);
            change[new as usize][c] += f64::from(p[c]);
        }
        pixels_after[old as usize] -= 1;
        pixels_after[new as usize] += 1;
        touched[old as usize] = true;
        touched[new as usize] = true;
    }
    for c in 0..k {
        let (n, m) = (pixels_before[c], pixels_after[c]);
        if !touched[c] || m == 0 {
            continue;
        }
        let centroid: Point = std::array::from_fn(|i| {
            ((f64::from(centroids[c][i]) * n as f64 + change[c][i]) / m as f64) as f32
        });
        centroids[c] = centroid;
        colors[c] = space.to_srgb(centroid);
    }
}

/// The small regions in the order they merge: smallest first, then by
/// region (first pixel in raster order). The regions small at the start
/// are sorted once and read in order. A region queued again has grown past
/// the size just taken, so it waits in a bucket of its size, and a bucket
/// is complete when its size comes up: it is then sorted once and drained.
/// One heap of every region took half the time of merging on sunset.jpg
/// with Gaussian noise (12 MP, 2.3 million regions).
struct Line {
    start: Vec<(u64, u32)>,
    next: usize,
    buckets: BTreeMap<u64, Vec<u32>>,
    /// The bucket being drained, in reverse order, and its size.
    current: (u64, Vec<u32>),
}

impl Line {
    fn new(mut start: Vec<(u64, u32)>) -> Self {
        start.par_sort_unstable();
        Line {
            start,
            next: 0,
            buckets: BTreeMap::new(),
            current: (0, Vec::new()),
        }
    }

    /// Queues `region` again at `size`, above every size taken so far.
    fn push(&mut self, size: u64, region: u32) {
        debug_assert!(self.current.1.is_empty() || size > self.current.0);
        self.buckets.entry(size).or_default().push(region);
    }

    fn pop(&mut self) -> Option<(u64, u32)> {
        let first = self.start.get(self.next).copied();
        if self.current.1.is_empty()
            && let Some(entry) = self.buckets.first_entry()
            && first.is_none_or(|f| *entry.key() <= f.0)
        {
            let (size, mut regions) = entry.remove_entry();
            regions.sort_unstable_by(|x, y| y.cmp(x));
            self.current = (size, regions);
        }
        let again = self.current.1.last().map(|&r| (self.current.0, r));
        match (first, again) {
            (Some(f), Some(g)) if g < f => self.current.1.pop().map(|r| (g.0, r)),
            (Some(f), _) => {
                self.next += 1;
                Some(f)
            }
            (None, Some(g)) => self.current.1.pop().map(|_| g),
            (None, None) => None,
        }
    }
}

/// Moves region `from` into region `into`.
fn absorb(
    adjacency: &mut [Vec<(u32, u32)>],
    parent: &mut [u32],
    size: &mut [u64],
    into: u32,
    from: u32,
) {
    parent[from as usize] = into;
    size[into as usize] += size[from as usize];
    let mut moved = std::mem::take(&mut adjacency[from as usize]);
    let target = &mut adjacency[into as usize];
    if moved.len() > target.len() {
        std::mem::swap(&mut moved, target);
    }
    target.extend(moved);
}

/// The current neighbours of region `a` with their border lengths, sorted by
/// region; rewrites `a`'s list in that compact form.
fn compact(adjacency: &mut [Vec<(u32, u32)>], parent: &mut [u32], a: u32) -> Vec<(u32, u32)> {
    let mut list = std::mem::take(&mut adjacency[a as usize]);
    for entry in &mut list {
        entry.0 = find(parent, entry.0);
    }
    list.retain(|&(n, _)| n != a);
    list.sort_unstable();
    list.dedup_by(|next, kept| {
        if next.0 == kept.0 {
            kept.1 += next.1;
            true
        } else {
            false
        }
    });
    adjacency[a as usize].clone_from(&list);
    list
}

/// The neighbour lists of every small region: for each region it touches,
/// the number of pixel edges they share (under 8-connectivity, 0 for a
/// region touching only at a corner). A list may name a neighbour more
/// than once; [`compact`] adds those up. Large regions get no list, since
/// they never merge.
///
/// Each strip of rows sorts and counts its own pairs, so only the strips
/// being worked on hold a pair per pixel edge: on sunset.jpg with Gaussian
/// noise (12 MP, 2.3 million regions) this took the peak memory of
/// `segment -k 64 --min-region 500` from 858 to 670 MB (and, with
/// [`Line`], its time from 4.8-5.2 s to 2.9).
fn borders(
    regions: &Regions,
    connectivity: Connectivity,
    small: &(impl Fn(u32) -> bool + Sync),
) -> Vec<Vec<(u32, u32)>> {
    let (w, h) = (regions.width() as usize, regions.height() as usize);
    let ids = regions.ids();
    let eight = connectivity == Connectivity::Eight;
    // Pairs as low << 32 | high, one per shared pixel edge, and apart one
    // per corner contact.
    let key = |a: u32, b: u32| (u64::from(a.min(b)) << 32) | u64::from(a.max(b));
    let strips: Vec<Vec<(u64, u32)>> = (0..h.div_ceil(ROWS))
        .into_par_iter()
        .map(|strip| {
            let (mut edges, mut corners) = (Vec::new(), Vec::new());
            let wanted = |a: u32, b: u32| a != b && (small(a) || small(b));
            for y in strip * ROWS..((strip + 1) * ROWS).min(h) {
                let row = &ids[y * w..(y + 1) * w];
                for x in 1..w {
                    if wanted(row[x - 1], row[x]) {
                        edges.push(key(row[x - 1], row[x]));
                    }
                }
                if y + 1 < h {
                    let below = &ids[(y + 1) * w..(y + 2) * w];
                    for x in 0..w {
                        if wanted(row[x], below[x]) {
                            edges.push(key(row[x], below[x]));
                        }
                        if eight && x + 1 < w {
                            for (a, b) in [(row[x], below[x + 1]), (row[x + 1], below[x])] {
                                if wanted(a, b) {
                                    corners.push(key(a, b));
                                }
                            }
                        }
                    }
                }
            }
            edges.sort_unstable();
            corners.sort_unstable();
            corners.dedup();
            let mut counted: Vec<(u64, u32)> = edges
                .chunk_by(|x, y| x == y)
                .map(|run| (run[0], run.len() as u32))
                .collect();
            counted.extend(corners.into_iter().map(|pair| (pair, 0)));
            counted
        })
        .collect();
    let mut lengths = vec![0u32; regions.len()];
    for &(pair, _) in strips.iter().flatten() {
        let (lo, hi) = ((pair >> 32) as u32, pair as u32);
        for r in [lo, hi] {
            if small(r) {
                lengths[r as usize] += 1;
            }
        }
    }
    let mut adjacency: Vec<Vec<(u32, u32)>> = lengths
        .into_iter()
        .map(|n| Vec::with_capacity(n as usize))
        .collect();
    for strip in strips {
        for (pair, len) in strip {
            let (lo, hi) = ((pair >> 32) as u32, pair as u32);
            if small(lo) {
                adjacency[lo as usize].push((hi, len));
            }
            if small(hi) {
                adjacency[hi as usize].push((lo, len));
            }
        }
    }
    adjacency
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BinaryHeap;

    fn merged(w: u32, rows: &[&str], c: Connectivity, min: u64) -> (Vec<u32>, usize) {
        let labels: Vec<u32> = rows
            .iter()
            .flat_map(|r| r.bytes().map(|b| u32::from(b - b'0')))
            .collect();
        let mut m = LabelMap::new(w, rows.len() as u32, 9, labels).unwrap();
        let r = Regions::find(&m, c);
        let n = merge_small(&mut m, &r, c, min);
        (m.labels().to_vec(), n)
    }

    #[test]
    fn a_speck_goes_to_the_longest_border() {
        // The 2 touches the 1s along three edges and the 0s along one.
        let (l, n) = merged(3, &["000", "121", "111"], Connectivity::Four, 2);
        assert_eq!(l, [0, 0, 0, 1, 1, 1, 1, 1, 1]);
        assert_eq!(n, 1);
    }

    #[test]
    fn a_grown_region_still_small_merges_again() {
        let rows = ["00000", "02220", "02320", "00000"];
        // The 3 joins the 2s around it, which then hold 6 pixels: enough
        // for a minimum of 4, too few for 7, when they go to the 0s.
        let (l, n) = merged(5, &rows, Connectivity::Four, 4);
        assert_eq!(l[12], 2);
        assert_eq!(n, 1);
        let (l, n) = merged(5, &rows, Connectivity::Four, 7);
        assert_eq!(l, [0; 20]);
        assert_eq!(n, 2);
    }

    #[test]
    fn merging_joins_regions_of_the_receiving_label() {
        // The bar of 1s goes to the larger 0s on its left, and joins the 0s
        // on its right to them: those are then part of a 12-pixel region
        // and stay 0, though alone they share a longer border with the 2s.
        let rows = ["00102", "00102", "00102", "22222"];
        let (l, n) = merged(5, &rows, Connectivity::Four, 4);
        assert_eq!(&l[..5], [0, 0, 0, 0, 2]);
        assert_eq!(n, 1);
    }

    #[test]
    fn transparent_pixels_neither_merge_nor_absorb() {
        // 9 is the void label: the lone 1 touches it on three sides but
        // must go to the 0s.
        let (l, _) = merged(3, &["999", "910", "999"], Connectivity::Four, 2);
        assert_eq!(l, [9, 9, 9, 9, 0, 0, 9, 9, 9]);
    }

    #[test]
    fn the_line_pops_in_the_order_of_one_heap() {
        let mut rng = crate::kmeans::Rng::new(5);
        for round in 0..50 {
            let n = 1 + rng.next_u64() % 200;
            let start: Vec<(u64, u32)> =
                (0..n as u32).map(|r| (1 + rng.next_u64() % 8, r)).collect();
            let mut heap: BinaryHeap<Reverse<(u64, u32)>> =
                start.iter().map(|&e| Reverse(e)).collect();
            let mut line = Line::new(start);
            let mut regions = n as u32;
            while let Some(Reverse(want)) = heap.pop() {
                assert_eq!(line.pop(), Some(want), "round {round}");
                // Queue a few again, larger than the size just taken.
                for _ in 0..(rng.next_u64() % 5) / 2 {
                    let size = want.0 + 1 + rng.next_u64() % 4;
                    let region = if rng.next_u64().is_multiple_of(2) {
                        want.1
                    } else {
                        regions += 1;
                        regions
                    };
                    heap.push(Reverse((size, region)));
                    line.push(size, region);
                }
            }
            assert_eq!(line.pop(), None);
        }
    }

    #[test]
    fn borders_count_every_shared_edge_and_corner() {
        let mut rng = crate::kmeans::Rng::new(8);
        for c in [Connectivity::Four, Connectivity::Eight] {
            // Labels of 0-3 at random: many small regions, some spanning
            // several strips of rows.
            let (w, h) = (37u32, 2 * ROWS as u32 + 9);
            let labels: Vec<u32> = (0..w * h).map(|_| (rng.next_u64() % 4) as u32).collect();
            let map = LabelMap::new(w, h, 4, labels).unwrap();
            let regions = Regions::find(&map, c);
            let small = |r: u32| regions.sizes()[r as usize] < 3;
            let mut adjacency = borders(&regions, c, &small);
            let mut parent: Vec<u32> = (0..regions.len() as u32).collect();
            // Every pair of touching regions, counted pixel by pixel.
            let mut want = std::collections::BTreeMap::new();
            let id = |x: u32, y: u32| regions.ids()[(y * w + x) as usize];
            for y in 0..h {
                for x in 0..w {
                    let mut touch = |b: u32, edge: bool| {
                        let a = id(x, y);
                        if a != b && (small(a) || small(b)) {
                            for (p, q) in [(a, b), (b, a)] {
                                *want.entry((p, q)).or_insert(0) += u32::from(edge);
                            }
                        }
                    };
                    if x + 1 < w {
                        touch(id(x + 1, y), true);
                    }
                    if y + 1 < h {
                        touch(id(x, y + 1), true);
                        if c == Connectivity::Eight {
                            if x + 1 < w {
                                touch(id(x + 1, y + 1), false);
                            }
                            if x > 0 {
                                touch(id(x - 1, y + 1), false);
                            }
                        }
                    }
                }
            }
            for r in 0..regions.len() as u32 {
                let got = compact(&mut adjacency, &mut parent, r);
                let expected: Vec<(u32, u32)> = if small(r) {
                    want.range((r, 0)..(r + 1, 0))
                        .map(|(&(_, q), &n)| (q, n))
                        .collect()
                } else {
                    Vec::new()
                };
                assert_eq!(got, expected, "{c:?}, region {r}");
            }
        }
    }
}
