//! The verification procedure, the same for every scheme.
//!
//! ```text
//! parse -> window -> key lookup -> tag (constant time) -> key policy and
//! permissions -> nonce
//! ```
//! Cheap, key-independent checks come first so a stale or malformed request
//! never reaches the key store. The nonce is recorded last, after the
//! signature verified, so forged requests cannot burn nonces.

use std::sync::Arc;

use crate::Rejection;
use crate::keys::{DEFAULT_KEY_ID, Key, KeyLookup, KeyPolicy, LookupError};
use crate::nonce::{NonceError, NonceStore};
use crate::request::Request;
use crate::scheme::Scheme;
use crate::time::Clock;

/// What an accepted request proved: which key signed it.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The key that signed it.
    pub key: Arc<Key>,
}

impl Verified {
    /// The id of the key that signed it ([`DEFAULT_KEY_ID`] for schemes
    /// without key ids).
    pub fn key_id(&self) -> &str {
        self.key.id()
    }
}

/// What a verifier computes for a request it reads: for diagnosis, and
/// for the deliberate defects that say it in their answers (a verifier
/// must never answer it: the tag is a signature anyone could ask for).
#[derive(Clone)]
pub struct Expected {
    /// The string it signs.
    pub signed: Vec<u8>,
    /// The tag it expects, with the key the request names.
    pub tag: crate::crypto::Tag,
}

impl std::fmt::Debug for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expected").finish_non_exhaustive()
    }
}

/// A scheme with its clock, nonce store, key lookup and key policy.
pub struct Verifier {
    scheme: Box<dyn Scheme>,
    clock: Arc<dyn Clock>,
    nonces: Arc<dyn NonceStore>,
    keys: Arc<dyn KeyLookup>,
    policy: KeyPolicy,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("scheme", &self.scheme)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Puts the parts together.
    pub fn new(
        scheme: Box<dyn Scheme>,
        clock: Arc<dyn Clock>,
        nonces: Arc<dyn NonceStore>,
        keys: Arc<dyn KeyLookup>,
        policy: KeyPolicy,
    ) -> Self {
        Verifier {
            scheme,
            clock,
            nonces,
            keys,
            policy,
        }
    }

    /// The scheme this verifier checks.
    pub fn scheme(&self) -> &dyn Scheme {
        self.scheme.as_ref()
    }

    /// The string the verifier signs for `req` and the tag it expects:
    /// `None` where the request does not parse or names no key it has.
    pub async fn expected(&self, req: &Request) -> Option<Expected> {
        let params = self.scheme.parse(req).ok()?;
        let key_id = params.key_id.as_deref().unwrap_or(DEFAULT_KEY_ID);
        let key = self.keys.lookup(key_id).await.ok()?;
        let mut signed = Vec::new();
        self.scheme.canonicalize(req, &params, &mut signed).ok()?;
        let tag = self
            .scheme
            .signing_key(&key, &params)
            .sign(params.algorithm, &signed);
        Some(Expected { signed, tag })
    }

    /// Verifies `req`, recording its nonce if it is accepted.
    pub async fn verify(&self, req: &Request) -> Result<Verified, Rejection> {
        let params = self.scheme.parse(req)?;
        self.verify_parsed(req, &params, self.clock.now_ms()).await
    }

    /// [`Verifier::verify`] of `req`, which the scheme read as `params`
    /// ([`Scheme::parse`]), at `now_ms` rather than the clock's time: for a
    /// caller that judges one request at several moments and parses it
    /// once.
    pub async fn verify_parsed(
        &self,
        req: &Request,
        params: &crate::scheme::SignatureParams<'_>,
        now_ms: u64,
    ) -> Result<Verified, Rejection> {
        let window = self.scheme.window();
        self.scheme.check_time(params, now_ms)?;

        let key_id = params.key_id.as_deref().unwrap_or(DEFAULT_KEY_ID);
        let key = self.keys.lookup(key_id).await.map_err(|e| match e {
            LookupError::Unknown => Rejection::UnknownKey,
            LookupError::Inactive => Rejection::InactiveKey,
            LookupError::Unavailable(_) => Rejection::KeyStoreUnavailable,
        })?;
        self.scheme.verify(req, params, &key)?;

        // Checked after the signature so that only an authenticated caller
        // learns that its key lacks the right (403 rather than 401).
        if !self.policy.allows(key_id, req.uri().path()) || !key.may(req.method(), req.uri().path())
        {
            return Err(Rejection::KeyNotAllowed);
        }

        if let Some(nonce) = &params.nonce {
            self.nonces
                .check_and_record(key_id, nonce, now_ms, window.nonce_ttl_ms())
                .await
                .map_err(|e| match e {
                    NonceError::Replayed => Rejection::ReplayedNonce,
                    NonceError::Unavailable(_) => Rejection::NonceStoreUnavailable,
                })?;
        }
        Ok(Verified { key })
    }
}
