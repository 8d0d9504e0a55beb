//! The profile engine: one [`Scheme`] for every [profile](crate::profile).
//!
//! Reading a request: the signature header (bare, after a prefix, as a
//! list's items or as parts), the timestamp, key id, nonce and body hash
//! where the profile puts them, each header once and printable; then the
//! same checks every hand-written scheme makes (a plain decimal timestamp,
//! strictly encoded tags, a body hash equal to the body's). Signing:
//! rendering the profile's template over the request, streamed into the
//! MAC. Several tags (a list with repeated tag items) verify when any of
//! them matches.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine as _;
use http::HeaderName;

use super::template::{Piece, Placeholder, Template};
use super::{BodyHashWhen, DeliveryKind, Encoding, PartField, Profile, SecretDecoding, Unit};
use crate::Rejection;
use crate::canonical_json::canonicalize_body;
use crate::crypto::{Algorithm, ByteSink, Tag, TagEncoding, sha256};
use crate::keys::{Key, Secret};
use crate::request::{Request, single_headers_into};
use crate::scheme::{
    ConfigError, Delivery, Field, Location, ReplayRule, Scheme, SchemeConfig, SignError, SignInput,
    SignatureParams, basic_signing_params, put_uppercase,
};
use crate::time::{TimeUnit, Window};

/// How the tag sits in the signature header.
#[derive(Debug, Clone)]
enum Format {
    Bare,
    Prefix(String),
    List {
        separator: char,
        assign: char,
        tag: String,
        timestamp: Option<String>,
    },
    Parts {
        separator: char,
        fields: Vec<PartField>,
    },
}

/// Where a body hash is carried.
#[derive(Debug, Clone)]
enum HashAt {
    Header(HeaderName),
    Query(String),
}

/// A profile, ready to verify and sign.
#[derive(Debug, Clone)]
pub struct ProfileScheme {
    profile: Arc<Profile>,
    template: Template,
    rule: String,
    window: Window,
    algorithm: Algorithm,
    encoding: TagEncoding,
    signature: HeaderName,
    format: Format,
    /// The timestamp's header (`None`: in the signature, or no timestamp).
    timestamp_header: Option<HeaderName>,
    has_timestamp: bool,
    key_id: Option<HeaderName>,
    nonce: Option<HeaderName>,
    body_hash: Option<(HashAt, TagEncoding, BodyHashWhen)>,
    endpoint: Option<String>,
}

/// The headers a request's signature is read from, in a fixed order.
const SIGNATURE: usize = 0;
const TIMESTAMP: usize = 1;
const KEY_ID: usize = 2;
const NONCE: usize = 3;
const BODY_HASH: usize = 4;

fn encoding(e: Encoding) -> TagEncoding {
    match e {
        Encoding::Hex => TagEncoding::LowerHex,
        Encoding::Base64 => TagEncoding::Base64,
    }
}

