//! When each milestone of the response can happen, as windows of absolute instants: the first
//! alert, the failover's trigger and completion per service, and when customers are restored.
//! [`super::plan`] turns them into phase bounds.

use std::time::Duration;

use crate::backup::Ms;
use crate::scenario::{FailoverMode, Fault, FaultKind, Runbook, Scenario, Service, StandbyMode};

use super::bound::{Window, earliest};
use super::faults::{self, Caller, Effect};
use super::respond;
use super::restore::{self, Outcome};
use super::timing::{Network, Streak};

/// How often support looks for new customer reports.
const SUPPORT_POLL: Duration = Duration::from_secs(1);

/// Why a milestone's latest instant cannot be promised, collected as the windows are built.
#[derive(Default)]
pub(crate) struct Reasons(pub Vec<String>);

impl Reasons {
    fn add(&mut self, why: impl Into<String>) {
        let why = why.into();
        if !self.0.contains(&why) {
            self.0.push(why);
        }
    }
}

/// One service's milestones.
pub(crate) struct ServiceWindows<'a> {
    pub service: &'a Service,
    /// Its first alert reaching the pager.
    pub alert: Option<Window>,
    /// Its failover (or restart) complete, as the measurement defines it.
    pub completion: Option<Window>,
    /// Whether a DNS health check can move its record before the database is promoted.
    pub early_switch: bool,
    /// The longest from completion to restored, when the failed-over world is clean.
    pub recover: Option<Duration>,
    /// Some fault can fail its customers' requests.
    pub customers_hit: bool,
}

/// Everything [`super::plan`] needs.
pub(crate) struct Windows<'a> {
    pub services: Vec<ServiceWindows<'a>>,
    /// From the first page to the first acknowledgement: best and (when promised) worst;
    /// `None` when nobody can acknowledge.
    pub ack: Option<(Duration, Option<Duration>)>,
    /// Some (fault, service) pair other than one can fail probes: the first page may belong to
    /// an incident that resolves before anyone answers.
    pub many_incidents: bool,
    /// Why monitor-driven worst cases are unbounded (breakers, disruption before `t_fault`).
    pub monitor_unbounded: Vec<String>,
    /// Why the acknowledgement's worst case is unbounded.
    pub ack_reasons: Reasons,
    /// Why completion's worst case is unbounded.
    pub mitigate_reasons: Reasons,
    /// Why recovery's worst case is unbounded.
    pub recover_reasons: Reasons,
    /// The restore from backups, when a `restore` runbook can complete one.
    pub restore: Option<RestoreWindow>,
}

/// A restore from backups as the plan sees it: when it completes and what it brings back.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RestoreWindow {
    /// When the restored node serves again.
    pub completion: Window,
    /// From the node going dark to serving again, at the shortest.
    pub blackout: Duration,
    /// The newest and the oldest point the verified chain can hold.
    pub newest: Ms,
    pub oldest: Ms,
    /// It is the only restore the run can make (one service has the runbook).
    pub only: bool,
}

/// When the alert of a customer report on `service` reaches the pager: support sees the
/// report within a poll (and a tick each for the injection and the timer), declares the
/// incident with the monitor, which notifies the pager. Promised only for a report at or
/// after `t_fault`: an earlier one opens its incident before the measurement looks.
fn report_alert(fault: &Fault, t_fault: Duration, net: Network) -> Window {
    let latest = fault.at + SUPPORT_POLL + net.tick * 2 + net.exchange * 2;
    Window { lo: fault.at, hi: (fault.at >= t_fault).then_some(latest) }
}

fn reports_on<'s>(scenario: &'s Scenario, service: &'s Service) -> impl Iterator<Item = &'s Fault> {
    scenario
        .faults
        .iter()
        .filter(move |f| matches!(&f.kind, FaultKind::UserReport { service: s } if *s == service.name))
}

fn per_request(scenario: &Scenario) -> Duration {
    Duration::from_secs_f64(1.0 / scenario.traffic.rate.max(1e-3))
}

/// The world after `service` failed over: served from its standby, the database from its
/// replica. Used to ask which faults a failover leaves behind.
fn failed_over(scenario: &Scenario, service: &Service) -> (Scenario, Service) {
    let mut after = scenario.clone();
    let mut moved = service.clone();
    if let Some(standby) = &service.standby {
        moved.primary = standby.clone();
    }
    if let Some(db) = after.database.as_mut() {
        if let Some(replica) = db.replica.clone() {
            db.primary = replica;
        }
    }
    (after, moved)
}

