//! Every fault kind of DESIGN.md section 2 (and the DNS health check) does what it says, judged
//! from ground truth: one short scenario per kind, one check each.

use std::time::Duration;

use gameday::diagnostic::SourceFile;
use gameday::measure::WorldEventKind;
use gameday::{Report, Scenario};

const BASE: &str = r#"
name = "fault kinds"
seed = 3
duration = "25m"
[targets]
TARGETS
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
standby = "us-west-2"
standby_mode = "hot"
[database]
primary = "us-east-1"
replica = "us-west-2"
lag = "2s"
promote_time = "30s"
fencing = FENCING
[dns]
ttl = "60s"
[traffic]
rate = "20/s"
[monitor]
region = "eu-central-1"
interval = "10s"
timeout = "5s"
alert_after = 3
failover_after = 6
[[escalation]]
notify = "primary"
ack_timeout = "5m"
[[escalation]]
notify = "secondary"
ack_timeout = "10m"
[responders.primary]
ack_after = "3m"
[responders.secondary]
ack_after = "2m"
"#;

fn run(faults: &str, targets: &str, fencing: bool) -> Report {
    let text = BASE.replace("TARGETS", targets).replace("FENCING", &fencing.to_string()) + faults;
    let scenario = Scenario::parse(&SourceFile::new("faults.toml", text)).unwrap_or_else(|e| panic!("{e}"));
    scenario.run().expect("the simulation runs")
}

fn fault(at: &str, kind: &str, fields: &str) -> String {
    format!("[[faults]]\nat = \"{at}\"\nkind = \"{kind}\"\n{fields}\n")
}

fn outage() -> String {
    fault("5m", "region_outage", "region = \"us-east-1\"")
}

fn first(report: &Report, kind: WorldEventKind) -> Option<Duration> {
    report.timeline.iter().find(|e| e.kind == kind).map(|e| e.at)
}

fn has(report: &Report, kind: WorldEventKind, details: &str) -> bool {
    report.timeline.iter().any(|e| e.kind == kind && e.details.contains(details))
}

fn failed(report: &Report) -> u64 {
    report.measurement.requests.failed
}

#[test]
fn region_outage_fails_over_to_the_standby() {
    let r = run(&outage(), "", true);
    assert!(has(&r, WorldEventKind::FailoverCompleted, "served from us-west-2"), "{}", r.to_text());
    assert!(r.measurement.rto.is_some_and(|rto| rto < Duration::from_secs(240)), "{}", r.to_text());
}

#[test]
fn host_crash_stops_one_host_until_its_time_is_up() {
    let r = run(&fault("5m", "host_crash", "host = \"us-east-1-db\"\nfor = \"2m\""), "", true);
    assert!(failed(&r) > 0);
    assert!(has(&r, WorldEventKind::FaultCleared, "us-east-1-db"));
    assert!(first(&r, WorldEventKind::AlertReceived).is_some(), "the deep health check sees the database");
}

#[test]
fn partition_of_the_monitor_from_a_healthy_primary_fails_over_needlessly_and_fencing_decides_data_loss() {
    let partition = fault("5m", "partition", "between = [\"eu-central-1\", \"us-east-1\"]");
    let fenced = run(&partition, "", true);
    assert!(
        has(&fenced, WorldEventKind::FailoverCompleted, "us-west-2"),
        "a false failover: {}",
        fenced.to_text()
    );
    assert!(has(&fenced, WorldEventKind::Fenced, "us-east-1-db"));
    assert_eq!(fenced.measurement.lost_writes, 0, "{}", fenced.to_text());

    let unfenced = run(&partition, "", false);
    assert!(!has(&unfenced, WorldEventKind::Fenced, ""));
    assert!(unfenced.measurement.split_brain_writes > 0, "{}", unfenced.to_text());
}

#[test]
fn latency_between_monitor_and_primary_makes_probes_time_out_and_fails_over_for_nothing() {
    let r = run(
        &fault(
            "5m",
            "latency",
            "between = [\"eu-central-1\", \"us-east-1\"]\none_way = \"3s\"\nfor = \"2m\"",
        ),
        "",
        true,
    );
    assert!(first(&r, WorldEventKind::AlertReceived).is_some(), "{}", r.to_text());
    // Nothing was down, yet the thresholds fail over: the customers pay for a false failover.
    assert!(has(&r, WorldEventKind::FailoverCompleted, "us-west-2"), "{}", r.to_text());
}

#[test]
fn blackhole_between_customers_and_the_primary_is_invisible_to_the_monitor() {
    let r = run(&fault("5m", "blackhole", "between = [\"clients\", \"us-east-1\"]\nfor = \"2m\""), "", true);
    assert!(failed(&r) > 2000, "two minutes of customer requests hang: {}", failed(&r));
    assert_eq!(first(&r, WorldEventKind::AlertReceived), None, "the monitor probes from elsewhere");
}

#[test]
fn http_errors_fail_the_given_fraction() {
    let r = run(
        &fault("5m", "http_errors", "service = \"order-service\"\nratio = 0.5\nstatus = 500\nfor = \"2m\""),
        "",
        true,
    );
    // Two minutes of 20 requests per second.
    let share = failed(&r) as f64 / 2400.0;
    assert!((0.3..0.7).contains(&share), "two minutes at 50% errors: {} failed", failed(&r));
}

