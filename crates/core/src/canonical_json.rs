//! `partner`'s canonical JSON: what JavaScript's `JSON.stringify` prints for
//! a body parsed with `JSON.parse` whose object keys were sorted recursively.
//!
//! The rules (`docs/rules/partner.md`) differ from most languages' JSON printers in
//! ways that change signatures:
//! - keys sort by UTF-16 code units (JavaScript's default sort), which
//!   differs from UTF-8 byte order for characters above U+FFFF — except
//!   that keys which are array indices (`"0"`, `"9"`, `"10"`, up to
//!   2^32 - 2) come first, in numeric order, because JavaScript objects
//!   always enumerate such keys that way, so `JSON.stringify` of a sorted
//!   object emits them so whatever order they were sorted into;
//! - numbers are IEEE-754 doubles printed like `Number.prototype.toString`:
//!   `1.0` is `1`, `1e21` is `1e+21`, `-0` is `0`, integers above 2^53 are
//!   rounded exactly as JavaScript rounds them, and a number beyond the
//!   double range (`1e400`) is an infinity, which `JSON.stringify` prints
//!   as `null`;
//! - only `"`, `\` and control characters are escaped (`\b \f \n \r \t`,
//!   others as lower-case `\u00xx`); non-ASCII and `/` are written raw;
//! - a string may hold a lone surrogate (`"\ud800"`): JavaScript strings
//!   are UTF-16 code units, not characters, and `JSON.stringify` writes a
//!   lone surrogate back as a lower-case `\udxxx` escape (ES2019);
//! - a key repeated in one object keeps its last value;
//! - an empty body and JSON `null` sign as `{}`.
//!
//! The parser is our own rather than serde_json's, for two of those rules:
//! serde_json refuses lone surrogates (a Rust string can't hold one) and
//! numbers beyond the double range, where `JSON.parse` accepts both. It
//! follows `JSON.parse`'s grammar (RFC 8259) exactly. Decoded strings are
//! WTF-8: UTF-8 that may also encode lone surrogates, which is what a
//! JavaScript string is, as bytes. `tests/canonical_json_js.rs` (this crate's) compares
//! it with Node on generated documents.
//!
//! One difference from JavaScript is kept on purpose: nesting deeper than
//! [`MAX_DEPTH`] is refused. Node's own canonicalisation gives out
//! somewhere past 2 000 levels (a stack overflow, so it depends on the
//! stack size); a verifier must bound what one request can cost.

use crate::Rejection;
use crate::crypto::ByteSink;

/// The deepest nesting of arrays and objects accepted. The text is written
/// in place, and only an object whose keys arrive out of order is moved,
/// once, when it closes; nested in each other, such objects are moved once
/// per level, so the depth bounds the work a body can cause (at most this
/// many times its size) where JavaScript is bounded by its stack.
pub const MAX_DEPTH: usize = 512;

/// Writes the canonical JSON of `body` to `out`.
///
/// A body that is not JSON is [`Rejection::BodyNotJson`], and so is one
/// that is not UTF-8: JSON text is UTF-8 (RFC 8259 §8.1). (A JavaScript
/// server that decodes the body leniently would read such bytes as U+FFFD,
/// so that many bodies share one signature; refusing them is the point.)
pub fn canonicalize_body(body: &[u8], out: &mut dyn ByteSink) -> Result<(), Rejection> {
    if body.is_empty() {
        out.put(b"{}");
        return Ok(());
    }
    // Checked once for the whole body (a word at a time); the parser then
    // copies bytes above 0x7F through without looking at them again.
    std::str::from_utf8(body).map_err(|_| Rejection::BodyNotJson)?;
    let mut canonical = Canonical::new(body);
    let null = canonical
        .document()
        .map_err(|NotJson| Rejection::BodyNotJson)?;
    out.put(if null { b"{}" } else { &canonical.text });
    Ok(())
}

/// Canonical JSON of `body` as a new string (convenience for tests and tools).
pub fn canonical_json(body: &[u8]) -> Result<String, Rejection> {
    let mut out = Vec::with_capacity(body.len());
    canonicalize_body(body, &mut out)?;
    // Only UTF-8 is ever written: the body was UTF-8, and lone surrogates
    // are written as escapes.
    Ok(String::from_utf8(out).expect("canonical JSON is UTF-8"))
}

