//! The [`Scheme`] trait and the six schemes that implement it.
//!
//! A scheme knows its wire format: where the signature material sits in a
//! request ([`Scheme::parse`]), which bytes are signed
//! ([`Scheme::canonicalize`]) and how a signer writes its headers
//! ([`Scheme::signature_headers`]). Everything schemes share — HMAC,
//! encodings, windows, nonces, key lookup — lives outside this module, and
//! [`crate::Verifier`] puts the pieces together in one order for all.
//!
//! One file per scheme, each following `../shared/SCHEMES.md`:
//! [`partner`], [`authorization`], [`webhook`], [`a2a`], [`ia_json`], [`quable`].

pub mod a2a;
pub mod authorization;
pub mod ia_json;
pub mod partner;
pub mod quable;
pub mod webhook;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use http::HeaderName;
use serde::{Deserialize, Serialize};

use crate::Rejection;
use crate::crypto::{Algorithm, ByteSink, Tag, TagEncoding};
use crate::keys::Key;
use crate::request::Request;
use crate::time::Window;

/// The six schemes, by the ids SCHEMES.md gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SchemeId {
    /// `X-Signature: id.timestampMs.hex` over canonical JSON (seed 000).
    #[serde(rename = "partner")]
    Partner,
    /// `Authorization: Signature keyId=…` with nonce and timestamp (seed 001).
    #[serde(rename = "authorization")]
    Authorization,
    /// `X-Webhook-Signature` over `{timestamp}.{body}` (seed 001).
    #[serde(rename = "webhook")]
    Webhook,
    /// `X-API-Key-ID`/`X-Signature`/`X-Body-Hash` with nonce (seed 002).
    #[serde(rename = "a2a")]
    A2a,
    /// ia.json `signed_key`: `X-IA-*` over `{timestamp}.{body}` (seed 003).
    #[serde(rename = "ia-json")]
    IaJson,
    /// Quable App `METHOD|ENDPOINT|TIMESTAMP|PAYLOAD` (seed 004).
    #[serde(rename = "quable")]
    Quable,
}

impl SchemeId {
    /// All schemes, in SCHEMES.md order.
    pub const ALL: [SchemeId; 6] = [
        SchemeId::Partner,
        SchemeId::Authorization,
        SchemeId::Webhook,
        SchemeId::A2a,
        SchemeId::IaJson,
        SchemeId::Quable,
    ];

    /// The id as written in SCHEMES.md, vector files and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            SchemeId::Partner => "partner",
            SchemeId::Authorization => "authorization",
            SchemeId::Webhook => "webhook",
            SchemeId::A2a => "a2a",
            SchemeId::IaJson => "ia-json",
            SchemeId::Quable => "quable",
        }
    }

    /// Builds the scheme with `config` applied over its defaults.
    pub fn build(self, config: &SchemeConfig) -> Result<Box<dyn Scheme>, ConfigError> {
        Ok(match self {
            SchemeId::Partner => Box::new(partner::Partner::new(config)?),
            SchemeId::Authorization => Box::new(authorization::Authorization::new(config)?),
            SchemeId::Webhook => Box::new(webhook::Webhook::new(config)?),
            SchemeId::A2a => Box::new(a2a::A2a::new(config)?),
            SchemeId::IaJson => Box::new(ia_json::IaJson::new(config)?),
            SchemeId::Quable => Box::new(quable::Quable::new(config)?),
        })
    }
}

impl fmt::Display for SchemeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SchemeId {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SchemeId::ALL
            .into_iter()
            .find(|id| id.as_str() == s)
            .ok_or_else(|| ConfigError::UnknownScheme(s.to_owned()))
    }
}

