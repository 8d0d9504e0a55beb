//! Deliberate defects made real, for proving that the runner finds what
//! real verifiers get wrong (runner tests only). What each defect is
//! ([`Defect`], its [`Gate`]s and [`ScopePart`]s) is data in the
//! `sigconform-defects` crate, which the runner names its controls from;
//! how a server gets it wrong is here.
//!
//! A defect is made by swapping a part of a correct server — the scheme's
//! configuration (windows), the scheme itself (wrapped in [`Defective`],
//! which changes what the correct scheme sees), the key lookup, the nonce
//! store, the key policy — never by special cases in the verifier.

use std::sync::Arc;

use super::sql_keys::KeyMaker;
use super::{Alteration, Keeping};
use sigconform_core::Rejection;
use sigconform_core::answer::{self, Answer};
use sigconform_core::crypto::{Algorithm, TagEncoding};
use sigconform_core::keys::{DEFAULT_KEY_ID, Key, KeyLookup, KeyPolicy, LookupError, Secret};
use sigconform_core::lenient::{self, LenientDecoder};
use sigconform_core::lossy::{Component, LossyRead};
use sigconform_core::nonce::{ForgetfulNonces, MemoryNonceStore, NonceError, NonceStore};
use sigconform_core::request::Request;
use sigconform_core::scheme::sigv4::chunked;
use sigconform_core::scheme::{
    Absent, Field, Location, Scheme, SchemeConfig, SignInput, SignatureParams, member,
};
use sigconform_core::time::{Clock, SystemClock, Window};
use sigconform_defects::{Defect, Gate, ScopePart};

