//! `partner`: `X-Signature: {integrationId}.{timestampMs}.{hex}` (seed 000).
//!
//! The tag is HMAC-SHA256 over the body's canonical JSON followed by the
//! millisecond timestamp string; the secret is looked up asynchronously by
//! integration id. There is no nonce: a replay inside the window is accepted
//! by design.

use http::HeaderName;

use super::{
    ConfigError, Field, Location, Scheme, SchemeConfig, SchemeId, SignError, SignInput,
    SignatureParams, basic_signing_params, configured_window, put_field,
};
use crate::Rejection;
use crate::canonical_json::canonicalize_body;
use crate::crypto::{Algorithm, ByteSink, TagEncoding};
use crate::request::{Request, required_header};
use crate::time::{TimeUnit, Window};

const X_SIGNATURE: HeaderName = HeaderName::from_static("x-signature");

/// The `partner` scheme.
#[derive(Debug, Clone)]
pub struct Partner {
    window: Window,
}

impl Partner {
    /// Default window: 300 000 ms both ways.
    pub const DEFAULT_WINDOW: Window = Window::symmetric(TimeUnit::Milliseconds, 300_000);

    /// Builds the scheme from `config`.
    pub fn new(config: &SchemeConfig) -> Result<Self, ConfigError> {
        Ok(Partner {
            window: configured_window(Self::DEFAULT_WINDOW, config),
        })
    }
}

impl Scheme for Partner {
    fn name(&self) -> &str {
        SchemeId::Partner.as_str()
    }

    fn rule(&self) -> &str {
        crate::rules::text("partner.signed-string")
    }

    fn location(&self, field: &Field) -> Option<Location> {
        let index = match field {
            Field::KeyId => 0,
            Field::Timestamp => 1,
            Field::Tag => 2,
            _ => return None,
        };
        Some(Location::Part {
            header: X_SIGNATURE,
            separator: '.',
            index,
        })
    }

    fn window(&self) -> Window {
        self.window
    }

    fn tag_encoding(&self) -> TagEncoding {
        TagEncoding::LowerHex
    }

    fn parse<'r>(&self, req: &'r Request) -> Result<SignatureParams<'r>, Rejection> {
        let header = required_header(req, &X_SIGNATURE)?;
        let malformed = |detail| Rejection::MalformedHeader {
            header: X_SIGNATURE.as_str().to_owned(),
            detail,
        };
        let mut parts = header.split('.');
        let (Some(id), Some(timestamp), Some(tag), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("expected integrationId.timestampMs.signature"));
        };
        if id.is_empty() {
            return Err(malformed("empty integration id"));
        }
        SignatureParams::received(
            Some(id),
            Algorithm::Sha256,
            timestamp,
            TagEncoding::LowerHex,
            tag,
        )
    }

    fn canonicalize(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn ByteSink,
    ) -> Result<(), Rejection> {
        canonicalize_body(req.body(), out)?;
        put_field(
            out,
            params,
            &Field::Timestamp,
            b"",
            params.timestamp.as_bytes(),
            b"",
        );
        Ok(())
    }

    fn signing_params<'a>(
        &self,
        _req: &Request,
        input: &'a SignInput,
    ) -> Result<SignatureParams<'a>, SignError> {
        basic_signing_params(input, Algorithm::Sha256, true, false)
    }

    fn signature_headers(
        &self,
        params: &SignatureParams<'_>,
        encoded_tag: &str,
    ) -> Vec<(HeaderName, String)> {
        let id = params.key_id.as_deref().unwrap_or_default();
        vec![(
            X_SIGNATURE,
            format!("{id}.{}.{encoded_tag}", params.timestamp),
        )]
    }
}
