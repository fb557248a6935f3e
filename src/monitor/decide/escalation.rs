//! Paging one incident through the escalation chain.

use crate::monitor::decide::policy::EscalationLevel;
use crate::time::Timestamp;

/// Where an incident's escalation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscalationState {
    /// Waiting for the level paged last to acknowledge.
    Waiting,
    /// Someone acknowledged; no more pages.
    Acknowledged,
    /// The last level's timeout passed with no acknowledgement.
    Exhausted,
}

/// The paging progress of one incident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Escalation {
    /// 0-based index of the level paged last.
    pub level: usize,
    /// When that level was paged.
    pub paged_at: Timestamp,
    /// Whether more pages may follow.
    pub state: EscalationState,
}

/// What a poll of the escalation found due.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscalationStep {
    /// Page this 0-based level now.
    Page(usize),
    /// Nobody acknowledged and the chain is at its end.
    Exhausted,
}

impl Escalation {
    /// Starts paging at the first level. `None` when the chain is empty.
    pub fn start(levels: &[EscalationLevel], now: Timestamp) -> Option<Self> {
        (!levels.is_empty()).then_some(Self { level: 0, paged_at: now, state: EscalationState::Waiting })
    }

    /// When the level paged last runs out of time, while waiting for an acknowledgement.
    pub fn deadline(&self, levels: &[EscalationLevel]) -> Option<Timestamp> {
        match self.state {
            EscalationState::Waiting => levels.get(self.level).map(|l| self.paged_at.after(l.ack_timeout)),
            EscalationState::Acknowledged | EscalationState::Exhausted => None,
        }
    }

    /// Advances at most one level if the current level's timeout has passed by `now`.
    ///
    /// The next level gets its full `ack_timeout` from `now`, the moment it is actually paged,
    /// even when the poll comes late (after a monitor restart, say).
    pub fn poll(&mut self, levels: &[EscalationLevel], now: Timestamp) -> Option<EscalationStep> {
        let deadline = self.deadline(levels)?;
        if now < deadline {
            return None;
        }
        if self.level + 1 < levels.len() {
            self.level += 1;
            self.paged_at = now;
            Some(EscalationStep::Page(self.level))
        } else {
            self.state = EscalationState::Exhausted;
            Some(EscalationStep::Exhausted)
        }
    }

    /// Stops further pages.
    pub fn acknowledge(&mut self) {
        self.state = EscalationState::Acknowledged;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn chain() -> Vec<EscalationLevel> {
        vec![
            EscalationLevel { notify: "primary".into(), ack_timeout: Duration::from_secs(300) },
            EscalationLevel { notify: "secondary".into(), ack_timeout: Duration::from_secs(600) },
        ]
    }

    fn at(secs: u64) -> Timestamp {
        Timestamp::from_millis(secs * 1000)
    }

    #[test]
    fn pages_the_next_level_only_after_the_timeout_then_exhausts() {
        let levels = chain();
        let mut e = Escalation::start(&levels, at(0)).unwrap();
        assert_eq!(e.poll(&levels, at(299)), None);
        assert_eq!(e.poll(&levels, at(300)), Some(EscalationStep::Page(1)));
        assert_eq!(e.deadline(&levels), Some(at(900)));
        assert_eq!(e.poll(&levels, at(899)), None);
        assert_eq!(e.poll(&levels, at(900)), Some(EscalationStep::Exhausted));
        assert_eq!(e.poll(&levels, at(5000)), None);
    }

    #[test]
    fn an_acknowledgement_stops_paging() {
        let levels = chain();
        let mut e = Escalation::start(&levels, at(0)).unwrap();
        e.acknowledge();
        assert_eq!(e.deadline(&levels), None);
        assert_eq!(e.poll(&levels, at(10_000)), None);
    }

    #[test]
    fn an_empty_chain_pages_nobody() {
        assert_eq!(Escalation::start(&[], at(0)), None);
    }
}
