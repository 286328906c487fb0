//! Reproducible noise for the tests (Marsaglia's xorshift32), so that no
//! generator crate is needed for a few bytes.

/// An endless stream of pseudo-random bytes from `seed`.
pub(crate) fn noise(seed: u32) -> impl FnMut() -> u8 {
    let mut state = seed | 1;
    move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state >> 8) as u8
    }
}

/// `n` pseudo-random bytes from `seed`.
pub(crate) fn bytes(n: usize, seed: u32) -> Vec<u8> {
    let mut next = noise(seed);
    (0..n).map(|_| next()).collect()
}
