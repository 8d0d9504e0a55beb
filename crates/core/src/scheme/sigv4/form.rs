//! Where SigV4's signature material sits: the `Authorization` header (with
//! `X-Amz-Date` beside it) or the presigned query's `X-Amz-*` parameters;
//! and the `X-Amz-Date` timestamp format.
//!
//! Reading is strict where two readers could disagree: each component and
//! parameter at most once, no unknown `Authorization` components, one form
//! per request.

use std::borrow::Cow;

use http::header::AUTHORIZATION;
use percent_encoding::percent_decode_str;

use super::{ALGORITHM, MAX_EXPIRES, X_AMZ_CONTENT_SHA256, X_AMZ_DATE};
use crate::Rejection;
use crate::request::{Request, single_headers};

/// The query parameter that holds a presigned URL's signature.
pub const QUERY_SIGNATURE: &str = "X-Amz-Signature";

/// A credential scope: `date/region/service/aws4_request`, whole, and
/// where its parts are in it.
#[derive(Debug)]
pub(super) struct Scope<'r> {
    pub text: Cow<'r, str>,
    /// The four `/`-separated parts' byte ranges in `text`.
    parts: [std::ops::Range<usize>; 4],
}

impl Scope<'_> {
    fn part(&self, i: usize) -> &str {
        &self.text[self.parts[i].clone()]
    }

    /// `YYYYMMDD`.
    pub fn date(&self) -> &str {
        self.part(0)
    }

    /// The region.
    pub fn region(&self) -> &str {
        self.part(1)
    }

    /// The service.
    pub fn service(&self) -> &str {
        self.part(2)
    }

    /// `aws4_request`, in a correct scope.
    pub fn terminator(&self) -> &str {
        self.part(3)
    }
}

/// The signature material of a received request, in either form.
#[derive(Debug)]
pub(super) struct Received<'r> {
    /// Where the credential was read: `authorization` or `x-amz-credential`,
    /// for the errors about it.
    pub credential_field: &'static str,
    pub access_key: Cow<'r, str>,
    pub scope: Scope<'r>,
    pub amz_date: Cow<'r, str>,
    pub signed_headers: Vec<Cow<'r, str>>,
    pub signature: &'r str,
    pub body_hash: Option<&'r str>,
    /// `X-Amz-Expires`, for a presigned URL.
    pub expires: Option<u64>,
}

fn malformed(header: &str, detail: &'static str) -> Rejection {
    Rejection::MalformedHeader {
        header: header.to_owned(),
        detail,
    }
}

/// Reads the signature material of `req`: the `Authorization` header form,
/// or the presigned query form; a request with both is refused.
pub(super) fn read(req: &Request) -> Result<Received<'_>, Rejection> {
    let [authorization, amz_date, body_hash] =
        single_headers(req, [&AUTHORIZATION, &X_AMZ_DATE, &X_AMZ_CONTENT_SHA256])?;
    let query = presigned_parameters(req.uri().query().unwrap_or(""))?;
    match (authorization, query) {
        (Some(_), Some(_)) => Err(malformed(
            "authorization",
            "both an Authorization header and a presigned query",
        )),
        (None, None) => Err(Rejection::MissingHeader("authorization".into())),
        (Some(value), None) => {
            let amz_date = amz_date.ok_or_else(|| Rejection::MissingHeader("x-amz-date".into()))?;
            header_form(value, amz_date, body_hash)
        }
        (None, Some(query)) => query_form(query, body_hash),
    }
}

