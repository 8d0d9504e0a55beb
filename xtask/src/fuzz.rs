//! `cargo xtask fuzz`: the cargo-fuzz targets in `fuzz/`, their seed
//! corpora from the vectors, and the canonical JSON differential test.

use std::path::Path;
use std::process::Command;

use sigconform_core::scheme::SchemeId;

use sigconform_core::registry::SchemeRef;

use crate::run;

/// The fuzz targets, as named in `fuzz/Cargo.toml`.
const FUZZ_TARGETS: [&str; 13] = [
    "header_authorization",
    "header_partner",
    "headers_any_scheme",
    "timestamp",
    "tag_decode",
    "canonical_json",
    "sign_verify",
    "profile_load",
    "profile_vs_seed",
    "sigv4_authorization",
    "sigv4_presigned_query",
    "rfc9421_signature_input",
    "rfc9421_signature",
];

/// Writes seed corpora from the vectors: each input is named after the case
/// and step it comes from.
pub(crate) fn corpus(root: &Path) -> Result<(), String> {
    let corpus = root.join("fuzz/corpus");
    let mut written = 0;
    for (_, file) in crate::vectors::load_all(root)? {
        for case in &file.cases {
            for (i, step) in case.steps.iter().enumerate() {
                let name = format!("{}-{}", case.id, i + 1);
                let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
                let sigv4 = file.scheme == SchemeRef::Seed(SchemeId::Sigv4);
                let standard =
                    matches!(file.scheme, SchemeRef::Seed(id) if SchemeId::STANDARDS.contains(&id));
                if let Some(query) = step.request.query.as_ref().filter(|_| sigv4) {
                    seeds.push(("sigv4_presigned_query", query.clone().into_bytes()));
                }
                for header in &step.request.headers {
                    match header.0.as_str() {
                        "authorization" if sigv4 => {
                            seeds.push(("sigv4_authorization", header.1.clone().into_bytes()))
                        }
                        "authorization" => {
                            seeds.push(("header_authorization", header.1.clone().into_bytes()))
                        }
                        "x-signature" if file.scheme == SchemeRef::Seed(SchemeId::Partner) => {
                            seeds.push(("header_partner", header.1.clone().into_bytes()))
                        }
                        "signature-input" => {
                            seeds.push(("rfc9421_signature_input", header.1.clone().into_bytes()))
                        }
                        "signature" => {
                            seeds.push(("rfc9421_signature", header.1.clone().into_bytes()))
                        }
                        "x-signature" | "x-webhook-signature" | "x-ia-signature" => {
                            seeds.push(("tag_decode", header.1.clone().into_bytes()))
                        }
                        _ => {}
                    }
                }
                if let Some(recipe) = &step.sign {
                    seeds.push(("timestamp", recipe.input.timestamp.clone().into_bytes()));
                }
                // Large bodies add nothing a fuzzer cannot grow itself.
                if let Ok(body) = step
                    .request
                    .body_bytes()
                    .map(|b| b[..b.len().min(4096)].to_vec())
                {
                    if file.scheme == SchemeRef::Seed(SchemeId::Partner) {
                        seeds.push(("canonical_json", body.clone()));
                    }
                    seeds.push(("headers_any_scheme", body.clone()));
                    // The structured targets build their own requests of
                    // the seeds' schemes.
                    if matches!(file.scheme, SchemeRef::Seed(_)) && !standard {
                        seeds.push(("profile_vs_seed", body.clone()));
                        seeds.push(("sign_verify", body));
                    }
                }
                for (target, data) in seeds {
                    let dir = corpus.join(target);
                    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                    let path = dir.join(&name);
                    std::fs::write(&path, data).map_err(|e| format!("{}: {e}", path.display()))?;
                    written += 1;
                }
            }
        }
    }
    // The profile loader starts from the built-in profiles.
    let dir = corpus.join("profile_load");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, text) in sigconform_core::profile::BUILT_IN {
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written += 1;
    }
    println!("wrote {written} seed inputs under {}", corpus.display());
    Ok(())
}

/// Runs `crates/core/tests/canonical_json_js.rs` for `seconds` per check, with fresh
/// seeds: CI runs it with one fixed seed.
pub(crate) fn json_differential(root: &Path, seconds: u64) -> Result<(), String> {
    println!("comparing canonical JSON with Node and python3 for {seconds} s each");
    run(Command::new(env!("CARGO"))
        .args([
            "test",
            "--package",
            "sigconform-core",
            "--test",
            "canonical_json_js",
            "--",
            "--nocapture",
        ])
        .env("SIGCONFORM_JSON_DIFF_SECONDS", seconds.to_string())
        .current_dir(root))
}

/// Runs one or all fuzz targets for `seconds` each; fails on any crash.
///
/// cargo-fuzz needs nightly compiler flags: `+nightly` when a nightly
/// toolchain is installed, otherwise the stable compiler with
/// `RUSTC_BOOTSTRAP=1`. cargo-fuzz itself is installed when missing.
pub(crate) fn fuzz(root: &Path, target: Option<&str>, seconds: u64) -> Result<(), String> {
    let targets: Vec<&str> = match target {
        None => FUZZ_TARGETS.to_vec(),
        Some(t) if FUZZ_TARGETS.contains(&t) => vec![t],
        Some(t) => {
            return Err(format!(
                "unknown fuzz target `{t}` (one of {})",
                FUZZ_TARGETS.join(", ")
            ));
        }
    };
    let has_cargo_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cargo_fuzz {
        println!("installing cargo-fuzz");
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    let fuzz_dir = root.join("fuzz");
    for target in targets {
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
        // Findings go to a scratch copy so the committed seeds stay small.
        let scratch = root.join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        let mut cmd = Command::new("cargo");
        if nightly {
            cmd.arg("+nightly");
        } else {
            cmd.env("RUSTC_BOOTSTRAP", "1");
        }
        cmd.current_dir(root)
            .args(["fuzz", "run", "--fuzz-dir"])
            .arg(&fuzz_dir)
            .arg(target)
            .arg(&scratch)
            .arg(&corpus)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-dict={}", fuzz_dir.join("headers.dict").display()))
            .args([
                "-rss_limit_mb=2048",
                "-max_len=65536",
                "-print_final_stats=1",
            ]);
        println!("fuzzing {target} for {seconds} s");
        run(&mut cmd).map_err(|e| format!("{target}: {e}"))?;
    }
    Ok(())
}
