//! The report of one run: the verdicts, the phases, the customers' numbers and the incident
//! timeline, rendered for people ([`text`]) and machines ([`json`]) (DESIGN.md section 5).
//!
//! A report is built from a [`Measurement`] and the world's own events; nothing in it comes
//! from the monitor's account. Same scenario and seed give a byte-identical report.

pub mod json;
pub mod postmortem;
pub mod svg;
pub mod text;

use std::time::Duration;

use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};

use crate::exit;
use crate::measure::{self, Measurement, Observations, WorldEvent, WorldEventKind};
use crate::scenario::Scenario;
use crate::sweep::jitter::Jitter;

/// One line of the incident timeline: `(sim time, source, kind, details)`.
///
/// In JSON: `{"at_ms", "at" (`+HH:MM:SS.mmm`), "source", "kind", "details"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineEntry {
    /// Simulated time since the start.
    pub at: Duration,
    /// Who saw it (`fault`, `pager`, `responder:<name>`, `db:<host>`, ...).
    pub source: String,
    /// What kind of thing happened.
    pub kind: WorldEventKind,
    /// Human details.
    pub details: String,
}

impl From<&WorldEvent> for TimelineEntry {
    fn from(e: &WorldEvent) -> TimelineEntry {
        TimelineEntry { at: e.at, source: e.source.clone(), kind: e.kind, details: e.details.clone() }
    }
}

impl Serialize for TimelineEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("TimelineEntry", 5)?;
        st.serialize_field("at_ms", &measure::ms::millis(self.at))?;
        st.serialize_field("at", &format_clock(self.at))?;
        st.serialize_field("source", &self.source)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("details", &self.details)?;
        st.end()
    }
}

/// The report of one run of one scenario with one seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file, as given on the command line (for the reproduction line).
    pub path: String,
    /// The seed of the run.
    pub seed: u64,
    /// What was measured, with the verdicts.
    pub measurement: Measurement,
    /// The world's events in time order (stable for equal times).
    pub timeline: Vec<TimelineEntry>,
    /// Measured phases outside the bounds `gameday plan` derives from the configuration alone
    /// (empty normally: one is a bug in the plan or in the simulation).
    pub plan_violations: Vec<crate::plan::Violation>,
    /// The customers' success ratio over time, for the timeline picture ([`svg`]); not part of
    /// the JSON report.
    pub success_curve: svg::SuccessCurve,
    /// The `--jitter` the scenario's values were spread with before the run (none by default),
    /// so that the reproduction line carries it.
    pub jitter: Jitter,
}

impl Report {
    /// Assembles a report; the seed and the timeline come from `obs`.
    pub fn new(
        scenario: impl Into<String>,
        path: impl Into<String>,
        obs: &Observations,
        measurement: Measurement,
    ) -> Report {
        let mut timeline: Vec<TimelineEntry> = obs.events.iter().map(TimelineEntry::from).collect();
        timeline.sort_by_key(|e| e.at); // stable: equal times keep their recorded order
        let success_curve = svg::SuccessCurve::of(&obs.requests, obs.duration);
        Report {
            scenario: scenario.into(),
            path: path.into(),
            seed: obs.seed,
            measurement,
            timeline,
            success_curve,
            jitter: Jitter::NONE,
            plan_violations: Vec::new(),
        }
    }

    /// Measures a run of `scenario` and assembles its report: the scenario's targets, faults,
    /// restoration window and success threshold; the seed and timeline from `obs`.
    pub fn for_run(scenario: &Scenario, obs: &Observations) -> Report {
        // Latent faults (a corrupt copy, a stopped archiver, a report) change nothing customers
        // see when they happen: they neither start the incident nor end a restoration window.
        let faults_at: Vec<Duration> =
            scenario.faults.iter().filter(|f| !f.kind.is_latent()).map(|f| f.at).collect();
        let measurement = measure::measure(
            obs,
            &scenario.targets,
            &faults_at,
            scenario.traffic.window,
            scenario.traffic.success_threshold,
        );
        Report::new(scenario.name.clone(), scenario.path.display().to_string(), obs, measurement)
    }

    /// Whether every target was met (or not applicable).
    pub fn passed(&self) -> bool {
        self.measurement.passed
    }

    /// [`exit::SUCCESS`] when the scenario passed, else [`exit::TARGET_MISSED`].
    pub fn exit_code(&self) -> u8 {
        if self.passed() { exit::SUCCESS } else { exit::TARGET_MISSED }
    }

