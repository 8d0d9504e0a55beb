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

use crate::probe::{Builder, Probe};
use crate::{
    acceptance, canonical, coverage, keys, learn, lifecycle, malformed, payload, presigned,
    readback, replay, scope, shapes, tamper, timing, window,
};

/// Builds the catalog with `b` (case ids and descriptions are stable;
/// requests depend on the time and the base body), keeping the cases
/// `--only` and `--skip` select.
pub(crate) fn catalog(b: &Builder<'_>) -> Vec<Probe> {
    let mut probes = sections(b);
    probes.extend(sequences(b));
    probes.retain(|p| b.options.selects(&p.id));
    probes
}

/// The cases whose steps carry state from one to the next, listed last:
/// they run after the others.
fn sequences(b: &Builder<'_>) -> Vec<Probe> {
    let mut out = vec![learn::answering(b)];
    out.extend(lifecycle::probes(b));
    out.extend(timing::probe(b));
    out.extend(replay::cross_instance(b));
    out
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
