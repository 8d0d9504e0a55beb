//! `tamper`: a signed request with one component changed after signing is
//! rejected — method, path, query, body, each other covered header, key
//! id, nonce, timestamp, secret, and the tag itself.
//!
//! What a scheme covers is discovered ([`covers`]): an accepted change to
//! a covered component is a `fail`, to an uncovered one the scheme's
//! documented weakness (`warn`).

use super::Category::Tamper;
use super::probe::{Builder, Expect, PROBE_BODY, PROBE_PATH, Probe, covers, recased, set_body};
use crate::request::Request;
use crate::scheme::SignInput;
use crate::tamper::{Header, Recipe, SignedAs, TagTransform};

/// Every tamper case, in catalog order.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let mut out = components(b);
    out.extend(key_id(b));
    out.extend(nonce_timestamp_secret(b));
    out.extend(tags(b));
    out
}

/// The runner's POST changed by `change`, signed as `signed_as` says
/// (what the signer saw where it differs from what is sent): rejected
/// where the scheme covers what differs, a weakness where it does not.
fn changed(
    b: &Builder<'_>,
    name: &str,
    what: &str,
    signed_as: SignedAs,
    change: &dyn Fn(&mut Request),
) -> Probe {
    let mut sent = b.base("POST", true);
    change(&mut sent);
    let input = b.input(b.now);
    let expect = match signed_as.request(&sent) {
        Ok(signed) if !covers(b.scheme.as_ref(), &sent, &input, |r| *r = signed.clone()) => {
            Expect::RejectOrWarn
        }
        _ => Expect::Reject,
    };
    let r = Recipe {
        signed_as: Some(signed_as),
        ..b.recipe(b.now)
    };
    b.probe(Tamper, name, what, vec![b.step(&sent, &r, expect)])
}

/// The path of `path_and_query`, without its query.
fn path_of(path_and_query: &str) -> String {
    path_and_query
        .split_once('?')
        .map_or(path_and_query, |(p, _)| p)
        .to_owned()
}

/// A path beside `route`: its last segment replaced.
fn sibling(route: &str) -> String {
    let (parent, last) = route.rsplit_once('/').unwrap_or(("", route));
    let other = if last == "sigconform-other" {
        "sigconform-another"
    } else {
        "sigconform-other"
    };
    format!("{parent}/{other}")
}

