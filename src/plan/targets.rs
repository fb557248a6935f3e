//! Each duration target against its phase's bound.

use std::time::Duration;

use serde::Serialize;

use crate::measure::ms;
use crate::scenario::Scenario;

use super::{PhaseBound, PhaseName};

/// What the bound says about a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Even the best case misses it (or the phase cannot happen at all, which the measurement
    /// counts as missed).
    Impossible,
    /// The best case meets it; the worst case misses it or is unbounded.
    AtRisk,
    /// The worst case meets it.
    Holds,
}

impl Verdict {
    /// The words of the human report.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Impossible => "impossible",
            Verdict::AtRisk => "at risk",
            Verdict::Holds => "holds",
        }
    }
}

/// One target and its verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TargetCheck {
    /// The phase (also the `[targets]` key).
    pub target: PhaseName,
    /// The target's value.
    #[serde(rename = "target_ms", serialize_with = "ms::ms")]
    pub value: Duration,
    /// What the bound says.
    pub verdict: Verdict,
}

/// Checks every duration target present in `scenario` against `phases`.
pub(crate) fn check(scenario: &Scenario, phases: &[PhaseBound]) -> Vec<TargetCheck> {
    let t = &scenario.targets;
    let present = [
        (PhaseName::Detect, t.detect),
        (PhaseName::Page, t.page),
        (PhaseName::Acknowledge, t.acknowledge),
        (PhaseName::Mitigate, t.mitigate),
        (PhaseName::Recover, t.recover),
        (PhaseName::Rto, t.rto),
        (PhaseName::Rpo, t.rpo),
    ];
    present
        .into_iter()
        .filter_map(|(name, value)| {
            let value = value?;
            let bound = phases.iter().find(|p| p.phase == name)?.bound.as_ref();
            // Recover is judged only when the failover happened: its not happening is "not
            // applicable" to the measurement, never a miss.
            let verdict = match bound {
                None if name == PhaseName::Recover => Verdict::Holds,
                None => Verdict::Impossible,
                Some(b) if b.best > value => Verdict::Impossible,
                Some(b) if b.worst.is_some_and(|w| w <= value) => Verdict::Holds,
                Some(_) => Verdict::AtRisk,
            };
            Some(TargetCheck { target: name, value, verdict })
        })
        .collect()
}
