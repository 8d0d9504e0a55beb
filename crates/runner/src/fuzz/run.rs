//! The run: cases drawn from the seed, sent at most `concurrency` at a
//! time (a sequence's steps in order, a pause without holding a slot),
//! each answer compared with what the oracle requires, until the budget of
//! requests or time is spent; then each finding is minimised and grouped.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use fastrand::Rng;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::assess::{Answered, Assessed, Finding, Kind, assess};
use super::case::{Chosen, Forge, Plan, Planned};
use super::oracle::{Leeway, Oracle, Requirement};
use crate::judge::Session;
use crate::probe::Step;

/// How long a fuzz run goes on.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    /// The seed every case is drawn from: the same seed draws the same
    /// cases.
    pub seed: u64,
    /// At most this many requests (besides those that minimise findings).
    pub requests: u64,
    /// At most this long (besides minimising).
    pub duration: Option<Duration>,
    /// At most this many requests a second.
    pub rate: Option<f64>,
    /// Stop sending cases at the first finding (a job that only needs to
    /// know whether there is one).
    pub stop_at_first: bool,
}

impl Default for FuzzOptions {
    fn default() -> Self {
        FuzzOptions {
            seed: 0,
            requests: 2000,
            duration: None,
            rate: None,
            stop_at_first: false,
        }
    }
}

/// What a run counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Cases drawn and sent.
    pub cases: u64,
    /// Requests sent (copies at once counted each).
    pub requests: u64,
    /// Requests the target had to accept.
    pub must_accept: u64,
    /// Requests it had to refuse.
    pub must_refuse: u64,
    /// Requests either answer conforms for, in all.
    pub either: u64,
    /// Of those: the strict policy refuses, the lenient one accepts.
    pub lenient: u64,
    /// Of those: within the margin of a window's limit.
    pub window: u64,
    /// Of those: the reference accepts, but no signer sends it.
    pub not_signer_made: u64,
    /// Of those: the reference does not model what they carry.
    pub unmodelled: u64,
    /// Answers that were no evidence (a route's 404, a timeout).
    pub inconclusive: u64,
    /// Findings that prove nothing: a 5xx the same content gets correctly
    /// signed too, or a refusal where the base request was refused.
    pub unjudged: u64,
    /// Requests sent to check a twin.
    pub twins: u64,
    /// Requests sent to minimise findings.
    pub minimising: u64,
    /// Milliseconds from the first request of the budget to the last (a
    /// replay's pause after that is not the target's time).
    pub sending_ms: u64,
}

impl Stats {
    fn count(&mut self, requirement: &Requirement) {
        match requirement {
            Requirement::Accept => self.must_accept += 1,
            Requirement::Refuse(_) => self.must_refuse += 1,
            Requirement::Either(why) => {
                self.either += 1;
                match why {
                    Leeway::Lenient(_) => self.lenient += 1,
                    Leeway::Window => self.window += 1,
                    Leeway::NotSignerMade => self.not_signer_made += 1,
                    Leeway::Unmodelled(_) => self.unmodelled += 1,
                }
            }
        }
    }
}

/// A finding as first met: the case's operators, and how many requests
/// the run had sent when it sent the case.
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub(crate) ops: Vec<Chosen>,
    pub(crate) finding: Finding,
    pub(crate) at_request: u64,
}

/// Consecutive requests without an answer after which the run checks that
/// the target still answers at all.
const SILENT_LIMIT: u32 = 10;

/// Cases in a row that could not be built after which the run stops.
const UNBUILT_LIMIT: u32 = 1000;

/// The fuzzer of one run.
pub(crate) struct Fuzzer<'b> {
    pub(crate) forge: Forge<'b>,
    pub(crate) oracle: Oracle,
    pub(crate) session: Arc<Session>,
    /// Whether the base request was accepted while the runner learned
    /// the deployment (else no refusal of a valid request is evidence).
    pub(crate) base_accepted: bool,
    pub(crate) stats: Stats,
    /// Where the target stopped answering, if it did.
    pub(crate) stopped: Option<String>,
    /// When the first request was sent.
    pub(crate) first_sent: Option<Instant>,
}

/// A case on its way.
struct Live {
    plan: Plan,
    /// The run's request count when its first step was sent.
    at_request: u64,
    /// A 5xx waiting for its twin's answer.
    crashed: Option<Finding>,
}

/// What a sending task returns: the case, its step (`None` for the twin),
/// whether it waited before sending (and so held no slot while it did),
/// and the answers.
type Done = (u64, Option<usize>, bool, Answered);

