//! The arithmetic of streaks and messages: when the k-th failed probe (or DNS health check) of
//! a run of failures can be seen at the earliest and at the latest, and how long a message or
//! an HTTP exchange can take on the simulated network.

use std::time::Duration;

use crate::scenario::{FaultKind, Scenario};

/// How long the simulated network can take, at most, for one message and for one exchange.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Network {
    /// The simulation tick: every hop and every timer is rounded up to it.
    pub tick: Duration,
    /// One message, one way: the largest one-way latency the scenario can set (its
    /// `[[latency]]` plus the largest `latency` fault), plus a tick.
    pub hop: Duration,
    /// One HTTP request over a fresh connection, from the first byte sent to the answer
    /// received: the handshake and the request, each a round trip, and a few ticks of slack
    /// for the tasks on both ends.
    pub exchange: Duration,
}

impl Network {
    /// The network of `scenario`.
    pub fn of(scenario: &Scenario) -> Network {
        let base = scenario.latency.iter().map(|l| l.one_way).max().unwrap_or_default();
        let extra = scenario
            .faults
            .iter()
            .filter_map(|f| match f.kind {
                FaultKind::Latency { one_way, .. } => Some(one_way),
                _ => None,
            })
            .max()
            .unwrap_or_default();
        let tick = scenario.tick;
        let hop = base + extra + tick;
        Network { tick, hop, exchange: hop * 8 }
    }
}

/// A loop that sends one request every `interval`, each with `deadline`, and acts on the
/// `k`-th failure in a row.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Streak {
    /// Time between the starts of two requests.
    pub interval: Duration,
    /// A request's deadline (never above `interval`).
    pub deadline: Duration,
    /// Failures in a row that act.
    pub k: u32,
}

impl Streak {
    /// The earliest the k-th failure can be seen after the fault starts.
    ///
    /// The first failure can be a request that was already under way when the fault began
    /// (started up to a deadline and a tick earlier); the next ones start at least an interval
    /// less a tick apart (a late tick fires at once, the one after it on schedule).
    pub fn earliest(&self, tick: Duration) -> Duration {
        let spacing = self.interval.saturating_sub(tick);
        (spacing * self.k.saturating_sub(1)).saturating_sub(self.deadline + tick)
    }

    /// The latest the k-th failure is seen after a fault that fails every request starts.
    ///
    /// The request under way when the fault begins may still succeed; then k requests fail,
    /// each starting at most an interval and a tick after the last, the k-th one reported at
    /// its deadline (a tick late at worst).
    pub fn latest(&self, tick: Duration) -> Duration {
        (self.interval + tick) * self.k + self.deadline + tick
    }
}
