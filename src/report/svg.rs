//! The timeline picture (`--svg FILE`): one SVG a person reads at a glance (DESIGN.md section 5).
//!
//! Lanes, top to bottom: the faults (bars from injection to clearing or the end of the run),
//! each service's health as the monitor announced it to the pager (an incident opens at its
//! alert, takes the colour of its severity, and closes at its resolution), pages and
//! acknowledgements, the failover (runbook's first action to failover completed, with
//! promotions, scale-ups and fencing), DNS changes, and the customers' success ratio as a curve
//! with the restoration threshold dashed. Vertical lines mark the fault, the restoration and
//! the oldest lost write, with the RTO and the RPO spanned and labelled above the lanes.
//!
//! When the incident occupies less than half of the run, a strip for the whole run (faults and
//! success ratio, the zoomed range shaded) comes first and the lanes cover the incident only.
//!
//! Hand-written SVG 1.1: every coordinate is formatted with one decimal and every text is
//! escaped, so the same report gives byte-identical output.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::{Report, format_clock, format_duration};
use crate::measure::ms::millis;
use crate::measure::{
    Quantity, RequestRecord, Restoration, RtoSegment, TargetName, Verdict, WorldEventKind, format_ratio,
};

/// The picture's width in pixels.
pub const WIDTH: f64 = 1200.0;
/// The smallest bucket of the success curve.
pub const MIN_BUCKET: Duration = Duration::from_secs(10);
/// The most buckets a run is split into (longer runs get longer buckets).
pub const MAX_BUCKETS: u64 = 600;

/// The customers' success ratio over time: per fixed bucket of send times, the share of the
/// requests sent in it that succeeded. Buckets without a request are left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SuccessCurve {
    /// The bucket length: [`MIN_BUCKET`] or `duration / MAX_BUCKETS`, whichever is larger
    /// (rounded up to a whole millisecond).
    pub bucket: Duration,
    /// The simulated length of the run (the picture's time axis).
    pub duration: Duration,
    /// `(bucket start, ok / sent)` in time order, one per non-empty bucket.
    pub points: Vec<(Duration, f64)>,
}

impl SuccessCurve {
    /// Buckets `requests` by send time over a run of `duration`.
    pub fn of(requests: &[RequestRecord], duration: Duration) -> SuccessCurve {
        let bucket_ms = millis(MIN_BUCKET).max(millis(duration).div_ceil(MAX_BUCKETS));
        let mut buckets: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
        for r in requests {
            let (ok, sent) = buckets.entry(millis(r.sent) / bucket_ms).or_default();
            *ok += u64::from(r.ok);
            *sent += 1;
        }
        let points = buckets
            .into_iter()
            .map(|(i, (ok, sent))| (Duration::from_millis(i * bucket_ms), ok as f64 / sent as f64))
            .collect();
        SuccessCurve { bucket: Duration::from_millis(bucket_ms), duration, points }
    }
}

