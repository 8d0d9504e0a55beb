//! The changes operators make, free of any run: a field's text edited
//! (a character inserted, deleted or replaced, its case, whitespace, its
//! spelling), a JSON body's members and whitespace, the path, query,
//! content type and headers of a request, and the request written as
//! bytes (header names in other case, a body in chunks).

use fastrand::Rng;
use http::{HeaderName, HeaderValue};

use super::operators::{ContentTypeChange, HeaderChange, PathChange, QueryChange, TextEdit};
use crate::probe::recased;
use sigconform_core::request::Request;
use sigconform_core::scheme::Field;

/// The JSON values a member of the runner's takes (`"sigconform":VALUE`):
/// what serialisers write differently, and every signer may send.
pub(super) const JSON_VALUES: [&str; 9] = [
    r#""Zoë 東京 😀""#,
    r#""say \"hi\"\n\ttab/""#,
    "1e21",
    "-0",
    "9007199254740993",
    "0.1",
    r#"{"10":"ten","9":"nine"}"#,
    r#"[1.5,{"b":null,"a":true}]"#,
    r#""""#,
];

/// Members only a scheme that signs JSON itself must read as JavaScript
/// does (others may pass the body to a strict parser, which refuses them).
pub(super) const JAVASCRIPT_MEMBERS: [&str; 3] = [
    r#""sigconform":"\ud800""#,
    r#""sigconform":1e400"#,
    r#""__proto__":{"admin":true}"#,
];

/// The values a form field of the runner's takes.
pub(super) const FORM_VALUES: [&str; 4] = ["caf%C3%A9", "a+b", "%2B1", ""];

/// A timestamp written another way: what the malformed cases send.
pub(super) fn respelt_timestamp(value: &str, rng: &mut Rng) -> Option<String> {
    let n: u64 = value.parse().ok()?;
    Some(match rng.u32(0..11) {
        0 => format!("+{n}"),
        1 => format!("{}.5", n.saturating_sub(1)),
        2 => format!("{n}.0"),
        3 => format!("{n}e0"),
        4 => format!("0x{n:x}"),
        5 => format!("0{n}"),
        6 => format!("{n:020}"),
        7 => format!("{n:019}"),
        8 => format!(" {n}"),
        9 => format!("{n} "),
        _ => format!("-{n}"),
    })
}

/// An algorithm's name written another way.
pub(super) fn respelt_algorithm(value: &str, rng: &mut Rng) -> Option<String> {
    let names = [
        "none",
        "HMAC-SHA512",
        "HMAC-SHA1",
        "HMAC-MD5",
        "hmac-sha512",
        "RSA-SHA256",
    ];
    let lower = value.to_ascii_lowercase();
    let pick = rng.usize(0..names.len() + 1);
    let name = if pick == names.len() {
        // The same algorithm in other letter case.
        if lower == value {
            value.to_ascii_uppercase()
        } else {
            lower
        }
    } else {
        names[pick].to_owned()
    };
    (name != value).then_some(name)
}

/// The characters a value is written in, guessed from the value: digits,
/// lower-case hex, base64, or the characters of identifiers.
pub(super) fn alphabet(value: &str) -> &'static [u8] {
    const DIGITS: &[u8] = b"0123456789";
    const HEX: &[u8] = b"0123456789abcdef";
    const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const WORD: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-_";
    let in_set = |set: &[u8]| !value.is_empty() && value.bytes().all(|b| set.contains(&b));
    if in_set(DIGITS) {
        DIGITS
    } else if in_set(HEX) {
        HEX
    } else if in_set(&[BASE64, b"="].concat()) {
        BASE64
    } else {
        WORD
    }
}

/// Characters outside every value's alphabet: separators of the headers'
/// grammars.
const OUTSIDE: &[u8] = b"!,;=\".:()";

