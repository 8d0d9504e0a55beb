//! A JSON report read back, typed: what a later run takes from it
//! (`conform --rerun-failed`).

use serde::Deserialize;

use super::json::SCHEMA_VERSION;
use crate::verdict::Outcome;

/// A JSON report as [`render_json`](super::json::render_json) wrote it:
/// the parts a later run reads (other fields are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct StoredReport {
    /// The report's shape (reports written before the field existed have
    /// the shape of version 1).
    #[serde(default = "first_version")]
    pub schema_version: u32,
    /// A run per target.
    pub targets: Vec<StoredTarget>,
}

/// One target's cases.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredTarget {
    /// The target's URL.
    #[serde(default)]
    pub target: String,
    /// Its cases.
    pub cases: Vec<StoredCase>,
}

/// One case's verdict.
#[derive(Debug, Clone, Deserialize)]
pub struct StoredCase {
    /// Its id.
    pub id: String,
    /// Its outcome.
    pub outcome: Outcome,
}

fn first_version() -> u32 {
    1
}

/// Why a report cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum StoredReportError {
    /// It is not a JSON report of `conform`.
    #[error("not a JSON report of `conform`: {0}")]
    Format(String),
    /// A later sigconform wrote it, in a shape this one does not know.
    #[error(
        "a report of schema version {0}, newer than this sigconform reads ({SCHEMA_VERSION}): run the sigconform that wrote it"
    )]
    Newer(u32),
}

impl StoredReport {
    /// Reads a report from its JSON text.
    pub fn parse(text: &str) -> Result<StoredReport, StoredReportError> {
        let report: StoredReport =
            serde_json::from_str(text).map_err(|e| StoredReportError::Format(e.to_string()))?;
        if report.schema_version > SCHEMA_VERSION {
            return Err(StoredReportError::Newer(report.schema_version));
        }
        Ok(report)
    }

    /// The ids of the cases, of any target, whose outcome is `wanted`:
    /// sorted, each once.
    pub fn ids_where(&self, wanted: impl Fn(Outcome) -> bool) -> Vec<&str> {
        let mut ids: Vec<&str> = self
            .targets
            .iter()
            .flat_map(|t| &t.cases)
            .filter(|c| wanted(c.outcome))
            .map(|c| c.id.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_reads_back_and_a_newer_or_foreign_one_is_refused() {
        let report = StoredReport::parse(
            r#"{"schema_version": 1, "targets": [
                {"target": "t", "cases": [{"id": "b", "outcome": "fail", "rule": {}},
                                          {"id": "a", "outcome": "error"},
                                          {"id": "c", "outcome": "pass"}]},
                {"target": "u", "cases": [{"id": "a", "outcome": "error"}]}]}"#,
        )
        .unwrap();
        let failed = report.ids_where(|o| matches!(o, Outcome::Fail | Outcome::Error));
        assert_eq!(failed, ["a", "b"]);
        let err = StoredReport::parse(r#"{"schema_version": 2, "targets": []}"#).unwrap_err();
        assert!(matches!(err, StoredReportError::Newer(2)), "{err}");
        let err = StoredReport::parse(r#"{"cases": []}"#).unwrap_err();
        assert!(matches!(err, StoredReportError::Format(_)), "{err}");
        let err =
            StoredReport::parse(r#"{"targets": [{"cases": [{"id": "a", "outcome": "odd"}]}]}"#)
                .unwrap_err();
        assert!(err.to_string().contains("odd"), "{err}");
    }
}
