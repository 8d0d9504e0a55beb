//! What a signature says about itself, for schemes that name their covered
//! components and metadata in structured fields (RFC 9421's
//! `Signature-Input`): components the verifier must derive as the signer
//! did (accepted), components it must refuse to read (repeated, with a
//! parameter it does not know, `req` in a request), a label in one field
//! only, an algorithm other than the one it verifies, an `expires` passed.
//!
//! Each negative case signs what a verifier that skips the check would
//! compute, so that only the check refuses it.

use http::HeaderValue;
use sigconform_core::Request;
use sigconform_core::crypto::Algorithm;
use sigconform_core::scheme::{Field, Location, SignInput, member};
use sigconform_core::tamper::Recipe;
use sigconform_defects::Defect;

use super::probe::{Builder, Expect, Probe};
use crate::verdict::Category::{Acceptance, Expiry, Tamper};

/// Every coverage case, or none for a scheme whose signatures do not name
/// their components in a structured field.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let Some(Location::Member { header, .. }) = b.location(&Field::SignedHeaders) else {
        return Vec::new();
    };
    let mut out = derived_components(b);
    out.extend(refused_components(b));
    out.push(label_mismatch(b, &header));
    out.push(other_algorithm(b));
    out.extend(expires(b));
    out
}

/// The components the runner's signer covers by default, serialized.
fn default_components(b: &Builder<'_>, req: &Request) -> Vec<String> {
    b.default_signed_headers(req, &b.input(b.now))
        .unwrap_or_default()
}

/// A recipe covering the default components and `extra` (those not
/// covered already).
fn covering(b: &Builder<'_>, req: &Request, extra: &[&str]) -> Recipe {
    let mut components = default_components(b, req);
    for extra in extra {
        let serialized = if extra.starts_with('"') {
            (*extra).to_owned()
        } else {
            format!("\"{extra}\"")
        };
        if !components.contains(&serialized) {
            components.push(serialized);
        }
    }
    Recipe {
        input: SignInput {
            signed_headers: Some(components),
            ..b.input(b.now)
        },
        ..Recipe::default()
    }
}

/// Every derived component and the field parameters the RFC defines,
/// covered: a verifier that derives one differently from the RFC refuses a
/// correct signature.
fn derived_components(b: &Builder<'_>) -> Vec<Probe> {
    let post = b.probe_request();
    let derived = [
        "@target-uri",
        "@scheme",
        "@request-target",
        "@query",
        "\"@query-param\";name=\"page\"",
    ];
    let fields = [
        "\"content-digest\";sf",
        "\"content-digest\";key=\"sha-256\"",
        "\"content-type\";bs",
    ];
    vec![
        b.probe(
            Acceptance,
            "components-derived",
            "every derived component of a request covered (@target-uri, @scheme, @request-target, @query, @query-param)",
            vec![b.step(&post, &covering(b, &post, &derived), Expect::Accept)],
        )
        .rule(b.cite("derived-values")),
        b.probe(
            Acceptance,
            "components-field-parameters",
            "fields covered with sf, key and bs (Content-Digest strictly serialized, one member of it, Content-Type as a byte sequence)",
            vec![b.step(&post, &covering(b, &post, &fields), Expect::Accept)],
        )
        .rule(b.cite("field-values")),
    ]
}

/// Components a verifier must refuse to read, each signed as a verifier
/// that reads it anyway computes the base.
fn refused_components(b: &Builder<'_>) -> Vec<Probe> {
    let post = b.probe_request();
    let first = default_components(b, &post)
        .first()
        .cloned()
        .unwrap_or_else(|| "\"@method\"".into());
    [
        (
            "component-repeated",
            format!("a component covered twice ({first})"),
            first.clone(),
        ),
        (
            "component-unknown-parameter",
            "a component with a parameter the RFC does not define (\"content-type\";x)".to_owned(),
            "\"content-type\";x".to_owned(),
        ),
        (
            "component-req-in-request",
            "a component with req, which names a response's request, in a request".to_owned(),
            "\"content-type\";req".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(name, description, extra)| {
        // Appended as written, a repeat included.
        let mut components = default_components(b, &post);
        components.push(extra);
        let recipe = Recipe {
            input: SignInput {
                signed_headers: Some(components),
                ..b.input(b.now)
            },
            ..Recipe::default()
        };
        b.probe(
            Tamper,
            name,
            &description,
            vec![b.step(&post, &recipe, Expect::Reject)],
        )
        .rule(b.cite("components"))
        .control(Defect::ComponentsUnchecked)
    })
    .collect()
}

/// The signature's label in `Signature` changed after signing: the label
/// in `Signature-Input` has no signature.
fn label_mismatch(b: &Builder<'_>, input_header: &http::HeaderName) -> Probe {
    let post = b.probe_request();
    let mut step = b.step(&post, &b.recipe(b.now), Expect::Reject);
    if let Ok(step) = step.as_mut() {
        relabel_signature(&mut step.request, input_header);
    }
    b.probe(
        Tamper,
        "label-mismatch",
        "the signature under another label than its Signature-Input",
        vec![step],
    )
    .rule(b.cite("labels"))
    .control(Defect::LabelsUnchecked)
}

/// Renames the members of the `signature` field (the tags) to a label
/// `Signature-Input` does not have.
fn relabel_signature(req: &mut Request, input_header: &http::HeaderName) {
    let signature = http::HeaderName::from_static("signature");
    if input_header == signature {
        return;
    }
    let Some(value) = req.headers().get(&signature).and_then(|v| v.to_str().ok()) else {
        return;
    };
    let Some(renamed) = member::rename_first(value, "sigconform-other") else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&renamed) {
        req.headers_mut().insert(signature, value);
    }
}

/// `alg` naming another HMAC than the tag's.
fn other_algorithm(b: &Builder<'_>) -> Probe {
    let post = b.probe_request();
    let recipe = Recipe {
        input: SignInput {
            algorithm: Some(Algorithm::Sha512),
            ..b.input(b.now)
        },
        ..Recipe::default()
    };
    b.probe(
        Tamper,
        "alg-other",
        "alg names hmac-sha512, the tag is hmac-sha256's",
        vec![b.step(&post, &recipe, Expect::Reject)],
    )
    .rule(b.cite("algorithm-names"))
    .control(Defect::IgnoresAlg)
}

/// A signature that expires: a minute ahead (accepted), and passed by
/// more than the clock skew the verifier allows ahead (rejected: a verifier
/// may allow its clock the same skew on `expires` as on `created`).
fn expires(b: &Builder<'_>) -> Vec<Probe> {
    let skew = b.scheme.window().future.saturating_add(b.margin);
    let passed = b.now.saturating_sub(skew).saturating_sub(1);
    let post = b.probe_request();
    let until = |at: u64| Recipe {
        input: SignInput {
            expires: Some(at),
            ..b.input(b.now)
        },
        ..Recipe::default()
    };
    vec![
        b.probe(
            Acceptance,
            "expires-ahead",
            "a signature that expires a minute from now",
            vec![b.step(&post, &until(b.now + 60), Expect::Accept)],
        )
        .rule(b.cite("window")),
        b.probe(
            Expiry,
            "expires-passed",
            "a signature whose expires passed, by more than the clock skew allowed",
            vec![b.step(&post, &until(passed), Expect::Reject)],
        )
        .rule(b.cite("window"))
        .control(Defect::IgnoresExpires),
    ]
}
