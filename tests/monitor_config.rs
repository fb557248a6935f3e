//! Bad monitor configs are rejected with the file, line, column and what is allowed; the CLI
//! maps each kind of failure to its exit code.

mod input_errors;

use std::process::Command;

use gameday::diagnostic::SourceFile;
use gameday::monitor::MonitorConfig;
use gameday::monitor::decide::policy::FailoverMode;

const SERVICE: &str = r#"
[[services]]
name = "order-service"
url = "http://127.0.0.1:9201/health"
interval = "1s"
timeout = "500ms"
alert_after = 3
failover_after = 6
"#;

/// Parses `text` and returns each error as `line:column: message`.
fn errors(text: &str) -> Vec<String> {
    input_errors::positions(MonitorConfig::parse(&SourceFile::new("m.toml", text)))
}

/// Asserts that `text` fails with exactly one error at `at` (`line:column`) mentioning `needle`.
#[track_caller]
fn check(text: &str, at: &str, needle: &str) {
    input_errors::assert_one(&errors(text), at, needle);
}

#[test]
fn the_documented_example_is_valid_as_written() {
    let config = MonitorConfig::from_file(std::path::Path::new("examples/monitor.toml")).unwrap();
    let service = &config.services[0];
    assert_eq!(service.policy.failover, FailoverMode::Automatic);
    assert_eq!(
        (service.policy.alert_after, service.policy.failover_after, service.policy.recover_after),
        (3, 6, 1)
    );
    assert_eq!(service.failover_steps[0].retries, 2);
    assert_eq!(config.escalation.len(), 2);
    assert_eq!(config.api.listen.to_string(), "127.0.0.1:9090");
    assert!(config.alerts.pagerduty.is_some() && config.alerts.slack.is_some());
}

#[test]
fn each_mistake_is_reported_at_its_line_and_column() {
    let unknown = SERVICE.replace("alert_after = 3", "alert_after = 3\nalert_afterr = 4");
    check(&unknown, "8:1", "unknown field `alert_afterr`");
    check(&SERVICE.replace("\"1s\"", "\"soon\""), "5:12", "expected a duration");
    check(&SERVICE.replace("alert_after = 3", "alert_after = \"3\""), "7:15", "expected u32");
    check(
        &SERVICE.replace("failover_after = 6", "failover_after = 2"),
        "8:18",
        "failover_after (2) must be at least alert_after (3)",
    );
    check(
        &SERVICE.replace("alert_after = 3", "alert_after = 0").replace("= 6", "= 0"),
        "7:15",
        "alert_after must be at least 1",
    );
    check(&SERVICE.replace("\"500ms\"", "\"2s\""), "6:11", "timeout (2s) must not exceed interval (1s)");
    check(
        &SERVICE.replace("http://127.0.0.1:9201/health", "https://x/health"),
        "4:7",
        "https is not supported",
    );
    check(&format!("{SERVICE}{SERVICE}"), "11:8", "declared twice");
    check(&format!("{SERVICE}failover = \"automatic\"\n"), "9:12", "no [[services.failover_steps]]");
    check(&format!("{SERVICE}failover = \"sometimes\"\n"), "9:12", "automatic");
    check(&format!("[api]\nlisten = \"localhost\"\n{SERVICE}"), "2:10", "not an address");
    let chain = "[[escalation]]\nnotify = \"primary\"\nack_timeout = \"5m\"\n";
    check(
        &format!("[alerts]\npagerduty_url = \"http://x/\"\n{SERVICE}{chain}"),
        "2:17",
        "pagerduty_routing_key",
    );
    check(
        &format!("[alerts]\npagerduty_url = \"http://x/\"\npagerduty_routing_key = \"K\"\n{SERVICE}"),
        "2:17",
        "no [[escalation]] level",
    );
    check(
        &format!("{SERVICE}[[escalation]]\nnotify = \"primary\"\nack_timeout = \"0s\"\n"),
        "11:15",
        "longer than zero",
    );
    check(
        &format!(
            "{SERVICE}[[services.failover_steps]]\nname = \"x\"\nmethod = \"YEET\"\nurl = \"http://x/\"\n"
        ),
        "11:10",
        "not one of GET, POST",
    );
    check("[api]\n", "1:1", "services");
    check("services = []\n", "1:12", "at least one [[services]]");
    check("not toml at all", "1:5", "expected `=`");
}

#[test]
fn several_cross_field_mistakes_are_all_reported_at_once() {
    let text = SERVICE.replace("\"500ms\"", "\"2s\"").replace("failover_after = 6", "failover_after = 1");
    assert_eq!(errors(&text).len(), 2, "{:#?}", errors(&text));
}

fn gameday(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gameday")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_cli_exits_with_the_documented_codes() {
    assert_eq!(gameday(&["monitor", "--config", "examples/monitor.toml", "--check"]).0, 0);
    assert_eq!(gameday(&["monitor"]).0, 2, "missing --config is a usage error");
    assert_eq!(gameday(&["monitor", "--config", "no/such/file.toml"]).0, 4);

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, SERVICE.replace("failover_after = 6", "failover_after = 2")).unwrap();
    let (code, stderr) = gameday(&["monitor", "--config", bad.to_str().unwrap()]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("bad.toml:8:18: failover_after (2) must be at least alert_after (3)"),
        "{stderr}"
    );
}
