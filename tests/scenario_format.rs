//! Scenario files (DESIGN.md section 3): the documented example parses into the expected
//! values, every kind of mistake is reported at its line and column, several mistakes are
//! reported at once, and no input makes the parser panic.

mod input_errors;

use std::path::Path;
use std::time::Duration;

use gameday::diagnostic::{LoadError, SourceFile};
use gameday::scenario::{AckDelay, FailoverMode, FaultKind, Place, Replication, Scenario, StandbyMode};
use proptest::prelude::*;

/// A small valid scenario; each case below edits it or appends to it (appended text starts at
/// line 27).
const BASE: &str = r#"name = "t"
duration = "1h"
[[regions]]
name = "a"
[[regions]]
name = "b"
[[services]]
name = "web"
primary = "a"
standby = "b"
[database]
primary = "a"
replica = "b"
[traffic]
rate = "10/s"
[monitor]
interval = "10s"
timeout = "5s"
alert_after = 3
failover_after = 6
[[escalation]]
notify = "oncall"
ack_timeout = "5m"
[responders.oncall]
ack_after = "3m"
decide_after = "2m"
"#;

const EXAMPLE: &str = "scenarios/region-outage.toml";

fn parse(text: &str) -> Result<Scenario, LoadError> {
    Scenario::parse(&SourceFile::new("s.toml", text))
}

/// Parses `text` and returns each error as `line:column: message`.
fn errors(text: &str) -> Vec<String> {
    input_errors::positions(parse(text))
}

/// Asserts that `text` fails with exactly one error at `at` (`line:column`) mentioning `needle`.
#[track_caller]
fn check(text: &str, at: &str, needle: &str) {
    input_errors::assert_one(&errors(text), at, needle);
}

/// BASE with the first occurrence of `from` replaced.
#[track_caller]
fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} is not in BASE");
    BASE.replacen(from, to, 1)
}

/// BASE with `extra` appended (from line 27).
fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

/// BASE with one `[[faults]]` entry appended: its first body line is line 28.
fn fault(body: &str) -> String {
    with(&format!("[[faults]]\n{body}"))
}

#[test]
fn the_base_is_valid_and_gets_the_documented_defaults() {
    let s = parse(BASE).unwrap();
    assert_eq!(s.path, Path::new("s.toml"));
    assert_eq!((s.seed, s.duration, s.tick), (1, Duration::from_secs(3600), Duration::from_millis(50)));
    assert_eq!(s.targets, Default::default());
    let web = &s.services[0];
    assert_eq!(web.standby_mode, StandbyMode::Hot);
    assert_eq!((web.scale_up, web.capacity), (Duration::ZERO, 1.0));
    let db = s.database.as_ref().unwrap();
    assert_eq!(db.replication, Replication::Async);
    assert_eq!((db.lag, db.promote_time, db.fencing), (Duration::ZERO, Duration::from_secs(30), true));
    assert_eq!((s.dns.ttl, &s.dns.health_check), (Duration::from_secs(60), &None));
    assert_eq!((s.traffic.rate, s.traffic.write_ratio, s.traffic.success_threshold), (10.0, 0.5, 0.99));
    assert_eq!((s.traffic.window, s.traffic.timeout), (Duration::from_secs(60), Duration::from_secs(5)));
    assert_eq!(s.traffic.region, None);
    assert_eq!((s.monitor.region.as_deref(), s.monitor.recover_after), (None, 1));
    assert_eq!(s.monitor.failover, FailoverMode::Automatic);
    assert!(s.latency.is_empty() && s.faults.is_empty());
}

