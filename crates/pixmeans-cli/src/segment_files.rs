//! The names of the files `pixmeans segment` writes into its folder, made
//! and recognised in one place: a name written is a name found again when a
//! later run looks for an earlier run's files.

use std::path::{Path, PathBuf};

use pixmeans_core::Segmentation;

/// The label map as a greyscale PNG.
pub const LABELS_PNG: &str = "labels.png";
/// The label map as a `.npy` array.
pub const LABELS_NPY: &str = "labels.npy";
/// The clusters' colours over the image.
pub const OVERLAY_PNG: &str = "overlay.png";
/// Each region painted its mean colour.
pub const MEAN_PNG: &str = "mean.png";
/// The figures.
pub const SEGMENTS_JSON: &str = "segments.json";

/// The names of one file of each cluster, before the cluster's number.
const MASK: &str = "mask-";
const CUTOUT: &str = "cutout-";

/// The names of a segmentation's masks and cutouts:
/// `mask-<i>-<rrggbb>.png`, with i zero-padded to the width of the largest.
pub struct ClusterNames {
    hex: Vec<String>,
    width: usize,
}

impl ClusterNames {
    pub fn new(seg: &Segmentation) -> Self {
        let n = seg.clusters().len();
        ClusterNames {
            hex: seg
                .clusters()
                .iter()
                .map(|c| crate::report::hex(c.color)[1..].to_owned())
                .collect(),
            width: n.saturating_sub(1).to_string().len(),
        }
    }

    pub fn mask(&self, i: usize) -> String {
        self.name(MASK, i)
    }

    pub fn cutout(&self, i: usize) -> String {
        self.name(CUTOUT, i)
    }

    fn name(&self, kind: &str, i: usize) -> String {
        format!("{kind}{i:0w$}-{}.png", self.hex[i], w = self.width)
    }
}

/// `mask-` or `cutout-` for a mask's or a cutout's path, else `None`.
pub fn cluster_file_kind(path: &Path) -> Option<&'static str> {
    let name = path.file_name().and_then(|n| n.to_str())?;
    [MASK, CUTOUT].into_iter().find(|k| name.starts_with(k))
}

/// Whether `name` is a file `pixmeans segment` writes: a fixed name, or a
/// mask or cutout (`mask-<i>-<rrggbb>.png`).
pub fn is_segment_file(name: &str) -> bool {
    if [LABELS_PNG, LABELS_NPY, OVERLAY_PNG, MEAN_PNG, SEGMENTS_JSON].contains(&name) {
        return true;
    }
    let rest = name
        .strip_prefix(MASK)
        .or_else(|| name.strip_prefix(CUTOUT))
        .and_then(|r| r.strip_suffix(".png"));
    let Some((index, hex)) = rest.and_then(|r| r.split_once('-')) else {
        return false;
    };
    !index.is_empty()
        && index.bytes().all(|b| b.is_ascii_digit())
        && hex.len() == 6
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The segment files already in `dir`, sorted.
pub fn segment_files_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(is_segment_file))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_file_names() {
        assert!(is_segment_file("labels.png"));
        assert!(is_segment_file("mask-0-1a2b3c.png"));
        assert!(is_segment_file("cutout-12-ffffff.png"));
        assert!(!is_segment_file("mask-x-1a2b3c.png"));
        assert!(!is_segment_file("mask-0-1a2b3.png"));
        assert!(!is_segment_file("photo.png"));
    }

    #[test]
    fn the_names_written_are_the_names_recognised() {
        let names = ClusterNames {
            hex: vec!["1a2b3c".into(); 12],
            width: 2,
        };
        for name in [names.mask(0), names.cutout(11)] {
            assert!(is_segment_file(&name), "{name}");
            assert!(cluster_file_kind(Path::new(&name)).is_some(), "{name}");
        }
        assert_eq!(names.mask(3), "mask-03-1a2b3c.png");
        assert_eq!(cluster_file_kind(Path::new("labels.png")), None);
    }
}
