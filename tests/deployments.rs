//! The runner against servers deployed as verifiers are in the field: over
//! TLS, as one route that takes one method, behind a rate-limiting front or
//! a gateway that wants a header of its own, routing one path only; and the
//! reports a person reads afterwards (short reproductions, the HTML page in
//! a real browser).

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{
    API, Deployment, SECRET, bad, certificates, run_at, run_config, scheme_config, server_config,
    start_with,
};
use sigconform_core::scheme::SchemeId;
use sigconform_runner::{self as runner, CaseResult, Outcome, RunError};
use sigconform_server::{Defect, RateLimit};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("deployments")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn config_for(
    scheme: SchemeId,
    deployment: Deployment,
) -> (runner::Deployment, runner::RunOptions) {
    run_config(
        scheme,
        scheme_config(),
        Duration::from_secs(5),
        Duration::from_secs(60),
        deployment,
    )
}

/// The run of [`config_for`]`(scheme, deployment)` against `target`.
async fn run_as(
    scheme: SchemeId,
    deployment: Deployment,
    target: &str,
) -> Result<runner::Run, RunError> {
    let (probed, options) = config_for(scheme, deployment);
    run_at(&probed, &options, target).await
}

fn case<'a>(results: &'a [CaseResult], id: &str) -> &'a CaseResult {
    results
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no case {id}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_full_catalog_over_tls() {
    let dir = scratch("tls");
    let (ca, cert, key) = certificates(&dir);
    for scheme in [SchemeId::Authorization, SchemeId::Webhook] {
        let mut config = server_config(scheme, None, API);
        config.tls = Some(sigconform_server::tls::server_config(&cert, &key).unwrap());
        let server = start_with(config).await;
        let target = API.target(&server);
        assert!(target.starts_with("https://127.0.0.1:"), "{target}");

        // Trusting the private CA: clean, raw-TCP cases (over TLS) included.
        let (probed, mut run) = config_for(scheme, API);
        run.tls.ca_cert = Some(ca.clone());
        let verified = run_at(&probed, &run, &target).await.unwrap();
        assert!(!verified.insecure);
        assert!(
            bad(&verified.results).is_empty(),
            "{scheme}: {:?}",
            bad(&verified.results)
        );
        let raw = case(
            &verified.results,
            &format!("{scheme}/acceptance/header-names-uppercase"),
        );
        assert_eq!(raw.outcome, Outcome::Pass);
        assert!(
            raw.reproduce.contains("openssl s_client"),
            "{}",
            raw.reproduce
        );
        assert!(raw.reproduce.contains("--cacert") || !raw.reproduce.contains("curl"));

        // Not trusting it: one clear error, no run.
        let untrusted = run_as(scheme, API, &target).await.unwrap_err();
        assert!(
            matches!(untrusted, RunError::Certificate(..)),
            "{untrusted}"
        );
        let message = untrusted.to_string();
        assert!(!message.contains('\n'), "{message}");
        assert!(
            message.contains("--ca-cert") && message.contains("--insecure"),
            "{message}"
        );

        // --insecure: clean, and every report says the certificate went unverified.
        let (probed, mut insecure) = config_for(scheme, API);
        insecure.tls.insecure = true;
        let unverified = run_at(&probed, &insecure, &target).await.unwrap();
        assert!(unverified.insecure);
        assert!(
            bad(&unverified.results).is_empty(),
            "{:?}",
            bad(&unverified.results)
        );
        let reports = [(target.clone(), unverified.clone())];
        let text = runner::render_text(
            &target,
            &unverified,
            &mut runner::Files::new(&dir),
            &Default::default(),
        );
        assert!(text.contains("NOT verified (--insecure)"), "{text}");
        let json = runner::render_json(&reports);
        assert_eq!(json["insecure"], true);
        assert_eq!(json["targets"][0]["tls_verified"], false);
        let junit = runner::render_junit(&reports).unwrap();
        assert!(junit.contains("NOT verified (--insecure)"), "{junit}");
        assert!(runner::render_html(&reports).contains("NOT verified (--insecure)"));
        let post = case(&unverified.results, &format!("{scheme}/acceptance/post"));
        assert!(
            post.reproduce.starts_with("curl -sS -k "),
            "{}",
            post.reproduce
        );
    }
}

