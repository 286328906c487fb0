//! The scatter as a self-contained web page: two canvases drawn by a few
//! lines of inline script, turned by dragging and zoomed by the wheel. No
//! library, font or file is fetched, so the page opens offline.

use std::fmt::Write as _;

use super::scatter::{ScatterAxes, ScatterData};

/// The page: the same two views as [`scatter_chart`](super::scatter_chart),
/// sharing one rotation. Coordinates are scaled to -1..1 on every axis.
pub fn scatter_html(data: &ScatterData<'_>) -> String {
    let data_js = data_script(data);
    let legend = legend(data);
    let title = escape(data.title);
    let k = data.palette.len();
    let n = data.points.len();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 16px; background: #fff; color: #222; }}
.views {{ display: flex; flex-wrap: wrap; gap: 16px; }}
figure {{ margin: 0; }}
canvas {{ width: 640px; height: 560px; background: #969696; cursor: grab; touch-action: none; }}
figcaption {{ margin-top: 4px; }}
.bar {{ display: flex; width: 1296px; max-width: 100%; height: 22px; margin: 8px 0; border: 1px solid #444; }}
.swatches {{ display: flex; flex-wrap: wrap; gap: 6px 16px; list-style: none; padding: 0; margin: 0; }}
.swatches span {{ display: inline-block; width: 14px; height: 14px; margin-right: 5px; border: 1px solid #444; vertical-align: -2px; }}
</style>
</head>
<body>
<h1 style="font-size: 1.3em">{title}</h1>
<p>{n} sampled pixels in {space} space. Drag to turn, scroll to zoom, double-click to reset.</p>
<div class="views">
<figure><canvas id="own"></canvas><figcaption>each pixel in its own colour</figcaption></figure>
<figure><canvas id="cluster"></canvas><figcaption>coloured by cluster (k = {k}); ringed discs are the centroids</figcaption></figure>
</div>
{legend}<script>
"use strict";
{data_js}{SCRIPT}</script>
</body>
</html>
"#,
        space = data.space.name(),
    )
}

/// The clusters' shares of the pixels: a bar cut into the cluster colours,
/// each part as wide as its share (its colour and share in a tooltip),
/// and under it, up to 16 clusters, each swatch with its share in words.
fn legend(data: &ScatterData<'_>) -> String {
    let share = |i: usize| data.shares.get(i).copied().unwrap_or(0.0);
    let hex = |c: [u8; 3]| format!("#{:06x}", rgb_int(c));
    let mut html = format!(
        "<p>Shares of the pixels, cluster by cluster (k = {}):</p>\n<div class=\"bar\">",
        data.palette.len()
    );
    for (i, &c) in data.palette.iter().enumerate() {
        let _ = write!(
            html,
            "<div style=\"flex: {:.6} 0 0; background: {}\" title=\"{} {:.1}%\"></div>",
            share(i),
            hex(c),
            hex(c),
            100.0 * share(i)
        );
    }
    html.push_str("</div>\n");
    if data.palette.len() <= super::scatter::LABELLED_SWATCHES {
        html.push_str("<ul class=\"swatches\">");
        for (i, &c) in data.palette.iter().enumerate() {
            let _ = write!(
                html,
                "<li><span style=\"background: {}\"></span>{} {:.0}%</li>",
                hex(c),
                hex(c),
                100.0 * share(i)
            );
        }
        html.push_str("</ul>\n");
    }
    html
}

/// The data as script constants: P positions (x, y, z in -1..1), C own
/// colours, K clusters, M centroid positions, Q cluster colours, and the
/// axes' NAMES and RANGES.
fn data_script(data: &ScatterData<'_>) -> String {
    let axes = ScatterAxes::of(data.space);
    let unit = |(x, y, z): (f64, f64, f64)| {
        let s = |v: f64, (lo, hi): (f64, f64)| 2.0 * (v - lo) / (hi - lo) - 1.0;
        [
            s(x, axes.ranges[0]),
            s(y, axes.ranges[1]),
            s(z, axes.ranges[2]),
        ]
    };
    let mut pos = String::new();
    let mut own = String::new();
    let mut cluster = String::new();
    for p in data.points {
        for v in unit(axes.place(data.space, p.rgb)) {
            let _ = write!(pos, "{v:.4},");
        }
        let _ = write!(own, "{},", rgb_int(p.rgb));
        let _ = write!(cluster, "{},", p.cluster);
    }
    let mut centres = String::new();
    let mut colors = String::new();
    for &c in data.palette {
        for v in unit(axes.place(data.space, c)) {
            let _ = write!(centres, "{v:.4},");
        }
        let _ = write!(colors, "{},", rgb_int(c));
    }
    let names = axes.names.map(|n| format!("\"{n}\"")).join(",");
    let ranges = axes
        .ranges
        .iter()
        .map(|(lo, hi)| format!("[{lo},{hi}]"))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "const P = [{pos}], C = [{own}], K = [{cluster}], M = [{centres}], Q = [{colors}];\n\
         const NAMES = [{names}], RANGES = [{ranges}];\n"
    )
}

/// Draws both views and turns them with the mouse.
const SCRIPT: &str = r##"const view = { yaw: 0.7, pitch: 0.35, zoom: 1 };
const hex = c => "#" + c.toString(16).padStart(6, "0");
function project(x, y, z, s, w, h) {
  const cy = Math.cos(view.yaw), sy = Math.sin(view.yaw);
  const cp = Math.cos(view.pitch), sp = Math.sin(view.pitch);
  const x1 = cy * x - sy * z, z1 = sy * x + cy * z;
  const y2 = cp * y - sp * z1, z2 = sp * y + cp * z1;
  return [w / 2 + s * x1, h / 2 - s * y2, z2];
}
function draw(canvas, byCluster) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth * dpr, h = canvas.clientHeight * dpr;
  canvas.width = w; canvas.height = h;
  const g = canvas.getContext("2d");
  const s = Math.min(w, h) * 0.27 * view.zoom;
  g.fillStyle = "#969696"; g.fillRect(0, 0, w, h);
  g.strokeStyle = "rgba(0,0,0,0.45)"; g.lineWidth = dpr;
  for (const a of [-1, 1]) for (const b of [-1, 1]) {
    const edges = [[[-1, a, b], [1, a, b]], [[a, -1, b], [a, 1, b]], [[a, b, -1], [a, b, 1]]];
    for (const [p, q] of edges) {
      const u = project(p[0], p[1], p[2], s, w, h), v = project(q[0], q[1], q[2], s, w, h);
      g.beginPath(); g.moveTo(u[0], u[1]); g.lineTo(v[0], v[1]); g.stroke();
    }
  }
  g.fillStyle = "#000"; g.font = (15 * dpr) + "px sans-serif"; g.textAlign = "center";
  for (let i = 0; i < 3; i++) {
    const end = [-1, -1, -1]; end[i] = 1.2;
    const e = project(end[0], end[1], end[2], s, w, h);
    g.fillText(NAMES[i] + " (" + RANGES[i][0] + " to " + RANGES[i][1] + ")", e[0], e[1]);
  }
  const n = C.length, order = new Array(n), depth = new Float64Array(n), at = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const p = project(P[3 * i], P[3 * i + 1], P[3 * i + 2], s, w, h);
    at[2 * i] = p[0]; at[2 * i + 1] = p[1]; depth[i] = p[2]; order[i] = i;
  }
  order.sort((a, b) => depth[a] - depth[b]);
  const r = 2.6 * dpr;
  for (const i of order) {
    g.fillStyle = hex(byCluster ? Q[K[i]] : C[i]);
    g.beginPath(); g.arc(at[2 * i], at[2 * i + 1], r, 0, 2 * Math.PI); g.fill();
  }
  if (byCluster) {
    for (let j = 0; j < Q.length; j++) {
      const p = project(M[3 * j], M[3 * j + 1], M[3 * j + 2], s, w, h);
      g.fillStyle = hex(Q[j]);
      g.beginPath(); g.arc(p[0], p[1], 9 * dpr, 0, 2 * Math.PI); g.fill();
      g.lineWidth = 2 * dpr; g.strokeStyle = "#000"; g.stroke();
      g.beginPath(); g.arc(p[0], p[1], 11 * dpr, 0, 2 * Math.PI); g.strokeStyle = "#fff"; g.stroke();
    }
  }
}
const canvases = [[document.getElementById("own"), false], [document.getElementById("cluster"), true]];
const redraw = () => canvases.forEach(([c, b]) => draw(c, b));
for (const [c] of canvases) {
  let last = null;
  c.addEventListener("pointerdown", e => { last = [e.clientX, e.clientY]; c.setPointerCapture(e.pointerId); });
  c.addEventListener("pointerup", () => { last = null; });
  c.addEventListener("pointermove", e => {
    if (!last) return;
    view.yaw += (e.clientX - last[0]) * 0.01;
    view.pitch = Math.max(-1.5, Math.min(1.5, view.pitch + (e.clientY - last[1]) * 0.01));
    last = [e.clientX, e.clientY];
    redraw();
  });
  c.addEventListener("wheel", e => {
    e.preventDefault();
    view.zoom = Math.max(0.3, Math.min(8, view.zoom * Math.exp(-e.deltaY * 0.001)));
    redraw();
  }, { passive: false });
  c.addEventListener("dblclick", () => { view.yaw = 0.7; view.pitch = 0.35; view.zoom = 1; redraw(); });
}
window.addEventListener("resize", redraw);
redraw();
"##;

fn rgb_int([r, g, b]: [u8; 3]) -> u32 {
    u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b)
}

/// Text made safe inside HTML elements and attributes.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::ScatterPoint;
    use pixmeans_core::ColorSpace;

    #[test]
    fn the_page_is_self_contained_and_holds_every_point() {
        let points = [
            ScatterPoint {
                rgb: [255, 0, 0],
                cluster: 0,
            },
            ScatterPoint {
                rgb: [0, 0, 255],
                cluster: 1,
            },
        ];
        let data = ScatterData {
            points: &points,
            palette: &[[250, 5, 5], [5, 5, 250]],
            shares: &[0.5, 0.5],
            space: ColorSpace::Srgb,
            title: "a <b> & \"c\"",
        };
        let page = scatter_html(&data);
        for bad in [
            "http://", "https://", "//cdn", "src=", "<link", "@import", "url(",
        ] {
            assert!(!page.contains(bad), "the page contains {bad}");
        }
        assert!(page.contains("a &lt;b&gt; &amp; &quot;c&quot;"));
        assert!(page.contains("C = [16711680,255,]"), "own colours");
        assert!(page.contains("P = [1.0000,-1.0000,-1.0000,-1.0000,-1.0000,1.0000,]"));
        assert!(
            page.contains("title=\"#fa0505 50.0%\""),
            "the bar's tooltips"
        );
        assert!(page.contains("</span>#0505fa 50%</li>"), "the swatches");
    }

    #[test]
    fn past_16_clusters_the_shares_are_a_bar_alone() {
        let palette: Vec<[u8; 3]> = (0..20).map(|i| [i * 10, 0, 0]).collect();
        let shares = vec![0.05; 20];
        let data = ScatterData {
            points: &[],
            palette: &palette,
            shares: &shares,
            space: ColorSpace::Oklab,
            title: "t",
        };
        let page = scatter_html(&data);
        assert_eq!(page.matches("flex: 0.050000 0 0").count(), 20);
        assert!(!page.contains("class=\"swatches\""));
    }
}
