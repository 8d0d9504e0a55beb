//! `authorization`: `Authorization: Signature keyId="…",algorithm="…",
//! headers="…",timestamp="…",nonce="…",signature="…"` (seed 001).
//!
//! The signing string joins with `\n`: the upper-case method; the path; one
//! `name:value` line per covered header, sorted by name (an absent header
//! signs as `name:`); the query parameters decoded as form data and sorted,
//! `k=v` joined by `&`, when there is a query; `body-hash:{hex SHA-256}`
//! when there is a body; `timestamp:{ts}`; `nonce:{nonce}`.

use std::borrow::Cow;

use http::{HeaderName, header::AUTHORIZATION};

use super::{
    ConfigError, Field, Location, Scheme, SchemeConfig, SchemeId, SignError, SignInput,
    SignatureParams, basic_signing_params, configured_window, put_field, put_uppercase,
};
use crate::Rejection;
use crate::crypto::{Algorithm, ByteSink, TagEncoding, body_sha256};
use crate::request::{Request, required_header};
use crate::time::{TimeUnit, Window};

/// What signers cover by default: the original implementation's default.
pub const DEFAULT_SIGNED_HEADERS: [&str; 3] = ["host", "content-type", "content-length"];

/// The `authorization` scheme.
#[derive(Debug, Clone)]
pub struct Authorization {
    window: Window,
    /// `None`: `host`, plus `content-type` when there is a body.
    required_headers: Option<Vec<String>>,
}

impl Authorization {
    /// Default window: 300 s in the past, 30 s in the future.
    pub const DEFAULT_WINDOW: Window = Window {
        unit: TimeUnit::Seconds,
        past: 300,
        future: 30,
    };

    /// Builds the scheme from `config`.
    pub fn new(config: &SchemeConfig) -> Result<Self, ConfigError> {
        Ok(Authorization {
            window: configured_window(Self::DEFAULT_WINDOW, config),
            required_headers: config
                .required_headers
                .as_ref()
                .map(|names| names.iter().map(|n| n.to_ascii_lowercase()).collect()),
        })
    }

    fn check_required_headers(
        &self,
        req: &Request,
        signed: &[Cow<'_, str>],
    ) -> Result<(), Rejection> {
        let covered = |name: &str| signed.iter().any(|s| s == name);
        match &self.required_headers {
            Some(required) => {
                if let Some(missing) = required.iter().find(|r| !covered(r)) {
                    return Err(Rejection::HeaderNotSigned(missing.clone()));
                }
            }
            None => {
                if !covered("host") {
                    return Err(Rejection::HeaderNotSigned("host".into()));
                }
                if !req.body().is_empty() && !covered("content-type") {
                    return Err(Rejection::HeaderNotSigned("content-type".into()));
                }
            }
        }
        Ok(())
    }
}

/// The parameters of an `Authorization: Signature …` header, each at most once.
#[derive(Default)]
struct Params<'a> {
    key_id: Option<&'a str>,
    algorithm: Option<&'a str>,
    headers: Option<&'a str>,
    timestamp: Option<&'a str>,
    nonce: Option<&'a str>,
    signature: Option<&'a str>,
}

fn malformed(detail: &'static str) -> Rejection {
    Rejection::MalformedHeader {
        header: "authorization".into(),
        detail,
    }
}

