//! The files `conform` writes and reads: reports (`--report`), the exit
//! status threshold (`--fail-on`) and the failed cases of an earlier
//! report (`--rerun-failed`).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sigconform_runner::{self as runner, Counts};

/// A report's format.
#[derive(Clone, Copy)]
pub(crate) enum ReportFormat {
    Json,
    Junit,
    Html,
}

/// A report to write: its format, its path, and a file beside it created
/// before the run (so that an unwritable path is a usage error, not a lost
/// run) that becomes the report only when the report is whole. A run that
/// ends in an error leaves no report behind, never an empty or half-written
/// one: the file is removed when the report is dropped unwritten.
pub(crate) struct ReportFile {
    pub(crate) format: ReportFormat,
    pub(crate) path: String,
    partial: PathBuf,
    file: Option<std::fs::File>,
}

impl ReportFile {
    fn create(format: ReportFormat, path: &str) -> Result<ReportFile, String> {
        let target = Path::new(path);
        let name = target
            .file_name()
            .ok_or_else(|| format!("{path}: not a file name"))?;
        let partial = target.with_file_name(format!(
            ".{}.{}.partial",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = std::fs::File::create(&partial).map_err(|e| format!("{path}: {e}"))?;
        Ok(ReportFile {
            format,
            path: path.to_owned(),
            partial,
            file: Some(file),
        })
    }

    /// Writes `text` whole, then puts it in the report's place.
    pub(crate) fn commit(mut self, text: &str) -> Result<(), String> {
        let mut file = self.file.take().expect("a report is committed once");
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&self.partial, &self.path))
            .map_err(|e| format!("{}: {e}", self.path))
    }
}

impl Drop for ReportFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.partial);
    }
}

pub(crate) fn report_files(specs: &[String]) -> Result<Vec<ReportFile>, String> {
    specs
        .iter()
        .map(|spec| {
            let (format, path) = match spec.split_once('=') {
                Some(("json", path)) if !path.is_empty() => (ReportFormat::Json, path),
                Some(("junit", path)) if !path.is_empty() => (ReportFormat::Junit, path),
                Some(("html", path)) if !path.is_empty() => (ReportFormat::Html, path),
                _ => {
                    return Err(format!(
                        "--report takes json=PATH, junit=PATH or html=PATH, not `{spec}`"
                    ));
                }
            };
            ReportFile::create(format, path)
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum FailOn {
    /// A case failed.
    Fail,
    /// A case failed, could not be judged, or proves nothing (`unjudged`).
    Error,
    /// Also a warning.
    Warn,
    /// Also an `info` finding.
    Info,
}

impl FailOn {
    /// Whether `counts` hold an outcome at or above this level.
    pub(crate) fn reached(self, counts: &Counts) -> bool {
        counts.fail > 0
            || (self >= FailOn::Error && counts.error + counts.unjudged > 0)
            || (self >= FailOn::Warn && counts.warn > 0)
            || (self >= FailOn::Info && counts.info > 0)
    }
}

/// The ids of the cases that failed or erred in a JSON report, each as a
/// glob that matches it alone.
pub(crate) fn failed_in_report(path: &Path) -> Result<Vec<glob::Pattern>, String> {
    let at = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("--rerun-failed {at}: {e}"))?;
    let report: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("--rerun-failed {at}: not a JSON report: {e}"))?;
    let cases = report["targets"]
        .as_array()
        .ok_or_else(|| format!("--rerun-failed {at}: not a JSON report of `conform` (no targets)"))?
        .iter()
        .filter_map(|target| target["cases"].as_array())
        .flatten();
    let mut ids: Vec<&str> = cases
        .filter(|case| matches!(case["outcome"].as_str(), Some("fail" | "error")))
        .filter_map(|case| case["id"].as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| glob::Pattern::new(&glob::Pattern::escape(id)).map_err(|e| e.to_string()))
        .collect()
}

/// Writes every report of `runs` to its file.
pub(crate) fn write(files: Vec<ReportFile>, runs: &[(String, runner::Run)]) -> Result<(), String> {
    for report in files {
        let text = match report.format {
            ReportFormat::Junit => runner::render_junit(runs),
            ReportFormat::Json => {
                serde_json::to_string_pretty(&runner::render_json(runs)).map_err(|e| e.to_string())
            }
            ReportFormat::Html => Ok(runner::render_html(runs)),
        };
        let path = report.path.clone();
        text.map_err(|e| format!("{path}: {e}"))
            .and_then(|t| report.commit(&t))?;
    }
    Ok(())
}
