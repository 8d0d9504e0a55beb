//! How verifiers decode an encoded field leniently.
//!
//! A verifier must decode what it received strictly: the tag, a body hash,
//! a timestamp's digits. Many decode through a step that skips what it does
//! not understand — a character outside the alphabet, whitespace, what
//! follows the value, an odd hex digit, base64's padding bits — and then
//! compare or sign what that step made of the value. Such a verifier
//! accepts a value that is not the one that was sent.
//!
//! Two halves of one model, as [`crate::lossy`] has for the components:
//!
//! - a [`Decoration`] is what the runner does to the right value: the value
//!   with one thing a strict decoder refuses added to it;
//! - a [`LenientDecoder`] is what a mistaken verifier makes of a value
//!   ([`LenientDecoder::read`]; the reference server's deliberate defects
//!   decode through it).
//!
//! Each decoration names the decoder that reads it, and no other decoration,
//! as the right value ([`Decoration::read_by`]: the control of its case).
//! The decoders of real libraries each read several decorations so
//! (Python's `base64.b64decode`, Node's `Buffer.from`, Java's MIME
//! decoder); the unit tests hold both.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use percent_encoding::{AsciiSet, CONTROLS};

use crate::crypto::TagEncoding;
use crate::request::Request;
use crate::scheme::{Field, Location, Scheme};

/// The fields a verifier decodes.
pub const DECODED: [Field; 3] = [Field::Tag, Field::BodyHash, Field::Timestamp];

/// Where `scheme` writes `field` in an alphabet of its own, and which: the
/// tag and a body hash the request carries ([`Scheme::encoded`]), and a
/// timestamp of decimal digits. `None` for the others: a nonce (or message
/// id) is text in every scheme, compared and signed as sent, with no
/// alphabet for a decoder to be lenient about.
pub fn written_in(scheme: &dyn Scheme, field: &Field) -> Option<(Location, Alphabet)> {
    match field {
        Field::Timestamp => {
            let at = scheme
                .location(field)
                .filter(|at| *at != Location::Signed)?;
            (scheme.timestamp_text(1) == "1").then_some((at, Alphabet::Decimal))
        }
        _ => scheme
            .encoded(field)
            .map(|(at, encoding)| (at, Alphabet::of(encoding))),
    }
}

/// What is percent-encoded in a value written into a query.
const QUERY_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'<')
    .add(b'=')
    .add(b'>');

/// The value at `at` in `req` as a verifier reads it: its text,
/// percent-decoded where it is in the query.
pub fn read_value<'r>(at: &Location, req: &'r Request) -> Option<Cow<'r, str>> {
    let text = at.read(req)?;
    Some(match at {
        Location::Query(_) => percent_encoding::percent_decode_str(text).decode_utf8_lossy(),
        _ => Cow::Borrowed(text),
    })
}

/// Writes `value` at `at` in `req` (percent-encoded where it is in the
/// query), so that a verifier reads it as [`read_value`] does.
pub fn write_value(at: &Location, req: &mut Request, value: &str) -> Result<(), String> {
    match at {
        Location::Query(_) => at.write(
            req,
            percent_encoding::utf8_percent_encode(value, QUERY_VALUE)
                .to_string()
                .as_bytes(),
        ),
        _ => at.write(req, value.as_bytes()),
    }
}

/// What a field's value is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alphabet {
    /// Lower-case hexadecimal, two characters per byte.
    LowerHex,
    /// Standard base64 with `=` padding.
    Base64,
    /// Decimal digits (a timestamp).
    Decimal,
}

