//! The oracle: what the scheme requires of a request, as the reference
//! verifier ([`sigconform_core::Verifier`]) decides it under two policies.
//!
//! - The **strict** policy is the reference as configured for the target.
//! - The **lenient** policy is the reference after what the rules call
//!   acceptable: the tag in a non-canonical spelling (upper-case hex,
//!   base64url, no padding: `common.noncanonical-encoding`), whitespace
//!   around a header's value (which HTTP trims), a header repeated with the
//!   same value where the provider sets no rule, the algorithm's name in
//!   other letter case or left out, a key id looked up in any letter case,
//!   a replay where the provider only advises against one, a timestamp in
//!   another spelling where the provider pins none.
//!
//! Both refuse: the target must refuse. The strict one accepts and a
//! signer could have sent the request: it must accept. Anything else is
//! *either*, and so is a request whose timestamp lies within the margin
//! of a window's limit at some moment between its sending and its answer
//! (the target's clock is known only that well), and one the reference
//! does not model (SigV4's streaming payloads with trailers), which the
//! run counts. The oracle knows the nonces the target accepted: a replay
//! of one is refused by the reference's own nonce check.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use futures_util::FutureExt as _;
use http::{HeaderMap, HeaderValue};

use sigconform_core::answer::{self, Answer};
use sigconform_core::crypto::{TagEncoding, remembering_body_hashes};
use sigconform_core::keys::{DEFAULT_KEY_ID, Key, KeyLookup, KeyPolicy, LookupError};
use sigconform_core::nonce::{NonceError, NonceStore};
use sigconform_core::request::Request;
use sigconform_core::scheme::{
    Field, Location, Repeated, ReplayRule, Scheme, SignatureParams, TimestampSyntax,
};
use sigconform_core::{FixedClock, Rejection, Verifier};

/// What the scheme requires of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Requirement {
    /// The target must accept it.
    Accept,
    /// The target must refuse it, for this reason.
    Refuse(Rejection),
    /// Either answer conforms.
    Either(Leeway),
}

/// Why either answer conforms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Leeway {
    /// The strict policy refuses it (for this reason) and the lenient one
    /// accepts it.
    Lenient(Rejection),
    /// Its timestamp is within the margin of a window's limit.
    Window,
    /// The reference accepts it, but no conformant signer sends it (an
    /// operator made it one a verifier may refuse).
    NotSignerMade,
    /// The reference does not model what it carries.
    Unmodelled(&'static str),
}

/// The nonces the target accepted, by key id (in lower case: a key id in
/// other letter case names the same nonce record for a lenient lookup).
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    accepted: Mutex<HashSet<(String, String)>>,
}

impl Ledger {
    fn key(key_id: &str, nonce: &str) -> (String, String) {
        (key_id.to_ascii_lowercase(), nonce.to_owned())
    }

    fn record(&self, key_id: &str, nonce: &str) {
        if let Ok(mut accepted) = self.accepted.lock() {
            accepted.insert(Ledger::key(key_id, nonce));
        }
    }

    fn seen(&self, key_id: &str, nonce: &str) -> bool {
        self.accepted
            .lock()
            .is_ok_and(|accepted| accepted.contains(&Ledger::key(key_id, nonce)))
    }
}

/// The reference's nonce check against the ledger: a nonce the target
/// accepted is a replay; nothing is recorded here (only the target's
/// acceptance records one).
struct LedgerNonces {
    ledger: Arc<Ledger>,
    /// Replays allowed (the provider only advises against them).
    replays_allowed: bool,
}

impl NonceStore for LedgerNonces {
    fn check_and_record<'a>(
        &'a self,
        key_id: &'a str,
        nonce: &'a str,
        _now_ms: u64,
        _ttl_ms: u64,
    ) -> Answer<'a, Result<(), NonceError>> {
        answer::now(
            if !self.replays_allowed && self.ledger.seen(key_id, nonce) {
                Err(NonceError::Replayed)
            } else {
                Ok(())
            },
        )
    }
}

/// The runner's key, under its id and (for schemes without key ids) the
/// default id; looked up in any letter case for the lenient policy.
struct RunnerKeys {
    keys: Vec<Arc<Key>>,
    any_case: bool,
}

