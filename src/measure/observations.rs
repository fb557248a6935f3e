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
    /// A statement deleted rows.
    RowsDeleted,
    /// Support declared an incident with the monitor on a customer report.
    IncidentDeclared,
    /// A scheduled backup copy reached the object store.
    BackupTaken,
    /// A scheduled backup copy could not be stored.
    BackupFailed,
    /// A restore drill verified the chain it restored.
    DrillPassed,
    /// A restore drill found a corrupt copy.
    DrillFailed,
    /// A restore's verification failed (or no chain was left to try).
    RestoreFailed,
    /// A database was restored from its backups.
    Restored,
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
    /// Rows committed before the scenario started that the serving database does not hold at
    /// the end (a restore to an older point, a delete never undone).
    pub history_lost: HistoryLost,
    /// What the backup system did: restores and the drills that found something.
    pub backups: BackupRecord,
}

/// Restores and drill findings, as the database and the object store saw them. Instants
/// before the scenario's start are negative: they are signed milliseconds from it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BackupRecord {
    /// Every restore that completed, in order.
    pub restores: Vec<RestoreRecord>,
    /// Every drill that found a corrupt copy, in order.
    pub drill_findings: Vec<DrillFinding>,
}

/// One completed restore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RestoreRecord {
    /// When it began.
    #[serde(rename = "started_ms", serialize_with = "super::ms::ms")]
    pub started: Duration,
    /// When the restored database served again.
    #[serde(rename = "finished_ms", serialize_with = "super::ms::ms")]
    pub finished: Duration,
    /// The instant the restored data reaches (signed ms from the start).
    pub point_ms: i64,
    /// What was applied, in words.
    pub chain: String,
    /// Chains that failed verification before this one.
    pub fallbacks: u32,
}

/// A drill that found a corrupt copy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DrillFinding {
    /// When the drill found it (signed ms from the start).
    pub found_ms: i64,
    /// The copy, in words.
    pub copy: String,
}

/// Rows from before the scenario's start missing at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HistoryLost {
    /// How many.
    pub rows: u64,
    /// How long before the start the oldest of them was committed.
    #[serde(rename = "oldest_before_start_ms", serialize_with = "super::ms::opt_ms")]
    pub oldest_before_start: Option<Duration>,
}
