//! Serde helpers: durations as integer milliseconds (DESIGN.md section 5, `_ms` field names).

use std::time::Duration;

use serde::Serializer;

/// Whole milliseconds of `d`, saturating at `u64::MAX`.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Serializes a duration as integer milliseconds.
pub(crate) fn ms<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(millis(*d))
}

/// Serializes an optional duration as integer milliseconds or `null`.
pub(crate) fn opt_ms<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&millis(*d)),
        None => s.serialize_none(),
    }
}
