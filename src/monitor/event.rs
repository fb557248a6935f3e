//! The incident event stream: everything the monitor decided or did, in order.
//!
//! One stream feeds the store (replayed after a restart), the notifier, the metrics and the
//! incident views of the status API. Events hold no wall-clock reads of their own: the time
//! lives in the enclosing [`Record`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// Identifies an incident; unique for the life of an incident store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IncidentId(pub u64);

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "INC-{}", self.0)
    }
}

/// How bad an incident is. SEV1 is the worst; SEV4 is reserved for test alerts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// Informational: test alerts only.
    #[serde(rename = "SEV4")]
    Sev4,
    /// Raised when consecutive failures reach `alert_after`.
    #[serde(rename = "SEV3")]
    Sev3,
    /// Raised at twice `alert_after`.
    #[serde(rename = "SEV2")]
    Sev2,
    /// Raised at `failover_after`, or when a failover fails.
    #[serde(rename = "SEV1")]
    Sev1,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Sev4 => "SEV4",
            Severity::Sev3 => "SEV3",
            Severity::Sev2 => "SEV2",
            Severity::Sev1 => "SEV1",
        })
    }
}

/// A service's health as the monitor sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// The last probe succeeded and no incident is open.
    Healthy,
    /// Failing, but fewer than `alert_after` times in a row.
    Degraded,
    /// An incident is open.
    Unhealthy,
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Health::Healthy => "healthy",
            Health::Degraded => "degraded",
            Health::Unhealthy => "unhealthy",
        })
    }
}

/// Why an incident's severity rose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RaiseReason {
    /// Consecutive failures crossed the next threshold.
    ConsecutiveFailures,
    /// A failover step failed.
    FailoverFailed,
}

/// What started a failover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Consecutive failures reached `failover_after` in automatic mode.
    Automatic,
    /// An operator called `POST /api/failover/{service}`.
    Manual,
}

/// How an incident ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// `recover_after` consecutive probes succeeded.
    Recovered,
    /// An operator resolved it through the API.
    Operator,
}

/// The outcome of one failover step, after all its attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOutcome {
    /// The step's configured name.
    pub step: String,
    /// How many requests were made (1 + retries used).
    pub attempts: u32,
    /// Whether the last attempt got a 2xx.
    pub ok: bool,
    /// The HTTP status of the last attempt, when one came back.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    /// Why the last attempt failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Time from the first attempt's start to the last attempt's end, in milliseconds.
    pub elapsed_ms: u64,
}

/// One thing that happened to an incident or a service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A service moved between healthy, degraded and unhealthy.
    HealthChanged {
        /// The service.
        service: String,
        /// Its previous health.
        from: Health,
        /// Its new health.
        to: Health,
    },
    /// Consecutive failures reached `alert_after`: the alert.
    IncidentOpened {
        /// The new incident.
        incident: IncidentId,
        /// The failing service.
        service: String,
        /// The severity it opens at.
        severity: Severity,
        /// Consecutive failures at the moment of the alert.
        consecutive_failures: u32,
        /// Set when a person declared the incident (`POST /api/incidents`) rather than the
        /// probes opening it: what they reported. Probes do not resolve a declared incident.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        declared: Option<String>,
    },
    /// The incident got worse; every rise is notified.
    SeverityRaised {
        /// The incident.
        incident: IncidentId,
        /// Its service.
        service: String,
        /// The severity before.
        from: Severity,
        /// The severity now.
        to: Severity,
        /// Why.
        reason: RaiseReason,
    },
    /// An escalation level was paged.
    Paged {
        /// The incident.
        incident: IncidentId,
        /// Its service.
        service: String,
        /// 1-based escalation level.
        level: u32,
        /// Who the level notifies.
        notify: String,
    },
    /// The last escalation level's `ack_timeout` passed with no acknowledgement.
    EscalationExhausted {
        /// The incident.
        incident: IncidentId,
        /// Its service.
        service: String,
    },
    /// Someone acknowledged the incident; escalation stops.
    Acknowledged {
        /// The incident.
        incident: IncidentId,
        /// Its service.
        service: String,
        /// Who acknowledged, as they said.
        by: String,
    },
    /// Failures reached `failover_after` in manual mode: the runner waits for an operator.
    FailoverAwaitingDecision {
        /// The incident.
        incident: IncidentId,
        /// Its service.
        service: String,
    },
    /// A failover was decided; the runner starts its steps.
    FailoverStarted {
        /// The incident.
        incident: IncidentId,
        /// Its service.
        service: String,
        /// What started it.
        trigger: Trigger,
    },
    /// One failover step finished (after its retries).
    FailoverStepFinished {
        /// The incident.
        incident: IncidentId,
        /// Its service.
        service: String,
        /// What happened.
        outcome: StepOutcome,
    },
    /// The failover runner finished: every step succeeded, or one failed and the rest were skipped.
    FailoverFinished {
        /// The incident.
        incident: IncidentId,
        /// Its service.
        service: String,
        /// True when every step succeeded.
        ok: bool,
        /// The step that failed, when one did.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        failed_step: Option<String>,
    },
    /// The incident ended.
    Resolved {
        /// The incident.
        incident: IncidentId,
        /// Its service.
        service: String,
        /// How it ended.
        resolution: Resolution,
    },
}

impl Event {
    /// The incident this event belongs to, if any.
    pub fn incident(&self) -> Option<IncidentId> {
        match self {
            Event::HealthChanged { .. } => None,
            Event::IncidentOpened { incident, .. }
            | Event::SeverityRaised { incident, .. }
            | Event::Paged { incident, .. }
            | Event::EscalationExhausted { incident, .. }
            | Event::Acknowledged { incident, .. }
            | Event::FailoverAwaitingDecision { incident, .. }
            | Event::FailoverStarted { incident, .. }
            | Event::FailoverStepFinished { incident, .. }
            | Event::FailoverFinished { incident, .. }
            | Event::Resolved { incident, .. } => Some(*incident),
        }
    }

    /// The service this event concerns.
    pub fn service(&self) -> &str {
        match self {
            Event::HealthChanged { service, .. }
            | Event::IncidentOpened { service, .. }
            | Event::SeverityRaised { service, .. }
            | Event::Paged { service, .. }
            | Event::EscalationExhausted { service, .. }
            | Event::Acknowledged { service, .. }
            | Event::FailoverAwaitingDecision { service, .. }
            | Event::FailoverStarted { service, .. }
            | Event::FailoverStepFinished { service, .. }
            | Event::FailoverFinished { service, .. }
            | Event::Resolved { service, .. } => service,
        }
    }
}

/// An event with its place in the stream: what the store appends, one JSON line each.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the stream, from 1, gap-free within one store.
    pub seq: u64,
    /// When it happened, by the monitor's clock.
    pub at: Timestamp,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}
