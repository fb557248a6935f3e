//! A verdict per target: met, missed (with the measured value and by how much) or not
//! applicable (with why).

use std::time::Duration;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use super::ms::millis;

/// The targets of `[targets]`, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetName {
    /// Fault to restored.
    Rto,
    /// Data loss window.
    Rpo,
    /// Fault to first alert.
    Detect,
    /// Fault to first page.
    Page,
    /// First page to first acknowledgement.
    Acknowledge,
    /// Fault to failover completed.
    Mitigate,
    /// Failover completed to restored.
    Recover,
    /// Successful / total requests.
    Availability,
    /// At most this many acknowledged writes lost (split-brain ones included).
    LostWrites,
}

impl TargetName {
    /// Every target, in report order.
    pub const ALL: [TargetName; 9] = [
        TargetName::Rto,
        TargetName::Rpo,
        TargetName::Detect,
        TargetName::Page,
        TargetName::Acknowledge,
        TargetName::Mitigate,
        TargetName::Recover,
        TargetName::Availability,
        TargetName::LostWrites,
    ];

    /// The name as written in `[targets]`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetName::Rto => "rto",
            TargetName::Rpo => "rpo",
            TargetName::Detect => "detect",
            TargetName::Page => "page",
            TargetName::Acknowledge => "acknowledge",
            TargetName::Mitigate => "mitigate",
            TargetName::Recover => "recover",
            TargetName::Availability => "availability",
            TargetName::LostWrites => "lost_writes",
        }
    }
}

impl std::fmt::Display for TargetName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A measured or target value: a duration (every target but availability) or a ratio.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Quantity {
    /// A length of simulated time.
    Duration(Duration),
    /// A ratio, 0..=1 (availability).
    Ratio(f64),
    /// A number of things (lost writes).
    Count(u64),
}

impl Quantity {
    /// The duration, if this is one.
    pub fn as_duration(self) -> Option<Duration> {
        match self {
            Quantity::Duration(d) => Some(d),
            Quantity::Ratio(_) | Quantity::Count(_) => None,
        }
    }

    /// The ratio, if this is one.
    pub fn as_ratio(self) -> Option<f64> {
        match self {
            Quantity::Ratio(r) => Some(r),
            Quantity::Duration(_) | Quantity::Count(_) => None,
        }
    }
}

/// Serialized as a bare number: integer milliseconds for a duration, the ratio itself otherwise.
impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Quantity::Duration(d) => s.serialize_u64(millis(*d)),
            Quantity::Ratio(r) => s.serialize_f64(*r),
            Quantity::Count(n) => s.serialize_u64(*n),
        }
    }
}

/// The verdict on one target.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// The measured value is within the target (a duration at most the target, an availability
    /// at least the target).
    Met {
        /// What was measured.
        measured: Quantity,
    },
    /// The target was missed.
    Missed {
        /// What was measured; `None` when the thing never happened (unbounded).
        measured: Option<Quantity>,
        /// How far past the target (for availability: how far below); `None` when unbounded.
        by: Option<Quantity>,
        /// Why it is unbounded, when it is.
        why: Option<String>,
    },
    /// The target cannot be judged on this run (no fault to measure from, restoration that did
    /// not go through a failover, no client request). Not a failure.
    NotApplicable {
        /// Why.
        why: String,
    },
}

impl Verdict {
    /// Whether this verdict fails the scenario.
    pub fn is_missed(&self) -> bool {
        matches!(self, Verdict::Missed { .. })
    }

    /// The snake_case verdict word: `met`, `missed` or `not_applicable`.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Met { .. } => "met",
            Verdict::Missed { .. } => "missed",
            Verdict::NotApplicable { .. } => "not_applicable",
        }
    }

    /// The measured value, when there is one.
    pub fn measured(&self) -> Option<Quantity> {
        match self {
            Verdict::Met { measured } => Some(*measured),
            Verdict::Missed { measured, .. } => *measured,
            Verdict::NotApplicable { .. } => None,
        }
    }

    /// By how much the target was missed, when bounded.
    pub fn by(&self) -> Option<Quantity> {
        match self {
            Verdict::Missed { by, .. } => *by,
            _ => None,
        }
    }

    /// Why the value is unbounded or not applicable.
    pub fn why(&self) -> Option<&str> {
        match self {
            Verdict::Met { .. } => None,
            Verdict::Missed { why, .. } => why.as_deref(),
            Verdict::NotApplicable { why } => Some(why),
        }
    }
}

