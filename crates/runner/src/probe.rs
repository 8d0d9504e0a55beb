//! What a probe is, and the [`Builder`] every category file builds its
//! probes with: the runner's key, the target's clock, fresh nonces, and the
//! requests every probe starts from.
//!
//! A probe is one or more [`Step`]s, each a concrete request (signed by a
//! [`Recipe`], as the vectors are) and what the target is expected to do
//! with it. Probes are built before anything is sent; the steps of one
//! probe are sent in order.

use bytes::Bytes;

use super::base::{self, Bodies, Body, FORM, JSON, RUNNER_FORM};
use super::transport::Target;
use crate::deployment::{Deployment, ExtraHeader, RunOptions};
use crate::error::RunError;
use crate::rules::Cited;
use crate::verdict::Category;
use sigconform_core::keys::{Key, Secret};
use sigconform_core::request::Request;
use sigconform_core::scheme::{Absent, Delivery, Field, Location, Scheme, SignInput};
use sigconform_core::tamper::{Absence, Recipe, SignedAs};
use sigconform_core::time::TimeUnit;
use sigconform_defects::Defect;

/// What a server is expected to do with a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    Accept,
    Reject,
    /// Rejecting is right; accepting is a documented weakness.
    RejectOrWarn,
    /// The scheme does not sign what the case changed: rejecting is
    /// stricter than it asks, accepting is what it allows (`info`).
    RejectOrInfo,
    /// Either is conformant; accepting is reported as info.
    Either,
    /// Authenticated but not entitled: 403. Another 4xx rejects too, but
    /// reads as if the key were unknown or the signature wrong (`warn`).
    Forbidden,
    /// A correctly signed request of a shape the target need not take: a
    /// 2xx takes it, a refusal says the route does not (`skip`), a 5xx
    /// fails.
    Optional,
}

impl Expect {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Expect::Accept => "2xx (accepted)",
            Expect::Reject => "4xx (rejected)",
            Expect::RejectOrWarn => "4xx (the scheme does not cover this, so 2xx is its weakness)",
            Expect::RejectOrInfo => "4xx or 2xx (the scheme does not sign this)",
            Expect::Either => "2xx or 4xx",
            Expect::Forbidden => "403 (authenticated, but not entitled)",
            Expect::Optional => "2xx (taken), or a refusal (a shape the route does not take)",
        }
    }
}

/// One request of a probe, and what the runner signed for it.
#[derive(Debug, Clone)]
pub(super) struct Step {
    /// Sent this many times at the same moment (concurrent replay).
    pub(super) copies: usize,
    /// Sent as these bytes over a raw TCP connection instead (what an HTTP
    /// client refuses to send: odd header-name case, non-UTF-8 bytes).
    pub(super) raw: Option<Vec<u8>>,
    pub(super) request: Request,
    pub(super) canonical: String,
    pub(super) expect: Expect,
    /// For the acceptance of a method the user did not name: the same
    /// request unsigned. When the target answers 405, or 404 to both, it
    /// does not route the method, and the case is `skip`.
    pub(super) unrouted_control: Option<Request>,
    /// Sent only after this pause (a replay after a while).
    pub(super) pause: std::time::Duration,
    /// Sent not before this instant (a replay near the end of the window).
    pub(super) not_before: Option<tokio::time::Instant>,
    /// Signed again when it is sent, at a timestamp this far from the
    /// target's clock then (a case at the window's limit must not drift
    /// across it while it waits for its turn or for a rate limit).
    pub(super) resign: Option<std::sync::Arc<Resign>>,
    /// Where the target keeps what the step writes: read back after it
    /// (and before it), and what it must then hold.
    pub(super) read_back: Option<ReadBack>,
}

