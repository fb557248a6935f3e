//! `gameday plan`: bounds from the configuration alone, each pitfall on a scenario built to
//! show it, exit codes, and, the point of it all, bounds that contain every measured phase.

use std::process::Command;
use std::time::Duration;

use gameday::Scenario;
use gameday::diagnostic::SourceFile;
use gameday::plan::{self, PhaseName, Verdict};
use proptest::prelude::*;

const BASE: &str = include_str!("../scenarios/region-outage.toml");
const BUNDLED_STALE: &str = include_str!("../scenarios/bad-delete-stale-backup.toml");

/// A bad delete at 30m40s with weekly full backups only, the newest 71h30m old at the start;
/// support declares an incident at 1h10m, the primary acks in 5 minutes and decides in 10.
const STALE: &str = r#"
name = "bad delete, weekly full backup 72 hours old"
seed = 11
duration = "4h"
tick = "100ms"

[targets]
rpo = "1h"
rto = "4h"

[[regions]]
name = "us-east-1"
[[regions]]
name = "us-west-2"
[[regions]]
name = "eu-central-1"

[[latency]]
between = ["us-east-1", "us-west-2"]
one_way = "35ms"

[[services]]
name = "order-service"
primary = "us-east-1"
runbook = "restore"

[database]
primary = "us-east-1"
replica = "us-west-2"
lag = "2s"

[backups]
store = "us-west-2"
size = "500GB"
change_rate = "2GB/h"
restore_rate = "1TB/h"
full = "7d"
full_age = "71h30m"
history = "12d"

[traffic]
rate = "5/s"
write_ratio = 0.5

[monitor]
region = "eu-central-1"
interval = "30s"
timeout = "5s"
alert_after = 2
failover_after = 4

[[escalation]]
notify = "primary"
ack_timeout = "15m"

[responders.primary]
ack_after = "5m"
decide_after = "10m"

[[faults]]
at = "30m40s"
kind = "bad_delete"
ratio = 0.185

[[faults]]
at = "1h10m"
kind = "user_report"
service = "order-service"
"#;

/// `base` with `(from, to)` line edits applied.
fn edited(base: &str, edits: &[(&str, &str)]) -> String {
    let mut text = base.to_owned();
    for (from, to) in edits {
        assert!(text.contains(&format!("\n{from}")), "no line starting with {from:?}");
        text = text.replacen(&format!("\n{from}"), &format!("\n{to}"), 1);
    }
    text
}

/// The bundled region outage with `(from, to)` line edits applied.
fn text(edits: &[(&str, &str)]) -> String {
    edited(BASE, edits)
}

fn parse(text: String) -> Scenario {
    Scenario::parse(&SourceFile::new("variant.toml", text)).unwrap_or_else(|e| panic!("{e}"))
}

fn variant(edits: &[(&str, &str)]) -> Scenario {
    parse(text(edits))
}

/// [`STALE`] with line edits applied.
fn stale(edits: &[(&str, &str)]) -> Scenario {
    parse(edited(STALE, edits))
}

/// The stale-backup scenario with the plan fixed: daily differentials, hourly incrementals,
/// WAL archived every minute, daily drills; the newest full is corrupt (a drill before the
/// start finds it). Ends shortly after its restore.
const FIXED: &[(&str, &str)] = &[
    ("duration = \"4h\"", "duration = \"2h40m\""),
    ("rpo = \"1h\"", "rpo = \"5m\""),
    (
        "full_age = \"71h30m\"",
        "full_age = \"71h30m\"\ndifferential = \"1d\"\nincremental = \"1h\"\n\
         wal_archive = \"1m\"\ndrill = \"1d\"",
    ),
    (
        "service = \"order-service\"",
        "service = \"order-service\"\n\n[[faults]]\nat = \"0s\"\nkind = \"backup_corrupt\"\nbackup = \"full\"",
    ),
];

/// [`FIXED`] with the WAL archiver silently stopped from 10m for two hours.
fn archive_stopped() -> Scenario {
    let mut edits = FIXED.to_vec();
    edits.push((
        "at = \"30m40s\"",
        "at = \"10m\"\nkind = \"archive_stop\"\nfor = \"2h\"\n\n[[faults]]\nat = \"30m40s\"",
    ));
    stale(&edits)
}

fn bound(plan: &plan::Plan, phase: PhaseName) -> (Duration, Option<Duration>) {
    let b = plan.phase(phase).bound.clone().unwrap_or_else(|| panic!("{phase:?} is expected"));
    (b.best, b.worst)
}

