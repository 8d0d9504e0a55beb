//! `sigv4`: AWS Signature Version 4 (`AWS4-HMAC-SHA256`), in both of its
//! request forms: the `Authorization` header and the presigned query.
//!
//! ```text
//! Authorization: AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request,
//!                SignedHeaders=host;x-amz-date, Signature=<64 hex>
//! ?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=…&X-Amz-Date=…&X-Amz-Expires=…
//!  &X-Amz-SignedHeaders=host&X-Amz-Signature=<64 hex>
//! ```
//!
//! The tag is the HMAC-SHA256 of the *string to sign* (`canonicalize`
//! writes it): the algorithm, `X-Amz-Date`, the credential scope and the
//! SHA-256 of the *canonical request* ([`canonical`]). Its key is derived
//! from the secret for the scope's date, region and service
//! ([`signing_key`]). Rules: `docs/rules/sigv4.md`.

mod canonical;
pub mod chunked;
mod form;
mod signing_key;

pub use canonical::UriEncoding;

use std::borrow::Cow;

use http::{HeaderName, header::AUTHORIZATION};

use super::{
    ConfigError, Field, Location, Scheme, SchemeConfig, SchemeId, SignError, SignInput,
    SignatureParams,
};
use crate::Rejection;
use crate::crypto::{Algorithm, ByteSink, MacKey, TagEncoding, body_sha256};
use crate::keys::{Key, Secret};
use crate::request::Request;
use crate::time::{TimeUnit, Window};

use canonical::PathRules;
use signing_key::SigningKeys;

/// The algorithm's name, the first word of the header and of the string to sign.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The last part of every credential scope.
pub const TERMINATOR: &str = "aws4_request";
/// The payload hash of a request whose body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// The longest a presigned URL may be valid: seven days, in seconds.
pub const MAX_EXPIRES: u64 = 604_800;

/// `x-amz-date`.
pub static X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
/// `x-amz-content-sha256`.
pub static X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");

/// The `sigv4` scheme for one region and service.
#[derive(Debug)]
pub struct SigV4 {
    /// `None`: any region, the one the credential names (`*`).
    region: Option<String>,
    service: String,
    /// S3's rules: `x-amz-content-sha256` required and every `x-amz-*` header signed.
    s3: bool,
    /// Headers every signature must cover: `host` unless configured otherwise.
    required_headers: Vec<String>,
    paths: PathRules,
    /// A presigned URL's `X-Amz-Security-Token` is added after signing.
    token_added_after_signing: bool,
    /// Header values trimmed, inner runs of spaces made one (as the rules
    /// say); `false` only to sign as a verifier that breaks the rule.
    trim_header_values: bool,
    /// Repeated query names sorted by value (as the rules say); `false`
    /// only to sign as a verifier that breaks the rule.
    sort_query_values: bool,
    window: Window,
    keys: SigningKeys,
}

/// The signed headers' names joined by `;`, as the canonical request's
/// line and `SignedHeaders=` write them.
fn write_signed_headers(params: &SignatureParams<'_>, out: &mut dyn ByteSink) {
    for (i, name) in params.signed_headers.iter().enumerate() {
        if i > 0 {
            out.put(b";");
        }
        out.put(name.as_bytes());
    }
}

impl SigV4 {
    /// The clock skew AWS allows both ways: 15 minutes.
    pub const DEFAULT_WINDOW: Window = Window::symmetric(TimeUnit::Seconds, 900);

    /// Builds the scheme from `config`: region `us-east-1` and service `s3`
    /// unless it names others.
    pub fn new(config: &SchemeConfig) -> Result<Self, ConfigError> {
        let region = config.region.clone().unwrap_or_else(|| "us-east-1".into());
        let any_region = region == "*";
        let service = config.service.clone().unwrap_or_else(|| "s3".into());
        for (field, value) in [("region", &region), ("service", &service)] {
            if value.is_empty() || value.contains(['/', '\n']) {
                return Err(ConfigError::Invalid {
                    field,
                    reason: "must be a non-empty name without `/`",
                });
            }
        }
        let s3 = service == "s3";
        Ok(SigV4 {
            paths: PathRules {
                encoding: config.uri_encoding.unwrap_or(if s3 {
                    UriEncoding::Once
                } else {
                    UriEncoding::Twice
                }),
                normalize: config.normalize_path.unwrap_or(!s3),
            },
            token_added_after_signing: config.token_added_after_signing.unwrap_or(false),
            trim_header_values: config.trim_header_values.unwrap_or(true),
            sort_query_values: config.sort_query_values.unwrap_or(true),
            required_headers: config.required_headers.as_ref().map_or_else(
                || vec!["host".into()],
                |names| names.iter().map(|n| n.to_ascii_lowercase()).collect(),
            ),
            window: super::configured_window(Self::DEFAULT_WINDOW, config),
            region: (!any_region).then_some(region),
            service,
            s3,
            keys: SigningKeys::default(),
        })
    }

