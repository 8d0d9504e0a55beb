//! `quable`: Quable App HMAC, `{METHOD}|{ENDPOINT}|{TIMESTAMP}|{PAYLOAD}`
//! (seed 004).
//!
//! `X-Timestamp` (seconds) and `X-Signature` (standard base64 of the raw
//! HMAC-SHA256). ENDPOINT is the app endpoint string declared on both sides;
//! it is configuration, never read from the request line. One shared secret,
//! no key id, no nonce, 300 s window.

use http::HeaderName;

use super::{
    ConfigError, Delivery, Field, Location, Scheme, SchemeConfig, SchemeId, SignError, SignInput,
    SignatureParams, basic_signing_params, configured_window, put_field, put_uppercase,
};
use crate::Rejection;
use crate::crypto::{Algorithm, ByteSink, TagEncoding};
use crate::request::{Request, required_header};
use crate::time::{TimeUnit, Window};

const X_SIGNATURE: HeaderName = HeaderName::from_static("x-signature");
const X_TIMESTAMP: HeaderName = HeaderName::from_static("x-timestamp");

/// The `quable` scheme.
#[derive(Debug, Clone)]
pub struct Quable {
    window: Window,
    endpoint: String,
}

impl Quable {
    /// Default window: 300 s both ways.
    pub const DEFAULT_WINDOW: Window = Window::symmetric(TimeUnit::Seconds, 300);

    /// Builds the scheme from `config`; the endpoint string is required.
    pub fn new(config: &SchemeConfig) -> Result<Self, ConfigError> {
        Ok(Quable {
            window: configured_window(Self::DEFAULT_WINDOW, config),
            endpoint: config
                .endpoint
                .clone()
                .ok_or(ConfigError::MissingEndpoint)?,
        })
    }
}

impl Scheme for Quable {
    fn name(&self) -> &str {
        SchemeId::Quable.as_str()
    }

    /// Quable PIM calls the app endpoint declared on both sides, with the
    /// methods seed 004 shows (`POST`, `GET`).
    fn delivery(&self) -> Delivery {
        Delivery::Endpoint {
            methods: vec!["GET".into(), "POST".into()],
        }
    }

    fn rule(&self) -> &str {
        crate::rules::text("quable.signed-string")
    }

    fn location(&self, field: &Field) -> Option<Location> {
        match field {
            Field::Timestamp => Some(Location::Header(X_TIMESTAMP)),
            Field::Tag => Some(Location::Header(X_SIGNATURE)),
            _ => None,
        }
    }

    fn window(&self) -> Window {
        self.window
    }

    fn tag_encoding(&self) -> TagEncoding {
        TagEncoding::Base64
    }

    fn parse<'r>(&self, req: &'r Request) -> Result<SignatureParams<'r>, Rejection> {
        let signature = required_header(req, &X_SIGNATURE)?;
        let timestamp = required_header(req, &X_TIMESTAMP)?;
        SignatureParams::received(
            None,
            Algorithm::Sha256,
            timestamp,
            TagEncoding::Base64,
            signature,
        )
    }

    fn canonicalize(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn ByteSink,
    ) -> Result<(), Rejection> {
        put_uppercase(out, req.method().as_str());
        out.put(b"|");
        out.put(self.endpoint.as_bytes());
        out.put(b"|");
        put_field(
            out,
            params,
            &Field::Timestamp,
            b"",
            params.timestamp.as_bytes(),
            b"|",
        );
        out.put(req.body());
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
            (X_TIMESTAMP, params.timestamp.clone().into_owned()),
            (X_SIGNATURE, encoded_tag.to_owned()),
        ]
    }
}
