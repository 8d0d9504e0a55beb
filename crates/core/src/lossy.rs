//! How verifiers lose information when they read a request.
//!
//! A verifier must sign exactly what it received. Many read a component
//! through a step that maps several received values to one — the body
//! trimmed, decoded as text, or normalised; the path percent-decoded or
//! lower-cased; the query percent-decoded — and then sign what that step
//! made of it. Such a verifier
//! accepts a request whose component was changed after signing in exactly
//! the information its reading step loses.
//!
//! Each [`LossyRead`] is one such step, named for the mistake, with the two
//! halves of one model:
//!
//! - [`LossyRead::read`]: what the mistaken verifier makes of a value (the
//!   reference server's deliberate defects read through it);
//! - [`LossyRead::disguise`]: a different value that it reads as the given
//!   one (the runner signs a value and sends its disguise).
//!
//! For every value [`LossyRead::signed_body`] or [`LossyRead::signed_path`]
//! gives, `read(disguise(v)) == v`, `read(v) == v` and `disguise(v) != v`:
//! a correct verifier rejects the disguise, one that reads it this way
//! accepts it, and nothing else about the request differs.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// The part of a request a [`LossyRead`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// The body's bytes.
    Body,
    /// The path (without the query).
    Path,
    /// The query.
    Query,
}

/// One way of reading a component that loses information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LossyRead {
    /// Whitespace around the body dropped before hashing: PHP's `trim`,
    /// Python's `.strip()`, Go's `strings.TrimSpace`.
    TrimmedBody,
    /// The body decoded as UTF-8 text with invalid bytes replaced by
    /// U+FFFD, and that text signed: Node's `body += chunk`, Python's
    /// `decode(errors="replace")`, Java's `new String(bytes, UTF_8)`.
    BodyAsText,
    /// A leading byte-order mark dropped: Node's `TextDecoder`, Python's
    /// `utf-8-sig`, .NET's `StreamReader`.
    BodyWithoutByteOrderMark,
    /// CRLF line endings read as LF: text-mode reads, universal newlines.
    BodyLineEndings,
    /// The body's text normalised to Unicode NFC before hashing.
    NormalisedBody,
    /// The path percent-decoded before it is signed: ASGI's
    /// `scope["path"]`, Go's `r.URL.Path`, Flask's `request.path`.
    DecodedPath,
    /// The path signed in lower case (case-insensitive routing).
    LowercasedPath,
    /// The query percent-decoded before it is signed (a URL signed as a
    /// framework decoded it).
    DecodedQuery,
}

impl LossyRead {
    /// Every lossy read, in catalog order.
    pub const ALL: [LossyRead; 8] = [
        LossyRead::TrimmedBody,
        LossyRead::BodyAsText,
        LossyRead::BodyWithoutByteOrderMark,
        LossyRead::BodyLineEndings,
        LossyRead::NormalisedBody,
        LossyRead::DecodedPath,
        LossyRead::LowercasedPath,
        LossyRead::DecodedQuery,
    ];

    /// The component it reads.
    pub fn component(self) -> Component {
        match self {
            LossyRead::DecodedPath | LossyRead::LowercasedPath => Component::Path,
            LossyRead::DecodedQuery => Component::Query,
            _ => Component::Body,
        }
    }