#[test]
fn the_documented_example_parses_into_the_expected_values() {
    let s = Scenario::from_file(Path::new(EXAMPLE)).unwrap();
    assert_eq!(s.path, Path::new(EXAMPLE));
    assert_eq!(s.name, "us-east-1 outage, warm standby in us-west-2");
    assert_eq!((s.seed, s.duration, s.tick), (7, Duration::from_secs(7200), Duration::from_millis(50)));
    let t = &s.targets;
    assert_eq!(t.rto, Some(Duration::from_secs(15 * 60)));
    assert_eq!(t.rpo, Some(Duration::from_secs(60)));
    assert_eq!(t.detect, Some(Duration::from_secs(120)));
    assert_eq!(t.acknowledge, Some(Duration::from_secs(600)));
    assert_eq!(
        (t.page, t.mitigate, t.recover, t.availability, t.incident_start),
        (None, None, None, None, None)
    );
    assert_eq!(s.regions, ["us-east-1", "us-west-2", "eu-central-1"]);
    assert_eq!(s.latency.len(), 1);
    assert_eq!(s.latency[0].between, ("us-east-1".to_owned(), "us-west-2".to_owned()));
    assert_eq!(s.latency[0].one_way, Duration::from_millis(35));

    let service = &s.services[0];
    assert_eq!((service.name.as_str(), service.primary.as_str()), ("order-service", "us-east-1"));
    assert_eq!(service.standby.as_deref(), Some("us-west-2"));
    assert_eq!(service.standby_mode, StandbyMode::Warm);
    assert_eq!((service.scale_up, service.capacity), (Duration::from_secs(240), 1.0));

    let db = s.database.as_ref().unwrap();
    assert_eq!((db.primary.as_str(), db.replica.as_deref()), ("us-east-1", Some("us-west-2")));
    assert_eq!(db.replication, Replication::Async);
    assert_eq!(
        (db.lag, db.promote_time, db.fencing),
        (Duration::from_secs(2), Duration::from_secs(30), true)
    );

    assert_eq!(s.dns.ttl, Duration::from_secs(60));
    assert_eq!((s.traffic.rate, s.traffic.write_ratio, s.traffic.success_threshold), (20.0, 0.5, 0.99));
    assert_eq!(s.traffic.window, Duration::from_secs(60));

    let m = &s.monitor;
    assert_eq!(m.region.as_deref(), Some("eu-central-1"));
    assert_eq!((m.interval, m.timeout), (Duration::from_secs(10), Duration::from_secs(5)));
    assert_eq!((m.alert_after, m.failover_after, m.recover_after), (3, 6, 1));
    assert_eq!(m.failover, FailoverMode::Automatic);

    let chain: Vec<(&str, Duration)> =
        s.escalation.iter().map(|l| (l.notify.as_str(), l.ack_timeout)).collect();
    assert_eq!(chain, [("primary", Duration::from_secs(300)), ("secondary", Duration::from_secs(600))]);
    assert_eq!(s.responders["primary"].ack_after, AckDelay::Fixed(Duration::from_secs(180)));
    assert_eq!(s.responders["primary"].decide_after, None);
    assert_eq!(s.responders["secondary"].ack_after, AckDelay::Fixed(Duration::from_secs(120)));
    assert_eq!(s.responders["secondary"].decide_after, Some(Duration::from_secs(300)));

    assert_eq!(s.faults.len(), 1);
    assert_eq!(s.faults[0].at, Duration::from_secs(600));
    assert_eq!(s.faults[0].duration, Some(Duration::from_secs(3 * 3600)));
    assert_eq!(s.faults[0].kind, FaultKind::RegionOutage { region: "us-east-1".into() });
}

#[test]
fn every_fault_kind_parses_with_its_fields_and_faults_are_sorted_by_time() {
    let faults = r#"
[[faults]]
at = "30m"
kind = "http_errors"
service = "web"
[[faults]]
at = "5m"
kind = "partition"
between = ["a", "b-db"]
oneway = true
[[faults]]
at = "30m"
kind = "latency"
between = ["clients", "b"]
one_way = "200ms"
[[faults]]
at = "1m"
kind = "host_crash"
host = "a-app"
[[faults]]
at = "2m"
kind = "blackhole"
between = ["monitor", "a-app"]
[[faults]]
at = "3m"
kind = "slow_responses"
service = "web"
region = "b"
delay = "2s"
[[faults]]
at = "4m"
kind = "pool_exhaustion"
service = "web"
[[faults]]
at = "6m"
kind = "replication_lag"
lag = "30s"
ramp = "5m"
[[faults]]
at = "7m"
kind = "replication_stop"
[[faults]]
at = "8m"
kind = "dns_ttl_overrun"
overrun = "10m"
[[faults]]
at = "9m"
kind = "capacity_limit"
service = "web"
region = "b"
capacity = 0.0
[[faults]]
at = "10m"
kind = "responder_absent"
responder = "oncall"
for = "20m"
[[faults]]
at = "0s"
kind = "monitor_crash"
for = "1m"
"#;
    let s = parse(&with(faults)).unwrap();
    let kinds: Vec<(u64, &str)> = s.faults.iter().map(|f| (f.at.as_secs() / 60, f.kind.name())).collect();
    assert_eq!(
        kinds,
        [
            (0, "monitor_crash"),
            (1, "host_crash"),
            (2, "blackhole"),
            (3, "slow_responses"),
            (4, "pool_exhaustion"),
            (5, "partition"),
            (6, "replication_lag"),
            (7, "replication_stop"),
            (8, "dns_ttl_overrun"),
            (9, "capacity_limit"),
            (10, "responder_absent"),
            (30, "http_errors"),
            (30, "latency"),
        ],
        "sorted by `at`, file order kept for equal times"
    );
    let kind = |name: &str| &s.faults.iter().find(|f| f.kind.name() == name).unwrap().kind;
    assert_eq!(
        *kind("http_errors"),
        FaultKind::HttpErrors { service: "web".into(), region: None, status: 503, ratio: 1.0 }
    );
    assert_eq!(
        *kind("partition"),
        FaultKind::Partition { a: Place::Region("a".into()), b: Place::Host("b-db".into()), oneway: true }
    );
    assert_eq!(
        *kind("latency"),
        FaultKind::Latency {
            a: Place::Host("clients".into()),
            b: Place::Region("b".into()),
            one_way: Duration::from_millis(200)
        }
    );
    assert_eq!(
        *kind("replication_lag"),
        FaultKind::ReplicationLag { lag: Duration::from_secs(30), ramp: Some(Duration::from_secs(300)) }
    );
    assert_eq!(
        *kind("capacity_limit"),
        FaultKind::CapacityLimit { service: "web".into(), region: "b".into(), capacity: 0.0 }
    );
    assert_eq!(s.faults[0].duration, Some(Duration::from_secs(60)));
    assert_eq!(s.faults[1].duration, None);
}

