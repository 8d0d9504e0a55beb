//! The SigV4 catalog against S3-compatible stores nobody here wrote,
//! installed from the registries at pinned versions and run as their
//! documentation shows: `s3s-fs` (crates.io), moto's server (PyPI) with
//! its IAM checks switched on, and s3rver (npm), which says in its code that
//! it does not compute SigV4 signatures (a store known to be wrong, which
//! shows what the catalog finds in one). Each store is run twice: the same
//! verdicts both times, no `fail` that is not a real defect of the store,
//! and no `error`. Each store's defects are listed here with why they are
//! defects; the README lists them too. A new `fail` is a false alarm of
//! ours until shown otherwise.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{cargo_installed, free_port, node_packages, not_passed, python_packages, started};
use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_runner::{self as runner, Outcome, RunConfig};

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

/// A chunked upload's chain broken in each way the catalog breaks it.
const CHAIN_BROKEN: [&str; 6] = [
    "tamper/chunk-changed",
    "tamper/chunk-signature-changed",
    "tamper/chunks-reordered",
    "tamper/chunk-signed-with-seed",
    "tamper/chunk-final-missing",
    "tamper/decoded-length-wrong",
];

/// A chunked upload's signed trailer wrong: its checksum, its signature.
const TRAILER_WRONG: [&str; 2] = [
    "tamper/trailer-checksum-wrong",
    "tamper/trailer-signature-changed",
];

/// A presigned URL changed after signing.
const PRESIGNED_CHANGED: [&str; 5] = [
    "presigned/signature-changed",
    "presigned/other-object",
    "presigned/expires-raised",
    "presigned/signed-headers-changed",
    "presigned/parameter-added",
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
        // A scope naming another service: 501 NotImplemented, not a 4xx.
        "scope/other-service",
        // Another algorithm's name (SigV4a's) over an HMAC-SHA256 signature
        // is accepted: the name is not checked.
        "scope/other-algorithm",
        // An x-amz-* header added after signing is accepted.
        "tamper/amz-header-unsigned",
        // A repeated query name is signed in the order sent, not sorted by
        // value: the correctly signed request is refused, the other accepted.
        "acceptance/query-repeated-name",
        "tamper/query-repeated-name-unsorted",
        // A chunked upload without its final chunk, or with a wrong
        // x-amz-decoded-content-length, is accepted.
        "tamper/chunk-final-missing",
        "tamper/decoded-length-wrong",
    ];
    // A body that does not match the signed `x-amz-content-sha256`, or a
    // chunk chain broken (a chunk or its signature changed, chunks
    // reordered, each signed after the seed, the trailer's signature
    // changed), gets a 500 InternalError, not a 4xx.
    defects.extend(BODY_CHANGED);
    defects.extend(&CHAIN_BROKEN[..4]);
    defects.push("tamper/trailer-signature-changed");
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
        // A credential scope for another region is accepted; for another
        // service: 500; another algorithm's name: accepted.
        "scope/other-region",
        "scope/other-service",
        "scope/other-algorithm",
        // Without `host` signed: 500.
        "tamper/headers-without-host",
        // An x-amz-* header added after signing is accepted.
        "tamper/amz-header-unsigned",
        // The path is signed as sent: `%3a` is not signed `%3A`, so the
        // correctly signed request is refused and the other accepted.
        "acceptance/path-lowercase-escape",
        "tamper/path-lowercase-escape-as-sent",
    ];
    // The body is never compared with `x-amz-content-sha256`, nor a
    // chunked upload's chain or trailer checked: accepted.
    defects.extend(BODY_CHANGED);
    defects.extend(CHAIN_BROKEN);
    defects.extend(TRAILER_WRONG);
    defects
}