    /// The credential scope of a request signed at `amz_date`: the one
    /// received (checked by `parse`), else this scheme's.
    fn scope<'p>(&self, params: &'p SignatureParams<'_>) -> Cow<'p, str> {
        if let Some(received) = &params.scope {
            return Cow::Borrowed(received);
        }
        let parts = self.own_scope(params);
        let mut scope = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                scope.push('/');
            }
            scope.push_str(part);
        }
        Cow::Owned(scope)
    }

    /// The parts of this scheme's scope for a signer's `params`: the date
    /// of its timestamp (which a test may make malformed: then as much of
    /// it as there is), region, service, terminator.
    fn own_scope<'p>(&'p self, params: &'p SignatureParams<'_>) -> [&'p str; 4] {
        let amz_date = &params.timestamp;
        let date = amz_date.get(..8).unwrap_or(amz_date);
        let region = self.region.as_deref().unwrap_or("us-east-1");
        [date, region, &self.service, TERMINATOR]
    }

    /// Writes [`SigV4::scope`] to `out`.
    fn write_scope(&self, params: &SignatureParams<'_>, out: &mut dyn ByteSink) {
        if let Some(received) = &params.scope {
            return out.put(received.as_bytes());
        }
        for (i, part) in self.own_scope(params).into_iter().enumerate() {
            if i > 0 {
                out.put(b"/");
            }
            out.put(part.as_bytes());
        }
    }

    /// The payload hash line of the canonical request: the signed
    /// `x-amz-content-sha256` where there is one, `UNSIGNED-PAYLOAD` for an
    /// S3 presigned URL without it, otherwise the body's SHA-256.
    fn payload_hash<'p>(&self, req: &Request, params: &'p SignatureParams<'_>) -> Cow<'p, str> {
        match params.body_hash.as_deref() {
            Some(hash) => Cow::Borrowed(hash),
            None if self.s3 && params.presigned_for.is_some() => Cow::Borrowed(UNSIGNED_PAYLOAD),
            None => Cow::Owned(base16ct::lower::encode_string(&body_sha256(req.body()))),
        }
    }

    /// Writes the canonical request of `req` under `params` to `out`.
    fn write_canonical_request(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn ByteSink,
    ) -> Result<(), Rejection> {
        out.put(req.method().as_str().as_bytes());
        out.put(b"\n");
        canonical::uri(req.uri().path(), self.paths, out);
        out.put(b"\n");
        let skip: &[&str] = match (params.presigned_for, self.token_added_after_signing) {
            (None, _) => &[],
            (Some(_), false) => &[form::QUERY_SIGNATURE],
            (Some(_), true) => &[form::QUERY_SIGNATURE, "X-Amz-Security-Token"],
        };
        canonical::query(
            req.uri().query().unwrap_or(""),
            skip,
            self.sort_query_values,
            out,
        );
        out.put(b"\n");
        for name in &params.signed_headers {
            let signer_value = match name.as_ref() {
                "x-amz-date" if params.presigned_for.is_none() => Some(params.timestamp.as_ref()),
                "x-amz-content-sha256" => params.body_hash.as_deref(),
                _ => None,
            };
            if signer_value.is_none()
                && !req.headers().contains_key(name.as_ref())
                && params.omits(&Field::Header(name.to_string()))
            {
                // A verifier that signs a listed but absent header by
                // leaving its line out (never a correct signature).
                continue;
            }
            out.put(name.as_bytes());
            out.put(b":");
            canonical::header_value(req, name, signer_value, self.trim_header_values, out)?;
            out.put(b"\n");
        }
        out.put(b"\n");
        write_signed_headers(params, out);
        out.put(b"\n");
        out.put(self.payload_hash(req, params).as_bytes());
        Ok(())
    }

    /// The checks on a received request's signed material that need only the
    /// request: the scope, the signed headers, the payload hash.
    fn check_received(
        &self,
        req: &Request,
        received: &form::Received<'_>,
    ) -> Result<(), Rejection> {
        let bad_scope = |detail| Rejection::MalformedHeader {
            header: received.credential_field.into(),
            detail,
        };
        let scope = &received.scope;
        if received.amz_date.get(..8) != Some(scope.date()) {
            return Err(bad_scope("the credential's date is not the request's date"));
        }
        if self.region.as_deref().is_some_and(|r| r != scope.region()) {
            return Err(bad_scope("the credential scope names another region"));
        }
        if scope.service() != self.service {
            return Err(bad_scope("the credential scope names another service"));
        }
        if scope.terminator() != TERMINATOR {
            return Err(bad_scope(
                "the credential scope does not end with aws4_request",
            ));
        }
        canonical::check_signed_headers(
            req,
            &received.signed_headers,
            &self.required_headers,
            self.s3,
        )?;
        if let Some(hash) = received.body_hash {
            check_payload_hash(req, hash)?;
        } else if self.s3 && received.expires.is_none() {
            return Err(Rejection::MissingHeader("x-amz-content-sha256".into()));
        }
        Ok(())
    }
}

