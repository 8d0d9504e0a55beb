//! The Python and Node peers of `cargo xtask bench --compare` must do the
//! work they are compared on: accept every request of a workload of every
//! scheme and built-in profile, and reject every one when the secret is
//! not the one that signed them.

use std::path::{Path, PathBuf};
use std::process::Command;

use sigconform::Secret;
use sigconform::scheme::SchemeRef;
use sigconform::workload::Workload;

const REQUESTS: usize = 50;

/// Each peer: the program that runs it, and its script.
const PEERS: [(&str, &str); 2] = [
    ("python3", "benches/peers/verify.py"),
    ("node", "benches/peers/verify.mjs"),
];

/// Runs a peer briefly on a workload file; returns how many it accepted.
fn accepted(program: &str, script: &str, workload: &Path) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(program)
        .arg(root.join(script))
        .arg(workload)
        .arg("0.01")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["requests"], REQUESTS);
    assert!(result["per_second"].as_f64().unwrap() > 0.0);
    result["accepted"].as_u64().unwrap() as usize
}

fn write(path: &PathBuf, workload: &serde_json::Value) {
    std::fs::write(path, workload.to_string()).unwrap();
}

#[test]
fn peers_accept_the_workloads_and_nothing_signed_otherwise() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("peers");
    std::fs::create_dir_all(&dir).unwrap();
    for scheme in SchemeRef::all_built_in() {
        for size in [0, 1024] {
            let w = Workload::new(
                scheme.clone(),
                size,
                REQUESTS,
                "api.example.com",
                // In the form Standard Webhooks decodes and the others use
                // as text.
                &Secret::new("whsec_cGVlci1zZWNyZXQtb2YtMjQtYnl0ZXMh"),
                // The peers take "now" from the file.
                1_700_000_000_000,
            )
            .unwrap();
            let path = dir.join(format!("{scheme}-{size}.json"));
            let mut json = w.to_json();
            write(&path, &json);
            for (program, script) in PEERS {
                assert_eq!(
                    accepted(program, script, &path),
                    REQUESTS,
                    "{program} {scheme} {size}"
                );
            }
            json["secret"] = "whsec_YW5vdGhlci1zZWNyZXQtb2YtMjQtYnl0ZXM=".into();
            write(&path, &json);
            for (program, script) in PEERS {
                assert_eq!(
                    accepted(program, script, &path),
                    0,
                    "{program} {scheme} {size} with a wrong secret"
                );
            }
        }
    }
}
