//! A bound on one phase: the best case and the worst case, the worst possibly unbounded.

use std::time::Duration;

use serde::Serialize;

use crate::measure::ms;

/// `best..=worst` for one phase, relative to the phase's own start.
///
/// A bound is conditional: if the phase happens in the simulation, its length lies within it.
/// `worst = None` means no finite worst case can be promised (a responder who never
/// acknowledges, a fault that can break the monitor, a chance draw).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Bound {
    /// The shortest the phase can take.
    #[serde(rename = "best_ms", serialize_with = "ms::ms")]
    pub best: Duration,
    /// The longest it can take; `None` when unbounded.
    #[serde(rename = "worst_ms", serialize_with = "ms::opt_ms")]
    pub worst: Option<Duration>,
}

impl Bound {
    /// Whether `measured` lies within `best..=worst`.
    pub fn contains(&self, measured: Duration) -> bool {
        measured >= self.best && self.worst.is_none_or(|w| measured <= w)
    }
}

/// An interval of absolute instants (simulated time since the start of the run) at which an
/// event can happen: `lo` at the earliest, `hi` at the latest (`None`: no latest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    pub lo: Duration,
    pub hi: Option<Duration>,
}

impl Window {
    /// Shifts both ends later by `best` and `worst` respectively.
    pub fn then(self, best: Duration, worst: Option<Duration>) -> Window {
        Window { lo: self.lo + best, hi: self.hi.zip(worst).map(|(h, w)| h + w) }
    }

    /// Whichever of two alternatives comes first: the earliest of the earliest, and the
    /// earliest promise of the latest.
    pub fn first_of(self, other: Window) -> Window {
        Window { lo: self.lo.min(other.lo), hi: min_opt(self.hi, other.hi) }
    }

    /// Both must have happened: the later of each end.
    pub fn both(self, other: Window) -> Window {
        Window { lo: self.lo.max(other.lo), hi: self.hi.zip(other.hi).map(|(a, b)| a.max(b)) }
    }

    /// Forgets the latest end.
    pub fn unbounded(self) -> Window {
        Window { lo: self.lo, hi: None }
    }

    /// The phase from the instant `from` to this event.
    pub fn since(self, from: Duration) -> Bound {
        Bound {
            best: self.lo.saturating_sub(from),
            // An upper end before `from` means the event cannot come after it: the phase, if it
            // happens, is then measured from a later occurrence we cannot bound.
            worst: self.hi.filter(|&h| h >= from).map(|h| h - from),
        }
    }
}

/// The earliest of two promises of a latest instant, where `None` promises nothing.
pub(crate) fn min_opt(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The earliest of several alternatives (`None` when there are none).
pub(crate) fn earliest(windows: impl IntoIterator<Item = Window>) -> Option<Window> {
    windows.into_iter().reduce(Window::first_of)
}