impl ProfileScheme {
    /// Builds `profile` with `config`'s deployment settings over its
    /// defaults: windows, header names (`signature_header`,
    /// `timestamp_header`, `header_prefix`), the hash (`algorithm`) and the
    /// endpoint string.
    pub fn new(profile: Arc<Profile>, config: &SchemeConfig) -> Result<Self, ConfigError> {
        let prefix = config
            .header_prefix
            .as_deref()
            .or(profile.header_prefix.as_deref())
            .unwrap_or("");
        let name = |text: &str| crate::scheme::header_name(&text.replace("{prefix}", prefix));
        let template = profile.template();
        let unit = match profile.timestamp.as_ref().map(|t| t.unit) {
            Some(Unit::Milliseconds) => TimeUnit::Milliseconds,
            _ => TimeUnit::Seconds,
        };
        let window = Window {
            unit,
            past: config.tolerance_past.unwrap_or_else(|| {
                profile
                    .timestamp
                    .as_ref()
                    .map_or(u64::MAX, |t| t.past.amount())
            }),
            future: config.tolerance_future.unwrap_or_else(|| {
                profile
                    .timestamp
                    .as_ref()
                    .map_or(u64::MAX, |t| t.future.amount())
            }),
        };
        let format = match (
            &profile.signature.prefix,
            &profile.signature.list,
            &profile.signature.parts,
        ) {
            (Some(p), _, _) => Format::Prefix(p.clone()),
            (_, Some(l), _) => Format::List {
                separator: l.separator,
                assign: l.assign,
                tag: l.tag.clone(),
                timestamp: l.timestamp.clone(),
            },
            (_, _, Some(p)) => Format::Parts {
                separator: p.separator,
                fields: p.fields.clone(),
            },
            _ => Format::Bare,
        };
        let timestamp_header = match profile.timestamp.as_ref().and_then(|t| t.header.as_ref()) {
            Some(h) => Some(name(config.timestamp_header.as_deref().unwrap_or(h))?),
            None => None,
        };
        let body_hash = match &profile.body_hash {
            Some(spec) => Some((
                match (&spec.header, &spec.query) {
                    (Some(h), _) => HashAt::Header(name(h)?),
                    (None, Some(q)) => HashAt::Query(q.clone()),
                    (None, None) => unreachable!("validated when loaded"),
                },
                encoding(spec.encoding),
                spec.when,
            )),
            None => None,
        };
        let endpoint = config.endpoint.clone().or_else(|| profile.endpoint.clone());
        let uses_endpoint =
            template.uses(&Placeholder::Endpoint) || template.uses(&Placeholder::Url);
        if uses_endpoint && endpoint.is_none() {
            return Err(ConfigError::MissingEndpoint);
        }
        Ok(ProfileScheme {
            rule: format!("{} The signed string: `{template}`.", profile.description),
            template,
            window,
            algorithm: config.algorithm.unwrap_or(profile.hash),
            encoding: encoding(profile.encoding),
            signature: name(
                config
                    .signature_header
                    .as_deref()
                    .unwrap_or(&profile.signature.header),
            )?,
            format,
            timestamp_header,
            has_timestamp: profile.timestamp.is_some(),
            key_id: profile
                .key_id
                .as_ref()
                .map(|k| name(&k.header))
                .transpose()?,
            nonce: profile
                .nonce
                .as_ref()
                .map(|n| name(&n.header))
                .transpose()?,
            body_hash,
            endpoint,
            profile,
        })
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    fn part_index(&self, field: PartField) -> Option<usize> {
        match &self.format {
            Format::Parts { fields, .. } => fields.iter().position(|f| *f == field),
            _ => None,
        }
    }

    fn malformed(&self, detail: &'static str) -> Rejection {
        Rejection::MalformedHeader {
            header: self.signature.as_str().to_owned(),
            detail,
        }
    }

    /// The tag(s), timestamp and key id read out of the signature header.
    fn read_signature<'r>(&self, value: &'r str) -> Result<Read<'r>, Rejection> {
        let mut read = Read::default();
        match &self.format {
            Format::Bare => read.tags.push(value),
            Format::Prefix(prefix) => read.tags.push(
                value
                    .strip_prefix(prefix.as_str())
                    .ok_or_else(|| self.malformed("the tag's prefix is missing"))?,
            ),
            Format::List {
                separator,
                assign,
                tag,
                timestamp,
            } => {
                for (key, item) in crate::scheme::location::items(value, *separator, *assign) {
                    if key == tag {
                        read.tags.push(item);
                    } else if timestamp.as_deref() == Some(key)
                        && read.timestamp.replace(item).is_some()
                    {
                        return Err(Rejection::DuplicateHeader(format!(
                            "{} item {key}",
                            self.signature
                        )));
                    }
                }
                if read.tags.is_empty() {
                    return Err(Rejection::MissingHeader(format!(
                        "{} item {tag}",
                        self.signature
                    )));
                }
            }
            Format::Parts { separator, fields } => {
                let mut parts = value.split(*separator);
                for field in fields {
                    let part = parts
                        .next()
                        .ok_or_else(|| self.malformed("too few parts"))?;
                    match field {
                        PartField::KeyId => read.key_id = Some(part),
                        PartField::Timestamp => read.timestamp = Some(part),
                        PartField::Tag => read.tags.push(part),
                    }
                }
                if parts.next().is_some() {
                    return Err(self.malformed("too many parts"));
                }
            }
        }
        Ok(read)
    }

    /// The body hash a request should carry, written as the profile says.
    fn body_hash_of(&self, body: &[u8]) -> Option<String> {
        let (_, encoding, when) = self.body_hash.as_ref()?;
        (*when == BodyHashWhen::Always || !body.is_empty()).then(|| encoding.encode(&sha256(body)))
    }

    /// Checks the body hash a request carries against its body.
    fn check_body_hash<'r>(
        &self,
        req: &'r Request,
        header: Option<&'r str>,
    ) -> Result<Option<&'r str>, Rejection> {
        let Some((at, encoding, when)) = &self.body_hash else {
            return Ok(None);
        };
        let (claimed, name) = match at {
            HashAt::Header(h) => (header, h.as_str()),
            HashAt::Query(q) => (crate::scheme::location::query_value(req, q), q.as_str()),
        };
        let expected = *when == BodyHashWhen::Always || !req.body().is_empty();
        match (expected, claimed) {
            (false, None) => Ok(None),
            (true, None) => Err(Rejection::MissingHeader(name.to_owned())),
            (false, Some(_)) => Err(Rejection::MalformedHeader {
                header: name.to_owned(),
                detail: "present on a request without a body",
            }),
            (true, Some(claimed)) => {
                let decoded =
                    encoding
                        .decode_tag(claimed)
                        .map_err(|_| Rejection::MalformedHeader {
                            header: name.to_owned(),
                            detail: "not in the body hash's encoding",
                        })?;
                if decoded.as_bytes() != sha256(req.body()) {
                    return Err(Rejection::BodyHashMismatch);
                }
                Ok(Some(claimed))
            }
        }
    }

    /// Writes the pieces of the template.
    fn render(
        &self,
        pieces: &[Piece],
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn ByteSink,
    ) -> Result<(), Rejection> {
        // A field the signer left out takes the literal before it along
        // (or, first in the template, the one after it).
        let omitted = |piece: &Piece| {
            matches!(
                (piece, &params.omitted),
                (Piece::Part(Placeholder::Timestamp), Some(Field::Timestamp))
                    | (Piece::Part(Placeholder::Nonce), Some(Field::Nonce))
                    | (Piece::Part(Placeholder::BodyHash), Some(Field::BodyHash))
            )
        };
        let gone = pieces.iter().position(omitted);
        let literal = |i: usize| matches!(pieces.get(i), Some(Piece::Literal(_)));
        let with_it = gone.and_then(|i| match i {
            0 => literal(1).then_some(1),
            i => literal(i - 1).then_some(i - 1),
        });
        for (i, piece) in pieces.iter().enumerate() {
            if Some(i) == gone || Some(i) == with_it {
                continue;
            }
            match piece {
                Piece::Literal(bytes) => out.put(bytes),
                Piece::WhenBody(inner) => {
                    if !req.body().is_empty() {
                        self.render(inner, req, params, out)?;
                    }
                }
                Piece::Part(part) => self.put_part(part, req, params, out)?,
            }
        }
        Ok(())
    }

    fn put_part(
        &self,
        part: &Placeholder,
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn ByteSink,
    ) -> Result<(), Rejection> {
        match part {
            Placeholder::Body => out.put(req.body()),
            Placeholder::BodyJson => canonicalize_body(req.body(), out)?,
            Placeholder::Timestamp => out.put(params.timestamp.as_bytes()),
            Placeholder::Nonce => out.put(params.nonce.as_deref().unwrap_or_default().as_bytes()),
            Placeholder::Method => put_uppercase(out, req.method().as_str()),
            Placeholder::Path => out.put(req.uri().path().as_bytes()),
            Placeholder::Endpoint => {
                out.put(self.endpoint.as_deref().unwrap_or_default().as_bytes())
            }
            Placeholder::Url => {
                out.put(origin(self.endpoint.as_deref().unwrap_or_default()).as_bytes());
                out.put(req.uri().path().as_bytes());
                if let Some(query) = req.uri().query() {
                    out.put(b"?");
                    out.put(query.as_bytes());
                }
            }
            Placeholder::BodyHash => {
                out.put(params.body_hash.as_deref().unwrap_or_default().as_bytes())
            }
            Placeholder::Form => {
                let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> =
                    form_urlencoded::parse(req.body()).collect();
                pairs.sort_unstable();
                for (name, value) in pairs {
                    out.put(name.as_bytes());
                    out.put(value.as_bytes());
                }
            }
            Placeholder::Header(name) => {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| self.malformed("a signed header's name"))?;
                if let Some(value) = crate::request::single_header(req, &name)? {
                    out.put(value.as_bytes());
                }
            }
        }
        Ok(())
    }
}

