//! Consecutive success and failure counting for one service.

/// Counts the current streak of probe outcomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Streak {
    /// Failures in a row, zero after any success.
    pub failures: u32,
    /// Successes in a row, zero after any failure.
    pub successes: u32,
}

impl Streak {
    /// Counts one probe outcome.
    pub fn record(&mut self, ok: bool) {
        if ok {
            self.successes = self.successes.saturating_add(1);
            self.failures = 0;
        } else {
            self.failures = self.failures.saturating_add(1);
            self.successes = 0;
        }
    }

    /// Forgets the streak, so the next incident needs a fresh run of failures.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_success_breaks_a_failure_streak_and_back() {
        let mut s = Streak::default();
        for _ in 0..3 {
            s.record(false);
        }
        assert_eq!(s, Streak { failures: 3, successes: 0 });
        s.record(true);
        assert_eq!(s, Streak { failures: 0, successes: 1 });
        s.record(false);
        assert_eq!(s, Streak { failures: 1, successes: 0 });
    }
}
