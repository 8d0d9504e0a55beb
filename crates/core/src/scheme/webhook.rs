//! `webhook`: a signature and a timestamp header over `{timestamp}.{body}`
//! (seed 001's `verify_webhook_signature`).
//!
//! One shared secret, no key id and no nonce. The header names are
//! configurable because every provider picks its own (`X-Payment-Signature`).

use http::HeaderName;

use super::{
    ConfigError, Delivery, Field, Location, Scheme, SchemeConfig, SchemeId, SignError, SignInput,
    SignatureParams, basic_signing_params, configured_window, header_name, timestamp_dot_body,
};
use crate::Rejection;
use crate::crypto::{Algorithm, ByteSink, TagEncoding};
use crate::request::{Request, required_header};
use crate::time::{TimeUnit, Window};

/// The `webhook` scheme.
#[derive(Debug, Clone)]
pub struct Webhook {
    window: Window,
    signature_header: HeaderName,
    timestamp_header: HeaderName,
}

impl Webhook {
    /// Default window: 300 s in the past, 30 s in the future.
    pub const DEFAULT_WINDOW: Window = Window {
        unit: TimeUnit::Seconds,
        past: 300,
        future: 30,
    };

    /// Builds the scheme from `config`.
    pub fn new(config: &SchemeConfig) -> Result<Self, ConfigError> {
        Ok(Webhook {
            window: configured_window(Self::DEFAULT_WINDOW, config),
            signature_header: header_name(
                config
                    .signature_header
                    .as_deref()
                    .unwrap_or("X-Webhook-Signature"),
            )?,
            timestamp_header: header_name(
                config
                    .timestamp_header
                    .as_deref()
                    .unwrap_or("X-Webhook-Timestamp"),
            )?,
        })
    }
}

impl Scheme for Webhook {
    fn name(&self) -> &str {
        SchemeId::Webhook.as_str()
    }

    /// Seed 001's receiver is one route, `@router.post("/webhooks/payment")`.
    fn delivery(&self) -> Delivery {
        Delivery::Endpoint {
            methods: vec!["POST".into()],
        }
    }

    fn rule(&self) -> &str {
        crate::rules::text("webhook.signed-string")
    }

    fn location(&self, field: &Field) -> Option<Location> {
        match field {
            Field::Timestamp => Some(Location::Header(self.timestamp_header.clone())),
            Field::Tag => Some(Location::Header(self.signature_header.clone())),
            _ => None,
        }
    }

    fn window(&self) -> Window {
        self.window
    }

    fn tag_encoding(&self) -> TagEncoding {
        TagEncoding::LowerHex
    }

    fn parse<'r>(&self, req: &'r Request) -> Result<SignatureParams<'r>, Rejection> {
        let signature = required_header(req, &self.signature_header)?;
        let timestamp = required_header(req, &self.timestamp_header)?;
        SignatureParams::received(
            None,
            Algorithm::Sha256,
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
        basic_signing_params(input, Algorithm::Sha256, false, false)
    }

    fn signature_headers(
        &self,
        params: &SignatureParams<'_>,
        encoded_tag: &str,
    ) -> Vec<(HeaderName, String)> {
        vec![
            (self.signature_header.clone(), encoded_tag.to_owned()),
            (
                self.timestamp_header.clone(),
                params.timestamp.clone().into_owned(),
            ),
        ]
    }
}
