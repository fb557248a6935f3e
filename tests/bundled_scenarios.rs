//! Every bundled scenario, run with its own seed: it shows what it says it shows (`expect`),
//! and its timeline and verdicts are a reviewed snapshot in `snapshots/`. A change that moves
//! an alert by 30 s is a diff `cargo insta review` presents.

use std::collections::BTreeMap;
use std::path::PathBuf;

use gameday::Scenario;
use gameday::check::{self, Outcome};
use gameday::report::format_clock;
use serde_json::{Value, json};

fn snapshot_of(outcome: &Outcome) -> Value {
    let report = outcome.report.as_ref().expect("the simulation runs");
    let m = &report.measurement;
    let verdicts: BTreeMap<&str, Value> = m
        .targets
        .iter()
        .map(|(name, v)| (name.as_str(), serde_json::to_value(v).expect("serializable")))
        .collect();
    let timeline: Vec<String> = report
        .timeline
        .iter()
        .map(|e| {
            format!(
                "{} {} {}: {}",
                format_clock(e.at),
                e.source,
                serde_json::to_value(e.kind).unwrap().as_str().unwrap_or(""),
                e.details
            )
        })
        .collect();
    let mut snapshot = json!({
        "scenario": outcome.name,
        "seed": outcome.seed,
        "passed": m.passed,
        "rto_ms": m.rto.map(|d| d.as_millis() as u64),
        "rpo_ms": m.rpo.map(|d| d.as_millis() as u64),
        "lost_writes": m.lost_writes,
        "split_brain_writes": m.split_brain_writes,
        "requests": {"total": m.requests.total, "failed": m.requests.failed},
        "targets": verdicts,
        "timeline": timeline,
    });
    // Restores and drill findings, for the scenarios whose backups did something.
    if let Some(b) = &m.backups {
        snapshot["backups"] = serde_json::to_value(b).expect("serializable");
    }
    snapshot
}

#[test]
fn bundled_scenarios_show_what_they_say_and_match_their_snapshots() {
    let files = check::discover::scenario_files(&[PathBuf::from("scenarios")]).unwrap();
    assert!(files.len() >= 12, "the bundled folder lost scenarios: {files:?}");
    let scenarios: Vec<Scenario> =
        files.iter().map(|f| Scenario::from_file(f).unwrap_or_else(|e| panic!("{e}"))).collect();
    let outcomes = check::run_all(&scenarios, 2, |_| {});
    let wrong: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.ok)
        .map(|o| format!("{}: {}", o.path.display(), o.why.clone().unwrap_or_default()))
        .collect();
    assert!(wrong.is_empty(), "bundled scenarios that do not show what they say:\n{}", wrong.join("\n"));
    for (file, outcome) in files.iter().zip(&outcomes) {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_yaml_snapshot!(format!("scenario__{name}"), snapshot_of(outcome));
        });
    }
}
