//! PNG's row filters for photos, and the png crate's adaptive choice among
//! them, summed in one pass over the row.
//!
//! The filters and predictors are those of the PNG specification (W3C,
//! 2003, section 9, "Filtering"); the choice is the heuristic it suggests
//! in section 12.8, the smallest sum of absolute differences, as the png
//! crate applies it. The png crate runs each of its four filters over a row
//! and then sums each output: eight passes. Here the four costs are summed
//! together, in bytes and 16-bit lanes so that the loop runs in vector
//! registers, skipping the blocks where the row and the one above are all
//! zero (most of a cutout).

/// Bytes handled at a time (one SSE2 register, one `u128`).
const BLOCK: usize = 16;

/// A block of a row.
type Block = [u8; BLOCK];

/// A PNG row filter, by PNG's numbering ("none" is never chosen for
/// photos).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    Sub = 1,
    Up = 2,
    Avg = 3,
    Paeth = 4,
}

/// The filters in the order the png crate tries them, which is the order
/// of [`costs`].
const TRIED: [Filter; 4] = [Filter::Up, Filter::Sub, Filter::Avg, Filter::Paeth];

impl Filter {
    /// The prediction of a byte from `a` (a pixel to its left), `b` (above)
    /// and `c` (above and to the left).
    fn predict(self, a: u8, b: u8, c: u8) -> u8 {
        match self {
            Filter::Sub => a,
            Filter::Up => b,
            Filter::Avg => average(a, b),
            Filter::Paeth => paeth(a, b, c),
        }
    }
}

/// The filter whose output has the smallest sum of absolute values (as
/// signed bytes): the first of Up, Sub, Avg and Paeth to reach zero, else the
/// last to reach the minimum, as the png crate decides.
pub(crate) fn choose(bpp: usize, prev: &[u8], cur: &[u8]) -> Filter {
    let costs = costs(bpp, prev, cur);
    let mut best = (u64::MAX, Filter::Up);
    for (&cost, filter) in costs.iter().zip(TRIED) {
        if cost == 0 {
            return filter;
        }
        if cost <= best.0 {
            best = (cost, filter);
        }
    }
    best.1
}

/// The costs of Up, Sub, Avg and Paeth on `cur` below `prev`, in one pass.
fn costs(bpp: usize, prev: &[u8], cur: &[u8]) -> [u64; 4] {
    let len = cur.len();
    let mut total = [0u64; 4];
    // The first pixel has no left neighbours: a = c = 0.
    for (&x, &b) in cur.iter().zip(prev).take(bpp) {
        add_costs(&mut total, x, 0, b, 0);
    }
    if len <= bpp {
        return total;
    }
    let (x, a) = (&cur[bpp..], &cur[..len - bpp]);
    let (b, c) = (&prev[bpp..], &prev[..len - bpp]);
    // Per-lane sums, so the loop stays in vector registers; each lane adds
    // at most 128 a block, so they are flushed every 256 blocks.
    let mut lanes = [[0u16; BLOCK]; 4];
    let mut pending = 0;
    for (x, a, b, c) in blocks(x, a, b, c) {
        let word = |v: &Block| u128::from_ne_bytes(*v);
        if word(x) | word(a) | word(b) == 0 {
            // Every filter gives zeros here (Paeth predicts 0 from a = b = 0
            // whatever c is).
            continue;
        }
        for i in 0..BLOCK {
            let (xi, ai, bi, ci) = (x[i], a[i], b[i], c[i]);
            lanes[0][i] += u16::from(magnitude(xi.wrapping_sub(bi)));
            lanes[1][i] += u16::from(magnitude(xi.wrapping_sub(ai)));
            lanes[2][i] += u16::from(magnitude(xi.wrapping_sub(average(ai, bi))));
            lanes[3][i] += u16::from(magnitude(xi.wrapping_sub(paeth(ai, bi, ci))));
        }
        pending += 1;
        if pending == 256 {
            flush(&mut lanes, &mut total);
            pending = 0;
        }
    }
    flush(&mut lanes, &mut total);
    let done = x.len() / BLOCK * BLOCK;
    for i in done..x.len() {
        add_costs(&mut total, x[i], a[i], b[i], c[i]);
    }
    total
}

/// Adds the per-lane sums into the totals and clears them.
fn flush(lanes: &mut [[u16; BLOCK]; 4], total: &mut [u64; 4]) {
    for (t, lane) in total.iter_mut().zip(lanes.iter_mut()) {
        *t += lane.iter().map(|&v| u64::from(v)).sum::<u64>();
        *lane = [0; BLOCK];
    }
}

/// Adds one byte's cost under each filter: `x` the byte, `a` the one a
/// pixel to its left, `b` the one above, `c` above and to the left.
fn add_costs(total: &mut [u64; 4], x: u8, a: u8, b: u8, c: u8) {
    for (t, filter) in total.iter_mut().zip(TRIED) {
        *t += u64::from(magnitude(x.wrapping_sub(filter.predict(a, b, c))));
    }
}

/// Writes `cur` filtered by `filter` (the row above is `prev`) into `out`.
pub(crate) fn apply(filter: Filter, bpp: usize, prev: &[u8], cur: &[u8], out: &mut [u8]) {
    let len = cur.len();
    let head = bpp.min(len);
    // The first pixel: a = c = 0.
    for i in 0..head {
        out[i] = cur[i].wrapping_sub(filter.predict(0, prev[i], 0));
    }
    let (x, a) = (&cur[head..], &cur[..len - head]);
    let (b, c) = (&prev[head..], &prev[..len - head]);
    let out = &mut out[head..];
    // One loop per filter, each compiled with its predictor inlined.
    match filter {
        Filter::Sub => subtract(out, x, a, b, c, |a, b, c| Filter::Sub.predict(a, b, c)),
        Filter::Up => subtract(out, x, a, b, c, |a, b, c| Filter::Up.predict(a, b, c)),
        Filter::Avg => subtract(out, x, a, b, c, |a, b, c| Filter::Avg.predict(a, b, c)),
        Filter::Paeth => subtract(out, x, a, b, c, |a, b, c| Filter::Paeth.predict(a, b, c)),
    }
}

