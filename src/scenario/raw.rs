//! The scenario file as written: serde shapes, unknown keys rejected, spans kept where a later
//! cross-field check needs to point at a value. Nothing here is validated; `validate.rs` turns
//! a [`RawScenario`] into a [`super::Scenario`].

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use toml::Spanned;

/// A humantime duration (`"30s"`, `"5m"`, `"1h30m"`) with its span.
pub type SpannedDuration = Spanned<humantime_serde::Serde<Duration>>;

/// A string-only value whose type error says what the string should look like.
macro_rules! text_value {
    ($(#[$meta:meta])* $name:ident, $expecting:literal) => {
        $(#[$meta])*
        #[derive(Debug)]
        pub struct $name(pub String);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name(v.to_owned()))
                    }
                }
                deserializer.deserialize_str(V)
            }
        }
    };
}

text_value!(
    /// A request rate as written (`"20/s"`, `"300/m"`); the checker parses it.
    RawRate,
    "a rate string such as \"20/s\" or \"300/m\""
);

text_value!(
    /// A data size as written (`"2TB"`, `"500GB"`); the checker parses it.
    RawSize,
    "a size string such as \"500GB\" or \"2TB\""
);

text_value!(
    /// A throughput as written (`"1TB/h"`, `"200MB/s"`); the checker parses it.
    RawThroughput,
    "a throughput string such as \"1TB/h\" or \"200MB/s\""
);

