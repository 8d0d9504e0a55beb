//! The black-box runner: probes a server for correct acceptance, tamper
//! rejection, expiry, clock skew, replay, malformed input and key handling.
//!
//! The runner knows schemes only through [`Scheme`]. What a scheme covers is
//! discovered, not listed: a component is covered when changing it changes
//! the canonical string ([`covers`]), so an accepted change to a covered
//! component is a `fail`, while one to an uncovered component is the
//! scheme's documented weakness (`warn`). Probes are built with the same
//! [`Recipe`]s the vectors use.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;

use crate::keys::{Key, Secret};
use crate::request::Request;
use crate::scheme::{Scheme, SchemeConfig, SchemeId, SignInput};
use crate::tamper::{Header, HeaderEdit, Recipe, SignedAs, TagTransform};
use crate::time::{Clock, SystemClock, TimeUnit};

mod lifecycle;

pub use lifecycle::{AdminAccess, REVOCATION_GRACE};

/// What a probe checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Valid requests are accepted.
    Acceptance,
    /// Changed signed components are rejected.
    Tamper,
    /// Old timestamps are rejected at the limit.
    Expiry,
    /// Future timestamps are rejected at the limit.
    Skew,
    /// Nonces are single-use.
    Replay,
    /// Bad input gets a 4xx, never a 5xx.
    Malformed,
    /// Unknown keys are rejected.
    Keys,
    /// Response time does not depend on how much of the tag is right
    /// (advisory, with `--timing`).
    Timing,
}

/// The verdict on one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// As SCHEMES.md requires.
    Pass,
    /// A conformance failure.
    Fail,
    /// A weakness the scheme does not strictly forbid.
    Warn,
    /// Worth knowing, not a failure.
    Info,
    /// Could not be judged (timeout, reset, unexpected status class).
    Error,
    /// Not applicable to this scheme.
    Skip,
}

/// What a server is expected to do with a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Accept,
    Reject,
    /// Rejecting is right; accepting is a documented weakness.
    RejectOrWarn,
    /// Either is conformant; accepting is reported as info.
    Either,
    /// Authenticated but not entitled: 403. Another 4xx rejects too, but
    /// reads as if the key were unknown or the signature wrong (`warn`).
    Forbidden,
}

/// One request of a probe, and what the runner signed for it.
#[derive(Debug, Clone)]
struct Step {
    /// Sent this many times at the same moment (concurrent replay).
    copies: usize,
    /// Sent as these bytes over a raw TCP connection instead (what an HTTP
    /// client refuses to send: odd header-name case, non-UTF-8 bytes).
    raw: Option<Vec<u8>>,
    request: Request,
    canonical: String,
    expect: Expect,
}

impl Expect {
    fn describe(self) -> &'static str {
        match self {
            Expect::Accept => "2xx (accepted)",
            Expect::Reject => "4xx (rejected)",
            Expect::RejectOrWarn => "4xx (the scheme does not cover this, so 2xx is its weakness)",
            Expect::Either => "2xx or 4xx",
            Expect::Forbidden => "403 (authenticated, but not entitled)",
        }
    }
}

/// A catalog entry.
#[derive(Debug, Clone)]
struct Probe {
    id: String,
    category: Category,
    description: String,
    /// The requests to send, or why one of them could not be built (the
    /// case is then reported as `error`, not left out of the report).
    steps: Result<Vec<Step>, String>,
}

/// How a run is set up.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The scheme the target verifies.
    pub scheme: SchemeId,
    /// Scheme settings (windows, header names, endpoint).
    pub scheme_config: SchemeConfig,
    /// The key id to sign with.
    pub key_id: String,
    /// The secret of that key.
    pub secret: Secret,
    /// Time limit for each request.
    pub timeout: Duration,
    /// Only cases whose id matches one of these globs (all when empty).
    pub only: Vec<glob::Pattern>,
    /// Leave out cases whose id matches one of these globs.
    pub skip: Vec<glob::Pattern>,
    /// The methods the acceptance cases use (all four when empty).
    pub methods: Vec<http::Method>,
    /// How many cases run at once.
    pub concurrency: usize,
    /// Limit for the whole run; cases not finished by then are `error`.
    pub deadline: Duration,
    /// Also run the timing case (advisory; sends `2 * TIMING_SAMPLES` requests).
    pub timing: bool,
    /// Told how many cases have finished, out of how many, as they finish.
    pub progress: Option<Progress>,
    /// The target's key lifecycle API, for the lifecycle cases (`keys`).
    pub admin: Option<AdminAccess>,
    /// A key the target knows but must refuse on one route, for
    /// `keys/key-not-allowed`.
    pub denied_key: Option<DeniedKey>,
    /// An admin-only route of the target (seed 001), for `keys/admin-route`:
    /// the runner's own key, not an admin key, must get 403 there.
    pub admin_path: Option<String>,
}

impl RunConfig {
    /// A run of the whole catalog signed by `key_id` with `secret`, with the
    /// scheme's default settings, a 5 s request timeout, a 60 s deadline,
    /// 8 cases at a time, and no optional cases.
    pub fn new(scheme: SchemeId, key_id: impl Into<String>, secret: Secret) -> RunConfig {
        RunConfig {
            scheme,
            scheme_config: SchemeConfig::default(),
            key_id: key_id.into(),
            secret,
            timeout: Duration::from_secs(5),
            only: Vec::new(),
            skip: Vec::new(),
            methods: Vec::new(),
            concurrency: 8,
            deadline: Duration::from_secs(60),
            timing: false,
            progress: None,
            admin: None,
            denied_key: None,
            admin_path: None,
        }
    }
}

/// A key the target knows (its signatures verify) but must not accept on
/// `path`: seed 001's `allowed_key_ids` leaves it out there.
#[derive(Debug, Clone)]
pub struct DeniedKey {
    /// Its id.
    pub key_id: String,
    /// Its secret.
    pub secret: Secret,
    /// A path (and query) the target restricts to other keys.
    pub path: String,
}

/// A progress callback: `(finished, total)` cases.
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(usize, usize) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// `SCHEME/CATEGORY/NAME`.
    pub id: String,
    /// Its category.
    pub category: Category,
    /// What it checks.
    pub description: String,
    /// The verdict.
    pub outcome: Outcome,
    /// What the runner expected.
    pub expected: String,
    /// What the target did.
    pub observed: String,
    /// For failures: the canonical string signed.
    pub detail: String,
    /// A curl command that sends the deciding request again.
    pub reproduce: String,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scheme configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::scheme::ConfigError),
    /// The target URL is not an absolute http URL.
    #[error("target `{0}` is not an http://host:port URL")]
    Target(String),
    /// The target does not answer at all.
    #[error("target {0} cannot be reached: {1}")]
    Unreachable(String, String),
    /// The target's clock is further off than its window: every boundary
    /// case would be meaningless.
    #[error(
        "target {target} clock is off by {offset_ms} ms (±{uncertainty_ms} ms), more than its window allows; fix its clock or pass --tolerance"
    )]
    ClockOff {
        /// The target.
        target: String,
        /// Target clock minus ours.
        offset_ms: i64,
        /// How sure the estimate is.
        uncertainty_ms: u64,
    },
}

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
    let mut changed = req.clone();
    change(&mut changed);
    canonical(req) != canonical(&changed)
}

struct Builder<'a> {
    config: &'a RunConfig,
    /// The Host header the requests will carry (signed by `authorization`).
    host: String,
    scheme: Box<dyn Scheme>,
    key: Key,
    wrong_key: Key,
    now: u64,
    unit: TimeUnit,
    /// Distance of boundary probes from the limits, in `unit`.
    margin: u64,
    /// Random per run, so nonces never collide with an earlier run's.
    run_id: u64,
    counter: std::cell::Cell<u32>,
}

impl<'a> Builder<'a> {
    fn new(
        config: &'a RunConfig,
        host: &str,
        now_ms: u64,
        margin_ms: u64,
    ) -> Result<Self, RunError> {
        let scheme = config.scheme.build(&config.scheme_config)?;
        let unit = scheme.window().unit;
        Ok(Builder {
            config,
            host: host.to_owned(),
            scheme,
            key: Key::new(config.key_id.clone(), &config.secret),
            wrong_key: Key::new(
                "wrong",
                &Secret::new(format!("{}-wrong", config.secret.expose())),
            ),
            now: unit.from_ms(now_ms),
            unit,
            margin: unit.from_ms(margin_ms).max(1),
            run_id: random_u64(),
            counter: std::cell::Cell::new(0),
        })
    }

