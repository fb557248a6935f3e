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

use crate::plan;
use crate::report::Report;
use crate::scenario::Scenario;
use crate::sim::{self, SimError};

impl Scenario {
    /// Runs the scenario with its own seed.
    pub fn run(&self) -> Result<Report, SimError> {
        self.run_with_seed(self.seed)
    }

    /// Runs the scenario with `seed`: simulates it, then measures what customers and the
    /// database saw and judges every target. Every measured phase is also checked against the
    /// bounds `gameday plan` derives from the configuration alone; one outside them is listed
    /// in [`Report::plan_violations`] (it would be a bug in the plan or in the simulation).
    pub fn run_with_seed(&self, seed: u64) -> Result<Report, SimError> {
        let observations = sim::run(self, seed)?;
        let mut report = Report::for_run(self, &observations);
        report.plan_violations = plan::violations(&plan::plan(self), &report.measurement);
        Ok(report)
    }
}
