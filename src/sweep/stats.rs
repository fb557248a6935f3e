//! Order statistics over a sweep's runs.

use std::time::Duration;

/// The values measured across runs; runs where the thing never happened are counted apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Distribution {
    /// Measured values, sorted.
    pub sorted: Vec<Duration>,
    /// Runs where there was no value (never restored, never alerted, ...).
    pub missing: usize,
}

impl Distribution {
    /// Collects values; `None` counts as missing.
    pub fn of(values: impl IntoIterator<Item = Option<Duration>>) -> Self {
        let mut d = Distribution::default();
        for v in values {
            match v {
                Some(v) => d.sorted.push(v),
                None => d.missing += 1,
            }
        }
        d.sorted.sort_unstable();
        d
    }

    /// The `p`-th percentile (nearest rank, `p` in 0..=100) of the measured values.
    pub fn percentile(&self, p: u32) -> Option<Duration> {
        if self.sorted.is_empty() {
            return None;
        }
        let n = self.sorted.len();
        let rank = (u64::from(p.min(100)) * n as u64).div_ceil(100).max(1);
        self.sorted.get(usize::try_from(rank).unwrap_or(n) - 1).copied()
    }

    /// min, p50, p90, p99, max.
    pub fn summary(&self) -> [Option<Duration>; 5] {
        [
            self.sorted.first().copied(),
            self.percentile(50),
            self.percentile(90),
            self.percentile(99),
            self.sorted.last().copied(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    #[test]
    fn nearest_rank_percentiles() {
        let d = Distribution::of((1..=100).map(s).chain([None, None]));
        assert_eq!(d.summary(), [s(1), s(50), s(90), s(99), s(100)]);
        assert_eq!(d.missing, 2);
        let one = Distribution::of([s(7)]);
        assert_eq!(one.summary(), [s(7); 5]);
        assert_eq!(Distribution::of([None]).summary(), [None; 5]);
    }
}
