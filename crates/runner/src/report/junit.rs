//! The JUnit XML report, for CI systems.

use crate::{Outcome, Run};

/// The JUnit XML report, for CI systems: one test suite per target; `fail`
/// is a failure, `error` and `unjudged` errors, `skip` skipped, and `warn`/`info` pass
/// with their observation in the case's output.
pub fn render_junit(runs: &[(String, Run)]) -> Result<String, String> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
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
            let mut case = TestCase::new(r.id.as_str(), status);
            case.set_classname(format!("{:?}", r.category).to_lowercase());
            if matches!(r.outcome, Outcome::Warn | Outcome::Info) {
                case.set_system_out(format!("{:?}: {}", r.outcome, r.observed));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().map_err(|e| e.to_string())
}
