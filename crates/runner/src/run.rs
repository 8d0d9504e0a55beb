//! The runner's one way in: [`run`] resolves nothing (the deployment and
//! the options come resolved) and probes each instance of a deployment
//! in four steps: it learns the deployment (`learn.rs`: the body it
//! accepts, how it refuses); sends the cases that expect acceptance; then
//! the others, a category at a time, each judged against its twin (a
//! refusal counts only where the same request unchanged was accepted),
//! checking after each category that the target still answers; and last
//! the cases whose steps carry state (the key lifecycle, timing, the
//! cross-instance replay), one at a time. [`list`] and [`controls`] read
//! the same catalog without sending anything.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sigconform_core::time::{Clock, SystemClock};

use crate::catalog::catalog;
use crate::deployment::{Deployment, Progress, RunOptions};
use crate::error::RunError;
use crate::judge::{self, Session};
use crate::probe::{Builder, Expect, Probe, Sequence};
use crate::rules::Cited;
use crate::transport::{Answer, ClockEstimate, MIN_MARGIN_MS, Target, Transport};
use crate::verdict::{CaseResult, Outcome, Run};
use crate::{disclosure, learn, lifecycle, timing};

/// A finished run of a deployment.
#[derive(Debug, Clone)]
pub struct Report {
    /// Each instance's run, in the order the deployment lists them. The
    /// cross-instance case is the first instance's.
    pub instances: Vec<Instance>,
}

/// One instance's run.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Its URL.
    pub target: String,
    /// Every case, judged.
    pub run: Run,
    /// How long its run took.
    pub elapsed: std::time::Duration,
}

/// Runs the catalog against every instance of `deployment`, in turn.
pub async fn run(deployment: &Deployment, options: &RunOptions) -> Result<Report, RunError> {
    if deployment.targets.is_empty() {
        return Err(RunError::NoTarget);
    }
    let mut instances = Vec::with_capacity(deployment.targets.len());
    for (instance, target) in deployment.targets.iter().enumerate() {
        let started = Instant::now();
        let run = run_instance(deployment, options, instance).await?;
        instances.push(Instance {
            target: target.clone(),
            run,
            elapsed: started.elapsed(),
        });
    }
    Ok(Report { instances })
}

/// The run against the deployment's instance `instance`.
async fn run_instance(
    deployment: &Deployment,
    options: &RunOptions,
    instance: usize,
) -> Result<Run, RunError> {
    let Ready {
        mut session,
        builder: b,
        target,
        clock,
        learned,
    } = ready(deployment, options, instance).await?;
    session.disclosures = Some(Arc::new(disclosure::Refusals::new(&b)));
    let probes = catalog(&b);
    // Probes that write one resource run one at a time: with several
    // writes in flight, what a probe finds (the object, or a store
    // half-way through replacing it) would depend on the order the target
    // happened to apply them, and so would its verdict.
    let concurrency = if b.keeps_what_it_is_sent() {
        1
    } else {
        options.concurrency
    };
    let session = Arc::new(session);
    let progress = Counter::new(options, probes.len());
    let mut results = judge_in_turn(&b, &session, probes, &learned, concurrency, &progress).await;
    if let Some(disclosures) = &session.disclosures {
        disclosures.fold(&mut results);
    }
    remove_what_was_written(&b, &session).await;
    let mut lines = learned.lines;
    lines.extend(learn::methods(&b, &results));
    Ok(Run {
        clock,
        insecure: target.is_tls() && options.tls.insecure,
        learned: lines,
        notes: Vec::new(),
        results,
    })
}

/// Every case id with its description, for a target at the root of
/// `sigconform.test`.
pub fn list(
    deployment: &Deployment,
    options: &RunOptions,
) -> Result<Vec<(String, String)>, RunError> {
    Ok(catalog_for(deployment, options, "http://sigconform.test")?
        .into_iter()
        .map(|p| (p.id, p.description))
        .collect())
}

/// The catalog for `target`, built now; nothing is sent.
fn catalog_for(
    deployment: &Deployment,
    options: &RunOptions,
    target: &str,
) -> Result<Vec<Probe>, RunError> {
    let target = Target::parse(target)?;
    let b = Builder::new(
        deployment,
        options,
        &target,
        SystemClock.now_ms(),
        MIN_MARGIN_MS,
    )?;
    Ok(catalog(&b))
}

