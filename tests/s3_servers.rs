//! The SigV4 catalog against S3-compatible stores nobody here wrote,
//! installed from the registries at pinned versions and run as their
//! documentation shows: `s3s-fs` (crates.io) and moto's server (PyPI) with
//! its IAM checks switched on. No `fail` that is not a real defect of the
//! store, and no `error`. Each store's defects are listed here with why they
//! are defects; the README lists them too. A new `fail` is a false alarm of
//! ours until shown otherwise.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{KnownFinding, cargo_installed, free_port, not_passed, python_packages, started};
use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_runner::{self as runner, Outcome, RunConfig};

/// `s3s-fs`, pinned: the newest release that builds with the toolchain here
/// (0.15 and later need Rust 1.96).
const S3S_FS: (&str, &str, &[&str]) = ("s3s-fs", "0.14.1", &["binary"]);

/// moto's server, pinned.
const MOTO: [&str; 1] = ["moto[server]==5.2.6"];

/// The bucket the runner writes its one object into.
const BUCKET: &str = "sigconform";

/// A body changed after signing, `x-amz-content-sha256` kept.
const BODY_CHANGED: [&str; 8] = [
    "tamper/body",
    "tamper/body-byte-order-mark",
    "tamper/body-crlf",
    "tamper/body-duplicate-key",
    "tamper/body-invalid-utf8",
    "tamper/body-reencoded",
    "tamper/body-trimmed",
    "tamper/body-unicode-nfd",
];

/// What s3s-fs 0.14.1 gets wrong.
fn s3s_fs_defects() -> Vec<&'static str> {
    let mut defects = vec![
        // A signature that leaves `host` out is accepted.
        "tamper/headers-without-host",
        // X-Amz-Expires above seven days is accepted.
        "presigned/expires-beyond-seven-days",
        // A credential scope for any region is verified with that region's
        // key: s3s-fs has no region of its own.
        "scope/other-region",
    ];
    // A body that does not match the signed `x-amz-content-sha256`, or a
    // chunk changed after signing, gets a 500 InternalError, not a 4xx.
    defects.extend(BODY_CHANGED);
    defects.push("tamper/chunk-changed");
    defects
}

/// What moto 5.2.6's server gets wrong with its IAM checks on.
fn moto_defects() -> Vec<&'static str> {
    let mut defects = vec![
        // No time check: any X-Amz-Date is accepted.
        "expiry/far-past",
        "expiry/outside-limit",
        "expiry/zero",
        "skew/far-future",
        "skew/outside-limit",
        // Two Authorization headers are accepted.
        "malformed/duplicate-authorization",
        // A malformed Authorization header or SignedHeaders: 500
        // (`IndexError`, `AttributeError` in its header parsing).
        "malformed/emoji-authorization",
        "malformed/empty-authorization",
        "malformed/garbage-authorization",
        "malformed/headers-one-emoji",
        "malformed/headers-one-non-ascii",
        "malformed/headers-one-non-utf8",
        "malformed/non-ascii-authorization",
        "malformed/non-utf8-authorization",
        // Every presigned URL: 500 (`KeyError: 'HTTP_AUTHORIZATION'`: the
        // IAM check reads the header a presigned URL does not have).
        "presigned/accepted",
        "presigned/expired",
        "presigned/expires-beyond-seven-days",
        "presigned/expires-seven-days",
        "presigned/from-the-future",
        "presigned/inside-expiry",
        // A credential scope for another region is accepted.
        "scope/other-region",
        // Without `host` signed: 500.
        "tamper/headers-without-host",
    ];
    // The body is never compared with `x-amz-content-sha256`, nor a
    // chunk with its signature: accepted.
    defects.extend(BODY_CHANGED);
    defects.push("tamper/chunk-changed");
    defects
}

/// The SigV4 catalog (S3's rules) against the object `url`: the cases that
/// failed (none may err).
async fn failed(url: &str, key_id: &str, secret: &str) -> Vec<String> {
    let scheme = SchemeRef::by_name("sigv4").unwrap();
    let config = RunConfig {
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(120),
        ..RunConfig::new(scheme, key_id, Secret::new(secret))
    };
    let results = runner::run(&config, url).await.unwrap().results;
    if let Some(r) = results.iter().find(|r| r.outcome == Outcome::Error) {
        panic!("{}: {}", r.id, r.observed);
    }
    not_passed(&results, "sigv4")
}

fn sorted(mut ids: Vec<&str>) -> Vec<String> {
    ids.sort();
    ids.into_iter().map(str::to_owned).collect()
}

/// A store running, the URL of the object the runner may write, and the
/// key it signs with.
struct Store {
    _server: common::Running,
    url: String,
    key_id: String,
    secret: String,
}

/// s3s-fs, its bucket a folder of its root.
async fn s3s_fs() -> Store {
    let (name, version, features) = S3S_FS;
    let s3s_fs = cargo_installed(name, version, features).join("bin/s3s-fs");
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("s3s-fs-root");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join(BUCKET)).unwrap();
    let (key_id, secret) = ("AKIASIGCONFORMTEST", "s3s-fs-test-secret");
    let port = free_port();
    let mut command = Command::new(&s3s_fs);
    command
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", key_id, "--secret-key", secret])
        .arg(&root)
        .stderr(Stdio::null());
    Store {
        _server: started(command, port).await,
        url: format!("http://127.0.0.1:{port}/{BUCKET}/probe"),
        key_id: key_id.into(),
        secret: secret.into(),
    }
}

