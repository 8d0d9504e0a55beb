//! The machine-readable report.

use super::Counts;
use crate::Run;

/// The machine-readable report: every case, and counts per outcome.
pub fn render_json(runs: &[(String, Run)]) -> serde_json::Value {
    serde_json::json!({
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
    })
}
