//! The black-box runner: probes a server for correct acceptance, tamper
//! rejection, expiry, clock skew, replay, malformed input and key handling.
//!
//! The runner knows schemes only through [`Scheme`](sigconform_core::scheme::Scheme).
//! What a scheme covers is discovered, not listed: a component is covered
//! when changing it changes the canonical string ([`covers`]), so an
//! accepted change to a covered component is a `fail`, while one to an
//! uncovered component is the scheme's documented weakness (`warn`).
//! Probes are built with the same [`Recipe`]s the
//! vectors use.
//!
//! One file per concern:
//!
//! | file | what |
//! |---|---|
//! | `probe.rs` | what a probe is; the `Builder` the category files use |
//! | `acceptance.rs`, `tamper.rs`, `window.rs` (expiry and skew), `replay.rs`, `malformed.rs`, `keys.rs` with `lifecycle.rs`, `timing.rs` | the probes of each category |
//! | `catalog.rs` | the catalog: the categories' probes, in order |
//! | `transport.rs` | HTTP, raw TCP, the target's clock |
//! | `judge.rs` | answers into outcomes |
//! | [`report`] | one file per report format, and the reproduction commands |

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use sigconform_core::keys::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::SchemeConfig;
use sigconform_core::time::{Clock, SystemClock};

mod acceptance;
mod base;
mod canonical;
mod catalog;
mod coverage;
mod decoding;
mod disclosure;
pub mod expect;
pub mod fuzz;
mod judge;
mod keys;
mod learn;
mod lifecycle;
mod malformed;
mod payload;
mod presigned;
mod probe;
mod readback;
mod replay;
pub mod report;
mod rules;
mod scope;
mod shapes;

pub use rules::Cited;
mod tamper;
mod timing;
mod transport;
mod window;

pub use base::Body;
pub use lifecycle::{AdminAccess, REVOCATION_GRACE};
pub use probe::covers;
pub use replay::REPLAY_PAUSE;
pub use report::Counts;
pub use report::html::{render_html, render_html_judged};
pub use report::json::{render_json, render_json_judged};
pub use report::junit::{render_junit, render_junit_judged};
pub use report::text::{TextOptions, render_text};
pub use timing::{TIMING_SAMPLES, welch_t};
pub use transport::ClockEstimate;

use bytes::Bytes;
use catalog::catalog;
pub use report::reproduce::{Destination, Files, FromEnv, Replay};
pub use transport::{Target, TlsOptions};

use judge::Session;
use probe::{Builder, Expect, Probe};
use timing::timing_case;
use transport::{Answer, MIN_MARGIN_MS, Transport};

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

/// The largest body the runner sends by default: past a 1 MiB buffer.
pub const DEFAULT_MAX_BODY: usize = 2 * 1024 * 1024;

