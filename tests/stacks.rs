//! The runner's transport against servers as they behave in the field: a
//! server that closes its connection after every error answer without
//! saying so, and verifiers on three real HTTP stacks (uvicorn, a Python
//! ASGI server installed from PyPI; Node's `http`; hyper, the reference
//! server). Ten runs against each give the same verdicts and no `error`:
//! the transport never invents one.

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use sigconform_core::scheme::{SchemeConfig, SchemeId};
use sigconform_core::{MemoryNonceStore, StaticKeys, SystemClock, Verifier};
use sigconform_runner::{self as runner, Outcome};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How many times each target is probed.
const RUNS: usize = 10;

/// The `webhook` catalog at `url` (one route), as id → outcome.
async fn verdicts(url: &str) -> BTreeMap<String, Outcome> {
    let (deployment, options) = run_config(
        SchemeId::Webhook,
        SchemeConfig::default(),
        Duration::from_secs(5),
        Duration::from_secs(60),
        Deployment::Route("/hook", &["POST"]),
    );
    run_at(&deployment, &options, url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .results
        .into_iter()
        .map(|r| (r.id, r.outcome))
        .collect()
}

/// Probes `url` [`RUNS`] times: every run gives the verdicts of the first,
/// and none is `error`.
async fn same_verdicts_every_run(stack: &str, url: &str) {
    let first = verdicts(url).await;
    let errors: Vec<_> = first
        .iter()
        .filter(|(_, o)| **o == Outcome::Error)
        .collect();
    assert!(errors.is_empty(), "{stack}: errors {errors:?}");
    assert!(
        first.values().filter(|o| **o == Outcome::Pass).count() > 20,
        "{stack}: the verifier does not verify: {first:?}"
    );
    for run in 1..RUNS {
        let again = verdicts(url).await;
        let differ: Vec<_> = first
            .iter()
            .filter(|(id, o)| again.get(*id) != Some(o))
            .map(|(id, o)| format!("{id}: {o:?} then {:?}", again.get(id)))
            .collect();
        assert!(differ.is_empty(), "{stack}, run {}: {differ:?}", run + 1);
    }
}

/// A `webhook` verifier on raw TCP, on a loopback port: its URL.
async fn raw_verifier(behaviour: Behaviour) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let scheme = SchemeId::Webhook.build(&scheme_config()).unwrap();
    let verifier = Arc::new(Verifier::new(
        scheme,
        Arc::new(SystemClock),
        Arc::new(MemoryNonceStore::default()),
        Arc::new(StaticKeys::from_pairs([("default", SECRET)])),
        Default::default(),
    ));
    let behaviour = Arc::new(behaviour);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, verifier.clone(), behaviour.clone()));
        }
    });
    url
}

/// How a [`raw_verifier`] misbehaves.
enum Behaviour {
    /// It answers an error and then closes the connection at once, without
    /// `Connection: close` (as servers do that will not read on after an
    /// error); it keeps accepted requests' connections alive.
    ClosesAfterErrors,
    /// It answers the first request dated ahead of its clock this late,
    /// judging it by its clock then (a loaded server).
    LateOnce(Duration, std::sync::atomic::AtomicBool),
}

/// Answers requests on `stream` as `behaviour` says.
async fn serve(
    mut stream: tokio::net::TcpStream,
    verifier: Arc<Verifier>,
    behaviour: Arc<Behaviour>,
) {
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_request(&mut stream, &mut buf).await else {
            return;
        };
        if let Behaviour::LateOnce(delay, delayed) = behaviour.as_ref()
            && dated_ahead(&verifier, &req)
            && !delayed.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            tokio::time::sleep(*delay).await;
        }
        let accepted = verifier.verify(&req).await.is_ok();
        let answer: &[u8] = if accepted {
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
        } else {
            b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 6\r\n\r\ndenied"
        };
        let closes = matches!(behaviour.as_ref(), Behaviour::ClosesAfterErrors) && !accepted;
        if stream.write_all(answer).await.is_err() || closes {
            return; // closed without a word
        }
    }
}

/// Whether `req` carries a timestamp ahead of the verifier's clock.
fn dated_ahead(verifier: &Verifier, req: &sigconform_core::Request) -> bool {
    let scheme = verifier.scheme();
    let now = scheme
        .window()
        .unit
        .from_ms(sigconform_core::Clock::now_ms(&SystemClock));
    scheme
        .location(&sigconform_core::scheme::Field::Timestamp)
        .and_then(|at| at.read(req)?.parse::<u64>().ok())
        .is_some_and(|timestamp| timestamp > now + 1)
}

/// One request from `stream` (a `content-length` body, or a chunked one),
/// keeping what follows it in `buf`.
async fn read_request(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
) -> Option<sigconform_core::Request> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(head)) = parsed.parse(buf) {
            let mut builder = http::Request::builder()
                .method(parsed.method?)
                .uri(parsed.path?);
            let mut length = 0;
            let mut chunked = false;
            for h in parsed.headers.iter() {
                if h.name.eq_ignore_ascii_case("content-length") {
                    length = std::str::from_utf8(h.value).ok()?.trim().parse().ok()?;
                }
                chunked |= h.name.eq_ignore_ascii_case("transfer-encoding");
                builder = builder.header(h.name, h.value);
            }
            let body = if chunked {
                dechunk(stream, buf, head).await?
            } else {
                while buf.len() < head + length {
                    read_more(stream, buf).await?;
                }
                let body = buf[head..head + length].to_vec();
                buf.drain(..head + length);
                body
            };
            return builder.body(body.into()).ok();
        }
        read_more(stream, buf).await?;
    }
}

