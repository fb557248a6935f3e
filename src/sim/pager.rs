//! The `pager` host: receives the monitor's Slack and PagerDuty webhooks, records when alerts
//! and pages arrive, and hands pages to simulated responders who acknowledge (and, for manual
//! failover, decide) through the monitor's own API after their scripted delays.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use hyper::Method;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use crate::measure::WorldEventKind;
use crate::scenario::{AckDelay, Responder};
use crate::sim::ground::Ground;
use crate::sim::serve::{call, serve};

/// The pager's port.
pub const PORT: u16 = 80;
/// The monitor's API port in the simulation.
pub const MONITOR_PORT: u16 = 9090;

/// What the pager knows and remembers (outside the host, so a crash forgets nothing).
#[derive(Debug, Default)]
pub struct PagerState {
    /// Incidents already announced (the first notification of each is the alert).
    pub seen: BTreeSet<u64>,
    /// Incidents already acknowledged by a responder.
    pub acknowledged: BTreeSet<u64>,
    /// Responders made absent by a fault.
    pub absent: BTreeSet<String>,
    /// Pages handed to each responder so far (to draw each delay from its own stream).
    pub pages: BTreeMap<String, u64>,
    /// Customer reports waiting for support to declare them (services, oldest first).
    pub reports: Vec<String>,
}

/// Shared pager state.
#[derive(Clone, Debug, Default)]
pub struct SharedPager(pub Arc<Mutex<PagerState>>);

impl SharedPager {
    /// Runs `f` on the state.
    pub fn with<T>(&self, f: impl FnOnce(&mut PagerState) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[derive(Clone)]
struct Pager {
    state: SharedPager,
    responders: Arc<BTreeMap<String, Responder>>,
    manual: Arc<BTreeSet<String>>,
    ground: Ground,
    seed: u64,
}

/// Runs the pager on the current host.
pub async fn run(
    state: SharedPager,
    responders: BTreeMap<String, Responder>,
    manual: BTreeSet<String>,
    ground: Ground,
    seed: u64,
) -> std::io::Result<()> {
    tokio::spawn(support_desk(state.clone(), ground.clone()));
    let pager = Pager { state, responders: Arc::new(responders), manual: Arc::new(manual), ground, seed };
    let router =
        Router::new().route("/slack", post(slack)).route("/pagerduty", post(pagerduty)).with_state(pager);
    serve(PORT, router).await
}

/// Support: declares each customer report as an incident with the monitor (health checks do
/// not see missing rows), retrying while the monitor cannot be reached.
async fn support_desk(state: SharedPager, ground: Ground) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let Some(service) = state.with(|s| (!s.reports.is_empty()).then(|| s.reports.remove(0))) else {
            continue;
        };
        let body = serde_json::json!({
            "service": service,
            "severity": "SEV2",
            "report": "customers report missing data",
        })
        .to_string();
        loop {
            let answer = call(
                Method::POST,
                "monitor",
                MONITOR_PORT,
                "/api/incidents",
                Some(body.clone()),
                Duration::from_secs(5),
            )
            .await;
            match answer {
                Some((201, _)) => {
                    ground.event(
                        "support",
                        WorldEventKind::IncidentDeclared,
                        format!("support declared an incident on {service}"),
                    );
                    break;
                }
                // Already open: the report joins the incident in progress.
                Some((409 | 404, _)) => break,
                _ => tokio::time::sleep(Duration::from_secs(30)).await,
            }
        }
    }
}

