//! The operators a run gets: made from the scheme's own description (the
//! fields it carries and where, its tag's encoding, whether it carries key
//! ids, nonces, a signed header list, several signatures in one header,
//! presigned or chunk-signed forms, a region or an expiry; what its
//! senders deliver), the lossy readers, and the deployment the runner
//! learned and was told of (its body, its route, its key policies).

use http::HeaderName;

use sigconform_core::crypto::Algorithm;
use sigconform_core::lossy::{Component, LossyRead};
use sigconform_core::scheme::sigv4::chunked::ChunkPlan;
use sigconform_core::scheme::{Compared, Delivery, Field, Location, SignInput};
use sigconform_core::tamper::{ParameterStyle, TagTransform};

use super::operators::{
    Action, BodyChange, ChunkChange, ContentTypeChange, Family, Form, HeaderChange, KeyChange,
    ListEdit, Operator, PathChange, Policy, QueryChange, ScopeChange, Sequence, Shift, TextEdit,
};
use crate::probe::{Builder, Expect};

/// The methods a method operator picks from.
pub(crate) const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Every operator that applies to the run `b` builds probes for.
pub(crate) fn catalogue(b: &Builder<'_>) -> Vec<Operator> {
    let mut out = vec![Operator::new(
        "sign-after",
        "the changes made before signing, so that the signature covers them",
        Family::Signing,
        Action::SignAfter,
    )];
    out.extend(fields(b));
    out.extend(time(b));
    out.extend(signing(b));
    out.extend(headers(b));
    out.extend(bodies(b));
    out.extend(request(b));
    out.extend(sequences(b));
    out
}

/// The fields a scheme may carry, with the names operators give them.
const FIELDS: [(Field, &str); 7] = [
    (Field::KeyId, "key-id"),
    (Field::Algorithm, "algorithm"),
    (Field::Timestamp, "timestamp"),
    (Field::Nonce, "nonce"),
    (Field::Tag, "tag"),
    (Field::BodyHash, "body-hash"),
    (Field::SignedHeaders, "signed-headers"),
];

/// Each field the scheme carries in the request: every text edit, and its
/// absence.
fn fields(b: &Builder<'_>) -> Vec<Operator> {
    let mut out = Vec::new();
    for (field, name) in FIELDS {
        let Some(at) = b.location(&field) else {
            continue;
        };
        if at == Location::Signed {
            continue;
        }
        for edit in TextEdit::ALL {
            let respelt = matches!(field, Field::Algorithm)
                || (field == Field::Timestamp && b.decimal_timestamps());
            if edit == TextEdit::Respell && !respelt {
                continue;
            }
            // A query cannot carry bytes that are not UTF-8.
            if edit == TextEdit::NonUtf8 && matches!(at, Location::Query(_)) {
                continue;
            }
            out.push(Operator::new(
                format!("{name}-{}", edit.name()),
                format!("the {field} {}", edit.what()),
                Family::Field,
                Action::Edit {
                    field: field.clone(),
                    at: at.clone(),
                    edit,
                },
            ));
        }
        out.push(Operator::new(
            format!("{name}-missing"),
            format!("without the {field}"),
            Family::Field,
            Action::Remove {
                field: field.clone(),
                at: at.clone(),
            },
        ));
    }
    if let Some(at @ Location::Item { .. }) = b.location(&Field::Tag) {
        let any = b.scheme.sender().signatures_compared == Compared::Any;
        out.push(Operator::new(
            "signatures-wrong-first",
            "a wrong signature before the right one",
            Family::Field,
            Action::SeveralSignatures {
                at: at.clone(),
                wrong_first: true,
            },
        ));
        if any {
            out.push(Operator::new(
                "signatures-right-first",
                "the right signature before a wrong one",
                Family::Field,
                Action::SeveralSignatures {
                    at,
                    wrong_first: false,
                },
            ));
        }
    }
    if let Some(at @ Location::Member { param: None, .. }) = b.location(&Field::Tag) {
        out.push(Operator::new(
            "label-renamed",
            "the signature under another label than its input's",
            Family::Field,
            Action::LabelRenamed { at },
        ));
    }
    if let Some(Location::Parameter { header, .. }) = b.location(&Field::Tag) {
        for (name, what, style) in [
            (
                "parameters-reordered",
                "the parameters in another order",
                ParameterStyle::Reversed,
            ),
            (
                "parameters-spaced",
                "the parameters with a space after each comma",
                ParameterStyle::SpaceAfterCommas,
            ),
            (
                "parameters-unquoted",
                "the parameters' values without quotes",
                ParameterStyle::Unquoted,
            ),
        ] {
            out.push(Operator::new(
                name,
                what,
                Family::Field,
                Action::Restyle {
                    header: header.as_str().to_owned(),
                    style,
                },
            ));
        }
    }
    out
}

