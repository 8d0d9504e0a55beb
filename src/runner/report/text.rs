//! The human report, for a terminal.

use super::Counts;
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
pub fn render_text(target: &str, run: &Run) -> String {
    use std::fmt::Write as _;
    let results = &run.results;
    let mut out = String::new();
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
            "  {:<11} {} pass, {} fail, {} warn, {} info, {} error",
            format!("{category:?}").to_lowercase(),
            counts.pass,
            counts.fail,
            counts.warn,
            counts.info,
            counts.error
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
            if r.outcome == Outcome::Fail || r.outcome == Outcome::Error {
                let _ = writeln!(out, "          {}", r.detail);
                let _ = writeln!(out, "          reproduce: {}", r.reproduce);
            }
        }
    }
    out
}
