//! `sigconform sign`: sign a request from the command line, to check a
//! client or a server by hand.

use sigconform_core::Secret;
use sigconform_core::registry::SchemeRef;
use sigconform_core::scheme::{SchemeConfig, SignInput};

/// Prints the signature headers for a request, one `Name: value` per line
/// (after a `Request-Target:` line where the scheme adds to the URL, as
/// Twilio's body hash).
#[derive(clap::Args)]
pub(crate) struct SignArgs {
    /// partner, authorization, webhook, a2a, ia-json or quable; a built-in
    /// profile's name (stripe, github, …); or a profile file.
    #[arg(long)]
    scheme: String,
    /// The key id (ignored by webhook and quable).
    #[arg(long)]
    key_id: Option<String>,
    /// The environment variable holding the secret (never on the command line).
    #[arg(long)]
    secret_env: String,
    /// Timestamp in the scheme's unit (ms for partner, s otherwise).
    #[arg(long)]
    timestamp: String,
    /// The nonce (authorization, a2a).
    #[arg(long)]
    nonce: Option<String>,
    #[arg(long, default_value = "GET")]
    method: String,
    /// Path with optional query, e.g. `/v1/orders?limit=10`.
    #[arg(long, default_value = "/")]
    path: String,
    /// Extra request headers that are signed (authorization), `name: value`.
    #[arg(long = "header")]
    headers: Vec<String>,
    /// File holding the exact body bytes.
    #[arg(long)]
    body_file: Option<std::path::PathBuf>,
    /// quable: the declared app endpoint string.
    #[arg(long)]
    endpoint: Option<String>,
}

pub(crate) fn run(args: SignArgs) -> Result<(), String> {
    let secret = std::env::var(&args.secret_env)
        .map_err(|_| format!("environment variable {} is not set", args.secret_env))?;
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
    let mut req: sigconform_core::request::Request = builder
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
    let key = scheme
        .key(
            args.key_id.as_deref().unwrap_or_default(),
            &Secret::new(secret),
        )
        .map_err(|e| e.to_string())?;
    let body = req.body().clone();
    scheme.prepare(&mut req, &body);
    if req.uri() != args.path.as_str() {
        println!("Request-Target: {}", req.uri());
    }
    let input = SignInput {
        key_id: args.key_id,
        timestamp: args.timestamp,
        nonce: args.nonce,
        ..SignInput::default()
    };
    for (name, value) in scheme.sign(&req, &input, &key).map_err(|e| e.to_string())? {
        println!("{name}: {value}");
    }
    Ok(())
}