/// The scheme and authority of `url` (`https://example.com:8443`), without
/// its path: `{url}` puts the request's own path and query after it, so the
/// endpoint may be configured as the target's URL.
fn origin(url: &str) -> &str {
    let authority = url.find("://").map_or(0, |i| i + 3);
    match url[authority..].find('/') {
        Some(path) => &url[..authority + path],
        None => url,
    }
}

/// What the signature header says.
#[derive(Default)]
struct Read<'r> {
    tags: Tags<'r>,
    timestamp: Option<&'r str>,
    key_id: Option<&'r str>,
}

/// The tags a signature header carries, in order. Almost every request
/// carries one, so the first is kept inline and only rotation allocates.
#[derive(Default)]
struct Tags<'r> {
    first: Option<&'r str>,
    more: Vec<&'r str>,
}

impl<'r> Tags<'r> {
    fn push(&mut self, tag: &'r str) {
        match self.first {
            None => self.first = Some(tag),
            Some(_) => self.more.push(tag),
        }
    }

    fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    fn iter(&self) -> impl Iterator<Item = &'r str> + '_ {
        self.first.into_iter().chain(self.more.iter().copied())
    }
}

impl Scheme for ProfileScheme {
    fn name(&self) -> &str {
        &self.profile.name
    }

    fn delivery(&self) -> Delivery {
        match self.profile.delivery {
            DeliveryKind::Api => Delivery::Api,
            DeliveryKind::Endpoint => Delivery::Endpoint {
                methods: self.profile.methods.clone(),
            },
        }
    }