/// `x-amz-trailer`, the trailing header a chunk-signed body with a trailer
/// must name.
fn trailer_named(req: &Request) -> Result<&str, Rejection> {
    let name = http::HeaderName::from_static("x-amz-trailer");
    crate::request::required_header(req, &name)
}

/// `x-amz-decoded-content-length`, which a chunk-signed body must have.
fn decoded_length(req: &Request) -> Result<u64, Rejection> {
    let name = http::HeaderName::from_static("x-amz-decoded-content-length");
    let value = crate::request::required_header(req, &name)?;
    crate::time::parse_timestamp(value).map_err(|_| Rejection::MalformedHeader {
        header: name.as_str().to_owned(),
        detail: "not a number of bytes",
    })
}

/// Where a component of the `Authorization` header is.
fn component(name: &str) -> Location {
    Location::Component {
        header: AUTHORIZATION,
        name: name.into(),
    }
}

/// `x-amz-content-sha256`: a hex SHA-256, which must be the body's,
/// `UNSIGNED-PAYLOAD`, or a chunk-signed body, with a signed trailer or
/// without (its chunks are checked with the signature,
/// [`chunked::verify`]). The other streaming forms (unsigned chunks) are
/// refused rather than accepted unverified.
fn check_payload_hash(req: &Request, hash: &str) -> Result<(), Rejection> {
    if hash == UNSIGNED_PAYLOAD {
        return Ok(());
    }
    if hash == chunked::STREAMING_PAYLOAD || hash == chunked::STREAMING_PAYLOAD_TRAILER {
        decoded_length(req)?;
        if hash == chunked::STREAMING_PAYLOAD_TRAILER {
            trailer_named(req)?;
        }
        let aws_chunked = req
            .headers()
            .get_all(http::header::CONTENT_ENCODING)
            .iter()
            .any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.split(',').any(|e| e.trim() == "aws-chunked"))
            });
        return if aws_chunked {
            Ok(())
        } else {
            Err(Rejection::MalformedHeader {
                header: "content-encoding".into(),
                detail: "a chunk-signed body without aws-chunked",
            })
        };
    }
    if hash.starts_with("STREAMING-") {
        return Err(Rejection::MalformedHeader {
            header: "x-amz-content-sha256".into(),
            detail: "streaming payloads of unsigned chunks are not verified",
        });
    }
    let declared = TagEncoding::LowerHex
        .decode_tag(hash)
        .ok()
        .filter(|t| t.as_bytes().len() == 32)
        .ok_or(Rejection::MalformedHeader {
            header: "x-amz-content-sha256".into(),
            detail: "not a lower-case hex SHA-256 or UNSIGNED-PAYLOAD",
        })?;
    if crate::crypto::constant_time_eq(declared.as_bytes(), &body_sha256(req.body())) {
        Ok(())
    } else {
        Err(Rejection::BodyHashMismatch)
    }
}

