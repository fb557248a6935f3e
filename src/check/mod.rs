//! `gameday check`: every scenario under the given paths, run on all cores and judged against
//! what each is meant to show (`expect`), as CI runs a folder of them.

pub mod discover;
pub mod junit;
pub mod summary;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::report::Report;
use crate::scenario::{Expectation, Scenario};

/// One scenario's result.
#[derive(Debug)]
pub struct Outcome {
    /// The scenario file.
    pub path: PathBuf,
    /// Its name.
    pub name: String,
    /// The seed it ran with.
    pub seed: u64,
    /// What it is meant to show.
    pub expect: Expectation,
    /// The report, or why the simulation itself failed.
    pub report: Result<Report, String>,
    /// Whether the result is what the scenario expects.
    pub ok: bool,
    /// Why not, when it is not.
    pub why: Option<String>,
}

impl Outcome {
    /// The targets the run missed, by their `[targets]` key.
    pub fn missed(&self) -> Vec<&'static str> {
        match &self.report {
            Ok(report) => report.measurement.missed().map(|(name, _)| name.as_str()).collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// Judges one run against its scenario's expectation.
pub fn judge(scenario: &Scenario, report: Result<Report, String>) -> Outcome {
    let mut outcome = Outcome {
        path: scenario.path.clone(),
        name: scenario.name.clone(),
        seed: scenario.seed,
        expect: scenario.expect.clone(),
        report,
        ok: false,
        why: None,
    };
    let missed = outcome.missed();
    let (ok, why) = match (&outcome.report, &outcome.expect) {
        (Err(e), _) => (false, Some(format!("the simulation failed: {e}"))),
        (Ok(_), Expectation::Pass) if missed.is_empty() => (true, None),
        (Ok(_), Expectation::Pass) => (false, Some(format!("missed {}", missed.join(", ")))),
        (Ok(_), Expectation::Fail { .. }) if missed.is_empty() => {
            (false, Some("expected the plan to miss a target, but every target was met".to_owned()))
        }
        (Ok(_), Expectation::Fail { missed: wanted }) if wanted.is_empty() => (true, None),
        (Ok(_), Expectation::Fail { missed: wanted }) => {
            let mut got: Vec<&str> = missed.clone();
            got.sort_unstable();
            let mut want: Vec<&str> = wanted.iter().map(String::as_str).collect();
            want.sort_unstable();
            if got == want {
                (true, None)
            } else {
                (false, Some(format!("expected to miss {}, missed {}", want.join(", "), list_or_none(&got))))
            }
        }
    };
    outcome.ok = ok;
    outcome.why = why;
    outcome
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() { "none".to_owned() } else { items.join(", ") }
}

/// Runs every scenario with its own seed on `jobs` threads; `done` is called as each finishes.
/// Outcomes come back in the order of `scenarios`, whatever order they finished in.
pub fn run_all(scenarios: &[Scenario], jobs: usize, done: impl Fn(&Outcome) + Sync) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..scenarios.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, scenarios.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(scenario) = scenarios.get(i) else { return };
                    let report = scenario.run().map_err(|e| e.to_string());
                    let outcome = judge(scenario, report);
                    done(&outcome);
                    results.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(outcome);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .map(|o| o.expect("every scenario ran"))
        .collect()
}
