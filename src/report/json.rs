//! The machine-readable report (`--format json`): stable snake_case names, durations as
//! integer milliseconds in `_ms` fields, deterministic key order (struct order and `BTreeMap`).
//!
//! Top level, in order: `scenario`, `path`, `seed`, then every field of
//! [`Measurement`] (`passed`, `t_fault_ms`, `first_failure_ms`,
//! `restoration`, `rto_ms`, `rpo_ms`, `lost_writes`, `split_brain_writes`, `history_lost`
//! (`rows`, `oldest_before_start_ms`), `backups` (only when a restore completed or a drill found
//! something: `restore`, `restore_point_age_ms`, `drill_findings`, `caught_before_incident_ms`;
//! instants before the start as negative `point_ms`/`found_ms`), `oldest_lost_write_ms`, `availability`, `error_rate`, `requests`, `error_budget`, `phases`,
//! `dominant_phase`, `rto_breakdown`, `failure_causes`, `recover_causes`, `targets`,
//! `window_ms`, `success_threshold`, `notes`), then `timeline`, then `plan_violations` (measured
//! phases outside `gameday plan`'s bounds: `phase`, `measured_ms`, `best_ms`, `worst_ms`; empty
//! normally). `failure_causes` is
//! `{"stale_dns", "current_target", "unresolved"}`; `recover_causes` is the same or `null`.

use serde::Serialize;

use super::{Report, TimelineEntry};
use crate::measure::Measurement;

#[derive(Serialize)]
struct JsonReport<'a> {
    scenario: &'a str,
    path: &'a str,
    seed: u64,
    #[serde(flatten)]
    measurement: &'a Measurement,
    timeline: &'a [TimelineEntry],
    plan_violations: &'a [crate::plan::Violation],
}

/// Renders the report as pretty-printed JSON (two-space indent, no trailing newline).
pub fn render(report: &Report) -> String {
    let view = JsonReport {
        scenario: &report.scenario,
        path: &report.path,
        seed: report.seed,
        measurement: &report.measurement,
        timeline: &report.timeline,
        plan_violations: &report.plan_violations,
    };
    // Serializing plain data into a String cannot fail: no map has non-string keys and no
    // serializer here returns an error.
    serde_json::to_string_pretty(&view).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
