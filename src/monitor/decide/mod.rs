//! The pure decision core: observations and instants in, events out.
//!
//! Nothing here performs I/O, reads a clock or draws a random number; every method takes the
//! current instant as an argument. That is what makes the thresholds and the escalation
//! property-testable, and what lets the same decisions run unchanged in a simulation.

pub mod escalation;
pub mod policy;
pub mod threshold;

use std::collections::BTreeMap;

use thiserror::Error;

use crate::monitor::event::{Event, Health, IncidentId, RaiseReason, Resolution, Severity, Trigger};
use crate::time::Timestamp;
use escalation::{Escalation, EscalationState, EscalationStep};
use policy::{EscalationLevel, FailoverMode, ServicePolicy};
use threshold::Streak;

/// Why a request to the core was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Refusal {
    /// No service by that name is monitored.
    #[error("no service named {0:?} is monitored")]
    UnknownService(String),
    /// No open incident has that id.
    #[error("{0} is not an open incident")]
    NoOpenIncident(IncidentId),
    /// Failover needs an open incident on the service.
    #[error("{0} has no open incident to fail over for")]
    NothingToFailOver(String),
    /// The service has no failover steps.
    #[error("{0} has no failover steps configured")]
    FailoverNotConfigured(String),
    /// An incident is already open on the service.
    #[error("{1} is already open on {0}")]
    AlreadyOpen(String, IncidentId),
    /// A failover for this incident is running or already succeeded.
    #[error("failover for {0} is already {1}")]
    FailoverAlreadyDone(IncidentId, &'static str),
}

/// Where an incident's failover stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailoverState {
    /// Not decided yet.
    NotDecided,
    /// Manual mode reached `failover_after`; waiting for an operator.
    AwaitingOperator,
    /// The runner is executing steps.
    Running,
    /// The runner finished.
    Finished {
        /// Whether every step succeeded.
        ok: bool,
    },
}

/// An incident that has not been resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenIncident {
    /// Its id.
    pub id: IncidentId,
    /// Its current severity; never falls.
    pub severity: Severity,
    /// Paging progress; `None` when the chain is empty.
    pub escalation: Option<Escalation>,
    /// Whether anyone acknowledged.
    pub acknowledged: bool,
    /// Failover progress.
    pub failover: FailoverState,
    /// A person declared it: the probes did not open it and their successes do not resolve
    /// it (health checks cannot see missing rows); an operator resolves it.
    pub declared: bool,
}

/// One service's decision state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceState {
    /// Its thresholds.
    pub policy: ServicePolicy,
    /// The current run of probe outcomes.
    pub streak: Streak,
    /// The open incident, if any.
    pub incident: Option<OpenIncident>,
}

impl ServiceState {
    /// Health as derived from the streak and the open incident.
    pub fn health(&self) -> Health {
        if self.incident.is_some() {
            Health::Unhealthy
        } else if self.streak.failures > 0 {
            Health::Degraded
        } else {
            Health::Healthy
        }
    }
}

/// The decision core for every monitored service.
#[derive(Clone, Debug)]
pub struct Decider {
    services: BTreeMap<String, ServiceState>,
    levels: Vec<EscalationLevel>,
    next_incident: u64,
}

impl Decider {
    /// A core for these services and this escalation chain, with no history.
    pub fn new(
        services: impl IntoIterator<Item = (String, ServicePolicy)>,
        levels: Vec<EscalationLevel>,
    ) -> Self {
        let services = services
            .into_iter()
            .map(|(name, policy)| {
                let state = ServiceState { policy, streak: Streak::default(), incident: None };
                (name, state)
            })
            .collect();
        Self { services, levels, next_incident: 1 }
    }

    /// The state of one service.
    pub fn service(&self, name: &str) -> Option<&ServiceState> {
        self.services.get(name)
    }

    /// Every service's state, by name.
    pub fn services(&self) -> impl Iterator<Item = (&str, &ServiceState)> {
        self.services.iter().map(|(n, s)| (n.as_str(), s))
    }

    /// The escalation chain.
    pub fn levels(&self) -> &[EscalationLevel] {
        &self.levels
    }

