//! The RPO bound, from the replication mode and lag.

use std::time::Duration;

use crate::scenario::{FaultKind, Replication, Scenario};

use super::timing::Network;
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
pub(crate) fn bound(scenario: &Scenario, t0: Duration, net: Network) -> PhaseBound {
    // Shipping can stop (or a promotion start) only at a fault that reaches the database, its
    // hosts or the monitor; caches, capacity, humans and a lag change lose nothing by
    // themselves.
    let first_fault = scenario
        .faults
        .iter()
        .filter(|f| {
            !matches!(
                f.kind,
                FaultKind::DnsTtlOverrun { .. }
                    | FaultKind::ResponderAbsent { .. }
                    | FaultKind::CapacityLimit { .. }
                    | FaultKind::ReplicationLag { .. }
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
            let lag = scenario
                .faults
                .iter()
                .filter_map(|f| match f.kind {
                    FaultKind::ReplicationLag { lag, .. } => Some(lag),
                    _ => None,
                })
                .fold(d.lag, Duration::max);
            let slack = net.hop * 2 + Duration::from_secs(1);
            let worst = (lag + slack + t0).saturating_sub(first_fault);
            (worst, "async replication: up to the largest lag of writes may be lost")
        }
    };
    PhaseBound {
        phase: PhaseName::Rpo,
        bound: Some(Bound { best: Duration::ZERO, worst: Some(worst) }),
        notes: vec![note.to_owned()],
    }
}
