//! Differential fuzzing of a live verifier, with the reference
//! implementation as the oracle (`sigconform fuzz`).
//!
//! The run starts where the catalog's does: it learns the deployment
//! (`learn.rs`: the body the target accepts, how it refuses), from the
//! same description. Then it draws cases from its seed, each a few
//! operators composed on the runner's correctly signed base request,
//! sends them, asks the reference what the scheme requires of each
//! request (must accept, must refuse, either), and compares the answer by
//! the catalog's judging rules. Each finding is minimised to the fewest
//! operators that still make it, grouped by them, and reported like a
//! catalog case through the same reports.
//!
//! One file per concern:
//!
//! | file | what |
//! |---|---|
//! | `operators.rs` | what an operator is, and whether a signer could send what it makes |
//! | `catalogue.rs` | the operators a run gets, from the scheme's description and the deployment |
//! | `case.rs` | choosing a case's operators, and building its requests in phases |
//! | `phases.rs` | what each operator does in its phase |
//! | `edits.rs` | the changes themselves: a field's text, a JSON body, a path, the bytes sent |
//! | `oracle.rs` | what the reference requires, under a strict and a lenient policy |
//! | `assess.rs` | an answer compared with that, by the judging rules |
//! | `run.rs` | sending cases within the budget |
//! | `minimise.rs` | minimising findings and grouping them |
//! | `report.rs` | groups as report cases, the run's counts as notes |

use std::sync::Arc;
use std::time::Duration;

use sigconform_core::crypto::remembering_body_hashes;
use sigconform_core::keys::{DEFAULT_KEY_ID, KeyPolicy};
use sigconform_core::time::{Clock, SystemClock};
use tokio::time::Instant;

use crate::deployment::{Deployment, Progress, RunOptions};
use crate::error::RunError;
use crate::probe::{Builder, Expect};
use crate::run::Ready;
use crate::verdict::{CaseResult, Category, Outcome, Run};

mod assess;
mod case;
mod catalogue;
mod edits;
mod minimise;
mod operators;
mod oracle;
mod phases;
mod report;
mod run;

pub use run::{FuzzOptions, Stats};

use minimise::Budget;
use oracle::{Oracle, OracleKeys};
use run::Fuzzer;

/// At most this many requests minimise the findings of one run, and as
/// many again as a quarter of the requests it sent.
const MINIMISE_REQUESTS: u64 = 1500;

/// Minimising takes at most this long, or half the time the run sent its
/// cases for where that is longer.
const MINIMISE_TIME: Duration = Duration::from_secs(30);

/// The target requests are built for where nothing is sent.
const OFFLINE_TARGET: &str = "http://sigconform.test";

/// What a group of findings is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// Requests the target had to refuse were accepted.
    Accepted,
    /// Requests the target had to accept were refused.
    Refused,
    /// 5xx answers.
    ServerError,
    /// Two identical requests at once were both accepted where a nonce
    /// allows one.
    BothAccepted,
    /// The runner's correctly signed base request was refused.
    BaseRefused,
    /// The target stopped answering.
    StoppedAnswering,
}

impl From<assess::Kind> for FindingKind {
    fn from(kind: assess::Kind) -> Self {
        match kind {
            assess::Kind::AcceptedForgery => FindingKind::Accepted,
            assess::Kind::RefusedValid => FindingKind::Refused,
            assess::Kind::ServerError => FindingKind::ServerError,
            assess::Kind::BothAccepted => FindingKind::BothAccepted,
        }
    }
}

/// A group of findings, for whoever reads the run as data (the
/// measurements of `docs/fuzzing.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzGroup {
    /// Its case id, `SCHEME/fuzz/SIGNATURE`.
    pub id: String,
    /// What it is.
    pub kind: FindingKind,
    /// Its operators' names.
    pub operators: Vec<String>,
    /// How many findings of the run it holds.
    pub count: u64,
    /// How many requests the run had sent before its first finding.
    pub first_at: u64,
}

