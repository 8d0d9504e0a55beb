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

use common::{cargo_installed, deviations, free_port, node_packages, python_packages, started};
use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_runner::{self as runner, CaseResult, Outcome, RunConfig};

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
    let config = RunConfig {
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(120),
        max_body,
        ..RunConfig::new(scheme, key_id, Secret::new(secret))
    };
    runner::run(&config, url).await.unwrap().results
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_compatible_stores_fail_only_where_they_have_a_real_defect() {
    let (name, version, features) = S3S_FS;
    let s3s_fs = cargo_installed(name, version, features).join("bin/s3s-fs");
    let python = python_packages(&MOTO);
    let s3rver = node_packages(&S3RVER);
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
    let url = format!("http://127.0.0.1:{port}/{BUCKET}/probe");
    wrong.extend(checked("s3s-fs", &url, key_id, secret).await);
    drop(server);

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
    let url = format!("http://127.0.0.1:{port}/{BUCKET}/probe");
    let (key_id, secret) = (
        keys["key_id"].as_str().unwrap(),
        keys["secret"].as_str().unwrap(),
    );
    wrong.extend(checked("moto", &url, key_id, secret).await);
    drop(server);

    // s3rver, as its README starts it (with its bucket made at start), its
    // virtual-host buckets off: a changed `Host` would otherwise name
    // another bucket (404), not change a signed header.
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
    let server = started(command, port).await;
    let url = format!("http://127.0.0.1:{port}/{BUCKET}/probe");
    wrong.extend(checked("s3rver", &url, "S3RVER", "S3RVER").await);
    drop(server);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