    /// The human report ([`text::render`]).
    pub fn to_text(&self) -> String {
        text::render(self)
    }

    /// The JSON report ([`json::render`]).
    pub fn to_json(&self) -> String {
        json::render(self)
    }

    /// The timeline picture ([`svg::render`]).
    pub fn to_svg(&self) -> String {
        svg::render(self)
    }

    /// The Markdown postmortem draft ([`postmortem::render`]).
    pub fn to_postmortem(&self) -> String {
        postmortem::render(self)
    }

    /// The command line that reproduces this run.
    pub fn reproduce_command(&self) -> String {
        reproduce_command(&self.path, self.seed, self.jitter)
    }

    /// One line per missed target (`rto: measured 16m30s, target 15m, missed by 1m30s`), in
    /// report order; empty when the scenario passed.
    pub fn missed_lines(&self) -> Vec<String> {
        self.measurement.missed().map(|(name, v)| text::verdict_line(name, v)).collect()
    }

    /// Panics, listing every missed target, unless the scenario passed. For a user's own
    /// `cargo test`:
    ///
    /// ```ignore
    /// let report = gameday::report::Report::for_run(&scenario, &observations);
    /// report.assert_targets();
    /// ```
    #[track_caller]
    pub fn assert_targets(&self) {
        if self.passed() {
            return;
        }
        let missed = self.missed_lines();
        panic!(
            "scenario {} ({}) seed {} missed {} target(s):\n  {}\nreproduce: {}",
            self.scenario,
            self.path,
            self.seed,
            missed.len(),
            missed.join("\n  "),
            self.reproduce_command()
        );
    }
}

/// The command line that runs the scenario file at `path` with `seed` and `jitter`.
pub fn reproduce_command(path: &str, seed: u64, jitter: Jitter) -> String {
    let command = format!("gameday run {} --seed {seed}", shell_quote(path));
    match jitter.flag() {
        Some(flag) => format!("{command} {flag}"),
        None => command,
    }
}

/// A simulated instant as `+HH:MM:SS.mmm` (hours grow past two digits when needed).
pub fn format_clock(at: Duration) -> String {
    let ms = measure::ms::millis(at);
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    format!("+{h:02}:{m:02}:{s:02}.{ms:03}")
}

/// A length of time, compact: `2h03m04s`, `14m12.3s`, `15m`, `12.5s`, `850ms`, `0s`.
pub fn format_duration(d: Duration) -> String {
    let ms = measure::ms::millis(d);
    if ms < 1000 {
        return if ms == 0 { "0s".into() } else { format!("{ms}ms") };
    }
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, frac) = (rest / 1000, rest % 1000);
    let secs = |pad: bool| {
        let whole = if pad { format!("{s:02}") } else { s.to_string() };
        if frac == 0 {
            format!("{whole}s")
        } else {
            format!("{whole}.{}s", format!("{frac:03}").trim_end_matches('0'))
        }
    };
    let no_secs = s == 0 && frac == 0;
    match (h, m) {
        (0, 0) => secs(false),
        (0, _) if no_secs => format!("{m}m"),
        (0, _) => format!("{m}m{}", secs(true)),
        _ if m == 0 && no_secs => format!("{h}h"),
        _ if no_secs => format!("{h}h{m:02}m"),
        _ => format!("{h}h{m:02}m{}", secs(true)),
    }
}

/// Quotes `s` for a POSIX shell when it holds anything beyond `[A-Za-z0-9_./:=+-]`.
pub(crate) fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_./:=+-".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// `-71h30m`, `+2h`, `-0s`: a signed instant relative to the scenario's start, to the second,
/// in hours at most (a restore point is read against "72 hours old").
pub fn format_offset(at: i64) -> String {
    let sign = if at < 0 { "-" } else { "+" };
    let secs = at.unsigned_abs() / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::from(sign);
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.len() == 1 {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::format_offset;

    #[test]
    fn offsets_show_in_hours_minutes_and_seconds() {
        assert_eq!(format_offset(-(71 * 3600 + 30 * 60) * 1000), "-71h30m");
        assert_eq!(format_offset(2 * 3_600_000), "+2h");
        assert_eq!(format_offset(61_999), "+1m1s");
        assert_eq!(format_offset(-1), "-0s");
    }
}
