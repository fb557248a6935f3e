//! The monitor config file as written: serde shapes, unknown keys rejected, spans kept where a
//! later cross-field check needs to point at a value.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

/// A humantime duration (`"30s"`, `"5m"`, `"1h30m"`) with its span.
pub type SpannedDuration = Spanned<humantime_serde::Serde<Duration>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub api: RawApi,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub alerts: RawAlerts,
    pub services: Spanned<Vec<Spanned<RawService>>>,
    #[serde(default)]
    pub escalation: Vec<Spanned<RawLevel>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    pub listen: Option<Spanned<String>>,
    pub token: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub path: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    pub slack_url: Option<Spanned<String>>,
    pub pagerduty_url: Option<Spanned<String>>,
    pub pagerduty_routing_key: Option<Spanned<String>>,
    pub runbook_base_url: Option<String>,
    pub source: Option<String>,
    pub timeout: Option<SpannedDuration>,
    pub max_attempts: Option<Spanned<u32>>,
    pub backoff: Option<SpannedDuration>,
    pub max_backoff: Option<SpannedDuration>,
    pub queue: Option<Spanned<usize>>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawFailoverMode {
    Automatic,
    Manual,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub name: Spanned<String>,
    pub region: Option<String>,
    pub url: Spanned<String>,
    pub interval: SpannedDuration,
    pub timeout: SpannedDuration,
    pub alert_after: Spanned<u32>,
    pub failover_after: Spanned<u32>,
    pub recover_after: Option<Spanned<u32>>,
    pub failover: Option<Spanned<RawFailoverMode>>,
    pub runbook: Option<String>,
    #[serde(default)]
    pub failover_steps: Vec<Spanned<RawStep>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub name: Spanned<String>,
    pub method: Option<Spanned<String>>,
    pub url: Spanned<String>,
    pub timeout: Option<SpannedDuration>,
    pub retries: Option<u32>,
    pub retry_backoff: Option<SpannedDuration>,
    pub body: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLevel {
    pub notify: Spanned<String>,
    pub ack_timeout: SpannedDuration,
}
