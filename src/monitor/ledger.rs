//! Incident and failover histories, folded from the event stream for the status API.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::monitor::event::{Event, IncidentId, Record, Resolution, Severity, StepOutcome, Trigger};
use crate::time::Timestamp;

/// A page sent to an escalation level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PageView {
    /// 1-based level.
    pub level: u32,
    /// Who was paged.
    pub notify: String,
    /// When.
    pub at: Timestamp,
}

/// One incident as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IncidentView {
    /// Its id (numeric; `INC-<id>` in messages).
    pub id: IncidentId,
    /// The failing service.
    pub service: String,
    /// `open`, `acknowledged` or `resolved`.
    pub status: &'static str,
    /// Current (or final) severity.
    pub severity: Severity,
    /// When the alert fired.
    pub opened_at: Timestamp,
    /// Who acknowledged, when someone did.
    pub acknowledged_by: Option<String>,
    /// When it was acknowledged.
    pub acknowledged_at: Option<Timestamp>,
    /// When it ended.
    pub resolved_at: Option<Timestamp>,
    /// How it ended.
    pub resolution: Option<Resolution>,
    /// Pages sent, in order.
    pub pages: Vec<PageView>,
    /// Whether every escalation level timed out unacknowledged.
    pub escalation_exhausted: bool,
}

/// One failover run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FailoverView {
    /// The incident it belongs to.
    pub incident: IncidentId,
    /// The service failed over.
    pub service: String,
    /// What started it.
    pub trigger: Trigger,
    /// When it started.
    pub started_at: Timestamp,
    /// `running`, `succeeded` or `failed`.
    pub status: &'static str,
    /// When it finished.
    pub finished_at: Option<Timestamp>,
    /// The step that failed, when one did.
    pub failed_step: Option<String>,
    /// Each step's outcome, in order.
    pub steps: Vec<StepOutcome>,
}

/// Every incident and failover seen in the stream.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    incidents: BTreeMap<IncidentId, IncidentView>,
    failovers: Vec<FailoverView>,
}

impl Ledger {
    /// Folds one record in.
    pub fn apply(&mut self, record: &Record) {
        let at = record.at;
        match &record.event {
            Event::IncidentOpened { incident, service, severity, .. } => {
                self.incidents.insert(
                    *incident,
                    IncidentView {
                        id: *incident,
                        service: service.clone(),
                        status: "open",
                        severity: *severity,
                        opened_at: at,
                        acknowledged_by: None,
                        acknowledged_at: None,
                        resolved_at: None,
                        resolution: None,
                        pages: Vec::new(),
                        escalation_exhausted: false,
                    },
                );
            }
            Event::SeverityRaised { incident, to, .. } => {
                self.with_incident(*incident, |i| i.severity = i.severity.max(*to))
            }
            Event::Paged { incident, level, notify, .. } => self.with_incident(*incident, |i| {
                i.pages.push(PageView { level: *level, notify: notify.clone(), at });
            }),
            Event::EscalationExhausted { incident, .. } => {
                self.with_incident(*incident, |i| i.escalation_exhausted = true)
            }
            Event::Acknowledged { incident, by, .. } => self.with_incident(*incident, |i| {
                i.status = "acknowledged";
                i.acknowledged_by = Some(by.clone());
                i.acknowledged_at = Some(at);
            }),
            Event::Resolved { incident, resolution, .. } => self.with_incident(*incident, |i| {
                i.status = "resolved";
                i.resolved_at = Some(at);
                i.resolution = Some(*resolution);
            }),
            Event::FailoverStarted { incident, service, trigger } => self.failovers.push(FailoverView {
                incident: *incident,
                service: service.clone(),
                trigger: *trigger,
                started_at: at,
                status: "running",
                finished_at: None,
                failed_step: None,
                steps: Vec::new(),
            }),
            Event::FailoverStepFinished { incident, outcome, .. } => {
                if let Some(f) = self.running_failover(*incident) {
                    f.steps.push(outcome.clone());
                }
            }
            Event::FailoverFinished { incident, ok, failed_step, .. } => {
                if let Some(f) = self.running_failover(*incident) {
                    f.status = if *ok { "succeeded" } else { "failed" };
                    f.finished_at = Some(at);
                    f.failed_step.clone_from(failed_step);
                }
            }
            Event::HealthChanged { .. } | Event::FailoverAwaitingDecision { .. } => {}
        }
    }

    /// One incident.
    pub fn incident(&self, id: IncidentId) -> Option<&IncidentView> {
        self.incidents.get(&id)
    }

    /// Every incident, newest first.
    pub fn incidents(&self) -> impl Iterator<Item = &IncidentView> {
        self.incidents.values().rev()
    }

    /// How many incidents are not resolved.
    pub fn open_count(&self) -> usize {
        self.incidents.values().filter(|i| i.resolved_at.is_none()).count()
    }

    /// Every failover run, newest first.
    pub fn failovers(&self) -> impl Iterator<Item = &FailoverView> {
        self.failovers.iter().rev()
    }

    fn with_incident(&mut self, id: IncidentId, f: impl FnOnce(&mut IncidentView)) {
        if let Some(i) = self.incidents.get_mut(&id) {
            f(i);
        }
    }

    fn running_failover(&mut self, incident: IncidentId) -> Option<&mut FailoverView> {
        self.failovers.iter_mut().rev().find(|f| f.incident == incident && f.finished_at.is_none())
    }
}