/// moto's server: an IAM user, its key and the bucket made first
/// (`tests/s3/moto_setup.py`).
async fn moto() -> Store {
    let python = python_packages(&MOTO);
    let port = free_port();
    let mut command = Command::new(python.with_file_name("moto_server"));
    command
        .args(["-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", "4")
        .stderr(Stdio::null());
    let server = started(command, port).await;
    let setup = Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/s3/moto_setup.py"
        ))
        .args([&format!("http://127.0.0.1:{port}"), BUCKET])
        .output()
        .unwrap();
    assert!(
        setup.status.success(),
        "{}",
        String::from_utf8_lossy(&setup.stderr)
    );
    let keys: serde_json::Value = serde_json::from_slice(&setup.stdout).unwrap();
    Store {
        _server: server,
        url: format!("http://127.0.0.1:{port}/{BUCKET}/probe"),
        key_id: keys["key_id"].as_str().unwrap().into(),
        secret: keys["secret"].as_str().unwrap().into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_compatible_stores_fail_only_where_they_have_a_real_defect() {
    let mut wrong = Vec::new();
    for (name, store, defects) in [
        ("s3s-fs", s3s_fs().await, s3s_fs_defects()),
        ("moto", moto().await, moto_defects()),
    ] {
        let found = failed(&store.url, &store.key_id, &store.secret).await;
        drop(store);
        if found != sorted(defects.clone()) {
            wrong.push(format!(
                "{name}:\n  failed: {found:?}\n  listed: {:?}",
                sorted(defects)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// What the fuzzer finds of each store's real defects (the lists above
/// and the README), as its groups show them.
fn known_findings(store: &str) -> Vec<KnownFinding> {
    use runner::fuzz::FindingKind::{Accepted, ServerError};
    // A body changed after signing, or a chunk: accepted (moto compares
    // neither), or a 500 (s3s-fs).
    let body_changed: &[&str] = &["body-", "lossy-body-", "chunk-changed"];
    match store {
        "s3s-fs" => vec![
            KnownFinding {
                kind: ServerError,
                operators: body_changed,
                needs: None,
            },
            // `host` not signed; X-Amz-Expires beyond seven days; another
            // region's scope.
            KnownFinding {
                kind: Accepted,
                operators: &["signed-headers-dropped", "presigned", "scope-other-region"],
                needs: None,
            },
            // A GET's body is not compared with x-amz-content-sha256 (the
            // handler does not read it).
            KnownFinding {
                kind: Accepted,
                operators: &["method", "body-", "lossy-body-"],
                needs: Some("method"),
            },
        ],
        _ => vec![
            KnownFinding {
                kind: Accepted,
                operators: body_changed,
                needs: None,
            },
            // No time check: any X-Amz-Date, signed, is accepted.
            KnownFinding {
                kind: Accepted,
                operators: &["timestamp-"],
                needs: None,
            },
            // Two Authorization headers; another region's scope.
            KnownFinding {
                kind: Accepted,
                operators: &[
                    "header-duplicated-authorization",
                    "header-another-value-authorization",
                    "scope-other-region",
                ],
                needs: None,
            },
            // Every presigned URL; a malformed Authorization header or
            // SignedHeaders, or one without `host`: 500.
            KnownFinding {
                kind: ServerError,
                operators: &["presigned", "signed-headers-", "-authorization"],
                needs: None,
            },
            // No X-Amz-Date (nor Date), or one that is not a date: 500.
            KnownFinding {
                kind: ServerError,
                operators: &["timestamp-", "header-dropped-x-amz-date"],
                needs: None,
            },
            // An aws-chunked body that is not chunk framing: 500.
            KnownFinding {
                kind: ServerError,
                operators: &["chunk-signed", "chunk-changed", "body-", "lossy-body-"],
                needs: None,
            },
            // A header sent twice is read once (the signature covers one
            // copy); SignedHeaders listing a header twice, or leaving
            // x-amz-content-sha256 out, are accepted.
            KnownFinding {
                kind: Accepted,
                operators: &[
                    "header-duplicated-",
                    "signed-headers-repeat",
                    "signed-headers-dropped",
                ],
                needs: None,
            },
        ],
    }
}

/// The stores fuzzed: every group of findings is one of their real defects
/// (`SIGCONFORM_FUZZ_REQUESTS` and `SIGCONFORM_FUZZ_SEEDS` for a longer
/// run).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_compatible_stores_fuzzed_show_only_their_real_defects() {
    let (requests, seeds) = common::fuzz_budget();
    let mut wrong = Vec::new();
    for (name, store) in [("s3s-fs", s3s_fs().await), ("moto", moto().await)] {
        let scheme = SchemeRef::by_name("sigv4").unwrap();
        let config = RunConfig {
            timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(120),
            ..RunConfig::new(
                scheme,
                store.key_id.clone(),
                Secret::new(store.secret.clone()),
            )
        };
        for seed in 1..=seeds {
            let options = runner::fuzz::FuzzOptions {
                seed,
                requests,
                ..runner::fuzz::FuzzOptions::default()
            };
            let run = runner::fuzz::fuzz(&config, &options, &store.url)
                .await
                .unwrap();
            for group in common::unexplained(&run, &known_findings(name)) {
                wrong.push(format!("{name} seed {seed}: {group}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
