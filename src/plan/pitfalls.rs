//! Known pitfalls of a configuration, as lint findings with a stable code.

use std::time::Duration;

use serde::Serialize;

use crate::report::format_duration;
use crate::scenario::{FailoverMode, FaultKind, Replication, Scenario, StandbyMode};

/// One finding: a stable code name and a sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pitfall {
    /// Stable snake_case code (`monitor_in_watched_region`, `async_rpo_below_lag`,
    /// `async_no_lost_writes`, `ttl_exceeds_rto`, `cold_standby_short_rto`,
    /// `escalation_exceeds_rto`).
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
}

fn pitfall(code: &'static str, message: String) -> Pitfall {
    Pitfall { code, message }
}

/// Every pitfall of `scenario`, in a fixed order.
pub(crate) fn find(scenario: &Scenario) -> Vec<Pitfall> {
    let mut out = Vec::new();
    let t = &scenario.targets;
    if let Some(region) = &scenario.monitor.region {
        let watched: Vec<&str> = scenario
            .services
            .iter()
            .filter(|s| s.primary == *region)
            .map(|s| s.name.as_str())
            .chain(
                scenario.database.as_ref().filter(|d| d.primary == *region).map(|_| "the database primary"),
            )
            .collect();
        if !watched.is_empty() {
            out.push(pitfall(
                "monitor_in_watched_region",
                format!(
                    "the monitor runs in {region}, where {} runs: an outage of {region} takes the monitor \
                     down with what it watches",
                    watched.join(", ")
                ),
            ));
        }
    }
    if let Some(db) =
        scenario.database.as_ref().filter(|d| d.replication == Replication::Async && d.replica.is_some())
    {
        let lag = scenario
            .faults
            .iter()
            .filter_map(|f| match f.kind {
                FaultKind::ReplicationLag { lag, .. } => Some(lag),
                _ => None,
            })
            .fold(db.lag, Duration::max);
        if let Some(rpo) = t.rpo.filter(|&rpo| rpo < lag) {
            out.push(pitfall(
                "async_rpo_below_lag",
                format!(
                    "async replication can lag {} but the RPO target is {}: a failover loses more",
                    format_duration(lag),
                    format_duration(rpo)
                ),
            ));
        }
        if t.lost_writes == Some(0) {
            out.push(pitfall(
                "async_no_lost_writes",
                "async replication with a lost_writes target of 0: a failover loses the writes \
                 not yet shipped"
                    .to_owned(),
            ));
        }
    }
    if let Some(rto) = t.rto {
        if scenario.dns.ttl > rto {
            out.push(pitfall(
                "ttl_exceeds_rto",
                format!(
                    "DNS answers live {} but the RTO target is {}: customers can keep the old address \
                     past the budget",
                    format_duration(scenario.dns.ttl),
                    format_duration(rto)
                ),
            ));
        }
        let hour = Duration::from_secs(3600);
        for s in
            scenario.services.iter().filter(|s| s.standby.is_some() && s.standby_mode == StandbyMode::Cold)
        {
            if rto < hour {
                out.push(pitfall(
                    "cold_standby_short_rto",
                    format!(
                        "{} has a cold standby but the RTO target is {}: a cold start under an hour is \
                         rarely rehearsed and rarely met",
                        s.name,
                        format_duration(rto)
                    ),
                ));
            }
        }
        // Humans are on the critical path when a person must trigger the failover.
        if scenario.monitor.failover == FailoverMode::Manual && !scenario.escalation.is_empty() {
            let (chain, level) = super::respond::chain_before_action(scenario, true);
            if chain > rto {
                let who = match level {
                    Some(l) => format!("level {l}, the first that can act, is paged"),
                    None => "no level can act, and the chain runs out".to_owned(),
                };
                out.push(pitfall(
                    "escalation_exceeds_rto",
                    format!(
                        "the escalation chain waits {} before {who}: longer than the RTO target of {}",
                        format_duration(chain),
                        format_duration(rto)
                    ),
                ));
            }
        }
    }
    out
}
