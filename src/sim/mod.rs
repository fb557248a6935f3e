//! The simulated world (DESIGN.md section 2): a turmoil simulation with one host per region
//! and role, the unchanged monitor on its own host, and a fault schedule applied between steps.
//! It produces [`Observations`], the ground truth that measurements are computed from.

pub mod app;
pub mod clients;
pub mod db;
pub mod dns;
mod faults;
pub mod ground;
pub mod monitor_config;
pub mod net;
pub mod pager;
pub mod pool;
pub mod rows;
pub mod serve;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use thiserror::Error;

use crate::measure::Observations;
use crate::monitor::store::MemoryStore;
use crate::scenario::{Scenario, StandbyMode};
use app::{Deployment, SharedDeployments};
use db::{Cluster, Lag, Node, Role, SharedCluster};
use dns::{Overrun, SharedZone};
use ground::Ground;
use pager::SharedPager;

/// The simulation itself failed (a host's software returned an error): a bug, not a verdict.
#[derive(Debug, Error)]
#[error("the simulation failed at {at:?}: {message}")]
pub struct SimError {
    /// Simulated time of the failure.
    pub at: Duration,
    /// What turmoil reported.
    pub message: String,
}

/// Handles to the world's state that outlives any host: the "disks" and the fault switches.
#[derive(Clone)]
pub(crate) struct World {
    pub ground: Ground,
    pub deployments: SharedDeployments,
    pub cluster: Option<SharedCluster>,
    pub zone: SharedZone,
    pub overrun: Overrun,
    pub pager: SharedPager,
    pub store: MemoryStore,
    /// The customers' write-id counter (outside the `clients` host, so ids stay unique).
    pub write_ids: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The object store's catalog (its disk).
    pub catalog: store::SharedCatalog,
    /// The rows the customers know exist, to look up (outside the `clients` host).
    pub known_rows: clients::KnownRows,
}

/// The scenario's one-way latency between the regions of two hosts.
pub(crate) fn base_latency(scenario: &Scenario, a: &str, b: &str) -> Duration {
    let (Some(ra), Some(rb)) = (scenario.region_of(a), scenario.region_of(b)) else {
        return Duration::ZERO;
    };
    scenario
        .latency
        .iter()
        .find(|l| (l.between.0 == ra && l.between.1 == rb) || (l.between.0 == rb && l.between.1 == ra))
        .map_or(Duration::ZERO, |l| l.one_way)
}

fn initial_world(scenario: &Scenario) -> World {
    let mut deployments = BTreeMap::new();
    let mut zone = dns::Zone::default();
    for (i, s) in scenario.services.iter().enumerate() {
        let port = monitor_config::service_port(i);
        let deployment = |region: &str, ready: bool, capacity: f64| Deployment {
            service: s.name.clone(),
            region: region.to_owned(),
            port,
            ready,
            scaling: false,
            scale_up: s.scale_up,
            capacity,
            rate: scenario.traffic.rate,
            exhausted: false,
            errors: None,
            slow: None,
            bucket: (capacity * scenario.traffic.rate, Duration::ZERO),
        };
        deployments.insert((s.name.clone(), s.primary.clone()), deployment(&s.primary, true, 1.0));
        zone.records.insert(s.name.clone(), format!("{}-app", s.primary));
        if let Some(standby) = &s.standby {
            let ready = s.standby_mode == StandbyMode::Hot;
            deployments.insert((s.name.clone(), standby.clone()), deployment(standby, ready, s.capacity));
        }
    }
    // With a backup plan, the database has existed for its history: the same customers wrote
    // at the same rate before the scenario started.
    let history = scenario.backups.as_ref().map(|b| rows::History {
        rate: scenario.traffic.rate * scenario.traffic.write_ratio * scenario.services.len() as f64,
        span: b.history,
    });
    let cluster = scenario.database.as_ref().map(|d| {
        let node = |role| Node { role, epoch: 1, fenced: false, rows: rows::Rows::new(history) };
        let mut nodes = BTreeMap::new();
        nodes.insert(format!("{}-db", d.primary), node(Role::Primary));
        if let Some(replica) = &d.replica {
            nodes.insert(format!("{replica}-db"), node(Role::Replica));
        }
        zone.records.insert("db".to_owned(), format!("{}-db", d.primary));
        SharedCluster::new(Cluster {
            nodes,
            primary: format!("{}-db", d.primary),
            replica: d.replica.as_ref().map(|r| format!("{r}-db")),
            mode: d.replication,
            lag: Lag::constant(d.lag),
            stopped: false,
            acked: 0,
            promote_time: d.promote_time,
            fencing: d.fencing,
            generation: 0,
            backups: scenario.backups.as_ref().map(|b| db::BackupSetup {
                plan: b.clone(),
                store: crate::scenario::topology::store_host(&b.store),
                faults: scenario.faults.clone(),
                end: scenario.duration,
            }),
            archive_stopped: false,
        })
    });
    let ground = Ground::default();
    let catalog = scenario.backups.as_ref().map_or_else(store::SharedCatalog::default, |b| {
        let mut catalog = crate::backup::history(b, &scenario.faults);
        for (at, done, i) in crate::backup::drills_before_start(b, &mut catalog) {
            let copy = catalog.copies[i].describe();
            ground.drill_found(crate::measure::DrillFinding { found_ms: done, copy });
            ground.event_at(
                Duration::ZERO,
                "store",
                crate::measure::WorldEventKind::DrillFailed,
                format!(
                    "before the start: the restore drill of {} found the {} corrupt at {}",
                    crate::report::format_offset(at),
                    catalog.copies[i].describe(),
                    crate::report::format_offset(done)
                ),
            );
        }
        store::SharedCatalog(std::sync::Arc::new(std::sync::Mutex::new(catalog)))
    });
    World {
        ground,
        deployments: SharedDeployments(std::sync::Arc::new(std::sync::Mutex::new(deployments))),
        cluster,
        zone: SharedZone(std::sync::Arc::new(std::sync::Mutex::new(zone))),
        overrun: Overrun::default(),
        pager: SharedPager::default(),
        store: MemoryStore::default(),
        write_ids: std::sync::Arc::default(),
        catalog,
        known_rows: clients::KnownRows::new(history),
    }
}

