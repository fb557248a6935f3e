//! The human rendering of a [`Plan`]: the phase bounds against the targets, the verdicts, the
//! pitfalls.

use std::fmt::Write;

use crate::report::format_duration;

use super::{PhaseName, Plan};

/// Renders `plan` for people (ends with a newline).
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "plan: {}", plan.scenario);
    match plan.t_fault {
        Some(t) => {
            let _ = writeln!(
                out,
                "t_fault at {}; bounds assume nothing but the configuration\n",
                format_duration(t)
            );
        }
        None => {
            let _ = writeln!(out, "no fault and no incident_start: nothing to bound\n");
        }
    }
    // Columns as wide as their widest cell: a restore point days back is a long duration.
    let rows: Vec<[String; 5]> = plan
        .phases
        .iter()
        .map(|p| {
            let (best, worst) = match &p.bound {
                None => ("-".to_owned(), "never".to_owned()),
                Some(b) => (format_duration(b.best), b.worst.map_or("unbounded".to_owned(), format_duration)),
            };
            let check = plan.targets.iter().find(|t| t.target == p.phase);
            let target = check.map_or("-".to_owned(), |t| format_duration(t.value));
            let verdict = check.map_or("", |t| t.verdict.as_str()).to_owned();
            [p.phase.as_str().to_owned(), best, worst, target, verdict]
        })
        .collect();
    let header = ["phase", "best", "worst", "target", "verdict"].map(str::to_owned);
    let width = |i: usize| rows.iter().chain([&header]).map(|r| r[i].len()).max().unwrap_or(0);
    let (w0, w1, w2, w3) = (width(0), width(1), width(2), width(3));
    for [phase, best, worst, target, verdict] in std::iter::once(&header).chain(&rows) {
        let line = format!("{phase:<w0$}  {best:>w1$}  {worst:>w2$}  {target:>w3$}  {verdict}");
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let notes: Vec<(PhaseName, &String)> =
        plan.phases.iter().flat_map(|p| p.notes.iter().map(move |n| (p.phase, n))).collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "\nwhy:");
        for (phase, note) in notes {
            let _ = writeln!(out, "  {}: {note}", phase.as_str());
        }
    }
    if plan.pitfalls.is_empty() {
        let _ = writeln!(out, "\npitfalls: none");
    } else {
        let _ = writeln!(out, "\npitfalls:");
        for p in &plan.pitfalls {
            let _ = writeln!(out, "  [{}] {}", p.code, p.message);
        }
    }
    let impossible: Vec<&str> = plan
        .targets
        .iter()
        .filter(|t| t.verdict == super::Verdict::Impossible)
        .map(|t| t.target.as_str())
        .collect();
    if impossible.is_empty() {
        let _ = writeln!(out, "\nno target is impossible");
    } else {
        let _ = writeln!(out, "\nimpossible even in the best case: {}", impossible.join(", "));
    }
    out
}
