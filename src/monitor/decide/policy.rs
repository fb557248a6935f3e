//! The validated numbers the decision core works from.

use std::time::Duration;

use crate::monitor::event::Severity;

/// Whether failover runs on its own, waits for an operator, or is not configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailoverMode {
    /// Start the steps when consecutive failures reach `failover_after`.
    Automatic,
    /// At `failover_after`, raise SEV1 and wait for `POST /api/failover/{service}`.
    Manual,
    /// The service has no failover steps.
    Disabled,
}

/// Thresholds for one service. Invariant (checked by config validation):
/// `1 <= alert_after <= failover_after` and `recover_after >= 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServicePolicy {
    /// Consecutive failures that open an incident (SEV3).
    pub alert_after: u32,
    /// Consecutive failures that raise SEV1 and decide failover.
    pub failover_after: u32,
    /// Consecutive successes that resolve an open incident.
    pub recover_after: u32,
    /// What happens at `failover_after`.
    pub failover: FailoverMode,
}

impl ServicePolicy {
    /// The severity that `consecutive_failures` in a row call for, if any.
    ///
    /// SEV3 at `alert_after`, SEV2 at twice `alert_after`, SEV1 at `failover_after`; when two
    /// thresholds coincide the worse one wins.
    pub fn severity_for(&self, consecutive_failures: u32) -> Option<Severity> {
        if consecutive_failures >= self.failover_after {
            Some(Severity::Sev1)
        } else if consecutive_failures >= self.alert_after.saturating_mul(2) {
            Some(Severity::Sev2)
        } else if consecutive_failures >= self.alert_after {
            Some(Severity::Sev3)
        } else {
            None
        }
    }
}

/// One step of the escalation chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EscalationLevel {
    /// Who is paged at this level (a responder or rota name).
    pub notify: String,
    /// How long this level has to acknowledge before the next one is paged.
    pub ack_timeout: Duration,
}
