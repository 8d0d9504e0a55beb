//! Expectations: the verdicts a team has accepted for its verifier, as
//! data, and a run judged against them.
//!
//! An expectations file (YAML, `docs/schemas/expectations.schema.json`)
//! lists entries, each naming cases by id or glob with the outcome accepted
//! for them and why:
//!
//! ```yaml
//! verifier: our payments webhook receiver   # optional: what the file is about
//! expectations:
//!   - cases: [stripe/tamper/body-invalid-utf8]
//!     outcome: fail
//!     reason: the framework decodes the body before we see it; tracked upstream
//! ```
//!
//! A case is named by the entry whose pattern is its exact id, else by the
//! first entry (in file order) with a glob that matches it. A run then
//! deviates from the file in three ways, each a [`Deviation`]:
//!
//! - a case no entry names reached the threshold (`--fail-on`): unexpected;
//! - a case an entry names has another outcome than the entry's (an
//!   expected `fail` that now passes, or errs): changed;
//! - an entry's pattern matches no case that ran: stale (judged only when
//!   the whole catalog ran: with a narrowed selection such an entry is
//!   outside it, and reported as such).
//!
//! [`Expectations::annotate`] marks each case with how it compares
//! ([`Judged`], which every report shows); [`Expectations::judgement`]
//! collects the deviations of a whole run. [`starting_file`] writes a run's
//! cases that reached the threshold as a file to start from.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::verdict::{CaseResult, Outcome, Run};
pub use crate::verdict::{Judged, Named};

/// The reason [`starting_file`] writes for every entry: a file that still
/// holds it is refused until someone says why the outcome is accepted.
pub const PLACEHOLDER_REASON: &str = "TODO: why this is accepted";

/// Why an expectations file cannot be used; each names the file and, for
/// an entry, its line.
#[derive(Debug, thiserror::Error)]
pub enum ExpectError {
    /// The file cannot be read.
    #[error("{origin}: {error}")]
    Unreadable {
        /// The file.
        origin: String,
        /// Why.
        error: std::io::Error,
    },
    /// It is not YAML of the expected shape (a field missing, unknown or of
    /// the wrong type; an outcome that does not exist).
    #[error("{origin}: not an expectations file: {reason}")]
    Format {
        /// The file.
        origin: String,
        /// The parser's one-line reason, with where.
        reason: String,
    },
    /// An entry's `cases` is empty.
    #[error("{origin} line {line}: the entry names no case (`cases` is empty)")]
    NoCases {
        /// The file.
        origin: String,
        /// The entry's line.
        line: u64,
    },
    /// An entry's reason is empty.
    #[error("{origin} line {line}: `{case}` has no reason: say why this outcome is accepted")]
    NoReason {
        /// The file.
        origin: String,
        /// The entry's line.
        line: u64,
        /// The entry's first case.
        case: String,
    },
    /// An entry's reason is still the placeholder [`starting_file`] wrote.
    #[error(
        "{origin} line {line}: the reason of `{case}` is still the placeholder --write-expect wrote: say why this outcome is accepted"
    )]
    Placeholder {
        /// The file.
        origin: String,
        /// The entry's line.
        line: u64,
        /// The entry's first case.
        case: String,
    },
    /// A pattern is not a glob.
    #[error("{origin} line {line}: `{case}` is not a glob: {reason}")]
    NotAGlob {
        /// The file.
        origin: String,
        /// The entry's line.
        line: u64,
        /// The pattern.
        case: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A pattern appears twice: which entry names a case would depend on
    /// the order.
    #[error("{origin} line {line}: `{case}` is named again (first on line {first})")]
    Repeated {
        /// The file.
        origin: String,
        /// The second entry's line.
        line: u64,
        /// The pattern.
        case: String,
        /// The first entry's line.
        first: u64,
    },
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileText {
    #[serde(default)]
    verifier: Option<String>,
    expectations: Vec<serde_saphyr::Spanned<EntryText>>,
}

/// One entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryText {
    cases: Vec<String>,
    outcome: Outcome,
    reason: String,
}

/// A case id, or a glob over case ids (the syntax of `--only`).
#[derive(Debug, Clone)]
struct CasePattern {
    text: String,
    /// `None` for an exact id (no `*`, `?` or `[`).
    glob: Option<glob::Pattern>,
}

