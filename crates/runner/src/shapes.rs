//! `shape`: every shape of request that reaches the verifier is verified.
//!
//! A verifier's check is often wired where only some requests pass: a
//! body parser's hook that runs for its own media type only (Express's
//! `json({ verify })`), a middleware that skips requests without a body
//! (a GET, a DELETE, an empty POST), a route of one method, a reader that
//! handles `Content-Length` but not chunks, or a limit past which a body is
//! passed on unchecked. A forged request of such a shape reaches the
//! handler unverified.
//!
//! So each shape is first sent correctly signed: its twin. A shape the
//! target does not take (its twin refused: a 404 or 405 before any
//! verification, a 415, a parser's 400) is no defect, and its forgeries
//! `skip`. Every shape it takes gets the forgeries: no signature, a wrong
//! secret, a stale timestamp and, with a body, the body changed (at its end
//! for a large one). A forgery accepted is a `fail` under `gate`, whatever
//! the twin got. Each forgery's control is a verifier whose check does not
//! fire for that shape ([`Gate`]).
//!
//! The shapes: each method the target is probed with, with a body and
//! without (the twins of those that have one are the acceptance cases);
//! the probe method's body as `application/json; charset=utf-8`, a form,
//! `text/plain`, `application/octet-stream` and with no `Content-Type`;
//! sent in chunks; and with a body like the base past the common read
//! buffers, 16 KiB, 64 KiB and 1 MiB (up to `--max-body`).

use bytes::Bytes;

use super::probe::{Builder, Expect, PROBE_PATH, Probe, Step, Twin};
use crate::verdict::Category::{Acceptance, Shape};
use sigconform_core::Request;
use sigconform_core::scheme::Field;
use sigconform_core::tamper::Recipe;
use sigconform_defects::{Defect, Gate};

/// The read buffers a body is sent past, and each shape's name.
const BUFFERS: [(usize, &str); 3] = [(16 * 1024, "16k"), (64 * 1024, "64k"), (1024 * 1024, "1m")];

/// How far past a buffer a large body goes.
const PAST_BUFFER: usize = 1024;

/// The media types a body is sent as besides JSON (the base), each with
/// the shape's name; `None`: no `Content-Type` at all.
const MEDIA_TYPES: [(Option<&str>, &str); 5] = [
    (Some("application/json; charset=utf-8"), "json-charset"),
    (Some("application/x-www-form-urlencoded"), "form"),
    (Some("text/plain"), "text-plain"),
    (Some("application/octet-stream"), "octet-stream"),
    (None, "no-content-type"),
];

/// A day in milliseconds: how stale a stale forgery is, at least.
const DAY_MS: u64 = 86_400_000;

/// One shape of request: what it is, its twin, and the gate that lets it
/// through unverified.
struct ShapeOf {
    /// Its name in case ids (`text-plain`, `delete-without-body`).
    name: String,
    /// What it is, in words (`a POST as text/plain`).
    what: String,
    /// The request, unsigned.
    request: Request,
    /// Sent in chunks over raw TCP.
    chunked: bool,
    /// Its correctly signed twin: an acceptance case, or a case of its own.
    twin: Twin,
    /// The gate of a verifier whose check does not fire for this shape.
    gate: Gate,
}

/// Every shape case, in catalog order: for each shape its own twin (where
/// no acceptance case is one) and its forgeries.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    shapes(b)
        .into_iter()
        .flat_map(|shape| {
            let mut out = Vec::new();
            if let Twin::Shape(_) = &shape.twin {
                out.push(twin(b, &shape));
            }
            out.extend(forgeries(b, &shape));
            out
        })
        .collect()
}

/// The shapes of this run.
fn shapes(b: &Builder<'_>) -> Vec<ShapeOf> {
    let mut out = methods(b);
    if b.method_selected(b.probe_method()) {
        out.extend(media_types(b));
        out.extend(chunked(b));
        out.extend(large(b));
    }
    out
}

/// Each method with a body (but GET and HEAD, and the probe method, whose
/// forgeries are the rest of the catalog) and without one.
fn methods(b: &Builder<'_>) -> Vec<ShapeOf> {
    let mut out = Vec::new();
    for method in b.methods() {
        let lower = method.to_lowercase();
        let bodiless = matches!(method.as_str(), "GET" | "HEAD");
        if !bodiless && method != b.probe_method() {
            out.push(ShapeOf {
                name: lower.clone(),
                what: format!("a {method} with a body"),
                request: b.base(&method, true),
                chunked: false,
                twin: Twin::Case(b.case_id(Acceptance, &lower)),
                gate: Gate::Method(method.clone()),
            });
        }
        // The twin of a GET, and of a POST without a body, is an
        // acceptance case already.
        let twin = match method.as_str() {
            "GET" | "HEAD" => Twin::Case(b.case_id(Acceptance, &lower)),
            "POST" => Twin::Case(b.case_id(Acceptance, "post-empty-body")),
            _ => Twin::Shape(b.case_id(Shape, &format!("{lower}-without-body"))),
        };
        out.push(ShapeOf {
            name: format!("{lower}-without-body"),
            what: format!("a {method} without a body"),
            request: b.base(&method, false),
            chunked: false,
            twin,
            gate: Gate::Bodiless(method),
        });
    }
    out
}

