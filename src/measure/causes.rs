//! Why customers' requests failed, from ground truth: the host DNS sent each customer to,
//! compared with where the service's DNS record pointed when the request was sent.
//!
//! A failed request is:
//! - `unresolved` when its name did not resolve (no host);
//! - `stale_dns` when its host differs from the host the service's record pointed to at its send
//!   time (a resolver cache still held an old address);
//! - `current_target` otherwise: it went where the record pointed and the target could not serve
//!   (region down, standby not ready, over capacity...).
//!
//! The record of a service at instant `t` is the last [`WorldEventKind::DnsChanged`] event for
//! that name at or before `t` (details `"<name> -> <host>"`; among equal times, the last
//! recorded). Before any change of a name, its requests are never stale.

use std::collections::BTreeMap;
use std::ops::RangeBounds;
use std::time::Duration;

use serde::Serialize;

use super::{RequestRecord, WorldEvent, WorldEventKind};

/// Failed customer requests by cause.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FailureCauses {
    /// Sent to a host other than the one the service's record pointed to at send time: an old
    /// address kept by DNS caching.
    pub stale_dns: u64,
    /// Sent to the host the record pointed to, which could not serve.
    pub current_target: u64,
    /// The name did not resolve.
    pub unresolved: u64,
}

impl FailureCauses {
    /// Every failed request counted.
    pub fn total(&self) -> u64 {
        self.stale_dns + self.current_target + self.unresolved
    }
}

/// Where each service's DNS record pointed over time.
#[derive(Clone, Debug, Default)]
pub(crate) struct DnsHistory<'a> {
    /// name -> (when, host) in time order (stable among equal times).
    changes: BTreeMap<&'a str, Vec<(Duration, &'a str)>>,
}

impl<'a> DnsHistory<'a> {
    /// Reads every [`WorldEventKind::DnsChanged`] event; details that are not
    /// `"<name> -> <host>"` are ignored.
    pub(crate) fn of(events: &'a [WorldEvent]) -> DnsHistory<'a> {
        let mut changes: BTreeMap<&str, Vec<(Duration, &str)>> = BTreeMap::new();
        for e in events.iter().filter(|e| e.kind == WorldEventKind::DnsChanged) {
            if let Some((name, host)) = e.details.split_once(" -> ") {
                changes.entry(name.trim()).or_default().push((e.at, host.trim()));
            }
        }
        for list in changes.values_mut() {
            list.sort_by_key(|&(at, _)| at); // stable: equal times keep their recorded order
        }
        DnsHistory { changes }
    }

    /// The host `name` pointed to at `t`: the last change at or before `t`, if any.
    pub(crate) fn record_at(&self, name: &str, t: Duration) -> Option<&'a str> {
        let list = self.changes.get(name)?;
        let upto = list.partition_point(|&(at, _)| at <= t);
        upto.checked_sub(1).map(|i| list[i].1)
    }
}

/// Classifies the failed requests sent within `sent`.
pub(crate) fn failure_causes(
    requests: &[RequestRecord],
    dns: &DnsHistory<'_>,
    sent: impl RangeBounds<Duration>,
) -> FailureCauses {
    let mut causes = FailureCauses::default();
    for r in requests.iter().filter(|r| !r.ok && sent.contains(&r.sent)) {
        match r.host.as_deref() {
            None => causes.unresolved += 1,
            Some(host) => match dns.record_at(&r.service, r.sent) {
                Some(record) if record != host => causes.stale_dns += 1,
                _ => causes.current_target += 1,
            },
        }
    }
    causes
}