impl KeyLookup for RunnerKeys {
    fn lookup<'a>(&'a self, key_id: &'a str) -> Answer<'a, Result<Arc<Key>, LookupError>> {
        let found = self.keys.iter().find(|k| {
            if self.any_case {
                k.id().eq_ignore_ascii_case(key_id)
            } else {
                k.id() == key_id
            }
        });
        answer::now(found.cloned().ok_or(LookupError::Unknown))
    }
}

/// What the reference says of a request at the moments it may have been
/// judged.
enum Verdict {
    Accepted,
    Refused(Rejection),
    /// Accepted at one end of the span, refused at the other.
    Window,
}

/// The oracle of one run.
pub(crate) struct Oracle {
    strict: Verifier,
    lenient: Verifier,
    ledger: Arc<Ledger>,
    /// Where the tag is, and its encoding.
    tag: Option<(Location, TagEncoding)>,
    /// Where the algorithm's name is, and the name the runner writes.
    algorithm: Option<(Location, String)>,
    /// Where the key id is, and the runner's.
    key_id: Option<(Location, String)>,
    /// Where the timestamp is, where its spelling is not pinned.
    lenient_timestamp: Option<Location>,
    /// Whether a repeated header may be read as one (the provider sets no
    /// rule).
    repeated_read: bool,
    /// Whether the scheme signs a form's parameters (Twilio's).
    form_signed: bool,
    /// How well the runner knows the target's clock: a request is judged
    /// at some moment within this of its sending and its answer.
    margin_ms: u64,
}

/// What the reference knows of the target's keys: the runner's, under its
/// id and the default, and where the run was told of them, a key the
/// target refuses on one route and its admin route (seed 001's policy).
pub(crate) struct OracleKeys {
    /// The runner's key.
    pub(crate) key: Key,
    /// The same secret under the default key id (what a scheme without
    /// key ids looks up).
    pub(crate) default: Key,
    /// A key the target knows, outside the allow-list of `policy`'s
    /// restricted route.
    pub(crate) denied: Option<Key>,
    /// The routes the policy restricts.
    pub(crate) policy: KeyPolicy,
}

impl Oracle {
    /// The oracle for `strict` and `lenient` (two instances of the target's
    /// scheme), `keys`, and `base` (a request the runner signed, whose
    /// algorithm name and key id are the canonical ones).
    pub(crate) fn new(
        strict: Box<dyn Scheme>,
        lenient: Box<dyn Scheme>,
        keys: OracleKeys,
        base: &Request,
        form_signed: bool,
        margin_ms: u64,
    ) -> Oracle {
        // Each request is judged at the moments `verdict_parsed` is given, never at
        // the clock's.
        let clock = Arc::new(FixedClock::new(0));
        let ledger = Arc::new(Ledger::default());
        let scheme = strict.as_ref();
        let sender = scheme.sender();
        let mut known = vec![Arc::new(keys.key), Arc::new(keys.default)];
        known.extend(keys.denied.map(Arc::new));
        let runner_keys = |any_case| {
            Arc::new(RunnerKeys {
                keys: known.clone(),
                any_case,
            })
        };
        let nonces = |replays_allowed| {
            Arc::new(LedgerNonces {
                ledger: ledger.clone(),
                replays_allowed,
            })
        };
        let advised = scheme.replay() == ReplayRule::Advised;
        let at = |field: &Field| scheme.location(field).filter(|at| *at != Location::Signed);
        let read = |field: &Field| {
            at(field).and_then(|at| {
                let text = at.read(base)?.to_owned();
                Some((at, text))
            })
        };
        let tag = at(&Field::Tag).map(|at| (at, scheme.tag_encoding()));
        let algorithm = read(&Field::Algorithm);
        let key_id = read(&Field::KeyId);
        let lenient_timestamp = (sender.timestamp_syntax == TimestampSyntax::Lenient)
            .then(|| at(&Field::Timestamp))
            .flatten();
        Oracle {
            tag,
            algorithm,
            key_id,
            lenient_timestamp,
            repeated_read: sender.repeated_headers == Repeated::Read,
            form_signed,
            margin_ms,
            strict: Verifier::new(
                strict,
                clock.clone(),
                nonces(false),
                runner_keys(false),
                keys.policy.clone(),
            ),
            lenient: Verifier::new(
                lenient,
                clock.clone(),
                nonces(advised),
                runner_keys(true),
                keys.policy,
            ),
            ledger,
        }
    }

