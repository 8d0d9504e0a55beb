//! `sigconform profiles`: the built-in scheme profiles, and a check of a
//! profile file a user wrote for their own scheme.

use std::path::PathBuf;

use sigconform_core::profile::{BUILT_IN, Profile};

#[derive(clap::Subcommand)]
pub(crate) enum ProfilesAction {
    /// The built-in profiles, one name per line.
    List,
    /// Print a built-in profile's YAML, a start for one's own.
    Show {
        /// The profile's name (see `list`).
        name: String,
    },
    /// Load a profile file as `conform --profile` would, and say what is wrong.
    Validate {
        /// The profile file (YAML).
        file: PathBuf,
    },
}

/// Whether the action found nothing wrong.
pub(crate) fn run(action: ProfilesAction) -> Result<bool, String> {
    match action {
        ProfilesAction::List => {
            for (name, text) in BUILT_IN {
                let profile = Profile::from_yaml(name, text).map_err(|e| e.to_string())?;
                println!("{name:<18} {}", profile.description);
            }
            Ok(true)
        }
        ProfilesAction::Show { name } => {
            let (_, text) = BUILT_IN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
                format!(
                    "no built-in profile `{name}` (one of {})",
                    BUILT_IN.map(|(n, _)| n).join(", ")
                )
            })?;
            print!("{text}");
            Ok(true)
        }
        ProfilesAction::Validate { file } => match Profile::load(&file) {
            Ok(profile) => {
                println!(
                    "{}: a valid profile ({})",
                    file.display(),
                    profile.description
                );
                Ok(true)
            }
            Err(e) => {
                println!("{e}");
                Ok(false)
            }
        },
    }
}
