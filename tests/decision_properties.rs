//! Property tests for the pure decision core (`gameday::monitor::decide`).
//!
//! Each case generates a validated model (a `ServicePolicy`, an escalation chain and a
//! sequence of operator and probe actions), drives a `Decider` with it, calling `tick(now)`
//! before every action, and checks the events against an oracle kept here: consecutive
//! failures and successes counted from the probe outcomes themselves, and incident state
//! rebuilt from the event stream. The oracle never reads the core's streak.

use std::collections::BTreeMap;
use std::time::Duration;

use gameday::monitor::decide::policy::{EscalationLevel, FailoverMode, ServicePolicy};
use gameday::monitor::decide::{Decider, FailoverState, Refusal, ServiceState};
use gameday::monitor::event::{Event, Health, IncidentId, RaiseReason, Resolution, Severity, Trigger};
use gameday::time::Timestamp;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// The service every action is about.
const SVC: &str = "checkout";
/// A second service, only probed, to check that services are independent.
const OTHER: &str = "search";
/// The step the failover runner reports as failed.
const FAILED_STEP: &str = "promote-replica";
const START: Timestamp = Timestamp::from_millis(1_796_354_220_000);

/// One thing that happens to the monitor.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    /// A probe of `SVC`, `after` the previous action.
    Probe { ok: bool, after: Duration },
    /// A probe of `OTHER` at the same instant (refused when `OTHER` is not configured).
    ProbeOther { ok: bool },
    /// An operator acknowledges `SVC`'s open incident (or its last, resolved one).
    Ack,
    /// An operator resolves `SVC`'s open incident (or its last, resolved one).
    Resolve,
    /// An operator asks for failover of `SVC`.
    RequestFailover,
    /// The runner reports on the failover it is running, if any.
    FailoverFinished { ok: bool },
    /// Only time passes.
    Tick { after: Duration },
}

// ---------------------------------------------------------------------------------------------
// Strategies

fn mode() -> impl Strategy<Value = FailoverMode> {
    prop_oneof![Just(FailoverMode::Automatic), Just(FailoverMode::Manual), Just(FailoverMode::Disabled),]
}

/// `1 <= alert_after <= failover_after <= 12`, `1 <= recover_after <= 4`.
fn policy() -> impl Strategy<Value = ServicePolicy> {
    (1u32..=12).prop_flat_map(|alert_after| (Just(alert_after), alert_after..=12, 1u32..=4, mode())).prop_map(
        |(alert_after, failover_after, recover_after, failover)| ServicePolicy {
            alert_after,
            failover_after,
            recover_after,
            failover,
        },
    )
}

/// Zero to three levels, each with an `ack_timeout` of 1 s to 30 min.
fn levels() -> impl Strategy<Value = Vec<EscalationLevel>> {
    prop::collection::vec(1u64..=1800, 0..=3).prop_map(|timeouts| {
        timeouts
            .into_iter()
            .enumerate()
            .map(|(i, secs)| EscalationLevel {
                notify: format!("rota-{}", i + 1),
                ack_timeout: Duration::from_secs(secs),
            })
            .collect()
    })
}

/// A run of probes with the same outcome (so thresholds are reached), or one other action.
fn chunk() -> impl Strategy<Value = Vec<Action>> {
    prop_oneof![
        8 => (any::<bool>(), prop::collection::vec(0u64..=120, 1..=8)).prop_map(|(ok, steps)| {
            steps
                .into_iter()
                .map(|secs| Action::Probe { ok, after: Duration::from_secs(secs) })
                .collect()
        }),
        1 => (any::<bool>(), 1usize..=6).prop_map(|(ok, n)| vec![Action::ProbeOther { ok }; n]),
        1 => Just(vec![Action::Ack]),
        1 => Just(vec![Action::Resolve]),
        2 => Just(vec![Action::RequestFailover]),
        2 => any::<bool>().prop_map(|ok| vec![Action::FailoverFinished { ok }]),
        2 => (0u64..=1800).prop_map(|secs| vec![Action::Tick { after: Duration::from_secs(secs) }]),
    ]
}

/// Up to 200 actions.
fn actions() -> impl Strategy<Value = Vec<Action>> {
    prop::collection::vec(chunk(), 0..=90).prop_map(|chunks| {
        let mut actions: Vec<Action> = chunks.into_iter().flatten().collect();
        actions.truncate(200);
        actions
    })
}

fn scenario() -> impl Strategy<Value = (ServicePolicy, Vec<EscalationLevel>, Vec<Action>)> {
    (policy(), levels(), actions())
}

// ---------------------------------------------------------------------------------------------
// Driving the core

/// What one action did.
#[derive(Clone, Debug)]
struct Step {
    at: Timestamp,
    action: Action,
    /// What `tick(at)` returned just before the action.
    ticked: Vec<Event>,
    /// What the action returned (empty when refused or when there was nothing to do).
    emitted: Vec<Event>,
    refused: Option<Refusal>,
    /// The oracle's consecutive failures and successes of `SVC` after the action.
    failures: u32,
    successes: u32,
    /// The live state of `SVC` and `next_deadline()` after the action.
    state: ServiceState,
    deadline: Option<Timestamp>,
}

impl Step {
    fn is_failed_probe(&self) -> bool {
        matches!(self.action, Action::Probe { ok: false, .. })
    }

    fn is_ok_probe(&self) -> bool {
        matches!(self.action, Action::Probe { ok: true, .. })
    }

    fn events(&self) -> impl Iterator<Item = &Event> {
        self.ticked.iter().chain(&self.emitted)
    }
}

struct Trace {
    decider: Decider,
    steps: Vec<Step>,
    end: Timestamp,
}

impl Trace {
    /// Every event with the instant it was emitted at, in order.
    fn events(&self) -> Vec<(Timestamp, Event)> {
        self.steps.iter().flat_map(|s| s.events().map(move |e| (s.at, e.clone()))).collect()
    }
}