/// How a run is set up.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The scheme the target verifies.
    pub scheme: SchemeRef,
    /// Scheme settings (windows, header names, endpoint).
    pub scheme_config: SchemeConfig,
    /// The key id to sign with.
    pub key_id: String,
    /// The secret of that key.
    pub secret: Secret,
    /// Time limit for each request.
    pub timeout: Duration,
    /// Only cases whose id matches one of these globs (all when empty).
    pub only: Vec<glob::Pattern>,
    /// Leave out cases whose id matches one of these globs.
    pub skip: Vec<glob::Pattern>,
    /// The methods the acceptance cases use, each of which must be
    /// accepted. When empty, the scheme's (an endpoint's senders' methods;
    /// GET, POST, PUT, DELETE for an API), and a method the target does not
    /// route makes its case `skip`.
    pub methods: Vec<http::Method>,
    /// Whether the target URL is one route that every probe goes to
    /// exactly (`Some(true)`), or a path the probes go below
    /// (`Some(false)`). `None`: a fixed route for schemes delivered to one
    /// endpoint (`webhook`, `quable`), a path for APIs.
    pub fixed_route: Option<bool>,
    /// How an `https` target's certificate is trusted.
    pub tls: TlsOptions,
    /// Headers every request carries (a gateway's tenant id or token).
    pub extra_headers: Vec<ExtraHeader>,
    /// How many cases run at once (one where they write a resource: see
    /// [`run`]).
    pub concurrency: usize,
    /// Limit for the whole run; cases not finished by then are `error`.
    pub deadline: Duration,
    /// Also run the timing case (advisory; sends `2 * TIMING_SAMPLES` requests,
    /// twice that when the first batch is over the threshold).
    pub timing: bool,
    /// Also replay a request near the end of the window (waits for most
    /// of it: the run's deadline must be longer than the window).
    pub slow: bool,
    /// Told how many cases have finished, out of how many, as they finish.
    pub progress: Option<Progress>,
    /// The target's key lifecycle API, for the lifecycle cases (`keys`).
    pub admin: Option<AdminAccess>,
    /// A key the target knows but must refuse on one route, for
    /// `keys/key-not-allowed`.
    pub denied_key: Option<DeniedKey>,
    /// An admin-only route of the target (seed 001), for `keys/admin-route`:
    /// the runner's own key, not an admin key, must get 403 there.
    pub admin_path: Option<String>,
    /// The body the target needs (`--body-file`: an event in its
    /// provider's envelope): the runner signs it and makes its variations
    /// inside it. `None`: a profile's sample, else the runner's own.
    pub body: Option<Body>,
    /// Statuses the target refuses with besides 4xx answers about the
    /// signature (`--reject-status 404` for a verifier that hides its
    /// route). Empty: learned, where the target's answers show them.
    pub reject_statuses: Vec<u16>,
    /// Probe a fixed route with a query of the runner's own too (the
    /// route does not match the URL exactly). Without it a fixed route
    /// gets a query only where the scheme signs the query.
    pub with_query: bool,
    /// A path (and query) on the target that a GET reads what the target
    /// kept of the last request it accepted from: every refused write is
    /// read back (it must change nothing), and an accepted one must be kept
    /// exactly as signed. S3 objects are read back without it.
    pub read_back: Option<String>,
    /// The largest body the runner sends, in bytes: the `shape` cases past
    /// read buffers larger than this are left out.
    pub max_body: usize,
}

impl RunConfig {
    /// A run of the whole catalog signed by `key_id` with `secret`, with the
    /// scheme's default settings, a 5 s request timeout, a 60 s deadline,
    /// 8 cases at a time, and no optional cases.
    pub fn new(
        scheme: impl Into<SchemeRef>,
        key_id: impl Into<String>,
        secret: Secret,
    ) -> RunConfig {
        RunConfig {
            scheme: scheme.into(),
            scheme_config: SchemeConfig::default(),
            key_id: key_id.into(),
            secret,
            timeout: Duration::from_secs(5),
            only: Vec::new(),
            skip: Vec::new(),
            methods: Vec::new(),
            concurrency: 8,
            deadline: Duration::from_secs(60),
            timing: false,
            slow: false,
            progress: None,
            admin: None,
            denied_key: None,
            admin_path: None,
            fixed_route: None,
            tls: TlsOptions::default(),
            extra_headers: Vec::new(),
            body: None,
            reject_statuses: Vec::new(),
            with_query: false,
            read_back: None,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// The extra headers whose values came from the environment: reports
    /// and commands name the variable, never the value.
    fn values_from_env(&self) -> Vec<report::reproduce::FromEnv> {
        self.extra_headers
            .iter()
            .filter_map(|h| {
                Some(report::reproduce::FromEnv {
                    name: h.name.as_str().to_owned(),
                    var: h.from_env.clone()?,
                    value: h.value.expose().to_owned(),
                })
            })
            .collect()
    }
}

/// A header every request of a run carries, in front of the signature
/// (for a gateway that wants a tenant id, a bearer token or basic auth).
#[derive(Debug, Clone)]
pub struct ExtraHeader {
    /// Its name.
    pub name: http::HeaderName,
    /// Its value.
    pub value: Secret,
    /// The environment variable the value came from; such a value is
    /// redacted like the secret (commands read the variable instead).
    pub from_env: Option<String>,
}

/// A key the target knows (its signatures verify) but must not accept on
/// `path`: seed 001's `allowed_key_ids` leaves it out there.
#[derive(Debug, Clone)]
pub struct DeniedKey {
    /// Its id.
    pub key_id: String,
    /// Its secret.
    pub secret: Secret,
    /// A path (and query) the target restricts to other keys.
    pub path: String,
}

/// A progress callback: `(finished, total)` cases.
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(usize, usize) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
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
    /// marked by [`expect::Expectations::annotate`], absent without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expectation: Option<expect::Judged>,
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

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scheme configuration is unusable.
    #[error(transparent)]
    Config(#[from] sigconform_core::scheme::ConfigError),
    /// The target URL is not an absolute http or https URL.
    #[error("target `{0}` is not an http:// or https:// URL (host, optional port, path and query)")]
    Target(String),
    /// The TLS client cannot be set up.
    #[error("TLS: {0}")]
    Tls(String),
    /// The `--ca-cert` file cannot be used.
    #[error("--ca-cert {0}: {1}")]
    CaCert(String, String),
    /// The target's certificate is not trusted.
    #[error(
        "target {0}: its TLS certificate is not trusted: {1}; pass --ca-cert FILE with the CA that issued it or the certificate itself, or --insecure for a staging server"
    )]
    Certificate(String, String),
    /// The target's certificate is not trusted, even with the `--ca-cert`
    /// file.
    #[error("target {0}: its TLS certificate is not trusted with --ca-cert {2}: {1}")]
    CertificateWithCaFile(String, String, String),
    /// The target does not answer at all.
    #[error("target {0} cannot be reached: {1}")]
    Unreachable(String, String),
    /// The target's clock is further off than its window: every boundary
    /// case would be meaningless.
    #[error(
        "target {target} clock is off by {offset_ms} ms (±{uncertainty_ms} ms), more than its window allows; fix its clock or pass --tolerance"
    )]
    ClockOff {
        /// The target.
        target: String,
        /// Target clock minus ours.
        offset_ms: i64,
        /// How sure the estimate is.
        uncertainty_ms: u64,
    },
}

