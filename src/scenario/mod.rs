//! Scenario files: the TOML format of DESIGN.md section 3, validated into [`Scenario`].

pub mod model;

pub use model::*;