    fn location(&self, field: &Field) -> Option<Location> {
        let header = |h: &HeaderName| Some(Location::Header(h.clone()));
        let part = |f: PartField| {
            let index = self.part_index(f)?;
            let Format::Parts { separator, .. } = &self.format else {
                return None;
            };
            Some(Location::Part {
                header: self.signature.clone(),
                separator: *separator,
                index,
            })
        };
        match field {
            Field::Tag => match &self.format {
                Format::Bare => header(&self.signature),
                Format::Prefix(prefix) => Some(Location::Prefixed {
                    header: self.signature.clone(),
                    prefix: prefix.clone(),
                }),
                Format::List {
                    separator,
                    assign,
                    tag,
                    ..
                } => Some(Location::Item {
                    header: self.signature.clone(),
                    separator: *separator,
                    assign: *assign,
                    key: tag.clone(),
                }),
                Format::Parts { .. } => part(PartField::Tag),
            },
            Field::Timestamp if !self.has_timestamp => None,
            Field::Timestamp => match (&self.timestamp_header, &self.format) {
                (Some(h), _) => header(h),
                (
                    None,
                    Format::List {
                        separator,
                        assign,
                        timestamp: Some(key),
                        ..
                    },
                ) => Some(Location::Item {
                    header: self.signature.clone(),
                    separator: *separator,
                    assign: *assign,
                    key: key.clone(),
                }),
                (None, _) => part(PartField::Timestamp),
            },
            Field::KeyId => match &self.key_id {
                Some(h) => header(h),
                None => part(PartField::KeyId),
            },
            Field::Nonce => self.nonce.as_ref().and_then(header),
            Field::BodyHash => match &self.body_hash {
                Some((HashAt::Header(h), ..)) => header(h),
                Some((HashAt::Query(q), ..)) => Some(Location::Query(q.clone())),
                None => None,
            },
            Field::Algorithm | Field::SignedHeaders | Field::Header(_) => None,
        }
    }

