//! Errors in input files that point at the offending span: `file:line:column: what is wrong`.
//!
//! Shared by every file format gameday reads, so that each reports mistakes the same way.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

/// A file's text, kept so that errors can quote it.
#[derive(Clone, Debug)]
pub struct SourceFile {
    path: PathBuf,
    text: String,
}

impl SourceFile {
    /// Wraps the text read from `path`.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Self { path: path.into(), text: text.into() }
    }

    /// The file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// An error at byte range `span` (clamped to the file) with a message and an optional hint.
    pub fn error(
        &self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> InputError {
        let span = span.map(|r| {
            let start = floor_char_boundary(&self.text, r.start.min(self.text.len()));
            let end = r.end.clamp(start, self.text.len());
            start..end
        });
        let (line, column) = span.as_ref().map_or((1, 1), |r| line_column(&self.text, r.start));
        InputError {
            path: self.path.clone(),
            line,
            column,
            message: message.into(),
            source_code: NamedSource::new(self.path.display().to_string(), self.text.clone()),
            span: span.map(|r| SourceSpan::from(r.start..r.end)),
            help,
        }
    }

    /// Turns a `toml` parse or type error into an [`InputError`] at its span.
    pub fn toml_error(&self, err: &toml::de::Error) -> InputError {
        self.error(err.span(), err.message().trim().to_owned(), None)
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// One mistake in an input file.
#[derive(Debug, Error, Diagnostic)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct InputError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and what is allowed.
    pub message: String,
    #[source_code]
    source_code: NamedSource<String>,
    #[label("here")]
    span: Option<SourceSpan>,
    #[help]
    help: Option<String>,
}

/// Why a file could not be loaded.
#[derive(Debug, Error)]
pub enum LoadError {
    /// Nothing exists at the path.
    #[error("{}: no such file", .0.display())]
    NotFound(PathBuf),
    /// The file exists but could not be read.
    #[error("{}: cannot read: {}", .0.display(), .1)]
    Unreadable(PathBuf, std::io::Error),
    /// The file was read and is wrong, at one or more places.
    #[error("{}", Problems(.0))]
    Invalid(Vec<InputError>),
}

impl LoadError {
    /// Reads `path`, mapping a missing file to [`LoadError::NotFound`].
    pub fn read(path: &Path) -> Result<SourceFile, LoadError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(SourceFile::new(path, text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(LoadError::NotFound(path.to_owned())),
            Err(e) => Err(LoadError::Unreadable(path.to_owned(), e)),
        }
    }

    /// The process exit code this error calls for (DESIGN.md section 5).
    pub fn exit_code(&self) -> u8 {
        match self {
            LoadError::NotFound(_) => crate::exit::NOT_FOUND,
            LoadError::Unreadable(..) | LoadError::Invalid(_) => crate::exit::INVALID_INPUT,
        }
    }
}

struct Problems<'a>(&'a [InputError]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        let file = SourceFile::new("x.toml", "a = 1\nbé = \"x\"\n");
        let e = file.error(Some(12..15), "bad", None);
        assert_eq!((e.line, e.column), (2, 6));
        assert_eq!(e.to_string(), "x.toml:2:6: bad");
    }

    #[test]
    fn spans_past_the_end_are_clamped() {
        let file = SourceFile::new("x.toml", "a");
        let e = file.error(Some(40..90), "bad", None);
        assert_eq!((e.line, e.column), (1, 2));
    }
}
