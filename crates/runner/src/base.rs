//! The body the runner signs and varies: the user's (`--body-file`), a
//! profile's sample of what its provider delivers, or the runner's own; in
//! a media type its provider sends.
//!
//! A verifier often does more than verify: an SDK parses the event it just
//! verified, a form handler reads its fields. A body it cannot use is
//! refused (or crashes it) after a valid signature, and then no negative
//! case proves anything. So the runner tries the bodies it may send, in
//! order, and the first the target accepts is the base of every negative
//! case (`learn.rs`). Variations are made inside that body: a JSON object
//! gets a member of the runner's, a form a field.

use bytes::Bytes;

/// The runner's own JSON body: compact, keys sorted, so that a verifier
/// which re-serialises parsed JSON still accepts it and only the tamper
/// cases tell it apart. `1.0` leaves room to write the same number
/// differently at the same length (`1E0`); it also does not survive a
/// JSON round trip (`JSON.stringify(JSON.parse(…))` writes `1`), which a
/// verifier that signs a re-serialised body refuses.
pub(super) const RUNNER_JSON: &str = r#"{"n":1.0,"probe":"sigconform"}"#;

/// The runner's JSON body without what a round trip changes: the base
/// where the target refuses [`RUNNER_JSON`] (a `fail` of its own), so that
/// one defect does not leave every other case unjudged.
pub(super) const PLAIN_JSON: &str = r#"{"probe":"sigconform"}"#;

/// The runner's form body: the same fields, as a form.
pub(super) const RUNNER_FORM: &str = "n=1.0&probe=sigconform";

/// What tamper cases send instead of the runner's own bodies: one
/// character changed, the length kept.
const CHANGED_JSON: &str = r#"{"n":2.0,"probe":"sigconform"}"#;
const CHANGED_FORM: &str = "n=2.0&probe=sigconform";

/// The name of the member (or form field) the runner adds to a body of
/// the user's or the provider's: after `id`, `object`, `type`, so that an
/// envelope whose keys are sorted mostly stays sorted.
const MEMBER: &str = "sigconform";

/// The media type of JSON bodies.
pub(super) const JSON: &str = "application/json";
/// The media type of form bodies.
pub(super) const FORM: &str = "application/x-www-form-urlencoded";

/// A body and the media type it is sent as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// Its text (bodies the runner varies are text: JSON, forms).
    pub text: String,
    /// Its `Content-Type`.
    pub media_type: String,
}

impl Body {
    /// `text` sent as `media_type`.
    pub fn new(text: impl Into<String>, media_type: impl Into<String>) -> Body {
        Body {
            text: text.into(),
            media_type: media_type.into(),
        }
    }

    /// `text` as the media type its content says: JSON where it parses as
    /// JSON, a form where it reads as `name=value` pairs, else
    /// `application/octet-stream`.
    pub fn sniffed(text: impl Into<String>) -> Body {
        let text = text.into();
        let media_type = if serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok() {
            JSON
        } else if looks_like_a_form(&text) {
            FORM
        } else {
            "application/octet-stream"
        };
        Body::new(text, media_type)
    }

    /// The runner's JSON body.
    pub(super) fn runner_json() -> Body {
        Body::new(RUNNER_JSON, JSON)
    }

    /// The media type's essence: lower case, without parameters.
    fn essence(&self) -> String {
        essence(&self.media_type)
    }

    /// Whether it is sent as JSON (`application/json`, `…+json`).
    pub fn is_json(&self) -> bool {
        let essence = self.essence();
        essence == JSON || essence.ends_with("+json")
    }

    /// Whether it is sent as a form.
    pub fn is_form(&self) -> bool {
        self.essence() == FORM
    }

    /// Whether its text is a JSON object (the runner's members go inside).
    fn is_json_object(&self) -> bool {
        self.is_json() && self.text.trim_start().starts_with('{')
    }

    /// Its bytes.
    pub(super) fn bytes(&self) -> Bytes {
        Bytes::from(self.text.clone())
    }

