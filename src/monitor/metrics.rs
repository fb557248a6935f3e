//! Prometheus metrics of the monitor, rendered as OpenMetrics text at `GET /metrics`.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// `service` label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ServiceLabel {
    /// Service name.
    pub service: String,
}

/// Labels of a probe result.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProbeLabels {
    /// Service name.
    pub service: String,
    /// `ok`, `http_status`, `timeout`, `refused` or `error`.
    pub outcome: String,
}

/// Labels of an alert.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    /// Service name.
    pub service: String,
    /// `SEV1`..`SEV4`.
    pub severity: String,
}

/// Labels of a finished failover.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailoverLabels {
    /// Service name.
    pub service: String,
    /// `succeeded` or `failed`.
    pub result: String,
}

/// Labels of a notification delivery.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// `slack` or `pagerduty`.
    pub channel: String,
    /// `delivered`, `failed` or `dropped`.
    pub result: String,
}

type LatencyFamily = Family<ServiceLabel, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 5 ms .. ~10 s: probe deadlines are usually well under that.
    Histogram::new(exponential_buckets(0.005, 2.0, 12))
}

/// Every metric the monitor exports; clones share the same values.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Probe results by outcome.
    pub probes: Family<ProbeLabels, Counter>,
    /// Probe latency in seconds.
    pub probe_latency: LatencyFamily,
    /// Current consecutive failures per service.
    pub consecutive_failures: Family<ServiceLabel, Gauge>,
    /// Incidents not yet resolved.
    pub open_incidents: Gauge,
    /// Alerts sent (incident opened or severity raised).
    pub alerts: Family<AlertLabels, Counter>,
    /// Failovers finished, by result.
    pub failovers: Family<FailoverLabels, Counter>,
    /// Notification deliveries, by channel and result.
    pub notifications: Family<DeliveryLabels, Counter>,
}

impl Metrics {
    /// Registers every metric under the `gameday_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("gameday");
        let probes = Family::<ProbeLabels, Counter>::default();
        let probe_latency = LatencyFamily::new_with_constructor(latency_histogram);
        let consecutive_failures = Family::<ServiceLabel, Gauge>::default();
        let open_incidents = Gauge::default();
        let alerts = Family::<AlertLabels, Counter>::default();
        let failovers = Family::<FailoverLabels, Counter>::default();
        let notifications = Family::<DeliveryLabels, Counter>::default();
        registry.register("probes", "Probe results by outcome", probes.clone());
        registry.register(
            "probe_latency_seconds",
            "Probe latency, connect to last byte",
            probe_latency.clone(),
        );
        registry.register(
            "consecutive_failures",
            "Current run of failed probes",
            consecutive_failures.clone(),
        );
        registry.register("open_incidents", "Incidents not yet resolved", open_incidents.clone());
        registry.register("alerts", "Alerts raised (incident opened or severity raised)", alerts.clone());
        registry.register("failovers", "Failovers finished, by result", failovers.clone());
        registry.register(
            "notifications",
            "Notification deliveries by channel and result",
            notifications.clone(),
        );
        Self {
            registry: Arc::new(registry),
            probes,
            probe_latency,
            consecutive_failures,
            open_incidents,
            alerts,
            failovers,
            notifications,
        }
    }

    /// Counts one probe.
    pub fn probe(&self, service: &str, outcome: &str, latency: Duration) {
        let labels = ProbeLabels { service: service.to_owned(), outcome: outcome.to_owned() };
        self.probes.get_or_create(&labels).inc();
        self.probe_latency
            .get_or_create(&ServiceLabel { service: service.to_owned() })
            .observe(latency.as_secs_f64());
    }

    /// Counts one notification delivery.
    pub fn delivery(&self, channel: &str, result: &str) {
        let labels = DeliveryLabels { channel: channel.to_owned(), result: result.to_owned() };
        self.notifications.get_or_create(&labels).inc();
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
