//! Health probes: one HTTP GET under one deadline, and one task per service that repeats it.

use std::time::Duration;

use hyper::Method;
use serde::Serialize;

use crate::http::{self, Endpoint, HttpError};
use crate::monitor::config::ServiceConfig;
use crate::monitor::engine::EngineHandle;
use crate::monitor::metrics::Metrics;
use crate::net::Net;
use crate::time::Clock;

/// What one probe saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ProbeOutcome {
    /// A 2xx answer.
    Ok {
        /// The status code.
        status: u16,
    },
    /// An answer outside 2xx.
    HttpStatus {
        /// The status code.
        status: u16,
    },
    /// No complete answer within the deadline.
    Timeout,
    /// The connection was refused.
    Refused,
    /// Anything else: reset, bad HTTP, name resolution.
    Error {
        /// What went wrong.
        message: String,
    },
}

impl ProbeOutcome {
    /// Whether the probe counts as a success.
    pub fn is_ok(&self) -> bool {
        matches!(self, ProbeOutcome::Ok { .. })
    }

    /// A short label for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            ProbeOutcome::Ok { .. } => "ok",
            ProbeOutcome::HttpStatus { .. } => "http_status",
            ProbeOutcome::Timeout => "timeout",
            ProbeOutcome::Refused => "refused",
            ProbeOutcome::Error { .. } => "error",
        }
    }
}

/// A probe's outcome and how long it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeResult {
    /// What it saw.
    pub outcome: ProbeOutcome,
    /// From the start of the connect to the last byte (or the deadline).
    pub latency: Duration,
}

/// GETs `endpoint` once; connect, request and response all share `deadline`.
pub async fn probe<N: Net>(net: &N, endpoint: &Endpoint, deadline: Duration) -> ProbeResult {
    let started = tokio::time::Instant::now();
    let outcome = match http::send(net, Method::GET, endpoint, None, deadline).await {
        Ok(r) if (200..300).contains(&r.status) => ProbeOutcome::Ok { status: r.status },
        Ok(r) => ProbeOutcome::HttpStatus { status: r.status },
        Err(HttpError::Timeout(_)) => ProbeOutcome::Timeout,
        Err(HttpError::Refused) => ProbeOutcome::Refused,
        Err(e) => ProbeOutcome::Error { message: e.to_string() },
    };
    ProbeResult { outcome, latency: started.elapsed() }
}

/// Probes `service` every `interval` until the task is dropped.
///
/// Ticks missed while a probe ran long are skipped rather than bunched up, and results go to
/// the engine through an unbounded queue: a probe never waits for anything but its target.
pub async fn run_probe_loop<N: Net, C: Clock>(
    net: N,
    clock: C,
    service: ServiceConfig,
    metrics: Metrics,
    engine: EngineHandle,
) {
    let mut ticks = tokio::time::interval(service.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        let result = probe(&net, &service.url, service.timeout).await;
        metrics.probe(&service.name, result.outcome.label(), result.latency);
        if !engine.probe_finished(&service.name, result, clock.now()) {
            return;
        }
    }
}
