//! `gameday sweep`: one scenario under many seeds, its spread, its worst seed and its exit code.

use std::process::Command;

const BASE: &str = include_str!("../scenarios/region-outage.toml");

fn gameday(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gameday")).args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
fn seed_specs_are_counts_or_ranges() {
    assert_eq!(gameday::sweep::parse_seeds("3").unwrap(), vec![1, 2, 3]);
    assert_eq!(gameday::sweep::parse_seeds("10..13").unwrap(), vec![10, 11, 12]);
    assert!(gameday::sweep::parse_seeds("5..5").unwrap_err().contains("names no seed"));
    assert!(gameday::sweep::parse_seeds("many").unwrap_err().contains("expected a count"));
}

#[test]
fn a_ranged_human_delay_spreads_the_rto_and_the_worst_seed_reproduces() {
    let dir = tempfile::tempdir().unwrap();
    // Manual failover decided by a responder whose acknowledgement takes 1 to 9 minutes.
    let text = BASE
        .replace("\nduration = \"2h\"", "\nduration = \"40m\"")
        .replace("\nfailover = \"automatic\"", "\nfailover = \"manual\"")
        .replace("\nack_after = \"3m\"", "\nack_after = \"1m..9m\"\ndecide_after = \"2m\"")
        .replace("\nrto = \"15m\"", "\nrto = \"10m\"");
    let file = dir.path().join("ranged.toml");
    std::fs::write(&file, text).unwrap();
    let junit = dir.path().join("sweep.xml");
    let file = file.to_str().unwrap();
    let (code, out, err) =
        gameday(&["sweep", file, "--seeds", "6", "--format", "json", "--junit", junit.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    let rto = &json["distributions"]["rto_ms"];
    assert!(rto["max"].as_u64() > rto["min"].as_u64(), "the drawn delays spread the RTO: {rto}");
    assert_eq!(json["seeds"].as_array().unwrap().len(), 6);
    let failing = json["failing_seeds"].as_array().unwrap();
    assert_eq!(code, if failing.is_empty() { 0 } else { 1 }, "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"6\"") && xml.contains("[seed 6]"), "{xml}");

    // The worst seed's reproduction line runs that seed alone, with the same RTO.
    let worst = json["worst_seed"].as_u64().unwrap();
    let (_, alone, _) = gameday(&["run", file, "--seed", &worst.to_string(), "--format", "json"]);
    let alone: serde_json::Value = serde_json::from_str(&alone).unwrap();
    assert_eq!(alone["rto_ms"], rto["max"], "the worst seed has the largest RTO");
}

#[test]
fn sharded_sweeps_merged_equal_the_unsharded_sweep() {
    assert_eq!(gameday::sweep::parse_shard("2/3").unwrap(), (2, 3));
    assert!(gameday::sweep::parse_shard("4/3").is_err() && gameday::sweep::parse_shard("0/3").is_err());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("short.toml");
    std::fs::write(&file, BASE.replace("\nduration = \"2h\"", "\nduration = \"25m\"")).unwrap();
    let file = file.to_str().unwrap();
    let sweep = |extra: &[&str]| {
        let mut args = vec!["sweep", file, "--seeds", "5", "--format", "json"];
        args.extend_from_slice(extra);
        gameday(&args).1
    };
    let whole = sweep(&[]);
    let mut shards = Vec::new();
    for k in 1..=3 {
        let path = dir.path().join(format!("shard-{k}.json"));
        std::fs::write(&path, sweep(&["--shard", &format!("{k}/3")])).unwrap();
        shards.push(path.to_str().unwrap().to_owned());
    }
    let mut args = vec!["merge", "--format", "json"];
    args.extend(shards.iter().map(String::as_str));
    let (code, merged, err) = gameday(&args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(merged, whole, "merged shards differ from the whole sweep");
    let (code, _, err) = gameday(&["merge", file]);
    assert_eq!(code, 3, "a scenario file is not a sweep result: {err}");
}