/// `value` changed by `edit`, or `None` where the edit finds nothing to
/// change.
pub(super) fn edit_text(
    value: &str,
    edit: TextEdit,
    field: &Field,
    rng: &mut Rng,
) -> Option<Vec<u8>> {
    let bytes = value.as_bytes();
    let letters = alphabet(value);
    let pick = |rng: &mut Rng, set: &[u8]| set[rng.usize(0..set.len())];
    // A character position (ASCII values: bytes), kept before any `=`
    // padding so that a base64 tag keeps its shape.
    let unpadded = value.trim_end_matches('=').len();
    let position = |rng: &mut Rng| (unpadded > 0).then(|| rng.usize(0..unpadded));
    let replaced = |at: usize, with: &[u8]| {
        if !value.is_char_boundary(at) {
            return None;
        }
        let end = value[at..].chars().next().map_or(at, |c| at + c.len_utf8());
        Some([&bytes[..at], with, &bytes[end..]].concat())
    };
    let changed = match edit {
        TextEdit::Insert => {
            let at = rng.usize(0..=unpadded);
            let c = pick(rng, letters);
            value
                .is_char_boundary(at)
                .then(|| [&bytes[..at], &[c], &bytes[at..]].concat())?
        }
        TextEdit::Delete => {
            let at = position(rng)?;
            replaced(at, b"")?
        }
        TextEdit::Replace => {
            let at = position(rng)?;
            let current = bytes[at];
            let others: Vec<u8> = letters.iter().copied().filter(|&b| b != current).collect();
            replaced(at, &[pick(rng, &others)])?
        }
        TextEdit::Outside => {
            // Inside the value, or after its last character as trailing
            // data (then `!`), half the time each. A separator never goes
            // beside another: `;;` makes an empty item of the list around
            // the value, not a character in it.
            let trailing = rng.bool();
            let at = match unpadded {
                0 => return None,
                1 => 1,
                n if trailing => n,
                n => rng.usize(1..n),
            };
            let separator = |b: u8| b == b',' || b == b';';
            let beside = |i: usize| bytes.get(i).copied().is_some_and(separator);
            let c = match pick(rng, OUTSIDE) {
                _ if at == unpadded => b'!',
                c if separator(c) && (beside(at - 1) || beside(at)) => b'!',
                c => c,
            };
            value
                .is_char_boundary(at)
                .then(|| [&bytes[..at], &[c], &bytes[at..]].concat())?
        }
        TextEdit::NonAscii => {
            let at = position(rng)?;
            let text = if rng.bool() { "é" } else { "😀" };
            replaced(at, text.as_bytes())?
        }
        TextEdit::NonUtf8 => {
            let at = position(rng)?;
            replaced(at, if rng.bool() { b"\xff" } else { b"\xc3" })?
        }
        TextEdit::Case => {
            let swapped = recased(value)?;
            swapped.into_bytes()
        }
        TextEdit::Space => {
            let space: &[u8] = if rng.bool() { b" " } else { b"\t" };
            match rng.u32(0..3) {
                0 => [space, bytes].concat(),
                1 => [bytes, space].concat(),
                _ => {
                    let at = position(rng)?;
                    value
                        .is_char_boundary(at)
                        .then(|| [&bytes[..at], space, &bytes[at..]].concat())?
                }
            }
        }
        TextEdit::Repeat => [bytes, bytes].concat(),
        TextEdit::Truncate => {
            let cut = rng.usize(1..=(unpadded / 2).max(1));
            let keep = unpadded.checked_sub(cut)?;
            value
                .is_char_boundary(keep)
                .then(|| [&bytes[..keep], &bytes[unpadded..]].concat())?
        }
        TextEdit::Extend => {
            let mut out = bytes[..unpadded].to_vec();
            for _ in 0..rng.usize(1..=3) {
                out.push(pick(rng, letters));
            }
            out.extend_from_slice(&bytes[unpadded..]);
            out
        }
        TextEdit::Empty => Vec::new(),
        TextEdit::Respell => match field {
            Field::Timestamp => respelt_timestamp(value, rng)?.into_bytes(),
            _ => respelt_algorithm(value, rng)?.into_bytes(),
        },
    };
    (changed != bytes).then_some(changed)
}

/// `req` with its path and query set.
pub(super) fn set_uri(req: &mut Request, path: &str, query: Option<String>) -> Result<(), String> {
    let uri = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    *req.uri_mut() = uri
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())?;
    Ok(())
}

pub(super) fn path_change(req: &mut Request, change: PathChange) -> bool {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let (dir, last) = path.rsplit_once('/').unwrap_or(("", &path));
    let changed = match change {
        PathChange::Segment => format!("{}/fz", path.trim_end_matches('/')),
        PathChange::DotSegments => format!("{dir}/fz/../{last}"),
        PathChange::EmptySegment => format!("{dir}//{last}"),
    };
    changed != path && set_uri(req, &changed, query).is_ok()
}