    /// What the scheme requires of `req`, sent at the target's `sent_ms`
    /// and answered by its `answered_ms` (each as the runner estimates
    /// the target's clock, within the oracle's margin); `signer_made` says
    /// whether a signer could have sent it (else the reference's
    /// acceptance is only one of the answers that conform).
    pub(crate) fn classify(
        &self,
        req: &Request,
        signer_made: bool,
        sent_ms: u64,
        answered_ms: u64,
    ) -> Requirement {
        // Its body is hashed once for every reading.
        remembering_body_hashes(|| self.required(req, signer_made, sent_ms, answered_ms))
    }

    /// [`Oracle::classify`].
    fn required(
        &self,
        req: &Request,
        signer_made: bool,
        sent_ms: u64,
        answered_ms: u64,
    ) -> Requirement {
        let from_ms = sent_ms.saturating_sub(self.margin_ms);
        let until_ms = answered_ms.saturating_add(self.margin_ms);
        let parsed = self.strict.scheme().parse(req);
        let strict = match verdict_parsed(&self.strict, req, &parsed, from_ms, until_ms) {
            Verdict::Window => return Requirement::Either(Leeway::Window),
            Verdict::Accepted if signer_made => return Requirement::Accept,
            Verdict::Accepted => return Requirement::Either(Leeway::NotSignerMade),
            Verdict::Refused(reason) => reason,
        };
        if let Some(what) = unmodelled(&strict) {
            return Requirement::Either(Leeway::Unmodelled(what));
        }
        if strict == Rejection::MalformedTimestamp && self.spelt_as_a_number(req) {
            return Requirement::Either(Leeway::Lenient(strict));
        }
        let mut readings = self.readings(req);
        // Read as it is, the lenient policy differs where its nonce
        // record, key lookup or clock does.
        if matches!(
            strict,
            Rejection::ReplayedNonce | Rejection::Expired | Rejection::UnknownKey
        ) {
            readings.push(Cow::Borrowed(req));
        }
        if readings.is_empty() {
            return Requirement::Refuse(strict);
        }
        // A verifier may allow an expiry (RFC 9421's `expires`) the skew it
        // allows a timestamp ahead: as if judged that much earlier.
        let skewed = (strict == Rejection::Expired).then(|| {
            let window = self.lenient.scheme().window();
            sent_ms.saturating_sub(window.unit.to_ms(window.future))
        });
        let mut window = false;
        let lenient = &self.lenient;
        for reading in &readings {
            // Both policies' schemes are the target's: the request as it
            // is reads as the strict one read it.
            let copied;
            let params = match reading {
                Cow::Borrowed(_) => &parsed,
                Cow::Owned(reading) => {
                    copied = lenient.scheme().parse(reading);
                    &copied
                }
            };
            if let Some(at) = skewed
                && matches!(
                    verdict_parsed(lenient, reading, params, at, at),
                    Verdict::Accepted
                )
            {
                return Requirement::Either(Leeway::Lenient(strict));
            }
            match verdict_parsed(lenient, reading, params, from_ms, until_ms) {
                Verdict::Accepted => return Requirement::Either(Leeway::Lenient(strict)),
                Verdict::Refused(Rejection::MalformedTimestamp)
                    if self.spelt_as_a_number(reading) =>
                {
                    return Requirement::Either(Leeway::Lenient(strict));
                }
                Verdict::Window => window = true,
                Verdict::Refused(_) => {}
            }
        }
        if window {
            return Requirement::Either(Leeway::Window);
        }
        Requirement::Refuse(strict)
    }

    /// Notes that the target accepted `req`: its nonce, if it has one, is
    /// used.
    pub(crate) fn accepted(&self, req: &Request) {
        let verifier = self.strict.scheme();
        let readings = self.readings(req);
        for candidate in std::iter::once(req).chain(readings.iter().map(Cow::as_ref)) {
            if let Ok(params) = verifier.parse(candidate)
                && let Some(nonce) = &params.nonce
            {
                let key_id = params.key_id.as_deref().unwrap_or(DEFAULT_KEY_ID);
                self.ledger.record(key_id, nonce);
            }
        }
    }

