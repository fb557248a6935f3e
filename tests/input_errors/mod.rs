//! One way to assert on input-file errors, shared by the config and scenario format tests.

use gameday::diagnostic::LoadError;

/// Each error of a parse as `line:column: message`; empty when it parsed.
pub fn positions<T>(parsed: Result<T, LoadError>) -> Vec<String> {
    match parsed {
        Ok(_) => Vec::new(),
        Err(LoadError::Invalid(problems)) => {
            problems.iter().map(|p| format!("{}:{}: {}", p.line, p.column, p.message)).collect()
        }
        Err(other) => panic!("unexpected {other}"),
    }
}

/// Asserts exactly one error, at `at` (`line:column`), mentioning `needle`.
#[track_caller]
pub fn assert_one(errors: &[String], at: &str, needle: &str) {
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    assert!(errors[0].starts_with(&format!("{at}: ")), "expected the error at {at}: {}", errors[0]);
    assert!(errors[0].contains(needle), "expected {needle:?} in {}", errors[0]);
}