/// The timestamp at other times, where there is one.
fn time(b: &Builder<'_>) -> Vec<Operator> {
    if b.location(&Field::Timestamp).is_none() {
        return Vec::new();
    }
    [
        (
            "timestamp-past",
            "the timestamp up to twice the past limit old",
            Shift::Past,
        ),
        (
            "timestamp-future",
            "the timestamp up to twice the future limit ahead",
            Shift::Future,
        ),
        ("timestamp-zero", "the timestamp 0", Shift::Zero),
        (
            "timestamp-unit",
            "the timestamp in the other unit",
            Shift::Unit,
        ),
    ]
    .into_iter()
    .map(|(name, what, shift)| Operator::new(name, what, Family::Time, Action::Time(shift)))
    .collect()
}

/// The key, the tag's bytes and encoding, the signed header list.
fn signing(b: &Builder<'_>) -> Vec<Operator> {
    let mut out = vec![Operator::new(
        "secret-wrong",
        "signed with a wrong secret",
        Family::Signing,
        Action::Key(KeyChange::WrongSecret),
    )];
    if b.has_key_ids() {
        for (name, what, change) in [
            (
                "key-id-unknown",
                "signed with the runner's secret under a key id the target does not know",
                KeyChange::UnknownId,
            ),
            (
                "key-id-unknown-empty-secret",
                "signed with the empty secret under a key id the target does not know",
                KeyChange::UnknownIdEmptySecret,
            ),
            (
                "key-id-unknown-id-secret",
                "signed with its own id as the secret under a key id the target does not know",
                KeyChange::UnknownIdAsSecret,
            ),
        ] {
            out.push(Operator::new(
                name,
                what,
                Family::Signing,
                Action::Key(change),
            ));
        }
    }
    if b.location(&Field::Tag).is_some() {
        for (name, what, transform) in [
            (
                "tag-prefix",
                "only the first half of the tag",
                TagTransform::TruncateHalf,
            ),
            ("tag-cut", "the tag's last byte cut", TagTransform::Truncate),
            (
                "tag-extended",
                "a byte appended to the tag",
                TagTransform::Extend,
            ),
            ("tag-bytes-empty", "a tag of no bytes", TagTransform::Empty),
            (
                "tag-flip",
                "a bit of the tag flipped",
                TagTransform::FlipLastBit,
            ),
            (
                "tag-other-encoding",
                "the tag in the other encoding",
                TagTransform::OtherEncoding,
            ),
            (
                "tag-uppercase",
                "the tag upper-cased",
                TagTransform::Uppercase,
            ),
            (
                "tag-base64url",
                "the tag in base64url",
                TagTransform::Base64Url,
            ),
            (
                "tag-unpadded",
                "the tag without padding",
                TagTransform::StripPadding,
            ),
            (
                "tag-other-algorithm",
                "the tag of the other hash function",
                TagTransform::OtherAlgorithm,
            ),
        ] {
            out.push(Operator::new(
                name,
                what,
                Family::Signing,
                Action::Tag(transform),
            ));
        }
    }
    let listed = b
        .default_signed_headers(&b.probe_request(), &b.input(b.now))
        .is_some_and(|list| !list.is_empty());
    if listed && b.location(&Field::SignedHeaders).is_some() {
        for (name, what, edit) in [
            (
                "signed-headers-reordered",
                "the signed headers listed in another order",
                ListEdit::Reorder,
            ),
            (
                "signed-headers-dropped",
                "a signed header left out of the list",
                ListEdit::Drop,
            ),
            (
                "signed-headers-repeated",
                "a signed header listed twice",
                ListEdit::Repeat,
            ),
            (
                "signed-headers-unknown-parameter",
                "a signed header listed with a parameter nobody defines",
                ListEdit::UnknownParameter,
            ),
            (
                "signed-headers-absent",
                "a header the request does not carry listed, signed without its line",
                ListEdit::AddAbsent,
            ),
        ] {
            out.push(Operator::new(
                name,
                what,
                Family::Signing,
                Action::SignedList(edit),
            ));
        }
    }
    let base = b.probe_request();
    let input = b.input(b.now);
    let chunked = b
        .scheme
        .chunked(&base, &input, &ChunkPlan::new(16), &b.key)
        .is_some();
    for (name, what, form, available) in [
        (
            "presigned",
            "a presigned URL (valid for a minute up to a week and a second), dated up to twice that long ago",
            Form::Presigned,
            b.scheme.presign(&base, &input, 60, &b.key).is_some(),
        ),
        (
            "chunk-signed",
            "a chunk-signed upload",
            Form::Chunked,
            chunked,
        ),
        (
            "chunk-changed",
            "a chunk-signed upload, a byte of a chunk changed after signing",
            Form::ChunkChanged,
            chunked,
        ),
        (
            "chunk-unchained",
            "a chunk-signed upload, every chunk signed after the seed signature",
            Form::ChunkMisframed(ChunkChange::Unchained),
            chunked,
        ),
        (
            "chunk-final-missing",
            "a chunk-signed upload without its final zero-length chunk",
            Form::ChunkMisframed(ChunkChange::FinalMissing),
            chunked,
        ),
        (
            "chunk-decoded-length",
            "a chunk-signed upload whose x-amz-decoded-content-length is one more than its data",
            Form::ChunkMisframed(ChunkChange::DecodedLength),
            chunked,
        ),
        (
            "chunk-signature-changed",
            "a chunk-signed upload, a digit of its first chunk's signature changed",
            Form::ChunkMisframed(ChunkChange::SignatureChanged),
            chunked,
        ),
        (
            "scope-other-region",
            "signed correctly, with that region's key, for another region",
            Form::OtherRegion,
            crate::scope::other_region(b).is_some(),
        ),
        (
            "scope-other-service",
            "signed correctly, with that scope's key, for another service",
            Form::OtherScope(ScopeChange::Service),
            crate::scope::names_a_scope(b),
        ),
        (
            "scope-other-date",
            "signed correctly, with that scope's key, for a scope dated the day before X-Amz-Date",
            Form::OtherScope(ScopeChange::Date),
            crate::scope::names_a_scope(b),
        ),
        (
            "scope-other-terminator",
            "signed correctly, with that scope's key, for a scope ending in another word than aws4_request",
            Form::OtherScope(ScopeChange::Terminator),
            crate::scope::names_a_scope(b),
        ),
    ] {
        if available {
            out.push(Operator::new(name, what, Family::Form, Action::Form(form)));
        }
    }
    if names_its_algorithm(b) {
        out.push(Operator::new(
            "algorithm-other",
            "the other hash function named, the signature made as named",
            Family::Signing,
            Action::OtherAlgorithm,
        ));
    }
    if b.deployment.denied_key.is_some() {
        out.push(Operator::new(
            "key-not-allowed",
            "a key the target knows, on a route whose allow-list leaves it out",
            Family::Signing,
            Action::Policy(Policy::KeyNotAllowed),
        ));
    }
    if b.deployment.admin_path.is_some() {
        out.push(Operator::new(
            "admin-route",
            "the runner's key, not an admin key, on an admin route",
            Family::Signing,
            Action::Policy(Policy::AdminRoute),
        ));
    }
    if signs_expires(b) {
        out.push(Operator::new(
            "expires-passed",
            "an expiry time that has passed",
            Family::Time,
            Action::ExpiresPassed,
        ));
    }
    out
}

