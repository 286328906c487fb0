//! Weighted k-means: [`KMeansParams`] in, [`Fit`] out.
//!
//! The points are the distinct colours of an image and the weights their
//! pixel counts, so every step costs in distinct colours, not pixels, while
//! the objective, iterates and labels are those of k-means on every pixel.

mod fit;
mod init;
mod kdtree;
mod lloyd;
mod params;
mod plusplus;
mod wu;

pub(crate) use fit::ranks;
pub use fit::{Fit, Iteration};
pub(crate) use init::Rng;
pub(crate) use lloyd::{dist2, mean_variance, nearest};
pub(crate) use params::FitInput;
pub use params::{Init, KMeansError, KMeansParams, LloydStep};
