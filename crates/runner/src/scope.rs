//! The credential scope, for schemes whose signatures name the region they
//! are for (SigV4): a request signed correctly, with the key of its scope,
//! for another region than the target's is rejected.

use super::Category::Scope;
use super::probe::{Builder, Expect, Probe, Step};
use sigconform_core::scheme::{Scheme, SchemeConfig};
use sigconform_server::Defect;

/// A region no target is configured with.
const OTHER_REGION: &str = "sigconform-test-1";

/// Every scope case, or none for a scheme whose signatures name no region.
pub(super) fn probes(b: &Builder<'_>) -> Vec<Probe> {
    let Some(elsewhere) = other_region(b) else {
        return Vec::new();
    };
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
    vec![
        b.probe(
            Scope,
            "other-region",
            "a request signed for another region (with that region's key) is rejected",
            vec![step],
        )
        .control(Defect::AnyRegion),
    ]
}

/// The scheme as configured for another region, where its signatures
/// change with the region (SigV4's); `None` for the others.
fn other_region(b: &Builder<'_>) -> Option<Box<dyn Scheme>> {
    // A target said to serve any region has no other.
    if b.config.scheme_config.region.as_deref() == Some("*") {
        return None;
    }
    let config = SchemeConfig {
        region: Some(OTHER_REGION.into()),
        ..b.config.scheme_config.clone()
    };
    let elsewhere = b.config.scheme.build(&config).ok()?;
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
