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

use common::{cargo_installed, free_port, not_passed, python_packages, started};
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

/// A body changed after signing, `x-amz-content-sha256` kept (in every
/// shape of request an object's PUT takes).
const BODY_CHANGED: [&str; 16] = [
    "tamper/body",
    "tamper/body-byte-order-mark",
    "tamper/body-crlf",
    "tamper/body-duplicate-key",
    "tamper/body-invalid-utf8",
    "tamper/body-reencoded",
    "tamper/body-trimmed",
    "tamper/body-unicode-nfd",
    "shape/16k-body-changed",
    "shape/1m-body-changed",
    "shape/64k-body-changed",
    "shape/form-body-changed",
    "shape/json-charset-body-changed",
    "shape/no-content-type-body-changed",
    "shape/octet-stream-body-changed",
    "shape/text-plain-body-changed",
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
        // No time check: any X-Amz-Date is accepted, in every shape.
        "expiry/far-past",
        "expiry/outside-limit",
        "expiry/zero",
        "skew/far-future",
        "skew/outside-limit",
        "shape/16k-stale",
        "shape/1m-stale",
        "shape/64k-stale",
        "shape/form-stale",
        "shape/json-charset-stale",
        "shape/no-content-type-stale",
        "shape/octet-stream-stale",
        "shape/put-without-body-stale",
        "shape/text-plain-stale",
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
        // IAM check reads the header a presigned URL does not have). The
        // valid ones fail; the ones it must refuse are `unjudged` (their
        // twin, a valid presigned URL, got the same 500).
        "presigned/accepted",
        "presigned/expires-seven-days",
        "presigned/inside-expiry",
        // A credential scope for another region is accepted.
        "scope/other-region",
        // Without `host` signed: 500.
        "tamper/headers-without-host",
    ];
    // The body is never compared with `x-amz-content-sha256`, nor a
    // chunk with its signature: accepted; and so is a signed
    // `x-amz-content-sha256` that is not hex at all.
    defects.extend(BODY_CHANGED);
    defects.push("tamper/chunk-changed");
    defects.extend([
        "malformed/body-hash-foreign-character",
        "malformed/body-hash-whitespace",
        "malformed/body-hash-trailing-junk",
        "malformed/body-hash-odd-hex-digit",
    ]);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_compatible_stores_fail_only_where_they_have_a_real_defect() {
    let (name, version, features) = S3S_FS;
    let s3s_fs = cargo_installed(name, version, features).join("bin/s3s-fs");
    let python = python_packages(&MOTO);
    let mut wrong = Vec::new();

    // s3s-fs: a bucket is a folder of its root.
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
    let server = started(command, port).await;
    let found = failed(
        &format!("http://127.0.0.1:{port}/{BUCKET}/probe"),
        key_id,
        secret,
    )
    .await;
    drop(server);
    if found != sorted(s3s_fs_defects()) {
        wrong.push(format!(
            "s3s-fs:\n  failed: {found:?}\n  listed: {:?}",
            sorted(s3s_fs_defects())
        ));
    }

    // moto: an IAM user, its key and the bucket first (`tests/s3/moto_setup.py`).
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
    let found = failed(
        &format!("http://127.0.0.1:{port}/{BUCKET}/probe"),
        keys["key_id"].as_str().unwrap(),
        keys["secret"].as_str().unwrap(),
    )
    .await;
    drop(server);
    if found != sorted(moto_defects()) {
        wrong.push(format!(
            "moto:\n  failed: {found:?}\n  listed: {:?}",
            sorted(moto_defects())
        ));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
