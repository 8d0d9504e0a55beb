//! The black-box runner: probes a server for correct acceptance, tamper
//! rejection, expiry, clock skew, replay, malformed input and key handling.
//!
//! The runner knows schemes only through [`Scheme`](crate::scheme::Scheme).
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

use serde::Serialize;

use crate::keys::Secret;
use crate::scheme::{SchemeConfig, SchemeId};
use crate::tamper::Recipe;
use crate::time::{Clock, SystemClock};

mod acceptance;
mod catalog;
mod judge;
mod keys;
mod lifecycle;
mod malformed;
mod probe;
mod replay;
pub mod report;
mod tamper;
mod timing;
mod transport;
mod window;

pub use lifecycle::{AdminAccess, REVOCATION_GRACE};
pub use probe::covers;
pub use report::Counts;
pub use report::json::render_json;
pub use report::junit::render_junit;
pub use report::reproduce::{curl, netcat};
pub use report::text::render_text;
pub use timing::{TIMING_SAMPLES, welch_t};
pub use transport::ClockEstimate;

use bytes::Bytes;
use catalog::catalog;
use judge::{execute, judge};
use probe::{Builder, Expect};
use timing::timing_case;
use transport::{Answer, HttpClient, MIN_MARGIN_MS, estimate_clock, send};

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
    /// Response time does not depend on how much of the tag is right
    /// (advisory, with `--timing`).
    Timing,
}

/// The verdict on one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// As SCHEMES.md requires.
    Pass,
    /// A conformance failure.
    Fail,
    /// A weakness the scheme does not strictly forbid.
    Warn,
    /// Worth knowing, not a failure.
    Info,
    /// Could not be judged (timeout, reset, unexpected status class).
    Error,
    /// Not applicable to this scheme.
    Skip,
}

/// How a run is set up.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The scheme the target verifies.
    pub scheme: SchemeId,
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
    /// The methods the acceptance cases use (all four when empty).
    pub methods: Vec<http::Method>,
    /// How many cases run at once.
    pub concurrency: usize,
    /// Limit for the whole run; cases not finished by then are `error`.
    pub deadline: Duration,
    /// Also run the timing case (advisory; sends `2 * TIMING_SAMPLES` requests).
    pub timing: bool,
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
}

impl RunConfig {
    /// A run of the whole catalog signed by `key_id` with `secret`, with the
    /// scheme's default settings, a 5 s request timeout, a 60 s deadline,
    /// 8 cases at a time, and no optional cases.
    pub fn new(scheme: SchemeId, key_id: impl Into<String>, secret: Secret) -> RunConfig {
        RunConfig {
            scheme,
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
            progress: None,
            admin: None,
            denied_key: None,
            admin_path: None,
        }
    }
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
    /// The verdict.
    pub outcome: Outcome,
    /// What the runner expected.
    pub expected: String,
    /// What the target did.
    pub observed: String,
    /// For failures: the canonical string signed.
    pub detail: String,
    /// A curl command that sends the deciding request again.
    pub reproduce: String,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scheme configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::scheme::ConfigError),
    /// The target URL is not an absolute http URL.
    #[error("target `{0}` is not an http://host:port URL")]
    Target(String),
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
/// admin API is given).
pub fn list(config: &RunConfig) -> Result<Vec<(String, String)>, RunError> {
    let now_ms = SystemClock.now_ms();
    let mut cases: Vec<(String, String)> =
        catalog(config, "sigconform.test", now_ms, MIN_MARGIN_MS)?
            .into_iter()
            .map(|p| (p.id, p.description))
            .collect();
    if config.admin.is_some()
        && Builder::new(config, "sigconform.test", now_ms, MIN_MARGIN_MS)?.has_key_ids()
    {
        cases.extend(lifecycle::CASES.iter().map(|(name, description)| {
            (
                format!("{}/keys/{name}", config.scheme),
                (*description).to_owned(),
            )
        }));
    }
    Ok(cases)
}

