//! The monitor's configuration: parsed from TOML, then validated into types that cannot hold
//! a mistake. Nothing past [`MonitorConfig::parse`] sees an unvalidated value.

mod raw;

use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper::Method;
use toml::Spanned;

use crate::diagnostic::{InputError, LoadError, SourceFile};
use crate::http::Endpoint;
use crate::monitor::decide::policy::{EscalationLevel, FailoverMode, ServicePolicy};
use raw::{RawAlerts, RawConfig, RawFailoverMode, RawLevel, RawService, RawStep, SpannedDuration};

/// Where the status API listens, and who may change things through it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiConfig {
    /// Listen address; 127.0.0.1:9090 unless told otherwise.
    pub listen: SocketAddr,
    /// When set, every POST must carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

/// How notifications are delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// Deadline for one delivery attempt.
    pub timeout: Duration,
    /// Attempts per notification before falling back to the log.
    pub max_attempts: u32,
    /// Wait before the first retry; doubles each retry.
    pub backoff: Duration,
    /// Ceiling on the wait between retries.
    pub max_backoff: Duration,
    /// Notifications queued per channel before new ones go straight to the log.
    pub queue: usize,
}

/// Where alerts go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertsConfig {
    /// Slack incoming-webhook URL.
    pub slack: Option<Endpoint>,
    /// PagerDuty Events API v2 URL and routing key.
    pub pagerduty: Option<(Endpoint, String)>,
    /// Base of runbook links: `<base>/<service>`.
    pub runbook_base_url: Option<String>,
    /// The `source` this monitor names itself in alerts.
    pub source: String,
    /// Retries, backoff and queueing.
    pub delivery: DeliveryPolicy,
}

/// One HTTP call of a failover runbook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailoverStep {
    /// Name shown in records and alerts.
    pub name: String,
    /// HTTP method.
    pub method: Method,
    /// What to call.
    pub endpoint: Endpoint,
    /// Deadline per attempt.
    pub timeout: Duration,
    /// Extra attempts after a failed one.
    pub retries: u32,
    /// Wait between attempts.
    pub retry_backoff: Duration,
    /// Request body (sent as JSON), if any.
    pub body: Option<String>,
}

/// One monitored service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceConfig {
    /// Unique name.
    pub name: String,
    /// Region it runs in, for alerts.
    pub region: Option<String>,
    /// The health endpoint probed with GET.
    pub url: Endpoint,
    /// Time between probes.
    pub interval: Duration,
    /// Deadline of one probe, connect to last byte; at most `interval`.
    pub timeout: Duration,
    /// Thresholds and failover mode.
    pub policy: ServicePolicy,
    /// Runbook link for this service's alerts.
    pub runbook: Option<String>,
    /// Failover runbook, run in order.
    pub failover_steps: Vec<FailoverStep>,
}

/// A validated monitor configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorConfig {
    /// Status API.
    pub api: ApiConfig,
    /// Incident store file.
    pub store_path: PathBuf,
    /// Notifications.
    pub alerts: AlertsConfig,
    /// Monitored services, in file order.
    pub services: Vec<ServiceConfig>,
    /// Escalation chain, level 1 first.
    pub escalation: Vec<EscalationLevel>,
}

impl MonitorConfig {
    /// Reads and validates the config file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, LoadError> {
        Self::parse(&LoadError::read(path)?)
    }

    /// Parses and validates config text; every mistake is reported with its line and column.
    pub fn parse(file: &SourceFile) -> Result<Self, LoadError> {
        let raw: RawConfig =
            toml::from_str(file.text()).map_err(|e| LoadError::Invalid(vec![file.toml_error(&e)]))?;
        let mut check = Checker { file, errors: Vec::new() };
        let config = check.config(raw);
        match config {
            Some(config) if check.errors.is_empty() => Ok(config),
            _ => Err(LoadError::Invalid(check.errors)),
        }
    }
}

/// Collects every cross-field mistake rather than stopping at the first.
struct Checker<'a> {
    file: &'a SourceFile,
    errors: Vec<InputError>,
}

fn dur(d: &SpannedDuration) -> Duration {
    **d.get_ref()
}

