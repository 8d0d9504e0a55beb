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