/// Renders the report's timeline picture (ends with a newline).
pub fn render(report: &Report) -> String {
    let model = Model::of(report);
    let mut body = String::new();
    let mut y = header(&mut body, report);

    let full = Axis::new(Duration::ZERO, model.end);
    let zoom = zoom_range(report, &model);
    let axis = match zoom {
        Some((from, to)) => {
            y = overview(&mut body, report, &model, &full, (from, to), y);
            Axis::new(from, to)
        }
        None => full,
    };
    y = detail(&mut body, report, &model, &axis, y);

    let height = y + 12.0;
    let mut out = String::new();
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif" font-size="11">"#,
        w = n(WIDTH),
        h = n(height)
    );
    let _ = writeln!(out, "<title>{}</title>", esc(&format!("Incident timeline: {}", report.scenario)));
    let _ =
        writeln!(out, r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##, n(WIDTH), n(height));
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

// ---------------------------------------------------------------------------------------------
// Layout constants and colours.

/// Left edge of the plot (the lane titles sit to its left).
const PLOT_X0: f64 = 200.0;
/// Right edge of the plot.
const PLOT_X1: f64 = 1176.0;
/// Left margin of the lane titles.
const TITLE_X: f64 = 14.0;
/// Height of one row of labels.
const ROW: f64 = 13.0;
/// Height of a lane's strip (bars and markers).
const STRIP: f64 = 12.0;

const RED: &str = "#d62728";
const GREEN: &str = "#2ca02c";
const PURPLE: &str = "#8e44ad";
const BLUE: &str = "#1f77b4";
const ORANGE: &str = "#ff7f0e";
const GREY: &str = "#6b6b6b";
const LIGHT: &str = "#e4e4e4";
const INK: &str = "#222222";
const HEALTHY: &str = "#a8d5a2";

// ---------------------------------------------------------------------------------------------
// What the picture shows, derived from the report alone.

struct Bar {
    from: Duration,
    to: Duration,
    label: String,
    fill: &'static str,
    text: &'static str,
    title: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Circle,
    Diamond,
    Triangle,
    Square,
    /// No symbol: the label points at a place (the middle of a bar).
    Nothing,
}

struct Marker {
    at: Duration,
    label: String,
    shape: Shape,
    fill: &'static str,
    title: String,
}

impl Marker {
    fn new(e: &super::TimelineEntry, label: impl Into<String>, shape: Shape, fill: &'static str) -> Marker {
        Marker {
            at: e.at,
            label: label.into(),
            shape,
            fill,
            title: format!("{} {}: {}", format_clock(e.at), e.source, e.details),
        }
    }
}

struct Model {
    /// The end of the run.
    end: Duration,
    faults: Vec<Bar>,
    /// Per service (by name): its health bars.
    health: Vec<(String, Vec<Bar>)>,
    pages: Vec<Marker>,
    failover_bars: Vec<Bar>,
    failover_marks: Vec<Marker>,
    dns: Vec<Marker>,
}

/// One incident as the pager heard of it.
struct Incident {
    service: Option<String>,
    opened: Duration,
    resolved: Option<Duration>,
    /// Severity changes: `(when, "SEV3")`.
    severities: Vec<(Duration, String)>,
}

impl Model {
    fn of(report: &Report) -> Model {
        let m = &report.measurement;
        let mut end = report.success_curve.duration;
        for t in report.timeline.iter().map(|e| e.at).chain(m.t_fault).chain(m.restoration.at()) {
            end = end.max(t);
        }
        if end.is_zero() {
            end = Duration::from_secs(60);
        }

        // Faults: each injection bar ends at the first later clearing with the same details.
        let mut faults: Vec<Bar> = Vec::new();
        let mut open: Vec<(usize, &str)> = Vec::new();
        for e in &report.timeline {
            match e.kind {
                WorldEventKind::FaultInjected => {
                    open.push((faults.len(), e.details.as_str()));
                    faults.push(Bar {
                        from: e.at,
                        to: end,
                        label: e.details.clone(),
                        fill: RED,
                        text: "#ffffff",
                        title: format!("{} {} (until the end of the run)", format_clock(e.at), e.details),
                    });
                }
                WorldEventKind::FaultCleared => {
                    if let Some(pos) = open.iter().position(|(_, d)| *d == e.details) {
                        let (i, _) = open.remove(pos);
                        faults[i].to = e.at;
                        faults[i].title = format!(
                            "{} to {} ({}) {}",
                            format_clock(faults[i].from),
                            format_clock(e.at),
                            format_duration(e.at.saturating_sub(faults[i].from)),
                            e.details
                        );
                    }
                }
                _ => {}
            }
        }

        // Incidents, from what reached the pager.
        let mut incidents: BTreeMap<u64, Incident> = BTreeMap::new();
        let mut pages = Vec::new();
        let mut failover_marks = Vec::new();
        let mut dns = Vec::new();
        for e in &report.timeline {
            let pager = e.source.starts_with("pager:");
            let number = if pager { incident_number(&e.details) } else { None };
            if let (Some(n), WorldEventKind::AlertReceived) = (number, e.kind) {
                incidents.entry(n).or_insert(Incident {
                    service: None,
                    opened: e.at,
                    resolved: None,
                    severities: Vec::new(),
                });
            }
            if let Some(inc) = number.and_then(|n| incidents.get_mut(&n)) {
                if inc.service.is_none() {
                    inc.service = service_of(&e.details);
                }
                if let Some(sev) = severity_of(&e.details)
                    && inc.severities.last().is_none_or(|(_, s)| *s != sev)
                {
                    inc.severities.push((e.at, sev));
                }
                let resolved = e.details.contains(" resolved: ") || e.details.starts_with("resolve ");
                if resolved && inc.resolved.is_none() {
                    inc.resolved = Some(e.at);
                }
            }
            let slack = e.source == "pager:slack";
            match e.kind {
                WorldEventKind::AlertReceived => {
                    let label = number.map_or("alert".to_string(), |n| format!("alert INC-{n}"));
                    pages.push(Marker::new(e, label, Shape::Triangle, RED));
                }
                WorldEventKind::PageReceived => {
                    let who = e.details.rsplit_once(" paged ").map_or(e.details.as_str(), |(_, w)| w);
                    let level = e.details.split("level ").nth(1).and_then(|s| s.split(' ').next());
                    let label = match level {
                        Some(l) => format!("page {who} (level {l})"),
                        None => format!("page {who}"),
                    };
                    pages.push(Marker::new(e, label, Shape::Circle, ORANGE));
                }
                WorldEventKind::Acknowledged => {
                    let who = e.details.rsplit_once(" by ").map_or(e.details.as_str(), |(_, w)| w);
                    pages.push(Marker::new(e, format!("ack by {who}"), Shape::Diamond, GREEN));
                }
                WorldEventKind::FailoverRequested => {
                    pages.push(Marker::new(e, e.details.clone(), Shape::Diamond, BLUE));
                }
                WorldEventKind::NotificationReceived if slack => {
                    if e.details.contains("escalation chain is exhausted") {
                        pages.push(Marker::new(e, "escalation exhausted", Shape::Square, RED));
                    } else if e.details.contains("waiting for an operator") {
                        pages.push(Marker::new(e, "failover awaits a human", Shape::Square, ORANGE));
                    } else if e.details.contains(" FAILED at step ") {
                        let step = e.details.rsplit(' ').next().unwrap_or_default();
                        failover_marks.push(Marker::new(
                            e,
                            format!("failover FAILED at {step}"),
                            Shape::Square,
                            RED,
                        ));
                    }
                }
                WorldEventKind::RunbookStarted if e.source != "dns" => {
                    failover_marks.push(Marker::new(e, e.details.clone(), Shape::Triangle, BLUE));
                }
                WorldEventKind::Promoted | WorldEventKind::ScaledUp => {
                    failover_marks.push(Marker::new(e, e.details.clone(), Shape::Circle, BLUE));
                }
                WorldEventKind::Fenced => {
                    failover_marks.push(Marker::new(e, e.details.clone(), Shape::Square, PURPLE));
                }
                WorldEventKind::Restarted => {
                    failover_marks.push(Marker::new(e, e.details.clone(), Shape::Square, GREY));
                }
                // A restore that failed verification, and a drill that found a corrupt copy:
                // the backup plan's own failures, on the failover lane.
                WorldEventKind::RestoreFailed | WorldEventKind::DrillFailed => {
                    failover_marks.push(Marker::new(e, e.details.clone(), Shape::Square, RED));
                }
                WorldEventKind::FailoverCompleted => {
                    failover_marks.push(Marker::new(e, e.details.clone(), Shape::Diamond, GREEN));
                }
                WorldEventKind::DnsChanged => {
                    dns.push(Marker::new(e, e.details.clone(), Shape::Square, BLUE));
                }
                _ => {}
            }
        }

        // Health lanes: healthy between incidents, the severity's colour during one.
        let mut by_service: BTreeMap<String, Vec<(u64, &Incident)>> = BTreeMap::new();
        for (n, inc) in &incidents {
            let name = inc.service.clone().unwrap_or_else(|| "unknown service".into());
            by_service.entry(name).or_default().push((*n, inc));
        }
        let mut health = Vec::new();
        for (service, list) in by_service {
            let mut bars = Vec::new();
            let mut healthy_from = Duration::ZERO;
            for (n, inc) in list {
                if inc.opened > healthy_from {
                    bars.push(healthy(healthy_from, inc.opened));
                }
                let closed = inc.resolved.unwrap_or(end);
                let mut sevs = inc.severities.clone();
                if sevs.first().is_none_or(|(at, _)| *at > inc.opened) {
                    sevs.insert(0, (inc.opened, "alert".into()));
                }
                for (i, (from, sev)) in sevs.iter().enumerate() {
                    let to = sevs.get(i + 1).map_or(closed, |(t, _)| *t).min(closed);
                    if to < *from {
                        continue;
                    }
                    let label = if i == 0 { format!("INC-{n} {sev}") } else { sev.clone() };
                    let how = match inc.resolved {
                        Some(r) => format!("resolved {}", format_clock(r)),
                        None => "never resolved".into(),
                    };
                    bars.push(Bar {
                        from: *from,
                        to,
                        label,
                        fill: severity_colour(sev),
                        text: "#ffffff",
                        title: format!(
                            "INC-{n} {service} {sev} from {} (opened {}, {how})",
                            format_clock(*from),
                            format_clock(inc.opened)
                        ),
                    });
                }
                healthy_from = closed.max(healthy_from);
            }
            if healthy_from < end {
                bars.push(healthy(healthy_from, end));
            }
            health.push((service, bars));
        }

        // Failover bars: from the first runbook action to the next failover completed.
        let mut failover_bars = Vec::new();
        let mut started: Option<Duration> = None;
        for e in &report.timeline {
            match e.kind {
                WorldEventKind::RunbookStarted if started.is_none() => started = Some(e.at),
                WorldEventKind::FailoverCompleted => {
                    let from = started.take().unwrap_or(e.at);
                    failover_bars.push(Bar {
                        from,
                        to: e.at,
                        label: format!("failover {}", format_duration(e.at.saturating_sub(from))),
                        fill: "#aec7e8",
                        text: INK,
                        title: format!(
                            "runbook's first action {} to failover completed {} ({})",
                            format_clock(from),
                            format_clock(e.at),
                            e.details
                        ),
                    });
                }
                _ => {}
            }
        }
        if let Some(from) = started {
            failover_bars.push(Bar {
                from,
                to: end,
                label: "failover started, never completed".into(),
                fill: "#f4c7c3",
                text: INK,
                title: format!("runbook's first action {}; no failover completed", format_clock(from)),
            });
        }

        Model { end, faults, health, pages, failover_bars, failover_marks, dns }
    }
}

fn healthy(from: Duration, to: Duration) -> Bar {
    Bar {
        from,
        to,
        label: String::new(),
        fill: HEALTHY,
        text: INK,
        title: format!("{} to {}: no open incident", format_clock(from), format_clock(to)),
    }
}

fn severity_colour(sev: &str) -> &'static str {
    match sev {
        "SEV1" => "#b71c1c",
        "SEV2" => "#e53935",
        "SEV3" => "#f57c00",
        "SEV4" => "#fbc02d",
        _ => RED,
    }
}

