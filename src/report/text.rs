//! The human report: the seed first, the verdict table, the phases, the customers' numbers,
//! the incident timeline, and the command that reproduces the run.

use std::fmt::Write as _;

use super::{Report, format_clock, format_duration};
use crate::measure::{
    Measurement, Phase, PhaseStatus, Quantity, Restoration, TargetName, TargetVerdict, Verdict,
    WorldEventKind, format_ratio,
};

/// Renders the report for people. Line 1 is `scenario <name> (<path>) seed <seed>`; the last
/// line is `reproduce: gameday run <path> --seed <seed>`. Ends with a newline.
pub fn render(report: &Report) -> String {
    let m = &report.measurement;
    let mut out = String::new();
    let _ = writeln!(out, "scenario {} ({}) seed {}", report.scenario, report.path, report.seed);

    let total = m.targets.len();
    let missed = m.missed().count();
    let not_applicable =
        m.targets.values().filter(|v| matches!(v.verdict, Verdict::NotApplicable { .. })).count();
    let result = if total == 0 {
        "result: PASSED (no target declared: nothing asserted)".to_string()
    } else if missed == 0 {
        let na =
            if not_applicable > 0 { format!(", {not_applicable} not applicable") } else { String::new() };
        format!("result: PASSED, {} of {total} targets met{na}", total - not_applicable)
    } else {
        format!("result: FAILED, {missed} of {total} targets missed")
    };
    let _ = writeln!(out, "{result}");

    if total > 0 {
        let _ = writeln!(out, "\ntargets");
        let mut rows = vec![row(["target", "measured", "target", "verdict", "by", "why"])];
        for (name, v) in &m.targets {
            rows.push(vec![
                name.to_string(),
                measured_cell(v),
                quantity(v.target),
                match v.verdict {
                    Verdict::Met { .. } => "met",
                    Verdict::Missed { .. } => "MISSED",
                    Verdict::NotApplicable { .. } => "n/a",
                }
                .to_string(),
                by_cell(&v.verdict),
                v.verdict.why().unwrap_or("").to_string(),
            ]);
        }
        table(&mut out, &rows);
    }

    let _ = writeln!(out, "\nincident");
    let mut rows = Vec::new();
    let clock_or = |d: Option<std::time::Duration>, none: &str| d.map_or(none.into(), format_clock);
    rows.push(row(["fault (t_fault)", &clock_or(m.t_fault, "none")]));
    rows.push(row(["first failed request", &clock_or(m.first_failure, "none")]));
    let restored = match m.restoration {
        Restoration::NoFault => "not applicable (no fault)".to_string(),
        Restoration::NoOutage => "no outage seen by customers".to_string(),
        Restoration::NeverRestored => "never".to_string(),
        Restoration::Restored { at } => format!(
            "{} (success >= {} over every {} window from then on)",
            format_clock(at),
            format_ratio(m.success_threshold),
            format_duration(m.window)
        ),
    };
    rows.push(row(["restored", &restored]));
    let rto = match (m.rto, m.restoration) {
        (Some(rto), _) => format_duration(rto),
        (None, Restoration::NeverRestored) => "unbounded (never restored)".into(),
        (None, _) => "not applicable".into(),
    };
    rows.push(row(["RTO", &rto]));
    table(&mut out, &rows);

    let _ = writeln!(out, "\nphases");
    let p = &m.phases;
    let phases: [(&str, &Phase, &str); 5] = [
        ("detect", &p.detect, "fault -> first alert"),
        ("page", &p.page, "fault -> first page"),
        ("acknowledge", &p.acknowledge, "first page -> first ack"),
        ("mitigate", &p.mitigate, "fault -> failover completed"),
        ("recover", &p.recover, "failover completed -> restored"),
    ];
    let mut rows = Vec::new();
    for (name, phase, what) in phases {
        let (length, span) = phase_cells(phase);
        let mut what = what.to_string();
        if let Some(note) = &phase.note {
            let _ = write!(what, " ({note})");
        }
        rows.push(vec![name.to_string(), length, span, what]);
    }
    table(&mut out, &rows);
    if let (Some(segment), Some(rto)) = (m.dominant_phase, m.rto) {
        if let Some(share) = m.rto_breakdown.iter().find(|s| s.segment == segment) {
            let _ = writeln!(
                out,
                "  most of the RTO went to {}: {} of {} ({:.0}%)",
                segment.describe(),
                format_duration(share.duration),
                format_duration(rto),
                share.share * 100.0
            );
        }
    }
    for line in cause_lines(m) {
        let _ = writeln!(out, "  {line}");
    }

    let _ = writeln!(out, "\ncustomers");
    let mut rows = Vec::new();
    let r = m.requests;
    rows.push(row(["requests", &format!("{} ({} ok, {} failed)", r.total, r.ok, r.failed)]));
    let availability = match (m.availability, m.error_rate) {
        (Some(a), Some(e)) => format!("{} (error rate {})", format_ratio(a), format_ratio(e)),
        _ => "n/a (no request)".into(),
    };
    rows.push(row(["availability", &availability]));
    if let Some(b) = m.error_budget {
        rows.push(row(["error budget", &error_budget(&b, m.requests.failed)]));
    }
    let lost = lost_writes(m);
    rows.push(row(["lost writes", &lost]));
    let rpo = match (m.rpo, m.oldest_lost_write) {
        (Some(rpo), _)
            if m.history_lost.oldest_before_start.is_some_and(|b| Some(rpo) == m.t_fault.map(|t| t + b)) =>
        {
            let before = m.history_lost.oldest_before_start.unwrap_or_default();
            format!(
                "{} (oldest lost write committed {} before the scenario started)",
                format_duration(rpo),
                format_duration(before)
            )
        }
        (Some(rpo), Some(oldest)) => {
            format!("{} (oldest lost write acknowledged at {})", format_duration(rpo), format_clock(oldest))
        }
        (Some(rpo), None) => format!("{} (no lost write)", format_duration(rpo)),
        (None, _) => "unmeasurable (writes lost with no fault to measure from)".into(),
    };
    rows.push(row(["RPO", &rpo]));
    table(&mut out, &rows);
    if let Some(b) = &m.backups {
        backups(&mut out, b);
    }

    if !m.notes.is_empty() {
        let _ = writeln!(out, "\nnotes");
        for note in &m.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }

    // Silent when the plan's bounds hold, as they should: a line here is a bug to chase.
    if !report.plan_violations.is_empty() {
        let _ = writeln!(out, "\nplan bounds");
        for v in &report.plan_violations {
            let _ = writeln!(out, "  - {}", v.line());
        }
    }

    if report.timeline.is_empty() {
        let _ = writeln!(out, "\ntimeline: no event recorded");
    } else {
        let _ = writeln!(out, "\ntimeline");
        let rows: Vec<Vec<String>> = report
            .timeline
            .iter()
            .map(|e| {
                vec![format_clock(e.at), e.source.clone(), kind_name(e.kind).to_string(), e.details.clone()]
            })
            .collect();
        table(&mut out, &rows);
    }

    let _ = writeln!(out, "\nreproduce: {}", report.reproduce_command());
    out
}

