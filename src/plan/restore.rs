//! The restore path of a `restore` runbook: the catalog the restore will fetch from the store,
//! the chains [`crate::backup::chains`] tries in it, how long they take and the point of the
//! one that verifies. It asks the same pure functions the store, the drills and the restore
//! handler ask, so the plan and the simulation cannot disagree about what a chain is.
//!
//! What the plan cannot tell apart is enumerated as cases, and the bound spans them: which
//! bad delete the restore aims just before (and the tick its commit may lag the fault), whether
//! an in-run copy taken just before the restore has reached the store, how far the WAL archive
//! has got, and whether in-run drills have found corrupt copies yet (none found: every corrupt
//! chain is tried; every one a drill could have found: those are skipped).

use std::time::Duration;

use crate::backup::{self, Catalog, Copy, Ms, ms};
use crate::scenario::{BackupKind, Backups, FaultKind, Scenario};

use super::timing::Network;

/// What a restore takes and brings back, over every case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Restore {
    /// From the catalog fetched to a chain verified, in the fastest case.
    pub best: Duration,
    /// The same in the slowest case; `None` when in some case no chain verifies.
    pub worst: Option<Duration>,
    /// The newest point the verified chain can hold.
    pub newest: Ms,
    /// The oldest point the verified chain can hold.
    pub oldest: Ms,
}

/// The restore's outcome: chains that verify, or why none can.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Some chain verifies in at least one case.
    Verifies(Restore),
    /// No chain verifies in any case.
    Never(String),
}

/// When the restore runs, as the plan knows it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct When {
    /// The restore handler starts (and reads the newest delete) within `start.0..=start.1`.
    pub start: (Duration, Duration),
    /// It fetches the catalog within `fetch.0..=fetch.1`.
    pub fetch: (Duration, Duration),
}

/// The restore of the database from `b`, started and fetching within `when`.
pub(crate) fn restore(scenario: &Scenario, b: &Backups, when: When, net: Network) -> Outcome {
    let mut base = backup::history(b, &scenario.faults);
    backup::drills_before_start(b, &mut base);
    let in_run: Vec<Copy> = backup::schedule(b, ms(scenario.duration))
        .into_iter()
        .filter(|&(_, taken, _)| taken > 0)
        .map(|(kind, taken, base)| Copy {
            kind,
            taken,
            base,
            corrupt: backup::designated_corrupt(b, &scenario.faults, kind, taken),
            known_bad: None,
        })
        .collect();
    // Every byte any chain could apply, at the restore rate: beyond what a duration can hold,
    // no restore ends in any run.
    let span = (b.history + scenario.duration).as_secs_f64();
    let copies = (base.copies.len() + in_run.len() + 1) as f64;
    let longest = (b.size as f64 + b.change_rate * span) * copies / b.restore_rate;
    if !(longest.is_finite() && longest < 1e15) {
        return Outcome::Never("a restore at this restore_rate outlasts any run".to_owned());
    }
    let found =
        if b.drill.is_some() { drill_findings(b, &base, &in_run, scenario, when.fetch.1) } else { vec![] };
    // A copy is in the store once shipped: one exchange after it is taken.
    let shipped_by = ms(when.fetch.0).saturating_sub(ms(net.exchange));
    let archives = archive_cases(scenario, b, when.fetch, net);

    let mut results: Vec<Option<(Duration, Ms)>> = Vec::new();
    for target in targets(scenario, when.start, net) {
        for cut in [target, shipped_by.min(target)] {
            for marks in [&[][..], &found[..]] {
                for &archived in &archives {
                    let mut catalog = base.clone();
                    catalog.copies.extend(in_run.iter().filter(|c| c.taken < cut).cloned());
                    for c in &mut catalog.copies {
                        if c.known_bad.is_none() && marks.contains(&(c.kind, c.taken)) {
                            c.known_bad = Some(0);
                        }
                    }
                    catalog.archived_until = archived;
                    results.push(first_verified(b, &catalog, target));
                }
            }
        }
    }
    let verified: Vec<(Duration, Ms)> = results.iter().flatten().copied().collect();
    let (Some(best), Some(newest), Some(oldest)) = (
        verified.iter().map(|v| v.0).min(),
        verified.iter().map(|v| v.1).max(),
        verified.iter().map(|v| v.1).min(),
    ) else {
        return Outcome::Never(
            "no backup chain the restore can fetch verifies: every one holds a corrupt copy".to_owned(),
        );
    };
    let worst = if results.iter().all(Option::is_some) { verified.iter().map(|v| v.0).max() } else { None };
    Outcome::Verifies(Restore { best, worst, newest, oldest })
}

/// The chains tried in order until one verifies: the time they all took, and its point.
fn first_verified(b: &Backups, catalog: &Catalog, target: Ms) -> Option<(Duration, Ms)> {
    let mut took = Duration::ZERO;
    for chain in backup::chains(b, catalog, target) {
        took = took.saturating_add(chain.duration);
        if !chain.corrupt {
            return Some((took, chain.point));
        }
    }
    None
}

