//! The [`Scheme`] trait and the six schemes that implement it.
//!
//! A scheme knows its wire format: where the signature material sits in a
//! request ([`Scheme::parse`]), which bytes are signed
//! ([`Scheme::canonicalize`]) and how a signer writes its headers
//! ([`Scheme::signature_headers`]). Everything schemes share — HMAC,
//! encodings, windows, nonces, key lookup — lives outside this module, and
//! [`crate::Verifier`] puts the pieces together in one order for all.
//!
//! One file per scheme, each following its rules in `docs/rules/`: the six
//! seeds' [`partner`], [`authorization`], [`webhook`], [`a2a`], [`ia_json`],
//! [`quable`]; the standards' AWS Signature Version 4, [`sigv4`], and
//! HTTP Message Signatures with `hmac-sha256`, [`rfc9421`].

pub mod a2a;
pub mod authorization;
pub mod ia_json;
pub(crate) mod location;
pub mod member;
pub mod partner;
pub mod quable;
pub mod rfc9421;
pub mod sigv4;
pub mod webhook;

pub use location::{Absent, Field, Location};

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use http::HeaderName;
use serde::{Deserialize, Serialize};

use crate::Rejection;
use crate::crypto::{Algorithm, ByteSink, MacKey, Tag, TagEncoding};
use crate::keys::{Key, Secret};
use crate::request::Request;
use crate::time::Window;

/// The schemes written in Rust, by their ids: the six seeds' and SigV4.
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
    /// AWS Signature Version 4, `AWS4-HMAC-SHA256`: the `Authorization`
    /// header and the presigned query.
    #[serde(rename = "sigv4")]
    Sigv4,
    /// HTTP Message Signatures (RFC 9421) with `hmac-sha256`:
    /// `Signature-Input` and `Signature`.
    #[serde(rename = "rfc9421")]
    Rfc9421,
}

impl SchemeId {
    /// The six seeds' schemes, in the order of their rules.
    pub const ALL: [SchemeId; 6] = [
        SchemeId::Partner,
        SchemeId::Authorization,
        SchemeId::Webhook,
        SchemeId::A2a,
        SchemeId::IaJson,
        SchemeId::Quable,
    ];

    /// The published standards' schemes.
    pub const STANDARDS: [SchemeId; 2] = [SchemeId::Sigv4, SchemeId::Rfc9421];

    /// The id as written in its rules, vector files and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            SchemeId::Partner => "partner",
            SchemeId::Authorization => "authorization",
            SchemeId::Webhook => "webhook",
            SchemeId::A2a => "a2a",
            SchemeId::IaJson => "ia-json",
            SchemeId::Quable => "quable",
            SchemeId::Sigv4 => "sigv4",
            SchemeId::Rfc9421 => "rfc9421",
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
            SchemeId::Sigv4 => Box::new(sigv4::SigV4::new(config)?),
            SchemeId::Rfc9421 => Box::new(rfc9421::MessageSignatures::new(config)?),
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
            .chain(SchemeId::STANDARDS)
            .find(|id| id.as_str() == s)
            .ok_or_else(|| ConfigError::UnknownScheme(s.to_owned()))
    }
}

