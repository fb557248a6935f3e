//! Lost writes and RPO; request counts, availability and the error budget.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;

use super::{RequestRecord, ms};

/// Acknowledged writes the serving database does not hold at the end.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LostWrites {
    /// Distinct write ids a client saw acknowledged (`ok`) that are missing at the end.
    pub count: u64,
    /// Of those, how many were acknowledged after `t_fault` (split-brain writes, taken by an
    /// old primary that had not learned it was fenced). They are lost writes but do not raise
    /// the RPO, which is clamped at zero.
    pub split_brain: u64,
    /// When the oldest lost write was acknowledged (the client's `done`).
    #[serde(rename = "oldest_ack_ms", serialize_with = "ms::opt_ms")]
    pub oldest_ack: Option<Duration>,
    /// `t_fault - oldest_ack`, clamped at zero; zero with no lost write; `None` when writes were
    /// lost but there is no `t_fault` to measure from.
    #[serde(rename = "rpo_ms", serialize_with = "ms::opt_ms")]
    pub rpo: Option<Duration>,
}

/// Finds the lost writes. A write is identified by its id; when the same id was acknowledged
/// more than once, its earliest acknowledgement counts.
pub(crate) fn lost_writes(
    requests: &[RequestRecord],
    final_writes: &BTreeSet<u64>,
    t_fault: Option<Duration>,
) -> LostWrites {
    let mut lost: BTreeMap<u64, Duration> = BTreeMap::new();
    for r in requests.iter().filter(|r| r.ok) {
        if let Some(id) = r.write_id.filter(|id| !final_writes.contains(id)) {
            lost.entry(id).and_modify(|d| *d = (*d).min(r.done)).or_insert(r.done);
        }
    }
    let count = lost.len() as u64;
    let oldest_ack = lost.values().copied().min();
    let split_brain = match t_fault {
        Some(t0) => lost.values().filter(|&&done| done > t0).count() as u64,
        None => 0,
    };
    let rpo = match (oldest_ack, t_fault) {
        (None, _) => Some(Duration::ZERO),
        (Some(oldest), Some(t0)) => Some(t0.saturating_sub(oldest)),
        (Some(_), None) => None,
    };
    LostWrites { count, split_brain, oldest_ack, rpo }
}

/// Adds the rows from before the scenario's start that are missing at the end: they are lost
/// writes too, and the oldest of them sets the RPO when it is older than any lost write of the
/// run (it was acknowledged `oldest_before_start` before the start).
pub(crate) fn with_history(
    mut lost: LostWrites,
    history: super::HistoryLost,
    t_fault: Option<Duration>,
) -> LostWrites {
    if history.rows == 0 {
        return lost;
    }
    lost.count += history.rows;
    lost.rpo = match (t_fault, history.oldest_before_start) {
        (Some(t0), Some(before)) => Some(lost.rpo.unwrap_or_default().max(t0 + before)),
        _ => None,
    };
    lost
}

/// Client requests over the whole run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    /// Every request the clients sent (and recorded).
    pub total: u64,
    /// Requests the client saw succeed.
    pub ok: u64,
    /// Requests that failed (error status, refused, timed out).
    pub failed: u64,
}

impl RequestCounts {
    pub(crate) fn of(requests: &[RequestRecord]) -> RequestCounts {
        let ok = requests.iter().filter(|r| r.ok).count() as u64;
        let total = requests.len() as u64;
        RequestCounts { total, ok, failed: total - ok }
    }

    /// `ok / total`; `None` without requests.
    pub fn availability(&self) -> Option<f64> {
        (self.total > 0).then(|| self.ok as f64 / self.total as f64)
    }

    /// `failed / total`: the share of requests that burned error budget; `None` without
    /// requests.
    pub fn error_rate(&self) -> Option<f64> {
        (self.total > 0).then(|| self.failed as f64 / self.total as f64)
    }
}

/// The error budget an availability target allows over this run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ErrorBudget {
    /// The availability target, 0..=1.
    pub target: f64,
    /// Failed requests the target allows: `(1 - target) * total`.
    pub allowed_failures: f64,
    /// `failed / allowed_failures` (1.0 = the whole budget). `None` when the budget is zero and
    /// something failed (an infinite burn).
    pub burned: Option<f64>,
}

impl ErrorBudget {
    pub(crate) fn of(target: f64, counts: RequestCounts) -> ErrorBudget {
        let allowed_failures = (1.0 - target) * counts.total as f64;
        let burned = if allowed_failures > 0.0 {
            Some(counts.failed as f64 / allowed_failures)
        } else if counts.failed == 0 {
            Some(0.0)
        } else {
            None
        };
        ErrorBudget { target, allowed_failures, burned }
    }
}
