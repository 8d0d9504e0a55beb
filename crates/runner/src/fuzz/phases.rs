//! How each operator changes a request in its phase of building it
//! (`case.rs` says the phases): the content, the signer's input, the
//! signed request's fields and headers.

use std::sync::LazyLock;

use bytes::Bytes;
use fastrand::Rng;
use http::{HeaderName, HeaderValue};

use super::case::{Chosen, Draft, Forge, UNKNOWN_KEY_ID};
use super::edits::{
    FORM_VALUES, JAVASCRIPT_MEMBERS, JSON_VALUES, content_type_change, edit_text, header_change,
    json_duplicate_key, json_whitespace, path_change, query_change, set_uri,
};
use super::operators::{Action, BodyChange, KeyChange, ListEdit, Policy, Shift};
use crate::base::Body;
use crate::probe::{Expect, set_body_bytes};
use sigconform_core::crypto::Algorithm;
use sigconform_core::keys::Secret;
use sigconform_core::lossy::{Component, LossyRead};
use sigconform_core::request::Request;
use sigconform_core::scheme::{Absent, Field, member};
use sigconform_core::tamper::{Absence, HeaderEdit, Recipe};
use sigconform_core::time::TimeUnit;

/// The member a large body gets: a 64 KiB JSON document, made once (a
/// thousand formatted items each time cost more than the rest of a case).
static LARGE_MEMBER: LazyLock<String> = LazyLock::new(|| {
    let doc = sigconform_core::sample::json_document(64 * 1024);
    format!(r#""sigconform":{}"#, String::from_utf8_lossy(&doc))
});

impl Forge<'_> {
    /// A component sent changed in exactly what `read` loses: the request
    /// carries the disguise, and (unless `sign_after`) the signature
    /// covers the value `read` makes of it, as a signer that signed that
    /// value and a sender that changed it would make it (the rest of the
    /// request, its `Content-Length` too, as sent). Where the body lacks
    /// what the disguise changes, the value signed gets it (a U+FFFD, a
    /// line break, an `é`).
    pub(super) fn lossy(&self, draft: &mut Draft, read: LossyRead, c: Chosen, sign_after: bool) {
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
    pub(super) fn content_change(&self, req: &mut Request, c: Chosen) -> Option<bool> {
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
            Action::HeaderValueSpaced => {
                req.headers_mut().append(
                    HeaderName::from_static("x-amz-meta-sigconform-spaced"),
                    HeaderValue::from_static("a   b"),
                );
                true
            }
            _ => false,
        };
        changed.then_some(acceptable)
    }

    /// A change to the body of `req`; whether it changed anything.
    pub(super) fn body_change(&self, req: &mut Request, change: BodyChange, rng: &mut Rng) -> bool {
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
            BodyChange::Large => match as_body() {
                Some(b) if b.is_json() => b.with_member(&LARGE_MEMBER).map(String::into_bytes),
                Some(b) if b.is_form() => b
                    .with_member(&format!("sigconform={}", "a".repeat(64 * 1024)))
                    .map(String::into_bytes),
                _ => Some([&body[..], &vec![b'a'; 64 * 1024][..]].concat()),
            },
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
    pub(super) fn input_change(&self, draft: &mut Draft, c: Chosen, sign_after: bool) {
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
            Action::Form(form) if draft.form.is_none() => {
                draft.form = Some((*form, c));
                draft.applied(c);
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
                        let Some(denied) = &b.deployment.denied_key else {
                            return;
                        };
                        draft.key = self.key_for(&denied.key_id, &denied.secret);
                        draft.input.key_id = Some(denied.key_id.clone());
                        denied.path.clone()
                    }
                    Policy::AdminRoute => {
                        let Some(path) = &b.deployment.admin_path else {
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
                    KeyChange::UnknownId => self.key_for(&id, &b.deployment.secret),
                    KeyChange::UnknownIdEmptySecret => self.key_for(&id, &Secret::new("")),
                    KeyChange::UnknownIdAsSecret => self.key_for(&id, &Secret::new(id.clone())),
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
            Action::SignedList(edit) if self.signed_list(draft, *edit, &mut rng) => {
                draft.applied(c);
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
    pub(super) fn signed_list(&self, draft: &mut Draft, edit: ListEdit, rng: &mut Rng) -> bool {
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
    pub(super) fn after_signing(
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
            Action::HeaderAmzUnsigned => {
                req.headers_mut().append(
                    HeaderName::from_static("x-amz-meta-sigconform-unsigned"),
                    HeaderValue::from_static("1"),
                );
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
    pub(super) fn hash_follows(&self, req: &mut Request, draft: &Draft) -> Result<bool, String> {
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
