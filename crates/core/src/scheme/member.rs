//! The text of one member of a structured-field dictionary (RFC 8941), and
//! of one parameter of it, read and rewritten in place: where the runner
//! and the deliberate defects find RFC 9421's fields
//! (`Signature-Input: sig1=("@method");created=…;keyid="…"`,
//! `Signature: sig1=:…:`).
//!
//! Verifiers parse these fields with `sfv`; this module is for test tools
//! that must write *any* bytes into a member (a malformed value included),
//! so it works on the text: members split at top-level commas, parameters
//! at top-level semicolons, quotes and parentheses respected.

/// A member value's text without the delimiters of its type: a byte
/// sequence's colons and a string's quotes are left out.
fn unwrap(value: &str) -> &str {
    for delimiter in [':', '"'] {
        if let Some(inner) = value
            .strip_prefix(delimiter)
            .and_then(|v| v.strip_suffix(delimiter))
        {
            return inner;
        }
    }
    value
}

/// `value` wrapped as `like` was (a byte sequence in colons, a string in
/// quotes); as it is where `like` was neither.
fn wrap_like(like: &str, value: &[u8]) -> Vec<u8> {
    for delimiter in [b':', b'"'] {
        if like.len() >= 2 && like.as_bytes()[0] == delimiter && like.ends_with(delimiter as char) {
            return [&[delimiter], value, &[delimiter]].concat();
        }
    }
    value.to_vec()
}

/// A new member's value: an inner list as it is, anything else a byte
/// sequence (RFC 9421's members are one or the other).
fn new_member(value: &[u8]) -> Vec<u8> {
    if value.starts_with(b"(") {
        value.to_vec()
    } else {
        [b":", value, b":"].concat()
    }
}

/// `text` split at each top-level `separator` (outside quotes and
/// parentheses), the pieces as written.
fn split_top(text: &str, separator: u8) -> Vec<&str> {
    top_level(text, separator).collect()
}

/// The pieces of [`split_top`], one at a time (a reader that wants one
/// member stops at it). Nothing is open at a top-level separator, so each
/// piece is scanned from a fresh state.
fn top_level(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut start = Some(0);
    std::iter::from_fn(move || {
        let from = start?;
        let (mut depth, mut quoted, mut escaped) = (0u32, false, false);
        for (i, b) in text.bytes().enumerate().skip(from) {
            match b {
                _ if escaped => escaped = false,
                b'\\' if quoted => escaped = true,
                b'"' => quoted = !quoted,
                b'(' if !quoted => depth += 1,
                b')' if !quoted && depth > 0 => depth -= 1,
                _ if b == separator && !quoted && depth == 0 => {
                    start = Some(i + 1);
                    return Some(&text[from..i]);
                }
                _ => {}
            }
        }
        start = None;
        Some(&text[from..])
    })
}

/// A member: its key, its value and its `;name=value` parameters, as written.
struct Member<'t> {
    key: &'t str,
    value: &'t str,
    params: Vec<(&'t str, &'t str)>,
}

impl<'t> Member<'t> {
    /// The key of the member `text`, as [`Member::parse`] reads it.
    fn key(text: &'t str) -> &'t str {
        let first = top_level(text.trim(), b';').next().unwrap_or_default();
        first.split_once('=').map_or(first, |(key, _)| key).trim()
    }

    fn parse(text: &'t str) -> Member<'t> {
        let mut parts = split_top(text.trim(), b';').into_iter();
        let first = parts.next().unwrap_or_default();
        let (key, value) = first.split_once('=').unwrap_or((first, ""));
        let params = parts
            .map(|p| {
                let p = p.trim();
                p.split_once('=').unwrap_or((p, ""))
            })
            .collect();
        Member {
            key: key.trim(),
            value,
            params,
        }
    }

    fn write(&self, value: &[u8], params: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut out = self.key.as_bytes().to_vec();
        if !value.is_empty() {
            out.push(b'=');
            out.extend_from_slice(value);
        }
        for (name, value) in params {
            out.push(b';');
            out.extend_from_slice(name.as_bytes());
            if !value.is_empty() {
                out.push(b'=');
                out.extend_from_slice(value);
            }
        }
        out
    }
}

/// The member `key` of the dictionary `text`, its value (`param: None`,
/// without its type's delimiters) or the value of its parameter `param`.
pub(crate) fn read<'t>(text: &'t str, key: &str, param: Option<&str>) -> Option<&'t str> {
    // As [`Member::parse`] reads the member, without keeping the rest.
    let member = top_level(text, b',').find(|m| Member::key(m) == key)?;
    let mut parts = top_level(member.trim(), b';');
    let first = parts.next().unwrap_or_default();
    match param {
        None => Some(unwrap(first.split_once('=').map_or("", |(_, v)| v))),
        Some(name) => parts
            .map(|p| {
                let p = p.trim();
                p.split_once('=').unwrap_or((p, ""))
            })
            .find(|(n, _)| *n == name)
            .map(|(_, v)| unwrap(v)),
    }
}

/// `text` with its first member's key renamed `key` (a signature moved
/// to another label), the rest as written; `None` where `text` has no
/// member.
pub fn rename_first(text: &str, key: &str) -> Option<String> {
    let first = split_top(text, b',').into_iter().next()?;
    let old = Member::parse(first).key;
    if old.is_empty() {
        return None;
    }
    // The key is the first thing in the member, after any whitespace.
    let at = text.find(old)?;
    Some(format!("{}{key}{}", &text[..at], &text[at + old.len()..]))
}

