//! The canonical request's rules, each both ways, for schemes that sign
//! one (SigV4): a request that needs the rule, signed as the rule says
//! (accepted), and the same request signed as a verifier that breaks the
//! rule computes it (rejected). The rules: header values trimmed and their
//! inner spaces made one; every `x-amz-*` header signed (S3); repeated
//! query names sorted by value; S3's paths signed as sent (`//`, dot
//! segments, a character that needs percent-encoding, a lower-case
//! escape); another service's paths normalised and encoded twice.
//!
//! S3's path cases are DELETEs of objects below the target's (a DELETE of
//! an object nobody wrote writes nothing, and S3 answers it 204).

use super::payload::{s3, s3_only};
use super::probe::{Builder, Expect, PROBE_PATH, Probe, Step};
use crate::verdict::Category::{Acceptance, Tamper};
use sigconform_core::request::Request;
use sigconform_core::scheme::sigv4::UriEncoding;
use sigconform_core::scheme::{SchemeConfig, SignInput};
use sigconform_core::tamper::{Header, HeaderEdit, Recipe, SignedAs};
use sigconform_defects::Defect;

/// The header the runner adds: user metadata to S3, any header to others.
const META: &str = "x-amz-meta-sigconform";

/// Every canonical-rule case, or none for a scheme without a canonical
/// request of its own (whose signer has no `trim_header_values` to break).
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    if !signs_a_canonical_request(b) {
        return Vec::new();
    }
    let mut out = header_values(b);
    out.extend(s3_only(b, amz_headers(b)));
    out.extend(query_order(b));
    if s3(b) {
        out.extend(s3_paths(b));
    } else {
        out.extend(other_service_paths(b));
    }
    out
}

/// Whether signing as a verifier that does not trim header values changes
/// what the scheme signs (SigV4's canonical request).
fn signs_a_canonical_request(b: &Builder<'_>) -> bool {
    let req = with_header(b.probe_request(), META, "a  b");
    let input = b.input(b.now);
    canonical(b, &req, &input, |c| c.trim_header_values = Some(false))
        .is_some_and(|untrimmed| Some(untrimmed) != canonical(b, &req, &input, |_| {}))
}

