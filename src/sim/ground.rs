//! The ground-truth log: what customers, databases, DNS and the pager saw, recorded by the
//! simulated world as it happens. It lives outside every host, so crashes lose none of it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::measure::{Observations, RequestRecord, WorldEvent, WorldEventKind};
use crate::sim::net::sim_now;

/// A shared handle to the ground-truth log.
#[derive(Clone, Debug, Default)]
pub struct Ground {
    inner: Arc<Mutex<Observations>>,
}

impl Ground {
    fn with<T>(&self, f: impl FnOnce(&mut Observations) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Records a world event at the current simulated time.
    pub fn event(&self, source: impl Into<String>, kind: WorldEventKind, details: impl Into<String>) {
        self.event_at(sim_now(), source, kind, details);
    }

    /// Records a world event at `at` (for the harness, outside any host).
    pub fn event_at(
        &self,
        at: Duration,
        source: impl Into<String>,
        kind: WorldEventKind,
        details: impl Into<String>,
    ) {
        let event = WorldEvent { at, source: source.into(), kind, details: details.into() };
        self.with(|o| o.events.push(event));
    }

    /// Records a completed restore.
    pub fn restored(&self, record: crate::measure::RestoreRecord) {
        self.with(|o| o.backups.restores.push(record));
    }

    /// Records a drill's finding.
    pub fn drill_found(&self, finding: crate::measure::DrillFinding) {
        self.with(|o| {
            o.backups.drill_findings.push(finding);
            o.backups.drill_findings.sort_by_key(|f| f.found_ms);
        });
    }

    /// Records one customer request.
    pub fn request(&self, record: RequestRecord) {
        self.with(|o| o.requests.push(record));
    }

    /// A copy of the events recorded so far.
    pub fn snapshot(&self) -> Vec<WorldEvent> {
        self.with(|o| o.events.clone())
    }

    /// Takes the log out, ordered: requests by send time, events by time (stable).
    pub fn finish(&self) -> Observations {
        self.with(|o| {
            let mut obs = std::mem::take(o);
            obs.requests.sort_by_key(|r| r.sent);
            obs.events.sort_by_key(|e| e.at);
            obs
        })
    }
}
