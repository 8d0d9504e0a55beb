//! `rfc9421`: HTTP Message Signatures (RFC 9421) with `hmac-sha256`.
//!
//! ```text
//! Signature-Input: sig1=("@method" "@authority" "@path" "content-digest");created=1618884473;keyid="k1"
//! Signature: sig1=:<base64 HMAC-SHA256>:
//! Content-Digest: sha-256=:<base64 SHA-256 of the body>:
//! ```
//!
//! The tag is the HMAC-SHA256 of the *signature base*: one line per
//! covered component, `"{identifier}": {value}` ([`components`]), then
//! `"@signature-params": ` and the covered list with its metadata
//! parameters. Both fields are RFC 8941 dictionaries keyed by the
//! signature's label ([`fields`]). What a verifier demands beyond the RFC
//! is its policy, set in [`SchemeConfig`]: the components to cover, the
//! metadata required, the label, the `tag`, the window. Rules:
//! `docs/rules/rfc9421.md`.

mod borrowed;
mod components;
pub mod digest;
mod fields;

use std::borrow::Cow;

use base64::Engine as _;
use http::HeaderName;

use super::{
    ConfigError, Field, Location, Scheme, SchemeConfig, SchemeId, SignError, SignInput,
    SignatureParams, configured_window,
};
use crate::Rejection;
use crate::crypto::{Algorithm, ByteSink, Tag, TagEncoding};
use crate::keys::{Key, Secret};
use crate::request::Request;
use crate::time::{TimeUnit, Window};

use components::Identifier;
pub use digest::CONTENT_DIGEST;
pub use fields::{SIGNATURE, SIGNATURE_INPUT};

/// The algorithm's registered name, for `alg`.
pub const ALG: &str = "hmac-sha256";
/// The label a signer writes unless configured otherwise.
pub const DEFAULT_LABEL: &str = "sig1";
/// The metadata parameters RFC 9421 defines, in the order a signer writes them.
pub const PARAMETERS: [&str; 6] = ["created", "expires", "nonce", "alg", "keyid", "tag"];

/// The `rfc9421` scheme with a verifier's policy.
#[derive(Debug)]
pub struct MessageSignatures {
    /// The signature checked (`None`: the first of `Signature-Input`).
    label: Option<String>,
    /// The components every signature must cover; `None`: `@method`,
    /// `@authority`, `@path`, and `content-digest` with a body.
    required_components: Option<Vec<Identifier<'static>>>,
    /// The metadata parameters every signature must carry (default
    /// `created` and `keyid`: a verifier with several keys needs the id).
    required_parameters: Vec<String>,
    /// The `tag` every signature must carry (and a signer writes).
    signature_tag: Option<String>,
    /// `@method`, `@authority`, `@path` and `content-digest`: the default
    /// policy's components (the last where there is a body), made once.
    default_required: [Identifier<'static>; 4],
    target_scheme: String,
    window: Window,
}

impl MessageSignatures {
    /// A signature may be 300 s old and 30 s ahead of the verifier's clock.
    pub const DEFAULT_WINDOW: Window = Window {
        unit: TimeUnit::Seconds,
        past: 300,
        future: 30,
    };