#[test]
fn rates_and_ack_delays_accept_every_documented_form() {
    let s = parse(&edit("\"10/s\"", "\"300/m\"")).unwrap();
    assert_eq!(s.traffic.rate, 5.0);
    let s = parse(&edit("\"10/s\"", "\"0.5/s\"")).unwrap();
    assert_eq!(s.traffic.rate, 0.5);
    let s = parse(&edit("ack_after = \"3m\"", "ack_after = \"2m..8m\"")).unwrap();
    assert_eq!(
        s.responders["oncall"].ack_after,
        AckDelay::Range(Duration::from_secs(120), Duration::from_secs(480))
    );
    let s = parse(&edit("ack_after = \"3m\"", "ack_after = \"never\"")).unwrap();
    assert_eq!(s.responders["oncall"].ack_after, AckDelay::Never);
    let s = parse(&edit("failover_after = 6", "failover_after = 6\nfailover = \"manual\"")).unwrap();
    assert_eq!(s.monitor.failover, FailoverMode::Manual);
    let s =
        parse(&with("[dns]\nttl = \"5s\"\n[dns.health_check]\ninterval = \"10s\"\nfailures = 3\n")).unwrap();
    assert_eq!(s.dns.ttl, Duration::from_secs(5));
    assert_eq!(s.dns.health_check.map(|h| (h.interval, h.failures)), Some((Duration::from_secs(10), 3)));
}

