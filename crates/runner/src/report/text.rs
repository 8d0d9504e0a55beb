//! The human report, for a terminal.

use std::fmt::Write as _;

use super::Counts;
use crate::reproduce::Files;
use crate::verdict::{CaseResult, Category, Outcome, Run};

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
            Outcome::Unjudged => Blue,
            Outcome::Skip => BrightBlack,
        };
        anstyle::Style::new().fg_color(Some(color.into())).bold()
    }
}

/// What the terminal report shows besides the cases that need attention.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions<'a> {
    /// The scheme or profile probed, named on the target's heading.
    pub scheme: &'a str,
    /// Every case that did not pass, `info` and `skip` ones included
    /// (otherwise those are only counted).
    pub verbose: bool,
}

/// The human report for one target: counts per category, and every case
/// that needs attention (`fail`, `error`, `warn`) shown with what was
/// expected, what was observed, its rule, the canonical string and a
/// command that sends the request again; with `verbose`, `info` and `skip`
/// cases too, with what was expected and observed. Outcomes carry ANSI colours;
/// print through a stream that strips them where they do not belong
/// (`anstream`).
///
/// Reproductions with payloads over 1 KiB refer to files written under
/// `files` rather than carrying the payload inline.
pub fn render_text(target: &str, run: &Run, files: &mut Files, options: &TextOptions) -> String {
    let results = &run.results;
    let mut out = heading(target, run, options);
    out.push_str(&learned_and_unjudged(run));
    let mut unshown = 0;
    let mut hidden_unjudged = false;
    let mut categories: Vec<Category> = results.iter().map(|r| r.category).collect();
    categories.sort_unstable();
    categories.dedup();
    for category in categories {
        let in_category = || results.iter().filter(move |r| r.category == category);
        let counts = Counts::of(in_category());
        let _ = writeln!(
            out,
            "  {:<11} {counts}",
            format!("{category:?}").to_lowercase(),
        );
        // A case that deviates from its expectations is shown whatever its
        // outcome (an expected `fail` that now passes).
        let deviates = |r: &CaseResult| r.expectation.as_ref().is_some_and(|j| j.deviates());
        for r in in_category().filter(|r| r.outcome != Outcome::Pass || deviates(r)) {
            if !options.verbose
                && matches!(r.outcome, Outcome::Info | Outcome::Skip | Outcome::Unjudged)
                && !deviates(r)
            {
                unshown += 1;
                hidden_unjudged |= r.outcome == Outcome::Unjudged;
                continue;
            }
            write_case(&mut out, r, files);
        }
    }
    if unshown > 0 {
        let kinds = if hidden_unjudged {
            "info, skip and unjudged"
        } else {
            "info and skip"
        };
        let _ = writeln!(
            out,
            "  ({unshown} {kinds} cases counted above, not shown: --verbose shows them)"
        );
    }
    out
}

/// What the runner learned of the deployment, and how many cases prove
/// nothing and why (the first lines a reader needs: a run full of passes
/// whose twins were refused is no evidence).
fn learned_and_unjudged(run: &Run) -> String {
    let mut out = String::new();
    for line in &run.learned {
        let _ = writeln!(out, "  learned: {line}");
    }
    for line in &run.notes {
        let _ = writeln!(out, "  {line}");
    }
    let mut reasons: Vec<(&str, usize)> = Vec::new();
    for why in run.results.iter().filter_map(|r| r.unjudged.as_deref()) {
        match reasons.iter_mut().find(|(r, _)| *r == why) {
            Some((_, n)) => *n += 1,
            None => reasons.push((why, 1)),
        }
    }
    let unjudged: usize = reasons.iter().map(|(_, n)| n).sum();
    if unjudged > 0 {
        let style = Outcome::Unjudged.style();
        let _ = writeln!(
            out,
            "  {style}UNJUDGED{style:#} {unjudged} cases prove nothing (--fail-on error fails on them):"
        );
        for (why, n) in reasons {
            let _ = writeln!(out, "    {n} because {why}");
        }
    }
    out
}

/// The target's heading: its URL, scheme and clock, after a warning when
/// its certificate was not verified.
fn heading(target: &str, run: &Run, options: &TextOptions) -> String {
    let mut out = String::new();
    if run.insecure {
        let _ = writeln!(
            out,
            "WARNING: {target}: TLS certificate NOT verified (--insecure); this run does not prove who answered"
        );
    }
    let scheme = if options.scheme.is_empty() {
        String::new()
    } else {
        format!(", {}", options.scheme)
    };
    let _ = match run.clock.uncertainty_ms {
        Some(u) => writeln!(
            out,
            "target {target}{scheme} (clock offset {:+} ms ± {u} ms)",
            run.clock.offset_ms
        ),
        None => writeln!(
            out,
            "target {target}{scheme} (no Date header: clock offset unknown, boundary margin 2 s)"
        ),
    };
    out
}

/// One case that did not pass: its outcome, id and answers; for one that
/// needs attention, its rule, canonical string and reproduction too.
fn write_case(out: &mut String, r: &CaseResult, files: &mut Files) {
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
    if let Some(judged) = &r.expectation {
        let _ = writeln!(out, "          {}", judged.describe(r.outcome));
    }
    if !matches!(
        r.outcome,
        Outcome::Fail | Outcome::Error | Outcome::Unjudged | Outcome::Warn
    ) {
        return;
    }
    if r.rule.is_known() {
        let _ = writeln!(out, "          rule {}: {}", r.rule.id, r.rule.text);
    }
    if !r.detail.is_empty() {
        let _ = writeln!(out, "          {}", r.detail);
    }
    if let Some(command) = short_command(r, files) {
        let _ = writeln!(out, "          reproduce: {command}");
    }
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
