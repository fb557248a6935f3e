//! Slack incoming-webhook payloads: a `text` fallback plus Block Kit `blocks`.

use serde_json::{Value, json};

use crate::monitor::event::{Event, RaiseReason, Resolution, Trigger};
use crate::monitor::notify::notice::{Notice, Subject};

/// The headline of a notice, or `None` when Slack need not hear about it.
pub fn headline(notice: &Notice) -> Option<String> {
    let sev = notice.severity;
    let Subject::Event(event) = &notice.subject else {
        return Some(format!(":test_tube: [{sev}] Test alert from {}: notifications work", notice.source));
    };
    let text = match event {
        Event::HealthChanged { .. } => return None,
        Event::IncidentOpened { incident, service, declared: Some(report), .. } => {
            format!(":rotating_light: [{sev}] {incident} {service} declared: {report}")
        }
        Event::IncidentOpened { incident, service, consecutive_failures, declared: None, .. } => {
            format!(
                ":rotating_light: [{sev}] {incident} {service} is unhealthy: {consecutive_failures} consecutive failed probes"
            )
        }
        Event::SeverityRaised { incident, service, from, to, reason } => {
            let why = match reason {
                RaiseReason::ConsecutiveFailures => "failures continue",
                RaiseReason::FailoverFailed => "failover failed",
            };
            format!(":arrow_double_up: [{to}] {incident} {service} raised from {from} to {to}: {why}")
        }
        Event::Paged { incident, level, notify, .. } => {
            format!(":pager: [{sev}] {incident} paging {notify} (escalation level {level})")
        }
        Event::EscalationExhausted { incident, service } => {
            format!(
                ":warning: [{sev}] {incident} {service}: nobody acknowledged; the escalation chain is exhausted"
            )
        }
        Event::Acknowledged { incident, by, .. } => {
            format!(":eyes: [{sev}] {incident} acknowledged by {by}")
        }
        Event::FailoverAwaitingDecision { incident, service } => format!(
            ":raised_hand: [{sev}] {incident} {service} reached its failover threshold; waiting for an operator (POST /api/failover/{service})"
        ),
        Event::FailoverStarted { incident, service, trigger } => {
            let how = match trigger {
                Trigger::Automatic => "automatic",
                Trigger::Manual => "manual",
            };
            format!(":arrows_counterclockwise: [{sev}] {incident} failover of {service} started ({how})")
        }
        Event::FailoverStepFinished { incident, outcome, .. } => {
            let mark = if outcome.ok { ":heavy_check_mark:" } else { ":x:" };
            let detail = match (&outcome.status, &outcome.error) {
                (_, Some(e)) => format!(": {e}"),
                (Some(s), None) => format!(": HTTP {s}"),
                (None, None) => String::new(),
            };
            format!(
                "{mark} {incident} failover step {} after {} attempt(s){detail}",
                outcome.step, outcome.attempts
            )
        }
        Event::FailoverFinished { incident, service, ok: true, .. } => {
            format!(":white_check_mark: [{sev}] {incident} failover of {service} completed")
        }
        Event::FailoverFinished { incident, service, failed_step, .. } => format!(
            ":x: [{sev}] {incident} failover of {service} FAILED at step {}",
            failed_step.as_deref().unwrap_or("?")
        ),
        Event::Resolved { incident, service, resolution } => {
            let how = match resolution {
                Resolution::Recovered => "probes succeed again",
                Resolution::Operator => "resolved by an operator",
            };
            format!(":white_check_mark: [{sev}] {incident} {service} resolved: {how}")
        }
    };
    Some(text)
}

/// The webhook body for `notice`, or `None` when Slack need not hear about it.
pub fn payload(notice: &Notice) -> Option<Value> {
    let text = headline(notice)?;
    let mut fields = vec![
        json!({"type": "mrkdwn", "text": format!("*Service*\n{}", notice.service())}),
        json!({"type": "mrkdwn", "text": format!("*Severity*\n{}", notice.severity)}),
        json!({"type": "mrkdwn", "text": format!("*At*\n{}", notice.at)}),
    ];
    if let Some(region) = &notice.region {
        fields.push(json!({"type": "mrkdwn", "text": format!("*Region*\n{region}")}));
    }
    if let Subject::Event(event) = &notice.subject {
        if let Some(incident) = event.incident() {
            fields.push(json!({"type": "mrkdwn", "text": format!("*Incident*\n{incident}")}));
        }
    }
    let mut blocks = vec![
        json!({"type": "section", "text": {"type": "mrkdwn", "text": text}}),
        json!({"type": "section", "fields": fields}),
    ];
    if let Some(runbook) = &notice.runbook {
        blocks.push(json!({"type": "context", "elements": [
            {"type": "mrkdwn", "text": format!("<{runbook}|Runbook>")}
        ]}));
    }
    Some(json!({"text": text, "blocks": blocks}))
}
