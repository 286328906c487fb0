//! The elbow plot: inertia against k, the suggested k marked, and PSNR on a
//! second axis.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ChartFormat, PlotError, canvas, draw_error};

/// One k of an elbow sweep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ElbowPoint {
    /// The number of clusters.
    pub k: usize,
    /// k-means inertia (sum of squared distances) in the working space.
    pub inertia: f64,
    /// PSNR in dB; `None` when the output is exact (an infinite or NaN
    /// value is left out as `None` is).
    pub psnr: Option<f64>,
}

/// What an elbow plot shows.
#[derive(Debug, Clone, Copy)]
pub struct ElbowChart<'a> {
    /// The points, by increasing k (at least one).
    pub points: &'a [ElbowPoint],
    /// The suggested k (the knee), marked with a line and a label.
    pub knee: Option<usize>,
    /// Unit of inertia, e.g. `8-bit sRGB levels²`.
    pub inertia_unit: &'a str,
    /// The title, e.g. the image's name.
    pub title: &'a str,
}

const INERTIA: RGBColor = RGBColor(31, 119, 180);
const PSNR: RGBColor = RGBColor(230, 120, 20);
const KNEE: RGBColor = RGBColor(200, 30, 40);

/// Draws the elbow plot as a `width` x `height` PNG or SVG (1200 x 700 suits
/// a screen).
///
/// # Errors
///
/// - [`PlotError::Empty`] when there are no points, or `width` or `height`
///   is 0;
/// - [`PlotError::Encode`] when a side is above 16 384 pixels, or the PNG
///   cannot be encoded;
/// - [`PlotError::Draw`] when the plotting backend fails;
/// - [`PlotError::Font`] if the embedded font cannot be loaded (a bug).
pub fn elbow_chart(
    chart: &ElbowChart<'_>,
    format: ChartFormat,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, PlotError> {
    if chart.points.is_empty() {
        return Err(PlotError::Empty("the elbow plot needs at least one k"));
    }
    match format {
        ChartFormat::Png => canvas::png(width, height, |root| draw(root, chart)),
        ChartFormat::Svg => canvas::svg(width, height, |root| draw(root, chart)),
    }
}

/// The power of ten that brings `max` below 1000 (0 when it already is).
fn scale_exponent(max: f64) -> i32 {
    if max >= 1e4 {
        max.log10().floor() as i32
    } else {
        0
    }
}

fn superscript(n: i32) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

/// Where the k axis has its ticks: at the k tried when there are at most
/// 16 (so a list like 2, 4, 8, 16, 32 is labelled at its own k, not at
/// round numbers between them), leaving out those that would crowd their
/// left neighbour (the last k is always labelled); else at multiples of a
/// round step.
fn k_ticks(ks: &[usize]) -> Vec<i32> {
    const MOST: usize = 16;
    if ks.len() <= MOST {
        let (first, last) = (ks[0], ks[ks.len() - 1]);
        // A label takes about a 25th of the axis.
        let gap = (last - first) as f64 / 25.0;
        let mut ticks: Vec<usize> = Vec::new();
        for &k in ks {
            while k == last && ticks.last().is_some_and(|&t| ((k - t) as f64) < gap) {
                ticks.pop();
            }
            if ticks.last().is_none_or(|&t| (k - t) as f64 >= gap) {
                ticks.push(k);
            }
        }
        return ticks.into_iter().map(k_x).collect();
    }
    let (lo, hi) = (ks[0], ks[ks.len() - 1]);
    let step = [1, 2, 4, 8, 16, 32, 64]
        .into_iter()
        .find(|s| hi / s - lo.div_ceil(*s) < MOST)
        .unwrap_or(128);
    (lo.div_ceil(step)..=hi / step)
        .map(|i| k_x(i * step))
        .collect()
}

/// k as a position on the k axis: a whole number, so that the axis can be
/// labelled at chosen k (plotters labels chosen points on whole-number axes
/// only).
fn k_x(k: usize) -> i32 {
    i32::try_from(k).unwrap_or(i32::MAX)
}

/// The axes' ranges and the scaled data.
struct Layout {
    k_range: std::ops::Range<i32>,
    /// Inertia is shown divided by 10^exp (= scale).
    exp: i32,
    scale: f64,
    y_top: f64,
    psnrs: Vec<(i32, f64)>,
    db_range: std::ops::Range<f64>,
}

fn layout(pts: &[ElbowPoint]) -> Layout {
    let (k_lo, k_hi) = (k_x(pts[0].k), k_x(pts[pts.len() - 1].k));
    let pad = ((f64::from(k_hi - k_lo) * 0.04).round() as i32).max(1);
    let max_inertia = (pts.iter().map(|p| p.inertia))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let exp = scale_exponent(max_inertia);
    let scale = 10f64.powi(exp);
    let psnrs: Vec<(i32, f64)> = pts
        .iter()
        .filter_map(|p| p.psnr.filter(|db| db.is_finite()).map(|db| (k_x(p.k), db)))
        .collect();
    let (lo, hi) = psnrs
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &(_, db)| {
            (lo.min(db), hi.max(db))
        });
    Layout {
        k_range: (k_lo - pad)..(k_hi + pad),
        exp,
        scale,
        y_top: if max_inertia > 0.0 {
            max_inertia / scale * 1.08
        } else {
            1.0
        },
        db_range: if psnrs.is_empty() {
            0.0..1.0
        } else {
            (lo - 2.0).max(0.0).floor()..(hi + 2.0).ceil()
        },
        psnrs,
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &ElbowChart<'_>,
) -> Result<(), PlotError> {
    let pts = chart.points;
    let Layout {
        k_range,
        exp,
        scale,
        y_top,
        psnrs,
        db_range,
    } = layout(pts);
    let ks: Vec<usize> = pts.iter().map(|p| p.k).collect();
    let ticks = k_ticks(&ks);
    let mut ctx = ChartBuilder::on(root)
        .caption(chart.title, ("sans-serif", 26))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .right_y_label_area_size(if psnrs.is_empty() { 20 } else { 80 })
        .build_cartesian_2d(k_range.clone().with_key_points(ticks.clone()), 0.0..y_top)
        .map_err(draw_error)?
        .set_secondary_coord(k_range.with_key_points(ticks), db_range);

    let unit = if exp == 0 {
        chart.inertia_unit.to_owned()
    } else {
        format!("×10{} {}", superscript(exp), chart.inertia_unit)
    };
    ctx.configure_mesh()
        .x_desc("k (number of colours)")
        .y_desc(format!("inertia ({unit})"))
        .x_label_formatter(&|x| x.to_string())
        .y_label_formatter(&|y| format!("{y:.1}"))
        .axis_desc_style(("sans-serif", 20))
        .label_style(("sans-serif", 16))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(draw_error)?;
    if !psnrs.is_empty() {
        ctx.configure_secondary_axes()
            .y_desc("PSNR (dB)")
            .axis_desc_style(("sans-serif", 20))
            .label_style(("sans-serif", 16))
            .draw()
            .map_err(draw_error)?;
    }

    let inertia: Vec<(i32, f64)> = pts.iter().map(|p| (k_x(p.k), p.inertia / scale)).collect();
    ctx.draw_series(LineSeries::new(inertia.clone(), INERTIA.stroke_width(3)))
        .map_err(draw_error)?
        .label("inertia (left axis)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], INERTIA.stroke_width(3)));
    ctx.draw_series(inertia.iter().map(|&p| Circle::new(p, 5, INERTIA.filled())))
        .map_err(draw_error)?;
    if !psnrs.is_empty() {
        ctx.draw_secondary_series(LineSeries::new(psnrs.clone(), PSNR.stroke_width(2)))
            .map_err(draw_error)?
            .label("PSNR (right axis)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], PSNR.stroke_width(2)));
        ctx.draw_secondary_series(
            psnrs
                .iter()
                .map(|&p| TriangleMarker::new(p, 6, PSNR.filled())),
        )
        .map_err(draw_error)?;
    }
    if let Some(p) = chart.knee.and_then(|k| pts.iter().find(|p| p.k == k)) {
        let (x, y) = (k_x(p.k), p.inertia / scale);
        ctx.draw_series(std::iter::once(PathElement::new(
            [(x, 0.0), (x, y_top)],
            KNEE.stroke_width(2),
        )))
        .map_err(draw_error)?
        .label(format!("suggested k = {} (knee)", p.k))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 24, y)], KNEE.stroke_width(2)));
        let label = ("sans-serif", 22)
            .into_font()
            .color(&KNEE)
            .pos(Pos::new(HPos::Left, VPos::Bottom));
        ctx.draw_series(std::iter::once(
            EmptyElement::at((x, y))
                + Circle::new((0, 0), 11, KNEE.stroke_width(3))
                + Circle::new((0, 0), 5, KNEE.filled())
                + Text::new(format!("k = {}", p.k), (12, -12), label),
        ))
        .map_err(draw_error)?;
    }
    ctx.configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .label_font(("sans-serif", 18))
        .draw()
        .map_err(draw_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_k_axis_is_labelled_at_the_k_tried_or_at_round_steps() {
        assert_eq!(k_ticks(&[2, 4, 8, 16, 32]), [2, 4, 8, 16, 32]);
        // 1..15 and 256: a label every 10 k or more, and the last.
        let mut uneven: Vec<usize> = (1..=15).collect();
        uneven.push(256);
        assert_eq!(k_ticks(&uneven), [1, 12, 256]);
        assert_eq!(k_ticks(&[250, 256]), [250, 256]);
        assert_eq!(k_ticks(&[7]), [7]);
        let range: Vec<usize> = (1..=16).collect();
        assert_eq!(k_ticks(&range).len(), 16);
        let range: Vec<usize> = (1..=40).collect();
        assert_eq!(k_ticks(&range), (1..=10).map(|i| i * 4).collect::<Vec<_>>());
        let range: Vec<usize> = (3..=256).collect();
        let ticks = k_ticks(&range);
        assert!(
            ticks.len() <= 16 && ticks[0] >= 3 && ticks[ticks.len() - 1] <= 256,
            "{ticks:?}"
        );
    }

    #[test]
    fn infinite_or_missing_figures_are_left_out() {
        // An exact fit's PSNR is infinite: once, the axis's range looped.
        let points = [
            ElbowPoint {
                k: 1,
                inertia: 100.0,
                psnr: Some(20.0),
            },
            ElbowPoint {
                k: 2,
                inertia: 0.0,
                psnr: Some(f64::INFINITY),
            },
            ElbowPoint {
                k: 3,
                inertia: f64::NAN,
                psnr: Some(f64::NAN),
            },
        ];
        let chart = ElbowChart {
            points: &points,
            knee: Some(2),
            inertia_unit: "u",
            title: "t",
        };
        for format in [ChartFormat::Png, ChartFormat::Svg] {
            assert!(!elbow_chart(&chart, format, 300, 200).unwrap().is_empty());
        }
    }

    #[test]
    fn inertia_axis_scale() {
        assert_eq!(scale_exponent(900.0), 0);
        assert_eq!(scale_exponent(1.1e9), 9);
        assert_eq!(superscript(9), "⁹");
        assert_eq!(superscript(-12), "⁻¹²");
    }
}