/// A case of the catalog, with what proves it changes one property.
#[derive(Debug, Clone)]
pub struct CaseControl {
    /// The case id.
    pub id: String,
    /// Whether the case expects a rejection.
    pub negative: bool,
    /// The rule it checks (`docs/rules/`).
    pub rule: Cited,
    /// The deliberate defect that ignores exactly the property the case
    /// changes (a server with it must accept the case), or why no defect
    /// does.
    pub control: Result<sigconform_defects::Defect, &'static str>,
    /// Why the case does not apply to a target at the root (`skip`).
    pub skip: Option<String>,
}

/// Every case of the catalog for `target` with its control (a control
/// may name the target's paths and host; nothing is sent).
pub fn controls(
    deployment: &Deployment,
    options: &RunOptions,
    target: &str,
) -> Result<Vec<CaseControl>, RunError> {
    Ok(catalog_for(deployment, options, target)?
        .into_iter()
        .map(|p| CaseControl {
            negative: p.is_negative(),
            id: p.id,
            rule: p.rule,
            control: p.control,
            skip: p.skip,
        })
        .collect())
}

/// A session with `target`: its transport, checked to answer at all, and
/// the run's limits.
async fn connect(options: &RunOptions, target: &str) -> Result<Session, RunError> {
    let target = Target::parse(target)?;
    let transport = Transport::new(target.clone(), &options.tls)?;
    // One reachability check up front: an unreachable target (or one whose
    // certificate is not trusted) is one error, not a hundred. A target that
    // accepts connections but answers badly is judged case by case (each
    // ends as `error`).
    let check = http::Request::get(target.path_and_query())
        .body(Bytes::new())
        .map_err(|_| RunError::Target(target.url().to_owned()))?;
    let sent = tokio::time::Instant::now();
    let answer = transport.send(&check, options.timeout).await;
    if let Answer::Refused(e) = &answer {
        let e = e.clone();
        let url = target.url().to_owned();
        return Err(match (certificate_problem(&e), &options.tls.ca_cert) {
            (Some(reason), None) => RunError::Certificate(url, reason),
            (Some(reason), Some(file)) => {
                RunError::CertificateWithCaFile(url, reason, file.display().to_string())
            }
            (None, _) => RunError::Unreachable(url, e),
        });
    }
    let session = Session {
        transport,
        timeout: options.timeout,
        deadline: tokio::time::Instant::now() + options.deadline,
        from_env: options.values_from_env(),
        tls: options.tls.clone(),
        offset_ms: 0,
        margin_ms: MIN_MARGIN_MS,
        refusals: Vec::new(),
        disclosures: None,
        sent: Arc::default(),
    };
    session.record(
        "the runner's reachability check (an unsigned GET)",
        sent,
        &answer,
    );
    Ok(session)
}

/// What is wrong with a certificate, in words, from a TLS error (rustls
/// names the reasons by their variants); `None` for an error about
/// something else.
fn certificate_problem(error: &str) -> Option<String> {
    let (_, detail) = error.split_once("invalid peer certificate: ")?;
    let detail = detail.trim();
    Some(if detail.contains("UnknownIssuer") {
        "it was issued by a CA that is not trusted".to_owned()
    } else if detail.contains("CaUsedAsEndEntity") {
        "it is a CA certificate (CA:TRUE, as `openssl req -x509` makes one) used as the server's own".to_owned()
    } else if detail.contains("NotValidForName") || detail.contains("not valid for name") {
        format!("it does not name the host ({detail})")
    } else if detail.contains("Expired") || detail.contains("expired") {
        format!("it has expired ({detail})")
    } else if detail.contains("NotValidYet") || detail.contains("not valid yet") {
        format!("it is not valid yet ({detail})")
    } else {
        detail.to_owned()
    })
}

/// A target made ready to judge: connected, its clock estimated and
/// checked against the window, and its deployment learned (`learn.rs`).
/// The catalog and the fuzzer both start here: one way to describe a
/// deployment.
pub(crate) struct Ready<'a> {
    /// The run's session, its clock offset, margin and refusal statuses set.
    pub(crate) session: Session,
    /// What builds every request to it: the scheme made once, "now" the
    /// target's clock when the learning started, the bodies as learned.
    pub(crate) builder: Builder<'a>,
    /// The target.
    pub(crate) target: Target,
    /// The target's clock.
    pub(crate) clock: ClockEstimate,
    /// What was learned of the deployment.
    pub(crate) learned: learn::Learned,
}