/// The body is not JSON text; where it failed does not change the answer.
#[derive(Debug)]
struct NotJson;

/// Reads a body with `JSON.parse`'s grammar, a token at a time, and writes
/// its canonical text as it goes.
///
/// Everything is written in place, in the body's order: scalars as they are
/// read, containers' brackets and commas as they come. Only an object whose
/// keys are not already in JavaScript's order (or repeat) is rewritten when
/// it closes, its members copied in order. No tree is built.
struct Canonical<'a> {
    body: &'a [u8],
    pos: usize,
    /// The canonical text written so far.
    text: Vec<u8>,
    /// The containers still open, innermost last.
    stack: Vec<Open>,
    /// The members of the objects still open, innermost last.
    members: Vec<Member>,
    /// A string with escapes, decoded to WTF-8 before it is written.
    decoded: Vec<u8>,
    /// An object's members in order, before they replace its text.
    reordered: Vec<u8>,
}

/// A container being read.
struct Open {
    object: bool,
    /// Where its text starts (its bracket) in [`Canonical::text`].
    start: usize,
    /// Where its members start in [`Canonical::members`].
    mark: usize,
}

/// A member of an open object: its key, and where its text (`"key":value`)
/// lies in [`Canonical::text`].
struct Member {
    key: Key,
    start: usize,
    end: usize,
}

/// An object key: where its characters stand in the body, if it has no
/// escapes; else its decoded WTF-8 (escapes are rare in keys).
enum Key {
    Body { start: usize, end: usize },
    Decoded(Vec<u8>),
}

impl<'a> Canonical<'a> {
    fn new(body: &'a [u8]) -> Self {
        Canonical {
            body,
            pos: 0,
            // The canonical text is seldom longer than the body.
            text: Vec::with_capacity(body.len()),
            stack: Vec::new(),
            members: Vec::new(),
            decoded: Vec::new(),
            reordered: Vec::new(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.body.get(self.pos).copied()
    }

    /// JSON's whitespace: space, tab, line feed and carriage return only.
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `byte` after optional whitespace.
    fn expect(&mut self, byte: u8) -> Result<(), NotJson> {
        self.skip_whitespace();
        if self.peek() != Some(byte) {
            return Err(NotJson);
        }
        self.pos += 1;
        Ok(())
    }

    /// Reads the whole body as one value; returns whether it was the
    /// literal `null` (which signs as `{}`).
    fn document(&mut self) -> Result<bool, NotJson> {
        self.skip_whitespace();
        let null = self.body[self.pos..].starts_with(b"null");
        loop {
            if !self.value()? {
                continue; // a container opened: its first value is next
            }
            // The value is complete: the innermost container goes on with
            // its next member, or closes, completing its own value.
            loop {
                let Some(open) = self.stack.last() else {
                    self.skip_whitespace();
                    return if self.pos == self.body.len() {
                        Ok(null)
                    } else {
                        Err(NotJson)
                    };
                };
                let object = open.object;
                if object {
                    self.end_member();
                }
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.text.push(b',');
                        if object {
                            self.start_member()?;
                        }
                        break;
                    }
                    Some(b'}') if object => self.close_object(),
                    Some(b']') if !object => {
                        self.stack.pop();
                        self.text.push(b']');
                    }
                    _ => return Err(NotJson),
                }
                self.pos += 1;
            }
        }
    }

    /// Reads a value and returns true, or opens a container (and reads its
    /// first key) and returns false.
    fn value(&mut self) -> Result<bool, NotJson> {
        self.skip_whitespace();
        match self.peek().ok_or(NotJson)? {
            bracket @ (b'{' | b'[') => {
                if self.stack.len() == MAX_DEPTH {
                    return Err(NotJson);
                }
                self.pos += 1;
                let object = bracket == b'{';
                let close = if object { b'}' } else { b']' };
                self.skip_whitespace();
                if self.peek() == Some(close) {
                    self.pos += 1;
                    self.text.extend_from_slice(&[bracket, close]);
                    return Ok(true);
                }
                self.stack.push(Open {
                    object,
                    start: self.text.len(),
                    mark: self.members.len(),
                });
                self.text.push(bracket);
                if object {
                    self.start_member()?;
                }
                return Ok(false);
            }
            b'"' => self.string()?,
            b'-' | b'0'..=b'9' => self.number()?,
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            _ => return Err(NotJson),
        }
        Ok(true)
    }

