//! `gameday sweep`: one scenario under many seeds, on all cores. One seed is an anecdote; the
//! spread of RTO, RPO, lost writes and phases over many is what a plan should be judged on.

pub mod stats;

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

use crate::check::{self, Outcome};
use crate::measure::TargetName;
use crate::report::format_duration;
use crate::scenario::Scenario;
use stats::Distribution;

/// Parses `--seeds`: `N` means seeds 1 to N; `A..B` means A up to, not including, B.
pub fn parse_seeds(spec: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("--seeds {spec:?}: expected a count like 200 or a range like 100..300");
    let seeds: Vec<u64> = match spec.split_once("..") {
        Some((a, b)) => {
            let (a, b) =
                (a.trim().parse::<u64>().map_err(|_| bad())?, b.trim().parse::<u64>().map_err(|_| bad())?);
            (a..b).collect()
        }
        None => (1..=spec.trim().parse::<u64>().map_err(|_| bad())?).collect(),
    };
    if seeds.is_empty() { Err(format!("--seeds {spec:?} names no seed")) } else { Ok(seeds) }
}

/// Runs `scenario` once per seed on `jobs` threads; outcomes come back in seed order.
pub fn run(scenario: &Scenario, seeds: &[u64], jobs: usize, done: impl Fn(&Outcome) + Sync) -> Vec<Outcome> {
    // Each run is named after its seed, so that JUnit has one distinct testcase per seed.
    let runs: Vec<Scenario> = seeds
        .iter()
        .map(|&seed| Scenario { seed, name: format!("{} [seed {seed}]", scenario.name), ..scenario.clone() })
        .collect();
    check::run_all(&runs, jobs, done)
}

/// The distributions and pass rates of a sweep.
pub struct Summary<'a> {
    scenario: &'a Scenario,
    outcomes: &'a [Outcome],
}

impl<'a> Summary<'a> {
    /// Summarizes `outcomes` of `scenario`.
    pub fn new(scenario: &'a Scenario, outcomes: &'a [Outcome]) -> Self {
        Self { scenario, outcomes }
    }

    /// Seeds where some target was missed (or the simulation failed).
    pub fn failing(&self) -> Vec<u64> {
        self.outcomes.iter().filter(|o| !o.missed().is_empty() || o.report.is_err()).map(|o| o.seed).collect()
    }

