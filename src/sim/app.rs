//! Application servers: every deployment of every service placed in a region runs as a task on
//! that region's `<region>-app` host, on the service's own port, with a client API, a deep
//! `/health`, and an admin API (scale up, restart).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use hyper::Method;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::measure::WorldEventKind;
use crate::sim::db;
use crate::sim::dns::{Overrun, Resolver};
use crate::sim::ground::Ground;
use crate::sim::net::sim_now;
use crate::sim::pool::Pool;
use crate::sim::serve::serve;

pub use crate::scenario::RESTART_TIME;
/// Deadline of the app's call to the database.
const DB_DEADLINE: Duration = Duration::from_secs(2);

/// One deployment's mutable state (it survives host crashes; the faults switch it).
#[derive(Clone, Debug)]
pub struct Deployment {
    /// The service.
    pub service: String,
    /// Region it runs in.
    pub region: String,
    /// Port it listens on.
    pub port: u16,
    /// Whether it can serve at all (warm and cold standbys: only after scale-up).
    pub ready: bool,
    /// Scale-up in progress.
    pub scaling: bool,
    /// Time a scale-up takes.
    pub scale_up: Duration,
    /// Fraction of the offered load it takes; more is rejected with 503.
    pub capacity: f64,
    /// Offered load the capacity is a fraction of, per second.
    pub rate: f64,
    /// `pool_exhaustion`: every request fails until restarted.
    pub exhausted: bool,
    /// `http_errors`: (status, ratio).
    pub errors: Option<(u16, f64)>,
    /// `slow_responses`: extra delay.
    pub slow: Option<Duration>,
    /// Admission token bucket: tokens left and when it was last refilled. It refills at
    /// `capacity * rate` per second and holds two seconds' worth (at least two requests), so a short burst (clients
    /// released together after a DNS lookup) is absorbed while sustained overload is refused.
    pub bucket: (f64, Duration),
}

/// Every deployment, by (service, region).
#[derive(Clone, Debug, Default)]
pub struct SharedDeployments(pub Arc<Mutex<BTreeMap<(String, String), Deployment>>>);

impl SharedDeployments {
    /// Runs `f` on one deployment.
    pub fn with<T>(&self, service: &str, region: &str, f: impl FnOnce(&mut Deployment) -> T) -> Option<T> {
        let mut all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        all.get_mut(&(service.to_owned(), region.to_owned())).map(f)
    }

    /// Runs `f` on every deployment of `service` (in `region` when given).
    pub fn each(&self, service: &str, region: Option<&str>, mut f: impl FnMut(&mut Deployment)) {
        let mut all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for ((s, r), d) in all.iter_mut() {
            if s == service && region.is_none_or(|want| want == r) {
                f(d);
            }
        }
    }

    /// The deployments of `region`, for starting its host.
    pub fn in_region(&self, region: &str) -> Vec<Deployment> {
        let all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        all.values().filter(|d| d.region == region).cloned().collect()
    }
}

#[derive(Clone)]
struct AppState {
    service: String,
    region: String,
    deployments: SharedDeployments,
    resolver: Arc<Resolver>,
    pool: Arc<Pool>,
    has_database: bool,
    rng: Arc<Mutex<ChaCha8Rng>>,
    ground: Ground,
}

/// Runs every deployment of `region` on the current host.
pub async fn run_region(
    has_database: bool,
    region: String,
    deployments: SharedDeployments,
    overrun: Overrun,
    ground: Ground,
    seed: u64,
) -> std::io::Result<()> {
    let resolver = Arc::new(Resolver::new(overrun));
    let pool = Arc::new(Pool::default());
    let mut servers = tokio::task::JoinSet::new();
    for (i, d) in deployments.in_region(&region).into_iter().enumerate() {
        let state = AppState {
            service: d.service.clone(),
            region: region.clone(),
            deployments: deployments.clone(),
            resolver: resolver.clone(),
            pool: pool.clone(),
            has_database,
            rng: Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ (0xA99 + i as u64)))),
            ground: ground.clone(),
        };
        let router = Router::new()
            .route("/health", get(health))
            .route("/api/read", get(read))
            .route("/api/write", post(write))
            .route("/admin/scale", post(scale))
            .route("/admin/restart", post(restart))
            .with_state(state);
        servers.spawn(serve(d.port, router));
    }
    while let Some(result) = servers.join_next().await {
        if let Ok(Err(e)) = result {
            return Err(e);
        }
    }
    Ok(())
}

/// What a deployment does with a request before it reaches the database.
enum Admission {
    Serve,
    Refuse(StatusCode),
}