/// A self-signed certificate for `names` made as `openssl req -x509` makes
/// one (marked as a CA), written as PEM: the certificate and its key.
fn self_signed(dir: &Path, names: &[&str]) -> (PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let files = (
        dir.join(format!("{}.pem", names[0])),
        dir.join(format!("{}.key", names[0])),
    );
    std::fs::write(&files.0, cert.pem()).unwrap();
    std::fs::write(&files.1, key.serialize_pem()).unwrap();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_certificate_named_by_ca_cert() {
    let dir = scratch("self-signed");
    let scheme = SchemeId::Webhook;
    // For the host: trusted when --ca-cert names it, as curl trusts it.
    let (cert, key) = self_signed(&dir, &["127.0.0.1"]);
    let mut config = server_config(scheme, None, API);
    config.tls = Some(sigconform_server::tls::server_config(&cert, &key).unwrap());
    let server = start_with(config).await;
    let (probed, mut run) = config_for(scheme, API);
    run.tls.ca_cert = Some(cert.clone());
    let verified = run_at(&probed, &run, &API.target(&server)).await.unwrap();
    assert!(!verified.insecure);
    assert!(
        bad(&verified.results).is_empty(),
        "{:?}",
        bad(&verified.results)
    );
    // Not named: the message says what is wrong with it and what to pass.
    let message = run_as(scheme, API, &API.target(&server))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("CA certificate") && message.contains("--ca-cert"),
        "{message}"
    );
    // Named, but for another host: refused, and the message says so.
    let (other, other_key) = self_signed(&dir, &["sigconform.test"]);
    let mut config = server_config(scheme, None, API);
    config.tls = Some(sigconform_server::tls::server_config(&other, &other_key).unwrap());
    let server = start_with(config).await;
    run.tls.ca_cert = Some(other);
    let refused = run_at(&probed, &run, &API.target(&server))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, RunError::CertificateWithCaFile(..)),
        "{refused}"
    );
    let message = refused.to_string();
    assert!(
        message.contains("does not name the host") && !message.contains('\n'),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_that_takes_only_post() {
    // One route, POST only: the methods nobody asked for are skipped,
    // with the reason; everything else is clean.
    let route = Deployment::Route("/webhooks/payment", &["POST"]);
    for scheme in [SchemeId::A2a, SchemeId::Authorization, SchemeId::Webhook] {
        let server = start_with(server_config(scheme, None, route)).await;
        let results = run_as(scheme, route, &route.target(&server))
            .await
            .unwrap()
            .results;
        assert!(bad(&results).is_empty(), "{scheme}: {:?}", bad(&results));
        // (Cases that cannot apply to a header-borne timestamp or a fixed
        // route are `skip` whatever the target routes.)
        let skipped: Vec<&CaseResult> = results
            .iter()
            .filter(|r| r.outcome == Outcome::Skip && r.observed.contains("answered"))
            .collect();
        if scheme == SchemeId::Webhook {
            // A webhook's senders use POST only: nothing else is tried.
            assert!(skipped.is_empty(), "{skipped:?}");
            continue;
        }
        for method in ["get", "put", "delete"] {
            let r = case(&results, &format!("{scheme}/acceptance/{method}"));
            assert_eq!(r.outcome, Outcome::Skip, "{}", r.observed);
            assert_eq!(
                r.observed,
                format!("POST only: {} answered 405", method.to_uppercase())
            );
        }
        assert_eq!(
            case(
                &results,
                &format!("{scheme}/acceptance/get-query-parameters")
            )
            .outcome,
            Outcome::Skip
        );
        // Named on the command line, a method must be accepted.
        let (mut probed, mut explicit) = config_for(scheme, route);
        probed.methods = vec![http::Method::POST, http::Method::GET];
        explicit.only = vec![glob::Pattern::new("*/acceptance/*").unwrap()];
        let results = run_at(&probed, &explicit, &route.target(&server))
            .await
            .unwrap()
            .results;
        let get = case(&results, &format!("{scheme}/acceptance/get"));
        assert_eq!(get.outcome, Outcome::Fail, "{}", get.observed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_answered_404_like_an_unsigned_request_is_skipped() {
    // A router that answers 404 to methods it does not route (as many do):
    // skipped only because an unsigned request of the method gets the same.
    let route = Deployment::Route("/hook", &["POST"]);
    let mut config = server_config(SchemeId::A2a, None, route);
    config.mount = sigconform_server::Mount::Route {
        path: "/hook".into(),
        methods: vec![http::Method::POST],
        not_found_for_other_methods: true,
    };
    let server = start_with(config).await;
    let (probed, mut run) = config_for(SchemeId::A2a, route);
    run.only = vec![glob::Pattern::new("*/acceptance/*").unwrap()];
    let results = run_at(&probed, &run, &route.target(&server))
        .await
        .unwrap()
        .results;
    assert_eq!(case(&results, "a2a/acceptance/get").outcome, Outcome::Skip);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limiting_front_is_never_evidence() {
    // 429 without Retry-After once 12 requests went through: every case
    // after that is inconclusive, never a pass.
    let budget = 12;
    let mut config = server_config(SchemeId::A2a, None, API);
    config.front.rate_limit = Some(RateLimit {
        requests: budget,
        window: Duration::from_secs(3600),
        retry_after: None,
    });
    let server = start_with(config).await;
    let results = run_as(SchemeId::A2a, API, &API.target(&server))
        .await
        .unwrap()
        .results;
    let passed = results
        .iter()
        .filter(|r| r.outcome == Outcome::Pass)
        .count();
    assert!(
        passed <= budget,
        "{passed} passed with a budget of {budget}"
    );
    let limited: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.observed.contains("429"))
        .collect();
    assert!(limited.len() > 40, "{}", limited.len());
    for r in limited {
        let negative = !r.expected.starts_with("2xx (accepted)");
        if negative {
            assert_eq!(r.outcome, Outcome::Error, "{}: {}", r.id, r.observed);
            assert!(
                r.observed
                    .starts_with("inconclusive: 429 Too Many Requests"),
                "{}",
                r.observed
            );
        } else {
            assert_eq!(r.outcome, Outcome::Fail, "{}: {}", r.id, r.observed);
        }
    }

    // With Retry-After: 1 the runner waits as asked, and the run is clean.
    let mut config = server_config(SchemeId::A2a, None, API);
    config.front.rate_limit = Some(RateLimit {
        requests: 25,
        window: Duration::from_secs(1),
        retry_after: Some(1),
    });
    let server = start_with(config).await;
    let run = run_as(SchemeId::A2a, API, &API.target(&server))
        .await
        .unwrap();
    assert!(bad(&run.results).is_empty(), "{:?}", bad(&run.results));
    let retried: Vec<&CaseResult> = run
        .results
        .iter()
        .filter(|r| !r.retries.is_empty())
        .collect();
    assert!(!retried.is_empty());
    assert!(
        retried[0].retries[0].starts_with("429 (Retry-After 1 s)"),
        "{:?}",
        retried[0].retries
    );
    let json = runner::render_json(&[("t".into(), run)]).to_string();
    assert!(
        json.contains("\"retries\":[\"429 (Retry-After 1 s)"),
        "retries are in the report"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_routing_one_path_makes_path_tamper_inconclusive() {
    // 404 everywhere but the runner's own probe path: a changed path never
    // reaches a verifier, so it proves nothing.
    let one_path = Deployment::Route("/sigconform/probe", &[]);
    let server = start_with(server_config(SchemeId::A2a, None, one_path)).await;
    let (mut run, options) = config_for(SchemeId::A2a, Deployment::Root);
    run.fixed_route = Some(false);
    let results = run_at(&run, &options, &server.url()).await.unwrap().results;
    for id in ["a2a/tamper/path", "a2a/tamper/path-dot-segments"] {
        let r = case(&results, id);
        assert_eq!(r.outcome, Outcome::Error, "{id}: {}", r.observed);
        assert!(
            r.observed.starts_with("inconclusive: 404 Not Found"),
            "{}",
            r.observed
        );
    }
    // Everything sent to the one path is judged as usual.
    assert_eq!(case(&results, "a2a/tamper/body").outcome, Outcome::Pass);
    assert_eq!(case(&results, "a2a/acceptance/post").outcome, Outcome::Pass);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_header_goes_with_every_request_and_never_into_a_report() {
    let token = "gw-token-0123456789";
    let name = http::HeaderName::from_static("x-gateway-token");
    let mut config = server_config(SchemeId::Authorization, None, API);
    config.front.required_header = Some((name.clone(), token.into()));
    let server = start_with(config).await;
    let target = API.target(&server);
    let (probed, mut run) = config_for(SchemeId::Authorization, API);
    run.extra_headers = vec![runner::ExtraHeader {
        name,
        value: sigconform_core::Secret::new(token),
        from_env: Some("GATEWAY_TOKEN".into()),
    }];
    let done = run_at(&probed, &run, &target).await.unwrap();
    assert!(bad(&done.results).is_empty(), "{:?}", bad(&done.results));
    let dir = scratch("gateway");
    let reports = [(target.clone(), done.clone())];
    for report in [
        runner::render_text(
            &target,
            &done,
            &mut runner::Files::new(&dir),
            &Default::default(),
        ),
        runner::render_json(&reports).to_string(),
        runner::render_junit(&reports).unwrap(),
        runner::render_html(&reports),
    ] {
        assert!(!report.contains(token), "the gateway's token leaked");
        assert!(!report.contains(SECRET));
    }
    let post = case(&done.results, "authorization/acceptance/post");
    assert!(
        post.reproduce.contains("x-gateway-token: ${GATEWAY_TOKEN}"),
        "{}",
        post.reproduce
    );

    // Without it, the gateway turns everything away: acceptance fails and
    // no negative case passes on the gateway's answer.
    let results = run_as(SchemeId::Authorization, API, &target)
        .await
        .unwrap()
        .results;
    assert!(
        results.iter().all(|r| r.outcome != Outcome::Pass),
        "{:?}",
        results
            .iter()
            .filter(|r| r.outcome == Outcome::Pass)
            .map(|r| &r.id)
            .collect::<Vec<_>>()
    );
}

/// Runs `command` with `sh -c`, with `env` set; its standard output.
fn shell(command: &str, env: &[(&str, &str)]) -> Vec<u8> {
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn has(program: &str) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_failing_case_is_reproduced_from_a_file() {
    // A verifier that reads only its first 16 KiB fails the 64 KiB body.
    let server = start_with(server_config(
        SchemeId::Webhook,
        Some(Defect::ReadsFirstChunkOnly),
        API,
    ))
    .await;
    let (mut probed, mut run) = config_for(SchemeId::Webhook, API);
    probed.fixed_route = Some(false);
    run.only = vec![glob::Pattern::new("*/acceptance/*").unwrap()];
    let target = API.target(&server);
    let done = run_at(&probed, &run, &target).await.unwrap();
    let large = case(&done.results, "webhook/acceptance/body-64k");
    assert_eq!(large.outcome, Outcome::Fail, "{}", large.observed);

    let dir = scratch("artifacts");
    let mut files = runner::Files::new(dir.join("run"));
    let text = runner::render_text(&target, &done, &mut files, &Default::default());
    let command = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("reproduce: "))
        .expect("a reproduction is printed");
    assert!(
        command.len() < 600,
        "the command carries the payload: {} bytes",
        command.len()
    );
    assert!(command.contains("--data-binary @'"), "{command}");
    assert!(
        command.contains(&format!("{target}/sigconform/probe")),
        "{command}"
    );
    let body = std::fs::read(files.dir().join("webhook-acceptance-body-64k.body")).unwrap();
    assert_eq!(body.len(), 64 * 1024);
    // The JSON report keeps the whole command.
    assert!(large.reproduce.len() > 64 * 1024);

    if !has("curl") {
        assert!(
            std::env::var_os("SIGCONFORM_REQUIRE_SERVICES").is_none(),
            "curl is required here"
        );
        eprintln!("curl not installed: the command was not run (cargo xtask test installs it)");
        return;
    }
    // Run as printed, it gets the answer the runner observed.
    let answer = String::from_utf8(shell(command, &[])).unwrap();
    let observed_body = large.observed.split_once(' ').unwrap().1;
    assert!(large.observed.starts_with("401 "), "{}", large.observed);
    assert_eq!(answer, observed_body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_reproductions_of_a_prefixed_target_send_its_path() {
    let server = start_with(server_config(SchemeId::A2a, None, API)).await;
    let (probed, mut run) = config_for(SchemeId::A2a, API);
    run.only = vec![glob::Pattern::new("*/acceptance/header-names-*").unwrap()];
    let results = run_at(&probed, &run, &API.target(&server))
        .await
        .unwrap()
        .results;
    let raw = case(&results, "a2a/acceptance/header-names-uppercase");
    assert_eq!(raw.outcome, Outcome::Pass, "{}", raw.observed);
    let (printf, sender) = raw.reproduce.split_once(" | ").unwrap();
    assert!(
        sender.starts_with("python3 -c ")
            && sender.ends_with(&format!(" '127.0.0.1' {}", server.addr().port())),
        "{sender}"
    );
    let bytes = shell(printf, &[]);
    assert!(
        bytes.starts_with(b"POST /api/sigconform/probe?page=1 HTTP/1.1\r\n"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(
        String::from_utf8_lossy(&bytes)
            .contains(&format!("HOST: 127.0.0.1:{}", server.addr().port()))
    );
}

/// A sample of reproductions run as printed, with only what a fresh machine
/// has (sh, curl, python3): an empty header value, a header value that is
/// not UTF-8, a body that is not UTF-8, a raw request, an accepted request.
/// Each gets the answer the runner observed (`webhook` has no nonce, so an
/// accepted request is accepted again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reproductions_get_the_answer_observed() {
    if !has("curl") {
        assert!(
            std::env::var_os("SIGCONFORM_REQUIRE_SERVICES").is_none(),
            "curl is required here"
        );
        eprintln!("curl not installed: no command was run (cargo xtask test installs it)");
        return;
    }
    let route = Deployment::Route("/hook", &["POST"]);
    let server = start_with(server_config(SchemeId::Webhook, None, route)).await;
    let results = run_as(SchemeId::Webhook, route, &route.target(&server))
        .await
        .unwrap()
        .results;
    for id in [
        "malformed/empty-x-webhook-timestamp",
        "malformed/non-utf8-x-webhook-signature",
        "malformed/tag-one-non-utf8",
        "tamper/body-invalid-utf8",
        "acceptance/header-names-uppercase",
        "acceptance/post",
    ] {
        let case = case(&results, &format!("webhook/{id}"));
        let (status, body) = case.observed.split_once(' ').unwrap();
        let answer = String::from_utf8(shell(&case.reproduce, &[])).unwrap();
        if case.reproduce.contains("curl -sS") {
            assert_eq!(answer, body, "{id}: {}", case.reproduce);
        } else {
            assert!(
                answer.starts_with(&format!("HTTP/1.1 {status} ")) && answer.ends_with(body),
                "{id}: {answer}"
            );
        }
    }
}
