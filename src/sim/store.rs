//! The object store: a `<region>-store` host holding every backup copy and the WAL archive,
//! and running the restore drills (each restores the newest chain into an isolated copy and
//! verifies it). Its catalog lives outside the host, as a disk would.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};

use crate::backup::{self, Catalog, Copy, Ms, ms};
use crate::measure::WorldEventKind;
use crate::scenario::Backups;
use crate::sim::ground::Ground;
use crate::sim::net::sim_now;
use crate::sim::serve::serve;

/// The store's port.
pub const PORT: u16 = 9000;

/// The store's catalog, shared.
#[derive(Clone, Debug, Default)]
pub struct SharedCatalog(pub Arc<Mutex<Catalog>>);

impl SharedCatalog {
    /// Runs `f` on the catalog.
    pub fn with<T>(&self, f: impl FnOnce(&mut Catalog) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[derive(Clone)]
struct Store {
    catalog: SharedCatalog,
}

/// Runs the store and its drills on the current host until it stops.
pub async fn run(
    plan: Backups,
    catalog: SharedCatalog,
    ground: Ground,
    end: Duration,
) -> std::io::Result<()> {
    tokio::spawn(drills(plan, catalog.clone(), ground, end));
    let router = Router::new()
        .route("/catalog", get(read_catalog))
        .route("/copies", put(put_copy))
        .route("/archive", put(put_archive))
        .with_state(Store { catalog });
    serve(PORT, router).await
}

async fn read_catalog(State(s): State<Store>) -> (StatusCode, String) {
    let json = s.catalog.with(|c| serde_json::to_string(c));
    match json {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn put_copy(State(s): State<Store>, body: String) -> StatusCode {
    let Ok(copy) = serde_json::from_str::<Copy>(&body) else { return StatusCode::BAD_REQUEST };
    s.catalog.with(|c| {
        if !c.copies.iter().any(|k| k.taken == copy.taken && k.kind == copy.kind) {
            c.copies.push(copy);
            c.copies.sort_by_key(|k| k.taken);
        }
    });
    StatusCode::CREATED
}

/// The archiver says WAL up to this instant is in the store.
async fn put_archive(State(s): State<Store>, body: String) -> StatusCode {
    let Ok(until) = body.trim().parse::<Ms>() else { return StatusCode::BAD_REQUEST };
    s.catalog.with(|c| c.archived_until = c.archived_until.map(|a| a.max(until)));
    StatusCode::OK
}

/// Restore drills during the run: every `drill` from the start, restore the newest chain into
/// an isolated copy (it takes as long as a real restore) and verify it; a corrupt copy is
/// marked known-bad so a real restore skips it.
async fn drills(plan: Backups, catalog: SharedCatalog, ground: Ground, end: Duration) {
    let Some(every) = plan.drill else { return };
    let mut at = Duration::ZERO;
    while at < end {
        tokio::time::sleep(at.saturating_sub(sim_now())).await;
        let chain = catalog.with(|c| backup::chains(&plan, c, ms(at) + 1).into_iter().next());
        if let Some(chain) = chain {
            tokio::time::sleep(chain.duration).await;
            let found = catalog.with(|c| {
                let done = ms(sim_now());
                let mut found = Vec::new();
                for &i in &chain.copies {
                    if c.copies[i].corrupt && c.copies[i].known_bad.is_none() {
                        c.copies[i].known_bad = Some(done);
                        found.push(c.copies[i].describe());
                    }
                }
                for copy in &found {
                    ground.drill_found(crate::measure::DrillFinding { found_ms: done, copy: copy.clone() });
                }
                found
            });
            let point = crate::report::format_offset(chain.point);
            if found.is_empty() {
                ground.event(
                    "store",
                    WorldEventKind::DrillPassed,
                    format!("restore drill to {point} verified"),
                );
            } else {
                ground.event(
                    "store",
                    WorldEventKind::DrillFailed,
                    format!("restore drill to {point} failed verification: {} corrupt", found.join(", ")),
                );
            }
        }
        at += every;
    }
}
