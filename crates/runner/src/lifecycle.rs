//! The key lifecycle cases of the `keys` category, run when the runner has
//! the target's admin API (`--admin-url`, `--admin-token-env`): a key
//! created through the API signs accepted requests; after rotation its old
//! secret is rejected and the new one accepted; once revoked it is
//! rejected; a key without the route's permission gets 403.
//!
//! Every key the runner creates is revoked at the end, whatever happened in
//! between. Secrets from the API never leave this module: answers are
//! parsed, never shown.

use std::time::Duration;

use serde_json::{Value, json};

use super::judge::{Decided, Session, judge};
use super::probe::{Builder, Expect, Probe, Sequence};
use super::transport::{HttpClient, MAX_RESPONSE_BODY};
use crate::deployment::AdminAccess;
use crate::verdict::{CaseResult, Category, Outcome};
use sigconform_core::keys::Secret;
use sigconform_core::scheme::SignInput;
use sigconform_core::tamper::Recipe;

/// How long a rotated or revoked secret may still be accepted before it
/// counts as a failure: a deployment whose instances cache keys learns of
/// a revocation only when its cache entry expires. Accepted for a while,
/// then rejected, is a `warn` naming how long.
pub const REVOCATION_GRACE: Duration = Duration::from_secs(5);

/// The lifecycle cases, in the order they run: name and description.
const CASES: [(&str, &str); 5] = [
    (
        "lifecycle-create",
        "a key created through the admin API signs accepted requests",
    ),
    (
        "lifecycle-rotate",
        "after rotation the old secret is rejected and the new one accepted",
    ),
    ("lifecycle-revoke", "a revoked key is rejected"),
    (
        "permission-missing",
        "a key without the route's permission gets 403",
    ),
    (
        "lifecycle-cleanup",
        "the keys the runner created are revoked at the end",
    ),
];

/// The admin API, as the runner calls it.
struct Admin<'a> {
    client: &'a HttpClient,
    access: &'a AdminAccess,
    timeout: Duration,
}

const KEYS: &str = "/api/v1/admin/api-keys";

impl Admin<'_> {
    /// One call; the JSON answer on 2xx, else a description of the status
    /// and error code (never the body, which may hold a secret).
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let uri: http::Uri = format!("{}{path}", self.access.url.trim_end_matches('/'))
            .parse()
            .map_err(|e| format!("admin URL: {e}"))?;
        let req = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.access.token.expose()),
            )
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .map_err(|e| format!("admin request: {e}"))?;
        let answer = tokio::time::timeout(self.timeout, async {
            let resp = self.client.request(req).await.map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let body = http_body_util::BodyExt::collect(http_body_util::Limited::new(
                resp.into_body(),
                MAX_RESPONSE_BODY,
            ))
            .await
            .map_err(|e| format!("status {status}, unreadable body: {e}"))?
            .to_bytes();
            Ok::<_, String>((status, body))
        })
        .await
        .map_err(|_| format!("no answer within {:?}", self.timeout))??;
        let (status, body) = answer;
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            Ok(json)
        } else {
            Err(format!(
                "{method} {path}: {status} {}",
                json["error"].as_str().unwrap_or("(no error code)")
            ))
        }
    }

    async fn create(&self, key_id: &str, permissions: &[&str]) -> Result<Secret, String> {
        let answer = self
            .call(
                "POST",
                KEYS,
                Some(json!({"key_id": key_id, "permissions": permissions,
                            "description": "sigconform lifecycle probe (revoked at the end of the run)"})),
            )
            .await?;
        secret_of(&answer)
    }

    async fn rotate(&self, key_id: &str) -> Result<Secret, String> {
        secret_of(
            &self
                .call("POST", &format!("{KEYS}/{key_id}/rotate"), None)
                .await?,
        )
    }

    async fn revoke(&self, key_id: &str) -> Result<(), String> {
        self.call("DELETE", &format!("{KEYS}/{key_id}"), None)
            .await
            .map(drop)
    }
}

fn secret_of(answer: &Value) -> Result<Secret, String> {
    answer["secret"]
        .as_str()
        .map(Secret::new)
        .ok_or_else(|| "the admin API answered without a secret".into())
}

/// A case that could not be judged because the admin API failed.
fn admin_error(b: &Builder<'_>, name: &str, description: &str, error: String) -> CaseResult {
    result(
        b,
        name,
        description,
        Outcome::Error,
        "the admin API to answer",
        error,
    )
}

/// The id of the lifecycle case `name` of `scheme`.
fn case_id(scheme: &impl std::fmt::Display, name: &str) -> String {
    format!("{scheme}/keys/{name}")
}

/// The lifecycle cases, where the deployment's admin API is given and the
/// scheme has key ids.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    if b.deployment.admin.is_none() || !b.has_key_ids() {
        return Vec::new();
    }
    CASES
        .iter()
        .map(|(name, description)| {
            b.sequence(
                Category::Keys,
                name,
                description,
                "key-lifecycle",
                Sequence::Lifecycle,
            )
            .no_control(NO_CONTROL)
        })
        .collect()
}

/// Why the lifecycle cases have no control.
const NO_CONTROL: &str =
    "a sequence through the admin API: its steps change the keys, not one property of a request";

fn result(
    b: &Builder<'_>,
    name: &str,
    description: &str,
    outcome: Outcome,
    expected: &str,
    observed: String,
) -> CaseResult {
    let mut result = CaseResult::new(
        case_id(&b.deployment.scheme, name),
        Category::Keys,
        description,
        outcome,
        expected,
        observed,
    );
    result.rule = b.cite("key-lifecycle");
    result
}

