//! `gameday sweep`: one scenario under many seeds, on all cores. One seed is an anecdote; the
//! spread of RTO, RPO, lost writes and phases over many is what a plan should be judged on.
//! `jitter.rs` spreads the scenario's fixed values per seed; `shrink.rs` turns a failing seed
//! into the smallest scenario file that still fails the same way.

pub mod jitter;
pub mod shrink;
pub mod stats;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::check::junit::Case;
use crate::check::{self, Outcome};
use crate::report::{format_duration, reproduce_command};
use crate::scenario::Scenario;
use jitter::Jitter;
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

/// Runs `scenario` once per seed, each with its own draw of `jitter`, on `jobs` threads;
/// outcomes come back in seed order.
pub fn run(
    scenario: &Scenario,
    seeds: &[u64],
    jitter: Jitter,
    jobs: usize,
    done: impl Fn(&Outcome) + Sync,
) -> Vec<Outcome> {
    // Each run is named after its seed, so that JUnit has one distinct testcase per seed.
    let runs: Vec<Scenario> = seeds
        .iter()
        .map(|&seed| Scenario {
            seed,
            name: format!("{} [seed {seed}]", scenario.name),
            ..jitter.apply(scenario, seed)
        })
        .collect();
    let mut outcomes = check::run_all(&runs, jobs, done);
    for report in outcomes.iter_mut().filter_map(|o| o.report.as_mut().ok()) {
        report.jitter = jitter;
    }
    outcomes
}

/// What one seed of a sweep measured: enough to rebuild every distribution, so that sharded
/// sweeps can be merged into exactly the unsharded result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedResult {
    /// The seed.
    pub seed: u64,
    /// The simulation failed (a bug): nothing was measured.
    pub error: Option<String>,
    /// RTO; `None` when never restored.
    pub rto_ms: Option<u64>,
    /// RPO.
    pub rpo_ms: Option<u64>,
    /// Lost writes.
    pub lost_writes: Option<u64>,
    /// Each phase's duration by name; `None` when it never ended or does not apply.
    pub phases_ms: BTreeMap<String, Option<u64>>,
    /// Each declared target: met (or not applicable) or missed.
    pub met: BTreeMap<String, bool>,
    /// One line per missed target, with the measured and target values, in report order.
    pub missed: Vec<String>,
}

fn ms(d: Option<Duration>) -> Option<u64> {
    d.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl SeedResult {
    /// The result of one run.
    pub fn of(outcome: &Outcome) -> Self {
        let mut result = SeedResult {
            seed: outcome.seed,
            error: None,
            rto_ms: None,
            rpo_ms: None,
            lost_writes: None,
            phases_ms: BTreeMap::new(),
            met: BTreeMap::new(),
            missed: Vec::new(),
        };
        match &outcome.report {
            Err(e) => result.error = Some(e.clone()),
            Ok(r) => {
                let m = &r.measurement;
                result.rto_ms = ms(m.rto);
                result.rpo_ms = ms(m.rpo);
                result.lost_writes = Some(m.lost_writes);
                let p = &m.phases;
                for (name, phase) in [
                    ("detect", &p.detect),
                    ("page", &p.page),
                    ("acknowledge", &p.acknowledge),
                    ("mitigate", &p.mitigate),
                    ("recover", &p.recover),
                ] {
                    // A phase that does not apply to this run is left out: it neither happened
                    // nor failed to.
                    if phase.status != crate::measure::PhaseStatus::NotApplicable {
                        result.phases_ms.insert(name.to_owned(), ms(phase.duration));
                    }
                }
                for (name, v) in &m.targets {
                    result.met.insert(name.as_str().to_owned(), !v.verdict.is_missed());
                }
                result.missed = r.missed_lines();
            }
        }
        result
    }

    fn failed(&self) -> bool {
        self.error.is_some() || self.met.values().any(|met| !met)
    }

    /// The targets missed, by their `[targets]` key, in key order.
    pub fn missed_targets(&self) -> Vec<&str> {
        self.met.iter().filter(|(_, met)| !**met).map(|(name, _)| name.as_str()).collect()
    }
}

/// The distributions and pass rates of a sweep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The scenario's name.
    pub scenario: String,
    /// Its file.
    pub path: String,
    /// The `--jitter` every seed's values were drawn with.
    #[serde(rename = "jitter_percent")]
    pub jitter: Jitter,
    /// One result per seed, in seed order.
    pub runs: Vec<SeedResult>,
}

const PHASES: [&str; 5] = ["detect", "page", "acknowledge", "mitigate", "recover"];

impl Summary {
    /// Summarizes the outcomes of a sweep of `scenario` with `jitter`.
    pub fn new(scenario: &Scenario, jitter: Jitter, outcomes: &[Outcome]) -> Self {
        Self::of_runs(
            &scenario.name,
            &scenario.path.display().to_string(),
            jitter,
            outcomes.iter().map(SeedResult::of).collect(),
        )
    }

