//! gameday: a deterministic simulation and chaos-testing harness for incident response and
//! disaster recovery, built around a real health monitor.
//!
//! See `ARCHITECTURE.md` for the code map and the invariants.

pub mod backup;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod exit;
pub mod http;
pub mod measure;
pub mod monitor;
pub mod net;
pub mod plan;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod time;

pub use report::Report;
pub use scenario::Scenario;
