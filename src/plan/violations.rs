//! A measured run against the plan: every measured phase must lie within its bound. One that
//! does not is a bug in the plan or in the simulation.

use std::time::Duration;

use serde::Serialize;

use crate::measure::{Measurement, PhaseStatus, ms};

use super::{PhaseName, Plan};

/// A measured phase outside the plan's bound.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The phase.
    pub phase: PhaseName,
    /// What the run measured.
    #[serde(rename = "measured_ms", serialize_with = "ms::ms")]
    pub measured: Duration,
    /// The plan's best case (`None`: the plan expected the phase not to happen).
    #[serde(rename = "best_ms", serialize_with = "ms::opt_ms")]
    pub best: Option<Duration>,
    /// The plan's worst case (`None`: unbounded, or not expected).
    #[serde(rename = "worst_ms", serialize_with = "ms::opt_ms")]
    pub worst: Option<Duration>,
}

/// The measured phases of `m` that lie outside `plan`'s bounds (empty when all fit).
pub fn violations(plan: &Plan, m: &Measurement) -> Vec<Violation> {
    let measured = |p: &crate::measure::Phase| match p.status {
        PhaseStatus::Measured => p.duration,
        PhaseStatus::Never | PhaseStatus::NotApplicable => None,
    };
    let values = [
        (PhaseName::Detect, measured(&m.phases.detect)),
        (PhaseName::Page, measured(&m.phases.page)),
        (PhaseName::Acknowledge, measured(&m.phases.acknowledge)),
        (PhaseName::Mitigate, measured(&m.phases.mitigate)),
        (PhaseName::Recover, measured(&m.phases.recover)),
        (PhaseName::Rto, m.rto),
        (PhaseName::Rpo, m.rpo),
    ];
    values
        .into_iter()
        .filter_map(|(name, value)| {
            let value = value?;
            let bound = plan.phase(name).bound.as_ref();
            match bound {
                Some(b) if b.contains(value) => None,
                _ => Some(Violation {
                    phase: name,
                    measured: value,
                    best: bound.map(|b| b.best),
                    worst: bound.and_then(|b| b.worst),
                }),
            }
        })
        .collect()
}

impl Violation {
    /// One line for the text report.
    pub fn line(&self) -> String {
        let fmt = crate::report::format_duration;
        let bounds = match (self.best, self.worst) {
            (None, _) => "none (the plan expects no such phase)".to_owned(),
            (Some(b), Some(w)) => format!("{}..{}", fmt(b), fmt(w)),
            (Some(b), None) => format!("{}..unbounded", fmt(b)),
        };
        format!(
            "measured {} {} outside plan bounds {bounds}: a bug in the plan or the simulation",
            self.phase.as_str(),
            fmt(self.measured)
        )
    }
}
