//! Measurements from ground truth: RTO and its phases, lost writes and RPO, availability, and
//! a verdict per target (DESIGN.md section 4).

pub mod observations;

pub use observations::*;
