//! DNS with TTLs: the authoritative server on the `dns` host (records, an update API, optional
//! Route 53-style health-checked failover) and the TTL-honouring resolver cache that clients
//! and apps use.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use hyper::Method;

use crate::measure::WorldEventKind;
use crate::sim::ground::Ground;
use crate::sim::net::sim_now;
use crate::sim::serve::{call, serve};

/// The port the DNS server listens on.
pub const PORT: u16 = 53;

/// The authoritative records and what a switch of them means.
#[derive(Debug, Default)]
pub struct Zone {
    /// name -> host name.
    pub records: BTreeMap<String, String>,
}

/// Shared handle to the zone (it survives a crash of the `dns` host, like its disk would).
#[derive(Clone, Debug, Default)]
pub struct SharedZone(pub Arc<Mutex<Zone>>);

impl SharedZone {
    fn with<T>(&self, f: impl FnOnce(&mut Zone) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Points `name` at `host`, recording the change.
    pub fn set(&self, ground: &Ground, name: &str, host: &str, by: &str) {
        let changed =
            self.with(|z| z.records.insert(name.to_owned(), host.to_owned()).as_deref() != Some(host));
        if changed {
            ground.event(by, WorldEventKind::RunbookStarted, format!("record {name} is being changed"));
            ground.event(by, WorldEventKind::DnsChanged, format!("{name} -> {host}"));
        }
    }
}

#[derive(Clone)]
struct DnsState {
    zone: SharedZone,
    ground: Ground,
    ttl: Duration,
}

/// Runs the DNS server on the current host.
pub async fn run_server(zone: SharedZone, ground: Ground, ttl: Duration) -> std::io::Result<()> {
    let router = Router::new()
        .route("/resolve/{name}", get(resolve))
        .route("/records/{name}", put(update))
        .with_state(DnsState { zone, ground, ttl });
    serve(PORT, router).await
}

async fn resolve(State(s): State<DnsState>, Path(name): Path<String>) -> (StatusCode, String) {
    match s.zone.with(|z| z.records.get(&name).cloned()) {
        Some(host) => (StatusCode::OK, format!("{host} {}", s.ttl.as_millis())),
        None => (StatusCode::NOT_FOUND, String::new()),
    }
}

async fn update(State(s): State<DnsState>, Path(name): Path<String>, body: String) -> StatusCode {
    let host = body.trim();
    if host.is_empty() {
        return StatusCode::BAD_REQUEST;
    }
    s.zone.set(&s.ground, &name, host, "dns");
    StatusCode::OK
}

/// One Route 53-style health check of a service record.
#[derive(Clone, Debug)]
pub struct HealthCheck {
    /// The record.
    pub name: String,
    /// The primary deployment's host and port.
    pub primary: (String, u16),
    /// The standby host to switch to.
    pub standby: String,
    /// Time between checks.
    pub interval: Duration,
    /// Failures in a row that switch the record.
    pub failures: u32,
}

/// Health-checked failover: probes `primary`'s health endpoint every `interval` and points
/// `name` at `standby` after `failures` failures in a row.
pub async fn run_health_check(zone: SharedZone, ground: Ground, check: HealthCheck) {
    let HealthCheck { name, primary, standby, interval, failures } = check;
    let mut failed = 0;
    let mut ticks = tokio::time::interval(interval);
    loop {
        ticks.tick().await;
        let ok = matches!(
            call(Method::GET, &primary.0, primary.1, "/health", None, interval).await,
            Some((200, _))
        );
        failed = if ok { 0 } else { failed + 1 };
        if failed >= failures {
            zone.set(&ground, &name, &standby, "dns-health-check");
        }
    }
}

/// How long answers are kept past their TTL (the `dns_ttl_overrun` fault).
#[derive(Clone, Debug, Default)]
pub struct Overrun(pub Arc<Mutex<Duration>>);

impl Overrun {
    /// The current overrun.
    pub fn get(&self) -> Duration {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the overrun.
    pub fn set(&self, d: Duration) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = d;
    }
}

/// A caching stub resolver. Answers are kept for their TTL (plus any overrun); a failed
/// connection to the answer does not flush it; when the server cannot be reached, a stale
/// answer is used rather than none. Lookups run concurrently (the cache is locked only to read
/// and write it, never across a query), as in a real stub resolver.
#[derive(Debug)]
pub struct Resolver {
    cache: Mutex<BTreeMap<String, (String, Duration)>>,
    overrun: Overrun,
    /// Fraction of the TTL the very first answer is kept for, as if it had been fetched
    /// earlier: a population of customers whose caches expire at staggered times, not all at
    /// once.
    phase: f64,
}

impl Resolver {
    /// An empty cache whose first answers live their whole TTL.
    pub fn new(overrun: Overrun) -> Self {
        Self::with_phase(overrun, 1.0)
    }

    /// An empty cache whose first answer per name lives `phase` (0..=1) of its TTL.
    pub fn with_phase(overrun: Overrun, phase: f64) -> Self {
        Self { cache: Mutex::new(BTreeMap::new()), overrun, phase: phase.clamp(0.0, 1.0) }
    }

    fn cache<T>(&self, f: impl FnOnce(&mut BTreeMap<String, (String, Duration)>) -> T) -> T {
        f(&mut self.cache.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The host `name` points at, from the cache or the server.
    pub async fn resolve(&self, name: &str) -> Option<String> {
        let now = sim_now();
        let fresh =
            self.cache(|c| c.get(name).filter(|(_, expires)| now < *expires + self.overrun.get()).cloned());
        if let Some((host, _)) = fresh {
            return Some(host);
        }
        let answer =
            call(Method::GET, "dns", PORT, &format!("/resolve/{name}"), None, Duration::from_secs(2)).await;
        let parsed = answer.filter(|(status, _)| *status == 200).and_then(|(_, body)| {
            let text = String::from_utf8_lossy(&body).into_owned();
            let (host, ttl) = text.split_once(' ')?;
            Some((host.to_owned(), Duration::from_millis(ttl.parse().ok()?)))
        });
        self.cache(|c| match parsed {
            Some((host, ttl)) => {
                let ttl = if c.contains_key(name) { ttl } else { ttl.mul_f64(self.phase) };
                c.insert(name.to_owned(), (host.clone(), sim_now() + ttl));
                Some(host)
            }
            None => c.get(name).map(|(host, _)| host.clone()),
        })
    }
}