    /// Builds the scheme from `config`'s policy.
    pub fn new(config: &SchemeConfig) -> Result<Self, ConfigError> {
        let required_components = match &config.required_headers {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|c| Identifier::from_text(c))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| ConfigError::Invalid {
                        field: "required_headers",
                        reason: "a component identifier the RFC does not define for requests",
                    })?,
            ),
        };
        let required_parameters = config
            .required_parameters
            .clone()
            .unwrap_or_else(|| vec!["created".into(), "keyid".into()]);
        if required_parameters
            .iter()
            .any(|p| !PARAMETERS.contains(&p.as_str()))
        {
            return Err(ConfigError::Invalid {
                field: "required_parameters",
                reason: "one of created, expires, nonce, alg, keyid, tag",
            });
        }
        let target_scheme = config
            .target_scheme
            .clone()
            .unwrap_or_else(|| "https".into())
            .to_ascii_lowercase();
        Ok(MessageSignatures {
            label: config.label.clone(),
            required_components,
            required_parameters,
            signature_tag: config.signature_tag.clone(),
            default_required: ["@method", "@authority", "@path", "content-digest"]
                .map(Identifier::plain),
            target_scheme,
            window: configured_window(Self::DEFAULT_WINDOW, config),
        })
    }

    fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(DEFAULT_LABEL)
    }

    fn requires(&self, parameter: &str) -> bool {
        self.required_parameters.iter().any(|p| p == parameter)
    }

    /// The components `req` must have covered.
    fn required(&self, req: &Request) -> &[Identifier<'static>] {
        match &self.required_components {
            Some(list) => list,
            None if req.body().is_empty() => &self.default_required[..3],
            None => &self.default_required,
        }
    }

    /// The checks of the received signature's metadata and coverage
    /// against the policy (RFC 9421 section 3.2.1).
    fn check_policy(&self, req: &Request, received: &fields::Received) -> Result<(), Rejection> {
        let metadata = &received.metadata;
        for required in &self.required_parameters {
            if !metadata.list.iter().any(|(name, _)| name == required) {
                return Err(Rejection::MissingHeader(format!(
                    "the signature parameter {required}"
                )));
            }
        }
        if metadata.alg.as_deref().is_some_and(|alg| alg != ALG) {
            return Err(Rejection::UnsupportedAlgorithm);
        }
        if let Some(expected) = &self.signature_tag
            && metadata.tag.as_ref() != Some(expected)
        {
            return Err(Rejection::MalformedHeader {
                header: SIGNATURE_INPUT.as_str().into(),
                detail: "the signature's tag is not the application's",
            });
        }
        for required in self.required(req) {
            if !received.components.iter().any(|(_, id)| id == required) {
                return Err(Rejection::HeaderNotSigned(required.name.to_string()));
            }
        }
        Ok(())
    }

    /// The metadata parameters a signer writes for `input`, in order: the
    /// values of `created`, `nonce` and `keyid` left empty, as
    /// [`MessageSignatures::write_signature_params`] writes them from the
    /// signature's own fields.
    fn metadata_parameters(
        &self,
        input: &SignInput,
    ) -> Vec<(Cow<'static, str>, Cow<'static, str>)> {
        let mut parameters = Vec::new();
        let mut add = |name: &'static str, value: String| {
            parameters.push((Cow::Borrowed(name), Cow::Owned(value)));
        };
        add("created", String::new());
        if let Some(expires) = input.expires {
            add("expires", expires.to_string());
        }
        if input.nonce.is_some() {
            add("nonce", String::new());
        }
        match input.algorithm {
            None => {}
            Some(Algorithm::Sha256) => add("alg", format!("\"{ALG}\"")),
            // Another hash named (a name the RFC's registry does not hold):
            // a test signer's, which a verifier must refuse.
            Some(Algorithm::Sha512) => add("alg", "\"hmac-sha512\"".into()),
            Some(Algorithm::Sha1) => add("alg", "\"hmac-sha1\"".into()),
        }
        if input.key_id.is_some() {
            add("keyid", String::new());
        }
        if let Some(tag) = &self.signature_tag {
            let mut quoted = Vec::new();
            put_string(&mut quoted, tag);
            add("tag", String::from_utf8(quoted).expect("quoted UTF-8"));
        }
        parameters
    }

    /// Writes the `@signature-params` value: the covered components and the
    /// metadata parameters, those the parameters carry as values written
    /// from them (so a signer's changed timestamp or nonce is what is
    /// signed), any the signer left out ([`SignatureParams::omitted`]) not
    /// at all.
    fn write_signature_params(&self, params: &SignatureParams<'_>, out: &mut dyn ByteSink) {
        out.put(b"(");
        for (i, id) in params.signed_headers.iter().enumerate() {
            if i > 0 {
                out.put(b" ");
            }
            out.put(id.as_bytes());
        }
        out.put(b")");
        for (name, value) in &params.parameters {
            let field = match name.as_ref() {
                "created" => Some(Field::Timestamp),
                "nonce" => Some(Field::Nonce),
                "keyid" => Some(Field::KeyId),
                _ => None,
            };
            if field.as_ref().is_some_and(|f| params.omits(f)) {
                continue;
            }
            out.put(b";");
            out.put(name.as_bytes());
            out.put(b"=");
            match name.as_ref() {
                "created" => out.put(params.timestamp.as_bytes()),
                "nonce" => put_string(out, params.nonce.as_deref().unwrap_or_default()),
                "keyid" => put_string(out, params.key_id.as_deref().unwrap_or_default()),
                _ => out.put(value.as_bytes()),
            }
        }
    }
}

