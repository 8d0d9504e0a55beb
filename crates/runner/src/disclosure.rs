//! `malformed`: a refusal says why, never what the verifier computed.
//!
//! Every answer a target gives to a negative step with a 4xx is searched —
//! its status line, its headers and its body as read — for what the
//! reference computes for the request as sent ([`Disclosed`]): the tag (a
//! verifier that says it signs for anyone who asks), the signed string and
//! the body's hash. Whatever the request itself carries is not searched
//! for: a verifier may echo what it was sent.
//!
//! Each kind is reported by a case of its own (`refusal-discloses-tag`, …),
//! which sends a refusal of its own (a wrong secret; for the body hash, a
//! body changed after signing) and, in a whole run, also answers for every
//! other refusal of the run ([`Refusals::fold`]): a case that did not pass
//! for it names the cases whose refusals disclosed. Its control is a
//! verifier that says that one thing in its refusals.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use super::probe::{Builder, Expect, Probe, Step, set_body};
use super::transport::{Answer, Said};
use crate::verdict::Category::Malformed;
use crate::verdict::{CaseResult, Outcome};
use sigconform_core::crypto::{TagEncoding, sha256};
use sigconform_core::keys::Key;
use sigconform_core::request::Request;
use sigconform_core::scheme::{Field, Scheme};
use sigconform_core::tamper::{Header, Recipe, SignedAs};
use sigconform_defects::Defect;

/// What a refusal must not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Disclosed {
    /// The tag the verifier computes for the request: a valid signature of
    /// it, for anyone who sends a wrong one.
    Tag,
    /// The string it signs for the request (and SigV4's canonical request).
    SignedString,
    /// The hash it computes of the body.
    BodyHash,
}

impl Disclosed {
    const ALL: [Disclosed; 3] = [Disclosed::Tag, Disclosed::SignedString, Disclosed::BodyHash];

    /// The name of its case, `refusal-discloses-…`.
    fn case_name(self) -> &'static str {
        match self {
            Disclosed::Tag => "refusal-discloses-tag",
            Disclosed::SignedString => "refusal-discloses-signed-string",
            Disclosed::BodyHash => "refusal-discloses-body-hash",
        }
    }

    /// The kind case `id` is about, if it is one of these cases.
    fn of_case(id: &str) -> Option<Disclosed> {
        Disclosed::ALL
            .into_iter()
            .find(|d| id.ends_with(&format!("/malformed/{}", d.case_name())))
    }

    fn what(self) -> &'static str {
        match self {
            Disclosed::Tag => "the tag the verifier computes for the request",
            Disclosed::SignedString => "the string the verifier signs for the request",
            Disclosed::BodyHash => "the hash the verifier computes of the body",
        }
    }

    /// The verdict on a refusal that says it: the tag is a signature for
    /// anyone who asks (`fail`); the signed string and the body's hash hold
    /// no secret, but tell a forger what the verifier made of the request
    /// (`warn`; S3 answers both by design).
    fn outcome(self) -> Outcome {
        match self {
            Disclosed::Tag => Outcome::Fail,
            _ => Outcome::Warn,
        }
    }

    /// The rule its case cites.
    fn rule(self) -> &'static str {
        match self {
            Disclosed::Tag => "refusal-discloses-tag",
            _ => "refusal-discloses-computed",
        }
    }

    /// The control: a verifier that says it in its refusals.
    fn control(self) -> Defect {
        match self {
            Disclosed::Tag => Defect::DisclosesExpectedTag,
            Disclosed::SignedString => Defect::DisclosesSignedString,
            Disclosed::BodyHash => Defect::DisclosesBodyHash,
        }
    }
}

/// Whether the scheme computes a body hash (carried in the request, or
/// only signed).
fn hashes_body(scheme: &dyn Scheme) -> bool {
    scheme.location(&Field::BodyHash).is_some()
}

/// The disclosure cases, in catalog order.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let wrong_secret = || {
        let r = Recipe {
            secret_of: Some("wrong".into()),
            ..b.recipe(b.now)
        };
        b.step(&b.probe_request(), &r, Expect::Reject)
    };
    let mut out = vec![
        case(
            b,
            Disclosed::Tag,
            "a refusal (of a request signed with a wrong secret, and of every negative case of the run) does not say the tag the verifier computes",
            wrong_secret(),
        ),
        case(
            b,
            Disclosed::SignedString,
            "a refusal (of a request signed with a wrong secret, and of every negative case of the run) does not say the string the verifier signs",
            wrong_secret(),
        ),
    ];
    if hashes_body(b.scheme.as_ref()) {
        let mut sent = b.probe_request();
        set_body(&mut sent, &b.other_body());
        let signed = b.probe_body();
        let r = Recipe {
            signed_as: Some(SignedAs {
                body: Some(signed.into()),
                headers: vec![Header("content-length".into(), signed.len().to_string())],
                ..SignedAs::default()
            }),
            ..b.recipe(b.now)
        };
        out.push(case(
            b,
            Disclosed::BodyHash,
            "a refusal (of a body changed after signing, and of every negative case of the run) does not say the hash the verifier computes of the body",
            b.step(&sent, &r, Expect::Reject),
        ));
    }
    out
}

