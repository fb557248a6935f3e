//! The RPO bound, from the replication mode and lag, and from what a bad delete takes and a
//! restore from backups brings back.

use std::time::Duration;

use crate::backup::Ms;
use crate::scenario::{FaultKind, Replication, Scenario};

use super::timing::Network;
use super::windows::RestoreWindow;
use super::{Bound, PhaseBound, PhaseName};

/// The RPO: `t_fault` less the acknowledgement of the oldest lost write (clamped at zero).
///
/// - No database: nothing stores a write, so every acknowledged one counts as lost; the oldest
///   was acknowledged after the start, so the RPO is at most `t_fault`.
/// - No replica, or sync replication: an acknowledged write is on the node that serves at the
///   end (sync: the replica acknowledged it before the client heard back), so nothing is lost.
/// - Async: the replica has every write committed more than the largest lag (the scenario's
///   or a `replication_lag` fault's) before shipping stopped, which is no earlier than the
///   first fault that can stop shipping; a record in flight and the shipper's wake-up add a little.
///
/// A bad delete loses the rows it selects until a restore brings them back; the oldest may
/// be the first row of the database's history (see [`deleted`]).
pub(crate) fn bound(
    scenario: &Scenario,
    t0: Duration,
    net: Network,
    restore: Option<&RestoreWindow>,
) -> PhaseBound {
    // Shipping can stop (or a promotion start) only at a fault that reaches the database, its
    // hosts or the monitor; caches, capacity, humans and a lag change lose nothing by
    // themselves.
    let first_fault = scenario
        .faults
        .iter()
        .filter(|f| {
            !f.kind.is_latent()
                && !matches!(
                    f.kind,
                    FaultKind::DnsTtlOverrun { .. }
                        | FaultKind::ResponderAbsent { .. }
                        | FaultKind::CapacityLimit { .. }
                        | FaultKind::ReplicationLag { .. }
                        | FaultKind::BadDelete { .. }
                )
        })
        .map(|f| f.at)
        .min()
        .unwrap_or(t0);
    let (worst, note) = match &scenario.database {
        None => (t0, "no database: every acknowledged write counts as lost"),
        Some(d) if d.replica.is_none() => (Duration::ZERO, "no replica: the primary keeps every write"),
        Some(d) if d.replication == Replication::Sync => {
            (Duration::ZERO, "sync replication: every acknowledged write is on the replica")
        }
        Some(d) => {
            let lag = largest_lag(scenario, d);
            let slack = net.hop * 2 + Duration::from_secs(1);
            let worst = (lag + slack + t0).saturating_sub(first_fault);
            (worst, "async replication: up to the largest lag of writes may be lost")
        }
    };
    let replicated = Bound { best: Duration::ZERO, worst: Some(worst) };
    let (bound, note) = match deleted(scenario, t0, restore) {
        None => (replicated, note.to_owned()),
        // The restored node is what serves at the end, and its replica is re-seeded from it.
        Some((b, Settled::ByRestore, why)) => (b, why),
        Some((b, Settled::No, why)) => {
            (Bound { best: b.best, worst: b.worst.zip(replicated.worst).map(|(a, r)| a.max(r)) }, why)
        }
    };
    PhaseBound { phase: PhaseName::Rpo, bound: Some(bound), notes: vec![note] }
}

/// Whether a restore decides what the database holds at the end.
enum Settled {
    ByRestore,
    No,
}

/// `t_fault - point`, for a signed point.
fn since(t0: Duration, point: Ms) -> Duration {
    let t0 = crate::backup::ms(t0);
    Duration::from_millis(u64::try_from(t0.saturating_sub(point)).unwrap_or(0))
}

/// The RPO a bad delete allows, when one is scripted.
///
/// Without a restore sure to complete in the run, the rows it deletes stay lost: the oldest
/// may be the first row of the history (`t_fault + history`; without backups there is no
/// history, and the oldest is a write of the run). A restore to a point loses every row
/// committed after it, and no row before it: the RPO is at most `t_fault - point` for the
/// oldest point the verified chain can hold. It is at least that for the newest point, less
/// the spacing of history rows (they commit evenly, `rate x write_ratio x services` a second),
/// when history rows exist after that point; customers' writes are random draws and promise
/// nothing. A second bad delete leaves the rows of the first lost.
fn deleted(
    scenario: &Scenario,
    t0: Duration,
    restore: Option<&RestoreWindow>,
) -> Option<(Bound, Settled, String)> {
    let deletes = scenario.faults.iter().filter(|f| matches!(f.kind, FaultKind::BadDelete { .. })).count();
    if deletes == 0 {
        return None;
    }
    let history = scenario.backups.as_ref().map_or(Duration::ZERO, |b| b.history);
    let forever = t0 + history;
    let sure = restore.filter(|r| r.only && r.completion.hi.is_some_and(|h| h <= scenario.duration));
    let Some(r) = sure else {
        let why = if restore.is_some() {
            "a bad delete loses its rows until a restore brings them back, and the restore is not sure to complete \
             in the run"
        } else {
            "a bad delete loses its rows for good: nothing restores them"
        };
        return Some((Bound { best: Duration::ZERO, worst: Some(forever) }, Settled::No, why.to_owned()));
    };
    let rate = scenario.traffic.rate * scenario.traffic.write_ratio * scenario.services.len() as f64;
    let spacing: Ms = if rate > 0.0 { ((1000.0 / rate).ceil() as Ms).saturating_add(1) } else { Ms::MAX };
    let best = if !history.is_zero() && r.newest.saturating_add(spacing.saturating_mul(2)) < 0 {
        since(t0, r.newest.saturating_add(spacing))
    } else {
        Duration::ZERO
    };
    let worst = if deletes > 1 { forever.max(since(t0, r.oldest)) } else { since(t0, r.oldest) };
    let why = format!(
        "a restore to between {} and {} loses every row committed after its point",
        crate::report::format_offset(r.oldest),
        crate::report::format_offset(r.newest)
    );
    Some((Bound { best: best.min(worst), worst: Some(worst) }, Settled::ByRestore, why))
}

/// The largest async replication lag the run can see: the configured one or a
/// `replication_lag` fault's.
pub(crate) fn largest_lag(scenario: &Scenario, database: &crate::scenario::Database) -> Duration {
    scenario
        .faults
        .iter()
        .filter_map(|f| match f.kind {
            FaultKind::ReplicationLag { lag, .. } => Some(lag),
            _ => None,
        })
        .fold(database.lag, Duration::max)
}