fn header_form<'r>(
    value: &'r str,
    amz_date: &'r str,
    body_hash: Option<&'r str>,
) -> Result<Received<'r>, Rejection> {
    let rest = match value.split_once(' ') {
        Some((ALGORITHM, rest)) => rest,
        Some((other, _)) if other.starts_with("AWS4-") => {
            return Err(Rejection::UnsupportedAlgorithm);
        }
        _ => return Err(malformed("authorization", "expected AWS4-HMAC-SHA256")),
    };
    let [mut credential, mut signed_headers, mut signature] = [None; 3];
    for component in rest.split(',') {
        let (name, value) = component
            .trim_start_matches(' ')
            .split_once('=')
            .ok_or_else(|| malformed("authorization", "expected Name=value components"))?;
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(malformed("authorization", "unknown component")),
        };
        if slot.replace(value).is_some() {
            return Err(Rejection::DuplicateHeader(format!(
                "authorization component {name}"
            )));
        }
    }
    let missing = |name: &str| Rejection::MissingHeader(format!("authorization component {name}"));
    let (access_key, scope) = credential_parts(
        "authorization",
        Cow::Borrowed(credential.ok_or_else(|| missing("Credential"))?),
    )?;
    Ok(Received {
        credential_field: "authorization",
        access_key,
        scope,
        amz_date: Cow::Borrowed(amz_date),
        signed_headers: signed_header_list(
            "authorization",
            Cow::Borrowed(signed_headers.ok_or_else(|| missing("SignedHeaders"))?),
        )?,
        signature: signature.ok_or_else(|| missing("Signature"))?,
        body_hash,
        expires: None,
    })
}

/// The presigned query's `X-Amz-*` parameters, each percent-decoded.
#[derive(Debug, Default)]
pub(super) struct Presigned<'r> {
    algorithm: Option<Cow<'r, str>>,
    credential: Option<Cow<'r, str>>,
    date: Option<Cow<'r, str>>,
    expires: Option<Cow<'r, str>>,
    signed_headers: Option<Cow<'r, str>>,
    signature: Option<&'r str>,
}

/// The `X-Amz-*` parameters of `query`, or `None` when it has neither an
/// `X-Amz-Algorithm` nor an `X-Amz-Signature` (not a presigned URL).
fn presigned_parameters(query: &str) -> Result<Option<Presigned<'_>>, Rejection> {
    let mut found = Presigned::default();
    let mut any = false;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !name.starts_with("X-Amz-") {
            continue;
        }
        let decoded = percent_decode_str(value)
            .decode_utf8()
            .map_err(|_| malformed(name, "not UTF-8 once percent-decoded"))?;
        let duplicate = match name {
            "X-Amz-Algorithm" => found.algorithm.replace(decoded).is_some(),
            "X-Amz-Credential" => found.credential.replace(decoded).is_some(),
            "X-Amz-Date" => found.date.replace(decoded).is_some(),
            "X-Amz-Expires" => found.expires.replace(decoded).is_some(),
            "X-Amz-SignedHeaders" => found.signed_headers.replace(decoded).is_some(),
            // Hex: nothing to decode, and a `%` in it is malformed anyway.
            QUERY_SIGNATURE => found.signature.replace(value).is_some(),
            _ => continue,
        };
        any |= matches!(name, "X-Amz-Algorithm" | QUERY_SIGNATURE);
        if duplicate {
            return Err(Rejection::DuplicateHeader(format!(
                "query parameter {name}"
            )));
        }
    }
    Ok(any.then_some(found))
}

fn query_form<'r>(
    query: Presigned<'r>,
    body_hash: Option<&'r str>,
) -> Result<Received<'r>, Rejection> {
    let missing = |name: &str| Rejection::MissingHeader(format!("query parameter {name}"));
    match query.algorithm.as_deref() {
        Some(ALGORITHM) => {}
        Some(other) if other.starts_with("AWS4-") => return Err(Rejection::UnsupportedAlgorithm),
        Some(_) => return Err(malformed("x-amz-algorithm", "expected AWS4-HMAC-SHA256")),
        None => return Err(missing("X-Amz-Algorithm")),
    }
    let expires = query.expires.ok_or_else(|| missing("X-Amz-Expires"))?;
    let expires = parse_expires(&expires)?;
    let (access_key, scope) = credential_parts(
        "x-amz-credential",
        query
            .credential
            .ok_or_else(|| missing("X-Amz-Credential"))?,
    )?;
    Ok(Received {
        credential_field: "x-amz-credential",
        access_key,
        scope,
        amz_date: query.date.ok_or_else(|| missing("X-Amz-Date"))?,
        signed_headers: signed_header_list(
            "x-amz-signedheaders",
            query
                .signed_headers
                .ok_or_else(|| missing("X-Amz-SignedHeaders"))?,
        )?,
        signature: query.signature.ok_or_else(|| missing(QUERY_SIGNATURE))?,
        body_hash,
        expires: Some(expires),
    })
}