pub(super) fn query_change(req: &mut Request, change: QueryChange, rng: &mut Rng) -> bool {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let changed = match (change, &query) {
        (QueryChange::Add, Some(q)) => Some(format!("{q}&fz={}", rng.u32(0..100))),
        (QueryChange::Add, None) => Some(format!("fz={}", rng.u32(0..100))),
        (QueryChange::Change, Some(q)) => Some(format!("{q}{}", rng.u32(0..10))),
        (QueryChange::Remove, Some(_)) => None,
        _ => return false,
    };
    changed != query && set_uri(req, &path, changed).is_ok()
}

pub(super) fn content_type_change(req: &mut Request, change: ContentTypeChange) -> bool {
    let current = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let new = match (change, &current) {
        (ContentTypeChange::Other, Some(c)) if c.starts_with("text/plain") => {
            Some("application/octet-stream".to_owned())
        }
        (ContentTypeChange::Other, _) => Some("text/plain".to_owned()),
        (ContentTypeChange::Drop, Some(_)) => None,
        (ContentTypeChange::Charset, Some(c)) if !c.contains("charset") => {
            Some(format!("{c}; charset=utf-8"))
        }
        _ => return false,
    };
    match new.and_then(|n| HeaderValue::from_str(&n).ok()) {
        Some(value) => {
            req.headers_mut().insert(http::header::CONTENT_TYPE, value);
        }
        None => {
            req.headers_mut().remove(http::header::CONTENT_TYPE);
        }
    }
    true
}

pub(super) fn header_change(req: &mut Request, name: &HeaderName, change: HeaderChange) -> bool {
    let Some(value) = req.headers().get(name).cloned() else {
        return false;
    };
    match change {
        HeaderChange::Drop => {
            req.headers_mut().remove(name);
        }
        HeaderChange::Duplicate => {
            req.headers_mut().append(name.clone(), value);
        }
        HeaderChange::AddValue => {
            let mut other = value.as_bytes().to_vec();
            match other.last_mut() {
                Some(last) if last.is_ascii_alphanumeric() => {
                    *last = if *last == b'a' { b'b' } else { b'a' };
                }
                _ => other.push(b'a'),
            }
            let Ok(other) = HeaderValue::from_bytes(&other) else {
                return false;
            };
            req.headers_mut().append(name.clone(), other);
        }
    }
    true
}

/// The same JSON with a space or newline after a structural character
/// outside strings.
pub(super) fn json_whitespace(body: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let mut spots = Vec::new();
    let mut quoted = false;
    let mut escaped = false;
    for (i, &c) in body.iter().enumerate() {
        match c {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'{' | b'[' | b',' | b':' if !quoted => spots.push(i + 1),
            _ => {}
        }
    }
    if spots.is_empty() {
        return None;
    }
    let at = spots[rng.usize(0..spots.len())];
    let space: &[u8] = if rng.bool() { b" " } else { b"\n" };
    Some([&body[..at], space, &body[at..]].concat())
}

/// The JSON object with its first member written twice, the first copy
/// another value (`{"n":2,"n":1.0,…}`): one parser reads one, another the
/// other.
pub(super) fn json_duplicate_key(body: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    let open = text.find('{')?;
    let rest = &text[open + 1..];
    let start = rest.find('"')?;
    let key_len = rest[start + 1..].find('"')?;
    let key = &rest[start..start + key_len + 2];
    Some(format!("{}{{{key}:\"sigconform-other\",{rest}", &text[..open]).into_bytes())
}

