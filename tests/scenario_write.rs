//! The scenario writer: whatever parses, written back and parsed again, is the same scenario.
//! Every bundled file, every fault kind with and without its optional fields, every optional
//! top-level field, and arbitrary durations, fractions and rates.

use std::path::PathBuf;
use std::time::Duration;

use gameday::diagnostic::SourceFile;
use gameday::scenario::write::to_toml;
use gameday::scenario::{AckDelay, FaultKind, Scenario};
use proptest::prelude::*;

fn parse(text: &str) -> Scenario {
    Scenario::parse(&SourceFile::new("s.toml", text)).unwrap_or_else(|e| panic!("{e:?}\n---\n{text}"))
}

/// Writes `scenario`, parses the text and asserts it is the same scenario; returns the text.
#[track_caller]
fn round_trip(scenario: &Scenario) -> String {
    let text = to_toml(scenario, "");
    let again = Scenario::parse(&SourceFile::new(&scenario.path, text.as_str()))
        .unwrap_or_else(|e| panic!("the written file does not parse: {e:?}\n---\n{text}"));
    assert_eq!(&again, scenario, "written:\n{text}");
    text
}

#[test]
fn every_bundled_scenario_survives_write_then_parse() {
    let mut files: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    for file in files {
        let scenario = Scenario::from_file(&file).unwrap();
        let text = round_trip(&scenario);
        assert_eq!(to_toml(&parse(&text), ""), text, "{}: writing is stable", file.display());
    }
}

/// Every optional top-level field set to something other than its default.
const FULL: &str = r#"name = "every optional field"
seed = 42
duration = "1h30m"
tick = "20ms"
expect = "fail"
expect_missed = ["rto", "availability"]

[targets]
rto = "10m"
rpo = "30s"
detect = "2m"
page = "3m"
acknowledge = "5m"
mitigate = "8m"
recover = "2m30s"
availability = 0.995
lost_writes = 0
incident_start = "5m"

[[regions]]
name = "a"
[[regions]]
name = "b"
[[regions]]
name = "c"

[[latency]]
between = ["a", "b"]
one_way = "35ms"

[[services]]
name = "web"
primary = "a"
standby = "b"
standby_mode = "cold"
scale_up = "4m"
capacity = 0.75
runbook = "restart"

[[services]]
name = "api"
primary = "b"
runbook = "restore"

[database]
primary = "a"
replica = "b"
replication = "async"
lag = "2s"
promote_time = "45s"
fencing = false

[backups]
store = "c"
size = "1.5TB"
change_rate = "20GB/h"
restore_rate = "300MB/s"
full = "7d"
full_age = "2d"
differential = "1d"
incremental = "1h"
wal_archive = "1m"
history = "30d"
drill = "12h"

[dns]
ttl = "30s"
[dns.health_check]
interval = "10s"
failures = 3

[traffic]
rate = "90/m"
write_ratio = 0.25
success_threshold = 0.95
window = "2m"
region = "c"
timeout = "3s"
read_rows = true

[monitor]
region = "c"
interval = "10s"
timeout = "5s"
alert_after = 2
failover_after = 4
recover_after = 3
failover = "manual"

[[escalation]]
notify = "first one"
ack_timeout = "5m"
[[escalation]]
notify = "second"
ack_timeout = "10m"

[responders."first one"]
ack_after = "1m..9m"
[responders.second]
ack_after = "2m"
decide_after = "3m"
[responders.third]
ack_after = "never"
"#;

/// One fault of every kind, optional fields absent and present, in the FULL scenario.
const FAULTS: &[&str] = &[
    r#"kind = "region_outage"
region = "a"
for = "3h""#,
    r#"kind = "host_crash"
host = "a-db""#,
    r#"kind = "partition"
between = ["a", "monitor"]"#,
    r#"kind = "partition"
between = ["b-app", "clients"]
oneway = true"#,
    r#"kind = "latency"
between = ["a", "b"]
one_way = "250ms""#,
    r#"kind = "blackhole"
between = ["dns", "pager"]"#,
    r#"kind = "http_errors"
service = "web""#,
    r#"kind = "http_errors"
service = "web"
region = "b"
status = 500
ratio = 0.3"#,
    r#"kind = "slow_responses"
service = "api"
delay = "2s""#,
    r#"kind = "slow_responses"
service = "web"
region = "a"
delay = "1s""#,
    r#"kind = "pool_exhaustion"
service = "web""#,
    r#"kind = "pool_exhaustion"
service = "api"
region = "b""#,
    r#"kind = "replication_lag"
lag = "30s""#,
    r#"kind = "replication_lag"
lag = "1m"
ramp = "5m""#,
    r#"kind = "replication_stop""#,
    r#"kind = "dns_ttl_overrun"
overrun = "10m""#,
    r#"kind = "capacity_limit"
service = "web"
region = "b"
capacity = 0"#,
    r#"kind = "responder_absent"
responder = "first one""#,
    r#"kind = "monitor_crash"
for = "20m""#,
    r#"kind = "bad_delete""#,
    r#"kind = "bad_delete"
ratio = 0.185"#,
    r#"kind = "backup_corrupt"
backup = "full""#,
    r#"kind = "backup_corrupt"
backup = "differential""#,
    r#"kind = "backup_corrupt"
backup = "incremental""#,
    r#"kind = "archive_stop"
for = "2h""#,
    r#"kind = "user_report"
service = "api""#,
    r#"kind = "partition"
between = ["c-store", "a"]"#,
];