/// Ephemeral ports of every simulated host: above every port the world listens on.
const EPHEMERAL_PORTS: std::ops::RangeInclusive<u16> = 10_000..=65_535;

/// Runs `scenario` with `seed` and returns what the world recorded.
///
/// A panic inside the simulator (turmoil running out of ephemeral ports on a host whose
/// connection attempts keep failing for hours, say) is turned into a [`SimError`] naming it,
/// instead of taking the process down.
pub fn run(scenario: &Scenario, seed: u64) -> Result<Observations, SimError> {
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| simulate(scenario, seed)));
    attempt.unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "unknown panic".to_owned());
        Err(SimError { at: Duration::ZERO, message: format!("the simulator panicked: {message}") })
    })
}

fn simulate(scenario: &Scenario, seed: u64) -> Result<Observations, SimError> {
    let world = initial_world(scenario);
    let mut sim = turmoil::Builder::new()
        .simulation_duration(scenario.duration + Duration::from_secs(3600))
        .tick_duration(scenario.tick)
        .epoch(net::epoch())
        .rng_seed(seed)
        .min_message_latency(Duration::ZERO)
        .max_message_latency(Duration::ZERO)
        .tcp_capacity(4096)
        // turmoil 0.7.2 keeps the socket of a connection attempt that failed (refused across a
        // partition, or abandoned at a timeout) and with it its ephemeral port: give hosts the
        // widest range clear of the world's own ports so long outages do not run out.
        .ephemeral_ports(EPHEMERAL_PORTS)
        .build();
    register_hosts(&mut sim, scenario, &world, seed);
    let all = scenario.hosts();
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            let latency = base_latency(scenario, a, b);
            if !latency.is_zero() {
                sim.set_link_latency(a.as_str(), b.as_str(), latency);
            }
        }
    }

    let schedule = faults::schedule(scenario);
    let mut next = 0;
    while sim.elapsed() < scenario.duration {
        while let Some(action) = schedule.get(next).filter(|a| a.at <= sim.elapsed()) {
            faults::apply(&mut sim, scenario, &world, action);
            next += 1;
        }
        sim.step().map_err(|e| SimError { at: sim.elapsed(), message: e.to_string() })?;
    }

    record_failover_completion(scenario, &world.ground);
    let mut observations = world.ground.finish();
    observations.seed = seed;
    observations.duration = scenario.duration;
    if let Some((host, rows)) = world.cluster.as_ref().and_then(SharedCluster::serving) {
        observations.serving_db = Some(host);
        observations.final_writes = rows.write_ids().into_iter().collect::<BTreeSet<u64>>();
        let (lost, oldest) = rows.history_lost();
        observations.history_lost = crate::measure::HistoryLost {
            rows: lost,
            oldest_before_start: oldest.map(|o| Duration::from_millis(o.unsigned_abs())),
        };
    }
    Ok(observations)
}

