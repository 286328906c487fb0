//! What `pixmeans segment` reports: `segments.json`, the `--json` line (the
//! same object plus timings) and the human summary.

use std::fmt::Write as _;

use pixmeans_core::{Segmentation, Segmenter};
use serde::Serialize;

use crate::args::KArg;
use crate::report::{FitSettingsReport, KChoiceReport, counted, hex};

/// Everything pixmeans says about one segmented image.
#[derive(Debug, Serialize)]
pub struct SegmentReport {
    pub input: String,
    pub output: String,
    pub width: u32,
    pub height: u32,
    /// The k clustered with (chosen, under `-k auto`).
    pub k: usize,
    pub color_space: &'static str,
    /// Pixels that belong to no cluster (fully transparent); they carry the
    /// label `clusters.len()`.
    pub transparent_pixels: u64,
    /// Connected regions over all clusters, after merging.
    pub regions: usize,
    /// Connected regions of the fit's labels, before merging.
    pub regions_before_merging: usize,
    /// Small regions merged into a neighbour.
    pub merged_regions: usize,
    /// The k-means objective of the labels and centroids written, in colour
    /// alone, after merging (`fit.inertia` is the fit's own).
    pub inertia: f64,
    /// Bits per label in labels.png and labels.npy.
    pub label_bits: u8,
    pub fit: FitReport,
    pub options: OptionsReport,
    /// Largest first (ties: lightest first).
    pub clusters: Vec<ClusterReport>,
    /// Files written into `output`, in order.
    pub files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k_choice: Option<KChoiceReport>,
    /// Only on the `--json` line, not in segments.json (which is the same
    /// bytes on every run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<SegmentTimings>,
}

/// [`FitReport::method`] of a spatial fit.
const SPATIAL: &str = "spatial-sample";

/// How the clusters were fitted.
#[derive(Debug, Serialize)]
pub struct FitReport {
    /// `histogram` (exact, colour alone) or `spatial-sample`.
    pub method: &'static str,
    pub fitted_pixels: u64,
    /// Clusters the fit gave: fewer than k when there were fewer distinct
    /// colours (or sample points) than k. Merging can empty some.
    pub clusters: usize,
    pub iterations: usize,
    pub converged: bool,
    /// Over every opaque pixel, before merging; with position for a
    /// spatial fit.
    pub inertia: f64,
}

impl FitReport {
    /// One line for `--verbose`, with the inertia of the result too when
    /// it differs from the fit's: after `merged` regions, or in colour
    /// alone after a spatial fit.
    pub fn human(&self, result: f64, merged: usize) -> String {
        let after = match (self.method == SPATIAL, merged > 0) {
            (false, false) => String::new(),
            (false, true) => format!(", {result:.6e} after merging"),
            (true, false) => format!(", {result:.6e} in colour alone"),
            (true, true) => format!(", {result:.6e} in colour alone after merging"),
        };
        format!(
            "  fit: {} on {}, {}, {}, inertia {:.6e}{after}\n",
            self.method,
            counted(self.fitted_pixels, "pixel"),
            counted(self.iterations, "iteration"),
            if self.converged {
                "converged"
            } else {
                "stopped at --max-iter"
            },
            self.inertia
        )
    }
}

/// The options used.
#[derive(Debug, Serialize)]
pub struct OptionsReport {
    /// As typed: a number or "auto".
    pub k: serde_json::Value,
    pub seed: u64,
    pub color_space: &'static str,
    pub spatial: f64,
    pub min_region: u64,
    pub connectivity: u8,
    #[serde(flatten)]
    pub settings: FitSettingsReport,
    pub max_pixels: Option<usize>,
}

/// One cluster.
#[derive(Debug, Serialize)]
pub struct ClusterReport {
    pub index: usize,
    /// The centroid as sRGB, `#rrggbb`.
    pub hex: String,
    /// The centroid in the working colour space.
    pub centroid: [f32; 3],
    pub pixels: u64,
    /// Of the opaque pixels.
    pub share: f64,
    /// `[x0, y0, x1, y1]`, both corners inclusive.
    pub bbox: [u32; 4],
    /// Connected regions.
    pub regions: usize,
    /// Pixels in the largest one.
    pub largest_region: u64,
    pub mask: Option<String>,
    pub cutout: Option<String>,
}

