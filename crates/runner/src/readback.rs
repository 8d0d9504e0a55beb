//! What a target keeps of the requests it is sent, where it keeps anything
//! (an S3 object, which every accepted PUT replaces): a step that writes
//! can name a read-back, a validly signed request that reads the resource,
//! sent after the step (and before it, to compare) and what it must return:
//! exactly the payload signed after an accepted write, what was there
//! before after a refused one. A read-back that contradicts the step's
//! answer decides the case, under the read-back's own rule.
//!
//! Every refused PUT of the catalog is read back so
//! ([`read_back_refused_writes`]), and four cases of their own name the rules.

use bytes::Bytes;

use super::Category::{Acceptance, Tamper};
use super::judge::Session;
use super::probe::{Builder, Expect, Probe, Resign, Step};
use super::{Cited, Outcome, payload};
use sigconform_core::tamper::{Recipe, TagTransform};
use sigconform_core::time::{Clock, SystemClock};
use sigconform_defects::Defect;

/// A read of what a step writes: the request, signed when it is sent, and
/// what it must find.
#[derive(Debug, Clone)]
pub(super) struct ReadBack {
    request: std::sync::Arc<Resign>,
    kept: Kept,
    rule: Cited,
    /// The most of the resource it reads: more than the largest body the
    /// runner sends (`--max-body`).
    limit: usize,
}

/// What a read-back must find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kept {
    /// After the step was accepted: exactly these bytes, the payload signed.
    Payload(Bytes),
    /// After the step was refused: what was read before it.
    Unchanged,
}

/// What a read-back found against the step's answer.
pub(super) struct Finding {
    pub(super) outcome: Outcome,
    pub(super) expected: String,
    pub(super) observed: String,
    pub(super) rule: Cited,
}

impl Builder<'_> {
    /// A read-back of what a write to `path` keeps: a GET of it, signed by
    /// the runner's key when it is sent.
    pub(super) fn read_back(&self, path: &str, kept: Kept) -> ReadBack {
        let rule = match kept {
            Kept::Payload(_) => self.cite("stored-payload"),
            Kept::Unchanged => self.cite("refused-write"),
        };
        let get = self.request_to("GET", path, Bytes::new());
        ReadBack {
            request: std::sync::Arc::new(Resign::now(self, get)),
            kept,
            rule,
            limit: self
                .config
                .max_body
                .max(super::transport::MAX_RESPONSE_BODY)
                + 64 * 1024,
        }
    }
}

/// Where a write of `step`'s is read back: the S3 object it writes, or the
/// path the user named (`--read-back`) where the target keeps what it
/// accepts; `None` for a target that keeps nothing the runner can read.
fn resource(b: &Builder<'_>, step: &Step) -> Option<String> {
    if b.writes_a_resource() {
        return Some(step.request.uri().path().to_owned());
    }
    b.config.read_back.clone()
}

/// Where the target keeps what it is sent, every refused write (a request
/// of the probe method) read back: the resource must be as it was before.
pub(super) fn read_back_refused_writes(b: &Builder<'_>, probes: &mut [Probe]) {
    if !b.keeps_what_it_is_sent() {
        return;
    }
    for step in probes
        .iter_mut()
        .filter_map(|p| p.steps.as_mut().ok())
        .flatten()
    {
        let refused = matches!(
            step.expect,
            Expect::Reject | Expect::RejectOrWarn | Expect::Either
        );
        let write = step.request.method() == b.probe_method();
        if refused
            && write
            && step.copies == 1
            && step.read_back.is_none()
            && let Some(path) = resource(b, step)
        {
            step.read_back = Some(b.read_back(&path, Kept::Unchanged));
        }
    }
}

/// The cases that name what a target keeps: an accepted write (for S3, in
/// each way a body is signed) read back as exactly its payload; a refused
/// write that leaves the resource as it was. Only where the probes write a
/// resource, or the user named where the target keeps what it accepts.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let put = b.probe_request();
    let Some(path) = (if b.writes_a_resource() {
        Some(put.uri().path().to_owned())
    } else {
        b.config.read_back.clone()
    }) else {
        return Vec::new();
    };
    let method = b.probe_method().to_lowercase();
    let payload = put.body().clone();
    let kept = |step: Result<Step, String>, payload: Bytes| {
        step.map(|mut step| {
            step.read_back = Some(b.read_back(&path, Kept::Payload(payload)));
            step
        })
    };
    let plain = kept(
        b.step(&put, &b.recipe(b.now), Expect::Accept),
        payload.clone(),
    );
    let upper = method.to_uppercase();
    // The resource first holds the runner's body; then another body is
    // sent with its tag's last bit flipped.
    let mut other = put.clone();
    super::probe::set_body(&mut other, &b.other_body());
    let flipped = Recipe {
        tag_transform: Some(TagTransform::FlipLastBit),
        ..b.recipe(b.now)
    };
    let refused = b.step(&other, &flipped, Expect::Reject).map(|mut step| {
        step.read_back = Some(b.read_back(&path, Kept::Unchanged));
        step
    });
    let mut out = vec![
        b.probe(
            Acceptance,
            &format!("{method}-read-back"),
            &format!("an accepted {upper} keeps exactly its body: a signed GET reads it back"),
            vec![plain],
        )
        .rule(b.cite("stored-payload"))
        .no_control("a valid request: nothing to ignore"),
    ];
    if b.writes_a_resource() {
        out.extend(s3_payload_forms(b, &payload, &kept));
    }
    out.push(
        b.probe(
            Tamper,
            &format!("refused-{method}-unchanged"),
            &format!(
                "a refused {upper} (another body, its tag's last bit flipped) leaves what the target keeps as it was"
            ),
            vec![
                kept(b.step(&put, &b.recipe(b.now), Expect::Accept), payload),
                refused,
            ],
        )
        .rule(b.cite("refused-write"))
        .control(Defect::WritesBeforeVerifying),
    );
    if b.writes_a_resource() {
        payload::s3_only(b, out)
    } else {
        out
    }
}