/// Headers: each one the signed request carries dropped, duplicated or
/// given another value after signing; names in other case, an order
/// changed, an unsigned header added.
fn headers(b: &Builder<'_>) -> Vec<Operator> {
    let mut out = Vec::new();
    let names = signed_header_names(b);
    for name in names {
        // Framing headers: a client sends them once, computed.
        if matches!(
            name.as_str(),
            "content-length" | "host" | "transfer-encoding"
        ) {
            continue;
        }
        for (verb, what, change) in [
            ("dropped", "removed", HeaderChange::Drop),
            ("duplicated", "sent twice", HeaderChange::Duplicate),
            (
                "another-value",
                "sent again with another value",
                HeaderChange::AddValue,
            ),
        ] {
            out.push(Operator::new(
                format!("header-{verb}-{name}"),
                format!("{name} {what}"),
                Family::Header,
                Action::Header {
                    name: name.clone(),
                    change,
                },
            ));
        }
    }
    out.push(Operator::new(
        "header-names-case",
        "the header names in other letter case",
        Family::Header,
        Action::HeaderNameCase,
    ));
    out.push(Operator::new(
        "header-reordered",
        "a header moved after the others",
        Family::Header,
        Action::HeaderReorder,
    ));
    out.push(Operator::new(
        "header-unsigned-added",
        "a header nobody signs added",
        Family::Header,
        Action::HeaderUnsigned,
    ));
    if signed_header_names(b)
        .iter()
        .any(|name| name.as_str().starts_with("x-amz-"))
    {
        out.push(Operator::new(
            "header-unsigned-amz-added",
            "an x-amz-meta-* header added after signing",
            Family::Header,
            Action::HeaderAmzUnsigned,
        ));
        out.push(Operator::new(
            "header-value-spaced",
            "an x-amz-meta-* header with a run of spaces inside its value",
            Family::Header,
            Action::HeaderValueSpaced,
        ));
    }
    out
}

