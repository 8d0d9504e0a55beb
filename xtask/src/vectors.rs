//! `cargo xtask vectors`: upkeep of the vector files. `fill` recomputes
//! their derived fields in place; `check` fails on any drift of fields,
//! verdicts or snapshots.

use std::path::{Path, PathBuf};
use std::process::Command;

use sigconform_core::vectors::{self, VectorFile};

pub(crate) fn load_all(root: &Path) -> Result<Vec<(PathBuf, VectorFile)>, String> {
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

pub(crate) fn fill(root: &Path) -> Result<(), String> {
    for (path, file) in load_all(root)? {
        let filled = vectors::fill(&file).map_err(|e| format!("{}: {e}", path.display()))?;
        let yaml = vectors::to_yaml(&filled).map_err(|e| e.to_string())?;
        std::fs::write(&path, yaml).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("filled {} ({} cases)", path.display(), filled.cases.len());
    }
    Ok(())
}

pub(crate) fn check(root: &Path) -> Result<(), String> {
    // The files on disk, as `sigconform vectors check` checks any file.
    let files = vectors::list_files(&root.join("vectors")).map_err(|e| e.to_string())?;
    if !sigconform::vectors::check(&files)? {
        return Err("vector problems (above)".into());
    }
    // Snapshots: the vectors test fails on any drift and never writes.
    let status = Command::new(env!("CARGO"))
        .args([
            "test",
            "--quiet",
            "--package",
            "sigconform-core",
            "--test",
            "vectors",
        ])
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