/// Parses `Signature name="value",name="value",…`.
///
/// Parameter names are tokens, values are double-quoted without escapes,
/// parameters are separated by `,` with optional spaces. Unknown parameters
/// are ignored; a repeated one is a rejection, because two parsers could
/// each take a different copy. One pass over the bytes: a name is read as
/// it is checked, and only a value's closing quote is searched for.
fn parse_params(header: &str) -> Result<Params<'_>, Rejection> {
    let rest = header
        .strip_prefix("Signature ")
        .ok_or_else(|| malformed("expected the Signature scheme"))?;
    let bytes = rest.as_bytes();
    let skip_spaces = |mut at: usize| {
        while bytes.get(at) == Some(&b' ') {
            at += 1;
        }
        at
    };
    let mut params = Params::default();
    let mut at = skip_spaces(0);
    loop {
        let start = at;
        while bytes
            .get(at)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            at += 1;
        }
        let name = &rest[start..at];
        if bytes.get(at) != Some(&b'=') {
            return Err(if bytes[at..].contains(&b'=') {
                malformed("invalid parameter name")
            } else {
                malformed("expected name=\"value\"")
            });
        }
        if name.is_empty() {
            return Err(malformed("invalid parameter name"));
        }
        if bytes.get(at + 1) != Some(&b'"') {
            return Err(malformed("parameter value is not quoted"));
        }
        let (value, after_value) = rest[at + 2..]
            .split_once('"')
            .ok_or_else(|| malformed("unterminated quoted value"))?;
        let slot = match name {
            "keyId" => &mut params.key_id,
            "algorithm" => &mut params.algorithm,
            "headers" => &mut params.headers,
            "timestamp" => &mut params.timestamp,
            "nonce" => &mut params.nonce,
            "signature" => &mut params.signature,
            _ => &mut None,
        };
        if slot.replace(value).is_some() {
            return Err(Rejection::DuplicateHeader(format!(
                "authorization parameter {name}"
            )));
        }
        at = skip_spaces(rest.len() - after_value.len());
        match bytes.get(at) {
            None => return Ok(params),
            Some(b',') => at = skip_spaces(at + 1),
            Some(_) => return Err(malformed("expected , between parameters")),
        }
    }
}

/// The one value of the header `name` (lower case), if present.
///
/// A scan of the request's few headers, comparing names as text: cheaper
/// than `HeaderMap::get_all(&str)`, which must first parse the text as a
/// header name and hash it, for each of the three or so covered headers.
fn covered_header<'r>(
    req: &'r Request,
    name: &str,
) -> Result<Option<&'r http::HeaderValue>, Rejection> {
    let mut found = None;
    for (header, value) in req.headers() {
        if header.as_str() == name && found.replace(value).is_some() {
            return Err(Rejection::DuplicateHeader(name.to_owned()));
        }
    }
    Ok(found)
}

impl Scheme for Authorization {
    fn name(&self) -> &str {
        SchemeId::Authorization.as_str()
    }

    fn rule(&self) -> &str {
        crate::rules::text("authorization.signed-string")
    }

    fn location(&self, field: &Field) -> Option<Location> {
        let name = match field {
            Field::KeyId => "keyId",
            Field::Algorithm => "algorithm",
            Field::SignedHeaders => "headers",
            Field::Timestamp => "timestamp",
            Field::Nonce => "nonce",
            Field::Tag => "signature",
            Field::BodyHash => return Some(Location::Signed),
            Field::Header(_) => return None,
        };
        Some(Location::Parameter {
            header: AUTHORIZATION,
            name: name.into(),
        })
    }

    fn window(&self) -> Window {
        self.window
    }

    fn tag_encoding(&self) -> TagEncoding {
        TagEncoding::LowerHex
    }

