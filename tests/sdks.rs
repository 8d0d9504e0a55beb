//! The built-in profiles against the providers' official SDKs, installed
//! from PyPI and npm at pinned versions and used exactly as their
//! documentation shows (`tests/sdks/server.py`, `tests/sdks/server.mjs`):
//! no `fail` that is not a real defect of the SDK, and no `error`. Each
//! SDK's real defects are in its expectations file (`tests/expected/`),
//! with why they are defects, read as `conform --expect` reads one; the
//! README's table is written from those files. A new `fail` on an SDK is a
//! false alarm of ours until shown otherwise, and a defect that goes away
//! is a fix upstream: either changes its file.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    KnownFinding, PROFILE_SECRET, deviations, free_port, node_packages, python_packages, run_one,
    started,
};
use sigconform_core::registry::SchemeRef;
use sigconform_core::{Secret, profile::Profile};
use sigconform_runner::{self as runner, Deployment, RunOptions};

/// The Python SDKs, pinned.
const PYTHON: [&str; 6] = [
    "stripe==16.1.0",
    "svix==2.9.1",
    "standardwebhooks==1.3.0",
    "slack_sdk==3.48.0",
    "twilio==9.13.0",
    // Flask's form parser, for Twilio's documented `request.form`.
    "werkzeug==3.1.3",
];

/// The Node SDKs, pinned.
const NODE: [&str; 7] = [
    "stripe@23.2.0",
    "svix@2.5.0",
    "standardwebhooks@1.3.0",
    "@octokit/webhooks-methods@6.0.0",
    "@paddle/paddle-node-sdk@3.10.0",
    "square@46.0.0",
    "x-hub-signature@2.1.3",
];

/// Each SDK run: its language and the profile it verifies. What it gets
/// wrong is in `tests/expected/sdk-<language>-<profile>.yaml`, with why each
/// is a defect (the README's table is written from those files).
const RUNS: [(&str, &str); 13] = [
    ("python", "stripe"),
    ("python", "svix"),
    ("python", "standard-webhooks"),
    ("python", "slack"),
    ("python", "twilio"),
    ("python", "twilio-json"),
    ("node", "stripe"),
    ("node", "paddle"),
    ("node", "square"),
    ("node", "svix"),
    ("node", "standard-webhooks"),
    ("node", "github"),
    // x-hub-signature (GitHub's legacy header), not GitHub's own SDK.
    ("node", "github-sha1"),
];

/// The profile's catalog against `url`: every case's result.
async fn results(profile: &str, url: &str) -> Vec<runner::CaseResult> {
    let scheme = SchemeRef::from(Profile::resolve(profile).unwrap());
    let deployment = Deployment {
        // What a sender signs as its endpoint (`{url}`): the target, as
        // `conform --target` takes it.
        scheme_config: sigconform_core::scheme::SchemeConfig {
            endpoint: Some(url.to_owned()),
            ..Default::default()
        },
        ..Deployment::new(url, scheme, "k", Secret::new(PROFILE_SECRET))
    };
    let options = RunOptions {
        // (A Python server takes a while over a 1 MiB body on a loaded
        // machine.)
        timeout: Duration::from_secs(15),
        deadline: Duration::from_secs(120),
        ..RunOptions::default()
    };
    run_one(&deployment, &options).await.unwrap().results
}

