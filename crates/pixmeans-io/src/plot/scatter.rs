//! Pixels as dots in 3-D colour space: on the left each dot in its own
//! colour, on the right in its cluster's colour with the centroids ringed.

use pixmeans_core::ColorSpace;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::grid::px;
use super::{PlotError, canvas, draw_error};

/// The sample to draw: pixels, their clusters and the palette.
#[derive(Debug, Clone, Copy)]
pub struct ScatterData<'a> {
    /// The sampled pixels.
    pub points: &'a [ScatterPoint],
    /// The cluster colours, indexed by [`ScatterPoint::cluster`].
    pub palette: &'a [[u8; 3]],
    /// Each cluster's share of the image's pixels (0 to 1), for the legend.
    pub shares: &'a [f64],
    /// The space whose coordinates are the axes (sRGB, Oklab or CIELAB).
    pub space: ColorSpace,
    /// The title, e.g. the image's name.
    pub title: &'a str,
}

/// One sampled pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScatterPoint {
    /// Its colour.
    pub rgb: [u8; 3],
    /// The index of its cluster in [`ScatterData::palette`].
    pub cluster: u8,
}

/// How a colour space is laid on the three axes: which channel goes on x,
/// y (up) and z, what each is called and the range it spans.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScatterAxes {
    /// Channel index of the space for x, y (vertical) and z.
    pub channels: [usize; 3],
    /// Axis names for x, y and z.
    pub names: [&'static str; 3],
    /// Ranges for x, y and z.
    pub ranges: [(f64, f64); 3],
}

impl ScatterAxes {
    /// R, G, B from 0 to 255 for sRGB; a, L (up), b for Oklab and CIELAB,
    /// over ranges that hold the whole sRGB gamut.
    pub fn of(space: ColorSpace) -> ScatterAxes {
        match space {
            ColorSpace::Oklab => ScatterAxes {
                channels: [1, 0, 2],
                names: ["a", "L", "b"],
                ranges: [(-0.4, 0.4), (0.0, 1.0), (-0.4, 0.4)],
            },
            ColorSpace::Lab => ScatterAxes {
                channels: [1, 0, 2],
                names: ["a*", "L*", "b*"],
                ranges: [(-128.0, 128.0), (0.0, 100.0), (-128.0, 128.0)],
            },
            ColorSpace::Srgb => ScatterAxes {
                channels: [0, 1, 2],
                names: ["R", "G", "B"],
                ranges: [(0.0, 255.0); 3],
            },
        }
    }

    /// A colour's position on the axes.
    pub fn place(&self, space: ColorSpace, rgb: [u8; 3]) -> (f64, f64, f64) {
        let p = space.from_srgb(rgb);
        let c = self.channels;
        (f64::from(p[c[0]]), f64::from(p[c[1]]), f64::from(p[c[2]]))
    }
}

/// A dot to draw: where, in which colour, and how far from the eye.
type Dot = ((f64, f64, f64), [u8; 3], i32);

/// The panel background: mid grey, so both light and dark dots show.
const PANEL: RGBColor = RGBColor(150, 150, 150);