/// Settings that differ between deployments of a scheme. Every field is
/// optional; an absent field keeps the scheme's default (its rules), and a
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
    /// `authorization`, `sigv4`: headers every signature must cover.
    /// Default: `host`, plus for `authorization` `content-type` when the
    /// request has a body. `rfc9421`: the component identifiers every
    /// signature must cover (default `@method`, `@authority`, `@path`, and
    /// `content-digest` when the request has a body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_headers: Option<Vec<String>>,
    /// `sigv4`: the region every credential scope must name (default `us-east-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `sigv4`: the service every credential scope must name (default `s3`).
    /// `s3` also sets S3's rules: the path neither normalised nor encoded
    /// again, `x-amz-content-sha256` required, every `x-amz-*` header signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// `sigv4`: how the canonical URI is made from the path as sent
    /// (default: `once` for S3, `twice` for other services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri_encoding: Option<sigv4::UriEncoding>,
    /// `sigv4`: whether dot segments and repeated slashes are removed from
    /// the path before it is encoded (default: not for S3, for others yes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize_path: Option<bool>,
    /// `sigv4`: a presigned URL's `X-Amz-Security-Token` is added after
    /// signing and left out of its canonical query (the convention of AWS
    /// IoT's presigned WebSocket URLs; default: it is signed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_added_after_signing: Option<bool>,
    /// `sigv4`: whether header values are trimmed and their inner runs of
    /// spaces made one (default: yes, as the rules say; `false` signs as a
    /// verifier that breaks the rule does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim_header_values: Option<bool>,
    /// `sigv4`: whether repeated query names are sorted by value (default:
    /// yes, as the rules say; `false` keeps them in the order sent, as a
    /// verifier that sorts by name only does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort_query_values: Option<bool>,
    /// `rfc9421`: the label of the signature a verifier checks and a signer
    /// writes (default: a verifier checks the first signature of
    /// `Signature-Input`, a signer writes `sig1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `rfc9421`: the metadata parameters every signature must carry, of
    /// `created`, `expires`, `nonce`, `alg`, `keyid`, `tag` (default:
    /// `created` and `keyid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_parameters: Option<Vec<String>>,
    /// `rfc9421`: the `tag` parameter every signature must carry, and that
    /// a signer writes (default: none required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature_tag: Option<String>,
    /// `rfc9421`: the scheme of the target URI, for `@scheme` and
    /// `@target-uri`, where the request itself does not say (default `https`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_scheme: Option<String>,
}

/// A configuration a scheme cannot be built from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not one of the six scheme ids.
    #[error(
        "unknown scheme `{0}` (expected one of partner, authorization, webhook, a2a, ia-json, quable, sigv4, rfc9421)"
    )]
    UnknownScheme(String),
    /// `quable` needs the declared app endpoint string.
    #[error("the quable scheme needs the app endpoint string (`endpoint`)")]
    MissingEndpoint,
    /// A configured header name is not a valid HTTP header name.
    #[error("`{0}` is not a valid header name")]
    HeaderName(String),
    /// A configured value the scheme cannot use.
    #[error("`{field}`: {reason}")]
    Invalid {
        /// The setting.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A key's secret is not in the encoding the scheme decodes.
    #[error("the secret of key `{0}` is not base64 (the scheme decodes its secrets)")]
    Secret(String),
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
    /// Further tags, any of which may match (several signatures during a
    /// key rotation); empty for the six seeds' schemes.
    pub alternatives: Vec<Tag>,
    /// A field the signed string leaves out altogether (its line, or its
    /// place between separators): how a verifier that treats the field as
    /// optional signs its absence. `None` for every correct signature.
    pub omitted: Option<Field>,
    /// `sigv4`: a presigned URL's lifetime in seconds (`X-Amz-Expires`);
    /// `None` where the signature is in a header.
    pub presigned_for: Option<u64>,
    /// `sigv4`: the credential scope as received
    /// (`20150830/us-east-1/s3/aws4_request`); `None` while signing.
    pub scope: Option<Cow<'a, str>>,
    /// `rfc9421`: the signature's metadata parameters (`created`, `keyid`,
    /// `nonce`, …) in the order they are written, each value serialized as
    /// a structured-field bare item. The values of `created`, `nonce` and
    /// `keyid` are those of [`Self::timestamp`], [`Self::nonce`] and
    /// [`Self::key_id`] wherever the signed string is written.
    pub parameters: Vec<(Cow<'a, str>, Cow<'a, str>)>,
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
            alternatives: Vec::new(),
            omitted: None,
            presigned_for: None,
            scope: None,
            parameters: Vec::new(),
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
            alternatives: self.alternatives,
            omitted: self.omitted,
            presigned_for: self.presigned_for,
            scope: self.scope.map(own),
            parameters: self
                .parameters
                .into_iter()
                .map(|(name, value)| (own(name), own(value)))
                .collect(),
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
    /// content-length`, the original implementation's default); `rfc9421`:
    /// the component identifiers to cover (`@method`, `content-digest`,
    /// `"@query-param";name="id"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_headers: Option<Vec<String>>,
    /// `rfc9421`: the `expires` parameter to write (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
    /// `sigv4`: the credential scope to write and sign for, and derive the
    /// key from (default: the timestamp's date, the region, the service,
    /// `aws4_request`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// An API: signed requests to any of its routes, with any method. The
    /// runner sends its probes below the target URL's path.
    Api,
    /// One declared endpoint receives every request (a webhook receiver,
    /// an app endpoint): the runner sends every probe to exactly the
    /// target URL, with these methods unless told others.
    Endpoint {
        /// The methods the senders use.
        methods: Vec<String>,
    },
}

