//! Development tasks: `cargo xtask <task>`, one file per task.
//!
//! The product's commands are the `sigconform` binary's; `conform` and
//! `serve` are here too as thin delegates, so `cargo xtask conform` runs
//! from a clone without installing anything.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

mod bench;
mod fuzz;
mod rfc9421_bench;
mod services;
mod sigv4_bench;
mod test;
mod vectors;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "sigconform development tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// `sigconform conform …` (see `cargo xtask conform --help`).
    #[command(disable_help_flag = true)]
    Conform {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// `sigconform serve …` (see `cargo xtask serve --help`).
    #[command(disable_help_flag = true)]
    Serve {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Upkeep of the vector files in `vectors/`.
    Vectors {
        #[command(subcommand)]
        action: VectorsAction,
    },
    /// Measure: the full catalog's wall time against the local server, and
    /// the reference server's verified requests per second under loopback load.
    Bench {
        /// Requests in the load run.
        #[arg(long, default_value_t = 200_000)]
        requests: usize,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Also verify the same requests with the Python, Node and Java
        /// peers, set the hash limits and `openssl speed` beside ours, and
        /// judge the ratios against the floors of `docs/performance.md`.
        #[arg(long)]
        compare: bool,
        /// Seconds each side-by-side measurement runs for.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
    },
    /// The test suite, with PostgreSQL and Redis for the tests that need
    /// real servers: starts them (installing the Debian packages when they
    /// are missing and this runs as root), runs `cargo test --workspace`
    /// with any further arguments, and stops them.
    Test {
        /// Passed on to `cargo test`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Fuzz the parsers and the verifier (cargo-fuzz, libFuzzer).
    Fuzz {
        /// `corpus` to regenerate the seed corpora from the vectors,
        /// `json-differential` to run the differential test of `partner`'s
        /// canonical JSON against Node and python3 with fresh seeds, a target
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
    /// Write every vector file as JSON, for other languages
    /// (`sigconform vectors export`).
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

/// `sigconform <command> <args>`, as the binary would run it.
fn delegate(command: &str, args: Vec<OsString>) -> ExitCode {
    let program = OsString::from("sigconform");
    sigconform::main([program, command.into()].into_iter().chain(args))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.task {
        Task::Conform { args } => return delegate("conform", args),
        Task::Serve { args } => return delegate("serve", args),
        Task::Test { args } => test::test(&root, &args),
        Task::Vectors { action } => match action {
            VectorsAction::Fill => vectors::fill(&root),
            VectorsAction::Check => vectors::check(&root),
            VectorsAction::Export { out } => {
                let out = root.join(out).into_os_string();
                return delegate("vectors", vec!["export".into(), "--out".into(), out]);
            }
        },
        Task::Bench {
            requests,
            connections,
            compare,
            seconds,
        } => bench::run(&root, requests, connections, compare, seconds),
        Task::Fuzz { target, time } => match target.as_deref() {
            Some("corpus") => fuzz::corpus(&root),
            Some("json-differential") => fuzz::json_differential(&root, time),
            target => fuzz::fuzz(&root, target, time),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `cmd`; an error unless it succeeds.
pub(crate) fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}