    /// Reads an object member's key and the `:` after it, and writes both.
    fn start_member(&mut self) -> Result<(), NotJson> {
        let start = self.text.len();
        self.expect(b'"')?;
        let quote = self.pos - 1;
        let key = if self.scan_plain_string()? {
            self.text.extend_from_slice(&self.body[quote..self.pos]);
            Key::Body {
                start: quote + 1,
                end: self.pos - 1,
            }
        } else {
            self.decode_string(quote + 1)?;
            write_string(&mut self.text, &self.decoded);
            Key::Decoded(self.decoded.clone())
        };
        self.expect(b':')?;
        self.text.push(b':');
        self.members.push(Member {
            key,
            start,
            end: start,
        });
        Ok(())
    }

    /// Marks the end of the innermost object's last member, whose value has
    /// just been written.
    fn end_member(&mut self) {
        let end = self.text.len();
        if let Some(member) = self.members.last_mut() {
            member.end = end;
        }
    }

    fn key<'k>(&'k self, member: &'k Member) -> &'k [u8] {
        match &member.key {
            Key::Body { start, end } => &self.body[*start..*end],
            Key::Decoded(decoded) => decoded,
        }
    }

    /// Closes the innermost object, rewriting its members in JavaScript's
    /// key order if they were not written in it.
    fn close_object(&mut self) {
        let Some(Open { start, mark, .. }) = self.stack.pop() else {
            return;
        };
        let mut members = std::mem::take(&mut self.members);
        let open = &mut members[mark..];
        let in_order = open
            .windows(2)
            .all(|pair| js_key_order(self.key(&pair[0]), self.key(&pair[1])).is_lt());
        if !in_order {
            // Stable: of a repeated key the last copy stays last, and is
            // the one written (JSON.parse keeps the last value).
            open.sort_by(|a, b| js_key_order(self.key(a), self.key(b)));
            self.reordered.clear();
            for (i, member) in open.iter().enumerate() {
                if open
                    .get(i + 1)
                    .is_some_and(|next| self.key(next) == self.key(member))
                {
                    continue;
                }
                if !self.reordered.is_empty() {
                    self.reordered.push(b',');
                }
                self.reordered
                    .extend_from_slice(&self.text[member.start..member.end]);
            }
            self.text.truncate(start + 1);
            self.text.extend_from_slice(&self.reordered);
        }
        self.text.push(b'}');
        members.truncate(mark);
        self.members = members;
    }

    /// A string value: its own text if it has no escapes, else re-escaped
    /// as `JSON.stringify` escapes.
    fn string(&mut self) -> Result<(), NotJson> {
        let start = self.pos;
        self.pos += 1;
        if self.scan_plain_string()? {
            self.text.extend_from_slice(&self.body[start..self.pos]);
        } else {
            self.decode_string(start + 1)?;
            write_string(&mut self.text, &self.decoded);
        }
        Ok(())
    }
    /// Reads a string's characters up to its closing quote, which it
    /// consumes, and returns true if there was no escape; at the first
    /// backslash, returns false with the position on it, for
    /// [`Self::decode_string`] to go on from.
    fn scan_plain_string(&mut self) -> Result<bool, NotJson> {
        while let Some(&byte) = self.body.get(self.pos) {
            match byte {
                b'"' => {
                    self.pos += 1;
                    return Ok(true);
                }
                b'\\' => return Ok(false),
                0x00..=0x1f => return Err(NotJson),
                _ => self.pos += 1,
            }
        }
        Err(NotJson)
    }

    /// Decodes the string whose characters start at `first` into
    /// `decoded` as WTF-8, up to and including its closing quote; the
    /// characters before the position, scanned already, have no escape. An
    /// escaped surrogate pair is one character; an escaped surrogate
    /// without its other half stays a lone surrogate, as in a JavaScript
    /// string.
    fn decode_string(&mut self, first: usize) -> Result<(), NotJson> {
        let mut out = std::mem::take(&mut self.decoded);
        out.clear();
        out.extend_from_slice(&self.body[first..self.pos]);
        let result = self.decode_string_into(&mut out);
        self.decoded = out;
        result
    }