impl CasePattern {
    fn matches(&self, id: &str) -> bool {
        match &self.glob {
            None => self.text == id,
            Some(glob) => glob.matches(id),
        }
    }
}

/// An entry: the cases it names, the outcome accepted for them, and why.
#[derive(Debug, Clone)]
struct Entry {
    patterns: Vec<CasePattern>,
    outcome: Outcome,
    reason: String,
    line: u64,
}

/// An expectations file, read and checked.
#[derive(Debug, Clone)]
pub struct Expectations {
    origin: String,
    verifier: Option<String>,
    entries: Vec<Entry>,
}

/// A way a run deviates from its expectations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Deviation {
    /// A case no entry names reached the threshold.
    Unexpected {
        /// The target it ran against.
        target: String,
        /// Its id.
        case: String,
        /// Its outcome.
        outcome: Outcome,
    },
    /// A case has another outcome than its entry's.
    Changed {
        /// The target it ran against.
        target: String,
        /// Its id.
        case: String,
        /// Its outcome.
        outcome: Outcome,
        /// The entry that names it.
        expected: Named,
    },
    /// An entry's pattern matches no case that ran.
    Stale {
        /// The entry.
        expected: Named,
    },
}

impl std::fmt::Display for Deviation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Deviation::Unexpected {
                target,
                case,
                outcome,
            } => write!(
                f,
                "{case}: {} at {target}, and no entry names it",
                outcome.name()
            ),
            Deviation::Changed {
                target,
                case,
                outcome,
                expected,
            } => write!(
                f,
                "{case}: {} at {target}, where {} (line {}) expects {} ({})",
                outcome.name(),
                expected.entry,
                expected.line,
                expected.outcome.name(),
                expected.reason
            ),
            Deviation::Stale { expected } => write!(
                f,
                "{} (line {}): matches no case (stale: remove it, or correct the id)",
                expected.entry, expected.line
            ),
        }
    }
}

/// A whole run against its expectations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    /// The expectations file.
    pub file: String,
    /// What the file says it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier: Option<String>,
    /// Cases whose outcome is the one expected.
    pub expected: usize,
    /// Every deviation: the run fails when there is one.
    pub deviations: Vec<Deviation>,
    /// Entries that match no case that ran, in a run whose selection was
    /// narrowed (`--only`, `--skip`, `--rerun-failed`): not judged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outside_selection: Vec<Named>,
}

impl Judgement {
    /// Whether the run is as expected.
    pub fn is_clean(&self) -> bool {
        self.deviations.is_empty()
    }
}