/// `req` as HTTP/1.1 bytes: header names in other letter case (chosen by
/// `name_case`), the body in chunks where `chunked`.
pub(crate) fn wire(req: &Request, name_case: Option<u64>, chunked: bool) -> Vec<u8> {
    let mut rng = name_case.map(Rng::with_seed);
    let mut out = format!(
        "{} {} HTTP/1.1\r\n",
        req.method(),
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    )
    .into_bytes();
    for (name, value) in req.headers() {
        let name = name.as_str();
        match rng.as_mut() {
            Some(rng) => {
                let upper = rng.bool();
                for (i, c) in name.bytes().enumerate() {
                    let flip = if upper {
                        true
                    } else {
                        i == 0 || name.as_bytes()[i - 1] == b'-'
                    };
                    out.push(if flip { c.to_ascii_uppercase() } else { c });
                }
            }
            None => out.extend_from_slice(name.as_bytes()),
        }
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    if chunked {
        for chunk in req.body().chunks(7) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(req.body());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn text_edits_change_what_they_name_and_keep_the_rest() {
        let mut rng = Rng::with_seed(7);
        let tag = "q83vEjRWeJA=";
        for edit in [
            TextEdit::Insert,
            TextEdit::Delete,
            TextEdit::Replace,
            TextEdit::Truncate,
            TextEdit::Extend,
        ] {
            let changed = edit_text(tag, edit, &Field::Tag, &mut rng).unwrap();
            assert_ne!(changed, tag.as_bytes(), "{edit:?}");
            // The padding stays where it was.
            assert!(changed.ends_with(b"="), "{edit:?}: {changed:?}");
        }
        let ts = "1700000000";
        let respelt = edit_text(ts, TextEdit::Respell, &Field::Timestamp, &mut rng).unwrap();
        assert!(String::from_utf8_lossy(&respelt).contains("1700000000") || respelt.len() > 2);
        assert_eq!(
            edit_text("abc", TextEdit::Case, &Field::KeyId, &mut rng).unwrap(),
            b"ABC"
        );
        assert_eq!(
            edit_text("123", TextEdit::Case, &Field::KeyId, &mut rng),
            None
        );
        assert_eq!(
            edit_text("", TextEdit::Delete, &Field::Nonce, &mut rng),
            None
        );
        let outside = edit_text("abcd", TextEdit::Outside, &Field::Nonce, &mut rng).unwrap();
        assert!(outside.iter().any(|b| OUTSIDE.contains(b)));
        let non_utf8 = edit_text("abcd", TextEdit::NonUtf8, &Field::Nonce, &mut rng).unwrap();
        assert!(std::str::from_utf8(&non_utf8).is_err());
    }

    #[test]
    fn text_edits_never_panic_whatever_the_value() {
        let values = [
            "",
            "a",
            "é",
            "aé😀b",
            "==",
            "a=",
            "1700000000",
            "q83vEjRWeJA=",
            " x ",
        ];
        for (n, value) in values.into_iter().enumerate() {
            for edit in TextEdit::ALL {
                for seed in 0..50 {
                    let mut rng = Rng::with_seed(seed * 31 + n as u64);
                    for field in [Field::Tag, Field::Timestamp, Field::Algorithm] {
                        let _ = edit_text(value, edit, &field, &mut rng);
                    }
                }
            }
        }
    }

    #[test]
    fn json_changes_keep_json_or_name_the_member_twice() {
        let body = br#"{"n":1.0,"probe":"sigconform"}"#;
        let mut rng = Rng::with_seed(1);
        for _ in 0..20 {
            let spaced = json_whitespace(body, &mut rng).unwrap();
            let parsed: serde_json::Value = serde_json::from_slice(&spaced).unwrap();
            assert_eq!(
                parsed,
                serde_json::from_slice::<serde_json::Value>(body).unwrap()
            );
        }
        assert_eq!(
            json_duplicate_key(body).unwrap(),
            br#"{"n":"sigconform-other","n":1.0,"probe":"sigconform"}"#
        );
    }

    #[test]
    fn raw_requests_case_names_and_chunk_bodies() {
        let req = http::Request::post("/p?q=1")
            .header("x-signature", "abc")
            .header("transfer-encoding", "chunked")
            .body(Bytes::from_static(b"0123456789"))
            .unwrap();
        let raw = wire(&req, None, true);
        let text = String::from_utf8(raw).unwrap();
        assert!(text.starts_with("POST /p?q=1 HTTP/1.1\r\nx-signature: abc\r\n"));
        assert!(text.ends_with("7\r\n0123456\r\n3\r\n789\r\n0\r\n\r\n"));
        let cased = String::from_utf8(wire(&req, Some(3), false)).unwrap();
        assert!(cased.contains("X-Signature: abc") || cased.contains("X-SIGNATURE: abc"));
    }
}
