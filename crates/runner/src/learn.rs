//! What the runner learns about a deployment before it judges anything,
//! and while it does: which body the target accepts, how it refuses, and
//! whether it still answers.
//!
//! A refusal is evidence only against an acceptance. So before the
//! catalog runs, the runner signs its base request with each body it may
//! send (`base.rs`) until the target accepts one: that body is the base of
//! every negative case. Against the same URL it sends the request unsigned
//! and signed with a wrong secret, which shows the status the target
//! refuses with (a verifier that hides its route answers 404 to both, and
//! 404 then counts as a refusal of this target). Later, after each
//! category's refusals, a correctly signed request must still be answered:
//! a verifier that dies or hangs after refusing something has refused its
//! last request.

use std::fmt::Write as _;

use super::base::{Bodies, Body, essence};
use super::judge::{NOT_EVIDENCE, Refusal, Session};
use super::probe::{Builder, Expect, Probe, ROBUSTNESS, Sequence, Step};
use super::transport::Answer;
use crate::verdict::{CaseResult, Category, Outcome};
use sigconform_core::tamper::Recipe;

/// What the runner learned of a target before it ran the catalog.
#[derive(Debug, Clone)]
pub(super) struct Learned {
    /// The bodies the runner may send, with what the target takes; their
    /// base is the body every negative case starts from.
    pub(super) bodies: Bodies,
    /// Why the base request does not count as accepted; `None` when it
    /// was accepted.
    pub(super) refused: Option<Refusal>,
    /// Statuses that count as a refusal of this target besides the 4xx
    /// answers about a signature: given (`--reject-status`) or learned.
    pub(super) refusals: Vec<u16>,
    /// Where the target stopped answering while the runner learned it.
    pub(super) stopped: Option<String>,
    /// What was learned, a line each, for the head of the report.
    pub(super) lines: Vec<String>,
}

/// Learns the base body, the refusal statuses and that the target answers
/// after refusing, with `b` (the runner's builder before learning).
pub(super) async fn learn(b: &Builder<'_>, session: &Session) -> Learned {
    let mut lines = Vec::new();
    let (bodies, refused) = bodies(b, session, &mut lines).await;
    let mut learned = Learned {
        bodies,
        refused,
        refusals: b.deployment.reject_statuses.clone(),
        stopped: None,
        lines,
    };
    if learned.refused.is_none() {
        refusal_statuses(b, session, &mut learned).await;
    }
    // (A target that never answered did not stop answering.)
    if session.answered_any()
        && let Some(no_answer) = session.still_answers(b, learned.bodies.base()).await
    {
        learned.stopped = Some(format!(
            "a correctly signed request got no answer ({no_answer}); {}",
            session.suspect()
        ));
    }
    if !b.sends_query() {
        learned.lines.push(format!(
            "route {}: probed exactly, without a query of the runner's (the scheme does not sign the query; --with-query adds one)",
            b.path("/")
        ));
    }
    learned
}

/// The bodies the target takes: each candidate signed and sent, in order,
/// but for those of a media type the target already accepted a body of.
/// The first accepted is the base; where none is, the first candidate,
/// with why it was refused.
async fn bodies(
    b: &Builder<'_>,
    session: &Session,
    lines: &mut Vec<String>,
) -> (Bodies, Option<Refusal>) {
    let mut base: Option<Body> = None;
    let mut first_refusal = None;
    let (mut taken, mut tried) = (Vec::new(), Vec::new());
    for (n, body) in b.candidates().iter().enumerate() {
        let media_type = essence(&body.media_type);
        if taken.contains(&media_type) {
            continue;
        }
        let req = b.request_with_body(body);
        let what = describe_body(b, n, body);
        let answer = session
            .learning(
                &format!("{what}, signed"),
                b.step(&req, &b.recipe(b.now), Expect::Accept),
            )
            .await;
        tried.push(media_type.clone());
        if answer.accepted() {
            lines.push(format!("body: {what} accepted"));
            taken.push(media_type);
            base.get_or_insert_with(|| body.clone());
            continue;
        }
        lines.push(format!("body: {what} not accepted: {}", answer.describe()));
        first_refusal.get_or_insert(Refusal {
            twin: format!(
                "the base request, a signed {} with {what}",
                b.probe_method()
            ),
            status: answer.response().map(|r| r.status),
            observed: answer.describe(),
            skipped: false,
        });
    }
    let bodies = b.bodies().clone();
    match base {
        Some(base) => {
            tried.retain(|t| !taken.contains(t));
            tried.dedup();
            (bodies.learned(base, tried), None)
        }
        None => (bodies, first_refusal),
    }
}

