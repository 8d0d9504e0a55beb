//! Our implementation must not be its own oracle: the Python and Node
//! standard-library scripts in `crosscheck/` recompute the canonical string
//! and tag of every vector from its inputs, and must agree with all of them.
//! The standards' vectors have a third implementation besides, installed
//! from PyPI at a pinned version: botocore's signer for SigV4, and
//! http-message-signatures's verifier for RFC 9421.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use sigconform_core::vectors;

fn export_json(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&out).unwrap();
    for path in vectors::list_files(&root.join("vectors")).unwrap() {
        let file = vectors::load_file(&path).unwrap();
        let target = out.join(path.with_extension("json").file_name().unwrap());
        std::fs::write(target, vectors::to_json(&file).to_string()).unwrap();
    }
    out
}

fn run(program: &str, script: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = export_json(program);
    let output = Command::new(program)
        .arg(root.join(script))
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} (it is required for the cross-check): {e}")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script} disagrees with the vectors:\n{stderr}{stdout}"
    );
    // Guard against a script that silently checks nothing.
    let confirmed: usize = stdout
        .split_whitespace()
        .skip_while(|w| *w != "strings,")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        confirmed >= 280,
        "{script} confirmed only {confirmed} valid tags:\n{stdout}"
    );
}

#[test]
fn python_stdlib_agrees_with_every_vector() {
    run("python3", "crosscheck/crosscheck.py");
}

#[test]
fn node_stdlib_agrees_with_every_vector() {
    run("node", "crosscheck/crosscheck.mjs");
}

/// botocore, the AWS SDK for Python's signer, pinned.
const BOTOCORE: &str = "botocore==1.44.18";

#[test]
fn botocore_signs_the_sigv4_vectors_as_they_say() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = common::python_packages(&[BOTOCORE]);
    let dir = export_json("botocore");
    let output = Command::new(python)
        .arg(root.join("crosscheck/botocore_sigv4.py"))
        .arg(&dir)
        .output()
        .expect("the botocore virtual environment runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "botocore disagrees with the SigV4 vectors:\n{stderr}{stdout}"
    );
    // Every case botocore's conventions allow: the suite's and the derived.
    let confirmed: usize = stdout
        .rsplit("cross-check: ")
        .next()
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    assert!(
        confirmed >= 60,
        "botocore confirmed only {confirmed}:\n{stdout}"
    );
}

/// PyPI's http-message-signatures, the RFC 9421 library its authors test
/// against the RFC's appendix, pinned.
const HTTP_MESSAGE_SIGNATURES: &str = "http-message-signatures==3.0.0";

#[test]
fn http_message_signatures_verifies_the_rfc9421_vectors() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = common::python_packages(&[HTTP_MESSAGE_SIGNATURES]);
    let dir = export_json("http-message-signatures");
    let output = Command::new(python)
        .arg(root.join("crosscheck/http_message_signatures_rfc9421.py"))
        .arg(&dir)
        .output()
        .expect("the http-message-signatures virtual environment runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "http-message-signatures disagrees with the RFC 9421 vectors:\n{stderr}{stdout}"
    );
    // Every valid step but those the library cannot take (each named).
    let verified: usize = stdout
        .rsplit("cross-check: ")
        .next()
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    assert!(
        verified >= 15,
        "http-message-signatures verified only {verified}:\n{stdout}"
    );
}