/// Whether a verifier must reject a nonce (or message id) it has seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayRule {
    /// Accepting it twice within the window is a failure.
    #[default]
    Enforced,
    /// Accepting it twice goes against the scheme's advice (a warning).
    Advised,
}

/// What a scheme's senders deliver, and what its rules leave to a verifier
/// beyond the signed string: the runner does not fault a verifier for
/// refusing what no sender sends, nor for accepting what the rules allow.
/// The default is the seeds' rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sender {
    /// Whether a sender ever delivers an empty body (Stripe, GitHub and
    /// Standard Webhooks never do, and their SDKs refuse one by design).
    #[serde(default = "yes")]
    pub empty_body: bool,
    /// Whether a sender ever sends a body in HTTP chunks without a length
    /// (`Transfer-Encoding: chunked`). S3 refuses uploads without
    /// `Content-Length` (411), and its SDKs always send one.
    #[serde(default = "yes")]
    pub chunked_bodies: bool,
    /// What a header repeated with the same value is: `refused` (the
    /// seeds' rule: a verifier and a proxy could each pick a different
    /// copy), or `read` (a provider that sets no rule; Node joins the copies
    /// into one list, Python keeps one).
    #[serde(default)]
    pub repeated_headers: Repeated,
    /// Whether a timestamp must be a plain decimal integer (`strict`, the
    /// seeds' rule), or whether another spelling of a signed timestamp read
    /// by a lenient parser is only a weakness (`lenient`: the provider pins
    /// no syntax).
    #[serde(default)]
    pub timestamp_syntax: TimestampSyntax,
    /// Where several signatures share a header (a list during a key
    /// rotation), which of them a verifier compares: `any` may match (the
    /// default), or only the `last`.
    #[serde(default)]
    pub signatures_compared: Compared,
    /// The media types of the bodies senders deliver, in the order a
    /// tester tries them (Slack: JSON events, and form posts for commands;
    /// Twilio: form posts). Empty: the runner's own choice (JSON, or a form
    /// where the scheme signs a form's parameters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media_types: Vec<String>,
    /// Headers every delivery carries besides the signature (GitHub's
    /// `X-GitHub-Event`): a verifier may route or refuse without them, so
    /// a tester sends them too. Unsigned.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub headers: std::collections::BTreeMap<String, String>,
    /// A body as a sender delivers it (an event in the provider's
    /// envelope), for a tester to sign and vary: SDKs that parse the event
    /// after verifying it refuse a body that is not one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_body: Option<String>,
}

impl Sender {
    /// Whether these are the seeds' rules (a profile that says nothing).
    pub fn is_default(&self) -> bool {
        *self == Sender::default()
    }
}

/// Which of several signatures in one header a verifier compares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compared {
    /// Any of them may match.
    #[default]
    Any,
    /// Only the last.
    Last,
}

fn yes() -> bool {
    true
}

impl Default for Sender {
    fn default() -> Sender {
        Sender {
            empty_body: true,
            chunked_bodies: true,
            repeated_headers: Repeated::Refused,
            timestamp_syntax: TimestampSyntax::Strict,
            signatures_compared: Compared::Any,
            media_types: Vec::new(),
            headers: std::collections::BTreeMap::new(),
            sample_body: None,
        }
    }
}

/// What a header repeated with the same value is to a scheme.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Repeated {
    /// A rejection.
    #[default]
    Refused,
    /// Either answer conforms.
    Read,
}

