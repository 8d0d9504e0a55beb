//! A fuzz case: operators chosen by the run's seed, and the requests they
//! make of the runner's base request.
//!
//! A case is the list of its operators, each with a seed of its own for
//! its random choices (which character, which header, which value), so
//! that the same operators make the same change again: minimising a
//! finding re-builds it with fewer operators, each still doing what it
//! did. Only the nonce and the timestamp are new each time a case is
//! built.
//!
//! A request is built in phases, in this order whatever the operators'
//! order: the content (changed here under `sign-after`), the signer's
//! input (timestamp, key id, nonce, signed header list), signing (with
//! the key, tag change or absence the operators ask for), the content
//! again (changed here otherwise), the signature's fields, the headers,
//! and the framing (header names in other case, chunks, which need raw
//! TCP).

use std::time::Duration;

use bytes::Bytes;
use fastrand::Rng;
use http::{HeaderName, HeaderValue};

use super::operators::{
    self, Acceptable, Action, BodyChange, ContentTypeChange, Family, Form, HeaderChange, KeyChange,
    ListEdit, Operator, PathChange, Policy, QueryChange, Sequence, Shift, TextEdit,
};
use crate::base::Body;
use crate::probe::{Builder, Expect, Step, recased, set_body_bytes};
use sigconform_core::crypto::Algorithm;
use sigconform_core::keys::{Key, Secret};
use sigconform_core::lossy::{Component, LossyRead};
use sigconform_core::request::Request;
use sigconform_core::scheme::{Absent, Field, Scheme, SchemeConfig, SignInput, member};
use sigconform_core::tamper::{Absence, HeaderEdit, Recipe, SignedAs};
use sigconform_core::time::TimeUnit;

/// An operator of a case, by its place in the catalogue, with the seed of
/// its random choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Chosen {
    /// Its index in the run's catalogue.
    pub(crate) op: usize,
    /// The seed of its choices.
    pub(crate) seed: u64,
}

/// One request of a case, ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    /// What is sent (the request as the target parses it, and the bytes
    /// where they are sent raw).
    pub(crate) step: Step,
    /// Sent this many times at the same moment.
    pub(crate) copies: usize,
    /// Sent only this long after the step before was answered.
    pub(crate) pause: Duration,
    /// Whether a signer could have sent it (see [`Acceptable`]): only then
    /// can the reference's acceptance make it one the target must accept.
    pub(crate) acceptable: bool,
}

/// A case, built: the operators that applied, and its requests in order.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The operators that changed something (one that found nothing to
    /// change is left out, so that a finding is named by what it did).
    pub(crate) ops: Vec<Chosen>,
    /// The requests, in order.
    pub(crate) steps: Vec<Planned>,
    /// The content sent (method, path, query, body, headers but the
    /// signature's), as a fingerprint: equal to the base's where only
    /// the signature was changed.
    pub(crate) content: u64,
}

/// The pause of a replay after a pause: as long as the catalog's.
const REPLAY_PAUSE: Duration = crate::REPLAY_PAUSE;

/// A key id no target knows.
const UNKNOWN_KEY_ID: &str = "sigconform-unknown";

/// Builds the requests of cases for one run.
pub(crate) struct Forge<'b> {
    b: &'b Builder<'b>,
    /// The run's operators.
    pub(crate) ops: Vec<Operator>,
    /// The methods the method operator picks from.
    methods: Vec<String>,
    /// The names of the headers the scheme writes when it signs.
    signature_headers: Vec<HeaderName>,
    /// Makes nonces of this run: random per run, so that no nonce meets
    /// one of an earlier run, and long, so that an edit of one never
    /// makes another's.
    nonce_key: u64,
    nonces: std::cell::Cell<u64>,
    /// The content fingerprint of the base request.
    pub(crate) base_content: u64,
}

