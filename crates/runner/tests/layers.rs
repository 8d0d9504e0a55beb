//! The runner's place among the crates: it probes a verifier from outside,
//! so what it compiles holds no reference server and no database client.
//! Its controls name the server's deliberate defects through
//! `sigconform-defects`, which is data over the core. Read from
//! `cargo tree`: the packages a crate's normal dependencies reach on this
//! platform.

use std::collections::BTreeSet;
use std::process::Command;

/// The names of the packages `package` reaches through normal (not dev,
/// not build) dependencies, itself included.
fn normal_dependencies(package: &str) -> BTreeSet<String> {
    let output = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "--edges", "normal", "--prefix", "none"])
        .args(["--format", "{p}", "--package", package, "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_runner_compiles_no_server_and_no_database_client() {
    // The walk sees a database client where there is one.
    let server = normal_dependencies("sigconform-server");
    assert!(
        server.contains("sqlx") && server.contains("redis"),
        "{server:?}"
    );
    let reached = normal_dependencies("sigconform-runner");
    assert!(reached.contains("sigconform-defects"), "{reached:?}");
    let forbidden: Vec<&String> = reached
        .iter()
        .filter(|name| {
            *name == "sigconform-server" || name.starts_with("sqlx") || name.starts_with("redis")
        })
        .collect();
    assert!(forbidden.is_empty(), "the runner compiles {forbidden:?}");
}

#[test]
fn the_defect_model_depends_on_the_core_only() {
    let reached = normal_dependencies("sigconform-defects");
    let ours: Vec<&String> = reached
        .iter()
        .filter(|name| name.starts_with("sigconform"))
        .collect();
    assert_eq!(ours, ["sigconform-core", "sigconform-defects"]);
    assert!(!reached.contains("hyper"), "{reached:?}");
}