const BASE64_SYMBOLS: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl Alphabet {
    /// The alphabet a tag or hash in `encoding` is written in.
    pub fn of(encoding: TagEncoding) -> Alphabet {
        match encoding {
            TagEncoding::LowerHex => Alphabet::LowerHex,
            TagEncoding::Base64 => Alphabet::Base64,
        }
    }

    /// Whether `c` is one of the alphabet's symbols (base64's `=` padding
    /// is not).
    pub fn contains(self, c: u8) -> bool {
        match self {
            Alphabet::LowerHex => matches!(c, b'0'..=b'9' | b'a'..=b'f'),
            Alphabet::Base64 => c.is_ascii_alphanumeric() || c == b'+' || c == b'/',
            Alphabet::Decimal => c.is_ascii_digit(),
        }
    }

    /// What a strict decoder makes of `text`: the bytes (for decimal
    /// digits, the digits themselves), or `None`.
    pub fn decode_strict(self, text: &str) -> Option<Vec<u8>> {
        match self {
            Alphabet::LowerHex => base16ct::lower::decode_vec(text).ok(),
            Alphabet::Base64 => STANDARD.decode(text).ok(),
            Alphabet::Decimal => (!text.is_empty() && text.bytes().all(|c| c.is_ascii_digit()))
                .then(|| text.as_bytes().to_vec()),
        }
    }

    /// `bytes` written canonically in the alphabet.
    fn encode(self, bytes: &[u8]) -> String {
        match self {
            Alphabet::LowerHex => base16ct::lower::encode_string(bytes),
            Alphabet::Base64 => STANDARD.encode(bytes),
            Alphabet::Decimal => String::from_utf8_lossy(bytes).into_owned(),
        }
    }

    /// Where a character is inserted into `value`: its middle, on a
    /// boundary of the alphabet's units (a byte's two hex digits, a base64
    /// quantum of four), so that a decoder that reads unit by unit is not
    /// thrown off by where it is.
    fn middle(self, value: &str) -> Option<usize> {
        let symbols = value.trim_end_matches('=').len();
        let unit = match self {
            Alphabet::LowerHex => 2,
            Alphabet::Base64 => 4,
            Alphabet::Decimal => 1,
        };
        let at = symbols / 2 / unit * unit;
        (at > 0 && at < symbols).then_some(at)
    }
}

/// What the runner adds to the right value of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decoration {
    /// A character outside the alphabet in the middle (`!`; for decimal
    /// digits `_`, which Python's `int()` reads as a digit separator).
    ForeignCharacter,
    /// Whitespace in the middle (the caller says which: a space, a tab
    /// where spaces separate a header's items, a line break in a query).
    Whitespace,
    /// `junk` after the value (after base64's padding).
    TrailingJunk,
    /// One more hex digit at the end: an odd number of digits.
    OddHexDigit,
    /// Base64's last character changed so that its padding bits are not
    /// zero: the bytes a decoder that ignores them reads are the same.
    PaddingBits,
}

impl Decoration {
    /// Every decoration, in catalog order.
    pub const ALL: [Decoration; 5] = [
        Decoration::ForeignCharacter,
        Decoration::Whitespace,
        Decoration::TrailingJunk,
        Decoration::OddHexDigit,
        Decoration::PaddingBits,
    ];

    /// A short name, for case ids (`tag-foreign-character`).
    pub fn name(self) -> &'static str {
        match self {
            Decoration::ForeignCharacter => "foreign-character",
            Decoration::Whitespace => "whitespace",
            Decoration::TrailingJunk => "trailing-junk",
            Decoration::OddHexDigit => "odd-hex-digit",
            Decoration::PaddingBits => "padding-bits",
        }
    }

    /// What it adds to a value in `alphabet`, with `whitespace` where
    /// whitespace is inserted.
    pub fn describe(self, alphabet: Alphabet, whitespace: char) -> String {
        match (self, alphabet) {
            (Decoration::ForeignCharacter, Alphabet::Decimal) => {
                "`_` inserted between its digits (a digit separator to Python's `int()`)".into()
            }
            (Decoration::ForeignCharacter, _) => {
                "`!` (outside its alphabet) inserted in the middle".into()
            }
            (Decoration::Whitespace, _) => {
                let name = match whitespace {
                    ' ' => "a space",
                    '\t' => "a tab",
                    '\n' => "a line break",
                    _ => "whitespace",
                };
                format!("{name} inserted in the middle")
            }
            (Decoration::TrailingJunk, Alphabet::Base64) => {
                "`junk` appended after its padding".into()
            }
            (Decoration::TrailingJunk, _) => "`junk` appended".into(),
            (Decoration::OddHexDigit, _) => "a `0` appended (an odd number of hex digits)".into(),
            (Decoration::PaddingBits, _) => {
                "its last character changed to set base64's padding bits (the same bytes to a decoder that ignores them)".into()
            }
        }
    }

    /// The decoder that reads this decoration, and no other, as the right
    /// value.
    pub fn read_by(self) -> LenientDecoder {
        match self {
            Decoration::ForeignCharacter => LenientDecoder::SkipsForeignCharacters,
            Decoration::Whitespace => LenientDecoder::SkipsWhitespace,
            Decoration::TrailingJunk => LenientDecoder::IgnoresTrailingData,
            Decoration::OddHexDigit => LenientDecoder::DropsOddHexDigit,
            Decoration::PaddingBits => LenientDecoder::IgnoresPaddingBits,
        }
    }

    /// `value` (written canonically in `alphabet`) decorated, with
    /// `whitespace` where whitespace is inserted; `None` where the
    /// decoration does not apply (an odd digit outside hex, padding bits
    /// outside base64, after an unpadded base64 value nothing tells where
    /// it ends).
    pub fn apply(self, alphabet: Alphabet, value: &str, whitespace: char) -> Option<String> {
        alphabet.decode_strict(value)?;
        let insert = |c: char| {
            let at = alphabet.middle(value)?;
            Some(format!("{}{c}{}", &value[..at], &value[at..]))
        };
        let padded = value.ends_with('=');
        let decorated = match (self, alphabet) {
            (Decoration::ForeignCharacter, Alphabet::Decimal) => insert('_')?,
            (Decoration::ForeignCharacter, _) => insert('!')?,
            (Decoration::Whitespace, _) => insert(whitespace)?,
            (Decoration::TrailingJunk, Alphabet::Base64) if !padded => return None,
            (Decoration::TrailingJunk, _) => format!("{value}junk"),
            (Decoration::OddHexDigit, Alphabet::LowerHex) => format!("{value}0"),
            (Decoration::PaddingBits, Alphabet::Base64) if padded => {
                let symbols = value.trim_end_matches('=');
                let last = *symbols.as_bytes().last()?;
                let index = BASE64_SYMBOLS.iter().position(|&s| s == last)?;
                let changed = BASE64_SYMBOLS[index | 1] as char;
                format!(
                    "{}{changed}{}",
                    &symbols[..symbols.len() - 1],
                    &value[symbols.len()..]
                )
            }
            (Decoration::OddHexDigit | Decoration::PaddingBits, _) => return None,
        };
        (alphabet.decode_strict(&decorated).is_none()).then_some(decorated)
    }
}