/// Writes `text` as a structured-field string: quoted, `"` and `\` escaped.
fn put_string(out: &mut dyn ByteSink, text: &str) {
    out.put(b"\"");
    for piece in text.split_inclusive(['"', '\\']) {
        match piece.as_bytes().split_last() {
            Some((&last, rest)) if last == b'"' || last == b'\\' => {
                out.put(rest);
                out.put(&[b'\\', last]);
            }
            _ => out.put(piece.as_bytes()),
        }
    }
    out.put(b"\"");
}

/// A signer's component identifier as it is serialized: a bare name quoted.
/// Parameters a verifier must refuse are the signer's to write.
fn serialized_identifier(text: &str) -> Result<String, SignError> {
    let id = Identifier::lenient(text)
        .map_err(|e| SignError::Invalid(format!("component `{text}`: {e}")))?;
    Ok(if text.starts_with('"') {
        text.to_owned()
    } else {
        format!("\"{}\"", id.name)
    })
}

impl Scheme for MessageSignatures {
    fn name(&self) -> &str {
        SchemeId::Rfc9421.as_str()
    }

    fn rule(&self) -> &str {
        crate::rules::text("rfc9421.signed-string")
    }

    fn location(&self, field: &Field) -> Option<Location> {
        let param = |name: &str| Location::Member {
            header: SIGNATURE_INPUT,
            key: self.label().to_owned(),
            param: Some(name.to_owned()),
        };
        match field {
            Field::KeyId => Some(param("keyid")),
            Field::Timestamp => Some(param("created")),
            // Optional metadata is a field of the scheme only where the
            // policy requires it: elsewhere leaving it out is correct.
            Field::Nonce => self.requires("nonce").then(|| param("nonce")),
            Field::Algorithm => self.requires("alg").then(|| param("alg")),
            Field::Tag => Some(Location::Member {
                header: SIGNATURE,
                key: self.label().to_owned(),
                param: None,
            }),
            Field::SignedHeaders => Some(Location::Member {
                header: SIGNATURE_INPUT,
                key: self.label().to_owned(),
                param: None,
            }),
            Field::BodyHash => Some(Location::Header(CONTENT_DIGEST)),
            Field::Header(_) => None,
        }
    }

    fn replay(&self) -> super::ReplayRule {
        if self.requires("nonce") {
            super::ReplayRule::Enforced
        } else {
            super::ReplayRule::Advised
        }
    }

    fn prepare(&self, req: &mut Request, signed_body: &[u8]) {
        if !signed_body.is_empty() && !req.headers().contains_key(CONTENT_DIGEST) {
            let hash = crate::crypto::sha256_of(signed_body, req.body());
            let value = digest::written(&hash)
                .parse()
                .expect("base64 is a header value");
            req.headers_mut().insert(CONTENT_DIGEST, value);
        }
    }

    fn window(&self) -> Window {
        self.window
    }

    fn check_time(&self, params: &SignatureParams<'_>, now_ms: u64) -> Result<(), Rejection> {
        let parameter = |name: &str| {
            params
                .parameters
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
        };
        // `created` is optional: its absence is the policy's to refuse.
        if parameter("created").is_some() {
            self.window.check(params.timestamp_value, now_ms)?;
        }
        match parameter("expires").and_then(|v| v.parse::<u64>().ok()) {
            Some(expires) if TimeUnit::Seconds.to_ms(expires) < now_ms => Err(Rejection::Expired),
            _ => Ok(()),
        }
    }

    fn tag_encoding(&self) -> TagEncoding {
        TagEncoding::Base64
    }

    /// The tag, and the `sha-256` digest of `Content-Digest`: byte
    /// sequences, whose base64 is between the colons.
    fn encoded(&self, field: &Field) -> Option<(Location, TagEncoding)> {
        let at = match field {
            Field::Tag => self.location(field)?,
            Field::BodyHash => Location::Member {
                header: CONTENT_DIGEST,
                key: "sha-256".into(),
                param: None,
            },
            _ => return None,
        };
        Some((at, TagEncoding::Base64))
    }

    fn key(&self, id: &str, secret: &Secret) -> Result<Key, ConfigError> {
        // RFC 9421's shared secrets are bytes, given in base64 (appendix B.1.5).
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(secret.expose())
            .map_err(|_| ConfigError::Secret(id.to_owned()))?;
        Ok(Key::from_bytes(id, &bytes))
    }

