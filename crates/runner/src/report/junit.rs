//! The JUnit XML report, for CI systems.

use quick_junit::{NonSuccessKind, TestCaseStatus};

use crate::expect::{Deviation, Judged, Judgement};
use crate::verdict::{CaseResult, Outcome, Run};

/// The JUnit XML report, for CI systems: one test suite per target; `fail`
/// is a failure, `error` and `unjudged` errors, `skip` skipped, and `warn`/`info` pass
/// with their observation in the case's output.
pub fn render_junit(runs: &[(String, Run)]) -> Result<String, String> {
    render_junit_judged(runs, None)
}

/// [`render_junit`], with the run judged against its expectations
/// (`--expect`): what fails is what deviates from them. A case whose
/// `fail`, `error` or `unjudged` is expected is skipped, with the reason as its message
/// (as pytest reports an expected failure); a case that deviates is a
/// failure saying how; a stale entry is a failing case of a suite of its
/// own.
pub fn render_junit_judged(
    runs: &[(String, Run)],
    judgement: Option<&Judgement>,
) -> Result<String, String> {
    use quick_junit::{Report, TestCase, TestSuite};
    let mut report = Report::new("sigconform");
    for (target, run) in runs {
        let mut suite = TestSuite::new(target.as_str());
        if run.insecure {
            // So that nobody mistakes such a run for a verified one.
            suite.add_property(quick_junit::Property::new(
                "tls-certificate",
                "NOT verified (--insecure)",
            ));
            suite.set_system_out(
                "WARNING: TLS certificate NOT verified (--insecure); this run does not prove who answered",
            );
        }
        for r in &run.results {
            let status = match r.outcome {
                Outcome::Pass | Outcome::Warn | Outcome::Info => TestCaseStatus::success(),
                Outcome::Skip => TestCaseStatus::skipped(),
                Outcome::Fail | Outcome::Error | Outcome::Unjudged => {
                    let kind = if r.outcome == Outcome::Fail {
                        NonSuccessKind::Failure
                    } else {
                        NonSuccessKind::Error
                    };
                    let mut status = TestCaseStatus::non_success(kind);
                    status.set_message(format!("expected {}, observed {}", r.expected, r.observed));
                    status.set_description(format!("{}\nreproduce: {}", r.detail, r.reproduce));
                    if !r.retries.is_empty() {
                        status.set_message(format!(
                            "expected {}, observed {} (retried after {})",
                            r.expected,
                            r.observed,
                            r.retries.join(", ")
                        ));
                    }
                    status
                }
            };
            let status = match &r.expectation {
                Some(judged) => judged_status(r, judged, status),
                None => status,
            };
            let mut case = TestCase::new(r.id.as_str(), status);
            case.set_classname(format!("{:?}", r.category).to_lowercase());
            if matches!(r.outcome, Outcome::Warn | Outcome::Info) {
                case.set_system_out(format!("{:?}: {}", r.outcome, r.observed));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    if let Some(judgement) = judgement {
        let mut suite = TestSuite::new(format!("expectations {}", judgement.file));
        for deviation in &judgement.deviations {
            if let Deviation::Stale { expected } = deviation {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(deviation.to_string());
                suite.add_test_case(TestCase::new(expected.entry.as_str(), status));
            }
        }
        if !suite.test_cases.is_empty() {
            report.add_test_suite(suite);
        }
    }
    report.to_string().map_err(|e| e.to_string())
}

/// A case's status (`plain`, as it is without expectations) once judged
/// against its expectation.
fn judged_status(r: &CaseResult, judged: &Judged, plain: TestCaseStatus) -> TestCaseStatus {
    let said = judged.describe(r.outcome);
    match (judged, plain) {
        (Judged::Expected(_), TestCaseStatus::NonSuccess { .. }) => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(said);
            status
        }
        (Judged::Expected(_), plain) => plain,
        (
            _,
            TestCaseStatus::NonSuccess {
                kind, description, ..
            },
        ) => {
            let mut status = TestCaseStatus::non_success(kind);
            status.set_message(format!(
                "{said}; expected {}, observed {}",
                r.expected, r.observed
            ));
            if let Some(description) = description {
                status.set_description(description);
            }
            status
        }
        (_, _) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(format!("{said}; observed {}", r.observed));
            status
        }
    }
}