    /// Whether the timestamp, where the provider pins no spelling, is a
    /// number a lenient parser reads (`+N`, `N.0`, ` N`): accepting it is
    /// then a weakness the rules name, not a failure.
    fn spelt_as_a_number(&self, req: &Request) -> bool {
        self.lenient_timestamp
            .as_ref()
            .and_then(|at| at.read(req))
            .is_some_and(|text| {
                number(text).is_some() || text.trim().parse::<f64>().is_ok_and(f64::is_finite)
            })
    }

    /// The ways the lenient policy reads `req`, where they differ from
    /// `req` as it is: header values trimmed; where the provider sets no
    /// rule on a repeated header, each repeat read as its first copy, its
    /// last, and the copies joined into one list (Python keeps one, Node
    /// joins them); the tag, the algorithm's name and the key id in their
    /// canonical spelling.
    fn readings<'r>(&self, req: &'r Request) -> Vec<Cow<'r, Request>> {
        // Header values as sent, and trimmed as HTTP trims them (a server
        // may hand either to the verifier). A reading is copied only where
        // it changes something.
        let mut bases = vec![(Cow::Borrowed(req), false)];
        if spaced(req.headers()) {
            let mut trimmed = req.clone();
            trim(trimmed.headers_mut());
            bases.push((Cow::Owned(trimmed), true));
        }
        // Form parameters come from a body sent as a form only (a handler
        // reads no parameters from another body), where a form is signed.
        if self.form_signed && !req.body().is_empty() && !sent_as_a_form(req) {
            for (base, _) in bases.clone() {
                let mut without = base.into_owned();
                without
                    .headers_mut()
                    .insert(http::header::CONTENT_LENGTH, 0.into());
                *without.body_mut() = bytes::Bytes::new();
                bases.push((Cow::Owned(without), true));
            }
        }
        let mut out = Vec::new();
        for (base, changed) in bases {
            let repeats = if self.repeated_read {
                repeated(base.headers())
            } else {
                Vec::new()
            };
            if repeats.is_empty() {
                // The fields respelled, and, where the base itself is a
                // reading (trimmed), as it is too: a verifier may trim and
                // read the timestamp as sent.
                let mut respelled = base.clone();
                let respelled_any = self.canonical_fields(&mut respelled);
                if changed {
                    out.push(base);
                }
                if respelled_any {
                    out.push(respelled);
                }
                continue;
            }
            for how in [Collapse::First, Collapse::Last, Collapse::Joined] {
                let mut read: Request = base.as_ref().clone();
                for name in &repeats {
                    collapse(read.headers_mut(), name, how);
                }
                let mut read = Cow::Owned(read);
                self.canonical_fields(&mut read);
                out.push(read);
            }
        }
        out
    }

    /// The tag, the algorithm's name and the key id of `out` in their
    /// canonical spelling; whether any was not.
    fn canonical_fields(&self, out: &mut Cow<'_, Request>) -> bool {
        let mut changed = false;
        if let Some((at, encoding)) = &self.tag
            && let Some(text) = at.read(out)
            && let Some(canonical) = canonical_tag(text, *encoding)
            && canonical != text
        {
            changed |= at.write(out.to_mut(), canonical.as_bytes()).is_ok();
        }
        if let Some((at, name)) = &self.algorithm {
            let respell = match at.read(out) {
                None => true,
                Some(text) => text != name && text.eq_ignore_ascii_case(name),
            };
            if respell {
                changed |= at.write(out.to_mut(), name.as_bytes()).is_ok();
            }
        }
        if let Some((at, id)) = &self.key_id
            && at
                .read(out)
                .is_some_and(|text| text != id && text.eq_ignore_ascii_case(id))
        {
            changed |= at.write(out.to_mut(), id.as_bytes()).is_ok();
        }
        // Where the provider pins no spelling, a verifier may read the
        // timestamp as a number and sign the number.
        if let Some(at) = &self.lenient_timestamp
            && let Some(text) = read_leniently(at, out)
            && let Some(value) = number(&text)
            && value.to_string() != text
        {
            changed |= at.write(out.to_mut(), value.to_string().as_bytes()).is_ok();
        }
        changed
    }
}