impl Expectations {
    /// Reads the expectations file at `path`.
    pub fn load(path: &Path) -> Result<Expectations, ExpectError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ExpectError::Unreadable {
            origin: origin.clone(),
            error,
        })?;
        Expectations::from_yaml(&origin, &text)
    }

    /// Reads expectations from YAML; `origin` names it in errors.
    pub fn from_yaml(origin: &str, text: &str) -> Result<Expectations, ExpectError> {
        // The message alone, with its line and column: no snippet below it.
        let options = serde_saphyr::options! { with_snippet: false };
        let file: FileText = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
            ExpectError::Format {
                origin: origin.to_owned(),
                reason: one_line(&e.to_string()),
            }
        })?;
        let mut entries = Vec::with_capacity(file.expectations.len());
        let mut seen: Vec<(String, u64)> = Vec::new();
        for spanned in file.expectations {
            let line = spanned.referenced.line();
            let entry = spanned.value;
            let at = |case: &str| (origin.to_owned(), line, case.to_owned());
            let Some(first) = entry.cases.first() else {
                return Err(ExpectError::NoCases {
                    origin: origin.to_owned(),
                    line,
                });
            };
            let reason = entry.reason.trim();
            if reason.is_empty() {
                let (origin, line, case) = at(first);
                return Err(ExpectError::NoReason { origin, line, case });
            }
            if reason == PLACEHOLDER_REASON {
                let (origin, line, case) = at(first);
                return Err(ExpectError::Placeholder { origin, line, case });
            }
            let mut patterns = Vec::with_capacity(entry.cases.len());
            for case in entry.cases {
                if let Some((_, first)) = seen.iter().find(|(seen, _)| *seen == case) {
                    return Err(ExpectError::Repeated {
                        origin: origin.to_owned(),
                        line,
                        case,
                        first: *first,
                    });
                }
                seen.push((case.clone(), line));
                patterns.push(pattern(origin, line, case)?);
            }
            entries.push(Entry {
                patterns,
                outcome: entry.outcome,
                reason: reason.to_owned(),
                line,
            });
        }
        Ok(Expectations {
            origin: origin.to_owned(),
            verifier: file.verifier,
            entries,
        })
    }

    /// The file's name, as errors and reports show it.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// What the file says it is about.
    pub fn verifier(&self) -> Option<&str> {
        self.verifier.as_deref()
    }

    /// Every entry in file order, one per pattern: what the entry says of
    /// it.
    pub fn entries(&self) -> impl Iterator<Item = Named> + '_ {
        self.entries
            .iter()
            .flat_map(|e| e.patterns.iter().map(move |p| named(e, p)))
    }

    /// The entry that names case `id`: the one whose pattern is the id,
    /// else the first whose glob matches it.
    pub fn entry_for(&self, id: &str) -> Option<Named> {
        let with = |exact: bool| {
            self.entries.iter().find_map(|e| {
                e.patterns
                    .iter()
                    .find(|p| p.glob.is_none() == exact && p.matches(id))
                    .map(|p| named(e, p))
            })
        };
        with(true).or_else(|| with(false))
    }

    /// Marks each of `results` with how it compares with the expectations:
    /// named by an entry (as expected or changed), or reaching the
    /// threshold (`reaches`, the CLI's `--fail-on`) unnamed. Other cases
    /// are left unmarked.
    pub fn annotate(&self, results: &mut [CaseResult], reaches: impl Fn(&CaseResult) -> bool) {
        for r in results {
            r.expectation = match self.entry_for(&r.id) {
                Some(n) if n.outcome == r.outcome => Some(Judged::Expected(n)),
                Some(n) => Some(Judged::Changed(n)),
                None if reaches(r) => Some(Judged::Unexpected),
                None => None,
            };
        }
    }

    /// The deviations of `runs` (each marked by [`Expectations::annotate`]),
    /// and its entries that match no case: stale, or, when the selection
    /// was `narrowed`, outside it.
    pub fn judgement(&self, runs: &[(String, Run)], narrowed: bool) -> Judgement {
        let mut judgement = Judgement {
            file: self.origin.clone(),
            verifier: self.verifier.clone(),
            expected: 0,
            deviations: Vec::new(),
            outside_selection: Vec::new(),
        };
        for (target, run) in runs {
            for r in &run.results {
                let deviation = match &r.expectation {
                    None => continue,
                    Some(Judged::Expected(_)) => {
                        judgement.expected += 1;
                        continue;
                    }
                    Some(Judged::Unexpected) => Deviation::Unexpected {
                        target: target.clone(),
                        case: r.id.clone(),
                        outcome: r.outcome,
                    },
                    Some(Judged::Changed(n)) => Deviation::Changed {
                        target: target.clone(),
                        case: r.id.clone(),
                        outcome: r.outcome,
                        expected: n.clone(),
                    },
                };
                judgement.deviations.push(deviation);
            }
        }
        let ran = || runs.iter().flat_map(|(_, run)| &run.results);
        for entry in &self.entries {
            for p in &entry.patterns {
                if ran().any(|r| p.matches(&r.id)) {
                    continue;
                }
                if narrowed {
                    judgement.outside_selection.push(named(entry, p));
                } else {
                    judgement.deviations.push(Deviation::Stale {
                        expected: named(entry, p),
                    });
                }
            }
        }
        judgement
    }

    /// [`Expectations::annotate`] every run, then their
    /// [`Expectations::judgement`].
    pub fn judge(
        &self,
        runs: &mut [(String, Run)],
        reaches: impl Fn(&CaseResult) -> bool,
        narrowed: bool,
    ) -> Judgement {
        for (_, run) in runs.iter_mut() {
            self.annotate(&mut run.results, &reaches);
        }
        self.judgement(runs, narrowed)
    }
}

fn named(entry: &Entry, pattern: &CasePattern) -> Named {
    Named {
        entry: pattern.text.clone(),
        outcome: entry.outcome,
        reason: entry.reason.clone(),
        line: entry.line,
    }
}

