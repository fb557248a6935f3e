//! What a notification is about, with the context the payload builders need.

use crate::monitor::event::{Event, Severity};
use crate::time::Timestamp;

/// What is being announced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// An event of the incident stream.
    Event(Event),
    /// `POST /api/webhook/test`: a SEV4 test alert that opens no incident.
    Test,
}

/// One notification: an event plus what the alert needs to say about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// When it happened.
    pub at: Timestamp,
    /// What happened.
    pub subject: Subject,
    /// The incident's severity right after the event (SEV4 for tests).
    pub severity: Severity,
    /// The service's region, when configured.
    pub region: Option<String>,
    /// Runbook link, when one is known.
    pub runbook: Option<String>,
    /// The monitor's name for itself.
    pub source: String,
}

impl Notice {
    /// The service this notice concerns (the monitor itself for tests).
    pub fn service(&self) -> &str {
        match &self.subject {
            Subject::Event(e) => e.service(),
            Subject::Test => &self.source,
        }
    }
}