fn decider(policy: ServicePolicy, other: Option<ServicePolicy>, levels: &[EscalationLevel]) -> Decider {
    let services = std::iter::once((SVC.to_owned(), policy)).chain(other.map(|p| (OTHER.to_owned(), p)));
    Decider::new(services, levels.to_vec())
}

fn open_incident_of(d: &Decider, service: &str) -> Option<IncidentId> {
    d.service(service)?.incident.as_ref().map(|i| i.id)
}

/// Drives a fresh `Decider` through `actions`, checking `next_deadline` against `tick`.
fn drive(
    policy: ServicePolicy,
    other: Option<ServicePolicy>,
    levels: &[EscalationLevel],
    actions: &[Action],
) -> Result<Trace, TestCaseError> {
    let mut d = decider(policy, other, levels);
    let mut now = START;
    let (mut failures, mut successes) = (0u32, 0u32);
    // The failover whose runner has not reported yet (its incident may be resolved by now).
    let mut runner: Option<IncidentId> = None;
    // `SVC`'s latest incident, open or not: the target of acks and resolves.
    let mut latest: Option<IncidentId> = None;
    let mut steps = Vec::with_capacity(actions.len());

    for action in actions {
        if let Action::Probe { after, .. } | Action::Tick { after } = action {
            now = now.after(*after);
        }
        let due = d.next_deadline();
        let ticked = d.tick(now);
        prop_assert_eq!(
            !ticked.is_empty(),
            due.is_some_and(|t| t <= now),
            "tick({}) with next_deadline {:?} returned {:?}",
            now,
            due,
            ticked
        );

        let open = open_incident_of(&d, SVC);
        let target = open.or(latest).unwrap_or(IncidentId(0));
        let result = match action {
            Action::Probe { ok, .. } => {
                if *ok {
                    successes += 1;
                    failures = 0;
                } else {
                    failures += 1;
                    successes = 0;
                }
                d.observe(SVC, *ok, now)
            }
            Action::ProbeOther { ok } => {
                let result = d.observe(OTHER, *ok, now);
                if other.is_none() {
                    prop_assert_eq!(&result, &Err(Refusal::UnknownService(OTHER.to_owned())));
                }
                result
            }
            Action::Ack => d.acknowledge(target, "oncall"),
            Action::Resolve => {
                if open.is_some() {
                    // An operator resolve restarts the count.
                    failures = 0;
                    successes = 0;
                }
                d.resolve(target)
            }
            Action::RequestFailover => d.request_failover(SVC),
            Action::FailoverFinished { ok } => Ok(match runner.take() {
                Some(id) => d.failover_finished(id, *ok, (!ok).then(|| FAILED_STEP.to_owned())),
                None => Vec::new(),
            }),
            Action::Tick { .. } => Ok(Vec::new()),
        };
        let (emitted, refused) = match result {
            Ok(events) => (events, None),
            Err(refusal) => (Vec::new(), Some(refusal)),
        };
        for e in ticked.iter().chain(&emitted).filter(|e| e.service() == SVC) {
            match e {
                Event::IncidentOpened { incident, .. } => latest = Some(*incident),
                Event::FailoverStarted { incident, .. } => runner = Some(*incident),
                _ => {}
            }
        }

        let deadline = d.next_deadline();
        prop_assert!(
            deadline.is_none_or(|t| t > now),
            "after {:?} at {}, next_deadline {:?} is already due",
            action,
            now,
            deadline
        );
        steps.push(Step {
            at: now,
            action: action.clone(),
            ticked,
            emitted,
            refused,
            failures,
            successes,
            state: d.service(SVC).expect("SVC is configured").clone(),
            deadline,
        });
    }
    Ok(Trace { decider: d, steps, end: now })
}

/// Runs `actions` against a single-service core and returns every event with its instant.
fn run(policy: ServicePolicy, levels: &[EscalationLevel], actions: &[Action]) -> Vec<(Timestamp, Event)> {
    drive(policy, None, levels, actions).unwrap_or_else(|e| panic!("{e}")).events()
}

// ---------------------------------------------------------------------------------------------
// Oracle helpers

/// The severity `failures` in a row call for, as documented: SEV3 at `alert_after`, SEV2 at
/// twice that, SEV1 at `failover_after`, the worst reached wins.
fn spec_severity(policy: &ServicePolicy, failures: u32) -> Option<Severity> {
    [
        (policy.alert_after, Severity::Sev3),
        (policy.alert_after * 2, Severity::Sev2),
        (policy.failover_after, Severity::Sev1),
    ]
    .into_iter()
    .filter(|(threshold, _)| failures >= *threshold)
    .map(|(_, severity)| severity)
    .max()
}

/// Follows `SVC`'s open incident through the event stream.
fn track_open(open: &mut Option<IncidentId>, e: &Event) {
    if e.service() != SVC {
        return;
    }
    match e {
        Event::IncidentOpened { incident, .. } => *open = Some(*incident),
        Event::Resolved { .. } => *open = None,
        _ => {}
    }
}

fn severities(e: &Event) -> Vec<Severity> {
    match e {
        Event::IncidentOpened { severity, .. } => vec![*severity],
        Event::SeverityRaised { from, to, .. } => vec![*from, *to],
        _ => Vec::new(),
    }
}

fn incident_mut(e: &mut Event) -> Option<&mut IncidentId> {
    match e {
        Event::HealthChanged { .. } => None,
        Event::IncidentOpened { incident, .. }
        | Event::SeverityRaised { incident, .. }
        | Event::Paged { incident, .. }
        | Event::EscalationExhausted { incident, .. }
        | Event::Acknowledged { incident, .. }
        | Event::FailoverAwaitingDecision { incident, .. }
        | Event::FailoverStarted { incident, .. }
        | Event::FailoverStepFinished { incident, .. }
        | Event::FailoverFinished { incident, .. }
        | Event::Resolved { incident, .. } => Some(incident),
    }
}

