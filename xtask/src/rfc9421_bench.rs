//! RFC 9421 in `cargo xtask bench --compare`: the library's verification of
//! signed requests (`Signature-Input`, `Signature`, `Content-Digest`), empty
//! and 1 KiB bodies, against the published libraries verifying the same
//! requests: PyPI's and npm's http-message-signatures, pinned, installed
//! once under `target/bench`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sigconform_bench::measure;
use sigconform_bench::workload::Workload;
use sigconform_core::registry::SchemeRef;

/// The peers, pinned (the tests' real verifiers too).
const PYTHON_LIBRARY: &str = "http-message-signatures==3.0.0";
const NODE_LIBRARY: &str = "http-message-signatures@1.0.6";

/// Requests in each workload.
const REQUESTS: usize = 5_000;

/// The target: at least this many times each peer's rate, per core.
const OVER_PEERS: f64 = 10.0;

/// A folder whose `node_modules` holds the npm library.
fn node_packages(dir: &Path) -> Option<PathBuf> {
    let packages = dir.join("rfc9421-node");
    let installed = crate::bench::once(&packages.join(NODE_LIBRARY), || {
        std::fs::create_dir_all(&packages).is_ok()
            && Command::new("npm")
                .args([
                    "install",
                    "--no-save",
                    "--no-package-lock",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                ])
                .arg(&packages)
                .arg(NODE_LIBRARY)
                .status()
                .is_ok_and(|s| s.success())
    });
    installed.then_some(packages).or_else(|| {
        eprintln!("cannot install {NODE_LIBRARY}: its column stays empty");
        None
    })
}

/// The RFC 9421 table, judged against its target; returns whether it was met.
pub(crate) fn table(
    root: &Path,
    dir: &Path,
    now_ms: u64,
    budget: Duration,
) -> Result<bool, String> {
    let scheme = SchemeRef::by_name("rfc9421").expect("rfc9421 is built in");
    // RFC 9421's secrets are bytes, given in base64.
    let secret = sigconform::random_secret()?;
    let python = crate::bench::python_with(dir, "rfc9421-venv", PYTHON_LIBRARY);
    let node = node_packages(dir);
    println!(
        "\n== RFC 9421: verifications per second against the published libraries, {REQUESTS} requests, one core"
    );
    println!(
        "{:>5} {:>10} {:>10} {:>10} {:>9} {:>9}",
        "body", "sigconform", "python", "node", "x python", "x node"
    );
    let peers = [
        ("python", "rfc9421_python.py", python.clone(), None),
        (
            "node",
            "rfc9421_node.mjs",
            Some(PathBuf::from("node")),
            node,
        ),
    ];
    let mut all_met = true;
    for size in [0, 1024] {
        let w = Workload::new(
            scheme.clone(),
            size,
            REQUESTS,
            "api.example.com",
            &secret,
            now_ms,
        )?;
        let path = dir.join(format!("workload-rfc9421-{size}.json"));
        let (ours, rates) = crate::bench::with_workload_file(&w, &path, || {
            let ours = measure::verifications(&w, budget).per_second;
            let rates: Vec<Option<f64>> = peers
                .iter()
                .map(|(name, script, program, packages)| {
                    let mut command = Command::new(program.as_ref()?);
                    command.arg(root.join("benches/peers").join(script));
                    if let Some(packages) = packages {
                        command.env("NODE_PACKAGES", packages);
                    } else if *name == "node" {
                        return None;
                    }
                    crate::bench::peer(name, command, &path, budget)
                })
                .collect();
            (ours, rates)
        })?;
        // A peer not measured is a target not met.
        let met = rates
            .iter()
            .all(|r| r.is_some_and(|peer| ours >= OVER_PEERS * peer));
        all_met &= met;
        let rate = |r: &Option<f64>| r.map_or("-".into(), |r| format!("{r:.0}"));
        let ratio = |r: &Option<f64>| r.map_or("-".into(), |r| format!("{:.1}x", ours / r));
        println!(
            "{:>5} {:>10.0} {:>10} {:>10} {:>9} {:>9}",
            size,
            ours,
            rate(&rates[0]),
            rate(&rates[1]),
            ratio(&rates[0]),
            ratio(&rates[1]),
        );
    }
    println!(
        "RFC 9421 at least {OVER_PEERS}x both libraries: {}",
        crate::bench::met(all_met)
    );
    Ok(all_met)
}
