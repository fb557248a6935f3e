//! The bad DELETE scenarios, checked by hand: restore points, restore durations, rows lost and
//! the drill's finding follow from the backup plan's numbers (500 GB at 1 TB/h, 2 GB/h of
//! changes, 2.5 writes per second before the start, the DELETE at +30m40s).

use std::path::PathBuf;
use std::time::Duration;

use gameday::Scenario;
use gameday::check::{self, Outcome};
use gameday::measure::{Measurement, WorldEventKind};

const HOUR: f64 = 3600.0;
/// Rows per second before the start: 5 requests/s, half of them writes, one service.
const HISTORY_RATE: f64 = 2.5;
/// `t_fault`: the DELETE.
const T_FAULT: f64 = 30.0 * 60.0 + 40.0;

fn run(files: &[&str]) -> Vec<Outcome> {
    let scenarios: Vec<Scenario> = files
        .iter()
        .map(|f| Scenario::from_file(&PathBuf::from("scenarios").join(f)).expect("bundled scenarios parse"))
        .collect();
    check::run_all(&scenarios, 2, |_| {})
}

fn measurement(o: &Outcome) -> &Measurement {
    &o.report.as_ref().expect("the simulation runs").measurement
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[track_caller]
fn close(measured: f64, expected: f64, within: f64, what: &str) {
    assert!(
        (measured - expected).abs() <= within,
        "{what}: measured {measured}, expected {expected} ± {within}"
    );
}

/// Time to restore `gb` gigabytes at 1 TB/h.
fn restore_secs(gb: f64) -> f64 {
    gb / 1000.0 * HOUR
}

#[test]
fn restore_points_durations_rows_lost_and_the_drill_follow_from_the_plan() {
    let outcomes = run(&[
        "bad-delete-stale-backup.toml",
        "bad-delete-corrupt-backup.toml",
        "bad-delete-verified-backups.toml",
    ]);
    let [stale, corrupt, verified] = [&outcomes[0], &outcomes[1], &outcomes[2]].map(measurement);

    // The DELETE selects 18.5% of every row, history and customers' writes alike.
    for o in &outcomes {
        let report = o.report.as_ref().unwrap();
        let deleted = report
            .timeline
            .iter()
            .find(|e| e.kind == WorldEventKind::RowsDeleted)
            .and_then(|e| e.details.split(' ').next()?.parse::<f64>().ok())
            .expect("the DELETE is on the timeline with its row count");
        let rows = HISTORY_RATE * 12.0 * 24.0 * HOUR + 2.5 * T_FAULT;
        close(deleted, 0.185 * rows, 0.01 * rows, "rows deleted");
    }

    // Weekly fulls only, the newest taken 71h30m before the start: the restore takes 500 GB at
    // 1 TB/h and gives up everything since that full.
    let r = stale.backups.as_ref().and_then(|b| b.restore.as_ref()).expect("the stale plan restores");
    assert_eq!(r.point_ms, -(71 * 3600 + 30 * 60) * 1000);
    close(secs(r.finished - r.started), restore_secs(500.0), 0.001, "one full restore");
    assert_eq!(r.fallbacks, 0);
    let age = 71.5 * HOUR + T_FAULT;
    close(secs(stale.rpo.expect("measured")), age, 1.0 / HISTORY_RATE + 0.001, "RPO: back to the full");
    close(stale.history_lost.rows as f64, HISTORY_RATE * 71.5 * HOUR, 2.0, "history rows lost");
    assert!(stale.lost_writes > stale.history_lost.rows, "customers' writes since the start are lost too");

    // The newest full is corrupt: 30 minutes spent on it, then the full of the week before.
    let r = corrupt.backups.as_ref().and_then(|b| b.restore.as_ref()).expect("the corrupt plan restores");
    assert_eq!(r.point_ms, -(239 * 3600 + 30 * 60) * 1000);
    assert_eq!(r.fallbacks, 1);
    close(secs(r.finished - r.started), 2.0 * restore_secs(500.0), 0.001, "two full restores");
    close(secs(corrupt.rpo.expect("measured")), age + 168.0 * HOUR, 0.401, "RPO: back a week more");
    close(corrupt.history_lost.rows as f64, HISTORY_RATE * 239.5 * HOUR, 2.0, "history rows lost");

    // The fixed plan: the daily drill at -48h restores the newest chain (the corrupt full of
    // -71h30m, the 23 hourly incrementals up to -48h30m and half an hour of WAL: 547 GB) and
    // finds the full corrupt.
    let b = verified.backups.as_ref().expect("drills and a restore");
    assert_eq!(b.drill_findings.len(), 1, "{:?}", b.drill_findings);
    let drill = restore_secs(500.0 + 23.0 * 2.0 + 0.5 * 2.0);
    close(b.drill_findings[0].found_ms as f64 / 1000.0, -48.0 * HOUR + drill, 0.002, "the drill's finding");
    close(secs(b.caught_before_incident.expect("before")), T_FAULT + 48.0 * HOUR - drill, 0.002, "caught");
    // The restore skips the known-bad full: the week-older full, its last differential (6 days
    // of changes), 23 incrementals, then the archived WAL from the last incremental up to just
    // before the DELETE (the archiver kept shipping after it).
    let r = b.restore.as_ref().expect("the verified plan restores");
    assert_eq!(r.fallbacks, 0, "the drill already found the corrupt copy");
    let wal_hours = 72.5 + T_FAULT / HOUR;
    let gb = 500.0 + 144.0 * 2.0 + 23.0 * 2.0 + wal_hours * 2.0;
    close(secs(r.finished - r.started), restore_secs(gb), 0.01, "the restore of the older chain");
    assert_eq!(r.point_ms, (30 * 60 + 40) * 1000 - 1, "1 ms before the DELETE");
    assert_eq!(verified.rpo, Some(Duration::ZERO), "nothing written before the DELETE is lost");
    assert_eq!(verified.lost_writes, verified.split_brain_writes, "only writes taken after the DELETE");
    assert_eq!(verified.history_lost.rows, 0);
    assert!(verified.passed, "the fixed plan meets its targets: {:?}", verified.targets);
    assert!(!stale.passed && !corrupt.passed);
}

/// A small plan on one day: a full backup an hour before the start, incrementals every 10
/// minutes during the run, WAL archived every minute.
const SMALL: &str = r#"name = "archive stops, then a bad DELETE"
seed = 5
duration = "1h"
tick = "100ms"
[targets]
rpo = "5m"
[[regions]]
name = "a"
[[regions]]
name = "b"
[[services]]
name = "orders"
primary = "a"
runbook = "restore"
[database]
primary = "a"
replica = "b"
[backups]
store = "b"
size = "10GB"
change_rate = "1GB/h"
restore_rate = "1TB/h"
full = "1d"
full_age = "1h"
incremental = "10m"
wal_archive = "1m"
history = "2d"
[traffic]
rate = "4/s"
[monitor]
interval = "10s"
timeout = "5s"
alert_after = 2
failover_after = 4
[[escalation]]
notify = "dba"
ack_timeout = "10m"
[responders.dba]
ack_after = "1m"
decide_after = "1m"
[[faults]]
at = "12m30s"
kind = "archive_stop"
[[faults]]
at = "20m"
kind = "bad_delete"
[[faults]]
at = "21m"
kind = "user_report"
service = "orders"
"#;

#[test]
fn a_stopped_archiver_and_the_incrementals_set_the_restore_point() {
    let scenario = Scenario::parse(&gameday::diagnostic::SourceFile::new("small.toml", SMALL)).unwrap();
    let report = scenario.run_with_seed(5).unwrap();
    let m = &report.measurement;
    // Incrementals at +10m and +20m reached the store during the run.
    let taken: Vec<&str> = report
        .timeline
        .iter()
        .filter(|e| e.kind == WorldEventKind::BackupTaken)
        .map(|e| e.details.as_str())
        .collect();
    assert_eq!(taken.len(), 5, "incrementals of +10m .. +50m: {taken:?}");
    assert!(taken[0].starts_with("incremental backup of +10m"), "{taken:?}");
    // WAL stopped reaching the store at +12m30s: the newest copy before the DELETE is the
    // incremental of +10m (the seventh since the full of -1h), then WAL to the segment of +12m.
    let r = m.backups.as_ref().and_then(|b| b.restore.as_ref()).expect("restored");
    assert_eq!(r.point_ms, 12 * 60 * 1000, "the last archive before the archiver stopped: {r:?}");
    assert_eq!(r.chain, "full backup of -1h + 7 incremental(s) + WAL to +12m");
    // RPO: the DELETE at +20m less the first write after +12m.
    let rpo = secs(m.rpo.expect("measured"));
    assert!((7.0 * 60.0..8.0 * 60.0).contains(&rpo), "RPO {rpo} s: about 8 minutes of writes lost");
    assert!(!m.passed, "a 5-minute RPO target is missed");
    // 10 GB full + seven 10-minute incrementals + 2 minutes of WAL at 1 TB/h.
    let gb = 10.0 + 7.0 / 6.0 + 2.0 / 60.0;
    close(secs(r.finished - r.started), restore_secs(gb), 0.01, "restore duration");
}

#[test]
fn copies_kept_in_a_region_that_goes_dark_cannot_be_restored() {
    // The object store's region fails before the DELETE: the restore cannot fetch the catalog,
    // the runbook's step fails, and the data stays as the DELETE left it.
    let text = format!("{SMALL}[[faults]]\nat = \"15m\"\nkind = \"region_outage\"\nregion = \"b\"\n");
    let scenario = Scenario::parse(&gameday::diagnostic::SourceFile::new("dark.toml", text)).unwrap();
    let report = scenario.run_with_seed(5).unwrap();
    let kinds: Vec<WorldEventKind> = report.timeline.iter().map(|e| e.kind).collect();
    assert!(!kinds.contains(&WorldEventKind::Restored), "nothing to restore from");
    assert!(kinds.contains(&WorldEventKind::BackupFailed), "the incremental of +20m had nowhere to go");
    assert!(
        report
            .timeline
            .iter()
            .any(|e| e.details.contains("restore-from-backup") && e.details.contains("503")),
        "the runbook's step failed on the unreachable store"
    );
    let m = &report.measurement;
    assert_eq!(m.phases.mitigate.status, gameday::measure::PhaseStatus::Never);
    // Without a restore the deleted rows stay deleted: every one is a lost write, back to the
    // start of history, so the RPO reaches back two days.
    assert!(m.rpo.is_some_and(|r| r > Duration::from_secs(47 * 3600)), "{:?}", m.rpo);
}