/// Method, path, query, body, and every other covered header.
fn components(b: &Builder<'_>) -> Vec<Probe> {
    let post = b.base("POST", true);
    let input = b.input(b.now);
    let signed_path = path_of(&b.path(PROBE_PATH));
    let path = if b.fixed_route {
        // The request must reach the route's handler: the path sent is the
        // route, the one signed a sibling of it.
        changed(
            b,
            "path",
            "the path (signed for a sibling of the route, sent to the route)",
            SignedAs {
                path: Some(sibling(&signed_path)),
                ..SignedAs::default()
            },
            &|_| {},
        )
    } else {
        let other = b.path("/sigconform/other?page=1");
        changed(
            b,
            "path",
            "the path changed after signing",
            SignedAs {
                path: Some(signed_path.clone()),
                ..SignedAs::default()
            },
            &|r| *r.uri_mut() = other.parse().unwrap(),
        )
    };
    let signed_query = b
        .path(PROBE_PATH)
        .split_once('?')
        .map(|(_, q)| q.to_owned());
    let other_query = b.path("/sigconform/probe?page=2");
    let mut out = vec![
        // Sent as POST, which the target routes, and signed as PUT.
        changed(
            b,
            "method",
            "the method (signed as PUT, sent as POST)",
            SignedAs {
                method: Some("PUT".into()),
                ..SignedAs::default()
            },
            &|_| {},
        ),
        path,
        changed(
            b,
            "query",
            "the query changed after signing",
            SignedAs {
                query: signed_query,
                ..SignedAs::default()
            },
            &|r| *r.uri_mut() = other_query.parse().unwrap(),
        ),
    ];
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
    if covers(b.scheme.as_ref(), &post, &input, |r| set_body(r, reencoded)) {
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
        let what = format!("{what} changed after signing");
        out.push(changed(b, name, &what, signed_as, &|r| set_body(r, body)));
    }
    // A path that names the signed one only after dot segments are
    // resolved (what `new URL(...)` or `normpath` do). Only where the
    // path is covered at all; elsewhere tamper/path already says so.
    let other = b.path("/sigconform/other?page=1");
    if covers(b.scheme.as_ref(), &post, &input, |r| {
        *r.uri_mut() = other.parse().unwrap()
    }) {
        let dotted = b.path("/sigconform/other/../probe?page=1");
        let mut probe = changed(
            b,
            "path-dot-segments",
            "the path (dot segments resolving to the signed one) changed after signing",
            SignedAs {
                path: Some(signed_path.clone()),
                ..SignedAs::default()
            },
            &|r| *r.uri_mut() = dotted.parse().unwrap(),
        );
        if b.fixed_route {
            probe.skip = Some(
                "a fixed route: a path with dot segments would not reach the route's handler"
                    .into(),
            );
        }
        out.push(probe);
    }
    // Every other header the scheme covers (for `authorization`, the
    // signed header list), changed after signing. `content-length` is
    // left alone: changing it changes the framing, not the header.
    for (name, value) in [
        ("host", "sigconform-other.test"),
        ("content-type", "text/plain"),
    ] {
        let Some(original) = post.headers().get(name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let change = |r: &mut Request| {
            r.headers_mut()
                .insert(name, http::HeaderValue::from_static(value));
        };
        if covers(b.scheme.as_ref(), &post, &input, change) {
            out.push(changed(
                b,
                &format!("header-{name}"),
                &format!("the signed header {name} changed after signing"),
                SignedAs {
                    headers: vec![Header(name.into(), original.into())],
                    ..SignedAs::default()
                },
                &change,
            ));
        }
    }
    out
}

/// The tag is the runner's key's, the header names another key: a
/// verifier that tries its secrets until one fits, or that falls back to
/// some key, accepts.
fn key_id(b: &Builder<'_>) -> Vec<Probe> {
    if !b.has_key_ids() {
        return Vec::new();
    }
    let post = b.base("POST", true);
    let key_id = &b.config.key_id;
    let renamed = |name: &str, description: &str, other: String, expect: Expect| {
        let r = Recipe {
            input: SignInput {
                key_id: Some(other),
                ..b.input(b.now)
            },
            ..Recipe::default()
        };
        b.probe(
            Tamper,
            name,
            description,
            vec![b.step_signed_by(&post, &r, &b.key, expect)],
        )
    };
    let mut out = vec![renamed(
        "key-id",
        "the key id changed after signing",
        format!("{key_id}-other"),
        Expect::Reject,
    )];
    // The same id in other letter case: a case-insensitive lookup (a SQL
    // collation) accepts it, and then nonces and policies keyed by the id
    // as sent can be sidestepped (`replay/key-id-case`).
    if let Some(recased) = recased(key_id) {
        out.push(renamed(
            "key-id-case",
            "the key id in other letter case",
            recased,
            Expect::RejectOrWarn,
        ));
    }
    out
}

/// The nonce and the timestamp signed as other values than sent, and a
/// tag made with a wrong secret.
fn nonce_timestamp_secret(b: &Builder<'_>) -> Vec<Probe> {
    let post = b.base("POST", true);
    let mut out = Vec::new();
    if b.has_nonce() {
        out.push(b.probe(
            Tamper,
            "nonce",
            "the nonce changed after signing",
            vec![b.step(
                &post,
                &Recipe {
                    signed_as: Some(SignedAs {
                        nonce: Some(format!("{}-signed", b.nonce())),
                        ..SignedAs::default()
                    }),
                    ..b.recipe(b.now)
                },
                Expect::Reject,
            )],
        ));
    }
    out.push(b.probe(
        Tamper,
        "timestamp",
        "the timestamp changed after signing",
        vec![b.step(
            &post,
            &Recipe {
                signed_as: Some(SignedAs {
                    timestamp: Some((b.now - 1).to_string()),
                    ..SignedAs::default()
                }),
                ..b.recipe(b.now)
            },
            Expect::Reject,
        )],
    ));
    out.push(b.probe(
        Tamper,
        "secret",
        "signed with a wrong secret",
        vec![b.step(
            &post,
            &Recipe {
                secret_of: Some("wrong".into()),
                ..b.recipe(b.now)
            },
            Expect::Reject,
        )],
    ));
    out
}

/// The tag cut, extended, flipped, emptied or re-encoded.
const TAG_CHANGES: [(&str, &str, TagTransform, Expect); 9] = [
    (
        "tag-bit-flipped",
        "the tag with its last bit flipped",
        TagTransform::FlipLastBit,
        Expect::Reject,
    ),
    (
        "tag-truncated",
        "the tag without its last byte",
        TagTransform::Truncate,
        Expect::Reject,
    ),
    (
        "tag-prefix",
        "only the first half of the tag",
        TagTransform::TruncateHalf,
        Expect::Reject,
    ),
    (
        "tag-extended",
        "the tag with a byte appended",
        TagTransform::Extend,
        Expect::Reject,
    ),
    (
        "tag-empty",
        "an empty tag",
        TagTransform::Empty,
        Expect::Reject,
    ),
    (
        "tag-other-encoding",
        "the tag in the other encoding (hex for base64, base64 for hex)",
        TagTransform::OtherEncoding,
        Expect::Reject,
    ),
    (
        "tag-uppercase",
        "the tag upper-cased (non-canonical hex: either answer conforms)",
        TagTransform::Uppercase,
        Expect::Either,
    ),
    (
        "tag-base64url",
        "the tag in base64url (non-canonical: either answer conforms)",
        TagTransform::Base64Url,
        Expect::Either,
    ),
    (
        "tag-unpadded",
        "the tag in base64 without padding (non-canonical: either answer conforms)",
        TagTransform::StripPadding,
        Expect::Either,
    ),
];

fn tags(b: &Builder<'_>) -> Vec<Probe> {
    let post = b.base("POST", true);
    TAG_CHANGES
        .into_iter()
        .map(|(name, what, t, expect)| {
            // Some changes leave some tags as they were (no `+` or `/` to
            // turn into base64url, no letters to upper-case): sign again
            // with a fresh nonce and a timestamp a unit earlier until the
            // change shows, so the case tests what it names and is there
            // in every run.
            let changed = (0..16).find_map(|attempt| {
                // A step back in time changes the tag where no nonce does.
                let base = b.recipe(b.now - attempt);
                let plain = b.step(&post, &base, expect).ok()?;
                let step = b
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
            b.probe(Tamper, name, what, vec![changed])
        })
        .collect()
}
