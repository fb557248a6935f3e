//! `gameday sweep --shrink`: from a seed that misses a target, the smallest scenario found that
//! still misses exactly the same targets, as a file that reproduces the miss on its own.
//!
//! As proptest shrinks a failing input: fix the seed (and the jitter drawn for it) into the
//! scenario, then greedily try edits in order of how much they simplify, keep the first one
//! that still fails the same way, and start over from the smaller scenario until no edit does
//! or the run budget is spent. The edits, most simplifying first:
//!
//! 1. drop a fault (not the last one, unless `incident_start` sets the incident's start);
//! 2. drop a service (never the last), with the faults aimed at it;
//! 3. drop an escalation level;
//! 4. replace a ranged `ack_after` by a fixed value: the value the seed drew for the first
//!    page, then the range's low end, then its high end;
//! 5. shorten a fault's `for` to half, else to three quarters;
//! 6. shorten `duration`, to just past the restoration the run measured plus one window, else
//!    halfway there (never before the last fault);
//! 7. tidy up what no longer matters: regions nothing is placed in, responders nothing pages,
//!    targets that are met, a `for` that runs past the end.
//!
//! Every candidate is written as TOML and parsed back through the real validator, so only
//! valid files are tried and the result is exactly what is written. "Fails the same way" means
//! the same set of missed targets, each bounded or unbounded as before: a cut `duration` that
//! turns a late restoration into none would reproduce a different failure.
//!
//! A round's candidates run `jobs` at a time and the first one in edit order that fails wins,
//! so the result does not depend on `jobs`; the budget counts runs as a one-at-a-time search
//! would, for the same reason.

use std::path::Path;
use std::time::Duration;

use crate::check;
use crate::diagnostic::SourceFile;
use crate::measure::TargetName;
use crate::report::{Report, format_duration, shell_quote};
use crate::scenario::write::{duration_text, to_toml};
use crate::scenario::{AckDelay, Expectation, FaultKind, Place, Scenario, Targets};
use crate::sim::pager::drawn_ack_delay;

use super::jitter::Jitter;

/// How hard to search.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Most simulation runs, the first (the failing seed itself) included.
    pub max_runs: usize,
    /// Runs at once.
    pub jobs: usize,
}

/// The default run budget: a few rounds of every edit on a scenario with a handful of faults.
pub const DEFAULT_MAX_RUNS: usize = 100;

/// The result of a shrink.
#[derive(Debug)]
pub struct Shrunk {
    /// The smallest scenario found; its `seed` is the failing seed.
    pub scenario: Scenario,
    /// Its run, which misses the same targets as the seed did.
    pub report: Report,
    /// The run of the seed before shrinking.
    pub original: Report,
    /// The edits kept, in order.
    pub steps: Vec<String>,
    /// Runs counted against the budget (as a one-at-a-time search would do them).
    pub runs: usize,
    /// Runs actually done (a parallel round can run candidates after the first that fails).
    pub executed: usize,
    /// The budget ran out before every edit was tried.
    pub exhausted: bool,
}

/// What the shrunk scenario must keep doing: miss these targets, each bounded or not.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Failure(Vec<(TargetName, bool)>);

impl Failure {
    fn of(report: &Report) -> Failure {
        Failure(report.measurement.missed().map(|(name, v)| (name, v.verdict.measured().is_some())).collect())
    }
}