/// `INC-7` -> 7.
fn incident_number(text: &str) -> Option<u64> {
    let rest = &text[text.find("INC-")? + 4..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

impl Pager {
    /// Records the arrival; the first notification of an incident on any channel is its alert.
    /// Returns whether it was the alert.
    fn arrived(&self, channel: &str, incident: Option<u64>, text: &str, quiet: bool) -> bool {
        let first = incident.is_some_and(|n| self.state.with(|s| s.seen.insert(n)));
        if first || !quiet {
            let kind =
                if first { WorldEventKind::AlertReceived } else { WorldEventKind::NotificationReceived };
            self.ground.event(format!("pager:{channel}"), kind, text.to_owned());
        }
        first
    }
}

async fn slack(State(p): State<Pager>, body: String) -> StatusCode {
    let Ok(json) = serde_json::from_str::<Value>(&body) else { return StatusCode::BAD_REQUEST };
    let text = json["text"].as_str().unwrap_or_default();
    p.arrived("slack", incident_number(text), text, false);
    StatusCode::OK
}

async fn pagerduty(State(p): State<Pager>, body: String) -> StatusCode {
    let Ok(json) = serde_json::from_str::<Value>(&body) else { return StatusCode::BAD_REQUEST };
    let action = json["event_action"].as_str().unwrap_or_default();
    let dedup = json["dedup_key"].as_str().unwrap_or_default();
    let details = &json["payload"]["custom_details"];
    let incident = incident_number(dedup);
    if action == "trigger" && details["event"] == "paged" {
        let notify = details["notify"].as_str().unwrap_or_default().to_owned();
        let level = details["level"].as_u64().unwrap_or(0);
        let service = json["payload"]["component"].as_str().unwrap_or_default().to_owned();
        // The page itself is the event worth a line; it is the alert too when it arrives first.
        p.arrived("pagerduty", incident, &format!("{action} {dedup}"), true);
        p.ground.event(
            "pager:pagerduty",
            WorldEventKind::PageReceived,
            format!("INC-{} level {level} paged {notify}", incident.unwrap_or(0)),
        );
        if let Some(incident) = incident {
            tokio::spawn(respond(p.clone(), notify, incident, service));
        }
    } else {
        p.arrived("pagerduty", incident, &format!("{action} {dedup}"), false);
    }
    StatusCode::ACCEPTED
}

/// How long responder `who`, whose `ack_after` is the range `lo..hi`, takes to acknowledge its
/// `page`-th page (from 1) in a run with `seed`: drawn uniformly, to the millisecond.
pub fn drawn_ack_delay(seed: u64, who: &str, page: u64, lo: Duration, hi: Duration) -> Duration {
    let stream = who.bytes().fold(seed, |h, b| h.rotate_left(5) ^ u64::from(b));
    let mut rng = ChaCha8Rng::seed_from_u64(stream ^ page);
    Duration::from_millis(rng.random_range(lo.as_millis() as u64..=hi.as_millis() as u64))
}

/// One responder handling one page: wait, acknowledge, and for manual failover decide.
async fn respond(p: Pager, who: String, incident: u64, service: String) {
    let Some(responder) = p.responders.get(&who).cloned() else { return };
    let page_index = p.state.with(|s| {
        let n = s.pages.entry(who.clone()).or_default();
        *n += 1;
        *n
    });
    let delay = match responder.ack_after {
        AckDelay::Never => return,
        AckDelay::Fixed(d) => d,
        AckDelay::Range(lo, hi) => drawn_ack_delay(p.seed, &who, page_index, lo, hi),
    };
    tokio::time::sleep(delay).await;
    let source = format!("responder:{who}");
    // Someone else may have acknowledged meanwhile; an absent responder does nothing.
    if p.state.with(|s| s.absent.contains(&who) || s.acknowledged.contains(&incident)) {
        return;
    }
    let body = format!("{{\"by\": \"{who}\"}}");
    let path = format!("/api/incidents/{incident}/ack");
    let mut acked = false;
    for _ in 0..20 {
        match call(Method::POST, "monitor", MONITOR_PORT, &path, Some(body.clone()), Duration::from_secs(5))
            .await
        {
            Some((200, _)) => {
                acked = true;
                break;
            }
            Some((404 | 409, _)) => return,
            // The monitor is down or unreachable: the human tries again a little later.
            _ => tokio::time::sleep(Duration::from_secs(30)).await,
        }
    }
    if !acked || !p.state.with(|s| s.acknowledged.insert(incident)) {
        return;
    }
    p.ground.event(
        source.clone(),
        WorldEventKind::Acknowledged,
        format!("INC-{incident} acknowledged by {who}"),
    );
    if let (true, Some(decide)) = (p.manual.contains(&service), responder.decide_after) {
        tokio::time::sleep(decide).await;
        let path = format!("/api/failover/{service}");
        if let Some((202, _)) =
            call(Method::POST, "monitor", MONITOR_PORT, &path, None, Duration::from_secs(5)).await
        {
            p.ground.event(
                source,
                WorldEventKind::FailoverRequested,
                format!("{who} started the failover of {service}"),
            );
        }
    }
}
