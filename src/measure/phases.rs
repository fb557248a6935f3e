//! The phases of the response (DESIGN.md section 4) and how the RTO splits between them.

use std::time::Duration;

use serde::Serialize;

use super::ms;
use super::restore::Restoration;
use super::{WorldEvent, WorldEventKind};

/// Whether a phase could be measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    /// Both ends happened: `duration` is set.
    Measured,
    /// The phase started (or should have) but its end never happened: unbounded.
    Never,
    /// The phase does not apply to this run (no fault, or restoration came another way).
    NotApplicable,
}

/// One phase of the response: from one instant to another, both simulated time since start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Phase {
    /// Measured, never ended, or not applicable.
    pub status: PhaseStatus,
    /// When the phase started, when known.
    #[serde(rename = "from_ms", serialize_with = "ms::opt_ms")]
    pub from: Option<Duration>,
    /// When the phase ended, when it did.
    #[serde(rename = "to_ms", serialize_with = "ms::opt_ms")]
    pub to: Option<Duration>,
    /// `to - from`, when measured.
    #[serde(rename = "duration_ms", serialize_with = "ms::opt_ms")]
    pub duration: Option<Duration>,
    /// Why the phase is unbounded or not applicable, or a remark on a measured one.
    pub note: Option<String>,
}

impl Phase {
    fn measured(from: Duration, to: Duration) -> Phase {
        Phase {
            status: PhaseStatus::Measured,
            from: Some(from),
            to: Some(to),
            duration: Some(to.saturating_sub(from)),
            note: None,
        }
    }

    fn never(from: Option<Duration>, why: impl Into<String>) -> Phase {
        Phase { status: PhaseStatus::Never, from, to: None, duration: None, note: Some(why.into()) }
    }

    fn not_applicable(why: impl Into<String>) -> Phase {
        Phase {
            status: PhaseStatus::NotApplicable,
            from: None,
            to: None,
            duration: None,
            note: Some(why.into()),
        }
    }
}

/// The five phases, each reported and each assertable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Phases {
    /// `t_fault` to the first alert received by the pager.
    pub detect: Phase,
    /// `t_fault` to the first page received by the pager.
    pub page: Phase,
    /// First page to the first acknowledgement accepted by the monitor.
    pub acknowledge: Phase,
    /// `t_fault` to the failover's final effect.
    pub mitigate: Phase,
    /// Failover completed to customers restored.
    pub recover: Phase,
}

/// The first event of `kind` at or after `from` (the earliest; the first recorded among ties).
pub(crate) fn first_event(events: &[WorldEvent], kind: WorldEventKind, from: Duration) -> Option<Duration> {
    events.iter().filter(|e| e.kind == kind && e.at >= from).map(|e| e.at).min()
}

/// Measures the phases from the world's events. Events before `t_fault` are ignored.
pub(crate) fn phases(events: &[WorldEvent], t_fault: Option<Duration>, restoration: Restoration) -> Phases {
    let Some(t0) = t_fault else {
        let na = || Phase::not_applicable("no fault was injected and no incident_start was set");
        return Phases { detect: na(), page: na(), acknowledge: na(), mitigate: na(), recover: na() };
    };
    let alert = first_event(events, WorldEventKind::AlertReceived, t0);
    let page = first_event(events, WorldEventKind::PageReceived, t0);
    let completed = first_event(events, WorldEventKind::FailoverCompleted, t0);

    let detect = match alert {
        Some(at) => Phase::measured(t0, at),
        None => Phase::never(Some(t0), "no alert reached the pager after the fault"),
    };
    let page_phase = match page {
        Some(at) => Phase::measured(t0, at),
        None => Phase::never(Some(t0), "no page reached the pager after the fault"),
    };
    let acknowledge = match page {
        None => Phase::never(None, "no page was received, so nothing was acknowledged"),
        Some(paged) => match first_event(events, WorldEventKind::Acknowledged, paged) {
            Some(at) => Phase::measured(paged, at),
            None => Phase::never(Some(paged), "no responder acknowledged the page"),
        },
    };
    let mitigate = match completed {
        Some(at) => Phase::measured(t0, at),
        None => Phase::never(Some(t0), "no failover completed after the fault"),
    };
    let recover = match (restoration, completed) {
        (Restoration::NoFault, _) => Phase::not_applicable("no fault was injected"),
        (Restoration::NoOutage, _) => {
            Phase::not_applicable("customers saw no failed request after the fault")
        }
        (Restoration::NeverRestored, Some(done)) => Phase::never(Some(done), "customers were never restored"),
        (Restoration::NeverRestored, None) => {
            Phase::never(None, "no failover completed and customers were never restored")
        }
        (Restoration::Restored { at }, Some(done)) if at >= done => Phase::measured(done, at),
        (Restoration::Restored { at }, Some(done)) => Phase::not_applicable(format!(
            "customers were restored at {}, before the failover completed at {}",
            crate::report::format_clock(at),
            crate::report::format_clock(done)
        )),
        (Restoration::Restored { at }, None) => Phase::not_applicable(format!(
            "customers were restored at {} without a completed failover",
            crate::report::format_clock(at)
        )),
    };
    Phases { detect, page: page_phase, acknowledge, mitigate, recover }
}