/// A random number from the OS-seeded hasher keys (no extra dependency;
/// it has to differ between runs and be unguessable to other local users,
/// not to be a cryptographic key).
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(SystemClock.now_ms());
    h.finish()
}

/// Every case id with its description (the lifecycle cases too, when the
/// admin API is given), for a target at the root of `sigconform.test`.
pub fn list(config: &RunConfig) -> Result<Vec<(String, String)>, RunError> {
    let now_ms = SystemClock.now_ms();
    let target = Target::parse("http://sigconform.test")?;
    let b = Builder::new(config, &target, now_ms, MIN_MARGIN_MS)?;
    let mut cases: Vec<(String, String)> = catalog(&b)
        .into_iter()
        .map(|p| (p.id, p.description))
        .collect();
    let answering = learn::answering_case_id(&b);
    if catalog::selected(config, &answering) {
        cases.push((answering, learn::ANSWERING.to_owned()));
    }
    if config.admin.is_some() && b.has_key_ids() {
        cases.extend(lifecycle::selected(config));
    }
    Ok(cases)
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
pub fn controls(config: &RunConfig, target: &str) -> Result<Vec<CaseControl>, RunError> {
    let target = Target::parse(target)?;
    let b = Builder::new(config, &target, SystemClock.now_ms(), MIN_MARGIN_MS)?;
    Ok(catalog(&b)
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
async fn connect(config: &RunConfig, target: &str) -> Result<Session, RunError> {
    let target = Target::parse(target)?;
    let transport = Transport::new(target.clone(), &config.tls)?;
    // One reachability check up front: an unreachable target (or one whose
    // certificate is not trusted) is one error, not a hundred. A target that
    // accepts connections but answers badly is judged case by case (each
    // ends as `error`).
    let check = http::Request::get(target.path_and_query())
        .body(Bytes::new())
        .map_err(|_| RunError::Target(target.url().to_owned()))?;
    let sent = tokio::time::Instant::now();
    let answer = transport.send(&check, config.timeout).await;
    if let Answer::Refused(e) = &answer {
        let e = e.clone();
        let url = target.url().to_owned();
        return Err(match (certificate_problem(&e), &config.tls.ca_cert) {
            (Some(reason), None) => RunError::Certificate(url, reason),
            (Some(reason), Some(file)) => {
                RunError::CertificateWithCaFile(url, reason, file.display().to_string())
            }
            (None, _) => RunError::Unreachable(url, e),
        });
    }
    let session = Session {
        transport,
        timeout: config.timeout,
        deadline: tokio::time::Instant::now() + config.deadline,
        from_env: config.values_from_env(),
        tls: config.tls.clone(),
        offset_ms: 0,
        margin_ms: MIN_MARGIN_MS,
        refusals: config.reject_statuses.clone(),
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

/// Runs the catalog against `target`: a URL whose path the probes go
/// below, or, for a fixed route, to (see [`RunConfig::fixed_route`]).
///
/// In three steps: the runner learns the deployment (`learn.rs`: the body
/// it accepts, how it refuses); sends the cases that expect acceptance;
/// then the others, a category at a time, each judged against its twin
/// (a refusal counts only where the same request unchanged was accepted),
/// checking after each category that the target still answers.
pub async fn run(config: &RunConfig, target: &str) -> Result<Run, RunError> {
    let Ready {
        mut session,
        target,
        clock,
        target_now,
        learned,
    } = ready(config, target).await?;
    let b = Builder::new(config, &target, target_now, clock.margin_ms())?
        .with_bodies(learned.bodies.clone());
    session.disclosures = Some(Arc::new(disclosure::Refusals::new(&b)));
    let probes = catalog(&b);
    // Probes that write one resource run one at a time: with several
    // writes in flight, what a probe finds (the object, or a store
    // half-way through replacing it) would depend on the order the target
    // happened to apply them, and so would its verdict.
    let concurrency = if b.keeps_what_it_is_sent() {
        1
    } else {
        config.concurrency
    };
    let session = Arc::new(session);
    let answering = usize::from(catalog::selected(config, &learn::answering_case_id(&b)));
    let progress = Counter::new(
        config,
        probes.len() + answering + usize::from(config.timing),
    );
    let judged = judge_in_turn(&b, &session, probes, &learned, concurrency, &progress).await;
    let mut results = judged.results;
    if let Some(answering) = judged.answering {
        results.push(answering);
    }
    if judged.stopped.is_none() {
        results.extend(after_the_catalog(&b, &session, &progress).await);
    }
    if let Some(disclosures) = &session.disclosures {
        disclosures.fold(&mut results);
    }
    remove_what_was_written(&b, &session).await;
    let mut lines = learned.lines;
    lines.extend(learn::methods(&b, &results));
    Ok(Run {
        clock,
        insecure: target.is_tls() && config.tls.insecure,
        learned: lines,
        notes: Vec::new(),
        results,
    })
}

/// A target made ready to judge: connected, its clock estimated and
/// checked against the window, and its deployment learned (`learn.rs`).
/// The catalog and the fuzzer both start here: one way to describe a
/// deployment.
pub(crate) struct Ready {
    /// The run's session, its clock offset, margin and refusal statuses set.
    pub(crate) session: Session,
    /// The target.
    pub(crate) target: Target,
    /// The target's clock.
    pub(crate) clock: ClockEstimate,
    /// The target's clock when the learning started, in milliseconds.
    pub(crate) target_now: u64,
    /// What was learned of the deployment.
    pub(crate) learned: learn::Learned,
}

/// Connects to `target`, estimates its clock (refusing one further off
/// than the window) and learns the deployment.
pub(crate) async fn ready(config: &RunConfig, target: &str) -> Result<Ready, RunError> {
    let mut session = connect(config, target).await?;
    let target = session.transport.target.clone();
    let clock = session.transport.estimate_clock(config.timeout).await;
    within_the_window(config, &target, &clock)?;
    let target_now = SystemClock.now_ms().saturating_add_signed(clock.offset_ms);
    session.deadline = tokio::time::Instant::now() + config.deadline;
    session.offset_ms = clock.offset_ms;
    session.margin_ms = clock.margin_ms();
    let learning = Builder::new(config, &target, target_now, clock.margin_ms())?;
    let learned = learn::learn(&learning, &session).await;
    session.refusals = learned.refusals.clone();
    Ok(Ready {
        session,
        target,
        clock,
        target_now,
        learned,
    })
}

/// The cases that run alone after the catalog: the key lifecycle (in
/// order: each step depends on the one before, so all run where
/// `--only`/`--skip` select any, and those selected are reported), then
/// timing (concurrent traffic would drown its signal).
async fn after_the_catalog(
    b: &Builder<'_>,
    session: &Session,
    progress: &Counter,
) -> Vec<CaseResult> {
    let config = b.config;
    let mut results = Vec::new();
    if let Some(access) = &config.admin
        && b.has_key_ids()
        && !lifecycle::selected(config).is_empty()
    {
        for case in lifecycle::cases(b, session, access).await {
            if catalog::selected(config, &case.id) {
                results.push(case);
            }
        }
    }
    if config.timing {
        results.push(timing_case(b, session).await);
        progress.finished();
    }
    results
}

/// How many cases have finished, told to the run's progress hook. (The
/// lifecycle cases are few and quick; progress is not reported for them.)
#[derive(Clone)]
struct Counter {
    finished: Arc<std::sync::atomic::AtomicUsize>,
    total: usize,
    hook: Option<Progress>,
}

impl Counter {
    fn new(config: &RunConfig, total: usize) -> Counter {
        Counter {
            finished: Arc::default(),
            total,
            hook: config.progress.clone(),
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

/// What [`judge_in_turn`] found.
struct Judged {
    /// Every case, in catalog order.
    results: Vec<CaseResult>,
    /// The case that says whether the target kept answering, where it is
    /// selected.
    answering: Option<CaseResult>,
    /// Where the target stopped answering.
    stopped: Option<String>,
}

/// Sends the cases that expect acceptance, then the others a category at
/// a time, each judged against its twin; after each category a correctly
/// signed request must still be answered, and once one is not, the
/// remaining cases are not sent (`unjudged`).
async fn judge_in_turn(
    b: &Builder<'_>,
    session: &Arc<Session>,
    probes: Vec<Probe>,
    learned: &learn::Learned,
    concurrency: usize,
    progress: &Counter,
) -> Judged {
    let mut results: Vec<(usize, CaseResult)> = Vec::with_capacity(probes.len());
    let (twins_first, rest): (Vec<_>, Vec<_>) = probes
        .into_iter()
        .enumerate()
        .partition(|(_, p)| p.expects_acceptance());
    let stopped = learned.stopped.clone();
    let mut watch = learn::Watch::new(b);
    if stopped.is_none() {
        results.extend(execute_all(concurrency, session, twins_first, None, progress).await);
    } else {
        results.extend(not_sent(twins_first, stopped.as_deref(), progress));
    }
    let twins = Arc::new(learn::Twins::new(
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
    results.sort_by_key(|(i, _)| *i);
    let answering = learn::answering_case_id(b);
    let answering = catalog::selected(b.config, &answering).then(|| {
        progress.finished();
        watch.case(answering, learned, stopped.as_deref())
    });
    Judged {
        results: results.into_iter().map(|(_, r)| r).collect(),
        answering,
        stopped,
    }
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
async fn remove_what_was_written(b: &Builder<'_>, session: &Session) {
    if !b.writes_a_resource() {
        return;
    }
    let now = b.unit.from_ms(session.target_now_ms());
    let delete = b.base("DELETE", false);
    if let Ok(step) = b.step(&delete, &b.recipe(now), Expect::Either) {
        let _ = session.exchange(&step).await;
    }
}

/// A target whose clock is off by more than the scheme's window cannot be
/// probed at its limits: refused up front.
fn within_the_window(
    config: &RunConfig,
    target: &Target,
    clock: &ClockEstimate,
) -> Result<(), RunError> {
    let window = config.scheme.build(&config.scheme_config)?.window();
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
    twins: Option<Arc<learn::Twins>>,
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

/// The cross-instance replay case: `targets` are instances of one
/// deployment, so a request accepted by the first must be rejected by every
/// other (a per-instance nonce store lets it through). Every instance is
/// sent the same bytes, `Host` and path included (the first target's).
pub async fn run_cross_instance(
    config: &RunConfig,
    targets: &[String],
) -> Result<Option<CaseResult>, RunError> {
    let [first, others @ ..] = targets else {
        return Ok(None);
    };
    if others.is_empty() {
        return Ok(None);
    }
    let b = Builder::new(
        config,
        &Target::parse(first)?,
        SystemClock.now_ms(),
        MIN_MARGIN_MS,
    )?;
    if !b.has_nonce() {
        return Ok(None); // without nonces, replays inside the window are accepted by design
    }
    let step = b.step(&b.probe_request(), &b.recipe(b.now), Expect::Accept);
    let mut result = CaseResult::new(
        format!("{}/replay/cross-instance", config.scheme),
        Category::Replay,
        "a request accepted by one instance is rejected by the others",
        Outcome::Pass,
        "first instance 2xx, every other 4xx",
        "",
    );
    result.rule = b.cite("nonce-replay");
    let step = match step {
        Ok(step) => step,
        Err(reason) => {
            result.outcome = Outcome::Error;
            result.observed = format!("not sent: {reason}");
            return Ok(Some(result));
        }
    };
    let mut observed = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let session = connect(config, target).await?;
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
    Ok(Some(result))
}
