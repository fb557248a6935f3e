//! When customers were restored: the sliding-window definition of DESIGN.md section 4.
//!
//! Windows are closed intervals `[s, s + window]` over request **send** times, anchored at the
//! send time of a request. For a candidate instant `t` (the send time of a request sent at or
//! after the first failed request at or after `t_fault`), `t` is the restoration instant when:
//!
//! 1. its own window fits in the run (`t + window <= end of run`) and the success ratio over it
//!    is at least the threshold, and
//! 2. every later window (anchored at a later send time `s > t`) that ends at or before the
//!    horizon of `t` also meets the threshold. The horizon is the first fault injected strictly
//!    after `t`, or the end of the run: a new fault may break things again, and what happens
//!    after it is that fault's story, not a relapse of this one.
//!
//! The first such candidate is `t_restored`. Windows that straddle the horizon are not judged
//! (except the candidate's own window, which must always be measured in full). The horizon is
//! taken per candidate, not once from `t_fault`, so that a second fault injected during the
//! outage (a `monitor_crash` while the region is down) does not make restoration after it
//! unmeasurable.

use std::time::Duration;

use super::RequestRecord;

/// What happened to the customers after the fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restoration {
    /// No fault was injected and no `incident_start` was given: there is nothing to restore from.
    NoFault,
    /// No client request failed at or after `t_fault`: customers saw no outage (RTO is 0).
    NoOutage,
    /// Customers were restored at this instant (simulated time since the start).
    Restored {
        /// `t_restored`.
        at: Duration,
    },
    /// Customers were never restored before the end of the run: RTO is unbounded.
    NeverRestored,
}

impl Restoration {
    /// The restoration instant, if customers were restored.
    pub fn at(&self) -> Option<Duration> {
        match self {
            Restoration::Restored { at } => Some(*at),
            _ => None,
        }
    }

    /// The snake_case status name used in the JSON report.
    pub fn status(&self) -> &'static str {
        match self {
            Restoration::NoFault => "no_fault",
            Restoration::NoOutage => "no_outage",
            Restoration::Restored { .. } => "restored",
            Restoration::NeverRestored => "never_restored",
        }
    }
}

impl serde::Serialize for Restoration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Restoration", 2)?;
        st.serialize_field("status", self.status())?;
        st.serialize_field("at_ms", &self.at().map(super::ms::millis))?;
        st.end()
    }
}

/// Finds the first failed request and the restoration instant (see the module docs).
///
/// `requests` need not be sorted; `faults_at` are the injection times of every fault; `end` is
/// the end of the run. Returns `(first failure's send time, restoration)`; `t_fault = None`
/// gives [`Restoration::NoFault`].
pub(crate) fn restoration(
    requests: &[RequestRecord],
    t_fault: Option<Duration>,
    faults_at: &[Duration],
    end: Duration,
    window: Duration,
    threshold: f64,
) -> (Option<Duration>, Restoration) {
    let Some(t_fault) = t_fault else {
        return (None, Restoration::NoFault);
    };
    let mut sorted: Vec<(Duration, bool)> = requests.iter().map(|r| (r.sent, r.ok)).collect();
    sorted.sort_by_key(|&(sent, _)| sent);
    let Some(first_failure) =
        sorted.iter().find(|&&(sent, ok)| sent >= t_fault && !ok).map(|&(sent, _)| sent)
    else {
        return (None, Restoration::NoOutage);
    };

    // Group requests by send time: windows anchored at equal times are the same window.
    let mut times: Vec<Duration> = Vec::new();
    // Prefix sums over groups: ok_before[g], n_before[g] count requests in groups < g.
    let mut ok_before: Vec<u64> = vec![0];
    let mut n_before: Vec<u64> = vec![0];
    for &(sent, ok) in &sorted {
        if times.last() != Some(&sent) {
            times.push(sent);
            ok_before.push(*ok_before.last().unwrap_or(&0));
            n_before.push(*n_before.last().unwrap_or(&0));
        }
        let last = ok_before.len() - 1;
        ok_before[last] += u64::from(ok);
        n_before[last] += 1;
    }
    let groups = times.len();

    // good[g]: the window anchored at times[g] meets the threshold (two pointers for its end).
    let mut good = vec![false; groups];
    let mut hi = 0; // one past the last group inside the window
    for g in 0..groups {
        let window_end = times[g].saturating_add(window);
        hi = hi.max(g);
        while hi < groups && times[hi] <= window_end {
            hi += 1;
        }
        let ok = ok_before[hi] - ok_before[g];
        let n = n_before[hi] - n_before[g];
        good[g] = n > 0 && (ok as f64 / n as f64) >= threshold;
    }
    // next_bad[g]: the first group >= g whose window misses the threshold (groups if none).
    let mut next_bad = vec![groups; groups + 1];
    for g in (0..groups).rev() {
        next_bad[g] = if good[g] { next_bad[g + 1] } else { g };
    }

    let mut faults: Vec<Duration> = faults_at.to_vec();
    faults.sort();
    let first_candidate = times.partition_point(|&t| t < first_failure);
    for g in first_candidate..groups {
        let t = times[g];
        if t.saturating_add(window) > end {
            break; // no later candidate's window fits either
        }
        if !good[g] {
            continue;
        }
        let next_fault = faults.iter().copied().find(|&f| f > t);
        let horizon = next_fault.map_or(end, |f| f.min(end));
        // Later windows that end at or before the horizon: groups g+1 ..= last.
        let judged_end = times.partition_point(|&s| s.saturating_add(window) <= horizon);
        if next_bad[g + 1] >= judged_end.max(g + 1) {
            return (Some(first_failure), Restoration::Restored { at: t });
        }
    }
    (Some(first_failure), Restoration::NeverRestored)
}
