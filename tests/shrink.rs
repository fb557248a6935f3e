//! `gameday sweep --shrink`: a seed that misses its RTO because of a slow draw of a ranged ack
//! delay is shrunk to a smaller scenario file that misses the same target on its own.

use std::path::Path;
use std::process::Command;

use gameday::Scenario;
use gameday::scenario::AckDelay;
use gameday::sweep::jitter::Jitter;
use gameday::sweep::shrink::{self, Options};

/// Manual failover: the primary on-call acknowledges anywhere from 1 to 10 minutes after the
/// page, then takes 2 minutes to decide. Some seeds restore within 13 minutes, some do not.
/// The second service, the extra faults, the second escalation level and the spare responder
/// are what the shrink should be able to do without.
const RANGED: &str = r#"name = "ranged ack"
duration = "25m"
tick = "100ms"

[targets]
rto = "13m"
detect = "2m"

[[regions]]
name = "east"
[[regions]]
name = "west"
[[regions]]
name = "central"

[[latency]]
between = ["east", "west"]
one_way = "30ms"

[[services]]
name = "orders"
primary = "east"
standby = "west"
standby_mode = "warm"
scale_up = "2m"

[[services]]
name = "search"
primary = "east"
standby = "west"

[database]
primary = "east"
replica = "west"
lag = "1s"

[traffic]
rate = "5/s"

[monitor]
region = "central"
interval = "10s"
timeout = "5s"
alert_after = 3
failover_after = 6
failover = "manual"

[[escalation]]
notify = "primary"
ack_timeout = "15m"
[[escalation]]
notify = "secondary"
ack_timeout = "10m"

[responders.primary]
ack_after = "1m..10m"
decide_after = "2m"
[responders.secondary]
ack_after = "5m"
decide_after = "2m"
[responders.spare]
ack_after = "never"

[[faults]]
at = "2m"
kind = "latency"
between = ["west", "clients"]
one_way = "100ms"
for = "10m"

[[faults]]
at = "3m"
kind = "region_outage"
region = "east"
for = "20m"

[[faults]]
at = "4m"
kind = "dns_ttl_overrun"
overrun = "30s"
for = "5m"
"#;

fn gameday(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gameday")).current_dir(dir).args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn a_seed_that_misses_rto_on_a_slow_ack_shrinks_to_a_file_that_misses_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ranged.toml"), RANGED).unwrap();
    let (code, out, err) = gameday(
        dir.path(),
        &["sweep", "ranged.toml", "--seeds", "5", "--format", "json", "--shrink", "--shrink-runs", "40"],
    );
    assert_eq!(code, 1, "{out}{err}");
    let sweep = json(&out);
    let runs = sweep["runs"].as_array().unwrap();
    let missed_rto = |r: &serde_json::Value| r["met"]["rto"] == false;
    assert!(runs.iter().any(missed_rto) && !runs.iter().all(missed_rto), "a mix of seeds: {out}");

    // The default output path: the scenario's stem, next to where the command ran.
    let file = dir.path().join("ranged.shrunk.toml");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{e}: {err}"));
    let original = Scenario::parse(&gameday::diagnostic::SourceFile::new("ranged.toml", RANGED)).unwrap();
    let shrunk = Scenario::from_file(&file).unwrap();
    // The worst seed (the longest RTO) is among those that missed: it is the one to shrink.
    let worst_seed = sweep["worst_seed"].as_u64().unwrap();
    assert!(sweep["failing_seeds"].as_array().unwrap().contains(&worst_seed.into()), "{out}");
    assert_eq!(shrunk.seed, worst_seed, "the worst failing seed is fixed into the file");
    assert!(text.contains(&format!("seed {worst_seed}")) && text.contains("from ranged.toml"), "{text}");
    assert!(text.contains("Run it: gameday run ranged.shrunk.toml"), "{text}");

    // Smaller: fewer or as many faults and services, strictly smaller overall, no range left.
    assert!(shrunk.faults.len() <= original.faults.len() && shrunk.services.len() <= original.services.len());
    assert!(
        shrunk.faults.len() + shrunk.services.len() < original.faults.len() + original.services.len(),
        "{text}"
    );
    assert!(shrunk.responders.values().all(|r| !matches!(r.ack_after, AckDelay::Range(..))), "{text}");
    assert!(shrunk.duration <= original.duration);

    // On its own, with no flag at all, it misses the RTO and nothing else the seed met.
    let (code, alone, err) = gameday(dir.path(), &["run", "ranged.shrunk.toml", "--format", "json"]);
    assert_eq!(code, 1, "{alone}{err}");
    let alone = json(&alone);
    let missed: Vec<&str> = alone["targets"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v["verdict"] == "missed")
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(missed, ["rto"], "{alone}");
    assert!(alone["rto_ms"].as_u64().unwrap() > 13 * 60_000, "restored, but late: {alone}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn the_result_does_not_depend_on_how_many_runs_go_at_once() {
    let scenario = Scenario::parse(&gameday::diagnostic::SourceFile::new("ranged.toml", RANGED)).unwrap();
    let out = Path::new("ranged.shrunk.toml");
    let seed = 3; // misses its RTO (see the sweep above)
    let one = shrink::shrink(&scenario, seed, Jitter::NONE, out, Options { max_runs: 5, jobs: 1 }).unwrap();
    let two = shrink::shrink(&scenario, seed, Jitter::NONE, out, Options { max_runs: 5, jobs: 2 }).unwrap();
    assert_eq!((&one.scenario, &one.steps, one.runs), (&two.scenario, &two.steps, two.runs));
    assert!(one.runs <= 5 && one.exhausted, "the budget bounds the search: {} runs", one.runs);
    assert!(!one.steps.is_empty(), "{:?}", one.steps);

    // A seed that meets every target has nothing to shrink.
    let passing = Scenario { targets: gameday::scenario::Targets::default(), ..scenario };
    let e = shrink::shrink(&passing, seed, Jitter::NONE, out, Options { max_runs: 5, jobs: 1 }).unwrap_err();
    assert!(e.contains("nothing to shrink"), "{e}");
}
