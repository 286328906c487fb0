//! Integration tests of `pixmeans-io`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod decoder_gaps;
mod multi_frame;
mod no_panic;
