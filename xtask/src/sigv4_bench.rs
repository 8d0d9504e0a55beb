//! SigV4 in `cargo xtask bench --compare`: the library's verification of
//! signed requests, header and presigned forms, empty and 1 KiB bodies,
//! against its peers signing the same requests (verifying a SigV4 request
//! is signing it again): the `aws-sigv4` crate (Rust) and botocore (Python,
//! pinned, in a virtual environment made once under `target/bench`).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use sigconform_bench::measure;
use sigconform_bench::sigv4_peer;
use sigconform_bench::workload::Workload;
use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;

/// botocore, pinned (the tests' third implementation of the vectors too).
const BOTOCORE: &str = "botocore==1.44.18";

/// Requests in each workload.
const REQUESTS: usize = 5_000;

/// The targets: at least this many times the peer's rate, per core.
const OVER_AWS_SIGV4: f64 = 2.0;
const OVER_BOTOCORE: f64 = 10.0;

/// The SigV4 table, judged against its targets; returns whether all were met.
pub(crate) fn table(
    root: &Path,
    dir: &Path,
    now_ms: u64,
    budget: Duration,
) -> Result<bool, String> {
    let scheme = SchemeRef::by_name("sigv4").expect("sigv4 is built in");
    let secret = sigconform::random_secret()?;
    let python = crate::bench::python_with(dir, "botocore-venv", BOTOCORE);
    println!(
        "\n== SigV4: verifications per second against its peers signing the same requests, {REQUESTS} requests, one core"
    );
    println!(
        "{:<10} {:>5} {:>10} {:>10} {:>10} {:>11} {:>10}",
        "form", "body", "sigconform", "aws-sigv4", "botocore", "x aws-sigv4", "x botocore"
    );
    let mut all_met = true;
    for presigned in [false, true] {
        for size in [0, 1024] {
            let w = workload(&scheme, presigned, size, &secret, now_ms)?;
            let path = dir.join(format!("workload-sigv4-{presigned}-{size}.json"));
            let (ours, aws, boto) = crate::bench::with_workload_file(&w, &path, || {
                let ours = measure::verifications(&w, budget).per_second;
                let aws = sigv4_peer::signatures(&w, budget).per_second;
                let boto = python.as_ref().and_then(|python| {
                    let mut command = Command::new(python);
                    command.arg(root.join("benches/peers/sigv4_botocore.py"));
                    crate::bench::peer("botocore", command, &path, budget)
                });
                (ours, aws, boto)
            })?;
            let met =
                ours >= OVER_AWS_SIGV4 * aws && boto.is_none_or(|b| ours >= OVER_BOTOCORE * b);
            all_met &= met;
            println!(
                "{:<10} {:>5} {:>10.0} {:>10.0} {:>10} {:>10.1}x {:>10}",
                if presigned { "presigned" } else { "header" },
                size,
                ours,
                aws,
                boto.map_or("-".into(), |b| format!("{b:.0}")),
                ours / aws,
                boto.map_or("-".into(), |b| format!("{:.1}x", ours / b)),
            );
        }
    }
    println!(
        "SigV4 at least {OVER_AWS_SIGV4}x aws-sigv4 and {OVER_BOTOCORE}x botocore: {}",
        crate::bench::met(all_met)
    );
    Ok(all_met)
}

fn workload(
    scheme: &SchemeRef,
    presigned: bool,
    size: usize,
    secret: &Secret,
    now_ms: u64,
) -> Result<Workload, String> {
    if presigned {
        Workload::presigned(scheme.clone(), size, REQUESTS, secret, now_ms, 3600)
    } else {
        Workload::new(
            scheme.clone(),
            size,
            REQUESTS,
            "api.example.com",
            secret,
            now_ms,
        )
    }
}