/// The string a signer of `scheme` signs for `req` with `input`: the
/// request as the signer prepares it (RFC 9421's Content-Digest, Twilio's
/// body hash in the query are added first); empty where it cannot be made.
fn canonical_for(scheme: &dyn Scheme, req: &Request, input: &SignInput) -> String {
    let mut prepared = req.clone();
    scheme.prepare(&mut prepared, req.body());
    let mut out = Vec::new();
    if let Ok(params) = scheme.signing_params(&prepared, input) {
        let _ = scheme.canonicalize(&prepared, &params, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The string `scheme` signs for `signed`, as a verifier reads it; empty
/// where it does not parse.
fn canonical_of(scheme: &dyn Scheme, signed: &Request) -> String {
    let mut out = Vec::new();
    if let Ok(params) = scheme.parse(signed) {
        let _ = scheme.canonicalize(signed, &params, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Step {
    /// A step of a request signed elsewhere, with the string it signed.
    pub(super) fn signed(canonical: String, request: Request, expect: Expect) -> Step {
        Step {
            copies: 1,
            raw: None,
            request,
            canonical,
            expect,
            unrouted_control: None,
            pause: std::time::Duration::ZERO,
            not_before: None,
            resign: None,
            read_back: None,
        }
    }
}

/// What signs a step again when it is sent.
pub(super) struct Resign {
    scheme: std::sync::Arc<dyn Scheme>,
    key: Key,
    recipe: Recipe,
    request: Request,
    /// The timestamp minus the target's "now", in the scheme's unit.
    offset: i64,
    unit: TimeUnit,
    /// Signed as a presigned URL valid this many seconds, rather than in
    /// headers.
    presigned_for: Option<u64>,
}

impl std::fmt::Debug for Resign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resign")
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

impl Resign {
    /// `request` signed by the runner's key with `recipe`'s input at the
    /// target's clock when it is sent (a read-back request).
    pub(super) fn now(b: &Builder<'_>, request: Request) -> Resign {
        Resign {
            scheme: b.scheme.clone(),
            key: b.key.clone(),
            recipe: b.recipe(b.now),
            request,
            offset: 0,
            unit: b.unit,
            presigned_for: None,
        }
    }

    /// The request signed at the target's `now_ms` plus the offset, and
    /// the canonical string signed. A second `attempt` (after an answer
    /// too late to judge) carries a nonce of its own: the first may have
    /// been recorded.
    pub(super) fn at(&self, now_ms: u64, attempt: u32) -> Result<(Request, String), String> {
        let timestamp = self.unit.from_ms(now_ms).saturating_add_signed(self.offset);
        let nonce = match (&self.recipe.input.nonce, attempt) {
            (Some(nonce), 1..) => Some(format!("{nonce}-{attempt}")),
            (nonce, _) => nonce.clone(),
        };
        let input = SignInput {
            timestamp: self.scheme.timestamp_text(timestamp),
            nonce,
            ..self.recipe.input.clone()
        };
        let recipe = Recipe {
            input: input.clone(),
            ..self.recipe.clone()
        };
        if let Some(expires) = self.presigned_for {
            let request = self
                .scheme
                .presign(&self.request, &input, expires, &self.key)
                .ok_or("the scheme has no presigned form")?
                .map_err(|e| e.to_string())?;
            let canonical = canonical_of(self.scheme.as_ref(), &request);
            return Ok((request, canonical));
        }
        let request = recipe
            .apply(self.scheme.as_ref(), &self.request, &self.key)
            .map_err(|e| e.to_string())?;
        let canonical = canonical_for(self.scheme.as_ref(), &self.request, &input);
        Ok((request, canonical))
    }
}

/// A catalog entry.
#[derive(Debug, Clone)]
pub(super) struct Probe {
    pub(super) id: String,
    pub(super) category: Category,
    pub(super) description: String,
    /// What it sends.
    pub(super) sends: Sends,
    /// Why the case cannot apply to this target (reported as `skip`).
    pub(super) skip: Option<String>,
    /// The rule it checks (`docs/rules/`).
    pub(super) rule: Cited,
    /// For a negative case: the deliberate defect that ignores exactly the
    /// property the case changes (a server with it must accept the case,
    /// or the case changes more than that property), or why there is none.
    pub(super) control: Result<Defect, &'static str>,
    /// The correctly signed request of the same shape whose acceptance in
    /// the same run makes this case's refusals evidence.
    pub(super) twin: Twin,
}

/// A read of what a step writes: the request, signed when it is sent, and
/// what it must find.
#[derive(Debug, Clone)]
pub(crate) struct ReadBack {
    pub(crate) request: std::sync::Arc<Resign>,
    pub(crate) kept: Kept,
    pub(crate) rule: Cited,
    /// The most of the resource it reads: more than the largest body the
    /// runner sends (`--max-body`).
    pub(crate) limit: usize,
}

/// What a read-back must find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kept {
    /// After the step was accepted: exactly these bytes, the payload signed.
    Payload(Bytes),
    /// After the step was refused: what was read before it.
    Unchanged,
}

/// What a case sends.
#[derive(Debug, Clone)]
pub(super) enum Sends {
    /// Requests built before anything is sent, in order, each judged by
    /// what it expects; or why one of them could not be built (the case is
    /// then reported as `error`, not left out of the report).
    Steps(Result<Vec<Step>, String>),
    /// Steps that depend on the target's answers to the ones before, or
    /// that need the target to themselves: built as they go, after the
    /// other cases.
    Sequence(Sequence),
}

/// The cases whose steps carry state from one to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sequence {
    /// Whether the target still answers a correctly signed request after
    /// each category's refusals: its steps run between the categories.
    KeepsAnswering,
    /// The key lifecycle through the target's admin API: keys created,
    /// rotated and revoked in turn, then every key created revoked. One
    /// pass answers each of its cases.
    Lifecycle,
    /// Response times against how much of the tag is right, with the
    /// target to itself.
    Timing,
    /// One request to every instance of the deployment: accepted by the
    /// first, refused by the others.
    CrossInstance,
}

/// The correctly signed twin of a case: a refusal proves that the target
/// noticed what the case changed only where the target accepted the same
/// request unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Twin {
    /// The runner's base request (what most cases change one property of).
    Base,
    /// The case with this id (its acceptance case: a DELETE's, a presigned
    /// URL's, a chunked upload's).
    Case(String),
    /// The case with this id, the twin of a shape the target need not
    /// take: where it was not accepted, the shape does not apply (`skip`).
    Shape(String),
}

impl Probe {
    /// The rule the case checks, found with [`Builder::cite`].
    pub(super) fn rule(mut self, rule: Cited) -> Probe {
        self.rule = rule;
        self
    }

    /// The defect that ignores exactly what the case changes.
    pub(super) fn control(mut self, defect: Defect) -> Probe {
        self.control = Ok(defect);
        self
    }

    /// Why no defect ignores exactly what the case changes.
    pub(super) fn no_control(mut self, why: &'static str) -> Probe {
        self.control = Err(why);
        self
    }

    /// The case whose acceptance makes this one's refusals evidence, where
    /// it is not the base request: `SCHEME/CATEGORY/NAME`.
    pub(super) fn twin(mut self, id: String) -> Probe {
        self.twin = Twin::Case(id);
        self
    }

    /// The requests it sends, where they are built before anything is
    /// sent and could be.
    pub(super) fn steps(&self) -> Option<&[Step]> {
        match &self.sends {
            Sends::Steps(Ok(steps)) => Some(steps),
            _ => None,
        }
    }

    /// The same, to change.
    pub(super) fn steps_mut(&mut self) -> Option<&mut Vec<Step>> {
        match &mut self.sends {
            Sends::Steps(Ok(steps)) => Some(steps),
            _ => None,
        }
    }

    /// The sequence it runs, if it is one.
    pub(super) fn sequence(&self) -> Option<Sequence> {
        match self.sends {
            Sends::Sequence(sequence) => Some(sequence),
            Sends::Steps(_) => None,
        }
    }

    /// Whether every step expects acceptance (the runner sends such cases
    /// first: they are the twins of the others).
    pub(super) fn expects_acceptance(&self) -> bool {
        self.steps().is_some_and(|steps| {
            steps
                .iter()
                .all(|s| matches!(s.expect, Expect::Accept | Expect::Optional) && s.copies == 1)
        })
    }

    /// Whether a step waits before it is sent (a pause, or an instant).
    pub(super) fn waits(&self) -> bool {
        self.steps().is_some_and(|steps| {
            steps
                .iter()
                .any(|s| !s.pause.is_zero() || s.not_before.is_some())
        })
    }

    /// Whether the case expects a rejection (of some step).
    pub(super) fn is_negative(&self) -> bool {
        self.steps().is_some_and(|steps| {
            steps.iter().any(|s| {
                s.copies > 1
                    || matches!(
                        s.expect,
                        Expect::Reject
                            | Expect::RejectOrWarn
                            | Expect::RejectOrInfo
                            | Expect::Forbidden
                    )
            })
        })
    }
}

/// Why a robustness case has no control: it checks the answer, not that a
/// property is ignored.
pub(super) const ROBUSTNESS: &str = "a robustness case: it checks that the answer is a 4xx, not a 5xx or a hang; no verifier accepts this input by ignoring one property of it";

/// Whether changing the request with `change` changes the canonical string
/// `scheme` signs: the runner's way of learning what a scheme covers.
pub fn covers(
    scheme: &dyn Scheme,
    req: &Request,
    input: &SignInput,
    change: impl Fn(&mut Request),
) -> bool {
    let canonical = |r: &Request| {
        let mut out = Vec::new();
        scheme
            .signing_params(r, input)
            .ok()
            .and_then(|p| scheme.canonicalize(r, &p, &mut out).ok())
            .map(|()| out)
    };
    // Each as a signer builds it: with what the scheme adds to a request
    // (Twilio's body hash in the URL, which follows a changed body).
    let prepared = |r: &Request| {
        let mut r = r.clone();
        let body = r.body().clone();
        scheme.prepare(&mut r, &body);
        r
    };
    let mut changed = req.clone();
    change(&mut changed);
    canonical(&prepared(req)) != canonical(&prepared(&changed))
}

/// A random number from the OS-seeded hasher keys (no extra dependency;
/// it has to differ between runs and be unguessable to other local users,
/// not to be a cryptographic key).
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(sigconform_core::time::Clock::now_ms(
        &sigconform_core::time::SystemClock,
    ));
    h.finish()
}

/// The path (and query) of the runner's requests.
pub(super) const PROBE_PATH: &str = "/sigconform/probe?page=1";

/// Everything the category files need to build probes for one run.
pub(super) struct Builder<'a> {
    /// What is probed.
    pub(super) deployment: &'a Deployment,
    /// How the run goes.
    pub(super) options: &'a RunOptions,
    /// Which of the deployment's instances the probes go to (its first is
    /// 0).
    pub(super) instance: usize,
    /// Where the probes go; its authority is the `Host` they carry (signed
    /// by `authorization`).
    target: Target,
    /// Every probe goes to exactly the target's path (one route), rather
    /// than below it.
    pub(super) fixed_route: bool,
    pub(super) scheme: std::sync::Arc<dyn Scheme>,
    pub(super) key: Key,
    wrong_key: Key,
    /// The target's "now", in the scheme's unit.
    pub(super) now: u64,
    pub(super) unit: TimeUnit,
    /// Distance of boundary probes from the limits, in `unit`.
    pub(super) margin: u64,
    /// Random per run, so nonces never collide with an earlier run's.
    pub(super) run_id: u64,
    /// When the catalog was built, at the target's "now".
    pub(super) built: tokio::time::Instant,
    counter: std::cell::Cell<u32>,
    /// Whether the scheme signs only JSON, found out once (two categories ask).
    json_only: std::cell::OnceCell<bool>,
    /// Whether the scheme signs a form's parameters: the runner's requests
    /// then carry a form, as the provider's do.
    form: bool,
    /// See [`Builder::probe_method`].
    probe_method: String,
    /// The bodies the runner may send, and what the target was found to
    /// take (see [`Builder::with_bodies`]).
    bodies: Bodies,
    /// The body every negative case starts from (the bodies' base).
    base: Body,
    /// Whether the runner's requests carry a query of their own: not on a
    /// fixed route (which may match the URL exactly), unless the scheme
    /// signs the query or the user asks (`--with-query`).
    query: bool,
}

impl<'a> Builder<'a> {
    pub(super) fn new(
        deployment: &'a Deployment,
        options: &'a RunOptions,
        target: &Target,
        now_ms: u64,
        margin_ms: u64,
    ) -> Result<Self, RunError> {
        let scheme: std::sync::Arc<dyn Scheme> =
            deployment.scheme.build(&deployment.scheme_config)?.into();
        let key = scheme.key(&deployment.key_id, &deployment.secret)?;
        let unit = scheme.window().unit;
        let delivery = scheme.delivery();
        let endpoint = matches!(delivery, Delivery::Endpoint { .. });
        let probe_method = match delivery {
            Delivery::Endpoint { methods } if !methods.iter().any(|m| m == "POST") => {
                methods.into_iter().next().unwrap_or_else(|| "POST".into())
            }
            _ => "POST".into(),
        };
        Ok(Builder {
            deployment,
            options,
            instance: 0,
            target: target.clone(),
            fixed_route: deployment.fixed_route.unwrap_or(endpoint),
            scheme,
            key,
            wrong_key: Key::new(
                "wrong",
                &Secret::new(format!("{}-wrong", deployment.secret.expose())),
            ),
            now: unit.from_ms(now_ms),
            unit,
            margin: unit.from_ms(margin_ms).max(1),
            run_id: random_u64(),
            built: tokio::time::Instant::now(),
            counter: std::cell::Cell::new(0),
            json_only: std::cell::OnceCell::new(),
            form: false,
            probe_method,
            bodies: Bodies::new(vec![Body::runner_json()]),
            base: Body::runner_json(),
            query: true,
        })
        .map(|mut b| {
            b.form = b.finds_form_signed();
            if b.form {
                b.base = Body::new(RUNNER_FORM, FORM);
            }
            b.query = !b.fixed_route || deployment.with_query || b.signs_query();
            b.bodies = Bodies::new(base::candidates(
                deployment.body.as_ref(),
                b.scheme.sender().sample_body.as_deref(),
                &b.media_types(),
            ));
            b.base = b.bodies.base().clone();
            b
        })
    }

    /// The builder for the deployment's instance `instance` (0 is the
    /// first).
    pub(super) fn for_instance(mut self, instance: usize) -> Self {
        self.instance = instance;
        self
    }

    /// The builder with `bodies` as learned: their base is the body every
    /// negative case starts from.
    pub(super) fn with_bodies(mut self, bodies: Bodies) -> Self {
        self.base = bodies.base().clone();
        self.bodies = bodies;
        self
    }

    /// The bodies the runner tries as its base, in order.
    pub(super) fn candidates(&self) -> &[Body] {
        self.bodies.candidates()
    }

    /// The bodies of this run.
    pub(super) fn bodies(&self) -> &Bodies {
        &self.bodies
    }

    /// The body negative cases start from.
    pub(super) fn base_body(&self) -> &Body {
        &self.base
    }

    /// The media types the runner's bodies are sent as: its provider's
    /// (a profile's `sender`), else a form where the scheme signs a form's
    /// parameters, else JSON.
    fn media_types(&self) -> Vec<String> {
        let sent = self.scheme.sender().media_types;
        if !sent.is_empty() {
            return sent;
        }
        vec![if self.form { FORM } else { JSON }.to_owned()]
    }

    /// Whether the scheme signs the query of the runner's requests.
    fn signs_query(&self) -> bool {
        let with_query = |query: &str| {
            self.request_to(
                &self.probe_method,
                &self.target.place(query, false),
                self.base.bytes(),
            )
        };
        let req = with_query("/sigconform/probe?page=1");
        covers(self.scheme.as_ref(), &req, &self.input(self.now), |r| {
            *r = with_query("/sigconform/probe?page=2")
        })
    }

    /// Whether the runner's requests carry a query of their own (see
    /// [`Builder::query`]).
    pub(super) fn sends_query(&self) -> bool {
        self.query
    }

    /// A step of the runner's POST at `offset` from the target's "now" (in
    /// the scheme's unit), signed again when it is sent.
    pub(super) fn step_at_offset(&self, offset: i64, expect: Expect) -> Result<Step, String> {
        let post = self.probe_request();
        let recipe = self.recipe(self.now.saturating_add_signed(offset));
        let mut step = self.step(&post, &recipe, expect)?;
        step.resign = Some(std::sync::Arc::new(Resign {
            scheme: self.scheme.clone(),
            key: self.key.clone(),
            recipe,
            request: post,
            offset,
            unit: self.unit,
            presigned_for: None,
        }));
        Ok(step)
    }

    /// A step of the runner's probe request as a presigned URL valid
    /// `expires` seconds, dated `offset` from the target's "now", signed
    /// again when it is sent; `None` for a scheme without presigned URLs.
    pub(super) fn presigned_at_offset(
        &self,
        offset: i64,
        expires: u64,
        expect: Expect,
    ) -> Option<Result<Step, String>> {
        let req = self.probe_request();
        let recipe = self.recipe(self.now.saturating_add_signed(offset));
        let resign = Resign {
            scheme: self.scheme.clone(),
            key: self.key.clone(),
            recipe,
            request: req,
            offset,
            unit: self.unit,
            presigned_for: Some(expires),
        };
        let signed =
            match self
                .scheme
                .presign(&resign.request, &resign.recipe.input, expires, &self.key)?
            {
                Ok(signed) => signed,
                Err(e) => return Some(Err(format!("the request could not be signed: {e}"))),
            };
        Some(Ok(Step {
            copies: 1,
            raw: None,
            canonical: self.canonical_of(&signed),
            request: signed,
            expect,
            unrouted_control: None,
            pause: std::time::Duration::ZERO,
            not_before: None,
            resign: Some(std::sync::Arc::new(resign)),
            read_back: None,
        }))
    }

    /// The key `secret` makes for the scheme (as the target makes it: a
    /// profile may decode its secrets), or its UTF-8 bytes where it does
    /// not decode.
    /// Whether the reference, configured as the target is, accepts the
    /// signature of `req` at the run's "now": a change it accepts breaks
    /// no rule, whatever the runner's own signatures cover (a body an RFC
    /// 9421 target was not told to require covered, signed as if absent).
    pub(super) fn reference_accepts(&self, req: &Request) -> bool {
        let Ok(params) = self.scheme.parse(req) else {
            return false;
        };
        if params
            .key_id
            .as_deref()
            .is_some_and(|id| id != self.key.id())
        {
            return false;
        }
        self.scheme
            .check_time(&params, self.unit.to_ms(self.now))
            .is_ok()
            && self.scheme.verify(req, &params, &self.key).is_ok()
    }

    pub(super) fn key_for(&self, id: &str, secret: &Secret) -> Key {
        self.scheme
            .key(id, secret)
            .unwrap_or_else(|_| Key::new(id, secret))
    }

    /// A well-formed tag that is not the right one: zeros, of the length
    /// and encoding the scheme's tags have.
    pub(super) fn wrong_tag(&self) -> String {
        let post = self.probe_request();
        let len = self
            .scheme
            .signing_params(&post, &self.input(self.now))
            .map_or(32, |p| p.algorithm.tag_len());
        self.scheme.tag_encoding().encode(&vec![0; len])
    }

    /// Whether the scheme carries key ids (the lifecycle cases need them).
    pub(super) fn has_key_ids(&self) -> bool {
        let post = self.probe_request();
        self.scheme
            .signing_params(&post, &self.input(self.now))
            .is_ok_and(|p| p.key_id.is_some())
    }

    /// Whether the scheme carries a nonce in its signatures.
    pub(super) fn has_nonce(&self) -> bool {
        let post = self.probe_request();
        self.scheme
            .signing_params(&post, &self.input(self.now))
            .is_ok_and(|p| p.nonce.is_some())
    }

    /// A nonce no earlier request of this run (or of another run) used.
    pub(super) fn nonce(&self) -> String {
        self.counter.set(self.counter.get() + 1);
        format!("sc-{}-{}", self.run_id, self.counter.get())
    }

    /// The headers (RFC 9421: the components) a signer lists by default
    /// when it signs `req` with `input`, serialized, for the request as the
    /// signer prepares it (with RFC 9421's `Content-Digest`); `None` where
    /// the scheme cannot sign it so.
    pub(super) fn default_signed_headers(
        &self,
        req: &Request,
        input: &SignInput,
    ) -> Option<Vec<String>> {
        let mut prepared = req.clone();
        self.scheme.prepare(&mut prepared, req.body());
        let params = self.scheme.signing_params(&prepared, input).ok()?;
        Some(
            params
                .signed_headers
                .iter()
                .map(|h| h.to_string())
                .collect(),
        )
    }

    /// The runner's signing input at `timestamp`, with a fresh nonce where
    /// the scheme carries one (RFC 9421's is optional: written where the
    /// target's policy requires it).
    pub(super) fn input(&self, timestamp: u64) -> SignInput {
        SignInput {
            key_id: Some(self.deployment.key_id.clone()),
            timestamp: self.scheme.timestamp_text(timestamp),
            nonce: self
                .scheme
                .location(&Field::Nonce)
                .is_some()
                .then(|| self.nonce()),
            ..SignInput::default()
        }
    }

    /// A plain recipe: the runner's input at `timestamp`, nothing changed.
    pub(super) fn recipe(&self, timestamp: u64) -> Recipe {
        Recipe {
            input: self.input(timestamp),
            ..Recipe::default()
        }
    }

    /// The method of the request most probes change one property of: POST,
    /// unless the target's senders never POST (an S3 object takes a PUT):
    /// then their first method.
    pub(super) fn probe_method(&self) -> &str {
        &self.probe_method
    }

    /// Whether an accepted probe writes a resource the next probe finds
    /// there (an S3 object, which every accepted PUT replaces).
    pub(super) fn writes_a_resource(&self) -> bool {
        self.probe_method == "PUT"
    }

    /// Whether the target keeps what it accepts where the runner can read
    /// it back: an S3 object, or the path the user named (`--read-back`).
    /// Its probes then run one at a time, so that what one finds is not
    /// another's write.
    pub(super) fn keeps_what_it_is_sent(&self) -> bool {
        self.writes_a_resource() || self.deployment.read_back.is_some()
    }

    /// The string the scheme signs for a request signed elsewhere (a
    /// chunked upload), as a verifier reads it; empty where it does not parse.
    pub(super) fn canonical_of(&self, signed: &Request) -> String {
        canonical_of(self.scheme.as_ref(), signed)
    }

    /// Whether the scheme writes its timestamps as decimal numbers (all but
    /// SigV4, whose `X-Amz-Date` has cases of its own): the cases of number
    /// syntax, units and signed absences apply.
    pub(super) fn decimal_timestamps(&self) -> bool {
        self.scheme.timestamp_text(1) == "1"
    }

    /// The runner's request most probes change one property of: its
    /// [`probe_method`](Self::probe_method) with the runner's body.
    pub(super) fn probe_request(&self) -> Request {
        self.base(self.probe_method(), true)
    }

    /// A request of `method` to the runner's path, with the base body or
    /// none.
    pub(super) fn base(&self, method: &str, with_body: bool) -> Request {
        let body = if with_body {
            self.base.bytes()
        } else {
            Bytes::new()
        };
        self.base_at(method, PROBE_PATH, body)
    }

    /// The runner's probe request with `body` in place of the base body.
    pub(super) fn request_with_body(&self, body: &Body) -> Request {
        self.request_as(
            self.probe_method(),
            &self.path(PROBE_PATH),
            body.bytes(),
            &body.media_type,
        )
    }

    /// The runner's probe request with its body in chunks
    /// (`Transfer-Encoding: chunked`, no `Content-Length`): sent as
    /// [`raw_chunked`](super::transport::raw_chunked) writes it, and signed
    /// over the decoded bytes.
    pub(super) fn chunked_request(&self) -> Request {
        let mut req = self.probe_request();
        req.headers_mut().remove(http::header::CONTENT_LENGTH);
        req.headers_mut().insert(
            http::header::TRANSFER_ENCODING,
            http::HeaderValue::from_static("chunked"),
        );
        req
    }

    /// The runner's probe request varied by `n`: its body (a member or
    /// field `attempt`) and, where its requests carry a query, its query;
    /// so that a signature over it differs from one over the request
    /// itself, where the scheme signs either.
    pub(super) fn attempt(&self, n: u64) -> Request {
        let body = self
            .base
            .attempt(n)
            .unwrap_or_else(|| self.base.text.clone());
        let path = if self.query {
            format!("{PROBE_PATH}&attempt={n}")
        } else {
            PROBE_PATH.to_owned()
        };
        self.base_at(self.probe_method(), &path, Bytes::from(body))
    }

    /// A request of `method` with the body acceptance cases send (see
    /// [`Bodies::acceptance`]), or none.
    pub(super) fn first_choice(&self, method: &str, with_body: bool) -> Request {
        let first = self.bodies.acceptance();
        let body = if with_body {
            first.bytes()
        } else {
            Bytes::new()
        };
        self.request_as(method, &self.path(PROBE_PATH), body, &first.media_type)
    }

    /// A request of `method` with `variation` (a JSON body) inside the
    /// runner's first JSON body (see [`Body::enveloping`]); as it is, in
    /// the acceptance body's media type, where its provider sends no JSON.
    pub(super) fn first_choice_at(&self, method: &str, variation: &str) -> Request {
        let (body, media_type) = match self.bodies.json() {
            Some(json) if !variation.is_empty() => (
                json.enveloping(variation)
                    .unwrap_or_else(|| variation.to_owned()),
                json.media_type.clone(),
            ),
            _ => (
                variation.to_owned(),
                self.bodies.acceptance().media_type.clone(),
            ),
        };
        self.request_as(
            method,
            &self.path(PROBE_PATH),
            Bytes::from(body),
            &media_type,
        )
    }

    /// `probe`, an acceptance case that sends a JSON variation, `skip`
    /// where the target took another media type its provider also sends
    /// and refused JSON (a route for Slack's commands takes forms).
    pub(super) fn json_case(&self, mut probe: Probe) -> Probe {
        if probe.skip.is_none()
            && let Some(json) = self.bodies.json()
        {
            probe.skip = self.bodies.not_taken(&json.media_type);
        }
        probe
    }

    /// Why a case that needs a query of the runner's own does not apply,
    /// where the runner's requests carry none.
    pub(super) fn no_query_reason(&self) -> Option<String> {
        (!self.query).then(|| {
            "a fixed route probed without a query of the runner's (the scheme does not sign the query; --with-query adds one)".to_owned()
        })
    }

    /// Where a probe for the runner's own `path_and_query` goes on the
    /// target (see [`Target::place`]): without the probe's query where the
    /// runner's requests carry none.
    pub(super) fn path(&self, path_and_query: &str) -> String {
        let path_and_query = if self.query {
            path_and_query
        } else {
            path_and_query
                .split_once('?')
                .map_or(path_and_query, |(path, _)| path)
        };
        self.target.place(path_and_query, self.fixed_route)
    }

    /// A request to the runner's own `path_and_query` with `body`, placed
    /// on the target.
    pub(super) fn base_at(&self, method: &str, path_and_query: &str, body: Bytes) -> Request {
        self.request_to(method, &self.path(path_and_query), body)
    }

    /// A request to exactly `path_and_query` with `body`. Every header the
    /// client will send is set here, so that what the runner signs is what
    /// the server sees (hyper would add these), and the run's own headers
    /// (`--header`) come with every request.
    pub(super) fn request_to(&self, method: &str, path_and_query: &str, body: Bytes) -> Request {
        self.request_as(method, path_and_query, body, &self.base.media_type)
    }

    /// [`Builder::request_to`] with a body of `media_type`. The headers the
    /// provider's senders always send (a profile's `sender.headers`) come
    /// too, unless the run names them itself.
    pub(super) fn request_as(
        &self,
        method: &str,
        path_and_query: &str,
        body: Bytes,
        media_type: &str,
    ) -> Request {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(path_and_query)
            .header("host", self.target.authority())
            .header("content-type", media_type);
        // An empty POST or PUT says `content-length: 0`, as browsers send it
        // (some servers answer 411 without one); hyper adds no such header.
        if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
            builder = builder.header("content-length", body.len());
        }
        for extra in &self.options.extra_headers {
            builder = builder.header(&extra.name, extra.value.expose());
        }
        for (name, value) in &self.scheme.sender().headers {
            let named = |h: &ExtraHeader| h.name.as_str().eq_ignore_ascii_case(name);
            if !self.options.extra_headers.iter().any(named) {
                builder = builder.header(name, value);
            }
        }
        builder.body(body).expect("the runner's requests are valid")
    }

    /// The methods the acceptance cases use: `--methods`, else the
    /// scheme's (an endpoint's senders' methods; GET, POST, PUT and DELETE
    /// for an API).
    pub(super) fn methods(&self) -> Vec<String> {
        if !self.deployment.methods.is_empty() {
            return self
                .deployment
                .methods
                .iter()
                .map(|m| m.to_string())
                .collect();
        }
        match self.scheme.delivery() {
            Delivery::Endpoint { methods } => methods,
            Delivery::Api => ["GET", "POST", "PUT", "PATCH", "DELETE"]
                .map(str::to_owned)
                .to_vec(),
        }
    }

    /// Whether the scheme signs only JSON bodies (canonicalising them):
    /// it refuses to sign a form body.
    pub(super) fn signs_json_only(&self) -> bool {
        *self.json_only.get_or_init(|| {
            self.scheme
                .sign(&self.form_post(), &self.input(self.now), &self.key)
                .is_err()
        })
    }

    /// Whether the scheme signs the body: changing the base request's body
    /// changes what is signed.
    pub(super) fn signs_body(&self) -> bool {
        let req = self.probe_request();
        covers(self.scheme.as_ref(), &req, &self.input(self.now), |r| {
            set_body(r, &self.other_body())
        })
    }

    /// Whether the scheme signs a form body's parameters (Twilio).
    pub(super) fn signs_form(&self) -> bool {
        self.form
    }

    /// The body of the runner's requests: the base body (see
    /// [`Builder::base_body`]).
    pub(super) fn probe_body(&self) -> &str {
        &self.base.text
    }

    /// What tamper cases send instead of [`Self::probe_body`].
    pub(super) fn other_body(&self) -> String {
        self.base.changed()
    }

    /// Whether a form body's parameters are signed, sorted: reordering them
    /// changes nothing signed, changing a value does.
    fn finds_form_signed(&self) -> bool {
        let form = self.form_post();
        let input = self.input(self.now);
        !covers(self.scheme.as_ref(), &form, &input, |r| {
            set_body(r, "action=create&userId=1")
        }) && covers(self.scheme.as_ref(), &form, &input, |r| {
            set_body(r, "userId=2&action=create")
        })
    }

    /// The runner's POST with a body that is not JSON: form data.
    pub(super) fn form_post(&self) -> Request {
        let mut form = self.probe_request();
        set_body(&mut form, FORM_BODY);
        form.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        form
    }

    /// Whether the catalog sends `method` in acceptance cases.
    pub(super) fn method_selected(&self, method: &str) -> bool {
        self.methods().iter().any(|m| m == method)
    }

    /// An acceptance step for `req`: when the user did not name its
    /// method, a target that does not route it makes the case `skip`.
    pub(super) fn acceptance_step(&self, req: &Request) -> Result<Step, String> {
        let mut step = self.step(req, &self.recipe(self.now), Expect::Accept)?;
        if self.deployment.methods.is_empty() {
            step.unrouted_control = Some(req.clone());
        }
        Ok(step)
    }

    /// A step signed by the runner's key (or, for a recipe naming
    /// `secret_of`, by a wrong one).
    pub(super) fn step(
        &self,
        req: &Request,
        recipe: &Recipe,
        expect: Expect,
    ) -> Result<Step, String> {
        let key = if recipe.secret_of.is_some() {
            &self.wrong_key
        } else {
            &self.key
        };
        self.step_signed_by(req, recipe, key, expect)
    }

    /// A step signed with `key` (the recipe names its id).
    pub(super) fn step_signed_by(
        &self,
        req: &Request,
        recipe: &Recipe,
        key: &Key,
        expect: Expect,
    ) -> Result<Step, String> {
        let request = recipe
            .apply(self.scheme.as_ref(), req, key)
            .map_err(|e| format!("the request could not be signed: {e}"))?;
        Ok(Step {
            copies: 1,
            raw: None,
            request,
            canonical: canonical_for(self.scheme.as_ref(), req, &recipe.input),
            expect,
            unrouted_control: None,
            pause: std::time::Duration::ZERO,
            not_before: None,
            resign: None,
            read_back: None,
        })
    }

    /// A probe of `category` named `name`: id `SCHEME/CATEGORY/NAME`.
    /// The rule named `name` for the scheme under test (`docs/rules/`):
    /// its id and text. A profile's signed string is quoted as well, from
    /// the profile itself.
    pub(super) fn cite(&self, name: &str) -> Cited {
        Cited::resolve(&self.deployment.scheme, self.scheme.as_ref(), name)
    }

    pub(super) fn probe(
        &self,
        category: Category,
        name: &str,
        description: &str,
        steps: Vec<Result<Step, String>>,
    ) -> Probe {
        Probe {
            id: self.case_id(category, name),
            category,
            description: description.to_owned(),
            sends: Sends::Steps(steps.into_iter().collect()),
            skip: None,
            rule: self.cite(category.rule()),
            control: Err(""),
            twin: Twin::Base,
        }
    }

    /// A case of `category` named `name` that runs `sequence`, checking the
    /// rule named `rule`.
    pub(super) fn sequence(
        &self,
        category: Category,
        name: &str,
        description: &str,
        rule: &str,
        sequence: Sequence,
    ) -> Probe {
        Probe {
            id: self.case_id(category, name),
            category,
            description: description.to_owned(),
            sends: Sends::Sequence(sequence),
            skip: None,
            rule: self.cite(rule),
            control: Err(""),
            twin: Twin::Base,
        }
    }

    /// The id of this scheme's case `name` of `category`.
    pub(super) fn case_id(&self, category: Category, name: &str) -> String {
        format!(
            "{}/{}/{name}",
            self.deployment.scheme,
            format!("{category:?}").to_lowercase()
        )
    }
}

