//! The measurement definitions of DESIGN.md section 4, proved on hand-built observations with
//! known numbers, plus a property test of the restoration rule against a naive oracle.

use std::collections::BTreeSet;
use std::time::Duration;

use gameday::exit;
use gameday::measure::{
    FailureCauses, Measurement, Observations, PhaseStatus, Quantity, RequestKind, RequestRecord, Restoration,
    RtoSegment, TargetName, Verdict, WorldEvent, WorldEventKind, measure,
};
use gameday::report::{Report, format_clock, format_duration};
use gameday::scenario::Targets;
use proptest::prelude::*;
use serde_json::Value;

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn read(sent: Duration, ok: bool) -> RequestRecord {
    RequestRecord {
        sent,
        done: sent + ms(20),
        service: "orders".into(),
        kind: RequestKind::Read,
        ok,
        write_id: None,
        host: None,
    }
}

fn write(sent: Duration, done: Duration, ok: bool, id: u64) -> RequestRecord {
    RequestRecord {
        sent,
        done,
        service: "orders".into(),
        kind: RequestKind::Write,
        ok,
        write_id: Some(id),
        host: None,
    }
}

fn event(at: Duration, kind: WorldEventKind, source: &str, details: &str) -> WorldEvent {
    WorldEvent { at, source: source.into(), kind, details: details.into() }
}

/// One read per second from 0 to `end - 1` s; the ones sent at a second in a `failing`
/// half-open range `(from, to)` fail.
fn traffic(end: u64, failing: &[(u64, u64)]) -> Vec<RequestRecord> {
    (0..end).map(|t| read(s(t), !failing.iter().any(|&(from, to)| (from..to).contains(&t)))).collect()
}

fn observations(end: u64, requests: Vec<RequestRecord>) -> Observations {
    Observations { seed: 7, duration: s(end), requests, ..Observations::default() }
}

/// Window 10 s (11 requests at one per second), threshold 90%.
fn run(obs: &Observations, targets: &Targets, faults: &[Duration]) -> Measurement {
    measure(obs, targets, faults, s(10), 0.9)
}

// ---------------------------------------------------------------------------------------------
// Restoration and RTO

#[test]
fn restored_at_the_first_window_that_meets_the_threshold_for_good() {
    // Fault at 100 s; requests sent in [100, 160) fail. The window [159, 169] holds one failure
    // and ten successes (90.9% >= 90%); [158, 168] holds two failures (81.8%).
    let obs = observations(600, traffic(600, &[(100, 160)]));
    let m = run(&obs, &Targets::default(), &[s(100)]);
    assert_eq!(m.t_fault, Some(s(100)));
    assert_eq!(m.first_failure, Some(s(100)));
    assert_eq!(m.restoration, Restoration::Restored { at: s(159) });
    assert_eq!(m.rto, Some(s(59)));

    // With a threshold of 100%, the window must hold no failure at all.
    let m = measure(&obs, &Targets::default(), &[s(100)], s(10), 1.0);
    assert_eq!(m.restoration, Restoration::Restored { at: s(160) });
    assert_eq!(m.rto, Some(s(60)));
}

#[test]
fn a_later_dip_below_the_threshold_delays_restoration() {
    // A second burst of six failures at [300, 306) drags every window holding it below 90%, so
    // the earlier candidate (159 s) does not stay restored; the first good window for good is
    // [305, 315] (one failure, ten successes).
    let obs = observations(600, traffic(600, &[(100, 160), (300, 306)]));
    let m = run(&obs, &Targets::default(), &[s(100)]);
    assert_eq!(m.restoration, Restoration::Restored { at: s(305) });
    assert_eq!(m.rto, Some(s(205)));
}

#[test]
fn a_dip_the_threshold_tolerates_does_not_delay_restoration() {
    // A single failure in an 11-request window is 90.9%: still restored at 159 s.
    let obs = observations(600, traffic(600, &[(100, 160), (300, 301)]));
    let m = run(&obs, &Targets::default(), &[s(100)]);
    assert_eq!(m.restoration, Restoration::Restored { at: s(159) });
}

#[test]
fn never_restored_means_rto_is_unbounded_and_its_target_is_missed() {
    let obs = observations(600, traffic(600, &[(100, 600)]));
    let targets = Targets { rto: Some(s(900)), ..Targets::default() };
    let m = run(&obs, &targets, &[s(100)]);
    assert_eq!(m.restoration, Restoration::NeverRestored);
    assert_eq!(m.rto, None);
    let v = &m.targets[&TargetName::Rto].verdict;
    assert!(matches!(v, Verdict::Missed { measured: None, by: None, why: Some(_) }), "{v:?}");
    assert!(!m.passed);
}

#[test]
fn a_window_that_does_not_fit_before_the_end_of_the_run_restores_nothing() {
    // Failures stop at 595 s, but [595, 605] does not fit in a 600 s run.
    let obs = observations(600, traffic(600, &[(100, 595)]));
    let m = run(&obs, &Targets::default(), &[s(100)]);
    assert_eq!(m.restoration, Restoration::NeverRestored);
    // In a longer run the same failures are followed by a full window: restored.
    let obs = observations(700, traffic(700, &[(100, 595)]));
    let m = run(&obs, &Targets::default(), &[s(100)]);
    assert_eq!(m.restoration, Restoration::Restored { at: s(594) });
}

#[test]
fn a_new_fault_bounds_the_windows_that_must_stay_good() {
    // A second outage starts at 400 s and never ends. Declared as a fault, it is a new story:
    // restoration from the first one stands at 159 s.
    let obs = observations(600, traffic(600, &[(100, 160), (400, 600)]));
    let m = run(&obs, &Targets::default(), &[s(100), s(400)]);
    assert_eq!(m.restoration, Restoration::Restored { at: s(159) });
    // Undeclared, it is a relapse: customers were never restored.
    let m = run(&obs, &Targets::default(), &[s(100)]);
    assert_eq!(m.restoration, Restoration::NeverRestored);
}

