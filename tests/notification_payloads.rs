//! Every Slack and PagerDuty payload the monitor can send, as reviewed snapshots: a change to
//! what an on-call reads at 3 a.m. shows up as a diff in `snapshots/`.

use gameday::monitor::event::{
    Event, Health, IncidentId, RaiseReason, Resolution, Severity, StepOutcome, Trigger,
};
use gameday::monitor::notify::{Notice, Subject, pagerduty, slack};
use gameday::time::Timestamp;
use serde_json::{Value, json};

fn notices() -> Vec<(&'static str, Notice)> {
    let id = IncidentId(7);
    let service = || "order-service".to_owned();
    let events = vec![
        (
            "health_changed",
            Event::HealthChanged { service: service(), from: Health::Healthy, to: Health::Degraded },
            Severity::Sev4,
        ),
        (
            "incident_opened",
            Event::IncidentOpened {
                incident: id,
                service: service(),
                severity: Severity::Sev3,
                consecutive_failures: 3,
                declared: None,
            },
            Severity::Sev3,
        ),
        (
            "incident_declared",
            Event::IncidentOpened {
                incident: id,
                service: service(),
                severity: Severity::Sev2,
                consecutive_failures: 0,
                declared: Some("customers report missing orders".into()),
            },
            Severity::Sev2,
        ),
        (
            "severity_raised",
            Event::SeverityRaised {
                incident: id,
                service: service(),
                from: Severity::Sev3,
                to: Severity::Sev2,
                reason: RaiseReason::ConsecutiveFailures,
            },
            Severity::Sev2,
        ),
        (
            "paged",
            Event::Paged { incident: id, service: service(), level: 2, notify: "secondary".into() },
            Severity::Sev2,
        ),
        (
            "escalation_exhausted",
            Event::EscalationExhausted { incident: id, service: service() },
            Severity::Sev2,
        ),
        (
            "acknowledged",
            Event::Acknowledged { incident: id, service: service(), by: "alice".into() },
            Severity::Sev2,
        ),
        (
            "failover_awaiting_decision",
            Event::FailoverAwaitingDecision { incident: id, service: service() },
            Severity::Sev1,
        ),
        (
            "failover_started",
            Event::FailoverStarted { incident: id, service: service(), trigger: Trigger::Automatic },
            Severity::Sev1,
        ),
        (
            "failover_step_finished",
            Event::FailoverStepFinished {
                incident: id,
                service: service(),
                outcome: StepOutcome {
                    step: "promote-replica".into(),
                    attempts: 3,
                    ok: false,
                    status: Some(503),
                    error: None,
                    elapsed_ms: 4200,
                },
            },
            Severity::Sev1,
        ),
        (
            "failover_finished",
            Event::FailoverFinished {
                incident: id,
                service: service(),
                ok: false,
                failed_step: Some("promote-replica".into()),
            },
            Severity::Sev1,
        ),
        (
            "resolved",
            Event::Resolved { incident: id, service: service(), resolution: Resolution::Recovered },
            Severity::Sev1,
        ),
    ];
    let notice = |subject, severity| Notice {
        at: Timestamp::from_millis(1_796_354_220_000),
        subject,
        severity,
        region: Some("us-east-1".into()),
        runbook: Some("https://runbooks.example.com/order-service".into()),
        source: "gameday-monitor".into(),
    };
    let mut all: Vec<_> =
        events.into_iter().map(|(name, e, sev)| (name, notice(Subject::Event(e), sev))).collect();
    all.push(("test_alert", notice(Subject::Test, Severity::Sev4)));
    all
}

#[test]
fn payloads_per_event() {
    let mut doc = serde_json::Map::new();
    for (name, notice) in notices() {
        let slack = slack::payload(&notice).unwrap_or(Value::Null);
        let pagerduty = pagerduty::payload(&notice, "R0UT1NGKEY").unwrap_or(Value::Null);
        doc.insert(name.to_owned(), json!({"slack": slack, "pagerduty": pagerduty}));
    }
    insta::with_settings!({snapshot_path => "../snapshots", sort_maps => true, prepend_module_to_snapshot => false}, {
        insta::assert_yaml_snapshot!("notification_payloads", Value::Object(doc));
    });
}

#[test]
fn every_pagerduty_event_of_an_incident_shares_its_dedup_key() {
    let keys: Vec<String> = notices()
        .iter()
        .filter_map(|(_, n)| pagerduty::payload(n, "K"))
        .filter(|p| p["payload"]["custom_details"]["test"].is_null())
        .map(|p| p["dedup_key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 4, "paged, severity_raised, acknowledged, resolved: {keys:?}");
    assert!(keys.iter().all(|k| k == "gameday/order-service/INC-7"), "{keys:?}");
}
