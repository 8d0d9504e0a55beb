//! What the structured fuzz targets share: the moment they verify at, the
//! request they sign, and a verifier with fresh state.
use std::sync::Arc;

use sigconform_core::scheme::Scheme;
use sigconform_core::{
    FixedClock, KeyPolicy, MemoryNonceStore, Rejection, Request, StaticKeys, Verified, Verifier,
};

/// Every target signs and verifies at this moment (seconds).
pub const NOW_S: u64 = 1_700_000_000;

/// A request to `/{path}` (only its ASCII letters and digits) by one of
/// four methods, with a host, a JSON content type and `body`; `None`
/// where `http` refuses it.
#[allow(dead_code)] // `profile_load` sends its one request to a fixed route.
pub fn request(method: u8, path: &str, body: impl Into<bytes::Bytes>) -> Option<Request> {
    let method = ["GET", "POST", "PUT", "DELETE"][usize::from(method) % 4];
    let path: String = path.chars().filter(char::is_ascii_alphanumeric).collect();
    http::Request::builder()
        .method(method)
        .uri(format!("/{path}"))
        .header("host", "h")
        .header("content-type", "application/json")
        .body(body.into())
        .ok()
}

/// Verifies `req` with `scheme` and `keys` at [`NOW_S`], with an empty
/// nonce store and the default key policy.
pub fn verify(
    scheme: Box<dyn Scheme>,
    keys: StaticKeys,
    req: &Request,
) -> Result<Verified, Rejection> {
    let verifier = Verifier::new(
        scheme,
        Arc::new(FixedClock::new(NOW_S * 1000)),
        Arc::new(MemoryNonceStore::new(16)),
        Arc::new(keys),
        KeyPolicy::default(),
    );
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime builds")
        .block_on(verifier.verify(req))
}