/// Connects to the deployment's instance `instance`, estimates its clock
/// (refusing one further off than the window) and learns the deployment.
pub(crate) async fn ready<'a>(
    deployment: &'a Deployment,
    options: &'a RunOptions,
    instance: usize,
) -> Result<Ready<'a>, RunError> {
    let target = deployment.targets.get(instance).ok_or(RunError::NoTarget)?;
    let mut session = connect(options, target).await?;
    let target = session.transport.target.clone();
    let clock = session.transport.estimate_clock(options.timeout).await;
    let target_now = SystemClock.now_ms().saturating_add_signed(clock.offset_ms);
    let builder = Builder::new(deployment, options, &target, target_now, clock.margin_ms())?
        .for_instance(instance);
    within_the_window(&builder, &target, &clock)?;
    session.deadline = tokio::time::Instant::now() + options.deadline + slow_wait(&builder);
    session.offset_ms = clock.offset_ms;
    session.margin_ms = clock.margin_ms();
    session.refusals = deployment.reject_statuses.clone();
    let learned = learn::learn(&builder, &session).await;
    session.refusals = learned.refusals.clone();
    Ok(Ready {
        session,
        builder: builder.with_bodies(learned.bodies.clone()),
        target,
        clock,
        learned,
    })
}

/// How many cases have finished, told to the run's progress hook.
#[derive(Clone)]
struct Counter {
    finished: Arc<std::sync::atomic::AtomicUsize>,
    total: usize,
    hook: Option<Progress>,
}

impl Counter {
    fn new(options: &RunOptions, total: usize) -> Counter {
        Counter {
            finished: Arc::default(),
            total,
            hook: options.progress.clone(),
        }
    }

    /// One more case finished.
    fn finished(&self) {
        let done = self
            .finished
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        if let Some(Progress(hook)) = &self.hook {
            hook(done, self.total);
        }
    }
}

