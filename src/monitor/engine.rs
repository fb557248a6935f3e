//! The engine: the one task that owns the decision core, the incident history and the store.
//!
//! Probes, failover runners and the status API talk to it through an [`EngineHandle`] (a
//! queue), so no state is shared behind a lock and nothing waits on another's I/O. Every
//! event the core decides goes, in order, to the store, the ledger, the metrics, the log and
//! the notifier.

use std::collections::BTreeMap;
use std::io;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::monitor::config::{MonitorConfig, ServiceConfig};
use crate::monitor::decide::policy::FailoverMode;
use crate::monitor::decide::{Decider, Refusal};
use crate::monitor::event::{Event, Health, IncidentId, Record, Severity, StepOutcome};
use crate::monitor::failover::run_failover;
use crate::monitor::ledger::{FailoverView, IncidentView, Ledger};
use crate::monitor::metrics::{AlertLabels, FailoverLabels, Metrics, ServiceLabel};
use crate::monitor::notify::{Notice, Notifier, Subject};
use crate::monitor::probe::{ProbeOutcome, ProbeResult};
use crate::monitor::store::IncidentStore;
use crate::net::Net;
use crate::time::{Clock, Timestamp, duration_millis};

/// The last probe of a service, as the status API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeView {
    /// When it finished.
    pub at: Timestamp,
    /// What it saw.
    #[serde(flatten)]
    pub outcome: ProbeOutcome,
    /// How long it took.
    pub latency_ms: u64,
}

/// One service's status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceStatus {
    /// Service name.
    pub name: String,
    /// Region, when configured.
    pub region: Option<String>,
    /// The probed URL.
    pub url: String,
    /// Health as the monitor sees it.
    pub health: Health,
    /// Failed probes in a row.
    pub consecutive_failures: u32,
    /// Successful probes in a row.
    pub consecutive_successes: u32,
    /// The last probe, once one has run.
    pub last_probe: Option<ProbeView>,
    /// The open incident.
    pub incident: Option<IncidentId>,
    /// Its severity.
    pub severity: Option<Severity>,
    /// `automatic`, `manual` or `disabled`.
    pub failover: &'static str,
}

/// Everything `GET /api/status` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusView {
    /// `ok` when every service is healthy, `degraded` when some fail below the alert
    /// threshold, `incident` when an incident is open.
    pub status: &'static str,
    /// Incidents not yet resolved.
    pub open_incidents: usize,
    /// Each service, in config order.
    pub services: Vec<ServiceStatus>,
}

enum Command {
    Probe {
        service: String,
        result: ProbeResult,
        at: Timestamp,
    },
    StepFinished {
        incident: IncidentId,
        service: String,
        outcome: StepOutcome,
    },
    FailoverFinished {
        incident: IncidentId,
        ok: bool,
        failed_step: Option<String>,
    },
    Acknowledge {
        incident: IncidentId,
        by: String,
        reply: oneshot::Sender<Result<IncidentView, ApiRefusal>>,
    },
    Resolve {
        incident: IncidentId,
        reply: oneshot::Sender<Result<IncidentView, ApiRefusal>>,
    },
    RequestFailover {
        service: String,
        reply: oneshot::Sender<Result<IncidentId, ApiRefusal>>,
    },
    Declare {
        service: String,
        severity: Severity,
        report: String,
        reply: oneshot::Sender<Result<IncidentView, ApiRefusal>>,
    },
    TestAlert {
        reply: oneshot::Sender<Vec<&'static str>>,
    },
    Status {
        reply: oneshot::Sender<StatusView>,
    },
    Incidents {
        reply: oneshot::Sender<Vec<IncidentView>>,
    },
    Failovers {
        reply: oneshot::Sender<Vec<FailoverView>>,
    },
}

/// Why the engine refused an operator's request, in the API's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiRefusal {
    /// Nothing by that name or id exists.
    NotFound(String),
    /// It exists but the request does not fit its state.
    Conflict(String),
}

/// The engine has stopped (the monitor is shutting down).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the monitor is shutting down")]
pub struct EngineGone;

/// A cheap, cloneable way to reach the engine.
#[derive(Clone, Debug)]
pub struct EngineHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl EngineHandle {
    /// Reports a probe result; false once the engine is gone.
    pub fn probe_finished(&self, service: &str, result: ProbeResult, at: Timestamp) -> bool {
        self.tx.send(Command::Probe { service: service.to_owned(), result, at }).is_ok()
    }

    /// Reports one failover step's outcome.
    pub fn step_finished(&self, incident: IncidentId, service: &str, outcome: StepOutcome) {
        let _ = self.tx.send(Command::StepFinished { incident, service: service.to_owned(), outcome });
    }