/// How strictly a timestamp's spelling is ruled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampSyntax {
    /// A plain decimal integer; anything else is a rejection.
    #[default]
    Strict,
    /// The provider pins no syntax: a signed timestamp in another spelling
    /// accepted is a weakness.
    Lenient,
}

/// A signing scheme: its wire format and its canonical string.
pub trait Scheme: Send + Sync + fmt::Debug {
    /// The scheme's name: a seed's id (`a2a`) or a profile's name.
    fn name(&self) -> &str;

    /// How its requests reach a verifier (an API, unless the scheme says
    /// otherwise).
    fn delivery(&self) -> Delivery {
        Delivery::Api
    }

    /// Where `field` sits in a request; `None` for a field the scheme does
    /// not carry.
    fn location(&self, field: &Field) -> Option<Location>;

    /// What it signs, as its rules say (`docs/rules/`) or the profile
    /// describes it (the runner prints it when a change to a signed
    /// component is accepted).
    fn rule(&self) -> &str;

    /// Whether a nonce seen before must be rejected (where there is one).
    fn replay(&self) -> ReplayRule {
        ReplayRule::Enforced
    }

    /// What its senders deliver and its rules leave to a verifier.
    fn sender(&self) -> Sender {
        Sender::default()
    }

    /// The fields it carries in header `name`.
    fn fields_in(&self, name: &HeaderName) -> Vec<Field> {
        [
            Field::KeyId,
            Field::Algorithm,
            Field::Timestamp,
            Field::Nonce,
            Field::Tag,
            Field::BodyHash,
            Field::SignedHeaders,
        ]
        .into_iter()
        .filter(|f| self.location(f).is_some_and(|at| at.header() == Some(name)))
        .collect()
    }

    /// Adds to a request what the scheme carries outside its headers
    /// (Twilio's body hash in the query), derived from the body the signer
    /// signs (`signed_body`, the request's own unless a test signs another):
    /// signers call it on the request they build, before signing it.
    fn prepare(&self, _req: &mut Request, _signed_body: &[u8]) {}

    /// The acceptance window for timestamps.
    fn window(&self) -> Window;

    /// Checks the request's time against `now_ms`: the window, unless the
    /// scheme says otherwise (a presigned URL is valid until it expires).
    fn check_time(&self, params: &SignatureParams<'_>, now_ms: u64) -> Result<(), Rejection> {
        self.window().check(params.timestamp_value, now_ms)
    }

    /// A timestamp `value` (in the window's unit) as the scheme writes it:
    /// decimal digits, unless the scheme says otherwise (SigV4's
    /// `20150830T123600Z`).
    fn timestamp_text(&self, value: u64) -> String {
        value.to_string()
    }

    /// How tags are written in this scheme's headers.
    fn tag_encoding(&self) -> TagEncoding;

    /// Where `field` is written in an encoding of its own, and which: the
    /// tag (in [`Self::tag_encoding`]) and a body hash the request carries.
    /// `None` for a field of text (a key id, a nonce), one only in the
    /// signed string, and one the scheme does not carry. Where a field's
    /// location holds more than the encoded value (RFC 9421's
    /// `Content-Digest` dictionary), this is where the value itself is.
    fn encoded(&self, field: &Field) -> Option<(Location, TagEncoding)> {
        match field {
            Field::Tag => self
                .location(field)
                .filter(|at| *at != Location::Signed)
                .map(|at| (at, self.tag_encoding())),
            _ => None,
        }
    }

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

    /// The HMAC key of one signature: the key itself, unless the scheme
    /// derives one per request (SigV4's key for a date, region and service).
    fn signing_key<'k>(&self, key: &'k Key, _params: &SignatureParams<'_>) -> Cow<'k, MacKey> {
        Cow::Borrowed(key.mac())
    }

    /// What a scheme hashes into its signed string, where it has such a
    /// stage (SigV4's canonical request); `None` for the others.
    fn canonical_request(
        &self,
        _req: &Request,
        _params: &SignatureParams<'_>,
    ) -> Option<Result<Vec<u8>, Rejection>> {
        None
    }