/// Settings that differ between deployments of a scheme. Every field is
/// optional; an absent field keeps the scheme's SCHEMES.md default, and a
/// field a scheme has no use for is ignored by it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemeConfig {
    /// How old a timestamp may be, in the scheme's unit (ms for `partner`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_past: Option<u64>,
    /// How far in the future a timestamp may be, in the scheme's unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance_future: Option<u64>,
    /// `ia-json`: the `auth.signed_key.algorithm` of the ia.json file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    /// `ia-json`: the header prefix (default `X-IA-`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_prefix: Option<String>,
    /// `webhook`: the signature header (default `X-Webhook-Signature`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_header: Option<String>,
    /// `webhook`: the timestamp header (default `X-Webhook-Timestamp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_header: Option<String>,
    /// `quable`: the declared app endpoint string (default `https:app.example/hook`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `authorization`: headers every signature must cover. Default: `host`,
    /// plus `content-type` when the request has a body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_headers: Option<Vec<String>>,
}

/// A configuration a scheme cannot be built from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not one of the six scheme ids.
    #[error(
        "unknown scheme `{0}` (expected one of partner, authorization, webhook, a2a, ia-json, quable)"
    )]
    UnknownScheme(String),
    /// `quable` needs the declared app endpoint string.
    #[error("the quable scheme needs the app endpoint string (`endpoint`)")]
    MissingEndpoint,
    /// A configured header name is not a valid HTTP header name.
    #[error("`{0}` is not a valid header name")]
    HeaderName(String),
}

/// A named piece of a signature: what a verifier reads from a request and,
/// for most, writes into the signed string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The key id.
    KeyId,
    /// The algorithm's name (`authorization`).
    Algorithm,
    /// The timestamp.
    Timestamp,
    /// The nonce.
    Nonce,
    /// The tag.
    Tag,
    /// The body's hash (`a2a`'s header; `authorization`'s `body-hash:` line).
    BodyHash,
    /// The list of signed header names (`authorization`).
    SignedHeaders,
    /// One signed header's line (`authorization`), by lower-case name.
    Header(String),
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::KeyId => f.write_str("key id"),
            Field::Algorithm => f.write_str("algorithm"),
            Field::Timestamp => f.write_str("timestamp"),
            Field::Nonce => f.write_str("nonce"),
            Field::Tag => f.write_str("tag"),
            Field::BodyHash => f.write_str("body hash"),
            Field::SignedHeaders => f.write_str("signed header list"),
            Field::Header(name) => write!(f, "header {name}"),
        }
    }
}

/// How a signer (or a verifier that treats a missing field as optional)
/// writes a field that is not in the request into the signed string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Absent {
    /// Its line, or its place between separators, left out.
    Omitted,
    /// With an empty value.
    Empty,
    /// As the current time (a timestamp).
    Now,
}

/// Where a field sits in a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A header of its own.
    Header(HeaderName),
    /// A `name="value"` parameter of a header (`Authorization: Signature …`).
    Parameter {
        /// The header.
        header: HeaderName,
        /// The parameter's name.
        name: &'static str,
    },
    /// One of the `separator`-separated parts of a header (`partner`'s
    /// `id.timestamp.tag`).
    Part {
        /// The header.
        header: HeaderName,
        /// What separates the parts.
        separator: char,
        /// Which part, from 0.
        index: usize,
    },
    /// Nowhere but in the signed string, computed from the request
    /// (`authorization`'s body hash).
    Signed,
}

impl Location {
    /// The header the field is in, if it is in one.
    pub fn header(&self) -> Option<&HeaderName> {
        match self {
            Location::Header(h)
            | Location::Parameter { header: h, .. }
            | Location::Part { header: h, .. } => Some(h),
            Location::Signed => None,
        }
    }