/// Shrinks `scenario` as run with `seed` and `jitter`, into a scenario meant to be written to
/// `out`. Errors when that seed misses no target or the simulation itself fails.
pub fn shrink(
    scenario: &Scenario,
    seed: u64,
    jitter: Jitter,
    out: &Path,
    options: Options,
) -> Result<Shrunk, String> {
    let fixed = Scenario {
        seed,
        name: format!("{}, shrunk from seed {seed}", scenario.name),
        ..jitter.apply(scenario, seed)
    };
    let start = reparse(&fixed, out).map_err(|e| format!("the seed's scenario does not write back: {e}"))?;
    let original = start.run().map_err(|e| format!("seed {seed}: the simulation failed: {e}"))?;
    let goal = Failure::of(&original);
    if goal.0.is_empty() {
        return Err(format!("seed {seed} meets every target: nothing to shrink"));
    }
    let mut shrunk = Shrunk {
        scenario: start,
        report: original.clone(),
        original,
        steps: Vec::new(),
        runs: 1,
        executed: 1,
        exhausted: false,
    };
    loop {
        let mut candidates: Vec<(String, Scenario)> = edits(&shrunk.scenario, &shrunk.report, &goal, seed)
            .into_iter()
            .filter_map(|(what, s)| reparse(&s, out).ok().map(|s| (what, s)))
            .filter(|(_, s)| *s != shrunk.scenario)
            .collect();
        if candidates.is_empty() {
            return Ok(shrunk);
        }
        let budget = options.max_runs.saturating_sub(shrunk.runs);
        let untried = candidates.len() > budget;
        candidates.truncate(budget);
        if candidates.is_empty() {
            shrunk.exhausted = true;
            return Ok(shrunk);
        }
        let mut kept = None;
        for (start, chunk) in (0..).step_by(options.jobs.max(1)).zip(candidates.chunks(options.jobs.max(1))) {
            let scenarios: Vec<Scenario> = chunk.iter().map(|(_, s)| s.clone()).collect();
            let outcomes = check::run_all(&scenarios, options.jobs, |_| {});
            shrunk.executed += outcomes.len();
            let first = outcomes
                .into_iter()
                .enumerate()
                .find_map(|(i, o)| o.report.ok().filter(|r| Failure::of(r) == goal).map(|r| (start + i, r)));
            if first.is_some() {
                kept = first;
                break;
            }
        }
        let Some((index, report)) = kept else {
            shrunk.runs += candidates.len();
            shrunk.exhausted = untried;
            return Ok(shrunk);
        };
        shrunk.runs += index + 1;
        let (what, scenario) = candidates.swap_remove(index);
        shrunk.steps.push(what);
        shrunk.scenario = scenario;
        shrunk.report = report;
    }
}

/// `s` written out and parsed back, as the file at `path` would be.
fn reparse(s: &Scenario, path: &Path) -> Result<Scenario, String> {
    Scenario::parse(&SourceFile::new(path, to_toml(s, ""))).map_err(|e| e.to_string())
}

