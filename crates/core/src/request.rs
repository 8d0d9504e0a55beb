//! The request model shared by signers and verifiers, and header access.
//!
//! A request is an [`http::Request`] whose body is the exact bytes received.
//! Header names are case-insensitive (the `http` crate stores them lower
//! case); a header that a scheme reads as a single value must appear once.

use bytes::Bytes;
use http::HeaderName;

use crate::Rejection;

/// A request as signed or received: method, URI (path and query), headers
/// and the exact body bytes.
pub type Request = http::Request<Bytes>;

/// The value of header `name`, which must appear at most once and be
/// printable ASCII.
///
/// `Ok(None)` when absent; [`Rejection::DuplicateHeader`] when repeated,
/// because a verifier and a proxy could each pick a different copy.
pub fn single_header<'r>(
    req: &'r Request,
    name: &HeaderName,
) -> Result<Option<&'r str>, Rejection> {
    single_headers(req, [name]).map(|[value]| value)
}

/// [`single_header`] for several names, in one pass over the headers
/// (cheaper than a hash lookup per name). A repeated header is reported
/// as soon as it is seen; then values are checked in the order of `names`.
pub fn single_headers<'r, const N: usize>(
    req: &'r Request,
    names: [&HeaderName; N],
) -> Result<[Option<&'r str>; N], Rejection> {
    let mut values = [None; N];
    single_headers_into(req, &names, &mut values)?;
    Ok(values)
}

/// [`single_headers`] for a number of names known only at run time (a
/// profile's): the values go into `values`, one per name.
pub fn single_headers_into<'r>(
    req: &'r Request,
    names: &[&HeaderName],
    values: &mut [Option<&'r str>],
) -> Result<(), Rejection> {
    let mut found: [Option<&'r http::HeaderValue>; 8] = [None; 8];
    assert!(names.len() <= found.len() && values.len() >= names.len());
    for (name, value) in req.headers() {
        if let Some(i) = names.iter().position(|n| *n == name)
            && found[i].replace(value).is_some()
        {
            return Err(Rejection::DuplicateHeader(name.as_str().to_owned()));
        }
    }
    for (i, value) in found.into_iter().take(names.len()).enumerate() {
        values[i] = match value {
            Some(value) => Some(printable(value).ok_or_else(|| Rejection::MalformedHeader {
                header: names[i].as_str().to_owned(),
                detail: "not printable ASCII",
            })?),
            None => None,
        };
    }
    Ok(())
}

/// The value as text if it is printable ASCII (with a tab allowed), as
/// [`http::HeaderValue::to_str`] decides.
fn printable(value: &http::HeaderValue) -> Option<&str> {
    value.to_str().ok()
}

/// Like [`single_header`], but absence is a [`Rejection::MissingHeader`].
pub fn required_header<'r>(req: &'r Request, name: &HeaderName) -> Result<&'r str, Rejection> {
    single_header(req, name)?.ok_or_else(|| Rejection::MissingHeader(name.as_str().to_owned()))
}

/// The segments of `path` with its dot segments resolved (`..` removes
/// the segment before it) and its `.` and empty segments dropped: what
/// path normalisers (RFC 3986's dot-segment removal, `os.path.normpath`,
/// SigV4's canonical URI for services other than S3) leave of it.
pub fn resolved_segments(path: &str) -> Vec<&str> {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments
}

/// A header value made of `name="value"` parameters after an optional
/// scheme word (`Signature keyId="…",algorithm="…"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameters<'a> {
    /// The scheme word, if there is one.
    pub word: Option<&'a str>,
    /// Each parameter's name and value, in order.
    pub items: Vec<(&'a str, &'a str)>,
}

/// Reads a header value made of `name="value"` parameters; `None` for a
/// value that is not such a list.
pub fn parameters(value: &str) -> Option<Parameters<'_>> {
    let (word, list) = match value.split_once(' ') {
        Some((word, list)) if !word.contains('=') => (Some(word), list),
        _ => (None, value),
    };
    let list = list
        .split(',')
        .map(|part| {
            let (name, quoted) = part.trim_start().split_once('=')?;
            let value = quoted.strip_prefix('"')?.strip_suffix('"')?;
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            valid.then_some((name, value))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Parameters { word, items: list })
}

/// Writes a parameter list back: `word name="value",name="value"`.
pub fn write_parameters(
    word: Option<&str>,
    list: &[(&str, &str)],
    style: Option<ParameterStyle>,
) -> String {
    let mut items: Vec<String> = list
        .iter()
        .map(|(n, v)| match style {
            Some(ParameterStyle::Unquoted) => format!("{n}={v}"),
            _ => format!("{n}=\"{v}\""),
        })
        .collect();
    if style == Some(ParameterStyle::Reversed) {
        items.reverse();
    }
    let separator = if style == Some(ParameterStyle::SpaceAfterCommas) {
        ", "
    } else {
        ","
    };
    let list = items.join(separator);
    match word {
        Some(word) => format!("{word} {list}"),
        None => list,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_agrees_with_to_str_for_every_valid_value_byte() {
        for b in 0..=255u8 {
            let bytes = [b'a', b, b'z'];
            // Values http refuses to hold never reach `printable`.
            let Ok(value) = http::HeaderValue::from_bytes(&bytes) else {
                continue;
            };
            assert_eq!(printable(&value), value.to_str().ok(), "byte {b:#04x}");
        }
    }

    #[test]
    fn one_pass_lookup() {
        let req = http::Request::get("/")
            .header("x-a", "1")
            .header("x-b", "2")
            .header("x-c", "\u{e9}".as_bytes())
            .body(Bytes::new())
            .unwrap();
        let (a, b, c, d) = (
            HeaderName::from_static("x-a"),
            HeaderName::from_static("x-b"),
            HeaderName::from_static("x-c"),
            HeaderName::from_static("x-d"),
        );
        assert_eq!(
            single_headers(&req, [&b, &a, &d]),
            Ok([Some("2"), Some("1"), None])
        );
        assert!(matches!(
            single_header(&req, &c),
            Err(Rejection::MalformedHeader { .. })
        ));
        let mut twice = req.clone();
        twice.headers_mut().append("x-a", "3".parse().unwrap());
        assert_eq!(
            single_headers(&twice, [&b, &a]),
            Err(Rejection::DuplicateHeader("x-a".into()))
        );
    }
}

/// Another way to write a `name="value"` parameter list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParameterStyle {
    /// The parameters in reverse order.
    Reversed,
    /// A space after each comma.
    SpaceAfterCommas,
    /// Values without their double quotes.
    Unquoted,
}
