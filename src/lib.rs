//! # sigconform, the command-line tool
//!
//! One binary for everything a user of the project does:
//!
//! - `conform`: probe a verifier (or, with no `--target`, the built-in
//!   reference servers) and report each case with its rule;
//! - `fuzz`: send a verifier requests composed of structure-aware changes
//!   and report where it answers otherwise than the reference requires;
//! - `serve`: run a verifying reference server, to test a signer against;
//! - `sign` and `verify`: one request by hand;
//! - `vectors`: export the test vectors for other languages, or check
//!   vector files against the reference implementation;
//! - `profiles`: list, show or validate scheme profiles.
//!
//! The work is done by the library crates: `sigconform-core` signs and
//! verifies, `sigconform-server` serves, `sigconform-runner` probes. This
//! crate only reads the command line, prints, and sets the exit status:
//! 0 when all went well, 1 when a check found a problem (a case at or
//! above `--fail-on`, a request that does not verify, a vector that
//! drifted), 2 for a usage error or a target that cannot be probed at all.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;

pub mod built_in;
pub mod conform;
pub mod deployment;
pub mod fuzz;
mod one_request;
mod profiles;
pub mod scheme_options;
pub mod serve;
mod sign;
pub mod vectors;
mod verify;

#[derive(Parser)]
#[command(
    name = "sigconform",
    version,
    about = "Conformance tests for HMAC request signing"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Probe signing verifiers; with no --target, the built-in reference servers.
    Conform(Box<conform::ConformArgs>),
    /// Fuzz a verifier against the reference; with no --target, the built-in reference servers.
    Fuzz(Box<fuzz::FuzzArgs>),
    /// Run a verifying reference server.
    Serve(Box<serve::ServeArgs>),
    /// Print the signature headers for a request.
    Sign(Box<sign::SignArgs>),
    /// Verify one request as the reference implementation does.
    Verify(Box<verify::VerifyArgs>),
    /// The test vectors: export them for other languages, or check vector files.
    Vectors {
        #[command(subcommand)]
        action: vectors::VectorsAction,
    },
    /// The scheme profiles: list the built-in ones, show one, validate a file.
    Profiles {
        #[command(subcommand)]
        action: profiles::ProfilesAction,
    },
}

/// Runs the command line `args` (the program name first) and returns the
/// exit status.
pub fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let checked = match cli.command {
        Command::Conform(args) => return conform::run(*args),
        Command::Fuzz(args) => return fuzz::run(*args),
        Command::Serve(args) => {
            return serve::run(*args).map_or_else(usage_error, |()| ExitCode::SUCCESS);
        }
        Command::Sign(args) => {
            return sign::run(*args).map_or_else(usage_error, |()| ExitCode::SUCCESS);
        }
        Command::Verify(args) => verify::run(*args),
        Command::Vectors { action } => vectors::run(action),
        Command::Profiles { action } => profiles::run(action),
    };
    match checked {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => usage_error(e),
    }
}

/// Exit status 2 with a one-line message: usage errors and targets that
/// cannot be reached at all.
pub(crate) fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// A secret (or token) from the environment variable `var`.
pub(crate) fn secret_from_env(var: &str) -> Result<Secret, String> {
    std::env::var(var)
        .map(Secret::new)
        .map_err(|_| format!("environment variable {var} is not set"))
}

/// A fresh secret for a built-in server, a benchmark or an admin token.
pub fn random_secret() -> Result<Secret, String> {
    Secret::generate().map_err(|e| format!("no randomness from the operating system: {e}"))
}

/// The scheme named by `--scheme` or `--profile`, if either is given; a
/// profile that cannot be used is a usage error of one line.
pub fn chosen_scheme(
    scheme: Option<&str>,
    profile: Option<&str>,
) -> Result<Option<SchemeRef>, String> {
    match (scheme, profile) {
        (Some(name), _) => SchemeRef::by_name(name).map(Some).ok_or_else(|| {
            format!(
                "unknown scheme `{name}` (partner, authorization, webhook, a2a, ia-json, quable, sigv4, rfc9421, or a built-in profile: {}); a profile file goes to --profile",
                sigconform_core::profile::BUILT_IN.map(|(n, _)| n).join(", ")
            )
        }),
        (None, Some(profile)) => sigconform_core::profile::Profile::resolve(profile)
            .map(|p| Some(SchemeRef::from(p)))
            .map_err(|e| e.to_string()),
        (None, None) => Ok(None),
    }
}

/// A reference server on loopback (`port` 0: any free port).
pub async fn start_reference(
    config: sigconform_server::ServerConfig,
    port: u16,
) -> Result<sigconform_server::RunningServer, String> {
    sigconform_server::start(config, std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|e| format!("cannot start the reference server on 127.0.0.1:{port}: {e}"))
}
