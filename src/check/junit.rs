//! JUnit XML for CI: one testcase per scenario, a failure carrying the missed targets with
//! their measured and target values, the seed among the properties.

use quick_junit::{NonSuccessKind, Report as JUnit, TestCase, TestCaseStatus, TestSuite};

use crate::check::Outcome;

/// The JUnit document for `outcomes`.
pub fn render(outcomes: &[Outcome]) -> String {
    let mut suite = TestSuite::new("gameday check");
    for outcome in outcomes {
        let status = if outcome.ok {
            TestCaseStatus::success()
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            if let TestCaseStatus::NonSuccess { message, description, .. } = &mut status {
                *message = Some(outcome.why.clone().unwrap_or_default().into());
                let details = match &outcome.report {
                    Ok(report) => {
                        let mut lines = report.missed_lines();
                        lines.push(format!("reproduce: {}", report.reproduce_command()));
                        lines.join("\n")
                    }
                    Err(e) => e.clone(),
                };
                *description = Some(details.into());
            }
            status
        };
        let mut case = TestCase::new(outcome.name.clone(), status);
        case.set_classname(outcome.path.display().to_string());
        case.add_property(("seed", outcome.seed.to_string().as_str()));
        case.add_property(("path", outcome.path.display().to_string().as_str()));
        suite.add_test_case(case);
    }
    let mut report = JUnit::new("gameday");
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}