/// `out[i] = x[i] - predict(a[i], b[i], c[i])`, a block at a time so that
/// the compiler runs it in vector registers.
#[inline]
fn subtract(
    out: &mut [u8],
    x: &[u8],
    a: &[u8],
    b: &[u8],
    c: &[u8],
    predict: impl Fn(u8, u8, u8) -> u8,
) {
    let f = |x: u8, a, b, c| x.wrapping_sub(predict(a, b, c));
    let (blocks_out, tail) = out.as_chunks_mut::<BLOCK>();
    for (o, (x, a, b, c)) in blocks_out.iter_mut().zip(blocks(x, a, b, c)) {
        for i in 0..BLOCK {
            o[i] = f(x[i], a[i], b[i], c[i]);
        }
    }
    let done = blocks_out.len() * BLOCK;
    for (i, o) in tail.iter_mut().enumerate() {
        let j = done + i;
        *o = f(x[j], a[j], b[j], c[j]);
    }
}

/// The whole blocks of four equally long rows, side by side.
fn blocks<'a>(
    x: &'a [u8],
    a: &'a [u8],
    b: &'a [u8],
    c: &'a [u8],
) -> impl Iterator<Item = (&'a Block, &'a Block, &'a Block, &'a Block)> {
    let whole = |v: &'a [u8]| v.as_chunks::<BLOCK>().0.iter();
    whole(x)
        .zip(whole(a))
        .zip(whole(b).zip(whole(c)))
        .map(|((x, a), (b, c))| (x, a, b, c))
}

/// The absolute value of a filtered byte read as signed: the smaller of it
/// and its negation, as bytes.
fn magnitude(v: u8) -> u8 {
    v.min(v.wrapping_neg())
}

/// PNG's Avg predictor: the mean of left and above, rounded down (without
/// leaving bytes).
fn average(a: u8, b: u8) -> u8 {
    (a & b) + ((a ^ b) >> 1)
}

/// PNG's Paeth predictor: of left (`a`), above (`b`) and upper left (`c`),
/// the nearest to p = a + b - c, ties in that order. Written in bytes:
/// |p - a| = |b - c| and |p - b| = |a - c|, and |p - c| is their sum when
/// `a` and `b` lie on the same side of `c`, else their difference (a sum
/// past 255 saturates, which changes no comparison with the other two).
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let pa = distance(b, c);
    let pb = distance(a, c);
    let pc = if (a >= c) == (b >= c) {
        pa.saturating_add(pb)
    } else {
        distance(pa, pb)
    };
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// |a - b| in bytes. (`u8::abs_diff` is compiled through 32-bit lanes,
/// which made the whole row filter half as fast.)
fn distance(a: u8, b: u8) -> u8 {
    a.max(b) - a.min(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each filter's cost the slow way: filter the whole row, then sum.
    fn costs_by_filtering(bpp: usize, prev: &[u8], cur: &[u8]) -> [u64; 4] {
        let mut out = vec![0; cur.len()];
        TRIED.map(|filter| {
            apply(filter, bpp, prev, cur, &mut out);
            out.iter()
                .map(|&v| u64::from(v.cast_signed().unsigned_abs()))
                .sum()
        })
    }

    #[test]
    fn costs_in_one_pass_are_those_of_filtering_each_way() {
        let mut next = crate::test_noise::noise(0x9e37_79b9);
        // Lengths with and without a part block at the end, and rows of
        // over 512 blocks, some with half their bytes costing the most (128 under
        // every filter: steps of 0x80 over zeros).
        for len in [1usize, 3, 4, 17, 48, 100, 4099, 9000] {
            for bpp in [3, 4] {
                if len < bpp {
                    continue;
                }
                for kind in 0..3 {
                    let mut byte = |i: usize| match kind {
                        0 => next(),
                        1 if (i / 40).is_multiple_of(2) => 0,
                        1 => (i % 7) as u8,
                        _ => 0x80 * u8::from(i.is_multiple_of(2)),
                    };
                    let prev: Vec<u8> = (0..len).map(|i| byte(i + 3)).collect();
                    let cur: Vec<u8> = (0..len).map(&mut byte).collect();
                    let want = costs_by_filtering(bpp, &prev, &cur);
                    assert_eq!(costs(bpp, &prev, &cur), want, "length {len}, bpp {bpp}");
                    let zero = want.iter().position(|&c| c == 0);
                    let min = want.iter().rposition(|&c| c == *want.iter().min().unwrap());
                    assert_eq!(choose(bpp, &prev, &cur), TRIED[zero.or(min).unwrap()]);
                }
            }
        }
    }

    #[test]
    fn predictors_are_the_specifications() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(average(a, b), u8::midpoint(a, b));
                for c in 0..=255u8 {
                    let p = i16::from(a) + i16::from(b) - i16::from(c);
                    let (pa, pb, pc) = (
                        (p - i16::from(a)).abs(),
                        (p - i16::from(b)).abs(),
                        (p - i16::from(c)).abs(),
                    );
                    let want = if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    };
                    assert_eq!(paeth(a, b, c), want);
                }
            }
        }
    }
}
