//! Alerts to Slack and PagerDuty, delivered off the decision path.
//!
//! [`Notifier::send`] never waits: it builds the payloads and queues them for one worker per
//! channel. A slow or dead receiver delays only its own queue, never a probe or a decision.

pub mod delivery;
pub mod notice;
pub mod pagerduty;
pub mod slack;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::monitor::config::AlertsConfig;
use crate::monitor::metrics::Metrics;
use crate::net::Net;
pub use notice::{Notice, Subject};

/// Queues notifications for the channel workers.
#[derive(Clone)]
pub struct Notifier {
    slack: Option<mpsc::Sender<Value>>,
    pagerduty: Option<(mpsc::Sender<Value>, String)>,
    metrics: Metrics,
}

impl Notifier {
    /// Starts one delivery worker per configured channel on `workers`.
    pub fn start<N: Net>(
        net: &N,
        config: &AlertsConfig,
        metrics: &Metrics,
        workers: &mut JoinSet<()>,
    ) -> Self {
        let mut spawn = |channel: &'static str, endpoint: &crate::http::Endpoint| {
            let (tx, rx) = mpsc::channel(config.delivery.queue);
            let worker = delivery::run_worker(
                net.clone(),
                channel,
                endpoint.clone(),
                config.delivery.clone(),
                metrics.clone(),
                rx,
            );
            workers.spawn(worker);
            tx
        };
        let slack = config.slack.as_ref().map(|e| spawn("slack", e));
        let pagerduty = config.pagerduty.as_ref().map(|(e, key)| (spawn("pagerduty", e), key.clone()));
        Self { slack, pagerduty, metrics: metrics.clone() }
    }

    /// A notifier with no channels: everything goes to the log only.
    pub fn disabled(metrics: &Metrics) -> Self {
        Self { slack: None, pagerduty: None, metrics: metrics.clone() }
    }

    /// The configured channels, by name.
    pub fn channels(&self) -> Vec<&'static str> {
        let mut channels = Vec::new();
        if self.slack.is_some() {
            channels.push("slack");
        }
        if self.pagerduty.is_some() {
            channels.push("pagerduty");
        }
        channels
    }

    /// Queues `notice` on every channel that cares about it. Never blocks.
    pub fn send(&self, notice: &Notice) {
        if let (Some(queue), Some(payload)) = (&self.slack, slack::payload(notice)) {
            self.enqueue("slack", queue, payload);
        }
        if let Some((queue, key)) = &self.pagerduty {
            if let Some(payload) = pagerduty::payload(notice, key) {
                self.enqueue("pagerduty", queue, payload);
            }
        }
    }

    fn enqueue(&self, channel: &'static str, queue: &mpsc::Sender<Value>, payload: Value) {
        if let Err(e) = queue.try_send(payload) {
            self.metrics.delivery(channel, "dropped");
            let payload = match e {
                mpsc::error::TrySendError::Full(p) | mpsc::error::TrySendError::Closed(p) => p,
            };
            delivery::log_undelivered(channel, &payload, "queue full: the receiver is too slow");
        }
    }
}