async fn admit(s: &AppState, counts_toward_capacity: bool) -> Admission {
    let now = sim_now();
    let draw: f64 = s.rng.lock().unwrap_or_else(PoisonError::into_inner).random();
    let decided = s.deployments.with(&s.service, &s.region, |d| {
        if !d.ready || d.exhausted {
            return (Admission::Refuse(StatusCode::SERVICE_UNAVAILABLE), d.slow);
        }
        if let Some((status, ratio)) = d.errors {
            if draw < ratio {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                return (Admission::Refuse(status), d.slow);
            }
        }
        if counts_toward_capacity {
            let per_second = d.capacity * d.rate;
            let (tokens, last) = d.bucket;
            let tokens = (tokens + (now - last.min(now)).as_secs_f64() * per_second).min(burst(per_second));
            if tokens < 1.0 {
                d.bucket = (tokens, now);
                return (Admission::Refuse(StatusCode::SERVICE_UNAVAILABLE), d.slow);
            }
            d.bucket = (tokens - 1.0, now);
        }
        (Admission::Serve, d.slow)
    });
    let Some((admission, slow)) = decided else { return Admission::Refuse(StatusCode::NOT_FOUND) };
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    admission
}

async fn database(s: &AppState, method: Method, path: &str, body: Option<String>) -> StatusCode {
    if !s.has_database {
        // A stateless service: nothing behind it to ask.
        return StatusCode::OK;
    }
    let host = s.resolver.resolve("db").await;
    let Some(host) = host else { return StatusCode::SERVICE_UNAVAILABLE };
    match s.pool.call(method, &host, db::PORT, path, body, DB_DEADLINE).await {
        Some((200, _)) => StatusCode::OK,
        // The row the customer asked for is not there.
        Some((404, _)) => StatusCode::NOT_FOUND,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Deep health: the deployment can serve and its database answers.
async fn health(State(s): State<AppState>) -> StatusCode {
    match admit(&s, false).await {
        Admission::Refuse(status) => status,
        Admission::Serve => database(&s, Method::GET, "/health", None).await,
    }
}

/// A read; its body, when present, names the row the customer looks up.
async fn read(State(s): State<AppState>, row: String) -> StatusCode {
    match admit(&s, true).await {
        Admission::Refuse(status) => status,
        Admission::Serve => {
            let row = (!row.is_empty()).then_some(row);
            database(&s, Method::GET, "/read", row).await
        }
    }
}

async fn write(State(s): State<AppState>, body: String) -> StatusCode {
    match admit(&s, true).await {
        Admission::Refuse(status) => status,
        Admission::Serve => database(&s, Method::POST, "/write", Some(body)).await,
    }
}

async fn scale(State(s): State<AppState>) -> StatusCode {
    let start = s.deployments.with(&s.service, &s.region, |d| {
        if d.ready || d.scaling {
            return None;
        }
        d.scaling = true;
        Some(d.scale_up)
    });
    let Some(Some(scale_up)) = start else { return StatusCode::OK };
    s.ground.event(
        format!("app:{}-app", s.region),
        WorldEventKind::RunbookStarted,
        format!("scale-up of {} in {} begins", s.service, s.region),
    );
    let (deployments, ground, service, region) =
        (s.deployments.clone(), s.ground.clone(), s.service.clone(), s.region.clone());
    tokio::spawn(async move {
        tokio::time::sleep(scale_up).await;
        deployments.with(&service, &region, |d| {
            d.ready = true;
            d.scaling = false;
        });
        ground.event(
            format!("app:{region}-app"),
            WorldEventKind::ScaledUp,
            format!("{service} in {region} serving"),
        );
    });
    StatusCode::ACCEPTED
}

async fn restart(State(s): State<AppState>) -> StatusCode {
    s.ground.event(
        format!("app:{}-app", s.region),
        WorldEventKind::RunbookStarted,
        format!("restart of {} in {} begins", s.service, s.region),
    );
    let (deployments, ground, service, region) =
        (s.deployments.clone(), s.ground.clone(), s.service.clone(), s.region.clone());
    tokio::spawn(async move {
        tokio::time::sleep(RESTART_TIME).await;
        deployments.with(&service, &region, |d| d.exhausted = false);
        ground.event(
            format!("app:{region}-app"),
            WorldEventKind::Restarted,
            format!("{service} in {region} restarted"),
        );
    });
    StatusCode::ACCEPTED
}

/// How many requests a deployment admits at once after a quiet spell: two seconds' worth, and
/// at least two, so that the ordinary jitter of arrivals is never mistaken for overload.
fn burst(per_second: f64) -> f64 {
    (2.0 * per_second).max(2.0)
}
