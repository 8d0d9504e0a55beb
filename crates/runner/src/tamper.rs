//! `tamper`: a signed request with one component changed after signing is
//! rejected — method, path, query, body (on POST, PATCH and DELETE), each
//! other covered header, key id, nonce, timestamp, secret, the body hash,
//! a listed header's line, the algorithm, the list of signed headers, and
//! the tag itself; and each component changed in exactly what a common
//! way of reading it loses ([`LossyRead`]).
//!
//! What a scheme covers is discovered ([`covers`]): an accepted change to
//! a covered component is a `fail`, to an uncovered one the scheme's
//! documented weakness (`warn`).
//!
//! Each case starts from a request the target accepts and changes one
//! thing. Where a component is changed, the case's control verifies the
//! request as the signer saw it ([`Defect::VerifiesAsSigned`]): it must
//! accept, or something else differs too. Against a fixed route the path
//! sent stays the route (the signed one is a sibling) and the method sent
//! stays POST (the signed one is PUT), so that the request still reaches
//! the handler.

use super::probe::{Builder, Expect, PROBE_PATH, Probe, covers, recased, set_body, set_body_bytes};
use crate::verdict::Category::Tamper;
use base64::Engine as _;

use sigconform_core::crypto::{Algorithm, TagEncoding};
use sigconform_core::keys::Key;
use sigconform_core::lossy::{Component, LossyRead};
use sigconform_core::request::Request;
use sigconform_core::scheme::{Absent, Field, Location, SignInput};
use sigconform_core::tamper::{Absence, Header, Recipe, SignedAs, TagTransform};
use sigconform_defects::Defect;

/// Every tamper case, in catalog order.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let mut out = components(b);
    out.extend(lossy_reads(b));
    out.extend(bodies_on_other_methods(b));
    out.extend(key_id(b));
    out.extend(nonce_timestamp_secret(b));
    out.extend(b.absence_probes(Tamper, &Field::BodyHash, "body-hash"));
    out.extend(signed_header_list(b));
    out.extend(algorithm(b));
    out.extend(secret_forms(b));
    out.extend(tags(b));
    out.extend(several_wrong_signatures(b));
    out
}

/// The secret in the form a verifier mistakes it for: where the scheme
/// decodes its secrets (`whsec_` and base64), the tag made with the
/// secret's text as it is; where it uses the text (Stripe's `whsec_…`
/// secrets), the tag made with the base64 after `whsec_` decoded.
fn secret_forms(b: &Builder<'_>) -> Option<Probe> {
    let secret = &b.deployment.secret;
    let as_text = Key::new(&b.deployment.key_id, secret);
    let probe_message = b"sigconform";
    let decodes = b.key.mac().sign(Algorithm::Sha256, probe_message)
        != as_text.mac().sign(Algorithm::Sha256, probe_message);
    let (name, description, key) = if decodes {
        (
            "secret-undecoded",
            "signed with the secret's text, which the scheme decodes",
            as_text,
        )
    } else {
        let encoded = secret.expose().strip_prefix("whsec_")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        (
            "secret-decoded",
            "signed with the secret's base64 after `whsec_` decoded, which the scheme uses as text",
            Key::from_bytes(&b.deployment.key_id, &bytes),
        )
    };
    let step = b.step_signed_by(&b.probe_request(), &b.recipe(b.now), &key, Expect::Reject);
    Some(
        b.probe(Tamper, name, description, vec![step])
            .rule(b.cite("signed-string"))
            .control(Defect::AnyTag),
    )
}

/// Where tags are items of a list: two signatures, neither right.
fn several_wrong_signatures(b: &Builder<'_>) -> Option<Probe> {
    let at = b.location(&Field::Tag)?;
    if !matches!(at, Location::Item { .. }) {
        return None;
    }
    let r = Recipe {
        secret_of: Some("wrong".into()),
        ..b.recipe(b.now)
    };
    let step = b
        .step(&b.probe_request(), &r, Expect::Reject)
        .and_then(|mut step| {
            at.add_first(&mut step.request, &b.wrong_tag())
                .unwrap_or(Ok(()))
                .map(|()| step)
        });
    Some(
        b.probe(
            Tamper,
            "several-signatures-none-right",
            "two signatures, neither of them right",
            vec![step],
        )
        .rule(b.cite("tag-encoding"))
        .control(Defect::AnyTag),
    )
}