/// A chunked body starting at `start` in `buf`, decoded.
async fn dechunk(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
    start: usize,
) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    let mut at = start;
    loop {
        let line_end = loop {
            if let Some(i) = buf[at..].windows(2).position(|w| w == b"\r\n") {
                break at + i;
            }
            read_more(stream, buf).await?;
        };
        let size = usize::from_str_radix(std::str::from_utf8(&buf[at..line_end]).ok()?, 16).ok()?;
        while buf.len() < line_end + 2 + size + 2 {
            read_more(stream, buf).await?;
        }
        body.extend_from_slice(&buf[line_end + 2..line_end + 2 + size]);
        at = line_end + 2 + size + 2;
        if size == 0 {
            buf.drain(..at);
            return Some(body);
        }
    }
}

async fn read_more(stream: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_closes_after_error_answers() {
    let url = raw_verifier(Behaviour::ClosesAfterErrors).await;
    same_verdicts_every_run("closes after errors", &url).await;
}

/// A case at a window's limit answered later than the runner's margin
/// from it may have been judged on the other side of the limit: it is
/// signed and sent again, not judged. (Judged, the timestamp signed 2 s
/// beyond the future limit is read 3.5 s later, inside it, and accepted.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_too_late_to_judge_at_a_limit_is_sent_again() {
    let delay = Duration::from_millis(3500);
    let url = raw_verifier(Behaviour::LateOnce(delay, Default::default())).await;
    let (deployment, mut options) = run_config(
        SchemeId::Webhook,
        SchemeConfig::default(),
        Duration::from_secs(5),
        Duration::from_secs(60),
        Deployment::Route("/hook", &["POST"]),
    );
    options.only = vec![glob::Pattern::new("webhook/skew/outside-limit").unwrap()];
    let results = run_at(&deployment, &options, &url).await.unwrap().results;
    let [case] = results.as_slice() else {
        panic!("one case: {results:?}");
    };
    assert_eq!(case.outcome, Outcome::Pass, "{case:?}");
    assert!(
        case.retries.iter().any(|r| r.contains("too late to judge")),
        "{:?}",
        case.retries
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_the_reference_server() {
    let server = start_with(server_config(
        SchemeId::Webhook,
        None,
        Deployment::Route("/hook", &["POST"]),
    ))
    .await;
    same_verdicts_every_run("hyper", &format!("{}/hook", server.url())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_http() {
    let port = free_port();
    let mut node = Command::new("node");
    node.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/stacks/webhook.mjs"
    ))
    .env("PORT", port.to_string())
    .env("SECRET", SECRET);
    let _node = started(node, port).await;
    same_verdicts_every_run("node http", &format!("http://127.0.0.1:{port}/hook")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uvicorn_asgi() {
    let python = common::python_packages(&["uvicorn==0.32.1", "h11==0.16.0"]);
    let port = free_port();
    let mut uvicorn = Command::new(python);
    uvicorn
        .args(["-m", "uvicorn", "--app-dir"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stacks"))
        .args(["webhook_asgi:app", "--log-level", "warning", "--port"])
        .arg(port.to_string())
        .env("SECRET", SECRET);
    let _uvicorn = started(uvicorn, port).await;
    same_verdicts_every_run("uvicorn", &format!("http://127.0.0.1:{port}/hook")).await;
}

/// uvicorn fuzzed, with the `webhook` verifier of `tests/stacks/`: no
/// finding (`SIGCONFORM_FUZZ_REQUESTS` and `SIGCONFORM_FUZZ_SEEDS` for a
/// longer run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uvicorn_asgi_fuzzed() {
    let (requests, seeds) = common::fuzz_budget();
    let python = common::python_packages(&["uvicorn==0.32.1", "h11==0.16.0"]);
    let port = free_port();
    let mut uvicorn = Command::new(python);
    uvicorn
        .args(["-m", "uvicorn", "--app-dir"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stacks"))
        .args(["webhook_asgi:app", "--log-level", "warning", "--port"])
        .arg(port.to_string())
        .env("SECRET", SECRET);
    let _uvicorn = started(uvicorn, port).await;
    let (mut deployment, run_options) = run_config(
        SchemeId::Webhook,
        SchemeConfig::default(),
        Duration::from_secs(5),
        Duration::from_secs(60),
        Deployment::Route("/hook", &["POST"]),
    );
    deployment.targets = vec![format!("http://127.0.0.1:{port}/hook")];
    let mut found = Vec::new();
    for seed in 1..=seeds {
        let options = runner::fuzz::FuzzOptions {
            seed,
            requests,
            ..runner::fuzz::FuzzOptions::default()
        };
        let run = runner::fuzz::fuzz(&deployment, &run_options, &options)
            .await
            .unwrap();
        assert!(
            run.stats.requests >= requests && run.stats.must_accept > 0,
            "{:?}",
            run.run.notes
        );
        for case in &run.run.results {
            found.push(format!(
                "seed {seed}: {} ({}): {}\n{}",
                case.id, case.expected, case.observed, case.request
            ));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