/// Draws the two panels side by side as a `width` x `height` PNG
/// (1600 x 800 suits a screen).
///
/// # Errors
///
/// - [`PlotError::Empty`] when there are no points or no palette colours,
///   or `width` or `height` is 0;
/// - [`PlotError::Draw`] when a point's cluster is past the palette, or the
///   plotting backend fails;
/// - [`PlotError::Encode`] when a side is above 16 384 pixels, or the PNG
///   cannot be encoded;
/// - [`PlotError::Font`] if the embedded font cannot be loaded (a bug).
pub fn scatter_chart(
    data: &ScatterData<'_>,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, PlotError> {
    if data.points.is_empty() || data.palette.is_empty() {
        return Err(PlotError::Empty("the scatter needs at least one pixel"));
    }
    if data
        .points
        .iter()
        .any(|p| usize::from(p.cluster) >= data.palette.len())
    {
        return Err(PlotError::Draw(
            "a point's cluster is not in the palette".into(),
        ));
    }
    canvas::png(width, height, |root| {
        root.fill(&WHITE).map_err(draw_error)?;
        let root = root
            .margin(14, 0, 0, 0)
            .titled(data.title, ("sans-serif", 26))
            .map_err(draw_error)?;
        let (left, right) = root.split_horizontally(width / 2);
        let axes = ScatterAxes::of(data.space);
        panel(&left, data, &axes, false, "each pixel in its own colour")?;
        panel(
            &right,
            data,
            &axes,
            true,
            &format!(
                "coloured by cluster (k = {}); ringed discs are the centroids",
                data.palette.len()
            ),
        )?;
        Ok(())
    })
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ScatterData<'_>,
    axes: &ScatterAxes,
    by_cluster: bool,
    caption: &str,
) -> Result<(), PlotError> {
    let [(x0, x1), (y0, y1), (z0, z1)] = axes.ranges;
    let legend_h = if by_cluster { 40 } else { 0 };
    let (plot, legend) = area.split_vertically(area.dim_in_pixel().1 - legend_h);
    let mut chart = ChartBuilder::on(&plot)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .build_cartesian_3d(x0..x1, y0..y1, z0..z1)
        .map_err(draw_error)?;
    chart.with_projection(|mut p| {
        p.yaw = 0.7;
        p.pitch = 0.35;
        p.scale = 0.8;
        p.into_matrix()
    });
    let fmt = |v: &f64| {
        if v.abs() < 1e-9 {
            "0".to_owned()
        } else if v.abs() >= 10.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    };
    // x and z end at the same front corner: leave z's last label to x.
    let z_fmt = |v: &f64| {
        if *v > z1 - (z1 - z0) * 0.1 {
            String::new()
        } else {
            fmt(v)
        }
    };
    chart
        .configure_axes()
        .axis_panel_style(PANEL.filled())
        .bold_grid_style(RGBColor(175, 175, 175))
        .label_style(("sans-serif", 13))
        .x_formatter(&fmt)
        .y_formatter(&fmt)
        .z_formatter(&z_fmt)
        .draw()
        .map_err(draw_error)?;
    // Axis names beside the middle of the edges that carry the ticks (which
    // edges those are follows from the fixed projection above).
    let name = ("sans-serif", 20)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    let mid = f64::midpoint;
    let label = |i: usize| {
        let (lo, hi) = axes.ranges[i];
        format!("{} ({} to {})", axes.names[i], fmt(&lo), fmt(&hi))
    };
    chart
        .draw_series([
            EmptyElement::at((mid(x0, x1), y0, z1)) + Text::new(label(0), (-50, 50), name.clone()),
            EmptyElement::at((x0, y1, z1)) + Text::new(label(1), (0, -28), name.clone()),
            EmptyElement::at((x1, y0, mid(z0, z1))) + Text::new(label(2), (60, 45), name),
        ])
        .map_err(draw_error)?;

    // Farthest first, so nearer dots cover farther ones.
    let coord = chart.as_coord_spec();
    let mut dots: Vec<Dot> = data
        .points
        .iter()
        .map(|p| {
            let at = axes.place(data.space, p.rgb);
            let rgb = if by_cluster {
                data.palette[usize::from(p.cluster)]
            } else {
                p.rgb
            };
            (at, rgb, coord.projected_depth(&at.0, &at.1, &at.2))
        })
        .collect();
    dots.sort_by_key(|d| std::cmp::Reverse(d.2));
    chart
        .draw_series(
            dots.iter()
                .map(|&(at, [r, g, b], _)| Circle::new(at, 3, RGBColor(r, g, b).filled())),
        )
        .map_err(draw_error)?;
    if by_cluster {
        chart
            .draw_series(data.palette.iter().flat_map(|&rgb| {
                let at = axes.place(data.space, rgb);
                let [r, g, b] = rgb;
                [
                    Circle::new(at, 11, RGBColor(r, g, b).filled()),
                    Circle::new(at, 11, BLACK.stroke_width(2)),
                    Circle::new(at, 13, WHITE.stroke_width(2)),
                ]
            }))
            .map_err(draw_error)?;
        if legend_h > 0 {
            swatch_legend(&legend, data)?;
        }
    }
    Ok(())
}

/// The most clusters [`swatch_legend`] labels one by one; past them it
/// draws a bar of shares.
pub(super) const LABELLED_SWATCHES: usize = 16;