/// `service`'s events, with incident ids renumbered 1, 2, … in order of appearance.
fn normalized(events: &[(Timestamp, Event)], service: &str) -> Vec<(Timestamp, Event)> {
    let mut ids = BTreeMap::new();
    events
        .iter()
        .filter(|(_, e)| e.service() == service)
        .map(|(at, e)| {
            let mut e = e.clone();
            if let Some(id) = incident_mut(&mut e) {
                let n = ids.len() as u64 + 1;
                *id = IncidentId(*ids.entry(*id).or_insert(n));
            }
            (*at, e)
        })
        .collect()
}

/// The id `d` gives its next incident: resolves `SVC`'s open incident, then fails `SVC`.
fn next_incident_id(mut d: Decider, policy: &ServicePolicy, at: Timestamp) -> Option<IncidentId> {
    if let Some(id) = open_incident_of(&d, SVC) {
        d.resolve(id).ok()?;
    }
    let mut opened = None;
    for _ in 0..policy.alert_after {
        for e in d.observe(SVC, false, at).ok()? {
            if let Event::IncidentOpened { incident, .. } = e {
                opened = Some(incident);
            }
        }
    }
    opened
}

// ---------------------------------------------------------------------------------------------
// Property checks

/// Property 1: IncidentOpened exactly at the failed probe where the oracle's count reaches
/// `alert_after` with no incident open.
fn check_alerts(policy: &ServicePolicy, trace: &Trace) -> Result<(), TestCaseError> {
    let mut open = None;
    for (n, step) in trace.steps.iter().enumerate() {
        for e in &step.ticked {
            prop_assert!(!matches!(e, Event::IncidentOpened { .. }), "step {}: tick opened {:?}", n, e);
            track_open(&mut open, e);
        }
        let opened: Vec<&Event> = step
            .emitted
            .iter()
            .filter(|e| matches!(e, Event::IncidentOpened { .. }) && e.service() == SVC)
            .collect();
        let due = step.is_failed_probe() && open.is_none() && step.failures == policy.alert_after;
        prop_assert_eq!(
            opened.len(),
            usize::from(due),
            "step {}: {:?} at {} failures (open: {:?}) emitted {:?}",
            n,
            &step.action,
            step.failures,
            open,
            &step.emitted
        );
        if let Some(Event::IncidentOpened { consecutive_failures, .. }) = opened.first() {
            prop_assert_eq!(*consecutive_failures, step.failures);
        }
        for e in &step.emitted {
            track_open(&mut open, e);
        }
        prop_assert_eq!(open, step.state.incident.as_ref().map(|i| i.id), "step {}", n);
    }
    Ok(())
}

/// Property 2: incident ids are fresh and consecutive; one open incident per service at a
/// time; every incident event belongs to its service's open incident (a runner's late
/// `FailoverFinished` may also name one of the service's resolved incidents).
fn check_incident_identity(trace: &Trace) -> Result<(), TestCaseError> {
    let mut owner: BTreeMap<IncidentId, String> = BTreeMap::new();
    let mut open: BTreeMap<String, IncidentId> = BTreeMap::new();
    for (at, e) in trace.events() {
        let Some(id) = e.incident() else { continue };
        let service = e.service().to_owned();
        match &e {
            Event::IncidentOpened { .. } => {
                let previous = owner.insert(id, service.clone());
                prop_assert!(previous.is_none(), "{} opened twice (at {})", id, at);
                prop_assert_eq!(id, IncidentId(owner.len() as u64), "ids are handed out in order");
                prop_assert!(
                    !open.contains_key(&service),
                    "{} opened at {} while {:?} is open for {}",
                    id,
                    at,
                    open.get(&service),
                    service
                );
                open.insert(service, id);
            }
            Event::FailoverFinished { .. } if open.get(&service) != Some(&id) => {
                prop_assert_eq!(owner.get(&id), Some(&service), "{:?} at {}", &e, at);
            }
            _ => {
                prop_assert_eq!(
                    open.get(&service),
                    Some(&id),
                    "{:?} at {} is not about {}'s open incident",
                    &e,
                    at,
                    service
                );
                if matches!(e, Event::Resolved { .. }) {
                    open.remove(&service);
                }
            }
        }
    }
    Ok(())
}

/// Failover history of one incident, as the event stream tells it.
#[derive(Clone, Copy, Debug, Default)]
struct FailoverLog {
    started: u32,
    automatic: u32,
    failed: u32,
    awaiting: bool,
    running: bool,
    succeeded: bool,
}

