//! The fault schedule: each fault injected at its `at` and cleared when its `for` ends,
//! applied between simulation steps, each recorded on the timeline.

use std::time::Duration;

use crate::measure::WorldEventKind;
use crate::scenario::{Fault, FaultKind, Place, Scenario};
use crate::sim::{World, base_latency};

/// One scheduled change.
pub(crate) struct Action {
    pub at: Duration,
    pub fault: usize,
    pub inject: bool,
}

/// Every injection and clearing, in time order (injections first at equal times, then file
/// order).
pub(crate) fn schedule(scenario: &Scenario) -> Vec<Action> {
    let mut actions: Vec<Action> = Vec::new();
    for (i, f) in scenario.faults.iter().enumerate() {
        actions.push(Action { at: f.at, fault: i, inject: true });
        if let Some(d) = f.duration {
            actions.push(Action { at: f.at + d, fault: i, inject: false });
        }
    }
    actions.sort_by_key(|a| (a.at, !a.inject, a.fault));
    actions
}

fn describe(fault: &Fault) -> String {
    let what = match &fault.kind {
        FaultKind::RegionOutage { region } => format!("region {region} goes dark"),
        FaultKind::HostCrash { host } => format!("host {host} crashes"),
        FaultKind::Partition { a, b, oneway } => {
            format!("partition {} {} {}", place(a), if *oneway { "->" } else { "<->" }, place(b))
        }
        FaultKind::Latency { a, b, one_way } => {
            format!("latency +{} between {} and {}", humantime::format_duration(*one_way), place(a), place(b))
        }
        FaultKind::Blackhole { a, b } => format!("blackhole between {} and {}", place(a), place(b)),
        FaultKind::HttpErrors { service, region, status, ratio } => {
            format!("{service}{} answers {status} to {:.0}% of requests", in_region(region), ratio * 100.0)
        }
        FaultKind::SlowResponses { service, region, delay } => {
            format!("{service}{} answers {} slower", in_region(region), humantime::format_duration(*delay))
        }
        FaultKind::PoolExhaustion { service, region } => {
            format!("{service}{} exhausts its pool", in_region(region))
        }
        FaultKind::ReplicationLag { lag, ramp } => match ramp {
            Some(r) => format!(
                "replication lag ramps to {} over {}",
                humantime::format_duration(*lag),
                humantime::format_duration(*r)
            ),
            None => format!("replication lag becomes {}", humantime::format_duration(*lag)),
        },
        FaultKind::ReplicationStop => "replication stops".to_owned(),
        FaultKind::DnsTtlOverrun { overrun } => {
            format!("clients keep DNS answers {} past their TTL", humantime::format_duration(*overrun))
        }
        FaultKind::CapacityLimit { service, region, capacity } => {
            format!("{service} in {region} capped at {:.0}% capacity", capacity * 100.0)
        }
        FaultKind::ResponderAbsent { responder } => format!("{responder} is unreachable"),
        FaultKind::MonitorCrash => "the monitor crashes".to_owned(),
        FaultKind::BadDelete { ratio } => {
            format!("a DELETE without its WHERE clause removes {:.0}% of the rows", ratio * 100.0)
        }
        FaultKind::BackupCorrupt { backup } => {
            format!("the newest {} backup copy is corrupt (nothing notices yet)", backup.name())
        }
        FaultKind::ArchiveStop => "WAL archiving silently stops".to_owned(),
        FaultKind::UserReport { service } => format!("customers report missing data in {service}"),
    };
    format!("{}: {what}", fault.kind.name())
}

fn place(p: &Place) -> &str {
    match p {
        Place::Region(r) | Place::Host(r) => r,
    }
}

fn in_region(region: &Option<String>) -> String {
    region.as_ref().map(|r| format!(" in {r}")).unwrap_or_default()
}

