//! The backup plan as data: which copies exist when, which ones are corrupt, what a restore
//! to a point would apply and how long it takes. Pure: the store host, the backup agent, the
//! drills and the restore handler all ask these functions, so a drill and a real restore can
//! never disagree about a chain.
//!
//! Instants are signed milliseconds from the scenario's start: the schedule ran for
//! `history` before it, so the copies a restore needs may be days old.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::scenario::{BackupKind, Backups, Fault, FaultKind};

/// Signed milliseconds from the scenario's start (negative: before it).
pub type Ms = i64;

/// `d` as [`Ms`].
pub fn ms(d: Duration) -> Ms {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// One copy in the object store.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Copy {
    /// Full, differential or incremental.
    #[serde(with = "kind_name")]
    pub kind: BackupKind,
    /// When it was taken (it holds every row committed up to then).
    pub taken: Ms,
    /// The point it builds on: a full on nothing (its own time), a differential on its full,
    /// an incremental on the newest copy before it.
    pub base: Ms,
    /// It was written corrupt: verification after restoring it fails.
    pub corrupt: bool,
    /// When a restore drill found it corrupt, if one did; a restore skips it.
    pub known_bad: Option<Ms>,
}

mod kind_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::scenario::BackupKind;

    pub fn serialize<S: Serializer>(kind: &BackupKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(kind.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BackupKind, D::Error> {
        match String::deserialize(d)?.as_str() {
            "full" => Ok(BackupKind::Full),
            "differential" => Ok(BackupKind::Differential),
            "incremental" => Ok(BackupKind::Incremental),
            other => Err(serde::de::Error::custom(format!("unknown backup kind {other:?}"))),
        }
    }
}

/// What the object store holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// Copies, oldest first.
    pub copies: Vec<Copy>,
    /// WAL is archived contiguously from the start of history up to this point (`None`: WAL
    /// archiving is off).
    pub archived_until: Option<Ms>,
}

/// Every scheduled copy from `-history` up to `until` (inclusive), oldest first, as
/// `(kind, taken, base)`. Fulls every `full` anchored at `-full_age`; differentials every
/// `differential` after each full; incrementals every `incremental` after each full or
/// differential, each based on the copy before it.
pub fn schedule(b: &Backups, until: Ms) -> Vec<(BackupKind, Ms, Ms)> {
    let (full, first) = (ms(b.full), -ms(b.full_age));
    let start = -ms(b.history);
    let mut k = 0;
    while first - (k + 1) * full >= start {
        k += 1;
    }
    let mut out = Vec::new();
    let mut f = first - k * full;
    while f <= until {
        out.push((BackupKind::Full, f, f));
        let next_full = f + full;
        let diff_every = b.differential.map(ms);
        let mut anchor = f;
        loop {
            let next_diff = diff_every.map_or(next_full, |d| anchor + d).min(next_full);
            if let Some(inc) = b.incremental.map(ms) {
                let mut prev = anchor;
                let mut t = anchor + inc;
                while t < next_diff && t <= until {
                    out.push((BackupKind::Incremental, t, prev));
                    prev = t;
                    t += inc;
                }
            }
            if next_diff >= next_full || next_diff > until {
                break;
            }
            out.push((BackupKind::Differential, next_diff, f));
            anchor = next_diff;
        }
        f = next_full;
    }
    out.retain(|&(_, t, _)| t >= start && t <= until);
    out
}

/// Whether the copy `(kind, taken)` is the one a `backup_corrupt` fault designates: the
/// newest copy of its kind taken at or before the fault's `at`.
pub fn designated_corrupt(b: &Backups, faults: &[Fault], kind: BackupKind, taken: Ms) -> bool {
    faults.iter().any(|f| match f.kind {
        FaultKind::BackupCorrupt { backup } if backup == kind => {
            let at = ms(f.at);
            schedule(b, at).iter().rev().find(|(k, _, _)| *k == kind).is_some_and(|&(_, t, _)| t == taken)
        }
        _ => false,
    })
}

/// The copies taken before the scenario starts, with their corruption.
pub fn history(b: &Backups, faults: &[Fault]) -> Catalog {
    let copies = schedule(b, 0)
        .into_iter()
        .map(|(kind, taken, base)| Copy {
            kind,
            taken,
            base,
            corrupt: designated_corrupt(b, faults, kind, taken),
            known_bad: None,
        })
        .collect();
    Catalog { copies, archived_until: b.wal_archive.map(|_| 0) }
}

