//! Known pitfalls of a configuration, as lint findings with a stable code.

use std::time::Duration;

use serde::Serialize;

use crate::backup::{self, ms};
use crate::report::format_duration;
use crate::scenario::{Backups, FailoverMode, FaultKind, Replication, Runbook, Scenario, StandbyMode};

/// One finding: a stable code name and a sentence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pitfall {
    /// Stable snake_case code (`monitor_in_watched_region`, `async_rpo_below_lag`,
    /// `async_no_lost_writes`, `ttl_exceeds_rto`, `cold_standby_short_rto`,
    /// `escalation_exceeds_rto`, `backups_in_primary_region`, `backup_interval_exceeds_rpo`,
    /// `backups_never_verified`, `restore_slower_than_rto`).
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
        let lag = super::rpo::largest_lag(scenario, db);
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
        // Humans are on the critical path when a person must trigger the failover (or a
        // restore, which nobody automates).
        let manual = scenario.monitor.failover == FailoverMode::Manual
            || scenario.services.iter().any(|s| s.runbook == Runbook::Restore);
        if manual && !scenario.escalation.is_empty() {
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
    if let Some(b) = &scenario.backups {
        backup_pitfalls(scenario, b, &mut out);
    }
    out
}

fn backup_pitfalls(scenario: &Scenario, b: &Backups, out: &mut Vec<Pitfall>) {
    let t = &scenario.targets;
    if let Some(db) = scenario.database.as_ref().filter(|d| d.primary == b.store) {
        out.push(pitfall(
            "backups_in_primary_region",
            format!(
                "backup copies are stored in {}, the database primary's region: an outage of {} takes the \
                 database and its backups together",
                b.store, db.primary
            ),
        ));
    }
    if let (None, Some(rpo)) = (b.wal_archive, t.rpo) {
        if let Some((age, at)) = restore_point_age(scenario, b).filter(|(age, _)| *age > rpo) {
            out.push(pitfall(
                "backup_interval_exceeds_rpo",
                format!(
                    "without WAL archiving a restore goes back to a copy, {} old {at}, but the RPO target \
                     is {}",
                    format_duration(age),
                    format_duration(rpo)
                ),
            ));
        }
    }
    if b.drill.is_none() {
        out.push(pitfall(
            "backups_never_verified",
            "no restore drill ever verifies a backup copy: a corrupt one is found only by the restore that \
             needs it"
                .to_owned(),
        ));
    }
    if let Some(rto) = t.rto {
        let full = (b.restore_rate > 0.0).then(|| b.size as f64 / b.restore_rate);
        if let Some(full) = full.filter(|&f| f.is_finite() && f > rto.as_secs_f64()) {
            out.push(pitfall(
                "restore_slower_than_rto",
                format!(
                    "restoring the full backup alone takes {} at the restore rate, longer than the RTO target \
                     of {}",
                    format_duration(Duration::from_secs_f64(full.min(1e12))),
                    format_duration(rto)
                ),
            ));
        }
    }
}

/// How old the newest copy a restore could reach is: at the newest scripted bad delete (the
/// oldest age among them), or, without one, the widest gap between two copies in the run.
fn restore_point_age(scenario: &Scenario, b: &Backups) -> Option<(Duration, String)> {
    let schedule = backup::schedule(b, ms(scenario.duration));
    let age_at = |at: Duration| {
        let newest = schedule.iter().map(|c| c.1).filter(|&taken| taken < ms(at)).max()?;
        Some(Duration::from_millis(u64::try_from(ms(at) - newest).unwrap_or(0)))
    };
    let deletes = scenario.faults.iter().filter(|f| matches!(f.kind, FaultKind::BadDelete { .. }));
    let at_deletes = deletes
        .filter_map(|f| Some((age_at(f.at)?, format!("at the bad delete at {}", format_duration(f.at)))))
        .max_by_key(|(age, _)| *age);
    at_deletes.or_else(|| {
        let widest = schedule.windows(2).map(|w| w[1].1 - w[0].1).max()?;
        let widest = Duration::from_millis(u64::try_from(widest).unwrap_or(0));
        Some((widest, "just before the next copy (copies are up to that far apart)".to_owned()))
    })
}