/// The runner's request for `method` changed by `change`, signed as
/// `signed_as` says (what the signer saw where it differs from what is
/// sent): rejected where the scheme covers what differs; where it does
/// not, accepting is what the scheme allows (`info`), nothing the user
/// could fix in the verifier. The control verifies the request as the signer saw it.
fn changed_on(
    b: &Builder<'_>,
    method: &str,
    name: &str,
    what: &str,
    signed_as: SignedAs,
    change: &dyn Fn(&mut Request),
) -> Probe {
    let mut sent = b.base(method, true);
    change(&mut sent);
    let input = b.input(b.now);
    let expect = match signed_as.request(&sent) {
        Ok(signed) if !covers(b.scheme.as_ref(), &sent, &input, |r| *r = signed.clone()) => {
            Expect::RejectOrInfo
        }
        _ => Expect::Reject,
    };
    let r = Recipe {
        signed_as: Some(signed_as.clone()),
        ..b.recipe(b.now)
    };
    let mut step = b.step(&sent, &r, expect);
    if let Ok(step) = step.as_mut()
        && b.reference_accepts(&step.request)
    {
        step.expect = Expect::RejectOrInfo;
    }
    if method != b.probe_method()
        && let Ok(step) = step.as_mut()
    {
        // A method the target may not route: skipped then, not judged.
        step.unrouted_control = Some(sent.clone());
    }
    let probe = b
        .probe(Tamper, name, what, vec![step])
        .rule(b.cite("signed-string"))
        .control(Defect::VerifiesAsSigned(signed_as));
    if method == b.probe_method() {
        probe
    } else {
        // Its twin is that method's acceptance case.
        probe.twin(b.case_id(crate::verdict::Category::Acceptance, &method.to_lowercase()))
    }
}

