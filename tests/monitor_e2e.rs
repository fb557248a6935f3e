//! The real monitor against real HTTP servers on 127.0.0.1: no mocks of the network.

mod support;

use std::time::Duration;

use gameday::monitor::event::{Event, Severity};
use gameday::monitor::store::{JsonlStore, MemoryStore};
use support::{
    Behavior, Recorder, config, eventually, get, pagerduty_events, post, request, slack_texts, start_monitor,
};

const WAIT: Duration = Duration::from_secs(10);

/// A monitor config for one service probed every 40 ms, with Slack and PagerDuty on `hooks`.
fn one_service(service: &Recorder, hooks: &Recorder, extra_service: &str, extra: &str) -> String {
    format!(
        r#"
[api]
listen = "127.0.0.1:0"
[alerts]
slack_url = "{slack}"
pagerduty_url = "{pd}"
pagerduty_routing_key = "R0UT1NGKEY"
runbook_base_url = "https://runbooks.example.com"
backoff = "20ms"
max_backoff = "50ms"
timeout = "300ms"
[[services]]
name = "order-service"
region = "us-east-1"
url = "{health}"
interval = "40ms"
timeout = "30ms"
{extra_service}
[[escalation]]
notify = "primary"
ack_timeout = "5m"
{extra}
"#,
        slack = hooks.url("/slack"),
        pd = hooks.url("/pagerduty"),
        health = service.url("/health"),
    )
}