#[test]
fn a_fault_injected_during_the_outage_does_not_prevent_restoration_after_it() {
    // A monitor crash at 120 s, while customers are still failing.
    let obs = observations(600, traffic(600, &[(100, 160)]));
    let m = run(&obs, &Targets::default(), &[s(100), s(120)]);
    assert_eq!(m.restoration, Restoration::Restored { at: s(159) });
    assert_eq!(m.rto, Some(s(59)));
}

#[test]
fn failures_before_t_fault_do_not_start_the_outage() {
    let obs = observations(600, traffic(600, &[(20, 25), (100, 160)]));
    let m = run(&obs, &Targets::default(), &[s(100)]);
    assert_eq!(m.first_failure, Some(s(100)));
    assert_eq!(m.restoration, Restoration::Restored { at: s(159) });
}

#[test]
fn incident_start_overrides_the_first_fault() {
    // A responder is absent from 0 s; the outage that matters starts at 100 s.
    let obs = observations(600, traffic(600, &[(100, 160)]));
    let targets = Targets { incident_start: Some(s(100)), ..Targets::default() };
    let m = run(&obs, &targets, &[s(0), s(100)]);
    assert_eq!(m.t_fault, Some(s(100)));
    assert_eq!(m.rto, Some(s(59)));
    assert!(m.notes.iter().any(|n| n.contains("incident_start")), "{:?}", m.notes);
    // Without it, t_fault is the first fault.
    let m = run(&obs, &Targets::default(), &[s(100), s(0)]);
    assert_eq!(m.t_fault, Some(s(0)));
    assert_eq!(m.rto, Some(s(159)));
}

#[test]
fn no_failed_request_means_no_outage_and_rto_zero() {
    let obs = observations(600, traffic(600, &[]));
    let targets = Targets { rto: Some(s(60)), ..Targets::default() };
    let m = run(&obs, &targets, &[s(100)]);
    assert_eq!(m.restoration, Restoration::NoOutage);
    assert_eq!(m.rto, Some(Duration::ZERO));
    assert_eq!(
        m.targets[&TargetName::Rto].verdict,
        Verdict::Met { measured: Quantity::Duration(Duration::ZERO) }
    );
    assert!(m.notes.iter().any(|n| n.contains("RTO is 0")), "{:?}", m.notes);
    assert_eq!(m.phases.recover.status, PhaseStatus::NotApplicable);
}

#[test]
fn no_fault_makes_rto_and_phases_not_applicable() {
    let obs = observations(600, traffic(600, &[(10, 20)]));
    let targets = Targets { rto: Some(s(60)), detect: Some(s(60)), ..Targets::default() };
    let m = run(&obs, &targets, &[]);
    assert_eq!(m.t_fault, None);
    assert_eq!(m.restoration, Restoration::NoFault);
    assert_eq!(m.rto, None);
    assert!(matches!(m.targets[&TargetName::Rto].verdict, Verdict::NotApplicable { .. }));
    assert!(matches!(m.targets[&TargetName::Detect].verdict, Verdict::NotApplicable { .. }));
    assert!(m.passed, "not applicable is not a failure");
}

// ---------------------------------------------------------------------------------------------
// Phases

/// Fault at 100 s; customers fail until 420 s (restored at 420 s with a 100% threshold).
fn incident(events: Vec<WorldEvent>) -> Observations {
    let mut obs = observations(900, traffic(900, &[(100, 420)]));
    obs.events = events;
    obs
}

fn standard_events() -> Vec<WorldEvent> {
    vec![
        event(s(50), WorldEventKind::AlertReceived, "pager", "an earlier blip"),
        event(s(100), WorldEventKind::FaultInjected, "fault", "region_outage us-east-1"),
        event(s(130), WorldEventKind::AlertReceived, "pager", "INC-1 orders SEV2"),
        event(s(131), WorldEventKind::PageReceived, "pager", "page primary"),
        event(s(311), WorldEventKind::Acknowledged, "responder:primary", "INC-1"),
        event(s(320), WorldEventKind::FailoverRequested, "responder:primary", "orders"),
        event(s(321), WorldEventKind::RunbookStarted, "db:us-west-2-db", "promotion begins"),
        event(s(400), WorldEventKind::FailoverCompleted, "fault", "orders to us-west-2"),
    ]
}

fn all_phase_targets(d: Duration) -> Targets {
    Targets {
        rto: Some(d),
        detect: Some(d),
        page: Some(d),
        acknowledge: Some(d),
        mitigate: Some(d),
        recover: Some(d),
        ..Targets::default()
    }
}

#[test]
fn each_phase_is_measured_between_its_events() {
    let obs = incident(standard_events());
    let m = measure(&obs, &all_phase_targets(s(3600)), &[s(100)], s(10), 1.0);
    assert_eq!(m.restoration, Restoration::Restored { at: s(420) });
    assert_eq!(m.rto, Some(s(320)));
    let p = &m.phases;
    assert_eq!(p.detect.duration, Some(s(30)), "fault -> first alert after the fault");
    assert_eq!(p.page.duration, Some(s(31)), "fault -> first page");
    assert_eq!(p.acknowledge.duration, Some(s(180)), "first page -> first ack");
    assert_eq!(p.mitigate.duration, Some(s(300)), "fault -> failover completed");
    assert_eq!(p.recover.duration, Some(s(20)), "failover completed -> restored");
    assert_eq!((p.acknowledge.from, p.acknowledge.to), (Some(s(131)), Some(s(311))));
    assert!(m.passed);

    // The RTO splits along the critical path at alert (130), the runbook's first action (321,
    // after the human acknowledged and decided) and failover (400): 30 + 191 + 79 + 20 = 320.
    assert_eq!(
        breakdown(&m),
        vec![
            (RtoSegment::Detect, s(30)),
            (RtoSegment::Respond, s(191)),
            (RtoSegment::Mitigate, s(79)),
            (RtoSegment::Recover, s(20)),
        ]
    );
    assert_eq!(m.dominant_phase, Some(RtoSegment::Respond));
    let shares: f64 = m.rto_breakdown.iter().map(|r| r.share).sum();
    assert!((shares - 1.0).abs() < 1e-9, "{shares}");
}