/// `X-Amz-Expires`: 1 to 604 800 seconds, in plain digits.
fn parse_expires(text: &str) -> Result<u64, Rejection> {
    let value = crate::time::parse_timestamp(text)
        .map_err(|_| malformed("x-amz-expires", "not a number of seconds"))?;
    match value {
        0 => Err(malformed("x-amz-expires", "zero seconds")),
        1..=MAX_EXPIRES => Ok(value),
        _ => Err(malformed(
            "x-amz-expires",
            "more than seven days (604800 s)",
        )),
    }
}

/// Splits `AKID/date/region/service/aws4_request` (exactly five parts, the
/// key id not empty), borrowing from `credential` where it can.
fn credential_parts<'r>(
    field: &str,
    credential: Cow<'r, str>,
) -> Result<(Cow<'r, str>, Scope<'r>), Rejection> {
    let bad = || {
        malformed(
            field,
            "the credential is not key/date/region/service/aws4_request",
        )
    };
    let slash = credential.find('/').filter(|&at| at > 0).ok_or_else(bad)?;
    let (access_key, text) = match credential {
        Cow::Borrowed(c) => (Cow::Borrowed(&c[..slash]), Cow::Borrowed(&c[slash + 1..])),
        Cow::Owned(mut c) => {
            let text = c.split_off(slash + 1);
            c.pop();
            (Cow::Owned(c), Cow::Owned(text))
        }
    };
    let mut parts: [std::ops::Range<usize>; 4] = Default::default();
    let mut start = 0;
    let mut pieces = text.split('/');
    for part in &mut parts {
        let piece = pieces.next().ok_or_else(bad)?;
        *part = start..start + piece.len();
        start += piece.len() + 1;
    }
    if pieces.next().is_some() {
        return Err(bad());
    }
    Ok((access_key, Scope { text, parts }))
}

/// `SignedHeaders`: `;`-separated lower-case names, sorted, each once.
fn signed_header_list<'r>(field: &str, list: Cow<'r, str>) -> Result<Vec<Cow<'r, str>>, Rejection> {
    let names: Vec<Cow<'r, str>> = match &list {
        Cow::Borrowed(text) => text.split(';').map(Cow::Borrowed).collect(),
        Cow::Owned(text) => text.split(';').map(|n| Cow::Owned(n.to_owned())).collect(),
    };
    let valid_name = |n: &str| {
        !n.is_empty() && http::HeaderName::from_bytes(n.as_bytes()).is_ok_and(|h| h.as_str() == n)
    };
    if !names.iter().all(|n| valid_name(n)) {
        return Err(malformed(
            field,
            "a signed header name is empty or not lower case",
        ));
    }
    if !names.windows(2).all(|w| w[0] < w[1]) {
        return Err(malformed(
            field,
            "signed header names are not sorted and unique",
        ));
    }
    Ok(names)
}

/// Parses `X-Amz-Date` (`20150830T123600Z`, UTC) into seconds since the epoch.
pub(super) fn parse_amz_date(text: &str) -> Result<u64, Rejection> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Result<u32, Rejection> {
        let part = b.get(range).ok_or(Rejection::MalformedTimestamp)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(Rejection::MalformedTimestamp);
        }
        Ok(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return Err(Rejection::MalformedTimestamp);
    }
    let month =
        time::Month::try_from(digits(4..6)? as u8).map_err(|_| Rejection::MalformedTimestamp)?;
    let date = time::Date::from_calendar_date(digits(0..4)? as i32, month, digits(6..8)? as u8)
        .map_err(|_| Rejection::MalformedTimestamp)?;
    let time = time::Time::from_hms(
        digits(9..11)? as u8,
        digits(11..13)? as u8,
        digits(13..15)? as u8,
    )
    .map_err(|_| Rejection::MalformedTimestamp)?;
    u64::try_from(
        time::PrimitiveDateTime::new(date, time)
            .assume_utc()
            .unix_timestamp(),
    )
    .map_err(|_| Rejection::MalformedTimestamp)
}