/// The text of the field `at` in `req`; from a header of its own, its
/// bytes as a parser reads them that takes bytes outside ASCII for
/// characters (Node's `http` reads them as Latin-1), so that `parseInt`'s
/// digits are read before any byte of them.
fn read_leniently(at: &Location, req: &Request) -> Option<String> {
    match (at.read(req), at) {
        (Some(text), _) => Some(text.to_owned()),
        (None, Location::Header(name)) => req
            .headers()
            .get(name)
            .map(|v| v.as_bytes().iter().map(|&b| char::from(b)).collect()),
        (None, _) => None,
    }
}

/// The reference's answer to `req` with `verifier`, whose scheme read it
/// as `parsed`, the same whenever between `from_ms` and `until_ms` the
/// target judged it, or [`Verdict::Window`] where it accepts at one end of
/// that span and not at the other.
fn verdict_parsed(
    verifier: &Verifier,
    req: &Request,
    parsed: &Result<SignatureParams<'_>, Rejection>,
    from_ms: u64,
    until_ms: u64,
) -> Verdict {
    let params = match parsed {
        Ok(params) => params,
        Err(reason) => return Verdict::Refused(reason.clone()),
    };
    let scheme = verifier.scheme();
    let at_the_limit =
        scheme.check_time(params, from_ms).is_ok() != scheme.check_time(params, until_ms).is_ok();
    let late = verify_at(verifier, req, params, until_ms);
    if !at_the_limit {
        return late;
    }
    // Only where the time decides the answer is either answer right.
    match (verify_at(verifier, req, params, from_ms), late) {
        (Verdict::Refused(_), Verdict::Refused(reason)) => Verdict::Refused(reason),
        _ => Verdict::Window,
    }
}

/// The reference's answer with `verifier` at `now_ms` to `req`, which
/// its scheme read as `params`.
fn verify_at(
    verifier: &Verifier,
    req: &Request,
    params: &SignatureParams<'_>,
    now_ms: u64,
) -> Verdict {
    match verifier.verify_parsed(req, params, now_ms).now_or_never() {
        Some(Ok(_)) => Verdict::Accepted,
        Some(Err(reason)) => Verdict::Refused(reason),
        // The oracle's stores answer at once.
        None => Verdict::Refused(Rejection::KeyStoreUnavailable),
    }
}

/// Whether `req`'s body is sent as a form.
fn sent_as_a_form(req: &Request) -> bool {
    req.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| crate::base::essence(v) == crate::base::FORM)
}

/// The whole number `text` spells as a lenient parser reads one
/// (JavaScript's `Number` and `parseInt`, Python's `float`): whitespace
/// around it, a `+`, leading zeros, a fraction of zero, an exponent, `0x`,
/// or digits followed by anything.
fn number(text: &str) -> Option<u64> {
    let text = text.trim();
    let text = text.strip_prefix('+').unwrap_or(text);
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok();
    }
    if let Ok(value) = text.parse::<f64>() {
        return (value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value < 1.8e19)
            .then_some(value as u64);
    }
    // JavaScript's `parseInt`: the digits it starts with.
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    text[..digits].parse().ok()
}

/// Whether a value of `headers` has whitespace around it that HTTP trims.
fn spaced(headers: &HeaderMap) -> bool {
    headers.values().any(|v| {
        let b = v.as_bytes();
        matches!(b.first(), Some(b' ' | b'\t')) || matches!(b.last(), Some(b' ' | b'\t'))
    })
}

/// Trims the whitespace HTTP trims around each value of `headers`; whether
/// any had some.
fn trim(headers: &mut HeaderMap) -> bool {
    if !spaced(headers) {
        return false;
    }
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers.iter() {
        if let Ok(value) = HeaderValue::from_bytes(value.as_bytes().trim_ascii()) {
            out.append(name.clone(), value);
        }
    }
    *headers = out;
    true
}

/// The names of the headers `headers` carries more than once.
fn repeated(headers: &HeaderMap) -> Vec<http::HeaderName> {
    headers
        .keys()
        .filter(|name| headers.get_all(*name).iter().nth(1).is_some())
        .cloned()
        .collect()
}