/// `... INC-7 ...` -> 7.
fn incident_number(text: &str) -> Option<u64> {
    let rest = &text[text.find("INC-")? + 4..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The service an alert or resolution names: `gameday/<service>/INC-n` (PagerDuty) or
/// `INC-n <service> is unhealthy` / `raised from` / `resolved:` (Slack).
fn service_of(text: &str) -> Option<String> {
    if let Some(i) = text.find("gameday/") {
        let rest = &text[i + "gameday/".len()..];
        return rest.split_once("/INC-").map(|(s, _)| s.to_string());
    }
    if [" is unhealthy", " raised from ", " resolved: "].iter().any(|k| text.contains(k)) {
        let rest = &text[text.find("INC-")?..];
        return rest.split(' ').nth(1).map(str::to_string).filter(|s| !s.is_empty());
    }
    None
}

/// `[SEV2]` -> `SEV2`.
fn severity_of(text: &str) -> Option<String> {
    let start = text.find("[SEV")? + 1;
    let len = text[start..].find(']')?;
    Some(text[start..start + len].to_string())
}

// ---------------------------------------------------------------------------------------------
// Geometry.

/// Maps simulated time to x over `[from, to]`.
struct Axis {
    from: u64,
    to: u64,
}

impl Axis {
    fn new(from: Duration, to: Duration) -> Axis {
        let (from, to) = (millis(from), millis(to));
        Axis { from, to: to.max(from + 1000) }
    }

    fn span(&self) -> u64 {
        self.to - self.from
    }

    fn contains(&self, t: Duration) -> bool {
        (self.from..=self.to).contains(&millis(t))
    }

    fn x(&self, t: Duration) -> f64 {
        let ms = millis(t).clamp(self.from, self.to);
        PLOT_X0 + (ms - self.from) as f64 / self.span() as f64 * (PLOT_X1 - PLOT_X0)
    }

    /// Whether `[a, b]` overlaps the axis.
    fn overlaps(&self, a: Duration, b: Duration) -> bool {
        millis(a) <= self.to && millis(b) >= self.from
    }
}

/// A tick step (ms) giving at most about a dozen ticks over `span_ms`.
fn tick_step(span_ms: u64) -> u64 {
    const STEPS: [u64; 17] =
        [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200];
    STEPS
        .iter()
        .map(|s| s * 1000)
        .find(|s| span_ms / s <= 12)
        .unwrap_or(86_400_000 * span_ms.div_ceil(86_400_000 * 12))
}

/// `+HH:MM`, or `+HH:MM:SS` when the ticks are closer than a minute.
fn tick_label(ms: u64, step: u64) -> String {
    let clock = format_clock(Duration::from_millis(ms));
    let keep = if step % 60_000 == 0 { clock.len() - 7 } else { clock.len() - 4 };
    clock[..keep].to_string()
}

/// The incident's range, rounded to ticks, when it covers less than half of the run.
fn zoom_range(report: &Report, model: &Model) -> Option<(Duration, Duration)> {
    let m = &report.measurement;
    let instants: Vec<Duration> = report
        .timeline
        .iter()
        .map(|e| e.at)
        .chain(m.t_fault)
        .chain(m.first_failure)
        .chain(m.restoration.at())
        .chain(m.oldest_lost_write)
        .collect();
    let (start, mut stop) = (*instants.iter().min()?, *instants.iter().max()?);
    if m.restoration == Restoration::NeverRestored {
        stop = model.end; // the outage lasts as long as the run
    }
    let span = stop.saturating_sub(start);
    let pad = (span / 10).max(Duration::from_secs(30));
    let end = millis(model.end);
    let step = tick_step(millis(span + pad * 2));
    let from = millis(start.saturating_sub(pad)) / step * step;
    let to = (millis(stop + pad).div_ceil(step) * step).min(end);
    (to.saturating_sub(from) * 2 < end).then(|| (Duration::from_millis(from), Duration::from_millis(to)))
}

/// Greedy rows for labels: each extent goes to the first row where it does not overlap.
#[derive(Default)]
struct Rows {
    ends: Vec<f64>,
}

impl Rows {
    const MAX: usize = 8;

    fn place(&mut self, a: f64, b: f64) -> usize {
        let row = match self.ends.iter().position(|&end| end + 6.0 <= a) {
            Some(r) => r,
            None if self.ends.len() < Self::MAX => {
                self.ends.push(f64::MIN);
                self.ends.len() - 1
            }
            None => {
                let mut best = 0;
                for (i, e) in self.ends.iter().enumerate() {
                    if *e < self.ends[best] {
                        best = i;
                    }
                }
                best
            }
        };
        self.ends[row] = self.ends[row].max(b);
        row
    }

    fn count(&self) -> usize {
        self.ends.len()
    }
}

/// Approximate rendered width of `s` at `size` px.
fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.6
}

/// `s` cut with an ellipsis to fit `width` at `size` px; `None` when not even a few characters fit.
fn fit(s: &str, width: f64, size: f64) -> Option<String> {
    if text_width(s, size) <= width {
        return Some(s.to_string());
    }
    let chars = (width / (size * 0.6)).floor() as usize;
    (chars >= 5).then(|| format!("{}…", s.chars().take(chars - 1).collect::<String>()))
}

// ---------------------------------------------------------------------------------------------
// Drawing.

/// A coordinate with one decimal (never `-0.0`).
fn n(x: f64) -> String {
    let s = format!("{x:.1}");
    if s == "-0.0" { "0.0".into() } else { s }
}

/// Escapes text for XML content and attribute values; drops characters XML 1.0 forbids.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[derive(Clone, Copy)]
enum Anchor {
    Start,
    Middle,
    End,
}

fn text(out: &mut String, x: f64, y: f64, anchor: Anchor, style: &str, s: &str) {
    let anchor = match anchor {
        Anchor::Start => "start",
        Anchor::Middle => "middle",
        Anchor::End => "end",
    };
    let _ =
        writeln!(out, r#"<text x="{}" y="{}" text-anchor="{anchor}" {style}>{}</text>"#, n(x), n(y), esc(s));
}

fn line(out: &mut String, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, extra: &str) {
    let _ = writeln!(
        out,
        r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" {extra}/>"#,
        n(x1),
        n(y1),
        n(x2),
        n(y2)
    );
}

/// The title and the one-line verdict under it. Returns the y below.
fn header(out: &mut String, report: &Report) -> f64 {
    let m = &report.measurement;
    text(
        out,
        TITLE_X,
        26.0,
        Anchor::Start,
        r##"font-size="17" font-weight="bold" fill="#222222""##,
        &report.scenario,
    );
    let missed = m.missed().count();
    let result = if missed == 0 {
        format!("PASSED ({} targets)", m.targets.len())
    } else {
        format!("FAILED ({missed} of {} targets missed)", m.targets.len())
    };
    let mut parts = vec![format!("seed {}", report.seed), result, rto_label(report)];
    parts.push(rpo_label(report));
    if let Some(a) = m.availability {
        parts.push(format!(
            "availability {} ({} of {} requests failed)",
            format_ratio(a),
            m.requests.failed,
            m.requests.total
        ));
    }
    let colour = if missed == 0 { "#1b5e20" } else { "#b71c1c" };
    text(
        out,
        TITLE_X,
        46.0,
        Anchor::Start,
        &format!(r#"font-size="12" fill="{colour}""#),
        &parts.join("  ·  "),
    );
    62.0
}

/// `target 15m: met` for a target, when declared.
fn target_note(report: &Report, name: TargetName) -> Option<String> {
    let v = report.measurement.targets.get(&name)?;
    let target = match (v.target.as_duration(), v.target.as_ratio()) {
        (Some(d), _) => format_duration(d),
        (_, Some(r)) => format_ratio(r),
        _ => serde_json::to_string(&v.target).unwrap_or_default(),
    };
    let verdict = match &v.verdict {
        Verdict::Met { .. } => "met".to_string(),
        Verdict::Missed { by: Some(Quantity::Duration(by)), .. } => {
            format!("MISSED by {}", format_duration(*by))
        }
        Verdict::Missed { .. } => "MISSED".to_string(),
        Verdict::NotApplicable { .. } => "n/a".to_string(),
    };
    Some(format!("target {target}: {verdict}"))
}

fn with_target(s: String, report: &Report, name: TargetName) -> String {
    match target_note(report, name) {
        Some(t) => format!("{s} ({t})"),
        None => s,
    }
}

fn rto_label(report: &Report) -> String {
    let m = &report.measurement;
    let s = match (m.rto, m.restoration) {
        (Some(rto), _) => format!("RTO {}", format_duration(rto)),
        (None, Restoration::NeverRestored) => "RTO unbounded (never restored)".into(),
        (None, _) => "RTO n/a (no fault)".into(),
    };
    with_target(s, report, TargetName::Rto)
}

fn rpo_label(report: &Report) -> String {
    let m = &report.measurement;
    let lost = match m.lost_writes {
        0 => "no lost write".to_string(),
        1 => "1 lost write".to_string(),
        k => format!("{k} lost writes"),
    };
    let s = match m.rpo {
        Some(rpo) => format!("RPO {} ({lost})", format_duration(rpo)),
        None => format!("RPO unmeasurable ({lost}, no fault)"),
    };
    with_target(s, report, TargetName::Rpo)
}

/// Vertical gridlines and the time axis under `[top, bottom]`. Returns the y below the labels.
fn time_axis(out: &mut String, axis: &Axis, top: f64, bottom: f64) -> f64 {
    let step = tick_step(axis.span());
    let mut t = axis.from.div_ceil(step) * step;
    line(out, (PLOT_X0, bottom), (PLOT_X1, bottom), GREY, "");
    while t <= axis.to {
        let x = axis.x(Duration::from_millis(t));
        line(out, (x, top), (x, bottom), LIGHT, r#"stroke-width="1""#);
        line(out, (x, bottom), (x, bottom + 4.0), GREY, "");
        text(out, x, bottom + 15.0, Anchor::Middle, r##"fill="#444444""##, &tick_label(t, step));
        t += step;
    }
    bottom + 22.0
}

/// A lane's title (and grey subtitle) in the left column.
fn lane_title(out: &mut String, top: f64, title: &str, subtitle: &str) {
    let title = fit(title, PLOT_X0 - TITLE_X - 8.0, 11.0).unwrap_or_default();
    text(out, TITLE_X, top + 13.0, Anchor::Start, r##"font-weight="bold" fill="#222222""##, &title);
    if !subtitle.is_empty() {
        let sub = fit(subtitle, PLOT_X0 - TITLE_X - 8.0, 9.5).unwrap_or_default();
        text(out, TITLE_X, top + 25.0, Anchor::Start, r##"font-size="9.5" fill="#6b6b6b""##, &sub);
    }
}

/// Where a bar's label goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Inside {
    /// Not drawn by the bar.
    No,
    /// Inside, from the left end.
    Left,
    /// Inside, centred.
    Centre,
}

/// A bar with its tooltip; its label inside when it fits.
fn bar(out: &mut String, axis: &Axis, b: &Bar, y: f64, inside_label: Inside) {
    let x0 = axis.x(b.from);
    let x1 = axis.x(b.to).max(x0 + 2.0);
    let _ = writeln!(
        out,
        r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}" rx="2"><title>{}</title></rect>"#,
        n(x0),
        n(y),
        n(x1 - x0),
        n(STRIP),
        b.fill,
        esc(&b.title)
    );
    if inside_label != Inside::No && !b.label.is_empty() {
        if let Some(label) = fit(&b.label, x1 - x0 - 8.0, 10.0) {
            let style = format!(r#"font-size="10" fill="{}""#, b.text);
            match inside_label {
                Inside::Centre => text(out, (x0 + x1) / 2.0, y + 9.5, Anchor::Middle, &style, &label),
                _ => text(out, x0 + 4.0, y + 9.5, Anchor::Start, &style, &label),
            }
        }
    }
}

fn marker_shape(out: &mut String, m: &Marker, x: f64, y: f64) {
    let title = esc(&m.title);
    let fill = m.fill;
    let stroke = r##"stroke="#ffffff" stroke-width="1""##;
    let _ = match m.shape {
        Shape::Circle => writeln!(
            out,
            r#"<circle cx="{}" cy="{}" r="4.5" fill="{fill}" {stroke}><title>{title}</title></circle>"#,
            n(x),
            n(y)
        ),
        Shape::Square => writeln!(
            out,
            r#"<rect x="{}" y="{}" width="8" height="8" fill="{fill}" {stroke}><title>{title}</title></rect>"#,
            n(x - 4.0),
            n(y - 4.0)
        ),
        Shape::Diamond => writeln!(
            out,
            r#"<path d="M{} {} L{} {} L{} {} L{} {} Z" fill="{fill}" {stroke}><title>{title}</title></path>"#,
            n(x),
            n(y - 5.5),
            n(x + 5.5),
            n(y),
            n(x),
            n(y + 5.5),
            n(x - 5.5),
            n(y)
        ),
        Shape::Nothing => Ok(()),
        Shape::Triangle => writeln!(
            out,
            r#"<path d="M{} {} L{} {} L{} {} Z" fill="{fill}" {stroke}><title>{title}</title></path>"#,
            n(x - 5.0),
            n(y - 4.5),
            n(x + 5.0),
            n(y - 4.5),
            n(x),
            n(y + 4.5)
        ),
    };
}

/// A lane: a strip of bars (no rows) with markers on it and their labels in rows underneath,
/// each tied to its marker by a thin leader. Returns the lane's height.
fn marker_lane(
    out: &mut String,
    axis: &Axis,
    top: f64,
    (title, subtitle): (&str, &str),
    bars: &[Bar],
    markers: &[Marker],
    shade: bool,
) -> f64 {
    let strip_y = top + 6.0;
    let mid = strip_y + STRIP / 2.0;
    let markers: Vec<&Marker> = markers.iter().filter(|m| axis.contains(m.at)).collect();
    // Lay the labels out first: the lane's height depends on the rows used.
    let mut rows = Rows::default();
    let mut placed = Vec::new();
    for m in &markers {
        let x = axis.x(m.at);
        let w = text_width(&m.label, 10.0);
        let (a, b, anchor) = if x + 4.0 + w <= PLOT_X1 {
            (x - 1.0, x + 4.0 + w, Anchor::Start)
        } else {
            (x - 4.0 - w, x + 1.0, Anchor::End)
        };
        placed.push((x, rows.place(a, b), anchor));
    }
    let height = (strip_y + STRIP + 4.0 + rows.count() as f64 * ROW + 6.0 - top).max(34.0);
    if shade {
        let _ = writeln!(
            out,
            r##"<rect x="0" y="{}" width="{}" height="{}" fill="#f6f7f9"/>"##,
            n(top),
            n(WIDTH),
            n(height)
        );
    }
    lane_title(out, top, title, subtitle);
    line(out, (PLOT_X0, mid), (PLOT_X1, mid), "#cfcfcf", r#"stroke-dasharray="2 3""#);
    // With markers on the strip, a bar's label goes in its middle, away from the markers at
    // its ends.
    let inside = if markers.is_empty() { Inside::Left } else { Inside::Centre };
    for b in bars.iter().filter(|b| axis.overlaps(b.from, b.to)) {
        bar(out, axis, b, strip_y, inside);
    }
    for (m, (x, row, anchor)) in markers.iter().zip(&placed) {
        let label_y = strip_y + STRIP + 4.0 + (*row as f64 + 1.0) * ROW - 3.0;
        line(out, (*x, mid), (*x, label_y - 3.0), "#9a9a9a", r#"stroke-width="0.7""#);
        let lx = match anchor {
            Anchor::End => x - 3.0,
            _ => x + 3.0,
        };
        text(out, lx, label_y, *anchor, r##"font-size="10" fill="#333333""##, &m.label);
    }
    // Earlier markers on top: the first of several at one instant (an alert) stays visible.
    for (m, (x, _, _)) in markers.iter().zip(&placed).rev() {
        marker_shape(out, m, *x, mid);
    }
    height
}

/// The faults lane: one row per overlapping fault, labels inside the bar or beside it.
fn fault_lane(out: &mut String, axis: &Axis, top: f64, faults: &[Bar], shade: bool) -> f64 {
    let faults: Vec<&Bar> = faults.iter().filter(|b| axis.overlaps(b.from, b.to)).collect();
    let mut rows = Rows::default();
    let mut placed = Vec::new();
    for b in &faults {
        let (x0, x1) = (axis.x(b.from), axis.x(b.to).max(axis.x(b.from) + 2.0));
        let w = text_width(&b.label, 10.0);
        let label = if w + 8.0 <= x1 - x0 {
            (x0, x1, Some((x0 + 4.0, Anchor::Start, "#ffffff")))
        } else if x1 + 4.0 + w <= PLOT_X1 {
            (x0, x1 + 4.0 + w, Some((x1 + 4.0, Anchor::Start, "#7f1d1d")))
        } else if x0 - 4.0 - w >= PLOT_X0 {
            (x0 - 4.0 - w, x1, Some((x0 - 4.0, Anchor::End, "#7f1d1d")))
        } else {
            (x0, x1, None)
        };
        placed.push((rows.place(label.0, label.1), label.2));
    }
    let rows_used = rows.count().max(1) as f64;
    let height = (6.0 + rows_used * (STRIP + 4.0) + 6.0).max(34.0);
    if shade {
        let _ = writeln!(
            out,
            r##"<rect x="0" y="{}" width="{}" height="{}" fill="#f6f7f9"/>"##,
            n(top),
            n(WIDTH),
            n(height)
        );
    }
    let subtitle = if faults.is_empty() { "none injected" } else { "injected to cleared" };
    lane_title(out, top, "Faults", subtitle);
    for (b, (row, label)) in faults.iter().zip(placed) {
        let y = top + 6.0 + row as f64 * (STRIP + 4.0);
        bar(out, axis, b, y, Inside::No);
        match label {
            Some((x, anchor, fill)) => {
                text(out, x, y + 9.5, anchor, &format!(r#"font-size="10" fill="{fill}""#), &b.label)
            }
            None => {
                let x0 = axis.x(b.from);
                let width = axis.x(b.to) - x0 - 8.0;
                if let Some(label) = fit(&b.label, width, 10.0) {
                    text(out, x0 + 4.0, y + 9.5, Anchor::Start, r##"font-size="10" fill="#ffffff""##, &label);
                }
            }
        }
    }
    height
}

/// Step polylines of the success ratio between `top` and `bottom` (0% at the bottom), broken
/// at empty buckets.
fn curve(out: &mut String, axis: &Axis, report: &Report, top: f64, bottom: f64, stroke_width: f64) {
    let c = &report.success_curve;
    let y = |r: f64| bottom - r.clamp(0.0, 1.0) * (bottom - top);
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut prev_end: Option<Duration> = None;
    for &(start, ratio) in &c.points {
        let end = start + c.bucket;
        if !axis.overlaps(start, end) || millis(end) == axis.from {
            continue;
        }
        if prev_end != Some(start) {
            runs.push(Vec::new());
        }
        let run = runs.last_mut().expect("a run was just pushed");
        let (x0, x1, yy) = (axis.x(start), axis.x(end), y(ratio));
        run.push((x0, yy));
        run.push((x1, yy));
        prev_end = Some(end);
    }
    for run in runs {
        let mut points = String::new();
        let mut last: Option<(String, String)> = None;
        for (x, yy) in run {
            let p = (n(x), n(yy));
            if last.as_ref() == Some(&p) {
                continue;
            }
            if !points.is_empty() {
                points.push(' ');
            }
            let _ = write!(points, "{},{}", p.0, p.1);
            last = Some(p);
        }
        let _ = writeln!(
            out,
            r#"<polyline points="{points}" fill="none" stroke="{BLUE}" stroke-width="{}" stroke-linejoin="round"/>"#,
            n(stroke_width)
        );
    }
}

/// The success-ratio lane: 0..100% with the threshold dashed. Returns its height.
fn curve_lane(out: &mut String, axis: &Axis, report: &Report, top: f64) -> f64 {
    let m = &report.measurement;
    let (plot_top, plot_bottom) = (top + 14.0, top + 134.0);
    let bucket = format_duration(report.success_curve.bucket);
    lane_title(out, top, "Success ratio", &format!("customers' ok / sent per {bucket}"));
    let y = |r: f64| plot_bottom - r * (plot_bottom - plot_top);
    for (r, label) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
        line(out, (PLOT_X0, y(r)), (PLOT_X1, y(r)), LIGHT, "");
        text(out, PLOT_X0 - 5.0, y(r) + 3.5, Anchor::End, r##"font-size="9.5" fill="#6b6b6b""##, label);
    }
    let ty = y(m.success_threshold.clamp(0.0, 1.0));
    line(out, (PLOT_X0, ty), (PLOT_X1, ty), GREEN, r#"stroke-dasharray="6 4" stroke-width="1.2""#);
    let threshold = format!(
        "threshold {} over every {} window",
        format_ratio(m.success_threshold),
        format_duration(m.window)
    );
    text(out, PLOT_X1 - 2.0, ty + 13.0, Anchor::End, r##"font-size="9.5" fill="#1b5e20""##, &threshold);
    if report.success_curve.points.is_empty() {
        text(
            out,
            (PLOT_X0 + PLOT_X1) / 2.0,
            y(0.5),
            Anchor::Middle,
            r##"fill="#6b6b6b""##,
            "no client request",
        );
    }
    curve(out, axis, report, plot_top, plot_bottom, 1.6);
    plot_bottom - top + 6.0
}

/// A vertical line across `[top, bottom]` at `t`.
fn vline(out: &mut String, axis: &Axis, t: Duration, top: f64, bottom: f64, colour: &str, dash: &str) {
    if axis.contains(t) {
        let x = axis.x(t);
        line(out, (x, top), (x, bottom), colour, &format!(r#"stroke-width="1.4" stroke-dasharray="{dash}""#));
    }
}

/// The incident instants drawn as vertical lines: `(when, colour, dash, label)`.
fn instants(report: &Report) -> Vec<(Duration, &'static str, &'static str, String)> {
    let m = &report.measurement;
    let mut v = Vec::new();
    if let Some(oldest) = m.oldest_lost_write {
        v.push((oldest, PURPLE, "3 3", format!("oldest lost write {}", format_clock(oldest))));
    }
    if let Some(t) = m.t_fault {
        v.push((t, RED, "5 3", format!("fault {}", format_clock(t))));
    }
    if let Restoration::Restored { at } = m.restoration {
        v.push((at, GREEN, "5 3", format!("restored {}", format_clock(at))));
    }
    v
}

/// The strip for the whole run, with the zoomed range shaded. Returns the y below it.
fn overview(
    out: &mut String,
    report: &Report,
    model: &Model,
    axis: &Axis,
    (from, to): (Duration, Duration),
    top: f64,
) -> f64 {
    let top = top + 4.0;
    lane_title(out, top, "Whole run", "faults and success ratio");
    let faults_y = top + 4.0;
    for b in &model.faults {
        bar(out, axis, b, faults_y, Inside::No);
    }
    let (ct, cb) = (top + 22.0, top + 70.0);
    line(out, (PLOT_X0, ct), (PLOT_X1, ct), LIGHT, "");
    let ty = cb - report.measurement.success_threshold.clamp(0.0, 1.0) * (cb - ct);
    line(out, (PLOT_X0, ty), (PLOT_X1, ty), GREEN, r#"stroke-dasharray="6 4" stroke-width="1""#);
    text(out, PLOT_X0 - 5.0, ct + 3.5, Anchor::End, r##"font-size="9.5" fill="#6b6b6b""##, "100%");
    text(out, PLOT_X0 - 5.0, cb + 3.5, Anchor::End, r##"font-size="9.5" fill="#6b6b6b""##, "0%");
    curve(out, axis, report, ct, cb, 1.2);
    let (x0, x1) = (axis.x(from), axis.x(to));
    let _ = writeln!(
        out,
        r##"<rect x="{}" y="{}" width="{}" height="{}" fill="#1f77b4" fill-opacity="0.08" stroke="#1f77b4" stroke-width="1"/>"##,
        n(x0),
        n(top),
        n(x1 - x0),
        n(cb - top + 2.0)
    );
    let note =
        format!("detail below: {} to {}", tick_label(millis(from), 60_000), tick_label(millis(to), 60_000));
    let (nx, anchor) = if x1 + 6.0 + text_width(&note, 10.0) <= PLOT_X1 {
        (x1 + 6.0, Anchor::Start)
    } else {
        (x0 - 6.0, Anchor::End)
    };
    text(out, nx, (ct + cb) / 2.0 + 4.0, anchor, r##"font-size="10" fill="#1f77b4""##, &note);
    for (t, colour, dash, _) in instants(report) {
        vline(out, axis, t, top, cb, colour, dash);
    }
    let below = time_axis(out, axis, cb, cb + 2.0);
    below + 8.0
}

/// The detailed lanes over `axis`, with the RTO and RPO spans above them. Returns the y below.
fn detail(out: &mut String, report: &Report, model: &Model, axis: &Axis, top: f64) -> f64 {
    let m = &report.measurement;
    let mut y = top + 8.0;

    // RTO and RPO spans, then the instants' labels, above the lanes.
    let span_y = y + 16.0;
    let mut spans = String::new();
    if let Some(t0) = m.t_fault {
        let end = match m.restoration {
            Restoration::Restored { at } => Some((at, GREEN, "")),
            Restoration::NeverRestored => Some((model.end, RED, r#"stroke-dasharray="4 3""#)),
            _ => None,
        };
        if let Some((end, colour, dash)) = end {
            span(&mut spans, axis, (t0, end), span_y, colour, dash, &rto_label(report), Anchor::Start);
        } else if m.rto == Some(Duration::ZERO) && axis.contains(t0) {
            text(
                &mut spans,
                axis.x(t0) + 4.0,
                span_y - 4.0,
                Anchor::Start,
                r#"font-weight="bold""#,
                &rto_label(report),
            );
        }
        if let Some(oldest) = m.oldest_lost_write.filter(|o| *o < t0) {
            span(&mut spans, axis, (oldest, t0), span_y, PURPLE, "", &rpo_label(report), Anchor::End);
        }
    }
    out.push_str(&spans);
    y = span_y + 8.0;

    let marks = instants(report);
    let mut rows = Rows::default();
    let mut placed = Vec::new();
    for (t, colour, _, label) in &marks {
        if !axis.contains(*t) {
            continue;
        }
        let x = axis.x(*t);
        let w = text_width(label, 10.0);
        let purple = *colour == PURPLE;
        let left = purple || x + 4.0 + w > PLOT_X1;
        let (a, b) = if left { (x - 4.0 - w, x) } else { (x, x + 4.0 + w) };
        placed.push((x, rows.place(a, b), left, *colour, label.clone()));
    }
    for (x, row, left, colour, label) in &placed {
        let ly = y + 10.0 + *row as f64 * ROW;
        let (lx, anchor) = if *left { (x - 4.0, Anchor::End) } else { (x + 4.0, Anchor::Start) };
        text(out, lx, ly, anchor, &format!(r#"font-size="10" fill="{colour}""#), label);
    }
    y += rows.count() as f64 * ROW + 6.0;

    // Lanes are drawn into their own buffer: the gridlines go first, behind them, and reach
    // as far down as the lanes do.
    let lanes_top = y;
    let mut lanes = String::new();
    let mut shade = false;
    if !m.rto_breakdown.is_empty() {
        let (bars, labels) = rto_split(report, axis);
        y += marker_lane(
            &mut lanes,
            axis,
            y,
            ("RTO split", "critical path to restored"),
            &bars,
            &labels,
            true,
        );
    }
    y += fault_lane(&mut lanes, axis, y, &model.faults, shade);
    if model.health.is_empty() {
        shade = !shade;
        let none = [Bar {
            fill: LIGHT,
            label: "no alert reached the pager: the monitor's view is unknown".into(),
            title: "no notification of an incident reached the pager".into(),
            ..healthy(Duration::ZERO, model.end)
        }];
        y += marker_lane(&mut lanes, axis, y, ("Monitor", "no incident paged"), &none, &[], shade);
    }
    for (service, bars) in &model.health {
        shade = !shade;
        y += marker_lane(&mut lanes, axis, y, (service, "health, as paged by the monitor"), bars, &[], shade);
    }
    shade = !shade;
    y += marker_lane(
        &mut lanes,
        axis,
        y,
        ("Pages and acks", "alerts, pages, acknowledgements"),
        &[],
        &model.pages,
        shade,
    );
    shade = !shade;
    y += marker_lane(
        &mut lanes,
        axis,
        y,
        ("Failover", "first action to completed"),
        &model.failover_bars,
        &model.failover_marks,
        shade,
    );
    shade = !shade;
    y += marker_lane(&mut lanes, axis, y, ("DNS", "record changes"), &[], &model.dns, shade);
    y += curve_lane(&mut lanes, axis, report, y);

    let below = time_axis(out, axis, lanes_top, y);
    out.push_str(&lanes);
    for (t, colour, dash, _) in &marks {
        vline(out, axis, *t, span_y, y, colour, dash);
    }
    below
}

/// The RTO's critical-path segments as contiguous bars; a label that does not fit inside its
/// bar hangs underneath it instead.
fn rto_split(report: &Report, axis: &Axis) -> (Vec<Bar>, Vec<Marker>) {
    let m = &report.measurement;
    let (mut bars, mut labels) = (Vec::new(), Vec::new());
    let Some(mut from) = m.t_fault else { return (bars, labels) };
    for share in &m.rto_breakdown {
        let to = from + share.duration;
        if share.duration.is_zero() {
            continue;
        }
        let label = format!(
            "{} {} ({:.0}%)",
            share.segment.name(),
            format_duration(share.duration),
            share.share * 100.0
        );
        let fill = match share.segment {
            RtoSegment::Detect => "#f4a582",
            RtoSegment::Respond => "#fddbc7",
            RtoSegment::Mitigate => "#92c5de",
            RtoSegment::Recover => "#b8e186",
        };
        let title = format!("{}: {} to {}", share.segment.describe(), format_clock(from), format_clock(to));
        let inside = text_width(&label, 10.0) + 8.0 <= axis.x(to) - axis.x(from);
        if !inside {
            labels.push(Marker {
                at: from + share.duration / 2,
                label: label.clone(),
                shape: Shape::Nothing,
                fill: INK,
                title: title.clone(),
            });
        }
        let label = if inside { label } else { String::new() };
        bars.push(Bar { from, to, label, fill, text: INK, title });
        from = to;
    }
    (bars, labels)
}

/// A horizontal span `[a, b]` with end ticks and a bold label above (centred when it fits).
#[allow(clippy::too_many_arguments)]
fn span(
    out: &mut String,
    axis: &Axis,
    (a, b): (Duration, Duration),
    y: f64,
    colour: &str,
    dash: &str,
    label: &str,
    overflow: Anchor,
) {
    if !axis.overlaps(a, b) {
        return;
    }
    let (x0, x1) = (axis.x(a), axis.x(b));
    line(out, (x0, y), (x1, y), colour, &format!(r#"stroke-width="2" {dash}"#));
    for x in [x0, x1] {
        line(out, (x, y - 5.0), (x, y + 5.0), colour, r#"stroke-width="2""#);
    }
    let w = text_width(label, 11.0);
    let (x, anchor) = if w + 8.0 <= x1 - x0 {
        ((x0 + x1) / 2.0, Anchor::Middle)
    } else {
        match overflow {
            Anchor::End => (x0 - 6.0, Anchor::End),
            _ => (x0 + 4.0, Anchor::Start),
        }
    };
    let style = format!(r#"font-weight="bold" fill="{colour}""#);
    text(out, x, y - 5.0, anchor, &style, label);
}