    fn parse<'r>(&self, req: &'r Request) -> Result<SignatureParams<'r>, Rejection> {
        let header = required_header(req, &AUTHORIZATION)?;
        let p = parse_params(header)?;
        let missing =
            |name: &str| Rejection::MissingHeader(format!("authorization parameter {name}"));
        let key_id = p.key_id.ok_or_else(|| missing("keyId"))?;
        let timestamp = p.timestamp.ok_or_else(|| missing("timestamp"))?;
        let nonce = p.nonce.ok_or_else(|| missing("nonce"))?;
        let signature = p.signature.ok_or_else(|| missing("signature"))?;
        if key_id.is_empty() {
            return Err(malformed("empty keyId"));
        }
        if nonce.is_empty() {
            return Err(malformed("empty nonce"));
        }
        let algorithm = match p.algorithm {
            None => Algorithm::Sha256,
            Some(name) => {
                Algorithm::from_http_signature_name(name).ok_or(Rejection::UnsupportedAlgorithm)?
            }
        };
        let mut params = SignatureParams::received(
            Some(key_id),
            algorithm,
            timestamp,
            TagEncoding::LowerHex,
            signature,
        )?;
        // Kept in signing-string order (sorted), so that verifying needs no
        // second list; borrowed unless a name must be lower-cased.
        let mut signed_headers: Vec<Cow<'r, str>> = p
            .headers
            .unwrap_or_default()
            .split(' ')
            .filter(|h| !h.is_empty())
            .map(|h| {
                if h.bytes().any(|b| b.is_ascii_uppercase()) {
                    Cow::Owned(h.to_ascii_lowercase())
                } else {
                    Cow::Borrowed(h)
                }
            })
            .collect();
        signed_headers.sort_unstable();
        self.check_required_headers(req, &signed_headers)?;
        params.nonce = Some(nonce.into());
        params.signed_headers = signed_headers;
        Ok(params)
    }

    fn canonicalize(
        &self,
        req: &Request,
        params: &SignatureParams<'_>,
        out: &mut dyn ByteSink,
    ) -> Result<(), Rejection> {
        put_uppercase(out, req.method().as_str());
        out.put(b"\n");
        out.put(req.uri().path().as_bytes());

        // Parsed parameters are sorted already; a signer's are in its order.
        let names: Cow<'_, [Cow<'_, str>]> = if params.signed_headers.is_sorted() {
            Cow::Borrowed(&params.signed_headers)
        } else {
            let mut names = params.signed_headers.clone();
            names.sort_unstable();
            Cow::Owned(names)
        };
        for name in names.iter() {
            let name = name.as_ref();
            let value = covered_header(req, name)?;
            // A listed header that is absent signs as `name:`; only a
            // verifier that treats it as optional leaves its line out.
            if value.is_none() && matches!(&params.omitted, Some(Field::Header(h)) if h == name) {
                continue;
            }
            out.put(b"\n");
            out.put(name.as_bytes());
            out.put(b":");
            if let Some(value) = value {
                out.put(value.as_bytes());
            }
        }

        if let Some(query) = req.uri().query().filter(|q| !q.is_empty()) {
            // Inline: a query of a few parameters is sorted without allocating.
            let mut pairs: smallvec::SmallVec<[(Cow<'_, str>, Cow<'_, str>); 4]> =
                form_urlencoded::parse(query.as_bytes()).collect();
            pairs.sort_unstable();
            out.put(b"\n");
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.put(b"&");
                }
                out.put(k.as_bytes());
                out.put(b"=");
                out.put(v.as_bytes());
            }
        }

        if !req.body().is_empty() {
            let mut hex = [0u8; 64];
            let hex = base16ct::lower::encode(&body_sha256(req.body()), &mut hex)
                .expect("64 bytes hold a hex SHA-256");
            put_field(out, params, &Field::BodyHash, b"\nbody-hash:", hex, b"");
        }
        put_field(
            out,
            params,
            &Field::Timestamp,
            b"\ntimestamp:",
            params.timestamp.as_bytes(),
            b"",
        );
        let nonce = params.nonce.as_deref().unwrap_or_default();
        put_field(
            out,
            params,
            &Field::Nonce,
            b"\nnonce:",
            nonce.as_bytes(),
            b"",
        );
        Ok(())
    }

    fn signing_params<'a>(
        &self,
        _req: &Request,
        input: &'a SignInput,
    ) -> Result<SignatureParams<'a>, SignError> {
        let mut params =
            basic_signing_params(input, input.algorithm.unwrap_or_default(), true, true)?;
        params.signed_headers = match &input.signed_headers {
            Some(list) => list
                .iter()
                .map(|h| Cow::Owned(h.to_ascii_lowercase()))
                .collect(),
            None => DEFAULT_SIGNED_HEADERS
                .iter()
                .map(|h| Cow::Borrowed(*h))
                .collect(),
        };
        Ok(params)
    }

    fn signature_headers(
        &self,
        params: &SignatureParams<'_>,
        encoded_tag: &str,
    ) -> Vec<(HeaderName, String)> {
        let value = format!(
            "Signature keyId=\"{}\",algorithm=\"{}\",headers=\"{}\",timestamp=\"{}\",nonce=\"{}\",signature=\"{}\"",
            params.key_id.as_deref().unwrap_or_default(),
            params.algorithm.http_signature_name(),
            params.signed_headers.join(" "),
            params.timestamp,
            params.nonce.as_deref().unwrap_or_default(),
            encoded_tag,
        );
        vec![(AUTHORIZATION, value)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_syntax_errors_name_what_is_wrong() {
        let detail = |header: &str| match parse_params(header) {
            Ok(_) => "ok".to_owned(),
            Err(Rejection::MalformedHeader { detail, .. }) => detail.to_owned(),
            Err(other) => format!("{other:?}"),
        };
        for (header, expected) in [
            (r#"Signature keyId="k", nonce="n" ,x="""#, "ok"),
            (r#"Signature  keyId="k""#, "ok"),
            ("Bearer x", "expected the Signature scheme"),
            ("Signature ", "expected name=\"value\""),
            ("Signature keyId", "expected name=\"value\""),
            (r#"Signature key id="k""#, "invalid parameter name"),
            (r#"Signature ="k""#, "invalid parameter name"),
            ("Signature keyId=k", "parameter value is not quoted"),
            (r#"Signature keyId="k"#, "unterminated quoted value"),
            (
                r#"Signature keyId="k" nonce="n""#,
                "expected , between parameters",
            ),
            (
                r#"Signature keyId="k";nonce="n""#,
                "expected , between parameters",
            ),
            (
                r#"Signature nonce="a",nonce="b""#,
                "DuplicateHeader(\"authorization parameter nonce\")",
            ),
        ] {
            assert_eq!(detail(header), expected, "{header}");
        }
    }

    fn received(headers: &str) -> Request {
        let auth = format!(
            "Signature keyId=\"k\",headers=\"{headers}\",timestamp=\"1700000000\",nonce=\"n\",signature=\"{}\"",
            "00".repeat(32)
        );
        http::Request::get("/p")
            .header("host", "h")
            .header("authorization", auth)
            .body(bytes::Bytes::new())
            .unwrap()
    }

    #[test]
    fn signed_header_names_are_sorted_and_borrowed_unless_lower_cased() {
        let scheme = Authorization::new(&SchemeConfig::default()).unwrap();
        let req = received("x-b Host date");
        let params = scheme.parse(&req).unwrap();
        let names: Vec<(&str, bool)> = params
            .signed_headers
            .iter()
            .map(|n| (n.as_ref(), matches!(n, Cow::Borrowed(_))))
            .collect();
        assert_eq!(names, [("date", true), ("host", false), ("x-b", true)]);
    }

    #[test]
    fn the_order_of_the_headers_parameter_does_not_change_the_signing_string() {
        let scheme = Authorization::new(&SchemeConfig::default()).unwrap();
        let canonical = |headers: &str| {
            let req = received(headers);
            let mut params = scheme.parse(&req).unwrap();
            let mut out = Vec::new();
            scheme.canonicalize(&req, &params, &mut out).unwrap();
            // A signer's list arrives in its own order: sorted while signing.
            params.signed_headers.reverse();
            let mut signer = Vec::new();
            scheme.canonicalize(&req, &params, &mut signer).unwrap();
            assert_eq!(out, signer);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(canonical("host date"), canonical("date host"));
        assert_eq!(
            canonical("host date"),
            "GET\n/p\ndate:\nhost:h\ntimestamp:1700000000\nnonce:n"
        );
    }
}
