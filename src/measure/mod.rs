//! Measurements from ground truth: RTO and its phases, lost writes and RPO, availability, and
//! a verdict per target (DESIGN.md section 4).
//!
//! Everything here is pure: [`measure`] reads [`Observations`] (what customers, databases and
//! the pager saw) and the [`Targets`], never the monitor's own account of the incident. All
//! instants are simulated time since the start of the run.

pub mod causes;
pub mod observations;
pub mod phases;
pub mod restore;
pub mod verdict;
pub mod writes;

pub(crate) mod ms;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

pub use causes::FailureCauses;
pub use observations::*;
pub use phases::{Phase, PhaseStatus, Phases, RtoSegment, RtoShare};
pub use restore::Restoration;
pub use verdict::{Quantity, TargetName, TargetVerdict, Verdict};
pub use writes::{ErrorBudget, LostWrites, RequestCounts};

use crate::scenario::Targets;
use verdict::{Outcome, judge_availability, judge_count, judge_duration};

/// Everything measured on one run, and the verdicts.
///
/// Serialized with stable snake_case names, durations as integer milliseconds in `_ms` fields;
/// the JSON report embeds these fields at its top level.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measurement {
    /// No target present was missed (see [`measure`] for why "not applicable" does not fail a
    /// scenario).
    pub passed: bool,
    /// The incident's start: `[targets] incident_start`, else the first fault's `at`.
    #[serde(rename = "t_fault_ms", serialize_with = "ms::opt_ms")]
    pub t_fault: Option<Duration>,
    /// Send time of the first client request that failed at or after `t_fault`.
    #[serde(rename = "first_failure_ms", serialize_with = "ms::opt_ms")]
    pub first_failure: Option<Duration>,
    /// Whether and when customers were restored.
    pub restoration: Restoration,
    /// `t_restored - t_fault`; 0 when no request failed; `None` when there is no fault
    /// (not applicable) or customers were never restored (unbounded).
    #[serde(rename = "rto_ms", serialize_with = "ms::opt_ms")]
    pub rto: Option<Duration>,
    /// `t_fault - ack time of the oldest lost write`, clamped at 0; 0 with no lost write;
    /// `None` when writes were lost with no `t_fault` to measure from.
    #[serde(rename = "rpo_ms", serialize_with = "ms::opt_ms")]
    pub rpo: Option<Duration>,
    /// How many acknowledged writes the serving database does not hold at the end.
    pub lost_writes: u64,
    /// Of the lost writes, those acknowledged after `t_fault` (split-brain writes, or writes a
    /// restore to an earlier point discarded).
    pub split_brain_writes: u64,
    /// Of the lost writes, those committed before the scenario started.
    pub history_lost: HistoryLost,
    /// Restores and drill findings, when the backup system did anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backups: Option<BackupFindings>,
    /// When the oldest lost write was acknowledged.
    #[serde(rename = "oldest_lost_write_ms", serialize_with = "ms::opt_ms")]
    pub oldest_lost_write: Option<Duration>,
    /// Successful / total client requests over the run; `None` without requests.
    pub availability: Option<f64>,
    /// Failed / total client requests over the run; `None` without requests.
    pub error_rate: Option<f64>,
    /// Request counts.
    pub requests: RequestCounts,
    /// The error budget of the availability target, when there is one.
    pub error_budget: Option<ErrorBudget>,
    /// The five phases.
    pub phases: Phases,
    /// The segment of the RTO that took longest.
    pub dominant_phase: Option<RtoSegment>,
    /// The RTO split into consecutive segments along the critical path: detect, respond,
    /// mitigate, recover (empty unless restored after `t_fault`).
    pub rto_breakdown: Vec<RtoShare>,
    /// Why the client requests sent at or after `t_fault` failed (over the whole run when there
    /// is no `t_fault`), including those sent after restoration.
    pub failure_causes: FailureCauses,
    /// Why the client requests sent during the recover phase (failover completed, inclusive, to
    /// restored, exclusive) failed; `None` when the recover phase was not measured.
    pub recover_causes: Option<FailureCauses>,
    /// A verdict per target present in `[targets]`, in [`TargetName`] order.
    pub targets: BTreeMap<TargetName, TargetVerdict>,
    /// The restoration window used.
    #[serde(rename = "window_ms", serialize_with = "ms::ms")]
    pub window: Duration,
    /// The restoration success threshold used.
    pub success_threshold: f64,
    /// Remarks a reader needs to interpret the numbers (deterministic text).
    pub notes: Vec<String>,
}

impl Measurement {
    /// Whether a restore from backups completed after the fault: writes acknowledged after the
    /// fault and lost were then discarded by it, not split-brain writes.
    pub fn restored_from_backup(&self) -> bool {
        self.backups.as_ref().is_some_and(|b| b.restore.is_some())
    }

    /// The targets that were missed, in report order.
    pub fn missed(&self) -> impl Iterator<Item = (TargetName, &TargetVerdict)> {
        self.targets.iter().filter(|(_, v)| v.verdict.is_missed()).map(|(n, v)| (*n, v))
    }
}

