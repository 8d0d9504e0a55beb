//! Judging: what a target's answers to a probe's steps say about it.
//!
//! A probe's steps are sent in order; the first step that does not pass
//! decides the case, and is shown with its canonical string, the request
//! as sent and a command that sends it again.
//!
//! Only answers a verifier gives are evidence. A 2xx accepts, a 5xx is a
//! failure whatever was expected, and 400, 401 and 403 (any 4xx but the
//! ones below) reject. A 404, 405, 413 or 429 says the request never
//! reached a verifier (routing, size limits, rate limiting): a negative
//! case answered so is `error` ("inconclusive"), never `pass`. A 429 or
//! 503 with `Retry-After` is sent again after the delay it asks for, while
//! the run's deadline allows.
//!
//! A refusal is evidence only where the same request unchanged was
//! accepted (`twins.rs`); what a step wrote is read back where the target
//! keeps it (`read_back.rs`).

use std::time::Duration;

use tokio::time::Instant;

mod read_back;
mod twins;

pub(crate) use read_back::Finding;
pub(crate) use twins::{Refusal, Twins};

use super::probe::{Expect, Probe, Resign, Sends, Step, Twin};
use super::transport::{Answer, Response, TlsOptions, Transport};
use crate::reproduce::{Destination, FromEnv, Replay};
use crate::verdict::{CaseResult, Outcome};
use sigconform_core::time::{Clock, SystemClock};

/// Statuses that say nothing about a signature: the request did not reach
/// a verifier, or was turned away before one looked at it.
pub(super) const NOT_EVIDENCE: [u16; 9] = [404, 405, 407, 408, 411, 413, 414, 415, 429];

/// At most this many retries of one request.
const MAX_RETRIES: usize = 10;

/// At most this many answers to a step signed at a window's limit that
/// came too late to judge (see [`Session::margin_ms`]).
const MAX_LATE: u32 = 3;

/// How much of a request as sent the reports show.
const SHOWN_BYTES: usize = 4096;

/// What `answer` says, given what was expected.
pub(super) fn judge(expect: Expect, answer: &Answer) -> Outcome {
    judge_with(expect, answer, &[])
}

/// What `answer` says, given what was expected, of a target that refuses
/// with `refusals` too (a 404 from a verifier that hides its route): such
/// a status is read as a 401.
pub(super) fn judge_with(expect: Expect, answer: &Answer, refusals: &[u16]) -> Outcome {
    let Some(r) = answer.response() else {
        return Outcome::Error;
    };
    let read_as;
    let r = if refusals.contains(&r.status) {
        read_as = Response {
            status: 401,
            ..r.clone()
        };
        &read_as
    } else {
        r
    };
    if expect == Expect::Optional {
        let rate_limited = r.status == 429 || (r.status == 503 && r.retry_after.is_some());
        return match r.status {
            _ if rate_limited => Outcome::Error,
            200..300 => Outcome::Pass,
            500.. => Outcome::Fail,
            _ => Outcome::Skip,
        };
    }
    match r.status {
        500.. if inconclusive(expect, r).is_some() => Outcome::Error,
        500.. => Outcome::Fail,
        s if !(200..300).contains(&s) && !(400..500).contains(&s) => Outcome::Error,
        _ if inconclusive(expect, r).is_some() => Outcome::Error,
        403 if expect == Expect::Forbidden => Outcome::Pass,
        _ => match (expect, r.accepted()) {
            (Expect::Accept, true)
            | (
                Expect::Reject | Expect::RejectOrWarn | Expect::RejectOrInfo | Expect::Either,
                false,
            ) => Outcome::Pass,
            (Expect::Accept, false) | (Expect::Reject | Expect::Forbidden, true) => Outcome::Fail,
            (Expect::RejectOrWarn, true) | (Expect::Forbidden, false) => Outcome::Warn,
            (Expect::RejectOrInfo | Expect::Either, true) => Outcome::Info,
            (Expect::Optional, _) => unreachable!("judged above"),
        },
    }
}