impl Scheme for SigV4 {
    fn name(&self) -> &str {
        SchemeId::Sigv4.as_str()
    }

    fn rule(&self) -> &str {
        crate::rules::text("sigv4.signed-string")
    }

    fn delivery(&self) -> super::Delivery {
        if self.s3 {
            // The runner writes one object, the target URL's, again and
            // again: a PUT is what every S3-compatible store accepts.
            super::Delivery::Endpoint {
                methods: vec!["PUT".into()],
            }
        } else {
            super::Delivery::Api
        }
    }

    fn location(&self, field: &Field) -> Option<Location> {
        match field {
            Field::Timestamp => Some(Location::Header(X_AMZ_DATE.clone())),
            Field::BodyHash => Some(Location::Header(X_AMZ_CONTENT_SHA256.clone())),
            Field::Tag => Some(component("Signature")),
            Field::SignedHeaders => Some(component("SignedHeaders")),
            // The key id is the first part of `Credential`, the algorithm
            // the header's first word: no generic location says where;
            // the runner's SigV4 catalog changes them.
            Field::KeyId | Field::Algorithm => None,
            Field::Nonce | Field::Header(_) => None,
        }
    }

    fn fields_in(&self, name: &HeaderName) -> Vec<Field> {
        if name == AUTHORIZATION {
            return vec![
                Field::Algorithm,
                Field::KeyId,
                Field::SignedHeaders,
                Field::Tag,
            ];
        }
        [Field::Timestamp, Field::BodyHash]
            .into_iter()
            .filter(|f| self.location(f).is_some_and(|at| at.header() == Some(name)))
            .collect()
    }

    fn sender(&self) -> super::Sender {
        super::Sender {
            chunked_bodies: !self.s3,
            ..super::Sender::default()
        }
    }

    fn replay(&self) -> super::ReplayRule {
        // No nonce: a request may be sent again while it is valid.
        super::ReplayRule::Advised
    }

    fn window(&self) -> Window {
        self.window
    }

    fn check_time(&self, params: &SignatureParams<'_>, now_ms: u64) -> Result<(), Rejection> {
        let Some(expires) = params.presigned_for else {
            return self.window.check(params.timestamp_value, now_ms);
        };
        // A presigned URL: valid from its date (within the skew allowed for
        // a clock ahead of ours) until its date plus its lifetime.
        let lifetime = Window {
            unit: TimeUnit::Seconds,
            past: expires,
            future: self.window.future,
        };
        lifetime.check(params.timestamp_value, now_ms)
    }

    fn timestamp_text(&self, value: u64) -> String {
        form::amz_date_text(value)
    }

    fn tag_encoding(&self) -> TagEncoding {
        TagEncoding::LowerHex
    }

    fn encoded(&self, field: &Field) -> Option<(Location, TagEncoding)> {
        match field {
            Field::Tag | Field::BodyHash => Some((self.location(field)?, TagEncoding::LowerHex)),
            _ => None,
        }
    }

    fn key(&self, id: &str, secret: &Secret) -> Result<Key, ConfigError> {
        // The first key of the chain: kDate = HMAC("AWS4" + secret, date).
        let mut bytes = b"AWS4".to_vec();
        bytes.extend_from_slice(secret.expose().as_bytes());
        Ok(Key::from_bytes(id, &bytes))
    }

    fn signing_key<'k>(&self, key: &'k Key, params: &SignatureParams<'_>) -> Cow<'k, MacKey> {
        // Every part from the scope: a verifier checked that it names this
        // scheme's service and terminator (`check_received`), and a signer
        // signs for the scope it writes.
        let scope = self.scope(params);
        let mut parts = scope.split('/');
        let mut part = || parts.next().unwrap_or("");
        let (date, region, service, terminator) = (part(), part(), part(), part());
        Cow::Owned(self.keys.derive(key, date, region, service, terminator))
    }

