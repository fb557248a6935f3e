//! Delivering webhook payloads: one worker per channel, retries with backoff, and the log as
//! the place of last resort.

use std::time::Duration;

use bytes::Bytes;
use hyper::Method;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::http::{self, Endpoint, HttpError};
use crate::monitor::config::DeliveryPolicy;
use crate::monitor::metrics::Metrics;
use crate::net::Net;

/// How one delivery ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivered {
    /// The receiver answered 2xx.
    Yes {
        /// Attempts it took.
        attempts: u32,
    },
    /// Every attempt failed, or the receiver refused the payload (4xx other than 429).
    No {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        reason: String,
    },
}

/// Whether a failed attempt is worth repeating.
fn retryable(result: &Result<http::Response, HttpError>) -> bool {
    match result {
        Ok(r) => r.status == 429 || r.status >= 500,
        Err(_) => true,
    }
}

/// POSTs `payload` as JSON to `endpoint`, retrying timeouts, connection errors, 429 and 5xx
/// with exponential backoff (honouring `Retry-After` up to `max_backoff`).
pub async fn deliver<N: Net>(
    net: &N,
    endpoint: &Endpoint,
    payload: &Value,
    policy: &DeliveryPolicy,
) -> Delivered {
    let body = Bytes::from(payload.to_string());
    let mut wait = policy.backoff;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let result =
            http::send(net, Method::POST, endpoint, Some(("application/json", body.clone())), policy.timeout)
                .await;
        let reason = match &result {
            Ok(r) if (200..300).contains(&r.status) => return Delivered::Yes { attempts },
            Ok(r) => format!("HTTP {}", r.status),
            Err(e) => e.to_string(),
        };
        if !retryable(&result) || attempts >= policy.max_attempts {
            return Delivered::No { attempts, reason };
        }
        let asked = result.ok().and_then(|r| r.retry_after).unwrap_or(Duration::ZERO);
        tokio::time::sleep(wait.max(asked).min(policy.max_backoff)).await;
        wait = wait.saturating_mul(2).min(policy.max_backoff);
    }
}

/// Drains one channel's queue in order until every sender is gone.
pub async fn run_worker<N: Net>(
    net: N,
    channel: &'static str,
    endpoint: Endpoint,
    policy: DeliveryPolicy,
    metrics: Metrics,
    mut queue: mpsc::Receiver<Value>,
) {
    while let Some(payload) = queue.recv().await {
        match deliver(&net, &endpoint, &payload, &policy).await {
            Delivered::Yes { attempts } => {
                metrics.delivery(channel, "delivered");
                tracing::debug!(channel, attempts, "notification delivered");
            }
            Delivered::No { attempts, reason } => {
                metrics.delivery(channel, "failed");
                log_undelivered(channel, &payload, &format!("{reason} after {attempts} attempt(s)"));
            }
        }
    }
}

/// The fallback when a receiver cannot take a notification: the full payload goes to the log,
/// so that nothing an on-call would have seen is lost.
pub fn log_undelivered(channel: &str, payload: &Value, reason: &str) {
    tracing::error!(channel, reason, payload = %payload, "notification NOT delivered; payload logged instead");
}