/// A body that is not JSON: form data.
const FORM_BODY: &str = "userId=1&action=create";

/// Replaces the body, keeping `content-length` true.
pub(super) fn set_body(req: &mut Request, body: &str) {
    set_body_bytes(req, Bytes::copy_from_slice(body.as_bytes()));
}

/// Replaces the body with any bytes, keeping `content-length` true.
pub(super) fn set_body_bytes(req: &mut Request, body: Bytes) {
    req.headers_mut()
        .insert(http::header::CONTENT_LENGTH, body.len().into());
    *req.body_mut() = body;
}

/// `key_id` with the case of its ASCII letters swapped, if it has any.
pub(super) fn recased(key_id: &str) -> Option<String> {
    let swapped: String = key_id
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    (swapped != key_id).then_some(swapped)
}

impl Builder<'_> {
    /// The names of the headers the scheme writes when it signs.
    pub(super) fn signature_header_names(&self) -> Vec<String> {
        self.signature_headers()
            .iter()
            .map(|(n, _)| n.as_str().to_owned())
            .collect()
    }

    /// `req` as a signer prepares it (RFC 9421's `Content-Digest`,
    /// Twilio's body hash in the URL) but without a signature: signed,
    /// then stripped of the headers the scheme writes when it signs, so
    /// that only the signature is missing.
    pub(super) fn unsigned(&self, req: &Request, expect: Expect) -> Result<Step, String> {
        let names = self.signature_header_names();
        self.step(req, &self.recipe(self.now), expect)
            .map(|mut step| {
                for name in &names {
                    step.request.headers_mut().remove(name.as_str());
                }
                step.canonical = String::new();
                step
            })
    }

    /// The headers the scheme writes for the runner's POST, with `x` as
    /// the tag (what is there, not what it says).
    pub(super) fn signature_headers(&self) -> Vec<(http::HeaderName, String)> {
        let post = self.probe_request();
        self.scheme
            .signing_params(&post, &self.input(self.now))
            .map(|p| self.scheme.signature_headers(&p, "x"))
            .unwrap_or_default()
    }

    /// The runner's signed POST, sent over raw TCP with header names
    /// written by `header_case` and, with `mangle`, the first signature
    /// header's value replaced by those bytes.
    pub(super) fn raw_step(
        &self,
        expect: Expect,
        header_case: fn(&str) -> String,
        mangle: Option<&[u8]>,
    ) -> Result<Step, String> {
        let names = self.signature_header_names();
        let post = self.probe_request();
        self.step(&post, &self.recipe(self.now), expect)
            .map(|mut step| {
                step.raw = Some(super::transport::raw_request(
                    &step.request,
                    header_case,
                    &names,
                    mangle,
                ));
                step
            })
    }
}

