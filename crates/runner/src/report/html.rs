//! The HTML report: one self-contained file (no external assets) that a
//! person opens in a browser after a CI run.
//!
//! A summary per target and category comes first, then every case,
//! failing ones first and open: expected and observed, the canonical
//! string, the request as sent and the command that sends it again. The
//! page works without scripts; a small script adds filters by outcome and
//! category, which the URL's fragment also sets
//! (`report.html#outcome=fail,error&category=tamper`), so a link can point
//! at exactly the failures.
//!
//! Everything from the target (its answers) is escaped: a report must not
//! run a target's markup.

use std::fmt::Write as _;

use super::Counts;
use crate::expect::Judgement;
use crate::verdict::{CaseResult, Category, Outcome, Run};

const OUTCOMES: [Outcome; 7] = [
    Outcome::Fail,
    Outcome::Error,
    Outcome::Unjudged,
    Outcome::Warn,
    Outcome::Info,
    Outcome::Skip,
    Outcome::Pass,
];

fn name<T: std::fmt::Debug>(value: T) -> String {
    format!("{value:?}").to_lowercase()
}

/// `text` escaped for HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The report for `runs` (one per target).
pub fn render_html(runs: &[(String, Run)]) -> String {
    render_html_judged(runs, None)
}

/// [`render_html`], with the run judged against its expectations
/// (`--expect`): their deviations listed after the summary, and each case
/// saying how it compares.
pub fn render_html_judged(runs: &[(String, Run)], judgement: Option<&Judgement>) -> String {
    let all: Vec<CaseResult> = runs.iter().flat_map(|(_, r)| r.results.clone()).collect();
    let total = Counts::of(&all);
    let mut out = String::new();
    out.push_str(HEAD);
    let _ = write!(
        out,
        "<header><h1>sigconform report</h1><p class=\"totals\" id=\"totals\">{} cases: {}</p>",
        all.len(),
        total
    );
    out.push_str(&filters(&all, &total));
    out.push_str("</header>\n<main>\n");
    out.push_str(&summary(runs));
    if let Some(judgement) = judgement {
        out.push_str(&expectations(judgement));
    }
    for (index, (target, run)) in runs.iter().enumerate() {
        out.push_str(&cases(index, target, run));
    }
    out.push_str("</main>\n");
    out.push_str(SCRIPT);
    out.push_str("</body>\n</html>\n");
    out
}

fn count_of(c: &Counts, outcome: Outcome) -> usize {
    match outcome {
        Outcome::Pass => c.pass,
        Outcome::Fail => c.fail,
        Outcome::Warn => c.warn,
        Outcome::Info => c.info,
        Outcome::Error => c.error,
        Outcome::Unjudged => c.unjudged,
        Outcome::Skip => c.skip,
    }
}

/// The filter controls: a box per outcome, a list of categories.
fn filters(all: &[CaseResult], total: &Counts) -> String {
    let mut out =
        String::from("<form class=\"filters\" id=\"filters\"><fieldset><legend>outcome</legend>");
    for outcome in OUTCOMES {
        let o = name(outcome);
        let _ = write!(
            out,
            "<label class=\"o-{o}\"><input type=\"checkbox\" name=\"outcome\" value=\"{o}\" checked> {o} ({})</label> ",
            count_of(total, outcome)
        );
    }
    out.push_str("</fieldset><fieldset><legend>category</legend><select name=\"category\" id=\"category\"><option value=\"all\">all</option>");
    for category in Category::ALL {
        let n = all.iter().filter(|r| r.category == category).count();
        if n > 0 {
            let c = name(category);
            let _ = write!(out, "<option value=\"{c}\">{c} ({n})</option>");
        }
    }
    out.push_str("</select></fieldset><p id=\"shown\"></p></form>\n");
    out
}

