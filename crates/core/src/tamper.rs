//! Deliberately wrong signatures: how a signed request is altered to test a
//! verifier.
//!
//! A [`Recipe`] signs a request the way a legitimate client would, except
//! for the changes it names: what was signed can differ from what is sent
//! ([`SignedAs`]), the tag can be re-encoded or cut ([`TagTransform`]), and
//! headers can be edited after signing ([`HeaderEdit`]). The vectors store
//! recipes next to the concrete requests they produce, so a reader sees
//! exactly what was tampered with; the runner builds its probes the same way.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE};
use http::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::crypto::{Algorithm, TagEncoding};
use crate::keys::Key;
pub use crate::request::ParameterStyle;
use crate::request::{Request, parameters, write_parameters};
use crate::scheme::{Absent, Field, Scheme, SignError, SignInput, SignatureParams};

/// A change to the encoded tag after it was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TagTransform {
    /// Upper-case the encoded tag (non-canonical hex; wrong bytes in base64).
    Uppercase,
    /// Drop the tag's last byte.
    Truncate,
    /// Keep only the first half of the tag's bytes.
    TruncateHalf,
    /// Append a zero byte to the tag.
    Extend,
    /// An empty tag.
    Empty,
    /// Flip the lowest bit of the first byte.
    FlipFirstBit,
    /// Flip the lowest bit of the last byte.
    FlipLastBit,
    /// The tag in base64url (`-` and `_`), with padding.
    Base64Url,
    /// Standard base64 without `=` padding.
    StripPadding,
    /// The tag in the other encoding (base64 where hex is expected and vice versa).
    OtherEncoding,
    /// The tag of the same message with the other hash function
    /// (HMAC-SHA512 for HMAC-SHA256, HMAC-SHA256 for the others).
    OtherAlgorithm,
}

impl TagTransform {
    /// Applies the change to `tag` (raw bytes), writing it as `encoding` would.
    fn apply(self, tag: &[u8], encoding: TagEncoding) -> String {
        let mut bytes = tag.to_vec();
        match self {
            TagTransform::Uppercase => return encoding.encode(&bytes).to_ascii_uppercase(),
            TagTransform::Truncate => {
                bytes.pop();
            }
            TagTransform::TruncateHalf => bytes.truncate(bytes.len() / 2),
            TagTransform::Extend => bytes.push(0),
            TagTransform::Empty => bytes.clear(),
            TagTransform::FlipFirstBit => {
                if let Some(b) = bytes.first_mut() {
                    *b ^= 1;
                }
            }
            TagTransform::FlipLastBit => {
                if let Some(b) = bytes.last_mut() {
                    *b ^= 1;
                }
            }
            TagTransform::Base64Url => return URL_SAFE.encode(&bytes),
            TagTransform::StripPadding => return STANDARD_NO_PAD.encode(&bytes),
            TagTransform::OtherEncoding => {
                let other = match encoding {
                    TagEncoding::LowerHex => TagEncoding::Base64,
                    TagEncoding::Base64 => TagEncoding::LowerHex,
                };
                return other.encode(&bytes);
            }
            // Handled where the tag is computed.
            TagTransform::OtherAlgorithm => {}
        }
        encoding.encode(&bytes)
    }
}

/// What was actually signed, where it differs from the request sent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedAs {
    /// The method that was signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The path that was signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The query that was signed (empty string: no query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The body that was signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The headers that were signed, replacing same-named headers of the request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<Header>,
    /// The timestamp that was signed; the header carries the signer's input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The nonce that was signed; the header carries the signer's input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// A field left out of the request, and how the signer wrote its
    /// absence into the signed string (as a verifier that treats the field
    /// as optional would).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent: Option<Absence>,
}

/// A field left out of a request, signed as missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Absence {
    /// The field.
    pub field: Field,
    /// How the signer wrote it: its line left out, an empty value, or (a
    /// timestamp) the signer's current time.
    pub signed: Absent,
}

impl SignedAs {
    /// Whether the request signed differs from the one sent (the other
    /// fields change only the signed parameters).
    fn changes_request(&self) -> bool {
        self.method.is_some()
            || self.path.is_some()
            || self.query.is_some()
            || self.body.is_some()
            || !self.headers.is_empty()
            || self.absent.is_some()
    }