/// A decoder that reads more than the strict encoding. Each reads only
/// the alphabet it is named for; a field in another alphabet it decodes
/// strictly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LenientDecoder {
    /// Drops a character outside the alphabet between two of its
    /// characters (whitespace aside), as Python's `int()` drops a digit
    /// separator `_`: what the decoders below that skip foreign characters
    /// do, alone.
    SkipsForeignCharacters,
    /// Drops every whitespace character first: WHATWG's `atob`, .NET's
    /// `Convert.FromBase64String`, Python's `bytes.fromhex`, a value
    /// "cleaned" with `"".join(s.split())`.
    SkipsWhitespace,
    /// Reads the value up to where it ends (base64's padding; the last
    /// character of its alphabet) and ignores what follows: JavaScript's
    /// `parseInt`, PHP's `(int)` cast, C's `atoi` for digits; what Python's
    /// and Node's base64 decoders do, alone.
    IgnoresTrailingData,
    /// Checks the hex alphabet, then decodes pairs, dropping a lone last
    /// digit (Node's `Buffer.from(s, 'hex')` behind a `/^[0-9a-f]+$/` check).
    DropsOddHexDigit,
    /// Ignores base64's padding bits: Python's `b64decode(validate=True)`,
    /// Java's `Base64.getDecoder()`, Go's `base64.StdEncoding`.
    IgnoresPaddingBits,
    /// Python's `base64.b64decode` without `validate=True`: characters
    /// outside the alphabet dropped, what follows the padding ignored,
    /// padding bits ignored.
    PythonB64decode,
    /// Node's `Buffer.from(s, 'base64')`: characters outside the standard
    /// and URL-safe alphabets skipped, decoding stopped at the first `=`,
    /// padding optional and its bits ignored.
    NodeBufferBase64,
    /// Node's `Buffer.from(s, 'hex')`: pairs read until the first one that
    /// is not hex (in either letter case), a lone last digit dropped.
    NodeBufferHex,
    /// Java's `Base64.getMimeDecoder()`: characters outside the alphabet
    /// skipped (after the padding too), padding optional and its bits
    /// ignored.
    JavaMimeDecoder,
}

impl LenientDecoder {
    /// Every lenient decoder.
    pub const ALL: [LenientDecoder; 9] = [
        LenientDecoder::SkipsForeignCharacters,
        LenientDecoder::SkipsWhitespace,
        LenientDecoder::IgnoresTrailingData,
        LenientDecoder::DropsOddHexDigit,
        LenientDecoder::IgnoresPaddingBits,
        LenientDecoder::PythonB64decode,
        LenientDecoder::NodeBufferBase64,
        LenientDecoder::NodeBufferHex,
        LenientDecoder::JavaMimeDecoder,
    ];