/// A target and its verdict.
///
/// In JSON: `{"verdict", "measured_ms", "target_ms", "by_ms", "why"}` for duration targets and
/// `{"verdict", "measured", "target", "by", "why"}` for availability; every key is always
/// present (`null` when there is no value).
#[derive(Clone, Debug, PartialEq)]
pub struct TargetVerdict {
    /// The target as declared.
    pub target: Quantity,
    /// The verdict.
    pub verdict: Verdict,
}

impl Serialize for TargetVerdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("TargetVerdict", 5)?;
        st.serialize_field("verdict", self.verdict.word())?;
        match self.target {
            Quantity::Duration(target) => {
                let ms = |q: Option<Quantity>| q.and_then(Quantity::as_duration).map(millis);
                st.serialize_field("measured_ms", &ms(self.verdict.measured()))?;
                st.serialize_field("target_ms", &millis(target))?;
                st.serialize_field("by_ms", &ms(self.verdict.by()))?;
            }
            Quantity::Count(target) => {
                let count = |q: Option<Quantity>| match q {
                    Some(Quantity::Count(n)) => Some(n),
                    _ => None,
                };
                st.serialize_field("measured", &count(self.verdict.measured()))?;
                st.serialize_field("target", &target)?;
                st.serialize_field("by", &count(self.verdict.by()))?;
            }
            Quantity::Ratio(target) => {
                let ratio = |q: Option<Quantity>| q.and_then(Quantity::as_ratio);
                st.serialize_field("measured", &ratio(self.verdict.measured()))?;
                st.serialize_field("target", &target)?;
                st.serialize_field("by", &ratio(self.verdict.by()))?;
            }
        }
        st.serialize_field("why", &self.verdict.why())?;
        st.end()
    }
}

/// What a measurement gives a duration target to judge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A value.
    Value(Duration),
    /// The thing never happened: the target is missed, unbounded.
    Unbounded(String),
    /// The target does not apply.
    NotApplicable(String),
}

/// Judges a duration against its target: met when `measured <= target`.
pub(crate) fn judge_duration(target: Duration, outcome: Outcome) -> TargetVerdict {
    let verdict = match outcome {
        Outcome::Value(measured) if measured <= target => {
            Verdict::Met { measured: Quantity::Duration(measured) }
        }
        Outcome::Value(measured) => Verdict::Missed {
            measured: Some(Quantity::Duration(measured)),
            by: Some(Quantity::Duration(measured - target)),
            why: None,
        },
        Outcome::Unbounded(why) => Verdict::Missed { measured: None, by: None, why: Some(why) },
        Outcome::NotApplicable(why) => Verdict::NotApplicable { why },
    };
    TargetVerdict { target: Quantity::Duration(target), verdict }
}

/// Judges an availability against its target: met when `measured >= target`.
/// A count target: at most `target` (lost writes).
pub(crate) fn judge_count(target: u64, measured: u64) -> TargetVerdict {
    let verdict = if measured <= target {
        Verdict::Met { measured: Quantity::Count(measured) }
    } else {
        Verdict::Missed {
            measured: Some(Quantity::Count(measured)),
            by: Some(Quantity::Count(measured - target)),
            why: None,
        }
    };
    TargetVerdict { target: Quantity::Count(target), verdict }
}

pub(crate) fn judge_availability(target: f64, measured: Option<f64>) -> TargetVerdict {
    let verdict = match measured {
        None => Verdict::NotApplicable { why: "the clients sent no request".into() },
        Some(m) if m >= target => Verdict::Met { measured: Quantity::Ratio(m) },
        Some(m) => Verdict::Missed {
            measured: Some(Quantity::Ratio(m)),
            by: Some(Quantity::Ratio(target - m)),
            why: None,
        },
    };
    TargetVerdict { target: Quantity::Ratio(target), verdict }
}