    fn parse<'r>(&self, req: &'r Request) -> Result<SignatureParams<'r>, Rejection> {
        let received = form::read(req)?;
        let timestamp_value = form::parse_amz_date(&received.amz_date)?;
        self.check_received(req, &received)?;
        // The length is checked where tags are compared (`verify_tag`).
        let tag = TagEncoding::LowerHex
            .decode_tag(received.signature)
            .map_err(|_| Rejection::MalformedSignature)?;
        Ok(SignatureParams {
            key_id: Some(received.access_key),
            algorithm: Algorithm::Sha256,
            timestamp: received.amz_date,
            timestamp_value,
            nonce: None,
            signed_headers: received.signed_headers,
            body_hash: received.body_hash.map(Cow::Borrowed),
            tag,
            alternatives: Vec::new(),
            omitted: None,
            presigned_for: received.expires,
            scope: Some(received.scope.text),
            parameters: Vec::new(),
        })
    }

    fn canonicalize(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn ByteSink,
    ) -> Result<(), Rejection> {
        let mut hash = sha2::Sha256::default();
        self.write_canonical_request(req, params, &mut hash)?;
        let mut hex = [0u8; 64];
        let hex = base16ct::lower::encode(&sha2::Digest::finalize(hash), &mut hex)
            .expect("64 bytes hold a hex SHA-256");
        out.put(ALGORITHM.as_bytes());
        out.put(b"\n");
        out.put(params.timestamp.as_bytes());
        out.put(b"\n");
        self.write_scope(params, out);
        out.put(b"\n");
        out.put(hex);
        Ok(())
    }

    fn verify(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        key: &Key,
    ) -> Result<(), Rejection> {
        super::verify_tag(self, req, params, key)?;
        // A chunk-signed body: the request's signature is the seed of the
        // chunks' chain.
        let trailer = match params.body_hash.as_deref() {
            Some(chunked::STREAMING_PAYLOAD) => None,
            Some(chunked::STREAMING_PAYLOAD_TRAILER) => Some(trailer_named(req)?),
            _ => return Ok(()),
        };
        let key = self.signing_key(key, params);
        let seed = base16ct::lower::encode_string(params.tag.as_bytes());
        chunked::verify(
            req.body(),
            &chunked::Expected {
                key: &key,
                amz_date: &params.timestamp,
                scope: &self.scope(params),
                seed: &seed,
                decoded_length: decoded_length(req)?,
                trailer,
            },
        )
    }

    fn canonical_request(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
    ) -> Option<Result<Vec<u8>, Rejection>> {
        let mut out = Vec::new();
        Some(
            self.write_canonical_request(req, params, &mut out)
                .map(|()| out),
        )
    }

    fn signing_params<'a>(
        &self,
        req: &Request,
        input: &'a SignInput,
    ) -> Result<SignatureParams<'a>, SignError> {
        let key_id = input
            .key_id
            .as_deref()
            .ok_or_else(|| SignError::Invalid("an access key id is required".into()))?;
        // A payload hash the request already says (`UNSIGNED-PAYLOAD`, or
        // a hex hash any service's signer may send) is the signer's choice;
        // S3's signers otherwise write the body's.
        let said = req
            .headers()
            .get(&X_AMZ_CONTENT_SHA256)
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                *v == UNSIGNED_PAYLOAD
                    || (v.len() == 64 && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            });
        let body_hash = match said {
            Some(said) => Some(Cow::Owned(said.to_owned())),
            None => self
                .s3
                .then(|| Cow::Owned(base16ct::lower::encode_string(&body_sha256(req.body())))),
        };
        let signed_headers = match &input.signed_headers {
            Some(list) => list
                .iter()
                .map(|h| Cow::Owned(h.to_ascii_lowercase()))
                .collect(),
            None => canonical::default_signed_headers(req, body_hash.is_some()),
        };
        Ok(SignatureParams {
            key_id: Some(Cow::Borrowed(key_id)),
            algorithm: Algorithm::Sha256,
            timestamp: Cow::Borrowed(&input.timestamp),
            timestamp_value: form::parse_amz_date(&input.timestamp).unwrap_or(0),
            nonce: None,
            signed_headers,
            body_hash,
            tag: Default::default(),
            alternatives: Vec::new(),
            omitted: None,
            presigned_for: None,
            scope: input.scope.as_deref().map(Cow::Borrowed),
            parameters: Vec::new(),
        })
    }

    fn presign(
        &self,
        req: &Request,
        input: &SignInput,
        expires: u64,
        key: &Key,
    ) -> Option<Result<Request, SignError>> {
        Some(self.presigned_url(req, input, expires, key))
    }

    fn chunked(
        &self,
        req: &Request,
        input: &SignInput,
        plan: &chunked::ChunkPlan,
        key: &Key,
    ) -> Option<Result<Request, SignError>> {
        Some(self.chunked_upload(req, input, plan, key))
    }

    fn signature_headers(
        &self,
        params: &SignatureParams<'_>,
        encoded_tag: &str,
    ) -> Vec<(HeaderName, String)> {
        let mut headers = vec![(X_AMZ_DATE.clone(), params.timestamp.to_string())];
        if let Some(hash) = &params.body_hash {
            headers.push((X_AMZ_CONTENT_SHA256.clone(), hash.to_string()));
        }
        // `{ALGORITHM} Credential={key id}/{scope}, SignedHeaders={a;b},
        // Signature={tag}`, written piece by piece (on every request signed).
        let mut value: Vec<u8> = Vec::with_capacity(256);
        value.put(ALGORITHM.as_bytes());
        value.put(b" Credential=");
        value.put(params.key_id.as_deref().unwrap_or_default().as_bytes());
        value.put(b"/");
        self.write_scope(params, &mut value);
        value.put(b", SignedHeaders=");
        write_signed_headers(params, &mut value);
        value.put(b", Signature=");
        value.put(encoded_tag.as_bytes());
        let value = String::from_utf8(value).expect("written from text");
        headers.push((AUTHORIZATION, value));
        headers
    }
}