    /// The worst seed: never restored first, then the longest RTO; the first seed on ties.
    pub fn worst(&self) -> Option<&'a Outcome> {
        let key = |o: &Outcome| match &o.report {
            Err(_) => Duration::MAX,
            Ok(r) => r.measurement.rto.unwrap_or(Duration::MAX),
        };
        self.outcomes.iter().fold(None, |worst: Option<&'a Outcome>, o| match worst {
            Some(w) if key(w) >= key(o) => Some(w),
            _ => Some(o),
        })
    }

    fn durations(&self, pick: impl Fn(&crate::report::Report) -> Option<Duration>) -> Distribution {
        Distribution::of(self.outcomes.iter().map(|o| o.report.as_ref().ok().and_then(&pick)))
    }

    /// (name, distribution) rows: RTO, RPO, then each phase.
    fn rows(&self) -> Vec<(&'static str, Distribution)> {
        vec![
            ("rto", self.durations(|r| r.measurement.rto)),
            ("rpo", self.durations(|r| r.measurement.rpo)),
            ("detect", self.durations(|r| r.measurement.phases.detect.duration)),
            ("page", self.durations(|r| r.measurement.phases.page.duration)),
            ("acknowledge", self.durations(|r| r.measurement.phases.acknowledge.duration)),
            ("mitigate", self.durations(|r| r.measurement.phases.mitigate.duration)),
            ("recover", self.durations(|r| r.measurement.phases.recover.duration)),
        ]
    }

    fn lost_writes(&self) -> Distribution {
        Distribution::of(
            self.outcomes
                .iter()
                .map(|o| o.report.as_ref().ok().map(|r| Duration::from_secs(r.measurement.lost_writes))),
        )
    }

    /// How many seeds met each declared target.
    fn pass_rates(&self) -> Vec<(TargetName, usize)> {
        TargetName::ALL
            .into_iter()
            .filter(|name| {
                self.outcomes
                    .iter()
                    .any(|o| o.report.as_ref().is_ok_and(|r| r.measurement.targets.contains_key(name)))
            })
            .map(|name| {
                let met = self
                    .outcomes
                    .iter()
                    .filter(|o| {
                        o.report.as_ref().is_ok_and(|r| {
                            r.measurement.targets.get(&name).is_some_and(|v| !v.verdict.is_missed())
                        })
                    })
                    .count();
                (name, met)
            })
            .collect()
    }

    /// The human summary.
    pub fn text(&self) -> String {
        let n = self.outcomes.len();
        let mut out =
            format!("sweep {} ({}) over {n} seeds\n\n", self.scenario.name, self.scenario.path.display());
        let _ = writeln!(
            out,
            "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10}  unbounded",
            "measure", "min", "p50", "p90", "p99", "max"
        );
        let show = |d: Option<Duration>| d.map_or("-".to_owned(), format_duration);
        for (name, d) in self.rows() {
            let [min, p50, p90, p99, max] = d.summary();
            let _ = writeln!(
                out,
                "{name:<12} {:>10} {:>10} {:>10} {:>10} {:>10}  {}",
                show(min),
                show(p50),
                show(p90),
                show(p99),
                show(max),
                d.missing
            );
        }
        let writes = self.lost_writes();
        let [min, p50, p90, p99, max] =
            writes.summary().map(|d| d.map_or("-".to_owned(), |d| d.as_secs().to_string()));
        let _ = writeln!(out, "{:<12} {min:>10} {p50:>10} {p90:>10} {p99:>10} {max:>10}", "lost_writes");
        let _ = writeln!(out, "\ntargets met");
        for (name, met) in self.pass_rates() {
            let _ = writeln!(
                out,
                "  {:<13} {met}/{n} seeds ({:.1}%)",
                name.as_str(),
                100.0 * met as f64 / n as f64
            );
        }
        if let Some(worst) = self.worst() {
            let _ = writeln!(
                out,
                "\nworst seed {}: RTO {}",
                worst.seed,
                worst
                    .report
                    .as_ref()
                    .ok()
                    .and_then(|r| r.measurement.rto)
                    .map_or("never".to_owned(), format_duration)
            );
            let _ = writeln!(
                out,
                "reproduce: gameday run {} --seed {}",
                self.scenario.path.display(),
                worst.seed
            );
        }
        let failing = self.failing();
        let _ = writeln!(out, "\n{} passed, {} failed", n - failing.len(), failing.len());
        out
    }

    /// The same, machine-readable.
    pub fn json(&self) -> Value {
        let ms = |d: Option<Duration>| d.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let rows: serde_json::Map<String, Value> = self
            .rows()
            .into_iter()
            .map(|(name, d)| {
                let [min, p50, p90, p99, max] = d.summary().map(ms);
                (format!("{name}_ms"), json!({"min": min, "p50": p50, "p90": p90, "p99": p99, "max": max, "unbounded": d.missing}))
            })
            .collect();
        let [min, p50, p90, p99, max] = self.lost_writes().summary().map(|d| d.map(|d| d.as_secs()));
        let rates: serde_json::Map<String, Value> =
            self.pass_rates().into_iter().map(|(name, met)| (name.as_str().to_owned(), json!(met))).collect();
        json!({
            "scenario": self.scenario.name,
            "path": self.scenario.path.display().to_string(),
            "seeds": self.outcomes.iter().map(|o| o.seed).collect::<Vec<_>>(),
            "distributions": rows,
            "lost_writes": {"min": min, "p50": p50, "p90": p90, "p99": p99, "max": max},
            "targets_met": rates,
            "failing_seeds": self.failing(),
            "worst_seed": self.worst().map(|o| o.seed),
        })
    }
}