fn breakdown(m: &Measurement) -> Vec<(RtoSegment, Duration)> {
    m.rto_breakdown.iter().map(|r| (r.segment, r.duration)).collect()
}

/// `standard_events` with the runbook started at `runbook` instead of 321 s (none with `None`).
fn events_with_runbook_at(runbook: Option<Duration>) -> Vec<WorldEvent> {
    let mut events = standard_events();
    events
        .retain(|e| e.kind != WorldEventKind::RunbookStarted && e.kind != WorldEventKind::FailoverRequested);
    if let Some(at) = runbook {
        events.push(event(at, WorldEventKind::RunbookStarted, "db:us-west-2-db", "promotion begins"));
    }
    events.sort_by_key(|e| e.at);
    events
}

#[test]
fn an_ack_while_an_automatic_failover_runs_is_not_on_the_critical_path() {
    // Thresholds start the runbook 5 s after the alert; the human acknowledges at 311 s while
    // the promotion runs. Customers waited for the runbook, not for the ack.
    let m =
        measure(&incident(events_with_runbook_at(Some(s(135)))), &Targets::default(), &[s(100)], s(10), 1.0);
    assert_eq!(m.phases.acknowledge.duration, Some(s(180)), "the contract phase is unchanged");
    assert_eq!(
        breakdown(&m),
        vec![
            (RtoSegment::Detect, s(30)),
            (RtoSegment::Respond, s(5)),
            (RtoSegment::Mitigate, s(265)),
            (RtoSegment::Recover, s(20)),
        ]
    );
    assert_eq!(m.dominant_phase, Some(RtoSegment::Mitigate));

    // An ack after the failover completed changes nothing either.
    let mut events = events_with_runbook_at(Some(s(135)));
    events.retain(|e| e.kind != WorldEventKind::Acknowledged);
    events.push(event(s(500), WorldEventKind::Acknowledged, "responder:primary", "INC-1"));
    let m = measure(&incident(events), &Targets::default(), &[s(100)], s(10), 1.0);
    assert_eq!(m.phases.acknowledge.duration, Some(s(369)));
    let parts: Vec<Duration> = m.rto_breakdown.iter().map(|r| r.duration).collect();
    assert_eq!(parts, vec![s(30), s(5), s(265), s(20)]);
    assert_eq!(m.dominant_phase, Some(RtoSegment::Mitigate));
}

#[test]
fn runbook_milestones_off_the_critical_path_are_dropped() {
    // A DNS health check switched the record at 110 s, before the alert (130 s): the alert was
    // not waited for, so detect is zero and response runs from the fault.
    let m =
        measure(&incident(events_with_runbook_at(Some(s(110)))), &Targets::default(), &[s(100)], s(10), 1.0);
    let parts: Vec<Duration> = m.rto_breakdown.iter().map(|r| r.duration).collect();
    assert_eq!(parts, vec![s(0), s(10), s(290), s(20)]);
    assert_eq!(m.phases.detect.duration, Some(s(30)), "the contract phase is unchanged");

    // No runbook action recorded: response is zero, its time goes to mitigation.
    let m = measure(&incident(events_with_runbook_at(None)), &Targets::default(), &[s(100)], s(10), 1.0);
    let parts: Vec<Duration> = m.rto_breakdown.iter().map(|r| r.duration).collect();
    assert_eq!(parts, vec![s(30), s(0), s(270), s(20)]);

    // A runbook action before the fault (setting up DNS at start) is not this incident's.
    let mut events = events_with_runbook_at(Some(s(321)));
    events.insert(0, event(s(0), WorldEventKind::RunbookStarted, "dns", "record orders is being changed"));
    let m = measure(&incident(events), &Targets::default(), &[s(100)], s(10), 1.0);
    assert_eq!(m.rto_breakdown[1].duration, s(191));

    // A runbook started after customers were restored is not on the path: recovery gets it all.
    let mut events = events_with_runbook_at(Some(s(450)));
    events.retain(|e| e.kind != WorldEventKind::FailoverCompleted);
    let m = measure(&incident(events), &Targets::default(), &[s(100)], s(10), 1.0);
    let parts: Vec<Duration> = m.rto_breakdown.iter().map(|r| r.duration).collect();
    assert_eq!(parts, vec![s(30), s(0), s(0), s(290)]);
    assert_eq!(m.dominant_phase, Some(RtoSegment::Recover));
}

#[test]
fn phases_that_never_end_miss_their_targets_unbounded() {
    // Paged, never acknowledged, never failed over, never restored.
    let events = vec![
        event(s(130), WorldEventKind::AlertReceived, "pager", "INC-1"),
        event(s(131), WorldEventKind::PageReceived, "pager", "page primary"),
    ];
    let mut obs = observations(900, traffic(900, &[(100, 900)]));
    obs.events = events;
    let m = measure(&obs, &all_phase_targets(s(600)), &[s(100)], s(10), 1.0);
    for name in [TargetName::Acknowledge, TargetName::Mitigate, TargetName::Recover, TargetName::Rto] {
        let v = &m.targets[&name].verdict;
        assert!(matches!(v, Verdict::Missed { measured: None, by: None, .. }), "{name}: {v:?}");
    }
    assert!(matches!(m.targets[&TargetName::Detect].verdict, Verdict::Met { .. }));
    assert_eq!(m.phases.acknowledge.status, PhaseStatus::Never);
    assert_eq!(m.dominant_phase, None);
    assert!(!m.passed);
}

