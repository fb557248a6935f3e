//! Exit codes, in one place (DESIGN.md section 5).

/// Every target met; for `monitor`, a clean shutdown.
pub const SUCCESS: u8 = 0;
/// A target was missed.
pub const TARGET_MISSED: u8 = 1;
/// The command line was wrong (clap uses the same code for its own errors).
pub const USAGE: u8 = 2;
/// A scenario or monitor config file is invalid.
pub const INVALID_INPUT: u8 = 3;
/// No scenario or config file was found at the given path.
pub const NOT_FOUND: u8 = 4;
/// The same scenario and seed produced different outputs.
pub const NON_DETERMINISM: u8 = 5;
/// The monitor could not run: its port is taken, its store cannot be opened.
pub const RUNTIME: u8 = 6;