/// The body: its bytes, its length, the JSON (or form) inside it, and
/// what each lossy reader of a body loses.
fn bodies(b: &Builder<'_>) -> Vec<Operator> {
    let base = b.base_body();
    let mut out = Vec::new();
    let mut add = |name: &str, what: &str, change: BodyChange| {
        out.push(Operator::new(
            format!("body-{name}"),
            what,
            Family::Body,
            Action::Body(change),
        ));
    };
    add("flip", "a bit of a body byte flipped", BodyChange::Flip);
    add("insert", "bytes inserted into the body", BodyChange::Insert);
    add("truncate", "the body cut short", BodyChange::Truncate);
    add("append", "bytes appended to the body", BodyChange::Append);
    add(
        "non-utf8",
        "a byte that is not UTF-8 in the body",
        BodyChange::NonUtf8,
    );
    add("large", "the body made 64 KiB", BodyChange::Large);
    if b.scheme.sender().empty_body {
        add("empty", "no body", BodyChange::Empty);
    }
    if base.is_json() || base.is_form() {
        add(
            "member",
            "a member of the runner's added, with a value serialisers disagree on",
            BodyChange::Member,
        );
    }
    if base.is_json() && b.signs_json_only() {
        add(
            "javascript-member",
            "a member only JavaScript's JSON.parse reads as meant (a lone surrogate, 1e400, __proto__)",
            BodyChange::JavaScriptMember,
        );
    }
    if base.is_json() {
        add(
            "whitespace",
            "the same JSON with whitespace between its tokens",
            BodyChange::Whitespace,
        );
        add(
            "duplicate-key",
            "a member written twice, the first copy another value",
            BodyChange::DuplicateKey,
        );
    }
    add(
        "unparsable",
        "text no parser reads, under a signature of an empty body",
        BodyChange::Unparsable,
    );
    if b.location(&Field::BodyHash)
        .is_some_and(|at| at != Location::Signed)
    {
        add(
            "hash-follows",
            "a byte appended to the body and the body hash written for it",
            BodyChange::HashFollows,
        );
    }
    for read in LossyRead::ALL {
        if read.component() == Component::Body {
            out.push(lossy(read));
        }
    }
    out
}

fn lossy(read: LossyRead) -> Operator {
    let family = match read.component() {
        Component::Body => Family::Body,
        Component::Path | Component::Query => Family::Request,
    };
    Operator::new(
        format!("lossy-{}", read.name()),
        read.describe(),
        family,
        Action::Lossy(read),
    )
}

