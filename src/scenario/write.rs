//! A validated [`Scenario`] written back as a scenario file: the format's own field names
//! (DESIGN.md section 3), durations as humantime strings, one table per section, in the order a
//! person reads a scenario. Parsing the output gives back the same `Scenario` (except `path`).
//!
//! Every struct is destructured without `..` and every enum matched without a wildcard, so a
//! field or fault kind added to the model is a compile error here rather than silently left
//! out of the files this writes.

use std::fmt::Write;
use std::time::Duration;

use super::model::{
    AckDelay, Backups, Database, Dns, DnsHealthCheck, Expectation, FailoverMode, Fault, FaultKind, Latency,
    MonitorSettings, Place, Replication, Responder, Runbook, Scenario, Service, StandbyMode, Targets,
    Traffic,
};
use crate::monitor::decide::policy::EscalationLevel;

/// Renders `scenario` as TOML. Each line of `header` becomes a leading `# ` comment line (an
/// empty header writes none). Fields at their default value are left out where the format
/// forbids them in some contexts (standby settings without a standby, replication settings
/// without a replica); everything else is written out so the file reads on its own.
///
/// ```
/// # use gameday::diagnostic::SourceFile;
/// # use gameday::Scenario;
/// let text = std::fs::read_to_string("scenarios/region-outage.toml").unwrap();
/// let scenario = Scenario::parse(&SourceFile::new("a.toml", text)).unwrap();
/// let written = gameday::scenario::write::to_toml(&scenario, "written back");
/// let again = Scenario::parse(&SourceFile::new("a.toml", written)).unwrap();
/// assert_eq!(again, scenario);
/// ```
pub fn to_toml(scenario: &Scenario, header: &str) -> String {
    let Scenario {
        path: _,
        name,
        seed,
        duration,
        tick,
        targets,
        regions,
        latency,
        services,
        database,
        backups,
        dns,
        traffic,
        monitor,
        escalation,
        responders,
        faults,
        expect,
    } = scenario;
    let mut w = Writer::default();
    for line in header.lines() {
        w.line(if line.is_empty() { "#".to_owned() } else { format!("# {line}") });
    }
    if !header.is_empty() {
        w.blank();
    }
    w.str("name", name);
    w.raw("seed", seed.to_string());
    w.dur("duration", *duration);
    w.dur("tick", *tick);
    write_expect(&mut w, expect);
    write_targets(&mut w, targets);
    for region in regions {
        w.table("[[regions]]");
        w.str("name", region);
    }
    for entry in latency {
        let Latency { between: (a, b), one_way } = entry;
        w.table("[[latency]]");
        w.raw("between", string_array([a.as_str(), b.as_str()]));
        w.dur("one_way", *one_way);
    }
    for service in services {
        write_service(&mut w, service);
    }
    if let Some(database) = database {
        write_database(&mut w, database);
    }
    if let Some(backups) = backups {
        write_backups(&mut w, backups);
    }
    write_dns(&mut w, dns);
    write_traffic(&mut w, traffic);
    write_monitor(&mut w, monitor);
    for level in escalation {
        let EscalationLevel { notify, ack_timeout } = level;
        w.table("[[escalation]]");
        w.str("notify", notify);
        w.dur("ack_timeout", *ack_timeout);
    }
    for (who, responder) in responders {
        let Responder { ack_after, decide_after } = responder;
        w.table(&format!("[responders.{}]", key(who)));
        let ack = match ack_after {
            AckDelay::Fixed(d) => duration_text(*d),
            AckDelay::Range(lo, hi) => format!("{}..{}", duration_text(*lo), duration_text(*hi)),
            AckDelay::Never => "never".to_owned(),
        };
        w.str("ack_after", &ack);
        if let Some(d) = decide_after {
            w.dur("decide_after", *d);
        }
    }
    for fault in faults {
        write_fault(&mut w, fault);
    }
    w.out
}

/// A duration as a compact humantime string (`"1h30m"`, `"2s 500ms"` as `"2s500ms"`), exact to
/// the nanosecond; the scenario parser reads it back to the same value.
pub fn duration_text(d: Duration) -> String {
    humantime::format_duration(d).to_string().replace(' ', "")
}

fn write_expect(w: &mut Writer, expect: &Expectation) {
    match expect {
        Expectation::Pass => {}
        Expectation::Fail { missed } => {
            w.str("expect", "fail");
            if !missed.is_empty() {
                w.raw("expect_missed", string_array(missed.iter().map(String::as_str)));
            }
        }
    }
}