    /// The field's text in `req`, where it is there as text.
    pub fn read<'r>(&self, req: &'r Request) -> Option<&'r str> {
        let text = req.headers().get(self.header()?)?.to_str().ok()?;
        match self {
            Location::Header(_) => Some(text),
            Location::Parameter { name, .. } => crate::request::parameters(text)?
                .items
                .into_iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v),
            Location::Part {
                separator, index, ..
            } => text.split(*separator).nth(*index),
            Location::Signed => None,
        }
    }

    /// Writes `value` (any bytes a header can carry) as the field's value
    /// in `req`, adding the field where it is absent.
    pub fn write(&self, req: &mut Request, value: &[u8]) -> Result<(), String> {
        let header = self
            .header()
            .ok_or("the field is only in the signed string")?;
        let current = req
            .headers()
            .get(header)
            .map(|v| v.as_bytes().to_vec())
            .unwrap_or_default();
        let bytes = match self {
            Location::Header(_) => value.to_vec(),
            Location::Parameter { name, .. } => {
                let open = format!("{name}=\"").into_bytes();
                match find_parameter(&current, &open) {
                    Some(start) => {
                        let from = start + open.len();
                        let len = current[from..]
                            .iter()
                            .position(|&b| b == b'"')
                            .ok_or("an unterminated parameter")?;
                        [&current[..from], value, &current[from + len..]].concat()
                    }
                    None => [&current[..], b",", &open, value, b"\""].concat(),
                }
            }
            Location::Part {
                separator, index, ..
            } => {
                let mut parts: Vec<&[u8]> = current.split(|&b| b == *separator as u8).collect();
                match parts.get_mut(*index) {
                    Some(part) => *part = value,
                    None => return Err(format!("no part {index} to write")),
                }
                parts.join(&(*separator as u8))
            }
            Location::Signed => unreachable!("no header"),
        };
        let value = http::HeaderValue::from_bytes(&bytes).map_err(|e| e.to_string())?;
        req.headers_mut().insert(header.clone(), value);
        Ok(())
    }

    /// Removes the field from `req` (a part with its separator).
    pub fn remove(&self, req: &mut Request) -> Result<(), String> {
        let header = self
            .header()
            .ok_or("the field is only in the signed string")?;
        let Some(current) = req.headers().get(header).map(|v| v.as_bytes().to_vec()) else {
            return Ok(());
        };
        let bytes = match self {
            Location::Header(_) => {
                req.headers_mut().remove(header);
                return Ok(());
            }
            Location::Parameter { name, .. } => {
                let text = std::str::from_utf8(&current).map_err(|e| e.to_string())?;
                let crate::request::Parameters { word, items: list } =
                    crate::request::parameters(text).ok_or("not a parameter list")?;
                let kept: Vec<(&str, &str)> = list.into_iter().filter(|(n, _)| n != name).collect();
                crate::request::write_parameters(word, &kept, None).into_bytes()
            }
            Location::Part {
                separator, index, ..
            } => {
                let mut parts: Vec<&[u8]> = current.split(|&b| b == *separator as u8).collect();
                if *index < parts.len() {
                    parts.remove(*index);
                }
                parts.join(&(*separator as u8))
            }
            Location::Signed => unreachable!("no header"),
        };
        let value = http::HeaderValue::from_bytes(&bytes).map_err(|e| e.to_string())?;
        req.headers_mut().insert(header.clone(), value);
        Ok(())
    }
}

/// Where the parameter opened by `open` (`name="`) starts in a header
/// value: at the start, or after a space or a comma.
fn find_parameter(value: &[u8], open: &[u8]) -> Option<usize> {
    (0..value.len().saturating_sub(open.len()) + 1)
        .find(|&i| value[i..].starts_with(open) && (i == 0 || matches!(value[i - 1], b' ' | b',')))
}

/// The signature material of one request: what [`Scheme::parse`] reads out
/// of a received request (borrowing from it: parsing allocates nothing), or
/// what a signer is about to write into one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParams<'a> {
    /// The key id, for schemes that carry one.
    pub key_id: Option<Cow<'a, str>>,
    /// The HMAC's hash function.
    pub algorithm: Algorithm,
    /// The timestamp exactly as written in the request.
    pub timestamp: Cow<'a, str>,
    /// The timestamp's value, in the scheme's unit.
    pub timestamp_value: u64,
    /// The nonce, for schemes that carry one.
    pub nonce: Option<Cow<'a, str>>,
    /// `authorization`: the lower-case header names the signature covers
    /// (borrowed from the request unless they had to be lower-cased).
    pub signed_headers: Vec<Cow<'a, str>>,
    /// `a2a`: the `X-Body-Hash` value as written, when present.
    pub body_hash: Option<Cow<'a, str>>,
    /// The decoded tag (empty while signing).
    pub tag: Tag,
    /// A field the signed string leaves out altogether (its line, or its
    /// place between separators): how a verifier that treats the field as
    /// optional signs its absence. `None` for every correct signature.
    pub omitted: Option<Field>,
}