/// Why `r` cannot count as a rejection of a negative case, if it cannot.
fn inconclusive(expect: Expect, r: &Response) -> Option<String> {
    let rate_limited = r.status == 503 && r.retry_after.is_some();
    if expect == Expect::Accept || !(NOT_EVIDENCE.contains(&r.status) || rate_limited) {
        return None;
    }
    let reason = http::StatusCode::from_u16(r.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    Some(format!(
        "inconclusive: {} {reason}, not an answer about the signature",
        r.status
    ))
}

/// How one run sends its probes and judges the answers.
#[derive(Clone)]
pub(super) struct Session {
    pub(super) transport: Transport,
    /// Limit for each request.
    pub(super) timeout: Duration,
    /// Limit for the whole run.
    pub(super) deadline: Instant,
    /// Header values from the environment, never written into a command.
    pub(super) from_env: Vec<FromEnv>,
    /// How the target's certificate is trusted (for the commands).
    pub(super) tls: TlsOptions,
    /// The target's clock minus ours, in milliseconds.
    pub(super) offset_ms: i64,
    /// How far the steps signed at a window's limit are kept from it, in
    /// milliseconds: an answer that takes longer may have been judged on
    /// the other side of the limit (a loaded server reads a timestamp
    /// signed 2 s beyond it only 3 s later), so it is not judged; the step
    /// is signed and sent again.
    pub(super) margin_ms: u64,
    /// Statuses this target refuses with besides 4xx answers about a
    /// signature (given, or learned: see `learn.rs`).
    pub(super) refusals: Vec<u16>,
    /// What refusals are searched for, and what they said (`disclosure.rs`).
    pub(super) disclosures: Option<std::sync::Arc<super::disclosure::Refusals>>,
    /// Every request a case sent, in the order sent, with whether it was
    /// answered: where the target stops answering, the last request it
    /// answered is the suspect.
    pub(super) sent: std::sync::Arc<std::sync::Mutex<Vec<Sent>>>,
}

/// A request a case sent, and whether it got an HTTP answer.
#[derive(Debug, Clone)]
pub(super) struct Sent {
    /// When it was sent.
    pub(super) at: Instant,
    /// The case that sent it.
    pub(super) case: String,
    /// Its answer, described (status and the start of the body).
    pub(super) answer: String,
    /// Whether there was an HTTP answer at all.
    pub(super) answered: bool,
}

/// An answer, and the answers before it that asked to be retried.
pub(super) struct Exchange {
    pub(super) answer: Answer,
    pub(super) retries: Vec<String>,
    /// The request as last sent and its canonical string, where it was
    /// signed again at sending.
    pub(super) resigned: Option<(sigconform_core::Request, String)>,
}

impl Session {
    /// The target's clock now, in milliseconds, as estimated.
    pub(super) fn target_now_ms(&self) -> u64 {
        SystemClock.now_ms().saturating_add_signed(self.offset_ms)
    }

    /// Sends one request of `step` (over raw TCP where the step says so),
    /// again after each `Retry-After` the deadline leaves time for.
    pub(super) async fn exchange(&self, step: &Step) -> Exchange {
        let mut retries = Vec::new();
        loop {
            let timeout = self
                .timeout
                .min(self.deadline.saturating_duration_since(Instant::now()));
            let (answer, resigned) = match (&step.raw, &step.resign) {
                (Some(bytes), _) => (self.transport.send_raw(bytes, timeout).await, None),
                (None, Some(resign)) => self.send_resigned(resign, timeout, &mut retries).await,
                (None, None) => (self.transport.send(&step.request, timeout).await, None),
            };
            let wait = answer
                .response()
                .filter(|r| matches!(r.status, 429 | 503))
                .and_then(|r| Some((r.status, r.retry_after?)));
            match wait {
                Some((status, wait))
                    if retries.len() < MAX_RETRIES
                        && Instant::now() + wait + self.timeout / 4 < self.deadline =>
                {
                    retries.push(format!("{status} (Retry-After {} s)", wait.as_secs()));
                    tokio::time::sleep(wait.max(Duration::from_millis(20))).await;
                }
                _ => {
                    return Exchange {
                        answer,
                        retries,
                        resigned,
                    };
                }
            }
        }
    }

    /// `resign`'s request signed at the target's clock now and sent, with
    /// the canonical string signed; signed and sent again (with a nonce of
    /// its own) while the answer comes later than [`Session::margin_ms`],
    /// and not judged if none comes sooner.
    async fn send_resigned(
        &self,
        resign: &Resign,
        timeout: Duration,
        retries: &mut Vec<String>,
    ) -> (Answer, Option<(sigconform_core::Request, String)>) {
        let mut last = None;
        for attempt in 0..MAX_LATE {
            let now = SystemClock.now_ms().saturating_add_signed(self.offset_ms);
            let (request, canonical) = match resign.at(now, attempt) {
                Ok(signed) => signed,
                Err(e) => return (Answer::Broken(format!("not sent: {e}")), last),
            };
            let sent = Instant::now();
            let answer = self.transport.send(&request, timeout).await;
            let took = sent.elapsed();
            if took <= Duration::from_millis(self.margin_ms) {
                return (answer, Some((request, canonical)));
            }
            retries.push(format!(
                "answered after {} ms, too late to judge at the limit",
                took.as_millis()
            ));
            last = Some((request, canonical));
        }
        let too_late = format!(
            "{MAX_LATE} answers each later than the {} ms a case at a window's limit allows",
            self.margin_ms
        );
        (Answer::Broken(too_late), last)
    }

    /// Where the commands send a request again.
    fn destination(&self) -> Destination {
        let (host, port) = self.transport.target.host_port();
        Destination {
            origin: self.transport.target.origin(),
            host: host.to_owned(),
            port,
            tls: self.transport.target.is_tls(),
            insecure: self.tls.insecure,
            ca_cert: self.tls.ca_cert.clone(),
        }
    }

    /// What sends `step`'s request again.
    pub(super) fn replay(&self, step: &Step) -> Replay {
        match &step.raw {
            Some(bytes) => Replay::raw(self.destination(), bytes, &self.from_env),
            None => Replay::http(self.destination(), &step.request, &self.from_env),
        }
    }

    /// Sends a probe's steps in order and judges them: the first step that
    /// does not pass decides the case. Where the probe's twin was not
    /// accepted (`twins` says so), a refusal proves nothing: the case is
    /// `unjudged` unless the target accepted what it had to refuse.
    pub(super) async fn execute(&self, probe: Probe, twins: Option<&Twins>) -> CaseResult {
        if let Some(reason) = probe.skip.clone() {
            let mut case = self.verdict(probe, Outcome::Skip, None);
            case.expected = "a case that applies to this target".into();
            case.observed = reason;
            return case;
        }
        let steps = match &probe.sends {
            Sends::Steps(Ok(steps)) => steps,
            Sends::Sequence(_) => {
                let mut case = self.verdict(probe, Outcome::Error, None);
                case.expected = "a case of requests built before they are sent".into();
                case.observed = "not sent: a sequence runs after the other cases".into();
                return case;
            }
            Sends::Steps(Err(reason)) => {
                let observed = format!("not sent: {reason}");
                let mut case = self.verdict(probe, Outcome::Error, None);
                case.expected = "a request the runner can build".into();
                case.observed = observed;
                return case;
            }
        };
        let mut decided: Option<Decided> = None;
        let mut last = None;
        for step in steps {
            let decided_here = self.send_step(&probe.id, step).await;
            if decided_here.outcome != Outcome::Pass && decided.is_none() {
                decided = Some(decided_here);
            } else {
                last = Some(decided_here);
            }
        }
        let refused_twin = twins.and_then(|t| t.refused(&probe.twin));
        let (outcome, shown) = match decided {
            Some(d) => (d.outcome, d),
            None => (Outcome::Pass, last.expect("a probe has a step")),
        };
        // A shape the target does not take: whatever its forgeries got that
        // is not an acceptance (a 413 too) says so again.
        let shape = matches!(probe.twin, Twin::Shape(_));
        let shape_not_taken = |twin: &Refusal| {
            shape
                && twin.is_an_answer()
                && (outcome == Outcome::Error || proves_nothing(outcome, &shown, twin))
        };
        match refused_twin
            .filter(|twin| shape_not_taken(twin) || proves_nothing(outcome, &shown, twin))
        {
            Some(twin) if shape_not_taken(twin) => {
                let mut case = self.verdict(probe, Outcome::Skip, Some(&shown));
                case.observed = format!(
                    "not a shape the target takes: {}; this forgery got {}",
                    twin.reason(),
                    case.observed
                );
                case
            }
            Some(twin) => {
                let mut case = self.verdict(probe, Outcome::Unjudged, Some(&shown));
                case.observed = format!("{}; this case got {}", twin.reason(), case.observed);
                case.unjudged = Some(twin.reason());
                case
            }
            None => self.verdict(probe, outcome, Some(&shown)),
        }
    }

    /// Sends one step of case `id` (after its pause) and judges it.
    async fn send_step(&self, id: &str, step: &Step) -> Decided {
        if !step.pause.is_zero() {
            tokio::time::sleep(step.pause).await;
        }
        if let Some(at) = step.not_before {
            tokio::time::sleep_until(at).await;
        }
        let before = self.read_before(step).await;
        let sent = Instant::now();
        let (outcome, exchange) = if step.copies > 1 {
            self.send_concurrently(step).await
        } else {
            let exchange = self.exchange(step).await;
            (
                judge_with(step.expect, &exchange.answer, &self.refusals),
                exchange,
            )
        };
        self.record(id, sent, &exchange.answer);
        let read_back = self
            .read_after(step, outcome, exchange.answer.accepted(), before)
            .await;
        let request = exchange.resigned.as_ref().map_or(&step.request, |(r, _)| r);
        let (outcome, disclosed) = match &self.disclosures {
            Some(refusals) => refusals.search_refusal(
                id,
                step,
                &exchange.answer,
                request,
                outcome,
                &self.refusals,
                || self.replay(step).command(),
            ),
            None => (outcome, None),
        };
        let skipped = match (outcome, &step.unrouted_control) {
            (Outcome::Fail | Outcome::Error, Some(control)) => {
                self.unrouted(step, control, &exchange.answer).await
            }
            _ => None,
        };
        Decided {
            step: step.clone(),
            outcome: match (&skipped, &read_back) {
                (Some(_), _) => Outcome::Skip,
                (None, Some(found)) => found.outcome,
                (None, None) => outcome,
            },
            exchange,
            note: skipped.or(disclosed),
            read_back,
        }
    }

    /// Notes that case `id` sent a request at `at`, and what came back.
    pub(super) fn record(&self, id: &str, at: Instant, answer: &Answer) {
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(Sent {
                at,
                case: id.to_owned(),
                answer: answer.describe().chars().take(80).collect(),
                answered: answer.response().is_some(),
            });
        }
    }

    /// Why a method's acceptance case is `skip`: the target does not route
    /// the method (405, or 404 as for an unsigned request of it).
    async fn unrouted(
        &self,
        step: &Step,
        control: &sigconform_core::Request,
        answer: &Answer,
    ) -> Option<String> {
        let r = answer.response()?;
        let method = step.request.method();
        match r.status {
            405 => Some(match &r.allow {
                Some(allow) => format!("{allow} only: {method} answered 405"),
                None => format!("{method} answered 405: the target does not route it"),
            }),
            404 => {
                let unsigned = self.transport.send(control, self.timeout).await;
                (unsigned.response().map(|r| r.status) == Some(404)).then(|| {
                    format!(
                        "{method} answered 404, as an unsigned {method} does: the target does not route it"
                    )
                })
            }
            _ => None,
        }
    }

    /// Sends `step.copies` identical requests at once: more than one
    /// accepted is a failure (a nonce store that checks and records in two
    /// steps).
    async fn send_concurrently(&self, step: &Step) -> (Outcome, Exchange) {
        let exchanges =
            futures_util::future::join_all((0..step.copies).map(|_| self.exchange(step))).await;
        let retries: Vec<String> = exchanges.iter().flat_map(|e| e.retries.clone()).collect();
        if let Some(worst) = exchanges.iter().find(|e| {
            matches!(
                judge(Expect::Either, &e.answer),
                Outcome::Fail | Outcome::Error
            )
        }) {
            return (
                judge(Expect::Either, &worst.answer),
                Exchange {
                    answer: worst.answer.clone(),
                    retries,
                    resigned: None,
                },
            );
        }
        let accepted = exchanges.iter().filter(|e| e.answer.accepted()).count();
        let summary = Answer::Status(Response {
            status: if accepted > 0 { 200 } else { 401 },
            body: format!(
                "{accepted} of {} identical concurrent requests accepted",
                step.copies
            ),
            retry_after: None,
            allow: None,
            said: Default::default(),
        });
        let outcome = match (accepted > 1, step.expect) {
            (false, _) => Outcome::Pass,
            (true, Expect::RejectOrWarn) => Outcome::Warn,
            (true, _) => Outcome::Fail,
        };
        (
            outcome,
            Exchange {
                answer: summary,
                retries,
                resigned: None,
            },
        )
    }

    /// The result of a probe: its outcome, and the step shown with it (the
    /// deciding one, or the last when every step passed) with its expected
    /// and observed answer, canonical string, the request as sent and a
    /// command that sends it again.
    pub(super) fn verdict(
        &self,
        probe: Probe,
        outcome: Outcome,
        shown: Option<&Decided>,
    ) -> CaseResult {
        let mut case = CaseResult::new(
            probe.id,
            probe.category,
            probe.description,
            outcome,
            "as specified",
            "as specified",
        );
        case.rule = probe.rule;
        if let Some(d) = shown {
            let mut sent = d.step.clone();
            if let Some((request, canonical)) = &d.exchange.resigned {
                sent.request = request.clone();
                sent.canonical = canonical.clone();
            }
            let replay = self.replay(&sent);
            case.expected = d.step.expect.describe().to_owned();
            case.observed = match (
                &d.note,
                inconclusive_answer(d.step.expect, &d.exchange.answer, &self.refusals),
            ) {
                (Some(note), _) => note.clone(),
                (None, Some(why)) => format!("{why} ({})", d.exchange.answer.describe()),
                (None, None) => d.exchange.answer.describe(),
            };
            if let Some(found) = &d.read_back {
                case.expected = found.expected.clone();
                case.observed = found.observed.clone();
                case.rule = found.rule.clone();
            }
            case.detail = format!(
                "canonical string of the request as sent: {}",
                shortened(&sent.canonical, SHOWN_BYTES)
            );
            case.reproduce = replay.command();
            case.request = replay.as_sent(SHOWN_BYTES);
            case.retries = d.exchange.retries.clone();
            case.status = d.exchange.answer.response().map(|r| r.status);
            case.replay = Some(replay);
        }
        case
    }
}

