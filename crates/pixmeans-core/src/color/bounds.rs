//! [`ColorSpace::bounds`]: a box of the working space that holds every
//! colour of a box of 8-bit sRGB colours. Error diffusion sorts colours
//! into such boxes to know which palette colours can be nearest to them.

use super::{
    ColorSpace, D65, OKLAB_LAB, OKLAB_LMS, Point, XYZ, cube_root, dot, lab_f, oklab_root,
    srgb_to_linear, times, to_f32,
};

/// CIELAB's L*, a* and b* from its f of X, Y and Z (less 16 for L*).
const LAB_OF_F: [[f64; 3]; 3] = [
    [0.0, 116.0, 0.0],
    [500.0, -500.0, 0.0],
    [0.0, 200.0, -200.0],
];

impl ColorSpace {
    /// A box of this space that holds the point of every 8-bit colour whose
    /// channels each lie between those of `lo` and `hi`, as
    /// [`ColorSpace::from_srgb`] computes it: its least and its greatest
    /// coordinates.
    ///
    /// Both spaces besides sRGB take the colour to linear light, then
    /// through positive weights to three responses `u`, each through a
    /// rising curve `g` (a cube root, or CIELAB's f), and mix those. A
    /// coordinate's slope along channel j is then the sum over i of
    /// `outer[c][i] * g_i'(u_i) * inner[i][j]`, times the rising slope of
    /// linear light. Where the bounds of `g'` over the box fix that sum's
    /// sign for every channel, the coordinate is monotonic over the box,
    /// and its least and greatest values are at two corners, exactly. Else
    /// it gets [`ColorSpace::loose_bounds`], which are right but wide.
    /// Over the cells of 4 levels a side that dithering uses, the exact
    /// bounds leave a third as many candidates in Oklab at k = 256 as the
    /// loose ones would (11.5 against 31 on sunset.jpg).
    ///
    /// The margin on the slope's sign keeps every colour away from its
    /// extreme corner by far more than the error of the f64 conversion
    /// (at least about 10^-12 against 10^-16), so rounding cannot put a
    /// colour past its corner; two f32 ulps more are a margin of safety.
    pub(crate) fn bounds(self, lo: [u8; 3], hi: [u8; 3]) -> (Point, Point) {
        let (inner, outer, slope): (_, _, fn(usize, f64) -> f64) = match self {
            ColorSpace::Srgb => return (lo.map(f32::from), hi.map(f32::from)),
            ColorSpace::Oklab => (&OKLAB_LMS, &OKLAB_LAB, |_, u| root_slope(u)),
            ColorSpace::Lab => (&XYZ, &LAB_OF_F, |i, u| lab_f_slope(u / D65[i]) / D65[i]),
        };
        let (u_lo, u_hi) = (
            times(inner, srgb_to_linear(lo)),
            times(inner, srgb_to_linear(hi)),
        );
        // g' falls as u grows.
        let slopes = (
            std::array::from_fn(|i| slope(i, u_hi[i])),
            std::array::from_fn(|i| slope(i, u_lo[i])),
        );
        let mut loose = None;
        let (mut low, mut high) = ([0.0; 3], [0.0; 3]);
        for c in 0..3 {
            if let Some((least, most)) = extreme_corners(outer[c], inner, slopes, lo, hi) {
                // Two ulps wider, for safety (see above).
                low[c] = (self.coordinates(least)[c] as f32).next_down().next_down();
                high[c] = (self.coordinates(most)[c] as f32).next_up().next_up();
            } else {
                let (l, h) = *loose.get_or_insert_with(|| self.loose_bounds(lo, hi));
                (low[c], high[c]) = (l[c], h[c]);
            }
        }
        (low, high)
    }

    /// A box that holds what [`ColorSpace::bounds`] bounds, step by step:
    /// each step of the conversions is monotonic in each input (the
    /// weights of linear light are positive; the roots grow), so it
    /// follows from the two corners; the cube roots, which can be a few
    /// ulps out of order, are widened by far more than that.
    fn loose_bounds(self, lo: [u8; 3], hi: [u8; 3]) -> (Point, Point) {
        let (lo, hi) = match self {
            ColorSpace::Srgb => return (lo.map(f32::from), hi.map(f32::from)),
            ColorSpace::Oklab => {
                let roots = |rgb| times(&OKLAB_LMS, srgb_to_linear(rgb)).map(oklab_root);
                let (low, high) = widened(roots(lo), roots(hi));
                times_bounds(&OKLAB_LAB, low, high)
            }
            ColorSpace::Lab => {
                let f = |rgb| lab_f(times(&XYZ, srgb_to_linear(rgb)));
                let ([xl, yl, zl], [xh, yh, zh]) = widened(f(lo), f(hi));
                (
                    [116.0 * yl - 16.0, 500.0 * (xl - yh), 200.0 * (yl - zh)],
                    [116.0 * yh - 16.0, 500.0 * (xh - yl), 200.0 * (yh - zl)],
                )
            }
        };
        (to_f32(lo), to_f32(hi))
    }
}

