//! A database node's side of backups: the agent that takes the scheduled copies, the WAL
//! archiver, and the restore the monitor's runbook calls (`POST /admin/restore`).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use hyper::Method;

use super::{DbState, Role};
use crate::backup::{self, Catalog, Copy, ms};
use crate::measure::WorldEventKind;
use crate::sim::net::sim_now;
use crate::sim::serve::call;
use crate::sim::store;

fn is_serving_primary(s: &DbState) -> bool {
    s.cluster.peek(|c| c.serving().is_some_and(|(h, _)| *h == s.host))
}

/// Takes each scheduled copy while this node is the serving primary and ships it to the
/// store; a copy the store does not receive does not exist (and breaks the incrementals built
/// on it).
pub(super) async fn backup_agent(s: DbState) {
    let Some(setup) = s.cluster.peek(|c| c.backups.clone()) else { return };
    let due = backup::schedule(&setup.plan, ms(setup.end));
    for (kind, taken, base) in due.into_iter().filter(|&(_, t, _)| t > ms(sim_now())) {
        let wait = Duration::from_millis(u64::try_from(taken).unwrap_or(0)).saturating_sub(sim_now());
        tokio::time::sleep(wait).await;
        if !is_serving_primary(&s) {
            continue;
        }
        let corrupt = backup::designated_corrupt(&setup.plan, &setup.faults, kind, taken);
        let copy = Copy { kind, taken, base, corrupt, known_bad: None };
        let body = serde_json::to_string(&copy).unwrap_or_default();
        let sent =
            call(Method::PUT, &setup.store, store::PORT, "/copies", Some(body), Duration::from_secs(30))
                .await;
        let (kind, details) = match sent {
            Some((201, _)) => {
                (WorldEventKind::BackupTaken, format!("{} stored in {}", copy.describe(), setup.store))
            }
            _ => {
                (WorldEventKind::BackupFailed, format!("{} could not reach {}", copy.describe(), setup.store))
            }
        };
        s.ground.event(format!("db:{}", s.host), kind, details);
    }
}

/// Ships the WAL to the store every `wal_archive` (a segment closes on each multiple of it),
/// unless a fault stopped it (silently: the archiver raises nothing, which is the point of the
/// fault). The store then holds every record committed up to the segment's end.
pub(super) async fn wal_archiver(s: DbState) {
    let Some(setup) = s.cluster.peek(|c| c.backups.clone()) else { return };
    let Some(every) = setup.plan.wal_archive else { return };
    let mut segment_end = every;
    loop {
        tokio::time::sleep(segment_end.saturating_sub(sim_now())).await;
        let until = segment_end;
        segment_end += every;
        if !is_serving_primary(&s) || s.cluster.peek(|c| c.archive_stopped) {
            continue;
        }
        let until = ms(until).to_string();
        let _ =
            call(Method::PUT, &setup.store, store::PORT, "/archive", Some(until), Duration::from_secs(30))
                .await;
    }
}

/// Restores this node to just before the newest destructive statement it holds (or to now,
/// without one): fetch the catalog, then try each chain newest first; each takes its size over
/// the restore rate, then verification compares row counts with the pre-corruption truth and
/// a corrupt copy fails it, falling back to the next chain. The node serves nothing meanwhile.
/// 200 once restored; 500 when no chain verifies (the node keeps its data); 503 when the store
/// cannot be reached.
pub(super) async fn restore(State(s): State<DbState>) -> StatusCode {
    let Some(setup) = s.cluster.peek(|c| c.backups.clone()) else { return StatusCode::NOT_FOUND };
    let begun = s.cluster.peek(|c| {
        let target = c.nodes.get(&s.host).filter(|n| n.role == Role::Primary)?.rows.last_delete();
        Some(target.unwrap_or_else(|| ms(sim_now())))
    });
    let Some(target) = begun else { return StatusCode::CONFLICT };
    let answer =
        call(Method::GET, &setup.store, store::PORT, "/catalog", None, Duration::from_secs(30)).await;
    let Some(catalog) = answer
        .filter(|(status, _)| *status == 200)
        .and_then(|(_, body)| serde_json::from_slice::<Catalog>(&body).ok())
    else {
        return StatusCode::SERVICE_UNAVAILABLE;
    };
    let source = format!("db:{}", s.host);
    s.cluster.with(|c| {
        if let Some(n) = c.nodes.get_mut(&s.host) {
            n.role = Role::Restoring;
        }
    });
    s.ground.event(
        source.clone(),
        WorldEventKind::RunbookStarted,
        format!("restore of {} to just before {} begins", s.host, crate::report::format_offset(target)),
    );
    let started = sim_now();
    let mut fallbacks = 0;
    for chain in backup::chains(&setup.plan, &catalog, target) {
        let full = catalog.copies[chain.copies[0]].describe();
        let applied = backup::describe_chain(&catalog, &chain);
        tokio::time::sleep(chain.duration).await;
        if chain.corrupt {
            let bad: Vec<String> = chain
                .copies
                .iter()
                .filter(|&&i| catalog.copies[i].corrupt)
                .map(|&i| catalog.copies[i].describe())
                .collect();
            s.ground.event(
                source.clone(),
                WorldEventKind::RestoreFailed,
                format!(
                    "restore from {full} failed verification (row counts do not match: {} corrupt); falling back",
                    bad.join(", ")
                ),
            );
            fallbacks += 1;
            continue;
        }
        let point = chain.point;
        s.cluster.with(|c| {
            let restored = c.nodes.get(&s.host).map(|n| n.rows.as_of(point));
            if let Some(rows) = restored {
                // The replica is re-seeded from the restored copy; streams restart.
                for node in c.nodes.values_mut() {
                    node.rows = rows.clone();
                }
                c.acked = rows.wal().len() as u64;
                c.generation += 1;
            }
            if let Some(n) = c.nodes.get_mut(&s.host) {
                n.role = Role::Primary;
            }
        });
        s.ground.event(
            source,
            WorldEventKind::Restored,
            format!("{} restored to {}: {applied}", s.host, crate::report::format_offset(point)),
        );
        s.ground.restored(crate::measure::RestoreRecord {
            started,
            finished: sim_now(),
            point_ms: point,
            chain: applied,
            fallbacks,
        });
        return StatusCode::OK;
    }
    s.cluster.with(|c| {
        if let Some(n) = c.nodes.get_mut(&s.host) {
            n.role = Role::Primary;
        }
    });
    s.ground.event(
        source,
        WorldEventKind::RestoreFailed,
        "no backup chain verifies: nothing restored".to_owned(),
    );
    StatusCode::INTERNAL_SERVER_ERROR
}
