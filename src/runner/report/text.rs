//! The human report, for a terminal.

use std::fmt::Write as _;

use super::Counts;
use super::reproduce::Files;
use crate::runner::{CaseResult, Category, Outcome, Run};

impl Outcome {
    /// How the terminal report marks this outcome (the caller's stream
    /// drops the colour where it is not a terminal).
    pub fn style(self) -> anstyle::Style {
        use anstyle::AnsiColor::*;
        let color = match self {
            Outcome::Pass => Green,
            Outcome::Fail => Red,
            Outcome::Warn => Yellow,
            Outcome::Info => Cyan,
            Outcome::Error => Magenta,
            Outcome::Skip => BrightBlack,
        };
        anstyle::Style::new().fg_color(Some(color.into())).bold()
    }
}

/// The human report for one target: results grouped by category, every
/// case that did not pass shown with what was expected, what was observed,
/// the canonical string and a curl command. Outcomes carry ANSI colours;
/// print through a stream that strips them where they do not belong
/// (`anstream`).
///
/// Reproductions with payloads over 1 KiB refer to files written under
/// `files` rather than carrying the payload inline.
pub fn render_text(target: &str, run: &Run, files: &mut Files) -> String {
    let results = &run.results;
    let mut out = String::new();
    if run.insecure {
        let _ = writeln!(
            out,
            "WARNING: {target}: TLS certificate NOT verified (--insecure); this run does not prove who answered"
        );
    }
    let _ = match run.clock.uncertainty_ms {
        Some(u) => writeln!(
            out,
            "target {target} (clock offset {:+} ms ± {u} ms)",
            run.clock.offset_ms
        ),
        None => writeln!(
            out,
            "target {target} (no Date header: clock offset unknown, boundary margin 2 s)"
        ),
    };
    let mut categories: Vec<Category> = results.iter().map(|r| r.category).collect();
    categories.sort_unstable();
    categories.dedup();
    for category in categories {
        let in_category: Vec<&CaseResult> =
            results.iter().filter(|r| r.category == category).collect();
        let counts = Counts::of(&in_category.iter().map(|r| (*r).clone()).collect::<Vec<_>>());
        let _ = writeln!(
            out,
            "  {:<11} {} pass, {} fail, {} warn, {} info, {} error, {} skip",
            format!("{category:?}").to_lowercase(),
            counts.pass,
            counts.fail,
            counts.warn,
            counts.info,
            counts.error,
            counts.skip
        );
        for r in in_category.iter().filter(|r| r.outcome != Outcome::Pass) {
            let style = r.outcome.style();
            let _ = writeln!(
                out,
                "    {style}{:<5}{style:#} {}  {}",
                format!("{:?}", r.outcome).to_uppercase(),
                r.id,
                r.description
            );
            let _ = writeln!(
                out,
                "          expected {}, observed {}",
                r.expected, r.observed
            );
            if !r.retries.is_empty() {
                let _ = writeln!(out, "          retried after {}", r.retries.join(", "));
            }
            if r.outcome == Outcome::Fail && !r.rule.is_empty() {
                let _ = writeln!(out, "          rule: {}", r.rule);
            }
            if r.outcome == Outcome::Fail || r.outcome == Outcome::Error {
                if !r.detail.is_empty() {
                    let _ = writeln!(out, "          {}", r.detail);
                }
                if let Some(command) = short_command(r, files) {
                    let _ = writeln!(out, "          reproduce: {command}");
                }
            }
        }
    }
    out
}

/// The case's reproduction with large payloads in files (inline when the
/// files cannot be written, saying so).
fn short_command(case: &CaseResult, files: &mut Files) -> Option<String> {
    let replay = case.replay.as_ref()?;
    Some(match replay.command_with_files(files, &case.id) {
        Ok(command) => command,
        Err(e) => format!(
            "(payload files could not be written to {}: {e}) {}",
            files.dir().display(),
            case.reproduce
        ),
    })
}
