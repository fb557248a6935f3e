//! `gameday plan`: what a scenario's configuration allows, before any simulation.
//!
//! [`plan`] is a pure function of a validated [`Scenario`]: no simulation, no I/O, no clock.
//! For each phase (detect, page, acknowledge, mitigate, recover, and the RTO and RPO) it
//! derives a [`Bound`] from how the monitor and the simulated world behave (probe interval and
//! timeout, thresholds, escalation timeouts and responders, the runbook's steps, promotion,
//! scale-up, DNS TTLs and overruns, the restoration window), compares it with the targets and
//! lists known pitfalls. A bound is conditional: if the phase happens in a run, its measured
//! length lies within it; `gameday run` checks that it does ([`violations`]).

mod bound;
mod faults;
mod pitfalls;
mod respond;
mod restore;
mod rpo;
mod targets;
pub mod text;
mod timing;
mod violations;
mod windows;

use std::time::Duration;

use serde::Serialize;

pub use bound::Bound;
pub use pitfalls::Pitfall;
pub use targets::{TargetCheck, Verdict};
pub use violations::{Violation, violations};

use crate::measure::ms;
use crate::scenario::Scenario;
use bound::Window;

/// The phases a plan bounds, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseName {
    /// `t_fault` to the first alert.
    Detect,
    /// `t_fault` to the first page.
    Page,
    /// First page to the first acknowledgement.
    Acknowledge,
    /// `t_fault` to the failover completed.
    Mitigate,
    /// Failover completed to customers restored.
    Recover,
    /// `t_fault` to customers restored.
    Rto,
    /// The data-loss window.
    Rpo,
}

impl PhaseName {
    /// Every phase, in report order.
    pub const ALL: [PhaseName; 7] = [
        PhaseName::Detect,
        PhaseName::Page,
        PhaseName::Acknowledge,
        PhaseName::Mitigate,
        PhaseName::Recover,
        PhaseName::Rto,
        PhaseName::Rpo,
    ];

    /// The snake_case name (also the `[targets]` key).
    pub fn as_str(self) -> &'static str {
        match self {
            PhaseName::Detect => "detect",
            PhaseName::Page => "page",
            PhaseName::Acknowledge => "acknowledge",
            PhaseName::Mitigate => "mitigate",
            PhaseName::Recover => "recover",
            PhaseName::Rto => "rto",
            PhaseName::Rpo => "rpo",
        }
    }
}

/// One phase's bound, or the plan's word that it cannot happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhaseBound {
    /// Which phase.
    pub phase: PhaseName,
    /// `None`: nothing in the configuration can make this phase happen (no fault the monitor
    /// can see, nobody who can acknowledge, no runbook).
    pub bound: Option<Bound>,
    /// Why the worst case is unbounded, or why the phase cannot happen.
    pub notes: Vec<String>,
}

impl Serialize for PhaseBound {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("PhaseBound", 5)?;
        st.serialize_field("phase", &self.phase)?;
        st.serialize_field("expected", &self.bound.is_some())?;
        st.serialize_field("best_ms", &self.bound.as_ref().map(|b| ms::millis(b.best)))?;
        st.serialize_field("worst_ms", &self.bound.as_ref().and_then(|b| b.worst.map(ms::millis)))?;
        st.serialize_field("notes", &self.notes)?;
        st.end()
    }
}

/// What the configuration allows: the bounds, the verdict per target, the pitfalls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The scenario's name.
    pub scenario: String,
    /// `[targets] incident_start`, else the first fault's `at`; `None` without either.
    #[serde(rename = "t_fault_ms", serialize_with = "ms::opt_ms")]
    pub t_fault: Option<Duration>,
    /// One bound per phase, in [`PhaseName::ALL`] order.
    pub phases: Vec<PhaseBound>,
    /// One check per duration target present.
    pub targets: Vec<TargetCheck>,
    /// Known pitfalls of the configuration (warnings; they do not fail the plan alone).
    pub pitfalls: Vec<Pitfall>,
    /// Some target cannot be met even in the best case.
    pub impossible: bool,
}

impl Plan {
    /// The bound of one phase.
    pub fn phase(&self, name: PhaseName) -> &PhaseBound {
        // `phases` always holds every name, in order.
        &self.phases[PhaseName::ALL.iter().position(|&n| n == name).unwrap_or(0)]
    }

    /// The exit code of `gameday plan`: 1 when some target is impossible, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.impossible { crate::exit::TARGET_MISSED } else { crate::exit::SUCCESS }
    }

    /// The human rendering ([`text::render`]).
    pub fn to_text(&self) -> String {
        text::render(self)
    }

    /// The JSON rendering: stable snake_case names, durations in `_ms` fields.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

fn phase(phase: PhaseName, bound: Option<Bound>, notes: Vec<String>) -> PhaseBound {
    // A note on why the worst case is open says nothing once the worst case is known.
    let notes = match &bound {
        Some(Bound { worst: Some(_), .. }) => Vec::new(),
        _ => notes,
    };
    PhaseBound { phase, bound, notes }
}