impl<'a> SignatureParams<'a> {
    /// The parameters read from a received request: the timestamp must be
    /// a plain integer and the tag strictly in `encoding` (checked in that
    /// order). Nonce, signed headers and body hash are left for the scheme to
    /// fill in.
    pub(crate) fn received(
        key_id: Option<&'a str>,
        algorithm: Algorithm,
        timestamp: &'a str,
        encoding: TagEncoding,
        tag: &str,
    ) -> Result<Self, Rejection> {
        let timestamp_value = crate::time::parse_timestamp(timestamp)?;
        // The length is checked where tags are compared (`Scheme::verify`).
        let tag = encoding
            .decode_tag(tag)
            .map_err(|_| Rejection::MalformedSignature)?;
        Ok(SignatureParams {
            key_id: key_id.map(Cow::Borrowed),
            algorithm,
            timestamp: Cow::Borrowed(timestamp),
            timestamp_value,
            nonce: None,
            signed_headers: Vec::new(),
            body_hash: None,
            tag,
            omitted: None,
        })
    }

    /// The same parameters, owning their strings.
    pub fn into_owned(self) -> SignatureParams<'static> {
        let own = |s: Cow<'a, str>| Cow::Owned(s.into_owned());
        SignatureParams {
            key_id: self.key_id.map(own),
            algorithm: self.algorithm,
            timestamp: own(self.timestamp),
            timestamp_value: self.timestamp_value,
            nonce: self.nonce.map(own),
            signed_headers: self.signed_headers.into_iter().map(own).collect(),
            body_hash: self.body_hash.map(own),
            tag: self.tag,
            omitted: self.omitted,
        }
    }

    /// Whether the signed string leaves `field` out.
    pub fn omits(&self, field: &Field) -> bool {
        self.omitted.as_ref() == Some(field)
    }
}

/// What a signer chooses: everything in the signature except the tag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInput {
    /// The key id to name in the request (ignored by schemes without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The timestamp string to write, in the scheme's unit.
    pub timestamp: String,
    /// The nonce (required by `authorization` and `a2a`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// `authorization`: the algorithm to name (default HMAC-SHA256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<Algorithm>,
    /// `authorization`: the headers to cover (default `host content-type
    /// content-length`, the original implementation's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_headers: Option<Vec<String>>,
}

/// Why a request could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The signing input lacks something the scheme needs, or the request
    /// cannot be signed by this scheme (e.g. a non-JSON body for `partner`).
    #[error("cannot sign: {0}")]
    Invalid(String),
}

impl From<Rejection> for SignError {
    fn from(r: Rejection) -> Self {
        SignError::Invalid(r.to_string())
    }
}

/// How signed requests of a scheme reach a verifier: what decides where
/// the runner sends its probes, and with which methods, by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// An API: signed requests to any of its routes, with any method. The
    /// runner sends its probes below the target URL's path.
    Api,
    /// One declared endpoint receives every request (a webhook receiver,
    /// an app endpoint): the runner sends every probe to exactly the
    /// target URL, with these methods unless told others.
    Endpoint {
        /// The methods the seed's senders use.
        methods: &'static [&'static str],
    },
}

/// A signing scheme: its wire format and its canonical string.
pub trait Scheme: Send + Sync + fmt::Debug {
    /// Which scheme this is.
    fn id(&self) -> SchemeId;

    /// How its requests reach a verifier (an API, unless the scheme says
    /// otherwise).
    fn delivery(&self) -> Delivery {
        Delivery::Api
    }