/// The runner's own requests, signed by `key_id` with `secret`.
struct Signer<'b, 'c> {
    b: &'b Builder<'c>,
    session: &'b Session,
}

impl Signer<'_, '_> {
    fn probe(
        &self,
        name: &str,
        description: &str,
        key_id: &str,
        secret: &Secret,
        expect: Expect,
    ) -> Probe {
        let input = SignInput {
            key_id: Some(key_id.into()),
            ..self.b.input(self.b.now)
        };
        let recipe = Recipe {
            input,
            ..Recipe::default()
        };
        let step = self.b.step_signed_by(
            &self.b.probe_request(),
            &recipe,
            &self.b.key_for(key_id, secret),
            expect,
        );
        self.b
            .probe(Category::Keys, name, description, vec![step])
            .rule(self.b.cite("key-lifecycle"))
    }

    async fn run(&self, probe: Probe) -> CaseResult {
        let session = Session {
            deadline: tokio::time::Instant::now() + self.session.timeout * 4,
            ..self.session.clone()
        };
        session.execute(probe, None).await
    }

    /// A secret that must no longer work: sent again (each time with a new
    /// nonce) while it is accepted, for at most [`REVOCATION_GRACE`].
    async fn rejected_within_grace(
        &self,
        name: &str,
        description: &str,
        key_id: &str,
        secret: &Secret,
    ) -> CaseResult {
        let started = tokio::time::Instant::now();
        loop {
            let probe = self.probe(name, description, key_id, secret, Expect::Reject);
            let Some(step) = probe.steps().and_then(|s| s.first()).cloned() else {
                return self.run(probe).await;
            };
            let exchange = self.session.exchange(&step).await;
            let outcome = judge(Expect::Reject, &exchange.answer);
            let accepted = exchange.answer.accepted();
            if accepted && started.elapsed() < REVOCATION_GRACE {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            let waited = started.elapsed();
            let decided = Decided {
                step,
                outcome,
                exchange,
                note: None,
                read_back: None,
            };
            let mut case = self.session.verdict(probe, outcome, Some(&decided));
            if outcome == Outcome::Pass && waited > Duration::from_millis(100) {
                case.outcome = Outcome::Warn;
                case.expected = "4xx from the next request on".into();
                case.observed = format!(
                    "accepted for {} ms more, then rejected (a key cache?)",
                    waited.as_millis()
                );
            } else if accepted {
                case.observed = format!(
                    "still accepted {} s after the change: {}",
                    REVOCATION_GRACE.as_secs(),
                    case.observed
                );
            }
            return case;
        }
    }
}

/// The lifecycle cases against `target`, keys managed through `access`.
pub(super) async fn cases(
    b: &Builder<'_>,
    session: &Session,
    access: &AdminAccess,
) -> Vec<CaseResult> {
    let admin = Admin {
        client: &session.transport.client,
        access,
        timeout: session.timeout,
    };
    let signer = Signer { b, session };
    let writer = format!("sc-{:x}-rw", b.run_id);
    let reader = format!("sc-{:x}-ro", b.run_id);
    let mut out = Vec::new();

    // Created, accepted; rotated: the old secret rejected, the new accepted;
    // revoked: rejected.
    let [create, rotate, revoke, permission, cleanup] = CASES;
    let (name, what) = create;
    match admin.create(&writer, &["read", "write"]).await {
        Err(e) => out.push(admin_error(b, name, what, e)),
        Ok(first) => {
            out.push(
                signer
                    .run(signer.probe(name, what, &writer, &first, Expect::Accept))
                    .await,
            );
            let (name, what) = rotate;
            match admin.rotate(&writer).await {
                Err(e) => out.push(admin_error(b, name, what, e)),
                Ok(second) => {
                    let old = signer
                        .rejected_within_grace(name, what, &writer, &first)
                        .await;
                    let new = signer
                        .run(signer.probe(name, what, &writer, &second, Expect::Accept))
                        .await;
                    out.push(if old.outcome == Outcome::Pass {
                        new
                    } else {
                        old
                    });
                    let (name, what) = revoke;
                    match admin.revoke(&writer).await {
                        Err(e) => out.push(admin_error(b, name, what, e)),
                        Ok(()) => out.push(
                            signer
                                .rejected_within_grace(name, what, &writer, &second)
                                .await,
                        ),
                    }
                }
            }
        }
    }

    // A read-only key may not write: 403 after its signature verified.
    let (name, what) = permission;
    match admin.create(&reader, &["read"]).await {
        Err(e) => out.push(admin_error(b, name, what, e)),
        Ok(secret) => out.push(
            signer
                .run(signer.probe(name, what, &reader, &secret, Expect::Forbidden))
                .await,
        ),
    }

    // Whatever happened: the runner's keys do not outlive the run.
    let mut left = Vec::new();
    for key_id in [&writer, &reader] {
        match admin.revoke(key_id).await {
            Ok(()) => {}
            Err(e) if e.contains(" 404 ") => {}
            Err(e) => left.push(format!("{key_id}: {e}")),
        }
    }
    let (name, what) = cleanup;
    out.push(if left.is_empty() {
        result(
            b,
            name,
            what,
            Outcome::Pass,
            "as specified",
            "as specified".into(),
        )
    } else {
        result(
            b,
            name,
            what,
            Outcome::Error,
            "every created key revoked",
            format!("not revoked: {}", left.join("; ")),
        )
    });
    out
}
