//! Conversions between domain values and BSON: times as BSON dates (whole milliseconds, the
//! precision the core passes), byte strings as generic binary, absent values as `null`.
//!
//! Reading is strict about types, with one tolerance: a time stored as text. The test server
//! nx-27017 keeps a date written by `$set` as text (`2025-01-01 12:00:00.123000`); real
//! MongoDB never does, so on MongoDB that branch is never taken.

use authgate_core::store::StoreResult;
use authgate_core::StoreError;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{self, Binary, Bson, Document};

/// A time as a BSON date.
pub(crate) fn date(t: DateTime<Utc>) -> Bson {
    Bson::DateTime(bson::DateTime::from_millis(t.timestamp_millis()))
}

/// An optional time as a BSON date or `null`.
pub(crate) fn opt_date(t: Option<DateTime<Utc>>) -> Bson {
    t.map_or(Bson::Null, date)
}

/// An optional string as a BSON string or `null`.
pub(crate) fn opt_str(s: Option<&str>) -> Bson {
    s.map_or(Bson::Null, |s| Bson::String(s.to_owned()))
}

/// Bytes as BSON generic binary.
pub(crate) fn binary(bytes: &[u8]) -> Bson {
    Bson::Binary(Binary {
        subtype: BinarySubtype::Generic,
        bytes: bytes.to_vec(),
    })
}

/// The error for a document that lacks a field or holds the wrong type in it.
fn malformed(key: &str, found: Option<&Bson>) -> StoreError {
    let found = found.map_or("nothing".to_owned(), |b| format!("{:?}", b.element_type()));
    StoreError::Backend(format!("malformed document: field `{key}` holds {found}"))
}

/// The string in `key`.
pub(crate) fn string(doc: &Document, key: &str) -> StoreResult<String> {
    opt_string(doc, key)?.ok_or_else(|| malformed(key, None))
}

/// The string in `key`, or `None` when it is `null` or absent.
pub(crate) fn opt_string(doc: &Document, key: &str) -> StoreResult<Option<String>> {
    match doc.get(key) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::String(s)) => Ok(Some(s.clone())),
        other => Err(malformed(key, other)),
    }
}

/// The bytes in `key`.
pub(crate) fn bytes(doc: &Document, key: &str) -> StoreResult<Vec<u8>> {
    match doc.get(key) {
        Some(Bson::Binary(b)) => Ok(b.bytes.clone()),
        other => Err(malformed(key, other)),
    }
}

/// The integer in `key` (stored as 32- or 64-bit, or as a double by some servers after `$inc`).
pub(crate) fn int(doc: &Document, key: &str) -> StoreResult<i64> {
    match doc.get(key) {
        Some(Bson::Int32(n)) => Ok(i64::from(*n)),
        Some(Bson::Int64(n)) => Ok(*n),
        Some(Bson::Double(n)) if n.fract() == 0.0 => Ok(*n as i64),
        other => Err(malformed(key, other)),
    }
}

/// The time in `key`.
pub(crate) fn time(doc: &Document, key: &str) -> StoreResult<DateTime<Utc>> {
    opt_time(doc, key)?.ok_or_else(|| malformed(key, None))
}

/// The time in `key`, or `None` when it is `null` or absent.
pub(crate) fn opt_time(doc: &Document, key: &str) -> StoreResult<Option<DateTime<Utc>>> {
    match doc.get(key) {
        None | Some(Bson::Null) => Ok(None),
        Some(Bson::DateTime(d)) => Utc
            .timestamp_millis_opt(d.timestamp_millis())
            .single()
            .map(Some)
            .ok_or_else(|| malformed(key, doc.get(key))),
        Some(Bson::String(s)) => parse_text_time(s)
            .map(Some)
            .ok_or_else(|| malformed(key, doc.get(key))),
        other => Err(malformed(key, other)),
    }
}

/// A UTC time written as text by nx-27017 (`YYYY-MM-DD HH:MM:SS[.ffffff]`, optionally with
/// a `T` separator and an offset).
fn parse_text_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let s = s.strip_suffix("+00:00").unwrap_or(s);
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(s, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;

    fn at_ms(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(ms).unwrap()
    }

    #[test]
    fn times_round_trip_through_bson_dates_to_the_millisecond() {
        let t = at_ms(1_735_732_800_123);
        let d = doc! { "t": date(t), "none": opt_date(None) };
        assert_eq!(time(&d, "t").unwrap(), t);
        assert_eq!(opt_time(&d, "none").unwrap(), None);
        assert_eq!(opt_time(&d, "absent").unwrap(), None);
    }

    #[test]
    fn times_stored_as_text_by_the_test_server_are_read() {
        let d = doc! {
            "ms": "2025-01-01 12:00:00.123000",
            "whole": "2025-01-01 12:00:00",
            "iso": "2025-01-01T12:00:00.123+00:00",
        };
        assert_eq!(time(&d, "ms").unwrap(), at_ms(1_735_732_800_123));
        assert_eq!(time(&d, "whole").unwrap(), at_ms(1_735_732_800_000));
        assert_eq!(time(&d, "iso").unwrap(), at_ms(1_735_732_800_123));
    }

    #[test]
    fn wrong_types_are_backend_errors_naming_the_field() {
        let d = doc! { "t": 5_i32, "s": 1.5, "b": "text" };
        let err = time(&d, "t").unwrap_err();
        assert!(err.to_string().contains("`t`"), "{err}");
        assert!(string(&d, "s").is_err());
        assert!(bytes(&d, "b").is_err());
        assert!(string(&d, "absent").is_err());
    }

    #[test]
    fn integers_are_read_whatever_their_width() {
        let d = doc! { "a": 1_i32, "b": 2_i64, "c": 3.0 };
        assert_eq!(
            (
                int(&d, "a").unwrap(),
                int(&d, "b").unwrap(),
                int(&d, "c").unwrap()
            ),
            (1, 2, 3)
        );
    }
}
