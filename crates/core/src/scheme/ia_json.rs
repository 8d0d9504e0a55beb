//! `ia-json`: ia.json `signed_key` headers over `{timestamp}.{body}` (seed 003).
//!
//! `{prefix}Key`, `{prefix}Signature` (hex) and `{prefix}Timestamp`
//! (seconds), prefix `X-IA-` by default. The hash function is not in the
//! request: it is the `auth.signed_key.algorithm` of the site's ia.json,
//! which both sides know, so it is configuration here. No nonce; 60 s window.

use http::HeaderName;

use super::{
    ConfigError, Field, Location, Scheme, SchemeConfig, SchemeId, SignError, SignInput,
    SignatureParams, basic_signing_params, configured_window, header_name, timestamp_dot_body,
};
use crate::Rejection;
use crate::crypto::{Algorithm, ByteSink, TagEncoding};
use crate::request::{Request, required_header};
use crate::time::{TimeUnit, Window};

/// The `ia-json` scheme.
#[derive(Debug, Clone)]
pub struct IaJson {
    window: Window,
    algorithm: Algorithm,
    key_header: HeaderName,
    signature_header: HeaderName,
    timestamp_header: HeaderName,
}

impl IaJson {
    /// Default window: 60 s both ways.
    pub const DEFAULT_WINDOW: Window = Window::symmetric(TimeUnit::Seconds, 60);

    /// Builds the scheme from `config`.
    pub fn new(config: &SchemeConfig) -> Result<Self, ConfigError> {
        let prefix = config.header_prefix.as_deref().unwrap_or("X-IA-");
        Ok(IaJson {
            window: configured_window(Self::DEFAULT_WINDOW, config),
            algorithm: config.algorithm.unwrap_or_default(),
            key_header: header_name(&format!("{prefix}Key"))?,
            signature_header: header_name(&format!("{prefix}Signature"))?,
            timestamp_header: header_name(&format!("{prefix}Timestamp"))?,
        })
    }
}

impl Scheme for IaJson {
    fn name(&self) -> &str {
        SchemeId::IaJson.as_str()
    }

    fn rule(&self) -> &str {
        crate::rules::text("ia-json.signed-string")
    }

    fn location(&self, field: &Field) -> Option<Location> {
        let header = match field {
            Field::KeyId => &self.key_header,
            Field::Timestamp => &self.timestamp_header,
            Field::Tag => &self.signature_header,
            _ => return None,
        };
        Some(Location::Header(header.clone()))
    }

    fn window(&self) -> Window {
        self.window
    }

    fn tag_encoding(&self) -> TagEncoding {
        TagEncoding::LowerHex
    }

    fn parse<'r>(&self, req: &'r Request) -> Result<SignatureParams<'r>, Rejection> {
        let key_id = required_header(req, &self.key_header)?;
        let signature = required_header(req, &self.signature_header)?;
        let timestamp = required_header(req, &self.timestamp_header)?;
        if key_id.is_empty() {
            return Err(Rejection::MalformedHeader {
                header: self.key_header.as_str().to_owned(),
                detail: "empty key id",
            });
        }
        SignatureParams::received(
            Some(key_id),
            self.algorithm,
            timestamp,
            TagEncoding::LowerHex,
            signature,
        )
    }

    fn canonicalize(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn ByteSink,
    ) -> Result<(), Rejection> {
        timestamp_dot_body(params, req.body(), out);
        Ok(())
    }

    fn signing_params<'a>(
        &self,
        _req: &Request,
        input: &'a SignInput,
    ) -> Result<SignatureParams<'a>, SignError> {
        basic_signing_params(input, self.algorithm, true, false)
    }

    fn signature_headers(
        &self,
        params: &SignatureParams<'_>,
        encoded_tag: &str,
    ) -> Vec<(HeaderName, String)> {
        vec![
            (
                self.key_header.clone(),
                params.key_id.as_deref().unwrap_or_default().to_owned(),
            ),
            (self.signature_header.clone(), encoded_tag.to_owned()),
            (
                self.timestamp_header.clone(),
                params.timestamp.clone().into_owned(),
            ),
        ]
    }
}
