//! Project tasks: `cargo xtask <task>`.
//!
//! Thin by design: argument parsing and printing. The work is done by the
//! `sigconform` library.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};
use sigconform::vectors::{self, VectorFile};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "sigconform project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Work with the test vectors in `vectors/`.
    Vectors {
        #[command(subcommand)]
        action: VectorsAction,
    },
    /// Fuzz the parsers and the verifier (cargo-fuzz, libFuzzer).
    Fuzz {
        /// `corpus` to regenerate the seed corpora from the vectors, a target
        /// name to run one target, or nothing to run them all.
        target: Option<String>,
        /// Seconds per target.
        #[arg(long, default_value_t = 15)]
        time: u64,
    },
}

#[derive(Subcommand)]
enum VectorsAction {
    /// Recompute every derived field (signed headers, canonical, tag) in place.
    Fill,
    /// Fail if any derived field, verdict or snapshot has drifted.
    Check,
    /// Write every vector file as JSON, for other languages.
    Export {
        /// Output directory.
        #[arg(long, default_value = "target/vectors-json")]
        out: PathBuf,
    },
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

fn load_all(root: &Path) -> Result<Vec<(PathBuf, VectorFile)>, String> {
    let files = vectors::list_files(&root.join("vectors")).map_err(|e| e.to_string())?;
    files
        .into_iter()
        .map(|p| {
            vectors::load_file(&p)
                .map(|f| (p, f))
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.task {
        Task::Vectors { action } => match action {
            VectorsAction::Fill => fill(&root),
            VectorsAction::Check => check(&root),
            VectorsAction::Export { out } => export(&root, &out),
        },
        Task::Fuzz {
            target: Some(t), ..
        } if t == "corpus" => fuzz_corpus(&root),
        Task::Fuzz { target, time } => fuzz(&root, target.as_deref(), time),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn fill(root: &Path) -> Result<(), String> {
    for (path, file) in load_all(root)? {
        let filled = vectors::fill(&file).map_err(|e| format!("{}: {e}", path.display()))?;
        let yaml = vectors::to_yaml(&filled).map_err(|e| e.to_string())?;
        std::fs::write(&path, yaml).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("filled {} ({} cases)", path.display(), filled.cases.len());
    }
    Ok(())
}

fn check(root: &Path) -> Result<(), String> {
    let runtime = tokio_runtime()?;
    let mut problems = 0;
    for (path, file) in load_all(root)? {
        for case in &file.cases {
            let found = runtime
                .block_on(vectors::check_case(&file, case))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            for p in &found {
                println!("{}: {p}", path.display());
            }
            problems += found.len();
        }
    }
    if problems > 0 {
        return Err(format!("{problems} vector problem(s)"));
    }
    // Snapshots: the vectors test fails on any drift and never writes.
    let status = Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--test", "vectors"])
        .env("INSTA_UPDATE", "no")
        .env("CI", "true")
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    if !status.success() {
        return Err("snapshots drifted: review with `cargo insta review`".into());
    }
    println!("vectors and snapshots are in step");
    Ok(())
}

fn export(root: &Path, out: &Path) -> Result<(), String> {
    let out = if out.is_absolute() {
        out.to_owned()
    } else {
        root.join(out)
    };
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    for (path, file) in load_all(root)? {
        let name = path.with_extension("json");
        let target = out.join(name.file_name().expect("a file name"));
        let json = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
        std::fs::write(&target, json + "\n").map_err(|e| format!("{}: {e}", target.display()))?;
        println!("wrote {}", target.display());
    }
    Ok(())
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))
}

/// The fuzz targets, as named in `fuzz/Cargo.toml`.
const FUZZ_TARGETS: [&str; 7] = [
    "header_authorization",
    "header_partner",
    "headers_any_scheme",
    "timestamp",
    "tag_decode",
    "canonical_json",
    "sign_verify",
];

/// Writes seed corpora from the vectors: each input is named after the case
/// and step it comes from.
fn fuzz_corpus(root: &Path) -> Result<(), String> {
    let corpus = root.join("fuzz/corpus");
    let mut written = 0;
    for (_, file) in load_all(root)? {
        for case in &file.cases {
            for (i, step) in case.steps.iter().enumerate() {
                let name = format!("{}-{}", case.id, i + 1);
                let mut seeds: Vec<(&str, Vec<u8>)> = Vec::new();
                for header in &step.request.headers {
                    match header.0.as_str() {
                        "authorization" => {
                            seeds.push(("header_authorization", header.1.clone().into_bytes()))
                        }
                        "x-signature" if file.scheme == sigconform::scheme::SchemeId::Partner => {
                            seeds.push(("header_partner", header.1.clone().into_bytes()))
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
                    if file.scheme == sigconform::scheme::SchemeId::Partner {
                        seeds.push(("canonical_json", body.clone()));
                    }
                    seeds.push(("headers_any_scheme", body.clone()));
                    seeds.push(("sign_verify", body));
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
    println!("wrote {written} seed inputs under {}", corpus.display());
    Ok(())
}

/// Runs one or all fuzz targets for `seconds` each; fails on any crash.
///
/// cargo-fuzz needs nightly compiler flags: `+nightly` when a nightly
/// toolchain is installed, otherwise the stable compiler with
/// `RUSTC_BOOTSTRAP=1`. cargo-fuzz itself is installed when missing.
fn fuzz(root: &Path, target: Option<&str>, seconds: u64) -> Result<(), String> {
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

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}
