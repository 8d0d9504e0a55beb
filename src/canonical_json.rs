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

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::Rejection;
use crate::crypto::ByteSink;

/// Writes the canonical JSON of `body` to `out`.
///
/// A body that is not JSON is [`Rejection::BodyNotJson`].
pub fn canonicalize_body(body: &[u8], out: &mut dyn ByteSink) -> Result<(), Rejection> {
    if body.is_empty() {
        out.put(b"{}");
        return Ok(());
    }
    // JSON text is UTF-8. Checked once for the whole body (a word at a
    // time), serde_json then need not check each string as it reads it.
    let body = std::str::from_utf8(body).map_err(|_| Rejection::BodyNotJson)?;
    let mut canonical = Canonical {
        body,
        // Room for the document and the fragments it is made of at a few
        // levels of nesting, so that it is seldom moved as it grows.
        text: Vec::with_capacity(body.len().saturating_mul(2)),
        open: Vec::new(),
    };
    let mut de = serde_json::Deserializer::from_str(body);
    let root = Value(&mut canonical)
        .deserialize(&mut de)
        .and_then(|root| de.end().map(|()| root))
        .map_err(|_| Rejection::BodyNotJson)?;
    match canonical.bytes(root) {
        b"null" => out.put(b"{}"),
        text => out.put(text),
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

/// The canonical text of a document, built bottom-up while it is parsed.
///
/// Every value's canonical text is written to `text` as soon as the value
/// ends: a scalar at once, a container when it closes, by copying its
/// children's texts (an object's in JavaScript's key order). No tree is
/// built: parsing and printing are one pass, and the copies are as many
/// as the nesting is deep. Strings without escapes are borrowed from the
/// body until they are copied into place.
struct Canonical<'a> {
    /// The body: a string without escapes is its own canonical text, so
    /// its fragment is where it stands in the body, quotes included.
    body: &'a str,
    /// Canonical texts of the values seen so far; the root's is the last.
    text: Vec<u8>,
    /// The members of the containers still open, innermost last.
    open: Vec<Member<'a>>,
}

/// Where a value's canonical text lies: in [`Canonical::text`], or, for a
/// string without escapes, in the body itself.
#[derive(Clone, Copy)]
enum Fragment {
    Text { start: usize, end: usize },
    Body { start: usize, end: usize },
}

/// A member of an open container: its key (empty in arrays) and value.
struct Member<'a> {
    key: Cow<'a, str>,
    value: Fragment,
}

impl<'a> Canonical<'a> {
    /// Records the text written since `start` as a fragment.
    fn fragment(&self, start: usize) -> Fragment {
        Fragment::Text {
            start,
            end: self.text.len(),
        }
    }

    /// The canonical text of a fragment.
    fn bytes(&self, fragment: Fragment) -> &[u8] {
        match fragment {
            Fragment::Text { start, end } => &self.text[start..end],
            Fragment::Body { start, end } => &self.body.as_bytes()[start..end],
        }
    }

    /// The fragment of a string borrowed from the body, with its quotes:
    /// serde_json hands out borrowed strings as slices of the body, so
    /// where it stands is plain address arithmetic. (Checked: should the
    /// string not sit between quotes in the body after all, it is written
    /// out instead.)
    fn in_body(&mut self, s: &'a str) -> Fragment {
        let body = self.body.as_bytes();
        let quoted = (s.as_ptr() as usize)
            .checked_sub(body.as_ptr() as usize + 1)
            .map(|start| start..start + s.len() + 2)
            .filter(|quoted| {
                body.get(quoted.clone())
                    .is_some_and(|q| q[0] == b'"' && q[q.len() - 1] == b'"')
            });
        match quoted {
            Some(quoted) => Fragment::Body {
                start: quoted.start,
                end: quoted.end,
            },
            None => self.string(s),
        }
    }

    /// Appends a fragment's text to `text`.
    fn copy(&mut self, fragment: Fragment) {
        match fragment {
            Fragment::Text { start, end } => self.text.extend_from_within(start..end),
            Fragment::Body { start, end } => self
                .text
                .extend_from_slice(&self.body.as_bytes()[start..end]),
        }
    }

