//! Wall-clock timestamps and the `Clock` seam.
//!
//! Timers use `tokio::time` everywhere (virtual under a simulator, real in production); only
//! *timestamps* (what is written into incidents, notifications and the store) come from a
//! [`Clock`], so the simulated world can hand the monitor its own epoch.

use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A wall-clock instant: whole milliseconds since the Unix epoch.
///
/// Serialized as an RFC 3339 string with milliseconds (`2026-12-04T03:17:00.000Z`) so that
/// the incident log and the API read like the timelines people write by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The timestamp `millis` milliseconds after the Unix epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// This instant moved `d` later (saturating at the far future).
    pub fn after(self, d: Duration) -> Self {
        Self(self.0.saturating_add(duration_millis(d)))
    }

    /// How long after `earlier` this instant lies; zero when it lies before.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// A duration in whole milliseconds, saturating instead of overflowing.
pub fn duration_millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = UNIX_EPOCH + Duration::from_millis(self.0);
        write!(f, "{}", humantime::format_rfc3339_millis(t))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let t = humantime::parse_rfc3339(&text).map_err(serde::de::Error::custom)?;
        let since = t.duration_since(UNIX_EPOCH).map_err(serde::de::Error::custom)?;
        Ok(Self(duration_millis(since)))
    }
}

/// Where wall-clock timestamps come from.
pub trait Clock: Clone + Send + Sync + 'static {
    /// The current wall-clock instant.
    fn now(&self) -> Timestamp;
}

/// The real system clock, for `gameday monitor`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    // The one sanctioned read of the real clock: production timestamps. Simulated runs use
    // their own `Clock`, which is why the read is banned everywhere else (clippy.toml).
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> Timestamp {
        let since = std::time::SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Timestamp(duration_millis(since))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_rfc3339() {
        let t = Timestamp::from_millis(1_796_354_220_123);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2026-12-04T03:17:00.123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_millis(1_000);
        assert_eq!(t.after(Duration::from_secs(1)).as_millis(), 2_000);
        assert_eq!(Timestamp::from_millis(500).since(t), Duration::ZERO);
        assert_eq!(t.since(Timestamp::from_millis(250)), Duration::from_millis(750));
    }
}
