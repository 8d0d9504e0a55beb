//! Presigned URLs, for schemes that have them (SigV4): one is accepted
//! until it expires, both limits inclusive, and not one second later; its
//! lifetime may not exceed what the scheme allows (seven days); and it may
//! not be dated ahead of the target's clock beyond the skew allowed.
//!
//! Each case at a limit is signed again when it is sent, at the same
//! distance from the target's clock, so that it stays where it was put.
//!
//! A presigned URL changed after signing is rejected: its signature, its
//! path (another object's), its `X-Amz-Expires` raised, its
//! `X-Amz-SignedHeaders`, or a parameter added that was not signed.

use super::probe::{Builder, Expect, PROBE_PATH, Probe, Step};
use crate::verdict::Category::Presigned;
use sigconform_core::request::Request;
use sigconform_core::tamper::SignedAs;
use sigconform_defects::Defect;

/// The lifetime of the runner's presigned URLs, in seconds.
const LIFETIME: u64 = 300;
/// The longest lifetime SigV4 allows: seven days, in seconds.
const LONGEST: u64 = 604_800;
/// The lifetime of the URLs changed after signing: long enough to outlast
/// any run, so that only the change can refuse them.
const CHANGED_LIFETIME: u64 = 3_600;

/// Every presigned case, or none for a scheme without presigned URLs.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let Some(accepted) = b.presigned_at_offset(0, LIFETIME, Expect::Accept) else {
        return Vec::new();
    };
    let lifetime = i64::try_from(LIFETIME).expect("a small lifetime");
    let margin = i64::try_from(b.margin).unwrap_or(i64::MAX);
    let future = i64::try_from(b.scheme.window().future).unwrap_or(i64::MAX);
    let case = |name: &str, what: &str, offset: i64, expires: u64, expect: Expect| {
        let step = b
            .presigned_at_offset(offset, expires, expect)
            .expect("the scheme presigns");
        b.probe(Presigned, name, what, vec![step])
            .twin(b.case_id(Presigned, "accepted"))
    };
    vec![
        b.probe(
            Presigned,
            "accepted",
            "a presigned URL dated now is accepted",
            vec![accepted],
        )
        .rule(b.cite("presigned-query"))
        .no_control("a valid request: nothing to ignore"),
        case(
            "inside-expiry",
            "a presigned URL just before it expires is accepted",
            margin.saturating_sub(lifetime),
            LIFETIME,
            Expect::Accept,
        )
        .no_control("a valid request: nothing to ignore"),
        case(
            "expired",
            "a presigned URL just after it expires is rejected",
            -lifetime - margin,
            LIFETIME,
            Expect::Reject,
        )
        .control(Defect::PresignedNeverExpires),
        case(
            "expires-seven-days",
            "X-Amz-Expires of seven days (604800 s) is accepted",
            0,
            LONGEST,
            Expect::Accept,
        )
        .no_control("a valid request: nothing to ignore"),
        case(
            "expires-beyond-seven-days",
            "X-Amz-Expires of seven days and a second (604801 s) is rejected, not capped",
            0,
            LONGEST + 1,
            Expect::Reject,
        )
        .control(Defect::AcceptsAnyExpires),
        case(
            "from-the-future",
            "a presigned URL dated beyond the allowed skew ahead is rejected",
            future.saturating_add(margin),
            LIFETIME,
            Expect::Reject,
        )
        .rule(b.cite("clock-skew"))
        .control(Defect::AcceptsAnyFuture),
    ]
    .into_iter()
    .chain(changed_after_signing(b))
    .collect()
}

/// A URL presigned for `req` now, valid [`CHANGED_LIFETIME`] seconds.
fn presigned(b: &Builder<'_>, req: &Request) -> Result<Request, String> {
    b.scheme
        .presign(req, &b.input(b.now), CHANGED_LIFETIME, &b.key)
        .expect("the scheme presigns")
        .map_err(|e| format!("the request could not be signed: {e}"))
}

/// `url`'s query with `change` made to it.
fn with_query(url: &Request, change: impl Fn(&str) -> String) -> Result<Request, String> {
    let mut changed = url.clone();
    let query = change(url.uri().query().unwrap_or(""));
    *changed.uri_mut() = format!("{}?{query}", url.uri().path())
        .parse()
        .map_err(|e| format!("{e}"))?;
    Ok(changed)
}

