//! The SigV4 catalog against S3-compatible stores nobody here wrote,
//! installed from the registries at pinned versions and run as their
//! documentation shows: `s3s-fs` (crates.io) and moto's server (PyPI) with
//! its IAM checks switched on. No `fail` that is not a real defect of the
//! store, and no `error`. Each store's defects are in its expectations file
//! (`tests/expected/s3-*.yaml`) with why they are defects, read as
//! `conform --expect` reads one; the README's table is written from those
//! files. A new `fail` is a false alarm of ours until shown otherwise.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{cargo_installed, deviations, free_port, python_packages, started};
use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_runner::{self as runner, RunConfig};

/// `s3s-fs`, pinned: the newest release that builds with the toolchain here
/// (0.15 and later need Rust 1.96).
const S3S_FS: (&str, &str, &[&str]) = ("s3s-fs", "0.14.1", &["binary"]);

/// moto's server, pinned.
const MOTO: [&str; 1] = ["moto[server]==5.2.6"];

/// The bucket the runner writes its one object into.
const BUCKET: &str = "sigconform";

/// The SigV4 catalog (S3's rules) against the object `url`: every case's
/// result.
async fn results(url: &str, key_id: &str, secret: &str) -> Vec<runner::CaseResult> {
    let scheme = SchemeRef::by_name("sigv4").unwrap();
    let config = RunConfig {
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(120),
        ..RunConfig::new(scheme, key_id, Secret::new(secret))
    };
    runner::run(&config, url).await.unwrap().results
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
    let url = format!("http://127.0.0.1:{port}/{BUCKET}/probe");
    let found = results(&url, key_id, secret).await;
    drop(server);
    wrong.extend(deviations("s3-s3s-fs", &url, found));

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
    let found = results(
        &url,
        keys["key_id"].as_str().unwrap(),
        keys["secret"].as_str().unwrap(),
    )
    .await;
    drop(server);
    wrong.extend(deviations("s3-moto", &url, found));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
