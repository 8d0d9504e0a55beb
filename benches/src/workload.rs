//! Signed requests to measure with: the criterion benches, `cargo xtask
//! bench`, the loopback load generator and the Python and Node peers all
//! verify workloads built here, so every figure is about the same requests.
//!
//! A workload is `count` requests of one scheme, each signed with its own
//! nonce (so every verification is a full one, nonce record included) over
//! one shared body of a chosen size: a JSON document, because `partner` can
//! only sign JSON.

use sigconform_core::sample::json_document;
use std::sync::Arc;

use bytes::Bytes;

use sigconform_core::keys::{Key, Secret, StaticKeys};
use sigconform_core::nonce::NonceStore;
use sigconform_core::registry::SchemeRef;
use sigconform_core::request::Request;
use sigconform_core::scheme::{Scheme, SchemeConfig, SignInput};
use sigconform_core::time::FixedClock;
use sigconform_core::{KeyPolicy, Verifier};

/// The key id workloads sign with (schemes without key ids use
/// [`sigconform_core::keys::DEFAULT_KEY_ID`], which names the same secret).
pub const KEY_ID: &str = "bench-key";

/// The body sizes the benches measure: empty, small, typical, large, huge.
pub const BODY_SIZES: [usize; 5] = [0, 256, 1024, 16 * 1024, 1 << 20];

/// `count` signed requests of one scheme over one body.
#[derive(Debug)]
pub struct Workload {
    /// The scheme (a seed's or a profile).
    pub scheme: SchemeRef,
    /// Its configuration (quable's endpoint is set).
    pub config: SchemeConfig,
    /// The secret every request is signed with.
    pub secret: Secret,
    /// The instant the requests were signed at, for the verifier's clock.
    pub now_ms: u64,
    /// The shared body (empty, or a JSON document of the asked size).
    pub body: Bytes,
    /// The requests, each with its own nonce.
    pub requests: Vec<Request>,
    /// Presigned URLs valid this many seconds, rather than signature
    /// headers (SigV4).
    pub presigned_for: Option<u64>,
    signer: Box<dyn Scheme>,
    template: Request,
    key: Key,
}

impl Workload {
    /// Signs `count` `POST /api/v1/orders?limit=10` requests for `scheme`,
    /// with a `body_len`-byte body, a `host` header of `host`, stamped
    /// `now_ms`, and the secret `secret`; nonces `n-00000000` and up.
    pub fn new(
        scheme: impl Into<SchemeRef>,
        body_len: usize,
        count: usize,
        host: &str,
        secret: &Secret,
        now_ms: u64,
    ) -> Result<Self, String> {
        Self::signed_as(scheme.into(), body_len, count, host, secret, now_ms, None)
    }

    /// [`Workload::new`], as presigned URLs valid `expires` seconds (a
    /// scheme without that form cannot make one).
    pub fn presigned(
        scheme: impl Into<SchemeRef>,
        body_len: usize,
        count: usize,
        secret: &Secret,
        now_ms: u64,
        expires: u64,
    ) -> Result<Self, String> {
        let host = "api.example.com";
        Self::signed_as(
            scheme.into(),
            body_len,
            count,
            host,
            secret,
            now_ms,
            Some(expires),
        )
    }

    fn signed_as(
        scheme: SchemeRef,
        body_len: usize,
        count: usize,
        host: &str,
        secret: &Secret,
        now_ms: u64,
        presigned_for: Option<u64>,
    ) -> Result<Self, String> {
        let config = SchemeConfig {
            endpoint: Some("https:sigconform.test/app".into()),
            ..SchemeConfig::default()
        };
        let body = Bytes::from(json_document(body_len));
        let mut template = http::Request::post("/api/v1/orders?limit=10")
            .header("host", host)
            .header("content-type", "application/json");
        if !body.is_empty() {
            template = template.header("content-length", body.len());
        }
        let signer = scheme.build(&config).map_err(|e| e.to_string())?;
        let key = signer.key(KEY_ID, secret).map_err(|e| e.to_string())?;
        let mut workload = Workload {
            scheme,
            signer,
            config,
            secret: secret.clone(),
            now_ms,
            template: template.body(body.clone()).map_err(|e| e.to_string())?,
            body,
            requests: Vec::new(),
            presigned_for,
            key,
        };
        workload.requests = (0..count as u64)
            .map(|i| workload.signed(i, now_ms))
            .collect::<Result<_, _>>()?;
        Ok(workload)
    }