/// A finished fuzz run.
#[derive(Debug, Clone)]
pub struct FuzzRun {
    /// As the reports show it: each group a case.
    pub run: Run,
    /// The groups, in the order first met.
    pub groups: Vec<FuzzGroup>,
    /// What the run counted.
    pub stats: Stats,
}

/// The operators a run against `deployment` would use, by name (nothing
/// is sent).
pub fn operator_names(deployment: &Deployment) -> Result<Vec<String>, RunError> {
    let target = crate::transport::Target::parse(OFFLINE_TARGET)?;
    let options = RunOptions::default();
    let b = Builder::new(
        deployment,
        &options,
        &target,
        SystemClock.now_ms(),
        crate::transport::MIN_MARGIN_MS,
    )?;
    Ok(catalogue::catalogue(&b)
        .into_iter()
        .map(|o| o.name)
        .collect())
}

/// The key policy of seed 001 as far as the run was told of it: the
/// denied key's route allows only the runner's key, and the admin route
/// only admin keys.
fn policy(deployment: &Deployment) -> KeyPolicy {
    KeyPolicy {
        allowed_key_ids: deployment
            .denied_key
            .as_ref()
            .map(|_| vec![deployment.key_id.clone(), DEFAULT_KEY_ID.to_owned()]),
        restricted_path_prefixes: deployment
            .denied_key
            .iter()
            .map(|d| d.path.split('?').next().unwrap_or_default().to_owned())
            .collect(),
        admin_path_prefixes: deployment
            .admin_path
            .iter()
            .map(|p| p.split('?').next().unwrap_or_default().to_owned())
            .collect(),
        admin_key_prefix: None,
    }
}

/// The reference for a run against `deployment`, whose builder is `b` and whose
/// base request, as the runner signs it, is `base`, against a target
/// whose clock is known within `margin_ms`.
fn oracle(
    deployment: &Deployment,
    b: &Builder<'_>,
    base: &sigconform_core::Request,
    margin_ms: u64,
) -> Result<Oracle, RunError> {
    let build = || deployment.scheme.build(&deployment.scheme_config);
    Ok(Oracle::new(
        build()?,
        build()?,
        OracleKeys {
            key: b.key.clone(),
            default: b.key_for(DEFAULT_KEY_ID, &deployment.secret),
            denied: deployment
                .denied_key
                .as_ref()
                .map(|d| b.key_for(&d.key_id, &d.secret)),
            policy: policy(deployment),
        },
        base,
        b.signs_form(),
        margin_ms,
    ))
}

/// Draws `cases` cases from `seed` for `deployment` and asks the
/// reference what it requires of each of their requests, sending nothing:
/// what the fuzzer costs per request, apart from the target
/// (`cargo xtask bench`). The number of requests made.
pub fn generate_and_classify(
    deployment: &Deployment,
    seed: u64,
    cases: u64,
) -> Result<u64, RunError> {
    let target = crate::transport::Target::parse(OFFLINE_TARGET)?;
    let now_ms = SystemClock.now_ms();
    let options = RunOptions::default();
    let b = Builder::new(
        deployment,
        &options,
        &target,
        now_ms,
        crate::transport::MIN_MARGIN_MS,
    )?;
    let forge = case::Forge::new(&b);
    classify_drawn(deployment, &forge, seed, cases, now_ms, |_, _| {})
}

/// [`generate_and_classify`] with `forge`, at the target's `now_ms`,
/// handing each request and what the reference requires of it to `visit`.
fn classify_drawn(
    deployment: &Deployment,
    forge: &case::Forge<'_>,
    seed: u64,
    cases: u64,
    now_ms: u64,
    mut visit: impl FnMut(&case::Planned, oracle::Requirement),
) -> Result<u64, RunError> {
    let b = forge.builder();
    let base = b
        .step(&b.probe_request(), &b.recipe(b.now), Expect::Either)
        .map_err(|_| RunError::Target(OFFLINE_TARGET.to_owned()))?
        .request;
    let oracle = oracle(deployment, b, &base, crate::transport::MIN_MARGIN_MS)?;
    // A large body is hashed once for its signing and every reading.
    Ok(remembering_body_hashes(|| {
        let mut requests = 0;
        for n in 0..cases {
            let chosen = forge.choose(&mut run::case_rng(seed, n));
            let Ok(plan) = forge.build(&chosen, now_ms) else {
                continue;
            };
            for step in &plan.steps {
                visit(
                    step,
                    oracle.classify(&step.step.request, step.acceptable, now_ms, now_ms),
                );
                requests += step.copies as u64;
            }
        }
        requests
    }))
}