    /// A short name, for case ids (`body-trimmed`).
    pub fn name(self) -> &'static str {
        match self {
            LossyRead::TrimmedBody => "body-trimmed",
            LossyRead::BodyAsText => "body-invalid-utf8",
            LossyRead::BodyWithoutByteOrderMark => "body-byte-order-mark",
            LossyRead::BodyLineEndings => "body-crlf",
            LossyRead::NormalisedBody => "body-unicode-nfd",
            LossyRead::DecodedPath => "path-percent-encoded",
            LossyRead::LowercasedPath => "path-letter-case",
            LossyRead::DecodedQuery => "query-percent-encoded",
        }
    }

    /// What the disguise changes, and the reader it fools.
    pub fn describe(self) -> &'static str {
        match self {
            LossyRead::TrimmedBody => {
                "the body with a line break appended (a verifier that trims the body accepts it)"
            }
            LossyRead::BodyAsText => {
                "the body's U+FFFD sent as an invalid UTF-8 byte (a verifier that decodes the body as text accepts it)"
            }
            LossyRead::BodyWithoutByteOrderMark => {
                "the body after a UTF-8 byte-order mark (a verifier that drops the mark accepts it)"
            }
            LossyRead::BodyLineEndings => {
                "the body's line break sent as CRLF (a verifier that reads line endings as LF accepts it)"
            }
            LossyRead::NormalisedBody => {
                "the body's `é` sent decomposed, NFD (a verifier that normalises text to NFC accepts it)"
            }
            LossyRead::DecodedPath => {
                "a letter of the path percent-encoded (a verifier that signs the decoded path accepts it)"
            }
            LossyRead::LowercasedPath => {
                "the path's last segment in upper case (a verifier that signs the path in lower case accepts it)"
            }
            LossyRead::DecodedQuery => {
                "a character of the query's last value percent-encoded (a verifier that signs the decoded query accepts it)"
            }
        }
    }

    /// The body a probe of this reader signs: the runner's usual body (a
    /// JSON object, or a form), with what the disguise needs in it (a
    /// U+FFFD, a line break, an `é`) as one more field.
    pub fn signed_body(self, usual: &str) -> String {
        let text = match self {
            LossyRead::BodyAsText => "\u{fffd}",
            LossyRead::BodyLineEndings => "line",
            LossyRead::NormalisedBody => "caf\u{e9}",
            _ => return usual.to_owned(),
        };
        let line_break = if self == LossyRead::BodyLineEndings {
            "\n"
        } else {
            ""
        };
        match usual.strip_suffix('}') {
            Some(object) => format!("{object},{line_break}\"text\":\"{text}\"}}"),
            None => format!("{usual}&{line_break}text={text}"),
        }
    }

    /// What the mistaken verifier makes of `value`.
    pub fn read(self, value: &[u8]) -> Cow<'_, [u8]> {
        match self {
            LossyRead::TrimmedBody => Cow::Borrowed(value.trim_ascii()),
            LossyRead::BodyAsText => match String::from_utf8_lossy(value) {
                Cow::Borrowed(_) => Cow::Borrowed(value),
                Cow::Owned(text) => Cow::Owned(text.into_bytes()),
            },
            LossyRead::BodyWithoutByteOrderMark => {
                Cow::Borrowed(value.strip_prefix(BYTE_ORDER_MARK).unwrap_or(value))
            }
            LossyRead::BodyLineEndings => Cow::Owned(replace(value, b"\r\n", b"\n")),
            LossyRead::NormalisedBody => match std::str::from_utf8(value) {
                Ok(text) => Cow::Owned(text.nfc().collect::<String>().into_bytes()),
                Err(_) => Cow::Borrowed(value),
            },
            LossyRead::DecodedPath | LossyRead::DecodedQuery => {
                percent_encoding::percent_decode(value).into()
            }
            LossyRead::LowercasedPath => Cow::Owned(value.to_ascii_lowercase()),
        }
    }

    /// A value other than `signed` that this reader reads as `signed`, or
    /// `None` where `signed` lacks what the disguise changes.
    pub fn disguise(self, signed: &[u8]) -> Option<Vec<u8>> {
        let disguised = match self {
            LossyRead::TrimmedBody => [signed, b"\n"].concat(),
            LossyRead::BodyAsText => replace_first(signed, "\u{fffd}".as_bytes(), b"\xff")?,
            LossyRead::BodyWithoutByteOrderMark => [BYTE_ORDER_MARK, signed].concat(),
            LossyRead::BodyLineEndings => replace_first(signed, b"\n", b"\r\n")?,
            LossyRead::NormalisedBody => {
                replace_first(signed, "\u{e9}".as_bytes(), "e\u{301}".as_bytes())?
            }
            LossyRead::DecodedPath => {
                let at = last_segment(signed)?;
                let letter = signed[at];
                [
                    &signed[..at],
                    format!("%{letter:02X}").as_bytes(),
                    &signed[at + 1..],
                ]
                .concat()
            }
            LossyRead::LowercasedPath => {
                let at = last_segment(signed)?;
                [&signed[..at], &signed[at..].to_ascii_uppercase()].concat()
            }
            LossyRead::DecodedQuery => {
                let at = signed.iter().rposition(|b| *b == b'=')? + 1;
                let first = *signed.get(at).filter(|b| b.is_ascii_alphanumeric())?;
                [
                    &signed[..at],
                    format!("%{first:02X}").as_bytes(),
                    &signed[at + 1..],
                ]
                .concat()
            }
        };
        (disguised != signed && self.read(&disguised) == signed).then_some(disguised)
    }
}