#[test]
fn each_mistake_is_reported_at_its_line_and_column() {
    // Syntax, unknown keys, types.
    check("not toml at all", "1:5", "expected");
    check(
        &edit("duration = \"1h\"", "duration = \"1h\"\ndurration = \"2h\""),
        "3:1",
        "unknown field `durration`",
    );
    check(&edit("\"1h\"", "\"soon\""), "2:12", "duration");
    check(&BASE.replace("[monitor]", "[monitr]"), "16:2", "unknown field `monitr`");
    check(&edit("rate = \"10/s\"", "rate = 20"), "15:8", "a rate string such as \"20/s\"");
    check(&edit("standby = \"b\"", "standby = \"b\"\nstandby_mode = \"lukewarm\""), "11:16", "hot");
    check(&fault("at = \"10m\"\nkind = \"monitor_crash\"\ncolour = 1\n"), "30:1", "unknown field `colour`");
    check(&edit("name = \"t\"", "name = \" \""), "1:8", "name must not be empty");
    check(&edit("\"1h\"", "\"0s\""), "2:12", "duration must be longer than zero");
    check(
        &edit("duration = \"1h\"", "duration = \"1h\"\ntick = \"2h\""),
        "3:8",
        "tick (2h) must not exceed duration (1h)",
    );

    // Undeclared regions, wherever a region is named.
    check(
        &edit("primary = \"a\"", "primary = \"c\""),
        "9:11",
        "region \"c\" is not declared; declared regions: a, b",
    );
    check(&edit("standby = \"b\"", "standby = \"c\""), "10:11", "region \"c\" is not declared");
    check(
        &edit("[database]\nprimary = \"a\"", "[database]\nprimary = \"c\""),
        "12:11",
        "region \"c\" is not declared",
    );
    check(&edit("replica = \"b\"", "replica = \"c\""), "13:11", "region \"c\" is not declared");
    check(
        &with("[[latency]]\nbetween = [\"a\", \"x\"]\none_way = \"5ms\"\n"),
        "28:17",
        "region \"x\" is not declared",
    );
    check(
        &edit("rate = \"10/s\"", "rate = \"10/s\"\nregion = \"x\""),
        "16:10",
        "region \"x\" is not declared",
    );
    check(&edit("[monitor]\n", "[monitor]\nregion = \"x\"\n"), "17:10", "region \"x\" is not declared");
    check(
        &fault("at = \"10m\"\nkind = \"region_outage\"\nregion = \"x\"\n"),
        "30:10",
        "region \"x\" is not declared",
    );
    check(
        &fault("at = \"10m\"\nkind = \"partition\"\nbetween = [\"a\", \"nowhere\"]\n"),
        "30:17",
        "\"nowhere\" is neither a declared region nor a host",
    );

    // Names: duplicates and reserved ones.
    check(&with("[[regions]]\nname = \"a\"\n"), "28:8", "region \"a\" is declared twice");
    check(&with("[[regions]]\nname = \"dns\"\n"), "28:8", "region name \"dns\" is reserved");
    check(
        &with("[[services]]\nname = \"web\"\nprimary = \"a\"\n"),
        "28:8",
        "service \"web\" is declared twice",
    );
    let latency = "[[latency]]\nbetween = [\"a\", \"b\"]\none_way = \"5ms\"\n";
    let reverse = "[[latency]]\nbetween = [\"b\", \"a\"]\none_way = \"9ms\"\n";
    check(&with(&format!("{latency}{reverse}")), "31:11", "declared twice");
    check(&with("[[latency]]\nbetween = [\"a\"]\none_way = \"5ms\"\n"), "28:11", "exactly two regions");

    // Placement.
    check(&edit("standby = \"b\"", "standby = \"a\""), "10:11", "standby \"a\" is the primary's own region");
    check(&edit("replica = \"b\"", "replica = \"a\""), "13:11", "replica \"a\" is the primary's own region");
    check(
        &edit("standby = \"b\"", "standby_mode = \"warm\""),
        "10:16",
        "`standby_mode` applies only to a service with a standby",
    );
    check(
        &edit("standby = \"b\"", "standby = \"b\"\nscale_up = \"1m\""),
        "11:12",
        "a hot standby serves from the start",
    );
    check(
        &edit("standby = \"b\"", "standby = \"b\"\ncapacity = 0.0"),
        "11:12",
        "capacity = 0 is out of range",
    );
    check(
        &edit("standby = \"b\"", "standby = \"b\"\ncapacity = 1.5"),
        "11:12",
        "greater than 0 and at most 1",
    );
    check(
        &edit("replica = \"b\"", "replica = \"b\"\nreplication = \"sync\"\nlag = \"1s\""),
        "15:7",
        "lag applies to async replication",
    );
    check(
        &edit("replica = \"b\"", "lag = \"1s\""),
        "13:7",
        "`lag` applies only to a [database] with a replica",
    );

    // Monitor thresholds.
    check(
        &edit("failover_after = 6", "failover_after = 2"),
        "20:18",
        "failover_after (2) must be at least alert_after (3)",
    );
    check(&edit("alert_after = 3", "alert_after = 0"), "19:15", "alert_after must be at least 1");
    check(
        &edit("timeout = \"5s\"", "timeout = \"20s\""),
        "18:11",
        "timeout (20s) must not exceed interval (10s)",
    );
    check(
        &edit("failover_after = 6", "failover_after = 6\nrecover_after = 0"),
        "21:17",
        "recover_after must be at least 1",
    );
    check(
        &BASE
            .replace("decide_after = \"2m\"\n", "")
            .replace("failover_after = 6", "failover_after = 6\nfailover = \"manual\""),
        "21:12",
        "no responder paged by [[escalation]] has decide_after",
    );

    // Traffic.
    check(&edit("\"10/s\"", "\"0/s\""), "15:8", "must be positive");
    check(&edit("\"10/s\"", "\"-3/s\""), "15:8", "must be positive");
    check(&edit("\"10/s\"", "\"fast\""), "15:8", "\"fast\" is not a rate");
    check(&edit("\"10/s\"", "\"10/day\""), "15:8", "is not a rate");
    check(
        &edit("rate = \"10/s\"", "rate = \"10/s\"\nwrite_ratio = 1.5"),
        "16:15",
        "write_ratio = 1.5 is out of range: it must be between 0 and 1",
    );
    check(
        &edit("rate = \"10/s\"", "rate = \"10/s\"\nsuccess_threshold = 0.0"),
        "16:21",
        "greater than 0 and at most 1",
    );
    check(
        &edit("rate = \"10/s\"", "rate = \"10/s\"\nwindow = \"2h\""),
        "16:10",
        "window (2h) must not exceed duration (1h)",
    );
    check(
        &edit("rate = \"10/s\"", "rate = \"10/s\"\ntimeout = \"0s\""),
        "16:11",
        "timeout must be longer than zero",
    );

    // DNS.
    check(
        &with("[dns.health_check]\ninterval = \"10s\"\nfailures = 0\n"),
        "29:12",
        "failures must be at least 1",
    );

    // Targets.
    check(&with("[targets]\nrto = \"0s\"\n"), "28:7", "a target of zero");
    check(&with("[targets]\nrpo = \"0s\"\n"), "28:7", "a target of zero");
    check(&with("[targets]\ndetect = \"0ms\"\n"), "28:10", "a target of zero");
    check(&with("[targets]\navailability = 0.0\n"), "28:16", "a target of zero");
    check(&with("[targets]\navailability = 1.5\n"), "28:16", "availability = 1.5 is out of range");
    check(
        &with("[targets]\nincident_start = \"2h\"\n"),
        "28:18",
        "incident_start (2h) is not before the end",
    );
    check(&with("[targets]\nrto = 15\n"), "28:7", "duration");
    check(
        &format!(
            "{}[targets]\npage = \"5m\"\n",
            BASE.replace("[[escalation]]\nnotify = \"oncall\"\nack_timeout = \"5m\"\n", "")
        ),
        "25:8",
        "no [[escalation]] level pages anyone",
    );

    // Escalation and responders.
    check(
        &edit("notify = \"oncall\"", "notify = \"nobody\""),
        "22:10",
        "notify = \"nobody\" names no responder; declared responders: oncall",
    );
    check(
        &edit("ack_timeout = \"5m\"", "ack_timeout = \"0s\""),
        "23:15",
        "ack_timeout must be longer than zero",
    );
    check(
        &edit("ack_after = \"3m\"", "ack_after = \"soonish\""),
        "25:13",
        "expected a duration (\"3m\"), a range (\"2m..8m\") or \"never\"",
    );
    check(&edit("ack_after = \"3m\"", "ack_after = \"8m..2m\""), "25:13", "is backwards");
    check(&edit("ack_after = \"3m\"", "ack_after = \"2m..\""), "25:13", "a range (\"2m..8m\")");
    check(&edit("ack_after = \"3m\"", "ack_after = 180"), "25:13", "a duration (\"3m\"), a range");

    // Faults: time.
    check(
        &fault("at = \"1h\"\nkind = \"monitor_crash\"\n"),
        "28:6",
        "at (1h) is not before the end of the scenario (duration = 1h)",
    );
    check(&fault("at = \"3h\"\nkind = \"monitor_crash\"\n"), "28:6", "not before the end");
    check(
        &fault("at = \"10m\"\nkind = \"monitor_crash\"\nfor = \"0s\"\n"),
        "30:7",
        "for must be longer than zero",
    );

    // Faults: kind and its fields.
    check(
        &fault("at = \"10m\"\nkind = \"meteor\"\n"),
        "29:8",
        "unknown fault kind \"meteor\"; expected one of: region_outage",
    );
    check(
        &fault("at = \"10m\"\nkind = \"region_outage\"\nregion = \"a\"\nlag = \"2s\"\n"),
        "31:7",
        "`lag` does not apply to kind \"region_outage\"; it takes: region",
    );
    check(
        &fault(
            "at = \"10m\"\nkind = \"latency\"\nbetween = [\"a\", \"b\"]\none_way = \"5ms\"\noneway = true\n",
        ),
        "32:10",
        "`oneway` does not apply to kind \"latency\"; it takes: between, one_way",
    );
    check(
        &fault("at = \"10m\"\nkind = \"monitor_crash\"\nregion = \"a\"\n"),
        "30:10",
        "it takes no fields besides at, kind and for",
    );
    check(
        &fault("at = \"10m\"\nkind = \"latency\"\nbetween = [\"a\", \"b\"]\n"),
        "29:8",
        "kind \"latency\" needs `one_way`",
    );
    check(
        &fault("at = \"10m\"\nkind = \"capacity_limit\"\nservice = \"web\"\ncapacity = 0.5\n"),
        "29:8",
        "needs `region`",
    );
    check(
        &fault("at = \"10m\"\nkind = \"http_errors\"\nservice = \"nope\"\n"),
        "30:11",
        "service \"nope\" is not declared; declared services: web",
    );
    check(
        &fault("at = \"10m\"\nkind = \"http_errors\"\nservice = \"web\"\nratio = 2.0\n"),
        "31:9",
        "ratio = 2 is out of range",
    );
    check(
        &fault("at = \"10m\"\nkind = \"http_errors\"\nservice = \"web\"\nstatus = 200\n"),
        "31:10",
        "status 200 is not an error status",
    );
    check(
        &format!(
            "{BASE}[[regions]]\nname = \"c\"\n[[faults]]\nat = \"10m\"\nkind = \"pool_exhaustion\"\nservice = \"web\"\nregion = \"c\"\n"
        ),
        "33:10",
        "service \"web\" does not run in \"c\"; it runs in a (primary) and b (standby)",
    );
    check(
        &fault("at = \"10m\"\nkind = \"responder_absent\"\nresponder = \"nope\"\n"),
        "30:13",
        "responder \"nope\" is not declared",
    );
    check(
        &fault("at = \"10m\"\nkind = \"host_crash\"\nhost = \"a-cache\"\n"),
        "30:8",
        "\"a-cache\" is neither a declared region nor a host",
    );
    check(
        &fault("at = \"10m\"\nkind = \"host_crash\"\nhost = \"a\"\n"),
        "30:8",
        "\"a\" is a region; host_crash takes a host",
    );
    check(
        &format!(
            "{}[[faults]]\nat = \"10m\"\nkind = \"host_crash\"\nhost = \"a-db\"\n",
            edit("[database]\nprimary = \"a\"\nreplica = \"b\"\n", "")
        ),
        "27:8",
        "host \"a-db\" does not exist: the [database] has no node in \"a\"",
    );
    check(
        &format!("{}[[faults]]\nat = \"10m\"\nkind = \"replication_stop\"\n", edit("replica = \"b\"\n", "")),
        "28:8",
        "kind \"replication_stop\" needs a [database] with a replica",
    );
    check(
        &fault("at = \"10m\"\nkind = \"blackhole\"\nbetween = [\"a\", \"b\", \"dns\"]\n"),
        "30:11",
        "exactly two regions or hosts",
    );
    check(
        &fault("at = \"10m\"\nkind = \"blackhole\"\nbetween = [\"dns\", \"dns\"]\n"),
        "30:11",
        "the same side twice",
    );
    check(
        &fault("at = \"10m\"\nkind = \"dns_ttl_overrun\"\noverrun = \"0s\"\n"),
        "30:11",
        "overrun must be longer than zero",
    );
}