    /// A summary of these runs (sorted by seed; a seed present twice counts once).
    pub fn of_runs(scenario: &str, path: &str, jitter: Jitter, mut runs: Vec<SeedResult>) -> Self {
        runs.sort_by_key(|r| r.seed);
        runs.dedup_by_key(|r| r.seed);
        Self { scenario: scenario.to_owned(), path: path.to_owned(), jitter, runs }
    }

    /// Merges the JSON outputs of sharded sweeps of one scenario.
    pub fn merge(parts: Vec<Summary>) -> Result<Summary, String> {
        let first = parts.first().ok_or("nothing to merge")?;
        let (scenario, path, jitter) = (first.scenario.clone(), first.path.clone(), first.jitter);
        if let Some(other) = parts.iter().find(|p| p.path != path) {
            return Err(format!("cannot merge sweeps of different scenarios: {path} and {}", other.path));
        }
        if let Some(other) = parts.iter().find(|p| p.jitter != jitter) {
            return Err(format!(
                "cannot merge sweeps with different --jitter: {}% and {}%",
                jitter.as_percent(),
                other.jitter.as_percent()
            ));
        }
        Ok(Self::of_runs(&scenario, &path, jitter, parts.into_iter().flat_map(|p| p.runs).collect()))
    }

    /// Seeds where some target was missed (or the simulation failed).
    pub fn failing(&self) -> Vec<u64> {
        self.runs.iter().filter(|r| r.failed()).map(|r| r.seed).collect()
    }

    /// The worst seed: a failed simulation or never restored first, then the longest RTO;
    /// the first seed on ties.
    pub fn worst(&self) -> Option<&SeedResult> {
        worst_of(self.runs.iter())
    }

    /// The worst of the seeds that ran and missed a target (what `--shrink` starts from).
    pub fn worst_missing(&self) -> Option<&SeedResult> {
        worst_of(self.runs.iter().filter(|r| r.error.is_none() && r.failed()))
    }

    /// The command that reproduces `seed` of this sweep.
    pub fn reproduce_command(&self, seed: u64) -> String {
        reproduce_command(&self.path, seed, self.jitter)
    }

    /// One JUnit testcase per seed: it fails when the seed missed a target (or did not run),
    /// as the sweep's own pass/fail count and exit code do. Built from the seeds' results
    /// alone, so a merge of shards renders the same document as the whole sweep.
    pub fn junit(&self) -> String {
        let cases: Vec<Case> = self
            .runs
            .iter()
            .map(|r| {
                let failure = match &r.error {
                    Some(e) => Some((format!("the simulation failed: {e}"), e.clone())),
                    None if r.failed() => {
                        let mut details = r.missed.clone();
                        details.push(format!("reproduce: {}", self.reproduce_command(r.seed)));
                        Some((format!("missed {}", r.missed_targets().join(", ")), details.join("\n")))
                    }
                    None => None,
                };
                Case {
                    name: format!("{} [seed {}]", self.scenario, r.seed),
                    path: self.path.clone(),
                    seed: r.seed,
                    failure,
                }
            })
            .collect();
        check::junit::render_cases(&cases)
    }

    fn distribution(&self, pick: impl Fn(&SeedResult) -> Option<u64>) -> Distribution {
        Distribution::of(
            self.runs.iter().filter(|r| r.error.is_none()).map(|r| pick(r).map(Duration::from_millis)),
        )
    }

    /// (name, distribution) rows: RTO, RPO, then each phase.
    fn rows(&self) -> Vec<(&'static str, Distribution)> {
        let mut rows =
            vec![("rto", self.distribution(|r| r.rto_ms)), ("rpo", self.distribution(|r| r.rpo_ms))];
        for phase in PHASES {
            let applies =
                self.runs.iter().filter(|r| r.error.is_none()).filter_map(|r| r.phases_ms.get(phase));
            rows.push((phase, Distribution::of(applies.map(|v| v.map(Duration::from_millis)))));
        }
        rows
    }

    fn lost_writes(&self) -> Distribution {
        // Counts ride in the millisecond field of a Duration; shown as plain numbers.
        self.distribution(|r| r.lost_writes)
    }

    /// How many seeds met each declared target.
    fn pass_rates(&self) -> Vec<(String, usize)> {
        let mut rates: BTreeMap<String, usize> = BTreeMap::new();
        for run in &self.runs {
            for (name, met) in &run.met {
                *rates.entry(name.clone()).or_default() += usize::from(*met);
            }
        }
        rates.into_iter().collect()
    }