/// `body`, the `n`th candidate, in words.
fn describe_body(b: &Builder<'_>, n: usize, body: &Body) -> String {
    let whose = if b.deployment.body.is_some() {
        "the --body-file body"
    } else if n == 0 && b.scheme.sender().sample_body.is_some() {
        "the profile's sample body"
    } else {
        "the runner's body"
    };
    format!("{whose} ({}, {} bytes)", body.media_type, body.text.len())
}

/// The statuses the target refuses with: an unsigned and a wrongly signed
/// request to the URL where the signed one was just accepted. Where both
/// get the same status that otherwise says nothing about a signature (a
/// 404 from a verifier that hides its route), that status is a refusal of
/// this target, unless the user gave the statuses.
async fn refusal_statuses(b: &Builder<'_>, session: &Session, learned: &mut Learned) {
    let req = b.request_with_body(learned.bodies.base());
    let wrong = Recipe {
        secret_of: Some("wrong".into()),
        ..b.recipe(b.now)
    };
    let status = |answer: Answer| answer.response().map(|r| r.status);
    let unsigned = status(
        session
            .learning(
                "its base request unsigned",
                b.unsigned(&req, Expect::Reject),
            )
            .await,
    );
    let wrongly_signed = status(
        session
            .learning(
                "its base request with a wrong secret",
                b.step(&req, &wrong, Expect::Reject),
            )
            .await,
    );
    let shown = |s: Option<u16>| s.map_or("no answer".to_owned(), |s| s.to_string());
    let mut line = format!(
        "refusals: unsigned {}, wrong secret {}",
        shown(unsigned),
        shown(wrongly_signed)
    );
    if !learned.refusals.is_empty() {
        let given: Vec<String> = learned.refusals.iter().map(u16::to_string).collect();
        let _ = write!(line, "; --reject-status {}", given.join(" "));
    } else if let (Some(a), Some(b)) = (unsigned, wrongly_signed)
        && a == b
        && NOT_EVIDENCE.contains(&a)
    {
        learned.refusals.push(a);
        let _ = write!(
            line,
            "; {a} counts as a refusal of this target (it accepts the signed request at the same URL)"
        );
    }
    learned.lines.push(line);
}

impl Session {
    /// Sends a request of the runner's learning, noted as `what`: its
    /// answer (or why it could not be built).
    async fn learning(&self, what: &str, step: Result<Step, String>) -> Answer {
        let sent = tokio::time::Instant::now();
        let answer = match step {
            Ok(step) => self.exchange(&step).await.answer,
            Err(e) => Answer::Broken(format!("not sent: {e}")),
        };
        self.record(&format!("the runner's learning ({what})"), sent, &answer);
        answer
    }

    /// Whether the target still answers a correctly signed request with
    /// `body` (any HTTP answer will do); what happened where it did not.
    pub(super) async fn still_answers(&self, b: &Builder<'_>, body: &Body) -> Option<String> {
        let now = b.unit.from_ms(self.target_now_ms());
        let step = b
            .step(&b.request_with_body(body), &b.recipe(now), Expect::Accept)
            .ok()?;
        let answer = self.exchange(&step).await.answer;
        answer.response().is_none().then(|| answer.describe())
    }
}

/// What the case that watches the target checks.
pub(super) const ANSWERING: &str =
    "the target still answers a correctly signed request after each category's refusals";

/// The case that watches the target: its steps are the checks between
/// the categories.
pub(super) fn answering(b: &Builder<'_>) -> Probe {
    b.sequence(
        Category::Malformed,
        "answers-after-refusals",
        ANSWERING,
        "keeps-answering",
        Sequence::KeepsAnswering,
    )
    .no_control(ROBUSTNESS)
}

/// Whether the target still answers, checked after each category: a
/// verifier that dies or hangs after refusing a request has refused its
/// last one.
pub(super) struct Watch<'b> {
    b: &'b Builder<'b>,
    /// How many times it answered.
    answered: usize,
    /// Whether it never answered anything: then it did not stop.
    never_answered: bool,
}