#[test]
fn a_missing_required_table_or_field_is_named() {
    let missing = errors(&BASE.replace("[traffic]\nrate = \"10/s\"\n", ""));
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert!(missing[0].contains("missing field `traffic`"), "{}", missing[0]);
    let missing = errors(&BASE.replace("interval = \"10s\"\n", ""));
    assert_eq!(missing.len(), 1, "{missing:#?}");
    assert!(
        missing[0].starts_with("16:1: ") && missing[0].contains("missing field `interval`"),
        "{}",
        missing[0]
    );
}

#[test]
fn several_cross_field_mistakes_are_all_reported_at_once_in_file_order() {
    let text = fault("at = \"2h\"\nkind = \"region_outage\"\nregion = \"x\"\n")
        .replace("timeout = \"5s\"", "timeout = \"20s\"")
        .replace("failover_after = 6", "failover_after = 2")
        .replace("standby = \"b\"", "standby = \"a\"");
    let errors = errors(&text);
    let at: Vec<&str> = errors.iter().map(|e| e.split(": ").next().unwrap()).collect();
    assert_eq!(at, ["10:11", "18:11", "20:18", "28:6", "30:10"], "{errors:#?}");
}

#[test]
fn a_missing_file_is_not_found_and_a_bad_one_is_invalid() {
    let err = Scenario::from_file(Path::new("scenarios/no-such-file.toml")).unwrap_err();
    assert!(matches!(err, LoadError::NotFound(_)), "{err}");
    assert_eq!(err.exit_code(), 4);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, edit("failover_after = 6", "failover_after = 2")).unwrap();
    let err = Scenario::from_file(&bad).unwrap_err();
    assert_eq!(err.exit_code(), 3);
    assert!(
        err.to_string().ends_with("bad.toml:20:18: failover_after (2) must be at least alert_after (3)"),
        "{err}"
    );
}

