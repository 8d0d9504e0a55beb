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
use http::HeaderName;

use super::catalogue;
use super::operators::{
    Acceptable, Action, ChunkChange, Family, Form, Operator, ScopeChange, Sequence,
};
use crate::probe::{Builder, Expect, Step, recased, set_body_bytes};
use sigconform_core::keys::{Key, Secret};
use sigconform_core::request::Request;
use sigconform_core::scheme::sigv4::chunked::ChunkPlan;
use sigconform_core::scheme::{Field, SignInput};
use sigconform_core::tamper::{Recipe, SignedAs};

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
    /// Which of them is the request as the operators made it (the others
    /// are a sequence's copies and variants).
    pub(crate) chosen: usize,
}

impl Plan {
    /// The request as the operators made it.
    pub(crate) fn chosen(&self) -> &Request {
        &self.steps[self.chosen].step.request
    }
}

/// The pause of a replay after a pause: as long as the catalog's.
const REPLAY_PAUSE: Duration = crate::replay::REPLAY_PAUSE;

/// A key id no target knows.
pub(super) const UNKNOWN_KEY_ID: &str = "sigconform-unknown";

/// Builds the requests of cases for one run.
pub(crate) struct Forge<'b> {
    pub(super) b: &'b Builder<'b>,
    /// The run's operators.
    pub(crate) ops: Vec<Operator>,
    /// The methods the method operator picks from.
    pub(super) methods: Vec<String>,
    /// The names of the headers the scheme writes when it signs.
    pub(super) signature_headers: Vec<HeaderName>,
    /// Makes nonces of this run: random per run, so that no nonce meets
    /// one of an earlier run, and long, so that an edit of one never
    /// makes another's.
    pub(super) nonce_key: u64,
    pub(super) nonces: std::cell::Cell<u64>,
    /// The content fingerprint of the base request.
    pub(crate) base_content: u64,
    /// The runner's probe request, unsigned: what every case starts from.
    probe: Request,
    /// The families `choose` draws from, each with its weight, and the
    /// operators of each (`sign-after` drawn apart).
    families: Vec<(Family, u32, Vec<usize>)>,
    /// A secret the target does not have.
    wrong_secret: Secret,
    /// Keys made for a key id and secret, the first few kept: making one
    /// costs more than the rest of a simple case.
    keys: std::cell::RefCell<Vec<(String, Secret, Key)>>,
}

/// At most this many keys are kept.
const KEPT_KEYS: usize = 16;