    /// What a verifier decoding `text` this way reads, written canonically
    /// in `alphabet` (what a strict verifier given that would read); `None`
    /// where it refuses `text`.
    pub fn read(self, alphabet: Alphabet, text: &str) -> Option<String> {
        let bytes = match (self, alphabet) {
            (LenientDecoder::SkipsForeignCharacters, _) => {
                alphabet.decode_strict(&without_foreign_inside(alphabet, text))
            }
            (LenientDecoder::SkipsWhitespace, _) => {
                let kept: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                alphabet.decode_strict(&kept)
            }
            (LenientDecoder::IgnoresTrailingData, _) => {
                alphabet.decode_strict(&text[..value_end(alphabet, text)])
            }
            (LenientDecoder::DropsOddHexDigit, Alphabet::LowerHex) => {
                let even = text.len() / 2 * 2;
                text.bytes()
                    .all(|c| alphabet.contains(c))
                    .then(|| alphabet.decode_strict(&text[..even]))?
            }
            (LenientDecoder::IgnoresPaddingBits, Alphabet::Base64) => {
                ALLOWING_PADDING_BITS.decode(text).ok()
            }
            (LenientDecoder::PythonB64decode, Alphabet::Base64) => python_b64decode(text),
            (LenientDecoder::NodeBufferBase64, Alphabet::Base64) => Some(node_base64(text)),
            (LenientDecoder::NodeBufferHex, Alphabet::LowerHex) => Some(node_hex(text)),
            (LenientDecoder::JavaMimeDecoder, Alphabet::Base64) => java_mime(text),
            _ => alphabet.decode_strict(text),
        }?;
        Some(alphabet.encode(&bytes))
    }
}

/// Standard base64 that accepts non-zero padding bits.
const ALLOWING_PADDING_BITS: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// `text` without the characters outside `alphabet` (whitespace aside)
/// that stand between two of its characters.
fn without_foreign_inside(alphabet: Alphabet, text: &str) -> String {
    let bytes = text.as_bytes();
    let inside = |i: usize| {
        let c = bytes[i];
        !alphabet.contains(c)
            && c != b'='
            && !c.is_ascii_whitespace()
            && i > 0
            && alphabet.contains(bytes[i - 1])
            && bytes
                .get(i + 1)
                .is_some_and(|&next| alphabet.contains(next))
    };
    let kept: Vec<u8> = (0..bytes.len())
        .filter(|&i| !inside(i))
        .map(|i| bytes[i])
        .collect();
    String::from_utf8_lossy(&kept).into_owned()
}

/// Where the value at the start of `text` ends: after base64's padding,
/// else after the leading run of the alphabet's characters.
fn value_end(alphabet: Alphabet, text: &str) -> usize {
    let run = |from: usize, ok: &dyn Fn(u8) -> bool| {
        from + text.as_bytes()[from..]
            .iter()
            .take_while(|&&c| ok(c))
            .count()
    };
    let symbols = run(0, &|c| alphabet.contains(c));
    match alphabet {
        Alphabet::Base64 => run(symbols, &|c| c == b'='),
        _ => symbols,
    }
}

/// The value of a standard or URL-safe base64 character.
fn base64_value(c: u8) -> Option<u8> {
    match c {
        b'-' => Some(62),
        b'_' => Some(63),
        _ => BASE64_SYMBOLS.iter().position(|&s| s == c).map(|i| i as u8),
    }
}

/// Bytes from base64 values, four to three; a last group of two or three
/// values gives one or two bytes (their padding bits dropped), a lone one
/// nothing.
fn from_values(values: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 3 / 4);
    for group in values.chunks(4) {
        let bits = group
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &v)| acc | (u32::from(v) << (18 - 6 * i)));
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..group.len()]);
    }
    out
}

/// CPython's `binascii.a2b_base64` as `base64.b64decode` calls it without
/// `validate=True`: characters outside the alphabet are skipped, a
/// complete padding ends the input, an incomplete last group is an error.
fn python_b64decode(text: &str) -> Option<Vec<u8>> {
    let (mut values, mut pads) = (Vec::new(), 0usize);
    for c in text.bytes() {
        if c == b'=' {
            let quad = values.len() % 4;
            pads += 1;
            if quad >= 2 && quad + pads >= 4 {
                return Some(from_values(&values));
            }
            continue;
        }
        if c == b'-' || c == b'_' {
            continue;
        }
        if let Some(v) = base64_value(c) {
            values.push(v);
            pads = 0;
        }
    }
    (values.len() % 4 == 0).then(|| from_values(&values))
}