/// Values that stress the validators when put where another value was.
const VALUES: &[&str] = &[
    "\"0s\"",
    "\"1ms\"",
    "\"99999999999999999999h\"",
    "\"18446744073709551615s\"",
    "0",
    "-1",
    "4294967296",
    "1.5",
    "-0.0",
    "nan",
    "inf",
    "1e400",
    "\"\"",
    "\" \"",
    "\"x\"",
    "\"a\"",
    "\"us-east-1\"",
    "\"us-east-1-db\"",
    "\"monitor\"",
    "\"2m..1m\"",
    "\"1m..\"",
    "\"never\"",
    "\"0/s\"",
    "\"1e400/s\"",
    "\"nan/m\"",
    "[]",
    "[\"us-east-1\"]",
    "[\"dns\", \"dns\"]",
    "true",
    "{}",
    "\"manual\"",
    "\"sync\"",
    "\"cold\"",
    "\"é\"",
];

/// Text fragments spliced into a valid file.
const FRAGMENTS: &[&str] =
    &["\"", "=", "[", "]", "[[", "]]", "\n", "#", "{", "}", ",", ".", "\\", "é", "'''", "\"\"\"", "0", "x"];

#[derive(Clone, Debug)]
enum Mutation {
    /// Replace the value on line `line` (mod the line count) with `VALUES[value]`.
    Value { line: usize, value: usize },
    /// Delete line `line`.
    DeleteLine { line: usize },
    /// Duplicate line `line`.
    DuplicateLine { line: usize },
    /// Insert `FRAGMENTS[fragment]` at character `at`.
    Insert { at: usize, fragment: usize },
    /// Delete `len` characters from character `at`.
    Delete { at: usize, len: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0..VALUES.len()).prop_map(|(line, value)| Mutation::Value { line, value }),
        any::<usize>().prop_map(|line| Mutation::DeleteLine { line }),
        any::<usize>().prop_map(|line| Mutation::DuplicateLine { line }),
        (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(at, fragment)| Mutation::Insert { at, fragment }),
        (any::<usize>(), 1usize..20).prop_map(|(at, len)| Mutation::Delete { at, len }),
    ]
}