    /// Whether the scheme carries key ids (the lifecycle cases need them).
    fn has_key_ids(&self) -> bool {
        let post = self.base("POST", true);
        self.scheme
            .signing_params(&post, &self.input(self.now))
            .is_ok_and(|p| p.key_id.is_some())
    }

    fn nonce(&self) -> String {
        self.counter.set(self.counter.get() + 1);
        format!("sc-{}-{}", self.run_id, self.counter.get())
    }

    fn input(&self, timestamp: u64) -> SignInput {
        SignInput {
            key_id: Some(self.config.key_id.clone()),
            timestamp: timestamp.to_string(),
            nonce: Some(self.nonce()),
            ..SignInput::default()
        }
    }

    fn base(&self, method: &str, with_body: bool) -> Request {
        let body = if with_body { PROBE_BODY } else { "" };
        self.base_at(method, PROBE_PATH, Bytes::from_static(body.as_bytes()))
    }

    /// A request to `path_and_query` with `body`. Every header the client
    /// will send is set here, so that what the runner signs is what the
    /// server sees (hyper would add these).
    fn base_at(&self, method: &str, path_and_query: &str, body: Bytes) -> Request {
        let mut builder = http::Request::builder()
            .method(method)
            .uri(path_and_query)
            .header("host", self.host.as_str())
            .header("content-type", "application/json");
        // An empty POST or PUT says `content-length: 0`, as browsers send it
        // (some servers answer 411 without one); hyper adds no such header.
        if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
            builder = builder.header("content-length", body.len());
        }
        builder.body(body).expect("the runner's requests are valid")
    }

    /// Whether `--methods` lets the catalog send `method`.
    fn method_selected(&self, method: &str) -> bool {
        self.config.methods.is_empty() || self.config.methods.iter().any(|m| m == method)
    }

    fn step(&self, req: &Request, recipe: &Recipe, expect: Expect) -> Result<Step, String> {
        let key = if recipe.secret_of.is_some() {
            &self.wrong_key
        } else {
            &self.key
        };
        self.step_signed_by(req, recipe, key, expect)
    }

    /// A step signed with `key` (the recipe names its id).
    fn step_signed_by(
        &self,
        req: &Request,
        recipe: &Recipe,
        key: &Key,
        expect: Expect,
    ) -> Result<Step, String> {
        let request = recipe
            .apply(self.scheme.as_ref(), req, key)
            .map_err(|e| format!("the request could not be signed: {e}"))?;
        let mut canonical = Vec::new();
        let params = self.scheme.signing_params(req, &recipe.input).ok();
        if let Some(p) = params {
            let _ = self.scheme.canonicalize(req, &p, &mut canonical);
        }
        Ok(Step {
            copies: 1,
            raw: None,
            request,
            canonical: String::from_utf8_lossy(&canonical).into_owned(),
            expect,
        })
    }

    fn probe(
        &self,
        category: Category,
        name: &str,
        description: &str,
        steps: Vec<Result<Step, String>>,
    ) -> Probe {
        Probe {
            id: format!(
                "{}/{}/{name}",
                self.config.scheme,
                format!("{category:?}").to_lowercase()
            ),
            category,
            description: description.to_owned(),
            steps: steps.into_iter().collect(),
        }
    }

    fn catalog(&self) -> Vec<Probe> {
        let w = self.scheme.window();
        let margin = self.margin;
        let now = self.now;
        let recipe = |ts: u64| Recipe {
            input: self.input(ts),
            ..Recipe::default()
        };
        let post = self.base("POST", true);
        let mut out: Vec<Probe> = Vec::new();
        use Category::*;
        use Expect::*;

        for method in ["GET", "POST", "PUT", "DELETE"] {
            if !self.method_selected(method) {
                continue;
            }
            let req = self.base(method, method != "GET");
            out.push(self.probe(
                Acceptance,
                &method.to_lowercase(),
                &format!("a valid {method} is accepted"),
                vec![self.step(&req, &recipe(now), Accept)],
            ));
        }
        // Body shapes, as POSTs: none at all; text beyond ASCII with
        // escapes; numbers and key order that JSON serialisers print
        // differently (a verifier whose canonical JSON is not JavaScript's,
        // or that re-serialises the body before hashing it, fails here);
        // and a body larger than a first buffer.
        if self.method_selected("POST") {
            for (name, description, body) in [
                (
                    "post-empty-body",
                    "a valid POST without a body is accepted",
                    Bytes::new(),
                ),
                (
                    "body-non-ascii",
                    "a body with non-ASCII text and escapes is accepted",
                    Bytes::from_static(NON_ASCII_BODY.as_bytes()),
                ),
                (
                    "body-numbers-and-key-order",
                    "a body with unsorted keys, nesting and numbers serialisers disagree on is accepted",
                    Bytes::from_static(NUMBERS_BODY.as_bytes()),
                ),
                (
                    "body-index-like-keys",
                    "a body with keys that look like array indices (\"9\", \"10\") is accepted",
                    Bytes::from_static(INDEX_KEYS_BODY.as_bytes()),
                ),
                (
                    "body-64k",
                    "a valid POST with a 64 KiB body is accepted",
                    large_body(),
                ),
            ] {
                let req = self.base_at("POST", PROBE_PATH, body);
                out.push(self.probe(
                    Acceptance,
                    name,
                    description,
                    vec![self.step(&req, &recipe(now), Accept)],
                ));
            }
        }
        // A query with unsorted, repeated and percent- or plus-encoded
        // parameters (what `authorization` sorts and decodes).
        if self.method_selected("GET") {
            let req = self.base_at("GET", PROBE_QUERY_PATH, Bytes::new());
            out.push(self.probe(
                Acceptance,
                "get-query-parameters",
                "a GET with unsorted, repeated and encoded query parameters is accepted",
                vec![self.step(&req, &recipe(now), Accept)],
            ));
        }

        let input = self.input(now);
        let tamper =
            |name: &str, what: &str, signed_as: SignedAs, change: &dyn Fn(&mut Request)| {
                let expect = if covers(self.scheme.as_ref(), &post, &input, change) {
                    Reject
                } else {
                    RejectOrWarn
                };
                let mut sent = post.clone();
                change(&mut sent);
                let r = Recipe {
                    signed_as: Some(signed_as),
                    ..recipe(now)
                };
                self.probe(
                    Tamper,
                    name,
                    &format!("{what} changed after signing"),
                    vec![self.step(&sent, &r, expect)],
                )
            };
        out.push(tamper(
            "method",
            "the method",
            SignedAs {
                method: Some("POST".into()),
                ..SignedAs::default()
            },
            &|r| *r.method_mut() = http::Method::PUT,
        ));
        out.push(tamper(
            "path",
            "the path",
            SignedAs {
                path: Some("/sigconform/probe".into()),
                ..SignedAs::default()
            },
            &|r| *r.uri_mut() = "/sigconform/other?page=1".parse().unwrap(),
        ));
        out.push(tamper(
            "query",
            "the query",
            SignedAs {
                query: Some("page=1".into()),
                ..SignedAs::default()
            },
            &|r| *r.uri_mut() = "/sigconform/probe?page=2".parse().unwrap(),
        ));
        // Body changes: another value; a duplicated key whose first copy
        // differs (one JSON parser reads 2, another 1); and the same value at
        // the same length written differently, which a verifier that
        // re-serialises parsed JSON accepts (only where the bytes are
        // covered: under canonical JSON that change is no change at all).
        let reencoded = r#"{"n":1E0,"probe":"sigconform"}"#;
        let mut body_changes = vec![
            ("body", "the body", r#"{"n":2.0,"probe":"sigconform"}"#),
            (
                "body-duplicate-key",
                "the body (a key duplicated)",
                r#"{"n":2,"n":1.0,"probe":"sigconform"}"#,
            ),
        ];
        if covers(self.scheme.as_ref(), &post, &input, |r| {
            set_body(r, reencoded)
        }) {
            body_changes.push((
                "body-reencoded",
                "the body (re-encoded: same JSON value, same length)",
                reencoded,
            ));
        }
        for (name, what, body) in body_changes {
            let signed_as = SignedAs {
                body: Some(PROBE_BODY.into()),
                headers: vec![Header(
                    "content-length".into(),
                    PROBE_BODY.len().to_string(),
                )],
                ..SignedAs::default()
            };
            out.push(tamper(name, what, signed_as, &|r| set_body(r, body)));
        }
        // A path that names the signed one only after dot segments are
        // resolved (what `new URL(...)` or `normpath` do). Only where the
        // path is covered at all; elsewhere tamper/path already says so.
        if covers(self.scheme.as_ref(), &post, &input, |r| {
            *r.uri_mut() = "/sigconform/other?page=1".parse().unwrap()
        }) {
            out.push(tamper(
                "path-dot-segments",
                "the path (dot segments resolving to the signed one)",
                SignedAs {
                    path: Some("/sigconform/probe".into()),
                    ..SignedAs::default()
                },
                &|r| *r.uri_mut() = "/sigconform/other/../probe?page=1".parse().unwrap(),
            ));
        }
        // Every other header the scheme covers (for `authorization`, the
        // signed header list), changed after signing. `content-length` is
        // left alone: changing it changes the framing, not the header.
        for (name, changed) in [
            ("host", "sigconform-other.test"),
            ("content-type", "text/plain"),
        ] {
            let Some(original) = post.headers().get(name).and_then(|v| v.to_str().ok()) else {
                continue;
            };
            let change = |r: &mut Request| {
                r.headers_mut()
                    .insert(name, http::HeaderValue::from_static(changed));
            };
            if covers(self.scheme.as_ref(), &post, &input, change) {
                out.push(tamper(
                    &format!("header-{name}"),
                    &format!("the signed header {name}"),
                    SignedAs {
                        headers: vec![Header(name.into(), original.into())],
                        ..SignedAs::default()
                    },
                    &change,
                ));
            }
        }
        let has_key_ids = self.has_key_ids();
        if has_key_ids {
            // The tag is the runner's key's, the header names another key:
            // a verifier that tries its secrets until one fits, or that
            // falls back to some key, accepts.
            let key_id = &self.config.key_id;
            let renamed = |name: &str, description: &str, other: String, expect: Expect| {
                let r = Recipe {
                    input: SignInput {
                        key_id: Some(other),
                        ..self.input(now)
                    },
                    ..Recipe::default()
                };
                self.probe(
                    Tamper,
                    name,
                    description,
                    vec![self.step_signed_by(&post, &r, &self.key, expect)],
                )
            };
            out.push(renamed(
                "key-id",
                "the key id changed after signing",
                format!("{key_id}-other"),
                Reject,
            ));
            // The same id in other letter case: a case-insensitive lookup
            // (a SQL collation) accepts it, and then nonces and policies
            // keyed by the id as sent can be sidestepped (`replay/key-id-case`).
            if let Some(recased) = recased(key_id) {
                out.push(renamed(
                    "key-id-case",
                    "the key id in other letter case",
                    recased,
                    RejectOrWarn,
                ));
            }
        }
        let has_nonce = has_nonce_of(self.scheme.as_ref(), &post, &input);
        if has_nonce {
            out.push(self.probe(
                Tamper,
                "nonce",
                "the nonce changed after signing",
                vec![self.step(
                    &post,
                    &Recipe {
                        signed_as: Some(SignedAs {
                            nonce: Some(format!("{}-signed", self.nonce())),
                            ..SignedAs::default()
                        }),
                        ..recipe(now)
                    },
                    Reject,
                )],
            ));
        }
        out.push(self.probe(
            Tamper,
            "timestamp",
            "the timestamp changed after signing",
            vec![self.step(
                &post,
                &Recipe {
                    signed_as: Some(SignedAs {
                        timestamp: Some((now - 1).to_string()),
                        ..SignedAs::default()
                    }),
                    ..recipe(now)
                },
                Reject,
            )],
        ));
        out.push(self.probe(
            Tamper,
            "secret",
            "signed with a wrong secret",
            vec![self.step(
                &post,
                &Recipe {
                    secret_of: Some("wrong".into()),
                    ..recipe(now)
                },
                Reject,
            )],
        ));
        for (name, what, t, expect) in [
            (
                "tag-bit-flipped",
                "the tag with its last bit flipped",
                TagTransform::FlipLastBit,
                Reject,
            ),
            (
                "tag-truncated",
                "the tag without its last byte",
                TagTransform::Truncate,
                Reject,
            ),
            (
                "tag-prefix",
                "only the first half of the tag",
                TagTransform::TruncateHalf,
                Reject,
            ),
            (
                "tag-extended",
                "the tag with a byte appended",
                TagTransform::Extend,
                Reject,
            ),
            ("tag-empty", "an empty tag", TagTransform::Empty, Reject),
            (
                "tag-other-encoding",
                "the tag in the other encoding (hex for base64, base64 for hex)",
                TagTransform::OtherEncoding,
                Reject,
            ),
            (
                "tag-uppercase",
                "the tag upper-cased (non-canonical hex: either answer conforms)",
                TagTransform::Uppercase,
                Either,
            ),
            (
                "tag-base64url",
                "the tag in base64url (non-canonical: either answer conforms)",
                TagTransform::Base64Url,
                Either,
            ),
            (
                "tag-unpadded",
                "the tag in base64 without padding (non-canonical: either answer conforms)",
                TagTransform::StripPadding,
                Either,
            ),
        ] {
            // Some changes leave some tags as they were (no `+` or `/` to
            // turn into base64url, no letters to upper-case): sign again
            // with a fresh nonce and a timestamp a unit earlier until the
            // change shows, so the case tests what it names and is there
            // in every run.
            let changed = (0..16).find_map(|attempt| {
                // A step back in time changes the tag where no nonce does.
                let base = recipe(now - attempt);
                let plain = self.step(&post, &base, expect).ok()?;
                let step = self
                    .step(
                        &post,
                        &Recipe {
                            tag_transform: Some(t),
                            ..base
                        },
                        expect,
                    )
                    .ok()?;
                (step.request.headers() != plain.request.headers()).then_some(step)
            });
            let changed =
                changed.ok_or_else(|| "no signature in 16 tries showed the change".to_owned());
            out.push(self.probe(Tamper, name, what, vec![changed]));
        }

        out.push(self.probe(
            Expiry,
            "inside-limit",
            "just inside the past limit is accepted",
            vec![self.step(&post, &recipe(now - w.past + margin), Accept)],
        ));
        out.push(self.probe(
            Expiry,
            "outside-limit",
            "just outside the past limit is rejected",
            vec![self.step(&post, &recipe(now - w.past - margin), Reject)],
        ));
        // Far: a day, or ten windows where a window is longer than that.
        let far_past = self.unit.from_ms(DAY_MS).max(w.past.saturating_mul(10));
        let far_future = self.unit.from_ms(DAY_MS).max(w.future.saturating_mul(10));
        out.push(self.probe(
            Expiry,
            "far-past",
            "a timestamp a day (or ten windows) old is rejected",
            vec![self.step(&post, &recipe(now.saturating_sub(far_past)), Reject)],
        ));
        out.push(self.probe(
            Expiry,
            "zero",
            "timestamp 0 is rejected",
            vec![self.step(&post, &recipe(0), Reject)],
        ));
        out.push(self.probe(
            Skew,
            "inside-limit",
            "just inside the future limit is accepted",
            vec![self.step(&post, &recipe(now + w.future - margin), Accept)],
        ));
        out.push(self.probe(
            Skew,
            "outside-limit",
            "just outside the future limit is rejected",
            vec![self.step(&post, &recipe(now + w.future + margin), Reject)],
        ));
        out.push(self.probe(
            Skew,
            "far-future",
            "a timestamp a day (or ten windows) ahead is rejected",
            vec![self.step(&post, &recipe(now.saturating_add(far_future)), Reject)],
        ));
        let confused = match self.unit {
            TimeUnit::Seconds => now * 1000,
            TimeUnit::Milliseconds => now / 1000,
        };
        out.push(self.probe(
            Skew,
            "unit-confusion",
            "a timestamp in the wrong unit is rejected",
            vec![self.step(&post, &recipe(confused), Reject)],
        ));

        let replayed = recipe(now);
        let again = if has_nonce { Reject } else { Either };
        out.push(self.probe(
            Replay,
            "identical",
            "the same request twice: the second is a replay",
            vec![
                self.step(&post, &replayed, Accept),
                self.step(&post, &replayed, again),
            ],
        ));
        // A first request accepted, then its nonce again in another one.
        let nonce_again = |name: &str, description: &str, change: &dyn Fn(&mut SignInput)| {
            let first = recipe(now);
            let mut input = first.input.clone();
            change(&mut input);
            let second = Recipe {
                input,
                ..Recipe::default()
            };
            self.probe(
                Replay,
                name,
                description,
                vec![
                    self.step(&post, &first, Accept),
                    self.step(&post, &second, Reject),
                ],
            )
        };
        if has_nonce {
            out.push(nonce_again(
                "fresh-signature",
                "the nonce again with a new timestamp and signature",
                &|input| input.timestamp = (now - 1).to_string(),
            ));
        }
        // Under the key id in other letter case: where the key lookup
        // ignores case but the nonce store does not, a replay.
        if let Some(recased) = recased(&self.config.key_id).filter(|_| has_nonce && has_key_ids) {
            out.push(nonce_again(
                "key-id-case",
                "the nonce again, under the key id in other letter case",
                &|input| input.key_id = Some(recased.clone()),
            ));
        }

        // A request without its nonce header, signed as if the nonce were
        // empty: a verifier that treats a missing nonce as "" accepts it, and
        // then every such request is a replayable one. (Only where the nonce
        // has a header of its own, found as the written header holding it.)
        if has_nonce {
            let input = self.input(now);
            let nonce = input.nonce.clone().unwrap_or_default();
            let nonce_header = self
                .scheme
                .signing_params(&post, &input)
                .map(|p| self.scheme.signature_headers(&p, "x"))
                .unwrap_or_default()
                .into_iter()
                .find(|(_, value)| *value == nonce)
                .map(|(name, _)| name.as_str().to_owned());
            if let Some(name) = nonce_header {
                let r = Recipe {
                    input,
                    signed_as: Some(SignedAs {
                        nonce: Some(String::new()),
                        ..SignedAs::default()
                    }),
                    edits: vec![HeaderEdit::Remove(name)],
                    ..Recipe::default()
                };
                out.push(self.probe(
                    Replay,
                    "missing-nonce",
                    "a request without a nonce is rejected",
                    vec![self.step(&post, &r, Reject)],
                ));
            }
        }

        if has_nonce {
            let mut step = self.step(&post, &recipe(now), Either);
            if let Ok(s) = step.as_mut() {
                s.copies = CONCURRENT_COPIES;
            }
            out.push(self.probe(
                Replay,
                "concurrent",
                "identical requests sent at the same moment: at most one accepted",
                vec![step],
            ));
        }

        for (name, ts) in [
            ("non-numeric", "abc"),
            ("negative", "-1"),
            ("fractional", "1.5"),
            ("overlong", "99999999999999999999999"),
        ] {
            let article = if name.starts_with('o') { "an" } else { "a" };
            let r = Recipe {
                input: SignInput {
                    timestamp: ts.into(),
                    ..self.input(now)
                },
                ..Recipe::default()
            };
            out.push(self.probe(
                Malformed,
                &format!("timestamp-{name}"),
                &format!("{article} {name} timestamp gets a 4xx"),
                vec![self.step(&post, &r, Reject)],
            ));
        }
        let produced = self
            .scheme
            .signing_params(&post, &self.input(now))
            .map(|p| self.scheme.signature_headers(&p, "x"))
            .unwrap_or_default();
        for (name, value) in &produced {
            let n = name.as_str();
            out.push(self.probe(
                Malformed,
                &format!("missing-{n}"),
                &format!("without {n}: 4xx"),
                vec![self.step(
                    &post,
                    &Recipe {
                        edits: vec![HeaderEdit::Remove(n.into())],
                        ..recipe(now)
                    },
                    Reject,
                )],
            ));
            out.push(self.probe(
                Malformed,
                &format!("duplicate-{n}"),
                &format!("{n} twice: 4xx"),
                vec![self.step(
                    &post,
                    &Recipe {
                        edits: vec![HeaderEdit::Add(Header(n.into(), value.clone()))],
                        ..recipe(now)
                    },
                    Reject,
                )],
            ));
            out.push(self.probe(
                Malformed,
                &format!("garbage-{n}"),
                &format!("{n} with a garbage value: 4xx"),
                vec![self.step(
                    &post,
                    &Recipe {
                        edits: vec![HeaderEdit::Set(Header(n.into(), GARBAGE.into()))],
                        ..recipe(now)
                    },
                    Reject,
                )],
            ));
            // A header made of `name="value"` parameters: each parameter
            // repeated (a parser that keeps the first and one that keeps
            // the last read different requests). Each case signs afresh,
            // so that no two share a nonce.
            let signed_value = |step: &Step| {
                step.request
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let doubled = |parameter: &str| {
                let mut step = self.step(&post, &recipe(now), Reject)?;
                let value = signed_value(&step)
                    .and_then(|signed| {
                        let (_, part) = parameter_list(&signed)?
                            .into_iter()
                            .find(|(n, _)| n == parameter)?;
                        http::HeaderValue::from_str(&format!("{signed},{part}")).ok()
                    })
                    .ok_or_else(|| format!("the signed {name} has no {parameter} to repeat"))?;
                step.request.headers_mut().insert(name, value);
                Ok(step)
            };
            let parameters = self
                .step(&post, &recipe(now), Reject)
                .ok()
                .and_then(|step| parameter_list(&signed_value(&step)?))
                .unwrap_or_default();
            for (parameter, _) in parameters {
                out.push(self.probe(
                    Malformed,
                    &format!("duplicate-parameter-{parameter}"),
                    &format!("{n} with its {parameter} parameter twice: 4xx"),
                    vec![doubled(&parameter)],
                ));
            }
        }
        let produced_names: Vec<String> = produced
            .iter()
            .map(|(n, _)| n.as_str().to_owned())
            .collect();
        // Over raw TCP: header names in other cases must not matter;
        // non-UTF-8 and oversized values must get a 4xx.
        let raw = |name: &str,
                   description: &str,
                   expect: Expect,
                   header_case: fn(&str) -> String,
                   mangle: Option<&[u8]>| {
            let step = self.step(&post, &recipe(now), expect).map(|mut step| {
                step.raw = Some(raw_request(
                    &step.request,
                    header_case,
                    &produced_names,
                    mangle,
                ));
                step
            });
            let category = if expect == Accept {
                Acceptance
            } else {
                Malformed
            };
            self.probe(category, name, description, vec![step])
        };
        out.push(raw(
            "header-names-uppercase",
            "header names in upper case are accepted",
            Accept,
            |n| n.to_ascii_uppercase(),
            None,
        ));
        out.push(raw(
            "header-names-titlecase",
            "header names in Title-Case are accepted",
            Accept,
            title_case,
            None,
        ));
        out.push(raw(
            "non-utf8-header",
            "non-UTF-8 bytes in a signature header get a 4xx",
            Reject,
            str::to_owned,
            Some(b"\xff\xfe\xc3\x28"),
        ));
        let oversized = vec![b'a'; 16 * 1024];
        out.push(raw(
            "oversized-header",
            "a 16 KiB signature header gets a 4xx",
            Reject,
            str::to_owned,
            Some(&oversized),
        ));

        // Where the scheme signs JSON, a body that is not JSON cannot be
        // signed at all; sent with the signature of `{}` it must get a 4xx.
        let mut not_json = post.clone();
        set_body(&mut not_json, "userId=1&action=create");
        if self
            .scheme
            .sign(&not_json, &self.input(now), &self.key)
            .is_err()
        {
            let signed_as = SignedAs {
                body: Some("{}".into()),
                ..SignedAs::default()
            };
            out.push(self.probe(
                Malformed,
                "body-not-json",
                "a body that is not JSON where JSON is signed gets a 4xx",
                vec![self.step(
                    &not_json,
                    &Recipe {
                        signed_as: Some(signed_as),
                        ..recipe(now)
                    },
                    Reject,
                )],
            ));
        }

        if has_key_ids {
            let r = Recipe {
                input: SignInput {
                    key_id: Some("sigconform-unknown-key".into()),
                    ..self.input(now)
                },
                ..Recipe::default()
            };
            out.push(self.probe(
                Keys,
                "unknown-key",
                "an unknown key id is rejected",
                vec![self.step(&post, &r, Reject)],
            ));
            // Seed 001's key policies, where the target's are named: a
            // known key outside a route's allow-list, and the runner's own
            // (non-admin) key on an admin route. Both verify, then get 403.
            if let Some(denied) = &self.config.denied_key {
                let r = Recipe {
                    input: SignInput {
                        key_id: Some(denied.key_id.clone()),
                        ..self.input(now)
                    },
                    ..Recipe::default()
                };
                let req = self.base_at("POST", &denied.path, post.body().clone());
                out.push(self.probe(
                    Keys,
                    "key-not-allowed",
                    "a known key outside the route's allowed key ids gets 403",
                    vec![self.step_signed_by(
                        &req,
                        &r,
                        &Key::new(denied.key_id.as_str(), &denied.secret),
                        Forbidden,
                    )],
                ));
            }
            if let Some(path) = &self.config.admin_path {
                let req = self.base_at("POST", path, post.body().clone());
                out.push(self.probe(
                    Keys,
                    "admin-route",
                    "the runner's non-admin key on an admin-only route gets 403",
                    vec![self.step(&req, &recipe(now), Forbidden)],
                ));
            }
        }
        out
    }
}

/// The body of the runner's requests: compact JSON with sorted keys, so
/// that a verifier which re-serialises parsed JSON still accepts it and only
/// the tamper cases tell it apart. `1.0` leaves room to write the same
/// number differently at the same length (`1E0`).
const PROBE_BODY: &str = r#"{"n":1.0,"probe":"sigconform"}"#;

/// The path (and query) of the runner's requests.
const PROBE_PATH: &str = "/sigconform/probe?page=1";

/// A query whose canonical form needs sorting by name then value, and
/// decoding of `+` and `%xx`.
const PROBE_QUERY_PATH: &str = "/sigconform/probe?page=2&b=x+y&a=2&a=10&e=%C3%A9%2F&empty=";

/// Non-ASCII text as raw UTF-8 (which Python's `ensure_ascii` would
/// escape), a `/` (which PHP escapes) and escapes JSON requires.
const NON_ASCII_BODY: &str =
    r#"{"city":"Zürich","name":"Zoë 東京 😀","path":"a/b","quote":"say \"hi\"\n\ttab"}"#;

/// Keys out of order at two levels and numbers that serialisers print
/// differently: `1e21` (`1e+21` in JavaScript), `-0` (`0`), `0.1`, `100`,
/// an integer beyond 2^53 (rounded to a double by JavaScript).
const NUMBERS_BODY: &str =
    r#"{"z":[1.5,1e21,-0,0.1,100,9007199254740993],"a":{"y":true,"b":null},"m":""}"#;

/// Keys that are JavaScript array indices: `JSON.stringify` writes them
/// first, in numeric order (`"9"` before `"10"`), whatever order a sort
/// left them in.
const INDEX_KEYS_BODY: &str = r#"{"b":1,"10":"ten","9":"nine","a":[{"2":0,"1":0}]}"#;

/// A 64 KiB JSON body (below every common server's default body limit).
fn large_body() -> Bytes {
    Bytes::from(crate::workload::json_document(64 * 1024))
}

/// Replaces the body, keeping `content-length` true.
fn set_body(req: &mut Request, body: &'static str) {
    req.headers_mut()
        .insert(http::header::CONTENT_LENGTH, body.len().into());
    *req.body_mut() = Bytes::from_static(body.as_bytes());
}

/// A random number from the OS-seeded hasher keys (no extra dependency;
/// it has to differ between runs and be unguessable to other local users,
/// not to be a cryptographic key).
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(SystemClock.now_ms());
    h.finish()
}