#[test]
fn no_alert_and_no_page_are_missed_detect_and_page_targets() {
    let m = measure(&incident(Vec::new()), &all_phase_targets(s(600)), &[s(100)], s(10), 1.0);
    for name in [TargetName::Detect, TargetName::Page, TargetName::Acknowledge] {
        let v = &m.targets[&name].verdict;
        assert!(matches!(v, Verdict::Missed { measured: None, .. }), "{name}: {v:?}");
    }
    // Restored without any failover: recover is not applicable; mitigate never happened.
    assert!(matches!(m.targets[&TargetName::Recover].verdict, Verdict::NotApplicable { .. }));
    assert!(matches!(m.targets[&TargetName::Mitigate].verdict, Verdict::Missed { .. }));
    // With nothing on the path, the whole RTO waited for restoration.
    assert_eq!(m.dominant_phase, Some(RtoSegment::Recover));
}

#[test]
fn restored_before_the_failover_completed_makes_recover_not_applicable() {
    let mut events = standard_events();
    events.retain(|e| e.kind != WorldEventKind::FailoverCompleted);
    events.push(event(s(450), WorldEventKind::FailoverCompleted, "fault", "late"));
    let m = measure(&incident(events), &all_phase_targets(s(3600)), &[s(100)], s(10), 1.0);
    assert_eq!(m.phases.recover.status, PhaseStatus::NotApplicable);
    assert!(m.phases.recover.note.as_deref().unwrap_or("").contains("before the failover"));
    assert_eq!(m.phases.mitigate.duration, Some(s(350)));
}

// ---------------------------------------------------------------------------------------------
// Lost writes and RPO

/// Writes sent every second from 10 s to 99 s (ids = second), acknowledged 50 ms later.
fn writes_before_fault() -> Vec<RequestRecord> {
    (10..100).map(|t| write(s(t), s(t) + ms(50), true, t)).collect()
}

#[test]
fn async_loss_gives_rpo_from_the_oldest_lost_acknowledgement() {
    // The promoted replica holds everything acknowledged before 97.5 s (a 2.5 s lag).
    let requests = writes_before_fault();
    let mut obs = observations(600, requests);
    obs.final_writes = (10..=97).collect();
    let targets = Targets { rpo: Some(s(5)), ..Targets::default() };
    let m = run(&obs, &targets, &[s(100)]);
    assert_eq!(m.lost_writes, 2, "writes 98 and 99");
    assert_eq!(m.split_brain_writes, 0);
    assert_eq!(m.oldest_lost_write, Some(s(98) + ms(50)));
    assert_eq!(m.rpo, Some(s(1) + ms(950)), "100 s - 98.05 s");
    assert!(matches!(m.targets[&TargetName::Rpo].verdict, Verdict::Met { .. }));

    let targets = Targets { rpo: Some(s(1)), ..Targets::default() };
    let m = run(&obs, &targets, &[s(100)]);
    assert_eq!(
        m.targets[&TargetName::Rpo].verdict,
        Verdict::Missed {
            measured: Some(Quantity::Duration(ms(1950))),
            by: Some(Quantity::Duration(ms(950))),
            why: None
        }
    );
}

#[test]
fn split_brain_writes_are_lost_but_clamp_rpo_at_zero() {
    // The old primary, not fenced, acknowledges writes 200 and 201 after the fault.
    let mut requests = writes_before_fault();
    requests.push(write(s(150), s(150) + ms(50), true, 200));
    requests.push(write(s(160), s(160) + ms(50), true, 201));
    let mut obs = observations(600, requests.clone());
    obs.final_writes = (10..100).collect();
    let m = run(&obs, &Targets { rpo: Some(s(1)), ..Targets::default() }, &[s(100)]);
    assert_eq!(m.lost_writes, 2);
    assert_eq!(m.split_brain_writes, 2);
    assert_eq!(m.rpo, Some(Duration::ZERO));
    assert!(m.notes.iter().any(|n| n.contains("split-brain")), "{:?}", m.notes);

    // Together with async loss: both counted, the RPO comes from the oldest.
    obs.final_writes = (10..=97).collect();
    let m = run(&obs, &Targets::default(), &[s(100)]);
    assert_eq!(m.lost_writes, 4);
    assert_eq!(m.split_brain_writes, 2);
    assert_eq!(m.rpo, Some(ms(1950)));
}

#[test]
fn no_lost_write_is_rpo_zero_and_failed_or_duplicate_writes_count_right() {
    let mut requests = writes_before_fault();
    // A write the client saw fail is not a lost write, even if it is missing.
    requests.push(write(s(120), s(125), false, 500));
    let mut obs = observations(600, requests.clone());
    obs.final_writes = (10..100).collect();
    let m = run(&obs, &Targets { rpo: Some(s(1)), ..Targets::default() }, &[s(100)]);
    assert_eq!((m.lost_writes, m.rpo, m.oldest_lost_write), (0, Some(Duration::ZERO), None));
    assert!(m.passed);

    // The same write acknowledged twice (a retry) is one lost write, dated by its first ack.
    requests.push(write(s(98), s(98) + ms(500), true, 98));
    let mut obs = observations(600, requests);
    obs.final_writes = (10..98).collect();
    let m = run(&obs, &Targets::default(), &[s(100)]);
    assert_eq!(m.lost_writes, 2);
    assert_eq!(m.oldest_lost_write, Some(s(98) + ms(50)));
}