/// Whether `req` is of `gate`'s shape (and goes through unverified).
fn lets_through(gate: &Gate, req: &Request) -> bool {
    match gate {
        Gate::ContentType(media_type) => {
            let sent = req
                .headers()
                .get(http::header::CONTENT_TYPE)
                .map(http::HeaderValue::as_bytes);
            sent == media_type.as_deref().map(str::as_bytes)
        }
        Gate::Method(method) => req.method().as_str() == method,
        Gate::Bodiless(method) => req.method().as_str() == method && req.body().is_empty(),
        Gate::Chunked => req
            .headers()
            .get(http::header::TRANSFER_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked")),
        Gate::LargerThan(limit) => req.body().len() > *limit,
    }
}

/// The RFC 9421 metadata parameter `name` of the signature that `covered`
/// (where the scheme's covered list is) names.
fn metadata_parameter(covered: &Location, name: &str) -> Option<Location> {
    match covered {
        Location::Member { header, key, .. } => Some(Location::Member {
            header: header.clone(),
            key: key.clone(),
            param: Some(name.into()),
        }),
        _ => None,
    }
}

/// The items of a structured inner list as written (`("@method" "a";x)`),
/// split at the spaces outside quotes.
fn inner_list_items(list: &str) -> Vec<String> {
    let inner = list
        .trim()
        .strip_prefix('(')
        .and_then(|l| l.strip_suffix(')'))
        .unwrap_or_default();
    let (mut items, mut current, mut quoted) = (Vec::new(), String::new(), false);
    for c in inner.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ' ' if !quoted => {
                if !current.is_empty() {
                    items.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        items.push(current);
    }
    items
}

/// An item of a covered list with only the parameters RFC 9421 defines for
/// requests (`sf`, `key`, `bs`, `name`).
fn known_parameters_only(item: &str) -> String {
    let mut pieces = item.split(';');
    let mut out = pieces.next().unwrap_or_default().to_owned();
    for piece in pieces {
        let name = piece.split('=').next().unwrap_or_default();
        if matches!(name, "sf" | "key" | "bs" | "name") {
            out.push(';');
            out.push_str(piece);
        }
    }
    out
}

/// A request's `Authorization` header, as text.
fn authorization(req: &Request) -> Option<&str> {
    req.headers()
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()
}

/// `X-Amz-Expires`, where [`Defect::AcceptsAnyExpires`] reads it.
fn x_amz_expires() -> Location {
    Location::Query("X-Amz-Expires".into())
}

impl Alteration for Defect {
    /// The scheme configuration the defect changes (windows, required
    /// headers), from `default` (the scheme's window).
    fn configure(&self, config: &mut SchemeConfig, default: Window) {
        match self {
            Defect::IgnoresExpiry => {
                config.tolerance_past = Some(u64::MAX);
                config.tolerance_future = Some(u64::MAX);
            }
            Defect::AcceptsAnyFuture => config.tolerance_future = Some(u64::MAX),
            Defect::WindowInMilliseconds => {
                config.tolerance_past = Some(default.past / 1000);
                config.tolerance_future = Some(default.future / 1000);
            }
            Defect::RequiresNoSignedHeaders => config.required_headers = Some(Vec::new()),
            Defect::AnyRegion => config.region = Some("*".into()),
            Defect::HeaderValuesUntrimmed => config.trim_header_values = Some(false),
            Defect::QueryValuesUnsorted => config.sort_query_values = Some(false),
            Defect::PathRules(encoding, normalize) => {
                config.uri_encoding = *encoding;
                config.normalize_path = *normalize;
            }
            _ => {}
        }
    }

    /// The scheme, wrapped when the defect is in how it parses,
    /// canonicalises or compares.
    fn scheme(&self, inner: Box<dyn Scheme>) -> Box<dyn Scheme> {
        let wraps = !matches!(
            self,
            Defect::IgnoresExpiry
                | Defect::Ungated(_)
                | Defect::AcceptsAnyFuture
                | Defect::WindowInMilliseconds
                | Defect::RequiresNoSignedHeaders
                | Defect::AnyRegion
                | Defect::HeaderValuesUntrimmed
                | Defect::QueryValuesUnsorted
                | Defect::PathRules(..)
                | Defect::StoresChunkFraming
                | Defect::WritesBeforeVerifying
                | Defect::NeverRecordsNonces
                | Defect::NonAtomicNonces
                | Defect::ForgetsNoncesAfter(_)
                | Defect::AcceptsUnknownKeys
                | Defect::UnknownKeysGetEmptySecret
                | Defect::UnknownKeysGetTheirIdAsSecret
                | Defect::CaseInsensitiveKeyIds
                | Defect::IgnoresKeyPolicy
                | Defect::ServerErrorOnMalformedTimestamp
                | Defect::ServerErrorOnNonAsciiTag
                | Defect::ServerErrorOnTagByteLength
                | Defect::ServerErrorOnNonAsciiKeyId
                | Defect::DisclosesExpectedTag
                | Defect::DisclosesSignedString
                | Defect::DisclosesBodyHash
        );
        if wraps {
            Box::new(Defective {
                inner,
                defect: self.clone(),
                parsed_nonces: Default::default(),
            })
        } else {
            inner
        }
    }

    /// The key lookup the defect puts in front of `keys`.
    fn keys(&self, keys: Arc<dyn KeyLookup>, make_key: KeyMaker) -> Arc<dyn KeyLookup> {
        let fallback = match self {
            Defect::AcceptsUnknownKeys => Fallback::Id(|_| DEFAULT_KEY_ID.to_owned()),
            Defect::CaseInsensitiveKeyIds => Fallback::Id(str::to_ascii_lowercase),
            Defect::UnknownKeysGetEmptySecret => Fallback::Secret(|_| String::new()),
            Defect::UnknownKeysGetTheirIdAsSecret => Fallback::Secret(str::to_owned),
            _ => return keys,
        };
        Arc::new(SecondLookup {
            keys,
            fallback,
            make_key,
        })
    }

    /// The nonce store the defect swaps in, if it swaps one.
    fn nonces(&self) -> Option<Arc<dyn NonceStore>> {
        match self {
            // (It records them itself, as it parses.)
            Defect::NeverRecordsNonces | Defect::RecordsNonceBeforeTag => {
                Some(Arc::new(ForgetfulNonces))
            }
            Defect::NonAtomicNonces => Some(Arc::new(RacyNonces::default())),
            Defect::ForgetsNoncesAfter(ms) => Some(Arc::new(ShortMemory {
                store: MemoryNonceStore::default(),
                ms: *ms,
            })),
            _ => None,
        }
    }

    /// The key policy with the defect applied.
    fn policy(&self, policy: &KeyPolicy) -> KeyPolicy {
        if *self == Defect::IgnoresKeyPolicy {
            KeyPolicy::default()
        } else {
            policy.clone()
        }
    }

    /// Whether `req` is of a shape the defect's gate lets through.
    fn ungated(&self, req: &Request) -> bool {
        matches!(self, Defect::Ungated(gate) if lets_through(gate, req))
    }

    /// Whether the server answers 500 to `req`, which `scheme` rejected or
    /// is about to verify.
    fn crashes(&self, scheme: &dyn Scheme, req: &Request, rejection: Option<&Rejection>) -> bool {
        match self {
            Defect::ServerErrorOnMalformedTimestamp => {
                rejection == Some(&Rejection::MalformedTimestamp)
            }
            Defect::ServerErrorOnNonAsciiTag => scheme
                .location(&Field::Tag)
                .and_then(|l| req.headers().get(l.header()?))
                .is_some_and(|v| v.as_bytes().iter().any(|b| !b.is_ascii())),
            Defect::ServerErrorOnTagByteLength => {
                let expected = scheme
                    .signing_params(req, &placeholder_input())
                    .map_or(32, |p| p.algorithm.tag_len());
                let expected = scheme.tag_encoding().encode(&vec![0; expected]).len();
                field_text(scheme, req, &Field::Tag)
                    .is_some_and(|tag| tag.chars().count() == expected && tag.len() != expected)
            }
            // The lookup comes after the header's structure was checked:
            // every field the header carries is there.
            Defect::ServerErrorOnNonAsciiKeyId => {
                let header = scheme
                    .location(&Field::KeyId)
                    .and_then(|at| at.header().cloned());
                field_text(scheme, req, &Field::KeyId).is_some_and(|id| !id.is_ascii())
                    && header.is_some_and(|header| {
                        scheme
                            .fields_in(&header)
                            .iter()
                            .all(|f| field_text(scheme, req, f).is_some())
                    })
            }
            _ => false,
        }
    }

    fn discloses(&self) -> bool {
        matches!(
            self,
            Defect::DisclosesExpectedTag
                | Defect::DisclosesSignedString
                | Defect::DisclosesBodyHash
        )
    }

    fn disclose(
        &self,
        scheme: &dyn Scheme,
        req: &Request,
        expected: Option<&sigconform_core::Expected>,
        body: &mut serde_json::Value,
        headers: &mut http::HeaderMap,
    ) {
        match (self, expected) {
            (Defect::DisclosesExpectedTag, Some(expected)) => {
                let tag = scheme.tag_encoding().encode(expected.tag.as_bytes());
                body["message"] = format!("invalid signature, expected {tag}").into();
            }
            (Defect::DisclosesSignedString, Some(expected)) => {
                body["string_to_sign"] = String::from_utf8_lossy(&expected.signed).into();
            }
            (Defect::DisclosesBodyHash, _) => {
                let encoding = scheme
                    .encoded(&Field::BodyHash)
                    .map_or(TagEncoding::LowerHex, |(_, encoding)| encoding);
                let hash = encoding.encode(&sigconform_core::crypto::sha256(req.body()));
                if let Ok(value) = http::HeaderValue::from_str(&hash) {
                    headers.insert("x-computed-body-hash", value);
                }
            }
            _ => {}
        }
    }

    fn keeping(&self) -> Keeping {
        match self {
            Defect::StoresChunkFraming => Keeping::Framed,
            Defect::WritesBeforeVerifying => Keeping::BeforeVerifying,
            _ => Keeping::AsSigned,
        }
    }
}

/// How much of a body [`Defect::ReadsFirstChunkOnly`] reads.
const FIRST_CHUNK: usize = 16 * 1024;

/// The byte a [`Defect::AnyTag`] placeholder tag is made of.
const PLACEHOLDER_TAG_BYTE: u8 = 0xa5;

/// The methods [`Defect::MethodNotCovered`] tries.
const ANY_METHOD: [http::Method; 7] = [
    http::Method::GET,
    http::Method::HEAD,
    http::Method::POST,
    http::Method::PUT,
    http::Method::PATCH,
    http::Method::DELETE,
    http::Method::OPTIONS,
];

/// A scheme with a defect in how it parses, canonicalises or compares;
/// everything else is delegated to the correct scheme.
#[derive(Debug)]
struct Defective {
    inner: Box<dyn Scheme>,
    defect: Defect,
    /// The nonces [`Defect::RecordsNonceBeforeTag`] recorded as it parsed,
    /// by key id.
    parsed_nonces: std::sync::Mutex<std::collections::HashSet<(String, String)>>,
}

impl Defective {
    fn location(&self, field: &Field) -> Option<Location> {
        self.inner.location(field)
    }

    /// "Now" in the scheme's unit, by the server's clock.
    fn now(&self) -> u64 {
        self.inner.window().unit.from_ms(SystemClock.now_ms())
    }

    /// The request as the defective verifier sees it.
    fn seen(&self, req: &Request) -> Request {
        let mut seen = req.clone();
        if !self.reads_content(req, &mut seen) {
            self.reads_fields(req, &mut seen);
        }
        seen
    }

    /// What a defect in reading the path or the body makes of them in
    /// `seen`; whether the defect is one of those.
    fn reads_content(&self, req: &Request, seen: &mut Request) -> bool {
        match &self.defect {
            Defect::PathNotCovered => {
                let path = normalize_path(req.uri().path());
                set_path_and_query(seen, path.as_bytes(), req.uri().query().map(str::as_bytes));
            }
            Defect::MergesSlashes | Defect::ResolvesDotSegments => {
                let path = req.uri().path();
                let path = if self.defect == Defect::MergesSlashes {
                    merge_slashes(path)
                } else {
                    resolve_dot_segments(path)
                };
                set_path_and_query(seen, path.as_bytes(), req.uri().query().map(str::as_bytes));
            }
            Defect::ReadsFirstChunkOnly => {
                *seen.body_mut() = req.body().slice(..req.body().len().min(FIRST_CHUNK));
            }
            Defect::BodyNotCovered => {
                if let Ok(value) = serde_json::from_slice::<serde_json::Value>(req.body()) {
                    *seen.body_mut() = serde_json::to_vec(&value)
                        .expect("a parsed value serialises")
                        .into();
                }
            }
            Defect::BodiesOnlyForPostPutPatch
                if !matches!(req.method().as_str(), "POST" | "PUT" | "PATCH") =>
            {
                *seen.body_mut() = bytes::Bytes::new();
            }
            Defect::IgnoresChunkedBodies
                if req
                    .headers()
                    .get(http::header::TRANSFER_ENCODING)
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked")) =>
            {
                *seen.body_mut() = bytes::Bytes::new();
            }
            Defect::NonJsonBodyAsEmpty
                if serde_json::from_slice::<serde_json::Value>(req.body()).is_err() =>
            {
                *seen.body_mut() = bytes::Bytes::from_static(b"{}");
            }
            // What serde_json refuses is, to this verifier, no JSON at all.
            Defect::StrictJsonParser
                if serde_json::from_slice::<serde_json::Value>(req.body()).is_err() =>
            {
                *seen.body_mut() = bytes::Bytes::from_static(b"not JSON");
            }
            Defect::KeySortDropsProto => {
                if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(req.body())
                    && drop_proto_members(&mut value)
                {
                    *seen.body_mut() = serde_json::to_vec(&value)
                        .expect("a parsed value serialises")
                        .into();
                }
            }
            Defect::FormAsDictionary => {
                let mut last: Vec<(String, String)> = Vec::new();
                for (name, value) in form_urlencoded::parse(req.body()) {
                    last.retain(|(n, _)| *n != name);
                    last.push((name.into_owned(), value.into_owned()));
                }
                let body = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(&last)
                    .finish();
                *seen.body_mut() = body.into();
            }
            _ => return false,
        }
        true
    }

    /// What a defect in reading the signature's fields makes of them in
    /// `seen`.
    fn reads_fields(&self, req: &Request, seen: &mut Request) {
        match &self.defect {
            // Parse as if the header were right; the claimed hash is put
            // back into the signed parameters afterwards.
            Defect::TrustsBodyHash => {
                if let Some(at) = self.location(&Field::BodyHash)
                    && !req.body().is_empty()
                    && at.read(req).is_some()
                {
                    let _ = at.write(seen, self.body_hash(req).as_bytes());
                }
            }
            Defect::VerifiesAsSigned(signed_as) => {
                if let Ok(signed) = signed_as.request(req) {
                    *seen = signed;
                    // A signed query of its own is the signer's, with what
                    // the scheme adds to it (as `Recipe::apply` signs it).
                    if signed_as.query.is_some() {
                        let body = seen.body().clone();
                        self.inner.prepare(seen, &body);
                    }
                }
            }
            Defect::FirstOfDuplicates => first_of_duplicates(seen),
            Defect::ReadsLossily(read) => read_lossily(*read, seen),
            Defect::LastSignatureOnly => {
                if let Some(at) = self.location(&Field::Tag) {
                    keep_last_item(&at, seen);
                }
            }
            // Parsed as if the tag were right (where the header it is in is
            // there once: a duplicate is still refused); `verify` compares
            // the text.
            Defect::CaseFoldedTagCompare if self.tag_header_once(req) => self.placeholder_tag(seen),
            Defect::OptionalField(field, _) => self.fill_missing(field, seen),
            Defect::LenientTimestamps => {
                if let Some(at) = self.location(&Field::Timestamp)
                    && let Some(value) = at.read(req).and_then(lenient_timestamp)
                {
                    let _ = at.write(seen, value.to_string().as_bytes());
                }
            }
            Defect::AnyTag => self.placeholder_tag(seen),
            Defect::AcceptsAlgorithmNone if self.algorithm_is_none(req) => {
                self.placeholder_tag(seen);
                self.set_algorithm(seen, "HMAC-SHA256");
            }
            Defect::UnknownAlgorithmsAsSha256 => {
                let known = self
                    .location(&Field::Algorithm)
                    .and_then(|at| at.read(req))
                    .is_none_or(|name| Algorithm::from_http_signature_name(name).is_some());
                if !known {
                    self.set_algorithm(seen, "HMAC-SHA256");
                }
            }
            Defect::DefaultHeaderList => {
                if let Some(at) = self.location(&Field::SignedHeaders)
                    && at.read(req).is_none()
                {
                    let _ = at.write(seen, b"host content-type content-length");
                }
            }
            Defect::UnquotedParameters => requote(seen),
            Defect::LabelsUnchecked => self.first_signature_as_labelled(seen),
            Defect::UnsignedAmzHeaders => {
                if let Some(listed) = self
                    .location(&Field::SignedHeaders)
                    .and_then(|at| at.read(req))
                {
                    let listed: Vec<&str> = listed.split(';').collect();
                    let unsigned: Vec<http::HeaderName> = req
                        .headers()
                        .keys()
                        .filter(|n| n.as_str().starts_with("x-amz-"))
                        .filter(|n| !listed.contains(&n.as_str()))
                        .filter(|n| *n != "x-amz-date" && *n != "x-amz-content-sha256")
                        .cloned()
                        .collect();
                    for name in unsigned {
                        seen.headers_mut().remove(name);
                    }
                }
            }
            _ => {}
        }
    }

    /// The defects that parse a rewritten copy of the request (a value the
    /// correct parser would refuse, cleaned), and what they then sign;
    /// `None` for the others.
    fn parse_rewritten(
        &self,
        req: &Request,
    ) -> Option<Result<SignatureParams<'static>, Rejection>> {
        match &self.defect {
            Defect::AcceptsAnyExpires => self.parse_expires_capped(req),
            Defect::ComponentsUnchecked => self.parse_components_cleaned(req),
            Defect::IgnoresAlg => self.parse_alg_as_ours(req),
            Defect::DecodesLeniently(field, decoder) => self.parse_decoded(req, field, *decoder),
            Defect::ScopePartUnchecked(part) => self.parse_scope_part_as_ours(req, *part),
            Defect::AlgorithmNameUnchecked => self.parse_algorithm_name_as_ours(req),
            _ => None,
        }
    }

    /// `field` read through `decoder` and written back as the strict value
    /// it read, for parsing; the text received is what is signed.
    fn parse_decoded(
        &self,
        req: &Request,
        field: &Field,
        decoder: LenientDecoder,
    ) -> Option<Result<SignatureParams<'static>, Rejection>> {
        let (at, alphabet) = lenient::written_in(self.inner.as_ref(), field)?;
        let received = lenient::read_value(&at, req)?.into_owned();
        let read = decoder.read(alphabet, &received)?;
        if read == received {
            return None;
        }
        let mut seen = req.clone();
        lenient::write_value(&at, &mut seen, &read).ok()?;
        Some(self.inner.parse(&seen).map(|params| {
            let mut params = params.into_owned();
            match field {
                Field::Timestamp => params.timestamp = received.into(),
                Field::BodyHash if params.body_hash.is_some() => {
                    params.body_hash = Some(received.into());
                }
                _ => {}
            }
            params
        }))
    }

    /// SigV4's credential scope parsed with `part` rewritten to what the
    /// verifier serves; the string to sign and the key made with the scope
    /// as received.
    fn parse_scope_part_as_ours(
        &self,
        req: &Request,
        part: ScopePart,
    ) -> Option<Result<SignatureParams<'static>, Rejection>> {
        let authorization = authorization(req)?;
        let start = authorization.find("Credential=")? + "Credential=".len();
        let end = authorization[start..]
            .find(',')
            .map_or(authorization.len(), |e| start + e);
        let credential = &authorization[start..end];
        let (access_key, received) = credential.split_once('/')?;
        let amz_date = req.headers().get("x-amz-date")?.to_str().ok()?;
        let ours = self.our_scope(amz_date)?;
        let mut parts: Vec<&str> = received.split('/').collect();
        let our_parts: Vec<&str> = ours.split('/').collect();
        let (i, expected) = (part.index(), *our_parts.get(part.index())?);
        *parts.get_mut(i)? = expected;
        let rewritten = format!(
            "{}{access_key}/{}{}",
            &authorization[..start],
            parts.join("/"),
            &authorization[end..]
        );
        let mut seen = req.clone();
        seen.headers_mut().insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(&rewritten).ok()?,
        );
        let received = received.to_owned();
        Some(self.inner.parse(&self.seen(&seen)).map(|params| {
            let mut params = params.into_owned();
            params.scope = Some(received.into());
            params
        }))
    }

    /// The credential scope this verifier serves at `amz_date`, as its
    /// signer writes it.
    fn our_scope(&self, amz_date: &str) -> Option<String> {
        let input = SignInput {
            timestamp: amz_date.to_owned(),
            ..placeholder_input()
        };
        let probe = http::Request::get("/")
            .header("host", "sigconform.test")
            .body(bytes::Bytes::new())
            .ok()?;
        let params = self.inner.signing_params(&probe, &input).ok()?;
        let (_, authorization) = self
            .inner
            .signature_headers(&params, "x")
            .into_iter()
            .find(|(name, _)| name == http::header::AUTHORIZATION)?;
        let credential = authorization
            .split("Credential=")
            .nth(1)?
            .split(',')
            .next()?;
        Some(credential.split_once('/')?.1.to_owned())
    }

    /// SigV4's `Authorization` parsed as if its first word named
    /// `AWS4-HMAC-SHA256`, whatever it names.
    fn parse_algorithm_name_as_ours(
        &self,
        req: &Request,
    ) -> Option<Result<SignatureParams<'static>, Rejection>> {
        let authorization = authorization(req)?;
        let (_, rest) = authorization.split_once(' ')?;
        let mut seen = req.clone();
        seen.headers_mut().insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(&format!(
                "{} {rest}",
                sigconform_core::scheme::sigv4::ALGORITHM
            ))
            .ok()?,
        );
        Some(
            self.inner
                .parse(&self.seen(&seen))
                .map(SignatureParams::into_owned),
        )
    }

    /// A presigned URL's lifetime read, then capped at seven days rather
    /// than refused (only for parsing: the query signed is as sent).
    fn parse_expires_capped(
        &self,
        req: &Request,
    ) -> Option<Result<SignatureParams<'static>, Rejection>> {
        let asked = x_amz_expires().read(req)?.parse::<u64>().ok()?;
        let capped = asked.min(604_800);
        self.parse_rewritten_at(req, &x_amz_expires(), capped.to_string().as_bytes(), |p| {
            p.presigned_for = Some(capped);
        })
    }

    /// RFC 9421's covered components parsed with the list cleaned (each
    /// once, unknown parameters dropped); the base written from the list
    /// as received.
    fn parse_components_cleaned(
        &self,
        req: &Request,
    ) -> Option<Result<SignatureParams<'static>, Rejection>> {
        let at = self.location(&Field::SignedHeaders)?;
        let items = inner_list_items(at.read(req)?);
        let mut cleaned: Vec<String> = Vec::new();
        for item in items.iter().map(|i| known_parameters_only(i)) {
            if !cleaned.contains(&item) {
                cleaned.push(item);
            }
        }
        let cleaned = format!("({})", cleaned.join(" "));
        self.parse_rewritten_at(req, &at, cleaned.as_bytes(), |p| {
            p.signed_headers = items.into_iter().map(Into::into).collect();
        })
    }

    /// RFC 9421's `alg` parsed as if it named the verifier's algorithm;
    /// signed as named.
    fn parse_alg_as_ours(
        &self,
        req: &Request,
    ) -> Option<Result<SignatureParams<'static>, Rejection>> {
        let covered = self.location(&Field::SignedHeaders)?;
        let at = metadata_parameter(&covered, "alg")?;
        let named = at.read(req)?.to_owned();
        self.parse_rewritten_at(req, &at, b"hmac-sha256", |p| {
            for (name, value) in &mut p.parameters {
                if name == "alg" {
                    *value = format!("\"{named}\"").into();
                }
            }
        })
    }

    /// The correct parser's reading of `req` with `at` rewritten to
    /// `value`, then `signed` changed as the defect signs it.
    fn parse_rewritten_at(
        &self,
        req: &Request,
        at: &Location,
        value: &[u8],
        signed: impl FnOnce(&mut SignatureParams<'static>),
    ) -> Option<Result<SignatureParams<'static>, Rejection>> {
        let mut seen = req.clone();
        let _ = at.write(&mut seen, value);
        Some(self.inner.parse(&self.seen(&seen)).map(|params| {
            let mut params = params.into_owned();
            signed(&mut params);
            params
        }))
    }

    /// What the defects that read the request as sent change in what the
    /// correct parser made of it.
    fn misread(&self, req: &Request, params: &mut SignatureParams<'static>) {
        match &self.defect {
            Defect::TrustsBodyHash => {
                if let Some(claimed) = self.location(&Field::BodyHash).and_then(|at| at.read(req)) {
                    params.body_hash = Some(claimed.to_owned().into());
                }
            }
            Defect::OptionalField(field, absent) if self.missing(req, field) => {
                sign_absence(params, field, absent, self.now());
            }
            Defect::LenientTimestamps => {
                // The window read the lenient value; the string signed is
                // the one received.
                if let Some(raw) = self.location(&Field::Timestamp).and_then(|at| at.read(req)) {
                    params.timestamp = raw.to_owned().into();
                }
            }
            Defect::EitherUnit => {
                params.timestamp_value = in_either_unit(params.timestamp_value, self.now());
            }
            Defect::AlgorithmFromTagLength => {
                params.algorithm = match params.tag.as_bytes().len() {
                    64 => Algorithm::Sha512,
                    _ => Algorithm::Sha256,
                };
            }
            Defect::VerifiesAsSigned(signed_as) => {
                if let Some(ts) = &signed_as.timestamp {
                    params.timestamp = ts.clone().into();
                }
                if let Some(nonce) = &signed_as.nonce {
                    params.nonce = Some(nonce.clone().into());
                }
                if let Some(absence) = &signed_as.absent {
                    sign_absence(params, &absence.field, &absence.signed, self.now());
                }
            }
            _ => {}
        }
    }

    /// `rfc9421`: the first member of `Signature` renamed to the label of
    /// the signature checked.
    fn first_signature_as_labelled(&self, seen: &mut Request) {
        let (Some(Location::Member { key: label, .. }), Some(Location::Member { header, .. })) = (
            self.location(&Field::SignedHeaders),
            self.location(&Field::Tag),
        ) else {
            return;
        };
        let Some(value) = seen.headers().get(&header).and_then(|v| v.to_str().ok()) else {
            return;
        };
        let Some(renamed) = member::rename_first(value, &label) else {
            return;
        };
        if let Ok(value) = http::HeaderValue::from_str(&renamed) {
            seen.headers_mut().insert(header, value);
        }
    }

    /// Writes a stand-in where `field` is missing, so that the correct
    /// scheme parses the request; [`Defective::parse`] then signs the
    /// field's absence as the defect says.
    fn fill_missing(&self, field: &Field, req: &mut Request) {
        let Some(at) = self.location(field) else {
            return;
        };
        if at.read(req).is_some() {
            return;
        }
        let value = match field {
            Field::Timestamp => self.now().to_string(),
            Field::Nonce => "-".into(),
            Field::KeyId => DEFAULT_KEY_ID.into(),
            Field::BodyHash => self.body_hash(req),
            _ => return,
        };
        let _ = at.write(req, value.as_bytes());
    }

    /// The request as the defective verifier signs it: as it reads it
    /// ([`Self::seen`]), except that a field in the query is part of the
    /// URL, which is signed as sent: left out or empty where the signer
    /// wrote its absence so, the claimed body hash where it was trusted
    /// (parsing found them filled in or corrected).
    fn signed_view(&self, req: &Request) -> Request {
        let mut seen = self.seen(req);
        match &self.defect {
            Defect::OptionalField(field, how) if self.missing(req, field) => {
                let _ =
                    sigconform_core::tamper::sign_absence_in_request(self, &mut seen, field, *how);
            }
            // The claimed hash is what is signed (SigV4 signs its header).
            Defect::TrustsBodyHash => {
                if let Some(at) = self.location(&Field::BodyHash)
                    && let Some(claimed) = at.read(req)
                {
                    let _ = at.write(&mut seen, claimed.as_bytes());
                }
            }
            _ => {}
        }
        seen
    }

    /// The body hash a signer of the scheme writes for `req` (base64, as
    /// `a2a` writes it, where the scheme writes none).
    fn body_hash(&self, req: &Request) -> String {
        // Asked of the request without the hash it claims, which a signer
        // would sign as said.
        let at = self.location(&Field::BodyHash);
        let claimed = at.as_ref().and_then(|at| at.read(req)).map(str::to_owned);
        let mut bare = req.clone();
        if let Some(at) = &at {
            let _ = at.remove(&mut bare);
        }
        let digest = sigconform_core::crypto::sha256(req.body());
        self.inner
            .signing_params(&bare, &placeholder_input())
            .ok()
            .and_then(|p| p.body_hash.map(|h| h.into_owned()))
            .unwrap_or_else(|| match claimed {
                // Where hashes are hex (SigV4's `x-amz-content-sha256`).
                Some(c) if c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    TagEncoding::LowerHex.encode(&digest)
                }
                _ => TagEncoding::Base64.encode(&digest),
            })
    }

    /// A well-formed tag of the placeholder byte where the tag is.
    fn placeholder_tag(&self, req: &mut Request) {
        // (A SigV4 presigned URL's tag is in its query, not where the
        // header form has it: left as it is.)
        let presigned = req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("X-Amz-Signature=")));
        if let Some(at) = self.location(&Field::Tag)
            && !presigned
        {
            let tag = self
                .inner
                .tag_encoding()
                .encode(&[PLACEHOLDER_TAG_BYTE; 32]);
            let _ = at.write(req, tag.as_bytes());
        }
    }

    /// Whether the header that carries the tag is there exactly once.
    fn tag_header_once(&self, req: &Request) -> bool {
        self.location(&Field::Tag)
            .and_then(|at| at.header().cloned())
            .is_some_and(|header| req.headers().get_all(header).iter().count() == 1)
    }

    fn algorithm_is_none(&self, req: &Request) -> bool {
        self.location(&Field::Algorithm)
            .and_then(|at| at.read(req))
            .is_some_and(|name| name.eq_ignore_ascii_case("none"))
    }

    fn set_algorithm(&self, req: &mut Request, name: &str) {
        if let Some(at) = self.location(&Field::Algorithm) {
            let _ = at.write(req, name.as_bytes());
        }
    }

    /// Whether `field` is missing from `req` where the scheme carries it.
    fn missing(&self, req: &Request, field: &Field) -> bool {
        match self.location(field) {
            Some(Location::Signed) | None => true,
            Some(at) => at.read(req).is_none(),
        }
    }

    /// A chunked upload's chunks (and trailer) checked with the defect's
    /// leniency (the request's own signature, the seed, already verified).
    fn verify_chunks(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        key: &Key,
    ) -> Result<(), Rejection> {
        let signing_key = self.signing_key(key, params);
        let scope = params.scope.as_deref().unwrap_or_default();
        let seed = TagEncoding::LowerHex.encode(params.tag.as_bytes());
        let framed = chunked::Framed::read(req.body())?;
        let (mut previous, mut total) = (seed.clone(), 0u64);
        for chunk in &framed.chunks {
            let after = match self.defect {
                Defect::ChunksNotChained => &seed,
                _ => &previous,
            };
            let expected =
                chunked::chunk_signature(&signing_key, &params.timestamp, scope, after, chunk.data);
            let compared = self.defect != Defect::OnlyFinalChunkCompared || chunk.data.is_empty();
            if compared && !chunked::signature_matches(chunk.signature, &expected)? {
                return Err(Rejection::BadSignature);
            }
            total += chunk.data.len() as u64;
            previous = expected;
        }
        let trailer = params.body_hash.as_deref() == Some(chunked::STREAMING_PAYLOAD_TRAILER);
        match framed.after_final {
            None if self.defect == Defect::FinalChunkOptional => {}
            None => return Err(Rejection::BadSignature),
            Some(after) if !trailer => {
                if after != b"\r\n" {
                    return Err(Rejection::BadSignature);
                }
            }
            Some(after) => {
                let trailers = chunked::Trailers::read(after)?;
                let signature = chunked::trailer_signature(
                    &signing_key,
                    &params.timestamp,
                    scope,
                    &previous,
                    &trailers.signed(),
                );
                let signed = trailers
                    .signature
                    .is_some_and(|s| chunked::signature_matches(s, &signature) == Ok(true));
                if self.defect != Defect::TrailerSignatureUnchecked && !signed {
                    return Err(Rejection::BadSignature);
                }
                let summed = trailers
                    .get(chunked::CHECKSUM_SHA256)
                    .is_some_and(|c| chunked::checksum_matches(c, &framed.data()));
                if self.defect != Defect::TrailerChecksumUnchecked && !summed {
                    return Err(Rejection::BodyHashMismatch);
                }
            }
        }
        let declared = req
            .headers()
            .get("x-amz-decoded-content-length")
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if self.defect != Defect::DecodedLengthUnchecked && declared != Some(total) {
            return Err(Rejection::BadSignature);
        }
        Ok(())
    }
}

