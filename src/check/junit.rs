//! JUnit XML for CI: one testcase per scenario (or per seed of a sweep), a failure carrying the
//! missed targets with their measured and target values, the seed among the properties.

use quick_junit::{NonSuccessKind, Report as JUnit, TestCase, TestCaseStatus, TestSuite};

use crate::check::Outcome;

/// One testcase: a scenario's run, or one seed of a sweep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The testcase name (the scenario's name; a sweep adds ` [seed N]`).
    pub name: String,
    /// The scenario file (the testcase's class name).
    pub path: String,
    /// The seed it ran with.
    pub seed: u64,
    /// Why it failed, when it did: a one-line message and the details (the missed targets with
    /// their values, the reproduction line).
    pub failure: Option<(String, String)>,
}

impl Case {
    /// The testcase of one `check` run, judged against the scenario's expectation.
    pub fn of(outcome: &Outcome) -> Case {
        let failure = (!outcome.ok).then(|| {
            let details = match &outcome.report {
                Ok(report) => {
                    let mut lines = report.missed_lines();
                    lines.push(format!("reproduce: {}", report.reproduce_command()));
                    lines.join("\n")
                }
                Err(e) => e.clone(),
            };
            (outcome.why.clone().unwrap_or_default(), details)
        });
        Case {
            name: outcome.name.clone(),
            path: outcome.path.display().to_string(),
            seed: outcome.seed,
            failure,
        }
    }
}

/// The JUnit document for `outcomes`.
pub fn render(outcomes: &[Outcome]) -> String {
    render_cases(&outcomes.iter().map(Case::of).collect::<Vec<_>>())
}

/// The JUnit document for `cases`, in their order.
pub fn render_cases(cases: &[Case]) -> String {
    let mut suite = TestSuite::new("gameday check");
    for case in cases {
        let status = match &case.failure {
            None => TestCaseStatus::success(),
            Some((why, details)) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                if let TestCaseStatus::NonSuccess { message, description, .. } = &mut status {
                    *message = Some(why.clone().into());
                    *description = Some(details.clone().into());
                }
                status
            }
        };
        let mut test = TestCase::new(case.name.clone(), status);
        test.set_classname(case.path.clone());
        test.add_property(("seed", case.seed.to_string().as_str()));
        test.add_property(("path", case.path.as_str()));
        suite.add_test_case(test);
    }
    let mut report = JUnit::new("gameday");
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}