/// The probe method's base body sent as each other media type, and with
/// no `Content-Type`: the body is the same, only its type changes.
fn media_types(b: &Builder<'_>) -> Vec<ShapeOf> {
    MEDIA_TYPES
        .into_iter()
        .filter(|(media_type, _)| {
            // The base's own type is the base.
            media_type.is_none_or(|m| !m.eq_ignore_ascii_case(&b.base_body().media_type))
        })
        .map(|(media_type, name)| {
            let mut request = b.probe_request();
            match media_type {
                Some(m) => {
                    request.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static(m),
                    );
                }
                None => {
                    request.headers_mut().remove(http::header::CONTENT_TYPE);
                }
            }
            let what = match media_type {
                Some(m) => format!("a {} as {m}", b.probe_method()),
                None => format!("a {} with no Content-Type", b.probe_method()),
            };
            ShapeOf {
                name: name.to_owned(),
                what,
                request,
                chunked: false,
                twin: Twin::Shape(b.case_id(Shape, name)),
                gate: Gate::ContentType(media_type.map(str::to_owned)),
            }
        })
        .collect()
}

/// The base body sent in chunks (its twin: `acceptance/body-chunked`).
fn chunked(b: &Builder<'_>) -> Option<ShapeOf> {
    if !b.scheme.sender().chunked_bodies {
        return None;
    }
    Some(ShapeOf {
        name: "chunked".into(),
        what: format!("a {} with its body in chunks", b.probe_method()),
        request: b.chunked_request(),
        chunked: true,
        twin: Twin::Case(b.case_id(Acceptance, "body-chunked")),
        gate: Gate::Chunked,
    })
}

/// The probe method with a body like the base past each common read
/// buffer (see [`Body::past`](super::base::Body::past)), up to `--max-body`.
fn large(b: &Builder<'_>) -> Vec<ShapeOf> {
    let base = b.base_body();
    BUFFERS
        .into_iter()
        .filter(|(buffer, _)| buffer + PAST_BUFFER <= b.options.max_body)
        .map(|(buffer, name)| ShapeOf {
            name: name.to_owned(),
            what: format!(
                "a {} with a body past a {} KiB buffer",
                b.probe_method(),
                buffer / 1024
            ),
            request: b.request_as(
                b.probe_method(),
                &b.path(PROBE_PATH),
                Bytes::from(base.past(buffer + PAST_BUFFER)),
                &base.media_type,
            ),
            chunked: false,
            twin: Twin::Shape(b.case_id(Shape, name)),
            gate: Gate::LargerThan(buffer),
        })
        .collect()
}

/// A shape's own twin: correctly signed, accepted or not taken (`skip`).
fn twin(b: &Builder<'_>, shape: &ShapeOf) -> Probe {
    let step = b
        .step(&shape.request, &b.recipe(b.now), Expect::Optional)
        .map(|step| sent_as(shape, step));
    b.probe(
        Shape,
        &shape.name,
        &format!(
            "{}, correctly signed: taken, or not a shape the route takes",
            shape.what
        ),
        vec![step],
    )
    .rule(b.cite("valid-basic"))
    .no_control("a valid request: nothing to ignore")
}

/// The forgeries of a shape: no signature, a wrong secret, a stale
/// timestamp, the body changed.
fn forgeries(b: &Builder<'_>, shape: &ShapeOf) -> Vec<Probe> {
    let forgery = |suffix: &str, what: &str, step: Result<Step, String>| {
        let mut probe = b
            .probe(
                Shape,
                &format!("{}-{suffix}", shape.name),
                &format!("{}, {what}, is rejected", shape.what),
                vec![step.map(|step| sent_as(shape, step))],
            )
            .rule(b.cite("gate"))
            .control(Defect::Ungated(shape.gate.clone()));
        probe.twin = match &shape.twin {
            Twin::Case(id) => Twin::Shape(id.clone()),
            twin => twin.clone(),
        };
        probe
    };
    let mut out = vec![
        forgery(
            "unsigned",
            "unsigned",
            b.unsigned(&shape.request, Expect::Reject),
        ),
        forgery(
            "wrong-secret",
            "signed with a wrong secret",
            b.step(
                &shape.request,
                &Recipe {
                    secret_of: Some("wrong".into()),
                    ..b.recipe(b.now)
                },
                Expect::Reject,
            ),
        ),
    ];
    if b.location(&Field::Timestamp).is_some() && b.scheme.window().past != u64::MAX {
        let w = b.scheme.window();
        let stale = b.unit.from_ms(DAY_MS).max(w.past.saturating_mul(10));
        out.push(forgery(
            "stale",
            "signed a day (or ten windows) ago",
            b.step(
                &shape.request,
                &b.recipe(b.now.saturating_sub(stale)),
                Expect::Reject,
            ),
        ));
    }
    if let Some(step) = body_changed(b, shape) {
        out.push(forgery(
            "body-changed",
            "its body changed after signing",
            step,
        ));
    }
    out
}

/// The shape's request signed, then its body's last letter or digit
/// changed (at its end: past any buffer; the length kept); `None` without
/// a body, or where the scheme does not sign the body.
fn body_changed(b: &Builder<'_>, shape: &ShapeOf) -> Option<Result<Step, String>> {
    let body = shape.request.body();
    let at = body.iter().rposition(u8::is_ascii_alphanumeric)?;
    let mut changed = body.to_vec();
    changed[at] = if changed[at] == b'x' { b'y' } else { b'x' };
    let changed = Bytes::from(changed);
    if !b.signs_body() {
        return None;
    }
    Some(
        b.step(&shape.request, &b.recipe(b.now), Expect::Reject)
            .map(|mut step| {
                *step.request.body_mut() = changed;
                step
            }),
    )
}

/// `step` as the shape sends it: over raw TCP in chunks where it is
/// chunked.
fn sent_as(shape: &ShapeOf, mut step: Step) -> Step {
    if shape.chunked {
        step.raw = Some(super::transport::raw_chunked(&step.request, 7));
    }
    step
}
