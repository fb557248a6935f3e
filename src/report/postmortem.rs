//! The postmortem draft (`--postmortem FILE`): a blameless postmortem in Markdown with every
//! measured fact filled in and the sections only people can write left as prompts
//! (DESIGN.md section 5).
//!
//! Sections, in order: Summary, Impact, Timeline, Detection, response and recovery, Where the
//! time went, Targets, Root cause, What went well, What went wrong, Action items, and the
//! command that reproduces the run. No wall-clock date or anything else outside the report
//! goes in: the same report gives the same text.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Report, TimelineEntry, format_clock, format_duration, text};
use crate::measure::{
    FailureCauses, Measurement, Phase, PhaseStatus, Quantity, Restoration, TargetName, Verdict,
    WorldEventKind, format_ratio,
};

/// Renders the postmortem draft (ends with a newline).
pub fn render(report: &Report) -> String {
    let m = &report.measurement;
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# Postmortem draft: {}\n", md(&report.scenario));
    let _ = writeln!(
        w,
        "> Drafted by gameday from a simulated run of `{}` with seed {}. Every number below was \
         measured from ground truth (what customers, databases, DNS and the pager saw), never from \
         the monitor's own account. The sections marked _To fill_ are for the team; the facts in \
         them are a starting point.\n",
        code(&report.path),
        report.seed
    );
    let _ = writeln!(w, "**Result:** {}\n", result_line(m));

    let _ = writeln!(w, "## Summary\n");
    let _ = writeln!(w, "{}\n", summary(report));

    let _ = writeln!(w, "## Impact\n");
    impact(w, report);

    let _ = writeln!(w, "## Timeline\n");
    timeline(w, &report.timeline);

    let _ = writeln!(w, "## Detection, response and recovery\n");
    phases(w, report);

    let _ = writeln!(w, "## Where the time went\n");
    time_went(w, m);

    let _ = writeln!(w, "## Targets\n");
    if m.targets.is_empty() {
        let _ = writeln!(w, "No target was declared in `[targets]`: nothing was asserted.\n");
    } else {
        for (name, v) in &m.targets {
            let _ = writeln!(w, "- {}", md(&text::verdict_line(*name, v)));
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(w, "## Root cause\n");
    let _ = writeln!(
        w,
        "_To fill: why did this happen, and why did it hurt customers as much as it did? Keep asking \
         \"why\" until the answer is about the system, not a person._\n"
    );
    let faults = fault_lines(&report.timeline);
    if faults.is_empty() {
        let _ = writeln!(w, "Injected in this exercise: no fault.\n");
    } else {
        let _ = writeln!(w, "Injected in this exercise:\n");
        for line in faults {
            let _ = writeln!(w, "- {line}");
        }
        let _ = writeln!(w);
    }

    let _ = writeln!(w, "## What went well\n");
    let _ = writeln!(w, "_To fill._ Measured:\n");
    for line in went_well(report) {
        let _ = writeln!(w, "- {line}");
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "## What went wrong\n");
    let _ = writeln!(w, "_To fill._ Measured:\n");
    for line in went_wrong(report) {
        let _ = writeln!(w, "- {line}");
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "## Action items\n");
    let _ = writeln!(w, "_To fill: one owner per item; prefer items that change the system._\n");
    let _ = writeln!(w, "| Action | Kind (prevent / detect / mitigate) | Owner | Priority | Ticket |");
    let _ = writeln!(w, "|---|---|---|---|---|");
    for _ in 0..3 {
        let _ = writeln!(w, "|  |  |  |  |  |");
    }
    let _ = writeln!(w);

    let _ = writeln!(w, "## Reproduce\n");
    let _ = writeln!(w, "Seed {}: `{}`", report.seed, code(&report.reproduce_command()));
    out
}

/// `PASSED, 4 of 4 targets met` / `FAILED, 1 of 4 targets missed` / no target.
fn result_line(m: &Measurement) -> String {
    let total = m.targets.len();
    let missed = m.missed().count();
    let na = m.targets.values().filter(|v| matches!(v.verdict, Verdict::NotApplicable { .. })).count();
    if total == 0 {
        "PASSED (no target declared: nothing asserted)".into()
    } else if missed == 0 {
        let note = if na > 0 { format!(", {na} not applicable") } else { String::new() };
        format!("PASSED, {} of {total} targets met{note}", total - na)
    } else {
        format!("FAILED, {missed} of {total} targets missed")
    }
}

/// ` (target 15m: met)`, or empty without a target.
fn against(m: &Measurement, name: TargetName) -> String {
    let Some(v) = m.targets.get(&name) else { return String::new() };
    format!(" (target {}: {})", quantity(v.target), verdict_word(&v.verdict))
}

/// `met`, `**missed** by 1m30s`, `**missed** (unbounded)`, `not applicable`.
fn verdict_word(v: &Verdict) -> String {
    match v {
        Verdict::Met { .. } => "met".into(),
        Verdict::Missed { by: Some(by), .. } => format!("**missed** by {}", by_amount(*by)),
        Verdict::Missed { by: None, .. } => "**missed**, unbounded".into(),
        Verdict::NotApplicable { .. } => "not applicable".into(),
    }
}

/// A target or measured value: a duration, a ratio as a percentage, or any other quantity as
/// its bare number.
fn quantity(q: Quantity) -> String {
    match (q.as_duration(), q.as_ratio()) {
        (Some(d), _) => format_duration(d),
        (_, Some(r)) => format_ratio(r),
        _ => bare(q),
    }
}

/// How far a target was missed: a duration, percentage points, or a bare number.
fn by_amount(q: Quantity) -> String {
    match (q.as_duration(), q.as_ratio()) {
        (Some(d), _) => format_duration(d),
        (_, Some(r)) => format!("{} pp", trim_number(r * 100.0)),
        _ => bare(q),
    }
}

/// A quantity as its JSON number (a count).
fn bare(q: Quantity) -> String {
    serde_json::to_string(&q).unwrap_or_default()
}

/// A number with at most three decimals and no trailing zeros.
fn trim_number(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `+HH:MM:SS` (the milliseconds dropped).
fn clock_s(at: Duration) -> String {
    let c = format_clock(at);
    c[..c.len() - 4].to_string()
}

fn first(report: &Report, kind: WorldEventKind, from: Duration) -> Option<&TimelineEntry> {
    report.timeline.iter().find(|e| e.kind == kind && e.at >= from)
}

/// One paragraph: fault, detection, failover, restoration and RTO, lost writes and RPO.
fn summary(report: &Report) -> String {
    let m = &report.measurement;
    let mut s = Vec::new();
    let injected: Vec<&TimelineEntry> =
        report.timeline.iter().filter(|e| e.kind == WorldEventKind::FaultInjected).collect();
    let Some(t0) = m.t_fault else {
        s.push(
            "No fault was injected and no incident start was set, so there was no incident to respond to."
                .to_string(),
        );
        s.push(availability_sentence(m));
        return s.join(" ");
    };
    match injected.iter().find(|e| e.at >= t0).or(injected.first()) {
        Some(e) => {
            let more = match injected.len() {
                0 | 1 => String::new(),
                k => format!(" ({} faults in all; see the timeline)", k),
            };
            s.push(format!(
                "At {} the fault {} was injected{more}.",
                format_clock(e.at),
                md_quote(&e.details)
            ));
            if e.at != t0 {
                s.push(format!("The incident is counted from {} (`incident_start`).", format_clock(t0)));
            }
        }
        None => s.push(format!("The incident is counted from {} (`incident_start`).", format_clock(t0))),
    }
    match (m.phases.detect.status, m.phases.detect.to, m.phases.detect.duration) {
        (PhaseStatus::Measured, Some(at), Some(d)) => s.push(format!(
            "The monitor's first alert reached the pager {} later, at {}{}.",
            format_duration(d),
            format_clock(at),
            against(m, TargetName::Detect)
        )),
        _ => s.push(format!("No alert reached the pager after the fault{}.", against(m, TargetName::Detect))),
    }
    let requested = first(report, WorldEventKind::FailoverRequested, t0);
    let runbook = first(report, WorldEventKind::RunbookStarted, t0);
    let completed = first(report, WorldEventKind::FailoverCompleted, t0);
    let mut failover = String::new();
    if let Some(r) = requested {
        let _ = write!(
            failover,
            "A responder requested the failover at {} ({}); ",
            format_clock(r.at),
            md(&r.details)
        );
    }
    match (runbook, completed) {
        (Some(start), Some(done)) => {
            let _ = write!(
                failover,
                "the failover's first action reached the world at {} ({} after the fault) and it completed at {} ({}), {} after the fault.",
                format_clock(start.at),
                format_duration(start.at - t0),
                format_clock(done.at),
                md(&done.details),
                format_duration(done.at - t0)
            );
        }
        (Some(start), None) => {
            let _ = write!(
                failover,
                "the failover's first action reached the world at {} ({} after the fault), but no failover completed.",
                format_clock(start.at),
                format_duration(start.at - t0)
            );
        }
        (None, Some(done)) => {
            let _ = write!(
                failover,
                "the failover completed at {} ({}).",
                format_clock(done.at),
                md(&done.details)
            );
        }
        (None, None) => failover.push_str("no failover ran."),
    }
    s.push(capitalize(&failover));
    s.push(match m.restoration {
        Restoration::Restored { at } => format!(
            "Customers were restored at {}: RTO {}{}.",
            format_clock(at),
            format_duration(m.rto.unwrap_or_default()),
            against(m, TargetName::Rto)
        ),
        Restoration::NoOutage => {
            format!("No customer request failed after the fault: RTO 0{}.", against(m, TargetName::Rto))
        }
        Restoration::NeverRestored => format!(
            "Customers were never restored before the end of the run: the RTO is unbounded{}.",
            against(m, TargetName::Rto)
        ),
        Restoration::NoFault => String::new(),
    });
    s.push(match (m.lost_writes, m.rpo) {
        (0, _) => format!("No acknowledged write was lost: RPO 0{}.", against(m, TargetName::Rpo)),
        (k, Some(rpo)) => format!(
            "{k} acknowledged write{} lost: RPO {}{}.",
            if k == 1 { " was" } else { "s were" },
            format_duration(rpo),
            against(m, TargetName::Rpo)
        ),
        (k, None) => format!("{k} acknowledged write(s) were lost{}.", against(m, TargetName::Rpo)),
    });
    s.push(availability_sentence(m));
    s.retain(|x| !x.is_empty());
    s.join(" ")
}

fn availability_sentence(m: &Measurement) -> String {
    match m.availability {
        Some(a) => format!(
            "Over the whole run {} of {} customer requests failed: availability {}{}.",
            m.requests.failed,
            m.requests.total,
            format_ratio(a),
            against(m, TargetName::Availability)
        ),
        None => "The clients sent no request.".into(),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn impact(w: &mut String, report: &Report) {
    let m = &report.measurement;
    let r = m.requests;
    let mut rows: Vec<(String, String)> = Vec::new();
    rows.push(("Requests".into(), format!("{} sent by customers over the run ({} ok)", r.total, r.ok)));
    let failed = match m.error_rate {
        Some(e) => format!("{} (error rate {})", r.failed, format_ratio(e)),
        None => "0 (no request)".into(),
    };
    rows.push(("Failed requests".into(), failed));
    if let Some(first) = m.first_failure {
        let since = match m.restoration {
            Restoration::Restored { at } => {
                format!("first failed request at {}, restored at {}", format_clock(first), format_clock(at))
            }
            Restoration::NeverRestored => {
                format!("first failed request at {}, never restored", format_clock(first))
            }
            _ => format!("first failed request at {}", format_clock(first)),
        };
        rows.push(("Customer-facing outage".into(), since));
    }
    let availability = match m.availability {
        Some(a) => format!("{}{}", format_ratio(a), paren_target(m, TargetName::Availability)),
        None => "n/a (no request)".into(),
    };
    rows.push(("Availability".into(), availability));
    if let Some(b) = m.error_budget {
        rows.push(("Error budget".into(), text::error_budget(&b, r.failed)));
    }
    let lost = text::lost_writes(m);
    rows.push(("Lost writes".into(), lost));
    let rpo = match (m.rpo, m.oldest_lost_write) {
        (Some(rpo), Some(oldest)) => format!(
            "{} (oldest lost write acknowledged at {}){}",
            format_duration(rpo),
            format_clock(oldest),
            paren_target(m, TargetName::Rpo)
        ),
        (Some(rpo), None) => {
            format!("{} (no lost write){}", format_duration(rpo), paren_target(m, TargetName::Rpo))
        }
        (None, _) => "unmeasurable (writes lost with no fault to measure from)".into(),
    };
    rows.push(("RPO".into(), rpo));
    let _ = writeln!(w, "| Measure | Value |");
    let _ = writeln!(w, "|---|---|");
    for (k, v) in rows {
        let _ = writeln!(w, "| {} | {} |", k, md_cell(&v));
    }
    let _ = writeln!(w);
}

/// `; target 15m: met` inside the value's own sentence, or empty.
fn paren_target(m: &Measurement, name: TargetName) -> String {
    match m.targets.get(&name) {
        Some(v) => format!(", target {}: {}", quantity(v.target), verdict_word(&v.verdict)),
        None => String::new(),
    }
}

fn timeline(w: &mut String, events: &[TimelineEntry]) {
    if events.is_empty() {
        let _ = writeln!(w, "No event was recorded.\n");
        return;
    }
    let _ = writeln!(w, "| Time | Source | Event | Details |");
    let _ = writeln!(w, "|---|---|---|---|");
    for e in events {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} |",
            clock_s(e.at),
            md_cell(&e.source),
            kind_words(e.kind),
            md_cell(&e.details)
        );
    }
    let _ = writeln!(w);
}

fn kind_words(kind: WorldEventKind) -> &'static str {
    match kind {
        WorldEventKind::FaultInjected => "fault injected",
        WorldEventKind::FaultCleared => "fault cleared",
        WorldEventKind::AlertReceived => "alert received",
        WorldEventKind::NotificationReceived => "notification",
        WorldEventKind::PageReceived => "page received",
        WorldEventKind::Acknowledged => "acknowledged",
        WorldEventKind::FailoverRequested => "failover requested",
        WorldEventKind::RunbookStarted => "runbook action",
        WorldEventKind::Promoted => "promoted",
        WorldEventKind::Fenced => "fenced",
        WorldEventKind::DnsChanged => "DNS changed",
        WorldEventKind::ScaledUp => "scaled up",
        WorldEventKind::Restarted => "restarted",
        WorldEventKind::FailoverCompleted => "failover completed",
        WorldEventKind::RowsDeleted => "rows deleted",
        WorldEventKind::IncidentDeclared => "incident declared",
        WorldEventKind::BackupTaken => "backup taken",
        WorldEventKind::BackupFailed => "backup failed",
        WorldEventKind::DrillPassed => "restore drill passed",
        WorldEventKind::DrillFailed => "restore drill failed",
        WorldEventKind::RestoreFailed => "restore failed",
        WorldEventKind::Restored => "restored",
    }
}

fn target_cells(m: &Measurement, name: TargetName) -> (String, String) {
    match m.targets.get(&name) {
        Some(v) => (quantity(v.target), verdict_word(&v.verdict)),
        None => ("-".into(), "-".into()),
    }
}

fn phases(w: &mut String, report: &Report) {
    let m = &report.measurement;
    let p = &m.phases;
    let rows: [(&str, &Phase, &str, TargetName); 5] = [
        ("detect", &p.detect, "fault -> first alert", TargetName::Detect),
        ("page", &p.page, "fault -> first page", TargetName::Page),
        ("acknowledge", &p.acknowledge, "first page -> first ack", TargetName::Acknowledge),
        ("mitigate", &p.mitigate, "fault -> failover completed", TargetName::Mitigate),
        ("recover", &p.recover, "failover completed -> restored", TargetName::Recover),
    ];
    let _ = writeln!(w, "| Phase | Covers | Measured | Target | Verdict | When | Note |");
    let _ = writeln!(w, "|---|---|---|---|---|---|---|");
    for (name, phase, covers, target) in rows {
        let (length, span) = text::phase_cells(phase);
        let (t, v) = target_cells(m, target);
        let note = phase.note.as_deref().map(md_cell).unwrap_or_default();
        let _ = writeln!(w, "| {name} | {covers} | {length} | {t} | {v} | {span} | {note} |");
    }
    let rto = match (m.rto, m.restoration) {
        (Some(rto), _) => format_duration(rto),
        (None, Restoration::NeverRestored) => "unbounded".into(),
        (None, _) => "n/a".into(),
    };
    let (t, v) = target_cells(m, TargetName::Rto);
    let span = match (m.t_fault, m.restoration) {
        (Some(t0), Restoration::Restored { at }) => format!("{} -> {}", format_clock(t0), format_clock(at)),
        (Some(t0), Restoration::NeverRestored) => format!("{} -> never", format_clock(t0)),
        _ => String::new(),
    };
    let _ = writeln!(w, "| **RTO** | fault -> customers restored | {rto} | {t} | {v} | {span} |  |");
    let _ = writeln!(w);

    let Some(t0) = m.t_fault else {
        let _ =
            writeln!(w, "No fault was injected: there was nothing to detect, respond to or recover from.\n");
        return;
    };
    // Detection.
    let detection = match (p.detect.duration, p.detect.to) {
        (Some(d), Some(at)) => format!(
            "The first alert reached the pager {} after the fault, at {}{}.",
            format_duration(d),
            format_clock(at),
            against(m, TargetName::Detect)
        ),
        _ => format!("No alert reached the pager after the fault{}.", against(m, TargetName::Detect)),
    };
    let page = match (p.page.duration, p.page.to) {
        (Some(d), Some(at)) => format!(
            " The first page followed at {} ({} after the fault).",
            format_clock(at),
            format_duration(d)
        ),
        _ => " Nobody was paged.".into(),
    };
    let _ = writeln!(w, "**Detection.** {detection}{page}\n");

    // Response, in the order things happened.
    let mut response: Vec<(Duration, String)> = Vec::new();
    match (p.acknowledge.duration, p.acknowledge.to) {
        (Some(d), Some(at)) => response.push((
            at,
            format!(
                "The first acknowledgement came at {}, {} after the first page{}.",
                format_clock(at),
                format_duration(d),
                against(m, TargetName::Acknowledge)
            ),
        )),
        _ => response.push((
            Duration::MAX,
            format!("Nobody acknowledged a page{}.", against(m, TargetName::Acknowledge)),
        )),
    }
    if let Some(r) = first(report, WorldEventKind::FailoverRequested, t0) {
        response.push((
            r.at,
            format!(
                "The failover was requested by hand at {}, {} after the fault: {}.",
                format_clock(r.at),
                format_duration(r.at - t0),
                md(&r.details)
            ),
        ));
    }
    match first(report, WorldEventKind::RunbookStarted, t0) {
        Some(e) => {
            let after_alert = match p.detect.to {
                Some(alert) if e.at >= alert => {
                    format!(" and {} after the first alert", format_duration(e.at - alert))
                }
                _ => String::new(),
            };
            let unacked = match p.acknowledge.to {
                Some(ack) if ack > e.at => {
                    " No one had acknowledged yet: the failover started without a human."
                }
                None => " No one acknowledged: the failover started without a human.",
                _ => "",
            };
            response.push((
                e.at,
                format!(
                    "The runbook's first action reached the world at {}, {} after the fault{after_alert}: {}.{unacked}",
                    format_clock(e.at),
                    format_duration(e.at - t0),
                    md(&e.details)
                ),
            ));
        }
        None => response.push((Duration::MAX, "No runbook action reached the world.".into())),
    }
    response.sort_by_key(|(at, _)| *at); // stable: equal times keep this order
    let response: Vec<String> = response.into_iter().map(|(_, s)| s).collect();
    let _ = writeln!(w, "**Response.** {}\n", response.join(" "));

    // Recovery.
    let mut recovery = Vec::new();
    match (p.mitigate.duration, p.mitigate.to) {
        (Some(d), Some(at)) => {
            let what = first(report, WorldEventKind::FailoverCompleted, t0).map(|e| md(&e.details));
            recovery.push(format!(
                "The failover completed at {}{}, {} after the fault{}.",
                format_clock(at),
                what.map(|x| format!(" ({x})")).unwrap_or_default(),
                format_duration(d),
                against(m, TargetName::Mitigate)
            ));
        }
        _ => recovery.push(format!("No failover completed{}.", against(m, TargetName::Mitigate))),
    }
    recovery.push(match m.restoration {
        Restoration::Restored { at } => format!(
            "Customers were restored at {} (success ratio at least {} over every {} window from then on).",
            format_clock(at),
            format_ratio(m.success_threshold),
            format_duration(m.window)
        ),
        Restoration::NoOutage => "Customers saw no failed request after the fault.".into(),
        Restoration::NeverRestored => format!(
            "Customers were never restored: the success ratio did not stay at or above {} over every {} window.",
            format_ratio(m.success_threshold),
            format_duration(m.window)
        ),
        Restoration::NoFault => String::new(),
    });
    match (p.recover.status, p.recover.duration) {
        (PhaseStatus::Measured, Some(d)) => recovery.push(format!(
            "Recovery after the failover took {}{}.",
            format_duration(d),
            against(m, TargetName::Recover)
        )),
        (PhaseStatus::NotApplicable, _) => {
            if let Some(note) = &p.recover.note {
                recovery.push(format!("The recover phase does not apply: {}.", md(note)));
            }
        }
        _ => {}
    }
    recovery.retain(|x| !x.is_empty());
    let _ = writeln!(w, "**Recovery.** {}\n", recovery.join(" "));

    let _ = writeln!(w, "**Dominant phase.** {}\n", dominant_sentence(m));
}

/// `Most of the RTO went to mitigation (...): 3m59.35s of 4m49.45s (83%).`
fn dominant_sentence(m: &Measurement) -> String {
    let share = m.dominant_phase.zip(m.rto).and_then(|(segment, rto)| {
        m.rto_breakdown.iter().find(|s| s.segment == segment).map(|s| (segment, s, rto))
    });
    match share {
        Some((segment, s, rto)) => format!(
            "Most of the RTO went to {}: {} of {} ({:.0}%).",
            segment.describe(),
            format_duration(s.duration),
            format_duration(rto),
            s.share * 100.0
        ),
        None => match m.restoration {
            Restoration::NeverRestored => {
                "No RTO breakdown: customers were never restored, so the RTO has no end to split.".into()
            }
            Restoration::NoOutage => "No RTO breakdown: customers saw no outage (RTO 0).".into(),
            _ => "No RTO breakdown: there was no outage to split.".into(),
        },
    }
}

fn time_went(w: &mut String, m: &Measurement) {
    if m.rto_breakdown.is_empty() {
        let _ = writeln!(w, "{}\n", dominant_sentence(m));
    } else {
        let _ = writeln!(
            w,
            "The RTO along the critical path, each segment ending at the milestone customers waited for:\n"
        );
        let _ = writeln!(w, "| Segment | Covers | Duration | Share of the RTO |");
        let _ = writeln!(w, "|---|---|---|---|");
        for s in &m.rto_breakdown {
            let mark = if Some(s.segment) == m.dominant_phase { " (dominant)" } else { "" };
            let _ = writeln!(
                w,
                "| {}{mark} | {} | {} | {:.0}% |",
                s.segment.name(),
                md_cell(s.segment.describe()),
                format_duration(s.duration),
                s.share * 100.0
            );
        }
        let _ = writeln!(w);
    }
    let since = if m.t_fault.is_some() { "since the fault" } else { "over the run" };
    let _ = writeln!(w, "Why customers' requests failed {since}: {}.\n", causes(&m.failure_causes));
    if let (Some(r), Some(length)) = (m.recover_causes, m.phases.recover.duration)
        && r.total() > 0
    {
        let _ = writeln!(
            w,
            "After the failover completed, customers kept failing for {}: {}.\n",
            format_duration(length),
            causes(&r)
        );
    }
    if !m.notes.is_empty() {
        let _ = writeln!(w, "Notes:\n");
        for note in &m.notes {
            let _ = writeln!(w, "- {}", md(note));
        }
        let _ = writeln!(w);
    }
}

fn causes(c: &FailureCauses) -> String {
    if c.total() == 0 {
        return "none failed".into();
    }
    format!(
        "{} reached the current target, which could not serve; {} went to an old address (DNS caching); {} found no address",
        c.current_target, c.stale_dns, c.unresolved
    )
}

/// `region_outage: region us-east-1 goes dark, injected at +00:10:00.000, never cleared`.
fn fault_lines(events: &[TimelineEntry]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cleared: Vec<bool> = vec![false; events.len()];
    for (i, e) in events.iter().enumerate().filter(|(_, e)| e.kind == WorldEventKind::FaultInjected) {
        let clear = events.iter().enumerate().find(|(j, c)| {
            *j > i && !cleared[*j] && c.kind == WorldEventKind::FaultCleared && c.details == e.details
        });
        let until = match clear {
            Some((j, c)) => {
                cleared[j] = true;
                format!("cleared at {} ({})", format_clock(c.at), format_duration(c.at - e.at))
            }
            None => "not cleared before the end of the run".into(),
        };
        lines.push(format!("{}, injected at {}, {until}", md_quote(&e.details), format_clock(e.at)));
    }
    lines
}

fn went_well(report: &Report) -> Vec<String> {
    let m = &report.measurement;
    let mut lines: Vec<String> = m
        .targets
        .iter()
        .filter(|(_, v)| matches!(v.verdict, Verdict::Met { .. }))
        .map(|(name, v)| {
            let measured = v.verdict.measured().map(quantity).unwrap_or_default();
            if v.target.as_ratio().is_some() {
                format!("{name}: {measured}, at or above the {} target", quantity(v.target))
            } else {
                format!("{name}: {measured}, within the {} target", quantity(v.target))
            }
        })
        .collect();
    if m.lost_writes == 0 {
        lines.push("no acknowledged write was lost".into());
    }
    if m.restoration == Restoration::NoOutage {
        lines.push("customers saw no failed request after the fault".into());
    }
    if lines.is_empty() {
        lines.push("nothing measured stood out as going well".into());
    }
    lines
}

fn went_wrong(report: &Report) -> Vec<String> {
    let m = &report.measurement;
    let mut lines: Vec<String> = m.missed().map(|(name, v)| md(&text::verdict_line(name, v))).collect();
    if m.restoration == Restoration::NeverRestored && !m.targets.contains_key(&TargetName::Rto) {
        lines.push("customers were never restored before the end of the run".into());
    }
    if m.requests.failed > 0 {
        lines.push(format!(
            "{} of {} customer requests failed (availability {})",
            m.requests.failed,
            m.requests.total,
            m.availability.map(format_ratio).unwrap_or_default()
        ));
    }
    if m.lost_writes > 0 {
        let rpo = m.rpo.map(|r| format!(", RPO {}", format_duration(r))).unwrap_or_default();
        let split = if m.split_brain_writes > 0 && m.restored_from_backup() {
            format!(
                ", {} of them acknowledged after the fault and discarded by the restore",
                m.split_brain_writes
            )
        } else if m.split_brain_writes > 0 {
            format!(", {} of them split-brain writes acknowledged after the fault", m.split_brain_writes)
        } else {
            String::new()
        };
        lines.push(format!("{} acknowledged writes were lost{rpo}{split}", m.lost_writes));
    }
    if let Some((segment, s)) =
        m.dominant_phase.and_then(|seg| m.rto_breakdown.iter().find(|s| s.segment == seg).map(|s| (seg, s)))
    {
        lines.push(format!(
            "{:.0}% of the RTO ({}) went to {}",
            s.share * 100.0,
            format_duration(s.duration),
            segment.describe()
        ));
    }
    if m.failure_causes.stale_dns > 0 {
        lines.push(format!(
            "{} failed requests went to an old address after a DNS change (DNS caching)",
            m.failure_causes.stale_dns
        ));
    }
    if lines.is_empty() {
        lines.push("nothing measured went wrong".into());
    }
    lines
}

// ---------------------------------------------------------------------------------------------
// Markdown escaping.

/// Inline Markdown text: backslash-escapes what could start markup (`\`, `` ` ``, `*`, `<`,
/// `[`, `]`, `|`, and `_` outside a word); line breaks become spaces.
fn md(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '`' | '*' | '<' | '[' | ']' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '_' => {
                let word =
                    |j: Option<usize>| j.and_then(|j| chars.get(j)).is_some_and(|c| c.is_alphanumeric());
                if !(word(i.checked_sub(1)) && word(Some(i + 1))) {
                    out.push('\\');
                }
                out.push('_');
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A table cell: inline text, never empty-looking.
fn md_cell(s: &str) -> String {
    md(s)
}

/// Quoted inline text: `"..."`.
fn md_quote(s: &str) -> String {
    format!("\"{}\"", md(s))
}

/// Text inside a code span: backticks cannot be escaped there, so they become `'`.
fn code(s: &str) -> String {
    s.replace('`', "'").replace(['\n', '\r'], " ")
}