    /// `req` as the signer saw it: with the method, path, query, body and
    /// headers that were signed in place of those sent.
    pub fn request(&self, req: &Request) -> Result<Request, RecipeError> {
        let mut signed = req.clone();
        if let Some(method) = &self.method {
            *signed.method_mut() = method.parse().map_err(http_error)?;
        }
        if self.path.is_some() || self.query.is_some() {
            let path = self.path.as_deref().unwrap_or(req.uri().path());
            let query = self.query.as_deref().or(req.uri().query());
            *signed.uri_mut() = build_uri(path, query)?;
        }
        if let Some(body) = &self.body {
            *signed.body_mut() = body.clone().into();
        }
        for Header(name, value) in &self.headers {
            let (name, value) = header(name, value)?;
            signed.headers_mut().insert(name, value);
        }
        Ok(signed)
    }
}

/// Writes the absence of `field` into `req` where the request itself
/// carries it into the signed string (a query parameter is part of the
/// signed URL): left out, or empty, as `how` says. Elsewhere a field's
/// absence is signed through the parameters, and `req` is left as it is.
pub fn sign_absence_in_request(
    scheme: &dyn Scheme,
    req: &mut Request,
    field: &Field,
    how: Absent,
) -> Result<(), String> {
    if let Some(at @ crate::scheme::Location::Query(_)) = scheme.location(field) {
        match how {
            Absent::Omitted => at.remove(req)?,
            Absent::Empty => at.write(req, b"")?,
            Absent::Now => {}
        }
    }
    Ok(())
}

/// One header, written `[name, value]` (in YAML flow style).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Header(pub String, pub String);

impl Serialize for Header {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_saphyr::FlowSeq([&self.0, &self.1]).serialize(s)
    }
}

/// An edit to the headers after signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HeaderEdit {
    /// Remove every header with this name.
    Remove(String),
    /// Replace every header with this name by one with this value.
    Set(Header),
    /// Add another header (a duplicate when the name is already present).
    Add(Header),
    /// Remove a `name="value"` parameter from a header.
    RemoveParameter {
        /// The header.
        header: String,
        /// The parameter.
        name: String,
    },
    /// Set a `name="value"` parameter's value (adding it when absent).
    SetParameter {
        /// The header.
        header: String,
        /// The parameter.
        name: String,
        /// Its new value.
        value: String,
    },
    /// Write a header's `name="value"` parameters another way.
    Restyle {
        /// The header.
        header: String,
        /// How.
        style: ParameterStyle,
    },
}

/// Removes `field` from `out`, where the scheme carries it, for a recipe
/// that leaves it out.
fn leave_out(scheme: &dyn Scheme, out: &mut Request, field: &Field) -> Result<(), RecipeError> {
    match (scheme.location(field), field) {
        // Only in the signed string: nothing in the request to remove.
        (Some(crate::scheme::Location::Signed), _) => {}
        (Some(at), _) => at.remove(out).map_err(RecipeError::Http)?,
        (None, Field::Header(name)) => {
            out.headers_mut().remove(name.as_str());
        }
        (None, _) => {
            return Err(RecipeError::Http(format!(
                "the scheme carries no {field} to leave out"
            )));
        }
    }
    Ok(())
}

/// Applies `change` to the parameter list of header `name` in `req`.
fn edit_parameters(
    req: &mut Request,
    name: &str,
    change: impl FnOnce(&mut Vec<(String, String)>) -> Option<ParameterStyle>,
) -> Result<(), RecipeError> {
    let current = req
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| RecipeError::Http(format!("no {name} header to edit")))?
        .to_owned();
    let crate::request::Parameters { word, items: list } = parameters(&current)
        .ok_or_else(|| RecipeError::Http(format!("{name} is not a parameter list")))?;
    let mut owned: Vec<(String, String)> = list
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    let style = change(&mut owned);
    let borrowed: Vec<(&str, &str)> = owned
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let (name, value) = header(name, &write_parameters(word, &borrowed, style))?;
    req.headers_mut().insert(name, value);
    Ok(())
}