/// Fuzzes the first instance of `deployment` within `options`' budget.
pub async fn fuzz(
    deployment: &Deployment,
    run_options: &RunOptions,
    options: &FuzzOptions,
) -> Result<FuzzRun, RunError> {
    let Ready {
        mut session,
        builder: b,
        target,
        clock,
        learned,
    } = crate::run::ready(deployment, run_options, 0).await?;
    let started = Instant::now();
    let minimise_time = MINIMISE_TIME;
    // The budget bounds the run (sending, then minimising for at most half
    // as long again); each request keeps its own timeout.
    session.deadline = started
        + options
            .duration
            .map_or(Duration::from_secs(24 * 3600), |d| d + d / 2)
        + minimise_time
        + run_options.timeout * 2;
    let concurrency = if b.writes_a_resource() {
        1
    } else {
        run_options.concurrency
    };
    let base = b
        .step(&b.probe_request(), &b.recipe(b.now), Expect::Either)
        .map_err(|_| RunError::Target(target.url().to_owned()))?
        .request;
    let oracle = oracle(deployment, &b, &base, clock.margin_ms())?;
    let mut fuzzer = Fuzzer {
        forge: case::Forge::new(&b),
        oracle,
        session: Arc::new(session),
        base_accepted: learned.refused.is_none(),
        stats: Stats::default(),
        stopped: learned.stopped.clone(),
        first_sent: None,
    };
    let hook = run_options.progress.clone();
    let progress = move |done: u64, total: u64| {
        if let Some(Progress(hook)) = &hook {
            hook(done as usize, total as usize);
        }
    };
    let raws = if fuzzer.stopped.is_none() {
        fuzzer.explore(options, concurrency, &progress).await
    } else {
        Vec::new()
    };
    let explored = started.elapsed();
    let budget = Budget {
        requests: MINIMISE_REQUESTS + fuzzer.stats.requests / 4,
        until: Instant::now() + minimise_time.max(explored / 2),
    };
    let groups = fuzzer.group(raws, budget).await;
    crate::run::remove_what_was_written(&b, &fuzzer.session).await;
    let mut results = Vec::new();
    if let Some(refusal) = &learned.refused {
        let mut case = CaseResult::new(
            b.case_id(Category::Fuzz, "base"),
            Category::Fuzz,
            "the runner's correctly signed base request",
            Outcome::Fail,
            "2xx (a correctly signed request)",
            refusal.observed.clone(),
        );
        case.rule = b.cite("valid-basic");
        case.status = refusal.status;
        results.push(case);
    }
    if let Some(why) = &fuzzer.stopped {
        let mut case = CaseResult::new(
            b.case_id(Category::Fuzz, "answers"),
            Category::Fuzz,
            "the target still answers a correctly signed request",
            Outcome::Fail,
            "an answer",
            why.clone(),
        );
        case.rule = b.cite("keeps-answering");
        results.push(case);
    }
    // What the run found before it sent a case: found at once.
    let mut summaries: Vec<FuzzGroup> = results
        .iter()
        .map(|case| FuzzGroup {
            id: case.id.clone(),
            kind: if case.id.ends_with("/base") {
                FindingKind::BaseRefused
            } else {
                FindingKind::StoppedAnswering
            },
            operators: Vec::new(),
            count: 1,
            first_at: 0,
        })
        .collect();
    let cases = report::cases(
        &b,
        &fuzzer.session,
        &fuzzer.forge.ops,
        &groups,
        fuzzer.stats.requests,
    );
    summaries.extend(groups.iter().zip(&cases).map(|(group, case)| {
        FuzzGroup {
            id: case.id.clone(),
            kind: group.kind.into(),
            operators: report::operators(group, &fuzzer.forge.ops)
                .iter()
                .map(|o| o.name.clone())
                .collect(),
            count: group.count,
            first_at: group.first_at,
        }
    }));
    results.extend(cases);
    let notes = report::notes(&fuzzer.stats, options, concurrency, explored.as_secs_f64());
    Ok(FuzzRun {
        run: Run {
            clock,
            insecure: target.is_tls() && run_options.tls.insecure,
            learned: learned.lines,
            notes,
            results,
        },
        groups: summaries,
        stats: fuzzer.stats,
    })
}