/// Property 3: Failover starts: when, how often, and which requests are refused.
fn check_failover(policy: &ServicePolicy, trace: &Trace) -> Result<(), TestCaseError> {
    let mut open = None;
    let mut logs: BTreeMap<IncidentId, FailoverLog> = BTreeMap::new();
    let mut runner: Option<IncidentId> = None;
    for (n, step) in trace.steps.iter().enumerate() {
        for e in &step.ticked {
            prop_assert!(
                !matches!(
                    e,
                    Event::FailoverStarted { .. }
                        | Event::FailoverAwaitingDecision { .. }
                        | Event::FailoverFinished { .. }
                ),
                "step {}: tick emitted {:?}",
                n,
                e
            );
            track_open(&mut open, e);
        }

        match step.action {
            Action::RequestFailover => {
                let expected = match open {
                    _ if policy.failover == FailoverMode::Disabled => {
                        Err(Refusal::FailoverNotConfigured(SVC.to_owned()))
                    }
                    None => Err(Refusal::NothingToFailOver(SVC.to_owned())),
                    Some(id) if logs[&id].running => Err(Refusal::FailoverAlreadyDone(id, "running")),
                    Some(id) if logs[&id].succeeded => Err(Refusal::FailoverAlreadyDone(id, "done")),
                    Some(id) => Ok(vec![Event::FailoverStarted {
                        incident: id,
                        service: SVC.to_owned(),
                        trigger: Trigger::Manual,
                    }]),
                };
                let actual = step.refused.clone().map_or_else(|| Ok(step.emitted.clone()), Err);
                prop_assert_eq!(actual, expected, "step {}: request_failover", n);
            }
            Action::FailoverFinished { ok } => {
                let reported = runner.take();
                let finished = reported.map(|id| Event::FailoverFinished {
                    incident: id,
                    service: SVC.to_owned(),
                    ok,
                    failed_step: (!ok).then(|| FAILED_STEP.to_owned()),
                });
                if reported.is_some() && reported == open {
                    prop_assert_eq!(step.emitted.first(), finished.as_ref(), "step {}", n);
                } else {
                    // No runner, or its incident was resolved meanwhile: the outcome may be
                    // recorded, but nothing else may follow from it.
                    let late = finished.into_iter().collect::<Vec<_>>();
                    prop_assert!(
                        step.emitted.is_empty() || step.emitted == late,
                        "step {}: runner of closed {:?} reported {:?}",
                        n,
                        reported,
                        &step.emitted
                    );
                }
            }
            _ => {}
        }

        let reaches_failover = step.is_failed_probe() && step.failures == policy.failover_after;
        let prior = open.and_then(|id| logs.get(&id).copied()).unwrap_or_default();
        for e in &step.emitted {
            track_open(&mut open, e);
            match e {
                Event::IncidentOpened { incident, .. } => {
                    prop_assert!(logs.insert(*incident, FailoverLog::default()).is_none());
                }
                Event::FailoverStarted { incident, trigger, .. } => {
                    prop_assert_ne!(policy.failover, FailoverMode::Disabled);
                    prop_assert_eq!(Some(*incident), open, "step {}: started for a closed incident", n);
                    let Some(log) = logs.get_mut(incident) else {
                        return Err(TestCaseError::fail(format!("{incident} started before it opened")));
                    };
                    prop_assert!(!log.running, "step {}: two failovers running for {}", n, incident);
                    log.started += 1;
                    log.running = true;
                    runner = Some(*incident);
                    prop_assert!(
                        log.started <= 1 + log.failed,
                        "step {}: {} started {} times after {} failed runs",
                        n,
                        incident,
                        log.started,
                        log.failed
                    );
                    if *trigger == Trigger::Automatic {
                        prop_assert_eq!(policy.failover, FailoverMode::Automatic);
                        log.automatic += 1;
                        prop_assert_eq!(log.automatic, 1, "step {}: second automatic start", n);
                        prop_assert!(
                            reaches_failover,
                            "step {}: automatic start at {:?} with {} failures",
                            n,
                            &step.action,
                            step.failures
                        );
                    }
                }
                Event::FailoverAwaitingDecision { incident, .. } => {
                    prop_assert_eq!(policy.failover, FailoverMode::Manual);
                    prop_assert!(reaches_failover, "step {}: awaiting decision off-threshold", n);
                    let log = logs.get_mut(incident).expect("opened");
                    prop_assert!(!log.awaiting && log.started == 0, "step {}: decided twice", n);
                    log.awaiting = true;
                }
                Event::FailoverFinished { incident, ok, .. } => {
                    let log = logs.get_mut(incident).expect("opened");
                    prop_assert!(log.running, "step {}: finished a failover not running", n);
                    log.running = false;
                    if *ok {
                        log.succeeded = true;
                    } else {
                        log.failed += 1;
                    }
                }
                _ => {}
            }
        }

        // At `failover_after` the failover is decided, once per incident.
        if reaches_failover {
            prop_assert!(open.is_some(), "step {}: {} failures and no incident", n, step.failures);
            let count = |pred: fn(&Event) -> bool| step.emitted.iter().filter(|e| pred(e)).count();
            let automatic =
                count(|e| matches!(e, Event::FailoverStarted { trigger: Trigger::Automatic, .. }));
            let awaiting = count(|e| matches!(e, Event::FailoverAwaitingDecision { .. }));
            let undecided = prior.started == 0 && !prior.awaiting;
            let (want_automatic, want_awaiting) = match policy.failover {
                FailoverMode::Automatic => (undecided, false),
                FailoverMode::Manual => (false, undecided),
                FailoverMode::Disabled => (false, false),
            };
            prop_assert_eq!(automatic, usize::from(want_automatic), "step {}: {:?}", n, &step.emitted);
            prop_assert_eq!(awaiting, usize::from(want_awaiting), "step {}: {:?}", n, &step.emitted);
        }

        // The live failover state agrees with the stream.
        if let Some(incident) = &step.state.incident {
            let log = logs[&incident.id];
            let expected = if log.running {
                FailoverState::Running
            } else if log.started > 0 {
                FailoverState::Finished { ok: log.succeeded }
            } else if log.awaiting {
                FailoverState::AwaitingOperator
            } else {
                FailoverState::NotDecided
            };
            prop_assert_eq!(incident.failover, expected, "step {}", n);
        }
    }
    Ok(())
}

/// Severity of the open incident, tracked from the stream and from the oracle.
struct SeverityTrack {
    id: IncidentId,
    /// As the events say.
    current: Severity,
    /// The most consecutive failures seen during the incident.
    max_failures: u32,
    failover_failed: bool,
}