/// A window for the k-th failure in a row after `fault` on a path with effect `effect`: a hard
/// fault that lasts long enough promises it; anything else only says when it could come first.
fn streak_window(fault: &Fault, effect: Effect, streak: Streak, net: Network, extra: Duration) -> Window {
    let lo = fault.at + streak.earliest(net.tick);
    let latest = fault.at + streak.latest(net.tick);
    let hi = (effect == Effect::Hard && faults::lasts_until(fault, latest)).then_some(latest + extra);
    Window { lo, hi }
}

pub(crate) fn windows(scenario: &Scenario, t_fault: Duration, net: Network) -> Windows<'_> {
    let m = &scenario.monitor;
    let probe = Caller { host: "monitor", deadline: m.timeout };
    let customer = Caller { host: "clients", deadline: scenario.traffic.timeout };
    let alert_streak = Streak { interval: m.interval, deadline: m.timeout, k: m.alert_after };
    let failover_streak = Streak { interval: m.interval, deadline: m.timeout, k: m.failover_after };
    let replica = scenario.database.as_ref().and_then(|d| d.replica.as_ref().map(|r| (d, r)));

    let mut monitor_unbounded: Vec<String> =
        scenario.faults.iter().filter_map(|f| faults::breaks_monitor(scenario, f)).collect();
    let disrupts = |f: &Fault, s: &Service| {
        faults::on_requests(scenario, f, s, probe) != Effect::None
            || faults::on_requests(scenario, f, s, customer) != Effect::None
    };
    if let Some(early) =
        scenario.faults.iter().find(|f| f.at < t_fault && scenario.services.iter().any(|s| disrupts(f, s)))
    {
        monitor_unbounded.push(format!(
            "{} at {} can open an incident before t_fault",
            early.kind.name(),
            crate::report::format_duration(early.at)
        ));
    }
    if let Some(early) = scenario.faults.iter().find(|f| {
        f.at < t_fault && matches!(&f.kind, FaultKind::UserReport { service } if scenario.services.iter().any(|s| s.name == *service))
    }) {
        monitor_unbounded.push(format!(
            "{} at {} declares an incident before t_fault",
            early.kind.name(),
            crate::report::format_duration(early.at)
        ));
    }
    let pairs = scenario
        .services
        .iter()
        .flat_map(|s| scenario.faults.iter().map(move |f| (s, f)))
        .filter(|(s, f)| {
            faults::on_requests(scenario, f, s, probe) != Effect::None
                || matches!(&f.kind, FaultKind::UserReport { service } if *service == s.name)
        })
        .count();

    let mut ack_reasons = Reasons::default();
    let mut mitigate_reasons = Reasons::default();
    let mut recover_reasons = Reasons::default();
    let ack = respond::response(scenario, net, false);
    let decision = respond::response(scenario, net, true);

    // First pass: alerts and triggers.
    let mut partial = Vec::new();
    let mut ack_sure = false;
    for s in &scenario.services {
        let effects: Vec<(&Fault, Effect)> = scenario
            .faults
            .iter()
            .map(|f| (f, faults::on_requests(scenario, f, s, probe)))
            .filter(|(_, e)| *e != Effect::None)
            .collect();
        // Probes see a fault that fails them; nothing sees missing rows but a customer report.
        let alert = earliest(
            effects
                .iter()
                .map(|&(f, e)| streak_window(f, e, alert_streak, net, net.exchange))
                .chain(reports_on(scenario, s).map(|f| report_alert(f, t_fault, net))),
        );
        let restores = s.runbook == Runbook::Restore;
        let has_steps = match s.runbook {
            Runbook::Restart => true,
            Runbook::Restore => scenario.database.is_some() && scenario.backups.is_some(),
            Runbook::Failover => s.standby.is_some() || replica.is_some(),
        };
        // Nobody automates throwing the live database away: a restore is always a person's call.
        let manual = m.failover == FailoverMode::Manual || restores;
        let trigger = match (has_steps, manual) {
            (false, _) => None,
            (true, false) => earliest(
                effects.iter().map(|&(f, e)| streak_window(f, e, failover_streak, net, Duration::ZERO)),
            ),
            (true, true) => decision.as_ref().and_then(|d| {
                // A responder asks once, for the incident they acknowledged: the page must be
                // answered while the fault that opened it still holds.
                let by_probes = effects.iter().map(|&(f, e)| {
                    let w = streak_window(f, e, alert_streak, net, net.exchange * 2);
                    let hi = w.hi.zip(d.worst).map(|(h, d)| h + d).filter(|&h| faults::lasts_until(f, h));
                    Window { lo: w.lo + d.best, hi }
                });
                // A declared incident stays open until someone resolves it; a report made while
                // a probe incident is open joins that one, which may resolve before anyone asks.
                let by_reports = reports_on(scenario, s).map(|f| {
                    let w = report_alert(f, t_fault, net);
                    let hi =
                        w.hi.filter(|_| effects.is_empty()).zip(d.worst).map(|(h, d)| h + net.exchange + d);
                    Window { lo: w.lo + d.best, hi }
                });
                earliest(by_probes.chain(by_reports))
            }),
        };
        // The acknowledgement is promised by a fault that fails every probe until someone
        // answers; an automatic runbook that cures it first (a restart, or a promotion when only
        // the database was hit) resolves the incident, and a late ack then finds nothing open.
        if let Some(worst) = ack.as_ref().and_then(|a| a.worst) {
            ack_sure |= effects.is_empty() && reports_on(scenario, s).any(|f| f.at >= t_fault);
            ack_sure |= effects.iter().any(|&(f, e)| {
                let cured_first = !manual
                    && has_steps
                    && (s.runbook == Runbook::Restart
                        || (replica.is_some()
                            && faults::on_deployment(scenario, f, s, probe) != Effect::Hard));
                let latest = f.at + alert_streak.latest(net.tick) + net.exchange * 2 + worst;
                e == Effect::Hard && !cured_first && faults::lasts_until(f, latest)
            });
        }
        partial.push((s, alert, trigger));
    }
    let any_restore = scenario.services.iter().any(|s| s.runbook == Runbook::Restore);
    if decision.is_none() && (m.failover == FailoverMode::Manual || any_restore) {
        mitigate_reasons
            .add("no responder in the escalation chain can acknowledge and decide a manual failover");
    }
    let restore_services = scenario.services.iter().filter(|s| s.runbook == Runbook::Restore).count();
    // A failover promotes the replica: the node a restore is sent to is then no primary. The
    // restore's own blackout fails every service's probes, so any such failover can start.
    let promotion = replica.and_then(|_| {
        scenario.services.iter().find(|s| s.runbook == Runbook::Failover).map(|s| s.name.clone())
    });
    // Another service whose runbook can act during that blackout may complete first.
    let others_act = |restoring: &Service| {
        partial.iter().any(|(o, ..)| {
            o.name != restoring.name
                && match o.runbook {
                    Runbook::Restart => true,
                    Runbook::Restore => false,
                    Runbook::Failover => o.standby.is_some() || replica.is_some(),
                }
        })
    };
    let others_act: Vec<bool> = scenario.services.iter().map(others_act).collect();
    let mut restore_window = None;
    let promotion_lo = replica.and_then(|(d, _)| {
        partial
            .iter()
            .filter(|(s, ..)| s.runbook == Runbook::Failover)
            .filter_map(|(_, _, t)| t.map(|t| t.lo + d.promote_time))
            .min()
    });

    let mut services = Vec::new();
    for (i, (s, alert, trigger)) in partial.into_iter().enumerate() {
        // The runbook's own calls: a fault near the hosts they go to may fail a step, and a
        // failed runbook is not retried by anyone in the simulation.
        let targets: Vec<String> = match s.runbook {
            Runbook::Restart => vec![format!("{}-app", s.primary)],
            Runbook::Restore => {
                let mut t: Vec<String> =
                    scenario.database.iter().map(|d| format!("{}-db", d.primary)).collect();
                t.extend(scenario.backups.iter().map(|b| format!("{}-store", b.store)));
                t
            }
            Runbook::Failover => {
                let mut t = vec!["dns".to_owned()];
                t.extend(s.standby.iter().map(|r| format!("{r}-app")));
                t.extend(replica.map(|(_, r)| format!("{r}-db")));
                t
            }
        };
        let touching: Vec<&Fault> =
            scenario.faults.iter().filter(|f| faults::touches(scenario, f, &targets)).collect();
        let runbook_sure = match (s.runbook, touching.first()) {
            // A restart's target is the failing deployment itself: only faults that leave its
            // host reachable let the call through.
            (Runbook::Restart, _) => !touching.iter().any(|f| {
                !matches!(
                    f.kind,
                    crate::scenario::FaultKind::PoolExhaustion { .. }
                        | crate::scenario::FaultKind::HttpErrors { .. }
                        | crate::scenario::FaultKind::SlowResponses { .. }
                )
            }),
            (Runbook::Failover, None) => true,
            (Runbook::Failover, Some(_)) => false,
            (Runbook::Restore, touching) => touching.is_none() && promotion.is_none(),
        };
        if let (Runbook::Restore, Some(other)) = (s.runbook, &promotion) {
            mitigate_reasons.add(format!(
                "a failover of {other} can promote the replica: the restore of {} then finds no primary",
                s.name
            ));
        }
        if !runbook_sure {
            mitigate_reasons.add(format!(
                "a fault can reach the hosts the runbook of {} calls ({})",
                s.name,
                targets.join(", ")
            ));
        }
        let trigger_sure =
            trigger.map(|t| if runbook_sure && monitor_unbounded.is_empty() { t } else { t.unbounded() });
        let ex = net.exchange;
        let mut early_switch = false;
        let completion = match (s.runbook, &s.standby) {
            (Runbook::Restart, _) => {
                let restart = crate::scenario::RESTART_TIME;
                trigger_sure.map(|t| t.then(restart, Some(restart + ex * 3)))
            }
            (Runbook::Failover, Some(standby)) => {
                let promote = replica.map_or(Duration::ZERO, |(d, _)| d.promote_time);
                let switch_by_runbook = trigger_sure.map(|t| {
                    let w = t.then(Duration::ZERO, Some(promote + ex * 4));
                    Window { lo: w.lo.max(promotion_lo.unwrap_or_default()), hi: w.hi }
                });
                let switch_by_check = scenario.dns.health_check.as_ref().and_then(|hc| {
                    let caller = Caller { host: "dns", deadline: hc.interval };
                    let streak = Streak { interval: hc.interval, deadline: hc.interval, k: hc.failures };
                    let dns_sure = !scenario
                        .faults
                        .iter()
                        .any(|f| faults::touches(scenario, f, &["dns".to_owned(), format!("{standby}-app")]));
                    earliest(scenario.faults.iter().filter_map(|f| {
                        let e = faults::on_requests(scenario, f, s, caller);
                        (e != Effect::None).then(|| {
                            let w = streak_window(f, e, streak, net, ex);
                            if dns_sure { w } else { w.unbounded() }
                        })
                    }))
                });
                early_switch = switch_by_check.is_some() && replica.is_some();
                let switched = match (switch_by_runbook, switch_by_check) {
                    (Some(a), Some(b)) => Some(a.first_of(b)),
                    (a, b) => a.or(b),
                };
                match s.standby_mode {
                    StandbyMode::Hot => switched,
                    StandbyMode::Warm | StandbyMode::Cold => {
                        let scaled = trigger_sure.map(|t| t.then(s.scale_up, Some(s.scale_up + ex * 2)));
                        switched.zip(scaled).map(|(a, b)| a.both(b))
                    }
                }
            }
            // With a promotion possible, what the restore does is not this plan's to say.
            (Runbook::Restore, _) if promotion.is_some() => trigger_sure.map(Window::unbounded),
            (Runbook::Restore, _) => {
                let restored = trigger.zip(scenario.backups.as_ref()).map(|(t, b)| {
                    // The runner's call reaches the node within an exchange; the node fetches
                    // the catalog within another.
                    let latest = |extra: Duration| t.hi.map_or(scenario.duration, |h| h + extra);
                    let when = restore::When { start: (t.lo, latest(ex)), fetch: (t.lo, latest(ex * 2)) };
                    restore::restore(scenario, b, when, net)
                });
                match restored {
                    None => None,
                    Some(Outcome::Never(why)) => {
                        mitigate_reasons.add(why);
                        None
                    }
                    Some(Outcome::Verifies(r)) => {
                        if r.worst.is_none() {
                            mitigate_reasons.add(
                                "in some case no backup chain verifies (a corrupt copy no drill has found \
                                 yet, a copy that may not have reached the store)",
                            );
                        }
                        let completion =
                            trigger_sure.map(|t| t.then(r.best, r.worst.map(|w| w.saturating_add(ex * 3))));
                        if let Some(c) = completion {
                            restore_window = Some(RestoreWindow {
                                completion: c,
                                blackout: r.best,
                                newest: r.newest,
                                oldest: r.oldest,
                                only: restore_services == 1,
                            });
                        }
                        // Another runbook set off by the blackout completes no earlier than it
                        // starts, and the first completion is what the measurement takes.
                        match (completion, others_act.get(i).copied().unwrap_or(true)) {
                            (Some(c), true) => Some(Window { lo: trigger.map_or(c.lo, |t| t.lo), hi: c.hi }),
                            (c, _) => c,
                        }
                    }
                }
            }
            (Runbook::Failover, None) => replica.and_then(|(d, _)| {
                trigger_sure.map(|t| Window {
                    lo: promotion_lo.unwrap_or(t.lo + d.promote_time),
                    hi: t.hi.map(|h| h + d.promote_time + ex * 2),
                })
            }),
        };

        // After completion: customers' caches (and the deployments' cache of the database
        // record) expire within a TTL plus any overrun; the first request after that succeeds.
        let overrun = scenario
            .faults
            .iter()
            .filter_map(|f| match f.kind {
                crate::scenario::FaultKind::DnsTtlOverrun { overrun } => Some(overrun),
                _ => None,
            })
            .max()
            .unwrap_or_default();
        let lookup = std::time::Duration::from_secs(2);
        let settle = ex * 2 + per_request(scenario) + net.tick;
        let customers_hit = effects_on_customers(scenario, s, customer);
        let recover = match s.runbook {
            Runbook::Restore if scenario.traffic.read_rows => {
                recover_reasons.add(format!(
                    "after the restore of {}'s database, customers' reads of the rows written after its \
                     point keep failing: the success ratio may never reach the threshold",
                    s.name
                ));
                None
            }
            Runbook::Restore => {
                let cured = scenario
                    .faults
                    .iter()
                    .all(|f| faults::on_requests(scenario, f, s, customer) == Effect::None);
                if !cured {
                    recover_reasons.add(format!(
                        "a restore of {}'s database does not cure every fault its customers see",
                        s.name
                    ));
                }
                cured.then_some(settle)
            }
            Runbook::Restart => {
                let cured = scenario.faults.iter().all(|f| {
                    faults::on_requests(scenario, f, s, customer) == Effect::None
                        || matches!(f.kind, crate::scenario::FaultKind::PoolExhaustion { .. })
                });
                if !cured {
                    recover_reasons
                        .add(format!("a restart of {} does not cure every fault its customers see", s.name));
                }
                cured.then_some(settle)
            }
            Runbook::Failover => {
                let (after, moved) = failed_over(scenario, s);
                let dirty: Vec<&Fault> = scenario
                    .faults
                    .iter()
                    .filter(|f| faults::on_requests(&after, f, &moved, customer) != Effect::None)
                    .collect();
                let capped = s.standby.is_some() && s.capacity < 1.0;
                if let Some(f) = dirty.first() {
                    recover_reasons.add(format!(
                        "{} at {} can fail requests to {} after its failover too",
                        f.kind.name(),
                        crate::report::format_duration(f.at),
                        s.name
                    ));
                }
                if capped {
                    recover_reasons.add(format!(
                        "the standby of {} takes {:.0}% of the load: whether the success ratio reaches the \
                         threshold depends on how requests arrive",
                        s.name,
                        s.capacity * 100.0
                    ));
                }
                (dirty.is_empty() && !capped).then_some(scenario.dns.ttl + overrun + lookup + settle + ex)
            }
        };
        services.push(ServiceWindows { service: s, alert, completion, early_switch, recover, customers_hit });
    }

    if let Some(a) = &ack {
        if a.worst.is_none() {
            ack_reasons.add("no level of the escalation chain is sure to acknowledge");
        } else if !ack_sure {
            ack_reasons.add(
                "no fault is sure to keep an incident open until someone answers (it may clear, or an \
                 automatic runbook may cure it first)",
            );
        }
    } else {
        ack_reasons.add("no responder in the escalation chain can acknowledge");
    }

    Windows {
        services,
        ack: ack.map(|a| (a.best, a.worst.filter(|_| ack_sure))),
        many_incidents: pairs > 1,
        monitor_unbounded,
        ack_reasons,
        mitigate_reasons,
        recover_reasons,
        restore: restore_window,
    }
}

fn effects_on_customers(scenario: &Scenario, s: &Service, customer: Caller<'_>) -> bool {
    scenario.faults.iter().any(|f| faults::on_requests(scenario, f, s, customer) != Effect::None)
}
