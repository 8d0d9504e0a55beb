//! `sigconform verify`: verify one request as the reference implementation
//! does, to see why a signer's request is refused. The clock is the
//! system's unless `--now-ms` fixes it, so a captured request can be
//! checked at the moment it was sent.

use std::sync::Arc;

use sigconform_core::keys::{DEFAULT_KEY_ID, StaticKeys};
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::SchemeConfig;
use sigconform_core::time::{Clock, FixedClock, SystemClock};
use sigconform_core::{KeyPolicy, MemoryNonceStore, Verifier};

/// Verifies a request given by its parts; exit status 0 when it verifies,
/// 1 when it is refused (with the reason).
#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// A seed scheme, a built-in profile's name, or a profile file.
    #[arg(long)]
    scheme: String,
    /// The key id the secret belongs to (omit for schemes without key ids).
    #[arg(long)]
    key_id: Option<String>,
    /// The environment variable holding the secret (never on the command line).
    #[arg(long)]
    secret_env: String,
    #[arg(long, default_value = "GET")]
    method: String,
    /// Path with optional query, exactly as sent.
    #[arg(long, default_value = "/")]
    path: String,
    /// A request header, `name: value`, signature headers included; may repeat.
    #[arg(long = "header")]
    headers: Vec<String>,
    /// File holding the exact body bytes.
    #[arg(long)]
    body_file: Option<std::path::PathBuf>,
    /// quable: the declared app endpoint string; a profile's `{endpoint}`.
    #[arg(long)]
    endpoint: Option<String>,
    /// Verify at this time (Unix milliseconds) instead of now.
    #[arg(long)]
    now_ms: Option<u64>,
}

/// Whether the request verifies; an error for arguments that do not make one.
pub(crate) fn run(args: VerifyArgs) -> Result<bool, String> {
    let secret = crate::secret_from_env(&args.secret_env)?;
    let body = match &args.body_file {
        Some(path) => std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
        None => Vec::new(),
    };
    let mut builder = http::Request::builder()
        .method(args.method.as_str())
        .uri(args.path.as_str());
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| format!("header `{h}` is not `name: value`"))?;
        builder = builder.header(name.trim(), value.trim());
    }
    let request = builder
        .body(body.into())
        .map_err(|e| format!("invalid request: {e}"))?;
    let config = SchemeConfig {
        endpoint: args.endpoint,
        ..SchemeConfig::default()
    };
    let scheme = SchemeRef::resolve(&args.scheme)
        .map_err(|e| e.to_string())?
        .build(&config)
        .map_err(|e| e.to_string())?;
    let key_id = args.key_id.as_deref().unwrap_or(DEFAULT_KEY_ID);
    let mut keys = StaticKeys::new();
    keys.insert_key(scheme.key(key_id, &secret).map_err(|e| e.to_string())?);
    let clock: Arc<dyn Clock> = match args.now_ms {
        Some(ms) => Arc::new(FixedClock::new(ms)),
        None => Arc::new(SystemClock),
    };
    let verifier = Verifier::new(
        scheme,
        clock,
        Arc::new(MemoryNonceStore::default()),
        Arc::new(keys),
        KeyPolicy::default(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| format!("cannot start runtime: {e}"))?;
    match runtime.block_on(verifier.verify(&request)) {
        Ok(verified) => {
            println!("valid: signed by key {}", verified.key_id());
            Ok(true)
        }
        Err(rejection) => {
            let code = serde_json::to_value(rejection.code()).unwrap_or_default();
            println!("invalid: {} ({rejection})", code.as_str().unwrap_or("?"));
            Ok(false)
        }
    }
}
