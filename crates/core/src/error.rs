//! Why a request was rejected.
//!
//! Every verifier in the crate answers with one [`Rejection`] variant. The
//! variant names the reason; [`Rejection::code`] is the stable identifier the
//! vectors use in their `reason` field, and [`Rejection::status`] is the HTTP
//! status the reference server answers with.

use serde::{Deserialize, Serialize};

/// The reason a signed request was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A header the scheme requires is absent (or a required parameter of
    /// the `Authorization` header).
    #[error("missing {0}")]
    MissingHeader(String),
    /// A header that must appear once appears more than once, or a parameter
    /// of the `Authorization` header is repeated.
    #[error("{0} appears more than once")]
    DuplicateHeader(String),
    /// A header is present but cannot be parsed.
    #[error("malformed {header}: {detail}")]
    MalformedHeader {
        /// The header (or `Authorization` parameter) at fault.
        header: String,
        /// What is wrong with it.
        detail: &'static str,
    },
    /// The timestamp is not a plain decimal integer of at most 19 digits.
    #[error("timestamp is not a plain decimal integer")]
    MalformedTimestamp,
    /// The tag is not strictly in the scheme's encoding, or has the wrong length.
    #[error("signature is not a well-formed tag")]
    MalformedSignature,
    /// The `algorithm` parameter names an algorithm the verifier does not support.
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    /// The signed header list leaves out a header the verifier's policy requires.
    #[error("signature does not cover required header {0}")]
    HeaderNotSigned(String),
    /// The timestamp is further in the past than the window allows.
    #[error("request timestamp is too old")]
    Expired,
    /// The timestamp is further in the future than the window allows.
    #[error("request timestamp is in the future")]
    FromTheFuture,
    /// No key with this id exists.
    #[error("unknown key id")]
    UnknownKey,
    /// The key exists but has been revoked or deactivated.
    #[error("key is not active")]
    InactiveKey,
    /// The key may not be used for this request (allow-list or admin route).
    #[error("key is not allowed for this request")]
    KeyNotAllowed,
    /// The key store could not answer; never treated as an accept.
    #[error("key store unavailable")]
    KeyStoreUnavailable,
    /// The body does not parse as JSON where the scheme signs canonical JSON.
    #[error("body is not JSON")]
    BodyNotJson,
    /// The body hash header does not match the body received.
    #[error("body integrity check failed")]
    BodyHashMismatch,
    /// The tag does not match the request.
    #[error("invalid signature")]
    BadSignature,
    /// The nonce was already used within the window.
    #[error("nonce has already been used")]
    ReplayedNonce,
    /// The nonce store is full or unavailable; the request is refused rather
    /// than letting a nonce go unrecorded.
    #[error("nonce store unavailable")]
    NonceStoreUnavailable,
}

/// The stable reason codes used by the vectors and the server's JSON errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum ReasonCode {
    MissingHeader,
    DuplicateHeader,
    MalformedHeader,
    MalformedTimestamp,
    MalformedSignature,
    UnsupportedAlgorithm,
    HeaderNotSigned,
    Expired,
    FromTheFuture,
    UnknownKey,
    InactiveKey,
    KeyNotAllowed,
    KeyStoreUnavailable,
    BodyNotJson,
    BodyHashMismatch,
    BadSignature,
    ReplayedNonce,
    NonceStoreUnavailable,
}

impl Rejection {
    /// The stable reason code of this rejection.
    pub fn code(&self) -> ReasonCode {
        match self {
            Rejection::MissingHeader(_) => ReasonCode::MissingHeader,
            Rejection::DuplicateHeader(_) => ReasonCode::DuplicateHeader,
            Rejection::MalformedHeader { .. } => ReasonCode::MalformedHeader,
            Rejection::MalformedTimestamp => ReasonCode::MalformedTimestamp,
            Rejection::MalformedSignature => ReasonCode::MalformedSignature,
            Rejection::UnsupportedAlgorithm => ReasonCode::UnsupportedAlgorithm,
            Rejection::HeaderNotSigned(_) => ReasonCode::HeaderNotSigned,
            Rejection::Expired => ReasonCode::Expired,
            Rejection::FromTheFuture => ReasonCode::FromTheFuture,
            Rejection::UnknownKey => ReasonCode::UnknownKey,
            Rejection::InactiveKey => ReasonCode::InactiveKey,
            Rejection::KeyNotAllowed => ReasonCode::KeyNotAllowed,
            Rejection::KeyStoreUnavailable => ReasonCode::KeyStoreUnavailable,
            Rejection::BodyNotJson => ReasonCode::BodyNotJson,
            Rejection::BodyHashMismatch => ReasonCode::BodyHashMismatch,
            Rejection::BadSignature => ReasonCode::BadSignature,
            Rejection::ReplayedNonce => ReasonCode::ReplayedNonce,
            Rejection::NonceStoreUnavailable => ReasonCode::NonceStoreUnavailable,
        }
    }

    /// The HTTP status the reference server answers with.
    ///
    /// Malformed input is 400, failed authentication 401, a key without the
    /// right to this request 403, and an unavailable dependency 503 (the
    /// request is refused, never accepted, when a store cannot answer).
    pub fn status(&self) -> u16 {
        match self.code() {
            ReasonCode::MissingHeader
            | ReasonCode::DuplicateHeader
            | ReasonCode::MalformedHeader
            | ReasonCode::MalformedTimestamp
            | ReasonCode::MalformedSignature
            | ReasonCode::UnsupportedAlgorithm
            | ReasonCode::BodyNotJson => 400,
            ReasonCode::KeyNotAllowed => 403,
            ReasonCode::KeyStoreUnavailable | ReasonCode::NonceStoreUnavailable => 503,
            ReasonCode::HeaderNotSigned
            | ReasonCode::Expired
            | ReasonCode::FromTheFuture
            | ReasonCode::UnknownKey
            | ReasonCode::InactiveKey
            | ReasonCode::BodyHashMismatch
            | ReasonCode::BadSignature
            | ReasonCode::ReplayedNonce => 401,
        }
    }
}