fn case(b: &Builder<'_>, kind: Disclosed, description: &str, step: Result<Step, String>) -> Probe {
    b.probe(Malformed, kind.case_name(), description, vec![step])
        .rule(b.cite(kind.rule()))
        .control(kind.control())
}

/// A refusal that said something it must not.
#[derive(Debug, Clone)]
struct Finding {
    kind: Disclosed,
    case: String,
    status: u16,
    place: String,
    reproduce: String,
}

/// What the runner searches a run's refusals with: the scheme and key the
/// reference computes with, and what it found.
pub(super) struct Refusals {
    scheme: Arc<dyn Scheme>,
    key: Key,
    found: Mutex<Vec<Finding>>,
}

impl Refusals {
    pub(super) fn new(b: &Builder<'_>) -> Refusals {
        Refusals {
            scheme: b.scheme.clone(),
            key: b.key.clone(),
            found: Mutex::new(Vec::new()),
        }
    }

    /// What the reference computes for `sent`, each in the spellings
    /// searched for: the tag in hex (either letter case), base64 and
    /// base64url (without padding: a prefix of the padded spelling, and
    /// with the scheme's prefix or not); the signed string (SigV4's canonical
    /// request too) as it is, JSON-escaped and XML-escaped; the body's
    /// SHA-256 as the tag. Tag and signed string only where the request
    /// parses; a signed string longer than `longest` (the longest place of
    /// the answer: escaping only lengthens it) not at all.
    fn computed(&self, sent: &Request, longest: usize) -> Vec<(Disclosed, Vec<Spelling>)> {
        let scheme = self.scheme.as_ref();
        let mut out = Vec::new();
        if let Ok(params) = scheme.parse(sent) {
            let mut signed = Vec::new();
            if scheme.canonicalize(sent, &params, &mut signed).is_ok() {
                let tag = scheme
                    .signing_key(&self.key, &params)
                    .sign(params.algorithm, &signed);
                out.push((Disclosed::Tag, digest_spellings(tag.as_bytes())));
                let mut texts = vec![signed];
                if let Some(Ok(stage)) = scheme.canonical_request(sent, &params) {
                    texts.push(stage);
                }
                let spellings = texts
                    .iter()
                    .filter(|t| t.len() <= longest)
                    .flat_map(|t| text_spellings(t))
                    .collect();
                out.push((Disclosed::SignedString, spellings));
            }
        }
        if hashes_body(scheme) {
            out.push((Disclosed::BodyHash, digest_spellings(&sha256(sent.body()))));
        }
        out
    }

    /// Where `said` says what the reference computes for `sent` (`raw`:
    /// the bytes sent, where they were sent raw), leaving out what the
    /// request carries itself. The answer (at most 64 KiB) is searched
    /// first; the request (a body of a megabyte) only for what was found.
    fn search(&self, sent: &Request, raw: Option<&[u8]>, said: &Said) -> Vec<(Disclosed, String)> {
        let mut places = places(said);
        let longest = places.iter().map(|p| p.text.bytes.len()).max().unwrap_or(0);
        let mut carried: Option<Text> = None;
        let mut out = Vec::new();
        for (kind, spellings) in self.computed(sent, longest) {
            let hit = spellings
                .iter()
                .filter(|s| s.bytes.len() >= MIN_SEARCHED)
                .find_map(|spelling| {
                    let at = places.iter().position(|p| spelling.occurs_in(&p.text))?;
                    let carried = carried.get_or_insert_with(|| {
                        Text::new(raw.map_or_else(|| request_bytes(sent), <[u8]>::to_vec))
                    });
                    (!spelling.occurs_in(carried)).then_some((spelling, at))
                });
            if let Some((spelling, at)) = hit {
                // What was found is not searched again for another kind
                // (the signed string holds the body's hash).
                spelling.blank_in(&mut places[at].text);
                out.push((kind, places[at].name.clone()));
            }
        }
        out
    }
}