/// Property 4: Severity opens right, never falls, never is SEV4 and is SEV1 at `failover_after`.
fn check_severity(policy: &ServicePolicy, trace: &Trace) -> Result<(), TestCaseError> {
    let at_open = spec_severity(policy, policy.alert_after).expect("alert_after opens");
    let mut open: Option<SeverityTrack> = None;
    for (n, step) in trace.steps.iter().enumerate() {
        for (i, e) in step.events().enumerate() {
            prop_assert!(!severities(e).contains(&Severity::Sev4), "step {}: SEV4 in {:?}", n, e);
            match e {
                Event::IncidentOpened { incident, severity, .. } => {
                    prop_assert_eq!(*severity, at_open, "step {}: opening severity", n);
                    open = Some(SeverityTrack {
                        id: *incident,
                        current: *severity,
                        max_failures: step.failures,
                        failover_failed: false,
                    });
                }
                Event::SeverityRaised { incident, from, to, reason, .. } => {
                    let Some(track) = open.as_mut().filter(|t| t.id == *incident) else {
                        return Err(TestCaseError::fail(format!("step {n}: raise of a closed incident")));
                    };
                    prop_assert_eq!(*from, track.current, "step {}: raise from a stale severity", n);
                    prop_assert!(to > from, "step {}: {:?} does not rise", n, e);
                    match reason {
                        RaiseReason::ConsecutiveFailures => {
                            prop_assert!(step.is_failed_probe(), "step {}: {:?}", n, &step.action);
                            prop_assert_eq!(Some(*to), spec_severity(policy, step.failures));
                        }
                        RaiseReason::FailoverFailed => {
                            prop_assert_eq!(*to, Severity::Sev1);
                            let previous = step.events().nth(i.wrapping_sub(1));
                            prop_assert!(
                                matches!(previous, Some(Event::FailoverFinished { ok: false, .. })),
                                "step {}: raise for a failed failover after {:?}",
                                n,
                                previous
                            );
                        }
                    }
                    track.current = *to;
                }
                Event::FailoverFinished { incident, ok: false, .. } => {
                    if let Some(track) = open.as_mut().filter(|t| t.id == *incident) {
                        track.failover_failed = true;
                    }
                }
                Event::Resolved { .. } => open = None,
                _ => {}
            }
        }
        let Some(track) = &mut open else {
            prop_assert!(step.state.incident.is_none());
            continue;
        };
        if step.is_failed_probe() {
            track.max_failures = track.max_failures.max(step.failures);
        }
        let mut expected = spec_severity(policy, track.max_failures).expect("an incident is open");
        if track.failover_failed {
            expected = Severity::Sev1;
        }
        let live = step.state.incident.as_ref().map(|i| i.severity);
        prop_assert_eq!(track.current, expected, "step {}: severity by the events", n);
        prop_assert_eq!(live, Some(expected), "step {}: live severity", n);
        if step.is_failed_probe() && step.failures == policy.failover_after {
            prop_assert_eq!(live, Some(Severity::Sev1), "step {}: not SEV1 at failover_after", n);
        }
    }
    Ok(())
}

/// Property 5: Recovery and operator resolves, and health along the way.
fn check_recovery_and_health(policy: &ServicePolicy, trace: &Trace) -> Result<(), TestCaseError> {
    let mut open = None;
    let mut health = Health::Healthy;
    for (n, step) in trace.steps.iter().enumerate() {
        prop_assert!(
            step.ticked
                .iter()
                .all(|e| { !matches!(e, Event::Resolved { .. } | Event::HealthChanged { .. }) }),
            "step {}: tick emitted {:?}",
            n,
            &step.ticked
        );
        let resolved: Vec<(IncidentId, Resolution)> = step
            .emitted
            .iter()
            .filter_map(|e| match e {
                Event::Resolved { incident, resolution, .. } => Some((*incident, *resolution)),
                _ => None,
            })
            .collect();
        let recovers = step.is_ok_probe() && step.successes == policy.recover_after;
        let expected = match (open, &step.action) {
            (Some(id), Action::Probe { ok: true, .. }) if recovers => {
                vec![(id, Resolution::Recovered)]
            }
            (Some(id), Action::Resolve) => vec![(id, Resolution::Operator)],
            _ => Vec::new(),
        };
        prop_assert_eq!(
            &resolved,
            &expected,
            "step {}: {:?} with {} successes, open {:?}",
            n,
            &step.action,
            step.successes,
            open
        );
        if step.action == Action::Resolve && open.is_none() {
            prop_assert!(
                matches!(step.refused, Some(Refusal::NoOpenIncident(_))),
                "step {}: resolve with nothing open gave {:?}",
                n,
                &step.refused
            );
        }
        for e in &step.emitted {
            track_open(&mut open, e);
        }

        let now = if open.is_some() {
            Health::Unhealthy
        } else if step.failures > 0 {
            Health::Degraded
        } else {
            Health::Healthy
        };
        prop_assert_eq!(step.state.health(), now, "step {}: {:?}", n, &step.action);
        let changes: Vec<&Event> =
            step.emitted.iter().filter(|e| matches!(e, Event::HealthChanged { .. })).collect();
        let expected_change = Event::HealthChanged { service: SVC.to_owned(), from: health, to: now };
        if now == health {
            prop_assert!(changes.is_empty(), "step {}: {:?}", n, changes);
        } else {
            prop_assert_eq!(changes, vec![&expected_change], "step {}", n);
        }
        if !expected.is_empty() {
            prop_assert_eq!(now, Health::Healthy, "step {}: not healthy after resolution", n);
        }
        health = now;
    }
    Ok(())
}

/// Paging of the open incident, as the events say.
struct Paging {
    id: IncidentId,
    /// When each level was paged; index = level - 1.
    pages: Vec<Timestamp>,
    acknowledged: bool,
    exhausted: bool,
}

impl Paging {
    /// When the next page (or the exhaustion) is due.
    fn deadline(&self, levels: &[EscalationLevel]) -> Option<Timestamp> {
        if self.acknowledged || self.exhausted {
            return None;
        }
        let last = *self.pages.last()?;
        Some(last.after(levels[self.pages.len() - 1].ack_timeout))
    }
}