/// Injects or clears one fault.
pub(crate) fn apply(sim: &mut turmoil::Sim<'_>, scenario: &Scenario, world: &World, action: &Action) {
    let fault = &scenario.faults[action.fault];
    let inject = action.inject;
    let kind = if inject { WorldEventKind::FaultInjected } else { WorldEventKind::FaultCleared };
    world.ground.event_at(sim.elapsed(), "fault", kind, describe(fault));
    match &fault.kind {
        FaultKind::RegionOutage { region } => {
            let inside = scenario.hosts_in(region);
            let outside: Vec<String> = scenario.hosts().into_iter().filter(|h| !inside.contains(h)).collect();
            for a in &inside {
                for b in &outside {
                    if inject {
                        sim.partition(a.as_str(), b.as_str());
                    } else {
                        sim.repair(a.as_str(), b.as_str());
                    }
                }
            }
            for h in &inside {
                if inject {
                    sim.crash(h.as_str());
                } else {
                    sim.bounce(h.as_str());
                }
            }
        }
        FaultKind::HostCrash { host } => {
            if inject {
                sim.crash(host.as_str());
            } else {
                sim.bounce(host.as_str());
            }
        }
        FaultKind::MonitorCrash => {
            if inject {
                sim.crash("monitor");
            } else {
                sim.bounce("monitor");
            }
        }
        FaultKind::Partition { a, b, oneway } => {
            for x in scenario.hosts_of(a) {
                for y in scenario.hosts_of(b) {
                    match (inject, oneway) {
                        (true, true) => sim.partition_oneway(x.as_str(), y.as_str()),
                        (true, false) => sim.partition(x.as_str(), y.as_str()),
                        (false, true) => sim.repair_oneway(x.as_str(), y.as_str()),
                        (false, false) => sim.repair(x.as_str(), y.as_str()),
                    }
                }
            }
        }
        FaultKind::Latency { a, b, one_way } => {
            for x in scenario.hosts_of(a) {
                for y in scenario.hosts_of(b) {
                    let base = base_latency(scenario, &x, &y);
                    sim.set_link_latency(x.as_str(), y.as_str(), if inject { base + *one_way } else { base });
                }
            }
        }
        FaultKind::Blackhole { a, b } => {
            for x in scenario.hosts_of(a) {
                for y in scenario.hosts_of(b) {
                    if inject {
                        sim.hold(x.as_str(), y.as_str());
                    } else {
                        sim.release(x.as_str(), y.as_str());
                    }
                }
            }
        }
        FaultKind::HttpErrors { service, region, status, ratio } => {
            let errors = inject.then_some((*status, *ratio));
            world.deployments.each(service, region.as_deref(), |d| d.errors = errors);
        }
        FaultKind::SlowResponses { service, region, delay } => {
            let slow = inject.then_some(*delay);
            world.deployments.each(service, region.as_deref(), |d| d.slow = slow);
        }
        FaultKind::PoolExhaustion { service, region } => {
            world.deployments.each(service, region.as_deref(), |d| d.exhausted = inject);
        }
        FaultKind::CapacityLimit { service, region, capacity } => {
            let original = scenario
                .services
                .iter()
                .find(|s| s.name == *service)
                .map_or(1.0, |s| if s.primary == *region { 1.0 } else { s.capacity });
            world
                .deployments
                .each(service, Some(region), |d| d.capacity = if inject { *capacity } else { original });
        }
        FaultKind::ReplicationLag { lag, ramp } => {
            if let Some(cluster) = &world.cluster {
                let now = sim.elapsed();
                let original = scenario.database.as_ref().map_or(Duration::ZERO, |d| d.lag);
                let (to, over) =
                    if inject { (*lag, ramp.unwrap_or_default()) } else { (original, Duration::ZERO) };
                cluster.with(|c| c.lag = c.lag.ramp(now, to, over));
            }
        }
        FaultKind::ReplicationStop => {
            if let Some(cluster) = &world.cluster {
                cluster.with(|c| c.stopped = inject);
            }
        }
        FaultKind::DnsTtlOverrun { overrun } => {
            world.overrun.set(if inject { *overrun } else { Duration::ZERO })
        }
        FaultKind::BadDelete { ratio } => {
            if let (true, Some(cluster)) = (inject, &world.cluster) {
                let ppm = (ratio * 1_000_000.0).round() as u32;
                let now = sim.elapsed();
                let deleted = cluster.with(|c| {
                    let host = c.serving()?.0.clone();
                    Some((host, c.serving_mut()?.rows.delete(ppm, now)))
                });
                if let Some((host, rows)) = deleted {
                    world.ground.event_at(
                        now,
                        format!("db:{host}"),
                        WorldEventKind::RowsDeleted,
                        format!("{rows} rows deleted and the DELETE replicated like any write"),
                    );
                }
            }
        }
        // Which copy is corrupt is decided when it is written (see `backup::designated_corrupt`).
        FaultKind::BackupCorrupt { .. } => {}
        FaultKind::ArchiveStop => {
            if let Some(cluster) = &world.cluster {
                cluster.with(|c| c.archive_stopped = inject);
            }
        }
        FaultKind::UserReport { service } => {
            if inject {
                world.pager.with(|p| p.reports.push(service.clone()));
            }
        }
        FaultKind::ResponderAbsent { responder } => world.pager.with(|p| {
            if inject {
                p.absent.insert(responder.clone());
            } else {
                p.absent.remove(responder);
            }
        }),
    }
}