/// One way of restoring: a full backup and what is applied on top of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    /// The copies applied, full first (indexes into the catalog).
    pub copies: Vec<usize>,
    /// The point the restored copy holds: the last copy's time, or further with WAL.
    pub point: Ms,
    /// WAL replayed from the last copy up to `point`.
    pub wal: Option<(Ms, Ms)>,
    /// Time it takes to download, apply and verify.
    pub duration: Duration,
    /// Whether some copy in it is corrupt: verification after restoring fails.
    pub corrupt: bool,
}

/// The chains a restore to just before `target` tries, in order: the newest full first,
/// skipping fulls a drill found bad; each with the newest good differential of that full and
/// the incrementals after it, then WAL up to the target when the archive reaches it.
pub fn chains(b: &Backups, catalog: &Catalog, target: Ms) -> Vec<Chain> {
    let cs = &catalog.copies;
    let usable = |i: &usize| cs[*i].taken < target && cs[*i].known_bad.is_none();
    let mut fulls: Vec<usize> =
        (0..cs.len()).filter(|i| cs[*i].kind == BackupKind::Full).filter(usable).collect();
    fulls.reverse();
    fulls
        .into_iter()
        .map(|f| {
            let mut chain = vec![f];
            let mut point = cs[f].taken;
            let diff = (0..cs.len())
                .filter(usable)
                .rfind(|i| cs[*i].kind == BackupKind::Differential && cs[*i].base == cs[f].taken);
            if let Some(d) = diff {
                chain.push(d);
                point = cs[d].taken;
            }
            // Incrementals form a chain: each must build on the point reached so far.
            while let Some(i) = (0..cs.len())
                .filter(usable)
                .find(|i| cs[*i].kind == BackupKind::Incremental && cs[*i].base == point)
            {
                chain.push(i);
                point = cs[i].taken;
            }
            let wal = catalog
                .archived_until
                .map(|until| until.min(target - 1))
                .filter(|&until| until > point)
                .map(|until| (point, until));
            let bytes: f64 = chain
                .iter()
                .map(|&i| match cs[i].kind {
                    BackupKind::Full => b.size as f64,
                    // A copy of changed pages holds each page once: never more than the data.
                    _ => changed(b, cs[i].taken - cs[i].base).min(b.size as f64),
                })
                .sum::<f64>()
                + wal.map_or(0.0, |(from, to)| changed(b, to - from));
            Chain {
                corrupt: chain.iter().any(|&i| cs[i].corrupt),
                point: wal.map_or(point, |(_, to)| to),
                copies: chain,
                wal,
                // Absurd sizes or rates take "forever", never a panic.
                duration: Duration::try_from_secs_f64(bytes / b.restore_rate).unwrap_or(Duration::MAX),
            }
        })
        .collect()
}

/// Bytes changed over `span` milliseconds.
fn changed(b: &Backups, span: Ms) -> f64 {
    b.change_rate * (span.max(0) as f64 / 1000.0)
}

impl Copy {
    /// `full backup of -71h30m`.
    pub fn describe(&self) -> String {
        format!("{} backup of {}", self.kind.name(), show(self.taken))
    }
}

/// What `chain` applies, in words: `full backup of -71h30m + differential of -23h30m + 23
/// incrementals + WAL to +29m59s`.
pub fn describe_chain(catalog: &Catalog, chain: &Chain) -> String {
    let mut parts = Vec::new();
    let mut incrementals = 0;
    for &i in &chain.copies {
        let copy = &catalog.copies[i];
        match copy.kind {
            BackupKind::Incremental => incrementals += 1,
            _ => parts.push(copy.describe()),
        }
    }
    if incrementals > 0 {
        parts.push(format!("{incrementals} incremental(s)"));
    }
    if let Some((_, to)) = chain.wal {
        parts.push(format!("WAL to {}", show(to)));
    }
    parts.join(" + ")
}

/// Restore drills before the scenario: at every multiple of `drill` in `[-history, 0)`, the
/// newest chain is restored into an isolated copy; a corrupt copy in it is found when that
/// restore finishes. Marks what they found in `catalog` and returns `(drill at, found at,
/// copy index)` for each copy found corrupt; the drills that found nothing are not listed.
pub fn drills_before_start(b: &Backups, catalog: &mut Catalog) -> Vec<(Ms, Ms, usize)> {
    let Some(every) = b.drill.map(ms) else { return Vec::new() };
    let mut found = Vec::new();
    let mut at = -(ms(b.history) / every) * every;
    while at < 0 {
        // The copies taken by then: a prefix, since the catalog is ordered by time, so an index
        // into it is an index into the catalog.
        let taken_by_then = catalog.copies.partition_point(|c| c.taken <= at);
        let visible = Catalog {
            copies: catalog.copies[..taken_by_then].to_vec(),
            archived_until: catalog.archived_until.map(|_| at),
        };
        if let Some(chain) = chains(b, &visible, at + 1).into_iter().next() {
            let done = at.saturating_add(ms(chain.duration));
            if done < 0 {
                for i in chain.copies {
                    let copy = &mut catalog.copies[i];
                    if copy.corrupt && copy.known_bad.is_none() {
                        copy.known_bad = Some(done);
                        found.push((at, done, i));
                    }
                }
            }
        }
        at += every;
    }
    found
}

