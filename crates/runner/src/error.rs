//! Why a run could not start: one variant per reason, which the CLI turns
//! into its one-line message.

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The deployment lists no instance to probe.
    #[error("no target: a deployment needs at least one instance to probe")]
    NoTarget,
    /// The scheme configuration is unusable.
    #[error(transparent)]
    Config(#[from] sigconform_core::scheme::ConfigError),
    /// The target URL is not an absolute http or https URL.
    #[error("target `{0}` is not an http:// or https:// URL (host, optional port, path and query)")]
    Target(String),
    /// The TLS client cannot be set up.
    #[error("TLS: {0}")]
    Tls(String),
    /// The `--ca-cert` file cannot be used.
    #[error("--ca-cert {0}: {1}")]
    CaCert(String, String),
    /// The target's certificate is not trusted.
    #[error(
        "target {0}: its TLS certificate is not trusted: {1}; pass --ca-cert FILE with the CA that issued it or the certificate itself, or --insecure for a staging server"
    )]
    Certificate(String, String),
    /// The target's certificate is not trusted, even with the `--ca-cert`
    /// file.
    #[error("target {0}: its TLS certificate is not trusted with --ca-cert {2}: {1}")]
    CertificateWithCaFile(String, String, String),
    /// The target does not answer at all.
    #[error("target {0} cannot be reached: {1}")]
    Unreachable(String, String),
    /// The target's clock is further off than its window: every boundary
    /// case would be meaningless.
    #[error(
        "target {target} clock is off by {offset_ms} ms (±{uncertainty_ms} ms), more than its window allows; fix its clock or pass --tolerance"
    )]
    ClockOff {
        /// The target.
        target: String,
        /// Target clock minus ours.
        offset_ms: i64,
        /// How sure the estimate is.
        uncertainty_ms: u64,
    },
}
