//! What each scripted fault can do to the paths the plan reasons about: the monitor's probes
//! of a service, the DNS health check of it, its customers' requests, the monitor's own line
//! to the pager, and the hosts a runbook calls.
//!
//! Every fault kind is matched exhaustively, so a new kind has to say what it does here.

use std::time::Duration;

use crate::scenario::{Fault, FaultKind, Place, Scenario, Service};

/// How surely a fault makes every request on a path fail while it lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Effect {
    /// It cannot make a request on this path fail.
    None,
    /// It may make some fail (a ratio of errors, a delay below the deadline, a stale cache).
    Soft,
    /// Every request on the path fails while it lasts.
    Hard,
}

/// The host that requests of a path come from, and their deadline.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Caller<'a> {
    /// `monitor`, `dns` (health checks) or `clients`.
    pub host: &'a str,
    /// How long a request may take before it counts as failed.
    pub deadline: Duration,
}

/// Whether a fault between `a` and `b` cuts the link between hosts `x` and `y` (in either
/// direction: a request needs both ways).
fn between(scenario: &Scenario, a: &Place, b: &Place, x: &str, y: &str) -> bool {
    let (a, b) = (scenario.hosts_of(a), scenario.hosts_of(b));
    let has = |side: &[String], h: &str| side.iter().any(|s| s == h);
    (has(&a, x) && has(&b, y)) || (has(&a, y) && has(&b, x))
}

fn primary_db(scenario: &Scenario) -> Option<String> {
    scenario.database.as_ref().map(|d| format!("{}-db", d.primary))
}

/// Whether a service fault aimed at `region` (or every deployment) hits `target_region`.
fn aims_at(region: &Option<String>, target_region: &str) -> bool {
    region.as_deref().is_none_or(|r| r == target_region)
}

/// What `fault` does to requests from `caller` to the primary deployment of `service`, which
/// answer only when the deployment serves and (deep health, customers' reads and writes) its
/// database answers.
///
/// A caller that the fault itself takes down sends nothing, so nothing of its fails: that is
/// [`Effect::None`] here (the monitor's own death is [`breaks_monitor`]'s business).
pub(crate) fn on_requests(
    scenario: &Scenario,
    fault: &Fault,
    service: &Service,
    caller: Caller<'_>,
) -> Effect {
    on_path(scenario, fault, service, caller, true)
}

/// Like [`on_requests`], counting only what reaches the deployment itself, not its database:
/// a fault that fails requests only through the database is cured by promoting the replica
/// even while the deployment stays where it is.
pub(crate) fn on_deployment(
    scenario: &Scenario,
    fault: &Fault,
    service: &Service,
    caller: Caller<'_>,
) -> Effect {
    on_path(scenario, fault, service, caller, false)
}

fn on_path(
    scenario: &Scenario,
    fault: &Fault,
    service: &Service,
    caller: Caller<'_>,
    with_db: bool,
) -> Effect {
    let app = format!("{}-app", service.primary);
    let db = primary_db(scenario).filter(|_| with_db);
    let caller_down = |region: &str| scenario.region_of(caller.host) == Some(region);
    // The links a request depends on: caller to app (hard), app to database (hard), app to DNS
    // (soft: an unreachable DNS server means the stale answer is used, after a lookup delay).
    let cut = |a: &Place, b: &Place| {
        if between(scenario, a, b, caller.host, &app) {
            return Effect::Hard;
        }
        if db.as_deref().is_some_and(|db| between(scenario, a, b, &app, db)) {
            return Effect::Hard;
        }
        if between(scenario, a, b, &app, "dns") || between(scenario, a, b, caller.host, "dns") {
            return Effect::Soft;
        }
        Effect::None
    };
    match &fault.kind {
        FaultKind::RegionOutage { region } => {
            let serving_path = *region == service.primary
                || (with_db && scenario.database.as_ref().is_some_and(|d| d.primary == *region));
            if caller_down(region) {
                Effect::None
            } else if serving_path {
                Effect::Hard
            } else {
                Effect::None
            }
        }
        FaultKind::HostCrash { host } => {
            if *host == caller.host {
                Effect::None
            } else if *host == app || db.as_deref() == Some(host.as_str()) {
                Effect::Hard
            } else if host == "dns" {
                Effect::Soft
            } else {
                Effect::None
            }
        }
        FaultKind::Partition { a, b, .. } | FaultKind::Blackhole { a, b } => cut(a, b),
        FaultKind::Latency { a, b, one_way } => match cut(a, b) {
            Effect::None => Effect::None,
            // A round trip alone longer than the deadline: no request can complete.
            Effect::Hard if *one_way * 2 >= caller.deadline => Effect::Hard,
            _ => Effect::Soft,
        },
        FaultKind::HttpErrors { service: s, region, ratio, .. } => {
            if *s != service.name || !aims_at(region, &service.primary) {
                Effect::None
            } else if *ratio >= 1.0 {
                Effect::Hard
            } else if *ratio > 0.0 {
                Effect::Soft
            } else {
                Effect::None
            }
        }
        FaultKind::SlowResponses { service: s, region, delay } => {
            if *s != service.name || !aims_at(region, &service.primary) {
                Effect::None
            } else if *delay >= caller.deadline {
                Effect::Hard
            } else {
                Effect::Soft
            }
        }
        FaultKind::PoolExhaustion { service: s, region } => {
            if *s == service.name && aims_at(region, &service.primary) { Effect::Hard } else { Effect::None }
        }
        // Admission control counts customers' requests only, never health checks.
        FaultKind::CapacityLimit { service: s, region, .. } => {
            if caller.host == "clients" && *s == service.name && *region == service.primary {
                Effect::Soft
            } else {
                Effect::None
            }
        }
        // A sync commit waits for the replica: a stopped or slow stream fails customers'
        // writes; health checks only ask whether the node serves.
        FaultKind::ReplicationStop | FaultKind::ReplicationLag { .. } => {
            let sync = scenario
                .database
                .as_ref()
                .is_some_and(|d| d.replication == crate::scenario::Replication::Sync);
            if caller.host == "clients" && sync && with_db { Effect::Soft } else { Effect::None }
        }
        // Missing rows fail only the customers' reads that look one up; probes see nothing.
        FaultKind::BadDelete { .. } => {
            if caller.host == "clients" && scenario.traffic.read_rows && with_db {
                Effect::Soft
            } else {
                Effect::None
            }
        }
        FaultKind::DnsTtlOverrun { .. }
        | FaultKind::ResponderAbsent { .. }
        | FaultKind::MonitorCrash
        | FaultKind::BackupCorrupt { .. }
        | FaultKind::ArchiveStop
        | FaultKind::UserReport { .. } => Effect::None,
    }
}