/// `text` quoted as a Rust string, cut after about `limit` bytes with a
/// note of its length.
fn shortened(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return format!("{text:?}");
    }
    let prefix = crate::reproduce::prefix_within(text, limit);
    format!("{prefix:?}… ({} bytes in all)", text.len())
}

/// Why `answer` is inconclusive for a step expecting `expect`, if it is,
/// from a target that refuses with `refusals` too.
fn inconclusive_answer(expect: Expect, answer: &Answer, refusals: &[u16]) -> Option<String> {
    let r = answer.response()?;
    if refusals.contains(&r.status) {
        return None;
    }
    inconclusive(expect, r)
}

/// Whether a case that ended `outcome`, shown by `shown`, proves nothing
/// because its twin was refused (`twin`): only the target accepting what
/// the case expected it to refuse stands (a forgery accepted is evidence
/// whatever else the target refuses), and a 5xx where the twin got none.
fn proves_nothing(outcome: Outcome, shown: &Decided, twin: &Refusal) -> bool {
    let answer = shown.exchange.answer.response();
    let accepted_a_forgery = shown.step.expect != Expect::Accept
        && matches!(outcome, Outcome::Fail | Outcome::Warn | Outcome::Info)
        && answer.is_some_and(Response::accepted);
    let crashed_alone = outcome == Outcome::Fail
        && answer.is_some_and(|r| r.status >= 500)
        && twin.status.is_none_or(|s| s < 500);
    matches!(
        outcome,
        Outcome::Pass | Outcome::Fail | Outcome::Warn | Outcome::Info
    ) && !accepted_a_forgery
        && !crashed_alone
}