impl<'b> Forge<'b> {
    pub(crate) fn new(b: &'b Builder<'b>) -> Forge<'b> {
        let signature_headers = b
            .signature_header_names()
            .iter()
            .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
            .collect();
        let mut forge = Forge {
            ops: operators::catalogue(b),
            methods: operators::methods(b),
            signature_headers,
            nonce_key: crate::random_u64(),
            nonces: std::cell::Cell::new(0),
            base_content: 0,
            b,
        };
        forge.base_content = forge.content(&b.probe_request());
        forge
    }

    /// The builder of the run.
    pub(crate) fn builder(&self) -> &'b Builder<'b> {
        self.b
    }

    /// A fresh nonce: 32 hexadecimal digits.
    fn nonce(&self) -> String {
        let n = self.nonces.get() + 1;
        self.nonces.set(n);
        let mut rng = Rng::with_seed(self.nonce_key ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        format!("{:016x}{:016x}", rng.u64(..), rng.u64(..))
    }

    /// Operators for a case, drawn with `rng`: one to four (most often
    /// one), each family first by its weight, then one of the family; at
    /// most one sequence; and `sign-after` half the time.
    pub(crate) fn choose(&self, rng: &mut Rng) -> Vec<Chosen> {
        let families: Vec<(Family, u32)> = {
            let mut seen: Vec<Family> = Vec::new();
            for op in &self.ops {
                if !matches!(op.action, Action::SignAfter) && !seen.contains(&op.family) {
                    seen.push(op.family);
                }
            }
            seen.into_iter().map(|f| (f, f.weight())).collect()
        };
        let total: u32 = families.iter().map(|(_, w)| w).sum();
        let count = match rng.u32(0..100) {
            0..55 => 1,
            55..85 => 2,
            85..96 => 3,
            _ => 4,
        };
        let mut chosen: Vec<Chosen> = Vec::new();
        for _ in 0..count {
            let mut pick = rng.u32(0..total.max(1));
            let family = families
                .iter()
                .find(|(_, w)| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .map(|(f, _)| *f);
            let Some(family) = family else { break };
            let members: Vec<usize> = (0..self.ops.len())
                .filter(|&i| {
                    self.ops[i].family == family && !matches!(self.ops[i].action, Action::SignAfter)
                })
                .collect();
            let op = members[rng.usize(0..members.len())];
            let sequence = |i: usize| matches!(self.ops[i].action, Action::Sequence(_));
            if chosen
                .iter()
                .any(|c| c.op == op || (sequence(c.op) && sequence(op)))
            {
                continue;
            }
            chosen.push(Chosen {
                op,
                seed: rng.u64(..),
            });
        }
        if rng.bool() {
            chosen.push(Chosen { op: 0, seed: 0 });
        }
        chosen.sort_by_key(|c| c.op);
        chosen
    }

    /// The requests of a case of operators `chosen`, signed at the
    /// target's `now_ms`.
    pub(crate) fn build(&self, chosen: &[Chosen], now_ms: u64) -> Result<Plan, String> {
        let nonce = self.nonce();
        let sequence = chosen.iter().find_map(|c| match self.ops[c.op].action {
            Action::Sequence(s) => Some(s),
            _ => None,
        });
        let first = self.request(chosen, now_ms, &nonce, Variant::AsChosen)?;
        let mut ops = first.applied.clone();
        let one = |m: &Mutant, acceptable: bool| Planned {
            step: m.step.clone(),
            copies: 1,
            pause: Duration::ZERO,
            acceptable,
        };
        let steps = match sequence {
            None => vec![one(&first, first.acceptable)],
            Some(Sequence::Replay) => vec![one(&first, first.acceptable), one(&first, false)],
            Some(Sequence::ReplayAfterPause) => vec![
                one(&first, first.acceptable),
                Planned {
                    pause: REPLAY_PAUSE,
                    ..one(&first, false)
                },
            ],
            Some(Sequence::ReplayAfterRefused) => {
                let refused = self.request(chosen, now_ms, &nonce, Variant::WrongSecret)?;
                vec![one(&refused, false), one(&first, first.acceptable)]
            }
            Some(Sequence::ReplayKeyIdCase) => {
                let recased = self.request(chosen, now_ms, &nonce, Variant::KeyIdRecased)?;
                vec![one(&first, first.acceptable), one(&recased, false)]
            }
            Some(Sequence::Concurrent) => vec![Planned {
                copies: 2,
                ..one(&first, first.acceptable)
            }],
        };
        if let Some(c) = chosen
            .iter()
            .find(|c| matches!(self.ops[c.op].action, Action::Sequence(_)))
        {
            ops.push(*c);
            ops.sort_by_key(|c| c.op);
        }
        Ok(Plan {
            ops,
            content: self.content(&first.step.request),
            steps,
        })
    }

    /// The content of `plan`'s first request, signed as a signer would
    /// sign it (a fresh nonce, the target's `now_ms`): the twin whose
    /// answer says whether the target can take that content at all.
    pub(crate) fn twin(&self, sent: &Step, now_ms: u64) -> Result<Step, String> {
        let mut content = sent.request.clone();
        for name in &self.signature_headers {
            content.headers_mut().remove(name);
        }
        let input = self.input(now_ms, &self.nonce());
        let recipe = Recipe {
            input,
            ..Recipe::default()
        };
        let mut step = self.b.step(&content, &recipe, Expect::Either)?;
        if content
            .headers()
            .get(http::header::TRANSFER_ENCODING)
            .is_some()
        {
            step.raw = Some(wire(&step.request, None, true));
        }
        Ok(step)
    }

    /// A fingerprint of what `req` carries besides its signature.
    pub(crate) fn content(&self, req: &Request) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        req.method().as_str().hash(&mut h);
        req.uri().to_string().hash(&mut h);
        req.body().hash(&mut h);
        let mut headers: Vec<(&str, &[u8])> = req
            .headers()
            .iter()
            .filter(|(n, _)| !self.signature_headers.contains(n))
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        headers.sort();
        headers.hash(&mut h);
        h.finish()
    }

    /// The signer's input at `now_ms` with `nonce` where the scheme
    /// carries one.
    fn input(&self, now_ms: u64, nonce: &str) -> SignInput {
        let b = self.b;
        SignInput {
            key_id: Some(b.config.key_id.clone()),
            timestamp: b.scheme.timestamp_text(b.unit.from_ms(now_ms)),
            nonce: b
                .location(&Field::Nonce)
                .is_some()
                .then(|| nonce.to_owned()),
            ..SignInput::default()
        }
    }

    /// One request of operators `chosen`, as `variant` says.
    fn request(
        &self,
        chosen: &[Chosen],
        now_ms: u64,
        nonce: &str,
        variant: Variant,
    ) -> Result<Mutant, String> {
        let sign_after = chosen
            .iter()
            .any(|c| matches!(self.ops[c.op].action, Action::SignAfter));
        let mut draft = Draft {
            content: self.b.probe_request(),
            input: self.input(now_ms, nonce),
            key: self.b.key.clone(),
            signed_as: SignedAs::default(),
            recipe: Recipe::default(),
            applied: Vec::new(),
            acceptable: true,
            name_case: None,
            body_after: None,
            form: None,
            timestamp: self.b.unit.from_ms(now_ms),
            now_ms,
        };
        // The order of phases, not of the operators, decides what a
        // change covers.
        if sign_after {
            for c in chosen.iter().filter(|c| self.ops[c.op].is_content()) {
                if let Some(acceptable) = self.content_change(&mut draft.content, *c) {
                    draft.acceptable &= acceptable;
                    draft.applied(*c);
                }
            }
        }
        for c in chosen {
            if let Action::Lossy(read) = self.ops[c.op].action {
                self.lossy(&mut draft, read, *c, sign_after);
            }
        }
        for c in chosen {
            self.input_change(&mut draft, *c, sign_after);
        }
        match variant {
            Variant::AsChosen => {}
            Variant::WrongSecret => {
                draft.key = self.wrong_key(&draft);
            }
            Variant::KeyIdRecased => {
                let id = draft.input.key_id.clone().unwrap_or_default();
                let other = recased(&id).ok_or("the key id has no letters to re-case")?;
                draft.key = self.b.key_for(&other, &self.b.config.secret);
                draft.input.key_id = Some(other);
            }
        }
        let mut recipe = draft.recipe.clone();
        recipe.input = draft.input.clone();
        if draft.signed_as != SignedAs::default() {
            recipe.signed_as = Some(draft.signed_as.clone());
        }
        let mut step = match draft.form {
            None => self
                .b
                .step_signed_by(&draft.content, &recipe, &draft.key, Expect::Either)?,
            Some((form, c)) => self.in_form(form, c, &draft, &recipe)?,
        };
        if !sign_after {
            for c in chosen.iter().filter(|c| self.ops[c.op].is_content()) {
                if self.content_change(&mut step.request, *c).is_some() {
                    draft.applied(*c);
                }
            }
        }
        if let Some(body) = draft.body_after.take() {
            set_body_bytes(&mut step.request, body);
        }
        for c in chosen {
            self.after_signing(&mut draft, &mut step.request, *c, sign_after)?;
        }
        let chunked = step
            .request
            .headers()
            .get(http::header::TRANSFER_ENCODING)
            .is_some();
        if chunked || draft.name_case.is_some() {
            step.raw = Some(wire(&step.request, draft.name_case, chunked));
        }
        draft.applied.sort_by_key(|c| c.op);
        draft.applied.dedup();
        let acceptable = draft.acceptable
            && draft
                .applied
                .iter()
                .all(|c| match self.ops[c.op].acceptable() {
                    Acceptable::Always => true,
                    Acceptable::WhenSigned => sign_after,
                    Acceptable::Never => false,
                });
        if sign_after && !draft.applied.iter().any(|c| c.op == 0) {
            draft.applied.insert(0, Chosen { op: 0, seed: 0 });
        }
        Ok(Mutant {
            step,
            applied: draft.applied,
            acceptable,
        })
    }

    /// The request signed in another form than headers: `form`, chosen by
    /// `c`.
    fn in_form(
        &self,
        form: Form,
        c: Chosen,
        draft: &Draft,
        recipe: &Recipe,
    ) -> Result<Step, String> {
        let b = self.b;
        let mut rng = Rng::with_seed(c.seed);
        let signed = match form {
            Form::Presigned => {
                let expires = [60, 900, 3600, 604_800, 604_801][rng.usize(0..5)];
                let back = rng.u64(0..=2 * expires.min(3600));
                let input = SignInput {
                    timestamp: b
                        .scheme
                        .timestamp_text(draft.timestamp.saturating_sub(back)),
                    ..recipe.input.clone()
                };
                b.scheme
                    .presign(&draft.content, &input, expires, &draft.key)
                    .ok_or("the scheme has no presigned form")?
                    .map_err(|e| e.to_string())?
            }
            Form::Chunked | Form::ChunkChanged => {
                let mut upload = b
                    .scheme
                    .chunked(&draft.content, &recipe.input, 16, &draft.key)
                    .ok_or("the scheme has no chunk-signed form")?
                    .map_err(|e| e.to_string())?;
                if form == Form::ChunkChanged {
                    // One byte of the first chunk's data, after its line.
                    let mut body = upload.body().to_vec();
                    let line = body
                        .windows(2)
                        .position(|w| w == b"\r\n")
                        .ok_or("no chunk")?;
                    let at = (line + 2).min(body.len().saturating_sub(1));
                    body[at] ^= 0x01;
                    *upload.body_mut() = Bytes::from(body);
                }
                upload
            }
            Form::OtherRegion => {
                let elsewhere = other_region(b).ok_or("the scheme names no region")?;
                recipe
                    .apply(elsewhere.as_ref(), &draft.content, &draft.key)
                    .map_err(|e| e.to_string())?
            }
        };
        Ok(Step::signed(
            b.canonical_of(&signed),
            signed,
            Expect::Either,
        ))
    }

    /// A key the target does not have for the request's key id.
    fn wrong_key(&self, draft: &Draft) -> Key {
        let id = draft.input.key_id.clone().unwrap_or_default();
        let secret = Secret::new(format!("{}-wrong", self.b.config.secret.expose()));
        self.b.key_for(&id, &secret)
    }
}