    /// Reports the end of a failover run.
    pub fn failover_finished(&self, incident: IncidentId, ok: bool, failed_step: Option<String>) {
        let _ = self.tx.send(Command::FailoverFinished { incident, ok, failed_step });
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, EngineGone> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(make(reply)).map_err(|_| EngineGone)?;
        answer.await.map_err(|_| EngineGone)
    }

    /// Acknowledges an incident on behalf of `by`.
    pub async fn acknowledge(
        &self,
        incident: IncidentId,
        by: String,
    ) -> Result<Result<IncidentView, ApiRefusal>, EngineGone> {
        self.ask(|reply| Command::Acknowledge { incident, by, reply }).await
    }

    /// Resolves an incident on an operator's word.
    pub async fn resolve(
        &self,
        incident: IncidentId,
    ) -> Result<Result<IncidentView, ApiRefusal>, EngineGone> {
        self.ask(|reply| Command::Resolve { incident, reply }).await
    }

    /// Starts a failover of `service` on an operator's word.
    pub async fn request_failover(
        &self,
        service: String,
    ) -> Result<Result<IncidentId, ApiRefusal>, EngineGone> {
        self.ask(|reply| Command::RequestFailover { service, reply }).await
    }

    /// Declares an incident on `service` on a person's word (what probes cannot see).
    pub async fn declare(
        &self,
        service: String,
        severity: Severity,
        report: String,
    ) -> Result<Result<IncidentView, ApiRefusal>, EngineGone> {
        self.ask(|reply| Command::Declare { service, severity, report, reply }).await
    }

    /// Sends a SEV4 test alert; returns the channels it was queued on.
    pub async fn test_alert(&self) -> Result<Vec<&'static str>, EngineGone> {
        self.ask(|reply| Command::TestAlert { reply }).await
    }

    /// The status of every service.
    pub async fn status(&self) -> Result<StatusView, EngineGone> {
        self.ask(|reply| Command::Status { reply }).await
    }

    /// Every incident, newest first.
    pub async fn incidents(&self) -> Result<Vec<IncidentView>, EngineGone> {
        self.ask(|reply| Command::Incidents { reply }).await
    }

    /// Every failover run, newest first.
    pub async fn failovers(&self) -> Result<Vec<FailoverView>, EngineGone> {
        self.ask(|reply| Command::Failovers { reply }).await
    }
}

/// The engine task's state.
pub struct Engine<N, C, S> {
    decider: Decider,
    ledger: Ledger,
    store: S,
    clock: C,
    net: N,
    notifier: Notifier,
    metrics: Metrics,
    services: BTreeMap<String, ServiceConfig>,
    order: Vec<String>,
    last_probe: BTreeMap<String, ProbeView>,
    runbook_base: Option<String>,
    source: String,
    seq: u64,
    handle: EngineHandle,
    rx: mpsc::UnboundedReceiver<Command>,
}

