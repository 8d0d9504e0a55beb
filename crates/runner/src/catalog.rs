//! The catalog: every category's probes, in the order they are listed and
//! reported. Each category's probes are built in that category's file;
//! this file only assembles them.
//!
//! The rule every negative case follows: it starts from a request the
//! target would accept (a fresh nonce, a timestamp near the target's clock,
//! a correct signature over exactly what is sent) and changes one
//! property. Each such case names its control, the deliberate defect
//! ([`sigconform_defects::Defect`]) that ignores exactly that property; a server
//! with the control must accept the case (`tests/controls.rs` proves it for
//! every case). Robustness cases, which check that bad input gets a 4xx and
//! not a 5xx, say why they have none.

use super::probe::{Builder, Probe};
use super::{
    RunConfig, acceptance, canonical, coverage, keys, malformed, payload, presigned, readback,
    replay, scope, shapes, tamper, window,
};

/// Builds the catalog with `b` (case ids and descriptions are stable;
/// requests depend on the time and the base body), keeping the cases
/// `--only` and `--skip` select.
pub(super) fn catalog(b: &Builder<'_>) -> Vec<Probe> {
    let mut probes = sections(b);
    probes.retain(|p| selected(b.config, &p.id));
    probes
}

/// Whether `--only` and `--skip` select the case `id`.
pub(super) fn selected(config: &RunConfig, id: &str) -> bool {
    (config.only.is_empty() || config.only.iter().any(|g| g.matches(id)))
        && !config.skip.iter().any(|g| g.matches(id))
}

fn sections(b: &Builder<'_>) -> Vec<Probe> {
    let mut out = acceptance::probes(b);
    out.extend(tamper::probes(b));
    out.extend(window::expiry(b));
    out.extend(window::skew(b));
    out.extend(replay::probes(b));
    out.extend(malformed::probes(b));
    out.extend(keys::probes(b));
    out.extend(shapes::probes(b));
    out.extend(payload::probes(b));
    out.extend(presigned::probes(b));
    out.extend(scope::probes(b));
    out.extend(canonical::probes(b));
    out.extend(readback::probes(b));
    out.extend(coverage::probes(b));
    readback::read_back_refused_writes(b, &mut out);
    payload::fit_to_service(b, &mut out);
    out
}
