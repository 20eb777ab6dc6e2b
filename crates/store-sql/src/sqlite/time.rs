//! Times are stored as INTEGER unix milliseconds (UTC): numeric, exact comparisons in SQL.
//! Precision below a millisecond is dropped on the way in.

use authgate_core::StoreError;
use chrono::{DateTime, Utc};

/// A time as stored.
pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// An optional time as stored.
pub(crate) fn opt_to_ms(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(to_ms)
}

/// A stored time read back.
pub(crate) fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| StoreError::Backend(format!("stored time out of range: {ms}")))
}

/// An optional stored time read back.
pub(crate) fn opt_from_ms(ms: Option<i64>) -> Result<Option<DateTime<Utc>>, StoreError> {
    ms.map(from_ms).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_at_millisecond_precision() {
        let t = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(from_ms(to_ms(t)).unwrap(), t);
        assert_eq!(opt_from_ms(opt_to_ms(None)).unwrap(), None);
    }

    #[test]
    fn out_of_range_stored_times_are_errors() {
        assert!(from_ms(i64::MAX).is_err());
    }
}
