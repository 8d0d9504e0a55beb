//! One request given on the command line, and the scheme it is signed
//! with: what `sign` and `verify` share.

use sigconform_core::keys::{Key, Secret};
use sigconform_core::registry::SchemeRef;
use sigconform_core::request::Request;
use sigconform_core::scheme::Scheme;

use crate::scheme_options::SchemeOptions;

/// A scheme, a key and a request, from the command line.
#[derive(clap::Args)]
pub(crate) struct OneRequest {
    /// partner, authorization, webhook, a2a, ia-json, quable, sigv4 or rfc9421; a built-in
    /// profile's name (stripe, github, …); or a profile file.
    #[arg(long)]
    pub(crate) scheme: String,
    /// The key id (omit for schemes without key ids).
    #[arg(long)]
    pub(crate) key_id: Option<String>,
    /// The environment variable holding the secret (never on the command line).
    #[arg(long)]
    secret_env: String,
    #[arg(long, default_value = "GET")]
    method: String,
    /// Path with optional query, exactly as sent, e.g. `/v1/orders?limit=10`.
    #[arg(long, default_value = "/")]
    pub(crate) path: String,
    /// A request header, `name: value`; may repeat.
    #[arg(long = "header")]
    headers: Vec<String>,
    /// File holding the exact body bytes.
    #[arg(long)]
    body_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    scheme_options: SchemeOptions,
}

impl OneRequest {
    /// The request: method, path, headers and body as given.
    pub(crate) fn request(&self) -> Result<Request, String> {
        let body = match &self.body_file {
            Some(path) => std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
            None => Vec::new(),
        };
        let mut builder = http::Request::builder()
            .method(self.method.as_str())
            .uri(self.path.as_str());
        for h in &self.headers {
            let (name, value) = h
                .split_once(':')
                .ok_or_else(|| format!("header `{h}` is not `name: value`"))?;
            builder = builder.header(name.trim(), value.trim());
        }
        builder
            .body(body.into())
            .map_err(|e| format!("invalid request: {e}"))
    }

    /// The scheme, with the settings given.
    pub(crate) fn scheme(&self) -> Result<Box<dyn Scheme>, String> {
        SchemeRef::resolve(&self.scheme)
            .map_err(|e| e.to_string())?
            .build(&self.scheme_options.scheme_config(None))
            .map_err(|e| e.to_string())
    }

    /// The key `scheme` makes of the key id (or the default one) and the
    /// secret from the environment.
    pub(crate) fn key(&self, scheme: &dyn Scheme, default_id: &str) -> Result<Key, String> {
        let secret: Secret = crate::secret_from_env(&self.secret_env)?;
        let id = self.key_id.as_deref().unwrap_or(default_id);
        scheme.key(id, &secret).map_err(|e| e.to_string())
    }
}