/// Where `at` is an item of a list, the list with only the last of its
/// items of that key.
fn keep_last_item(at: &Location, req: &mut Request) {
    let Location::Item {
        header,
        separator,
        assign,
        key,
    } = at
    else {
        return;
    };
    let Some(text) = req.headers().get(header).and_then(|v| v.to_str().ok()) else {
        return;
    };
    let is_tag = |item: &&str| item.split_once(*assign).map(|(k, _)| k) == Some(key.as_str());
    let items: Vec<&str> = text.split(*separator).collect();
    let last = items.iter().rposition(&is_tag);
    let kept: Vec<&str> = items
        .iter()
        .enumerate()
        .filter(|(n, item)| !is_tag(item) || Some(*n) == last)
        .map(|(_, item)| *item)
        .collect();
    if let Ok(value) = http::HeaderValue::from_str(&kept.join(&separator.to_string())) {
        req.headers_mut().insert(header.clone(), value);
    }
}

/// `req` as a verifier that reads one component through `read` sees it.
fn read_lossily(read: LossyRead, req: &mut Request) {
    match read.component() {
        Component::Body => {
            let body = read.read(req.body()).into_owned();
            *req.body_mut() = body.into();
        }
        Component::Path => {
            let path = read.read(req.uri().path().as_bytes()).into_owned();
            let query = req.uri().query().map(|q| q.as_bytes().to_vec());
            set_path_and_query(req, &path, query.as_deref());
        }
        Component::Query => {
            let Some(query) = req.uri().query() else {
                return;
            };
            let query = read.read(query.as_bytes()).into_owned();
            let path = req.uri().path().to_owned();
            set_path_and_query(req, path.as_bytes(), Some(&query));
        }
    }
}

