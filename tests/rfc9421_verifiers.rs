//! The RFC 9421 catalog against verifiers nobody here wrote: thin servers
//! around the published libraries, pinned, used as their READMEs show
//! (`tests/rfc9421/`): PyPI's http-message-signatures and npm's. The runner
//! is told each deployment's policy as the library documents it. No `fail`
//! that is not a real defect of the library, no `error`, and the same
//! verdicts twice. Each library's defects are listed here with why they are
//! defects; the README lists them too. A new `fail` is a false alarm of ours
//! until shown otherwise.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use common::{free_port, node_packages, not_passed, python_packages, started};
use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::SchemeConfig;
use sigconform_runner::{self as runner, Outcome, RunConfig};

/// PyPI's library, pinned.
const PYTHON_LIBRARY: &str = "http-message-signatures==3.0.0";
/// npm's library, pinned.
const NODE_LIBRARY: &str = "http-message-signatures@1.0.6";

/// What npm's http-message-signatures 1.0.6, used as its README shows,
/// gets wrong. (PyPI's has nothing the catalog finds.)
const NODE_DEFECTS: [&str; 30] = [
    // It compares no Content-Digest with the body: a body changed under
    // the signed digest is accepted (its README shows no digest check),
    // in every shape of request, and so is a signed digest that is not
    // base64 at all.
    "tamper/body",
    "tamper/body-byte-order-mark",
    "tamper/body-crlf",
    "tamper/body-delete",
    "tamper/body-duplicate-key",
    "tamper/body-invalid-utf8",
    "tamper/body-patch",
    "tamper/body-reencoded",
    "tamper/body-trimmed",
    "tamper/body-unicode-nfd",
    "malformed/body-hash-foreign-character",
    "malformed/body-hash-whitespace",
    "malformed/body-hash-trailing-junk",
    "shape/16k-body-changed",
    "shape/1m-body-changed",
    "shape/64k-body-changed",
    "shape/chunked-body-changed",
    "shape/delete-body-changed",
    "shape/form-body-changed",
    "shape/json-charset-body-changed",
    "shape/no-content-type-body-changed",
    "shape/octet-stream-body-changed",
    "shape/patch-body-changed",
    "shape/put-body-changed",
    "shape/text-plain-body-changed",
    // A component covered twice, and a parameter it does not know, are
    // read instead of refused (RFC 9421 section 2.5 requires an error).
    "tamper/component-repeated",
    "tamper/component-unknown-parameter",
    // `@path` is the WHATWG URL's pathname, dot segments resolved, where
    // the RFC compares the path as a string (section 2.2.6).
    "tamper/path-dot-segments",
    // `created` is never checked to be an Integer: `abc` is subtracted
    // from, giving NaN, and every comparison with NaN is false; a Decimal
    // is compared as the number it is.
    "malformed/timestamp-non-numeric",
    "malformed/timestamp-fractional",
];

/// A deployment: the library behind its server, and the policy the runner
/// is told.
struct Verifier {
    name: &'static str,
    command: Command,
    config: SchemeConfig,
    defects: &'static [&'static str],
}

/// The catalog against `url`: the verdict of every case (none may err),
/// and the cases that failed.
async fn verdicts(
    url: &str,
    secret: &str,
    config: &SchemeConfig,
) -> (Vec<(String, Outcome)>, Vec<String>) {
    let scheme = SchemeRef::by_name("rfc9421").unwrap();
    let run = RunConfig {
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(120),
        scheme_config: config.clone(),
        ..RunConfig::new(scheme, "client-1", Secret::new(secret))
    };
    let results = runner::run(&run, url).await.unwrap().results;
    if let Some(r) = results.iter().find(|r| r.outcome == Outcome::Error) {
        panic!("{}: {}", r.id, r.observed);
    }
    let failed = not_passed(&results, "rfc9421");
    (
        results.into_iter().map(|r| (r.id, r.outcome)).collect(),
        failed,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9421_libraries_fail_only_where_they_have_a_real_defect() {
    let python = python_packages(&[PYTHON_LIBRARY]);
    let node = node_packages(&[NODE_LIBRARY]);
    let secret =
        base64::engine::general_purpose::STANDARD.encode(b"a 32-byte secret for rfc9421 ok!");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/rfc9421");
    let mut python_server = Command::new(&python);
    python_server.arg(format!("{dir}/http_message_signatures_server.py"));
    let mut node_server = Command::new("node");
    node_server
        .arg(format!("{dir}/http_message_signatures_server.mjs"))
        .env("NODE_PACKAGES", &node);
    let verifiers = [
        Verifier {
            name: PYTHON_LIBRARY,
            command: python_server,
            // Its defaults: `max_age` a day, `max_clock_skew` five seconds
            // both ways.
            config: SchemeConfig {
                tolerance_past: Some(86_400 + 5),
                tolerance_future: Some(5),
                ..SchemeConfig::default()
            },
            defects: &[],
        },
        Verifier {
            name: NODE_LIBRARY,
            command: node_server,
            // The server's `maxAge: 300` and `tolerance: 0`.
            config: SchemeConfig {
                tolerance_past: Some(300),
                tolerance_future: Some(0),
                ..SchemeConfig::default()
            },
            defects: &NODE_DEFECTS,
        },
    ];
    let mut wrong = Vec::new();
    for mut verifier in verifiers {
        let port = free_port();
        verifier
            .command
            .args([&port.to_string(), "client-1", &secret])
            .stderr(Stdio::null());
        let server = started(verifier.command, port).await;
        let url = format!("http://127.0.0.1:{port}/api");
        let config = SchemeConfig {
            target_scheme: Some("http".into()),
            ..verifier.config
        };
        let (first, failed) = verdicts(&url, &secret, &config).await;
        let (second, _) = verdicts(&url, &secret, &config).await;
        drop(server);
        let mut listed: Vec<String> = verifier.defects.iter().map(|d| (*d).to_owned()).collect();
        listed.sort();
        if failed != listed {
            wrong.push(format!(
                "{}:\n  failed: {failed:?}\n  listed: {listed:?}",
                verifier.name
            ));
        }
        if first != second {
            wrong.push(format!(
                "{}: the verdicts changed between runs",
                verifier.name
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