// ---------------------------------------------------------------------------------------------
// Availability and error budget

#[test]
fn availability_and_error_budget() {
    // 1000 requests, 10 failed: 99%.
    let obs = observations(1000, traffic(1000, &[(100, 110)]));
    let targets = Targets { availability: Some(0.999), ..Targets::default() };
    let m = run(&obs, &targets, &[s(100)]);
    assert_eq!((m.requests.total, m.requests.ok, m.requests.failed), (1000, 990, 10));
    assert_eq!(m.availability, Some(0.99));
    assert_eq!(m.error_rate, Some(0.01));
    let budget = m.error_budget.expect("a budget with an availability target");
    assert!((budget.allowed_failures - 1.0).abs() < 1e-9, "{budget:?}");
    assert!((budget.burned.unwrap() - 10.0).abs() < 1e-6, "ten times the budget: {budget:?}");
    match &m.targets[&TargetName::Availability].verdict {
        Verdict::Missed { measured: Some(Quantity::Ratio(a)), by: Some(Quantity::Ratio(by)), .. } => {
            assert_eq!(*a, 0.99);
            assert!((by - 0.009).abs() < 1e-9);
        }
        v => panic!("{v:?}"),
    }

    let targets = Targets { availability: Some(0.98), ..Targets::default() };
    let m = run(&obs, &targets, &[s(100)]);
    let budget = m.error_budget.unwrap();
    assert!((budget.allowed_failures - 20.0).abs() < 1e-9);
    assert!((budget.burned.unwrap() - 0.5).abs() < 1e-9);
    assert!(matches!(m.targets[&TargetName::Availability].verdict, Verdict::Met { .. }));

    // No availability target: no budget. No request: not applicable.
    assert_eq!(run(&obs, &Targets::default(), &[s(100)]).error_budget, None);
    let empty = observations(100, Vec::new());
    let m = run(&empty, &Targets { availability: Some(0.99), ..Targets::default() }, &[s(10)]);
    assert_eq!(m.availability, None);
    assert!(matches!(m.targets[&TargetName::Availability].verdict, Verdict::NotApplicable { .. }));
}

// ---------------------------------------------------------------------------------------------
// Verdicts

