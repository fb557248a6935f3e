//! The failover runner: a service's steps in order, each with its deadline and retries,
//! stopping at the first step that fails.

use bytes::Bytes;

use crate::http;
use crate::monitor::config::FailoverStep;
use crate::monitor::engine::EngineHandle;
use crate::monitor::event::{IncidentId, StepOutcome};
use crate::net::Net;
use crate::time::duration_millis;

/// Runs one step until it gets a 2xx or runs out of retries.
pub async fn run_step<N: Net>(net: &N, step: &FailoverStep) -> StepOutcome {
    let started = tokio::time::Instant::now();
    let body = step.body.as_ref().map(|b| ("application/json", Bytes::from(b.clone())));
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result = http::send(net, step.method.clone(), &step.endpoint, body.clone(), step.timeout).await;
        let (ok, status, error) = match result {
            Ok(r) => ((200..300).contains(&r.status), Some(r.status), None),
            Err(e) => (false, None, Some(e.to_string())),
        };
        if ok || attempts > step.retries {
            return StepOutcome {
                step: step.name.clone(),
                attempts,
                ok,
                status,
                error,
                elapsed_ms: duration_millis(started.elapsed()),
            };
        }
        tokio::time::sleep(step.retry_backoff).await;
    }
}

/// Runs every step of a failover for `incident`, reporting each outcome to the engine.
pub async fn run_failover<N: Net>(
    net: N,
    incident: IncidentId,
    service: String,
    steps: Vec<FailoverStep>,
    engine: EngineHandle,
) {
    for step in &steps {
        let outcome = run_step(&net, step).await;
        let ok = outcome.ok;
        engine.step_finished(incident, &service, outcome);
        if !ok {
            engine.failover_finished(incident, false, Some(step.name.clone()));
            return;
        }
    }
    engine.failover_finished(incident, true, None);
}
