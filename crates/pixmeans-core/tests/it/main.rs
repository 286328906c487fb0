//! Integration tests of the clustering core.

// Test code: a failed unwrap is a failed test, and helpers need no panic docs.
#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    clippy::cast_possible_wrap
)]

mod exactness;
mod known_answers;
mod opacity;
mod properties;
mod segment;

use pixmeans_core::{ImageRef, PixelFormat};

/// An 80 x 60 crop of the bundled coffee photo (CC0), raw RGB.
pub const COFFEE: &[u8] = include_bytes!("fixtures/coffee-80x60.rgb");

pub fn coffee() -> ImageRef<'static> {
    ImageRef::new(80, 60, PixelFormat::Rgb8, COFFEE).unwrap()
}

/// A deterministic pseudo-random stream for building test images.
#[derive(Debug)]
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    /// A value in `centre ± spread`, clamped to a byte.
    pub fn around(&mut self, centre: u8, spread: u32) -> u8 {
        let off = (self.next_u32() % (2 * spread + 1)) as i32 - spread as i32;
        (i32::from(centre) + off).clamp(0, 255) as u8
    }
}

/// `w` x `h` RGB pixels, each a noisy copy (± `spread`) of one of `colors`,
/// in vertical bands so each colour covers a known region.
pub fn banded(w: u32, h: u32, colors: &[[u8; 3]], spread: u32, seed: u64) -> Vec<u8> {
    let mut rng = Lcg(seed);
    let mut px = Vec::with_capacity((w * h * 3) as usize);
    for _y in 0..h {
        for x in 0..w {
            let c = colors[(x as usize * colors.len()) / w as usize];
            px.extend(c.map(|v| rng.around(v, spread)));
        }
    }
    px
}