/// The candidate edits of `s`, most simplifying first, each with what it does.
fn edits(s: &Scenario, report: &Report, goal: &Failure, seed: u64) -> Vec<(String, Scenario)> {
    let mut out = Vec::new();
    let mut edit = |what: String, change: &dyn Fn(&mut Scenario)| {
        let mut c = s.clone();
        change(&mut c);
        out.push((what, c));
    };

    // 1. Faults.
    if s.faults.len() > 1 || s.targets.incident_start.is_some() {
        for (i, f) in s.faults.iter().enumerate() {
            edit(format!("drop fault {} at {}", f.kind.name(), duration_text(f.at)), &|c| {
                c.faults.remove(i);
            });
        }
    }
    // 2. Services, with the faults aimed at them.
    if s.services.len() > 1 {
        for (i, service) in s.services.iter().enumerate() {
            edit(format!("drop service {}", service.name), &|c| {
                let name = c.services.remove(i).name;
                c.faults.retain(|f| fault_service(&f.kind) != Some(name.as_str()));
            });
        }
    }
    // 3. Escalation levels.
    for (i, level) in s.escalation.iter().enumerate() {
        edit(format!("drop escalation level {} ({})", i + 1, level.notify), &|c| {
            c.escalation.remove(i);
        });
    }
    // 4. Ranged acknowledgement delays become fixed.
    for (who, responder) in &s.responders {
        let AckDelay::Range(lo, hi) = responder.ack_after else { continue };
        let drawn = drawn_ack_delay(seed, who, 1, lo, hi);
        let mut values = vec![drawn, lo, hi];
        values.dedup();
        for (k, value) in values.into_iter().enumerate() {
            if k > 0 && value == drawn {
                continue;
            }
            edit(format!("fix {who}'s ack_after at {}", duration_text(value)), &|c| {
                if let Some(r) = c.responders.get_mut(who) {
                    r.ack_after = AckDelay::Fixed(value);
                }
            });
        }
    }
    // 5. Shorter faults.
    for (i, f) in s.faults.iter().enumerate() {
        let Some(d) = f.duration else { continue };
        if f.at + d >= s.duration {
            continue;
        }
        for shorter in [whole_seconds(d / 2), whole_seconds(d * 3 / 4)] {
            if !shorter.is_zero() && shorter < d {
                let what = format!(
                    "shorten fault {} at {} to {}",
                    f.kind.name(),
                    duration_text(f.at),
                    duration_text(shorter)
                );
                edit(what, &|c| c.faults[i].duration = Some(shorter));
            }
        }
    }
    // 6. A shorter run: past the last fault, and past the restoration the run measured plus a
    // window, so that what is measured stays measurable.
    let last_fault = s.faults.iter().map(|f| f.at).chain(s.targets.incident_start).max().unwrap_or_default();
    let m = &report.measurement;
    let restored = m.t_fault.zip(m.rto).map_or(Duration::ZERO, |(t, rto)| t + rto + s.traffic.window);
    let floor = whole_minutes(last_fault.max(restored) + Duration::from_secs(1)).max(s.traffic.window);
    if floor < s.duration {
        let halfway = whole_minutes(floor + (s.duration - floor) / 2);
        let mut shorter = vec![floor, halfway];
        shorter.dedup();
        for d in shorter.into_iter().filter(|d| *d < s.duration) {
            edit(format!("shorten duration to {}", duration_text(d)), &|c| c.duration = d);
        }
    }
    // 7. Tidy up.
    let unused: Vec<String> = s.regions.iter().filter(|r| !region_used(s, r)).cloned().collect();
    if !unused.is_empty() && unused.len() < s.regions.len() {
        edit(format!("drop unused regions {}", unused.join(", ")), &|c| {
            c.regions.retain(|r| !unused.contains(r));
            c.latency.retain(|l| !unused.contains(&l.between.0) && !unused.contains(&l.between.1));
        });
    }
    let unpaged: Vec<String> = s.responders.keys().filter(|who| !responder_used(s, who)).cloned().collect();
    if !unpaged.is_empty() {
        edit(format!("drop responders nobody pages: {}", unpaged.join(", ")), &|c| {
            c.responders.retain(|who, _| !unpaged.contains(who));
        });
    }
    let named: Vec<String> = match &s.expect {
        Expectation::Pass => Vec::new(),
        Expectation::Fail { missed } => missed.clone(),
    };
    let met: Vec<TargetName> = m
        .targets
        .keys()
        .copied()
        .filter(|name| !goal.0.iter().any(|(g, _)| g == name) && !named.iter().any(|n| n == name.as_str()))
        .collect();
    if !met.is_empty() {
        let names: Vec<&str> = met.iter().map(|n| n.as_str()).collect();
        edit(format!("drop targets that are met: {}", names.join(", ")), &|c| {
            for name in &met {
                clear_target(&mut c.targets, *name);
            }
        });
    }
    for (i, f) in s.faults.iter().enumerate() {
        if f.duration.is_some_and(|d| f.at + d >= s.duration) {
            edit(format!("let fault {} at {} last to the end", f.kind.name(), duration_text(f.at)), &|c| {
                c.faults[i].duration = None;
            });
        }
    }
    out
}

fn whole_seconds(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs())
}

/// `d` rounded up to a whole minute: shortened durations stay readable.
fn whole_minutes(d: Duration) -> Duration {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    Duration::from_secs(secs.div_ceil(60) * 60)
}

fn fault_service(kind: &FaultKind) -> Option<&str> {
    match kind {
        FaultKind::HttpErrors { service, .. }
        | FaultKind::SlowResponses { service, .. }
        | FaultKind::PoolExhaustion { service, .. }
        | FaultKind::CapacityLimit { service, .. }
        | FaultKind::UserReport { service } => Some(service),
        FaultKind::RegionOutage { .. }
        | FaultKind::HostCrash { .. }
        | FaultKind::Partition { .. }
        | FaultKind::Latency { .. }
        | FaultKind::Blackhole { .. }
        | FaultKind::ReplicationLag { .. }
        | FaultKind::ReplicationStop
        | FaultKind::DnsTtlOverrun { .. }
        | FaultKind::ResponderAbsent { .. }
        | FaultKind::MonitorCrash
        | FaultKind::BadDelete { .. }
        | FaultKind::BackupCorrupt { .. }
        | FaultKind::ArchiveStop => None,
    }
}