#[test]
fn verdicts_met_missed_by_and_not_applicable() {
    let obs = observations(600, traffic(600, &[(100, 160)]));
    // RTO 59 s: a target of exactly 59 s is met, 30 s is missed by 29 s.
    let m = run(&obs, &Targets { rto: Some(s(59)), ..Targets::default() }, &[s(100)]);
    assert_eq!(m.targets[&TargetName::Rto].verdict, Verdict::Met { measured: Quantity::Duration(s(59)) });
    assert!(m.passed);
    let m = run(&obs, &Targets { rto: Some(s(30)), ..Targets::default() }, &[s(100)]);
    assert_eq!(
        m.targets[&TargetName::Rto].verdict,
        Verdict::Missed {
            measured: Some(Quantity::Duration(s(59))),
            by: Some(Quantity::Duration(s(29))),
            why: None
        }
    );
    assert!(!m.passed);
    assert_eq!(m.missed().map(|(n, _)| n).collect::<Vec<_>>(), vec![TargetName::Rto]);
    // Only targets present get a verdict.
    assert_eq!(m.targets.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Failure causes

fn read_at(sent: Duration, ok: bool, service: &str, host: Option<&str>) -> RequestRecord {
    RequestRecord { service: service.into(), host: host.map(Into::into), ..read(sent, ok) }
}

fn dns(at: Duration, name: &str, host: &str) -> WorldEvent {
    event(at, WorldEventKind::DnsChanged, "dns", &format!("{name} -> {host}"))
}

const EAST: &str = "us-east-1-app";
const WEST: &str = "us-west-2-app";

/// One `orders` read per second over 600 s. The record points at `EAST` from 0 s; the fault at
/// 100 s takes the east region down; the record switches to `WEST` at 200 s, which completes
/// the failover. Customers sent to `EAST` fail from 100 s, except those sent in [150, 160)
/// whose name did not resolve. Resolver caches keep sending customers to `EAST` until
/// `stale_until`; `WEST` fails until 296 s (warming up), then serves. Also one failure at
/// 50 s, before the fault.
fn dns_incident(stale_until: u64) -> Observations {
    let requests = (0..600)
        .map(|t| {
            let (ok, host) = match t {
                50 => (false, Some(EAST)),
                0..100 => (true, Some(EAST)),
                150..160 => (false, None),
                100..200 => (false, Some(EAST)),
                _ if t < stale_until => (false, Some(EAST)),
                200..296 => (false, Some(WEST)),
                _ => (true, Some(WEST)),
            };
            read_at(s(t), ok, "orders", host)
        })
        .collect();
    let mut obs = observations(600, requests);
    obs.events = vec![
        dns(s(0), "orders", EAST),
        event(s(100), WorldEventKind::FaultInjected, "fault", "region_outage us-east-1"),
        event(s(130), WorldEventKind::AlertReceived, "pager", "INC-1"),
        event(s(135), WorldEventKind::RunbookStarted, "dns", "record orders is being changed"),
        dns(s(200), "orders", WEST),
        event(s(200), WorldEventKind::FailoverCompleted, "fault", "orders to us-west-2"),
    ];
    obs
}

#[test]
fn failure_causes_compare_the_host_with_the_record_at_send_time() {
    let obs = dns_incident(290);
    let m = measure(&obs, &Targets::default(), &[s(100)], s(10), 1.0);
    assert_eq!(m.restoration, Restoration::Restored { at: s(296) });
    assert_eq!(m.phases.recover.duration, Some(s(96)));
    // Since the fault: [100, 200) to the record's host (less ten unresolved), [200, 290) to the
    // old address (the request sent at 200 s, when the record changed, is already stale), and
    // [290, 296) to the new host while it warms up. The failure at 50 s is before the fault.
    assert_eq!(m.failure_causes, FailureCauses { stale_dns: 90, current_target: 96, unresolved: 10 });
    assert_eq!(m.failure_causes.total(), 196);
    // The recover phase, [200, 296).
    assert_eq!(m.recover_causes, Some(FailureCauses { stale_dns: 90, current_target: 6, unresolved: 0 }));

    // The record is per name, and a name whose record never changed yet is never stale.
    let mut obs = dns_incident(290);
    obs.requests.push(read_at(s(120), false, "billing", Some("billing-a")));
    obs.requests.push(read_at(s(130), false, "billing", Some("billing-a")));
    obs.requests.push(read_at(s(140), false, "billing", None));
    obs.requests.sort_by_key(|r| r.sent);
    obs.events.push(dns(s(125), "billing", "billing-b"));
    obs.events.sort_by_key(|e| e.at);
    let m = measure(&obs, &Targets::default(), &[s(100)], s(10), 1.0);
    assert_eq!(m.failure_causes, FailureCauses { stale_dns: 91, current_target: 97, unresolved: 11 });

    // Equal times: the last recorded change wins.
    let mut obs = dns_incident(290);
    obs.events.push(dns(s(200), "orders", EAST));
    let m = measure(&obs, &Targets::default(), &[s(100)], s(10), 1.0);
    // Now `EAST` is still the record after 200 s: requests there are current, `WEST` is stale.
    assert_eq!(m.failure_causes, FailureCauses { stale_dns: 6, current_target: 180, unresolved: 10 });

    // Without any DNS change, every resolved failure went to the current target.
    let mut obs = dns_incident(290);
    obs.events.retain(|e| e.kind != WorldEventKind::DnsChanged);
    let m = measure(&obs, &Targets::default(), &[s(100)], s(10), 1.0);
    assert_eq!(m.failure_causes, FailureCauses { stale_dns: 0, current_target: 186, unresolved: 10 });
}

#[test]
fn recover_causes_need_a_measured_recover_phase() {
    // No failover completed: no recover phase.
    let mut obs = dns_incident(290);
    obs.events.retain(|e| e.kind != WorldEventKind::FailoverCompleted);
    let m = measure(&obs, &Targets::default(), &[s(100)], s(10), 1.0);
    assert_eq!(m.phases.recover.status, PhaseStatus::NotApplicable);
    assert_eq!(m.recover_causes, None);
    assert_eq!(m.failure_causes.total(), 196, "the outage is classified all the same");
    assert!(!m.to_owned_text().contains("after the failover completed"));

    // Never restored: no recover phase either.
    let m = measure(&dns_incident(600), &Targets::default(), &[s(100)], s(10), 1.0);
    assert_eq!(m.restoration, Restoration::NeverRestored);
    assert_eq!(m.recover_causes, None);

    // No failure at all: zero causes.
    let obs = observations(600, traffic(600, &[]));
    let m = run(&obs, &Targets::default(), &[s(100)]);
    assert_eq!(m.failure_causes, FailureCauses::default());
    assert!(m.to_owned_text().contains("  customers' failed requests since the fault: none\n"));
}

trait OwnedText {
    fn to_owned_text(&self) -> String;
}

impl OwnedText for Measurement {
    fn to_owned_text(&self) -> String {
        Report::new("dns", "scenarios/dns.toml", &Observations::default(), self.clone()).to_text()
    }
}

#[test]
fn text_report_says_where_the_recover_time_went() {
    let obs = dns_incident(290);
    let report = Report::new(
        "dns",
        "scenarios/dns.toml",
        &obs,
        measure(&obs, &Targets::default(), &[s(100)], s(10), 1.0),
    );
    let text = report.to_text();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("  customers' failed requests since the fault:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        lines[..at].iter().any(|l| l.starts_with("  most of the RTO went to")),
        "under the phases: {text}"
    );
    assert_eq!(
        lines[at],
        "  customers' failed requests since the fault: 96 to the current target, 90 to an old address \
         (DNS caching), 10 unresolved"
    );
    assert_eq!(
        lines[at + 1],
        "  after the failover completed, customers kept failing for 1m36s: 94% of those failures went to \
         the old address, so DNS caching is where that time went"
    );

    // Caches expire at 206 s; the new region then fails for 90 s while it warms up.
    let obs = dns_incident(206);
    let m = measure(&obs, &Targets::default(), &[s(100)], s(10), 1.0);
    assert_eq!(m.recover_causes, Some(FailureCauses { stale_dns: 6, current_target: 90, unresolved: 0 }));
    let text = Report::new("dns", "scenarios/dns.toml", &obs, m).to_text();
    assert!(
        text.contains(
            "  after the failover completed, customers kept failing for 1m36s: 94% of those failures \
             reached the current target, which could not serve yet (standby warming up or over capacity)\n"
        ),
        "{text}"
    );

    // No majority: the counts, and no conclusion.
    let obs = dns_incident(248);
    let mut m = measure(&obs, &Targets::default(), &[s(100)], s(10), 1.0);
    assert_eq!(m.recover_causes, Some(FailureCauses { stale_dns: 48, current_target: 48, unresolved: 0 }));
    m.recover_causes = Some(FailureCauses { stale_dns: 40, current_target: 40, unresolved: 16 });
    assert!(
        m.to_owned_text().contains(
            "  after the failover completed, customers kept failing for 1m36s: no single cause for most \
             of those failures (40 to the current target, 40 to an old address, 16 unresolved)\n"
        ),
        "{}",
        m.to_owned_text()
    );
}

#[test]
fn json_report_has_the_failure_causes() {
    let obs = dns_incident(290);
    let report = Report::new(
        "dns",
        "scenarios/dns.toml",
        &obs,
        measure(&obs, &Targets::default(), &[s(100)], s(10), 1.0),
    );
    let text = report.to_json();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["failure_causes"]["stale_dns"], 90);
    assert_eq!(v["failure_causes"]["current_target"], 96);
    assert_eq!(v["failure_causes"]["unresolved"], 10);
    assert_eq!(v["recover_causes"]["stale_dns"], 90);
    assert_eq!(v["recover_causes"]["current_target"], 6);
    assert_eq!(v["recover_causes"]["unresolved"], 0);
    assert_eq!(v["dominant_phase"], "recover", "96 s of the 196 s RTO");
    assert_eq!(v["rto_breakdown"][1]["segment"], "respond");
    assert_eq!(v["rto_breakdown"][1]["duration_ms"], 5_000);
    let order: Vec<usize> =
        ["\n  \"rto_breakdown\"", "\n  \"failure_causes\"", "\n  \"recover_causes\"", "\n  \"targets\""]
            .iter()
            .map(|k| text.find(k).unwrap_or_else(|| panic!("{k} at top level: {text}")))
            .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "order: {order:?}");

    let m = measure(&dns_incident(600), &Targets::default(), &[s(100)], s(10), 1.0);
    let v: Value = serde_json::from_str(&Report::new("dns", "d.toml", &obs, m).to_json()).unwrap();
    assert_eq!(v["recover_causes"], Value::Null);
}