/// Node's `Buffer.from(s, 'base64')`: both alphabets, other characters
/// skipped, the first `=` ends the input.
fn node_base64(text: &str) -> Vec<u8> {
    let values: Vec<u8> = text
        .bytes()
        .take_while(|&c| c != b'=')
        .filter_map(base64_value)
        .collect();
    from_values(&values)
}

/// Node's `Buffer.from(s, 'hex')`: pairs until the first that is not hex.
fn node_hex(text: &str) -> Vec<u8> {
    text.as_bytes()
        .chunks_exact(2)
        .map_while(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect()
}

/// Java's MIME decoder: characters outside the alphabet skipped; `=` ends
/// the data (`xx=` must be followed by `=` at once); after it, only
/// characters outside the alphabet (`=` among them) may follow.
fn java_mime(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut values = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let c = bytes[at];
        at += 1;
        if c == b'=' {
            match values.len() % 4 {
                0 | 1 => return None,
                2 if bytes.get(at) != Some(&b'=') => return None,
                2 => at += 1,
                _ => {}
            }
            break;
        }
        if let Some(v) = BASE64_SYMBOLS.iter().position(|&s| s == c) {
            values.push(v as u8);
        }
    }
    if values.len() % 4 == 1 {
        return None;
    }
    let alphabet_after = bytes[at..].iter().any(|&c| Alphabet::Base64.contains(c));
    (!alphabet_after).then(|| from_values(&values))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values of every length a tag or hash has, in each alphabet.
    fn values() -> Vec<(Alphabet, String)> {
        let bytes = |n: usize| (0..n).map(|i| (i * 37 + 11) as u8).collect::<Vec<u8>>();
        let mut out = Vec::new();
        for n in [20, 32, 64] {
            out.push((Alphabet::LowerHex, Alphabet::LowerHex.encode(&bytes(n))));
            out.push((Alphabet::Base64, Alphabet::Base64.encode(&bytes(n))));
        }
        out.push((Alphabet::Decimal, "1700000000".into()));
        out.push((Alphabet::Decimal, "1700000000123".into()));
        out
    }

    const WHITESPACE: [char; 3] = [' ', '\t', '\n'];

    #[test]
    fn each_decoration_is_read_as_the_value_by_its_decoder_alone() {
        let mut applied = 0;
        for (alphabet, value) in values() {
            for ws in WHITESPACE {
                for decoration in Decoration::ALL {
                    let Some(decorated) = decoration.apply(alphabet, &value, ws) else {
                        continue;
                    };
                    applied += 1;
                    assert_ne!(decorated, value);
                    assert_eq!(alphabet.decode_strict(&decorated), None, "{decorated}");
                    for other in Decoration::ALL {
                        let read = other.read_by().read(alphabet, &decorated);
                        assert_eq!(
                            read.as_deref() == Some(value.as_str()),
                            other == decoration,
                            "{:?} on {decoration:?} {decorated:?}: {read:?}",
                            other.read_by()
                        );
                    }
                }
            }
        }
        // Foreign character, whitespace and junk in every alphabet; the odd
        // digit in hex, the padding bits in base64.
        assert_eq!(applied, WHITESPACE.len() * (3 * 4 + 3 * 4 + 2 * 3));
    }

    #[test]
    fn every_decoder_reads_a_canonical_value_as_itself() {
        for (alphabet, value) in values() {
            for decoder in LenientDecoder::ALL {
                assert_eq!(
                    decoder.read(alphabet, &value).as_deref(),
                    Some(value.as_str())
                );
            }
        }
    }

    #[test]
    fn the_decorations() {
        let hex = "00112233445566778899aabbccddeeff";
        let apply = |d: Decoration, a: Alphabet, v: &str| d.apply(a, v, ' ').unwrap();
        assert_eq!(
            apply(Decoration::ForeignCharacter, Alphabet::LowerHex, hex),
            "0011223344556677!8899aabbccddeeff"
        );
        assert_eq!(
            apply(Decoration::Whitespace, Alphabet::LowerHex, hex),
            "0011223344556677 8899aabbccddeeff"
        );
        assert_eq!(
            apply(Decoration::TrailingJunk, Alphabet::LowerHex, hex),
            format!("{hex}junk")
        );
        assert_eq!(
            apply(Decoration::OddHexDigit, Alphabet::LowerHex, hex),
            format!("{hex}0")
        );
        // 20 bytes: 27 symbols and one `=`; the last, `A`, is 0, and with
        // its padding bits set 1: `B`.
        let b64 = STANDARD.encode([0u8; 20]);
        assert_eq!(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        assert_eq!(
            apply(Decoration::PaddingBits, Alphabet::Base64, &b64),
            "AAAAAAAAAAAAAAAAAAAAAAAAAAB="
        );
        assert_eq!(
            apply(Decoration::ForeignCharacter, Alphabet::Base64, &b64),
            "AAAAAAAAAAAA!AAAAAAAAAAAAAAA="
        );
        assert_eq!(
            apply(
                Decoration::ForeignCharacter,
                Alphabet::Decimal,
                "1700000000"
            ),
            "17000_00000"
        );
        assert_eq!(
            apply(Decoration::TrailingJunk, Alphabet::Decimal, "1700000000"),
            "1700000000junk"
        );
        // Nothing to decorate: no decoration.
        assert_eq!(
            Decoration::OddHexDigit.apply(Alphabet::Base64, &b64, ' '),
            None
        );
        assert_eq!(
            Decoration::PaddingBits.apply(Alphabet::LowerHex, hex, ' '),
            None
        );
        let unpadded = STANDARD.encode([0u8; 30]);
        assert!(!unpadded.ends_with('='));
        assert_eq!(
            Decoration::TrailingJunk.apply(Alphabet::Base64, &unpadded, ' '),
            None
        );
        assert_eq!(
            Decoration::Whitespace.apply(Alphabet::LowerHex, "not hex", ' '),
            None
        );
    }

    /// What the decoders of real libraries read as the right value (checked
    /// against Python 3.11, Node 20 and Java 17: `tests/crosscheck.rs`).
    #[test]
    fn what_the_libraries_read() {
        use Decoration::*;
        use LenientDecoder::*;
        let reads = |decoder: LenientDecoder, alphabet: Alphabet| -> Vec<Decoration> {
            let value = values()
                .into_iter()
                .find(|(a, _)| *a == alphabet)
                .unwrap()
                .1;
            Decoration::ALL
                .into_iter()
                .filter(|d| {
                    WHITESPACE.iter().all(|&ws| {
                        d.apply(alphabet, &value, ws).is_some_and(|decorated| {
                            decoder.read(alphabet, &decorated).as_deref() == Some(&value)
                        })
                    })
                })
                .collect()
        };
        let base64 = Alphabet::Base64;
        assert_eq!(
            reads(PythonB64decode, base64),
            [ForeignCharacter, Whitespace, TrailingJunk, PaddingBits]
        );
        assert_eq!(
            reads(NodeBufferBase64, base64),
            [ForeignCharacter, Whitespace, TrailingJunk, PaddingBits]
        );
        assert_eq!(
            reads(JavaMimeDecoder, base64),
            [ForeignCharacter, Whitespace, PaddingBits]
        );
        assert_eq!(
            reads(NodeBufferHex, Alphabet::LowerHex),
            [TrailingJunk, OddHexDigit]
        );
        // Each reads only its own alphabet.
        assert!(reads(PythonB64decode, Alphabet::LowerHex).is_empty());
        assert!(reads(NodeBufferHex, base64).is_empty());
        // The spellings the rules leave open: base64url and no padding are
        // read by Node's decoder (and Java's, without padding), not
        // Python's; upper-case hex by Node's.
        let tag = STANDARD.encode([0xfb, 0xff, 0xbf, 0x01, 0x02]);
        let url = tag.replace('+', "-").replace('/', "_");
        let unpadded = tag.trim_end_matches('=');
        assert_eq!(NodeBufferBase64.read(base64, &url).as_ref(), Some(&tag));
        assert_eq!(NodeBufferBase64.read(base64, unpadded).as_ref(), Some(&tag));
        assert_eq!(JavaMimeDecoder.read(base64, unpadded).as_ref(), Some(&tag));
        assert_ne!(PythonB64decode.read(base64, &url).as_ref(), Some(&tag));
        assert_eq!(PythonB64decode.read(base64, unpadded), None);
        assert_eq!(
            NodeBufferHex.read(Alphabet::LowerHex, "0AFF").as_deref(),
            Some("0aff")
        );
    }
}