/// The step that decided a case (or the last one sent), its answer, and
/// why it was skipped, if it was.
pub(super) struct Decided {
    pub(super) step: Step,
    pub(super) outcome: Outcome,
    pub(super) exchange: Exchange,
    pub(super) note: Option<String>,
    /// What reading back what the step wrote found against its answer.
    pub(super) read_back: Option<Finding>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, retry_after: Option<u64>) -> Answer {
        Answer::Status(Response {
            status,
            body: String::new(),
            retry_after: retry_after.map(Duration::from_secs),
            allow: None,
            said: Default::default(),
        })
    }

    #[test]
    fn only_a_verifier_s_answers_are_evidence() {
        for rejection in [400, 401, 403, 422] {
            assert_eq!(
                judge(Expect::Reject, &status(rejection, None)),
                Outcome::Pass
            );
        }
        for not_evidence in NOT_EVIDENCE {
            for expect in [
                Expect::Reject,
                Expect::RejectOrWarn,
                Expect::Either,
                Expect::Forbidden,
            ] {
                assert_eq!(
                    judge(expect, &status(not_evidence, None)),
                    Outcome::Error,
                    "{not_evidence} {expect:?}"
                );
            }
            // An acceptance case answered so simply was not accepted.
            assert_eq!(
                judge(Expect::Accept, &status(not_evidence, None)),
                Outcome::Fail
            );
        }
        // A rate-limited 503 is no verdict either; a plain 503 is a failure.
        assert_eq!(judge(Expect::Reject, &status(503, Some(1))), Outcome::Error);
        assert_eq!(judge(Expect::Reject, &status(503, None)), Outcome::Fail);
        assert_eq!(judge(Expect::Accept, &status(500, None)), Outcome::Fail);
        assert_eq!(judge(Expect::Reject, &status(302, None)), Outcome::Error);
        assert_eq!(judge(Expect::Forbidden, &status(403, None)), Outcome::Pass);
        assert_eq!(judge(Expect::Forbidden, &status(401, None)), Outcome::Warn);
        assert!(
            inconclusive(Expect::Reject, status(429, None).response().unwrap())
                .unwrap()
                .contains("429 Too Many Requests")
        );
    }
}
