//! The runner's vocabulary for what it found: the categories of cases, the
//! outcome of one, a case's result, and a finished run. Everything above
//! this floor (the catalog, the judging, the reports, the fuzzer) speaks it;
//! it names nothing above itself.

use serde::{Deserialize, Serialize};

use crate::reproduce::Replay;
use crate::rules::Cited;
use crate::transport::ClockEstimate;

/// What a probe checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Valid requests are accepted.
    Acceptance,
    /// Changed signed components are rejected.
    Tamper,
    /// Old timestamps are rejected at the limit.
    Expiry,
    /// Future timestamps are rejected at the limit.
    Skew,
    /// Nonces are single-use.
    Replay,
    /// Bad input gets a 4xx, never a 5xx.
    Malformed,
    /// Unknown keys are rejected.
    Keys,
    /// Every shape of request that reaches the verifier is verified: each
    /// method, media type, transfer coding and size.
    Shape,
    /// Presigned URLs are accepted until they expire, and only for as
    /// long as the scheme allows (SigV4).
    Presigned,
    /// A credential scope names the verifier's own region and service
    /// (SigV4).
    Scope,
    /// Response time does not depend on how much of the tag is right
    /// (advisory, with `--timing`).
    Timing,
    /// What differential fuzzing found (`sigconform fuzz`): a group of
    /// requests the target answered otherwise than the reference requires.
    Fuzz,
}

impl Category {
    /// Every category, in the order reports list them.
    pub const ALL: [Category; 12] = [
        Category::Acceptance,
        Category::Tamper,
        Category::Expiry,
        Category::Skew,
        Category::Replay,
        Category::Malformed,
        Category::Keys,
        Category::Shape,
        Category::Presigned,
        Category::Scope,
        Category::Timing,
        Category::Fuzz,
    ];
}

/// The verdict on one case (read back from reports and expectations by
/// the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// As the rule requires.
    Pass,
    /// A conformance failure.
    Fail,
    /// A weakness the scheme does not strictly forbid.
    Warn,
    /// Worth knowing, not a failure.
    Info,
    /// Could not be judged (timeout, reset, unexpected status class).
    Error,
    /// Proves nothing: a negative case whose correctly signed twin the
    /// target did not accept in the same run (so its refusal says nothing
    /// about the property the case changes), or a case the runner did not
    /// send because the target had stopped answering.
    Unjudged,
    /// Not applicable to this scheme.
    Skip,
}

impl Outcome {
    /// Its name, as reports, expectations and `--fail-on` write it.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Warn => "warn",
            Outcome::Info => "info",
            Outcome::Error => "error",
            Outcome::Unjudged => "unjudged",
            Outcome::Skip => "skip",
        }
    }
}

impl Category {
    /// The rule a case of this category checks unless it names another.
    pub(crate) fn rule(self) -> &'static str {
        match self {
            Category::Acceptance => "valid-basic",
            Category::Tamper => "tamper",
            Category::Expiry => "window-past",
            Category::Skew => "window-future",
            Category::Replay => "nonce-replay",
            Category::Malformed => "status",
            Category::Keys => "unknown-key",
            Category::Shape => "gate",
            Category::Presigned => "presigned-expiry",
            Category::Scope => "credential-scope",
            Category::Timing => "tag-encoding",
            Category::Fuzz => "tamper",
        }
    }
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// `SCHEME/CATEGORY/NAME`.
    pub id: String,
    /// Its category.
    pub category: Category,
    /// What it checks.
    pub description: String,
    /// The rule it checks (`docs/rules/`): its id and text.
    pub rule: Cited,
    /// The verdict.
    pub outcome: Outcome,
    /// What the runner expected.
    pub expected: String,
    /// What the target did.
    pub observed: String,
    /// The status of the answer shown, where there was an HTTP answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The canonical string the runner signed for the request shown.
    pub detail: String,
    /// A command that sends the request shown again (the deciding one, or
    /// the last one of a case that passed), with everything in it.
    pub reproduce: String,
    /// Answers that asked to be retried (429 or 503 with `Retry-After`)
    /// before the one judged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub retries: Vec<String>,
    /// The request shown, as it went on the wire (its body cut after 4 KiB).
    pub request: String,
    /// What the reproduction command is made from (for commands that keep
    /// large payloads in files).
    #[serde(skip)]
    pub replay: Option<Replay>,
    /// Why the case proves nothing (`unjudged`): the same for every case
    /// of one cause, so reports can count them by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unjudged: Option<String>,
    /// How the verdict compares with the run's expectations (`--expect`):
    /// marked by [`crate::expect::Expectations::annotate`], absent without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expectation: Option<Judged>,
}