/// Which request of a sequence is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// As the operators say.
    AsChosen,
    /// Signed with a wrong secret (the refused copy of a replay after a
    /// refusal).
    WrongSecret,
    /// Signed anew under the key id in other letter case.
    KeyIdRecased,
}

/// A request built, with what made it.
struct Mutant {
    step: Step,
    applied: Vec<Chosen>,
    acceptable: bool,
}

/// A request while it is built.
struct Draft {
    /// What is signed (under `sign-after`, the changed content).
    content: Request,
    input: SignInput,
    key: Key,
    signed_as: SignedAs,
    recipe: Recipe,
    /// The operators that changed something.
    applied: Vec<Chosen>,
    /// Whether every change so far is one a signer makes.
    acceptable: bool,
    /// Header names written in other case (raw TCP), with this seed.
    name_case: Option<u64>,
    /// A body that replaces the signed one after signing.
    body_after: Option<Bytes>,
    /// Another form of signed request, by the operator that asks for it.
    form: Option<(Form, Chosen)>,
    /// The timestamp's value, in the scheme's unit.
    timestamp: u64,
    now_ms: u64,
}

impl Draft {
    fn applied(&mut self, c: Chosen) {
        self.applied.push(c);
    }
}

/// The JSON values a member of the runner's takes (`"sigconform":VALUE`):
/// what serialisers write differently, and every signer may send.
const JSON_VALUES: [&str; 9] = [
    r#""Zoë 東京 😀""#,
    r#""say \"hi\"\n\ttab/""#,
    "1e21",
    "-0",
    "9007199254740993",
    "0.1",
    r#"{"10":"ten","9":"nine"}"#,
    r#"[1.5,{"b":null,"a":true}]"#,
    r#""""#,
];

/// Members only a scheme that signs JSON itself must read as JavaScript
/// does (others may pass the body to a strict parser, which refuses them).
const JAVASCRIPT_MEMBERS: [&str; 3] = [
    r#""sigconform":"\ud800""#,
    r#""sigconform":1e400"#,
    r#""__proto__":{"admin":true}"#,
];

/// The values a form field of the runner's takes.
const FORM_VALUES: [&str; 4] = ["caf%C3%A9", "a+b", "%2B1", ""];

/// A timestamp written another way: what the malformed cases send.
fn respelt_timestamp(value: &str, rng: &mut Rng) -> Option<String> {
    let n: u64 = value.parse().ok()?;
    Some(match rng.u32(0..11) {
        0 => format!("+{n}"),
        1 => format!("{}.5", n.saturating_sub(1)),
        2 => format!("{n}.0"),
        3 => format!("{n}e0"),
        4 => format!("0x{n:x}"),
        5 => format!("0{n}"),
        6 => format!("{n:020}"),
        7 => format!("{n:019}"),
        8 => format!(" {n}"),
        9 => format!("{n} "),
        _ => format!("-{n}"),
    })
}

/// An algorithm's name written another way.
fn respelt_algorithm(value: &str, rng: &mut Rng) -> Option<String> {
    let names = [
        "none",
        "HMAC-SHA512",
        "HMAC-SHA1",
        "HMAC-MD5",
        "hmac-sha512",
        "RSA-SHA256",
    ];
    let lower = value.to_ascii_lowercase();
    let pick = rng.usize(0..names.len() + 1);
    let name = if pick == names.len() {
        // The same algorithm in other letter case.
        if lower == value {
            value.to_ascii_uppercase()
        } else {
            lower
        }
    } else {
        names[pick].to_owned()
    };
    (name != value).then_some(name)
}