const BYTE_ORDER_MARK: &[u8] = b"\xef\xbb\xbf";

/// Where the last segment of `path` starts, if it starts with a lower-case
/// ASCII letter (what the path disguises change).
fn last_segment(path: &[u8]) -> Option<usize> {
    let at = path.iter().rposition(|b| *b == b'/')? + 1;
    path.get(at)?.is_ascii_lowercase().then_some(at)
}

/// `value` with its first `from` replaced by `to`, if it has one.
fn replace_first(value: &[u8], from: &[u8], to: &[u8]) -> Option<Vec<u8>> {
    let at = value.windows(from.len()).position(|w| w == from)?;
    Some([&value[..at], to, &value[at + from.len()..]].concat())
}

/// `value` with every `from` replaced by `to`.
fn replace(value: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = r#"{"n":1.0,"probe":"sigconform"}"#;

    #[test]
    fn each_disguise_is_read_as_what_was_signed_and_is_not_it() {
        for (read, usual) in LossyRead::ALL
            .into_iter()
            .flat_map(|read| [(read, BODY), (read, "n=1.0&probe=sigconform")])
        {
            let signed = match read.component() {
                Component::Body => read.signed_body(usual).into_bytes(),
                Component::Path => b"/api/sigconform/probe".to_vec(),
                Component::Query => b"tenant=a&page=1".to_vec(),
            };
            assert_eq!(read.read(&signed), signed, "{read:?} changes what it signs");
            let disguised = read.disguise(&signed).expect("a disguise");
            assert_ne!(disguised, signed, "{read:?}");
            assert_eq!(read.read(&disguised), signed, "{read:?}");
        }
    }

    #[test]
    fn the_disguises() {
        let body = |read: LossyRead| {
            let signed = read.signed_body(BODY);
            read.disguise(signed.as_bytes()).unwrap()
        };
        assert_eq!(body(LossyRead::TrimmedBody), format!("{BODY}\n").as_bytes());
        assert!(body(LossyRead::BodyAsText).ends_with(b"\"text\":\"\xff\"}"));
        assert!(body(LossyRead::BodyWithoutByteOrderMark).starts_with(BYTE_ORDER_MARK));
        assert!(
            body(LossyRead::BodyLineEndings)
                .windows(3)
                .any(|w| w == b",\r\n")
        );
        assert!(body(LossyRead::NormalisedBody).ends_with("cafe\u{301}\"}".as_bytes()));
        let path = |read: LossyRead| read.disguise(b"/api/sigconform/probe");
        assert_eq!(
            path(LossyRead::DecodedPath).unwrap(),
            b"/api/sigconform/%70robe"
        );
        assert_eq!(
            path(LossyRead::LowercasedPath).unwrap(),
            b"/api/sigconform/PROBE"
        );
        assert_eq!(
            LossyRead::DecodedQuery
                .disguise(b"tenant=a&page=1")
                .unwrap(),
            b"tenant=a&page=%31"
        );
        // Nothing to change: no disguise.
        assert_eq!(LossyRead::BodyAsText.disguise(BODY.as_bytes()), None);
        assert_eq!(LossyRead::DecodedPath.disguise(b"/"), None);
    }
}