    /// Takes one probe outcome of `service` at `now` and returns what follows from it.
    pub fn observe(&mut self, service: &str, ok: bool, now: Timestamp) -> Result<Vec<Event>, Refusal> {
        let next_id = IncidentId(self.next_incident);
        let levels = &self.levels;
        let state =
            self.services.get_mut(service).ok_or_else(|| Refusal::UnknownService(service.to_owned()))?;
        let before = state.health();
        state.streak.record(ok);
        let mut events = Vec::new();

        match &mut state.incident {
            None => {
                if state.streak.failures == state.policy.alert_after {
                    let severity = state.policy.severity_for(state.streak.failures).unwrap_or(Severity::Sev3);
                    let escalation = Escalation::start(levels, now);
                    events.push(Event::IncidentOpened {
                        incident: next_id,
                        service: service.to_owned(),
                        severity,
                        consecutive_failures: state.streak.failures,
                        declared: None,
                    });
                    if let Some(level) = levels.first() {
                        events.push(page(next_id, service, 0, level));
                    }
                    let mut incident = OpenIncident {
                        id: next_id,
                        severity,
                        escalation,
                        acknowledged: false,
                        failover: FailoverState::NotDecided,
                        declared: false,
                    };
                    decide_failover(&state.policy, state.streak, &mut incident, service, &mut events);
                    state.incident = Some(incident);
                    self.next_incident += 1;
                }
            }
            Some(incident) if ok => {
                if !incident.declared && state.streak.successes >= state.policy.recover_after {
                    events.push(Event::Resolved {
                        incident: incident.id,
                        service: service.to_owned(),
                        resolution: Resolution::Recovered,
                    });
                    state.incident = None;
                }
            }
            Some(incident) => {
                if let Some(due) = state.policy.severity_for(state.streak.failures) {
                    if due > incident.severity {
                        events.push(Event::SeverityRaised {
                            incident: incident.id,
                            service: service.to_owned(),
                            from: incident.severity,
                            to: due,
                            reason: RaiseReason::ConsecutiveFailures,
                        });
                        incident.severity = due;
                    }
                }
                decide_failover(&state.policy, state.streak, incident, service, &mut events);
            }
        }

        let after = state.health();
        if before != after {
            events.insert(0, Event::HealthChanged { service: service.to_owned(), from: before, to: after });
        }
        Ok(events)
    }

    /// A person declares an incident on `service` at `now` (a customer report, a failed
    /// restore drill: what probes cannot see). It opens at `severity` and pages the chain like
    /// any other; refused when one is already open on the service.
    pub fn declare(
        &mut self,
        service: &str,
        severity: Severity,
        report: &str,
        now: Timestamp,
    ) -> Result<Vec<Event>, Refusal> {
        let id = IncidentId(self.next_incident);
        let levels = &self.levels;
        let state =
            self.services.get_mut(service).ok_or_else(|| Refusal::UnknownService(service.to_owned()))?;
        if let Some(open) = &state.incident {
            return Err(Refusal::AlreadyOpen(service.to_owned(), open.id));
        }
        let before = state.health();
        let mut events = vec![Event::IncidentOpened {
            incident: id,
            service: service.to_owned(),
            severity,
            consecutive_failures: state.streak.failures,
            declared: Some(report.to_owned()),
        }];
        if let Some(level) = levels.first() {
            events.push(page(id, service, 0, level));
        }
        state.incident = Some(OpenIncident {
            id,
            severity,
            escalation: Escalation::start(levels, now),
            acknowledged: false,
            failover: FailoverState::NotDecided,
            declared: true,
        });
        self.next_incident += 1;
        let after = state.health();
        if before != after {
            events.insert(0, Event::HealthChanged { service: service.to_owned(), from: before, to: after });
        }
        Ok(events)
    }

