//! The machine-readable report (`docs/schemas/report.schema.json`).

use super::Counts;
use crate::expect::Judgement;
use crate::verdict::Run;

/// The version of the report's shape, which it carries as
/// `schema_version`: raised when a field changes meaning or goes away (a
/// new field does not raise it). Readers refuse a newer one.
pub const SCHEMA_VERSION: u32 = 1;

/// The machine-readable report: every case, and counts per outcome.
pub fn render_json(runs: &[(String, Run)]) -> serde_json::Value {
    render_json_judged(runs, None)
}

/// [`render_json`], with the run judged against its expectations
/// (`--expect`): each case says how it compares, and `expectations` holds
/// every deviation.
pub fn render_json_judged(
    runs: &[(String, Run)],
    judgement: Option<&Judgement>,
) -> serde_json::Value {
    let mut report = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "targets": runs.iter().map(|(target, run)| serde_json::json!({
            "target": target,
            "tls_verified": !run.insecure,
            "clock": run.clock,
            "learned": run.learned,
            "notes": run.notes,
            "summary": Counts::of(&run.results),
            "cases": run.results,
        })).collect::<Vec<_>>(),
        "summary": Counts::of(runs.iter().flat_map(|(_, r)| &r.results)),
        "insecure": runs.iter().any(|(_, r)| r.insecure),
    });
    if let Some(judgement) = judgement {
        report["expectations"] = serde_json::json!(judgement);
    }
    report
}