/// The presigned URLs changed after signing.
fn changed_after_signing(b: &Builder<'_>) -> Vec<Probe> {
    let req = b.probe_request();
    let url = presigned(b, &req);
    let query = url
        .as_ref()
        .ok()
        .and_then(|u| u.uri().query())
        .map(str::to_owned);
    // A verifier that verifies the URL as it was signed, whatever it is sent as.
    let as_signed = Defect::VerifiesAsSigned(SignedAs {
        query: query.clone(),
        ..SignedAs::default()
    });
    let step = |changed: Result<Request, String>| {
        changed.map(|r| Step::signed(b.canonical_of(&r), r, Expect::Reject))
    };
    let query_changed = |name: &str, what: &str, change: &dyn Fn(&str) -> String| {
        let changed = url.clone().and_then(|u| with_query(&u, change));
        b.probe(Presigned, name, what, vec![step(changed)])
            .rule(b.cite("presigned-query"))
            .control(as_signed.clone())
            .twin(b.case_id(Presigned, "accepted"))
    };
    let signature_changed = url.clone().and_then(|u| {
        with_query(&u, |q| {
            let at = q.find("X-Amz-Signature=").map_or(0, |i| i + 16);
            let mut q = q.to_owned();
            let flipped = if q.as_bytes().get(at) == Some(&b'0') {
                "1"
            } else {
                "0"
            };
            q.replace_range(at..at + 1, flipped);
            q
        })
    });
    // Signed for another object beside the target's, sent to the target's.
    let other_path = other_object(b);
    let mut elsewhere = req.clone();
    *elsewhere.uri_mut() = match req.uri().query() {
        Some(q) => format!("{other_path}?{q}"),
        None => other_path.clone(),
    }
    .parse()
    .expect("a path beside the target's is a URI");
    let other_object = presigned(b, &elsewhere).and_then(|u| {
        let mut sent = u.clone();
        *sent.uri_mut() = format!("{}?{}", req.uri().path(), u.uri().query().unwrap_or(""))
            .parse()
            .map_err(|e| format!("{e}"))?;
        Ok(sent)
    });
    vec![
        b.probe(
            Presigned,
            "signature-changed",
            "a presigned URL with a character of X-Amz-Signature changed is rejected",
            vec![step(signature_changed)],
        )
        .rule(b.cite("presigned-query"))
        .control(Defect::AnyTag)
        .twin(b.case_id(Presigned, "accepted")),
        b.probe(
            Presigned,
            "other-object",
            "a presigned URL signed for another object, sent to the target's, is rejected",
            vec![step(other_object)],
        )
        .rule(b.cite("presigned-query"))
        .control(Defect::VerifiesAsSigned(SignedAs {
            path: Some(other_path),
            ..SignedAs::default()
        }))
        .twin(b.case_id(Presigned, "accepted")),
        query_changed(
            "expires-raised",
            "a presigned URL with X-Amz-Expires raised after signing is rejected",
            &|q| {
                q.replace(
                    &format!("X-Amz-Expires={CHANGED_LIFETIME}"),
                    &format!("X-Amz-Expires={}", CHANGED_LIFETIME * 2),
                )
            },
        ),
        query_changed(
            "signed-headers-changed",
            "a presigned URL with X-Amz-SignedHeaders changed after signing (content-type added) is rejected",
            &|q| {
                q.replace(
                    "X-Amz-SignedHeaders=host",
                    "X-Amz-SignedHeaders=content-type%3Bhost",
                )
            },
        ),
        query_changed(
            "parameter-added",
            "a presigned URL with a parameter added after signing (x-amz-acl=public-read) is rejected",
            &|q| format!("{q}&x-amz-acl=public-read"),
        ),
    ]
}

/// The path of another object beside the target's (a sibling of a fixed
/// route; below the target's path, another than the runner's).
fn other_object(b: &Builder<'_>) -> String {
    let ours = b.path(PROBE_PATH);
    let ours = ours.split_once('?').map_or(ours.as_str(), |(p, _)| p);
    let (parent, last) = ours.rsplit_once('/').unwrap_or(("", ours));
    let other = if last == "sigconform-other" {
        "sigconform-another"
    } else {
        "sigconform-other"
    };
    format!("{parent}/{other}")
}