/// A table per target: categories by outcome.
fn summary(runs: &[(String, Run)]) -> String {
    let mut out = String::from("<section class=\"summary\"><h2>Summary</h2>\n");
    for (index, (target, run)) in runs.iter().enumerate() {
        let _ = write!(
            out,
            "<table class=\"counts\" id=\"summary-{index}\" data-target=\"{}\"><caption><a href=\"#target-{index}\">{}</a>{}</caption><thead><tr><th>category</th>",
            escape(target),
            escape(target),
            if run.insecure {
                " <span class=\"insecure\">TLS certificate NOT verified (--insecure)</span>"
            } else {
                ""
            }
        );
        for outcome in OUTCOMES {
            let _ = write!(out, "<th class=\"o-{0}\">{0}</th>", name(outcome));
        }
        out.push_str("</tr></thead><tbody>");
        let mut rows: Vec<(String, Counts)> = Category::ALL
            .into_iter()
            .filter_map(|category| {
                // Every case has an outcome: no count means no case.
                let counts = Counts::of(run.results.iter().filter(|r| r.category == category));
                (counts != Counts::default()).then(|| (name(category), counts))
            })
            .collect();
        rows.push(("all".into(), Counts::of(&run.results)));
        for (label, counts) in rows {
            let _ = write!(out, "<tr data-category=\"{label}\"><th>{label}</th>");
            for outcome in OUTCOMES {
                let n = count_of(&counts, outcome);
                let _ = write!(
                    out,
                    "<td data-outcome=\"{}\"{}>{n}</td>",
                    name(outcome),
                    if n > 0 && !matches!(outcome, Outcome::Pass) {
                        format!(" class=\"o-{}\"", name(outcome))
                    } else {
                        String::new()
                    }
                );
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
    out
}

/// The run against its expectations: counts, and every deviation.
fn expectations(judgement: &Judgement) -> String {
    let mut out = format!(
        "<section class=\"expectations\" id=\"expectations\"><h2>Expectations</h2><p>{}{}: {} as expected, {} deviation{}</p>\n",
        escape(&judgement.file),
        judgement
            .verifier
            .as_ref()
            .map_or_else(String::new, |v| format!(" ({})", escape(v))),
        judgement.expected,
        judgement.deviations.len(),
        if judgement.deviations.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    if !judgement.deviations.is_empty() {
        out.push_str("<ul class=\"deviations\">");
        for deviation in &judgement.deviations {
            let _ = write!(
                out,
                "<li class=\"o-fail\">{}</li>",
                escape(&deviation.to_string())
            );
        }
        out.push_str("</ul>\n");
    }
    if !judgement.outside_selection.is_empty() {
        out.push_str("<p>Outside this run's selection, not judged:</p><ul>");
        for n in &judgement.outside_selection {
            let _ = write!(
                out,
                "<li><code>{}</code> (line {})</li>",
                escape(&n.entry),
                n.line
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
    out
}

/// Every case of one target, failing ones first.
fn cases(index: usize, target: &str, run: &Run) -> String {
    let mut out = format!(
        "<section class=\"target\" id=\"target-{index}\"><h2>{}</h2>\n",
        escape(target)
    );
    let _ = writeln!(
        out,
        "<p class=\"clock\">clock offset {}</p>",
        match run.clock.uncertainty_ms {
            Some(u) => format!("{:+} ms ± {u} ms", run.clock.offset_ms),
            None => "unknown (no Date header)".into(),
        }
    );
    if !run.learned.is_empty() {
        out.push_str("<ul class=\"learned\">");
        for line in &run.learned {
            let _ = write!(out, "<li>learned: {}</li>", escape(line));
        }
        out.push_str("</ul>\n");
    }
    if !run.notes.is_empty() {
        out.push_str("<ul class=\"notes\">");
        for line in &run.notes {
            let _ = write!(out, "<li>{}</li>", escape(line));
        }
        out.push_str("</ul>\n");
    }
    let mut ordered: Vec<&CaseResult> = run.results.iter().collect();
    ordered.sort_by_key(|r| OUTCOMES.iter().position(|&o| o == r.outcome));
    for (n, r) in ordered.into_iter().enumerate() {
        out.push_str(&case(index, n, r));
    }
    out.push_str("</section>\n");
    out
}

fn case(target: usize, n: usize, r: &CaseResult) -> String {
    let o = name(r.outcome);
    let deviates = r.expectation.as_ref().is_some_and(|j| j.deviates());
    let open = matches!(r.outcome, Outcome::Fail | Outcome::Error) || deviates;
    let mut out = format!(
        "<details class=\"case\" id=\"case-{target}-{n}\" data-outcome=\"{o}\" data-category=\"{}\"{}><summary><span class=\"outcome o-{o}\">{}</span> <code class=\"id\">{}</code> <span class=\"description\">{}</span></summary><dl>",
        name(r.category),
        if open { " open" } else { "" },
        o.to_uppercase(),
        escape(&r.id),
        escape(&r.description),
    );
    let mut field = |label: &str, value: &str, pre: bool| {
        if value.is_empty() {
            return;
        }
        let value = escape(value);
        if pre {
            let _ = write!(out, "<dt>{label}</dt><dd><pre>{value}</pre></dd>");
        } else {
            let _ = write!(out, "<dt>{label}</dt><dd>{value}</dd>");
        }
    };
    if r.rule.is_known() {
        field("rule", &format!("{}: {}", r.rule.id, r.rule.text), false);
    }
    if let Some(judged) = &r.expectation {
        field("expectation", &judged.describe(r.outcome), false);
    }
    field("expected", &r.expected, false);
    field("observed", &r.observed, false);
    field("retried after", &r.retries.join(", "), false);
    field("canonical string", &r.detail, true);
    field("request as sent", &r.request, true);
    field("reproduce", &shown_command(&r.reproduce), true);
    out.push_str("</dl></details>\n");
    out
}

/// Commands are shown up to 8 KiB; the JSON report keeps them whole.
fn shown_command(command: &str) -> String {
    const LIMIT: usize = 8 * 1024;
    if command.len() <= LIMIT {
        return command.to_owned();
    }
    format!(
        "{}… ({} bytes in all: the JSON report keeps the whole command)",
        crate::reproduce::prefix_within(command, LIMIT),
        command.len()
    )
}

const HEAD: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sigconform report</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 2rem 4rem; color: #1d1d1f; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd; padding: .5rem 0; z-index: 1; }
h1 { font-size: 1.4rem; margin: .3rem 0; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
fieldset { display: inline-block; border: 1px solid #ddd; margin: 0 .5rem .3rem 0; }
table.counts { border-collapse: collapse; margin: .5rem 0 1rem; }
table.counts caption { text-align: left; font-weight: 600; padding: .2rem 0; }
table.counts th, table.counts td { border: 1px solid #ddd; padding: .15rem .6rem; text-align: right; }
table.counts th:first-child { text-align: left; }
details.case { border: 1px solid #ddd; border-radius: 4px; margin: .25rem 0; padding: .2rem .6rem; }
details.case[hidden] { display: none; }
summary { cursor: pointer; }
.outcome { display: inline-block; min-width: 3.6rem; font-weight: 700; }
code.id { font-weight: 600; }
dl { display: grid; grid-template-columns: 9rem 1fr; gap: .2rem .8rem; }
dt { color: #555; }
dd { margin: 0; min-width: 0; }
pre { margin: 0; white-space: pre-wrap; word-break: break-all; background: #f6f6f6; padding: .3rem; max-height: 24rem; overflow: auto; }
.o-fail { color: #b00020; } .o-error { color: #8e24aa; } .o-warn { color: #a15c00; }
.o-info { color: #00796b; } .o-skip { color: #666; } .o-pass { color: #2e7d32; }
.o-unjudged { color: #1a4fa0; }
td.o-fail, td.o-error, td.o-unjudged { font-weight: 700; }
.insecure { color: #fff; background: #b00020; padding: 0 .4rem; border-radius: 3px; font-weight: 700; }
</style>
</head>
<body>
<script>
window.addEventListener("error", function (e) {
  var n = Number(document.documentElement.getAttribute("data-errors") || 0) + 1;
  document.documentElement.setAttribute("data-errors", String(n));
  document.documentElement.setAttribute("data-last-error", String(e.message));
});
</script>
"#;

const SCRIPT: &str = r##"<script>
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=outcome]"));
  var category = document.getElementById("category");
  var cases = Array.prototype.slice.call(document.querySelectorAll("details.case"));
  var shown = document.getElementById("shown");

  function fromHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    var outcomes = params.get("outcome");
    if (outcomes !== null) {
      var wanted = outcomes.split(",");
      boxes.forEach(function (b) { b.checked = wanted.indexOf(b.value) >= 0; });
    }
    var c = params.get("category");
    if (c !== null && category.querySelector("option[value='" + c + "']")) {
      category.value = c;
    }
  }

  function apply() {
    var outcomes = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    var c = category.value;
    var visible = 0;
    cases.forEach(function (el) {
      var show = outcomes.indexOf(el.dataset.outcome) >= 0 && (c === "all" || el.dataset.category === c);
      el.hidden = !show;
      if (show) { visible += 1; }
    });
    shown.textContent = visible + " of " + cases.length + " cases shown";
  }

  function toHash() {
    var outcomes = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    var hash = "outcome=" + outcomes.join(",");
    if (category.value !== "all") { hash += "&category=" + category.value; }
    history.replaceState(null, "", "#" + hash);
  }

  form.addEventListener("change", function () { toHash(); apply(); });
  window.addEventListener("hashchange", function () { fromHash(); apply(); });
  fromHash();
  apply();
  document.body.setAttribute("data-ready", "1");
})();
</script>
"##;