/// Bounds every phase of `scenario` from its configuration alone (see the module docs).
pub fn plan(scenario: &Scenario) -> Plan {
    // A latent fault (a corrupt copy, a stopped archiver, a report) starts no incident.
    let first_fault = scenario.faults.iter().filter(|f| !f.kind.is_latent()).map(|f| f.at).min();
    let t_fault = scenario.targets.incident_start.or(first_fault);
    let phases = match t_fault {
        None => PhaseName::ALL
            .iter()
            .map(|&n| {
                let why = "no fault is injected and no incident_start is set: nothing to respond to";
                phase(n, None, vec![why.to_owned()])
            })
            .collect(),
        Some(t0) => bound_phases(scenario, t0),
    };
    let targets = targets::check(scenario, &phases);
    let impossible = targets.iter().any(|t| t.verdict == Verdict::Impossible);
    Plan {
        scenario: scenario.name.clone(),
        t_fault,
        phases,
        targets,
        pitfalls: pitfalls::find(scenario),
        impossible,
    }
}

fn bound_phases(scenario: &Scenario, t0: Duration) -> Vec<PhaseBound> {
    let net = timing::Network::of(scenario);
    let w = windows::windows(scenario, t0, net);
    let monitor_sure = |win: Window| if w.monitor_unbounded.is_empty() { win } else { win.unbounded() };
    let monitor_notes = || w.monitor_unbounded.clone();

    let alert = bound::earliest(w.services.iter().filter_map(|s| s.alert)).map(monitor_sure);
    let no_alert = "no fault can fail a probe of any service: the monitor has nothing to alert on";
    let detect = match alert {
        Some(a) => phase(
            PhaseName::Detect,
            Some(a.since(t0)),
            worst_notes(&monitor_notes(), "no fault is sure to fail every probe long enough to alert"),
        ),
        None => phase(PhaseName::Detect, None, vec![no_alert.to_owned()]),
    };
    let page_window = alert.map(|a| a.then(Duration::ZERO, Some(net.exchange)));
    let page = match (page_window, scenario.escalation.is_empty()) {
        (_, true) => {
            phase(PhaseName::Page, None, vec!["the escalation chain is empty: nobody is paged".to_owned()])
        }
        (None, false) => phase(PhaseName::Page, None, vec![no_alert.to_owned()]),
        (Some(p), false) => phase(PhaseName::Page, Some(p.since(t0)), detect.notes.clone()),
    };
    let acknowledge = match (&page.bound, w.ack) {
        (None, _) => phase(PhaseName::Acknowledge, None, vec!["no page can be sent".to_owned()]),
        (Some(_), None) => phase(PhaseName::Acknowledge, None, w.ack_reasons.0.clone()),
        (Some(_), Some((best, worst))) => {
            // When the first page may belong to another incident than the one sure to be
            // answered, the answer can come as late as that incident's page allows.
            let spread = match (w.many_incidents, page_window) {
                (false, _) => Some(Duration::ZERO),
                (true, Some(p)) => p.hi.map(|h| h - p.lo),
                (true, None) => None,
            };
            let worst =
                if w.monitor_unbounded.is_empty() { worst.zip(spread).map(|(a, b)| a + b) } else { None };
            let mut notes = monitor_notes();
            notes.extend(w.ack_reasons.0.iter().cloned());
            if worst.is_none() && notes.is_empty() {
                notes.push(
                    "the first page may come from an incident whose latest page cannot be bounded".to_owned(),
                );
            }
            phase(PhaseName::Acknowledge, Some(Bound { best, worst }), notes)
        }
    };

    let completion = bound::earliest(w.services.iter().filter_map(|s| s.completion));
    let mitigate = match completion {
        Some(c) => {
            let mut notes = w.mitigate_reasons.0.clone();
            notes.extend(monitor_notes());
            if notes.is_empty() {
                notes.push("no fault is sure to trigger a runbook".to_owned());
            }
            phase(PhaseName::Mitigate, Some(c.since(t0)), notes)
        }
        None => {
            let mut notes = w.mitigate_reasons.0.clone();
            notes.push("no runbook or DNS health check can complete a failover".to_owned());
            phase(PhaseName::Mitigate, None, notes)
        }
    };

    // Restored: every service whose customers can fail, or that can fail over (a failover
    // itself fails customers while they move), must have a promised way back.
    let relevant: Vec<&windows::ServiceWindows<'_>> =
        w.services.iter().filter(|s| s.customers_hit || s.completion.is_some()).collect();
    let restored_hi = relevant
        .iter()
        .map(|s| s.completion.and_then(|c| c.hi).zip(s.recover).map(|(c, r)| c + r))
        .try_fold(Duration::ZERO, |acc, r| r.map(|r| acc.max(r)));
    let mut recover_notes = w.recover_reasons.0.clone();
    if relevant.iter().any(|s| s.customers_hit && s.completion.is_none()) {
        recover_notes.push(
            "customers of a service with no way to fail over can fail until their fault clears".to_owned(),
        );
    }
    if recover_notes.is_empty() {
        recover_notes.push("the failover is not sure to complete".to_owned());
    }
    let recover = match completion {
        None => phase(PhaseName::Recover, None, vec!["no failover can complete".to_owned()]),
        Some(c) => {
            let single = match relevant.as_slice() {
                [only] if !only.early_switch => Some(only.recover),
                _ => None,
            };
            let worst = match single {
                Some(r) => r,
                None => restored_hi.map(|r| r.saturating_sub(c.lo)),
            };
            phase(PhaseName::Recover, Some(Bound { best: Duration::ZERO, worst }), recover_notes.clone())
        }
    };

    let rto = if relevant.is_empty() {
        let why = "no fault can fail a customer's request and no failover can start: customers see no outage";
        PhaseBound {
            phase: PhaseName::Rto,
            bound: Some(Bound { best: Duration::ZERO, worst: Some(Duration::ZERO) }),
            notes: vec![why.to_owned()],
        }
    } else {
        let best = rto_best(scenario, t0, net, &w);
        let worst = restored_hi.map(|r| r.saturating_sub(t0));
        phase(PhaseName::Rto, Some(Bound { best, worst }), recover_notes)
    };
    let rpo = rpo::bound(scenario, t0, net, w.restore.as_ref());
    vec![detect, page, acknowledge, mitigate, recover, rto, rpo]
}

