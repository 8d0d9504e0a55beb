//! The pieces of SigV4's canonical request: the URI, the query, the header
//! values, and which headers a signature must cover.
//!
//! Everything is percent-encoded the one way SigV4 allows: every byte but
//! the unreserved `A-Z a-z 0-9 - . _ ~` as `%XX` in upper-case hex.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::Rejection;
use crate::crypto::ByteSink;
use crate::request::Request;

/// How the canonical URI is made from the path as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UriEncoding {
    /// The path decoded, then encoded once: S3, and every path a signer
    /// gave unencoded (the published suite's `get-space`, `get-utf8`).
    Once,
    /// The path as sent, encoded again (every `%` becomes `%25`): the
    /// services other than S3.
    Twice,
    /// The path exactly as sent, neither decoded nor encoded: no service's
    /// rule, but what a verifier that signs the raw path computes.
    AsSent,
}

/// A service's path rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PathRules {
    pub encoding: UriEncoding,
    /// Dot segments and empty segments removed first.
    pub normalize: bool,
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes `bytes` into `out`, keeping `/` when `keep_slash`.
pub(super) fn encode(bytes: &[u8], keep_slash: bool, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in bytes {
        if unreserved(b) || (keep_slash && b == b'/') {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

/// Removes `.` and `..` segments and empty segments, keeping a final `/`.
fn normalize(path: &str) -> Cow<'_, str> {
    let segments = crate::request::resolved_segments(path);
    let mut out = String::with_capacity(path.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || (path.ends_with('/') && path.len() > 1) {
        out.push('/');
    }
    if out == path {
        Cow::Borrowed(path)
    } else {
        Cow::Owned(out)
    }
}

/// Writes the canonical URI of `path` (as sent) under `rules`.
pub(super) fn uri(path: &str, rules: PathRules, out: &mut dyn ByteSink) {
    let path = if path.is_empty() { "/" } else { path };
    let path = if rules.normalize {
        normalize(path)
    } else {
        Cow::Borrowed(path)
    };
    let mut encoded = Vec::with_capacity(path.len() + 8);
    match rules.encoding {
        UriEncoding::Once => {
            let decoded: Cow<'_, [u8]> = percent_encoding::percent_decode_str(&path).into();
            encode(&decoded, true, &mut encoded);
        }
        UriEncoding::Twice => encode(path.as_bytes(), true, &mut encoded),
        UriEncoding::AsSent => encoded.extend_from_slice(path.as_bytes()),
    }
    out.put(&encoded);
}

/// Writes the canonical query of `query` (as sent): each name and value
/// decoded and encoded again, sorted by name then value (by name only,
/// repeated names in the order sent, where `by_value` is false: a
/// verifier's deviation), without the parameters named in `skip` (a
/// presigned URL's signature).
///
/// Every pair is encoded into one buffer and sorted by its ranges there:
/// two allocations for any number of parameters.
pub(super) fn query(query: &str, skip: &[&str], by_value: bool, out: &mut dyn ByteSink) {
    let mut encoded = Vec::with_capacity(query.len() + 16);
    // (name start, value start, value end) in `encoded`.
    let mut pairs: smallvec::SmallVec<[(usize, usize, usize); 8]> = smallvec::SmallVec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if skip.contains(&name) {
            continue;
        }
        let start = encoded.len();
        let name: Cow<'_, [u8]> = percent_encoding::percent_decode_str(name).into();
        encode(&name, false, &mut encoded);
        let middle = encoded.len();
        let value: Cow<'_, [u8]> = percent_encoding::percent_decode_str(value).into();
        encode(&value, false, &mut encoded);
        pairs.push((start, middle, encoded.len()));
    }
    let part = |(start, middle, end): (usize, usize, usize)| {
        (&encoded[start..middle], &encoded[middle..end])
    };
    if by_value {
        pairs.sort_unstable_by(|a, b| part(*a).cmp(&part(*b)));
    } else {
        pairs.sort_by(|a, b| part(*a).0.cmp(part(*b).0));
    }
    for (i, pair) in pairs.iter().enumerate() {
        let (name, value) = part(*pair);
        if i > 0 {
            out.put(b"&");
        }
        out.put(name);
        out.put(b"=");
        out.put(value);
    }
}

/// Writes one canonical header value: every value of header `name` in the
/// order received, each trimmed with its inner runs of spaces made one
/// (as received where `trim` is false: a verifier's deviation), joined by
/// `,`. A signer passes the value it is about to write (`signer_value`)
/// for a header the request does not hold yet.
pub(super) fn header_value(
    req: &Request,
    name: &str,
    signer_value: Option<&str>,
    trim: bool,
    out: &mut dyn ByteSink,
) -> Result<(), Rejection> {
    let write = |value: &[u8], out: &mut dyn ByteSink| {
        if trim {
            trim_all(value, out);
        } else {
            out.put(value);
        }
    };
    let mut values = req.headers().get_all(name).iter().peekable();
    if values.peek().is_none() {
        let value = signer_value.ok_or_else(|| Rejection::MissingHeader(name.to_owned()))?;
        write(value.as_bytes(), out);
        return Ok(());
    }
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.put(b",");
        }
        write(value.as_bytes(), out);
    }
    Ok(())
}

