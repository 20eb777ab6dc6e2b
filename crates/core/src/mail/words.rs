//! Durations as a person reads them in a mail: "24 hours", "1 hour", "7 days".

use chrono::Duration;

/// `d` in words, largest units first, zero parts left out: `24h` is "24 hours" (a mail
/// says "valid for 24 hours", as people do), `48h` is "2 days", `90m` is "1 hour 30
/// minutes", `45s` is "45 seconds".
///
/// ```
/// use authgate_core::mail::duration_in_words;
/// use chrono::Duration;
/// assert_eq!(duration_in_words(Duration::hours(24)), "24 hours");
/// assert_eq!(duration_in_words(Duration::hours(1)), "1 hour");
/// assert_eq!(duration_in_words(Duration::minutes(90)), "1 hour 30 minutes");
/// assert_eq!(duration_in_words(Duration::days(7)), "7 days");
/// ```
pub fn duration_in_words(d: Duration) -> String {
    let total = d.num_seconds().max(0);
    let (days, hours, minutes, seconds) = (
        total / 86_400,
        total % 86_400 / 3600,
        total % 3600 / 60,
        total % 60,
    );
    // Up to two days, whole hours read better than "1 day 6 hours".
    let (days, hours) = if total < 2 * 86_400 {
        (0, days * 24 + hours)
    } else {
        (days, hours)
    };
    let parts: Vec<String> = [
        (days, "day"),
        (hours, "hour"),
        (minutes, "minute"),
        (seconds, "second"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, unit)| format!("{n} {unit}{}", if n == 1 { "" } else { "s" }))
    .collect();
    if parts.is_empty() {
        "0 seconds".to_owned()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_lifetimes_read_as_people_say_them() {
        assert_eq!(duration_in_words(Duration::hours(24)), "24 hours");
        assert_eq!(duration_in_words(Duration::hours(1)), "1 hour");
        assert_eq!(duration_in_words(Duration::minutes(15)), "15 minutes");
        assert_eq!(duration_in_words(Duration::minutes(1)), "1 minute");
    }

    #[test]
    fn mixed_and_long_durations_name_each_unit() {
        assert_eq!(
            duration_in_words(Duration::minutes(90)),
            "1 hour 30 minutes"
        );
        assert_eq!(duration_in_words(Duration::hours(36)), "36 hours");
        assert_eq!(duration_in_words(Duration::hours(48)), "2 days");
        assert_eq!(duration_in_words(Duration::hours(51)), "2 days 3 hours");
        assert_eq!(duration_in_words(Duration::days(30)), "30 days");
        assert_eq!(
            duration_in_words(Duration::seconds(61)),
            "1 minute 1 second"
        );
        assert_eq!(duration_in_words(Duration::seconds(2)), "2 seconds");
        assert_eq!(duration_in_words(Duration::zero()), "0 seconds");
    }
}
