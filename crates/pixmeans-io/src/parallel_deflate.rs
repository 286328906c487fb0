//! One zlib stream compressed in parallel: the data is cut into stripes of
//! whole rows, each stripe is deflated on its own, and the pieces are joined
//! (the method of pigz).
//!
//! Every stripe but the last ends with a sync flush, which closes its last
//! block on a byte boundary without marking it final, so the pieces
//! concatenate into one valid deflate stream; the last stripe ends the
//! stream. The Adler-32 checksum of the whole is combined from the stripes'
//! own. A stripe starts with an empty window, so it cannot refer back into
//! the previous one: with 1 MiB stripes that costs well under 1 % of the
//! size, and it halves the time on two cores.
//!
//! Stripe boundaries depend only on the data's length and the row length,
//! never on the number of threads, so the bytes are the same on any machine.

use flate2::{Compress, Compression, FlushCompress, Status};
use rayon::prelude::*;

/// Raw bytes per stripe, rounded down to whole rows (at least one row).
const STRIPE_BYTES: usize = 1 << 20;

/// Adler-32's modulus.
const MOD_ADLER: u64 = 65_521;

/// Compresses `rows` rows of `row_len` bytes into one zlib stream at `level`
/// (0 to 9).
///
/// `make(first, count, out)` appends the raw bytes of rows
/// `first..first + count` to `out`. Making the raw rows stripe by stripe keeps only one stripe per
/// thread in memory, never the whole raw sequence.
pub(crate) fn zlib_rows(
    rows: usize,
    row_len: usize,
    level: u8,
    make: impl Fn(usize, usize, &mut Vec<u8>) + Sync,
) -> Result<Vec<u8>, std::io::Error> {
    let per_stripe = (STRIPE_BYTES / row_len.max(1)).max(1);
    let stripes = rows.div_ceil(per_stripe).max(1);
    let pieces: Vec<(Vec<u8>, u32, usize)> = (0..stripes)
        .into_par_iter()
        .map(|s| {
            let first = s * per_stripe;
            let count = per_stripe.min(rows - first.min(rows));
            let mut raw = Vec::with_capacity(count * row_len);
            make(first, count, &mut raw);
            let mut adler = simd_adler32::Adler32::new();
            adler.write(&raw);
            let deflated = deflate(&raw, level, s + 1 == stripes)?;
            Ok((deflated, adler.finish(), raw.len()))
        })
        .collect::<Result<_, std::io::Error>>()?;

    let body: usize = pieces.iter().map(|p| p.0.len()).sum();
    let mut out = Vec::with_capacity(body + 6);
    out.extend_from_slice(&zlib_header(level));
    let mut checksum = 1;
    for (deflated, adler, len) in &pieces {
        out.extend_from_slice(deflated);
        checksum = adler32_combine(checksum, *adler, *len);
    }
    out.extend_from_slice(&checksum.to_be_bytes());
    Ok(out)
}

/// Raw deflate of `data`, ending the stream if `last`, else with a sync flush.
fn deflate(data: &[u8], level: u8, last: bool) -> Result<Vec<u8>, std::io::Error> {
    let mut c = Compress::new(Compression::new(u32::from(level)), false);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(data.len() / 2 + 1024);
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let done = c.total_in() as usize;
        let status = c
            .compress_vec(&data[done..], &mut out, flush)
            .map_err(std::io::Error::other)?;
        let all_in = c.total_in() as usize == data.len();
        // Finished when the stream ended (last stripe), or when every byte is
        // in and the flush left room to spare (nothing more pending).
        if status == Status::StreamEnd || (!last && all_in && out.len() < out.capacity()) {
            return Ok(out);
        }
    }
}

/// The two zlib header bytes: deflate with a 32 KiB window, the level hint,
/// and the check bits that make the pair a multiple of 31.
fn zlib_header(level: u8) -> [u8; 2] {
    let cmf = 0x78u8;
    let hint: u8 = match level {
        0 | 1 => 0,
        2..=5 => 1,
        6 => 2,
        _ => 3,
    };
    let flg = hint << 6;
    let check = 31 - ((u16::from(cmf) * 256 + u16::from(flg)) % 31) as u8;
    [cmf, flg + check % 31]
}

/// The Adler-32 of `a`'s data followed by `b`'s data, where `b` covers
/// `len_b` bytes.
fn adler32_combine(a: u32, b: u32, len_b: usize) -> u32 {
    let (a1, b1) = (u64::from(a & 0xffff), u64::from(a >> 16));
    let (a2, b2) = (u64::from(b & 0xffff), u64::from(b >> 16));
    let len = len_b as u64 % MOD_ADLER;
    // Each prefix of the second part adds (a1 - 1) to its running sum.
    let sum_a = (a1 + a2 + MOD_ADLER - 1) % MOD_ADLER;
    let sum_b = (b1 + b2 + len * ((a1 + MOD_ADLER - 1) % MOD_ADLER)) % MOD_ADLER;
    ((sum_b << 16) | sum_a) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn adler(data: &[u8]) -> u32 {
        let mut a = simd_adler32::Adler32::new();
        a.write(data);
        a.finish()
    }

    #[test]
    fn combined_checksum_equals_the_checksum_of_the_whole() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        for cut in [0, 1, 5552, 65_521, 150_000, 299_999, 300_000] {
            let (x, y) = data.split_at(cut);
            assert_eq!(adler32_combine(adler(x), adler(y), y.len()), adler(&data));
        }
    }

    #[test]
    fn header_is_valid_at_every_level() {
        for level in 0..=9 {
            let [cmf, flg] = zlib_header(level);
            assert_eq!((u16::from(cmf) * 256 + u16::from(flg)) % 31, 0);
            assert_eq!(flg & 0x20, 0, "no preset dictionary");
        }
    }

    #[test]
    fn stripes_join_into_one_stream_that_inflates_to_the_input() {
        // 5 MiB of rows with some structure: several stripes.
        let row_len = 3001;
        let rows = 5 * (1 << 20) / row_len;
        let make = |first: usize, count: usize, out: &mut Vec<u8>| {
            for r in first..first + count {
                out.extend((0..row_len).map(|i| ((i / 7 + r / 3) % 13) as u8));
            }
        };
        let mut expected = Vec::new();
        make(0, rows, &mut expected);
        for level in [1, 6, 9] {
            let z = zlib_rows(rows, row_len, level, make).unwrap();
            let mut back = Vec::new();
            flate2::read::ZlibDecoder::new(&z[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, expected, "level {level}");
        }
        // A single short stripe, and no rows at all.
        let z = zlib_rows(2, 5, 6, |_, n, out| out.extend(vec![9; n * 5])).unwrap();
        let mut back = Vec::new();
        flate2::read::ZlibDecoder::new(&z[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, [9; 10]);
    }
}
