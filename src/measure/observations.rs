//! Ground truth collected by the simulated world: what customers, the database and the pager
//! saw. Measurements are computed from this alone, never from the monitor's own account.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;

/// Read or write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A read.
    Read,
    /// A write.
    Write,
}

/// One customer request, as the client saw it. Times are simulated time since the start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// When it was sent.
    pub sent: Duration,
    /// When the answer (or the failure) came.
    pub done: Duration,
    /// The service it went to.
    pub service: String,
    /// Read or write.
    pub kind: RequestKind,
    /// Whether the client saw success (2xx).
    pub ok: bool,
    /// For writes: the write's id (acknowledged when `ok`).
    pub write_id: Option<u64>,
    /// The host DNS sent the customer to (`None` when the name did not resolve).
    pub host: Option<String>,
}

/// Something the world saw happen, for the timeline and the phase measurements.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WorldEvent {
    /// Simulated time since the start.
    pub at: Duration,
    /// Who saw it: `fault`, `pager`, `responder:<name>`, `db:<host>`, `dns`, `app:<host>`, `clients`.
    pub source: String,
    /// What kind of thing: see [`WorldEventKind`].
    pub kind: WorldEventKind,
    /// Human details (deterministic text: no wall clock, no raw headers).
    pub details: String,
}

/// The kinds of world events the measurements use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorldEventKind {
    /// A fault was injected.
    FaultInjected,
    /// A fault was cleared.
    FaultCleared,
    /// An alert (the incident-opened notification) reached the pager.
    AlertReceived,
    /// Any other notification reached the pager.
    NotificationReceived,
    /// A page (PagerDuty trigger for an escalation level) reached the pager.
    PageReceived,
    /// A responder's acknowledgement was accepted by the monitor's API.
    Acknowledged,
    /// A responder triggered a manual failover and the monitor accepted it.
    FailoverRequested,
    /// The first action of a failover reached the world (a promote, scale-up or DNS-update call,
    /// or a DNS health check switching a record): the end of deciding, the start of mitigating.
    RunbookStarted,
    /// A replica finished promotion.
    Promoted,
    /// A node learned a higher epoch and was fenced.
    Fenced,
    /// A DNS record changed.
    DnsChanged,
    /// A standby finished scaling up and can serve.
    ScaledUp,
    /// A service restarted.
    Restarted,
    /// The failover reached its final effect (everything the runbook does has taken effect).
    FailoverCompleted,
}

/// Everything one simulated run recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Observations {
    /// The seed of the run.
    pub seed: u64,
    /// Simulated time the run covered.
    pub duration: Duration,
    /// Every customer request, ordered by `sent`.
    pub requests: Vec<RequestRecord>,
    /// Ids of the writes the serving database holds at the end.
    pub final_writes: BTreeSet<u64>,
    /// The host of the database serving at the end.
    pub serving_db: Option<String>,
    /// World events, ordered by time (stable).
    pub events: Vec<WorldEvent>,
}