/// Writes `value` without leading or trailing spaces or tabs, each inner
/// run of them as one space.
fn trim_all(value: &[u8], out: &mut dyn ByteSink) {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let mut words = value.split(blank).filter(|w| !w.is_empty());
    if let Some(first) = words.next() {
        out.put(first);
    }
    for word in words {
        out.put(b" ");
        out.put(word);
    }
}

/// The signed header list must name every `required` header (`host`);
/// under S3's rules every `x-amz-*` header must be signed too. (A listed
/// header the request lacks is refused where its line is written,
/// [`header_value`].)
pub(super) fn check_signed_headers(
    req: &Request,
    signed: &[Cow<'_, str>],
    required: &[String],
    s3: bool,
) -> Result<(), Rejection> {
    let covered = |name: &str| signed.iter().any(|s| s == name);
    if let Some(missing) = required.iter().find(|r| !covered(r)) {
        return Err(Rejection::HeaderNotSigned(missing.clone()));
    }
    if s3
        && let Some(unsigned) = req
            .headers()
            .keys()
            .find(|name| name.as_str().starts_with("x-amz-") && !covered(name.as_str()))
    {
        return Err(Rejection::HeaderNotSigned(unsigned.as_str().to_owned()));
    }
    Ok(())
}

/// What a signer covers unless told otherwise: `host`, `x-amz-date`, the
/// content headers and every `x-amz-*` header of the request, with
/// `x-amz-content-sha256` when it writes one; sorted.
pub(super) fn default_signed_headers(req: &Request, content_hash: bool) -> Vec<Cow<'static, str>> {
    let mut names: Vec<Cow<'static, str>> = req
        .headers()
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|n| n.starts_with("x-amz-") || matches!(*n, "content-type" | "content-md5"))
        .map(|n| Cow::Owned(n.to_owned()))
        .collect();
    names.push(Cow::Borrowed("host"));
    names.push(Cow::Borrowed("x-amz-date"));
    if content_hash {
        names.push(Cow::Borrowed("x-amz-content-sha256"));
    }
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical_uri(path: &str, encoding: UriEncoding, normalize: bool) -> String {
        let mut out = Vec::new();
        uri(
            path,
            PathRules {
                encoding,
                normalize,
            },
            &mut out,
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn paths_as_the_published_suite_canonicalises_them() {
        for (path, normalized) in [
            ("/", "/"),
            ("//", "/"),
            ("//example//", "/example/"),
            ("/./", "/"),
            ("/./example", "/example"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
        ] {
            assert_eq!(
                canonical_uri(path, UriEncoding::Twice, true),
                normalized,
                "{path}"
            );
            assert_eq!(
                canonical_uri(path, UriEncoding::Twice, false),
                path,
                "{path}"
            );
        }
        assert_eq!(
            canonical_uri("/example%20space/", UriEncoding::Once, false),
            "/example%20space/"
        );
        assert_eq!(
            canonical_uri("/example%20space/", UriEncoding::Twice, false),
            "/example%2520space/"
        );
        assert_eq!(canonical_uri("/a+b", UriEncoding::Once, false), "/a%2Bb");
        assert_eq!(canonical_uri("/a%3ab", UriEncoding::Once, false), "/a%3Ab");
        assert_eq!(
            canonical_uri("/a%3ab", UriEncoding::AsSent, false),
            "/a%3ab"
        );
    }

    #[test]
    fn queries_are_decoded_encoded_and_sorted() {
        let canonical = |q: &str| {
            let mut out = Vec::new();
            query(q, &["X-Amz-Signature"], true, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            canonical("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
        assert_eq!(canonical("b=2&a&b=1&X-Amz-Signature=00"), "a=&b=1&b=2");
        assert_eq!(canonical("a=%7e%2f"), "a=~%2F");
        let by_name = |q: &str| {
            let mut out = Vec::new();
            query(q, &[], false, &mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(by_name("b=2&a=9&b=1"), "a=9&b=2&b=1");
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        let req = http::Request::get("/")
            .header("my-header1", " value1")
            .header("my-header2", "\"a   b   c\"")
            .header("my-header3", "value4")
            .header("my-header3", "value1 ")
            .body(bytes::Bytes::new())
            .unwrap();
        let value = |name: &str| {
            let mut out = Vec::new();
            header_value(&req, name, None, true, &mut out).map(|()| String::from_utf8(out).unwrap())
        };
        assert_eq!(value("my-header1").unwrap(), "value1");
        assert_eq!(value("my-header2").unwrap(), "\"a b c\"");
        assert_eq!(value("my-header3").unwrap(), "value4,value1");
        assert_eq!(
            value("absent"),
            Err(Rejection::MissingHeader("absent".into()))
        );
    }
}
