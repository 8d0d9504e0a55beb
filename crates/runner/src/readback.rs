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

use super::payload;
use super::probe::{Builder, Expect, Kept, Probe, ReadBack, Resign, Step};
use crate::verdict::Category::{Acceptance, Tamper};
use sigconform_core::tamper::{Recipe, TagTransform};
use sigconform_defects::Defect;

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
                .options
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
    b.deployment.read_back.clone()
}

/// Where the target keeps what it is sent, every refused write (a request
/// of the probe method) read back: the resource must be as it was before.
pub(super) fn read_back_refused_writes(b: &Builder<'_>, probes: &mut [Probe]) {
    if !b.keeps_what_it_is_sent() {
        return;
    }
    for step in probes.iter_mut().filter_map(Probe::steps_mut).flatten() {
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
        b.deployment.read_back.clone()
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
