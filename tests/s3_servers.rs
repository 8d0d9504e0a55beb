//! The SigV4 catalog against S3-compatible stores nobody here wrote,
//! installed from the registries at pinned versions and run as their
//! documentation shows: `s3s-fs` (crates.io), moto's server (PyPI) with
//! its IAM checks switched on, and s3rver (npm), which says in its code that
//! it does not compute SigV4 signatures (a store known to be wrong, which
//! shows what the catalog finds in one). Each store is run twice: the same
//! verdicts both times, no `fail` that is not a real defect of the store,
//! and no `error`. Each store's defects are in its expectations file
//! (`tests/expected/s3-*.yaml`) with why they are defects, read as
//! `conform --expect` reads one; the README's table is written from those
//! files. A new `fail` is a false alarm of ours until shown otherwise.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{
    KnownFinding, cargo_installed, deviations, free_port, node_packages, python_packages, run_one,
    started,
};
use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_runner::{self as runner, CaseResult, Deployment, Outcome, RunOptions};

/// `s3s-fs`, pinned: the newest release that builds with the toolchain here
/// (0.15 and later need Rust 1.96).
const S3S_FS: (&str, &str, &[&str]) = ("s3s-fs", "0.14.1", &["binary"]);

/// moto's server, pinned.
const MOTO: [&str; 1] = ["moto[server]==5.2.6"];

/// s3rver, pinned, and the access key its README gives (`S3RVER`, whose
/// secret is `S3RVER`).
const S3RVER: [&str; 1] = ["s3rver@3.7.1"];

/// The bucket the runner writes its one object into.
const BUCKET: &str = "sigconform";

/// The SigV4 catalog (S3's rules) against the object `url`, bodies up to
/// `max_body`: every case's result.
async fn results(url: &str, key_id: &str, secret: &str, max_body: usize) -> Vec<CaseResult> {
    let scheme = SchemeRef::by_name("sigv4").unwrap();
    let deployment = Deployment::new(url, scheme, key_id, Secret::new(secret));
    let options = RunOptions {
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(120),
        max_body,
        ..RunOptions::default()
    };
    run_one(&deployment, &options).await.unwrap().results
}

/// The catalog run twice against `store` at `url`: what is wrong with its
/// verdicts (they differ between the runs, or deviate from the store's
/// expectations file `tests/expected/s3-<store>.yaml`).
async fn checked(store: &str, url: &str, key_id: &str, secret: &str) -> Vec<String> {
    let max_body = runner::DEFAULT_MAX_BODY;
    let first = results(url, key_id, secret, max_body).await;
    let second = results(url, key_id, secret, max_body).await;
    let verdicts = |run: &[CaseResult]| -> Vec<(String, Outcome)> {
        run.iter().map(|r| (r.id.clone(), r.outcome)).collect()
    };
    if verdicts(&first) != verdicts(&second) {
        let differ: Vec<String> = verdicts(&first)
            .into_iter()
            .zip(verdicts(&second))
            .filter(|(a, b)| a != b)
            .map(|(a, b)| format!("{} {:?} then {:?}", a.0, a.1, b.1))
            .collect();
        return vec![format!(
            "{store}: other verdicts the second time: {differ:?}"
        )];
    }
    deviations(&format!("s3-{store}"), url, first)
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
    // A folder of its own per store: the tests of this file run at once.
    let port = free_port();
    let root =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("s3s-fs-root-{port}"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join(BUCKET)).unwrap();
    let (key_id, secret) = ("AKIASIGCONFORMTEST", "s3s-fs-test-secret");
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

/// s3rver, as its README starts it (with its bucket made at start), its
/// virtual-host buckets off: a changed `Host` would otherwise name another
/// bucket (404), not change a signed header.
async fn s3rver() -> Store {
    let s3rver = node_packages(&S3RVER);
    let data = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("s3rver-data");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).unwrap();
    let port = free_port();
    let mut command = Command::new("node");
    command
        .arg(s3rver.join("node_modules/s3rver/bin/s3rver.js"))
        .arg("-d")
        .arg(&data)
        .args(["-a", "127.0.0.1", "-p", &port.to_string(), "--silent"])
        .args(["--no-vhost-buckets", "--configure-bucket", BUCKET])
        .stderr(Stdio::null());
    Store {
        _server: started(command, port).await,
        url: format!("http://127.0.0.1:{port}/{BUCKET}/probe"),
        key_id: "S3RVER".into(),
        secret: "S3RVER".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_compatible_stores_fail_only_where_they_have_a_real_defect() {
    let mut wrong = Vec::new();
    for (name, store) in [
        ("s3s-fs", s3s_fs().await),
        ("moto", moto().await),
        ("s3rver", s3rver().await),
    ] {
        wrong.extend(checked(name, &store.url, &store.key_id, &store.secret).await);
        drop(store);
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
    // A chunked upload's chain broken (a chunk signature changed, each
    // chunk signed after the seed): 500 (s3s-fs), accepted (moto).
    let chain_broken: &[&str] = &["chunk-signature-changed", "chunk-unchained"];
    match store {
        "s3s-fs" => vec![
            KnownFinding {
                kind: ServerError,
                operators: body_changed,
                needs: None,
            },
            KnownFinding {
                kind: ServerError,
                operators: chain_broken,
                needs: None,
            },
            // Another service's scope: 501 `NotImplemented`.
            KnownFinding {
                kind: ServerError,
                operators: &["scope-other-service"],
                needs: None,
            },
            // No final chunk, or a wrong decoded length; an unsigned
            // x-amz-* header.
            KnownFinding {
                kind: Accepted,
                operators: &[
                    "chunk-final-missing",
                    "chunk-decoded-length",
                    "header-unsigned-amz-added",
                    "header-value-spaced",
                ],
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
                operators: &["method", "body-", "lossy-body-", "chunk-"],
                needs: Some("method"),
            },
        ],
        _ => vec![
            KnownFinding {
                kind: Accepted,
                operators: body_changed,
                needs: None,
            },
            // No chunk chain checked at all.
            KnownFinding {
                kind: Accepted,
                operators: &["chunk-"],
                needs: None,
            },
            // An unsigned x-amz-* header.
            KnownFinding {
                kind: Accepted,
                operators: &["header-unsigned-amz-added", "header-value-spaced"],
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
            // Another service's scope: 500.
            KnownFinding {
                kind: ServerError,
                operators: &["scope-other-service"],
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
                operators: &["chunk-", "body-", "lossy-body-"],
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
        let deployment = Deployment::new(
            store.url.clone(),
            scheme,
            store.key_id.clone(),
            Secret::new(store.secret.clone()),
        );
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
            for group in common::unexplained(&run, &known_findings(name)) {
                wrong.push(format!("{name} seed {seed}: {group}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