    fn number(&mut self, f: f64) -> Fragment {
        /// Below 2^53 every integer is a double exactly, and JavaScript
        /// prints it as plain digits (-0 as 0): integer printing will do,
        /// and is several times cheaper than the shortest-digits search.
        const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;
        let start = self.text.len();
        if !f.is_finite() {
            // JSON.stringify prints non-finite numbers as null; serde_json
            // never produces them from valid input, but stay total.
            self.text.extend_from_slice(b"null");
        } else if f.abs() < EXACT_INTEGERS && (f as i64) as f64 == f {
            self.text
                .extend_from_slice(itoa::Buffer::new().format(f as i64).as_bytes());
        } else if !write_short_decimal(f, &mut self.text) {
            self.text
                .extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
        }
        self.fragment(start)
    }

    fn string(&mut self, s: &str) -> Fragment {
        let start = self.text.len();
        write_string(&mut self.text, s);
        self.fragment(start)
    }

    /// Writes the container opened at `mark` from its members' fragments.
    fn close(&mut self, mark: usize, object: bool) -> Fragment {
        let start = self.text.len();
        let mut members = std::mem::take(&mut self.open);
        let open = &mut members[mark..];
        if object {
            // Stable: of a repeated key the last copy stays last, and is
            // the one written (JSON.parse keeps the last value).
            open.sort_by(|a, b| js_key_order(&a.key, &b.key));
            self.text.push(b'{');
            let mut first = true;
            for (i, member) in open.iter().enumerate() {
                if open.get(i + 1).is_some_and(|next| next.key == member.key) {
                    continue;
                }
                if !first {
                    self.text.push(b',');
                }
                first = false;
                match member.key {
                    Cow::Borrowed(key) => {
                        let key = self.in_body(key);
                        self.copy(key);
                    }
                    Cow::Owned(ref key) => write_string(&mut self.text, key),
                }
                self.text.push(b':');
                self.copy(member.value);
            }
            self.text.push(b'}');
        } else {
            self.text.push(b'[');
            for (i, member) in open.iter().enumerate() {
                if i > 0 {
                    self.text.push(b',');
                }
                self.copy(member.value);
            }
            self.text.push(b']');
        }
        members.truncate(mark);
        self.open = members;
        self.fragment(start)
    }
}

/// Writes `f` as JavaScript does if it is a decimal of at most three
/// fraction digits and fifteen significant digits (prices, measures,
/// percentages), without the shortest-digits search; returns false, having
/// written nothing, for every other double.
///
/// Why this is JavaScript's text: the test `m / 10^k == f` (one correctly
/// rounded division by an exact power of ten) proves that the decimal
/// `m·10^-k` reads back as `f`; two different decimals of at most fifteen
/// significant digits never read as the same double, so no shorter
/// decimal does, and `f` is at least 0.001 in size, where JavaScript writes
/// digits without an exponent. A test compares it with `ryu_js` exhaustively
/// over millions of values.
fn write_short_decimal(f: f64, out: &mut Vec<u8>) -> bool {
    const POWERS: [(f64, u64); 3] = [(10.0, 10), (100.0, 100), (1000.0, 1000)];
    for (scale, divisor) in POWERS {
        let m = f * scale;
        if m.abs() >= 1e15 {
            return false;
        }
        if (m as i64) as f64 != m || m / scale != f {
            continue;
        }
        let digits = (m as i64).unsigned_abs();
        let (whole, mut fraction, mut width) = (digits / divisor, digits % divisor, divisor);
        if fraction == 0 {
            return false; // an integer: not a decimal with a fraction
        }
        // Fraction digits without trailing zeros.
        while fraction % 10 == 0 {
            fraction /= 10;
            width /= 10;
        }
        if f < 0.0 {
            out.push(b'-');
        }
        out.extend_from_slice(itoa::Buffer::new().format(whole).as_bytes());
        out.push(b'.');
        // The fraction's digits, leading zeros included (0.05 -> "05").
        let mut place = width / 10;
        while place > 0 {
            out.push(b'0' + (fraction / place % 10) as u8);
            place /= 10;
        }
        return true;
    }
    false
}

/// Writes `s` as a JSON string the way `JSON.stringify` does. (Strings
/// that had no escape sequence in the body need none now — JSON allows no
/// raw quote, backslash or control character — and are copied from the
/// body instead, see [`Canonical::in_body`].)
fn write_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.push(b'"');
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

/// Parses one value, writing its canonical text.
struct Value<'c, 'a>(&'c mut Canonical<'a>);

impl<'de> DeserializeSeed<'de> for Value<'_, 'de> {
    type Value = Fragment;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Fragment, D::Error> {
        d.deserialize_any(self)
    }
}