/// Gives `req` the target `path` and `query`, where they make a URI (a
/// reading step may make one that is not: it is then left as it was).
fn set_path_and_query(req: &mut Request, path: &[u8], query: Option<&[u8]>) {
    let uri = match query {
        Some(q) => [path, b"?", q].concat(),
        None => path.to_vec(),
    };
    if let Ok(uri) = http::Uri::try_from(uri) {
        *req.uri_mut() = uri;
    }
}

/// The text of `field` in `req`, where `scheme` carries it, with the
/// header it is in read as UTF-8 (as web frameworks hand headers to code).
fn field_text<'r>(scheme: &dyn Scheme, req: &'r Request, field: &Field) -> Option<&'r str> {
    let at = scheme.location(field)?;
    match at.header() {
        Some(header) => {
            at.read_in(std::str::from_utf8(req.headers().get(header)?.as_bytes()).ok()?)
        }
        None => at.read(req),
    }
}

/// A signing input for asking a scheme what it signs with (the algorithm).
fn placeholder_input() -> SignInput {
    SignInput {
        key_id: Some(DEFAULT_KEY_ID.into()),
        timestamp: "0".into(),
        nonce: Some("-".into()),
        ..SignInput::default()
    }
}

/// Removes `.` and `..` segments and empty segments from a path.
fn normalize_path(path: &str) -> String {
    let segments = sigconform_core::request::resolved_segments(path);
    format!("/{}", segments.join("/"))
}