impl<N: Net, C: Clock, S: IncidentStore> Engine<N, C, S> {
    /// Builds the engine and replays the store: open incidents come back with their severity,
    /// paging and failover progress, so nothing already paged is paged again. A failover that
    /// was running when the monitor stopped is recorded as failed (its steps may be half done)
    /// and raises the incident to SEV1 for a human to look at.
    pub fn restore(
        config: &MonitorConfig,
        mut store: S,
        clock: C,
        net: N,
        notifier: Notifier,
        metrics: Metrics,
    ) -> io::Result<Self> {
        let policies = config.services.iter().map(|s| (s.name.clone(), s.policy));
        let mut decider = Decider::new(policies, config.escalation.clone());
        let mut ledger = Ledger::default();
        let records = store.load()?;
        let mut seq = 0;
        for record in &records {
            decider.replay(&record.event, record.at);
            ledger.apply(record);
            seq = seq.max(record.seq);
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let mut engine = Self {
            decider,
            ledger,
            store,
            clock,
            net,
            notifier,
            metrics,
            services: config.services.iter().map(|s| (s.name.clone(), s.clone())).collect(),
            order: config.services.iter().map(|s| s.name.clone()).collect(),
            last_probe: BTreeMap::new(),
            runbook_base: config.alerts.runbook_base_url.clone(),
            source: config.alerts.source.clone(),
            seq,
            handle: EngineHandle { tx },
            rx,
        };
        if !records.is_empty() {
            tracing::info!(
                records = records.len(),
                open_incidents = engine.ledger.open_count(),
                "incident history restored"
            );
        }
        for incident in engine.decider.running_failovers() {
            let events = engine.decider.failover_finished(
                incident,
                false,
                Some("interrupted: the monitor restarted while the failover ran".to_owned()),
            );
            engine.emit_all(events);
        }
        engine.metrics.open_incidents.set(i64::try_from(engine.ledger.open_count()).unwrap_or(i64::MAX));
        Ok(engine)
    }

    /// A handle for probes, runners and the API.
    pub fn handle(&self) -> EngineHandle {
        self.handle.clone()
    }

    /// Serves commands and escalation deadlines until the task is dropped.
    pub async fn run(mut self) {
        loop {
            // Escalation deadlines are wall-clock instants; sleep on tokio time for the gap, so
            // the same wait is virtual in a simulation and real in production.
            let wait = match self.decider.next_deadline() {
                Some(deadline) => deadline.since(self.clock.now()),
                None => std::time::Duration::from_secs(3600),
            };
            tokio::select! {
                biased;
                command = self.rx.recv() => match command {
                    Some(command) => self.handle_command(command),
                    None => return,
                },
                () = tokio::time::sleep(wait) => {
                    let events = self.decider.tick(self.clock.now());
                    self.emit_all(events);
                }
            }
        }
    }

    fn handle_command(&mut self, command: Command) {
        match command {
            Command::Probe { service, result, at } => self.probe(service, result, at),
            Command::StepFinished { incident, service, outcome } => {
                self.emit(Event::FailoverStepFinished { incident, service, outcome });
            }
            Command::FailoverFinished { incident, ok, failed_step } => {
                let events = self.decider.failover_finished(incident, ok, failed_step.clone());
                if events.is_empty() {
                    // Resolved while the steps ran: the outcome still belongs in the record.
                    if let Some(service) = self.ledger.incident(incident).map(|i| i.service.clone()) {
                        self.emit(Event::FailoverFinished { incident, service, ok, failed_step });
                    }
                }
                self.emit_all(events);
            }
            Command::Acknowledge { incident, by, reply } => {
                let result = self.decider.acknowledge(incident, &by).map_err(|r| self.explain(r));
                let _ = reply.send(result.map(|events| {
                    self.emit_all(events);
                    self.incident_view(incident)
                }));
            }
            Command::Resolve { incident, reply } => {
                let result = self.decider.resolve(incident).map_err(|r| self.explain(r));
                let _ = reply.send(result.map(|events| {
                    self.emit_all(events);
                    self.incident_view(incident)
                }));
            }
            Command::RequestFailover { service, reply } => {
                let result = self.decider.request_failover(&service).map_err(|r| self.explain(r));
                let _ = reply.send(result.map(|events| {
                    let incident = events.iter().find_map(Event::incident).unwrap_or(IncidentId(0));
                    self.emit_all(events);
                    incident
                }));
            }
            Command::Declare { service, severity, report, reply } => {
                let now = self.clock.now();
                let result =
                    self.decider.declare(&service, severity, &report, now).map_err(|r| self.explain(r));
                let _ = reply.send(result.map(|events| {
                    let incident = events.iter().find_map(Event::incident).unwrap_or(IncidentId(0));
                    self.emit_all(events);
                    self.incident_view(incident)
                }));
            }
            Command::TestAlert { reply } => {
                let notice = Notice {
                    at: self.clock.now(),
                    subject: Subject::Test,
                    severity: Severity::Sev4,
                    region: None,
                    runbook: None,
                    source: self.source.clone(),
                };
                self.notifier.send(&notice);
                let _ = reply.send(self.notifier.channels());
            }
            Command::Status { reply } => {
                let _ = reply.send(self.status());
            }
            Command::Incidents { reply } => {
                let _ = reply.send(self.ledger.incidents().cloned().collect());
            }
            Command::Failovers { reply } => {
                let _ = reply.send(self.ledger.failovers().cloned().collect());
            }
        }
    }

    fn probe(&mut self, service: String, result: ProbeResult, at: Timestamp) {
        let ok = result.outcome.is_ok();
        if !ok {
            tracing::warn!(service, outcome = ?result.outcome, latency_ms = duration_millis(result.latency), "probe failed");
        }
        let view = ProbeView { at, outcome: result.outcome, latency_ms: duration_millis(result.latency) };
        self.last_probe.insert(service.clone(), view);
        match self.decider.observe(&service, ok, self.clock.now()) {
            Ok(events) => self.emit_all(events),
            Err(refusal) => tracing::error!(%refusal, "probe result for an unconfigured service"),
        }
        if let Some(state) = self.decider.service(&service) {
            let failures = i64::from(state.streak.failures);
            self.metrics.consecutive_failures.get_or_create(&ServiceLabel { service }).set(failures);
        }
    }

    fn explain(&self, refusal: Refusal) -> ApiRefusal {
        match refusal {
            Refusal::UnknownService(_) => ApiRefusal::NotFound(refusal.to_string()),
            Refusal::NoOpenIncident(id) => match self.ledger.incident(id) {
                Some(_) => ApiRefusal::Conflict(format!("{id} is already resolved")),
                None => ApiRefusal::NotFound(format!("no incident {id}")),
            },
            Refusal::NothingToFailOver(_)
            | Refusal::FailoverNotConfigured(_)
            | Refusal::FailoverAlreadyDone(..)
            | Refusal::AlreadyOpen(..) => ApiRefusal::Conflict(refusal.to_string()),
        }
    }

    fn incident_view(&self, id: IncidentId) -> IncidentView {
        self.ledger.incident(id).cloned().expect("an incident the core knows is in the ledger")
    }

    fn emit_all(&mut self, events: Vec<Event>) {
        for event in events {
            self.emit(event);
        }
    }

    /// Records one event and lets everyone who cares know.
    fn emit(&mut self, event: Event) {
        self.seq += 1;
        let record = Record { seq: self.seq, at: self.clock.now(), event };
        if let Err(e) = self.store.append(&record) {
            // Keep monitoring: the event is still in memory, in the log line below and in
            // the alert; losing the disk must not also lose the page.
            tracing::error!(error = %e, seq = record.seq, "could not persist an incident record");
        }
        self.ledger.apply(&record);
        let incident = record.event.incident().and_then(|id| self.ledger.incident(id));
        let severity = incident.map_or(Severity::Sev4, |i| i.severity);
        log_event(&record, severity);
        self.count(&record.event, severity);

        let service = self.services.get(record.event.service());
        let notice = Notice {
            at: record.at,
            severity,
            region: service.and_then(|s| s.region.clone()),
            runbook: service.and_then(|s| self.runbook(s)),
            source: self.source.clone(),
            subject: Subject::Event(record.event.clone()),
        };
        self.notifier.send(&notice);

        if let Event::FailoverStarted { incident, service, .. } = &record.event {
            let steps = self.services.get(service).map(|s| s.failover_steps.clone()).unwrap_or_default();
            tokio::spawn(run_failover(self.net.clone(), *incident, service.clone(), steps, self.handle()));
        }
    }

    fn count(&self, event: &Event, severity: Severity) {
        match event {
            Event::IncidentOpened { service, .. } | Event::SeverityRaised { service, .. } => {
                let labels = AlertLabels { service: service.clone(), severity: severity.to_string() };
                self.metrics.alerts.get_or_create(&labels).inc();
            }
            Event::FailoverFinished { service, ok, .. } => {
                let result = if *ok { "succeeded" } else { "failed" };
                let labels = FailoverLabels { service: service.clone(), result: result.to_owned() };
                self.metrics.failovers.get_or_create(&labels).inc();
            }
            _ => {}
        }
        self.metrics.open_incidents.set(i64::try_from(self.ledger.open_count()).unwrap_or(i64::MAX));
    }

    fn runbook(&self, service: &ServiceConfig) -> Option<String> {
        service
            .runbook
            .clone()
            .or_else(|| self.runbook_base.as_ref().map(|base| format!("{base}/{}", service.name)))
    }

    fn status(&self) -> StatusView {
        let services: Vec<ServiceStatus> = self
            .order
            .iter()
            .filter_map(|name| {
                let config = self.services.get(name)?;
                let state = self.decider.service(name)?;
                Some(ServiceStatus {
                    name: name.clone(),
                    region: config.region.clone(),
                    url: config.url.to_string(),
                    health: state.health(),
                    consecutive_failures: state.streak.failures,
                    consecutive_successes: state.streak.successes,
                    last_probe: self.last_probe.get(name).cloned(),
                    incident: state.incident.as_ref().map(|i| i.id),
                    severity: state.incident.as_ref().map(|i| i.severity),
                    failover: match state.policy.failover {
                        FailoverMode::Automatic => "automatic",
                        FailoverMode::Manual => "manual",
                        FailoverMode::Disabled => "disabled",
                    },
                })
            })
            .collect();
        let status = if services.iter().any(|s| s.health == Health::Unhealthy) {
            "incident"
        } else if services.iter().any(|s| s.health == Health::Degraded) {
            "degraded"
        } else {
            "ok"
        };
        StatusView { status, open_incidents: self.ledger.open_count(), services }
    }
}

fn log_event(record: &Record, severity: Severity) {
    let event = serde_json::to_string(&record.event).unwrap_or_default();
    let service = record.event.service();
    match &record.event {
        Event::HealthChanged { .. } | Event::FailoverStepFinished { .. } => {
            tracing::info!(seq = record.seq, service, event, "incident event");
        }
        _ => tracing::warn!(seq = record.seq, service, %severity, event, "incident event"),
    }
}