/// The points the restore may aim just before: the newest bad delete committed when it
/// starts (a delete commits up to a tick after its `at`), or, when none may have been yet,
/// the instant it starts.
fn targets(scenario: &Scenario, start: (Duration, Duration), net: Network) -> Vec<Ms> {
    let deletes: Vec<Duration> = scenario
        .faults
        .iter()
        .filter(|f| matches!(f.kind, FaultKind::BadDelete { .. }))
        .map(|f| f.at)
        .collect();
    let surely_before = deletes.iter().copied().filter(|&d| d + net.tick <= start.0).max();
    let mut out: Vec<Ms> = deletes
        .iter()
        .copied()
        .filter(|&d| d <= start.1 && surely_before.is_none_or(|s| d >= s))
        .flat_map(|d| [ms(d), ms(d + net.tick)])
        .collect();
    if surely_before.is_none() {
        out.extend([ms(start.0), ms(start.1)]);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// How far the WAL archive has got when the catalog is fetched: the furthest it can have got
/// by the latest fetch, and the furthest it surely has by the earliest (`[None]` without WAL
/// archiving). The archiver ticks every `wal_archive`, a tick and its last exchange late at
/// worst, archives nothing while an `archive_stop` holds, and its word reaches the store an
/// exchange later. An exchange longer than the interval lets it fall behind without bound:
/// then only the history's archive is sure.
fn archive_cases(
    scenario: &Scenario,
    b: &Backups,
    fetch: (Duration, Duration),
    net: Network,
) -> Vec<Option<Ms>> {
    let Some(every) = b.wal_archive else { return vec![None] };
    let stops: Vec<(Duration, Duration)> = scenario
        .faults
        .iter()
        .filter(|f| matches!(f.kind, FaultKind::ArchiveStop))
        .map(|f| (f.at, super::faults::end(f).unwrap_or(Duration::MAX)))
        .collect();
    let stopped_at = |t: Duration| stops.iter().find(|&&(s, e)| s <= t && t < e).map(|&(s, _)| s);

    // Furthest: the last instant before the latest fetch at which a tick could archive.
    let mut t = fetch.1;
    while let Some(s) = stopped_at(t) {
        match s.checked_sub(Duration::from_millis(1)) {
            Some(before) => t = before,
            None => break,
        }
    }
    let furthest = if t >= every && stopped_at(t).is_none() { ms(t) } else { 0 };

    // Surely: the latest window of one tick spacing, free of stops, whose word has reached the
    // store by the earliest fetch.
    let gap = every + net.tick + net.exchange;
    let mut end = fetch.0.saturating_sub(net.exchange);
    let keeps_up = net.exchange + net.tick <= every;
    let surely = if !keeps_up {
        0
    } else {
        loop {
            let Some(from) = end.checked_sub(gap) else { break 0 };
            match stops.iter().filter(|&&(s, e)| s < end && e > from).map(|&(s, _)| s).max() {
                Some(s) => end = s,
                None => break ms(from),
            }
        }
    };
    vec![Some(furthest), Some(surely.min(furthest))]
}

/// Every copy an in-run drill could have found corrupt before the latest fetch. The drills
/// run one after another from the start, every `drill`, each restoring the newest chain of
/// what the store holds (the copy taken at the drill's instant may or may not be there yet).
fn drill_findings(
    b: &Backups,
    base: &Catalog,
    in_run: &[Copy],
    scenario: &Scenario,
    fetch_hi: Duration,
) -> Vec<(BackupKind, Ms)> {
    let Some(every) = b.drill.filter(|d| !d.is_zero()) else { return Vec::new() };
    let horizon = ms(fetch_hi.min(scenario.duration));
    let corrupt = || base.copies.iter().chain(in_run).filter(|c| c.corrupt && c.known_bad.is_none());
    let runs = horizon / ms(every).max(1) + 1;
    if runs > 200 {
        // Too many drills to replay: count every corrupt copy taken before the horizon found.
        return corrupt().filter(|c| c.taken < horizon).map(|c| (c.kind, c.taken)).collect();
    }
    let mut found: Vec<(BackupKind, Ms)> = Vec::new();
    let (mut at, mut free) = (0, 0);
    while at < ms(scenario.duration) && at < horizon {
        let start = at.max(free);
        let mut shortest: Option<Duration> = None;
        for strict in [false, true] {
            let mut visible = base.clone();
            visible
                .copies
                .extend(in_run.iter().filter(|c| c.taken < at || (!strict && c.taken == at)).cloned());
            visible.archived_until = None;
            for c in &mut visible.copies {
                if found.contains(&(c.kind, c.taken)) {
                    c.known_bad = Some(0);
                }
            }
            let Some(chain) = backup::chains(b, &visible, at + 1).into_iter().next() else { continue };
            shortest = Some(shortest.map_or(chain.duration, |s| s.min(chain.duration)));
            if start.saturating_add(ms(chain.duration)) <= horizon {
                for &i in &chain.copies {
                    let c = &visible.copies[i];
                    if c.corrupt && !found.contains(&(c.kind, c.taken)) {
                        found.push((c.kind, c.taken));
                    }
                }
            }
        }
        free = start.saturating_add(shortest.map_or(0, ms));
        at = at.saturating_add(ms(every));
    }
    found
}