/// Seconds spent.
#[derive(Debug, Serialize, Default, Clone, Copy)]
pub struct SegmentTimings {
    pub decode: f64,
    pub segment: f64,
    pub encode: f64,
    pub write: f64,
    pub total: f64,
}

impl SegmentReport {
    /// The report before any file is named; `cluster_files(i)` gives the
    /// mask and cutout names of cluster i.
    pub fn new(
        seg: &Segmentation,
        segmenter: &Segmenter,
        k_typed: KArg,
        label_bits: u8,
        cluster_files: impl Fn(usize) -> (Option<String>, Option<String>),
    ) -> Self {
        let q = segmenter.quantizer();
        let params = q.params();
        let map = seg.labels();
        let fit = seg.fit();
        SegmentReport {
            input: String::new(),
            output: String::new(),
            width: map.width(),
            height: map.height(),
            k: params.k(),
            color_space: seg.color_space().name(),
            transparent_pixels: seg.transparent_pixels(),
            regions: seg.clustered_regions(),
            regions_before_merging: seg.found_regions(),
            merged_regions: seg.merged_regions(),
            inertia: seg.inertia(),
            label_bits,
            fit: FitReport {
                method: if fit.spatial { SPATIAL } else { "histogram" },
                fitted_pixels: fit.fitted_pixels,
                clusters: seg.fitted_clusters(),
                iterations: fit.iterations,
                converged: fit.converged,
                inertia: fit.inertia,
            },
            options: OptionsReport {
                k: match k_typed {
                    KArg::Fixed(k) => k.into(),
                    KArg::Auto => "auto".into(),
                },
                seed: params.seed(),
                color_space: q.color_space().name(),
                spatial: segmenter.spatial(),
                min_region: segmenter.min_region(),
                connectivity: segmenter.connectivity().neighbours(),
                settings: FitSettingsReport::new(params),
                max_pixels: q.max_pixels(),
            },
            clusters: seg
                .clusters()
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let (mask, cutout) = cluster_files(i);
                    ClusterReport {
                        index: i,
                        hex: hex(c.color),
                        centroid: c.centroid,
                        pixels: c.pixels,
                        share: c.share,
                        bbox: [c.bbox.x0, c.bbox.y0, c.bbox.x1, c.bbox.y1],
                        regions: c.regions,
                        largest_region: c.largest_region,
                        mask,
                        cutout,
                    }
                })
                .collect(),
            files: Vec::new(),
            k_choice: None,
            seconds: None,
        }
    }

    /// Why there are fewer clusters than k, if there are: `" (k = 10:
    /// only 6 distinct colours)"`, or `""`.
    fn fewer_clusters(&self) -> String {
        let (k, fitted, kept) = (self.k, self.fit.clusters, self.clusters.len());
        let mut why = Vec::new();
        if fitted < k {
            why.push(if self.fit.method == SPATIAL {
                format!("only {fitted} distinct pixels in the sample")
            } else {
                format!("only {fitted} distinct colours")
            });
        }
        if kept < fitted {
            why.push(format!("merging emptied {}", fitted - kept));
        }
        if why.is_empty() {
            String::new()
        } else {
            format!(" (k = {k}: {})", why.join("; "))
        }
    }

    /// The summary for standard error: one line for the image, one per
    /// cluster.
    pub fn human(&self) -> String {
        let mut s = String::new();
        let merged = if self.merged_regions > 0 {
            format!(
                " ({} before merging {})",
                self.regions_before_merging,
                counted(self.merged_regions, "small one")
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "{} -> {}: {}{}, {}{merged}, {}",
            self.input,
            self.output,
            counted(self.clusters.len(), "cluster"),
            self.fewer_clusters(),
            counted(self.regions, "region"),
            counted(self.files.len(), "file")
        );
        if let Some(c) = &self.k_choice {
            s.push_str(&c.human());
        }
        for c in &self.clusters {
            let _ = writeln!(
                s,
                "  {:>3}  {}  {:5.1} %  {}, largest {} px",
                c.index,
                c.hex,
                c.share * 100.0,
                counted(c.regions, "region"),
                c.largest_region
            );
        }
        if let Some(t) = &self.seconds {
            let _ = writeln!(
                s,
                "  {:.2} s (decode {:.2}, segment {:.2}, encode {:.2}, write {:.2})",
                t.total, t.decode, t.segment, t.encode, t.write
            );
        }
        s
    }
}