fn write_targets(w: &mut Writer, targets: &Targets) {
    let Targets {
        rto,
        rpo,
        detect,
        page,
        acknowledge,
        mitigate,
        recover,
        availability,
        lost_writes,
        incident_start,
    } = targets;
    let durations = [
        ("rto", rto),
        ("rpo", rpo),
        ("detect", detect),
        ("page", page),
        ("acknowledge", acknowledge),
        ("mitigate", mitigate),
        ("recover", recover),
        ("incident_start", incident_start),
    ];
    if durations.iter().all(|(_, d)| d.is_none()) && availability.is_none() && lost_writes.is_none() {
        return;
    }
    w.table("[targets]");
    for (name, d) in durations {
        if let Some(d) = d {
            w.dur(name, *d);
        }
    }
    if let Some(a) = availability {
        w.float("availability", *a);
    }
    if let Some(n) = lost_writes {
        w.raw("lost_writes", n.to_string());
    }
}

fn write_service(w: &mut Writer, service: &Service) {
    let Service { name, primary, standby, standby_mode, scale_up, capacity, runbook } = service;
    w.table("[[services]]");
    w.str("name", name);
    w.str("primary", primary);
    // Standby settings are an error on a service without a standby; the model holds their
    // defaults then.
    if let Some(standby) = standby {
        w.str("standby", standby);
        let mode = match standby_mode {
            StandbyMode::Hot => "hot",
            StandbyMode::Warm => "warm",
            StandbyMode::Cold => "cold",
        };
        w.str("standby_mode", mode);
        // A hot standby with a scale_up is an error; the model holds zero then.
        if !scale_up.is_zero() {
            w.dur("scale_up", *scale_up);
        }
        w.float("capacity", *capacity);
    }
    match runbook {
        Runbook::Failover => {}
        Runbook::Restart => w.str("runbook", "restart"),
        Runbook::Restore => w.str("runbook", "restore"),
    }
}

fn write_backups(w: &mut Writer, backups: &Backups) {
    let Backups {
        store,
        size,
        change_rate,
        restore_rate,
        full,
        full_age,
        differential,
        incremental,
        wal_archive,
        history,
        drill,
    } = backups;
    w.table("[backups]");
    w.str("store", store);
    // Bytes, and bytes per second: exact, and read back to the same values.
    w.str("size", &format!("{size}B"));
    w.str("change_rate", &format!("{change_rate}B/s"));
    w.str("restore_rate", &format!("{restore_rate}B/s"));
    w.dur("full", *full);
    w.dur("full_age", *full_age);
    for (name, every) in
        [("differential", differential), ("incremental", incremental), ("wal_archive", wal_archive)]
    {
        if let Some(every) = every {
            w.dur(name, *every);
        }
    }
    w.dur("history", *history);
    if let Some(drill) = drill {
        w.dur("drill", *drill);
    }
}

fn write_database(w: &mut Writer, database: &Database) {
    let Database { primary, replica, replication, lag, promote_time, fencing } = database;
    w.table("[database]");
    w.str("primary", primary);
    // Replication settings are an error without a replica; the model holds their defaults then.
    if let Some(replica) = replica {
        w.str("replica", replica);
        match replication {
            Replication::Async => {
                w.str("replication", "async");
                w.dur("lag", *lag);
            }
            Replication::Sync => w.str("replication", "sync"),
        }
        w.dur("promote_time", *promote_time);
        w.raw("fencing", fencing.to_string());
    }
}

fn write_dns(w: &mut Writer, dns: &Dns) {
    let Dns { ttl, health_check } = dns;
    w.table("[dns]");
    w.dur("ttl", *ttl);
    if let Some(DnsHealthCheck { interval, failures }) = health_check {
        w.table("[dns.health_check]");
        w.dur("interval", *interval);
        w.raw("failures", failures.to_string());
    }
}

fn write_traffic(w: &mut Writer, traffic: &Traffic) {
    let Traffic { rate, write_ratio, success_threshold, window, region, timeout, read_rows } = traffic;
    w.table("[traffic]");
    w.str("rate", &rate_text(*rate));
    w.float("write_ratio", *write_ratio);
    w.float("success_threshold", *success_threshold);
    w.dur("window", *window);
    if let Some(region) = region {
        w.str("region", region);
    }
    w.dur("timeout", *timeout);
    w.raw("read_rows", read_rows.to_string());
}

