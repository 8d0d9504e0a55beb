//! The request model shared by signers and verifiers, and header access.
//!
//! A request is an [`http::Request`] whose body is the exact bytes received.
//! Header names are case-insensitive (the `http` crate stores them lower
//! case); a header that a scheme reads as a single value must appear once.

use bytes::Bytes;
use http::HeaderName;

use crate::Rejection;

/// A request as signed or received: method, URI (path and query), headers
/// and the exact body bytes.
pub type Request = http::Request<Bytes>;

/// The value of header `name`, which must appear at most once and be
/// printable ASCII.
///
/// `Ok(None)` when absent; [`Rejection::DuplicateHeader`] when repeated,
/// because a verifier and a proxy could each pick a different copy.
pub fn single_header<'r>(
    req: &'r Request,
    name: &HeaderName,
) -> Result<Option<&'r str>, Rejection> {
    let mut values = req.headers().get_all(name).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Rejection::DuplicateHeader(name.as_str().to_owned()));
    }
    value
        .to_str()
        .map(Some)
        .map_err(|_| Rejection::MalformedHeader {
            header: name.as_str().to_owned(),
            detail: "not printable ASCII",
        })
}

/// Like [`single_header`], but absence is a [`Rejection::MissingHeader`].
pub fn required_header<'r>(req: &'r Request, name: &HeaderName) -> Result<&'r str, Rejection> {
    single_header(req, name)?.ok_or_else(|| Rejection::MissingHeader(name.as_str().to_owned()))
}

/// Parses a configured header name, as given in a scheme's configuration.
pub fn header_name(name: &str) -> Result<HeaderName, crate::scheme::ConfigError> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| crate::scheme::ConfigError::HeaderName(name.to_owned()))
}