fn pattern(origin: &str, line: u64, case: String) -> Result<CasePattern, ExpectError> {
    if !case.contains(['*', '?', '[']) {
        return Ok(CasePattern {
            text: case,
            glob: None,
        });
    }
    match glob::Pattern::new(&case) {
        Ok(glob) => Ok(CasePattern {
            text: case,
            glob: Some(glob),
        }),
        Err(e) => Err(ExpectError::NotAGlob {
            origin: origin.to_owned(),
            line,
            case,
            reason: e.to_string(),
        }),
    }
}

/// A parser's message on one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The file [`starting_file`] writes.
#[derive(Serialize)]
struct WrittenFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    verifier: Option<String>,
    expectations: Vec<WrittenEntry>,
}

#[derive(Serialize)]
struct WrittenEntry {
    cases: serde_saphyr::FlowSeq<Vec<String>>,
    outcome: Outcome,
    reason: String,
}

/// What heads a written file.
const WRITTEN_HEADER: &str = "\
# Expectations for `sigconform conform --expect` (docs/ci.md): each entry names
# cases (ids or globs) with the outcome accepted for them, and why. Written by
# --write-expect from one run: replace every placeholder reason with the real
# one (a file that still holds one is refused), and merge entries that share one.
";

/// An expectations file to start from: one entry per case of `runs` whose
/// outcome reached the threshold (`reaches`), or that `previous` names and
/// that does not pass, with `previous`'s reason where it has one and
/// [`PLACEHOLDER_REASON`] elsewhere. `runs` are marked by
/// [`Expectations::annotate`] when there are `previous` expectations.
pub fn starting_file(
    runs: &[(String, Run)],
    reaches: impl Fn(&CaseResult) -> bool,
    previous: Option<&Expectations>,
) -> String {
    let mut entries: Vec<WrittenEntry> = Vec::new();
    for r in runs.iter().flat_map(|(_, run)| &run.results) {
        let reason = match &r.expectation {
            Some(Judged::Expected(n) | Judged::Changed(n)) if r.outcome != Outcome::Pass => {
                n.reason.clone()
            }
            _ if reaches(r) => PLACEHOLDER_REASON.to_owned(),
            _ => continue,
        };
        let id = glob::Pattern::escape(&r.id);
        // A case of several instances of one deployment is written once.
        if entries.iter().any(|e| e.cases.0.contains(&id)) {
            continue;
        }
        entries.push(WrittenEntry {
            cases: serde_saphyr::FlowSeq(vec![id]),
            outcome: r.outcome,
            reason,
        });
    }
    entries.sort_by(|a, b| a.cases.0.cmp(&b.cases.0));
    let file = WrittenFile {
        verifier: previous.and_then(|p| p.verifier.clone()),
        expectations: entries,
    };
    let body = serde_saphyr::to_string(&file).unwrap_or_else(|e| {
        // Strings and outcome names only: serialising cannot fail.
        unreachable!("expectations serialise: {e}")
    });
    format!("{WRITTEN_HEADER}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::ClockEstimate;
    use crate::verdict::Category;

    fn case(id: &str, outcome: Outcome) -> CaseResult {
        CaseResult::new(
            id.to_owned(),
            Category::Tamper,
            "a case",
            outcome,
            "4xx",
            "",
        )
    }

    fn runs(results: Vec<CaseResult>) -> Vec<(String, Run)> {
        vec![(
            "http://target".to_owned(),
            Run {
                clock: ClockEstimate {
                    offset_ms: 0,
                    uncertainty_ms: None,
                },
                insecure: false,
                learned: Vec::new(),
                notes: Vec::new(),
                results,
            },
        )]
    }

    fn fails(r: &CaseResult) -> bool {
        r.outcome == Outcome::Fail
    }

    const FILE: &str = "\
verifier: a test verifier
expectations:
  - cases: [s/tamper/body]
    outcome: fail
    reason: the body is decoded first
  - cases: ['s/malformed/*']
    outcome: error
    reason: a proxy in front answers 502
";

    fn expectations() -> Expectations {
        Expectations::from_yaml("e.yaml", FILE).unwrap()
    }

    fn judged(results: Vec<CaseResult>, narrowed: bool) -> (Vec<(String, Run)>, Judgement) {
        let mut runs = runs(results);
        let judgement = expectations().judge(&mut runs, fails, narrowed);
        (runs, judgement)
    }

    #[test]
    fn a_run_as_expected_has_no_deviation() {
        let (runs, j) = judged(
            vec![
                case("s/tamper/body", Outcome::Fail),
                case("s/malformed/a", Outcome::Error),
                case("s/malformed/b", Outcome::Error),
                case("s/tamper/query", Outcome::Warn),
                case("s/acceptance/get", Outcome::Pass),
            ],
            false,
        );
        assert!(j.is_clean(), "{:?}", j.deviations);
        assert_eq!(j.expected, 3);
        assert_eq!(j.verifier.as_deref(), Some("a test verifier"));
        let marks: Vec<bool> = runs[0]
            .1
            .results
            .iter()
            .map(|r| r.expectation.is_some())
            .collect();
        assert_eq!(marks, [true, true, true, false, false]);
        let Some(Judged::Expected(n)) = &runs[0].1.results[1].expectation else {
            panic!("not expected")
        };
        assert_eq!((n.entry.as_str(), n.line), ("s/malformed/*", 6));
        assert_eq!(n.reason, "a proxy in front answers 502");
    }

    #[test]
    fn a_new_fail_is_unexpected() {
        let (_, j) = judged(
            vec![
                case("s/tamper/body", Outcome::Fail),
                case("s/malformed/a", Outcome::Error),
                case("s/tamper/path", Outcome::Fail),
            ],
            false,
        );
        assert_eq!(
            j.deviations,
            [Deviation::Unexpected {
                target: "http://target".into(),
                case: "s/tamper/path".into(),
                outcome: Outcome::Fail,
            }]
        );
    }

    #[test]
    fn below_the_threshold_an_unnamed_case_is_no_deviation() {
        let mut runs = runs(vec![
            case("s/tamper/body", Outcome::Fail),
            case("s/malformed/a", Outcome::Error),
            case("s/other/a", Outcome::Error),
        ]);
        let j = expectations().judge(&mut runs, fails, false);
        assert!(j.is_clean(), "{:?}", j.deviations);
        let j = expectations().judge(
            &mut runs,
            |r| matches!(r.outcome, Outcome::Fail | Outcome::Error),
            false,
        );
        assert_eq!(j.deviations.len(), 1, "{:?}", j.deviations);
    }

    #[test]
    fn an_expected_fail_that_now_passes_or_errs_has_changed() {
        for now in [Outcome::Pass, Outcome::Error] {
            let (runs, j) = judged(
                vec![
                    case("s/tamper/body", now),
                    case("s/malformed/a", Outcome::Error),
                ],
                false,
            );
            let [
                Deviation::Changed {
                    case,
                    outcome,
                    expected,
                    ..
                },
            ] = j.deviations.as_slice()
            else {
                panic!("{:?}", j.deviations)
            };
            assert_eq!((case.as_str(), *outcome), ("s/tamper/body", now));
            assert_eq!((expected.outcome, expected.line), (Outcome::Fail, 3));
            assert!(
                runs[0].1.results[0]
                    .expectation
                    .as_ref()
                    .unwrap()
                    .deviates()
            );
        }
    }

    #[test]
    fn an_entry_that_matches_no_case_is_stale_unless_the_selection_was_narrowed() {
        let results = vec![case("s/tamper/body", Outcome::Fail)];
        let (_, j) = judged(results.clone(), false);
        let [Deviation::Stale { expected }] = j.deviations.as_slice() else {
            panic!("{:?}", j.deviations)
        };
        assert_eq!(expected.entry, "s/malformed/*");
        let (_, j) = judged(results, true);
        assert!(j.is_clean(), "{:?}", j.deviations);
        assert_eq!(j.outside_selection.len(), 1);
    }

    #[test]
    fn an_exact_id_is_named_before_a_glob_and_globs_in_file_order() {
        let e = Expectations::from_yaml(
            "e.yaml",
            "expectations:
  - {cases: ['s/*'], outcome: warn, reason: first glob}
  - {cases: ['s/tamper/*'], outcome: error, reason: second glob}
  - {cases: [s/tamper/body], outcome: fail, reason: exact}
",
        )
        .unwrap();
        assert_eq!(e.entry_for("s/tamper/body").unwrap().reason, "exact");
        assert_eq!(e.entry_for("s/tamper/path").unwrap().reason, "first glob");
        assert!(e.entry_for("t/tamper/path").is_none());
    }

    #[test]
    fn bad_files_are_refused_with_file_line_and_reason() {
        let refused = |text: &str| Expectations::from_yaml("e.yaml", text).unwrap_err();
        let err = refused("expectations:\n  - {cases: [a], outcome: fail}\n");
        assert!(matches!(err, ExpectError::Format { .. }), "{err}");
        assert!(err.to_string().contains("reason"), "{err}");
        let err = refused("expectations:\n  - {cases: [a], outcome: fial, reason: r}\n");
        assert!(err.to_string().contains("fial"), "{err}");
        let err = refused("expectations:\n  - {cases: [a], outcome: fail, reason: r, x: 1}\n");
        assert!(matches!(err, ExpectError::Format { .. }), "{err}");
        let err = refused("expectations:\n  - {cases: [], outcome: fail, reason: r}\n");
        assert!(matches!(err, ExpectError::NoCases { line: 2, .. }), "{err}");
        let err = refused("expectations:\n  - {cases: [a], outcome: fail, reason: ' '}\n");
        assert!(matches!(err, ExpectError::NoReason { .. }), "{err}");
        let err = refused(&format!(
            "expectations:\n  - {{cases: [a], outcome: fail, reason: '{PLACEHOLDER_REASON}'}}\n"
        ));
        assert!(matches!(err, ExpectError::Placeholder { .. }), "{err}");
        let err = refused("expectations:\n  - {cases: ['a/[b'], outcome: fail, reason: r}\n");
        assert!(matches!(err, ExpectError::NotAGlob { .. }), "{err}");
        let err = refused(
            "expectations:\n  - {cases: [a], outcome: fail, reason: r}\n  - {cases: [b, a], outcome: warn, reason: r}\n",
        );
        assert!(
            matches!(
                err,
                ExpectError::Repeated {
                    line: 3,
                    first: 2,
                    ..
                }
            ),
            "{err}"
        );
        for err in [refused("expectations: ["), refused("- a\n")] {
            assert_eq!(err.to_string().lines().count(), 1, "{err}");
        }
    }

    #[test]
    fn a_starting_file_holds_what_reached_the_threshold_and_reads_back() {
        let results = vec![
            case("s/tamper/path", Outcome::Fail),
            case("s/tamper/body", Outcome::Fail),
            case("s/tamper/query", Outcome::Warn),
            case("s/acceptance/get", Outcome::Pass),
        ];
        let written = starting_file(&runs(results.clone()), fails, None);
        let err = Expectations::from_yaml("w.yaml", &written).unwrap_err();
        assert!(matches!(err, ExpectError::Placeholder { .. }), "{err}");
        let edited = written.replace(PLACEHOLDER_REASON, "accepted for now");
        let read = Expectations::from_yaml("w.yaml", &edited).unwrap();
        let ids: Vec<String> = read.entries().map(|n| n.entry).collect();
        assert_eq!(ids, ["s/tamper/body", "s/tamper/path"]);
        let mut again = runs(results);
        assert!(read.judge(&mut again, fails, false).is_clean());

        // Written again with these expectations: their reasons are kept,
        // and so is an entry below the threshold that still holds.
        let mut runs = runs(vec![
            case("s/tamper/body", Outcome::Fail),
            case("s/malformed/a", Outcome::Error),
            case("s/tamper/new", Outcome::Fail),
        ]);
        let e = expectations();
        e.judge(&mut runs, fails, false);
        let rewritten = starting_file(&runs, fails, Some(&e));
        assert!(
            rewritten.contains("the body is decoded first"),
            "{rewritten}"
        );
        assert!(
            rewritten.contains("a proxy in front answers 502"),
            "{rewritten}"
        );
        assert_eq!(
            rewritten.matches(PLACEHOLDER_REASON).count(),
            1,
            "{rewritten}"
        );
        assert!(
            rewritten.contains("verifier: a test verifier"),
            "{rewritten}"
        );
    }

    #[test]
    fn every_outcome_is_named_as_serde_names_it() {
        for outcome in [Outcome::Pass, Outcome::Fail, Outcome::Skip] {
            let text = format!(
                "expectations:\n  - {{cases: [a], outcome: {}, reason: r}}\n",
                outcome.name()
            );
            let e = Expectations::from_yaml("e.yaml", &text).unwrap();
            assert_eq!(e.entry_for("a").unwrap().outcome, outcome);
        }
    }
}