    fn rule(&self) -> &str {
        &self.rule
    }

    fn replay(&self) -> ReplayRule {
        self.profile
            .nonce
            .as_ref()
            .map_or(ReplayRule::Enforced, |n| n.replay)
    }

    fn sender(&self) -> crate::scheme::Sender {
        self.profile.sender.clone()
    }

    fn prepare(&self, req: &mut Request, signed_body: &[u8]) {
        if let Some((HashAt::Query(name), ..)) = &self.body_hash
            && let Some(hash) = self.body_hash_of(signed_body)
        {
            let _ = Location::Query(name.clone()).write(req, hash.as_bytes());
        }
    }

    fn window(&self) -> Window {
        self.window
    }

    fn tag_encoding(&self) -> TagEncoding {
        self.encoding
    }

    fn encoded(&self, field: &Field) -> Option<(Location, TagEncoding)> {
        let encoding = match field {
            Field::Tag => self.encoding,
            Field::BodyHash => self.body_hash.as_ref()?.1,
            _ => return None,
        };
        Some((self.location(field)?, encoding))
    }

    fn parse<'r>(&self, req: &'r Request) -> Result<SignatureParams<'r>, Rejection> {
        let body_hash_header = match &self.body_hash {
            Some((HashAt::Header(h), ..)) => Some(h),
            _ => None,
        };
        // Each header once, printable, in one pass.
        let names = [
            Some(&self.signature),
            self.timestamp_header.as_ref(),
            self.key_id.as_ref(),
            self.nonce.as_ref(),
            body_hash_header,
        ];
        let mut present = [&self.signature; 5];
        let mut count = 0;
        for name in names.iter().flatten() {
            present[count] = name;
            count += 1;
        }
        let mut found = [None; 5];
        single_headers_into(req, &present[..count], &mut found)?;
        let mut values: [Option<&'r str>; 5] = [None; 5];
        let mut next = found.into_iter();
        for (slot, name) in values.iter_mut().zip(names) {
            if name.is_some() {
                *slot = next.next().flatten();
            }
        }
        let missing = |name: &HeaderName| Rejection::MissingHeader(name.as_str().to_owned());
        let empty = |name: &HeaderName| Rejection::MalformedHeader {
            header: name.as_str().to_owned(),
            detail: "empty value",
        };
        let key_id = match &self.key_id {
            Some(h) => Some(values[KEY_ID].ok_or_else(|| missing(h))?),
            None => None,
        };
        if let (Some(h), Some("")) = (&self.key_id, key_id) {
            return Err(empty(h));
        }
        let signature = values[SIGNATURE].ok_or_else(|| missing(&self.signature))?;
        let timestamp = match &self.timestamp_header {
            Some(h) => Some(values[TIMESTAMP].ok_or_else(|| missing(h))?),
            None => None,
        };
        let nonce = match &self.nonce {
            Some(h) => {
                let nonce = values[NONCE].ok_or_else(|| missing(h))?;
                if nonce.is_empty() {
                    return Err(empty(h));
                }
                Some(nonce)
            }
            None => None,
        };
        let read = self.read_signature(signature)?;
        let key_id = key_id.or(read.key_id);
        if self.part_index(PartField::KeyId).is_some() && key_id == Some("") {
            return Err(self.malformed("empty key id"));
        }
        let timestamp = match timestamp.or(read.timestamp) {
            Some(t) => t,
            None if self.has_timestamp => {
                return Err(Rejection::MissingHeader(format!(
                    "{} timestamp",
                    self.signature
                )));
            }
            None => "",
        };
        let timestamp_value = if self.has_timestamp {
            crate::time::parse_timestamp(timestamp)?
        } else {
            0
        };
        // Strictly decoded; where several tags are carried, the ones that
        // do not decode cannot match, and are left out.
        let mut tags = read.tags.iter().map(|t| {
            self.encoding
                .decode_tag(t)
                .map_err(|_| Rejection::MalformedSignature)
        });
        let tag = match tags.next() {
            Some(first) => first,
            None => return Err(missing(&self.signature)),
        };
        let mut alternatives: Vec<Tag> = tags.filter_map(Result::ok).collect();
        let tag = match tag {
            Ok(tag) => tag,
            Err(e) if alternatives.is_empty() => return Err(e),
            Err(_) => alternatives.remove(0),
        };
        let body_hash = self.check_body_hash(req, values[BODY_HASH])?;
        Ok(SignatureParams {
            key_id: key_id.map(Cow::Borrowed),
            algorithm: self.algorithm,
            timestamp: Cow::Borrowed(timestamp),
            timestamp_value,
            nonce: nonce.map(Cow::Borrowed),
            signed_headers: Vec::new(),
            body_hash: body_hash.map(Cow::Borrowed),
            tag,
            alternatives,
            omitted: None,
            presigned_for: None,
            scope: None,
            parameters: Vec::new(),
        })
    }

    fn canonicalize(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn ByteSink,
    ) -> Result<(), Rejection> {
        self.render(self.template.pieces(), req, params, out)
    }

    fn signing_params<'a>(
        &self,
        req: &Request,
        input: &'a SignInput,
    ) -> Result<SignatureParams<'a>, SignError> {
        let has_key_id = self.key_id.is_some() || self.part_index(PartField::KeyId).is_some();
        let mut params =
            basic_signing_params(input, self.algorithm, has_key_id, self.nonce.is_some())?;
        params.body_hash = self.body_hash_of(req.body()).map(Cow::Owned);
        Ok(params)
    }

    fn signature_headers(
        &self,
        params: &SignatureParams<'_>,
        encoded_tag: &str,
    ) -> Vec<(HeaderName, String)> {
        let key_id = params.key_id.as_deref().unwrap_or_default();
        let value = match &self.format {
            Format::Bare => encoded_tag.to_owned(),
            Format::Prefix(prefix) => format!("{prefix}{encoded_tag}"),
            Format::List {
                separator,
                assign,
                tag,
                timestamp,
            } => match timestamp {
                Some(key) => format!(
                    "{key}{assign}{}{separator}{tag}{assign}{encoded_tag}",
                    params.timestamp
                ),
                None => format!("{tag}{assign}{encoded_tag}"),
            },
            Format::Parts { separator, fields } => fields
                .iter()
                .map(|f| match f {
                    PartField::KeyId => key_id,
                    PartField::Timestamp => &params.timestamp,
                    PartField::Tag => encoded_tag,
                })
                .collect::<Vec<_>>()
                .join(&separator.to_string()),
        };
        let mut headers = vec![(self.signature.clone(), value)];
        if let Some(h) = &self.timestamp_header {
            headers.push((h.clone(), params.timestamp.clone().into_owned()));
        }
        if let Some(h) = &self.key_id {
            headers.push((h.clone(), key_id.to_owned()));
        }
        if let Some(h) = &self.nonce {
            let nonce = params.nonce.as_deref().unwrap_or_default();
            headers.push((h.clone(), nonce.to_owned()));
        }
        if let (Some((HashAt::Header(h), ..)), Some(hash)) = (&self.body_hash, &params.body_hash) {
            headers.push((h.clone(), hash.clone().into_owned()));
        }
        headers
    }

    fn key(&self, id: &str, secret: &Secret) -> Result<Key, ConfigError> {
        let text = secret.expose();
        let encoded = match self.profile.secret {
            SecretDecoding::Utf8 => return Ok(Key::new(id, secret)),
            SecretDecoding::Base64 => text,
            SecretDecoding::Whsec => text.strip_prefix("whsec_").unwrap_or(text),
        };
        // Libraries accept the key's base64 with or without its padding.
        let lenient = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        );
        let bytes = lenient
            .decode(encoded)
            .map_err(|_| ConfigError::Secret(id.to_owned()))?;
        Ok(Key::from_bytes(id, &bytes))
    }
}