/// A row of the cluster colours with their shares of the pixels: a swatch
/// and a percentage each for up to [`LABELLED_SWATCHES`] clusters, else one
/// bar cut into the colours, each as wide as its share.
fn swatch_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ScatterData<'_>,
) -> Result<(), PlotError> {
    let (w, _) = area.dim_in_pixel();
    if data.palette.len() > LABELLED_SWATCHES {
        return share_bar(area, data);
    }
    let step = (w.saturating_sub(20) / data.palette.len().max(1) as u32).max(1);
    let text = ("sans-serif", 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, &[r, g, b]) in data.palette.iter().enumerate() {
        let x = px(10 + step * i as u32);
        area.draw(&Rectangle::new(
            [(x, 8), (x + 22, 30)],
            RGBColor(r, g, b).filled(),
        ))
        .map_err(draw_error)?;
        area.draw(&Rectangle::new(
            [(x, 8), (x + 22, 30)],
            BLACK.stroke_width(1),
        ))
        .map_err(draw_error)?;
        let share = data.shares.get(i).copied().unwrap_or(0.0);
        area.draw(&Text::new(
            format!("{:.0}%", 100.0 * share),
            (x + 26, 19),
            text.clone(),
        ))
        .map_err(draw_error)?;
    }
    Ok(())
}

/// One bar across the legend, cut into the cluster colours in their order,
/// each as wide as its share of the pixels, under the words saying so.
fn share_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &ScatterData<'_>,
) -> Result<(), PlotError> {
    let (w, _) = area.dim_in_pixel();
    let text = ("sans-serif", 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let words = format!("shares of the {} clusters:", data.palette.len());
    area.draw(&Text::new(words, (10, 19), text))
        .map_err(draw_error)?;
    let (left, right) = (190.0, f64::from(w.saturating_sub(10)).max(191.0));
    let total: f64 = data.shares.iter().sum();
    let mut at = 0.0;
    for (i, &[r, g, b]) in data.palette.iter().enumerate() {
        let share = data.shares.get(i).copied().unwrap_or(0.0);
        let x = |s: f64| px((left + (right - left) * s / total.max(f64::MIN_POSITIVE)) as u32);
        let (x0, x1) = (x(at), x(at + share));
        at += share;
        if x1 > x0 {
            area.draw(&Rectangle::new(
                [(x0, 8), (x1, 30)],
                RGBColor(r, g, b).filled(),
            ))
            .map_err(draw_error)?;
        }
    }
    area.draw(&Rectangle::new(
        [(px(left as u32), 8), (px(right as u32), 30)],
        BLACK.stroke_width(1),
    ))
    .map_err(draw_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The legend row of a scatter of `k` clusters with the given shares,
    /// as RGB pixels along y = 780 of the 1600 x 800 picture's right half
    /// (the panel coloured by cluster).
    fn legend_row(k: usize, shares: &[f64]) -> Vec<[u8; 3]> {
        let palette: Vec<[u8; 3]> = (0..k).map(|i| [(i * 9) as u8, 200, 40]).collect();
        let points: Vec<ScatterPoint> = (0..k)
            .map(|i| ScatterPoint {
                rgb: palette[i],
                cluster: i as u8,
            })
            .collect();
        let data = ScatterData {
            points: &points,
            palette: &palette,
            shares,
            space: ColorSpace::Srgb,
            title: "t",
        };
        let png = scatter_chart(&data, 1600, 800).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_rgb8();
        (800..1600).map(|x| img.get_pixel(x, 780).0).collect()
    }

    #[test]
    fn past_16_clusters_the_legend_is_a_bar_of_shares() {
        // 20 clusters: the first has half the pixels, the rest share the
        // other half; every colour shows, the first over half the bar.
        let mut shares = vec![0.5 / 19.0; 20];
        shares[0] = 0.5;
        let row = legend_row(20, &shares);
        let colour = |i: usize| [(i * 9) as u8, 200, 40];
        for i in 0..20 {
            assert!(row.contains(&colour(i)), "cluster {i} missing");
        }
        let first = row.iter().filter(|&&p| p == colour(0)).count();
        let all: usize = (0..20)
            .map(|i| row.iter().filter(|&&p| p == colour(i)).count())
            .sum();
        assert!(
            (first as f64 / all as f64 - 0.5).abs() < 0.02,
            "{first} of {all}"
        );
    }

    #[test]
    fn axes_place_colours_where_their_space_says() {
        let rgb = ScatterAxes::of(ColorSpace::Srgb);
        assert_eq!(
            rgb.place(ColorSpace::Srgb, [10, 20, 30]),
            (10.0, 20.0, 30.0)
        );
        let ok = ScatterAxes::of(ColorSpace::Oklab);
        let (a, l, b) = ok.place(ColorSpace::Oklab, [255, 255, 255]);
        assert!((l - 1.0).abs() < 1e-3 && a.abs() < 1e-3 && b.abs() < 1e-3);
    }
}