    fn decode_string_into(&mut self, out: &mut Vec<u8>) -> Result<(), NotJson> {
        loop {
            let run = self.pos;
            while let Some(&byte) = self.body.get(self.pos) {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.extend_from_slice(&self.body[run..self.pos]);
            match self.peek().ok_or(NotJson)? {
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\\' => self.pos += 1,
                _ => return Err(NotJson), // a raw control character
            }
            let escaped = self.peek().ok_or(NotJson)?;
            self.pos += 1;
            let unit = match escaped {
                b'"' => u32::from(b'"'),
                b'\\' => u32::from(b'\\'),
                b'/' => u32::from(b'/'),
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => u32::from(b'\n'),
                b'r' => u32::from(b'\r'),
                b't' => u32::from(b'\t'),
                b'u' => self.hex4()?,
                _ => return Err(NotJson),
            };
            let code_point = match unit {
                0xd800..=0xdbff if self.body[self.pos..].starts_with(b"\\u") => {
                    let after = self.pos;
                    self.pos += 2;
                    match self.hex4()? {
                        low @ 0xdc00..=0xdfff => 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00),
                        _ => {
                            self.pos = after; // the next escape is a character of its own
                            unit
                        }
                    }
                }
                _ => unit,
            };
            push_wtf8(out, code_point);
        }
    }

    /// The four hex digits of a `\u` escape, in either case.
    fn hex4(&mut self) -> Result<u32, NotJson> {
        let digits = self.body.get(self.pos..self.pos + 4).ok_or(NotJson)?;
        let mut unit = 0;
        for &digit in digits {
            let value = match digit {
                b'0'..=b'9' => digit - b'0',
                b'a'..=b'f' => digit - b'a' + 10,
                b'A'..=b'F' => digit - b'A' + 10,
                _ => return Err(NotJson),
            };
            unit = unit << 4 | u32::from(value);
        }
        self.pos += 4;
        Ok(unit)
    }

    /// A number: its own text when that is already JavaScript's (an
    /// integer of up to fifteen digits, other than `-0`), else the double
    /// that `JSON.parse` reads, printed as JavaScript prints it.
    fn number(&mut self) -> Result<(), NotJson> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(NotJson),
        }
        let integer_end = self.pos;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        let lexeme = &self.body[start..self.pos];
        let integer = integer_end == self.pos;
        if integer && lexeme.len() <= 15 && lexeme != b"-0" {
            self.text.extend_from_slice(lexeme);
            return Ok(());
        }
        // The lexeme is ASCII, and Rust reads JSON's number grammar with
        // correct rounding, as `JSON.parse` does: beyond the double range
        // to an infinity, below it to zero.
        let f: f64 = std::str::from_utf8(lexeme)
            .ok()
            .and_then(|lexeme| lexeme.parse().ok())
            .ok_or(NotJson)?;
        write_number(&mut self.text, f);
        Ok(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), NotJson> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(NotJson);
        }
        self.digits();
        Ok(())
    }

    /// `true`, `false` or `null`, which are their own canonical text.
    fn literal(&mut self, word: &[u8]) -> Result<(), NotJson> {
        if !self.body[self.pos..].starts_with(word) {
            return Err(NotJson);
        }
        self.pos += word.len();
        self.text.extend_from_slice(word);
        Ok(())
    }
}

/// Appends a code point, or a lone surrogate, as UTF-8 encodes it (WTF-8).
fn push_wtf8(out: &mut Vec<u8>, code_point: u32) {
    // Truncation to u8 is the encoding: each byte takes its bits.
    match code_point {
        0..=0x7f => out.push(code_point as u8),
        0x80..=0x7ff => out.extend_from_slice(&[
            0xc0 | (code_point >> 6) as u8,
            0x80 | (code_point & 0x3f) as u8,
        ]),
        0x800..=0xffff => out.extend_from_slice(&[
            0xe0 | (code_point >> 12) as u8,
            0x80 | (code_point >> 6 & 0x3f) as u8,
            0x80 | (code_point & 0x3f) as u8,
        ]),
        _ => out.extend_from_slice(&[
            0xf0 | (code_point >> 18) as u8,
            0x80 | (code_point >> 12 & 0x3f) as u8,
            0x80 | (code_point >> 6 & 0x3f) as u8,
            0x80 | (code_point & 0x3f) as u8,
        ]),
    }
}