/// What s3rver 3.7.1 gets wrong: it computes no SigV4 signature (its code
/// says so), so every signature by a known access key is accepted, however
/// wrong; besides, it serves requests with no signature at all, takes a
/// presigned URL dated ahead, and keeps a chunked upload with its framing.
fn s3rver_defects() -> Vec<&'static str> {
    let mut defects = vec![
        // A request without Authorization is served (anonymously).
        "malformed/missing-authorization",
        // A presigned URL dated beyond the skew ahead is accepted.
        "presigned/from-the-future",
        // A chunked upload is stored with its chunk lines and signatures.
        "acceptance/chunked-upload-read-back",
        // Any signature: accepted.
        "malformed/duplicate-authorization",
        "malformed/duplicate-x-amz-content-sha256",
        "malformed/headers-one-emoji",
        "malformed/headers-one-non-ascii",
        "malformed/headers-one-non-utf8",
        "malformed/tag-non-ascii",
        "malformed/tag-non-utf8",
        "malformed/tag-one-emoji",
        "malformed/tag-one-non-ascii",
        "malformed/tag-one-non-utf8",
        "malformed/tag-one-outside-alphabet",
        "malformed/tag-wrong-alphabet",
        "scope/other-date",
        "scope/other-region",
        "scope/other-service",
        "scope/other-terminator",
        "tamper/amz-header-unsigned",
        "tamper/header-content-type",
        "tamper/header-host",
        "tamper/header-value-untrimmed",
        "tamper/headers-without-host",
        "tamper/listed-header-absent-omitted",
        "tamper/method",
        "tamper/path",
        "tamper/path-dot-segments-resolved",
        "tamper/path-encoded-twice",
        "tamper/path-lowercase-escape-as-sent",
        "tamper/query",
        "tamper/query-repeated-name-unsorted",
        "tamper/refused-put-unchanged",
        "tamper/secret",
        "tamper/secret-undecoded",
        "tamper/tag-bit-flipped",
        "tamper/tag-empty",
        "tamper/tag-extended",
        "tamper/tag-other-encoding",
        "tamper/tag-prefix",
        "tamper/tag-truncated",
        "tamper/timestamp",
    ];
    // In every shape of request: served without a signature, and with any.
    for shape in [
        "16k",
        "1m",
        "64k",
        "form",
        "json-charset",
        "no-content-type",
        "octet-stream",
        "put-without-body",
        "text-plain",
    ] {
        for forgery in ["unsigned", "wrong-secret"] {
            defects.push(format!("shape/{shape}-{forgery}").leak());
        }
    }
    defects.extend(PRESIGNED_CHANGED);
    defects.extend(BODY_CHANGED);
    defects.extend(CHAIN_BROKEN);
    defects.extend(TRAILER_WRONG);
    defects
}

/// The SigV4 catalog (S3's rules) against the object `url`: the cases that
/// failed (none may err).
async fn failed(url: &str, key_id: &str, secret: &str, max_body: usize) -> Vec<String> {
    let scheme = SchemeRef::by_name("sigv4").unwrap();
    let config = RunConfig {
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(120),
        max_body,
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

/// The catalog run twice against `store` at `url`: what is wrong with its
/// verdicts (they differ between the runs, or from the `listed` defects).
async fn checked(
    store: &str,
    url: &str,
    key_id: &str,
    secret: &str,
    listed: Vec<&str>,
) -> Option<String> {
    // s3s-fs refuses a request without a signature before it reads the
    // body, and closes the connection: a 1 MiB body then meets a broken
    // pipe about every other run (the client reports the failed write, not
    // the 403 sent before it), so its bodies stay below 1 MiB.
    let max_body = if store == "s3s-fs" {
        512 * 1024
    } else {
        runner::DEFAULT_MAX_BODY
    };
    let listed: Vec<&str> = listed
        .into_iter()
        .filter(|id| max_body >= runner::DEFAULT_MAX_BODY || !id.starts_with("shape/1m-"))
        .collect();
    let first = failed(url, key_id, secret, max_body).await;
    let second = failed(url, key_id, secret, max_body).await;
    let listed = sorted(listed);
    if first != second {
        return Some(format!(
            "{store}: other verdicts the second time\n  first:  {first:?}\n  second: {second:?}"
        ));
    }
    (first != listed).then(|| format!("{store}:\n  failed: {first:?}\n  listed: {listed:?}"))
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
    wrong.extend(checked("s3s-fs", &url, key_id, secret, s3s_fs_defects()).await);
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
    wrong.extend(checked("moto", &url, key_id, secret, moto_defects()).await);
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
    wrong.extend(checked("s3rver", &url, "S3RVER", "S3RVER", s3rver_defects()).await);
    drop(server);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