impl Builder<'_> {
    /// Where the scheme carries `field`, if it does.
    pub(super) fn location(&self, field: &Field) -> Option<Location> {
        self.scheme.location(field)
    }

    /// The signature header, where it is a list of `name="value"`
    /// parameters (`Authorization: Signature …`).
    pub(super) fn parameter_header(&self) -> Option<String> {
        match self.location(&Field::Tag)? {
            Location::Parameter { header, .. } => Some(header.as_str().to_owned()),
            _ => None,
        }
    }

    /// The runner's POST with `field` left out, signed as `absent` says,
    /// at `timestamp`.
    pub(super) fn absent_step(
        &self,
        field: &Field,
        absent: Absent,
        timestamp: u64,
    ) -> Result<Step, String> {
        let recipe = Recipe {
            signed_as: Some(SignedAs {
                absent: Some(Absence {
                    field: field.clone(),
                    signed: absent,
                }),
                ..SignedAs::default()
            }),
            ..self.recipe(timestamp)
        };
        self.step(&self.probe_request(), &recipe, Expect::Reject)
    }

    /// `field` missing from the runner's POST, in every way a verifier may
    /// sign its absence: its line left out, an empty value (where that
    /// signs differently), and for a timestamp in seconds the target's
    /// current second (and the seconds either side of it, for the
    /// uncertainty of the target's clock). Named `{name}-missing-…`.
    pub(super) fn absence_probes(
        &self,
        category: Category,
        field: &Field,
        name: &str,
    ) -> Vec<Probe> {
        let Some(at) = self.location(field) else {
            return Vec::new();
        };
        let what = field.to_string();
        // A part of a header (`id.timestamp.tag`) that is missing makes
        // the header say something else; only a robustness case is left.
        let controllable = !matches!(at, Location::Part { .. });
        let mut out = Vec::new();
        let in_string =
            self.canonical_with(field, None) != self.canonical_with(field, Some(Absent::Omitted));
        let mut ways = vec![(
            Absent::Omitted,
            format!("{name}-missing"),
            if in_string {
                format!("without a {what}, signed with its place left out")
            } else {
                format!("without a {what}")
            },
        )];
        // A field that is itself a signed header (SigV4's
        // `x-amz-content-sha256`) is signed as that header's line: leaving it
        // out is its one absence.
        let signed_header = at.header().is_some_and(|h| {
            self.scheme
                .signing_params(&self.probe_request(), &self.input(self.now))
                .is_ok_and(|p| p.signed_headers.iter().any(|s| s == h.as_str()))
        });
        // A structured field's parameter (RFC 9421's `created`) that is
        // absent is absent from the signed metadata too: no verifier signs
        // it as empty or as now.
        let structured = matches!(at, Location::Member { param: Some(_), .. });
        let signs_empty = !structured
            && (matches!(field, Field::Timestamp | Field::Nonce)
                || (*field == Field::BodyHash && at != Location::Signed && !signed_header));
        if signs_empty
            && self.canonical_with(field, Some(Absent::Omitted))
                != self.canonical_with(field, Some(Absent::Empty))
        {
            ways[0].1 = format!("{name}-missing-omitted");
            ways.push((
                Absent::Empty,
                format!("{name}-missing-empty"),
                format!("without a {what}, signed with an empty value"),
            ));
        }
        for (absent, id, description) in ways {
            let probe = self.probe(
                category,
                &id,
                &description,
                vec![self.absent_step(field, absent, self.now)],
            );
            out.push(self.absence_control(probe, field, absent, controllable));
        }
        if *field == Field::Timestamp && self.unit == TimeUnit::Seconds && !structured {
            let steps = [self.now - 1, self.now, self.now + 1]
                .map(|ts| self.absent_step(field, Absent::Now, ts))
                .to_vec();
            let probe = self.probe(
                category,
                &format!("{name}-missing-now"),
                "without a timestamp, signed with the target's current second (and the seconds either side)",
                steps,
            );
            out.push(self.absence_control(probe, field, Absent::Now, controllable));
        }
        out
    }

    fn absence_control(
        &self,
        probe: Probe,
        field: &Field,
        absent: Absent,
        controllable: bool,
    ) -> Probe {
        let probe = probe.rule(self.cite("absence-signed"));
        if controllable {
            probe.control(Defect::OptionalField(field.clone(), absent))
        } else {
            probe.no_control(
                "a header of parts with one part missing no longer says which part is missing: the case checks a 4xx, not a 5xx (a destructuring parser meets `undefined`)",
            )
        }
    }

    /// The signed string of the runner's POST with `field` signed as
    /// `absent` says (as it is, for `None`): where two ways sign alike, one
    /// case is enough.
    fn canonical_with(&self, field: &Field, absent: Option<Absent>) -> Option<Vec<u8>> {
        let mut post = self.probe_request();
        let body = post.body().clone();
        self.scheme.prepare(&mut post, &body);
        if let Some(how) = absent {
            sigconform_core::tamper::sign_absence_in_request(
                self.scheme.as_ref(),
                &mut post,
                field,
                how,
            )
            .ok()?;
        }
        let input = SignInput {
            nonce: Some("n".into()),
            ..self.input(self.now)
        };
        let mut params = self.scheme.signing_params(&post, &input).ok()?;
        match (absent, field) {
            (Some(Absent::Omitted), _) => params.omitted = Some(field.clone()),
            (Some(Absent::Empty), Field::Timestamp) => params.timestamp = "".into(),
            (Some(Absent::Empty), Field::Nonce) => params.nonce = Some("".into()),
            (Some(Absent::Empty), Field::BodyHash) => params.body_hash = Some("".into()),
            _ => {}
        }
        let mut out = Vec::new();
        self.scheme.canonicalize(&post, &params, &mut out).ok()?;
        Some(out)
    }
}