#[cfg(test)]
mod tests {
    use super::oracle::{Leeway, Requirement};
    use super::*;
    use sigconform_core::Rejection;
    use sigconform_core::keys::Secret;
    use sigconform_core::scheme::{Field, SchemeConfig, SchemeId};
    use sigconform_core::tamper::{Recipe, TagTransform};

    const NOW_MS: u64 = 1_700_000_000_000;

    fn config(scheme: SchemeId) -> Deployment {
        configured(scheme, Secret::new("oracle-test-secret"))
    }

    /// A deployment of `scheme` at the tests' endpoint, signed with `secret`.
    fn configured(
        scheme: impl Into<sigconform_core::registry::SchemeRef>,
        secret: Secret,
    ) -> Deployment {
        Deployment {
            scheme_config: SchemeConfig {
                endpoint: Some("https:app.example/hook".into()),
                ..SchemeConfig::default()
            },
            ..Deployment::new("http://sigconform.test/api", scheme, "k", secret)
        }
    }

    /// The runner's base request for `config`, signed as `recipe` says
    /// (`None`: plainly), at `NOW_MS`, and the oracle of a run against it.
    fn signed(
        config: &Deployment,
        change: impl Fn(&Builder<'_>, Recipe) -> Recipe,
    ) -> (sigconform_core::Request, Oracle) {
        let target = crate::transport::Target::parse("http://sigconform.test/api").unwrap();
        let options = RunOptions::default();
        let b = Builder::new(config, &options, &target, NOW_MS, 2000).unwrap();
        let base = b
            .step(&b.probe_request(), &b.recipe(b.now), Expect::Either)
            .unwrap()
            .request;
        let oracle = oracle(config, &b, &base, 2000).unwrap();
        let recipe = change(&b, b.recipe(b.now));
        let req = b
            .step(&b.probe_request(), &recipe, Expect::Either)
            .unwrap()
            .request;
        (req, oracle)
    }

    /// A server hands its verifier header values trimmed (HTTP drops the
    /// whitespace around a value); a verifier may do that and read the
    /// timestamp as sent, not respelled as a number: a tag with a tab after
    /// it over a zero-padded timestamp, signed as sent, may be accepted.
    #[test]
    fn a_trimmed_reading_keeps_the_fields_as_sent() {
        let deployment = configured(
            sigconform_core::registry::SchemeRef::resolve("standard-webhooks").unwrap(),
            Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        );
        let (mut req, oracle) = signed(&deployment, |b, r| Recipe {
            input: sigconform_core::scheme::SignInput {
                timestamp: format!("000000000{}", b.now),
                ..r.input
            },
            ..r
        });
        let name = http::HeaderName::from_static("webhook-signature");
        let tabbed = format!("{}\t", req.headers()[&name].to_str().unwrap());
        req.headers_mut()
            .insert(name, http::HeaderValue::from_str(&tabbed).unwrap());
        assert!(
            !matches!(
                oracle.classify(&req, true, NOW_MS, NOW_MS),
                Requirement::Refuse(_)
            ),
            "{:?}",
            oracle.classify(&req, true, NOW_MS, NOW_MS)
        );
    }

    #[test]
    fn the_reference_decides_and_the_rules_leave_room() {
        let a2a = config(SchemeId::A2a);
        // Signed correctly, by a signer: must accept; not by a signer: either.
        let (req, oracle) = signed(&a2a, |_, r| r);
        assert_eq!(
            oracle.classify(&req, true, NOW_MS, NOW_MS),
            Requirement::Accept
        );
        assert_eq!(
            oracle.classify(&req, false, NOW_MS, NOW_MS),
            Requirement::Either(Leeway::NotSignerMade)
        );
        // Once the target accepted it, its nonce is used.
        oracle.accepted(&req);
        assert_eq!(
            oracle.classify(&req, true, NOW_MS, NOW_MS),
            Requirement::Refuse(Rejection::ReplayedNonce)
        );
        // A flipped tag: refused.
        let (req, oracle) = signed(&a2a, |_, r| Recipe {
            tag_transform: Some(TagTransform::FlipLastBit),
            ..r
        });
        assert_eq!(
            oracle.classify(&req, true, NOW_MS, NOW_MS),
            Requirement::Refuse(Rejection::BadSignature)
        );
        // A timestamp at the past limit, within the margin: either.
        let (req, oracle) = signed(&a2a, |b, _r| {
            let at = b.now - b.scheme.window().past;
            b.recipe(at)
        });
        assert_eq!(
            oracle.classify(&req, true, NOW_MS, NOW_MS),
            Requirement::Either(Leeway::Window)
        );
        // Hex in upper case is the same tag: the lenient policy accepts it.
        let webhook = config(SchemeId::Webhook);
        let (req, oracle) = signed(&webhook, |_, r| Recipe {
            tag_transform: Some(TagTransform::Uppercase),
            ..r
        });
        assert_eq!(
            oracle.classify(&req, true, NOW_MS, NOW_MS),
            Requirement::Either(Leeway::Lenient(Rejection::MalformedSignature))
        );
        // A key id in other letter case: either (a lookup in any case is a
        // weakness the rules name), and its nonce is the nonce's of the id.
        let (req, oracle) = signed(&a2a, |_, r| r);
        let at = oracle_key_id_location(&a2a);
        let mut recased = req.clone();
        at.write(&mut recased, b"K").unwrap();
        assert!(matches!(
            oracle.classify(&recased, true, NOW_MS, NOW_MS),
            Requirement::Either(Leeway::Lenient(_))
        ));
        oracle.accepted(&req);
        assert!(matches!(
            oracle.classify(&recased, true, NOW_MS, NOW_MS),
            Requirement::Refuse(_)
        ));
        // A tab before a header's value, which HTTP trims: either.
        let (req, oracle) = signed(&a2a, |_, r| r);
        let mut spaced = req.clone();
        let hash = spaced.headers()["x-body-hash"].as_bytes().to_vec();
        spaced.headers_mut().insert(
            "x-body-hash",
            http::HeaderValue::from_bytes(&[b"\t", &hash[..]].concat()).unwrap(),
        );
        assert!(matches!(
            oracle.classify(&spaced, true, NOW_MS, NOW_MS),
            Requirement::Either(Leeway::Lenient(_))
        ));
    }

    fn oracle_key_id_location(config: &Deployment) -> sigconform_core::scheme::Location {
        config
            .scheme
            .build(&config.scheme_config)
            .unwrap()
            .location(&Field::KeyId)
            .unwrap()
    }

    #[test]
    fn the_same_seed_draws_the_same_cases() {
        let config = config(SchemeId::Authorization);
        let target = crate::transport::Target::parse("http://sigconform.test/api").unwrap();
        let options = RunOptions::default();
        let b = Builder::new(&config, &options, &target, NOW_MS, 2000).unwrap();
        let forge = case::Forge::new(&b);
        let draw = |seed| {
            (0..200)
                .map(|n| forge.choose(&mut run::case_rng(seed, n)))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
        // Every case is built without a panic, and most change something.
        let built = draw(5)
            .iter()
            .filter(|chosen| forge.build(chosen, NOW_MS).is_ok_and(|p| !p.ops.is_empty()))
            .count();
        assert!(built > 150, "{built} of 200 built");
    }
}