/// How a request is signed: the signer's input plus deliberate deviations.
///
/// (No `deny_unknown_fields`: serde does not support it with `flatten`; the
/// vectors' JSON Schema rejects unknown fields instead.)
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipe {
    /// The signer's choices (key id, timestamp, nonce, …).
    #[serde(flatten)]
    pub input: SignInput,
    /// The key whose secret computes the tag, if not the named key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_of: Option<String>,
    /// Differences between what was signed and what is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_as: Option<SignedAs>,
    /// A change to the encoded tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_transform: Option<TagTransform>,
    /// Header edits applied after signing, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<HeaderEdit>,
}

/// A request a recipe signed, with the string its tag was computed over.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The request to send.
    pub request: Request,
    /// The string signed.
    pub signed: Vec<u8>,
}

/// Why a recipe could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecipeError {
    /// The scheme refused to sign.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// A method, path, header name or value in the recipe is not valid HTTP.
    #[error("invalid request in recipe: {0}")]
    Http(String),
}

impl HeaderEdit {
    /// The header the edit names, which [`Recipe::apply`] removes before
    /// signing; `None` for an edit of a header's parameters.
    fn removes_before_signing(&self) -> Option<&str> {
        match self {
            HeaderEdit::Remove(name)
            | HeaderEdit::Set(Header(name, _))
            | HeaderEdit::Add(Header(name, _)) => Some(name),
            _ => None,
        }
    }
}

fn http_error(e: impl std::fmt::Display) -> RecipeError {
    RecipeError::Http(e.to_string())
}

/// Builds a request URI from a path and an optional query.
pub fn build_uri(path: &str, query: Option<&str>) -> Result<http::Uri, RecipeError> {
    match query {
        Some(q) if !q.is_empty() => format!("{path}?{q}").parse(),
        _ => path.parse(),
    }
    .map_err(http_error)
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), RecipeError> {
    Ok((
        HeaderName::from_bytes(name.as_bytes()).map_err(http_error)?,
        HeaderValue::from_str(value).map_err(http_error)?,
    ))
}

impl Recipe {
    /// Signs `req` following the recipe and returns the request to send.
    ///
    /// Headers the recipe owns — those the scheme writes and those an edit
    /// names — are first removed from `req`, so applying a recipe to its own
    /// output gives the same request again. (To sign one value of a header
    /// and send another, use [`SignedAs::headers`], not an edit.)
    pub fn apply(
        &self,
        scheme: &dyn Scheme,
        req: &Request,
        key: &Key,
    ) -> Result<Request, RecipeError> {
        self.apply_signed(scheme, req.clone(), key)
            .map(|s| s.request)
    }

    /// [`Recipe::apply`] to `req`, taken rather than copied, with the
    /// string the tag was computed over.
    pub fn apply_signed(
        &self,
        scheme: &dyn Scheme,
        req: Request,
        key: &Key,
    ) -> Result<Signed, RecipeError> {
        let default = SignedAs::default();
        let signed_as = self.signed_as.as_ref().unwrap_or(&default);
        let mut base = req;
        for edit in &self.edits {
            if let Some(name) = edit.removes_before_signing() {
                base.headers_mut().remove(name);
            }
        }
        // What the scheme carries outside its headers comes from the body
        // the signer signs; a signed query of the recipe's own is the
        // signer's too.
        let body = base.body().clone();
        let signed_body = signed_as
            .body
            .as_deref()
            .map_or(body.as_ref(), str::as_bytes);
        scheme.prepare(&mut base, signed_body);

        // The request as signed, where it is not the one sent.
        let other = if signed_as.changes_request() {
            let mut signed = signed_as.request(&base)?;
            if signed_as.query.is_some() {
                scheme.prepare(&mut signed, signed_body);
            }
            if let Some(Absence { field, signed: how }) = &signed_as.absent {
                sign_absence_in_request(scheme, &mut signed, field, *how)
                    .map_err(RecipeError::Http)?;
            }
            Some(signed)
        } else {
            None
        };
        let signed = other.as_ref().unwrap_or(&base);
        let header_params = scheme.signing_params(signed, &self.input)?;
        let signed_params = self.signed_params(signed_as, &header_params);
        let mut canonical = Vec::with_capacity(512);
        scheme
            .canonicalize(signed, &signed_params, &mut canonical)
            .map_err(SignError::from)?;
        let tag = scheme
            .signing_key(key, &signed_params)
            .sign(signed_params.algorithm, &canonical);
        let encoding = scheme.tag_encoding();
        let encoded = match self.tag_transform {
            Some(t) => t.apply(tag.as_bytes(), encoding),
            None => encoding.encode(tag.as_bytes()),
        };
        let produced = scheme.signature_headers(&header_params, &encoded);

        let mut out = base;
        for (name, _) in &produced {
            out.headers_mut().remove(name);
        }
        for (name, value) in produced {
            out.headers_mut()
                .append(name, HeaderValue::from_str(&value).map_err(http_error)?);
        }
        if let Some(absence) = &signed_as.absent {
            leave_out(scheme, &mut out, &absence.field)?;
        }
        self.edit(&mut out)?;
        Ok(Signed {
            request: out,
            signed: canonical,
        })
    }

