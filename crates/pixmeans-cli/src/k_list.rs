//! `--k` for the commands that try several k: a range `A..B` (both ends
//! included) or a list `2,4,8,16`.

/// Several k, distinct, each from 1 to 256, in increasing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KList(Vec<usize>);

impl KList {
    /// The k values, smallest first.
    pub fn ks(&self) -> &[usize] {
        &self.0
    }

    /// The k values as a reader would write them (see [`describe`]).
    pub fn describe(&self) -> String {
        describe(&self.0)
    }
}

/// `ks` (increasing) as a reader would write them: `2..16` when they run
/// without a gap, `2, 4, 8` when they do not.
pub fn describe(ks: &[usize]) -> String {
    match ks {
        [first, .., last] if ks.windows(2).all(|w| w[1] == w[0] + 1) => {
            format!("{first}..{last}")
        }
        ks => ks
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

const MAX_K: usize = 256;

fn one_k(s: &str) -> Result<usize, String> {
    let k: usize = s
        .trim()
        .parse()
        .map_err(|_| format!("expected a number of colours, got {:?}", s.trim()))?;
    if (1..=MAX_K).contains(&k) {
        Ok(k)
    } else {
        Err(format!(
            "k = {k} is out of range: an indexed image holds 1 to {MAX_K} colours"
        ))
    }
}

/// Parses `A..B` or `k1,k2,...`; clap shows the error after the flag name.
pub fn parse_k_list(s: &str) -> Result<KList, String> {
    let s = s.trim();
    if let Some((a, b)) = s.split_once("..") {
        let b = b.strip_prefix('=').unwrap_or(b);
        let (a, b) = (one_k(a)?, one_k(b)?);
        if a > b {
            return Err(format!(
                "the range {a}..{b} is empty: write the smaller k first, e.g. {b}..{a}"
            ));
        }
        return Ok(KList((a..=b).collect()));
    }
    if s.is_empty() {
        return Err("expected a range like 2..16 or a list like 2,4,8,16, got nothing".into());
    }
    let mut ks = s.split(',').map(one_k).collect::<Result<Vec<_>, _>>()?;
    ks.sort_unstable();
    if let Some(&[k, _]) = ks.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("k = {k} is listed twice"));
    }
    Ok(KList(ks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_without_gaps_are_described_as_a_range_and_others_as_a_list() {
        let describe = |s: &str| parse_k_list(s).unwrap().describe();
        assert_eq!(describe("2..16"), "2..16");
        assert_eq!(describe("2,3,4"), "2..4");
        assert_eq!(describe("2,4,8"), "2, 4, 8");
        assert_eq!(describe("7"), "7");
    }

    #[test]
    fn ranges_and_lists() {
        assert_eq!(parse_k_list("2..5").unwrap().ks(), [2, 3, 4, 5]);
        assert_eq!(parse_k_list("2..=4").unwrap().ks(), [2, 3, 4]);
        assert_eq!(parse_k_list("7..7").unwrap().ks(), [7]);
        assert_eq!(parse_k_list("16,2, 8,4").unwrap().ks(), [2, 4, 8, 16]);
        assert_eq!(parse_k_list("256").unwrap().ks(), [256]);
    }

    #[test]
    fn bad_ranges_and_lists_say_what_is_wrong() {
        let err = |s| parse_k_list(s).unwrap_err();
        assert!(
            err("5..2").contains("range 5..2 is empty"),
            "{}",
            err("5..2")
        );
        assert!(err("0..3").contains("k = 0 is out of range"));
        assert!(err("2..300").contains("k = 300 is out of range"));
        assert!(err("").contains("got nothing"));
        assert!(err("2,,4").contains("expected a number"));
        assert!(err("2,4,2").contains("k = 2 is listed twice"));
        assert!(err("a..b").contains("expected a number"));
    }
}