/// Records when each failover reached its full effect, from what the world saw: for a service
/// with a standby, the later of its DNS record pointing at the standby and the standby serving
/// (a hot standby serves from the start); without one, the replica's promotion.
fn record_failover_completion(scenario: &Scenario, ground: &Ground) {
    use crate::measure::WorldEventKind::{DnsChanged, FailoverCompleted, Promoted, Restored, ScaledUp};
    let events = ground.snapshot();
    let first =
        |kind, details: &str| events.iter().find(|e| e.kind == kind && e.details == details).map(|e| e.at);
    for s in &scenario.services {
        let completed = match (&s.standby, s.runbook) {
            (_, crate::scenario::Runbook::Restore) => events
                .iter()
                .find(|e| e.kind == Restored)
                .map(|e| (e.at, format!("{}: database restored ({})", s.name, e.details))),
            (_, crate::scenario::Runbook::Restart) => events
                .iter()
                .find(|e| {
                    e.kind == crate::measure::WorldEventKind::Restarted
                        && e.details.starts_with(&format!("{} ", s.name))
                })
                .map(|e| (e.at, format!("{} restarted", s.name))),
            (Some(standby), _) => {
                let switched = first(DnsChanged, &format!("{} -> {standby}-app", s.name));
                let ready = if s.standby_mode == StandbyMode::Hot {
                    Some(Duration::ZERO)
                } else {
                    first(ScaledUp, &format!("{} in {standby} serving", s.name))
                };
                switched.zip(ready).map(|(a, b)| (a.max(b), format!("{} served from {standby}", s.name)))
            }
            (None, _) => events
                .iter()
                .find(|e| e.kind == Promoted)
                .map(|e| (e.at, format!("{}: database failed over ({})", s.name, e.details))),
        };
        if let Some((at, details)) = completed {
            ground.event_at(at, "world", FailoverCompleted, details);
        }
    }
}

fn register_hosts(sim: &mut turmoil::Sim<'_>, scenario: &Scenario, world: &World, seed: u64) {
    for host in scenario.hosts() {
        let w = world.clone();
        if let Some(region) = host.strip_suffix("-app") {
            let region = region.to_owned();
            sim.host(host.as_str(), move || {
                let (region, w) = (region.clone(), w.clone());
                async move {
                    app::run_region(w.cluster.is_some(), region, w.deployments, w.overrun, w.ground, seed)
                        .await?;
                    Ok(())
                }
            });
        } else if host.ends_with("-store") {
            let plan = scenario.backups.clone();
            let end = scenario.duration;
            sim.host(host.as_str(), move || {
                let (plan, w) = (plan.clone(), w.clone());
                async move {
                    if let Some(plan) = plan {
                        store::run(plan, w.catalog, w.ground, end).await?;
                    }
                    Ok(())
                }
            });
        } else if host.ends_with("-db") {
            let name = host.clone();
            sim.host(host.as_str(), move || {
                let (name, w) = (name.clone(), w.clone());
                async move {
                    if let Some(cluster) = w.cluster {
                        db::run_node(name, cluster, w.ground).await?;
                    }
                    Ok(())
                }
            });
        } else {
            match host.as_str() {
                "dns" => register_dns(sim, scenario, w),
                "monitor" => {
                    let config = monitor_config::derive(scenario);
                    sim.host("monitor", move || {
                        let (config, store) = (config.clone(), w.store.clone());
                        async move {
                            let _running = crate::monitor::start(config, net::SimNet, net::SimClock, store)
                                .await
                                .map_err(|e| e.to_string())?;
                            std::future::pending::<()>().await;
                            Ok(())
                        }
                    });
                }
                "pager" => {
                    let responders = scenario.responders.clone();
                    let manual = monitor_config::manual_services(scenario);
                    sim.host("pager", move || {
                        let (w, responders, manual) = (w.clone(), responders.clone(), manual.clone());
                        async move {
                            pager::run(w.pager, responders, manual, w.ground, seed).await?;
                            Ok(())
                        }
                    });
                }
                _ => {
                    let targets: Vec<clients::Target> = scenario
                        .services
                        .iter()
                        .enumerate()
                        .map(|(i, s)| clients::Target {
                            service: s.name.clone(),
                            port: monitor_config::service_port(i),
                        })
                        .collect();
                    let t = scenario.traffic.clone();
                    sim.host("clients", move || {
                        let (w, targets, t) = (w.clone(), targets.clone(), t.clone());
                        async move {
                            let ids = clients::Ids { writes: w.write_ids, rows: w.known_rows };
                            clients::run(targets, t, w.overrun, w.ground, seed, ids).await?;
                            Ok(())
                        }
                    });
                }
            }
        }
    }
}

fn register_dns(sim: &mut turmoil::Sim<'_>, scenario: &Scenario, w: World) {
    let ttl = scenario.dns.ttl;
    let checks: Vec<dns::HealthCheck> = scenario
        .dns
        .health_check
        .iter()
        .flat_map(|hc| {
            scenario.services.iter().enumerate().filter_map(move |(i, s)| {
                Some(dns::HealthCheck {
                    name: s.name.clone(),
                    primary: (format!("{}-app", s.primary), monitor_config::service_port(i)),
                    standby: format!("{}-app", s.standby.as_ref()?),
                    interval: hc.interval,
                    failures: hc.failures,
                })
            })
        })
        .collect();
    sim.host("dns", move || {
        let (w, checks) = (w.clone(), checks.clone());
        async move {
            for check in checks {
                tokio::spawn(dns::run_health_check(w.zone.clone(), w.ground.clone(), check));
            }
            dns::run_server(w.zone, w.ground, ttl).await?;
            Ok(())
        }
    });
}
