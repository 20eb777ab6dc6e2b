//! Arbitrary text as a duration setting (`AUTHGATE_ACCESS_TOKEN_TTL` and the others) and as
//! a rate-limit setting (`30/min`).
//!
//! Invariants: nothing panics; a duration is positive, at most 3650 days, and the way the
//! start-up summary shows it (`humantime`'s format) parses back to the same duration; a
//! refused value is quoted in the message; a rate has a positive count and period and its
//! summary form (`max/period`) parses back to the same rate.
#![no_main]

use std::time::Duration;

use authgate_core::durations::parse_positive as parse_duration_setting;
use authgate_core::limits::Rate;
use libfuzzer_sys::fuzz_target;

const TEN_YEARS: Duration = Duration::from_secs(3650 * 24 * 3600);

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match parse_duration_setting(s) {
        Ok(d) => {
            assert!(!d.is_zero() && d <= TEN_YEARS, "{s:?} gave {d:?}");
            let shown = humantime::format_duration(d).to_string();
            assert_eq!(
                parse_duration_setting(&shown),
                Ok(d),
                "{s:?} shown as {shown:?}"
            );
        }
        Err(message) => assert!(message.starts_with(&format!("{s:?}")), "{message}"),
    }
    if let Ok(rate) = Rate::parse(s) {
        assert!(rate.max > 0 && !rate.per.is_zero(), "{s:?}");
        let shown = format!("{}/{}", rate.max, humantime::format_duration(rate.per));
        let again = Rate::parse(&shown).unwrap_or_else(|e| panic!("{s:?} shown as {shown:?}: {e}"));
        assert_eq!(
            (again.max, again.per),
            (rate.max, rate.per),
            "{s:?} shown as {shown:?}"
        );
    }
});
