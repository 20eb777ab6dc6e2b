//! The parser of duration settings (`15m`, `2h`, `30d`), shared by the binary's configuration
//! loader and the fuzz targets (which then need no store, mail or HTTP server crates).

use std::time::Duration;

/// Longest accepted duration: ten years (keeps `now + ttl` far from overflow).
pub const MAX_DURATION: Duration = Duration::from_secs(3650 * 24 * 3600);

/// A positive duration like `15m`, `2h`, `30d`, at most [`MAX_DURATION`]. The error is a
/// phrase that starts with the quoted value.
pub fn parse_positive(v: &str) -> Result<Duration, String> {
    let d = parse_or_zero(v)?;
    if d.is_zero() {
        return Err(format!("{v:?} must be longer than zero"));
    }
    Ok(d)
}

/// A duration that may be zero, at most [`MAX_DURATION`].
pub fn parse_or_zero(v: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(v)
        .map_err(|_| format!("{v:?} is not a duration (examples: 15m, 2h, 7d)"))?;
    if d > MAX_DURATION {
        return Err(format!("{v:?} is too long (at most 3650d)"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_positive_duration_parses_and_zero_is_refused_only_where_it_must_be_positive() {
        assert_eq!(parse_positive("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_or_zero("0s"), Ok(Duration::ZERO));
        assert!(parse_positive("0s").unwrap_err().starts_with("\"0s\""));
    }

    #[test]
    fn more_than_ten_years_or_no_duration_at_all_is_refused_quoting_the_value() {
        assert!(parse_or_zero("3651d")
            .unwrap_err()
            .contains("at most 3650d"));
        assert!(parse_or_zero("abc")
            .unwrap_err()
            .starts_with("\"abc\" is not a duration"));
    }
}