/// Property 6: level 1 is paged with the alert; each next level no earlier than (and, since we
/// tick before every action, at the first tick at or after) the previous level's timeout;
/// nothing after an acknowledgement or resolution; exhaustion once, after the last timeout.
fn check_escalation(levels: &[EscalationLevel], trace: &Trace) -> Result<(), TestCaseError> {
    let mut paging: Option<Paging> = None;
    for (n, step) in trace.steps.iter().enumerate() {
        let due = paging.as_ref().and_then(|p| p.deadline(levels));
        let ticked: Vec<&Event> = step.ticked.iter().filter(|e| e.service() == SVC).collect();
        if due.is_some_and(|t| step.at >= t) {
            prop_assert_eq!(ticked.len(), 1, "step {}: due at {:?}, tick at {}", n, due, step.at);
        } else {
            prop_assert!(
                ticked.is_empty(),
                "step {}: due {:?}, tick at {} gave {:?}",
                n,
                due,
                step.at,
                ticked
            );
        }
        for e in ticked {
            let Some(p) = paging.as_mut() else {
                return Err(TestCaseError::fail(format!("step {n}: {e:?} with no open incident")));
            };
            prop_assert_eq!(e.incident(), Some(p.id));
            prop_assert!(!p.acknowledged && !p.exhausted, "step {}: {:?} after ack/exhaustion", n, e);
            let previous = *p.pages.last().expect("level 1 paged at open");
            let timeout = levels[p.pages.len() - 1].ack_timeout;
            prop_assert!(
                step.at >= previous.after(timeout),
                "step {}: {:?} at {}, level {} paged at {} with timeout {:?}",
                n,
                e,
                step.at,
                p.pages.len(),
                previous,
                timeout
            );
            match e {
                Event::Paged { level, notify, .. } => {
                    prop_assert_eq!(*level as usize, p.pages.len() + 1, "step {}: level skipped", n);
                    prop_assert!((*level as usize) <= levels.len(), "step {}: no level {}", n, level);
                    prop_assert_eq!(notify, &levels[*level as usize - 1].notify);
                    p.pages.push(step.at);
                }
                Event::EscalationExhausted { .. } => {
                    prop_assert_eq!(p.pages.len(), levels.len(), "step {}: exhausted early", n);
                    p.exhausted = true;
                }
                other => {
                    return Err(TestCaseError::fail(format!("step {n}: tick emitted {other:?}")));
                }
            }
        }

        if step.action == Action::Ack {
            let expected = match &paging {
                Some(p) if !p.acknowledged => vec![Event::Acknowledged {
                    incident: p.id,
                    service: SVC.to_owned(),
                    by: "oncall".to_owned(),
                }],
                _ => Vec::new(),
            };
            prop_assert_eq!(&step.emitted, &expected, "step {}: ack", n);
            prop_assert_eq!(
                paging.is_none(),
                matches!(step.refused, Some(Refusal::NoOpenIncident(_))),
                "step {}: ack gave {:?}",
                n,
                &step.refused
            );
        }

        for (i, e) in step.emitted.iter().enumerate() {
            match e {
                Event::IncidentOpened { incident, .. } => {
                    prop_assert!(paging.is_none());
                    let mut pages = Vec::new();
                    if let Some(first) = levels.first() {
                        let page = Event::Paged {
                            incident: *incident,
                            service: SVC.to_owned(),
                            level: 1,
                            notify: first.notify.clone(),
                        };
                        prop_assert_eq!(
                            step.emitted.get(i + 1),
                            Some(&page),
                            "step {}: level 1 not paged with the alert",
                            n
                        );
                        pages.push(step.at);
                    }
                    paging = Some(Paging { id: *incident, pages, acknowledged: false, exhausted: false });
                }
                Event::Paged { .. } => {
                    let after_alert = i > 0 && matches!(step.emitted[i - 1], Event::IncidentOpened { .. });
                    prop_assert!(after_alert, "step {}: page outside a tick: {:?}", n, e);
                }
                Event::EscalationExhausted { .. } => {
                    return Err(TestCaseError::fail(format!("step {n}: exhaustion outside a tick")));
                }
                Event::Acknowledged { .. } => {
                    if let Some(p) = &mut paging {
                        p.acknowledged = true;
                    }
                }
                Event::Resolved { .. } => paging = None,
                _ => {}
            }
        }

        let expected = paging.as_ref().and_then(|p| p.deadline(levels));
        prop_assert_eq!(step.deadline, expected, "step {}: next_deadline after {:?}", n, &step.action);
    }
    Ok(())
}

/// Property 7: replaying the stream rebuilds the open incident, after every step and from
/// scratch, and the next incident id continues where the live core's would.
fn check_replay(
    policy: &ServicePolicy,
    levels: &[EscalationLevel],
    trace: &Trace,
) -> Result<(), TestCaseError> {
    let mut replayed = decider(*policy, None, levels);
    for (n, step) in trace.steps.iter().enumerate() {
        for e in step.events() {
            replayed.replay(e, step.at);
        }
        let rebuilt = &replayed.service(SVC).expect("configured").incident;
        prop_assert_eq!(rebuilt, &step.state.incident, "step {}: after {:?}", n, &step.action);
        prop_assert_eq!(replayed.next_deadline(), step.deadline, "step {}", n);
    }

    let events = trace.events();
    let mut fresh = decider(*policy, None, levels);
    for (at, e) in &events {
        fresh.replay(e, *at);
    }
    let live = &trace.decider;
    prop_assert_eq!(
        &fresh.service(SVC).expect("configured").incident,
        &live.service(SVC).expect("configured").incident
    );
    prop_assert_eq!(fresh.running_failovers(), live.running_failovers());

    let last_id = events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::IncidentOpened { incident, .. } => Some(incident.0),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let later = trace.end.after(Duration::from_secs(1));
    let from_live = next_incident_id(live.clone(), policy, later);
    let from_replay = next_incident_id(fresh, policy, later);
    prop_assert_eq!(from_live, Some(IncidentId(last_id + 1)));
    prop_assert_eq!(from_replay, from_live, "replay reuses or skips an id");
    Ok(())
}