/// A path with each run of slashes made one.
fn merge_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

/// A path with its `.` and `..` segments resolved, its empty segments kept.
fn resolve_dot_segments(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/').skip(1) {
        match segment {
            "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    format!("/{}", segments.join("/"))
}

/// A timestamp as JavaScript's `Number()` or Python's `float()` reads it:
/// whitespace around it, a sign, a fraction, an exponent, hexadecimal
/// `0x`, any number of digits; rounded down. `None` for what they reject
/// or for a time before 1970.
fn lenient_timestamp(text: &str) -> Option<u64> {
    let text = text.trim();
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    if let Some(hex) = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        return u64::from_str_radix(hex, 16).ok();
    }
    let value: f64 = text.parse().ok()?;
    (value.is_finite() && value >= 0.0).then(|| value.floor() as u64)
}

/// Drops repeated headers and repeated `name="value"` parameters, keeping
/// the first of each.
fn first_of_duplicates(req: &mut Request) {
    let names: Vec<http::HeaderName> = req.headers().keys().cloned().collect();
    for name in names {
        let first = req.headers().get(&name).cloned();
        if let Some(first) = first {
            req.headers_mut().insert(name.clone(), first);
        }
        let rewritten = req
            .headers()
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .and_then(|text| {
                let sigconform_core::request::Parameters { word, items: list } =
                    sigconform_core::request::parameters(text)?;
                let mut kept: Vec<(&str, &str)> = Vec::new();
                for (n, v) in list {
                    if !kept.iter().any(|(k, _)| *k == n) {
                        kept.push((n, v));
                    }
                }
                Some(sigconform_core::request::write_parameters(
                    word, &kept, None,
                ))
            });
        if let Some(value) = rewritten.and_then(|t| http::HeaderValue::from_str(&t).ok()) {
            req.headers_mut().insert(name, value);
        }
    }
}