/// How a reader makes one value of a repeated header.
#[derive(Debug, Clone, Copy)]
enum Collapse {
    First,
    Last,
    /// Joined with `, ` (Node's `req.headers`).
    Joined,
}

/// Header `name` of `headers` made one value, as `how` says.
fn collapse(headers: &mut HeaderMap, name: &http::HeaderName, how: Collapse) {
    let values: Vec<HeaderValue> = headers.get_all(name).iter().cloned().collect();
    let one = match how {
        Collapse::First => values.first().cloned(),
        Collapse::Last => values.last().cloned(),
        Collapse::Joined => {
            let joined = values
                .iter()
                .map(HeaderValue::as_bytes)
                .collect::<Vec<_>>()
                .join(&b", "[..]);
            HeaderValue::from_bytes(&joined).ok()
        }
    };
    if let Some(one) = one {
        headers.insert(name.clone(), one);
    }
}

/// A tag written in a non-canonical spelling of `encoding` (hex in upper
/// case, base64url, base64 without padding), in the canonical one; `None`
/// where it is not such a spelling.
fn canonical_tag(text: &str, encoding: TagEncoding) -> Option<String> {
    match encoding {
        TagEncoding::LowerHex => (text.len().is_multiple_of(2)
            && !text.is_empty()
            && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase()),
        TagEncoding::Base64 => {
            let standard: String = text
                .trim_end_matches('=')
                .chars()
                .map(|c| match c {
                    '-' => '+',
                    '_' => '/',
                    c => c,
                })
                .collect();
            let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(standard)
                .ok()?;
            Some(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
    }
}

/// What the reference declines to verify, rather than finds wrong, in the
/// reason it refused with; `None` for a refusal it models.
fn unmodelled(reason: &Rejection) -> Option<&'static str> {
    match reason {
        Rejection::MalformedHeader { detail, .. } if detail.contains("not verified") => {
            Some(detail)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_canonical_tags_are_read_in_their_canonical_spelling() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
        let bytes = [0xfbu8, 0xff, 0x3e, 0x00, 0x01];
        let canonical = STANDARD.encode(bytes);
        for spelt in [URL_SAFE.encode(bytes), URL_SAFE_NO_PAD.encode(bytes)] {
            assert_eq!(
                canonical_tag(&spelt, TagEncoding::Base64).as_deref(),
                Some(canonical.as_str())
            );
        }
        assert_eq!(
            canonical_tag("ABcd", TagEncoding::LowerHex).as_deref(),
            Some("abcd")
        );
        assert_eq!(canonical_tag("abc", TagEncoding::LowerHex), None);
        assert_eq!(canonical_tag("a!b=", TagEncoding::Base64), None);
    }

    #[test]
    fn a_lenient_parser_reads_these_as_numbers() {
        for (text, value) in [
            ("1700000000", Some(1_700_000_000)),
            ("+1700000000", Some(1_700_000_000)),
            (" 1700000000 ", Some(1_700_000_000)),
            ("0001700000000", Some(1_700_000_000)),
            ("1700000000.0", Some(1_700_000_000)),
            ("17e8", Some(1_700_000_000)),
            ("0x6552fb00", Some(0x6552_fb00)),
            ("1700000000.5", None),
            ("1700000000 1700000000", Some(1_700_000_000)),
            ("1700000000abc", Some(1_700_000_000)),
            ("-1", None),
            ("abc", None),
        ] {
            assert_eq!(number(text), value, "{text:?}");
        }
    }

    #[test]
    fn spaces_are_trimmed_and_repeats_read_each_way() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", HeaderValue::from_static(" 1"));
        headers.append("x-b", HeaderValue::from_static("2"));
        headers.append("x-b", HeaderValue::from_static("3"));
        assert!(trim(&mut headers));
        assert_eq!(headers["x-a"], "1");
        assert!(!trim(&mut headers));
        let name = http::HeaderName::from_static("x-b");
        assert_eq!(repeated(&headers), vec![name.clone()]);
        for (how, value) in [
            (Collapse::First, "2"),
            (Collapse::Last, "3"),
            (Collapse::Joined, "2, 3"),
        ] {
            let mut read = headers.clone();
            collapse(&mut read, &name, how);
            assert_eq!(read.get_all(&name).iter().count(), 1);
            assert_eq!(read[&name], value);
        }
    }
}