// ---------------------------------------------------------------------------------------------
// Reports

fn sample_report(targets: &Targets) -> Report {
    let mut obs = incident(standard_events());
    obs.requests.push(write(s(98), s(98) + ms(50), true, 98));
    obs.requests.sort_by_key(|r| r.sent);
    let m = measure(&obs, targets, &[s(100)], s(10), 1.0);
    Report::new("us-east-1 outage", "scenarios/us east.toml", &obs, m)
}

#[test]
fn json_report_has_the_stable_field_names() {
    let targets = Targets {
        rto: Some(s(300)),
        acknowledge: Some(s(600)),
        availability: Some(0.5),
        ..Targets::default()
    };
    let report = sample_report(&targets);
    let text = gameday::report::json::render(&report);
    assert_eq!(text, report.to_json(), "deterministic");
    let v: Value = serde_json::from_str(&text).unwrap();
    for key in [
        "scenario",
        "path",
        "seed",
        "passed",
        "rto_ms",
        "rpo_ms",
        "lost_writes",
        "availability",
        "phases",
        "targets",
        "timeline",
    ] {
        assert!(v.get(key).is_some(), "missing top-level {key}: {text}");
    }
    // Key order in the text (serde_json's Value sorts keys, so look at the text itself).
    let top: Vec<usize> =
        ["\n  \"scenario\"", "\n  \"path\"", "\n  \"seed\"", "\n  \"passed\"", "\n  \"timeline\""]
            .iter()
            .map(|k| text.find(k).unwrap_or_else(|| panic!("{k} at top level: {text}")))
            .collect();
    assert!(top.windows(2).all(|w| w[0] < w[1]), "top-level order: {top:?}");
    assert!(text.starts_with("{\n  \"scenario\""), "{text}");
    assert_eq!(v["seed"], 7);
    assert_eq!(v["passed"], false);
    assert_eq!(v["rto_ms"], 320_000);
    assert_eq!(v["rpo_ms"], 1_950);
    assert_eq!(v["lost_writes"], 1);
    for phase in ["detect", "page", "acknowledge", "mitigate", "recover"] {
        assert!(v["phases"][phase]["duration_ms"].is_u64(), "{phase}");
    }
    assert_eq!(v["phases"]["detect"]["duration_ms"], 30_000);
    let rto = &v["targets"]["rto"];
    assert_eq!(rto["verdict"], "missed");
    assert_eq!(rto["measured_ms"], 320_000);
    assert_eq!(rto["target_ms"], 300_000);
    assert_eq!(rto["by_ms"], 20_000);
    assert_eq!(v["targets"]["acknowledge"]["verdict"], "met");
    assert_eq!(v["targets"]["acknowledge"]["by_ms"], Value::Null);
    assert_eq!(v["targets"]["availability"]["verdict"], "met");
    assert_eq!(v["targets"]["availability"]["target"], 0.5);
    let first = &v["timeline"][0];
    assert_eq!(first["at_ms"], 50_000);
    assert_eq!(first["at"], "+00:00:50.000");
    assert_eq!(first["kind"], "alert_received");
    assert_eq!(first["source"], "pager");
    assert!(first["details"].is_string());
    assert_eq!(v["restoration"]["status"], "restored");
    assert_eq!(v["restoration"]["at_ms"], 420_000);
}

#[test]
fn text_report_starts_with_the_seed_and_ends_with_the_reproduction_line() {
    let report = sample_report(&Targets { rto: Some(s(300)), ..Targets::default() });
    let text = report.to_text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "scenario us-east-1 outage (scenarios/us east.toml) seed 7");
    assert_eq!(lines.last(), Some(&"reproduce: gameday run 'scenarios/us east.toml' --seed 7"));
    assert!(text.contains("MISSED"), "{text}");
    assert!(text.contains("by 20s"), "{text}");
    assert!(text.contains("+00:01:40.000  fault"), "{text}");
    assert!(
        text.contains(
            "  most of the RTO went to response (first alert to the runbook's first action: thresholds \
             or humans): 3m11s of 5m20s (60%)"
        ),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.ends_with(' ')), "no trailing spaces");
    assert_eq!(text, gameday::report::text::render(&report), "deterministic");
}