/// A header value no scheme can parse: separators, quotes, a stray `=`.
const GARBAGE: &str = r#"%%sigconform,,"garbage"=;=="#;

/// A header value made of `name="value"` parameters separated by commas,
/// after an optional scheme word (`Signature keyId="…",…`): each
/// parameter's lower-case name and its text as written. `None` for any
/// other value, or for fewer than two parameters.
fn parameter_list(value: &str) -> Option<Vec<(String, String)>> {
    let list = value.split_once(' ').map_or(value, |(_, list)| list);
    let parameters = list
        .split(',')
        .map(|part| {
            let (name, quoted) = part.split_once('=')?;
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && quoted.len() >= 2
                && quoted.starts_with('"')
                && quoted.ends_with('"');
            valid.then(|| (name.to_ascii_lowercase(), part.to_owned()))
        })
        .collect::<Option<Vec<_>>>()?;
    (parameters.len() >= 2).then_some(parameters)
}

/// `key_id` with the case of its ASCII letters swapped, if it has any.
fn recased(key_id: &str) -> Option<String> {
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

/// Whether `scheme` carries a nonce in its signatures.
fn has_nonce_of(scheme: &dyn Scheme, req: &Request, input: &SignInput) -> bool {
    scheme
        .signing_params(req, input)
        .is_ok_and(|p| p.nonce.is_some())
}

/// `x-api-key-id` -> `X-Api-Key-Id`.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Serialises `req` as HTTP/1.1 with header names written by `header_case`;
/// with `mangle`, the first signature header's value is replaced by those bytes.
fn raw_request(
    req: &Request,
    header_case: fn(&str) -> String,
    signature_headers: &[String],
    mangle: Option<&[u8]>,
) -> Vec<u8> {
    let mut out = format!(
        "{} {} HTTP/1.1\r\n",
        req.method(),
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    )
    .into_bytes();
    let mut mangled = false;
    for (name, value) in req.headers() {
        out.extend_from_slice(header_case(name.as_str()).as_bytes());
        out.extend_from_slice(b": ");
        match mangle {
            Some(bytes) if !mangled && signature_headers.iter().any(|s| s == name.as_str()) => {
                out.extend_from_slice(bytes);
                mangled = true;
            }
            _ => out.extend_from_slice(value.as_bytes()),
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"connection: close\r\n\r\n");
    out.extend_from_slice(req.body());
    out
}

/// Sends raw bytes to `authority` and reads the status of the answer.
async fn send_raw(authority: &str, bytes: &[u8], timeout: Duration) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(authority)
            .await
            .map_err(|e| Answer::Refused(e.to_string()))?;
        stream
            .write_all(bytes)
            .await
            .map_err(|e| Answer::Broken(e.to_string()))?;
        let mut buf = Vec::with_capacity(4096);
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut response = httparse::Response::new(&mut headers);
            if let Ok(httparse::Status::Complete(_)) = response.parse(&buf) {
                let status = response.code.unwrap_or(0);
                // The same cap as for the HTTP client: a larger answer is not judged.
                let declared = response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| {
                        std::str::from_utf8(h.value)
                            .ok()?
                            .trim()
                            .parse::<usize>()
                            .ok()
                    });
                if declared.is_some_and(|n| n > MAX_RESPONSE_BODY) {
                    return Err(Answer::Broken(format!("status {status}, oversized body")));
                }
                return Ok(Answer::Status(
                    status,
                    response.reason.unwrap_or("").to_owned(),
                ));
            }
            if buf.len() > MAX_RESPONSE_BODY {
                return Err(Answer::Broken("response head too large".into()));
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) => return Err(Answer::Broken("connection closed before a response".into())),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(Answer::Broken(e.to_string())),
            }
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok(answer) | Err(answer)) => answer,
        Err(_) => Answer::Broken(format!("no answer within {timeout:?}")),
    }
}