/// Shorter than this, a match could be chance.
const MIN_SEARCHED: usize = 12;

/// Bytes searched, and the same in lower case (for hex, matched in either
/// letter case).
struct Text {
    bytes: Vec<u8>,
    lower: Vec<u8>,
}

impl Text {
    fn new(bytes: Vec<u8>) -> Text {
        Text {
            lower: bytes.to_ascii_lowercase(),
            bytes,
        }
    }
}

/// A place of an answer: the status line, a header, the body.
struct Place {
    name: String,
    text: Text,
}

/// One way a value may be written in an answer.
struct Spelling {
    /// Hex in lower case, matched in either letter case.
    bytes: Vec<u8>,
    any_case: bool,
}

impl Spelling {
    fn position(&self, text: &Text) -> Option<usize> {
        let haystack = if self.any_case {
            &text.lower
        } else {
            &text.bytes
        };
        memchr::memmem::find(haystack, &self.bytes)
    }

    fn occurs_in(&self, text: &Text) -> bool {
        self.position(text).is_some()
    }

    /// `text` with every occurrence of the spelling blanked out.
    fn blank_in(&self, text: &mut Text) {
        while let Some(at) = self.position(text) {
            let span = at..at + self.bytes.len();
            text.bytes[span.clone()].fill(0);
            text.lower[span].fill(0);
        }
    }
}

/// A digest (tag or hash) as hex, base64 and base64url.
fn digest_spellings(bytes: &[u8]) -> Vec<Spelling> {
    vec![
        Spelling {
            bytes: TagEncoding::LowerHex.encode(bytes).into_bytes(),
            any_case: true,
        },
        Spelling {
            bytes: STANDARD_NO_PAD.encode(bytes).into_bytes(),
            any_case: false,
        },
        Spelling {
            bytes: URL_SAFE_NO_PAD.encode(bytes).into_bytes(),
            any_case: false,
        },
    ]
}

/// A text as it is, JSON-escaped and XML-escaped.
fn text_spellings(text: &[u8]) -> Vec<Spelling> {
    let as_text = String::from_utf8_lossy(text);
    let json = serde_json::to_string(&as_text).unwrap_or_default();
    let json = json.trim_matches('"').to_owned();
    let xml = as_text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let mut out: Vec<Vec<u8>> = vec![text.to_vec()];
    for other in [json.into_bytes(), xml.into_bytes()] {
        if !out.contains(&other) {
            out.push(other);
        }
    }
    out.into_iter()
        .map(|bytes| Spelling {
            bytes,
            any_case: false,
        })
        .collect()
}

/// The request's URI, headers and body, as searched for what it carries.
fn request_bytes(req: &Request) -> Vec<u8> {
    let mut out = req.uri().to_string().into_bytes();
    for (name, value) in req.headers() {
        out.push(b'\n');
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
    }
    out.push(b'\n');
    out.extend_from_slice(req.body());
    out
}

/// The places of an answer: the status line, each header, the body.
fn places(said: &Said) -> Vec<Place> {
    let place = |name: String, bytes: &[u8]| Place {
        name,
        text: Text::new(bytes.to_vec()),
    };
    let mut out = vec![place("status line".into(), said.status_line.as_bytes())];
    for (name, value) in &said.headers {
        out.push(place(format!("header {name}"), value.as_bytes()));
    }
    out.push(place("body".into(), &said.body));
    out
}

impl Refusals {
    /// Searches the answer to `step` of case `id` where it is a refusal of
    /// a negative step (a 4xx, or one of `refusal_statuses`): what it
    /// discloses is recorded for the run, and decides the case where the
    /// case is the one about it. The outcome of the step, and what was
    /// observed where that changed it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn search_refusal(
        &self,
        id: &str,
        step: &Step,
        answer: &Answer,
        sent: &Request,
        outcome: Outcome,
        refusal_statuses: &[u16],
        reproduce: impl FnOnce() -> String,
    ) -> (Outcome, Option<String>) {
        let Some(response) = answer.response() else {
            return (outcome, None);
        };
        let refused =
            (400..500).contains(&response.status) || refusal_statuses.contains(&response.status);
        let own = Disclosed::of_case(id);
        if own.is_some() && !refused {
            // Accepting a wrong signature or a changed body, or a 5xx for
            // it, is another case's finding; this one has nothing to search.
            return (
                Outcome::Skip,
                Some(format!(
                    "{}: not a refusal, so there is nothing to search (the case that changes what this one changes judges that answer)",
                    answer.describe()
                )),
            );
        }
        if step.copies > 1 || step.expect == Expect::Accept || !refused {
            return (outcome, None);
        }
        let found = self.search(sent, step.raw.as_deref(), &response.said);
        if found.is_empty() {
            return (outcome, None);
        }
        let reproduce = reproduce();
        let mut record = self.found.lock().unwrap_or_else(|p| p.into_inner());
        for (kind, place) in &found {
            record.push(Finding {
                kind: *kind,
                case: id.to_owned(),
                status: response.status,
                place: place.clone(),
                reproduce: reproduce.clone(),
            });
        }
        match found.iter().find(|(kind, _)| Some(*kind) == own) {
            Some((kind, place)) if outcome == Outcome::Pass => (
                kind.outcome(),
                Some(format!(
                    "{} says {} ({place}): {}",
                    response.status,
                    kind.what(),
                    answer.describe()
                )),
            ),
            _ => (outcome, None),
        }
    }
}