#[test]
fn exit_code_and_assert_targets() {
    let passing = sample_report(&Targets { rto: Some(s(600)), ..Targets::default() });
    assert_eq!(passing.exit_code(), exit::SUCCESS);
    passing.assert_targets();

    let failing = sample_report(&Targets {
        rto: Some(s(300)),
        rpo: Some(s(1)),
        detect: Some(s(60)),
        ..Targets::default()
    });
    assert_eq!(failing.exit_code(), exit::TARGET_MISSED);
    let panic = std::panic::catch_unwind(|| failing.assert_targets()).unwrap_err();
    let message = panic.downcast_ref::<String>().expect("a formatted message");
    assert!(message.contains("missed 2 target(s)"), "{message}");
    assert!(message.contains("rto: measured 5m20s, target 5m, missed by 20s"), "{message}");
    assert!(message.contains("rpo: measured 1.95s, target 1s, missed by 950ms"), "{message}");
    assert!(!message.contains("detect"), "{message}");
    assert!(message.contains("--seed 7"), "{message}");
}

#[test]
fn time_formats() {
    assert_eq!(format_clock(Duration::ZERO), "+00:00:00.000");
    assert_eq!(format_clock(s(3 * 3600 + 17 * 60) + ms(5)), "+03:17:00.005");
    assert_eq!(format_duration(Duration::ZERO), "0s");
    assert_eq!(format_duration(ms(850)), "850ms");
    assert_eq!(format_duration(ms(12_500)), "12.5s");
    assert_eq!(format_duration(s(900)), "15m");
    assert_eq!(format_duration(s(14 * 60 + 2) + ms(300)), "14m02.3s");
    assert_eq!(format_duration(s(2 * 3600 + 3 * 60 + 4)), "2h03m04s");
    assert_eq!(format_duration(s(7200)), "2h");
}

// ---------------------------------------------------------------------------------------------
// Property: the restoration instant satisfies the definition and no earlier candidate does.

/// The naive reading of the definition, O(n^2).
struct Oracle<'a> {
    requests: &'a [RequestRecord],
    faults: &'a [Duration],
    end: Duration,
    window: Duration,
    threshold: f64,
}

impl Oracle<'_> {
    fn window_ok(&self, start: Duration) -> bool {
        let inside: Vec<&RequestRecord> =
            self.requests.iter().filter(|r| r.sent >= start && r.sent <= start + self.window).collect();
        let ok = inside.iter().filter(|r| r.ok).count();
        !inside.is_empty() && ok as f64 / inside.len() as f64 >= self.threshold
    }

    fn restored_at(&self, t: Duration) -> bool {
        if t + self.window > self.end || !self.window_ok(t) {
            return false;
        }
        let horizon = self.faults.iter().copied().filter(|&f| f > t).min().unwrap_or(self.end);
        let horizon = horizon.min(self.end);
        self.requests
            .iter()
            .map(|r| r.sent)
            .filter(|&later| later > t && later + self.window <= horizon)
            .all(|later| self.window_ok(later))
    }
}

fn outcomes() -> impl Strategy<Value = Vec<(u64, bool)>> {
    // (gap since the previous request in 100 ms steps, ok), 0-gaps give equal send times.
    prop::collection::vec((0u64..4, prop::bool::weighted(0.7)), 1..60)
}

proptest! {
    #[test]
    fn restoration_satisfies_the_definition_and_is_the_first_that_does(
        steps in outcomes(),
        window_steps in 0u64..12,
        threshold in prop::sample::select(vec![0.0, 0.5, 0.7, 0.75, 0.9, 0.99, 1.0]),
        t_fault_steps in 0u64..40,
        extra_faults in prop::collection::vec(0u64..200, 0..3),
        tail_steps in 0u64..20,
    ) {
        let step = ms(100);
        let mut sent = Duration::ZERO;
        let mut requests = Vec::new();
        for (gap, ok) in steps {
            sent += step * gap as u32;
            requests.push(read(sent, ok));
        }
        let end = sent + step * tail_steps as u32;
        let window = step * window_steps as u32;
        let t_fault = step * t_fault_steps as u32;
        let mut faults = vec![t_fault];
        faults.extend(extra_faults.iter().map(|&f| t_fault + step * f as u32));
        let obs = Observations { duration: end, requests: requests.clone(), ..Observations::default() };

        let m = measure(&obs, &Targets::default(), &faults, window, threshold);
        let oracle = Oracle { requests: &requests, faults: &faults, end, window, threshold };
        let first_failure = requests.iter().find(|r| r.sent >= t_fault && !r.ok).map(|r| r.sent);
        prop_assert_eq!(m.first_failure, first_failure);
        let candidates: BTreeSet<Duration> = match first_failure {
            Some(f) => requests.iter().map(|r| r.sent).filter(|&t| t >= f).collect(),
            None => BTreeSet::new(),
        };
        match m.restoration {
            Restoration::NoOutage => prop_assert!(first_failure.is_none()),
            Restoration::Restored { at } => {
                prop_assert!(candidates.contains(&at), "{:?} is not a request's send time", at);
                prop_assert!(oracle.restored_at(at), "{:?} does not satisfy the definition", at);
                for &earlier in candidates.range(..at) {
                    prop_assert!(!oracle.restored_at(earlier), "{:?} satisfies it earlier", earlier);
                }
                prop_assert_eq!(m.rto, Some(at - t_fault));
            }
            Restoration::NeverRestored => {
                for &t in &candidates {
                    prop_assert!(!oracle.restored_at(t), "{:?} satisfies the definition", t);
                }
                prop_assert_eq!(m.rto, None);
            }
            Restoration::NoFault => prop_assert!(false, "there is a fault"),
        }
    }
}