/// One line for one target: `rto: measured 16m30s, target 15m, missed by 1m30s`.
pub fn verdict_line(name: TargetName, v: &TargetVerdict) -> String {
    let target = quantity(v.target);
    match &v.verdict {
        Verdict::Met { measured } => {
            format!("{name}: measured {}, target {target}, met", quantity(*measured))
        }
        Verdict::Missed { measured: Some(measured), by, .. } => format!(
            "{name}: measured {}, target {target}, missed by {}",
            quantity(*measured),
            by.map_or("?".into(), by_amount)
        ),
        Verdict::Missed { measured: None, why, .. } => format!(
            "{name}: never happened ({}), target {target}, missed (unbounded)",
            why.as_deref().unwrap_or("no measurement")
        ),
        Verdict::NotApplicable { why } => {
            format!("{name}: not applicable ({why}), target {target}")
        }
    }
}

/// Why customers failed: the whole outage, then the recover phase when it has failures.
fn cause_lines(m: &Measurement) -> Vec<String> {
    let c = m.failure_causes;
    let since = if m.t_fault.is_some() { "since the fault" } else { "over the run" };
    let mut lines = vec![if c.total() == 0 {
        format!("customers' failed requests {since}: none")
    } else {
        format!(
            "customers' failed requests {since}: {} to the current target, {} to an old address (DNS \
             caching), {} unresolved",
            c.current_target, c.stale_dns, c.unresolved
        )
    }];
    let (Some(r), Some(length)) = (m.recover_causes, m.phases.recover.duration) else {
        return lines;
    };
    let total = r.total();
    if total == 0 {
        return lines;
    }
    let head =
        format!("after the failover completed, customers kept failing for {}", format_duration(length));
    let most = |n: u64| n * 2 > total;
    lines.push(if most(r.stale_dns) {
        format!(
            "{head}: {} of those failures went to the old address, so DNS caching is where that time went",
            percent(r.stale_dns, total)
        )
    } else if most(r.current_target) {
        format!(
            "{head}: {} of those failures reached the current target, which could not serve yet \
             (standby warming up or over capacity)",
            percent(r.current_target, total)
        )
    } else if most(r.unresolved) {
        format!(
            "{head}: {} of those failures found no address (the name did not resolve)",
            percent(r.unresolved, total)
        )
    } else {
        format!(
            "{head}: no single cause for most of those failures ({} to the current target, {} to an \
             old address, {} unresolved)",
            r.current_target, r.stale_dns, r.unresolved
        )
    });
    lines
}

