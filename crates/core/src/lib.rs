//! # sigconform
//!
//! Conformance vectors, a reference implementation and a test harness for
//! HMAC request signing. Six schemes (their rules are in `docs/rules/`) share one
//! set of parts:
//!
//! - [`scheme::Scheme`]: a scheme's wire format and canonical string, one
//!   file per scheme under [`scheme`];
//! - [`crypto`]: HMAC-SHA256/512, hex and base64, constant-time comparison;
//! - [`time`]: the injected [`Clock`], timestamp syntax and windows;
//! - [`nonce`]: the atomic check-and-record [`NonceStore`];
//! - [`keys`]: the asynchronous [`KeyLookup`] and key policy;
//! - [`Verifier`]: the one verification procedure that uses them all;
//! - [`vectors`]: the YAML test vectors and the code that runs them.
//!
//! ```
//! use std::sync::Arc;
//! use sigconform_core::{FixedClock, MemoryNonceStore, StaticKeys, Verifier};
//! use sigconform_core::scheme::{SchemeId, SchemeConfig, SignInput};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let keys = StaticKeys::from_pairs([("svc-1", "s3cret")]);
//! let scheme = SchemeId::A2a.build(&SchemeConfig::default()).unwrap();
//!
//! // Sign: the scheme returns the headers to add.
//! let mut req = http::Request::post("/v1/orders").body(r#"{"qty":1}"#.into()).unwrap();
//! let input = SignInput {
//!     key_id: Some("svc-1".into()),
//!     timestamp: "1700000000".into(),
//!     nonce: Some("n-1".into()),
//!     ..SignInput::default()
//! };
//! for (name, value) in scheme.sign(&req, &input, keys.get("svc-1").unwrap()).unwrap() {
//!     req.headers_mut().append(name, value.parse().unwrap());
//! }
//!
//! // Verify: clock, nonce store and key lookup are pluggable.
//! let verifier = Verifier::new(
//!     scheme,
//!     Arc::new(FixedClock::new(1_700_000_000_000)),
//!     Arc::new(MemoryNonceStore::default()),
//!     Arc::new(keys),
//!     Default::default(),
//! );
//! assert_eq!(verifier.verify(&req).await.unwrap().key_id(), "svc-1");
//! // The same request again is a replay.
//! assert!(verifier.verify(&req).await.is_err());
//! # });
//! ```

#![deny(missing_docs)]

pub mod answer;
pub mod canonical_json;
pub mod crypto;
mod error;
pub mod keys;
pub mod lenient;
pub mod lossy;
pub mod nonce;
pub mod profile;
pub mod registry;
pub mod request;
pub mod rules;
pub mod sample;
pub mod scheme;
pub mod tamper;
pub mod time;
pub mod vectors;
mod verifier;

pub use error::{ReasonCode, Rejection};
pub use keys::{Key, KeyLookup, KeyPolicy, Secret, StaticKeys};
pub use nonce::{MemoryNonceStore, NonceStore};
pub use request::Request;
pub use time::{Clock, FixedClock, SystemClock};
pub use verifier::{Expected, Verified, Verifier};