impl SigV4 {
    /// `req` as a chunked upload: its body sent in aws-chunked chunks as
    /// `plan` says, each signed, after the request's headers signed with
    /// the streaming payload hash (`content-encoding`,
    /// `x-amz-decoded-content-length` and the encoded `content-length`
    /// among them).
    pub fn chunked_upload(
        &self,
        req: &Request,
        input: &SignInput,
        plan: &chunked::ChunkPlan,
        key: &Key,
    ) -> Result<Request, SignError> {
        let data = req.body().clone();
        let mut upload = req.clone();
        let headers = upload.headers_mut();
        let decoded_length = plan.decoded_length.unwrap_or(data.len() as u64);
        let trailer = plan
            .trailer
            .as_ref()
            .map(|_| ("x-amz-trailer", chunked::CHECKSUM_SHA256.to_owned()));
        for (name, value) in [
            ("content-encoding", "aws-chunked".to_owned()),
            ("x-amz-decoded-content-length", decoded_length.to_string()),
            ("content-length", plan.encoded_len(data.len()).to_string()),
        ]
        .into_iter()
        .chain(trailer)
        {
            let value = value.parse().map_err(|_| SignError::Invalid(name.into()))?;
            headers.insert(http::HeaderName::from_static(name), value);
        }
        let mut params = self.signing_params(&upload, input)?;
        params.body_hash = Some(Cow::Borrowed(plan.payload_hash()));
        if input.signed_headers.is_none() {
            // The defaults, with the payload hash and the framing headers.
            params.signed_headers.extend(
                [
                    "x-amz-content-sha256",
                    "content-encoding",
                    "content-length",
                    "x-amz-decoded-content-length",
                ]
                .map(Cow::Borrowed),
            );
            params.signed_headers.sort_unstable();
            params.signed_headers.dedup();
        }
        let signing_key = self.signing_key(key, &params);
        let seed = signing_key.sign_streamed(params.algorithm, |out| {
            self.canonicalize(&upload, &params, out)
        })?;
        let seed = base16ct::lower::encode_string(seed.as_bytes());
        let body = chunked::encode(
            &signing_key,
            &params.timestamp,
            &self.scope(&params),
            &seed,
            &data,
            plan,
        );
        for (name, value) in self.signature_headers(&params, &seed) {
            let value = value
                .parse()
                .map_err(|_| SignError::Invalid(name.to_string()))?;
            upload.headers_mut().insert(name, value);
        }
        *upload.body_mut() = body.into();
        Ok(upload)
    }