const H: u64 = 3600;

fn codes(scenario: &Scenario) -> Vec<&'static str> {
    plan::plan(scenario).pitfalls.iter().map(|p| p.code).collect()
}

fn gameday(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gameday")).args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn the_bundled_region_outage_has_no_pitfall_and_no_impossible_target() {
    let plan = plan::plan(&variant(&[]));
    assert!(plan.pitfalls.is_empty(), "{:?}", plan.pitfalls);
    assert!(!plan.impossible);
    assert!(plan.targets.iter().all(|t| t.verdict == Verdict::Holds), "{:?}", plan.targets);
}

#[test]
fn each_pitfall_is_flagged_on_a_scenario_built_to_show_it() {
    let cases: [(&str, &[(&str, &str)]); 6] = [
        ("monitor_in_watched_region", &[("region = \"eu-central-1\"", "region = \"us-east-1\"")]),
        ("async_rpo_below_lag", &[("rpo = \"1m\"", "rpo = \"1s\"")]),
        ("async_no_lost_writes", &[("rto = \"15m\"", "rto = \"15m\"\nlost_writes = 0")]),
        ("ttl_exceeds_rto", &[("ttl = \"60s\"", "ttl = \"20m\"")]),
        ("cold_standby_short_rto", &[("standby_mode = \"warm\"", "standby_mode = \"cold\"")]),
        (
            // Manual failover: the primary can acknowledge but not decide, so the chain waits
            // out the primary's 5 minutes before the secondary, who decides, is paged.
            "escalation_exceeds_rto",
            &[("failover = \"automatic\"", "failover = \"manual\""), ("rto = \"15m\"", "rto = \"4m\"")],
        ),
    ];
    for (code, edits) in cases {
        assert_eq!(codes(&variant(edits)), vec![code], "edits {edits:?}");
    }
}

#[test]
fn each_backup_pitfall_is_flagged_on_a_scenario_built_to_show_it() {
    let fixed = stale(FIXED);
    assert_eq!(codes(&fixed), Vec::<&str>::new(), "the fixed plan has none");
    let with = |more: &[(&'static str, &'static str)]| {
        let mut edits = FIXED.to_vec();
        edits.extend_from_slice(more);
        codes(&stale(&edits))
    };
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("backups_in_primary_region", &[("store = \"us-west-2\"", "store = \"us-east-1\"")]),
        // No WAL archive: the newest copy before the delete at 30m40s is the incremental of 30m.
        // Weekly fulls alone leave the full of -71h30m, far older than the RPO of 5 minutes.
        (
            "backup_interval_exceeds_rpo",
            &[("differential = \"1d\"", ""), ("incremental = \"1h\"", ""), ("wal_archive = \"1m\"", "")],
        ),
        ("backups_never_verified", &[("drill = \"1d\"", "")]),
        // 500 GB at 1 TB/h: 30 minutes.
        ("restore_slower_than_rto", &[("rto = \"4h\"", "rto = \"20m\"")]),
    ];
    for (code, edits) in cases {
        assert_eq!(with(edits), vec![code], "edits {edits:?}");
    }
    assert_eq!(
        with(&[("wal_archive = \"1m\"", "")]),
        Vec::<&str>::new(),
        "an incremental 40 s before the delete"
    );
    let mut bundled = codes(&parse(BUNDLED_STALE.to_owned()));
    bundled.sort_unstable();
    assert_eq!(bundled, vec!["backup_interval_exceeds_rpo", "backups_never_verified"]);
}

#[test]
fn the_bundled_stale_backup_cannot_meet_its_rpo() {
    let plan = plan::plan(&parse(BUNDLED_STALE.to_owned()));
    let rpo = plan.targets.iter().find(|t| t.target == PhaseName::Rpo).unwrap();
    assert_eq!((rpo.value, rpo.verdict), (Duration::from_secs(H), Verdict::Impossible));
    assert!(plan.impossible);
}