    /// The next instant at which [`Decider::tick`] has something to do.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.open_incidents().filter_map(|(_, i)| i.escalation.as_ref()?.deadline(&self.levels)).min()
    }

    /// Pages the next level of every incident whose current level ran out of time by `now`.
    pub fn tick(&mut self, now: Timestamp) -> Vec<Event> {
        let mut events = Vec::new();
        for (name, state) in &mut self.services {
            let Some(incident) = &mut state.incident else {
                continue;
            };
            let Some(escalation) = &mut incident.escalation else {
                continue;
            };
            match escalation.poll(&self.levels, now) {
                Some(EscalationStep::Page(level)) => {
                    events.push(page(incident.id, name, level, &self.levels[level]));
                }
                Some(EscalationStep::Exhausted) => {
                    events.push(Event::EscalationExhausted { incident: incident.id, service: name.clone() });
                }
                None => {}
            }
        }
        events
    }

    /// Records an acknowledgement; escalation stops. Acknowledging twice changes nothing.
    pub fn acknowledge(&mut self, id: IncidentId, by: &str) -> Result<Vec<Event>, Refusal> {
        let (service, incident) = self.open_incident_mut(id)?;
        if incident.acknowledged {
            return Ok(Vec::new());
        }
        incident.acknowledged = true;
        if let Some(e) = &mut incident.escalation {
            e.acknowledge();
        }
        Ok(vec![Event::Acknowledged { incident: id, service, by: by.to_owned() }])
    }

    /// Resolves an incident on an operator's word. The failure streak restarts, so a service
    /// that is still failing needs `alert_after` fresh failures to open a new incident.
    pub fn resolve(&mut self, id: IncidentId) -> Result<Vec<Event>, Refusal> {
        let (service, _) = self.open_incident_mut(id)?;
        let state = self.services.get_mut(&service).expect("open_incident_mut found it");
        let before = state.health();
        state.incident = None;
        state.streak.reset();
        let mut events = vec![Event::Resolved {
            incident: id,
            service: service.clone(),
            resolution: Resolution::Operator,
        }];
        let after = state.health();
        if before != after {
            events.push(Event::HealthChanged { service, from: before, to: after });
        }
        Ok(events)
    }

    /// An operator asks for failover of `service`. Allowed while an incident is open and no
    /// failover for it is running or has succeeded (a failed one may be retried).
    pub fn request_failover(&mut self, service: &str) -> Result<Vec<Event>, Refusal> {
        let state =
            self.services.get_mut(service).ok_or_else(|| Refusal::UnknownService(service.to_owned()))?;
        if state.policy.failover == FailoverMode::Disabled {
            return Err(Refusal::FailoverNotConfigured(service.to_owned()));
        }
        let incident =
            state.incident.as_mut().ok_or_else(|| Refusal::NothingToFailOver(service.to_owned()))?;
        match incident.failover {
            FailoverState::Running => Err(Refusal::FailoverAlreadyDone(incident.id, "running")),
            FailoverState::Finished { ok: true } => Err(Refusal::FailoverAlreadyDone(incident.id, "done")),
            FailoverState::NotDecided
            | FailoverState::AwaitingOperator
            | FailoverState::Finished { ok: false } => {
                incident.failover = FailoverState::Running;
                Ok(vec![Event::FailoverStarted {
                    incident: incident.id,
                    service: service.to_owned(),
                    trigger: Trigger::Manual,
                }])
            }
        }
    }

    /// The runner finished the failover of incident `id`. A failure raises the incident to SEV1.
    pub fn failover_finished(&mut self, id: IncidentId, ok: bool, failed_step: Option<String>) -> Vec<Event> {
        let Ok((service, incident)) = self.open_incident_mut(id) else {
            // Resolved while the steps ran: nothing escalates. The caller still records the
            // outcome in the stream (the engine emits a bare FailoverFinished).
            return Vec::new();
        };
        incident.failover = FailoverState::Finished { ok };
        let mut events =
            vec![Event::FailoverFinished { incident: id, service: service.clone(), ok, failed_step }];
        if !ok && incident.severity < Severity::Sev1 {
            events.push(Event::SeverityRaised {
                incident: id,
                service,
                from: incident.severity,
                to: Severity::Sev1,
                reason: RaiseReason::FailoverFailed,
            });
            incident.severity = Severity::Sev1;
        }
        events
    }

    /// Failovers that were running when the event stream ended (the monitor stopped mid-run).
    pub fn running_failovers(&self) -> Vec<IncidentId> {
        self.open_incidents()
            .filter(|(_, i)| i.failover == FailoverState::Running)
            .map(|(_, i)| i.id)
            .collect()
    }

    /// Rebuilds state from one event of an earlier run's stream, recorded at `at`.
    ///
    /// Replaying the stored stream restores open incidents, their severity, their paging
    /// progress and their failover progress, so nothing already paged is paged again. Probe
    /// streaks are not stored: after a restart they count afresh. Events of services that are
    /// no longer configured are skipped.
    pub fn replay(&mut self, event: &Event, at: Timestamp) {
        if let Some(id) = event.incident() {
            self.next_incident = self.next_incident.max(id.0 + 1);
        }
        let Some(state) = self.services.get_mut(event.service()) else {
            return;
        };
        if let Event::IncidentOpened { incident, severity, declared, .. } = event {
            state.incident = Some(OpenIncident {
                id: *incident,
                severity: *severity,
                escalation: None,
                acknowledged: false,
                failover: FailoverState::NotDecided,
                declared: declared.is_some(),
            });
            return;
        }
        let Some(incident) = state.incident.as_mut().filter(|i| Some(i.id) == event.incident()) else {
            return;
        };
        match event {
            Event::SeverityRaised { to, .. } => incident.severity = incident.severity.max(*to),
            Event::Paged { level, .. } => {
                let state = if incident.acknowledged {
                    EscalationState::Acknowledged
                } else {
                    EscalationState::Waiting
                };
                let level = usize::try_from(level.saturating_sub(1)).unwrap_or(usize::MAX);
                incident.escalation = Some(Escalation { level, paged_at: at, state });
            }
            Event::EscalationExhausted { .. } => {
                if let Some(e) = &mut incident.escalation {
                    e.state = EscalationState::Exhausted;
                }
            }
            Event::Acknowledged { .. } => {
                incident.acknowledged = true;
                if let Some(e) = &mut incident.escalation {
                    e.acknowledge();
                }
            }
            Event::FailoverAwaitingDecision { .. } => incident.failover = FailoverState::AwaitingOperator,
            Event::FailoverStarted { .. } => incident.failover = FailoverState::Running,
            Event::FailoverFinished { ok, .. } => incident.failover = FailoverState::Finished { ok: *ok },
            Event::Resolved { .. } => state.incident = None,
            Event::IncidentOpened { .. }
            | Event::HealthChanged { .. }
            | Event::FailoverStepFinished { .. } => {}
        }
    }

    fn open_incidents(&self) -> impl Iterator<Item = (&str, &OpenIncident)> {
        self.services.iter().filter_map(|(n, s)| s.incident.as_ref().map(|i| (n.as_str(), i)))
    }

    fn open_incident_mut(&mut self, id: IncidentId) -> Result<(String, &mut OpenIncident), Refusal> {
        self.services
            .iter_mut()
            .find_map(|(n, s)| s.incident.as_mut().filter(|i| i.id == id).map(|i| (n.clone(), i)))
            .ok_or(Refusal::NoOpenIncident(id))
    }
}

fn page(incident: IncidentId, service: &str, level: usize, to: &EscalationLevel) -> Event {
    Event::Paged {
        incident,
        service: service.to_owned(),
        level: u32::try_from(level + 1).unwrap_or(u32::MAX),
        notify: to.notify.clone(),
    }
}

/// Decides failover once per incident when failures reach `failover_after`.
fn decide_failover(
    policy: &ServicePolicy,
    streak: Streak,
    incident: &mut OpenIncident,
    service: &str,
    events: &mut Vec<Event>,
) {
    if streak.failures < policy.failover_after || incident.failover != FailoverState::NotDecided {
        return;
    }
    let (id, service) = (incident.id, service.to_owned());
    match policy.failover {
        FailoverMode::Automatic => {
            incident.failover = FailoverState::Running;
            events.push(Event::FailoverStarted { incident: id, service, trigger: Trigger::Automatic });
        }
        FailoverMode::Manual => {
            incident.failover = FailoverState::AwaitingOperator;
            events.push(Event::FailoverAwaitingDecision { incident: id, service });
        }
        FailoverMode::Disabled => {}
    }
}