impl<'b> Forge<'b> {
    pub(crate) fn new(b: &'b Builder<'b>) -> Forge<'b> {
        let signature_headers = b
            .signature_header_names()
            .iter()
            .filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok())
            .collect();
        let ops = catalogue::catalogue(b);
        let families = families(&ops);
        let mut forge = Forge {
            ops,
            methods: catalogue::methods(b),
            signature_headers,
            nonce_key: crate::probe::random_u64(),
            nonces: std::cell::Cell::new(0),
            base_content: 0,
            probe: b.probe_request(),
            families,
            wrong_secret: Secret::new(format!("{}-wrong", b.deployment.secret.expose())),
            keys: std::cell::RefCell::new(Vec::new()),
            b,
        };
        forge.base_content = forge.content(&forge.probe);
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
        let total: u32 = self.families.iter().map(|(_, w, _)| w).sum();
        let count = match rng.u32(0..100) {
            0..55 => 1,
            55..85 => 2,
            85..96 => 3,
            _ => 4,
        };
        let mut chosen: Vec<Chosen> = Vec::with_capacity(count + 1);
        for _ in 0..count {
            let mut pick = rng.u32(0..total.max(1));
            let members = self.families.iter().find_map(|(_, w, members)| {
                if pick < *w {
                    Some(members)
                } else {
                    pick -= w;
                    None
                }
            });
            let Some(members) = members else { break };
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
        // A large body is hashed once for all the requests of the case.
        sigconform_core::crypto::remembering_body_hashes(|| self.built(chosen, now_ms))
    }

    /// [`Forge::build`].
    fn built(&self, chosen: &[Chosen], now_ms: u64) -> Result<Plan, String> {
        let nonce = self.nonce();
        let sequence = chosen.iter().find_map(|c| match self.ops[c.op].action {
            Action::Sequence(s) => Some(s),
            _ => None,
        });
        let first = self.request(chosen, now_ms, &nonce, Variant::AsChosen)?;
        let Mutant {
            step,
            applied: mut ops,
            acceptable,
        } = first;
        let planned = |step: Step, acceptable: bool| Planned {
            step,
            copies: 1,
            pause: Duration::ZERO,
            acceptable,
        };
        let steps = match sequence {
            None => vec![planned(step, acceptable)],
            Some(Sequence::Replay) => {
                vec![planned(step.clone(), acceptable), planned(step, false)]
            }
            Some(Sequence::ReplayAfterPause) => vec![
                planned(step.clone(), acceptable),
                Planned {
                    pause: REPLAY_PAUSE,
                    ..planned(step, false)
                },
            ],
            Some(Sequence::ReplayAfterRefused) => {
                let refused = self.request(chosen, now_ms, &nonce, Variant::WrongSecret)?;
                vec![planned(refused.step, false), planned(step, acceptable)]
            }
            Some(Sequence::ReplayKeyIdCase) => {
                let recased = self.request(chosen, now_ms, &nonce, Variant::KeyIdRecased)?;
                vec![planned(step, acceptable), planned(recased.step, false)]
            }
            Some(Sequence::Concurrent) => vec![Planned {
                copies: 2,
                ..planned(step, acceptable)
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
            chosen: usize::from(sequence == Some(Sequence::ReplayAfterRefused)),
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
            step.raw = Some(super::edits::wire(&step.request, None, true));
        }
        Ok(step)
    }

    /// A fingerprint of what `req` carries besides its signature.
    pub(crate) fn content(&self, req: &Request) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        req.method().as_str().hash(&mut h);
        let uri = req.uri();
        uri.scheme_str().hash(&mut h);
        uri.authority().map(|a| a.as_str()).hash(&mut h);
        uri.path_and_query().map(|p| p.as_str()).hash(&mut h);
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
            key_id: Some(b.deployment.key_id.clone()),
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
            content: self.probe.clone(),
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
                draft.key = self.key_for(&other, &self.b.deployment.secret);
                draft.input.key_id = Some(other);
            }
        }
        let mut recipe = draft.recipe.clone();
        recipe.input = draft.input.clone();
        if draft.signed_as != SignedAs::default() {
            recipe.signed_as = Some(draft.signed_as.clone());
        }
        let mut step = match draft.form {
            // The content is not read again once signed.
            None => self.signed_step(std::mem::take(&mut draft.content), &recipe, &draft.key)?,
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
            step.raw = Some(super::edits::wire(&step.request, draft.name_case, chunked));
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

    /// [`Builder::step_signed_by`], keeping the string the recipe signed
    /// where it is the one a signer writes rather than writing it again.
    fn signed_step(&self, content: Request, recipe: &Recipe, key: &Key) -> Result<Step, String> {
        if !recipe.signs_the_request() {
            return self.b.step_signed_by(&content, recipe, key, Expect::Either);
        }
        let signed = recipe
            .apply_signed(self.b.scheme.as_ref(), content, key)
            .map_err(|e| format!("the request could not be signed: {e}"))?;
        let canonical = String::from_utf8(signed.signed)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Ok(Step::signed(canonical, signed.request, Expect::Either))
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
            Form::Chunked | Form::ChunkChanged | Form::ChunkMisframed(_) => {
                let mut plan = ChunkPlan::new(16);
                match form {
                    Form::ChunkMisframed(ChunkChange::Unchained) => plan.chained = false,
                    Form::ChunkMisframed(ChunkChange::FinalMissing) => plan.final_chunk = false,
                    Form::ChunkMisframed(ChunkChange::DecodedLength) => {
                        plan.decoded_length = Some(draft.content.body().len() as u64 + 1);
                    }
                    _ => {}
                }
                let mut upload = b
                    .scheme
                    .chunked(&draft.content, &recipe.input, &plan, &draft.key)
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
                if form == Form::ChunkMisframed(ChunkChange::SignatureChanged) {
                    // The first chunk's signature's last digit, another.
                    let mut body = upload.body().to_vec();
                    let line = body
                        .windows(2)
                        .position(|w| w == b"\r\n")
                        .ok_or("no chunk")?;
                    body[line - 1] = if body[line - 1] == b'0' { b'1' } else { b'0' };
                    *upload.body_mut() = Bytes::from(body);
                }
                upload
            }
            Form::OtherScope(part) => {
                let value = match part {
                    ScopeChange::Service => crate::scope::OTHER_SERVICE.to_owned(),
                    ScopeChange::Terminator => crate::scope::OTHER_TERMINATOR.to_owned(),
                    ScopeChange::Date => crate::scope::day_before(b, draft.timestamp),
                };
                let scope =
                    crate::scope::scope_with(b, &recipe.input.timestamp, part.index(), &value);
                let elsewhere = Recipe {
                    input: SignInput {
                        scope: Some(scope),
                        ..recipe.input.clone()
                    },
                    ..recipe.clone()
                };
                elsewhere
                    .apply(b.scheme.as_ref(), &draft.content, &draft.key)
                    .map_err(|e| e.to_string())?
            }
            Form::OtherRegion => {
                let elsewhere =
                    crate::scope::other_region(b).ok_or("the scheme names no region")?;
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
    pub(super) fn wrong_key(&self, draft: &Draft) -> Key {
        let id = draft.input.key_id.as_deref().unwrap_or_default();
        self.key_for(id, &self.wrong_secret)
    }

    /// [`Builder::key_for`], made once for the first few ids and secrets.
    pub(super) fn key_for(&self, id: &str, secret: &Secret) -> Key {
        let kept = self.keys.borrow();
        if let Some((_, _, key)) = kept.iter().find(|(i, s, _)| i == id && s == secret) {
            return key.clone();
        }
        let full = kept.len() >= KEPT_KEYS;
        drop(kept);
        let key = self.b.key_for(id, secret);
        if !full {
            let kept = (id.to_owned(), secret.clone(), key.clone());
            self.keys.borrow_mut().push(kept);
        }
        key
    }
}

/// The families of `ops` in the order first met, each with its weight and
/// its operators, `sign-after` left out (it is drawn apart).
fn families(ops: &[Operator]) -> Vec<(Family, u32, Vec<usize>)> {
    let mut families: Vec<(Family, u32, Vec<usize>)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if matches!(op.action, Action::SignAfter) {
            continue;
        }
        match families.iter_mut().find(|(f, _, _)| *f == op.family) {
            Some((_, _, members)) => members.push(i),
            None => families.push((op.family, op.family.weight(), vec![i])),
        }
    }
    families
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
pub(super) struct Draft {
    /// What is signed (under `sign-after`, the changed content).
    pub(super) content: Request,
    pub(super) input: SignInput,
    pub(super) key: Key,
    pub(super) signed_as: SignedAs,
    pub(super) recipe: Recipe,
    /// The operators that changed something.
    pub(super) applied: Vec<Chosen>,
    /// Whether every change so far is one a signer makes.
    pub(super) acceptable: bool,
    /// Header names written in other case (raw TCP), with this seed.
    pub(super) name_case: Option<u64>,
    /// A body that replaces the signed one after signing.
    pub(super) body_after: Option<Bytes>,
    /// Another form of signed request, by the operator that asks for it.
    pub(super) form: Option<(Form, Chosen)>,
    /// The timestamp's value, in the scheme's unit.
    pub(super) timestamp: u64,
    pub(super) now_ms: u64,
}

impl Draft {
    pub(super) fn applied(&mut self, c: Chosen) {
        self.applied.push(c);
    }
}