impl CaseResult {
    /// A result with nothing sent to show.
    pub fn new(
        id: String,
        category: Category,
        description: impl Into<String>,
        outcome: Outcome,
        expected: impl Into<String>,
        observed: impl Into<String>,
    ) -> CaseResult {
        CaseResult {
            id,
            category,
            description: description.into(),
            rule: Cited::default(),
            outcome,
            expected: expected.into(),
            observed: observed.into(),
            status: None,
            detail: String::new(),
            reproduce: String::new(),
            retries: Vec::new(),
            request: String::new(),
            replay: None,
            unjudged: None,
            expectation: None,
        }
    }
}

/// A finished run against one target.
#[derive(Debug, Clone)]
pub struct Run {
    /// The clock estimate the boundary probes used.
    pub clock: ClockEstimate,
    /// Whether the target's TLS certificate went unverified (`--insecure`):
    /// every report says so, so that nobody mistakes such a run for a
    /// verified one.
    pub insecure: bool,
    /// What the runner learned of the deployment before it judged (the
    /// body it accepts, how it refuses, how its route is probed), a line
    /// each.
    pub learned: Vec<String>,
    /// What the run found besides its cases, a line each (a fuzz run's
    /// counts: requests sent, what the reference required of them).
    pub notes: Vec<String>,
    /// Every case, in catalog order.
    pub results: Vec<CaseResult>,
}

/// An entry's pattern with what the entry says of it, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    /// The pattern (a case id or a glob).
    pub entry: String,
    /// The outcome the entry accepts.
    pub outcome: Outcome,
    /// Why.
    pub reason: String,
    /// The entry's line in the file.
    pub line: u64,
}

/// How one case's verdict compares with the expectations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Judged {
    /// An entry names the case, with the outcome it has.
    Expected(Named),
    /// An entry names the case with another outcome than it has now.
    Changed(Named),
    /// No entry names the case, and its outcome reached the threshold.
    Unexpected,
}

impl Judged {
    /// Whether the case deviates from the expectations.
    pub fn deviates(&self) -> bool {
        !matches!(self, Judged::Expected(_))
    }

    /// One line for a report, about a case whose outcome is `outcome`.
    pub fn describe(&self, outcome: Outcome) -> String {
        match self {
            Judged::Expected(n) => format!(
                "as expected ({} by {}, line {}): {}",
                n.outcome.name(),
                n.entry,
                n.line,
                n.reason
            ),
            Judged::Changed(n) => format!(
                "NOT as expected: {} (line {}) expects {} ({}), the outcome is {}",
                n.entry,
                n.line,
                n.outcome.name(),
                n.reason,
                outcome.name()
            ),
            Judged::Unexpected => "NOT expected: no entry names this case".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    #[test]
    fn an_outcome_is_named_as_reports_write_it() {
        for outcome in [
            Outcome::Pass,
            Outcome::Fail,
            Outcome::Warn,
            Outcome::Info,
            Outcome::Error,
            Outcome::Unjudged,
            Outcome::Skip,
        ] {
            assert_eq!(
                serde_json::to_value(outcome).unwrap(),
                serde_json::Value::from(outcome.name())
            );
        }
    }
}
