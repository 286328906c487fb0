//! [`LabelMap`]: the cluster of every pixel.

use super::SegmentError;
use crate::image::PIXEL_CHUNK;

/// The cluster index of every pixel, rows top to bottom.
///
/// Labels run from 0 to `clusters() - 1`; fully transparent pixels, which
/// belong to no cluster, carry the label `clusters()` (the *void* label, as
/// a quantized image's transparent entry comes after its colours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMap {
    width: u32,
    height: u32,
    clusters: u32,
    labels: Vec<u32>,
}

impl LabelMap {
    /// Checks that there is one label per pixel and none above `clusters`
    /// (the void label), and that `clusters` is at most
    /// [`MAX_CLUSTERS`](super::MAX_CLUSTERS).
    ///
    /// # Errors
    ///
    /// - [`SegmentError::TooManyClusters`] when `clusters` is above
    ///   [`MAX_CLUSTERS`](super::MAX_CLUSTERS);
    /// - [`SegmentError::LabelCount`] when the image is empty or `labels` does
    ///   not hold exactly `width * height` labels;
    /// - [`SegmentError::LabelOutOfRange`] for the first label above
    ///   `clusters`.
    pub fn new(
        width: u32,
        height: u32,
        clusters: u32,
        labels: Vec<u32>,
    ) -> Result<Self, SegmentError> {
        if clusters as usize > super::MAX_CLUSTERS {
            return Err(SegmentError::TooManyClusters(clusters as usize));
        }
        let pixels = width as usize * height as usize;
        if pixels == 0 || labels.len() != pixels {
            return Err(SegmentError::LabelCount {
                width,
                height,
                labels: labels.len(),
            });
        }
        if let Some(position) = labels.iter().position(|&l| l > clusters) {
            return Err(SegmentError::LabelOutOfRange {
                label: labels[position],
                position,
                clusters,
            });
        }
        Ok(LabelMap {
            width,
            height,
            clusters,
            labels,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The number of clusters.
    pub fn clusters(&self) -> u32 {
        self.clusters
    }

    /// The label of fully transparent pixels: `clusters()`.
    pub fn void(&self) -> u32 {
        self.clusters
    }

    /// One label per pixel.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// Whether any pixel carries the void label.
    pub fn has_void(&self) -> bool {
        self.labels.contains(&self.clusters)
    }

    /// The pixels of one cluster: true inside.
    pub fn mask(&self, cluster: u32) -> Vec<bool> {
        self.labels.iter().map(|&l| l == cluster).collect()
    }

    /// Renames the clusters: `rank[old]` is the new label of cluster `old`,
    /// and there are `clusters` of them after. The void label follows.
    pub(crate) fn relabel(&mut self, rank: &[u32], clusters: u32) {
        use rayon::prelude::*;
        let old_void = self.clusters;
        self.labels.par_chunks_mut(PIXEL_CHUNK).for_each(|chunk| {
            for l in chunk {
                *l = if *l == old_void {
                    clusters
                } else {
                    rank[*l as usize]
                };
            }
        });
        self.clusters = clusters;
    }

    /// Mutable labels, for merging regions; the cluster count is unchanged.
    pub(crate) fn labels_mut(&mut self) -> &mut [u32] {
        &mut self.labels
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_void_label_fits_16_bits() {
        let max = super::super::MAX_CLUSTERS as u32;
        assert!(LabelMap::new(2, 1, max, vec![0, max]).is_ok());
        assert!(matches!(
            LabelMap::new(2, 1, max + 1, vec![0, max + 1]),
            Err(SegmentError::TooManyClusters(_))
        ));
        assert!(u16::try_from(max).is_ok());
    }

    #[test]
    fn checks_size_and_range() {
        assert!(LabelMap::new(2, 2, 2, vec![0, 1, 2, 0]).is_ok());
        assert!(matches!(
            LabelMap::new(2, 2, 2, vec![0, 1, 3, 0]),
            Err(SegmentError::LabelOutOfRange { position: 2, .. })
        ));
        assert!(matches!(
            LabelMap::new(2, 2, 2, vec![0]),
            Err(SegmentError::LabelCount { labels: 1, .. })
        ));
    }

    #[test]
    fn relabel_keeps_void_last() {
        let mut m = LabelMap::new(4, 1, 3, vec![0, 2, 3, 1]).unwrap();
        m.relabel(&[1, 0, 0], 2);
        assert_eq!(m.labels(), [1, 0, 2, 0]);
        assert_eq!(m.void(), 2);
    }
}