    /// Whether the string the recipe signs is the one a signer writes for
    /// the request with the recipe's input: nothing removed before signing,
    /// nothing signed other than what is sent, the scheme's own algorithm.
    pub fn signs_the_request(&self) -> bool {
        self.edits
            .iter()
            .all(|e| e.removes_before_signing().is_none())
            && self
                .signed_as
                .as_ref()
                .is_none_or(|s| *s == SignedAs::default())
            && self.tag_transform != Some(TagTransform::OtherAlgorithm)
    }

    /// The parameters signed: those the request carries, with what the
    /// recipe signs otherwise (another timestamp or nonce, a field's
    /// absence, the other algorithm).
    fn signed_params<'a>(
        &self,
        signed_as: &'a SignedAs,
        header_params: &SignatureParams<'a>,
    ) -> SignatureParams<'a> {
        let mut signed_params = header_params.clone();
        if let Some(ts) = &signed_as.timestamp {
            signed_params.timestamp = ts.as_str().into();
        }
        if let Some(nonce) = &signed_as.nonce {
            signed_params.nonce = Some(nonce.as_str().into());
        }
        if let Some(Absence { field, signed }) = &signed_as.absent {
            match (signed, field) {
                (Absent::Omitted, _) => signed_params.omitted = Some(field.clone()),
                (Absent::Empty, Field::Timestamp) => signed_params.timestamp = "".into(),
                (Absent::Empty, Field::Nonce) => signed_params.nonce = Some("".into()),
                (Absent::Empty, Field::BodyHash) => signed_params.body_hash = Some("".into()),
                // A key id is not in any signed string; a timestamp signed
                // as "now" is the signer's input.
                _ => {}
            }
        }
        if self.tag_transform == Some(TagTransform::OtherAlgorithm) {
            signed_params.algorithm = match signed_params.algorithm {
                Algorithm::Sha256 => Algorithm::Sha512,
                Algorithm::Sha512 | Algorithm::Sha1 => Algorithm::Sha256,
            };
        }
        signed_params
    }

    /// Applies the recipe's edits to the signed request.
    fn edit(&self, out: &mut Request) -> Result<(), RecipeError> {
        for edit in &self.edits {
            match edit {
                HeaderEdit::Remove(name) => {
                    out.headers_mut().remove(name.as_str());
                }
                HeaderEdit::Set(Header(name, value)) => {
                    let (name, value) = header(name, value)?;
                    out.headers_mut().insert(name, value);
                }
                HeaderEdit::Add(Header(name, value)) => {
                    let (name, value) = header(name, value)?;
                    out.headers_mut().append(name, value);
                }
                HeaderEdit::RemoveParameter { header, name } => {
                    edit_parameters(out, header, |list| {
                        list.retain(|(n, _)| n != name);
                        None
                    })?;
                }
                HeaderEdit::SetParameter {
                    header,
                    name,
                    value,
                } => {
                    edit_parameters(out, header, |list| {
                        match list.iter_mut().find(|(n, _)| n == name) {
                            Some((_, v)) => *v = value.clone(),
                            None => list.push((name.clone(), value.clone())),
                        }
                        None
                    })?;
                }
                HeaderEdit::Restyle { header, style } => {
                    edit_parameters(out, header, |_| Some(*style))?;
                }
            }
        }
        Ok(())
    }
}
