//! Validation: a [`RawScenario`] becomes a [`Scenario`], or every mistake in it is reported with
//! its line and column (DESIGN.md sections 3 and 8). Nothing past this module sees an
//! unvalidated value.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::model::{
    AckDelay, BackupKind, Backups, Database, Dns, DnsHealthCheck, Expectation, FailoverMode, Fault,
    FaultKind, Latency, MonitorSettings, Place, Replication, Responder, Runbook, Scenario, Service,
    StandbyMode, Targets, Traffic,
};
use super::raw::{
    RawAckDelay, RawBackupKind, RawBackups, RawDatabase, RawDns, RawExpect, RawFailoverMode, RawFault,
    RawLatency, RawLevel, RawMonitor, RawRate, RawReplication, RawResponder, RawRunbook, RawScenario,
    RawService, RawSize, RawStandbyMode, RawTargets, RawThroughput, RawTraffic, SpannedDuration,
};
use crate::diagnostic::{InputError, SourceFile};
use crate::monitor::decide::policy::EscalationLevel;

/// Hosts that exist once per scenario rather than once per region.
const GLOBAL_HOSTS: [&str; 4] = ["dns", "monitor", "pager", "clients"];

/// Default simulation tick.
const DEFAULT_TICK: Duration = Duration::from_millis(50);

/// The fields each fault kind takes (besides `at`, `kind` and `for`).
struct KindSpec {
    name: &'static str,
    required: &'static [&'static str],
    optional: &'static [&'static str],
}

const KINDS: &[KindSpec] = &[
    KindSpec { name: "region_outage", required: &["region"], optional: &[] },
    KindSpec { name: "host_crash", required: &["host"], optional: &[] },
    KindSpec { name: "partition", required: &["between"], optional: &["oneway"] },
    KindSpec { name: "latency", required: &["between", "one_way"], optional: &[] },
    KindSpec { name: "blackhole", required: &["between"], optional: &[] },
    KindSpec { name: "http_errors", required: &["service"], optional: &["region", "status", "ratio"] },
    KindSpec { name: "slow_responses", required: &["service", "delay"], optional: &["region"] },
    KindSpec { name: "pool_exhaustion", required: &["service"], optional: &["region"] },
    KindSpec { name: "replication_lag", required: &["lag"], optional: &["ramp"] },
    KindSpec { name: "replication_stop", required: &[], optional: &[] },
    KindSpec { name: "dns_ttl_overrun", required: &["overrun"], optional: &[] },
    KindSpec { name: "capacity_limit", required: &["service", "region", "capacity"], optional: &[] },
    KindSpec { name: "responder_absent", required: &["responder"], optional: &[] },
    KindSpec { name: "monitor_crash", required: &[], optional: &[] },
    KindSpec { name: "bad_delete", required: &[], optional: &["ratio"] },
    KindSpec { name: "backup_corrupt", required: &["backup"], optional: &[] },
    KindSpec { name: "archive_stop", required: &[], optional: &[] },
    KindSpec { name: "user_report", required: &["service"], optional: &[] },
];

impl KindSpec {
    fn takes(&self, field: &str) -> bool {
        self.required.contains(&field) || self.optional.contains(&field)
    }

    /// "it takes: service, region (optional)" or "it takes no fields besides at, kind and for".
    fn describe(&self) -> String {
        if self.required.is_empty() && self.optional.is_empty() {
            return "it takes no fields besides at, kind and for".to_owned();
        }
        let fields: Vec<String> = self
            .required
            .iter()
            .map(|f| (*f).to_owned())
            .chain(self.optional.iter().map(|f| format!("{f} (optional)")))
            .collect();
        format!("it takes: {}", fields.join(", "))
    }
}

/// Validates `raw`, collecting every mistake; errors come sorted by position.
pub(super) fn scenario(file: &SourceFile, raw: RawScenario) -> Result<Scenario, Vec<InputError>> {
    let mut check = Checker { file, errors: Vec::new(), regions: Vec::new() };
    let scenario = check.scenario(raw);
    if check.errors.is_empty() {
        Ok(scenario)
    } else {
        check.errors.sort_by_key(|e| (e.line, e.column));
        Err(check.errors)
    }
}

fn dur(d: &SpannedDuration) -> Duration {
    **d.get_ref()
}

fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn list(names: &[String]) -> String {
    if names.is_empty() { "none".to_owned() } else { names.join(", ") }
}

/// Whether zero is inside an allowed fraction range.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Zero {
    Allowed,
    Excluded,
}

/// What faults may refer to, once the rest of the file is validated.
struct World<'w> {
    services: &'w [Service],
    database: Option<&'w Database>,
    backups: Option<&'w Backups>,
    responders: &'w BTreeMap<String, Responder>,
}

/// Collects every mistake rather than stopping at the first.
struct Checker<'a> {
    file: &'a SourceFile,
    errors: Vec<InputError>,
    /// Declared regions, in file order, without duplicates.
    regions: Vec<String>,
}