    /// The body with `member` (`"name":value`, or `name=value` for a form)
    /// added as its last member or field (after the envelope's own, so
    /// that an envelope whose keys are sorted stays sorted for a member
    /// named `sigconform`); `None` where the body is neither a JSON object
    /// nor a form.
    pub(super) fn with_member(&self, member: &str) -> Option<String> {
        if self.is_json_object() {
            let end = self.text.rfind('}')?;
            let (head, tail) = self.text.split_at(end);
            let separator = if head.trim_end().ends_with('{') {
                ""
            } else {
                ","
            };
            return Some(format!("{head}{separator}{member}{tail}"));
        }
        if self.is_form() {
            return Some(if self.text.is_empty() {
                member.to_owned()
            } else {
                format!("{}&{member}", self.text)
            });
        }
        None
    }

    /// The body with a member holding the number `1.0` (which a verifier
    /// that re-serialises JSON writes back as it is, and `1E0` is the same
    /// value at the same length), and that member as written; the runner's
    /// own body has one. `None` where the body is not a JSON object.
    pub(super) fn with_number(&self) -> Option<(String, String)> {
        if self.text == RUNNER_JSON {
            return Some((RUNNER_JSON.to_owned(), r#""n":1.0"#.to_owned()));
        }
        if !self.is_json_object() {
            return None;
        }
        let member = format!(r#""{MEMBER}":1.0"#);
        Some((self.with_member(&member)?, member))
    }

    /// The body a tamper case sends instead: for the runner's own bodies
    /// one character changed at the same length; else a member (or field)
    /// of the runner's added, or a byte in front.
    pub(super) fn changed(&self) -> String {
        match self.text.as_str() {
            RUNNER_JSON => return CHANGED_JSON.to_owned(),
            RUNNER_FORM => return CHANGED_FORM.to_owned(),
            _ => {}
        }
        let member = if self.is_form() {
            format!("{MEMBER}=changed")
        } else {
            format!(r#""{MEMBER}":"changed""#)
        };
        self.with_member(&member)
            .unwrap_or_else(|| format!("x{}", self.text))
    }

    /// A JSON variation (a value with the shapes serialisers disagree on)
    /// inside this body: the variation itself where the body is the
    /// runner's own, else the body with the variation as the value of a
    /// member `"sigconform"` (so an SDK still finds its event); `None`
    /// where the body is not a JSON object.
    pub(super) fn enveloping(&self, variation: &str) -> Option<String> {
        if !self.is_json_object() {
            return None;
        }
        if [RUNNER_JSON, PLAIN_JSON].contains(&self.text.as_str()) {
            return Some(variation.to_owned());
        }
        self.with_member(&format!(r#""{MEMBER}":{variation}"#))
    }

    /// A body like this one past `len` bytes: for JSON a document of that
    /// size inside the envelope (the document itself where the body is the
    /// runner's own), for a form a field of that many letters appended;
    /// else the document.
    pub(super) fn past(&self, len: usize) -> String {
        let document = || {
            String::from_utf8(sigconform_core::sample::json_document(len))
                .expect("the sample is JSON text")
        };
        if self.is_form() {
            let field = format!("{MEMBER}={}", "x".repeat(len));
            return self.with_member(&field).unwrap_or(field);
        }
        self.enveloping(&document()).unwrap_or_else(document)
    }

    /// The body varied by `n` (a member or field `attempt`), so that a
    /// signature over it differs from the one over the body itself; `None`
    /// where the body has no members to add to.
    pub(super) fn attempt(&self, n: u64) -> Option<String> {
        if self.is_form() {
            return self.with_member(&format!("attempt={n}"));
        }
        self.with_member(&format!(r#""attempt":{n}"#))
    }
}

/// The bodies of one run: those the runner may send, and what the target
/// was found to take.
#[derive(Debug, Clone)]
pub(super) struct Bodies {
    /// Those the runner tries, in order (see [`candidates`]).
    candidates: Vec<Body>,
    /// The body every negative case starts from: the first the target
    /// accepted, else the first candidate.
    base: Body,
    /// The media types (essences) of which the target accepted no body
    /// while it accepted one of another type: its route takes the other.
    refused: Vec<String>,
}

impl Bodies {
    /// Before anything was learned: the first candidate is the base.
    pub(super) fn new(candidates: Vec<Body>) -> Bodies {
        Bodies {
            base: candidates[0].clone(),
            candidates,
            refused: Vec::new(),
        }
    }

    /// As learned: `base` accepted, no body of the `refused` media types.
    pub(super) fn learned(mut self, base: Body, refused: Vec<String>) -> Bodies {
        self.base = base;
        self.refused = refused;
        self
    }

    /// The bodies the runner tries, in order.
    pub(super) fn candidates(&self) -> &[Body] {
        &self.candidates
    }

    /// The body negative cases start from.
    pub(super) fn base(&self) -> &Body {
        &self.base
    }

    /// The body acceptance cases send: the runner's first choice in the
    /// base's media type (richer than the base where the target refused
    /// the richer one: that refusal is a `fail` of its own).
    pub(super) fn acceptance(&self) -> &Body {
        let media_type = essence(&self.base.media_type);
        self.candidates
            .iter()
            .find(|c| essence(&c.media_type) == media_type)
            .unwrap_or(&self.base)
    }

    /// The first JSON body the runner may send (JSON variations go inside
    /// it), where its provider sends JSON at all.
    pub(super) fn json(&self) -> Option<&Body> {
        self.candidates.iter().find(|c| c.is_json())
    }

    /// Why bodies of `media_type` do not apply to the target, where it
    /// accepted another type and no body of this one.
    pub(super) fn not_taken(&self, media_type: &str) -> Option<String> {
        let wanted = essence(media_type);
        self.refused.contains(&wanted).then(|| {
            format!(
                "the target takes {} bodies and refused {wanted} (its provider sends both, to different routes)",
                essence(&self.base.media_type)
            )
        })
    }
}

/// A media type's essence: lower case, without parameters.
pub(super) fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether `text` reads as `name=value` pairs joined by `&`.
fn looks_like_a_form(text: &str) -> bool {
    !text.is_empty()
        && !text.contains(char::is_whitespace)
        && text.split('&').all(|pair| {
            pair.split_once('=')
                .is_some_and(|(name, _)| !name.is_empty())
        })
}

/// The bodies the runner tries, in order, as the base of its negative
/// cases: the user's (alone: the user said what the target needs); else
/// the provider's sample, then the runner's own in each media type its
/// provider sends (JSON: the runner's body, then a plain one).
pub(super) fn candidates(
    user: Option<&Body>,
    sample: Option<&str>,
    media_types: &[String],
) -> Vec<Body> {
    if let Some(body) = user {
        return vec![body.clone()];
    }
    let mut out: Vec<Body> = Vec::new();
    if let Some(sample) = sample {
        let sniffed = Body::sniffed(sample);
        let media_type = media_types
            .iter()
            .find(|m| essence(m) == essence(&sniffed.media_type))
            .or(media_types.first())
            .cloned()
            .unwrap_or(sniffed.media_type);
        out.push(Body::new(sample, media_type));
    }
    for media_type in media_types {
        let runner = if essence(media_type) == FORM {
            vec![RUNNER_FORM]
        } else {
            vec![RUNNER_JSON, PLAIN_JSON]
        };
        for text in runner {
            let body = Body::new(text, media_type.clone());
            if !out.contains(&body) {
                out.push(body);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_go_inside_an_object_or_a_form() {
        let event = Body::new(r#" {"id":"evt_1","type":"ping"} "#, JSON);
        assert_eq!(
            event.with_member(r#""n":1"#).unwrap(),
            r#" {"id":"evt_1","type":"ping","n":1} "#
        );
        assert_eq!(
            Body::new("{ }", JSON).with_member(r#""n":1"#).unwrap(),
            r#"{ "n":1}"#
        );
        assert_eq!(
            Body::new("a=1", FORM).with_member("n=1").unwrap(),
            "a=1&n=1"
        );
        assert_eq!(Body::new("[1]", JSON).with_member(r#""n":1"#), None);
        assert_eq!(Body::new("bytes", "text/plain").with_member("n"), None);
    }

    #[test]
    fn the_runner_s_own_bodies_change_at_their_length() {
        for body in [Body::runner_json(), Body::new(RUNNER_FORM, FORM)] {
            let changed = body.changed();
            assert_ne!(changed, body.text);
            assert_eq!(changed.len(), body.text.len());
        }
        let event = Body::new(r#"{"id":"evt_1"}"#, JSON);
        assert_eq!(event.changed(), r#"{"id":"evt_1","sigconform":"changed"}"#);
        assert_eq!(Body::new("raw", "text/plain").changed(), "xraw");
    }

    #[test]
    fn variations_are_made_inside_the_envelope() {
        let variation = r#"{"z":1,"a":2}"#;
        assert_eq!(
            Body::runner_json().enveloping(variation).unwrap(),
            variation
        );
        let event = Body::new(r#"{"id":"evt_1"}"#, "application/json; charset=utf-8");
        assert_eq!(
            event.enveloping(variation).unwrap(),
            r#"{"id":"evt_1","sigconform":{"z":1,"a":2}}"#
        );
        assert_eq!(Body::new(RUNNER_FORM, FORM).enveloping(variation), None);
    }

    #[test]
    fn a_number_that_reads_back_the_same_goes_into_any_object() {
        assert_eq!(
            Body::runner_json().with_number().unwrap(),
            (RUNNER_JSON.to_owned(), r#""n":1.0"#.to_owned())
        );
        let (signed, member) = Body::new(r#"{"id":"evt_1"}"#, JSON).with_number().unwrap();
        assert_eq!(signed, r#"{"id":"evt_1","sigconform":1.0}"#);
        assert!(signed.contains(&member));
        assert_eq!(Body::new("a=1", FORM).with_number(), None);
    }

    #[test]
    fn a_large_body_is_one_of_the_same_kind() {
        let json = Body::runner_json().past(20_000);
        assert!(json.len() >= 20_000 && json.starts_with('{'));
        let event = Body::new(r#"{"id":"evt_1"}"#, JSON).past(20_000);
        assert!(
            event.starts_with(r#"{"id":"evt_1","sigconform":{"#),
            "{}",
            &event[..40]
        );
        let form = Body::new(RUNNER_FORM, FORM).past(20_000);
        assert!(form.starts_with("n=1.0&probe=sigconform&sigconform=xxx") && form.len() > 20_000);
    }

    #[test]
    fn media_types_are_sniffed_from_the_content() {
        assert!(Body::sniffed(r#"{"a":1}"#).is_json());
        assert!(Body::sniffed("token=x&team_id=T1&text=").is_form());
        assert_eq!(
            Body::sniffed("not json, not a form").media_type,
            "application/octet-stream"
        );
        assert!(Body::new("{}", "application/vnd.api+json").is_json());
    }

    #[test]
    fn the_user_s_body_is_the_only_candidate() {
        let user = Body::new("{}", JSON);
        assert_eq!(
            candidates(Some(&user), Some("x=1"), &[JSON.into()]),
            vec![user]
        );
        let both = candidates(None, None, &[JSON.into(), FORM.into()]);
        let texts: Vec<&str> = both.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(texts, [RUNNER_JSON, PLAIN_JSON, RUNNER_FORM]);
        let sampled = candidates(None, Some(r#"{"type":"event"}"#), &[JSON.into()]);
        assert_eq!(sampled[0].text, r#"{"type":"event"}"#);
        assert_eq!(sampled.len(), 3);
    }
}