    /// Where `field` sits in a request; `None` for a field the scheme does
    /// not carry.
    fn location(&self, field: &Field) -> Option<Location>;

    /// What it signs, quoted from SCHEMES.md (the runner prints it when a
    /// change to a signed component is accepted).
    fn rule(&self) -> &'static str;

    /// The acceptance window for timestamps.
    fn window(&self) -> Window;

    /// How tags are written in this scheme's headers.
    fn tag_encoding(&self) -> TagEncoding;

    /// Reads and checks the signature material of a received request:
    /// presence, syntax, duplicates, and the checks that need only the
    /// request (a body hash against the body, required signed headers).
    fn parse<'r>(&self, req: &'r Request) -> Result<SignatureParams<'r>, Rejection>;

    /// Writes the bytes that are signed for `req` under `params` to `out`:
    /// a buffer, or a MAC computation directly.
    fn canonicalize(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn ByteSink,
    ) -> Result<(), Rejection>;

    /// Turns a signer's choices into the parameters that will be written.
    fn signing_params<'a>(
        &self,
        req: &Request,
        input: &'a SignInput,
    ) -> Result<SignatureParams<'a>, SignError>;

    /// The headers a signer adds to the request, given the encoded tag.
    ///
    /// The tag is passed encoded so that test tools can write deliberately
    /// wrong encodings through the same formatting code.
    fn signature_headers(
        &self,
        params: &SignatureParams<'_>,
        encoded_tag: &str,
    ) -> Vec<(HeaderName, String)>;

    /// Signs `req`: the headers to add to it.
    fn sign(
        &self,
        req: &Request,
        input: &SignInput,
        key: &Key,
    ) -> Result<Vec<(HeaderName, String)>, SignError> {
        let params = self.signing_params(req, input)?;
        let tag = key
            .mac()
            .sign_streamed(params.algorithm, |out| self.canonicalize(req, &params, out))?;
        Ok(self.signature_headers(&params, &self.tag_encoding().encode(tag.as_bytes())))
    }

    /// Checks the tag in `params` against `req` with `key`, in constant time.
    ///
    /// A tag of the wrong length is malformed, never compared: its length is
    /// public, and comparing only the bytes present would accept a prefix.
    /// The canonical string is streamed into the MAC, never buffered.
    fn verify(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        key: &Key,
    ) -> Result<(), Rejection> {
        if params.tag.as_bytes().len() != params.algorithm.tag_len() {
            return Err(Rejection::MalformedSignature);
        }
        let valid = key
            .mac()
            .verify_streamed(params.algorithm, params.tag.as_bytes(), |out| {
                self.canonicalize(req, params, out)
            })?;
        if valid {
            Ok(())
        } else {
            Err(Rejection::BadSignature)
        }
    }
}

/// Writes `text` upper-cased (methods: the standard ones already are, so
/// they go through as they are; an extension method is upper-cased in
/// pieces, without allocating).
pub(crate) fn put_uppercase(out: &mut dyn ByteSink, text: &str) {
    if !text.bytes().any(|b| b.is_ascii_lowercase()) {
        out.put(text.as_bytes());
        return;
    }
    for chunk in text.as_bytes().chunks(32) {
        let mut upper = [0u8; 32];
        let upper = &mut upper[..chunk.len()];
        upper.copy_from_slice(chunk);
        upper.make_ascii_uppercase();
        out.put(upper);
    }
}

/// Writes `{timestamp}.{body}`, the signed string of `webhook` and `ia-json`.
pub(crate) fn timestamp_dot_body(
    params: &SignatureParams<'_>,
    body: &[u8],
    out: &mut dyn ByteSink,
) {
    put_field(
        out,
        params,
        &Field::Timestamp,
        b"",
        params.timestamp.as_bytes(),
        b".",
    );
    out.put(body);
}