/// Property 8: `SVC` decides the same with or without a busy second service (incident ids
/// aside, which the services share).
fn check_independence(alone: &Trace, together: &Trace) -> Result<(), TestCaseError> {
    prop_assert_eq!(normalized(&alone.events(), SVC), normalized(&together.events(), SVC));
    let strip =
        |s: &ServiceState| s.incident.clone().map(|i| (i.severity, i.escalation, i.acknowledged, i.failover));
    for (n, (a, b)) in alone.steps.iter().zip(&together.steps).enumerate() {
        prop_assert_eq!(a.state.health(), b.state.health(), "step {}", n);
        prop_assert_eq!(strip(&a.state), strip(&b.state), "step {}", n);
    }
    let services = together.events();
    prop_assert!(services.iter().all(|(_, e)| [SVC, OTHER].contains(&e.service())));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #[test]
    fn incident_opens_exactly_when_failures_first_reach_alert_after(
        (policy, levels, actions) in scenario()
    ) {
        let trace = drive(policy, None, &levels, &actions)?;
        check_alerts(&policy, &trace)?;
    }

    #[test]
    fn incidents_are_never_opened_twice_nor_while_one_is_open(
        (policy, other, levels, actions) in (policy(), policy(), levels(), actions())
    ) {
        let trace = drive(policy, Some(other), &levels, &actions)?;
        check_incident_identity(&trace)?;
    }

    #[test]
    fn failover_starts_once_per_decision_and_respects_the_mode(
        (policy, levels, actions) in scenario()
    ) {
        let trace = drive(policy, None, &levels, &actions)?;
        check_failover(&policy, &trace)?;
    }

    #[test]
    fn severity_never_falls_and_is_sev1_at_failover_after(
        (policy, levels, actions) in scenario()
    ) {
        let trace = drive(policy, None, &levels, &actions)?;
        check_severity(&policy, &trace)?;
    }

    #[test]
    fn recover_after_successes_resolve_and_health_follows(
        (policy, levels, actions) in scenario()
    ) {
        let trace = drive(policy, None, &levels, &actions)?;
        check_recovery_and_health(&policy, &trace)?;
    }

    #[test]
    fn escalation_pages_level_by_level_after_each_timeout_until_acknowledged(
        (policy, levels, actions) in scenario()
    ) {
        let trace = drive(policy, None, &levels, &actions)?;
        check_escalation(&levels, &trace)?;
    }

    #[test]
    fn replaying_the_stream_rebuilds_the_open_incident_and_continues_ids(
        (policy, levels, actions) in scenario()
    ) {
        let trace = drive(policy, None, &levels, &actions)?;
        check_replay(&policy, &levels, &trace)?;
    }

    #[test]
    fn a_second_service_does_not_change_the_first_ones_decisions(
        (policy, other, levels, actions) in (policy(), policy(), levels(), actions())
    ) {
        let alone = drive(policy, None, &levels, &actions)?;
        let together = drive(policy, Some(other), &levels, &actions)?;
        check_independence(&alone, &together)?;
    }
}

// ---------------------------------------------------------------------------------------------
// Examples

fn at_secs(secs: u64) -> Timestamp {
    START.after(Duration::from_secs(secs))
}

fn fail_every_10s(n: usize) -> Vec<Action> {
    vec![Action::Probe { ok: false, after: Duration::from_secs(10) }; n]
}

fn two_levels() -> Vec<EscalationLevel> {
    vec![
        EscalationLevel { notify: "primary".into(), ack_timeout: Duration::from_secs(5 * 60) },
        EscalationLevel { notify: "secondary".into(), ack_timeout: Duration::from_secs(10 * 60) },
    ]
}

const AUTOMATIC_3_6: ServicePolicy =
    ServicePolicy { alert_after: 3, failover_after: 6, recover_after: 2, failover: FailoverMode::Automatic };

#[test]
fn sev3_at_the_third_failure_then_sev1_and_automatic_failover_at_the_sixth() {
    let svc = || SVC.to_owned();
    let mut actions = fail_every_10s(6);
    actions.extend(vec![Action::Probe { ok: true, after: Duration::from_secs(10) }; 2]);
    let events = run(AUTOMATIC_3_6, &[], &actions);
    assert_eq!(
        events,
        vec![
            (
                at_secs(10),
                Event::HealthChanged { service: svc(), from: Health::Healthy, to: Health::Degraded }
            ),
            (
                at_secs(30),
                Event::HealthChanged { service: svc(), from: Health::Degraded, to: Health::Unhealthy }
            ),
            (
                at_secs(30),
                Event::IncidentOpened {
                    incident: IncidentId(1),
                    service: svc(),
                    severity: Severity::Sev3,
                    consecutive_failures: 3,
                    declared: None,
                }
            ),
            // Six is both twice alert_after (SEV2) and failover_after (SEV1): the worse wins.
            (
                at_secs(60),
                Event::SeverityRaised {
                    incident: IncidentId(1),
                    service: svc(),
                    from: Severity::Sev3,
                    to: Severity::Sev1,
                    reason: RaiseReason::ConsecutiveFailures,
                }
            ),
            (
                at_secs(60),
                Event::FailoverStarted {
                    incident: IncidentId(1),
                    service: svc(),
                    trigger: Trigger::Automatic
                }
            ),
            (
                at_secs(80),
                Event::HealthChanged { service: svc(), from: Health::Unhealthy, to: Health::Healthy }
            ),
            (
                at_secs(80),
                Event::Resolved {
                    incident: IncidentId(1),
                    service: svc(),
                    resolution: Resolution::Recovered
                }
            ),
        ]
    );
}

