//! Scenario files: the TOML format of DESIGN.md section 3, validated into [`Scenario`].
//!
//! `raw.rs` is the file as written (serde, unknown keys rejected, spans kept where cross-field
//! checks point); `validate.rs` turns it into the types of `model.rs`, collecting every mistake
//! with its line and column; `write.rs` renders a `Scenario` back as a file. Nothing past
//! [`Scenario::parse`] sees an unvalidated value.

pub mod model;
mod raw;
pub mod topology;
mod validate;
pub mod write;

use std::path::Path;

pub use model::*;

use crate::diagnostic::{LoadError, SourceFile};

impl Scenario {
    /// Reads and validates the scenario file at `path`.
    pub fn from_file(path: &Path) -> Result<Scenario, LoadError> {
        Self::parse(&LoadError::read(path)?)
    }

    /// Parses and validates scenario text; every mistake is reported with its line and column.
    pub fn parse(file: &SourceFile) -> Result<Scenario, LoadError> {
        let raw: raw::RawScenario =
            toml::from_str(file.text()).map_err(|e| LoadError::Invalid(vec![file.toml_error(&e)]))?;
        validate::scenario(file, raw).map_err(LoadError::Invalid)
    }
}