/// The characters a value is written in, guessed from the value: digits,
/// lower-case hex, base64, or the characters of identifiers.
fn alphabet(value: &str) -> &'static [u8] {
    const DIGITS: &[u8] = b"0123456789";
    const HEX: &[u8] = b"0123456789abcdef";
    const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const WORD: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-_";
    let in_set = |set: &[u8]| !value.is_empty() && value.bytes().all(|b| set.contains(&b));
    if in_set(DIGITS) {
        DIGITS
    } else if in_set(HEX) {
        HEX
    } else if in_set(&[BASE64, b"="].concat()) {
        BASE64
    } else {
        WORD
    }
}

/// Characters outside every value's alphabet: separators of the headers'
/// grammars.
const OUTSIDE: &[u8] = b"!,;=\".:()";

/// `value` changed by `edit`, or `None` where the edit finds nothing to
/// change.
fn edit_text(value: &str, edit: TextEdit, field: &Field, rng: &mut Rng) -> Option<Vec<u8>> {
    let bytes = value.as_bytes();
    let letters = alphabet(value);
    let pick = |rng: &mut Rng, set: &[u8]| set[rng.usize(0..set.len())];
    // A character position (ASCII values: bytes), kept before any `=`
    // padding so that a base64 tag keeps its shape.
    let unpadded = value.trim_end_matches('=').len();
    let position = |rng: &mut Rng| (unpadded > 0).then(|| rng.usize(0..unpadded));
    let replaced = |at: usize, with: &[u8]| {
        if !value.is_char_boundary(at) {
            return None;
        }
        let end = value[at..].chars().next().map_or(at, |c| at + c.len_utf8());
        Some([&bytes[..at], with, &bytes[end..]].concat())
    };
    let changed = match edit {
        TextEdit::Insert => {
            let at = rng.usize(0..=unpadded);
            let c = pick(rng, letters);
            value
                .is_char_boundary(at)
                .then(|| [&bytes[..at], &[c], &bytes[at..]].concat())?
        }
        TextEdit::Delete => {
            let at = position(rng)?;
            replaced(at, b"")?
        }
        TextEdit::Replace => {
            let at = position(rng)?;
            let current = bytes[at];
            let others: Vec<u8> = letters.iter().copied().filter(|&b| b != current).collect();
            replaced(at, &[pick(rng, &others)])?
        }
        TextEdit::Outside => {
            let at = position(rng)?;
            replaced(at, &[pick(rng, OUTSIDE)])?
        }
        TextEdit::NonAscii => {
            let at = position(rng)?;
            let text = if rng.bool() { "é" } else { "😀" };
            replaced(at, text.as_bytes())?
        }
        TextEdit::NonUtf8 => {
            let at = position(rng)?;
            replaced(at, if rng.bool() { b"\xff" } else { b"\xc3" })?
        }
        TextEdit::Case => {
            let swapped = recased(value)?;
            swapped.into_bytes()
        }
        TextEdit::Space => {
            let space: &[u8] = if rng.bool() { b" " } else { b"\t" };
            match rng.u32(0..3) {
                0 => [space, bytes].concat(),
                1 => [bytes, space].concat(),
                _ => {
                    let at = position(rng)?;
                    value
                        .is_char_boundary(at)
                        .then(|| [&bytes[..at], space, &bytes[at..]].concat())?
                }
            }
        }
        TextEdit::Repeat => [bytes, bytes].concat(),
        TextEdit::Truncate => {
            let cut = rng.usize(1..=(unpadded / 2).max(1));
            let keep = unpadded.checked_sub(cut)?;
            value
                .is_char_boundary(keep)
                .then(|| [&bytes[..keep], &bytes[unpadded..]].concat())?
        }
        TextEdit::Extend => {
            let mut out = bytes[..unpadded].to_vec();
            for _ in 0..rng.usize(1..=3) {
                out.push(pick(rng, letters));
            }
            out.extend_from_slice(&bytes[unpadded..]);
            out
        }
        TextEdit::Empty => Vec::new(),
        TextEdit::Respell => match field {
            Field::Timestamp => respelt_timestamp(value, rng)?.into_bytes(),
            _ => respelt_algorithm(value, rng)?.into_bytes(),
        },
    };
    (changed != bytes).then_some(changed)
}