/// [`changed_on`] for the runner's probe request.
fn changed(
    b: &Builder<'_>,
    name: &str,
    what: &str,
    signed_as: SignedAs,
    change: &dyn Fn(&mut Request),
) -> Probe {
    changed_on(b, b.probe_method(), name, what, signed_as, change)
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

/// What the runner's body was signed as, with its `content-length`.
fn signed_body(body: &str) -> SignedAs {
    SignedAs {
        body: Some(body.into()),
        headers: vec![Header("content-length".into(), body.len().to_string())],
        ..SignedAs::default()
    }
}

/// Method, path, query, body, and every other covered header.
fn components(b: &Builder<'_>) -> Vec<Probe> {
    // The request and input the coverage checks change.
    let (post, input) = (b.probe_request(), b.input(b.now));
    let mut out = request_line(b);
    out.extend(body_changes(b, &post, &input));
    out.extend(dot_segments(b, &post, &input));
    out.extend(other_headers(b, &post, &input));
    out
}

/// The method, the path and the query, each changed after signing.
fn request_line(b: &Builder<'_>) -> Vec<Probe> {
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
                path: Some(signed_path),
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
    // Sent with the method the target routes, and signed with another.
    let sent = b.probe_method().to_owned();
    let signed = if sent == "PUT" { "POST" } else { "PUT" };
    vec![
        changed(
            b,
            "method",
            &format!("the method (signed as {signed}, sent as {sent})"),
            SignedAs {
                method: Some(signed.into()),
                ..SignedAs::default()
            },
            &|_| {},
        ),
        path,
        {
            let mut query = changed(
                b,
                "query",
                "the query changed after signing",
                SignedAs {
                    query: signed_query,
                    ..SignedAs::default()
                },
                &|r| *r.uri_mut() = other_query.parse().unwrap(),
            );
            query.skip = b.no_query_reason();
            query
        },
    ]
}

/// The body changed after signing: another value; a duplicated key whose
/// first copy differs (one JSON parser reads 2, another 1); and the same
/// value at the same length written differently, which a verifier that
/// re-serialises parsed JSON accepts (only where the bytes are covered:
/// under canonical JSON that change is no change at all). The last two
/// need a JSON object: they sign it with a member holding `1.0` (see
/// [`Body::with_number`](super::base::Body::with_number)).
fn body_changes(b: &Builder<'_>, post: &Request, input: &SignInput) -> Vec<Probe> {
    let base = b.probe_body().to_owned();
    let mut changes = vec![("body", "the body", base, b.other_body())];
    // (JSON's: a form's repeated name is an acceptance case.)
    if let Some((signed, member)) = b.base_body().with_number().filter(|_| !b.signs_form()) {
        let written = |number: &str| signed.replacen(&member, &member.replace("1.0", number), 1);
        let reencoded = written("1E0");
        let mut post = post.clone();
        set_body(&mut post, &signed);
        changes.push((
            "body-duplicate-key",
            "the body (a key duplicated)",
            signed.clone(),
            signed.replacen(
                &member,
                &format!("{},{member}", member.replace("1.0", "2")),
                1,
            ),
        ));
        if covers(b.scheme.as_ref(), &post, input, |r| set_body(r, &reencoded)) {
            changes.push((
                "body-reencoded",
                "the body (re-encoded: same JSON value, same length)",
                signed,
                reencoded,
            ));
        }
    }
    changes
        .into_iter()
        .map(|(name, what, signed, sent)| {
            let what = format!("{what} changed after signing");
            changed(b, name, &what, signed_body(&signed), &|r| {
                set_body(r, &sent)
            })
        })
        .collect()
}

/// A path that names the signed one only after dot segments are resolved
/// (what `new URL(...)` or `normpath` do). Only where the path is covered
/// at all; elsewhere tamper/path already says so.
fn dot_segments(b: &Builder<'_>, post: &Request, input: &SignInput) -> Option<Probe> {
    let other = b.path("/sigconform/other?page=1");
    let covered = covers(b.scheme.as_ref(), post, input, |r| {
        *r.uri_mut() = other.parse().unwrap()
    });
    if !covered {
        return None;
    }
    let dotted = b.path("/sigconform/other/../probe?page=1");
    let mut probe = changed(
        b,
        "path-dot-segments",
        "the path (dot segments resolving to the signed one) changed after signing",
        SignedAs {
            path: Some(path_of(&b.path(PROBE_PATH))),
            ..SignedAs::default()
        },
        &|r| *r.uri_mut() = dotted.parse().unwrap(),
    );
    if b.fixed_route {
        probe.skip = Some(
            "a fixed route: a path with dot segments would not reach the route's handler".into(),
        );
    }
    Some(probe)
}

/// Every other header the scheme covers (for `authorization`, the signed
/// header list), changed after signing. `content-length` is left alone:
/// changing it changes the framing, not the header.
fn other_headers(b: &Builder<'_>, post: &Request, input: &SignInput) -> Vec<Probe> {
    let mut out = Vec::new();
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
        if covers(b.scheme.as_ref(), post, input, change) {
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

/// Each component changed after signing in exactly what a common way of
/// reading it loses ([`LossyRead`]): the body trimmed, decoded as text,
/// stripped of a byte-order mark, read with LF line endings or normalised
/// to NFC; the path percent-decoded or lower-cased; the query
/// percent-decoded. Only where the scheme
/// covers the change (under `partner`'s canonical JSON whitespace is no
/// change at all), and for the path not on a fixed route (the disguised
/// path would not reach the route). The control is the verifier that reads
/// that way.
fn lossy_reads(b: &Builder<'_>) -> Vec<Probe> {
    LossyRead::ALL
        .into_iter()
        .filter_map(|read| {
            let probe = match read.component() {
                Component::Body => lossy_body(b, read)?,
                Component::Path if b.fixed_route => return None,
                Component::Path => lossy_path(b, read)?,
                Component::Query => lossy_query(b, read)?,
            };
            Some(
                probe
                    .rule(b.cite("signed-as-received"))
                    .control(Defect::ReadsLossily(read)),
            )
        })
        .collect()
}

/// The body `read` loses information of: signed as [`LossyRead::signed_body`],
/// sent as its disguise.
fn lossy_body(b: &Builder<'_>, read: LossyRead) -> Option<Probe> {
    let signed = read.signed_body(b.probe_body());
    let sent = bytes::Bytes::from(read.disguise(signed.as_bytes())?);
    let mut post = b.probe_request();
    set_body_bytes(&mut post, bytes::Bytes::from(signed.clone()));
    let input = b.input(b.now);
    if !covers(b.scheme.as_ref(), &post, &input, |r| {
        set_body_bytes(r, sent.clone())
    }) {
        return None;
    }
    let mut sent_request = post.clone();
    set_body_bytes(&mut sent_request, sent);
    // Where the request names the headers it signs, `content-length` (which
    // the disguise changes too) is left out, so that only the body differs.
    let input = without_content_length(b, &post, input);
    let r = Recipe {
        input,
        signed_as: Some(signed_body(&signed)),
        ..Recipe::default()
    };
    Some(b.probe(
        Tamper,
        read.name(),
        read.describe(),
        vec![b.step(&sent_request, &r, Expect::Reject)],
    ))
}

/// The path `read` loses information of: the runner's path signed, its
/// disguise sent.
fn lossy_path(b: &Builder<'_>, read: LossyRead) -> Option<Probe> {
    let placed = b.path(PROBE_PATH);
    let (path, query) = placed.split_once('?').unwrap_or((&placed, ""));
    let sent = String::from_utf8(read.disguise(path.as_bytes())?).ok()?;
    let signed_as = SignedAs {
        path: Some(path.to_owned()),
        ..SignedAs::default()
    };
    lossy_uri(b, read, signed_as, &format!("{sent}?{query}"))
}

/// The query `read` loses information of: the runner's query signed, its
/// disguise sent.
fn lossy_query(b: &Builder<'_>, read: LossyRead) -> Option<Probe> {
    let placed = b.path(PROBE_PATH);
    let (path, query) = placed.split_once('?')?;
    let sent = String::from_utf8(read.disguise(query.as_bytes())?).ok()?;
    let signed_as = SignedAs {
        query: Some(query.to_owned()),
        ..SignedAs::default()
    };
    lossy_uri(b, read, signed_as, &format!("{path}?{sent}"))
}

/// The runner's POST sent to `sent` and signed as `signed_as` says, where
/// the scheme covers the difference.
fn lossy_uri(b: &Builder<'_>, read: LossyRead, signed_as: SignedAs, sent: &str) -> Option<Probe> {
    let uri: http::Uri = sent.trim_end_matches('?').parse().ok()?;
    let post = b.probe_request();
    let input = b.input(b.now);
    if !covers(b.scheme.as_ref(), &post, &input, |r| {
        *r.uri_mut() = uri.clone()
    }) {
        return None;
    }
    Some(changed(b, read.name(), read.describe(), signed_as, &|r| {
        *r.uri_mut() = uri.clone()
    }))
}

/// `input`, with a header list that leaves out `content-length` where the
/// request names the headers it signs (`authorization`).
fn without_content_length(b: &Builder<'_>, req: &Request, input: SignInput) -> SignInput {
    if b.location(&Field::SignedHeaders).is_none() {
        return input;
    }
    match b.default_signed_headers(req, &input) {
        Some(mut names) => {
            names.retain(|h| h != "content-length");
            SignInput {
                signed_headers: Some(names),
                ..input
            }
        }
        None => input,
    }
}

/// Bodies on the methods whose bodies verifiers forget: a DELETE's body
/// signed as if it had none (the original `authorization` client and
/// server read bodies only for POST, PUT and PATCH), and a PATCH's body
/// changed after signing.
fn bodies_on_other_methods(b: &Builder<'_>) -> Vec<Probe> {
    let mut out = Vec::new();
    if b.method_selected("DELETE") {
        out.push(changed_on(
            b,
            "DELETE",
            "body-delete",
            "a DELETE's body, signed as if it had none",
            SignedAs {
                body: Some(String::new()),
                ..SignedAs::default()
            },
            &|_| {},
        ));
    }
    if b.method_selected("PATCH") {
        out.push(changed_on(
            b,
            "PATCH",
            "body-patch",
            "a PATCH's body changed after signing",
            signed_body(b.probe_body()),
            &|r| set_body(r, &b.other_body()),
        ));
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
    let post = b.probe_request();
    let key_id = &b.deployment.key_id;
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
        .rule(b.cite("unknown-key"))
    };
    let mut out = vec![
        renamed(
            "key-id",
            "the key id changed after signing",
            format!("{key_id}-other"),
            Expect::Reject,
        )
        .control(Defect::AcceptsUnknownKeys),
    ];
    // The same id in other letter case: a case-insensitive lookup (a SQL
    // collation) accepts it, and then nonces and policies keyed by the id
    // as sent can be sidestepped (`replay/key-id-case`).
    if let Some(recased) = recased(key_id) {
        out.push(
            renamed(
                "key-id-case",
                "the key id in other letter case",
                recased,
                Expect::RejectOrWarn,
            )
            .control(Defect::CaseInsensitiveKeyIds),
        );
    }
    out
}

/// The nonce and the timestamp signed as other values than sent, and a
/// tag made with a wrong secret.
fn nonce_timestamp_secret(b: &Builder<'_>) -> Vec<Probe> {
    let post = b.probe_request();
    let mut out = Vec::new();
    // The values signed are fresh in each run, so the control cannot name
    // them: it checks no tag, which proves that nothing but what the tag
    // covers is wrong.
    let signed = |name: &str, what: &str, signed_as: SignedAs| {
        let r = Recipe {
            signed_as: Some(signed_as),
            ..b.recipe(b.now)
        };
        b.probe(Tamper, name, what, vec![b.step(&post, &r, Expect::Reject)])
            .rule(b.cite("signed-string"))
            .control(Defect::AnyTag)
    };
    if b.has_nonce() {
        out.push(signed(
            "nonce",
            "the nonce changed after signing",
            SignedAs {
                nonce: Some(format!("{}-signed", b.nonce())),
                ..SignedAs::default()
            },
        ));
    }
    if b.location(&Field::Timestamp).is_some() {
        out.push(signed(
            "timestamp",
            "the timestamp changed after signing",
            SignedAs {
                timestamp: Some(b.scheme.timestamp_text(b.now - 1)),
                ..SignedAs::default()
            },
        ));
    }
    out.push(
        b.probe(
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
        )
        .rule(b.cite("tag-encoding"))
        .control(Defect::AnyTag),
    );
    out
}

/// `authorization`: a listed header that is absent, signed without its
/// line (the rule signs it as `name:`), and a signature that leaves out a
/// header the verifier's policy requires.
fn signed_header_list(b: &Builder<'_>) -> Vec<Probe> {
    if b.location(&Field::SignedHeaders).is_none() {
        return Vec::new();
    }
    let post = b.probe_request();
    let default = b
        .default_signed_headers(&post, &b.input(b.now))
        .unwrap_or_default();
    let listed = |extra: &[&str], without: Option<&str>| {
        let mut names: Vec<String> = default
            .iter()
            .filter(|h| Some(h.as_str()) != without)
            .cloned()
            .collect();
        names.extend(extra.iter().map(|h| (*h).to_owned()));
        SignInput {
            signed_headers: Some(names),
            ..b.input(b.now)
        }
    };
    let absent = "x-sigconform-absent";
    let omitted = Recipe {
        input: listed(&[absent], None),
        signed_as: Some(SignedAs {
            absent: Some(Absence {
                field: Field::Header(absent.into()),
                signed: Absent::Omitted,
            }),
            ..SignedAs::default()
        }),
        ..Recipe::default()
    };
    // The header every policy requires by default (`host`; RFC 9421's
    // first default component, `@method`, where the list has no `host`).
    let required = if default.iter().any(|h| h == "host") {
        "host".to_owned()
    } else {
        default.first().cloned().unwrap_or_else(|| "host".into())
    };
    let required_name = required
        .trim_matches('"')
        .trim_start_matches('@')
        .to_owned();
    let without_required = Recipe {
        input: listed(&[], Some(&required)),
        ..Recipe::default()
    };
    vec![
        b.probe(
            Tamper,
            "listed-header-absent-omitted",
            "a listed header that is absent, signed without its line",
            vec![b.step(&post, &omitted, Expect::Reject)],
        )
        .rule(b.cite("signed-string"))
        .control(Defect::OptionalField(
            Field::Header(absent.into()),
            Absent::Omitted,
        )),
        b.probe(
            Tamper,
            &format!("headers-without-{required_name}"),
            &format!(
                "a signature that does not cover {}",
                required.trim_matches('"')
            ),
            vec![b.step(&post, &without_required, Expect::Reject)],
        )
        .rule(b.cite("required-headers"))
        .control(Defect::RequiresNoSignedHeaders),
    ]
}

/// `authorization`: the algorithm named is not the one that made the tag
/// (HMAC-SHA512 named, HMAC-SHA256 made; and the reverse).
fn algorithm(b: &Builder<'_>) -> Vec<Probe> {
    if !matches!(
        b.location(&Field::Algorithm),
        Some(Location::Parameter { .. })
    ) {
        return Vec::new();
    }
    let post = b.probe_request();
    [
        (
            "algorithm-downgrade",
            "HMAC-SHA512 named, the tag HMAC-SHA256's",
            Algorithm::Sha512,
        ),
        (
            "algorithm-upgrade",
            "HMAC-SHA256 named, the tag HMAC-SHA512's",
            Algorithm::Sha256,
        ),
    ]
    .into_iter()
    .map(|(name, description, named)| {
        let recipe = Recipe {
            input: SignInput {
                algorithm: Some(named),
                ..b.input(b.now)
            },
            tag_transform: Some(TagTransform::OtherAlgorithm),
            ..Recipe::default()
        };
        b.probe(
            Tamper,
            name,
            description,
            vec![b.step(&post, &recipe, Expect::Reject)],
        )
        .rule(b.cite("algorithm-names"))
        .control(Defect::AlgorithmFromTagLength)
    })
    .collect()
}

/// The changes [`tags`] makes.
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
        "the tag upper-cased (in hex, the same tag: either answer conforms)",
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

/// The tag cut, extended, flipped, emptied or re-encoded. Letter case is
/// judged by the encoding: upper-case hex is the same tag spelled another
/// way (either answer conforms), while base64 upper-cased is another tag,
/// which only a compare that folds case accepts.
fn tags(b: &Builder<'_>) -> Vec<Probe> {
    let base64 = b.scheme.tag_encoding() == TagEncoding::Base64;
    TAG_CHANGES
        .into_iter()
        .map(|(name, what, t, expect)| match t {
            TagTransform::Uppercase if base64 => (
                name,
                "the tag upper-cased (in base64, another tag)",
                t,
                Expect::Reject,
            ),
            _ => (name, what, t, expect),
        })
        .map(|(name, what, t, expect)| {
            // Some changes leave some tags as they were (no `+` or `/` to
            // turn into base64url, no letters to upper-case): sign again
            // with a fresh nonce, a timestamp a unit earlier and a query
            // and body of their own until the change shows, so the case
            // tests what it names and is there in every run.
            let changed = (0..16).find_map(|attempt| {
                // A step back in time changes the tag where no nonce does,
                // and the query and body where the scheme signs neither
                // (Twilio's form posts sign only the URL).
                let post = if attempt == 0 {
                    b.probe_request()
                } else {
                    b.attempt(attempt)
                };
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
            let probe = b.probe(Tamper, name, what, vec![changed]);
            match (expect, t) {
                (Expect::Either, _) => probe
                    .rule(b.cite("noncanonical-encoding"))
                    .no_control("either answer conforms: nothing to prove"),
                (_, TagTransform::Uppercase) => probe
                    .rule(b.cite("tag-encoding"))
                    .control(Defect::CaseFoldedTagCompare),
                _ => probe.rule(b.cite("tag-encoding")).control(Defect::AnyTag),
            }
        })
        .collect()
}
