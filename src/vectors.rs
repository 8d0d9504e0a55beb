//! `sigconform vectors`: the project's test vectors, built into the binary,
//! as JSON for implementations in other languages; and a check of vector
//! files (these or a library author's own) against the reference
//! implementation.

use std::path::{Path, PathBuf};

use sigconform_core::vectors::{self, VectorFile};

/// The vector files, as they are in the repository's `vectors/`.
const BUILT_IN: [(&str, &str); 19] = [
    ("a2a", include_str!("../vectors/a2a.yaml")),
    (
        "authorization",
        include_str!("../vectors/authorization.yaml"),
    ),
    ("github", include_str!("../vectors/github.yaml")),
    ("github-sha1", include_str!("../vectors/github-sha1.yaml")),
    ("ia-json", include_str!("../vectors/ia-json.yaml")),
    ("paddle", include_str!("../vectors/paddle.yaml")),
    ("partner", include_str!("../vectors/partner.yaml")),
    ("quable", include_str!("../vectors/quable.yaml")),
    ("shopify", include_str!("../vectors/shopify.yaml")),
    ("sigv4", include_str!("../vectors/sigv4.yaml")),
    ("rfc9421", include_str!("../vectors/rfc9421.yaml")),
    ("slack", include_str!("../vectors/slack.yaml")),
    ("square", include_str!("../vectors/square.yaml")),
    (
        "standard-webhooks",
        include_str!("../vectors/standard-webhooks.yaml"),
    ),
    ("stripe", include_str!("../vectors/stripe.yaml")),
    ("svix", include_str!("../vectors/svix.yaml")),
    ("twilio-json", include_str!("../vectors/twilio-json.yaml")),
    ("twilio", include_str!("../vectors/twilio.yaml")),
    ("webhook", include_str!("../vectors/webhook.yaml")),
];

#[derive(clap::Subcommand)]
pub(crate) enum VectorsAction {
    /// Write every built-in vector file as JSON, one file per scheme.
    Export {
        /// Output directory.
        #[arg(long, default_value = "sigconform-vectors")]
        out: PathBuf,
    },
    /// Check vector files (default: the built-in ones) against the
    /// reference implementation: derived fields and verdicts.
    Check {
        /// Vector files (YAML) to check.
        files: Vec<PathBuf>,
    },
}

/// Whether the action found nothing wrong.
pub(crate) fn run(action: VectorsAction) -> Result<bool, String> {
    match action {
        VectorsAction::Export { out } => export(&out).map(|()| true),
        VectorsAction::Check { files } => check(&files),
    }
}

/// The built-in vector files, each with its name.
fn built_in() -> Result<Vec<(PathBuf, VectorFile)>, String> {
    BUILT_IN
        .iter()
        .map(|(name, text)| {
            let origin = PathBuf::from(format!("vectors/{name}.yaml"));
            vectors::from_yaml(&origin, text)
                .map(|file| (origin, file))
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn export(out: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for (origin, file) in built_in()? {
        let name = origin.with_extension("json");
        let target = out.join(name.file_name().expect("a file name"));
        let json =
            serde_json::to_string_pretty(&vectors::to_json(&file)).map_err(|e| e.to_string())?;
        std::fs::write(&target, json + "\n").map_err(|e| format!("{}: {e}", target.display()))?;
        println!("wrote {}", target.display());
    }
    Ok(())
}

/// Checks the vector files at `paths` (none: the built-in ones) against the
/// reference implementation, printing each problem; whether there were none.
pub fn check(paths: &[PathBuf]) -> Result<bool, String> {
    let files = if paths.is_empty() {
        built_in()?
    } else {
        paths
            .iter()
            .map(|p| {
                vectors::load_file(p)
                    .map(|f| (p.clone(), f))
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<_, _>>()?
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))?;
    let (mut cases, mut problems) = (0, 0);
    for (path, file) in &files {
        for case in &file.cases {
            let found = runtime
                .block_on(vectors::check_case(file, case))
                .map_err(|e| format!("{}: {e}", path.display()))?;
            for p in &found {
                println!("{}: {p}", path.display());
            }
            cases += 1;
            problems += found.len();
        }
    }
    println!(
        "{cases} cases in {} files, {problems} problem(s)",
        files.len()
    );
    Ok(problems == 0)
}

#[cfg(test)]
mod tests {
    /// Every file of `vectors/` is built in, and nothing else.
    #[test]
    fn every_vector_file_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".yaml")
                    .map(str::to_owned)
            })
            .collect();
        on_disk.sort();
        let built_in: Vec<String> = super::BUILT_IN
            .iter()
            .map(|(n, _)| (*n).to_owned())
            .collect();
        let mut sorted = built_in.clone();
        sorted.sort();
        assert_eq!(sorted, on_disk);
    }
}