/// Puts double quotes around the unquoted parameter values of the
/// `Authorization` header.
fn requote(req: &mut Request) {
    let Some(text) = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    let (word, list) = match text.split_once(' ') {
        Some((word, list)) => (Some(word), list),
        None => (None, text),
    };
    let quoted: Vec<String> = list
        .split(',')
        .map(|part| match part.trim().split_once('=') {
            Some((n, v)) if !v.starts_with('"') => format!("{n}=\"{v}\""),
            _ => part.trim().to_owned(),
        })
        .collect();
    let value = match word {
        Some(word) => format!("{word} {}", quoted.join(",")),
        None => quoted.join(","),
    };
    if let Ok(value) = http::HeaderValue::from_str(&value) {
        req.headers_mut().insert(http::header::AUTHORIZATION, value);
    }
}

/// A timestamp read in whichever unit, seconds or milliseconds, puts it
/// near `now` (within a factor of two); as it is where neither does.
fn in_either_unit(value: u64, now: u64) -> u64 {
    if value / 1000 > now / 2 && value / 1000 < now.saturating_mul(2) {
        value / 1000
    } else if value.saturating_mul(1000) > now / 2
        && value.saturating_mul(1000) < now.saturating_mul(2)
    {
        value.saturating_mul(1000)
    } else {
        value
    }
}