#[test]
fn a_bad_delete_is_detected_through_the_customer_report_and_bounded_through_the_restore() {
    // Tick 100 ms, 35 ms between the regions: a hop is at most 135 ms, an exchange 1.08 s.
    let plan = plan::plan(&stale(&[]));
    assert_eq!(plan.t_fault, Some(Duration::from_secs(30 * 60 + 40)));
    // The report at 1h10m: support sees it within its 1 s poll and two ticks, then an exchange
    // to the monitor and one to the pager.
    let detect = bound(&plan, PhaseName::Detect);
    let report = Duration::from_secs(39 * 60 + 20);
    assert_eq!(detect, (report, Some(report + Duration::from_millis(3_360))));
    // Ack after 5 minutes, decide after 10, then the newest full of -71h30m restores in
    // 500 GB / 1 TB/h = 30 minutes.
    let (best, worst) = bound(&plan, PhaseName::Mitigate);
    assert_eq!(best, report + Duration::from_secs(45 * 60));
    assert!(worst.is_some_and(|w| w > best && w < best + Duration::from_secs(15)), "{worst:?}");
    // Restored to -71h30m: the oldest lost row is the next history row (2.5 rows a second).
    let (best, worst) = bound(&plan, PhaseName::Rpo);
    assert_eq!(worst, Some(Duration::from_secs(72 * H + 40)));
    assert!(best > Duration::from_secs(72 * H + 39), "{best:?}");
    let rpo = plan.targets.iter().find(|t| t.target == PhaseName::Rpo).unwrap();
    assert_eq!(rpo.verdict, Verdict::Impossible);
    assert!(plan.impossible);
    // Customers keep missing rows after the restore: no promise, but not before the restore.
    let (best, worst) = bound(&plan, PhaseName::Rto);
    assert!(worst.is_none() && best > report + Duration::from_secs(44 * 60), "{best:?}");

    // The newest full corrupt: its restore fails verification and the full a week older
    // restores, two full restores in all; the RPO grows by the week.
    let corrupt = "service = \"order-service\"\n\n[[faults]]\nat = \"0s\"\nkind = \"backup_corrupt\"\nbackup = \"full\"";
    let plan = plan::plan(&stale(&[("service = \"order-service\"", corrupt)]));
    assert_eq!(bound(&plan, PhaseName::Mitigate).0, report + Duration::from_secs(75 * 60));
    assert_eq!(bound(&plan, PhaseName::Rpo).1, Some(Duration::from_secs(240 * H + 40)));
    // A daily drill finds it before the start: the restore skips it and takes one full restore.
    let plan = plan::plan(&stale(&[
        ("service = \"order-service\"", corrupt),
        ("history = \"12d\"", "history = \"12d\"\ndrill = \"1d\""),
    ]));
    assert_eq!(bound(&plan, PhaseName::Mitigate).0, report + Duration::from_secs(45 * 60));
    assert_eq!(bound(&plan, PhaseName::Rpo).1, Some(Duration::from_secs(240 * H + 40)));
    // Four days of history hold one full: corrupt, nothing verifies and nothing restores.
    let plan = plan::plan(&stale(&[
        ("service = \"order-service\"", corrupt),
        ("history = \"12d\"", "history = \"4d\""),
    ]));
    assert_eq!(plan.phase(PhaseName::Mitigate).bound, None);
    assert!(plan.phase(PhaseName::Mitigate).notes.iter().any(|n| n.contains("no backup chain")));
    assert_eq!(bound(&plan, PhaseName::Rpo).1, Some(Duration::from_secs(96 * H + 30 * 60 + 40)));

    // The fixed plan: WAL to just before the delete, the corrupt full skipped.
    let plan = plan::plan(&stale(FIXED));
    let (best, worst) = bound(&plan, PhaseName::Rpo);
    assert_eq!(best, Duration::ZERO);
    assert!(worst.is_some_and(|w| w <= Duration::from_millis(1)), "{worst:?}");
    assert!(!plan.impossible && plan.targets.iter().all(|t| t.verdict != Verdict::Impossible));

    // The archiver stopped from 10m: the WAL reaches only its last tick before that, which is
    // surely no earlier than a tick spacing (1 m, a tick and an exchange) before the stop.
    let plan = plan::plan(&archive_stopped());
    let worst = Duration::from_millis(30 * 60_000 + 40_000 - (10 * 60_000 - 61_180));
    assert_eq!(bound(&plan, PhaseName::Rpo), (Duration::ZERO, Some(worst)));

    // A second service that fails over can promote the replica while the restore's blackout
    // fails its probes: the restore's end is then not promised, nor its point.
    let second = "[[services]]\nname = \"cart-service\"\nprimary = \"us-east-1\"\n\n[database]";
    let plan = plan::plan(&stale(&[("[database]", second)]));
    let (best, worst) = bound(&plan, PhaseName::Mitigate);
    assert_eq!((best, worst), (report + Duration::from_secs(15 * 60), None));
    assert_eq!(bound(&plan, PhaseName::Rpo).1, Some(Duration::from_secs(12 * 24 * H + 30 * 60 + 40)));

    // Without a restore runbook the deleted rows stay lost, back to the first history row.
    let plan = plan::plan(&stale(&[("runbook = \"restore\"", "")]));
    assert_eq!(bound(&plan, PhaseName::Rpo).1, Some(Duration::from_secs(12 * 24 * H + 30 * 60 + 40)));

    // A report made before the delete opens its incident before t_fault: nothing is promised.
    let plan = plan::plan(&stale(&[("at = \"1h10m\"", "at = \"20m\"")]));
    assert_eq!(plan.phase(PhaseName::Detect).bound.as_ref().map(|b| b.worst), Some(None));
}