#[test]
fn slow_responses_beyond_the_probe_timeout_alert() {
    let r = run(
        &fault("5m", "slow_responses", "service = \"order-service\"\ndelay = \"8s\"\nfor = \"3m\""),
        "",
        true,
    );
    assert!(first(&r, WorldEventKind::AlertReceived).is_some(), "{}", r.to_text());
}

#[test]
fn pool_exhaustion_fails_everything_until_cleared() {
    let r = run(
        &fault("5m", "pool_exhaustion", "service = \"order-service\"\nregion = \"us-east-1\"\nfor = \"2m\""),
        "",
        true,
    );
    assert!(first(&r, WorldEventKind::AlertReceived).is_some());
    assert!(failed(&r) > 500, "{}", r.to_text());
}

#[test]
fn replication_lag_and_stop_widen_the_rpo() {
    let ramp = fault("1m", "replication_lag", "lag = \"60s\"\nramp = \"1m\"") + &outage();
    let r = run(&ramp, "incident_start = \"5m\"", true);
    let rpo = r.measurement.rpo.unwrap().as_secs_f64();
    assert!((50.0..=70.0).contains(&rpo), "lag ramped to 60s, RPO {rpo}s");

    let stop = fault("3m", "replication_stop", "") + &outage();
    let r = run(&stop, "incident_start = \"5m\"", true);
    let rpo = r.measurement.rpo.unwrap().as_secs_f64();
    assert!((115.0..=125.0).contains(&rpo), "replication stopped 2m before the outage, RPO {rpo}s");
}

#[test]
fn dns_ttl_overrun_keeps_customers_on_the_dead_region() {
    let base = run(&outage(), "", true).measurement.rto.unwrap();
    let overrun = fault("1m", "dns_ttl_overrun", "overrun = \"4m\"") + &outage();
    let r = run(&overrun, "incident_start = \"5m\"", true);
    let rto = r.measurement.rto.unwrap();
    assert!(rto >= base + Duration::from_secs(180), "overrun RTO {rto:?} vs {base:?}");
    assert!(r.measurement.failure_causes.stale_dns > 0);
}

#[test]
fn capacity_limit_on_the_standby_prevents_restoration() {
    let capped =
        fault("1m", "capacity_limit", "service = \"order-service\"\nregion = \"us-west-2\"\ncapacity = 0.5")
            + &outage();
    let r = run(&capped, "incident_start = \"5m\"", true);
    assert_eq!(r.measurement.rto, None, "half the load is refused for ever: {}", r.to_text());
}

#[test]
fn an_absent_responder_is_covered_by_the_next_level() {
    let absent = fault("1m", "responder_absent", "responder = \"primary\"") + &outage();
    let r = run(&absent, "incident_start = \"5m\"", true);
    let ack =
        r.timeline.iter().find(|e| e.kind == WorldEventKind::Acknowledged).expect("someone acknowledged");
    assert!(ack.details.contains("secondary"), "{}", ack.details);
    // Paged at the alert, escalated 5m later, acknowledged 2m after that.
    let alert = first(&r, WorldEventKind::AlertReceived).unwrap();
    assert!(ack.at >= alert + Duration::from_secs(420), "{:?} after {:?}", ack.at, alert);
}

#[test]
fn a_monitor_crash_delays_detection_until_it_restarts_and_pages_once() {
    let crash = fault("4m", "monitor_crash", "for = \"3m\"") + &outage();
    let r = run(&crash, "incident_start = \"5m\"", true);
    let alert = first(&r, WorldEventKind::AlertReceived).expect("alerted after the restart");
    assert!(alert >= Duration::from_secs(7 * 60), "alert at {alert:?}, the monitor was down until 7m");
    let pages = r.timeline.iter().filter(|e| e.kind == WorldEventKind::PageReceived).count();
    assert_eq!(pages, 1, "{}", r.to_text());
}

#[test]
fn dns_health_checks_switch_the_record_on_their_own() {
    let text = BASE.replace("TARGETS", "").replace("FENCING", "true").replace(
        "[dns]\nttl = \"60s\"",
        "[dns]\nttl = \"60s\"\n[dns.health_check]\ninterval = \"10s\"\nfailures = 3",
    ) + &outage();
    assert!(text.contains("[dns.health_check]"));
    let scenario = Scenario::parse(&SourceFile::new("faults.toml", text)).unwrap_or_else(|e| panic!("{e}"));
    let r = scenario.run().unwrap();
    let switch = r
        .timeline
        .iter()
        .find(|e| e.kind == WorldEventKind::DnsChanged && e.source == "dns-health-check")
        .unwrap_or_else(|| panic!("no health-checked switch: {}", r.to_text()));
    assert_eq!(switch.details, "order-service -> us-west-2-app");
    // Three failed checks 10s apart, the first at the fault.
    assert!(
        switch.at >= Duration::from_secs(320) && switch.at <= Duration::from_secs(332),
        "{:?}",
        switch.at
    );
}
