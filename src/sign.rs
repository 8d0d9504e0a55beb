//! `sigconform sign`: sign a request from the command line, to check a
//! client or a server by hand.

use sigconform_core::scheme::SignInput;

use crate::one_request::OneRequest;

/// Prints the signature headers for a request, one `Name: value` per line
/// (after a `Request-Target:` line where the scheme adds to the URL, as
/// Twilio's body hash, and the headers it adds to the request, as RFC
/// 9421's `Content-Digest`).
#[derive(clap::Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    request: OneRequest,
    /// Timestamp as the scheme writes it: seconds (ms for partner), or for
    /// sigv4 an X-Amz-Date (`20150830T123600Z`).
    #[arg(long)]
    timestamp: String,
    /// The nonce (authorization, a2a, profiles with one).
    #[arg(long)]
    nonce: Option<String>,
}

pub(crate) fn run(args: SignArgs) -> Result<(), String> {
    let scheme = args.request.scheme()?;
    let key = args.request.key(scheme.as_ref(), "")?;
    let mut req = args.request.request()?;
    let body = req.body().clone();
    let before = req.headers().clone();
    scheme.prepare(&mut req, &body);
    if req.uri() != args.request.path.as_str() {
        println!("Request-Target: {}", req.uri());
    }
    for (name, value) in req.headers() {
        if !before.contains_key(name) {
            println!("{name}: {}", value.to_str().unwrap_or_default());
        }
    }
    let input = SignInput {
        key_id: args.request.key_id,
        timestamp: args.timestamp,
        nonce: args.nonce,
        ..SignInput::default()
    };
    for (name, value) in scheme.sign(&req, &input, &key).map_err(|e| e.to_string())? {
        println!("{name}: {value}");
    }
    Ok(())
}