#[test]
fn detection_arithmetic_matches_the_hand_computation() {
    // interval 10 s, timeout 5 s, alert_after 3, tick 50 ms, 35 ms between the regions.
    let plan = plan::plan(&variant(&[]));
    let detect = plan.phase(PhaseName::Detect).bound.clone().expect("a region outage alerts");
    // Best: the probe under way at the fault fails at once (it started up to a timeout and a
    // tick before), the next two start an interval less a tick apart: 2 x 9.95 - 5.05.
    assert_eq!(detect.best, Duration::from_millis(14_850));
    // Worst: the probe under way succeeds; three more start at most 10.05 s apart, the last
    // reported at its 5 s deadline plus a tick, then one exchange to the pager:
    // 3 x 10.05 + 5.05 + 8 x (35 ms + 50 ms).
    assert_eq!(detect.worst, Some(Duration::from_millis(35_880)));
    // RPO: at most the 2 s lag, two hops of 85 ms and a second for the shipper to wake up.
    let rpo = plan.phase(PhaseName::Rpo).bound.clone().unwrap();
    assert_eq!((rpo.best, rpo.worst), (Duration::ZERO, Some(Duration::from_millis(3_170))));
    // A sync pair loses nothing; without a database nothing is stored at all.
    let sync = variant(&[("replication = \"async\"", "replication = \"sync\""), ("lag = \"2s\"", "")]);
    let sync = plan::plan(&sync);
    assert_eq!(sync.phase(PhaseName::Rpo).bound.as_ref().unwrap().worst, Some(Duration::ZERO));
}

#[test]
fn a_responder_who_never_acks_leaves_the_acknowledgement_to_the_next_level() {
    let plan = plan::plan(&variant(&[("ack_after = \"3m\"", "ack_after = \"never\"")]));
    let ack = plan.phase(PhaseName::Acknowledge).bound.clone().unwrap();
    // The secondary is paged 5 minutes after the first page and answers 2 minutes later.
    assert!(ack.best >= Duration::from_secs(7 * 60) - Duration::from_secs(1), "{ack:?}");
    assert!(ack.worst.is_some_and(|w| w < Duration::from_secs(7 * 60 + 30)), "{ack:?}");
    let nobody = variant(&[
        ("ack_after = \"3m\"", "ack_after = \"never\""),
        ("ack_after = \"2m\"", "ack_after = \"never\""),
    ]);
    let plan = plan::plan(&nobody);
    assert_eq!(plan.phase(PhaseName::Acknowledge).bound, None, "nobody can acknowledge");
    assert!(
        plan.targets.iter().any(|t| t.target == PhaseName::Acknowledge && t.verdict == Verdict::Impossible)
    );
}

