//! The human summary of a `check`: one row per scenario, the failures explained, and the
//! closing `N passed, N failed` line.

use std::fmt::Write;

use crate::check::Outcome;
use crate::report::format_duration;
use crate::scenario::Expectation;

fn expectation(expect: &Expectation) -> String {
    match expect {
        Expectation::Pass => "pass".to_owned(),
        Expectation::Fail { missed } if missed.is_empty() => "fail".to_owned(),
        Expectation::Fail { missed } => format!("fail ({})", missed.join(", ")),
    }
}

/// The summary table and closing line.
pub fn render(outcomes: &[Outcome]) -> String {
    let mut rows = vec![["scenario", "seed", "RTO", "RPO", "targets", "expect", "result"].map(String::from)];
    for o in outcomes {
        let (rto, rpo, targets) = match &o.report {
            Ok(r) => {
                let m = &r.measurement;
                let rto = m.rto.map_or("never".to_owned(), format_duration);
                let rpo = m.rpo.map_or("-".to_owned(), format_duration);
                let targets: Vec<String> = m
                    .targets
                    .iter()
                    .map(|(name, v)| format!("{} {}", name.as_str(), v.verdict.word()))
                    .collect();
                (rto, rpo, targets.join(", "))
            }
            Err(_) => ("-".to_owned(), "-".to_owned(), "simulation failed".to_owned()),
        };
        let result = if o.ok { "ok" } else { "FAILED" };
        rows.push([
            o.name.clone(),
            o.seed.to_string(),
            rto,
            rpo,
            targets,
            expectation(&o.expect),
            result.to_owned(),
        ]);
    }
    let widths: Vec<usize> =
        (0..7).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    for o in outcomes.iter().filter(|o| !o.ok) {
        let _ =
            writeln!(out, "\n{} ({}): {}", o.name, o.path.display(), o.why.as_deref().unwrap_or("failed"));
        if let Ok(report) = &o.report {
            for line in report.missed_lines() {
                let _ = writeln!(out, "  {line}");
            }
            let _ = writeln!(out, "  reproduce: {}", report.reproduce_command());
        }
    }
    let passed = outcomes.iter().filter(|o| o.ok).count();
    let _ = writeln!(out, "\n{passed} passed, {} failed", outcomes.len() - passed);
    out
}