    fn parse<'r>(&self, req: &'r Request) -> Result<SignatureParams<'r>, Rejection> {
        let received = fields::read(req, self.label.as_deref())?;
        self.check_policy(req, &received)?;
        digest::check(req)?;
        let tag = Tag::from_slice(&received.signature).ok_or(Rejection::MalformedSignature)?;
        let metadata = received.metadata;
        let created = metadata.created;
        Ok(SignatureParams {
            key_id: metadata.keyid.map(Cow::Owned),
            algorithm: Algorithm::Sha256,
            timestamp: Cow::Owned(created.map(|c| c.to_string()).unwrap_or_default()),
            timestamp_value: created.unwrap_or(0),
            nonce: metadata.nonce.map(Cow::Owned),
            signed_headers: received
                .components
                .into_iter()
                .map(|(serialized, _)| Cow::Owned(serialized))
                .collect(),
            body_hash: None,
            tag,
            alternatives: Vec::new(),
            omitted: None,
            presigned_for: None,
            scope: None,
            parameters: metadata
                .list
                .into_iter()
                .map(|(n, v)| (Cow::Owned(n), Cow::Owned(v)))
                .collect(),
        })
    }

    fn canonicalize(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn ByteSink,
    ) -> Result<(), Rejection> {
        for serialized in &params.signed_headers {
            let id = Identifier::lenient(serialized)?;
            let omitted = matches!(&params.omitted, Some(Field::Header(name)) if *name == id.name);
            if omitted && !req.headers().contains_key(id.name.as_ref()) {
                // A verifier that signs a covered but absent field by
                // leaving its line out (never a correct signature).
                continue;
            }
            components::write_line(req, serialized, &id, &self.target_scheme, out)?;
        }
        out.put(b"\"@signature-params\": ");
        self.write_signature_params(params, out);
        Ok(())
    }

    fn signing_params<'a>(
        &self,
        req: &Request,
        input: &'a SignInput,
    ) -> Result<SignatureParams<'a>, SignError> {
        let signed_headers = match &input.signed_headers {
            Some(list) => list
                .iter()
                .map(|c| serialized_identifier(c).map(Cow::Owned))
                .collect::<Result<Vec<_>, _>>()?,
            None => self.default_components(req),
        };
        Ok(SignatureParams {
            key_id: input.key_id.as_deref().map(Cow::Borrowed),
            algorithm: Algorithm::Sha256,
            timestamp: Cow::Borrowed(&input.timestamp),
            timestamp_value: crate::time::parse_timestamp(&input.timestamp).unwrap_or(0),
            nonce: input.nonce.as_deref().map(Cow::Borrowed),
            signed_headers,
            // The Content-Digest a signer writes (`prepare`), for tools that
            // stand in for a missing one.
            body_hash: (!req.body().is_empty()).then(|| {
                Cow::Owned(
                    req.headers()
                        .get(CONTENT_DIGEST)
                        .and_then(|v| v.to_str().ok())
                        .map_or_else(|| digest::content_digest(req.body()), str::to_owned),
                )
            }),
            tag: Tag::default(),
            alternatives: Vec::new(),
            omitted: None,
            presigned_for: None,
            scope: None,
            parameters: self.metadata_parameters(input),
        })
    }

    /// Signs `req` as a signer of RFC 9421 does: its body's digest added
    /// (where it has a body and no `Content-Digest`) and covered.
    fn sign(
        &self,
        req: &Request,
        input: &SignInput,
        key: &Key,
    ) -> Result<Vec<(HeaderName, String)>, SignError> {
        let mut prepared = req.clone();
        self.prepare(&mut prepared, req.body());
        let params = self.signing_params(&prepared, input)?;
        let tag = self
            .signing_key(key, &params)
            .sign_streamed(params.algorithm, |out| {
                self.canonicalize(&prepared, &params, out)
            })?;
        let mut headers =
            self.signature_headers(&params, &self.tag_encoding().encode(tag.as_bytes()));
        if !req.headers().contains_key(CONTENT_DIGEST)
            && let Some(digest) = prepared.headers().get(CONTENT_DIGEST)
            && let Ok(digest) = digest.to_str()
        {
            headers.push((CONTENT_DIGEST, digest.to_owned()));
        }
        Ok(headers)
    }

    fn signature_headers(
        &self,
        params: &SignatureParams<'_>,
        encoded_tag: &str,
    ) -> Vec<(HeaderName, String)> {
        let label = self.label();
        let mut input = Vec::with_capacity(256);
        input.put(label.as_bytes());
        input.put(b"=");
        self.write_signature_params(params, &mut input);
        let input = String::from_utf8(input)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let mut signature = String::with_capacity(label.len() + encoded_tag.len() + 3);
        for piece in [label, "=:", encoded_tag, ":"] {
            signature.push_str(piece);
        }
        vec![(SIGNATURE_INPUT, input), (SIGNATURE, signature)]
    }
}