    /// A presigned URL for `req`, valid `expires` seconds from
    /// `input.timestamp`: the request with the `X-Amz-*` parameters and the
    /// signature added to its query (its headers unchanged).
    pub fn presigned_url(
        &self,
        req: &Request,
        input: &SignInput,
        expires: u64,
        key: &Key,
    ) -> Result<Request, SignError> {
        let mut params = self.signing_params(req, input)?;
        params.signed_headers = match &input.signed_headers {
            Some(_) => params.signed_headers,
            None => vec![Cow::Borrowed("host")],
        };
        params.body_hash = None;
        params.presigned_for = Some(expires);
        let credential = format!(
            "{}/{}",
            params.key_id.as_deref().unwrap_or_default(),
            self.scope(&params)
        );
        let signed_headers = params.signed_headers.join(";");
        let added = form::presigned_query(&[
            ("X-Amz-Algorithm", ALGORITHM),
            ("X-Amz-Credential", &credential),
            ("X-Amz-Date", &params.timestamp),
            ("X-Amz-Expires", &expires.to_string()),
            ("X-Amz-SignedHeaders", &signed_headers),
        ]);
        let mut unsigned = req.clone();
        form::append_query(&mut unsigned, &added).map_err(SignError::Invalid)?;
        let tag = self
            .signing_key(key, &params)
            .sign_streamed(params.algorithm, |out| {
                self.canonicalize(&unsigned, &params, out)
            })?;
        let signature = format!(
            "{}={}",
            form::QUERY_SIGNATURE,
            base16ct::lower::encode_string(tag.as_bytes())
        );
        form::append_query(&mut unsigned, &signature).map_err(SignError::Invalid)?;
        Ok(unsigned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite_scheme() -> SigV4 {
        SigV4::new(&SchemeConfig {
            service: Some("service".into()),
            ..SchemeConfig::default()
        })
        .unwrap()
    }

    fn suite_key(scheme: &SigV4) -> Key {
        scheme
            .key(
                "AKIDEXAMPLE",
                &Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            )
            .unwrap()
    }

    fn get_vanilla() -> Request {
        http::Request::get("/")
            .header("host", "example.amazonaws.com")
            .body(bytes::Bytes::new())
            .unwrap()
    }

    // aws-c-auth tests/aws-signing-test-suite/v4/get-vanilla: both forms.
    #[test]
    fn get_vanilla_signs_as_published() {
        let scheme = suite_scheme();
        let key = suite_key(&scheme);
        let input = SignInput {
            key_id: Some("AKIDEXAMPLE".into()),
            timestamp: "20150830T123600Z".into(),
            ..SignInput::default()
        };
        let headers = scheme.sign(&get_vanilla(), &input, &key).unwrap();
        let authorization = &headers.last().unwrap().1;
        assert!(
            authorization.ends_with(
                "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            ),
            "{authorization}"
        );
        let presigned = scheme
            .presigned_url(&get_vanilla(), &input, 3600, &key)
            .unwrap();
        assert!(
            presigned.uri().query().unwrap().ends_with(
                "X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"
            ),
            "{}",
            presigned.uri()
        );
    }

    #[test]
    fn a_signed_request_verifies_and_its_time_is_checked() {
        let scheme = suite_scheme();
        let key = suite_key(&scheme);
        let input = SignInput {
            key_id: Some("AKIDEXAMPLE".into()),
            timestamp: "20150830T123600Z".into(),
            ..SignInput::default()
        };
        let mut req = get_vanilla();
        for (name, value) in scheme.sign(&req.clone(), &input, &key).unwrap() {
            req.headers_mut().insert(name, value.parse().unwrap());
        }
        let params = scheme.parse(&req).unwrap();
        assert_eq!(scheme.verify(&req, &params, &key), Ok(()));
        let signed_at = 1_440_938_160_000;
        assert_eq!(scheme.check_time(&params, signed_at + 900_000), Ok(()));
        assert_eq!(
            scheme.check_time(&params, signed_at + 901_000),
            Err(Rejection::Expired)
        );

        let presigned = scheme
            .presigned_url(&get_vanilla(), &input, 60, &key)
            .unwrap();
        let params = scheme.parse(&presigned).unwrap();
        assert_eq!(scheme.verify(&presigned, &params, &key), Ok(()));
        assert_eq!(scheme.check_time(&params, signed_at + 60_999), Ok(()));
        assert_eq!(
            scheme.check_time(&params, signed_at + 61_000),
            Err(Rejection::Expired)
        );
    }
}