#[test]
fn an_impossible_target_exits_1_and_a_bad_file_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tight.toml");
    std::fs::write(&file, text(&[("rto = \"15m\"", "rto = \"1m\"")])).unwrap();
    let (code, out, err) = gameday(&["plan", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("impossible even in the best case: rto"), "{out}");

    let (code, out, err) = gameday(&["plan", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(json["impossible"], true);
    assert_eq!(json["phases"][0]["phase"], "detect");
    assert_eq!(json["phases"][0]["best_ms"], 14_850);
    let rto = json["targets"].as_array().unwrap().iter().find(|t| t["target"] == "rto").unwrap();
    assert_eq!((rto["target_ms"].as_u64(), rto["verdict"].as_str()), (Some(60_000), Some("impossible")));

    let ok = dir.path().join("ok.toml");
    std::fs::write(&ok, BASE).unwrap();
    let (code, out, _) = gameday(&["plan", ok.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("pitfalls: none") && out.contains("no target is impossible"), "{out}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, BASE.replace("interval = \"10s\"", "interval = \"often\"")).unwrap();
    let (code, _, err) = gameday(&["plan", bad.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("bad.toml:"), "{err}");
}

/// Every bundled scenario under two seeds, a manual failover whose responder's delay is drawn
/// from a range under four, and a restore through incrementals and a stopped WAL archive:
/// each measured phase lies within the plan's bound.
#[test]
fn bounds_contain_every_measured_phase_across_a_sweep() {
    let files = gameday::check::discover::scenario_files(&["scenarios".into()]).unwrap();
    let mut runs: Vec<Scenario> = Vec::new();
    for file in &files {
        let scenario = Scenario::from_file(file).unwrap_or_else(|e| panic!("{e}"));
        for seed in [scenario.seed, scenario.seed + 1] {
            runs.push(Scenario { seed, ..scenario.clone() });
        }
    }
    let ranged = variant(&[
        ("duration = \"2h\"", "duration = \"40m\""),
        ("failover = \"automatic\"", "failover = \"manual\""),
        ("ack_after = \"3m\"", "ack_after = \"1m..9m\"\ndecide_after = \"2m\""),
    ]);
    for seed in 1..=4 {
        runs.push(Scenario { seed, ..ranged.clone() });
    }
    // Incrementals, WAL cut short by a stopped archiver, a drill-found corrupt full.
    runs.push(archive_stopped());
    let outcomes = gameday::check::run_all(&runs, 2, |_| {});
    let mut wrong = Vec::new();
    for (scenario, outcome) in runs.iter().zip(&outcomes) {
        let report = outcome.report.as_ref().unwrap_or_else(|e| panic!("{}: {e}", scenario.path.display()));
        let plan = plan::plan(scenario);
        for v in plan::violations(&plan, &report.measurement) {
            wrong.push(format!("{} seed {}: {}", scenario.path.display(), scenario.seed, v.line()));
        }
        assert!(
            report.plan_violations.is_empty() || !wrong.is_empty(),
            "the report lists what the plan finds"
        );
    }
    assert!(wrong.is_empty(), "measured phases outside the plan's bounds:\n{}", wrong.join("\n"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the thresholds, TTL, standby and humans, no bound has its best after its worst.
    #[test]
    fn best_never_exceeds_worst(
        interval in 1u64..60,
        timeout_pct in 1u64..=100,
        alert_after in 1u32..5,
        extra in 0u32..5,
        ttl in 1u64..900,
        mode in prop::sample::select(vec!["hot", "warm", "cold"]),
        manual in any::<bool>(),
        ack in prop::sample::select(vec!["\"3m\"", "\"1m..9m\"", "\"never\""]),
        hc in any::<bool>(),
    ) {
        let timeout = (interval * 1000 * timeout_pct / 100).max(1);
        let mut edits = vec![
            ("interval = \"10s\"".to_owned(), format!("interval = \"{interval}s\"")),
            ("timeout = \"5s\"".to_owned(), format!("timeout = \"{timeout}ms\"")),
            ("alert_after = 3".to_owned(), format!("alert_after = {alert_after}")),
            ("failover_after = 6".to_owned(), format!("failover_after = {}", alert_after + extra)),
            ("ttl = \"60s\"".to_owned(), format!("ttl = \"{ttl}s\"")),
            ("ack_after = \"3m\"".to_owned(), format!("ack_after = {ack}")),
        ];
        if mode == "hot" {
            edits.push(("standby_mode = \"warm\"".to_owned(), "standby_mode = \"hot\"".to_owned()));
            edits.push(("scale_up = \"4m\"".to_owned(), String::new()));
        } else {
            edits.push(("standby_mode = \"warm\"".to_owned(), format!("standby_mode = \"{mode}\"")));
        }
        if manual {
            edits.push(("failover = \"automatic\"".to_owned(), "failover = \"manual\"".to_owned()));
        }
        if hc {
            let check = "[dns.health_check]\ninterval = \"10s\"\nfailures = 3\n\n[traffic]";
            edits.push(("[traffic]".to_owned(), check.to_owned()));
        }
        let edits: Vec<(&str, &str)> = edits.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let plan = plan::plan(&variant(&edits));
        for p in &plan.phases {
            if let Some(b) = &p.bound {
                prop_assert!(b.worst.is_none_or(|w| b.best <= w), "{:?}: {:?}", p.phase, b);
            }
        }
    }
}