impl Scheme for Defective {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn delivery(&self) -> sigconform_core::scheme::Delivery {
        self.inner.delivery()
    }
    fn location(&self, field: &Field) -> Option<Location> {
        self.inner.location(field)
    }
    fn rule(&self) -> &str {
        self.inner.rule()
    }
    fn replay(&self) -> sigconform_core::scheme::ReplayRule {
        self.inner.replay()
    }
    fn sender(&self) -> sigconform_core::scheme::Sender {
        self.inner.sender()
    }
    fn prepare(&self, req: &mut Request, signed_body: &[u8]) {
        self.inner.prepare(req, signed_body)
    }
    fn key(&self, id: &str, secret: &Secret) -> Result<Key, sigconform_core::scheme::ConfigError> {
        self.inner.key(id, secret)
    }
    fn window(&self) -> Window {
        self.inner.window()
    }
    fn tag_encoding(&self) -> TagEncoding {
        self.inner.tag_encoding()
    }
    fn encoded(&self, field: &Field) -> Option<(Location, TagEncoding)> {
        self.inner.encoded(field)
    }
    fn check_time(&self, params: &SignatureParams<'_>, now_ms: u64) -> Result<(), Rejection> {
        match self.defect {
            Defect::PresignedNeverExpires if params.presigned_for.is_some() => Ok(()),
            Defect::IgnoresExpires => {
                let mut unexpiring = params.clone();
                unexpiring.parameters.retain(|(name, _)| name != "expires");
                self.inner.check_time(&unexpiring, now_ms)
            }
            _ => self.inner.check_time(params, now_ms),
        }
    }
    fn timestamp_text(&self, value: u64) -> String {
        self.inner.timestamp_text(value)
    }
    fn fields_in(&self, name: &http::HeaderName) -> Vec<Field> {
        self.inner.fields_in(name)
    }
    fn signing_key<'k>(
        &self,
        key: &'k Key,
        params: &SignatureParams<'_>,
    ) -> std::borrow::Cow<'k, sigconform_core::crypto::MacKey> {
        self.inner.signing_key(key, params)
    }
    fn canonical_request(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
    ) -> Option<Result<Vec<u8>, Rejection>> {
        self.inner.canonical_request(&self.signed_view(req), params)
    }
    fn parse<'r>(&self, req: &'r Request) -> Result<SignatureParams<'r>, Rejection> {
        if let Some(parsed) = self.parse_rewritten(req) {
            return parsed;
        }
        let mut params = self.inner.parse(&self.seen(req))?.into_owned();
        self.misread(req, &mut params);
        if self.defect == Defect::RecordsNonceBeforeTag
            && let Some(nonce) = &params.nonce
        {
            let key_id = params.key_id.as_deref().unwrap_or_default().to_owned();
            let fresh = self
                .parsed_nonces
                .lock()
                .map_or(true, |mut seen| seen.insert((key_id, nonce.to_string())));
            if !fresh {
                return Err(Rejection::ReplayedNonce);
            }
        }
        Ok(params)
    }
    fn canonicalize(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn sigconform_core::crypto::ByteSink,
    ) -> Result<(), Rejection> {
        self.inner.canonicalize(&self.signed_view(req), params, out)
    }
    fn signing_params<'a>(
        &self,
        req: &Request,
        input: &'a SignInput,
    ) -> Result<SignatureParams<'a>, sigconform_core::scheme::SignError> {
        self.inner.signing_params(req, input)
    }
    fn signature_headers(
        &self,
        params: &SignatureParams<'_>,
        encoded_tag: &str,
    ) -> Vec<(http::HeaderName, String)> {
        self.inner.signature_headers(params, encoded_tag)
    }
    fn verify(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        key: &Key,
    ) -> Result<(), Rejection> {
        let expected = |req: &Request| {
            self.signing_key(key, params)
                .sign_streamed(params.algorithm, |out| self.canonicalize(req, params, out))
        };
        match &self.defect {
            Defect::AnyTag => Ok(()),
            // The seed alone: the signed string does not hold the body.
            Defect::ChunksNotVerified => {
                sigconform_core::scheme::verify_tag(self, req, params, key)
            }
            Defect::OnlyFinalChunkCompared
            | Defect::ChunksNotChained
            | Defect::FinalChunkOptional
            | Defect::DecodedLengthUnchecked
            | Defect::TrailerChecksumUnchecked
            | Defect::TrailerSignatureUnchecked
                if matches!(
                    params.body_hash.as_deref(),
                    Some(chunked::STREAMING_PAYLOAD | chunked::STREAMING_PAYLOAD_TRAILER)
                ) =>
            {
                sigconform_core::scheme::verify_tag(self, req, params, key)?;
                self.verify_chunks(req, params, key)
            }
            Defect::AcceptsAlgorithmNone if self.algorithm_is_none(req) => Ok(()),
            Defect::MethodNotCovered => {
                let mut other = req.clone();
                for method in ANY_METHOD {
                    *other.method_mut() = method;
                    if self
                        .inner
                        .verify(&self.signed_view(&other), params, key)
                        .is_ok()
                    {
                        return Ok(());
                    }
                }
                Err(Rejection::BadSignature)
            }
            Defect::CaseFoldedTagCompare => {
                // The bug: `expected.lower() == received.lower()`.
                let expected = self.inner.tag_encoding().encode(expected(req)?.as_bytes());
                match field_text(self, req, &Field::Tag) {
                    Some(received) if received.eq_ignore_ascii_case(&expected) => Ok(()),
                    _ => Err(Rejection::BadSignature),
                }
            }
            Defect::AcceptsTagPrefix => {
                // The bug: `expected.starts_with(received)`.
                if expected(req)?.as_bytes().starts_with(params.tag.as_bytes()) {
                    Ok(())
                } else {
                    Err(Rejection::BadSignature)
                }
            }
            Defect::ByteByByteCompare | Defect::ByteByByteCompareFromTheEnd => {
                if params.tag.as_bytes().len() != params.algorithm.tag_len() {
                    return Err(Rejection::MalformedSignature);
                }
                let (expected, received) = (expected(req)?, params.tag.as_bytes());
                let from_the_end = matches!(self.defect, Defect::ByteByByteCompareFromTheEnd);
                for i in 0..received.len() {
                    let i = if from_the_end {
                        received.len() - 1 - i
                    } else {
                        i
                    };
                    if expected.as_bytes().get(i) != Some(&received[i]) {
                        return Err(Rejection::BadSignature);
                    }
                    // The bug made visible: work per matching byte.
                    let until = std::time::Instant::now() + std::time::Duration::from_micros(20);
                    while std::time::Instant::now() < until {
                        std::hint::spin_loop();
                    }
                }
                Ok(())
            }
            _ => self.inner.verify(&self.signed_view(req), params, key),
        }
    }
}

