//! The files `conform` writes and reads: reports (`--report`), the exit
//! status threshold (`--fail-on`) and the failed cases of an earlier
//! report (`--rerun-failed`); and how a file is written whole or not at
//! all.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sigconform_runner::expect::Judgement;
use sigconform_runner::{self as runner, Counts, Outcome};

/// A report's format.
#[derive(Clone, Copy)]
pub(crate) enum ReportFormat {
    Json,
    Junit,
    Html,
}

/// A report to write: its format and its file.
pub(crate) struct ReportFile {
    pub(crate) format: ReportFormat,
    pub(crate) output: OutputFile,
}

/// A file to write whole after the run: a file beside it is created before
/// the run (so that an unwritable path is a usage error, not a lost run)
/// and becomes the file only when its text is whole. A run that ends in an
/// error leaves nothing behind, never an empty or half-written file: the
/// partial file is removed when the output is dropped unwritten.
pub(crate) struct OutputFile {
    pub(crate) path: String,
    partial: PathBuf,
    file: Option<std::fs::File>,
}

impl OutputFile {
    pub(crate) fn create(path: &str) -> Result<OutputFile, String> {
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
        Ok(OutputFile {
            path: path.to_owned(),
            partial,
            file: Some(file),
        })
    }

    /// Writes `text` whole, then puts it in the file's place.
    pub(crate) fn commit(mut self, text: &str) -> Result<(), String> {
        let mut file = self.file.take().expect("an output is committed once");
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&self.partial, &self.path))
            .map_err(|e| format!("{}: {e}", self.path))
    }
}

impl Drop for OutputFile {
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
            Ok(ReportFile {
                format,
                output: OutputFile::create(path)?,
            })
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

    /// Whether `case`'s outcome is at or above this level.
    pub(crate) fn reached_by(self, case: &runner::CaseResult) -> bool {
        self.reached(&Counts::of([case]))
    }
}

/// The ids of the cases that failed or erred in a JSON report, each as a
/// glob that matches it alone.
pub(crate) fn failed_in_report(path: &Path) -> Result<Vec<glob::Pattern>, String> {
    let at = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("--rerun-failed {at}: {e}"))?;
    let report = runner::report::stored::StoredReport::parse(&text)
        .map_err(|e| format!("--rerun-failed {at}: {e}"))?;
    report
        .ids_where(|outcome| matches!(outcome, Outcome::Fail | Outcome::Error))
        .into_iter()
        .map(|id| glob::Pattern::new(&glob::Pattern::escape(id)).map_err(|e| e.to_string()))
        .collect()
}

/// Writes every report of `runs` (judged against their expectations when
/// there are some) to its file.
pub(crate) fn write(
    files: Vec<ReportFile>,
    runs: &[(String, runner::Run)],
    judgement: Option<&Judgement>,
) -> Result<(), String> {
    for report in files {
        let text = match report.format {
            ReportFormat::Junit => runner::render_junit_judged(runs, judgement),
            ReportFormat::Json => {
                serde_json::to_string_pretty(&runner::render_json_judged(runs, judgement))
                    .map_err(|e| e.to_string())
            }
            ReportFormat::Html => Ok(runner::render_html_judged(runs, judgement)),
        };
        let path = report.output.path.clone();
        text.map_err(|e| format!("{path}: {e}"))
            .and_then(|t| report.output.commit(&t))?;
    }
    Ok(())
}
