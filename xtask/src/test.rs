//! `cargo xtask test`: the whole test suite with the real PostgreSQL and
//! Redis some tests need ([`crate::services`]).

use std::path::Path;
use std::process::Command;

use crate::services;

pub(crate) fn test(root: &Path, args: &[String]) -> Result<(), String> {
    services::install_test_tools()?;
    let services = services::Services::start(root)?;
    let status = Command::new(env!("CARGO"))
        .args(["test", "--workspace"])
        .args(args)
        .envs(services.env())
        // The service tests fail rather than skip when a URL is missing.
        .env("SIGCONFORM_REQUIRE_SERVICES", "1")
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    drop(services);
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo test failed ({status})"))
    }
}