/// Builds the catalog for `config` at `now_ms` (case ids and descriptions
/// are stable; requests depend on the time).
fn catalog(
    config: &RunConfig,
    host: &str,
    now_ms: u64,
    margin_ms: u64,
) -> Result<Vec<Probe>, RunError> {
    let b = Builder::new(config, host, now_ms, margin_ms)?;
    let mut probes = b.catalog();
    probes.retain(|p| {
        (config.only.is_empty() || config.only.iter().any(|g| g.matches(&p.id)))
            && !config.skip.iter().any(|g| g.matches(&p.id))
    });
    Ok(probes)
}

/// Every case id with its description (the lifecycle cases too, when the
/// admin API is given).
pub fn list(config: &RunConfig) -> Result<Vec<(String, String)>, RunError> {
    let now_ms = SystemClock.now_ms();
    let mut cases: Vec<(String, String)> =
        catalog(config, "sigconform.test", now_ms, MIN_MARGIN_MS)?
            .into_iter()
            .map(|p| (p.id, p.description))
            .collect();
    if config.admin.is_some()
        && Builder::new(config, "sigconform.test", now_ms, MIN_MARGIN_MS)?.has_key_ids()
    {
        cases.extend(lifecycle::CASES.iter().map(|(name, description)| {
            (
                format!("{}/keys/{name}", config.scheme),
                (*description).to_owned(),
            )
        }));
    }
    Ok(cases)
}