impl MessageSignatures {
    /// What a signer covers unless told otherwise: the method, authority,
    /// path, the query where there is one, the body's digest and type where
    /// there is a body, and whatever else the policy requires.
    fn default_components<'a>(&self, req: &Request) -> Vec<Cow<'a, str>> {
        let mut names: Vec<String> = ["@method", "@authority", "@path"]
            .map(fields::quoted)
            .to_vec();
        if req.uri().query().is_some() {
            names.push(fields::quoted("@query"));
        }
        for header in [CONTENT_DIGEST, http::header::CONTENT_TYPE] {
            if req.headers().contains_key(&header) {
                names.push(fields::quoted(header.as_str()));
            }
        }
        for required in self.required(req) {
            let text = fields::quoted(&required.name);
            // A field the request does not carry is not covered: the
            // verifier then refuses the signature for what it lacks.
            let absent = !required.name.starts_with('@')
                && !req.headers().contains_key(required.name.as_ref());
            if !absent
                && required.query_name.is_none()
                && required.key.is_none()
                && !required.sf
                && !required.bs
                && !names.contains(&text)
            {
                names.push(text);
            }
        }
        names.into_iter().map(Cow::Owned).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9421 appendix B.2's test request.
    fn test_request() -> Request {
        http::Request::builder()
            .method("POST")
            .uri("/foo?param=Value&Pet=dog")
            .header("host", "example.com")
            .header("date", "Tue, 20 Apr 2021 02:07:55 GMT")
            .header("content-type", "application/json")
            .header("content-digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:")
            .header("content-length", "18")
            .body(bytes::Bytes::from_static(br#"{"hello": "world"}"#))
            .unwrap()
    }

    fn permissive() -> MessageSignatures {
        MessageSignatures::new(&SchemeConfig {
            required_headers: Some(Vec::new()),
            required_parameters: Some(Vec::new()),
            ..SchemeConfig::default()
        })
        .unwrap()
    }

    fn base(scheme: &MessageSignatures, req: &Request) -> String {
        let params = scheme.parse(req).unwrap();
        let mut out = Vec::new();
        scheme.canonicalize(req, &params, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_rfcs_hmac_sha256_example_verifies() {
        // RFC 9421 appendix B.2.5.
        let mut req = test_request();
        req.headers_mut().insert(
            SIGNATURE_INPUT,
            r#"sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#.parse().unwrap(),
        );
        req.headers_mut().insert(
            SIGNATURE,
            "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:"
                .parse()
                .unwrap(),
        );
        let scheme = permissive();
        assert_eq!(
            base(&scheme, &req),
            "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@authority\": example.com\n\"content-type\": application/json\n\"@signature-params\": (\"date\" \"@authority\" \"content-type\");created=1618884473;keyid=\"test-shared-secret\""
        );
        let secret = Secret::new(
            "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==",
        );
        let key = scheme.key("test-shared-secret", &secret).unwrap();
        let params = scheme.parse(&req).unwrap();
        assert_eq!(scheme.verify(&req, &params, &key), Ok(()));
        // The default policy wants @method and @path covered.
        let strict = MessageSignatures::new(&SchemeConfig::default()).unwrap();
        assert_eq!(
            strict.parse(&req).err(),
            Some(Rejection::HeaderNotSigned("@method".into()))
        );
    }

    #[test]
    fn signing_writes_what_verifying_reads() {
        let scheme = MessageSignatures::new(&SchemeConfig::default()).unwrap();
        let mut req = test_request();
        req.headers_mut().remove(CONTENT_DIGEST);
        let body = req.body().clone();
        scheme.prepare(&mut req, &body);
        let input = SignInput {
            key_id: Some("k1".into()),
            timestamp: "1618884473".into(),
            nonce: Some("n\"1".into()),
            ..SignInput::default()
        };
        let key = Key::from_bytes("k1", b"secret");
        for (name, value) in scheme.sign(&req, &input, &key).unwrap() {
            req.headers_mut().insert(name, value.parse().unwrap());
        }
        let params = scheme.parse(&req).unwrap();
        assert_eq!(params.nonce.as_deref(), Some("n\"1"));
        assert_eq!(scheme.verify(&req, &params, &key), Ok(()));
        assert_eq!(scheme.check_time(&params, 1_618_884_473_000), Ok(()));
        *req.body_mut() = bytes::Bytes::from_static(b"{}");
        assert_eq!(scheme.parse(&req).err(), Some(Rejection::BodyHashMismatch));
    }
}
