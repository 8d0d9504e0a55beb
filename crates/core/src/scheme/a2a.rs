//! `a2a`: `X-API-Key-ID`, `X-Timestamp`, `X-Nonce`, `X-Signature` and
//! `X-Body-Hash` (seed 002).
//!
//! Signed string: `METHOD\npath\ntimestamp\nnonce`, plus `\nbodyHash` when
//! the body is non-empty. The path excludes the query string, as the seed's
//! client code does (its overview claims otherwise; the runner warns about
//! the unsigned query). The verifier recomputes SHA-256 over the received
//! body: `X-Body-Hash` is only trusted after it matches.

use http::HeaderName;

use super::{
    ConfigError, Field, Location, Scheme, SchemeConfig, SchemeId, SignError, SignInput,
    SignatureParams, basic_signing_params, configured_window, put_field, put_uppercase,
};
use crate::Rejection;
use crate::crypto::{Algorithm, ByteSink, TagEncoding, body_sha256};
use crate::request::{Request, single_headers};
use crate::time::{TimeUnit, Window};

const X_API_KEY_ID: HeaderName = HeaderName::from_static("x-api-key-id");
const X_TIMESTAMP: HeaderName = HeaderName::from_static("x-timestamp");
const X_NONCE: HeaderName = HeaderName::from_static("x-nonce");
const X_SIGNATURE: HeaderName = HeaderName::from_static("x-signature");
const X_BODY_HASH: HeaderName = HeaderName::from_static("x-body-hash");

/// The `a2a` scheme.
#[derive(Debug, Clone)]
pub struct A2a {
    window: Window,
}

impl A2a {
    /// Default window: 300 s both ways.
    pub const DEFAULT_WINDOW: Window = Window::symmetric(TimeUnit::Seconds, 300);

    /// Builds the scheme from `config`.
    pub fn new(config: &SchemeConfig) -> Result<Self, ConfigError> {
        Ok(A2a {
            window: configured_window(Self::DEFAULT_WINDOW, config),
        })
    }
}

fn non_empty<'a>(name: &HeaderName, value: &'a str) -> Result<&'a str, Rejection> {
    if value.is_empty() {
        Err(Rejection::MalformedHeader {
            header: name.as_str().to_owned(),
            detail: "empty value",
        })
    } else {
        Ok(value)
    }
}

impl Scheme for A2a {
    fn name(&self) -> &str {
        SchemeId::A2a.as_str()
    }

    fn rule(&self) -> &str {
        crate::rules::text("a2a.signed-string")
    }

    fn location(&self, field: &Field) -> Option<Location> {
        let header = match field {
            Field::KeyId => X_API_KEY_ID,
            Field::Timestamp => X_TIMESTAMP,
            Field::Nonce => X_NONCE,
            Field::Tag => X_SIGNATURE,
            Field::BodyHash => X_BODY_HASH,
            _ => return None,
        };
        Some(Location::Header(header))
    }

    fn window(&self) -> Window {
        self.window
    }

    fn tag_encoding(&self) -> TagEncoding {
        TagEncoding::Base64
    }

    fn encoded(&self, field: &Field) -> Option<(Location, TagEncoding)> {
        match field {
            Field::Tag | Field::BodyHash => Some((self.location(field)?, TagEncoding::Base64)),
            _ => None,
        }
    }

    fn parse<'r>(&self, req: &'r Request) -> Result<SignatureParams<'r>, Rejection> {
        let [key_id, timestamp, nonce, signature, body_hash] = single_headers(
            req,
            [
                &X_API_KEY_ID,
                &X_TIMESTAMP,
                &X_NONCE,
                &X_SIGNATURE,
                &X_BODY_HASH,
            ],
        )?;
        let missing = |name: &HeaderName| Rejection::MissingHeader(name.as_str().to_owned());
        let key_id = non_empty(&X_API_KEY_ID, key_id.ok_or_else(|| missing(&X_API_KEY_ID))?)?;
        let timestamp = timestamp.ok_or_else(|| missing(&X_TIMESTAMP))?;
        let nonce = non_empty(&X_NONCE, nonce.ok_or_else(|| missing(&X_NONCE))?)?;
        let signature = signature.ok_or_else(|| missing(&X_SIGNATURE))?;
        let mut params = SignatureParams::received(
            Some(key_id),
            Algorithm::Sha256,
            timestamp,
            TagEncoding::Base64,
            signature,
        )?;

        // X-Body-Hash is present if and only if there is a body, and must be
        // the hash of the bytes actually received.
        match (req.body().is_empty(), body_hash) {
            (true, None) => {}
            (false, None) => return Err(Rejection::MissingHeader(X_BODY_HASH.as_str().to_owned())),
            (true, Some(_)) => {
                return Err(Rejection::MalformedHeader {
                    header: X_BODY_HASH.as_str().to_owned(),
                    detail: "present on a request without a body",
                });
            }
            (false, Some(claimed)) => {
                let claimed = TagEncoding::Base64.decode_tag(claimed).map_err(|_| {
                    Rejection::MalformedHeader {
                        header: X_BODY_HASH.as_str().to_owned(),
                        detail: "not standard base64",
                    }
                })?;
                if claimed.as_bytes() != body_sha256(req.body()) {
                    return Err(Rejection::BodyHashMismatch);
                }
            }
        }

        params.nonce = Some(nonce.into());
        params.body_hash = body_hash.map(Into::into);
        Ok(params)
    }

    fn canonicalize(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn ByteSink,
    ) -> Result<(), Rejection> {
        put_uppercase(out, req.method().as_str());
        out.put(b"\n");
        out.put(req.uri().path().as_bytes());
        put_field(
            out,
            params,
            &Field::Timestamp,
            b"\n",
            params.timestamp.as_bytes(),
            b"",
        );
        let nonce = params.nonce.as_deref().unwrap_or_default();
        put_field(out, params, &Field::Nonce, b"\n", nonce.as_bytes(), b"");
        if let Some(hash) = &params.body_hash {
            put_field(out, params, &Field::BodyHash, b"\n", hash.as_bytes(), b"");
        }
        Ok(())
    }

    fn signing_params<'a>(
        &self,
        req: &Request,
        input: &'a SignInput,
    ) -> Result<SignatureParams<'a>, SignError> {
        let mut params = basic_signing_params(input, Algorithm::Sha256, true, true)?;
        if !req.body().is_empty() {
            params.body_hash = Some(TagEncoding::Base64.encode(&body_sha256(req.body())).into());
        }
        Ok(params)
    }

    fn signature_headers(
        &self,
        params: &SignatureParams<'_>,
        encoded_tag: &str,
    ) -> Vec<(HeaderName, String)> {
        let text =
            |s: &Option<std::borrow::Cow<'_, str>>| s.as_deref().unwrap_or_default().to_owned();
        let mut headers = vec![
            (X_API_KEY_ID, text(&params.key_id)),
            (X_TIMESTAMP, params.timestamp.clone().into_owned()),
            (X_NONCE, text(&params.nonce)),
            (X_SIGNATURE, encoded_tag.to_owned()),
        ];
        if let Some(hash) = &params.body_hash {
            headers.push((X_BODY_HASH, hash.clone().into_owned()));
        }
        headers
    }
}