/// A day in milliseconds: how far "far" past and future probes go at least.
const DAY_MS: u64 = 86_400_000;

/// Boundary probes stay at least this far from a limit (SCHEMES.md asks 2 s).
const MIN_MARGIN_MS: u64 = 2000;

/// How many identical requests the concurrent replay case sends at once.
const CONCURRENT_COPIES: usize = 8;

/// The target's clock relative to ours, from its `Date` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClockEstimate {
    /// Target clock minus ours, in milliseconds (0 when no `Date` header).
    pub offset_ms: i64,
    /// Half-width of the estimate: `Date`'s one-second resolution plus half
    /// the round trip. `None` when the target sends no `Date` header.
    pub uncertainty_ms: Option<u64>,
}

impl ClockEstimate {
    /// The margin boundary probes keep from each limit.
    pub fn margin_ms(&self) -> u64 {
        // Without a Date header we cannot do better than the minimum.
        MIN_MARGIN_MS.max(self.uncertainty_ms.unwrap_or(0) + 1000)
    }
}

/// Estimates the target's clock from three round trips, keeping the one
/// with the shortest round trip (the least uncertain).
async fn estimate_clock(client: &HttpClient, target: &str, timeout: Duration) -> ClockEstimate {
    let mut best: Option<ClockEstimate> = None;
    for _ in 0..3 {
        let Ok(uri) = format!("{target}/").parse::<http::Uri>() else {
            break;
        };
        let Ok(req) = http::Request::get(uri).body(Full::new(Bytes::new())) else {
            break;
        };
        let sent = SystemClock.now_ms();
        let Ok(Ok(resp)) = tokio::time::timeout(timeout, client.request(req)).await else {
            continue;
        };
        let received = SystemClock.now_ms();
        let date = resp
            .headers()
            .get(http::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| httpdate::parse_http_date(d).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        let Some(date) = date else { continue };
        // Date truncates to the second: its middle is the best point estimate.
        let server_ms = date.as_millis() as i64 + 500;
        let midpoint = ((sent + received) / 2) as i64;
        let estimate = ClockEstimate {
            offset_ms: server_ms - midpoint,
            uncertainty_ms: Some(500 + (received - sent) / 2),
        };
        if best.is_none_or(|b| estimate.uncertainty_ms < b.uncertainty_ms) {
            best = Some(estimate);
        }
    }
    best.unwrap_or(ClockEstimate {
        offset_ms: 0,
        uncertainty_ms: None,
    })
}

/// What one request got back.
#[derive(Debug, Clone)]
enum Answer {
    Status(u16, String),
    /// Connected (or not) but got no usable answer: timeout, reset, garbage,
    /// an oversized body.
    Broken(String),
    /// The connection itself was refused: the target is not there.
    Refused(String),
}

impl Answer {
    /// The status and the start of the body, or what went wrong.
    fn describe(&self) -> String {
        match self {
            Answer::Status(s, body) => format!("{s} {body}"),
            Answer::Broken(e) | Answer::Refused(e) => e.clone(),
        }
    }
}

/// The most of a response body the runner reads.
const MAX_RESPONSE_BODY: usize = 64 * 1024;

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

async fn send(client: &HttpClient, target: &str, req: &Request, timeout: Duration) -> Answer {
    let uri = match format!(
        "{target}{}",
        req.uri().path_and_query().map_or("/", |p| p.as_str())
    )
    .parse::<http::Uri>()
    {
        Ok(u) => u,
        Err(e) => return Answer::Broken(e.to_string()),
    };
    let mut outgoing = http::Request::builder().method(req.method()).uri(uri);
    for (name, value) in req.headers() {
        outgoing = outgoing.header(name, value);
    }
    let Ok(outgoing) = outgoing.body(Full::new(req.body().clone())) else {
        return Answer::Broken("request cannot be built".into());
    };
    match tokio::time::timeout(timeout, async {
        let resp = client.request(outgoing).await.map_err(|e| {
            if e.is_connect() {
                Answer::Refused(with_causes(&e))
            } else {
                Answer::Broken(with_causes(&e))
            }
        })?;
        let status = resp.status().as_u16();
        // Bodies are read up to a cap; a larger answer is not judged.
        let body = Limited::new(resp.into_body(), MAX_RESPONSE_BODY)
            .collect()
            .await
            .map_err(|e| {
                Answer::Broken(format!(
                    "status {status}, unreadable or oversized body: {e}"
                ))
            })?
            .to_bytes();
        Ok::<_, Answer>(Answer::Status(
            status,
            String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        ))
    })
    .await
    {
        Ok(Ok(answer) | Err(answer)) => answer,
        Err(_) => Answer::Broken(format!("no answer within {timeout:?}")),
    }
}

/// An error with its causes, `outer: inner: innermost` (hyper's own
/// message is only "client error (Connect)"; the cause says why).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

fn judge(expect: Expect, answer: &Answer) -> Outcome {
    match answer {
        Answer::Broken(_) | Answer::Refused(_) => Outcome::Error,
        Answer::Status(s, _) if *s >= 500 => Outcome::Fail,
        Answer::Status(s, _) if !(200..300).contains(s) && !(400..500).contains(s) => {
            Outcome::Error
        }
        Answer::Status(403, _) if expect == Expect::Forbidden => Outcome::Pass,
        Answer::Status(s, _) => {
            let accepted = (200..300).contains(s);
            match (expect, accepted) {
                (Expect::Accept, true)
                | (Expect::Reject | Expect::RejectOrWarn | Expect::Either, false) => Outcome::Pass,
                (Expect::Accept, false) | (Expect::Reject | Expect::Forbidden, true) => {
                    Outcome::Fail
                }
                (Expect::RejectOrWarn, true) | (Expect::Forbidden, false) => Outcome::Warn,
                (Expect::Either, true) => Outcome::Info,
            }
        }
    }
}

/// A shell command that sends `bytes` to `target` over a plain TCP
/// connection, for requests an HTTP client will not send as they are (odd
/// header-name case, non-UTF-8 bytes): `printf` with octal escapes for
/// every byte outside printable ASCII, piped to `nc`.
pub fn netcat(target: &str, bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut escaped = String::with_capacity(bytes.len());
    for &b in bytes {
        // What the shell's quotes or printf would read otherwise is escaped too.
        if (0x20..=0x7e).contains(&b) && !matches!(b, b'\\' | b'\'' | b'%') {
            escaped.push(char::from(b));
        } else {
            let _ = write!(escaped, "\\0{b:03o}");
        }
    }
    let authority = target.trim_start_matches("http://");
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "80"));
    format!("printf '%b' '{escaped}' | nc {host} {port}")
}