/// Requests per second as the format's rate string: per minute when that is a whole number
/// that reads back exactly (`"300/m"`), else per second (`"20/s"`, `"0.25/s"`).
fn rate_text(per_second: f64) -> String {
    let per_minute = per_second * 60.0;
    if per_second.fract() != 0.0 && per_minute.fract() == 0.0 && per_minute / 60.0 == per_second {
        format!("{per_minute}/m")
    } else {
        format!("{per_second}/s")
    }
}

fn write_monitor(w: &mut Writer, monitor: &MonitorSettings) {
    let MonitorSettings { region, interval, timeout, alert_after, failover_after, recover_after, failover } =
        monitor;
    w.table("[monitor]");
    if let Some(region) = region {
        w.str("region", region);
    }
    w.dur("interval", *interval);
    w.dur("timeout", *timeout);
    w.raw("alert_after", alert_after.to_string());
    w.raw("failover_after", failover_after.to_string());
    w.raw("recover_after", recover_after.to_string());
    let mode = match failover {
        FailoverMode::Automatic => "automatic",
        FailoverMode::Manual => "manual",
    };
    w.str("failover", mode);
}

fn place(p: &Place) -> &str {
    match p {
        Place::Region(name) | Place::Host(name) => name,
    }
}

fn write_fault(w: &mut Writer, fault: &Fault) {
    let Fault { at, duration, kind } = fault;
    w.table("[[faults]]");
    w.dur("at", *at);
    w.str("kind", kind.name());
    if let Some(d) = duration {
        w.dur("for", *d);
    }
    let between = |w: &mut Writer, a: &Place, b: &Place| w.raw("between", string_array([place(a), place(b)]));
    let deployment = |w: &mut Writer, service: &str, region: &Option<String>| {
        w.str("service", service);
        if let Some(region) = region {
            w.str("region", region);
        }
    };
    match kind {
        FaultKind::RegionOutage { region } => w.str("region", region),
        FaultKind::HostCrash { host } => w.str("host", host),
        FaultKind::Partition { a, b, oneway } => {
            between(w, a, b);
            if *oneway {
                w.raw("oneway", "true".to_owned());
            }
        }
        FaultKind::Latency { a, b, one_way } => {
            between(w, a, b);
            w.dur("one_way", *one_way);
        }
        FaultKind::Blackhole { a, b } => between(w, a, b),
        FaultKind::HttpErrors { service, region, status, ratio } => {
            deployment(w, service, region);
            w.raw("status", status.to_string());
            w.float("ratio", *ratio);
        }
        FaultKind::SlowResponses { service, region, delay } => {
            deployment(w, service, region);
            w.dur("delay", *delay);
        }
        FaultKind::PoolExhaustion { service, region } => deployment(w, service, region),
        FaultKind::ReplicationLag { lag, ramp } => {
            w.dur("lag", *lag);
            if let Some(ramp) = ramp {
                w.dur("ramp", *ramp);
            }
        }
        FaultKind::ReplicationStop | FaultKind::MonitorCrash => {}
        FaultKind::DnsTtlOverrun { overrun } => w.dur("overrun", *overrun),
        FaultKind::CapacityLimit { service, region, capacity } => {
            w.str("service", service);
            w.str("region", region);
            w.float("capacity", *capacity);
        }
        FaultKind::ResponderAbsent { responder } => w.str("responder", responder),
        FaultKind::BadDelete { ratio } => w.float("ratio", *ratio),
        FaultKind::BackupCorrupt { backup } => w.str("backup", backup.name()),
        FaultKind::ArchiveStop => {}
        FaultKind::UserReport { service } => w.str("service", service),
    }
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn string_array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(quote).collect();
    format!("[{}]", items.join(", "))
}

/// A table key: bare when TOML allows it, quoted otherwise.
fn key(name: &str) -> String {
    let bare = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { name.to_owned() } else { quote(name) }
}

/// Accumulates lines; a blank line before every table.
#[derive(Default)]
struct Writer {
    out: String,
}

impl Writer {
    fn line(&mut self, line: String) {
        self.out.push_str(&line);
        self.out.push('\n');
    }

    fn blank(&mut self) {
        self.out.push('\n');
    }

    fn table(&mut self, header: &str) {
        self.blank();
        self.line(header.to_owned());
    }

    fn raw(&mut self, name: &str, value: String) {
        let _ = writeln!(self.out, "{name} = {value}");
    }

    fn str(&mut self, name: &str, value: &str) {
        self.raw(name, quote(value));
    }

    fn dur(&mut self, name: &str, d: Duration) {
        self.raw(name, quote(&duration_text(d)));
    }

    fn float(&mut self, name: &str, value: f64) {
        self.raw(name, toml::Value::Float(value).to_string());
    }
}