/// The rng of case `n` of a run seeded `seed`: each case the same
/// whatever the order cases are answered in.
pub(crate) fn case_rng(seed: u64, n: u64) -> Rng {
    Rng::with_seed(seed ^ n.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// Sends `step` (`copies` at once, after `pause`).
async fn send(session: Arc<Session>, step: Step, copies: usize, pause: Duration) -> Answered {
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
    let from_ms = session.target_now_ms();
    let exchanges =
        futures_util::future::join_all((0..copies.max(1)).map(|_| session.exchange(&step))).await;
    Answered {
        answers: exchanges
            .into_iter()
            .map(|e| (e.answer, e.retries))
            .collect(),
        from_ms,
        until_ms: session.target_now_ms(),
    }
}

impl Fuzzer<'_> {
    /// Sends cases until `options`' budget is spent; the findings in the
    /// order met. `progress` is told of requests sent, out of the budget.
    pub(crate) async fn explore(
        &mut self,
        options: &FuzzOptions,
        concurrency: usize,
        progress: &dyn Fn(u64, u64),
    ) -> Vec<Raw> {
        let started = Instant::now();
        let out_of_time = |now: Instant| options.duration.is_some_and(|d| now - started >= d);
        let mut tasks: JoinSet<Done> = JoinSet::new();
        let mut live: HashMap<u64, Live> = HashMap::new();
        let mut raws = Vec::new();
        let mut sending = 0usize;
        let mut next_case = 0u64;
        let mut silent = 0u32;
        let mut unbuilt = 0u32;
        loop {
            let now = Instant::now();
            let budget_left = self.stats.requests < options.requests
                && !out_of_time(now)
                && self.stopped.is_none()
                && (!options.stop_at_first || raws.is_empty());
            let paced = options
                .rate
                .filter(|r| *r > 0.0)
                .map(|rate| started + Duration::from_secs_f64(self.stats.requests as f64 / rate));
            let mut starting = budget_left && sending < concurrency.max(1);
            if starting && paced.is_some_and(|at| at > now) {
                starting = false;
            }
            if starting {
                let n = next_case;
                next_case += 1;
                let chosen = self.forge.choose(&mut case_rng(options.seed, n));
                let Some(plan) = self.plan(&chosen) else {
                    unbuilt += 1;
                    if unbuilt > UNBUILT_LIMIT {
                        self.stopped = Some(
                            "no case could be built: the runner cannot sign for this target".into(),
                        );
                    }
                    continue;
                };
                unbuilt = 0;
                {
                    self.stats.cases += 1;
                    let at_request = self.stats.requests;
                    let first = &plan.steps[0];
                    self.spawn(&mut tasks, n, Some(0), first);
                    sending += 1;
                    live.insert(
                        n,
                        Live {
                            plan,
                            at_request,
                            crashed: None,
                        },
                    );
                }
                continue;
            }
            if tasks.is_empty() {
                if !budget_left {
                    break;
                }
                if let Some(at) = paced {
                    tokio::time::sleep_until(at).await;
                }
                continue;
            }
            let done = match paced.filter(|_| budget_left && sending < concurrency.max(1)) {
                Some(at) => tokio::select! {
                    done = tasks.join_next() => done,
                    () = tokio::time::sleep_until(at) => continue,
                },
                None => tasks.join_next().await,
            };
            let Some(Ok((n, step, paused, answered))) = done else {
                continue;
            };
            if !paused {
                sending = sending.saturating_sub(1);
            }
            if answered.answers.iter().all(|(a, _)| a.response().is_none()) {
                silent += 1;
                if silent >= SILENT_LIMIT && !self.still_answers().await {
                    self.stopped = Some(format!(
                        "after {} requests, the target no longer answers a correctly signed request",
                        self.stats.requests
                    ));
                }
            } else {
                silent = 0;
            }
            progress(self.stats.requests, options.requests);
            let Some(case) = live.get_mut(&n) else {
                continue;
            };
            match self.after(case, step, &answered) {
                Next::Step(i) => {
                    let planned = case.plan.steps[i].clone();
                    // A step that waits first holds no slot: a pause of
                    // seconds would otherwise stall the run.
                    if planned.pause.is_zero() {
                        sending += 1;
                    }
                    self.spawn(&mut tasks, n, Some(i), &planned);
                }
                Next::Twin(twin) => {
                    self.stats.twins += 1;
                    let session = self.session.clone();
                    tasks.spawn(async move {
                        (
                            n,
                            None,
                            false,
                            send(session, *twin, 1, Duration::ZERO).await,
                        )
                    });
                    sending += 1;
                }
                Next::Finding(finding) => {
                    let case = live.remove(&n).expect("the case is live");
                    raws.push(Raw {
                        ops: case.plan.ops,
                        finding: *finding,
                        at_request: case.at_request,
                    });
                }
                Next::Done => {
                    live.remove(&n);
                }
            }
        }
        raws
    }

    /// The plan of a case of `chosen` operators, or `None` where it
    /// cannot be built or changes nothing.
    fn plan(&mut self, chosen: &[Chosen]) -> Option<Plan> {
        if chosen.is_empty() {
            return None;
        }
        let plan = self
            .forge
            .build(chosen, self.session.target_now_ms())
            .ok()?;
        (!plan.ops.is_empty()).then_some(plan)
    }

    fn spawn(&mut self, tasks: &mut JoinSet<Done>, n: u64, step: Option<usize>, planned: &Planned) {
        self.stats.requests += planned.copies as u64;
        let since = *self.first_sent.get_or_insert_with(Instant::now);
        self.stats.sending_ms = since.elapsed().as_millis() as u64;
        let session = self.session.clone();
        let (sent, copies, pause) = (planned.step.clone(), planned.copies, planned.pause);
        tasks.spawn(async move {
            (
                n,
                step,
                !pause.is_zero(),
                send(session, sent, copies, pause).await,
            )
        });
    }

    /// What comes after `answered`, the answers to `step` of `case`
    /// (`None`: its twin).
    fn after(&mut self, case: &mut Live, step: Option<usize>, answered: &Answered) -> Next {
        let Some(i) = step else {
            // The twin of a 5xx: the crash stands only where the same
            // content, correctly signed, gets none.
            let crashed = case.crashed.take();
            let twin_crashed = answered
                .answers
                .iter()
                .any(|(a, _)| a.response().is_some_and(|r| r.status >= 500));
            return match crashed {
                Some(finding) if !twin_crashed => Next::Finding(Box::new(finding)),
                _ => {
                    self.stats.unjudged += 1;
                    Next::Done
                }
            };
        };
        match self.assessed(&case.plan.steps[i], answered) {
            Assessed::Finding(finding) => self.judged(case, *finding),
            Assessed::Conforms | Assessed::Inconclusive if i + 1 < case.plan.steps.len() => {
                Next::Step(i + 1)
            }
            _ => Next::Done,
        }
    }

    /// A finding of `case`, once what it rests on is checked: a refusal of
    /// a valid request only where the base request was accepted; a 5xx
    /// only where the same content correctly signed gets none (the twin
    /// is sent where the content is not the base's).
    fn judged(&mut self, case: &mut Live, finding: Finding) -> Next {
        match finding.kind {
            Kind::RefusedValid if !self.base_accepted => {
                self.stats.unjudged += 1;
                Next::Done
            }
            Kind::ServerError
                if self.forge.content(case.plan.chosen()) != self.forge.base_content =>
            {
                match self.forge.twin(&finding.step, self.session.target_now_ms()) {
                    Ok(twin) => {
                        case.crashed = Some(finding);
                        Next::Twin(Box::new(twin))
                    }
                    Err(_) => {
                        self.stats.unjudged += 1;
                        Next::Done
                    }
                }
            }
            _ => Next::Finding(Box::new(finding)),
        }
    }

    /// [`assess`] with this run's oracle, margin and refusal statuses,
    /// counted.
    fn assessed(&mut self, planned: &Planned, answered: &Answered) -> Assessed {
        let stats = &mut self.stats;
        let assessed = assess(
            &self.oracle,
            &planned.step,
            planned.acceptable,
            answered,
            &self.session.refusals,
            &mut |r| stats.count(r),
        );
        if matches!(assessed, Assessed::Inconclusive) {
            self.stats.inconclusive += 1;
        }
        assessed
    }

    /// Whether the target still answers the base request.
    async fn still_answers(&self) -> bool {
        let b = self.forge.builder();
        self.session.still_answers(b, b.base_body()).await.is_none()
    }

    /// Sends the case of `ops` again, its steps in order (and its twin
    /// after a 5xx), and returns the finding of `kind` it makes, if it
    /// makes one.
    pub(crate) async fn reproduce(&mut self, ops: &[Chosen], kind: Kind) -> Option<Finding> {
        let plan = self.plan(ops)?;
        let mut case = Live {
            plan,
            at_request: 0,
            crashed: None,
        };
        let mut step = Some(0);
        let mut twin: Option<Step> = None;
        loop {
            let answered = match (&twin, step) {
                (Some(t), _) => send(self.session.clone(), t.clone(), 1, Duration::ZERO).await,
                (None, Some(i)) => {
                    let planned = case.plan.steps[i].clone();
                    send(
                        self.session.clone(),
                        planned.step,
                        planned.copies,
                        planned.pause,
                    )
                    .await
                }
                (None, None) => return None,
            };
            self.stats.minimising += answered.answers.len() as u64;
            let which = if twin.is_some() { None } else { step };
            match self.after(&mut case, which, &answered) {
                Next::Step(i) => step = Some(i),
                Next::Twin(t) => twin = Some(*t),
                Next::Finding(f) => return (f.kind == kind).then_some(*f),
                Next::Done => return None,
            }
        }
    }
}

/// What the run does next with a case (a step and a finding boxed: they
/// carry a request and its answer, many times the size of an index).
enum Next {
    /// Sends its step.
    Step(usize),
    /// Sends the twin of its 5xx.
    Twin(Box<Step>),
    /// Records its finding.
    Finding(Box<Finding>),
    /// Nothing: it is over.
    Done,
}