/// Why `fault` can stop the monitor from probing, alerting, paging or hearing an
/// acknowledgement (the monitor or the pager down, or the line between them cut or held).
pub(crate) fn breaks_monitor(scenario: &Scenario, fault: &Fault) -> Option<String> {
    let name = fault.kind.name();
    let why = match &fault.kind {
        FaultKind::MonitorCrash => "the monitor crashes; it forgets its probe streaks".to_owned(),
        FaultKind::RegionOutage { region } if scenario.monitor.region.as_deref() == Some(region.as_str()) => {
            format!("the monitor runs in {region}, which goes dark")
        }
        FaultKind::HostCrash { host } if host == "monitor" || host == "pager" => {
            format!("the {host} host crashes")
        }
        FaultKind::Partition { a, b, .. } | FaultKind::Blackhole { a, b }
            if between(scenario, a, b, "monitor", "pager") =>
        {
            "it cuts the monitor off from the pager".to_owned()
        }
        FaultKind::RegionOutage { .. }
        | FaultKind::HostCrash { .. }
        | FaultKind::Partition { .. }
        | FaultKind::Blackhole { .. }
        | FaultKind::Latency { .. }
        | FaultKind::HttpErrors { .. }
        | FaultKind::SlowResponses { .. }
        | FaultKind::PoolExhaustion { .. }
        | FaultKind::ReplicationLag { .. }
        | FaultKind::ReplicationStop
        | FaultKind::DnsTtlOverrun { .. }
        | FaultKind::CapacityLimit { .. }
        | FaultKind::ResponderAbsent { .. }
        | FaultKind::BadDelete { .. }
        | FaultKind::BackupCorrupt { .. }
        | FaultKind::ArchiveStop
        | FaultKind::UserReport { .. } => return None,
    };
    Some(format!("{name} at {}: {why}", crate::report::format_duration(fault.at)))
}

/// Whether `fault` can reach any of `hosts` (down, cut off, held, slowed), or, for a fault
/// aimed at a service's deployments, any deployment in the regions of `hosts`.
pub(crate) fn touches(scenario: &Scenario, fault: &Fault, hosts: &[String]) -> bool {
    let regions: Vec<&str> = hosts.iter().filter_map(|h| scenario.region_of(h)).collect();
    let on_side = |p: &Place| scenario.hosts_of(p).iter().any(|h| hosts.contains(h));
    match &fault.kind {
        FaultKind::RegionOutage { region } => regions.contains(&region.as_str()),
        FaultKind::HostCrash { host } => hosts.contains(host),
        FaultKind::Partition { a, b, .. }
        | FaultKind::Blackhole { a, b }
        | FaultKind::Latency { a, b, .. } => on_side(a) || on_side(b),
        FaultKind::HttpErrors { region, .. }
        | FaultKind::SlowResponses { region, .. }
        | FaultKind::PoolExhaustion { region, .. } => region.as_deref().is_none_or(|r| regions.contains(&r)),
        FaultKind::CapacityLimit { region, .. } => regions.contains(&region.as_str()),
        FaultKind::MonitorCrash => hosts.iter().any(|h| h == "monitor"),
        FaultKind::ReplicationLag { .. }
        | FaultKind::ReplicationStop
        | FaultKind::DnsTtlOverrun { .. }
        | FaultKind::ResponderAbsent { .. }
        | FaultKind::BadDelete { .. }
        | FaultKind::BackupCorrupt { .. }
        | FaultKind::ArchiveStop
        | FaultKind::UserReport { .. } => false,
    }
}

/// When a fault ends (`None`: it lasts to the end of the run).
pub(crate) fn end(fault: &Fault) -> Option<Duration> {
    fault.duration.map(|d| fault.at + d)
}

/// Whether a fault still lasts at `at`.
pub(crate) fn lasts_until(fault: &Fault, at: Duration) -> bool {
    end(fault).is_none_or(|e| e >= at)
}