/// The method, the path (not of a fixed route, nor where the runner
/// writes a resource), the query (where the route takes one), the content
/// type, and the framing.
fn request(b: &Builder<'_>) -> Vec<Operator> {
    let mut out = vec![Operator::new(
        "method",
        "another method",
        Family::Request,
        Action::Method,
    )];
    let writes = b.writes_a_resource();
    if !b.fixed_route && !writes {
        for (name, what, change) in [
            (
                "path-segment",
                "a segment appended to the path",
                PathChange::Segment,
            ),
            (
                "path-dot-segments",
                "dot segments in the path that resolve to the path signed",
                PathChange::DotSegments,
            ),
            (
                "path-empty-segment",
                "an empty segment in the path",
                PathChange::EmptySegment,
            ),
        ] {
            out.push(Operator::new(
                name,
                what,
                Family::Request,
                Action::Path(change),
            ));
        }
        for read in [LossyRead::DecodedPath, LossyRead::LowercasedPath] {
            out.push(lossy(read));
        }
    }
    if b.sends_query() && !writes {
        for (name, what, change) in [
            ("query-added", "a query parameter added", QueryChange::Add),
            (
                "query-changed",
                "the query's last value changed",
                QueryChange::Change,
            ),
            ("query-removed", "the query removed", QueryChange::Remove),
        ] {
            out.push(Operator::new(
                name,
                what,
                Family::Request,
                Action::Query(change),
            ));
        }
        out.push(lossy(LossyRead::DecodedQuery));
    }
    for (name, what, change) in [
        (
            "content-type-other",
            "another content type",
            ContentTypeChange::Other,
        ),
        (
            "content-type-missing",
            "no content type",
            ContentTypeChange::Drop,
        ),
        (
            "content-type-charset",
            "a charset parameter on the content type",
            ContentTypeChange::Charset,
        ),
    ] {
        out.push(Operator::new(
            name,
            what,
            Family::Request,
            Action::ContentType(change),
        ));
    }
    if b.scheme.sender().chunked_bodies {
        out.push(Operator::new(
            "chunked",
            "the body sent in chunks (Transfer-Encoding: chunked)",
            Family::Request,
            Action::Chunked,
        ));
    }
    out
}

/// Replays and concurrent copies, where the scheme has nonces; a refused
/// copy first, everywhere.
fn sequences(b: &Builder<'_>) -> Vec<Operator> {
    let mut out = vec![Operator::new(
        "replay-after-refused",
        "a copy signed with a wrong secret, then the request",
        Family::Sequence,
        Action::Sequence(Sequence::ReplayAfterRefused),
    )];
    if !b.has_nonce() {
        return out;
    }
    out.push(Operator::new(
        "replay",
        "the request sent again once answered",
        Family::Sequence,
        Action::Sequence(Sequence::Replay),
    ));
    out.push(Operator::new(
        "replay-after-pause",
        "the request sent again after a pause",
        Family::Sequence,
        Action::Sequence(Sequence::ReplayAfterPause),
    ));
    if b.has_key_ids() && b.location(&Field::KeyId).is_some() {
        out.push(Operator::new(
            "replay-key-id-case",
            "the request signed again under its key id in other letter case, with its nonce",
            Family::Sequence,
            Action::Sequence(Sequence::ReplayKeyIdCase),
        ));
    }
    // Two writes of one resource at once race in the store, not the
    // verifier.
    if !b.writes_a_resource() {
        out.push(Operator::new(
            "concurrent",
            "two copies at the same moment",
            Family::Sequence,
            Action::Sequence(Sequence::Concurrent),
        ));
    }
    out
}

/// Where the scheme's requests go, for the method operator: the methods
/// its senders use, or an API's.
pub(crate) fn methods(b: &Builder<'_>) -> Vec<String> {
    if b.writes_a_resource() {
        // Only the runner's own object: read, written, nothing else.
        return vec!["GET".into(), "PUT".into()];
    }
    match b.scheme.delivery() {
        Delivery::Endpoint { methods } if !methods.is_empty() => {
            let mut all: Vec<String> = METHODS.iter().map(|m| (*m).to_owned()).collect();
            for m in methods {
                if !all.contains(&m) {
                    all.push(m);
                }
            }
            all
        }
        _ => METHODS.iter().map(|m| (*m).to_owned()).collect(),
    }
}

/// Whether `b`'s scheme signs an `expires` parameter (RFC 9421's): the
/// string it signs changes with it.
pub(crate) fn signs_expires(b: &Builder<'_>) -> bool {
    let req = b.probe_request();
    let input = b.input(b.now);
    let with = SignInput {
        expires: Some(b.now + 60),
        ..input.clone()
    };
    let canonical = |input: &SignInput| {
        let mut out = Vec::new();
        b.scheme
            .signing_params(&req, input)
            .ok()
            .and_then(|p| b.scheme.canonicalize(&req, &p, &mut out).ok())
            .map(|()| out)
    };
    canonical(&input) != canonical(&with)
}