    /// A presigned URL for `req`: the request with its signature in the
    /// query, valid `expires` seconds from `input`'s timestamp; `None` for a
    /// scheme without that form (all but SigV4).
    fn presign(
        &self,
        _req: &Request,
        _input: &SignInput,
        _expires: u64,
        _key: &Key,
    ) -> Option<Result<Request, SignError>> {
        None
    }

    /// `req` as a chunk-signed upload (its body in signed chunks, framed
    /// and signed as `plan` says); `None` for a scheme without that form
    /// (all but SigV4).
    fn chunked(
        &self,
        _req: &Request,
        _input: &SignInput,
        _plan: &sigv4::chunked::ChunkPlan,
        _key: &Key,
    ) -> Option<Result<Request, SignError>> {
        None
    }

    /// Signs `req`: the headers to add to it.
    fn sign(
        &self,
        req: &Request,
        input: &SignInput,
        key: &Key,
    ) -> Result<Vec<(HeaderName, String)>, SignError> {
        let params = self.signing_params(req, input)?;
        let tag = self
            .signing_key(key, &params)
            .sign_streamed(params.algorithm, |out| self.canonicalize(req, &params, out))?;
        Ok(self.signature_headers(&params, &self.tag_encoding().encode(tag.as_bytes())))
    }

    /// Checks the tag in `params` (or any of its alternatives) against
    /// `req` with `key`, in constant time.
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
        let len = params.algorithm.tag_len();
        if params.alternatives.is_empty() {
            return verify_tag(self, req, params, key);
        }
        // Several signatures: the MAC once, compared with each in turn.
        let expected = self
            .signing_key(key, params)
            .sign_streamed(params.algorithm, |out| self.canonicalize(req, params, out))?;
        let tags = std::iter::once(&params.tag).chain(&params.alternatives);
        let mut any = false;
        for tag in tags.filter(|t| t.as_bytes().len() == len) {
            any |= crate::crypto::constant_time_eq(expected.as_bytes(), tag.as_bytes());
        }
        match any {
            true => Ok(()),
            false if params.tag.as_bytes().len() != len => Err(Rejection::MalformedSignature),
            false => Err(Rejection::BadSignature),
        }
    }

    /// The key `secret` makes for this scheme: its UTF-8 bytes, unless the
    /// scheme decodes its secrets (a profile's base64 or `whsec_` secrets).
    fn key(&self, id: &str, secret: &Secret) -> Result<Key, ConfigError> {
        Ok(Key::new(id, secret))
    }
}

/// Checks the one tag of `params` against `req` with `key`, in constant
/// time, the canonical string streamed into the MAC: what
/// [`Scheme::verify`] does for a request with one signature (a scheme that
/// checks more, as SigV4 its chunks, starts here).
pub fn verify_tag<S: Scheme + ?Sized>(
    scheme: &S,
    req: &Request,
    params: &SignatureParams<'_>,
    key: &Key,
) -> Result<(), Rejection> {
    if params.tag.as_bytes().len() != params.algorithm.tag_len() {
        return Err(Rejection::MalformedSignature);
    }
    let valid = scheme.signing_key(key, params).verify_streamed(
        params.algorithm,
        params.tag.as_bytes(),
        |out| scheme.canonicalize(req, params, out),
    )?;
    if valid {
        Ok(())
    } else {
        Err(Rejection::BadSignature)
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
        alternatives: Vec::new(),
        omitted: None,
        presigned_for: None,
        scope: None,
        parameters: Vec::new(),
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

/// Parses a configured header name, as given in a scheme's configuration.
pub fn header_name(name: &str) -> Result<http::HeaderName, ConfigError> {
    http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| ConfigError::HeaderName(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scheme_quotes_a_rule_that_exists() {
        let config = SchemeConfig {
            endpoint: Some("https:app.example/hook".into()),
            ..SchemeConfig::default()
        };
        for id in SchemeId::ALL.into_iter().chain(SchemeId::STANDARDS) {
            let scheme = id.build(&config).unwrap();
            assert!(!scheme.rule().is_empty(), "{id}");
        }
    }
}