/// Sends the cases that expect acceptance, then the others a category at
/// a time, each judged against its twin; after each category a correctly
/// signed request must still be answered, and once one is not, the
/// remaining cases are not sent (`unjudged`). Then the sequences, one at a
/// time. Every result in catalog order.
async fn judge_in_turn(
    b: &Builder<'_>,
    session: &Arc<Session>,
    probes: Vec<Probe>,
    learned: &learn::Learned,
    concurrency: usize,
    progress: &Counter,
) -> Vec<CaseResult> {
    let mut results: Vec<(usize, CaseResult)> = Vec::with_capacity(probes.len());
    let mut sequences = Vec::new();
    let mut built = Vec::new();
    for (index, probe) in probes.into_iter().enumerate() {
        match probe.sequence() {
            Some(sequence) => sequences.push((index, sequence, probe)),
            None => built.push((index, probe)),
        }
    }
    let (twins_first, rest): (Vec<_>, Vec<_>) =
        built.into_iter().partition(|(_, p)| p.expects_acceptance());
    let stopped = learned.stopped.clone();
    let mut watch = learn::Watch::new(b);
    if stopped.is_none() {
        results.extend(execute_all(concurrency, session, twins_first, None, progress).await);
    } else {
        results.extend(not_sent(twins_first, stopped.as_deref(), progress));
    }
    let twins = Arc::new(judge::Twins::new(
        learned.refused.clone(),
        results.iter().map(|(_, r)| r),
    ));
    // The cases that wait (a replay after a pause) wait beside the others
    // rather than hold up the categories after theirs.
    let (waiting, rest): (Vec<_>, Vec<_>) = rest.into_iter().partition(|(_, p)| p.waits());
    let waited = async {
        match &stopped {
            Some(why) => not_sent(waiting, Some(why), progress),
            None => execute_all(concurrency, session, waiting, Some(twins.clone()), progress).await,
        }
    };
    let in_turn = async {
        let mut results = Vec::new();
        let mut stopped = stopped.clone();
        for group in by_category(rest) {
            if stopped.is_some() {
                results.extend(not_sent(group, stopped.as_deref(), progress));
                continue;
            }
            let category = group[0].1.category;
            results.extend(
                execute_all(concurrency, session, group, Some(twins.clone()), progress).await,
            );
            stopped = watch.after(category, session, learned.bodies.base()).await;
        }
        (results, stopped)
    };
    let (waited, (judged, stopped)) = tokio::join!(waited, in_turn);
    results.extend(waited);
    results.extend(judged);
    let state = Stopped {
        learned,
        watch: &watch,
        stopped: stopped.as_deref(),
    };
    results.extend(run_sequences(b, session, sequences, &state, progress).await);
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Whether and where the target stopped answering, when the sequences
/// start.
struct Stopped<'a, 'b> {
    learned: &'a learn::Learned,
    watch: &'a learn::Watch<'b>,
    stopped: Option<&'a str>,
}

/// The cases whose steps carry state, one at a time, after the others.
/// Where the target stopped answering, only the case that says so is
/// judged; the others are not sent.
async fn run_sequences(
    b: &Builder<'_>,
    session: &Session,
    sequences: Vec<(usize, Sequence, Probe)>,
    state: &Stopped<'_, '_>,
    progress: &Counter,
) -> Vec<(usize, CaseResult)> {
    let mut results = Vec::new();
    let mut lifecycle = Vec::new();
    for (index, sequence, probe) in sequences {
        let case = match sequence {
            Sequence::KeepsAnswering => state.watch.case(probe.id, state.learned, state.stopped),
            Sequence::Lifecycle => {
                lifecycle.push((index, probe));
                continue;
            }
            _ if state.stopped.is_some() => {
                results.extend(not_sent(vec![(index, probe)], state.stopped, progress));
                continue;
            }
            Sequence::Timing => timing::timing_case(b, session).await,
            Sequence::CrossInstance => cross_instance(b, probe).await,
        };
        progress.finished();
        results.push((index, case));
    }
    results.extend(key_lifecycle(b, session, lifecycle, state.stopped, progress).await);
    results
}

/// The key lifecycle's cases: one pass of the lifecycle through the admin
/// API answers each (its steps depend on the ones before: it runs whole
/// where any of its cases is selected).
async fn key_lifecycle(
    b: &Builder<'_>,
    session: &Session,
    cases: Vec<(usize, Probe)>,
    stopped: Option<&str>,
    progress: &Counter,
) -> Vec<(usize, CaseResult)> {
    let Some(access) = b.deployment.admin.as_ref().filter(|_| !cases.is_empty()) else {
        return Vec::new();
    };
    if stopped.is_some() {
        return not_sent(cases, stopped, progress);
    }
    let mut answered = lifecycle::cases(b, session, access).await;
    cases
        .into_iter()
        .filter_map(|(index, probe)| {
            progress.finished();
            let at = answered.iter().position(|r| r.id == probe.id)?;
            Some((index, answered.swap_remove(at)))
        })
        .collect()
}

/// `probes` grouped by category, in catalog order.
fn by_category(probes: Vec<(usize, Probe)>) -> Vec<Vec<(usize, Probe)>> {
    let mut groups: Vec<Vec<(usize, Probe)>> = Vec::new();
    for (index, probe) in probes {
        match groups
            .iter_mut()
            .find(|g| g[0].1.category == probe.category)
        {
            Some(group) => group.push((index, probe)),
            None => groups.push(vec![(index, probe)]),
        }
    }
    groups
}

/// The same request to every instance of the deployment: accepted by the
/// first, it must be refused by every other (a nonce store of each
/// instance's own lets it through). Every instance is sent the same bytes,
/// `Host` and path included (the first instance's).
async fn cross_instance(b: &Builder<'_>, probe: Probe) -> CaseResult {
    let mut result = CaseResult::new(
        probe.id,
        probe.category,
        probe.description,
        Outcome::Pass,
        "first instance 2xx, every other 4xx",
        "",
    );
    result.rule = probe.rule;
    let step = match b.step(&b.probe_request(), &b.recipe(b.now), Expect::Accept) {
        Ok(step) => step,
        Err(reason) => {
            result.outcome = Outcome::Error;
            result.observed = format!("not sent: {reason}");
            return result;
        }
    };
    let mut observed = Vec::new();
    for (i, target) in b.deployment.targets.iter().enumerate() {
        let session = match connect(b.options, target).await {
            Ok(session) => session,
            Err(e) => {
                result.outcome = Outcome::Error;
                observed.push(format!("{target}: {e}"));
                continue;
            }
        };
        let exchange = session.exchange(&step).await;
        let expect = if i == 0 {
            Expect::Accept
        } else {
            Expect::Reject
        };
        let outcome = judge::judge(expect, &exchange.answer);
        observed.push(match exchange.answer.response() {
            Some(r) => format!("{target}: {}", r.status),
            None => format!("{target}: {}", exchange.answer.describe()),
        });
        if outcome != Outcome::Pass && result.outcome == Outcome::Pass {
            let replay = session.replay(&step);
            result.outcome = outcome;
            result.detail = format!("canonical string signed: {:?}", step.canonical);
            result.reproduce = replay.command();
            result.request = replay.as_sent(4096);
            result.replay = Some(replay);
        }
    }
    result.observed = observed.join("; ");
    result
}

/// `probes`, not sent because the target stopped answering.
fn not_sent(
    probes: Vec<(usize, Probe)>,
    stopped: Option<&str>,
    progress: &Counter,
) -> Vec<(usize, CaseResult)> {
    let why = format!(
        "not sent: the target stopped answering ({})",
        stopped.unwrap_or("")
    );
    probes
        .into_iter()
        .map(|(index, probe)| {
            progress.finished();
            let mut case = CaseResult::new(
                probe.id,
                probe.category,
                probe.description,
                Outcome::Unjudged,
                "a target that answers",
                why.clone(),
            );
            case.rule = probe.rule;
            case.unjudged = Some("the target stopped answering".into());
            (index, case)
        })
        .collect()
}

/// Where the probes write a resource (an S3 object, which every accepted
/// PUT replaces), a signed DELETE of it once the run is over; its answer
/// judges nothing.
pub(crate) async fn remove_what_was_written(b: &Builder<'_>, session: &Session) {
    if !b.writes_a_resource() {
        return;
    }
    let now = b.unit.from_ms(session.target_now_ms());
    let delete = b.base("DELETE", false);
    if let Ok(step) = b.step(&delete, &b.recipe(now), Expect::Either) {
        let _ = session.exchange(&step).await;
    }
}

/// How much longer `--slow` makes the run: its replay near the end of the
/// window waits for most of the window (none where there is no past
/// limit).
fn slow_wait(b: &Builder<'_>) -> Duration {
    let window = b.scheme.window();
    if !b.options.slow || window.past == u64::MAX {
        return Duration::ZERO;
    }
    Duration::from_millis(window.unit.to_ms(window.past))
}

/// A target whose clock is off by more than the scheme's window cannot be
/// probed at its limits: refused up front.
fn within_the_window(
    b: &Builder<'_>,
    target: &Target,
    clock: &ClockEstimate,
) -> Result<(), RunError> {
    let window = b.scheme.window();
    let off_by = clock
        .offset_ms
        .unsigned_abs()
        .saturating_sub(clock.uncertainty_ms.unwrap_or(0));
    if off_by > window.unit.to_ms(window.past.min(window.future)) {
        return Err(RunError::ClockOff {
            target: target.url().into(),
            offset_ms: clock.offset_ms,
            uncertainty_ms: clock.uncertainty_ms.unwrap_or(0),
        });
    }
    Ok(())
}

/// Runs every probe, at most `concurrency` at once (a probe's steps in
/// order), each judged against its twin where `twins` are given; each
/// result with its probe's index.
async fn execute_all(
    concurrency: usize,
    session: &Arc<Session>,
    probes: Vec<(usize, Probe)>,
    twins: Option<Arc<judge::Twins>>,
    progress: &Counter,
) -> Vec<(usize, CaseResult)> {
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, probe) in probes {
        let (session, slots, twins, progress) = (
            session.clone(),
            slots.clone(),
            twins.clone(),
            progress.clone(),
        );
        tasks.spawn(async move {
            let _slot = slots
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            let result = session.execute(probe, twins.as_deref()).await;
            progress.finished();
            (index, result)
        });
    }
    tasks.join_all().await
}
