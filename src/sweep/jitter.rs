//! `--jitter PCT`: spread around the values a scenario fixes. A plan that holds with a promotion
//! of exactly 30 s and a responder who decides in exactly 5 minutes may not hold with 36 s and
//! 6 minutes; a sweep with jitter draws, per seed, each such value within ±PCT of what the file
//! says.
//!
//! Jittered: the world's and the humans' timings: `[database]` `lag` and `promote_time` (with a
//! replica), each standby's `scale_up`, each `[[latency]]` `one_way`, each fixed `ack_after` and
//! each `decide_after`. Not jittered: targets (what is asserted), faults (the experiment being
//! run: when it starts, how long, how bad), the monitor's and DNS's settings (configuration the
//! real system applies exactly), and ranged `ack_after` (already drawn per seed).
//!
//! A pure transformation: the jittered scenario can be run, or written out as a file with
//! [`crate::scenario::write`] that reproduces the run without `--jitter`.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::scenario::{AckDelay, Scenario};

/// How much to spread fixed values: a whole percentage, 0 to 100 (a plain number in JSON).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Jitter(u32);

impl TryFrom<u32> for Jitter {
    type Error = String;
    fn try_from(percent: u32) -> Result<Jitter, String> {
        Jitter::percent(percent)
    }
}

impl From<Jitter> for u32 {
    fn from(jitter: Jitter) -> u32 {
        jitter.0
    }
}

impl Jitter {
    /// No jitter: [`Jitter::apply`] returns the scenario unchanged.
    pub const NONE: Jitter = Jitter(0);

    /// A jitter of `percent` (at most 100).
    pub fn percent(percent: u32) -> Result<Jitter, String> {
        if percent > 100 {
            Err(format!("--jitter {percent}%: at most 100% (a value may shrink to zero, not below)"))
        } else {
            Ok(Jitter(percent))
        }
    }

    /// Parses `--jitter`: `20%` or `20`.
    pub fn parse(spec: &str) -> Result<Jitter, String> {
        let number = spec.trim().strip_suffix('%').unwrap_or(spec.trim()).trim();
        let percent: u32 = number
            .parse()
            .map_err(|_| format!("--jitter {spec:?}: expected a whole percentage from 0 to 100, like 20%"))?;
        Jitter::percent(percent)
    }

    /// The percentage.
    pub fn as_percent(self) -> u32 {
        self.0
    }

    /// The flag that reproduces this jitter (`--jitter 20%`), or nothing without jitter.
    pub fn flag(self) -> Option<String> {
        (self.0 > 0).then(|| format!("--jitter {}%", self.0))
    }

    /// `scenario` with every jittered value (see the module documentation) drawn for `seed`
    /// within ±percent of its written value, to the millisecond. Each value has its own random
    /// stream, named after what it is, so adding or removing one value leaves the others' draws
    /// alone; the streams are separate from every stream the simulated world draws from.
    pub fn apply(self, scenario: &Scenario, seed: u64) -> Scenario {
        let mut s = scenario.clone();
        if self.0 == 0 {
            return s;
        }
        let spread = |label: &str, d: &mut Duration| *d = self.spread(seed, label, *d);
        if let Some(db) = s.database.as_mut().filter(|db| db.replica.is_some()) {
            spread("database.lag", &mut db.lag);
            spread("database.promote_time", &mut db.promote_time);
        }
        for service in &mut s.services {
            spread(&format!("services.{}.scale_up", service.name), &mut service.scale_up);
        }
        for latency in &mut s.latency {
            let (a, b) = &latency.between;
            spread(&format!("latency.{a}.{b}"), &mut latency.one_way);
        }
        for (name, responder) in &mut s.responders {
            if let AckDelay::Fixed(d) = &mut responder.ack_after {
                spread(&format!("responders.{name}.ack_after"), d);
            }
            if let Some(d) = responder.decide_after.as_mut() {
                spread(&format!("responders.{name}.decide_after"), d);
            }
        }
        s
    }

    /// `d` moved by a whole number of milliseconds drawn uniformly within ±percent of it.
    fn spread(self, seed: u64, label: &str, d: Duration) -> Duration {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let max = i64::try_from(u128::from(ms) * u128::from(self.0) / 100).unwrap_or(i64::MAX);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream(label));
        let offset = rng.random_range(-max..=max);
        let by = Duration::from_millis(offset.unsigned_abs());
        if offset >= 0 { d.saturating_add(by) } else { d.saturating_sub(by) }
    }
}

