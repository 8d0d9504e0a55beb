//! Comparing a target's answers with what the oracle requires, by the
//! catalog's judging rules (`judge.rs`): a 2xx accepts, a 5xx is always a
//! finding, the statuses that never reached a verifier (404, 405, 429 at a
//! gateway) are no evidence, and the refusal statuses the runner learned
//! count as refusals.

use super::oracle::{Oracle, Requirement};
use crate::judge::{NOT_EVIDENCE, judge_with};
use crate::probe::{Expect, Step};
use crate::transport::Answer;
use crate::verdict::Outcome;
use sigconform_core::Rejection;

/// What a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    /// A request the target must refuse was accepted.
    AcceptedForgery,
    /// A request the target must accept was refused.
    RefusedValid,
    /// A 5xx.
    ServerError,
    /// Two identical requests at once were both accepted where a nonce
    /// allows one.
    BothAccepted,
}

impl Kind {
    /// A word for the kind, for ids that would otherwise be the same.
    pub(crate) fn word(self) -> &'static str {
        match self {
            Kind::AcceptedForgery => "accepted",
            Kind::RefusedValid => "refused",
            Kind::ServerError => "server-error",
            Kind::BothAccepted => "both-accepted",
        }
    }
}

/// A request the target answered otherwise than the oracle requires.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    pub(crate) kind: Kind,
    /// What the oracle required.
    pub(crate) requirement: Requirement,
    /// The request.
    pub(crate) step: Step,
    /// The answer.
    pub(crate) answer: Answer,
    /// Answers that asked to be retried before it.
    pub(crate) retries: Vec<String>,
}

/// What one step's answers say.
#[derive(Debug, Clone)]
pub(crate) enum Assessed {
    /// As the oracle requires.
    Conforms,
    /// No evidence: the answer never came from a verifier, or came not at
    /// all.
    Inconclusive,
    /// Otherwise than the oracle requires.
    Finding(Box<Finding>),
}

/// One request's answers (several for copies sent at once), with the
/// target's clock when it was sent and when the last answer came.
#[derive(Debug, Clone)]
pub(crate) struct Answered {
    pub(crate) answers: Vec<(Answer, Vec<String>)>,
    pub(crate) from_ms: u64,
    pub(crate) until_ms: u64,
}

/// The expectation the judging rules apply for `requirement`.
fn expect(requirement: &Requirement) -> Expect {
    match requirement {
        Requirement::Accept => Expect::Accept,
        Requirement::Refuse(_) => Expect::Reject,
        Requirement::Either(_) => Expect::Either,
    }
}

/// Compares `answered` (answers to `step`, sent `copies` at once) with what
/// `oracle` requires, and tells the oracle of every acceptance; `refusals`
/// are the statuses the target refuses with.
pub(crate) fn assess(
    oracle: &Oracle,
    step: &Step,
    acceptable: bool,
    answered: &Answered,
    refusals: &[u16],
    counted: &mut dyn FnMut(&Requirement),
) -> Assessed {
    let req = &step.request;
    let (from, until) = (answered.from_ms, answered.until_ms);
    let requirement = oracle.classify(req, acceptable, from, until);
    counted(&requirement);
    let finding =
        |kind: Kind, requirement: Requirement, (answer, retries): &(Answer, Vec<String>)| {
            Assessed::Finding(Box::new(Finding {
                kind,
                requirement,
                step: step.clone(),
                answer: answer.clone(),
                retries: retries.clone(),
            }))
        };
    if let Some(crashed) = answered
        .answers
        .iter()
        .find(|(a, _)| judge_with(Expect::Either, a, refusals) == Outcome::Fail)
    {
        return finding(Kind::ServerError, requirement, crashed);
    }
    let accepted: Vec<&(Answer, Vec<String>)> = answered
        .answers
        .iter()
        .filter(|(a, _)| a.accepted())
        .collect();
    if !accepted.is_empty() {
        oracle.accepted(req);
    }
    if accepted.len() > 1 {
        // Copies at once: the first recorded, the next is a replay of it.
        let again = oracle.classify(req, false, from, until);
        if again == Requirement::Refuse(Rejection::ReplayedNonce) {
            return finding(Kind::BothAccepted, again, accepted[1]);
        }
    }
    let decisive = accepted.first().copied().unwrap_or(&answered.answers[0]);
    match judge_with(expect(&requirement), &decisive.0, refusals) {
        Outcome::Fail => {}
        Outcome::Error => return Assessed::Inconclusive,
        _ => return Assessed::Conforms,
    }
    match &requirement {
        Requirement::Accept => {
            // A route or a gateway turned it away: no verifier said no.
            let status = decisive.0.response().map(|r| r.status);
            if status.is_some_and(|s| NOT_EVIDENCE.contains(&s) && !refusals.contains(&s)) {
                return Assessed::Inconclusive;
            }
            finding(Kind::RefusedValid, requirement, decisive)
        }
        Requirement::Refuse(_) => finding(Kind::AcceptedForgery, requirement, decisive),
        Requirement::Either(_) => Assessed::Conforms,
    }
}