/// The corners of the box from `lo` to `hi` where the coordinate mixed by
/// `row` is least and greatest, if the slopes of `g` (between `slopes.0`
/// and `slopes.1`) make it monotonic in every channel; see
/// [`ColorSpace::bounds`].
fn extreme_corners(
    row: [f64; 3],
    inner: &[[f64; 3]; 3],
    slopes: ([f64; 3], [f64; 3]),
    lo: [u8; 3],
    hi: [u8; 3],
) -> Option<([u8; 3], [u8; 3])> {
    let (mut least, mut most) = (lo, hi);
    for j in 0..3 {
        let term = |i: usize| row[i] * inner[i][j];
        // The least (or the greatest) the slope along j can be.
        let slope_bound = |greatest: bool| -> f64 {
            (0..3)
                .map(|i| {
                    let rising = term(i) >= 0.0;
                    term(i)
                        * if rising == greatest {
                            slopes.1[i]
                        } else {
                            slopes.0[i]
                        }
                })
                .sum()
        };
        let margin = 1e-9 * (0..3).map(|i| term(i).abs() * slopes.1[i]).sum::<f64>();
        if lo[j] == hi[j] || slope_bound(false) > margin {
            // Rises along j (or j is fixed): least at lo, greatest at hi.
        } else if slope_bound(true) < -margin {
            (least[j], most[j]) = (hi[j], lo[j]);
        } else {
            return None;
        }
    }
    Some((least, most))
}

/// The slope of Oklab's cube root at `u`, infinite at 0.
fn root_slope(u: f64) -> f64 {
    if u > 0.0 {
        1.0 / (3.0 * cube_root(u * u))
    } else {
        f64::INFINITY
    }
}

/// The slope of CIELAB's f at `t`: it falls as `t` grows.
fn lab_f_slope(t: f64) -> f64 {
    if t > 216.0 / 24389.0 {
        1.0 / (3.0 * cube_root(t * t))
    } else {
        24389.0 / 27.0 / 116.0
    }
}

/// `lo` a little lower and `hi` a little higher: by a millionth of a
/// millionth, where [`cube_root`] is within a few ulps (about 10^-16).
fn widened(lo: [f64; 3], hi: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    (
        lo.map(|v| v - 1e-12 * v.abs()),
        hi.map(|v| v + 1e-12 * v.abs()),
    )
}

/// The least and greatest of [`times`]`(m, v)` over every `v` with
/// `lo <= v <= hi`, as rounded: rounding is monotonic, so each term is
/// least at the end that its weight's sign picks.
fn times_bounds(m: &[[f64; 3]; 3], lo: [f64; 3], hi: [f64; 3]) -> ([f64; 3], [f64; 3]) {
    let corner = |row: [f64; 3], least: bool| -> [f64; 3] {
        std::array::from_fn(|j| {
            if (row[j] >= 0.0) == least {
                lo[j]
            } else {
                hi[j]
            }
        })
    };
    (
        m.map(|row| dot(row, corner(row, true))),
        m.map(|row| dot(row, corner(row, false))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_of_a_box_of_colours_hold_a_lattice_of_its_colours() {
        let mut rng = crate::kmeans::Rng::new(11);
        for space in ColorSpace::ALL {
            for n in 0..400 {
                // Boxes of every size from one colour up, black included.
                let size: usize = [1, 2, 4, 16, 64][n % 5];
                let lo: [u8; 3] = if n % 50 == 0 {
                    [0; 3]
                } else {
                    std::array::from_fn(|_| (rng.next_u64() % (257 - size as u64)) as u8)
                };
                let hi = lo.map(|c| c + (size - 1) as u8);
                let (low, high) = space.bounds(lo, hi);
                let step = size.div_ceil(8).max(1);
                for r in (lo[0]..=hi[0]).step_by(step) {
                    for g in (lo[1]..=hi[1]).step_by(step) {
                        for b in (lo[2]..=hi[2]).step_by(step) {
                            let p = space.from_srgb([r, g, b]);
                            for c in 0..3 {
                                assert!(low[c] <= p[c] && p[c] <= high[c], "{space} {lo:?}-{hi:?}");
                            }
                        }
                    }
                }
            }
        }
    }
}