fn opened(store: &MemoryStore) -> Vec<(u64, Severity, u32)> {
    store
        .records()
        .into_iter()
        .filter_map(|r| match r.event {
            Event::IncidentOpened { incident, severity, consecutive_failures, .. } => {
                Some((incident.0, severity, consecutive_failures))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_after_exactly_alert_after_failures_and_not_one_fewer() {
    let (service, hooks) = (Recorder::start().await, Recorder::start().await);
    // Two failures, then healthy: one short of alert_after = 3, so no incident.
    service.set("/health", Behavior::Script(vec![503, 503], 200));
    let store = MemoryStore::default();
    let thresholds = "alert_after = 3\nfailover_after = 6";
    let monitor = start_monitor(config(&one_service(&service, &hooks, thresholds, "")), store.clone()).await;
    eventually("ten probes", WAIT, || async { (service.seen("/health").len() >= 10).then_some(()) }).await;
    assert!(opened(&store).is_empty(), "two failures must not alert");
    assert!(hooks.all().is_empty(), "nothing may be notified: {:?}", hooks.all());

    // Exactly three failures in a row: one incident, opened at the third, resolved after.
    service.set("/health", Behavior::Script(vec![503, 503, 503], 200));
    eventually("the resolve", WAIT, || async {
        pagerduty_events(&hooks).iter().any(|(action, ..)| action == "resolve").then_some(())
    })
    .await;
    assert_eq!(opened(&store), vec![(1, Severity::Sev3, 3)]);
    let texts = slack_texts(&hooks);
    assert!(
        texts[0].contains("[SEV3] INC-1 order-service is unhealthy: 3 consecutive failed probes"),
        "{texts:?}"
    );
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn severity_rises_steps_run_in_order_and_resolve_reuses_the_dedup_key() {
    let (service, hooks, steps) = (Recorder::start().await, Recorder::start().await, Recorder::start().await);
    service.set("/health", Behavior::Status(503));
    let extra = format!(
        r#"alert_after = 2
failover_after = 5
failover = "automatic"
[[services.failover_steps]]
name = "promote-replica"
url = "{}"
timeout = "1s"
[[services.failover_steps]]
name = "switch-dns"
method = "PUT"
url = "{}"
timeout = "1s"
body = '{{"record": "orders", "to": "us-west-2"}}'"#,
        steps.url("/promote"),
        steps.url("/dns"),
    );
    let store = MemoryStore::default();
    let monitor = start_monitor(config(&one_service(&service, &hooks, &extra, "")), store.clone()).await;
    let api = monitor.api_addr();

    eventually("both steps", WAIT, || async { (steps.all().len() == 2).then_some(()) }).await;
    let calls = steps.all();
    assert_eq!((calls[0].method.as_str(), calls[0].path.as_str()), ("POST", "/promote"));
    assert_eq!((calls[1].method.as_str(), calls[1].path.as_str()), ("PUT", "/dns"));
    assert_eq!(calls[1].json()["to"], "us-west-2");
    assert!(calls[0].at <= calls[1].at);

    let failovers = eventually("a finished failover", WAIT, || async {
        let f = get(api, "/api/failovers").await.json();
        (f[0]["status"] == "succeeded").then_some(f)
    })
    .await;
    assert_eq!(failovers[0]["trigger"], "automatic");
    assert_eq!(failovers[0]["steps"].as_array().unwrap().len(), 2);

    // SEV3 at 2 failures, SEV2 at 4, SEV1 at 5: each rise notified.
    let raised: Vec<(Severity, Severity)> = store
        .records()
        .into_iter()
        .filter_map(|r| match r.event {
            Event::SeverityRaised { from, to, .. } => Some((from, to)),
            _ => None,
        })
        .collect();
    assert_eq!(raised, vec![(Severity::Sev3, Severity::Sev2), (Severity::Sev2, Severity::Sev1)]);
    let texts = slack_texts(&hooks);
    for expected in [
        "[SEV3] INC-1",
        "raised from SEV3 to SEV2",
        "raised from SEV2 to SEV1",
        "failover of order-service completed",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(expected)),
            "no Slack message with {expected:?} in {texts:#?}"
        );
    }
    let slack = hooks.bodies("/slack");
    assert!(slack[0]["blocks"].as_array().is_some_and(|b| !b.is_empty()));

    service.set("/health", Behavior::Status(200));
    let events = eventually("the resolve", WAIT, || async {
        let events = pagerduty_events(&hooks);
        events.iter().any(|(a, ..)| a == "resolve").then_some(events)
    })
    .await;
    let trigger = events.iter().find(|(a, ..)| a == "trigger").unwrap();
    let resolve = events.iter().find(|(a, ..)| a == "resolve").unwrap();
    assert_eq!(resolve.1, trigger.1, "resolve must carry the trigger's dedup_key");
    assert_eq!(trigger.1, "gameday/order-service/INC-1");
    let first = &hooks.bodies("/pagerduty")[0];
    assert_eq!(first["routing_key"], "R0UT1NGKEY");
    assert_eq!(first["payload"]["source"], "gameday-monitor");
    assert_eq!(first["links"][0]["href"], "https://runbooks.example.com/order-service");
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_step_stops_the_run_and_raises_sev1_and_manual_mode_waits_for_the_api() {
    let (service, hooks, steps) = (Recorder::start().await, Recorder::start().await, Recorder::start().await);
    service.set("/health", Behavior::Status(500));
    steps.set("/promote", Behavior::Status(500));
    let extra = format!(
        r#"alert_after = 2
failover_after = 1000
failover = "manual"
[[services.failover_steps]]
name = "promote-replica"
url = "{}"
timeout = "1s"
retries = 1
retry_backoff = "10ms"
[[services.failover_steps]]
name = "switch-dns"
url = "{}""#,
        steps.url("/promote"),
        steps.url("/dns"),
    );
    let monitor =
        start_monitor(config(&one_service(&service, &hooks, &extra, "")), MemoryStore::default()).await;
    let api = monitor.api_addr();
    eventually("the incident", WAIT, || async {
        (get(api, "/api/status/order-service").await.json()["incident"] == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(steps.all().is_empty(), "manual mode must not fail over on its own");

    let started = post(api, "/api/failover/order-service", None).await;
    assert_eq!(started.status, 202, "{}", started.body);
    let failovers = eventually("the failed failover", WAIT, || async {
        let f = get(api, "/api/failovers").await.json();
        (f[0]["status"] == "failed").then_some(f)
    })
    .await;
    assert_eq!(failovers[0]["failed_step"], "promote-replica");
    assert_eq!(failovers[0]["steps"][0]["attempts"], 2, "one retry");
    assert_eq!(steps.seen("/promote").len(), 2);
    assert!(steps.seen("/dns").is_empty(), "steps after a failed one must not run");
    let incidents = get(api, "/api/incidents").await.json();
    assert_eq!(incidents[0]["severity"], "SEV1");
    eventually("the SEV1 rise in Slack", WAIT, || async {
        slack_texts(&hooks).iter().any(|t| t.contains("to SEV1: failover failed")).then_some(())
    })
    .await;
    // A failed failover may be retried by an operator; an unknown service is a 404.
    assert_eq!(post(api, "/api/failover/order-service", None).await.status, 202);
    assert_eq!(post(api, "/api/failover/nope", None).await.status, 404);
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_pages_the_next_level_after_the_timeout_and_an_ack_stops_it() {
    let (service, hooks) = (Recorder::start().await, Recorder::start().await);
    service.set("/health", Behavior::Status(503));
    let chain = r#"[[escalation]]
notify = "secondary"
ack_timeout = "300ms"
[[escalation]]
notify = "manager"
ack_timeout = "300ms""#;
    let text = one_service(&service, &hooks, "alert_after = 1\nfailover_after = 1000", chain)
        .replace("\"5m\"", "\"300ms\"");
    let monitor = start_monitor(config(&text), MemoryStore::default()).await;
    let api = monitor.api_addr();
    let pages = |hooks: &Recorder| {
        hooks
            .seen("/pagerduty")
            .into_iter()
            .filter(|s| s.json()["payload"]["custom_details"]["event"] == "paged")
            .collect::<Vec<_>>()
    };
    let two = eventually("two pages", WAIT, || async { Some(pages(&hooks)).filter(|p| p.len() >= 2) }).await;
    assert_eq!(two[0].json()["payload"]["custom_details"]["notify"], "primary");
    assert_eq!(two[1].json()["payload"]["custom_details"]["notify"], "secondary");
    assert!(
        two[1].at - two[0].at >= Duration::from_millis(290),
        "level 2 paged {:?} after level 1",
        two[1].at - two[0].at
    );

    let ack = post(api, "/api/incidents/1/ack", Some(r#"{"by": "alice"}"#)).await;
    assert_eq!(ack.status, 200, "{}", ack.body);
    assert_eq!(ack.json()["acknowledged_by"], "alice");
    let count = pages(&hooks).len();
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(pages(&hooks).len(), count, "no page after the ack");
    assert!(count < 3 || pages(&hooks)[2].json()["payload"]["custom_details"]["notify"] == "manager");
    assert!(
        pagerduty_events(&hooks)
            .iter()
            .any(|(a, k, _)| a == "acknowledge" && k == "gameday/order-service/INC-1")
    );
    // Acknowledging twice is harmless; an unknown id is a 404, a bad one a 400.
    assert_eq!(post(api, "/api/incidents/1/ack", None).await.status, 200);
    assert_eq!(post(api, "/api/incidents/99/ack", None).await.status, 404);
    assert_eq!(post(api, "/api/incidents/x/ack", None).await.status, 400);
    assert_eq!(post(api, "/api/incidents/1/ack", Some("{not json")).await.status, 400);
    // Resolving by hand ends it; a second resolve is a conflict.
    assert_eq!(post(api, "/api/incidents/1/resolve", None).await.status, 200);
    assert_eq!(post(api, "/api/incidents/1/resolve", None).await.status, 409);
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_history_and_pages_nobody_twice() {
    let (service, hooks) = (Recorder::start().await, Recorder::start().await);
    service.set("/health", Behavior::Status(503));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents.jsonl");
    let text = one_service(&service, &hooks, "alert_after = 2\nfailover_after = 1000", "");

    let monitor = start_monitor(config(&text), JsonlStore::open(&path).unwrap()).await;
    eventually("the first page", WAIT, || async { (!pagerduty_events(&hooks).is_empty()).then_some(()) })
        .await;
    monitor.shutdown().await;
    let before = hooks.all().len();

    // Same store, service still failing: the incident is still open, nobody is paged again.
    let monitor = start_monitor(config(&text), JsonlStore::open(&path).unwrap()).await;
    let api = monitor.api_addr();
    let probes = service.seen("/health").len();
    eventually("ten more probes", WAIT, || async {
        (service.seen("/health").len() >= probes + 10).then_some(())
    })
    .await;
    let incidents = get(api, "/api/incidents").await.json();
    assert_eq!(incidents.as_array().unwrap().len(), 1, "{incidents}");
    assert_eq!((incidents[0]["id"].as_u64(), incidents[0]["status"].as_str()), (Some(1), Some("open")));
    assert_eq!(incidents[0]["pages"].as_array().unwrap().len(), 1);
    // Failures that go on may still raise the severity (a new event); what was sent before
    // the restart (the alert, the page) must not be sent again.
    let after = &hooks.all()[before..];
    let repeated: Vec<_> = after
        .iter()
        .filter(|s| {
            s.json()["payload"]["custom_details"]["event"] == "paged"
                || s.body.contains("is unhealthy")
                || s.body.contains(":pager:")
        })
        .collect();
    assert!(repeated.is_empty(), "sent again after the restart: {repeated:#?}");

    service.set("/health", Behavior::Status(200));
    eventually("the resolve", WAIT, || async {
        pagerduty_events(&hooks)
            .iter()
            .any(|(a, k, _)| a == "resolve" && k == "gameday/order-service/INC-1")
            .then_some(())
    })
    .await;
    monitor.shutdown().await;
    let history = JsonlStore::open(&path).unwrap();
    let records = gameday::monitor::store::IncidentStore::load(&mut { history }).unwrap();
    assert!(
        records.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "sequence numbers continue across restarts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_receiver_delays_no_probe_and_no_other_channel() {
    let (failing, healthy, hooks) =
        (Recorder::start().await, Recorder::start().await, Recorder::start().await);
    failing.set("/health", Behavior::Status(503));
    hooks.set("/slack", Behavior::Hang);
    let second = format!(
        r#"alert_after = 1
failover_after = 1000
[[services]]
name = "payment-service"
url = "{}"
interval = "40ms"
timeout = "30ms"
alert_after = 3
failover_after = 6"#,
        healthy.url("/health")
    );
    let monitor =
        start_monitor(config(&one_service(&failing, &hooks, &second, "")), MemoryStore::default()).await;
    eventually("a PagerDuty trigger despite Slack hanging", WAIT, || async {
        (!pagerduty_events(&hooks).is_empty()).then_some(())
    })
    .await;
    let start = healthy.seen("/health").len();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let probes = healthy.seen("/health");
    assert!(!hooks.seen("/slack").is_empty(), "Slack was tried");
    // 800 ms at 40 ms: ~20 probes. Allow scheduling noise, not a stall.
    assert!(probes.len() - start >= 12, "only {} probes in 800 ms while Slack hung", probes.len() - start);
    let worst = probes[start..].windows(2).map(|w| w[1].at - w[0].at).max().unwrap();
    assert!(worst < Duration::from_millis(250), "a {worst:?} gap between probes of the healthy service");
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_prometheus_text_and_count_what_happened() {
    let (service, hooks) = (Recorder::start().await, Recorder::start().await);
    service.set("/health", Behavior::Status(503));
    let monitor = start_monitor(
        config(&one_service(&service, &hooks, "alert_after = 2\nfailover_after = 1000", "")),
        MemoryStore::default(),
    )
    .await;
    let api = monitor.api_addr();
    eventually("an incident", WAIT, || async {
        (get(api, "/api/incidents").await.body.len() > 2).then_some(())
    })
    .await;

    let reply = get(api, "/metrics").await;
    assert!(reply.content_type.starts_with("application/openmetrics-text"), "{}", reply.content_type);
    let lines = reply.body.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("parseable exposition");
    let value = |name: &str, label: Option<(&str, &str)>| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .unwrap_or_else(|| panic!("no sample {name} in\n{}", reply.body))
    };
    assert!(value("gameday_probes_total", Some(("outcome", "http_status"))) >= 2.0);
    assert!(value("gameday_consecutive_failures", Some(("service", "order-service"))) >= 2.0);
    assert_eq!(value("gameday_open_incidents", None), 1.0);
    assert_eq!(value("gameday_alerts_total", Some(("severity", "SEV3"))), 1.0);
    assert!(
        scrape.samples.iter().any(|s| s.metric == "gameday_probe_latency_seconds"
            && matches!(&s.value, prometheus_parse::Value::Histogram(h) if !h.is_empty())),
        "latency histogram missing:\n{}",
        reply.body
    );
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_answers_json_and_guards_writes_with_the_token() {
    let (service, hooks) = (Recorder::start().await, Recorder::start().await);
    let text = one_service(&service, &hooks, "alert_after = 2\nfailover_after = 4", "")
        .replace("listen = \"127.0.0.1:0\"", "listen = \"127.0.0.1:0\"\ntoken = \"s3cret\"");
    let monitor = start_monitor(config(&text), MemoryStore::default()).await;
    let api = monitor.api_addr();

    assert_eq!(get(api, "/health").await.json()["status"], "ok");
    let status = eventually("a probe", WAIT, || async {
        let s = get(api, "/api/status").await.json();
        (!s["services"][0]["last_probe"].is_null()).then_some(s)
    })
    .await;
    assert_eq!(status["status"], "ok");
    assert_eq!(status["services"][0]["health"], "healthy");
    assert_eq!(status["services"][0]["last_probe"]["outcome"], "ok");
    let missing = get(api, "/api/status/nope").await;
    assert_eq!((missing.status, missing.json()["error"].is_string()), (404, true));
    let unknown = get(api, "/no/such/path").await;
    assert_eq!((unknown.status, unknown.json()["error"].is_string()), (404, true));
    assert_eq!(request("DELETE", api, "/api/status", None, None).await.status, 405);

    let denied = post(api, "/api/webhook/test", None).await;
    assert_eq!((denied.status, denied.json()["error"].is_string()), (401, true));
    assert_eq!(request("POST", api, "/api/webhook/test", Some("wrong"), None).await.status, 401);
    let test = request("POST", api, "/api/webhook/test", Some("s3cret"), None).await;
    assert_eq!(test.status, 202, "{}", test.body);
    eventually("the SEV4 test alert on both channels", WAIT, || async {
        let pd = hooks.bodies("/pagerduty");
        let slack = slack_texts(&hooks);
        (pd.iter().any(|b| b["payload"]["severity"] == "info")
            && slack.iter().any(|t| t.contains("[SEV4] Test alert")))
        .then_some(())
    })
    .await;
    assert!(
        get(api, "/api/incidents").await.json().as_array().unwrap().is_empty(),
        "a test alert opens no incident"
    );
    let no_incident = request("POST", api, "/api/failover/order-service", Some("s3cret"), None).await;
    assert_eq!(no_incident.status, 409, "{}", no_incident.body);
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_keeps_failing_is_retried_then_logged_while_4xx_is_not_retried() {
    let (service, hooks) = (Recorder::start().await, Recorder::start().await);
    service.set("/health", Behavior::Status(503));
    hooks.set("/slack", Behavior::Status(503));
    hooks.set("/pagerduty", Behavior::Status(400));
    // SEV1 from the first failure: no later severity rise, so PagerDuty gets exactly one event.
    let monitor = start_monitor(
        config(&one_service(&service, &hooks, "alert_after = 1\nfailover_after = 1", "")),
        MemoryStore::default(),
    )
    .await;
    let api = monitor.api_addr();
    // The first Slack message (the alert) is tried max_attempts = 4 times.
    eventually("four Slack attempts", WAIT, || async { (hooks.seen("/slack").len() >= 4).then_some(()) })
        .await;
    let texts = slack_texts(&hooks);
    assert!(texts[..4].iter().all(|t| t == &texts[0]), "the same payload retried: {texts:#?}");
    eventually("the failure counted", WAIT, || async {
        get(api, "/metrics")
            .await
            .body
            .contains("gameday_notifications_total{channel=\"pagerduty\",result=\"failed\"} 1")
            .then_some(())
    })
    .await;
    assert_eq!(hooks.seen("/pagerduty").len(), 1, "a 400 is not retried");
    monitor.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_incident_pages_and_healthy_probes_do_not_resolve_it() {
    let (service, hooks) = (Recorder::start().await, Recorder::start().await);
    service.set("/health", Behavior::Status(200));
    let store = MemoryStore::default();
    let text = one_service(&service, &hooks, "alert_after = 2\nfailover_after = 4", "");
    let monitor = start_monitor(config(&text), store.clone()).await;
    let api = monitor.api_addr();

    let report = r#"{"service": "order-service", "report": "customers report missing orders"}"#;
    let declared = post(api, "/api/incidents", Some(report)).await;
    assert_eq!(declared.status, 201, "{}", declared.body);
    assert_eq!(
        (declared.json()["id"].as_u64(), declared.json()["severity"].as_str()),
        (Some(1), Some("SEV2"))
    );
    eventually("the page and the Slack line", WAIT, || async {
        let paged = pagerduty_events(&hooks).iter().any(|(action, ..)| action == "trigger");
        let said =
            slack_texts(&hooks).iter().any(|t| t.contains("declared: customers report missing orders"));
        (paged && said).then_some(())
    })
    .await;
    // Health checks cannot see missing rows: many healthy probes later it is still open.
    let probes = service.seen("/health").len();
    eventually("ten more healthy probes", WAIT, || async {
        (service.seen("/health").len() >= probes + 10).then_some(())
    })
    .await;
    assert_eq!(get(api, "/api/incidents").await.json()[0]["status"], "open");
    assert!(pagerduty_events(&hooks).iter().all(|(action, ..)| action != "resolve"));

    let again = post(api, "/api/incidents", Some(report)).await;
    assert_eq!(again.status, 409, "{}", again.body);
    let bad = post(api, "/api/incidents", Some(r#"{"service": "order-service"}"#)).await;
    assert_eq!((bad.status, bad.json()["error"].is_string()), (400, true));
    let unknown = post(api, "/api/incidents", Some(r#"{"service": "nope", "report": "x"}"#)).await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(post(api, "/api/incidents/1/resolve", None).await.status, 200);
    monitor.shutdown().await;
}