impl Forge<'_> {
    /// A component sent changed in exactly what `read` loses: the request
    /// carries the disguise, and (unless `sign_after`) the signature
    /// covers the value `read` makes of it, as a signer that signed that
    /// value and a sender that changed it would make it (the rest of the
    /// request, its `Content-Length` too, as sent). Where the body lacks
    /// what the disguise changes, the value signed gets it (a U+FFFD, a
    /// line break, an `é`).
    fn lossy(&self, draft: &mut Draft, read: LossyRead, c: Chosen, sign_after: bool) {
        let req = &mut draft.content;
        let changed = match read.component() {
            Component::Body => {
                let Ok(text) = std::str::from_utf8(req.body()) else {
                    return;
                };
                let signed = read.signed_body(text);
                let Some(disguised) = read.disguise(signed.as_bytes()) else {
                    return;
                };
                set_body_bytes(req, Bytes::from(disguised));
                if !sign_after && draft.signed_as.body.is_none() {
                    draft.signed_as.body = Some(signed);
                }
                true
            }
            Component::Path => {
                let path = req.uri().path().to_owned();
                let query = req.uri().query().map(str::to_owned);
                let Some(disguised) = read
                    .disguise(path.as_bytes())
                    .and_then(|d| String::from_utf8(d).ok())
                else {
                    return;
                };
                if set_uri(req, &disguised, query).is_err() {
                    return;
                }
                if !sign_after && draft.signed_as.path.is_none() {
                    draft.signed_as.path = Some(path);
                }
                true
            }
            Component::Query => {
                let Some(query) = req.uri().query().map(str::to_owned) else {
                    return;
                };
                let path = req.uri().path().to_owned();
                let Some(disguised) = read
                    .disguise(query.as_bytes())
                    .and_then(|d| String::from_utf8(d).ok())
                else {
                    return;
                };
                if set_uri(req, &path, Some(disguised)).is_err() {
                    return;
                }
                if !sign_after && draft.signed_as.query.is_none() {
                    draft.signed_as.query = Some(query);
                }
                true
            }
        };
        if changed {
            draft.applied(c);
        }
    }

    /// A change to the content of `req` (what is signed, under
    /// `sign-after`, or the signed request): `None` where it changed
    /// nothing, else whether a signer may send the change (a method the
    /// target routes, say).
    fn content_change(&self, req: &mut Request, c: Chosen) -> Option<bool> {
        let op = &self.ops[c.op];
        let mut rng = Rng::with_seed(c.seed);
        let mut acceptable = true;
        let changed = match &op.action {
            Action::Body(change) => self.body_change(req, *change, &mut rng),
            Action::Method => {
                let current = req.method().as_str().to_owned();
                let others: Vec<&String> = self.methods.iter().filter(|m| **m != current).collect();
                if others.is_empty() {
                    false
                } else {
                    let method = others[rng.usize(0..others.len())].clone();
                    let routed = self.b.methods().contains(&method);
                    let body_on_get = method == "GET" && !req.body().is_empty();
                    if !routed || body_on_get {
                        acceptable = false;
                    }
                    method.parse().map(|m| *req.method_mut() = m).is_ok()
                }
            }
            Action::Path(change) => path_change(req, *change),
            Action::Query(change) => query_change(req, *change, &mut rng),
            Action::ContentType(change) => content_type_change(req, *change),
            Action::Chunked => {
                req.headers_mut().remove(http::header::CONTENT_LENGTH);
                req.headers_mut().insert(
                    http::header::TRANSFER_ENCODING,
                    HeaderValue::from_static("chunked"),
                );
                true
            }
            Action::HeaderUnsigned => {
                req.headers_mut().append(
                    HeaderName::from_static("x-sigconform-fuzz"),
                    HeaderValue::from_static("1"),
                );
                true
            }
            _ => false,
        };
        changed.then_some(acceptable)
    }

    /// A change to the body of `req`; whether it changed anything.
    fn body_change(&self, req: &mut Request, change: BodyChange, rng: &mut Rng) -> bool {
        let body = req.body().to_vec();
        let media_type = req
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let as_body = || {
            std::str::from_utf8(&body)
                .ok()
                .map(|t| Body::new(t, media_type.clone()))
        };
        let printable = |rng: &mut Rng| -> Vec<u8> {
            (0..rng.usize(1..=3)).map(|_| rng.u8(b'a'..=b'z')).collect()
        };
        let new: Option<Vec<u8>> = match change {
            BodyChange::Flip if !body.is_empty() => {
                let mut out = body.clone();
                let at = rng.usize(0..out.len());
                out[at] ^= 1 << rng.u32(0..7);
                Some(out)
            }
            BodyChange::Insert => {
                let at = rng.usize(0..=body.len());
                Some([&body[..at], &printable(rng), &body[at..]].concat())
            }
            BodyChange::Truncate if !body.is_empty() => {
                let cut = rng.usize(1..=body.len().div_ceil(2));
                Some(body[..body.len() - cut].to_vec())
            }
            BodyChange::Append => Some([&body[..], &printable(rng)].concat()),
            BodyChange::NonUtf8 => {
                let at = rng.usize(0..=body.len());
                Some([&body[..at], b"\xff", &body[at..]].concat())
            }
            BodyChange::Empty if !body.is_empty() => Some(Vec::new()),
            BodyChange::Large => {
                let doc = sigconform_core::sample::json_document(64 * 1024);
                let doc = String::from_utf8(doc).unwrap_or_default();
                match as_body() {
                    Some(b) if b.is_json() => b
                        .with_member(&format!(r#""sigconform":{doc}"#))
                        .map(String::into_bytes),
                    Some(b) if b.is_form() => b
                        .with_member(&format!("sigconform={}", "a".repeat(64 * 1024)))
                        .map(String::into_bytes),
                    _ => Some([&body[..], &vec![b'a'; 64 * 1024][..]].concat()),
                }
            }
            BodyChange::Member => as_body()
                .and_then(|b| {
                    if b.is_form() {
                        let mut values: Vec<String> = FORM_VALUES
                            .iter()
                            .map(|v| format!("sigconform={v}"))
                            .collect();
                        if self.b.signs_form() {
                            values.push("sigconform=1&sigconform=2".into());
                        }
                        return b.with_member(&values[rng.usize(0..values.len())]);
                    }
                    let mut members: Vec<String> = JSON_VALUES
                        .iter()
                        .map(|v| format!(r#""sigconform":{v}"#))
                        .collect();
                    if self.b.signs_json_only() {
                        members.extend(JAVASCRIPT_MEMBERS.iter().map(|m| (*m).to_owned()));
                    }
                    b.with_member(&members[rng.usize(0..members.len())])
                })
                .map(String::into_bytes),
            BodyChange::Whitespace => json_whitespace(&body, rng),
            BodyChange::DuplicateKey => json_duplicate_key(&body),
            _ => None,
        };
        match new {
            Some(new) if new != body => {
                set_body_bytes(req, Bytes::from(new));
                true
            }
            _ => false,
        }
    }

    /// A change to the signer's input (the timestamp, the key, the signed
    /// list, the fields it writes under `sign-after`), or to how it signs.
    fn input_change(&self, draft: &mut Draft, c: Chosen, sign_after: bool) {
        let op = &self.ops[c.op];
        let mut rng = Rng::with_seed(c.seed);
        let b = self.b;
        match &op.action {
            Action::Time(shift) => {
                let now = b.unit.from_ms(draft.now_ms);
                let window = b.scheme.window();
                let reach = |limit: u64| {
                    if limit == u64::MAX || limit == 0 {
                        b.unit.from_ms(86_400_000)
                    } else {
                        limit.saturating_mul(2)
                    }
                };
                let value = match shift {
                    Shift::Past => now.saturating_sub(rng.u64(1..=reach(window.past))),
                    Shift::Future => now.saturating_add(rng.u64(1..=reach(window.future))),
                    Shift::Zero => 0,
                    Shift::Unit => match b.unit {
                        TimeUnit::Seconds => now.saturating_mul(1000),
                        TimeUnit::Milliseconds => now / 1000,
                    },
                };
                draft.input.timestamp = b.scheme.timestamp_text(value);
                draft.timestamp = value;
                draft.applied(c);
            }
            Action::Form(form) => {
                if draft.form.is_none() {
                    draft.form = Some((*form, c));
                    draft.applied(c);
                }
            }
            Action::OtherAlgorithm => {
                let named = b
                    .scheme
                    .signing_params(&draft.content, &draft.input)
                    .map_or(Algorithm::Sha256, |p| p.algorithm);
                draft.input.algorithm = Some(match named {
                    Algorithm::Sha256 => Algorithm::Sha512,
                    Algorithm::Sha512 | Algorithm::Sha1 => Algorithm::Sha256,
                });
                draft.applied(c);
            }
            Action::Policy(policy) => {
                let path = match policy {
                    Policy::KeyNotAllowed => {
                        let Some(denied) = &b.config.denied_key else {
                            return;
                        };
                        draft.key = b.key_for(&denied.key_id, &denied.secret);
                        draft.input.key_id = Some(denied.key_id.clone());
                        denied.path.clone()
                    }
                    Policy::AdminRoute => {
                        let Some(path) = &b.config.admin_path else {
                            return;
                        };
                        path.clone()
                    }
                };
                if let Ok(uri) = path.parse() {
                    *draft.content.uri_mut() = uri;
                    draft.applied(c);
                }
            }
            Action::Key(change) => {
                let id = UNKNOWN_KEY_ID.to_owned();
                draft.key = match change {
                    KeyChange::WrongSecret => self.wrong_key(draft),
                    KeyChange::UnknownId => b.key_for(&id, &b.config.secret),
                    KeyChange::UnknownIdEmptySecret => b.key_for(&id, &Secret::new("")),
                    KeyChange::UnknownIdAsSecret => b.key_for(&id, &Secret::new(id.clone())),
                };
                if *change != KeyChange::WrongSecret {
                    draft.input.key_id = Some(id);
                }
                draft.applied(c);
            }
            Action::Tag(transform) => {
                draft.recipe.tag_transform = Some(*transform);
                draft.applied(c);
            }
            Action::Restyle { header, style } => {
                draft.recipe.edits.push(HeaderEdit::Restyle {
                    header: header.clone(),
                    style: *style,
                });
                draft.applied(c);
            }
            Action::ExpiresPassed => {
                let now_s = draft.now_ms / 1000;
                let margin = b.unit.to_ms(b.margin) / 1000;
                draft.input.expires = Some(now_s.saturating_sub(margin + rng.u64(1..=300)));
                draft.applied(c);
            }
            Action::SignedList(edit) => {
                if self.signed_list(draft, *edit, &mut rng) {
                    draft.applied(c);
                }
            }
            Action::Edit { field, edit, .. }
                if sign_after
                    && matches!(field, Field::KeyId | Field::Timestamp | Field::Nonce) =>
            {
                let current = match field {
                    Field::KeyId => draft.input.key_id.clone(),
                    Field::Timestamp => Some(draft.input.timestamp.clone()),
                    _ => draft.input.nonce.clone(),
                };
                let Some(current) = current else { return };
                let Some(changed) = edit_text(&current, *edit, field, &mut rng)
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                else {
                    return;
                };
                match field {
                    Field::KeyId => draft.input.key_id = Some(changed),
                    Field::Timestamp => draft.input.timestamp = changed,
                    _ => draft.input.nonce = Some(changed),
                }
                draft.applied(c);
            }
            Action::Remove { field, .. } if sign_after && draft.signed_as.absent.is_none() => {
                let mut ways = vec![Absent::Omitted, Absent::Empty];
                if *field == Field::Timestamp && b.unit == TimeUnit::Seconds {
                    ways.push(Absent::Now);
                }
                draft.signed_as.absent = Some(Absence {
                    field: field.clone(),
                    signed: ways[rng.usize(0..ways.len())],
                });
                draft.applied(c);
            }
            Action::Body(BodyChange::Unparsable) => {
                draft.signed_as.body = Some(String::new());
                draft.body_after = Some(Bytes::from_static(b"sigconform <not json>"));
                draft.applied(c);
            }
            _ => {}
        }
    }

    /// The signed header list changed by `edit`; whether it changed.
    fn signed_list(&self, draft: &mut Draft, edit: ListEdit, rng: &mut Rng) -> bool {
        let Some(mut list) = self.b.default_signed_headers(&draft.content, &draft.input) else {
            return false;
        };
        if list.is_empty() {
            return false;
        }
        let quoted = list[0].starts_with('"');
        let at = rng.usize(0..list.len());
        match edit {
            ListEdit::Reorder if list.len() > 1 => {
                list.reverse();
            }
            ListEdit::Drop => {
                list.remove(at);
            }
            ListEdit::Repeat => {
                let entry = list[at].clone();
                list.push(entry);
            }
            ListEdit::UnknownParameter => list[at].push_str(";fz"),
            ListEdit::AddAbsent if draft.signed_as.absent.is_none() => {
                let name = "x-sigconform-absent";
                list.push(if quoted {
                    format!("\"{name}\"")
                } else {
                    name.to_owned()
                });
                draft.signed_as.absent = Some(Absence {
                    field: Field::Header(name.into()),
                    signed: Absent::Omitted,
                });
            }
            _ => return false,
        }
        draft.input.signed_headers = Some(list);
        true
    }

    /// A change made to the signed request: to a field, a header, the
    /// framing.
    fn after_signing(
        &self,
        draft: &mut Draft,
        req: &mut Request,
        c: Chosen,
        sign_after: bool,
    ) -> Result<(), String> {
        let op = &self.ops[c.op];
        let mut rng = Rng::with_seed(c.seed);
        let changed = match &op.action {
            Action::Edit { field, at, edit } => {
                let in_input =
                    sign_after && matches!(field, Field::KeyId | Field::Timestamp | Field::Nonce);
                if in_input && draft.applied.contains(&c) {
                    return Ok(());
                }
                match at.read(req) {
                    Some(value) => {
                        let value = value.to_owned();
                        edit_text(&value, *edit, field, &mut rng)
                            .is_some_and(|changed| at.write(req, &changed).is_ok())
                    }
                    None => false,
                }
            }
            Action::Remove { at, .. } if !draft.applied.contains(&c) => {
                let before = req.headers().clone();
                let uri = req.uri().clone();
                at.remove(req).is_ok() && (req.headers() != &before || req.uri() != &uri)
            }
            Action::SeveralSignatures { at, wrong_first } => {
                let wrong = self.b.wrong_tag();
                let added = if *wrong_first {
                    at.add_first(req, &wrong)
                } else {
                    at.add_last(req, &wrong)
                };
                matches!(added, Some(Ok(())))
            }
            Action::LabelRenamed { at } => at.header().is_some_and(|header| {
                let Some(text) = req.headers().get(header).and_then(|v| v.to_str().ok()) else {
                    return false;
                };
                let Some(renamed) = member::rename_first(text, "fz") else {
                    return false;
                };
                HeaderValue::from_str(&renamed)
                    .map(|v| {
                        req.headers_mut().insert(header.clone(), v);
                    })
                    .is_ok()
            }),
            Action::Body(BodyChange::HashFollows) => self.hash_follows(req, draft)?,
            Action::Header { name, change } => header_change(req, name, *change),
            Action::HeaderReorder => {
                let names: Vec<HeaderName> = {
                    let mut seen: Vec<HeaderName> = Vec::new();
                    for n in req.headers().keys() {
                        if !seen.contains(n) {
                            seen.push(n.clone());
                        }
                    }
                    seen
                };
                if names.len() < 2 {
                    false
                } else {
                    let name = names[rng.usize(0..names.len() - 1)].clone();
                    let values: Vec<HeaderValue> =
                        req.headers().get_all(&name).iter().cloned().collect();
                    req.headers_mut().remove(&name);
                    for v in values {
                        req.headers_mut().append(name.clone(), v);
                    }
                    true
                }
            }
            Action::HeaderNameCase => {
                draft.name_case = Some(c.seed);
                true
            }
            _ => return Ok(()),
        };
        if changed {
            draft.applied(c);
        }
        Ok(())
    }

    /// A byte appended to the signed body, and the body hash field written
    /// as a signer would write it for the body as sent.
    fn hash_follows(&self, req: &mut Request, draft: &Draft) -> Result<bool, String> {
        let Some(at) = self.b.location(&Field::BodyHash) else {
            return Ok(false);
        };
        let mut body = req.body().to_vec();
        body.push(b' ');
        set_body_bytes(req, Bytes::from(body));
        let mut content = req.clone();
        for name in &self.signature_headers {
            content.headers_mut().remove(name);
        }
        let recipe = Recipe {
            input: draft.input.clone(),
            ..Recipe::default()
        };
        let signed = self.b.step(&content, &recipe, Expect::Either)?;
        let Some(hash) = at.read(&signed.request) else {
            return Ok(false);
        };
        let hash = hash.to_owned();
        Ok(at.write(req, hash.as_bytes()).is_ok())
    }
}

/// `req` with its path and query set.
fn set_uri(req: &mut Request, path: &str, query: Option<String>) -> Result<(), String> {
    let uri = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    *req.uri_mut() = uri
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())?;
    Ok(())
}

fn path_change(req: &mut Request, change: PathChange) -> bool {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let (dir, last) = path.rsplit_once('/').unwrap_or(("", &path));
    let changed = match change {
        PathChange::Segment => format!("{}/fz", path.trim_end_matches('/')),
        PathChange::DotSegments => format!("{dir}/fz/../{last}"),
        PathChange::EmptySegment => format!("{dir}//{last}"),
    };
    changed != path && set_uri(req, &changed, query).is_ok()
}

fn query_change(req: &mut Request, change: QueryChange, rng: &mut Rng) -> bool {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let changed = match (change, &query) {
        (QueryChange::Add, Some(q)) => Some(format!("{q}&fz={}", rng.u32(0..100))),
        (QueryChange::Add, None) => Some(format!("fz={}", rng.u32(0..100))),
        (QueryChange::Change, Some(q)) => Some(format!("{q}{}", rng.u32(0..10))),
        (QueryChange::Remove, Some(_)) => None,
        _ => return false,
    };
    changed != query && set_uri(req, &path, changed).is_ok()
}

fn content_type_change(req: &mut Request, change: ContentTypeChange) -> bool {
    let current = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let new = match (change, &current) {
        (ContentTypeChange::Other, Some(c)) if c.starts_with("text/plain") => {
            Some("application/octet-stream".to_owned())
        }
        (ContentTypeChange::Other, _) => Some("text/plain".to_owned()),
        (ContentTypeChange::Drop, Some(_)) => None,
        (ContentTypeChange::Charset, Some(c)) if !c.contains("charset") => {
            Some(format!("{c}; charset=utf-8"))
        }
        _ => return false,
    };
    match new.and_then(|n| HeaderValue::from_str(&n).ok()) {
        Some(value) => {
            req.headers_mut().insert(http::header::CONTENT_TYPE, value);
        }
        None => {
            req.headers_mut().remove(http::header::CONTENT_TYPE);
        }
    }
    true
}

fn header_change(req: &mut Request, name: &HeaderName, change: HeaderChange) -> bool {
    let Some(value) = req.headers().get(name).cloned() else {
        return false;
    };
    match change {
        HeaderChange::Drop => {
            req.headers_mut().remove(name);
        }
        HeaderChange::Duplicate => {
            req.headers_mut().append(name.clone(), value);
        }
        HeaderChange::AddValue => {
            let mut other = value.as_bytes().to_vec();
            match other.last_mut() {
                Some(last) if last.is_ascii_alphanumeric() => {
                    *last = if *last == b'a' { b'b' } else { b'a' };
                }
                _ => other.push(b'a'),
            }
            let Ok(other) = HeaderValue::from_bytes(&other) else {
                return false;
            };
            req.headers_mut().append(name.clone(), other);
        }
    }
    true
}

/// The same JSON with a space or newline after a structural character
/// outside strings.
fn json_whitespace(body: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let mut spots = Vec::new();
    let mut quoted = false;
    let mut escaped = false;
    for (i, &c) in body.iter().enumerate() {
        match c {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'{' | b'[' | b',' | b':' if !quoted => spots.push(i + 1),
            _ => {}
        }
    }
    if spots.is_empty() {
        return None;
    }
    let at = spots[rng.usize(0..spots.len())];
    let space: &[u8] = if rng.bool() { b" " } else { b"\n" };
    Some([&body[..at], space, &body[at..]].concat())
}

/// The JSON object with its first member written twice, the first copy
/// another value (`{"n":2,"n":1.0,…}`): one parser reads one, another the
/// other.
fn json_duplicate_key(body: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    let open = text.find('{')?;
    let rest = &text[open + 1..];
    let start = rest.find('"')?;
    let key_len = rest[start + 1..].find('"')?;
    let key = &rest[start..start + key_len + 2];
    Some(format!("{}{{{key}:\"sigconform-other\",{rest}", &text[..open]).into_bytes())
}

/// `req` as HTTP/1.1 bytes: header names in other letter case (chosen by
/// `name_case`), the body in chunks where `chunked`.
pub(crate) fn wire(req: &Request, name_case: Option<u64>, chunked: bool) -> Vec<u8> {
    let mut rng = name_case.map(Rng::with_seed);
    let mut out = format!(
        "{} {} HTTP/1.1\r\n",
        req.method(),
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    )
    .into_bytes();
    for (name, value) in req.headers() {
        let name = name.as_str();
        match rng.as_mut() {
            Some(rng) => {
                let upper = rng.bool();
                for (i, c) in name.bytes().enumerate() {
                    let flip = if upper {
                        true
                    } else {
                        i == 0 || name.as_bytes()[i - 1] == b'-'
                    };
                    out.push(if flip { c.to_ascii_uppercase() } else { c });
                }
            }
            None => out.extend_from_slice(name.as_bytes()),
        }
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    if chunked {
        for chunk in req.body().chunks(7) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(req.body());
    }
    out
}

/// Whether `b`'s scheme signs an `expires` parameter (RFC 9421's): the
/// string it signs changes with it.
pub(crate) fn signs_expires(b: &Builder<'_>) -> bool {
    let req = b.probe_request();
    let input = b.input(b.now);
    let with = SignInput {
        expires: Some(b.now + 60),
        ..input.clone()
    };
    let canonical = |input: &SignInput| {
        let mut out = Vec::new();
        b.scheme
            .signing_params(&req, input)
            .ok()
            .and_then(|p| b.scheme.canonicalize(&req, &p, &mut out).ok())
            .map(|()| out)
    };
    canonical(&input) != canonical(&with)
}

/// A region no target is configured with.
const OTHER_REGION: &str = "sigconform-test-1";

/// The scheme as configured for another region, where its signatures
/// change with the region (SigV4's); `None` for the others, and for a
/// target said to serve any region.
pub(crate) fn other_region(b: &Builder<'_>) -> Option<Box<dyn Scheme>> {
    if b.config.scheme_config.region.as_deref() == Some("*") {
        return None;
    }
    let config = SchemeConfig {
        region: Some(OTHER_REGION.into()),
        ..b.config.scheme_config.clone()
    };
    let elsewhere = b.config.scheme.build(&config).ok()?;
    let req = b.probe_request();
    let input = b.input(b.now);
    let headers = |scheme: &dyn Scheme| scheme.sign(&req, &input, &b.key).ok();
    (headers(elsewhere.as_ref()) != headers(b.scheme.as_ref())).then_some(elsewhere)
}

/// Whether the scheme names its algorithm in what it writes (so that the
/// other one can be named).
pub(crate) fn names_its_algorithm(b: &Builder<'_>) -> bool {
    let req = b.probe_request();
    let input = b.input(b.now);
    let other = SignInput {
        algorithm: Some(Algorithm::Sha512),
        ..input.clone()
    };
    let written = |input: &SignInput| {
        b.scheme
            .signing_params(&req, input)
            .map(|p| b.scheme.signature_headers(&p, "x"))
            .ok()
    };
    written(&input) != written(&other)
}

/// The names of the headers of the runner's signed base request.
pub(crate) fn signed_header_names(b: &Builder<'_>) -> Vec<HeaderName> {
    let Ok(step) = b.step(&b.probe_request(), &b.recipe(b.now), Expect::Either) else {
        return Vec::new();
    };
    let mut names: Vec<HeaderName> = Vec::new();
    for name in step.request.headers().keys() {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_edits_change_what_they_name_and_keep_the_rest() {
        let mut rng = Rng::with_seed(7);
        let tag = "q83vEjRWeJA=";
        for edit in [
            TextEdit::Insert,
            TextEdit::Delete,
            TextEdit::Replace,
            TextEdit::Truncate,
            TextEdit::Extend,
        ] {
            let changed = edit_text(tag, edit, &Field::Tag, &mut rng).unwrap();
            assert_ne!(changed, tag.as_bytes(), "{edit:?}");
            // The padding stays where it was.
            assert!(changed.ends_with(b"="), "{edit:?}: {changed:?}");
        }
        let ts = "1700000000";
        let respelt = edit_text(ts, TextEdit::Respell, &Field::Timestamp, &mut rng).unwrap();
        assert!(String::from_utf8_lossy(&respelt).contains("1700000000") || respelt.len() > 2);
        assert_eq!(
            edit_text("abc", TextEdit::Case, &Field::KeyId, &mut rng).unwrap(),
            b"ABC"
        );
        assert_eq!(
            edit_text("123", TextEdit::Case, &Field::KeyId, &mut rng),
            None
        );
        assert_eq!(
            edit_text("", TextEdit::Delete, &Field::Nonce, &mut rng),
            None
        );
        let outside = edit_text("abcd", TextEdit::Outside, &Field::Nonce, &mut rng).unwrap();
        assert!(outside.iter().any(|b| OUTSIDE.contains(b)));
        let non_utf8 = edit_text("abcd", TextEdit::NonUtf8, &Field::Nonce, &mut rng).unwrap();
        assert!(std::str::from_utf8(&non_utf8).is_err());
    }

    #[test]
    fn text_edits_never_panic_whatever_the_value() {
        let values = [
            "",
            "a",
            "é",
            "aé😀b",
            "==",
            "a=",
            "1700000000",
            "q83vEjRWeJA=",
            " x ",
        ];
        for (n, value) in values.into_iter().enumerate() {
            for edit in TextEdit::ALL {
                for seed in 0..50 {
                    let mut rng = Rng::with_seed(seed * 31 + n as u64);
                    for field in [Field::Tag, Field::Timestamp, Field::Algorithm] {
                        let _ = edit_text(value, edit, &field, &mut rng);
                    }
                }
            }
        }
    }

    #[test]
    fn json_changes_keep_json_or_name_the_member_twice() {
        let body = br#"{"n":1.0,"probe":"sigconform"}"#;
        let mut rng = Rng::with_seed(1);
        for _ in 0..20 {
            let spaced = json_whitespace(body, &mut rng).unwrap();
            let parsed: serde_json::Value = serde_json::from_slice(&spaced).unwrap();
            assert_eq!(
                parsed,
                serde_json::from_slice::<serde_json::Value>(body).unwrap()
            );
        }
        assert_eq!(
            json_duplicate_key(body).unwrap(),
            br#"{"n":"sigconform-other","n":1.0,"probe":"sigconform"}"#
        );
    }

    #[test]
    fn raw_requests_case_names_and_chunk_bodies() {
        let req = http::Request::post("/p?q=1")
            .header("x-signature", "abc")
            .header("transfer-encoding", "chunked")
            .body(Bytes::from_static(b"0123456789"))
            .unwrap();
        let raw = wire(&req, None, true);
        let text = String::from_utf8(raw).unwrap();
        assert!(text.starts_with("POST /p?q=1 HTTP/1.1\r\nx-signature: abc\r\n"));
        assert!(text.ends_with("7\r\n0123456\r\n3\r\n789\r\n0\r\n\r\n"));
        let cased = String::from_utf8(wire(&req, Some(3), false)).unwrap();
        assert!(cased.contains("X-Signature: abc") || cased.contains("X-SIGNATURE: abc"));
    }
}