/// The ChaCha stream of a jittered value: FNV-1a of its label with the top bit set. The
/// simulated world draws from stream 0 only, so no jitter stream coincides with one of its.
fn stream(label: &str) -> u64 {
    let hash = label
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    hash | 1 << 63
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceFile;
    use crate::scenario::write::to_toml;

    const FILE: &str = r#"name = "jitter"
duration = "1h"
[[regions]]
name = "a"
[[regions]]
name = "b"
[[latency]]
between = ["a", "b"]
one_way = "40ms"
[[services]]
name = "web"
primary = "a"
standby = "b"
standby_mode = "warm"
scale_up = "4m"
[[services]]
name = "hot"
primary = "b"
standby = "a"
[database]
primary = "a"
replica = "b"
lag = "2s"
promote_time = "30s"
[traffic]
rate = "10/s"
[monitor]
interval = "10s"
timeout = "5s"
alert_after = 3
failover_after = 6
failover = "manual"
[[escalation]]
notify = "oncall"
ack_timeout = "5m"
[responders.oncall]
ack_after = "3m"
decide_after = "5m"
[responders.ranged]
ack_after = "1m..9m"
[responders.away]
ack_after = "never"
[targets]
rto = "15m"
[[faults]]
at = "10m"
kind = "region_outage"
region = "a"
"#;

    fn scenario() -> Scenario {
        Scenario::parse(&SourceFile::new("j.toml", FILE)).unwrap()
    }

    /// Every jittered value, by label, in a fixed order.
    fn values(s: &Scenario) -> Vec<(&'static str, Duration)> {
        let db = s.database.as_ref().unwrap();
        let fixed = |name: &str| match s.responders[name].ack_after {
            AckDelay::Fixed(d) => d,
            _ => panic!("not fixed"),
        };
        vec![
            ("lag", db.lag),
            ("promote_time", db.promote_time),
            ("scale_up", s.services[0].scale_up),
            ("one_way", s.latency[0].one_way),
            ("ack_after", fixed("oncall")),
            ("decide_after", s.responders["oncall"].decide_after.unwrap()),
        ]
    }

    #[test]
    fn parses_whole_percentages_up_to_100() {
        assert_eq!(Jitter::parse("20%").unwrap().as_percent(), 20);
        assert_eq!(Jitter::parse(" 7 ").unwrap().as_percent(), 7);
        assert_eq!(Jitter::parse("100%").unwrap().flag().as_deref(), Some("--jitter 100%"));
        assert_eq!(Jitter::parse("0%").unwrap().flag(), None);
        for bad in ["abc", "150%", "-5%", "12.5%", "", "%", "20%%"] {
            let e = Jitter::parse(bad).unwrap_err();
            assert!(e.starts_with("--jitter"), "{bad}: {e}");
        }
    }

    #[test]
    fn zero_jitter_changes_nothing() {
        let s = scenario();
        assert_eq!(Jitter::NONE.apply(&s, 7), s);
        assert_eq!(Jitter::parse("0%").unwrap().apply(&s, 123), s);
    }

    #[test]
    fn values_stay_within_the_percentage_and_the_result_is_a_valid_file() {
        let s = scenario();
        let jitter = Jitter::percent(20).unwrap();
        let original = values(&s);
        let mut moved = vec![false; original.len()];
        for seed in 0..200 {
            let j = jitter.apply(&s, seed);
            for (i, ((name, before), (_, after))) in original.iter().zip(values(&j)).enumerate() {
                let (lo, hi) = (before.mul_f64(0.8), before.mul_f64(1.2));
                assert!(lo <= after && after <= hi, "seed {seed}: {name} {after:?} outside {lo:?}..{hi:?}");
                moved[i] |= after != *before;
            }
            // What is not jittered stays as written.
            assert_eq!(j.responders["ranged"], s.responders["ranged"]);
            assert_eq!(j.responders["away"], s.responders["away"]);
            assert_eq!(
                (&j.targets, &j.faults, &j.monitor, &j.dns),
                (&s.targets, &s.faults, &s.monitor, &s.dns)
            );
            assert_eq!(j.services[1].scale_up, Duration::ZERO, "a hot standby gets no scale-up");
            // Written out, it is a valid scenario file that parses back to the same values.
            let again = Scenario::parse(&SourceFile::new("j.toml", to_toml(&j, ""))).unwrap();
            assert_eq!(again, j);
        }
        assert!(moved.iter().all(|m| *m), "every listed value is jittered: {moved:?}");
    }

    #[test]
    fn same_seed_same_values_different_seeds_differ() {
        let s = scenario();
        let jitter = Jitter::percent(30).unwrap();
        assert_eq!(jitter.apply(&s, 5), jitter.apply(&s, 5));
        assert_ne!(values(&jitter.apply(&s, 5)), values(&jitter.apply(&s, 6)));
        // At 100%, values may reach zero but never go below.
        let full = Jitter::percent(100).unwrap();
        for seed in 0..50 {
            for (name, d) in values(&full.apply(&s, seed)) {
                let written = values(&s).into_iter().find(|(n, _)| *n == name).unwrap().1;
                assert!(d <= written * 2, "{name}");
            }
        }
    }
}