/// `text` with the member `key`'s value, or its parameter `param`, set to
/// `value` (wrapped as the value it replaces was; a new parameter is a
/// string unless `value` is a number); the member is added where absent.
pub(crate) fn write(text: &str, key: &str, param: Option<&str>, value: &[u8]) -> Vec<u8> {
    let mut members: Vec<Vec<u8>> = Vec::new();
    let mut found = false;
    for piece in split_top(text, b',')
        .into_iter()
        .filter(|p| !p.trim().is_empty())
    {
        let member = Member::parse(piece);
        if member.key != key || found {
            members.push(piece.trim().as_bytes().to_vec());
            continue;
        }
        found = true;
        let mut params: Vec<(&str, Vec<u8>)> = member
            .params
            .iter()
            .map(|(n, v)| (*n, v.as_bytes().to_vec()))
            .collect();
        let member_value = match param {
            None => wrap_like(member.value, value),
            Some(name) => {
                match params.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, old)) => *old = wrap_like(&String::from_utf8_lossy(old), value),
                    None => params.push((name, new_parameter(value))),
                }
                member.value.as_bytes().to_vec()
            }
        };
        members.push(member.write(&member_value, &params));
    }
    if !found {
        let member = Member {
            key,
            value: "",
            params: Vec::new(),
        };
        members.push(match param {
            None => member.write(&new_member(value), &[]),
            Some(name) => member.write(b"()", &[(name, new_parameter(value))]),
        });
    }
    members.join(&b", "[..])
}

/// A parameter's value as a new parameter is written: digits as an integer,
/// anything else as a string.
fn new_parameter(value: &[u8]) -> Vec<u8> {
    if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
        value.to_vec()
    } else {
        [b"\"", value, b"\""].concat()
    }
}

/// `text` without the member `key` (`param: None`) or without that
/// member's parameter `param`.
pub(crate) fn remove(text: &str, key: &str, param: Option<&str>) -> Vec<u8> {
    let mut members: Vec<Vec<u8>> = Vec::new();
    for piece in split_top(text, b',')
        .into_iter()
        .filter(|p| !p.trim().is_empty())
    {
        let member = Member::parse(piece);
        if member.key != key {
            members.push(piece.trim().as_bytes().to_vec());
            continue;
        }
        let Some(name) = param else { continue };
        let params: Vec<(&str, Vec<u8>)> = member
            .params
            .iter()
            .filter(|(n, _)| *n != name)
            .map(|(n, v)| (*n, v.as_bytes().to_vec()))
            .collect();
        members.push(member.write(member.value.as_bytes(), &params));
    }
    members.join(&b", "[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const INPUT: &str =
        r#"sig1=("@method" "a;b,c");created=1618884473;keyid="k, 1", proxy=();created=2"#;

    #[test]
    fn members_and_their_parameters_are_read_in_place() {
        assert_eq!(read(INPUT, "sig1", None), Some(r#"("@method" "a;b,c")"#));
        assert_eq!(read(INPUT, "sig1", Some("created")), Some("1618884473"));
        assert_eq!(read(INPUT, "sig1", Some("keyid")), Some("k, 1"));
        assert_eq!(read(INPUT, "proxy", Some("created")), Some("2"));
        assert_eq!(read("sig1=:AAAA:", "sig1", None), Some("AAAA"));
        assert_eq!(read(INPUT, "other", None), None);
        assert_eq!(read(INPUT, "sig1", Some("nonce")), None);
    }

    #[test]
    fn values_are_written_as_the_values_they_replace() {
        let written = write(INPUT, "sig1", Some("keyid"), b"other");
        assert_eq!(
            String::from_utf8(written).unwrap(),
            r#"sig1=("@method" "a;b,c");created=1618884473;keyid="other", proxy=();created=2"#
        );
        let written = write(INPUT, "sig1", Some("created"), b"12a");
        assert!(
            String::from_utf8(written)
                .unwrap()
                .contains(";created=12a;")
        );
        let written = write(INPUT, "sig1", Some("nonce"), b"n1");
        assert!(
            String::from_utf8(written)
                .unwrap()
                .contains(r#";keyid="k, 1";nonce="n1", proxy"#)
        );
        let written = write("sig1=:AAAA:", "sig1", None, b"BBBB");
        assert_eq!(written, b"sig1=:BBBB:");
        let written = write("", "sig1", None, b"BBBB");
        assert_eq!(written, b"sig1=:BBBB:");
    }

    #[test]
    fn the_first_member_is_renamed() {
        assert_eq!(
            rename_first("sig1=:AAAA:, sig2=:BBBB:", "other").as_deref(),
            Some("other=:AAAA:, sig2=:BBBB:")
        );
        assert_eq!(rename_first(" sig1", "b").as_deref(), Some(" b"));
        assert_eq!(rename_first("", "b"), None);
    }

    #[test]
    fn members_and_parameters_are_removed() {
        let removed = String::from_utf8(remove(INPUT, "sig1", Some("keyid"))).unwrap();
        assert_eq!(
            removed,
            r#"sig1=("@method" "a;b,c");created=1618884473, proxy=();created=2"#
        );
        let removed = String::from_utf8(remove(INPUT, "sig1", None)).unwrap();
        assert_eq!(removed, "proxy=();created=2");
    }
}