impl Checker<'_> {
    fn fail(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push(self.file.error(Some(span), message, None));
    }

    fn fail_help(&mut self, span: Range<usize>, message: impl Into<String>, help: impl Into<String>) {
        self.errors.push(self.file.error(Some(span), message, Some(help.into())));
    }

    fn positive(&mut self, d: &SpannedDuration, what: &str) -> Duration {
        let value = dur(d);
        if value.is_zero() {
            self.fail(d.span(), format!("{what} must be longer than zero"));
        }
        value
    }

    fn at_least_one(&mut self, n: &Spanned<u32>, what: &str) -> u32 {
        let value = *n.get_ref();
        if value == 0 {
            self.fail(n.span(), format!("{what} must be at least 1"));
        }
        value.max(1)
    }

    fn fraction(&mut self, v: &Spanned<f64>, what: &str, zero: Zero) -> f64 {
        let value = *v.get_ref();
        let ok = match zero {
            Zero::Allowed => (0.0..=1.0).contains(&value),
            Zero::Excluded => value > 0.0 && value <= 1.0,
        };
        if !ok {
            let range = match zero {
                Zero::Allowed => "between 0 and 1",
                Zero::Excluded => "greater than 0 and at most 1",
            };
            self.fail(v.span(), format!("{what} = {value} is out of range: it must be {range}"));
        }
        value
    }

    /// A region reference; reports it when it is not declared.
    fn region(&mut self, r: &Spanned<String>) -> String {
        let name = r.get_ref().clone();
        if !self.regions.contains(&name) {
            let declared = list(&self.regions);
            self.fail_help(
                r.span(),
                format!("region {name:?} is not declared; declared regions: {declared}"),
                format!("declare it with [[regions]] name = {name:?}, or use one of: {declared}"),
            );
        }
        name
    }

    fn scenario(&mut self, raw: RawScenario) -> Scenario {
        let name = raw.name.get_ref().trim().to_owned();
        if name.is_empty() {
            self.fail(raw.name.span(), "name must not be empty");
        }
        let duration = self.positive(&raw.duration, "duration");
        let tick = match &raw.tick {
            None => DEFAULT_TICK,
            Some(t) => {
                let tick = self.positive(t, "tick");
                if tick > duration && !duration.is_zero() {
                    self.fail(
                        t.span(),
                        format!("tick ({}) must not exceed duration ({})", show(tick), show(duration)),
                    );
                }
                tick
            }
        };
        self.declare_regions(&raw.regions);
        let latency = self.latencies(&raw.latency);
        let services = self.services(&raw.services);
        let database = raw.database.as_ref().map(|d| self.database(d));
        let backups = raw.backups.as_ref().and_then(|b| self.backups(b, database.as_ref()));
        self.restore_runbooks(&raw.services, backups.as_ref());
        let dns = self.dns(&raw.dns);
        let bad_delete = raw.faults.iter().any(|f| f.get_ref().kind.get_ref() == "bad_delete");
        let traffic = self.traffic(&raw.traffic, duration, bad_delete);
        let monitor = self.monitor(&raw.monitor);
        let responders = self.responders(&raw.responders);
        let escalation: Vec<EscalationLevel> =
            raw.escalation.iter().map(|l| self.level(l.get_ref(), &responders)).collect();
        self.manual_failover(&raw.monitor, &escalation, &responders);
        let targets = self.targets(&raw.targets, duration, escalation.is_empty());
        let world = World {
            services: &services,
            database: database.as_ref(),
            backups: backups.as_ref(),
            responders: &responders,
        };
        let mut faults: Vec<Fault> =
            raw.faults.iter().filter_map(|f| self.fault(f.get_ref(), duration, &world)).collect();
        faults.sort_by_key(|f| f.at);
        let expect = self.expectation(&raw, &targets);
        Scenario {
            path: self.file.path().to_owned(),
            name,
            seed: raw.seed.unwrap_or(1),
            duration,
            tick,
            targets,
            regions: self.regions.clone(),
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
        }
    }

    fn expectation(&mut self, raw: &RawScenario, targets: &Targets) -> Expectation {
        let declared: Vec<&str> = [
            ("rto", targets.rto.is_some()),
            ("rpo", targets.rpo.is_some()),
            ("detect", targets.detect.is_some()),
            ("page", targets.page.is_some()),
            ("acknowledge", targets.acknowledge.is_some()),
            ("mitigate", targets.mitigate.is_some()),
            ("recover", targets.recover.is_some()),
            ("availability", targets.availability.is_some()),
            ("lost_writes", targets.lost_writes.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();
        let fail = raw.expect.as_ref().is_some_and(|e| *e.get_ref() == RawExpect::Fail);
        if fail && declared.is_empty() {
            let span = raw.expect.as_ref().map(Spanned::span).unwrap_or_default();
            self.fail(span, "expect = \"fail\" needs at least one target in [targets] to miss");
        }
        let mut missed = Vec::new();
        if let Some(list) = &raw.expect_missed {
            if !fail {
                self.fail(list.span(), "expect_missed applies only with expect = \"fail\"");
            }
            for name in list.get_ref() {
                if declared.contains(&name.get_ref().as_str()) {
                    missed.push(name.get_ref().clone());
                } else {
                    let allowed = if declared.is_empty() {
                        "none are declared".to_owned()
                    } else {
                        declared.join(", ")
                    };
                    self.fail(
                        name.span(),
                        format!(
                            "{:?} is not a target of this scenario (declared: {allowed})",
                            name.get_ref()
                        ),
                    );
                }
            }
        }
        if fail { Expectation::Fail { missed } } else { Expectation::Pass }
    }

    fn declare_regions(&mut self, raw: &Spanned<Vec<Spanned<super::raw::RawRegion>>>) {
        if raw.get_ref().is_empty() {
            self.fail(raw.span(), "at least one [[regions]] entry is required");
        }
        for region in raw.get_ref() {
            let name = &region.get_ref().name;
            let text = name.get_ref().trim();
            if text.is_empty() || text != name.get_ref() || text.contains(char::is_whitespace) {
                self.fail(name.span(), "region name must be non-empty and contain no whitespace");
            } else if GLOBAL_HOSTS.contains(&text) || text.ends_with("-app") || text.ends_with("-db") {
                self.fail(
                    name.span(),
                    format!(
                        "region name {text:?} is reserved: {} and names ending in -app or -db are hosts",
                        GLOBAL_HOSTS.join(", ")
                    ),
                );
            } else if self.regions.iter().any(|r| r == text) {
                self.fail(name.span(), format!("region {text:?} is declared twice; names must be unique"));
            } else {
                self.regions.push(text.to_owned());
            }
        }
    }

    fn latencies(&mut self, raw: &[Spanned<RawLatency>]) -> Vec<Latency> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for l in raw {
            let l = l.get_ref();
            let one_way = dur(&l.one_way);
            let sides = l.between.get_ref();
            let [a, b] = sides.as_slice() else {
                self.fail(
                    l.between.span(),
                    format!(
                        "between must name exactly two regions, as [\"us-east-1\", \"us-west-2\"]; it names {}",
                        sides.len()
                    ),
                );
                continue;
            };
            let (a_name, b_name) = (self.region(a), self.region(b));
            if a_name == b_name {
                self.fail(l.between.span(), format!("between names {a_name:?} twice; name two regions"));
                continue;
            }
            let key = if a_name < b_name {
                (a_name.clone(), b_name.clone())
            } else {
                (b_name.clone(), a_name.clone())
            };
            if !seen.insert(key) {
                self.fail(
                    l.between.span(),
                    format!("the latency between {a_name:?} and {b_name:?} is declared twice"),
                );
            }
            out.push(Latency { between: (a_name, b_name), one_way });
        }
        out
    }

    fn services(&mut self, raw: &Spanned<Vec<Spanned<RawService>>>) -> Vec<Service> {
        if raw.get_ref().is_empty() {
            self.fail(raw.span(), "at least one [[services]] entry is required");
        }
        let mut out: Vec<Service> = Vec::new();
        for s in raw.get_ref() {
            let s = s.get_ref();
            let service = self.service(s);
            if out.iter().any(|o| o.name == service.name) {
                self.fail(
                    s.name.span(),
                    format!("service {:?} is declared twice; names must be unique", service.name),
                );
                continue;
            }
            out.push(service);
        }
        out
    }

    fn service(&mut self, raw: &RawService) -> Service {
        let name = raw.name.get_ref().clone();
        if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c == '/') {
            self.fail(
                raw.name.span(),
                "service name must be non-empty with no whitespace or '/' (it is also its DNS name)",
            );
        }
        let primary = self.region(&raw.primary);
        let standby = raw.standby.as_ref().map(|s| {
            let standby = self.region(s);
            if standby == primary {
                self.fail(
                    s.span(),
                    format!(
                        "standby {standby:?} is the primary's own region; a standby must be in another region"
                    ),
                );
            }
            standby
        });
        if standby.is_none() {
            let set = [
                ("standby_mode", raw.standby_mode.as_ref().map(Spanned::span)),
                ("scale_up", raw.scale_up.as_ref().map(Spanned::span)),
                ("capacity", raw.capacity.as_ref().map(Spanned::span)),
            ];
            for (field, span) in set {
                if let Some(span) = span {
                    self.fail_help(
                        span,
                        format!("`{field}` applies only to a service with a standby"),
                        "add standby = \"<region>\" or remove it",
                    );
                }
            }
        }
        let standby_mode = match raw.standby_mode.as_ref().map(|m| *m.get_ref()) {
            None | Some(RawStandbyMode::Hot) => StandbyMode::Hot,
            Some(RawStandbyMode::Warm) => StandbyMode::Warm,
            Some(RawStandbyMode::Cold) => StandbyMode::Cold,
        };
        let scale_up = raw.scale_up.as_ref().map_or(Duration::ZERO, dur);
        let runbook = match raw.runbook.as_ref().map(|r| *r.get_ref()) {
            None | Some(RawRunbook::Failover) => Runbook::Failover,
            Some(RawRunbook::Restart) => Runbook::Restart,
            Some(RawRunbook::Restore) => Runbook::Restore,
        };
        if let (StandbyMode::Hot, Some(s)) = (standby_mode, &raw.scale_up) {
            if !scale_up.is_zero() && standby.is_some() {
                self.fail(
                    s.span(),
                    "a hot standby serves from the start; scale_up applies to warm and cold standbys",
                );
            }
        }
        let capacity = raw.capacity.as_ref().map_or(1.0, |c| self.fraction(c, "capacity", Zero::Excluded));
        Service { name, primary, standby, standby_mode, scale_up, capacity, runbook }
    }

    fn database(&mut self, raw: &RawDatabase) -> Database {
        let primary = self.region(&raw.primary);
        let replica = raw.replica.as_ref().map(|r| {
            let replica = self.region(r);
            if replica == primary {
                self.fail(
                    r.span(),
                    format!(
                        "replica {replica:?} is the primary's own region; a replica must be in another region"
                    ),
                );
            }
            replica
        });
        if replica.is_none() {
            let set = [
                ("replication", raw.replication.as_ref().map(Spanned::span)),
                ("lag", raw.lag.as_ref().map(Spanned::span)),
                ("promote_time", raw.promote_time.as_ref().map(Spanned::span)),
                ("fencing", raw.fencing.as_ref().map(Spanned::span)),
            ];
            for (field, span) in set {
                if let Some(span) = span {
                    self.fail_help(
                        span,
                        format!("`{field}` applies only to a [database] with a replica"),
                        "add replica = \"<region>\" or remove it",
                    );
                }
            }
        }
        let replication = match raw.replication.as_ref().map(|r| *r.get_ref()) {
            None | Some(RawReplication::Async) => Replication::Async,
            Some(RawReplication::Sync) => Replication::Sync,
        };
        if let (Replication::Sync, Some(lag), true) = (replication, &raw.lag, replica.is_some()) {
            self.fail(
                lag.span(),
                "lag applies to async replication; with sync replication every commit waits for the replica",
            );
        }
        Database {
            primary,
            replica,
            replication,
            lag: raw.lag.as_ref().map_or(Duration::ZERO, dur),
            promote_time: raw.promote_time.as_ref().map_or(Duration::from_secs(30), dur),
            fencing: raw.fencing.as_ref().is_none_or(|f| *f.get_ref()),
        }
    }

    fn dns(&mut self, raw: &RawDns) -> Dns {
        let health_check = raw.health_check.as_ref().map(|h| DnsHealthCheck {
            interval: self.positive(&h.interval, "health_check interval"),
            failures: self.at_least_one(&h.failures, "health_check failures"),
        });
        Dns { ttl: raw.ttl.as_ref().map_or(Duration::from_secs(60), dur), health_check }
    }

    fn rate(&mut self, raw: &Spanned<RawRate>) -> f64 {
        let text = raw.get_ref().0.trim();
        let parsed = text.split_once('/').and_then(|(n, unit)| {
            let n: f64 = n.trim().parse().ok()?;
            let per = match unit.trim() {
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                _ => return None,
            };
            Some(n / per)
        });
        match parsed {
            None => {
                self.fail(
                    raw.span(),
                    format!("rate {text:?} is not a rate: expected a number then /s or /m, as \"20/s\" or \"300/m\""),
                );
                1.0
            }
            Some(r) if !(r.is_finite() && r > 0.0) => {
                self.fail(raw.span(), format!("rate {text:?} must be positive and finite"));
                1.0
            }
            Some(r) => r,
        }
    }

    /// `[backups]`: needs a `[database]`, a declared store region, and a schedule in which
    /// every kind of copy is more frequent than the one it builds on.
    fn backups(&mut self, raw: &Spanned<RawBackups>, database: Option<&Database>) -> Option<Backups> {
        let b = raw.get_ref();
        if database.is_none() {
            self.fail_help(raw.span(), "[backups] needs a [database] to back up", "add a [database] section");
        }
        let store = self.region(&b.store);
        let size = self.size(&b.size);
        let restore_rate = self.throughput(&b.restore_rate, "restore_rate");
        let change_rate = match &b.change_rate {
            Some(c) => self.throughput(c, "change_rate"),
            // One percent of the data changes per hour unless said otherwise.
            None => size as f64 * 0.01 / 3600.0,
        };
        let full = self.positive(&b.full, "full");
        let full_age = b.full_age.as_ref().map_or(Duration::ZERO, dur);
        if let Some(age) = &b.full_age {
            if full_age >= full {
                self.fail(
                    age.span(),
                    format!(
                        "full_age ({}) must be less than full ({}): a newer full backup would exist",
                        show(full_age),
                        show(full)
                    ),
                );
            }
        }
        let differential = b.differential.as_ref().map(|d| {
            let value = self.positive(d, "differential");
            if value >= full {
                self.fail(
                    d.span(),
                    format!("differential ({}) must be shorter than full ({})", show(value), show(full)),
                );
            }
            value
        });
        let incremental = b.incremental.as_ref().map(|i| {
            let value = self.positive(i, "incremental");
            let above = differential.unwrap_or(full);
            if value >= above {
                self.fail(
                    i.span(),
                    format!(
                        "incremental ({}) must be shorter than {} ({})",
                        show(value),
                        if differential.is_some() { "differential" } else { "full" },
                        show(above)
                    ),
                );
            }
            value
        });
        let wal_archive = b.wal_archive.as_ref().map(|w| self.positive(w, "wal_archive"));
        let history = match &b.history {
            None => full_age + full * 2,
            Some(h) => {
                let history = dur(h);
                if history < full_age {
                    self.fail(
                        h.span(),
                        format!(
                            "history ({}) must reach back to the newest full backup (full_age = {})",
                            show(history),
                            show(full_age)
                        ),
                    );
                }
                history
            }
        };
        let drill = b.drill.as_ref().map(|d| self.positive(d, "drill"));
        Some(Backups {
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
        })
    }

    /// `runbook = "restore"` restores from `[backups]`; without them it could not run.
    fn restore_runbooks(&mut self, raw: &Spanned<Vec<Spanned<RawService>>>, backups: Option<&Backups>) {
        if backups.is_some() {
            return;
        }
        for service in raw.get_ref() {
            if let Some(r) =
                service.get_ref().runbook.as_ref().filter(|r| *r.get_ref() == RawRunbook::Restore)
            {
                self.fail_help(
                    r.span(),
                    "runbook = \"restore\" needs a [backups] section to restore from",
                    "add [backups] with store, size, restore_rate and full",
                );
            }
        }
    }

    /// `"500GB"` -> bytes (decimal units: B, KB, MB, GB, TB).
    fn size(&mut self, raw: &Spanned<RawSize>) -> u64 {
        let text = raw.get_ref().0.trim();
        match parse_size(text) {
            Some(bytes) if bytes > 0.0 => bytes as u64,
            _ => {
                self.fail(
                    raw.span(),
                    format!("size {text:?} is not a size: expected a positive number then B, KB, MB, GB or TB, as \"500GB\""),
                );
                1
            }
        }
    }

    /// `"1TB/h"` -> bytes per second.
    fn throughput(&mut self, raw: &Spanned<RawThroughput>, what: &str) -> f64 {
        let text = raw.get_ref().0.trim();
        let parsed = text.split_once('/').and_then(|(size, unit)| {
            let per = match unit.trim() {
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                _ => return None,
            };
            Some(parse_size(size.trim())? / per)
        });
        match parsed {
            Some(rate) if rate.is_finite() && rate > 0.0 => rate,
            _ => {
                self.fail(
                    raw.span(),
                    format!(
                        "{what} {text:?} is not a throughput: expected a size then /s, /m or /h, as \"1TB/h\""
                    ),
                );
                1.0
            }
        }
    }

    fn traffic(&mut self, raw: &RawTraffic, duration: Duration, bad_delete: bool) -> Traffic {
        let window = match &raw.window {
            None => Duration::from_secs(60),
            Some(w) => {
                let window = self.positive(w, "window");
                if window > duration && !duration.is_zero() {
                    self.fail(
                        w.span(),
                        format!(
                            "window ({}) must not exceed duration ({}): nothing could ever count as restored",
                            show(window),
                            show(duration)
                        ),
                    );
                }
                window
            }
        };
        Traffic {
            rate: self.rate(&raw.rate),
            write_ratio: raw
                .write_ratio
                .as_ref()
                .map_or(0.5, |r| self.fraction(r, "write_ratio", Zero::Allowed)),
            success_threshold: raw
                .success_threshold
                .as_ref()
                .map_or(0.99, |r| self.fraction(r, "success_threshold", Zero::Excluded)),
            window,
            region: raw.region.as_ref().map(|r| self.region(r)),
            timeout: raw.timeout.as_ref().map_or(Duration::from_secs(5), |t| self.positive(t, "timeout")),
            read_rows: raw.read_rows.as_ref().map_or(bad_delete, |r| *r.get_ref()),
        }
    }

    fn monitor(&mut self, raw: &RawMonitor) -> MonitorSettings {
        let region = raw.region.as_ref().map(|r| self.region(r));
        let interval = self.positive(&raw.interval, "interval");
        let timeout = self.positive(&raw.timeout, "timeout");
        if timeout > interval {
            self.fail(
                raw.timeout.span(),
                format!("timeout ({}) must not exceed interval ({})", show(timeout), show(interval)),
            );
        }
        let alert_after = *raw.alert_after.get_ref();
        if alert_after == 0 {
            self.fail(raw.alert_after.span(), "alert_after must be at least 1");
        }
        let failover_after = *raw.failover_after.get_ref();
        if failover_after < alert_after {
            self.fail(
                raw.failover_after.span(),
                format!("failover_after ({failover_after}) must be at least alert_after ({alert_after})"),
            );
        }
        let recover_after = raw.recover_after.as_ref().map_or(1, |r| self.at_least_one(r, "recover_after"));
        let failover = match raw.failover.as_ref().map(|f| *f.get_ref()) {
            None | Some(RawFailoverMode::Automatic) => FailoverMode::Automatic,
            Some(RawFailoverMode::Manual) => FailoverMode::Manual,
        };
        MonitorSettings { region, interval, timeout, alert_after, failover_after, recover_after, failover }
    }

    fn ack_delay(&mut self, raw: &Spanned<RawAckDelay>) -> AckDelay {
        let text = raw.get_ref().0.trim();
        if text == "never" {
            return AckDelay::Never;
        }
        let parse = |t: &str| humantime::parse_duration(t.trim()).map_err(|e| format!("{:?}: {e}", t.trim()));
        let parsed = match text.split_once("..") {
            Some((lo, hi)) => match (parse(lo), parse(hi)) {
                (Ok(lo), Ok(hi)) if lo <= hi => Ok(AckDelay::Range(lo, hi)),
                (Ok(lo), Ok(hi)) => Err(format!(
                    "ack_after range {text:?} is backwards: {} is longer than {}",
                    show(lo),
                    show(hi)
                )),
                (Err(e), _) | (_, Err(e)) => Err(format!(
                    "ack_after {text:?}: {e}; expected a duration (\"3m\"), a range (\"2m..8m\") or \"never\""
                )),
            },
            None => parse(text).map(AckDelay::Fixed).map_err(|e| {
                format!("ack_after {e}; expected a duration (\"3m\"), a range (\"2m..8m\") or \"never\"")
            }),
        };
        parsed.unwrap_or_else(|message| {
            self.fail(raw.span(), message);
            AckDelay::Never
        })
    }

    fn responders(&mut self, raw: &BTreeMap<String, RawResponder>) -> BTreeMap<String, Responder> {
        raw.iter()
            .map(|(name, r)| {
                let responder = Responder {
                    ack_after: self.ack_delay(&r.ack_after),
                    decide_after: r.decide_after.as_ref().map(dur),
                };
                (name.clone(), responder)
            })
            .collect()
    }

    fn level(&mut self, raw: &RawLevel, responders: &BTreeMap<String, Responder>) -> EscalationLevel {
        let notify = raw.notify.get_ref().clone();
        if !responders.contains_key(&notify) {
            let declared: Vec<String> = responders.keys().cloned().collect();
            self.fail_help(
                raw.notify.span(),
                format!("notify = {notify:?} names no responder; declared responders: {}", list(&declared)),
                format!("declare it with [responders.{notify}] ack_after = \"3m\""),
            );
        }
        EscalationLevel { ack_timeout: self.positive(&raw.ack_timeout, "ack_timeout"), notify }
    }

    fn manual_failover(
        &mut self,
        raw: &RawMonitor,
        escalation: &[EscalationLevel],
        responders: &BTreeMap<String, Responder>,
    ) {
        let Some(mode) = &raw.failover else { return };
        if *mode.get_ref() != RawFailoverMode::Manual {
            return;
        }
        let decider =
            escalation.iter().any(|l| responders.get(&l.notify).is_some_and(|r| r.decide_after.is_some()));
        if !decider {
            self.fail_help(
                mode.span(),
                "failover = \"manual\" but no responder paged by [[escalation]] has decide_after: \
                 nobody would ever trigger the failover",
                "add decide_after = \"5m\" to a responder that an [[escalation]] level notifies",
            );
        }
    }

    fn targets(&mut self, raw: &RawTargets, duration: Duration, no_escalation: bool) -> Targets {
        let target = |check: &mut Self, name: &str, d: &Option<SpannedDuration>| {
            let d = d.as_ref()?;
            let value = dur(d);
            if value.is_zero() {
                check.fail_help(
                    d.span(),
                    format!("{name} is a target of zero; every target must be longer than zero"),
                    "leave a target out to not assert it",
                );
            }
            if no_escalation && (name == "page" || name == "acknowledge") {
                check.fail(
                    d.span(),
                    format!("a {name} target is set but no [[escalation]] level pages anyone"),
                );
            }
            Some(value)
        };
        let rto = target(self, "rto", &raw.rto);
        let rpo = target(self, "rpo", &raw.rpo);
        let detect = target(self, "detect", &raw.detect);
        let page = target(self, "page", &raw.page);
        let acknowledge = target(self, "acknowledge", &raw.acknowledge);
        let mitigate = target(self, "mitigate", &raw.mitigate);
        let recover = target(self, "recover", &raw.recover);
        let availability = raw.availability.as_ref().map(|a| {
            let value = *a.get_ref();
            if value == 0.0 {
                self.fail(
                    a.span(),
                    "availability = 0 is a target of zero; it must be greater than 0 and at most 1",
                );
            } else {
                self.fraction(a, "availability", Zero::Excluded);
            }
            value
        });
        let incident_start = raw.incident_start.as_ref().map(|s| {
            let value = dur(s);
            if value >= duration && !duration.is_zero() {
                self.fail(
                    s.span(),
                    format!(
                        "incident_start ({}) is not before the end of the scenario (duration = {})",
                        show(value),
                        show(duration)
                    ),
                );
            }
            value
        });
        let lost_writes = raw.lost_writes.as_ref().map(|n| *n.get_ref());
        Targets {
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
        }
    }

    fn fault(&mut self, raw: &RawFault, end: Duration, world: &World<'_>) -> Option<Fault> {
        let at = dur(&raw.at);
        if at >= end && !end.is_zero() {
            self.fail(
                raw.at.span(),
                format!("at ({}) is not before the end of the scenario (duration = {})", show(at), show(end)),
            );
        }
        let for_ = raw.for_.as_ref().map(|f| {
            let value = dur(f);
            if value.is_zero() {
                self.fail_help(
                    f.span(),
                    "for must be longer than zero",
                    "leave `for` out for a fault that lasts until the end",
                );
            }
            value
        });
        let kind_name = raw.kind.get_ref().as_str();
        let Some(spec) = KINDS.iter().find(|k| k.name == kind_name) else {
            let names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
            self.fail(
                raw.kind.span(),
                format!("unknown fault kind {kind_name:?}; expected one of: {}", names.join(", ")),
            );
            return None;
        };
        let present = raw.present_fields();
        for (field, span) in &present {
            if !spec.takes(field) {
                let message =
                    format!("`{field}` does not apply to kind {:?}; {}", spec.name, spec.describe());
                self.fail(span.clone(), message);
            }
        }
        let mut complete = true;
        for required in spec.required {
            if !present.iter().any(|(field, _)| field == required) {
                let message = format!("kind {:?} needs `{required}`; {}", spec.name, spec.describe());
                self.fail(raw.kind.span(), message);
                complete = false;
            }
        }
        if !complete {
            return None;
        }
        let kind = self.fault_kind(raw, spec.name, world)?;
        Some(Fault { at, duration: for_, kind })
    }

    fn fault_kind(&mut self, raw: &RawFault, kind: &str, world: &World<'_>) -> Option<FaultKind> {
        Some(match kind {
            "region_outage" => FaultKind::RegionOutage { region: self.region(raw.region.as_ref()?) },
            "host_crash" => {
                let host = raw.host.as_ref()?;
                match self.place(host, world)? {
                    Place::Host(host) => FaultKind::HostCrash { host },
                    Place::Region(region) => {
                        self.fail_help(
                            host.span(),
                            format!(
                                "{region:?} is a region; host_crash takes a host such as \"{region}-app\""
                            ),
                            "use kind = \"region_outage\" to take a whole region down",
                        );
                        return None;
                    }
                }
            }
            "partition" => {
                let (a, b) = self.pair(raw.between.as_ref()?, world)?;
                FaultKind::Partition { a, b, oneway: raw.oneway.as_ref().is_some_and(|o| *o.get_ref()) }
            }
            "latency" => {
                let one_way = self.positive(raw.one_way.as_ref()?, "one_way");
                let (a, b) = self.pair(raw.between.as_ref()?, world)?;
                FaultKind::Latency { a, b, one_way }
            }
            "blackhole" => {
                let (a, b) = self.pair(raw.between.as_ref()?, world)?;
                FaultKind::Blackhole { a, b }
            }
            "http_errors" => {
                let status = match &raw.status {
                    None => 503,
                    Some(s) => {
                        let status = *s.get_ref();
                        if !(400..=599).contains(&status) {
                            self.fail(
                                s.span(),
                                format!("status {status} is not an error status (400 to 599)"),
                            );
                        }
                        status
                    }
                };
                let ratio = raw.ratio.as_ref().map_or(1.0, |r| self.fraction(r, "ratio", Zero::Excluded));
                let (service, region) = self.deployment(raw.service.as_ref()?, raw.region.as_ref(), world)?;
                FaultKind::HttpErrors { service, region, status, ratio }
            }
            "slow_responses" => {
                let delay = self.positive(raw.delay.as_ref()?, "delay");
                let (service, region) = self.deployment(raw.service.as_ref()?, raw.region.as_ref(), world)?;
                FaultKind::SlowResponses { service, region, delay }
            }
            "pool_exhaustion" => {
                let (service, region) = self.deployment(raw.service.as_ref()?, raw.region.as_ref(), world)?;
                FaultKind::PoolExhaustion { service, region }
            }
            "replication_lag" => {
                self.needs_replica(raw, world);
                let ramp = raw.ramp.as_ref().map(|r| self.positive(r, "ramp"));
                FaultKind::ReplicationLag { lag: dur(raw.lag.as_ref()?), ramp }
            }
            "replication_stop" => {
                self.needs_replica(raw, world);
                FaultKind::ReplicationStop
            }
            "dns_ttl_overrun" => {
                FaultKind::DnsTtlOverrun { overrun: self.positive(raw.overrun.as_ref()?, "overrun") }
            }
            "capacity_limit" => {
                let capacity = self.fraction(raw.capacity.as_ref()?, "capacity", Zero::Allowed);
                let (service, region) = self.deployment(raw.service.as_ref()?, raw.region.as_ref(), world)?;
                FaultKind::CapacityLimit { service, region: region?, capacity }
            }
            "responder_absent" => {
                let responder = raw.responder.as_ref()?;
                let name = responder.get_ref().clone();
                if !world.responders.contains_key(&name) {
                    let declared: Vec<String> = world.responders.keys().cloned().collect();
                    self.fail(
                        responder.span(),
                        format!(
                            "responder {name:?} is not declared; declared responders: {}",
                            list(&declared)
                        ),
                    );
                }
                FaultKind::ResponderAbsent { responder: name }
            }
            "monitor_crash" => FaultKind::MonitorCrash,
            "bad_delete" => {
                if world.database.is_none() {
                    self.fail(raw.kind.span(), "kind \"bad_delete\" needs a [database] to delete from");
                }
                FaultKind::BadDelete {
                    ratio: raw.ratio.as_ref().map_or(1.0, |r| self.fraction(r, "ratio", Zero::Excluded)),
                }
            }
            "backup_corrupt" => {
                let raw_kind = raw.backup.as_ref()?;
                let backup = match raw_kind.get_ref() {
                    RawBackupKind::Full => BackupKind::Full,
                    RawBackupKind::Differential => BackupKind::Differential,
                    RawBackupKind::Incremental => BackupKind::Incremental,
                };
                let scheduled = world.backups.map(|b| match backup {
                    BackupKind::Full => true,
                    BackupKind::Differential => b.differential.is_some(),
                    BackupKind::Incremental => b.incremental.is_some(),
                });
                match scheduled {
                    None => self.fail(raw.kind.span(), "kind \"backup_corrupt\" needs a [backups] section"),
                    Some(false) => self.fail(
                        raw_kind.span(),
                        format!("no {} backups are scheduled in [backups]", backup.name()),
                    ),
                    Some(true) => {}
                }
                FaultKind::BackupCorrupt { backup }
            }
            "archive_stop" => {
                if world.backups.is_none_or(|b| b.wal_archive.is_none()) {
                    self.fail(
                        raw.kind.span(),
                        "kind \"archive_stop\" needs WAL archiving: [backups] wal_archive = \"<interval>\"",
                    );
                }
                FaultKind::ArchiveStop
            }
            "user_report" => {
                let (service, _) = self.deployment(raw.service.as_ref()?, None, world)?;
                FaultKind::UserReport { service }
            }
            _ => return None,
        })
    }

    fn needs_replica(&mut self, raw: &RawFault, world: &World<'_>) {
        if world.database.is_none_or(|d| d.replica.is_none()) {
            self.fail(
                raw.kind.span(),
                format!("kind {:?} needs a [database] with a replica", raw.kind.get_ref()),
            );
        }
    }

    /// A service, and optionally one of its regions, named by a fault.
    fn deployment(
        &mut self,
        service: &Spanned<String>,
        region: Option<&Spanned<String>>,
        world: &World<'_>,
    ) -> Option<(String, Option<String>)> {
        let name = service.get_ref();
        let region_name = region.map(|r| self.region(r));
        let Some(found) = world.services.iter().find(|s| &s.name == name) else {
            let declared: Vec<String> = world.services.iter().map(|s| s.name.clone()).collect();
            self.fail(
                service.span(),
                format!("service {name:?} is not declared; declared services: {}", list(&declared)),
            );
            return None;
        };
        if let (Some(r), Some(span)) = (&region_name, region) {
            let runs_there = &found.primary == r || found.standby.as_ref() == Some(r);
            if self.regions.contains(r) && !runs_there {
                let where_ = match &found.standby {
                    Some(s) => format!("{} (primary) and {s} (standby)", found.primary),
                    None => format!("{} only", found.primary),
                };
                self.fail(
                    span.span(),
                    format!("service {name:?} does not run in {r:?}; it runs in {where_}"),
                );
            }
        }
        Some((name.clone(), region_name))
    }

    /// `between = [A, B]` of a network fault.
    fn pair(&mut self, between: &Spanned<Vec<Spanned<String>>>, world: &World<'_>) -> Option<(Place, Place)> {
        let [a, b] = between.get_ref().as_slice() else {
            self.fail(
                between.span(),
                format!(
                    "between must name exactly two regions or hosts, as [\"us-east-1\", \"monitor\"]; it names {}",
                    between.get_ref().len()
                ),
            );
            return None;
        };
        let (a, b) = (self.place(a, world), self.place(b, world));
        let (a, b) = (a?, b?);
        if a == b {
            self.fail(between.span(), "between names the same side twice");
            return None;
        }
        Some((a, b))
    }

    /// A declared region, or a host that exists in this scenario.
    fn place(&mut self, raw: &Spanned<String>, world: &World<'_>) -> Option<Place> {
        let name = raw.get_ref();
        if self.regions.contains(name) {
            return Some(Place::Region(name.clone()));
        }
        if GLOBAL_HOSTS.contains(&name.as_str()) {
            return Some(Place::Host(name.clone()));
        }
        let in_region =
            |suffix: &str| name.strip_suffix(suffix).filter(|r| self.regions.iter().any(|d| d == r));
        if let Some(region) = in_region("-app") {
            let runs =
                world.services.iter().any(|s| s.primary == region || s.standby.as_deref() == Some(region));
            if !runs {
                self.fail(raw.span(), format!("host {name:?} does not exist: no service runs in {region:?}"));
                return None;
            }
            return Some(Place::Host(name.clone()));
        }
        if let Some(region) = in_region("-db") {
            let node =
                world.database.is_some_and(|d| d.primary == region || d.replica.as_deref() == Some(region));
            if !node {
                self.fail(
                    raw.span(),
                    format!("host {name:?} does not exist: the [database] has no node in {region:?}"),
                );
                return None;
            }
            return Some(Place::Host(name.clone()));
        }
        if let Some(region) = in_region("-store") {
            if world.backups.is_none_or(|b| b.store != region) {
                self.fail(
                    raw.span(),
                    format!("host {name:?} does not exist: [backups] keeps no object store in {region:?}"),
                );
                return None;
            }
            return Some(Place::Host(name.clone()));
        }
        self.fail(
            raw.span(),
            format!(
                "{name:?} is neither a declared region nor a host; expected a region ({}) or a host \
                 (<region>-app, <region>-db, <region>-store, {})",
                list(&self.regions),
                GLOBAL_HOSTS.join(", ")
            ),
        );
        None
    }
}

/// `"500GB"` -> bytes, with decimal units; `None` when it is not a number and a unit.
fn parse_size(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.trim().parse().ok()?;
    let scale = match unit.trim() {
        "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return None,
    };
    Some(number * scale).filter(|b| b.is_finite())
}