/// A curl command that sends `req` to `target` again (no secret in it: the
/// request carries only the tag).
pub fn curl(target: &str, req: &Request) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut cmd = format!(
        "curl -sS -X {} {}",
        req.method(),
        quote(&format!(
            "{target}{}",
            req.uri().path_and_query().map_or("/", |p| p.as_str())
        ))
    );
    for (name, value) in req.headers() {
        cmd.push_str(&format!(
            " -H {}",
            quote(&format!(
                "{name}: {}",
                String::from_utf8_lossy(value.as_bytes())
            ))
        ));
    }
    if !req.body().is_empty() {
        cmd.push_str(&format!(
            " --data-binary {}",
            quote(&String::from_utf8_lossy(req.body()))
        ));
    }
    cmd
}

/// Runs the catalog against `target`.
pub async fn run(config: &RunConfig, target: &str) -> Result<Run, RunError> {
    let target = target.trim_end_matches('/');
    let uri: http::Uri = target
        .parse()
        .map_err(|_| RunError::Target(target.into()))?;
    if uri.scheme_str() != Some("http") || uri.authority().is_none() {
        return Err(RunError::Target(target.into()));
    }
    let client: Arc<HttpClient> = Arc::new(Client::builder(TokioExecutor::new()).build_http());
    // One reachability check up front: an unreachable target is one error, not a hundred.
    let probe_req = http::Request::get("/")
        .body(Bytes::new())
        .expect("static request");
    // A target that accepts connections but answers badly is judged case by
    // case (each ends as `error`); only a refused connection stops the run.
    if let Answer::Refused(e) = send(&client, target, &probe_req, config.timeout).await {
        return Err(RunError::Unreachable(target.into(), e));
    }
    let host = uri.authority().map_or("", |a| a.as_str());
    let clock = estimate_clock(&client, target, config.timeout).await;
    let window = config.scheme.build(&config.scheme_config)?.window();
    let off_by = clock
        .offset_ms
        .unsigned_abs()
        .saturating_sub(clock.uncertainty_ms.unwrap_or(0));
    if off_by > window.unit.to_ms(window.past.min(window.future)) {
        return Err(RunError::ClockOff {
            target: target.into(),
            offset_ms: clock.offset_ms,
            uncertainty_ms: clock.uncertainty_ms.unwrap_or(0),
        });
    }
    let target_now = SystemClock.now_ms().saturating_add_signed(clock.offset_ms);
    let probes = catalog(config, host, target_now, clock.margin_ms())?;
    let deadline = tokio::time::Instant::now() + config.deadline;
    let slots = Arc::new(tokio::sync::Semaphore::new(config.concurrency.max(1)));
    let total = probes.len() + usize::from(config.timing);
    // (The lifecycle cases are few and quick; progress is not reported for them.)
    let finished = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let hook = config.progress.clone();
    let report_progress = move |finished: &std::sync::atomic::AtomicUsize| {
        let done = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if let Some(Progress(hook)) = &hook {
            hook(done, total);
        }
    };
    let mut tasks = tokio::task::JoinSet::new();
    for (index, probe) in probes.into_iter().enumerate() {
        let (client, target, timeout, slots, finished) = (
            client.clone(),
            target.to_owned(),
            config.timeout,
            slots.clone(),
            finished.clone(),
        );
        let report_progress = report_progress.clone();
        tasks.spawn(async move {
            // At most `concurrency` probes in flight; a probe's steps run in order.
            let _slot = slots
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            let result = execute(probe, &client, &target, timeout, deadline).await;
            report_progress(&finished);
            (index, result)
        });
    }
    let mut results: Vec<(usize, CaseResult)> = tasks.join_all().await;
    results.sort_by_key(|(i, _)| *i);
    // In order, after the others: each step depends on the one before.
    if let Some(access) = &config.admin {
        let b = Builder::new(config, host, target_now, clock.margin_ms())?;
        if b.has_key_ids() {
            for case in lifecycle::cases(&b, &client, target, access, config.timeout).await {
                results.push((usize::MAX - 1, case));
            }
        }
    }
    if config.timing {
        // Alone, after the others: concurrent traffic would drown the signal.
        let b = Builder::new(config, host, target_now, clock.margin_ms())?;
        results.push((
            usize::MAX,
            timing_case(&b, &client, target, config.timeout).await,
        ));
        report_progress(&finished);
    }
    Ok(Run {
        clock,
        results: results.into_iter().map(|(_, r)| r).collect(),
    })
}