/// Writes one field of a signed string, `{before}{value}{after}`, or
/// nothing at all when the signer left the field out ([`SignatureParams::omitted`]).
pub(crate) fn put_field(
    out: &mut dyn ByteSink,
    params: &SignatureParams<'_>,
    field: &Field,
    before: &[u8],
    value: &[u8],
    after: &[u8],
) {
    if params.omits(field) {
        return;
    }
    out.put(before);
    out.put(value);
    out.put(after);
}

/// The parameters of a signer's input with nothing scheme-specific in them.
pub(crate) fn basic_signing_params(
    input: &SignInput,
    algorithm: Algorithm,
    needs_key_id: bool,
    needs_nonce: bool,
) -> Result<SignatureParams<'_>, SignError> {
    if needs_key_id && input.key_id.is_none() {
        return Err(SignError::Invalid("a key id is required".into()));
    }
    if needs_nonce && input.nonce.is_none() {
        return Err(SignError::Invalid("a nonce is required".into()));
    }
    // A signer may deliberately write a malformed timestamp (test vectors
    // do); its value only matters to verifiers.
    let timestamp_value = crate::time::parse_timestamp(&input.timestamp).unwrap_or(0);
    Ok(SignatureParams {
        key_id: input
            .key_id
            .as_deref()
            .filter(|_| needs_key_id)
            .map(Cow::Borrowed),
        algorithm,
        timestamp: Cow::Borrowed(&input.timestamp),
        timestamp_value,
        nonce: input
            .nonce
            .as_deref()
            .filter(|_| needs_nonce)
            .map(Cow::Borrowed),
        signed_headers: Vec::new(),
        body_hash: None,
        tag: Tag::default(),
        omitted: None,
    })
}

/// The scheme's window with `config`'s overrides applied.
pub(crate) fn configured_window(default: Window, config: &SchemeConfig) -> Window {
    Window {
        unit: default.unit,
        past: config.tolerance_past.unwrap_or(default.past),
        future: config.tolerance_future.unwrap_or(default.future),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(header: &str, value: &str) -> Request {
        http::Request::get("/")
            .header(header, value)
            .body(bytes::Bytes::new())
            .unwrap()
    }

    #[test]
    fn fields_are_read_written_and_removed_where_they_sit() {
        let auth = Location::Parameter {
            header: http::header::AUTHORIZATION,
            name: "nonce",
        };
        let mut req = request(
            "authorization",
            r#"Signature keyId="k",xnonce="a",nonce="n1",signature="t""#,
        );
        assert_eq!(auth.read(&req), Some("n1"));
        auth.write(&mut req, b"\xff\xfe").unwrap();
        assert_eq!(
            req.headers()["authorization"].as_bytes(),
            b"Signature keyId=\"k\",xnonce=\"a\",nonce=\"\xff\xfe\",signature=\"t\""
        );
        auth.write(&mut req, b"n2").unwrap();
        auth.remove(&mut req).unwrap();
        assert_eq!(
            req.headers()["authorization"],
            r#"Signature keyId="k",xnonce="a",signature="t""#
        );
        assert_eq!(auth.read(&req), None);
        auth.write(&mut req, b"n3").unwrap();
        assert_eq!(auth.read(&req), Some("n3"));

        let part = Location::Part {
            header: HeaderName::from_static("x-signature"),
            separator: '.',
            index: 1,
        };
        let mut req = request("x-signature", "id.1700.abc");
        assert_eq!(part.read(&req), Some("1700"));
        part.write(&mut req, b"1700.5").unwrap();
        assert_eq!(req.headers()["x-signature"], "id.1700.5.abc");
        let mut req = request("x-signature", "id.1700.abc");
        part.remove(&mut req).unwrap();
        assert_eq!(req.headers()["x-signature"], "id.abc");

        let header = Location::Header(HeaderName::from_static("x-nonce"));
        let mut req = request("x-nonce", "n");
        header.write(&mut req, " n ".as_bytes()).unwrap();
        assert_eq!(header.read(&req), Some(" n "));
        header.remove(&mut req).unwrap();
        assert_eq!(header.read(&req), None);
        assert!(Location::Signed.write(&mut req, b"x").is_err());
    }
}