/// The server of `language` that verifies with `profile`'s SDK, on `port`.
fn sdk_server(
    language: &str,
    profile: &str,
    port: u16,
    python: &std::path::Path,
    node_sdks: &std::path::Path,
    dir: &str,
) -> Command {
    let mut command = match language {
        "python" => {
            let mut c = Command::new(python);
            c.arg(format!("{dir}/server.py"));
            c
        }
        _ => {
            let mut c = Command::new("node");
            c.arg(format!("{dir}/server.mjs")).env("SDK_DIR", node_sdks);
            c
        }
    };
    command
        .args([profile, &port.to_string()])
        .env("SECRET", PROFILE_SECRET)
        // The URL Twilio requested, as the application knows it.
        .env("ENDPOINT", format!("http://127.0.0.1:{port}"))
        // The notification URL Square signs, as configured there.
        .env(
            "NOTIFICATION_URL",
            format!("http://127.0.0.1:{port}/webhook"),
        )
        .stderr(Stdio::null());
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_sdks_fail_only_where_they_have_a_real_defect() {
    let python = python_packages(&PYTHON);
    let node_sdks = node_packages(&NODE);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdks");
    let mut wrong = Vec::new();
    for (language, profile) in RUNS {
        let port = free_port();
        let command = sdk_server(language, profile, port, &python, &node_sdks, dir);
        let _server = started(command, port).await;
        let url = format!("http://127.0.0.1:{port}/webhook");
        let results = results(profile, &url).await;
        wrong.extend(deviations(
            &format!("sdk-{language}-{profile}"),
            &url,
            results,
        ));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// What the fuzzer finds of each SDK's real defects (`real_defects` and
/// the README): (language, profile, the defects as its groups show them).
fn known_findings() -> Vec<(&'static str, &'static str, Vec<KnownFinding>)> {
    use runner::fuzz::FindingKind::{Accepted, Refused, ServerError};
    // The body taken as text: a signed U+FFFD sent as an invalid byte.
    let body_as_text = KnownFinding {
        kind: Accepted,
        operators: &["lossy-body-invalid-utf8"],
        needs: None,
    };
    // `hmac.compare_digest` on text that is not ASCII: TypeError.
    let compare_digest_on_text = KnownFinding {
        kind: ServerError,
        operators: &["tag-non-ascii", "tag-non-utf8"],
        needs: None,
    };
    vec![
        ("python", "stripe", vec![compare_digest_on_text]),
        ("python", "svix", vec![]),
        ("python", "standard-webhooks", vec![]),
        (
            "python",
            "slack",
            vec![
                // `int(timestamp)` on what is not an integer: ValueError.
                KnownFinding {
                    kind: ServerError,
                    operators: &["timestamp-", "-x-slack-request-timestamp"],
                    needs: None,
                },
                // `hmac.compare_digest` on a signature that is not ASCII.
                KnownFinding {
                    kind: ServerError,
                    operators: &["tag-non-ascii", "tag-non-utf8", "-x-slack-signature"],
                    needs: None,
                },
                // `body.decode("utf-8")`: UnicodeDecodeError.
                KnownFinding {
                    kind: ServerError,
                    operators: &["lossy-body-invalid-utf8", "body-non-utf8", "body-flip"],
                    needs: None,
                },
            ],
        ),
        ("python", "twilio", vec![]),
        (
            "python",
            "twilio-json",
            vec![
                body_as_text,
                // Without `bodySHA256` in the URL: TypeError.
                KnownFinding {
                    kind: ServerError,
                    operators: &["body-hash-", "query-removed"],
                    needs: None,
                },
            ],
        ),
        (
            "node",
            "stripe",
            vec![
                // `TextDecoder`: an invalid byte read as the U+FFFD signed,
                // a byte-order mark dropped.
                KnownFinding {
                    kind: Accepted,
                    operators: &["lossy-body-invalid-utf8", "lossy-body-byte-order-mark"],
                    needs: None,
                },
                // `secureCompare` on an empty `v1`; `timingSafeEqual` on a
                // `v1` whose bytes are longer than its characters.
                KnownFinding {
                    kind: ServerError,
                    operators: &["tag-"],
                    needs: None,
                },
            ],
        ),
        (
            "node",
            "paddle",
            vec![
                body_as_text,
                // Only the last `h1` is compared.
                KnownFinding {
                    kind: Refused,
                    operators: &["signatures-right-first"],
                    needs: None,
                },
            ],
        ),
        ("node", "square", vec![body_as_text]),
        ("node", "svix", vec![]),
        ("node", "standard-webhooks", vec![]),
        (
            "node",
            "github",
            vec![
                body_as_text,
                // A missing or empty signature: TypeError.
                KnownFinding {
                    kind: ServerError,
                    operators: &[
                        "header-dropped-x-hub-signature-256",
                        "tag-missing",
                        "tag-empty",
                    ],
                    needs: None,
                },
            ],
        ),
    ]
}

/// The official SDKs fuzzed: every group of findings is one of their real
/// defects (`SIGCONFORM_FUZZ_REQUESTS` and `SIGCONFORM_FUZZ_SEEDS` for a
/// longer run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_sdks_fuzzed_show_only_their_real_defects() {
    let (requests, seeds) = common::fuzz_budget();
    let python = python_packages(&PYTHON);
    let node_sdks = node_packages(&NODE);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdks");
    let mut wrong = Vec::new();
    for (language, profile, known) in known_findings() {
        let port = free_port();
        let command = sdk_server(language, profile, port, &python, &node_sdks, dir);
        let _server = started(command, port).await;
        let url = format!("http://127.0.0.1:{port}/webhook");
        let scheme = SchemeRef::from(Profile::resolve(profile).unwrap());
        let deployment = Deployment {
            scheme_config: sigconform_core::scheme::SchemeConfig {
                endpoint: Some(url.clone()),
                ..Default::default()
            },
            ..Deployment::new(url.clone(), scheme, "k", Secret::new(PROFILE_SECRET))
        };
        let run_options = RunOptions {
            timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(60),
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
                wrong.push(format!("{language} {profile} seed {seed}: {group}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
