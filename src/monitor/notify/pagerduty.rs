//! PagerDuty Events API v2 payloads: trigger, acknowledge and resolve, one `dedup_key` per
//! incident so that PagerDuty folds every event of an incident into one of its own.

use serde_json::{Value, json};

use crate::monitor::event::{Event, IncidentId, Severity};
use crate::monitor::notify::notice::{Notice, Subject};
use crate::monitor::notify::slack::headline;

/// The `dedup_key` of an incident: stable across restarts, unique per incident.
pub fn dedup_key(service: &str, incident: IncidentId) -> String {
    format!("gameday/{service}/{incident}")
}

fn pd_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Sev1 => "critical",
        Severity::Sev2 => "error",
        Severity::Sev3 => "warning",
        Severity::Sev4 => "info",
    }
}

/// The event body for `notice`, or `None` when PagerDuty need not hear about it.
///
/// Pages and severity rises trigger (PagerDuty updates the alert in place), an acknowledgement
/// acknowledges, a resolution resolves; everything else stays in Slack.
pub fn payload(notice: &Notice, routing_key: &str) -> Option<Value> {
    let (action, dedup, details) = match &notice.subject {
        Subject::Test => {
            ("trigger", format!("gameday/test/{}", notice.at.as_millis()), json!({"test": true}))
        }
        Subject::Event(event) => match event {
            Event::Paged { incident, service, level, notify } => (
                "trigger",
                dedup_key(service, *incident),
                json!({"event": "paged", "incident": incident.to_string(), "level": level, "notify": notify}),
            ),
            Event::SeverityRaised { incident, service, from, to, .. } => (
                "trigger",
                dedup_key(service, *incident),
                json!({"event": "severity_raised", "incident": incident.to_string(), "from": from, "to": to}),
            ),
            Event::Acknowledged { incident, service, .. } => {
                ("acknowledge", dedup_key(service, *incident), Value::Null)
            }
            Event::Resolved { incident, service, .. } => {
                ("resolve", dedup_key(service, *incident), Value::Null)
            }
            _ => return None,
        },
    };
    let mut body = json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": dedup,
    });
    if action == "trigger" {
        let mut payload = json!({
            "summary": headline(notice).unwrap_or_default(),
            "source": notice.source,
            "severity": pd_severity(notice.severity),
            "timestamp": notice.at.to_string(),
            "component": notice.service(),
            "class": "health_check",
            "custom_details": details,
        });
        if let Some(region) = &notice.region {
            payload["group"] = json!(region);
        }
        body["payload"] = payload;
        body["client"] = json!("gameday");
        if let Some(runbook) = &notice.runbook {
            body["links"] = json!([{"href": runbook, "text": "Runbook"}]);
        }
    }
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::event::Resolution;
    use crate::time::Timestamp;

    fn notice(event: Event) -> Notice {
        Notice {
            at: Timestamp::from_millis(0),
            subject: Subject::Event(event),
            severity: Severity::Sev1,
            region: Some("us-east-1".into()),
            runbook: Some("https://runbooks.example.com/api".into()),
            source: "mon".into(),
        }
    }

    #[test]
    fn trigger_and_resolve_share_the_incident_dedup_key() {
        let id = IncidentId(4);
        let page =
            notice(Event::Paged { incident: id, service: "api".into(), level: 1, notify: "primary".into() });
        let trigger = payload(&page, "KEY").unwrap();
        assert_eq!(trigger["event_action"], "trigger");
        assert_eq!(trigger["payload"]["severity"], "critical");
        assert_eq!(trigger["payload"]["group"], "us-east-1");
        assert_eq!(trigger["links"][0]["href"], "https://runbooks.example.com/api");
        let resolved = notice(Event::Resolved {
            incident: id,
            service: "api".into(),
            resolution: Resolution::Recovered,
        });
        let resolve = payload(&resolved, "KEY").unwrap();
        assert_eq!(resolve["event_action"], "resolve");
        assert_eq!(resolve["dedup_key"], trigger["dedup_key"]);
        assert!(resolve.get("payload").is_none());
    }
}
