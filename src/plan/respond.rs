//! Humans: when a page is acknowledged, walking the escalation chain, and when a responder
//! who acknowledged triggers a manual failover.

use std::time::Duration;

use crate::scenario::{AckDelay, FaultKind, Responder, Scenario};

use super::timing::Network;

/// One escalation level as the plan sees it.
struct Level<'a> {
    /// The responder paged at this level, if the scenario defines one.
    responder: Option<&'a Responder>,
    /// A `responder_absent` fault names them: they may not answer.
    may_be_absent: bool,
    /// From the first page to this level's page, at the earliest and at the latest.
    paged: (Duration, Duration),
}

fn levels(scenario: &Scenario, net: Network) -> Vec<Level<'_>> {
    let mut out = Vec::new();
    let (mut lo, mut hi) = (Duration::ZERO, Duration::ZERO);
    for level in &scenario.escalation {
        let may_be_absent = scenario.faults.iter().any(
            |f| matches!(&f.kind, FaultKind::ResponderAbsent { responder } if *responder == level.notify),
        );
        out.push(Level { responder: scenario.responders.get(&level.notify), may_be_absent, paged: (lo, hi) });
        // The next level is paged when this one's timeout passes (the engine wakes a tick late
        // at worst) and the page waits behind at most a few notifications of the same channel.
        lo += level.ack_timeout;
        hi += level.ack_timeout + net.tick + net.exchange * 4;
    }
    out
}

fn ack_range(r: &Responder) -> Option<(Duration, Duration)> {
    match r.ack_after {
        AckDelay::Fixed(d) => Some((d, d)),
        AckDelay::Range(lo, hi) => Some((lo, hi)),
        AckDelay::Never => None,
    }
}

/// From the first page to the first acknowledgement, when someone can acknowledge: the
/// earliest, and the latest when some level is sure to (`None` otherwise). `decides` keeps
/// only responders who trigger a manual failover and adds their `decide_after`.
pub(crate) struct Response {
    /// Earliest, from the first page.
    pub best: Duration,
    /// Latest, from the page of the incident that is sure to be acknowledged.
    pub worst: Option<Duration>,
}

/// The acknowledgement (with `decides`, the manual failover request) after the first page.
///
/// Best: the quickest level to answer, counting the timeouts before it is paged, less the
/// delivery slack of the first page (a later page can travel faster than the first did).
/// Worst: walking the chain, the first level whose responder is sure to answer bounds it
/// (another may answer first); with `decides`, every level that can be paged by then must also
/// decide, else the failover may never be requested, and the slowest decision is added.
pub(crate) fn response(scenario: &Scenario, net: Network, decides: bool) -> Option<Response> {
    let levels = levels(scenario, net);
    let decide = |r: &Responder| if decides { r.decide_after } else { Some(Duration::ZERO) };
    let best = levels
        .iter()
        .filter_map(|l| {
            let r = l.responder?;
            let (lo, _) = ack_range(r)?;
            Some(l.paged.0.saturating_sub(net.exchange) + lo + decide(r)?)
        })
        .min()?;
    // The first level sure to answer bounds the first acknowledgement.
    let sure = levels.iter().find_map(|l| {
        let (_, hi) = ack_range(l.responder?)?;
        (!l.may_be_absent).then_some(l.paged.1 + hi + net.exchange)
    });
    // Whoever answers first may be any level paged by then, later ones included (a level
    // answers sooner than the one before it when that one's draw outlasts its timeout): each
    // of them must decide, and the slowest decision counts.
    let worst = sure.and_then(|ack| {
        if !decides {
            return Some(ack);
        }
        let mut longest = Duration::ZERO;
        for l in levels.iter().filter(|l| l.paged.0 <= ack) {
            let Some(r) = l.responder.filter(|r| ack_range(r).is_some()) else { continue };
            longest = longest.max(r.decide_after?);
        }
        Some(ack + longest + net.exchange)
    });
    Some(Response { best, worst })
}

/// The sum of the ack timeouts before the first level whose responder can act (acknowledge,
/// and in manual mode also decide), and that level's 1-based number (`None`: nobody can).
pub(crate) fn chain_before_action(scenario: &Scenario, manual: bool) -> (Duration, Option<usize>) {
    let mut sum = Duration::ZERO;
    for (i, level) in scenario.escalation.iter().enumerate() {
        let acts = scenario
            .responders
            .get(&level.notify)
            .is_some_and(|r| ack_range(r).is_some() && (!manual || r.decide_after.is_some()));
        if acts {
            return (sum, Some(i + 1));
        }
        sum += level.ack_timeout;
    }
    (sum, None)
}