/// What the scheme configured with `change` signs for `req` with `input`.
fn canonical(
    b: &Builder<'_>,
    req: &Request,
    input: &SignInput,
    change: impl FnOnce(&mut SchemeConfig),
) -> Option<String> {
    let mut config = b.deployment.scheme_config.clone();
    change(&mut config);
    let scheme = b.deployment.scheme.build(&config).ok()?;
    let params = scheme.signing_params(req, input).ok()?;
    let mut out = Vec::new();
    scheme.canonicalize(req, &params, &mut out).ok()?;
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// `req` with header `name: value`.
fn with_header(mut req: Request, name: &'static str, value: &'static str) -> Request {
    req.headers_mut()
        .insert(name, http::HeaderValue::from_static(value));
    req
}

/// `req` signed as the scheme configured with `change` (a verifier that
/// breaks one rule) signs it: rejected.
fn signed_as_broken(
    b: &Builder<'_>,
    req: &Request,
    change: impl FnOnce(&mut SchemeConfig),
) -> Result<Step, String> {
    let mut config = b.deployment.scheme_config.clone();
    change(&mut config);
    let broken = b
        .deployment
        .scheme
        .build(&config)
        .map_err(|e| e.to_string())?;
    let recipe = b.recipe(b.now);
    let request = recipe
        .apply(broken.as_ref(), req, &b.key)
        .map_err(|e| format!("the request could not be signed: {e}"))?;
    let canonical = canonical(b, req, &recipe.input, |c| *c = config).unwrap_or_default();
    let mut step = Step::signed(canonical, request, Expect::Reject);
    // A path the target does not route (404 or 405, as for the same
    // request unsigned) is `skip`, not an inconclusive `error`.
    step.unrouted_control = Some(req.clone());
    Ok(step)
}

/// A pair: `req` accepted as signed by the rules, and (`broken_name`)
/// rejected as signed by `broken`.
fn pair(
    b: &Builder<'_>,
    rule: &str,
    (name, what): (&str, &str),
    (broken_name, broken_what): (&str, &str),
    req: &Request,
    broken: Result<Step, String>,
    control: Defect,
) -> [Probe; 2] {
    [
        b.probe(Acceptance, name, what, vec![b.acceptance_step(req)])
            .rule(b.cite(rule))
            .no_control("a valid request: nothing to ignore"),
        b.probe(Tamper, broken_name, broken_what, vec![broken])
            .rule(b.cite(rule))
            .control(control)
            .twin(b.case_id(Acceptance, name)),
    ]
}

/// A header value with inner runs of spaces: signed trimmed.
fn header_values(b: &Builder<'_>) -> Vec<Probe> {
    let req = with_header(b.probe_request(), META, "a   b");
    pair(
        b,
        "canonical-headers",
        (
            "header-value-spaces",
            "a header value with a run of spaces inside, signed with one space, is accepted",
        ),
        (
            "header-value-untrimmed",
            "a header value with a run of spaces inside, signed with the run kept, is rejected",
        ),
        &req,
        signed_as_broken(b, &req, |c| c.trim_header_values = Some(false)),
        Defect::HeaderValuesUntrimmed,
    )
    .into()
}

/// S3: every `x-amz-*` header signed; one added after signing.
fn amz_headers(b: &Builder<'_>) -> Vec<Probe> {
    let req = with_header(b.probe_request(), META, "signed");
    let added = Recipe {
        edits: vec![HeaderEdit::Add(Header(META.into(), "unsigned".into()))],
        ..b.recipe(b.now)
    };
    let unsigned = b.step(&b.probe_request(), &added, Expect::Reject);
    pair(
        b,
        "required-headers",
        (
            "amz-header-signed",
            "an x-amz-meta-* header, signed, is accepted",
        ),
        (
            "amz-header-unsigned",
            "an x-amz-meta-* header added after signing (S3 requires every x-amz-* header signed) is rejected",
        ),
        &req,
        unsigned,
        Defect::UnsignedAmzHeaders,
    )
    .into()
}

/// A query name twice, its values out of order: signed sorted by value.
fn query_order(b: &Builder<'_>) -> Vec<Probe> {
    let path = b.path(&format!("{PROBE_PATH}&sigconform=2&sigconform=1"));
    let mut req = b.probe_request();
    *req.uri_mut() = path.parse().expect("the runner's query is a URI");
    pair(
        b,
        "canonical-query",
        (
            "query-repeated-name",
            "a query name twice, its values sent out of order, signed sorted by value, is accepted",
        ),
        (
            "query-repeated-name-unsorted",
            "a query name twice, signed with its values in the order sent (sorted by name only), is rejected",
        ),
        &req,
        signed_as_broken(b, &req, |c| c.sort_query_values = Some(false)),
        Defect::QueryValuesUnsorted,
    )
    .into()
}

/// A DELETE of `rest` below the target's path.
fn delete_below(b: &Builder<'_>, rest: &str) -> Request {
    let route = b.path("");
    let route = route.split_once('?').map_or(route.as_str(), |(p, _)| p);
    b.request_to(
        "DELETE",
        &format!("{}/{rest}", route.trim_end_matches('/')),
        bytes::Bytes::new(),
    )
}

/// `req` signed for `path` instead of its own.
fn signed_for_path(b: &Builder<'_>, req: &Request, path: &str) -> Result<Step, String> {
    let recipe = Recipe {
        signed_as: Some(SignedAs {
            path: Some(path.into()),
            ..SignedAs::default()
        }),
        ..b.recipe(b.now)
    };
    b.step(req, &recipe, Expect::Reject).map(|mut step| {
        step.unrouted_control = Some(req.clone());
        step
    })
}

/// S3's paths, signed as sent.
fn s3_paths(b: &Builder<'_>) -> Vec<Probe> {
    let slashes = delete_below(b, "sigconform//probe");
    let merged = slashes.uri().path().replace("//", "/");
    let dots = delete_below(b, "sigconform/./other/../probe");
    let resolved = dots.uri().path().replace("/./other/../", "/");
    let space = delete_below(b, "sigconform/a%20probe");
    let lower = delete_below(b, "sigconform/a%3aprobe");
    let rule = "canonical-uri";
    let mut out = Vec::new();
    out.extend(pair(
        b,
        rule,
        (
            "path-double-slash",
            "an S3 path with `//`, signed as sent, is accepted",
        ),
        (
            "path-double-slash-merged",
            "an S3 path with `//`, signed with the slashes merged, is rejected",
        ),
        &slashes,
        signed_for_path(b, &slashes, &merged),
        Defect::MergesSlashes,
    ));
    out.extend(pair(
        b,
        rule,
        (
            "path-dot-segments-as-sent",
            "an S3 path with dot segments, signed as sent, is accepted",
        ),
        (
            "path-dot-segments-resolved",
            "an S3 path with dot segments, signed with them resolved, is rejected",
        ),
        &dots,
        signed_for_path(b, &dots, &resolved),
        Defect::ResolvesDotSegments,
    ));
    out.extend(pair(
        b,
        rule,
        (
            "path-encoded-character",
            "an S3 path with a percent-encoded space, signed encoded once, is accepted",
        ),
        (
            "path-encoded-twice",
            "an S3 path with a percent-encoded space, signed encoded twice (another service's rule), is rejected",
        ),
        &space,
        signed_as_broken(b, &space, |c| c.uri_encoding = Some(UriEncoding::Twice)),
        Defect::PathRules(Some(UriEncoding::Twice), None),
    ));
    out.extend(pair(
        b,
        rule,
        (
            "path-lowercase-escape",
            "an S3 path with a lower-case escape (`%3a`), signed upper-case, is accepted",
        ),
        (
            "path-lowercase-escape-as-sent",
            "an S3 path with a lower-case escape, signed as sent, is rejected",
        ),
        &lower,
        signed_as_broken(b, &lower, |c| c.uri_encoding = Some(UriEncoding::AsSent)),
        Defect::PathRules(Some(UriEncoding::AsSent), None),
    ));
    out
}

/// Another service's paths: normalised, then encoded twice.
fn other_service_paths(b: &Builder<'_>) -> Vec<Probe> {
    let with_path = |path: &str| {
        let mut req = b.probe_request();
        *req.uri_mut() = b.path(path).parse().expect("the runner's paths are URIs");
        req
    };
    let dotted = with_path("/sigconform//other/./x/../probe?page=1");
    let space = with_path("/sigconform/a%20probe?page=1");
    let rule = "canonical-uri";
    let mut out = Vec::new();
    out.extend(pair(
        b,
        rule,
        (
            "path-normalised",
            "a path with `//` and dot segments, signed normalised, is accepted",
        ),
        (
            "path-not-normalised",
            "a path with `//` and dot segments, signed as sent (S3's rule), is rejected",
        ),
        &dotted,
        signed_as_broken(b, &dotted, |c| c.normalize_path = Some(false)),
        Defect::PathRules(None, Some(false)),
    ));
    out.extend(pair(
        b,
        rule,
        (
            "path-double-encoded",
            "a path with a percent-encoded space, signed encoded twice, is accepted",
        ),
        (
            "path-encoded-once",
            "a path with a percent-encoded space, signed encoded once (S3's rule), is rejected",
        ),
        &space,
        signed_as_broken(b, &space, |c| c.uri_encoding = Some(UriEncoding::Once)),
        Defect::PathRules(Some(UriEncoding::Once), None),
    ));
    out
}
