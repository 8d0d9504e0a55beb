//! Judging: what a target's answers to a probe's steps say about it. A
//! probe's steps are sent in order; the first step that does not pass
//! decides the case, and is shown with its canonical string and a command
//! that sends it again.

use std::time::Duration;

use super::probe::{Expect, Probe, Step};
use super::report::reproduce::{curl, netcat};
use super::transport::{Answer, HttpClient, send, send_raw};
use super::{CaseResult, Outcome};

pub(super) fn judge(expect: Expect, answer: &Answer) -> Outcome {
    match answer {
        Answer::Broken(_) | Answer::Refused(_) => Outcome::Error,
        Answer::Status(s, _) if *s >= 500 => Outcome::Fail,
        Answer::Status(s, _) if !(200..300).contains(s) && !(400..500).contains(s) => {
            Outcome::Error
        }
        Answer::Status(403, _) if expect == Expect::Forbidden => Outcome::Pass,
        Answer::Status(s, _) => {
            let accepted = (200..300).contains(s);
            match (expect, accepted) {
                (Expect::Accept, true)
                | (Expect::Reject | Expect::RejectOrWarn | Expect::Either, false) => Outcome::Pass,
                (Expect::Accept, false) | (Expect::Reject | Expect::Forbidden, true) => {
                    Outcome::Fail
                }
                (Expect::RejectOrWarn, true) | (Expect::Forbidden, false) => Outcome::Warn,
                (Expect::Either, true) => Outcome::Info,
            }
        }
    }
}

/// Sends a probe's steps in order and judges them: the first step that
/// does not pass decides the case, and is shown with its canonical string
/// and a curl command.
pub(super) async fn execute(
    probe: Probe,
    client: &HttpClient,
    target: &str,
    timeout: Duration,
    deadline: tokio::time::Instant,
) -> CaseResult {
    let steps = match &probe.steps {
        Ok(steps) => steps,
        Err(reason) => {
            let observed = format!("not sent: {reason}");
            let mut case = verdict(probe, Outcome::Error, None, target);
            case.expected = "a request the runner can build".into();
            case.observed = observed;
            return case;
        }
    };
    let mut outcome = Outcome::Pass;
    let mut deciding = None;
    for step in steps {
        let timeout = timeout.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        let (o, answer) = if step.copies > 1 {
            send_concurrently(client, target, step, timeout).await
        } else {
            let answer = match &step.raw {
                Some(bytes) => send_raw(target.trim_start_matches("http://"), bytes, timeout).await,
                None => send(client, target, &step.request, timeout).await,
            };
            (judge(step.expect, &answer), answer)
        };
        if o != Outcome::Pass && deciding.is_none() {
            outcome = o;
            deciding = Some((step.clone(), answer));
        }
    }
    verdict(probe, outcome, deciding.as_ref(), target)
}

/// The result of a probe: its outcome, and for one that did not pass, the
/// deciding step's expected and observed answer, canonical string and curl.
pub(super) fn verdict(
    probe: Probe,
    outcome: Outcome,
    deciding: Option<&(Step, Answer)>,
    target: &str,
) -> CaseResult {
    let (expected, observed, detail, reproduce) = match deciding {
        None => (
            "as specified".into(),
            "as specified".into(),
            String::new(),
            String::new(),
        ),
        Some((step, answer)) => (
            step.expect.describe().to_owned(),
            answer.describe(),
            format!(
                "canonical string of the request as sent: {:?}",
                step.canonical
            ),
            match &step.raw {
                Some(bytes) => netcat(target, bytes),
                None => curl(target, &step.request),
            },
        ),
    };
    CaseResult {
        id: probe.id,
        category: probe.category,
        description: probe.description,
        outcome,
        expected,
        observed,
        detail,
        reproduce,
    }
}

/// Sends `step.copies` identical requests at once: more than one accepted
/// is a failure (a nonce store that checks and records in two steps).
async fn send_concurrently(
    client: &HttpClient,
    target: &str,
    step: &Step,
    timeout: Duration,
) -> (Outcome, Answer) {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..step.copies {
        let (client, target, request) = (client.clone(), target.to_owned(), step.request.clone());
        set.spawn(async move { send(&client, &target, &request, timeout).await });
    }
    let answers = set.join_all().await;
    if let Some(worst) = answers
        .iter()
        .find(|a| matches!(judge(Expect::Either, a), Outcome::Fail | Outcome::Error))
    {
        return (judge(Expect::Either, worst), worst.clone());
    }
    let accepted = answers
        .iter()
        .filter(|a| matches!(a, Answer::Status(s, _) if (200..300).contains(s)))
        .count();
    let summary = Answer::Status(
        if accepted > 0 { 200 } else { 401 },
        format!(
            "{accepted} of {} identical concurrent requests accepted",
            step.copies
        ),
    );
    (
        if accepted > 1 {
            Outcome::Fail
        } else {
            Outcome::Pass
        },
        summary,
    )
}