impl<'b> Watch<'b> {
    pub(super) fn new(b: &'b Builder<'b>) -> Watch<'b> {
        Watch {
            b,
            answered: 0,
            never_answered: false,
        }
    }

    /// After the cases of `category`: why the target no longer answers,
    /// naming the last request it answered before the first it did not.
    pub(super) async fn after(
        &mut self,
        category: Category,
        session: &Session,
        base: &Body,
    ) -> Option<String> {
        let Some(no_answer) = session.still_answers(self.b, base).await else {
            self.answered += 1;
            return None;
        };
        if !session.answered_any() {
            // It never answered: it did not stop.
            self.never_answered = true;
            return None;
        }
        let category = format!("{category:?}").to_lowercase();
        Some(format!(
            "after the {category} cases, a correctly signed request got no answer ({no_answer}); {}",
            session.suspect()
        ))
    }

    /// The case `id`: a `fail` where the target stopped answering (while
    /// the runner learned it, `learning`, or later, `stopped`).
    pub(super) fn case(&self, id: String, learned: &Learned, stopped: Option<&str>) -> CaseResult {
        let (outcome, observed) = match (learned.stopped.as_deref(), stopped) {
            (Some(why), _) => (
                Outcome::Fail,
                format!("while the runner learned the deployment: {why}"),
            ),
            (None, Some(why)) => (Outcome::Fail, why.to_owned()),
            (None, None) if self.never_answered => (
                Outcome::Error,
                "the target answered no request: nothing to judge".to_owned(),
            ),
            // Answering proves little where nothing was accepted.
            (None, None) if learned.refused.is_some() => (
                Outcome::Unjudged,
                learned
                    .refused
                    .as_ref()
                    .map(Refusal::reason)
                    .unwrap_or_default(),
            ),
            (None, None) => (
                Outcome::Pass,
                format!("answered after every category ({} checks)", self.answered),
            ),
        };
        let mut case = CaseResult::new(
            id,
            Category::Malformed,
            ANSWERING,
            outcome,
            "an answer to a correctly signed request after every category's refusals",
            observed,
        );
        case.rule = self.b.cite("keeps-answering");
        if outcome == Outcome::Unjudged {
            case.unjudged = Some(case.observed.clone());
        }
        case
    }
}

impl Session {
    /// Whether any request the runner sent got an HTTP answer.
    fn answered_any(&self) -> bool {
        self.sent
            .lock()
            .is_ok_and(|sent| sent.iter().any(|s| s.answered))
    }

    /// The request the target answered last before the first it did not
    /// answer, in words: the suspect where a target stopped answering.
    pub(super) fn suspect(&self) -> String {
        let Ok(sent) = self.sent.lock() else {
            return String::new();
        };
        let mut by_time: Vec<&super::judge::Sent> = sent.iter().collect();
        by_time.sort_by_key(|s| s.at);
        let Some(first_unanswered) = by_time.iter().position(|s| !s.answered) else {
            return "every request of the cases before was answered".into();
        };
        let unanswered = by_time[first_unanswered];
        match by_time[..first_unanswered].last() {
            Some(last) => format!(
                "the last request it answered: {} ({}); the first it did not: {} ({})",
                last.case, last.answer, unanswered.case, unanswered.answer
            ),
            None => format!(
                "the first request it did not answer: {} ({})",
                unanswered.case, unanswered.answer
            ),
        }
    }
}

/// The methods the target routes, as its acceptance cases found them: a
/// line for the head of the report, where the runner tried more than one.
pub(super) fn methods(b: &Builder<'_>, results: &[CaseResult]) -> Option<String> {
    let methods = b.methods();
    if methods.len() < 2 {
        return None;
    }
    let mut routed = Vec::new();
    let mut not_routed = Vec::new();
    for method in methods {
        let id = b.case_id(Category::Acceptance, &method.to_lowercase());
        match results.iter().find(|r| r.id == id).map(|r| r.outcome) {
            Some(Outcome::Skip) => not_routed.push(method),
            Some(_) => routed.push(method),
            None => {}
        }
    }
    if not_routed.is_empty() {
        return None;
    }
    Some(format!(
        "methods: {} routed; {} not (405, or 404 as for an unsigned request): their cases skip",
        routed.join(", "),
        not_routed.join(", ")
    ))
}
