//! The catalog: every category's probes, in the order they are listed and
//! reported. Each category's probes are built in that category's file;
//! this file only assembles them.

use super::probe::{Builder, Probe};
use super::transport::Target;
use super::{RunConfig, RunError, acceptance, keys, malformed, replay, tamper, window};

/// Builds the catalog for `config` at `now_ms` (case ids and descriptions
/// are stable; requests depend on the time), keeping the cases `--only`
/// and `--skip` select.
pub(super) fn catalog(
    config: &RunConfig,
    target: &Target,
    now_ms: u64,
    margin_ms: u64,
) -> Result<Vec<Probe>, RunError> {
    let b = Builder::new(config, target, now_ms, margin_ms)?;
    let mut probes = sections(&b);
    probes.retain(|p| {
        (config.only.is_empty() || config.only.iter().any(|g| g.matches(&p.id)))
            && !config.skip.iter().any(|g| g.matches(&p.id))
    });
    Ok(probes)
}

fn sections(b: &Builder<'_>) -> Vec<Probe> {
    let mut out = acceptance::requests(b);
    out.extend(tamper::probes(b));
    out.extend(window::expiry(b));
    out.extend(window::skew(b));
    out.extend(replay::probes(b));
    out.extend(malformed::timestamps(b));
    out.extend(malformed::signature_headers(b));
    out.extend(acceptance::header_name_case(b));
    out.extend(malformed::raw_values(b));
    out.extend(malformed::body_not_json(b));
    out.extend(keys::probes(b));
    out
}