/// Which variant a fault kind is; exhaustive, so a new kind fails to compile until it is here
/// (and, through `every_fault_kind...`, until FAULTS has a case of it).
fn variant(kind: &FaultKind) -> usize {
    match kind {
        FaultKind::RegionOutage { .. } => 0,
        FaultKind::HostCrash { .. } => 1,
        FaultKind::Partition { .. } => 2,
        FaultKind::Latency { .. } => 3,
        FaultKind::Blackhole { .. } => 4,
        FaultKind::HttpErrors { .. } => 5,
        FaultKind::SlowResponses { .. } => 6,
        FaultKind::PoolExhaustion { .. } => 7,
        FaultKind::ReplicationLag { .. } => 8,
        FaultKind::ReplicationStop => 9,
        FaultKind::DnsTtlOverrun { .. } => 10,
        FaultKind::CapacityLimit { .. } => 11,
        FaultKind::ResponderAbsent { .. } => 12,
        FaultKind::MonitorCrash => 13,
        FaultKind::BadDelete { .. } => 14,
        FaultKind::BackupCorrupt { .. } => 15,
        FaultKind::ArchiveStop => 16,
        FaultKind::UserReport { .. } => 17,
    }
}
const VARIANTS: usize = 18;

fn full_with_faults() -> String {
    let mut text = FULL.to_owned();
    for (i, body) in FAULTS.iter().enumerate() {
        text.push_str(&format!("\n[[faults]]\nat = \"{}m\"\n{body}\n", 80 - i));
    }
    text
}

#[test]
fn every_optional_field_and_every_fault_kind_survives_write_then_parse() {
    let scenario = parse(&full_with_faults());
    // The case table really covers what it claims: every variant, and the optional fields
    // away from their defaults.
    let mut seen = [false; VARIANTS];
    for fault in &scenario.faults {
        seen[variant(&fault.kind)] = true;
    }
    assert!(seen.iter().all(|s| *s), "a fault kind has no case: {seen:?}");
    assert_eq!(scenario.faults.len(), FAULTS.len());
    let ranged = scenario.responders.values().any(|r| matches!(r.ack_after, AckDelay::Range(..)));
    let never = scenario.responders.values().any(|r| r.ack_after == AckDelay::Never);
    assert!(ranged && never);
    let text = round_trip(&scenario);
    assert!(text.contains("[responders.\"first one\"]"), "{text}");
    assert!(text.contains("rate = \"90/m\""), "{text}");
    assert!(text.contains("duration = \"1h30m\""), "{text}");

    // And each fault on its own, in the smallest file that takes it.
    for body in FAULTS {
        let text = format!("{FULL}\n[[faults]]\nat = \"10m\"\n{body}\n");
        round_trip(&parse(&text));
    }
}

#[test]
fn the_header_becomes_leading_comments() {
    let scenario = parse(FULL);
    let text = to_toml(&scenario, "first line\n\nthird line");
    assert!(text.starts_with("# first line\n#\n# third line\n\nname = "), "{text}");
    assert_eq!(parse(&text), scenario);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Values that no bundled file has: nanosecond durations, odd fractions, odd rates.
    #[test]
    fn arbitrary_values_survive_write_then_parse(
        nanos in 1u64..400 * 24 * 3_600_000_000_000,
        lag_ms in 0u64..3_600_000,
        capacity in 0.000_001f64..=1.0,
        ratio in 0.0f64..=1.0,
        rate in 0.001f64..10_000.0,
        per_minute in 1u32..100_000,
        seed: u64,
    ) {
        let mut s = parse(&full_with_faults());
        s.seed = seed;
        s.duration = Duration::from_nanos(nanos).max(Duration::from_secs(81 * 60));
        s.targets.rto = Some(Duration::from_nanos(nanos));
        if let Some(db) = s.database.as_mut() {
            db.lag = Duration::from_millis(lag_ms);
        }
        s.services[0].capacity = capacity;
        s.traffic.write_ratio = ratio;
        s.traffic.rate = rate;
        round_trip(&s);
        s.traffic.rate = f64::from(per_minute) / 60.0;
        round_trip(&s);
    }
}