    fn signed(&self, nonce: u64, now_ms: u64) -> Result<Request, String> {
        let mut req = self.template.clone();
        let body = req.body().clone();
        self.signer.prepare(&mut req, &body);
        let input = SignInput {
            key_id: Some(KEY_ID.into()),
            timestamp: self
                .signer
                .timestamp_text(self.signer.window().unit.from_ms(now_ms)),
            nonce: Some(format!("n-{nonce:08}")),
            ..SignInput::default()
        };
        if let Some(expires) = self.presigned_for {
            return self
                .signer
                .presign(&req, &input, expires, &self.key)
                .ok_or("the scheme has no presigned form")?
                .map_err(|e| e.to_string());
        }
        let headers = self
            .signer
            .sign(&req, &input, &self.key)
            .map_err(|e| e.to_string())?;
        for (name, value) in headers {
            req.headers_mut().append(
                name,
                value
                    .parse()
                    .map_err(|_| "a signature header is not valid")?,
            );
        }
        Ok(req)
    }

    /// The keys a verifier of this workload knows (made as the scheme
    /// makes keys: a profile may decode the secret).
    pub fn keys(&self) -> StaticKeys {
        let mut keys = StaticKeys::new();
        for id in [KEY_ID, sigconform_core::keys::DEFAULT_KEY_ID] {
            let key = self
                .signer
                .key(id, &self.secret)
                .expect("the workload's key was made once already");
            keys.insert_key(key);
        }
        keys
    }

    /// A verifier for this workload: its scheme, a clock stopped at the
    /// signing instant, the given nonce store and the workload's key.
    pub fn verifier(&self, nonces: Arc<dyn NonceStore>) -> Verifier {
        Verifier::new(
            self.scheme
                .build(&self.config)
                .expect("the workload's scheme was built once already"),
            Arc::new(FixedClock::new(self.now_ms)),
            nonces,
            Arc::new(self.keys()),
            KeyPolicy::default(),
        )
    }

    /// Verifies every request once; returns how many were accepted.
    pub async fn verify_all(&self, verifier: &Verifier) -> usize {
        let mut accepted = 0;
        for req in &self.requests {
            if verifier.verify(req).await.is_ok() {
                accepted += 1;
            }
        }
        accepted
    }

    /// The workload as JSON, for the Python and Node peers: the secret (a
    /// throwaway bench secret), clock, config and every request with its
    /// body in base64 (one copy: the body is shared).
    pub fn to_json(&self) -> serde_json::Value {
        use base64::Engine as _;
        let requests: Vec<serde_json::Value> = self
            .requests
            .iter()
            .map(|r| {
                let headers: Vec<(&str, &str)> = r
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or_default()))
                    .collect();
                serde_json::json!({
                    "method": r.method().as_str(),
                    "target": r.uri().path_and_query().map_or("/", |p| p.as_str()),
                    "headers": headers,
                })
            })
            .collect();
        let profile = match &self.scheme {
            SchemeRef::Profile(p) => serde_json::to_value(p.as_ref()).ok(),
            SchemeRef::Seed(_) => None,
        };
        serde_json::json!({
            "scheme": self.scheme,
            "profile": profile,
            "body_bytes": self.body.len(),
            "now_ms": self.now_ms,
            "key_id": KEY_ID,
            "secret": self.secret.expose(),
            "endpoint": self.config.endpoint,
            "body_base64": base64::engine::general_purpose::STANDARD.encode(&self.body),
            "requests": requests,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigconform_core::scheme::SchemeId;

    #[tokio::test]
    async fn every_request_of_a_workload_verifies_once() {
        for scheme in SchemeId::ALL {
            let w = Workload::new(
                scheme,
                300,
                20,
                "bench.test",
                &Secret::new("s"),
                1_700_000_000_000,
            )
            .unwrap();
            let verifier = w.verifier(Arc::new(sigconform_core::MemoryNonceStore::default()));
            assert_eq!(w.verify_all(&verifier).await, 20, "{scheme}");
            // Nonce schemes refuse the second round: the nonce store is real.
            let again = w.verify_all(&verifier).await;
            match scheme {
                SchemeId::A2a | SchemeId::Authorization => assert_eq!(again, 0, "{scheme}"),
                _ => assert_eq!(again, 20, "{scheme}"),
            }
        }
    }
}
