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
    // Every phase is accounted for on every seed: measured, never reached, or not applicable.
    for phase in ["detect", "page", "acknowledge", "mitigate", "recover"] {
        let d = &json["distributions"][format!("{phase}_ms")];
        let measured =
            json["runs"].as_array().unwrap().iter().filter(|r| r["phases_ms"][phase].is_u64()).count();
        let counted =
            measured as u64 + d["unbounded"].as_u64().unwrap() + d["not_applicable"].as_u64().unwrap();
        assert_eq!(counted, 6, "{phase}: {d}");
    }
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
fn sharded_sweeps_merged_equal_the_unsharded_sweep_in_json_and_junit() {
    assert_eq!(gameday::sweep::parse_shard("2/3").unwrap(), (2, 3));
    assert!(gameday::sweep::parse_shard("4/3").is_err() && gameday::sweep::parse_shard("0/3").is_err());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("short.toml");
    // Unjittered, every seed restores in 4m49s; jittered by 30% (the standby's scale-up, the
    // promotion, the lag, the ack delays) some seeds take over 5 minutes.
    let text = BASE
        .replace("\nduration = \"2h\"", "\nduration = \"25m\"")
        .replace("\nrto = \"15m\"", "\nrto = \"5m\"");
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap();
    let whole_xml = dir.path().join("whole.xml");
    let sweep = |extra: &[&str]| {
        let mut args = vec!["sweep", file, "--seeds", "5", "--jitter", "30%", "--format", "json"];
        args.extend_from_slice(extra);
        gameday(&args).1
    };
    let whole = sweep(&["--junit", whole_xml.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_str(&whole).unwrap_or_else(|e| panic!("{e}: {whole}"));
    assert_eq!(json["jitter_percent"], 30);
    let failing = json["failing_seeds"].as_array().unwrap().len();
    assert!(failing > 0 && failing < 5, "jitter makes some seeds miss, not all: {whole}");
    let mut shards = Vec::new();
    for k in 1..=3 {
        let path = dir.path().join(format!("shard-{k}.json"));
        std::fs::write(&path, sweep(&["--shard", &format!("{k}/3")])).unwrap();
        shards.push(path.to_str().unwrap().to_owned());
    }
    let merged_xml = dir.path().join("merged.xml");
    let mut args = vec!["merge", "--format", "json", "--junit", merged_xml.to_str().unwrap()];
    args.extend(shards.iter().map(String::as_str));
    let (code, merged, err) = gameday(&args);
    assert_eq!(code, 1, "a seed missed its RTO: {err}");
    assert_eq!(merged, whole, "merged shards differ from the whole sweep");
    let (whole_xml, merged_xml) =
        (std::fs::read_to_string(whole_xml).unwrap(), std::fs::read_to_string(merged_xml).unwrap());
    assert_eq!(merged_xml, whole_xml, "merged JUnit differs from the whole sweep's");
    assert!(whole_xml.contains("tests=\"5\"") && whole_xml.contains("missed rto"), "{whole_xml}");
    assert!(whole_xml.contains("rto: measured") && whole_xml.contains("--jitter 30%"), "{whole_xml}");

    // The worst seed's reproduction line carries the jitter, and running it gives the same RTO.
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    let (_, text, _) = gameday(&args);
    let worst = json["worst_seed"].as_u64().unwrap().to_string();
    let line = format!("reproduce: gameday run {file} --seed {worst} --jitter 30%");
    assert!(text.contains(&line), "{text}");
    let (code, alone, _) = gameday(&["run", file, "--seed", &worst, "--jitter", "30%", "--format", "json"]);
    assert_eq!(code, 1);
    let alone: serde_json::Value = serde_json::from_str(&alone).unwrap();
    assert_eq!(alone["rto_ms"], json["distributions"]["rto_ms"]["max"]);

    let (code, _, err) = gameday(&["merge", file]);
    assert_eq!(code, 3, "a scenario file is not a sweep result: {err}");
}

#[test]
fn shards_with_different_jitter_do_not_merge() {
    use gameday::sweep::Summary;
    use gameday::sweep::jitter::Jitter;
    let part = |p| Summary::of_runs("s", "s.toml", Jitter::percent(p).unwrap(), Vec::new());
    assert!(Summary::merge(vec![part(10), part(10)]).is_ok());
    let e = Summary::merge(vec![part(10), part(20)]).unwrap_err();
    assert!(e.contains("different --jitter"), "{e}");
}

#[test]
fn bad_jitter_and_shrink_flags_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(&file, BASE).unwrap();
    let file = file.to_str().unwrap();
    for args in [
        vec!["run", file, "--jitter", "abc"],
        vec!["run", file, "--jitter", "150%"],
        vec!["sweep", file, "--seeds", "2", "--jitter=-5%"],
        vec!["sweep", file, "--seeds", "2", "--jitter", "12.5%"],
        vec!["sweep", file, "--seeds", "2", "--shrink", "--shrink-runs", "0"],
    ] {
        let (code, out, err) = gameday(&args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains("--jitter") || err.contains("--shrink-runs"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