text_value!(
    /// An acknowledgement delay as written (`"3m"`, `"2m..8m"`, `"never"`); the checker parses it.
    RawAckDelay,
    "a duration (\"3m\"), a range (\"2m..8m\") or \"never\""
);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Spanned<String>,
    pub seed: Option<u64>,
    pub duration: SpannedDuration,
    pub tick: Option<SpannedDuration>,
    #[serde(default)]
    pub targets: RawTargets,
    pub regions: Spanned<Vec<Spanned<RawRegion>>>,
    #[serde(default)]
    pub latency: Vec<Spanned<RawLatency>>,
    pub services: Spanned<Vec<Spanned<RawService>>>,
    pub database: Option<RawDatabase>,
    pub backups: Option<Spanned<RawBackups>>,
    #[serde(default)]
    pub dns: RawDns,
    pub traffic: RawTraffic,
    pub monitor: RawMonitor,
    #[serde(default)]
    pub escalation: Vec<Spanned<RawLevel>>,
    #[serde(default)]
    pub responders: BTreeMap<String, RawResponder>,
    #[serde(default)]
    pub faults: Vec<Spanned<RawFault>>,
    pub expect: Option<Spanned<RawExpect>>,
    pub expect_missed: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawExpect {
    Pass,
    Fail,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargets {
    pub rto: Option<SpannedDuration>,
    pub rpo: Option<SpannedDuration>,
    pub detect: Option<SpannedDuration>,
    pub page: Option<SpannedDuration>,
    pub acknowledge: Option<SpannedDuration>,
    pub mitigate: Option<SpannedDuration>,
    pub recover: Option<SpannedDuration>,
    pub availability: Option<Spanned<f64>>,
    pub lost_writes: Option<Spanned<u64>>,
    pub incident_start: Option<SpannedDuration>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    pub name: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLatency {
    pub between: Spanned<Vec<Spanned<String>>>,
    pub one_way: SpannedDuration,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawStandbyMode {
    Hot,
    Warm,
    Cold,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub name: Spanned<String>,
    pub primary: Spanned<String>,
    pub standby: Option<Spanned<String>>,
    pub standby_mode: Option<Spanned<RawStandbyMode>>,
    pub scale_up: Option<SpannedDuration>,
    pub capacity: Option<Spanned<f64>>,
    pub runbook: Option<Spanned<RawRunbook>>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawRunbook {
    Failover,
    Restart,
    Restore,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackups {
    pub store: Spanned<String>,
    pub size: Spanned<RawSize>,
    pub change_rate: Option<Spanned<RawThroughput>>,
    pub restore_rate: Spanned<RawThroughput>,
    pub full: SpannedDuration,
    pub full_age: Option<SpannedDuration>,
    pub differential: Option<SpannedDuration>,
    pub incremental: Option<SpannedDuration>,
    pub wal_archive: Option<SpannedDuration>,
    pub history: Option<SpannedDuration>,
    pub drill: Option<SpannedDuration>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawBackupKind {
    Full,
    Differential,
    Incremental,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawReplication {
    Async,
    Sync,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub primary: Spanned<String>,
    pub replica: Option<Spanned<String>>,
    pub replication: Option<Spanned<RawReplication>>,
    pub lag: Option<SpannedDuration>,
    pub promote_time: Option<SpannedDuration>,
    pub fencing: Option<Spanned<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDns {
    pub ttl: Option<SpannedDuration>,
    pub health_check: Option<RawHealthCheck>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealthCheck {
    pub interval: SpannedDuration,
    pub failures: Spanned<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTraffic {
    pub rate: Spanned<RawRate>,
    pub write_ratio: Option<Spanned<f64>>,
    pub success_threshold: Option<Spanned<f64>>,
    pub window: Option<SpannedDuration>,
    pub region: Option<Spanned<String>>,
    pub timeout: Option<SpannedDuration>,
    pub read_rows: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawFailoverMode {
    Automatic,
    Manual,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMonitor {
    pub region: Option<Spanned<String>>,
    pub interval: SpannedDuration,
    pub timeout: SpannedDuration,
    pub alert_after: Spanned<u32>,
    pub failover_after: Spanned<u32>,
    pub recover_after: Option<Spanned<u32>>,
    pub failover: Option<Spanned<RawFailoverMode>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLevel {
    pub notify: Spanned<String>,
    pub ack_timeout: SpannedDuration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResponder {
    pub ack_after: Spanned<RawAckDelay>,
    pub decide_after: Option<SpannedDuration>,
}

/// One `[[faults]]` entry with every field any kind takes; which ones must or may be present
/// depends on `kind` and is checked by the validator.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub at: SpannedDuration,
    pub kind: Spanned<String>,
    #[serde(rename = "for")]
    pub for_: Option<SpannedDuration>,
    pub region: Option<Spanned<String>>,
    pub host: Option<Spanned<String>>,
    pub between: Option<Spanned<Vec<Spanned<String>>>>,
    pub oneway: Option<Spanned<bool>>,
    pub one_way: Option<SpannedDuration>,
    pub service: Option<Spanned<String>>,
    pub status: Option<Spanned<u16>>,
    pub ratio: Option<Spanned<f64>>,
    pub delay: Option<SpannedDuration>,
    pub lag: Option<SpannedDuration>,
    pub ramp: Option<SpannedDuration>,
    pub overrun: Option<SpannedDuration>,
    pub capacity: Option<Spanned<f64>>,
    pub responder: Option<Spanned<String>>,
    pub backup: Option<Spanned<RawBackupKind>>,
}

impl RawFault {
    /// The kind-specific fields that are present, by TOML name, with their spans.
    pub fn present_fields(&self) -> Vec<(&'static str, Range<usize>)> {
        fn span<T>(s: &Option<Spanned<T>>) -> Option<Range<usize>> {
            s.as_ref().map(Spanned::span)
        }
        [
            ("region", span(&self.region)),
            ("host", span(&self.host)),
            ("between", span(&self.between)),
            ("oneway", span(&self.oneway)),
            ("one_way", span(&self.one_way)),
            ("service", span(&self.service)),
            ("status", span(&self.status)),
            ("ratio", span(&self.ratio)),
            ("delay", span(&self.delay)),
            ("lag", span(&self.lag)),
            ("ramp", span(&self.ramp)),
            ("overrun", span(&self.overrun)),
            ("capacity", span(&self.capacity)),
            ("responder", span(&self.responder)),
            ("backup", span(&self.backup)),
        ]
        .into_iter()
        .filter_map(|(name, span)| span.map(|s| (name, s)))
        .collect()
    }
}