fn mutate(text: &str, mutation: &Mutation) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let n = lines.len().max(1);
    match *mutation {
        Mutation::Value { line, value } => {
            if let Some(l) = lines.get_mut(line % n) {
                if let Some((key, _)) = l.split_once(" = ") {
                    *l = format!("{key} = {}", VALUES[value]);
                }
            }
        }
        Mutation::DeleteLine { line } => {
            if line % n < lines.len() {
                lines.remove(line % n);
            }
        }
        Mutation::DuplicateLine { line } => {
            if let Some(l) = lines.get(line % n).cloned() {
                lines.insert(line % n, l);
            }
        }
        Mutation::Insert { at, fragment } => {
            let mut chars: Vec<char> = text.chars().collect();
            let at = at % (chars.len() + 1);
            chars.splice(at..at, FRAGMENTS[fragment].chars());
            return chars.into_iter().collect();
        }
        Mutation::Delete { at, len } => {
            let mut chars: Vec<char> = text.chars().collect();
            let at = at % (chars.len() + 1);
            let end = (at + len).min(chars.len());
            chars.drain(at..end);
            return chars.into_iter().collect();
        }
    }
    lines.join("\n")
}

/// Parsing must return, never panic; an error must point inside the file.
fn parses_without_panic(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(s) => {
            prop_assert!(s.faults.windows(2).all(|w| w[0].at <= w[1].at));
        }
        Err(LoadError::Invalid(problems)) => {
            prop_assert!(!problems.is_empty());
            for p in &problems {
                prop_assert!(p.line >= 1 && p.line <= text.lines().count().max(1) + 1, "{p}");
            }
        }
        Err(other) => prop_assert!(false, "unexpected {other}"),
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".*") {
        parses_without_panic(&text)?;
    }

    #[test]
    fn mutated_valid_files_never_panic(
        base in prop_oneof![Just(BASE.to_owned()), Just(std::fs::read_to_string(EXAMPLE).unwrap())],
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let text = mutations.iter().fold(base, |text, m| mutate(&text, m));
        parses_without_panic(&text)?;
    }
}

#[test]
fn expectations_lost_writes_targets_and_restart_runbooks() {
    use gameday::scenario::{Expectation, Runbook};
    let with_targets = |targets: &str, top: &str| {
        let text = format!("{top}\n{BASE}[targets]\n{targets}\n");
        parse(&text)
    };
    let s = with_targets(
        "rto = \"15m\"\nlost_writes = 0",
        "expect = \"fail\"\nexpect_missed = [\"lost_writes\"]",
    )
    .unwrap();
    assert_eq!(s.expect, Expectation::Fail { missed: vec!["lost_writes".into()] });
    assert_eq!(s.targets.lost_writes, Some(0), "zero lost writes is a meaningful target");
    assert_eq!(parse(BASE).unwrap().expect, Expectation::Pass);

    let errors = input_errors::positions(with_targets("rto = \"15m\"", "expect_missed = [\"rto\"]"));
    input_errors::assert_one(&errors, "1:17", "expect_missed applies only with expect = \"fail\"");
    let errors = input_errors::positions(with_targets(
        "rto = \"15m\"",
        "expect = \"fail\"\nexpect_missed = [\"rpo\"]",
    ));
    input_errors::assert_one(&errors, "2:18", "\"rpo\" is not a target of this scenario (declared: rto)");
    let errors = input_errors::positions(parse(&format!("expect = \"fail\"\n{BASE}")));
    input_errors::assert_one(&errors, "1:10", "needs at least one target");

    let restart = parse(&edit("standby = \"b\"", "standby = \"b\"\nrunbook = \"restart\"")).unwrap();
    assert_eq!(restart.services[0].runbook, Runbook::Restart);
    assert_eq!(parse(BASE).unwrap().services[0].runbook, Runbook::Failover);
    check(&edit("standby = \"b\"", "standby = \"b\"\nrunbook = \"pray\""), "11:11", "failover");
}

/// BASE with a `[backups]` section (from line 27) holding `extra` after its required fields.
fn backups(extra: &str) -> String {
    with(&format!(
        "[backups]\nstore = \"b\"\nsize = \"500GB\"\nrestore_rate = \"1TB/h\"\nfull = \"7d\"\n{extra}"
    ))
}