/// The regions and hosts a fault names.
fn fault_places(kind: &FaultKind) -> Vec<&str> {
    match kind {
        FaultKind::RegionOutage { region } => vec![region],
        FaultKind::HostCrash { host } => vec![host],
        FaultKind::Partition { a, b, .. }
        | FaultKind::Latency { a, b, .. }
        | FaultKind::Blackhole { a, b } => [a, b]
            .into_iter()
            .map(|p| match p {
                Place::Region(name) | Place::Host(name) => name.as_str(),
            })
            .collect(),
        FaultKind::HttpErrors { region, .. }
        | FaultKind::SlowResponses { region, .. }
        | FaultKind::PoolExhaustion { region, .. } => region.iter().map(String::as_str).collect(),
        FaultKind::CapacityLimit { region, .. } => vec![region],
        FaultKind::ReplicationLag { .. }
        | FaultKind::ReplicationStop
        | FaultKind::DnsTtlOverrun { .. }
        | FaultKind::ResponderAbsent { .. }
        | FaultKind::MonitorCrash
        | FaultKind::BadDelete { .. }
        | FaultKind::BackupCorrupt { .. }
        | FaultKind::ArchiveStop
        | FaultKind::UserReport { .. } => Vec::new(),
    }
}

/// Whether anything but a `[[latency]]` entry names `region` (a host name counts).
fn region_used(s: &Scenario, region: &str) -> bool {
    let names = |place: &str| {
        place == region
            || place
                .strip_suffix("-app")
                .or_else(|| place.strip_suffix("-db"))
                .or_else(|| place.strip_suffix("-store"))
                == Some(region)
    };
    s.services.iter().any(|x| x.primary == region || x.standby.as_deref() == Some(region))
        || s.database.as_ref().is_some_and(|d| d.primary == region || d.replica.as_deref() == Some(region))
        || s.traffic.region.as_deref() == Some(region)
        || s.monitor.region.as_deref() == Some(region)
        || s.backups.as_ref().is_some_and(|b| b.store == region)
        || s.faults.iter().any(|f| fault_places(&f.kind).into_iter().any(names))
}

fn responder_used(s: &Scenario, who: &str) -> bool {
    s.escalation.iter().any(|l| l.notify == who)
        || s.faults
            .iter()
            .any(|f| matches!(&f.kind, FaultKind::ResponderAbsent { responder } if responder == who))
}

fn clear_target(t: &mut Targets, name: TargetName) {
    match name {
        TargetName::Rto => t.rto = None,
        TargetName::Rpo => t.rpo = None,
        TargetName::Detect => t.detect = None,
        TargetName::Page => t.page = None,
        TargetName::Acknowledge => t.acknowledge = None,
        TargetName::Mitigate => t.mitigate = None,
        TargetName::Recover => t.recover = None,
        TargetName::Availability => t.availability = None,
        TargetName::LostWrites => t.lost_writes = None,
    }
}

/// The comment block of the shrunk file: what it reproduces, from where, how to run it, and
/// how it got smaller.
pub fn header(shrunk: &Shrunk, source: &str, jitter: Jitter) -> String {
    let s = &shrunk.scenario;
    let o = &shrunk.original;
    let mut lines = vec![format!(
        "Shrunk by `gameday sweep --shrink` from {source}, seed {}{}.",
        s.seed,
        jitter.flag().map_or(String::new(), |f| format!(" with {f} (the drawn values are written in)"))
    )];
    lines.push("On its own it misses the same targets as that seed did:".to_owned());
    lines.extend(shrunk.report.missed_lines().into_iter().map(|l| format!("  {l}")));
    lines.push(format!("(the seed in the source: {})", o.missed_lines().join("; ")));
    lines.push(format!("Run it: gameday run {} (the seed is in the file)", shell_quote(&shrunk.report.path)));
    lines.push(String::new());
    lines.push(format!(
        "Kept {} of the edits tried in {} runs{}:",
        shrunk.steps.len(),
        shrunk.runs,
        if shrunk.exhausted { " (the run budget ran out)" } else { "" }
    ));
    lines.extend(shrunk.steps.iter().map(|step| format!("- {step}")));
    lines.join("\n")
}

/// One line on how much smaller the result is.
pub fn summary_line(source: &Scenario, shrunk: &Shrunk) -> String {
    let s = &shrunk.scenario;
    let ranges =
        |x: &Scenario| x.responders.values().filter(|r| matches!(r.ack_after, AckDelay::Range(..))).count();
    format!(
        "faults {} -> {}, services {} -> {}, ranged ack delays {} -> {}, duration {} -> {}; {} runs",
        source.faults.len(),
        s.faults.len(),
        source.services.len(),
        s.services.len(),
        ranges(source),
        ranges(s),
        format_duration(source.duration),
        format_duration(s.duration),
        shrunk.runs
    )
}
