//! The Python, Node and Java peers of `cargo xtask bench --compare` must do
//! the work they are compared on: accept every request of a workload of
//! every scheme and built-in profile they cover (Python and Node: all; Java:
//! the seeds it lists), and reject every one when the secret is not the one
//! that signed them.

use std::path::{Path, PathBuf};
use std::process::Command;

use sigconform_bench::workload::Workload;
use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;

const REQUESTS: usize = 50;

/// The peers: a name, the command that runs it on a workload file, and the
/// schemes it verifies.
fn peers(dir: &Path) -> Vec<(String, Command, Vec<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = |program: &str, script: &str| {
        let mut command = Command::new(program);
        command.arg(root.join(script));
        command
    };
    let classes = dir.join("java");
    let javac = Command::new("javac")
        .arg("-d")
        .arg(&classes)
        .arg(root.join("benches/peers/Verify.java"))
        .status()
        .expect("javac (JDK 17)");
    assert!(javac.success(), "javac failed");
    let java = || {
        let mut java = Command::new("java");
        java.arg("-cp").arg(&classes).arg("Verify");
        java
    };
    let schemes = java().arg("--schemes").output().expect("java");
    let schemes: Vec<String> = String::from_utf8_lossy(&schemes.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    // The standards' peers are their own libraries (`cargo xtask bench`:
    // botocore and the aws-sigv4 crate, http-message-signatures), not these
    // standard-library verifiers.
    let all: Vec<String> = SchemeRef::all_built_in()
        .iter()
        .filter(|s| !is_standard(s))
        .map(|s| s.name().to_owned())
        .collect();
    vec![
        (
            "python3".into(),
            script("python3", "benches/peers/verify.py"),
            all.clone(),
        ),
        (
            "node".into(),
            script("node", "benches/peers/verify.mjs"),
            all,
        ),
        ("java".into(), java(), schemes),
    ]
}

/// Runs a peer briefly on a workload file; returns how many it accepted.
fn accepted(name: &str, command: &mut Command, workload: &Path) -> usize {
    // A Command keeps its arguments: run a copy with the workload's added.
    let mut run = Command::new(command.get_program());
    run.args(command.get_args()).arg(workload).arg("0.01");
    if name == "java" {
        // No JIT warm-up: this checks answers, not speed.
        run.arg("0");
    }
    let output = run
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
    assert!(
        output.status.success(),
        "{name}: {}",
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
    let mut peers = peers(&dir);
    assert!(
        peers[2].2.iter().any(|s| s == "a2a"),
        "the Java peer verifies a2a"
    );
    for scheme in SchemeRef::all_built_in()
        .into_iter()
        .filter(|s| !is_standard(s))
    {
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
            let covers = |schemes: &Vec<String>| schemes.iter().any(|s| s == scheme.name());
            for (peer, command, _) in peers.iter_mut().filter(|(_, _, s)| covers(s)) {
                assert_eq!(
                    accepted(peer, command, &path),
                    REQUESTS,
                    "{peer} {scheme} {size}"
                );
            }
            json["secret"] = "whsec_YW5vdGhlci1zZWNyZXQtb2YtMjQtYnl0ZXM=".into();
            write(&path, &json);
            for (peer, command, _) in peers.iter_mut().filter(|(_, _, s)| covers(s)) {
                assert_eq!(
                    accepted(peer, command, &path),
                    0,
                    "{peer} {scheme} {size} with a wrong secret"
                );
            }
        }
    }
}

/// Whether `scheme` is a published standard's (SigV4, RFC 9421).
fn is_standard(scheme: &SchemeRef) -> bool {
    matches!(scheme, SchemeRef::Seed(id) if sigconform_core::scheme::SchemeId::STANDARDS.contains(id))
}