/// Sends a probe's steps in order and judges them: the first step that
/// does not pass decides the case, and is shown with its canonical string
/// and a curl command.
async fn execute(
    probe: Probe,
    client: &HttpClient,
    target: &str,
    timeout: Duration,
    deadline: tokio::time::Instant,
) -> CaseResult {
    let steps = match &probe.steps {
        Ok(steps) => steps,
        Err(reason) => {
            let observed = format!("not sent: {reason}");
            let mut case = verdict(probe, Outcome::Error, None, target);
            case.expected = "a request the runner can build".into();
            case.observed = observed;
            return case;
        }
    };
    let mut outcome = Outcome::Pass;
    let mut deciding = None;
    for step in steps {
        let timeout = timeout.min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        let (o, answer) = if step.copies > 1 {
            send_concurrently(client, target, step, timeout).await
        } else {
            let answer = match &step.raw {
                Some(bytes) => send_raw(target.trim_start_matches("http://"), bytes, timeout).await,
                None => send(client, target, &step.request, timeout).await,
            };
            (judge(step.expect, &answer), answer)
        };
        if o != Outcome::Pass && deciding.is_none() {
            outcome = o;
            deciding = Some((step.clone(), answer));
        }
    }
    verdict(probe, outcome, deciding.as_ref(), target)
}

/// The result of a probe: its outcome, and for one that did not pass, the
/// deciding step's expected and observed answer, canonical string and curl.
fn verdict(
    probe: Probe,
    outcome: Outcome,
    deciding: Option<&(Step, Answer)>,
    target: &str,
) -> CaseResult {
    let (expected, observed, detail, reproduce) = match deciding {
        None => (
            "as specified".into(),
            "as specified".into(),
            String::new(),
            String::new(),
        ),
        Some((step, answer)) => (
            step.expect.describe().to_owned(),
            answer.describe(),
            format!(
                "canonical string of the request as sent: {:?}",
                step.canonical
            ),
            match &step.raw {
                Some(bytes) => netcat(target, bytes),
                None => curl(target, &step.request),
            },
        ),
    };
    CaseResult {
        id: probe.id,
        category: probe.category,
        description: probe.description,
        outcome,
        expected,
        observed,
        detail,
        reproduce,
    }
}

/// Sends `step.copies` identical requests at once: more than one accepted
/// is a failure (a nonce store that checks and records in two steps).
async fn send_concurrently(
    client: &HttpClient,
    target: &str,
    step: &Step,
    timeout: Duration,
) -> (Outcome, Answer) {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..step.copies {
        let (client, target, request) = (client.clone(), target.to_owned(), step.request.clone());
        set.spawn(async move { send(&client, &target, &request, timeout).await });
    }
    let answers = set.join_all().await;
    if let Some(worst) = answers
        .iter()
        .find(|a| matches!(judge(Expect::Either, a), Outcome::Fail | Outcome::Error))
    {
        return (judge(Expect::Either, worst), worst.clone());
    }
    let accepted = answers
        .iter()
        .filter(|a| matches!(a, Answer::Status(s, _) if (200..300).contains(s)))
        .count();
    let summary = Answer::Status(
        if accepted > 0 { 200 } else { 401 },
        format!(
            "{accepted} of {} identical concurrent requests accepted",
            step.copies
        ),
    );
    (
        if accepted > 1 {
            Outcome::Fail
        } else {
            Outcome::Pass
        },
        summary,
    )
}

/// A finished run against one target.
#[derive(Debug, Clone)]
pub struct Run {
    /// The clock estimate the boundary probes used.
    pub clock: ClockEstimate,
    /// Every case, in catalog order.
    pub results: Vec<CaseResult>,
}

/// Counts of each outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Cases that passed.
    pub pass: usize,
    /// Conformance failures.
    pub fail: usize,
    /// Weaknesses.
    pub warn: usize,
    /// Informational.
    pub info: usize,
    /// Not judged.
    pub error: usize,
    /// Not applicable.
    pub skip: usize,
}

impl Counts {
    /// Tallies `results`.
    pub fn of(results: &[CaseResult]) -> Counts {
        let mut c = Counts::default();
        for r in results {
            *match r.outcome {
                Outcome::Pass => &mut c.pass,
                Outcome::Fail => &mut c.fail,
                Outcome::Warn => &mut c.warn,
                Outcome::Info => &mut c.info,
                Outcome::Error => &mut c.error,
                Outcome::Skip => &mut c.skip,
            } += 1;
        }
        c
    }
}

impl Outcome {
    /// How the terminal report marks this outcome (the caller's stream
    /// drops the colour where it is not a terminal).
    pub fn style(self) -> anstyle::Style {
        use anstyle::AnsiColor::*;
        let color = match self {
            Outcome::Pass => Green,
            Outcome::Fail => Red,
            Outcome::Warn => Yellow,
            Outcome::Info => Cyan,
            Outcome::Error => Magenta,
            Outcome::Skip => BrightBlack,
        };
        anstyle::Style::new().fg_color(Some(color.into())).bold()
    }
}

/// The human report for one target: results grouped by category, every
/// case that did not pass shown with what was expected, what was observed,
/// the canonical string and a curl command. Outcomes carry ANSI colours;
/// print through a stream that strips them where they do not belong
/// (`anstream`).
pub fn render_text(target: &str, run: &Run) -> String {
    use std::fmt::Write as _;
    let results = &run.results;
    let mut out = String::new();
    let _ = match run.clock.uncertainty_ms {
        Some(u) => writeln!(
            out,
            "target {target} (clock offset {:+} ms ± {u} ms)",
            run.clock.offset_ms
        ),
        None => writeln!(
            out,
            "target {target} (no Date header: clock offset unknown, boundary margin 2 s)"
        ),
    };
    let mut categories: Vec<Category> = results.iter().map(|r| r.category).collect();
    categories.sort_unstable();
    categories.dedup();
    for category in categories {
        let in_category: Vec<&CaseResult> =
            results.iter().filter(|r| r.category == category).collect();
        let counts = Counts::of(&in_category.iter().map(|r| (*r).clone()).collect::<Vec<_>>());
        let _ = writeln!(
            out,
            "  {:<11} {} pass, {} fail, {} warn, {} info, {} error",
            format!("{category:?}").to_lowercase(),
            counts.pass,
            counts.fail,
            counts.warn,
            counts.info,
            counts.error
        );
        for r in in_category.iter().filter(|r| r.outcome != Outcome::Pass) {
            let style = r.outcome.style();
            let _ = writeln!(
                out,
                "    {style}{:<5}{style:#} {}  {}",
                format!("{:?}", r.outcome).to_uppercase(),
                r.id,
                r.description
            );
            let _ = writeln!(
                out,
                "          expected {}, observed {}",
                r.expected, r.observed
            );
            if r.outcome == Outcome::Fail || r.outcome == Outcome::Error {
                let _ = writeln!(out, "          {}", r.detail);
                let _ = writeln!(out, "          reproduce: {}", r.reproduce);
            }
        }
    }
    out
}

