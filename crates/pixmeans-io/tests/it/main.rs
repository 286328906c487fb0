//! Integration tests of `pixmeans-io`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod no_panic;