/// Writes a double as `Number.prototype.toString` does, and an infinity
/// (`JSON.parse` reads digits beyond the double range so) as `null`, as
/// `JSON.stringify` does.
fn write_number(out: &mut Vec<u8>, f: f64) {
    /// Below 2^53 every integer is a double exactly, and JavaScript
    /// prints it as plain digits (-0 as 0): integer printing will do,
    /// and is several times cheaper than the shortest-digits search.
    const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;
    if !f.is_finite() {
        out.extend_from_slice(b"null");
    } else if f.abs() < EXACT_INTEGERS && (f as i64) as f64 == f {
        out.extend_from_slice(itoa::Buffer::new().format(f as i64).as_bytes());
    } else if !write_short_decimal(f, out) {
        out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
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

/// Writes the WTF-8 string `s` as `JSON.stringify` writes it. (Strings
/// that had no escape sequence in the body need none now — JSON allows no
/// raw quote, backslash or control character — and are copied from the
/// body instead.)
fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        let (escape, len): ([u8; 6], usize) = match b {
            b'"' => (*b"\\\"    ", 2),
            b'\\' => (*b"\\\\    ", 2),
            0x08 => (*b"\\b    ", 2),
            0x0c => (*b"\\f    ", 2),
            b'\n' => (*b"\\n    ", 2),
            b'\r' => (*b"\\r    ", 2),
            b'\t' => (*b"\\t    ", 2),
            0x00..=0x1f => (
                [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ],
                6,
            ),
            // U+D800..U+DFFF encoded as UTF-8 would be: a lone surrogate.
            0xed if s.get(i + 1).is_some_and(|&next| next >= 0xa0) => {
                let unit = 0xd000 | u16::from(s[i + 1] & 0x3f) << 6 | u16::from(s[i + 2] & 0x3f);
                let digit = |shift: u16| HEX[usize::from(unit >> shift & 0xf)];
                out.extend_from_slice(&s[start..i]);
                out.extend_from_slice(&[b'\\', b'u', digit(12), digit(8), digit(4), digit(0)]);
                i += 3;
                start = i;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&s[start..i]);
        out.extend_from_slice(&escape[..len]);
        i += 1;
        start = i;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// JavaScript's order of the keys of a sorted object: array indices
/// first, numerically; then the rest by UTF-16 code units.
///
/// WTF-8 byte order is code point order, and UTF-16 order differs from it
/// only between two non-ASCII characters (U+E000..U+FFFF and lone
/// surrogates against characters above U+FFFF), so where the keys first
/// differ in an ASCII byte, byte order decides.
fn js_key_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let index = |k: &[u8]| {
        k.first()
            .is_some_and(u8::is_ascii_digit)
            .then(|| array_index(k))
            .flatten()
    };
    match (index(a), index(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => match a.iter().zip(b).position(|(p, q)| p != q) {
            Some(i) if !a[i].is_ascii() && !b[i].is_ascii() => {
                // Compare from the first byte of the character they differ
                // in (the bytes before `i` are the same in both).
                let from = a[..=i].iter().rposition(|&x| x & 0xc0 != 0x80).unwrap_or(0);
                utf16_units(&a[from..]).cmp(utf16_units(&b[from..]))
            }
            Some(i) => a[i].cmp(&b[i]),
            None => a.len().cmp(&b.len()),
        },
    }
}

/// The UTF-16 code units of a WTF-8 string (lone surrogates included).
fn utf16_units(s: &[u8]) -> impl Iterator<Item = u16> + '_ {
    let mut i = 0;
    let mut low = None;
    std::iter::from_fn(move || {
        if let Some(low) = low.take() {
            return Some(low);
        }
        let lead = *s.get(i)?;
        let (len, bits) = match lead {
            0x00..=0x7f => (1, u32::from(lead)),
            0xc0..=0xdf => (2, u32::from(lead & 0x1f)),
            0xe0..=0xef => (3, u32::from(lead & 0x0f)),
            _ => (4, u32::from(lead & 0x07)),
        };
        let tail = s.get(i + 1..i + len).unwrap_or_default();
        let code_point = tail
            .iter()
            .fold(bits, |cp, &byte| cp << 6 | u32::from(byte & 0x3f));
        i += len;
        // Truncation is the encoding: a unit takes the low bits.
        if code_point >= 0x10000 {
            let above = code_point - 0x10000;
            low = Some(0xdc00 | (above & 0x3ff) as u16);
            Some(0xd800 | (above >> 10) as u16)
        } else {
            Some(code_point as u16)
        }
    })
}

/// The value of `key` if JavaScript treats it as an array index: the
/// canonical decimal form of an integer from 0 to 2^32 - 2.
fn array_index(key: &[u8]) -> Option<u32> {
    let canonical = match key {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.len() < 10 && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !canonical {
        return None;
    }
    let value = key
        .iter()
        .fold(0u64, |n, &digit| n * 10 + u64::from(digit - b'0'));
    u32::try_from(value).ok().filter(|&n| n != u32::MAX)
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
    fn lone_surrogates_are_kept_and_written_as_escapes() {
        assert_eq!(cj(br#"{"a":"\ud800"}"#).unwrap(), r#"{"a":"\ud800"}"#);
        assert_eq!(
            cj(br#"{"a":"\udc00x\ud83d\ude80"}"#).unwrap(),
            "{\"a\":\"\\udc00x\u{1f680}\"}"
        );
        // A high surrogate before an escape that is not its low half.
        assert_eq!(
            cj(br#"["\uD83D\u0041\uDE80"]"#).unwrap(),
            r#"["\ud83dA\ude80"]"#
        );
        assert_eq!(
            cj(br#"["\ud83d\ud83d\ude80"]"#).unwrap(),
            "[\"\\ud83d\u{1f680}\"]"
        );
        // In keys too, sorted by code units: a lone low surrogate (0xDC00)
        // after U+1F680 (0xD83D 0xDE80), before U+E000.
        assert_eq!(
            cj("{\"\u{e000}\":1,\"\\udc00\":2,\"\u{1f680}\":3}".as_bytes()).unwrap(),
            "{\"\u{1f680}\":3,\"\\udc00\":2,\"\u{e000}\":1}"
        );
    }

    #[test]
    fn numbers_beyond_the_double_range_are_null() {
        assert_eq!(cj(br#"{"a":1e400}"#).unwrap(), r#"{"a":null}"#);
        assert_eq!(cj(br#"{"a":-1e400}"#).unwrap(), r#"{"a":null}"#);
        // Only the literal null signs as {}.
        assert_eq!(cj(b"1e400").unwrap(), "null");
        assert_eq!(cj(b"1e-400").unwrap(), "0");
        assert_eq!(cj(b"-1e-400").unwrap(), "0");
    }

    #[test]
    fn nesting_is_bounded_by_max_depth() {
        use super::MAX_DEPTH;
        let nested = |depth: usize, open: &str, close: &str| {
            format!("{}1{}", open.repeat(depth), close.repeat(depth))
        };
        for (open, close) in [("[", "]"), (r#"{"a":"#, "}")] {
            let deepest = nested(MAX_DEPTH, open, close);
            assert_eq!(cj(deepest.as_bytes()).unwrap(), deepest);
            assert!(cj(nested(MAX_DEPTH + 1, open, close).as_bytes()).is_err());
            let empty_below = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
            assert!(cj(empty_below.as_bytes()).is_err());
            assert!(cj(nested(100_000, open, close).as_bytes()).is_err());
        }
        // Objects out of order at every level are each rewritten once.
        let unsorted = nested(MAX_DEPTH, r#"{"b":0,"a":"#, "}");
        let sorted = format!(
            "{}1{}",
            r#"{"a":"#.repeat(MAX_DEPTH),
            r#","b":0}"#.repeat(MAX_DEPTH)
        );
        assert_eq!(cj(unsorted.as_bytes()).unwrap(), sorted);
    }

    #[test]
    fn not_json() {
        assert!(cj(b"{").is_err());
        assert!(cj(b"a=b").is_err());
        for bad in [
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            ".5",
            "1e",
            "+1",
            "-",
            "[1 2]",
            "{\"a\" 1}",
            "{1:2}",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\t\"",
            "\"abc",
            "tru",
            "nul",
            "NaN",
            "Infinity",
            "[]]",
            "{}{}",
            "\u{a0}1",
            "\u{feff}{}",
            "[\"a\"}",
            "{\"a\":1]",
            "   ",
        ] {
            assert!(cj(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(cj(b"\"\xff\"").is_err(), "not UTF-8");
    }
}
