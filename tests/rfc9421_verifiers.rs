//! The RFC 9421 catalog against a verifier nobody here wrote: a thin
//! server around PyPI's http-message-signatures, pinned, used as its README
//! shows (`tests/rfc9421/http_message_signatures_server.py`). The runner is
//! told the library's documented defaults: a signature may be a day old and
//! five seconds ahead, and five seconds of skew are allowed on the past side
//! too. No `fail` that is not a real defect of the library, no `error`, and
//! the same verdicts twice. A new `fail` is a false alarm of ours until
//! shown otherwise.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use common::{free_port, not_passed, python_packages, started};
use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::SchemeConfig;
use sigconform_runner::{self as runner, Outcome, RunConfig};

/// The library, pinned.
const HTTP_MESSAGE_SIGNATURES: &str = "http-message-signatures==3.0.0";

/// What the library, used as its README shows, gets wrong.
const DEFECTS: [&str; 0] = [];

/// The catalog against `url`: the verdict of every case (none may err).
async fn verdicts(url: &str, secret: &str) -> Vec<(String, Outcome)> {
    let scheme = SchemeRef::by_name("rfc9421").unwrap();
    let config = RunConfig {
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(120),
        scheme_config: SchemeConfig {
            // `max_age` one day, `max_clock_skew` five seconds both ways.
            tolerance_past: Some(86_400 + 5),
            tolerance_future: Some(5),
            target_scheme: Some("http".into()),
            ..SchemeConfig::default()
        },
        ..RunConfig::new(scheme, "client-1", Secret::new(secret))
    };
    let results = runner::run(&config, url).await.unwrap().results;
    if let Some(r) = results.iter().find(|r| r.outcome == Outcome::Error) {
        panic!("{}: {}", r.id, r.observed);
    }
    let failed = not_passed(&results, "rfc9421");
    assert_eq!(failed, DEFECTS, "failed: {failed:?}");
    results.into_iter().map(|r| (r.id, r.outcome)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_message_signatures_fails_only_where_it_has_a_real_defect() {
    let python = python_packages(&[HTTP_MESSAGE_SIGNATURES]);
    let secret =
        base64::engine::general_purpose::STANDARD.encode(b"a 32-byte secret for rfc9421 ok");
    let port = free_port();
    let mut command = Command::new(&python);
    command
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/rfc9421/http_message_signatures_server.py"
        ))
        .args([&port.to_string(), "client-1", &secret])
        .stderr(Stdio::null());
    let server = started(command, port).await;
    let url = format!("http://127.0.0.1:{port}/api");
    let first = verdicts(&url, &secret).await;
    let second = verdicts(&url, &secret).await;
    drop(server);
    assert_eq!(
        first, second,
        "the verdicts changed from one run to the next"
    );
}