/// Whether the scheme names its algorithm in what it writes (so that the
/// other one can be named).
pub(crate) fn names_its_algorithm(b: &Builder<'_>) -> bool {
    let req = b.probe_request();
    let input = b.input(b.now);
    let other = SignInput {
        algorithm: Some(Algorithm::Sha512),
        ..input.clone()
    };
    let written = |input: &SignInput| {
        b.scheme
            .signing_params(&req, input)
            .map(|p| b.scheme.signature_headers(&p, "x"))
            .ok()
    };
    written(&input) != written(&other)
}

/// The names of the headers of the runner's signed base request.
pub(crate) fn signed_header_names(b: &Builder<'_>) -> Vec<HeaderName> {
    let Ok(step) = b.step(&b.probe_request(), &b.recipe(b.now), Expect::Either) else {
        return Vec::new();
    };
    let mut names: Vec<HeaderName> = Vec::new();
    for name in step.request.headers().keys() {
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::{Deployment, RunOptions};
    use crate::transport::Target;
    use sigconform_core::keys::Secret;
    use sigconform_core::registry::SchemeRef;
    use sigconform_core::scheme::{SchemeConfig, SchemeId};

    /// The names of the operators a run against `scheme` gets.
    fn names(scheme: SchemeRef, secret: &str) -> Vec<String> {
        let deployment = Deployment {
            scheme_config: SchemeConfig {
                endpoint: Some("https:app.example/hook".into()),
                ..SchemeConfig::default()
            },
            ..Deployment::new(
                "http://sigconform.test/api",
                scheme,
                "k",
                Secret::new(secret),
            )
        };
        let options = RunOptions::default();
        let target = Target::parse("http://sigconform.test/api").unwrap();
        let b = Builder::new(&deployment, &options, &target, 1_700_000_000_000, 2000).unwrap();
        catalogue(&b).into_iter().map(|o| o.name).collect()
    }

    fn has(names: &[String], name: &str) -> bool {
        names.iter().any(|n| n == name)
    }

    #[test]
    fn operators_follow_what_the_scheme_carries() {
        let a2a = names(SchemeId::A2a.into(), "s");
        let webhook = names(SchemeId::Webhook.into(), "s");
        // a2a carries key ids and nonces; webhook neither.
        for name in [
            "nonce-insert",
            "key-id-unknown",
            "replay",
            "replay-key-id-case",
            "concurrent",
        ] {
            assert!(has(&a2a, name), "a2a: {name}");
            assert!(!has(&webhook, name), "webhook: {name}");
        }
        // Both carry a timestamp and a tag; a fixed route gets no path
        // operators, an API does.
        for names in [&a2a, &webhook] {
            for name in [
                "timestamp-respell",
                "timestamp-past",
                "tag-flip",
                "tag-non-ascii",
            ] {
                assert!(has(names, name), "{name}");
            }
        }
        assert!(has(&a2a, "path-dot-segments"));
        assert!(!has(&webhook, "path-dot-segments"));
        // Where the tag is a `name="value"` parameter: its header restyled;
        // an algorithm named, a list of signed headers.
        let authorization = names(SchemeId::Authorization.into(), "s");
        for name in [
            "parameters-unquoted",
            "algorithm-respell",
            "signed-headers-absent",
            "algorithm-other",
        ] {
            assert!(has(&authorization, name), "{name}");
            assert!(!has(&a2a, name), "a2a: {name}");
        }
        // SigV4's other forms and its scope; RFC 9421's label and expiry.
        let sigv4 = names(SchemeId::Sigv4.into(), "s");
        for name in [
            "presigned",
            "chunk-signed",
            "chunk-changed",
            "scope-other-region",
        ] {
            assert!(has(&sigv4, name), "{name}");
            assert!(!has(&a2a, name), "a2a: {name}");
        }
        let rfc9421 = names(SchemeId::Rfc9421.into(), "c2VjcmV0");
        for name in ["label-renamed", "expires-passed", "signed-headers-repeated"] {
            assert!(has(&rfc9421, name), "{name}");
        }
        // Several signatures in one header (Stripe's `v1` items); JSON read as
        // JavaScript reads it only where the scheme signs JSON itself.
        let stripe = names(SchemeRef::by_name("stripe").unwrap(), "whsec_c2VjcmV0");
        assert!(has(&stripe, "signatures-wrong-first"));
        assert!(has(
            &names(SchemeId::Partner.into(), "s"),
            "body-javascript-member"
        ));
        assert!(!has(&a2a, "body-javascript-member"));
        // Every name is one operator's.
        let mut sorted = a2a.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), a2a.len());
    }
}
