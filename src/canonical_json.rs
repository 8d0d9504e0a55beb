//! `partner`'s canonical JSON: what JavaScript's `JSON.stringify` prints for
//! a body parsed with `JSON.parse` whose object keys were sorted recursively.
//!
//! The rules (SCHEMES.md §1) differ from most languages' JSON printers in
//! ways that change signatures:
//! - keys sort by UTF-16 code units (JavaScript's default sort), which
//!   differs from UTF-8 byte order for characters above U+FFFF — except
//!   that keys which are array indices (`"0"`, `"9"`, `"10"`, up to
//!   2^32 - 2) come first, in numeric order, because JavaScript objects
//!   always enumerate such keys that way, so `JSON.stringify` of a sorted
//!   object emits them so whatever order they were sorted into;
//! - numbers are IEEE-754 doubles printed like `Number.prototype.toString`:
//!   `1.0` is `1`, `1e21` is `1e+21`, `-0` is `0`, integers above 2^53 are
//!   rounded exactly as JavaScript rounds them;
//! - only `"`, `\` and control characters are escaped (`\b \f \n \r \t`,
//!   others as lower-case `\u00xx`); non-ASCII and `/` are written raw;
//! - a key repeated in one object keeps its last value;
//! - an empty body and JSON `null` sign as `{}`.

use serde_json::Value;

use crate::Rejection;

/// Appends the canonical JSON of `body` to `out`.
///
/// A body that is not JSON is [`Rejection::BodyNotJson`].
pub fn canonicalize_body(body: &[u8], out: &mut Vec<u8>) -> Result<(), Rejection> {
    if body.is_empty() {
        out.extend_from_slice(b"{}");
        return Ok(());
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| Rejection::BodyNotJson)?;
    if value.is_null() {
        out.extend_from_slice(b"{}");
    } else {
        write_value(&value, out);
    }
    Ok(())
}

/// Canonical JSON of `body` as a new string (convenience for tests and tools).
pub fn canonical_json(body: &[u8]) -> Result<String, Rejection> {
    let mut out = Vec::with_capacity(body.len());
    canonicalize_body(body, &mut out)?;
    // Only valid UTF-8 is ever written: serde_json validated the strings.
    Ok(String::from_utf8(out).expect("canonical JSON is UTF-8"))
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|(a, _), (b, _)| match (array_index(a), array_index(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => a.encode_utf16().cmp(b.encode_utf16()),
            });
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(item, out);
            }
            out.push(b'}');
        }
    }
}

/// The value of `key` if JavaScript treats it as an array index: the
/// canonical decimal form of an integer from 0 to 2^32 - 2.
fn array_index(key: &str) -> Option<u32> {
    let bytes = key.as_bytes();
    let canonical = match bytes {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.len() < 10 && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !canonical {
        return None;
    }
    key.parse::<u32>().ok().filter(|&n| n != u32::MAX)
}

fn write_number(n: &serde_json::Number, out: &mut Vec<u8>) {
    // JavaScript has only doubles; `as_f64` rounds integers beyond 2^53 to
    // the nearest double exactly as `JSON.parse` does.
    let f = n.as_f64().unwrap_or(f64::NAN);
    if !f.is_finite() {
        // JSON.stringify prints non-finite numbers as null; serde_json never
        // produces them from valid input, but stay total.
        out.extend_from_slice(b"null");
        return;
    }
    let mut buf = ryu_js::Buffer::new();
    out.extend_from_slice(buf.format_finite(f).as_bytes());
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escape);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::canonical_json as cj;

    #[test]
    fn javascript_rules() {
        assert_eq!(cj(b"").unwrap(), "{}");
        assert_eq!(cj(b"null").unwrap(), "{}");
        assert_eq!(cj(b"false").unwrap(), "false");
        assert_eq!(cj(b"0").unwrap(), "0");
        assert_eq!(cj(b"\"\"").unwrap(), "\"\"");
        assert_eq!(
            cj(br#"{ "b": 1, "a": [1.0, -0, 1e21, 1.5e-7, 123456789012345678901234567890] }"#)
                .unwrap(),
            r#"{"a":[1,0,1e+21,1.5e-7,1.2345678901234568e+29],"b":1}"#
        );
        assert_eq!(cj(br#"{"a":1,"a":2}"#).unwrap(), r#"{"a":2}"#);
        assert_eq!(
            cj(br#"["\u00e9/\u0001\b\"\\"]"#).unwrap(),
            "[\"\u{e9}/\\u0001\\b\\\"\\\\\"]"
        );
        assert_eq!(cj(b"9007199254740993").unwrap(), "9007199254740992");
        assert_eq!(cj(b"0.1").unwrap(), "0.1");
        assert_eq!(cj(b"100").unwrap(), "100");
        assert_eq!(cj(b"1e-7").unwrap(), "1e-7");
        assert_eq!(cj(b"0.000001").unwrap(), "0.000001");
    }

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+1F600 is a surrogate pair (0xD83D...) and sorts before U+FF61 in
        // UTF-16, after it in UTF-8.
        assert_eq!(
            cj("{\"\u{ff61}\":1,\"\u{1f600}\":2}".as_bytes()).unwrap(),
            "{\"\u{1f600}\":2,\"\u{ff61}\":1}"
        );
    }

    #[test]
    fn array_index_keys_come_first_in_numeric_order() {
        assert_eq!(
            cj(br#"{"b":1,"10":2,"9":3,"a":4,"01":5,"4294967295":6,"4294967294":7,"-1":8}"#)
                .unwrap(),
            r#"{"9":3,"10":2,"4294967294":7,"-1":8,"01":5,"4294967295":6,"a":4,"b":1}"#
        );
    }

    #[test]
    fn not_json() {
        assert!(cj(b"{").is_err());
        assert!(cj(b"a=b").is_err());
    }
}
