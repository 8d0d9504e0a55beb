//! The credential scope, for schemes whose signatures name one (SigV4:
//! `date/region/service/aws4_request`): a request signed correctly, with
//! the key of the scope it names, for another region, service, date (than
//! `X-Amz-Date`'s) or terminator than the target's is rejected; and so is
//! one that names another algorithm than `AWS4-HMAC-SHA256`.

use super::payload;
use super::probe::{Builder, Expect, Probe, Step};
use crate::verdict::Category::Scope;
use sigconform_core::scheme::{Scheme, SchemeConfig, SignInput};
use sigconform_core::tamper::Recipe;
use sigconform_defects::{Defect, ScopePart};

/// A region no target is configured with.
const OTHER_REGION: &str = "sigconform-test-1";
/// A service no target is configured with.
pub(crate) const OTHER_SERVICE: &str = "sigconform";
/// Another last part of the scope than `aws4_request`.
pub(crate) const OTHER_TERMINATOR: &str = "sigconform_request";
/// Another algorithm's name in `Authorization`: SigV4a's.
const OTHER_ALGORITHM: &str = "AWS4-ECDSA-P256-SHA256";

/// Every scope case, or none for a scheme whose signatures name no scope.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    if !names_a_scope(b) {
        return Vec::new();
    }
    let mut out: Vec<Probe> = other_region(b)
        .map(|elsewhere| {
            let req = b.probe_request();
            let recipe = b.recipe(b.now);
            let step = recipe
                .apply(elsewhere.as_ref(), &req, &b.key)
                .map_err(|e| format!("the request could not be signed: {e}"))
                .map(|request| {
                    Step::signed(
                        canonical(elsewhere.as_ref(), &req, &recipe.input),
                        request,
                        Expect::Reject,
                    )
                });
            b.probe(
                Scope,
                "other-region",
                "a request signed for another region (with that region's key) is rejected",
                vec![step],
            )
            .control(Defect::AnyRegion)
        })
        .into_iter()
        .collect();
    out.extend(other_parts(b));
    out
}

/// Whether the scheme's signatures name a credential scope: signing for
/// another changes what is signed.
pub(crate) fn names_a_scope(b: &Builder<'_>) -> bool {
    let req = b.probe_request();
    let input = b.input(b.now);
    let elsewhere = SignInput {
        scope: Some("19700101/nowhere/nothing/aws4_request".into()),
        ..input.clone()
    };
    canonical(b.scheme.as_ref(), &req, &input) != canonical(b.scheme.as_ref(), &req, &elsewhere)
}

/// The scope of the runner's requests at `amz_date`, as four parts.
fn our_scope(b: &Builder<'_>, amz_date: &str) -> [String; 4] {
    let region = match b.deployment.scheme_config.region.as_deref() {
        None | Some("*") => "us-east-1",
        Some(region) => region,
    };
    let service = payload::service(b);
    [
        amz_date.get(..8).unwrap_or(amz_date).to_owned(),
        region.to_owned(),
        service.to_owned(),
        sigconform_core::scheme::sigv4::TERMINATOR.to_owned(),
    ]
}

/// The runner's scope at `amz_date` with its part at `index` (`DATE/REGION/
/// SERVICE/TERMINATOR`) replaced by `value`.
pub(crate) fn scope_with(b: &Builder<'_>, amz_date: &str, index: usize, value: &str) -> String {
    let mut scope = our_scope(b, amz_date);
    scope[index] = value.to_owned();
    scope.join("/")
}

/// The `YYYYMMDD` of the day before `at` (in the scheme's unit).
pub(crate) fn day_before(b: &Builder<'_>, at: u64) -> String {
    let text = b
        .scheme
        .timestamp_text(at.saturating_sub(b.unit.from_ms(86_400_000)));
    text.get(..8).unwrap_or(&text).to_owned()
}

/// The runner's request signed for its own scope with one part replaced
/// (and with that scope's key).
fn signed_for(b: &Builder<'_>, part: ScopePart, value: &str) -> Result<Step, String> {
    let input = b.input(b.now);
    let recipe = Recipe {
        input: SignInput {
            scope: Some(scope_with(b, &input.timestamp, part.index(), value)),
            ..input
        },
        ..Recipe::default()
    };
    b.step(&b.probe_request(), &recipe, Expect::Reject)
}

/// The scope's service, date and terminator, each another than the
/// target's, and the algorithm's name.
fn other_parts(b: &Builder<'_>) -> Vec<Probe> {
    let yesterday = day_before(b, b.now);
    let case = |name: &str, what: &str, part: ScopePart, value: &str| {
        b.probe(Scope, name, what, vec![signed_for(b, part, value)])
            .control(Defect::ScopePartUnchecked(part))
    };
    let renamed = b
        .step(&b.probe_request(), &b.recipe(b.now), Expect::Reject)
        .and_then(|mut step| {
            let authorization = step
                .request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .map(|(_, rest)| format!("{OTHER_ALGORITHM} {rest}"))
                .ok_or("no Authorization header to rename the algorithm in")?;
            let value = http::HeaderValue::from_str(&authorization).map_err(|e| e.to_string())?;
            step.request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value);
            Ok(step)
        });
    vec![
        case(
            "other-service",
            "a request signed for another service (with that service's key) is rejected",
            ScopePart::Service,
            OTHER_SERVICE,
        ),
        case(
            "other-date",
            "a request whose credential scope names the day before its X-Amz-Date (signed with that day's key) is rejected",
            ScopePart::Date,
            &yesterday,
        ),
        case(
            "other-terminator",
            "a request whose credential scope ends with another word than aws4_request (its key derived with it) is rejected",
            ScopePart::Terminator,
            OTHER_TERMINATOR,
        ),
        b.probe(
            Scope,
            "other-algorithm",
            "a request signed with AWS4-HMAC-SHA256 but naming another algorithm (SigV4a's) is rejected",
            vec![renamed],
        )
        .rule(b.cite("authorization-header"))
        .control(Defect::AlgorithmNameUnchecked),
    ]
}

/// The scheme as configured for another region, where its signatures
/// change with the region (SigV4's); `None` for the others (the scope
/// cases and the fuzzer's `scope-other-region` both sign with it).
pub(crate) fn other_region(b: &Builder<'_>) -> Option<Box<dyn Scheme>> {
    // A target said to serve any region has no other.
    if b.deployment.scheme_config.region.as_deref() == Some("*") {
        return None;
    }
    let config = SchemeConfig {
        region: Some(OTHER_REGION.into()),
        ..b.deployment.scheme_config.clone()
    };
    let elsewhere = b.deployment.scheme.build(&config).ok()?;
    let req = b.probe_request();
    let input = b.input(b.now);
    let here = canonical(b.scheme.as_ref(), &req, &input);
    (canonical(elsewhere.as_ref(), &req, &input) != here).then_some(elsewhere)
}

/// What `scheme` signs for `req` with `input`.
fn canonical(
    scheme: &dyn Scheme,
    req: &sigconform_core::Request,
    input: &sigconform_core::scheme::SignInput,
) -> String {
    let mut out = Vec::new();
    if let Ok(params) = scheme.signing_params(req, input) {
        let _ = scheme.canonicalize(req, &params, &mut out);
    }
    String::from_utf8_lossy(&out).into_owned()
}