/// Runs the catalog against `target`.
pub async fn run(config: &RunConfig, target: &str) -> Result<Run, RunError> {
    let target = target.trim_end_matches('/');
    let uri: http::Uri = target
        .parse()
        .map_err(|_| RunError::Target(target.into()))?;
    if uri.scheme_str() != Some("http") || uri.authority().is_none() {
        return Err(RunError::Target(target.into()));
    }
    let client: Arc<HttpClient> = Arc::new(transport::client());
    // One reachability check up front: an unreachable target is one error, not a hundred.
    let probe_req = http::Request::get("/")
        .body(Bytes::new())
        .expect("static request");
    // A target that accepts connections but answers badly is judged case by
    // case (each ends as `error`); only a refused connection stops the run.
    if let Answer::Refused(e) = send(&client, target, &probe_req, config.timeout).await {
        return Err(RunError::Unreachable(target.into(), e));
    }
    let host = uri.authority().map_or("", |a| a.as_str());
    let clock = estimate_clock(&client, target, config.timeout).await;
    let window = config.scheme.build(&config.scheme_config)?.window();
    let off_by = clock
        .offset_ms
        .unsigned_abs()
        .saturating_sub(clock.uncertainty_ms.unwrap_or(0));
    if off_by > window.unit.to_ms(window.past.min(window.future)) {
        return Err(RunError::ClockOff {
            target: target.into(),
            offset_ms: clock.offset_ms,
            uncertainty_ms: clock.uncertainty_ms.unwrap_or(0),
        });
    }
    let target_now = SystemClock.now_ms().saturating_add_signed(clock.offset_ms);
    let probes = catalog(config, host, target_now, clock.margin_ms())?;
    let deadline = tokio::time::Instant::now() + config.deadline;
    let slots = Arc::new(tokio::sync::Semaphore::new(config.concurrency.max(1)));
    let total = probes.len() + usize::from(config.timing);
    // (The lifecycle cases are few and quick; progress is not reported for them.)
    let finished = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let hook = config.progress.clone();
    let report_progress = move |finished: &std::sync::atomic::AtomicUsize| {
        let done = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if let Some(Progress(hook)) = &hook {
            hook(done, total);
        }
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (index, probe) in probes.into_iter().enumerate() {
        let (client, target, timeout, slots, finished) = (
            client.clone(),
            target.to_owned(),
            config.timeout,
            slots.clone(),
            finished.clone(),
        );
        let report_progress = report_progress.clone();
        tasks.spawn(async move {
            // At most `concurrency` probes in flight; a probe's steps run in order.
            let _slot = slots
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            let result = execute(probe, &client, &target, timeout, deadline).await;
            report_progress(&finished);
            (index, result)
        });
    }
    let mut results: Vec<(usize, CaseResult)> = tasks.join_all().await;
    results.sort_by_key(|(i, _)| *i);
    // In order, after the others: each step depends on the one before.
    if let Some(access) = &config.admin {
        let b = Builder::new(config, host, target_now, clock.margin_ms())?;
        if b.has_key_ids() {
            for case in lifecycle::cases(&b, &client, target, access, config.timeout).await {
                results.push((usize::MAX - 1, case));
            }
        }
    }
    if config.timing {
        // Alone, after the others: concurrent traffic would drown the signal.
        let b = Builder::new(config, host, target_now, clock.margin_ms())?;
        results.push((
            usize::MAX,
            timing_case(&b, &client, target, config.timeout).await,
        ));
        report_progress(&finished);
    }
    Ok(Run {
        clock,
        results: results.into_iter().map(|(_, r)| r).collect(),
    })
}

/// A finished run against one target.
#[derive(Debug, Clone)]
pub struct Run {
    /// The clock estimate the boundary probes used.
    pub clock: ClockEstimate,
    /// Every case, in catalog order.
    pub results: Vec<CaseResult>,
}

/// The cross-instance replay case: `targets` are instances of one
/// deployment, so a request accepted by the first must be rejected by every
/// other (a per-instance nonce store lets it through).
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
    let first = first.trim_end_matches('/');
    let uri: http::Uri = first.parse().map_err(|_| RunError::Target(first.into()))?;
    let host = uri.authority().map_or("", |a| a.as_str()).to_owned();
    let b = Builder::new(config, &host, SystemClock.now_ms(), MIN_MARGIN_MS)?;
    let post = b.base("POST", true);
    let input = b.input(b.now);
    if !b.has_nonce() {
        return Ok(None); // without nonces, replays inside the window are accepted by design
    }
    let step = b.step(
        &post,
        &Recipe {
            input,
            ..Recipe::default()
        },
        Expect::Accept,
    );
    let client: HttpClient = transport::client();
    let mut result = CaseResult {
        id: format!("{}/replay/cross-instance", config.scheme),
        category: Category::Replay,
        description: "a request accepted by one instance is rejected by the others".into(),
        outcome: Outcome::Pass,
        expected: "first instance 2xx, every other 4xx".into(),
        observed: String::new(),
        detail: String::new(),
        reproduce: String::new(),
    };
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
        let target = target.trim_end_matches('/');
        // Every instance is sent the same bytes, Host included.
        let answer = send(&client, target, &step.request, config.timeout).await;
        let expect = if i == 0 {
            Expect::Accept
        } else {
            Expect::Reject
        };
        let outcome = judge(expect, &answer);
        observed.push(match &answer {
            Answer::Status(s, _) => format!("{target}: {s}"),
            Answer::Broken(e) | Answer::Refused(e) => format!("{target}: {e}"),
        });
        if outcome != Outcome::Pass && result.outcome == Outcome::Pass {
            result.outcome = outcome;
            result.detail = format!("canonical string signed: {:?}", step.canonical);
            result.reproduce = curl(target, &step.request);
        }
    }
    result.observed = observed.join("; ");
    Ok(Some(result))
}