impl Refusals {
    /// Gives each disclosure case of `results` the findings of the other
    /// cases' refusals: one that passed on its own refusal does not pass
    /// if another refusal of the run said what it is about.
    pub(super) fn fold(&self, results: &mut [CaseResult]) {
        let mut found = self.found.lock().unwrap_or_else(|p| p.into_inner()).clone();
        found.sort_by(|a, b| a.case.cmp(&b.case));
        for result in results.iter_mut() {
            let Some(kind) = Disclosed::of_case(&result.id) else {
                continue;
            };
            let others: Vec<&Finding> = found
                .iter()
                .filter(|f| f.kind == kind && f.case != result.id)
                .collect();
            let Some(first) = others.first() else {
                continue;
            };
            let listed: Vec<String> = others
                .iter()
                .take(5)
                .map(|f| format!("{} ({}, {})", f.case, f.status, f.place))
                .collect();
            let more = match others.len() {
                n if n > 5 => format!(" and {} more", n - 5),
                _ => String::new(),
            };
            let said = format!(
                "refusals of other cases say {}: {}{more}",
                kind.what(),
                listed.join(", ")
            );
            if matches!(result.outcome, Outcome::Pass | Outcome::Skip) {
                result.outcome = kind.outcome();
                result.observed = said;
                result.reproduce = first.reproduce.clone();
                result.request.clear();
                result.replay = None;
            } else {
                result.observed = format!("{}; {said}", result.observed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_searched_for_and_where() {
        let tag = [0xfbu8; 32];
        let spellings = digest_spellings(&tag);
        let said = |status_line: &str, header: &str, body: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert("x-debug", header.parse().unwrap());
            Said {
                status_line: status_line.into(),
                headers,
                body: bytes::Bytes::copy_from_slice(body.as_bytes()),
            }
        };
        let hex_upper = TagEncoding::LowerHex.encode(&tag).to_ascii_uppercase();
        let base64url = URL_SAFE_NO_PAD.encode(tag);
        for (answer, place) in [
            (
                said(&format!("HTTP/1.1 401 expected {hex_upper}"), "", ""),
                "status line",
            ),
            (
                said("HTTP/1.1 401", &format!("sha256={base64url}"), ""),
                "header x-debug",
            ),
            (
                said(
                    "HTTP/1.1 401",
                    "",
                    &format!("{{\"expected\":\"v1,{}\"}}", STANDARD_NO_PAD.encode(tag)),
                ),
                "body",
            ),
        ] {
            let found = places(&answer)
                .into_iter()
                .find(|p| spellings.iter().any(|s| s.occurs_in(&p.text)))
                .map(|p| p.name);
            assert_eq!(found.as_deref(), Some(place));
        }
        // A signed string with line breaks, as a JSON answer writes it.
        let signed = b"POST\n/api/x\n1700000000\nsc-1";
        let json =
            serde_json::json!({ "string_to_sign": String::from_utf8_lossy(signed) }).to_string();
        let json = Text::new(json.into_bytes());
        assert!(text_spellings(signed).iter().any(|s| s.occurs_in(&json)));
        assert!(!text_spellings(signed)[0].occurs_in(&json));
    }

    #[test]
    fn cases_are_known_by_their_ids() {
        assert_eq!(
            Disclosed::of_case("a2a/malformed/refusal-discloses-tag"),
            Some(Disclosed::Tag)
        );
        assert_eq!(
            Disclosed::of_case("a2a/malformed/refusal-discloses-body-hash"),
            Some(Disclosed::BodyHash)
        );
        assert_eq!(Disclosed::of_case("a2a/tamper/tag-bit-flipped"), None);
    }
}