/// An object key, borrowed from the input when it can be.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de> Visitor<'de> for Value<'_, 'de> {
    type Value = Fragment;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Fragment, E> {
        let start = self.0.text.len();
        self.0.text.extend_from_slice(b"null");
        Ok(self.0.fragment(start))
    }
    fn visit_bool<E>(self, b: bool) -> Result<Fragment, E> {
        let start = self.0.text.len();
        self.0
            .text
            .extend_from_slice(if b { b"true" } else { b"false" });
        Ok(self.0.fragment(start))
    }
    // Integers are exact here; `as f64` rounds to the nearest double, ties
    // to even, exactly as `JSON.parse` reads the same digits.
    fn visit_i64<E>(self, n: i64) -> Result<Fragment, E> {
        Ok(self.0.number(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Fragment, E> {
        Ok(self.0.number(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Fragment, E> {
        Ok(self.0.number(n))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Fragment, E> {
        Ok(self.0.in_body(s))
    }
    fn visit_str<E>(self, s: &str) -> Result<Fragment, E> {
        Ok(self.0.string(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Fragment, A::Error> {
        let canonical = self.0;
        let mark = canonical.open.len();
        while let Some(value) = seq.next_element_seed(Value(&mut *canonical))? {
            canonical.open.push(Member {
                key: Cow::Borrowed(""),
                value,
            });
        }
        Ok(canonical.close(mark, false))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fragment, A::Error> {
        let canonical = self.0;
        let mark = canonical.open.len();
        while let Some(Key(key)) = map.next_key()? {
            let value = map.next_value_seed(Value(&mut *canonical))?;
            canonical.open.push(Member { key, value });
        }
        Ok(canonical.close(mark, true))
    }
}

/// JavaScript's order of the keys of a sorted object: array indices
/// first, numerically; then the rest by UTF-16 code units.
///
/// UTF-8 byte order is code point order, and UTF-16 order differs from it
/// only between two non-ASCII characters (U+E000..U+FFFF against those
/// above U+FFFF), so where the keys first differ in an ASCII byte, byte
/// order decides.
fn js_key_order(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let index = |k: &str| {
        k.as_bytes()
            .first()
            .is_some_and(u8::is_ascii_digit)
            .then(|| array_index(k))
            .flatten()
    };
    match (index(a), index(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => {
            let (x, y) = (a.as_bytes(), b.as_bytes());
            match x.iter().zip(y).position(|(p, q)| p != q) {
                Some(i) if !x[i].is_ascii() && !y[i].is_ascii() => {
                    a.encode_utf16().cmp(b.encode_utf16())
                }
                Some(i) => x[i].cmp(&y[i]),
                None => x.len().cmp(&y.len()),
            }
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

    /// What ryu_js, the general algorithm, writes for `f`.
    fn general(f: f64) -> String {
        ryu_js::Buffer::new().format_finite(f).to_owned()
    }

    fn fast(f: f64) -> Option<String> {
        let mut out = Vec::new();
        super::write_short_decimal(f, &mut out).then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn short_decimals_are_written_as_the_general_algorithm_writes_them() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut taken = 0;
        // Decimals with up to three fraction digits, read the way JSON.parse
        // reads them: every one of up to 10^6 in size (both signs), and a
        // million more of up to 10^15 digits.
        let small = -1_000_000i64..=1_000_000;
        let large =
            (0..1_000_000).map(|_| (next() % 2_000_000_000_000_000) as i64 - 1_000_000_000_000_000);
        for n in small.chain(large) {
            for k in 1..=3 {
                let f: f64 = format!("{n}e-{k}").parse().unwrap();
                if let Some(written) = fast(f) {
                    assert_eq!(written, general(f), "{n}e-{k}");
                    taken += 1;
                }
            }
        }
        assert!(taken > 3_000_000, "the fast path took only {taken}");
        // Arbitrary doubles: the fast path declines or agrees.
        for _ in 0..1_000_000 {
            let f = f64::from_bits(next());
            if f.is_finite()
                && let Some(written) = fast(f)
            {
                assert_eq!(written, general(f), "{f:e}");
            }
        }
        for f in [
            0.1,
            0.3,
            1.005,
            2.675,
            1e-3,
            123456789012.345,
            99999999999999.9,
        ] {
            if let Some(written) = fast(f) {
                assert_eq!(written, general(f), "{f}");
            }
        }
    }

    #[test]
    fn not_json() {
        assert!(cj(b"{").is_err());
        assert!(cj(b"a=b").is_err());
    }
}