impl Checker<'_> {
    fn fail(&mut self, span: Range<usize>, message: String) {
        self.errors.push(self.file.error(Some(span), message, None));
    }

    fn endpoint(&mut self, url: &Spanned<String>) -> Option<Endpoint> {
        Endpoint::parse(url.get_ref()).map_err(|m| self.fail(url.span(), m)).ok()
    }

    fn positive(&mut self, d: &SpannedDuration, what: &str) -> Duration {
        let value = dur(d);
        if value.is_zero() {
            self.fail(d.span(), format!("{what} must be longer than zero"));
        }
        value
    }

    fn config(&mut self, raw: RawConfig) -> Option<MonitorConfig> {
        let listen = match &raw.api.listen {
            None => SocketAddr::from(([127, 0, 0, 1], 9090)),
            Some(l) => l
                .get_ref()
                .parse()
                .map_err(|_| {
                    self.fail(
                        l.span(),
                        format!("{:?} is not an address like \"127.0.0.1:9090\"", l.get_ref()),
                    )
                })
                .ok()?,
        };
        let token = raw.api.token.map(|t| {
            if t.get_ref().trim().is_empty() {
                self.fail(t.span(), "token must not be empty; leave it out to disable auth".into());
            }
            t.into_inner()
        });
        let pagerduty_url_span = raw.alerts.pagerduty_url.as_ref().map(Spanned::span);
        let alerts = self.alerts(raw.alerts);
        if raw.services.get_ref().is_empty() {
            self.fail(raw.services.span(), "at least one [[services]] entry is required".into());
        }
        let mut services: Vec<ServiceConfig> = Vec::new();
        for s in raw.services.into_inner() {
            let name_span = s.get_ref().name.span();
            let Some(service) = self.service(s.into_inner()) else {
                continue;
            };
            if services.iter().any(|o| o.name == service.name) {
                self.fail(
                    name_span,
                    format!("service {:?} is declared twice; names must be unique", service.name),
                );
            }
            services.push(service);
        }
        let escalation: Vec<EscalationLevel> =
            raw.escalation.into_iter().map(|l| self.level(l.into_inner())).collect();
        if let (Some(url), true) = (&pagerduty_url_span, escalation.is_empty()) {
            self.fail(
                url.clone(),
                "pagerduty_url is set but there is no [[escalation]] level: nobody would be paged".into(),
            );
        }
        Some(MonitorConfig {
            api: ApiConfig { listen, token },
            store_path: raw.store.path.unwrap_or_else(|| PathBuf::from("gameday-incidents.jsonl")),
            alerts: alerts?,
            services,
            escalation,
        })
    }

    fn alerts(&mut self, raw: RawAlerts) -> Option<AlertsConfig> {
        let slack = raw.slack_url.as_ref().and_then(|u| self.endpoint(u));
        let pagerduty = match (&raw.pagerduty_url, &raw.pagerduty_routing_key) {
            (Some(url), Some(key)) => {
                if key.get_ref().trim().is_empty() {
                    self.fail(key.span(), "pagerduty_routing_key must not be empty".into());
                }
                self.endpoint(url).map(|e| (e, key.get_ref().clone()))
            }
            (Some(url), None) => {
                self.fail(url.span(), "pagerduty_url needs pagerduty_routing_key beside it".into());
                None
            }
            (None, Some(key)) => {
                self.fail(key.span(), "pagerduty_routing_key needs pagerduty_url beside it".into());
                None
            }
            (None, None) => None,
        };
        let max_attempts = match raw.max_attempts {
            Some(n) if *n.get_ref() == 0 => {
                self.fail(n.span(), "max_attempts must be at least 1".into());
                1
            }
            Some(n) => n.into_inner(),
            None => 4,
        };
        let queue = match raw.queue {
            Some(q) if *q.get_ref() == 0 => {
                self.fail(q.span(), "queue must be at least 1".into());
                1
            }
            Some(q) => q.into_inner(),
            None => 1024,
        };
        let delivery = DeliveryPolicy {
            timeout: raw.timeout.as_ref().map_or(Duration::from_secs(5), |d| self.positive(d, "timeout")),
            max_attempts,
            backoff: raw.backoff.as_ref().map_or(Duration::from_millis(500), |d| self.positive(d, "backoff")),
            max_backoff: raw
                .max_backoff
                .as_ref()
                .map_or(Duration::from_secs(30), |d| self.positive(d, "max_backoff")),
            queue,
        };
        Some(AlertsConfig {
            slack,
            pagerduty,
            runbook_base_url: raw.runbook_base_url.map(|u| u.trim_end_matches('/').to_owned()),
            source: raw.source.unwrap_or_else(|| "gameday-monitor".to_owned()),
            delivery,
        })
    }

    fn service(&mut self, raw: RawService) -> Option<ServiceConfig> {
        let name = raw.name.get_ref().trim().to_owned();
        if name.is_empty() || name.contains('/') {
            self.fail(raw.name.span(), "service name must be non-empty and contain no '/'".into());
        }
        let url = self.endpoint(&raw.url);
        let interval = self.positive(&raw.interval, "interval");
        let timeout = self.positive(&raw.timeout, "timeout");
        if timeout > interval {
            self.fail(
                raw.timeout.span(),
                format!(
                    "timeout ({}) must not exceed interval ({})",
                    humantime::format_duration(timeout),
                    humantime::format_duration(interval)
                ),
            );
        }
        let alert_after = *raw.alert_after.get_ref();
        if alert_after == 0 {
            self.fail(raw.alert_after.span(), "alert_after must be at least 1".into());
        }
        let failover_after = *raw.failover_after.get_ref();
        if failover_after < alert_after {
            self.fail(
                raw.failover_after.span(),
                format!("failover_after ({failover_after}) must be at least alert_after ({alert_after})"),
            );
        }
        let recover_after = match raw.recover_after {
            Some(r) if *r.get_ref() == 0 => {
                self.fail(r.span(), "recover_after must be at least 1".into());
                1
            }
            Some(r) => r.into_inner(),
            None => 1,
        };
        let steps: Vec<FailoverStep> =
            raw.failover_steps.into_iter().filter_map(|s| self.step(s.into_inner())).collect();
        let failover = match (&raw.failover, steps.is_empty()) {
            (_, true) => {
                if let Some(mode) = &raw.failover {
                    self.fail(
                        mode.span(),
                        "failover is set but the service has no [[services.failover_steps]]".into(),
                    );
                }
                FailoverMode::Disabled
            }
            (Some(m), false) if *m.get_ref() == RawFailoverMode::Automatic => FailoverMode::Automatic,
            // A human decides unless the file says otherwise.
            (_, false) => FailoverMode::Manual,
        };
        Some(ServiceConfig {
            name,
            region: raw.region,
            url: url?,
            interval,
            timeout,
            policy: ServicePolicy { alert_after, failover_after, recover_after, failover },
            runbook: raw.runbook,
            failover_steps: steps,
        })
    }

    fn step(&mut self, raw: RawStep) -> Option<FailoverStep> {
        let method = match &raw.method {
            None => Method::POST,
            Some(m) => match m.get_ref().to_ascii_uppercase().as_str() {
                "GET" => Method::GET,
                "POST" => Method::POST,
                "PUT" => Method::PUT,
                "PATCH" => Method::PATCH,
                "DELETE" => Method::DELETE,
                other => {
                    self.fail(
                        m.span(),
                        format!("method {other:?} is not one of GET, POST, PUT, PATCH, DELETE"),
                    );
                    return None;
                }
            },
        };
        let endpoint = self.endpoint(&raw.url)?;
        Some(FailoverStep {
            name: raw.name.into_inner(),
            method,
            endpoint,
            timeout: raw.timeout.as_ref().map_or(Duration::from_secs(5), |d| self.positive(d, "timeout")),
            retries: raw.retries.unwrap_or(0),
            retry_backoff: raw.retry_backoff.as_ref().map_or(Duration::from_secs(1), dur),
            body: raw.body,
        })
    }

    fn level(&mut self, raw: RawLevel) -> EscalationLevel {
        if raw.notify.get_ref().trim().is_empty() {
            self.fail(raw.notify.span(), "notify must name a responder or rota".into());
        }
        EscalationLevel {
            ack_timeout: self.positive(&raw.ack_timeout, "ack_timeout"),
            notify: raw.notify.into_inner(),
        }
    }
}