/// The machine-readable report: every case, and counts per outcome.
pub fn render_json(runs: &[(String, Run)]) -> serde_json::Value {
    let all: Vec<CaseResult> = runs.iter().flat_map(|(_, r)| r.results.clone()).collect();
    serde_json::json!({
        "targets": runs.iter().map(|(target, run)| serde_json::json!({
            "target": target,
            "clock": run.clock,
            "summary": Counts::of(&run.results),
            "cases": run.results,
        })).collect::<Vec<_>>(),
        "summary": Counts::of(&all),
    })
}

/// The cross-instance replay case: `targets` are instances of one
/// deployment, so a request accepted by the first must be rejected by every
/// other (a per-instance nonce store lets it through).
pub async fn run_cross_instance(
    config: &RunConfig,
    targets: &[String],
) -> Result<Option<CaseResult>, RunError> {
    let [first, others @ ..] = targets else {
        return Ok(None);
    };
    if others.is_empty() {
        return Ok(None);
    }
    let first = first.trim_end_matches('/');
    let uri: http::Uri = first.parse().map_err(|_| RunError::Target(first.into()))?;
    let host = uri.authority().map_or("", |a| a.as_str()).to_owned();
    let b = Builder::new(config, &host, SystemClock.now_ms(), MIN_MARGIN_MS)?;
    let post = b.base("POST", true);
    let input = b.input(b.now);
    if !has_nonce_of(b.scheme.as_ref(), &post, &input) {
        return Ok(None); // without nonces, replays inside the window are accepted by design
    }
    let step = b.step(
        &post,
        &Recipe {
            input,
            ..Recipe::default()
        },
        Expect::Accept,
    );
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut result = CaseResult {
        id: format!("{}/replay/cross-instance", config.scheme),
        category: Category::Replay,
        description: "a request accepted by one instance is rejected by the others".into(),
        outcome: Outcome::Pass,
        expected: "first instance 2xx, every other 4xx".into(),
        observed: String::new(),
        detail: String::new(),
        reproduce: String::new(),
    };
    let step = match step {
        Ok(step) => step,
        Err(reason) => {
            result.outcome = Outcome::Error;
            result.observed = format!("not sent: {reason}");
            return Ok(Some(result));
        }
    };
    let mut observed = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let target = target.trim_end_matches('/');
        // Every instance is sent the same bytes, Host included.
        let answer = send(&client, target, &step.request, config.timeout).await;
        let expect = if i == 0 {
            Expect::Accept
        } else {
            Expect::Reject
        };
        let outcome = judge(expect, &answer);
        observed.push(match &answer {
            Answer::Status(s, _) => format!("{target}: {s}"),
            Answer::Broken(e) | Answer::Refused(e) => format!("{target}: {e}"),
        });
        if outcome != Outcome::Pass && result.outcome == Outcome::Pass {
            result.outcome = outcome;
            result.detail = format!("canonical string signed: {:?}", step.canonical);
            result.reproduce = curl(target, &step.request);
        }
    }
    result.observed = observed.join("; ");
    Ok(Some(result))
}

/// The JUnit XML report, for CI systems: one test suite per target; `fail`
/// is a failure, `error` an error, `skip` skipped, and `warn`/`info` pass
/// with their observation in the case's output.
pub fn render_junit(runs: &[(String, Run)]) -> Result<String, String> {
    use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
    let mut report = Report::new("sigconform");
    for (target, run) in runs {
        let mut suite = TestSuite::new(target.as_str());
        for r in &run.results {
            let status = match r.outcome {
                Outcome::Pass | Outcome::Warn | Outcome::Info => TestCaseStatus::success(),
                Outcome::Skip => TestCaseStatus::skipped(),
                Outcome::Fail | Outcome::Error => {
                    let kind = if r.outcome == Outcome::Fail {
                        NonSuccessKind::Failure
                    } else {
                        NonSuccessKind::Error
                    };
                    let mut status = TestCaseStatus::non_success(kind);
                    status.set_message(format!("expected {}, observed {}", r.expected, r.observed));
                    status.set_description(format!("{}\nreproduce: {}", r.detail, r.reproduce));
                    status
                }
            };
            let mut case = TestCase::new(r.id.as_str(), status);
            case.set_classname(format!("{:?}", r.category).to_lowercase());
            if matches!(r.outcome, Outcome::Warn | Outcome::Info) {
                case.set_system_out(format!("{:?}: {}", r.outcome, r.observed));
            }
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report.to_string().map_err(|e| e.to_string())
}

/// Requests per class in the timing case.
pub const TIMING_SAMPLES: usize = 300;

/// |t| above this is reported: dudect's threshold for "definitely leaks".
const TIMING_T_THRESHOLD: f64 = 4.5;

/// Welch's t statistic of two samples.
pub fn welch_t(a: &[f64], b: &[f64]) -> f64 {
    let stats = |x: &[f64]| {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (n, mean, var)
    };
    let ((na, ma, va), (nb, mb, vb)) = (stats(a), stats(b));
    let denominator = (va / na + vb / nb).sqrt();
    if denominator == 0.0 {
        0.0
    } else {
        (ma - mb) / denominator
    }
}

/// dudect-style: interleave requests whose tag has a long correct prefix
/// (only the last bit wrong) with requests whose first byte is wrong, and
/// compare response times with Welch's t-test. A verifier that compares in
/// constant time shows no difference.
async fn timing_case(
    b: &Builder<'_>,
    client: &HttpClient,
    target: &str,
    timeout: Duration,
) -> CaseResult {
    let post = b.base("POST", true);
    let make = |t: TagTransform| {
        let recipe = Recipe {
            input: b.input(b.now),
            tag_transform: Some(t),
            ..Recipe::default()
        };
        b.step(&post, &recipe, Expect::Reject)
    };
    let (Ok(late), Ok(early)) = (
        make(TagTransform::FlipLastBit),
        make(TagTransform::FlipFirstBit),
    ) else {
        return timing_result(b, Outcome::Error, "could not build the requests".into());
    };
    let (mut late_times, mut early_times) = (Vec::new(), Vec::new());
    for i in 0..2 * TIMING_SAMPLES {
        let (step, times) = if i % 2 == 0 {
            (&late, &mut late_times)
        } else {
            (&early, &mut early_times)
        };
        let started = std::time::Instant::now();
        let answer = send(client, target, &step.request, timeout).await;
        let elapsed = started.elapsed().as_secs_f64() * 1e6;
        if judge(Expect::Reject, &answer) != Outcome::Pass {
            return timing_result(
                b,
                judge(Expect::Reject, &answer),
                "a wrong tag was not rejected with a 4xx".into(),
            );
        }
        times.push(elapsed);
    }
    // Drop the slowest 10 % of each class: scheduler noise, not the verifier.
    for times in [&mut late_times, &mut early_times] {
        times.sort_by(f64::total_cmp);
        times.truncate(times.len() * 9 / 10);
    }
    let t = welch_t(&late_times, &early_times);
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let observed = format!(
        "t = {t:.1}; mean {:.0} µs with a correct prefix, {:.0} µs with a wrong first byte ({} samples each)",
        mean(&late_times),
        mean(&early_times),
        late_times.len()
    );
    let outcome = if t.abs() > TIMING_T_THRESHOLD {
        Outcome::Warn
    } else {
        Outcome::Pass
    };
    timing_result(b, outcome, observed)
}

fn timing_result(b: &Builder<'_>, outcome: Outcome, observed: String) -> CaseResult {
    CaseResult {
        id: format!("{}/timing/tag-prefix", b.config.scheme),
        category: Category::Timing,
        description: "response time does not depend on how much of the tag is right".into(),
        outcome,
        expected: format!("|t| <= {TIMING_T_THRESHOLD}"),
        observed,
        detail: String::new(),
        reproduce: String::new(),
    }
}
