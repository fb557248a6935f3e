//! `gameday run` as a process: exit codes, and byte-identical reports across processes.

use std::process::Command;

const BASE: &str = include_str!("../scenarios/region-outage.toml");

fn gameday(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gameday")).args(args).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// Writes a 30-minute copy of the bundled scenario with `(from, to)` line edits applied.
fn scenario_file(dir: &tempfile::TempDir, name: &str, edits: &[(&str, &str)]) -> String {
    let mut text = BASE.replace("\nduration = \"2h\"", "\nduration = \"30m\"");
    for (from, to) in edits {
        assert!(text.contains(&format!("\n{from}")), "no line starting with {from:?}");
        text = text.replacen(&format!("\n{from}"), &format!("\n{to}"), 1);
    }
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn reports_are_byte_identical_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(&dir, "outage.toml", &[]);
    let (code, first, stderr) = gameday(&["run", &file, "--format", "json", "--check-determinism"]);
    assert_eq!(code, 0, "{stderr}");
    let (_, second, _) = gameday(&["run", &file, "--format", "json"]);
    assert_eq!(first, second);
    let json: serde_json::Value = serde_json::from_str(&first).unwrap();
    for field in ["seed", "rto_ms", "rpo_ms", "lost_writes", "phases", "targets", "timeline"] {
        assert!(json.get(field).is_some(), "no {field} in the JSON report");
    }
    assert_eq!(json["seed"], 7);
}

#[test]
fn exit_codes_follow_the_verdict_and_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let missed = scenario_file(&dir, "missed.toml", &[("rto = \"15m\"", "rto = \"1m\"")]);
    let (code, out, _) = gameday(&["run", &missed, "--seed", "3"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("scenario "), "the seed comes first: {out}");
    assert!(out.lines().next().unwrap().ends_with("seed 3"));
    assert!(out.contains(&format!("reproduce: gameday run {missed} --seed 3")), "{out}");

    let invalid = scenario_file(&dir, "invalid.toml", &[("failover_after = 6", "failover_after = 2")]);
    let (code, _, err) = gameday(&["run", &invalid]);
    assert_eq!(code, 3);
    assert!(err.contains("invalid.toml:69:18: failover_after (2) must be at least alert_after (3)"), "{err}");

    assert_eq!(gameday(&["run", "no/such/scenario.toml"]).0, 4);
    assert_eq!(gameday(&["run"]).0, 2);
}

#[test]
fn check_judges_a_folder_writes_junit_and_reports_every_invalid_file() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("scenarios");
    std::fs::create_dir(&folder).unwrap();
    scenario_file(&dir, "scenarios/holds.toml", &[]);
    scenario_file(
        &dir,
        "scenarios/shows-a-miss.toml",
        &[
            ("seed = 7", "seed = 7\nexpect = \"fail\"\nexpect_missed = [\"rto\"]"),
            ("rto = \"15m\"", "rto = \"1m\""),
        ],
    );
    let junit = dir.path().join("junit.xml");
    let (code, out, err) = gameday(&["check", folder.to_str().unwrap(), "--junit", junit.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.trim_end().ends_with("2 passed, 0 failed"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"2\"") && xml.contains("failures=\"0\""), "{xml}");
    assert!(xml.contains("name=\"seed\" value=\"7\""), "{xml}");

    // A scenario that misses a target it was meant to meet fails the check, with a JUnit failure.
    scenario_file(&dir, "scenarios/regressed.toml", &[("rto = \"15m\"", "rto = \"2m\"")]);
    let (code, out, _) = gameday(&["check", folder.to_str().unwrap(), "--junit", junit.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.trim_end().ends_with("2 passed, 1 failed"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure") && xml.contains("target 2m"), "{xml}");

    // Every invalid file is reported, and nothing runs.
    scenario_file(&dir, "scenarios/bad-one.toml", &[("alert_after = 3", "alert_after = 0")]);
    scenario_file(&dir, "scenarios/bad-two.toml", &[("ttl = \"60s\"", "ttl = \"soon\"")]);
    let (code, _, err) = gameday(&["check", folder.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("bad-one.toml:") && err.contains("bad-two.toml:"), "{err}");

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(gameday(&["check", empty.to_str().unwrap()]).0, 4);
    assert_eq!(gameday(&["check", "no/such/folder"]).0, 4);
}

#[test]
fn run_draws_the_timeline_and_drafts_the_postmortem_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(&dir, "outage.toml", &[]);
    let (svg, md) = (dir.path().join("t.svg"), dir.path().join("p.md"));
    let (code, _, err) =
        gameday(&["run", &file, "--svg", svg.to_str().unwrap(), "--postmortem", md.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{}", &svg[..80.min(svg.len())]);
    assert!(svg.contains("RTO"));
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.starts_with("# Postmortem draft:") && md.contains("## Action items"), "{md}");
}