/// Seconds since the epoch as an `X-Amz-Date`; years past 9999 saturate
/// to the last second of 9999 (the format has four digits).
pub(super) fn amz_date_text(seconds: u64) -> String {
    let at = i64::try_from(seconds)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .filter(|t| t.year() <= 9999)
        .unwrap_or_else(|| {
            time::PrimitiveDateTime::new(
                time::Date::from_calendar_date(9999, time::Month::December, 31).expect("a date"),
                time::Time::from_hms(23, 59, 59).expect("a time"),
            )
            .assume_utc()
        });
    // `YYYYMMDDTHHMMSSZ`, digit by digit (on every request signed).
    fn digits(text: &mut String, value: u32, width: u32) {
        for place in (0..width).rev() {
            text.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
        }
    }
    let mut text = String::with_capacity(16);
    // From a time after 1970: the year is not negative.
    digits(&mut text, at.year().unsigned_abs(), 4);
    digits(&mut text, u32::from(u8::from(at.month())), 2);
    digits(&mut text, u32::from(at.day()), 2);
    text.push('T');
    digits(&mut text, u32::from(at.hour()), 2);
    digits(&mut text, u32::from(at.minute()), 2);
    digits(&mut text, u32::from(at.second()), 2);
    text.push('Z');
    text
}

/// `name=value` pairs as a query string, each value encoded as a query
/// value must be (`/` as `%2F`, `;` as `%3B`).
pub(super) fn presigned_query(pairs: &[(&str, &str)]) -> String {
    let mut out = Vec::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
        super::canonical::encode(value.as_bytes(), false, &mut out);
    }
    String::from_utf8(out).expect("percent-encoding writes ASCII")
}

/// Adds `extra` to the query of `req`.
pub(super) fn append_query(req: &mut Request, extra: &str) -> Result<(), String> {
    let uri = req.uri();
    let path = uri.path();
    let joined = match uri.query().filter(|q| !q.is_empty()) {
        Some(query) => format!("{path}?{query}&{extra}"),
        None => format!("{path}?{extra}"),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(joined.parse().map_err(|e| format!("{e}"))?);
    *req.uri_mut() = http::Uri::from_parts(parts).map_err(|e| format!("{e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_round_trip_and_are_strict() {
        assert_eq!(parse_amz_date("20150830T123600Z"), Ok(1_440_938_160));
        assert_eq!(amz_date_text(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date_text(0), "19700101T000000Z");
        assert_eq!(amz_date_text(u64::MAX), "99991231T235959Z");
        for bad in [
            "",
            "20150830T123600",
            "20150830 123600Z",
            "2015083T1236000Z",
            "20151330T123600Z",
            "20150230T123600Z",
            "20150830T243600Z",
            "20150830T123660Z",
            "+0150830T123600Z",
            "20150830t123600Z",
            "1440938160",
        ] {
            assert_eq!(
                parse_amz_date(bad),
                Err(Rejection::MalformedTimestamp),
                "{bad}"
            );
        }
    }

    #[test]
    fn expires_is_bounded_by_seven_days() {
        assert_eq!(parse_expires("604800"), Ok(604_800));
        assert!(parse_expires("604801").is_err());
        assert!(parse_expires("0").is_err());
        assert!(parse_expires("-1").is_err());
        assert!(parse_expires("1e3").is_err());
    }

    #[test]
    fn signed_header_lists_are_lower_case_sorted_and_unique() {
        let list = |text: &str| signed_header_list("h", Cow::Borrowed(text)).map(|v| v.len());
        assert_eq!(list("host;x-amz-date"), Ok(2));
        for bad in ["", "host;", "Host", "x-amz-date;host", "host;host", "ho st"] {
            assert!(list(bad).is_err(), "{bad}");
        }
    }
}