/// The other ways an S3 object's body is signed, each read back as exactly
/// its payload: `UNSIGNED-PAYLOAD`, and a chunked upload (whose framing
/// must not be kept).
fn s3_payload_forms(
    b: &Builder<'_>,
    payload: &Bytes,
    kept: &dyn Fn(Result<Step, String>, Bytes) -> Result<Step, String>,
) -> Vec<Probe> {
    let unsigned = kept(
        b.step(&payload::unsigned(b), &b.recipe(b.now), Expect::Accept),
        payload.clone(),
    );
    let mut out = vec![
        b.probe(
            Acceptance,
            "unsigned-payload-read-back",
            "an accepted PUT signed as UNSIGNED-PAYLOAD keeps exactly its body",
            vec![unsigned],
        )
        .rule(b.cite("stored-payload"))
        .no_control("a valid request: nothing to ignore"),
    ];
    if let Some(chunked) = payload::chunked_step(b, &payload::plan(), Expect::Accept) {
        out.push(
            b.probe(
                Acceptance,
                "chunked-upload-read-back",
                "an accepted chunked upload keeps exactly its chunks' data, not their framing",
                vec![chunked.and_then(|step| kept(Ok(step), payload.clone()))],
            )
            .rule(b.cite("stored-payload"))
            .control(Defect::StoresChunkFraming),
        );
    }
    out
}

impl Session {
    /// The resource `step` writes, read before it is sent, where the step
    /// must leave it unchanged if refused.
    pub(super) async fn read_before(&self, step: &Step) -> Option<Result<(u16, Bytes), String>> {
        let read_back = step.read_back.as_ref()?;
        if read_back.kept != Kept::Unchanged {
            return None;
        }
        Some(self.read(read_back).await)
    }

    /// What reading the resource back says about a step that passed
    /// (`accepted` or refused): nothing when it holds what it must.
    pub(super) async fn read_after(
        &self,
        step: &Step,
        outcome: Outcome,
        accepted: bool,
        before: Option<Result<(u16, Bytes), String>>,
    ) -> Option<Finding> {
        let read_back = step.read_back.as_ref()?;
        if outcome != Outcome::Pass {
            return None;
        }
        let finding = |outcome, expected: &str, observed: String| Finding {
            outcome,
            expected: expected.to_owned(),
            observed,
            rule: read_back.rule.clone(),
        };
        match (&read_back.kept, accepted) {
            (Kept::Payload(payload), true) => {
                let expected = "a signed GET reads back exactly the payload signed";
                match self.read(read_back).await {
                    Ok((200..=299, body)) if body == *payload => None,
                    Ok((200..=299, body)) => Some(finding(
                        Outcome::Fail,
                        expected,
                        format!(
                            "accepted, but a signed GET reads back {} bytes, not the {} signed: {}",
                            body.len(),
                            payload.len(),
                            shown(&body)
                        ),
                    )),
                    Ok((404, _)) => Some(finding(
                        Outcome::Fail,
                        expected,
                        "accepted, but a signed GET finds nothing kept (404)".into(),
                    )),
                    Ok((status, body)) => Some(finding(
                        Outcome::Error,
                        expected,
                        format!(
                            "accepted; the signed GET that reads it back was answered {status} {}",
                            shown(&body)
                        ),
                    )),
                    Err(e) => Some(finding(
                        Outcome::Error,
                        expected,
                        format!("accepted; the signed GET that reads it back failed: {e}"),
                    )),
                }
            }
            (Kept::Unchanged, false) => {
                let expected = "refused, and a signed GET reads back what was there before";
                let after = self.read(read_back).await;
                match (before?, after) {
                    (Ok(before), Ok(after)) if before == after => None,
                    (Ok(before), Ok(after)) if readable(before.0) && readable(after.0) => {
                        Some(finding(
                            Outcome::Fail,
                            expected,
                            format!(
                                "refused, but the resource changed: before {} {}, after {} {}",
                                before.0,
                                shown(&before.1),
                                after.0,
                                shown(&after.1)
                            ),
                        ))
                    }
                    (Ok((status, body)), _) | (_, Ok((status, body))) if !readable(status) => {
                        Some(finding(
                            Outcome::Error,
                            expected,
                            format!(
                                "refused; the signed GET that reads it back was answered {status} {}",
                                shown(&body)
                            ),
                        ))
                    }
                    (Err(e), _) | (_, Err(e)) => Some(finding(
                        Outcome::Error,
                        expected,
                        format!("refused; the signed GET that reads it back failed: {e}"),
                    )),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Sends `read_back`'s request, signed at the target's clock now.
    async fn read(&self, read_back: &ReadBack) -> Result<(u16, Bytes), String> {
        let now = SystemClock.now_ms().saturating_add_signed(self.offset_ms);
        let (request, _) = read_back.request.at(now, 0)?;
        self.transport
            .fetch(&request, self.timeout, read_back.limit)
            .await
    }
}

/// Whether a read answered with what a resource holds: 2xx, or 404 for
/// nothing.
fn readable(status: u16) -> bool {
    (200..300).contains(&status) || status == 404
}

/// The start of `body`, as text.
fn shown(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(120)]);
    if body.len() > 120 {
        format!("{text:?}…")
    } else {
        format!("{text:?}")
    }
}