#[test]
fn backups_parse_with_their_defaults_and_the_new_fault_kinds() {
    use gameday::scenario::{BackupKind, Runbook};
    let s = parse(&backups("")).unwrap();
    let b = s.backups.as_ref().unwrap();
    assert_eq!((b.store.as_str(), b.size), ("b", 500_000_000_000));
    assert!((b.restore_rate - 1e12 / 3600.0).abs() < 1e-6);
    assert!((b.change_rate - 5e9 / 3600.0).abs() < 1e-6, "1% of the data per hour by default");
    assert_eq!((b.full_age, b.history), (Duration::ZERO, Duration::from_secs(14 * 86_400)));
    assert_eq!((b.differential, b.incremental, b.wal_archive, b.drill), (None, None, None, None));
    assert!(!s.traffic.read_rows, "reads look up rows only where rows can go missing");

    let full = backups(
        "change_rate = \"2GB/h\"\nfull_age = \"71h30m\"\ndifferential = \"1d\"\nincremental = \"1h\"\n\
         wal_archive = \"1m\"\nhistory = \"12d\"\ndrill = \"1d\"\n",
    );
    let faults = "[[faults]]\nat = \"30m\"\nkind = \"bad_delete\"\nratio = 0.2\n\
        [[faults]]\nat = \"0s\"\nkind = \"backup_corrupt\"\nbackup = \"differential\"\n\
        [[faults]]\nat = \"10m\"\nkind = \"archive_stop\"\n\
        [[faults]]\nat = \"40m\"\nkind = \"user_report\"\nservice = \"web\"\n";
    let s = parse(&format!("{full}{faults}").replacen(
        "standby = \"b\"",
        "standby = \"b\"\nrunbook = \"restore\"",
        1,
    ))
    .unwrap();
    assert_eq!(s.services[0].runbook, Runbook::Restore);
    assert!(s.traffic.read_rows, "a bad_delete turns row lookups on");
    let kinds: Vec<&FaultKind> = s.faults.iter().map(|f| &f.kind).collect();
    assert_eq!(
        kinds,
        [
            &FaultKind::BackupCorrupt { backup: BackupKind::Differential },
            &FaultKind::ArchiveStop,
            &FaultKind::BadDelete { ratio: 0.2 },
            &FaultKind::UserReport { service: "web".into() },
        ]
    );
    assert!(
        s.faults.iter().filter(|f| f.kind.is_latent()).count() == 3,
        "only the DELETE starts an incident"
    );
}

#[test]
fn backup_mistakes_are_reported_at_their_line_and_column() {
    check(
        &backups("").replace("size = \"500GB\"", "size = \"lots\""),
        "29:8",
        "expected a positive number then B, KB",
    );
    check(
        &backups("").replace("\"1TB/h\"", "\"1TB/fortnight\""),
        "30:16",
        "restore_rate \"1TB/fortnight\" is not a throughput",
    );
    check(&backups("").replace("store = \"b\"", "store = \"z\""), "28:9", "region \"z\" is not declared");
    check(&backups("full_age = \"7d\"\n"), "32:12", "full_age (7days) must be less than full (7days)");
    check(
        &backups("differential = \"1d\"\nincremental = \"1d\"\n"),
        "33:15",
        "incremental (1day) must be shorter than differential",
    );
    check(
        &backups("history = \"1d\"\nfull_age = \"2d\"\n"),
        "32:11",
        "history (1day) must reach back to the newest full backup",
    );
    check(
        &backups("").replace("[database]\nprimary = \"a\"\nreplica = \"b\"\n", ""),
        "24:1",
        "[backups] needs a [database] to back up",
    );
    check(
        &edit("standby = \"b\"", "standby = \"b\"\nrunbook = \"restore\""),
        "11:11",
        "needs a [backups] section",
    );
    check(&fault("at = \"1m\"\nkind = \"archive_stop\""), "29:8", "needs WAL archiving");
    check(
        &format!(
            "{}[[faults]]\nat = \"1m\"\nkind = \"backup_corrupt\"\nbackup = \"incremental\"\n",
            backups("")
        ),
        "35:10",
        "no incremental backups are scheduled",
    );
    check(&fault("at = \"1m\"\nkind = \"backup_corrupt\"\nbackup = \"nightly\""), "30:10", "full");
    check(&fault("at = \"1m\"\nkind = \"user_report\"\nservice = \"nope\""), "30:11", "nope");
    check(
        &fault("at = \"1m\"\nkind = \"host_crash\"\nhost = \"b-store\""),
        "30:8",
        "keeps no object store in \"b\"",
    );
    check(&fault("at = \"1m\"\nkind = \"bad_delete\"\nratio = 0"), "30:9", "ratio = 0 is out of range");
}
