//! The RFC 9421 catalog against verifiers nobody here wrote: thin servers
//! around the published libraries, pinned, used as their READMEs show
//! (`tests/rfc9421/`): PyPI's http-message-signatures and npm's. The runner
//! is told each deployment's policy as the library documents it. No `fail`
//! that is not a real defect of the library, no `error`, and the same
//! verdicts twice. Each library's defects are in its expectations file
//! (`tests/expected/rfc9421-*.yaml`) with why they are defects, read as
//! `conform --expect` reads one; the README's table is written from those
//! files. A new `fail` is a false alarm of ours until shown otherwise.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use common::{
    KnownFinding, deviations, free_port, node_packages, python_packages, run_one, started,
};
use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::SchemeConfig;
use sigconform_runner::{self as runner, Deployment, Outcome, RunOptions};

/// PyPI's library, pinned.
const PYTHON_LIBRARY: &str = "http-message-signatures==3.0.0";
/// npm's library, pinned.
const NODE_LIBRARY: &str = "http-message-signatures@1.0.6";

/// A deployment: the library behind its server, and the policy the runner
/// is told.
struct Verifier {
    name: &'static str,
    command: Command,
    config: SchemeConfig,
    /// Its expectations file, `tests/expected/<name>.yaml`: what it gets
    /// wrong, and why.
    expected: &'static str,
}

/// The catalog against `url`: every case's result.
async fn results(url: &str, secret: &str, config: &SchemeConfig) -> Vec<runner::CaseResult> {
    let scheme = SchemeRef::by_name("rfc9421").unwrap();
    let deployment = Deployment {
        scheme_config: config.clone(),
        ..Deployment::new(url, scheme, "client-1", Secret::new(secret))
    };
    let options = RunOptions {
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(120),
        ..RunOptions::default()
    };
    run_one(&deployment, &options).await.unwrap().results
}

/// Each case's id and outcome.
fn verdicts(results: &[runner::CaseResult]) -> Vec<(&str, Outcome)> {
    results.iter().map(|r| (r.id.as_str(), r.outcome)).collect()
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
            expected: "rfc9421-python",
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
            expected: "rfc9421-node",
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
        let first = results(&url, &secret, &config).await;
        let second = results(&url, &secret, &config).await;
        drop(server);
        let changed = verdicts(&first) != verdicts(&second);
        wrong.extend(deviations(verifier.expected, &url, first));
        if changed {
            wrong.push(format!(
                "{}: the verdicts changed between runs",
                verifier.name
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// What the fuzzer finds of npm's library's real defects (`NODE_DEFECTS`
/// and the README), as its groups show them. (PyPI's has none.)
fn node_known_findings() -> Vec<KnownFinding> {
    use runner::fuzz::FindingKind::Accepted;
    vec![
        // No Content-Digest compared with the body (nor read at all where
        // the signature does not cover it).
        KnownFinding {
            kind: Accepted,
            operators: &[
                "body-",
                "lossy-body-",
                "body-hash-",
                "signed-headers-dropped",
            ],
            needs: None,
        },
        // Behind Node's `http`, a covered header sent twice is read as its
        // first copy (Node drops the repeat of `content-type`), where RFC
        // 9421 covers the copies combined.
        KnownFinding {
            kind: Accepted,
            operators: &[
                "header-duplicated-content-type",
                "header-another-value-content-type",
            ],
            needs: None,
        },
        // Components covered twice or with unknown parameters read.
        KnownFinding {
            kind: Accepted,
            operators: &[
                "signed-headers-repeated",
                "signed-headers-unknown-parameter",
            ],
            needs: None,
        },
        // `@path` the parsed URL's, dot segments resolved.
        KnownFinding {
            kind: Accepted,
            operators: &["path-dot-segments"],
            needs: None,
        },
        // `created` never checked to be an Integer.
        KnownFinding {
            kind: Accepted,
            operators: &["timestamp-respell", "timestamp-"],
            needs: None,
        },
        // A `Signature` or `Signature-Input` line sent twice is read as
        // one (RFC 8941's parse keeps the last copy of a key), where a
        // label given twice across lines is refused (docs/rules/rfc9421.md:
        // a label identifies one signature in the message).
        KnownFinding {
            kind: Accepted,
            operators: &[
                "header-duplicated-signature",
                "header-duplicated-signature-input",
            ],
            needs: None,
        },
    ]
}

/// The libraries fuzzed, each told its policy as the library documents it:
/// every group of findings is one of their real defects
/// (`SIGCONFORM_FUZZ_REQUESTS` and `SIGCONFORM_FUZZ_SEEDS` for a longer
/// run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc9421_libraries_fuzzed_show_only_their_real_defects() {
    let (requests, seeds) = common::fuzz_budget();
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
    // Both servers require `@method`, `@authority` and `@path` covered
    // (`tests/rfc9421/`), the body's digest being the application's.
    let covered = Some(vec!["@method".into(), "@authority".into(), "@path".into()]);
    let mut wrong = Vec::new();
    for (name, mut command, config, known) in [
        (
            PYTHON_LIBRARY,
            python_server,
            SchemeConfig {
                tolerance_past: Some(86_400 + 5),
                tolerance_future: Some(5),
                required_headers: covered.clone(),
                ..SchemeConfig::default()
            },
            Vec::new(),
        ),
        (
            NODE_LIBRARY,
            node_server,
            SchemeConfig {
                tolerance_past: Some(300),
                tolerance_future: Some(0),
                required_headers: covered.clone(),
                ..SchemeConfig::default()
            },
            node_known_findings(),
        ),
    ] {
        let port = free_port();
        command
            .args([&port.to_string(), "client-1", &secret])
            .stderr(Stdio::null());
        let _server = started(command, port).await;
        let url = format!("http://127.0.0.1:{port}/api");
        let deployment = Deployment {
            scheme_config: SchemeConfig {
                target_scheme: Some("http".into()),
                ..config
            },
            ..Deployment::new(
                url,
                SchemeRef::by_name("rfc9421").unwrap(),
                "client-1",
                Secret::new(secret.clone()),
            )
        };
        let run_options = RunOptions {
            timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(120),
            ..RunOptions::default()
        };
        for seed in 1..=seeds {
            let options = runner::fuzz::FuzzOptions {
                seed,
                requests,
                ..runner::fuzz::FuzzOptions::default()
            };
            let run = runner::fuzz::fuzz(&deployment, &run_options, &options)
                .await
                .unwrap();
            for group in common::unexplained(&run, &known) {
                wrong.push(format!("{name} seed {seed}: {group}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