/// What the backup system did, measured against the incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackupFindings {
    /// The first restore that completed at or after `t_fault`.
    pub restore: Option<RestoreRecord>,
    /// `t_fault - restore point`: how much history the restore gave up (the RPO the backups
    /// allowed, before counting what customers wrote while the corruption stood).
    #[serde(rename = "restore_point_age_ms", serialize_with = "ms::opt_ms")]
    pub restore_point_age: Option<Duration>,
    /// Drills that found corrupt copies.
    pub drill_findings: Vec<DrillFinding>,
    /// How long before `t_fault` the first drill finding came (none after it counts).
    #[serde(rename = "caught_before_incident_ms", serialize_with = "ms::opt_ms")]
    pub caught_before_incident: Option<Duration>,
}

impl BackupFindings {
    fn of(record: &BackupRecord, t_fault: Option<Duration>) -> Option<BackupFindings> {
        if record.restores.is_empty() && record.drill_findings.is_empty() {
            return None;
        }
        let t0 = t_fault.map(|t| i64::try_from(t.as_millis()).unwrap_or(i64::MAX));
        let restore = record.restores.iter().find(|r| t_fault.is_none_or(|t| r.started >= t)).cloned();
        let age =
            |from: i64, to: i64| (to >= from).then(|| Duration::from_millis((to - from).unsigned_abs()));
        Some(BackupFindings {
            restore_point_age: restore.as_ref().zip(t0).and_then(|(r, t0)| age(r.point_ms, t0)),
            restore,
            caught_before_incident: record
                .drill_findings
                .first()
                .zip(t0)
                .and_then(|(f, t0)| age(f.found_ms, t0)),
            drill_findings: record.drill_findings.clone(),
        })
    }
}

