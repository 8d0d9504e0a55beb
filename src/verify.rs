//! `sigconform verify`: verify one request as the reference implementation
//! does, to see why a signer's request is refused. The clock is the
//! system's unless `--now-ms` fixes it, so a captured request can be
//! checked at the moment it was sent.

use std::sync::Arc;

use sigconform_core::keys::{DEFAULT_KEY_ID, StaticKeys};
use sigconform_core::time::{Clock, FixedClock, SystemClock};
use sigconform_core::{KeyPolicy, MemoryNonceStore, Verifier};

use crate::one_request::OneRequest;

/// Verifies a request given by its parts; exit status 0 when it verifies,
/// 1 when it is refused (with the reason).
#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    request: OneRequest,
    /// Verify at this time (Unix milliseconds) instead of now.
    #[arg(long)]
    now_ms: Option<u64>,
}

/// Whether the request verifies; an error for arguments that do not make one.
pub(crate) fn run(args: VerifyArgs) -> Result<bool, String> {
    let scheme = args.request.scheme()?;
    let mut keys = StaticKeys::new();
    keys.insert_key(args.request.key(scheme.as_ref(), DEFAULT_KEY_ID)?);
    let request = args.request.request()?;
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