/// A consecutive slice of the RTO along the critical path, for "where did the time go".
///
/// Unlike the five contract [`Phases`] (which overlap and are each assertable), the segments
/// tile `[t_fault, t_restored]`: each ends at the milestone customers actually waited for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RtoSegment {
    /// `t_fault` to the first alert.
    Detect,
    /// First alert to the runbook's first action in the world (the first
    /// [`WorldEventKind::RunbookStarted`]): automatic thresholds, or humans acknowledging and
    /// deciding.
    Respond,
    /// The runbook's first action to the failover's final effect.
    Mitigate,
    /// To customers restored.
    Recover,
}

impl RtoSegment {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            RtoSegment::Detect => "detect",
            RtoSegment::Respond => "respond",
            RtoSegment::Mitigate => "mitigate",
            RtoSegment::Recover => "recover",
        }
    }

    /// What the segment covers, for people.
    pub fn describe(self) -> &'static str {
        match self {
            RtoSegment::Detect => "detection (fault to first alert)",
            RtoSegment::Respond => {
                "response (first alert to the runbook's first action: thresholds or humans)"
            }
            RtoSegment::Mitigate => "mitigation (the runbook's first action to failover completed)",
            RtoSegment::Recover => "recovery (to customers restored)",
        }
    }
}

/// One segment's share of the RTO.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RtoShare {
    /// Which segment.
    pub segment: RtoSegment,
    /// Its length.
    #[serde(rename = "duration_ms", serialize_with = "ms::ms")]
    pub duration: Duration,
    /// Its fraction of the RTO, 0..=1.
    pub share: f64,
}

/// Splits `[t_fault, t_restored]` into consecutive segments at the first alert, the runbook's
/// first action (the first [`WorldEventKind::RunbookStarted`] at or after `t_fault`) and the
/// failover's completion.
///
/// A milestone counts only when it lies on the critical path: present, not before `t_fault`, and
/// not after any later milestone or `t_restored` (an alert that came after an automatic DNS
/// switch had already started the runbook was not waited for). A dropped milestone's segment is
/// zero and its time goes to the next kept one. Acknowledgements are not milestones: with an
/// automatic failover, an ack that arrives while the runbook runs is not what customers waited
/// for; with a manual one, the human's time is inside `Respond`. Empty unless customers were
/// restored after `t_fault`.
pub(crate) fn rto_breakdown(
    events: &[WorldEvent],
    t_fault: Option<Duration>,
    restoration: Restoration,
    phases: &Phases,
) -> Vec<RtoShare> {
    let (Some(t0), Some(restored)) = (t_fault, restoration.at()) else {
        return Vec::new();
    };
    let rto = restored.saturating_sub(t0);
    if rto.is_zero() {
        return Vec::new();
    }
    // A failover that was under way but completed just after the success ratio crossed the
    // threshold (the last standby instances came up) ends its segment at the restoration
    // rather than vanishing from the split. One that had not even started is off the path.
    let runbook = first_event(events, WorldEventKind::RunbookStarted, t0);
    let completed = match (runbook, phases.mitigate.to) {
        (Some(start), Some(done)) if start <= restored => Some(done.min(restored)),
        (_, done) => done,
    };
    let milestones = [
        (RtoSegment::Detect, phases.detect.to),
        (RtoSegment::Respond, runbook),
        (RtoSegment::Mitigate, completed),
        (RtoSegment::Recover, Some(restored)),
    ];
    let mut shares = Vec::with_capacity(milestones.len());
    let mut prev = t0;
    for (i, &(segment, at)) in milestones.iter().enumerate() {
        let kept = at.filter(|&at| {
            at >= prev && milestones[i + 1..].iter().all(|&(_, later)| later.is_none_or(|l| at <= l))
        });
        let duration = match kept {
            Some(at) => {
                let d = at - prev;
                prev = at;
                d
            }
            None => Duration::ZERO,
        };
        shares.push(RtoShare { segment, duration, share: duration.as_secs_f64() / rto.as_secs_f64() });
    }
    shares
}

/// The segment that took the largest share of the RTO (the earliest on ties).
pub(crate) fn dominant(shares: &[RtoShare]) -> Option<RtoSegment> {
    let mut best: Option<&RtoShare> = None;
    for s in shares {
        if best.is_none_or(|b| s.duration > b.duration) {
            best = Some(s);
        }
    }
    best.filter(|b| !b.duration.is_zero()).map(|b| b.segment)
}