/// Measures one run (DESIGN.md section 4).
///
/// - `faults_at`: the injection time of every scripted fault (any order). `t_fault` is
///   `targets.incident_start`, else the earliest of them; with neither, RTO and the phases are
///   not applicable.
/// - `window`, `success_threshold`: "restored" means at least this success ratio over every
///   window of this length from `t_restored` on (see [`restore`] for the exact rule, including
///   how a later fault bounds the windows judged).
/// - The run ends at `obs.duration`: a window that does not fit before it is never judged.
///
/// Decisions where DESIGN.md is silent:
/// - No client request failed at or after `t_fault`: customers saw no outage, RTO is 0.
/// - A phase whose end event never happened is unbounded and misses its target; one that cannot
///   start for lack of a fault, or `recover` when customers were restored without (or before) a
///   completed failover, is not applicable.
/// - Lost writes acknowledged after `t_fault` count as lost but clamp the RPO at 0.
/// - Failure causes (see [`causes`]) compare each failed request's host with the service's DNS
///   record at its send time; the recover phase's requests are those sent from the failover's
///   completion up to (not including) the restoration instant.
/// - `passed` is true when no verdict is `Missed`: not applicable means "cannot be judged on
///   this run" (no fault, no traffic, no failover on the path to restoration), which is not a
///   regression the scenario could catch; everything that did not happen but should have is
///   `Missed`, so nothing silently passes by not occurring.
pub fn measure(
    obs: &Observations,
    targets: &Targets,
    faults_at: &[Duration],
    window: Duration,
    success_threshold: f64,
) -> Measurement {
    let first_fault = faults_at.iter().copied().min();
    let t_fault = targets.incident_start.or(first_fault);
    let (first_failure, restoration) =
        restore::restoration(&obs.requests, t_fault, faults_at, obs.duration, window, success_threshold);
    let rto = match (restoration, t_fault) {
        (Restoration::NoOutage, _) => Some(Duration::ZERO),
        (Restoration::Restored { at }, Some(t0)) => Some(at.saturating_sub(t0)),
        _ => None,
    };
    let phases = phases::phases(&obs.events, t_fault, restoration);
    let rto_breakdown = phases::rto_breakdown(&obs.events, t_fault, restoration, &phases);
    let dominant_phase = phases::dominant(&rto_breakdown);
    let dns = causes::DnsHistory::of(&obs.events);
    let failure_causes = causes::failure_causes(&obs.requests, &dns, t_fault.unwrap_or_default()..);
    let recover_causes = match (phases.recover.status, phases.recover.from, phases.recover.to) {
        (PhaseStatus::Measured, Some(done), Some(restored)) => {
            Some(causes::failure_causes(&obs.requests, &dns, done..restored))
        }
        _ => None,
    };
    let lost = writes::with_history(
        writes::lost_writes(&obs.requests, &obs.final_writes, t_fault),
        obs.history_lost,
        t_fault,
    );
    let requests = RequestCounts::of(&obs.requests);
    let availability = requests.availability();
    let error_budget = targets.availability.map(|a| ErrorBudget::of(a, requests));

    let clock = crate::report::format_clock;
    let mut notes = Vec::new();
    match (targets.incident_start, first_fault) {
        (Some(start), Some(first)) if start != first => notes.push(format!(
            "t_fault is [targets] incident_start ({}), not the first fault ({})",
            clock(start),
            clock(first)
        )),
        _ => {}
    }
    match restoration {
        Restoration::NoFault => notes.push(
            "no fault was injected and no incident_start was set: RTO and the phases are not \
             applicable"
                .into(),
        ),
        Restoration::NoOutage => {
            notes.push("no client request failed after the fault: customers saw no outage, RTO is 0".into())
        }
        Restoration::NeverRestored => notes.push(format!(
            "customers were never restored: the success ratio did not stay at or above {} over \
             every {} window before the end of the run",
            format_ratio(success_threshold),
            crate::report::format_duration(window)
        )),
        Restoration::Restored { .. } => {}
    }
    let backups = BackupFindings::of(&obs.backups, t_fault);
    let restored = backups.as_ref().is_some_and(|b| b.restore.is_some());
    if lost.split_brain > 0 && restored {
        notes.push(format!(
            "{} lost write(s) were acknowledged after the fault, by the database the restore \
             replaced: they count as lost writes but do not raise the RPO",
            lost.split_brain
        ));
    } else if lost.split_brain > 0 {
        notes.push(format!(
            "{} lost write(s) were acknowledged after the fault (split-brain); they count as \
             lost writes but do not raise the RPO, which is clamped at 0",
            lost.split_brain
        ));
    }
    if let (rows @ 1.., Some(before)) = (obs.history_lost.rows, obs.history_lost.oldest_before_start) {
        notes.push(format!(
            "{rows} of the lost writes were committed before the scenario started, the oldest {} \
             before it; they set the RPO",
            crate::report::format_duration(before)
        ));
    }
    if lost.count > 0 && t_fault.is_none() {
        notes.push(format!(
            "{} acknowledged write(s) were lost with no fault to measure the RPO from",
            lost.count
        ));
    }

    let mut verdicts = BTreeMap::new();
    let duration_targets = [
        (TargetName::Rto, targets.rto),
        (TargetName::Rpo, targets.rpo),
        (TargetName::Detect, targets.detect),
        (TargetName::Page, targets.page),
        (TargetName::Acknowledge, targets.acknowledge),
        (TargetName::Mitigate, targets.mitigate),
        (TargetName::Recover, targets.recover),
    ];
    for (name, target) in duration_targets {
        let Some(target) = target else { continue };
        let outcome = match name {
            TargetName::Rto => match restoration {
                Restoration::NoFault => Outcome::NotApplicable(
                    "no fault was injected, so there was no outage to restore from".into(),
                ),
                Restoration::NeverRestored => Outcome::Unbounded("customers were never restored".into()),
                Restoration::NoOutage | Restoration::Restored { .. } => {
                    Outcome::Value(rto.unwrap_or_default())
                }
            },
            TargetName::Rpo => match lost.rpo {
                Some(rpo) => Outcome::Value(rpo),
                None => Outcome::Unbounded(format!(
                    "{} acknowledged write(s) were lost with no fault to measure from",
                    lost.count
                )),
            },
            TargetName::Detect => phase_outcome(&phases.detect),
            TargetName::Page => phase_outcome(&phases.page),
            TargetName::Acknowledge => phase_outcome(&phases.acknowledge),
            TargetName::Mitigate => phase_outcome(&phases.mitigate),
            TargetName::Recover => phase_outcome(&phases.recover),
            TargetName::Availability | TargetName::LostWrites => continue,
        };
        verdicts.insert(name, judge_duration(target, outcome));
    }
    if let Some(a) = targets.availability {
        verdicts.insert(TargetName::Availability, judge_availability(a, availability));
    }
    if let Some(most) = targets.lost_writes {
        verdicts.insert(TargetName::LostWrites, judge_count(most, lost.count));
    }
    let passed = !verdicts.values().any(|v| v.verdict.is_missed());

    Measurement {
        passed,
        t_fault,
        first_failure,
        restoration,
        rto,
        rpo: lost.rpo,
        lost_writes: lost.count,
        split_brain_writes: lost.split_brain,
        history_lost: obs.history_lost,
        backups,
        oldest_lost_write: lost.oldest_ack,
        availability,
        error_rate: requests.error_rate(),
        requests,
        error_budget,
        phases,
        dominant_phase,
        rto_breakdown,
        failure_causes,
        recover_causes,
        targets: verdicts,
        window,
        success_threshold,
        notes,
    }
}

fn phase_outcome(phase: &Phase) -> Outcome {
    let why = || phase.note.clone().unwrap_or_default();
    match phase.status {
        PhaseStatus::Measured => Outcome::Value(phase.duration.unwrap_or_default()),
        PhaseStatus::Never => Outcome::Unbounded(why()),
        PhaseStatus::NotApplicable => Outcome::NotApplicable(why()),
    }
}

/// A ratio as a percentage with at most three decimals and no trailing zeros (`0.999` ->
/// `99.9%`, `1.0` -> `100%`).
pub fn format_ratio(ratio: f64) -> String {
    let s = format!("{:.3}", ratio * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}
