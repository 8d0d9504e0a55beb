//! The runner against reference servers: no failures against a correct
//! server, and at least one failure in the right category against a server
//! with one deliberate defect (deployed under `/api`, as applications are).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    Deployment, SECRET, bad, failures, not_passed, run_against, run_at, run_config, run_deployed,
    scheme_config, start,
};
use sigconform_core::MemoryNonceStore;
use sigconform_core::Secret;
use sigconform_core::keys::Permissions;
use sigconform_core::nonce::NonceStore;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::{Absent, Field, SchemeConfig, SchemeId};
use sigconform_runner::{self as runner, CaseResult, Category, Outcome, RunError};
use sigconform_server::sql_keys::{SqlKeys, SqlKeysConfig};
use sigconform_server::{self as server, Defect, KeySource, ServerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_server_has_no_failures_or_errors() {
    // Deployed at the root, under a path, and as one route (probed as a
    // fixed route): the full catalog each time, clean each time.
    for deployment in [
        Deployment::Root,
        common::API,
        Deployment::Route("/webhooks/payment", &[]),
    ] {
        for scheme in SchemeId::ALL {
            let results = run_deployed(scheme, None, deployment).await;
            assert!(
                results.len() >= 25,
                "{scheme} {deployment:?}: only {} cases",
                results.len()
            );
            let bad = bad(&results);
            assert!(
                bad.is_empty(),
                "{scheme} {deployment:?}:\n{}",
                bad.join("\n")
            );
            // Every category the catalog has is exercised.
            for category in [
                Category::Acceptance,
                Category::Tamper,
                Category::Expiry,
                Category::Skew,
                Category::Replay,
                Category::Malformed,
            ] {
                assert!(
                    results.iter().any(|r| r.category == category),
                    "{scheme}: no {category:?} cases"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_a_server_that_ignores_expiry() {
    for scheme in SchemeId::ALL {
        let results = run_against(scheme, Some(Defect::IgnoresExpiry)).await;
        assert!(
            !failures(&results, Category::Expiry).is_empty(),
            "{scheme}: expiry defect not found"
        );
        assert!(
            !failures(&results, Category::Skew).is_empty(),
            "{scheme}: future-timestamp defect not found"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_a_server_that_never_records_nonces() {
    for scheme in [SchemeId::A2a, SchemeId::Authorization] {
        let results = run_against(scheme, Some(Defect::NeverRecordsNonces)).await;
        let found = failures(&results, Category::Replay);
        assert!(
            found.len() >= 2,
            "{scheme}: replay defect found only by {found:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_a_nonce_store_that_checks_then_records() {
    for scheme in [SchemeId::A2a, SchemeId::Authorization] {
        let results = run_against(scheme, Some(Defect::NonAtomicNonces)).await;
        let concurrent = results
            .iter()
            .find(|r| r.id.ends_with("/replay/concurrent"))
            .expect("concurrent replay case");
        assert_eq!(
            concurrent.outcome,
            Outcome::Fail,
            "{scheme}: {}",
            concurrent.observed
        );
        // Sequential replays still look fine: only the concurrent case can tell.
        assert!(
            results
                .iter()
                .any(|r| r.id.ends_with("/replay/identical") && r.outcome == Outcome::Pass)
        );
    }
}

#[tokio::test]
async fn an_unreachable_target_is_one_clear_error() {
    // Bind then drop a listener: the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (deployment, options) = run_config(
        SchemeId::A2a,
        SchemeConfig::default(),
        Duration::from_secs(2),
        Duration::from_secs(30),
        Deployment::Root,
    );
    let err = run_at(&deployment, &options, &format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Unreachable(..)), "{err}");
    assert!(!err.to_string().contains(SECRET));
    let err = run_at(&deployment, &options, "ftp://example")
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Target(..)), "{err}");
}

/// A finished run of `results`, for rendering reports.
fn run_of(results: Vec<CaseResult>) -> runner::Run {
    runner::Run {
        insecure: false,
        learned: Vec::new(),
        notes: Vec::new(),
        clock: runner::ClockEstimate {
            offset_ms: 0,
            uncertainty_ms: Some(500),
        },
        results,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_never_contain_the_secret() {
    let results = run_against(SchemeId::Authorization, Some(Defect::IgnoresExpiry)).await;
    let run = run_of(results);
    let json = runner::render_json(&[("t".into(), run.clone())]).to_string();
    let text = runner::render_text(
        "t",
        &run,
        &mut runner::Files::new("target/unused"),
        &Default::default(),
    );
    let junit = runner::render_junit(&[("t".into(), run.clone())]).unwrap();
    let fails = run
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::Fail)
        .count();
    assert!(fails > 0);
    assert!(junit.contains(&format!("failures=\"{fails}\"")), "{junit}");
    assert!(!junit.contains(SECRET));
    assert!(json.contains("reproduce") && text.contains("FAIL"));
    // Failures are marked in red (a terminal stream keeps it, others strip it).
    assert!(text.contains(&format!("{}FAIL", Outcome::Fail.style())));
    assert!(!json.contains('\u{1b}') && !junit.contains('\u{1b}'));
    assert!(!json.contains(SECRET) && !text.contains(SECRET));
}

/// How a hostile target misbehaves.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    NeverAnswers,
    Resets,
    Garbage,
    HugeBody,
    Redirects,
}

/// A loopback server that misbehaves in one way on every connection.
async fn hostile(kind: Hostile) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                match kind {
                    Hostile::NeverAnswers => tokio::time::sleep(Duration::from_secs(60)).await,
                    Hostile::Resets => drop(stream),
                    Hostile::Garbage => {
                        let _ = stream.write_all(b"\x00\xffNOT HTTP AT ALL\r\n\r\n").await;
                    }
                    Hostile::HugeBody => {
                        let _ = stream
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 104857600\r\n\r\n")
                            .await;
                        let chunk = vec![b'x'; 64 * 1024];
                        for _ in 0..1600 {
                            if stream.write_all(&chunk).await.is_err() {
                                break;
                            }
                        }
                    }
                    Hostile::Redirects => {
                        let _ = stream
                            .write_all(b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.2:9/\r\ncontent-length: 0\r\n\r\n")
                            .await;
                    }
                }
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_targets_end_as_errors_within_the_deadline() {
    for kind in [
        Hostile::NeverAnswers,
        Hostile::Resets,
        Hostile::Garbage,
        Hostile::HugeBody,
        Hostile::Redirects,
    ] {
        let url = hostile(kind).await;
        let (deployment, options) = run_config(
            SchemeId::A2a,
            SchemeConfig::default(),
            Duration::from_millis(300),
            Duration::from_secs(2),
            Deployment::Root,
        );
        let started = std::time::Instant::now();
        let run = run_at(&deployment, &options, &url)
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        // Reachability and clock probes (4 x timeout) plus the deadline, with slack.
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{kind:?} took {:?}",
            started.elapsed()
        );
        assert!(!run.results.is_empty());
        // (A case that does not apply to the target is `skip` before
        // anything is sent.)
        let judged: Vec<_> = run
            .results
            .iter()
            .filter(|r| {
                !matches!(
                    r.outcome,
                    Outcome::Error | Outcome::Unjudged | Outcome::Skip
                )
            })
            .map(|r| &r.id)
            .collect();
        assert!(
            judged.is_empty(),
            "{kind:?}: cases judged against a broken target: {judged:?}"
        );
    }
}

/// The cross-instance replay case of two instances of one deployment, with
/// one shared nonce store or one each: the first instance's run holds it.
async fn two_instances(shared: bool, scheme: SchemeId) -> Option<CaseResult> {
    let store: Arc<dyn NonceStore> = Arc::new(MemoryNonceStore::default());
    let mut urls = Vec::new();
    let mut servers = Vec::new();
    for _ in 0..2 {
        let server = start(scheme, None, shared.then(|| store.clone())).await;
        urls.push(server.url());
        servers.push(server);
    }
    let (mut deployment, mut options) = run_config(
        scheme,
        scheme_config(),
        Duration::from_secs(5),
        Duration::from_secs(30),
        Deployment::Root,
    );
    deployment.targets = urls;
    options.only = vec![glob::Pattern::new("*/replay/cross-instance").unwrap()];
    let report = runner::run(&deployment, &options).await.unwrap();
    assert_eq!(report.instances.len(), 2);
    assert!(
        report.instances[1].run.results.is_empty(),
        "{:?}",
        report.instances[1].run.results
    );
    let mut first = report.instances[0].run.results.clone();
    assert!(first.len() <= 1, "{first:?}");
    first.pop()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_instance_replay_needs_a_shared_nonce_store() {
    for scheme in [SchemeId::A2a, SchemeId::Authorization] {
        let shared = two_instances(true, scheme)
            .await
            .expect("nonce scheme has the case");
        assert_eq!(
            shared.outcome,
            Outcome::Pass,
            "{scheme} shared: {}",
            shared.observed
        );
        let separate = two_instances(false, scheme).await.unwrap();
        assert_eq!(
            separate.outcome,
            Outcome::Fail,
            "{scheme} separate: {}",
            separate.observed
        );
        assert!(!separate.reproduce.is_empty());
    }
    // Without nonces there is nothing to share: no case.
    assert!(two_instances(false, SchemeId::Webhook).await.is_none());
}

/// Each defect, the schemes it applies to, and the category that must fail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_each_deliberate_defect_in_its_category() {
    use SchemeId::*;
    let cases: [(Defect, &[SchemeId], Category); 12] = [
        (Defect::AcceptsAnyFuture, &SchemeId::ALL, Category::Skew),
        (
            Defect::WindowInMilliseconds,
            &[Authorization, Webhook, A2a, IaJson, Quable],
            Category::Expiry,
        ),
        (Defect::TrustsBodyHash, &[A2a], Category::Tamper),
        (
            Defect::OptionalField(Field::Nonce, Absent::Empty),
            &[A2a, Authorization],
            Category::Replay,
        ),
        (
            Defect::ServerErrorOnMalformedTimestamp,
            &SchemeId::ALL,
            Category::Malformed,
        ),
        (
            Defect::AcceptsUnknownKeys,
            &[Partner, Authorization, A2a, IaJson],
            Category::Keys,
        ),
        // Where the scheme covers the method, path or body bytes at all.
        (
            Defect::MethodNotCovered,
            &[Authorization, A2a, Quable],
            Category::Tamper,
        ),
        (
            Defect::PathNotCovered,
            &[Authorization, A2a],
            Category::Tamper,
        ),
        (
            Defect::BodyNotCovered,
            &[Authorization, Webhook, A2a, IaJson, Quable],
            Category::Tamper,
        ),
        (Defect::AcceptsTagPrefix, &SchemeId::ALL, Category::Tamper),
        (
            Defect::IgnoresKeyPolicy,
            &[Partner, Authorization, A2a, IaJson],
            Category::Keys,
        ),
        // A replay under the re-cased key id, where there are nonces.
        (
            Defect::CaseInsensitiveKeyIds,
            &[Authorization, A2a],
            Category::Replay,
        ),
    ];
    for (defect, schemes, category) in cases {
        for &scheme in schemes {
            let results = run_against(scheme, Some(defect.clone())).await;
            assert!(
                !failures(&results, category).is_empty(),
                "{scheme}: {defect:?} not found in {category:?}: {:?}",
                results
                    .iter()
                    .filter(|r| r.category == category)
                    .map(|r| (&r.id, r.outcome, &r.observed))
                    .collect::<Vec<_>>()
            );
        }
    }
    // The coverage defects are found by the cases that name them.
    for (defect, scheme, case) in [
        (Defect::MethodNotCovered, Quable, "quable/tamper/method"),
        (Defect::PathNotCovered, A2a, "a2a/tamper/path-dot-segments"),
        (
            Defect::BodyNotCovered,
            Webhook,
            "webhook/tamper/body-reencoded",
        ),
        (
            Defect::AcceptsTagPrefix,
            Partner,
            "partner/tamper/tag-prefix",
        ),
        (Defect::AcceptsTagPrefix, A2a, "a2a/tamper/tag-empty"),
        (
            Defect::IgnoresKeyPolicy,
            Authorization,
            "authorization/keys/admin-route",
        ),
        (
            Defect::IgnoresKeyPolicy,
            Partner,
            "partner/keys/key-not-allowed",
        ),
        (Defect::CaseInsensitiveKeyIds, A2a, "a2a/replay/key-id-case"),
    ] {
        let results = run_against(scheme, Some(defect.clone())).await;
        let category = results
            .iter()
            .find(|r| r.id == case)
            .map(|r| r.category)
            .unwrap_or_else(|| panic!("no case {case}"));
        assert!(
            failures(&results, category).contains(&case),
            "{defect:?}: {case} did not fail"
        );
    }
    // Where there is no nonce to replay, a case-insensitive lookup is the
    // weakness the tamper case names.
    let results = run_against(Partner, Some(Defect::CaseInsensitiveKeyIds)).await;
    let recased = results
        .iter()
        .find(|r| r.id == "partner/tamper/key-id-case")
        .unwrap();
    assert_eq!(recased.outcome, Outcome::Warn, "{}", recased.observed);
    // The future defect is not mistaken for an expiry one.
    let results = run_against(A2a, Some(Defect::AcceptsAnyFuture)).await;
    assert!(failures(&results, Category::Expiry).is_empty());
}

#[test]
fn only_skip_and_methods_select_cases() {
    let (mut deployment, mut options) = run_config(
        SchemeId::A2a,
        SchemeConfig::default(),
        Duration::from_secs(1),
        Duration::from_secs(1),
        Deployment::Root,
    );
    options.skip.clear();
    let all = runner::list(&deployment, &options).unwrap();
    options.only = vec![glob::Pattern::new("a2a/replay/*").unwrap()];
    let replay = runner::list(&deployment, &options).unwrap();
    assert!(!replay.is_empty() && replay.len() < all.len());
    assert!(replay.iter().all(|(id, _)| id.starts_with("a2a/replay/")));
    options.skip = vec![glob::Pattern::new("*/concurrent").unwrap()];
    assert_eq!(
        runner::list(&deployment, &options).unwrap().len(),
        replay.len() - 1
    );
    options.only.clear();
    options.skip.clear();
    deployment.methods = vec![http::Method::GET];
    let acceptance: Vec<_> = runner::list(&deployment, &options)
        .unwrap()
        .into_iter()
        .filter(|(id, _)| {
            ["get", "post", "put", "delete"]
                .iter()
                .any(|m| id.ends_with(&format!("/acceptance/{m}")))
        })
        .collect();
    assert_eq!(acceptance.len(), 1, "{acceptance:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timing_case_finds_a_byte_by_byte_compare_from_either_end() {
    let timing = |defect| async move {
        let server = start(SchemeId::A2a, defect, None).await;
        let (deployment, mut options) = run_config(
            SchemeId::A2a,
            scheme_config(),
            Duration::from_secs(5),
            Duration::from_secs(30),
            Deployment::Root,
        );
        options.timing = true;
        options.only = vec![glob::Pattern::new("*/timing/*").unwrap()];
        let run = run_at(&deployment, &options, &server.url()).await.unwrap();
        run.results
            .into_iter()
            .find(|r| r.category == Category::Timing)
            .expect("timing case")
    };
    let leaky = timing(Some(Defect::ByteByByteCompare)).await;
    assert_eq!(leaky.outcome, Outcome::Warn, "{}", leaky.observed);
    assert!(leaky.observed.starts_with("t = "), "{}", leaky.observed);
    assert!(!leaky.observed.contains("t = -"), "{}", leaky.observed);
    // Compared from the end, a wrong first byte is the slow one: t < 0.
    let leaky_from_the_end = timing(Some(Defect::ByteByByteCompareFromTheEnd)).await;
    assert_eq!(
        leaky_from_the_end.outcome,
        Outcome::Warn,
        "{}",
        leaky_from_the_end.observed
    );
    assert!(
        leaky_from_the_end.observed.starts_with("t = -"),
        "{}",
        leaky_from_the_end.observed
    );
    let constant_time = timing(None).await;
    assert_eq!(
        constant_time.outcome,
        Outcome::Pass,
        "{}",
        constant_time.observed
    );
}

#[test]
fn welch_t_statistic() {
    let a = [1.0, 2.0, 3.0, 4.0, 5.0];
    assert_eq!(runner::welch_t(&a, &a), 0.0);
    let b = [11.0, 12.0, 13.0, 14.0, 15.0];
    // Means differ by 10, each variance 2.5: t = -10 / sqrt(0.5 + 0.5).
    assert!((runner::welch_t(&a, &b) + 10.0).abs() < 1e-9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_reported_for_every_case() {
    let server = start(SchemeId::Webhook, None, None).await;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (deployment, mut options) = run_config(
        SchemeId::Webhook,
        scheme_config(),
        Duration::from_secs(5),
        Duration::from_secs(30),
        Deployment::Root,
    );
    let record = seen.clone();
    options.progress = Some(runner::Progress(Arc::new(move |done, total| {
        record.lock().unwrap().push((done, total));
    })));
    let run = run_at(&deployment, &options, &server.url()).await.unwrap();
    let mut seen = seen.lock().unwrap().clone();
    seen.sort_unstable();
    let n = run.results.len();
    assert_eq!(seen, (1..=n).map(|done| (done, n)).collect::<Vec<_>>());
}

#[test]
fn case_ids_are_the_same_in_every_run() {
    for scheme in SchemeId::ALL {
        let (deployment, options) = run_config(
            scheme,
            scheme_config(),
            Duration::from_secs(1),
            Duration::from_secs(1),
            Deployment::Root,
        );
        let first = runner::list(&deployment, &options).unwrap();
        // Signatures differ between runs (secrets, fresh nonces, the
        // clock); the catalog must not.
        for i in 0..40 {
            let deployment = runner::Deployment {
                secret: Secret::new(format!("{SECRET}-{i}")),
                ..deployment.clone()
            };
            assert_eq!(
                runner::list(&deployment, &options).unwrap(),
                first,
                "{scheme}"
            );
        }
    }
}

/// A reference server with its keys in an SQLite database (cache entries
/// kept `ttl`), serving the admin API; the database is created with the
/// runner's key in it.
async fn sql_server(db: &str, ttl: Duration, token: &str) -> (server::RunningServer, Arc<SqlKeys>) {
    let config = SqlKeysConfig {
        cache_ttl: ttl,
        ..SqlKeysConfig::new(db)
    };
    let store = Arc::new(SqlKeys::connect(&config).await.unwrap());
    store
        .put("k", &Secret::new(SECRET), Permissions::all())
        .await
        .unwrap();
    let keys = KeySource::Sql {
        store: store.clone(),
        admin_token: Some(Secret::new(token)),
    };
    let server = server::start(
        ServerConfig::new(SchemeId::A2a, scheme_config(), keys),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    (server, store)
}

fn sqlite(name: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("runner");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    format!("sqlite://{}", path.display())
}

/// The lifecycle cases of a run (the `keys` cases beside them need policies
/// these servers do not have).
fn lifecycle(results: &[CaseResult]) -> Vec<(&str, Outcome)> {
    results
        .iter()
        .filter(|r| r.id.contains("/keys/lifecycle-") || r.id.ends_with("/permission-missing"))
        .map(|r| (r.id.as_str(), r.outcome))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_cases_pass_against_a_correct_server_and_clean_up() {
    let token = "lifecycle-admin-token";
    let (server, store) = sql_server(&sqlite("lifecycle"), Duration::from_secs(2), token).await;
    let (mut deployment, options) = run_config(
        SchemeId::A2a,
        scheme_config(),
        Duration::from_secs(5),
        Duration::from_secs(30),
        Deployment::Root,
    );
    deployment.admin = Some(runner::AdminAccess {
        url: server.url(),
        token: Secret::new(token),
    });
    let listed = runner::list(&deployment, &options).unwrap();
    let run = run_at(&deployment, &options, &server.url()).await.unwrap();
    let cases = lifecycle(&run.results);
    assert_eq!(
        cases,
        [
            ("a2a/keys/lifecycle-create", Outcome::Pass),
            ("a2a/keys/lifecycle-rotate", Outcome::Pass),
            ("a2a/keys/lifecycle-revoke", Outcome::Pass),
            ("a2a/keys/permission-missing", Outcome::Pass),
            ("a2a/keys/lifecycle-cleanup", Outcome::Pass),
        ],
        "{:?}",
        run.results
    );
    // --list names them too.
    for (id, _) in &cases {
        assert!(listed.iter().any(|(l, _)| l == id), "{id} not listed");
    }
    // The runner's keys do not outlive the run; no secret reached a report.
    let keys = store.list().await.unwrap();
    assert!(keys.iter().filter(|k| k.key_id != "k").all(|k| !k.active));
    assert_eq!(keys.len(), 3);
    let report = runner::render_json(&[("t".into(), run)]).to_string();
    assert!(!report.contains(SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_late_by_a_cache_is_a_warning_and_one_past_the_grace_a_failure() {
    let token = "cache-admin-token";
    let db = sqlite("cache");
    // The admin API on one instance; the requests to another instance of
    // the same deployment, which caches keys for `ttl`.
    let (admin, _) = sql_server(&db, Duration::from_secs(2), token).await;
    for (ttl, expected) in [
        (Duration::from_millis(800), [Outcome::Warn, Outcome::Warn]),
        // The old secret stays cached past the grace period: the rotation
        // case fails (and the revoked key, never cached with its new secret
        // there, is rejected for that reason).
        (Duration::from_secs(60), [Outcome::Fail, Outcome::Pass]),
    ] {
        let (other, _) = sql_server(&db, ttl, token).await;
        let (mut deployment, mut options) = run_config(
            SchemeId::A2a,
            scheme_config(),
            Duration::from_secs(5),
            Duration::from_secs(30),
            Deployment::Root,
        );
        options.only = vec![glob::Pattern::new("a2a/keys/*").unwrap()];
        deployment.admin = Some(runner::AdminAccess {
            url: admin.url(),
            token: Secret::new(token),
        });
        let run = run_at(&deployment, &options, &other.url()).await.unwrap();
        let case = |name: &str| {
            run.results
                .iter()
                .find(|r| r.id == format!("a2a/keys/{name}"))
                .unwrap()
        };
        for (name, expected) in ["lifecycle-rotate", "lifecycle-revoke"]
            .into_iter()
            .zip(expected)
        {
            let case = case(name);
            assert_eq!(case.outcome, expected, "{ttl:?} {name}: {}", case.observed);
            if expected != Outcome::Pass {
                assert!(case.observed.contains("accepted"), "{}", case.observed);
            }
        }
    }
}

#[test]
fn raw_requests_are_reproduced_byte_for_byte() {
    let bytes: Vec<u8> = (0..=255u8).chain(*b"GET / HTTP/1.1\r\n\r\n").collect();
    let destination = runner::Destination {
        origin: "http://127.0.0.1:9".into(),
        host: "127.0.0.1".into(),
        port: 9,
        tls: false,
        insecure: false,
        ca_cert: None,
    };
    let command = runner::Replay::raw(destination, &bytes, &[]).command();
    let (printf, sender) = command.split_once(" | ").unwrap();
    assert!(sender.ends_with(" '127.0.0.1' 9"), "{sender}");
    let printed = std::process::Command::new("sh")
        .arg("-c")
        .arg(printf)
        .output()
        .unwrap();
    assert_eq!(printed.stdout, bytes);
}

/// The catalog of every scheme and built-in profile, with every optional
/// case that needs no flag at run time: a change to it shows in review.
#[test]
fn the_catalog_of_each_scheme() {
    for scheme in SchemeRef::all_built_in() {
        let (mut deployment, mut options) = run_config(
            scheme.clone(),
            scheme_config(),
            Duration::from_secs(1),
            Duration::from_secs(1),
            Deployment::Root,
        );
        options.skip.clear();
        deployment.admin = Some(runner::AdminAccess {
            url: "http://127.0.0.1:9".into(),
            token: Secret::new("unused"),
        });
        let listed: Vec<String> = runner::list(&deployment, &options)
            .unwrap()
            .into_iter()
            .map(|(id, description)| format!("{id:<50} {description}"))
            .collect();
        insta::assert_snapshot!(format!("catalog-{scheme}"), listed.join("\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_whose_request_cannot_be_built_is_an_error_not_left_out() {
    // A key id no HTTP header can carry: no signed request can be built.
    let scheme = SchemeId::A2a;
    let server = start(scheme, None, None).await;
    let (mut deployment, options) = run_config(
        scheme,
        scheme_config(),
        Duration::from_secs(5),
        Duration::from_secs(30),
        Deployment::Root,
    );
    deployment.key_id = "line\nbreak".into();
    let listed = runner::list(&deployment, &options).unwrap();
    let results = run_at(&deployment, &options, &server.url())
        .await
        .unwrap()
        .results;
    let ids = |ids: Vec<&str>| ids.into_iter().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        ids(results.iter().map(|r| r.id.as_str()).collect()),
        ids(listed.iter().map(|(id, _)| id.as_str()).collect()),
        "every listed case is reported"
    );
    let unbuilt: Vec<&CaseResult> = results
        .iter()
        .filter(|r| {
            r.observed
                .starts_with("not sent: the request could not be signed")
        })
        .collect();
    assert!(unbuilt.len() >= 20, "{results:#?}");
    assert!(unbuilt.iter().all(|r| r.outcome == Outcome::Error));
    assert!(
        results
            .iter()
            .find(|r| r.id == "a2a/acceptance/post")
            .is_some_and(|r| r.outcome == Outcome::Error),
        "the plain POST cannot be signed either"
    );
}

/// What real verifiers get wrong, each found by the case made for it (in
/// that case's category; `tests/controls.rs` proves the rest of the
/// catalog the same way, one control per case).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_what_real_verifiers_get_wrong() {
    use SchemeId::*;
    let all: &[SchemeId] = &SchemeId::ALL;
    let key_ids: &[SchemeId] = &[Partner, Authorization, A2a, IaJson];
    let cases: Vec<(Defect, &[SchemeId], &str)> = vec![
        // `float(ts)`, `Number(ts)`: a fraction, a sign, an exponent.
        (
            Defect::LenientTimestamps,
            all,
            "malformed/timestamp-plus-sign",
        ),
        (
            Defect::LenientTimestamps,
            all,
            "malformed/timestamp-exponent",
        ),
        (
            Defect::LenientTimestamps,
            &[Authorization, Webhook, A2a, IaJson, Quable],
            "malformed/timestamp-fractional",
        ),
        (
            Defect::LenientTimestamps,
            all,
            "malformed/timestamp-20-digits",
        ),
        // The original `authorization`: no `nonce:` line without a nonce,
        // and no replay check; a missing timestamp read as now.
        (
            Defect::OptionalField(Field::Nonce, Absent::Omitted),
            &[Authorization, A2a],
            "replay/nonce-missing-omitted",
        ),
        (
            Defect::OptionalField(Field::Timestamp, Absent::Now),
            &[Authorization, Webhook, A2a, IaJson, Quable],
            "malformed/timestamp-missing-now",
        ),
        // `hmac.compare_digest` on text raises on anything not ASCII.
        (
            Defect::ServerErrorOnNonAsciiTag,
            &[IaJson, Quable, Webhook, A2a],
            "malformed/non-ascii-x-signature",
        ),
        (
            Defect::ServerErrorOnNonAsciiTag,
            &[Authorization],
            "malformed/tag-non-ascii",
        ),
        // Unknown key ids given a secret after all.
        (
            Defect::UnknownKeysGetEmptySecret,
            key_ids,
            "keys/unknown-key-empty-secret",
        ),
        (
            Defect::UnknownKeysGetTheirIdAsSecret,
            key_ids,
            "keys/unknown-key-id-as-secret",
        ),
        // `authorization`'s parameters read leniently.
        (
            Defect::AlgorithmFromTagLength,
            &[Authorization],
            "tamper/algorithm-downgrade",
        ),
        (
            Defect::UnknownAlgorithmsAsSha256,
            &[Authorization],
            "malformed/algorithm-md5",
        ),
        (
            Defect::AcceptsAlgorithmNone,
            &[Authorization],
            "malformed/algorithm-none",
        ),
        (
            Defect::RequiresNoSignedHeaders,
            &[Authorization],
            "tamper/headers-without-host",
        ),
        (
            Defect::DefaultHeaderList,
            &[Authorization],
            "malformed/parameter-missing-headers",
        ),
        (
            Defect::UnquotedParameters,
            &[Authorization],
            "malformed/parameters-unquoted",
        ),
        (
            Defect::OptionalField(Field::Header("x-sigconform-absent".into()), Absent::Omitted),
            &[Authorization],
            "tamper/listed-header-absent-omitted",
        ),
        // Bodies nobody reads: on DELETE, or sent in chunks.
        (
            Defect::BodiesOnlyForPostPutPatch,
            key_ids,
            "tamper/body-delete",
        ),
        (Defect::IgnoresChunkedBodies, all, "acceptance/body-chunked"),
        // `partner` on a strict JSON parser, or with a JavaScript key sort
        // that assigns members: a JavaScript signer's bodies refused.
        (
            Defect::StrictJsonParser,
            &[Partner],
            "acceptance/body-lone-surrogates",
        ),
        (
            Defect::StrictJsonParser,
            &[Partner],
            "acceptance/body-beyond-double",
        ),
        (
            Defect::KeySortDropsProto,
            &[Partner],
            "acceptance/body-proto-key",
        ),
        // `if ts > 1e12: ts /= 1000`.
        (Defect::EitherUnit, all, "skew/unit-confusion"),
        // A proxy's or a parser's first copy.
        (
            Defect::FirstOfDuplicates,
            all,
            "malformed/duplicate-x-signature",
        ),
        (
            Defect::FirstOfDuplicates,
            &[Authorization],
            "malformed/duplicate-parameter-nonce",
        ),
    ];
    for (defect, schemes, case) in cases {
        for &scheme in schemes {
            let case = case.replace("x-signature", signature_header(scheme));
            let id = format!("{scheme}/{case}");
            let results = run_against(scheme, Some(defect.clone())).await;
            let found = results
                .iter()
                .find(|r| r.id == id)
                .unwrap_or_else(|| panic!("no case {id}"));
            assert_eq!(
                found.outcome,
                Outcome::Fail,
                "{defect:?}: {id}: {}",
                found.observed
            );
        }
    }
}

/// The header that carries a scheme's tag, under the test servers'
/// configuration.
fn signature_header(scheme: SchemeId) -> &'static str {
    match scheme {
        SchemeId::Authorization => "authorization",
        SchemeId::Webhook => "x-webhook-signature",
        SchemeId::IaJson => "x-ia-signature",
        _ => "x-signature",
    }
}

/// A nonce store that forgets in seconds: the replay after a pause finds
/// it; with `--slow` (here a 10 s window), one that forgets at half the
/// window is found by the replay near its end, which the pause misses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finds_a_nonce_store_that_forgets_before_the_window_ends() {
    let replay = |forgets_after_ms: u64, slow: bool| async move {
        let mut scheme_config = scheme_config();
        scheme_config.tolerance_past = Some(10);
        scheme_config.tolerance_future = Some(10);
        let mut server = common::server_config(
            SchemeId::A2a,
            Some(Defect::ForgetsNoncesAfter(forgets_after_ms)),
            common::API,
        );
        server.scheme_config = scheme_config.clone();
        let server = common::start_with(server).await;
        let (deployment, mut options) = run_config(
            SchemeId::A2a,
            scheme_config,
            Duration::from_secs(5),
            Duration::from_secs(40),
            common::API,
        );
        options.skip.clear();
        options.only = vec![glob::Pattern::new("a2a/replay/*").unwrap()];
        options.slow = slow;
        run_at(&deployment, &options, &common::API.target(&server))
            .await
            .unwrap()
            .results
    };
    let outcome = |results: &[CaseResult], name: &str| {
        results
            .iter()
            .find(|r| r.id == format!("a2a/replay/{name}"))
            .map(|r| r.outcome)
    };
    let quick = replay(2000, false).await;
    assert_eq!(outcome(&quick, "after-pause"), Some(Outcome::Fail));
    assert_eq!(outcome(&quick, "identical"), Some(Outcome::Pass));
    assert_eq!(outcome(&quick, "near-window-end"), None, "only with --slow");
    let slow = replay(5000, true).await;
    assert_eq!(outcome(&slow, "after-pause"), Some(Outcome::Pass));
    assert_eq!(outcome(&slow, "near-window-end"), Some(Outcome::Fail));
    // A store that keeps nonces for the whole window passes both.
    let correct = replay(u64::MAX, true).await;
    assert_eq!(outcome(&correct, "after-pause"), Some(Outcome::Pass));
    assert_eq!(outcome(&correct, "near-window-end"), Some(Outcome::Pass));
}

/// Each way of reading a component that loses information, and each crash
/// behind a structure check, is found by exactly the cases made for it:
/// nothing else in the catalog fails against a server with that defect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_family_is_found_by_its_own_cases_alone() {
    use SchemeId::*;
    use sigconform_core::lossy::{Component, LossyRead};
    let mut cases: Vec<(Defect, SchemeId, Vec<String>)> = Vec::new();
    for read in LossyRead::ALL {
        let schemes: &[SchemeId] = match read {
            // Whitespace and line endings between JSON tokens are no
            // change to `partner`'s canonical JSON.
            LossyRead::TrimmedBody | LossyRead::BodyLineEndings => {
                &[Authorization, A2a, IaJson, Quable]
            }
            _ if read.component() == Component::Path => &[Authorization, A2a],
            // Where the query is signed as sent (a profile's `{url}`:
            // `tests/profiles.rs`); the seeds sign it sorted and decoded,
            // or not at all.
            _ if read.component() == Component::Query => &[],
            _ => &[Partner, Authorization, A2a, IaJson, Quable],
        };
        for &scheme in schemes {
            cases.push((
                Defect::ReadsLossily(read),
                scheme,
                vec![format!("tamper/{}", read.name())],
            ));
        }
    }
    // A base64 tag in other letter case is another tag.
    for scheme in [A2a, Quable] {
        cases.push((
            Defect::CaseFoldedTagCompare,
            scheme,
            vec!["tamper/tag-uppercase".into()],
        ));
    }
    // stripe-node's `timingSafeEqual`: reached only by a tag of the right
    // length in characters.
    for scheme in [Partner, Authorization, A2a, IaJson, Quable, Webhook] {
        cases.push((
            Defect::ServerErrorOnTagByteLength,
            scheme,
            vec![
                "malformed/tag-one-emoji".into(),
                "malformed/tag-one-non-ascii".into(),
            ],
        ));
    }
    // A key id inside a composite header, looked up as ASCII.
    for scheme in [Partner, Authorization] {
        cases.push((
            Defect::ServerErrorOnNonAsciiKeyId,
            scheme,
            vec![
                "malformed/key-id-one-emoji".into(),
                "malformed/key-id-one-non-ascii".into(),
            ],
        ));
    }
    for (defect, scheme, expected) in cases {
        let results = run_against(scheme, Some(defect.clone())).await;
        assert_eq!(
            not_passed(&results, scheme.as_str()),
            expected,
            "{scheme}: {defect:?}"
        );
    }
    // Upper-case hex is the same tag: a case-folding compare is no defect.
    let results = run_against(Authorization, Some(Defect::CaseFoldedTagCompare)).await;
    assert!(not_passed(&results, Authorization.as_str()).is_empty());
}

/// The terminal report shows what needs attention: failures, errors and
/// warnings in full, `info` and `skip` only counted unless verbose; the
/// heading names the scheme.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_report_shows_what_needs_attention() {
    let results = run_against(SchemeId::A2a, Some(Defect::IgnoresExpiry)).await;
    let run = run_of(results);
    let text = |verbose| {
        runner::render_text(
            "t",
            &run,
            &mut runner::Files::new("target/unused"),
            &runner::TextOptions {
                scheme: "a2a",
                verbose,
            },
        )
    };
    let short = text(false);
    assert!(short.starts_with("target t, a2a "), "{short}");
    assert!(short.contains("FAIL"), "{short}");
    // A change the scheme does not sign (a2a signs no query), accepted, is
    // what the scheme allows: `info`, counted, not a warning to act on.
    let query = run
        .results
        .iter()
        .find(|r| r.id == "a2a/tamper/query")
        .unwrap();
    assert_eq!(query.outcome, Outcome::Info, "{}", query.observed);
    assert!(!short.contains("WARN"), "{short}");
    assert!(short.contains("reproduce: "), "{short}");
    // Each case shown names its rule by an id of docs/rules/, with its text.
    let cited: Vec<&str> = short
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("rule "))
        .collect();
    assert!(!cited.is_empty(), "{short}");
    for line in cited {
        let (id, text) = line.split_once(": ").unwrap();
        let rule = sigconform_core::rules::by_id(id).unwrap();
        assert!(text.starts_with(&rule.text), "{line}");
    }
    assert!(
        !short.contains("INFO ") && !short.contains("SKIP "),
        "{short}"
    );
    assert!(
        short.contains("info and skip cases counted above"),
        "{short}"
    );
    let long = text(true);
    assert!(long.contains("INFO ") && long.contains("SKIP "), "{long}");
    assert!(!long.contains("counted above"));
}

/// SigV4 for another service than S3: S3's payload forms and payload-hash
/// rules are `skip` with the reason, and so are the cases that cannot be
/// built there; a body changed under a signed `x-amz-content-sha256` is
/// still refused; a correct server has no failure and no error.
/// The catalog's results against a correct server of `scheme` under
/// `/api`, both configured with `config`.
async fn configured(scheme: SchemeId, config: SchemeConfig) -> Vec<CaseResult> {
    let setup = common::server_config_with(scheme, config.clone(), None, common::API);
    let server = common::start_with(setup).await;
    let (deployment, options) = run_config(
        scheme,
        config,
        Duration::from_secs(5),
        Duration::from_secs(30),
        common::API,
    );
    run_at(&deployment, &options, &common::API.target(&server))
        .await
        .unwrap()
        .results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigv4_for_another_service_skips_what_only_s3_has() {
    let other = SchemeConfig {
        service: Some("execute-api".into()),
        ..scheme_config()
    };
    let results = configured(SchemeId::Sigv4, other).await;
    let bad = bad(&results);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    let outcome = |id: &str| {
        results
            .iter()
            .find(|r| r.id == format!("sigv4/{id}"))
            .map(|r| (r.outcome, r.observed.clone()))
    };
    for id in [
        "acceptance/unsigned-payload",
        "acceptance/chunked-upload",
        "tamper/chunk-changed",
        "tamper/chunk-final-missing",
        "tamper/amz-header-unsigned",
        "tamper/body-hash-missing-omitted",
        "malformed/body-hash-one-emoji",
    ] {
        let (outcome, why) = outcome(id).unwrap_or_else(|| panic!("{id}: not in the catalog"));
        assert_eq!(outcome, Outcome::Skip, "{id}");
        assert!(why.contains("execute-api"), "{id}: {why}");
    }
    for id in [
        "tamper/body-with-content-sha256",
        "acceptance/path-normalised",
        "tamper/path-not-normalised",
        "acceptance/path-double-encoded",
        "tamper/path-encoded-once",
    ] {
        assert_eq!(outcome(id).map(|o| o.0), Some(Outcome::Pass), "{id}");
    }
}

/// An RFC 9421 target told to require only `@method @authority @path`
/// need not have the body covered: a body sent with a signature made as if
/// there were none breaks no rule of its configuration (`info`), while the
/// default configuration, which requires `content-digest` with a body,
/// refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_the_target_does_not_require_covered_is_not_a_failure() {
    let body_delete = |results: &[CaseResult]| {
        results
            .iter()
            .find(|r| r.id == "rfc9421/tamper/body-delete")
            .map(|r| r.outcome)
    };
    for (covered, expected) in [
        (Some("@method @authority @path"), Outcome::Info),
        (None, Outcome::Pass),
    ] {
        let config = SchemeConfig {
            required_headers: covered.map(|c| c.split(' ').map(str::to_owned).collect()),
            ..scheme_config()
        };
        let results = configured(SchemeId::Rfc9421, config).await;
        let bad = bad(&results);
        assert!(bad.is_empty(), "{covered:?}: {}", bad.join("\n"));
        assert_eq!(body_delete(&results), Some(expected), "{covered:?}");
    }
}

/// Each lenient decoder, on the tag, the body hash or the timestamp, is
/// found by the decoding cases of exactly the decorations it reads as the
/// right value (`crates/core/src/lenient.rs` says which), and by nothing
/// else but, on a timestamp, the spellings it reads as now (`parseInt`
/// reads `<now>e0`, and `<now - 1>.5` where `.` does not separate parts;
/// a decoder that drops whitespace reads `<now>` with a space around it
/// where HTTP does not trim it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_lenient_decoder_is_found_by_its_own_cases_alone() {
    use sigconform_core::lenient::{self, Alphabet, Decoration, LenientDecoder};
    let field_name = |field: &Field| match field {
        Field::Timestamp => "timestamp",
        Field::BodyHash => "body-hash",
        _ => "tag",
    };
    let sample = |alphabet: Alphabet| match alphabet {
        Alphabet::LowerHex => "00112233445566778899aabbccddeeff".to_owned(),
        Alphabet::Base64 => "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".to_owned(),
        Alphabet::Decimal => "1700000000".to_owned(),
    };
    let mut runs = 0;
    // `a2a`: a base64 tag and body hash, a timestamp in a header of its
    // own; `partner`: a hex tag and a timestamp in milliseconds, both
    // parts of one header.
    for scheme in [SchemeId::A2a, SchemeId::Partner] {
        let built = scheme.build(&scheme_config()).unwrap();
        for field in lenient::DECODED {
            let Some((_, alphabet)) = lenient::written_in(built.as_ref(), &field) else {
                continue;
            };
            let value = sample(alphabet);
            for decoder in LenientDecoder::ALL {
                let mut expected: Vec<String> = Decoration::ALL
                    .into_iter()
                    .filter(|d| {
                        d.apply(alphabet, &value, ' ').is_some_and(|decorated| {
                            decoder.read(alphabet, &decorated).as_deref() == Some(value.as_str())
                        })
                    })
                    .map(|d| format!("malformed/{}-{}", field_name(&field), d.name()))
                    .collect();
                if expected.is_empty() {
                    // A decoder of another alphabet decodes this field strictly.
                    continue;
                }
                // Whitespace around a timestamp that is a part of a header
                // (not trimmed as a header's whole value is).
                if (field.clone(), decoder) == (Field::Timestamp, LenientDecoder::SkipsWhitespace)
                    && scheme == SchemeId::Partner
                {
                    expected.extend([
                        "malformed/timestamp-leading-space".to_owned(),
                        "malformed/timestamp-trailing-space".to_owned(),
                    ]);
                }
                if (field.clone(), decoder)
                    == (Field::Timestamp, LenientDecoder::IgnoresTrailingData)
                {
                    expected.push("malformed/timestamp-exponent".to_owned());
                    match scheme {
                        // (`partner`'s `.` separates the parts of its
                        // header, whose spaces HTTP does not trim.)
                        SchemeId::Partner => {
                            expected.push("malformed/timestamp-trailing-space".to_owned())
                        }
                        _ => expected.push("malformed/timestamp-fractional".to_owned()),
                    }
                }
                expected.sort();
                let defect = Defect::DecodesLeniently(field.clone(), decoder);
                let results = run_against(scheme, Some(defect.clone())).await;
                assert_eq!(
                    not_passed(&results, scheme.as_str()),
                    expected,
                    "{scheme}: {defect:?}"
                );
                runs += 1;
            }
        }
    }
    assert!(runs >= 20, "{runs}");
}

/// A refusal says nothing the verifier computed: not the reference server's,
/// diagnosing or not (it logs what it expected, and never answers it); and
/// a verifier that says one thing is found by the case of that thing alone,
/// which names the other refusals of the run that said it too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_say_nothing_they_should_not() {
    let scheme = SchemeId::Authorization;
    let mut setup = common::server_config(scheme, None, common::API);
    setup.diagnose = true;
    let server = common::start_with(setup).await;
    let (deployment, options) = run_config(
        scheme,
        scheme_config(),
        Duration::from_secs(5),
        Duration::from_secs(30),
        common::API,
    );
    let results = run_at(&deployment, &options, &common::API.target(&server))
        .await
        .unwrap()
        .results;
    drop(server);
    assert!(bad(&results).is_empty(), "{:?}", bad(&results));
    let disclosure = |results: &[CaseResult], kind: &str| {
        results
            .iter()
            .find(|r| r.id == format!("{scheme}/malformed/refusal-discloses-{kind}"))
            .cloned()
            .unwrap()
    };
    for kind in ["tag", "signed-string", "body-hash"] {
        assert_eq!(disclosure(&results, kind).outcome, Outcome::Pass, "{kind}");
    }
    for (defect, kind, outcome) in [
        (Defect::DisclosesExpectedTag, "tag", Outcome::Fail),
        (
            Defect::DisclosesSignedString,
            "signed-string",
            Outcome::Warn,
        ),
        (Defect::DisclosesBodyHash, "body-hash", Outcome::Warn),
    ] {
        let results = run_against(scheme, Some(defect.clone())).await;
        let flagged: Vec<&str> = results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Fail | Outcome::Warn | Outcome::Error))
            .map(|r| r.id.as_str())
            .collect();
        let case = disclosure(&results, kind);
        assert_eq!(flagged, [case.id.as_str()], "{defect:?}");
        assert_eq!(case.outcome, outcome, "{defect:?}");
        assert!(
            case.observed.contains("refusals of other cases say")
                && case.observed.contains(" more"),
            "{defect:?}: {}",
            case.observed
        );
    }
}