fn worst_notes(monitor: &[String], otherwise: &str) -> Vec<String> {
    if monitor.is_empty() { vec![otherwise.to_owned()] } else { monitor.to_vec() }
}

/// The earliest customers can be restored when the incident starts with a fault that fails
/// every request of some services: not before the first of those is cured (its failover
/// completes or its fault ends), less the part of a window that may still fail.
fn rto_best(scenario: &Scenario, t0: Duration, net: timing::Network, w: &windows::Windows<'_>) -> Duration {
    let customer = faults::Caller { host: "clients", deadline: scenario.traffic.timeout };
    let mut cured_at: Vec<Duration> = Vec::new();
    for s in &w.services {
        let hard: Vec<&crate::scenario::Fault> = scenario
            .faults
            .iter()
            .filter(|f| f.at <= t0 && faults::lasts_until(f, t0 + net.tick))
            .filter(|f| faults::on_requests(scenario, f, s.service, customer) == faults::Effect::Hard)
            .collect();
        if hard.is_empty() {
            continue;
        }
        let fault_ends = hard.iter().filter_map(|f| faults::end(f)).min();
        let failover = s.completion.map(|c| c.lo);
        cured_at.push(bound::min_opt(fault_ends, failover).unwrap_or(scenario.duration));
    }
    let n = scenario.services.len().max(1) as f64;
    let m = cured_at.len() as f64;
    let tolerated = 1.0 - scenario.traffic.success_threshold;
    let per_request = Duration::from_secs_f64(1.0 / scenario.traffic.rate.max(1e-3));
    let restored = restore_blackout(scenario, t0, net, w, tolerated, per_request);
    if cured_at.is_empty() || m / n <= tolerated {
        return restored;
    }
    let first_cure = cured_at.into_iter().min().unwrap_or_default();
    // A window may start while up to `tolerated` of its requests still fail: with m of n
    // services failing, that is this much of the window before the cure.
    let lead = scenario.traffic.window.mul_f64((tolerated * n / m).min(1.0));
    first_cure.saturating_sub(lead + per_request + net.tick).saturating_sub(t0).max(restored)
}

/// The earliest customers can be restored when a restore from backups is sure to happen: the
/// restoring node serves nothing, so every service fails every request while it runs. A
/// window inside that blackout misses the threshold, so restoration comes no earlier than the
/// blackout's end, less the part of a window allowed to fail, a request interval, a tick and
/// an exchange (a request sent just before the end may be answered after it). Needs the
/// restore sure to end within the run with no other fault injected before it ends (which
/// would stop the measurement looking), and a blackout longer than a window.
fn restore_blackout(
    scenario: &Scenario,
    t0: Duration,
    net: timing::Network,
    w: &windows::Windows<'_>,
    tolerated: f64,
    per_request: Duration,
) -> Duration {
    let Some(r) = &w.restore else { return Duration::ZERO };
    let Some(end) = r.completion.hi.filter(|&h| h <= scenario.duration) else { return Duration::ZERO };
    let slack = per_request + net.tick + net.exchange;
    let interrupted = scenario.faults.iter().any(|f| !f.kind.is_latent() && f.at > t0 && f.at <= end);
    if interrupted
        || scenario.traffic.success_threshold <= 0.0
        || r.blackout < scenario.traffic.window + slack
    {
        return Duration::ZERO;
    }
    let lead = scenario.traffic.window.mul_f64(tolerated.clamp(0.0, 1.0));
    r.completion.lo.saturating_sub(lead + slack).saturating_sub(t0)
}