/// How a verifier that treats `field` as optional signs its absence.
fn sign_absence(params: &mut SignatureParams<'_>, field: &Field, absent: &Absent, now: u64) {
    match absent {
        Absent::Omitted => params.omitted = Some(field.clone()),
        Absent::Empty => match field {
            Field::Timestamp => params.timestamp = "".into(),
            Field::Nonce => params.nonce = Some("".into()),
            Field::BodyHash => params.body_hash = Some("".into()),
            _ => {}
        },
        // The stand-in written where the timestamp was missing is "now".
        Absent::Now => {}
    }
    match field {
        // No nonce: no replay check.
        Field::Nonce if *absent == Absent::Omitted => params.nonce = None,
        // No key id: the default key.
        Field::KeyId => params.key_id = None,
        Field::Timestamp => params.timestamp_value = now,
        _ => {}
    }
}

/// Unknown key ids given a key after all: looked up again under another
/// id, or given a secret made from the id.
#[derive(Debug, Clone, Copy)]
enum Fallback {
    Id(fn(&str) -> String),
    Secret(fn(&str) -> String),
}

struct SecondLookup {
    keys: Arc<dyn KeyLookup>,
    fallback: Fallback,
    /// The scheme's keys from secrets (SigV4's are `"AWS4" + secret`).
    make_key: KeyMaker,
}

impl KeyLookup for SecondLookup {
    fn lookup<'a>(&'a self, key_id: &'a str) -> Answer<'a, Result<Arc<Key>, LookupError>> {
        answer::later(async move {
            match (self.keys.lookup(key_id).await, self.fallback) {
                (Err(LookupError::Unknown), Fallback::Id(instead)) => {
                    self.keys.lookup(&instead(key_id)).await
                }
                (Err(LookupError::Unknown), Fallback::Secret(secret)) => Ok(Arc::new((self
                    .make_key)(
                    key_id,
                    &Secret::new(secret(key_id)),
                ))),
                (other, _) => other,
            }
        })
    }
}

/// Check-then-record in two steps ([`Defect::NonAtomicNonces`]).
#[derive(Default)]
struct RacyNonces(std::sync::Mutex<std::collections::HashSet<String>>);

impl NonceStore for RacyNonces {
    fn check_and_record<'a>(
        &'a self,
        key_id: &'a str,
        nonce: &'a str,
        _: u64,
        _: u64,
    ) -> Answer<'a, Result<(), NonceError>> {
        answer::later(self.check_then_record(format!("{key_id}\n{nonce}")))
    }
}

impl RacyNonces {
    async fn check_then_record(&self, key: String) -> Result<(), NonceError> {
        if self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key)
        {
            return Err(NonceError::Replayed);
        }
        // The bug: the lock is released between the check and the record.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(key);
        Ok(())
    }
}

/// A correct store that keeps nonces for `ms` only
/// ([`Defect::ForgetsNoncesAfter`]).
struct ShortMemory {
    store: MemoryNonceStore,
    ms: u64,
}

impl NonceStore for ShortMemory {
    fn check_and_record<'a>(
        &'a self,
        key_id: &'a str,
        nonce: &'a str,
        now_ms: u64,
        ttl_ms: u64,
    ) -> Answer<'a, Result<(), NonceError>> {
        self.store
            .check_and_record(key_id, nonce, now_ms, ttl_ms.min(self.ms))
    }
}

/// Removes every `__proto__` member, as `out[k] = v` does in JavaScript;
/// whether there was one.
fn drop_proto_members(value: &mut serde_json::Value) -> bool {
    match value {
        serde_json::Value::Object(members) => {
            let mut dropped = members.remove("__proto__").is_some();
            for member in members.values_mut() {
                dropped |= drop_proto_members(member);
            }
            dropped
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .fold(false, |dropped, item| drop_proto_members(item) | dropped),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_timestamps_read_what_float_and_number_read() {
        for (text, value) in [
            ("1700000000", Some(1_700_000_000)),
            ("1700000000.5", Some(1_700_000_000)),
            ("+1700000000", Some(1_700_000_000)),
            (" 1700000000", Some(1_700_000_000)),
            ("1700000000 ", Some(1_700_000_000)),
            ("1.7e9", Some(1_700_000_000)),
            ("0x6553f100", Some(1_700_000_000)),
            ("01700000000", Some(1_700_000_000)),
            ("00000000001700000000", Some(1_700_000_000)),
            ("-1700000000", None),
            ("abc", None),
            ("inf", None),
        ] {
            assert_eq!(lenient_timestamp(text), value, "{text}");
        }
    }

    #[test]
    fn paths_read_with_slashes_merged_or_dot_segments_resolved() {
        assert_eq!(merge_slashes("/b//o/./x"), "/b/o/./x");
        assert_eq!(resolve_dot_segments("/b//o/./x/../y"), "/b//o/y");
    }

    #[test]
    fn duplicates_keep_their_first_copy() {
        let mut req = http::Request::get("/")
            .header("x-a", "1")
            .header("x-a", "2")
            .header("authorization", r#"Signature a="1",b="2",a="3""#)
            .body(bytes::Bytes::new())
            .unwrap();
        first_of_duplicates(&mut req);
        assert_eq!(req.headers().get_all("x-a").iter().count(), 1);
        assert_eq!(req.headers()["x-a"], "1");
        assert_eq!(req.headers()["authorization"], r#"Signature a="1",b="2""#);
    }

    #[test]
    fn unquoted_parameters_are_quoted() {
        let mut req = http::Request::get("/")
            .header(
                "authorization",
                r#"Signature keyId=k, nonce="n",timestamp=1"#,
            )
            .body(bytes::Bytes::new())
            .unwrap();
        requote(&mut req);
        assert_eq!(
            req.headers()["authorization"],
            r#"Signature keyId="k",nonce="n",timestamp="1""#
        );
    }
}