#[test]
fn two_levels_page_the_second_at_exactly_five_minutes_and_exhaust_at_fifteen() {
    let policy = ServicePolicy {
        alert_after: 1,
        failover_after: 1,
        recover_after: 1,
        failover: FailoverMode::Disabled,
    };
    let mut d = Decider::new([(SVC.to_owned(), policy)], two_levels());
    let t0 = at_secs(0);
    let ms = |m: u64| Duration::from_millis(m);
    let opened = d.observe(SVC, false, t0).unwrap();
    assert!(matches!(opened.last(), Some(Event::Paged { level: 1, notify, .. }) if notify == "primary"));
    assert_eq!(d.next_deadline(), Some(t0.after(ms(300_000))));

    assert_eq!(d.tick(t0.after(ms(299_999))), vec![]);
    assert_eq!(
        d.tick(t0.after(ms(300_000))),
        vec![Event::Paged {
            incident: IncidentId(1),
            service: SVC.to_owned(),
            level: 2,
            notify: "secondary".into()
        }]
    );
    assert_eq!(d.next_deadline(), Some(t0.after(ms(900_000))));
    assert_eq!(d.tick(t0.after(ms(899_999))), vec![]);
    assert_eq!(
        d.tick(t0.after(ms(900_000))),
        vec![Event::EscalationExhausted { incident: IncidentId(1), service: SVC.to_owned() }]
    );
    assert_eq!(d.next_deadline(), None);
    assert_eq!(d.tick(t0.after(Duration::from_secs(3600))), vec![]);
}

#[test]
fn an_acknowledgement_stops_paging() {
    let policy =
        ServicePolicy { alert_after: 2, failover_after: 4, recover_after: 1, failover: FailoverMode::Manual };
    let mut actions = fail_every_10s(2);
    actions.push(Action::Ack);
    actions.push(Action::Tick { after: Duration::from_secs(3600) });
    let events = run(policy, &two_levels(), &actions);
    let pages = events.iter().filter(|(_, e)| matches!(e, Event::Paged { .. })).count();
    assert_eq!(pages, 1);
    assert!(matches!(events.last(), Some((_, Event::Acknowledged { .. }))));
}

#[test]
fn manual_mode_waits_for_the_operator_and_a_failed_failover_raises_sev1() {
    let policy = ServicePolicy {
        alert_after: 2,
        failover_after: 10,
        recover_after: 1,
        failover: FailoverMode::Manual,
    };
    let mut actions = fail_every_10s(2);
    actions.push(Action::RequestFailover);
    actions.push(Action::FailoverFinished { ok: false });
    let events: Vec<Event> = run(policy, &[], &actions).into_iter().map(|(_, e)| e).collect();
    let id = IncidentId(1);
    assert_eq!(
        events[events.len() - 3..],
        [
            Event::FailoverStarted { incident: id, service: SVC.to_owned(), trigger: Trigger::Manual },
            Event::FailoverFinished {
                incident: id,
                service: SVC.to_owned(),
                ok: false,
                failed_step: Some(FAILED_STEP.into())
            },
            Event::SeverityRaised {
                incident: id,
                service: SVC.to_owned(),
                from: Severity::Sev3,
                to: Severity::Sev1,
                reason: RaiseReason::FailoverFailed,
            },
        ]
    );

    // At failover_after a manual-mode core asks instead of starting.
    let policy = ServicePolicy { failover_after: 3, ..policy };
    let events = run(policy, &[], &fail_every_10s(3));
    assert!(events.iter().any(|(_, e)| matches!(e, Event::FailoverAwaitingDecision { .. })));
    assert!(!events.iter().any(|(_, e)| matches!(e, Event::FailoverStarted { .. })));
}

#[test]
fn replay_restores_a_paged_acknowledged_incident() {
    let mut actions = fail_every_10s(6);
    actions.push(Action::Tick { after: Duration::from_secs(300) });
    actions.push(Action::Ack);
    let trace = drive(AUTOMATIC_3_6, None, &two_levels(), &actions).unwrap();
    let mut replayed = Decider::new([(SVC.to_owned(), AUTOMATIC_3_6)], two_levels());
    for (at, e) in trace.events() {
        replayed.replay(&e, at);
    }
    let incident = replayed.service(SVC).unwrap().incident.clone().unwrap();
    assert_eq!(incident.id, IncidentId(1));
    assert_eq!(incident.severity, Severity::Sev1);
    assert!(incident.acknowledged);
    assert_eq!(incident.failover, FailoverState::Running);
    assert_eq!(incident.escalation.map(|e| e.level), Some(1));
    assert_eq!(Some(incident), trace.decider.service(SVC).unwrap().incident.clone());
}

#[test]
fn a_declared_incident_pages_survives_healthy_probes_and_replays_as_declared() {
    let manual = ServicePolicy { failover: FailoverMode::Manual, ..AUTOMATIC_3_6 };
    let mut d = decider(manual, None, &two_levels());
    let events = d.declare(SVC, Severity::Sev2, "customers report missing orders", at_secs(0)).unwrap();
    assert!(matches!(
        &events[..],
        [
            Event::HealthChanged { .. },
            Event::IncidentOpened {
                incident: IncidentId(1),
                severity: Severity::Sev2,
                declared: Some(_),
                ..
            },
            Event::Paged { level: 1, .. },
        ]
    ));
    for t in 1..=10 {
        assert!(d.observe(SVC, true, at_secs(t * 10)).unwrap().is_empty(), "probes never resolve it");
    }
    assert_eq!(
        d.declare(SVC, Severity::Sev1, "again", at_secs(200)),
        Err(Refusal::AlreadyOpen(SVC.to_owned(), IncidentId(1)))
    );
    // The runbook of a declared incident is an operator's call, as in manual mode.
    assert!(matches!(&d.request_failover(SVC).unwrap()[..], [Event::FailoverStarted { .. }]));

    let mut replayed = decider(manual, None, &two_levels());
    replayed.replay(&events[1], at_secs(0));
    for t in 1..=3 {
        assert!(replayed.observe(SVC, true, at_secs(t * 10)).unwrap().is_empty());
    }
    assert_eq!(open_incident_of(&replayed, SVC), Some(IncidentId(1)));
}