    /// The human summary.
    pub fn text(&self) -> String {
        let n = self.runs.len();
        let jitter = match self.jitter.as_percent() {
            0 => String::new(),
            p => format!(", values jittered by up to ±{p}%"),
        };
        let mut out = format!("sweep {} ({}) over {n} seeds{jitter}\n\n", self.scenario, self.path);
        let _ = writeln!(
            out,
            "{:<12} {:>10} {:>10} {:>10} {:>10} {:>10}  {:>5}  {:>5}",
            "measure", "min", "p50", "p90", "p99", "max", "never", "n/a"
        );
        let ran = self.runs.iter().filter(|r| r.error.is_none()).count();
        let show = |d: Option<Duration>| d.map_or("-".to_owned(), format_duration);
        for (name, d) in self.rows() {
            let [min, p50, p90, p99, max] = d.summary().map(show);
            let not_applicable = ran - d.sorted.len() - d.missing;
            let _ = writeln!(
                out,
                "{name:<12} {min:>10} {p50:>10} {p90:>10} {p99:>10} {max:>10}  {:>5}  {not_applicable:>5}",
                d.missing
            );
        }
        let [min, p50, p90, p99, max] =
            self.lost_writes().summary().map(|d| d.map_or("-".to_owned(), |d| d.as_millis().to_string()));
        let _ = writeln!(out, "{:<12} {min:>10} {p50:>10} {p90:>10} {p99:>10} {max:>10}", "lost_writes");
        let _ = writeln!(out, "\ntargets met");
        for (name, met) in self.pass_rates() {
            let _ = writeln!(out, "  {name:<13} {met}/{n} seeds ({:.1}%)", 100.0 * met as f64 / n as f64);
        }
        if let Some(worst) = self.worst() {
            let rto = worst.rto_ms.map_or("never".to_owned(), |r| format_duration(Duration::from_millis(r)));
            let _ = writeln!(out, "\nworst seed {}: RTO {rto}", worst.seed);
            let _ = writeln!(out, "reproduce: {}", self.reproduce_command(worst.seed));
        }
        let failing = self.failing();
        let _ = writeln!(out, "\n{} passed, {} failed", n - failing.len(), failing.len());
        out
    }

    /// The same, machine-readable; it carries every seed's result, so shards can be merged.
    pub fn json(&self) -> Value {
        let to_ms = |d: Option<Duration>| ms(d);
        let ran = self.runs.iter().filter(|r| r.error.is_none()).count();
        let rows: serde_json::Map<String, Value> = self
            .rows()
            .into_iter()
            .map(|(name, d)| {
                let [min, p50, p90, p99, max] = d.summary().map(to_ms);
                (
                    format!("{name}_ms"),
                    json!({
                        "min": min, "p50": p50, "p90": p90, "p99": p99, "max": max,
                        "unbounded": d.missing, "not_applicable": ran - d.sorted.len() - d.missing,
                    }),
                )
            })
            .collect();
        let [min, p50, p90, p99, max] = self.lost_writes().summary().map(to_ms);
        let rates: serde_json::Map<String, Value> =
            self.pass_rates().into_iter().map(|(name, met)| (name, json!(met))).collect();
        json!({
            "scenario": self.scenario,
        "path": self.path,
            "jitter_percent": self.jitter.as_percent(),
            "seeds": self.runs.iter().map(|r| r.seed).collect::<Vec<_>>(),
            "distributions": rows,
            "lost_writes": {"min": min, "p50": p50, "p90": p90, "p99": p99, "max": max},
            "targets_met": rates,
            "failing_seeds": self.failing(),
            "worst_seed": self.worst().map(|r| r.seed),
            "runs": self.runs,
        })
    }
}

/// The worst of `runs`: a failed simulation or never restored first, then the longest RTO; the
/// first on ties.
fn worst_of<'a>(runs: impl Iterator<Item = &'a SeedResult>) -> Option<&'a SeedResult> {
    let key = |r: &SeedResult| if r.error.is_some() { u64::MAX } else { r.rto_ms.unwrap_or(u64::MAX) };
    runs.fold(None, |worst: Option<&SeedResult>, r| match worst {
        Some(w) if key(w) >= key(r) => Some(w),
        _ => Some(r),
    })
}

/// The slice `k` of `n` (1-based) of `items`: every n-th item from the k-th, so that N CI jobs
/// each take their share and together take everything once.
pub fn shard<T: Clone>(items: &[T], k: usize, n: usize) -> Vec<T> {
    items.iter().enumerate().filter(|(i, _)| i % n == k - 1).map(|(_, t)| t.clone()).collect()
}

/// Parses `--shard K/N` (1 <= K <= N).
pub fn parse_shard(spec: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard {spec:?}: expected K/N with 1 <= K <= N, like 2/4");
    let (k, n) = spec.split_once('/').ok_or_else(bad)?;
    let (k, n) =
        (k.trim().parse::<usize>().map_err(|_| bad())?, n.trim().parse::<usize>().map_err(|_| bad())?);
    if k == 0 || n == 0 || k > n { Err(bad()) } else { Ok((k, n)) }
}