/// `part / total` as a whole percentage; never `0%` or `100%` unless it is exactly that.
fn percent(part: u64, total: u64) -> String {
    let p = (part as f64 * 100.0 / total as f64).round() as u64;
    let p = if part > 0 && part < total { p.clamp(1, 99) } else { p };
    format!("{p}%")
}

fn row<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// Writes rows as left-aligned columns indented by two spaces; no trailing spaces.
fn table(out: &mut String, rows: &[Vec<String>]) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    for r in rows {
        let mut line = String::from(" ");
        for (c, cell) in r.iter().enumerate() {
            line.push(' ');
            line.push_str(cell);
            let pad = widths[c].saturating_sub(cell.chars().count());
            line.extend(std::iter::repeat_n(' ', pad + 1));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn quantity(q: Quantity) -> String {
    match q {
        Quantity::Duration(d) => format_duration(d),
        Quantity::Ratio(r) => format_ratio(r),
        Quantity::Count(n) => n.to_string(),
    }
}

fn by_amount(q: Quantity) -> String {
    match q {
        Quantity::Duration(d) => format_duration(d),
        Quantity::Ratio(r) => format!("{} pp", trim_number(r * 100.0)),
        Quantity::Count(n) => n.to_string(),
    }
}

fn measured_cell(v: &TargetVerdict) -> String {
    match &v.verdict {
        Verdict::Met { measured } | Verdict::Missed { measured: Some(measured), .. } => quantity(*measured),
        Verdict::Missed { measured: None, .. } => "never".into(),
        Verdict::NotApplicable { .. } => "-".into(),
    }
}

fn by_cell(v: &Verdict) -> String {
    match v {
        Verdict::Missed { by: Some(by), .. } => format!("by {}", by_amount(*by)),
        Verdict::Missed { by: None, .. } => "unbounded".into(),
        _ => String::new(),
    }
}

/// A number with at most three decimals and no trailing zeros.
fn trim_number(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn kind_name(kind: WorldEventKind) -> &'static str {
    match kind {
        WorldEventKind::FaultInjected => "fault_injected",
        WorldEventKind::FaultCleared => "fault_cleared",
        WorldEventKind::AlertReceived => "alert_received",
        WorldEventKind::NotificationReceived => "notification_received",
        WorldEventKind::PageReceived => "page_received",
        WorldEventKind::Acknowledged => "acknowledged",
        WorldEventKind::FailoverRequested => "failover_requested",
        WorldEventKind::RunbookStarted => "runbook_started",
        WorldEventKind::Promoted => "promoted",
        WorldEventKind::Fenced => "fenced",
        WorldEventKind::DnsChanged => "dns_changed",
        WorldEventKind::ScaledUp => "scaled_up",
        WorldEventKind::Restarted => "restarted",
        WorldEventKind::FailoverCompleted => "failover_completed",
        WorldEventKind::RowsDeleted => "rows_deleted",
        WorldEventKind::IncidentDeclared => "incident_declared",
        WorldEventKind::BackupTaken => "backup_taken",
        WorldEventKind::BackupFailed => "backup_failed",
        WorldEventKind::DrillPassed => "drill_passed",
        WorldEventKind::DrillFailed => "drill_failed",
        WorldEventKind::RestoreFailed => "restore_failed",
        WorldEventKind::Restored => "restored",
    }
}

/// How much of the error budget the failed requests burned, in words.
pub(crate) fn error_budget(b: &crate::measure::ErrorBudget, failed: u64) -> String {
    let burned = match b.burned {
        Some(burned) if burned > 1.0 => format!("{:.0}% burned (over budget)", burned * 100.0),
        Some(burned) => format!("{} burned", format_ratio(burned)),
        None => "exhausted (the budget is zero)".into(),
    };
    format!(
        "{} failed requests allowed by {}, {failed} failed: {burned}",
        trim_number(b.allowed_failures),
        format_ratio(b.target)
    )
}

/// The lost-write count, saying how many were split-brain.
pub(crate) fn lost_writes(m: &Measurement) -> String {
    match (m.lost_writes, m.split_brain_writes) {
        (0, _) => "0".to_string(),
        (n, 0) => format!("{n} (none acknowledged after the fault)"),
        (n, split) if m.restored_from_backup() => {
            format!("{n} ({split} acknowledged after the fault, discarded by the restore)")
        }
        (n, split) => format!("{n} ({split} acknowledged after the fault: split-brain)"),
    }
}

/// The backups section: the restore against the incident, and what drills found.
fn backups(out: &mut String, b: &crate::measure::BackupFindings) {
    use super::format_offset as show;
    let _ = writeln!(
        out,
        "
backups"
    );
    let mut rows = Vec::new();
    match &b.restore {
        Some(r) => {
            let age = b.restore_point_age.map(|a| format!(", {} before the fault", format_duration(a)));
            rows.push(row(["restored to", &format!("{}{}", show(r.point_ms), age.unwrap_or_default())]));
            rows.push(row(["from", &r.chain]));
            let took = format!(
                "{} -> {} ({}), {} chain(s) failed verification first",
                format_clock(r.started),
                format_clock(r.finished),
                format_duration(r.finished.saturating_sub(r.started)),
                r.fallbacks
            );
            rows.push(row(["restore", &took]));
        }
        None => rows.push(row(["restored to", "no restore completed after the fault"])),
    }
    for f in &b.drill_findings {
        rows.push(row(["drill found", &format!("{} corrupt at {}", f.copy, show(f.found_ms))]));
    }
    if let Some(before) = b.caught_before_incident {
        rows.push(row(["caught", &format!("{} before the fault", format_duration(before))]));
    }
    table(out, &rows);
}

/// A phase's length (`never`, `n/a` when it has none) and its span of simulated time.
pub(crate) fn phase_cells(phase: &crate::measure::Phase) -> (String, String) {
    let length = match phase.status {
        PhaseStatus::Measured => phase.duration.map_or("-".into(), format_duration),
        PhaseStatus::Never => "never".into(),
        PhaseStatus::NotApplicable => "n/a".into(),
    };
    let span = match (phase.from, phase.to) {
        (Some(from), Some(to)) => format!("{} -> {}", format_clock(from), format_clock(to)),
        (Some(from), None) => format!("{} -> never", format_clock(from)),
        _ => String::new(),
    };
    (length, span)
}