/// A signed instant relative to the scenario's start, for the timeline (`-71h30m`).
fn show(at: Ms) -> String {
    crate::report::format_offset(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Backups {
        Backups {
            store: "b".into(),
            size: 2_000_000_000_000,
            change_rate: 20e9 / 3600.0,
            restore_rate: 1e12 / 3600.0,
            full: Duration::from_secs(7 * 86_400),
            full_age: Duration::from_secs(71 * 3600),
            differential: Some(Duration::from_secs(86_400)),
            incremental: Some(Duration::from_secs(3600)),
            wal_archive: None,
            history: Duration::from_secs(10 * 86_400),
            drill: None,
        }
    }

    const H: Ms = 3_600_000;

    #[test]
    fn the_schedule_anchors_differentials_to_fulls_and_incrementals_to_the_copy_before() {
        let s = schedule(&plan(), 0);
        let fulls: Vec<Ms> = s.iter().filter(|c| c.0 == BackupKind::Full).map(|c| c.1).collect();
        assert_eq!(fulls, vec![-71 * H - 168 * H, -71 * H]);
        let diffs: Vec<(Ms, Ms)> = s
            .iter()
            .filter(|c| c.0 == BackupKind::Differential && c.1 > -71 * H)
            .map(|c| (c.1, c.2))
            .collect();
        assert_eq!(diffs, vec![(-47 * H, -71 * H), (-23 * H, -71 * H)]);
        let newest = s.last().unwrap();
        assert_eq!(*newest, (BackupKind::Incremental, 0, -H));
        assert!(s.windows(2).all(|w| w[0].1 < w[1].1), "oldest first, no duplicates");
    }

    #[test]
    fn a_restore_takes_the_newest_chain_and_its_size_over_the_rate() {
        let catalog = history(&plan(), &[]);
        let target = 30 * 60_000; // 30 min after the start
        let chain = &chains(&plan(), &catalog, target)[0];
        // Full of -71h, differential of -23h, incrementals -22h .. 0h.
        assert_eq!(chain.copies.len(), 2 + 23);
        assert_eq!(chain.point, 0);
        // 2 TB + 48 h of changes at 20 GB/h (the differential) + 23 h (incrementals) at 1 TB/h.
        let expected = (2_000.0 + 20.0 * 48.0 + 20.0 * 23.0) / 1_000.0 * 3600.0;
        assert!((chain.duration.as_secs_f64() - expected).abs() < 1.0, "{:?}", chain.duration);
        assert!(!chain.corrupt);
    }

    #[test]
    fn an_absurd_size_or_rate_takes_forever_rather_than_panicking() {
        let mut b = plan();
        b.size = u64::MAX;
        b.restore_rate = 1.0 / 3600.0;
        let chains = chains(&b, &history(&b, &[]), 0);
        assert!(chains.iter().all(|c| c.duration == Duration::MAX), "{chains:?}");
    }

    #[test]
    fn wal_archiving_carries_the_point_to_just_before_the_target() {
        let mut b = plan();
        b.wal_archive = Some(Duration::from_secs(60));
        let mut catalog = history(&b, &[]);
        catalog.archived_until = Some(10 * 60_000);
        let chain = &chains(&b, &catalog, 5 * 60_000)[0];
        assert_eq!(chain.point, 5 * 60_000 - 1);
        assert_eq!(chain.wal, Some((0, 5 * 60_000 - 1)));
    }

    #[test]
    fn a_corrupt_full_is_found_by_the_next_drill_that_restores_it_and_skipped_after() {
        let mut b = plan();
        b.drill = Some(Duration::from_secs(86_400));
        let corrupt = Fault {
            at: Duration::ZERO,
            duration: None,
            kind: FaultKind::BackupCorrupt { backup: BackupKind::Full },
        };
        let mut catalog = history(&b, std::slice::from_ref(&corrupt));
        let found = drills_before_start(&b, &mut catalog);
        // The full of -71h is first restored by the drill at -48h.
        assert_eq!(found.iter().map(|f| f.0).collect::<Vec<_>>(), vec![-48 * H]);
        let chains = chains(&b, &catalog, 0);
        assert_eq!(catalog.copies[chains[0].copies[0]].taken, -71 * H - 168 * H, "falls back a week");
    }
}
