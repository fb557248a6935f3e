//! Running a scenario: the simulated world produces ground truth, the measurement judges it.
//! This is the library API a user's own `cargo test` calls:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let report = gameday::Scenario::from_file("scenarios/region-outage.toml".as_ref())?.run_with_seed(7)?;
//! report.assert_targets();
//! # Ok(())
//! # }
//! ```

use crate::report::Report;
use crate::scenario::Scenario;
use crate::sim::{self, SimError};

impl Scenario {
    /// Runs the scenario with its own seed.
    pub fn run(&self) -> Result<Report, SimError> {
        self.run_with_seed(self.seed)
    }

    /// Runs the scenario with `seed`: simulates it, then measures what customers and the
    /// database saw and judges every target.
    pub fn run_with_seed(&self, seed: u64) -> Result<Report, SimError> {
        let observations = sim::run(self, seed)?;
        Ok(Report::for_run(self, &observations))
    }
}
