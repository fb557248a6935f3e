//! The real monitor's configuration, derived from a scenario: its services, the failover
//! runbook (HTTP calls to the db, app and dns admin APIs over the simulated network), the
//! webhooks (to the pager host) and the escalation chain.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use hyper::Method;

use crate::http::Endpoint;
use crate::monitor::config::{
    AlertsConfig, ApiConfig, DeliveryPolicy, FailoverStep, MonitorConfig, ServiceConfig,
};
use crate::monitor::decide::policy::{FailoverMode as PolicyMode, ServicePolicy};
use crate::scenario::{FailoverMode, Runbook, Scenario, Service, StandbyMode};
use crate::sim::{db, dns, pager};

/// The port of the `index`-th service on its app hosts.
pub fn service_port(index: usize) -> u16 {
    8000 + u16::try_from(index).unwrap_or(999)
}

fn endpoint(host: &str, port: u16, path: &str) -> Endpoint {
    Endpoint { host: host.to_owned(), port, path: path.to_owned() }
}

fn step(
    name: &str,
    method: Method,
    endpoint: Endpoint,
    timeout: Duration,
    body: Option<String>,
) -> FailoverStep {
    FailoverStep {
        name: name.to_owned(),
        method,
        endpoint,
        timeout,
        retries: 2,
        retry_backoff: Duration::from_secs(5),
        body,
    }
}

/// The monitor config for `scenario`.
pub fn derive(scenario: &Scenario) -> MonitorConfig {
    let m = &scenario.monitor;
    let services = scenario
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let port = service_port(i);
            let steps = match s.runbook {
                Runbook::Restart => restart_runbook(s, port),
                Runbook::Failover => failover_runbook(scenario, s, port),
                Runbook::Restore => restore_runbook(scenario),
            };
            let failover = match (steps.is_empty(), is_manual(scenario, s)) {
                (true, _) => PolicyMode::Disabled,
                (false, false) => PolicyMode::Automatic,
                (false, true) => PolicyMode::Manual,
            };
            ServiceConfig {
                name: s.name.clone(),
                region: Some(s.primary.clone()),
                url: endpoint(&format!("{}-app", s.primary), port, "/health"),
                interval: m.interval,
                timeout: m.timeout,
                policy: ServicePolicy {
                    alert_after: m.alert_after,
                    failover_after: m.failover_after,
                    recover_after: m.recover_after,
                    failover,
                },
                runbook: None,
                failover_steps: steps,
            }
        })
        .collect();
    MonitorConfig {
        api: ApiConfig { listen: SocketAddr::from(([0, 0, 0, 0], pager::MONITOR_PORT)), token: None },
        store_path: PathBuf::from("simulated"),
        alerts: AlertsConfig {
            slack: Some(endpoint("pager", pager::PORT, "/slack")),
            pagerduty: (!scenario.escalation.is_empty())
                .then(|| (endpoint("pager", pager::PORT, "/pagerduty"), "SIMULATED".to_owned())),
            runbook_base_url: None,
            source: "gameday-monitor".to_owned(),
            delivery: DeliveryPolicy {
                timeout: Duration::from_secs(5),
                max_attempts: 4,
                backoff: Duration::from_millis(500),
                max_backoff: Duration::from_secs(30),
                queue: 1024,
            },
        },
        services,
        escalation: scenario.escalation.clone(),
    }
}

/// Whether an operator triggers the service's runbook: in manual mode, and always for a
/// restore from backups (nobody automates throwing away the live database).
fn is_manual(scenario: &Scenario, s: &Service) -> bool {
    scenario.monitor.failover == FailoverMode::Manual || s.runbook == Runbook::Restore
}

/// The services whose runbook an operator triggers (see [`is_manual`]).
pub fn manual_services(scenario: &Scenario) -> std::collections::BTreeSet<String> {
    scenario.services.iter().filter(|s| is_manual(scenario, s)).map(|s| s.name.clone()).collect()
}

/// Restores the primary database from its backups to just before the corruption. One
/// attempt with a deadline as long as the scenario: a second attempt would start over.
fn restore_runbook(scenario: &Scenario) -> Vec<FailoverStep> {
    let Some(database) = &scenario.database else { return Vec::new() };
    let host = format!("{}-db", database.primary);
    let mut restore = step(
        "restore-from-backup",
        Method::POST,
        endpoint(&host, db::PORT, "/admin/restore"),
        scenario.duration,
        None,
    );
    restore.retries = 0;
    vec![restore]
}

/// Restarts the service where it runs: the remedy for faults a restart clears.
fn restart_runbook(s: &Service, port: u16) -> Vec<FailoverStep> {
    let host = format!("{}-app", s.primary);
    vec![step(
        "restart-service",
        Method::POST,
        endpoint(&host, port, "/admin/restart"),
        Duration::from_secs(10),
        None,
    )]
}

/// Fails the service over to its standby region. The slowest step goes first: a standby warms
/// up while the database promotes.
fn failover_runbook(scenario: &Scenario, s: &Service, port: u16) -> Vec<FailoverStep> {
    let mut steps = Vec::new();
    if let Some(standby) = s.standby.as_ref().filter(|_| s.standby_mode != StandbyMode::Hot) {
        let host = format!("{standby}-app");
        let scale = endpoint(&host, port, "/admin/scale");
        steps.push(step("scale-standby", Method::POST, scale, Duration::from_secs(10), None));
    }
    if let Some((database, region)) =
        scenario.database.as_ref().and_then(|d| d.replica.as_ref().map(|r| (d, r)))
    {
        let host = format!("{region}-db");
        let timeout = database.promote_time + Duration::from_secs(30);
        steps.push(step(
            "promote-replica",
            Method::POST,
            endpoint(&host, db::PORT, "/admin/promote"),
            timeout,
            None,
        ));
        let db_record = endpoint("dns", dns::PORT, "/records/db");
        steps.push(step("point-db-dns", Method::PUT, db_record, Duration::from_secs(5), Some(host)));
    }
    if let Some(standby) = &s.standby {
        let record = endpoint("dns", dns::PORT, &format!("/records/{}", s.name));
        steps.push(step(
            "switch-dns",
            Method::PUT,
            record,
            Duration::from_secs(5),
            Some(format!("{standby}-app")),
        ));
    }
    steps
}
